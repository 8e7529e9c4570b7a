//! Playing a date range: for each station, the kept week schedules (built and kept when
//! missing), played slot after slot by a [`StationPlayer`]. `loa playout run` uses it with
//! a simulated clock to render as fast as the machine can; the daemon plays with the wall
//! clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::airlog::{CueSource, Level};
use crate::clock::{Clock, SimClock, SystemClock};
use crate::library::audio_store::AudioStore;
use crate::library::StateChange;
use crate::plan::{Plan, Station};
use crate::playout::cues::{Announced, Makeup, Waiting};
use crate::playout::player::RunError;
use crate::playout::recovery::recover;
use crate::playout::seams::{KeptSchedules, Programme, StoreAirlog};
use crate::playout::sink::{self, SinkSpec};
use crate::playout::{Settings, StationPlayer};
use crate::schedule::service::{build_week, ScheduleError};
use crate::schedule::{IsoWeek, SlotPlaylist};
use crate::store::Store;

/// What to play.
#[derive(Debug, Clone)]
pub struct Range {
    /// First local date.
    pub from: NaiveDate,
    /// Last local date (inclusive).
    pub to: NaiveDate,
    /// Only this station.
    pub station: Option<String>,
    /// Where audio goes.
    pub sink: SinkSpec,
    /// Render on a simulated clock (as fast as possible) instead of the wall clock.
    pub simulated: bool,
    /// What a WAV capture stores.
    pub capture: crate::playout::sink::CaptureOptions,
    /// Told each station's slots to play, then each one played.
    pub progress: std::sync::Arc<dyn crate::progress::Progress>,
}

/// Why a range could not be played.
#[derive(Debug, thiserror::Error)]
pub enum PlayoutError {
    /// Bad request (unknown station, bad range).
    #[error("{0}")]
    Refused(String),
    /// The sink could not be opened.
    #[error(transparent)]
    Sink(#[from] sink::SinkError),
    /// Schedules could not be built or read.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What a range played, by airlog status.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Slot instances played.
    pub slots: usize,
    /// Item rows of the airlog by status (aired, partial, skipped, failed, interrupted).
    pub rows: BTreeMap<String, usize>,
    /// Slot rows of the airlog by status.
    pub slot_rows: BTreeMap<String, usize>,
    /// Rows closed as interrupted after a crash, before playing.
    pub recovered: usize,
}

/// The kept (or newly built) slots of `station` in `[from, to)`.
pub async fn slots_between(
    store: &dyn Store,
    plan: &Plan,
    station: &Station,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    built: &StateChange,
) -> Result<Vec<SlotPlaylist>, PlayoutError> {
    let mut week = IsoWeek::of(from.with_timezone(&station.timezone).date_naive());
    let mut out = Vec::new();
    loop {
        let (wf, _) = week.bounds(station.timezone);
        if wf >= to {
            break;
        }
        let kept = store
            .latest_weeks(&week.to_string(), Some(&station.code))
            .await?;
        let body = match kept.into_iter().next() {
            Some(k) => k.body,
            None => {
                let b =
                    build_week(store, plan, week, Some(&station.code), false, false, built).await?;
                b.schedule.stations.into_iter().next().ok_or_else(|| {
                    PlayoutError::Refused(format!("no schedule for {}", station.code))
                })?
            }
        };
        // A slot still running at `from` is included: the player joins it late.
        out.extend(body.slots.into_iter().filter(|s| {
            let t = s.start.with_timezone(&Utc);
            t + chrono::Duration::seconds(i64::from(s.length_s)) > from && t < to
        }));
        week = week.next();
    }
    Ok(out)
}

/// How far back a miss is still made up.
pub const MAKEUP_WINDOW_DAYS: i64 = 7;

/// The announcements of `station` kept in the store that still wait for its next slot
/// instance, in the order sent; one sent longer ago than the make-up window is marked
/// expired by `who` instead (the daemon was down that long: it is news no more).
pub async fn waiting_announcements(
    store: &dyn Store,
    station: &str,
    now: DateTime<Utc>,
    who: &str,
) -> Result<Vec<Announced>, crate::store::StoreError> {
    use crate::store::AnnouncementState;
    let oldest = now - chrono::Duration::days(MAKEUP_WINDOW_DAYS);
    let mut out = Vec::new();
    for a in store
        .announcements(Some(station), Some(AnnouncementState::Waiting))
        .await?
    {
        let sent = DateTime::parse_from_rfc3339(&a.sent_at).map(|t| t.with_timezone(&Utc));
        if sent.is_ok_and(|t| t < oldest) {
            store
                .end_announcement(a.id, AnnouncementState::Expired, who, now, None)
                .await?;
            tracing::warn!(
                station,
                announcement = a.id,
                "an announcement waited past the make-up window and expired"
            );
            continue;
        }
        let Some(level) = Waiting::of(a.level) else {
            continue;
        };
        out.push(Announced {
            bulletin: a.bulletin,
            level,
            who: a.who,
            id: Some(a.id),
        });
    }
    Ok(out)
}

/// Items of `station` that failed, were cut, missed or interrupted in the week before
/// `from` and have not been made up yet (no later row links to them), oldest first. The
/// airlog is the queue, so a restart forgets nothing.
pub async fn pending_makeups(
    store: &dyn Store,
    station: &str,
    from: DateTime<Utc>,
) -> Result<Vec<Makeup>, crate::store::StoreError> {
    let rows = store
        .airlog(
            Some(station),
            Some(from - chrono::Duration::days(MAKEUP_WINDOW_DAYS)),
            None,
        )
        .await?;
    let linked: std::collections::HashSet<i64> = rows.iter().filter_map(|r| r.link_seq).collect();
    Ok(rows
        .iter()
        .filter(|r| r.status.is_incident())
        .filter(|r| r.level == Level::Item.as_str())
        .filter(|r| r.source != CueSource::Fallback && !linked.contains(&r.seq))
        .filter(|r| {
            DateTime::parse_from_rfc3339(&r.planned_start)
                .is_ok_and(|t| t.with_timezone(&Utc) < from)
        })
        .filter_map(|r| {
            Some(Makeup {
                bulletin: r.bulletin_id.as_deref()?.parse().ok()?,
                link_seq: Some(r.seq),
            })
        })
        .collect())
}

fn local_midnight(station: &Station, d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight");
    station
        .timezone
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

/// Plays a date range for every station of the plan (or one) and writes the airlog.
pub async fn run_range(
    store: Arc<dyn Store>,
    plan: Arc<Plan>,
    audio: AudioStore,
    settings: &Settings,
    range: &Range,
) -> Result<Summary, PlayoutError> {
    if range.to < range.from {
        return Err(PlayoutError::Refused(format!(
            "--to {} is before --from {}",
            range.to.format("%d/%m/%Y"),
            range.from.format("%d/%m/%Y")
        )));
    }
    let stations: Vec<Station> = plan
        .stations
        .iter()
        .filter(|s| range.station.as_deref().is_none_or(|c| c == s.code))
        .cloned()
        .collect();
    if let Some(code) = &range.station {
        if stations.is_empty() {
            return Err(PlayoutError::Refused(format!(
                "station '{code}' is not in the plan '{}'",
                plan.name
            )));
        }
    }
    // Rows a crash left open are closed first; what they were is made up from the airlog.
    if let Some(journal) = &settings.journal {
        crate::playout::journal::replay_at_start(store.as_ref(), journal, SystemClock.now()).await;
    }
    let recovered = recover(store.as_ref(), SystemClock.now())
        .await?
        .values()
        .map(Vec::len)
        .sum();
    let mut summary = Summary {
        recovered,
        ..Summary::default()
    };
    let programme = KeptSchedules {
        store: store.clone(),
        plan: plan.clone(),
        who: settings.who.clone(),
        catalogue: Arc::new(crate::library::catalogue::Catalogue::new(store.clone())),
    };
    let library = programme.library().await?;
    let built_at = SystemClock.now();
    for station in stations {
        let from = local_midnight(&station, range.from);
        let to = local_midnight(&station, range.to + chrono::Duration::days(1));
        let clock: Arc<dyn Clock> = if range.simulated {
            Arc::new(SimClock::new(from))
        } else {
            Arc::new(SystemClock)
        };
        let sink = sink::open_with(&range.sink, settings.format, &range.capture)?;
        let slots = programme
            .slots(&station, from.max(clock.now()), to, built_at)
            .await?;
        let mut player = StationPlayer::new(
            station.clone(),
            plan.clone(),
            Arc::new(StoreAirlog(store.clone())),
            clock,
            audio.clone(),
            library.clone(),
            sink,
            settings.clone(),
        );
        player.queue_makeups(programme.makeups(&station.code, from).await?);
        range.progress.more(slots.len() as u64);
        for slot in &slots {
            player.play_slot(slot).await.map_err(|e| match e {
                RunError::Store(e) => PlayoutError::Store(e),
            })?;
            summary.slots += 1;
            range.progress.advance(1);
        }
        player.finish().await;
    }
    let tz = plan.timezone;
    let at = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    for r in store
        .airlog(
            range.station.as_deref(),
            at(range.from),
            at(range.to + chrono::Duration::days(1)),
        )
        .await?
    {
        let by = if r.level == Level::Slot.as_str() {
            &mut summary.slot_rows
        } else {
            &mut summary.rows
        };
        *by.entry(r.status.as_str().to_string()).or_default() += 1;
    }
    Ok(summary)
}
