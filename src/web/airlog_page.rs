//! The console's **Nhật ký phát sóng** page (`GET /airlog`): a filter (station, dates,
//! status) that works without JavaScript, each station's chain verdict, and the rows:
//! planned against actual, played length, status and reason, the source and who cued it,
//! and the make-up links both ways. It reads what the API reads ([`super::airlog::read`]).
//! Its words, in both languages, are in [`Words`].

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

use crate::airlog::{AirStatus, Level};
use crate::lang::{Lang, Render};

use super::airlog::{made_up_by, pairs, read, titles, visible_stations, AirlogAsk};
use super::auth::{authenticate, Caller};
use super::dates::{day_input, local_time, show_day, station_zone};
use super::login::see_other;
use super::pages::{message_in, page_in, respond};
use super::{locale, AppState};

/// The page's words in one language.
#[derive(Debug)]
pub struct Words {
    title: &'static str,
    station: &'static str,
    all_stations: &'static str,
    from: &'static str,
    to: &'static str,
    status: &'static str,
    all_statuses: &'static str,
    show: &'static str,
    chains: &'static str,
    intact: &'static str,
    broken: &'static str,
    rows_word: &'static str,
    signed: &'static str,
    none: &'static str,
    cut: &'static str,
    cols: [&'static str; 9],
    slot: &'static str,
    makeup_of: &'static str,
    made_up_in: &'static str,
    bad_query: &'static str,
    not_found: &'static str,
}

/// Vietnamese.
const VI: Words = Words {
    title: "Nhật ký phát sóng",
    station: "Đài",
    all_stations: "Tất cả các đài",
    from: "Từ ngày",
    to: "Đến ngày",
    status: "Trạng thái",
    all_statuses: "Mọi trạng thái",
    show: "Xem",
    chains: "Kiểm tra chuỗi băm của từng đài",
    intact: "nguyên vẹn",
    broken: "bị thay đổi tại dòng",
    rows_word: "dòng",
    signed: "đầu chuỗi đã ký",
    none: "Không có dòng nào trong khoảng này.",
    cut: "Chỉ hiện 5000 dòng đầu; hãy chọn khoảng ngắn hơn. Số dòng không hiện:",
    cols: [
        "#",
        "Đài",
        "Dự kiến",
        "Thực tế",
        "Đã phát",
        "Bản tin",
        "Trạng thái",
        "Nguồn",
        "Liên kết",
    ],
    slot: "Buổi phát",
    makeup_of: "phát bù cho dòng",
    made_up_in: "đã phát bù ở dòng",
    bad_query: "Bộ lọc không hợp lệ:",
    not_found: "Không có đài này trong các đài bạn được xem.",
};

/// English.
const EN: Words = Words {
    title: "Airlog",
    station: "Station",
    all_stations: "Every station",
    from: "From",
    to: "To",
    status: "Status",
    all_statuses: "Any status",
    show: "Show",
    chains: "Each station's hash chain",
    intact: "intact",
    broken: "altered at row",
    rows_word: "rows",
    signed: "signed heads",
    none: "No rows in this period.",
    cut: "Only the first 5000 rows are shown; choose a shorter period. Rows not shown:",
    cols: [
        "#", "Station", "Planned", "Actual", "Played", "Bulletin", "Status", "Source", "Links",
    ],
    slot: "Slot",
    makeup_of: "make-up of row",
    made_up_in: "made up in row",
    bad_query: "The filter is not valid:",
    not_found: "No such station among those you may see.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// `GET /airlog`.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(caller) = authenticate(&state, &method, &headers, None).await else {
        return see_other("/login", &[]);
    };
    let Caller::User {
        user,
        session: Some(session),
    } = &caller
    else {
        return see_other("/login", &[]);
    };
    let lang = locale::of(&headers, query.as_deref());
    let w = words(lang);
    let today = state
        .clock
        .now()
        .with_timezone(&state.timezone)
        .date_naive();
    let (ask, error) = match AirlogAsk::parse(query.as_deref(), today) {
        Ok(a) => (AirlogAsk { lang, ..a }, None),
        // A day field's fault is shown at the field, the form filled as it was sent.
        Err(e) if e.field().is_some() => {
            // The rest of the filter (station, status) as sent, without the days.
            let rest: Vec<&str> = query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .filter(|kv| !kv.starts_with("from=") && !kv.starts_with("to="))
                .collect();
            let shown = AirlogAsk::parse(Some(&rest.join("&")), today)
                .or_else(|_| AirlogAsk::parse(None, today));
            match shown {
                Ok(a) => (AirlogAsk { lang, ..a }, Some(e)),
                Err(e) => {
                    let sentence = e.sentence(lang);
                    return respond(
                        StatusCode::BAD_REQUEST,
                        message_in(lang, w.title, &sentence),
                    );
                }
            }
        }
        Err(e) => {
            let r = respond(
                StatusCode::BAD_REQUEST,
                message_in(
                    lang,
                    w.title,
                    &format!("{} {}", w.bad_query, e.sentence(lang)),
                ),
            );
            return locale::remember(r, query.as_deref());
        }
    };
    let typed = |k: &str| {
        pairs(query.as_deref())
            .into_iter()
            .rev()
            .find(|(p, _)| p == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let (from_value, to_value) = match &error {
        Some(_) => (
            typed("from").unwrap_or_default(),
            typed("to").unwrap_or_default(),
        ),
        None => (show_day(ask.from), show_day(ask.to)),
    };
    let err_at = |f: &str| {
        error
            .as_ref()
            .filter(|e| e.field() == Some(f))
            .map(|e| e.sentence(lang))
    };
    if let Some(e) = &error {
        tracing::debug!(error = %e, "airlog page: a day field is wrong");
        let stations = match visible_stations(&state, &caller).await {
            Ok(s) => s,
            Err(e) => return respond(e.0, message_in(lang, w.title, &e.1)),
        };
        let role = role_words(lang, user);
        let body = html! {
            (filter_form(w, lang, &stations, &ask, &from_value, &to_value, &err_at))
        };
        let r = respond(
            StatusCode::BAD_REQUEST,
            page_in(
                lang,
                w.title,
                Some((user.name.as_str(), &role, &session.csrf)),
                body,
            ),
        );
        return locale::remember(r, query.as_deref());
    }
    let got = async {
        let read = read(&state, &caller, &ask).await?;
        let titles = titles(&state).await?;
        let stations = visible_stations(&state, &caller).await?;
        Ok::<_, super::ApiError>((read, titles, stations))
    }
    .await;
    let (read, titles, stations) = match got {
        Ok(g) => g,
        Err(e) => {
            let sentence = if e.0 == StatusCode::NOT_FOUND {
                w.not_found.to_string()
            } else {
                e.1
            };
            return respond(e.0, message_in(lang, w.title, &sentence));
        }
    };
    let names: HashMap<&str, &str> = stations
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    let made_up = made_up_by(&read.rows);
    let plan = &state.plan;
    // Each row in its station's zone; the zone is named beside a station whose zone is
    // not the server's.
    let local = |t: &str, station: &str| local_time(t, station_zone(plan, station));
    let other_zone = |station: &str| {
        let z = station_zone(plan, station);
        (z != state.timezone).then(|| z.name())
    };
    let role = role_words(lang, user);
    let body: Markup = html! {
        (filter_form(w, lang, &stations, &ask, &from_value, &to_value, &err_at))
        section.card {
            h2 { (w.chains) }
            ul {
                @for c in &read.chains {
                    li {
                        (c.name) ": "
                        @if c.ok {
                            span.state.playing { (w.intact) }
                            " (" (c.rows) " " (w.rows_word) ", " (c.signed_heads) " " (w.signed) ")"
                        } @else {
                            span.alert { (w.broken) " " (c.seq.map(|s| s.to_string()).unwrap_or_default()) }
                            @if lang == Lang::En { br; span.muted { (c.problem.clone().unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { (w.title) " " span.muted { (show_day(ask.from)) " – " (show_day(ask.to)) } }
            @if read.cut > 0 { p.error { (w.cut) " " (read.cut) } }
            @if read.rows.is_empty() {
                p.muted { (w.none) }
            } @else {
                div.table { table {
                    thead { tr { @for c in &w.cols { th { (c) } } } }
                    tbody { @for r in &read.rows {
                        @let slot_row = r.level == Level::Slot.as_str();
                        tr id=(format!("row-{}", r.seq)) {
                            td { (r.seq) }
                            td {
                                (names.get(r.station.as_str()).copied().unwrap_or(r.station.as_str()))
                                @if let Some(z) = other_zone(&r.station) { br; span.muted { (z) } }
                            }
                            td { (local(&r.planned_start, &r.station)) }
                            td {
                                (r.actual_start.as_deref().map(|t| local(t, &r.station)).unwrap_or_default())
                                @if let Some(e) = &r.actual_end { br; span.muted { "→ " (local(e, &r.station)) } }
                            }
                            td { (duration(r.played_ms)) }
                            td {
                                @if slot_row {
                                    strong { (w.slot) }
                                } @else {
                                    @let id = r.bulletin_id.clone().unwrap_or_default();
                                    (titles.get(&id).cloned().unwrap_or(id))
                                }
                            }
                            td {
                                (r.status.render(lang))
                                @if !r.reason.is_empty() { br; span.muted { (r.reason.render(lang)) } }
                            }
                            td { (r.source.render(lang)) br; span.muted { (r.who) } }
                            td {
                                @if let Some(l) = r.link_seq {
                                    a href=(format!("#row-{l}")) { (w.makeup_of) " " (l) }
                                }
                                @if let Some(m) = made_up.get(&r.seq) {
                                    @if r.link_seq.is_some() { br; }
                                    a href=(format!("#row-{m}")) { (w.made_up_in) " " (m) }
                                }
                            }
                        }
                    } }
                } }
            }
        }
    };
    let r = respond(
        StatusCode::OK,
        page_in(
            lang,
            w.title,
            Some((user.name.as_str(), &role, &session.csrf)),
            body,
        ),
    );
    locale::remember(r, query.as_deref())
}

/// The filter: station, days (`dd/mm/yyyy`, each error at its field), status.
fn filter_form(
    w: &Words,
    lang: Lang,
    stations: &[(String, String)],
    ask: &AirlogAsk,
    from: &str,
    to: &str,
    err_at: &dyn Fn(&str) -> Option<String>,
) -> Markup {
    html! {
        form.card method="get" action="/airlog" {
            label for="station" { (w.station) }
            select #station name="station" {
                option value="" { (w.all_stations) }
                @for (code, name) in stations {
                    option value=(code) selected[ask.station.as_deref() == Some(code.as_str())] { (name) }
                }
            }
            label for="from" { (w.from) }
            (day_input("from", from, err_at("from").as_deref()))
            label for="to" { (w.to) }
            (day_input("to", to, err_at("to").as_deref()))
            label for="status" { (w.status) }
            select #status name="status" {
                option value="" { (w.all_statuses) }
                @for s in AirStatus::ALL {
                    option value=(s.as_str()) selected[ask.status == Some(*s)] { (s.render(lang)) }
                }
            }
            p { button type="submit" { (w.show) } }
        }
    }
}

/// The user's role in `lang`.
fn role_words(lang: Lang, user: &crate::access::User) -> String {
    match lang {
        Lang::Vi => user.grant.role.label_vi().to_string(),
        Lang::En => user.grant.role.to_string(),
    }
}

/// A played length as `m:ss`.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables(
            "airlog_page",
            &format!("{VI:?}"),
            &format!("{EN:?}"),
        );
    }
}
