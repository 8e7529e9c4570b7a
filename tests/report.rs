//! Reports on the real binary: a simulated week of the district plan (one bulletin's audio
//! deleted first, so some rows are `failed`, and one title given commas and quotes) is
//! exported as CSV, XLSX and HTML; each export is checked against the airlog, read back
//! (XLSX with calamine), verified untouched, and caught when one cell or one database row
//! is edited. The printed page is rendered in headless Chromium and must fit A4.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use calamine::{open_workbook_auto, Data, Reader};
use common::report::{block_on, export, plan, played, MARKUP_PRODUCER, QUOTED_TITLE};
use common::Loa;
use loa::airlog::Record;
use loa::lang::{Lang, Render};
use loa::library::{Bulletin, Kind, Topic};
use loa::store::{AirlogStore, BulletinFilter, Store};

/// The shared fixture: a simulated week at every station (made once, read by many tests).
struct Week {
    loa: Loa,
    rows: Vec<Record>,
    library: HashMap<String, Bulletin>,
}

fn week() -> &'static Week {
    static WEEK: OnceLock<Week> = OnceLock::new();
    WEEK.get_or_init(|| {
        let loa = played("2023-03-13", "2023-03-19", None);
        let (rows, library) = block_on(async {
            let store = loa.store().await;
            let rows = store.airlog(None, None, None).await.unwrap();
            let lib = store
                .list_bulletins(&BulletinFilter::default())
                .await
                .unwrap();
            store.close().await;
            (rows, lib)
        });
        let library = library
            .into_iter()
            .map(|b| (b.id.as_str().to_string(), b))
            .collect();
        Week { loa, rows, library }
    })
}

fn week_args() -> Vec<&'static str> {
    vec!["--from", "2023-03-13", "--to", "2023-03-19"]
}

fn with_plan(mut args: Vec<&'static str>) -> Vec<String> {
    args.push("--plan");
    let mut v: Vec<String> = args.into_iter().map(str::to_string).collect();
    v.push(plan());
    v
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_csv_export_has_the_bom_the_header_and_one_quoted_row_per_airlog_row_in_station_time() {
    let w = week();
    let args = with_plan(week_args());
    let path = export(&w.loa, "csv", &strs(&args));
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM first");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with(
        "station_code,station_name,slot_start,bulletin_id,title,kind,topic,producer,planned_start,actual_start,actual_end,played_ms,status,reason,sha256,row_hash,seq,prev_hash,source,gain_db,who,link_seq,reason_stored\r\n"
    ));
    assert!(
        text.contains("\"Tin: \"\"Một cửa\"\", liên thông; dịch vụ công\""),
        "RFC 4180 quoting of a title with a comma and quotes"
    );
    let data = text.split("\r\n\r\n").next().unwrap();
    let mut r = csv::ReaderBuilder::new().from_reader(data.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let closed = closed_in_week(w);
    assert_eq!(
        rows.len(),
        closed.len(),
        "one line per item row of the airlog"
    );
    let by_hash: HashMap<&str, &Record> =
        closed.iter().map(|r| (r.row_hash.as_str(), *r)).collect();
    let mut failed = 0;
    for row in &rows {
        let rec = by_hash[&row[15]];
        assert_eq!(&row[0], rec.station);
        assert_eq!(&row[12], rec.status);
        assert_eq!(row[11].parse::<i64>().unwrap(), rec.played_ms);
        for c in [2, 8, 9, 10] {
            assert!(
                row[c].is_empty() || row[c].ends_with("+07:00"),
                "{}",
                &row[c]
            );
        }
        let planned = chrono::DateTime::parse_from_rfc3339(&row[8]).unwrap();
        assert_eq!(
            planned,
            chrono::DateTime::parse_from_rfc3339(&rec.planned_start).unwrap()
        );
        if &row[12] == "failed" {
            failed += 1;
            assert!(!row[13].is_empty(), "a failed row says why");
        }
    }
    assert!(failed > 0, "the deleted article fails");
    assert!(rows.iter().any(|r| &r[4] == QUOTED_TITLE));
    assert!(
        rows.iter().any(|r| &r[1] == "Xã Vĩnh An"),
        "names from the plan"
    );
    assert!(text.contains("#integrity,sha256,"));
    // Without --plan, the plan kept with the week's schedules names the stations.
    let path = export(&w.loa, "csv", &week_args());
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("vinh-an,Xã Vĩnh An,"));
}

/// The week's closed item rows (what exports list; slot rows feed only the summary).
fn closed_in_week(w: &Week) -> Vec<&Record> {
    w.rows
        .iter()
        .filter(|r| !r.row_hash.is_empty() && r.level == "item")
        .collect()
}

/// The week's closed slot rows.
fn slots_in_week(w: &Week) -> Vec<&Record> {
    w.rows
        .iter()
        .filter(|r| !r.row_hash.is_empty() && r.level == "slot")
        .collect()
}

fn sheet(path: &Path, i: usize) -> Vec<Vec<Data>> {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range_at(i).unwrap().unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn an_xlsx_export_reads_back_with_summary_totals_that_match_the_airlog() {
    let w = week();
    let args = with_plan(week_args());
    let path = export(&w.loa, "xlsx", &strs(&args));
    let wb = open_workbook_auto(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["Tổng hợp", "Chi tiết", "Toàn vẹn"]);
    let rows = closed_in_week(w);
    // What the airlog says.
    let kind_of = |r: &Record| {
        r.bulletin_id
            .as_ref()
            .and_then(|id| w.library.get(id))
            .map(|b| b.meta.kind)
    };
    let topic_of = |r: &Record| {
        r.bulletin_id
            .as_ref()
            .and_then(|id| w.library.get(id))
            .map(|b| b.meta.topic)
    };
    let aired: Vec<&&Record> = rows.iter().filter(|r| r.status == "aired").collect();
    let minutes = (rows.iter().map(|r| r.played_ms).sum::<i64>() as f64 / 6_000.0).round() / 10.0;
    let summary = sheet(&path, 0);
    let totals: Vec<&Vec<Data>> = summary
        .iter()
        .filter(|r| r.first().map(text).as_deref() == Some("Tổng cộng"))
        .collect();
    let counts = totals[0];
    for (i, k) in [Kind::News, Kind::Article, Kind::Column, Kind::Spot]
        .iter()
        .enumerate()
    {
        let items: BTreeSet<&str> = aired
            .iter()
            .filter(|r| kind_of(r) == Some(*k))
            .map(|r| r.bulletin_id.as_deref().unwrap())
            .collect();
        let airings = aired.iter().filter(|r| kind_of(r) == Some(*k)).count();
        assert_eq!(num(&counts[1 + 2 * i]), items.len() as f64, "{k} items");
        assert_eq!(num(&counts[2 + 2 * i]), airings as f64, "{k} airings");
    }
    assert_eq!(num(&counts[9]), aired.len() as f64, "airings");
    assert_eq!(num(&counts[10]), minutes, "minutes on air");
    assert_eq!(num(&counts[11]), rows.len() as f64, "rows");
    let topics = totals[1];
    for (i, t) in Topic::ALL.iter().enumerate() {
        let n = aired.iter().filter(|r| topic_of(r) == Some(*t)).count();
        assert_eq!(num(&topics[1 + i]), n as f64, "topic {t}");
    }
    let producers = totals[2];
    assert_eq!(num(&producers[1]), aired.len() as f64);
    // Compliance rows: one per station and rule, from the plan.
    assert!(summary
        .iter()
        .any(|r| r.len() > 2 && text(&r[1]).starts_with("tin-bai-hang-tuan")));
    assert!(summary.iter().any(|r| text(&r[0]) == "Xã Vĩnh An"));
    // The slot instances as the airlog's slot rows tell them: total, then by status.
    let slots = slots_in_week(w);
    assert!(!slots.is_empty());
    let at = summary
        .iter()
        .position(|r| r.len() > 1 && text(&r[1]) == "Buổi phát")
        .expect("the slot instances table");
    let total = summary[at..]
        .iter()
        .find(|r| r.first().map(text).as_deref() == Some("Tổng cộng"))
        .unwrap();
    assert_eq!(num(&total[1]), slots.len() as f64, "slot instances");
    for (i, st) in ["aired", "partial", "skipped", "failed", "interrupted"]
        .iter()
        .enumerate()
    {
        let n = slots.iter().filter(|r| r.status == *st).count();
        assert_eq!(num(&total[2 + i]), n as f64, "slots {st}");
    }
    // Incidents name the failed rows' reasons.
    let failed = rows.iter().find(|r| r.status == "failed").unwrap();
    assert!(summary
        .iter()
        .any(|r| r.iter().any(|c| text(c) == failed.reason.render(Lang::Vi))));
    // Detail: Vietnamese headers, one row per airlog row, real dates in station time.
    let detail = sheet(&path, 1);
    assert_eq!(text(&detail[0][0]), "Mã đài");
    assert_eq!(text(&detail[0][8]), "Giờ phát theo lịch");
    assert_eq!(detail.len() - 1, rows.len());
    let by_hash: HashMap<&str, &&Record> = rows.iter().map(|r| (r.row_hash.as_str(), r)).collect();
    for row in &detail[1..] {
        let rec = by_hash[text(&row[15]).as_str()];
        assert_eq!(text(&row[12]), rec.status);
        assert_eq!(num(&row[11]), rec.played_ms as f64);
        let Data::DateTime(dt) = &row[8] else {
            panic!("planned start is a date: {:?}", row[8]);
        };
        let local = chrono::DateTime::parse_from_rfc3339(&rec.planned_start)
            .unwrap()
            .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            .naive_local();
        let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let want = (local - epoch).num_microseconds().unwrap() as f64 / 86_400_000_000.0;
        assert!(
            (dt.as_f64() - want).abs() * 86_400_000.0 <= 1.0,
            "{} vs {local}",
            dt.as_f64()
        );
    }
    let integrity = sheet(&path, 2);
    assert!(integrity
        .iter()
        .any(|r| text(&r[0]) == "rows" && text(&r[1]) == rows.len().to_string()));
}

#[test]
fn an_html_report_has_the_administrative_header_title_tables_and_integrity_block() {
    let w = week();
    let mut args = with_plan(vec!["--quarter", "2023-Q1"]);
    let path = export(&w.loa, "html", &strs(&args));
    let html = std::fs::read_to_string(&path).unwrap();
    for line in [
        "UBND HUYỆN VĨNH LỘC",
        "TRUNG TÂM VĂN HÓA, THÔNG TIN, THỂ THAO VÀ DU LỊCH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Vĩnh Lộc, ngày ",
        "Báo cáo kết quả tuyên truyền cải cách hành chính trên hệ thống truyền thanh, quý I năm 2023",
        "<table class=\"t counts\">",
        "<table class=\"t compliance\">",
        "Thông tin xác thực dữ liệu",
        "SHA-256 over the row_hash of every exported row",
        "@page { size: A4",
    ] {
        assert!(html.contains(line), "missing {line}");
    }
    assert!(
        html.contains("Tổ &lt;b&gt;&quot;Một cửa&quot;&lt;/b&gt; &amp; CCHC"),
        "text is escaped"
    );
    assert!(!html.contains(MARKUP_PRODUCER));
    args.extend(["--lang".to_string(), "en".to_string()]);
    let path = export(&w.loa, "html", &strs(&args));
    let en = std::fs::read_to_string(path).unwrap();
    assert!(en.contains("SOCIALIST REPUBLIC OF VIET NAM") && en.contains("Q1 2023"));
}

#[test]
fn verify_passes_on_untouched_exports_and_names_the_first_edited_cell() {
    let w = week();
    let args = with_plan(week_args());
    for format in ["csv", "xlsx"] {
        let path = export(&w.loa, format, &strs(&args));
        let ok = w
            .loa
            .run(&["airlog", "verify", "--export", path.to_str().unwrap()])
            .expect(0);
        assert!(
            ok.stdout.contains("complete and unaltered"),
            "{}",
            ok.stdout
        );
        w.loa
            .run(&[
                "airlog",
                "verify",
                "--export",
                path.to_str().unwrap(),
                "--plan",
                &plan(),
            ])
            .expect(0);
    }
    // CSV: one played_ms changed.
    let path = export(&w.loa, "csv", &strs(&args));
    let text = std::fs::read_to_string(&path).unwrap();
    let rec = closed_in_week(w)[3];
    let line = text.lines().find(|l| l.contains(&rec.row_hash)).unwrap();
    let edited = line.replace(
        &format!(",{},", rec.played_ms),
        &format!(",{},", rec.played_ms + 1),
    );
    assert_ne!(line, edited);
    let bad = path.with_file_name("edited.csv");
    std::fs::write(&bad, text.replace(line, &edited)).unwrap();
    let out = w
        .loa
        .run(&["airlog", "verify", "--export", bad.to_str().unwrap()])
        .expect(1);
    assert!(out.stderr.contains("played_ms"), "{}", out.stderr);
    // CSV: a row deleted.
    std::fs::write(&bad, text.replace(&format!("{line}\r\n"), "")).unwrap();
    let out = w
        .loa
        .run(&["airlog", "verify", "--export", bad.to_str().unwrap()])
        .expect(1);
    assert!(
        out.stderr.contains("export does not match"),
        "{}",
        out.stderr
    );
    // XLSX: one title cell changed, the workbook otherwise copied as it was.
    let path = export(&w.loa, "xlsx", &strs(&args));
    let bad = path.with_file_name("edited.xlsx");
    copy_xlsx_editing(&path, &bad, (1, 5, 4), "Tin đã sửa");
    let out = w
        .loa
        .run(&["airlog", "verify", "--export", bad.to_str().unwrap()])
        .expect(1);
    assert!(
        out.stderr.contains("title is 'Tin đã sửa' in the file"),
        "{}",
        out.stderr
    );
}

/// Rewrites an XLSX export cell by cell (strings, numbers, dates), changing one cell.
fn copy_xlsx_editing(from: &Path, to: &Path, at: (usize, u32, u16), value: &str) {
    let mut wb = open_workbook_auto(from).unwrap();
    let names = wb.sheet_names();
    let mut out = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy hh:mm:ss.000");
    for (i, name) in names.iter().enumerate() {
        let range = wb.worksheet_range_at(i).unwrap().unwrap();
        let ws = out.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if (i, r, c) == at {
                    ws.write_string(r, c, value).unwrap();
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
    }
    out.save(to).unwrap();
}

#[test]
fn verify_fails_on_a_database_row_edited_after_the_export() {
    let loa = played("2023-03-13", "2023-03-13", Some("vinh-an"));
    let path = export(&loa, "csv", &["--from", "2023-03-13", "--to", "2023-03-13"]);
    loa.run(&["airlog", "verify", "--export", path.to_str().unwrap()])
        .expect(0);
    block_on(async {
        let store = loa.store().await;
        sqlx::query("UPDATE airlog SET played_ms = played_ms + 1000 WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let out = loa
        .run(&["airlog", "verify", "--export", path.to_str().unwrap()])
        .expect(1);
    assert!(
        out.stderr.contains("database row 2") && out.stderr.contains("altered"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_export_input_exits_2_with_one_sentence_naming_it() {
    let w = week();
    let out = w.loa.dir.path().join("x.csv");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--quarter", "2023-Q5", "--format", "csv", "--out", o],
            "--quarter '2023-Q5'",
        ),
        (
            vec![
                "--from",
                "2023-03-19",
                "--to",
                "2023-03-13",
                "--format",
                "csv",
                "--out",
                o,
            ],
            "before --from",
        ),
        (
            vec![
                "--year",
                "2023",
                "--format",
                "csv",
                "--out",
                o,
                "--station",
                "vinh-x",
            ],
            "'vinh-x'",
        ),
    ];
    for (args, says) in cases {
        let mut a = vec!["airlog", "export"];
        a.extend(args);
        let r = w.loa.run(&a).expect(2);
        assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
    let r = w
        .loa
        .run(&["airlog", "verify", "--export", "/nonexistent/x.html"])
        .expect(2);
    assert!(r.stderr.contains("x.html"), "{}", r.stderr);
}
