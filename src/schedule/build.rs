//! The builder: for each station, walks its slot instances of the week in time order and
//! fills each one's CCHC time from the approved library, honouring operator pins and
//! exclusions, the cadence rules, campaigns and the least gap between airings of one item.
//!
//! Pure and deterministic: no clock, no I/O, no hash-order iteration; the same inputs give
//! the same output byte for byte.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::library::{ApprovalState, Bulletin, BulletinId, Kind};
use crate::plan::{JingleRef, Plan, Station};
use crate::schedule::compliance::{self, Context};
use crate::schedule::fill::{month, Cadence, Day, Pool, SlotFill, State, NEVER};
use crate::schedule::reserve::{self, Reservations};
use crate::schedule::{
    Airing, EmptySlot, IsoWeek, Item, Pin, SkippedSlot, SlotPlaylist, StationWeek, WeekSchedule,
};

/// Everything the builder reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The validated plan.
    pub plan: &'a Plan,
    /// The library snapshot (any state; only approved bulletins are used).
    pub library: &'a [Bulletin],
    /// Airings before the week, at any station (airlog and earlier built weeks).
    pub history: &'a [Airing],
    /// The week to build.
    pub week: IsoWeek,
    /// Only this station, when given.
    pub station: Option<&'a str>,
    /// Bulletins operators put into slot instances.
    pub pins: &'a [Pin],
    /// Bulletins operators took out of slot instances.
    pub exclusions: &'a [Pin],
}

/// Builds the week's playlists and compliance forecast.
pub fn build(inp: &Inputs) -> WeekSchedule {
    let mut history: HashMap<&str, Vec<&Airing>> = HashMap::new();
    for a in inp.history {
        history.entry(&*a.station).or_default().push(a);
    }
    let approved: Vec<&Bulletin> = inp
        .library
        .iter()
        .filter(|b| b.state == ApprovalState::Approved)
        .collect();
    let by_id: HashMap<&BulletinId, &Bulletin> = inp.library.iter().map(|b| (&b.id, b)).collect();
    let stations = inp
        .plan
        .stations
        .iter()
        .filter(|s| inp.station.is_none_or(|c| c == s.code))
        .map(|s| {
            let h = history
                .get(s.code.as_str())
                .map_or(&[][..], |v| v.as_slice());
            station_week(inp, s, h, &approved, &by_id)
        })
        .collect();
    WeekSchedule {
        week: inp.week.to_string(),
        plan: inp.plan.name.clone(),
        stations,
    }
}

/// The station's pool for the week and the state its history leaves.
fn prepare<'a>(
    inp: &Inputs,
    station: &Station,
    history: &[&Airing],
    approved: &[&'a Bulletin],
    by_id: &HashMap<&BulletinId, &Bulletin>,
) -> (Pool<'a>, State) {
    let (from, _) = inp.week.bounds(station.timezone);
    let days: Vec<NaiveDate> = inp.week.days().collect();
    let pool = Pool::new(compliance::week_library(
        approved.iter().copied(),
        station,
        inp.week,
    ));
    let mut st = State::new(pool.items.len());
    let months: BTreeSet<(i32, u32)> = days.iter().map(|d| month(*d)).collect();
    for a in history.iter().filter(|a| a.start < from) {
        if let Some(&i) = pool.index.get(&a.bulletin) {
            st.last_aired[i] = st.last_aired[i].max(a.start.timestamp_millis());
        }
        let Some(b) = by_id.get(&a.bulletin) else {
            continue;
        };
        let d = a.start.with_timezone(&station.timezone).date_naive();
        if months.contains(&month(d)) {
            st.month_topics
                .entry(month(d))
                .or_default()
                .insert(b.meta.topic);
        }
    }
    (pool, st)
}

/// Recomputes the compliance forecast of a station week after an operator edited its
/// playlists (pin or unpin), with the same code the builder uses.
pub fn reforecast(inp: &Inputs, week: &mut StationWeek) {
    let Some(station) = inp.plan.station(&week.code) else {
        return;
    };
    let approved: Vec<&Bulletin> = inp
        .library
        .iter()
        .filter(|b| b.state == ApprovalState::Approved)
        .collect();
    let by_id: HashMap<&BulletinId, &Bulletin> = inp.library.iter().map(|b| (&b.id, b)).collect();
    let history: Vec<&Airing> = inp
        .history
        .iter()
        .filter(|a| *a.station == *station.code)
        .collect();
    let (pool, st) = prepare(inp, station, &history, &approved, &by_id);
    let mut aired = Vec::new();
    for slot in &week.slots {
        for item in slot.items.iter().filter(|i| i.kind != Kind::Jingle) {
            if let Some(b) = by_id.get(&item.bulletin_id) {
                aired.push((*b, slot.start.with_timezone(&Utc)));
            }
        }
    }
    let ctx = Context {
        plan: inp.plan,
        station,
        week: inp.week,
        library: &pool.items,
        month_topics_before: &st.month_topics,
        skipped: &week.skipped_slots,
    };
    week.compliance = compliance::evaluate(&ctx, &aired);
}

/// The jingle a slot names for a station on a date: approved, a jingle, meant for the
/// station and valid that day.
pub(crate) fn jingle<'a>(
    r: &Option<JingleRef>,
    approved: &[&'a Bulletin],
    station: &str,
    date: NaiveDate,
) -> Option<&'a Bulletin> {
    let fits = |b: &&Bulletin| {
        b.meta.kind == Kind::Jingle && b.meta.targets(station) && b.meta.valid_on(date)
    };
    match r.as_ref()? {
        JingleRef::Id(id) => approved.iter().copied().filter(fits).find(|b| &b.id == id),
        JingleRef::Auto => approved
            .iter()
            .copied()
            .filter(fits)
            .max_by_key(|b| (b.added.at, Reverse(&b.id))),
    }
}

fn station_week(
    inp: &Inputs,
    station: &Station,
    history: &[&Airing],
    approved: &[&Bulletin],
    by_id: &HashMap<&BulletinId, &Bulletin>,
) -> StationWeek {
    let plan = inp.plan;
    let (from, to) = inp.week.bounds(station.timezone);
    let cad = Cadence::of(plan, &station.code);
    let (pool, mut st) = prepare(inp, station, history, approved, by_id);
    let month_topics_before = st.month_topics.clone();
    let instances = crate::plan::calendar::instances(plan, station, from, to);
    let running_days: BTreeSet<NaiveDate> = instances
        .iter()
        .filter(|i| i.skipped.is_none())
        .map(|i| i.date)
        .collect();
    let offset = |t: DateTime<Utc>| t.with_timezone(&station.timezone).fixed_offset();
    let (needs, sets) = reserve::needs(inp, station, &pool, approved, &instances);
    let gap_ms: Vec<i64> = pool.items.iter().map(|b| cad.gap_ms(b.meta.kind)).collect();
    let mut res = Reservations::plan(&needs, sets, &gap_ms, &st.last_aired);
    let mut running = 0;
    let mut days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let mut slots = Vec::new();
    let mut skipped = Vec::new();
    let mut empty = Vec::new();
    let mut aired: Vec<(&Bulletin, DateTime<Utc>)> = Vec::new();
    for inst in &instances {
        let slot = &plan.slots[inst.slot];
        if let Some(reason) = &inst.skipped {
            skipped.push(SkippedSlot {
                name: slot.name.clone(),
                start: offset(inst.start),
                reason: reason.clone(),
            });
            continue;
        }
        let reserved = res.begin(running);
        running += 1;
        let day = days
            .entry(inst.date)
            .or_insert_with(|| Day::new(&pool, plan, &station.code, inst.date));
        let mut fill = SlotFill {
            cad: &cad,
            start: inst.start,
            date: inst.date,
            remaining: u64::from(slot.cchc_s) * 1000,
            chosen: Vec::new(),
            running_days: running_days.len() as u32,
            week_end: to,
        };
        let intro = jingle(&slot.intro, approved, &station.code, inst.date)
            .filter(|j| j.audio.duration_ms <= fill.remaining);
        fill.remaining -= intro.map_or(0, |j| j.audio.duration_ms);
        let outro = jingle(&slot.outro, approved, &station.code, inst.date)
            .filter(|j| j.audio.duration_ms <= fill.remaining);
        fill.remaining -= outro.map_or(0, |j| j.audio.duration_ms);
        let here = |p: &&Pin| p.station == station.code && p.slot_start == inst.start;
        let excluded: Vec<usize> = inp
            .exclusions
            .iter()
            .filter(here)
            .filter_map(|p| pool.index.get(&p.bulletin).copied())
            .collect();
        // Pins hold while the bulletin is still approved, meant for the station and valid.
        for pin in inp.pins.iter().filter(here) {
            let Some(&i) = pool.index.get(&pin.bulletin) else {
                continue;
            };
            let b = pool.items[i];
            if b.meta.valid_on(inst.date)
                && b.audio.duration_ms <= fill.remaining
                && !fill.chosen.iter().any(|(c, _)| *c == i)
            {
                fill.remaining -= b.audio.duration_ms;
                fill.chosen.push((i, true));
                st.record(&pool, i, inst.start, inst.date);
            }
        }
        fill.fill(&pool, day, &excluded, &mut st, &mut res);
        let content = |f: &SlotFill| {
            f.chosen
                .iter()
                .any(|(i, _)| pool.items[*i].meta.kind != Kind::Spot)
        };
        if !content(&fill) {
            // The reserved item keeps its gap by construction; check it as any other.
            if let Some(r) = reserved.filter(|r| {
                let b = pool.items[*r];
                b.audio.duration_ms <= fill.remaining
                    && (st.last_aired[*r] == NEVER
                        || inst.start.timestamp_millis() - st.last_aired[*r] >= gap_ms[*r])
            }) {
                fill.remaining -= pool.items[r].audio.duration_ms;
                fill.chosen.push((r, false));
                st.record(&pool, r, inst.start, inst.date);
            }
        }
        if !content(&fill) {
            empty.push(EmptySlot {
                name: slot.name.clone(),
                start: offset(inst.start),
                reason: reserve::why_empty(
                    &cad,
                    &pool,
                    day,
                    &excluded,
                    &st,
                    inst.start,
                    fill.remaining,
                ),
            });
        }
        let mut items = Vec::new();
        // Offsets accumulate exact lengths (µs from frames) and round once, so a long slot
        // does not drift from the gapless sample clock playout keeps.
        let mut at_us = 0u64;
        let mut push = |b: &Bulletin, pinned: bool| {
            items.push(Item {
                bulletin_id: b.id,
                title: b.meta.title.clone(),
                kind: b.meta.kind,
                topic: b.meta.topic,
                offset_ms: at_us / 1000,
                duration_ms: b.audio.duration_ms,
                pinned,
            });
            at_us += match u64::from(b.audio.sample_rate) {
                0 => b.audio.duration_ms * 1000,
                rate => b.audio.frames * 1_000_000 / rate,
            };
        };
        // Jingles frame CCHC content; with no content there is nothing to frame.
        let framed = !fill.chosen.is_empty();
        if let Some(j) = intro.filter(|_| framed) {
            push(j, false);
        }
        for (i, pinned) in &fill.chosen {
            push(pool.items[*i], *pinned);
            aired.push((pool.items[*i], inst.start));
        }
        if let Some(j) = outro.filter(|_| framed) {
            push(j, false);
        }
        slots.push(SlotPlaylist {
            name: slot.name.clone(),
            start: offset(inst.start),
            length_s: slot.length_s,
            cchc_s: slot.cchc_s,
            items,
        });
    }
    let ctx = Context {
        plan,
        station,
        week: inp.week,
        library: &pool.items,
        month_topics_before: &month_topics_before,
        skipped: &skipped,
    };
    let compliance = compliance::evaluate(&ctx, &aired);
    StationWeek {
        code: station.code.clone(),
        name: station.name.clone(),
        slots,
        skipped_slots: skipped,
        empty_slots: empty,
        compliance,
    }
}
