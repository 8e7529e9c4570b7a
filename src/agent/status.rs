//! The node side of the status report and of the clock (issue 14, points 3 and 6): every
//! minute the node measures its clock against the server's (one four-timestamp exchange,
//! [`super::clock`]), corrects the time its requests carry by it, keeps it in `clock.json`
//! with the latest instant it knows has passed, judges whether its clock may be played by,
//! and sends its report.
//!
//! `clock.json` keeps `seen` (the latest instant known to have passed: the node's own
//! reading while its clock was sane, or the server's time) and the last
//! [`super::clock::KEPT_MEASUREMENTS`] measurements. A clock reset to the past at boot is
//! caught by `seen` even when the server cannot be reached.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::clock::{judge, ClockState, Offset, KEPT_MEASUREMENTS};
use super::node::NodeDir;
use super::report::{NodeAlert, NodeReport, ReportedNextSlot, ReportedOnAir, MAX_ALERTS};
use crate::library::audio_store::write_durably;
use crate::playout::control::{PlayerState, Status};

/// What `clock.json` keeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockFile {
    /// The latest instant this machine knows has passed.
    pub seen: Option<DateTime<Utc>>,
    /// The measurements, oldest first.
    pub measurements: Vec<Offset>,
}

impl ClockFile {
    /// `DATA_DIR/agent/clock.json`, or an empty one (none yet, or unreadable: a bad file
    /// must not stop playout; it is written anew).
    pub fn load(dir: &NodeDir) -> ClockFile {
        std::fs::read(dir.clock_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes it durably.
    pub fn save(&self, dir: &NodeDir) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        write_durably(&dir.clock_path(), &bytes)
    }

    /// The last measurement.
    pub fn last(&self) -> Option<&Offset> {
        self.measurements.last()
    }

    /// Adds a measurement; the server's time then (the node's reading minus the offset) has
    /// passed.
    pub fn measured(&mut self, o: Offset) {
        let server_now = o.at - Duration::milliseconds(o.offset_ms);
        self.saw(server_now);
        self.measurements.push(o);
        let extra = self.measurements.len().saturating_sub(KEPT_MEASUREMENTS);
        self.measurements.drain(..extra);
    }

    /// `t` has passed.
    pub fn saw(&mut self, t: DateTime<Utc>) {
        if self.seen.is_none_or(|s| t > s) {
            self.seen = Some(t);
        }
    }
}

/// The node's clock as the daemon tracks it: the file, and the state last judged.
pub struct NodeClock {
    dir: NodeDir,
    file: Mutex<ClockFile>,
    state: Mutex<ClockState>,
}

impl NodeClock {
    /// Loads `clock.json` and judges the clock at `now` (before any exchange: a clock
    /// behind what the machine has seen is held from the start).
    pub fn load(dir: &NodeDir, now: DateTime<Utc>) -> Arc<NodeClock> {
        let file = ClockFile::load(dir);
        let state = judge(now, file.seen, file.last());
        if state.held() {
            tracing::error!(?state, now = %now, "ALERT: this machine's clock is far behind what it has seen; scheduled playout waits until the clock is set");
        }
        Arc::new(NodeClock {
            dir: dir.clone(),
            file: Mutex::new(file),
            state: Mutex::new(state),
        })
    }

    /// Whether scheduled playout waits.
    pub fn held(&self) -> bool {
        self.state().held()
    }

    /// The state last judged.
    pub fn state(&self) -> ClockState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The last measurement.
    pub fn last(&self) -> Option<Offset> {
        self.file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .copied()
    }

    /// The measurements kept, oldest first.
    pub fn measurements(&self) -> Vec<Offset> {
        self.file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .measurements
            .clone()
    }

    /// Measures against the server (when it answers), corrects the client, judges the clock
    /// at `now` and keeps the file. A sane clock's own reading counts as seen.
    pub async fn tick(&self, client: &Client, now: DateTime<Utc>) -> ClockState {
        let measured = match client.exchange().await {
            Ok(e) => Some(e.offset()),
            Err(e) => {
                tracing::debug!(error = %e, "the clock could not be compared with the server's");
                None
            }
        };
        let (state, file) = {
            let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(o) = measured {
                client.correct_by(&o);
                f.measured(o);
            }
            let state = judge(now, f.seen, f.last());
            // A sane clock's reading has passed, unless the server says the clock is far
            // off (a clock far ahead must not make the right time look like the past).
            let close = f
                .last()
                .is_none_or(|o| o.offset_ms.abs() < super::clock::HOLD_BEHIND.num_milliseconds());
            if !state.held() && close {
                f.saw(now);
            }
            (state, f.clone())
        };
        if let Err(e) = file.save(&self.dir) {
            tracing::warn!(error = %e, "clock.json not written");
        }
        let was = std::mem::replace(
            &mut *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            state.clone(),
        );
        match (was.held(), state.held()) {
            (false, true) => {
                tracing::error!(?state, "ALERT: this machine's clock is far behind the real time; scheduled playout waits until the clock is set")
            }
            (true, false) => tracing::info!("the clock is sane again; scheduled playout goes on"),
            _ => {}
        }
        if let Some(o) = measured {
            tracing::debug!(offset_ms = o.offset_ms, rtt_ms = o.rtt_ms, "clock measured");
        }
        state
    }
}

/// What the daemon knows for a report besides the clock.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The last successful sync.
    pub last_sync: Option<DateTime<Utc>>,
    /// The kept manifest's tag.
    pub manifest: Option<String>,
    /// Where the kept manifest ends.
    pub manifest_until: Option<DateTime<Utc>>,
    /// The airlog's last row.
    pub chain_head: Option<super::homeward::Head>,
    /// Rows the server does not hold yet.
    pub unsent_rows: u64,
    /// The server's head as the last upload left it.
    pub server_head: Option<i64>,
    /// Alerts of the node's own (sync, upload), newest last.
    pub alerts: Vec<NodeAlert>,
}

/// The report of the node now: `status` is its player's.
pub fn report(
    now: DateTime<Utc>,
    clock: &NodeClock,
    known: &Known,
    status: &Status,
    disk_free_mb: Option<u64>,
) -> NodeReport {
    let mut alerts: Vec<NodeAlert> = status.alerts.iter().map(NodeAlert::of).collect();
    alerts.extend(known.alerts.iter().cloned());
    let extra = alerts.len().saturating_sub(MAX_ALERTS);
    alerts.drain(..extra);
    NodeReport {
        at: now,
        version: env!("CARGO_PKG_VERSION").to_string(),
        clock: clock.last(),
        clock_state: clock.state(),
        last_sync: known.last_sync,
        manifest: known.manifest.clone(),
        manifest_until: known.manifest_until,
        disk_free_mb,
        slot: match &status.state {
            PlayerState::Playing { slot, .. } => Some(slot.clone()),
            _ => None,
        },
        slot_by: match &status.state {
            PlayerState::Playing { by: Some(by), .. } => {
                Some((by.source.as_str().to_string(), by.who.clone()))
            }
            _ => None,
        },
        on_air: status.on_air.as_ref().map(|a| ReportedOnAir {
            bulletin: a.bulletin.clone(),
            title: a.title.clone(),
            started: a.started,
            duration_ms: a.duration_ms,
            source: a.source.as_str().to_string(),
        }),
        next_slot: status.next_slot.as_ref().map(|n| ReportedNextSlot {
            name: n.name.clone(),
            start: n.start,
        }),
        chain_head: known.chain_head.clone(),
        unsent_rows: known.unsent_rows,
        alerts,
    }
}

/// Free space where the node's files are, MB.
pub fn disk_free_mb(dir: &NodeDir) -> Option<u64> {
    crate::playout::sink::wav::space::free_bytes(&dir.media_dir())
        .ok()
        .map(|b| b / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_measurement_makes_the_server_s_time_seen_and_old_ones_are_dropped() {
        let mut f = ClockFile::default();
        for i in 0..(KEPT_MEASUREMENTS + 5) {
            f.measured(Offset {
                offset_ms: -60_000,
                rtt_ms: 10,
                at: t("2026-12-06T10:00:00Z") + Duration::minutes(i as i64),
            });
        }
        assert_eq!(f.measurements.len(), KEPT_MEASUREMENTS);
        // The node is a minute behind: the server's time was a minute later.
        assert_eq!(
            f.seen,
            Some(t("2026-12-06T10:01:00Z") + Duration::minutes(KEPT_MEASUREMENTS as i64 + 4))
        );
    }

    #[test]
    fn a_clock_reset_after_a_restart_is_held_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeDir::of(dir.path());
        node.create().unwrap();
        let mut f = ClockFile::default();
        f.saw(t("2026-12-06T10:00:00Z"));
        f.save(&node).unwrap();
        assert!(NodeClock::load(&node, t("2000-01-01T00:00:00Z")).held());
        assert!(!NodeClock::load(&node, t("2026-12-06T10:00:30Z")).held());
    }

    #[test]
    fn an_unreadable_clock_file_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeDir::of(dir.path());
        node.create().unwrap();
        std::fs::write(node.clock_path(), b"{not json").unwrap();
        assert_eq!(ClockFile::load(&node), ClockFile::default());
    }
}
