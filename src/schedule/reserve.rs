//! Reservations: one CCHC item (news or article) for every running slot instance of a
//! station's week, found before the slots are filled, so that filling one slot never leaves
//! a later one empty while a filling of every slot exists.
//!
//! The builder fills slots in time order and packs each as its rules ask. With a thin
//! library that packing takes everything into the first slot of the day, and the least gap
//! between two airings of one item then forbids them all in the next slot. Here a search
//! first gives each slot one item such that every item's airings keep their gap (a
//! *skeleton*); while filling, an item may go into a slot only if each later slot it was
//! reserved for within its gap can take another item instead (a *repair*). A slot the
//! greedy fill leaves empty gets its reserved item.
//!
//! Columns are not reserved: the column rule fixes how often a column airs. Pure and
//! deterministic like the rest of the builder.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::library::{Bulletin, Kind};
use crate::plan::calendar::SlotInstance;
use crate::plan::Station;
use crate::schedule::build::{jingle, Inputs};
use crate::schedule::fill::{Cadence, Day, Pool, State, NEVER};
use crate::schedule::{EmptyReason, Pin};

/// How many search steps the skeleton may take before it settles for what it found; small
/// weeks are searched to the end, so a filling is found whenever one exists.
const SEARCH_BUDGET: usize = 200_000;

/// One running slot instance as the skeleton sees it.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    /// Its start, Unix ms.
    pub start_ms: i64,
    /// Which of the week's candidate sets may fill it: news or articles valid that day,
    /// not excluded there, short enough for its CCHC time; soonest to expire first. Slots
    /// of one day share a set, so a big library is listed a few times a week, not per slot.
    pub set: usize,
    /// An operator's pin already fills it: no reservation needed.
    pub pinned: bool,
}

/// The reservations of one station's week, by running-instance index.
#[derive(Debug, Default)]
pub(crate) struct Reservations {
    /// Each instance's start, Unix ms.
    starts: Vec<i64>,
    /// The candidate sets.
    sets: Vec<Vec<usize>>,
    /// Each instance's candidate set (for repairs).
    set_of: Vec<usize>,
    /// The item reserved for each instance.
    item: Vec<Option<usize>>,
    /// Instances each pool item is reserved for.
    by_item: Vec<BTreeSet<usize>>,
    /// Least gap between two airings of each pool item, ms.
    gap_ms: Vec<i64>,
    /// Instances before this one are filled.
    current: usize,
}

impl Reservations {
    /// Finds a skeleton for `needs` (in time order), given each pool item's least gap and
    /// last airing before the week.
    pub fn plan(
        needs: &[Need],
        sets: Vec<Vec<usize>>,
        gap_ms: &[i64],
        last_aired: &[i64],
    ) -> Reservations {
        let n = gap_ms.len();
        let mut search = Search {
            needs,
            sets: &sets,
            gap_ms,
            last: last_aired.to_vec(),
            pick: vec![None; needs.len()],
            best: vec![None; needs.len()],
            best_filled: 0,
            steps: 0,
            dead: HashSet::new(),
        };
        // A filling of every instance that can be filled, when one exists (remembering the
        // states already known to lead nowhere); else the path that fills most.
        if search.full(0) {
            search.best.clone_from(&search.pick);
        } else {
            search.steps = 0;
            search.pick = vec![None; needs.len()];
            search.last = last_aired.to_vec();
            search.run(0, 0);
        }
        let best = search.best;
        let mut by_item = vec![BTreeSet::new(); n];
        for (k, i) in best.iter().enumerate() {
            if let Some(i) = i {
                by_item[*i].insert(k);
            }
        }
        Reservations {
            starts: needs.iter().map(|x| x.start_ms).collect(),
            set_of: needs.iter().map(|x| x.set).collect(),
            sets,
            item: best,
            by_item,
            gap_ms: gap_ms.to_vec(),
            current: 0,
        }
    }

    /// Starts filling instance `k`: its reservation is released and returned (the slot
    /// falls back to it if the fill leaves it empty).
    pub fn begin(&mut self, k: usize) -> Option<usize> {
        self.current = k;
        let r = self.item.get_mut(k).and_then(Option::take);
        if let Some(i) = r {
            self.by_item[i].remove(&k);
        }
        r
    }

    /// Whether pool item `i` may air at `start_ms` (the current instance) without leaving a
    /// later instance reserved for it within its gap without an item; when it may, the
    /// reservations it displaces are moved to other items. `last_aired` is the fill's state.
    pub fn admit(&mut self, i: usize, start_ms: i64, last_aired: &[i64]) -> bool {
        let Some(gap) = self.gap_ms.get(i).copied() else {
            return true;
        };
        let clashes: Vec<usize> = self.by_item[i]
            .iter()
            .copied()
            .filter(|k| *k > self.current && self.starts[*k] - start_ms < gap)
            .collect();
        let mut moves = Vec::new();
        for k in &clashes {
            match self.replacement(*k, i, last_aired, &moves) {
                Some(r) => moves.push((*k, r)),
                None => return false,
            }
        }
        for (k, r) in moves {
            self.by_item[i].remove(&k);
            self.by_item[r].insert(k);
            self.item[k] = Some(r);
        }
        true
    }

    /// Another item for instance `k` than `not`: one whose last airing and other
    /// reservations (counting the `moves` about to be made) all keep its gap.
    fn replacement(
        &self,
        k: usize,
        not: usize,
        last_aired: &[i64],
        moves: &[(usize, usize)],
    ) -> Option<usize> {
        let at = self.starts[k];
        self.sets[self.set_of[k]].iter().copied().find(|&r| {
            let gap = self.gap_ms[r];
            let free = |t: i64| (t - at).abs() >= gap;
            r != not
                && (last_aired[r] == NEVER || at - last_aired[r] >= gap)
                && self.by_item[r].iter().all(|m| free(self.starts[*m]))
                && moves
                    .iter()
                    .filter(|(_, x)| *x == r)
                    .all(|(m, _)| free(self.starts[*m]))
        })
    }
}

/// What each running slot instance of a station's week needs (in time order): its start,
/// the news and articles that could fill it (soonest to expire first), and whether a pin
/// fills it already.
pub(crate) fn needs(
    inp: &Inputs,
    station: &Station,
    pool: &Pool,
    approved: &[&Bulletin],
    instances: &[SlotInstance],
) -> (Vec<Need>, Vec<Vec<usize>>) {
    // News and articles, soonest to expire first: sets keep this order.
    let mut reservable: Vec<usize> = (0..pool.items.len())
        .filter(|&i| matches!(pool.items[i].meta.kind, Kind::News | Kind::Article))
        .collect();
    reservable.sort_by_key(|&i| (pool.items[i].meta.valid_until.unwrap_or(NaiveDate::MAX), i));
    let mut keys: Vec<(NaiveDate, u64, Vec<usize>)> = Vec::new();
    let mut sets: Vec<Vec<usize>> = Vec::new();
    let mut needs = Vec::new();
    for inst in instances.iter().filter(|i| i.skipped.is_none()) {
        let slot = &inp.plan.slots[inst.slot];
        // The CCHC time left once the jingles are in, as the builder counts it.
        let mut cap = u64::from(slot.cchc_s) * 1000;
        for j in [&slot.intro, &slot.outro] {
            if let Some(b) =
                jingle(j, approved, &station.code, inst.date).filter(|b| b.audio.duration_ms <= cap)
            {
                cap -= b.audio.duration_ms;
            }
        }
        let here = |p: &&Pin| p.station == station.code && p.slot_start == inst.start;
        let mut excluded: Vec<usize> = inp
            .exclusions
            .iter()
            .filter(here)
            .filter_map(|p| pool.index.get(&p.bulletin).copied())
            .collect();
        excluded.sort_unstable();
        let pinned = inp.pins.iter().filter(here).any(|p| {
            pool.index.get(&p.bulletin).is_some_and(|&i| {
                let b = pool.items[i];
                b.meta.kind != Kind::Spot && b.meta.valid_on(inst.date)
            })
        });
        let key = (inst.date, cap, excluded);
        let set = match keys.iter().position(|k| *k == key) {
            Some(s) => s,
            None => {
                let (date, cap, excluded) = &key;
                sets.push(
                    reservable
                        .iter()
                        .copied()
                        .filter(|&i| {
                            let b = pool.items[i];
                            b.meta.valid_on(*date)
                                && b.audio.duration_ms <= *cap
                                && excluded.binary_search(&i).is_err()
                        })
                        .collect(),
                );
                keys.push(key);
                sets.len() - 1
            }
        };
        needs.push(Need {
            start_ms: inst.start.timestamp_millis(),
            set,
            pinned,
        });
    }
    (needs, sets)
}

/// Why a running slot instance got no CCHC item: the first of nothing valid that day,
/// everything too long, everything excluded, everything aired less than its gap before.
pub(crate) fn why_empty(
    cad: &Cadence,
    pool: &Pool,
    day: &Day,
    excluded: &[usize],
    st: &State,
    start: DateTime<Utc>,
    room_ms: u64,
) -> EmptyReason {
    let valid: Vec<usize> = day
        .items
        .iter()
        .copied()
        .filter(|i| pool.items[*i].meta.kind != Kind::Column)
        .collect();
    if valid.is_empty() {
        return EmptyReason::NothingValid;
    }
    let fits: Vec<usize> = valid
        .iter()
        .copied()
        .filter(|i| pool.items[*i].audio.duration_ms <= room_ms)
        .collect();
    if fits.is_empty() {
        return EmptyReason::TooLong { room_ms };
    }
    let free: Vec<usize> = fits
        .iter()
        .copied()
        .filter(|i| !excluded.contains(i))
        .collect();
    if free.is_empty() {
        return EmptyReason::Excluded;
    }
    let gap_s = free
        .iter()
        .map(|i| cad.gap_ms(pool.items[*i].meta.kind) / 1000)
        .max()
        .unwrap_or(0);
    let at = start.timestamp_millis();
    let recent = free.iter().all(|i| {
        st.last_aired[*i] != NEVER && at - st.last_aired[*i] < cad.gap_ms(pool.items[*i].meta.kind)
    });
    if recent {
        EmptyReason::Gap {
            gap_s: u64::try_from(gap_s).unwrap_or(0),
        }
    } else {
        // Items would fit but a later slot holds them: its only filling needs them.
        EmptyReason::HeldForLater
    }
}

/// The depth-first search for a skeleton.
struct Search<'a> {
    needs: &'a [Need],
    sets: &'a [Vec<usize>],
    gap_ms: &'a [i64],
    /// Last airing of each item along the current path.
    last: Vec<i64>,
    /// The current path's picks.
    pick: Vec<Option<usize>>,
    /// The path that filled most instances so far.
    best: Vec<Option<usize>>,
    best_filled: usize,
    steps: usize,
    /// States (instance, the airings still within their item's gap) from which no filling
    /// of every later instance exists.
    dead: HashSet<(usize, Vec<(usize, i64)>)>,
}

impl Search<'_> {
    /// Fills instance `k` onwards, every instance that has a candidate, or finds that it
    /// cannot (or runs out of budget): the current path's picks are then the filling. Only
    /// the airings still within their gap at `k` matter for what follows, so a state seen
    /// to fail is not searched again: a week of a few items and many slots, where a bad
    /// early choice shows only days later, is decided in a few thousand steps.
    fn full(&mut self, k: usize) -> bool {
        self.steps += 1;
        if k == self.needs.len() {
            return true;
        }
        if self.steps > SEARCH_BUDGET {
            return false;
        }
        let need = &self.needs[k];
        let candidates = &self.sets[need.set];
        if need.pinned || candidates.is_empty() {
            return self.full(k + 1);
        }
        let at = need.start_ms;
        // The state's key is made only once some state failed: a library that fills the
        // week on the first path (the usual case, and every large one) pays nothing.
        if !self.dead.is_empty() && self.dead.contains(&(k, self.key_at(at))) {
            return false;
        }
        for &i in candidates {
            let last = self.last[i];
            if last != NEVER && at - last < self.gap_ms[i] {
                continue;
            }
            self.last[i] = at;
            self.pick[k] = Some(i);
            let done = self.full(k + 1);
            self.last[i] = last;
            if done {
                return true;
            }
            self.pick[k] = None;
            if self.steps > SEARCH_BUDGET {
                return false;
            }
        }
        let key = self.key_at(at);
        self.dead.insert((k, key));
        false
    }

    /// The airings still within their item's gap at `at`: all that matters of the path so
    /// far for what follows.
    fn key_at(&self, at: i64) -> Vec<(usize, i64)> {
        self.last
            .iter()
            .enumerate()
            .filter(|(i, l)| **l != NEVER && at - **l < self.gap_ms[*i])
            .map(|(i, l)| (i, *l))
            .collect()
    }

    /// Tries instance `k` onwards with `filled` instances filled before it; `true` when
    /// every instance that can be filled is (nothing better to look for).
    fn run(&mut self, k: usize, filled: usize) -> bool {
        self.steps += 1;
        if k == self.needs.len() {
            if filled >= self.best_filled {
                self.best_filled = filled;
                self.best.clone_from(&self.pick);
            }
            return filled == self.fillable();
        }
        let need = &self.needs[k];
        let candidates = &self.sets[need.set];
        if need.pinned || candidates.is_empty() {
            return self.run(k + 1, filled + usize::from(need.pinned));
        }
        for &i in candidates {
            if self.steps > SEARCH_BUDGET {
                break;
            }
            let last = self.last[i];
            if last != NEVER && need.start_ms - last < self.gap_ms[i] {
                continue;
            }
            self.last[i] = need.start_ms;
            self.pick[k] = Some(i);
            let done = self.run(k + 1, filled + 1);
            self.pick[k] = None;
            self.last[i] = last;
            if done {
                return true;
            }
        }
        // No item fits here on this path: try leaving it empty, unless the budget is spent.
        if self.steps <= SEARCH_BUDGET || self.best_filled == 0 {
            return self.run(k + 1, filled);
        }
        false
    }

    /// Instances that have a candidate or a pin: the most any skeleton can fill.
    fn fillable(&self) -> usize {
        self.needs
            .iter()
            .filter(|n| n.pinned || !self.sets[n.set].is_empty())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// Instances at these hours with these candidates, and their sets.
    fn week(slots: &[(i64, &[usize])]) -> (Vec<Need>, Vec<Vec<usize>>) {
        let needs = slots
            .iter()
            .enumerate()
            .map(|(k, (h, _))| Need {
                start_ms: h * H,
                set: k,
                pinned: false,
            })
            .collect();
        (needs, slots.iter().map(|(_, c)| c.to_vec()).collect())
    }

    #[test]
    fn two_items_with_a_20_hour_gap_fill_a_morning_and_an_afternoon_slot_each_day() {
        // 05:30 and 16:30 (11 h apart) for three days, two items, 20 h gap.
        let slots: Vec<(i64, &[usize])> = (0..3)
            .flat_map(|d| [(d * 24, &[0, 1][..]), (d * 24 + 11, &[0, 1][..])])
            .collect();
        let (needs, sets) = week(&slots);
        let r = Reservations::plan(&needs, sets, &[20 * H, 20 * H], &[NEVER, NEVER]);
        assert!(r.item.iter().all(Option::is_some), "{:?}", r.item);
    }

    #[test]
    fn an_item_reserved_later_is_admitted_when_another_can_take_its_place() {
        let (needs, sets) = week(&[(0, &[0, 1, 2]), (11, &[0, 1, 2])]);
        let mut r = Reservations::plan(&needs, sets, &[20 * H; 3], &[NEVER; 3]);
        r.begin(0);
        let later = r.item[1].expect("reserved");
        let mut last = vec![NEVER; 3];
        assert!(r.admit(later, 0, &last));
        last[later] = 0;
        let moved = r.item[1].expect("still reserved");
        assert_ne!(moved, later);
        // The last free item cannot also go now: the later slot would be left empty.
        let others: Vec<usize> = (0..3).filter(|i| *i != later && *i != moved).collect();
        assert!(r.admit(others[0], 0, &last));
        last[others[0]] = 0;
        assert!(!r.admit(moved, 0, &last));
    }

    #[test]
    fn a_slot_with_no_candidate_is_left_unreserved_and_the_rest_are_filled() {
        let (needs, sets) = week(&[(0, &[0]), (11, &[]), (24, &[0])]);
        let r = Reservations::plan(&needs, sets, &[20 * H], &[NEVER]);
        assert_eq!(r.item, vec![Some(0), None, Some(0)]);
    }
}
