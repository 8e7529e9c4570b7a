//! The plan and schedule commands on the real binary: `plan check` on good and bad plan
//! files, and `schedule build/show/pin/unpin/lock` over libraries that are too thin, just
//! enough and plentiful, kept in a real SQLite file.

mod common;

use chrono::DateTime;
use common::{repo, Loa};
use loa::library::{
    ApprovalState, AudioFacts, Bulletin, BulletinId, BulletinMeta, Kind, Priority, StateChange,
    Topic,
};
use loa::store::Store;

const PLAN: &str = "schedules/vinh-loc-2023.toml";

fn plan() -> String {
    repo().join(PLAN).display().to_string()
}

fn bulletin(n: u32, kind: Kind, topic: Topic, seconds: u64) -> Bulletin {
    let sha = format!("{n:012x}{}", "a".repeat(52));
    Bulletin {
        id: BulletinId::from_sha256(&sha),
        meta: BulletinMeta {
            title: format!("Bản tin {n}"),
            kind,
            topic,
            priority: Priority::Normal,
            producer: "Trung tâm VH-TT-TT&DL".into(),
            language: "vi".into(),
            valid_from: None,
            valid_until: None,
            stations: vec![],
            notes: String::new(),
        },
        audio: AudioFacts {
            sha256: sha.clone(),
            size_bytes: 1000,
            codec: "mp3".into(),
            container: "mp3".into(),
            sample_rate: 44_100,
            channels: 1,
            duration_ms: seconds * 1000,
            frames: seconds * 44_100,
            loudness_lufs: Some(-18.0),
            loudness_range_lu: Some(4.0),
            true_peak_dbtp: Some(-2.0),
            leading_silence_ms: 0,
            trailing_silence_ms: 0,
            tag_title: None,
            tag_artist: None,
        },
        audio_path: format!("{}/{}.mp3", &sha[..2], &sha[2..]),
        original_name: format!("{n}.mp3"),
        state: ApprovalState::Approved,
        added: StateChange {
            by: "test".into(),
            at: DateTime::from_timestamp(1_672_531_200 + i64::from(n), 0).unwrap(),
        },
        approved: None,
        retired: None,
    }
}

/// `per_topic` news and articles in each topic, plus a column, two spots and a jingle.
fn library(per_topic: u32) -> Vec<Bulletin> {
    let mut lib = Vec::new();
    let mut n = 1;
    for t in Topic::ALL {
        for _ in 0..per_topic {
            lib.push(bulletin(n, Kind::News, *t, 60 + u64::from(n % 4) * 15));
            lib.push(bulletin(n + 1, Kind::Article, *t, 150));
            n += 2;
        }
    }
    lib.push(bulletin(500, Kind::Column, Topic::Examples, 240));
    lib.push(bulletin(501, Kind::Spot, Topic::Other, 15));
    lib.push(bulletin(502, Kind::Spot, Topic::EProcedures, 12));
    lib.push(bulletin(503, Kind::Jingle, Topic::Other, 5));
    lib
}

async fn seeded(lib: &[Bulletin]) -> Loa {
    let loa = Loa::init();
    let store = loa.store().await;
    store.add_bulletins(lib).await.unwrap();
    store.close().await;
    loa
}

fn rule<'a>(station: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    station["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

#[test]
fn the_district_plan_checks_clean() {
    let loa = Loa::uninitialised();
    let out = loa.run(&["plan", "check", &plan(), "--json"]).expect(0);
    let j = out.json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["stations"], 14);
    assert_eq!(j["problems"].as_array().unwrap().len(), 0);
}

/// Writes the district plan with one edit and checks that `plan check` names the problem.
fn bad_plan(edit: impl Fn(&str) -> String, expect: &[&str]) {
    let loa = Loa::uninitialised();
    let text = std::fs::read_to_string(repo().join(PLAN)).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit must change the plan");
    std::fs::create_dir_all(loa.dir.path()).unwrap();
    let path = loa.dir.path().join("ke-hoach.toml");
    std::fs::write(&path, edited).unwrap();
    let out = loa
        .run(&["plan", "check", path.to_str().unwrap()])
        .expect(2);
    for e in expect {
        assert!(out.stderr.contains(e), "expected «{e}» in:\n{}", out.stderr);
    }
    assert!(out.stderr.contains("ke-hoach.toml:"), "{}", out.stderr);
}

#[test]
fn a_bad_cron_expression_is_named_with_its_line() {
    bad_plan(
        |t| t.replacen("cron = \"0 17 * * *\"", "cron = \"0 17 * *\"", 1),
        &["expected 5 fields", ":121:"],
    );
}

#[test]
fn an_unknown_key_is_named() {
    bad_plan(
        |t| t.replacen("boost = 2", "boost = 2\nboots = 3", 1),
        &["unknown key 'boots' in [campaign]"],
    );
}

#[test]
fn overlapping_slots_are_named() {
    bad_plan(
        |t| t.replacen("cron = \"30 16 * * *\"", "cron = \"40 5 * * *\"", 1),
        &["overlaps slot 'Bản tin loa truyền thanh buổi sáng'"],
    );
}

#[test]
fn a_rule_for_an_unknown_station_is_named() {
    bad_plan(
        |t| {
            t.replacen(
                "id = \"khau-hieu\"",
                "id = \"khau-hieu\"\nstations = [\"vinh-xyz\"]",
                1,
            )
        },
        &["unknown station 'vinh-xyz'"],
    );
}

#[test]
fn an_impossible_rule_says_by_how_much() {
    bad_plan(
        |t| t.replacen("per_week = 2", "per_week = 20", 1),
        &["of CCHC time a week", "short"],
    );
}

#[test]
fn a_campaign_that_ends_before_it_starts_is_named() {
    bad_plan(
        |t| t.replacen("from = \"2023-03-01\"", "from = \"2024-03-01\"", 1),
        &["campaign 'Đợt tuyên truyền dịch vụ công trực tuyến và BCCI' ends"],
    );
}

#[test]
fn a_missing_plan_file_is_bad_input() {
    let loa = Loa::uninitialised();
    let out = loa
        .run(&["plan", "check", "/nonexistent/plan.toml"])
        .expect(2);
    assert!(
        out.stderr.contains("/nonexistent/plan.toml"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_plentiful_library_fills_the_week_and_meets_the_weekly_rules() {
    let loa = seeded(&library(3)).await;
    let out = loa
        .run(&[
            "schedule",
            "build",
            "--plan",
            &plan(),
            "--week",
            "2023-W10",
            "--json",
        ])
        .expect(0);
    let j = out.json();
    assert_eq!(j["week"], "2023-W10");
    assert_eq!(
        j["plan"],
        "Kế hoạch tuyên truyền CCHC năm 2023 — huyện Vĩnh Lộc"
    );
    let stations = j["stations"].as_array().unwrap();
    assert_eq!(stations.len(), 14);
    for st in stations {
        let slots = st["slots"].as_array().unwrap();
        assert_eq!(slots.len(), 14, "{}", st["code"]);
        for slot in slots {
            let start = slot["start"].as_str().unwrap();
            assert!(start.ends_with("+07:00"), "{start}");
            let cchc_ms = slot["cchc_s"].as_u64().unwrap() * 1000;
            let mut at = 0;
            for item in slot["items"].as_array().unwrap() {
                assert_eq!(item["offset_ms"].as_u64().unwrap(), at);
                at += item["duration_ms"].as_u64().unwrap();
                for key in ["bulletin_id", "title", "kind", "topic", "pinned"] {
                    assert!(!item[key].is_null(), "{key}");
                }
            }
            assert!(at <= cchc_ms);
        }
        for id in [
            "tin-bai-hang-tuan",
            "lap-lai-tin-bai",
            "chuyen-muc-quy",
            "khau-hieu",
        ] {
            let r = rule(st, id);
            assert_eq!(r["met"], true, "{} {r}", st["code"]);
            assert!(!r["clause"].as_str().unwrap().is_empty());
        }
    }
    // Kept: show gives the same week.
    let shown = loa
        .run(&[
            "schedule",
            "show",
            "--week",
            "2023-W10",
            "--station",
            "vinh-an",
            "--json",
        ])
        .expect(0)
        .json();
    let built = stations.iter().find(|s| s["code"] == "vinh-an").unwrap();
    assert_eq!(&shown["stations"][0], built);
}

#[tokio::test]
async fn a_thin_library_builds_and_says_what_is_missing() {
    let lib = vec![
        bulletin(1, Kind::News, Topic::Documents, 60),
        bulletin(2, Kind::Article, Topic::Other, 120),
    ];
    let loa = seeded(&lib).await;
    let out = loa
        .run(&[
            "schedule",
            "build",
            "--plan",
            &plan(),
            "--week",
            "2023-W10",
            "--station",
            "vinh-hung",
            "--json",
            "--lang",
            "en",
        ])
        .expect(0);
    let st = &out.json()["stations"][0];
    let r = rule(st, "tin-bai-hang-tuan");
    assert_eq!(
        (
            r["required"].as_u64(),
            r["planned"].as_u64(),
            r["met"].as_bool()
        ),
        (Some(3), Some(2), Some(false))
    );
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("the library has 2 approved for Xã Vĩnh Hùng"),
        "{r}"
    );
    let c = rule(st, "chuyen-muc-quy");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("no approved column valid in Q1 2023"),
        "{c}"
    );
    // Vietnamese by default: the same reasons in Vietnamese, the structured value beside.
    let shown = loa
        .run(&[
            "schedule",
            "show",
            "--week",
            "2023-W10",
            "--station",
            "vinh-hung",
            "--json",
        ])
        .expect(0)
        .json();
    let c = rule(&shown["stations"][0], "chuyen-muc-quy");
    assert_eq!(
        c["reason"],
        "không có chuyên mục đã duyệt nào còn hiệu lực trong quý I năm 2023 cho Xã Vĩnh Hùng; Kế hoạch yêu cầu mỗi quý 01 chuyên mục"
    );
    assert_eq!(c["why"]["k"], "column_missing");
    let table = loa
        .run(&["schedule", "show", "--week", "2023-W10"])
        .expect(0)
        .stdout;
    assert!(
        table.contains("CHƯA ĐẠT") && !table.contains("compliance"),
        "{table}"
    );
}

#[tokio::test]
async fn just_enough_library_meets_the_distinct_items_rule_exactly() {
    let lib = vec![
        bulletin(1, Kind::News, Topic::Documents, 60),
        bulletin(2, Kind::News, Topic::EProcedures, 60),
        bulletin(3, Kind::Article, Topic::Examples, 120),
    ];
    let loa = seeded(&lib).await;
    let j = loa
        .run(&[
            "schedule",
            "build",
            "--plan",
            &plan(),
            "--week",
            "2023-W11",
            "--station",
            "vinh-an",
            "--json",
        ])
        .expect(0)
        .json();
    let r = rule(&j["stations"][0], "tin-bai-hang-tuan");
    assert_eq!(
        (
            r["required"].as_u64(),
            r["planned"].as_u64(),
            r["met"].as_bool()
        ),
        (Some(3), Some(3), Some(true)),
        "{r}"
    );
}

#[tokio::test]
async fn rebuilding_keeps_pins_and_a_locked_week_needs_force() {
    let lib = library(3);
    let loa = seeded(&lib).await;
    let args = [
        "schedule",
        "build",
        "--plan",
        &plan(),
        "--week",
        "2023-W10",
        "--station",
        "vinh-an",
        "--json",
    ];
    let first = loa.run(&args).expect(0).json();
    let slot = &first["stations"][0]["slots"][0];
    let in_slot: Vec<&str> = slot["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["bulletin_id"].as_str().unwrap())
        .collect();
    let extra = lib
        .iter()
        .find(|b| b.meta.kind == Kind::News && !in_slot.contains(&b.id.as_str()))
        .unwrap();
    let victim = slot["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "article")
        .unwrap()["bulletin_id"]
        .as_str()
        .unwrap()
        .to_string();
    let start = "2023-03-06 05:30";
    let p = plan();
    let edit = |cmd: &str, id: &str| {
        loa.run(&[
            "schedule",
            cmd,
            "--plan",
            &p,
            "--week",
            "2023-W10",
            "--station",
            "vinh-an",
            "--slot",
            start,
            "--bulletin",
            id,
            "--json",
        ])
    };
    // Taking an article out makes room; the pinned news item goes in.
    edit("unpin", &victim).expect(0);
    let pinned = edit("pin", extra.id.as_str()).expect(0).json();
    let items = pinned["slots"][0]["items"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|i| i["bulletin_id"] == extra.id.as_str() && i["pinned"] == true));
    assert!(!items.iter().any(|i| i["bulletin_id"] == victim.as_str()));
    // A rebuild keeps both decisions.
    let rebuilt = loa.run(&args).expect(0).json();
    let items = rebuilt["stations"][0]["slots"][0]["items"]
        .as_array()
        .unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["bulletin_id"] == extra.id.as_str() && i["pinned"] == true),
        "{items:?}"
    );
    assert!(!items.iter().any(|i| i["bulletin_id"] == victim.as_str()));
    // Locked: rebuilds and edits are refused, --force rebuilds.
    loa.run(&["schedule", "lock", "--week", "2023-W10"])
        .expect(0);
    let refused = loa.run(&args).expect(2);
    assert!(
        refused.stderr.contains("locked at vinh-an"),
        "{}",
        refused.stderr
    );
    edit("unpin", extra.id.as_str()).expect(2);
    let mut forced = args.to_vec();
    forced.push("--force");
    loa.run(&forced).expect(0);
    loa.run(&["schedule", "unlock", "--week", "2023-W10"])
        .expect(0);
    loa.run(&args).expect(0);
}

#[tokio::test]
async fn a_dry_run_keeps_nothing() {
    let loa = seeded(&library(1)).await;
    loa.run(&[
        "schedule",
        "build",
        "--plan",
        &plan(),
        "--week",
        "2023-W10",
        "--dry-run",
    ])
    .expect(0);
    let out = loa
        .run(&["schedule", "show", "--week", "2023-W10"])
        .expect(2);
    assert!(
        out.stderr.contains("no schedule kept for 2023-W10"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_with_exit_2() {
    let loa = seeded(&library(1)).await;
    let bad_week = loa
        .run(&["schedule", "build", "--plan", &plan(), "--week", "2023-10"])
        .expect(2);
    assert!(
        bad_week.stderr.contains("not an ISO week"),
        "{}",
        bad_week.stderr
    );
    let bad_station = loa
        .run(&[
            "schedule",
            "build",
            "--plan",
            &plan(),
            "--week",
            "2023-W10",
            "--station",
            "hanoi",
        ])
        .expect(2);
    assert!(
        bad_station
            .stderr
            .contains("station 'hanoi' is not in the plan"),
        "{}",
        bad_station.stderr
    );
}

#[test]
fn weeks_touching_the_year_boundary_build() {
    // 2023-W52 ends on Sunday 31/12/2023; the plan's stations and slots run through it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let loa = rt.block_on(seeded(&library(1)));
    let j = loa
        .run(&[
            "schedule",
            "build",
            "--plan",
            &plan(),
            "--week",
            "2023-W52",
            "--station",
            "vinh-loc",
            "--json",
        ])
        .expect(0)
        .json();
    let slots = j["stations"][0]["slots"].as_array().unwrap();
    assert_eq!(slots.last().unwrap()["start"], "2023-12-31T17:00:00+07:00");
}

#[test]
fn the_demo_library_fills_every_slot_of_the_first_quarter_of_2023() {
    let loa = Loa::init();
    let manifest = repo().join("audio/manifest.toml");
    loa.run(&["library", "import", manifest.to_str().unwrap(), "--approve"])
        .expect(0);
    let mut weeks = vec!["2022-W52".to_string()];
    weeks.extend((1..=13).map(|w| format!("2023-W{w:02}")));
    let (mut running, mut empty) = (0, Vec::new());
    for week in &weeks {
        let out = loa
            .run(&[
                "schedule",
                "build",
                "--plan",
                &plan(),
                "--week",
                week,
                "--json",
            ])
            .expect(0)
            .json();
        for st in out["stations"].as_array().unwrap() {
            for slot in st["slots"].as_array().unwrap() {
                let start = slot["start"].as_str().unwrap();
                if !("2023-01-01".."2023-04-01").contains(&&start[..10]) {
                    continue;
                }
                running += 1;
                let content =
                    slot["items"].as_array().unwrap().iter().any(|i| {
                        ["news", "article", "column"].contains(&i["kind"].as_str().unwrap())
                    });
                if !content {
                    empty.push(format!("{} {start}", st["code"]));
                }
            }
        }
    }
    // 90 days, 14 stations, two slots a day, less the blackout days (Tết).
    assert!(running > 2_000, "{running}");
    assert!(
        empty.is_empty(),
        "{} of {running} empty: {empty:?}",
        empty.len()
    );
}
