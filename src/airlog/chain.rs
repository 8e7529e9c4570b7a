//! The airlog's hash chain: each closed row carries the hash of the station's previous
//! closed row and its own hash over every field, so an edited, deleted or inserted row is
//! found by [`verify`]. Pure: rows in, verdict out.

use sha2::{Digest, Sha256};

use crate::airlog::Record;

/// The `prev_hash` of a station's first row: a fixed value naming the station, so rows
/// cannot be moved from one station's chain to another's.
pub fn genesis(station: &str) -> String {
    hex::encode(Sha256::digest(
        format!("loa airlog genesis\u{1f}{station}").as_bytes(),
    ))
}

/// The hash of a closed row: SHA-256 over its fields in a fixed order, separated by the
/// ASCII unit separator, then `prev_hash`; a row of any level but `item` ends with its
/// level too (item rows hash as they did before levels existed, so older logs verify,
/// and changing a row's level changes its hash). Every field is hashed exactly as stored:
/// the gain as the shortest decimal that reads back to the stored number (Rust's `{}`).
///
/// The canonical form is documented for recipients in `docs/en/reporting.md`.
pub fn row_hash(r: &Record) -> String {
    hash_with_gain(r, r.gain_db.map(|g| format!("{g}")).unwrap_or_default())
}

/// The hash rows were sealed with before loa hashed the gain exactly: the gain rounded to
/// two decimals. Such rows still verify ([`holds`]); a row sealed since cannot be passed
/// off in this form, whose text differs from the exact one.
pub fn legacy_row_hash(r: &Record) -> String {
    hash_with_gain(r, r.gain_db.map(|g| format!("{g:.2}")).unwrap_or_default())
}

/// Whether a row's content matches its stored hash (in either form).
pub fn holds(r: &Record) -> bool {
    r.row_hash == row_hash(r) || r.row_hash == legacy_row_hash(r)
}

fn hash_with_gain(r: &Record, gain: String) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut fields: Vec<String> = vec![
        r.seq.to_string(),
        r.station.clone(),
        r.slot_start.clone(),
        opt(&r.bulletin_id),
        opt(&r.sha256),
        r.planned_start.clone(),
        opt(&r.actual_start),
        opt(&r.actual_end),
        r.played_ms.to_string(),
        r.status.as_str().to_string(),
        r.source.as_str().to_string(),
        r.reason.stored().to_string(),
        gain,
        r.who.clone(),
        r.link_seq.map(|l| l.to_string()).unwrap_or_default(),
        r.prev_hash.clone(),
    ];
    if r.level != crate::airlog::Level::Item.as_str() {
        fields.push(r.level.clone());
    }
    hex::encode(Sha256::digest(fields.join("\u{1f}").as_bytes()))
}

/// The first row of a station's chain that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("airlog of station {station}: row {seq}: {what}")]
pub struct BadRow {
    /// Station.
    pub station: String,
    /// The row's sequence number (0 when the problem is the chain's end).
    pub seq: i64,
    /// What is wrong.
    pub what: String,
}

/// Checks one station's closed rows against the recorded chain head (`(seq, hash)` of
/// the last row closed, when one was recorded).
///
/// Rows join the chain in the order they closed, which is not always the order of their
/// sequence numbers (a slot row opens before its items and closes after them), so the
/// chain is followed through each row's `prev_hash`: back from the head, and forward from
/// the genesis where the way back breaks. Every problem found is gathered and the one on
/// the lowest row is named: a row whose content does not match its hash (edited), a row
/// whose predecessor is missing (a row was deleted before it), a row on neither way
/// (inserted), a head that names no row (the last rows were deleted).
pub fn verify(station: &str, rows: &[Record], head: Option<(i64, &str)>) -> Result<(), BadRow> {
    use std::collections::{HashMap, HashSet};
    let bad = |seq: i64, what: &str| BadRow {
        station: station.to_string(),
        seq,
        what: what.to_string(),
    };
    const NOT_FOLLOWING: &str =
        "does not follow the row before it (a row was deleted or inserted before it)";
    let Some((head_seq, head_hash)) = head else {
        return match rows.first() {
            None => Ok(()),
            Some(r) => Err(bad(r.seq, "rows exist but no chain head was recorded")),
        };
    };
    let Some(last) = rows.iter().max_by_key(|r| r.seq) else {
        return Err(bad(
            head_seq,
            &format!("the chain should end at row {head_seq} but has no rows (rows were deleted)"),
        ));
    };
    let by_hash: HashMap<&str, &Record> = rows.iter().map(|r| (r.row_hash.as_str(), r)).collect();
    let genesis = genesis(station);
    let mut problems: Vec<BadRow> = Vec::new();
    // Back from the head.
    let mut back: HashSet<i64> = HashSet::new();
    match by_hash.get(head_hash) {
        Some(r) if r.seq == head_seq => {
            let mut r = *r;
            loop {
                if !back.insert(r.seq) {
                    problems.push(bad(r.seq, "the chain loops back on itself"));
                    break;
                }
                if r.prev_hash == genesis {
                    break;
                }
                match by_hash.get(r.prev_hash.as_str()) {
                    Some(p) => r = p,
                    None => {
                        problems.push(bad(r.seq, NOT_FOLLOWING));
                        break;
                    }
                }
            }
        }
        _ => {
            let at = last.seq.min(head_seq);
            problems.push(bad(
                at,
                &format!(
                    "the chain should end at row {head_seq}; rows after {at} were deleted or added"
                ),
            ));
        }
    }
    // Forward from the genesis (at a fork, the way the head comes back along).
    let mut next: HashMap<&str, Vec<&Record>> = HashMap::new();
    for r in rows {
        next.entry(r.prev_hash.as_str()).or_default().push(r);
    }
    let mut on_chain = back.clone();
    let mut at = genesis.as_str();
    while let Some(followers) = next.get(at) {
        let Some(r) = followers
            .iter()
            .find(|r| back.contains(&r.seq))
            .or_else(|| followers.iter().min_by_key(|r| r.seq))
        else {
            break;
        };
        if back.contains(&r.seq) || !on_chain.insert(r.seq) {
            break;
        }
        at = r.row_hash.as_str();
    }
    for r in rows {
        if !on_chain.contains(&r.seq) {
            problems.push(bad(r.seq, NOT_FOLLOWING));
        } else if !holds(r) {
            problems.push(bad(
                r.seq,
                "its content does not match its hash (the row was edited)",
            ));
        }
    }
    match problems.into_iter().min_by_key(|p| p.seq) {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn chain(n: usize) -> Vec<Record> {
        let mut prev = genesis("vinh-an");
        (0..n)
            .map(|i| {
                let mut r = Record {
                    seq: i as i64 + 1,
                    level: "item".into(),
                    station: "vinh-an".into(),
                    slot_start: "2023-03-06T22:30:00.000Z".into(),
                    bulletin_id: Some("0123456789ab".into()),
                    sha256: Some("ab".repeat(32)),
                    planned_start: format!("2023-03-06T22:3{i}:00.000Z"),
                    actual_start: Some(format!("2023-03-06T22:3{i}:00.000Z")),
                    actual_end: Some(format!("2023-03-06T22:3{i}:30.000Z")),
                    played_ms: 30_000,
                    status: crate::airlog::AirStatus::Aired,
                    source: crate::airlog::CueSource::Schedule,
                    reason: crate::airlog::AirReason::none(),
                    gain_db: Some(2.5),
                    who: "loa".into(),
                    link_seq: None,
                    prev_hash: prev.clone(),
                    row_hash: String::new(),
                };
                r.row_hash = row_hash(&r);
                prev = r.row_hash.clone();
                r
            })
            .collect()
    }

    fn head(rows: &[Record]) -> Option<(i64, &str)> {
        rows.last().map(|r| (r.seq, r.row_hash.as_str()))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let rows = chain(5);
        assert_eq!(verify("vinh-an", &rows, head(&rows)), Ok(()));
        assert_eq!(verify("vinh-an", &[], None), Ok(()));
    }

    #[test]
    fn an_edited_row_is_named() {
        let mut rows = chain(5);
        let h = (rows[4].seq, rows[4].row_hash.clone());
        rows[2].played_ms = 29_000;
        let err = verify("vinh-an", &rows, Some((h.0, &h.1))).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.what.contains("edited"));
    }

    #[test]
    fn a_deleted_row_is_found_at_the_next_one() {
        let mut rows = chain(5);
        let h = (rows[4].seq, rows[4].row_hash.clone());
        rows.remove(1);
        let err = verify("vinh-an", &rows, Some((h.0, &h.1))).unwrap_err();
        assert_eq!(err.seq, 3);
    }

    #[test]
    fn an_inserted_row_is_found() {
        let mut rows = chain(5);
        let h = (rows[4].seq, rows[4].row_hash.clone());
        let mut forged = rows[1].clone();
        forged.seq = 99;
        forged.row_hash = row_hash(&forged);
        rows.insert(2, forged);
        let err = verify("vinh-an", &rows, Some((h.0, &h.1))).unwrap_err();
        assert_eq!(
            err.seq, 99,
            "the forged row does not follow the row before it"
        );
    }

    #[test]
    fn an_item_row_hashes_as_before_levels_existed_and_a_level_change_is_an_edit() {
        let rows = chain(2);
        // The hash of this row as computed before the `level` column was added.
        let mut fields = vec![
            "1".to_string(),
            "vinh-an".into(),
            "2023-03-06T22:30:00.000Z".into(),
            "0123456789ab".into(),
            "ab".repeat(32),
            "2023-03-06T22:30:00.000Z".into(),
            "2023-03-06T22:30:00.000Z".into(),
            "2023-03-06T22:30:30.000Z".into(),
            "30000".into(),
            "aired".into(),
            "schedule".into(),
            String::new(),
            "2.50".into(),
            "loa".into(),
            String::new(),
        ];
        fields.push(genesis("vinh-an"));
        let old = hex::encode(Sha256::digest(fields.join("\u{1f}").as_bytes()));
        assert_eq!(legacy_row_hash(&rows[0]), old);
        let mut legacy = rows[0].clone();
        legacy.row_hash = old;
        assert!(
            holds(&legacy),
            "a row sealed in the old form still verifies"
        );
        let mut edited = rows.clone();
        edited[1].level = "slot".into();
        let h = (rows[1].seq, rows[1].row_hash.as_str());
        let err = verify("vinh-an", &edited, Some(h)).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.what.contains("edited"));
    }

    #[test]
    fn slot_rows_chain_with_item_rows() {
        let mut rows = chain(3);
        // The slot row opened first (lowest seq) and closed last.
        let mut slot = rows[2].clone();
        slot.seq = 0;
        slot.level = "slot".into();
        slot.bulletin_id = None;
        slot.sha256 = None;
        slot.prev_hash = rows[2].row_hash.clone();
        slot.row_hash = row_hash(&slot);
        let mut as_item = slot.clone();
        as_item.level = "item".into();
        assert_ne!(row_hash(&as_item), slot.row_hash);
        rows.push(slot);
        assert_eq!(verify("vinh-an", &rows, head(&rows)), Ok(()));
    }

    #[test]
    fn a_gain_changed_below_the_old_rounding_is_an_edit() {
        let mut rows = chain(2);
        let h = (rows[1].seq, rows[1].row_hash.clone());
        rows[0].gain_db = Some(2.504);
        let err = verify("vinh-an", &rows, Some((h.0, &h.1))).unwrap_err();
        assert_eq!(err.seq, 1);
        assert!(err.what.contains("edited"));
    }

    #[test]
    fn deleting_the_last_rows_is_found_through_the_head() {
        let mut rows = chain(5);
        let h = (rows[4].seq, rows[4].row_hash.clone());
        rows.truncate(3);
        assert!(verify("vinh-an", &rows, Some((h.0, &h.1))).is_err());
    }

    #[test]
    fn a_row_moved_to_another_station_does_not_verify_there() {
        let rows = chain(1);
        assert!(verify("vinh-hung", &rows, head(&rows)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn chains_closed_in_any_order_verify_and_any_one_tamper_is_found(
            n in 1usize..12,
            order in proptest::collection::vec(0u32..1000, 12),
            tamper in 0u8..4,
            at in 0usize..12,
        ) {
            // Rows closed in chain order, with sequence numbers in another order.
            let mut rows = chain(n);
            let mut seqs: Vec<(u32, usize)> = (0..n).map(|i| (order[i], i)).collect();
            seqs.sort();
            let mut prev = genesis("vinh-an");
            for (new_seq, (_, i)) in seqs.iter().enumerate() {
                rows[*i].seq = new_seq as i64;
            }
            for r in rows.iter_mut() {
                r.prev_hash = prev.clone();
                r.row_hash = row_hash(r);
                prev = r.row_hash.clone();
            }
            let h = (rows[n - 1].seq, rows[n - 1].row_hash.clone());
            proptest::prop_assert_eq!(verify("vinh-an", &rows, Some((h.0, &h.1))), Ok(()));
            let at = at % n;
            match tamper {
                0 => rows[at].played_ms += 1,
                1 => { rows.remove(at); }
                2 => {
                    let mut forged = rows[at].clone();
                    forged.seq = 1000;
                    forged.reason = crate::airlog::AirReason::parse("forged");
                    forged.row_hash = row_hash(&forged);
                    rows.push(forged);
                }
                _ => rows[at].level = "slot".into(),
            }
            proptest::prop_assert!(verify("vinh-an", &rows, Some((h.0, &h.1))).is_err());
        }
    }
}
