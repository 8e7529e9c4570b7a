//! A commune machine's status report (issue 14, point 3), sent every minute to
//! `POST /agent/v1/status`: its clock against the server's, its last sync, its disk, what
//! it plays, its chain head and its alerts. The server keeps the last one per station
//! ([`crate::store::KeptReport`]) and shows it in `loa ctl status` and on the on-air page,
//! adding its own judgement ([`assess`]): a clock beyond `agent.max_clock_offset`, a held
//! schedule, a node that went silent. Pure.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::clock::{ClockState, Offset};
use super::homeward::Head;
use crate::lang::{Lang, Render};
use crate::playout::alert::Alert;

/// The largest report taken, bytes.
pub const MAX_REPORT: usize = 64 * 1024;
/// The most alerts a report carries (the newest).
pub const MAX_ALERTS: usize = 10;
/// A node that has not reported for this long is shown as silent.
pub const SILENT_AFTER: Duration = Duration::minutes(3);

/// What a node reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeReport {
    /// When it was written, on the node's clock.
    pub at: DateTime<Utc>,
    /// The node's loa version.
    pub version: String,
    /// The last measurement of its clock against the server's.
    pub clock: Option<Offset>,
    /// Whether its clock lets it play the schedule.
    pub clock_state: ClockState,
    /// When it last synced the manifest and media successfully.
    pub last_sync: Option<DateTime<Utc>>,
    /// The kept manifest's tag.
    pub manifest: Option<String>,
    /// Where its kept manifest ends: past it the node plays the fallback.
    pub manifest_until: Option<DateTime<Utc>>,
    /// Free space where its cache and airlog are, MB.
    pub disk_free_mb: Option<u64>,
    /// The slot it plays (none: waiting for one).
    pub slot: Option<String>,
    /// For an operator's item outside any slot: its source code and who asked.
    #[serde(default)]
    pub slot_by: Option<(String, String)>,
    /// The item on air.
    pub on_air: Option<ReportedOnAir>,
    /// The slot instance it waits for.
    pub next_slot: Option<ReportedNextSlot>,
    /// Its airlog's last row.
    pub chain_head: Option<Head>,
    /// Rows of its airlog the server does not hold yet (as of its last upload).
    pub unsent_rows: u64,
    /// Its recent alerts, newest last, in both languages.
    pub alerts: Vec<NodeAlert>,
}

/// The item a node has on air.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedOnAir {
    /// Bulletin id.
    pub bulletin: String,
    /// Its title.
    pub title: String,
    /// When it started.
    pub started: DateTime<Utc>,
    /// Its length, ms.
    pub duration_ms: u64,
    /// Why it was cued (an airlog source code).
    pub source: String,
}

/// The slot instance a node waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedNextSlot {
    /// Its name.
    pub name: String,
    /// When it starts, station-local.
    pub start: DateTime<chrono::FixedOffset>,
}

/// One of a node's alerts, as the node rendered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeAlert {
    /// In Vietnamese.
    pub vi: String,
    /// In English.
    pub en: String,
}

impl NodeAlert {
    /// An alert of the node's own, in both languages.
    pub fn of(a: &Alert) -> NodeAlert {
        NodeAlert {
            vi: a.render(Lang::Vi),
            en: a.render(Lang::En),
        }
    }
}

impl NodeReport {
    /// Refuses a report the server should not keep: too many alerts, overlong words, a
    /// source code that is not one.
    pub fn check(&self) -> Result<(), String> {
        if self.alerts.len() > MAX_ALERTS {
            return Err(format!(
                "{} alerts; a report carries at most {MAX_ALERTS}",
                self.alerts.len()
            ));
        }
        let long = |s: &str| s.chars().count() > 500;
        if self.alerts.iter().any(|a| long(&a.vi) || long(&a.en)) {
            return Err("an alert is longer than 500 characters".into());
        }
        if let Some(a) = &self.on_air {
            a.source
                .parse::<crate::airlog::CueSource>()
                .map_err(|e| format!("on_air.source: {e}"))?;
            if long(&a.title) || long(&a.bulletin) {
                return Err("on_air: a title or id longer than 500 characters".into());
            }
        }
        if self.slot.as_deref().is_some_and(long) || self.version.len() > 64 {
            return Err("slot or version is too long".into());
        }
        Ok(())
    }
}

/// The server's alerts about a node, from its last report received at `received_at`, as
/// of `now`: silent past [`SILENT_AFTER`], its clock held, its clock beyond `max_offset`;
/// then the node's own alerts.
pub fn assess(
    report: Option<(&NodeReport, DateTime<Utc>)>,
    now: DateTime<Utc>,
    max_offset: Duration,
    tz: chrono_tz::Tz,
) -> Vec<Alert> {
    let Some((r, received_at)) = report else {
        return vec![Alert::NodeSilent { since: None }];
    };
    let mut out = Vec::new();
    if now - received_at > SILENT_AFTER {
        out.push(Alert::NodeSilent {
            since: Some(
                received_at
                    .with_timezone(&tz)
                    .format("%d/%m/%Y %H:%M")
                    .to_string(),
            ),
        });
    }
    if r.clock_state.held() {
        out.push(Alert::ClockHeld);
    }
    if let Some(c) = r
        .clock
        .filter(|c| c.offset_ms.abs() > max_offset.num_milliseconds())
    {
        out.push(Alert::ClockOffset {
            offset_ms: c.offset_ms,
            max_ms: max_offset.num_milliseconds(),
        });
    }
    out.extend(r.alerts.iter().map(|a| Alert::FromNode {
        vi: a.vi.clone(),
        en: a.en.clone(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    pub(crate) fn report(offset_ms: i64) -> NodeReport {
        NodeReport {
            at: t("2026-12-06T10:00:00Z"),
            version: "0.1.0".into(),
            clock: Some(Offset {
                offset_ms,
                rtt_ms: 12,
                at: t("2026-12-06T10:00:00Z"),
            }),
            clock_state: ClockState::Sane,
            last_sync: Some(t("2026-12-06T09:59:30Z")),
            manifest: Some("\"abc\"".into()),
            manifest_until: Some(t("2026-12-12T17:00:00Z")),
            disk_free_mb: Some(12_000),
            slot: None,
            slot_by: None,
            on_air: None,
            next_slot: None,
            chain_head: None,
            unsent_rows: 0,
            alerts: Vec::new(),
        }
    }

    const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

    #[test]
    fn a_fresh_report_with_a_close_clock_raises_nothing() {
        let now = t("2026-12-06T10:00:05Z");
        let r = report(300);
        assert!(assess(Some((&r, now)), now, Duration::seconds(2), TZ).is_empty());
    }

    #[test]
    fn a_clock_beyond_the_allowed_offset_either_way_is_alerted() {
        let now = t("2026-12-06T10:00:05Z");
        for ms in [2_500, -2_500] {
            let r = report(ms);
            let alerts = assess(Some((&r, now)), now, Duration::seconds(2), TZ);
            assert_eq!(
                alerts,
                vec![Alert::ClockOffset {
                    offset_ms: ms,
                    max_ms: 2_000
                }]
            );
        }
    }

    #[test]
    fn a_node_that_stopped_reporting_is_silent_since_its_last_report_local_time() {
        let received = t("2026-12-06T10:00:05Z");
        let r = report(0);
        let later = received + Duration::minutes(4);
        assert_eq!(
            assess(Some((&r, received)), later, Duration::seconds(2), TZ),
            vec![Alert::NodeSilent {
                since: Some("06/12/2026 17:00".into())
            }]
        );
        assert_eq!(
            assess(None, later, Duration::seconds(2), TZ),
            vec![Alert::NodeSilent { since: None }]
        );
    }

    #[test]
    fn a_held_clock_and_the_node_s_own_alerts_are_shown() {
        let now = t("2026-12-06T10:00:05Z");
        let mut r = report(0);
        r.clock_state = ClockState::BehindSeen {
            seen: t("2026-12-06T09:00:00Z"),
        };
        r.alerts.push(NodeAlert {
            vi: "khung giờ trống".into(),
            en: "slot empty".into(),
        });
        let alerts = assess(Some((&r, now)), now, Duration::seconds(2), TZ);
        assert_eq!(alerts[0], Alert::ClockHeld);
        assert_eq!(alerts[1].render(Lang::Vi), "máy xã báo: khung giờ trống");
    }

    #[test]
    fn a_report_with_an_unknown_source_or_too_many_alerts_is_refused() {
        let mut r = report(0);
        r.on_air = Some(ReportedOnAir {
            bulletin: "b".into(),
            title: "t".into(),
            started: t("2026-12-06T10:00:00Z"),
            duration_ms: 1,
            source: "radio".into(),
        });
        assert!(r.check().unwrap_err().contains("on_air.source"));
        let mut r = report(0);
        r.alerts = vec![
            NodeAlert {
                vi: "a".into(),
                en: "a".into()
            };
            MAX_ALERTS + 1
        ];
        assert!(r.check().is_err());
        assert!(report(0).check().is_ok());
    }
}
