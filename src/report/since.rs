//! `loa airlog verify --since OLD_EXPORT`: an earlier export, kept elsewhere (Phòng Nội vụ
//! keeps every one it received), anchors the history. The export must prove itself and be
//! signed by the district key; then every row it showed (detail and chain rows) must still
//! be in the airlog with the same hash and content, and today's chains must verify. A
//! history rewritten after the export, even re-chained and re-signed, is found here.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::airlog::key::PublicKey;
use crate::airlog::{chain, Record};
use crate::store::Store;

use super::check::{prove_file, read_rows};
use super::integrity::chain_row_from_json;
use super::proof::record_of;
use super::{Period, ReportError};

/// Checks the store against an earlier export; returns how many of its rows were found.
pub async fn check(
    store: &std::sync::Arc<dyn Store>,
    old: &Path,
    key: &PublicKey,
) -> Result<u64, ReportError> {
    let p = old.display().to_string();
    prove_file(old, Some(&key.fingerprint())).map_err(|e| match e {
        ReportError::Altered(m) => ReportError::Altered(format!(
            "the earlier export itself does not hold, so it anchors nothing: {m}"
        )),
        other => other,
    })?;
    let (integrity, rows) = read_rows(old)?;
    let mut shown: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in &rows {
        let rec = record_of(&r.fields).map_err(|e| ReportError::NotAnExport {
            path: p.clone(),
            reason: format!("line {}: {e}", r.line),
        })?;
        shown
            .entry(rec.station)
            .or_default()
            .push((rec.seq, rec.row_hash));
    }
    for j in &integrity.chain_rows {
        if let Some(r) = chain_row_from_json(j) {
            shown
                .entry(r.station)
                .or_default()
                .push((r.seq, r.row_hash));
        }
    }
    let period = Period::range(&integrity.from, &integrity.to)?;
    let mut found = 0u64;
    for (station, old_rows) in &shown {
        let tz = integrity
            .timezones
            .get(station)
            .and_then(|t| t.parse().ok())
            .unwrap_or(super::DEFAULT_TZ);
        let (from, to) = period.bounds(tz);
        let now: HashMap<i64, Record> = store
            .airlog(Some(station), Some(from), Some(to))
            .await?
            .into_iter()
            .map(|r| (r.seq, r))
            .collect();
        for (seq, hash) in old_rows {
            match now.get(seq) {
                None => {
                    return Err(ReportError::Altered(format!(
                        "row {seq} of station {station}, shown by the earlier export, is no longer in the airlog (it was deleted)"
                    )))
                }
                Some(r) if r.row_hash != *hash => {
                    return Err(ReportError::Altered(format!(
                        "row {seq} of station {station} is not the row the earlier export showed: the history was rewritten after that export"
                    )))
                }
                Some(r) if !chain::holds(r) => {
                    return Err(ReportError::Altered(format!(
                        "row {seq} of station {station} was edited after the earlier export (its content no longer matches its hash)"
                    )))
                }
                Some(_) => found += 1,
            }
        }
    }
    crate::airlog::verify::verify_with_key(store.as_ref(), Ok(key.clone()))
        .await
        .map_err(|e| match e {
            crate::airlog::verify::VerifyError::Store(s) => ReportError::Store(s),
            other => ReportError::Altered(other.to_string()),
        })?;
    Ok(found)
}
