//! Announcements at Circular 39/2020's three levels (issue 13, Thông báo): on the engine
//! with a simulated clock and a WAV capture (priority first in the next slot, normal after
//! its scheduled items, emergency at once, each logged with its source and sender), on the
//! real daemon over the API (an emergency interrupts the item on air; typed text is spoken
//! by the configured command and ingested), and on the console for every role (confinement,
//! CSRF, the page in both languages, the audit and `loa audit verify`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use common::console::*;
use common::daemon::{raw, rows, start_at_with};
use common::fixtures::{speech_like, write_wav, WavFormat};
use common::Loa;
use loa::airlog::Record;
use loa::library::{Bulletin, Priority};
use loa::playout::control::{Command, Control};
use loa::store::{BulletinFilter, Store};

/// Writes a WAV of `secs` seconds (distinct lengths give distinct audio) and adds it.
fn add(loa: &Loa, name: &str, secs: usize, kind: &str) {
    let path = loa.dir.path().join(name);
    write_wav(
        &path,
        WavFormat::Pcm16,
        8_000,
        1,
        &speech_like(8_000, 1, 400, 8_000 * secs, 400),
        None,
    );
    loa.run(&[
        "library",
        "add",
        path.to_str().unwrap(),
        "--kind",
        kind,
        "--topic",
        "other",
        "--title",
        name,
        "--approve",
    ])
    .expect(0);
}

async fn library(loa: &Loa) -> Vec<Bulletin> {
    let store = loa.store().await;
    let l = store
        .list_bulletins(&BulletinFilter::default())
        .await
        .unwrap();
    store.close().await;
    l
}

fn by_title<'a>(lib: &'a [Bulletin], title: &str) -> &'a Bulletin {
    lib.iter().find(|b| b.meta.title == title).unwrap()
}

fn items(rows: &[Record]) -> Vec<&Record> {
    rows.iter().filter(|r| r.level == "item").collect()
}

fn t(r: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(r).unwrap().with_timezone(&Utc)
}

/// A station's 05:30 slot on 04/03/2031, its week built, for players on a simulated clock.
struct OneSlot {
    plan: Arc<loa::plan::Plan>,
    station: loa::plan::Station,
    store: Arc<dyn Store>,
    slot: loa::schedule::SlotPlaylist,
    start: DateTime<Utc>,
}

impl OneSlot {
    /// Builds the week of the 05:30 slot at vinh-an (the library must hold its items).
    async fn at_vinh_an(loa: &Loa) -> OneSlot {
        use loa::playout::service::slots_between;
        let vn = chrono_tz::Asia::Ho_Chi_Minh;
        let slot_at = vn.with_ymd_and_hms(2031, 3, 4, 5, 30, 0).unwrap();
        let plan =
            Arc::new(loa::plan::check_file(&common::plan_at(loa.dir.path(), slot_at)).unwrap());
        let station = plan.station("vinh-an").unwrap().clone();
        let store: Arc<dyn Store> = Arc::new(loa.store().await);
        let built = loa::library::StateChange {
            by: "test".into(),
            at: slot_at.with_timezone(&Utc) - chrono::Duration::days(2),
        };
        let start = slot_at.with_timezone(&Utc);
        let slots = slots_between(
            store.as_ref(),
            &plan,
            &station,
            start - chrono::Duration::hours(1),
            start + chrono::Duration::hours(1),
            &built,
        )
        .await
        .unwrap();
        let slot = slots.first().expect("the 05:30 slot").clone();
        assert!(!slot.items.is_empty(), "the slot has scheduled items");
        OneSlot {
            plan,
            station,
            store,
            slot,
            start,
        }
    }

    /// A player of the station on `clock`, writing to `sink` (`null` when `None`), with its
    /// command channel and the daemon's stop switch.
    async fn player(
        &self,
        loa: &Loa,
        clock: &loa::clock::SimClock,
        sink: Option<Box<dyn loa::playout::sink::Sink>>,
    ) -> (
        loa::playout::StationPlayer,
        tokio::sync::mpsc::Sender<Command>,
        tokio::sync::watch::Sender<bool>,
    ) {
        use loa::library::audio_store::AudioStore;
        use loa::playout::seams::StoreAirlog;
        use loa::playout::{OutputFormat, Settings, StationPlayer};
        let format = OutputFormat {
            sample_rate: 8000,
            channels: 1,
        };
        let sink = sink
            .unwrap_or_else(|| loa::playout::sink::open(&"null".parse().unwrap(), format).unwrap());
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let player = StationPlayer::new(
            self.station.clone(),
            self.plan.clone(),
            Arc::new(StoreAirlog(self.store.clone())),
            Arc::new(clock.clone()),
            AudioStore::new(loa.data.join("audio")),
            loa::library::catalogue::Catalogue::new(self.store.clone())
                .snapshot()
                .await
                .unwrap()
                .by_id()
                .clone(),
            sink,
            Settings {
                format,
                ..Settings::default()
            },
        )
        .with_control(Control {
            commands: rx,
            shutdown: stop_rx,
        });
        (player, tx, stop_tx)
    }
}

#[tokio::test]
async fn priority_airs_first_in_the_next_slot_normal_after_its_items_and_emergency_at_once() {
    use loa::clock::{Clock, SimClock};
    use loa::playout::OutputFormat;

    let loa = Loa::init();
    add(&loa, "bai-theo-lich", 12, "article");
    add(&loa, "uu-tien", 3, "spot");
    add(&loa, "thong-thuong", 4, "spot");
    add(&loa, "khan-cap", 5, "spot");
    let one = OneSlot::at_vinh_an(&loa).await;
    let (store, slot, start) = (one.store.clone(), one.slot.clone(), one.start);
    let slot_at = start.with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let lib = library(&loa).await;
    let cap = loa.dir.path().join("capture");
    let format = OutputFormat {
        sample_rate: 8000,
        channels: 1,
    };
    let sink = loa::playout::sink::open(&format!("wav:{}", cap.display()).parse().unwrap(), format)
        .unwrap();
    let clock = SimClock::new(start - chrono::Duration::hours(1));
    let (mut player, tx, _stop_tx) = one.player(&loa, &clock, Some(sink)).await;
    let status = player.status();
    let send = |title: &str, level: Priority, who: &str| Command::Announce {
        bulletin: Box::new(by_title(&lib, title).clone()),
        level,
        who: who.into(),
        id: None,
    };
    // Sent an hour before the slot, normal first: the order in the slot is by level.
    tx.send(send("thong-thuong", Priority::Normal, "Anh Hùng"))
        .await
        .unwrap();
    tx.send(send("uu-tien", Priority::Priority, "Chị Lan"))
        .await
        .unwrap();
    player
        .idle_until(start - chrono::Duration::minutes(30))
        .await;
    assert_eq!(status.lock().unwrap().announcements, 2, "both wait");
    assert!(items(&rows(&loa).await).is_empty(), "nothing aired yet");
    player.play_slot(&slot).await.unwrap();
    assert_eq!(status.lock().unwrap().announcements, 0);
    let aired = rows(&loa).await;
    let got: Vec<(String, String, String)> = items(&aired)
        .iter()
        .map(|r| {
            let title = lib
                .iter()
                .find(|b| Some(b.id.to_string()) == r.bulletin_id)
                .map(|b| b.meta.title.clone())
                .unwrap();
            (title, r.source.to_string(), r.who.clone())
        })
        .collect();
    let n = got.len();
    assert_eq!(
        got[0],
        ("uu-tien".into(), "priority".into(), "Chị Lan".into()),
        "{got:?}"
    );
    assert_eq!(
        got[n - 1],
        (
            "thong-thuong".into(),
            "announcement".into(),
            "Anh Hùng".into()
        ),
        "{got:?}"
    );
    assert!(
        got[1..n - 1]
            .iter()
            .all(|(_, source, _)| source == "schedule"),
        "{got:?}"
    );
    assert!(
        items(&aired).iter().all(|r| r.status == "aired"),
        "{aired:?}"
    );
    // The priority item starts the slot on the sample clock; the scheduled items follow it
    // without a gap, keeping their planned instants (so the delay shows).
    let its = items(&aired);
    assert_eq!(t(its[0].actual_start.as_deref().unwrap()), start);
    assert_eq!(
        its[1].actual_start.as_deref().map(t),
        its[0].actual_end.as_deref().map(t)
    );
    assert_eq!(t(&its[1].planned_start), start);
    // Every item is in the capture, one after the other: the slot's audio is as long as
    // what the rows say played.
    let day = slot_at.date_naive();
    let (samples, _) = loa::playout::sink::read_capture(&cap, "vinh-an", day).unwrap();
    let played: i64 = its.iter().map(|r| r.played_ms).sum();
    assert!(
        (samples.len() as i64 * 1000 / 8000 - played).abs() <= 10,
        "{} frames captured, {played} ms played",
        samples.len()
    );
    // An emergency between slots plays at once, outside any slot.
    let after = clock.now();
    tx.send(send("khan-cap", Priority::Emergency, "Anh Hùng"))
        .await
        .unwrap();
    player.idle_until(after + chrono::Duration::hours(1)).await;
    player.finish().await;
    let last = rows(&loa).await;
    let urgent = items(&last)
        .into_iter()
        .find(|r| r.source == "urgent")
        .expect("the emergency aired");
    assert_eq!(urgent.status, "aired");
    assert_eq!(urgent.who, "Anh Hùng");
    assert_eq!(
        urgent.bulletin_id.as_deref(),
        Some(by_title(&lib, "khan-cap").id.to_string().as_str())
    );
    assert!(t(urgent.actual_start.as_deref().unwrap()) < after + chrono::Duration::seconds(1));
    store.close().await;
    loa.run(&["airlog", "verify"]).expect(0);
}

#[tokio::test]
async fn a_waiting_announcement_survives_a_restart_and_airs_in_the_next_slot_marked_with_its_row() {
    use loa::clock::{Clock, SimClock};
    use loa::playout::service::waiting_announcements;
    use loa::store::{AnnouncementState, NewAnnouncement};

    let loa = Loa::init();
    add(&loa, "bai-theo-lich", 12, "article");
    add(&loa, "thong-thuong", 4, "spot");
    add(&loa, "tin-cu", 5, "spot");
    let one = OneSlot::at_vinh_an(&loa).await;
    let (store, start) = (one.store.clone(), one.start);
    let lib = library(&loa).await;
    let clock = SimClock::new(start - chrono::Duration::hours(1));
    // Kept as the console keeps it, then sent to the running player…
    let keep = |title: &str, sent_at: DateTime<Utc>| NewAnnouncement {
        station: "vinh-an".into(),
        bulletin: by_title(&lib, title).id,
        level: Priority::Normal,
        who: "Anh Hùng".into(),
        sent_at,
    };
    let ids = store
        .add_announcements(&[
            keep("thong-thuong", clock.now()),
            // …and one sent eight days before: the daemon was down past the make-up window.
            keep("tin-cu", clock.now() - chrono::Duration::days(8)),
        ])
        .await
        .unwrap();
    {
        let (mut before, tx, _stop) = one.player(&loa, &clock, None).await;
        tx.send(Command::Announce {
            bulletin: Box::new(by_title(&lib, "thong-thuong").clone()),
            level: Priority::Normal,
            who: "Anh Hùng".into(),
            id: Some(ids[0]),
        })
        .await
        .unwrap();
        before
            .idle_until(start - chrono::Duration::minutes(30))
            .await;
        assert_eq!(before.status().lock().unwrap().announcements, 1);
        // The daemon stops before the slot: this player and its queue are gone.
    }
    // It starts again, as `loa serve` does: what still waits is reloaded.
    let (mut after, _tx, _stop) = one.player(&loa, &clock, None).await;
    let now = clock.now();
    after.queue_announcements(
        waiting_announcements(store.as_ref(), "vinh-an", now, "loa")
            .await
            .unwrap(),
    );
    assert_eq!(after.status().lock().unwrap().announcements, 1);
    let expired = store.announcement(ids[1]).await.unwrap().unwrap();
    assert_eq!(expired.state, AnnouncementState::Expired);
    assert_eq!(expired.ended_by.as_deref(), Some("loa"));
    after.play_slot(&one.slot).await.unwrap();
    after.finish().await;
    let aired = rows(&loa).await;
    let last = *items(&aired).last().unwrap();
    assert_eq!(
        last.bulletin_id.as_deref(),
        Some(by_title(&lib, "thong-thuong").id.to_string().as_str())
    );
    assert_eq!(
        (last.source.to_string(), last.who.as_str()),
        ("announcement".into(), "Anh Hùng")
    );
    assert_eq!(last.status, "aired");
    let old = Some(by_title(&lib, "tin-cu").id.to_string());
    assert!(
        !items(&aired)
            .iter()
            .any(|r| r.bulletin_id == old && r.source == "announcement"),
        "the expired one does not air as an announcement"
    );
    let kept = store.announcement(ids[0]).await.unwrap().unwrap();
    assert_eq!(kept.state, AnnouncementState::Aired);
    assert_eq!(kept.airlog_seq, Some(last.seq), "linked to its airlog row");
    assert!(store
        .announcements(Some("vinh-an"), Some(AnnouncementState::Waiting))
        .await
        .unwrap()
        .is_empty());
    store.close().await;
    loa.run(&["airlog", "verify"]).expect(0);
}

/// A text-to-speech command for the tests: reads the text, writes a prepared WAV to `{out}`
/// and keeps the text it was given beside it.
fn fake_tts(loa: &Loa) -> String {
    let wav = loa.dir.path().join("giong-may.wav");
    write_wav(
        &wav,
        WavFormat::Pcm16,
        8_000,
        1,
        &speech_like(8_000, 1, 400, 8_000 * 6, 400),
        None,
    );
    let script = loa.dir.path().join("tts.sh");
    let said = loa.dir.path().join("said.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncat > '{}'\ncp '{}' \"$1\"\n",
            said.display(),
            wav.display()
        ),
    )
    .unwrap();
    let mut p = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o755);
    std::fs::set_permissions(&script, p).unwrap();
    format!(
        "[announce]\ntts_command = \"{} {{out}}\"\n",
        script.display()
    )
}

fn wait_for(
    rt: &tokio::runtime::Runtime,
    loa: &Loa,
    what: &str,
    f: impl Fn(&[Record]) -> bool,
) -> Vec<Record> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = rt.block_on(rows(loa));
        if f(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "{what}: {r:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn on_the_daemon_an_emergency_interrupts_and_typed_text_is_spoken_and_queued() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The tts script needs the data dir's folder, so the daemon is set up in two steps.
    let probe = Loa::init();
    let tts = fake_tts(&probe);
    let d = rt.block_on(start_at_with(Utc::now(), &tts));
    let (port, token) = (d.port, d.token.clone());
    let loa = &d.loa;
    wait_for(&rt, loa, "an item plays", |r| {
        r.iter().any(|r| r.status == "playing" && r.level == "item")
    });
    let lib = rt.block_on(library(loa));
    let spot = lib.iter().find(|b| b.meta.kind.as_str() == "spot").unwrap();
    let url = "/api/v1/stations/vinh-an/announcements";
    // Bad requests change nothing and say what is wrong.
    for (body, code, words) in [
        (
            r#"{"level":"urgent","bulletin_id":"x"}"#.to_string(),
            400,
            "level 'urgent'",
        ),
        (
            r#"{"level":"normal"}"#.to_string(),
            400,
            "one of bulletin_id or text",
        ),
        (
            format!(
                r#"{{"level":"normal","bulletin_id":"{}","text":"a"}}"#,
                spot.id
            ),
            400,
            "not both",
        ),
        (
            r#"{"level":"normal","text":"   "}"#.to_string(),
            400,
            "text is empty",
        ),
        (
            r#"{"level":"normal","bulletin_id":"bbbbbbbbbbbb"}"#.to_string(),
            404,
            "no bulletin",
        ),
        (
            r#"{"level":"normal","bulletin":"x"}"#.to_string(),
            400,
            "unknown field",
        ),
    ] {
        let (got, out) = raw(port, "POST", url, &token, &body);
        assert_eq!(got, code, "{body}: {out}");
        assert!(out.contains(words), "{body}: {out}");
    }
    let (got, out) = raw(
        port,
        "POST",
        "/api/v1/stations/vinh-tien/announcements",
        &token,
        r#"{"level":"normal","text":"x"}"#,
    );
    assert_eq!(got, 404, "{out}");
    let (got, _) = raw(
        port,
        "POST",
        url,
        "wrong",
        r#"{"level":"normal","text":"x"}"#,
    );
    assert_eq!(got, 401);
    assert_eq!(rt.block_on(library(loa)).len(), lib.len(), "nothing added");
    // An emergency interrupts the article on air, then the article airs again.
    let (got, out) = raw(
        port,
        "POST",
        url,
        &token,
        &format!(r#"{{"level":"emergency","bulletin_id":"{}"}}"#, spot.id),
    );
    assert_eq!(got, 200, "{out}");
    assert!(out.contains(r#""waits_for_next_slot":false"#), "{out}");
    let r = wait_for(&rt, loa, "the emergency airs", |r| {
        r.iter()
            .any(|r| r.source == "urgent" && r.status == "aired")
    });
    let urgent = r.iter().find(|r| r.source == "urgent").unwrap();
    assert_eq!(urgent.who, "api");
    let cut = r
        .iter()
        .find(|r| r.status == "interrupted" && r.level == "item")
        .expect("the article was interrupted");
    assert_eq!(urgent.link_seq, Some(cut.seq));
    // Typed text: spoken by the configured command, ingested, retired from rotation, and
    // waiting for the next slot (the status says so).
    let text = "Thông báo: ngày mai cắt điện từ 7 giờ";
    let (got, out) = raw(
        port,
        "POST",
        url,
        &token,
        &format!(r#"{{"level":"priority","text":"{text}"}}"#),
    );
    assert_eq!(got, 200, "{out}");
    assert!(out.contains(r#""waits_for_next_slot":true"#), "{out}");
    let said = std::fs::read_to_string(probe.dir.path().join("said.txt")).unwrap();
    assert_eq!(said, text);
    let spoken: Vec<Bulletin> = rt
        .block_on(library(loa))
        .into_iter()
        .filter(|b| b.meta.title.starts_with("Thông báo: Thông báo: ngày mai"))
        .collect();
    assert_eq!(spoken.len(), 1, "one bulletin for the spoken text");
    assert_eq!(
        spoken[0].state.as_str(),
        "retired",
        "never rotated by the builder"
    );
    assert_eq!(spoken[0].meta.stations, vec!["vinh-an".to_string()]);
    assert_eq!(spoken[0].meta.priority, Priority::Priority);
    // The player takes it between two blocks of the item on air.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, status) = raw(port, "GET", "/api/status", &token, "");
        if status.contains(r#""announcements":1"#) {
            break;
        }
        assert!(Instant::now() < deadline, "{status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let tmp = loa.data.join("tmp");
    assert!(
        std::fs::read_dir(&tmp).map_or(true, |mut d| d.next().is_none()),
        "the spoken file is removed after ingest"
    );
    // Every one is in the audit.
    let entries: Vec<String> = audit(loa)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in ["urgent", "bulletin_upload", "announce"] {
        assert!(entries.iter().any(|e| e == a), "{a}: {entries:?}");
    }
    loa.run(&["audit", "verify"]).expect(0);
}

/// The console daemon with a spot in the library; its stations wait for 05:30.
fn console_with_spot() -> (Console, String) {
    let port = common::daemon::free_port();
    let loa = data_dir(port, "");
    add(&loa, "khau-hieu", 3, "spot");
    let c = serve(loa, port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = rt.block_on(library(&c.loa))[0].id.to_string();
    (c, id)
}

#[test]
fn every_role_sends_announcements_only_where_it_may_with_csrf_and_an_audit_entry() {
    let (c, spot) = console_with_spot();
    let port = c.port;
    let body = |level: &str| format!(r#"{{"level":"{level}","bulletin_id":"{spot}"}}"#);
    let post = |cookie: &str, csrf: Option<&str>, station: &str, level: &str| {
        let mut h = vec![("Cookie", cookie), ("Content-Type", "application/json")];
        if let Some(t) = csrf {
            h.push(("X-CSRF-Token", t));
        }
        http(
            port,
            "POST",
            &format!("/api/v1/stations/{station}/announcements"),
            &h,
            &body(level),
        )
    };
    // role × station → status
    let table = [
        ("quantri", "vinh-tien", 200),
        ("quantri", "all", 200),
        ("dieuhanh", "vinh-an", 200),
        ("xa-vinh-an", "vinh-an", 200),
        ("xa-vinh-an", "vinh-tien", 404),
        ("xa-vinh-an", "nowhere", 404),
        ("noivu", "vinh-an", 403),
        ("noivu", "all", 403),
    ];
    let mut sent = 0;
    for (user, station, want) in table {
        let (cookie, csrf) = session(port, user);
        // Missing or wrong CSRF token: 403 whatever the role.
        assert_eq!(post(&cookie, None, station, "normal").status, 403, "{user}");
        assert_eq!(
            post(&cookie, Some("x"), station, "normal").status,
            403,
            "{user}"
        );
        let r = post(&cookie, Some(&csrf), station, "priority");
        assert_eq!(r.status, want, "{user} → {station}: {}", r.body);
        if want == 200 {
            sent += if station == "all" { 2 } else { 1 };
            assert!(r.body.contains(r#""level":"priority""#), "{}", r.body);
        }
    }
    // Each station says how many wait for its next slot (once its player took them).
    let (cookie, _) = session(port, "dieuhanh");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let st = http(port, "GET", "/api/status", &[("Cookie", &cookie)], "");
        let v: serde_json::Value = serde_json::from_str(&st.body).unwrap();
        let waiting: u64 = ["vinh-an", "vinh-tien"]
            .iter()
            .map(|c| v["stations"][c]["announcements"].as_u64().unwrap())
            .sum();
        if waiting == sent as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} of {sent} wait: {}",
            st.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // One audit entry per station reached, with who, role and station.
    let entries = audit(&c.loa);
    let announced: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["action"] == "announce")
        .collect();
    assert_eq!(announced.len(), sent, "{announced:?}");
    let commune = announced
        .iter()
        .find(|e| e["actor"] == "xa-vinh-an")
        .unwrap();
    assert_eq!(commune["station"], "vinh-an");
    assert_eq!(commune["role"], "commune");
    assert_eq!(commune["target"], spot.as_str());
    assert!(commune["after"]
        .as_str()
        .unwrap()
        .contains(r#""level":"priority""#));
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn the_announcements_page_shows_each_role_its_stations_and_its_form_in_either_language() {
    let (c, spot) = console_with_spot();
    let port = c.port;
    // Not logged in: to the login form.
    let r = http(port, "GET", "/announcements", &[], "");
    assert_eq!(
        (r.status, r.headers("location")),
        (303, vec!["/login".to_string()])
    );
    let (admin, _) = session(port, "quantri");
    let page = http(port, "GET", "/announcements", &[("Cookie", &admin)], "");
    assert_eq!(page.status, 200, "{}", page.body);
    for words in [
        "Thông báo",
        "Xã Vĩnh An",
        "Xã Vĩnh Tiến",
        "khau-hieu",
        "Khẩn cấp",
        "Ưu tiên",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    assert!(!page.body.contains("Announcements"));
    // The commune user's form names only its station.
    let (commune, csrf) = session(port, "xa-vinh-an");
    let page = http(port, "GET", "/announcements", &[("Cookie", &commune)], "");
    assert!(
        page.body.contains(r#"name="stations" value="vinh-an""#),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(r#"name="stations" value="vinh-tien""#),
        "{}",
        page.body
    );
    // The viewer reads the page but gets no form.
    let (viewer, _) = session(port, "noivu");
    let page = http(port, "GET", "/announcements", &[("Cookie", &viewer)], "");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("không được gửi thông báo"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"level\""));
    // English by a switch, remembered in a cookie.
    let en = http(
        port,
        "GET",
        "/announcements?lang=en",
        &[("Cookie", &commune)],
        "",
    );
    assert!(
        en.body.contains("Announcements") && en.body.contains("Emergency"),
        "{}",
        en.body
    );
    assert!(
        !en.body.contains("Khẩn cấp") && !en.body.contains("Gửi thông báo"),
        "{}",
        en.body
    );
    assert!(en.set_cookie("lang").unwrap().starts_with("lang=en"));
    // The form: refused without its token, a field error in Vietnamese, then sent.
    let form = |csrf: &str, rest: &str| {
        http(
            port,
            "POST",
            "/announcements",
            &[
                ("Cookie", &commune),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &format!("http://127.0.0.1:{port}")),
            ],
            &format!("csrf_token={csrf}&{rest}"),
        )
    };
    let r = form(
        "x",
        &format!("station%3Avinh-an=on&level=normal&bulletin_id={spot}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = form(
        &csrf,
        "station%3Avinh-an=on&level=normal&bulletin_id=&text=",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("Hãy chọn một bản tin hoặc nhập nội dung."),
        "{}",
        r.body
    );
    let r = form(&csrf, &format!("level=normal&bulletin_id={spot}"));
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Hãy chọn ít nhất một đài."), "{}", r.body);
    let r = form(
        &csrf,
        &format!("station%3Avinh-tien=on&level=normal&bulletin_id={spot}"),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let r = form(
        &csrf,
        &format!("station%3Avinh-an=on&level=normal&bulletin_id={spot}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers("location"), vec!["/announcements?sent=waiting"]);
    let page = http(
        port,
        "GET",
        "/announcements?sent=waiting",
        &[("Cookie", &commune)],
        "",
    );
    assert!(
        page.body.contains("Đang chờ buổi phát tới"),
        "{}",
        page.body
    );
    let announced = audit(&c.loa)
        .into_iter()
        .filter(|e| e["action"] == "announce")
        .count();
    assert_eq!(announced, 1);
    c.loa.run(&["audit", "verify"]).expect(0);
}

/// The stations' waiting announcements, as `/api/status` says: (vinh-an, vinh-tien).
fn waiting_counts(port: u16, cookie: &str) -> (u64, u64) {
    let st = http(port, "GET", "/api/status", &[("Cookie", cookie)], "");
    let v: serde_json::Value = serde_json::from_str(&st.body).unwrap();
    let n = |c: &str| v["stations"][c]["announcements"].as_u64().unwrap();
    (n("vinh-an"), n("vinh-tien"))
}

/// Waits until the players hold `want` waiting announcements.
fn until_waiting(port: u16, cookie: &str, want: (u64, u64), when: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = waiting_counts(port, cookie);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{when}: {got:?} wait, not {want:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn waiting_announcements_are_reloaded_after_a_restart_shown_in_their_zone_and_cancelled_where_allowed(
) {
    use loa::store::{AnnouncementState, AnnouncementStore};

    let port = common::daemon::free_port();
    let loa = data_dir(port, "");
    set_zone(&loa, "vinh-tien", "Asia/Tokyo");
    add(&loa, "khau-hieu", 3, "spot");
    let mut c = serve(loa, port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let spot = rt.block_on(library(&c.loa))[0].id.to_string();
    let (op, op_csrf) = session(port, "dieuhanh");
    let send = |station: &str, level: &str| {
        let r = http(
            port,
            "POST",
            &format!("/api/v1/stations/{station}/announcements"),
            &[
                ("Cookie", &op),
                ("Content-Type", "application/json"),
                ("X-CSRF-Token", &op_csrf),
            ],
            &format!(r#"{{"level":"{level}","bulletin_id":"{spot}"}}"#),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v["announcements"][0].as_i64().expect("kept under a number")
    };
    let an = send("vinh-an", "normal");
    let tien = send("vinh-tien", "priority");
    until_waiting(port, &op, (1, 1), "sent");
    // `loa serve` ends before the slot and starts again: both still wait.
    c.restart();
    let (admin, _) = session(port, "quantri");
    until_waiting(port, &admin, (1, 1), "restarted");
    let page = http(port, "GET", "/announcements", &[("Cookie", &admin)], "");
    assert_eq!(page.status, 200, "{}", page.body);
    for id in [an, tien] {
        assert!(
            page.body.contains(&format!("/announcements/{id}/cancel")),
            "{id}: {}",
            page.body
        );
    }
    // Each is shown at its station's time: Vĩnh Tiến keeps Tokyo's.
    let kept = |id: i64| {
        rt.block_on(async {
            let store = c.loa.store().await;
            let a = store.announcement(id).await.unwrap().unwrap();
            store.close().await;
            a
        })
    };
    let at = |id: i64, zone: chrono_tz::Tz| {
        DateTime::parse_from_rfc3339(&kept(id).sent_at)
            .unwrap()
            .with_timezone(&zone)
            .format("%H:%M:%S %d/%m/%Y")
            .to_string()
    };
    assert!(
        page.body.contains(&at(tien, chrono_tz::Asia::Tokyo)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&at(an, chrono_tz::Asia::Ho_Chi_Minh)),
        "{}",
        page.body
    );
    // The commune user sees and cancels only its own station's; the viewer none.
    let (commune, csrf) = session(port, "xa-vinh-an");
    let page = http(port, "GET", "/announcements", &[("Cookie", &commune)], "");
    assert!(page.body.contains(&format!("/announcements/{an}/cancel")));
    assert!(
        !page.body.contains(&format!("announcement-{tien}")),
        "{}",
        page.body
    );
    let cancel = |cookie: &str, csrf: &str, id: i64| {
        http(
            port,
            "POST",
            &format!("/announcements/{id}/cancel"),
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &format!("http://127.0.0.1:{port}")),
            ],
            &format!("csrf_token={csrf}"),
        )
    };
    assert_eq!(cancel(&commune, &csrf, tien).status, 404);
    assert_eq!(cancel(&commune, "x", an).status, 403);
    let (viewer, viewer_csrf) = session(port, "noivu");
    let r = cancel(&viewer, &viewer_csrf, an);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("không được hủy thông báo"), "{}", r.body);
    assert_eq!(
        kept(an).state,
        AnnouncementState::Waiting,
        "nothing changed"
    );
    let r = cancel(&commune, &csrf, an);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers("location"), vec!["/announcements?cancelled=1"]);
    let r = cancel(&commune, &csrf, an);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("không còn chờ"), "{}", r.body);
    until_waiting(port, &admin, (0, 1), "cancelled");
    let gone = kept(an);
    assert_eq!(gone.state, AnnouncementState::Cancelled);
    assert_eq!(gone.ended_by.as_deref(), Some("xa-vinh-an"));
    let page = http(
        port,
        "GET",
        "/announcements?cancelled=1",
        &[("Cookie", &commune)],
        "",
    );
    assert!(
        page.body.contains("Đã hủy thông báo đang chờ."),
        "{}",
        page.body
    );
    let cancels: Vec<serde_json::Value> = audit(&c.loa)
        .into_iter()
        .filter(|e| e["action"] == "announce_cancel")
        .collect();
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0]["actor"], "xa-vinh-an");
    assert_eq!(cancels[0]["station"], "vinh-an");
    assert_eq!(cancels[0]["target"], an.to_string());
    c.loa.run(&["audit", "verify"]).expect(0);
}

/// A WAV of `secs` seconds of speech-like sound, as bytes.
fn wav_bytes(loa: &Loa, secs: usize) -> Vec<u8> {
    let path = loa.dir.path().join(format!("ghi-am-{secs}.wav"));
    write_wav(
        &path,
        WavFormat::Pcm16,
        8_000,
        1,
        &speech_like(8_000, 1, 400, 8_000 * secs, 400),
        None,
    );
    std::fs::read(&path).unwrap()
}

#[test]
fn a_recording_is_an_announcement_s_audio_on_the_api_and_the_form_and_a_refused_one_leaves_nothing()
{
    use loa::store::AnnouncementStore;

    let port = common::daemon::free_port();
    let loa = data_dir(port, "upload_max_mb = 1");
    add(&loa, "khau-hieu", 3, "spot");
    let c = serve(loa, port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rt.block_on(library(&c.loa)).len();
    let kept = || {
        rt.block_on(async {
            let store = c.loa.store().await;
            let n = store.announcements(None, None).await.unwrap().len();
            store.close().await;
            n
        })
    };
    let staged = || {
        std::fs::read_dir(c.loa.data.join("uploads"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let (op, csrf) = session(port, "dieuhanh");
    let api = |fields: &[(&str, &str)], files: &[(&str, &[u8])]| {
        let (ct, body) = multipart(fields, files);
        common::console::send(
            port,
            "POST",
            "/api/v1/stations/vinh-an/announcements",
            &[
                ("Cookie", &op),
                ("X-CSRF-Token", &csrf),
                ("Content-Type", &ct),
            ],
            &body,
        )
    };
    // Refused: not audio, too large, no level; each one sentence, nothing left behind.
    let r = api(
        &[("level", "normal")],
        &[("ghi-am.mp3", b"this is not audio at all")],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("ghi-am.mp3"), "{}", r.body);
    let big = vec![7u8; 2 * 1024 * 1024];
    let r = api(&[("level", "normal")], &[("lon.wav", &big)]);
    assert_eq!(r.status, 413, "{}", r.body);
    let good = wav_bytes(&c.loa, 4);
    let r = api(&[("level", "urgent")], &[("cat-dien.wav", &good)]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("level 'urgent'"), "{}", r.body);
    let (commune, ccsrf) = session(port, "xa-vinh-an");
    let (ct, body) = multipart(&[("level", "normal")], &[("cat-dien.wav", &good)]);
    let r = common::console::send(
        port,
        "POST",
        "/api/v1/stations/vinh-tien/announcements",
        &[
            ("Cookie", &commune),
            ("X-CSRF-Token", &ccsrf),
            ("Content-Type", &ct),
        ],
        &body,
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        rt.block_on(library(&c.loa)).len(),
        before,
        "no bulletin added"
    );
    assert_eq!(kept(), 0, "no announcement kept");
    assert_eq!(staged(), 0, "no file left");
    // Accepted: it waits for the slot, its bulletin retired from rotation, audited.
    let r = api(&[("level", "priority")], &[("cat-dien.wav", &good)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(r#""waits_for_next_slot":true"#),
        "{}",
        r.body
    );
    let lib = rt.block_on(library(&c.loa));
    let rec = by_title(&lib, "Thông báo: cat-dien");
    assert_eq!(rec.state.as_str(), "retired");
    assert_eq!(rec.meta.stations, vec!["vinh-an".to_string()]);
    assert_eq!(rec.meta.priority, Priority::Priority);
    assert_eq!(kept(), 1);
    let entries = audit(&c.loa);
    assert!(entries.iter().any(|e| e["action"] == "bulletin_upload"
        && e["after"]
            .as_str()
            .unwrap_or("")
            .contains(r#""recording":true"#)));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "announce" && e["target"] == rec.id.to_string()));
    // The form: its token first, a refused file said in Vietnamese at its field.
    let form = |fields: &[(&str, &str)], files: &[(&str, &[u8])]| {
        let (ct, body) = multipart(fields, files);
        common::console::send(
            port,
            "POST",
            "/announcements",
            &[
                ("Cookie", &commune),
                ("Content-Type", &ct),
                ("Origin", &format!("http://127.0.0.1:{port}")),
            ],
            &body,
        )
    };
    let fields = [
        ("csrf_token", ccsrf.as_str()),
        ("stations", "vinh-an"),
        ("level", "normal"),
        ("bulletin_id", ""),
        ("text", ""),
    ];
    let r = form(&fields, &[("hong.wav", b"RIFF but nothing after")]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("field-error") && r.body.contains("hong.wav"),
        "{}",
        r.body
    );
    let r = form(&fields, &[("lon.wav", &big)]);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("http.upload_max_mb"), "{}", r.body);
    let mut both = fields.to_vec();
    both[4] = ("text", "Bão số 3");
    let r = form(&both, &[("bao.wav", &wav_bytes(&c.loa, 5))]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Chỉ chọn một nguồn"), "{}", r.body);
    assert_eq!(kept(), 1, "nothing more kept");
    assert_eq!(staged(), 0, "no file left");
    let r = form(&fields, &[("bao.wav", &wav_bytes(&c.loa, 5))]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers("location"), vec!["/announcements?sent=waiting"]);
    assert_eq!(kept(), 2);
    assert_eq!(rt.block_on(library(&c.loa)).len(), before + 2);
    c.loa.run(&["audit", "verify"]).expect(0);
}
