//! The daemon on the real binary: `loa serve` plays a slot that is on now, answers
//! `loa ctl` (status, urgent, skip) and refuses bad requests, and stops cleanly on SIGTERM
//! with the item on air logged `interrupted` and nothing left open.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{raw, rows, start};

#[tokio::test]
async fn the_daemon_plays_answers_ctl_and_stops_cleanly() {
    let mut d = start().await;
    let status = d.loa.run(&["ctl", "status", "--json"]).expect(0).json();
    assert!(
        status["stations"]["vinh-an"]["on_air"]["title"].is_string(),
        "{status}"
    );
    assert_eq!(
        status["stations"]["vinh-an"]["state"]["playing"]["slot"], "Bây giờ",
        "{status}"
    );
    // Bad requests: wrong token, unknown station, unknown or malformed bulletin.
    assert_eq!(raw(d.port, "GET", "/api/status", "wrong", "").0, 401);
    assert_eq!(
        raw(d.port, "POST", "/api/stations/hanoi/skip", &d.token, "").0,
        404
    );
    assert_eq!(
        raw(
            d.port,
            "POST",
            "/api/stations/vinh-an/urgent",
            &d.token,
            "{\"bulletin\":\"000000000000\"}"
        )
        .0,
        404
    );
    assert_eq!(
        raw(
            d.port,
            "POST",
            "/api/stations/vinh-an/urgent",
            &d.token,
            "{\"bulletn\":1}"
        )
        .0,
        400
    );
    let refused = d.loa.run(&["ctl", "skip", "--station", "hanoi"]).expect(2);
    assert!(refused.stderr.contains("hanoi"), "{}", refused.stderr);
    // An urgent announcement interrupts the article, airs, and both are logged and linked.
    let lib = d
        .loa
        .run(&["library", "list", "--kind", "spot", "--json"])
        .expect(0)
        .json();
    let spot = lib[0]["id"].as_str().unwrap().to_string();
    // An operator follows the station's events meanwhile.
    let mut follower = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args([
            "--data-dir",
            d.loa.data.to_str().unwrap(),
            "ctl",
            "events",
            "--station",
            "vinh-an",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, events) = std::sync::mpsc::channel::<serde_json::Value>();
    let out = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    // Subscribed before the urgent request: the status answers once the stream is open.
    std::thread::sleep(Duration::from_millis(500));
    d.loa
        .run(&["ctl", "urgent", &spot, "--station", "vinh-an"])
        .expect(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (cut, urgent) = loop {
        let r = rows(&d.loa).await;
        let cut = r
            .iter()
            .find(|r| r.status == "interrupted" && r.source == "schedule")
            .cloned();
        let urgent = r
            .iter()
            .find(|r| r.source == "urgent" && r.status == "aired")
            .cloned();
        if let (Some(c), Some(u)) = (cut, urgent) {
            break (c, u);
        }
        assert!(Instant::now() < deadline, "no urgent airing logged: {r:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(urgent.link_seq, Some(cut.seq));
    assert!(cut.reason.en().contains("urgent"), "{}", cut.reason);
    // The event stream told the same story, in order.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let story = |seen: &[serde_json::Value]| {
        let at = |kind: &str, status: &str, source: &str| {
            seen.iter().position(|e| {
                e["event"] == kind
                    && (status.is_empty() || e["status"] == status)
                    && (source.is_empty() || e["source"] == source)
            })
        };
        match (
            at("item_ended", "interrupted", ""),
            at("item_started", "", "urgent"),
            at("item_ended", "aired", ""),
        ) {
            (Some(a), Some(b), Some(c)) => a < b && b < c,
            _ => false,
        }
    };
    while !story(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "events: {seen:?}");
        if let Ok(e) = events.recv_timeout(left) {
            assert_eq!(e["station"], "vinh-an", "{e}");
            seen.push(e);
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();
    // Its words are Vietnamese by default, the same as the airlog row's; the codes stay.
    let ended = seen
        .iter()
        .find(|e| e["event"] == "item_ended" && e["status"] == "interrupted")
        .unwrap();
    assert_eq!(
        ended["reason"],
        loa::lang::Render::render(&cut.reason, loa::lang::Lang::Vi),
        "{ended}"
    );
    assert_eq!(ended["status_text"], "Bị ngắt", "{ended}");
    assert!(
        ended["reason_stored"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{ended}"
    );
    let started = seen
        .iter()
        .find(|e| e["event"] == "item_started" && e["source"] == "urgent")
        .unwrap();
    assert!(started["source_text"].is_string(), "{started}");
    // The status in English on request, and a language that does not exist is refused.
    let en = d
        .loa
        .run(&["ctl", "status", "--json", "--lang", "en"])
        .expect(0)
        .json();
    assert_eq!(en["lang"], "en", "{en}");
    assert_eq!(
        raw(d.port, "GET", "/api/status?lang=fr", &d.token, "").0,
        400
    );
    std::thread::sleep(Duration::from_millis(1_500));
    // SIGTERM: the item on air is closed as interrupted with its played time; nothing open.
    let pid = d.child.id() as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            Instant::now() < deadline,
            "loa serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, Some(0));
    let r = rows(&d.loa).await;
    assert!(
        r.iter().all(|r| r.status != "playing"),
        "rows left open: {r:?}"
    );
    let last = r.iter().rev().find(|r| r.level == "item").unwrap();
    assert_eq!(last.status, "interrupted");
    assert!(
        last.reason.en().contains("stopped") && last.played_ms > 500,
        "{last:?}"
    );
    // The slot instance's row closes after its items, interrupted too.
    let slot = r.iter().find(|r| r.level == "slot").unwrap();
    assert!(slot.seq < last.seq, "the slot row opened first");
    assert_eq!(
        (slot.level.as_str(), slot.status.as_str()),
        ("slot", "interrupted")
    );
    assert!(
        slot.reason.en().contains("stopped during the slot"),
        "{slot:?}"
    );
    assert!(slot.played_ms >= last.played_ms, "{slot:?}");
    d.loa.run(&["airlog", "verify"]).expect(0);
}
