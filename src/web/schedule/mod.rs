//! **Lịch phát** (issue 13): a station's kept week (its latest version) with its slot
//! instances, their items with times and lengths, a fill bar and the compliance forecast
//! with its reasons; and the changes to it: build or rebuild, pin, unpin, lock, unlock.
//!
//! Each operation here takes the caller and plain data and returns data or a
//! [`WeekError`]; the API routes ([`api`]) serialise the result, the page's handlers
//! ([`page`]) render it. Confinement is decided here, where the week is read or changed: a
//! station the caller does not see answers 404; a commune or viewer account that sees it
//! but may not change it, 403. Every change names the version it was made on: a week saved
//! meanwhile by someone else is refused (409) saying who and when, with nothing changed
//! ([`crate::schedule::service`]). Every change is audited with who, role, station,
//! target, before and after, and address.

use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::audit::AuditDraft;
use crate::access::{Action, Decision, Role};
use crate::lang::{Lang, Render};
use crate::library::{BulletinId, StateChange};
use crate::schedule::refusal::Refusal;
use crate::schedule::service::{self, Edit, ScheduleError};
use crate::schedule::{IsoWeek, StationWeek};
use crate::store::StoreError;

use super::auth::{Caller, Client};
use super::{ApiError, AppState};

pub mod api;
pub mod forms;
pub mod page;

pub use page::page;

/// Why a week cannot be shown or changed.
#[derive(Debug)]
pub enum WeekError {
    /// Not an ISO week.
    BadWeek(String),
    /// A station the caller does not see, or not in the plan.
    UnknownStation(String),
    /// A field holds a value outside its set (a bulletin id, a version).
    BadValue {
        /// The field.
        field: &'static str,
        /// What was given (shortened).
        given: String,
    },
    /// The caller's role may not do this.
    Forbidden(Role, Action),
    /// The slot instance has started (or starts within seconds): what plays there is no
    /// longer changed.
    Started {
        /// The slot as given.
        slot: String,
    },
    /// The schedule's rules refused (a lock, an edit made meanwhile, …).
    Refused(Refusal),
    /// The store failed.
    Store(StoreError),
}

impl WeekError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WeekError::BadWeek(_) | WeekError::BadValue { .. } => StatusCode::BAD_REQUEST,
            WeekError::UnknownStation(_) => StatusCode::NOT_FOUND,
            WeekError::Forbidden(..) => StatusCode::FORBIDDEN,
            WeekError::Started { .. } => StatusCode::CONFLICT,
            WeekError::Refused(r) if r.is_missing() => StatusCode::NOT_FOUND,
            WeekError::Refused(r) if r.is_conflict() => StatusCode::CONFLICT,
            WeekError::Refused(_) => StatusCode::BAD_REQUEST,
            WeekError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ScheduleError> for WeekError {
    fn from(e: ScheduleError) -> WeekError {
        match e {
            ScheduleError::Refused(r) => WeekError::Refused(r),
            ScheduleError::Store(s) => WeekError::Store(s),
        }
    }
}

impl From<StoreError> for WeekError {
    fn from(e: StoreError) -> WeekError {
        WeekError::Store(e)
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
            (WeekError::BadValue { field, given }, Lang::Vi) => {
                let what = match *field {
                    "bulletin" => "mã bản tin",
                    "slot" => "buổi phát",
                    _ => "phiên bản",
                };
                format!("'{given}' không phải {what} hợp lệ.")
            }
            (WeekError::BadValue { field, given }, Lang::En) => {
                format!("'{given}' is not a valid {field}")
            }
            (WeekError::Forbidden(role, action), Lang::Vi) => format!(
                "Vai trò {} không được {}.",
                role.label_vi(),
                action.label_vi()
            ),
            (WeekError::Forbidden(role, action), Lang::En) => {
                format!("the {role} role may not {action}")
            }
            (WeekError::Started { slot }, Lang::Vi) => format!(
                "Buổi phát lúc {slot} đã bắt đầu (hoặc sắp bắt đầu); không thay đổi được nữa."
            ),
            (WeekError::Started { slot }, Lang::En) => {
                format!("the slot at {slot} has started (or is about to); it can no longer change")
            }
            (WeekError::Refused(r), lang) => r.render(lang),
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
    /// The version shown (1 for the first build, one more per rebuild or edit); a change
    /// sends it back.
    pub version: u32,
    /// Who built this version.
    pub built_by: String,
    /// When (UTC).
    pub built_at: chrono::DateTime<chrono::Utc>,
    /// Who locked the week, when it is locked.
    pub locked_by: Option<String>,
    /// When it was locked (UTC).
    pub locked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The playlists, skipped and empty slots and the compliance forecast.
    #[schema(value_type = Object)]
    pub schedule: StationWeek,
}

/// Parses a week as typed.
fn parse_week(week: &str) -> Result<IsoWeek, WeekError> {
    week.trim()
        .parse()
        .map_err(|_| WeekError::BadWeek(week.chars().take(20).collect()))
}

/// Refuses a station the caller does not see or the plan does not name (404).
fn seen(state: &AppState, caller: &Caller, code: &str) -> Result<(), WeekError> {
    if !caller.sees(code) || state.plan.station(code).is_none() {
        return Err(WeekError::UnknownStation(code.chars().take(40).collect()));
    }
    Ok(())
}

/// The kept weeks of `week` at `station` (or every station `caller` sees): none for a
/// station whose week was never built.
pub async fn weeks(
    state: &AppState,
    caller: &Caller,
    week: &str,
    station: Option<&str>,
) -> Result<Vec<WeekView>, WeekError> {
    let week = parse_week(week)?;
    if let Some(code) = station {
        seen(state, caller, code)?;
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
        .map(|s| {
            let lock = locks.iter().find(|l| l.station == s.station);
            WeekView {
                locked_by: lock.map(|l| l.locked.by.clone()),
                locked_at: lock.map(|l| l.locked.at),
                week: s.week,
                station: s.station,
                version: s.version,
                built_by: s.built.by,
                built_at: s.built.at,
                schedule: s.body,
            }
        })
        .collect())
}

/// A change asked of one station's week.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Change {
    /// Station code.
    pub station: String,
    /// The version the change was made on (as shown; 0 when none was kept). A week saved
    /// meanwhile by someone else is refused with 409.
    #[serde(default)]
    pub version: Option<u32>,
}

/// A bulletin to put into (or take out of) one slot instance.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SlotChange {
    /// Station code.
    pub station: String,
    /// The slot instance's start, RFC 3339 (as the week's `slots[].start`), or the station's
    /// local `YYYY-MM-DD HH:MM`.
    pub slot: String,
    /// The bulletin's id.
    pub bulletin: String,
    /// The version the change was made on (as shown).
    #[serde(default)]
    pub version: Option<u32>,
}

/// A change of a whole week (pins are [`edit`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeekAction {
    /// Build or rebuild.
    Build,
    /// Lock the week.
    Lock,
    /// Unlock it.
    Unlock,
}

impl WeekAction {
    /// The audited action.
    pub fn action(self) -> Action {
        match self {
            WeekAction::Build => Action::ScheduleBuild,
            WeekAction::Lock => Action::Lock,
            WeekAction::Unlock => Action::Unlock,
        }
    }
}

/// Refuses `action` at `station` unless the caller sees it (404) and may take it (403).
fn allow(
    state: &AppState,
    caller: &Caller,
    action: Action,
    station: &str,
) -> Result<(), WeekError> {
    seen(state, caller, station)?;
    match caller.decide(action, Some(station)) {
        Decision::Allowed => Ok(()),
        Decision::Hidden => Err(WeekError::UnknownStation(station.to_string())),
        Decision::Forbidden => Err(WeekError::Forbidden(caller.role(), action)),
    }
}

/// The version and lock of a station's week now, for the audit's before and after.
async fn facts(state: &AppState, week: &str, station: &str) -> Result<String, WeekError> {
    let version = state
        .store
        .latest_weeks(week, Some(station))
        .await?
        .pop()
        .map(|k| k.version);
    let locked = state
        .store
        .locks(week)
        .await?
        .into_iter()
        .find(|l| l.station == station)
        .map(|l| l.locked.by);
    Ok(serde_json::json!({ "version": version, "locked_by": locked }).to_string())
}

/// Builds or rebuilds, locks or unlocks `station`'s week for `caller`, audited; gives the
/// week as kept now.
pub async fn change(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    week: &str,
    what: WeekAction,
    c: &Change,
) -> Result<WeekView, WeekError> {
    let w = parse_week(week)?;
    let station = c.station.trim();
    let action = what.action();
    allow(state, caller, action, station)?;
    let text = w.to_string();
    let before = facts(state, &text, station).await?;
    let made = StateChange {
        by: caller.name(),
        at: state.clock.now(),
    };
    let store = state.store.as_ref();
    let plan = state.plan.as_ref();
    match what {
        WeekAction::Build => {
            service::rebuild(store, plan, w, station, c.version.unwrap_or(0), &made).await?;
        }
        WeekAction::Lock => service::lock(store, plan, w, station, c.version, &made).await?,
        WeekAction::Unlock => service::unlock(store, plan, w, station).await?,
    }
    let mut draft = caller.audit(state, client, action, Some(station), &text);
    draft.before = Some(before);
    draft.after = Some(facts(state, &text, station).await?);
    record(state, draft).await?;
    shown(state, caller, &text, station).await
}

/// Pins a bulletin into (or takes it out of) a slot instance of `station`'s week for
/// `caller`, audited; gives the week as kept now. A slot instance that has started (or
/// starts within [`crate::playout::wall::COMMIT`]) is not changed.
pub async fn edit(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    week: &str,
    pin: bool,
    c: &SlotChange,
) -> Result<WeekView, WeekError> {
    let w = parse_week(week)?;
    let station = c.station.trim();
    let action = if pin { Action::Pin } else { Action::Unpin };
    allow(state, caller, action, station)?;
    let bulletin: BulletinId = c.bulletin.parse().map_err(|_| WeekError::BadValue {
        field: "bulletin",
        given: c.bulletin.chars().take(40).collect(),
    })?;
    let text = w.to_string();
    let now = state.clock.now();
    if let Some(kept) = state.store.latest_weeks(&text, Some(station)).await?.pop() {
        if let Some(i) = service::find_slot(&kept.body, &c.slot) {
            let start = kept.body.slots[i].start.with_timezone(&Utc);
            if start - crate::playout::wall::COMMIT <= now {
                return Err(WeekError::Started {
                    slot: kept.body.slots[i]
                        .start
                        .format("%H:%M %d/%m/%Y")
                        .to_string(),
                });
            }
        }
    }
    let made = StateChange {
        by: caller.name(),
        at: now,
    };
    let e = Edit {
        plan: state.plan.as_ref(),
        week: w,
        station,
        slot: &c.slot,
        bulletin: &bulletin,
        force: false,
        expected: Some(c.version.unwrap_or(0)),
    };
    let before = facts(state, &text, station).await?;
    let kept = if pin {
        service::pin(state.store.as_ref(), &e, &made).await?
    } else {
        service::unpin(state.store.as_ref(), &e, &made).await?
    };
    let mut draft = caller.audit(
        state,
        client,
        action,
        Some(station),
        &format!("{text} {} {bulletin}", c.slot.trim()),
    );
    draft.before = Some(before);
    draft.after = Some(
        serde_json::json!({ "version": kept.version, "slot": c.slot.trim(), "bulletin": bulletin.as_str() })
            .to_string(),
    );
    record(state, draft).await?;
    shown(state, caller, &text, station).await
}

/// The week of `station` as kept now.
async fn shown(
    state: &AppState,
    caller: &Caller,
    week: &str,
    station: &str,
) -> Result<WeekView, WeekError> {
    weeks(state, caller, week, Some(station))
        .await?
        .pop()
        .ok_or_else(|| {
            WeekError::Refused(Refusal::NothingKept {
                week: week.to_string(),
                station: station.to_string(),
            })
        })
}

/// Records `draft` in the audit trail.
async fn record(state: &AppState, draft: AuditDraft) -> Result<(), WeekError> {
    state
        .store
        .append_audit(&draft)
        .await
        .map(|_| ())
        .map_err(WeekError::Store)
}
