//! The summary of an export, aggregated row by row (pure): per station and in total, items
//! and airings by kind, minutes on air, topics III.1–III.5, producer units, incidents, and
//! compliance with the plan's rules summed over the period's weeks.
//!
//! Definitions (docs/en/reporting.md repeats them):
//! - an **airing** is a row with status `aired`; `partial` rows are not airings — playout
//!   makes them up later, so counting them would count one item twice;
//! - **minutes on air** sum `played_ms` over every row, whatever its status (what the
//!   loudspeakers really played);
//! - **items** of a kind are the distinct bulletins of that kind aired at least once;
//! - compliance is [`crate::schedule::compliance::evaluate`] on each ISO week whose Thursday
//!   is in the period, with the week's airings (jingles aside) at their slot's start, as the
//!   schedule's forecast passes them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use crate::airlog::{AirReason, AirStatus};
use crate::lang::{Lang, Render};
use crate::library::{Bulletin, Kind, Topic};
use crate::plan::{Plan, Station};
use crate::schedule::compliance::{self, Context};
use crate::schedule::{IsoWeek, RuleReason, RuleResult, SkipReason, SkippedSlot};

use super::rows::{ExportRow, Library};
use super::Scope;

/// How many incidents a summary lists (the detail rows keep every one).
pub const INCIDENT_LIST_MAX: usize = 200;

/// How many distinct reasons a rule keeps for its unmet weeks.
const REASONS_MAX: usize = 20;

fn kind_index(k: Kind) -> usize {
    Kind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

fn topic_index(t: Topic) -> usize {
    Topic::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// Counts over a set of rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Rows seen (every status).
    pub rows: u64,
    /// Airings (status `aired`).
    pub airings: u64,
    /// Sum of `played_ms` over every row.
    pub played_ms: i64,
    /// Airings per kind, in [`Kind::ALL`] order.
    pub airings_by_kind: [u64; 5],
    /// Distinct bulletins aired per kind, in [`Kind::ALL`] order.
    pub items_by_kind: [BTreeSet<String>; 5],
    /// (airings, played ms) per topic, in [`Topic::ALL`] order.
    pub by_topic: [(u64, i64); 5],
    /// (airings, played ms) per producer unit.
    pub by_producer: BTreeMap<String, (u64, i64)>,
    /// Rows per status.
    pub by_status: BTreeMap<AirStatus, u64>,
    /// Slot instances (slot rows of the airlog) per status.
    pub slots: BTreeMap<AirStatus, u64>,
}

impl Tally {
    /// Adds one row.
    pub fn add(&mut self, row: &ExportRow) {
        let aired = row.status == AirStatus::Aired;
        let a = u64::from(aired);
        self.rows += 1;
        self.airings += a;
        self.played_ms += row.played_ms;
        *self.by_status.entry(row.status).or_default() += 1;
        if let Some(k) = row.kind {
            self.airings_by_kind[kind_index(k)] += a;
            if aired && !self.items_by_kind[kind_index(k)].contains(row.bulletin_id) {
                self.items_by_kind[kind_index(k)].insert(row.bulletin_id.to_string());
            }
        }
        if let Some(t) = row.topic {
            let e = &mut self.by_topic[topic_index(t)];
            e.0 += a;
            e.1 += row.played_ms;
        }
        if row.kind.is_some() {
            let p = match self.by_producer.get_mut(row.producer) {
                Some(p) => p,
                None => self
                    .by_producer
                    .entry(row.producer.to_string())
                    .or_default(),
            };
            p.0 += a;
            p.1 += row.played_ms;
        }
    }

    /// Distinct items aired of a kind.
    pub fn items(&self, k: Kind) -> usize {
        self.items_by_kind[kind_index(k)].len()
    }

    /// Airings of a kind.
    pub fn airings_of(&self, k: Kind) -> u64 {
        self.airings_by_kind[kind_index(k)]
    }

    /// Minutes on air, one decimal.
    pub fn minutes(&self) -> f64 {
        minutes(self.played_ms)
    }
}

/// Milliseconds as minutes rounded to one decimal.
pub fn minutes(ms: i64) -> f64 {
    (ms as f64 / 6_000.0).round() / 10.0
}

/// One rule's compliance summed over the period's weeks at a station (or all stations).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleTotal {
    /// The rule's id.
    pub rule: String,
    /// The seed clause it implements.
    pub clause: String,
    /// Required, summed over weeks.
    pub required: u64,
    /// Aired, counted as the rule counts (capped per item where it caps), summed.
    pub aired: u64,
    /// Weeks evaluated.
    pub weeks: u32,
    /// Weeks in which the rule was met.
    pub weeks_met: u32,
    /// Why it was not met, with how many weeks said so, in first-seen order.
    pub reasons: Vec<(RuleReason, u32)>,
}

impl RuleTotal {
    /// Aired as a percentage of required (100 when nothing was required).
    pub fn percent(&self) -> f64 {
        if self.required == 0 {
            100.0
        } else {
            (self.aired as f64 * 1000.0 / self.required as f64).round() / 10.0
        }
    }

    /// Whether the period's totals meet the requirement.
    pub fn met(&self) -> bool {
        self.aired >= self.required
    }

    fn add(&mut self, r: &RuleResult) {
        self.required += u64::from(r.required);
        self.aired += u64::from(r.planned);
        self.weeks += 1;
        if r.met {
            self.weeks_met += 1;
        } else if let Some((_, n)) = self.reasons.iter_mut().find(|(x, _)| *x == r.reason) {
            *n += 1;
        } else if self.reasons.len() < REASONS_MAX {
            self.reasons.push((r.reason.clone(), 1));
        }
    }

    fn merge(&mut self, o: &RuleTotal) {
        self.required += o.required;
        self.aired += o.aired;
        self.weeks += o.weeks;
        self.weeks_met += o.weeks_met;
    }
}

/// One station's summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationSummary {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its counts.
    pub tally: Tally,
    /// Its rules, in plan order.
    pub rules: Vec<RuleTotal>,
    /// Slot instances that did not run (blackouts, local limits), per reason, in
    /// first-seen order.
    pub skipped_slots: Vec<(SkipReason, u32)>,
}

/// A row that did not air cleanly.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Station name.
    pub station: String,
    /// Planned start, station time.
    pub planned_start: DateTime<FixedOffset>,
    /// Title (or bulletin id).
    pub title: String,
    /// How it ended.
    pub status: AirStatus,
    /// Why: the row's reason, or for a slot what the slot did after its name.
    pub reason: IncidentReason,
}

/// Why an incident happened, rendered in the report's language.
#[derive(Debug, Clone, PartialEq)]
pub enum IncidentReason {
    /// An item row's reason.
    Item(AirReason),
    /// A slot row's reason (its name is the incident's title).
    Slot(AirReason),
}

impl Render for IncidentReason {
    fn render(&self, lang: Lang) -> String {
        match self {
            IncidentReason::Item(r) => r.render(lang),
            IncidentReason::Slot(r) => r.render_after_slot_name(lang),
        }
    }
}

/// A slot row as a report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRow {
    /// Start of the slot instance, station time.
    pub slot_start: DateTime<FixedOffset>,
    /// The slot's name (the first part of the row's reason).
    pub name: String,
    /// The row's reason (the slot's name, then what the slot did).
    pub reason: AirReason,
    /// How the slot instance went.
    pub status: AirStatus,
}

impl SlotRow {
    /// The report's view of a stored slot row at `station`; a start that does not read is
    /// refused naming the row, as for item rows.
    pub fn of(
        r: &crate::store::SlotRecord,
        station: &super::StationScope,
    ) -> Result<SlotRow, super::ReportError> {
        let slot_start = super::rows::instant(r.seq, "slot_start", &r.slot_start, station)?;
        Ok(SlotRow {
            slot_start,
            name: r.reason.slot_name().unwrap_or_default().to_string(),
            reason: r.reason.clone(),
            status: r.status,
        })
    }
}

/// The statuses listed as incidents.
pub const INCIDENT_STATUSES: [AirStatus; 4] = [
    AirStatus::Failed,
    AirStatus::Partial,
    AirStatus::Skipped,
    AirStatus::Interrupted,
];

/// The whole summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Per station, in export order.
    pub stations: Vec<StationSummary>,
    /// All stations.
    pub total: Tally,
    /// The first [`INCIDENT_LIST_MAX`] incidents, in export order.
    pub incidents: Vec<Incident>,
    /// Every incident counted.
    pub incidents_total: u64,
    /// Whether compliance was evaluated (a plan was given or kept).
    pub has_plan: bool,
    /// The plans the weeks were judged by, in first-use order.
    pub judged_by: Vec<super::judges::JudgedBy>,
}

impl Summary {
    /// An empty summary of the scope's stations.
    pub fn new(scope: &Scope, has_plan: bool) -> Summary {
        Summary {
            stations: scope
                .stations
                .iter()
                .map(|s| StationSummary {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    ..Default::default()
                })
                .collect(),
            has_plan,
            ..Default::default()
        }
    }

    /// Adds an exported row of station `i`.
    pub fn add_row(&mut self, i: usize, row: &ExportRow) {
        self.stations[i].tally.add(row);
        self.total.add(row);
        if INCIDENT_STATUSES.contains(&row.status) {
            self.incidents_total += 1;
            if self.incidents.len() < INCIDENT_LIST_MAX {
                self.incidents.push(Incident {
                    station: row.station_name.to_string(),
                    planned_start: row.planned_start,
                    title: if row.title.is_empty() {
                        row.bulletin_id.to_string()
                    } else {
                        row.title.to_string()
                    },
                    status: row.status,
                    reason: IncidentReason::Item(AirReason::parse(row.reason)),
                });
            }
        }
    }

    /// Adds the slot rows of station `i` that started by `before` (the planned start of its
    /// next item row), taken from `slots` in slot order: the walk of an export and the
    /// recomputation of its summary ([`super::recount`]) both order slots among items so.
    pub fn add_slots_before<I: Iterator<Item = SlotRow>>(
        &mut self,
        i: usize,
        before: DateTime<FixedOffset>,
        slots: &mut std::iter::Peekable<I>,
    ) {
        while let Some(slot) = slots.next_if(|s| s.slot_start <= before) {
            self.add_slot(i, &slot);
        }
    }

    /// Adds a slot row of station `i` (its slot instance as a whole); one that did not air
    /// whole is listed among the incidents under the slot's name.
    pub fn add_slot(&mut self, i: usize, slot: &SlotRow) {
        for t in [&mut self.stations[i].tally, &mut self.total] {
            *t.slots.entry(slot.status).or_default() += 1;
        }
        if INCIDENT_STATUSES.contains(&slot.status) {
            self.incidents_total += 1;
            if self.incidents.len() < INCIDENT_LIST_MAX {
                self.incidents.push(Incident {
                    station: self.stations[i].name.clone(),
                    planned_start: slot.slot_start,
                    title: slot.name.clone(),
                    status: slot.status,
                    reason: IncidentReason::Slot(slot.reason.clone()),
                });
            }
        }
    }

    /// Adds one evaluated week of station `i`.
    pub fn add_week(&mut self, i: usize, results: &[RuleResult], skipped: &[SkippedSlot]) {
        let st = &mut self.stations[i];
        for r in results {
            let pos = match st.rules.iter().position(|t| t.rule == r.rule) {
                Some(p) => p,
                None => {
                    st.rules.push(RuleTotal {
                        rule: r.rule.clone(),
                        clause: r.clause.clone(),
                        ..Default::default()
                    });
                    st.rules.len() - 1
                }
            };
            st.rules[pos].add(r);
        }
        for s in skipped {
            match st.skipped_slots.iter_mut().find(|(x, _)| *x == s.reason) {
                Some((_, n)) => *n += 1,
                None => st.skipped_slots.push((s.reason.clone(), 1)),
            }
        }
    }

    /// Notes a plan that judged a week.
    pub fn judged_by(&mut self, j: super::judges::JudgedBy) {
        if !self.judged_by.contains(&j) {
            self.judged_by.push(j);
        }
    }

    /// Each rule summed over every station, in the order rules first appear.
    pub fn total_rules(&self) -> Vec<RuleTotal> {
        let mut out: Vec<RuleTotal> = Vec::new();
        for r in self.stations.iter().flat_map(|s| &s.rules) {
            match out.iter_mut().find(|t| t.rule == r.rule) {
                Some(t) => t.merge(r),
                None => {
                    let mut t = r.clone();
                    t.reasons.clear();
                    out.push(t);
                }
            }
        }
        out
    }
}

/// Topics aired at a station earlier in each month (the compliance context's memory).
pub type MonthTopics = BTreeMap<(i32, u32), BTreeSet<Topic>>;

/// Evaluates one aired week of a station with the schedule's own compliance code. `aired`
/// holds (bulletin id, slot start) of the week's airings; `month_topics` the topics aired
/// before the week in its months, and gains the week's.
pub fn evaluate_week(
    plan: &Plan,
    station: &Station,
    week: IsoWeek,
    library: &Library,
    aired: &[(String, DateTime<Utc>)],
    month_topics: &mut MonthTopics,
) -> (Vec<RuleResult>, Vec<SkippedSlot>) {
    let pool = compliance::week_library(library.all(), station, week);
    let skipped = compliance::skipped_slots(plan, station, week);
    let airings: Vec<(&Bulletin, DateTime<Utc>)> = aired
        .iter()
        .filter_map(|(id, at)| library.get(id).map(|b| (b, *at)))
        .filter(|(b, _)| b.meta.kind != Kind::Jingle)
        .collect();
    let ctx = Context {
        plan,
        station,
        week,
        library: &pool,
        month_topics_before: month_topics,
        skipped: &skipped,
    };
    let results = compliance::evaluate(&ctx, &airings);
    add_month_topics(station, &airings, month_topics);
    (results, skipped)
}

/// Records the topics of airings in their months (station time).
pub fn add_month_topics(
    station: &Station,
    airings: &[(&Bulletin, DateTime<Utc>)],
    month_topics: &mut MonthTopics,
) {
    for (b, at) in airings {
        let d = at.with_timezone(&station.timezone).date_naive();
        month_topics
            .entry((d.year(), d.month()))
            .or_default()
            .insert(b.meta.topic);
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows::export_row;
    use super::super::rows::tests::{bulletin, record, station};
    use super::*;

    /// A library, four records and their station.
    struct Fixture(
        Library,
        Vec<crate::airlog::Record>,
        super::super::StationScope,
    );

    fn fixture() -> Fixture {
        let lib = Library::new(vec![
            bulletin("aaaaaaaaaaaa", Kind::News, Topic::EProcedures, "Tin"),
            bulletin("bbbbbbbbbbbb", Kind::Article, Topic::Documents, "Bài"),
        ]);
        let recs = vec![
            record(1, "aaaaaaaaaaaa", "aired", 60_000),
            record(2, "aaaaaaaaaaaa", "aired", 60_000),
            record(3, "bbbbbbbbbbbb", "partial", 30_000),
            record(4, "bbbbbbbbbbbb", "failed", 0),
        ];
        Fixture(lib, recs, station())
    }

    fn rows(f: &Fixture) -> Vec<ExportRow<'_>> {
        f.1.iter()
            .map(|r| export_row(r.into(), &f.2, &f.0).unwrap())
            .collect()
    }

    #[test]
    fn airings_count_only_clean_rows_and_minutes_count_everything_played() {
        let f = fixture();
        let rows = rows(&f);
        let mut t = Tally::default();
        rows.iter().for_each(|r| t.add(r));
        assert_eq!((t.rows, t.airings), (4, 2));
        assert_eq!(t.played_ms, 150_000);
        assert_eq!(t.minutes(), 2.5);
        assert_eq!(t.items(Kind::News), 1, "one news item aired twice");
        assert_eq!(t.airings_of(Kind::News), 2);
        assert_eq!(
            t.items(Kind::Article),
            0,
            "a partial airing is not an airing"
        );
        assert_eq!(t.by_topic[topic_index(Topic::Documents)], (0, 30_000));
        assert_eq!(t.by_producer["Phòng Tư pháp"], (2, 150_000));
        assert_eq!(t.by_status[&AirStatus::Failed], 1);
    }

    #[test]
    fn incidents_are_listed_with_their_reasons_and_counted_beyond_the_list() {
        let f = fixture();
        let rows = rows(&f);
        let scope = Scope {
            period: super::super::Period::year("2023").unwrap(),
            stations: vec![station()],
        };
        let mut s = Summary::new(&scope, false);
        rows.iter().for_each(|r| s.add_row(0, r));
        assert_eq!(s.incidents_total, 2);
        assert_eq!(s.incidents[1].status, "failed");
        assert_eq!(s.total, s.stations[0].tally);
    }

    #[test]
    fn rule_totals_sum_weeks_and_keep_the_reasons_of_unmet_ones() {
        let scope = Scope {
            period: super::super::Period::year("2023").unwrap(),
            stations: vec![station()],
        };
        let mut s = Summary::new(&scope, true);
        let short = RuleReason::DistinctTimeShort {
            available: 1,
            distinct: 1,
            skipped: None,
        };
        let r = |planned, reason: &RuleReason| RuleResult {
            rule: "tin-bai".into(),
            clause: "V.4".into(),
            required: 3,
            planned,
            met: planned >= 3,
            reason: reason.clone(),
        };
        let met = RuleReason::DistinctMet {
            kinds: vec![Kind::News],
            distinct: 3,
        };
        s.add_week(0, &[r(3, &met)], &[]);
        s.add_week(0, &[r(1, &short)], &[]);
        let t = &s.stations[0].rules[0];
        assert_eq!((t.required, t.aired, t.weeks, t.weeks_met), (6, 4, 2, 1));
        assert_eq!(t.percent(), 66.7);
        assert!(!t.met());
        assert_eq!(t.reasons, vec![(short, 1)]);
        assert_eq!(s.total_rules()[0].required, 6);
    }
}
