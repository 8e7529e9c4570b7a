//! Commune machines against the real `loa serve` (issue 14, first slice): a station's
//! one-time token enrols a node with the real `loa agent enroll`, `loa agent sync --once`
//! brings the manifest and verified audio, a second sync transfers nothing, a cut download
//! resumes, and a node is refused everything that is not its own.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::console::self_signed;
use common::daemon::free_port;
use common::fixtures::{speech_like, write_wav, WavFormat};
use common::Loa;
use loa::agent::auth;
use loa::agent::node::{NodeDir, NodeKey};

/// `loa serve` on a district data dir whose plan has two agent stations, `vinh-an` and
/// `vinh-phuc`, a bulletin for both and one for `vinh-phuc` only.
struct District {
    loa: Loa,
    child: std::process::Child,
    port: u16,
    plan: std::path::PathBuf,
}

impl Drop for District {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PLAN: &str = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
    [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
    [[station]]\ncode = \"vinh-phuc\"\nname = \"Xã Vĩnh Phúc\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
    [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";

fn add(loa: &Loa, name: &str, seconds: usize, stations: Option<&str>) {
    let path = loa.dir.path().join(name);
    let samples = speech_like(16_000, 1, 800, 16_000 * seconds, 800);
    write_wav(&path, WavFormat::Pcm16, 16_000, 1, &samples, None);
    let mut args = vec![
        "library",
        "add",
        path.to_str().unwrap(),
        "--kind",
        "article",
        "--topic",
        "documents",
        "--approve",
    ];
    if let Some(s) = stations {
        args.extend(["--stations", s]);
    }
    loa.run(&args).expect(0);
}

fn district() -> District {
    district_with("")
}

/// As [`district`], with more `[http]` lines (TLS).
fn district_with(http: &str) -> District {
    let loa = Loa::init();
    let port = free_port();
    std::fs::write(
        loa.data.join("loa.toml"),
        format!("[playout]\nsink = \"null\"\n\n[http]\nbind = \"127.0.0.1:{port}\"\ntoken = \"0123456789abcdef0123456789abcdef\"\n{http}"),
    )
    .unwrap();
    add(&loa, "chung.wav", 40, None);
    add(&loa, "rieng.wav", 30, Some("vinh-phuc"));
    let plan = loa.dir.path().join("plan.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", loa.data.to_str().unwrap(), "serve", "--plan"])
        .arg(&plan)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "loa serve did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    District {
        loa,
        child,
        port,
        plan,
    }
}

impl District {
    /// A one-time token for `station` (the last line of stdout).
    fn token(&self, station: &str) -> String {
        let run = self
            .loa
            .run(&[
                "station",
                "enroll",
                station,
                "--plan",
                self.plan.to_str().unwrap(),
            ])
            .expect(0);
        run.stdout.lines().last().unwrap().trim().to_string()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `loa station enroll` for `station`: (the token, its stderr).
    fn token_and_advice(&self, station: &str) -> (String, String) {
        let run = self
            .loa
            .run(&[
                "station",
                "enroll",
                station,
                "--plan",
                self.plan.to_str().unwrap(),
            ])
            .expect(0);
        (
            run.stdout.lines().last().unwrap().trim().to_string(),
            run.stderr,
        )
    }
}

/// The text of a raw GET request signed by `key` now (sending it twice is a replay).
fn signed(key: &NodeKey, path: &str) -> String {
    signed_at(key, path, chrono::Utc::now().timestamp())
}

/// As [`signed`], with the time the request says it was made.
fn signed_at(key: &NodeKey, path: &str, time: i64) -> String {
    let nonce = format!("{:032x}", rand_u128());
    let sig = key.sign(&auth::message("GET", path, time, &nonce, b""));
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\n{}: {}\r\n{}: {time}\r\n{}: {nonce}\r\n{}: {sig}\r\nConnection: close\r\n\r\n",
        auth::NODE_HEADER,
        key.public_hex(),
        auth::TIME_HEADER,
        auth::NONCE_HEADER,
        auth::SIGNATURE_HEADER
    )
}

fn rand_u128() -> u128 {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    u128::from_le_bytes(b)
}

fn send(port: u16, request: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let code = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, out)
}

fn sha256_of(path: &Path) -> String {
    loa::library::audio_store::hash_file(path).unwrap()
}

fn sync(node: &Loa) -> serde_json::Value {
    node.run(&["agent", "sync", "--once", "--json"])
        .expect(0)
        .json()
}

#[test]
fn an_enrolled_node_syncs_its_manifest_and_verified_audio_and_nothing_twice() {
    let d = district();
    let node = Loa::uninitialised();
    let token = d.token("vinh-an");
    let enrolled = node
        .run(&[
            "agent",
            "enroll",
            "--server",
            &d.url(),
            "--token",
            &token,
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(enrolled["station"], "vinh-an");
    let dir = NodeDir::of(&node.data);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.key_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the node key is private");
    }
    let agent_toml = std::fs::read_to_string(dir.config_path()).unwrap();
    assert!(agent_toml.contains(&d.url()) && !agent_toml.contains(&token));

    let first = sync(&node);
    assert_eq!(first["manifest"], "new");
    assert!(first["slots"].as_u64().unwrap() >= 7, "{first}");
    assert_eq!(
        first["media"], 1,
        "vinh-an's manifest names only the shared bulletin: {first}"
    );
    assert_eq!(first["fetched"].as_array().unwrap().len(), 1);
    assert!(first["failed"].as_array().unwrap().is_empty());
    let kept = dir.kept_manifest().unwrap().unwrap();
    assert_eq!(kept.manifest.station.code, "vinh-an");
    assert_eq!(kept.manifest.station.timezone, "Asia/Ho_Chi_Minh");
    assert_eq!(kept.manifest.days, 7);
    for (sha, b) in kept.manifest.media() {
        let cached = dir.media_path(sha);
        assert_eq!(sha256_of(&cached), sha);
        assert_eq!(std::fs::metadata(&cached).unwrap().len(), b.size_bytes);
    }

    let second = sync(&node);
    assert_eq!(second["manifest"], "unchanged");
    assert_eq!(second["bytes"], 0);
    assert!(second["fetched"].as_array().unwrap().is_empty());
    assert_eq!(second["cached"], 1);

    // A download cut half-way resumes from its .part file.
    let sha = kept.manifest.media().keys().next().unwrap().to_string();
    let whole = std::fs::read(dir.media_path(&sha)).unwrap();
    std::fs::remove_file(dir.media_path(&sha)).unwrap();
    std::fs::write(dir.part_path(&sha), &whole[..whole.len() / 2]).unwrap();
    let resumed = sync(&node);
    assert_eq!(resumed["resumed"], 1);
    assert_eq!(resumed["bytes"], (whole.len() - whole.len() / 2) as u64);
    assert_eq!(std::fs::read(dir.media_path(&sha)).unwrap(), whole);
    assert!(!dir.part_path(&sha).exists());

    // A .part with wrong bytes never enters the cache: fetched again from the start.
    std::fs::remove_file(dir.media_path(&sha)).unwrap();
    let mut bad = whole[..whole.len() / 2].to_vec();
    bad[100] ^= 0xff;
    std::fs::write(dir.part_path(&sha), &bad).unwrap();
    let refetched = sync(&node);
    assert_eq!(
        refetched["fetched"].as_array().unwrap().len(),
        1,
        "{refetched}"
    );
    assert_eq!(sha256_of(&dir.media_path(&sha)), sha);

    let status = node.run(&["agent", "status", "--json"]).expect(0).json();
    assert_eq!(status["station"], "vinh-an");
    assert_eq!(status["missing"].as_array().unwrap().len(), 0);
}

#[test]
fn a_node_is_refused_what_is_not_its_own_and_replays_tokens_and_revoked_nodes_are_refused() {
    let d = district();
    let a = Loa::uninitialised();
    let token = d.token("vinh-an");
    a.run(&["agent", "enroll", "--server", &d.url(), "--token", &token])
        .expect(0);
    let key_a = NodeDir::of(&a.data).key().unwrap();

    // The same token cannot enrol a second machine.
    let c = Loa::uninitialised();
    let reused = c.run(&["agent", "enroll", "--server", &d.url(), "--token", &token]);
    assert_ne!(reused.code, 0);
    assert!(reused.stderr.contains("already used"), "{}", reused.stderr);

    // An unenrolled key, and a request with no signature, get 401.
    let stranger = NodeDir::of(c.data.as_path()).key().unwrap();
    let (code, body) = send(d.port, &signed(&stranger, "/agent/v1/manifest"));
    assert_eq!(code, 401, "{body}");
    let (code, _) = send(
        d.port,
        "GET /agent/v1/manifest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(code, 401);

    // A signed request is accepted once; the same bytes again are a replay.
    let request = signed(&key_a, "/agent/v1/manifest");
    let (code, body) = send(d.port, &request);
    assert_eq!(code, 200, "{body}");
    let (code, body) = send(d.port, &request);
    assert_eq!(code, 401);
    assert!(body.contains("replayed"), "{body}");

    // A request signed an hour ago (or a node whose clock is an hour off) is refused.
    let old = chrono::Utc::now().timestamp() - 3600;
    let (code, body) = send(d.port, &signed_at(&key_a, "/agent/v1/manifest", old));
    assert_eq!(code, 401);
    assert!(body.contains("away from the server"), "{body}");

    // Another station's manifest and audio are not this node's.
    let (code, body) = send(
        d.port,
        &signed(&key_a, "/agent/v1/manifest?station=vinh-phuc"),
    );
    assert_eq!(code, 403, "{body}");
    let b = Loa::uninitialised();
    let token_b = d.token("vinh-phuc");
    b.run(&["agent", "enroll", "--server", &d.url(), "--token", &token_b])
        .expect(0);
    let synced_b = sync(&b);
    assert_eq!(synced_b["media"], 2, "{synced_b}");
    sync(&a);
    let mine: Vec<String> = NodeDir::of(&a.data)
        .kept_manifest()
        .unwrap()
        .unwrap()
        .manifest
        .media()
        .keys()
        .map(|s| s.to_string())
        .collect();
    let theirs = NodeDir::of(&b.data).kept_manifest().unwrap().unwrap();
    let only_theirs = theirs
        .manifest
        .media()
        .keys()
        .find(|s| !mine.contains(&s.to_string()))
        .unwrap()
        .to_string();
    let (code, body) = send(
        d.port,
        &signed(&key_a, &format!("/agent/v1/media/{only_theirs}")),
    );
    assert_eq!(code, 404, "{body}");
    let (code, _) = send(
        d.port,
        &signed(&key_a, &format!("/agent/v1/media/{}", mine[0])),
    );
    assert_eq!(code, 200);

    // A revoked node is refused.
    d.loa.run(&["station", "revoke", "vinh-phuc"]).expect(0);
    let refused = b.run(&["agent", "sync", "--once"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("revoked"), "{}", refused.stderr);
    // … and the other station's node goes on.
    assert_eq!(sync(&a)["manifest"], "unchanged");
}

#[test]
fn only_an_agent_station_gets_an_enrolment_token() {
    let loa = Loa::init();
    let plan = loa.dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        PLAN.replace("output = \"agent\"", "output = \"null\""),
    )
    .unwrap();
    let run = loa.run(&[
        "station",
        "enroll",
        "vinh-hung",
        "--plan",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not in the plan"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let run = loa.run(&[
        "station",
        "enroll",
        "vinh-an",
        "--plan",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("output = \"null\""), "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "no token for a station this server plays"
    );
}

#[test]
fn a_node_pinned_to_the_servers_own_certificate_syncs_over_https_and_no_other_server_is_trusted() {
    let certs = tempfile::tempdir().unwrap();
    let Some((cert, key)) = self_signed(certs.path()) else {
        eprintln!("skipped: no openssl command to make a certificate");
        return;
    };
    let d = district_with(&format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        cert.display(),
        key.display()
    ));
    let url = format!("https://127.0.0.1:{}", d.port);
    let (token, advice) = d.token_and_advice("vinh-an");
    let pin = advice
        .split_whitespace()
        .skip_while(|w| *w != "--fingerprint")
        .nth(1)
        .unwrap_or_else(|| panic!("no fingerprint in: {advice}"))
        .to_string();
    let node = Loa::uninitialised();
    let wrong = "00".repeat(32);
    let refused = node.run(&[
        "agent",
        "enroll",
        "--server",
        &url,
        "--token",
        &token,
        "--fingerprint",
        &wrong,
    ]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("fingerprint"), "{}", refused.stderr);
    // Without a pin the system's authorities do not know a self-made certificate.
    let unknown = node.run(&["agent", "enroll", "--server", &url, "--token", &token]);
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    node.run(&[
        "agent",
        "enroll",
        "--server",
        &url,
        "--token",
        &token,
        "--fingerprint",
        &pin,
    ])
    .expect(0);
    let synced = sync(&node);
    assert_eq!(synced["manifest"], "new", "{synced}");
    assert_eq!(synced["fetched"].as_array().unwrap().len(), 1);
}
