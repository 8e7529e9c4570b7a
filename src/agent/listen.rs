//! The node side of the announcement stream (issue 14, point 3): the daemon holds
//! `GET /agent/v1/events` open, reconnecting with jittered exponential backoff (1 s, 2 s, …
//! up to [`MAX_BACKOFF`], each between half and the whole of it) whenever it ends or
//! fails. For each announcement pushed it:
//!
//! 1. skips one it took already (`announced.json`: the server resends what it did not see
//!    acknowledged);
//! 2. brings the bulletin's audio into the cache, verified as a sync does;
//! 3. keeps the bulletin in the node's store (its airlog rows name it) and, for a level that
//!    waits, the announcement too, so a restart of the node does not lose it;
//! 4. hands it to the player (an emergency interrupts at once);
//! 5. records it in `announced.json`, then acknowledges it to the server.
//!
//! A cancellation drops the announcement from the player's queue if it still waits.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::client::Client;
use super::live::{Push, Pushed};
use super::node::NodeDir;
use crate::clock::Clock;
use crate::library::Priority;
use crate::playout::control::Command;
use crate::store::{AnnouncementState, NewAnnouncement, Store};

/// The longest wait before reconnecting.
pub const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(60);
/// The most announcements `announced.json` remembers.
const REMEMBERED: usize = 1000;

/// What `announced.json` keeps: the server's number of each announcement taken, and its
/// number in the node's store (none for an emergency, which never waits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Announced {
    /// Server number → local number.
    pub taken: BTreeMap<i64, Option<i64>>,
}

impl Announced {
    fn load(dir: &NodeDir) -> Announced {
        std::fs::read(dir.announced_path())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, dir: &NodeDir) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::library::audio_store::write_durably(&dir.announced_path(), &bytes)
    }

    fn take(&mut self, server: i64, local: Option<i64>) {
        self.taken.insert(server, local);
        while self.taken.len() > REMEMBERED {
            self.taken.pop_first();
        }
    }
}

/// The wait before reconnection attempt `attempt` (0 first): `2^attempt` seconds up to
/// [`MAX_BACKOFF`], times `jitter` (0.5 to 1.0), so that nodes cut by one outage do not
/// all come back in the same second.
pub fn backoff(attempt: u32, jitter: f64) -> std::time::Duration {
    let base = std::time::Duration::from_secs(1u64 << attempt.min(6)).min(MAX_BACKOFF);
    base.mul_f64(jitter.clamp(0.5, 1.0))
}

/// A jitter factor from the system's random source.
fn jitter() -> f64 {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    0.5 + f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX) / 2.0
}

/// What the listener needs.
pub struct Listener {
    /// The node's folder.
    pub dir: NodeDir,
    /// Its client.
    pub client: Arc<Client>,
    /// Its store.
    pub store: Arc<dyn Store>,
    /// Its station.
    pub station: String,
    /// Its player's commands.
    pub commands: mpsc::Sender<Command>,
    /// The node's clock.
    pub clock: Arc<dyn Clock>,
}

/// Listens until `stop`.
pub async fn listen(l: Listener, mut stop: watch::Receiver<bool>) {
    let mut announced = Announced::load(&l.dir);
    let mut attempt = 0u32;
    loop {
        let opened = tokio::select! {
            r = l.client.events() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        match opened {
            Ok(resp) => {
                tracing::info!("announcement stream open");
                attempt = 0;
                let chunks = futures_util::stream::unfold(resp, |mut r| async move {
                    match r.chunk().await {
                        Ok(Some(c)) => Some((Ok(c), r)),
                        Ok(None) => None,
                        Err(e) => Some((Err(e), r)),
                    }
                });
                use eventsource_stream::Eventsource;
                let mut events = std::pin::pin!(chunks.eventsource());
                loop {
                    let next = tokio::select! {
                        e = events.next() => e,
                        _ = stop.wait_for(|s| *s) => return,
                    };
                    let e = match next {
                        Some(Ok(e)) => e,
                        Some(Err(e)) => {
                            tracing::warn!(error = %e, "announcement stream cut");
                            break;
                        }
                        None => {
                            tracing::info!("the server ended the announcement stream");
                            break;
                        }
                    };
                    let push = match e.event.as_str() {
                        "announcement" | "cancel" => serde_json::from_str::<Push>(&e.data),
                        _ => continue,
                    };
                    match push {
                        Ok(Push::Announcement(p)) => {
                            if let Err(why) = take(&l, &mut announced, *p).await {
                                tracing::error!(error = %why, "an announcement could not be taken; asking the server again");
                                break;
                            }
                        }
                        Ok(Push::Cancel { id }) => cancel(&l, &mut announced, id).await,
                        Err(e) => tracing::warn!(error = %e, "an unreadable push was ignored"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "the announcement stream cannot be opened"),
        }
        let wait = backoff(attempt, jitter());
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Takes one pushed announcement (see the module's steps). An error leaves it
/// unacknowledged: the server sends it again when the stream is opened again.
async fn take(l: &Listener, announced: &mut Announced, p: Pushed) -> Result<(), String> {
    if announced.taken.contains_key(&p.id) {
        // Taken before; the acknowledgement may have been lost.
        return ack(l, p.id).await;
    }
    super::sync::fetch_one(&l.dir, &l.client, &p.bulletin).await?;
    let now = l.clock.now();
    let bulletin = super::programme::bulletin(p.bulletin_id, &p.bulletin, now);
    l.store
        .add_bulletins(std::slice::from_ref(&bulletin))
        .await
        .map_err(|e| e.to_string())?;
    let local = if p.level == Priority::Emergency {
        None
    } else {
        let ids = l
            .store
            .add_announcements(&[NewAnnouncement {
                station: l.station.clone(),
                bulletin: p.bulletin_id,
                level: p.level,
                who: p.who.clone(),
                sent_at: now,
            }])
            .await
            .map_err(|e| e.to_string())?;
        ids.first().copied()
    };
    tracing::info!(announcement = p.id, level = %p.level, bulletin = %p.bulletin_id, "announcement received");
    l.commands
        .send(Command::Announce {
            bulletin: Box::new(bulletin),
            level: p.level,
            who: p.who.clone(),
            id: local,
        })
        .await
        .map_err(|_| "the player has stopped".to_string())?;
    announced.take(p.id, local);
    announced.save(&l.dir).map_err(|e| e.to_string())?;
    ack(l, p.id).await
}

async fn ack(l: &Listener, id: i64) -> Result<(), String> {
    if let Err(e) = l.client.took_announcement(id).await {
        // Taken here; the server marks it at the next stream (it is sent again and
        // acknowledged then).
        tracing::warn!(announcement = id, error = %e, "the announcement was taken but not acknowledged");
    }
    Ok(())
}

/// Drops a cancelled announcement from the player's queue if it still waits here.
async fn cancel(l: &Listener, announced: &mut Announced, id: i64) {
    let local = match announced.taken.get(&id) {
        Some(Some(local)) => *local,
        _ => return,
    };
    let now = l.clock.now();
    match l
        .store
        .end_announcement(local, AnnouncementState::Cancelled, "district", now, None)
        .await
    {
        Ok(true) => {
            let _ = l
                .commands
                .send(Command::CancelAnnouncement { id: local })
                .await;
            tracing::info!(announcement = id, "announcement cancelled by the district");
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(announcement = id, error = %e, "a cancellation could not be kept"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_a_minute_and_is_jittered_down_to_half() {
        let s = |a, j| backoff(a, j).as_secs_f64();
        assert_eq!(s(0, 1.0), 1.0);
        assert_eq!(s(1, 1.0), 2.0);
        assert_eq!(s(5, 1.0), 32.0);
        assert_eq!(s(6, 1.0), 60.0);
        assert_eq!(s(30, 1.0), 60.0);
        assert_eq!(s(3, 0.5), 4.0);
        assert_eq!(s(3, 0.1), 4.0);
        let j = jitter();
        assert!((0.5..=1.0).contains(&j), "{j}");
    }

    #[test]
    fn what_was_taken_is_remembered_and_bounded() {
        let mut a = Announced::default();
        for i in 0..(REMEMBERED as i64 + 10) {
            a.take(i, Some(i * 2));
        }
        assert_eq!(a.taken.len(), REMEMBERED);
        assert!(!a.taken.contains_key(&0));
        assert_eq!(
            a.taken.get(&(REMEMBERED as i64 + 9)),
            Some(&Some((REMEMBERED as i64 + 9) * 2))
        );
    }
}
