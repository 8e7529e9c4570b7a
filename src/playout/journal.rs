//! The held-row journal: airlog rows (and closings) the store would not take are, at a clean
//! stop, appended to `airlog-journal.jsonl` beside the database, one JSON object a line, and
//! fsynced (the file and its folder) before the player reports it stopped. The next start
//! replays the journal into the store before anything else touches the airlog, each row
//! marked written late, then removes it; the rows keep the status playout gave them, so an
//! item loa attempted is never relabelled "missed" by the slot that resumes.
//!
//! While the journal waits (the database still refuses it), a slot that resumes counts
//! what it holds as done ([`pending`]).
//!
//! Replay is idempotent: a row the store already holds (same station, level, planned and
//! actual start, bulletin, source) and a closing of a row no longer open are skipped, so a
//! crash during replay neither loses nor doubles a row. A line that cannot be read is kept
//! in the journal and named in the error.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::airlog::{AirReason, AirStatus, CueSource, Level, Reason, Record};
use crate::store::{Closing, NewRow, Store, StoreError};

/// The journal's file name, beside the database (in the data dir for PostgreSQL); the
/// config resolves its path.
pub use crate::config::JOURNAL_FILE;

/// Writes the rows an earlier stop kept in the journal, at a start (the daemon's, or a
/// `playout run`'s) before anything else touches the airlog; when the store still refuses
/// them they stay there for the next start, and playout goes on. Says in the log what it
/// wrote.
pub async fn replay_at_start(store: &dyn Store, path: &Path, now: DateTime<Utc>) {
    match replay(store, path, now).await {
        Ok(r) if r.rows + r.closes + r.skipped > 0 => tracing::warn!(
            rows = r.rows,
            closings = r.closes,
            already_written = r.skipped,
            journal = %path.display(),
            "wrote the airlog rows an earlier stop kept in the journal (marked written late)"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "the airlog journal was not replayed"),
    }
}

/// A row as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalRow {
    /// `item` or `slot`.
    pub level: String,
    /// Station code.
    pub station: String,
    /// Start of the slot instance.
    pub slot_start: DateTime<Utc>,
    /// The bulletin.
    pub bulletin_id: Option<String>,
    /// SHA-256 of its audio.
    pub sha256: Option<String>,
    /// When it should have started.
    pub planned_start: DateTime<Utc>,
    /// When it started.
    pub actual_start: Option<DateTime<Utc>>,
    /// Why it was cued.
    pub source: CueSource,
    /// The reason it was opened with, in its stored form.
    pub reason: String,
    /// Gain applied, dB.
    pub gain_db: Option<f64>,
    /// Operator or "loa".
    pub who: String,
    /// A related row.
    pub link_seq: Option<i64>,
}

/// A closing as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalClosing {
    /// How it ended.
    pub status: AirStatus,
    /// When it ended.
    pub actual_end: Option<DateTime<Utc>>,
    /// How much played, ms.
    pub played_ms: u64,
    /// Why, in its stored form.
    pub reason: String,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// A row the store never had.
    Row {
        /// The row (boxed: most of an entry's size).
        row: Box<JournalRow>,
        /// How it ended.
        closing: JournalClosing,
        /// Since when the store refused writes.
        held_since: DateTime<Utc>,
        /// When the stop journalled it.
        journalled: DateTime<Utc>,
    },
    /// The closing of a row the store has open.
    Close {
        /// The open row.
        seq: i64,
        /// How it ended.
        closing: JournalClosing,
        /// Since when the store refused writes.
        held_since: DateTime<Utc>,
        /// When the stop journalled it.
        journalled: DateTime<Utc>,
    },
}

impl From<&NewRow> for JournalRow {
    fn from(r: &NewRow) -> JournalRow {
        JournalRow {
            level: r.level.as_str().to_string(),
            station: r.station.clone(),
            slot_start: r.slot_start,
            bulletin_id: r.bulletin_id.clone(),
            sha256: r.sha256.clone(),
            planned_start: r.planned_start,
            actual_start: r.actual_start,
            source: r.source,
            reason: r.reason.stored().to_string(),
            gain_db: r.gain_db,
            who: r.who.clone(),
            link_seq: r.link_seq,
        }
    }
}

impl JournalRow {
    fn new_row(&self) -> NewRow {
        NewRow {
            level: if self.level == Level::Slot.as_str() {
                Level::Slot
            } else {
                Level::Item
            },
            station: self.station.clone(),
            slot_start: self.slot_start,
            bulletin_id: self.bulletin_id.clone(),
            sha256: self.sha256.clone(),
            planned_start: self.planned_start,
            actual_start: self.actual_start,
            source: self.source,
            reason: AirReason::parse(&self.reason),
            gain_db: self.gain_db,
            who: self.who.clone(),
            link_seq: self.link_seq,
        }
    }
}

impl From<&Closing> for JournalClosing {
    fn from(c: &Closing) -> JournalClosing {
        JournalClosing {
            status: c.status,
            actual_end: c.actual_end,
            played_ms: c.played_ms,
            reason: c.reason.stored().to_string(),
        }
    }
}

impl JournalClosing {
    /// The closing, its reason saying when and how it was written.
    fn closing(
        &self,
        held_since: DateTime<Utc>,
        journalled: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Closing {
        let t = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        Closing {
            status: self.status,
            actual_end: self.actual_end,
            played_ms: self.played_ms,
            reason: AirReason::parse(&self.reason)
                .with(Reason::WrittenLate {
                    from: t(held_since),
                    to: t(now),
                })
                .with(Reason::Journalled { at: t(journalled) }),
        }
    }
}

/// Why the journal could not be written or replayed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read, written or synced.
    #[error("airlog journal {}: {source}", path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The store refused a replayed row: the rest stays in the journal.
    #[error("airlog journal {}: cannot replay into the database ({source}); the journal is kept", path.display())]
    Store {
        /// The journal.
        path: PathBuf,
        /// The store's error.
        source: StoreError,
    },
    /// Lines that are not journal entries (kept in the journal, for a person to read).
    #[error("airlog journal {}: line(s) {lines} cannot be read; they are kept in the journal", path.display())]
    Unreadable {
        /// The journal.
        path: PathBuf,
        /// Their numbers, comma-separated.
        lines: String,
    },
}

/// Appends entries to the journal in one write and syncs it (and, when it is new, its
/// folder) to disk.
pub fn append(path: &Path, entries: &[Entry]) -> Result<(), JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = String::new();
    for e in entries {
        // Serialising plain data cannot fail.
        text += &serde_json::to_string(e).unwrap_or_default();
        text.push('\n');
    }
    let existed = path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    if !existed {
        sync_folder(path).map_err(io)?;
    }
    Ok(())
}

/// Syncs the folder holding `path`, so a created, renamed or removed entry survives a
/// power cut.
fn sync_folder(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// What the journal still holds for a slot that resumes while the database refuses it:
/// rows, and closings of rows the database has open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    /// Journalled item rows: (planned start, bulletin id).
    pub items: Vec<(DateTime<Utc>, String)>,
    /// Rows the database has open whose closing is journalled.
    pub closed: std::collections::BTreeSet<i64>,
}

/// The journal's item rows for `station` planned in `[from, to)` and the rows it closes: a
/// slot that resumes while the database still refuses the journal counts them as done, so
/// they are neither played again nor logged "missed". A journal that cannot be read holds
/// none.
pub fn pending(path: &Path, station: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Pending {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Pending::default();
    };
    let mut out = Pending::default();
    for e in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
    {
        match e {
            Entry::Row { row, .. } => {
                if row.station == station
                    && row.level == Level::Item.as_str()
                    && row.planned_start >= from
                    && row.planned_start < to
                {
                    out.items
                        .push((row.planned_start, row.bulletin_id.unwrap_or_default()));
                }
            }
            Entry::Close { seq, .. } => {
                out.closed.insert(seq);
            }
        }
    }
    out
}

/// What a replay wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Rows written.
    pub rows: usize,
    /// Closings written.
    pub closes: usize,
    /// Entries the store already had (an earlier replay was cut short).
    pub skipped: usize,
}

/// Whether the store already holds the row (written by an earlier, interrupted replay).
async fn already_written(store: &dyn Store, row: &JournalRow) -> Result<bool, StoreError> {
    let at = row.planned_start;
    let same_ms = |text: &Option<String>, t: Option<DateTime<Utc>>| match (text, t) {
        (None, None) => true,
        (Some(s), Some(t)) => DateTime::parse_from_rfc3339(s)
            .is_ok_and(|s| (s.with_timezone(&Utc) - t).num_milliseconds() == 0),
        _ => false,
    };
    Ok(store
        .airlog(
            Some(&row.station),
            Some(at - chrono::Duration::milliseconds(1)),
            Some(at + chrono::Duration::milliseconds(1)),
        )
        .await?
        .iter()
        .any(|r: &Record| {
            r.level == row.level
                && r.bulletin_id == row.bulletin_id
                && r.source == row.source
                && r.status != AirStatus::Playing
                && same_ms(&Some(r.planned_start.clone()), Some(row.planned_start))
                && same_ms(&r.actual_start, row.actual_start)
        }))
}

/// Writes one entry; `false` when the store already had it.
async fn replay_one(store: &dyn Store, e: &Entry, now: DateTime<Utc>) -> Result<bool, StoreError> {
    match e {
        Entry::Row {
            row,
            closing,
            held_since,
            journalled,
        } => {
            if already_written(store, row).await? {
                return Ok(false);
            }
            store
                .record(
                    &row.new_row(),
                    &closing.closing(*held_since, *journalled, now),
                )
                .await?;
            Ok(true)
        }
        Entry::Close {
            seq,
            closing,
            held_since,
            journalled,
        } => {
            let open = store.open_rows().await?.iter().any(|r| r.seq == *seq);
            if !open {
                return Ok(false);
            }
            store
                .close_row(*seq, &closing.closing(*held_since, *journalled, now))
                .await?;
            Ok(true)
        }
    }
}

/// Replays the journal into the store, oldest entry first, and removes it once every
/// entry is in; what could not be replayed stays in the journal.
pub async fn replay(
    store: &dyn Store,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Replayed, JournalError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Replayed::default()),
        Err(source) => {
            return Err(JournalError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut done = Replayed::default();
    let mut keep: Vec<&str> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    let mut failed: Option<StoreError> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if failed.is_some() {
            keep.push(line);
            continue;
        }
        let Ok(e) = serde_json::from_str::<Entry>(line) else {
            bad.push((i + 1).to_string());
            keep.push(line);
            continue;
        };
        match replay_one(store, &e, now).await {
            Ok(true) if matches!(e, Entry::Row { .. }) => done.rows += 1,
            Ok(true) => done.closes += 1,
            Ok(false) => done.skipped += 1,
            Err(err) => {
                failed = Some(err);
                keep.push(line);
            }
        }
    }
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    if keep.is_empty() {
        std::fs::remove_file(path).map_err(io)?;
    } else {
        // What is left replaces the journal whole (a temporary file renamed into place).
        let tmp = path.with_extension("jsonl.tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all((keep.join("\n") + "\n").as_bytes())
            .map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
    }
    sync_folder(path).map_err(io)?;
    if let Some(source) = failed {
        return Err(JournalError::Store {
            path: path.to_path_buf(),
            source,
        });
    }
    if !bad.is_empty() {
        return Err(JournalError::Unreadable {
            path: path.to_path_buf(),
            lines: bad.join(", "),
        });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AirlogStore;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(planned: &str) -> Entry {
        Entry::Row {
            row: Box::new(JournalRow {
                level: "item".into(),
                station: "vinh-an".into(),
                slot_start: t("2023-03-05T22:30:00Z"),
                // No bulletin: the test's store has an empty library.
                bulletin_id: None,
                sha256: None,
                planned_start: t(planned),
                actual_start: Some(t(planned)),
                source: CueSource::Schedule,
                reason: String::new(),
                gain_db: Some(1.5),
                who: "loa".into(),
                link_seq: None,
            }),
            closing: JournalClosing {
                status: AirStatus::Aired,
                actual_end: Some(t(planned) + chrono::Duration::seconds(16)),
                played_ms: 16_000,
                reason: String::new(),
            },
            held_since: t("2023-03-05T22:29:00Z"),
            journalled: t("2023-03-05T22:35:00Z"),
        }
    }

    async fn store(dir: &Path) -> crate::store::sqlite::SqliteStore {
        crate::store::sqlite::SqliteStore::open(&dir.join("loa.db"))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_replay_writes_each_row_once_marked_late_and_removes_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path()).await;
        let path = dir.path().join(JOURNAL_FILE);
        let now = t("2023-03-06T00:00:00Z");
        append(&path, &[row("2023-03-05T22:30:00Z")]).unwrap();
        append(&path, &[row("2023-03-05T22:30:16Z")]).unwrap();
        // An earlier replay wrote the first row, then stopped before removing the journal.
        let Entry::Row {
            row: r, closing, ..
        } = row("2023-03-05T22:30:00Z")
        else {
            unreachable!()
        };
        s.record(&r.new_row(), &closing.closing(now, now, now))
            .await
            .unwrap();
        let done = replay(&s, &path, now).await.unwrap();
        assert_eq!(
            done,
            Replayed {
                rows: 1,
                closes: 0,
                skipped: 1
            }
        );
        assert!(!path.exists());
        let rows = s.airlog(None, None, None).await.unwrap();
        assert_eq!(rows.len(), 2, "no row doubled");
        let late = &rows[1];
        assert_eq!(late.status, AirStatus::Aired);
        assert!(late
            .reason
            .parts()
            .iter()
            .any(|p| matches!(p, Reason::Journalled { .. })));
        assert_eq!(replay(&s, &path, now).await.unwrap(), Replayed::default());
    }

    #[tokio::test]
    async fn an_unreadable_line_is_kept_in_the_journal_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path()).await;
        let path = dir.path().join(JOURNAL_FILE);
        append(&path, &[row("2023-03-05T22:30:00Z")]).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text += "{\"entry\":\"row\",\"cut short\n";
        std::fs::write(&path, &text).unwrap();
        let err = replay(&s, &path, t("2023-03-06T00:00:00Z"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, JournalError::Unreadable { lines, .. } if lines == "2"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"entry\":\"row\",\"cut short\n"
        );
        assert_eq!(s.airlog(None, None, None).await.unwrap().len(), 1);
    }
}
