//! The airlog as playout writes it: a row is opened durably before its audio starts and
//! closed when it ends. When the database cannot be written (disk full, server gone) playout
//! goes on: rows are held in memory, retried on every later write, and written with a note
//! of the gap once the store answers again. Nothing already written is touched.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::airlog::{AirStatus, Reason};
use crate::playout::alert::{AirlogWrite, Alert};
use crate::playout::seams::AirlogDestination;
use crate::store::{Closing, NewRow};

/// An open row: its sequence number once the store has it.
#[derive(Debug, Clone)]
pub struct OpenRow {
    /// The row's sequence number; `None` while it is held in memory.
    pub seq: Option<i64>,
    /// What was opened.
    pub row: NewRow,
}

/// A row the store could not take yet.
#[derive(Debug, Clone)]
struct Held {
    row: NewRow,
    closing: Option<Closing>,
}

/// Writes a station's airlog rows.
pub struct Ledger {
    /// Where rows go (the store, for the daemon).
    store: Arc<dyn AirlogDestination>,
    /// Rows waiting for the store, oldest first.
    held: Vec<Held>,
    /// Rows the store has open whose closing it could not take yet.
    closes: Vec<(i64, Closing)>,
    /// When writes started failing, while they fail.
    failing_since: Option<DateTime<Utc>>,
    /// Problems to raise as alerts (taken by the caller).
    alerts: Vec<Alert>,
    /// Where held rows go at a stop when the store still refuses them.
    journal: Option<std::path::PathBuf>,
}

impl Ledger {
    /// A ledger writing to `store`.
    pub fn new(store: Arc<dyn AirlogDestination>) -> Ledger {
        Ledger {
            store,
            held: Vec::new(),
            closes: Vec::new(),
            failing_since: None,
            alerts: Vec::new(),
            journal: None,
        }
    }

    /// Keeps held rows in `journal` at a stop when the store refuses them
    /// ([`crate::playout::journal`]).
    pub fn with_journal(mut self, journal: Option<std::path::PathBuf>) -> Ledger {
        self.journal = journal;
        self
    }

    /// Alerts raised since the last call.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }

    /// Rows (or closings) held in memory, waiting for the store.
    pub fn held(&self) -> usize {
        self.held.len() + self.closes.len()
    }

    /// Tries again to write what is held.
    pub async fn retry(&mut self, now: DateTime<Utc>) {
        if self.held() > 0 {
            self.flush(now).await;
        }
    }

    fn failed(&mut self, what: AirlogWrite, e: impl std::fmt::Display, now: DateTime<Utc>) {
        if self.failing_since.is_none() {
            self.failing_since = Some(now);
            let alert = Alert::AirlogUnwritable {
                what,
                detail: e.to_string(),
            };
            tracing::error!("{alert}");
            self.alerts.push(alert);
        }
    }

    /// Writes held rows, oldest first, as soon as the store takes writes again.
    async fn flush(&mut self, now: DateTime<Utc>) -> bool {
        while let Some((seq, c)) = self.closes.first().cloned() {
            match self.store.close_row(seq, &c).await {
                Ok(_) => {
                    self.closes.remove(0);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "airlog still cannot be written");
                    return false;
                }
            }
        }
        while let Some(h) = self.held.first().cloned() {
            let since = self.failing_since.unwrap_or(now);
            let note = Reason::WrittenLate {
                from: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                to: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            let closing = match h.closing.clone() {
                Some(mut c) => {
                    c.reason = c.reason.with(note);
                    c
                }
                // Still playing when the store came back: keep it open from now on.
                None => break,
            };
            match self.store.record(&h.row, &closing).await {
                Ok(_) => {
                    self.held.remove(0);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "airlog still cannot be written");
                    return false;
                }
            }
        }
        if self.held.is_empty() && self.closes.is_empty() && self.failing_since.take().is_some() {
            let alert = Alert::AirlogWritable;
            tracing::info!("{alert}");
            self.alerts.push(alert);
        }
        true
    }

    /// Opens a row before its audio starts. Returns at once either way: when the store
    /// cannot take it, the row is held and playout goes on.
    pub async fn open(&mut self, row: NewRow, now: DateTime<Utc>) -> OpenRow {
        if self.flush(now).await {
            match self.store.open_row(&row).await {
                Ok(seq) => {
                    return OpenRow {
                        seq: Some(seq),
                        row,
                    }
                }
                Err(e) => self.failed(AirlogWrite::Open, e, now),
            }
        }
        self.held.push(Held {
            row: row.clone(),
            closing: None,
        });
        OpenRow { seq: None, row }
    }

    /// Records progress of an open row (best effort: a crash loses at most this interval).
    pub async fn progress(&mut self, open: &OpenRow, played_ms: u64, now: DateTime<Utc>) {
        if let Some(seq) = open.seq {
            if let Err(e) = self.store.progress(seq, played_ms, now).await {
                self.failed(AirlogWrite::Progress, e, now);
            }
        }
    }

    /// Closes a row; returns its sequence number when the store has it.
    pub async fn close(
        &mut self,
        open: OpenRow,
        closing: Closing,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        match open.seq {
            Some(seq) => {
                // Earlier closings first, so the chain keeps the order rows ended in.
                if !self.closes.is_empty() && !self.flush(now).await {
                    self.closes.push((seq, closing));
                    return Some(seq);
                }
                match self.store.close_row(seq, &closing).await {
                    Ok(_) => {
                        self.flush(now).await;
                        Some(seq)
                    }
                    Err(e) => {
                        // Kept and retried; should loa stop first, recovery closes the
                        // open row as interrupted with the progress it recorded.
                        self.failed(AirlogWrite::Close, e, now);
                        self.closes.push((seq, closing));
                        Some(seq)
                    }
                }
            }
            None => {
                if let Some(h) = self
                    .held
                    .iter_mut()
                    .rev()
                    .find(|h| h.closing.is_none() && h.row == open.row)
                {
                    h.closing = Some(closing);
                }
                self.flush(now).await;
                None
            }
        }
    }

    /// Last chance before the player stops: writes what is held, and when the store still
    /// refuses, keeps every held row and closing in the journal file (or, when that cannot
    /// be written either, in the technical log as JSON) so none is lost.
    pub async fn drain(&mut self, now: DateTime<Utc>) {
        for h in self.held.iter_mut().filter(|h| h.closing.is_none()) {
            h.closing = Some(Closing::new(
                AirStatus::Interrupted,
                Some(now),
                0,
                Reason::StoppedPlayedUnknown,
            ));
        }
        if self.flush(now).await {
            return;
        }
        if self.journal_held(now) {
            return;
        }
        for h in self.held.drain(..) {
            let row = serde_json::json!({
                "station": h.row.station,
                "slot_start": h.row.slot_start,
                "bulletin_id": h.row.bulletin_id,
                "sha256": h.row.sha256,
                "planned_start": h.row.planned_start,
                "actual_start": h.row.actual_start,
                "source": h.row.source,
                "who": h.row.who,
                "status": h.closing.as_ref().map(|c| c.status),
                "actual_end": h.closing.as_ref().and_then(|c| c.actual_end),
                "played_ms": h.closing.as_ref().map(|c| c.played_ms),
                "reason": h.closing.as_ref().map(|c| c.reason.stored()),
            });
            tracing::error!(row = %row, "airlog row that could not be written to the database");
        }
    }

    /// Appends what is still held to the journal (closings of open rows, then rows, in the
    /// order they were held); `false` when there is no journal or it cannot be written.
    fn journal_held(&mut self, now: DateTime<Utc>) -> bool {
        use crate::playout::journal::{append, Entry};
        let Some(path) = self.journal.clone() else {
            return false;
        };
        let held_since = self.failing_since.unwrap_or(now);
        let mut entries: Vec<Entry> = self
            .closes
            .iter()
            .map(|(seq, c)| Entry::Close {
                seq: *seq,
                closing: c.into(),
                held_since,
                journalled: now,
            })
            .collect();
        entries.extend(self.held.iter().filter_map(|h| {
            Some(Entry::Row {
                row: Box::new((&h.row).into()),
                closing: h.closing.as_ref()?.into(),
                held_since,
                journalled: now,
            })
        }));
        match append(&path, &entries) {
            Ok(()) => {
                tracing::error!(
                    rows = entries.len(),
                    journal = %path.display(),
                    "airlog rows the database would not take are kept in the journal; the next start writes them"
                );
                self.held.clear();
                self.closes.clear();
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "the airlog journal cannot be written either");
                false
            }
        }
    }

    /// Writes a row that never played (missed, skipped, failed) in one step.
    pub async fn record(
        &mut self,
        row: NewRow,
        closing: Closing,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        if self.flush(now).await {
            match self.store.record(&row, &closing).await {
                Ok(r) => return Some(r.seq),
                Err(e) => self.failed(AirlogWrite::Record, e, now),
            }
        }
        self.held.push(Held {
            row,
            closing: Some(closing),
        });
        None
    }
}
