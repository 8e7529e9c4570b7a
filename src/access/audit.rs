//! The audit trail: one entry per operator action, appended to a hash chain like the
//! airlog's ([`crate::airlog::chain`]): each entry hashes every field exactly as stored and
//! the hash of the entry before it, and the store keeps the chain's head, so [`verify`]
//! names the first entry edited, deleted or inserted. Pure: entries in, verdict out.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Action, Role};

/// An entry to append: what happened, before the store numbers and chains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Who: an account name, or the configured operator for the command line.
    pub actor: String,
    /// The actor's role; `None` for the command line on the server (whoever has its shell
    /// has every right) and for a failed login under an unknown name.
    pub role: Option<Role>,
    /// The station the action was about, when it was about one.
    pub station: Option<String>,
    /// What was done.
    pub action: Action,
    /// What it was done to (an account name, a bulletin id, a week …); may be empty.
    pub target: String,
    /// The state before, as JSON text, where it applies.
    pub before: Option<String>,
    /// The state after, as JSON text, where it applies.
    pub after: Option<String>,
    /// The client's address (the web console's); `None` for the command line.
    pub address: Option<String>,
}

impl AuditDraft {
    /// An entry of the command line: `actor` (the configured operator) did `action` to
    /// `target` at `at`.
    pub fn cli(at: DateTime<Utc>, actor: &str, action: Action, target: &str) -> AuditDraft {
        AuditDraft {
            at,
            actor: actor.to_string(),
            role: None,
            station: None,
            action,
            target: target.to_string(),
            before: None,
            after: None,
            address: None,
        }
    }

    /// The same entry with the state before and after.
    pub fn with_change(
        mut self,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> AuditDraft {
        self.before = before.map(|v| v.to_string());
        self.after = after.map(|v| v.to_string());
        self
    }

    /// The stored entry this draft becomes as entry `seq` after `prev_hash`. Empty optional
    /// texts are stored as absent (the schema refuses empty ones).
    pub fn seal(&self, seq: i64, prev_hash: &str) -> AuditRecord {
        let some = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
        let mut r = AuditRecord {
            seq,
            at: crate::store::rows_instant_text(self.at),
            actor: crate::text::nfc(&self.actor),
            role: self.role.map(|r| r.as_str().to_string()),
            station: some(&self.station),
            action: self.action.as_str().to_string(),
            target: crate::text::nfc(&self.target),
            before: some(&self.before),
            after: some(&self.after),
            address: some(&self.address),
            prev_hash: prev_hash.to_string(),
            entry_hash: String::new(),
        };
        r.entry_hash = entry_hash(&r);
        r
    }
}

/// An entry as stored, every field as the database holds it (so verification never depends
/// on reading the words back into types).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    /// Position in the chain: 1, 2, 3 … without gaps.
    pub seq: i64,
    /// When, fixed-width RFC 3339 UTC.
    pub at: String,
    /// Who.
    pub actor: String,
    /// Their role (absent for the command line).
    pub role: Option<String>,
    /// The station.
    pub station: Option<String>,
    /// The action's stored name.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// State before, JSON text.
    pub before: Option<String>,
    /// State after, JSON text.
    pub after: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// The hash of the entry before (the genesis value for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub entry_hash: String,
}

/// The `prev_hash` of the first entry.
pub fn genesis() -> String {
    hex::encode(Sha256::digest(b"loa audit genesis"))
}

/// The hash of an entry: SHA-256 over its fields in a fixed order, each as stored, separated
/// by the ASCII unit separator, then `prev_hash`. An absent optional field is hashed as the
/// ASCII NUL character, so absent and empty differ.
pub fn entry_hash(r: &AuditRecord) -> String {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "\u{0}".to_string());
    let fields = [
        r.seq.to_string(),
        r.at.clone(),
        r.actor.clone(),
        opt(&r.role),
        opt(&r.station),
        r.action.clone(),
        r.target.clone(),
        opt(&r.before),
        opt(&r.after),
        opt(&r.address),
        r.prev_hash.clone(),
    ];
    hex::encode(Sha256::digest(fields.join("\u{1f}").as_bytes()))
}

/// The first entry at which the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Broken {
    /// The entry's content does not match its hash.
    #[error("audit entry {seq} was edited (its content does not match its hash)")]
    Edited {
        /// The entry.
        seq: i64,
    },
    /// Entries from `seq` on are missing (before `next`, or at the end of the chain).
    #[error("audit entry {seq} was deleted{}", .next.map(|n| format!(" (the chain jumps to entry {n})")).unwrap_or_else(|| " (the chain's head names it)".into()))]
    Deleted {
        /// The first missing entry.
        seq: i64,
        /// The entry found after the gap, if any.
        next: Option<i64>,
    },
    /// The entry does not follow the one before it: something was inserted, or the one
    /// before was rewritten with a new hash.
    #[error("audit entry {seq} does not follow the entry before it (an entry was inserted, or the one before was rewritten)")]
    Unchained {
        /// The entry.
        seq: i64,
    },
    /// The entry lies past the recorded head of the chain: it was inserted at the end.
    #[error("audit entry {seq} lies past the chain's head {head} (it was inserted)")]
    Inserted {
        /// The entry.
        seq: i64,
        /// The head's seq.
        head: i64,
    },
}

impl Broken {
    /// The entry named.
    pub fn seq(&self) -> i64 {
        match self {
            Broken::Edited { seq }
            | Broken::Deleted { seq, .. }
            | Broken::Unchained { seq }
            | Broken::Inserted { seq, .. } => *seq,
        }
    }
}

/// Checks the entries (in seq order) against the recorded head `(seq, entry_hash)`; seq 0
/// means no entry was ever appended. Names the lowest entry that does not hold.
pub fn verify(entries: &[AuditRecord], head: (i64, &str)) -> Result<(), Broken> {
    let (head_seq, head_hash) = head;
    let mut prev = genesis();
    let mut expected = 1;
    for e in entries {
        if e.seq > head_seq {
            return Err(Broken::Inserted {
                seq: e.seq,
                head: head_seq,
            });
        }
        if e.seq != expected {
            return Err(Broken::Deleted {
                seq: expected,
                next: Some(e.seq),
            });
        }
        if entry_hash(e) != e.entry_hash {
            return Err(Broken::Edited { seq: e.seq });
        }
        if e.prev_hash != prev {
            return Err(Broken::Unchained { seq: e.seq });
        }
        prev = e.entry_hash.clone();
        expected += 1;
    }
    if expected <= head_seq {
        return Err(Broken::Deleted {
            seq: expected,
            next: None,
        });
    }
    if head_seq > 0 && prev != head_hash {
        // The last entry was rewritten with a new hash after the head recorded it.
        return Err(Broken::Edited { seq: head_seq });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(i: i64) -> AuditDraft {
        let at = DateTime::parse_from_rfc3339("2026-12-05T01:02:03Z")
            .unwrap()
            .to_utc()
            + chrono::Duration::seconds(i);
        AuditDraft::cli(at, "Nguyễn Văn An", Action::UserAdd, &format!("user{i}"))
            .with_change(None, Some(serde_json::json!({"role": "viewer"})))
    }

    /// A chain of `n` entries and its head.
    fn chain(n: i64) -> (Vec<AuditRecord>, (i64, String)) {
        let mut prev = genesis();
        let mut out = Vec::new();
        for i in 1..=n {
            let r = draft(i).seal(i, &prev);
            prev = r.entry_hash.clone();
            out.push(r);
        }
        (out, (n, prev))
    }

    fn check(entries: &[AuditRecord], head: &(i64, String)) -> Result<(), Broken> {
        verify(entries, (head.0, &head.1))
    }

    #[test]
    fn an_untouched_chain_and_an_empty_one_verify() {
        let (e, head) = chain(5);
        assert_eq!(check(&e, &head), Ok(()));
        assert_eq!(verify(&[], (0, "")), Ok(()));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let (mut e, head) = chain(5);
        e[2].actor = "Kẻ gian".into();
        assert_eq!(check(&e, &head), Err(Broken::Edited { seq: 3 }));
        let (mut e, head) = chain(5);
        e[1].before = Some(String::new());
        assert_eq!(check(&e, &head), Err(Broken::Edited { seq: 2 }));
    }

    #[test]
    fn an_edited_and_rehashed_entry_breaks_the_link_to_the_next() {
        let (mut e, head) = chain(5);
        e[2].target = "khác".into();
        e[2].entry_hash = entry_hash(&e[2]);
        assert_eq!(check(&e, &head), Err(Broken::Unchained { seq: 4 }));
        let (mut e, head) = chain(5);
        e[4].target = "khác".into();
        e[4].entry_hash = entry_hash(&e[4]);
        assert_eq!(check(&e, &head), Err(Broken::Edited { seq: 5 }));
    }

    #[test]
    fn a_deleted_entry_in_the_middle_or_at_the_end_is_named() {
        let (mut e, head) = chain(5);
        e.remove(1);
        assert_eq!(
            check(&e, &head),
            Err(Broken::Deleted {
                seq: 2,
                next: Some(3)
            })
        );
        let (mut e, head) = chain(5);
        e.truncate(3);
        assert_eq!(
            check(&e, &head),
            Err(Broken::Deleted { seq: 4, next: None })
        );
        assert!(check(&[], &head).is_err());
    }

    #[test]
    fn an_entry_inserted_at_the_end_or_renumbered_into_the_middle_is_named() {
        let (mut e, head) = chain(3);
        let extra = draft(9).seal(4, &head.1);
        e.push(extra);
        assert_eq!(check(&e, &head), Err(Broken::Inserted { seq: 4, head: 3 }));
        // Inserted as entry 2, the old 2 and 3 renumbered: the old 2 no longer matches.
        let (e, _) = chain(3);
        let forged = draft(7).seal(2, &e[0].entry_hash);
        let mut moved = vec![e[0].clone(), forged];
        for (i, r) in e[1..].iter().enumerate() {
            let mut r = r.clone();
            r.seq = i as i64 + 3;
            moved.push(r);
        }
        let head = (4, moved[3].entry_hash.clone());
        assert_eq!(check(&moved, &head), Err(Broken::Edited { seq: 3 }));
    }

    #[test]
    fn absent_and_empty_texts_hash_differently() {
        let mut a = draft(1).seal(1, &genesis());
        let h = a.entry_hash.clone();
        a.address = Some(String::new());
        assert_ne!(entry_hash(&a), h);
        assert!(draft(1)
            .with_change(None, None)
            .seal(1, "x")
            .after
            .is_none());
    }
}
