//! The airlog (as-run log): what really aired, as durable hash-chained rows per station.
//!
//! - [`bound`]: how much an open row can have played (recovery's rule) and the check
//!   that no closed row claims more than its bulletin (pure).
//! - [`chain`]: the hash chain and its verification (pure).
//! - [`key`]: the district's Ed25519 signing key (a 0600 file outside the database).
//! - [`signed`]: chain heads signed with that key as playout advances, and their check.
//! - [`verify`]: verification of a whole store.
//! - [`status`]: a row's status ([`AirStatus`]) and source ([`CueSource`]) as types.
//! - [`reason`]: a row's reason as structured parts ([`AirReason`], [`Reason`]) rendered in
//!   Vietnamese or English, stored in a machine form that parses back exactly.
//! - [`outcome`]: what a slot instance as a whole did ([`SlotTally`] → [`SlotOutcome`]).
//!
//! A row is written before its audio starts (status `playing`) and closed when it ends;
//! only closed rows join the chain, in the order the station closed them.
//!
//! Rows come at two levels ([`Level`]): one per item that aired or was attempted, and one
//! per slot instance, opened when the slot begins and closed when it ends with what the
//! slot as a whole did (its status, the audio time it carried, and a count of its items).

use serde::Serialize;

pub use outcome::{SlotCut, SlotOutcome, SlotTally};
pub use reason::{AirReason, Reason};
pub use status::{AirStatus, CueSource, UnknownCode};

pub mod bound;
pub mod chain;
pub mod key;
pub mod outcome;
pub mod reason;
pub mod signed;
pub mod status;
pub mod verify;

/// One airlog row as stored (instants as fixed-width RFC 3339 UTC text, as in the store),
/// its fixed words parsed into types where it left the store.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Record {
    /// Sequence number, increasing across the whole log.
    pub seq: i64,
    /// `item` or `slot` ([`Level`]).
    pub level: String,
    /// Station code.
    pub station: String,
    /// Start of the slot instance the item belonged to.
    pub slot_start: String,
    /// The bulletin (none for a slot-level row).
    pub bulletin_id: Option<String>,
    /// SHA-256 of the audio file that played.
    pub sha256: Option<String>,
    /// When it should have started.
    pub planned_start: String,
    /// When it started.
    pub actual_start: Option<String>,
    /// When it ended.
    pub actual_end: Option<String>,
    /// How much of it played, ms.
    pub played_ms: i64,
    /// How it ended, or [`AirStatus::Playing`] while open.
    pub status: AirStatus,
    /// Why it was cued.
    pub source: CueSource,
    /// Why (for anything but a clean airing); keeps the stored text the hash covers.
    pub reason: AirReason,
    /// Gain applied, dB.
    pub gain_db: Option<f64>,
    /// Operator name, or "loa" for the daemon.
    pub who: String,
    /// The row this one relates to (a makeup's miss, an urgent's interrupted item).
    pub link_seq: Option<i64>,
    /// Hash of the station's previous closed row.
    pub prev_hash: String,
    /// Hash of this row (empty while it is open).
    pub row_hash: String,
}

/// What an airlog row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// One item (a bulletin, jingle, makeup, operator item) that aired or was attempted.
    Item,
    /// One slot instance as a whole (no bulletin): it opens before the slot's first item
    /// and closes after its last.
    Slot,
}

impl Level {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Item => "item",
            Level::Slot => "slot",
        }
    }
}
