//! The PostgreSQL backend, for a province-wide central server. Migrations take the
//! migrator's advisory lock, so several daemons starting at once upgrade the schema once.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::config::redact_url;
use crate::store::airlog::impl_airlog_store;
use crate::store::queries::impl_store;
use crate::store::schedules::impl_schedule_store;
use crate::store::signed_heads::impl_signed_head_store;
use crate::store::StoreError;

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    /// Connections to the server.
    pool: PgPool,
}

/// PostgreSQL takes the shared SQL as written.
fn sql(text: &str) -> String {
    text.to_string()
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let shown = redact_url(url);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate { url: shown, source })?;
        Ok(PgStore { pool })
    }

    /// The pool, for tests that must reach under the store (e.g. to tamper with rows).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

// PostgreSQL locks rows as it goes; a plain BEGIN is right.
crate::store::write_tx::write_tx_fns!(sqlx::Postgres, "BEGIN");

impl_store!(PgStore, sqlx::Postgres, "postgres");
impl_schedule_store!(PgStore, sqlx::Postgres);
impl_airlog_store!(PgStore, sqlx::Postgres);
impl_signed_head_store!(PgStore, sqlx::Postgres);
