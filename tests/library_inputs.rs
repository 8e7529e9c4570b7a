//! Inputs that used to slip into the library, each refused on the real binary with its own
//! exact error and nothing stored: a FIFO, a device or a folder named like audio, NaN and
//! infinite samples, audio shorter than the minimum, titles and notes over their limits; a
//! 7.1 file is accepted; and `loa library edit` corrects metadata with who and when.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::{speech_like, write_wav, WavFormat};
use common::{Loa, Run};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A speech-like mono WAV of about two seconds.
fn wav(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    write_wav(
        &path,
        WavFormat::Pcm16,
        16_000,
        1,
        &speech_like(16_000, 1, 800, 32_000, 800),
        None,
    );
    path
}

/// Runs the binary like [`Loa::run`], but fails the test instead of hanging when it does
/// not finish within 20 s (what a FIFO used to do to ingest).
fn run_within(loa: &Loa, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .arg("--data-dir")
        .arg(&loa.data)
        .args(args)
        .env("LOA_OPERATOR", "Kiểm thử")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("loa {args:?} did not finish within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(s(path)).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn library_is_empty(loa: &Loa) {
    let out = loa.run(&["library", "list", "--json"]).expect(0).json();
    assert_eq!(out, serde_json::json!([]));
}

#[test]
fn a_fifo_named_like_an_mp3_is_refused_at_once_by_check_add_and_import() {
    let loa = Loa::init();
    let fifo = loa.dir.path().join("f.mp3");
    mkfifo(&fifo);
    let said = format!(
        "loa: {}: not a regular file: it is a named pipe (FIFO); give the path of an audio file\n",
        fifo.display()
    );
    let out = run_within(&loa, &["library", "check", s(&fifo)]).expect(2);
    assert_eq!(out.stderr, said);
    let out = run_within(
        &loa,
        &[
            "library",
            "add",
            s(&fifo),
            "--kind",
            "news",
            "--topic",
            "other",
        ],
    )
    .expect(2);
    assert!(out.stderr.starts_with(&said), "{}", out.stderr);
    let manifest = loa.dir.path().join("m.toml");
    std::fs::write(
        &manifest,
        "[[bulletin]]\nfile = \"f.mp3\"\nkind = \"news\"\ntopic = \"other\"\n",
    )
    .unwrap();
    let out = run_within(&loa, &["library", "import", s(&manifest)]).expect(2);
    assert!(out.stderr.starts_with(&said), "{}", out.stderr);
    // The manifest itself as a FIFO.
    let fifo_manifest = loa.dir.path().join("m2.toml");
    mkfifo(&fifo_manifest);
    let out = run_within(&loa, &["library", "import", s(&fifo_manifest)]).expect(2);
    assert_eq!(
        out.stderr,
        format!(
            "loa: {}: not a regular file: it is a named pipe (FIFO); give the path of a manifest\n",
            fifo_manifest.display()
        )
    );
    library_is_empty(&loa);
}

#[test]
fn a_device_and_a_folder_are_refused_naming_what_they_are() {
    let loa = Loa::init();
    let out = run_within(&loa, &["library", "check", "/dev/zero"]).expect(2);
    assert_eq!(
        out.stderr,
        "loa: /dev/zero: not a regular file: it is a character device; give the path of an audio file\n"
    );
    let folder = loa.dir.path().join("tin.wav");
    std::fs::create_dir(&folder).unwrap();
    let out = run_within(&loa, &["library", "check", s(&folder)]).expect(2);
    assert_eq!(
        out.stderr,
        format!(
            "loa: {}: not a regular file: it is a folder; give the path of an audio file\n",
            folder.display()
        )
    );
}

#[test]
fn a_float_wav_with_nan_or_infinite_samples_is_refused_at_the_first_one() {
    let loa = Loa::init();
    for (name, bad) in [("nan.wav", f32::NAN), ("inf.wav", f32::INFINITY)] {
        let mut samples = speech_like(8_000, 1, 0, 16_000, 0);
        samples[2_000] = bad; // 0:00.250 at 8 kHz
        let f = loa.dir.path().join(name);
        write_wav(&f, WavFormat::Float32, 8_000, 1, &samples, None);
        let out = loa.run(&["library", "check", s(&f)]).expect(2);
        assert_eq!(
            out.stderr,
            format!(
                "loa: {}: the audio holds a sample that is not a finite number (NaN or infinity) at 0:00.250; export it again from the editor\n",
                f.display()
            )
        );
        loa.run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
        ])
        .expect(2);
    }
    library_is_empty(&loa);
}

#[test]
fn audio_shorter_than_the_configured_minimum_is_refused_with_both_lengths() {
    let loa = Loa::init();
    let one = loa.dir.path().join("mot-mau.wav");
    write_wav(&one, WavFormat::Pcm16, 8_000, 1, &[0.5], None);
    let out = loa.run(&["library", "check", s(&one)]).expect(2);
    assert_eq!(
        out.stderr,
        format!(
            "loa: {}: the audio lasts 0:00.000, shorter than the 0:00.500 a bulletin must last (ingest.min_duration_ms)\n",
            one.display()
        )
    );
    let short = loa.dir.path().join("ngan.wav");
    write_wav(&short, WavFormat::Pcm16, 8_000, 1, &vec![0.25; 3_992], None);
    loa.run(&[
        "library",
        "add",
        s(&short),
        "--kind",
        "spot",
        "--topic",
        "other",
    ])
    .expect(2);
    library_is_empty(&loa);
    // The minimum is a setting: at 0.4 s the 0.499 s file is accepted.
    std::fs::write(
        loa.data.join("loa.toml"),
        "[ingest]\nmin_duration_ms = 400\n",
    )
    .unwrap();
    loa.run(&["library", "check", s(&short)]).expect(0);
}

#[test]
fn titles_and_notes_over_their_limits_are_refused_naming_the_file_and_the_length() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "tin.wav");
    let title = "Bản tin ".repeat(26); // 208 characters, 207 once trimmed
    let out = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--title",
            &title,
        ])
        .expect(2);
    assert_eq!(
        out.stderr,
        format!(
            "loa: {}: the title is 207 characters long; at most 200 are allowed\n",
            f.display()
        )
    );
    // Too long for a command line: a manifest carries a 3.2-million-character title.
    let manifest = loa.dir.path().join("m.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[bulletin]]\nfile = \"tin.wav\"\nkind = \"news\"\ntopic = \"other\"\ntitle = \"{}\"\n",
            "a".repeat(3_200_000)
        ),
    )
    .unwrap();
    let out = loa.run(&["library", "import", s(&manifest)]).expect(2);
    assert_eq!(
        out.stderr,
        format!(
            "loa: {}: the title is 3200000 characters long; at most 200 are allowed\n",
            f.display()
        )
    );
    let notes = "x".repeat(2_001);
    let out = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--notes",
            &notes,
        ])
        .expect(2);
    assert_eq!(
        out.stderr,
        format!(
            "loa: {}: the notes is 2001 characters long; at most 2000 are allowed\n",
            f.display()
        )
    );
    library_is_empty(&loa);
}

#[test]
fn a_7_1_file_is_accepted_with_its_eight_channels() {
    let loa = Loa::init();
    let speech = speech_like(48_000, 1, 0, 48_000, 0);
    let mut all = vec![0.0f32; speech.len() * 8];
    for (i, x) in speech.iter().enumerate() {
        all[i * 8 + 2] = *x; // the centre channel only
    }
    let f = loa.dir.path().join("7.1.wav");
    write_wav(&f, WavFormat::Pcm16, 48_000, 8, &all, None);
    let out = loa
        .run(&["library", "check", s(&f), "--json"])
        .expect(0)
        .json();
    assert_eq!(out[0]["channels"], 8);
    assert!(out[0]["loudness_lufs"].as_f64().is_some(), "{out}");
}

#[test]
fn library_edit_corrects_metadata_and_show_lists_who_changed_what() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "tin.wav");
    let added = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--title",
            "Tin sai",
            "--json",
        ])
        .expect(0)
        .json();
    let id = added[0]["id"].as_str().unwrap().to_string();
    let out = loa
        .run(&[
            "library",
            "edit",
            &id,
            "--title",
            "Tin đúng",
            "--producer",
            "Phòng Nội vụ",
            "--valid-until",
            "2023-12-31",
            "--stations",
            "vinh-an,vinh-hung",
        ])
        .expect(0);
    assert_eq!(
        out.stdout,
        format!(
            "{id}  Tiêu đề / title: «Tin sai» → «Tin đúng»\n\
             {id}  Đơn vị sản xuất / producer: - → «Phòng Nội vụ»\n\
             {id}  Hiệu lực đến / valid_until: - → «2023-12-31»\n\
             {id}  Đài phát / stations: - → «vinh-an,vinh-hung»\n"
        )
    );
    let shown = loa
        .run(&["library", "show", &id, "--json"])
        .expect(0)
        .json();
    assert_eq!(shown["title"], "Tin đúng");
    assert_eq!(
        shown["stations"],
        serde_json::json!(["vinh-an", "vinh-hung"])
    );
    assert_eq!(shown["edits"].as_array().unwrap().len(), 4);
    assert_eq!(shown["edits"][0]["by"], "Kiểm thử");
    assert_eq!(shown["edits"][0]["old"], "Tin sai");
    let text = loa.run(&["library", "show", &id]).expect(0).stdout;
    assert!(
        text.contains("by Kiểm thử: Tiêu đề «Tin sai» → «Tin đúng»"),
        "{text}"
    );
    // Clearing a date, and every station again.
    loa.run(&[
        "library",
        "edit",
        &id,
        "--valid-until",
        "",
        "--stations",
        "all",
    ])
    .expect(0);
    let shown = loa
        .run(&["library", "show", &id, "--json"])
        .expect(0)
        .json();
    assert_eq!(shown["valid_until"], serde_json::Value::Null);
    assert_eq!(shown["stations"], serde_json::json!([]));
}

#[test]
fn library_edit_refuses_bad_input_with_exit_2_and_changes_nothing() {
    let loa = Loa::init();
    let f = wav(loa.dir.path(), "tin.wav");
    let added = loa
        .run(&[
            "library",
            "add",
            s(&f),
            "--kind",
            "news",
            "--topic",
            "other",
            "--title",
            "Tin",
            "--valid-from",
            "2023-03-01",
            "--json",
        ])
        .expect(0)
        .json();
    let id = added[0]["id"].as_str().unwrap().to_string();
    let long = "ơ".repeat(201);
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--title", &long],
            format!("loa: bulletin {id}: the title is 201 characters long; at most 200 are allowed\n"),
        ),
        (
            vec!["--valid-until", "2023-02-28"],
            format!("loa: bulletin {id}: valid-until 28/02/2023 would be before valid-from 01/03/2023\n"),
        ),
        (
            vec!["--valid-from", "1/3/2023"],
            "loa: --valid-from '1/3/2023' is not a date (expected YYYY-MM-DD, or \"\" to clear it)\n".into(),
        ),
        (
            vec![],
            "loa: nothing to change: give at least one of --title, --producer, --valid-from, --valid-until, --stations, --notes\n".into(),
        ),
    ];
    for (flags, said) in cases {
        let mut args = vec!["library", "edit", id.as_str()];
        args.extend(flags);
        let out = loa.run(&args).expect(2);
        assert_eq!(out.stderr, said);
    }
    let out = loa
        .run(&["library", "edit", "0123456789ab", "--title", "x"])
        .expect(2);
    assert_eq!(
        out.stderr,
        "loa: no bulletin with id 0123456789ab in the library\n"
    );
    let shown = loa
        .run(&["library", "show", &id, "--json"])
        .expect(0)
        .json();
    assert_eq!(shown["title"], "Tin");
    assert_eq!(shown["edits"], serde_json::json!([]));
}
