//! The daemon on the real binary: `loa serve` plays a slot that is on now, answers
//! `loa ctl` (status, urgent, skip) and refuses bad requests, and stops cleanly on SIGTERM
//! with the item on air logged `interrupted` and nothing left open.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::Loa;
use loa::airlog::Record;
use loa::store::{AirlogStore, Store};

/// A free port on the loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Daemon {
    loa: Loa,
    child: Child,
    port: u16,
    token: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn rows(loa: &Loa) -> Vec<Record> {
    let store = loa.store().await;
    let r = store.airlog(None, None, None).await.unwrap();
    store.close().await;
    r
}

/// A data dir with a 90-second article and a spot, and a plan whose slot started this minute.
async fn start() -> Daemon {
    let loa = Loa::init();
    let port = free_port();
    let token = "0123456789abcdef0123456789abcdef".to_string();
    std::fs::write(
        loa.data.join("loa.toml"),
        format!("[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n\n[http]\nbind = \"127.0.0.1:{port}\"\ntoken = \"{token}\"\n"),
    )
    .unwrap();
    let f = &common::fixtures::speech_like;
    let long = loa.dir.path().join("bai-dai.wav");
    common::fixtures::write_wav(
        &long,
        common::fixtures::WavFormat::Pcm16,
        16_000,
        1,
        &f(16_000, 1, 800, 16_000 * 90, 800),
        None,
    );
    let spot = loa.dir.path().join("khau-hieu.wav");
    common::fixtures::write_wav(
        &spot,
        common::fixtures::WavFormat::Pcm16,
        16_000,
        1,
        &f(16_000, 1, 800, 16_000 * 2, 800),
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
    loa.run(&[
        "library",
        "add",
        spot.to_str().unwrap(),
        "--kind",
        "spot",
        "--topic",
        "other",
        "--approve",
    ])
    .expect(0);
    let now = Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let plan = common::plan_at(loa.dir.path(), now);
    let child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args([
            "--data-dir",
            loa.data.to_str().unwrap(),
            "serve",
            "--plan",
            plan.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Daemon {
        loa,
        child,
        port,
        token,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rows(&d.loa)
        .await
        .iter()
        .any(|r| r.status == "playing" && r.level == "item")
    {
        assert!(
            Instant::now() < deadline,
            "the daemon did not start playing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    d
}

/// A raw request to the API: (status code, body).
fn raw(port: u16, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, out)
}

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
