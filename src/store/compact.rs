//! The stored form of a kept station week: compact, so a commune PC keeps many versions.
//!
//! A built week repeats itself: the demo plan's 3,360 slot instances a week name a handful
//! of bulletins, two or three slot kinds and a few dozen distinct playlists. The stored form
//! lists each bulletin (id, title, kind, topic, length), each slot kind (name, length, CCHC
//! share) and each distinct playlist (bulletin, offset, pinned) **once**, and each slot
//! instance as four numbers: its slot kind, its start as milliseconds after the previous
//! one's, its UTC offset and its playlist. The plan itself is not in it (one row per plan,
//! shared by every station and version). [`decode`] gives back exactly the [`StationWeek`]
//! that was encoded; bodies stored before this form (plain JSON of a `StationWeek`) still
//! read.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::library::{BulletinId, Kind, Topic};
use crate::schedule::{EmptySlot, Item, RuleResult, SkippedSlot, SlotPlaylist, StationWeek};

/// How a compact body starts (a plain `StationWeek` body starts with `{"code"`).
const MARK: &str = "{\"v\":2,";

/// A bulletin as the week's playlists name it.
type Bulletin = (BulletinId, String, Kind, Topic, u64);

/// A playlist entry: bulletin index, offset ms, pinned (0 or 1).
type Entry = (u32, u64, u8);

/// A slot instance: slot kind, start ms after the previous instance's (the first: Unix ms),
/// UTC offset seconds, playlist index.
type Instance = (u32, i64, i32, u32);

/// The compact body.
#[derive(Serialize, Deserialize)]
struct Compact {
    /// Format version, always 2 (written first so [`MARK`] recognises it).
    v: u8,
    /// Station code.
    code: String,
    /// Station name.
    name: String,
    /// Distinct bulletins.
    b: Vec<Bulletin>,
    /// Distinct slot kinds: name, length s, CCHC s.
    k: Vec<(String, u32, u32)>,
    /// Distinct playlists.
    p: Vec<Vec<Entry>>,
    /// Slot instances in order.
    s: Vec<Instance>,
    /// As in [`StationWeek`].
    skipped_slots: Vec<SkippedSlot>,
    /// As in [`StationWeek`].
    #[serde(default)]
    empty_slots: Vec<EmptySlot>,
    /// As in [`StationWeek`].
    compliance: Vec<RuleResult>,
}

/// Gives each distinct value an index, in first-seen order.
struct Dict<T> {
    index: HashMap<T, u32>,
    list: Vec<T>,
}

impl<T: std::hash::Hash + Eq + Clone> Dict<T> {
    fn new() -> Self {
        Dict {
            index: HashMap::new(),
            list: Vec::new(),
        }
    }

    fn of(&mut self, v: T) -> u32 {
        if let Some(i) = self.index.get(&v) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.index.insert(v.clone(), i);
        self.list.push(v);
        i
    }
}

/// The stored text of a station week.
pub fn encode(week: &StationWeek) -> Result<String, serde_json::Error> {
    let mut bulletins: Dict<Bulletin> = Dict::new();
    let mut kinds: Dict<(String, u32, u32)> = Dict::new();
    let mut playlists: Dict<Vec<Entry>> = Dict::new();
    let mut slots = Vec::with_capacity(week.slots.len());
    let mut prev_ms = 0i64;
    for s in &week.slots {
        let entries: Vec<Entry> = s
            .items
            .iter()
            .map(|i| {
                let b = (
                    i.bulletin_id,
                    i.title.clone(),
                    i.kind,
                    i.topic,
                    i.duration_ms,
                );
                (bulletins.of(b), i.offset_ms, u8::from(i.pinned))
            })
            .collect();
        let ms = s.start.timestamp_millis();
        slots.push((
            kinds.of((s.name.clone(), s.length_s, s.cchc_s)),
            ms - prev_ms,
            s.start.offset().local_minus_utc(),
            playlists.of(entries),
        ));
        prev_ms = ms;
    }
    serde_json::to_string(&Compact {
        v: 2,
        code: week.code.clone(),
        name: week.name.clone(),
        b: bulletins.list,
        k: kinds.list,
        p: playlists.list,
        s: slots,
        skipped_slots: week.skipped_slots.clone(),
        empty_slots: week.empty_slots.clone(),
        compliance: week.compliance.clone(),
    })
}

/// A station week from its stored text, compact or plain.
pub fn decode(text: &str) -> Result<StationWeek, String> {
    if !text.starts_with(MARK) {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    let c: Compact = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let bad = |what: &str| format!("compact body names a {what} it does not list");
    let mut slots = Vec::with_capacity(c.s.len());
    let mut ms = 0i64;
    for (kind, delta, offset, playlist) in c.s {
        ms += delta;
        let (name, length_s, cchc_s) = c.k.get(kind as usize).ok_or_else(|| bad("slot kind"))?;
        let tz = FixedOffset::east_opt(offset).ok_or_else(|| bad("UTC offset"))?;
        let start = DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| bad("start"))?
            .with_timezone(&tz);
        let entries = c.p.get(playlist as usize).ok_or_else(|| bad("playlist"))?;
        let items = entries
            .iter()
            .map(|(b, offset_ms, pinned)| {
                let (id, title, kind, topic, duration_ms) =
                    c.b.get(*b as usize).ok_or_else(|| bad("bulletin"))?;
                Ok(Item {
                    bulletin_id: *id,
                    title: title.clone(),
                    kind: *kind,
                    topic: *topic,
                    offset_ms: *offset_ms,
                    duration_ms: *duration_ms,
                    pinned: *pinned != 0,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        slots.push(SlotPlaylist {
            name: name.clone(),
            start,
            length_s: *length_s,
            cchc_s: *cchc_s,
            items,
        });
    }
    Ok(StationWeek {
        code: c.code,
        name: c.name,
        slots,
        skipped_slots: c.skipped_slots,
        empty_slots: c.empty_slots,
        compliance: c.compliance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::tests::plentiful;
    use crate::schedule::{build, Inputs, IsoWeek};

    fn week(plan_text: &str, library: &[crate::library::Bulletin]) -> Vec<StationWeek> {
        let plan = crate::plan::check(plan_text, "p.toml").unwrap_or_else(|r| panic!("{r}"));
        build(&Inputs {
            plan: &plan,
            library,
            history: &[],
            week: "2023-W10".parse::<IsoWeek>().unwrap(),
            station: None,
            pins: &[],
            exclusions: &[],
        })
        .stations
    }

    #[test]
    fn a_built_week_comes_back_exactly_as_it_was_kept() {
        let text = include_str!("../../schedules/vinh-loc-2023.toml");
        for st in week(text, &plentiful(3)) {
            let body = encode(&st).unwrap();
            assert!(body.starts_with(MARK));
            assert_eq!(decode(&body).unwrap(), st);
        }
    }

    #[test]
    fn a_body_kept_before_the_compact_form_still_reads() {
        let text = include_str!("../../schedules/vinh-loc-2023.toml");
        let st = week(text, &plentiful(1)).remove(0);
        let plain = serde_json::to_string(&st).unwrap();
        assert_eq!(decode(&plain).unwrap(), st);
    }

    #[test]
    fn the_demo_plans_week_is_far_smaller_than_its_plain_form() {
        let demo = include_str!("../../schedules/demo.toml").replace("year = 2026", "year = 2023");
        let st = week(&demo, &plentiful(2)).remove(0);
        assert!(st.slots.len() > 3_000, "{}", st.slots.len());
        let (compact, plain) = (encode(&st).unwrap(), serde_json::to_string(&st).unwrap());
        assert!(compact.len() < 200_000, "{} bytes", compact.len());
        assert!(
            compact.len() * 5 < plain.len(),
            "{} vs {}",
            compact.len(),
            plain.len()
        );
    }

    #[test]
    fn a_body_naming_a_playlist_it_does_not_list_is_refused() {
        let body = "{\"v\":2,\"code\":\"x\",\"name\":\"X\",\"b\":[],\"k\":[[\"S\",60,30]],\"p\":[],\"s\":[[0,0,25200,3]],\"skipped_slots\":[],\"compliance\":[]}";
        assert_eq!(
            decode(body).unwrap_err(),
            "compact body names a playlist it does not list"
        );
    }
}
