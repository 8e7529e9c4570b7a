//! What an export proves by itself, without the database: its integrity block carries the
//! district key's signature; every detail row's fields hash to its `row_hash` (the
//! canonical form of [`crate::airlog::chain::row_hash`], from the exported columns); the
//! digest and count of the rows are the block's; and each station's rows, with the chain's
//! slot rows the block carries, link into one chain that reaches the head the district key
//! signed as they aired. Pure: texts in, verdict out.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::airlog::key::PublicKey;
use crate::airlog::{chain, Record};

use super::integrity::{chain_row_from_json, Integrity};
use super::rows::NCOLS;
use super::ReportError;

/// One detail row of a file, its texts as they stood before being made safe, instants as
/// RFC 3339 with the station's offset (the CSV's form).
#[derive(Debug, Clone)]
pub struct FileRow {
    /// Where it is in the file (line, or sheet row), for messages.
    pub line: u64,
    /// The texts, in [`super::rows::COLUMNS`] order.
    pub fields: Vec<String>,
}

/// What a file proved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Proven {
    /// Detail rows.
    pub rows: u64,
    /// The chain's slot rows the block carries.
    pub chain_rows: usize,
    /// Stations with rows.
    pub stations: usize,
    /// Stations whose rows reach a head the district key signed as they aired.
    pub signed_heads: usize,
    /// The key that signed the block.
    pub key_fingerprint: String,
    /// The rows' digest.
    pub sha256: String,
    /// How the summary's totals were proven.
    pub summary: SummaryProof,
}

/// How an export's summary (the XLSX summary sheet, the printed report's tables) was proven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryProof {
    /// The export has no summary (CSV).
    #[default]
    NoSummary,
    /// By the digest the signed integrity block carries, only: a printed report checked
    /// without the database (the page has no rows to recompute its tables from).
    SignatureOnly,
    /// Its totals recomputed from the file's detail rows and found equal, cell by cell;
    /// compliance (which needs the plan) by the signed digest.
    FileRows,
    /// Every table recomputed from the database's rows and found equal, cell by cell.
    Database,
}

fn altered(s: String) -> ReportError {
    ReportError::Altered(s)
}

/// An exported instant back to its stored form (UTC to the microsecond, `Z`).
fn stored(field: &str, s: &str) -> Result<String, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| crate::store::rows_instant_text(t.with_timezone(&Utc)))
        .map_err(|_| format!("{field} '{s}' is not an instant"))
}

/// The airlog row a detail row shows (an item row), with the stored texts its hash covers.
pub fn record_of(fields: &[String]) -> Result<Record, String> {
    if fields.len() < NCOLS {
        return Err(format!("it has {} fields, not {NCOLS}", fields.len()));
    }
    let f = |i: usize| fields[i].clone();
    let opt = |i: usize| Some(f(i)).filter(|s| !s.is_empty());
    let opt_time = |i: usize, name: &str| opt(i).map(|s| stored(name, &s)).transpose();
    let int = |i: usize, name: &str| {
        fields[i]
            .parse::<i64>()
            .map_err(|_| format!("{name} '{}' is not a whole number", fields[i]))
    };
    Ok(Record {
        seq: int(16, "seq")?,
        level: crate::airlog::Level::Item.as_str().into(),
        station: f(0),
        slot_start: stored("slot_start", &fields[2])?,
        bulletin_id: opt(3),
        sha256: opt(14),
        planned_start: stored("planned_start", &fields[8])?,
        actual_start: opt_time(9, "actual_start")?,
        actual_end: opt_time(10, "actual_end")?,
        played_ms: int(11, "played_ms")?,
        status: crate::airlog::AirStatus::try_from(fields[12].as_str())
            .map_err(|e| e.to_string())?,
        source: crate::airlog::CueSource::try_from(fields[18].as_str())
            .map_err(|e| e.to_string())?,
        reason: crate::airlog::AirReason::parse(&fields[22]),
        gain_db: match opt(19) {
            None => None,
            Some(g) => Some(
                g.parse::<f64>()
                    .map_err(|_| format!("gain_db '{g}' is not a number"))?,
            ),
        },
        who: f(20),
        link_seq: opt(21).map(|_| int(21, "link_seq")).transpose()?,
        prev_hash: f(17),
        row_hash: f(15),
    })
}

/// The links of one station's rows: one chain through all of them.
#[derive(Default)]
struct Links {
    /// (seq, prev_hash, row_hash) of each row.
    nodes: Vec<(i64, String, String)>,
}

impl Links {
    /// Checks that the rows form one chain; with a signed head, that the chain holds the
    /// row it names with the hash it signed. Returns whether a signed head was reached.
    fn check(
        &self,
        station: &str,
        head: Option<&crate::airlog::signed::SignedHead>,
        key: &PublicKey,
    ) -> Result<bool, ReportError> {
        let by_hash: HashMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.2.as_str(), i))
            .collect();
        let mut next: HashMap<&str, usize> = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if next.insert(n.1.as_str(), i).is_some() {
                return Err(altered(format!(
                    "station {station}: two rows (one is row {}) follow the same row: the chain forks (a row was forged or copied)",
                    n.0
                )));
            }
        }
        let start = match head {
            Some(h) => {
                if !h.is_signed_by(key) || h.station != station {
                    return Err(altered(format!(
                        "station {station}: the signed head of row {} does not carry the signature of key {} (the district's, or the commune machine's the block names)",
                        h.seq,
                        key.fingerprint()
                    )));
                }
                match by_hash.get(h.row_hash.as_str()) {
                    Some(&i) if self.nodes[i].0 == h.seq => i,
                    _ => {
                        return Err(altered(format!(
                            "station {station}: row {} was signed by the district key as the chain's head with another hash than the export's: the history was rewritten before the export",
                            h.seq
                        )))
                    }
                }
            }
            None => {
                let firsts: Vec<usize> = (0..self.nodes.len())
                    .filter(|&i| !by_hash.contains_key(self.nodes[i].1.as_str()))
                    .collect();
                match firsts[..] {
                    [i] => i,
                    [] if self.nodes.is_empty() => return Ok(false),
                    _ => {
                        let seq = firsts.get(1).map_or(0, |&i| self.nodes[i].0);
                        return Err(altered(format!(
                            "station {station}: row {seq} does not follow the row before it in the export (rows were removed or inserted)"
                        )));
                    }
                }
            }
        };
        let mut seen = vec![false; self.nodes.len()];
        // Back from the start, then forward from it.
        let mut at = Some(start);
        while let Some(i) = at {
            if std::mem::replace(&mut seen[i], true) {
                break;
            }
            at = by_hash.get(self.nodes[i].1.as_str()).copied();
        }
        let mut at = next.get(self.nodes[start].2.as_str()).copied();
        while let Some(i) = at {
            if std::mem::replace(&mut seen[i], true) {
                break;
            }
            at = next.get(self.nodes[i].2.as_str()).copied();
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(altered(format!(
                "station {station}: row {} does not link into the station's chain in the export (a row was inserted, or rows before it removed)",
                self.nodes[i].0
            )));
        }
        Ok(head.is_some())
    }
}

/// Checks an export's rows against its own integrity block. `expected` is the district
/// key's fingerprint when the caller knows it (the database's key, or `--key`). `rows` is
/// None for the printed report, which has none: only its block's signature is checked.
pub fn prove<I>(
    integrity: &Integrity,
    rows: Option<I>,
    expected: Option<&str>,
) -> Result<Proven, ReportError>
where
    I: IntoIterator<Item = Result<FileRow, ReportError>>,
{
    let key = integrity.signed_by().ok_or_else(|| {
        altered(
            "the integrity block's signature does not hold: the block was edited after the export"
                .into(),
        )
    })?;
    if let Some(want) = expected.filter(|w| *w != key.fingerprint()) {
        return Err(altered(format!(
            "the export is signed by key {} but the district's key is {want}",
            key.fingerprint()
        )));
    }
    let Some(rows) = rows else {
        return Ok(Proven {
            rows: integrity.rows,
            chain_rows: 0,
            stations: integrity.stations.len(),
            signed_heads: 0,
            key_fingerprint: key.fingerprint(),
            sha256: integrity.sha256.clone(),
            summary: SummaryProof::NoSummary,
        });
    };
    let mut chain: BTreeMap<String, Links> = BTreeMap::new();
    let mut chain_rows = 0;
    for j in &integrity.chain_rows {
        let r = chain_row_from_json(j).filter(chain::holds).ok_or_else(|| {
            altered(format!(
                "a chain row of the integrity block does not match its hash: {j}"
            ))
        })?;
        chain_rows += 1;
        chain
            .entry(r.station.clone())
            .or_default()
            .nodes
            .push((r.seq, r.prev_hash, r.row_hash));
    }
    let mut digest = Sha256::new();
    let mut count = 0u64;
    let mut done: Vec<String> = Vec::new();
    let mut current: Option<(String, Links)> = None;
    let mut signed = 0;
    let mut finish = |station: String, mut links: Links, chain: &mut BTreeMap<String, Links>| {
        if let Some(extra) = chain.remove(&station) {
            links.nodes.extend(extra.nodes);
        }
        // A head signed by a commune machine is checked with the node's key the block
        // names (the block itself is signed by the district key, which vouches for it).
        let node = integrity
            .head_signers
            .get(&station)
            .and_then(|k| PublicKey::from_hex(k));
        let reached = links.check(
            &station,
            integrity.signed_heads.get(&station),
            node.as_ref().unwrap_or(&key),
        )?;
        signed += usize::from(reached);
        Ok::<_, ReportError>(station)
    };
    for row in rows {
        let row = row?;
        count += 1;
        let r = record_of(&row.fields).map_err(|e| {
            altered(format!(
                "row {count} of the export (line {}): {e}",
                row.line
            ))
        })?;
        if !chain::holds(&r) {
            return Err(altered(format!(
                "row {count} of the export (line {}, station {}, seq {}): its fields do not match its row hash (a cell was edited)",
                row.line, r.station, r.seq
            )));
        }
        if !integrity.stations.contains(&r.station) {
            return Err(altered(format!(
                "row {count} of the export (line {}): station {} is not in the integrity block",
                row.line, r.station
            )));
        }
        digest.update(r.row_hash.as_bytes());
        digest.update(b"\n");
        if current.as_ref().is_none_or(|(s, _)| *s != r.station) {
            if done.contains(&r.station) {
                return Err(altered(format!(
                    "row {count} of the export (line {}): the rows of station {} are not together (rows were moved)",
                    row.line, r.station
                )));
            }
            if let Some((s, l)) = current.take() {
                done.push(finish(s, l, &mut chain)?);
            }
            current = Some((r.station.clone(), Links::default()));
        }
        if let Some((_, links)) = current.as_mut() {
            links.nodes.push((r.seq, r.prev_hash, r.row_hash));
        }
    }
    if let Some((s, l)) = current.take() {
        done.push(finish(s, l, &mut chain)?);
    }
    let leftover: Vec<String> = chain.keys().cloned().collect();
    for s in leftover {
        if let Some(l) = chain.remove(&s) {
            done.push(finish(s, l, &mut chain)?);
        }
    }
    let sha256 = hex::encode(digest.finalize());
    if sha256 != integrity.sha256 || count != integrity.rows {
        return Err(altered(format!(
            "the export holds {count} row(s) with SHA-256 {sha256}, but its integrity block says {} row(s) with SHA-256 {} (rows were edited, added or removed)",
            integrity.rows, integrity.sha256
        )));
    }
    Ok(Proven {
        rows: count,
        chain_rows,
        stations: done.len(),
        signed_heads: signed,
        key_fingerprint: key.fingerprint(),
        sha256,
        summary: SummaryProof::NoSummary,
    })
}
