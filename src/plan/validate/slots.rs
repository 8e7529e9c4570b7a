//! Slot times and lengths: each slot's cron, length and CCHC share, its jingles, and slots
//! that overlap at one station.

use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::structure::{duration, expand};
use super::Problems;
use crate::library::BulletinId;
use crate::plan::calendar::RawInstance;
use crate::plan::raw::{RawPlan, S};
use crate::plan::timing::{format_duration, place, CronSpec, WallTime};
use crate::plan::{JingleRef, Plan, Slot, Station};
use crate::text::nfc;

/// A slot's intro or outro: `auto` or a bulletin id.
pub(super) fn jingle(s: &Option<S<String>>, p: &mut Problems) -> Option<JingleRef> {
    let s = s.as_ref()?;
    if s.get_ref() == "auto" {
        return Some(JingleRef::Auto);
    }
    match s.get_ref().parse::<BulletinId>() {
        Ok(id) => Some(JingleRef::Id(id)),
        Err(e) => {
            p.at(s, format!("{e}, or \"auto\""));
            None
        }
    }
}

/// The byte offset in the file of character `chars` of a string value (after its quote).
fn char_in_string(s: &S<String>, chars: usize) -> usize {
    let inner = s.get_ref();
    s.span().start
        + 1
        + inner
            .char_indices()
            .nth(chars)
            .map_or(inner.len(), |(b, _)| b)
}

/// Each slot: cron, length, CCHC share, jingles, and a name of its own.
pub(super) fn slots(raw: &RawPlan, stations: &[Station], p: &mut Problems) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &raw.slot {
        let r = s.get_ref();
        let cron = CronSpec::parse(r.cron.get_ref())
            .map_err(|e| p.at_offset(char_in_string(&r.cron, e.offset), e.message))
            .ok();
        let name = r.name.get_ref().trim();
        if name.is_empty() {
            p.at(
                &r.name,
                "a slot has an empty name (give it one, e.g. \"Bản tin buổi sáng\")",
            );
        } else if !seen.insert(nfc(name)) {
            p.at(
                &r.name,
                format!("slot name '{name}' is used twice: give each slot its own name"),
            );
        }
        let length = duration(&r.length, "length", p);
        let cchc = duration(&r.cchc, "cchc", p);
        let list = expand(Some(&r.stations), stations, p);
        if let (Some(length), Some(cchc)) = (length, cchc) {
            if length < 60 {
                p.at(
                    &r.length,
                    format!(
                        "slot '{}' lasts {}: too short for anything (at least 1m)",
                        r.name.get_ref(),
                        format_duration(length.into())
                    ),
                );
            }
            if cchc < 30 {
                p.at(&r.cchc, format!("slot '{}' gives CCHC content {}: too short for any bulletin (at least 30s)", r.name.get_ref(), format_duration(cchc.into())));
            }
            if cchc > length {
                p.at(
                    &r.cchc,
                    format!(
                        "slot '{}' gives CCHC content {} but lasts only {}",
                        r.name.get_ref(),
                        format_duration(cchc.into()),
                        format_duration(length.into())
                    ),
                );
            }
        }
        let intro = jingle(&r.intro, p);
        let outro = jingle(&r.outro, p);
        if let (Some(cron), Some(length_s), Some(cchc_s)) = (cron, length, cchc) {
            out.push(Slot {
                name: nfc(r.name.get_ref()),
                stations: list,
                cron,
                length_s,
                cchc_s,
                intro,
                outro,
            });
        }
    }
    out
}

/// Reports, once per pair of slots, a slot that starts before another has ended at `station`.
pub(super) fn overlaps(
    raw: &RawPlan,
    plan: &Plan,
    station: &Station,
    all: &[RawInstance],
    p: &mut Problems,
) {
    let mut reported = BTreeSet::new();
    for w in all.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let a_end = a.start + chrono::Duration::seconds(plan.slots[a.slot].length_s.into());
        if b.start < a_end && reported.insert((a.slot, b.slot)) {
            let local = b.start.with_timezone(&station.timezone);
            p.at(
                &raw.slot[b.slot].get_ref().cron,
                format!(
                    "slot '{}' overlaps slot '{}' at station '{}' (e.g. {})",
                    plan.slots[b.slot].name,
                    plan.slots[a.slot].name,
                    station.code,
                    local.format("%d/%m/%Y %H:%M")
                ),
            );
        }
    }
}

/// Over the plan's year: slots whose cron never fires (a problem), and slot times summer
/// time skips or repeats in a station's time zone (a note saying what loa does).
pub(super) fn year_times(raw: &RawPlan, plan: &Plan, p: &mut Problems) {
    let day = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let (Some(from), Some(to)) = (day(plan.year), day(plan.year + 1)) else {
        return;
    };
    for (si, slot) in plan.slots.iter().enumerate() {
        let cron = &raw.slot[si].get_ref().cron;
        let walls = slot.cron.wall_times(from, to);
        if walls.is_empty() {
            p.at(
                cron,
                never_fires(&slot.name, &slot.cron.to_string(), plan.year),
            );
            continue;
        }
        let mut zones: Vec<(Tz, Vec<&str>)> = Vec::new();
        for code in &slot.stations {
            let Some(st) = plan.station(code) else {
                continue;
            };
            match zones.iter_mut().find(|(tz, _)| *tz == st.timezone) {
                Some((_, codes)) => codes.push(&st.code),
                None => zones.push((st.timezone, vec![&st.code])),
            }
        }
        for (tz, codes) in zones {
            let mut dates = BTreeSet::new();
            for w in &walls {
                let (at, how) = place(tz, *w);
                if how != WallTime::Single && dates.insert(w.date()) {
                    let msg = summer_time(&slot.name, &codes, tz, *w, at, how);
                    p.note_at_offset(cron.span().start, msg);
                }
            }
        }
    }
}

/// The problem of a cron that never fires in `year`, in the plan's five fields.
fn never_fires(slot: &str, cron: &str, year: i32) -> String {
    let f: Vec<&str> = cron.split_whitespace().collect();
    let mut parts = Vec::new();
    for (i, name) in [(2, "day-of-month"), (3, "month"), (4, "day-of-week")] {
        if f.get(i).is_some_and(|v| *v != "*") {
            parts.push(format!("{name} {}", f[i]));
        }
    }
    format!(
        "slot '{slot}': cron '{cron}' never fires in {year}: no date of {year} has {}",
        parts.join(" and ")
    )
}

/// The note for a wall time summer time skips (`InGap`) or repeats (`Twice`) on one date.
fn summer_time(
    slot: &str,
    codes: &[&str],
    tz: Tz,
    wall: chrono::NaiveDateTime,
    at: chrono::DateTime<chrono::Utc>,
    how: WallTime,
) -> String {
    let stations = codes
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let (date, time) = (wall.format("%d/%m/%Y"), wall.format("%H:%M"));
    let local = at.with_timezone(&tz);
    if how == WallTime::InGap {
        let before = tz.from_utc_datetime(&(at - chrono::Duration::seconds(1)).naive_utc());
        let before = before.naive_local() + chrono::Duration::seconds(1);
        format!(
            "slot '{slot}' at {stations}: {time} does not exist on {date} in {tz} (clocks go from {} to {}); loa plays the slot once, at {}",
            before.format("%H:%M"),
            local.format("%H:%M"),
            local.format("%H:%M")
        )
    } else {
        format!(
            "slot '{slot}' at {stations}: {time} happens twice on {date} in {tz} (summer time ends); loa plays the slot once, at the first {time} (UTC{})",
            local.format("%:z")
        )
    }
}
