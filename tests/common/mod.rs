//! Shared helpers of the integration tests: running the real `loa` binary on a temporary
//! data dir, and generating audio fixtures.
#![allow(dead_code)]

pub mod agent;
pub mod browser;
pub mod console;
pub mod daemon;
pub mod fixtures;
pub mod report;
pub mod sse;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary data dir and the binary under test.
pub struct Loa {
    /// Holds the folder for the test's lifetime.
    pub dir: tempfile::TempDir,
    /// The data dir inside it.
    pub data: PathBuf,
}

/// The result of one run of the binary.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// The stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The repository root.
/// Writes `dir/plan.toml`: one commune station, `vinh-an`, and one slot "Bây giờ" (10m, 5m
/// of CCHC) every day at the minute of `at` (station time); returns its path.
#[allow(dead_code)]
pub fn plan_at(dir: &Path, at: chrono::DateTime<chrono_tz::Tz>) -> PathBuf {
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "[plan]\nname = \"Thử\"\nyear = {}\n\n[[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\n\n\
             [[slot]]\nname = \"Bây giờ\"\nstations = [\"all\"]\ncron = \"{} {} * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n",
            at.format("%Y"),
            chrono::Timelike::minute(&at),
            chrono::Timelike::hour(&at),
        ),
    )
    .unwrap();
    plan
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl Loa {
    /// A fresh, initialised data dir.
    pub fn init() -> Loa {
        let loa = Loa::uninitialised();
        loa.run(&["init"]).expect(0);
        loa
    }

    /// A temporary folder with no data dir yet.
    pub fn uninitialised() -> Loa {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Loa { dir, data }
    }

    /// Runs `loa --data-dir DATA ARGS…`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
        cmd.arg("--data-dir").arg(&self.data).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("LOA_") && !k.starts_with("LOA_TEST_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("LOA_OPERATOR", "Kiểm thử");
        Run::from(cmd.output().expect("the loa binary runs"))
    }

    /// The SQLite store of the data dir, opened directly (to seed or tamper with it).
    pub async fn store(&self) -> loa::store::sqlite::SqliteStore {
        loa::store::sqlite::SqliteStore::open(&self.data.join("loa.db"))
            .await
            .unwrap()
    }
}
