//! System tests of ingest: the real `loa library check --json` over generated fixtures of
//! every supported format and every kind of file it must refuse, with loudness checked
//! against ffmpeg's ebur128 filter; and exact lengths and containers through the library.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::fixtures::{self, Bad};
use loa::library::{analyze, IngestOptions};
use serde_json::Value;

/// Runs `loa library check --json` on `files` with no data dir (default settings).
fn check(files: &[&Path]) -> (Output, Vec<Value>) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loa"))
        .env("LOA_DATA_DIR", home.path().join("not-initialised"))
        .env_remove("LOA_LOG")
        .args(["library", "check", "--json"])
        .args(files)
        .output()
        .expect("run loa");
    let json: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON array ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

fn entry<'a>(json: &'a [Value], path: &Path) -> &'a Value {
    let name = path.display().to_string();
    json.iter()
        .find(|e| e["file"] == name.as_str())
        .unwrap_or_else(|| panic!("no entry for {name}"))
}

#[test]
fn every_supported_format_is_measured_like_ffmpeg_measures_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::good_fixtures(dir.path());
    let paths: Vec<&Path> = good.iter().map(|g| g.path.as_path()).collect();
    let (out, json) = check(&paths);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json.len(), good.len());
    for g in &good {
        let e = entry(&json, &g.path);
        let name = g.path.display();
        assert_eq!(e["ok"], true, "{name}: {e}");
        assert_eq!(e["codec"], g.codec, "{name}");
        assert_eq!(e["sample_rate"], g.sample_rate, "{name}");
        assert_eq!(e["channels"], g.channels, "{name}");
        let expected_ms = g.frames * 1000 / u64::from(g.sample_rate);
        let tolerance_ms = g.frame_tolerance * 1000 / u64::from(g.sample_rate) + 1;
        let ms = e["duration_ms"].as_u64().unwrap();
        if g.frame_tolerance == 0 {
            assert_eq!(ms, expected_ms, "{name}");
        } else {
            assert!(
                ms.abs_diff(expected_ms) <= tolerance_ms,
                "{name}: {ms} ms vs {expected_ms}"
            );
        }
        if let Some((lead, tail)) = g.silence_ms {
            assert_eq!(e["leading_silence_ms"], lead, "{name}");
            assert_eq!(e["trailing_silence_ms"], tail, "{name}");
        }
        if let Some(title) = g.title {
            assert_eq!(e["title"], title, "{name}: the title tag, in NFC");
        }
        let lufs = e["loudness_lufs"].as_f64().unwrap();
        let reference = fixtures::ffmpeg_integrated_lufs(&g.path);
        assert!(
            (lufs - reference).abs() <= 0.5,
            "{name}: {lufs} LUFS, ffmpeg says {reference}"
        );
        assert!(e["true_peak_dbtp"].as_f64().unwrap() < 0.0, "{name}");
        assert_eq!(e["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn lossless_and_gapless_files_decode_to_exactly_the_frames_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::good_fixtures(dir.path());
    for g in &good {
        let facts = analyze(&g.path, &IngestOptions::default()).unwrap();
        let name = g.path.display();
        assert_eq!(facts.container, g.container, "{name}");
        assert_eq!(facts.size_bytes, std::fs::metadata(&g.path).unwrap().len());
        assert!(
            facts.frames.abs_diff(g.frames) <= g.frame_tolerance,
            "{name}: {} frames, encoded {}",
            facts.frames,
            g.frames
        );
        // The encoders here write gapless information (LAME tag, MP4 edit list, FLAC and
        // WAV lengths) except Vorbis and the MP3 made without a Xing/LAME header.
        if g.gapless {
            assert_eq!(facts.frames, g.frames, "{name}");
        }
    }
}

#[test]
fn the_vbr_mp3_has_its_vietnamese_title_and_artist_in_nfc() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::good_fixtures(dir.path());
    let vbr = good
        .iter()
        .find(|g| g.path.ends_with("speech-vbr.mp3"))
        .unwrap();
    let facts = analyze(&vbr.path, &IngestOptions::default()).unwrap();
    assert_eq!(facts.tag_title.as_deref(), Some(fixtures::TITLE_VI));
    assert_eq!(facts.tag_artist.as_deref(), Some("Đài Truyền thanh huyện"));
}

#[test]
fn every_bad_file_is_refused_with_one_line_saying_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::good_fixtures(dir.path());
    let bad: Vec<Bad> = fixtures::bad_fixtures(dir.path(), &good);
    let paths: Vec<&Path> = bad.iter().map(|b| b.path.as_path()).collect();
    let (out, json) = check(&paths);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        bad.len(),
        "one line per refused file:\n{stderr}"
    );
    for b in &bad {
        let name = b.path.display().to_string();
        let e = entry(&json, &b.path);
        assert_eq!(e["ok"], false, "{name}");
        let line = lines
            .iter()
            .find(|l| l.contains(&name))
            .unwrap_or_else(|| panic!("no stderr line names {name}:\n{stderr}"));
        assert!(
            line.to_lowercase().contains(&b.says.to_lowercase()),
            "{name}: expected '{}' in: {line}",
            b.says
        );
    }
}

#[test]
fn damage_is_reported_at_its_position_in_the_audio() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::good_fixtures(dir.path());
    let bad = fixtures::bad_fixtures(dir.path(), &good);
    let truncated = bad
        .iter()
        .find(|b| b.path.ends_with("truncated.mp3"))
        .unwrap();
    let (_, json) = check(&[truncated.path.as_path()]);
    let error = entry(&json, &truncated.path)["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("at 0:01."), "{error}");
}

#[test]
fn good_and_bad_files_in_one_check_are_reported_each_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::good_fixtures(dir.path());
    let bad = fixtures::bad_fixtures(dir.path(), &good);
    let files = [good[0].path.as_path(), bad[0].path.as_path()];
    let (out, json) = check(&files);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(entry(&json, &good[0].path)["ok"], true);
    assert_eq!(entry(&json, &bad[0].path)["ok"], false);
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn a_wav_written_to_a_pipe_without_its_length_is_measured_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let signal = fixtures::speech_like(8_000, 1, 800, 8_000, 800);
    let path = dir.path().join("piped.wav");
    fixtures::write_wav(&path, fixtures::WavFormat::Pcm16, 8_000, 1, &signal, None);
    let mut bytes = std::fs::read(&path).unwrap();
    // What ffmpeg writes when its output cannot seek: both sizes are placeholders.
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let data = bytes.windows(4).position(|w| w == b"data").unwrap();
    bytes[data + 4..data + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let facts = analyze(&path, &IngestOptions::default()).unwrap();
    assert_eq!(facts.frames, 9_600);
    assert_eq!(
        (facts.leading_silence_ms, facts.trailing_silence_ms),
        (100, 100)
    );
}
