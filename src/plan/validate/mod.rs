//! Plan validation: reads a plan file and reports every problem at once (file, line, column,
//! plain words), or returns a [`Plan`] that holds only valid data.
//!
//! This module owns the problem list and the order of the checks; each part of the plan is
//! checked in a module of its own:
//! - [`structure`]: the file's shape (unknown keys), the value readers every part shares
//!   (dates, durations, numbers, time zones, station lists) and the stations;
//! - [`slots`]: slot times and lengths, names, jingles, slots that never fire in the year
//!   or overlap at a station, and slot times summer time skips or repeats (notes);
//! - [`rules`]: cadence rules and whether the slots leave room to meet them;
//! - [`limits`]: the local limits, typical lengths, campaigns and blackout days.

use std::fmt;
use std::path::Path;

use chrono::TimeZone;

use crate::plan::raw::{RawPlan, S};
use crate::plan::{calendar, Plan};
use crate::text::nfc;

mod limits;
mod rules;
mod slots;
mod structure;
#[cfg(test)]
mod tests;

/// One problem in a plan file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct PlanProblem {
    /// 1-based line (0 when the problem is about the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, in words an operator understands.
    pub message: String,
}

/// Every problem found in one plan file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanReport {
    /// The file, as named by the caller.
    pub file: String,
    /// The problems, in file order.
    pub problems: Vec<PlanProblem>,
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}", self.file, p.line, p.column, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanReport {}

/// Reads and validates a plan file.
pub fn check_file(path: &Path) -> Result<Plan, PlanReport> {
    check_file_with_notes(path).map(|(plan, _)| plan)
}

/// Reads and validates a plan file; a valid plan comes with its notes: things loa handles
/// in a way the operator should know (a slot time summer time skips or repeats).
pub fn check_file_with_notes(path: &Path) -> Result<(Plan, Vec<PlanProblem>), PlanReport> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => check_with_notes(&text, &file),
        Err(e) => Err(PlanReport {
            file,
            problems: vec![PlanProblem {
                line: 0,
                column: 0,
                message: format!("cannot read the plan: {e}"),
            }],
        }),
    }
}

/// Collects problems with their positions.
struct Problems<'a> {
    text: &'a str,
    list: Vec<PlanProblem>,
    /// Not problems: what loa will do about something the plan may not expect.
    notes: Vec<PlanProblem>,
}

impl Problems<'_> {
    fn place(&self, offset: usize, message: impl Into<String>) -> PlanProblem {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        PlanProblem {
            line,
            column,
            message: message.into(),
        }
    }

    fn at_offset(&mut self, offset: usize, message: impl Into<String>) {
        let problem = self.place(offset, message);
        self.list.push(problem);
    }

    /// A note at a byte offset of the file.
    fn note_at_offset(&mut self, offset: usize, message: impl Into<String>) {
        let note = self.place(offset, message);
        self.notes.push(note);
    }

    fn at<T>(&mut self, s: &S<T>, message: impl Into<String>) {
        self.at_offset(s.span().start, message);
    }
}

/// Validates plan text read from `file`.
pub fn check(text: &str, file: &str) -> Result<Plan, PlanReport> {
    check_with_notes(text, file).map(|(plan, _)| plan)
}

/// Validates plan text read from `file`; a valid plan comes with its notes, in file order.
pub fn check_with_notes(text: &str, file: &str) -> Result<(Plan, Vec<PlanProblem>), PlanReport> {
    let mut p = Problems {
        text,
        list: Vec::new(),
        notes: Vec::new(),
    };
    let report = |mut list: Vec<PlanProblem>| {
        list.sort();
        list.dedup();
        PlanReport {
            file: file.to_string(),
            problems: list,
        }
    };
    let doc = match text.parse::<toml_edit::ImDocument<String>>() {
        Ok(d) => d,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            p.at_offset(at, format!("not valid TOML: {}", e.message().trim()));
            return Err(report(p.list));
        }
    };
    structure::unknown_keys(doc.as_table(), "", &mut p);
    let raw: RawPlan = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            p.at_offset(at, e.message().trim().to_string());
            return Err(report(p.list));
        }
    };
    let plan = build(&raw, &mut p);
    match plan {
        Some(plan) if p.list.is_empty() => {
            let mut notes = p.notes;
            notes.sort();
            notes.dedup();
            Ok((plan, notes))
        }
        _ => Err(report(p.list)),
    }
}

fn build(raw: &RawPlan, p: &mut Problems) -> Option<Plan> {
    let Some(header) = &raw.plan else {
        p.at_offset(0, "the plan has no [plan] table (name, year)");
        return None;
    };
    let h = header.get_ref();
    let year = match i32::try_from(*h.year.get_ref()) {
        Ok(y) if (2000..=2100).contains(&y) => y,
        _ => {
            p.at(
                &h.year,
                format!("year {} is not a plausible plan year", h.year.get_ref()),
            );
            return None;
        }
    };
    let default_tz = h
        .timezone
        .as_ref()
        .and_then(|t| structure::tz(t, p))
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);

    let stations = structure::stations(raw, default_tz, p);
    if stations.is_empty() {
        p.at(header, "the plan has no [[station]]");
    }
    let slots = slots::slots(raw, &stations, p);
    let rules = rules::rules(raw, &stations, p);
    let campaigns = limits::campaigns(raw, &stations, year, p);
    let blackouts = limits::blackouts(raw, &stations, year, p);
    let limits = limits::limits(raw, p);
    let nominal = limits::nominal(raw, p);
    let plan = Plan {
        name: nfc(h.name.get_ref()),
        year,
        timezone: default_tz,
        source: nfc(&h.source),
        fallback: structure::bulletin_ids(&h.fallback, p),
        stations,
        slots,
        rules,
        campaigns,
        blackouts,
        limits,
        nominal,
        text: std::sync::Arc::from(p.text),
    };
    if p.list.is_empty() {
        cross_checks(raw, &plan, p);
    }
    Some(plan)
}

/// Checks that need the whole plan: overlapping slots, local limits, impossible rules.
fn cross_checks(raw: &RawPlan, plan: &Plan, p: &mut Problems) {
    let year_start = plan
        .timezone
        .with_ymd_and_hms(plan.year, 1, 1, 0, 0, 0)
        .earliest();
    let year_end = plan
        .timezone
        .with_ymd_and_hms(plan.year + 1, 1, 1, 0, 0, 0)
        .earliest();
    let (Some(from), Some(to)) = (year_start, year_end) else {
        return;
    };
    let (from, to) = (
        from.with_timezone(&chrono::Utc),
        to.with_timezone(&chrono::Utc),
    );
    limits::session_lengths(raw, plan, p);
    slots::year_times(raw, plan, p);
    for station in &plan.stations {
        let all = calendar::raw_instances(plan, station, from, to);
        slots::overlaps(raw, plan, station, &all, p);
        if plan.limits.bind(station.level) {
            limits::days_and_sessions(raw, plan, station, &all, p);
        }
        rules::feasibility(raw, plan, station, &all, p);
    }
}
