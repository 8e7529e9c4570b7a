//! The engine's two seams: where slot playlists and bulletins come from ([`Programme`]),
//! and where airlog rows go ([`AirlogDestination`]). The same engine plays for the daemon,
//! for `loa playout run` and, next, for the commune agent, which plays from its cache and
//! sends its rows home: it implements these two traits and nothing else changes.
//!
//! Today both are the store: [`KeptSchedules`] reads the kept week schedules (building a
//! missing week from the plan) and the library (its copy in memory,
//! [`crate::library::catalogue`]); [`StoreAirlog`] writes rows to the store's airlog, where
//! they join the station's hash chain.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::airlog::key::DistrictKey;
use crate::airlog::Record;
use crate::library::StateChange;
use crate::plan::{Plan, Station};
use crate::playout::cues::{Library, Makeup};
use crate::playout::service::{self, PlayoutError};
use crate::schedule::SlotPlaylist;
use crate::store::{Closing, NewRow, Store, StoreError};

/// Where a station's slot playlists, the bulletins to play and the items still to make up
/// come from.
#[async_trait]
pub trait Programme: Send + Sync {
    /// The slot instances of `station` that end after `from` and start before `to`, in
    /// order (a slot still running at `from` is included: the player joins it late). `now`
    /// stamps a week built on the way.
    async fn slots(
        &self,
        station: &Station,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotPlaylist>, PlayoutError>;

    /// The bulletins playout may play, as they are now.
    async fn library(&self) -> Result<Arc<Library>, StoreError>;

    /// Items of `station` that did not air whole before `from` and are still to make up.
    async fn makeups(&self, station: &str, from: DateTime<Utc>) -> Result<Vec<Makeup>, StoreError>;
}

/// Where a station's airlog rows go: opened before their audio, progressed while it plays,
/// closed when it ends.
#[async_trait]
pub trait AirlogDestination: Send + Sync {
    /// Writes an open row durably; returns its sequence number.
    async fn open_row(&self, row: &NewRow) -> Result<i64, StoreError>;

    /// Records how much of an open row has played.
    async fn progress(&self, seq: i64, played_ms: u64, at: DateTime<Utc>)
        -> Result<(), StoreError>;

    /// Closes an open row.
    async fn close_row(&self, seq: i64, closing: &Closing) -> Result<Record, StoreError>;

    /// Writes a row that never played, closed, in one step.
    async fn record(&self, row: &NewRow, closing: &Closing) -> Result<Record, StoreError>;

    /// The rows of `station` planned in `[from, to)` (a slot instance resumed after a restart
    /// plays only what is not there yet).
    async fn rows(
        &self,
        station: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError>;

    /// Marks the kept announcement `id` aired by the row `seq` (`None` while the row waits
    /// in memory for the store); a destination that keeps no announcements does nothing.
    async fn announcement_aired(&self, _id: i64, _seq: Option<i64>, _by: &str, _at: DateTime<Utc>) {
    }

    /// Signs the station's chain head with the district key as a slot ends
    /// ([`crate::airlog::signed`]); a destination that keeps no chain does nothing.
    async fn sign_head(&self, _station: &str, _key: &DistrictKey, _now: DateTime<Utc>) {}
}

/// The daemon's programme: the store's kept week schedules, built from the plan when a
/// week is missing, and its library.
pub struct KeptSchedules {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The plan weeks are built from.
    pub plan: Arc<Plan>,
    /// Who builds a missing week (the daemon's name).
    pub who: String,
    /// The library in memory, shared with the console.
    pub catalogue: Arc<crate::library::catalogue::Catalogue>,
}

#[async_trait]
impl Programme for KeptSchedules {
    async fn slots(
        &self,
        station: &Station,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotPlaylist>, PlayoutError> {
        let built = StateChange {
            by: self.who.clone(),
            at: now,
        };
        service::slots_between(self.store.as_ref(), &self.plan, station, from, to, &built).await
    }

    async fn library(&self) -> Result<Arc<Library>, StoreError> {
        Ok(self.catalogue.snapshot().await?.by_id().clone())
    }

    async fn makeups(&self, station: &str, from: DateTime<Utc>) -> Result<Vec<Makeup>, StoreError> {
        service::pending_makeups(self.store.as_ref(), station, from).await
    }
}

/// Airlog rows written to the store.
pub struct StoreAirlog(pub Arc<dyn Store>);

#[async_trait]
impl AirlogDestination for StoreAirlog {
    async fn open_row(&self, row: &NewRow) -> Result<i64, StoreError> {
        self.0.open_row(row).await
    }

    async fn progress(
        &self,
        seq: i64,
        played_ms: u64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0.progress(seq, played_ms, at).await
    }

    async fn close_row(&self, seq: i64, closing: &Closing) -> Result<Record, StoreError> {
        self.0.close_row(seq, closing).await
    }

    async fn record(&self, row: &NewRow, closing: &Closing) -> Result<Record, StoreError> {
        self.0.record(row, closing).await
    }

    async fn rows(
        &self,
        station: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        self.0.airlog(Some(station), Some(from), Some(to)).await
    }

    async fn sign_head(&self, station: &str, key: &DistrictKey, now: DateTime<Utc>) {
        crate::airlog::signed::sign_at_slot_end(self.0.as_ref(), Some(key), station, now).await
    }

    async fn announcement_aired(&self, id: i64, seq: Option<i64>, by: &str, at: DateTime<Utc>) {
        let aired = crate::store::AnnouncementState::Aired;
        match self.0.end_announcement(id, aired, by, at, seq).await {
            Ok(true) => tracing::info!(announcement = id, seq = ?seq, "announcement aired"),
            // Cancelled after its slot had taken it: it aired all the same, and the row says so.
            Ok(false) => {
                tracing::warn!(announcement = id, seq = ?seq, "an announcement no longer waiting aired")
            }
            // Still waiting in the store: a restart airs it again rather than never.
            Err(e) => {
                tracing::error!(announcement = id, error = %e, "cannot mark an announcement aired")
            }
        }
    }
}
