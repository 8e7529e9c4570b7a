//! Benchmark of the report exports: a year of airlog for a 600-station province (about
//! 2.2 million item rows and 438,000 slot rows) generated straight into a SQLite data dir, then `loa airlog export
//! --year 2023` run as the release binary under GNU time for CSV and XLSX (and HTML, and
//! `verify --export` of the CSV), printing wall time and peak resident memory.
//!
//! Rows: for each of 600 commune stations and each day of 2023, two slots (05:30, 16:30
//! local), each three news/articles and two spots (97 % aired, 1 % each failed, partial
//! and skipped) and the slot's own row, which opens first and closes last as playout
//! writes it; valid hash chains and heads, so `verify` holds too.
//!
//! Run: `cargo bench --bench report` (docs/benchmarks.md, "Reports"). The data dir is kept
//! in `REPORT_BENCH_DIR` (default `target/bench-report`) and reused when complete.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use common::code;
use loa::airlog::{chain, Record};
use loa::library::{Bulletin, Kind, Topic};
use loa::store::Store;

mod common;

const STATIONS: usize = 600;
const BULLETINS: u64 = 200;

/// Bulletin `n` of the library: half news, then articles, columns and spots, titles with
/// commas and quotes, three producer units.
fn bulletin(n: u64) -> Bulletin {
    let kind = match n % 10 {
        0..=4 => Kind::News,
        5..=7 => Kind::Article,
        8 => Kind::Column,
        _ => Kind::Spot,
    };
    let seconds = if kind == Kind::Spot { 30 } else { 60 + n % 120 };
    let mut b = common::bulletin(n, kind, Topic::ALL[(n % 5) as usize], seconds);
    b.meta.title = format!(
        "{} số {n}: thủ tục \"một cửa\", liên thông",
        kind.label_vi()
    );
    b.meta.producer =
        ["Phòng Nội vụ", "Phòng Tư pháp", "Trung tâm VH-TT-TT&DL"][(n % 3) as usize].into();
    b
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Generates the year into `data` (a data dir made by `loa init`); returns the row count.
async fn generate(data: &Path) -> u64 {
    let store = loa::store::sqlite::SqliteStore::open(&data.join("loa.db"))
        .await
        .expect("store");
    let lib: Vec<Bulletin> = (1..=BULLETINS).map(bulletin).collect();
    store.add_bulletins(&lib).await.expect("bulletins");
    let items: Vec<&Bulletin> = lib.iter().filter(|b| b.meta.kind != Kind::Spot).collect();
    let spots: Vec<&Bulletin> = lib.iter().filter(|b| b.meta.kind == Kind::Spot).collect();
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let pool = store.pool().clone();
    let mut seq = 0i64;
    let mut tx = pool.begin().await.expect("tx");
    const PER: usize = 50;
    let insert = |n: usize| {
        let one = format!("({})", vec!["?"; 18].join(","));
        format!(
            "INSERT INTO airlog (seq, level, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, \
             played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash) VALUES {}",
            vec![one; n].join(",")
        )
    };
    let full = insert(PER);
    let mut batch: Vec<Record> = Vec::with_capacity(PER);
    async fn flush(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        sql: &str,
        batch: &mut Vec<Record>,
    ) {
        let mut q = sqlx::query(sql);
        for r in batch.iter() {
            q = q
                .bind(r.seq)
                .bind(&r.level)
                .bind(&r.station)
                .bind(&r.slot_start)
                .bind(&r.bulletin_id)
                .bind(&r.sha256)
                .bind(&r.planned_start)
                .bind(&r.actual_start)
                .bind(&r.actual_end)
                .bind(r.played_ms)
                .bind(r.status.as_str())
                .bind(r.source.as_str())
                .bind(r.reason.stored())
                .bind(r.gain_db)
                .bind(&r.who)
                .bind(r.link_seq)
                .bind(&r.prev_hash)
                .bind(&r.row_hash);
        }
        q.execute(&mut **tx).await.expect("insert");
        batch.clear();
    }
    let mut heads = Vec::new();
    for s in 1..=STATIONS {
        let station = code(s);
        let mut prev = chain::genesis(&station);
        let mut head_seq = 0;
        let mut k = s as u64;
        let mut day = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date");
        while day.year() == 2023 {
            for (h, m) in [(5, 30), (16, 30)] {
                let slot = tz
                    .from_local_datetime(&day.and_hms_opt(h, m, 0).expect("time"))
                    .unwrap()
                    .with_timezone(&Utc);
                let mut at = slot;
                // The slot row opens before its items and closes (joins the chain) after them.
                seq += 1;
                let slot_seq = seq;
                let mut slot_played = 0;
                let mut slot_aired = 0;
                for i in 0..5 {
                    k = k.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let b = if i % 2 == 1 {
                        spots[(k >> 33) as usize % spots.len()]
                    } else {
                        items[(k >> 33) as usize % items.len()]
                    };
                    let len = b.audio.duration_ms as i64;
                    let (status, played, reason) = match (k >> 40) % 100 {
                        0 => ("failed", 0, "audio file missing from the store"),
                        1 => ("partial", len / 2, "cut at the end of the slot"),
                        2 => ("skipped", 0, "missed: loa was not playing at 05:31:00"),
                        _ => ("aired", len, ""),
                    };
                    seq += 1;
                    let mut r = Record {
                        seq,
                        level: "item".into(),
                        station: station.clone(),
                        slot_start: text(slot),
                        bulletin_id: Some(b.id.to_string()),
                        sha256: Some(b.audio.sha256.clone()),
                        planned_start: text(at),
                        actual_start: (played > 0).then(|| text(at)),
                        actual_end: (played > 0).then(|| text(at + Duration::milliseconds(played))),
                        played_ms: played,
                        status: status.parse().expect("a status"),
                        source: loa::airlog::CueSource::Schedule,
                        reason: reason.into(),
                        gain_db: Some(-1.5),
                        who: "loa".into(),
                        link_seq: None,
                        prev_hash: prev.clone(),
                        row_hash: String::new(),
                    };
                    r.row_hash = chain::row_hash(&r);
                    prev = r.row_hash.clone();
                    at += Duration::milliseconds(len);
                    slot_played += played;
                    slot_aired += usize::from(status == "aired");
                    batch.push(r);
                    if batch.len() == PER {
                        flush(&mut tx, &full, &mut batch).await;
                    }
                }
                let mut r = Record {
                    seq: slot_seq,
                    level: "slot".into(),
                    station: station.clone(),
                    slot_start: text(slot),
                    bulletin_id: None,
                    sha256: None,
                    planned_start: text(slot),
                    actual_start: Some(text(slot)),
                    actual_end: Some(text(at)),
                    played_ms: slot_played,
                    status: if slot_aired == 5 {
                        loa::airlog::AirStatus::Aired
                    } else {
                        loa::airlog::AirStatus::Partial
                    },
                    source: loa::airlog::CueSource::Schedule,
                    reason: format!("Bản tin loa truyền thanh; {slot_aired} of 5 item(s) aired")
                        .as_str()
                        .into(),
                    gain_db: None,
                    who: "loa".into(),
                    link_seq: None,
                    prev_hash: prev.clone(),
                    row_hash: String::new(),
                };
                r.row_hash = chain::row_hash(&r);
                prev = r.row_hash.clone();
                head_seq = slot_seq;
                batch.push(r);
                if batch.len() == PER {
                    flush(&mut tx, &full, &mut batch).await;
                }
            }
            day = day.succ_opt().expect("date");
        }
        if !batch.is_empty() {
            let sql = insert(batch.len());
            flush(&mut tx, &sql, &mut batch).await;
        }
        heads.push((station, head_seq, prev));
    }
    for (station, seq, hash) in heads {
        sqlx::query("INSERT INTO airlog_heads (station, seq, row_hash) VALUES (?, ?, ?)")
            .bind(station)
            .bind(seq)
            .bind(hash)
            .execute(&mut *tx)
            .await
            .expect("head");
    }
    tx.commit().await.expect("commit");
    store.close().await;
    seq as u64
}

/// Runs the binary under GNU time; returns (wall seconds, peak RSS in MB).
fn timed(args: &[&str]) -> (f64, Option<f64>) {
    let loa = env!("CARGO_BIN_EXE_loa");
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg(loa);
        c
    } else {
        Command::new(loa)
    };
    let started = Instant::now();
    let out = cmd.args(args).output().expect("loa runs");
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "loa {args:?} failed:\n{stderr}");
    let rss = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    (secs, rss)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters nothing here.
    let dir = std::env::var_os("REPORT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join("bench-report")
        });
    let data = dir.join("data");
    let done = dir.join("generated");
    let plan = dir.join("province.toml");
    std::fs::create_dir_all(&dir).expect("bench dir");
    std::fs::write(&plan, common::province_plan_text(STATIONS)).expect("plan");
    let d = data.display().to_string();
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&data);
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_loa"))
            .args(["--data-dir", &d, "init"])
            .output()
            .expect("loa init");
        assert!(
            out.status.success(),
            "loa init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(generate(&data));
        std::fs::write(&done, rows.to_string()).expect("marker");
        println!(
            "generated {rows} airlog rows for {STATIONS} stations in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let rows = std::fs::read_to_string(&done).expect("marker");
    let p = plan.display().to_string();
    println!(
        "airlog: {} rows, {STATIONS} stations, year 2023",
        rows.trim()
    );
    for (format, target) in [
        ("csv", "< 5 s"),
        ("xlsx", "< 60 s, < 300 MB"),
        ("html", "-"),
    ] {
        let out = dir.join(format!("year.{format}"));
        let o = out.display().to_string();
        let (secs, rss) = timed(&[
            "--data-dir",
            &d,
            "airlog",
            "export",
            "--year",
            "2023",
            "--format",
            format,
            "--out",
            &o,
            "--plan",
            &p,
            // The previous run's file is there: replace it (--out refuses otherwise).
            "--force",
        ]);
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!(
            "export {format:>4}: {secs:6.2} s, peak RSS {}, file {:.1} MB (target {target})",
            rss.map_or("n/a".into(), |r| format!("{r:.0} MB")),
            size as f64 / 1e6
        );
    }
    let csv = dir.join("year.csv").display().to_string();
    let (secs, rss) = timed(&["--data-dir", &d, "airlog", "verify", "--export", &csv]);
    println!(
        "verify --export csv: {secs:6.2} s, peak RSS {}",
        rss.map_or("n/a".into(), |r| format!("{r:.0} MB"))
    );
}
