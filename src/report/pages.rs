//! The pages behind a walk, read ahead: a task fetches the stations' rows page by page,
//! in export order, while the walk formats and writes the page before (on SQLite the
//! database's own work runs on sqlx's worker thread, so the two overlap). A bounded channel
//! keeps at most two pages waiting: memory stays constant whatever the range.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::airlog::Record;
use crate::store::{sort_for_export, ExportFields, ExportPage, Store};

use super::ReportError;

/// Rows fetched per store call.
pub const PAGE: u32 = 5_000;

/// Pages fetched and waiting, at most, besides the one being written.
const AHEAD: usize = 2;

/// The rows of one station to read: those whose planned start is in `[from, to)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Station code.
    pub code: String,
    /// First planned start.
    pub from: DateTime<Utc>,
    /// End of the planned starts (excluded).
    pub to: DateTime<Utc>,
}

/// One page as the store gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// Whole records: a check re-hashes them.
    Records(Vec<Record>),
    /// Only what files show, packed.
    Packed(ExportPage),
}

impl Fetched {
    /// The whole records (none for a packed page).
    pub fn records(&self) -> &[Record] {
        match self {
            Fetched::Records(r) => r,
            Fetched::Packed(_) => &[],
        }
    }

    /// The exported fields of each row, in export order, borrowed from the page.
    pub fn rows(&self) -> Vec<ExportFields<'_>> {
        match self {
            Fetched::Records(r) => {
                let mut rows: Vec<ExportFields> = r.iter().map(ExportFields::from).collect();
                sort_for_export(&mut rows);
                rows
            }
            Fetched::Packed(p) => p.rows().collect(),
        }
    }

    /// How many rows the page has.
    pub fn len(&self) -> usize {
        match self {
            Fetched::Records(r) => r.len(),
            Fetched::Packed(p) => p.len(),
        }
    }

    /// Whether the page has no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The planned start and seq of the page's last row, where the next page starts.
    fn last_key(&self) -> Option<(&str, i64)> {
        match self {
            Fetched::Records(r) => r.last().map(|r| (r.planned_start.as_str(), r.seq)),
            Fetched::Packed(p) => p.rows().next_back().map(|r| (r.planned_start, r.seq)),
        }
    }
}

/// A page of the station at `station` in the spans.
#[derive(Debug)]
pub struct Page {
    /// Index of the station in the spans.
    pub station: usize,
    /// Whether it is the station's last page.
    pub last: bool,
    /// The rows.
    pub fetched: Fetched,
}

/// The pages of a list of spans, in order: every station's pages, the last one marked.
pub struct Pages {
    /// Pages fetched ahead (or the error that stopped the reader).
    rx: mpsc::Receiver<Result<Page, ReportError>>,
    /// The reader, stopped when the walk ends early.
    task: JoinHandle<()>,
}

impl Pages {
    /// Starts reading `spans` ahead, `page` rows a store call ([`PAGE`] in exports): whole
    /// records when `records` is set, else packed.
    pub fn start(store: Arc<dyn Store>, spans: Vec<Span>, records: bool, page: u32) -> Pages {
        let (tx, rx) = mpsc::channel(AHEAD);
        let task = tokio::spawn(async move {
            for (station, span) in spans.iter().enumerate() {
                let mut after: Option<(String, i64)> = None;
                loop {
                    let after_ref = after.as_ref().map(|(t, s)| (t.as_str(), *s));
                    let fetched = fetch(&*store, span, after_ref, records, page).await;
                    let (fetched, next) = match fetched {
                        Ok(f) => f,
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    };
                    let last = next.is_none();
                    let page = Page {
                        station,
                        last,
                        fetched,
                    };
                    if tx.send(Ok(page)).await.is_err() {
                        return; // The walk ended early.
                    }
                    match next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
            }
        });
        Pages { rx, task }
    }

    /// The next page. Called once per page the spans have, no more.
    pub async fn next(&mut self) -> Result<Page, ReportError> {
        match self.rx.recv().await {
            Some(page) => page,
            None => match (&mut self.task).await {
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                _ => Err(ReportError::ReaderStopped),
            },
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One page of `span` after `after`, and the key of the next page when there may be one.
async fn fetch(
    store: &dyn Store,
    span: &Span,
    after: Option<(&str, i64)>,
    records: bool,
    page: u32,
) -> Result<(Fetched, Option<(String, i64)>), ReportError> {
    let fetched = if records {
        Fetched::Records(
            store
                .airlog_page(&span.code, span.from, span.to, after, page)
                .await?,
        )
    } else {
        Fetched::Packed(
            store
                .export_page(&span.code, span.from, span.to, after, page)
                .await?,
        )
    };
    let next = match fetched.last_key() {
        Some((t, seq)) if fetched.len() == page as usize => Some((t.to_string(), seq)),
        _ => None,
    };
    Ok((fetched, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::airlog::Level;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AirlogStore, Closing, NewRow};

    /// A store with `n` closed item rows at each station, a minute apart, each station's
    /// items within a slot row (which exports do not list).
    async fn store(dir: &std::path::Path, stations: &[(&str, i64)]) -> Arc<dyn Store> {
        let store = SqliteStore::open(&dir.join("loa.db")).await.unwrap();
        let start: DateTime<Utc> = "2023-03-05T22:30:00Z".parse().unwrap();
        for (station, n) in stations {
            let slot = NewRow {
                level: Level::Slot,
                station: station.to_string(),
                slot_start: start,
                bulletin_id: None,
                sha256: None,
                planned_start: start,
                actual_start: Some(start),
                source: crate::airlog::CueSource::Schedule,
                reason: "Bản tin sáng".into(),
                gain_db: None,
                who: "loa".into(),
                link_seq: None,
            };
            let slot = store.open_row(&slot).await.unwrap();
            // Inserted last row first: pages follow planned start, not insertion.
            for i in (0..*n).rev() {
                let row = NewRow {
                    level: Level::Item,
                    station: station.to_string(),
                    slot_start: start,
                    bulletin_id: None,
                    sha256: None,
                    planned_start: start + chrono::Duration::minutes(i),
                    actual_start: None,
                    source: crate::airlog::CueSource::Schedule,
                    reason: crate::airlog::AirReason::none(),
                    gain_db: None,
                    who: "loa".into(),
                    link_seq: None,
                };
                let closing = Closing::new(
                    crate::airlog::AirStatus::Skipped,
                    None,
                    0,
                    crate::airlog::AirReason::parse(&format!("lỡ {i}: \"x\"\n:")),
                );
                store.record(&row, &closing).await.unwrap();
            }
            let closing = Closing::new(
                crate::airlog::AirStatus::Aired,
                Some(start + chrono::Duration::minutes(*n)),
                0,
                crate::airlog::AirReason::none(),
            );
            store.close_row(slot, &closing).await.unwrap();
        }
        Arc::new(store)
    }

    #[tokio::test]
    async fn pages_come_station_by_station_each_ending_with_a_page_marked_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), &[("a", 5), ("b", 0), ("c", 2)]).await;
        let day: DateTime<Utc> = "2023-03-05T17:00:00Z".parse().unwrap();
        let spans: Vec<Span> = ["a", "b", "c"]
            .iter()
            .map(|code| Span {
                code: code.to_string(),
                from: day,
                to: day + chrono::Duration::days(1),
            })
            .collect();
        let mut seen = Vec::new();
        for records in [false, true] {
            let mut pages = Pages::start(Arc::clone(&store), spans.clone(), records, 2);
            let mut got = Vec::new();
            for station in 0..spans.len() {
                loop {
                    let p = pages.next().await.unwrap();
                    assert_eq!(p.station, station);
                    assert_eq!(
                        p.fetched.records().len(),
                        if records { p.fetched.len() } else { 0 }
                    );
                    let rows: Vec<(String, String)> = p
                        .fetched
                        .rows()
                        .iter()
                        .map(|r| (r.station.to_string(), r.reason.to_string()))
                        .collect();
                    got.push((p.station, p.last, rows));
                    if p.last {
                        break;
                    }
                }
            }
            let shape: Vec<(usize, bool, usize)> =
                got.iter().map(|(s, l, r)| (*s, *l, r.len())).collect();
            assert_eq!(
                shape,
                [
                    (0, false, 2),
                    (0, false, 2),
                    (0, true, 1),
                    (1, true, 0),
                    (2, false, 2),
                    (2, true, 0)
                ]
            );
            let a: Vec<&str> = got[..3]
                .iter()
                .flat_map(|(_, _, r)| r.iter().map(|(_, reason)| reason.as_str()))
                .collect();
            assert_eq!(a[0], "lỡ 0: \"x\"\n:");
            assert_eq!(a[4], "lỡ 4: \"x\"\n:");
            seen.push(got);
        }
        assert_eq!(
            seen[0], seen[1],
            "packed pages hold what whole records hold"
        );
    }
}
