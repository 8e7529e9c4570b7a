//! `loa airlog verify` over a store: every station's closed rows checked against its chain
//! and its recorded head.

use std::collections::BTreeMap;

use crate::airlog::chain::{self, BadRow};
use crate::airlog::Record;
use crate::store::{Store, StoreError};

/// What a clean verification saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// Closed rows checked, per station.
    pub stations: BTreeMap<String, usize>,
    /// Rows still open (playing now, or left by a crash not yet recovered).
    pub open: usize,
}

/// Why verification did not pass.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log was altered: the first bad row.
    #[error(transparent)]
    Tampered(#[from] BadRow),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies every station's chain.
pub async fn verify(store: &dyn Store) -> Result<Verified, VerifyError> {
    let rows = store.airlog(None, None, None).await?;
    let heads: BTreeMap<String, (i64, String)> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|(s, seq, h)| (s, (seq, h)))
        .collect();
    let mut by_station: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let mut open = 0;
    for r in rows {
        if r.status == "playing" && r.row_hash.is_empty() {
            open += 1;
            continue;
        }
        by_station.entry(r.station.clone()).or_default().push(r);
    }
    for station in heads.keys() {
        by_station.entry(station.clone()).or_default();
    }
    let mut stations = BTreeMap::new();
    for (station, rows) in &by_station {
        let head = heads.get(station).map(|(seq, h)| (*seq, h.as_str()));
        chain::verify(station, rows, head)?;
        stations.insert(station.clone(), rows.len());
    }
    Ok(Verified { stations, open })
}
