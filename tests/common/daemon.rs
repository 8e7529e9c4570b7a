//! A daemon for the tests that drive `loa serve`: a data dir with a 90-second article and
//! a 2-second spot, a one-slot plan, the API on a free loopback port, raw API requests.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use loa::airlog::Record;
use loa::store::{AirlogStore, Store};

use super::Loa;

/// A free port on the loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Daemon {
    /// Its data dir.
    pub loa: Loa,
    /// The `loa serve` process.
    pub child: Child,
    /// The control API's port.
    pub port: u16,
    /// The control API's token.
    pub token: String,
    /// The plan it plays.
    pub plan: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn rows(loa: &Loa) -> Vec<Record> {
    let store = loa.store().await;
    let r = store.airlog(None, None, None).await.unwrap();
    store.close().await;
    r
}

/// A data dir with a 90-second article and a spot, and a plan whose slot started this
/// minute; returns once an item plays.
pub async fn start() -> Daemon {
    let d = start_at(Utc::now()).await;
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

/// A data dir with a 90-second article and a spot, and `loa serve` started on a plan whose
/// one daily slot starts at the minute of `slot` (returns at once).
pub async fn start_at(slot: chrono::DateTime<Utc>) -> Daemon {
    start_at_with(slot, "").await
}

/// [`start_at`] with `extra` appended to `loa.toml` (whole sections, e.g. `[announce]`).
pub async fn start_at_with(slot: chrono::DateTime<Utc>, extra: &str) -> Daemon {
    let loa = Loa::init();
    let port = free_port();
    let token = "0123456789abcdef0123456789abcdef".to_string();
    std::fs::write(
        loa.data.join("loa.toml"),
        format!("[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n\n[http]\nbind = \"127.0.0.1:{port}\"\ntoken = \"{token}\"\n\n{extra}\n"),
    )
    .unwrap();
    let f = &super::fixtures::speech_like;
    let long = loa.dir.path().join("bai-dai.wav");
    super::fixtures::write_wav(
        &long,
        super::fixtures::WavFormat::Pcm16,
        16_000,
        1,
        &f(16_000, 1, 800, 16_000 * 90, 800),
        None,
    );
    let spot = loa.dir.path().join("khau-hieu.wav");
    super::fixtures::write_wav(
        &spot,
        super::fixtures::WavFormat::Pcm16,
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
    let plan = super::plan_at(
        loa.dir.path(),
        slot.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh),
    );
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
    Daemon {
        loa,
        child,
        port,
        token,
        plan,
    }
}

/// A raw request to the API: (status code, body).
pub fn raw(port: u16, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
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
