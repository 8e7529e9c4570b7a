//! Benchmark of the operator console (issue 13; docs/benchmarks.md, "Console"): the release
//! `loa serve` playing a plan whose slot starts every 2 minutes at three stations, with a library
//! of 2,000 bulletins, under 50 logged-in browser sessions on loopback.
//!
//! 1. **Idle memory**: the daemon's resident memory (VmRSS) 20 s and 45 s after it starts
//!    (it gives its free heap pages back 10 s after the start, then every 30 s), console idle.
//! 2. **Load**: 50 sessions, each logged in through the login form with its own session
//!    cookie, each holding the on-air page's event stream open (as a browser on Đang phát
//!    does) and each fetching the Đang phát page (`/`) and the Thư viện page (`/library`) in
//!    turn, one page a second (a busy operator clicking about), for `CONSOLE_BENCH_SECS` (default
//!    240 s, so two slot starts fall inside). Latency is from sending the request to the last
//!    byte of the page; p50/p90/p99/max per page. Then the same 50 sessions with no pause
//!    between pages (saturation: every session clicking as fast as the server answers), for a
//!    third of the time, to show the ceiling.
//! 3. **On time under load**: every slot that started during the run, its airlog slot row's
//!    actual start against its planned start.
//! 4. **Upload memory**: the peak resident memory (VmHWM, reset through `/proc/PID/clear_refs`
//!    just before) of the daemon while a 60-minute 128 kb/s MP3 (57.6 MB) is uploaded through
//!    `POST /api/v1/bulletins` and analysed.
//!
//! Run: `cargo bench --bench console` (needs ffmpeg; Linux; the peak-memory reset needs the
//! process to be ours). The load generator runs in this process on the same machine, so the
//! server and the 50 clients share its cores.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use loa::library::{ApprovalState, Bulletin, Kind, StateChange, Topic};
use loa::store::{AirlogStore, Store};

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "common/process.rs"]
mod process;

use process::{free_port, kb_mb, loa, pct, Server};

const SESSIONS: usize = 50;
const BULLETINS: u64 = 2_000;
const PASSWORD: &str = "mật khẩu đo tải 2026";
const TOKEN: &str = "bench-token-0123456789abcdef0123";

fn main() {
    let secs: u64 = std::env::var("CONSOLE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(240);
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let port = free_port();
    println!("console bench: data dir {}", data.display());
    loa(&data, &["init"], None);
    std::fs::write(
        data.join("loa.toml"),
        format!(
            "[playout]\nsink = \"null\"\n\n[http]\nbind = \"127.0.0.1:{port}\"\n\
             token = \"{TOKEN}\"\nupload_max_mb = 200\n"
        ),
    )
    .expect("config");
    let plan = root.path().join("plan.toml");
    std::fs::write(&plan, every_two_minutes_plan()).expect("plan");
    import_demo(&data, root.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(seed(&data));
    loa(
        &data,
        &[
            "user",
            "add",
            "dieuhanh",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let token = loa(&data, &["user", "token", "dieuhanh"], None)
        .lines()
        .last()
        .expect("a token")
        .trim()
        .to_string();
    let mp3 = root.path().join("60-phut.mp3");
    print!("console bench: encoding a 60-minute MP3 … ");
    std::io::stdout().flush().ok();
    encode_hour(&mp3);
    println!("{:.1} MB", mb(std::fs::metadata(&mp3).expect("mp3").len()));

    let mut server = Server::start(&data, &plan, port);
    std::thread::sleep(Duration::from_secs(20));
    let early = server.mem();
    println!(
        "20 s after the start: VmRSS {:.1} MB (RssAnon {:.1} MB, RssFile {:.1} MB)",
        kb_mb(early.rss_kb),
        kb_mb(early.anon_kb),
        kb_mb(early.file_kb)
    );
    // The daemon gives its free heap pages back 10 s after the start, then every 30 s.
    std::thread::sleep(Duration::from_secs(25));
    let idle = server.mem();
    println!(
        "idle, 45 s after the start: VmRSS {:.1} MB (RssAnon {:.1} MB, RssFile {:.1} MB; VmHWM {:.1} MB) with {} bulletins",
        kb_mb(idle.rss_kb),
        kb_mb(idle.anon_kb),
        kb_mb(idle.file_kb),
        kb_mb(idle.hwm_kb),
        BULLETINS + 6
    );

    let started = Utc::now();
    let (paced, burst) = rt.block_on(load(port, secs));
    let ended = Utc::now();
    report("paced, 1 page/s per session", &paced);
    report("saturation, no pause", &burst);
    // Past the daemon's next give-back (every 30 s).
    std::thread::sleep(Duration::from_secs(35));
    let after = server.mem();
    println!(
        "idle, 35 s after the load: VmRSS {:.1} MB (RssAnon {:.1} MB, RssFile {:.1} MB; peak during the load {:.1} MB)",
        kb_mb(after.rss_kb),
        kb_mb(after.anon_kb),
        kb_mb(after.file_kb),
        kb_mb(after.hwm_kb)
    );

    server.reset_peak();
    let before = server.mem();
    let t = Instant::now();
    let code = upload(port, &mp3, &token);
    let up = server.mem();
    println!(
        "upload of the 60-minute MP3: HTTP {code} in {:.1} s; peak VmHWM {:.1} MB (VmRSS before {:.1} MB)",
        t.elapsed().as_secs_f64(),
        kb_mb(up.hwm_kb),
        kb_mb(before.rss_kb)
    );

    server.stop();
    rt.block_on(on_time(&data, started, ended));
}

/// The demo plan with a one-minute slot (45 s of CCHC) every 2 minutes instead of a
/// two-minute one every 3.
fn every_two_minutes_plan() -> String {
    let demo = include_str!("../schedules/demo.toml");
    demo.replace("cron = \"*/3 * * * *\"", "cron = \"*/2 * * * *\"")
        .replace("(3 phút một lần)", "(2 phút một lần)")
        .replace("length = \"2m\"", "length = \"1m\"")
        .replace("cchc = \"90s\"", "cchc = \"45s\"")
}

/// Imports the demo bulletins, valid today, approved (as scripts/demo does).
fn import_demo(data: &Path, dir: &Path) {
    let audio = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio");
    let manifest: String = include_str!("../audio/manifest.toml")
        .lines()
        .filter(|l| !l.starts_with("valid_from") && !l.starts_with("valid_until"))
        .map(|l| match l.strip_prefix("file = \"") {
            Some(rest) => format!("file = \"{}/{rest}\n", audio.display()),
            None => format!("{l}\n"),
        })
        .collect();
    let path = dir.join("demo-manifest.toml");
    std::fs::write(&path, manifest).expect("manifest");
    loa(
        data,
        &[
            "library",
            "import",
            path.to_str().expect("path"),
            "--approve",
        ],
        None,
    );
}

/// 2,000 more bulletins straight into the store: drafts and retired ones (so none is
/// scheduled: they have no audio behind them), every kind and topic, Vietnamese titles.
async fn seed(data: &Path) {
    let store = loa::store::sqlite::SqliteStore::open(&data.join("loa.db"))
        .await
        .expect("store");
    let words = [
        "Đăng ký khai sinh trực tuyến",
        "Cấp đổi căn cước",
        "Một cửa liên thông",
        "Ứng dụng VNeID",
        "Thủ tục đất đai",
        "Ý kiến người dân",
        "Chữ ký số",
        "Bưu chính công ích",
    ];
    let lib: Vec<Bulletin> = (1..=BULLETINS)
        .map(|n| {
            let kind = [Kind::News, Kind::Article, Kind::Column, Kind::Spot][(n % 4) as usize];
            let mut b = common::bulletin(
                1_000_000 + n,
                kind,
                Topic::ALL[(n % 5) as usize],
                20 + n % 300,
            );
            b.meta.title = format!("{} số {n}: {}", kind.label_vi(), words[(n % 8) as usize]);
            if n % 2 == 0 {
                b.state = ApprovalState::Retired;
                b.retired = Some(StateChange {
                    by: "bench".into(),
                    at: DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
                });
            } else {
                b.state = ApprovalState::Draft;
            }
            b
        })
        .collect();
    store.add_bulletins(&lib).await.expect("bulletins");
    store.close().await;
}

/// A 60-minute 128 kb/s stereo MP3 of gated pink noise (the ingest benchmark's signal).
fn encode_hour(out: &Path) {
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
        .arg("anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration=3600")
        .args([
            "-af",
            "volume=volume='if(lt(mod(t,3),2),1,0)':eval=frame,aformat=channel_layouts=stereo",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
        ])
        .arg(out)
        .status()
        .expect("ffmpeg runs");
    assert!(ok.success(), "ffmpeg failed");
}

fn client() -> reqwest::Client {
    // reqwest is built without a TLS provider (the agent installs ring, as here); the
    // bench speaks plain HTTP on the loopback, but the builder wants one.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// Logs in through the form; gives the session's `Cookie` header.
async fn login(c: &reqwest::Client, base: &str) -> String {
    let form = c
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login form");
    let login_cookie = set_cookie(&form, "loa_login").expect("login cookie");
    let page = form.text().await.expect("login page");
    let csrf = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token in the form")
        .to_string();
    let body = format!(
        "username=dieuhanh&password={}&csrf_token={csrf}",
        enc(PASSWORD)
    );
    let r = c
        .post(format!("{base}/login"))
        .header("Cookie", format!("loa_login={login_cookie}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", base)
        .header("Sec-Fetch-Site", "same-origin")
        .body(body)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 303, "login refused");
    format!(
        "loa_session={}",
        set_cookie(&r, "loa_session").expect("session cookie")
    )
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Latencies in µs: on-air page, library page.
#[derive(Default)]
struct Lat {
    on_air: Vec<u64>,
    library: Vec<u64>,
    bytes_library: u64,
    errors: u64,
    seconds: f64,
}

async fn load(port: u16, secs: u64) -> (Lat, Lat) {
    let base = format!("http://127.0.0.1:{port}");
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let c = client();
        let cookie = login(&c, &base).await;
        sessions.push((c, cookie));
    }
    // Each session's live parts (the page's htmx SSE stream), open for the whole run and
    // read as they come.
    let mut streams = Vec::new();
    for (_, cookie) in &sessions {
        let c = client();
        let url = format!("{base}/events/on-air?lang=vi");
        let cookie = cookie.clone();
        streams.push(tokio::spawn(async move {
            if let Ok(mut r) = c.get(url).header("Cookie", cookie).send().await {
                while let Ok(Some(_)) = r.chunk().await {}
            }
        }));
    }
    let paced = run(&base, &sessions, Duration::from_secs(secs), true).await;
    let burst = run(&base, &sessions, Duration::from_secs(secs / 3), false).await;
    for s in streams {
        s.abort();
    }
    (paced, burst)
}

async fn run(
    base: &str,
    sessions: &[(reqwest::Client, String)],
    dur: Duration,
    paced: bool,
) -> Lat {
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for (i, (c, cookie)) in sessions.iter().enumerate() {
        let (c, cookie, base) = (c.clone(), cookie.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Lat::default();
            // Spread the sessions over the first second.
            if paced {
                tokio::time::sleep(Duration::from_millis(i as u64 * 1000 / SESSIONS as u64)).await;
            }
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut n = 0u64;
            while Instant::now() < deadline {
                if paced {
                    tick.tick().await;
                }
                let library = n % 2 == 1;
                n += 1;
                let path = if library { "/library" } else { "/" };
                let t = Instant::now();
                let r = c
                    .get(format!("{base}{path}"))
                    .header("Cookie", &cookie)
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => {
                            if library {
                                lat.bytes_library = b.len() as u64;
                            }
                            true
                        }
                        Err(_) => false,
                    },
                    _ => false,
                };
                let us = t.elapsed().as_micros() as u64;
                if !ok {
                    lat.errors += 1;
                } else if library {
                    lat.library.push(us);
                } else {
                    lat.on_air.push(us);
                }
            }
            lat
        }));
    }
    let mut all = Lat::default();
    for t in tasks {
        let l = t.await.expect("session task");
        all.on_air.extend(l.on_air);
        all.library.extend(l.library);
        all.errors += l.errors;
        all.bytes_library = all.bytes_library.max(l.bytes_library);
    }
    all.seconds = start.elapsed().as_secs_f64();
    all
}

fn report(what: &str, l: &Lat) {
    let n = l.on_air.len() + l.library.len();
    println!(
        "{what}: {SESSIONS} sessions, {n} pages in {:.0} s ({:.1} pages/s), {} errors; library page {:.0} kB",
        l.seconds,
        n as f64 / l.seconds,
        l.errors,
        l.bytes_library as f64 / 1024.0
    );
    for (name, v) in [
        ("Đang phát /", &l.on_air),
        ("Thư viện /library", &l.library),
    ] {
        let mut v = v.clone();
        println!(
            "  {name:<20} n={:<6} p50 {:>7.1} ms  p90 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
            v.len(),
            pct(&mut v, 0.50),
            pct(&mut v, 0.90),
            pct(&mut v, 0.99),
            pct(&mut v, 1.0)
        );
    }
}

/// Every slot that started during the run: its slot row's actual start against the plan.
async fn on_time(data: &Path, from: DateTime<Utc>, to: DateTime<Utc>) {
    let store = loa::store::sqlite::SqliteStore::open(&data.join("loa.db"))
        .await
        .expect("store");
    let rows = store
        .airlog(None, Some(from), Some(to))
        .await
        .expect("airlog");
    let mut late = Vec::new();
    for r in rows.iter().filter(|r| r.level == "slot") {
        let planned = DateTime::parse_from_rfc3339(&r.planned_start).expect("planned");
        if let Some(a) = &r.actual_start {
            let actual = DateTime::parse_from_rfc3339(a).expect("actual");
            late.push(((actual - planned).num_microseconds().unwrap_or(0), r));
        }
    }
    let items = rows.iter().filter(|r| r.level == "item").count();
    let worst = late.iter().map(|(d, _)| d.abs()).max().unwrap_or(0);
    println!(
        "on time under load: {} slot starts at {} stations, {items} item rows; worst |actual − planned| {:.1} ms",
        late.len(),
        {
            let mut s: Vec<&str> = late.iter().map(|(_, r)| r.station.as_str()).collect();
            s.sort_unstable();
            s.dedup();
            s.len()
        },
        worst as f64 / 1000.0
    );
    for (d, r) in &late {
        println!(
            "  {} {} {:+.1} ms {:?}",
            r.station,
            r.planned_start,
            *d as f64 / 1000.0,
            r.status
        );
    }
    store.close().await;
}

/// Uploads the MP3 through `POST /api/v1/bulletins` with the API token (curl streams the
/// file from disk); gives the HTTP status.
fn upload(port: u16, mp3: &Path, token: &str) -> u16 {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg("-F")
        .arg(format!("file=@{}", mp3.display()))
        .args([
            "-F",
            "kind=column",
            "-F",
            "topic=documents",
            "-F",
            "title=Chuyên mục CCHC 60 phút",
        ])
        .arg(format!("http://127.0.0.1:{port}/api/v1/bulletins"))
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}
