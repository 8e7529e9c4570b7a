//! `loa airlog verify` over a store: every station's closed rows checked against its chain
//! and its recorded head, then against its signed heads (the latest of every station that
//! ever had one, and every earlier one), and its open rows against their bulletins.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::airlog::chain::{self, BadRow};
use crate::airlog::key::PublicKey;
use crate::airlog::signed::{self, HeadProblem};
use crate::airlog::Record;
use crate::store::{Store, StoreError};

/// What a clean verification saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// Closed rows checked, per station.
    pub stations: BTreeMap<String, usize>,
    /// Rows still open (playing now, or left by a crash not yet recovered).
    pub open: usize,
    /// Signed heads checked, per station.
    pub signed_heads: BTreeMap<String, usize>,
}

/// Why verification did not pass.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log was altered: the first bad row.
    #[error(transparent)]
    Tampered(#[from] BadRow),
    /// The rows do not reach a head the district key signed.
    #[error(transparent)]
    Unsigned(#[from] HeadProblem),
    /// An open row claims more than it can have played.
    #[error("airlog of station {station}: open row {seq} claims {played_ms} ms of a {length_ms} ms bulletin (a forged or impossible open row)")]
    ImpossibleOpenRow {
        /// Station.
        station: String,
        /// The row.
        seq: i64,
        /// What it claims.
        played_ms: i64,
        /// Its bulletin's length.
        length_ms: i64,
    },
    /// Signed heads exist but no key was given to check them with.
    #[error("the airlog has signed heads but the district key to check them is missing: {0}")]
    NoKey(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VerifyError {
    /// The station and row a tamper names (for `--json`), when it names one.
    pub fn station_seq(&self) -> Option<(String, i64)> {
        match self {
            VerifyError::Tampered(b) => Some((b.station.clone(), b.seq)),
            VerifyError::Unsigned(
                HeadProblem::BadSignature { station, seq }
                | HeadProblem::Vanished { station, seq }
                | HeadProblem::Truncated { station, seq }
                | HeadProblem::Rechained { station, seq },
            )
            | VerifyError::ImpossibleOpenRow { station, seq, .. } => Some((station.clone(), *seq)),
            _ => None,
        }
    }
}

/// [`verify_with_key`] without the district key: enough for a log that has no signed heads.
pub async fn verify(store: &dyn Store) -> Result<Verified, VerifyError> {
    verify_with_key(store, Err("no key was given".into())).await
}

/// Verifies every station's chain, one station in memory at a time. `key` is the district's
/// public key (`Err` says why it could not be read): stations with signed heads need it.
pub async fn verify_with_key(
    store: &dyn Store,
    key: Result<PublicKey, String>,
) -> Result<Verified, VerifyError> {
    verify_watched(store, key, &crate::progress::Quiet).await
}

/// [`verify_with_key`], one step of `progress` per station.
pub async fn verify_watched(
    store: &dyn Store,
    key: Result<PublicKey, String>,
    progress: &dyn crate::progress::Progress,
) -> Result<Verified, VerifyError> {
    let heads: BTreeMap<String, (i64, String)> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|(s, seq, h)| (s, (seq, h)))
        .collect();
    let signed_stations: BTreeSet<String> = store.signed_stations().await?.into_iter().collect();
    let mut codes: BTreeSet<String> = store.airlog_stations().await?.into_iter().collect();
    codes.extend(heads.keys().cloned());
    codes.extend(signed_stations.iter().cloned());
    // Bulletin lengths, for rows that claim more than their bulletin (airlog::bound).
    let lengths: HashMap<String, u64> = store
        .list_bulletins(&crate::store::BulletinFilter::default())
        .await?
        .into_iter()
        .map(|b| (b.id.to_string(), b.audio.duration_ms))
        .collect();
    let mut stations = BTreeMap::new();
    let mut signed_heads = BTreeMap::new();
    let mut open = 0;
    progress.more(codes.len() as u64);
    for station in codes {
        let (playing, rows): (Vec<Record>, Vec<Record>) = store
            .airlog(Some(&station), None, None)
            .await?
            .into_iter()
            .partition(|r| r.status == "playing" && r.row_hash.is_empty());
        open += playing.len();
        let head = heads.get(&station).map(|(seq, h)| (*seq, h.as_str()));
        if signed_stations.contains(&station) {
            let signed = store.signed_heads(&station).await?;
            // A station played by a commune machine has heads its node signed (at each
            // upload); each head is checked with the key whose fingerprint it names: one
            // of the station's nodes, else the district's.
            let nodes: Vec<PublicKey> = store
                .station_nodes(&station)
                .await?
                .iter()
                .filter_map(|n| PublicKey::from_hex(&n.public_key))
                .collect();
            let mut by_key: BTreeMap<&str, Vec<signed::SignedHead>> = BTreeMap::new();
            for h in &signed {
                by_key
                    .entry(&h.key_fingerprint)
                    .or_default()
                    .push(h.clone());
            }
            for (fingerprint, heads) in by_key {
                let node = nodes.iter().find(|k| k.fingerprint() == fingerprint);
                let key = match node {
                    Some(k) => k,
                    None => key.as_ref().map_err(|e| VerifyError::NoKey(e.clone()))?,
                };
                // A cut or re-chained history is named by what the key signed, before the
                // chain's own complaint about its end.
                signed::check(&station, &rows, &heads, key)?;
            }
            signed_heads.insert(station.clone(), signed.len());
        }
        chain::verify(&station, &rows, head)?;
        if let Some(bad) = crate::airlog::bound::first_overlong(&station, &rows, &lengths) {
            return Err(bad.into());
        }
        check_open(&station, &playing, &lengths)?;
        stations.insert(station, rows.len());
        progress.advance(1);
    }
    Ok(Verified {
        stations,
        open,
        signed_heads,
    })
}

/// How one station's chain stands, for a page that shows each station's verdict.
#[derive(Debug)]
pub struct StationVerdict {
    /// Closed rows checked (when the chain holds).
    pub rows: usize,
    /// Signed heads checked.
    pub signed_heads: usize,
    /// The first problem, when the chain does not hold.
    pub problem: Option<VerifyError>,
}

/// Verifies the chain of each of `stations` on its own (a broken chain at one station does
/// not hide the verdict of the others), with the checks of [`verify_with_key`].
pub async fn verify_stations(
    store: &dyn Store,
    stations: &[String],
    key: Result<PublicKey, String>,
) -> Result<BTreeMap<String, StationVerdict>, StoreError> {
    let heads: BTreeMap<String, (i64, String)> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|(s, seq, h)| (s, (seq, h)))
        .collect();
    let signed_stations: BTreeSet<String> = store.signed_stations().await?.into_iter().collect();
    let lengths: HashMap<String, u64> = store
        .list_bulletins(&crate::store::BulletinFilter::default())
        .await?
        .into_iter()
        .map(|b| (b.id.to_string(), b.audio.duration_ms))
        .collect();
    let mut out = BTreeMap::new();
    for station in stations {
        let (playing, rows): (Vec<Record>, Vec<Record>) = store
            .airlog(Some(station), None, None)
            .await?
            .into_iter()
            .partition(|r| r.status == "playing" && r.row_hash.is_empty());
        let head = heads.get(station).map(|(seq, h)| (*seq, h.as_str()));
        let mut signed_heads = 0;
        let checked = async {
            if signed_stations.contains(station) {
                let signed = store.signed_heads(station).await?;
                let key = key.as_ref().map_err(|e| VerifyError::NoKey(e.clone()))?;
                signed::check(station, &rows, &signed, key)?;
                signed_heads = signed.len();
            }
            chain::verify(station, &rows, head)?;
            if let Some(bad) = crate::airlog::bound::first_overlong(station, &rows, &lengths) {
                return Err(VerifyError::from(bad));
            }
            check_open(station, &playing, &lengths)
        }
        .await;
        let problem = match checked {
            Ok(()) => None,
            Err(VerifyError::Store(e)) => return Err(e),
            Err(e) => Some(e),
        };
        out.insert(
            station.clone(),
            StationVerdict {
                rows: rows.len(),
                signed_heads,
                problem,
            },
        );
    }
    Ok(out)
}

/// An open row cannot have played more than its bulletin lasts.
fn check_open(
    station: &str,
    playing: &[Record],
    lengths: &HashMap<String, u64>,
) -> Result<(), VerifyError> {
    for r in playing {
        let length = r.bulletin_id.as_ref().and_then(|b| lengths.get(b));
        if let Some(&length_ms) = length {
            let length_ms = i64::try_from(length_ms).unwrap_or(i64::MAX);
            if r.played_ms > length_ms {
                return Err(VerifyError::ImpossibleOpenRow {
                    station: station.to_string(),
                    seq: r.seq,
                    played_ms: r.played_ms,
                    length_ms,
                });
            }
        }
    }
    Ok(())
}
