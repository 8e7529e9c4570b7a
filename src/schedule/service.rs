//! Keeping schedules: builds a week from the store's library, pins and history and saves it
//! as a new version; refuses locked weeks unless forced; applies operator pins and
//! exclusions to a kept week; locks and unlocks weeks. The only part of `schedule` that
//! touches the store. The command line and the console call the same functions; the
//! console passes the version it showed, and a week saved meanwhile by someone else is
//! refused ([`Refusal::Stale`]) with nothing changed.

use chrono::{DateTime, Utc};

use crate::library::{ApprovalState, Bulletin, BulletinId, Kind, StateChange};
use crate::plan::Plan;
use crate::schedule::build::reforecast;
use crate::schedule::refusal::{Refusal, Stamp};
use crate::schedule::{build, Airing, Inputs, IsoWeek, Item, Pin, StationWeek, WeekSchedule};
use crate::store::{BulletinFilter, PinAction, PinEdit, SavedWeek, Store, StoreError};

/// How many earlier weeks feed the history (least gaps and the month's topics).
const HISTORY_WEEKS: u32 = 6;

/// Why a schedule operation did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The operator asked for something that cannot be (locked week, unknown station, …).
    #[error("{0}")]
    Refused(Refusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a build did.
#[derive(Debug)]
pub struct Built {
    /// The week, as built.
    pub schedule: WeekSchedule,
    /// The versions saved, per station (empty on a dry run).
    pub versions: Vec<u32>,
    /// The kept plan version the week was built by (`None` on a dry run).
    pub plan_version: Option<u32>,
}

/// Keeps the plan's text in the store (once per distinct text) and gives its version.
pub async fn keep_plan(
    store: &dyn Store,
    plan: &Plan,
    at: DateTime<Utc>,
) -> Result<u32, StoreError> {
    store
        .keep_plan(&plan.name, &plan.text, &plan.sha256(), at)
        .await
}

/// Airings of the kept weeks before `week` (latest version of each), for every station.
pub async fn history(store: &dyn Store, week: IsoWeek) -> Result<Vec<Airing>, StoreError> {
    let mut out = Vec::new();
    let mut w = week;
    for _ in 0..HISTORY_WEEKS {
        w = w.prev();
        for saved in store.latest_weeks(&w.to_string(), None).await? {
            let station: std::sync::Arc<str> = saved.station.as_str().into();
            for slot in &saved.body.slots {
                for item in slot.items.iter().filter(|i| i.kind != Kind::Jingle) {
                    out.push(Airing {
                        station: station.clone(),
                        bulletin: item.bulletin_id,
                        start: slot.start.with_timezone(&Utc),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Splits the week's kept pins into pins and exclusions.
async fn pins(store: &dyn Store, week: IsoWeek) -> Result<(Vec<Pin>, Vec<Pin>), StoreError> {
    let mut pins = Vec::new();
    let mut exclusions = Vec::new();
    for row in store.pins(&week.to_string()).await? {
        match row.action {
            PinAction::Pin => pins.push(row.pin),
            PinAction::Exclude => exclusions.push(row.pin),
        }
    }
    Ok((pins, exclusions))
}

/// Builds the week and, unless `dry_run`, keeps it as a new version per station.
pub async fn build_week(
    store: &dyn Store,
    plan: &Plan,
    week: IsoWeek,
    station: Option<&str>,
    force: bool,
    dry_run: bool,
    built: &StateChange,
) -> Result<Built, ScheduleError> {
    build_inner(store, plan, week, station, force, dry_run, built, None).await
}

/// Builds (or rebuilds) one station's week and keeps it, only if its latest kept version
/// is still `expected` (0: none kept); a locked week is refused. A refused or failed build
/// keeps the week as it was.
pub async fn rebuild(
    store: &dyn Store,
    plan: &Plan,
    week: IsoWeek,
    station: &str,
    expected: u32,
    built: &StateChange,
) -> Result<Built, ScheduleError> {
    build_inner(
        store,
        plan,
        week,
        Some(station),
        false,
        false,
        built,
        Some(expected),
    )
    .await
}

/// The station's zone (the plan's default for a station not in it).
fn zone(plan: &Plan, station: &str) -> chrono_tz::Tz {
    plan.station(station)
        .map(|s| s.timezone)
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
}

/// Refuses a station the plan does not name.
fn known(plan: &Plan, station: &str) -> Result<(), ScheduleError> {
    if plan.station(station).is_none() {
        return Err(ScheduleError::Refused(Refusal::UnknownStation {
            station: station.to_string(),
            plan: plan.name.clone(),
        }));
    }
    Ok(())
}

/// The refusal of a save that found another version than `expected`: who saved the one
/// kept now, and when.
async fn stale(
    store: &dyn Store,
    plan: &Plan,
    week: &str,
    station: &str,
    expected: u32,
) -> ScheduleError {
    match store.latest_weeks(week, Some(station)).await {
        Ok(mut kept) => match kept.pop() {
            Some(k) => ScheduleError::Refused(Refusal::Stale {
                week: week.to_string(),
                station: station.to_string(),
                expected,
                version: k.version,
                saved: Stamp {
                    by: k.built.by,
                    at: k.built.at,
                    tz: zone(plan, station),
                },
            }),
            None => ScheduleError::Refused(Refusal::NothingKept {
                week: week.to_string(),
                station: station.to_string(),
            }),
        },
        Err(e) => e.into(),
    }
}

/// Turns the store's [`StoreError::StaleWeek`] into the refusal that says who and when.
async fn or_stale<T>(
    store: &dyn Store,
    plan: &Plan,
    r: Result<T, StoreError>,
) -> Result<T, ScheduleError> {
    match r {
        Err(StoreError::StaleWeek {
            week,
            station,
            expected,
            ..
        }) => Err(stale(store, plan, &week, &station, expected).await),
        other => Ok(other?),
    }
}

/// Refuses when the latest kept version of the station's week is not `expected`.
async fn check_version(
    store: &dyn Store,
    plan: &Plan,
    week: &str,
    station: &str,
    expected: Option<u32>,
) -> Result<(), ScheduleError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let now = store
        .latest_weeks(week, Some(station))
        .await?
        .pop()
        .map_or(0, |k| k.version);
    if now != expected {
        return Err(stale(store, plan, week, station, expected).await);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn build_inner(
    store: &dyn Store,
    plan: &Plan,
    week: IsoWeek,
    station: Option<&str>,
    force: bool,
    dry_run: bool,
    built: &StateChange,
    expected: Option<u32>,
) -> Result<Built, ScheduleError> {
    if let Some(code) = station {
        known(plan, code)?;
    }
    let locks = store.locks(&week.to_string()).await?;
    let locked: Vec<(String, Stamp)> = locks
        .into_iter()
        .filter(|l| station.is_none_or(|c| c == l.station))
        .map(|l| {
            let tz = zone(plan, &l.station);
            (
                l.station,
                Stamp {
                    by: l.locked.by,
                    at: l.locked.at,
                    tz,
                },
            )
        })
        .collect();
    if !locked.is_empty() && !force && !dry_run {
        return Err(ScheduleError::Refused(Refusal::LockedBuild {
            week: week.to_string(),
            locks: locked,
        }));
    }
    if let Some(code) = station {
        check_version(store, plan, &week.to_string(), code, expected).await?;
    }
    let library = store.list_bulletins(&BulletinFilter::default()).await?;
    let history = history(store, week).await?;
    let (pins, exclusions) = pins(store, week).await?;
    let schedule = build(&Inputs {
        plan,
        library: &library,
        history: &history,
        week,
        station,
        pins: &pins,
        exclusions: &exclusions,
    });
    let (versions, plan_version) = if dry_run {
        (vec![], None)
    } else {
        let v = keep_plan(store, plan, built.at).await?;
        let saved = store
            .save_weeks_expecting(
                &week.to_string(),
                &plan.name,
                Some(v),
                &schedule.stations,
                built,
                expected,
            )
            .await;
        (or_stale(store, plan, saved).await?, Some(v))
    };
    Ok(Built {
        schedule,
        versions,
        plan_version,
    })
}

/// Parses an operator's slot reference against a kept week: RFC 3339, or station local
/// `YYYY-MM-DD HH:MM` or `dd/mm/yyyy HH:MM`.
pub fn find_slot(week: &StationWeek, text: &str) -> Option<usize> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return week.slots.iter().position(|s| s.start == at);
    }
    week.slots.iter().position(|s| {
        s.start.format("%Y-%m-%d %H:%M").to_string() == t
            || s.start.format("%d/%m/%Y %H:%M").to_string() == t
    })
}

/// Lays the items of a slot end to end from 0.
fn relay(items: &mut [Item]) {
    let mut at = 0;
    for i in items {
        i.offset_ms = at;
        at += i.duration_ms;
    }
}

/// An operator edit of one slot instance of a kept week.
#[derive(Debug, Clone)]
pub struct Edit<'a> {
    /// The plan the week was built from.
    pub plan: &'a Plan,
    /// The week.
    pub week: IsoWeek,
    /// The station.
    pub station: &'a str,
    /// The slot instance, as the operator wrote it.
    pub slot: &'a str,
    /// The bulletin.
    pub bulletin: &'a BulletinId,
    /// Ignore the week's lock.
    pub force: bool,
    /// The version the operator saw: the edit is refused if another is kept now (`None`:
    /// edit whatever is kept, as the command line does).
    pub expected: Option<u32>,
}

/// An edited week as kept.
#[derive(Debug, Clone)]
pub struct Kept {
    /// The week's playlists and forecast.
    pub body: StationWeek,
    /// The version it was kept as.
    pub version: u32,
}

/// Loads the kept week an edit applies to, refusing locked weeks unless forced.
async fn kept_for_edit(
    store: &dyn Store,
    e: &Edit<'_>,
) -> Result<(SavedWeek, usize), ScheduleError> {
    let w = e.week.to_string();
    if !e.force {
        if let Some(l) = store
            .locks(&w)
            .await?
            .into_iter()
            .find(|l| l.station == e.station)
        {
            return Err(ScheduleError::Refused(Refusal::LockedEdit {
                week: w,
                station: e.station.to_string(),
                locked: Stamp {
                    by: l.locked.by,
                    at: l.locked.at,
                    tz: zone(e.plan, e.station),
                },
            }));
        }
    }
    let saved = store
        .latest_weeks(&w, Some(e.station))
        .await?
        .pop()
        .ok_or_else(|| {
            ScheduleError::Refused(Refusal::NothingKept {
                week: w.clone(),
                station: e.station.to_string(),
            })
        })?;
    if e.expected.is_some_and(|v| v != saved.version) {
        return Err(stale(store, e.plan, &w, e.station, e.expected.unwrap_or(0)).await);
    }
    let slot = find_slot(&saved.body, e.slot).ok_or_else(|| {
        ScheduleError::Refused(Refusal::NoSlot {
            week: w.clone(),
            station: e.station.to_string(),
            slot: e.slot.chars().take(40).collect(),
        })
    })?;
    Ok((saved, slot))
}

/// Saves an edited week after recomputing its forecast (only over the version the edit
/// was made on), with the pin or exclusion that keeps the edit on rebuilds, in one
/// transaction.
async fn keep_edit(
    store: &dyn Store,
    e: &Edit<'_>,
    mut body: StationWeek,
    library: &[Bulletin],
    made: &StateChange,
    over: u32,
    pin: (Pin, Option<PinAction>),
) -> Result<Kept, ScheduleError> {
    let history = history(store, e.week).await?;
    let inputs = Inputs {
        plan: e.plan,
        library,
        history: &history,
        week: e.week,
        station: Some(e.station),
        pins: &[],
        exclusions: &[],
    };
    reforecast(&inputs, &mut body);
    let v = keep_plan(store, e.plan, made.at).await?;
    let saved = store
        .save_edited_week(
            &e.week.to_string(),
            &e.plan.name,
            Some(v),
            &body,
            made,
            over,
            PinEdit {
                pin: &pin.0,
                action: pin.1,
            },
        )
        .await;
    let version = or_stale(store, e.plan, saved).await?;
    Ok(Kept { body, version })
}

/// Pins a bulletin into a slot instance of a kept week (it stays there on rebuilds).
pub async fn pin(
    store: &dyn Store,
    e: &Edit<'_>,
    made: &StateChange,
) -> Result<Kept, ScheduleError> {
    let (saved, si) = kept_for_edit(store, e).await?;
    let library = store.list_bulletins(&BulletinFilter::default()).await?;
    let b = library
        .iter()
        .find(|b| &b.id == e.bulletin)
        .ok_or(ScheduleError::Refused(Refusal::NoBulletin(*e.bulletin)))?;
    if b.state != ApprovalState::Approved {
        return Err(ScheduleError::Refused(Refusal::NotApproved {
            id: b.id,
            state: b.state,
        }));
    }
    let over = saved.version;
    let mut body = saved.body;
    let slot = &mut body.slots[si];
    if slot.items.iter().any(|i| &i.bulletin_id == e.bulletin) {
        return Err(ScheduleError::Refused(Refusal::AlreadyInSlot(b.id)));
    }
    let used: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
    let free = (u64::from(slot.cchc_s) * 1000).saturating_sub(used);
    if b.audio.duration_ms > free {
        return Err(ScheduleError::Refused(Refusal::TooLong {
            id: b.id,
            secs: b.audio.duration_ms.div_ceil(1000),
            free_s: free / 1000,
        }));
    }
    let pin = Pin {
        station: e.station.to_string(),
        slot_start: slot.start.with_timezone(&Utc),
        bulletin: b.id,
    };
    // Before the outro jingle, if the slot ends with one.
    let at = if slot.items.last().is_some_and(|i| i.kind == Kind::Jingle) && slot.items.len() > 1 {
        slot.items.len() - 1
    } else {
        slot.items.len()
    };
    slot.items.insert(
        at,
        Item {
            bulletin_id: b.id,
            title: b.meta.title.clone(),
            kind: b.meta.kind,
            topic: b.meta.topic,
            offset_ms: 0,
            duration_ms: b.audio.duration_ms,
            pinned: true,
        },
    );
    relay(&mut slot.items);
    keep_edit(
        store,
        e,
        body,
        &library,
        made,
        over,
        (pin, Some(PinAction::Pin)),
    )
    .await
}

/// Takes a bulletin out of a slot instance of a kept week. A pinned one loses its pin; any
/// other is excluded from that slot on rebuilds.
pub async fn unpin(
    store: &dyn Store,
    e: &Edit<'_>,
    made: &StateChange,
) -> Result<Kept, ScheduleError> {
    let (saved, si) = kept_for_edit(store, e).await?;
    let library = store.list_bulletins(&BulletinFilter::default()).await?;
    let over = saved.version;
    let mut body = saved.body;
    let slot = &mut body.slots[si];
    let before = slot.items.len();
    let was_pinned = slot
        .items
        .iter()
        .any(|i| &i.bulletin_id == e.bulletin && i.pinned);
    slot.items.retain(|i| &i.bulletin_id != e.bulletin);
    if slot.items.len() == before {
        return Err(ScheduleError::Refused(Refusal::NotInSlot(*e.bulletin)));
    }
    relay(&mut slot.items);
    let pin = Pin {
        station: e.station.to_string(),
        slot_start: slot.start.with_timezone(&Utc),
        bulletin: *e.bulletin,
    };
    let action = (!was_pinned).then_some(PinAction::Exclude);
    keep_edit(store, e, body, &library, made, over, (pin, action)).await
}

/// Locks one station's week (rebuilds and edits are then refused until it is unlocked),
/// only if its latest kept version is still `expected` when given.
pub async fn lock(
    store: &dyn Store,
    plan: &Plan,
    week: IsoWeek,
    station: &str,
    expected: Option<u32>,
    made: &StateChange,
) -> Result<(), ScheduleError> {
    known(plan, station)?;
    let w = week.to_string();
    if let Some(l) = store
        .locks(&w)
        .await?
        .into_iter()
        .find(|l| l.station == station)
    {
        return Err(ScheduleError::Refused(Refusal::AlreadyLocked {
            week: w,
            station: station.to_string(),
            locked: Stamp {
                by: l.locked.by,
                at: l.locked.at,
                tz: zone(plan, station),
            },
        }));
    }
    if store.latest_weeks(&w, Some(station)).await?.is_empty() {
        return Err(ScheduleError::Refused(Refusal::NothingKept {
            week: w,
            station: station.to_string(),
        }));
    }
    check_version(store, plan, &w, station, expected).await?;
    store
        .lock_weeks(&w, &[station.to_string()], made)
        .await
        .map_err(Into::into)
}

/// Unlocks one station's week; refused when it is not locked.
pub async fn unlock(
    store: &dyn Store,
    plan: &Plan,
    week: IsoWeek,
    station: &str,
) -> Result<(), ScheduleError> {
    known(plan, station)?;
    let w = week.to_string();
    if !store.locks(&w).await?.iter().any(|l| l.station == station) {
        return Err(ScheduleError::Refused(Refusal::NotLocked {
            week: w,
            station: station.to_string(),
        }));
    }
    store
        .unlock_weeks(&w, &[station.to_string()])
        .await
        .map_err(Into::into)
}
