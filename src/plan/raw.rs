//! The plan file as written (`schedules/*.toml`): serde structs whose checked values carry
//! their position in the file, so validation can say file, line and column.
//! Nothing here is trusted; [`super::validate`] turns it into a [`super::Plan`].

use serde::Deserialize;
use toml::Spanned;

/// A value and where it stood.
pub type S<T> = Spanned<T>;

/// The whole file.
#[derive(Debug, Deserialize)]
pub struct RawPlan {
    pub plan: Option<S<RawHeader>>,
    pub limits: Option<S<RawLimits>>,
    #[serde(default)]
    pub nominal_length: Option<S<RawNominal>>,
    #[serde(default)]
    pub station: Vec<S<RawStation>>,
    #[serde(default)]
    pub slot: Vec<S<RawSlot>>,
    #[serde(default)]
    pub rule: Vec<S<RawRule>>,
    #[serde(default)]
    pub campaign: Vec<S<RawCampaign>>,
    #[serde(default)]
    pub blackout: Vec<S<RawBlackout>>,
}

/// `[plan]`.
#[derive(Debug, Deserialize)]
pub struct RawHeader {
    pub name: S<String>,
    pub year: S<i64>,
    pub timezone: Option<S<String>>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub fallback: Vec<S<String>>,
}

/// `[limits]`: what the province allows commune stations.
#[derive(Debug, Deserialize)]
pub struct RawLimits {
    pub max_sessions_per_day: Option<S<i64>>,
    pub max_minutes_per_session: Option<S<i64>>,
    pub weekdays: Option<S<Vec<S<String>>>>,
    pub applies_to: Option<S<String>>,
}

/// `[nominal_length]`: typical lengths per kind, for feasibility checks without a library.
#[derive(Debug, Deserialize)]
pub struct RawNominal {
    pub news: Option<S<String>>,
    pub article: Option<S<String>>,
    pub column: Option<S<String>>,
    pub spot: Option<S<String>>,
    pub jingle: Option<S<String>>,
}

/// `[[station]]`.
#[derive(Debug, Deserialize)]
pub struct RawStation {
    pub code: S<String>,
    pub name: S<String>,
    pub level: S<String>,
    pub timezone: Option<S<String>>,
    pub output: Option<S<String>>,
    pub valid_from: Option<S<String>>,
    pub valid_until: Option<S<String>>,
    pub successor: Option<S<String>>,
    #[serde(default)]
    pub note: String,
}

/// `[[slot]]`.
#[derive(Debug, Deserialize)]
pub struct RawSlot {
    pub name: S<String>,
    pub stations: S<Vec<S<String>>>,
    pub cron: S<String>,
    pub length: S<String>,
    pub cchc: S<String>,
    pub intro: Option<S<String>>,
    pub outro: Option<S<String>>,
}

/// `[[rule]]`: one cadence rule; which keys apply depends on `type`.
#[derive(Debug, Deserialize)]
pub struct RawRule {
    pub id: S<String>,
    #[serde(rename = "type")]
    pub kind: S<String>,
    pub clause: S<String>,
    pub stations: Option<S<Vec<S<String>>>>,
    pub kinds: Option<S<Vec<S<String>>>>,
    pub topics: Option<S<Vec<S<String>>>>,
    pub count: Option<S<i64>>,
    pub times: Option<S<i64>>,
    pub min_gap: Option<S<String>>,
    pub per_week: Option<S<i64>>,
    pub per: Option<S<String>>,
}

/// `[[campaign]]`.
#[derive(Debug, Deserialize)]
pub struct RawCampaign {
    pub name: S<String>,
    pub from: S<String>,
    pub to: S<String>,
    #[serde(default)]
    pub topics: Vec<S<String>>,
    #[serde(default)]
    pub bulletins: Vec<S<String>>,
    pub stations: Option<S<Vec<S<String>>>>,
    pub boost: S<i64>,
}

/// `[[blackout]]`.
#[derive(Debug, Deserialize)]
pub struct RawBlackout {
    pub name: S<String>,
    pub from: S<String>,
    pub to: S<String>,
    pub stations: Option<S<Vec<S<String>>>>,
}

/// The keys each table may hold, for the unknown-key check.
pub const KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "plan",
            "limits",
            "nominal_length",
            "station",
            "slot",
            "rule",
            "campaign",
            "blackout",
        ],
    ),
    ("plan", &["name", "year", "timezone", "source", "fallback"]),
    (
        "limits",
        &[
            "max_sessions_per_day",
            "max_minutes_per_session",
            "weekdays",
            "applies_to",
        ],
    ),
    (
        "nominal_length",
        &["news", "article", "column", "spot", "jingle"],
    ),
    (
        "station",
        &[
            "code",
            "name",
            "level",
            "timezone",
            "output",
            "valid_from",
            "valid_until",
            "successor",
            "note",
        ],
    ),
    (
        "slot",
        &[
            "name", "stations", "cron", "length", "cchc", "intro", "outro",
        ],
    ),
    (
        "rule",
        &[
            "id", "type", "clause", "stations", "kinds", "topics", "count", "times", "min_gap",
            "per_week", "per",
        ],
    ),
    (
        "campaign",
        &[
            "name",
            "from",
            "to",
            "topics",
            "bulletins",
            "stations",
            "boost",
        ],
    ),
    ("blackout", &["name", "from", "to", "stations"]),
];
