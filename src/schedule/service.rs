//! Keeping schedules: builds a week from the store's library, pins and history and saves it
//! as a new version; refuses locked weeks unless forced; applies operator pins and
//! exclusions to a kept week. The only part of `schedule` that touches the store.

use chrono::{DateTime, Utc};

use crate::library::{ApprovalState, Bulletin, BulletinId, Kind, StateChange};
use crate::plan::Plan;
use crate::schedule::build::reforecast;
use crate::schedule::{build, Airing, Inputs, IsoWeek, Item, Pin, StationWeek, WeekSchedule};
use crate::store::{BulletinFilter, PinAction, SavedWeek, Store, StoreError};

/// How many earlier weeks feed the history (least gaps and the month's topics).
const HISTORY_WEEKS: u32 = 6;

/// Why a schedule operation did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The operator asked for something that cannot be (locked week, unknown station, …).
    #[error("{0}")]
    Refused(String),
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
    if let Some(code) = station {
        if plan.station(code).is_none() {
            return Err(ScheduleError::Refused(format!(
                "station '{code}' is not in the plan '{}'",
                plan.name
            )));
        }
    }
    let locks = store.locks(&week.to_string()).await?;
    let locked: Vec<&str> = locks
        .iter()
        .map(|l| l.station.as_str())
        .filter(|s| station.is_none_or(|c| c == *s))
        .collect();
    if !locked.is_empty() && !force && !dry_run {
        return Err(ScheduleError::Refused(format!(
            "week {week} is locked at {}; unlock it (`loa schedule unlock --week {week}`) or rebuild with --force",
            locked.join(", ")
        )));
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
        let versions = store
            .save_weeks(
                &week.to_string(),
                &plan.name,
                Some(v),
                &schedule.stations,
                built,
            )
            .await?;
        (versions, Some(v))
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
}

/// Loads the kept week an edit applies to, refusing locked weeks unless forced.
async fn kept_for_edit(
    store: &dyn Store,
    e: &Edit<'_>,
) -> Result<(SavedWeek, usize), ScheduleError> {
    let w = e.week.to_string();
    if !e.force
        && store
            .locks(&w)
            .await?
            .iter()
            .any(|l| l.station == e.station)
    {
        return Err(ScheduleError::Refused(format!(
            "week {w} is locked at {}; unlock it or use --force",
            e.station
        )));
    }
    let saved = store
        .latest_weeks(&w, Some(e.station))
        .await?
        .pop()
        .ok_or_else(|| {
            ScheduleError::Refused(format!(
                "no schedule kept for {} in {w}; build it first",
                e.station
            ))
        })?;
    let slot = find_slot(&saved.body, e.slot).ok_or_else(|| {
        ScheduleError::Refused(format!(
            "{} has no slot starting at '{}' in {w} (give the local time as YYYY-MM-DD HH:MM, as `loa schedule show` prints it)",
            e.station, e.slot
        ))
    })?;
    Ok((saved, slot))
}

/// Saves an edited week after recomputing its forecast.
async fn keep_edit(
    store: &dyn Store,
    e: &Edit<'_>,
    mut body: StationWeek,
    library: &[Bulletin],
    made: &StateChange,
) -> Result<StationWeek, ScheduleError> {
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
    store
        .save_weeks(
            &e.week.to_string(),
            &e.plan.name,
            Some(v),
            std::slice::from_ref(&body),
            made,
        )
        .await?;
    Ok(body)
}

/// Pins a bulletin into a slot instance of a kept week (it stays there on rebuilds).
pub async fn pin(
    store: &dyn Store,
    e: &Edit<'_>,
    made: &StateChange,
) -> Result<StationWeek, ScheduleError> {
    let (saved, si) = kept_for_edit(store, e).await?;
    let library = store.list_bulletins(&BulletinFilter::default()).await?;
    let b = library
        .iter()
        .find(|b| &b.id == e.bulletin)
        .ok_or_else(|| {
            ScheduleError::Refused(format!("no bulletin with id {} in the library", e.bulletin))
        })?;
    if b.state != ApprovalState::Approved {
        return Err(ScheduleError::Refused(format!(
            "bulletin {} is {}; only approved bulletins can be pinned",
            b.id, b.state
        )));
    }
    let mut body = saved.body;
    let slot = &mut body.slots[si];
    if slot.items.iter().any(|i| &i.bulletin_id == e.bulletin) {
        return Err(ScheduleError::Refused(format!(
            "bulletin {} is already in that slot",
            b.id
        )));
    }
    let used: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
    let free = (u64::from(slot.cchc_s) * 1000).saturating_sub(used);
    if b.audio.duration_ms > free {
        return Err(ScheduleError::Refused(format!(
            "bulletin {} lasts {} s but the slot has only {} s of CCHC time free; unpin something first",
            b.id,
            b.audio.duration_ms.div_ceil(1000),
            free / 1000
        )));
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
    store
        .set_pin(&e.week.to_string(), &pin, PinAction::Pin, made)
        .await?;
    keep_edit(store, e, body, &library, made).await
}

/// Takes a bulletin out of a slot instance of a kept week. A pinned one loses its pin; any
/// other is excluded from that slot on rebuilds.
pub async fn unpin(
    store: &dyn Store,
    e: &Edit<'_>,
    made: &StateChange,
) -> Result<StationWeek, ScheduleError> {
    let (saved, si) = kept_for_edit(store, e).await?;
    let library = store.list_bulletins(&BulletinFilter::default()).await?;
    let mut body = saved.body;
    let slot = &mut body.slots[si];
    let before = slot.items.len();
    let was_pinned = slot
        .items
        .iter()
        .any(|i| &i.bulletin_id == e.bulletin && i.pinned);
    slot.items.retain(|i| &i.bulletin_id != e.bulletin);
    if slot.items.len() == before {
        return Err(ScheduleError::Refused(format!(
            "bulletin {} is not in that slot",
            e.bulletin
        )));
    }
    relay(&mut slot.items);
    let pin = Pin {
        station: e.station.to_string(),
        slot_start: slot.start.with_timezone(&Utc),
        bulletin: *e.bulletin,
    };
    if was_pinned {
        store.delete_pin(&pin).await?;
    } else {
        store
            .set_pin(&e.week.to_string(), &pin, PinAction::Exclude, made)
            .await?;
    }
    keep_edit(store, e, body, &library, made).await
}
