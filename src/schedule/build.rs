//! The builder: for each station, walks its slot instances of the week in time order and
//! fills each one's CCHC time from the approved library, honouring operator pins and
//! exclusions, the cadence rules, campaigns and the least gap between airings of one item.
//!
//! Pure and deterministic: no clock, no I/O, no hash-order iteration; the same inputs give
//! the same output byte for byte.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::library::{ApprovalState, Bulletin, BulletinId, Kind, Priority, Topic};
use crate::plan::{JingleRef, Plan, RuleBody, Station};
use crate::schedule::compliance::{self, Context};
use crate::schedule::{
    Airing, IsoWeek, Item, Pin, SkippedSlot, SlotPlaylist, StationWeek, WeekSchedule,
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
        history.entry(a.station.as_str()).or_default().push(a);
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

/// What the rules at one station ask of the builder.
#[derive(Debug, Default)]
struct Cadence {
    /// Airings per item per week, by kind (1 when no repeat rule covers the kind).
    times: BTreeMap<Kind, u32>,
    /// Least gap between airings of one item, by kind, seconds.
    gap_s: BTreeMap<Kind, u32>,
    /// Column airings per week.
    column_per_week: u32,
    /// Topics to cover each month.
    topics: BTreeSet<Topic>,
    /// Put a spot between consecutive items.
    spots_between: bool,
}

fn cadence(plan: &Plan, station: &str) -> Cadence {
    let mut c = Cadence::default();
    for r in plan.rules_for(station) {
        match &r.body {
            RuleBody::Repeat {
                kinds,
                times,
                min_gap_s,
            } => {
                for k in kinds {
                    let t = c.times.entry(*k).or_insert(0);
                    *t = (*t).max(*times);
                    let g = c.gap_s.entry(*k).or_insert(0);
                    *g = (*g).max(*min_gap_s);
                }
            }
            RuleBody::Column { per_week } => c.column_per_week = c.column_per_week.max(*per_week),
            RuleBody::TopicCoverage { topics } => c.topics.extend(topics.iter().copied()),
            RuleBody::SpotsBetween => c.spots_between = true,
            RuleBody::MinDistinct { .. } => {}
        }
    }
    c
}

fn month(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Emergency => 0,
        Priority::Priority => 1,
        Priority::Normal => 2,
    }
}

/// The running state of one station's week.
struct State<'a> {
    last_aired: HashMap<&'a BulletinId, DateTime<Utc>>,
    week_count: HashMap<&'a BulletinId, u32>,
    month_topics: BTreeMap<(i32, u32), BTreeSet<Topic>>,
    column_days: BTreeSet<NaiveDate>,
    columns_planned: u32,
}

impl<'a> State<'a> {
    fn record(&mut self, b: &'a Bulletin, start: DateTime<Utc>, date: NaiveDate) {
        self.last_aired.insert(&b.id, start);
        *self.week_count.entry(&b.id).or_insert(0) += 1;
        self.month_topics
            .entry(month(date))
            .or_default()
            .insert(b.meta.topic);
        if b.meta.kind == Kind::Column {
            self.column_days.insert(date);
            self.columns_planned += 1;
        }
    }
}

/// The bulletins a station may air this week, and the state its history leaves.
fn prepare<'a>(
    inp: &Inputs,
    station: &Station,
    history: &[&Airing],
    approved: &[&'a Bulletin],
    by_id: &HashMap<&BulletinId, &'a Bulletin>,
) -> (Vec<&'a Bulletin>, State<'a>) {
    let (from, _) = inp.week.bounds(station.timezone);
    let days: Vec<NaiveDate> = inp.week.days().collect();
    let eligible: Vec<&Bulletin> = approved
        .iter()
        .copied()
        .filter(|b| b.meta.targets(&station.code) && days.iter().any(|d| b.meta.valid_on(*d)))
        .collect();
    let mut st = State {
        last_aired: HashMap::new(),
        week_count: HashMap::new(),
        month_topics: BTreeMap::new(),
        column_days: BTreeSet::new(),
        columns_planned: 0,
    };
    let months: BTreeSet<(i32, u32)> = days.iter().map(|d| month(*d)).collect();
    for a in history.iter().filter(|a| a.start < from) {
        let Some(b) = by_id.get(&a.bulletin) else {
            continue;
        };
        let last = st.last_aired.entry(&b.id).or_insert(a.start);
        *last = (*last).max(a.start);
        let d = a.start.with_timezone(&station.timezone).date_naive();
        if months.contains(&month(d)) {
            st.month_topics
                .entry(month(d))
                .or_default()
                .insert(b.meta.topic);
        }
    }
    (eligible, st)
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
        .filter(|a| a.station == station.code)
        .collect();
    let (eligible, st) = prepare(inp, station, &history, &approved, &by_id);
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
        library: &eligible,
        month_topics_before: &st.month_topics,
        skipped: &week.skipped_slots,
    };
    week.compliance = compliance::evaluate(&ctx, &aired);
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
    let cad = cadence(plan, &station.code);
    let (eligible, mut st) = prepare(inp, station, history, approved, by_id);
    let month_topics_before = st.month_topics.clone();
    let instances = crate::plan::calendar::instances(plan, station, from, to);
    let running_days: BTreeSet<NaiveDate> = instances
        .iter()
        .filter(|i| i.skipped.is_none())
        .map(|i| i.date)
        .collect();
    let offset = |t: DateTime<Utc>| t.with_timezone(&station.timezone).fixed_offset();
    let mut slots = Vec::new();
    let mut skipped = Vec::new();
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
        let mut ctx = SlotFill {
            cad: &cad,
            station: &station.code,
            plan,
            start: inst.start,
            date: inst.date,
            remaining: u64::from(slot.cchc_s) * 1000,
            chosen: Vec::new(),
            running_days: running_days.len() as u32,
            week_end: to,
        };
        let jingle = |r: &Option<JingleRef>| -> Option<&Bulletin> {
            match r.as_ref()? {
                JingleRef::Id(id) => approved
                    .iter()
                    .copied()
                    .find(|b| &b.id == id && b.meta.valid_on(inst.date)),
                JingleRef::Auto => approved
                    .iter()
                    .copied()
                    .filter(|b| {
                        b.meta.kind == Kind::Jingle
                            && b.meta.targets(&station.code)
                            && b.meta.valid_on(inst.date)
                    })
                    .max_by_key(|b| (b.added.at, Reverse(b.id.clone()))),
            }
        };
        let intro = jingle(&slot.intro).filter(|j| j.audio.duration_ms <= ctx.remaining);
        ctx.remaining -= intro.map_or(0, |j| j.audio.duration_ms);
        let outro = jingle(&slot.outro).filter(|j| j.audio.duration_ms <= ctx.remaining);
        ctx.remaining -= outro.map_or(0, |j| j.audio.duration_ms);
        let excluded: Vec<&BulletinId> = inp
            .exclusions
            .iter()
            .filter(|p| p.station == station.code && p.slot_start == inst.start)
            .map(|p| &p.bulletin)
            .collect();
        for pin in inp
            .pins
            .iter()
            .filter(|p| p.station == station.code && p.slot_start == inst.start)
        {
            if let Some(b) = by_id.get(&pin.bulletin) {
                if b.audio.duration_ms <= ctx.remaining
                    && !ctx.chosen.iter().any(|(c, _)| c.id == b.id)
                {
                    ctx.remaining -= b.audio.duration_ms;
                    ctx.chosen.push((b, true));
                    st.record(b, inst.start, inst.date);
                }
            }
        }
        ctx.fill(&eligible, &excluded, &mut st);
        let mut items = Vec::new();
        let mut at = 0u64;
        let mut push = |b: &Bulletin, pinned: bool, items: &mut Vec<Item>| {
            items.push(Item {
                bulletin_id: b.id.clone(),
                title: b.meta.title.clone(),
                kind: b.meta.kind,
                topic: b.meta.topic,
                offset_ms: at,
                duration_ms: b.audio.duration_ms,
                pinned,
            });
            at += b.audio.duration_ms;
        };
        // Jingles frame CCHC content; with no content there is nothing to frame.
        let framed = !ctx.chosen.is_empty();
        if let Some(j) = intro.filter(|_| framed) {
            push(j, false, &mut items);
        }
        for (b, pinned) in &ctx.chosen {
            push(b, *pinned, &mut items);
            aired.push((b, inst.start));
        }
        if let Some(j) = outro.filter(|_| framed) {
            push(j, false, &mut items);
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
        library: &eligible,
        month_topics_before: &month_topics_before,
        skipped: &skipped,
    };
    let compliance = compliance::evaluate(&ctx, &aired);
    StationWeek {
        code: station.code.clone(),
        name: station.name.clone(),
        slots,
        skipped_slots: skipped,
        compliance,
    }
}

/// Filling one slot instance.
struct SlotFill<'a, 'p> {
    cad: &'p Cadence,
    station: &'p str,
    plan: &'p Plan,
    start: DateTime<Utc>,
    date: NaiveDate,
    remaining: u64,
    chosen: Vec<(&'a Bulletin, bool)>,
    running_days: u32,
    /// The end of the station's week: a new item starts only if its repeats still fit.
    week_end: DateTime<Utc>,
}

impl<'a> SlotFill<'a, '_> {
    fn boost(&self, b: &Bulletin) -> u32 {
        self.plan
            .campaigns
            .iter()
            .filter(|c| c.boosts(self.station, self.date, &b.id, b.meta.topic))
            .map(|c| c.boost)
            .max()
            .unwrap_or(1)
    }

    fn gap_ok(&self, b: &Bulletin, st: &State) -> bool {
        let gap = i64::from(self.cad.gap_s.get(&b.meta.kind).copied().unwrap_or(0));
        st.last_aired
            .get(&b.id)
            .is_none_or(|last| (self.start - *last).num_seconds() >= gap)
    }

    /// Whether the rules still want this item this week.
    fn due(&self, b: &Bulletin, st: &State) -> bool {
        let count = st.week_count.get(&b.id).copied().unwrap_or(0);
        match b.meta.kind {
            Kind::Column => {
                st.columns_planned < self.cad.column_per_week
                    && (!st.column_days.contains(&self.date)
                        || self.cad.column_per_week > self.running_days)
            }
            k => {
                let times = self.cad.times.get(&k).copied().unwrap_or(1) * self.boost(b);
                let gap = i64::from(self.cad.gap_s.get(&k).copied().unwrap_or(0));
                // A new item is due only when its repeats can still air this week.
                let room = count > 0
                    || (self.week_end - self.start).num_seconds()
                        > gap * i64::from(times.saturating_sub(1));
                count < times && room
            }
        }
    }

    fn fill(&mut self, eligible: &[&'a Bulletin], excluded: &[&BulletinId], st: &mut State<'a>) {
        let mut filler = false;
        loop {
            let prev_topic = self
                .chosen
                .iter()
                .rev()
                .find(|(b, _)| b.meta.kind != Kind::Spot)
                .map(|(b, _)| b.meta.topic);
            let covered = st
                .month_topics
                .get(&month(self.date))
                .cloned()
                .unwrap_or_default();
            // Between two items the rules want a spot: keep room for the shortest one.
            let reserve = if self.cad.spots_between && prev_topic.is_some() {
                eligible
                    .iter()
                    .filter(|s| {
                        s.meta.kind == Kind::Spot
                            && s.meta.valid_on(self.date)
                            && !excluded.contains(&&s.id)
                    })
                    .map(|s| s.audio.duration_ms)
                    .min()
                    .unwrap_or(0)
            } else {
                0
            };
            let pick = eligible
                .iter()
                .copied()
                .filter(|b| matches!(b.meta.kind, Kind::News | Kind::Article | Kind::Column))
                .filter(|b| !filler || b.meta.kind != Kind::Column)
                .filter(|b| {
                    b.audio.duration_ms + reserve <= self.remaining && b.meta.valid_on(self.date)
                })
                .filter(|b| {
                    !self.chosen.iter().any(|(c, _)| c.id == b.id) && !excluded.contains(&&b.id)
                })
                .filter(|b| self.gap_ok(b, st))
                .filter(|b| filler || self.due(b, st))
                // Lowest key first; `false` sorts before `true`.
                .min_by_key(|b| {
                    let aired = st.week_count.get(&b.id).copied().unwrap_or(0);
                    let not_column = b.meta.kind != Kind::Column;
                    let new_item = aired == 0;
                    let topic_covered =
                        !self.cad.topics.contains(&b.meta.topic) || covered.contains(&b.meta.topic);
                    let not_boosted = self.boost(b) == 1;
                    let same_topic = Some(b.meta.topic) == prev_topic;
                    (
                        priority_rank(b.meta.priority),
                        not_column,
                        new_item,
                        topic_covered,
                        not_boosted,
                        same_topic,
                        aired,
                        st.last_aired.get(&b.id).copied(),
                        Reverse(b.added.at),
                        b.id.clone(),
                    )
                });
            let Some(b) = pick else {
                if filler {
                    return;
                }
                filler = true;
                continue;
            };
            if reserve > 0 {
                let room = self.remaining - b.audio.duration_ms;
                let spot = eligible
                    .iter()
                    .copied()
                    .filter(|s| {
                        s.meta.kind == Kind::Spot
                            && s.audio.duration_ms <= room
                            && s.meta.valid_on(self.date)
                    })
                    .filter(|s| !excluded.contains(&&s.id))
                    // Slogans may repeat within a slot; the same one twice running only
                    // when no other fits.
                    .min_by_key(|s| {
                        let last_spot = self
                            .chosen
                            .iter()
                            .rev()
                            .find(|(c, _)| c.meta.kind == Kind::Spot);
                        (
                            last_spot.is_some_and(|(c, _)| c.id == s.id),
                            st.week_count.get(&s.id).copied().unwrap_or(0),
                            st.last_aired.get(&s.id).copied(),
                            s.id.clone(),
                        )
                    });
                if let Some(s) = spot {
                    self.remaining -= s.audio.duration_ms;
                    self.chosen.push((s, false));
                    st.record(s, self.start, self.date);
                }
            }
            self.remaining -= b.audio.duration_ms;
            self.chosen.push((b, false));
            st.record(b, self.start, self.date);
        }
    }
}
