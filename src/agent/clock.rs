//! A commune machine's clock against the district server's (issue 14, point 6). Pure.
//!
//! - [`Exchange`]: the four timestamps of one request to `GET /agent/v1/time` (as NTP
//!   takes them): the node's send, the server's receipt, the server's answer, the node's
//!   receipt. Its [`Exchange::offset`] is the node's clock minus the server's, with the
//!   round trip it was measured over; half the round trip bounds its error.
//! - [`judge`]: whether the node's clock is sane enough to play the schedule by: a clock
//!   far behind the real time (a dead RTC battery at boot, a clock stepped back) would
//!   play every slot at the wrong hour and log it so. While it is held, scheduled playout
//!   waits (announcements still play) until the clock is right again.
//! - [`offset_at`]: the offset a row written at some instant was measured with: the last
//!   measurement before it (or the first after, for rows older than every measurement).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How far behind the real time a node's clock may be before scheduled playout is held.
/// Minutes behind is a drifting clock (played, alerted above `agent.max_clock_offset`);
/// an hour behind is a clock that is wrong.
pub const HOLD_BEHIND: Duration = Duration::hours(1);

/// The most measurements a node keeps (one a minute: a day of them).
pub const KEPT_MEASUREMENTS: usize = 1440;

/// The four timestamps of one exchange, in ms since 1970 (the node's clock for `sent` and
/// `received`, the server's for the other two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// t1: the node sent the request.
    pub sent: i64,
    /// t2: the server received it.
    pub server_received: i64,
    /// t3: the server answered.
    pub server_sent: i64,
    /// t4: the node received the answer.
    pub received: i64,
}

/// The node's clock against the server's, as one exchange measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offset {
    /// The node's clock minus the server's, ms: positive when the node is ahead.
    pub offset_ms: i64,
    /// The round trip, ms, the server's own time taken out.
    pub rtt_ms: i64,
    /// When it was measured, on the node's clock.
    pub at: DateTime<Utc>,
}

impl Exchange {
    /// The offset and round trip of this exchange (NTP's formulas, the sign turned so that
    /// a node ahead of the server has a positive offset), measured at the node's `t4`.
    pub fn offset(&self) -> Offset {
        let server_ahead =
            ((self.server_received - self.sent) + (self.server_sent - self.received)).div_euclid(2);
        let rtt = (self.received - self.sent) - (self.server_sent - self.server_received);
        Offset {
            offset_ms: -server_ahead,
            rtt_ms: rtt.max(0),
            at: DateTime::from_timestamp_millis(self.received).unwrap_or_default(),
        }
    }
}

/// Whether the node may play its schedule by its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClockState {
    /// It may.
    Sane,
    /// Its clock is before an instant the machine has already seen (the last time it kept,
    /// a manifest it received): the clock was reset.
    BehindSeen {
        /// That instant.
        seen: DateTime<Utc>,
    },
    /// The server's clock is far ahead of the node's.
    BehindServer {
        /// The node's clock minus the server's, ms.
        offset_ms: i64,
    },
}

impl ClockState {
    /// Whether scheduled playout waits.
    pub fn held(&self) -> bool {
        !matches!(self, ClockState::Sane)
    }
}

/// Judges the node's clock at `now` (its own reading): held when `now` is more than
/// [`HOLD_BEHIND`] before `seen` (the latest instant the machine knows has passed), or
/// when the last measurement says the server is more than [`HOLD_BEHIND`] ahead. A
/// measurement taken before the clock was stepped says nothing of it now: one older than
/// `seen`, or from the node's future, is not used.
pub fn judge(now: DateTime<Utc>, seen: Option<DateTime<Utc>>, last: Option<&Offset>) -> ClockState {
    if let Some(seen) = seen.filter(|s| now < *s - HOLD_BEHIND) {
        return ClockState::BehindSeen { seen };
    }
    if let Some(o) = last.filter(|o| o.at <= now + Duration::minutes(5)) {
        if o.offset_ms < -HOLD_BEHIND.num_milliseconds() {
            return ClockState::BehindServer {
                offset_ms: o.offset_ms,
            };
        }
    }
    ClockState::Sane
}

/// The offset in force at `at` (node clock): the last measurement at or before it, else the
/// first after it; `None` when there is none. `measurements` are in the order taken.
pub fn offset_at(measurements: &[Offset], at: DateTime<Utc>) -> Option<i64> {
    measurements
        .iter()
        .rev()
        .find(|m| m.at <= at)
        .or_else(|| measurements.first())
        .map(|m| m.offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_node_two_seconds_ahead_over_a_symmetric_link_measures_plus_two_seconds() {
        // The node sends at its 10.000 s (server 8.000), 50 ms each way, 5 ms inside.
        let e = Exchange {
            sent: 10_000,
            server_received: 8_050,
            server_sent: 8_055,
            received: 10_105,
        };
        let o = e.offset();
        assert_eq!(o.offset_ms, 2_000);
        assert_eq!(o.rtt_ms, 100);
    }

    #[test]
    fn a_node_behind_measures_a_negative_offset() {
        let e = Exchange {
            sent: 1_000,
            server_received: 61_010,
            server_sent: 61_011,
            received: 1_021,
        };
        assert_eq!(e.offset().offset_ms, -60_000);
        assert_eq!(e.offset().rtt_ms, 20);
    }

    #[test]
    fn an_asymmetric_link_errs_by_at_most_half_the_round_trip() {
        // 90 ms out, 10 ms back, clocks equal: the measured offset is off by 40 ms < 50.
        let e = Exchange {
            sent: 0,
            server_received: 90,
            server_sent: 90,
            received: 100,
        };
        let o = e.offset();
        assert!(o.offset_ms.abs() <= o.rtt_ms / 2, "{o:?}");
    }

    #[test]
    fn a_clock_before_what_the_machine_has_seen_is_held() {
        let seen = t("2026-12-06T10:00:00Z");
        let reset = t("2000-01-01T00:00:00Z");
        assert_eq!(
            judge(reset, Some(seen), None),
            ClockState::BehindSeen { seen }
        );
        assert!(judge(reset, Some(seen), None).held());
        // Minutes behind what it saw (a small step back by NTP) is not held.
        assert_eq!(
            judge(seen - Duration::minutes(10), Some(seen), None),
            ClockState::Sane
        );
    }

    #[test]
    fn a_server_far_ahead_holds_the_schedule_and_a_drift_of_minutes_does_not() {
        let now = t("2026-12-06T10:00:00Z");
        let far = Offset {
            offset_ms: -3 * 3_600_000,
            rtt_ms: 20,
            at: now,
        };
        assert!(judge(now, None, Some(&far)).held());
        let drift = Offset {
            offset_ms: -5 * 60_000,
            ..far
        };
        assert_eq!(judge(now, None, Some(&drift)), ClockState::Sane);
        let ahead = Offset {
            offset_ms: 3 * 3_600_000,
            ..far
        };
        assert_eq!(judge(now, None, Some(&ahead)), ClockState::Sane);
    }

    #[test]
    fn a_measurement_from_the_node_s_future_says_nothing_of_its_clock_now() {
        // Measured while the clock read 2026; the clock was then reset to 2000 and no
        // instant was kept: the old measurement is not used.
        let far = Offset {
            offset_ms: -3 * 3_600_000,
            rtt_ms: 20,
            at: t("2026-12-06T10:00:00Z"),
        };
        assert_eq!(
            judge(t("2026-12-06T09:00:00Z"), None, Some(&far)),
            ClockState::Sane
        );
    }

    #[test]
    fn a_row_takes_the_offset_measured_last_before_it() {
        let m = |at: &str, ms: i64| Offset {
            offset_ms: ms,
            rtt_ms: 10,
            at: t(at),
        };
        let all = [
            m("2026-12-06T10:00:00Z", 100),
            m("2026-12-06T10:01:00Z", 200),
            m("2026-12-06T10:02:00Z", 300),
        ];
        assert_eq!(offset_at(&all, t("2026-12-06T10:01:30Z")), Some(200));
        assert_eq!(offset_at(&all, t("2026-12-06T10:02:00Z")), Some(300));
        assert_eq!(offset_at(&all, t("2026-12-06T09:00:00Z")), Some(100));
        assert_eq!(offset_at(&[], t("2026-12-06T09:00:00Z")), None);
    }
}
