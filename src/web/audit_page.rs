//! The console's **Nhật ký thao tác** page (admin only): the record of operator actions,
//! newest first, filtered by day, action and actor, with the chain's verification (the check
//! of `loa audit verify`, naming the first edited, deleted or inserted entry). Words in both
//! languages: [`Words`].

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::DateTime;
use maud::{html, Markup};

use crate::access::audit::{verify, Broken};
use crate::access::{Action, Role};
use crate::lang::Lang;

use super::airlog::pairs;
use super::auth::{authenticate, Caller};
use super::dates::{day_input, local_time, parse_day, show_day};
use super::login::see_other;
use super::pages::{message_in, page_in, respond};
use super::{locale, AppState};

/// The most entries shown.
const MAX_SHOWN: usize = 1_000;

/// The page's words in one language.
#[derive(Debug)]
pub struct Words {
    title: &'static str,
    intact: &'static str,
    broken: &'static str,
    since: &'static str,
    action: &'static str,
    any: &'static str,
    actor: &'static str,
    show: &'static str,
    cols: [&'static str; 8],
    cli: &'static str,
    none: &'static str,
    admin_only: &'static str,
    bad: &'static str,
}

/// Vietnamese.
const VI: Words = Words {
    title: "Nhật ký thao tác",
    intact: "Chuỗi nhật ký thao tác nguyên vẹn; số mục:",
    broken: "Nhật ký thao tác bị thay đổi tại mục",
    since: "Từ ngày",
    action: "Thao tác",
    any: "Mọi thao tác",
    actor: "Người thực hiện",
    show: "Xem",
    cols: [
        "#",
        "Thời gian",
        "Người",
        "Vai trò",
        "Thao tác",
        "Đối tượng",
        "Đài",
        "Địa chỉ",
    ],
    cli: "dòng lệnh",
    none: "Không có mục nào.",
    admin_only: "Chỉ quản trị viên được xem nhật ký thao tác.",
    bad: "Bộ lọc không hợp lệ:",
};

/// English.
const EN: Words = Words {
    title: "Audit log",
    intact: "The audit chain is intact; entries:",
    broken: "The audit log was altered at entry",
    since: "Since",
    action: "Action",
    any: "Any action",
    actor: "By",
    show: "Show",
    cols: [
        "#", "Time", "By", "Role", "Action", "Target", "Station", "Address",
    ],
    cli: "command line",
    none: "No entries.",
    admin_only: "Only an admin reads the audit log.",
    bad: "The filter is not valid:",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

fn action_label(lang: Lang, a: Action) -> String {
    match lang {
        Lang::Vi => a.label_vi().to_string(),
        Lang::En => a.as_str().replace('_', " "),
    }
}

/// `GET /audit?since=&action=&actor=`.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = locale::of(&headers, query.as_deref());
    let w = words(lang);
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) if c.session().is_some() => c,
        _ => return see_other("/login", &[]),
    };
    let Caller::User {
        user,
        session: Some(session),
    } = &caller
    else {
        return see_other("/login", &[]);
    };
    if user.grant.role != Role::Admin || user.disabled() {
        return respond(
            StatusCode::FORBIDDEN,
            message_in(lang, w.title, w.admin_only),
        );
    }
    let (mut since, mut action, mut actor) = (None, None, String::new());
    // A wrong day is said at its field, the list shown unfiltered by day.
    let (mut since_typed, mut since_error) = (String::new(), None);
    for (k, v) in pairs(query.as_deref()) {
        let v = v.trim().to_string();
        let parsed = match k.as_str() {
            "since" if !v.is_empty() => {
                match parse_day("since", &v) {
                    Ok(d) => since = Some(d),
                    Err(e) => since_error = Some(e.sentence(lang)),
                }
                since_typed = v;
                Ok(())
            }
            "action" if !v.is_empty() => Action::try_from(v.as_str())
                .map(|a| action = Some(a))
                .map_err(|e| e.to_string()),
            "actor" => {
                actor = crate::text::nfc(&v);
                Ok(())
            }
            "since" | "action" | "lang" => Ok(()),
            other => Err(format!("unknown query parameter '{other}'")),
        };
        if let Err(e) = parsed {
            return respond(
                StatusCode::BAD_REQUEST,
                message_in(lang, w.title, &format!("{} {e}", w.bad)),
            );
        }
    }
    let read = async {
        Ok::<_, crate::store::StoreError>((
            state.store.audit_entries(None).await?,
            state.store.audit_head().await?,
        ))
    }
    .await;
    let (entries, head) = match read {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the audit");
            return respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                message_in(lang, w.title, &e.to_string()),
            );
        }
    };
    let verdict: Result<(), Broken> = verify(&entries, (head.0, &head.1));
    let tz = state.timezone;
    let from = since.map(|d| crate::report::local_midnight(tz, d));
    let shown: Vec<_> = entries
        .iter()
        .rev()
        .filter(|e| from.is_none_or(|f| DateTime::parse_from_rfc3339(&e.at).is_ok_and(|t| t >= f)))
        .filter(|e| action.is_none_or(|a| e.action == a.as_str()))
        .filter(|e| actor.is_empty() || e.actor == actor)
        .take(MAX_SHOWN)
        .collect();
    let local = |t: &str| local_time(t, tz);
    let since_value = match (&since_error, since) {
        (None, Some(d)) => show_day(d),
        _ => since_typed,
    };
    let role = match lang {
        Lang::Vi => user.grant.role.label_vi().to_string(),
        Lang::En => user.grant.role.to_string(),
    };
    let body: Markup = html! {
        @match &verdict {
            Ok(()) => { p.ok role="status" { (w.intact) " " (entries.len()) } }
            Err(b) => {
                p.error role="alert" { (w.broken) " " (b.seq()) }
                @if lang == Lang::En { p.muted { (b.to_string()) } }
            }
        }
        form.card method="get" action="/audit" {
            label for="since" { (w.since) }
            (day_input("since", &since_value, since_error.as_deref()))
            label for="action" { (w.action) }
            select #action name="action" {
                option value="" { (w.any) }
                @for a in Action::ALL {
                    option value=(a.as_str()) selected[action == Some(*a)] { (action_label(lang, *a)) }
                }
            }
            label for="actor" { (w.actor) }
            input #actor type="text" name="actor" value=(actor);
            p { button type="submit" { (w.show) } }
        }
        section.card {
            @if shown.is_empty() {
                p.muted { (w.none) }
            } @else {
                div.table { table {
                    thead { tr { @for c in &w.cols { th { (c) } } } }
                    tbody { @for e in &shown {
                        tr {
                            td { (e.seq) }
                            td { (local(&e.at)) }
                            td { (e.actor) }
                            td {
                                @match e.role.as_deref().map(Role::try_from) {
                                    Some(Ok(r)) => { (match lang { Lang::Vi => r.label_vi().to_string(), Lang::En => r.to_string() }) }
                                    Some(Err(_)) => { (e.role.clone().unwrap_or_default()) }
                                    None => { (w.cli) }
                                }
                            }
                            td {
                                @match Action::try_from(e.action.as_str()) {
                                    Ok(a) => { (action_label(lang, a)) }
                                    Err(_) => { (e.action) }
                                }
                            }
                            td { (e.target) }
                            td { (e.station.clone().unwrap_or_default()) }
                            td { (e.address.clone().unwrap_or_default()) }
                        }
                    } }
                } }
            }
        }
    };
    let status = match since_error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let r = respond(
        status,
        page_in(
            lang,
            w.title,
            Some((user.name.as_str(), &role, &session.csrf)),
            body,
        ),
    );
    locale::remember(r, query.as_deref())
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables("audit_page", &format!("{VI:?}"), &format!("{EN:?}"));
    }
}
