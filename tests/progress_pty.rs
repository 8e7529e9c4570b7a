//! The long commands (`library import` of a folder's manifest, `playout run` of a week,
//! `airlog export` of a year, `airlog verify`) draw a progress bar with a known total when
//! stderr is a terminal, and print nothing extra when it is not. The terminal is a real
//! pseudo-terminal: util-linux `script` runs the command on one and copies what it drew.

mod common;

use std::process::{Command, Stdio};

use common::report::plan;
use common::{repo, Loa};

/// Runs `loa --data-dir DATA ARGS…` on a pseudo-terminal; its exit code and everything it
/// drew (stdout and stderr share the terminal).
fn on_terminal(loa: &Loa, args: &[&str]) -> (i32, String) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = vec![
        quote(env!("CARGO_BIN_EXE_loa")),
        "--data-dir".into(),
        quote(loa.data.to_str().unwrap()),
    ];
    line.extend(args.iter().map(|a| quote(a)));
    let out = Command::new("script")
        .args(["-q", "-e", "-f", "-c", &line.join(" "), "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("LOA_OPERATOR", "Kiểm thử")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script runs (scripts/install-deps installs util-linux)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Asserts that a bar labelled `label` was drawn with a total, and moved.
fn drew_a_bar(drawn: &str, label: &str) {
    let lines: Vec<&str> = drawn
        .split(['\r', '\n'])
        .filter(|l| l.contains(label))
        .collect();
    assert!(
        !lines.is_empty(),
        "no '{label}' bar on the terminal:\n{drawn}"
    );
    // "label: 3/14 [=====>     ]": a position out of a known total, and a bar.
    let total = |l: &str| {
        let after = l.split(&format!("{label}: ")).nth(1)?;
        let (pos, rest) = after.split_once('/')?;
        let len: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((pos.trim().parse::<u64>().ok()?, len.parse::<u64>().ok()?))
    };
    let counts: Vec<(u64, u64)> = lines.iter().filter_map(|l| total(l)).collect();
    assert!(
        counts.iter().any(|(_, len)| *len > 0),
        "'{label}' has no known total: {lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains(" [")), "{lines:?}");
}

/// Asserts that a command off a terminal wrote no bar and no terminal control.
fn drew_nothing(stderr: &str, label: &str) {
    assert!(!stderr.contains(label), "{label} off a terminal: {stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "terminal control off a terminal: {stderr:?}"
    );
}

#[test]
fn long_commands_draw_a_bar_on_a_terminal_and_nothing_extra_off_one() {
    let p = plan();
    let manifest = repo().join("audio/manifest.toml").display().to_string();
    let config = "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n";
    let week = [
        "playout",
        "run",
        "--plan",
        &p,
        "--from",
        "2023-03-13",
        "--to",
        "2023-03-19",
        "--station",
        "vinh-an",
        "--sink",
        "null",
    ];

    // On a terminal.
    let tty = Loa::init();
    std::fs::write(tty.data.join("loa.toml"), config).unwrap();
    let (code, drawn) = on_terminal(&tty, &["library", "import", &manifest, "--approve"]);
    assert_eq!(code, 0, "{drawn}");
    drew_a_bar(&drawn, "đo tệp / measuring files");
    let (code, drawn) = on_terminal(&tty, &week);
    assert_eq!(code, 0, "{drawn}");
    drew_a_bar(&drawn, "phát / slots");
    let out = tty.dir.path().join("nam.csv");
    let o = out.display().to_string();
    let export = [
        "airlog", "export", "--year", "2023", "--format", "csv", "--out", &o,
    ];
    let (code, drawn) = on_terminal(&tty, &export);
    assert_eq!(code, 0, "{drawn}");
    drew_a_bar(&drawn, "xuất dòng / exporting rows");
    let (code, drawn) = on_terminal(&tty, &["airlog", "verify"]);
    assert_eq!(code, 0, "{drawn}");
    drew_a_bar(&drawn, "kiểm tra đài / verifying stations");

    // Off a terminal: the same commands, stderr a pipe.
    let pipe = Loa::init();
    std::fs::write(pipe.data.join("loa.toml"), config).unwrap();
    let r = pipe
        .run(&["library", "import", &manifest, "--approve"])
        .expect(0);
    drew_nothing(&r.stderr, "đo tệp");
    let r = pipe.run(&week).expect(0);
    drew_nothing(&r.stderr, "phát / slots");
    let out = pipe.dir.path().join("nam.csv");
    let o = out.display().to_string();
    let r = pipe
        .run(&[
            "airlog", "export", "--year", "2023", "--format", "csv", "--out", &o,
        ])
        .expect(0);
    drew_nothing(&r.stderr, "xuất dòng");
    assert_eq!(
        r.stderr, "",
        "an export off a terminal says nothing on stderr"
    );
    let r = pipe.run(&["airlog", "verify"]).expect(0);
    drew_nothing(&r.stderr, "kiểm tra đài");
    assert_eq!(r.stderr, "");
}
