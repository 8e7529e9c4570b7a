//! Airlog persistence: a row is inserted (status `playing`) before its audio starts, its
//! progress is updated as it plays, and closing it joins it to the station's hash chain in
//! the same transaction that moves the chain head. [`AirlogStore`] is part of every
//! [`super::Store`]; both backends get it from [`impl_airlog_store!`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::airlog::{AirReason, AirStatus, CueSource, Record};

use super::packed::ExportPage;
use super::StoreError;

/// A row as playout opens it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// An item or a slot instance.
    pub level: crate::airlog::Level,
    /// Station code.
    pub station: String,
    /// Start of the slot instance.
    pub slot_start: DateTime<Utc>,
    /// The bulletin, when the row is about one.
    pub bulletin_id: Option<String>,
    /// SHA-256 of the audio file.
    pub sha256: Option<String>,
    /// When it should start.
    pub planned_start: DateTime<Utc>,
    /// When it started (None for a row that never played).
    pub actual_start: Option<DateTime<Utc>>,
    /// Why it was cued.
    pub source: CueSource,
    /// Why, when there is something to say (a slot row: the slot's name).
    pub reason: AirReason,
    /// Gain applied, dB.
    pub gain_db: Option<f64>,
    /// Operator or "loa".
    pub who: String,
    /// A related row.
    pub link_seq: Option<i64>,
}

/// How a row ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Closing {
    /// How it ended.
    pub status: AirStatus,
    /// When it ended (None when it never played).
    pub actual_end: Option<DateTime<Utc>>,
    /// How much played, ms.
    pub played_ms: u64,
    /// Why, appended to what the row already says.
    pub reason: AirReason,
}

impl Closing {
    /// A closing with these values.
    pub fn new(
        status: AirStatus,
        actual_end: Option<DateTime<Utc>>,
        played_ms: u64,
        reason: impl Into<AirReason>,
    ) -> Closing {
        Closing {
            status,
            actual_end,
            played_ms,
            reason: reason.into(),
        }
    }
}

/// The airlog.
#[async_trait]
pub trait AirlogStore: Send + Sync {
    /// Inserts an open row (status `playing`) durably and returns its sequence number.
    async fn open_row(&self, row: &NewRow) -> Result<i64, StoreError>;

    /// Records how much of an open row has played so far.
    async fn progress(&self, seq: i64, played_ms: u64, at: DateTime<Utc>)
        -> Result<(), StoreError>;

    /// Closes an open row and joins it to its station's chain.
    async fn close_row(&self, seq: i64, closing: &Closing) -> Result<Record, StoreError>;

    /// Inserts and closes in one step a row that never played (skipped, failed).
    async fn record(&self, row: &NewRow, closing: &Closing) -> Result<Record, StoreError>;

    /// Rows still open (after a crash or power cut), oldest first.
    async fn open_rows(&self) -> Result<Vec<Record>, StoreError>;

    /// Rows of one station (or all) whose planned start is in `[from, to)`, by sequence.
    async fn airlog(
        &self,
        station: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<Record>, StoreError>;

    /// Each station's chain head: (station, seq, row_hash).
    async fn chain_heads(&self) -> Result<Vec<(String, i64, String)>, StoreError>;

    /// The stations that have airlog rows, by code.
    async fn airlog_stations(&self) -> Result<Vec<String>, StoreError>;

    /// What reports show of a station's closed slot rows whose slot starts in `[from, to)`,
    /// in slot order (two or three a day, so a year of one station is a few hundred rows).
    async fn slot_rows(
        &self,
        station: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SlotRecord>, StoreError>;

    /// One page of a station's closed rows whose planned start is in `[from, to)`, in
    /// (planned start, seq) order, item rows only (what exports list): at most `limit`
    /// rows after `after` (the planned start
    /// text and seq of the previous page's last row). Exports page through any range with
    /// it in constant memory, on the (station, planned_start) index.
    async fn airlog_page(
        &self,
        station: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<(&str, i64)>,
        limit: u32,
    ) -> Result<Vec<Record>, StoreError>;

    /// [`AirlogStore::airlog_page`] (item rows) with only the fields an export shows, the
    /// whole page fetched as one packed text value ([`ExportPage`]): the driver then hands
    /// over one value a page instead of one row at a time, which was most of an export's
    /// time.
    async fn export_page(
        &self,
        station: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<(&str, i64)>,
        limit: u32,
    ) -> Result<ExportPage, StoreError>;
}

/// What reports show of a closed slot row.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRecord {
    /// Sequence number.
    pub seq: i64,
    /// Start of the slot instance (stored text).
    pub slot_start: String,
    /// How the slot instance went.
    pub status: AirStatus,
    /// The slot's name, then what it did.
    pub reason: AirReason,
}

/// A slot row as the database hands it over, before its words are parsed.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RawSlotRecord {
    seq: i64,
    slot_start: String,
    status: String,
    reason: String,
}

impl TryFrom<RawSlotRecord> for SlotRecord {
    type Error = StoreError;
    fn try_from(r: RawSlotRecord) -> Result<SlotRecord, StoreError> {
        Ok(SlotRecord {
            status: AirStatus::try_from(r.status.as_str()).map_err(|e| unreadable(r.seq, e))?,
            reason: AirReason::parse(&r.reason),
            seq: r.seq,
            slot_start: r.slot_start,
        })
    }
}

/// An airlog row as the database hands it over, column for column, before its words are
/// parsed into [`Record`]'s types (the one place stored airlog text becomes types).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RawRecord {
    seq: i64,
    level: String,
    station: String,
    slot_start: String,
    bulletin_id: Option<String>,
    sha256: Option<String>,
    planned_start: String,
    actual_start: Option<String>,
    actual_end: Option<String>,
    played_ms: i64,
    status: String,
    source: String,
    reason: String,
    gain_db: Option<f64>,
    who: String,
    link_seq: Option<i64>,
    prev_hash: String,
    row_hash: String,
}

/// The error for a stored row whose words do not parse.
fn unreadable(seq: i64, e: crate::airlog::UnknownCode) -> StoreError {
    StoreError::BadAirlogRow {
        seq,
        reason: e.to_string(),
    }
}

impl TryFrom<RawRecord> for Record {
    type Error = StoreError;
    fn try_from(r: RawRecord) -> Result<Record, StoreError> {
        let seq = r.seq;
        Ok(Record {
            status: AirStatus::try_from(r.status.as_str()).map_err(|e| unreadable(seq, e))?,
            source: CueSource::try_from(r.source.as_str()).map_err(|e| unreadable(seq, e))?,
            reason: AirReason::parse(&r.reason),
            seq,
            level: r.level,
            station: r.station,
            slot_start: r.slot_start,
            bulletin_id: r.bulletin_id,
            sha256: r.sha256,
            planned_start: r.planned_start,
            actual_start: r.actual_start,
            actual_end: r.actual_end,
            played_ms: r.played_ms,
            gain_db: r.gain_db,
            who: r.who,
            link_seq: r.link_seq,
            prev_hash: r.prev_hash,
            row_hash: r.row_hash,
        })
    }
}

/// Parses rows read from the database, refusing the first that does not parse.
pub(crate) fn parse_rows(rows: Vec<RawRecord>) -> Result<Vec<Record>, StoreError> {
    rows.into_iter().map(Record::try_from).collect()
}

/// `SELECT` of every column of [`Record`], for the queries that read whole rows.
macro_rules! record_columns {
    () => {
        "SELECT seq, level, station, slot_start, bulletin_id, sha256, planned_start, actual_start, \
         actual_end, played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash"
    };
}

/// Whole rows of this daemon's own airlog (`airlog`: the rows it opens and closes).
macro_rules! select_record {
    () => {
        concat!(record_columns!(), " FROM airlog")
    };
}

/// Whole rows of every station, its own and those commune machines sent
/// (`airlog_all`, migration 0012): what reports, exports and verification read.
macro_rules! select_all_records {
    () => {
        concat!(record_columns!(), " FROM airlog_all")
    };
}

pub(crate) const INSERT_ROW: &str = "INSERT INTO airlog (station, slot_start, bulletin_id, sha256, planned_start, actual_start, \
     actual_end, played_ms, status, source, reason, gain_db, who, link_seq, prev_hash, row_hash, level) \
     VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, 'playing', $7, $8, $9, $10, $11, '', '', $12) RETURNING seq";
pub(crate) const PROGRESS: &str =
    "UPDATE airlog SET played_ms = $2, actual_end = $3 WHERE seq = $1 AND status = 'playing'";
pub(crate) const SELECT_ROW: &str = concat!(select_record!(), " WHERE seq = $1");
pub(crate) const HEAD: &str = "SELECT row_hash FROM airlog_heads WHERE station = $1";
pub(crate) const CLOSE_ROW: &str = "UPDATE airlog SET status = $2, actual_end = $3, played_ms = $4, reason = $5, prev_hash = $6, row_hash = $7 WHERE seq = $1";
pub(crate) const SET_HEAD: &str =
    "INSERT INTO airlog_heads (station, seq, row_hash) VALUES ($1, $2, $3) \
     ON CONFLICT (station) DO UPDATE SET seq = excluded.seq, row_hash = excluded.row_hash";
pub(crate) const OPEN_ROWS: &str =
    concat!(select_record!(), " WHERE status = 'playing' ORDER BY seq");
pub(crate) const ROWS: &str = concat!(
    select_all_records!(),
    " WHERE ($1 IS NULL OR station = $1) AND ($2 IS NULL OR planned_start >= $2) \
     AND ($3 IS NULL OR planned_start < $3) ORDER BY seq"
);
pub(crate) const PAGE: &str = concat!(
    select_all_records!(),
    " WHERE station = $1 AND planned_start >= $2 AND planned_start < $3 AND row_hash <> '' \
     AND level = 'item' AND (planned_start > $4 OR seq > $5) ORDER BY planned_start, seq LIMIT $6"
);
pub(crate) const SLOT_ROWS: &str = "SELECT seq, slot_start, status, reason FROM airlog_all \
     WHERE station = $1 AND planned_start >= $2 AND planned_start < $3 AND level = 'slot' AND row_hash <> '' \
     ORDER BY planned_start, seq";
/// [`ROWS`] for one station: `station = $1` lets the database use its station index (the
/// `$1 IS NULL OR` form of [`ROWS`] scans the whole log).
pub(crate) const STATION_ROWS: &str = concat!(
    select_all_records!(),
    " WHERE station = $1 AND ($2 IS NULL OR planned_start >= $2) \
     AND ($3 IS NULL OR planned_start < $3) ORDER BY seq"
);
pub(crate) const STATIONS: &str = "SELECT DISTINCT station FROM airlog_all ORDER BY station";
pub(crate) const HEADS: &str = "SELECT station, seq, row_hash FROM airlog_heads ORDER BY station";

/// Where a keyset page starts: after `after` (the previous page's last planned start and
/// seq), or at `from`. The start is bound twice ($2 and $4): SQLite's `?N` cannot repeat one.
pub(crate) fn page_start(from: DateTime<Utc>, after: Option<(&str, i64)>) -> (String, i64) {
    match after {
        Some((t, seq)) => (t.to_string(), seq),
        None => (super::rows::instant_text(from), i64::MIN),
    }
}

/// Joins a closing to an open row: the closed row with its chain hashes.
pub(crate) fn closed(mut r: Record, c: &Closing, prev_hash: String) -> Record {
    r.status = c.status;
    if c.actual_end.is_some() {
        r.actual_end = c.actual_end.map(super::rows::instant_text);
    }
    r.played_ms = i64::try_from(c.played_ms).unwrap_or(i64::MAX);
    r.reason = r.reason.then(&c.reason);
    r.prev_hash = prev_hash;
    r.row_hash = crate::airlog::chain::row_hash(&r);
    r
}

/// Implements [`AirlogStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a
/// `sql()` placeholder converter in scope).
macro_rules! impl_airlog_store {
    ($ty:ty, $db:ty) => {
        impl $ty {
            /// Closes `seq` inside `tx`: reads the head, hashes, updates row and head.
            async fn close_in(
                tx: &mut crate::store::write_tx::WriteTx<$db>,
                seq: i64,
                closing: &$crate::store::airlog::Closing,
            ) -> Result<$crate::airlog::Record, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                let row: $crate::airlog::Record =
                    sqlx::query_as::<$db, RawRecord>(&sql(SELECT_ROW))
                        .bind(seq)
                        .fetch_optional(&mut **tx)
                        .await?
                        .ok_or_else(|| $crate::store::StoreError::Corrupt {
                            id: format!("airlog {seq}"),
                            reason: "no such row".into(),
                        })?
                        .try_into()?;
                if !row.status.is_open() {
                    return Err($crate::store::StoreError::Corrupt {
                        id: format!("airlog {seq}"),
                        reason: format!("already closed as {}", row.status),
                    });
                }
                let prev: Option<String> = sqlx::query_scalar::<$db, String>(&sql(HEAD))
                    .bind(&row.station)
                    .fetch_optional(&mut **tx)
                    .await?;
                let prev = prev.unwrap_or_else(|| $crate::airlog::chain::genesis(&row.station));
                let done = closed(row, closing, prev);
                sqlx::query::<$db>(&sql(CLOSE_ROW))
                    .bind(seq)
                    .bind(done.status.as_str())
                    .bind(&done.actual_end)
                    .bind(done.played_ms)
                    .bind(done.reason.stored())
                    .bind(&done.prev_hash)
                    .bind(&done.row_hash)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query::<$db>(&sql(SET_HEAD))
                    .bind(&done.station)
                    .bind(seq)
                    .bind(&done.row_hash)
                    .execute(&mut **tx)
                    .await?;
                Ok(done)
            }

            async fn insert_in(
                tx: &mut crate::store::write_tx::WriteTx<$db>,
                row: &$crate::store::airlog::NewRow,
            ) -> Result<i64, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                use $crate::store::rows::instant_text;
                Ok(sqlx::query_scalar::<$db, i64>(&sql(INSERT_ROW))
                    .bind(&row.station)
                    .bind(instant_text(row.slot_start))
                    .bind(&row.bulletin_id)
                    .bind(&row.sha256)
                    .bind(instant_text(row.planned_start))
                    .bind(row.actual_start.map(instant_text))
                    .bind(row.source.as_str())
                    .bind(row.reason.stored())
                    .bind(row.gain_db)
                    .bind(&row.who)
                    .bind(row.link_seq)
                    .bind(row.level.as_str())
                    .fetch_one(&mut **tx)
                    .await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::airlog::AirlogStore for $ty {
            async fn open_row(
                &self,
                row: &$crate::store::airlog::NewRow,
            ) -> Result<i64, $crate::store::StoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let seq = Self::insert_in(&mut tx, row).await?;
                commit_write(tx).await?;
                Ok(seq)
            }

            async fn progress(
                &self,
                seq: i64,
                played_ms: u64,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::airlog::*;
                sqlx::query::<$db>(&sql(PROGRESS))
                    .bind(seq)
                    .bind(i64::try_from(played_ms).unwrap_or(i64::MAX))
                    .bind($crate::store::rows::instant_text(at))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn close_row(
                &self,
                seq: i64,
                closing: &$crate::store::airlog::Closing,
            ) -> Result<$crate::airlog::Record, $crate::store::StoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let done = Self::close_in(&mut tx, seq, closing).await?;
                commit_write(tx).await?;
                Ok(done)
            }

            async fn record(
                &self,
                row: &$crate::store::airlog::NewRow,
                closing: &$crate::store::airlog::Closing,
            ) -> Result<$crate::airlog::Record, $crate::store::StoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let seq = Self::insert_in(&mut tx, row).await?;
                let done = Self::close_in(&mut tx, seq, closing).await?;
                commit_write(tx).await?;
                Ok(done)
            }

            async fn open_rows(
                &self,
            ) -> Result<Vec<$crate::airlog::Record>, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                parse_rows(
                    sqlx::query_as::<$db, RawRecord>(&sql(OPEN_ROWS))
                        .fetch_all(&self.pool)
                        .await?,
                )
            }

            async fn airlog(
                &self,
                station: Option<&str>,
                from: Option<chrono::DateTime<chrono::Utc>>,
                to: Option<chrono::DateTime<chrono::Utc>>,
            ) -> Result<Vec<$crate::airlog::Record>, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                use $crate::store::rows::instant_text;
                let text = if station.is_some() {
                    STATION_ROWS
                } else {
                    ROWS
                };
                parse_rows(
                    sqlx::query_as::<$db, RawRecord>(&sql(text))
                        .bind(station)
                        .bind(from.map(instant_text))
                        .bind(to.map(instant_text))
                        .fetch_all(&self.pool)
                        .await?,
                )
            }

            async fn airlog_stations(&self) -> Result<Vec<String>, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                Ok(sqlx::query_scalar::<$db, String>(&sql(STATIONS))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn chain_heads(
                &self,
            ) -> Result<Vec<(String, i64, String)>, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                Ok(sqlx::query_as::<$db, (String, i64, String)>(&sql(HEADS))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn slot_rows(
                &self,
                station: &str,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<$crate::store::airlog::SlotRecord>, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                use $crate::store::rows::instant_text;
                sqlx::query_as::<$db, RawSlotRecord>(&sql(SLOT_ROWS))
                    .bind(station)
                    .bind(instant_text(from))
                    .bind(instant_text(to))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(SlotRecord::try_from)
                    .collect()
            }

            async fn airlog_page(
                &self,
                station: &str,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                after: Option<(&str, i64)>,
                limit: u32,
            ) -> Result<Vec<$crate::airlog::Record>, $crate::store::StoreError> {
                use $crate::store::airlog::*;
                use $crate::store::rows::instant_text;
                let (start, seq) = page_start(from, after);
                parse_rows(
                    sqlx::query_as::<$db, RawRecord>(&sql(PAGE))
                        .bind(station)
                        .bind(&start)
                        .bind(instant_text(to))
                        .bind(&start)
                        .bind(seq)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?,
                )
            }

            async fn export_page(
                &self,
                station: &str,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                after: Option<(&str, i64)>,
                limit: u32,
            ) -> Result<$crate::store::ExportPage, $crate::store::StoreError> {
                use $crate::store::packed::PACKED_PAGE;
                use $crate::store::rows::instant_text;
                let (start, seq) = $crate::store::airlog::page_start(from, after);
                let text = sqlx::query_scalar::<$db, Option<String>>(&sql(PACKED_PAGE))
                    .bind(station)
                    .bind(&start)
                    .bind(instant_text(to))
                    .bind(&start)
                    .bind(seq)
                    .bind(i64::from(limit))
                    .fetch_one(&self.pool)
                    .await?;
                $crate::store::ExportPage::parse(station, text)
            }
        }
    };
}
pub(crate) use impl_airlog_store;
