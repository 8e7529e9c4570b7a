//! A write transaction that never poisons the pool. sqlx's own transaction keeps counting a
//! transaction the database already ended (SQLite rolls back by itself when a COMMIT hits a
//! full disk), and the connection then refuses every later transaction. This one runs
//! `BEGIN …`/`COMMIT` itself and closes its connection instead of returning it to the pool
//! unless it committed, so a failure costs one connection and the next write starts clean.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::Database;

/// An open write transaction on a pool connection.
pub(crate) struct WriteTx<DB: Database> {
    /// The connection, dedicated to this transaction.
    pub(crate) conn: PoolConnection<DB>,
    /// Set once COMMIT succeeded; otherwise the connection is closed on drop.
    pub(crate) committed: bool,
}

impl<DB: Database> Drop for WriteTx<DB> {
    fn drop(&mut self) {
        if !self.committed {
            self.conn.close_on_drop();
        }
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}

/// `begin(pool)` and `commit(tx)` for one concrete database (sqlx's generic executor bounds
/// are not worth spelling out for two backends).
macro_rules! write_tx_fns {
    ($db:ty, $begin:expr) => {
        /// Starts a write transaction.
        pub(crate) async fn begin_write(
            pool: &sqlx::Pool<$db>,
        ) -> Result<crate::store::write_tx::WriteTx<$db>, sqlx::Error> {
            let mut conn = pool.acquire().await?;
            if let Err(e) = sqlx::query($begin).execute(&mut *conn).await {
                conn.close_on_drop();
                return Err(e);
            }
            Ok(crate::store::write_tx::WriteTx {
                conn,
                committed: false,
            })
        }

        /// Commits; on failure the connection is closed (the database rolls back).
        pub(crate) async fn commit_write(
            mut tx: crate::store::write_tx::WriteTx<$db>,
        ) -> Result<(), sqlx::Error> {
            sqlx::query("COMMIT").execute(&mut *tx.conn).await?;
            tx.committed = true;
            Ok(())
        }
    };
}
pub(crate) use write_tx_fns;
