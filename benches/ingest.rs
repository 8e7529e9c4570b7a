//! Ingest benchmark (`cargo bench --bench ingest`), recorded in `docs/benchmarks.md`:
//!
//! 1. speed: loa's `analyze` (decode, loudness, true peak, silence, SHA-256) on a generated
//!    5-minute MP3 against `ffmpeg -i f.mp3 -af ebur128=peak=true -f null -` on the same
//!    file, best of 3 each, and their ratio (target ≤ 1.0);
//! 2. memory: peak RSS of the release `loa library check` on a generated 60-minute MP3,
//!    read from `/usr/bin/time -v` (target < 64 MB).
//!
//! Needs ffmpeg (with libmp3lame) and GNU time; it stops with a message when either is
//! missing. Set `LOA_BENCH_SKIP_HOUR=1` to skip the 60-minute part.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use loa::library::{analyze, IngestOptions};

/// Encodes `secs` of stereo 44.1 kHz pink noise, gated 2 s on / 1 s off like speech
/// paragraphs, to a 128 kb/s MP3.
fn make_mp3(path: &Path, secs: u32) {
    let source = format!("anoisesrc=color=pink:amplitude=0.3:sample_rate=44100:duration={secs}");
    let status = Command::new("ffmpeg")
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
        .arg(&source)
        .args([
            "-af",
            "volume=volume='if(lt(mod(t,3),2),1,0)':eval=frame,aformat=channel_layouts=stereo",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
        ])
        .arg(path)
        .status()
        .expect("ffmpeg is required for this benchmark");
    assert!(status.success(), "ffmpeg could not make {}", path.display());
}

/// The best wall time of `runs` runs of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn ffmpeg_ebur128(path: &Path) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-nostdin", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
}

/// Peak RSS in kB of `loa library check path`, from GNU time.
fn loa_check_max_rss_kb(path: &Path) -> u64 {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_loa"))
        .args(["library", "check"])
        .arg(path)
        .env("LOA_DATA_DIR", path.with_extension("no-data-dir"))
        .output()
        .expect("GNU time is required (apt-get install time)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maximum RSS in GNU time's output:\n{text}"))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let five = dir.path().join("five-minutes.mp3");
    make_mp3(&five, 300);
    let opts = IngestOptions::default();
    let facts = analyze(&five, &opts).expect("the generated MP3 ingests");
    println!(
        "5-minute MP3: {} bytes, {} ms, {:?} LUFS, {:?} dBTP",
        facts.size_bytes, facts.duration_ms, facts.loudness_lufs, facts.true_peak_dbtp
    );
    let loa = best_of(3, || {
        analyze(&five, &opts).expect("ingests");
    });
    let ffmpeg = best_of(3, || ffmpeg_ebur128(&five));
    println!(
        "ingest 5 min MP3: loa analyze {:.3} s, ffmpeg ebur128=peak=true {:.3} s, ratio {:.2} (target <= 1.0)",
        loa.as_secs_f64(),
        ffmpeg.as_secs_f64(),
        loa.as_secs_f64() / ffmpeg.as_secs_f64()
    );

    if std::env::var_os("LOA_BENCH_SKIP_HOUR").is_some() {
        return;
    }
    let hour = dir.path().join("sixty-minutes.mp3");
    make_mp3(&hour, 3600);
    let kb = loa_check_max_rss_kb(&hour);
    println!(
        "ingest 60 min MP3: loa library check peak RSS {kb} kB ({:.1} MB, target < 64 MB)",
        kb as f64 / 1024.0
    );
}
