//! Running the release `loa` in the benchmarks that start it (`console`, `agent`): its
//! command line, `loa serve` under test, and what `/proc` says of its memory. Included by
//! path (`#[path = "common/process.rs"] mod process;`) so that the benchmarks that never
//! start a process do not carry it.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `cmd` without the caller's `LOA_*` settings: the config the bench writes is what counts.
pub fn clean(mut cmd: Command) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("LOA_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `loa --data-dir DATA ARGS…` (with `stdin`), which must succeed; its stdout.
pub fn loa(data: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = clean(Command::new(env!("CARGO_BIN_EXE_loa")))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LOA_OPERATOR", "Đo tải")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loa runs");
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.as_bytes())
            .expect("stdin written");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("loa runs");
    assert!(
        out.status.success(),
        "loa {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `p`-th percentile (0 to 1) of µs values, in ms (NaN when there are none).
pub fn pct(v: &mut [u64], p: f64) -> f64 {
    v.sort_unstable();
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64 / 1000.0
}

/// kB as MB.
pub fn kb_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// A `loa serve` under test, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

/// Resident memory read from `/proc/PID/status`, kB.
pub struct Mem {
    pub rss_kb: u64,
    pub hwm_kb: u64,
    /// The heap and other private memory.
    pub anon_kb: u64,
    /// Mapped files: mostly the binary's own code.
    pub file_kb: u64,
}

impl Server {
    /// Starts `loa serve --plan PLAN` on `data` (its log in `data/serve.log`) and waits up to
    /// two minutes for it to listen on `port`.
    pub fn start(data: &Path, plan: &Path, port: u16) -> Server {
        let log = std::fs::File::create(data.join("serve.log")).expect("log");
        let child = clean(Command::new(env!("CARGO_BIN_EXE_loa")))
            .arg("--data-dir")
            .arg(data)
            .arg("serve")
            .arg("--plan")
            .arg(plan)
            .env("LOA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("loa serve runs");
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let ended = server.child.try_wait().ok().flatten();
            if ended.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(data.join("serve.log")).unwrap_or_default();
                panic!("loa serve did not listen ({ended:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its memory now.
    pub fn mem(&self) -> Mem {
        let text =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("/proc status");
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Mem {
            rss_kb: field("VmRSS:"),
            hwm_kb: field("VmHWM:"),
            anon_kb: field("RssAnon:"),
            file_kb: field("RssFile:"),
        }
    }

    /// Resets the peak resident memory to the current (Linux: `clear_refs` 5).
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").expect("clear_refs");
    }

    /// Asks it to stop (SIGTERM) and waits.
    pub fn stop(&mut self) {
        // SAFETY: kill(2) on our own child's pid; no memory is shared.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
