//! Recovery's side of an item row a crash (or a forger) left open: what the store knows of
//! it (its bulletin's length, its slot instance in the kept schedule), judged by the pure
//! rule in [`crate::airlog::bound`], and the closing that follows: `interrupted` with no
//! more than the row can have played, or `failed` with what does not fit.

use chrono::{DateTime, Duration, Utc};

use crate::airlog::bound::{bound, OpenFacts, Verdict};
use crate::airlog::{AirStatus, Reason, Record};
use crate::lang::{Lang, Render};
use crate::library::BulletinId;
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
