//! The calendar of a station: which slot instances it has in a range of time, and which of
//! them do not run (station not yet or no longer existing, blackout day, a weekday or a
//! session count the local limits forbid).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::plan::{Plan, Station};
use crate::schedule::SkipReason;

/// A slot start at a station, before any filtering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawInstance {
    /// When it starts (UTC).
    pub start: DateTime<Utc>,
    /// Index into `plan.slots`.
    pub slot: usize,
}

/// A slot instance and whether it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInstance {
    /// Index into `plan.slots`.
    pub slot: usize,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// Its local date at the station.
    pub date: NaiveDate,
    /// `None` when it runs; else why not.
    pub skipped: Option<crate::schedule::SkipReason>,
}

/// Every start of every slot of `station` in `[from, to)`, in time order.
pub fn raw_instances(
    plan: &Plan,
    station: &Station,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<RawInstance> {
    let mut out: Vec<RawInstance> = plan
        .slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.stations.contains(&station.code))
        .flat_map(|(i, s)| {
            s.cron
                .between(station.timezone, from, to)
                .into_iter()
                .map(move |start| RawInstance { start, slot: i })
        })
        .collect();
    out.sort();
    out
}

/// The slot instances of `station` in `[from, to)`, each marked with whether it runs.
pub fn instances(
    plan: &Plan,
    station: &Station,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SlotInstance> {
    let mut per_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    let limits = plan.limits.bind(station.level).then_some(&plan.limits);
    raw_instances(plan, station, from, to)
        .into_iter()
        .map(|r| {
            let date = r.start.with_timezone(&station.timezone).date_naive();
            let skipped = if !station.active_on(date) {
                Some(SkipReason::StationInactive {
                    station: station.code.to_string(),
                    date,
                })
            } else if let Some(b) = plan.blackout(&station.code, date) {
                Some(SkipReason::Blackout {
                    name: b.name.clone(),
                })
            } else if limits.is_some_and(|l| !l.weekdays.contains(&date.weekday())) {
                Some(SkipReason::no_broadcast_on(date.weekday()))
            } else {
                let n = per_day.entry(date).or_default();
                *n += 1;
                match limits.and_then(|l| l.max_sessions_per_day) {
                    Some(max) if *n > max => Some(SkipReason::SessionLimit { max }),
                    _ => None,
                }
            };
            SlotInstance {
                slot: r.slot,
                start: r.start,
                date,
                skipped,
            }
        })
        .collect()
}
