//! The disk fills up while `loa serve` plays: playout goes on, the rows that could not be
//! written are held and written (marked "written late") once space is back, nothing earlier
//! is lost, and the chain verifies. Needs root to mount a small tmpfs for the data dir.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::Loa;
use loa::airlog::Record;
use loa::store::{AirlogStore, Store};

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

async fn rows(data: &std::path::Path) -> Vec<Record> {
    let store = loa::store::sqlite::SqliteStore::open(&data.join("loa.db"))
        .await
        .unwrap();
    let r = store.airlog(None, None, None).await.unwrap();
    store.close().await;
    r
}

#[tokio::test]
async fn a_full_disk_delays_airlog_rows_but_loses_none() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must run this test"
        );
        eprintln!("not root: cannot mount a small tmpfs; disk-full test skipped");
        return;
    }
    let outer = Loa::uninitialised();
    let mnt = outer.dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(ok.success(), "mount tmpfs");
    let _mount = Mount(mnt.clone());
    let data = mnt.join("data");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_loa"))
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init"]);
    std::fs::write(
        data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    for i in 0..8 {
        let f = outer.dir.path().join(format!("tin-{i}.wav"));
        let body = 8_000 * 3 + i * 800;
        common::fixtures::write_wav(
            &f,
            common::fixtures::WavFormat::Pcm16,
            8_000,
            1,
            &common::fixtures::speech_like(8_000, 1, 400, body, 400),
            None,
        );
        run(&[
            "library",
            "add",
            f.to_str().unwrap(),
            "--kind",
            "news",
            "--topic",
            "other",
            "--approve",
        ]);
    }
    // The slot starts at the next minute, so every item plays in full (short items would
    // all be missed if the daemon joined late).
    let now =
        (Utc::now() + chrono::Duration::minutes(1)).with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let plan = common::plan_at(outer.dir.path(), now);
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--plan", plan.to_str().unwrap()])
        .env("LOA_HTTP__TOKEN", "")
        .env("LOA_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(outer.dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    // Let two items air, then fill the disk.
    let deadline = Instant::now() + Duration::from_secs(120);
    let before = loop {
        let r = rows(&data).await;
        if r.iter().filter(|r| r.status == "aired").count() >= 2 {
            break r;
        }
        assert!(Instant::now() < deadline, "nothing aired: {r:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let filler = mnt.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    std::thread::sleep(Duration::from_secs(8));
    std::fs::remove_file(&filler).unwrap();
    // Everything of the slot airs and is written in the end.
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let r = rows(&data).await;
        let closed = r.iter().filter(|r| r.status != "playing").count();
        if closed >= 8 && r.iter().all(|r| r.status != "playing") {
            break r;
        }
        if Instant::now() > deadline {
            let log =
                std::fs::read_to_string(outer.dir.path().join("serve.log")).unwrap_or_default();
            panic!("rows still missing: {r:?}\nserve log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();
    assert!(
        after.iter().any(|r| r.reason.en().contains("written late")),
        "{after:?}"
    );
    for b in &before {
        let now = after
            .iter()
            .find(|r| r.seq == b.seq)
            .expect("an earlier row is still there");
        if b.status != "playing" {
            assert_eq!(now, b, "an earlier row changed");
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_loa"))
        .arg("--data-dir")
        .arg(&data)
        .args(["airlog", "verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
