//! The plan: the year's rules for the network (stations, slots, cadence rules, campaigns,
//! blackout days, local limits), read from `schedules/*.toml`.
//!
//! - [`raw`]: the file as written, with positions.
//! - [`validate`]: every problem at once, with file, line and column; else a [`Plan`].
//! - [`timing`]: durations (`30m`, `1h30m`) and cron expressions in station time.
//! - [`cron_fields`]: the five cron fields checked in an operator's words.
//! - [`calendar`]: the slot instances of a station in a date range.
//!
//! A [`Plan`] holds only valid data: codes are slugs, time zones exist, crons parse, dates
//! are in the plan's year, every rule names known stations, kinds and topics.

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;

use crate::library::{BulletinId, Kind, Topic};

pub mod calendar;
pub mod cron_fields;
pub mod raw;
pub mod timing;
pub mod validate;

pub use timing::CronSpec;
pub use validate::{check, check_file, check_file_with_notes, PlanProblem, PlanReport};

/// A station code: a lower-case slug such as `vinh-hung`.
pub type StationCode = String;

/// District station or commune loudspeaker station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Đài Truyền thanh huyện.
    District,
    /// Đài truyền thanh xã / thị trấn.
    Commune,
}

/// A broadcast point.
#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    /// Its code.
    pub code: StationCode,
    /// Its Vietnamese name, NFC.
    pub name: String,
    /// District or commune.
    pub level: Level,
    /// Local time zone of its slots.
    pub timezone: Tz,
    /// Where playout sends its audio.
    pub output: Output,
    /// First day it exists (administrative units merge).
    pub valid_from: Option<NaiveDate>,
    /// Last day it exists.
    pub valid_until: Option<NaiveDate>,
    /// The station that takes over after `valid_until`.
    pub successor: Option<StationCode>,
}

impl Station {
    /// Whether the station exists on `date` (its local date).
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| date >= f) && self.valid_until.is_none_or(|u| date <= u)
    }
}

/// Where a station's audio goes, as its plan names it: what the sinks accept
/// (`device`, `device:NAME`, `wav`, `wav:DIR`, `null`) and `agent`, a station a commune
/// machine plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The sound card: the default one, or the one of this name.
    Device(Option<String>),
    /// WAV capture: into the folder the run names, or this one.
    Wav(Option<String>),
    /// Nothing (a station that is planned but not played here).
    Null,
    /// A commune machine plays it and sends its airlog home.
    Agent,
}

impl std::str::FromStr for Output {
    type Err = String;
    fn from_str(text: &str) -> Result<Output, String> {
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (text, None),
        };
        match (name, arg) {
            ("device", None) => Ok(Output::Device(None)),
            ("wav", None) => Ok(Output::Wav(None)),
            ("null", None) => Ok(Output::Null),
            ("agent", None) => Ok(Output::Agent),
            ("device", Some(d)) if !d.trim().is_empty() => Ok(Output::Device(Some(d.into()))),
            ("wav", Some(d)) if !d.trim().is_empty() => Ok(Output::Wav(Some(d.into()))),
            _ => Err(format!(
                "output '{text}' is not one loa can play to: write device, device:NAME, wav, wav:DIR, null or agent"
            )),
        }
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Device(None) => f.write_str("device"),
            Output::Device(Some(d)) => write!(f, "device:{d}"),
            Output::Wav(None) => f.write_str("wav"),
            Output::Wav(Some(d)) => write!(f, "wav:{d}"),
            Output::Null => f.write_str("null"),
            Output::Agent => f.write_str("agent"),
        }
    }
}

/// Which jingle frames a slot's CCHC segment.
#[derive(Debug, Clone, PartialEq)]
pub enum JingleRef {
    /// The newest approved jingle valid for the station.
    Auto,
    /// This bulletin.
    Id(BulletinId),
}

/// A recurring broadcast window.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Its name, e.g. "Chương trình buổi sáng".
    pub name: String,
    /// The stations it runs at.
    pub stations: Vec<StationCode>,
    /// When it starts, in station local time.
    pub cron: CronSpec,
    /// Its whole length, seconds.
    pub length_s: u32,
    /// The part given to CCHC content (jingles included), seconds.
    pub cchc_s: u32,
    /// Intro jingle.
    pub intro: Option<JingleRef>,
    /// Outro jingle.
    pub outro: Option<JingleRef>,
}

/// What a cadence rule asks.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleBody {
    /// At least `count` distinct items of these kinds per station per week.
    MinDistinct {
        /// Kinds counted.
        kinds: Vec<Kind>,
        /// How many distinct items.
        count: u32,
    },
    /// Each item of these kinds airs `times` a week, at least `min_gap_s` apart.
    Repeat {
        /// Kinds concerned.
        kinds: Vec<Kind>,
        /// Airings per item per week.
        times: u32,
        /// Least time between two airings of one item, seconds.
        min_gap_s: u32,
    },
    /// The quarter's column airs `per_week` times a week at every station during its quarter.
    Column {
        /// Airings per week.
        per_week: u32,
    },
    /// Every listed topic airs at least once per station per calendar month.
    TopicCoverage {
        /// Topics that must be covered.
        topics: Vec<Topic>,
    },
    /// A spot (slogan) between consecutive items when one fits.
    SpotsBetween,
}

impl RuleBody {
    /// The rule's type name as written in the plan.
    pub fn type_name(&self) -> &'static str {
        match self {
            RuleBody::MinDistinct { .. } => "min_distinct",
            RuleBody::Repeat { .. } => "repeat",
            RuleBody::Column { .. } => "column",
            RuleBody::TopicCoverage { .. } => "topic_coverage",
            RuleBody::SpotsBetween => "spots_between",
        }
    }
}

/// A cadence rule tied to the clause of the seed plan it implements.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Short name used in compliance output.
    pub id: String,
    /// The seed clause, e.g. "V.4: Tin, bài: thường xuyên".
    pub clause: String,
    /// Stations it applies to.
    pub stations: Vec<StationCode>,
    /// What it asks.
    pub body: RuleBody,
}

/// A campaign ("theo từng đợt", V.2): raises the frequency of chosen bulletins for a while.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Its name.
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Topics boosted.
    pub topics: Vec<Topic>,
    /// Bulletins boosted.
    pub bulletins: Vec<BulletinId>,
    /// Stations concerned.
    pub stations: Vec<StationCode>,
    /// Airing multiplier (2 = twice as often).
    pub boost: u32,
}

impl Campaign {
    /// Whether the campaign boosts this bulletin at this station on this date.
    pub fn boosts(&self, station: &str, date: NaiveDate, id: &BulletinId, topic: Topic) -> bool {
        date >= self.from
            && date <= self.to
            && self.stations.iter().any(|s| s == station)
            && (self.bulletins.contains(id) || self.topics.contains(&topic))
    }
}

/// Days with no CCHC broadcast (e.g. Tết), for all or some stations.
#[derive(Debug, Clone, PartialEq)]
pub struct Blackout {
    /// Its name.
    pub name: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Stations concerned.
    pub stations: Vec<StationCode>,
}

/// Local limits a province sets for commune broadcasting.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// At most this many sessions a day.
    pub max_sessions_per_day: Option<u32>,
    /// At most this many minutes a session.
    pub max_minutes_per_session: Option<u32>,
    /// Broadcasting allowed on these weekdays only.
    pub weekdays: Vec<Weekday>,
    /// Whether the limits bind the district station too.
    pub include_district: bool,
}

impl Limits {
    /// Whether the limits bind a station of this level.
    pub fn bind(&self, level: Level) -> bool {
        level == Level::Commune || self.include_district
    }
}

/// Typical lengths per kind (ms), for feasibility checks made without a library.
#[derive(Debug, Clone, PartialEq)]
pub struct Nominal {
    /// news, article, column, spot, jingle.
    pub ms: [u64; 5],
}

impl Nominal {
    /// The typical length of a kind.
    pub fn of(&self, kind: Kind) -> u64 {
        self.ms[Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0)]
    }
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Its name.
    pub name: String,
    /// The year it covers.
    pub year: i32,
    /// Default time zone.
    pub timezone: Tz,
    /// Where it comes from (the seed document).
    pub source: String,
    /// Filler bulletins for an empty slot.
    pub fallback: Vec<BulletinId>,
    /// The network.
    pub stations: Vec<Station>,
    /// Broadcast windows.
    pub slots: Vec<Slot>,
    /// Cadence rules.
    pub rules: Vec<Rule>,
    /// Campaigns.
    pub campaigns: Vec<Campaign>,
    /// Blackout days.
    pub blackouts: Vec<Blackout>,
    /// Local limits.
    pub limits: Limits,
    /// Typical lengths.
    pub nominal: Nominal,
    /// The plan file's text exactly as read: what a schedule build keeps beside the week
    /// ([`Plan::sha256`] names it).
    pub text: std::sync::Arc<str>,
}

impl Plan {
    /// SHA-256 of the plan file's text, hex: the kept plan's identity.
    pub fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.text.as_bytes()))
    }

    /// A station by code.
    pub fn station(&self, code: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.code == code)
    }

    /// The rules that apply at a station.
    pub fn rules_for<'a>(&'a self, station: &'a str) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.stations.iter().any(|s| s == station))
    }

    /// Whether `date` is a blackout day at `station`, and which.
    pub fn blackout(&self, station: &str, date: NaiveDate) -> Option<&Blackout> {
        self.blackouts
            .iter()
            .find(|b| date >= b.from && date <= b.to && b.stations.iter().any(|s| s == station))
    }
}
