//! Playout on the real binary: a simulated week of the district plan for every station on
//! the capture sink, checked item by item against the schedule, the airlog and the captured
//! samples; and faults: a file deleted from the store, a corrupt file, `kill -9` mid-item.

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{repo, Loa};
use loa::airlog::Record;
use loa::playout::sink::read_capture;
use loa::playout::sink::wav::frame_at;
use loa::playout::source::ItemSource;
use loa::playout::OutputFormat;
use loa::store::{AirlogStore, BulletinFilter, ScheduleStore, Store};

/// A low output format keeps a week of capture small (8 kHz mono float).
const RATE: &str = "8000";

fn plan() -> String {
    repo()
        .join("schedules/vinh-loc-2023.toml")
        .display()
        .to_string()
}

fn demo() -> Loa {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        // Captures bit for bit at the station's format, so each item can be found in them.
        format!(
            "[playout]\nsink = \"null\"\nsample_rate = {RATE}\nchannels = 1\n\n\
             [playout.capture]\nsample_rate = {RATE}\nchannels = 1\nsample_format = \"f32\"\nmin_free_mb = 0\n"
        ),
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

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Plays one day of the district plan at Vĩnh An to the null sink (simulated clock).
fn play_vinh_an(loa: &Loa, day: &str) {
    loa.run(&[
        "playout",
        "run",
        "--plan",
        &plan(),
        "--from",
        day,
        "--to",
        day,
        "--station",
        "vinh-an",
        "--sink",
        "null",
    ])
    .expect(0);
}

async fn rows(loa: &Loa) -> Vec<Record> {
    let store = loa.store().await;
    let r = store.airlog(None, None, None).await.unwrap();
    store.close().await;
    r
}

#[tokio::test]
async fn a_simulated_week_airs_every_scheduled_item_on_time_at_its_sample_position() {
    let loa = demo();
    let cap = loa.dir.path().join("capture");
    let sink = format!("wav:{}", cap.display());
    let out = loa
        .run(&[
            "playout",
            "run",
            "--plan",
            &plan(),
            "--from",
            "2023-03-13",
            "--to",
            "2023-03-19",
            "--clock",
            "simulated",
            "--sink",
            &sink,
            "--json",
        ])
        .expect(0)
        .json();
    assert!(out["slots"].as_u64().unwrap() > 100, "{out}");
    let (airlog, slot_rows): (Vec<Record>, Vec<Record>) = rows(&loa)
        .await
        .into_iter()
        .partition(|r| r.level == "item");
    assert!(
        airlog.iter().all(|r| r.status == "aired"),
        "{:?}",
        airlog.iter().find(|r| r.status != "aired")
    );
    assert_eq!(
        slot_rows.len() as u64,
        out["slots"].as_u64().unwrap(),
        "one slot row per slot instance"
    );
    // Every item of every kept schedule is in the airlog in play order, at its planned
    // instant (the schedule's offset, to the millisecond), and it started exactly then.
    let store = loa.store().await;
    let mut scheduled = 0;
    for week in ["2023-W11"] {
        for kept in store.latest_weeks(week, None).await.unwrap() {
            for slot in &kept.body.slots {
                let slot_start = slot.start.with_timezone(&Utc);
                let in_slot: Vec<&Record> = airlog
                    .iter()
                    .filter(|r| r.station == kept.station && t(&r.slot_start) == slot_start)
                    .collect();
                assert_eq!(
                    in_slot.len(),
                    slot.items.len(),
                    "{} {}",
                    kept.station,
                    slot.start
                );
                // The slot instance's own row: opened before its first item, on time, and
                // closed with what its items carried.
                let own: Vec<&Record> = slot_rows
                    .iter()
                    .filter(|r| r.station == kept.station && t(&r.slot_start) == slot_start)
                    .collect();
                assert_eq!(own.len(), 1, "{} {}", kept.station, slot.start);
                let own = own[0];
                assert_eq!(own.bulletin_id, None);
                if slot.items.is_empty() {
                    // The demo plan has no fallback: an empty slot is logged as silent.
                    assert_eq!(own.status, "failed");
                    assert!(own.reason.en().contains("stayed silent"), "{}", own.reason);
                    assert_eq!(own.played_ms, 0);
                    continue;
                }
                assert_eq!(own.status, "aired", "{own:?}");
                assert_eq!(t(&own.planned_start), slot_start);
                assert_eq!(own.actual_start.as_deref().map(t), Some(slot_start));
                assert!(in_slot.iter().all(|r| r.seq > own.seq), "opened first");
                assert_eq!(
                    own.played_ms,
                    in_slot.iter().map(|r| r.played_ms).sum::<i64>()
                );
                assert_eq!(
                    own.actual_end,
                    in_slot.last().and_then(|r| r.actual_end.clone())
                );
                assert!(own.reason.en().starts_with(&slot.name), "{}", own.reason);
                assert!(
                    own.reason
                        .en()
                        .contains(&format!("{n} of {n} item(s) aired", n = slot.items.len())),
                    "{}",
                    own.reason
                );
                for (item, row) in slot.items.iter().zip(&in_slot) {
                    assert_eq!(row.bulletin_id.as_deref(), Some(item.bulletin_id.as_str()));
                    let planned = t(&row.planned_start);
                    let offset = slot_start + chrono::Duration::milliseconds(item.offset_ms as i64);
                    assert!(
                        (planned - offset).num_microseconds().unwrap().abs() < 2_000,
                        "{planned} vs schedule {offset}"
                    );
                    assert_eq!(
                        row.actual_start.as_deref().map(t),
                        Some(planned),
                        "on time, exactly"
                    );
                    scheduled += 1;
                }
            }
        }
    }
    assert_eq!(scheduled, airlog.len());
    // Zero gap: within a slot each item starts where the previous one ended.
    let mut by_slot: HashMap<(String, String), Vec<&Record>> = HashMap::new();
    for r in &airlog {
        by_slot
            .entry((r.station.clone(), r.slot_start.clone()))
            .or_default()
            .push(r);
    }
    for rs in by_slot.values() {
        for w in rs.windows(2) {
            assert_eq!(
                w[0].actual_end, w[1].actual_start,
                "gap between {} and {}",
                w[0].seq, w[1].seq
            );
        }
    }
    // The audio of each item is in the capture at the frame of its instant, sample for sample.
    let fmt = OutputFormat {
        sample_rate: 8000,
        channels: 1,
    };
    let library: HashMap<String, loa::library::Bulletin> = store
        .list_bulletins(&BulletinFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.id.to_string(), b))
        .collect();
    store.close().await;
    let mut decoded: HashMap<String, Vec<f32>> = HashMap::new();
    let mut captures = HashMap::new();
    for r in &airlog {
        let b = &library[r.bulletin_id.as_deref().unwrap()];
        let want = decoded.entry(b.id.to_string()).or_insert_with(|| {
            let path = loa.data.join("audio").join(&b.audio_path);
            // The runner limits at the station ceiling (the default -1 dBTP), and so does this.
            let mut src = ItemSource::open(&path, None, fmt, r.gain_db.unwrap())
                .unwrap()
                .with_ceiling(-1.0);
            let mut all = vec![0f32; src.total_frames() as usize];
            let n = src.read(&mut all).unwrap();
            let mut at = n;
            while at < all.len() {
                let n = src.read(&mut all[at..]).unwrap();
                if n == 0 {
                    break;
                }
                at += n;
            }
            all
        });
        let start = t(r.actual_start.as_deref().unwrap());
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let day = start.with_timezone(&tz).date_naive();
        let (samples, segments) = captures
            .entry((r.station.clone(), day))
            .or_insert_with(|| read_capture(&cap, &r.station, day).unwrap());
        let frame = frame_at(segments, 8000, start).unwrap() as usize;
        let got = samples.get(frame..frame + want.len());
        assert!(
            got == Some(&want[..]),
            "{} at {start} is not in the capture at frame {frame}",
            b.id
        );
    }
    loa.run(&["airlog", "verify"]).expect(0);
}

#[tokio::test]
async fn a_deleted_and_a_corrupt_file_are_logged_failed_and_made_up_later() {
    let loa = demo();
    let store = loa.store().await;
    let lib = store
        .list_bulletins(&BulletinFilter::default())
        .await
        .unwrap();
    store.close().await;
    let article = lib
        .iter()
        .find(|b| b.meta.kind == loa::library::Kind::Article)
        .unwrap();
    let column = lib
        .iter()
        .find(|b| b.meta.kind == loa::library::Kind::Column)
        .unwrap();
    let article_path = loa.data.join("audio").join(&article.audio_path);
    let column_path = loa.data.join("audio").join(&column.audio_path);
    let saved = std::fs::read(&article_path).unwrap();
    std::fs::remove_file(&article_path).unwrap();
    let mut bytes = std::fs::read(&column_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&column_path, &bytes).unwrap();
    play_vinh_an(&loa, "2023-03-13");
    let airlog = rows(&loa).await;
    let failed: Vec<&Record> = airlog.iter().filter(|r| r.status == "failed").collect();
    assert!(
        failed
            .iter()
            .any(|r| r.bulletin_id.as_deref() == Some(article.id.as_str())
                && r.reason.en().contains("missing")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .any(|r| r.bulletin_id.as_deref() == Some(column.id.as_str())
                && r.reason.en().contains("changed since it was added")),
        "{failed:?}"
    );
    // The next item played at once: nothing else failed, and the day's other items aired.
    assert!(airlog.iter().filter(|r| r.status == "aired").count() > 3);
    // Restore the article; the next day makes it up, linked to the miss.
    std::fs::write(&article_path, saved).unwrap();
    play_vinh_an(&loa, "2023-03-14");
    let airlog = rows(&loa).await;
    // The same day's evening tried again (still missing: failed, linked to the first miss);
    // the next day it aired, linked to the last miss.
    let misses: Vec<i64> = airlog
        .iter()
        .filter(|r| r.status == "failed" && r.bulletin_id.as_deref() == Some(article.id.as_str()))
        .map(|r| r.seq)
        .collect();
    let aired = airlog
        .iter()
        .find(|r| {
            r.source == "makeup"
                && r.status == "aired"
                && r.bulletin_id.as_deref() == Some(article.id.as_str())
        })
        .expect("the article made up once restored");
    assert!(
        aired.link_seq.is_some_and(|l| misses.contains(&l)),
        "{aired:?} {misses:?}"
    );
    loa.run(&["airlog", "verify"]).expect(0);
}

#[tokio::test]
async fn an_edited_a_deleted_and_an_inserted_airlog_row_are_caught() {
    let loa = demo();
    play_vinh_an(&loa, "2023-03-13");
    loa.run(&["airlog", "verify"]).expect(0);
    let airlog = rows(&loa).await;
    assert!(airlog.len() >= 4);
    let store = loa.store().await;
    let exec = |q: String| {
        let pool = store.pool().clone();
        async move { sqlx::query(&q).execute(&pool).await.unwrap() }
    };
    exec(format!(
        "UPDATE airlog SET played_ms = played_ms + 1000 WHERE seq = {}",
        airlog[1].seq
    ))
    .await;
    let edited = loa.run(&["airlog", "verify"]).expect(1);
    assert!(
        edited.stderr.contains(&format!("row {}", airlog[1].seq))
            && edited.stderr.contains("edited"),
        "{}",
        edited.stderr
    );
    exec(format!(
        "UPDATE airlog SET played_ms = played_ms - 1000 WHERE seq = {}",
        airlog[1].seq
    ))
    .await;
    loa.run(&["airlog", "verify"]).expect(0);
    exec(format!("DELETE FROM airlog WHERE seq = {}", airlog[2].seq)).await;
    let deleted = loa.run(&["airlog", "verify"]).expect(1);
    assert!(
        deleted.stderr.contains(&format!("row {}", airlog[3].seq)),
        "{}",
        deleted.stderr
    );
    exec(format!(
        "INSERT INTO airlog (seq, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, prev_hash, row_hash) \
         SELECT {seq}, station, slot_start, bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, prev_hash, row_hash FROM airlog WHERE seq = {from}",
        seq = airlog[2].seq,
        from = airlog[1].seq
    ))
    .await;
    let inserted = loa.run(&["airlog", "verify"]).expect(1);
    assert!(
        inserted.stderr.contains("airlog altered"),
        "{}",
        inserted.stderr
    );
    store.close().await;
}

#[tokio::test]
async fn kill_9_mid_item_is_closed_as_interrupted_with_the_time_played() {
    // A plan whose slot started at this minute, so the run joins it at once, in real time.
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    let long = loa.dir.path().join("bai-dai.wav");
    common::fixtures::write_wav(
        &long,
        common::fixtures::WavFormat::Pcm16,
        16_000,
        1,
        &common::fixtures::speech_like(16_000, 1, 800, 16_000 * 100, 800),
        None,
    );
    loa.run(&[
        "library",
        "add",
        long.to_str().unwrap(),
        "--kind",
        "article",
        "--topic",
        "documents",
        "--approve",
    ])
    .expect(0);
    let now = Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let today = now.date_naive();
    let plan = common::plan_at(loa.dir.path(), now);
    let day = today.format("%Y-%m-%d").to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args([
            "--data-dir",
            loa.data.to_str().unwrap(),
            "playout",
            "run",
            "--plan",
            plan.to_str().unwrap(),
            "--from",
            &day,
            "--to",
            &day,
            "--clock",
            "system",
            "--sink",
            "null",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the row is open, let it play, then kill it without warning.
    let deadline = Instant::now() + Duration::from_secs(20);
    let opened = loop {
        let r = rows(&loa).await;
        if let Some(row) = r
            .into_iter()
            .find(|r| r.status == "playing" && r.level == "item")
        {
            break row;
        }
        assert!(Instant::now() < deadline, "no row opened");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(3_500));
    child.kill().unwrap();
    let killed_at = Utc::now();
    child.wait().unwrap();
    let truth_ms = (killed_at - t(opened.actual_start.as_deref().unwrap())).num_milliseconds();
    // A restart closes the row as interrupted, within a second of the truth.
    loa.run(&[
        "playout",
        "run",
        "--plan",
        plan.to_str().unwrap(),
        "--from",
        &day,
        "--to",
        &day,
        "--clock",
        "simulated",
        "--sink",
        "null",
    ])
    .expect(0);
    let after = rows(&loa).await;
    let r = after.iter().find(|r| r.seq == opened.seq).unwrap();
    assert_eq!(r.status, "interrupted");
    assert!(
        (truth_ms - r.played_ms).abs() <= 1_000,
        "played {} ms, truth {truth_ms} ms",
        r.played_ms
    );
    // The slot instance's row is closed too, with what its items played.
    let slot = after
        .iter()
        .find(|s| s.level == "slot" && s.slot_start == r.slot_start && s.seq < r.seq)
        .expect("the slot row opened before the item");
    assert_eq!(slot.status, "interrupted");
    assert_eq!(slot.played_ms, r.played_ms);
    assert_eq!(slot.actual_end, r.actual_end);
    assert!(
        slot.reason.en().contains("crash or power cut"),
        "{}",
        slot.reason
    );
    loa.run(&["airlog", "verify"]).expect(0);
}

#[tokio::test]
async fn a_clock_stepped_forward_joins_late_and_stepped_back_airs_nothing_twice() {
    use std::sync::Arc;

    use loa::clock::{Clock, SimClock};
    use loa::library::audio_store::AudioStore;
    use loa::playout::seams::StoreAirlog;
    use loa::playout::service::slots_between;
    use loa::playout::{Settings, StationPlayer};

    let loa = demo();
    let plan =
        Arc::new(loa::plan::check_file(&repo().join("schedules/vinh-loc-2023.toml")).unwrap());
    let station = plan.station("vinh-hung").unwrap().clone();
    let store: Arc<dyn Store> = Arc::new(loa.store().await);
    let built = loa::library::StateChange {
        by: "test".into(),
        at: t("2023-03-10T00:00:00Z"),
    };
    let slots = slots_between(
        store.as_ref(),
        &plan,
        &station,
        t("2023-03-12T17:00:00Z"),
        t("2023-03-13T17:00:00Z"),
        &built,
    )
    .await
    .unwrap();
    let slot = slots
        .iter()
        .find(|s| s.items.len() >= 3)
        .expect("a morning slot with items")
        .clone();
    let start = slot.start.with_timezone(&Utc);
    let settings = Settings {
        format: OutputFormat {
            sample_rate: 8000,
            channels: 1,
        },
        ..Settings::default()
    };
    // The clock jumps into the middle of the slot's second item before it plays (a step forward).
    let mid = slot.items[1].offset_ms + slot.items[1].duration_ms / 2;
    let step = chrono::Duration::milliseconds(mid as i64);
    let clock = SimClock::new(start - chrono::Duration::hours(1));
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let sink = loa::playout::sink::open(&"null".parse().unwrap(), settings.format).unwrap();
    let mut player = StationPlayer::new(
        station.clone(),
        plan.clone(),
        Arc::new(StoreAirlog(store.clone())),
        clock_dyn,
        AudioStore::new(loa.data.join("audio")),
        loa::library::catalogue::Catalogue::new(store.clone())
            .snapshot()
            .await
            .unwrap()
            .by_id()
            .clone(),
        sink,
        settings,
    );
    clock.set(start + step);
    player.play_slot(&slot).await.unwrap();
    let (first, slot_rows): (Vec<Record>, Vec<Record>) = rows(&loa)
        .await
        .into_iter()
        .partition(|r| r.level == "item");
    assert_eq!(first.len(), slot.items.len(), "one row per scheduled item");
    assert_eq!(slot_rows.len(), 1, "{slot_rows:?}");
    assert_eq!(slot_rows[0].status, "partial");
    assert_eq!(
        slot_rows[0].actual_start.as_deref().map(t),
        Some(start + step),
        "the slot row says when the slot really began"
    );
    let missed: Vec<&Record> = first.iter().filter(|r| r.status == "skipped").collect();
    assert!(
        !missed.is_empty() && missed.iter().all(|r| r.reason.en().starts_with("missed")),
        "{first:?}"
    );
    let joined = first
        .iter()
        .find(|r| r.status == "partial")
        .expect("the item on air at the step is joined part-way");
    assert!(
        joined.reason.en().contains("joined late"),
        "{}",
        joined.reason
    );
    assert_eq!(t(joined.actual_start.as_deref().unwrap()), start + step);
    // The clock steps back before the slot: playing it again airs nothing twice.
    clock.set(start - chrono::Duration::minutes(10));
    player.play_slot(&slot).await.unwrap();
    player.finish().await;
    let again = rows(&loa).await;
    let aired_twice = again
        .iter()
        .filter(|r| r.source == "schedule" && r.level == "item")
        .count()
        > first.len();
    assert!(!aired_twice, "rows after the step back: {again:?}");
    store.close().await;
    loa.run(&["airlog", "verify"]).expect(0);
}

#[tokio::test]
async fn a_slot_that_crosses_midnight_at_new_year_plays_through() {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    // The demo bulletins without their 2023 validity, so they may air on 1 January 2024 too.
    let manifest = loa.dir.path().join("m.toml");
    let text = std::fs::read_to_string(repo().join("audio/manifest.toml")).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("valid_"))
        .map(|l| {
            l.replace(
                "file = \"",
                &format!("file = \"{}/", repo().join("audio").display()),
            ) + "\n"
        })
        .collect();
    std::fs::write(&manifest, text).unwrap();
    loa.run(&["library", "import", manifest.to_str().unwrap(), "--approve"])
        .expect(0);
    let plan = loa.dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        "[plan]\nname = \"Giao thừa\"\nyear = 2023\n\n[[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\n\n\
         [[slot]]\nname = \"Đêm giao thừa\"\nstations = [\"all\"]\ncron = \"59 23 * * *\"\nlength = \"20m\"\ncchc = \"10m\"\n",
    )
    .unwrap();
    let cap = loa.dir.path().join("cap");
    loa.run(&[
        "playout",
        "run",
        "--plan",
        plan.to_str().unwrap(),
        "--from",
        "2023-12-31",
        "--to",
        "2024-01-01",
        "--sink",
        &format!("wav:{}", cap.display()),
    ])
    .expect(0);
    let r = rows(&loa).await;
    let new_year = t("2023-12-31T17:00:00Z"); // 00:00 on 1 January 2024 in Vietnam
    let eve: Vec<&Record> = r
        .iter()
        .filter(|r| t(&r.slot_start) == t("2023-12-31T16:59:00Z"))
        .collect();
    assert!(eve.iter().all(|r| r.status == "aired"), "{eve:?}");
    assert!(
        eve.iter()
            .any(|r| t(r.actual_start.as_deref().unwrap()) >= new_year),
        "the slot runs past midnight: {eve:?}"
    );
    // Its audio stays in the capture of the day the slot began.
    let (samples, segments) = read_capture(
        &cap,
        "vinh-an",
        chrono::NaiveDate::from_ymd_opt(2023, 12, 31).unwrap(),
    )
    .unwrap();
    let last = eve.last().unwrap();
    let end = frame_at(
        &segments,
        8000,
        t(last.actual_end.as_deref().unwrap()) - chrono::Duration::milliseconds(1),
    )
    .unwrap();
    assert!((end as usize) < samples.len());
    loa.run(&["airlog", "verify"]).expect(0);
}
