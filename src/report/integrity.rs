//! The integrity block every export carries: the range and stations, the number of rows,
//! each station's chain head (the `row_hash` of its last exported row, and the store's
//! head when the export was made), and a SHA-256 over the exported rows.
//!
//! The digest is defined as [`DIGEST_RULE`] says: SHA-256 over the `row_hash` of every
//! exported row, in export order, each followed by one line feed. Each `row_hash` already
//! covers every stored field of its row (see [`crate::airlog::chain::row_hash`]), so the
//! digest pins the exact set and order of rows; `verify --export` recomputes both.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Period, ReportError};

/// The name of the format and its version, first key of every block.
pub const FORMAT: &str = "loa-airlog-export/1";

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
        }
    }
}

/// The integrity block of one export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
}

impl Integrity {
    /// The block as key/value lines (the CSV trailer and the XLSX sheet).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("format".to_string(), FORMAT.to_string()),
            ("from".into(), self.from.clone()),
            ("to".into(), self.to.clone()),
            ("stations".into(), self.stations.join(" ")),
            ("rows".into(), self.rows.to_string()),
            ("sha256".into(), self.sha256.clone()),
            ("sha256_rule".into(), DIGEST_RULE.to_string()),
        ];
        for (s, h) in &self.last_row_hash {
            out.push((format!("last_row_hash {s}"), h.clone()));
        }
        for (s, (seq, h)) in &self.store_heads {
            out.push((format!("store_head {s}"), format!("{seq} {h}")));
        }
        out
    }

    /// Reads a block back from its pairs.
    pub fn from_pairs(path: &str, pairs: &[(String, String)]) -> Result<Integrity, ReportError> {
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
        for (k, v) in pairs {
            if let Some(s) = k.strip_prefix("last_row_hash ") {
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
        assert_eq!(Integrity::from_pairs("f", &i.pairs()).unwrap(), i);
        assert!(Integrity::from_pairs("f", &[]).is_err());
    }
}
