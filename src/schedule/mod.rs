//! The weekly schedule: a pure, deterministic builder from (plan, library snapshot, airing
//! history, ISO week, station filter, operator pins) to each station's playlists and a
//! compliance forecast that explains every rule.
//!
//! - [`week`]: ISO weeks and their bounds in station time.
//! - [`build`]: choosing and packing items into slot instances; `reserve` keeps one item
//!   for every slot instance so a thin library is spread, not packed into the first slots.
//! - [`service`]: keeping weeks in the store: build and save, pins, locks (the I/O edge).
//! - [`compliance`]: what each rule required and what a set of airings gives, with reasons;
//!   the same code serves the forecast and the reports.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::library::{BulletinId, Kind, Topic};

pub mod build;
pub mod compliance;
mod fill;
pub mod reason;
pub mod refusal;
mod reserve;
pub mod service;
pub mod week;

pub use build::{build, Inputs};
pub use reason::{RuleReason, SkipReason};
pub use week::IsoWeek;

/// One past airing (from the airlog or an earlier built week).
#[derive(Debug, Clone, PartialEq)]
pub struct Airing {
    /// Station code (shared: a year of history repeats each code many thousand times).
    pub station: std::sync::Arc<str>,
    /// What aired.
    pub bulletin: BulletinId,
    /// When it started.
    pub start: DateTime<Utc>,
}

/// An operator's decision about one slot instance: put a bulletin in (pin) or keep it out.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Pin {
    /// Station code.
    pub station: String,
    /// The slot instance's start.
    pub slot_start: DateTime<Utc>,
    /// The bulletin.
    pub bulletin: BulletinId,
}

/// One item of a playlist (JSON contract of `schedule build/show --json`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Item {
    /// The bulletin.
    pub bulletin_id: BulletinId,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: Kind,
    /// Its topic.
    pub topic: Topic,
    /// From the slot start, ms.
    pub offset_ms: u64,
    /// Its length, ms.
    pub duration_ms: u64,
    /// Put there by an operator.
    pub pinned: bool,
}

/// The playlist of one slot instance.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SlotPlaylist {
    /// The slot's name.
    pub name: String,
    /// Start, RFC 3339 with the station's offset.
    pub start: DateTime<chrono::FixedOffset>,
    /// The slot's length, s.
    pub length_s: u32,
    /// The CCHC part, s.
    pub cchc_s: u32,
    /// Items in play order.
    pub items: Vec<Item>,
}

/// A slot instance that does not run this week, and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SkippedSlot {
    /// The slot's name.
    pub name: String,
    /// When it would have started.
    pub start: DateTime<chrono::FixedOffset>,
    /// Why not.
    #[serde(deserialize_with = "reason::skip_reason_compat")]
    pub reason: SkipReason,
}

/// A running slot instance that got no CCHC item, and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct EmptySlot {
    /// The slot's name.
    pub name: String,
    /// When it starts.
    pub start: DateTime<chrono::FixedOffset>,
    /// What left it empty.
    pub reason: EmptyReason,
}

/// What left a running slot instance without CCHC content: a shortage in the library or a
/// rule. Stored as data; rendered per language by [`EmptyReason::vi`] and
/// [`EmptyReason::en`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EmptyReason {
    /// No approved news or article meant for the station is valid that day.
    NothingValid,
    /// Every one valid that day is longer than the slot's CCHC time left.
    TooLong {
        /// The CCHC time left once jingles and pins are in, ms.
        room_ms: u64,
    },
    /// Operators excluded every one that would fit.
    Excluded,
    /// Every one that fits aired less than the least gap between airings before.
    Gap {
        /// The least gap, seconds.
        gap_s: u64,
    },
    /// Those that fit are the only filling of a later slot within their gap.
    HeldForLater,
}

impl EmptyReason {
    /// In Vietnamese.
    pub fn vi(&self) -> String {
        match self {
            EmptyReason::NothingValid => {
                "không có tin, bài đã duyệt nào còn hiệu lực trong ngày cho đài này".into()
            }
            EmptyReason::TooLong { room_ms } => format!(
                "mọi tin, bài còn hiệu lực đều dài hơn {} thời lượng CCHC còn lại",
                crate::plan::timing::format_duration(room_ms / 1000)
            ),
            EmptyReason::Excluded => "người vận hành đã loại mọi tin, bài vừa thời lượng".into(),
            EmptyReason::Gap { gap_s } => format!(
                "mọi tin, bài vừa thời lượng đều đã phát cách đây chưa đủ {} (khoảng cách tối thiểu giữa hai lần phát)",
                crate::plan::timing::format_duration(*gap_s)
            ),
            EmptyReason::HeldForLater => {
                "các tin, bài vừa thời lượng được giữ cho buổi phát sau, nơi chỉ chúng lấp được".into()
            }
        }
    }

    /// In English.
    pub fn en(&self) -> String {
        match self {
            EmptyReason::NothingValid => {
                "no approved news or article for this station is valid that day".into()
            }
            EmptyReason::TooLong { room_ms } => format!(
                "every news or article valid that day is longer than the {} of CCHC time left",
                crate::plan::timing::format_duration(room_ms / 1000)
            ),
            EmptyReason::Excluded => "operators excluded every news or article that fits".into(),
            EmptyReason::Gap { gap_s } => format!(
                "every news or article that fits aired less than {} before (the least gap between airings)",
                crate::plan::timing::format_duration(*gap_s)
            ),
            EmptyReason::HeldForLater => {
                "the news and articles that fit are held for a later slot only they can fill".into()
            }
        }
    }
}

/// What one rule required at one station and what the playlists (or the airlog) give.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RuleResult {
    /// The rule's id.
    pub rule: String,
    /// The seed clause it implements.
    pub clause: String,
    /// Required count.
    pub required: u32,
    /// Planned (or aired) count.
    pub planned: u32,
    /// Whether the rule is met.
    pub met: bool,
    /// Why it is not met, or what met it (rendered per language).
    #[serde(deserialize_with = "reason::rule_reason_compat")]
    pub reason: RuleReason,
}

/// One station's week.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StationWeek {
    /// Station code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Playlists of the slot instances that run, in time order.
    pub slots: Vec<SlotPlaylist>,
    /// Slot instances that do not run.
    pub skipped_slots: Vec<SkippedSlot>,
    /// Running slot instances left without CCHC content, and why (none when content
    /// exists for every one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub empty_slots: Vec<EmptySlot>,
    /// The compliance forecast.
    pub compliance: Vec<RuleResult>,
}

/// A built week (JSON contract of `schedule build/show --json`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct WeekSchedule {
    /// The ISO week, e.g. "2023-W10".
    pub week: String,
    /// The plan's name.
    pub plan: String,
    /// Stations, in plan order.
    pub stations: Vec<StationWeek>,
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod fill_proptests;
