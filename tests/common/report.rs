//! Helpers of the report tests: a data dir with the demo library and a played range (one
//! bulletin's audio deleted, one title with quotes and a producer with markup), and exports.

use std::path::PathBuf;

use loa::library::Kind;
use loa::store::{BulletinFilter, Store};

use super::{repo, Loa};

/// A title with a comma and quotes (RFC 4180 quoting).
pub const QUOTED_TITLE: &str = "Tin: \"Một cửa\", liên thông; dịch vụ công";
/// A producer with markup (HTML escaping).
pub const MARKUP_PRODUCER: &str = "Tổ <b>\"Một cửa\"</b> & CCHC";

/// The district plan.
pub fn plan() -> String {
    repo()
        .join("schedules/vinh-loc-2023.toml")
        .display()
        .to_string()
}

/// Runs a future on a fresh runtime (the tests are synchronous).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A data dir with the demo library, one article's audio deleted, one title with quotes,
/// and a played range.
pub fn played(from: &str, to: &str, station: Option<&str>) -> Loa {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    loa.run(&[
        "library",
        "import",
        repo().join("audio/manifest.toml").to_str().unwrap(),
        "--approve",
    ])
    .expect(0);
    block_on(async {
        let store = loa.store().await;
        let lib = store
            .list_bulletins(&BulletinFilter::default())
            .await
            .unwrap();
        let article = lib.iter().find(|b| b.meta.kind == Kind::Article).unwrap();
        std::fs::remove_file(loa.data.join("audio").join(&article.audio_path)).unwrap();
        let news = lib.iter().find(|b| b.meta.kind == Kind::News).unwrap();
        sqlx::query("UPDATE bulletins SET title = ?, producer = ? WHERE id = ?")
            .bind(QUOTED_TITLE)
            .bind(MARKUP_PRODUCER)
            .bind(news.id.as_str())
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let p = plan();
    let mut args = vec![
        "playout", "run", "--plan", &p, "--from", from, "--to", to, "--sink", "null",
    ];
    if let Some(s) = station {
        args.extend(["--station", s]);
    }
    loa.run(&args).expect(0);
    loa
}

/// Runs `loa airlog export --format FORMAT --out (a new file) EXTRA…`; returns the file.
pub fn export(loa: &Loa, format: &str, extra: &[&str]) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = loa.dir.path().join(format!("export-{n}.{format}"));
    let mut args = vec!["airlog", "export", "--format", format, "--out"];
    let o = out.display().to_string();
    args.push(&o);
    args.extend(extra);
    loa.run(&args).expect(0);
    out
}
