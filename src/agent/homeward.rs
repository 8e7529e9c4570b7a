//! The airlog comes home: the decisions of the upload protocol, pure. The server holds a
//! head for each agent station (the last row of the node's chain it has stored); the node
//! sends what follows that head on its own chain, in chain order ([`to_send`]); the server
//! takes a batch only when every row links to the one before it, hashes as it says, and
//! does not contradict a row it already holds ([`accept`]). A row it already holds, sent
//! again, is skipped: uploads are idempotent. A gap or a fork is refused whole: nothing
//! stored is ever overwritten.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::airlog::chain::{genesis, holds};
use crate::airlog::Record;

/// The most rows one upload carries (the server refuses more; the node sends the rest in
/// the next batch).
pub const MAX_BATCH: usize = 500;

/// A chain head: the last row of a station's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The row's sequence number (the node's).
    pub seq: i64,
    /// Its hash.
    pub row_hash: String,
}

/// Why a node cannot send its rows as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Diverged {
    /// The node's own chain does not hold together.
    #[error("this machine's airlog of station {station} is broken at row {seq}: {what}")]
    Broken {
        /// Station.
        station: String,
        /// The row.
        seq: i64,
        /// What is wrong.
        what: String,
    },
    /// The server holds a head that is not on this node's chain (a fork).
    #[error("the server holds row {seq} (hash {hash}) as the head of station {station}, which is not on this machine's chain: the two histories differ (a fork); nothing is sent")]
    Fork {
        /// Station.
        station: String,
        /// The server's head row.
        seq: i64,
        /// Its hash.
        hash: String,
    },
}

/// A station's closed rows in the order they joined its chain: from the genesis, each the
/// one whose `prev_hash` is the hash before it. Open rows (not yet hashed) are left out.
pub fn chain_order(station: &str, rows: Vec<Record>) -> Result<Vec<Record>, Diverged> {
    let closed: Vec<Record> = rows
        .into_iter()
        .filter(|r| !r.row_hash.is_empty())
        .collect();
    let total = closed.len();
    let mut by_prev: HashMap<String, Record> = HashMap::new();
    for r in closed {
        if let Some(other) = by_prev.insert(r.prev_hash.clone(), r) {
            return Err(Diverged::Broken {
                station: station.to_string(),
                seq: other.seq,
                what: "two rows follow the same row".into(),
            });
        }
    }
    let mut out = Vec::with_capacity(total);
    let mut at = genesis(station);
    while let Some(r) = by_prev.remove(&at) {
        at = r.row_hash.clone();
        out.push(r);
    }
    if let Some(r) = by_prev.values().min_by_key(|r| r.seq) {
        return Err(Diverged::Broken {
            station: station.to_string(),
            seq: r.seq,
            what: "it does not follow the row before it".into(),
        });
    }
    Ok(out)
}

/// The rows of `chain` (in chain order) that follow the server's head: all of them when
/// the server holds none; none when it holds the last. A head that is not on the chain is
/// a fork.
pub fn to_send<'a>(
    station: &str,
    chain: &'a [Record],
    server: Option<&Head>,
) -> Result<&'a [Record], Diverged> {
    let Some(head) = server else {
        return Ok(chain);
    };
    match chain
        .iter()
        .position(|r| r.seq == head.seq && r.row_hash == head.row_hash)
    {
        Some(i) => Ok(&chain[i + 1..]),
        None => Err(Diverged::Fork {
            station: station.to_string(),
            seq: head.seq,
            hash: head.row_hash.clone(),
        }),
    }
}

/// Why the server refuses a batch (nothing of it is stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// More rows than one upload may carry.
    #[error("an upload carries at most {MAX_BATCH} rows; this one has {0}")]
    TooMany(usize),
    /// A row of another station.
    #[error("row {seq} is of station '{row}', not of station '{station}' this node plays")]
    OtherStation {
        /// The node's station.
        station: String,
        /// The row's.
        row: String,
        /// The row.
        seq: i64,
    },
    /// A row still open.
    #[error("row {seq} is still open (status playing, no hash); only closed rows are sent")]
    Open {
        /// The row.
        seq: i64,
    },
    /// A row whose content does not match its hash.
    #[error("row {seq}: its content does not match its hash (edited)")]
    Edited {
        /// The row.
        seq: i64,
    },
    /// A row the server holds with another content.
    #[error("row {seq} differs from the row {seq} the server holds for station '{station}' (a fork: history was edited on one side); nothing was stored")]
    Fork {
        /// Station.
        station: String,
        /// The row.
        seq: i64,
    },
    /// A row that does not follow the server's head.
    #[error("row {seq} does not follow the last row the server holds for station '{station}' ({head}): rows are missing before it (a gap); send from the server's head")]
    Gap {
        /// Station.
        station: String,
        /// The row.
        seq: i64,
        /// The server's head, as words.
        head: String,
    },
}

impl Refusal {
    /// Whether this refusal is evidence that the two histories differ (an alert).
    pub fn is_fork(&self) -> bool {
        matches!(self, Refusal::Fork { .. } | Refusal::Edited { .. })
    }
}

/// The rows of `batch` the server stores, in order, given its head and the hashes of the
/// rows it already holds with the batch's sequence numbers (`held`). Rows already held
/// with the same hash are skipped; the first new row must follow the head.
pub fn accept(
    station: &str,
    head: Option<&Head>,
    held: &HashMap<i64, String>,
    batch: Vec<Record>,
) -> Result<Vec<Record>, Refusal> {
    if batch.len() > MAX_BATCH {
        return Err(Refusal::TooMany(batch.len()));
    }
    let mut at = head.map_or_else(|| genesis(station), |h| h.row_hash.clone());
    let mut new = Vec::new();
    for r in batch {
        if r.station != station {
            return Err(Refusal::OtherStation {
                station: station.to_string(),
                row: r.station,
                seq: r.seq,
            });
        }
        if r.row_hash.is_empty() || r.status.is_open() {
            return Err(Refusal::Open { seq: r.seq });
        }
        if !holds(&r) {
            return Err(Refusal::Edited { seq: r.seq });
        }
        if let Some(hash) = held.get(&r.seq) {
            if *hash == r.row_hash && new.is_empty() {
                continue;
            }
            return Err(Refusal::Fork {
                station: station.to_string(),
                seq: r.seq,
            });
        }
        if r.prev_hash != at {
            let is_fork = held.values().any(|h| *h == r.prev_hash);
            if is_fork {
                return Err(Refusal::Fork {
                    station: station.to_string(),
                    seq: r.seq,
                });
            }
            return Err(Refusal::Gap {
                station: station.to_string(),
                seq: r.seq,
                head: head.map_or_else(
                    || "none: it holds no row yet".to_string(),
                    |h| format!("row {}", h.seq),
                ),
            });
        }
        at = r.row_hash.clone();
        new.push(r);
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::airlog::chain::tests::chain;

    fn head(r: &Record) -> Head {
        Head {
            seq: r.seq,
            row_hash: r.row_hash.clone(),
        }
    }

    fn held(rows: &[Record]) -> HashMap<i64, String> {
        rows.iter().map(|r| (r.seq, r.row_hash.clone())).collect()
    }

    #[test]
    fn a_row_survives_the_trip_home_as_json_with_every_gain_bit_for_bit() {
        // Gains as playout computes them (a loudness difference): some need the last digit
        // of their shortest form to read back as the same f64.
        let mut rows = chain(1);
        for gain in [
            10.197689882085275,
            -3.996930692054816,
            7.399999999999999,
            0.1 + 0.2,
        ] {
            rows[0].gain_db = Some(gain);
            rows[0].row_hash = crate::airlog::chain::row_hash(&rows[0]);
            let json = serde_json::to_string(&rows).unwrap();
            let back: Vec<Record> = serde_json::from_str(&json).unwrap();
            assert_eq!(back[0].gain_db, Some(gain), "{json}");
            assert!(crate::airlog::chain::holds(&back[0]), "{json}");
        }
    }

    #[test]
    fn a_node_sends_what_follows_the_servers_head() {
        let rows = chain(5);
        assert_eq!(to_send("vinh-an", &rows, None).unwrap().len(), 5);
        let after = to_send("vinh-an", &rows, Some(&head(&rows[2]))).unwrap();
        assert_eq!(after.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
        assert!(to_send("vinh-an", &rows, Some(&head(&rows[4])))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_server_head_not_on_the_nodes_chain_is_a_fork() {
        let rows = chain(3);
        let mut other = head(&rows[1]);
        other.row_hash = "00".repeat(32);
        let e = to_send("vinh-an", &rows, Some(&other)).unwrap_err();
        assert!(matches!(e, Diverged::Fork { seq: 2, .. }), "{e}");
    }

    #[test]
    fn rows_are_put_in_chain_order_whatever_their_numbers() {
        let mut rows = chain(4);
        rows.reverse();
        let ordered = chain_order("vinh-an", rows).unwrap();
        assert_eq!(
            ordered.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn a_node_chain_with_a_row_missing_is_named_broken() {
        let mut rows = chain(4);
        rows.remove(1);
        let e = chain_order("vinh-an", rows).unwrap_err();
        assert!(matches!(e, Diverged::Broken { seq: 3, .. }), "{e}");
    }

    #[test]
    fn the_server_takes_a_batch_that_follows_its_head() {
        let rows = chain(4);
        let new = accept("vinh-an", None, &HashMap::new(), rows[..2].to_vec()).unwrap();
        assert_eq!(new.len(), 2);
        let new = accept(
            "vinh-an",
            Some(&head(&rows[1])),
            &HashMap::new(),
            rows[2..].to_vec(),
        )
        .unwrap();
        assert_eq!(new.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4]);
    }

    #[test]
    fn the_same_rows_sent_twice_store_nothing_the_second_time() {
        let rows = chain(3);
        let again = accept("vinh-an", Some(&head(&rows[2])), &held(&rows), rows.clone()).unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn a_batch_that_overlaps_the_held_rows_stores_only_the_new_ones() {
        let rows = chain(5);
        let new = accept(
            "vinh-an",
            Some(&head(&rows[2])),
            &held(&rows[..3]),
            rows.clone(),
        )
        .unwrap();
        assert_eq!(new.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn a_batch_with_rows_missing_before_it_is_a_gap() {
        let rows = chain(5);
        let e = accept(
            "vinh-an",
            Some(&head(&rows[1])),
            &held(&rows[..2]),
            rows[3..].to_vec(),
        )
        .unwrap_err();
        assert!(matches!(e, Refusal::Gap { seq: 4, .. }), "{e}");
        assert!(e.to_string().contains("row 2"), "{e}");
    }

    #[test]
    fn a_row_held_with_another_content_is_a_fork_and_nothing_is_taken() {
        let rows = chain(3);
        let mut forked = rows.clone();
        forked[1].played_ms += 1;
        forked[1].row_hash = crate::airlog::chain::row_hash(&forked[1]);
        let e = accept("vinh-an", Some(&head(&rows[2])), &held(&rows), forked).unwrap_err();
        assert!(matches!(e, Refusal::Fork { seq: 2, .. }), "{e}");
        assert!(e.is_fork());
    }

    #[test]
    fn an_edited_row_is_refused_even_when_it_links() {
        let mut rows = chain(2);
        rows[1].played_ms += 1;
        let e = accept("vinh-an", None, &HashMap::new(), rows).unwrap_err();
        assert_eq!(e, Refusal::Edited { seq: 2 });
    }

    #[test]
    fn rows_of_another_station_are_refused() {
        let rows = chain(1);
        let e = accept("vinh-hung", None, &HashMap::new(), rows).unwrap_err();
        assert!(matches!(e, Refusal::OtherStation { .. }), "{e}");
    }

    #[test]
    fn an_oversized_batch_is_refused() {
        let rows = vec![chain(1)[0].clone(); MAX_BATCH + 1];
        assert_eq!(
            accept("vinh-an", None, &HashMap::new(), rows).unwrap_err(),
            Refusal::TooMany(MAX_BATCH + 1)
        );
    }

    proptest::proptest! {
        #[test]
        fn whatever_the_server_holds_of_a_chain_sending_what_follows_completes_it(
            n in 1usize..15, have in 0usize..15, resend in 0usize..15,
        ) {
            let rows = chain(n);
            let have = have % (n + 1);
            let server_head = have.checked_sub(1).map(|i| head(&rows[i]));
            let send = to_send("vinh-an", &rows, server_head.as_ref()).unwrap();
            // The node may also send some rows the server has (a retry): still fine.
            let from = have.saturating_sub(resend % (have + 1));
            let batch: Vec<Record> = rows[from..have].iter().chain(send).cloned().collect();
            let new = accept("vinh-an", server_head.as_ref(), &held(&rows[..have]), batch).unwrap();
            proptest::prop_assert_eq!(new.len(), n - have);
            let all: Vec<Record> = rows[..have].iter().cloned().chain(new).collect();
            proptest::prop_assert_eq!(all, rows);
        }
    }
}
