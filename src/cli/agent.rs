//! `loa agent enroll|sync|status` on a commune machine: enrol with the district server
//! once, pull the station's manifest and audio, say what the cache holds. The node's files
//! are under `DATA_DIR/agent/` ([`crate::agent::node`]).

use std::path::Path;
use std::sync::Arc;

use clap::Subcommand;

use crate::agent::client::{Client, ClientError};
use crate::agent::node::{AgentFile, NodeDir, NodeError};
use crate::agent::sync::{self, SyncError};
use crate::clock::{Clock, SystemClock};

use super::Failure;

/// `loa agent …`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Enrol this machine with the district server (creates its key, keeps the URL).
    Enroll {
        /// The district server, e.g. http://10.0.0.5:7010.
        #[arg(long)]
        server: String,
        /// The one-time token from `loa station enroll CODE` on the server.
        #[arg(long, env = "LOA_AGENT_TOKEN", hide_env_values = true)]
        token: String,
        /// Trust only the server certificate with this SHA-256 (printed by `loa station
        /// enroll` on a server with http.tls_cert); default: the system's authorities.
        #[arg(long)]
        fingerprint: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pull the manifest and the missing audio now.
    Sync {
        /// Sync once and exit (the only mode in this version).
        #[arg(long)]
        once: bool,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What this machine holds: its enrolment, the manifest, the cache.
    Status {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `loa agent` command.
pub async fn run(data_dir: &Path, cmd: AgentCommand) -> Result<(), Failure> {
    let dir = NodeDir::of(data_dir);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cmd {
        AgentCommand::Enroll {
            server,
            token,
            fingerprint,
            json,
        } => {
            let pin = fingerprint
                .as_deref()
                .map(crate::agent::pin::parse)
                .transpose()
                .map_err(Failure::input)?;
            enroll(&dir, &server, &token, pin, json, clock).await
        }
        AgentCommand::Sync { once, json } => {
            if !once {
                return Err(Failure::input(
                    "this version syncs only on demand: run `loa agent sync --once`",
                ));
            }
            let file = dir.agent_file().map_err(node_failure)?;
            let key = Arc::new(dir.key().map_err(node_failure)?);
            let client = Client::new(
                &file.server,
                key,
                clock.clone(),
                file.server_fingerprint.as_deref(),
            )
            .map_err(client_failure)?;
            let report = sync::once(&dir, &client, clock.as_ref())
                .await
                .map_err(|e| match e {
                    SyncError::Node(e) => node_failure(e),
                    SyncError::Client(e) => client_failure(e),
                })?;
            if json {
                super::output::print_json(&report)?;
            } else {
                println!(
                    "manifest {} ({} slot(s)); audio: {} named, {} cached, {} fetched ({} resumed, {} bytes), {} failed",
                    report.manifest,
                    report.slots,
                    report.media,
                    report.cached,
                    report.fetched.len(),
                    report.resumed,
                    report.bytes,
                    report.failed.len()
                );
                for f in &report.failed {
                    eprintln!("loa: audio {}: {}", f.sha256, f.reason);
                }
            }
            if report.failed.is_empty() {
                Ok(())
            } else {
                Err(Failure::work(format!(
                    "{} audio file(s) are not in the cache yet",
                    report.failed.len()
                )))
            }
        }
        AgentCommand::Status { json } => status(&dir, json),
    }
}

async fn enroll(
    dir: &NodeDir,
    server: &str,
    token: &str,
    pin: Option<String>,
    json: bool,
    clock: Arc<dyn Clock>,
) -> Result<(), Failure> {
    if let Ok(f) = dir.agent_file() {
        return Err(Failure::input(format!(
            "this machine is already enrolled for station '{}' at {}; to enrol it again, revoke it on the server and remove {}",
            f.station,
            f.server,
            dir.config_path().display()
        )));
    }
    let key = Arc::new(dir.key().map_err(node_failure)?);
    let client = Client::new(server, key.clone(), clock, pin.as_deref()).map_err(client_failure)?;
    let enrolled = client.enroll(token).await.map_err(client_failure)?;
    let file = AgentFile {
        server: client.server().to_string(),
        station: enrolled.station.clone(),
        node: key.public_hex(),
        enrolled_at: enrolled.enrolled_at,
        server_fingerprint: pin,
    };
    dir.write_agent_file(&file).map_err(node_failure)?;
    if json {
        return super::output::print_json(&serde_json::json!({
            "station": file.station, "node": file.node, "server": file.server,
            "enrolled_at": file.enrolled_at,
        }));
    }
    println!(
        "đã ghi danh / enrolled: station {} at {} (node {})",
        file.station, file.server, file.node
    );
    Ok(())
}

/// What the machine holds, from its files only (no request to the server).
fn status(dir: &NodeDir, json: bool) -> Result<(), Failure> {
    let file = dir.agent_file().map_err(node_failure)?;
    let kept = dir.kept_manifest().map_err(node_failure)?;
    let (named, cached): (Vec<String>, Vec<bool>) = kept
        .as_ref()
        .map(|k| {
            k.manifest
                .media()
                .keys()
                .map(|s| (s.to_string(), dir.media_path(s).exists()))
                .unzip()
        })
        .unwrap_or_default();
    let missing: Vec<&String> = named
        .iter()
        .zip(&cached)
        .filter(|(_, c)| !**c)
        .map(|(s, _)| s)
        .collect();
    let value = serde_json::json!({
        "station": file.station,
        "server": file.server,
        "node": file.node,
        "enrolled_at": file.enrolled_at,
        "manifest": kept.as_ref().map(|k| serde_json::json!({
            "etag": k.etag,
            "received_at": k.received_at,
            "from": k.manifest.from,
            "days": k.manifest.days,
            "slots": k.manifest.slots.len(),
        })),
        "media": named.len(),
        "missing": missing,
    });
    if json {
        return super::output::print_json(&value);
    }
    println!(
        "station {} at {} (node {})",
        file.station, file.server, file.node
    );
    match &kept {
        Some(k) => println!(
            "manifest from {} for {} day(s), {} slot(s), received {}",
            k.manifest.from,
            k.manifest.days,
            k.manifest.slots.len(),
            k.received_at
        ),
        None => println!("no manifest yet: run `loa agent sync --once`"),
    }
    println!("audio: {} named, {} missing", named.len(), missing.len());
    Ok(())
}

fn node_failure(e: NodeError) -> Failure {
    match e {
        NodeError::NotEnrolled(_) => Failure::input(e),
        other => Failure::work(other),
    }
}

fn client_failure(e: ClientError) -> Failure {
    match e {
        ClientError::BadUrl(_) => Failure::input(e),
        ClientError::Refused { status, .. } if (400..500).contains(&status) => Failure::input(e),
        other => Failure::work(other),
    }
}
