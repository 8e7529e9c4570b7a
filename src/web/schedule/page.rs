//! The **Lịch phát** page (`GET /schedule?week=&station=`), in Vietnamese or English
//! ([`super::super::locale`]): a station's kept week with its slot instances, items, fill
//! bars and forecast, and, for those who may change it, the forms that build or rebuild,
//! pin, unpin, lock and unlock ([`super::forms`]). Each form carries the version shown; a
//! refusal comes back at the form that was sent.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;

use crate::access::{Action, Decision};
use crate::lang::{Lang, Render};
use crate::library::{ApprovalState, Bulletin, Kind};
use crate::schedule::IsoWeek;
use crate::store::BulletinFilter;

use super::super::auth::{authenticate, Caller};
use super::super::{locale, pages, AppState};
use super::{weeks, WeekError, WeekView};

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    week: Option<String>,
    #[serde(default)]
    station: Option<String>,
    /// The change just made (`build`, `pin`, `unpin`, `lock`, `unlock`).
    #[serde(default)]
    done: Option<String>,
}

/// A refused form: which form (`build`, `lock`, or a slot's start) and the sentence.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The form the refusal belongs at.
    pub at: String,
    /// The sentence, in the page's language.
    pub sentence: String,
}

/// The page's words in one language.
pub(super) struct Words {
    pub title: &'static str,
    week: &'static str,
    station: &'static str,
    show: &'static str,
    prev: &'static str,
    next: &'static str,
    none: &'static str,
    version: &'static str,
    built: &'static str,
    locked: &'static str,
    filled: &'static str,
    compliance: &'static str,
    required: &'static str,
    planned: &'static str,
    met: &'static str,
    unmet: &'static str,
    skipped: &'static str,
    empty: &'static str,
    build: &'static str,
    rebuild: &'static str,
    lock: &'static str,
    unlock: &'static str,
    pin: &'static str,
    unpin: &'static str,
    bulletin: &'static str,
    locked_note: &'static str,
    pub refused: &'static str,
    pub bad_form: &'static str,
    done: [(&'static str, &'static str); 5],
}

const VI: Words = Words {
    title: "Lịch phát",
    week: "Tuần",
    station: "Đài",
    show: "Xem",
    prev: "← Tuần trước",
    next: "Tuần sau →",
    none: "Tuần này chưa được lập lịch cho đài này.",
    version: "Phiên bản",
    built: "lập bởi",
    locked: "Đã khóa bởi",
    filled: "Đã lấp",
    compliance: "Dự báo đáp ứng kế hoạch",
    required: "yêu cầu",
    planned: "đã xếp",
    met: "Đạt",
    unmet: "Chưa đạt",
    skipped: "Buổi không phát",
    empty: "Buổi trống",
    build: "Lập lịch tuần này",
    rebuild: "Lập lại lịch tuần này",
    lock: "Khóa lịch tuần",
    unlock: "Mở khóa lịch tuần",
    pin: "Ghim vào buổi này",
    unpin: "Bỏ khỏi buổi",
    bulletin: "Bản tin",
    locked_note: "Tuần đã khóa: mở khóa để lập lại lịch, ghim hoặc bỏ bản tin.",
    refused: "Không thực hiện được",
    bad_form: "Biểu mẫu gửi lên không hợp lệ.",
    done: [
        ("build", "Đã lập lịch tuần."),
        ("pin", "Đã ghim bản tin vào buổi phát."),
        ("unpin", "Đã bỏ bản tin khỏi buổi phát."),
        ("lock", "Đã khóa lịch tuần."),
        ("unlock", "Đã mở khóa lịch tuần."),
    ],
};

const EN: Words = Words {
    title: "Schedule",
    week: "Week",
    station: "Station",
    show: "Show",
    prev: "← Previous week",
    next: "Next week →",
    none: "No schedule has been built for this station this week.",
    version: "Version",
    built: "built by",
    locked: "Locked by",
    filled: "Filled",
    compliance: "Compliance forecast",
    required: "required",
    planned: "planned",
    met: "Met",
    unmet: "Not met",
    skipped: "Slots not played",
    empty: "Empty slots",
    build: "Build this week",
    rebuild: "Rebuild this week",
    lock: "Lock the week",
    unlock: "Unlock the week",
    pin: "Pin into this slot",
    unpin: "Take out",
    bulletin: "Bulletin",
    locked_note: "The week is locked: unlock it to rebuild, pin or take out bulletins.",
    refused: "Not done",
    bad_form: "The form sent is not valid.",
    done: [
        ("build", "The week was built."),
        ("pin", "The bulletin was pinned into the slot."),
        ("unpin", "The bulletin was taken out of the slot."),
        ("lock", "The week was locked."),
        ("unlock", "The week was unlocked."),
    ],
};

/// The words of `lang`.
pub(super) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// m:ss.
fn length(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// What the page offers the caller at the station shown.
struct Offer<'a> {
    /// The session's CSRF token.
    csrf: &'a str,
    /// Build, pin, unpin, lock and unlock are offered.
    edit: bool,
    /// The approved bulletins that may go to the station.
    bulletins: &'a [Bulletin],
    /// Slot instances starting before this are no longer changed.
    not_before: chrono::DateTime<Utc>,
    /// A refusal to show at its form.
    problem: Option<&'a Problem>,
}

/// The hidden fields every form of the week carries.
fn hidden(w: &WeekView, csrf: &str) -> Markup {
    html! {
        input type="hidden" name="csrf_token" value=(csrf);
        input type="hidden" name="week" value=(w.week);
        input type="hidden" name="station" value=(w.station);
        input type="hidden" name="version" value=(w.version);
    }
}

/// The refusal, when it belongs at form `at`.
fn problem_at(offer: &Offer<'_>, at: &str) -> Markup {
    html! {
        @if let Some(p) = offer.problem.filter(|p| p.at == at) {
            p.error role="alert" { (p.sentence) }
        }
    }
}

/// One week's markup.
fn week_markup(w: &WeekView, t: &Words, lang: Lang, tz: chrono_tz::Tz, o: &Offer<'_>) -> Markup {
    let s = &w.schedule;
    let locked = w.locked_by.is_some();
    html! {
        section.card {
            h2 { (s.name) " " span.muted { "(" (w.station) ")" } }
            p.muted {
                (t.version) " " (w.version) ", " (t.built) " " (w.built_by) " "
                (w.built_at.with_timezone(&tz).format("%d/%m/%Y %H:%M"))
            }
            @if let Some(by) = &w.locked_by {
                p { span.state { (t.locked) " " (by)
                    @if let Some(at) = w.locked_at { " · " (at.with_timezone(&tz).format("%H:%M %d/%m/%Y")) }
                } }
                @if o.edit { p.muted { (t.locked_note) } }
            }
            @if o.edit {
                div.actions {
                    @if !locked {
                        form method="post" action="/schedule/build" {
                            (hidden(w, o.csrf))
                            button type="submit" { (t.rebuild) }
                        }
                        form method="post" action="/schedule/lock" {
                            (hidden(w, o.csrf))
                            button type="submit" { (t.lock) }
                        }
                    } @else {
                        form method="post" action="/schedule/unlock" {
                            (hidden(w, o.csrf))
                            button type="submit" { (t.unlock) }
                        }
                    }
                }
                (problem_at(o, "build"))
                (problem_at(o, "lock"))
            }
            @for slot in &s.slots {
                @let used: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
                @let cap = u64::from(slot.cchc_s.max(1)) * 1000;
                @let pct = (used * 100 / cap).min(100);
                @let key = slot.start.to_rfc3339();
                @let open = o.edit && !locked && slot.start.with_timezone(&Utc) > o.not_before;
                div.slot id=(format!("slot-{}", slot.start.format("%Y%m%d%H%M"))) {
                    h3 { (slot.start.format("%d/%m/%Y %H:%M")) " · " (slot.name) }
                    div.fill title=(format!("{pct}%")) { div style=(format!("width:{pct}%")) {} }
                    p.muted { (t.filled) " " (length(used)) " / " (length(cap)) " (" (pct) "%)" }
                    ol {
                        @for i in &slot.items {
                            li.item {
                                span {
                                    ((slot.start + chrono::Duration::milliseconds(i.offset_ms as i64)).format("%H:%M:%S"))
                                    " · " (i.title) " · "
                                    (match lang { Lang::Vi => i.kind.label_vi(), Lang::En => i.kind.as_str() })
                                    " · " (length(i.duration_ms))
                                    @if i.pinned { " 📌" }
                                }
                                @if open && i.kind != Kind::Jingle {
                                    form.unpin method="post" action="/schedule/unpin" {
                                        (hidden(w, o.csrf))
                                        input type="hidden" name="slot" value=(key);
                                        input type="hidden" name="bulletin" value=(i.bulletin_id.as_str());
                                        button.small type="submit" { (t.unpin) }
                                    }
                                }
                            }
                        }
                    }
                    @if open && !o.bulletins.is_empty() {
                        form.pin method="post" action="/schedule/pin" {
                            (hidden(w, o.csrf))
                            input type="hidden" name="slot" value=(key);
                            @let id = format!("bulletin-{}", slot.start.format("%Y%m%d%H%M"));
                            label for=(id) { (t.bulletin) }
                            select id=(id) name="bulletin" {
                                @for b in o.bulletins {
                                    option value=(b.id.as_str()) { (b.meta.title) " · " (length(b.audio.duration_ms)) }
                                }
                            }
                            button type="submit" { (t.pin) }
                        }
                    }
                    (problem_at(o, &key))
                }
            }
            @if !s.skipped_slots.is_empty() {
                h3 { (t.skipped) }
                ul { @for k in &s.skipped_slots {
                    li { (k.start.format("%d/%m/%Y %H:%M")) " · " (k.name) ": " (k.reason.render(lang)) }
                } }
            }
            @if !s.empty_slots.is_empty() {
                h3 { (t.empty) }
                ul { @for k in &s.empty_slots {
                    li { (k.start.format("%d/%m/%Y %H:%M")) " · " (k.name) ": "
                        (match lang { Lang::Vi => k.reason.vi(), Lang::En => k.reason.en() }) }
                } }
            }
            h3 { (t.compliance) }
            ul {
                @for r in &s.compliance {
                    li {
                        span class=(if r.met { "state playing" } else { "state draft" }) {
                            (if r.met { t.met } else { t.unmet })
                        }
                        " " (r.clause) " · " (t.required) " " (r.required) ", " (t.planned) " " (r.planned)
                        br; span.muted { (r.reason.render(lang)) }
                    }
                }
            }
        }
    }
}

/// The approved bulletins that may air at `station` (all but jingles), by title.
async fn pinnable(state: &AppState, station: &str) -> Vec<Bulletin> {
    let filter = BulletinFilter {
        state: Some(ApprovalState::Approved),
        ..BulletinFilter::default()
    };
    let library = match state.catalogue.snapshot().await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the bulletins to pin");
            return Vec::new();
        }
    };
    library
        .filtered(&filter)
        .filter(|b| {
            b.meta.kind != Kind::Jingle
                && (b.meta.stations.is_empty() || b.meta.stations.iter().any(|s| s == station))
        })
        .cloned()
        .collect()
}

/// What to render: the week and station asked, a change just made, a refusal.
pub(super) struct Shown<'a> {
    pub week: Option<String>,
    pub station: Option<String>,
    pub done: Option<&'a str>,
    pub problem: Option<Problem>,
    pub status: StatusCode,
}

/// Renders the page for `caller`.
pub(super) async fn render(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    shown: Shown<'_>,
) -> Response {
    let t = words(lang);
    let seen = super::super::api::stations::visible(&state.plan, caller, |c| {
        state.stations.contains_key(c)
    });
    let now = state.clock.now();
    let today = now.with_timezone(&state.timezone).date_naive();
    let week = shown
        .week
        .clone()
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| IsoWeek::of(today).to_string());
    let station = shown
        .station
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| seen.first().map(|s| s.code.clone()));
    let listed = match &station {
        Some(code) => weeks(state, caller, &week, Some(code)).await,
        None => Ok(Vec::new()),
    };
    if let Err(e @ WeekError::UnknownStation(_)) = &listed {
        return pages::respond(
            e.status(),
            pages::message_in(lang, t.refused, &e.render(lang)),
        );
    }
    let (mut status, error, list) = match listed {
        Ok(l) => (shown.status, None, l),
        Err(e) => (e.status(), Some(e.render(lang)), Vec::new()),
    };
    if !shown.status.is_success() {
        status = shown.status;
    }
    let parsed: Option<IsoWeek> = week.parse().ok();
    let code = station.clone().unwrap_or_default();
    let link = |w: IsoWeek| format!("/schedule?week={w}&station={code}");
    let (name, role, csrf) = match caller {
        Caller::User { user, session } => (
            user.name.to_string(),
            match lang {
                Lang::Vi => user.grant.role.label_vi(),
                Lang::En => user.grant.role.as_str(),
            },
            session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
        ),
        Caller::Shared { who } => (who.clone(), "", String::new()),
    };
    let edit = station.is_some()
        && caller.decide(Action::ScheduleBuild, station.as_deref()) == Decision::Allowed;
    let bulletins = if edit {
        pinnable(state, &code).await
    } else {
        Vec::new()
    };
    let offer = Offer {
        csrf: &csrf,
        edit,
        bulletins: &bulletins,
        not_before: now + crate::playout::wall::COMMIT,
        problem: shown.problem.as_ref(),
    };
    // A refusal whose form is not on the page (the week is gone, the slot has passed) is
    // said at the top.
    let placed = shown.problem.as_ref().is_some_and(|p| {
        edit && (p.at == "build"
            || p.at == "lock"
            || list.iter().any(|w| {
                w.schedule
                    .slots
                    .iter()
                    .any(|s| s.start.to_rfc3339() == p.at)
            }))
    });
    let error = error.or_else(|| {
        shown
            .problem
            .as_ref()
            .filter(|_| !placed)
            .map(|p| p.sentence.clone())
    });
    let done = shown
        .done
        .and_then(|d| t.done.iter().find(|(k, _)| *k == d).map(|(_, s)| *s));
    let body = html! {
        form.card method="get" action="/schedule" {
            div.filters {
                div { label for="week" { (t.week) } input #week type="text" name="week" value=(week) pattern="[0-9]{4}-W[0-9]{2}"; }
                div { label for="station" { (t.station) }
                    select #station name="station" {
                        @for s in &seen {
                            option value=(s.code) selected[station.as_deref() == Some(s.code.as_str())] { (s.name) }
                        }
                    }
                }
            }
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            p { button type="submit" { (t.show) } }
            @if let Some(w) = parsed {
                p { a href=(link(w.prev())) { (t.prev) } " · " a href=(link(w.next())) { (t.next) } }
            }
        }
        @if let Some(d) = done { p.ok role="status" { (d) } }
        @if list.is_empty() && error.is_none() {
            section.card {
                p { (t.none) }
                @if edit && parsed.is_some() {
                    form method="post" action="/schedule/build" {
                        input type="hidden" name="csrf_token" value=(csrf);
                        input type="hidden" name="week" value=(week);
                        input type="hidden" name="station" value=(code);
                        input type="hidden" name="version" value="0";
                        button type="submit" { (t.build) }
                    }
                    (problem_at(&offer, "build"))
                    (problem_at(&offer, "lock"))
                }
            }
        }
        @for w in &list { (week_markup(w, t, lang, state.timezone, &offer)) }
    };
    pages::respond(
        status,
        pages::page_in(lang, t.title, Some((&name, role, &csrf)), body),
    )
}

/// `GET /schedule`: a station's week.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let lang = locale::of(&headers, raw.as_deref());
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) if c.session().is_some() => c,
        Ok(_) | Err(_) => return super::super::login::see_other("/login", &[]),
    };
    let q = q.map(|q| q.0).unwrap_or_default();
    let r = render(
        &state,
        &caller,
        lang,
        Shown {
            week: q.week,
            station: q.station,
            done: q.done.as_deref(),
            problem: None,
            status: StatusCode::OK,
        },
    )
    .await;
    locale::remember(r, raw.as_deref())
}
