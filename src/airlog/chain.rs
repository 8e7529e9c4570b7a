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
/// ASCII unit separator, ending with `prev_hash`.
pub fn row_hash(r: &Record) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let fields: Vec<String> = vec![
        r.seq.to_string(),
        r.station.clone(),
        r.slot_start.clone(),
        opt(&r.bulletin_id),
        opt(&r.sha256),
        r.planned_start.clone(),
        opt(&r.actual_start),
        opt(&r.actual_end),
        r.played_ms.to_string(),
        r.status.clone(),
        r.source.clone(),
        r.reason.clone(),
        r.gain_db.map(|g| format!("{g:.2}")).unwrap_or_default(),
        r.who.clone(),
        r.link_seq.map(|l| l.to_string()).unwrap_or_default(),
        r.prev_hash.clone(),
    ];
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

/// Checks one station's closed rows, in sequence order, against the recorded chain head
/// (`(seq, hash)` of the last row, when one was recorded).
pub fn verify(station: &str, rows: &[Record], head: Option<(i64, &str)>) -> Result<(), BadRow> {
    let bad = |seq: i64, what: String| BadRow {
        station: station.to_string(),
        seq,
        what,
    };
    let mut prev = genesis(station);
    for r in rows {
        if r.prev_hash != prev {
            return Err(bad(
                r.seq,
                "does not follow the row before it (a row was deleted or inserted before it)"
                    .into(),
            ));
        }
        if row_hash(r) != r.row_hash {
            return Err(bad(
                r.seq,
                "its content does not match its hash (the row was edited)".into(),
            ));
        }
        prev = r.row_hash.clone();
    }
    match head {
        Some((seq, hash)) => match rows.last() {
            Some(last) if last.seq == seq && last.row_hash == hash => Ok(()),
            Some(last) => Err(bad(
                last.seq,
                format!(
                    "the chain should end at row {seq}; rows after {} were deleted or added",
                    last.seq.min(seq)
                ),
            )),
            None => Err(bad(
                seq,
                format!("the chain should end at row {seq} but has no rows (rows were deleted)"),
            )),
        },
        None if rows.is_empty() => Ok(()),
        None => Err(bad(
            rows[0].seq,
            "rows exist but no chain head was recorded".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Record> {
        let mut prev = genesis("vinh-an");
        (0..n)
            .map(|i| {
                let mut r = Record {
                    seq: i as i64 + 1,
                    station: "vinh-an".into(),
                    slot_start: "2023-03-06T22:30:00.000Z".into(),
                    bulletin_id: Some("0123456789ab".into()),
                    sha256: Some("ab".repeat(32)),
                    planned_start: format!("2023-03-06T22:3{i}:00.000Z"),
                    actual_start: Some(format!("2023-03-06T22:3{i}:00.000Z")),
                    actual_end: Some(format!("2023-03-06T22:3{i}:30.000Z")),
                    played_ms: 30_000,
                    status: "aired".into(),
                    source: "schedule".into(),
                    reason: String::new(),
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
}
