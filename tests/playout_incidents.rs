//! Incidents playout must not hide, on the real binary: a daemon frozen for 20 s mid-item
//! (SIGSTOP) logs the item `partial` with the stall's length, raises an alert and rejoins
//! where the wall clock is; a missing audio file raises an alert as a corrupt one does.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::Loa;
use loa::airlog::{AirStatus, Reason, Record};
use loa::store::{AirlogStore, BulletinFilter, Store};

async fn rows(loa: &Loa) -> Vec<Record> {
    let store = loa.store().await;
    let r = store.airlog(None, None, None).await.unwrap();
    store.close().await;
    r
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the child we spawned; no memory is shared.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

/// Kills the daemon however the test ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_daemon_frozen_mid_item_logs_the_stall_raises_an_alert_and_rejoins_where_it_should_be() {
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
        &common::fixtures::speech_like(16_000, 1, 800, 16_000 * 90, 800),
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
    let plan = common::plan_at(loa.dir.path(), now);
    let log = loa.dir.path().join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args([
            "--data-dir",
            loa.data.to_str().unwrap(),
            "serve",
            "--plan",
            plan.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let on_air = loop {
        let r = rows(&loa).await;
        if let Some(r) = r
            .into_iter()
            .find(|r| r.status.is_open() && r.level == "item")
        {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not start playing"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Freeze the daemon 3 s into the item, for 20 s.
    std::thread::sleep(Duration::from_secs(3));
    signal(&daemon.0, libc::SIGSTOP);
    std::thread::sleep(Duration::from_secs(20));
    signal(&daemon.0, libc::SIGCONT);
    // The rejoined item plays to its end (at most 90 s) before its row says where it joined.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (stalled, rejoined) = loop {
        let r = rows(&loa).await;
        let stalled = r
            .iter()
            .find(|x| x.seq == on_air.seq && !x.status.is_open());
        let rejoined = r.iter().find(|x| {
            x.level == "item"
                && x.seq > on_air.seq
                && x.bulletin_id == on_air.bulletin_id
                && !x.status.is_open()
        });
        if let (Some(s), Some(j)) = (stalled, rejoined) {
            break (s.clone(), j.clone());
        }
        assert!(
            Instant::now() < deadline,
            "the frozen item was not closed and rejoined: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    signal(&daemon.0, libc::SIGTERM);
    // The item on air during the freeze: partial, with what really played and the stall.
    assert_eq!(stalled.status, AirStatus::Partial, "{stalled:?}");
    let stall_ms = stalled
        .reason
        .parts()
        .iter()
        .find_map(|p| match p {
            Reason::Stalled { ms } => Some(*ms),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no stall in {:?}", stalled.reason));
    assert!((19_000..40_000).contains(&stall_ms), "{stall_ms} ms");
    assert!(
        stalled.reason.en().contains("stalled"),
        "{}",
        stalled.reason
    );
    assert!(
        (2_000..10_000).contains(&stalled.played_ms),
        "only the audio written before the freeze counts: {stalled:?}"
    );
    // Playout rejoined the same item where the wall clock was, not where the audio stopped.
    let planned = t(&stalled.planned_start);
    let joined_at = t(rejoined.actual_start.as_deref().unwrap());
    let stalled_end = t(stalled.actual_end.as_deref().unwrap());
    assert!(
        joined_at - stalled_end >= chrono::Duration::milliseconds(stall_ms as i64 - 1_000),
        "{stalled:?} {rejoined:?}"
    );
    let join_ms = rejoined
        .reason
        .parts()
        .iter()
        .find_map(|p| match p {
            Reason::JoinedLate { at_ms } => Some(*at_ms),
            _ => None,
        })
        .unwrap_or_else(|| panic!("not joined late: {rejoined:?}"));
    let expected = (joined_at - planned).num_milliseconds();
    assert!(
        (join_ms as i64 - expected).abs() <= 1_000,
        "joined at {join_ms} ms, {expected} ms after the planned start"
    );
    // An alert was raised.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains("stalled") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no stall alert in the log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test]
async fn a_missing_audio_file_raises_an_alert_as_a_corrupt_one_does() {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    loa.run(&[
        "library",
        "import",
        common::repo().join("audio/manifest.toml").to_str().unwrap(),
        "--approve",
    ])
    .expect(0);
    let store = loa.store().await;
    let lib = store
        .list_bulletins(&BulletinFilter::default())
        .await
        .unwrap();
    store.close().await;
    let of = |k| lib.iter().find(|b| b.meta.kind == k).unwrap();
    let (article, column) = (
        of(loa::library::Kind::Article),
        of(loa::library::Kind::Column),
    );
    let article_path = loa.data.join("audio").join(&article.audio_path);
    let column_path = loa.data.join("audio").join(&column.audio_path);
    std::fs::remove_file(&article_path).unwrap();
    let mut bytes = std::fs::read(&column_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&column_path, &bytes).unwrap();
    let run = loa
        .run(&[
            "playout",
            "run",
            "--plan",
            common::repo()
                .join("schedules/vinh-loc-2023.toml")
                .to_str()
                .unwrap(),
            "--from",
            "2023-03-13",
            "--to",
            "2023-03-13",
            "--station",
            "vinh-an",
            "--sink",
            "null",
        ])
        .expect(0);
    let alerts: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("cannot be played"))
        .collect();
    for (b, problem) in [
        (article, "the audio file is missing"),
        (column, "has changed"),
    ] {
        assert!(
            alerts
                .iter()
                .any(|l| l.contains(b.id.as_str()) && l.contains(problem)),
            "no alert for {} ({problem}) in:\n{}",
            b.id,
            run.stderr
        );
    }
    let failed: Vec<Record> = rows(&loa)
        .await
        .into_iter()
        .filter(|r| r.status == AirStatus::Failed)
        .collect();
    assert!(
        failed
            .iter()
            .any(|r| matches!(r.reason.parts(), [Reason::FileMissing { .. }])),
        "{failed:?}"
    );
}
