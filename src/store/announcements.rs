//! Announcements waiting for a station's next slot instance (migration 0013,
//! `announcements`): a `normal` or `priority` announcement is kept here when it is sent, so
//! a restart of the daemon does not lose it; the daemon reloads what still waits. Once its
//! item is in the airlog it is marked `aired` with that row's seq; an operator may cancel it
//! while it waits; one older than the make-up window is marked `expired` when the daemon
//! starts. [`AnnouncementStore`] is part of every [`super::Store`]; both backends get it
//! from [`impl_announcement_store!`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::library::{BulletinId, Priority};

use super::StoreError;

/// Where an announcement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementState {
    /// Waiting for its station's next slot instance.
    Waiting,
    /// Its item is in the airlog (the row says how it went).
    Aired,
    /// Cancelled by an operator before it aired.
    Cancelled,
    /// Waited longer than the make-up window (the daemon was down that long).
    Expired,
    /// Taken by the commune machine that plays its station (`loa agent`), which airs it
    /// and logs it in its own airlog.
    Delivered,
}

impl AnnouncementState {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementState::Waiting => "waiting",
            AnnouncementState::Aired => "aired",
            AnnouncementState::Cancelled => "cancelled",
            AnnouncementState::Expired => "expired",
            AnnouncementState::Delivered => "delivered",
        }
    }

    fn parse(s: &str) -> Option<AnnouncementState> {
        Some(match s {
            "waiting" => AnnouncementState::Waiting,
            "aired" => AnnouncementState::Aired,
            "cancelled" => AnnouncementState::Cancelled,
            "expired" => AnnouncementState::Expired,
            "delivered" => AnnouncementState::Delivered,
            _ => return None,
        })
    }
}

/// An announcement to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnnouncement {
    /// The station it waits for.
    pub station: String,
    /// What airs.
    pub bulletin: BulletinId,
    /// `normal` or `priority` (an emergency never waits).
    pub level: Priority,
    /// Who sent it.
    pub who: String,
    /// When.
    pub sent_at: DateTime<Utc>,
}

/// An announcement as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnnouncement {
    /// Its number.
    pub id: i64,
    /// The station it waits (or waited) for.
    pub station: String,
    /// What airs.
    pub bulletin: BulletinId,
    /// Its level.
    pub level: Priority,
    /// Who sent it.
    pub who: String,
    /// When (RFC 3339, UTC).
    pub sent_at: String,
    /// Where it is in its life.
    pub state: AnnouncementState,
    /// When it left the waiting state.
    pub ended_at: Option<String>,
    /// Who cancelled it (or the daemon that aired or expired it).
    pub ended_by: Option<String>,
    /// The airlog row of its airing.
    pub airlog_seq: Option<i64>,
}

/// Keeping announcements that wait for a slot.
#[async_trait]
pub trait AnnouncementStore: Send + Sync {
    /// Keeps announcements, all or none, and returns their numbers in order.
    async fn add_announcements(&self, new: &[NewAnnouncement]) -> Result<Vec<i64>, StoreError>;

    /// The announcements of `station` (every station when `None`) in `state` (any when
    /// `None`), oldest first.
    async fn announcements(
        &self,
        station: Option<&str>,
        state: Option<AnnouncementState>,
    ) -> Result<Vec<KeptAnnouncement>, StoreError>;

    /// One announcement.
    async fn announcement(&self, id: i64) -> Result<Option<KeptAnnouncement>, StoreError>;

    /// Moves a waiting announcement to `to` (aired, cancelled, expired), recording who, when
    /// and the airlog row; `false` when it was no longer waiting (nothing changes then).
    async fn end_announcement(
        &self,
        id: i64,
        to: AnnouncementState,
        by: &str,
        at: DateTime<Utc>,
        airlog_seq: Option<i64>,
    ) -> Result<bool, StoreError>;
}

pub(crate) const INSERT: &str = "INSERT INTO announcements \
     (station, bulletin_id, level, who, sent_at, state) VALUES ($1, $2, $3, $4, $5, 'waiting') \
     RETURNING id";
pub(crate) const SELECT: &str = "SELECT id, station, bulletin_id, level, who, sent_at, state, \
     ended_at, ended_by, airlog_seq FROM announcements \
     WHERE ($1 IS NULL OR station = $1) AND ($2 IS NULL OR state = $2) ORDER BY id";
pub(crate) const ONE: &str = "SELECT id, station, bulletin_id, level, who, sent_at, state, \
     ended_at, ended_by, airlog_seq FROM announcements WHERE id = $1";
pub(crate) const END: &str = "UPDATE announcements SET state = $2, ended_by = $3, ended_at = $4, \
     airlog_seq = $5 WHERE id = $1 AND state = 'waiting'";

/// One `announcements` row, column for column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AnnouncementRow {
    id: i64,
    station: String,
    bulletin_id: String,
    level: String,
    who: String,
    sent_at: String,
    state: String,
    ended_at: Option<String>,
    ended_by: Option<String>,
    airlog_seq: Option<i64>,
}

impl TryFrom<AnnouncementRow> for KeptAnnouncement {
    type Error = StoreError;
    fn try_from(r: AnnouncementRow) -> Result<KeptAnnouncement, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            id: format!("announcement {}", r.id),
            reason,
        };
        Ok(KeptAnnouncement {
            bulletin: r.bulletin_id.parse().map_err(|e| corrupt(format!("{e}")))?,
            level: r.level.parse().map_err(|e| corrupt(format!("{e}")))?,
            state: AnnouncementState::parse(&r.state)
                .ok_or_else(|| corrupt(format!("unknown state '{}'", r.state)))?,
            id: r.id,
            station: r.station,
            who: r.who,
            sent_at: r.sent_at,
            ended_at: r.ended_at,
            ended_by: r.ended_by,
            airlog_seq: r.airlog_seq,
        })
    }
}

/// Implements [`AnnouncementStore`] for `$ty` (a struct with a sqlx `pool` of `$db`, a
/// `sql()` placeholder converter and the write transaction functions in scope).
macro_rules! impl_announcement_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::announcements::AnnouncementStore for $ty {
            async fn add_announcements(
                &self,
                new: &[$crate::store::announcements::NewAnnouncement],
            ) -> Result<Vec<i64>, $crate::store::StoreError> {
                use $crate::store::announcements::INSERT;
                let mut tx = begin_write(&self.pool).await?;
                let mut ids = Vec::with_capacity(new.len());
                for a in new {
                    let id: i64 = sqlx::query_scalar::<$db, i64>(&sql(INSERT))
                        .bind(&a.station)
                        .bind(a.bulletin.as_str())
                        .bind(a.level.as_str())
                        .bind(&a.who)
                        .bind($crate::store::rows::instant_text(a.sent_at))
                        .fetch_one(&mut *tx)
                        .await?;
                    ids.push(id);
                }
                commit_write(tx).await?;
                Ok(ids)
            }

            async fn announcements(
                &self,
                station: Option<&str>,
                state: Option<$crate::store::announcements::AnnouncementState>,
            ) -> Result<
                Vec<$crate::store::announcements::KeptAnnouncement>,
                $crate::store::StoreError,
            > {
                use $crate::store::announcements::{AnnouncementRow, SELECT};
                sqlx::query_as::<$db, AnnouncementRow>(&sql(SELECT))
                    .bind(station)
                    .bind(state.map(|s| s.as_str()))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn announcement(
                &self,
                id: i64,
            ) -> Result<
                Option<$crate::store::announcements::KeptAnnouncement>,
                $crate::store::StoreError,
            > {
                use $crate::store::announcements::{AnnouncementRow, ONE};
                sqlx::query_as::<$db, AnnouncementRow>(&sql(ONE))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn end_announcement(
                &self,
                id: i64,
                to: $crate::store::announcements::AnnouncementState,
                by: &str,
                at: chrono::DateTime<chrono::Utc>,
                airlog_seq: Option<i64>,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::announcements::END;
                let mut tx = begin_write(&self.pool).await?;
                let done = sqlx::query::<$db>(&sql(END))
                    .bind(id)
                    .bind(to.as_str())
                    .bind(by)
                    .bind($crate::store::rows::instant_text(at))
                    .bind(airlog_seq)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                commit_write(tx).await?;
                Ok(done == 1)
            }
        }
    };
}
pub(crate) use impl_announcement_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_stored_by_its_name_and_read_back() {
        for s in [
            AnnouncementState::Waiting,
            AnnouncementState::Aired,
            AnnouncementState::Cancelled,
            AnnouncementState::Expired,
            AnnouncementState::Delivered,
        ] {
            assert_eq!(AnnouncementState::parse(s.as_str()), Some(s));
        }
        assert_eq!(AnnouncementState::parse("done"), None);
    }
}
