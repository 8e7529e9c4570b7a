//! Recovery at start: rows a crash or power cut (or a forger) left open are closed, and
//! what they were is handed back to be made up. An item row is judged by what the store
//! knows of it (its bulletin's length, its slot instance in the kept schedule) with the pure
//! rule in [`crate::airlog::bound`]: `interrupted` with no more than the row can have
//! played, or `failed` with what does not fit. An open slot row then closes with what its
//! items did. Runs before any station plays, on the store itself.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::airlog::bound::{bound, OpenFacts, Verdict};
use crate::airlog::{AirStatus, Level, Reason, Record, SlotCut, SlotTally};
use crate::lang::{Lang, Render};
use crate::library::BulletinId;
use crate::playout::cues::Makeup;
use crate::schedule::IsoWeek;
use crate::store::{Closing, Store, StoreError};

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The end of the slot instance that starts at `start` at `station`, from the kept
/// schedules (the ISO weeks around it: a station's local week may start up to 14 hours
/// before or after UTC's).
async fn slot_end(
    store: &dyn Store,
    station: &str,
    start: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut weeks: Vec<IsoWeek> = [-14, 14]
        .iter()
        .map(|h| IsoWeek::of((start + Duration::hours(*h)).date_naive()))
        .collect();
    weeks.dedup();
    for week in weeks {
        for kept in store.latest_weeks(&week.to_string(), Some(station)).await? {
            if let Some(s) = kept
                .body
                .slots
                .iter()
                .find(|s| s.start.with_timezone(&Utc) == start)
            {
                return Ok(Some(start + Duration::seconds(i64::from(s.length_s))));
            }
        }
    }
    Ok(None)
}

/// How recovery closes an open item row, as of `now`.
pub async fn closing_for_open_item(
    store: &dyn Store,
    r: &Record,
    now: DateTime<Utc>,
) -> Result<Closing, StoreError> {
    let start = r.actual_start.as_deref().and_then(parse);
    let verdict = match parse(&r.slot_start) {
        None => Verdict::Fail(crate::airlog::bound::Misfit::StartOutsideSlot),
        Some(slot_start) => {
            let bulletin_ms = match r.bulletin_id.as_deref().map(str::parse::<BulletinId>) {
                Some(Ok(id)) => store.bulletin(&id).await?.map(|b| b.audio.duration_ms),
                _ => None,
            };
            bound(&OpenFacts {
                actual_start: start,
                progress_at: r.actual_end.as_deref().and_then(parse),
                played_ms: r.played_ms,
                bulletin_ms,
                slot_start,
                slot_end: slot_end(store, &r.station, slot_start).await?,
                now,
            })
        }
    };
    Ok(match verdict {
        Verdict::Seal { played_ms, end } => Closing::new(
            AirStatus::Interrupted,
            end,
            played_ms,
            Reason::CrashWhilePlaying,
        ),
        Verdict::Fail(misfit) => {
            tracing::error!(station = %r.station, seq = r.seq, played_ms = r.played_ms, misfit = %misfit.render(Lang::En), "an open airlog row does not fit what can have played; closed as failed");
            Closing::new(
                AirStatus::Failed,
                start,
                0,
                Reason::OpenRowFailed { misfit },
            )
        }
    })
}

/// Closes rows left open by a crash or power cut as `interrupted` with the time known to
/// have played (bounded by its bulletin and its progress records; a row that does not fit
/// them is closed `failed`), and returns what to make up, per station. Item rows close first; an open
/// slot row then closes with what its items played (their progress is written every
/// second, so the slot's accounting loses no more than theirs).
pub async fn recover(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<HashMap<String, Vec<Makeup>>, StoreError> {
    let mut out: HashMap<String, Vec<Makeup>> = HashMap::new();
    let (items, slots): (Vec<Record>, Vec<Record>) = store
        .open_rows()
        .await?
        .into_iter()
        .partition(|r| r.level != Level::Slot.as_str());
    for r in items {
        // Never more than the row can have played (crate::airlog::bound).
        let c = closing_for_open_item(store, &r, now).await?;
        let closed = store.close_row(r.seq, &c).await?;
        tracing::warn!(station = %closed.station, seq = closed.seq, played_ms = closed.played_ms, "closed an interrupted airlog row");
        if let Some(id) = closed.bulletin_id.as_deref().and_then(|s| s.parse().ok()) {
            out.entry(closed.station.clone()).or_default().push(Makeup {
                bulletin: id,
                link_seq: Some(closed.seq),
            });
        }
    }
    for r in slots {
        let mut run = SlotTally::default();
        for i in store
            .airlog(Some(&r.station), parse(&r.slot_start), None)
            .await?
            .iter()
            .filter(|i| {
                i.level == Level::Item.as_str() && i.slot_start == r.slot_start && i.seq > r.seq
            })
        {
            run.count(i.status, i.played_ms.max(0) as u64);
            let end = i.actual_end.as_deref().and_then(parse);
            run.last_end = run.last_end.max(end);
        }
        run.cut = Some(SlotCut::Crash);
        let outcome = run.outcome();
        let c = Closing::new(outcome.status, run.last_end, run.played_ms, outcome.reason);
        let closed = store.close_row(r.seq, &c).await?;
        tracing::warn!(station = %closed.station, seq = closed.seq, played_ms = closed.played_ms, "closed an interrupted slot row");
    }
    Ok(out)
}
