//! Cadence rules: each rule's type and the keys it takes, and whether a station's slots
//! leave room to meet all its rules in the best week.

use std::collections::BTreeMap;

use chrono::Datelike;

use super::structure::{duration, expand, parse_list, positive};
use super::Problems;
use crate::library::{Kind, Topic};
use crate::plan::calendar;
use crate::plan::raw::{self, RawPlan, S};
use crate::plan::timing::format_duration;
use crate::plan::{Plan, Rule, RuleBody, Station};
use crate::text::nfc;

pub(super) fn kinds(r: &raw::RawRule, p: &mut Problems, rule: &S<raw::RawRule>) -> Vec<Kind> {
    match &r.kinds {
        Some(k) => {
            let v: Vec<Kind> = parse_list(k.get_ref(), p);
            if k.get_ref().is_empty() {
                p.at(k, "names no kind");
            }
            v
        }
        None => {
            p.at(
                rule,
                format!(
                    "rule '{}' ({}) needs 'kinds'",
                    r.id.get_ref(),
                    r.kind.get_ref()
                ),
            );
            vec![]
        }
    }
}

pub(super) fn need<'a, T>(
    v: &'a Option<S<T>>,
    key: &str,
    r: &raw::RawRule,
    rule: &S<raw::RawRule>,
    p: &mut Problems,
) -> Option<&'a S<T>> {
    if v.is_none() {
        p.at(
            rule,
            format!(
                "rule '{}' ({}) needs '{key}'",
                r.id.get_ref(),
                r.kind.get_ref()
            ),
        );
    }
    v.as_ref()
}

pub(super) fn rules(raw: &RawPlan, stations: &[Station], p: &mut Problems) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    for rule in &raw.rule {
        let r = rule.get_ref();
        let id = r.id.get_ref().trim().to_string();
        if out.iter().any(|o| o.id == id) {
            p.at(&r.id, format!("rule id '{id}' is used twice"));
        }
        let present: Vec<(&str, bool)> = vec![
            ("kinds", r.kinds.is_some()),
            ("topics", r.topics.is_some()),
            ("count", r.count.is_some()),
            ("times", r.times.is_some()),
            ("min_gap", r.min_gap.is_some()),
            ("per_week", r.per_week.is_some()),
            ("per", r.per.is_some()),
        ];
        let applies: &[&str] = match r.kind.get_ref().as_str() {
            "min_distinct" => &["kinds", "count"],
            "repeat" => &["kinds", "times", "min_gap"],
            "column" => &["per_week"],
            "topic_coverage" => &["topics", "per"],
            "spots_between" => &[],
            other => {
                p.at(&r.kind, format!("unknown rule type '{other}' (min_distinct, repeat, column, topic_coverage, spots_between)"));
                continue;
            }
        };
        for (key, is) in present {
            if is && !applies.contains(&key) {
                p.at(
                    rule,
                    format!(
                        "'{key}' does not apply to a {} rule ('{id}')",
                        r.kind.get_ref()
                    ),
                );
            }
        }
        let body = match r.kind.get_ref().as_str() {
            "min_distinct" => {
                let kinds = kinds(r, p, rule);
                let count =
                    need(&r.count, "count", r, rule, p).and_then(|c| positive(c, "count", p));
                count.map(|count| RuleBody::MinDistinct { kinds, count })
            }
            "repeat" => {
                let kinds = kinds(r, p, rule);
                let times =
                    need(&r.times, "times", r, rule, p).and_then(|c| positive(c, "times", p));
                let gap =
                    need(&r.min_gap, "min_gap", r, rule, p).and_then(|g| duration(g, "min_gap", p));
                match (times, gap) {
                    (Some(times), Some(min_gap_s)) => Some(RuleBody::Repeat {
                        kinds,
                        times,
                        min_gap_s,
                    }),
                    _ => None,
                }
            }
            "column" => need(&r.per_week, "per_week", r, rule, p)
                .and_then(|c| positive(c, "per_week", p))
                .map(|per_week| RuleBody::Column { per_week }),
            "topic_coverage" => {
                if let Some(per) = &r.per {
                    if per.get_ref() != "month" {
                        p.at(
                            per,
                            format!("per '{}': only \"month\" is supported", per.get_ref()),
                        );
                    }
                }
                let topics = r
                    .topics
                    .as_ref()
                    .map_or_else(|| Topic::ALL.to_vec(), |t| parse_list(t.get_ref(), p));
                Some(RuleBody::TopicCoverage { topics })
            }
            _ => Some(RuleBody::SpotsBetween),
        };
        let stations = expand(r.stations.as_ref(), stations, p);
        if let Some(body) = body {
            out.push(Rule {
                id,
                clause: nfc(r.clause.get_ref()),
                stations,
                body,
            });
        }
    }
    out
}

/// Reports rules that cannot all be met in the best week the slots give.
pub(super) fn feasibility(
    raw: &RawPlan,
    plan: &Plan,
    station: &Station,
    all: &[calendar::RawInstance],
    p: &mut Problems,
) {
    let mut weeks: BTreeMap<(i32, u32), (u64, u32)> = BTreeMap::new();
    for i in all {
        let w = i.start.with_timezone(&station.timezone).iso_week();
        let slot = &plan.slots[i.slot];
        let jingles = u64::from(slot.intro.is_some() as u8 + slot.outro.is_some() as u8)
            * plan.nominal.of(Kind::Jingle);
        let e = weeks.entry((w.year(), w.week())).or_default();
        e.0 += (u64::from(slot.cchc_s) * 1000).saturating_sub(jingles);
        e.1 += 1;
    }
    let (capacity_ms, sessions) = weeks.values().copied().max().unwrap_or((0, 0));
    let mut need_ms: u64 = 0;
    let rules: Vec<(usize, &Rule)> = plan
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.stations.contains(&station.code))
        .collect();
    for (ri, rule) in &rules {
        match &rule.body {
            RuleBody::MinDistinct { kinds, count } => {
                let times = rules
                    .iter()
                    .find_map(|(_, r)| match &r.body {
                        RuleBody::Repeat {
                            kinds: k, times, ..
                        } if k.iter().any(|x| kinds.contains(x)) => Some(*times),
                        _ => None,
                    })
                    .unwrap_or(1);
                let avg = kinds.iter().map(|k| plan.nominal.of(*k)).sum::<u64>()
                    / kinds.len().max(1) as u64;
                need_ms += u64::from(*count) * u64::from(times) * avg;
            }
            RuleBody::Column { per_week } => {
                need_ms += u64::from(*per_week) * plan.nominal.of(Kind::Column)
            }
            RuleBody::Repeat {
                times, min_gap_s, ..
            } => {
                let r = raw.rule[*ri].get_ref();
                if *times > sessions && sessions > 0 {
                    p.at(&r.id, format!("rule '{}' wants each item {times} times a week but station '{}' has only {sessions} sessions a week", rule.id, station.code));
                }
                let span = u64::from(times.saturating_sub(1)) * u64::from(*min_gap_s);
                if span >= 7 * 86_400 {
                    p.at(&r.id, format!("rule '{}': {times} airings at least {} apart need {} — more than a week", rule.id, format_duration((*min_gap_s).into()), format_duration(span)));
                }
            }
            _ => {}
        }
    }
    if need_ms > capacity_ms {
        let at = raw
            .station
            .iter()
            .find(|s| s.get_ref().code.get_ref() == &station.code);
        if let Some(at) = at {
            p.at(at, format!(
                "the rules need about {} of CCHC time a week at '{}' but its slots give at most {}: {} short",
                format_duration(need_ms / 1000), station.code, format_duration(capacity_ms / 1000), format_duration((need_ms - capacity_ms).div_ceil(1000))
            ));
        }
    }
}
