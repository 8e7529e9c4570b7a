//! Evidence that holds (issue 10, points 1 and 4): the district key and its 0600 files, and
//! a scripted attacker who knows the airlog's hash format but not the key. Each attack on
//! a played day is caught by `loa airlog verify` and named.

mod common;

use std::path::Path;

use common::report::{block_on, played};
use common::Loa;
use loa::airlog::{chain, AirReason, AirStatus, Record};
use loa::store::sqlite::SqliteStore;
use loa::store::{AirlogStore, Store};
use sqlx::SqlitePool;

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
#[cfg(unix)]
fn init_writes_the_config_and_the_district_key_readable_by_their_owner_only() {
    let loa = Loa::init();
    assert_eq!(mode(&loa.data.join("loa.toml")), 0o600);
    let key = loa.data.join("airlog-signing.key");
    assert_eq!(mode(&key), 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("loa-ed25519-signing-key/1\n"), "{text}");
    // Again: the key is kept (its fingerprint does not change).
    let before = loa.run(&["init"]).expect(0).stderr;
    let after = loa.run(&["init"]).expect(0).stderr;
    let fp = |s: &str| {
        s.split("fingerprint ")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(fp(&before), fp(&after));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
}

#[test]
#[cfg(unix)]
fn a_key_others_can_read_is_refused_naming_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let loa = Loa::init();
    let key = loa.data.join("airlog-signing.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = loa.run(&["airlog", "verify"]);
    // No signed heads yet: verify does not need the key.
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = loa
        .run(&[
            "airlog",
            "export",
            "--format",
            "csv",
            "--from",
            "2023-03-06",
            "--to",
            "2023-03-06",
            "--out",
        ])
        .code;
    assert_eq!(out, 2, "--out needs a value");
    let file = loa.dir.path().join("x.csv");
    let out = loa.run(&[
        "airlog",
        "export",
        "--format",
        "csv",
        "--from",
        "2023-03-06",
        "--to",
        "2023-03-06",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("airlog-signing.key") && out.stderr.contains("chmod 600"),
        "{}",
        out.stderr
    );
    assert!(!file.exists(), "nothing is written without a key");
}

/// A day played at Vĩnh An with heads signed at every slot's end, copied for each attack.
fn day() -> &'static Loa {
    static DAY: std::sync::OnceLock<Loa> = std::sync::OnceLock::new();
    DAY.get_or_init(|| played("2023-03-06", "2023-03-06", Some("vinh-an")))
}

/// A fresh copy of the played day's data dir.
fn copy_of_day() -> Loa {
    let src = day();
    let loa = Loa::uninitialised();
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(&src.data)
        .arg(&loa.data)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    loa
}

/// The attacker: SQL on the database file, and the hash format (not the key).
fn attack(loa: &Loa, f: impl AsyncFnOnce(&SqliteStore)) {
    block_on(async {
        let store = loa.store().await;
        f(&store).await;
        store.close().await;
    });
}

/// A station's closed rows, read as the attacker's script reads them (the store's types).
async fn rows(store: &SqliteStore, station: &str) -> Vec<Record> {
    store
        .airlog(Some(station), None, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.row_hash.is_empty())
        .collect()
}

/// Writes rows back with their hashes recomputed in chain order from `from` on (the order
/// given), and moves the recorded head: a re-chain by someone without the key.
async fn rechain(pool: &SqlitePool, mut chain_order: Vec<Record>, from: usize) {
    let mut prev = match from {
        0 => chain::genesis(&chain_order[0].station),
        n => chain_order[n - 1].row_hash.clone(),
    };
    for r in chain_order.iter_mut().skip(from) {
        r.prev_hash = prev.clone();
        r.row_hash = chain::row_hash(r);
        prev = r.row_hash.clone();
        sqlx::query(
            "UPDATE airlog SET status = ?, played_ms = ?, reason = ?, prev_hash = ?, row_hash = ?, gain_db = ? WHERE seq = ?",
        )
        .bind(r.status.as_str())
        .bind(r.played_ms)
        .bind(r.reason.stored())
        .bind(&r.prev_hash)
        .bind(&r.row_hash)
        .bind(r.gain_db)
        .bind(r.seq)
        .execute(pool)
        .await
        .unwrap();
    }
    let last = chain_order.last().unwrap();
    sqlx::query("UPDATE airlog_heads SET seq = ?, row_hash = ? WHERE station = ?")
        .bind(last.seq)
        .bind(&last.row_hash)
        .bind(&last.station)
        .execute(pool)
        .await
        .unwrap();
}

/// The station's closed rows in chain order (following prev_hash from the genesis).
fn in_chain_order(rows: Vec<Record>) -> Vec<Record> {
    let mut out = Vec::new();
    let mut at = chain::genesis(&rows[0].station);
    while let Some(r) = rows.iter().find(|r| r.prev_hash == at) {
        at = r.row_hash.clone();
        out.push(r.clone());
    }
    assert_eq!(out.len(), rows.len());
    out
}

/// Runs `loa airlog verify` (and its --json) and returns the sentence, checking exit 1.
fn caught(loa: &Loa) -> (String, serde_json::Value) {
    let out = loa.run(&["airlog", "verify"]).expect(1);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let json = loa.run(&["airlog", "verify", "--json"]).expect(1).json();
    assert_eq!(json["ok"], false);
    (out.stderr, json)
}

#[test]
fn an_untouched_day_verifies_with_its_signed_heads() {
    let loa = copy_of_day();
    let out = loa.run(&["airlog", "verify", "--json"]).expect(0).json();
    assert!(
        out["signed_heads"]["vinh-an"].as_u64().unwrap() >= 2,
        "a head signed at every slot's end: {out}"
    );
    assert_eq!(out["key_fingerprint"].as_str().unwrap().len(), 64);
}

#[test]
fn cutting_the_last_rows_and_moving_the_head_back_is_named_truncation() {
    let loa = copy_of_day();
    attack(&loa, async |store| {
        let pool = store.pool();
        let chain = in_chain_order(rows(store, "vinh-an").await);
        let keep = &chain[chain.len() - 4];
        for cut in &chain[chain.len() - 3..] {
            sqlx::query("DELETE FROM airlog WHERE seq = ?")
                .bind(cut.seq)
                .execute(pool)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE airlog_heads SET seq = ?, row_hash = ? WHERE station = 'vinh-an'")
            .bind(keep.seq)
            .bind(&keep.row_hash)
            .execute(pool)
            .await
            .unwrap();
    });
    let (err, json) = caught(&loa);
    assert!(
        err.contains("vinh-an") && err.contains("truncated"),
        "{err}"
    );
    assert_eq!(json["station"], "vinh-an");
}

#[test]
fn a_station_deleted_with_its_head_is_named_vanished() {
    let loa = copy_of_day();
    attack(&loa, async |store| {
        let pool = store.pool();
        sqlx::query("DELETE FROM airlog WHERE station = 'vinh-an'")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM airlog_heads WHERE station = 'vinh-an'")
            .execute(pool)
            .await
            .unwrap();
    });
    let (err, _) = caught(&loa);
    assert!(err.contains("vinh-an") && err.contains("vanished"), "{err}");
}

#[test]
fn a_failed_row_made_aired_and_rechained_is_named_a_rewrite() {
    let loa = copy_of_day();
    attack(&loa, async |store| {
        let pool = store.pool();
        let mut chain = in_chain_order(rows(store, "vinh-an").await);
        let at = chain
            .iter()
            .position(|r| r.status == AirStatus::Failed && r.level == "item")
            .expect("a failed row (the deleted article)");
        chain[at].status = AirStatus::Aired;
        chain[at].played_ms = 30_000;
        chain[at].reason = AirReason::none();
        rechain(pool, chain, at).await;
    });
    let (err, _) = caught(&loa);
    assert!(
        err.contains("vinh-an") && err.contains("rewritten"),
        "{err}"
    );
}

#[test]
fn two_rows_swapped_and_rechained_are_named_a_rewrite() {
    let loa = copy_of_day();
    attack(&loa, async |store| {
        let pool = store.pool();
        let mut chain = in_chain_order(rows(store, "vinh-an").await);
        chain.swap(1, 2);
        rechain(pool, chain, 1).await;
    });
    let (err, _) = caught(&loa);
    assert!(err.contains("rewritten"), "{err}");
}

#[test]
fn a_forged_open_row_claiming_more_than_its_bulletin_is_named() {
    let loa = copy_of_day();
    attack(&loa, async |store| {
        let pool = store.pool();
        let r = rows(store, "vinh-an").await;
        let item = r
            .iter()
            .find(|r| r.level == "item" && r.status == AirStatus::Aired)
            .unwrap();
        sqlx::query(
            "INSERT INTO airlog (station, slot_start, bulletin_id, sha256, planned_start, actual_start, \
             played_ms, status, source, reason, who, prev_hash, row_hash, level) \
             VALUES ('vinh-an', ?, ?, ?, ?, ?, 600000, 'playing', 'schedule', '', 'loa', '', '', 'item')",
        )
        .bind(&item.slot_start)
        .bind(&item.bulletin_id)
        .bind(&item.sha256)
        .bind(&item.planned_start)
        .bind(&item.actual_start)
        .execute(pool)
        .await
        .unwrap();
    });
    let (err, json) = caught(&loa);
    assert!(
        err.contains("open row") && err.contains("600000 ms") && err.contains("forged"),
        "{err}"
    );
    assert!(json["seq"].as_i64().is_some());
}

#[test]
fn a_gain_changed_below_the_old_rounding_is_named_an_edit() {
    let loa = copy_of_day();
    let mut edited = 0;
    attack(&loa, async |store| {
        let pool = store.pool();
        let r = rows(store, "vinh-an").await;
        let item = r.iter().find(|r| r.gain_db.is_some()).unwrap();
        edited = item.seq;
        sqlx::query("UPDATE airlog SET gain_db = gain_db + 0.001 WHERE seq = ?")
            .bind(item.seq)
            .execute(pool)
            .await
            .unwrap();
    });
    let (err, json) = caught(&loa);
    assert!(
        err.contains(&format!("row {edited}")) && err.contains("edited"),
        "{err}"
    );
    assert_eq!(json["seq"], edited);
}

#[test]
fn a_head_forged_with_another_key_is_named() {
    let loa = copy_of_day();
    attack(&loa, async |store| {
        let pool = store.pool();
        let other = loa::airlog::key::DistrictKey::from_seed([9; 32]);
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, row_hash FROM airlog_heads WHERE station = 'vinh-an'")
                .fetch_one(pool)
                .await
                .unwrap();
        let h = loa::airlog::signed::SignedHead::sign(
            &other,
            "vinh-an",
            seq,
            &hash,
            chrono::Utc::now(),
        );
        sqlx::query(
            "INSERT INTO airlog_signed_heads (station, seq, row_hash, signed_at, key_fingerprint, signature) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&h.station)
        .bind(h.seq)
        .bind(&h.row_hash)
        .bind(&h.signed_at)
        .bind(&h.key_fingerprint)
        .bind(&h.signature)
        .execute(pool)
        .await
        .unwrap();
        // And the table refuses edits of what is there.
        assert!(sqlx::query("DELETE FROM airlog_signed_heads")
            .execute(pool)
            .await
            .is_err());
    });
    let (err, _) = caught(&loa);
    assert!(err.contains("signature"), "{err}");
}
