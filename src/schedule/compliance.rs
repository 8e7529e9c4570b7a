//! Compliance: for one station and one week, what each plan rule required and what a set
//! of airings gives, with the reason as a value ([`RuleReason`]) each output renders in its language. The schedule's
//! forecast passes planned airings; reports pass what really aired.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::library::{ApprovalState, Bulletin, Kind, Topic};
use crate::plan::{Plan, RuleBody, Station};
use crate::schedule::reason::{MissingTopic, RuleReason, SkippedNote};
use crate::schedule::{IsoWeek, RuleResult, SkippedSlot};

/// What the evaluation needs besides the airings.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The station.
    pub station: &'a Station,
    /// The week.
    pub week: IsoWeek,
    /// Approved bulletins meant for the station and valid some day of the week.
    pub library: &'a [&'a Bulletin],
    /// Topics already aired at the station earlier in each month the week touches.
    pub month_topics_before: &'a BTreeMap<(i32, u32), BTreeSet<Topic>>,
    /// Slot instances that did not run, with reasons.
    pub skipped: &'a [SkippedSlot],
}

/// The bulletins a station's week is judged against ([`Context::library`]): approved, not
/// jingles, meant for the station and valid some day of the week. The builder pools the
/// same ones; reports call this to build a [`Context`] for a week that aired.
pub fn week_library<'a>(
    library: impl IntoIterator<Item = &'a Bulletin>,
    station: &Station,
    week: IsoWeek,
) -> Vec<&'a Bulletin> {
    let days: Vec<NaiveDate> = week.days().collect();
    library
        .into_iter()
        .filter(|b| b.state == ApprovalState::Approved && b.meta.kind != Kind::Jingle)
        .filter(|b| b.meta.targets(&station.code) && days.iter().any(|d| b.meta.valid_on(*d)))
        .collect()
}

/// The slot instances of a station's week that do not run, and why ([`Context::skipped`]).
pub fn skipped_slots(plan: &Plan, station: &Station, week: IsoWeek) -> Vec<SkippedSlot> {
    let (from, to) = week.bounds(station.timezone);
    crate::plan::calendar::instances(plan, station, from, to)
        .into_iter()
        .filter_map(|i| {
            i.skipped.map(|reason| SkippedSlot {
                name: plan.slots[i.slot].name.clone(),
                start: i.start.with_timezone(&station.timezone).fixed_offset(),
                reason,
            })
        })
        .collect()
}

fn quarter(d: NaiveDate) -> u32 {
    (d.month() - 1) / 3 + 1
}

/// Evaluates every rule of the station against `airings` (bulletin, start) of the week.
pub fn evaluate(ctx: &Context, airings: &[(&Bulletin, DateTime<Utc>)]) -> Vec<RuleResult> {
    let station = ctx.station;
    let skipped_note = (!ctx.skipped.is_empty()).then(|| {
        let mut reasons = Vec::new();
        for s in ctx.skipped {
            if !reasons.contains(&s.reason) {
                reasons.push(s.reason.clone());
            }
        }
        SkippedNote {
            count: ctx.skipped.len() as u32,
            reasons,
        }
    });
    let mut out = Vec::new();
    for rule in ctx.plan.rules_for(&station.code) {
        let (required, planned, reason) = match &rule.body {
            RuleBody::MinDistinct { kinds, count } => {
                let distinct: BTreeSet<_> = airings
                    .iter()
                    .filter(|(b, _)| kinds.contains(&b.meta.kind))
                    .map(|(b, _)| &b.id)
                    .collect();
                let available = ctx
                    .library
                    .iter()
                    .filter(|b| kinds.contains(&b.meta.kind))
                    .count();
                let planned = distinct.len() as u32;
                let reason = if planned >= *count {
                    RuleReason::DistinctMet {
                        kinds: kinds.clone(),
                        distinct: planned,
                    }
                } else if (available as u32) < *count {
                    RuleReason::DistinctLibraryShort {
                        kinds: kinds.clone(),
                        needs: *count,
                        available: available as u32,
                        station: station.name.clone(),
                    }
                } else {
                    RuleReason::DistinctTimeShort {
                        available: available as u32,
                        distinct: planned,
                        skipped: skipped_note.clone(),
                    }
                };
                (*count, planned, reason)
            }
            RuleBody::Repeat {
                kinds,
                times,
                min_gap_s,
            } => {
                // Items first aired too late in the week for their repeats to fit carry
                // over to the next week and are not counted here.
                let (_, week_end) = ctx.week.bounds(station.timezone);
                let latest_start = week_end
                    - chrono::Duration::seconds(
                        i64::from(*min_gap_s) * i64::from(times.saturating_sub(1)),
                    );
                let mut counts: BTreeMap<_, (u32, DateTime<Utc>)> = BTreeMap::new();
                for (b, start) in airings.iter().filter(|(b, _)| kinds.contains(&b.meta.kind)) {
                    let e = counts.entry(&b.id).or_insert((0, *start));
                    e.0 += 1;
                    e.1 = e.1.min(*start);
                }
                let carried = counts
                    .values()
                    .filter(|(_, first)| *first >= latest_start)
                    .count();
                counts.retain(|_, (_, first)| *first < latest_start);
                let required = counts.len() as u32 * times;
                let planned: u32 = counts.values().map(|(c, _)| (*c).min(*times)).sum();
                let short = counts.values().filter(|(c, _)| *c < *times).count();
                let reason = if counts.is_empty() {
                    RuleReason::RepeatNone {
                        kinds: kinds.clone(),
                        skipped: skipped_note.clone(),
                    }
                } else if short == 0 {
                    RuleReason::RepeatMet {
                        items: counts.len() as u32,
                        times: *times,
                        carried: carried as u32,
                    }
                } else {
                    RuleReason::RepeatShort {
                        short: short as u32,
                        times: *times,
                        gap_s: *min_gap_s,
                        skipped: skipped_note.clone(),
                    }
                };
                (required, planned, reason)
            }
            RuleBody::Column { per_week } => {
                let planned = airings
                    .iter()
                    .filter(|(b, _)| b.meta.kind == Kind::Column)
                    .count() as u32;
                let q_dates: Vec<NaiveDate> = ctx.week.days().collect();
                let q = quarter(q_dates[3]);
                let columns = ctx
                    .library
                    .iter()
                    .filter(|b| b.meta.kind == Kind::Column)
                    .count();
                let reason = if planned >= *per_week {
                    RuleReason::ColumnMet { airings: planned }
                } else if columns == 0 {
                    RuleReason::ColumnMissing {
                        quarter: q,
                        year: q_dates[3].year(),
                        station: station.name.clone(),
                    }
                } else {
                    RuleReason::ColumnTimeShort {
                        columns: columns as u32,
                        airings: planned,
                        skipped: skipped_note.clone(),
                    }
                };
                (*per_week, planned, reason)
            }
            RuleBody::TopicCoverage { topics } => {
                // The month of the week's Thursday (the ISO convention for which month a week belongs to).
                let thursday = ctx.week.days().nth(3).expect("seven days");
                let key = (thursday.year(), thursday.month());
                let mut covered: BTreeSet<Topic> = ctx
                    .month_topics_before
                    .get(&key)
                    .cloned()
                    .unwrap_or_default();
                for (b, start) in airings {
                    let d = start.with_timezone(&station.timezone).date_naive();
                    if (d.year(), d.month()) == key {
                        covered.insert(b.meta.topic);
                    }
                }
                let missing: Vec<&Topic> = topics.iter().filter(|t| !covered.contains(t)).collect();
                let planned = (topics.len() - missing.len()) as u32;
                let reason = if missing.is_empty() {
                    RuleReason::TopicsMet {
                        topics: topics.len() as u32,
                        month: key.1,
                        year: key.0,
                    }
                } else {
                    RuleReason::TopicsMissing {
                        month: key.1,
                        year: key.0,
                        missing: missing
                            .iter()
                            .map(|t| MissingTopic {
                                topic: **t,
                                in_library: ctx
                                    .library
                                    .iter()
                                    .any(|b| b.meta.topic == **t && b.meta.kind != Kind::Jingle),
                            })
                            .collect(),
                    }
                };
                (topics.len() as u32, planned, reason)
            }
            RuleBody::SpotsBetween => {
                let spots = ctx
                    .library
                    .iter()
                    .filter(|b| b.meta.kind == Kind::Spot)
                    .count();
                let planned = airings
                    .iter()
                    .filter(|(b, _)| b.meta.kind == Kind::Spot)
                    .count() as u32;
                let mut by_slot: BTreeMap<DateTime<Utc>, u32> = BTreeMap::new();
                for (b, start) in airings {
                    if b.meta.kind != Kind::Spot {
                        *by_slot.entry(*start).or_default() += 1;
                    }
                }
                let required: u32 = by_slot.values().map(|n| n.saturating_sub(1)).sum();
                let reason = if planned >= required {
                    RuleReason::SpotsMet {
                        spots: planned,
                        pairs: required,
                    }
                } else if spots == 0 {
                    RuleReason::SpotsMissing {
                        station: station.name.clone(),
                    }
                } else {
                    RuleReason::SpotsTimeShort {
                        spots: planned,
                        needed: required,
                    }
                };
                (required, planned, reason)
            }
        };
        out.push(RuleResult {
            rule: rule.id.clone(),
            clause: rule.clause.clone(),
            required,
            planned,
            met: planned >= required,
            reason,
        });
    }
    out
}
