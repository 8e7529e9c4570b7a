//! The systemd notification seam (`sd_notify(3)`), the one file that talks to the service
//! manager: readiness, status lines, stopping, and the watchdog. `deploy/loa.service` runs
//! `loa serve` as `Type=notify` with `WatchdogSec=30`, so the daemon says `READY=1` once it
//! plays, pings `WATCHDOG=1` at [`watchdog_interval`], and says `STOPPING=1` on SIGTERM.
//!
//! Every function is a no-op when loa does not run under systemd (`NOTIFY_SOCKET` unset:
//! a terminal, a test, `loa playout run`), and none of them ever fails or panics: a lost
//! notification must never stop playout. A send that fails is logged and forgotten.

use std::time::Duration;

use sd_notify::NotifyState;

/// Tells systemd that the daemon is up (`READY=1`), with a status line for
/// `systemctl status`. Until this is sent, systemd reports the unit as "activating".
pub fn ready(status: &str) {
    let status = one_line(status);
    send(&[NotifyState::Ready, NotifyState::Status(&status)], "ready");
}

/// Sets the status line `systemctl status loa` shows (`STATUS=…`), e.g. what is on air.
pub fn status(msg: &str) {
    let msg = one_line(msg);
    send(&[NotifyState::Status(&msg)], "status");
}

/// Tells systemd that a clean stop has begun (`STOPPING=1`), so a slow stop (closing the
/// airlog row on air) is shown as "deactivating" rather than as a hung service.
pub fn stopping() {
    send(&[NotifyState::Stopping], "stopping");
}

/// How often to call [`watchdog_ping`]: half the watchdog timeout systemd set for this
/// process (`WATCHDOG_USEC`, when `WATCHDOG_PID` is absent or names this process), so one
/// late ping does not get the daemon killed. `None` when there is no watchdog (not under
/// systemd, no `WatchdogSec=`, or a timeout of zero).
pub fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    sd_notify::watchdog_enabled()
        .filter(|t| !t.is_zero())
        .map(|t| t / 2)
}

/// Tells systemd the daemon is alive (`WATCHDOG=1`). Call it from the loop that does the
/// work, so a stuck scheduler stops the pings and systemd restarts the service.
pub fn watchdog_ping() {
    send(&[NotifyState::Watchdog], "watchdog");
}

/// The protocol is one `KEY=value` per line: a newline inside a status would start a bogus
/// key, so line breaks become spaces.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

fn send(states: &[NotifyState], what: &str) {
    if let Err(e) = sd_notify::notify(states) {
        // The watchdog pings every few seconds: a failure there would flood the journal.
        if what == "watchdog" {
            tracing::debug!(error = %e, "systemd watchdog ping not delivered");
        } else {
            tracing::warn!(error = %e, notification = what, "systemd notification not delivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::sync::Mutex;

    /// Tests here change the process environment; they take turns.
    static ENV: Mutex<()> = Mutex::new(());

    const VARS: [&str; 3] = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

    /// Sets the notification variables for one test and puts the old values back after.
    struct Env {
        saved: Vec<(&'static str, Option<std::ffi::OsString>)>,
        _turn: std::sync::MutexGuard<'static, ()>,
    }

    impl Env {
        fn set(values: &[(&'static str, &str)]) -> Env {
            let turn = ENV.lock().unwrap_or_else(|e| e.into_inner());
            let saved = VARS.iter().map(|k| (*k, std::env::var_os(k))).collect();
            for k in VARS {
                std::env::remove_var(k);
            }
            for (k, v) in values {
                std::env::set_var(k, v);
            }
            Env { saved, _turn: turn }
        }
    }

    impl Drop for Env {
        fn drop(&mut self) {
            for (k, v) in &self.saved {
                match v {
                    Some(v) => std::env::set_var(k, v),
                    None => std::env::remove_var(k),
                }
            }
        }
    }

    fn listener() -> (tempfile::TempDir, UnixDatagram, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (dir, sock, path.to_str().unwrap().to_string())
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).expect("a datagram from loa");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn under_systemd_each_call_sends_its_datagram() {
        let (_dir, sock, path) = listener();
        let _env = Env::set(&[("NOTIFY_SOCKET", &path)]);

        ready("đang phát / playing 3 stations");
        assert_eq!(
            recv(&sock),
            "READY=1\nSTATUS=đang phát / playing 3 stations\n"
        );
        watchdog_ping();
        assert_eq!(recv(&sock), "WATCHDOG=1\n");
        status("on air: VL-TT 05:30\nnext: 17:00");
        assert_eq!(recv(&sock), "STATUS=on air: VL-TT 05:30 next: 17:00\n");
        stopping();
        assert_eq!(recv(&sock), "STOPPING=1\n");
    }

    #[test]
    fn without_a_notify_socket_every_call_is_a_quiet_no_op() {
        let _env = Env::set(&[("WATCHDOG_USEC", "30000000")]);
        ready("x");
        status("x");
        watchdog_ping();
        stopping();
        assert_eq!(watchdog_interval(), None);
    }

    #[test]
    fn a_notify_socket_nobody_listens_on_does_not_fail_or_panic() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.sock");
        let _env = Env::set(&[("NOTIFY_SOCKET", gone.to_str().unwrap())]);
        ready("x");
        watchdog_ping();
        stopping();
    }

    #[test]
    fn the_ping_interval_is_half_the_watchdog_timeout_of_this_process() {
        let (_dir, _sock, path) = listener();
        let me = std::process::id().to_string();
        {
            let _env = Env::set(&[
                ("NOTIFY_SOCKET", &path),
                ("WATCHDOG_USEC", "30000000"),
                ("WATCHDOG_PID", &me),
            ]);
            assert_eq!(watchdog_interval(), Some(Duration::from_secs(15)));
        }
        {
            let other = (std::process::id() + 1).to_string();
            let _env = Env::set(&[
                ("NOTIFY_SOCKET", &path),
                ("WATCHDOG_USEC", "30000000"),
                ("WATCHDOG_PID", &other),
            ]);
            assert_eq!(
                watchdog_interval(),
                None,
                "the watchdog is another process's"
            );
        }
        {
            let _env = Env::set(&[("NOTIFY_SOCKET", &path)]);
            assert_eq!(watchdog_interval(), None, "no WatchdogSec=");
        }
        {
            let _env = Env::set(&[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "0")]);
            assert_eq!(watchdog_interval(), None, "a zero timeout is no watchdog");
        }
    }
}
