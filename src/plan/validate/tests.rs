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

/// A one-station plan in `tz` with one slot at `cron`, for the checks below.
fn small(tz: &str, cron: &str, extra: &str) -> String {
    format!(
        "[plan]\nname = \"Thử\"\nyear = 2023\ntimezone = \"{tz}\"\n\n[[station]]\ncode = \"xa-a\"\nname = \"Xã A\"\nlevel = \"commune\"\n{extra}\n[[slot]]\nname = \"Bản tin\"\nstations = [\"all\"]\ncron = \"{cron}\"\nlength = \"10m\"\ncchc = \"5m\"\n"
    )
}

/// `line:column` of the first occurrence of `needle` in `text`, 1-based.
fn position(text: &str, needle: &str) -> String {
    let at = text.find(needle).expect("needle in text");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    format!("{line}:{column}")
}

#[test]
fn a_cron_that_never_fires_in_the_plans_year_is_reported_at_its_cron() {
    for (cron, fields) in [
        ("0 6 30 2 *", "day-of-month 30 and month 2"),
        ("0 6 31 4 *", "day-of-month 31 and month 4"),
    ] {
        let text = DISTRICT.replacen("cron = \"0 6 * * *\"", &format!("cron = \"{cron}\""), 1);
        let p = problems(&text);
        let want = format!(
            "{}: slot 'Chương trình phát thanh buổi sáng': cron '{cron}' never fires in 2023: no date of 2023 has {fields}",
            position(&text, &format!("\"{cron}\""))
        );
        assert!(p.contains(&want), "{want}\n{p:#?}");
    }
}

#[test]
fn a_cron_error_speaks_of_the_five_fields_and_points_at_the_faulty_one() {
    let text = DISTRICT.replacen("cron = \"0 6 * * *\"", "cron = \"0 25 * * *\"", 1);
    let p = problems(&text);
    let want = format!(
        "{}: '0 25 * * *' is not a valid cron expression: hour 25 is out of range: hours run from 0 to 23",
        position(&text, "25 * * *\"")
    );
    assert_eq!(p, vec![want]);
}

#[test]
fn a_blank_station_name_is_reported() {
    let text = DISTRICT.replacen("name = \"Xã Vĩnh An\"", "name = \"  \"", 1);
    let p = problems(&text);
    let want = format!(
        "{}: station 'vinh-an' has a blank name (give its name, e.g. \"Xã Vĩnh Hùng\")",
        position(&text, "\"  \"")
    );
    assert_eq!(p, vec![want]);
}

#[test]
fn an_empty_slot_name_is_reported() {
    let text = DISTRICT.replacen(
        "name = \"Chương trình phát thanh buổi chiều\"",
        "name = \"\"",
        1,
    );
    let p = problems(&text);
    let want = format!(
        "{}: a slot has an empty name (give it one, e.g. \"Bản tin buổi sáng\")",
        position(&text, "\"\"\n")
    );
    assert_eq!(p, vec![want]);
}

#[test]
fn a_slot_name_used_twice_is_reported_at_the_second() {
    let text = DISTRICT.replacen(
        "name = \"Chương trình phát thanh buổi chiều\"",
        "name = \"Chương trình phát thanh buổi sáng\"",
        1,
    );
    // The second occurrence of the name is the second slot's.
    let second = text.rfind("\"Chương trình phát thanh buổi sáng\"").unwrap();
    let line = text[..second].matches('\n').count() + 1;
    let column = text[..second].rsplit('\n').next().unwrap().chars().count() + 1;
    assert_eq!(
        problems(&text),
        vec![format!("{line}:{column}: slot name 'Chương trình phát thanh buổi sáng' is used twice: give each slot its own name")]
    );
}

#[test]
fn successors_that_go_round_in_a_circle_are_reported_once() {
    let stations = "valid_until = \"2023-06-30\"\nsuccessor = \"xa-b\"\n\n[[station]]\ncode = \"xa-b\"\nname = \"Xã B\"\nlevel = \"commune\"\nvalid_until = \"2023-06-30\"\nsuccessor = \"xa-a\"\n";
    let text = small("Asia/Ho_Chi_Minh", "0 6 * * *", stations);
    let p = problems(&text);
    let want = format!(
        "{}: successors go round in a circle: 'xa-a' → 'xa-b' → 'xa-a' (each station needs a last successor)",
        position(&text, "\"xa-b\"\n")
    );
    assert_eq!(p, vec![want]);
}

#[test]
fn an_output_no_sink_understands_is_reported_and_the_known_ones_pass() {
    let text = small("Asia/Ho_Chi_Minh", "0 6 * * *", "output = \"speaker\"\n");
    assert_eq!(
        problems(&text),
        vec![format!(
            "{}: output 'speaker' is not one loa can play to: write device, device:NAME, wav, wav:DIR, null or agent",
            position(&text, "\"speaker\"")
        )]
    );
    for ok in [
        "device",
        "device:hw:0,0",
        "wav",
        "wav:/tmp/cap",
        "null",
        "agent",
    ] {
        let text = small(
            "Asia/Ho_Chi_Minh",
            "0 6 * * *",
            &format!("output = \"{ok}\"\n"),
        );
        let plan = check(&text, "p.toml").unwrap_or_else(|r| panic!("{ok}: {r}"));
        assert_eq!(plan.stations[0].output.to_string(), ok);
    }
}

#[test]
fn slot_times_summer_time_skips_or_repeats_get_a_note_saying_what_loa_does() {
    let text = small("Europe/Berlin", "30 2 * * *", "");
    let (_, notes) = check_with_notes(&text, "p.toml").unwrap_or_else(|r| panic!("{r}"));
    let at = position(&text, "\"30 2 * * *\"");
    let notes: Vec<String> = notes
        .iter()
        .map(|n| format!("{}:{}: {}", n.line, n.column, n.message))
        .collect();
    assert_eq!(
        notes,
        vec![
            format!("{at}: slot 'Bản tin' at 'xa-a': 02:30 does not exist on 26/03/2023 in Europe/Berlin (clocks go from 02:00 to 03:00); loa plays the slot once, at 03:00"),
            format!("{at}: slot 'Bản tin' at 'xa-a': 02:30 happens twice on 29/10/2023 in Europe/Berlin (summer time ends); loa plays the slot once, at the first 02:30 (UTC+02:00)"),
        ]
    );
    let (_, none) =
        check_with_notes(&small("Asia/Ho_Chi_Minh", "30 2 * * *", ""), "p.toml").unwrap();
    assert!(none.is_empty(), "{none:?}");
}
