//! Signed chain heads in the store: appended as playout advances, never changed
//! ([`crate::airlog::signed`] makes and checks them). [`SignedHeadStore`] is part of every
//! [`super::Store`]; both backends get it from [`impl_signed_head_store!`].

use async_trait::async_trait;

use crate::airlog::signed::SignedHead;

use super::StoreError;

/// The signed heads.
#[async_trait]
pub trait SignedHeadStore: Send + Sync {
    /// One station's chain head now: (seq, row_hash) of its last closed row.
    async fn chain_head(&self, station: &str) -> Result<Option<(i64, String)>, StoreError>;

    /// Appends a signed head (durably, like an airlog row).
    async fn append_signed_head(&self, head: &SignedHead) -> Result<(), StoreError>;

    /// A station's signed heads, oldest first.
    async fn signed_heads(&self, station: &str) -> Result<Vec<SignedHead>, StoreError>;

    /// A station's latest signed head.
    async fn latest_signed_head(&self, station: &str) -> Result<Option<SignedHead>, StoreError>;

    /// Every station that ever had a signed head, by code.
    async fn signed_stations(&self) -> Result<Vec<String>, StoreError>;

    /// A station's closed rows of other levels than `item` (slot rows) whose planned start
    /// is in `[from, to)`, by seq: what an export adds so its item rows' links can be
    /// followed (a few hundred a year).
    async fn chain_slot_rows(
        &self,
        station: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::airlog::Record>, StoreError>;
}

pub(crate) const CHAIN_HEAD: &str = "SELECT seq, row_hash FROM airlog_heads WHERE station = $1";
pub(crate) const APPEND: &str = "INSERT INTO airlog_signed_heads \
     (station, seq, row_hash, signed_at, key_fingerprint, signature) VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const HEADS: &str =
    "SELECT station, seq, row_hash, signed_at, key_fingerprint, signature \
     FROM airlog_signed_heads WHERE station = $1 ORDER BY id";
pub(crate) const LATEST: &str =
    "SELECT station, seq, row_hash, signed_at, key_fingerprint, signature \
     FROM airlog_signed_heads WHERE station = $1 ORDER BY id DESC LIMIT 1";
/// Closed rows of neither level loa writes (`item`, `slot`) in `[$2, $3)`: none unless the
/// database was edited; read whole so the chain carries them as they are.
pub(crate) const OTHER_LEVEL_RECORDS: &str = "SELECT seq, level, station, slot_start, bulletin_id, sha256, \
     planned_start, actual_start, actual_end, played_ms, status, source, reason, gain_db, who, link_seq, \
     prev_hash, row_hash FROM airlog_all WHERE station = $1 AND level NOT IN ('item', 'slot') \
     AND planned_start >= $2 AND planned_start < $3 AND row_hash <> '' ORDER BY seq";
pub(crate) const STATIONS: &str =
    "SELECT DISTINCT station FROM airlog_signed_heads ORDER BY station";

/// Implements [`SignedHeadStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a
/// `sql()` placeholder converter in scope).
macro_rules! impl_signed_head_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::signed_heads::SignedHeadStore for $ty {
            async fn chain_head(
                &self,
                station: &str,
            ) -> Result<Option<(i64, String)>, $crate::store::StoreError> {
                use $crate::store::signed_heads::CHAIN_HEAD;
                Ok(sqlx::query_as::<$db, (i64, String)>(&sql(CHAIN_HEAD))
                    .bind(station)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn append_signed_head(
                &self,
                h: &$crate::airlog::signed::SignedHead,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::signed_heads::APPEND;
                let mut tx = begin_write(&self.pool).await?;
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
                Ok(())
            }

            async fn signed_heads(
                &self,
                station: &str,
            ) -> Result<Vec<$crate::airlog::signed::SignedHead>, $crate::store::StoreError> {
                use $crate::store::signed_heads::HEADS;
                Ok(
                    sqlx::query_as::<$db, $crate::airlog::signed::SignedHead>(&sql(HEADS))
                        .bind(station)
                        .fetch_all(&self.pool)
                        .await?,
                )
            }

            async fn latest_signed_head(
                &self,
                station: &str,
            ) -> Result<Option<$crate::airlog::signed::SignedHead>, $crate::store::StoreError> {
                use $crate::store::signed_heads::LATEST;
                Ok(
                    sqlx::query_as::<$db, $crate::airlog::signed::SignedHead>(&sql(LATEST))
                        .bind(station)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn chain_slot_rows(
                &self,
                station: &str,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<$crate::airlog::Record>, $crate::store::StoreError> {
                use $crate::store::packed::PACKED_SLOT_ROWS;
                use $crate::store::rows::instant_text;
                use $crate::store::signed_heads::OTHER_LEVEL_RECORDS;
                let (from, to) = (instant_text(from), instant_text(to));
                // Slot rows packed (hundreds of thousands in a province's year)…
                let text = sqlx::query_scalar::<$db, Option<String>>(&sql(PACKED_SLOT_ROWS))
                    .bind(station)
                    .bind(&from)
                    .bind(&to)
                    .fetch_one(&self.pool)
                    .await?;
                let page = $crate::store::ExportPage::parse(station, text)?;
                let mut rows = page
                    .rows()
                    .map(|f| f.to_record($crate::airlog::Level::Slot))
                    .collect::<Result<Vec<_>, _>>()?;
                // …and any row of another level (none that loa writes) whole, as stored, so
                // that verification meets it exactly as it is.
                rows.extend($crate::store::airlog::parse_rows(
                    sqlx::query_as::<$db, $crate::store::airlog::RawRecord>(&sql(
                        OTHER_LEVEL_RECORDS,
                    ))
                    .bind(station)
                    .bind(&from)
                    .bind(&to)
                    .fetch_all(&self.pool)
                    .await?,
                )?);
                rows.sort_by_key(|r| r.seq);
                Ok(rows)
            }

            async fn signed_stations(&self) -> Result<Vec<String>, $crate::store::StoreError> {
                use $crate::store::signed_heads::STATIONS;
                Ok(sqlx::query_scalar::<$db, String>(&sql(STATIONS))
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_signed_head_store;
