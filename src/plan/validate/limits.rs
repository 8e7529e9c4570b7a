//! Local limits (sessions a day, minutes a session, weekdays), typical lengths, campaigns
//! and blackout days, and the slots that break the local limits.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};

use super::structure::{bulletin_ids, date, duration, expand, parse_list, positive};
use super::Problems;
use crate::library::{Kind, Topic};
use crate::plan::calendar::RawInstance;
use crate::plan::raw::RawPlan;
use crate::plan::timing::format_duration;
use crate::plan::{Blackout, Campaign, Limits, Nominal, Plan, Station};
use crate::text::nfc;

/// The campaigns, each checked to lie within the plan's year.
pub(super) fn campaigns(
    raw: &RawPlan,
    stations: &[Station],
    year: i32,
    p: &mut Problems,
) -> Vec<Campaign> {
    let in_year = |d: NaiveDate| d.year() == year;
    let mut campaigns = Vec::new();
    for c in &raw.campaign {
        let r = c.get_ref();
        let (from, to) = (date(&r.from, "from", p), date(&r.to, "to", p));
        let topics: Vec<Topic> = parse_list(&r.topics, p);
        let bulletins = bulletin_ids(&r.bulletins, p);
        let boost = positive(&r.boost, "boost", p);
        if r.topics.is_empty() && r.bulletins.is_empty() {
            p.at(
                c,
                format!(
                    "campaign '{}' boosts nothing: give topics or bulletins",
                    r.name.get_ref()
                ),
            );
        }
        let stations = expand(r.stations.as_ref(), stations, p);
        if let (Some(from), Some(to), Some(boost)) = (from, to, boost) {
            if to < from {
                p.at(
                    &r.to,
                    format!(
                        "campaign '{}' ends ({}) before it starts ({})",
                        r.name.get_ref(),
                        to.format("%d/%m/%Y"),
                        from.format("%d/%m/%Y")
                    ),
                );
            } else if !in_year(from) || !in_year(to) {
                p.at(
                    &r.from,
                    format!(
                        "campaign '{}' ({} – {}) lies outside the plan's year {year}",
                        r.name.get_ref(),
                        from.format("%d/%m/%Y"),
                        to.format("%d/%m/%Y")
                    ),
                );
            }
            campaigns.push(Campaign {
                name: nfc(r.name.get_ref()),
                from,
                to,
                topics,
                bulletins,
                stations,
                boost,
            });
        }
    }
    campaigns
}

/// The blackout days, each checked to touch the plan's year.
pub(super) fn blackouts(
    raw: &RawPlan,
    stations: &[Station],
    year: i32,
    p: &mut Problems,
) -> Vec<Blackout> {
    let in_year = |d: NaiveDate| d.year() == year;
    let mut blackouts = Vec::new();
    for b in &raw.blackout {
        let r = b.get_ref();
        let (from, to) = (date(&r.from, "from", p), date(&r.to, "to", p));
        let stations = expand(r.stations.as_ref(), stations, p);
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                p.at(
                    &r.to,
                    format!("blackout '{}' ends before it starts", r.name.get_ref()),
                );
            } else if !in_year(from) && !in_year(to) {
                p.at(
                    &r.from,
                    format!(
                        "blackout '{}' lies outside the plan's year {year}",
                        r.name.get_ref()
                    ),
                );
            }
            blackouts.push(Blackout {
                name: nfc(r.name.get_ref()),
                from,
                to,
                stations,
            });
        }
    }
    blackouts
}

/// The local limits; without a [limits] table, none.
pub(super) fn limits(raw: &RawPlan, p: &mut Problems) -> Limits {
    let mut limits = Limits {
        max_sessions_per_day: None,
        max_minutes_per_session: None,
        weekdays: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ],
        include_district: false,
    };
    let Some(l) = &raw.limits else { return limits };
    let l = l.get_ref();
    limits.max_sessions_per_day = l
        .max_sessions_per_day
        .as_ref()
        .and_then(|v| positive(v, "max_sessions_per_day", p));
    limits.max_minutes_per_session = l
        .max_minutes_per_session
        .as_ref()
        .and_then(|v| positive(v, "max_minutes_per_session", p));
    if let Some(days) = &l.weekdays {
        limits.weekdays = days
            .get_ref()
            .iter()
            .filter_map(|d| {
                d.get_ref()
                    .parse::<Weekday>()
                    .map_err(|_| {
                        p.at(
                            d,
                            format!("'{}' is not a weekday (mon, tue, … sun)", d.get_ref()),
                        )
                    })
                    .ok()
            })
            .collect();
    }
    if let Some(a) = &l.applies_to {
        match a.get_ref().as_str() {
            "communes" => {}
            "all" => limits.include_district = true,
            other => p.at(
                a,
                format!("applies_to '{other}' is neither \"communes\" nor \"all\""),
            ),
        }
    }
    limits
}

/// Typical lengths per kind, the plan's or the defaults.
pub(super) fn nominal(raw: &RawPlan, p: &mut Problems) -> Nominal {
    // news 2m, article 4m, column 10m, spot 20s, jingle 10s unless the plan says otherwise.
    let mut ms = [120_000, 240_000, 600_000, 20_000, 10_000];
    if let Some(n) = &raw.nominal_length {
        let n = n.get_ref();
        for (i, v) in [&n.news, &n.article, &n.column, &n.spot, &n.jingle]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = v {
                if let Some(s) = duration(v, Kind::ALL[i].as_str(), p) {
                    ms[i] = u64::from(s) * 1000;
                }
            }
        }
    }
    Nominal { ms }
}

/// Reports slots longer than the local limit of minutes a session.
pub(super) fn session_lengths(raw: &RawPlan, plan: &Plan, p: &mut Problems) {
    for (si, slot) in plan.slots.iter().enumerate() {
        let r = raw.slot[si].get_ref();
        if let Some(max) = plan.limits.max_minutes_per_session {
            let binds = slot
                .stations
                .iter()
                .any(|c| plan.station(c).is_some_and(|s| plan.limits.bind(s.level)));
            if binds && slot.length_s > max * 60 {
                p.at(
                    &r.length,
                    format!(
                        "slot '{}' lasts {}, over the local limit of {max} minutes a session",
                        slot.name,
                        format_duration(slot.length_s.into())
                    ),
                );
            }
        }
    }
}

/// Reports slots on a weekday the local limits forbid and days over the session limit at a
/// station the limits bind.
pub(super) fn days_and_sessions(
    raw: &RawPlan,
    plan: &Plan,
    station: &Station,
    all: &[RawInstance],
    p: &mut Problems,
) {
    let mut reported = BTreeSet::new();
    let mut per_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for i in all {
        let local = i.start.with_timezone(&station.timezone);
        let day = local.date_naive();
        *per_day.entry(day).or_default() += 1;
        if !plan.limits.weekdays.contains(&day.weekday()) && reported.insert((usize::MAX, i.slot)) {
            p.at(
                &raw.slot[i.slot].get_ref().cron,
                format!(
                    "slot '{}' runs on {:?} at '{}', a day the local limits do not allow",
                    plan.slots[i.slot].name,
                    day.weekday(),
                    station.code
                ),
            );
        }
    }
    if let Some(max) = plan.limits.max_sessions_per_day {
        if let Some((day, n)) = per_day.iter().find(|(_, n)| **n > max) {
            let at = raw
                .station
                .iter()
                .find(|s| s.get_ref().code.get_ref() == &station.code);
            if let Some(at) = at {
                p.at(
                    at,
                    format!(
                        "station '{}' has {n} sessions on {}, over the local limit of {max} a day",
                        station.code,
                        day.format("%d/%m/%Y")
                    ),
                );
            }
        }
    }
}
