//! One slot instance: its queue laid out, its slot row opened before its first audio and
//! closed after its last with what the slot as a whole did, and its cues played in order.
//! A restart mid-slot plays only what the airlog does not already hold.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Duration, Utc};

use crate::airlog::{AirReason, AirStatus, CueSource, Level, Reason, Record, SlotTally};
use crate::library::Bulletin;
use crate::playout::alert::{Alert, OutputStage};
use crate::playout::control::{Event, PlayerState, Waited};
use crate::playout::cues::{makes_up, Cue, Layout, Makeup};
use crate::playout::ledger::OpenRow;
use crate::playout::timing::{self, Turn, TurnAt};
use crate::schedule::SlotPlaylist;
use crate::store::{Closing, NewRow};

use super::{RunError, StationPlayer};

/// Items of a slot instance already in the airlog: (planned start, bulletin id).
pub(super) type Done = BTreeSet<(DateTime<Utc>, String)>;

impl StationPlayer {
    /// Plays one slot instance.
    pub async fn play_slot(&mut self, slot: &SlotPlaylist) -> Result<(), RunError> {
        let start = slot.start.with_timezone(&Utc);
        let end = start + Duration::seconds(i64::from(slot.length_s));
        self.run = SlotTally::default();
        // On a sound card the slot starts early by the output's latency, so that its first
        // sample is heard at the planned instant (the sample clock still counts from `start`).
        let preroll = timing::preroll(
            self.clock.simulated(),
            self.output.realtime(),
            self.settings.output_latency,
            self.output.latency(),
        );
        // The queue is laid out when the slot is due, not when the wait for it begins: an
        // announcement sent (or cancelled) meanwhile is in (or out of) this slot instance.
        if self.idle_until(start - preroll).await == Waited::Shutdown {
            return Ok(());
        }
        let mut cues = self.lay_out(slot);
        let done = self.done_in_slot(start, end).await;
        // After a restart mid-slot only what is left plays; a slot instance that had
        // finished its items before the restart gets no second slot row.
        cues.retain(|c| !done.contains(&(c.planned_start, c.bulletin.to_string())));
        if !done.is_empty() && cues.is_empty() {
            return Ok(());
        }
        let open = self.open_slot_row(slot, done.len()).await;
        let played = self.play_cues(slot, cues, done).await;
        self.close_slot_row(slot, open).await;
        played
    }

    /// The slot's queue (its items or the fallback, then make-ups), with alerts for an
    /// empty slot.
    fn lay_out(&mut self, slot: &SlotPlaylist) -> VecDeque<Cue> {
        let announced = self.take_announced();
        let layout = Layout {
            library: &self.library,
            fallback: &self.plan.fallback,
            rate: self.settings.format.sample_rate,
            who: &self.settings.who,
        };
        let makeups = std::mem::take(&mut self.makeups);
        let laid = layout.slot_with(slot, makeups, announced);
        let when = slot.start.format("%d/%m/%Y %H:%M");
        if laid.empty {
            let (slot, at) = (slot.name.clone(), when.to_string());
            self.alert(Alert::SlotEmpty {
                slot: slot.clone(),
                at: at.clone(),
            });
            if !laid.fallback {
                self.alert(Alert::NoFallbackFits { slot, at });
            }
        }
        self.run.fallback = laid.fallback;
        self.makeups = laid.waiting;
        laid.cues
    }

    /// The slot row, durable before the slot's first audio.
    async fn open_slot_row(&mut self, slot: &SlotPlaylist, done: usize) -> OpenRow {
        let start = slot.start.with_timezone(&Utc);
        let now = self.clock.now();
        let mut reason = vec![Reason::Slot {
            name: slot.name.clone(),
        }];
        if done > 0 {
            reason.push(Reason::Resumed {
                rows: u32::try_from(done).unwrap_or(u32::MAX),
            });
        }
        let row = NewRow {
            level: Level::Slot,
            station: self.station.code.clone(),
            slot_start: start,
            bulletin_id: None,
            sha256: None,
            planned_start: start,
            actual_start: Some(now.max(start)),
            source: CueSource::Schedule,
            reason: AirReason::of(reason),
            gain_db: None,
            who: self.settings.who.clone(),
            link_seq: None,
        };
        let open = self.ledger.open(row, now).await;
        self.flush_ledger_alerts();
        self.set_state(PlayerState::Playing {
            slot: slot.name.clone(),
            by: None,
        });
        self.with_status(|s| s.next_slot = None);
        self.emit(Event::SlotStarted {
            station: self.station.code.clone(),
            slot: slot.name.clone(),
            planned: start,
            at: now.max(start),
        });
        open
    }

    /// Signs the station's chain head with the district key, if playout has one.
    async fn sign_head(&mut self) {
        if let Some(key) = self.settings.signer.clone() {
            let (destination, now) = (self.destination.clone(), self.clock.now());
            destination.sign_head(&self.station.code, &key, now).await;
        }
    }

    /// Closes the slot row with what the slot instance did.
    async fn close_slot_row(&mut self, slot: &SlotPlaylist, open: OpenRow) {
        let run = std::mem::take(&mut self.run);
        let outcome = run.outcome();
        let summary = outcome.reason.clone();
        let closing = Closing::new(outcome.status, run.last_end, run.played_ms, outcome.reason);
        self.ledger.close(open, closing, self.clock.now()).await;
        self.sign_head().await;
        self.flush_ledger_alerts();
        self.set_state(PlayerState::Idle);
        self.emit(Event::SlotEnded {
            station: self.station.code.clone(),
            slot: slot.name.clone(),
            status: outcome.status,
            played_ms: run.played_ms,
            summary,
        });
    }

    /// Airlog rows already written for this slot instance (a restart mid-slot must not
    /// play again what aired).
    async fn done_in_slot(&mut self, slot_start: DateTime<Utc>, slot_end: DateTime<Utc>) -> Done {
        let rows: Vec<Record> = self
            .destination
            .rows(&self.station.code, slot_start, slot_end)
            .await
            .unwrap_or_default();
        // Rows an earlier stop journalled that the database has not taken yet count too.
        let journalled = match &self.settings.journal {
            Some(j) => {
                crate::playout::journal::pending(j, &self.station.code, slot_start, slot_end)
            }
            None => Default::default(),
        };
        let mut done: Done = rows
            .into_iter()
            .filter(|r| !r.status.is_open() || journalled.closed.contains(&r.seq))
            .filter(|r| r.level == Level::Item.as_str())
            .filter_map(|r| {
                let t = DateTime::parse_from_rfc3339(&r.planned_start)
                    .ok()?
                    .with_timezone(&Utc);
                Some((t, r.bulletin_id.unwrap_or_default()))
            })
            .collect();
        done.extend(journalled.items);
        done
    }

    /// Plays cues in order within a slot instance (or an operator's item outside one).
    pub(super) async fn play_cues(
        &mut self,
        slot: &SlotPlaylist,
        mut cues: VecDeque<Cue>,
        done: Done,
    ) -> Result<(), RunError> {
        let start = slot.start.with_timezone(&Utc);
        let end = start + Duration::seconds(i64::from(slot.length_s));
        while let Some(cue) = cues.pop_front() {
            let next = cues.iter().map(|c| c.bulletin.to_string()).collect();
            let makeups = self.makeups.len();
            self.with_status(|s| {
                s.next = next;
                s.makeups = makeups;
            });
            if done.contains(&(cue.planned_start, cue.bulletin.to_string())) {
                continue;
            }
            let Some(b) = self.library.get(&cue.bulletin).cloned() else {
                let gone = Reason::NotInLibrary {
                    bulletin: cue.bulletin.to_string(),
                };
                self.not_played(&cue, start, AirStatus::Failed, gone, false)
                    .await;
                continue;
            };
            let now = self
                .output
                .now()
                .unwrap_or_else(|| self.clock.now().max(start));
            let turn = timing::turn(TurnAt {
                source: cue.source,
                planned_start: cue.planned_start,
                duration_ms: b.audio.duration_ms,
                now,
                flowing: self.output.flowing(),
                slot_end: end,
            });
            let stop = match turn {
                Turn::Missed => {
                    let at = cue.planned_start.with_timezone(&self.station.timezone);
                    let missed = Reason::Missed {
                        at: at.format("%H:%M:%S").to_string(),
                    };
                    self.not_played(&cue, start, AirStatus::Skipped, missed, true)
                        .await;
                    false
                }
                Turn::NoTimeLeft => {
                    self.not_played(&cue, start, AirStatus::Skipped, Reason::NoTimeLeft, true)
                        .await;
                    false
                }
                Turn::Play { join_ms, left_ms } => {
                    self.air(&cue, &b, start, now, (join_ms, left_ms), &mut cues)
                        .await
                }
            };
            if stop {
                break;
            }
        }
        if let Err(e) = self.output.end() {
            self.alert(Alert::OutputFailed {
                stage: OutputStage::SlotEnd,
                detail: e.to_string(),
            });
        }
        self.ledger.retry(self.clock.now()).await;
        self.flush_ledger_alerts();
        let makeups = self.makeups.len();
        self.with_status(|s| {
            s.on_air = None;
            s.next.clear();
            s.makeups = makeups;
        });
        Ok(())
    }

    /// The open row of a cue.
    pub(super) fn row(
        &self,
        cue: &Cue,
        slot_start: DateTime<Utc>,
        b: Option<&Bulletin>,
        start: Option<DateTime<Utc>>,
        gain: Option<f64>,
    ) -> NewRow {
        NewRow {
            level: Level::Item,
            station: self.station.code.clone(),
            slot_start,
            bulletin_id: Some(cue.bulletin.to_string()),
            sha256: b.map(|b| b.audio.sha256.clone()),
            planned_start: cue.planned_start,
            actual_start: start,
            source: cue.source,
            reason: AirReason::none(),
            gain_db: gain,
            who: cue.who.clone(),
            link_seq: cue.link_seq,
        }
    }

    /// Records a cue that does not play, and queues it for makeup when `make_up`.
    pub(super) async fn not_played(
        &mut self,
        cue: &Cue,
        slot_start: DateTime<Utc>,
        status: AirStatus,
        reason: Reason,
        make_up: bool,
    ) {
        let b = self.library.get(&cue.bulletin).cloned();
        let row = self.row(cue, slot_start, b.as_ref(), None, None);
        let now = self.clock.now();
        let closing = Closing::new(status, None, 0, reason.clone());
        let seq = self.ledger.record(row, closing, now).await;
        self.settle_announcement(cue, seq).await;
        self.run.count(status, 0);
        self.emit(Event::ItemEnded {
            station: self.station.code.clone(),
            bulletin: cue.bulletin.to_string(),
            status,
            played_ms: 0,
            reason: AirReason::one(reason.clone()),
        });
        if makes_up(make_up, self.settings.makeup, cue.source) {
            self.makeups.push_back(Makeup {
                bulletin: cue.bulletin,
                link_seq: seq,
            });
        }
    }
}
