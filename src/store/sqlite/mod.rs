//! The embedded SQLite backend: one file in the data dir, WAL journal, foreign keys on,
//! `synchronous=FULL` (the airlog is evidence: a committed row survives a power cut), and a
//! busy timeout so the daemon and a CLI command can share the file.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::store::agent_airlog::impl_agent_airlog_store;
use crate::store::airlog::impl_airlog_store;
use crate::store::announcements::impl_announcement_store;
use crate::store::audit::impl_audit_store;
use crate::store::counts::impl_count_store;
use crate::store::edits::impl_edit_store;
use crate::store::nodes::impl_node_store;
use crate::store::plans::impl_plan_store;
use crate::store::queries::impl_store;
use crate::store::schedules::impl_schedule_store;
use crate::store::signed_heads::impl_signed_head_store;
use crate::store::users::impl_user_store;
use crate::store::StoreError;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Connections to the one database file.
    pool: SqlitePool,
}

/// SQLite reads PostgreSQL's `$N` placeholders as `?N`.
fn sql(text: &str) -> String {
    text.replace('$', "?")
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let url = path.display().to_string();
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| StoreError::Connect {
                url: url.clone(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Connect {
                url: url.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate { url, source })?;
        Ok(SqliteStore { pool })
    }

    /// The pool, for tests that must reach under the store (e.g. to tamper with rows).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The embedded database is one data dir's, and that data dir's lock file keeps a
    /// second daemon out: the claim holds nothing ([`crate::store::claim`]).
    async fn claim(
        &self,
        _stations: &[String],
        _holder: &str,
    ) -> Result<crate::store::StationClaim, StoreError> {
        Ok(crate::store::StationClaim::none())
    }
}

// SQLite write transactions take the write lock at once (`BEGIN IMMEDIATE`): a deferred
// transaction that reads and then writes fails with SQLITE_BUSY_SNAPSHOT when another station
// wrote meanwhile, and no busy timeout helps.
crate::store::write_tx::write_tx_fns!(sqlx::Sqlite, "BEGIN IMMEDIATE");

impl_store!(SqliteStore, sqlx::Sqlite, "sqlite");
impl_schedule_store!(SqliteStore, sqlx::Sqlite);
impl_plan_store!(SqliteStore, sqlx::Sqlite);
impl_count_store!(SqliteStore, sqlx::Sqlite);
impl_airlog_store!(SqliteStore, sqlx::Sqlite);
impl_agent_airlog_store!(SqliteStore, sqlx::Sqlite);
impl_edit_store!(SqliteStore, sqlx::Sqlite);
impl_signed_head_store!(SqliteStore, sqlx::Sqlite);
impl_audit_store!(SqliteStore, sqlx::Sqlite);
impl_user_store!(SqliteStore, sqlx::Sqlite);
impl_node_store!(SqliteStore, sqlx::Sqlite);
impl_announcement_store!(SqliteStore, sqlx::Sqlite);
