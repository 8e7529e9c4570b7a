//! The PostgreSQL backend, for a province-wide central server. Migrations take the
//! migrator's advisory lock, so several daemons starting at once upgrade the schema once.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::config::redact_url;
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

    /// Takes a session advisory lock per station on a connection taken out of the pool
    /// (it is closed, not returned, when the claim ends, so the locks go with it); the
    /// session's `application_name` says who holds them.
    async fn claim(
        &self,
        stations: &[String],
        holder: &str,
    ) -> Result<crate::store::StationClaim, StoreError> {
        use crate::store::claim::{application_name, station_key, LOCK_CLASS};
        let mut conn = self.pool.acquire().await?.detach();
        sqlx::query("SELECT set_config('application_name', $1, false)")
            .bind(application_name(holder))
            .execute(&mut conn)
            .await?;
        for code in stations {
            let key = station_key(code);
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(LOCK_CLASS)
                .bind(key)
                .fetch_one(&mut conn)
                .await?;
            if !got {
                let who: Option<String> = sqlx::query_scalar(LOCK_HOLDER)
                    .bind(LOCK_CLASS)
                    .bind(key)
                    .fetch_optional(&mut conn)
                    .await?;
                crate::store::StationClaim::held_by(conn).release().await;
                return Err(StoreError::Claimed {
                    station: code.clone(),
                    holder: who
                        .filter(|w| !w.trim().is_empty())
                        .unwrap_or_else(|| "a session that did not say who it is".into()),
                });
            }
        }
        Ok(crate::store::StationClaim::held_by(conn))
    }
}

/// The `application_name` of the session holding a station's advisory lock
/// (`pg_try_advisory_lock(int4, int4)` shows as `objsubid = 2`).
const LOCK_HOLDER: &str = "SELECT a.application_name FROM pg_locks l \
     JOIN pg_stat_activity a ON a.pid = l.pid \
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
     AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid \
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     LIMIT 1";

// PostgreSQL locks rows as it goes; a plain BEGIN is right.
crate::store::write_tx::write_tx_fns!(sqlx::Postgres, "BEGIN");

impl_store!(PgStore, sqlx::Postgres, "postgres");
impl_schedule_store!(PgStore, sqlx::Postgres);
impl_plan_store!(PgStore, sqlx::Postgres);
impl_count_store!(PgStore, sqlx::Postgres);
impl_airlog_store!(PgStore, sqlx::Postgres);
impl_agent_airlog_store!(PgStore, sqlx::Postgres);
impl_edit_store!(PgStore, sqlx::Postgres);
impl_signed_head_store!(PgStore, sqlx::Postgres);
impl_audit_store!(PgStore, sqlx::Postgres);
impl_user_store!(PgStore, sqlx::Postgres);
impl_node_store!(PgStore, sqlx::Postgres);
impl_announcement_store!(PgStore, sqlx::Postgres);
