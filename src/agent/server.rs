//! The district side of the agent protocol, as `loa serve` runs it: enrolment (a one-time
//! token and the node's public key), authenticating every node request
//! ([`super::auth`]), and the node's manifest and media, only ever of the node's own
//! station. The HTTP layer ([`crate::web::agent`]) maps [`AgentError`] to status codes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::auth::{self, AuthRefusal, Presented, ReplayGuard};
use super::manifest::Manifest;
use crate::clock::Clock;
use crate::library::audio_store::AudioStore;
use crate::library::StateChange;
use crate::plan::{Output, Plan, Station};
use crate::store::{EnrolRefusal, Node, Store};

/// Why a node request is refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Not a request of an enrolled node (401).
    #[error(transparent)]
    Auth(#[from] AuthRefusal),
    /// The enrolment token is not usable (401).
    #[error(transparent)]
    Enrol(#[from] EnrolRefusal),
    /// The node asked for another station's data (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing of that name for this node (404).
    #[error("{0}")]
    NotFound(String),
    /// A request the server cannot take (400).
    #[error("{0}")]
    Bad(String),
    /// The station is no longer an agent station of the plan served (409).
    #[error("{0}")]
    Conflict(String),
    /// The server failed (500).
    #[error("{0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for AgentError {
    fn from(e: crate::store::StoreError) -> Self {
        AgentError::Internal(e.to_string())
    }
}

/// What the agent endpoints share.
pub struct AgentService {
    /// The store: nodes, tokens, schedules, the library.
    pub store: Arc<dyn Store>,
    /// The plan served.
    pub plan: Arc<Plan>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Days a manifest covers.
    pub horizon_days: u32,
    /// Where bulletins' audio is.
    pub audio: AudioStore,
    /// Recent signatures, to refuse replays.
    pub guard: ReplayGuard,
    /// Who builds a missing week for a manifest (the daemon's name).
    pub who: String,
    /// The agent stations live: pushes and reports.
    pub live: Arc<super::live::Live>,
}

/// A manifest and where each audio file it names is on this server.
pub struct Served {
    /// The manifest.
    pub manifest: Manifest,
    /// The audio files by SHA-256.
    pub files: BTreeMap<String, PathBuf>,
}

impl AgentService {
    /// Enrols the node whose key signed the request with the token in the body.
    pub async fn enroll(
        &self,
        p: &Presented,
        path: &str,
        body: &[u8],
        token: &str,
    ) -> Result<Node, AgentError> {
        // No replay guard here: anyone can sign with a key of their own, and must not be
        // able to fill the guard that enrolled nodes need. A replayed enrolment finds its
        // token used.
        auth::check_time(p.time, self.clock.now())?;
        auth::check_signature(p, "POST", path, body)?;
        let now = self.clock.now();
        let hash = crate::access::password::token_hash(token);
        let node = self.store.redeem_enrol_token(&hash, &p.node, now).await??;
        tracing::info!(station = %node.station, node = %short(&node.public_key), "a commune machine enrolled");
        Ok(node)
    }

    /// The enrolled node that signed this request.
    pub async fn authenticate(
        &self,
        p: &Presented,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Node, AgentError> {
        let node = self.store.node(&p.node).await?;
        let now = self.clock.now();
        Ok(auth::authenticate(
            p,
            node,
            method,
            path,
            body,
            now,
            &self.guard,
        )?)
    }

    /// The enrolled node that signed a request to the clock (`GET /agent/v1/time`), whatever
    /// the time it carries: a node whose clock is wrong must still be able to learn the
    /// server's. No replay guard either: its answer is the time, which a replay cannot
    /// change or learn anything from.
    pub async fn authenticate_any_time(
        &self,
        p: &Presented,
        method: &str,
        path: &str,
    ) -> Result<Node, AgentError> {
        let node = auth::check_node(self.store.node(&p.node).await?)?;
        auth::check_signature(p, method, path, b"")?;
        Ok(node)
    }

    /// The node's station as the plan has it; refused when it is no longer an agent
    /// station, or when the node asks for another station.
    pub fn station_of(&self, node: &Node, asked: Option<&str>) -> Result<&Station, AgentError> {
        if let Some(other) = asked.filter(|a| *a != node.station) {
            return Err(AgentError::Forbidden(format!(
                "this node plays station '{}'; it cannot read station '{other}'",
                node.station
            )));
        }
        let station = self.plan.station(&node.station).ok_or_else(|| {
            AgentError::Conflict(format!(
                "station '{}' is not in the plan '{}' this server serves",
                node.station, self.plan.name
            ))
        })?;
        if station.output != Output::Agent {
            return Err(AgentError::Conflict(format!(
                "station '{}' has output = \"{}\" in the plan '{}', not \"agent\": this server plays it",
                station.code, station.output, self.plan.name
            )));
        }
        Ok(station)
    }

    /// The manifest of a station from its local today for the horizon, building weeks not
    /// kept yet.
    pub async fn manifest(&self, station: &Station) -> Result<Served, AgentError> {
        self.manifest_for(station, None).await
    }

    /// The manifest of a station from `window`'s first day (none: its local today) for at
    /// least `window`'s days and the horizon ([`MAX_WINDOW_DAYS`] at most): a node rendering
    /// a range on a simulated clock asks for that range.
    pub async fn manifest_for(
        &self,
        station: &Station,
        window: Option<(NaiveDate, u32)>,
    ) -> Result<Served, AgentError> {
        let now = self.clock.now();
        let (today, days) = match window {
            Some((from, days)) if days == 0 || days > MAX_WINDOW_DAYS => {
                return Err(AgentError::Bad(format!(
                    "days={days}: a manifest covers 1 to {MAX_WINDOW_DAYS} days (from {from})"
                )))
            }
            Some((from, days)) => (from, days.max(self.horizon_days)),
            None => (
                now.with_timezone(&station.timezone).date_naive(),
                self.horizon_days,
            ),
        };
        let (from, to) = horizon(station, today, days);
        let built = StateChange {
            by: self.who.clone(),
            at: now,
        };
        let slots = crate::playout::service::slots_between(
            self.store.as_ref(),
            &self.plan,
            station,
            from,
            to,
            &built,
        )
        .await
        .map_err(|e| AgentError::Internal(e.to_string()))?;
        let mut bulletins = Vec::new();
        for id in Manifest::named_ids(&slots, &self.plan) {
            if let Some(b) = self.store.bulletin(&id).await? {
                bulletins.push(b);
            }
        }
        let files = bulletins
            .iter()
            .map(|b| (b.audio.sha256.clone(), self.audio.path_of(&b.audio_path)))
            .collect();
        let manifest = Manifest::build(&self.plan, station, today, days, slots, &bulletins);
        Ok(Served { manifest, files })
    }

    /// Where the audio `sha256` of `station` is: a file of its manifest of today, or of an
    /// approved bulletin meant for the station (a node rendering another range names those);
    /// anything else is not the station's (404).
    pub async fn media_file(&self, station: &Station, sha256: &str) -> Result<PathBuf, AgentError> {
        let served = self.manifest(station).await?;
        if let Some(p) = served.files.get(sha256) {
            return Ok(p.clone());
        }
        let b = self.store.bulletin_by_sha256(sha256).await?;
        match b {
            Some(b)
                if b.state == crate::library::ApprovalState::Approved
                    && (b.meta.targets(&station.code) || self.plan.fallback.contains(&b.id)) =>
            {
                Ok(self.audio.path_of(&b.audio_path))
            }
            _ => Err(AgentError::NotFound(format!(
                "no audio {sha256} for station '{}'",
                station.code
            ))),
        }
    }
}

/// The most days a node may ask a manifest for.
pub const MAX_WINDOW_DAYS: u32 = 62;

/// The instants a manifest of `days` days from local `today` covers: local midnight to
/// local midnight (an hour either way where a zone has no midnight that day).
pub fn horizon(station: &Station, today: NaiveDate, days: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |d: NaiveDate| {
        let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        station
            .timezone
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
    };
    let end = today + Duration::days(i64::from(days));
    (midnight(today), midnight(end))
}

/// Whether a commune machine may be enrolled for station `code` of `plan`: the plan has
/// it, with output = "agent".
pub fn enrollable<'a>(plan: &'a Plan, code: &str) -> Result<&'a Station, String> {
    let station = plan
        .station(code)
        .ok_or_else(|| format!("station '{code}' is not in the plan '{}'", plan.name))?;
    if station.output != Output::Agent {
        return Err(format!(
            "station '{code}' has output = \"{}\" in the plan '{}': only a station with output = \"agent\" is played by a commune machine",
            station.output, plan.name
        ));
    }
    Ok(station)
}

/// The first 16 hex digits of a key, for logs.
fn short(key: &str) -> &str {
    key.get(..16).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(output: &str) -> Plan {
        let text = format!("[plan]\nname = \"Thử\"\nyear = 2026\n\n\
            [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"{output}\"\n\n\
            [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n");
        crate::plan::validate::check(&text, "p.toml").unwrap()
    }

    #[test]
    fn only_an_agent_station_of_the_plan_can_enrol_a_machine() {
        assert!(enrollable(&plan("agent"), "vinh-an").is_ok());
        let e = enrollable(&plan("device"), "vinh-an").unwrap_err();
        assert!(e.contains("output = \"device\""), "{e}");
        let e = enrollable(&plan("agent"), "vinh-phuc").unwrap_err();
        assert!(e.contains("not in the plan"), "{e}");
    }

    #[test]
    fn a_horizon_runs_from_local_midnight_for_its_days() {
        let text = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
            [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
            [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";
        let plan = crate::plan::validate::check(text, "p.toml").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let (from, to) = horizon(&plan.stations[0], day, 7);
        assert_eq!(from.to_rfc3339(), "2026-12-05T17:00:00+00:00");
        assert_eq!(to - from, Duration::days(7));
    }
}
