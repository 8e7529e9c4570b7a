//! The summary as titled tables in a language (pure), so the XLSX summary sheet and the
//! printable page show the same numbers in the same order.

use crate::airlog::AirStatus;
use crate::lang::Render;
use crate::library::{Kind, Topic};

use super::labels::{self, words};
use super::summary::{RuleTotal, Summary, Tally};
use super::{date_vi, Lang};

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Text.
    Text(String),
    /// A count.
    Int(i64),
    /// Minutes or a percentage, one decimal.
    Dec(f64),
}

/// A titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Section heading.
    pub heading: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Val>>,
    /// A line under the table (legend, or what was left out).
    pub note: Option<String>,
    /// Which table it is (the page's CSS gives each its column widths).
    pub class: &'static str,
}

/// The four kinds Phòng Nội vụ counts (jingles only frame them).
pub const COUNTED_KINDS: [Kind; 4] = [Kind::News, Kind::Article, Kind::Column, Kind::Spot];

fn t(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

fn counts_row(name: &str, x: &Tally) -> Vec<Val> {
    let mut row = vec![t(name)];
    for k in COUNTED_KINDS {
        row.push(Val::Int(x.items(k) as i64));
        row.push(Val::Int(x.airings_of(k) as i64));
    }
    row.push(Val::Int(x.airings as i64));
    row.push(Val::Dec(x.minutes()));
    row.push(Val::Int(x.rows as i64));
    row
}

fn topics_row(name: &str, x: &Tally) -> Vec<Val> {
    let mut row = vec![t(name)];
    row.extend(x.by_topic.iter().map(|(a, _)| Val::Int(*a as i64)));
    row.push(Val::Dec(super::summary::minutes(
        x.by_topic.iter().map(|(_, ms)| ms).sum(),
    )));
    row
}

fn rule_row(lang: Lang, station: &str, r: &RuleTotal) -> Vec<Val> {
    let w = words(lang);
    // The three most frequent reasons; the XLSX and the weekly forecasts have the rest.
    let mut by_count: Vec<(String, u32)> = r
        .reasons
        .iter()
        .map(|(why, n)| (why.render(lang), *n))
        .collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut reasons: Vec<String> = by_count
        .iter()
        .take(3)
        .map(|(why, n)| format!("{why} ({n})"))
        .collect();
    if by_count.len() > 3 {
        reasons.push("…".into());
    }
    vec![
        t(station),
        t(format!("{} — {}", r.rule, r.clause)),
        Val::Int(r.required as i64),
        Val::Int(r.aired as i64),
        Val::Dec(r.percent()),
        t(if r.met() { w.yes } else { w.no }),
        t(format!("{}/{}", r.weeks_met, r.weeks)),
        t(reasons.join("; ")),
    ]
}

/// "Đánh giá theo Kế hoạch: NAME, phiên bản 2 (SHA-256 0123456789ab…)": the plans the
/// weeks were judged by.
pub fn judged_by_note(lang: Lang, s: &Summary) -> String {
    let w = words(lang);
    let plans: Vec<String> = s
        .judged_by
        .iter()
        .map(|j| {
            let version = match j.version {
                Some(v) => format!("{} {v}", w.version),
                None => w.not_kept.to_string(),
            };
            format!(
                "{}, {version} (SHA-256 {}…)",
                j.name,
                j.sha256.get(..12).unwrap_or(&j.sha256)
            )
        })
        .collect();
    format!("{}: {}.", w.judged_by, plans.join("; "))
}

/// The summary's tables, in report order.
pub fn tables(lang: Lang, s: &Summary) -> Vec<Table> {
    let w = words(lang);
    let mut out = Vec::new();
    // 1. Counts by kind.
    let mut header = vec![w.station.to_string()];
    for k in COUNTED_KINDS {
        header.push(format!("{}: {}", labels::kind(lang, k), w.items));
        header.push(format!(
            "{}: {}",
            labels::kind(lang, k),
            w.airings.to_lowercase()
        ));
    }
    header.extend([
        w.airings.to_string(),
        w.minutes.to_string(),
        w.rows.to_string(),
    ]);
    let mut rows: Vec<Vec<Val>> = s
        .stations
        .iter()
        .map(|st| counts_row(&st.name, &st.tally))
        .collect();
    rows.push(counts_row(w.total, &s.total));
    out.push(Table {
        heading: w.sec_counts.to_string(),
        header,
        rows,
        note: None,
        class: "counts",
    });
    // 2. By topic.
    let mut header = vec![w.station.to_string()];
    header.extend(Topic::ALL.iter().map(|t| t.clause().to_string()));
    header.push(w.minutes.to_string());
    let mut rows: Vec<Vec<Val>> = s
        .stations
        .iter()
        .map(|st| topics_row(&st.name, &st.tally))
        .collect();
    rows.push(topics_row(w.total, &s.total));
    let legend: Vec<String> = Topic::ALL.iter().map(|t| labels::topic(lang, *t)).collect();
    out.push(Table {
        heading: w.sec_topics.to_string(),
        header,
        rows,
        note: Some(format!(
            "{} ({}).",
            legend.join("; "),
            w.airings.to_lowercase()
        )),
        class: "topics",
    });
    // 3. By producer.
    let mut rows: Vec<Vec<Val>> = s
        .total
        .by_producer
        .iter()
        .map(|(p, (a, ms))| {
            vec![
                t(if p.is_empty() { w.unknown } else { p.as_str() }),
                Val::Int(*a as i64),
                Val::Dec(super::summary::minutes(*ms)),
            ]
        })
        .collect();
    rows.push(vec![
        t(w.total),
        Val::Int(s.total.by_producer.values().map(|(a, _)| *a as i64).sum()),
        Val::Dec(super::summary::minutes(
            s.total.by_producer.values().map(|(_, ms)| *ms).sum(),
        )),
    ]);
    out.push(Table {
        heading: w.sec_producers.to_string(),
        header: vec![w.producer.into(), w.airings.into(), w.minutes.into()],
        rows,
        note: None,
        class: "producers",
    });
    // 4. Compliance.
    let mut rows = Vec::new();
    for st in &s.stations {
        rows.extend(st.rules.iter().map(|r| rule_row(lang, &st.name, r)));
    }
    rows.extend(s.total_rules().iter().map(|r| rule_row(lang, w.total, r)));
    out.push(Table {
        heading: w.sec_compliance.to_string(),
        header: [
            w.station,
            w.rule,
            w.required,
            w.aired,
            w.percent,
            w.met,
            w.weeks_met,
            w.reasons,
        ]
        .map(str::to_string)
        .to_vec(),
        rows,
        note: Some(if s.has_plan {
            judged_by_note(lang, s)
        } else {
            w.no_plan.to_string()
        }),
        class: "compliance",
    });
    // 5. Incidents: counts, slots not run, then the list.
    let statuses = super::summary::INCIDENT_STATUSES;
    let mut header = vec![w.station.to_string()];
    header.extend(statuses.iter().map(|st| st.render(lang)));
    header.push(w.skipped_slots.to_string());
    let rows = s
        .stations
        .iter()
        .map(|st| {
            let mut row = vec![t(&st.name)];
            row.extend(
                statuses
                    .iter()
                    .map(|x| Val::Int(st.tally.by_status.get(x).copied().unwrap_or(0) as i64)),
            );
            let skipped: Vec<String> = st
                .skipped_slots
                .iter()
                .map(|(why, n)| format!("{} ({n})", why.render(lang)))
                .collect();
            row.push(t(skipped.join("; ")));
            row
        })
        .collect();
    out.push(Table {
        heading: w.sec_incidents.to_string(),
        header,
        rows,
        note: None,
        class: "incidents",
    });
    // The slot instances as the airlog's slot rows tell them.
    let slot_statuses = AirStatus::CLOSED;
    let mut header = vec![w.station.to_string(), w.slots_col.to_string()];
    header.extend(slot_statuses.iter().map(|st| st.render(lang)));
    let slot_row = |name: &str, x: &Tally| {
        let mut row = vec![t(name), Val::Int(x.slots.values().sum::<u64>() as i64)];
        row.extend(
            slot_statuses
                .iter()
                .map(|st| Val::Int(x.slots.get(st).copied().unwrap_or(0) as i64)),
        );
        row
    };
    let mut rows: Vec<Vec<Val>> = s
        .stations
        .iter()
        .map(|st| slot_row(&st.name, &st.tally))
        .collect();
    rows.push(slot_row(w.total, &s.total));
    out.push(Table {
        heading: w.slots_heading.to_string(),
        header,
        rows,
        note: None,
        class: "slots",
    });
    let more = s.incidents_total.saturating_sub(s.incidents.len() as u64);
    out.push(Table {
        heading: String::new(),
        header: [w.station, w.time, w.title_col, w.status, w.reason]
            .map(str::to_string)
            .to_vec(),
        rows: s
            .incidents
            .iter()
            .map(|i| {
                vec![
                    t(&i.station),
                    t(format!(
                        "{} {}",
                        date_vi(i.planned_start.date_naive()),
                        i.planned_start.format("%H:%M:%S")
                    )),
                    t(&i.title),
                    t(i.status.render(lang)),
                    t(i.reason.render(lang)),
                ]
            })
            .collect(),
        note: if s.incidents_total == 0 {
            Some(w.no_incidents.to_string())
        } else if more > 0 {
            Some(format!("… {more} {}", w.more_incidents))
        } else {
            None
        },
        class: "incident-list",
    });
    out
}
