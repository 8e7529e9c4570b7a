//! The airlogs commune machines send home (`agent_airlog`, migration 0012): stored as the
//! node wrote them, appended in chain order with the station's head and the node's signed
//! head in one transaction, never updated. [`crate::agent::homeward`] decides what may be
//! appended; this only stores it, and refuses when the head moved since it was read.
//! [`AgentAirlogStore`] is part of every [`super::Store`]; both backends get it from
//! [`impl_agent_airlog_store!`].

use async_trait::async_trait;

use crate::airlog::signed::SignedHead;
use crate::airlog::Record;

use super::StoreError;

/// What a node's upload appends.
#[derive(Debug, Clone, Copy)]
pub struct AgentAppend<'a> {
    /// The station.
    pub station: &'a str,
    /// The node that sent the rows (its public key).
    pub node: &'a str,
    /// The head the rows were checked against: `(seq, row_hash)`, none when the server
    /// held no row.
    pub after: Option<(i64, &'a str)>,
    /// The new rows, in chain order.
    pub rows: &'a [Record],
    /// Each row's clock offset as the node measured it (its clock minus the server's, ms),
    /// in the rows' order; empty when the node sent none.
    pub clock_offsets_ms: &'a [Option<i64>],
    /// The node's signature of its new head (the last row).
    pub signed: &'a SignedHead,
    /// When the server received them (stored text).
    pub received_at: &'a str,
}

/// How an append went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The rows were stored; the station's head is their last.
    Stored,
    /// The station's head is no longer the one the rows were checked against (another
    /// upload came first): nothing was stored.
    HeadMoved,
}

/// The agent stations' airlogs.
#[async_trait]
pub trait AgentAirlogStore: Send + Sync {
    /// The hashes of the rows of `station` held with sequence numbers in `[from, to]`.
    async fn agent_held(
        &self,
        station: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, String)>, StoreError>;

    /// Appends rows a node sent, moves the station's head to the last and keeps the node's
    /// signed head, in one transaction.
    async fn append_agent_rows(&self, a: &AgentAppend<'_>) -> Result<Appended, StoreError>;

    /// The clock offsets (ms) recorded with the rows of `station`, by seq (a row whose node
    /// sent none has `None`).
    async fn agent_clock_offsets(
        &self,
        station: &str,
    ) -> Result<Vec<(i64, Option<i64>)>, StoreError>;
}

pub(crate) const HELD: &str =
    "SELECT seq, row_hash FROM agent_airlog WHERE station = $1 AND seq >= $2 AND seq <= $3";
pub(crate) const LAST_POSITION: &str =
    "SELECT COALESCE(MAX(position), 0) FROM agent_airlog WHERE station = $1";
pub(crate) const INSERT: &str = "INSERT INTO agent_airlog (station, seq, position, level, slot_start, \
     bulletin_id, sha256, planned_start, actual_start, actual_end, played_ms, status, source, reason, \
     gain_db, who, link_seq, prev_hash, row_hash, node, received_at, clock_offset_ms) VALUES ($1, $2, \
     $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";
pub(crate) const OFFSETS: &str =
    "SELECT seq, clock_offset_ms FROM agent_airlog WHERE station = $1 ORDER BY position";

/// Implements [`AgentAirlogStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a
/// `sql()` placeholder converter in scope).
macro_rules! impl_agent_airlog_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::agent_airlog::AgentAirlogStore for $ty {
            async fn agent_held(
                &self,
                station: &str,
                from: i64,
                to: i64,
            ) -> Result<Vec<(i64, String)>, $crate::store::StoreError> {
                use $crate::store::agent_airlog::HELD;
                Ok(sqlx::query_as::<$db, (i64, String)>(&sql(HELD))
                    .bind(station)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn append_agent_rows(
                &self,
                a: &$crate::store::agent_airlog::AgentAppend<'_>,
            ) -> Result<$crate::store::agent_airlog::Appended, $crate::store::StoreError> {
                use $crate::store::agent_airlog::*;
                use $crate::store::airlog::{HEAD, SET_HEAD};
                use $crate::store::signed_heads::APPEND;
                let mut tx = begin_write(&self.pool).await?;
                let head: Option<String> = sqlx::query_scalar::<$db, String>(&sql(HEAD))
                    .bind(a.station)
                    .fetch_optional(&mut *tx)
                    .await?;
                if head.as_deref() != a.after.map(|(_, h)| h) {
                    // Dropped unfinished: rolled back.
                    return Ok(Appended::HeadMoved);
                }
                let mut position: i64 = sqlx::query_scalar::<$db, i64>(&sql(LAST_POSITION))
                    .bind(a.station)
                    .fetch_one(&mut *tx)
                    .await?;
                for (i, r) in a.rows.iter().enumerate() {
                    position += 1;
                    let done = sqlx::query::<$db>(&sql(INSERT))
                        .bind(a.station)
                        .bind(r.seq)
                        .bind(position)
                        .bind(&r.level)
                        .bind(&r.slot_start)
                        .bind(&r.bulletin_id)
                        .bind(&r.sha256)
                        .bind(&r.planned_start)
                        .bind(&r.actual_start)
                        .bind(&r.actual_end)
                        .bind(r.played_ms)
                        .bind(r.status.as_str())
                        .bind(r.source.as_str())
                        .bind(r.reason.stored())
                        .bind(r.gain_db)
                        .bind(&r.who)
                        .bind(r.link_seq)
                        .bind(&r.prev_hash)
                        .bind(&r.row_hash)
                        .bind(a.node)
                        .bind(a.received_at)
                        .bind(a.clock_offsets_ms.get(i).copied().flatten())
                        .execute(&mut *tx)
                        .await;
                    // Two uploads for one station at once: SQLite's write lock orders them;
                    // on PostgreSQL both may read the same head, and the second meets the
                    // first's rows on the key (station, seq) once it commits: that is "the
                    // head moved", never a server error, and nothing of the second is kept.
                    match done {
                        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                            return Ok(Appended::HeadMoved)
                        }
                        other => other?,
                    };
                }
                if let Some(last) = a.rows.last() {
                    sqlx::query::<$db>(&sql(SET_HEAD))
                        .bind(a.station)
                        .bind(last.seq)
                        .bind(&last.row_hash)
                        .execute(&mut *tx)
                        .await?;
                }
                let h = a.signed;
                sqlx::query::<$db>(&sql(APPEND))
                    .bind(&h.station)
                    .bind(h.seq)
                    .bind(&h.row_hash)
                    .bind(&h.signed_at)
                    .bind(&h.key_fingerprint)
                    .bind(&h.signature)
                    .execute(&mut *tx)
                    .await?;
                commit_write(tx).await?;
                Ok(Appended::Stored)
            }

            async fn agent_clock_offsets(
                &self,
                station: &str,
            ) -> Result<Vec<(i64, Option<i64>)>, $crate::store::StoreError> {
                Ok(sqlx::query_as::<$db, (i64, Option<i64>)>(&sql(
                    $crate::store::agent_airlog::OFFSETS,
                ))
                .bind(station)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_agent_airlog_store;
