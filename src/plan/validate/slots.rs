//! Slot times and lengths: each slot's cron, length and CCHC share, its jingles, and slots
//! that overlap at one station.

use std::collections::BTreeSet;

use super::structure::{duration, expand};
use super::Problems;
use crate::library::BulletinId;
use crate::plan::calendar::RawInstance;
use crate::plan::raw::{RawPlan, S};
use crate::plan::timing::{format_duration, CronSpec};
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

/// Each slot: cron, length, CCHC share, jingles, and a name of its own.
pub(super) fn slots(raw: &RawPlan, stations: &[Station], p: &mut Problems) -> Vec<Slot> {
    let mut out = Vec::new();
    for s in &raw.slot {
        let r = s.get_ref();
        let cron = r
            .cron
            .get_ref()
            .parse::<CronSpec>()
            .map_err(|e| p.at(&r.cron, e))
            .ok();
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
