//! The player actor of one station: it plays slot instances on time, item after item with
//! no gap, takes operator commands while it plays, announces what happens as [`Event`]s
//! and keeps its [`Status`]. The daemon and `loa playout run` drive one per station; the
//! daemon's [`StationHandle`](crate::playout::control::StationHandle)s send it commands.
//!
//! It composes the engine's parts and owns none of their rules: the cue queue decides what
//! plays next ([`crate::playout::cues`]), slot timing decides when and how much
//! ([`crate::playout::timing`]), the item player decodes and writes
//! ([`crate::playout::item`]), the ledger writes the airlog ([`crate::playout::ledger`]).
//! What it plays comes through the [`Programme`](crate::playout::seams::Programme) seam
//! (via its caller) and its rows leave through the
//! [`AirlogDestination`](crate::playout::seams::AirlogDestination) seam.
//!
//! - [`slot`]: one slot instance: its queue, its slot row, its cues in order.
//! - [`air`]: one item on air: its row, its blocks, the commands that cut it short.

mod air;
mod slot;

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};

use crate::airlog::{CueSource, SlotTally};
use crate::clock::Clock;
use crate::library::audio_store::AudioStore;
use crate::library::BulletinId;
use crate::plan::{Plan, Station};
use crate::playout::alert::Alert;
use crate::playout::control::{
    Command, Control, Event, PlayerState, Status, Waited, EVENTS_BUFFER,
};
use crate::playout::cues::{Announced, Cue, Library, Makeup, Waiting};
use crate::playout::item::{ItemPlayer, Output};
use crate::playout::ledger::Ledger;
use crate::playout::seams::AirlogDestination;
use crate::playout::sink::Sink;
use crate::playout::Settings;
use crate::schedule::SlotPlaylist;

/// Why a slot did not play at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed where playout cannot go on without it (reading schedules).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How many alerts the status keeps.
const ALERTS_KEPT: usize = 50;

/// Plays one station.
pub struct StationPlayer {
    /// The station.
    station: Station,
    /// The plan (its fallback fills empty slots).
    plan: Arc<Plan>,
    /// Where rows go (also read back to resume a slot after a restart).
    destination: Arc<dyn AirlogDestination>,
    /// The only source of time.
    clock: Arc<dyn Clock>,
    /// The bulletins it may play (refreshed by the daemon before each slot).
    library: Arc<Library>,
    /// Opens and decodes items.
    items: ItemPlayer,
    /// The sink and its sample clock.
    output: Output,
    /// Writes the airlog, holding rows while the destination cannot take them.
    ledger: Ledger,
    /// How it sounds and behaves.
    settings: Settings,
    /// Items waiting to be made up, oldest first.
    makeups: VecDeque<Makeup>,
    /// Announcements waiting for the next slot instance, in the order sent (the daemon
    /// keeps them in the store too and reloads them after a restart).
    announced: Vec<Announced>,
    /// What it is doing, shared with the control API.
    status: Arc<Mutex<Status>>,
    /// Operator commands and shutdown, when run by the daemon.
    control: Option<Control>,
    /// What the slot instance being played has done so far.
    run: SlotTally,
    /// Where events go (nobody need listen).
    events: tokio::sync::broadcast::Sender<Event>,
}

impl StationPlayer {
    /// A player for `station` writing its audio to `sink` and its rows to `destination`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        station: Station,
        plan: Arc<Plan>,
        destination: Arc<dyn AirlogDestination>,
        clock: Arc<dyn Clock>,
        audio: AudioStore,
        library: Arc<Library>,
        sink: Box<dyn Sink>,
        settings: Settings,
    ) -> StationPlayer {
        // The station renders in its sink's format (a capture's may differ from the card's).
        let settings = Settings {
            format: sink.format(),
            ..settings
        };
        StationPlayer {
            ledger: Ledger::new(destination.clone()).with_journal(settings.journal.clone()),
            items: ItemPlayer::new(audio, settings.format, clock.simulated())
                .with_ceiling(settings.ceiling_dbtp),
            output: Output::new(sink, clock.clone()),
            station,
            plan,
            destination,
            clock,
            library,
            settings,
            makeups: VecDeque::new(),
            announced: Vec::new(),
            status: Arc::new(Mutex::new(Status::default())),
            control: None,
            run: SlotTally::default(),
            events: tokio::sync::broadcast::channel(EVENTS_BUFFER).0,
        }
    }

    /// The station's events, from now on.
    pub fn events(&self) -> tokio::sync::broadcast::Sender<Event> {
        self.events.clone()
    }

    /// Sends events to `sender` (the daemon gives every station one channel).
    pub fn with_events(mut self, sender: tokio::sync::broadcast::Sender<Event>) -> StationPlayer {
        self.events = sender;
        self
    }

    /// Takes operator commands and the shutdown signal from the daemon.
    pub fn with_control(mut self, control: Control) -> StationPlayer {
        self.control = Some(control);
        self
    }

    fn emit(&self, e: Event) {
        // No listener is not an error.
        let _ = self.events.send(e);
    }

    /// Writes what the airlog still holds in memory (call when the player stops).
    pub async fn finish(&mut self) {
        let now = self.clock.now();
        self.ledger.drain(now).await;
        self.flush_ledger_alerts();
    }

    fn stopping(&self) -> bool {
        let stopping = self.control.as_ref().is_some_and(|c| *c.shutdown.borrow());
        if stopping {
            self.set_state(PlayerState::Stopping);
        }
        stopping
    }

    fn set_state(&self, state: PlayerState) {
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if s.state != PlayerState::Stopping {
            s.state = state;
        }
    }

    fn with_status(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Whether the daemon that runs this player is stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping()
    }

    /// Replaces the library snapshot (the daemon refreshes it before each slot).
    pub fn set_library(&mut self, library: Arc<Library>) {
        self.library = library;
    }

    /// The station's live status, shared with the control API.
    pub fn status(&self) -> Arc<Mutex<Status>> {
        self.status.clone()
    }

    /// Items waiting to be made up.
    pub fn pending_makeups(&self) -> Vec<Makeup> {
        self.makeups.iter().cloned().collect()
    }

    /// Queues items to make up (e.g. rows closed as interrupted after a crash).
    pub fn queue_makeups(&mut self, m: impl IntoIterator<Item = Makeup>) {
        if self.settings.makeup {
            self.makeups.extend(m);
        }
    }

    /// Adds a bulletin the library snapshot does not have yet (an announcement made a moment
    /// ago); the next refresh from the store keeps it.
    fn know(&mut self, b: crate::library::Bulletin) {
        if !self.library.contains_key(&b.id) {
            Arc::make_mut(&mut self.library).insert(b.id, b);
        }
    }

    /// Keeps an announcement for the next slot instance.
    fn announce_next(&mut self, a: Announced) {
        tracing::info!(station = %self.station.code, bulletin = %a.bulletin, level = ?a.level, who = %a.who, "announcement waits for the next slot");
        self.announced.push(a);
        let n = self.announced.len();
        self.with_status(|s| s.announcements = n);
    }

    /// Queues announcements kept from before a restart, in the order sent.
    pub fn queue_announcements(&mut self, a: impl IntoIterator<Item = Announced>) {
        for a in a {
            self.announce_next(a);
        }
    }

    /// Drops a cancelled announcement that still waits.
    fn cancel_announcement(&mut self, id: i64) {
        self.announced.retain(|a| a.id != Some(id));
        let n = self.announced.len();
        self.with_status(|s| s.announcements = n);
        tracing::info!(station = %self.station.code, announcement = id, "announcement cancelled");
    }

    /// Marks the kept announcement `cue` airs, if any, as aired with its row `seq`.
    async fn settle_announcement(&mut self, cue: &Cue, seq: Option<i64>) {
        if let Some(id) = cue.announcement {
            let now = self.clock.now();
            self.destination
                .announcement_aired(id, seq, &self.settings.who, now)
                .await;
        }
    }

    /// The announcements waiting for the next slot instance, handed to it.
    fn take_announced(&mut self) -> Vec<Announced> {
        self.with_status(|s| s.announcements = 0);
        std::mem::take(&mut self.announced)
    }

    fn alert(&self, alert: Alert) {
        tracing::warn!(station = %self.station.code, "{alert}");
        // The status first: a listener that reads it on the event sees the alert.
        self.with_status(|s| {
            s.alerts.push(alert.clone());
            let n = s.alerts.len();
            if n > ALERTS_KEPT {
                s.alerts.drain(..n - ALERTS_KEPT);
            }
        });
        self.emit(Event::Alert {
            station: self.station.code.clone(),
            message: alert,
        });
    }

    fn flush_ledger_alerts(&mut self) {
        for a in self.ledger.take_alerts() {
            self.alert(a);
        }
        for a in self.output.take_alerts() {
            self.alert(a);
        }
    }

    /// Waits until `t`, playing what operators ask for meanwhile (play, urgent); returns
    /// early when the daemon stops.
    pub async fn idle_until(&mut self, t: chrono::DateTime<Utc>) -> Waited {
        loop {
            if self.stopping() {
                return Waited::Shutdown;
            }
            if self.clock.now() >= t {
                return Waited::Reached;
            }
            // While airlog rows wait for the store, wake every few seconds to retry.
            let wake = if self.ledger.held() > 0 {
                t.min(self.clock.now() + Duration::seconds(5))
            } else {
                t
            };
            if wake < t {
                let now = self.clock.now();
                self.ledger.retry(now).await;
                self.flush_ledger_alerts();
            }
            let Some(control) = self.control.as_mut() else {
                self.clock.sleep_until(wake).await;
                continue;
            };
            // Commands already sent are taken first: a simulated clock jumps to the instant
            // as soon as it is waited for, and a command sent before it must not miss it.
            let cmd = match control.commands.try_recv() {
                Ok(cmd) => Some(cmd),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => None,
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                    let wait = self.clock.sleep_until(wake);
                    tokio::select! {
                        _ = wait => continue,
                        _ = control.shutdown.changed() => continue,
                        cmd = control.commands.recv() => cmd,
                    }
                }
            };
            match cmd {
                Some(Command::Play { bulletin, who, .. }) => {
                    self.play_now(bulletin, CueSource::Manual, who).await
                }
                Some(Command::Urgent { bulletin, who }) => {
                    self.play_now(bulletin, CueSource::Urgent, who).await
                }
                Some(Command::Announce {
                    bulletin,
                    level,
                    who,
                    id: kept,
                }) => {
                    let id = bulletin.id;
                    self.know(*bulletin);
                    match Waiting::of(level) {
                        Some(level) => self.announce_next(Announced {
                            bulletin: id,
                            level,
                            who,
                            id: kept,
                        }),
                        None => self.play_now(id, CueSource::Urgent, who).await,
                    }
                }
                Some(Command::CancelAnnouncement { id }) => self.cancel_announcement(id),
                Some(Command::Skip { who } | Command::StopSlot { who }) => {
                    self.alert(Alert::NothingOnAir { who });
                }
                None => {
                    self.clock.sleep_until(t).await;
                    return Waited::Reached;
                }
            }
        }
    }

    /// Plays one operator item at once, outside any slot.
    async fn play_now(&mut self, bulletin: BulletinId, source: CueSource, who: String) {
        let Some(b) = self.library.get(&bulletin).cloned() else {
            self.alert(Alert::NotInLibrary {
                who: who.clone(),
                bulletin: bulletin.to_string(),
            });
            return;
        };
        let now = self.clock.now();
        let length_s = (b.audio.duration_ms / 1000 + 2) as u32;
        let slot = SlotPlaylist {
            name: format!("{source} ({who})"),
            start: now.with_timezone(&self.station.timezone).fixed_offset(),
            length_s,
            cchc_s: length_s,
            items: vec![],
        };
        let cue = Cue {
            bulletin,
            planned_start: now,
            source,
            link_seq: None,
            who,
            announcement: None,
        };
        // Outside any slot instance: no slot row, and nothing counted for one.
        let outer = std::mem::take(&mut self.run);
        self.set_state(PlayerState::Playing {
            slot: slot.name.clone(),
            by: Some(crate::playout::control::AskedBy {
                source,
                who: cue.who.clone(),
            }),
        });
        if let Err(e) = self
            .play_cues(&slot, VecDeque::from([cue]), BTreeSet::new())
            .await
        {
            self.alert(Alert::PlayFailed {
                bulletin: bulletin.to_string(),
                detail: e.to_string(),
            });
        }
        self.run = outer;
        self.set_state(PlayerState::Idle);
    }
}
