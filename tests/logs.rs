//! The technical log as a service manager or a log file receives it: plain text when stderr
//! is not a terminal (no ANSI colour codes), and without the decoder's own INFO lines when
//! loa's are asked for (`LOA_LOG=info`, as scripts/demo runs), unless they are named.

mod common;

use std::process::Command;

use common::Loa;

/// A data dir with the demo's Ogg bulletin and a plan with one slot a day in 2023.
fn ogg_library() -> (Loa, std::path::PathBuf) {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n",
    )
    .unwrap();
    let ogg = common::repo().join("audio/tin-phan-anh-kien-nghi.ogg");
    loa.run(&[
        "library",
        "add",
        ogg.to_str().unwrap(),
        "--kind",
        "news",
        "--topic",
        "procedure_control",
        "--approve",
    ])
    .expect(0);
    let plan = common::plan_at(
        loa.dir.path(),
        chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Asia::Ho_Chi_Minh, 2023, 3, 6, 5, 30, 0)
            .unwrap(),
    );
    (loa, plan)
}

/// `loa playout run` of `day` with `LOA_LOG` set, stderr to a pipe; returns stderr.
fn play_logged(loa: &Loa, plan: &std::path::Path, day: &str, loa_log: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", loa.data.to_str().unwrap()])
        .args(["playout", "run", "--plan", plan.to_str().unwrap()])
        .args(["--from", day, "--to", day])
        .args(["--clock", "simulated", "--sink", "null"])
        .env("LOA_LOG", loa_log)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 aired"), "the day's item played: {said}");
    err
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes_and_no_decoder_info_lines() {
    let (loa, plan) = ogg_library();
    let err = play_logged(&loa, &plan, "2023-03-06", "info");
    assert!(
        err.contains("playout run finished"),
        "loa's INFO lines are there: {err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "a colour code reached the pipe: {err:?}"
    );
    assert!(
        !err.contains("symphonia"),
        "the decoder's lines are there: {err}"
    );
    // Named, the decoder's lines come through (so the filter above is what kept them out).
    let named = play_logged(&loa, &plan, "2023-03-07", "info,symphonia=info");
    assert!(named.contains("symphonia"), "{named}");
    assert!(!named.contains('\u{1b}'), "{named:?}");
}
