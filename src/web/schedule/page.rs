//! **Lịch phát**, read-only for now: a station's kept week (its latest version) with its
//! slot instances, their items with times and lengths, a fill bar and the compliance
//! forecast with its reasons; `GET /schedule?week=&station=` and
//! `GET /api/v1/schedules/{week}?station=`, both through [`weeks`], confined where the
//! week is read (another station answers 404). Build, pin, unpin, lock and unlock stay on
//! the command line (`loa schedule …`) until the console's forms come.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::lang::{Lang, Render};
use crate::schedule::{IsoWeek, StationWeek};
use crate::store::StoreError;

use super::api::{ApiCaller, ErrorBody};
use super::auth::{authenticate, Caller};
use super::{pages, ApiError, AppState};

/// Why a week cannot be shown.
#[derive(Debug)]
pub enum WeekError {
    /// Not an ISO week.
    BadWeek(String),
    /// A station the caller does not see, or not in the plan.
    UnknownStation(String),
    /// The store failed.
    Store(StoreError),
}

impl WeekError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WeekError::BadWeek(_) => StatusCode::BAD_REQUEST,
            WeekError::UnknownStation(_) => StatusCode::NOT_FOUND,
            WeekError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl Render for WeekError {
    fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (WeekError::BadWeek(w), Lang::Vi) => {
                format!("'{w}' không phải tuần ISO (dạng YYYY-Www, ví dụ 2026-W10).")
            }
            (WeekError::BadWeek(w), Lang::En) => {
                format!("'{w}' is not an ISO week (expected YYYY-Www, e.g. 2026-W10)")
            }
            (WeekError::UnknownStation(c), Lang::Vi) => {
                format!("Không có đài '{c}' trong các đài bạn được xem.")
            }
            (WeekError::UnknownStation(c), Lang::En) => {
                format!("no station '{c}' among the stations you may see")
            }
            (WeekError::Store(e), Lang::Vi) => format!("Lỗi máy chủ: {e}"),
            (WeekError::Store(e), Lang::En) => format!("server error: {e}"),
        }
    }
}

impl From<WeekError> for ApiError {
    fn from(e: WeekError) -> ApiError {
        if let WeekError::Store(s) = &e {
            tracing::error!(error = %s, "schedule request failed");
        }
        ApiError(e.status(), e.render(Lang::En))
    }
}

/// One station's kept week.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WeekView {
    /// ISO week.
    pub week: String,
    /// Station code.
    pub station: String,
    /// The version shown (1 for the first build, one more per rebuild or edit).
    pub version: u32,
    /// Who built this version.
    pub built_by: String,
    /// When (UTC).
    pub built_at: chrono::DateTime<chrono::Utc>,
    /// Who locked the week, when it is locked.
    pub locked_by: Option<String>,
    /// The playlists, skipped and empty slots and the compliance forecast.
    #[schema(value_type = Object)]
    pub schedule: StationWeek,
}

/// The kept weeks of `week` at `station` (or every station `caller` sees): none for a
/// station whose week was never built.
pub async fn weeks(
    state: &AppState,
    caller: &Caller,
    week: &str,
    station: Option<&str>,
) -> Result<Vec<WeekView>, WeekError> {
    let week: IsoWeek = week
        .trim()
        .parse()
        .map_err(|_| WeekError::BadWeek(week.chars().take(20).collect()))?;
    if let Some(code) = station {
        if !caller.sees(code) || state.plan.station(code).is_none() {
            return Err(WeekError::UnknownStation(code.to_string()));
        }
    }
    let text = week.to_string();
    let saved = state
        .store
        .latest_weeks(&text, station)
        .await
        .map_err(WeekError::Store)?;
    let locks = state.store.locks(&text).await.map_err(WeekError::Store)?;
    Ok(saved
        .into_iter()
        .filter(|s| caller.sees(&s.station))
        .map(|s| WeekView {
            locked_by: locks
                .iter()
                .find(|l| l.station == s.station)
                .map(|l| l.locked.by.clone()),
            week: s.week,
            station: s.station,
            version: s.version,
            built_by: s.built.by,
            built_at: s.built.at,
            schedule: s.body,
        })
        .collect())
}

/// `?station=CODE`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StationQuery {
    /// Only this station (default: every station the caller sees).
    #[serde(default)]
    pub station: Option<String>,
}

/// A station's (or every visible station's) kept week.
#[utoipa::path(
    get,
    path = "/api/v1/schedules/{week}",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10"), StationQuery),
    responses(
        (status = 200, description = "The kept weeks (empty when none was built)", body = [WeekView]),
        (status = 400, description = "Not an ISO week", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
    )
)]
pub async fn api(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(week): Path<String>,
    q: Result<Query<StationQuery>, QueryRejection>,
) -> Result<Json<Vec<WeekView>>, ApiError> {
    let q = q
        .map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("bad query: {}", e.body_text()),
            )
        })?
        .0;
    let station = q.station.as_deref().filter(|s| !s.is_empty());
    Ok(Json(weeks(&state, &caller, &week, station).await?))
}

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    week: Option<String>,
    #[serde(default)]
    station: Option<String>,
}

/// The page's words (Vietnamese; the English switch swaps the table).
struct Words {
    title: &'static str,
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
};

/// m:ss.
fn length(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// One week's markup.
fn week_markup(w: &WeekView, t: &Words, tz: chrono_tz::Tz) -> Markup {
    let s = &w.schedule;
    html! {
        section.card {
            h2 { (s.name) " " span.muted { "(" (w.station) ")" } }
            p.muted {
                (t.version) " " (w.version) ", " (t.built) " " (w.built_by) " "
                (w.built_at.with_timezone(&tz).format("%d/%m/%Y %H:%M"))
            }
            @if let Some(by) = &w.locked_by { p { span.state { (t.locked) " " (by) } } }
            @for slot in &s.slots {
                @let used: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
                @let cap = u64::from(slot.cchc_s.max(1)) * 1000;
                @let pct = (used * 100 / cap).min(100);
                div.slot {
                    h3 { (slot.start.format("%d/%m/%Y %H:%M")) " · " (slot.name) }
                    div.fill title=(format!("{pct}%")) { div style=(format!("width:{pct}%")) {} }
                    p.muted { (t.filled) " " (length(used)) " / " (length(cap)) " (" (pct) "%)" }
                    ol {
                        @for i in &slot.items {
                            li {
                                ((slot.start + chrono::Duration::milliseconds(i.offset_ms as i64)).format("%H:%M:%S"))
                                " · " (i.title) " · " (i.kind.label_vi()) " · " (length(i.duration_ms))
                                @if i.pinned { " 📌" }
                            }
                        }
                    }
                }
            }
            @if !s.skipped_slots.is_empty() {
                h3 { (t.skipped) }
                ul { @for k in &s.skipped_slots {
                    li { (k.start.format("%d/%m/%Y %H:%M")) " · " (k.name) ": " (k.reason.render(Lang::Vi)) }
                } }
            }
            @if !s.empty_slots.is_empty() {
                h3 { (t.empty) }
                ul { @for k in &s.empty_slots {
                    li { (k.start.format("%d/%m/%Y %H:%M")) " · " (k.name) ": " (k.reason.vi()) }
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
                        br; span.muted { (r.reason.render(Lang::Vi)) }
                    }
                }
            }
        }
    }
}

/// `GET /schedule`: a station's week.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) if c.session().is_some() => c,
        Ok(_) | Err(_) => return super::login::see_other("/login", &[]),
    };
    let t = &VI;
    let q = q.map(|q| q.0).unwrap_or_default();
    let seen =
        super::api::stations::visible(&state.plan, &caller, |c| state.stations.contains_key(c));
    let today = state
        .clock
        .now()
        .with_timezone(&state.timezone)
        .date_naive();
    let week = q
        .week
        .clone()
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| IsoWeek::of(today).to_string());
    let station = q
        .station
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| seen.first().map(|s| s.code.clone()));
    let shown = match &station {
        Some(code) => weeks(&state, &caller, &week, Some(code)).await,
        None => Ok(Vec::new()),
    };
    if let Err(e @ WeekError::UnknownStation(_)) = &shown {
        return pages::respond(
            e.status(),
            pages::message("Không thực hiện được", &e.render(Lang::Vi)),
        );
    }
    let (status, error, list) = match shown {
        Ok(l) => (StatusCode::OK, None, l),
        Err(e) => (e.status(), Some(e.render(Lang::Vi)), Vec::new()),
    };
    let parsed: Option<IsoWeek> = week.parse().ok();
    let link = |w: IsoWeek| {
        format!(
            "/schedule?week={w}&station={}",
            station.clone().unwrap_or_default()
        )
    };
    let (name, role, csrf) = match &caller {
        Caller::User { user, session } => (
            user.name.to_string(),
            user.grant.role.label_vi(),
            session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default(),
        ),
        Caller::Shared { who } => (who.clone(), "", String::new()),
    };
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
        @if list.is_empty() && error.is_none() { p.card { (t.none) } }
        @for w in &list { (week_markup(w, t, state.timezone)) }
    };
    pages::respond(
        status,
        pages::page_in(Lang::Vi, t.title, Some((&name, role, &csrf)), body),
    )
}
