//! The integrity block every export carries: the range and stations, the number of rows,
//! each station's chain head (the `row_hash` of its last exported row, and the store's
//! head when the export was made), a SHA-256 over the exported rows, the chain's slot rows
//! of the range (so the links between item rows can be followed without the database), the
//! latest signed head of each station that the export reaches, a digest of the summary
//! (XLSX, HTML), the district's public key and its fingerprint, and last the Ed25519
//! signature of all of it ([`Integrity::message`]).
//!
//! The digest is defined as [`DIGEST_RULE`] says: SHA-256 over the `row_hash` of every
//! exported row, in export order, each followed by one line feed. Each `row_hash` already
//! covers every stored field of its row (see [`crate::airlog::chain::row_hash`]), so the
//! digest pins the exact set and order of rows; `verify --export` recomputes both.

use std::borrow::Cow;
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Period, ReportError};
use crate::airlog::key::{DistrictKey, PublicKey};
use crate::airlog::signed::SignedHead;

/// The name of the format and its version, first key of every block.
pub const FORMAT: &str = "loa-airlog-export/2";

/// The first line of what the district key signs: [`FORMAT`], a space, `integrity`.
const MESSAGE_HEADER: &str = "loa-airlog-export/2 integrity\n";

/// How [`Integrity::sha256`] is computed, written into every export.
pub const DIGEST_RULE: &str =
    "SHA-256 over the row_hash of every exported row, in export order, each followed by \\n";

/// The running integrity of an export being written.
#[derive(Debug, Clone)]
pub struct Tracker {
    digest: Sha256,
    rows: u64,
    last: BTreeMap<String, String>,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            digest: Sha256::new(),
            rows: 0,
            last: BTreeMap::new(),
        }
    }
}

impl Tracker {
    /// Adds one exported row.
    pub fn add(&mut self, station: &str, row_hash: &str) {
        self.digest.update(row_hash.as_bytes());
        self.digest.update(b"\n");
        self.rows += 1;
        match self.last.get_mut(station) {
            Some(h) => {
                h.clear();
                h.push_str(row_hash);
            }
            None => {
                self.last.insert(station.to_string(), row_hash.to_string());
            }
        }
    }

    /// The block, once every row was added.
    pub fn finish(
        self,
        period: &Period,
        stations: Vec<String>,
        heads: BTreeMap<String, (i64, String)>,
    ) -> Integrity {
        Integrity {
            from: period.from.format("%Y-%m-%d").to_string(),
            to: period.to.format("%Y-%m-%d").to_string(),
            stations,
            rows: self.rows,
            sha256: hex::encode(self.digest.finalize()),
            last_row_hash: self.last,
            store_heads: heads,
            signed_heads: BTreeMap::new(),
            head_signers: BTreeMap::new(),
            chain_rows: Vec::new(),
            summary_sha256: None,
            timezones: BTreeMap::new(),
            public_key: String::new(),
            signature: String::new(),
        }
    }
}

/// The integrity block of one export.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Integrity {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (included).
    pub to: String,
    /// The stations covered, in export order.
    pub stations: Vec<String>,
    /// Rows exported.
    pub rows: u64,
    /// See [`DIGEST_RULE`].
    pub sha256: String,
    /// Per station: the `row_hash` of its last exported row.
    pub last_row_hash: BTreeMap<String, String>,
    /// Per station: the store's chain head (seq, row_hash) when the export was made.
    pub store_heads: BTreeMap<String, (i64, String)>,
    /// Per station: the latest signed head whose row is in the export (its detail or its
    /// chain rows).
    pub signed_heads: BTreeMap<String, SignedHead>,
    /// Per station played by a commune machine: the public key (hex) of the node that
    /// signed its signed head (the rows up to it are that node's, as it sent them); a
    /// station without one had its head signed by the district key.
    pub head_signers: BTreeMap<String, String>,
    /// The chain's rows of the range that are not in the detail (slot rows), as JSON
    /// objects of their stored fields ([`chain_row_json`]), in station then seq order.
    pub chain_rows: Vec<String>,
    /// SHA-256 of the summary as written (XLSX: its cells; HTML: the page outside this
    /// block); None for CSV.
    pub summary_sha256: Option<String>,
    /// Per station: its time zone (IANA name), to read the XLSX's local dates back.
    pub timezones: BTreeMap<String, String>,
    /// The district's public key (hex) that signed the block.
    pub public_key: String,
    /// Its signature of [`Integrity::message`] (hex; empty until signed).
    pub signature: String,
}

/// A chain row as the integrity block carries it: a JSON object of every stored field,
/// texts as stored, the gain as the exact decimal the row hash uses (a string). The keys
/// come in byte order (as serde_json's map writes them), so that the text is the one
/// earlier exports carry; written from a struct, not a map, as a province's year has
/// hundreds of thousands of them.
pub fn chain_row_json(r: &crate::airlog::Record) -> String {
    /// The fields in key order.
    #[derive(serde::Serialize)]
    struct ChainRow<'a> {
        actual_end: &'a Option<String>,
        actual_start: &'a Option<String>,
        bulletin_id: &'a Option<String>,
        gain_db: Option<String>,
        level: &'a str,
        link_seq: Option<i64>,
        planned_start: &'a str,
        played_ms: i64,
        prev_hash: &'a str,
        reason: &'a str,
        row_hash: &'a str,
        seq: i64,
        sha256: &'a Option<String>,
        slot_start: &'a str,
        source: &'a str,
        station: &'a str,
        status: &'a str,
        who: &'a str,
    }
    serde_json::to_string(&ChainRow {
        actual_end: &r.actual_end,
        actual_start: &r.actual_start,
        bulletin_id: &r.bulletin_id,
        gain_db: r.gain_db.map(|g| format!("{g}")),
        level: &r.level,
        link_seq: r.link_seq,
        planned_start: &r.planned_start,
        played_ms: r.played_ms,
        prev_hash: &r.prev_hash,
        reason: r.reason.stored(),
        row_hash: &r.row_hash,
        seq: r.seq,
        sha256: &r.sha256,
        slot_start: &r.slot_start,
        source: r.source.as_str(),
        station: &r.station,
        status: r.status.as_str(),
        who: &r.who,
    })
    .unwrap_or_default()
}

/// Reads a chain row back from [`chain_row_json`].
pub fn chain_row_from_json(s: &str) -> Option<crate::airlog::Record> {
    let v: serde_json::Value = serde_json::from_str(s).ok()?;
    let text = |k: &str| v.get(k)?.as_str().map(str::to_string);
    let opt = |k: &str| match v.get(k) {
        Some(serde_json::Value::Null) => Some(None),
        Some(serde_json::Value::String(s)) => Some(Some(s.clone())),
        _ => None,
    };
    let int = |k: &str| v.get(k)?.as_i64();
    Some(crate::airlog::Record {
        seq: int("seq")?,
        level: text("level")?,
        station: text("station")?,
        slot_start: text("slot_start")?,
        bulletin_id: opt("bulletin_id")?,
        sha256: opt("sha256")?,
        planned_start: text("planned_start")?,
        actual_start: opt("actual_start")?,
        actual_end: opt("actual_end")?,
        played_ms: int("played_ms")?,
        status: crate::airlog::AirStatus::try_from(text("status")?.as_str()).ok()?,
        source: crate::airlog::CueSource::try_from(text("source")?.as_str()).ok()?,
        reason: crate::airlog::AirReason::parse(&text("reason")?),
        gain_db: match opt("gain_db")? {
            None => None,
            Some(g) => Some(g.parse().ok()?),
        },
        who: text("who")?,
        link_seq: match v.get("link_seq")? {
            serde_json::Value::Null => None,
            n => Some(n.as_i64()?),
        },
        prev_hash: text("prev_hash")?,
        row_hash: text("row_hash")?,
    })
}

impl Integrity {
    /// The block as key/value lines (the CSV trailer and the XLSX sheet). The chain rows
    /// (hundreds of thousands for a province's year) are borrowed, not copied.
    pub fn pairs(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        let own = |k: &str, v: String| (Cow::Owned(k.to_string()), Cow::Owned(v));
        let mut out = vec![
            own("format", FORMAT.to_string()),
            own("from", self.from.clone()),
            own("to", self.to.clone()),
            own("stations", self.stations.join(" ")),
            own("rows", self.rows.to_string()),
            own("sha256", self.sha256.clone()),
            own("sha256_rule", DIGEST_RULE.to_string()),
        ];
        for (s, h) in &self.last_row_hash {
            out.push(own(&format!("last_row_hash {s}"), h.clone()));
        }
        for (s, (seq, h)) in &self.store_heads {
            out.push(own(&format!("store_head {s}"), format!("{seq} {h}")));
        }
        for (s, h) in &self.signed_heads {
            out.push(own(
                &format!("signed_head {s}"),
                format!("{} {} {} {}", h.seq, h.row_hash, h.signed_at, h.signature),
            ));
        }
        for (s, key) in &self.head_signers {
            out.push(own(&format!("signed_by {s}"), key.clone()));
        }
        for r in &self.chain_rows {
            out.push((Cow::Borrowed("chain_row"), Cow::Borrowed(r.as_str())));
        }
        for (s, tz) in &self.timezones {
            out.push(own(&format!("timezone {s}"), tz.clone()));
        }
        if let Some(d) = &self.summary_sha256 {
            out.push(own("summary_sha256", d.clone()));
        }
        out.push(own("public_key", self.public_key.clone()));
        out.push(own(
            "key_fingerprint",
            PublicKey::from_hex(&self.public_key)
                .map(|k| k.fingerprint())
                .unwrap_or_default(),
        ));
        out.push(own("signature", self.signature.clone()));
        out
    }

    /// What the district key signs: the format line, then every pair but the signature as
    /// `key`, U+001F, `value`, line feed (UTF-8).
    pub fn message<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
        String::from_utf8_lossy(&Integrity::message_parts(pairs).concat()).into_owned()
    }

    /// [`Integrity::message`] as the slices it is made of, in order, borrowed from `pairs`:
    /// signing and checking go through them without building the whole text (which for a
    /// province's year holds every chain row again).
    pub fn message_parts<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Vec<&[u8]> {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + pairs.len() * 4);
        parts.push(MESSAGE_HEADER.as_bytes());
        for (k, v) in pairs.iter().filter(|(k, _)| k.as_ref() != "signature") {
            parts.push(k.as_ref().as_bytes());
            parts.push(b"\x1f");
            parts.push(v.as_ref().as_bytes());
            parts.push(b"\n");
        }
        parts
    }

    /// Signs the block with the district key.
    pub fn sign(&mut self, key: &DistrictKey) {
        self.public_key = key.public().hex();
        self.signature = String::new();
        let pairs = self.pairs();
        let signature = key.sign_parts(&Integrity::message_parts(&pairs));
        drop(pairs);
        self.signature = signature;
    }

    /// Whether the block's signature holds for its own public key; the key is returned so
    /// the caller can compare it with the district's.
    pub fn signed_by(&self) -> Option<PublicKey> {
        let key = PublicKey::from_hex(&self.public_key)?;
        let pairs = self.pairs();
        key.verifies_parts(&Integrity::message_parts(&pairs), &self.signature)
            .then_some(key)
    }

    /// Reads a block back from its pairs.
    pub fn from_pairs(
        path: &str,
        mut pairs: Vec<(String, String)>,
    ) -> Result<Integrity, ReportError> {
        // The chain rows (most of a large block) are moved out, not copied.
        let mut chain_rows = Vec::new();
        pairs.retain_mut(|(k, v)| {
            if k == "chain_row" {
                chain_rows.push(std::mem::take(v));
                return false;
            }
            true
        });
        let pairs = &pairs[..];
        let not = |reason: String| ReportError::NotAnExport {
            path: path.to_string(),
            reason,
        };
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| not(format!("its integrity block has no '{k}'")))
        };
        if get("format")? != FORMAT {
            return Err(not(format!("its integrity block is not {FORMAT}")));
        }
        let mut last_row_hash = BTreeMap::new();
        let mut store_heads = BTreeMap::new();
        let mut signed_heads = BTreeMap::new();
        let mut timezones = BTreeMap::new();
        let head_signers: BTreeMap<String, String> = pairs
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("signed_by ")?.to_string(), v.clone())))
            .collect();
        for (k, v) in pairs {
            if let Some(s) = k.strip_prefix("timezone ") {
                timezones.insert(s.to_string(), v.clone());
            } else if let Some(s) = k.strip_prefix("signed_head ") {
                let f: Vec<&str> = v.split(' ').collect();
                let [seq, row_hash, signed_at, signature] = f[..] else {
                    return Err(not(format!(
                        "signed_head {s} is not 'seq hash instant signature'"
                    )));
                };
                let key = match head_signers.get(s) {
                    Some(node) => PublicKey::from_hex(node),
                    None => PublicKey::from_hex(&get("public_key")?),
                };
                signed_heads.insert(
                    s.to_string(),
                    SignedHead {
                        station: s.to_string(),
                        seq: seq
                            .parse()
                            .map_err(|_| not(format!("signed_head {s}: '{seq}' is not a seq")))?,
                        row_hash: row_hash.to_string(),
                        signed_at: signed_at.to_string(),
                        key_fingerprint: key.map(|k| k.fingerprint()).unwrap_or_default(),
                        signature: signature.to_string(),
                    },
                );
            } else if let Some(s) = k.strip_prefix("last_row_hash ") {
                last_row_hash.insert(s.to_string(), v.clone());
            } else if let Some(s) = k.strip_prefix("store_head ") {
                let (seq, h) = v
                    .split_once(' ')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.to_string())))
                    .ok_or_else(|| not(format!("store_head {s} '{v}' is not 'seq hash'")))?;
                store_heads.insert(s.to_string(), (seq, h));
            }
        }
        Ok(Integrity {
            from: get("from")?,
            to: get("to")?,
            stations: get("stations")?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            rows: get("rows")?
                .parse()
                .map_err(|_| not("its row count is not a number".into()))?,
            sha256: get("sha256")?,
            last_row_hash,
            store_heads,
            signed_heads,
            head_signers,
            chain_rows,
            summary_sha256: get("summary_sha256").ok(),
            timezones,
            public_key: get("public_key")?,
            signature: get("signature")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_sha256_over_row_hashes_each_followed_by_a_line_feed() {
        let mut t = Tracker::default();
        t.add("a", "h1");
        t.add("b", "h2");
        t.add("a", "h3");
        let p = Period::year("2023").unwrap();
        let i = t.finish(&p, vec!["a".into(), "b".into()], BTreeMap::new());
        assert_eq!(i.sha256, hex::encode(Sha256::digest(b"h1\nh2\nh3\n")));
        assert_eq!(i.rows, 3);
        assert_eq!(i.last_row_hash["a"], "h3");
    }

    #[test]
    fn a_block_reads_back_from_its_pairs() {
        let mut t = Tracker::default();
        t.add("vinh-an", "h1");
        let heads = BTreeMap::from([("vinh-an".to_string(), (4, "h1".to_string()))]);
        let i = t.finish(
            &Period::year("2023").unwrap(),
            vec!["vinh-an".into()],
            heads,
        );
        let mut i = i;
        i.chain_rows
            .push(chain_row_json(&crate::airlog::chain::tests::chain(1)[0]));
        i.sign(&DistrictKey::from_seed([3; 32]));
        let owned: Vec<(String, String)> = i
            .pairs()
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(Integrity::from_pairs("f", owned).unwrap(), i);
        assert!(Integrity::from_pairs("f", Vec::new()).is_err());
    }

    /// A block of one exported row of one station, unsigned.
    fn one_row_block() -> Integrity {
        let mut t = Tracker::default();
        t.add("vinh-an", "h1");
        t.finish(
            &Period::year("2023").unwrap(),
            vec!["vinh-an".into()],
            BTreeMap::new(),
        )
    }

    #[test]
    fn signing_by_parts_is_signing_the_whole_message_so_earlier_exports_still_verify() {
        let mut i = one_row_block();
        i.chain_rows
            .push(chain_row_json(&crate::airlog::chain::tests::chain(1)[0]));
        let key = DistrictKey::from_seed([3; 32]);
        i.sign(&key);
        let message = Integrity::message(&i.pairs());
        assert!(message.starts_with(&format!("{FORMAT} integrity\n")));
        assert!(message.contains("\nchain_row\u{1f}{"));
        assert!(!message.contains("signature\u{1f}"));
        assert_eq!(key.sign(message.as_bytes()), i.signature);
        assert!(key.public().verifies(message.as_bytes(), &i.signature));
    }

    #[test]
    fn a_signed_block_holds_and_any_edit_of_it_breaks_the_signature() {
        let mut i = one_row_block();
        let key = DistrictKey::from_seed([3; 32]);
        i.sign(&key);
        assert_eq!(i.signed_by(), Some(key.public()));
        let mut edited = i.clone();
        edited.rows = 2;
        assert_eq!(edited.signed_by(), None);
        let mut resigned = i.clone();
        resigned.sign(&DistrictKey::from_seed([4; 32]));
        assert_ne!(resigned.signed_by(), Some(key.public()));
    }

    #[test]
    fn a_chain_row_is_written_as_earlier_exports_wrote_it_from_a_map() {
        let mut rows = crate::airlog::chain::tests::chain(3);
        rows[1].gain_db = Some(-0.1 - 0.2);
        rows[1].who = "Nguyễn Văn An \"\u{1}".into();
        rows[2].bulletin_id = None;
        rows[2].link_seq = Some(1);
        for r in &rows {
            let map = serde_json::json!({
                "seq": r.seq,
                "level": r.level,
                "station": r.station,
                "slot_start": r.slot_start,
                "bulletin_id": r.bulletin_id,
                "sha256": r.sha256,
                "planned_start": r.planned_start,
                "actual_start": r.actual_start,
                "actual_end": r.actual_end,
                "played_ms": r.played_ms,
                "status": r.status.as_str(),
                "source": r.source.as_str(),
                "reason": r.reason.stored(),
                "gain_db": r.gain_db.map(|g| format!("{g}")),
                "who": r.who,
                "link_seq": r.link_seq,
                "prev_hash": r.prev_hash,
                "row_hash": r.row_hash,
            })
            .to_string();
            assert_eq!(chain_row_json(r), map);
        }
    }

    #[test]
    fn a_chain_row_reads_back_from_its_json_and_still_hashes_the_same() {
        let mut r = crate::airlog::chain::tests::chain(1).remove(0);
        r.gain_db = Some(7.399999999999999);
        r.row_hash = crate::airlog::chain::row_hash(&r);
        let back = chain_row_from_json(&chain_row_json(&r)).unwrap();
        assert_eq!(back, r);
        assert!(crate::airlog::chain::holds(&back));
    }
}
