//! Rule tests for plan validation, on the district plan and small edits of it.

use super::*;
use crate::plan::Level;

const DISTRICT: &str = include_str!("../../../schedules/vinh-loc-2023.toml");

fn problems(text: &str) -> Vec<String> {
    match check(text, "p.toml") {
        Ok(_) => vec![],
        Err(r) => r
            .problems
            .iter()
            .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
            .collect(),
    }
}

#[test]
fn the_district_plan_is_valid() {
    let plan = check(DISTRICT, "vinh-loc-2023.toml").unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(plan.year, 2023);
    assert_eq!(plan.stations.len(), 14);
    assert_eq!(
        plan.stations
            .iter()
            .filter(|s| s.level == Level::Commune)
            .count(),
        13
    );
    assert_eq!(plan.slots[2].stations.len(), 13);
    assert_eq!(plan.rules.len(), 5);
}

#[test]
fn every_unknown_key_is_reported_with_its_line() {
    let text = DISTRICT
        .replacen("max_sessions_per_day", "max_session_per_day", 1)
        .replacen("cchc = \"8m\"", "cchc = \"8m\"\nlenght = \"1m\"", 1);
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].contains("unknown key 'max_session_per_day' in [limits]"),
        "{p:?}"
    );
    assert!(p[1].contains("unknown key 'lenght' in [slot]"), "{p:?}");
    let line: usize = p[1].split(':').next().unwrap().parse().unwrap();
    assert_eq!(
        text.lines().nth(line - 1).unwrap().trim(),
        "lenght = \"1m\""
    );
}

#[test]
fn overlapping_slots_at_one_station_are_reported() {
    let text = DISTRICT.replacen("cron = \"30 16 * * *\"", "cron = \"45 5 * * *\"", 1);
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|m| m.contains("overlaps slot 'Bản tin loa truyền thanh buổi sáng'")),
        "{p:?}"
    );
}

#[test]
fn a_rule_naming_an_unknown_station_or_topic_is_reported() {
    let text = format!("{DISTRICT}\n[[rule]]\nid = \"x\"\ntype = \"topic_coverage\"\nclause = \"III\"\ntopics = [\"laws\"]\nstations = [\"vinh-xyz\"]\n");
    let p = problems(&text);
    assert!(
        p.iter().any(|m| m.contains("unknown topic 'laws'")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|m| m.contains("unknown station 'vinh-xyz'")),
        "{p:?}"
    );
}

#[test]
fn a_campaign_outside_the_year_is_reported() {
    let text = DISTRICT
        .replacen("from = \"2023-09-01\"", "from = \"2022-09-01\"", 1)
        .replacen("to = \"2023-09-30\"", "to = \"2022-09-30\"", 1);
    let p = problems(&text);
    assert!(
        p.iter().any(|m| m.contains("outside the plan's year 2023")),
        "{p:?}"
    );
}

#[test]
fn rules_that_need_more_time_than_the_slots_give_say_by_how_much() {
    let text = DISTRICT.replacen("count = 3", "count = 30", 1);
    let p = problems(&text);
    let m = p
        .iter()
        .find(|m| m.contains("CCHC time a week"))
        .unwrap_or_else(|| panic!("{p:?}"));
    assert!(m.contains("short"), "{m}");
}

#[test]
fn a_bad_cron_and_a_bad_duration_are_both_reported() {
    let text = DISTRICT
        .replacen("cron = \"0 6 * * *\"", "cron = \"0 25 * * *\"", 1)
        .replacen("length = \"30m\"", "length = \"30\"", 1);
    let p = problems(&text);
    assert!(p.iter().any(|m| m.contains("not a valid cron")), "{p:?}");
    assert!(p.iter().any(|m| m.contains("no unit")), "{p:?}");
}

#[test]
fn broken_toml_gives_one_problem_with_a_position() {
    let p = problems("[plan\nname = 1");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("1:"), "{p:?}");
}
