//! Kept plans (migration 0007, `plans`): every schedule build keeps the plan text it used,
//! once per distinct text (by SHA-256), numbered in the order first used; a kept week names
//! that version (`schedules.plan_version`). Reports judge each week by the plan its kept
//! schedule was built by; `loa plan history` lists them. [`PlanStore`] is part of every
//! [`super::Store`]; both backends get it from [`impl_plan_store!`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// A kept plan version, without its text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanVersion {
    /// 1 for the first plan kept, then one more per distinct text.
    pub version: u32,
    /// SHA-256 of the text, hex.
    pub sha256: String,
    /// The plan's name.
    pub name: String,
    /// When it was first kept.
    pub stored_at: DateTime<Utc>,
    /// The first and last ISO weeks kept schedules built by it (none when every such
    /// schedule was pruned).
    pub first_week: Option<String>,
    /// See `first_week`.
    pub last_week: Option<String>,
}

/// A kept plan with its text.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptPlan {
    /// Its version.
    pub version: u32,
    /// SHA-256 of the text, hex.
    pub sha256: String,
    /// The plan file's text, exactly as read.
    pub content: String,
}

/// The plan version a kept station week was built by (its latest version's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekPlan {
    /// ISO week, e.g. "2023-W10".
    pub week: String,
    /// Station code.
    pub station: String,
    /// The plan version.
    pub plan_version: u32,
}

/// Keeping plans and finding which plan built which week.
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// Keeps a plan text (once per distinct SHA-256) and gives its version.
    async fn keep_plan(
        &self,
        name: &str,
        content: &str,
        sha256: &str,
        at: DateTime<Utc>,
    ) -> Result<u32, StoreError>;

    /// Every kept plan version, oldest first, with the weeks built by it.
    async fn plan_history(&self) -> Result<Vec<PlanVersion>, StoreError>;

    /// One kept plan with its text; `None` for an unknown version.
    async fn kept_plan(&self, version: u32) -> Result<Option<KeptPlan>, StoreError>;

    /// The plan version of the latest kept version of each station week from `from_week`
    /// to `to_week` (ISO week strings, both included) that names one.
    async fn week_plans(&self, from_week: &str, to_week: &str)
        -> Result<Vec<WeekPlan>, StoreError>;
}

pub(crate) const FIND_PLAN: &str = "SELECT version FROM plans WHERE sha256 = $1";
pub(crate) const INSERT_PLAN: &str =
    "INSERT INTO plans (version, sha256, name, content, stored_at) \
     SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4 FROM plans";
pub(crate) const PLAN_HISTORY: &str = "SELECT p.version, p.sha256, p.name, p.stored_at, \
     MIN(s.week) AS first_week, MAX(s.week) AS last_week \
     FROM plans p LEFT JOIN schedules s ON s.plan_version = p.version \
     GROUP BY p.version, p.sha256, p.name, p.stored_at ORDER BY p.version";
pub(crate) const KEPT_PLAN: &str = "SELECT version, sha256, content FROM plans WHERE version = $1";
pub(crate) const WEEK_PLANS: &str = "SELECT s.week, s.station, s.plan_version FROM schedules s \
     WHERE s.week >= $1 AND s.week <= $2 AND s.plan_version IS NOT NULL \
     AND s.version = (SELECT MAX(t.version) FROM schedules t WHERE t.week = s.week AND t.station = s.station) \
     ORDER BY s.station, s.week";

/// A row of [`PLAN_HISTORY`].
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct HistoryRow {
    pub version: i64,
    pub sha256: String,
    pub name: String,
    pub stored_at: String,
    pub first_week: Option<String>,
    pub last_week: Option<String>,
}

impl HistoryRow {
    pub(crate) fn into_version(self) -> Result<PlanVersion, StoreError> {
        Ok(PlanVersion {
            version: u32::try_from(self.version).unwrap_or(0),
            sha256: self.sha256,
            name: self.name,
            stored_at: super::schedules::instant(&self.stored_at)?,
            first_week: self.first_week,
            last_week: self.last_week,
        })
    }
}

/// A row of [`KEPT_PLAN`].
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct KeptRow {
    pub version: i64,
    pub sha256: String,
    pub content: String,
}

/// A row of [`WEEK_PLANS`].
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WeekPlanRow {
    pub week: String,
    pub station: String,
    pub plan_version: i64,
}

/// Implements [`PlanStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a `sql()`
/// placeholder converter in scope).
macro_rules! impl_plan_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::plans::PlanStore for $ty {
            async fn keep_plan(
                &self,
                name: &str,
                content: &str,
                sha256: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<u32, $crate::store::StoreError> {
                use $crate::store::plans::*;
                let mut tx = begin_write(&self.pool).await?;
                let found: Option<i64> = sqlx::query_scalar::<$db, i64>(&sql(FIND_PLAN))
                    .bind(sha256)
                    .fetch_optional(&mut *tx)
                    .await?;
                let version = match found {
                    Some(v) => v,
                    None => {
                        sqlx::query::<$db>(&sql(INSERT_PLAN))
                            .bind(sha256)
                            .bind(name)
                            .bind(content)
                            .bind($crate::store::rows::instant_text(at))
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query_scalar::<$db, i64>(&sql(FIND_PLAN))
                            .bind(sha256)
                            .fetch_one(&mut *tx)
                            .await?
                    }
                };
                commit_write(tx).await?;
                Ok(u32::try_from(version).unwrap_or(u32::MAX))
            }

            async fn plan_history(
                &self,
            ) -> Result<Vec<$crate::store::plans::PlanVersion>, $crate::store::StoreError> {
                use $crate::store::plans::*;
                sqlx::query_as::<$db, HistoryRow>(&sql(PLAN_HISTORY))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(HistoryRow::into_version)
                    .collect()
            }

            async fn kept_plan(
                &self,
                version: u32,
            ) -> Result<Option<$crate::store::plans::KeptPlan>, $crate::store::StoreError> {
                use $crate::store::plans::*;
                Ok(sqlx::query_as::<$db, KeptRow>(&sql(KEPT_PLAN))
                    .bind(i64::from(version))
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| KeptPlan {
                        version: u32::try_from(r.version).unwrap_or(0),
                        sha256: r.sha256,
                        content: r.content,
                    }))
            }

            async fn week_plans(
                &self,
                from_week: &str,
                to_week: &str,
            ) -> Result<Vec<$crate::store::plans::WeekPlan>, $crate::store::StoreError> {
                use $crate::store::plans::*;
                Ok(sqlx::query_as::<$db, WeekPlanRow>(&sql(WEEK_PLANS))
                    .bind(from_week)
                    .bind(to_week)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|r| WeekPlan {
                        week: r.week,
                        station: r.station,
                        plan_version: u32::try_from(r.plan_version).unwrap_or(0),
                    })
                    .collect())
            }
        }
    };
}
pub(crate) use impl_plan_store;
