//! The store suite: the same tests against SQLite (always) and PostgreSQL (when
//! `LOA_TEST_DATABASE_URL` names a server; each test gets a fresh database there).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use loa::airlog::{AirReason, AirStatus, CueSource, Reason};
use loa::lang::Render;
use loa::library::edit::{EditError, Field, MetaEdit};
use loa::library::{
    ApprovalState, AudioFacts, Bulletin, BulletinId, BulletinMeta, Kind, Priority, StateChange,
    Topic,
};
use loa::store::postgres::PgStore;
use loa::store::sqlite::SqliteStore;
use loa::store::{Added, BulletinFilter, Store, StoreError};

/// A store under test and what it needs to be torn down or reached under.
enum Backend {
    /// The temporary folder lives as long as the store.
    Sqlite(SqliteStore, #[allow(dead_code)] tempfile::TempDir),
    Postgres(PgStore, String, String),
}

impl Backend {
    fn store(&self) -> Arc<dyn Store> {
        match self {
            Backend::Sqlite(s, _) => Arc::new(s.clone()),
            Backend::Postgres(s, _, _) => Arc::new(s.clone()),
        }
    }

    /// Inserts an airlog row pointing at `id`, as playout will.
    async fn air(&self, id: &BulletinId) {
        let q = "INSERT INTO airlog (station, slot_start, bulletin_id, planned_start, status, source, who, prev_hash, row_hash) \
                 VALUES ('vinh-hung', '2023-03-06T22:30:00.000Z', $1, '2023-03-06T22:30:00.000Z', 'aired', 'schedule', 'loa', '', '')";
        match self {
            Backend::Sqlite(s, _) => {
                sqlx::query(&q.replace('$', "?"))
                    .bind(id.as_str())
                    .execute(s.pool())
                    .await
                    .unwrap();
            }
            Backend::Postgres(s, _, _) => {
                sqlx::query(q)
                    .bind(id.as_str())
                    .execute(s.pool())
                    .await
                    .unwrap();
            }
        }
    }

    /// Runs raw SQL under the store, as someone tampering with the database would.
    async fn exec(&self, q: &str) {
        match self {
            Backend::Sqlite(s, _) => {
                sqlx::query(q).execute(s.pool()).await.unwrap();
            }
            Backend::Postgres(s, _, _) => {
                sqlx::query(q).execute(s.pool()).await.unwrap();
            }
        }
    }

    /// Runs raw SQL under the store; the database's answer.
    async fn try_exec(&self, q: &str) -> Result<(), sqlx::Error> {
        match self {
            Backend::Sqlite(s, _) => sqlx::query(q).execute(s.pool()).await.map(|_| ()),
            Backend::Postgres(s, _, _) => sqlx::query(q).execute(s.pool()).await.map(|_| ()),
        }
    }

    async fn teardown(self) {
        if let Backend::Postgres(store, admin_url, db) = self {
            store.pool().close().await;
            let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

async fn sqlite() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("loa.db")).await.unwrap();
    Some(Backend::Sqlite(store, dir))
}

/// A fresh database on the test server, or `None` when no server is configured (which is
/// an error under CI, so the PostgreSQL suite cannot silently not run there).
async fn postgres() -> Option<Backend> {
    let Ok(admin_url) = std::env::var("LOA_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set LOA_TEST_DATABASE_URL so the PostgreSQL store suite runs"
        );
        eprintln!("LOA_TEST_DATABASE_URL is not set: PostgreSQL store tests skipped");
        return None;
    };
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let db = format!(
        "loa_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        Utc::now().timestamp_micros()
    );
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL names a database");
    let store = PgStore::open(&format!("{base}/{db}")).await.unwrap();
    Some(Backend::Postgres(store, admin_url, db))
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A bulletin whose audio hash is `sha` (64 hex digits).
fn bulletin(sha: &str, title: &str, kind: Kind, topic: Topic) -> Bulletin {
    Bulletin {
        id: BulletinId::from_sha256(sha),
        meta: BulletinMeta {
            title: title.into(),
            kind,
            topic,
            priority: Priority::Normal,
            producer: "Phòng Văn hóa - Thông tin".into(),
            language: "vi".into(),
            valid_from: NaiveDate::from_ymd_opt(2023, 1, 1),
            valid_until: None,
            stations: vec!["vinh-hung".into(), "vinh-tien".into()],
            notes: "Ghi chú".into(),
        },
        audio: AudioFacts {
            sha256: sha.into(),
            size_bytes: 123_456,
            codec: "mp3".into(),
            container: "mp3".into(),
            sample_rate: 44_100,
            channels: 2,
            duration_ms: 61_234,
            frames: 2_700_419,
            loudness_lufs: Some(-17.25),
            loudness_range_lu: Some(6.5),
            true_peak_dbtp: None,
            leading_silence_ms: 120,
            trailing_silence_ms: 0,
            tag_title: Some("Tin cải cách hành chính".into()),
            tag_artist: None,
        },
        audio_path: format!("{}/{}.mp3", &sha[..2], &sha[2..]),
        original_name: "tin-cchc.mp3".into(),
        state: ApprovalState::Draft,
        added: StateChange {
            by: "Nguyễn Văn An".into(),
            at: at("2023-03-01T01:02:03.456Z"),
        },
        approved: None,
        retired: None,
    }
}

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A station's chain of `n` closed item rows as a node writes them.
fn agent_chain(station: &str, n: usize) -> Vec<loa::airlog::Record> {
    let mut prev = loa::airlog::chain::genesis(station);
    (0..n)
        .map(|i| {
            let mut r = loa::airlog::Record {
                seq: i as i64 + 1,
                level: "item".into(),
                station: station.into(),
                slot_start: "2023-03-06T22:30:00.000000Z".into(),
                bulletin_id: None,
                sha256: Some("ab".repeat(32)),
                planned_start: format!("2023-03-06T22:3{i}:00.000000Z"),
                actual_start: Some(format!("2023-03-06T22:3{i}:00.000000Z")),
                actual_end: Some(format!("2023-03-06T22:3{i}:30.000000Z")),
                played_ms: 30_000,
                status: loa::airlog::AirStatus::Aired,
                source: loa::airlog::CueSource::Schedule,
                reason: loa::airlog::AirReason::none(),
                gain_db: Some(-0.1 - 0.2),
                who: "loa".into(),
                link_seq: None,
                prev_hash: prev.clone(),
                row_hash: String::new(),
            };
            r.row_hash = loa::airlog::chain::row_hash(&r);
            prev = r.row_hash.clone();
            r
        })
        .collect()
}

macro_rules! store_suite {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn every_change_to_a_bulletin_moves_the_library_version_and_the_catalogue_follows() {
                use loa::library::catalogue::Catalogue;
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let catalogue = Catalogue::new(s.clone());
                let who = StateChange {
                    by: "Nguyễn Văn An".into(),
                    at: at("2023-03-02T01:00:00Z"),
                };
                let empty = catalogue.snapshot().await.unwrap();
                assert!(empty.is_empty());
                let mut seen = vec![s.library_version().await.unwrap()];
                fn moved(seen: &mut Vec<i64>, v: i64, what: &str) {
                    assert!(v > *seen.last().unwrap(), "{what}: the version stayed at {v}");
                    seen.push(v);
                }
                let one = bulletin(&sha(21), "Thủ tục hành chính", Kind::News, Topic::Documents);
                let two = bulletin(&sha(22), "Dịch vụ công trực tuyến", Kind::Spot, Topic::EProcedures);
                s.add_bulletins(&[one.clone(), two.clone()]).await.unwrap();
                moved(&mut seen, s.library_version().await.unwrap(), "add");
                let after_add = catalogue.snapshot().await.unwrap();
                assert_eq!(after_add.version(), *seen.last().unwrap());
                let titles: Vec<&str> = after_add.in_title_order().map(|b| b.meta.title.as_str()).collect();
                assert_eq!(titles, ["Dịch vụ công trực tuyến", "Thủ tục hành chính"]);
                // Nothing changed: the same snapshot, not read again.
                assert!(Arc::ptr_eq(&after_add, &catalogue.snapshot().await.unwrap()));
                // The same audio again adds nothing; the version may move, the catalogue stays whole.
                s.add_bulletins(std::slice::from_ref(&one)).await.unwrap();
                assert_eq!(catalogue.snapshot().await.unwrap().len(), 2);
                seen.push(s.library_version().await.unwrap());
                s.set_state(&one.id, ApprovalState::Approved, &who).await.unwrap();
                moved(&mut seen, s.library_version().await.unwrap(), "approve");
                let snap = catalogue.snapshot().await.unwrap();
                assert_eq!(snap.get(&one.id).unwrap().state, ApprovalState::Approved);
                let approved = BulletinFilter {
                    state: Some(ApprovalState::Approved),
                    ..Default::default()
                };
                assert_eq!(snap.filtered(&approved).count(), 1);
                let edit = MetaEdit {
                    title: Some("Án lệ về thủ tục".into()),
                    ..MetaEdit::default()
                };
                s.edit_bulletin(&one.id, &edit, &who).await.unwrap();
                moved(&mut seen, s.library_version().await.unwrap(), "edit");
                let snap = catalogue.snapshot().await.unwrap();
                assert_eq!(
                    snap.in_title_order().map(|b| b.meta.title.as_str()).collect::<Vec<_>>(),
                    ["Án lệ về thủ tục", "Dịch vụ công trực tuyến"]
                );
                s.set_state(&one.id, ApprovalState::Retired, &who).await.unwrap();
                moved(&mut seen, s.library_version().await.unwrap(), "retire");
                assert_eq!(
                    catalogue.snapshot().await.unwrap().get(&one.id).unwrap().state,
                    ApprovalState::Retired
                );
                s.remove_bulletin(&two.id).await.unwrap();
                moved(&mut seen, s.library_version().await.unwrap(), "remove");
                let snap = catalogue.snapshot().await.unwrap();
                assert_eq!((snap.len(), snap.get(&two.id).is_none()), (1, true));
                // A refused change (a bulletin that aired) leaves the catalogue as it was.
                b.air(&one.id).await;
                assert!(s.remove_bulletin(&one.id).await.is_err());
                assert_eq!(catalogue.snapshot().await.unwrap().len(), 1);
                b.teardown().await;
            }

            #[tokio::test]
            async fn an_enrolment_token_enrols_one_node_once_a_newer_node_replaces_it_and_revoke_ends_it() {
                use loa::store::{EnrolRefusal, NewEnrolToken, Revoked};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let t0 = at("2026-12-06T03:00:00Z");
                let min = |m: i64| t0 + chrono::Duration::minutes(m);
                for h in ["h1", "h2", "h3"] {
                    s.add_enrol_token(&NewEnrolToken {
                        token_hash: h.into(),
                        station: "vinh-an".into(),
                        created_by: "Nguyễn Văn An".into(),
                        created_at: t0,
                        expires_at: min(60),
                    })
                    .await
                    .unwrap();
                }
                let (k1, k2, k3) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
                let n1 = s.redeem_enrol_token("h1", &k1, min(1)).await.unwrap().unwrap();
                assert_eq!((n1.station.as_str(), n1.revoked_at), ("vinh-an", None));
                assert_eq!(s.redeem_enrol_token("h1", &k2, min(1)).await.unwrap(), Err(EnrolRefusal::Used));
                assert_eq!(s.redeem_enrol_token("nope", &k2, min(1)).await.unwrap(), Err(EnrolRefusal::Unknown));
                assert_eq!(s.redeem_enrol_token("h2", &k1, min(1)).await.unwrap(), Err(EnrolRefusal::KeyTaken));
                assert_eq!(s.redeem_enrol_token("h2", &k2, min(61)).await.unwrap(), Err(EnrolRefusal::Expired));
                // The refusals changed nothing: h2 still enrols, and replaces the first node.
                let n2 = s.redeem_enrol_token("h2", &k2, min(2)).await.unwrap().unwrap();
                let nodes = s.station_nodes("vinh-an").await.unwrap();
                assert_eq!(nodes.len(), 2);
                assert_eq!(nodes[0].public_key, k1);
                assert_eq!(nodes[0].revoked_at, Some(min(2)));
                assert_eq!(s.node(&k2).await.unwrap(), Some(n2));
                assert_eq!(s.node(&k3).await.unwrap(), None);
                let r = s.revoke_station("vinh-an", min(3)).await.unwrap();
                assert_eq!(r, Revoked { nodes: 1, tokens: 1 });
                assert_eq!(s.node(&k2).await.unwrap().unwrap().revoked_at, Some(min(3)));
                assert_eq!(s.redeem_enrol_token("h3", &k3, min(4)).await.unwrap(), Err(EnrolRefusal::Unknown));
                assert_eq!(s.revoke_station("vinh-an", min(5)).await.unwrap(), Revoked::default());
                b.teardown().await;
            }

            #[tokio::test]
            async fn announcements_are_kept_waiting_then_aired_with_their_row_or_cancelled_once() {
                use loa::store::{AnnouncementState, NewAnnouncement};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let t0 = at("2026-12-06T03:00:00Z");
                let id = |n: char| -> BulletinId { n.to_string().repeat(12).parse().unwrap() };
                let new = |station: &str, bulletin: BulletinId, level: Priority| NewAnnouncement {
                    station: station.into(),
                    bulletin,
                    level,
                    who: "Nguyễn Văn An".into(),
                    sent_at: t0,
                };
                let ids = s
                    .add_announcements(&[
                        new("vinh-an", id('a'), Priority::Normal),
                        new("vinh-tien", id('a'), Priority::Normal),
                        new("vinh-an", id('b'), Priority::Priority),
                    ])
                    .await
                    .unwrap();
                assert_eq!(ids.len(), 3);
                assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");
                let waiting = |station| {
                    let s = s.clone();
                    async move {
                        s.announcements(Some(station), Some(AnnouncementState::Waiting))
                            .await
                            .unwrap()
                    }
                };
                let an = waiting("vinh-an").await;
                assert_eq!(an.iter().map(|a| a.id).collect::<Vec<_>>(), [ids[0], ids[2]]);
                assert_eq!(an[1].bulletin, id('b'));
                assert_eq!(an[1].level, Priority::Priority);
                assert_eq!(an[0].who, "Nguyễn Văn An");
                assert_eq!(at(&an[0].sent_at), t0);
                assert_eq!((an[0].state, an[0].airlog_seq), (AnnouncementState::Waiting, None));
                // Aired: marked with its row, once; a cancel after that changes nothing.
                let later = t0 + chrono::Duration::hours(3);
                assert!(s
                    .end_announcement(ids[0], AnnouncementState::Aired, "loa", later, Some(41))
                    .await
                    .unwrap());
                assert!(!s
                    .end_announcement(ids[0], AnnouncementState::Cancelled, "x", later, None)
                    .await
                    .unwrap());
                let aired = s.announcement(ids[0]).await.unwrap().unwrap();
                assert_eq!(aired.state, AnnouncementState::Aired);
                assert_eq!(aired.airlog_seq, Some(41));
                assert_eq!(aired.ended_by.as_deref(), Some("loa"));
                assert_eq!(aired.ended_at.as_deref().map(at), Some(later));
                // Cancelled by an operator.
                assert!(s
                    .end_announcement(ids[1], AnnouncementState::Cancelled, "Chị Lan", later, None)
                    .await
                    .unwrap());
                assert!(waiting("vinh-tien").await.is_empty());
                assert_eq!(waiting("vinh-an").await.len(), 1);
                let all = s.announcements(None, None).await.unwrap();
                assert_eq!(
                    all.iter().map(|a| a.state).collect::<Vec<_>>(),
                    [
                        AnnouncementState::Aired,
                        AnnouncementState::Cancelled,
                        AnnouncementState::Waiting
                    ]
                );
                assert_eq!(s.announcement(ids[2] + 100).await.unwrap(), None);
                assert_eq!(s.add_announcements(&[]).await.unwrap(), Vec::<i64>::new());
                b.teardown().await;
            }

            #[tokio::test]
            async fn signed_heads_append_read_back_and_refuse_changes_and_pages_carry_exact_gains()
            {
                use loa::store::{Closing, NewRow};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let key = loa::airlog::key::DistrictKey::from_seed([5; 32]);
                let start = at("2023-03-05T22:30:00Z");
                let item = NewRow {
                    level: loa::airlog::Level::Item,
                    station: "vinh-an".into(),
                    slot_start: start,
                    bulletin_id: None,
                    sha256: None,
                    planned_start: start,
                    actual_start: Some(start),
                    source: loa::airlog::CueSource::Manual,
                    reason: loa::airlog::AirReason::none(),
                    gain_db: Some(7.399999999999999),
                    who: "Nguyễn Văn An".into(),
                    link_seq: None,
                };
                let done = |ms: u64| Closing {
                    status: loa::airlog::AirStatus::Aired,
                    actual_end: Some(start + chrono::Duration::milliseconds(ms as i64)),
                    played_ms: ms,
                    reason: loa::airlog::AirReason::none(),
                };
                assert_eq!(s.chain_head("vinh-an").await.unwrap(), None);
                let first = s.record(&item, &done(1_234)).await.unwrap();
                let linked = NewRow {
                    link_seq: Some(first.seq),
                    gain_db: Some(-0.1 - 0.2),
                    ..item.clone()
                };
                s.record(&linked, &done(2_000)).await.unwrap();
                // (A gain on a slot row is not what playout writes; it shows that the
                // packed read of slot rows keeps every field to the last bit.)
                let slot = NewRow {
                    level: loa::airlog::Level::Slot,
                    gain_db: Some(-0.1 - 0.2),
                    ..item.clone()
                };
                let slot_row = s.record(&slot, &done(3_234)).await.unwrap();
                let head = s.chain_head("vinh-an").await.unwrap().unwrap();
                assert_eq!(head, (slot_row.seq, slot_row.row_hash.clone()));
                let now = at("2023-03-05T22:31:00Z");
                let signed = loa::airlog::signed::sign_head(s.as_ref(), &key, "vinh-an", now)
                    .await
                    .unwrap()
                    .expect("a new head is signed");
                assert!(
                    loa::airlog::signed::sign_head(s.as_ref(), &key, "vinh-an", now)
                        .await
                        .unwrap()
                        .is_none(),
                    "an unchanged head is not signed twice"
                );
                assert_eq!(
                    s.signed_heads("vinh-an").await.unwrap(),
                    vec![signed.clone()]
                );
                assert_eq!(s.latest_signed_head("vinh-an").await.unwrap(), Some(signed));
                assert_eq!(
                    s.signed_stations().await.unwrap(),
                    vec!["vinh-an".to_string()]
                );
                let slots = s.chain_slot_rows("vinh-an", start, now).await.unwrap();
                assert_eq!(slots, vec![slot_row]);
                // Export pages carry what the row hash covers, the gain to the last bit.
                let page = s
                    .export_page("vinh-an", start, now, None, 10)
                    .await
                    .unwrap();
                let got: Vec<_> = page
                    .rows()
                    .map(|r| (r.gain_db, r.who.to_string(), r.link_seq))
                    .collect();
                assert_eq!(
                    got,
                    vec![
                        (Some(7.399999999999999), "Nguyễn Văn An".to_string(), None),
                        (
                            Some(-0.1 - 0.2),
                            "Nguyễn Văn An".to_string(),
                            Some(first.seq)
                        ),
                    ]
                );
                let v = loa::airlog::verify::verify_with_key(s.as_ref(), Ok(key.public()))
                    .await
                    .unwrap();
                assert_eq!(v.signed_heads["vinh-an"], 1);
                for q in [
                    "UPDATE airlog_signed_heads SET seq = 1",
                    "DELETE FROM airlog_signed_heads",
                ] {
                    assert!(b.try_exec(q).await.is_err(), "{q} is refused");
                }
                b.teardown().await;
            }

            #[tokio::test]
            async fn a_nodes_rows_are_appended_verbatim_after_the_held_head_and_never_changed() {
                use loa::store::{AgentAppend, Appended, NewEnrolToken};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let key = loa::airlog::key::DistrictKey::from_seed([9; 32]);
                let node = key.public().hex();
                let t0 = at("2026-12-06T03:00:00Z");
                s.add_enrol_token(&NewEnrolToken {
                    token_hash: "h".into(),
                    station: "vinh-an".into(),
                    created_by: "Nguyễn Văn An".into(),
                    created_at: t0,
                    expires_at: t0 + chrono::Duration::hours(1),
                })
                .await
                .unwrap();
                s.redeem_enrol_token("h", &node, t0).await.unwrap().unwrap();
                let rows = agent_chain("vinh-an", 4);
                let sign = |r: &loa::airlog::Record| {
                    loa::airlog::signed::SignedHead::sign(&key, "vinh-an", r.seq, &r.row_hash, t0)
                };
                let h1 = sign(&rows[1]);
                let first = AgentAppend {
                    station: "vinh-an",
                    node: &node,
                    after: None,
                    rows: &rows[..2],
                    clock_offsets_ms: &[Some(120), None],
                    signed: &h1,
                    received_at: "2026-12-06T03:00:00.000000Z",
                };
                assert_eq!(s.append_agent_rows(&first).await.unwrap(), Appended::Stored);
                assert_eq!(
                    s.chain_head("vinh-an").await.unwrap(),
                    Some((rows[1].seq, rows[1].row_hash.clone()))
                );
                // The same append again finds the head moved: nothing is stored twice.
                assert_eq!(s.append_agent_rows(&first).await.unwrap(), Appended::HeadMoved);
                assert_eq!(
                    s.agent_held("vinh-an", 1, 9).await.unwrap().len(),
                    2
                );
                let h3 = sign(&rows[3]);
                let second = AgentAppend {
                    after: Some((rows[1].seq, &rows[1].row_hash)),
                    rows: &rows[2..],
                    clock_offsets_ms: &[],
                    signed: &h3,
                    ..first
                };
                // The same upload twice at once (a node retrying while its first request is
                // still being stored): one is stored, the other finds the head moved.
                let (x, y) = tokio::join!(s.append_agent_rows(&second), s.append_agent_rows(&second));
                let mut got = [x.unwrap(), y.unwrap()];
                got.sort_by_key(|a| a == &Appended::HeadMoved);
                assert_eq!(got, [Appended::Stored, Appended::HeadMoved]);
                // Read back exactly, beside the district's own rows, by every reader.
                assert_eq!(s.airlog(Some("vinh-an"), None, None).await.unwrap(), rows);
                assert_eq!(s.airlog_stations().await.unwrap(), vec!["vinh-an".to_string()]);
                let page = s
                    .airlog_page("vinh-an", at("2023-03-06T00:00:00Z"), at("2023-03-08T00:00:00Z"), None, 10)
                    .await
                    .unwrap();
                assert_eq!(page, rows);
                // The node's signed heads verify with its own key (no district key needed).
                let v = loa::airlog::verify::verify_with_key(s.as_ref(), Err("none".into()))
                    .await
                    .unwrap();
                assert_eq!(v.signed_heads["vinh-an"], 2);
                assert_eq!(v.stations["vinh-an"], 4);
                // Each row keeps the clock offset its node sent with it.
                let offsets: Vec<Option<i64>> = s
                    .agent_clock_offsets("vinh-an")
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(_, o)| o)
                    .collect();
                assert_eq!(offsets, vec![Some(120), None, None, None]);
                // A node's status report replaces its station's last one.
                for (i, offset) in [(0, Some(3_000)), (1, None)] {
                    s.keep_node_report(&loa::store::KeptReport {
                        station: "vinh-an".into(),
                        node: node.clone(),
                        received_at: t0 + chrono::Duration::minutes(i),
                        clock_offset_ms: offset,
                        report: format!("{{\"n\":{i}}}"),
                    })
                    .await
                    .unwrap();
                }
                let kept = s.node_reports().await.unwrap();
                assert_eq!(kept.len(), 1);
                assert_eq!(kept[0].received_at, t0 + chrono::Duration::minutes(1));
                assert_eq!((kept[0].clock_offset_ms, kept[0].report.as_str()), (None, "{\"n\":1}"));
                for q in [
                    "UPDATE agent_airlog SET played_ms = 1",
                    "DELETE FROM agent_airlog",
                ] {
                    assert!(b.try_exec(q).await.is_err(), "{q} is refused");
                }
                b.teardown().await;
            }

            #[tokio::test]
            async fn a_bulletin_reads_back_exactly_as_it_was_added() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let new = bulletin(
                    &sha(1),
                    "Tin: Dịch vụ công trực tuyến",
                    Kind::News,
                    Topic::EProcedures,
                );
                let added = s.add_bulletins(std::slice::from_ref(&new)).await.unwrap();
                assert_eq!(added, vec![Added::New(new.clone())]);
                assert_eq!(s.bulletin(&new.id).await.unwrap(), Some(new.clone()));
                assert_eq!(s.bulletin_by_sha256(&sha(1)).await.unwrap(), Some(new));
                b.teardown().await;
            }

            #[tokio::test]
            async fn adding_the_same_audio_twice_returns_the_existing_bulletin_unchanged() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let first = bulletin(&sha(2), "Bài một", Kind::Article, Topic::Documents);
                s.add_bulletins(std::slice::from_ref(&first)).await.unwrap();
                let mut again = first.clone();
                again.meta.title = "Another title".into();
                let added = s.add_bulletins(&[again]).await.unwrap();
                assert_eq!(added, vec![Added::Existing(first.clone())]);
                assert_eq!(
                    s.list_bulletins(&BulletinFilter::default()).await.unwrap(),
                    vec![first]
                );
                b.teardown().await;
            }

            #[tokio::test]
            async fn a_batch_with_one_bad_row_stores_nothing() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let good = bulletin(&sha(3), "Tốt", Kind::News, Topic::Other);
                // Same id (first 12 hex digits) as `good`, different audio: the primary key refuses it.
                let clash_sha = format!("{}{}", &sha(3)[..12], "f".repeat(52));
                let clash = bulletin(&clash_sha, "Trùng mã", Kind::News, Topic::Other);
                let other = bulletin(&sha(4), "Khác", Kind::Spot, Topic::Other);
                let err = s.add_bulletins(&[other, good, clash]).await.unwrap_err();
                assert!(matches!(err, StoreError::Db(_)), "{err}");
                assert!(s
                    .list_bulletins(&BulletinFilter::default())
                    .await
                    .unwrap()
                    .is_empty());
                b.teardown().await;
            }

            #[tokio::test]
            async fn listing_filters_by_kind_topic_and_state() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let news = bulletin(&sha(5), "Tin", Kind::News, Topic::Documents);
                let col = bulletin(&sha(6), "Chuyên mục", Kind::Column, Topic::Examples);
                let spot = bulletin(&sha(7), "Khẩu hiệu", Kind::Spot, Topic::Documents);
                s.add_bulletins(&[news.clone(), col.clone(), spot.clone()])
                    .await
                    .unwrap();
                let by = StateChange {
                    by: "op".into(),
                    at: at("2023-03-02T00:00:00Z"),
                };
                s.set_state(&col.id, ApprovalState::Approved, &by)
                    .await
                    .unwrap();
                let ids = |v: Vec<Bulletin>| v.into_iter().map(|b| b.id).collect::<Vec<_>>();
                let f = |kind, topic, state| BulletinFilter { kind, topic, state };
                assert_eq!(
                    ids(s
                        .list_bulletins(&f(Some(Kind::News), None, None))
                        .await
                        .unwrap()),
                    vec![news.id.clone()]
                );
                assert_eq!(
                    ids(s
                        .list_bulletins(&f(None, Some(Topic::Documents), None))
                        .await
                        .unwrap()),
                    vec![news.id.clone(), spot.id.clone()]
                );
                assert_eq!(
                    ids(s
                        .list_bulletins(&f(None, None, Some(ApprovalState::Approved)))
                        .await
                        .unwrap()),
                    vec![col.id.clone()]
                );
                assert!(s
                    .list_bulletins(&f(Some(Kind::Column), None, Some(ApprovalState::Draft)))
                    .await
                    .unwrap()
                    .is_empty());
                b.teardown().await;
            }

            #[tokio::test]
            async fn approval_and_retirement_record_who_and_when() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let x = bulletin(&sha(8), "Bài", Kind::Article, Topic::ProcedureControl);
                s.add_bulletins(std::slice::from_ref(&x)).await.unwrap();
                let approve = StateChange {
                    by: "Trần Thị Bình".into(),
                    at: at("2023-03-02T08:00:00Z"),
                };
                let a = s
                    .set_state(&x.id, ApprovalState::Approved, &approve)
                    .await
                    .unwrap();
                assert_eq!(a.state, ApprovalState::Approved);
                assert_eq!(a.approved, Some(approve.clone()));
                let again = s
                    .set_state(&x.id, ApprovalState::Approved, &approve)
                    .await
                    .unwrap_err();
                assert!(matches!(again, StoreError::BadTransition { .. }), "{again}");
                let retire = StateChange {
                    by: "Lê Văn Cường".into(),
                    at: at("2023-06-30T10:00:00Z"),
                };
                let r = s
                    .set_state(&x.id, ApprovalState::Retired, &retire)
                    .await
                    .unwrap();
                assert_eq!(r.state, ApprovalState::Retired);
                assert_eq!(r.retired, Some(retire));
                assert_eq!(r.approved, Some(approve));
                let missing: BulletinId = "000000000000".parse().unwrap();
                let err = s
                    .set_state(&missing, ApprovalState::Approved, &r.added)
                    .await
                    .unwrap_err();
                assert!(matches!(err, StoreError::NotFound(_)), "{err}");
                b.teardown().await;
            }

            #[tokio::test]
            async fn every_build_of_a_week_is_kept_as_a_new_version() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let by = StateChange {
                    by: "loa".into(),
                    at: at("2023-03-03T01:00:00Z"),
                };
                let week = |name: &str| loa::schedule::StationWeek {
                    code: name.into(),
                    name: "Xã Vĩnh An".into(),
                    slots: vec![],
                    skipped_slots: vec![],
                    empty_slots: vec![],
                    compliance: vec![],
                };
                assert_eq!(
                    s.save_weeks(
                        "2023-W10",
                        "Kế hoạch",
                        None,
                        &[week("vinh-an"), week("vinh-hung")],
                        &by
                    )
                    .await
                    .unwrap(),
                    vec![1, 1]
                );
                let mut second = week("vinh-an");
                second.name = "Vĩnh An (v2)".into();
                assert_eq!(
                    s.save_weeks("2023-W10", "Kế hoạch", None, &[second.clone()], &by)
                        .await
                        .unwrap(),
                    vec![2]
                );
                let latest = s.latest_weeks("2023-W10", None).await.unwrap();
                assert_eq!(latest.len(), 2);
                assert_eq!(
                    (latest[0].station.as_str(), latest[0].version),
                    ("vinh-an", 2)
                );
                assert_eq!(latest[0].body, second);
                assert_eq!(latest[0].built, by);
                assert_eq!(
                    s.latest_weeks("2023-W10", Some("vinh-hung")).await.unwrap()[0].version,
                    1
                );
                assert!(s.latest_weeks("2023-W11", None).await.unwrap().is_empty());
                b.teardown().await;
            }

            #[tokio::test]
            async fn a_save_over_a_version_no_longer_the_latest_is_refused_and_keeps_nothing() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let by = StateChange {
                    by: "nguyenvan".into(),
                    at: at("2023-03-03T01:00:00Z"),
                };
                let mut week = loa::schedule::StationWeek {
                    code: "vinh-an".into(),
                    name: "Xã Vĩnh An".into(),
                    slots: vec![],
                    skipped_slots: vec![],
                    empty_slots: vec![],
                    compliance: vec![],
                };
                // Over none kept (0), then over version 1.
                assert_eq!(
                    s.save_weeks_expecting("2023-W10", "Kế hoạch", None, &[week.clone()], &by, Some(0))
                        .await
                        .unwrap(),
                    vec![1]
                );
                week.name = "Vĩnh An (v2)".into();
                assert_eq!(
                    s.save_weeks_expecting("2023-W10", "Kế hoạch", None, &[week.clone()], &by, Some(1))
                        .await
                        .unwrap(),
                    vec![2]
                );
                // Someone who still saw version 1 is refused, and version 2 stays the latest.
                let mut late = week.clone();
                late.name = "muộn".into();
                let err = s
                    .save_weeks_expecting("2023-W10", "Kế hoạch", None, &[late.clone()], &by, Some(1))
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, StoreError::StaleWeek { expected: 1, found: 2, station, .. } if station == "vinh-an"),
                    "{err}"
                );
                let latest = s.latest_weeks("2023-W10", Some("vinh-an")).await.unwrap();
                assert_eq!((latest[0].version, latest[0].body.name.as_str()), (2, "Vĩnh An (v2)"));
                assert_eq!(s.versions("2023-W10", "vinh-an").await.unwrap(), vec![1, 2]);
                // Two saves over the same version at once: one is kept, the other refused.
                let (one, two) = ([week.clone()], [late.clone()]);
                let (a, c) = tokio::join!(
                    s.save_weeks_expecting("2023-W10", "Kế hoạch", None, &one, &by, Some(2)),
                    s.save_weeks_expecting("2023-W10", "Kế hoạch", None, &two, &by, Some(2)),
                );
                let kept = [&a, &c].iter().filter(|r| r.is_ok()).count();
                assert_eq!(kept, 1, "{a:?} {c:?}");
                assert!([&a, &c].iter().any(|r| matches!(r, Err(StoreError::StaleWeek { .. }))), "{a:?} {c:?}");
                assert_eq!(s.versions("2023-W10", "vinh-an").await.unwrap(), vec![1, 2, 3]);
                b.teardown().await;
            }

            #[tokio::test]
            async fn an_edited_week_and_its_pin_are_kept_together_or_not_at_all() {
                use loa::store::{PinAction, PinEdit};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let by = StateChange {
                    by: "Trần Thị Lan".into(),
                    at: at("2023-03-03T01:00:00Z"),
                };
                let week = loa::schedule::StationWeek {
                    code: "vinh-an".into(),
                    name: "Xã Vĩnh An".into(),
                    slots: vec![],
                    skipped_slots: vec![],
                    empty_slots: vec![],
                    compliance: vec![],
                };
                s.save_weeks("2023-W10", "Kế hoạch", None, std::slice::from_ref(&week), &by)
                    .await
                    .unwrap();
                let pinned_one = bulletin(&sha(31), "Tin CCHC", Kind::News, Topic::Documents);
                s.add_bulletins(std::slice::from_ref(&pinned_one)).await.unwrap();
                let pin = loa::schedule::Pin {
                    station: "vinh-an".into(),
                    slot_start: at("2023-03-06T22:30:00Z"),
                    bulletin: pinned_one.id,
                };
                // A pin the database refuses (a bulletin it does not have) keeps no week.
                let stranger = loa::schedule::Pin {
                    bulletin: BulletinId::from_sha256(&sha(32)),
                    ..pin.clone()
                };
                let refused = PinEdit { pin: &stranger, action: Some(PinAction::Pin) };
                assert!(s
                    .save_edited_week("2023-W10", "Kế hoạch", None, &week, &by, 1, refused)
                    .await
                    .is_err());
                assert_eq!(s.versions("2023-W10", "vinh-an").await.unwrap(), vec![1]);
                let pinned = |action| PinEdit { pin: &pin, action };
                // Over a version no longer the latest: neither the week nor the pin.
                let err = s
                    .save_edited_week("2023-W10", "Kế hoạch", None, &week, &by, 0, pinned(Some(PinAction::Pin)))
                    .await
                    .unwrap_err();
                assert!(matches!(err, StoreError::StaleWeek { found: 1, .. }), "{err}");
                assert!(s.pins("2023-W10").await.unwrap().is_empty());
                assert_eq!(s.versions("2023-W10", "vinh-an").await.unwrap(), vec![1]);
                // Over the latest: both.
                let v = s
                    .save_edited_week("2023-W10", "Kế hoạch", None, &week, &by, 1, pinned(Some(PinAction::Pin)))
                    .await
                    .unwrap();
                assert_eq!(v, 2);
                let pins = s.pins("2023-W10").await.unwrap();
                assert_eq!(pins.len(), 1);
                assert_eq!((pins[0].action, &pins[0].pin), (PinAction::Pin, &pin));
                // Unpinned over a stale version: the pin stays; over the latest: it goes.
                assert!(s
                    .save_edited_week("2023-W10", "Kế hoạch", None, &week, &by, 1, pinned(None))
                    .await
                    .is_err());
                assert_eq!(s.pins("2023-W10").await.unwrap().len(), 1);
                s.save_edited_week("2023-W10", "Kế hoạch", None, &week, &by, 2, pinned(None))
                    .await
                    .unwrap();
                assert!(s.pins("2023-W10").await.unwrap().is_empty());
                assert_eq!(s.versions("2023-W10", "vinh-an").await.unwrap(), vec![1, 2, 3]);
                b.teardown().await;
            }

            #[tokio::test]
            async fn plans_are_kept_once_per_text_and_weeks_name_the_version_they_were_built_by() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let t0 = at("2023-03-03T01:00:00Z");
                let v1 = s.keep_plan("Kế hoạch 2023", "a = 1\n", "aa11", t0).await.unwrap();
                let again = s
                    .keep_plan("Kế hoạch 2023", "a = 1\n", "aa11", at("2023-03-04T01:00:00Z"))
                    .await
                    .unwrap();
                let v2 = s
                    .keep_plan("Kế hoạch 2023 (sửa)", "a = 2\n", "bb22", t0)
                    .await
                    .unwrap();
                assert_eq!((v1, again, v2), (1, 1, 2));
                let kept = s.kept_plan(2).await.unwrap().unwrap();
                assert_eq!(
                    (kept.version, kept.sha256.as_str(), kept.content.as_str()),
                    (2, "bb22", "a = 2\n")
                );
                assert_eq!(s.kept_plan(3).await.unwrap(), None);
                let by = StateChange {
                    by: "loa".into(),
                    at: t0,
                };
                let week = |code: &str| loa::schedule::StationWeek {
                    code: code.into(),
                    name: code.into(),
                    slots: vec![],
                    skipped_slots: vec![],
                    empty_slots: vec![],
                    compliance: vec![],
                };
                s.save_weeks("2023-W09", "Kế hoạch 2023", Some(1), &[week("vinh-an")], &by)
                    .await
                    .unwrap();
                s.save_weeks("2023-W10", "Kế hoạch 2023", Some(1), &[week("vinh-an")], &by)
                    .await
                    .unwrap();
                // Rebuilt under the changed plan: the latest version counts.
                s.save_weeks("2023-W10", "Kế hoạch 2023 (sửa)", Some(2), &[week("vinh-an")], &by)
                    .await
                    .unwrap();
                s.save_weeks("2023-W11", "Kế hoạch 2023 (sửa)", Some(2), &[week("vinh-an")], &by)
                    .await
                    .unwrap();
                // A week kept before plans were: no version.
                s.save_weeks("2023-W12", "cũ", None, &[week("vinh-an")], &by)
                    .await
                    .unwrap();
                let latest = s.latest_weeks("2023-W10", None).await.unwrap();
                assert_eq!(latest[0].plan_version, Some(2));
                assert_eq!(
                    s.latest_weeks("2023-W12", None).await.unwrap()[0].plan_version,
                    None
                );
                let weeks = s.week_plans("2023-W09", "2023-W12").await.unwrap();
                let got: Vec<(&str, u32)> = weeks
                    .iter()
                    .map(|w| (w.week.as_str(), w.plan_version))
                    .collect();
                assert_eq!(got, vec![("2023-W09", 1), ("2023-W10", 2), ("2023-W11", 2)]);
                assert_eq!(s.week_plans("2023-W10", "2023-W10").await.unwrap().len(), 1);
                let history = s.plan_history().await.unwrap();
                assert_eq!(history.len(), 2);
                assert_eq!(
                    (
                        history[0].version,
                        history[0].sha256.as_str(),
                        history[0].name.as_str(),
                        history[0].stored_at,
                        history[0].first_week.as_deref(),
                        history[0].last_week.as_deref(),
                    ),
                    (1, "aa11", "Kế hoạch 2023", t0, Some("2023-W09"), Some("2023-W10"))
                );
                assert_eq!(
                    (history[1].first_week.as_deref(), history[1].last_week.as_deref()),
                    (Some("2023-W10"), Some("2023-W11"))
                );
                b.teardown().await;
            }

            #[tokio::test]
            async fn old_versions_are_pruned_unless_the_week_is_locked_or_aired() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let x = bulletin(&sha(12), "Đã phát", Kind::News, Topic::Other);
                s.add_bulletins(std::slice::from_ref(&x)).await.unwrap();
                // The airlog row is vinh-hung's, at 2023-03-06T22:30Z.
                b.air(&x.id).await;
                let by = StateChange {
                    by: "loa".into(),
                    at: at("2023-03-03T01:00:00Z"),
                };
                let start = DateTime::parse_from_rfc3339("2023-03-07T05:30:00+07:00").unwrap();
                let week = |code: &str| loa::schedule::StationWeek {
                    code: code.into(),
                    name: code.into(),
                    slots: vec![loa::schedule::SlotPlaylist {
                        name: "Sáng".into(),
                        start,
                        length_s: 1800,
                        cchc_s: 480,
                        items: vec![],
                    }],
                    skipped_slots: vec![],
                    empty_slots: vec![],
                    compliance: vec![],
                };
                s.lock_weeks("2023-W10", &["vinh-yen".to_string()], &by)
                    .await
                    .unwrap();
                for _ in 0..5 {
                    s.save_weeks(
                        "2023-W10",
                        "Kế hoạch",
                        None,
                        &[week("vinh-an"), week("vinh-hung"), week("vinh-yen")],
                        &by,
                    )
                    .await
                    .unwrap();
                }
                assert_eq!(
                    s.versions("2023-W10", "vinh-an").await.unwrap(),
                    vec![3, 4, 5],
                    "neither locked nor aired: the latest {} kept",
                    loa::store::schedules::KEEP_VERSIONS
                );
                assert_eq!(
                    s.versions("2023-W10", "vinh-hung").await.unwrap(),
                    vec![1, 2, 3, 4, 5],
                    "aired"
                );
                assert_eq!(
                    s.versions("2023-W10", "vinh-yen").await.unwrap(),
                    vec![1, 2, 3, 4, 5],
                    "locked"
                );
                assert_eq!(s.latest_weeks("2023-W10", None).await.unwrap().len(), 3);
                b.teardown().await;
            }

            #[tokio::test]
            async fn pins_replace_each_other_and_locks_are_per_station() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let x = bulletin(&sha(11), "Ghim", Kind::News, Topic::Other);
                s.add_bulletins(std::slice::from_ref(&x)).await.unwrap();
                let by = StateChange {
                    by: "op".into(),
                    at: at("2023-03-03T02:00:00Z"),
                };
                let pin = loa::schedule::Pin {
                    station: "vinh-an".into(),
                    slot_start: at("2023-03-05T22:30:00Z"),
                    bulletin: x.id.clone(),
                };
                s.set_pin("2023-W10", &pin, loa::store::PinAction::Pin, &by)
                    .await
                    .unwrap();
                s.set_pin("2023-W10", &pin, loa::store::PinAction::Exclude, &by)
                    .await
                    .unwrap();
                let pins = s.pins("2023-W10").await.unwrap();
                assert_eq!(pins.len(), 1);
                assert_eq!(pins[0].action, loa::store::PinAction::Exclude);
                assert_eq!(pins[0].pin, pin);
                assert!(s.delete_pin(&pin).await.unwrap());
                assert!(!s.delete_pin(&pin).await.unwrap());
                let stations = vec!["vinh-an".to_string(), "vinh-hung".to_string()];
                s.lock_weeks("2023-W10", &stations, &by).await.unwrap();
                s.lock_weeks("2023-W10", &stations[..1], &by).await.unwrap();
                assert_eq!(s.locks("2023-W10").await.unwrap().len(), 2);
                s.unlock_weeks("2023-W10", &stations[1..]).await.unwrap();
                let locks = s.locks("2023-W10").await.unwrap();
                assert_eq!(locks.len(), 1);
                assert_eq!(
                    (locks[0].station.as_str(), &locks[0].locked),
                    ("vinh-an", &by)
                );
                b.teardown().await;
            }

            #[tokio::test]
            async fn airlog_rows_close_into_a_chain_that_verifies_and_catches_tampering() {
                use loa::store::{Closing, NewRow};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let x = bulletin(&sha(12), "Đã phát", Kind::News, Topic::Other);
                s.add_bulletins(std::slice::from_ref(&x)).await.unwrap();
                let row = |n: i64| NewRow {
                    level: loa::airlog::Level::Item,
                    station: "vinh-an".into(),
                    slot_start: at("2023-03-05T22:30:00Z"),
                    bulletin_id: Some(x.id.to_string()),
                    sha256: Some(x.audio.sha256.clone()),
                    planned_start: at("2023-03-05T22:30:00Z") + chrono::Duration::seconds(n * 60),
                    actual_start: Some(
                        at("2023-03-05T22:30:00Z") + chrono::Duration::seconds(n * 60),
                    ),
                    source: CueSource::Schedule,
                    reason: AirReason::none(),
                    gain_db: Some(1.5),
                    who: "loa".into(),
                    link_seq: None,
                };
                let aired = |ms: u64| Closing {
                    status: AirStatus::Aired,
                    actual_end: Some(at("2023-03-05T22:40:00Z")),
                    played_ms: ms,
                    reason: AirReason::none(),
                };
                let mut seqs = Vec::new();
                for n in 0..3 {
                    let seq = s.open_row(&row(n)).await.unwrap();
                    s.progress(seq, 1000, at("2023-03-05T22:31:00Z"))
                        .await
                        .unwrap();
                    let closed = s.close_row(seq, &aired(61_000)).await.unwrap();
                    assert_eq!(closed.played_ms, 61_000);
                    seqs.push(seq);
                }
                let skipped = Closing {
                    status: AirStatus::Failed,
                    actual_end: None,
                    played_ms: 0,
                    reason: "file missing".into(),
                };
                let failed = s.record(&row(3), &skipped).await.unwrap();
                assert_eq!(failed.status, "failed");
                // The slot instance's own row joins the same chain.
                let slot = NewRow {
                    level: loa::airlog::Level::Slot,
                    bulletin_id: None,
                    sha256: None,
                    gain_db: None,
                    reason: "Bản tin sáng".into(),
                    ..row(0)
                };
                let partial = Closing {
                    status: AirStatus::Partial,
                    actual_end: Some(at("2023-03-05T22:40:00Z")),
                    played_ms: 183_000,
                    reason: "3 of 4 item(s) aired, 1 failed".into(),
                };
                let slot_row = s.record(&slot, &partial).await.unwrap();
                assert_eq!(slot_row.level, "slot");
                assert_eq!(
                    slot_row.reason,
                    "Bản tin sáng; 3 of 4 item(s) aired, 1 failed"
                );
                let open = s.open_row(&row(4)).await.unwrap();
                assert_eq!(s.open_rows().await.unwrap().len(), 1);
                let v = loa::airlog::verify::verify(s.as_ref()).await.unwrap();
                assert_eq!((v.stations["vinh-an"], v.open), (5, 1));
                // A slot row passed off as an item row is an edit.
                b.exec(&format!(
                    "UPDATE airlog SET level = 'item' WHERE seq = {}",
                    slot_row.seq
                ))
                .await;
                let err = loa::airlog::verify::verify(s.as_ref())
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(&format!("row {}", slot_row.seq)), "{err}");
                b.exec(&format!(
                    "UPDATE airlog SET level = 'slot' WHERE seq = {}",
                    slot_row.seq
                ))
                .await;
                s.close_row(open, &aired(1)).await.unwrap();
                assert!(
                    s.close_row(open, &aired(1)).await.is_err(),
                    "a closed row stays closed"
                );
                loa::airlog::verify::verify(s.as_ref()).await.unwrap();
                // Edit a row under the store: caught, naming it.
                b.exec(&format!(
                    "UPDATE airlog SET played_ms = 60000 WHERE seq = {}",
                    seqs[1]
                ))
                .await;
                let err = loa::airlog::verify::verify(s.as_ref())
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains(&format!("row {}", seqs[1])) && err.contains("edited"),
                    "{err}"
                );
                b.exec(&format!(
                    "UPDATE airlog SET played_ms = 61000 WHERE seq = {}",
                    seqs[1]
                ))
                .await;
                loa::airlog::verify::verify(s.as_ref()).await.unwrap();
                // Delete a row: caught at the next one.
                b.exec(&format!("DELETE FROM airlog WHERE seq = {}", seqs[1]))
                    .await;
                let err = loa::airlog::verify::verify(s.as_ref())
                    .await
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(&format!("row {}", seqs[2])), "{err}");
                b.teardown().await;
            }

            #[tokio::test]
            async fn typed_words_read_back_as_written_and_an_unknown_status_names_its_row() {
                use loa::store::{Closing, NewRow};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let row = NewRow {
                    level: loa::airlog::Level::Slot,
                    station: "vinh-an".into(),
                    slot_start: at("2023-03-05T22:30:00Z"),
                    bulletin_id: None,
                    sha256: None,
                    planned_start: at("2023-03-05T22:30:00Z"),
                    actual_start: Some(at("2023-03-05T22:30:00Z")),
                    source: CueSource::Urgent,
                    reason: AirReason::one(Reason::Slot {
                        name: "Bản tin sáng".into(),
                    }),
                    gain_db: None,
                    who: "Nguyễn Văn An".into(),
                    link_seq: None,
                };
                let seq = s.open_row(&row).await.unwrap();
                let closing = Closing::new(
                    AirStatus::Partial,
                    Some(at("2023-03-05T22:40:00Z")),
                    12_000,
                    AirReason::of(vec![
                        Reason::JoinedLate { at_ms: 12_000 },
                        Reason::CutAtSlotEnd,
                    ]),
                );
                let closed = s.close_row(seq, &closing).await.unwrap();
                let back = s.airlog(Some("vinh-an"), None, None).await.unwrap();
                assert_eq!(back, vec![closed.clone()]);
                assert_eq!(back[0].status, AirStatus::Partial);
                assert_eq!(back[0].source, CueSource::Urgent);
                assert_eq!(back[0].reason.slot_name(), Some("Bản tin sáng"));
                assert_eq!(
                    back[0].reason.render(loa::lang::Lang::Vi),
                    "Bản tin sáng; vào muộn, phát từ 0:12.000; bị cắt khi hết khung giờ"
                );
                loa::airlog::verify::verify(s.as_ref()).await.unwrap();
                b.exec(&format!(
                    "UPDATE airlog SET status = 'AIRED' WHERE seq = {seq}"
                ))
                .await;
                let err = s.airlog(Some("vinh-an"), None, None).await.unwrap_err();
                assert_eq!(
                    err.to_string(),
                    format!("airlog row {seq} in the database is unreadable: status 'AIRED' is not one of: playing, aired, partial, skipped, failed, interrupted")
                );
                b.teardown().await;
            }

            #[tokio::test]
            async fn export_pages_walk_closed_rows_in_order_and_read_back_packed() {
                use loa::store::{Closing, ExportFields, ExportPage, NewRow};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let x = bulletin(&sha(13), "Trang", Kind::News, Topic::Other);
                s.add_bulletins(std::slice::from_ref(&x)).await.unwrap();
                let start = at("2023-03-05T22:30:00Z");
                let row = |n: i64| NewRow {
                    level: loa::airlog::Level::Item,
                    station: "vinh-an".into(),
                    slot_start: start,
                    bulletin_id: (n != 2).then(|| x.id.to_string()),
                    sha256: (n != 3).then(|| x.audio.sha256.clone()),
                    planned_start: start + chrono::Duration::seconds(n * 60),
                    actual_start: None,
                    source: CueSource::Schedule,
                    reason: AirReason::none(),
                    gain_db: None,
                    who: "loa".into(),
                    link_seq: None,
                };
                for n in [3, 0, 4, 1, 2] {
                    let closing = Closing {
                        status: AirStatus::Failed,
                        actual_end: None,
                        played_ms: 0,
                        // The packed format's own separators, and none at all.
                        reason: match n {
                            4 => AirReason::none(),
                            _ => AirReason::parse(&format!(
                                "tệp \"{n}\", mất; lỗi\u{1f}x 12:ab\n3 :"
                            )),
                        },
                    };
                    s.record(&row(n), &closing).await.unwrap();
                }
                s.open_row(&row(5)).await.unwrap();
                let slot = NewRow {
                    level: loa::airlog::Level::Slot,
                    bulletin_id: None,
                    ..row(0)
                };
                let closing = Closing {
                    status: AirStatus::Failed,
                    actual_end: None,
                    played_ms: 0,
                    reason: AirReason::none(),
                };
                s.record(&slot, &closing).await.unwrap();
                let (from, to) = (start, start + chrono::Duration::hours(1));
                let mut full = Vec::new();
                let mut packed: Vec<ExportPage> = Vec::new();
                let mut after: Option<(String, i64)> = None;
                loop {
                    let a = after.as_ref().map(|(t, q)| (t.as_str(), *q));
                    let page = s.airlog_page("vinh-an", from, to, a, 2).await.unwrap();
                    packed.push(s.export_page("vinh-an", from, to, a, 2).await.unwrap());
                    let Some(last) = page.last() else { break };
                    after = Some((last.planned_start.clone(), last.seq));
                    full.extend(page);
                }
                assert_eq!(full.len(), 5, "the open row and the slot row are left out");
                // The count an export's progress bar starts from: the same rows.
                assert_eq!(s.count_item_rows("vinh-an", from, to).await.unwrap(), 5);
                let later = start + chrono::Duration::seconds(150);
                assert_eq!(s.count_item_rows("vinh-an", later, to).await.unwrap(), 2);
                assert_eq!(s.count_item_rows("vinh-hung", from, to).await.unwrap(), 0);
                let starts: Vec<&str> = full.iter().map(|r| r.planned_start.as_str()).collect();
                assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
                assert_eq!(
                    packed.len(),
                    4,
                    "three pages of two, two and one, then none"
                );
                let rows: Vec<ExportFields> = packed.iter().flat_map(|p| p.rows()).collect();
                let expected: Vec<ExportFields> = full.iter().map(Into::into).collect();
                assert_eq!(rows, expected);
                assert_eq!(rows[2].bulletin_id, None);
                assert_eq!(rows[3].sha256, None);
                assert_eq!(rows[4].reason, "");
                assert!(rows[0].reason.contains("\u{1f}x 12:ab\n3 :"));
                b.teardown().await;
            }

            #[tokio::test]
            async fn a_bulletin_that_has_aired_cannot_be_removed() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let aired = bulletin(&sha(9), "Đã phát", Kind::News, Topic::Other);
                let never = bulletin(&sha(10), "Chưa phát", Kind::News, Topic::Other);
                s.add_bulletins(&[aired.clone(), never.clone()])
                    .await
                    .unwrap();
                b.air(&aired.id).await;
                assert_eq!(s.airing_count(&aired.id).await.unwrap(), 1);
                let airings = s.bulletin_airings(&aired.id, 10).await.unwrap();
                assert_eq!(airings.len(), 1);
                assert_eq!(airings[0].bulletin_id.as_deref(), Some(aired.id.as_str()));
                assert!(s.bulletin_airings(&never.id, 10).await.unwrap().is_empty());
                assert!(s.bulletin_airings(&aired.id, 0).await.unwrap().is_empty());
                let err = s.remove_bulletin(&aired.id).await.unwrap_err();
                assert!(
                    matches!(err, StoreError::HasAired { count: 1, .. }),
                    "{err}"
                );
                assert!(err.to_string().contains("retire"), "{err}");
                assert!(s.bulletin(&aired.id).await.unwrap().is_some());
                assert_eq!(s.remove_bulletin(&never.id).await.unwrap(), never);
                assert!(s.bulletin(&never.id).await.unwrap().is_none());
                b.teardown().await;
            }

            #[tokio::test]
            async fn an_edit_after_airing_changes_the_metadata_and_records_who_changed_what() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let aired = bulletin(&sha(11), "Tiêu đề sai", Kind::News, Topic::Other);
                s.add_bulletins(std::slice::from_ref(&aired)).await.unwrap();
                b.air(&aired.id).await;
                let edit = MetaEdit {
                    title: Some("Tiêu đề đúng".into()),
                    valid_until: Some(NaiveDate::from_ymd_opt(2023, 12, 31)),
                    stations: Some(vec!["vinh-an".into()]),
                    notes: Some(String::new()),
                    ..MetaEdit::default()
                };
                let who = StateChange {
                    by: "Nguyễn Văn A".into(),
                    at: at("2023-03-20T01:02:03.456789Z"),
                };
                let edited = s.edit_bulletin(&aired.id, &edit, &who).await.unwrap();
                assert_eq!(edited.bulletin.meta.title, "Tiêu đề đúng");
                assert_eq!(
                    edited.changes.iter().map(|c| c.field).collect::<Vec<_>>(),
                    vec![
                        Field::Title,
                        Field::ValidUntil,
                        Field::Stations,
                        Field::Notes
                    ]
                );
                let mut expected = aired.clone();
                expected.meta.title = "Tiêu đề đúng".into();
                expected.meta.valid_until = NaiveDate::from_ymd_opt(2023, 12, 31);
                expected.meta.stations = vec!["vinh-an".into()];
                expected.meta.notes = String::new();
                assert_eq!(s.bulletin(&aired.id).await.unwrap(), Some(expected));
                let history = s.bulletin_edits(&aired.id).await.unwrap();
                assert_eq!(history.len(), 4);
                assert_eq!(history[0].change.old, "Tiêu đề sai");
                assert_eq!(history[0].change.new, "Tiêu đề đúng");
                assert_eq!(history[1].change.new, "2023-12-31");
                assert_eq!(history[2].change.old, "vinh-hung,vinh-tien");
                assert_eq!(history[2].change.new, "vinh-an");
                assert_eq!(history[3].change.old, "Ghi chú");
                assert_eq!(history[3].change.new, "");
                assert!(history
                    .iter()
                    .all(|h| h.by == "Nguyễn Văn A" && h.at == who.at));
                assert_eq!(s.airing_count(&aired.id).await.unwrap(), 1);
                b.teardown().await;
            }

            #[tokio::test]
            async fn an_edit_that_would_break_the_metadata_or_names_no_bulletin_changes_nothing() {
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let one = bulletin(&sha(12), "Một", Kind::News, Topic::Other);
                s.add_bulletins(std::slice::from_ref(&one)).await.unwrap();
                let who = StateChange {
                    by: "x".into(),
                    at: at("2023-03-20T00:00:00Z"),
                };
                let long = MetaEdit {
                    title: Some("ữ".repeat(201)),
                    producer: Some("Phòng mới".into()),
                    ..MetaEdit::default()
                };
                let err = s.edit_bulletin(&one.id, &long, &who).await.unwrap_err();
                assert!(matches!(err, EditError::Text { .. }), "{err}");
                let missing = BulletinId::from_sha256(&sha(13));
                let err = s.edit_bulletin(&missing, &long, &who).await.unwrap_err();
                assert!(matches!(err, EditError::NotFound(_)), "{err}");
                assert_eq!(s.bulletin(&one.id).await.unwrap(), Some(one.clone()));
                assert!(s.bulletin_edits(&one.id).await.unwrap().is_empty());
                b.teardown().await;
            }

            #[tokio::test]
            async fn accounts_tokens_sessions_and_their_audit_entries_are_kept_and_chained() {
                use loa::access::audit::{verify, AuditDraft};
                use loa::access::{Action, Grant, Role, UserName};
                use loa::store::{NewSession, NewUser, UserError};
                let Some(b) = super::$backend().await else {
                    return;
                };
                let s = b.store();
                let t0 = at("2026-12-05T01:00:00Z");
                let name = UserName::parse("Nguye\u{302}\u{303}n Va\u{306}n An").unwrap();
                let new = NewUser {
                    name: name.clone(),
                    grant: Grant::new(Role::Commune, &["vinh-tien".into(), "vinh-an".into()])
                        .unwrap(),
                    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                };
                let entry = |action, t| AuditDraft::cli(t, "Quản trị", action, name.as_str());
                let added = s.add_user(&new, &entry(Action::UserAdd, t0)).await.unwrap();
                assert_eq!(added.name.as_str(), "Nguyễn Văn An");
                assert_eq!(added.grant.stations, vec!["vinh-an", "vinh-tien"]);
                assert_eq!((added.created_by.as_str(), added.created_at), ("Quản trị", t0));
                assert!(!added.disabled());
                assert_eq!(s.user(&name).await.unwrap(), Some(added.clone()));
                let err = s.add_user(&new, &entry(Action::UserAdd, t0)).await.unwrap_err();
                assert!(matches!(err, UserError::Duplicate(_)), "{err}");
                let viewer = NewUser {
                    name: UserName::parse("noivu").unwrap(),
                    grant: Grant::new(Role::Viewer, &[]).unwrap(),
                    password_hash: "x".into(),
                };
                s.add_user(&viewer, &entry(Action::UserAdd, t0)).await.unwrap();
                assert_eq!(s.users().await.unwrap().len(), 2);

                let t1 = at("2026-12-05T02:00:00Z");
                s.set_password(&name, "$argon2id$new", &entry(Action::UserPasswd, t1))
                    .await
                    .unwrap();
                assert_eq!(
                    s.password_hash(&name).await.unwrap().as_deref(),
                    Some("$argon2id$new")
                );
                s.add_token(&name, &"ab".repeat(32), &entry(Action::TokenIssue, t1))
                    .await
                    .unwrap();
                assert_eq!(
                    s.token_user(&"ab".repeat(32)).await.unwrap().map(|u| u.name),
                    Some(name.clone())
                );
                assert_eq!(s.token_user(&"cd".repeat(32)).await.unwrap(), None);
                let session = NewSession {
                    token_hash: "ef".repeat(32),
                    user: name.clone(),
                    created_at: t1,
                    expires_at: at("2026-12-05T03:00:00Z"),
                    address: Some("192.0.2.7".into()),
                };
                s.add_session(&session).await.unwrap();
                assert!(s.session_user(&"ef".repeat(32), t1).await.unwrap().is_some());
                s.renew_session(
                    &"ef".repeat(32),
                    at("2026-12-05T02:50:00Z"),
                    at("2026-12-05T03:10:00Z"),
                )
                .await
                .unwrap();
                assert!(
                    s.session_user(&"ef".repeat(32), at("2026-12-05T03:05:00Z"))
                        .await
                        .unwrap()
                        .is_some(),
                    "a renewed session lives on past its first end"
                );
                // A renewal within a minute of the last is not written: the end stays 03:10.
                s.renew_session(
                    &"ef".repeat(32),
                    at("2026-12-05T02:50:30Z"),
                    at("2026-12-05T03:10:30Z"),
                )
                .await
                .unwrap();
                assert!(
                    s.session_user(&"ef".repeat(32), at("2026-12-05T03:10:00Z"))
                        .await
                        .unwrap()
                        .is_none(),
                    "an expired session names no one"
                );
                s.renew_session(
                    &"ef".repeat(32),
                    at("2026-12-05T03:10:00Z"),
                    at("2026-12-05T04:00:00Z"),
                )
                .await
                .unwrap();
                assert!(
                    s.session_user(&"ef".repeat(32), at("2026-12-05T03:20:00Z"))
                        .await
                        .unwrap()
                        .is_none(),
                    "an expired session is not brought back"
                );
                let t2 = at("2026-12-05T02:30:00Z");
                let disabled = s
                    .disable_user(&name, &entry(Action::UserDisable, t2))
                    .await
                    .unwrap();
                assert_eq!(disabled.disabled_at, Some(t2));
                assert_eq!(s.token_user(&"ab".repeat(32)).await.unwrap(), None);
                assert!(s.session_user(&"ef".repeat(32), t2).await.unwrap().is_none());
                assert!(!s.end_session(&"ef".repeat(32)).await.unwrap(), "ended by disabling");
                let err = s
                    .add_token(&name, &"12".repeat(32), &entry(Action::TokenIssue, t2))
                    .await
                    .unwrap_err();
                assert!(matches!(err, UserError::Disabled(_)), "{err}");
                let ghost = UserName::parse("không có").unwrap();
                let err = s
                    .disable_user(&ghost, &entry(Action::UserDisable, t2))
                    .await
                    .unwrap_err();
                assert!(matches!(err, UserError::Unknown(_)), "{err}");

                // A standalone entry, with every optional field.
                let mut login = AuditDraft::cli(t2, "noivu", Action::Login, "");
                login.role = Some(Role::Viewer);
                login.station = Some("vinh-an".into());
                login.address = Some("192.0.2.8".into());
                s.append_audit(&login).await.unwrap();

                let entries = s.audit_entries(None).await.unwrap();
                let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
                assert_eq!(
                    actions,
                    ["user_add", "user_add", "user_passwd", "token_issue", "user_disable", "login"]
                );
                assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
                assert!(entries[0].after.as_deref().unwrap().contains("vinh-tien"));
                assert_eq!(entries[5].role.as_deref(), Some("viewer"));
                let head = s.audit_head().await.unwrap();
                assert_eq!(head, (6, entries[5].entry_hash.clone()));
                assert_eq!(verify(&entries, (head.0, &head.1)), Ok(()));
                assert_eq!(s.audit_entries(Some(t1)).await.unwrap().len(), 4);

                // Tampering under the store is caught.
                b.exec("UPDATE audit_log SET actor = 'ai đó' WHERE seq = 4").await;
                let entries = s.audit_entries(None).await.unwrap();
                assert_eq!(
                    verify(&entries, (head.0, &head.1)).map_err(|e| e.seq()),
                    Err(4)
                );
                b.teardown().await;
            }
        }
    };
}

store_suite!(sqlite);
store_suite!(postgres);

#[tokio::test]
async fn sqlite_runs_with_wal_foreign_keys_and_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    assert_eq!(sync, 2, "synchronous=FULL");
    assert!(busy >= 5000);
    drop(conn);
    store.pool().close().await;
    // Opening again applies no migration twice and keeps the data.
    let again = SqliteStore::open(&path).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert_eq!(n as usize, files);
}

#[tokio::test]
async fn postgres_refuses_a_second_daemon_for_a_station_another_one_holds() {
    let Some(b) = postgres().await else {
        return;
    };
    let Backend::Postgres(first, admin_url, db) = &b else {
        unreachable!()
    };
    let (base, _) = admin_url.rsplit_once('/').expect("URL names a database");
    let second = PgStore::open(&format!("{base}/{db}")).await.unwrap();
    let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let held = first
        .claim_stations(
            &codes(&["vinh-an", "vinh-hung"]),
            "loa serve PID 4242 on huyen, API http://127.0.0.1:7010",
        )
        .await
        .unwrap();
    assert!(held.holds_locks());
    let err = second
        .claim_stations(&codes(&["vinh-tien", "vinh-an"]), "loa serve PID 7")
        .await
        .unwrap_err();
    match &err {
        StoreError::Claimed { station, holder } => {
            assert_eq!(station, "vinh-an");
            assert!(
                holder.contains("PID 4242") && holder.contains("7010"),
                "{holder}"
            );
        }
        other => panic!("{other}"),
    }
    // The refused claim kept nothing (vinh-tien is free), and other stations are free.
    let tien = second
        .claim_stations(&codes(&["vinh-tien"]), "loa serve PID 7")
        .await
        .unwrap();
    held.release().await;
    let an = second
        .claim_stations(&codes(&["vinh-an"]), "loa serve PID 7")
        .await
        .unwrap();
    tien.release().await;
    an.release().await;
    second.pool().close().await;
    b.teardown().await;
}

#[tokio::test]
async fn an_sqlite_claim_holds_nothing_the_data_dir_lock_keeps_a_second_daemon_out() {
    let Some(b) = sqlite().await else {
        return;
    };
    let s = b.store();
    let stations = vec!["vinh-an".to_string()];
    let one = s
        .claim_stations(&stations, "loa serve PID 1")
        .await
        .unwrap();
    let two = s
        .claim_stations(&stations, "loa serve PID 2")
        .await
        .unwrap();
    assert!(!one.holds_locks() && !two.holds_locks());
    b.teardown().await;
}

/// The migrations of `backend` but 0007, in a temporary folder: a database migrated from it
/// is one that had 0008 before 0007 existed.
fn migrations_without_0007(backend: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if !name.to_string_lossy().starts_with("0007") {
            std::fs::copy(e.path(), dir.path().join(name)).unwrap();
        }
    }
    dir
}

const OLD_WEEK: &str = "INSERT INTO schedules (week, station, version, plan, built_at, built_by, body) \
     VALUES ('2023-W10', 'vinh-an', 1, 'cũ', '2023-03-03T01:00:00.000Z', 'loa', \
     '{\"code\":\"vinh-an\",\"name\":\"Xã Vĩnh An\",\"slots\":[],\"skipped_slots\":[],\"compliance\":[]}')";

#[tokio::test]
async fn sqlite_applies_0007_to_a_database_that_already_has_0008() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loa.db");
    let old = migrations_without_0007("sqlite");
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        sqlx::migrate::Migrator::new(old.path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(OLD_WEEK).execute(&pool).await.unwrap();
        pool.close().await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let s: &dyn Store = &store;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(applied.contains(&7) && applied.contains(&8), "{applied:?}");
    let kept = s.latest_weeks("2023-W10", None).await.unwrap();
    assert_eq!(kept[0].plan_version, None, "a week kept before plans were");
    assert_eq!(s.keep_plan("k", "x", "ab", Utc::now()).await.unwrap(), 1);
}

#[tokio::test]
async fn postgres_applies_0007_to_a_database_that_already_has_0008() {
    let Ok(admin_url) = std::env::var("LOA_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set LOA_TEST_DATABASE_URL"
        );
        return;
    };
    let db = format!(
        "loa_test_m7_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    );
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{db}");
    let old = migrations_without_0007("postgres");
    {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(old.path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        sqlx::query(OLD_WEEK).execute(&pool).await.unwrap();
        pool.close().await;
    }
    let store = PgStore::open(&url).await.unwrap();
    let s: &dyn Store = &store;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert!(applied.contains(&7) && applied.contains(&8), "{applied:?}");
    let kept = s.latest_weeks("2023-W10", None).await.unwrap();
    assert_eq!(kept[0].plan_version, None);
    assert_eq!(s.keep_plan("k", "x", "ab", Utc::now()).await.unwrap(), 1);
    store.pool().close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
