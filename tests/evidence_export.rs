//! Exports that prove themselves (issue 10, points 3 and 4): `verify --export` without a
//! database on untouched CSV, XLSX and HTML; an edited detail cell, summary cell or
//! integrity block caught; `--since` catching a history rewritten after an export; `--out`
//! refusing an existing file; the Python verifier agreeing with loa on every case.

mod common;

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use common::report::{block_on, export, plan, played};
use common::Loa;
use loa::store::{AirlogStore, Store};

const DAY: [&str; 4] = ["--from", "2023-03-06", "--to", "2023-03-06"];

/// A day played at Vĩnh An, shared by the tests that only read it.
fn day() -> &'static Loa {
    static DAY: std::sync::OnceLock<Loa> = std::sync::OnceLock::new();
    DAY.get_or_init(|| played("2023-03-06", "2023-03-06", Some("vinh-an")))
}

fn with_plan(extra: &[&'static str]) -> Vec<String> {
    let mut v: Vec<String> = DAY.iter().map(|s| s.to_string()).collect();
    v.extend(["--plan".to_string(), plan()]);
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `loa airlog verify --export FILE` run where there is no data dir at all.
fn verify_alone(file: &Path) -> common::Run {
    let nowhere = Loa::uninitialised();
    nowhere.run(&[
        "airlog",
        "verify",
        "--export",
        file.to_str().unwrap(),
        "--json",
    ])
}

/// What the Python verifier says of a CSV: (exit code, its sentence).
fn python(file: &Path) -> Option<(i32, String)> {
    let out = std::process::Command::new("python3")
        .arg(common::repo().join("scripts/verify-export.py"))
        .arg(file)
        .output()
        .ok()?;
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    ))
}

/// Checks that loa alone and the Python script agree on a CSV (both pass or both fail).
fn agree(file: &Path, want_ok: bool) -> String {
    let out = verify_alone(file);
    assert_eq!(out.code == 0, want_ok, "loa: {}{}", out.stdout, out.stderr);
    let (code, said) = python(file).expect("python3 runs");
    assert_eq!(code == 0, want_ok, "the Python verifier disagrees: {said}");
    out.stdout + &out.stderr + &said
}

/// Rewrites a CSV, changing the first line `pick` chooses with `edit`.
fn copy_csv_editing(
    from: &Path,
    to: &Path,
    pick: impl Fn(&str) -> bool,
    edit: impl Fn(&str) -> String,
) {
    let text = std::fs::read_to_string(from).unwrap();
    let mut done = false;
    let out: Vec<String> = text
        .split("\r\n")
        .map(|l| {
            if !done && pick(l) {
                done = true;
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(done, "no line to edit");
    std::fs::write(to, out.join("\r\n")).unwrap();
}

#[test]
fn an_untouched_csv_proves_itself_without_a_database_and_python_agrees() {
    let loa = day();
    let csv = export(loa, "csv", &DAY);
    let said = agree(&csv, true);
    let out = verify_alone(&csv).expect(0).json();
    assert_eq!(out["database"], false);
    assert!(out["signed_heads"].as_u64().unwrap() >= 1, "{out}");
    assert!(out["rows"].as_u64().unwrap() > 0);
    assert!(
        said.contains(out["key_fingerprint"].as_str().unwrap()),
        "{said}"
    );
    // With the database: complete too.
    let out = loa
        .run(&[
            "airlog",
            "verify",
            "--export",
            csv.to_str().unwrap(),
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(
        (out["database"].clone(), out["complete"].clone()),
        (true.into(), true.into())
    );
}

#[test]
fn an_edited_detail_cell_is_caught_by_loa_and_python() {
    let loa = day();
    let csv = export(loa, "csv", &DAY);
    let edited = loa.dir.path().join("edited-cell.csv");
    copy_csv_editing(
        &csv,
        &edited,
        |l| l.contains(",aired,"),
        |l| l.replacen(",aired,", ",failed,", 1),
    );
    let said = agree(&edited, false);
    assert!(said.contains("row hash"), "{said}");
    // The same cell edited and its row hash recomputed: the digest and signature catch it.
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.contains("#integrity,signature,"));
}

#[test]
fn an_edited_integrity_block_is_caught_by_loa_and_python() {
    let loa = day();
    let csv = export(loa, "csv", &DAY);
    let edited = loa.dir.path().join("edited-block.csv");
    copy_csv_editing(
        &csv,
        &edited,
        |l| l.starts_with("#integrity,rows,"),
        |l| format!("{l}0"),
    );
    let said = agree(&edited, false);
    assert!(said.contains("signature"), "{said}");
}

#[test]
fn a_removed_row_is_caught_by_loa_and_python() {
    let loa = day();
    let csv = export(loa, "csv", &DAY);
    let edited = loa.dir.path().join("removed-row.csv");
    copy_csv_editing(&csv, &edited, |l| l.contains(",aired,"), |_| String::new());
    // An empty line is skipped by readers: the row is gone.
    agree(&edited, false);
}

/// Rewrites an XLSX export cell by cell (strings, numbers, dates), changing one cell.
fn copy_xlsx_editing(from: &Path, to: &Path, at: (usize, u32, u16), value: f64) {
    let mut wb = open_workbook_auto(from).unwrap();
    let names = wb.sheet_names();
    let mut out = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy hh:mm:ss.000");
    for (i, name) in names.iter().enumerate() {
        let range = wb.worksheet_range_at(i).unwrap().unwrap();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let ws = out.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, c, cell) in range.cells() {
            let (r, c) = (r0 + r as u32, (c0 as usize + c) as u16);
            if (i, r, c) == at {
                ws.write_number(r, c, value).unwrap();
                continue;
            }
            match cell {
                Data::String(s) => {
                    ws.write_string(r, c, s).unwrap();
                }
                Data::Float(f) => {
                    ws.write_number(r, c, *f).unwrap();
                }
                Data::Int(n) => {
                    ws.write_number(r, c, *n as f64).unwrap();
                }
                Data::DateTime(d) => {
                    ws.write_number_with_format(r, c, d.as_f64(), &date)
                        .unwrap();
                }
                _ => {}
            }
        }
    }
    out.save(to).unwrap();
}

/// The first number cell of the summary sheet below its header (a count or total).
fn a_summary_number(path: &Path) -> (u32, u16, f64) {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let (r0, c0) = range.start().unwrap_or((0, 0));
    range
        .cells()
        .find_map(|(r, c, d)| match d {
            Data::Float(f) if *f > 0.0 => Some((r0 + r as u32, (c0 as usize + c) as u16, *f)),
            _ => None,
        })
        .expect("a count in the summary")
}

#[test]
fn an_untouched_xlsx_proves_itself_and_an_edited_summary_cell_is_caught() {
    let loa = day();
    let args = with_plan(&[]);
    let xlsx = export(loa, "xlsx", &strs(&args));
    let out = verify_alone(&xlsx).expect(0).json();
    assert!(out["rows"].as_u64().unwrap() > 0, "{out}");
    // A copy made cell by cell still proves itself (dates read back to the microsecond).
    let copy = loa.dir.path().join("copy.xlsx");
    copy_xlsx_editing(&xlsx, &copy, (usize::MAX, 0, 0), 0.0);
    verify_alone(&copy).expect(0);
    // Airings 9 → 99 on the summary sheet.
    let (r, c, v) = a_summary_number(&xlsx);
    let edited = loa.dir.path().join("edited-summary.xlsx");
    copy_xlsx_editing(&xlsx, &edited, (0, r, c), v * 11.0);
    let out = verify_alone(&edited);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("summary"), "{}", out.stderr);
}

#[test]
fn an_untouched_html_report_proves_itself_and_an_edited_table_is_caught() {
    let loa = day();
    let args = with_plan(&[]);
    let html = export(loa, "html", &strs(&args));
    verify_alone(&html).expect(0);
    let p = plan();
    loa.run(&[
        "airlog",
        "verify",
        "--export",
        html.to_str().unwrap(),
        "--plan",
        &p,
    ])
    .expect(0);
    let page = std::fs::read_to_string(&html).unwrap();
    let at = page.find("<td class=\"n\">").expect("a number cell") + "<td class=\"n\">".len();
    let edited = loa.dir.path().join("edited.html");
    std::fs::write(&edited, format!("{}9{}", &page[..at], &page[at..])).unwrap();
    let out = verify_alone(&edited);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("summary"), "{}", out.stderr);
}

#[test]
fn since_catches_a_history_rewritten_after_an_export() {
    let loa = played("2023-03-06", "2023-03-06", Some("vinh-an"));
    let old = export(&loa, "csv", &DAY);
    loa.run(&["airlog", "verify", "--since", old.to_str().unwrap()])
        .expect(0);
    // Rewritten and re-chained without the key, the signed heads deleted too (the triggers
    // dropped first): only the earlier export still knows.
    block_on(async {
        let store = loa.store().await;
        let pool = store.pool();
        for q in [
            "DROP TRIGGER airlog_signed_heads_no_delete",
            "DELETE FROM airlog_signed_heads",
            "UPDATE airlog SET played_ms = played_ms - 1000 WHERE seq = (SELECT min(seq) FROM airlog WHERE status = 'aired')",
        ] {
            sqlx::query(q).execute(pool).await.unwrap();
        }
        let rows: Vec<loa::airlog::Record> = store
            .airlog(Some("vinh-an"), None, None)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| !r.row_hash.is_empty())
            .collect();
        // Chain order: follow prev_hash from the genesis; re-hash every row.
        let mut at = loa::airlog::chain::genesis("vinh-an");
        let mut new_prev = at.clone();
        while let Some(r) = rows.iter().find(|r| r.prev_hash == at) {
            at = r.row_hash.clone();
            let mut r = r.clone();
            r.prev_hash = new_prev.clone();
            r.row_hash = loa::airlog::chain::row_hash(&r);
            new_prev = r.row_hash.clone();
            sqlx::query("UPDATE airlog SET prev_hash = ?, row_hash = ? WHERE seq = ?")
                .bind(&r.prev_hash)
                .bind(&r.row_hash)
                .bind(r.seq)
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("UPDATE airlog_heads SET seq = ?, row_hash = ?")
                .bind(r.seq)
                .bind(&r.row_hash)
                .execute(pool)
                .await
                .unwrap();
        }
        store.close().await;
    });
    loa.run(&["airlog", "verify"]).expect(0);
    let out = loa
        .run(&["airlog", "verify", "--since", old.to_str().unwrap()])
        .expect(1);
    assert!(out.stderr.contains("rewritten"), "{}", out.stderr);
}

#[test]
fn out_refuses_an_existing_file_unless_forced_and_leaves_no_temporary_file() {
    let loa = day();
    let out: PathBuf = loa.dir.path().join("kept.csv");
    std::fs::write(&out, "an earlier export").unwrap();
    let mut args = vec![
        "airlog",
        "export",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(DAY);
    let r = loa.run(&args).expect(2);
    assert!(
        r.stderr.contains("--force") && r.stderr.contains("kept.csv"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an earlier export");
    args.push("--force");
    loa.run(&args).expect(0);
    assert!(std::fs::read(&out).unwrap().starts_with(b"\xEF\xBB\xBF"));
    let leftovers: Vec<_> = std::fs::read_dir(loa.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
