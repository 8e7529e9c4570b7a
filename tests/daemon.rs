//! What keeps one daemon honest beside others and beside its clients, on the real binary:
//! a second `loa serve` on the same data dir is refused and touches nothing; operator names
//! reach the airlog as sent (UTF-8, NFC); idle and half-sent connections are closed and an
//! oversized body is refused; `ctl status` shows an idle station's next slot.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::daemon::{raw, rows, start, start_at};
use loa::airlog::{AirStatus, CueSource, Reason};

#[tokio::test]
async fn a_second_serve_on_the_same_data_dir_exits_2_and_the_first_keeps_playing() {
    let mut d = start().await;
    let before = rows(&d.loa).await;
    let (code, said) = exits_within(&d, &["serve", "--plan", d.plan.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{said}");
    let pid = d.child.id().to_string();
    assert!(
        said.contains(&format!("PID {pid}"))
            && said.contains(&format!("http://127.0.0.1:{}", d.port)),
        "the refusal names the running daemon: {said}"
    );
    // A wall-clock playout run is a daemon too.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .format("%Y-%m-%d")
        .to_string();
    let (code, said) = exits_within(
        &d,
        &[
            "playout",
            "run",
            "--plan",
            d.plan.to_str().unwrap(),
            "--from",
            &today,
            "--to",
            &today,
            "--clock",
            "system",
            "--sink",
            "null",
        ],
    );
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains(&format!("PID {pid}")), "{said}");
    // The first plays on: its open row is still open and advancing, nothing else changed.
    std::thread::sleep(Duration::from_millis(2_500));
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "the first daemon died"
    );
    let after = rows(&d.loa).await;
    for b in &before {
        let a = after
            .iter()
            .find(|a| a.seq == b.seq)
            .expect("a row vanished");
        if b.status == AirStatus::Playing {
            assert_eq!(
                a.status,
                AirStatus::Playing,
                "the live row was closed: {a:?}"
            );
            if a.level == "item" {
                assert!(a.played_ms > b.played_ms, "the live item stopped: {a:?}");
            }
        } else {
            assert_eq!(a, b, "a closed row changed");
        }
    }
    assert!(after.iter().all(|r| !r.reason.stored().contains("crash")));
}

/// Runs `loa ARGS` on the daemon's data dir, expecting it to exit within 15 s (it is
/// killed and the test fails otherwise); returns its exit code and stderr.
fn exits_within(d: &common::daemon::Daemon, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", d.loa.data.to_str().unwrap()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("loa {args:?} kept running beside the daemon");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut said = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    (code, said)
}

#[tokio::test]
async fn operator_names_reach_the_airlog_in_utf8_as_sent() {
    let d = start().await;
    let lib = d
        .loa
        .run(&["library", "list", "--kind", "spot", "--json"])
        .expect(0)
        .json();
    let spot = lib[0]["id"].as_str().unwrap().to_string();
    // loa ctl sends the name percent-encoded.
    let out = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", d.loa.data.to_str().unwrap()])
        .args(["ctl", "urgent", &spot, "--station", "vinh-an"])
        .env("LOA_OPERATOR", "Nguyễn Văn An")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let urgent = loop {
        let r = rows(&d.loa).await;
        if let Some(u) = r
            .iter()
            .find(|r| r.source == CueSource::Urgent && r.status != AirStatus::Playing)
        {
            break u.clone();
        }
        assert!(Instant::now() < deadline, "no urgent row: {r:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(urgent.who, "Nguyễn Văn An");
    // A script may send raw UTF-8, decomposed: it is logged composed (NFC).
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Trần Thị Bình").collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rows(&d.loa).await.iter().any(|r| {
        r.status == AirStatus::Playing && r.level == "item" && r.source != CueSource::Urgent
    }) {
        assert!(
            Instant::now() < deadline,
            "nothing plays after the urgent item"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, body) = request(
        d.port,
        format!(
            "POST /api/stations/vinh-an/skip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nX-Loa-Operator: {nfd}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            d.token
        )
        .as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = rows(&d.loa).await;
        let by = r.iter().find_map(|r| {
            r.reason.parts().iter().find_map(|p| match p {
                Reason::SkippedBy { who } => Some(who.clone()),
                _ => None,
            })
        });
        if let Some(who) = by {
            assert_eq!(who, "Trần Thị Bình");
            break;
        }
        assert!(Instant::now() < deadline, "no skip logged: {r:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Bytes that are not UTF-8 are refused with a sentence, not logged as "api".
    let (code, body) = request(
        d.port,
        &[
            format!(
                "POST /api/stations/vinh-an/skip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nX-Loa-Operator: An ",
                d.token
            )
            .as_bytes(),
            b"\xff\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ]
        .concat(),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("UTF-8"), "{body}");
}

/// Sends raw bytes as a request; returns the status code and the whole answer.
fn request(port: u16, bytes: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

/// Sends `bytes` and waits for the server to close; returns what it answered, or `None`
/// when it was still open after `wait`.
fn closed_within(port: u16, bytes: &[u8], wait: Duration) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(bytes).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&out).into_owned())
            }
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed_and_an_oversized_body_is_refused() {
    let d = start().await;
    // The server's timeouts (10 s) plus a margin.
    let wait = Duration::from_secs(20);
    let port = d.port;
    let token = d.token.clone();
    let idle = std::thread::spawn(move || closed_within(port, b"", wait));
    let half_head = std::thread::spawn(move || {
        closed_within(port, b"GET /api/status HTTP/1.1\r\nHost: x\r\nAuthor", wait)
    });
    let half_body = std::thread::spawn(move || {
        closed_within(
            port,
            format!(
                "POST /api/stations/vinh-an/play HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"bulletin\":"
            )
            .as_bytes(),
            wait,
        )
    });
    // A body larger than the API takes is refused at once, before it is sent.
    let (code, body) = request(
        d.port,
        format!(
            "POST /api/stations/vinh-an/play HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n",
            d.token
        )
        .as_bytes(),
    );
    assert_eq!(code, 413, "{body}");
    assert!(body.contains("16384"), "{body}");
    assert!(
        idle.join().unwrap().is_some(),
        "an idle connection stayed open"
    );
    assert!(
        half_head.join().unwrap().is_some(),
        "a half-sent request head stayed open"
    );
    let answer = half_body
        .join()
        .unwrap()
        .expect("a half-sent body stayed open");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The API still answers.
    assert_eq!(raw(d.port, "GET", "/api/status", &d.token, "").0, 200);
}

#[tokio::test]
async fn ctl_status_shows_an_idle_stations_next_slot_in_station_time() {
    let slot = Utc::now() + chrono::Duration::hours(2);
    let d = start_at(slot).await;
    let local = slot.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let r = d.loa.run(&["ctl", "status", "--json"]);
        if r.code == 0 {
            let v = r.json();
            if v["stations"]["vinh-an"]["next_slot"].is_object() {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "no next slot in the status");
        std::thread::sleep(Duration::from_millis(200));
    };
    let next = &status["stations"]["vinh-an"]["next_slot"];
    assert_eq!(next["name"], "Bây giờ");
    let start = next["start"].as_str().unwrap();
    assert!(
        start.starts_with(&local.format("%Y-%m-%dT%H:%M:00").to_string())
            && start.ends_with("+07:00"),
        "{start}"
    );
    let shown = d.loa.run(&["ctl", "status"]).expect(0);
    let when = local.format("%H:%M %d/%m/%Y").to_string();
    assert!(
        shown.stdout.contains(&format!("Bây giờ — {when}")),
        "{}",
        shown.stdout
    );
}
