//! A commune machine on a host of its own (issue 14): the real `loa serve` in one network
//! namespace and the real `loa agent run` in another, joined by a veth pair, over HTTPS with
//! the node pinned to the server's certificate. The test takes the link down (as a 4G
//! modem losing its signal does: no reset, packets just stop) for longer than the node's
//! read timeout, sends an emergency announcement while it is down, and brings the link
//! back: the node, which gave its quiet stream up and kept retrying with its backoff,
//! reconnects, gets the announcement that waited on the server, plays it, and the server
//! marks it delivered.
//!
//! Needs root (`ip netns`, as CI runs); elsewhere it says so and passes without running.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::console::self_signed;
use common::fixtures::{speech_like, write_wav, WavFormat};
use common::Loa;
use loa::store::{AirlogStore, AnnouncementState, AnnouncementStore};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const PLAN: &str = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
    [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
    [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";

/// Two namespaces joined by a veth pair; removed (with what runs in them) when dropped.
struct Hosts {
    server: String,
    node: String,
    server_if: String,
    server_ip: String,
    children: Vec<Child>,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Hosts {
    /// The two hosts, or `None` when namespaces cannot be made here (not root).
    fn new() -> Option<Hosts> {
        let id = std::process::id() % 100_000;
        let net = id % 250;
        let h = Hosts {
            server: format!("loa-s{id}"),
            node: format!("loa-n{id}"),
            server_if: format!("ls{id}"),
            server_ip: format!("10.213.{net}.1"),
            children: Vec::new(),
        };
        let node_if = format!("ln{id}");
        let node_ip = format!("10.213.{net}.2/24");
        let server_cidr = format!("{}/24", h.server_ip);
        let ok = ip(&["netns", "add", &h.server])
            && ip(&["netns", "add", &h.node])
            && ip(&[
                "link",
                "add",
                &h.server_if,
                "type",
                "veth",
                "peer",
                "name",
                &node_if,
            ])
            && ip(&["link", "set", &h.server_if, "netns", &h.server])
            && ip(&["link", "set", &node_if, "netns", &h.node])
            && ip(&[
                "-n",
                &h.server,
                "addr",
                "add",
                &server_cidr,
                "dev",
                &h.server_if,
            ])
            && ip(&["-n", &h.node, "addr", "add", &node_ip, "dev", &node_if])
            && ip(&["-n", &h.server, "link", "set", &h.server_if, "up"])
            && ip(&["-n", &h.node, "link", "set", &node_if, "up"])
            && ip(&["-n", &h.server, "link", "set", "lo", "up"])
            && ip(&["-n", &h.node, "link", "set", "lo", "up"]);
        if !ok {
            return None;
        }
        Some(h)
    }

    /// `loa ARGS` in namespace `ns`, its stderr to `log`.
    fn spawn(&mut self, ns: &str, data: &Path, args: &[&str], log: &Path) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_loa"), "--data-dir"])
            .arg(data)
            .args(args)
            .env("LOA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    /// Runs `cmd ARGS` in namespace `ns` and returns its stdout.
    fn exec(&self, ns: &str, cmd: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", ns, cmd])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    fn link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        assert!(ip(&[
            "-n",
            &self.server,
            "link",
            "set",
            &self.server_if,
            state
        ]));
    }

    /// `curl` to the server's API from inside its host (self-signed: -k).
    fn api(&self, port: u16, method: &str, path: &str, body: &str) -> String {
        let url = format!("https://{}:{port}{path}", self.server_ip);
        let auth = format!("Authorization: Bearer {TOKEN}");
        let mut args = vec!["-sk", "-X", method, "-H", &auth, &url];
        if !body.is_empty() {
            args.extend(["-H", "Content-Type: application/json", "-d", body]);
        }
        let (ok, out) = self.exec(&self.server.clone(), "curl", &args);
        assert!(ok, "curl {path}: {out}");
        out
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = ip(&["netns", "del", &self.server]);
        let _ = ip(&["netns", "del", &self.node]);
    }
}

fn wait_for<T>(
    secs: u64,
    what: &str,
    log: &dyn Fn() -> String,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "waited {secs} s for {what}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn an_emergency_sent_while_the_link_is_down_airs_on_the_node_when_the_link_is_back() {
    let Some(mut hosts) = Hosts::new() else {
        eprintln!("skipped: network namespaces need root (CI runs as root)");
        return;
    };
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(certs.path()).expect("openssl makes the test certificate");
    // The district server, listening on its own host's address.
    let server = Loa::init();
    let port = 7443;
    std::fs::write(
        server.data.join("loa.toml"),
        format!(
            "[playout]\nsink = \"null\"\n\n[http]\nbind = \"{}:{port}\"\ntoken = \"{TOKEN}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            hosts.server_ip,
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let wav = server.dir.path().join("khan.wav");
    write_wav(
        &wav,
        WavFormat::Pcm16,
        16_000,
        1,
        &speech_like(16_000, 1, 800, 16_000 * 20, 800),
        None,
    );
    server
        .run(&[
            "library",
            "add",
            wav.to_str().unwrap(),
            "--kind",
            "news",
            "--topic",
            "documents",
            "--approve",
        ])
        .expect(0);
    let plan: PathBuf = server.dir.path().join("plan.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let server_log = server.dir.path().join("serve.log");
    let server_ns = hosts.server.clone();
    hosts.spawn(
        &server_ns,
        &server.data,
        &["serve", "--plan", plan.to_str().unwrap()],
        &server_log,
    );
    wait_for(30, "loa serve to listen", &|| read(&server_log), || {
        read(&server_log)
            .contains("agent API on https://")
            .then_some(())
    });
    // The commune machine, on the other host, pinned to the server's certificate.
    let enroll = server
        .run(&[
            "station",
            "enroll",
            "vinh-an",
            "--plan",
            plan.to_str().unwrap(),
        ])
        .expect(0);
    let token = enroll.stdout.lines().last().unwrap().trim().to_string();
    let pin = enroll
        .stderr
        .split_whitespace()
        .skip_while(|w| *w != "--fingerprint")
        .nth(1)
        .expect("the enrol advice names the fingerprint")
        .to_string();
    let node = Loa::init();
    let url = format!("https://{}:{port}", hosts.server_ip);
    let node_ns = hosts.node.clone();
    let (ok, out) = hosts.exec(
        &node_ns,
        env!("CARGO_BIN_EXE_loa"),
        &[
            "--data-dir",
            node.data.to_str().unwrap(),
            "agent",
            "enroll",
            "--server",
            &url,
            "--token",
            &token,
            "--fingerprint",
            &pin,
        ],
    );
    assert!(ok, "{out}");
    let node_log = node.dir.path().join("node.log");
    hosts.spawn(
        &node_ns,
        &node.data,
        &["agent", "run", "--sink", "null"],
        &node_log,
    );
    let logs = || format!("server:\n{}\nnode:\n{}", read(&server_log), read(&node_log));
    wait_for(60, "the node's stream and first report", &logs, || {
        let s = hosts.api(port, "GET", "/api/v1/status", "");
        (read(&node_log).contains("announcement stream open") && s.contains("\"node\":{"))
            .then_some(())
    });

    // The link goes down: packets stop, nothing is reset.
    hosts.link(false);
    std::thread::sleep(Duration::from_secs(3));
    let bulletin = {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let all = loa::store::Store::list_bulletins(&server.store().await, &Default::default())
                .await
                .unwrap();
            all[0].id.to_string()
        })
    };
    let sent = hosts.api(
        port,
        "POST",
        "/api/v1/stations/vinh-an/announcements",
        &format!(r#"{{"level":"emergency","bulletin_id":"{bulletin}"}}"#),
    );
    assert!(sent.contains("\"stations\":[\"vinh-an\"]"), "{sent}");
    let states = || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            server
                .store()
                .await
                .announcements(Some("vinh-an"), None)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.state)
                .collect::<Vec<_>>()
        })
    };
    // Longer than the node's read timeout (30 s; the server's heartbeat comes every 15 s):
    // the node gives its stream up as dead and tries to reconnect, in vain for now.
    std::thread::sleep(Duration::from_secs(40));
    assert_eq!(
        states(),
        vec![AnnouncementState::Waiting],
        "nothing reaches the node while the link is down\n{}",
        logs()
    );

    // The link comes back: the node finds its stream dead (no heartbeat), reconnects and
    // gets what waited.
    hosts.link(true);
    wait_for(120, "the announcement delivered", &logs, || {
        (states() == vec![AnnouncementState::Delivered]).then_some(())
    });
    let aired = wait_for(30, "the emergency in the node's airlog", &logs, || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            node.store()
                .await
                .airlog(Some("vinh-an"), None, None)
                .await
                .unwrap()
                .into_iter()
                .find(|r| {
                    r.bulletin_id.as_deref() == Some(bulletin.as_str())
                        && r.source == loa::airlog::CueSource::Urgent
                })
        })
    });
    assert!(aired.actual_start.is_some(), "{aired:?}");
    let log = read(&node_log);
    assert!(
        log.matches("announcement stream open").count() >= 2,
        "it reconnected:\n{log}"
    );
}
