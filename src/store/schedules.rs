//! Kept schedules: built weeks (every build a new version), operator pins and exclusions,
//! and week locks. [`ScheduleStore`] is part of every [`super::Store`]; both backends get
//! it from [`impl_schedule_store!`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::library::StateChange;
use crate::schedule::{Pin, StationWeek};

use super::StoreError;

/// A kept station week.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedWeek {
    /// ISO week, e.g. "2023-W10".
    pub week: String,
    /// Station code.
    pub station: String,
    /// 1 for the first build, then one more per rebuild or edit.
    pub version: u32,
    /// The plan's name.
    pub plan: String,
    /// The kept plan version it was built by (`None` for weeks built before plans were
    /// kept, [`super::plans`]).
    pub plan_version: Option<u32>,
    /// Who built it and when.
    pub built: StateChange,
    /// The playlists and forecast.
    pub body: StationWeek,
}

/// What an operator asked of one slot instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinAction {
    /// Put this bulletin in.
    Pin,
    /// Keep this bulletin out.
    Exclude,
}

impl PinAction {
    fn as_str(self) -> &'static str {
        match self {
            PinAction::Pin => "pin",
            PinAction::Exclude => "exclude",
        }
    }
}

/// A kept pin or exclusion.
#[derive(Debug, Clone, PartialEq)]
pub struct PinRow {
    /// The week it belongs to.
    pub week: String,
    /// Where and what.
    pub pin: Pin,
    /// Pin or exclude.
    pub action: PinAction,
    /// Who and when.
    pub made: StateChange,
}

/// A locked station week.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekLock {
    /// ISO week.
    pub week: String,
    /// Station code.
    pub station: String,
    /// Who locked it and when.
    pub locked: StateChange,
}

/// A pin or exclusion kept (`action`) or dropped (`None`) with an edited week.
#[derive(Debug, Clone, Copy)]
pub struct PinEdit<'a> {
    /// The slot instance and bulletin.
    pub pin: &'a Pin,
    /// Pin or exclude; `None` deletes what was kept.
    pub action: Option<PinAction>,
}

/// Schedules, pins and locks.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Saves a built week for each station, as a new version (in the compact form of
    /// [`super::compact`]) naming the plan and the kept plan version it was built by, in
    /// one transaction; returns the versions. Old versions of a week that is neither locked
    /// nor aired are deleted beyond [`KEEP_VERSIONS`].
    async fn save_weeks(
        &self,
        week: &str,
        plan: &str,
        plan_version: Option<u32>,
        stations: &[StationWeek],
        built: &StateChange,
    ) -> Result<Vec<u32>, StoreError> {
        self.save_weeks_expecting(week, plan, plan_version, stations, built, None)
            .await
    }

    /// [`ScheduleStore::save_weeks`], but only if each station's latest kept version is
    /// still `expected` (0: none kept) when given: checked inside the write transaction,
    /// and two saves racing past the check meet the key (week, station, version), so the
    /// loser gets [`StoreError::StaleWeek`] and nothing of its save is kept.
    async fn save_weeks_expecting(
        &self,
        week: &str,
        plan: &str,
        plan_version: Option<u32>,
        stations: &[StationWeek],
        built: &StateChange,
        expected: Option<u32>,
    ) -> Result<Vec<u32>, StoreError> {
        self.save_weeks_with(week, plan, plan_version, stations, built, expected, None)
            .await
    }

    /// An operator's edit of one station's week (a pin or an unpin): the week saved as
    /// [`ScheduleStore::save_weeks_expecting`] over version `expected`, and in the same
    /// transaction the pin or exclusion that keeps the edit on rebuilds (set, or deleted
    /// when `pin.action` is `None`): both are kept or neither is. Returns the new version.
    #[allow(clippy::too_many_arguments)]
    async fn save_edited_week(
        &self,
        week: &str,
        plan: &str,
        plan_version: Option<u32>,
        station: &StationWeek,
        made: &StateChange,
        expected: u32,
        pin: PinEdit<'_>,
    ) -> Result<u32, StoreError> {
        let v = self
            .save_weeks_with(
                week,
                plan,
                plan_version,
                std::slice::from_ref(station),
                made,
                Some(expected),
                Some(pin),
            )
            .await?;
        Ok(v.first().copied().unwrap_or(expected + 1))
    }

    /// What [`ScheduleStore::save_weeks_expecting`] and [`ScheduleStore::save_edited_week`]
    /// do, in one write transaction.
    #[allow(clippy::too_many_arguments)]
    async fn save_weeks_with(
        &self,
        week: &str,
        plan: &str,
        plan_version: Option<u32>,
        stations: &[StationWeek],
        built: &StateChange,
        expected: Option<u32>,
        pin: Option<PinEdit<'_>>,
    ) -> Result<Vec<u32>, StoreError>;

    /// The versions kept of one station's week, oldest first.
    async fn versions(&self, week: &str, station: &str) -> Result<Vec<u32>, StoreError>;

    /// The latest version of each station's week (one station when given), by station code.
    async fn latest_weeks(
        &self,
        week: &str,
        station: Option<&str>,
    ) -> Result<Vec<SavedWeek>, StoreError>;

    /// Records a pin or exclusion (replacing an earlier one for the same slot and bulletin).
    async fn set_pin(
        &self,
        week: &str,
        pin: &Pin,
        action: PinAction,
        made: &StateChange,
    ) -> Result<(), StoreError>;

    /// Deletes a pin or exclusion; `false` when there was none.
    async fn delete_pin(&self, pin: &Pin) -> Result<bool, StoreError>;

    /// The pins and exclusions of a week.
    async fn pins(&self, week: &str) -> Result<Vec<PinRow>, StoreError>;

    /// Locks station weeks (already locked ones stay as they were).
    async fn lock_weeks(
        &self,
        week: &str,
        stations: &[String],
        locked: &StateChange,
    ) -> Result<(), StoreError>;

    /// Unlocks station weeks.
    async fn unlock_weeks(&self, week: &str, stations: &[String]) -> Result<(), StoreError>;

    /// The locks of a week.
    async fn locks(&self, week: &str) -> Result<Vec<WeekLock>, StoreError>;
}

/// Parses a stored instant.
pub(crate) fn instant(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            id: s.to_string(),
            reason: format!("bad instant: {e}"),
        })
}

/// A `schedules` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WeekRow {
    pub week: String,
    pub station: String,
    pub version: i64,
    pub plan: String,
    pub plan_version: Option<i64>,
    pub built_at: String,
    pub built_by: String,
    pub body: String,
}

impl WeekRow {
    pub fn into_saved(self) -> Result<SavedWeek, StoreError> {
        let body = super::compact::decode(&self.body).map_err(|e| StoreError::Corrupt {
            id: format!("{} {} v{}", self.week, self.station, self.version),
            reason: format!("bad schedule body: {e}"),
        })?;
        Ok(SavedWeek {
            week: self.week,
            station: self.station,
            version: u32::try_from(self.version).unwrap_or(0),
            plan: self.plan,
            plan_version: self.plan_version.and_then(|v| u32::try_from(v).ok()),
            built: StateChange {
                by: self.built_by,
                at: instant(&self.built_at)?,
            },
            body,
        })
    }
}

/// A `schedule_pins` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PinDbRow {
    pub week: String,
    pub station: String,
    pub slot_start: String,
    pub bulletin_id: String,
    pub action: String,
    pub created_at: String,
    pub created_by: String,
}

impl PinDbRow {
    pub fn into_row(self) -> Result<PinRow, StoreError> {
        let bad = |reason: String| StoreError::Corrupt {
            id: format!("pin {} {}", self.station, self.slot_start),
            reason,
        };
        Ok(PinRow {
            pin: Pin {
                station: self.station.clone(),
                slot_start: instant(&self.slot_start)?,
                bulletin: self.bulletin_id.parse().map_err(|e| bad(format!("{e}")))?,
            },
            action: match self.action.as_str() {
                "pin" => PinAction::Pin,
                "exclude" => PinAction::Exclude,
                other => return Err(bad(format!("unknown action {other}"))),
            },
            made: StateChange {
                by: self.created_by.clone(),
                at: instant(&self.created_at)?,
            },
            week: self.week,
        })
    }
}

pub(crate) const MAX_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM schedules WHERE week = $1 AND station = $2";
pub(crate) const INSERT_WEEK: &str = "INSERT INTO schedules (week, station, version, plan, built_at, built_by, body, plan_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(crate) const LATEST_WEEKS: &str = "SELECT s.week, s.station, s.version, s.plan, s.plan_version, s.built_at, s.built_by, s.body FROM schedules s \
     WHERE s.week = $1 AND ($2 IS NULL OR s.station = $2) \
     AND s.version = (SELECT MAX(t.version) FROM schedules t WHERE t.week = s.week AND t.station = s.station) \
     ORDER BY s.station";
/// Versions of a station week kept, the latest included, when the week is neither locked
/// nor aired; older ones are deleted when a new version is saved. Locked and aired weeks
/// keep every version (the evidence of what was planned).
pub const KEEP_VERSIONS: i64 = 3;

/// Deletes versions up to `$3` of a station week unless the week is locked or any airlog
/// row of the station is planned within its airtime (`$4` – `$5`).
pub(crate) const PRUNE_VERSIONS: &str = "DELETE FROM schedules WHERE week = $1 AND station = $2 AND version <= $3 \
     AND NOT EXISTS (SELECT 1 FROM schedule_locks l WHERE l.week = $1 AND l.station = $2) \
     AND NOT EXISTS (SELECT 1 FROM airlog_all a WHERE a.station = $2 AND a.planned_start >= $4 AND a.planned_start < $5)";

/// The stored instants from the first slot's start to the last slot's end, when any.
pub(crate) fn airtime(week: &StationWeek) -> Option<(String, String)> {
    let first = week.slots.first()?;
    let to = week
        .slots
        .iter()
        .map(|s| s.start.with_timezone(&Utc) + chrono::Duration::seconds(s.length_s.into()))
        .max()?;
    Some((
        super::rows::instant_text(first.start.with_timezone(&Utc)),
        super::rows::instant_text(to),
    ))
}

pub(crate) const VERSIONS: &str =
    "SELECT version FROM schedules WHERE week = $1 AND station = $2 ORDER BY version";
pub(crate) const UPSERT_PIN: &str = "INSERT INTO schedule_pins (week, station, slot_start, bulletin_id, action, created_at, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (station, slot_start, bulletin_id) \
     DO UPDATE SET action = excluded.action, created_at = excluded.created_at, created_by = excluded.created_by, week = excluded.week";
pub(crate) const DELETE_PIN: &str =
    "DELETE FROM schedule_pins WHERE station = $1 AND slot_start = $2 AND bulletin_id = $3";
pub(crate) const PINS: &str = "SELECT week, station, slot_start, bulletin_id, action, created_at, created_by FROM schedule_pins WHERE week = $1 ORDER BY station, slot_start, created_at, bulletin_id";
pub(crate) const LOCK: &str = "INSERT INTO schedule_locks (week, station, locked_at, locked_by) VALUES ($1, $2, $3, $4) ON CONFLICT (week, station) DO NOTHING";
pub(crate) const UNLOCK: &str = "DELETE FROM schedule_locks WHERE week = $1 AND station = $2";
pub(crate) const LOCKS: &str = "SELECT week, station, locked_at, locked_by FROM schedule_locks WHERE week = $1 ORDER BY station";

/// `PinAction` as stored.
pub(crate) fn action_text(a: PinAction) -> &'static str {
    a.as_str()
}

/// Implements [`ScheduleStore`] for `$ty` (a struct with a sqlx `pool` of `$db` and a
/// `sql()` placeholder converter in scope).
macro_rules! impl_schedule_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::schedules::ScheduleStore for $ty {
            #[allow(clippy::too_many_arguments)]
            async fn save_weeks_with(
                &self,
                week: &str,
                plan: &str,
                plan_version: Option<u32>,
                stations: &[$crate::schedule::StationWeek],
                built: &$crate::library::StateChange,
                expected: Option<u32>,
                pin: Option<$crate::store::schedules::PinEdit<'_>>,
            ) -> Result<Vec<u32>, $crate::store::StoreError> {
                use $crate::store::schedules::*;
                let mut tx = begin_write(&self.pool).await?;
                let mut versions = Vec::with_capacity(stations.len());
                let at = $crate::store::rows::instant_text(built.at);
                for st in stations {
                    let max: i64 = sqlx::query_scalar::<$db, i64>(&sql(MAX_VERSION))
                        .bind(week)
                        .bind(&st.code)
                        .fetch_one(&mut *tx)
                        .await?;
                    let stale = |found: i64| $crate::store::StoreError::StaleWeek {
                        week: week.to_string(),
                        station: st.code.clone(),
                        expected: expected.unwrap_or(0),
                        found: u32::try_from(found).unwrap_or(u32::MAX),
                    };
                    if expected.is_some_and(|e| i64::from(e) != max) {
                        return Err(stale(max));
                    }
                    let body = $crate::store::compact::encode(st).map_err(|e| {
                        $crate::store::StoreError::Corrupt {
                            id: st.code.clone(),
                            reason: format!("cannot encode the schedule: {e}"),
                        }
                    })?;
                    sqlx::query::<$db>(&sql(INSERT_WEEK))
                        .bind(week)
                        .bind(&st.code)
                        .bind(max + 1)
                        .bind(plan)
                        .bind(&at)
                        .bind(&built.by)
                        .bind(body)
                        .bind(plan_version.map(i64::from))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| match &e {
                            sqlx::Error::Database(d) if d.is_unique_violation() => stale(max + 1),
                            _ => $crate::store::StoreError::from(e),
                        })?;
                    versions.push(u32::try_from(max + 1).unwrap_or(u32::MAX));
                    if let Some((from, to)) = airtime(st) {
                        sqlx::query::<$db>(&sql(PRUNE_VERSIONS))
                            .bind(week)
                            .bind(&st.code)
                            .bind(max + 1 - KEEP_VERSIONS)
                            .bind(from)
                            .bind(to)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                match pin {
                    Some(PinEdit {
                        pin,
                        action: Some(action),
                    }) => {
                        sqlx::query::<$db>(&sql(UPSERT_PIN))
                            .bind(week)
                            .bind(&pin.station)
                            .bind($crate::store::rows::instant_text(pin.slot_start))
                            .bind(pin.bulletin.as_str())
                            .bind(action_text(action))
                            .bind(&at)
                            .bind(&built.by)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Some(PinEdit { pin, action: None }) => {
                        sqlx::query::<$db>(&sql(DELETE_PIN))
                            .bind(&pin.station)
                            .bind($crate::store::rows::instant_text(pin.slot_start))
                            .bind(pin.bulletin.as_str())
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {}
                }
                commit_write(tx).await?;
                Ok(versions)
            }

            async fn versions(
                &self,
                week: &str,
                station: &str,
            ) -> Result<Vec<u32>, $crate::store::StoreError> {
                use $crate::store::schedules::*;
                let rows: Vec<i64> = sqlx::query_scalar::<$db, i64>(&sql(VERSIONS))
                    .bind(week)
                    .bind(station)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|v| u32::try_from(v).unwrap_or(0))
                    .collect())
            }

            async fn latest_weeks(
                &self,
                week: &str,
                station: Option<&str>,
            ) -> Result<Vec<$crate::store::schedules::SavedWeek>, $crate::store::StoreError> {
                use $crate::store::schedules::*;
                sqlx::query_as::<$db, WeekRow>(&sql(LATEST_WEEKS))
                    .bind(week)
                    .bind(station)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(WeekRow::into_saved)
                    .collect()
            }

            async fn set_pin(
                &self,
                week: &str,
                pin: &$crate::schedule::Pin,
                action: $crate::store::schedules::PinAction,
                made: &$crate::library::StateChange,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::schedules::*;
                sqlx::query::<$db>(&sql(UPSERT_PIN))
                    .bind(week)
                    .bind(&pin.station)
                    .bind($crate::store::rows::instant_text(pin.slot_start))
                    .bind(pin.bulletin.as_str())
                    .bind(action_text(action))
                    .bind($crate::store::rows::instant_text(made.at))
                    .bind(&made.by)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_pin(
                &self,
                pin: &$crate::schedule::Pin,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::schedules::*;
                let done = sqlx::query::<$db>(&sql(DELETE_PIN))
                    .bind(&pin.station)
                    .bind($crate::store::rows::instant_text(pin.slot_start))
                    .bind(pin.bulletin.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn pins(
                &self,
                week: &str,
            ) -> Result<Vec<$crate::store::schedules::PinRow>, $crate::store::StoreError> {
                use $crate::store::schedules::*;
                sqlx::query_as::<$db, PinDbRow>(&sql(PINS))
                    .bind(week)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(PinDbRow::into_row)
                    .collect()
            }

            async fn lock_weeks(
                &self,
                week: &str,
                stations: &[String],
                locked: &$crate::library::StateChange,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::schedules::*;
                let mut tx = begin_write(&self.pool).await?;
                for s in stations {
                    sqlx::query::<$db>(&sql(LOCK))
                        .bind(week)
                        .bind(s)
                        .bind($crate::store::rows::instant_text(locked.at))
                        .bind(&locked.by)
                        .execute(&mut *tx)
                        .await?;
                }
                commit_write(tx).await?;
                Ok(())
            }

            async fn unlock_weeks(
                &self,
                week: &str,
                stations: &[String],
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::schedules::*;
                let mut tx = begin_write(&self.pool).await?;
                for s in stations {
                    sqlx::query::<$db>(&sql(UNLOCK))
                        .bind(week)
                        .bind(s)
                        .execute(&mut *tx)
                        .await?;
                }
                commit_write(tx).await?;
                Ok(())
            }

            async fn locks(
                &self,
                week: &str,
            ) -> Result<Vec<$crate::store::schedules::WeekLock>, $crate::store::StoreError> {
                use $crate::store::schedules::*;
                let rows: Vec<(String, String, String, String)> =
                    sqlx::query_as::<$db, (String, String, String, String)>(&sql(LOCKS))
                        .bind(week)
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(week, station, at, by)| {
                        Ok(WeekLock {
                            week,
                            station,
                            locked: $crate::library::StateChange {
                                by,
                                at: instant(&at)?,
                            },
                        })
                    })
                    .collect()
            }
        }
    };
}
pub(crate) use impl_schedule_store;
