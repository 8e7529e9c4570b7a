//! Recovery at start: rows a crash or power cut left open are closed as `interrupted`
//! with the time known to have played, and what they were is handed back to be made up.
//! Runs before any station plays, on the store itself.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::airlog::{AirStatus, Level, Reason, Record, SlotCut, SlotTally};
use crate::playout::cues::Makeup;
use crate::store::{Closing, Store};

/// Closes rows left open by a crash or power cut as `interrupted` with the time known to
/// have played, and returns what to make up, per station. Item rows close first; an open
/// slot row then closes with what its items played (their progress is written every
/// second, so the slot's accounting loses no more than theirs).
pub async fn recover(
    store: &dyn Store,
) -> Result<HashMap<String, Vec<Makeup>>, crate::store::StoreError> {
    let mut out: HashMap<String, Vec<Makeup>> = HashMap::new();
    let (items, slots): (Vec<Record>, Vec<Record>) = store
        .open_rows()
        .await?
        .into_iter()
        .partition(|r| r.level != Level::Slot.as_str());
    let parse = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    for r in items {
        let end = r
            .actual_end
            .as_deref()
            .or(r.actual_start.as_deref())
            .and_then(parse);
        let c = Closing::new(
            AirStatus::Interrupted,
            end,
            r.played_ms.max(0) as u64,
            Reason::CrashWhilePlaying,
        );
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
