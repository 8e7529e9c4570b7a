//! `loa airlog verify` over a store: every station's closed rows checked against its chain
//! and its recorded head.

use std::collections::{BTreeMap, BTreeSet};

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

/// Verifies every station's chain, one station in memory at a time.
pub async fn verify(store: &dyn Store) -> Result<Verified, VerifyError> {
    let heads: BTreeMap<String, (i64, String)> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|(s, seq, h)| (s, (seq, h)))
        .collect();
    let mut codes: BTreeSet<String> = store.airlog_stations().await?.into_iter().collect();
    codes.extend(heads.keys().cloned());
    // Bulletin lengths, for rows that claim more than their bulletin (airlog::bound).
    let lengths: std::collections::HashMap<String, u64> = store
        .list_bulletins(&crate::store::BulletinFilter::default())
        .await?
        .into_iter()
        .map(|b| (b.id.to_string(), b.audio.duration_ms))
        .collect();
    let mut stations = BTreeMap::new();
    let mut open = 0;
    for station in codes {
        let (playing, rows): (Vec<Record>, Vec<Record>) = store
            .airlog(Some(&station), None, None)
            .await?
            .into_iter()
            .partition(|r| r.status == "playing" && r.row_hash.is_empty());
        open += playing.len();
        let head = heads.get(&station).map(|(seq, h)| (*seq, h.as_str()));
        chain::verify(&station, &rows, head)?;
        if let Some(bad) = crate::airlog::bound::first_overlong(&station, &rows, &lengths) {
            return Err(bad.into());
        }
        stations.insert(station, rows.len());
    }
    Ok(Verified { stations, open })
}
