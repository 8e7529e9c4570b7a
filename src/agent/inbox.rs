//! The district side of the airlog coming home: the head the server holds for a node's
//! station, and an upload of the rows that follow it. [`super::homeward::accept`] decides
//! what may be stored; the node's signature over its new head is checked with its own
//! key; the store appends rows, head and signed head in one transaction and never
//! overwrites. A gap or a fork is refused with a sentence that says which, and alerted.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::homeward::{self, Head, Refusal};
use super::server::{AgentError, AgentService};
use crate::airlog::key::PublicKey;
use crate::airlog::signed::SignedHead;
use crate::airlog::Record;
use crate::plan::Station;
use crate::store::{AgentAppend, Appended, Node};

/// What a node sends: rows in chain order and its signature over the last one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The rows that follow the server's head, in chain order.
    pub rows: Vec<Record>,
    /// The node's signed head: its chain's last row, signed with its key (none when it
    /// sends no row).
    pub head: Option<SignedHead>,
    /// Each row's clock offset (the node's clock minus the server's, ms) as the node
    /// measured it last before the row, in the rows' order (none when it had no
    /// measurement; empty from a node that keeps none).
    #[serde(default)]
    pub clock_offsets_ms: Vec<Option<i64>>,
}

/// The server's answer: how many rows it stored and the head it now holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taken {
    /// Rows stored by this upload (0 when it held them all already).
    pub stored: usize,
    /// The head the server holds for the station.
    pub head: Option<Head>,
}

impl AgentService {
    /// The head the server holds for `station`'s chain.
    pub async fn held_head(&self, station: &Station) -> Result<Option<Head>, AgentError> {
        Ok(self
            .store
            .chain_head(&station.code)
            .await?
            .map(|(seq, row_hash)| Head { seq, row_hash }))
    }

    /// Takes an upload from `node` for its `station`.
    pub async fn take_airlog(
        &self,
        node: &Node,
        station: &Station,
        upload: Upload,
    ) -> Result<Taken, AgentError> {
        let code = station.code.as_str();
        let head = self.held_head(station).await?;
        let seqs = upload.rows.iter().map(|r| r.seq);
        let held: HashMap<i64, String> = match (seqs.clone().min(), seqs.max()) {
            (Some(lo), Some(hi)) => self
                .store
                .agent_held(code, lo, hi)
                .await?
                .into_iter()
                .collect(),
            _ => HashMap::new(),
        };
        if !upload.clock_offsets_ms.is_empty() && upload.clock_offsets_ms.len() != upload.rows.len()
        {
            return Err(AgentError::Bad(format!(
                "{} clock offsets for {} rows: one per row, or none",
                upload.clock_offsets_ms.len(),
                upload.rows.len()
            )));
        }
        let offsets: HashMap<i64, Option<i64>> = upload
            .rows
            .iter()
            .map(|r| r.seq)
            .zip(upload.clock_offsets_ms.iter().copied())
            .collect();
        let new = homeward::accept(code, head.as_ref(), &held, upload.rows)
            .map_err(|e| refused(code, node, e))?;
        let offsets: Vec<Option<i64>> = new
            .iter()
            .map(|r| offsets.get(&r.seq).copied().flatten())
            .collect();
        let Some(last) = new.last() else {
            return Ok(Taken { stored: 0, head });
        };
        let signed = upload.head.ok_or_else(|| {
            AgentError::Bad("an upload with new rows must carry the node's signed head".into())
        })?;
        check_signed_head(node, code, last, &signed)?;
        let received_at = crate::store::rows_instant_text(self.clock.now());
        let appended = self
            .store
            .append_agent_rows(&AgentAppend {
                station: code,
                node: &node.public_key,
                after: head.as_ref().map(|h| (h.seq, h.row_hash.as_str())),
                rows: &new,
                clock_offsets_ms: &offsets,
                signed: &signed,
                received_at: &received_at,
            })
            .await?;
        if appended == Appended::HeadMoved {
            return Err(AgentError::Conflict(format!(
                "another upload for station '{code}' was stored while this one was checked; ask for the head again and send what follows it"
            )));
        }
        tracing::info!(station = %code, rows = new.len(), head = last.seq, "airlog rows received from the commune machine");
        Ok(Taken {
            stored: new.len(),
            head: Some(Head {
                seq: last.seq,
                row_hash: last.row_hash.clone(),
            }),
        })
    }
}

/// The HTTP error for a refused batch; a gap or a fork is an alert for the operators.
fn refused(station: &str, node: &Node, e: Refusal) -> AgentError {
    match e {
        Refusal::OtherStation { .. } => AgentError::Forbidden(e.to_string()),
        Refusal::Gap { .. } | Refusal::Fork { .. } => {
            tracing::error!(alert = "airlog_refused", station = %station, node = %node.public_key.get(..16).unwrap_or(""), error = %e, "ALERT: the airlog a commune machine sent was refused");
            AgentError::Conflict(e.to_string())
        }
        Refusal::Edited { .. } => {
            tracing::error!(alert = "airlog_refused", station = %station, error = %e, "ALERT: a commune machine sent an edited airlog row");
            AgentError::Bad(e.to_string())
        }
        Refusal::TooMany(_) | Refusal::Open { .. } => AgentError::Bad(e.to_string()),
    }
}

/// The signed head must name the batch's last row, the node's station, and carry the
/// node's own signature.
fn check_signed_head(
    node: &Node,
    station: &str,
    last: &Record,
    h: &SignedHead,
) -> Result<(), AgentError> {
    let bad = |what: &str| AgentError::Bad(format!("the signed head: {what}"));
    if h.station != station || h.seq != last.seq || h.row_hash != last.row_hash {
        return Err(bad(&format!(
            "it names row {} of station '{}', not the last row sent ({} of '{station}')",
            h.seq, h.station, last.seq
        )));
    }
    if chrono::DateTime::parse_from_rfc3339(&h.signed_at).is_err() {
        return Err(bad("its signed_at is not an RFC 3339 instant"));
    }
    let key = PublicKey::from_hex(&node.public_key)
        .ok_or_else(|| AgentError::Internal("the node's stored key is unreadable".into()))?;
    if h.key_fingerprint != key.fingerprint() || !h.is_signed_by(&key) {
        return Err(bad("it does not carry this node's signature"));
    }
    Ok(())
}
