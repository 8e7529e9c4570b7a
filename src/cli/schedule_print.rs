//! How `loa schedule build|show|pin|unpin` print a week: a table in one language (`--lang`,
//! Vietnamese by default), or JSON whose reasons are both the text in that language
//! (`reason`) and the structured value it was rendered from (`why`).

use serde_json::Value;

use crate::lang::{Lang, Render};
use crate::report::labels;
use crate::schedule::{StationWeek, WeekSchedule};

/// The fixed words of the table.
struct Words {
    week: &'static str,
    pinned: &'static str,
    not_run: &'static str,
    no_content: &'static str,
    compliance: &'static str,
    met: &'static str,
    not_met: &'static str,
    plan_version: &'static str,
}

const VI: Words = Words {
    week: "Tuần",
    pinned: "[ghim]",
    not_run: "không phát",
    no_content: "không có nội dung CCHC",
    compliance: "Kết quả so với Kế hoạch:",
    met: "đạt",
    not_met: "CHƯA ĐẠT",
    plan_version: "phiên bản",
};

const EN: Words = Words {
    week: "Week",
    pinned: "[pinned]",
    not_run: "not run",
    no_content: "no CCHC content",
    compliance: "Compliance:",
    met: "met",
    not_met: "NOT MET",
    plan_version: "version",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

fn mmss(ms: u64) -> String {
    format!("{:02}:{:02}", ms / 60_000, (ms / 1000) % 60)
}

/// "Thứ Hai 06/03/2023 05:30" / "Mon 06/03/2023 05:30".
fn when(lang: Lang, t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    use chrono::Datelike;
    match lang {
        Lang::Vi => {
            let day = match t.weekday().number_from_monday() {
                1 => "T2",
                2 => "T3",
                3 => "T4",
                4 => "T5",
                5 => "T6",
                6 => "T7",
                _ => "CN",
            };
            format!("{day} {}", t.format("%d/%m/%Y %H:%M"))
        }
        Lang::En => t.format("%a %d/%m/%Y %H:%M").to_string(),
    }
}

/// Prints a week as a table; `plan_version` when the store kept the plan it was built by.
pub fn print_week(s: &WeekSchedule, plan_version: Option<u32>, lang: Lang) {
    let w = words(lang);
    match plan_version {
        Some(v) => println!(
            "{} {} — {} ({} {v})",
            w.week, s.week, s.plan, w.plan_version
        ),
        None => println!("{} {} — {}", w.week, s.week, s.plan),
    }
    for st in &s.stations {
        print_station(st, lang);
    }
}

/// Prints one station's week as a table.
pub fn print_station(st: &StationWeek, lang: Lang) {
    let w = words(lang);
    println!();
    println!("== {} ({})", st.name, st.code);
    for slot in &st.slots {
        let used: u64 = slot.items.iter().map(|i| i.duration_ms).sum();
        println!(
            "  {}  {}  ({} / {} CCHC)",
            when(lang, &slot.start),
            slot.name,
            mmss(used),
            mmss(u64::from(slot.cchc_s) * 1000)
        );
        for i in &slot.items {
            println!(
                "    +{}  {:<12} {:<6} {}  {}{}",
                mmss(i.offset_ms),
                labels::kind_one(lang, i.kind),
                i.topic.clause(),
                i.bulletin_id,
                i.title,
                if i.pinned {
                    format!("  {}", w.pinned)
                } else {
                    String::new()
                }
            );
        }
    }
    for s in &st.skipped_slots {
        println!(
            "  {}  {}  — {}: {}",
            when(lang, &s.start),
            s.name,
            w.not_run,
            s.reason.render(lang)
        );
    }
    for e in &st.empty_slots {
        let why = match lang {
            Lang::Vi => e.reason.vi(),
            Lang::En => e.reason.en(),
        };
        println!(
            "  {}  {}  — {}: {why}",
            when(lang, &e.start),
            e.name,
            w.no_content
        );
    }
    println!("  {}", w.compliance);
    for r in &st.compliance {
        println!(
            "    [{}] {:<20} {}/{}  {} — {}",
            if r.met { w.met } else { w.not_met },
            r.rule,
            r.planned,
            r.required,
            r.clause,
            r.reason.render(lang)
        );
    }
}

/// Moves each structured reason of a station week's JSON to `why` and puts its text in
/// `lang` in `reason`.
fn localize_station(v: &mut Value, st: &StationWeek, lang: Lang) {
    fn set(entry: Option<&mut Value>, text: String) {
        if let Some(Value::Object(o)) = entry {
            if let Some(why) = o.remove("reason") {
                o.insert("why".into(), why);
            }
            o.insert("reason".into(), Value::String(text));
        }
    }
    for (i, r) in st.compliance.iter().enumerate() {
        set(v["compliance"].get_mut(i), r.reason.render(lang));
    }
    for (i, s) in st.skipped_slots.iter().enumerate() {
        set(v["skipped_slots"].get_mut(i), s.reason.render(lang));
    }
    for (i, e) in st.empty_slots.iter().enumerate() {
        let text = match lang {
            Lang::Vi => e.reason.vi(),
            Lang::En => e.reason.en(),
        };
        set(v["empty_slots"].get_mut(i), text);
    }
}

/// A station week as JSON with its reasons in `lang` ([`localize_station`]).
pub fn station_json(st: &StationWeek, lang: Lang) -> Value {
    let mut v = serde_json::to_value(st).unwrap_or(Value::Null);
    localize_station(&mut v, st, lang);
    v
}

/// A week as JSON with its reasons in `lang`, and the plan version it was built by.
pub fn week_json(s: &WeekSchedule, plan_version: Option<u32>, lang: Lang) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    for (i, st) in s.stations.iter().enumerate() {
        if let Some(sv) = v["stations"].get_mut(i) {
            localize_station(sv, st, lang);
        }
    }
    if let (Some(n), Value::Object(o)) = (plan_version, &mut v) {
        o.insert("plan_version".into(), Value::from(n));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{RuleReason, RuleResult, SkipReason, SkippedSlot};

    #[test]
    fn json_reasons_are_text_in_the_language_with_the_structured_value_beside() {
        let st = StationWeek {
            code: "vinh-hung".into(),
            name: "Xã Vĩnh Hùng".into(),
            slots: vec![],
            skipped_slots: vec![SkippedSlot {
                name: "Sáng".into(),
                start: chrono::DateTime::parse_from_rfc3339("2023-01-23T05:30:00+07:00").unwrap(),
                reason: SkipReason::Blackout {
                    name: "Tết".into()
                },
            }],
            empty_slots: vec![],
            compliance: vec![RuleResult {
                rule: "chuyen-muc-quy".into(),
                clause: "V.4".into(),
                required: 1,
                planned: 0,
                met: false,
                reason: RuleReason::SpotsMissing {
                    station: "Xã Vĩnh Hùng".into(),
                },
            }],
        };
        let v = station_json(&st, Lang::Vi);
        assert_eq!(
            v["compliance"][0]["reason"],
            "không có khẩu hiệu đã duyệt nào cho Xã Vĩnh Hùng"
        );
        assert_eq!(v["compliance"][0]["why"]["k"], "spots_missing");
        assert_eq!(v["skipped_slots"][0]["reason"], "ngày tạm dừng phát: Tết");
        let v = station_json(&st, Lang::En);
        assert_eq!(v["skipped_slots"][0]["reason"], "blackout: Tết");
    }
}
