//! The node side of the airlog coming home: ask the server for the head it holds, send
//! the rows of the node's own chain that follow it ([`super::homeward::to_send`]) in
//! batches, each with the node's signature over the batch's last row. Nothing is deleted
//! on the node: its airlog stays whole, uploaded or not. A server restored from a backup
//! holds an older head; the node simply sends from there.

use serde::Serialize;

use super::client::{Client, ClientError};
use super::homeward::{self, Diverged, Head};
use super::inbox::Upload;
use super::node::NodeKey;
use crate::airlog::Record;
use crate::clock::Clock;
use crate::store::{Store, StoreError};

/// Rows per upload (well under the server's [`homeward::MAX_BATCH`] and body limit).
pub const BATCH: usize = 200;

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UploadReport {
    /// Closed rows in the node's chain.
    pub rows: usize,
    /// Rows sent.
    pub sent: usize,
    /// Of them, stored by the server (the rest it held already).
    pub stored: usize,
    /// The head the server holds now.
    pub head: Option<Head>,
}

/// Why the rows could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The node's store.
    #[error("this machine's airlog: {0}")]
    Store(#[from] StoreError),
    /// The server.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The two chains differ, or the node's is broken.
    #[error(transparent)]
    Diverged(#[from] Diverged),
}

/// Sends every closed row of `station` the server does not hold yet.
pub async fn upload(
    store: &dyn Store,
    station: &str,
    key: &NodeKey,
    client: &Client,
    clock: &dyn Clock,
    measurements: &[super::clock::Offset],
) -> Result<UploadReport, UploadError> {
    let chain = homeward::chain_order(station, store.airlog(Some(station), None, None).await?)?;
    let mut report = UploadReport {
        rows: chain.len(),
        ..UploadReport::default()
    };
    let mut head = client.airlog_head().await?;
    let send = homeward::to_send(station, &chain, head.as_ref())?;
    for batch in send.chunks(BATCH) {
        let Some(last) = batch.last() else { break };
        let signed = key.sign_head(station, last.seq, &last.row_hash, clock.now());
        let taken = client
            .upload_airlog(&Upload {
                rows: batch.to_vec(),
                head: Some(signed),
                clock_offsets_ms: offsets_of(batch, measurements),
            })
            .await?;
        report.sent += batch.len();
        report.stored += taken.stored;
        head = taken.head;
    }
    report.head = head;
    Ok(report)
}

/// Each row's clock offset: the measurement in force when it was written (its start, or
/// its planned start when it never started); none at all without measurements.
fn offsets_of(rows: &[Record], measurements: &[super::clock::Offset]) -> Vec<Option<i64>> {
    if measurements.is_empty() {
        return Vec::new();
    }
    rows.iter()
        .map(|r| {
            let at = r.actual_start.as_deref().unwrap_or(&r.planned_start);
            let at = chrono::DateTime::parse_from_rfc3339(at).ok()?;
            super::clock::offset_at(measurements, at.with_timezone(&chrono::Utc))
        })
        .collect()
}
