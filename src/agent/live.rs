//! What is live between `loa serve` and its commune machines (issue 14, point 3): the
//! stations they play as the console and the control API see them, announcements pushed to
//! them at once, and their status reports.
//!
//! - Every station of the plan with `output = "agent"` gets a [`StationHandle`] like a
//!   station this daemon plays ([`Live::handles`]), so the console's **Thông báo**, the
//!   urgent command and `loa ctl status` reach it the same way. Its commands go to
//!   [`relay`]: an announcement (any level) or an urgent bulletin is kept in the store and
//!   pushed to the node's stream; a cancellation is pushed too. Skip, stop and play are
//!   refused before they get here ([`PlayedBy::Agent`]).
//! - A node holds `GET /agent/v1/events` open ([`crate::web::agent`]): on connecting it gets
//!   every announcement still waiting for its station, then each new one as it is sent,
//!   and a heartbeat every [`HEARTBEAT`]. It acknowledges what it took
//!   (`POST /agent/v1/announcements/{id}`), which marks it `delivered`.
//! - A report (`POST /agent/v1/status`) replaces the station's status: what the node plays,
//!   its clock, its alerts and the server's own ([`super::report::assess`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use super::manifest::ManifestBulletin;
use super::report::{assess, NodeReport};
use crate::clock::Clock;
use crate::library::{BulletinId, Priority};
use crate::plan::{Output, Plan};
use crate::playout::control::{
    Command, Event, NextSlot, NodeSeen, OnAir, PlayedBy, PlayerState, StationHandle, Status,
};
use crate::store::{AnnouncementState, KeptAnnouncement, KeptReport, NewAnnouncement, Store};

/// How often a node's stream carries a heartbeat.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);
/// An emergency announcement not delivered within this long is not pushed any more (it is
/// marked expired): a warning that arrives an hour late may be wrong by then.
pub const EMERGENCY_STALE: Duration = Duration::minutes(30);
/// How often the server looks again at nodes that stopped reporting.
const SILENCE_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// What the server pushes to a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Push {
    /// An announcement to air.
    Announcement(Box<Pushed>),
    /// An announcement cancelled before it aired.
    Cancel {
        /// Its number on the server.
        id: i64,
    },
}

/// An announcement as pushed: everything the node needs to fetch, verify and air it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pushed {
    /// Its number on the server (the node acknowledges it by this).
    pub id: i64,
    /// Its level: `emergency` interrupts at once, the others wait for the next slot.
    pub level: Priority,
    /// The bulletin's id.
    pub bulletin_id: BulletinId,
    /// The bulletin, as a manifest names one.
    pub bulletin: ManifestBulletin,
    /// Who sent it.
    pub who: String,
    /// When (RFC 3339, UTC).
    pub sent_at: String,
}

/// One agent station on the server.
struct LiveStation {
    /// Its name.
    name: String,
    /// Its time zone (for the silence alert's words).
    tz: chrono_tz::Tz,
    /// What the console shows.
    status: Arc<Mutex<Status>>,
    /// Pushes to its node's stream.
    pushes: broadcast::Sender<Push>,
    /// Its last report and when it came.
    last: Mutex<Option<(NodeReport, DateTime<Utc>, String)>>,
}

/// The agent stations of the plan served, live.
pub struct Live {
    stations: BTreeMap<String, LiveStation>,
    /// `agent.max_clock_offset`.
    max_offset: Duration,
    /// The daemon's events (the console's on-air page follows them).
    events: broadcast::Sender<Event>,
}

impl Live {
    /// The plan's agent stations, with the reports the store kept (a restart of the server
    /// shows what the nodes said last).
    pub async fn new(
        plan: &Plan,
        store: &dyn Store,
        max_offset: Duration,
        events: broadcast::Sender<Event>,
        now: DateTime<Utc>,
    ) -> Live {
        let kept: BTreeMap<String, KeptReport> = match store.node_reports().await {
            Ok(r) => r.into_iter().map(|r| (r.station.clone(), r)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "the commune machines' last reports cannot be read");
                BTreeMap::new()
            }
        };
        let mut stations = BTreeMap::new();
        for s in plan.stations.iter().filter(|s| s.output == Output::Agent) {
            let last = kept.get(&s.code).and_then(|k| {
                serde_json::from_str::<NodeReport>(&k.report)
                    .ok()
                    .map(|r| (r, k.received_at, k.node.clone()))
            });
            let (pushes, _) = broadcast::channel(64);
            stations.insert(
                s.code.clone(),
                LiveStation {
                    name: s.name.clone(),
                    tz: s.timezone,
                    status: Arc::new(Mutex::new(Status::default())),
                    pushes,
                    last: Mutex::new(last),
                },
            );
        }
        let live = Live {
            stations,
            max_offset,
            events,
        };
        for code in live.stations.keys() {
            live.refresh(code, now);
        }
        live
    }

    /// Whether `code` is an agent station of the plan served.
    pub fn has(&self, code: &str) -> bool {
        self.stations.contains_key(code)
    }

    /// Handles for the agent stations, and the receivers of their commands for [`relay`].
    pub fn handles(&self) -> Vec<(String, StationHandle, mpsc::Receiver<Command>)> {
        self.stations
            .iter()
            .map(|(code, s)| {
                let (tx, rx) = mpsc::channel(16);
                let h = StationHandle {
                    name: s.name.clone(),
                    commands: tx,
                    status: s.status.clone(),
                    played_by: PlayedBy::Agent,
                };
                (code.clone(), h, rx)
            })
            .collect()
    }

    /// A receiver of what is pushed to `code`'s node from now on.
    pub fn subscribe(&self, code: &str) -> Option<broadcast::Receiver<Push>> {
        self.stations.get(code).map(|s| s.pushes.subscribe())
    }

    /// Pushes to `code`'s node, if it is connected (a node that is not gets it from the
    /// store when it connects).
    pub fn push(&self, code: &str, p: Push) {
        if let Some(s) = self.stations.get(code) {
            let _ = s.pushes.send(p);
        }
    }

    /// Takes a report from `node` of `code`, received at `now`, and shows it.
    pub fn report(&self, code: &str, node: &str, r: NodeReport, now: DateTime<Utc>) {
        let Some(s) = self.stations.get(code) else {
            return;
        };
        *s.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((r, now, node.to_string()));
        self.refresh(code, now);
        let _ = self.events.send(Event::NodeReported {
            station: code.to_string(),
            at: now,
        });
    }

    /// Rebuilds `code`'s status from its last report as of `now`.
    fn refresh(&self, code: &str, now: DateTime<Utc>) {
        let Some(s) = self.stations.get(code) else {
            return;
        };
        let last = s.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let status = status_of(
            last.as_ref().map(|(r, at, node)| (r, *at, node.as_str())),
            now,
            self.max_offset,
            s.tz,
        );
        let mut current = s.status.lock().unwrap_or_else(|e| e.into_inner());
        // Announcements waiting are counted by the relay; keep its count.
        let waiting = current.announcements;
        *current = Status {
            announcements: waiting,
            ..status
        };
    }

    /// Sets how many announcements wait for `code`'s node.
    fn set_waiting(&self, code: &str, n: usize) {
        if let Some(s) = self.stations.get(code) {
            s.status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .announcements = n;
        }
    }

    /// Looks at every station again (a node that stopped reporting goes silent), every
    /// [`SILENCE_CHECK`] until `stop`.
    pub async fn watch(
        self: Arc<Self>,
        clock: Arc<dyn Clock>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SILENCE_CHECK) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let now = clock.now();
            for code in self.stations.keys() {
                self.refresh(code, now);
            }
        }
    }
}

/// A station's status from its node's last report (`None`: never reported).
fn status_of(
    last: Option<(&NodeReport, DateTime<Utc>, &str)>,
    now: DateTime<Utc>,
    max_offset: Duration,
    tz: chrono_tz::Tz,
) -> Status {
    let alerts = assess(last.map(|(r, at, _)| (r, at)), now, max_offset, tz);
    let Some((r, at, node)) = last else {
        return Status {
            alerts,
            ..Status::default()
        };
    };
    let fresh = now - at <= super::report::SILENT_AFTER;
    let on_air = r.on_air.as_ref().filter(|_| fresh).and_then(|a| {
        Some(OnAir {
            bulletin: a.bulletin.clone(),
            title: a.title.clone(),
            started: a.started,
            duration_ms: a.duration_ms,
            source: a.source.parse().ok()?,
        })
    });
    Status {
        state: match r.slot.as_ref().filter(|_| fresh) {
            Some(slot) => PlayerState::Playing {
                slot: slot.clone(),
                by: r.slot_by.as_ref().and_then(|(source, who)| {
                    Some(crate::playout::control::AskedBy {
                        source: source.parse().ok()?,
                        who: who.clone(),
                    })
                }),
            },
            None => PlayerState::Idle,
        },
        on_air,
        next: Vec::new(),
        alerts,
        makeups: 0,
        announcements: 0,
        next_slot: r.next_slot.as_ref().map(|n| NextSlot {
            name: n.name.clone(),
            start: n.start,
        }),
        node: Some(NodeSeen {
            node: node.get(..16).unwrap_or(node).to_string(),
            reported_at: at,
            clock_offset_ms: r.clock.map(|c| c.offset_ms),
            clock_rtt_ms: r.clock.map(|c| c.rtt_ms),
            clock_held: r.clock_state.held(),
            last_sync: r.last_sync,
            manifest_until: r.manifest_until,
            disk_free_mb: r.disk_free_mb,
            chain_head: r.chain_head.as_ref().map(|h| h.seq),
            unsent_rows: r.unsent_rows,
            version: r.version.clone(),
        }),
    }
}

/// The announcements to push to `code`'s node when it connects: those still waiting, in
/// the order sent; an emergency older than [`EMERGENCY_STALE`], or another older than the
/// make-up window (a week), is marked expired instead.
pub async fn pending(
    store: &dyn Store,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<KeptAnnouncement>, crate::store::StoreError> {
    let mut out = Vec::new();
    for a in store
        .announcements(Some(code), Some(AnnouncementState::Waiting))
        .await?
    {
        let sent = DateTime::parse_from_rfc3339(&a.sent_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        let stale = match a.level {
            Priority::Emergency => EMERGENCY_STALE,
            Priority::Normal | Priority::Priority => {
                Duration::days(crate::playout::service::MAKEUP_WINDOW_DAYS)
            }
        };
        if now - sent > stale {
            store
                .end_announcement(a.id, AnnouncementState::Expired, "loa serve", now, None)
                .await?;
            tracing::warn!(station = %code, announcement = a.id, level = %a.level, "ALERT: an announcement could not reach its commune machine in time and expired");
            continue;
        }
        out.push(a);
    }
    Ok(out)
}

/// The push of a kept announcement, with its bulletin (`None` when the bulletin is gone).
pub async fn pushed(
    store: &dyn Store,
    a: &KeptAnnouncement,
) -> Result<Option<Pushed>, crate::store::StoreError> {
    Ok(store.bulletin(&a.bulletin).await?.map(|b| Pushed {
        id: a.id,
        level: a.level,
        bulletin_id: b.id,
        bulletin: ManifestBulletin::of(&b),
        who: a.who.clone(),
        sent_at: a.sent_at.clone(),
    }))
}

/// Takes the commands sent to agent station `code` until the daemon stops (`stop`): announcements
/// and urgent bulletins are kept (an emergency too, so a node that reconnects still gets
/// it) and pushed; cancellations pushed.
pub async fn relay(
    code: String,
    mut commands: mpsc::Receiver<Command>,
    live: Arc<Live>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    count_waiting(&live, store.as_ref(), &code).await;
    loop {
        let cmd = tokio::select! {
            got = commands.recv() => match got {
                Some(cmd) => cmd,
                None => return,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let kept = match cmd {
            Command::Announce {
                bulletin,
                level,
                who,
                id,
            } => keep(store.as_ref(), &code, id, bulletin.id, level, &who, &*clock).await,
            Command::Urgent { bulletin, who } => {
                keep(
                    store.as_ref(),
                    &code,
                    None,
                    bulletin,
                    Priority::Emergency,
                    &who,
                    &*clock,
                )
                .await
            }
            Command::CancelAnnouncement { id } => {
                live.push(&code, Push::Cancel { id });
                count_waiting(&live, store.as_ref(), &code).await;
                continue;
            }
            Command::Skip { .. } | Command::StopSlot { .. } | Command::Play { .. } => {
                tracing::warn!(station = %code, "a command for a station played by its commune machine was dropped: only announcements reach it");
                continue;
            }
        };
        match kept {
            Ok(Some(p)) => {
                tracing::info!(station = %code, announcement = p.id, level = %p.level, "announcement pushed to the commune machine");
                live.push(&code, Push::Announcement(Box::new(p)));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(station = %code, error = %e, "an announcement for the commune machine could not be kept; it was not sent")
            }
        }
        count_waiting(&live, store.as_ref(), &code).await;
    }
}

/// Keeps an announcement for `code` (unless the web layer kept it already as `id`) and
/// returns its push.
async fn keep(
    store: &dyn Store,
    code: &str,
    id: Option<i64>,
    bulletin: BulletinId,
    level: Priority,
    who: &str,
    clock: &dyn Clock,
) -> Result<Option<Pushed>, crate::store::StoreError> {
    let id = match id {
        Some(id) => id,
        None => {
            let new = NewAnnouncement {
                station: code.to_string(),
                bulletin,
                level,
                who: who.to_string(),
                sent_at: clock.now(),
            };
            let ids = store.add_announcements(&[new]).await?;
            let Some(id) = ids.first() else {
                return Ok(None);
            };
            *id
        }
    };
    match store.announcement(id).await? {
        Some(a) => pushed(store, &a).await,
        None => Ok(None),
    }
}

async fn count_waiting(live: &Live, store: &dyn Store, code: &str) {
    if let Ok(w) = store
        .announcements(Some(code), Some(AnnouncementState::Waiting))
        .await
    {
        live.set_waiting(code, w.len());
    }
}

/// Marks announcement `id` delivered to `node` of `code`: `Ok(false)` when it was not
/// waiting any more (already delivered, cancelled, expired); refused when it is another
/// station's.
pub async fn delivered(
    store: &dyn Store,
    live: &Live,
    code: &str,
    node: &str,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Result<bool, String>, crate::store::StoreError> {
    match store.announcement(id).await? {
        Some(a) if a.station == code => {
            let by = format!("loa agent {}", node.get(..16).unwrap_or(node));
            let moved = store
                .end_announcement(id, AnnouncementState::Delivered, &by, now, None)
                .await?;
            count_waiting(live, store, code).await;
            Ok(Ok(moved))
        }
        _ => Ok(Err(format!("no announcement {id} for station '{code}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::clock::{ClockState, Offset};
    use crate::playout::alert::Alert;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn report() -> NodeReport {
        NodeReport {
            at: t("2026-12-06T10:00:00Z"),
            version: "0.1.0".into(),
            clock: Some(Offset {
                offset_ms: 3_000,
                rtt_ms: 12,
                at: t("2026-12-06T10:00:00Z"),
            }),
            clock_state: ClockState::Sane,
            last_sync: None,
            manifest: None,
            manifest_until: None,
            disk_free_mb: Some(900),
            slot: Some("Sáng".into()),
            slot_by: None,
            on_air: Some(super::super::report::ReportedOnAir {
                bulletin: "b-1".into(),
                title: "Dịch vụ công".into(),
                started: t("2026-12-06T09:59:00Z"),
                duration_ms: 120_000,
                source: "schedule".into(),
            }),
            next_slot: None,
            chain_head: None,
            unsent_rows: 2,
            alerts: Vec::new(),
        }
    }

    const TZ: chrono_tz::Tz = chrono_tz::Asia::Ho_Chi_Minh;

    #[test]
    fn a_fresh_report_shows_what_the_node_plays_and_its_clock() {
        let r = report();
        let at = t("2026-12-06T10:00:01Z");
        let s = status_of(
            Some((&r, at, "ab".repeat(32).as_str())),
            at,
            Duration::seconds(2),
            TZ,
        );
        assert_eq!(
            s.on_air.as_ref().map(|a| a.title.as_str()),
            Some("Dịch vụ công")
        );
        assert_eq!(
            s.state,
            PlayerState::Playing {
                slot: "Sáng".into(),
                by: None
            }
        );
        let n = s.node.unwrap();
        assert_eq!((n.clock_offset_ms, n.unsent_rows), (Some(3_000), 2));
        assert_eq!(n.node.len(), 16);
        assert_eq!(
            s.alerts,
            vec![Alert::ClockOffset {
                offset_ms: 3_000,
                max_ms: 2_000
            }]
        );
    }

    #[tokio::test]
    async fn a_node_that_reconnects_gets_what_still_waits_and_not_what_is_stale() {
        use crate::store::AnnouncementStore;
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::sqlite::SqliteStore::open(&dir.path().join("loa.db"))
            .await
            .unwrap();
        let now = t("2026-12-06T10:00:00Z");
        let b = crate::schedule::tests::item(
            1,
            crate::library::Kind::News,
            crate::library::Topic::ALL[0],
            20,
        );
        let new = |level, ago: Duration| NewAnnouncement {
            station: "vinh-an".into(),
            bulletin: b.id,
            level,
            who: "Lê Thị Hoa".into(),
            sent_at: now - ago,
        };
        let ids = store
            .add_announcements(&[
                new(Priority::Emergency, Duration::minutes(31)),
                new(Priority::Emergency, Duration::minutes(5)),
                new(Priority::Normal, Duration::days(8)),
                new(Priority::Priority, Duration::hours(20)),
            ])
            .await
            .unwrap();
        let got: Vec<i64> = pending(&store, "vinh-an", now)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(got, vec![ids[1], ids[3]]);
        for stale in [ids[0], ids[2]] {
            let a = store.announcement(stale).await.unwrap().unwrap();
            assert_eq!(a.state, AnnouncementState::Expired);
        }
        assert!(pending(&store, "vinh-phuc", now).await.unwrap().is_empty());
    }

    #[test]
    fn a_stale_report_shows_nothing_on_air_and_the_node_silent() {
        let r = report();
        let at = t("2026-12-06T10:00:01Z");
        let s = status_of(
            Some((&r, at, "ab")),
            at + Duration::minutes(10),
            Duration::seconds(5),
            TZ,
        );
        assert!(s.on_air.is_none());
        assert_eq!(s.state, PlayerState::Idle);
        assert!(matches!(s.alerts[0], Alert::NodeSilent { since: Some(_) }));
    }
}
