//! Commune machines (`loa agent`) in the store: the nodes, each known by its Ed25519 public
//! key and bound to one station, and the one-time tokens that enrol them (only their
//! SHA-256 is kept). [`NodeStore`] is part of every [`super::Store`]; both backends get it
//! from [`impl_node_store!`]. Redeeming a token is one write transaction: the token is
//! used, the station's previous node (a replaced machine) is revoked and the new one is
//! registered, or nothing changes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// An enrolled commune machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Its Ed25519 public key, 64 hex digits: how every request names the node.
    pub public_key: String,
    /// The one station it plays and may read.
    pub station: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When `loa station revoke` (or a newer node of the station) ended it.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A one-time enrolment token as stored: its hash, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrolToken {
    /// SHA-256 of the token's text, hex.
    pub token_hash: String,
    /// The station it enrols a node for.
    pub station: String,
    /// Who issued it (the operator of the district machine).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// After this it enrols nothing.
    pub expires_at: DateTime<Utc>,
}

/// Why a token enrols no node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnrolRefusal {
    /// No token has that text.
    #[error("the enrolment token is not known to this server")]
    Unknown,
    /// It enrolled a node already.
    #[error(
        "the enrolment token was already used; issue a new one with `loa station enroll CODE`"
    )]
    Used,
    /// It expired.
    #[error("the enrolment token has expired; issue a new one with `loa station enroll CODE`")]
    Expired,
    /// That public key belongs to an enrolled (or revoked) node already.
    #[error(
        "this node's key is already enrolled; a revoked or re-enrolled machine needs a new key"
    )]
    KeyTaken,
}

/// Whether a stored token may enrol a node at `now`: unused and not expired (the token is
/// valid up to and including its expiry instant).
pub fn token_usable(
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), EnrolRefusal> {
    if used_at.is_some() {
        return Err(EnrolRefusal::Used);
    }
    if now > expires_at {
        return Err(EnrolRefusal::Expired);
    }
    Ok(())
}

/// What `revoke_station` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Revoked {
    /// Nodes revoked.
    pub nodes: u64,
    /// Unused enrolment tokens dropped.
    pub tokens: u64,
}

/// A node's last status report as kept (migration 0015, `agent_status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReport {
    /// The station.
    pub station: String,
    /// The node that sent it (public key, hex).
    pub node: String,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// The node's clock minus the server's, ms, as the node measured it.
    pub clock_offset_ms: Option<i64>,
    /// The report, JSON.
    pub report: String,
}

/// The nodes and their enrolment tokens.
#[async_trait]
pub trait NodeStore: Send + Sync {
    /// Keeps a new enrolment token (its hash).
    async fn add_enrol_token(&self, token: &NewEnrolToken) -> Result<(), StoreError>;

    /// Redeems a token for a node with `public_key` at `now`, in one transaction: the token
    /// is used, the station's active node (if any) revoked, the new node registered. A
    /// refusal changes nothing.
    async fn redeem_enrol_token(
        &self,
        token_hash: &str,
        public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Node, EnrolRefusal>, StoreError>;

    /// A node by its public key (revoked ones too).
    async fn node(&self, public_key: &str) -> Result<Option<Node>, StoreError>;

    /// A station's nodes, oldest first.
    async fn station_nodes(&self, station: &str) -> Result<Vec<Node>, StoreError>;

    /// Revokes a station's active nodes and drops its unused tokens.
    async fn revoke_station(
        &self,
        station: &str,
        now: DateTime<Utc>,
    ) -> Result<Revoked, StoreError>;

    /// Keeps a node's status report in place of its station's previous one.
    async fn keep_node_report(&self, report: &KeptReport) -> Result<(), StoreError>;

    /// The last report of every station that has one, by station code.
    async fn node_reports(&self) -> Result<Vec<KeptReport>, StoreError>;
}

pub(crate) const ADD_TOKEN: &str = "INSERT INTO agent_enrol_tokens \
     (token_hash, station, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const TOKEN: &str =
    "SELECT station, expires_at, used_at FROM agent_enrol_tokens WHERE token_hash = $1";
pub(crate) const USE_TOKEN: &str =
    "UPDATE agent_enrol_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL";
pub(crate) const NODE: &str =
    "SELECT public_key, station, enrolled_at, revoked_at FROM agent_nodes WHERE public_key = $1";
pub(crate) const STATION_NODES: &str = "SELECT public_key, station, enrolled_at, revoked_at \
     FROM agent_nodes WHERE station = $1 ORDER BY enrolled_at, public_key";
pub(crate) const REVOKE_NODES: &str =
    "UPDATE agent_nodes SET revoked_at = $2 WHERE station = $1 AND revoked_at IS NULL";
pub(crate) const DROP_TOKENS: &str =
    "DELETE FROM agent_enrol_tokens WHERE station = $1 AND used_at IS NULL";
pub(crate) const ADD_NODE: &str =
    "INSERT INTO agent_nodes (public_key, station, enrolled_at) VALUES ($1, $2, $3)";

pub(crate) const KEEP_REPORT: &str = "INSERT INTO agent_status \
     (station, node, received_at, clock_offset_ms, report) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (station) DO UPDATE SET node = excluded.node, \
     received_at = excluded.received_at, clock_offset_ms = excluded.clock_offset_ms, \
     report = excluded.report";
pub(crate) const REPORTS: &str = "SELECT station, node, received_at, clock_offset_ms, report \
     FROM agent_status ORDER BY station";

/// A node row as stored.
pub(crate) type RawNode = (String, String, String, Option<String>);

/// Reads a stored instant.
pub(crate) fn instant(text: &str, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            id: what.to_string(),
            reason: format!("bad instant '{text}': {e}"),
        })
}

/// A stored node row as a [`Node`].
pub(crate) fn node_of(raw: RawNode) -> Result<Node, StoreError> {
    let (public_key, station, enrolled, revoked) = raw;
    let what = format!("agent node {public_key}");
    Ok(Node {
        enrolled_at: instant(&enrolled, &what)?,
        revoked_at: revoked.as_deref().map(|r| instant(r, &what)).transpose()?,
        public_key,
        station,
    })
}

/// Implements [`NodeStore`] for `$ty` (a struct with a sqlx `pool` of `$db`, a `sql()`
/// placeholder converter and `begin_write`/`commit_write` in scope).
macro_rules! impl_node_store {
    ($ty:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::nodes::NodeStore for $ty {
            async fn add_enrol_token(
                &self,
                t: &$crate::store::nodes::NewEnrolToken,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::rows::instant_text;
                let mut tx = begin_write(&self.pool).await?;
                sqlx::query::<$db>(&sql($crate::store::nodes::ADD_TOKEN))
                    .bind(&t.token_hash)
                    .bind(&t.station)
                    .bind(&t.created_by)
                    .bind(instant_text(t.created_at))
                    .bind(instant_text(t.expires_at))
                    .execute(&mut *tx)
                    .await?;
                commit_write(tx).await?;
                Ok(())
            }

            async fn redeem_enrol_token(
                &self,
                token_hash: &str,
                public_key: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<
                Result<$crate::store::nodes::Node, $crate::store::nodes::EnrolRefusal>,
                $crate::store::StoreError,
            > {
                use $crate::store::nodes::{self as n, EnrolRefusal};
                use $crate::store::rows::instant_text;
                let mut tx = begin_write(&self.pool).await?;
                let token = sqlx::query_as::<$db, (String, String, Option<String>)>(&sql(n::TOKEN))
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                let refused = match &token {
                    None => Some(EnrolRefusal::Unknown),
                    Some((_, expires, used)) => {
                        let what = "agent enrolment token";
                        let used = used.as_deref().map(|u| n::instant(u, what)).transpose()?;
                        n::token_usable(n::instant(expires, what)?, used, now).err()
                    }
                };
                let taken = sqlx::query_as::<$db, n::RawNode>(&sql(n::NODE))
                    .bind(public_key)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                let refused = refused.or(taken.then_some(EnrolRefusal::KeyTaken));
                let (Some((station, _, _)), None) = (token, refused) else {
                    commit_write(tx).await?;
                    return Ok(Err(refused.unwrap_or(EnrolRefusal::Unknown)));
                };
                let at = instant_text(now);
                sqlx::query::<$db>(&sql(n::USE_TOKEN))
                    .bind(token_hash)
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>(&sql(n::REVOKE_NODES))
                    .bind(&station)
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>(&sql(n::ADD_NODE))
                    .bind(public_key)
                    .bind(&station)
                    .bind(&at)
                    .execute(&mut *tx)
                    .await?;
                commit_write(tx).await?;
                Ok(Ok(n::Node {
                    public_key: public_key.to_string(),
                    station,
                    enrolled_at: n::instant(&at, "agent node")?,
                    revoked_at: None,
                }))
            }

            async fn node(
                &self,
                public_key: &str,
            ) -> Result<Option<$crate::store::nodes::Node>, $crate::store::StoreError> {
                use $crate::store::nodes as n;
                sqlx::query_as::<$db, n::RawNode>(&sql(n::NODE))
                    .bind(public_key)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(n::node_of)
                    .transpose()
            }

            async fn station_nodes(
                &self,
                station: &str,
            ) -> Result<Vec<$crate::store::nodes::Node>, $crate::store::StoreError> {
                use $crate::store::nodes as n;
                sqlx::query_as::<$db, n::RawNode>(&sql(n::STATION_NODES))
                    .bind(station)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(n::node_of)
                    .collect()
            }

            async fn revoke_station(
                &self,
                station: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::store::nodes::Revoked, $crate::store::StoreError> {
                use $crate::store::nodes as n;
                let mut tx = begin_write(&self.pool).await?;
                let nodes = sqlx::query::<$db>(&sql(n::REVOKE_NODES))
                    .bind(station)
                    .bind($crate::store::rows::instant_text(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let tokens = sqlx::query::<$db>(&sql(n::DROP_TOKENS))
                    .bind(station)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                commit_write(tx).await?;
                Ok(n::Revoked { nodes, tokens })
            }

            async fn keep_node_report(
                &self,
                r: &$crate::store::nodes::KeptReport,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = begin_write(&self.pool).await?;
                sqlx::query::<$db>(&sql($crate::store::nodes::KEEP_REPORT))
                    .bind(&r.station)
                    .bind(&r.node)
                    .bind($crate::store::rows::instant_text(r.received_at))
                    .bind(r.clock_offset_ms)
                    .bind(&r.report)
                    .execute(&mut *tx)
                    .await?;
                commit_write(tx).await?;
                Ok(())
            }

            async fn node_reports(
                &self,
            ) -> Result<Vec<$crate::store::nodes::KeptReport>, $crate::store::StoreError> {
                use $crate::store::nodes as n;
                sqlx::query_as::<$db, (String, String, String, Option<i64>, String)>(&sql(
                    n::REPORTS,
                ))
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(station, node, at, clock_offset_ms, report)| {
                    Ok(n::KeptReport {
                        received_at: n::instant(&at, &format!("agent status of {station}"))?,
                        station,
                        node,
                        clock_offset_ms,
                        report,
                    })
                })
                .collect()
            }
        }
    };
}
pub(crate) use impl_node_store;

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_unused_token_enrols_until_and_at_its_expiry() {
        let expires = t("2026-12-06T10:00:00Z");
        assert_eq!(
            token_usable(expires, None, t("2026-12-06T09:00:00Z")),
            Ok(())
        );
        assert_eq!(token_usable(expires, None, expires), Ok(()));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let expires = t("2026-12-06T10:00:00Z");
        assert_eq!(
            token_usable(expires, None, t("2026-12-06T10:00:01Z")),
            Err(EnrolRefusal::Expired)
        );
    }

    #[test]
    fn a_used_token_is_refused_even_before_it_expires() {
        let expires = t("2026-12-06T10:00:00Z");
        let used = Some(t("2026-12-06T08:00:00Z"));
        assert_eq!(
            token_usable(expires, used, t("2026-12-06T09:00:00Z")),
            Err(EnrolRefusal::Used)
        );
    }
}
