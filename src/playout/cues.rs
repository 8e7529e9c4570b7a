//! The cue queue (pure): what plays next in a slot instance and why. A slot's queue is its
//! scheduled items at their frame-exact instants, then the make-ups that still fit in the
//! CCHC time; an empty slot takes the plan's fallback. Announcements of Circular 39/2020's
//! two waiting levels join the next slot instance: `priority` ones ahead of everything,
//! `normal` ones after its scheduled items ([`Announced`]). Operators and urgent
//! (emergency) announcements insert into it while it plays.
//!
//! Owns the choice and order of items; it reads no clock, decodes nothing, writes no row.
//! The library is passed in as data ([`Library`]).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::airlog::CueSource;
use crate::library::{Bulletin, BulletinId, Priority};
use crate::playout::source::output_length;
use crate::playout::timing::{frames_in, planned_starts};
use crate::schedule::SlotPlaylist;

/// The bulletins playout may play, by id (a snapshot; the daemon refreshes it per slot).
pub type Library = HashMap<BulletinId, Bulletin>;

/// One thing to play.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// The bulletin.
    pub bulletin: BulletinId,
    /// When it should start.
    pub planned_start: DateTime<Utc>,
    /// Why it is cued.
    pub source: CueSource,
    /// The row it relates to (a make-up's miss, the item an operator interrupted).
    pub link_seq: Option<i64>,
    /// Who cued it: an operator, or the daemon's own name.
    pub who: String,
    /// The kept announcement it airs (marked aired, with its row, once the row is written).
    pub announcement: Option<i64>,
}

/// An item to make up: it failed, was cut or was missed, and airs again in the next slot
/// with room.
#[derive(Debug, Clone, PartialEq)]
pub struct Makeup {
    /// The bulletin.
    pub bulletin: BulletinId,
    /// The row of the miss.
    pub link_seq: Option<i64>,
}

/// The two announcement levels of Circular 39/2020 that wait for the next slot instance
/// (the third, emergency, interrupts at once and never waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// Into the next slot instance, after its scheduled items.
    Normal,
    /// Into the next slot instance, ahead of its other items.
    Priority,
}

impl Waiting {
    /// The waiting level of an announcement's `level`; `None` for an emergency, which
    /// interrupts at once instead.
    pub fn of(level: Priority) -> Option<Waiting> {
        match level {
            Priority::Normal => Some(Waiting::Normal),
            Priority::Priority => Some(Waiting::Priority),
            Priority::Emergency => None,
        }
    }

    /// The airlog source of an announcement at this level.
    pub fn source(self) -> CueSource {
        match self {
            Waiting::Normal => CueSource::Announcement,
            Waiting::Priority => CueSource::Priority,
        }
    }
}

/// An announcement waiting for the next slot instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Announced {
    /// The bulletin.
    pub bulletin: BulletinId,
    /// Where in the slot it goes.
    pub level: Waiting,
    /// Who sent it (the airlog row names them).
    pub who: String,
    /// Its number in the store ([`crate::store::AnnouncementStore`]); `None` when it is not
    /// kept (`loa playout run`, the tests of the queue).
    pub id: Option<i64>,
}

/// A slot instance's queue as it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotCues {
    /// What plays, in order.
    pub cues: VecDeque<Cue>,
    /// The make-ups that did not fit (or are not valid that day), still waiting.
    pub waiting: VecDeque<Makeup>,
    /// The slot had no scheduled content (the fallback was tried).
    pub empty: bool,
    /// The fallback filled it (at least one fallback item fits).
    pub fallback: bool,
}

/// What a slot instance needs to know to lay out its queue.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'a> {
    /// The library snapshot.
    pub library: &'a Library,
    /// The plan's fallback bulletins, in order.
    pub fallback: &'a [BulletinId],
    /// The output's sample rate (planned instants are on its sample clock).
    pub rate: u32,
    /// Who the daemon is in the airlog.
    pub who: &'a str,
}

impl Layout<'_> {
    fn cue(&self, bulletin: BulletinId, at: DateTime<Utc>, source: CueSource) -> Cue {
        Cue {
            bulletin,
            planned_start: at,
            source,
            link_seq: None,
            who: self.who.to_string(),
            announcement: None,
        }
    }

    /// An item's length on the output's sample clock, in frames.
    fn frames(&self, id: &BulletinId, duration_ms: u64) -> u64 {
        match self.library.get(id) {
            Some(b) => output_length(b.audio.frames, b.audio.sample_rate, self.rate),
            None => frames_in(duration_ms, self.rate),
        }
    }

    /// The queue of `slot`: its items, or the fallback when it has none; then `makeups`,
    /// oldest first, as long as each fits in the CCHC time and is valid on the slot's day.
    /// A make-up whose bulletin left the library is dropped.
    pub fn slot(&self, slot: &SlotPlaylist, makeups: VecDeque<Makeup>) -> SlotCues {
        self.slot_with(slot, makeups, Vec::new())
    }

    /// The queue of `slot` with the announcements waiting for it: the `priority` ones first,
    /// in the order sent, from the slot's start; then its items (or the fallback, when it
    /// has neither items nor announcements) at their planned instants; then the `normal`
    /// ones, in the order sent; then the make-ups that still fit in the CCHC time left.
    /// Scheduled items keep their planned instants, so the airlog shows how late a
    /// priority announcement made them. An announcement is never dropped for want of time:
    /// what the slot's end cuts is logged and made up like any item.
    pub fn slot_with(
        &self,
        slot: &SlotPlaylist,
        makeups: VecDeque<Makeup>,
        announced: Vec<Announced>,
    ) -> SlotCues {
        let start = slot.start.with_timezone(&Utc);
        let length = |id: &BulletinId| self.library.get(id).map_or(0, |b| b.audio.duration_ms);
        let (ahead, after_items): (Vec<Announced>, Vec<Announced>) = announced
            .into_iter()
            .partition(|a| a.level == Waiting::Priority);
        let mut ahead_ms = 0;
        let ahead: Vec<Cue> = ahead
            .into_iter()
            .map(|a| {
                let c = self.announced(&a, after(start, ahead_ms));
                ahead_ms += length(&a.bulletin);
                c
            })
            .collect();
        let mut laid = self.items(slot, !ahead.is_empty() || !after_items.is_empty());
        let mut used_ms = laid.used_ms + ahead_ms;
        for a in &after_items {
            laid.cues
                .push_back(self.announced(a, after(start, used_ms)));
            used_ms += length(&a.bulletin);
        }
        for c in ahead.into_iter().rev() {
            laid.cues.push_front(c);
        }
        let cchc_ms = u64::from(slot.cchc_s) * 1000;
        let mut cues = laid.cues;
        let waiting = self.add_makeups(&mut cues, makeups, start, &mut used_ms, cchc_ms, slot);
        SlotCues {
            cues,
            waiting,
            empty: laid.empty,
            fallback: laid.fallback,
        }
    }

    fn announced(&self, a: &Announced, at: DateTime<Utc>) -> Cue {
        Cue {
            bulletin: a.bulletin,
            planned_start: at,
            source: a.level.source(),
            link_seq: None,
            who: a.who.clone(),
            announcement: a.id,
        }
    }

    /// The slot's scheduled items at their instants, or the fallback when it has none and
    /// nothing was `announced` for it.
    fn items(&self, slot: &SlotPlaylist, announced: bool) -> Items {
        let start = slot.start.with_timezone(&Utc);
        let cchc_ms = u64::from(slot.cchc_s) * 1000;
        let lengths = slot
            .items
            .iter()
            .map(|i| self.frames(&i.bulletin_id, i.duration_ms));
        let mut cues: VecDeque<Cue> = slot
            .items
            .iter()
            .zip(planned_starts(start, self.rate, lengths))
            .map(|(i, at)| self.cue(i.bulletin_id, at, CueSource::Schedule))
            .collect();
        let mut used_ms: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
        // A slot that only announcements fill is not empty: the fallback stays out.
        let empty = cues.is_empty() && !announced;
        if empty {
            for id in self.fallback {
                let Some(b) = self.library.get(id) else {
                    continue;
                };
                if used_ms + b.audio.duration_ms > cchc_ms {
                    break;
                }
                cues.push_back(self.cue(*id, after(start, used_ms), CueSource::Fallback));
                used_ms += b.audio.duration_ms;
            }
        }
        let fallback = empty && !cues.is_empty();
        Items {
            cues,
            used_ms,
            empty,
            fallback,
        }
    }

    fn add_makeups(
        &self,
        cues: &mut VecDeque<Cue>,
        makeups: VecDeque<Makeup>,
        start: DateTime<Utc>,
        used_ms: &mut u64,
        cchc_ms: u64,
        slot: &SlotPlaylist,
    ) -> VecDeque<Makeup> {
        let day: NaiveDate = slot.start.date_naive();
        let mut waiting = VecDeque::new();
        for m in makeups {
            match self.library.get(&m.bulletin) {
                Some(b) if *used_ms + b.audio.duration_ms <= cchc_ms && b.meta.valid_on(day) => {
                    let mut c = self.cue(m.bulletin, after(start, *used_ms), CueSource::Makeup);
                    c.link_seq = m.link_seq;
                    cues.push_back(c);
                    *used_ms += b.audio.duration_ms;
                }
                Some(_) => waiting.push_back(m),
                None => {}
            }
        }
        waiting
    }
}

/// A slot's own content before announcements and make-ups join it.
struct Items {
    cues: VecDeque<Cue>,
    used_ms: u64,
    empty: bool,
    fallback: bool,
}

fn after(start: DateTime<Utc>, ms: u64) -> DateTime<Utc> {
    start + Duration::milliseconds(ms as i64)
}

/// An operator's or urgent cue that interrupts `current` (whose row is `seq`): it airs at
/// once, and the interrupted item airs again right after it (a make-up linked to the cut
/// row), so the slot goes on as planned. Both go to the head of `queue`.
pub fn interrupt(queue: &mut VecDeque<Cue>, mut by: Cue, current: &Cue, seq: Option<i64>) {
    by.link_seq = seq;
    let again = Cue {
        bulletin: current.bulletin,
        planned_start: by.planned_start,
        source: CueSource::Makeup,
        link_seq: seq,
        who: current.who.clone(),
        announcement: None,
    };
    queue.push_front(again);
    queue.push_front(by);
}

/// Whether an item that did not air whole is made up later: only when the rule asks for
/// it, the settings allow it, and it is not the plan's fallback (which only fills silence).
pub fn makes_up(wanted: bool, enabled: bool, source: CueSource) -> bool {
    wanted && enabled && source != CueSource::Fallback
}

#[cfg(test)]
#[path = "cues_tests.rs"]
mod tests;
