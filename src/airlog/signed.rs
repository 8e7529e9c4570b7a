//! Signed chain heads: as playout advances (at least at every slot's end) the daemon signs
//! each station's chain head `(station, seq, row_hash, signed_at)` with the district key and
//! appends it to the store. A history someone rewrote or re-chained without the key, cut
//! short, or a station wiped out with its head, no longer reaches its signed heads, and
//! [`check`] names what happened. Pure, except [`sign_at_slot_end`] (the playout call).

use chrono::{DateTime, Utc};

use super::key::{DistrictKey, PublicKey};
use super::Record;
use crate::store::Store;

/// The first field of a signed head's message (its format and version).
pub const HEAD_FORMAT: &str = "loa-airlog-head/1";

/// One signed chain head, as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct SignedHead {
    /// Station code.
    pub station: String,
    /// The sequence number of the station's last closed row when it was signed.
    pub seq: i64,
    /// That row's hash.
    pub row_hash: String,
    /// When it was signed (stored text, UTC to the microsecond).
    pub signed_at: String,
    /// The signing key's fingerprint.
    pub key_fingerprint: String,
    /// The Ed25519 signature of [`SignedHead::message`], hex.
    pub signature: String,
}

impl SignedHead {
    /// What is signed: the format, station, seq, row hash and instant, joined by the ASCII
    /// unit separator (0x1F), in UTF-8.
    pub fn message(station: &str, seq: i64, row_hash: &str, signed_at: &str) -> String {
        format!("{HEAD_FORMAT}\u{1f}{station}\u{1f}{seq}\u{1f}{row_hash}\u{1f}{signed_at}")
    }

    /// Signs the head `(station, seq, row_hash)` at `at`.
    pub fn sign(
        key: &DistrictKey,
        station: &str,
        seq: i64,
        row_hash: &str,
        at: DateTime<Utc>,
    ) -> SignedHead {
        let signed_at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let message = SignedHead::message(station, seq, row_hash, &signed_at);
        SignedHead {
            station: station.to_string(),
            seq,
            row_hash: row_hash.to_string(),
            signed_at,
            key_fingerprint: key.public().fingerprint(),
            signature: key.sign(message.as_bytes()),
        }
    }

    /// Whether `key` signed this head.
    pub fn is_signed_by(&self, key: &PublicKey) -> bool {
        let m = SignedHead::message(&self.station, self.seq, &self.row_hash, &self.signed_at);
        key.verifies(m.as_bytes(), &self.signature)
    }
}

/// What a station's signed heads say about its rows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadProblem {
    /// The signature does not hold: the head was forged or edited.
    #[error("airlog of station {station}: the signed head of row {seq} does not carry the district key's signature (forged or edited head)")]
    BadSignature {
        /// Station.
        station: String,
        /// The head's row.
        seq: i64,
    },
    /// The station has signed heads but no rows left.
    #[error("airlog of station {station}: the station vanished: it has a signed head at row {seq} but no rows (its rows and head were deleted)")]
    Vanished {
        /// Station.
        station: String,
        /// The latest signed head's row.
        seq: i64,
    },
    /// The signed head's row is gone.
    #[error("airlog of station {station}: truncated: row {seq}, signed as the chain's head, is no longer in the log (its last rows were deleted)")]
    Truncated {
        /// Station.
        station: String,
        /// The latest signed head's row.
        seq: i64,
    },
    /// The signed head's row is there but hashes otherwise.
    #[error("airlog of station {station}: rewritten: row {seq} no longer has the hash the district key signed (the history was edited and re-chained without the key)")]
    Rechained {
        /// Station.
        station: String,
        /// The signed head's row.
        seq: i64,
    },
}

/// Checks a station's signed heads against its closed rows (which [`super::chain::verify`]
/// found to be one unbroken chain): every head carries the district key's signature and
/// names a row that is still there with the hash that was signed.
pub fn check(
    station: &str,
    rows: &[Record],
    heads: &[SignedHead],
    key: &PublicKey,
) -> Result<(), HeadProblem> {
    use std::collections::HashMap;
    let by_seq: HashMap<i64, &str> = rows.iter().map(|r| (r.seq, r.row_hash.as_str())).collect();
    let s = || station.to_string();
    for h in heads {
        if !h.is_signed_by(key) || h.station != station {
            return Err(HeadProblem::BadSignature {
                station: s(),
                seq: h.seq,
            });
        }
    }
    // The latest first: it names the most recent rows an attacker would cut.
    for h in heads.iter().rev() {
        match by_seq.get(&h.seq) {
            None if rows.is_empty() => {
                return Err(HeadProblem::Vanished {
                    station: s(),
                    seq: h.seq,
                })
            }
            None => {
                return Err(HeadProblem::Truncated {
                    station: s(),
                    seq: h.seq,
                })
            }
            Some(hash) if *hash != h.row_hash => {
                return Err(HeadProblem::Rechained {
                    station: s(),
                    seq: h.seq,
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Signs `station`'s chain head when it moved since its last signed head: the call playout
/// makes at every slot's end. Never fails playout: without a key (tests, an old data dir
/// that could not create one) it does nothing, and a store error is logged.
pub async fn sign_at_slot_end(
    store: &dyn Store,
    key: Option<&DistrictKey>,
    station: &str,
    now: DateTime<Utc>,
) {
    let Some(key) = key else { return };
    if let Err(e) = sign_head(store, key, station, now).await {
        tracing::warn!(station, error = %e, "cannot sign the airlog chain head");
    }
}

/// Signs and appends `station`'s current chain head unless it is already signed; returns
/// the new signed head.
pub async fn sign_head(
    store: &dyn Store,
    key: &DistrictKey,
    station: &str,
    now: DateTime<Utc>,
) -> Result<Option<SignedHead>, crate::store::StoreError> {
    let Some((seq, hash)) = store.chain_head(station).await? else {
        return Ok(None);
    };
    if let Some(last) = store.latest_signed_head(station).await? {
        if last.seq == seq && last.row_hash == hash {
            return Ok(None);
        }
    }
    let head = SignedHead::sign(key, station, seq, &hash, now);
    store.append_signed_head(&head).await?;
    Ok(Some(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Record> {
        crate::airlog::chain::tests::chain(3)
    }

    fn key() -> DistrictKey {
        DistrictKey::from_seed([7; 32])
    }

    fn at() -> DateTime<Utc> {
        "2023-03-06T23:00:00Z".parse().unwrap()
    }

    #[test]
    fn heads_signed_over_an_untouched_chain_hold() {
        let r = rows();
        let heads = vec![
            SignedHead::sign(&key(), "vinh-an", 2, &r[1].row_hash, at()),
            SignedHead::sign(&key(), "vinh-an", 3, &r[2].row_hash, at()),
        ];
        assert_eq!(check("vinh-an", &r, &heads, &key().public()), Ok(()));
    }

    #[test]
    fn a_head_signed_by_another_key_or_edited_is_named_a_forgery() {
        let r = rows();
        let other = DistrictKey::from_seed([8; 32]);
        let forged = vec![SignedHead::sign(&other, "vinh-an", 3, &r[2].row_hash, at())];
        let err = check("vinh-an", &r, &forged, &key().public()).unwrap_err();
        assert!(matches!(err, HeadProblem::BadSignature { seq: 3, .. }));
        let mut edited = vec![SignedHead::sign(&key(), "vinh-an", 2, &r[1].row_hash, at())];
        edited[0].seq = 3;
        edited[0].row_hash = r[2].row_hash.clone();
        assert!(check("vinh-an", &r, &edited, &key().public()).is_err());
    }

    #[test]
    fn cut_rewritten_and_vanished_chains_are_each_named() {
        let r = rows();
        let heads = vec![SignedHead::sign(&key(), "vinh-an", 3, &r[2].row_hash, at())];
        let pk = key().public();
        let err = check("vinh-an", &r[..2], &heads, &pk).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = check("vinh-an", &[], &heads, &pk).unwrap_err();
        assert!(err.to_string().contains("vanished"), "{err}");
        let mut rewritten = r.clone();
        rewritten[2].row_hash = "0".repeat(64);
        let err = check("vinh-an", &rewritten, &heads, &pk).unwrap_err();
        assert!(err.to_string().contains("rewritten"), "{err}");
    }
}
