//! Filling one slot instance: the station's candidate pool (indexed, so the hot loop does
//! array lookups, not hashing), the week's running state, and the choice of each next item.
//!
//! Choice order, lowest first: priority level; a due column; an item already started this
//! week (to complete its repeats); a topic not yet covered this month; campaign boost; a
//! topic different from the previous item's; fewest airings this week; longest since last
//! aired; newest; id. Spots go between items when one fits.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::library::{Bulletin, BulletinId, Kind, Priority, Topic};
use crate::plan::{Plan, RuleBody};
use crate::schedule::reserve::Reservations;

/// Index of a kind in per-kind arrays.
fn k(kind: Kind) -> usize {
    Kind::ALL.iter().position(|x| *x == kind).unwrap_or(0)
}

/// Index of a topic in per-topic arrays.
fn topic_index(t: Topic) -> usize {
    Topic::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// `(year, month)` of a date.
pub(crate) fn month(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

fn priority_rank(p: Priority) -> u32 {
    match p {
        Priority::Emergency => 0,
        Priority::Priority => 1,
        Priority::Normal => 2,
    }
}

/// What the rules at one station ask of the builder.
#[derive(Debug, Default)]
pub(crate) struct Cadence {
    /// Airings per item per week, by kind index (1 when no repeat rule covers the kind).
    times: [u32; 5],
    /// Least gap between airings of one item, by kind index, seconds.
    gap_s: [i64; 5],
    /// Column airings per week.
    column_per_week: u32,
    /// Topics to cover each month.
    topics: BTreeSet<Topic>,
    /// Put a spot between consecutive items.
    spots_between: bool,
}

impl Cadence {
    /// Least gap between two airings of one item of `kind`, ms.
    pub fn gap_ms(&self, kind: Kind) -> i64 {
        self.gap_s[k(kind)] * 1000
    }

    /// The rules of `plan` at `station`.
    pub fn of(plan: &Plan, station: &str) -> Cadence {
        let mut c = Cadence {
            times: [1; 5],
            ..Cadence::default()
        };
        let mut repeated = [false; 5];
        for r in plan.rules_for(station) {
            match &r.body {
                RuleBody::Repeat {
                    kinds,
                    times,
                    min_gap_s,
                } => {
                    for kind in kinds {
                        let i = k(*kind);
                        c.times[i] = if repeated[i] {
                            c.times[i].max(*times)
                        } else {
                            *times
                        };
                        repeated[i] = true;
                        c.gap_s[i] = c.gap_s[i].max(i64::from(*min_gap_s));
                    }
                }
                RuleBody::Column { per_week } => {
                    c.column_per_week = c.column_per_week.max(*per_week)
                }
                RuleBody::TopicCoverage { topics } => c.topics.extend(topics.iter().copied()),
                RuleBody::SpotsBetween => c.spots_between = true,
                RuleBody::MinDistinct { .. } => {}
            }
        }
        c
    }
}

/// The bulletins a station may air this week, sorted by id (so index order is id order).
pub(crate) struct Pool<'a> {
    /// The bulletins.
    pub items: Vec<&'a Bulletin>,
    /// Id → index.
    pub index: HashMap<&'a BulletinId, usize>,
}

impl<'a> Pool<'a> {
    /// A pool of `items` (any order).
    pub fn new(mut items: Vec<&'a Bulletin>) -> Pool<'a> {
        items.sort_by_key(|a| a.id);
        items.dedup_by(|a, b| a.id == b.id);
        let index = items.iter().enumerate().map(|(i, b)| (&b.id, i)).collect();
        Pool { items, index }
    }
}

/// `last_aired` of an item that never aired.
pub(crate) const NEVER: i64 = i64::MIN;

/// The running state of one station's week, by pool index.
pub(crate) struct State {
    /// Last airing as Unix ms (history, then this week's plan); [`NEVER`] when none.
    pub last_aired: Vec<i64>,
    /// Airings planned this week.
    pub week_count: Vec<u32>,
    /// Topics aired per month (history of the months the week touches, then the plan).
    pub month_topics: BTreeMap<(i32, u32), BTreeSet<Topic>>,
    /// Days with a column planned.
    pub column_days: BTreeSet<NaiveDate>,
    /// Columns planned this week.
    pub columns_planned: u32,
}

impl State {
    /// A fresh state for a pool of `n` bulletins.
    pub fn new(n: usize) -> State {
        State {
            last_aired: vec![NEVER; n],
            week_count: vec![0; n],
            month_topics: BTreeMap::new(),
            column_days: BTreeSet::new(),
            columns_planned: 0,
        }
    }

    /// Records a planned airing of pool item `i`.
    pub fn record(&mut self, pool: &Pool, i: usize, start: DateTime<Utc>, date: NaiveDate) {
        let b = pool.items[i];
        self.last_aired[i] = start.timestamp_millis();
        self.week_count[i] += 1;
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

/// What one day offers: candidate items and spots valid that day, and campaign boosts.
pub(crate) struct Day {
    /// News, articles and columns valid that day.
    pub items: Vec<usize>,
    /// Spots valid that day.
    pub spots: Vec<usize>,
    /// Campaign boost per pool index (1 when none).
    pub boost: Vec<u32>,
}

impl Day {
    /// The offer of `date` at `station`.
    pub fn new(pool: &Pool, plan: &Plan, station: &str, date: NaiveDate) -> Day {
        let valid = |i: &usize| pool.items[*i].meta.valid_on(date);
        let items = (0..pool.items.len())
            .filter(|i| {
                matches!(
                    pool.items[*i].meta.kind,
                    Kind::News | Kind::Article | Kind::Column
                )
            })
            .filter(valid)
            .collect();
        let spots = (0..pool.items.len())
            .filter(|i| pool.items[*i].meta.kind == Kind::Spot)
            .filter(valid)
            .collect();
        let campaigns: Vec<_> = plan
            .campaigns
            .iter()
            .filter(|c| date >= c.from && date <= c.to && c.stations.iter().any(|s| s == station))
            .collect();
        let boost = pool
            .items
            .iter()
            .map(|b| {
                campaigns
                    .iter()
                    .filter(|c| c.bulletins.contains(&b.id) || c.topics.contains(&b.meta.topic))
                    .map(|c| c.boost)
                    .max()
                    .unwrap_or(1)
            })
            .collect();
        Day {
            items,
            spots,
            boost,
        }
    }
}

/// Filling one slot instance.
pub(crate) struct SlotFill<'p> {
    /// The station's rules.
    pub cad: &'p Cadence,
    /// The slot's start.
    pub start: DateTime<Utc>,
    /// Its local date.
    pub date: NaiveDate,
    /// CCHC time left, ms.
    pub remaining: u64,
    /// Chosen pool indices and whether pinned, in play order.
    pub chosen: Vec<(usize, bool)>,
    /// Days of the week with a running slot.
    pub running_days: u32,
    /// The end of the station's week: a new item starts only if its repeats still fit.
    pub week_end: DateTime<Utc>,
}

impl SlotFill<'_> {
    fn gap_ok(&self, pool: &Pool, i: usize, st: &State, start_ms: i64) -> bool {
        let gap_ms = self.cad.gap_s[k(pool.items[i].meta.kind)] * 1000;
        let last = st.last_aired[i];
        last == NEVER || start_ms - last >= gap_ms
    }

    /// Whether the rules still want pool item `i` this week.
    fn due(&self, pool: &Pool, day: &Day, i: usize, st: &State, week_left_s: i64) -> bool {
        let b = pool.items[i];
        let count = st.week_count[i];
        match b.meta.kind {
            Kind::Column => {
                st.columns_planned < self.cad.column_per_week
                    && (!st.column_days.contains(&self.date)
                        || self.cad.column_per_week > self.running_days)
            }
            kind => {
                let times = self.cad.times[k(kind)] * day.boost[i];
                let gap = self.cad.gap_s[k(kind)];
                // A new item is due only when its repeats can still air this week.
                let room = count > 0 || week_left_s > gap * i64::from(times.saturating_sub(1));
                count < times && room
            }
        }
    }

    /// Chooses items until nothing more fits or is wanted; an item goes in only if the
    /// reservations of later slots allow it ([`Reservations::admit`]).
    pub fn fill(
        &mut self,
        pool: &Pool,
        day: &Day,
        excluded: &[usize],
        st: &mut State,
        res: &mut Reservations,
    ) {
        let mut filler = false;
        // Items a later slot needs: not again in this one.
        let mut held: Vec<usize> = Vec::new();
        let start_ms = self.start.timestamp_millis();
        let week_left_s = (self.week_end - self.start).num_seconds();
        loop {
            let prev_topic = self
                .chosen
                .iter()
                .rev()
                .map(|(i, _)| pool.items[*i])
                .find(|b| b.meta.kind != Kind::Spot)
                .map(|b| b.meta.topic);
            let covered = st.month_topics.get(&month(self.date));
            let mut topic_covered = [true; 5];
            for (t, c) in Topic::ALL.iter().zip(topic_covered.iter_mut()) {
                *c = !self.cad.topics.contains(t) || covered.is_some_and(|m| m.contains(t));
            }
            let mut topic_covered = [true; 5];
            for (t, c) in Topic::ALL.iter().zip(topic_covered.iter_mut()) {
                *c = !self.cad.topics.contains(t) || covered.is_some_and(|m| m.contains(t));
            }
            // Between two items the rules want a spot: keep room for the shortest one.
            let reserve = if self.cad.spots_between && prev_topic.is_some() {
                day.spots
                    .iter()
                    .filter(|s| !excluded.contains(s))
                    .map(|s| pool.items[*s].audio.duration_ms)
                    .min()
                    .unwrap_or(0)
            } else {
                0
            };
            let mut best: Option<((u32, i64, i64, usize), usize)> = None;
            for &i in &day.items {
                let b = pool.items[i];
                // Cheapest tests first: this loop runs for every candidate of every pick.
                if b.audio.duration_ms + reserve > self.remaining
                    || (filler && b.meta.kind == Kind::Column)
                    || !self.gap_ok(pool, i, st, start_ms)
                    || (!filler && !self.due(pool, day, i, st, week_left_s))
                    || self.chosen.iter().any(|(c, _)| *c == i)
                    || excluded.contains(&i)
                    || held.contains(&i)
                {
                    continue;
                }
                let aired = st.week_count[i];
                let topic_covered = topic_covered[topic_index(b.meta.topic)];
                // Flags and count packed high to low, `false` before `true`.
                let flags = (priority_rank(b.meta.priority) << 28)
                    | (u32::from(b.meta.kind != Kind::Column) << 27)
                    | (u32::from(aired == 0) << 26)
                    | (u32::from(topic_covered) << 25)
                    | (u32::from(day.boost[i] == 1) << 24)
                    | (u32::from(Some(b.meta.topic) == prev_topic) << 23)
                    | aired.min((1 << 23) - 1);
                let key = (flags, st.last_aired[i], -b.added.at.timestamp_millis(), i);
                if best.is_none_or(|(bk, _)| key < bk) {
                    best = Some((key, i));
                }
            }
            let Some((_, i)) = best else {
                if filler {
                    return;
                }
                filler = true;
                continue;
            };
            if !res.admit(i, start_ms, &st.last_aired) {
                held.push(i);
                continue;
            }
            if reserve > 0 {
                let room = self.remaining - pool.items[i].audio.duration_ms;
                let last_spot = self
                    .chosen
                    .iter()
                    .rev()
                    .map(|(c, _)| *c)
                    .find(|c| pool.items[*c].meta.kind == Kind::Spot);
                // A slogan repeats within a slot only when every other that fits is used
                // there already; the same one twice running only when no other fits.
                let used = |s: usize| self.chosen.iter().filter(|(c, _)| *c == s).count();
                let spot = day
                    .spots
                    .iter()
                    .copied()
                    .filter(|s| pool.items[*s].audio.duration_ms <= room && !excluded.contains(s))
                    .min_by_key(|s| {
                        (
                            used(*s),
                            last_spot == Some(*s),
                            st.week_count[*s],
                            st.last_aired[*s],
                            *s,
                        )
                    });
                if let Some(s) = spot {
                    self.remaining -= pool.items[s].audio.duration_ms;
                    self.chosen.push((s, false));
                    st.record(pool, s, self.start, self.date);
                }
            }
            self.remaining -= pool.items[i].audio.duration_ms;
            self.chosen.push((i, false));
            st.record(pool, i, self.start, self.date);
        }
    }
}
