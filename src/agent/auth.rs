//! How a commune machine proves that a request is its own: every `/agent/v1/*` request
//! carries the node's Ed25519 public key, the time, a random nonce and the node's
//! signature over the method, the path (with its query), that time, that nonce and the
//! SHA-256 of the body. The server refuses (401) a request whose time is outside
//! [`WINDOW_S`] of its own, one whose signature was already seen within the window (a
//! replay), one from an unknown or revoked node, and one whose signature does not verify.
//!
//! Pure rules: the caller gives the node as the store knows it and `now` from its
//! [`crate::clock::Clock`]. The enrolment request is signed the same way by the key being
//! enrolled, which proves the machine holds it.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::airlog::key::PublicKey;
use crate::store::Node;

/// The node's public key, 64 hex digits.
pub const NODE_HEADER: &str = "x-loa-node";
/// The request's time, whole seconds since 1970 (UTC).
pub const TIME_HEADER: &str = "x-loa-time";
/// 32 random hex digits: two requests in the same second never sign the same message.
pub const NONCE_HEADER: &str = "x-loa-nonce";
/// The node's Ed25519 signature of [`message`], 128 hex digits.
pub const SIGNATURE_HEADER: &str = "x-loa-signature";

/// How far (seconds) a request's time may be from the server's, either way.
pub const WINDOW_S: i64 = 300;

/// The most signatures kept for replay checks (600 nodes a minute for ten minutes is
/// 6,000); past it requests are refused until old ones age out.
pub const REPLAY_CAPACITY: usize = 100_000;

/// Why a request is not accepted as a node's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRefusal {
    /// A header is missing.
    #[error("the request is not signed by an enrolled node (no {0} header); enrol with `loa agent enroll`")]
    Missing(&'static str),
    /// A header cannot be read.
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    /// The time is outside the window.
    #[error("the request's time is {skew_s} s away from the server's (at most {WINDOW_S} s); set the node's clock")]
    Stale {
        /// Request time minus server time, seconds.
        skew_s: i64,
    },
    /// The same signed request came before.
    #[error("this signed request was already received; a replayed request is refused")]
    Replayed,
    /// Too many recent signatures are kept to take one more.
    #[error("the server is busy checking recent requests; try again in a minute")]
    Busy,
    /// No node has that key.
    #[error("this node is not enrolled on this server; enrol with `loa agent enroll`")]
    UnknownNode,
    /// The node was revoked.
    #[error("this node was revoked at {0}; enrol it again with a new token")]
    Revoked(String),
    /// The signature does not verify.
    #[error("the request's signature does not verify with the node's key")]
    BadSignature,
}

/// The authentication headers of a request, read but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The node's public key, hex.
    pub node: String,
    /// Seconds since 1970.
    pub time: i64,
    /// The nonce, hex.
    pub nonce: String,
    /// The signature, hex.
    pub signature: String,
}

impl Presented {
    /// Reads the four headers through `header` (name → value).
    pub fn parse<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Result<Presented, AuthRefusal> {
        let get = |name: &'static str| {
            header(name)
                .map(str::trim)
                .ok_or(AuthRefusal::Missing(name))
        };
        let hex_of = |name: &'static str, len: usize| {
            let v = get(name)?;
            if v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(v.to_ascii_lowercase())
            } else {
                Err(AuthRefusal::Malformed(name))
            }
        };
        Ok(Presented {
            node: hex_of(NODE_HEADER, 64)?,
            time: get(TIME_HEADER)?
                .parse()
                .map_err(|_| AuthRefusal::Malformed(TIME_HEADER))?,
            nonce: hex_of(NONCE_HEADER, 32)?,
            signature: hex_of(SIGNATURE_HEADER, 128)?,
        })
    }
}

/// The bytes a node signs for a request.
pub fn message(method: &str, path: &str, time: i64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let body_hash = hex::encode(Sha256::digest(body));
    format!(
        "loa-agent/1\n{}\n{path}\n{time}\n{nonce}\n{body_hash}",
        method.to_ascii_uppercase()
    )
    .into_bytes()
}

/// Whether a request's time is within [`WINDOW_S`] of `now`.
pub fn check_time(time: i64, now: DateTime<Utc>) -> Result<(), AuthRefusal> {
    let skew_s = time.saturating_sub(now.timestamp());
    if skew_s.abs() > WINDOW_S {
        return Err(AuthRefusal::Stale { skew_s });
    }
    Ok(())
}

/// Whether the signature is the presented key's over this request.
pub fn check_signature(
    p: &Presented,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(), AuthRefusal> {
    let key = PublicKey::from_hex(&p.node).ok_or(AuthRefusal::Malformed(NODE_HEADER))?;
    let msg = message(method, path, p.time, &p.nonce, body);
    if key.verifies(&msg, &p.signature) {
        Ok(())
    } else {
        Err(AuthRefusal::BadSignature)
    }
}

/// Whether the store's node may make requests: known and not revoked.
pub fn check_node(node: Option<Node>) -> Result<Node, AuthRefusal> {
    let node = node.ok_or(AuthRefusal::UnknownNode)?;
    if let Some(at) = node.revoked_at {
        return Err(AuthRefusal::Revoked(at.to_rfc3339()));
    }
    Ok(node)
}

/// A request checked in order: time, node, signature, then replay (so that only signed
/// requests take room in the guard).
pub fn authenticate(
    p: &Presented,
    node: Option<Node>,
    method: &str,
    path: &str,
    body: &[u8],
    now: DateTime<Utc>,
    guard: &ReplayGuard,
) -> Result<Node, AuthRefusal> {
    check_time(p.time, now)?;
    let node = check_node(node)?;
    check_signature(p, method, path, body)?;
    guard.admit(&p.signature, p.time, now)?;
    Ok(node)
}

/// The signatures seen within the window, to refuse a replayed request.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    /// What was seen.
    seen: Mutex<Seen>,
}

/// The signatures seen within the window.
#[derive(Debug, Default)]
struct Seen {
    /// For the lookup.
    set: HashSet<String>,
    /// The same in arrival order with their request times, to forget them once they are
    /// older than the window.
    order: VecDeque<(i64, String)>,
}

impl ReplayGuard {
    /// Admits a signature not seen before; forgets those whose time left the window.
    pub fn admit(&self, signature: &str, time: i64, now: DateTime<Utc>) -> Result<(), AuthRefusal> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let Seen { set, order } = &mut *seen;
        let oldest = now.timestamp() - WINDOW_S;
        while order.front().is_some_and(|(t, _)| *t < oldest) {
            if let Some((_, s)) = order.pop_front() {
                set.remove(&s);
            }
        }
        if set.contains(signature) {
            return Err(AuthRefusal::Replayed);
        }
        if set.len() >= REPLAY_CAPACITY {
            return Err(AuthRefusal::Busy);
        }
        set.insert(signature.to_string());
        order.push_back((time, signature.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::airlog::key::DistrictKey;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn signed(key: &DistrictKey, path: &str, time: i64, body: &[u8]) -> Presented {
        let nonce = "0123456789abcdef0123456789abcdef".to_string();
        Presented {
            node: key.public().hex(),
            time,
            signature: key.sign(&message("GET", path, time, &nonce, body)),
            nonce,
        }
    }

    fn node(key: &DistrictKey) -> Node {
        Node {
            public_key: key.public().hex(),
            station: "vinh-an".into(),
            enrolled_at: t("2026-12-01T00:00:00Z"),
            revoked_at: None,
        }
    }

    const NOW: &str = "2026-12-06T03:00:00Z";

    #[test]
    fn a_request_signed_by_an_enrolled_node_is_its_own() {
        let key = DistrictKey::from_seed([7; 32]);
        let now = t(NOW);
        let p = signed(&key, "/agent/v1/manifest", now.timestamp(), b"");
        let got = authenticate(
            &p,
            Some(node(&key)),
            "GET",
            "/agent/v1/manifest",
            b"",
            now,
            &ReplayGuard::default(),
        );
        assert_eq!(got.unwrap().station, "vinh-an");
    }

    #[test]
    fn the_same_signed_request_twice_is_refused_as_a_replay() {
        let key = DistrictKey::from_seed([7; 32]);
        let now = t(NOW);
        let guard = ReplayGuard::default();
        let p = signed(&key, "/agent/v1/manifest", now.timestamp(), b"");
        let path = "/agent/v1/manifest";
        assert!(authenticate(&p, Some(node(&key)), "GET", path, b"", now, &guard).is_ok());
        assert_eq!(
            authenticate(&p, Some(node(&key)), "GET", path, b"", now, &guard),
            Err(AuthRefusal::Replayed)
        );
    }

    #[test]
    fn a_request_older_or_newer_than_the_window_is_refused() {
        let now = t(NOW);
        assert!(check_time(now.timestamp() - WINDOW_S, now).is_ok());
        assert_eq!(
            check_time(now.timestamp() - WINDOW_S - 1, now),
            Err(AuthRefusal::Stale {
                skew_s: -WINDOW_S - 1
            })
        );
        assert!(matches!(
            check_time(now.timestamp() + 3600, now),
            Err(AuthRefusal::Stale { .. })
        ));
    }

    #[test]
    fn a_signature_over_another_path_or_body_does_not_verify() {
        let key = DistrictKey::from_seed([7; 32]);
        let now = t(NOW).timestamp();
        let p = signed(&key, "/agent/v1/manifest", now, b"");
        assert_eq!(
            check_signature(&p, "GET", "/agent/v1/media/ab", b""),
            Err(AuthRefusal::BadSignature)
        );
        assert_eq!(
            check_signature(&p, "GET", "/agent/v1/manifest", b"x"),
            Err(AuthRefusal::BadSignature)
        );
        assert_eq!(
            check_signature(&p, "POST", "/agent/v1/manifest", b""),
            Err(AuthRefusal::BadSignature)
        );
    }

    #[test]
    fn another_key_cannot_sign_for_a_node() {
        let key = DistrictKey::from_seed([7; 32]);
        let thief = DistrictKey::from_seed([8; 32]);
        let mut p = signed(&thief, "/agent/v1/manifest", t(NOW).timestamp(), b"");
        p.node = key.public().hex();
        assert_eq!(
            check_signature(&p, "GET", "/agent/v1/manifest", b""),
            Err(AuthRefusal::BadSignature)
        );
    }

    #[test]
    fn an_unknown_or_revoked_node_is_refused() {
        let key = DistrictKey::from_seed([7; 32]);
        assert_eq!(check_node(None), Err(AuthRefusal::UnknownNode));
        let mut n = node(&key);
        n.revoked_at = Some(t(NOW));
        assert!(matches!(check_node(Some(n)), Err(AuthRefusal::Revoked(_))));
    }

    #[test]
    fn missing_or_malformed_headers_are_named() {
        let none = Presented::parse(|_| None);
        assert_eq!(none, Err(AuthRefusal::Missing(NODE_HEADER)));
        let bad = Presented::parse(|h| match h {
            NODE_HEADER => Some("zz"),
            _ => Some("1"),
        });
        assert_eq!(bad, Err(AuthRefusal::Malformed(NODE_HEADER)));
    }

    #[test]
    fn signatures_older_than_the_window_are_forgotten() {
        let guard = ReplayGuard::default();
        let then = t(NOW);
        guard.admit("a", then.timestamp(), then).unwrap();
        let later = then + chrono::Duration::seconds(WINDOW_S + 1);
        guard.admit("b", later.timestamp(), later).unwrap();
        let seen = guard.seen.lock().unwrap();
        assert!(!seen.set.contains("a") && seen.set.contains("b"));
    }
}
