//! Commune machines live (issue 14, points 3 and 6): the real `loa serve` and real
//! `loa agent run` daemons on the wall clock. A node reports at once and then every
//! minute; `loa ctl status` on the server shows its report and its clock offset, and alerts
//! a clock beyond `agent.max_clock_offset` (a node run under libfaketime, 30 s ahead). An
//! emergency announcement sent on the server starts on the connected node, is marked
//! delivered, and is in the node's airlog. A node whose clock is set back to 2000 (as a dead
//! RTC battery does at boot) still reaches the server (its requests carry the server's
//! time), holds its scheduled playout, says so, and still plays an emergency. A clock
//! stepped two minutes ahead in the middle of an item (libfaketime reading its offset from
//! a file) cuts the item as partly played with the stall alert, and the next report carries
//! the new offset. Under systemd the node says READY and feeds the watchdog; killed with
//! SIGKILL mid-item it loses no row.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::agent::District;
use common::daemon::raw;
use common::Loa;
use loa::store::{AirlogStore, AnnouncementState, AnnouncementStore};

/// The API token in [`District`]'s config.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// libfaketime, from Debian's `faketime` (installed by `scripts/install-deps`).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A running `loa agent run`, killed when dropped; its log in `node.log`.
struct Running {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Starts the node's daemon, under libfaketime with `faketime` (e.g. `+30s`) when given.
fn run(node: &Loa, faketime: Option<&str>) -> Running {
    run_with(node, faketime, &[])
}

/// [`run`] with more environment variables.
fn run_with(node: &Loa, faketime: Option<&str>, env: &[(&str, &str)]) -> Running {
    let log = node.dir.path().join("node.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
    cmd.args([
        "--data-dir",
        node.data.to_str().unwrap(),
        "agent",
        "run",
        "--sink",
        "null",
    ])
    .env("LOA_LOG", "info")
    .envs(env.iter().copied())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&log).unwrap());
    if let Some(spec) = faketime {
        assert!(
            std::path::Path::new(FAKETIME).exists(),
            "libfaketime is missing: run scripts/install-deps"
        );
        cmd.env("LD_PRELOAD", FAKETIME)
            .env("FAKETIME", spec)
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }
    Running {
        child: cmd.spawn().unwrap(),
        log,
    }
}

/// `loa ctl status --json` on the server, station `code`.
fn status(d: &District, code: &str) -> serde_json::Value {
    let run = d.loa.run(&["ctl", "status", "--json"]);
    run.expect(0).json()["stations"][code].clone()
}

/// Polls `f` until it gives a value, or fails with `what` after `secs`.
fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The id of the library's first bulletin on the server.
fn a_bulletin(d: &District) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = d.loa.store().await;
        let all = loa::store::Store::list_bulletins(&store, &Default::default())
            .await
            .unwrap();
        all[0].id.to_string()
    })
}

/// Sends an emergency announcement of `bulletin` to `code` through the API.
fn emergency(d: &District, code: &str, bulletin: &str) -> chrono::DateTime<chrono::Utc> {
    let sent = chrono::Utc::now();
    let (status, body) = raw(
        d.port,
        "POST",
        &format!("/api/v1/stations/{code}/announcements"),
        TOKEN,
        &format!(r#"{{"level":"emergency","bulletin_id":"{bulletin}"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    sent
}

/// The airlog rows of `code` in `loa`'s store.
fn rows(loa: &Loa, code: &str) -> Vec<loa::airlog::Record> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        loa.store()
            .await
            .airlog(Some(code), None, None)
            .await
            .unwrap()
    })
}

/// The node's airlog row of `bulletin` cued as urgent that `pick` takes, once it is there.
fn urgent(
    node: &Loa,
    code: &str,
    bulletin: &str,
    pick: impl Fn(&loa::airlog::Record) -> bool,
) -> Option<loa::airlog::Record> {
    rows(node, code).into_iter().find(|r| {
        r.bulletin_id.as_deref() == Some(bulletin)
            && r.source == loa::airlog::CueSource::Urgent
            && pick(r)
    })
}

/// The node's airlog row of `bulletin` cued as urgent, once it started.
fn aired(node: &Loa, code: &str, bulletin: &str) -> Option<loa::airlog::Record> {
    urgent(node, code, bulletin, |r| r.actual_start.is_some())
}

/// Waits for the node's first report, sends an emergency to vinh-an and waits until it
/// has played 2 s; returns the bulletin.
fn emergency_on_air(d: &District, node: &Loa) -> String {
    wait_for(60, "the first report", || {
        status(d, "vinh-an")["node"].is_object().then_some(())
    });
    let bulletin = a_bulletin(d);
    emergency(d, "vinh-an", &bulletin);
    wait_for(30, "the emergency on air", || {
        aired(node, "vinh-an", &bulletin)
    });
    std::thread::sleep(Duration::from_secs(2));
    bulletin
}

/// The state of the server's announcements to `code`.
fn announcement_states(d: &District, code: &str) -> Vec<AnnouncementState> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = d.loa.store().await;
        store
            .announcements(Some(code), None)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.state)
            .collect()
    })
}

#[test]
fn a_node_reports_its_clock_and_an_emergency_sent_on_the_server_starts_on_it() {
    let d = District::new();
    let url = format!("http://127.0.0.1:{}", d.port);
    let near = d.node("vinh-an", &url);
    let ahead = d.node("vinh-phuc", &url);
    let near_run = run(&near, None);
    let ahead_run = run(&ahead, Some("+30s"));

    // Each reports at once: the server shows its report and clock.
    let s = wait_for(60, "vinh-an's report", || {
        let s = status(&d, "vinh-an");
        s["node"].is_object().then_some(s)
    });
    let offset = s["node"]["clock_offset_ms"].as_i64().unwrap();
    assert!(
        offset.abs() < 1_000,
        "same machine, same clock: {offset} ms"
    );
    assert!(
        s["alert_codes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] != "clock_offset"),
        "{s}"
    );
    let s = wait_for(60, "vinh-phuc's report", || {
        let s = status(&d, "vinh-phuc");
        s["node"].is_object().then_some(s)
    });
    let offset = s["node"]["clock_offset_ms"].as_i64().unwrap();
    assert!(
        (29_000..31_000).contains(&offset),
        "30 s ahead under libfaketime: {offset} ms\n{}",
        ahead_run.log()
    );
    assert!(
        s["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("đồng hồ máy xã lệch +30")),
        "{s}"
    );
    // The machine itself says the same of its clock.
    let own = near.run(&["agent", "status", "--json"]).expect(0).json();
    assert!(own["clock"]["last"]["offset_ms"].is_i64(), "{own}");
    assert_eq!(own["clock"]["state"]["state"], "sane", "{own}");
    // The words of `loa ctl status`, in Vietnamese by default.
    let text = d.loa.run(&["ctl", "status"]).expect(0).stdout;
    assert!(text.contains("máy xã "), "{text}");
    assert!(text.contains("đồng hồ lệch +30"), "{text}");

    // The console's Đang phát shows each machine's line on its station's card, with no
    // skip, stop or play form (only announcements reach a commune machine), and a commune
    // account sees only its own station's.
    for (name, role, station) in [
        ("quantri", "admin", None),
        ("xa-vinh-an", "commune", Some("vinh-an")),
    ] {
        let mut args = vec!["user", "add", name, "--role", role, "--password-stdin"];
        args.extend(station.iter().flat_map(|s| ["--station", *s]));
        common::console::run_with_stdin(&d.loa, &args, &format!("{}\n", common::console::PASSWORD))
            .expect(0);
    }
    let page = |user: &str| {
        let (cookie, _) = common::console::session(d.port, user);
        common::console::http(d.port, "GET", "/", &[("Cookie", &cookie)], "").body
    };
    let admin = page("quantri");
    assert_eq!(
        admin.matches("class=\"node muted\">máy xã ").count(),
        2,
        "{admin}"
    );
    assert!(admin.contains("đồng hồ lệch +30"), "{admin}");
    assert!(!admin.contains("/stations/vinh-an/skip"), "{admin}");
    let commune = page("xa-vinh-an");
    assert!(
        commune.contains("Xã Vĩnh An") && commune.contains("máy xã "),
        "{commune}"
    );
    assert!(!commune.contains("Xã Vĩnh Phúc"), "{commune}");

    // An emergency reaches the connected node and starts there.
    let bulletin = a_bulletin(&d);
    let sent = emergency(&d, "vinh-an", &bulletin);
    let row = wait_for(30, "the emergency on the node", || {
        aired(&near, "vinh-an", &bulletin)
    });
    let started = chrono::DateTime::parse_from_rfc3339(row.actual_start.as_deref().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    eprintln!(
        "emergency: sent {sent}, started on the node {started} ({} ms)",
        (started - sent).num_milliseconds()
    );
    wait_for(10, "the announcement marked delivered", || {
        (announcement_states(&d, "vinh-an") == vec![AnnouncementState::Delivered]).then_some(())
    });
    let log = near_run.log();
    assert!(log.contains("announcement received"), "{log}");
    // Skip, stop and play do not reach a commune machine from here.
    let (code, body) = raw(d.port, "POST", "/api/v1/stations/vinh-an/skip", TOKEN, "");
    assert_eq!(code, 409, "{body}");
}

#[test]
fn a_node_whose_clock_was_set_back_holds_its_schedule_but_still_reaches_the_server_and_airs_an_emergency(
) {
    let d = District::new();
    let url = format!("http://127.0.0.1:{}", d.port);
    let node = d.node("vinh-an", &url);
    // A first run on the right clock: the node keeps the time it saw.
    let first = run(&node, None);
    wait_for(60, "the first report", || {
        status(&d, "vinh-an")["node"].is_object().then_some(())
    });
    drop(first);
    // The machine boots with its clock in 2000.
    let held = run(&node, Some("@2000-01-01 00:00:00"));
    let s = wait_for(60, "a report of the held clock", || {
        let s = status(&d, "vinh-an");
        (s["node"]["clock_held"] == true).then_some(s)
    });
    let offset = s["node"]["clock_offset_ms"].as_i64().unwrap();
    assert!(
        offset < -20 * 365 * 24 * 3_600_000,
        "its clock is decades behind: {offset} ms\n{}",
        held.log()
    );
    assert!(
        s["alert_codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "clock_held"),
        "{s}"
    );
    assert!(
        held.log().contains("scheduled playout waits"),
        "{}",
        held.log()
    );
    // Announcements still play.
    let bulletin = a_bulletin(&d);
    emergency(&d, "vinh-an", &bulletin);
    wait_for(30, "the emergency on the held node", || {
        aired(&node, "vinh-an", &bulletin)
    });
}

#[test]
fn a_node_under_systemd_says_when_it_plays_and_feeds_the_watchdog() {
    use std::os::unix::net::UnixDatagram;
    let d = District::new();
    let node = d.node("vinh-an", &format!("http://127.0.0.1:{}", d.port));
    let path = node.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    // A watchdog of 1 s: the node pings every half second.
    let running = run_with(
        &node,
        None,
        &[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    let mut got = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && got.matches("WATCHDOG=1").count() < 3 {
        if let Ok(n) = socket.recv(&mut buf) {
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
            got.push('\n');
        }
    }
    assert!(got.contains("READY=1"), "{got}\n{}", running.log());
    assert!(got.contains("STATUS=playing station vinh-an"), "{got}");
    assert!(got.matches("WATCHDOG=1").count() >= 3, "{got}");
}

#[test]
fn a_node_killed_mid_item_loses_no_row_and_sends_its_chain_home_whole_after_the_restart() {
    let d = District::new();
    let node = d.node("vinh-an", &format!("http://127.0.0.1:{}", d.port));
    let first = run(&node, None);
    // An emergency (tens of seconds long) goes on air; the machine dies in the middle.
    let bulletin = emergency_on_air(&d, &node);
    drop(first); // SIGKILL
    let open = urgent(&node, "vinh-an", &bulletin, |_| true).unwrap();
    assert_eq!(
        open.status,
        loa::airlog::AirStatus::Playing,
        "the row is open when the machine dies: {open:?}"
    );
    // It starts again: the open row is closed as interrupted, the chain still verifies,
    // and the server gets every row.
    let again = run(&node, None);
    let closed = wait_for(60, "the row closed after the restart", || {
        urgent(&node, "vinh-an", &bulletin, |r| {
            r.status != loa::airlog::AirStatus::Playing
        })
    });
    assert_eq!(
        closed.status,
        loa::airlog::AirStatus::Interrupted,
        "{closed:?}"
    );
    assert!(closed.played_ms >= 1_000, "{closed:?}");
    node.run(&["airlog", "verify"]).expect(0);
    let node_rows = wait_for(60, "the server holding the node's rows", || {
        let (mine, theirs) = (rows(&node, "vinh-an"), rows(&d.loa, "vinh-an"));
        (!mine.is_empty() && mine == theirs).then_some(mine)
    });
    assert!(node_rows.iter().any(|r| r.row_hash == closed.row_hash));
    d.loa.run(&["airlog", "verify"]).expect(0);
    drop(again);
}

#[test]
fn a_node_clock_stepped_two_minutes_ahead_mid_item_cuts_the_item_as_partial_and_the_server_sees_the_new_offset(
) {
    let d = District::new();
    let node = d.node("vinh-an", &format!("http://127.0.0.1:{}", d.port));
    // libfaketime reads the offset from this file (again every second): the test steps the
    // clock by writing it.
    let step = node.dir.path().join("faketime");
    std::fs::write(&step, "+0\n").unwrap();
    // (FAKETIME would take precedence over the file: not set.)
    let running = run_with(
        &node,
        None,
        &[
            ("LD_PRELOAD", FAKETIME),
            ("FAKETIME_TIMESTAMP_FILE", step.to_str().unwrap()),
            ("FAKETIME_CACHE_DURATION", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    let bulletin = emergency_on_air(&d, &node);
    std::fs::write(&step, "+120\n").unwrap();
    // The wall clock ran two minutes ahead of the audio: the item is cut and logged as
    // partly played, with the stall alert; the row is not left open.
    let row = wait_for(30, "the item closed after the step", || {
        urgent(&node, "vinh-an", &bulletin, |r| {
            r.status != loa::airlog::AirStatus::Playing
        })
    });
    assert_eq!(
        row.status,
        loa::airlog::AirStatus::Partial,
        "{row:?}\n{}",
        running.log()
    );
    // The next report (a minute apart) carries the new offset, beyond the 2 s allowed.
    let s = wait_for(90, "a report with the stepped clock", || {
        let s = status(&d, "vinh-an");
        let o = s["node"]["clock_offset_ms"].as_i64()?;
        (110_000..130_000).contains(&o).then_some(s)
    });
    let alerts: Vec<&str> = s["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        alerts.iter().any(|a| a.contains("đồng hồ máy xã lệch +12")),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.starts_with("máy xã báo: phát sóng bị treo")),
        "the node's own stall alert reaches the server: {alerts:?}"
    );
    node.run(&["airlog", "verify"]).expect(0);
}

#[test]
fn a_node_whose_clock_runs_past_its_kept_schedule_says_so_in_its_report() {
    let d = District::new();
    let node = d.node("vinh-an", &format!("http://127.0.0.1:{}", d.port));
    // Eight days ahead: the week the server sends ends before the machine's today.
    let _running = run(&node, Some("+8d"));
    let s = wait_for(60, "the report", || {
        let s = status(&d, "vinh-an");
        s["node"].is_object().then_some(s)
    });
    let alerts: Vec<&str> = s["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        alerts
            .iter()
            .any(|a| a.starts_with("máy xã báo: lịch phát đã giữ chỉ đến")),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("đồng hồ máy xã lệch +691")),
        "{alerts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_air_page_follows_a_commune_machine_live_in_the_browser() {
    use common::browser::{self, Driver, Screen};
    let d = District::new();
    let url = format!("http://127.0.0.1:{}", d.port);
    let node = d.node("vinh-an", &url);
    let _running = run(&node, None);
    common::console::run_with_stdin(
        &d.loa,
        &[
            "user",
            "add",
            "quantri",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{}\n", common::console::PASSWORD),
    )
    .expect(0);
    let first = || status(&d, "vinh-an")["node"].is_object().then_some(());
    tokio::task::block_in_place(|| wait_for(60, "the first report", first));
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    for screen in Screen::ALL {
        let b = driver.session(screen, downloads.path()).await;
        browser::log_in(&b, &url, "quantri", common::console::PASSWORD).await;
        let line = browser::text_of(&b, "#station-vinh-an .node").await;
        assert!(line.starts_with("máy xã "), "{line}");
        assert!(line.contains("đồng hồ lệch"), "{line}");
        assert_eq!(
            browser::overflow(&b).await,
            0,
            "the card fits {}",
            screen.name()
        );
        browser::screenshot(&b, &format!("agent-dang-phat-{}", screen.name())).await;
        if screen == Screen::Desktop {
            // An emergency on the machine shows on its card without a reload: the machine
            // reports what it plays as it happens.
            tokio::task::block_in_place(|| emergency(&d, "vinh-an", &a_bulletin(&d)));
            browser::wait_until(&b, "the emergency on the commune's card", |b| async move {
                browser::text_of(&b, "#station-vinh-an .onair")
                    .await
                    .starts_with("Đang phát:")
            })
            .await;
            // What the machine plays is named in the page's language.
            assert_eq!(
                browser::text_of(&b, "#station-vinh-an .state").await,
                "Đang phát: Khẩn cấp (api)"
            );
            browser::screenshot(&b, "agent-dang-phat-emergency-1280x800").await;
        }
        b.close().await.unwrap();
    }
}
