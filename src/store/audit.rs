//! The audit trail's persistence (migration 0009, `audit_log` and `audit_head`):
//! [`AuditStore`] is part of every [`super::Store`]; both backends get it from
//! [`impl_audit_store!`]. An entry is numbered and chained inside the write transaction
//! that moves the head, so two appends at once (two daemons on one PostgreSQL, the CLI
//! beside the daemon) never share a number: the head row is updated first, which takes its
//! lock on PostgreSQL (SQLite's `BEGIN IMMEDIATE` already holds the file).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::audit::{AuditDraft, AuditRecord};

use super::StoreError;

/// Appending to and reading the audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one entry durably and returns it as stored.
    async fn append_audit(&self, draft: &AuditDraft) -> Result<AuditRecord, StoreError>;

    /// The entries at or after `since` (every entry when `None`), by seq.
    async fn audit_entries(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// The chain's head: the seq and hash of the last entry appended ((0, "") before any).
    async fn audit_head(&self) -> Result<(i64, String), StoreError>;
}

/// Takes the head (locking it) and gives its seq and hash.
pub(crate) const TAKE_HEAD: &str =
    "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, entry_hash";
pub(crate) const MOVE_HEAD: &str = "UPDATE audit_head SET seq = $1, entry_hash = $2 WHERE id = 1";
pub(crate) const HEAD: &str = "SELECT seq, entry_hash FROM audit_head WHERE id = 1";
pub(crate) const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, role, station, action, \
     target, before_json, after_json, address, prev_hash, entry_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub(crate) const SELECT: &str = "SELECT seq, at, actor, role, station, action, target, \
     before_json, after_json, address, prev_hash, entry_hash FROM audit_log \
     WHERE ($1 IS NULL OR at >= $1) ORDER BY seq";

/// One `audit_log` row, column for column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    role: Option<String>,
    station: Option<String>,
    action: String,
    target: String,
    before_json: Option<String>,
    after_json: Option<String>,
    address: Option<String>,
    prev_hash: String,
    entry_hash: String,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> AuditRecord {
        AuditRecord {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            role: r.role,
            station: r.station,
            action: r.action,
            target: r.target,
            before: r.before_json,
            after: r.after_json,
            address: r.address,
            prev_hash: r.prev_hash,
            entry_hash: r.entry_hash,
        }
    }
}

/// The `prev_hash` an entry after the head `(seq, hash)` carries.
pub(crate) fn prev_of(head_seq: i64, head_hash: String) -> String {
    if head_seq == 0 {
        crate::access::audit::genesis()
    } else {
        head_hash
    }
}

/// Implements [`AuditStore`] for `$ty` (a struct with a sqlx `pool` of `$db`, a `sql()`
/// placeholder converter and the write transaction functions in scope), and the
/// `append_audit_in` the account changes use to record themselves in their own transaction.
macro_rules! impl_audit_store {
    ($ty:ty, $db:ty) => {
        impl $ty {
            /// Appends `draft` inside `tx`: takes the head, chains, inserts, moves the head.
            pub(crate) async fn append_audit_in(
                tx: &mut crate::store::write_tx::WriteTx<$db>,
                draft: &$crate::access::audit::AuditDraft,
            ) -> Result<$crate::access::audit::AuditRecord, $crate::store::StoreError> {
                use $crate::store::audit::*;
                let (head_seq, head_hash): (i64, String) = sqlx::query_as(&sql(TAKE_HEAD))
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| $crate::store::StoreError::Corrupt {
                        id: "audit_head".into(),
                        reason: "the audit chain's head row is missing".into(),
                    })?;
                let r = draft.seal(head_seq + 1, &prev_of(head_seq, head_hash));
                sqlx::query::<$db>(&sql(INSERT))
                    .bind(r.seq)
                    .bind(&r.at)
                    .bind(&r.actor)
                    .bind(&r.role)
                    .bind(&r.station)
                    .bind(&r.action)
                    .bind(&r.target)
                    .bind(&r.before)
                    .bind(&r.after)
                    .bind(&r.address)
                    .bind(&r.prev_hash)
                    .bind(&r.entry_hash)
                    .execute(&mut **tx)
                    .await?;
                sqlx::query::<$db>(&sql(MOVE_HEAD))
                    .bind(r.seq)
                    .bind(&r.entry_hash)
                    .execute(&mut **tx)
                    .await?;
                Ok(r)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::audit::AuditStore for $ty {
            async fn append_audit(
                &self,
                draft: &$crate::access::audit::AuditDraft,
            ) -> Result<$crate::access::audit::AuditRecord, $crate::store::StoreError> {
                let mut tx = begin_write(&self.pool).await?;
                let r = Self::append_audit_in(&mut tx, draft).await?;
                commit_write(tx).await?;
                Ok(r)
            }

            async fn audit_entries(
                &self,
                since: Option<chrono::DateTime<chrono::Utc>>,
            ) -> Result<Vec<$crate::access::audit::AuditRecord>, $crate::store::StoreError> {
                use $crate::store::audit::*;
                Ok(sqlx::query_as::<$db, AuditRow>(&sql(SELECT))
                    .bind(since.map($crate::store::rows::instant_text))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect())
            }

            async fn audit_head(&self) -> Result<(i64, String), $crate::store::StoreError> {
                use $crate::store::audit::*;
                Ok(sqlx::query_as(&sql(HEAD))
                    .fetch_optional(&self.pool)
                    .await?
                    .unwrap_or((0, String::new())))
            }
        }
    };
}
pub(crate) use impl_audit_store;
