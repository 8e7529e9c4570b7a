//! Persistence: the [`Store`] trait and its two backends on sqlx, SQLite (embedded, the
//! default) and PostgreSQL (a province-wide central server), chosen from the database URL.
//!
//! Both backends run the same SQL (written once in [`queries`]) and their own migrations
//! (`migrations/sqlite`, `migrations/postgres`), applied automatically when the store opens.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::DatabaseUrl;
use crate::library::{ApprovalState, Bulletin, BulletinId, Kind, StateChange, Topic};

pub mod agent_airlog;
pub mod airlog;
pub mod announcements;
pub mod audit;
pub mod claim;
pub mod compact;
pub mod counts;
pub mod edits;
pub mod nodes;
mod packed;
pub mod plans;
pub mod postgres;
mod queries;
mod rows;
pub mod schedules;
pub mod signed_heads;
pub mod sqlite;
pub mod users;
mod write_tx;

pub use agent_airlog::{AgentAirlogStore, AgentAppend, Appended};
pub use airlog::{AirlogStore, Closing, NewRow, SlotRecord};
pub use announcements::{AnnouncementState, AnnouncementStore, KeptAnnouncement, NewAnnouncement};
pub use audit::AuditStore;
pub use claim::StationClaim;
pub use counts::CountStore;
pub use edits::{EditStore, Edited};
pub use nodes::{EnrolRefusal, KeptReport, NewEnrolToken, Node, NodeStore, Revoked};
pub use packed::{sort_for_export, ExportFields, ExportPage};
pub use plans::{KeptPlan, PlanStore, PlanVersion, WeekPlan};
pub use schedules::{PinAction, PinEdit, PinRow, SavedWeek, ScheduleStore, WeekLock};
pub use signed_heads::SignedHeadStore;
pub use users::{NewSession, NewUser, UserError, UserStore};

/// How the store writes an instant (fixed-width UTC text to the microsecond).
pub(crate) use rows::instant_text as rows_instant_text;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("cannot open the database {url}: {source}")]
    Connect {
        /// The URL or file, password redacted.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A migration could not be applied (the database is left as it was).
    #[error("cannot bring the database {url} up to date: {source}")]
    Migrate {
        /// The URL or file, password redacted.
        url: String,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// No bulletin has that id.
    #[error("no bulletin with id {0} in the library")]
    NotFound(BulletinId),
    /// The approval state cannot change that way.
    #[error("bulletin {id} is {from}; it cannot become {to}")]
    BadTransition {
        /// The bulletin.
        id: BulletinId,
        /// Its state now.
        from: ApprovalState,
        /// The state asked for.
        to: ApprovalState,
    },
    /// The bulletin has airlog rows, which must keep pointing at its audio.
    #[error("bulletin {id} has aired {count} time(s); it is evidence in the airlog and cannot be removed (retire it instead: `loa library retire {id}`)")]
    HasAired {
        /// The bulletin.
        id: BulletinId,
        /// How many airlog rows point at it.
        count: u64,
    },
    /// Another daemon plays the station (PostgreSQL's advisory lock on it is held).
    #[error("station {station} is already played by another loa daemon on this database ({holder}); stop that daemon first")]
    Claimed {
        /// The station.
        station: String,
        /// Who holds it (the other daemon's PID, host and control API, as it said).
        holder: String,
    },
    /// A stored airlog row's words could not be read back (hand-edited, or from a newer
    /// version).
    #[error("airlog row {seq} in the database is unreadable: {reason}")]
    BadAirlogRow {
        /// The row's sequence number.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored row could not be read back (hand-edited or from a newer version).
    #[error("stored bulletin {id} is unreadable: {reason}")]
    Corrupt {
        /// The row's id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A station week was saved by someone else since the version the caller expected
    /// ([`ScheduleStore::save_weeks_expecting`]): nothing was saved.
    #[error(
        "week {week} at {station} changed meanwhile: it is at version {found}, not {expected}"
    )]
    StaleWeek {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
        /// The version the caller saw (0: none kept).
        expected: u32,
        /// The latest version kept.
        found: u32,
    },
}

/// Which bulletins `list` returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulletinFilter {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this topic.
    pub topic: Option<Topic>,
    /// Only this approval state.
    pub state: Option<ApprovalState>,
}

/// What adding one bulletin did.
#[derive(Debug, Clone, PartialEq)]
pub enum Added {
    /// A new row.
    New(Bulletin),
    /// The same audio bytes were already in the library: the existing bulletin, unchanged.
    Existing(Bulletin),
}

impl Added {
    /// The bulletin, new or existing.
    pub fn bulletin(&self) -> &Bulletin {
        match self {
            Added::New(b) | Added::Existing(b) => b,
        }
    }
}

/// Everything loa keeps in its database: the library here, schedules in [`ScheduleStore`],
/// the airlog in [`AirlogStore`], its signed heads in [`SignedHeadStore`], metadata
/// corrections in [`EditStore`], console accounts in [`UserStore`], the audit trail in
/// [`AuditStore`], commune machines and their enrolment tokens in [`NodeStore`], the
/// announcements that wait for a slot in [`AnnouncementStore`].
#[async_trait]
pub trait Store:
    ScheduleStore
    + PlanStore
    + CountStore
    + AirlogStore
    + AgentAirlogStore
    + SignedHeadStore
    + EditStore
    + UserStore
    + AuditStore
    + NodeStore
    + AnnouncementStore
    + Send
    + Sync
{
    /// Which backend this is ("sqlite" or "postgres"), for logs.
    fn backend(&self) -> &'static str;

    /// Adds bulletins in one transaction: all are stored or none is. A bulletin whose audio
    /// (SHA-256) is already in the library is returned as [`Added::Existing`], unchanged.
    async fn add_bulletins(&self, new: &[Bulletin]) -> Result<Vec<Added>, StoreError>;

    /// One bulletin by id.
    async fn bulletin(&self, id: &BulletinId) -> Result<Option<Bulletin>, StoreError>;

    /// One bulletin by the SHA-256 of its audio.
    async fn bulletin_by_sha256(&self, sha256: &str) -> Result<Option<Bulletin>, StoreError>;

    /// Bulletins matching `filter`, oldest first (then by id).
    async fn list_bulletins(&self, filter: &BulletinFilter) -> Result<Vec<Bulletin>, StoreError>;

    /// A number that moves whenever any bulletin is added, changed or removed, by this
    /// process or another on the same database (kept by triggers on `bulletins`): a copy
    /// of the library read at one version is still whole while the version has not moved.
    async fn library_version(&self) -> Result<i64, StoreError>;

    /// Moves a bulletin to `to`, recording who and when; refuses transitions the approval
    /// life does not allow.
    async fn set_state(
        &self,
        id: &BulletinId,
        to: ApprovalState,
        change: &StateChange,
    ) -> Result<Bulletin, StoreError>;

    /// How many airlog rows point at a bulletin.
    async fn airing_count(&self, id: &BulletinId) -> Result<u64, StoreError>;

    /// Deletes a bulletin's row and returns it; refused for a bulletin that has aired.
    /// The caller deletes its audio afterwards.
    async fn remove_bulletin(&self, id: &BulletinId) -> Result<Bulletin, StoreError>;

    /// Claims `stations` for this daemon until the claim is released or dropped; refused
    /// ([`StoreError::Claimed`]) while another daemon holds one of them. `holder` says who
    /// this daemon is (PID, host, control API), for the one refused.
    async fn claim_stations(
        &self,
        stations: &[String],
        holder: &str,
    ) -> Result<StationClaim, StoreError>;

    /// Closes the connections cleanly (SQLite checkpoints its WAL).
    async fn close(&self);
}

/// Opens (creating it if needed) and migrates the store the URL names.
pub async fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) => Arc::new(sqlite::SqliteStore::open(path).await?),
        DatabaseUrl::Postgres(u) => Arc::new(postgres::PgStore::open(u).await?),
    })
}
