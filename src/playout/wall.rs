//! One station on the wall clock: the loop the daemon runs for every station it serves, and
//! that the commune agent runs with its own [`Programme`]. It asks the programme for the
//! slot instances from now until the build-ahead horizon, plays the first one not yet
//! played, and idles until the next hour (or a minute, after an error) when there is none.
//! It waits for a slot instance until [`COMMIT`] before its start and then reads the
//! programme again, so a week rebuilt or edited in the console while it waited is what
//! plays (the playlist and the library are taken as they are at that moment).
//!
//! Owns: the order of slot instances on the wall clock (each plays once) and the station's
//! "next slot" in its status. Does not touch: audio, the airlog or the schedule's rules (the
//! [`StationPlayer`] and the programme own those).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::clock::Clock;
use crate::plan::Station;
use crate::playout::control::{NextSlot, Status, Waited};
use crate::playout::seams::Programme;
use crate::playout::StationPlayer;
use crate::schedule::SlotPlaylist;

/// How long a station waits with nothing to play before it asks again.
const IDLE: Duration = Duration::hours(1);
/// How long it waits after the programme could not be read.
const RETRY: Duration = Duration::minutes(1);
/// How long before a slot instance's start its playlist is read for the last time: an edit
/// made later plays from the next instance.
pub const COMMIT: Duration = Duration::seconds(5);

/// Plays `station` on the wall clock until the player is told to stop, then closes what
/// is on air ([`StationPlayer::finish`]). `ahead_days` builds next week's playlists that
/// many days early.
pub async fn play_station(
    mut player: StationPlayer,
    station: Station,
    programme: Arc<dyn Programme>,
    clock: Arc<dyn Clock>,
    ahead_days: u32,
) {
    let status = player.status();
    // The start of the last slot instance played: each plays once.
    let mut played: Option<DateTime<Utc>> = None;
    while !player.is_stopping() {
        let now = clock.now();
        if let Ok(l) = programme.library().await {
            player.set_library(l);
        }
        let next = match programme
            .slots(&station, now, horizon(now, ahead_days), now)
            .await
        {
            Ok(slots) => next_unplayed(slots, played),
            Err(e) => {
                tracing::error!(station = %station.code, error = %e, "cannot read or build the schedule; retrying in a minute");
                if player.idle_until(now + RETRY).await == Waited::Shutdown {
                    break;
                }
                continue;
            }
        };
        show_next_slot(&status, next.as_ref());
        let Some(slot) = next else {
            if player.idle_until(now + IDLE).await == Waited::Shutdown {
                break;
            }
            continue;
        };
        let start = slot.start.with_timezone(&Utc);
        if let Some(wake) = read_again_at(now, start) {
            // Read the week again just before the start: it may have changed meanwhile.
            if player.idle_until(wake).await == Waited::Shutdown {
                break;
            }
            continue;
        }
        played = Some(start);
        if let Err(e) = player.play_slot(&slot).await {
            tracing::error!(station = %station.code, error = %e, "slot failed");
        }
    }
    player.finish().await;
}

/// How far ahead the station asks for slot instances: the rest of today and tomorrow, and
/// `ahead_days` more, so next week's playlists are built that early.
pub fn horizon(now: DateTime<Utc>, ahead_days: u32) -> DateTime<Utc> {
    now + Duration::days(1 + i64::from(ahead_days))
}

/// When the station must read the programme again before playing the slot instance
/// starting at `start`: `None` when it is time to play it (within [`COMMIT`] of its start,
/// or later).
pub fn read_again_at(now: DateTime<Utc>, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = start - COMMIT;
    (now < at).then_some(at)
}

/// The first slot instance (in the programme's order) that starts after the last one played.
pub fn next_unplayed(
    slots: Vec<SlotPlaylist>,
    played: Option<DateTime<Utc>>,
) -> Option<SlotPlaylist> {
    slots
        .into_iter()
        .find(|s| played.is_none_or(|p| s.start.with_timezone(&Utc) > p))
}

/// Shows the slot instance a station waits for in its status (`loa ctl status`).
fn show_next_slot(status: &Mutex<Status>, slot: Option<&SlotPlaylist>) {
    status.lock().unwrap_or_else(|e| e.into_inner()).next_slot = slot.map(|s| NextSlot {
        name: s.name.clone(),
        start: s.start,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn slot(name: &str, hour: u32) -> SlotPlaylist {
        let vn = FixedOffset::east_opt(7 * 3600).unwrap();
        SlotPlaylist {
            name: name.into(),
            start: vn.with_ymd_and_hms(2023, 3, 6, hour, 30, 0).unwrap(),
            length_s: 900,
            cchc_s: 600,
            items: Vec::new(),
        }
    }

    fn utc(slot: &SlotPlaylist) -> DateTime<Utc> {
        slot.start.with_timezone(&Utc)
    }

    #[test]
    fn with_nothing_played_yet_the_first_slot_instance_is_next() {
        let next = next_unplayed(vec![slot("sáng", 5), slot("chiều", 16)], None);
        assert_eq!(next.map(|s| s.name), Some("sáng".to_string()));
    }

    #[test]
    fn a_slot_instance_already_played_is_not_played_again() {
        let morning = slot("sáng", 5);
        let played = Some(utc(&morning));
        let next = next_unplayed(vec![morning, slot("chiều", 16)], played);
        assert_eq!(next.map(|s| s.name), Some("chiều".to_string()));
    }

    #[test]
    fn when_every_slot_instance_has_played_the_station_idles() {
        let evening = slot("chiều", 16);
        let played = Some(utc(&evening));
        assert!(next_unplayed(vec![slot("sáng", 5), evening], played).is_none());
        assert!(next_unplayed(Vec::new(), None).is_none());
    }

    #[test]
    fn a_slot_instance_is_read_again_just_before_it_starts_and_then_played() {
        let start = utc(&slot("sáng", 5));
        let early = start - Duration::hours(3);
        assert_eq!(read_again_at(early, start), Some(start - COMMIT));
        assert_eq!(read_again_at(start - COMMIT, start), None);
        assert_eq!(read_again_at(start + Duration::minutes(2), start), None);
    }

    #[test]
    fn the_horizon_reaches_tomorrow_and_the_build_ahead_days() {
        let now = Utc.with_ymd_and_hms(2023, 3, 6, 0, 0, 0).unwrap();
        assert_eq!(horizon(now, 0), now + Duration::days(1));
        assert_eq!(horizon(now, 2), now + Duration::days(3));
    }

    #[test]
    fn the_status_shows_the_slot_instance_the_station_waits_for() {
        let status = Mutex::new(Status::default());
        let s = slot("sáng", 5);
        show_next_slot(&status, Some(&s));
        let next = status.lock().unwrap().next_slot.clone().unwrap();
        assert_eq!((next.name.as_str(), next.start), ("sáng", s.start));
        show_next_slot(&status, None);
        assert!(status.lock().unwrap().next_slot.is_none());
    }
}
