//! Commune machines playing their stations (issue 14): the real `loa serve` and two real
//! `loa agent` nodes, each reaching the server through a loopback TCP proxy the test cuts
//! and restores. A node renders a day with the link down from its verified cache, keeps the
//! rows, and sends them home when the link is back: the server then holds every row, the
//! chains and the nodes' signed heads verify, and the server's export of that day equals
//! the node's. A node cannot write another station's airlog, a replayed upload changes
//! nothing, a fork is refused.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use chrono::{NaiveDate, Utc};
use common::agent::{District, Proxy};
use common::Loa;
use loa::agent::auth;
use loa::agent::node::{NodeDir, NodeKey};
use loa::airlog::Record;
use loa::store::AirlogStore;

/// Tomorrow and the day after, station-local.
fn days() -> (NaiveDate, NaiveDate) {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .date_naive();
    (
        today.succ_opt().unwrap(),
        today.succ_opt().unwrap().succ_opt().unwrap(),
    )
}

fn render(node: &Loa, day: NaiveDate) -> serde_json::Value {
    let d = day.to_string();
    let run = node.run(&[
        "agent",
        "run",
        "--clock",
        "simulated",
        "--from",
        &d,
        "--to",
        &d,
        "--sink",
        "null",
        "--json",
    ]);
    run.expect(0).json()
}

fn rows_of(loa: &Loa, station: &str) -> Vec<Record> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = loa.store().await;
        store.airlog(Some(station), None, None).await.unwrap()
    })
}

fn export(loa: &Loa, station: &str, day: NaiveDate, name: &str) -> String {
    let out = loa.dir.path().join(name);
    let d = day.to_string();
    loa.run(&[
        "airlog",
        "export",
        "--from",
        &d,
        "--to",
        &d,
        "--station",
        station,
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ])
    .expect(0);
    // The export's own signature is the exporting machine's key, and the heads the node
    // signed at each upload are kept by the server: everything else is equal.
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .filter(|l| {
            ![
                "public_key,",
                "key_fingerprint,",
                "signature,",
                "signed_head ",
                "signed_by ",
            ]
            .iter()
            .any(|k| l.starts_with(&format!("#integrity,{k}")))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_day_played_with_the_link_down_reaches_the_server_whole_when_the_link_is_back() {
    let d = District::new();
    let (link_a, link_b) = (Proxy::to(d.port), Proxy::to(d.port));
    let a = d.node("vinh-an", &link_a.url());
    let b = d.node("vinh-phuc", &link_b.url());
    let (day1, day2) = days();

    // Day 1, link up: each node syncs (the manifest covers the range), plays, uploads.
    for node in [&a, &b] {
        let r = render(node, day1);
        assert_eq!(r["slots"], 2, "{r}");
        assert!(r["sync_error"].is_null(), "{r}");
        assert_eq!(r["sync"]["failed"].as_array().unwrap().len(), 0, "{r}");
        let u = &r["upload"];
        assert!(
            u["stored"].as_u64().unwrap() >= 6,
            "2 slot rows, 4 item rows: {r}"
        );
        assert_eq!(u["stored"], u["rows"], "{r}");
    }

    // Day 2, node A's link down all day: it plays every item from its cache.
    link_a.cut();
    let r = render(&a, day2);
    assert_eq!(r["slots"], 2, "{r}");
    assert!(
        r["sync_error"].as_str().unwrap().contains("cannot reach"),
        "{r}"
    );
    assert!(r["upload"].is_null() && !r["upload_error"].is_null(), "{r}");
    let node_rows = rows_of(&a, "vinh-an");
    let aired = node_rows
        .iter()
        .filter(|r| r.level == "item" && r.status.as_str() == "aired")
        .count();
    let items = node_rows.iter().filter(|r| r.level == "item").count();
    assert_eq!(
        aired, items,
        "every item aired from the cache: {node_rows:#?}"
    );
    assert!(
        node_rows
            .iter()
            .filter(|r| r.level == "item")
            .all(|r| r.played_ms >= 30_000),
        "each item played whole: {node_rows:#?}"
    );
    let held_before = rows_of(&d.loa, "vinh-an").len();
    assert!(
        held_before < node_rows.len(),
        "the server has not seen day 2 yet"
    );

    // The link is back: one sync sends what the server lacks, and nothing is deleted.
    link_a.restore();
    let synced = a
        .run(&["agent", "sync", "--once", "--json"])
        .expect(0)
        .json();
    assert_eq!(
        synced["upload"]["stored"].as_u64().unwrap() as usize,
        node_rows.len() - held_before,
        "{synced}"
    );
    assert_eq!(rows_of(&a, "vinh-an").len(), node_rows.len());
    let server_rows = rows_of(&d.loa, "vinh-an");
    assert_eq!(
        server_rows, node_rows,
        "the server holds the node's rows verbatim"
    );

    // The chains and the nodes' signed heads verify on the server.
    let verified = d.loa.run(&["airlog", "verify", "--json"]).expect(0).json();
    assert!(
        verified["signed_heads"]["vinh-an"].as_u64().unwrap() >= 2,
        "{verified}"
    );
    assert!(
        verified["signed_heads"]["vinh-phuc"].as_u64().unwrap() >= 1,
        "{verified}"
    );

    // The server's export of the day the link was down equals the node's.
    let theirs = export(&d.loa, "vinh-an", day2, "server.csv");
    let mine = export(&a, "vinh-an", day2, "node.csv");
    assert!(theirs.lines().count() > 2, "{theirs}");
    for (t, m) in theirs.lines().zip(mine.lines()) {
        assert_eq!(t, m, "the server's export differs from the node's");
    }
    assert_eq!(theirs.lines().count(), mine.lines().count());

    // The server's export names the node whose key signed the station's head, and checks
    // with that key (the block itself is signed by the district's).
    let file = d.loa.dir.path().join("server.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let node_key = NodeDir::of(&a.data).key().unwrap().public_hex();
    assert!(
        text.contains(&format!("#integrity,signed_by vinh-an,{node_key}")),
        "{text}"
    );
    let checked = d
        .loa
        .run(&[
            "airlog",
            "verify",
            "--export",
            file.to_str().unwrap(),
            "--no-database",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(checked["signed_heads"], 1, "{checked}");

    // Syncing again sends nothing new.
    let again = a
        .run(&["agent", "sync", "--once", "--json"])
        .expect(0)
        .json();
    assert_eq!(again["upload"]["sent"], 0, "{again}");
}

#[test]
fn a_server_restored_from_a_backup_gets_the_rows_it_lost_from_the_node() {
    let mut d = District::new();
    let a = d.node("vinh-an", &format!("http://127.0.0.1:{}", d.port));
    let (day1, day2) = days();
    render(&a, day1);
    // The backup: the server's database after day 1.
    d.stop();
    let db = d.loa.data.join("loa.db");
    let backup = d.loa.dir.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    for ext in ["", "-wal", "-shm"] {
        let from = std::path::PathBuf::from(format!("{}{ext}", db.display()));
        if from.exists() {
            std::fs::copy(&from, backup.join(format!("loa.db{ext}"))).unwrap();
        }
    }
    d.start();
    let r = render(&a, day2);
    assert!(r["upload"]["stored"].as_u64().unwrap() > 0, "{r}");
    // Restored: the day 2 rows are gone from the server; its head is behind the node's.
    d.stop();
    for ext in ["", "-wal", "-shm"] {
        let to = std::path::PathBuf::from(format!("{}{ext}", db.display()));
        let _ = std::fs::remove_file(&to);
        let from = backup.join(format!("loa.db{ext}"));
        if from.exists() {
            std::fs::copy(&from, &to).unwrap();
        }
    }
    d.start();
    let behind = rows_of(&d.loa, "vinh-an").len();
    let node_rows = rows_of(&a, "vinh-an");
    assert!(behind < node_rows.len());
    let synced = a
        .run(&["agent", "sync", "--once", "--json"])
        .expect(0)
        .json();
    assert_eq!(
        synced["upload"]["stored"].as_u64().unwrap() as usize,
        node_rows.len() - behind,
        "{synced}"
    );
    assert_eq!(rows_of(&d.loa, "vinh-an"), node_rows);
    d.loa.run(&["airlog", "verify"]).expect(0);
}

/// A raw signed request (sending the same text twice is a replay).
fn signed(key: &NodeKey, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    signed_at(key, method, path, body, Utc::now().timestamp())
}

/// [`signed`], saying it was made at `time` (seconds since 1970).
fn signed_at(key: &NodeKey, method: &str, path: &str, body: &[u8], time: i64) -> Vec<u8> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap();
    let nonce = hex::encode(nonce);
    let sig = key.sign(&auth::message(method, path, time, &nonce, body));
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{}: {}\r\n{}: {time}\r\n{}: {nonce}\r\n{}: {sig}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        auth::NODE_HEADER,
        key.public_hex(),
        auth::TIME_HEADER,
        auth::NONCE_HEADER,
        auth::SIGNATURE_HEADER,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn send(port: u16, request: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let code = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, out)
}

/// An upload of `rows` signed by `key` for `station`.
fn upload(key: &NodeKey, station: &str, rows: &[Record]) -> Vec<u8> {
    let last = rows.last().unwrap();
    let head = key.sign_head(station, last.seq, &last.row_hash, Utc::now());
    let body = serde_json::to_vec(&serde_json::json!({ "rows": rows, "head": head })).unwrap();
    signed(key, "POST", "/agent/v1/airlog", &body)
}

#[test]
fn a_node_cannot_write_another_stations_airlog_and_replays_and_forks_change_nothing() {
    let d = District::new();
    let url = format!("http://127.0.0.1:{}", d.port);
    let a = d.node("vinh-an", &url);
    let b = d.node("vinh-phuc", &url);
    let (day1, _) = days();
    render(&a, day1);
    let key_a = NodeDir::of(&a.data).key().unwrap();
    let key_b = NodeDir::of(&b.data).key().unwrap();
    let rows = rows_of(&a, "vinh-an");
    let held = rows_of(&d.loa, "vinh-an");
    assert_eq!(held, rows);

    // Node B may neither read vinh-an's manifest nor write its airlog.
    let (code, body) = send(
        d.port,
        &signed(&key_b, "GET", "/agent/v1/manifest?station=vinh-an", b""),
    );
    assert_eq!(code, 403, "{body}");
    let (code, body) = send(d.port, &upload(&key_b, "vinh-phuc", &rows));
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("vinh-an"), "{body}");
    assert!(rows_of(&d.loa, "vinh-phuc").is_empty());

    // The same rows sent again are harmless; the same request replayed is refused.
    let request = upload(&key_a, "vinh-an", &rows);
    let (code, body) = send(d.port, &request);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"stored\":0"), "{body}");
    let (code, body) = send(d.port, &request);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("replayed"), "{body}");
    assert_eq!(rows_of(&d.loa, "vinh-an"), rows);

    // A history edited on the node (a fork) is refused and nothing is overwritten.
    let mut forked = rows.clone();
    let chain = loa::agent::homeward::chain_order("vinh-an", forked.clone()).unwrap();
    let first = chain[0].seq;
    let mut prev = loa::airlog::chain::genesis("vinh-an");
    for r in chain {
        let f = forked.iter_mut().find(|x| x.seq == r.seq).unwrap();
        if f.seq == first {
            f.played_ms -= 1;
        }
        f.prev_hash = prev;
        f.row_hash = loa::airlog::chain::row_hash(f);
        prev = f.row_hash.clone();
    }
    let ordered = loa::agent::homeward::chain_order("vinh-an", forked).unwrap();
    let (code, body) = send(d.port, &upload(&key_a, "vinh-an", &ordered));
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("fork"), "{body}");
    assert_eq!(rows_of(&d.loa, "vinh-an"), rows);
    d.loa.run(&["airlog", "verify"]).expect(0);

    // An unsigned upload is not a node's.
    let (code, _) = send(
        d.port,
        b"POST /agent/v1/airlog HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert_eq!(code, 401);
}

#[test]
fn offline_a_bulletin_whose_audio_never_arrived_is_logged_as_missing_and_past_the_manifest_the_slots_are_alerted(
) {
    let d = District::new();
    let link = Proxy::to(d.port);
    let a = d.node("vinh-an", &link.url());
    let (day1, day2) = days();
    render(&a, day1);
    // One audio file never reached the cache (deleted here), and the link is down.
    let dir = NodeDir::of(&a.data);
    let kept = dir.kept_manifest().unwrap().unwrap();
    let lost = kept.manifest.media().keys().next().unwrap().to_string();
    std::fs::remove_file(dir.media_path(&lost)).unwrap();
    link.cut();
    let r = render(&a, day2);
    assert_eq!(r["slots"], 2, "{r}");
    assert!(r["past_horizon"].is_null(), "{r}");
    let rows = rows_of(&a, "vinh-an");
    let missing: Vec<&Record> = rows
        .iter()
        .filter(|r| r.level == "item" && r.sha256.as_deref() == Some(lost.as_str()))
        .filter(|r| r.planned_start > day1.to_string())
        .filter(|r| r.status.as_str() != "aired")
        .collect();
    let scheduled = missing
        .iter()
        .filter(|r| r.source.as_str() == "schedule")
        .count();
    // Both day-2 airings, and the evening's attempt to make up the morning's.
    assert_eq!(scheduled, 2, "{rows:#?}");
    assert_eq!(missing.len(), 3, "{rows:#?}");
    for m in &missing {
        assert_eq!(m.played_ms, 0);
        assert!(m.reason.stored().contains("file_missing"), "{m:?}");
        assert!(m.reason.stored().contains(&lost), "{m:?}");
    }

    // Past the days the kept manifest covers, the node still plays each slot (the
    // fallback) and says when its manifest ran out.
    let past = day1 + chrono::Duration::days(i64::from(kept.manifest.days) + 1);
    let r = render(&a, past);
    assert_eq!(r["slots"], 2, "{r}");
    let at = r["past_horizon"]
        .as_str()
        .expect("past the manifest is reported");
    assert!(at.starts_with(&past.pred_opt().unwrap().to_string()), "{r}");
}

#[test]
fn audio_damaged_on_the_way_never_plays_and_comes_whole_once_the_link_is_clean() {
    let d = District::new();
    let link = Proxy::to(d.port);
    let a = d.node("vinh-an", &link.url());
    let dir = NodeDir::of(&a.data);
    // The same number of bytes arrive, some of them wrong (a server serving the wrong
    // bytes for a hash, a broken cache on the way).
    link.corrupt
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let damaged = a.run(&["agent", "sync", "--once", "--json"]);
    assert!(
        damaged
            .stderr
            .contains("2 audio file(s) are not in the cache yet"),
        "{}",
        damaged.stderr
    );
    let damaged = damaged.expect(1).json();
    let failed = damaged["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{damaged}");
    for f in failed {
        let sha = f["sha256"].as_str().unwrap();
        assert!(
            f["reason"].as_str().unwrap().contains("hash to"),
            "{damaged}"
        );
        assert!(!dir.media_path(sha).exists(), "nothing unverified is kept");
        assert!(!dir.part_path(sha).exists(), "the bad download is deleted");
    }
    // A day played meanwhile logs its items as missing: nothing unverified is played.
    let (day1, _) = days();
    render(&a, day1);
    let items: Vec<Record> = rows_of(&a, "vinh-an")
        .into_iter()
        .filter(|r| r.level == "item")
        .collect();
    assert!(!items.is_empty());
    for r in &items {
        assert_ne!(r.status.as_str(), "aired", "{r:?}");
        assert!(r.reason.stored().contains("file_missing"), "{r:?}");
    }
    // The link is clean again: the next sync fetches both, verified.
    link.corrupt
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let clean = a
        .run(&["agent", "sync", "--once", "--json"])
        .expect(0)
        .json();
    assert_eq!(clean["fetched"].as_array().unwrap().len(), 2, "{clean}");
    assert!(clean["failed"].as_array().unwrap().is_empty());
}

#[test]
fn the_live_endpoints_answer_only_an_enrolled_node_and_only_of_its_own_station() {
    let d = District::new();
    let url = format!("http://127.0.0.1:{}", d.port);
    let a = d.node("vinh-an", &url);
    let b = d.node("vinh-phuc", &url);
    let key_a = NodeDir::of(&a.data).key().unwrap();
    let key_b = NodeDir::of(&b.data).key().unwrap();
    // Nobody unsigned.
    for (method, path) in [
        ("GET", "/agent/v1/time"),
        ("GET", "/agent/v1/events"),
        ("POST", "/agent/v1/status"),
        ("POST", "/agent/v1/announcements/1"),
    ] {
        let raw = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let (code, body) = send(d.port, raw.as_bytes());
        assert_eq!(code, 401, "{method} {path}: {body}");
    }
    // The clock answers a node whose clock is an hour off (so it can learn the time);
    // everything else refuses such a request.
    let hour_off = Utc::now().timestamp() - 3600;
    let (code, body) = send(
        d.port,
        &signed_at(&key_a, "GET", "/agent/v1/time", b"", hour_off),
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"received_ms\""), "{body}");
    let (code, body) = send(
        d.port,
        &signed_at(&key_a, "GET", "/agent/v1/airlog/head", b"", hour_off),
    );
    assert_eq!(code, 401, "{body}");
    // An announcement for vinh-an: node B cannot take it, node A can, once.
    let (code, sent) = common::daemon::raw(
        d.port,
        "POST",
        "/api/v1/stations/vinh-an/announcements",
        "0123456789abcdef0123456789abcdef",
        &format!(r#"{{"level":"normal","bulletin_id":"{}"}}"#, {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let all =
                    loa::store::Store::list_bulletins(&d.loa.store().await, &Default::default())
                        .await
                        .unwrap();
                all[0].id.to_string()
            })
        }),
    );
    assert_eq!(code, 200, "{sent}");
    let json = &sent[sent.find('{').unwrap()..=sent.rfind('}').unwrap()];
    let id = serde_json::from_str::<serde_json::Value>(json).unwrap()["announcements"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("{sent}"));
    let path = format!("/agent/v1/announcements/{id}");
    let (code, body) = send(d.port, &signed(&key_b, "POST", &path, b""));
    assert_eq!(code, 404, "another station's announcement: {body}");
    let take = signed(&key_a, "POST", &path, b"");
    let (code, body) = send(d.port, &take);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"delivered\":true"), "{body}");
    let (code, body) = send(d.port, &take);
    assert_eq!(code, 401, "a replay: {body}");
    // A report lands on the reporting node's own station.
    let report = serde_json::json!({
        "at": Utc::now(), "version": "0.1.0", "clock": null,
        "clock_state": {"state": "sane"}, "last_sync": null, "manifest": null,
        "manifest_until": null, "disk_free_mb": 1, "slot": null, "on_air": null,
        "next_slot": null, "chain_head": null, "unsent_rows": 0, "alerts": []
    })
    .to_string();
    let (code, body) = send(
        d.port,
        &signed(&key_b, "POST", "/agent/v1/status", report.as_bytes()),
    );
    assert_eq!(code, 200, "{body}");
    let status = d.loa.run(&["ctl", "status", "--json"]).expect(0).json();
    assert!(
        status["stations"]["vinh-phuc"]["node"].is_object(),
        "{status}"
    );
    assert!(status["stations"]["vinh-an"]["node"].is_null(), "{status}");
    // A report that is not one is refused, naming what is wrong.
    let (code, body) = send(
        d.port,
        &signed(&key_b, "POST", "/agent/v1/status", b"{\"at\": 5}"),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("bad report body"), "{body}");
}
