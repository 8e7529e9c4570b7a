//! The runner: plays one station's slot instances on time, item after item with no gap,
//! and writes the airlog as it goes. The same code renders a date range on a simulated
//! clock (as fast as the machine can) and plays in real time for the daemon.
//!
//! The time of every frame is the segment's start plus frames written / sample rate (the
//! sample clock), so logged instants are exact on a simulated clock and on a capture.
//! On a non-realtime sink with the wall clock (capture while no sound card), writes are
//! paced to the clock so that the airlog and the audio happen when they say.
//!
//! Rules kept here: a row is opened before its audio starts; a slot never runs past its
//! end (an item that does not fit is cut and logged `partial`, or not started); a missing
//! or undecodable file is logged `failed` and the next item plays at once; what failed,
//! was cut or missed is made up in the next slot with room (source `makeup`, linked to the
//! miss); an empty slot plays the plan's fallback and raises an alert. Each slot instance
//! gets a slot-level row too, opened before its first item and closed after its last with
//! what the slot as a whole did.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::airlog::{AirReason, AirStatus, CueSource, Level, Reason, Record, SlotCut, SlotTally};
use crate::clock::Clock;
use crate::lang::Render;
use crate::library::audio_store::AudioStore;
use crate::library::{Bulletin, BulletinId};
use crate::plan::{Plan, Station};
use crate::playout::gain::gain_db;
use crate::playout::ledger::Ledger;
use crate::playout::sink::Sink;
use crate::playout::source::ItemSource;
use crate::playout::OutputFormat;
use crate::schedule::SlotPlaylist;
use crate::store::{Closing, NewRow, Store};

/// How playout sounds and behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The sink's format.
    pub format: OutputFormat,
    /// Loudness target, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub ceiling_dbtp: f64,
    /// Make up failed, cut or missed items in the next slot with room.
    pub makeup: bool,
    /// How long a sound card takes to put a sample on air (None: what the sink says).
    pub output_latency: Option<std::time::Duration>,
    /// Who the daemon is in the airlog.
    pub who: String,
    /// Where rows the store would not take are kept at a stop (none: the log only).
    pub journal: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            format: OutputFormat::default(),
            target_lufs: crate::playout::gain::DEFAULT_TARGET_LUFS,
            ceiling_dbtp: crate::playout::gain::DEFAULT_CEILING_DBTP,
            makeup: true,
            output_latency: None,
            who: "loa".into(),
            journal: None,
        }
    }
}

/// One thing to play.
#[derive(Debug, Clone)]
struct Cue {
    bulletin: BulletinId,
    planned_start: DateTime<Utc>,
    source: CueSource,
    link_seq: Option<i64>,
    who: String,
}

/// An operator's command to a station's player (from the control API).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// End the item on air and go on with the next.
    Skip {
        /// Operator.
        who: String,
    },
    /// End the slot: the item on air stops, the rest is not played.
    StopSlot {
        /// Operator.
        who: String,
    },
    /// Play a bulletin now (interrupting what plays) or next.
    Play {
        /// The bulletin.
        bulletin: BulletinId,
        /// Now, or after the item on air.
        now: bool,
        /// Operator.
        who: String,
    },
    /// An urgent announcement: interrupts whatever plays at once, then playout goes on.
    Urgent {
        /// The bulletin.
        bulletin: BulletinId,
        /// Operator.
        who: String,
    },
}

/// The player's link to the daemon: operator commands and the shutdown signal.
pub struct Control {
    /// Operator commands.
    pub commands: tokio::sync::mpsc::Receiver<Command>,
    /// Becomes `true` when the daemon stops.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// Why the item on air stopped early.
#[derive(Debug, Clone)]
enum Interrupt {
    Shutdown,
    Skip(String),
    Stop(String),
    Replace(Cue, Reason),
}

/// How waiting for a slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The instant came.
    Reached,
    /// The daemon is stopping.
    Shutdown,
}

/// An item to make up.
#[derive(Debug, Clone, PartialEq)]
pub struct Makeup {
    /// The bulletin.
    pub bulletin: BulletinId,
    /// The row of the miss.
    pub link_seq: Option<i64>,
}

/// What a station's player announces as it happens, to whoever listens (the control API's
/// event stream, `loa ctl events`). Sent after the airlog has the row it speaks of.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A slot instance began (its slot row is open).
    SlotStarted {
        /// Station code.
        station: String,
        /// Slot name.
        slot: String,
        /// Planned start.
        planned: DateTime<Utc>,
        /// When it really began.
        at: DateTime<Utc>,
    },
    /// An item went on air (its row is open).
    ItemStarted {
        /// Station code.
        station: String,
        /// Bulletin id.
        bulletin: String,
        /// Its title.
        title: String,
        /// Why it was cued.
        source: CueSource,
        /// When it started, on the sample clock.
        at: DateTime<Utc>,
    },
    /// An item ended or did not play (its row is closed).
    ItemEnded {
        /// Station code.
        station: String,
        /// Bulletin id.
        bulletin: String,
        /// How it ended.
        status: AirStatus,
        /// How much played, ms.
        played_ms: u64,
        /// Why, when it did not air cleanly (English; the airlog row has it structured).
        reason: String,
    },
    /// A slot instance ended (its slot row is closed).
    SlotEnded {
        /// Station code.
        station: String,
        /// Slot name.
        slot: String,
        /// How the slot instance went.
        status: AirStatus,
        /// Audio time carried, ms.
        played_ms: u64,
        /// What the slot did.
        summary: String,
    },
    /// Something an operator should know.
    Alert {
        /// Station code.
        station: String,
        /// The alert.
        message: String,
    },
}

/// How many events wait for a slow listener before it misses the oldest.
const EVENTS_BUFFER: usize = 256;

/// Where a station's player is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayerState {
    /// Between slots, waiting for the next (operator items may still play).
    #[default]
    Idle,
    /// Playing a slot instance, or an operator's item outside any slot.
    Playing {
        /// The slot's name, or what the operator asked for.
        slot: String,
    },
    /// The daemon is stopping; nothing more starts.
    Stopping,
}

/// What the station is doing, for status displays.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    /// Where the player is.
    pub state: PlayerState,
    /// The item on air.
    pub on_air: Option<OnAir>,
    /// Items still to come in this slot.
    pub next: Vec<String>,
    /// Recent alerts, newest last.
    pub alerts: Vec<String>,
    /// Items waiting to be made up.
    pub makeups: usize,
    /// The slot instance the station waits for (set by the daemon while it waits; none
    /// while a slot plays, or when none is within the days built ahead).
    pub next_slot: Option<NextSlot>,
}

/// A slot instance still to come.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NextSlot {
    /// The slot's name.
    pub name: String,
    /// When it starts, in station-local time (RFC 3339 with the station's offset).
    pub start: chrono::DateTime<chrono::FixedOffset>,
}

/// The item on air.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnAir {
    /// Bulletin id.
    pub bulletin: String,
    /// Its title.
    pub title: String,
    /// When it started.
    pub started: DateTime<Utc>,
    /// Why it was cued.
    pub source: CueSource,
}

/// Frames per block written to the sink (100 ms at 48 kHz).
const BLOCK_MS: u64 = 100;
/// How late a start may be and still play the item from its beginning.
const JOIN_TOLERANCE_MS: u64 = 1_000;
/// Shortest cut item worth starting: less would only be a fragment.
const MIN_PARTIAL_MS: u64 = 3_000;
/// Fade applied at a cut, so it does not click.
const CUT_FADE_MS: u64 = 30;
/// The most a slot is started early to make up for the sound card's latency.
const MAX_PREROLL: std::time::Duration = std::time::Duration::from_secs(2);
/// Items decoded whole and kept for reuse on a simulated render, at most this long.
const CACHE_MAX_MS: u64 = 120_000;

/// Plays one station.
pub struct StationPlayer {
    station: Station,
    plan: Arc<Plan>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audio: AudioStore,
    library: Arc<HashMap<BulletinId, Bulletin>>,
    sink: Box<dyn Sink>,
    ledger: Ledger,
    settings: Settings,
    makeups: VecDeque<Makeup>,
    /// Decoded items (simulated renders only).
    cache: HashMap<BulletinId, Arc<Vec<f32>>>,
    status: Arc<Mutex<Status>>,
    /// Operator commands and shutdown, when run by the daemon.
    control: Option<Control>,
    /// What the slot instance being played has done so far.
    run: SlotTally,
    /// Where events go (nobody need listen).
    events: tokio::sync::broadcast::Sender<Event>,
}

/// Why a slot did not play at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed where playout cannot go on without it (reading schedules).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn closing(
    status: AirStatus,
    end: Option<DateTime<Utc>>,
    played_ms: u64,
    reason: impl Into<AirReason>,
) -> Closing {
    Closing::new(status, end, played_ms, reason)
}

impl StationPlayer {
    /// A player for `station` writing to `sink`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        station: Station,
        plan: Arc<Plan>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        audio: AudioStore,
        library: Arc<HashMap<BulletinId, Bulletin>>,
        sink: Box<dyn Sink>,
        settings: Settings,
    ) -> StationPlayer {
        StationPlayer {
            ledger: Ledger::new(store.clone()).with_journal(settings.journal.clone()),
            station,
            plan,
            store,
            clock,
            audio,
            library,
            sink,
            settings,
            makeups: VecDeque::new(),
            cache: HashMap::new(),
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

    /// Takes operator commands and the shutdown signal from the daemon.
    pub fn with_control(mut self, control: Control) -> StationPlayer {
        self.control = Some(control);
        self
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

    /// Whether the daemon that runs this player is stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping()
    }

    /// Replaces the library snapshot (the daemon refreshes it before each slot).
    pub fn set_library(&mut self, library: Arc<HashMap<BulletinId, Bulletin>>) {
        self.library = library;
    }

    /// A cue for an operator's bulletin, starting now.
    fn operator_cue(
        &self,
        bulletin: BulletinId,
        source: CueSource,
        who: String,
        link_seq: Option<i64>,
    ) -> Cue {
        Cue {
            bulletin,
            planned_start: self.clock.now(),
            source,
            link_seq,
            who,
        }
    }

    /// Waits until `t`, playing what operators ask for meanwhile (play, urgent); returns
    /// early when the daemon stops.
    pub async fn idle_until(&mut self, t: DateTime<Utc>) -> Waited {
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
            let wait = self.clock.sleep_until(wake);
            let cmd = tokio::select! {
                _ = wait => continue,
                _ = control.shutdown.changed() => continue,
                cmd = control.commands.recv() => cmd,
            };
            match cmd {
                Some(Command::Play { bulletin, who, .. }) => {
                    self.play_now(bulletin, CueSource::Manual, who).await
                }
                Some(Command::Urgent { bulletin, who }) => {
                    self.play_now(bulletin, CueSource::Urgent, who).await
                }
                Some(Command::Skip { who } | Command::StopSlot { who }) => {
                    self.alert(format!(
                        "{who} asked to skip or stop, but nothing is on air"
                    ));
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
            self.alert(format!(
                "{who} asked for bulletin {bulletin}, which is not in the library"
            ));
            return;
        };
        let now = self.clock.now();
        let slot = SlotPlaylist {
            name: format!("{source} ({who})"),
            start: now.with_timezone(&self.station.timezone).fixed_offset(),
            length_s: (b.audio.duration_ms / 1000 + 2) as u32,
            cchc_s: (b.audio.duration_ms / 1000 + 2) as u32,
            items: vec![],
        };
        let cue = self.operator_cue(bulletin, source, who, None);
        // Outside any slot instance: no slot row, and nothing counted for one.
        let outer = std::mem::take(&mut self.run);
        self.set_state(PlayerState::Playing {
            slot: slot.name.clone(),
        });
        if let Err(e) = self
            .play_cues(&slot, VecDeque::from([cue]), BTreeSet::new())
            .await
        {
            self.alert(format!("playing {bulletin} failed: {e}"));
        }
        self.run = outer;
        self.set_state(PlayerState::Idle);
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

    fn alert(&self, msg: String) {
        tracing::warn!(station = %self.station.code, "{msg}");
        self.emit(Event::Alert {
            station: self.station.code.clone(),
            message: msg.clone(),
        });
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        s.alerts.push(msg);
        let n = s.alerts.len();
        if n > 50 {
            s.alerts.drain(..n - 50);
        }
    }

    fn flush_ledger_alerts(&mut self) {
        for a in self.ledger.take_alerts() {
            self.alert(a);
        }
    }

    fn row(
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
    async fn not_played(
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
        let seq = self
            .ledger
            .record(row, closing(status, None, 0, reason.clone()), now)
            .await;
        self.run.count(status, 0);
        self.emit(Event::ItemEnded {
            station: self.station.code.clone(),
            bulletin: cue.bulletin.to_string(),
            status,
            played_ms: 0,
            reason: reason.render(crate::lang::Lang::En),
        });
        if make_up && self.settings.makeup && cue.source != CueSource::Fallback {
            self.makeups.push_back(Makeup {
                bulletin: cue.bulletin,
                link_seq: seq,
            });
        }
    }

    /// Samples of a whole item, decoded once per render (simulated clocks only).
    fn cached(
        &mut self,
        b: &Bulletin,
        gain: f64,
    ) -> Result<Arc<Vec<f32>>, crate::playout::PlayError> {
        if let Some(c) = self.cache.get(&b.id) {
            return Ok(c.clone());
        }
        let mut src = self.open_source(b, gain)?;
        let total = src.total_frames() as usize * usize::from(self.settings.format.channels);
        let mut all = vec![0f32; total];
        let mut at = 0;
        while at < total {
            let n = src.read(&mut all[at..])?;
            if n == 0 {
                break;
            }
            at += n;
        }
        all.truncate(at);
        let all = Arc::new(all);
        self.cache.insert(b.id, all.clone());
        Ok(all)
    }

    fn open_source(
        &self,
        b: &Bulletin,
        gain: f64,
    ) -> Result<ItemSource, crate::playout::PlayError> {
        let path = self.audio.path_of(&b.audio_path);
        ItemSource::open_known_length(
            &path,
            Some(&b.audio.sha256),
            b.audio.frames,
            self.settings.format,
            gain,
        )
    }

    /// Airlog rows already written for this slot instance (a restart mid-slot must not
    /// play again what aired).
    async fn done_in_slot(
        &mut self,
        slot_start: DateTime<Utc>,
        slot_end: DateTime<Utc>,
    ) -> BTreeSet<(DateTime<Utc>, String)> {
        let rows: Vec<Record> = self
            .store
            .airlog(Some(&self.station.code), Some(slot_start), Some(slot_end))
            .await
            .unwrap_or_default();
        rows.into_iter()
            .filter(|r| !r.status.is_open() && r.level == Level::Item.as_str())
            .filter_map(|r| {
                let t = DateTime::parse_from_rfc3339(&r.planned_start)
                    .ok()?
                    .with_timezone(&Utc);
                Some((t, r.bulletin_id.unwrap_or_default()))
            })
            .collect()
    }

    /// Plays one slot instance.
    pub async fn play_slot(&mut self, slot: &SlotPlaylist) -> Result<(), RunError> {
        let start = slot.start.with_timezone(&Utc);
        let end = start + Duration::seconds(i64::from(slot.length_s));
        let cchc_ms = u64::from(slot.cchc_s) * 1000;
        // Planned instants on the sample clock: each item starts where the one before ends,
        // to the frame (the schedule's offsets are the same rounded to milliseconds).
        let rate = u64::from(self.settings.format.sample_rate);
        let mut frames_before = 0u64;
        let at_frame =
            |f: u64| start + Duration::microseconds((f as i128 * 1_000_000 / rate as i128) as i64);
        self.run = SlotTally::default();
        let mut cues: VecDeque<Cue> = VecDeque::new();
        for i in &slot.items {
            cues.push_back(Cue {
                bulletin: i.bulletin_id,
                planned_start: at_frame(frames_before),
                source: CueSource::Schedule,
                link_seq: None,
                who: self.settings.who.clone(),
            });
            frames_before += match self.library.get(&i.bulletin_id) {
                Some(b) => crate::playout::source::output_length(
                    b.audio.frames,
                    b.audio.sample_rate,
                    self.settings.format.sample_rate,
                ),
                None => i.duration_ms * rate / 1000,
            };
        }
        let mut used_ms: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
        if cues.is_empty() {
            self.alert(format!(
                "slot {} at {} has no content; playing the plan's fallback",
                slot.name,
                slot.start.format("%d/%m/%Y %H:%M")
            ));
            for id in &self.plan.fallback {
                let Some(b) = self.library.get(id) else {
                    continue;
                };
                if used_ms + b.audio.duration_ms > cchc_ms {
                    break;
                }
                cues.push_back(Cue {
                    bulletin: *id,
                    planned_start: start + Duration::milliseconds(used_ms as i64),
                    source: CueSource::Fallback,
                    link_seq: None,
                    who: self.settings.who.clone(),
                });
                used_ms += b.audio.duration_ms;
                self.run.fallback = true;
            }
            if cues.is_empty() {
                self.alert(format!(
                    "slot {} at {}: no fallback fits; the slot stays silent",
                    slot.name,
                    slot.start.format("%d/%m/%Y %H:%M")
                ));
            }
        }
        // Makeups go after the scheduled items, inside the CCHC time.
        let mut waiting = VecDeque::new();
        while let Some(m) = self.makeups.pop_front() {
            match self.library.get(&m.bulletin) {
                Some(b)
                    if used_ms + b.audio.duration_ms <= cchc_ms
                        && b.meta.valid_on(slot.start.date_naive()) =>
                {
                    cues.push_back(Cue {
                        bulletin: m.bulletin,
                        planned_start: start + Duration::milliseconds(used_ms as i64),
                        source: CueSource::Makeup,
                        link_seq: m.link_seq,
                        who: self.settings.who.clone(),
                    });
                    used_ms += b.audio.duration_ms;
                }
                Some(_) => waiting.push_back(m),
                None => {}
            }
        }
        self.makeups = waiting;
        let done = self.done_in_slot(start, end).await;
        // After a restart mid-slot only what is left plays; a slot instance that had
        // finished its items before the restart gets no second slot row.
        cues.retain(|c| !done.contains(&(c.planned_start, c.bulletin.to_string())));
        if !done.is_empty() && cues.is_empty() {
            return Ok(());
        }
        // On a sound card the slot starts early by the output's latency, so that its first
        // sample is heard at the planned instant (the sample clock still counts from `start`).
        let preroll = if self.clock.simulated() || !self.sink.realtime() {
            std::time::Duration::ZERO
        } else {
            self.settings
                .output_latency
                .unwrap_or_else(|| self.sink.latency())
                .min(MAX_PREROLL)
        };
        let preroll = Duration::from_std(preroll).unwrap_or_else(|_| Duration::zero());
        if self.idle_until(start - preroll).await == Waited::Shutdown {
            return Ok(());
        }
        // The slot row, durable before the slot's first audio.
        let now = self.clock.now();
        let mut reason = vec![Reason::Slot {
            name: slot.name.clone(),
        }];
        if !done.is_empty() {
            reason.push(Reason::Resumed {
                rows: u32::try_from(done.len()).unwrap_or(u32::MAX),
            });
        }
        let reason = AirReason::of(reason);
        let open = self
            .ledger
            .open(
                NewRow {
                    level: Level::Slot,
                    station: self.station.code.clone(),
                    slot_start: start,
                    bulletin_id: None,
                    sha256: None,
                    planned_start: start,
                    actual_start: Some(now.max(start)),
                    source: CueSource::Schedule,
                    reason,
                    gain_db: None,
                    who: self.settings.who.clone(),
                    link_seq: None,
                },
                now,
            )
            .await;
        self.flush_ledger_alerts();
        self.set_state(PlayerState::Playing {
            slot: slot.name.clone(),
        });
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_slot = None;
        self.emit(Event::SlotStarted {
            station: self.station.code.clone(),
            slot: slot.name.clone(),
            planned: start,
            at: now.max(start),
        });
        let played = self.play_cues(slot, cues, done).await;
        let run = std::mem::take(&mut self.run);
        let outcome = run.outcome();
        let status = outcome.status;
        let what = outcome.reason.render(crate::lang::Lang::En);
        self.ledger
            .close(
                open,
                closing(status, run.last_end, run.played_ms, outcome.reason),
                self.clock.now(),
            )
            .await;
        self.flush_ledger_alerts();
        self.set_state(PlayerState::Idle);
        self.emit(Event::SlotEnded {
            station: self.station.code.clone(),
            slot: slot.name.clone(),
            status,
            played_ms: run.played_ms,
            summary: what,
        });
        played
    }

    /// Plays cues in order within a slot instance (the loop of [`StationPlayer::play_slot`]).
    async fn play_cues(
        &mut self,
        slot: &SlotPlaylist,
        mut cues: VecDeque<Cue>,
        done: BTreeSet<(DateTime<Utc>, String)>,
    ) -> Result<(), RunError> {
        let start = slot.start.with_timezone(&Utc);
        let end = start + Duration::seconds(i64::from(slot.length_s));
        let rate = u64::from(self.settings.format.sample_rate);
        let fmt = self.settings.format;
        let ch = usize::from(fmt.channels);
        let frames_to = |ms: u64| ms * rate / 1000;
        // The sample clock: when the next frame written airs.
        let mut segment: Option<(DateTime<Utc>, u64)> = None;
        let frame_time = |seg: (DateTime<Utc>, u64)| {
            seg.0 + Duration::microseconds((seg.1 as i128 * 1_000_000 / rate as i128) as i64)
        };
        while let Some(cue) = cues.pop_front() {
            {
                let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
                s.next = cues.iter().map(|c| c.bulletin.to_string()).collect();
                s.makeups = self.makeups.len();
            }
            if done.contains(&(cue.planned_start, cue.bulletin.to_string())) {
                continue;
            }
            let Some(b) = self.library.get(&cue.bulletin).cloned() else {
                self.not_played(
                    &cue,
                    start,
                    AirStatus::Failed,
                    Reason::NotInLibrary {
                        bulletin: cue.bulletin.to_string(),
                    },
                    false,
                )
                .await;
                continue;
            };
            let now = segment
                .map(frame_time)
                .unwrap_or_else(|| self.clock.now().max(start));
            let planned_end =
                cue.planned_start + Duration::milliseconds(b.audio.duration_ms as i64);
            if cue.source == CueSource::Schedule && segment.is_none() && now >= planned_end {
                let reason = Reason::Missed {
                    at: cue
                        .planned_start
                        .with_timezone(&self.station.timezone)
                        .format("%H:%M:%S")
                        .to_string(),
                };
                self.not_played(&cue, start, AirStatus::Skipped, reason, true)
                    .await;
                continue;
            }
            // Joining late: the item that should be on air plays from where it should be.
            // A start a little late (the wall clock woke us a few ms after the slot) plays the
            // item whole; only a real late join (a restart, a stepped clock) starts part-way.
            let late_ms = (now - cue.planned_start).num_milliseconds().max(0) as u64;
            let join_ms = if cue.source == CueSource::Schedule
                && segment.is_none()
                && late_ms > JOIN_TOLERANCE_MS
            {
                late_ms
            } else {
                0
            };
            let left_ms = (end - now).num_milliseconds().max(0) as u64;
            let wants_ms = b.audio.duration_ms.saturating_sub(join_ms);
            if left_ms < wants_ms && left_ms < MIN_PARTIAL_MS.min(wants_ms) {
                self.not_played(&cue, start, AirStatus::Skipped, Reason::NoTimeLeft, true)
                    .await;
                continue;
            }
            let gain = gain_db(
                b.audio.loudness_lufs,
                b.audio.true_peak_dbtp,
                self.settings.target_lufs,
                self.settings.ceiling_dbtp,
            );
            let simulated = self.clock.simulated();
            let mut streaming = None;
            let mut whole = None;
            let opened = if simulated && b.audio.duration_ms <= CACHE_MAX_MS {
                self.cached(&b, gain).map(|c| whole = Some(c))
            } else {
                self.open_source(&b, gain).map(|s| streaming = Some(s))
            };
            if let Err(e) = opened {
                self.not_played(&cue, start, AirStatus::Failed, Reason::from(&e), true)
                    .await;
                continue;
            }
            let mut pos = frames_to(join_ms);
            if let Some(s) = streaming.as_mut() {
                if let Err(e) = s.skip(pos) {
                    self.not_played(&cue, start, AirStatus::Failed, Reason::from(&e), true)
                        .await;
                    continue;
                }
            }
            let total = whole.as_ref().map_or_else(
                || streaming.as_ref().map_or(0, |s| s.total_frames()),
                |w| (w.len() / ch) as u64,
            );
            let limit = (pos + frames_to(left_ms)).min(total);
            if segment.is_none() {
                if let Err(e) = self.sink.begin(
                    &self.station.code,
                    now.with_timezone(&self.station.timezone).date_naive(),
                    now,
                ) {
                    self.alert(format!("audio output failed: {e}"));
                    self.not_played(
                        &cue,
                        start,
                        AirStatus::Failed,
                        Reason::OutputFailed {
                            detail: e.to_string(),
                        },
                        true,
                    )
                    .await;
                    continue;
                }
                segment = Some((now, 0));
            }
            let item_start = segment.map(frame_time).unwrap_or(now);
            let open = self
                .ledger
                .open(
                    self.row(&cue, start, Some(&b), Some(item_start), Some(gain)),
                    self.clock.now(),
                )
                .await;
            self.flush_ledger_alerts();
            {
                let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
                s.on_air = Some(OnAir {
                    bulletin: b.id.to_string(),
                    title: b.meta.title.clone(),
                    started: item_start,
                    source: cue.source,
                });
            }
            self.emit(Event::ItemStarted {
                station: self.station.code.clone(),
                bulletin: b.id.to_string(),
                title: b.meta.title.clone(),
                source: cue.source,
                at: item_start,
            });
            let first = pos;
            let mut buf = vec![0f32; frames_to(BLOCK_MS) as usize * ch];
            let mut failure: Option<Reason> = None;
            let mut last_progress = 0u64;
            let mut interrupt: Option<Interrupt> = None;
            while pos < limit {
                if let Some(c) = self.control.as_mut() {
                    if *c.shutdown.borrow() {
                        interrupt = Some(Interrupt::Shutdown);
                    }
                    while interrupt.is_none() {
                        let Ok(cmd) = c.commands.try_recv() else {
                            break;
                        };
                        match cmd {
                            Command::Skip { who } => interrupt = Some(Interrupt::Skip(who)),
                            Command::StopSlot { who } => interrupt = Some(Interrupt::Stop(who)),
                            Command::Play {
                                bulletin,
                                now: false,
                                who,
                            } => {
                                let at = self.clock.now();
                                cues.push_front(Cue {
                                    bulletin,
                                    planned_start: at,
                                    source: CueSource::Manual,
                                    link_seq: None,
                                    who,
                                });
                            }
                            Command::Play {
                                bulletin,
                                now: true,
                                who,
                            } => {
                                let c = Cue {
                                    bulletin,
                                    planned_start: self.clock.now(),
                                    source: CueSource::Manual,
                                    link_seq: None,
                                    who: who.clone(),
                                };
                                interrupt = Some(Interrupt::Replace(
                                    c,
                                    Reason::InterruptedBy {
                                        who,
                                        bulletin: bulletin.to_string(),
                                    },
                                ));
                            }
                            Command::Urgent { bulletin, who } => {
                                let c = Cue {
                                    bulletin,
                                    planned_start: self.clock.now(),
                                    source: CueSource::Urgent,
                                    link_seq: None,
                                    who: who.clone(),
                                };
                                interrupt = Some(Interrupt::Replace(
                                    c,
                                    Reason::InterruptedByUrgent {
                                        who,
                                        bulletin: bulletin.to_string(),
                                    },
                                ));
                            }
                        }
                    }
                    if interrupt.is_some() {
                        break;
                    }
                }
                let n_frames = (limit - pos).min(frames_to(BLOCK_MS)) as usize;
                let block: &[f32] = if let Some(w) = whole.as_ref() {
                    &w[pos as usize * ch..(pos as usize + n_frames) * ch]
                } else {
                    let want = &mut buf[..n_frames * ch];
                    match streaming.as_mut().map(|s| s.read(want)) {
                        Some(Ok(0)) | None => break,
                        Some(Ok(n)) => &buf[..n],
                        Some(Err(e)) => {
                            failure = Some(Reason::from(&e));
                            break;
                        }
                    }
                };
                let frames = (block.len() / ch) as u64;
                let mut faded;
                let block = if pos + frames >= limit && limit < total {
                    // A cut: fade the last few milliseconds out.
                    faded = block.to_vec();
                    let fade = frames_to(CUT_FADE_MS).min(frames).max(1) as usize;
                    let n = faded.len() / ch;
                    for f in 0..fade {
                        let g = f as f32 / fade as f32;
                        for c in 0..ch {
                            faded[(n - 1 - f) * ch + c] *= g;
                        }
                    }
                    &faded[..]
                } else {
                    block
                };
                let seg = segment.expect("begun above");
                if !simulated && !self.sink.realtime() {
                    // Capture on the wall clock: write when the audio is due.
                    self.clock.sleep_until(frame_time(seg)).await;
                }
                if let Err(e) = self.sink.write(block) {
                    failure = Some(Reason::OutputFailed {
                        detail: e.to_string(),
                    });
                    break;
                }
                pos += frames;
                segment = Some((seg.0, seg.1 + frames));
                if simulated {
                    self.clock
                        .sleep_until(frame_time(segment.expect("set")))
                        .await;
                } else if (pos - first) * 1000 / rate >= last_progress + 1000 {
                    last_progress = (pos - first) * 1000 / rate;
                    self.ledger
                        .progress(&open, last_progress, self.clock.now())
                        .await;
                }
            }
            let played_ms = (pos - first) * 1000 / rate;
            let ended = segment.map(frame_time).unwrap_or(item_start);
            let (status, reason, make_up): (AirStatus, AirReason, bool) =
                match (&interrupt, failure) {
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
                    // Re-queued right after the operator's item (below), not made up later.
                    (Some(Interrupt::Replace(_, why)), _) => {
                        (AirStatus::Interrupted, why.clone().into(), false)
                    }
                    (None, Some(f)) => (
                        if played_ms > 0 {
                            AirStatus::Partial
                        } else {
                            AirStatus::Failed
                        },
                        f.into(),
                        true,
                    ),
                    (None, None) if pos < total => {
                        let mut parts = Vec::new();
                        if join_ms > 0 {
                            parts.push(Reason::JoinedLate { at_ms: join_ms });
                        }
                        parts.push(Reason::CutAtSlotEnd);
                        (AirStatus::Partial, AirReason::of(parts), true)
                    }
                    (None, None) if join_ms > 0 => (
                        AirStatus::Partial,
                        Reason::JoinedLate { at_ms: join_ms }.into(),
                        true,
                    ),
                    (None, None) => (AirStatus::Aired, AirReason::none(), false),
                };
            let seq = self
                .ledger
                .close(
                    open,
                    closing(status, Some(ended), played_ms, reason.clone()),
                    self.clock.now(),
                )
                .await;
            self.flush_ledger_alerts();
            self.emit(Event::ItemEnded {
                station: self.station.code.clone(),
                bulletin: b.id.to_string(),
                status,
                played_ms,
                reason: reason.render(crate::lang::Lang::En),
            });
            self.run.count(status, played_ms);
            self.run.last_end = Some(ended);
            match &interrupt {
                Some(Interrupt::Shutdown) => self.run.cut = Some(SlotCut::Stopped),
                Some(Interrupt::Stop(who)) => self.run.stopped_by = Some(who.clone()),
                _ => {}
            }
            if make_up && self.settings.makeup && cue.source != CueSource::Fallback {
                self.makeups.push_back(Makeup {
                    bulletin: cue.bulletin,
                    link_seq: seq,
                });
            }
            match interrupt {
                Some(Interrupt::Shutdown) => break,
                Some(Interrupt::Stop(who)) => {
                    while let Some(rest) = cues.pop_front() {
                        self.not_played(
                            &rest,
                            start,
                            AirStatus::Skipped,
                            Reason::SlotStoppedBy { who: who.clone() },
                            false,
                        )
                        .await;
                    }
                }
                Some(Interrupt::Replace(mut c, _)) => {
                    // The operator's item airs at once; the interrupted one airs again after
                    // it (a makeup linked to the cut), so the slot goes on as planned.
                    c.link_seq = seq;
                    let again = Cue {
                        bulletin: cue.bulletin,
                        planned_start: c.planned_start,
                        source: CueSource::Makeup,
                        link_seq: seq,
                        who: cue.who.clone(),
                    };
                    cues.push_front(again);
                    cues.push_front(c);
                }
                Some(Interrupt::Skip(_)) | None => {}
            }
        }
        if segment.is_some() {
            if let Err(e) = self.sink.end() {
                self.alert(format!("audio output failed at the end of the slot: {e}"));
            }
        }
        self.ledger.retry(self.clock.now()).await;
        self.flush_ledger_alerts();
        let mut s = self.status.lock().unwrap_or_else(|e| e.into_inner());
        s.on_air = None;
        s.next.clear();
        s.makeups = self.makeups.len();
        Ok(())
    }
}

/// Closes rows left open by a crash or power cut as `interrupted` with the time known to
/// have played (bounded by its bulletin and its progress records; a row that does not fit
/// them is closed `failed`), and returns what to make up, per station. Item rows close first; an open
/// slot row then closes with what its items played (their progress is written every
/// second, so the slot's accounting loses no more than theirs).
pub async fn recover(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<HashMap<String, Vec<Makeup>>, crate::store::StoreError> {
    let mut out: HashMap<String, Vec<Makeup>> = HashMap::new();
    let (items, slots): (Vec<Record>, Vec<Record>) = store
        .open_rows()
        .await?
        .into_iter()
        .partition(|r| r.level != Level::Slot.as_str());
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    for r in items {
        // Never more than the row can have played (crate::airlog::bound).
        let c = crate::playout::recovery::closing_for_open_item(store, &r, now).await?;
        let closed = store.close_row(r.seq, &c).await?;
        tracing::warn!(station = %closed.station, seq = closed.seq, played_ms = closed.played_ms, "closed an interrupted airlog row");
        if let Some(id) = closed.bulletin_id.as_deref().and_then(|s| s.parse().ok()) {
            out.entry(closed.station.clone()).or_default().push(Makeup {
                bulletin: id,
                link_seq: Some(closed.seq),
            });
        }
    }
    for r in slots {
        let mut run = SlotTally::default();
        for i in store
            .airlog(Some(&r.station), parse(&r.slot_start), None)
            .await?
            .iter()
            .filter(|i| {
                i.level == Level::Item.as_str() && i.slot_start == r.slot_start && i.seq > r.seq
            })
        {
            run.count(i.status, i.played_ms.max(0) as u64);
            let end = i.actual_end.as_deref().and_then(parse);
            run.last_end = run.last_end.max(end);
        }
        run.cut = Some(SlotCut::Crash);
        let outcome = run.outcome();
        let c = closing(outcome.status, run.last_end, run.played_ms, outcome.reason);
        let closed = store.close_row(r.seq, &c).await?;
        tracing::warn!(station = %closed.station, seq = closed.seq, played_ms = closed.played_ms, "closed an interrupted slot row");
    }
    Ok(out)
}
