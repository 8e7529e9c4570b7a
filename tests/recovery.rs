//! Recovery on the real binary: a row left `playing` is sealed with no more than it can have
//! played, a forged open row that claims more is closed `failed` by the next start (never
//! sealed as aired), and `airlog verify` names a closed row longer than its bulletin.

mod common;

use common::Loa;
use loa::airlog::Record;
use loa::store::{AirlogStore, BulletinFilter, Store};

/// A data dir with one approved 16-second bulletin; returns it and the bulletin's id.
async fn sixteen_seconds() -> (Loa, String) {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    let f = loa.dir.path().join("tin-16s.wav");
    common::fixtures::write_wav(
        &f,
        common::fixtures::WavFormat::Pcm16,
        8_000,
        1,
        &common::fixtures::speech_like(8_000, 1, 400, 8_000 * 16 - 800, 400),
        None,
    );
    loa.run(&[
        "library",
        "add",
        f.to_str().unwrap(),
        "--kind",
        "news",
        "--topic",
        "other",
        "--approve",
    ])
    .expect(0);
    let store = loa.store().await;
    let b = store
        .list_bulletins(&BulletinFilter::default())
        .await
        .unwrap();
    store.close().await;
    assert_eq!(b[0].audio.duration_ms, 16_000);
    (loa, b[0].id.to_string())
}

/// Inserts an open item row as a forger (or a crash) leaves it.
async fn open_row(
    store: &loa::store::sqlite::SqliteStore,
    bulletin: &str,
    slot: &str,
    start: &str,
    progress: &str,
    played_ms: i64,
) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO airlog (level, station, slot_start, bulletin_id, planned_start, actual_start, actual_end, \
         played_ms, status, source, reason, who, prev_hash, row_hash) \
         VALUES ('item', 'vinh-an', ?1, ?2, ?1, ?3, ?4, ?5, 'playing', 'schedule', '', 'loa', '', '') RETURNING seq",
    )
    .bind(slot)
    .bind(bulletin)
    .bind(start)
    .bind(progress)
    .bind(played_ms)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

fn row(rows: &[Record], seq: i64) -> &Record {
    rows.iter().find(|r| r.seq == seq).unwrap()
}

#[tokio::test]
async fn a_forged_open_row_is_closed_failed_by_the_next_start_not_sealed_as_aired() {
    let (loa, id) = sixteen_seconds().await;
    let store = loa.store().await;
    // A forger's row: 600,000 ms of a 16-second bulletin, progress records to match.
    let forged = open_row(
        &store,
        &id,
        "2023-03-05T22:30:00.000Z",
        "2023-03-05T22:30:01.000Z",
        "2023-03-05T22:40:01.000Z",
        600_000,
    )
    .await;
    // A crash's row: 5 s recorded at the last progress record, 6 s after its start.
    let crashed = open_row(
        &store,
        &id,
        "2023-03-04T22:30:00.000Z",
        "2023-03-04T22:30:01.000Z",
        "2023-03-04T22:30:07.000Z",
        5_000,
    )
    .await;
    store.close().await;
    let plan = common::plan_at(
        loa.dir.path(),
        chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Asia::Ho_Chi_Minh, 2023, 3, 7, 5, 30, 0)
            .unwrap(),
    );
    // The next start.
    loa.run(&[
        "playout",
        "run",
        "--plan",
        plan.to_str().unwrap(),
        "--from",
        "2023-03-07",
        "--to",
        "2023-03-07",
        "--clock",
        "simulated",
        "--sink",
        "null",
    ])
    .expect(0);
    let store = loa.store().await;
    let rows = store.airlog(None, None, None).await.unwrap();
    let f = row(&rows, forged);
    assert_eq!(
        (f.status.as_str(), f.played_ms),
        ("failed", 0),
        "the forged row: {f:?}"
    );
    assert!(
        f.reason.stored().contains("600000") && f.reason.stored().contains("16000"),
        "the reason names what does not fit: {}",
        f.reason
    );
    let c = row(&rows, crashed);
    assert_eq!(
        (c.status.as_str(), c.played_ms),
        ("interrupted", 5_000),
        "{c:?}"
    );
    assert!(rows.iter().all(|r| r.status != "playing"));
    store.close().await;
    loa.run(&["airlog", "verify"]).expect(0);
}

#[tokio::test]
async fn verify_names_a_closed_row_that_claims_more_than_its_bulletin() {
    let (loa, id) = sixteen_seconds().await;
    let store = loa.store().await;
    // An attacker who knows the hash format appends an aired row of 600,000 ms and moves
    // the head to it: the chain holds, the length does not.
    let seq = open_row(
        &store,
        &id,
        "2023-03-05T22:30:00.000Z",
        "2023-03-05T22:30:01.000Z",
        "2023-03-05T22:40:01.000Z",
        600_000,
    )
    .await;
    let mut r = store.airlog(None, None, None).await.unwrap().remove(0);
    r.status = loa::airlog::AirStatus::Aired;
    r.prev_hash = loa::airlog::chain::genesis("vinh-an");
    r.row_hash = loa::airlog::chain::row_hash(&r);
    sqlx::query("UPDATE airlog SET status = 'aired', prev_hash = ?2, row_hash = ?3 WHERE seq = ?1")
        .bind(seq)
        .bind(&r.prev_hash)
        .bind(&r.row_hash)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO airlog_heads (station, seq, row_hash) VALUES ('vinh-an', ?1, ?2)")
        .bind(seq)
        .bind(&r.row_hash)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let out = loa.run(&["airlog", "verify"]).expect(1);
    assert!(
        out.stderr.contains(&format!("row {seq}")) && out.stderr.contains("16000 ms long"),
        "{}",
        out.stderr
    );
}
