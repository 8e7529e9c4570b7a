//! What passes between a station's player and the rest of loa: operator commands in
//! ([`Command`], through a [`StationHandle`]), the shutdown signal ([`Control`]), events out
//! ([`Event`]) and the live [`Status`]. Defined here, below both the daemon and the web
//! layer, so that neither imports the other: the daemon makes the handles, the web layer
//! only uses them.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::airlog::{AirReason, AirStatus, CueSource};
use crate::library::{Bulletin, BulletinId, Priority};
use crate::playout::alert::Alert;

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
    /// An announcement at one of Circular 39/2020's levels: `normal` and `priority` wait for
    /// the station's next slot instance ([`crate::playout::cues::Layout::slot_with`] places
    /// them), `emergency` interrupts at once as [`Command::Urgent`] does. It carries its
    /// bulletin, so one made a moment ago (typed text, an upload) plays although the
    /// player's library snapshot predates it.
    Announce {
        /// The bulletin.
        bulletin: Box<Bulletin>,
        /// Its level.
        level: Priority,
        /// Operator.
        who: String,
        /// Its number in the store, for a waiting level (marked aired once it is in the
        /// airlog).
        id: Option<i64>,
    },
    /// Drops a waiting announcement from the queue for the next slot instance (the store
    /// already says it is cancelled).
    CancelAnnouncement {
        /// Its number in the store.
        id: i64,
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

/// How waiting for a slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The instant came.
    Reached,
    /// The daemon is stopping.
    Shutdown,
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
        /// Its length, ms (what the on-air page's progress bar runs to).
        duration_ms: u64,
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
        /// Why, when it did not air cleanly (as the airlog row has it; shown per language).
        reason: AirReason,
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
        /// What the slot did (the slot row's reason; shown per language).
        summary: AirReason,
    },
    /// Something an operator should know.
    Alert {
        /// Station code.
        station: String,
        /// The alert.
        message: Alert,
    },
    /// The commune machine that plays the station reported its status (it is in the
    /// station's status).
    NodeReported {
        /// Station code.
        station: String,
        /// When the server received the report.
        at: DateTime<Utc>,
    },
}

/// How many events wait for a slow listener before it misses the oldest.
pub const EVENTS_BUFFER: usize = 256;

/// Where a station's player is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayerState {
    /// Between slots, waiting for the next (operator items may still play).
    #[default]
    Idle,
    /// Playing a slot instance, or an operator's item outside any slot.
    Playing {
        /// The slot's name, or (for an operator's item) its source and who asked, in the
        /// technical log's words.
        slot: String,
        /// For an operator's item outside any slot: why it was cued and who asked, for a
        /// display to name in its own language.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<AskedBy>,
    },
    /// The daemon is stopping; nothing more starts.
    Stopping,
}

/// Who put an operator's item on air outside any slot, and how.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AskedBy {
    /// Why it was cued (manual, urgent).
    pub source: CueSource,
    /// Who asked.
    pub who: String,
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
    pub alerts: Vec<Alert>,
    /// Items waiting to be made up.
    pub makeups: usize,
    /// Announcements waiting for the next slot instance (normal and priority levels).
    pub announcements: usize,
    /// The slot instance the station waits for (set by the daemon while it waits; none
    /// while a slot plays, or when none is within the days built ahead).
    pub next_slot: Option<NextSlot>,
    /// For a station played by a commune machine: what its last report said.
    pub node: Option<NodeSeen>,
}

/// A commune machine as its last status report showed it (`loa agent`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeSeen {
    /// The node's public key, its first 16 hex digits.
    pub node: String,
    /// When the server received the report.
    pub reported_at: DateTime<Utc>,
    /// The node's clock minus the server's, ms.
    pub clock_offset_ms: Option<i64>,
    /// The round trip it was measured over, ms.
    pub clock_rtt_ms: Option<i64>,
    /// Whether its scheduled playout waits for its clock.
    pub clock_held: bool,
    /// When it last synced.
    pub last_sync: Option<DateTime<Utc>>,
    /// Where its kept manifest ends.
    pub manifest_until: Option<DateTime<Utc>>,
    /// Free disk, MB.
    pub disk_free_mb: Option<u64>,
    /// Its airlog's last row.
    pub chain_head: Option<i64>,
    /// Rows the server does not hold yet.
    pub unsent_rows: u64,
    /// Its loa version.
    pub version: String,
}

/// Who plays a station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayedBy {
    /// This daemon: every command reaches its player.
    #[default]
    ThisDaemon,
    /// Its commune machine (`loa agent`): announcements are pushed to it; skip, stop and
    /// play are not available from here.
    Agent,
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
    /// Its length, ms.
    pub duration_ms: u64,
    /// Why it was cued.
    pub source: CueSource,
}

/// A station as the control API sees it: a narrow handle on its player.
#[derive(Clone)]
pub struct StationHandle {
    /// Its name.
    pub name: String,
    /// Where operator commands go.
    pub commands: mpsc::Sender<Command>,
    /// What it is doing.
    pub status: Arc<Mutex<Status>>,
    /// Who plays it.
    pub played_by: PlayedBy,
}

impl StationHandle {
    /// What the station is doing now.
    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends an operator command; `false` when the player has stopped.
    pub async fn send(&self, command: Command) -> bool {
        self.commands.send(command).await.is_ok()
    }
}
