//! The library commands on the real binary with a real SQLite file and real audio:
//! init, add (all or nothing, content-addressed), import, list, show, approve, retire,
//! remove (refused for aired bulletins), and bad input.

mod common;

use std::path::{Path, PathBuf};

use common::fixtures::{speech_like, write_wav, WavFormat};
use common::{repo, Loa};

/// A distinct speech-like WAV of `seconds` seconds (the length makes the bytes differ).
fn wav(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    let rate = 16_000;
    let body = (seconds * f64::from(rate)) as usize;
    let path = dir.join(name);
    write_wav(
        &path,
        WavFormat::Pcm16,
        rate,
        1,
        &speech_like(rate, 1, 800, body, 800),
        None,
    );
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under the audio store.
fn stored_audio(loa: &Loa) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), out);
            } else {
                out.push(e.path());
            }
        }
    }
    let mut out = Vec::new();
    walk(&loa.data.join("audio"), &mut out);
    out
}

#[test]
fn init_creates_the_config_the_database_and_the_store_and_keeps_them_on_a_second_run() {
    let loa = Loa::init();
    assert!(loa.data.join("loa.toml").is_file());
    assert!(loa.data.join("loa.db").is_file());
    assert!(loa.data.join("audio").is_dir());
    std::fs::write(loa.data.join("loa.toml"), "operator = \"Trạm Vĩnh An\"\n").unwrap();
    loa.run(&["init"]).expect(0);
    assert_eq!(
        std::fs::read_to_string(loa.data.join("loa.toml")).unwrap(),
        "operator = \"Trạm Vĩnh An\"\n"
    );
}

#[test]
fn an_added_bulletin_is_stored_by_its_hash_and_listed_with_its_metadata() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "tin-dvc.wav", 2.0);
    let out = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "e_procedures",
            "--title",
            "Tin: Dịch vụ công trực tuyến",
            "--producer",
            "Phòng Văn hóa - Thông tin",
            "--valid-from",
            "2023-03-01",
            "--valid-until",
            "2023-03-31",
            "--stations",
            "vinh-an,vinh-hung",
            "--priority",
            "priority",
            "--json",
        ])
        .expect(0)
        .json();
    let b = &out[0];
    assert_eq!(b["existing"], false);
    assert_eq!(b["state"], "draft");
    assert_eq!(b["title"], "Tin: Dịch vụ công trực tuyến");
    assert_eq!(b["priority"], "priority");
    assert_eq!(b["stations"], serde_json::json!(["vinh-an", "vinh-hung"]));
    assert_eq!(b["valid_from"], "2023-03-01");
    let sha = b["audio"]["sha256"].as_str().unwrap();
    assert_eq!(b["id"], &sha[..12]);
    let stored = loa
        .data
        .join("audio")
        .join(&sha[..2])
        .join(format!("{}.wav", &sha[2..]));
    assert_eq!(std::fs::read(&stored).unwrap(), std::fs::read(&f).unwrap());
    let id = b["id"].as_str().unwrap();
    let shown = loa.run(&["library", "show", id, "--json"]).expect(0).json();
    assert_eq!(shown["audio"]["duration_ms"], b["audio"]["duration_ms"]);
    let human = loa.run(&["library", "show", id]).expect(0);
    assert!(
        human.stdout.contains("01/03/2023 – 31/03/2023"),
        "{}",
        human.stdout
    );
    let list = loa
        .run(&["library", "list", "--kind", "news", "--json"])
        .expect(0)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(loa
        .run(&["library", "list", "--kind", "article", "--json"])
        .expect(0)
        .json()
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn the_same_bytes_added_twice_give_the_existing_bulletin() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "a.wav", 1.0);
    let copy = loa.dir.path().join("copy-of-a.wav");
    std::fs::copy(&f, &copy).unwrap();
    loa.run(&[
        "library",
        "add",
        s(&f),
        "--kind",
        "spot",
        "--topic",
        "other",
    ])
    .expect(0);
    let again = loa
        .run(&[
            "library",
            "add",
            s(&copy),
            "--kind",
            "news",
            "--topic",
            "documents",
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(again[0]["existing"], true);
    assert_eq!(
        again[0]["kind"], "spot",
        "the existing bulletin is unchanged"
    );
    assert_eq!(
        loa.run(&["library", "list", "--json"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(stored_audio(&loa).len(), 1);
}

#[test]
fn a_batch_with_one_refused_file_adds_nothing_and_names_the_file() {
    let loa = Loa::init();
    let good1 = wav(loa.dir.path(), "tot-1.wav", 1.0);
    let good2 = wav(loa.dir.path(), "tot-2.wav", 1.5);
    let page = loa.dir.path().join("loi.mp3");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body>404 Not Found</body></html>",
    )
    .unwrap();
    let out = loa
        .run(&[
            "library",
            "add",
            s(&good1),
            s(&page),
            s(&good2),
            "--kind",
            "news",
            "--topic",
            "other",
        ])
        .expect(2);
    assert!(
        out.stderr.contains("loi.mp3") && out.stderr.contains("HTML"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("nothing was added"), "{}", out.stderr);
    assert!(loa
        .run(&["library", "list", "--json"])
        .expect(0)
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    assert!(
        stored_audio(&loa).is_empty(),
        "no audio left behind: {:?}",
        stored_audio(&loa)
    );
}

#[test]
fn approval_goes_draft_approved_retired_and_records_who() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "bai.wav", 1.0);
    let id = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "article",
            "--topic",
            "documents",
            "--json",
        ])
        .expect(0)
        .json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    loa.run(&["library", "approve", &id]).expect(0);
    let b = loa
        .run(&["library", "show", &id, "--json"])
        .expect(0)
        .json();
    assert_eq!(b["state"], "approved");
    assert_eq!(b["approved"]["by"], "Kiểm thử");
    let twice = loa.run(&["library", "approve", &id]).expect(2);
    assert!(
        twice
            .stderr
            .contains("is approved; it cannot become approved"),
        "{}",
        twice.stderr
    );
    loa.run(&["library", "retire", &id]).expect(0);
    assert_eq!(
        loa.run(&["library", "show", &id, "--json"])
            .expect(0)
            .json()["state"],
        "retired"
    );
    assert_eq!(
        loa.run(&["library", "list", "--state", "retired", "--json"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_bulletin_that_aired_cannot_be_removed_but_one_that_never_aired_can() {
    let loa = Loa::init();
    let aired = wav(loa.dir.path(), "da-phat.wav", 1.0);
    let never = wav(loa.dir.path(), "chua-phat.wav", 1.2);
    let added = loa
        .run(&[
            "library",
            "add",
            s(&aired),
            s(&never),
            "--kind",
            "news",
            "--topic",
            "other",
            "--approve",
            "--json",
        ])
        .expect(0)
        .json();
    let (aired_id, never_id) = (
        added[0]["id"].as_str().unwrap().to_string(),
        added[1]["id"].as_str().unwrap().to_string(),
    );
    let store = loa.store().await;
    sqlx::query(
        "INSERT INTO airlog (station, slot_start, bulletin_id, planned_start, status, source, who, prev_hash, row_hash) \
         VALUES ('vinh-an', '2023-03-06T22:30:00.000Z', ?1, '2023-03-06T22:30:00.000Z', 'aired', 'schedule', 'loa', '', '')",
    )
    .bind(&aired_id)
    .execute(store.pool())
    .await
    .unwrap();
    store.pool().close().await;
    let refused = loa.run(&["library", "remove", &aired_id]).expect(2);
    assert!(
        refused.stderr.contains("has aired 1 time(s)") && refused.stderr.contains("retire"),
        "{}",
        refused.stderr
    );
    assert_eq!(stored_audio(&loa).len(), 2);
    loa.run(&["library", "remove", &never_id]).expect(0);
    assert_eq!(stored_audio(&loa).len(), 1);
    loa.run(&["library", "show", &never_id]).expect(2);
    loa.run(&["library", "show", &aired_id]).expect(0);
}

#[test]
fn the_demo_manifest_imports_all_or_nothing() {
    let loa = Loa::init();
    let manifest = repo().join("audio/manifest.toml");
    let out = loa
        .run(&["library", "import", s(&manifest), "--approve", "--json"])
        .expect(0)
        .json();
    let all = out.as_array().unwrap();
    assert!(all.len() >= 7, "{}", all.len());
    assert!(all.iter().all(|b| b["state"] == "approved"));
    for kind in ["news", "article", "column", "spot", "jingle"] {
        assert!(
            all.iter().any(|b| b["kind"] == kind),
            "no {kind} in the demo"
        );
    }
    for topic in [
        "documents",
        "e_procedures",
        "procedure_control",
        "examples",
        "other",
    ] {
        assert!(
            all.iter().any(|b| b["topic"] == topic),
            "no {topic} in the demo"
        );
    }
    // A manifest naming a missing file adds nothing.
    let other = Loa::init();
    let broken = other.dir.path().join("m.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("nhac-hieu-cchc.wav", "khong-co.wav");
    std::fs::write(
        &broken,
        text.replace(
            "file = \"",
            &format!("file = \"{}/", repo().join("audio").display()),
        ),
    )
    .unwrap();
    let out = other.run(&["library", "import", s(&broken)]).expect(2);
    assert!(out.stderr.contains("khong-co.wav"), "{}", out.stderr);
    assert!(other
        .run(&["library", "list", "--json"])
        .expect(0)
        .json()
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn vietnamese_titles_list_in_dictionary_order() {
    let loa = Loa::init();
    for (i, title) in ["Vĩnh Tiến", "Đa Lộc", "An Bình", "Ân Thịnh", "Dân Lực"]
        .iter()
        .enumerate()
    {
        let f = wav(loa.dir.path(), &format!("{i}.wav"), 1.0 + i as f64 / 10.0);
        loa.run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--title",
            title,
        ])
        .expect(0);
    }
    let list = loa.run(&["library", "list", "--json"]).expect(0).json();
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["An Bình", "Ân Thịnh", "Dân Lực", "Đa Lộc", "Vĩnh Tiến"]
    );
}

#[test]
fn bad_input_is_refused_with_exit_2_and_changes_nothing() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "x.wav", 1.0);
    let kind = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "newz",
            "--topic",
            "other",
        ])
        .expect(2);
    assert!(
        kind.stderr.contains("unknown kind 'newz'") && kind.stderr.contains("column"),
        "{}",
        kind.stderr
    );
    let date = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--valid-from",
            "01/03/2023",
        ])
        .expect(2);
    assert!(
        date.stderr
            .contains("--valid-from '01/03/2023' is not a date"),
        "{}",
        date.stderr
    );
    let station = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--stations",
            "Vĩnh An",
        ])
        .expect(2);
    assert!(
        station.stderr.contains("not a station code"),
        "{}",
        station.stderr
    );
    let missing = loa
        .run(&[
            "library",
            "add",
            "/nonexistent/tin.mp3",
            "--kind",
            "news",
            "--topic",
            "other",
        ])
        .expect(2);
    assert!(
        missing.stderr.contains("/nonexistent/tin.mp3"),
        "{}",
        missing.stderr
    );
    loa.run(&["library", "show", "abc"]).expect(2);
    loa.run(&["library", "approve", "0123456789ab"]).expect(2);
    loa.run(&["library", "frobnicate"]).expect(2);
    assert!(loa
        .run(&["library", "list", "--json"])
        .expect(0)
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    assert!(stored_audio(&loa).is_empty());
}

#[test]
fn a_data_dir_that_was_never_initialised_says_how_to_fix_it() {
    let loa = Loa::uninitialised();
    let out = loa.run(&["library", "list"]).expect(2);
    assert!(out.stderr.contains("loa init"), "{}", out.stderr);
}

#[test]
fn a_broken_environment_override_is_named() {
    let loa = Loa::init();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", s(&loa.data), "library", "list"])
        .env("LOA_INGEST__SILENCE_THRESHOLD_DBFS", "loud")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LOA_INGEST__SILENCE_THRESHOLD_DBFS"), "{err}");
}

#[tokio::test]
async fn a_postgres_database_url_serves_the_library_like_sqlite() {
    let Ok(admin_url) = std::env::var("LOA_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set LOA_TEST_DATABASE_URL"
        );
        return;
    };
    let db = format!(
        "loa_cli_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        format!("database_url = \"{base}/{db}\"\n"),
    )
    .unwrap();
    loa.run(&["init"]).expect(0);
    let f = wav(loa.dir.path(), "pg.wav", 1.0);
    let added = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--approve",
            "--json",
        ])
        .expect(0)
        .json();
    let id = added[0]["id"].as_str().unwrap();
    assert_eq!(
        loa.run(&["library", "show", id, "--json"]).expect(0).json()["state"],
        "approved"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bulletins")
        .fetch_one(
            &sqlx::PgPool::connect(&format!("{base}/{db}"))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
