//! Counting airlog rows ahead of long work, so a progress bar knows its total (`airlog
//! export` of a year). [`CountStore`] is part of every [`super::Store`]; both backends get
//! it from [`impl_count_store!`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// Counting rows.
#[async_trait]
pub trait CountStore: Send + Sync {
    /// Closed item rows of `station` planned in `[from, to)`: the rows an export walks.
    async fn count_item_rows(
        &self,
        station: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

pub(crate) const COUNT_ITEM_ROWS: &str = "SELECT COUNT(*) FROM airlog_all WHERE station = $1 \
     AND planned_start >= $2 AND planned_start < $3 AND row_hash <> '' AND level = 'item'";

/// Implements [`CountStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a `sql()`
/// placeholder converter in scope).
macro_rules! impl_count_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::counts::CountStore for $ty {
            async fn count_item_rows(
                &self,
                station: &str,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::rows::instant_text;
                let n: i64 =
                    sqlx::query_scalar::<$db, i64>(&sql($crate::store::counts::COUNT_ITEM_ROWS))
                        .bind(station)
                        .bind(instant_text(from))
                        .bind(instant_text(to))
                        .fetch_one(&self.pool)
                        .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    };
}
pub(crate) use impl_count_store;
