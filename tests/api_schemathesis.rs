//! schemathesis (from PyPI, installed by `scripts/install-deps` into `~/.cache/loa-venv`,
//! or `$LOA_VENV`) against the real server's `/api/v1/openapi.json`: every documented
//! operation fuzzed, bounded and seeded, as an admin with an API token, on a data dir with
//! the demo library and a built week, the same cases every run. No answer may be a 5xx, and every answer must match
//! the schema the document gives for its status.
//!
//! Without schemathesis the test fails, naming how to install it: it never skips.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::console::{data_dir, http, run_with_stdin, serve, PASSWORD};
use common::daemon::free_port;

/// How long the whole run may take before it is stopped and the test fails.
const BOUND: Duration = Duration::from_secs(240);

/// The schemathesis command: `$LOA_SCHEMATHESIS`, else the one in `$LOA_VENV` or
/// `~/.cache/loa-venv`.
fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("LOA_SCHEMATHESIS") {
        return PathBuf::from(p);
    }
    let venv = std::env::var_os("LOA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/loa-venv")
        });
    let bin = venv.join("bin/schemathesis");
    assert!(
        bin.is_file(),
        "schemathesis is not installed at {}: run scripts/install-deps (it installs the pinned \
         version from PyPI into that venv)",
        bin.display()
    );
    bin
}

/// The ISO week of today, `YYYY-Www`.
fn this_week() -> String {
    let w = chrono::Datelike::iso_week(&chrono::Utc::now().date_naive());
    format!("{}-W{:02}", w.year(), w.week())
}

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_off_its_schema_in_the_v1_api() {
    let bin = schemathesis();
    let port = free_port();
    let loa = data_dir(port, "");
    let manifest = common::repo().join("audio/manifest.toml");
    loa.run(&["library", "import", manifest.to_str().unwrap()])
        .expect(0);
    let plan = loa.dir.path().join("plan.toml");
    loa.run(&[
        "schedule",
        "build",
        "--plan",
        plan.to_str().unwrap(),
        "--week",
        &this_week(),
    ])
    .expect(0);
    // An admin of its own: what the fuzzer does to accounts (a new password, a disabled
    // account, a new token) never lands on the account it works with but by a guess of
    // its name, and the other admin keeps it from being the last.
    run_with_stdin(
        &loa,
        &[
            "user",
            "add",
            "máy-thử-api",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .expect(0);
    let token = loa
        .run(&["user", "token", "máy-thử-api"])
        .expect(0)
        .stdout
        .trim()
        .to_string();
    let c = serve(loa, port);
    let bearer = format!("Bearer {token}");
    let ok = http(
        c.port,
        "GET",
        "/api/v1/stations",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(ok.status, 200, "{}", ok.body);

    let junit = c.loa.dir.path().join("schemathesis-junit.xml");
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .current_dir(c.loa.dir.path())
        .args([
            "run",
            &format!("http://127.0.0.1:{}/api/v1/openapi.json", c.port),
            "--header",
            &format!("Authorization: {bearer}"),
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-examples",
            "20",
            // The same cases every run (no seed, no example database).
            "--generation-deterministic",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "all",
            "--no-color",
            "--phases",
            "examples,coverage,fuzzing",
            // A stream of server-sent events never ends: no fuzzer request to it can.
            "--exclude-path",
            "/api/v1/events",
            "--report",
            "junit",
            "--report-junit-path",
        ])
        .arg(&junit)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    // Read the output on threads so a full pipe never stalls the run.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    eprintln!(
        "schemathesis took {:.0} s\n{out}",
        started.elapsed().as_secs_f64()
    );
    let status = status.unwrap_or_else(|| {
        panic!(
            "schemathesis ran longer than {} s and was stopped\n{out}\n{err}",
            BOUND.as_secs()
        )
    });
    assert!(
        status.success(),
        "schemathesis found failures (exit {status})\n{out}\n{err}"
    );
    // It really ran the operations: a run that tested nothing would also exit 0.
    let api = http(c.port, "GET", "/api/v1/openapi.json", &[], "");
    let doc: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    let junit = std::fs::read_to_string(&junit).unwrap_or_else(|e| {
        panic!("no junit report from schemathesis ({e})\n{out}");
    });
    let cases = junit.matches("<testcase ").count();
    assert_eq!(
        cases,
        operations - 1,
        "every operation but the event stream was tested\n{out}"
    );
}
