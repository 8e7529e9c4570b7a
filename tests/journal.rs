//! Nothing held is lost or mislabelled: while the database will not take airlog writes,
//! `loa serve` plays on and holds its rows; a clean stop puts them in the journal beside the
//! database; a start while the database still refuses writes plays on and keeps the journal
//! (nothing in it played again or logged "missed"); the next start with a writable database
//! writes every row into the store (marked written late and journalled), none relabelled
//! "missed", and the chain verifies.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{rows, start};
use loa::airlog::{AirStatus, Reason};
use loa::store::Store;

/// Makes the airlog refuse every write, as a read-only or broken database would.
const READ_ONLY: &str = "CREATE TRIGGER test_read_only_insert BEFORE INSERT ON airlog \
     BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END; \
     CREATE TRIGGER test_read_only_update BEFORE UPDATE ON airlog \
     BEGIN SELECT RAISE(ABORT, 'attempt to write a readonly database'); END;";
const WRITABLE: &str = "DROP TRIGGER test_read_only_insert; DROP TRIGGER test_read_only_update;";

/// Sends SIGTERM and waits for a clean exit.
fn stop(child: &mut std::process::Child) {
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert_eq!(s.code(), Some(0), "loa serve did not stop cleanly");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "loa serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `loa serve` again on the daemon's data dir and plan.
fn serve(d: &common::daemon::Daemon) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", d.loa.data.to_str().unwrap()])
        .args(["serve", "--plan", d.plan.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn rows_held_at_a_clean_stop_are_journalled_and_written_by_the_next_start() {
    let mut d = start().await;
    let store = d.loa.store().await;
    sqlx::raw_sql(READ_ONLY)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let before = rows(&d.loa).await;
    let on_air = before
        .iter()
        .find(|r| r.status == AirStatus::Playing && r.level == "item")
        .unwrap()
        .clone();
    // An urgent spot interrupts the article (its closing is held), airs, and the article
    // plays again after it, their rows held; then a clean stop.
    let lib = d
        .loa
        .run(&["library", "list", "--kind", "spot", "--json"])
        .expect(0)
        .json();
    let spot = lib[0]["id"].as_str().unwrap().to_string();
    d.loa
        .run(&["ctl", "urgent", &spot, "--station", "vinh-an"])
        .expect(0);
    std::thread::sleep(Duration::from_secs(5));
    stop(&mut d.child);
    let journal = d.loa.data.join("airlog-journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("the stop wrote the journal");
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let held_rows: Vec<&serde_json::Value> =
        entries.iter().filter(|e| e["entry"] == "row").collect();
    assert!(
        entries
            .iter()
            .any(|e| e["entry"] == "close" && e["seq"] == on_air.seq),
        "the interrupted article's closing is journalled: {text}"
    );
    assert!(
        held_rows.len() >= 2,
        "the urgent spot and the article after it are journalled: {text}"
    );
    // Nothing of it reached the database.
    assert_eq!(rows(&d.loa).await, before);

    // A start while the database still refuses writes plays on: the journal stays, and
    // nothing it holds is played again or logged "missed".
    let mut middle = serve(&d);
    std::thread::sleep(Duration::from_secs(4));
    stop(&mut middle);
    let kept = std::fs::read_to_string(&journal).expect("the journal is kept");
    assert!(
        kept.starts_with(&text),
        "the journal lost lines:\n{text}\n---\n{kept}"
    );
    assert!(
        !kept.contains("\\\"k\\\":\\\"missed\\\""),
        "an attempted item was logged missed:\n{kept}"
    );
    assert_eq!(rows(&d.loa).await, before);

    // The database takes writes again; the next start replays the journal.
    let store = d.loa.store().await;
    sqlx::raw_sql(WRITABLE).execute(store.pool()).await.unwrap();
    store.close().await;
    let mut again = serve(&d);
    let deadline = Instant::now() + Duration::from_secs(20);
    while journal.exists() {
        assert!(Instant::now() < deadline, "the journal was not replayed");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    stop(&mut again);
    let after = rows(&d.loa).await;
    let journalled = |r: &loa::airlog::Record| {
        r.reason
            .parts()
            .iter()
            .any(|p| matches!(p, Reason::Journalled { .. }))
            && r.reason
                .parts()
                .iter()
                .any(|p| matches!(p, Reason::WrittenLate { .. }))
    };
    // The article: closed as the urgent spot closed it, not as a crash.
    let article = after.iter().find(|r| r.seq == on_air.seq).unwrap();
    assert_eq!(article.status, AirStatus::Interrupted, "{article:?}");
    assert!(journalled(article), "{article:?}");
    assert!(
        article
            .reason
            .parts()
            .iter()
            .any(|p| matches!(p, Reason::InterruptedByUrgent { .. })),
        "{article:?}"
    );
    // Every journalled row is in the store with the status playout gave it.
    for h in &held_rows {
        let planned = h["row"]["planned_start"].as_str().unwrap();
        let planned = chrono::DateTime::parse_from_rfc3339(planned).unwrap();
        let bulletin = h["row"]["bulletin_id"].as_str().map(str::to_string);
        let level = h["row"]["level"].as_str().unwrap();
        let same = |r: &&loa::airlog::Record| {
            r.level == level
                && r.bulletin_id == bulletin
                && chrono::DateTime::parse_from_rfc3339(&r.planned_start)
                    .is_ok_and(|t| (t - planned).num_milliseconds() == 0)
        };
        let written: Vec<&loa::airlog::Record> = after.iter().filter(same).collect();
        let w = written
            .iter()
            .find(|r| journalled(r))
            .unwrap_or_else(|| panic!("journalled row not in the store: {h}\n{after:?}"));
        assert_eq!(w.status.as_str(), h["closing"]["status"].as_str().unwrap());
        // Never relabelled: no other row says the same item was missed.
        assert!(
            !written.iter().any(|r| r
                .reason
                .parts()
                .iter()
                .any(|p| matches!(p, Reason::Missed { .. }))),
            "an attempted item was relabelled missed: {written:?}"
        );
    }
    assert!(after.iter().all(|r| r.status != AirStatus::Playing));
    d.loa.run(&["airlog", "verify"]).expect(0);
}
