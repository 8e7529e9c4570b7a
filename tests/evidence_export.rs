//! Exports that prove themselves (issue 10, points 3 and 4): `verify --export` without a
//! database on untouched CSV, XLSX and HTML; an edited detail cell, summary cell or
//! integrity block caught; summary totals recomputed from the file's rows (XLSX) or the
//! database (XLSX, HTML) and an edited one named; `--since` catching a history rewritten after an export; `--out`
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

/// `loa airlog verify --export FILE` run where there is no data dir, as people read it.
fn verify_alone_said(file: &Path) -> common::Run {
    Loa::uninitialised().run(&["airlog", "verify", "--export", file.to_str().unwrap()])
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

/// The "required" cell of the compliance table's first rule (the rows alone cannot
/// recompute it: it needs the plan).
fn a_compliance_number(path: &Path) -> (u32, u16, f64) {
    let w = loa::report::labels::words(loa::report::Lang::Vi);
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let (r0, _) = range.start().unwrap_or((0, 0));
    let heading = range
        .rows()
        .position(|r| r.first().map(|d| d.to_string()).as_deref() == Some(w.sec_compliance))
        .expect("the compliance table");
    let at = heading + 2;
    let c = range
        .rows()
        .nth(heading + 1)
        .unwrap()
        .iter()
        .position(|d| matches!(d, Data::String(s) if s == w.required))
        .unwrap();
    match range.rows().nth(at).unwrap()[c] {
        Data::Float(f) => (r0 + at as u32, c as u16, f),
        ref other => panic!("a rule's required count, not {other:?}"),
    }
}

#[test]
fn an_untouched_xlsx_proves_itself_with_its_totals_recomputed_from_its_rows() {
    let loa = day();
    let args = with_plan(&[]);
    let xlsx = export(loa, "xlsx", &strs(&args));
    let out = verify_alone_said(&xlsx).expect(0);
    assert!(
        out.stdout
            .contains("recomputed from the file's detail rows"),
        "{}",
        out.stdout
    );
    let out = verify_alone(&xlsx).expect(0).json();
    assert!(out["rows"].as_u64().unwrap() > 0, "{out}");
    assert_eq!(out["summary"], "file_rows", "{out}");
    // A copy made cell by cell still proves itself (dates read back to the microsecond).
    let copy = loa.dir.path().join("copy.xlsx");
    copy_xlsx_editing(&xlsx, &copy, (usize::MAX, 0, 0), 0.0);
    verify_alone(&copy).expect(0);
    // With the database, every table is recomputed from it, compliance included.
    let p = plan();
    let x = xlsx.to_str().unwrap();
    let out = loa
        .run(&["airlog", "verify", "--export", x, "--plan", &p, "--json"])
        .expect(0)
        .json();
    assert_eq!(out["summary"], "database", "{out}");
    loa.run(&["airlog", "verify", "--export", x]).expect(0);
}

#[test]
fn an_edited_summary_total_is_named_by_its_cell_with_both_values() {
    let loa = day();
    let args = with_plan(&[]);
    let xlsx = export(loa, "xlsx", &strs(&args));
    // Airings 9 → 99 on the summary sheet, nothing re-signed.
    let (r, c, v) = a_summary_number(&xlsx);
    let edited = loa.dir.path().join("edited-summary.xlsx");
    copy_xlsx_editing(&xlsx, &edited, (0, r, c), v * 11.0);
    let out = verify_alone(&edited);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let w = loa::report::labels::words(loa::report::Lang::Vi);
    for said in [
        "the summary sheet 'Tổng hợp'".to_string(),
        format!("table '{}'", w.sec_counts),
        "row 'Xã Vĩnh An'".to_string(),
        format!(
            "{} on file but {v} recomputed from the file's detail rows",
            v * 11.0
        ),
    ] {
        assert!(out.stderr.contains(&said), "{said}: {}", out.stderr);
    }
    // With the database: recomputed from it.
    let p = plan();
    let out = loa
        .run(&[
            "airlog",
            "verify",
            "--export",
            edited.to_str().unwrap(),
            "--plan",
            &p,
        ])
        .expect(1);
    assert!(
        out.stderr.contains(&format!(
            "{} on file but {v} recomputed from the database",
            v * 11.0
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn an_edited_compliance_cell_is_caught_by_the_signed_digest_alone_and_named_with_the_database() {
    let loa = day();
    // To Thursday: the week is judged (an ISO week belongs to the range holding its Thursday).
    let p = plan();
    let range = ["--from", "2023-03-06", "--to", "2023-03-09", "--plan", &p];
    let xlsx = export(loa, "xlsx", &range);
    let (r, c, v) = a_compliance_number(&xlsx);
    let edited = loa.dir.path().join("edited-compliance.xlsx");
    copy_xlsx_editing(&xlsx, &edited, (0, r, c), v + 5.0);
    // The rows alone cannot recompute compliance: the digest the block signed catches it.
    let out = verify_alone(&edited);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("the summary differs from the one the integrity block signed"),
        "{}",
        out.stderr
    );
    // The database and the plan recompute it, and name it.
    let w = loa::report::labels::words(loa::report::Lang::Vi);
    let out = loa
        .run(&[
            "airlog",
            "verify",
            "--export",
            edited.to_str().unwrap(),
            "--plan",
            &p,
        ])
        .expect(1);
    assert!(
        out.stderr
            .contains(&format!("table '{}'", w.sec_compliance))
            && out.stderr.contains(&format!("column '{}'", w.required))
            && out.stderr.contains(&format!(
                "{} on file but {v} recomputed from the database",
                v + 5.0
            )),
        "{}",
        out.stderr
    );
}

#[test]
fn an_html_report_is_proven_by_its_signature_alone_and_its_tables_recomputed_with_the_database() {
    let loa = day();
    let args = with_plan(&[]);
    let html = export(loa, "html", &strs(&args));
    let out = verify_alone_said(&html).expect(0);
    assert!(
        out.stdout.contains("proven by the signature only"),
        "{}",
        out.stdout
    );
    assert_eq!(
        verify_alone(&html).expect(0).json()["summary"],
        "signature_only"
    );
    let p = plan();
    let h = html.to_str().unwrap();
    let out = loa
        .run(&["airlog", "verify", "--export", h, "--plan", &p, "--json"])
        .expect(0)
        .json();
    assert_eq!(out["summary"], "database", "{out}");
    let out = loa.run(&["airlog", "verify", "--export", h]).expect(0);
    assert!(
        out.stdout.contains("recomputed from the database"),
        "{}",
        out.stdout
    );
    // A count edited: 5 → 95.
    let page = std::fs::read_to_string(&html).unwrap();
    let at = page.find("<td class=\"n\">").expect("a number cell") + "<td class=\"n\">".len();
    let was: String = page[at..].chars().take_while(|c| *c != '<').collect();
    let edited = loa.dir.path().join("edited.html");
    std::fs::write(&edited, format!("{}9{}", &page[..at], &page[at..])).unwrap();
    let out = verify_alone(&edited);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("summary"), "{}", out.stderr);
    let out = loa
        .run(&[
            "airlog",
            "verify",
            "--export",
            edited.to_str().unwrap(),
            "--plan",
            &p,
        ])
        .expect(1);
    let w = loa::report::labels::words(loa::report::Lang::Vi);
    assert!(
        out.stderr.contains(&format!(
            "the printed report, table '{}', row '",
            w.sec_counts
        )) && out.stderr.contains(&format!(
            "'9{was}' on file but {was} recomputed from the database"
        )),
        "{}",
        out.stderr
    );
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

/// A CSV whose titles look like formulas or hold control characters, opened by LibreOffice
/// (headless, converted to ODS): every cell shows the text, none is a formula.
#[test]
fn libreoffice_shows_formula_looking_and_control_character_titles_as_text() {
    if std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have libreoffice-calc (scripts/install-deps)"
        );
        eprintln!("soffice is not installed: LibreOffice check skipped");
        return;
    }
    let loa = played("2023-03-06", "2023-03-06", Some("vinh-an"));
    let titles = [
        "=1+1",
        "@SUM(1;2)",
        "+2+3",
        "-4+5",
        "=HYPERLINK(\"http://example.com\";\"bấm\")",
        "Tin\u{1b}[31m đỏ\u{7}",
    ];
    block_on(async {
        let store = loa.store().await;
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM bulletins ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
        for (id, t) in ids.iter().zip(titles.iter().cycle()) {
            sqlx::query("UPDATE bulletins SET title = ? WHERE id = ?")
                .bind(t)
                .bind(id)
                .execute(store.pool())
                .await
                .unwrap();
        }
        store.close().await;
    });
    let csv = export(&loa, "csv", &DAY);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "no control character in a cell"
    );
    let out = loa.dir.path().join("lo");
    let profile = format!(
        "-env:UserInstallation=file://{}",
        loa.dir.path().join("lo-profile").display()
    );
    let ok = std::process::Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--infilter=CSV:44,34,76,1",
            "--convert-to",
            "ods",
            "--outdir",
        ])
        .arg(&out)
        .arg(&csv)
        .output()
        .unwrap();
    let ods = out.join(csv.with_extension("ods").file_name().unwrap());
    assert!(ods.exists(), "{}", String::from_utf8_lossy(&ok.stderr));
    let mut wb = open_workbook_auto(&ods).unwrap();
    let first = wb.sheet_names()[0].clone();
    let formulas = wb.worksheet_formula(&first).unwrap();
    assert!(
        formulas.cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula: {:?}",
        formulas.cells().find(|(_, _, f)| !f.is_empty())
    );
    let values = wb.worksheet_range_at(0).unwrap().unwrap();
    let shown: Vec<String> = values
        .rows()
        .map(|r| r.get(4).map(|d| d.to_string()).unwrap_or_default())
        .collect();
    // (Which titles aired that day depends on the schedule; these four did.)
    for t in ["=1+1", "@SUM(1;2)", "+2+3", "-4+5"] {
        assert!(
            shown.iter().any(|s| s.contains(t)),
            "{t} is shown as text: {shown:?}"
        );
    }
    assert!(
        shown.iter().any(|s| s.contains("Tin\\u001B[31m đỏ\\u0007")),
        "{shown:?}"
    );
}
