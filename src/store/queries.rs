//! The store's SQL, written once for both backends, and [`impl_store!`], which implements
//! [`super::Store`] for a backend struct holding a sqlx `pool`.
//!
//! The SQL uses PostgreSQL's `$N` placeholders; SQLite reads the same text with `?N`
//! (numbered, so a parameter may repeat), converted by the backend's `sql()` function.

/// The columns of `bulletins`, in the order [`bind_bulletin_row!`] binds them.
pub(crate) const BULLETIN_COLUMNS: &[&str] = &[
    "id",
    "sha256",
    "size_bytes",
    "codec",
    "container",
    "sample_rate",
    "channels",
    "duration_ms",
    "frames",
    "loudness_lufs",
    "loudness_range_lu",
    "true_peak_dbtp",
    "leading_silence_ms",
    "trailing_silence_ms",
    "tag_title",
    "tag_artist",
    "title",
    "kind",
    "topic",
    "priority",
    "producer",
    "language",
    "valid_from",
    "valid_until",
    "stations",
    "notes",
    "audio_path",
    "original_name",
    "state",
    "added_by",
    "added_at",
    "approved_by",
    "approved_at",
    "retired_by",
    "retired_at",
];

/// `INSERT INTO bulletins (…) VALUES ($1, …) ON CONFLICT (sha256) DO NOTHING`.
pub(crate) fn insert_bulletin_sql() -> String {
    let placeholders: Vec<String> = (1..=BULLETIN_COLUMNS.len())
        .map(|i| format!("${i}"))
        .collect();
    format!(
        "INSERT INTO bulletins ({}) VALUES ({}) ON CONFLICT (sha256) DO NOTHING",
        BULLETIN_COLUMNS.join(", "),
        placeholders.join(", ")
    )
}

pub(crate) const SELECT_BY_ID: &str = "SELECT * FROM bulletins WHERE id = $1";
pub(crate) const SELECT_BY_SHA: &str = "SELECT * FROM bulletins WHERE sha256 = $1";
pub(crate) const SELECT_FILTERED: &str = "SELECT * FROM bulletins \
     WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR topic = $2) AND ($3 IS NULL OR state = $3) \
     ORDER BY added_at, id";
pub(crate) const SET_APPROVED: &str =
    "UPDATE bulletins SET state = 'approved', approved_by = $2, approved_at = $3 WHERE id = $1";
pub(crate) const SET_RETIRED: &str =
    "UPDATE bulletins SET state = 'retired', retired_by = $2, retired_at = $3 WHERE id = $1";
pub(crate) const COUNT_AIRINGS: &str = "SELECT COUNT(*) FROM airlog_all WHERE bulletin_id = $1";
pub(crate) const DELETE_BY_ID: &str = "DELETE FROM bulletins WHERE id = $1";
pub(crate) const SELECT_LIBRARY_VERSION: &str = "SELECT version FROM library_version WHERE id = 1";

/// Binds every column of a [`super::rows::BulletinRow`] in [`BULLETIN_COLUMNS`] order.
macro_rules! bind_bulletin_row {
    ($q:expr, $r:expr) => {
        $q.bind(&$r.id)
            .bind(&$r.sha256)
            .bind($r.size_bytes)
            .bind(&$r.codec)
            .bind(&$r.container)
            .bind($r.sample_rate)
            .bind($r.channels)
            .bind($r.duration_ms)
            .bind($r.frames)
            .bind($r.loudness_lufs)
            .bind($r.loudness_range_lu)
            .bind($r.true_peak_dbtp)
            .bind($r.leading_silence_ms)
            .bind($r.trailing_silence_ms)
            .bind(&$r.tag_title)
            .bind(&$r.tag_artist)
            .bind(&$r.title)
            .bind(&$r.kind)
            .bind(&$r.topic)
            .bind(&$r.priority)
            .bind(&$r.producer)
            .bind(&$r.language)
            .bind(&$r.valid_from)
            .bind(&$r.valid_until)
            .bind(&$r.stations)
            .bind(&$r.notes)
            .bind(&$r.audio_path)
            .bind(&$r.original_name)
            .bind(&$r.state)
            .bind(&$r.added_by)
            .bind(&$r.added_at)
            .bind(&$r.approved_by)
            .bind(&$r.approved_at)
            .bind(&$r.retired_by)
            .bind(&$r.retired_at)
    };
}
pub(crate) use bind_bulletin_row;

/// Implements [`super::Store`] for `$ty`, a struct with a `pool` of the sqlx database `$db`,
/// a `name()` for logs, and a `sql(&str) -> String` placeholder converter in scope.
macro_rules! impl_store {
    ($ty:ty, $db:ty, $backend:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $ty {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn add_bulletins(
                &self,
                new: &[$crate::library::Bulletin],
            ) -> Result<Vec<$crate::store::Added>, $crate::store::StoreError> {
                use $crate::store::queries::*;
                use $crate::store::rows::BulletinRow;
                let insert = sql(&insert_bulletin_sql());
                let by_sha = sql(SELECT_BY_SHA);
                let mut tx = begin_write(&self.pool).await?;
                let mut out = Vec::with_capacity(new.len());
                for b in new {
                    let row = BulletinRow::from_bulletin(b);
                    let done = bind_bulletin_row!(sqlx::query::<$db>(&insert), row)
                        .execute(&mut *tx)
                        .await?;
                    let stored: BulletinRow = sqlx::query_as::<$db, BulletinRow>(&by_sha)
                        .bind(&row.sha256)
                        .fetch_one(&mut *tx)
                        .await?;
                    let stored = stored.into_bulletin()?;
                    out.push(if done.rows_affected() == 1 {
                        $crate::store::Added::New(stored)
                    } else {
                        $crate::store::Added::Existing(stored)
                    });
                }
                commit_write(tx).await?;
                Ok(out)
            }

            async fn bulletin(
                &self,
                id: &$crate::library::BulletinId,
            ) -> Result<Option<$crate::library::Bulletin>, $crate::store::StoreError> {
                use $crate::store::queries::*;
                sqlx::query_as::<$db, $crate::store::rows::BulletinRow>(&sql(SELECT_BY_ID))
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.into_bulletin())
                    .transpose()
            }

            async fn bulletin_by_sha256(
                &self,
                sha256: &str,
            ) -> Result<Option<$crate::library::Bulletin>, $crate::store::StoreError> {
                use $crate::store::queries::*;
                sqlx::query_as::<$db, $crate::store::rows::BulletinRow>(&sql(SELECT_BY_SHA))
                    .bind(sha256)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.into_bulletin())
                    .transpose()
            }

            async fn list_bulletins(
                &self,
                filter: &$crate::store::BulletinFilter,
            ) -> Result<Vec<$crate::library::Bulletin>, $crate::store::StoreError> {
                use $crate::store::queries::*;
                sqlx::query_as::<$db, $crate::store::rows::BulletinRow>(&sql(SELECT_FILTERED))
                    .bind(filter.kind.map(|k| k.as_str()))
                    .bind(filter.topic.map(|t| t.as_str()))
                    .bind(filter.state.map(|s| s.as_str()))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| r.into_bulletin())
                    .collect()
            }

            async fn library_version(&self) -> Result<i64, $crate::store::StoreError> {
                use $crate::store::queries::*;
                Ok(sqlx::query_scalar::<$db, i64>(&sql(SELECT_LIBRARY_VERSION))
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn set_state(
                &self,
                id: &$crate::library::BulletinId,
                to: $crate::library::ApprovalState,
                change: &$crate::library::StateChange,
            ) -> Result<$crate::library::Bulletin, $crate::store::StoreError> {
                use $crate::library::ApprovalState;
                use $crate::store::queries::*;
                use $crate::store::StoreError;
                let mut tx = begin_write(&self.pool).await?;
                let current =
                    sqlx::query_as::<$db, $crate::store::rows::BulletinRow>(&sql(SELECT_BY_ID))
                        .bind(id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(id.clone()))?
                        .into_bulletin()?;
                if !current.state.can_become(to) {
                    return Err(StoreError::BadTransition {
                        id: id.clone(),
                        from: current.state,
                        to,
                    });
                }
                let update = match to {
                    ApprovalState::Approved => SET_APPROVED,
                    ApprovalState::Retired => SET_RETIRED,
                    ApprovalState::Draft => unreachable!("can_become never allows draft"),
                };
                sqlx::query::<$db>(&sql(update))
                    .bind(id.as_str())
                    .bind(&change.by)
                    .bind($crate::store::rows::instant_text(change.at))
                    .execute(&mut *tx)
                    .await?;
                let updated =
                    sqlx::query_as::<$db, $crate::store::rows::BulletinRow>(&sql(SELECT_BY_ID))
                        .bind(id.as_str())
                        .fetch_one(&mut *tx)
                        .await?
                        .into_bulletin()?;
                commit_write(tx).await?;
                Ok(updated)
            }

            async fn airing_count(
                &self,
                id: &$crate::library::BulletinId,
            ) -> Result<u64, $crate::store::StoreError> {
                use $crate::store::queries::*;
                let n: i64 = sqlx::query_scalar::<$db, i64>(&sql(COUNT_AIRINGS))
                    .bind(id.as_str())
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n.max(0) as u64)
            }

            async fn remove_bulletin(
                &self,
                id: &$crate::library::BulletinId,
            ) -> Result<$crate::library::Bulletin, $crate::store::StoreError> {
                use $crate::store::queries::*;
                use $crate::store::StoreError;
                let mut tx = begin_write(&self.pool).await?;
                let current =
                    sqlx::query_as::<$db, $crate::store::rows::BulletinRow>(&sql(SELECT_BY_ID))
                        .bind(id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(id.clone()))?
                        .into_bulletin()?;
                let aired: i64 = sqlx::query_scalar::<$db, i64>(&sql(COUNT_AIRINGS))
                    .bind(id.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                if aired > 0 {
                    return Err(StoreError::HasAired {
                        id: id.clone(),
                        count: aired as u64,
                    });
                }
                sqlx::query::<$db>(&sql(DELETE_BY_ID))
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                commit_write(tx).await?;
                Ok(current)
            }

            async fn claim_stations(
                &self,
                stations: &[String],
                holder: &str,
            ) -> Result<$crate::store::StationClaim, $crate::store::StoreError> {
                self.claim(stations, holder).await
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }
    };
}
pub(crate) use impl_store;
