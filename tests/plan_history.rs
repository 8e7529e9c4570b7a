//! Plans are kept: each schedule build keeps the plan text it used (versioned by SHA-256),
//! `loa plan history` lists the versions, and `airlog export` judges each week by the plan
//! its kept schedule was built by, with no `--plan` and even after the plan file is gone;
//! `--plan` still overrides.

mod common;

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use common::{repo, Loa};

/// A data dir with the demo library approved and a null sink.
fn seeded() -> Loa {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    loa.run(&[
        "library",
        "import",
        repo().join("audio/manifest.toml").to_str().unwrap(),
        "--approve",
    ])
    .expect(0);
    loa
}

/// The district plan copied into the test's folder as `name`, with `edit` applied.
fn plan_copy(loa: &Loa, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("schedules/vinh-loc-2023.toml")).unwrap();
    let path = loa.dir.path().join(name);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

fn build(loa: &Loa, plan: &Path, week: &str) -> serde_json::Value {
    loa.run(&[
        "schedule",
        "build",
        "--plan",
        plan.to_str().unwrap(),
        "--week",
        week,
        "--station",
        "vinh-an",
        "--json",
    ])
    .expect(0)
    .json()
}

fn export(loa: &Loa, format: &str, from: &str, to: &str, extra: &[&str]) -> PathBuf {
    let out = loa
        .dir
        .path()
        .join(format!("r-{format}-{from}-{}.{format}", extra.len()));
    let mut args = vec![
        "airlog",
        "export",
        "--format",
        format,
        "--from",
        from,
        "--to",
        to,
        "--station",
        "vinh-an",
        "--out",
    ];
    let o = out.display().to_string();
    args.push(&o);
    args.extend(extra);
    loa.run(&args).expect(0);
    out
}

/// The compliance rows of the summary sheet: (rule cell, weeks cell).
fn rules(path: &Path) -> Vec<(String, String)> {
    let mut wb = open_workbook_auto(path).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    let text = |d: &Data| match d {
        Data::String(s) => s.clone(),
        _ => String::new(),
    };
    range
        .rows()
        .filter(|r| r.len() > 6 && text(&r[1]).contains(" — V."))
        .map(|r| (text(&r[1]), text(&r[6])))
        .collect()
}

#[test]
fn an_export_needs_no_plan_file_once_a_build_kept_it() {
    let loa = seeded();
    let plan = plan_copy(&loa, "ke-hoach.toml", |t| t);
    let built = build(&loa, &plan, "2023-W11");
    assert_eq!(built["plan_version"], 1);
    loa.run(&[
        "playout",
        "run",
        "--plan",
        plan.to_str().unwrap(),
        "--from",
        "2023-03-13",
        "--to",
        "2023-03-14",
        "--station",
        "vinh-an",
        "--sink",
        "null",
    ])
    .expect(0);
    std::fs::remove_file(&plan).unwrap();

    let csv =
        std::fs::read_to_string(export(&loa, "csv", "2023-03-13", "2023-03-14", &[])).unwrap();
    assert!(
        csv.contains("Xã Vĩnh An"),
        "the kept plan names the station"
    );
    let html =
        std::fs::read_to_string(export(&loa, "html", "2023-03-13", "2023-03-19", &[])).unwrap();
    assert!(
        html.contains("Đánh giá theo Kế hoạch: Kế hoạch tuyên truyền"),
        "the report names the plan it judged by"
    );
    assert!(html.contains(", phiên bản 1 (SHA-256 "), "and its version");
    let xlsx = export(&loa, "xlsx", "2023-03-13", "2023-03-19", &[]);
    assert!(!rules(&xlsx).is_empty(), "compliance is judged");

    let history = loa.run(&["plan", "history", "--json"]).expect(0).json();
    let v = &history[0];
    assert_eq!(v["version"], 1);
    assert_eq!(
        (v["first_week"].as_str(), v["last_week"].as_str()),
        (Some("2023-W11"), Some("2023-W11"))
    );
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    let table = loa.run(&["plan", "history"]).expect(0).stdout;
    assert!(
        table.contains("2023-W11") && table.contains("tuần đầu"),
        "{table}"
    );
    let table = loa
        .run(&["plan", "history", "--lang", "en"])
        .expect(0)
        .stdout;
    assert!(
        table.contains("2023-W11") && table.contains("first week") && !table.contains("tuần"),
        "{table}"
    );
}

#[test]
fn each_week_is_judged_by_the_plan_it_was_built_by_unless_plan_overrides() {
    let loa = seeded();
    let old = plan_copy(&loa, "cu.toml", |t| t);
    // The newer plan renames the weekly news rule and asks for more.
    let new = plan_copy(&loa, "moi.toml", |t| {
        t.replace("id = \"tin-bai-hang-tuan\"", "id = \"tin-bai-moi\"")
    });
    build(&loa, &old, "2023-W11");
    let built = build(&loa, &new, "2023-W12");
    assert_eq!(built["plan_version"], 2);
    // A plan kept once: the same text again is the same version.
    assert_eq!(build(&loa, &old, "2023-W10")["plan_version"], 1);

    let xlsx = export(&loa, "xlsx", "2023-03-13", "2023-03-26", &[]);
    let r = rules(&xlsx);
    let weeks_of = |id: &str| -> Vec<String> {
        r.iter()
            .filter(|(rule, _)| rule.starts_with(&format!("{id} — ")))
            .map(|(_, w)| w.split('/').nth(1).unwrap_or_default().to_string())
            .collect()
    };
    // W11 by version 1 (the old rule), W12 by version 2 (the new one).
    assert_eq!(weeks_of("tin-bai-hang-tuan"), vec!["1", "1"], "{r:?}");
    assert_eq!(weeks_of("tin-bai-moi"), vec!["1", "1"], "{r:?}");
    let html =
        std::fs::read_to_string(export(&loa, "html", "2023-03-13", "2023-03-26", &[])).unwrap();
    assert!(html.contains("phiên bản 1 (SHA-256") && html.contains("phiên bản 2 (SHA-256"));

    // --plan overrides: every week by the given plan.
    let o = old.display().to_string();
    let xlsx = export(&loa, "xlsx", "2023-03-13", "2023-03-26", &["--plan", &o]);
    let r = rules(&xlsx);
    assert!(
        r.iter().all(|(rule, _)| !rule.starts_with("tin-bai-moi")),
        "{r:?}"
    );
    assert!(
        r.iter()
            .any(|(rule, w)| rule.starts_with("tin-bai-hang-tuan — ") && w.ends_with("/2")),
        "{r:?}"
    );
}

#[test]
fn a_report_with_no_plan_given_or_kept_says_so_in_one_sentence() {
    let loa = seeded();
    let out = loa.dir.path().join("r.html");
    let run = loa.run(&[
        "airlog",
        "export",
        "--format",
        "html",
        "--from",
        "2023-03-13",
        "--to",
        "2023-03-19",
        "--out",
        out.to_str().unwrap(),
    ]);
    let run = run.expect(2);
    assert!(run.stderr.contains("no plan to judge by"), "{}", run.stderr);
    assert!(!out.exists());
}
