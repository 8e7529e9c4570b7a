//! One item on air: its row opened before its first sample, its blocks written on the
//! sample clock, the operator commands that cut it short, its row closed with how it ended,
//! and a make-up queued when it did not air whole.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::airlog::{AirReason, AirStatus, CueSource, Reason, SlotCut};
use crate::library::Bulletin;
use crate::playout::alert::{Alert, OutputStage};
use crate::playout::control::{Command, Event, OnAir};
use crate::playout::cues::{self, makes_up, Cue, Makeup};
use crate::playout::gain::gain_db;
use crate::playout::item::OpenItem;
use crate::playout::ledger::OpenRow;
use crate::store::Closing;

use super::StationPlayer;

/// Why the item on air stopped early.
#[derive(Debug, Clone)]
enum Interrupt {
    /// The daemon is stopping.
    Shutdown,
    /// An operator skipped it.
    Skip(String),
    /// An operator stopped the slot.
    Stop(String),
    /// An operator's or urgent item replaces it.
    Replace(Cue, Reason),
    /// Playout stalled: the wall clock ran this many ms ahead of the audio written.
    Stall(u64),
}

/// How an item ended: its status, its reason, and whether it is made up later.
fn ending(
    interrupt: Option<&Interrupt>,
    failure: Option<Reason>,
    played_ms: u64,
    cut: bool,
    join_ms: u64,
) -> (AirStatus, AirReason, bool) {
    match (interrupt, failure) {
        (Some(Interrupt::Shutdown), _) => (
            AirStatus::Interrupted,
            Reason::StoppedWhilePlaying.into(),
            true,
        ),
        (Some(Interrupt::Skip(who)), _) => (
            AirStatus::Partial,
            Reason::SkippedBy { who: who.clone() }.into(),
            false,
        ),
        (Some(Interrupt::Stop(who)), _) => (
            AirStatus::Partial,
            Reason::SlotStoppedBy { who: who.clone() }.into(),
            false,
        ),
        // Re-queued right after the operator's item, not made up later.
        (Some(Interrupt::Replace(_, why)), _) => {
            (AirStatus::Interrupted, why.clone().into(), false)
        }
        (Some(Interrupt::Stall(ms)), _) => {
            (AirStatus::Partial, Reason::Stalled { ms: *ms }.into(), true)
        }
        (None, Some(f)) if played_ms > 0 => (AirStatus::Partial, f.into(), true),
        (None, Some(f)) => (AirStatus::Failed, f.into(), true),
        (None, None) if cut || join_ms > 0 => {
            let mut parts = Vec::new();
            if join_ms > 0 {
                parts.push(Reason::JoinedLate { at_ms: join_ms });
            }
            if cut {
                parts.push(Reason::CutAtSlotEnd);
            }
            (AirStatus::Partial, AirReason::of(parts), true)
        }
        (None, None) => (AirStatus::Aired, AirReason::none(), false),
    }
}

impl StationPlayer {
    /// Plays `cue` (bulletin `b`) from `join_ms` into it for at most `left_ms`, starting at
    /// `now`. Returns whether the slot stops here (the daemon is stopping).
    pub(super) async fn air(
        &mut self,
        cue: &Cue,
        b: &Bulletin,
        slot_start: DateTime<Utc>,
        now: DateTime<Utc>,
        (join_ms, left_ms): (u64, u64),
        cues: &mut VecDeque<Cue>,
    ) -> bool {
        let gain = gain_db(
            b.audio.loudness_lufs,
            b.audio.true_peak_dbtp,
            self.settings.target_lufs,
            self.settings.ceiling_dbtp,
        );
        let mut item = match self.items.open(b, gain, join_ms, left_ms) {
            Ok(item) => item,
            Err(e) => {
                // A missing file is as much an operator's problem as a damaged one.
                let why = Reason::from(&e);
                self.alert(Alert::Unplayable {
                    bulletin: b.id.to_string(),
                    title: b.meta.title.clone(),
                    why: why.clone(),
                });
                self.not_played(cue, slot_start, AirStatus::Failed, why, true)
                    .await;
                return false;
            }
        };
        let day = now.with_timezone(&self.station.timezone).date_naive();
        if let Err(e) = self.output.begin(&self.station.code, day, now) {
            self.alert(Alert::OutputFailed {
                stage: OutputStage::Begin,
                detail: e.to_string(),
            });
            let why = Reason::OutputFailed {
                detail: e.to_string(),
            };
            self.not_played(cue, slot_start, AirStatus::Failed, why, true)
                .await;
            return false;
        }
        let item_start = self.output.now().unwrap_or(now);
        let row = self.row(cue, slot_start, Some(b), Some(item_start), Some(gain));
        let open = self.ledger.open(row, self.clock.now()).await;
        self.flush_ledger_alerts();
        self.announce(cue, b, item_start);
        let (interrupt, failure) = self.write_item(&mut item, &open, cues).await;
        let played_ms = item.played_ms();
        let ended = self.output.now().unwrap_or(item_start);
        let (status, reason, make_up) = ending(
            interrupt.as_ref(),
            failure,
            played_ms,
            item.is_cut(),
            join_ms,
        );
        // After a stall a scheduled item whose time is not over rejoins at once, where the
        // wall clock says it should be; that airing, not this one, is made up if need be.
        let rejoin = matches!(interrupt, Some(Interrupt::Stall(_)))
            && cue.source == CueSource::Schedule
            && self.clock.now()
                < cue.planned_start + chrono::Duration::milliseconds(b.audio.duration_ms as i64);
        let make_up = make_up && !rejoin;
        let closing = Closing::new(status, Some(ended), played_ms, reason.clone());
        let seq = self.ledger.close(open, closing, self.clock.now()).await;
        self.flush_ledger_alerts();
        self.settle_announcement(cue, seq).await;
        self.emit(Event::ItemEnded {
            station: self.station.code.clone(),
            bulletin: b.id.to_string(),
            status,
            played_ms,
            reason: reason.clone(),
        });
        self.run.count(status, played_ms);
        self.run.last_end = Some(ended);
        if makes_up(make_up, self.settings.makeup, cue.source) {
            self.makeups.push_back(Makeup {
                bulletin: cue.bulletin,
                link_seq: seq,
            });
        }
        if let Some(Interrupt::Stall(ms)) = interrupt {
            self.stalled(ms, cue, b, rejoin, cues);
            return false;
        }
        self.after_interrupt(interrupt, cue, seq, slot_start, cues)
            .await
    }

    /// Shows the item on air and announces it.
    fn announce(&self, cue: &Cue, b: &Bulletin, at: DateTime<Utc>) {
        self.with_status(|s| {
            s.on_air = Some(OnAir {
                bulletin: b.id.to_string(),
                title: b.meta.title.clone(),
                started: at,
                duration_ms: b.audio.duration_ms,
                source: cue.source,
            });
        });
        self.emit(Event::ItemStarted {
            station: self.station.code.clone(),
            bulletin: b.id.to_string(),
            title: b.meta.title.clone(),
            source: cue.source,
            at,
            duration_ms: b.audio.duration_ms,
        });
    }

    /// Writes the item's blocks until it ends, fails or is interrupted; records progress
    /// every second on the wall clock.
    async fn write_item(
        &mut self,
        item: &mut OpenItem,
        open: &OpenRow,
        cues: &mut VecDeque<Cue>,
    ) -> (Option<Interrupt>, Option<Reason>) {
        let simulated = self.clock.simulated();
        let mut last_progress = 0u64;
        while !item.is_done() {
            if let Some(i) = self.poll_commands(cues) {
                return (Some(i), None);
            }
            if !simulated {
                if let Some(ms) = self.output.stalled(self.clock.now()) {
                    return (Some(Interrupt::Stall(ms)), None);
                }
            }
            let block = match item.next_block() {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(e) => return (None, Some(Reason::from(&e))),
            };
            match self.output.write(block).await {
                Ok(frames) => item.advance(frames),
                Err(e) => {
                    let detail = e.to_string();
                    return (None, Some(Reason::OutputFailed { detail }));
                }
            }
            if !simulated && item.played_ms() >= last_progress + 1000 {
                last_progress = item.played_ms();
                self.ledger
                    .progress(open, last_progress, self.clock.now())
                    .await;
            }
        }
        (None, None)
    }

    /// After a stall: an alert, the segment ended so that the sample clock starts again
    /// where the wall clock is, and the item queued again to rejoin when its time is not over
    /// (its turn then joins it late at the right place).
    fn stalled(
        &mut self,
        ms: u64,
        cue: &Cue,
        b: &Bulletin,
        rejoin: bool,
        cues: &mut VecDeque<Cue>,
    ) {
        let underrun_ms = self.output.underrun_ms();
        if let Err(e) = self.output.end() {
            self.alert(Alert::OutputFailed {
                stage: OutputStage::AfterStall,
                detail: e.to_string(),
            });
        }
        self.alert(Alert::Stalled {
            ms,
            bulletin: b.id.to_string(),
            title: b.meta.title.clone(),
            rejoin,
            underrun_ms,
        });
        if rejoin {
            cues.push_front(cue.clone());
        }
    }

    /// Takes the operator's commands that arrived while an item plays: an item to play next
    /// goes to the head of the queue; skip, stop, play now and urgent interrupt.
    fn poll_commands(&mut self, cues: &mut VecDeque<Cue>) -> Option<Interrupt> {
        let now = self.clock.now();
        if *self.control.as_ref()?.shutdown.borrow() {
            return Some(Interrupt::Shutdown);
        }
        while let Ok(cmd) = self.control.as_mut()?.commands.try_recv() {
            let cue = |bulletin, source, who: &String| Cue {
                bulletin,
                planned_start: now,
                source,
                link_seq: None,
                who: who.clone(),
                announcement: None,
            };
            match cmd {
                Command::Skip { who } => return Some(Interrupt::Skip(who)),
                Command::StopSlot { who } => return Some(Interrupt::Stop(who)),
                Command::Play {
                    bulletin,
                    now: false,
                    who,
                } => cues.push_front(cue(bulletin, CueSource::Manual, &who)),
                Command::Play {
                    bulletin,
                    now: true,
                    who,
                } => {
                    let c = cue(bulletin, CueSource::Manual, &who);
                    let why = Reason::InterruptedBy {
                        who,
                        bulletin: bulletin.to_string(),
                    };
                    return Some(Interrupt::Replace(c, why));
                }
                Command::Announce {
                    bulletin,
                    level,
                    who,
                    id: kept,
                } => {
                    let id = bulletin.id;
                    self.know(*bulletin);
                    let Some(level) = cues::Waiting::of(level) else {
                        let c = cue(id, CueSource::Urgent, &who);
                        let why = Reason::InterruptedByUrgent {
                            who,
                            bulletin: id.to_string(),
                        };
                        return Some(Interrupt::Replace(c, why));
                    };
                    self.announce_next(cues::Announced {
                        bulletin: id,
                        level,
                        who,
                        id: kept,
                    });
                }
                Command::CancelAnnouncement { id } => self.cancel_announcement(id),
                Command::Urgent { bulletin, who } => {
                    let c = cue(bulletin, CueSource::Urgent, &who);
                    let why = Reason::InterruptedByUrgent {
                        who,
                        bulletin: bulletin.to_string(),
                    };
                    return Some(Interrupt::Replace(c, why));
                }
            }
        }
        None
    }

    /// What follows an interrupted item: the slot stops (shutdown), its rest is logged
    /// skipped (stop), or the operator's item plays next (play now, urgent). Returns whether
    /// the slot stops here.
    async fn after_interrupt(
        &mut self,
        interrupt: Option<Interrupt>,
        cue: &Cue,
        seq: Option<i64>,
        slot_start: DateTime<Utc>,
        cues: &mut VecDeque<Cue>,
    ) -> bool {
        match interrupt {
            Some(Interrupt::Shutdown) => {
                self.run.cut = Some(SlotCut::Stopped);
                return true;
            }
            Some(Interrupt::Stop(who)) => {
                self.run.stopped_by = Some(who.clone());
                while let Some(rest) = cues.pop_front() {
                    let why = Reason::SlotStoppedBy { who: who.clone() };
                    self.not_played(&rest, slot_start, AirStatus::Skipped, why, false)
                        .await;
                }
            }
            Some(Interrupt::Replace(by, _)) => cues::interrupt(cues, by, cue, seq),
            Some(Interrupt::Skip(_) | Interrupt::Stall(_)) | None => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_joined_late_and_cut_says_both() {
        let (status, reason, make_up) = ending(None, None, 5_000, true, 12_000);
        assert_eq!(status, AirStatus::Partial);
        assert_eq!(
            reason.en(),
            "joined late at 0:12.000; cut at the end of the slot"
        );
        assert!(make_up);
        assert_eq!(ending(None, None, 60_000, false, 0).0, AirStatus::Aired);
    }

    #[test]
    fn a_failure_part_way_is_partial_and_before_any_audio_failed() {
        let f = || Some(Reason::OutputFailed { detail: "x".into() });
        assert_eq!(ending(None, f(), 100, false, 0).0, AirStatus::Partial);
        assert_eq!(ending(None, f(), 0, false, 0).0, AirStatus::Failed);
    }

    #[test]
    fn operator_interrupts_are_not_made_up_and_a_shutdown_is() {
        let skip = Interrupt::Skip("Chị Lan".into());
        assert_eq!(
            ending(Some(&skip), None, 100, false, 0),
            (
                AirStatus::Partial,
                Reason::SkippedBy {
                    who: "Chị Lan".into()
                }
                .into(),
                false
            )
        );
        let (status, _, make_up) = ending(Some(&Interrupt::Shutdown), None, 100, false, 0);
        assert_eq!((status, make_up), (AirStatus::Interrupted, true));
    }
}
