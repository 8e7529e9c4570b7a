//! Benchmark of the commune-machine protocol (issue 14's benchmark list): the release
//! `loa serve` serving `/agent/v1/*` on the loopback to simulated and real `loa agent`
//! nodes.
//!
//! 1. **600 nodes against one server**: a plan of 600 agent stations `xa-001` … `xa-600`
//!    (two 30-minute slots a day, 10 minutes of CCHC) and a library of 20 MP3 bulletins. The
//!    600 node keys are registered in the server's store before it starts (as `loa agent
//!    enroll` would leave them). A bounded load generator in this process plays the nodes:
//!    each holds its announcement stream (`GET /agent/v1/events`) open for the whole run, as
//!    `loa agent run` does, and once a minute, the 600 spread evenly over each 60 s period,
//!    asks the time, the manifest (with If-None-Match after the first), the airlog head,
//!    and sends its status report (what `loa agent run` does every minute); once per run
//!    each sends "a day of rows" (2 slot rows and 14 item rows naming library bulletins, a
//!    valid hash chain from the genesis, with its signed head): 600 uploads. At most [`IN_FLIGHT`] nodes are mid-minute at once. Latency is from sending a
//!    request to the last byte of its answer; p50/p99/max per kind, errors per kind; the
//!    server's CPU (utime + stime from `/proc/PID/stat`) over the run and after its first
//!    minute (the first minute builds every station's week), in % of one core; its VmRSS
//!    before and after, and its peak (VmHWM, reset just before the run). Run for
//!    `AGENT_BENCH_SECS` (default 180 s, whole minutes), once with the server on SQLite,
//!    once on PostgreSQL (a fresh database created on the server of `AGENT_BENCH_PG_URL`,
//!    default `postgres://postgres@127.0.0.1:5432/test`, dropped afterwards; the backends'
//!    CPU is read from `/proc` too; skipped when the server does not answer).
//! 2. **A week's transfer**: a real node (`loa init`, `loa agent enroll`, `loa agent sync
//!    --once`) through a loopback proxy that counts the bytes each way (HTTP heads and
//!    bodies, not TCP/IP overhead): the first sync (20 bulletins), then 2 new approved
//!    bulletins on the server and its weeks rebuilt (`loa schedule build` per week of the
//!    horizon: kept weeks are not rebuilt by a library change), then the sync that brings
//!    them, then one with nothing new (what every other minute costs).
//! 3. **Catch-up after 3 days offline**: that node renders 3 days on the simulated clock with
//!    the proxy cut (`loa agent run --clock simulated`), then the link is back and one
//!    `loa agent sync --once` sends the rows: rows, seconds, bytes.
//! 4. **Emergency start latency**: 3 real `loa agent run --sink null` daemons on the wall
//!    clock; 10 rounds of an emergency announcement (`POST /api/v1/stations/CODE/
//!    announcements`, a 6 s bulletin) to each, the next round once every node has played
//!    the last; latency = the node's urgent airlog row's `actual_start` minus the instant
//!    the request was sent (same machine, same clock). The first round also fetches the
//!    bulletin's audio (it is in no manifest).
//!
//! Run: `cargo bench --bench agent` (needs ffmpeg; Linux, for `/proc`; about 15 minutes with
//! the default 180 s). `AGENT_BENCH_PARTS=34` runs only those parts (3 runs 2 first). The
//! load generator and the real nodes run on the same machine as the server and share its
//! cores.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use loa::agent::auth;
use loa::agent::clock::{ClockState, Offset};
use loa::agent::homeward::Head;
use loa::agent::inbox::{Taken, Upload};
use loa::agent::node::{NodeDir, NodeKey};
use loa::agent::report::NodeReport;
use loa::airlog::{AirReason, AirStatus, CueSource, Record};
use loa::store::{AirlogStore, NewEnrolToken, Store};

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "common/process.rs"]
mod process;

use process::{clean, free_port, kb_mb, loa, pct, Server};

/// [`loa`] with `--json` output parsed.
fn loa_json(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = loa(data, args, None);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("loa {args:?}: not JSON ({e}): {out}"))
}

/// Simulated nodes.
const NODES: usize = 600;
/// Nodes mid-minute at once (the generator's bound).
const IN_FLIGHT: usize = 24;
/// Bulletins in the library.
const BULLETINS: usize = 20;
/// Emergency rounds.
const ROUNDS: usize = 10;
const TOKEN: &str = "bench-token-0123456789abcdef0123";
const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";
const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;
/// The stations of the small district (parts 2 to 4).
const SMALL: [&str; 4] = ["vinh-an", "vinh-phuc", "vinh-hung", "vinh-tien"];

fn main() {
    let secs: u64 = std::env::var("AGENT_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let periods = (secs / 60).max(1);
    let pg_admin = std::env::var("AGENT_BENCH_PG_URL").unwrap_or_else(|_| PG_ADMIN.to_string());
    // Which parts run (default all): e.g. AGENT_BENCH_PARTS=34 (part 3 needs part 2's node,
    // so it runs part 2 too).
    let parts = std::env::var("AGENT_BENCH_PARTS").unwrap_or_else(|_| "1234".into());
    let began = Instant::now();
    let root = tempfile::tempdir().expect("temp dir");
    println!("agent bench: working dir {}", root.path().display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    print!("agent bench: encoding {} MP3 bulletins … ", BULLETINS + 3);
    std::io::stdout().flush().ok();
    let t = Instant::now();
    let audio = Audio::encode(&root.path().join("audio"));
    println!("{:.1} s", t.elapsed().as_secs_f64());

    let mut loads = Vec::new();
    if parts.contains('1') {
        // Node keys, made once: each load run registers them in its own fresh store.
        let codes: Vec<String> = (1..=NODES).map(common::code).collect();
        for i in 0..NODES {
            NodeDir::of(&root.path().join("nodes").join(i.to_string()))
                .key()
                .expect("node key");
        }
        loads.push(load_run(
            &rt,
            root.path(),
            "sqlite",
            None,
            &audio,
            &codes,
            periods,
        ));
        match rt.block_on(fresh_pg(&pg_admin)) {
            Ok((url, db)) => {
                // Dropped even when the run panics.
                let _db = PgDb {
                    admin: pg_admin.clone(),
                    db,
                };
                loads.push(load_run(
                    &rt,
                    root.path(),
                    "postgres",
                    Some(&url),
                    &audio,
                    &codes,
                    periods,
                ));
            }
            Err(e) => println!(
                "agent bench: PostgreSQL at {} not usable ({e}); the PostgreSQL half is skipped",
                redact(&pg_admin)
            ),
        }
    }

    let (mut week, mut catch, mut emergency) = (None, None, None);
    if parts.contains(['2', '3', '4']) {
        println!(
            "\n== small district (parts 2–4): {} agent stations, SQLite ==",
            SMALL.len()
        );
        let mut small = Small::start(root.path(), &audio);
        if parts.contains(['2', '3']) {
            let (w, node, proxy) = week_transfer(&small, root.path(), &audio);
            week = Some(w);
            if parts.contains('3') {
                catch = Some(catch_up(&small.data, &node, &proxy));
            }
        }
        if parts.contains('4') {
            emergency = Some(emergencies(&rt, &small, root.path(), &audio));
        }
        small.server.stop();
    }

    summary(
        &loads,
        week.as_ref(),
        catch.as_ref(),
        emergency.as_deref(),
        secs,
    );
    println!(
        "\nagent bench: done in {:.1} min",
        began.elapsed().as_secs_f64() / 60.0
    );
}

// ---------------------------------------------------------------------------------------
// Audio, data dirs, the server process.

/// The MP3 files: the library, the two new bulletins, the short emergency one.
struct Audio {
    library: Vec<PathBuf>,
    new: Vec<PathBuf>,
    short: PathBuf,
}

impl Audio {
    fn encode(dir: &Path) -> Audio {
        std::fs::create_dir_all(dir).expect("audio dir");
        let one = |name: String, seed: usize, seconds: usize| {
            let path = dir.join(name);
            encode(&path, seed, seconds);
            path
        };
        // 60 s to 155 s, like a news bulletin.
        let library = (0..BULLETINS)
            .map(|n| one(format!("ban-tin-{n:02}.mp3"), n + 1, 60 + 5 * n))
            .collect();
        let new = vec![
            one("moi-1.mp3".into(), 101, 75),
            one("moi-2.mp3".into(), 102, 95),
        ];
        let short = one("khan-cap.mp3".into(), 201, 6);
        Audio {
            library,
            new,
            short,
        }
    }
}

/// A 64 kb/s mono MP3 of gated pink noise (speech-like loudness), seeded so every file
/// differs.
fn encode(out: &Path, seed: usize, seconds: usize) {
    let ok = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!(
            "anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:seed={seed}:duration={seconds}"
        ))
        .args([
            "-af",
            "volume=volume='if(lt(mod(t,3),2),1,0)':eval=frame",
            "-ac",
            "1",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "64k",
        ])
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(ok.success(), "ffmpeg failed");
}

/// A plan of agent stations `codes`, two 30-minute slots a day (10 minutes of CCHC).
fn plan_text(codes: &[String]) -> String {
    let year = Utc::now().with_timezone(&TZ).format("%Y");
    let mut t = format!(
        "[plan]\nname = \"Thử tải máy xã\"\nyear = {year}\ntimezone = \"Asia/Ho_Chi_Minh\"\n\n"
    );
    for (i, c) in codes.iter().enumerate() {
        t += &format!(
            "[[station]]\ncode = \"{c}\"\nname = \"Xã {}\"\nlevel = \"commune\"\noutput = \"agent\"\n\n",
            i + 1
        );
    }
    for (name, cron) in [("sáng", "30 5 * * *"), ("chiều", "30 16 * * *")] {
        t += &format!(
            "[[slot]]\nname = \"Bản tin buổi {name}\"\nstations = [\"all\"]\ncron = \"{cron}\"\n\
             length = \"30m\"\ncchc = \"10m\"\n\n"
        );
    }
    t
}

/// Slot starts (local hour, minute) of [`plan_text`].
const SLOTS: [(u32, u32); 2] = [(5, 30), (16, 30)];

/// A server data dir at `dir/data`: initialised, the config (`db`: a PostgreSQL URL, else
/// SQLite), the library added and approved, the plan written. Gives (data, plan).
fn server_dir(
    dir: &Path,
    port: u16,
    db: Option<&str>,
    library: &[PathBuf],
    codes: &[String],
) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).expect("dir");
    let data = dir.join("data");
    loa(&data, &["init"], None);
    let db_line = db.map_or(String::new(), |u| format!("database_url = \"{u}\"\n\n"));
    std::fs::write(
        data.join("loa.toml"),
        format!(
            "{db_line}[playout]\nsink = \"null\"\n\n[http]\nbind = \"127.0.0.1:{port}\"\n\
             token = \"{TOKEN}\"\n"
        ),
    )
    .expect("config");
    if db.is_some() {
        // Creates the schema on the new database.
        loa(&data, &["init"], None);
    }
    let mut args = vec!["library", "add"];
    args.extend(library.iter().map(|p| p.to_str().expect("path")));
    args.extend(["--kind", "news", "--topic", "documents", "--approve"]);
    loa(&data, &args, None);
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, plan_text(codes)).expect("plan");
    (data, plan)
}

/// utime + stime of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let Some((_, rest)) = text.rsplit_once(')') else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15.
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

/// The summed CPU ticks of the PostgreSQL backends serving database `db` (their command
/// lines name it).
fn pg_ticks(db: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.starts_with("postgres:") && c.split_whitespace().any(|w| w == db)
                })
                .unwrap_or(false)
        })
        .map(cpu_ticks)
        .sum()
}

fn clock_hz() -> f64 {
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// CPU ticks over `secs` seconds as % of one core.
fn pct_core(ticks: u64, secs: f64) -> f64 {
    ticks as f64 / clock_hz() / secs * 100.0
}

// ---------------------------------------------------------------------------------------
// PostgreSQL.

/// A new database on the server of `admin` (the shared test database stays untouched):
/// its URL and name.
async fn fresh_pg(admin: &str) -> Result<(String, String), String> {
    let connect = sqlx::PgPool::connect(admin);
    let pool = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .map_err(|_| "no answer in 10 s".to_string())?
        .map_err(|e| e.to_string())?;
    let db = format!(
        "loa_bench_agent_{}_{}",
        std::process::id(),
        Utc::now().timestamp()
    );
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').ok_or("the URL names no database")?;
    Ok((format!("{base}/{db}"), db))
}

/// The benchmark's database, dropped with it.
struct PgDb {
    admin: String,
    db: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        if let Err(e) = rt.block_on(drop_pg(&self.admin, &self.db)) {
            println!("agent bench: could not drop database {}: {e}", self.db);
        }
    }
}

async fn drop_pg(admin: &str, db: &str) -> Result<(), String> {
    let pool = sqlx::PgPool::connect(admin)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&pool)
        .await
        .map_err(|e| e.to_string())?;
    pool.close().await;
    Ok(())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Part 1: 600 simulated nodes.

/// A library bulletin as rows name it.
#[derive(Clone)]
struct LibItem {
    id: String,
    sha256: String,
    ms: i64,
}

/// One simulated node.
struct Sim {
    index: usize,
    station: String,
    key: NodeKey,
    public: String,
    http: reqwest::Client,
}

/// Latencies (µs) and errors by request kind.
#[derive(Default)]
struct Tally {
    lat: BTreeMap<&'static str, Vec<u64>>,
    errors: BTreeMap<&'static str, u64>,
    samples: Vec<String>,
    uploads: u64,
    stored: u64,
}

impl Tally {
    fn ok(&mut self, kind: &'static str, us: u64) {
        self.lat.entry(kind).or_default().push(us);
    }

    fn error(&mut self, kind: &'static str, what: String) {
        *self.errors.entry(kind).or_default() += 1;
        if self.samples.len() < 5 {
            self.samples.push(format!("{kind}: {what}"));
        }
    }

    fn merge(&mut self, o: Tally) {
        for (k, v) in o.lat {
            self.lat.entry(k).or_default().extend(v);
        }
        for (k, n) in o.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for s in o.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
        self.uploads += o.uploads;
        self.stored += o.stored;
    }
}

/// What one load run measured.
struct LoadResult {
    backend: &'static str,
    tally: Tally,
    streams: usize,
    seconds: f64,
    cpu_all: f64,
    /// None when the run is a single minute.
    cpu_steady: Option<f64>,
    pg_all: Option<f64>,
    pg_steady: Option<f64>,
    generator: f64,
    rss_before_kb: u64,
    rss_after_kb: u64,
    hwm_kb: u64,
    server_rows: usize,
}

fn load_run(
    rt: &tokio::runtime::Runtime,
    root: &Path,
    backend: &'static str,
    pg: Option<&str>,
    audio: &Audio,
    codes: &[String],
    periods: u64,
) -> LoadResult {
    println!("\n== {NODES} simulated nodes, server on {backend} ==");
    let port = free_port();
    let dir = root.join(format!("district-{backend}"));
    let t = Instant::now();
    let (data, plan) = server_dir(&dir, port, pg, &audio.library, codes);
    let db_url = pg.unwrap_or("sqlite://loa.db");
    let keys_dir = root.join("nodes");
    let library = rt.block_on(register(&data, db_url, &keys_dir, codes));
    println!(
        "set up (init, {} bulletins, {NODES} nodes registered) in {:.1} s",
        library.len(),
        t.elapsed().as_secs_f64()
    );
    let pg_db = pg.and_then(|u| u.rsplit('/').next()).map(String::from);
    let server = Server::start(&data, &plan, port);
    std::thread::sleep(Duration::from_secs(3));
    let base = format!("http://127.0.0.1:{port}");
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sims: Vec<Arc<Sim>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let key = NodeDir::of(&keys_dir.join(i.to_string()))
                .key()
                .expect("node key");
            Arc::new(Sim {
                index: i,
                station: code.clone(),
                public: key.public_hex(),
                key,
                // Closes idle connections before the server's 10 s header timeout does.
                http: reqwest::Client::builder()
                    .pool_idle_timeout(Duration::from_secs(5))
                    .build()
                    .expect("client"),
            })
        })
        .collect();

    // Every node's announcement stream, held open for the run.
    let opened = Arc::new(AtomicUsize::new(0));
    let streams: Vec<_> = sims
        .iter()
        .map(|s| rt.spawn(hold_events(s.clone(), base.clone(), opened.clone())))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while opened.load(Ordering::SeqCst) < NODES && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let streams_open = opened.load(Ordering::SeqCst);
    println!("{streams_open} of {NODES} announcement streams open");
    std::thread::sleep(Duration::from_secs(2));

    let before = server.mem();
    server.reset_peak();
    let self_pid = std::process::id();
    let (s0, p0, g0, t0) = (
        cpu_ticks(server.pid()),
        pg_db.as_deref().map(pg_ticks),
        cpu_ticks(self_pid),
        Instant::now(),
    );
    print!("load: {NODES} nodes, {periods} × 60 s, one upload per node … ");
    std::io::stdout().flush().ok();
    let handle = rt.spawn(load(base.clone(), sims.clone(), Arc::new(library), periods));
    // After the first minute: every station's week is built, the manifests are 304s.
    std::thread::sleep(Duration::from_secs(60));
    let (s1, p1, t1) = (
        cpu_ticks(server.pid()),
        pg_db.as_deref().map(pg_ticks),
        Instant::now(),
    );
    let tally = rt.block_on(handle).expect("load task");
    let (s2, p2, g2, t2) = (
        cpu_ticks(server.pid()),
        pg_db.as_deref().map(pg_ticks),
        cpu_ticks(self_pid),
        Instant::now(),
    );
    let seconds = (t2 - t0).as_secs_f64();
    println!("{seconds:.0} s");
    let after = server.mem();
    for s in streams {
        s.abort();
    }
    let server_rows = rt.block_on(async {
        let url = loa::config::DatabaseUrl::parse(db_url, &data).expect("url");
        let store = loa::store::open(&url).await.expect("store");
        let mut n = 0;
        for code in codes.iter().take(NODES) {
            n += store
                .airlog(Some(code), None, None)
                .await
                .map(|r| r.len())
                .unwrap_or(0);
        }
        store.close().await;
        n
    });
    let steady = (t2 - t1).as_secs_f64();
    let r = LoadResult {
        backend,
        tally,
        streams: streams_open,
        seconds,
        cpu_all: pct_core(s2.saturating_sub(s0), seconds),
        cpu_steady: (steady >= 10.0).then(|| pct_core(s2.saturating_sub(s1), steady)),
        pg_all: p0
            .zip(p2)
            .map(|(a, b)| pct_core(b.saturating_sub(a), seconds)),
        pg_steady: p1
            .zip(p2)
            .filter(|_| steady >= 10.0)
            .map(|(a, b)| pct_core(b.saturating_sub(a), steady)),
        generator: pct_core(g2.saturating_sub(g0), seconds),
        rss_before_kb: before.rss_kb,
        rss_after_kb: after.rss_kb,
        hwm_kb: after.hwm_kb,
        server_rows,
    };
    drop(server);
    print_load(&r);
    r
}

/// Registers every node key in the server's store (as `loa station enroll` and `loa agent
/// enroll` would leave them) and gives the library.
async fn register(data: &Path, db_url: &str, keys: &Path, codes: &[String]) -> Vec<LibItem> {
    let url = loa::config::DatabaseUrl::parse(db_url, data).expect("database url");
    let store = loa::store::open(&url).await.expect("store");
    let now = Utc::now();
    for (i, code) in codes.iter().enumerate() {
        let key = NodeDir::of(&keys.join(i.to_string()))
            .key()
            .expect("node key");
        let hash = loa::access::password::token_hash(&format!("bench-enrol-{i}"));
        store
            .add_enrol_token(&NewEnrolToken {
                token_hash: hash.clone(),
                station: code.clone(),
                created_by: "bench".into(),
                created_at: now,
                expires_at: now + chrono::Duration::hours(1),
            })
            .await
            .expect("token");
        store
            .redeem_enrol_token(&hash, &key.public_hex(), now)
            .await
            .expect("store")
            .expect("enrolled");
    }
    let lib = store
        .list_bulletins(&Default::default())
        .await
        .expect("library")
        .into_iter()
        .map(|b| LibItem {
            id: b.id.to_string(),
            sha256: b.audio.sha256.clone(),
            ms: b.audio.duration_ms as i64,
        })
        .collect();
    store.close().await;
    lib
}

/// A node's answer: status, ETag, body, µs from sending to the last byte.
struct Answer {
    status: u16,
    etag: Option<String>,
    body: Vec<u8>,
    us: u64,
}

/// A request signed by the node, as `loa agent`'s client signs it.
fn signed(
    n: &Sim,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let time = Utc::now().timestamp();
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("random");
    let nonce = hex::encode(nonce);
    let sig = n
        .key
        .sign(&auth::message(method.as_str(), path, time, &nonce, &body));
    let mut req = n
        .http
        .request(method, format!("{base}{path}"))
        .header(auth::NODE_HEADER, &n.public)
        .header(auth::TIME_HEADER, time.to_string())
        .header(auth::NONCE_HEADER, nonce)
        .header(auth::SIGNATURE_HEADER, sig);
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    req.body(body)
}

async fn call(req: reqwest::RequestBuilder) -> Result<Answer, String> {
    let t = Instant::now();
    let resp = req
        .send()
        .await
        .map_err(|e| loa::agent::client::error_chain(&e))?;
    let status = resp.status().as_u16();
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = resp
        .bytes()
        .await
        .map_err(|e| loa::agent::client::error_chain(&e))?;
    Ok(Answer {
        status,
        etag,
        body: body.to_vec(),
        us: t.elapsed().as_micros() as u64,
    })
}

/// Holds the node's announcement stream open, reading its heartbeats.
async fn hold_events(n: Arc<Sim>, base: String, opened: Arc<AtomicUsize>) {
    let req = signed(
        &n,
        &base,
        reqwest::Method::GET,
        "/agent/v1/events",
        Vec::new(),
    )
    .header("accept", "text/event-stream");
    if let Ok(mut r) = req.send().await {
        if r.status().is_success() {
            opened.fetch_add(1, Ordering::SeqCst);
            while let Ok(Some(_)) = r.chunk().await {}
        }
    }
}

/// Every node's minutes: the 600 spread evenly over each 60 s period.
async fn load(base: String, sims: Vec<Arc<Sim>>, lib: Arc<Vec<LibItem>>, periods: u64) -> Tally {
    let start = tokio::time::Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::new();
    for n in sims {
        let (base, lib, gate) = (base.clone(), lib.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let offset = Duration::from_millis(n.index as u64 * 60_000 / NODES as u64);
            let upload_in = n.index as u64 % periods;
            let mut etag = None;
            for p in 0..periods {
                tokio::time::sleep_until(start + offset + Duration::from_secs(60 * p)).await;
                let _permit = gate.acquire().await.expect("semaphore");
                minute(&n, &base, p == upload_in, &mut etag, &lib, &mut t).await;
            }
            t
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        all.merge(t.await.expect("node task"));
    }
    all
}

/// One node's minute: time, manifest, airlog head, (its upload), status.
async fn minute(
    n: &Sim,
    base: &str,
    upload: bool,
    etag: &mut Option<String>,
    lib: &[LibItem],
    t: &mut Tally,
) {
    use reqwest::Method;
    match call(signed(n, base, Method::GET, "/agent/v1/time", Vec::new())).await {
        Ok(a) if a.status == 200 => t.ok("time", a.us),
        Ok(a) => t.error("time", refusal(&a)),
        Err(e) => t.error("time", e),
    }
    let mut req = signed(n, base, Method::GET, "/agent/v1/manifest", Vec::new());
    let asked = if etag.is_some() {
        "manifest 304"
    } else {
        "manifest 200"
    };
    if let Some(tag) = etag.as_deref() {
        req = req.header("if-none-match", tag);
    }
    match call(req).await {
        Ok(a) if a.status == 200 => {
            t.ok("manifest 200", a.us);
            *etag = a.etag;
        }
        Ok(a) if a.status == 304 => t.ok("manifest 304", a.us),
        Ok(a) => t.error(asked, refusal(&a)),
        Err(e) => t.error(asked, e),
    }
    let head: Result<Option<Head>, ()> = match call(signed(
        n,
        base,
        Method::GET,
        "/agent/v1/airlog/head",
        Vec::new(),
    ))
    .await
    {
        Ok(a) if a.status == 200 => {
            t.ok("airlog head", a.us);
            serde_json::from_slice::<serde_json::Value>(&a.body)
                .ok()
                .and_then(|v| serde_json::from_value(v["head"].clone()).ok())
                .ok_or(())
        }
        Ok(a) => {
            t.error("airlog head", refusal(&a));
            Err(())
        }
        Err(e) => {
            t.error("airlog head", e);
            Err(())
        }
    };
    let mut chain_head = head.clone().ok().flatten();
    if let (true, Ok(head)) = (upload, head) {
        let rows = day_of_rows(&n.station, head.as_ref(), lib, n.index);
        let last = rows.last().expect("rows");
        let body = serde_json::to_vec(&Upload {
            head: Some(
                n.key
                    .sign_head(&n.station, last.seq, &last.row_hash, Utc::now()),
            ),
            clock_offsets_ms: vec![Some(3); rows.len()],
            rows,
        })
        .expect("upload body");
        match call(signed(n, base, Method::POST, "/agent/v1/airlog", body)).await {
            Ok(a) if a.status == 200 => {
                t.ok("upload", a.us);
                t.uploads += 1;
                if let Ok(taken) = serde_json::from_slice::<Taken>(&a.body) {
                    t.stored += taken.stored as u64;
                    chain_head = taken.head;
                }
            }
            Ok(a) => t.error("upload", refusal(&a)),
            Err(e) => t.error("upload", e),
        }
    }
    let now = Utc::now();
    let report = NodeReport {
        at: now,
        version: env!("CARGO_PKG_VERSION").into(),
        clock: Some(Offset {
            offset_ms: 3,
            rtt_ms: 2,
            at: now,
        }),
        clock_state: ClockState::Sane,
        last_sync: Some(now),
        manifest: etag.clone(),
        manifest_until: Some(now + chrono::Duration::days(7)),
        disk_free_mb: Some(12_000),
        slot: None,
        slot_by: None,
        on_air: None,
        next_slot: None,
        chain_head,
        unsent_rows: 0,
        alerts: Vec::new(),
    };
    let body = serde_json::to_vec(&report).expect("report");
    match call(signed(n, base, Method::POST, "/agent/v1/status", body)).await {
        Ok(a) if a.status == 200 => t.ok("status", a.us),
        Ok(a) => t.error("status", refusal(&a)),
        Err(e) => t.error("status", e),
    }
}

fn refusal(a: &Answer) -> String {
    format!(
        "HTTP {}: {}",
        a.status,
        String::from_utf8_lossy(&a.body)
            .chars()
            .take(200)
            .collect::<String>()
    )
}

/// Yesterday's two slots at `station` as a node logs them: per slot 7 items (library
/// bulletins from `first`), each an item row, then the slot row closing after them; a valid
/// chain continuing `head` (from the genesis when none).
fn day_of_rows(station: &str, head: Option<&Head>, lib: &[LibItem], first: usize) -> Vec<Record> {
    let text = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let day = Utc::now().with_timezone(&TZ).date_naive() - chrono::Duration::days(1);
    let mut prev = head.map_or_else(
        || loa::airlog::chain::genesis(station),
        |h| h.row_hash.clone(),
    );
    let mut seq = head.map_or(0, |h| h.seq);
    let mut rows = Vec::new();
    let mut push = |mut r: Record, rows: &mut Vec<Record>| {
        seq += 1;
        r.seq = seq;
        r.prev_hash = prev.clone();
        r.row_hash = loa::airlog::chain::row_hash(&r);
        prev = r.row_hash.clone();
        rows.push(r);
    };
    for (s, (h, m)) in SLOTS.iter().enumerate() {
        let start = TZ
            .from_local_datetime(&day.and_hms_opt(*h, *m, 0).expect("time"))
            .single()
            .expect("local time")
            .with_timezone(&Utc);
        let mut at = start;
        let mut played = 0;
        for k in 0..7 {
            let b = &lib[(first + s * 7 + k) % lib.len()];
            let begin = at + chrono::Duration::milliseconds(12);
            let end = begin + chrono::Duration::milliseconds(b.ms);
            push(
                Record {
                    seq: 0,
                    level: "item".into(),
                    station: station.into(),
                    slot_start: text(start),
                    bulletin_id: Some(b.id.clone()),
                    sha256: Some(b.sha256.clone()),
                    planned_start: text(at),
                    actual_start: Some(text(begin)),
                    actual_end: Some(text(end)),
                    played_ms: b.ms,
                    status: AirStatus::Aired,
                    source: CueSource::Schedule,
                    reason: AirReason::none(),
                    gain_db: Some(-1.7),
                    who: "loa".into(),
                    link_seq: None,
                    prev_hash: String::new(),
                    row_hash: String::new(),
                },
                &mut rows,
            );
            played += b.ms;
            at = end;
        }
        push(
            Record {
                seq: 0,
                level: "slot".into(),
                station: station.into(),
                slot_start: text(start),
                bulletin_id: None,
                sha256: None,
                planned_start: text(start),
                actual_start: Some(text(start)),
                actual_end: Some(text(at)),
                played_ms: played,
                status: AirStatus::Aired,
                source: CueSource::Schedule,
                reason: AirReason::none(),
                gain_db: None,
                who: "loa".into(),
                link_seq: None,
                prev_hash: String::new(),
                row_hash: String::new(),
            },
            &mut rows,
        );
    }
    rows
}

const KINDS: [&str; 6] = [
    "time",
    "manifest 200",
    "manifest 304",
    "airlog head",
    "upload",
    "status",
];

fn print_load(r: &LoadResult) {
    let requests: usize = r.tally.lat.values().map(Vec::len).sum();
    let errors: u64 = r.tally.errors.values().sum();
    println!(
        "{} requests in {:.0} s ({:.1}/s), {errors} errors; {} uploads answered 200, {} rows stored (server holds {}); {} event streams open",
        requests,
        r.seconds,
        requests as f64 / r.seconds,
        r.tally.uploads,
        r.tally.stored,
        r.server_rows,
        r.streams
    );
    for kind in KINDS {
        let mut v = r.tally.lat.get(kind).cloned().unwrap_or_default();
        let errs = errors_of(&r.tally, kind);
        println!(
            "  {kind:<13} n={:<5} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  errors {errs}",
            v.len(),
            pct(&mut v, 0.50),
            pct(&mut v, 0.99),
            pct(&mut v, 1.0)
        );
    }
    for s in &r.tally.samples {
        println!("  error: {s}");
    }
    println!(
        "  server CPU {:.1} % of a core over the run, {} after the first minute; generator {:.1} %",
        r.cpu_all,
        r.cpu_steady
            .map_or("–".to_string(), |c| format!("{c:.1} %")),
        r.generator
    );
    if let (Some(a), Some(s)) = (r.pg_all, r.pg_steady) {
        println!(
            "  PostgreSQL backends CPU {a:.1} % over the run, {s:.1} % after the first minute"
        );
    }
    println!(
        "  server VmRSS {:.1} MB before, {:.1} MB after; peak during the run (VmHWM) {:.1} MB",
        kb_mb(r.rss_before_kb),
        kb_mb(r.rss_after_kb),
        kb_mb(r.hwm_kb)
    );
}

/// Errors of requests of `kind` (a manifest request with If-None-Match counts as a 304).
fn errors_of(t: &Tally, kind: &str) -> u64 {
    t.errors.get(kind).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Parts 2–4: a small district with real nodes.

struct Small {
    data: PathBuf,
    plan: PathBuf,
    server: Server,
}

impl Small {
    fn start(root: &Path, audio: &Audio) -> Small {
        let port = free_port();
        let codes: Vec<String> = SMALL.iter().map(|s| s.to_string()).collect();
        let (data, plan) = server_dir(&root.join("small"), port, None, &audio.library, &codes);
        let server = Server::start(&data, &plan, port);
        Small { data, plan, server }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// A node data dir at `dir`, initialised and enrolled for `station` through `url`.
    fn node(&self, dir: &Path, station: &str, url: &str) -> PathBuf {
        let node = dir.join("data");
        loa(&node, &["init"], None);
        let out = loa(
            &self.data,
            &[
                "station",
                "enroll",
                station,
                "--plan",
                self.plan.to_str().expect("path"),
            ],
            None,
        );
        let token = out.lines().last().expect("a token").trim().to_string();
        loa(
            &node,
            &["agent", "enroll", "--server", url, "--token", &token],
            None,
        );
        node
    }
}

/// A loopback TCP proxy to the server that counts the bytes each way and can be cut (every
/// connection dropped, new ones refused at once) and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    /// Node → server.
    sent: Arc<AtomicU64>,
    /// Server → node.
    received: Arc<AtomicU64>,
}

impl Proxy {
    fn to(target: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("proxy");
        let port = listener.local_addr().expect("addr").port();
        let p = Proxy {
            port,
            up: Arc::new(AtomicBool::new(true)),
            live: Arc::default(),
            sent: Arc::default(),
            received: Arc::default(),
        };
        let (up, live, sent, received) = (
            p.up.clone(),
            p.live.clone(),
            p.sent.clone(),
            p.received.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                {
                    let mut l = live.lock().expect("live");
                    l.push(c2);
                    l.push(s2);
                }
                for (from, to, n) in [
                    (client.try_clone(), server.try_clone(), sent.clone()),
                    (server.try_clone(), client.try_clone(), received.clone()),
                ] {
                    let (Ok(from), Ok(to)) = (from, to) else {
                        continue;
                    };
                    std::thread::spawn(move || pump(from, to, &n));
                }
            }
        });
        p
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.live.lock().expect("live").drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Bytes (node → server, server → node) since the last call.
    fn take(&self) -> (u64, u64) {
        (
            self.sent.swap(0, Ordering::SeqCst),
            self.received.swap(0, Ordering::SeqCst),
        )
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, n: &AtomicU64) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                n.fetch_add(k as u64, Ordering::SeqCst);
                if to.write_all(&buf[..k]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// One `loa agent sync --once` through the proxy.
struct Synced {
    up: u64,
    down: u64,
    manifest: String,
    media: u64,
    fetched: u64,
    audio_bytes: u64,
    seconds: f64,
    json: serde_json::Value,
}

fn sync(node: &Path, proxy: &Proxy) -> Synced {
    proxy.take();
    let t = Instant::now();
    let json = loa_json(node, &["agent", "sync", "--once", "--json"]);
    let seconds = t.elapsed().as_secs_f64();
    let (up, down) = proxy.take();
    Synced {
        up,
        down,
        manifest: json["manifest"].as_str().unwrap_or("?").to_string(),
        media: json["media"].as_u64().unwrap_or(0),
        fetched: json["fetched"].as_array().map_or(0, |a| a.len() as u64),
        audio_bytes: json["bytes"].as_u64().unwrap_or(0),
        seconds,
        json,
    }
}

fn print_sync(what: &str, s: &Synced) {
    println!(
        "{what}: manifest {}, {} files named, {} fetched ({:.2} MB of audio); {:.1} kB up, {:.3} MB down ({} bytes) in {:.2} s",
        s.manifest,
        s.media,
        s.fetched,
        s.audio_bytes as f64 / 1e6,
        s.up as f64 / 1e3,
        s.down as f64 / 1e6,
        s.up + s.down,
        s.seconds
    );
}

struct Week {
    first: Synced,
    before_rebuild: Synced,
    second: Synced,
    idle: Synced,
    new_named: usize,
    library_mb: f64,
}

/// Part 2: a node's first sync, then 2 new bulletins, then the sync that brings them.
fn week_transfer(small: &Small, root: &Path, audio: &Audio) -> (Week, PathBuf, Proxy) {
    println!(
        "\n-- part 2: bytes a node transfers for a week when 2 of {BULLETINS} bulletins are new --"
    );
    let proxy = Proxy::to(small.server.port);
    let node = small.node(&root.join("node-a"), SMALL[0], &proxy.url());
    let first = sync(&node, &proxy);
    print_sync("first sync", &first);
    let mut args = vec!["library", "add"];
    args.extend(audio.new.iter().map(|p| p.to_str().expect("path")));
    args.extend([
        "--kind",
        "news",
        "--topic",
        "documents",
        "--approve",
        "--json",
    ]);
    let added = loa_json(&small.data, &args);
    let new_sha: Vec<String> = added
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|b| b["sha256"].as_str().or(b["audio"]["sha256"].as_str()))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let before_rebuild = sync(&node, &proxy);
    print_sync(
        "sync after `loa library add` of 2 approved bulletins (kept weeks unchanged)",
        &before_rebuild,
    );
    // The weeks the manifest covers (today and the horizon's 7 days), rebuilt.
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let mut weeks: Vec<String> = (0..7)
        .map(|d| loa::schedule::IsoWeek::of(today + chrono::Duration::days(d)).to_string())
        .collect();
    weeks.dedup();
    for w in &weeks {
        loa(
            &small.data,
            &[
                "schedule",
                "build",
                "--plan",
                small.plan.to_str().expect("path"),
                "--week",
                w,
                "--station",
                SMALL[0],
            ],
            None,
        );
    }
    println!("rebuilt {} for {}", weeks.join(", "), SMALL[0]);
    let second = sync(&node, &proxy);
    print_sync("sync after the rebuild", &second);
    let fetched: Vec<&str> = second.json["fetched"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let new_named = if new_sha.is_empty() {
        second.fetched as usize
    } else {
        new_sha
            .iter()
            .filter(|s| fetched.contains(&s.as_str()))
            .count()
    };
    println!("of the 2 new bulletins, {new_named} are in the new manifest and were fetched");
    let idle = sync(&node, &proxy);
    print_sync("a sync with nothing new", &idle);
    let library_mb = audio
        .library
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum::<u64>() as f64
        / 1e6;
    (
        Week {
            first,
            before_rebuild,
            second,
            idle,
            new_named,
            library_mb,
        },
        node,
        proxy,
    )
}

struct CatchUp {
    slots: u64,
    rows: u64,
    render_s: f64,
    sent: u64,
    stored: u64,
    seconds: f64,
    bytes_up: u64,
    bytes_down: u64,
    /// The server's refusal, when the sync failed.
    refused: Option<String>,
    /// Rows whose gain does not read back the same through JSON (`serde_json` without
    /// `float_roundtrip`): the server recomputes another hash for them.
    gain_unsafe: usize,
    /// Rows of the station the server holds after the sync.
    server_rows: usize,
}

/// Part 3: 3 days rendered with the link cut, then one sync sends them home.
fn catch_up(server_data: &Path, node: &Path, proxy: &Proxy) -> CatchUp {
    println!("\n-- part 3: catch-up after 3 days offline --");
    let d1 = Utc::now().with_timezone(&TZ).date_naive() + chrono::Duration::days(1);
    let d3 = d1 + chrono::Duration::days(2);
    proxy.cut();
    let t = Instant::now();
    let r = loa_json(
        node,
        &[
            "agent",
            "run",
            "--clock",
            "simulated",
            "--from",
            &d1.to_string(),
            "--to",
            &d3.to_string(),
            "--sink",
            "null",
            "--json",
        ],
    );
    let render_s = t.elapsed().as_secs_f64();
    let node_rows = airlog_rows(&node.join("loa.db"), SMALL[0]);
    let rows = node_rows.len() as u64;
    let gain_unsafe = node_rows
        .iter()
        .filter_map(|r| r.gain_db)
        .filter(|g| {
            let text = serde_json::to_string(g).unwrap_or_default();
            serde_json::from_str::<f64>(&text).map_or(true, |back| back.to_bits() != g.to_bits())
        })
        .count();
    println!(
        "rendered {d1} – {d3} offline: {} slots, {rows} rows in the node's airlog, in {render_s:.1} s (sync error: {})",
        r["slots"],
        r["sync_error"].as_str().unwrap_or("none")
    );
    proxy.restore();
    proxy.take();
    let t = Instant::now();
    let out = clean(Command::new(env!("CARGO_BIN_EXE_loa")))
        .arg("--data-dir")
        .arg(node)
        .args(["agent", "sync", "--once", "--json"])
        .output()
        .expect("loa runs");
    let seconds = t.elapsed().as_secs_f64();
    let (bytes_up, bytes_down) = proxy.take();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let refused = (!out.status.success()).then(|| {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .rfind(|l| l.starts_with("loa:"))
            .unwrap_or("failed")
            .to_string()
    });
    let sent = json["upload"]["sent"].as_u64().unwrap_or(0);
    let stored = json["upload"]["stored"].as_u64().unwrap_or(0);
    let server_rows = airlog_rows(&server_data.join("loa.db"), SMALL[0]).len();
    match &refused {
        None => println!(
            "link back: `loa agent sync --once` sent {sent} rows, the server stored {stored} (holds {server_rows}), in {seconds:.2} s ({:.1} kB up, {:.1} kB down)",
            bytes_up as f64 / 1e3,
            bytes_down as f64 / 1e3
        ),
        Some(why) => println!(
            "link back: `loa agent sync --once` FAILED in {seconds:.2} s ({:.1} kB up, {:.1} kB down; the server holds {server_rows} of the node's {rows} rows): {why}",
            bytes_up as f64 / 1e3,
            bytes_down as f64 / 1e3
        ),
    }
    if gain_unsafe > 0 {
        println!(
            "  {gain_unsafe} of the node's {rows} rows have a gain_db that does not read back bit for bit through serde_json (parsed without its float_roundtrip feature): the server recomputes a different hash for those rows and refuses the batch as edited"
        );
    }
    CatchUp {
        slots: r["slots"].as_u64().unwrap_or(0),
        rows,
        render_s,
        sent,
        stored,
        seconds,
        bytes_up,
        bytes_down,
        refused,
        gain_unsafe,
        server_rows,
    }
}

/// The airlog rows of `station` in the SQLite store `db`.
fn airlog_rows(db: &Path, station: &str) -> Vec<Record> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = loa::store::sqlite::SqliteStore::open(db)
            .await
            .expect("store");
        let rows = store
            .airlog(Some(station), None, None)
            .await
            .expect("airlog");
        store.close().await;
        rows
    })
}

/// A running `loa agent run`, killed when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Part 4: emergencies to 3 live nodes; each latency in ms.
fn emergencies(
    rt: &tokio::runtime::Runtime,
    small: &Small,
    root: &Path,
    audio: &Audio,
) -> Vec<(String, usize, i64)> {
    println!("\n-- part 4: emergency start latency across 3 nodes --");
    let url = small.url();
    let mut daemons = Vec::new();
    let mut stores = Vec::new();
    for code in &SMALL[1..] {
        let dir = root.join(format!("node-{code}"));
        let node = small.node(&dir, code, &url);
        let log = dir.join("node.log");
        let child = clean(Command::new(env!("CARGO_BIN_EXE_loa")))
            .arg("--data-dir")
            .arg(&node)
            .args(["agent", "run", "--sink", "null"])
            .env("LOA_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("loa agent run");
        daemons.push((code.to_string(), Daemon { child, log }));
        stores.push(node);
    }
    // Each has synced, plays, and holds its announcement stream open.
    let deadline = Instant::now() + Duration::from_secs(120);
    for (code, d) in &daemons {
        loop {
            let log = std::fs::read_to_string(&d.log).unwrap_or_default();
            if log.contains("announcement stream open") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{code}: the node did not open its announcement stream:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // Added now: the nodes' weeks are built and their caches full, so the first push also
    // fetches the bulletin's audio, as a newly recorded emergency would.
    let added = loa_json(
        &small.data,
        &[
            "library",
            "add",
            audio.short.to_str().expect("path"),
            "--kind",
            "news",
            "--topic",
            "documents",
            "--approve",
            "--json",
        ],
    );
    let bulletin = added[0]["id"].as_str().expect("bulletin id").to_string();
    let node_stores: Vec<loa::store::sqlite::SqliteStore> = rt.block_on(async {
        let mut v = Vec::new();
        for n in &stores {
            v.push(
                loa::store::sqlite::SqliteStore::open(&n.join("loa.db"))
                    .await
                    .expect("node store"),
            );
        }
        v
    });
    let mut out = Vec::new();
    for round in 0..ROUNDS {
        let mut sent = Vec::new();
        for (code, _) in &daemons {
            let at = Utc::now();
            let (status, body) = raw(
                small.server.port,
                "POST",
                &format!("/api/v1/stations/{code}/announcements"),
                &format!(r#"{{"level":"emergency","bulletin_id":"{bulletin}"}}"#),
            );
            assert_eq!(status, 200, "{body}");
            sent.push(at);
        }
        for (i, (code, d)) in daemons.iter().enumerate() {
            let deadline = Instant::now() + Duration::from_secs(60);
            let row = loop {
                let rows = rt
                    .block_on(node_stores[i].airlog(Some(code), None, None))
                    .unwrap_or_default();
                let mut urgent: Vec<Record> = rows
                    .into_iter()
                    .filter(|r| {
                        r.source == CueSource::Urgent
                            && r.bulletin_id.as_deref() == Some(bulletin.as_str())
                            && r.actual_start.is_some()
                    })
                    .collect();
                urgent.sort_by_key(|r| r.seq);
                if let Some(r) = urgent.get(round).filter(|r| r.status != AirStatus::Playing) {
                    break r.clone();
                }
                assert!(
                    Instant::now() < deadline,
                    "{code}: emergency {round} did not air:\n{}",
                    std::fs::read_to_string(&d.log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(100));
            };
            let started = DateTime::parse_from_rfc3339(row.actual_start.as_deref().expect("start"))
                .expect("instant")
                .with_timezone(&Utc);
            let ms = (started - sent[i]).num_milliseconds();
            out.push((code.clone(), round + 1, ms));
        }
        println!(
            "round {:>2}: {}",
            round + 1,
            out.iter()
                .filter(|(_, r, _)| *r == round + 1)
                .map(|(c, _, ms)| format!("{c} {ms} ms"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    rt.block_on(async {
        for s in node_stores {
            s.close().await;
        }
    });
    drop(daemons);
    out
}

/// A request to the control API with the bearer token; gives the status and the answer.
fn raw(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("answer");
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

// ---------------------------------------------------------------------------------------
// The summary.

fn summary(
    loads: &[LoadResult],
    week: Option<&Week>,
    c: Option<&CatchUp>,
    em: Option<&[(String, usize, i64)]>,
    secs: u64,
) {
    println!("\n## Summary\n");
    if !loads.is_empty() {
        summary_load(loads, secs);
    }
    if let Some(week) = week {
        summary_week(week);
    }
    if let Some(c) = c {
        println!("\n### 3. Catch-up after 3 days offline\n");
        println!(
            "{} slots rendered offline in {:.1} s, {} rows on the node.",
            c.slots, c.render_s, c.rows
        );
        match &c.refused {
            None => println!(
                "One `loa agent sync --once` sent {} rows, the server stored {} (holds {}), in **{:.2} s** ({} B up, {} B down).",
                c.sent, c.stored, c.server_rows, c.seconds, c.bytes_up, c.bytes_down
            ),
            Some(why) => println!(
                "One `loa agent sync --once` **failed** after {:.2} s ({} B up, {} B down); the server holds {} of the {} rows: {why}",
                c.seconds, c.bytes_up, c.bytes_down, c.server_rows, c.rows
            ),
        }
        if c.gain_unsafe > 0 {
            println!(
                "{} of the {} rows carry a gain_db that does not survive serde_json's round trip (no float_roundtrip feature): their hash no longer verifies on the server.",
                c.gain_unsafe, c.rows
            );
        }
    }
    if let Some(em) = em {
        summary_emergency(em);
    }
}

fn summary_load(loads: &[LoadResult], secs: u64) {
    println!(
        "### 1. {NODES} simulated nodes, one server ({secs} s requested, {} event streams held open)\n",
        loads.first().map_or(0, |l| l.streams)
    );
    print!("| request |");
    for l in loads {
        print!(" {} n | p50 ms | p99 ms | max ms | errors |", l.backend);
    }
    println!();
    print!("|---|");
    for _ in loads {
        print!("---:|---:|---:|---:|---:|");
    }
    println!();
    for kind in KINDS {
        print!("| {kind} |");
        for l in loads {
            let mut v = l.tally.lat.get(kind).cloned().unwrap_or_default();
            print!(
                " {} | {:.2} | {:.2} | {:.2} | {} |",
                v.len(),
                pct(&mut v, 0.5),
                pct(&mut v, 0.99),
                pct(&mut v, 1.0),
                errors_of(&l.tally, kind)
            );
        }
        println!();
    }
    println!();
    println!(
        "| server | {} |",
        loads
            .iter()
            .map(|l| l.backend)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---:|".repeat(loads.len()));
    let row = |name: &str, f: &dyn Fn(&LoadResult) -> String| {
        println!(
            "| {name} | {} |",
            loads.iter().map(f).collect::<Vec<_>>().join(" | ")
        );
    };
    let opt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.1} %"));
    row("run length", &|l| format!("{:.0} s", l.seconds));
    row("uploads answered 200 / rows stored", &|l| {
        format!("{} / {}", l.tally.uploads, l.tally.stored)
    });
    row("server CPU, whole run (% of one core)", &|l| {
        format!("{:.1} %", l.cpu_all)
    });
    row("server CPU, after the first minute", &|l| opt(l.cpu_steady));
    row("PostgreSQL backends CPU, whole run", &|l| opt(l.pg_all));
    row("PostgreSQL backends CPU, after the first minute", &|l| {
        opt(l.pg_steady)
    });
    row("server VmRSS before → after", &|l| {
        format!(
            "{:.1} → {:.1} MB",
            kb_mb(l.rss_before_kb),
            kb_mb(l.rss_after_kb)
        )
    });
    row("server VmHWM during the run", &|l| {
        format!("{:.1} MB", kb_mb(l.hwm_kb))
    });
    row("load generator CPU", &|l| format!("{:.1} %", l.generator));
    if loads.len() < 2 {
        println!("\n(PostgreSQL: not run, see above.)");
    }
}

fn summary_week(week: &Week) {
    println!("\n### 2. A node's transfer (bytes through the proxy, both ways)\n");
    println!("| sync | manifest | files fetched | audio | bytes up | bytes down | total |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (name, s) in [
        ("first (20 bulletins)", &week.first),
        ("after library add, weeks kept", &week.before_rebuild),
        ("after the rebuild (2 new)", &week.second),
        ("nothing new", &week.idle),
    ] {
        println!(
            "| {name} | {} | {} | {:.2} MB | {} | {} | {} |",
            s.manifest,
            s.fetched,
            s.audio_bytes as f64 / 1e6,
            s.up,
            s.down,
            s.up + s.down
        );
    }
    let second = week.second.up + week.second.down;
    let first = week.first.up + week.first.down;
    let idle = week.idle.up + week.idle.down;
    println!(
        "\nThe sync that brings the 2 new bulletins ({} of 2 named by the new manifest) moves {:.3} MB, {:.1} % of the first sync's {:.3} MB (the library: {:.2} MB of MP3).",
        week.new_named,
        second as f64 / 1e6,
        second as f64 / first.max(1) as f64 * 100.0,
        first as f64 / 1e6,
        week.library_mb
    );
    println!(
        "A week of minute syncs with that one change: {:.3} MB + 10,079 × {idle} B = {:.2} MB (the syncs only: manifest and airlog head; the daemon's time and status requests come on top).",
        second as f64 / 1e6,
        (second + 10_079 * idle) as f64 / 1e6
    );
}

fn summary_emergency(em: &[(String, usize, i64)]) {
    println!("\n### 4. Emergency start latency (request sent → the node's actual_start)\n");
    let us = |keep: &dyn Fn(usize) -> bool| -> Vec<u64> {
        em.iter()
            .filter(|(_, r, _)| keep(*r))
            .map(|(_, _, ms)| (*ms).max(0) as u64 * 1000)
            .collect()
    };
    println!("| emergencies | n | p50 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (name, mut v) in [
        ("all", us(&|_| true)),
        ("first round (audio fetched on the push)", us(&|r| r == 1)),
        ("rounds 2–10 (audio cached)", us(&|r| r > 1)),
    ] {
        println!(
            "| {name} | {} | {:.0} | {:.0} |",
            v.len(),
            pct(&mut v, 0.5),
            pct(&mut v, 1.0)
        );
    }
}
