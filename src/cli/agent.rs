//! `loa agent enroll|run|sync|status` on a commune machine: enrol with the district server
//! once, play the station from the cache (`run`), pull the station's manifest and audio and
//! send the airlog home (`sync`), say what the cache holds. The node's files are under
//! `DATA_DIR/agent/` ([`crate::agent::node`]); its airlog is in the data dir's database
//! (`loa.db` unless `loa.toml` says otherwise).

use std::path::Path;
use std::sync::Arc;

use clap::Subcommand;

use chrono::NaiveDate;

use crate::agent::client::{Client, ClientError};
use crate::agent::node::{AgentFile, NodeDir, NodeError};
use crate::agent::run::{Node, RunError};
use crate::agent::sync::{self, SyncError};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::playout::sink::SinkSpec;
use crate::playout::Settings;

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
    /// Play the station: on the wall clock, the node's daemon (syncs every minute); on a
    /// simulated clock, a date range rendered as fast as possible, then uploaded.
    Run {
        /// simulated or system.
        #[arg(long, value_enum, default_value = "system")]
        clock: super::playout::ClockKind,
        /// First day, YYYY-MM-DD (station local; simulated clock).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD, inclusive (simulated clock).
        #[arg(long)]
        to: Option<String>,
        /// null, wav:DIR or device (default: the config's playout.sink).
        #[arg(long)]
        sink: Option<String>,
        /// Print the result as JSON (simulated clock).
        #[arg(long)]
        json: bool,
    },
    /// Pull the manifest and the missing audio now, and send the airlog home.
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
            let (node, _) = open_node(data_dir, &dir, clock.clone()).await?;
            let report = sync::once(&dir, &node.client, clock.as_ref())
                .await
                .map_err(|e| match e {
                    SyncError::Node(e) => node_failure(e),
                    SyncError::Client(e) => client_failure(e),
                });
            // The airlog goes home even when the manifest could not be read.
            let uploaded = crate::agent::upload::upload(
                node.store.as_ref(),
                &node.station,
                &node.key,
                &node.client,
                clock.as_ref(),
                &crate::agent::status::ClockFile::load(&dir).measurements,
            )
            .await;
            node.store.close().await;
            let report = report?;
            let uploaded = uploaded.map_err(|e| match e {
                crate::agent::upload::UploadError::Client(e) => client_failure(e),
                other => Failure::work(other),
            })?;
            if json {
                let mut v = serde_json::to_value(&report)
                    .map_err(|e| Failure::work(format!("cannot write JSON: {e}")))?;
                v["upload"] = serde_json::to_value(&uploaded)
                    .map_err(|e| Failure::work(format!("cannot write JSON: {e}")))?;
                super::output::print_json(&v)?;
            } else {
                println!(
                    "airlog: {} row(s), {} sent, {} stored by the server",
                    uploaded.rows, uploaded.sent, uploaded.stored
                );
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
        AgentCommand::Run {
            clock: kind,
            from,
            to,
            sink,
            json,
        } => run_node(data_dir, &dir, kind, from, to, sink, json, clock).await,
    }
}

/// The node's config: `loa.toml` when the data dir has one, else the defaults.
fn node_config(data_dir: &Path) -> Result<Config, Failure> {
    match Config::load(data_dir) {
        Ok(c) => Ok(c),
        Err(ConfigError::NotInitialised(..)) => {
            Config::from_toml("", &data_dir.join("loa.toml"), data_dir, std::env::vars())
                .map_err(Failure::input)
        }
        Err(e) => Err(Failure::input(e)),
    }
}

/// The node's key, client, store and settings.
async fn open_node(
    data_dir: &Path,
    dir: &NodeDir,
    clock: Arc<dyn Clock>,
) -> Result<(Node, Config), Failure> {
    let file = dir.agent_file().map_err(node_failure)?;
    let key = Arc::new(dir.key().map_err(node_failure)?);
    let client = Arc::new(
        Client::new(
            &file.server,
            key.clone(),
            clock,
            file.server_fingerprint.as_deref(),
        )
        .map_err(client_failure)?,
    );
    let config = node_config(data_dir)?;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| Failure::work(format!("{}: {e}", data_dir.display())))?;
    let store = crate::store::open(&config.database)
        .await
        .map_err(Failure::work)?;
    let node = Node {
        dir: dir.clone(),
        key,
        client,
        store,
        station: file.station,
        settings: Settings::from_config(&config.playout),
    };
    Ok((node, config))
}

#[allow(clippy::too_many_arguments)]
async fn run_node(
    data_dir: &Path,
    dir: &NodeDir,
    kind: super::playout::ClockKind,
    from: Option<String>,
    to: Option<String>,
    sink: Option<String>,
    json: bool,
    clock: Arc<dyn Clock>,
) -> Result<(), Failure> {
    let date = |flag: &str, s: Option<String>| -> Result<NaiveDate, Failure> {
        let s = s.ok_or_else(|| {
            Failure::input(format!(
                "{flag} YYYY-MM-DD is needed with --clock simulated"
            ))
        })?;
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            Failure::input(format!("{flag} '{s}' is not a date (expected YYYY-MM-DD)"))
        })
    };
    let simulated = kind == super::playout::ClockKind::Simulated;
    let range = if simulated {
        Some((date("--from", from)?, date("--to", to)?))
    } else if from.is_some() || to.is_some() {
        return Err(Failure::input(
            "--from and --to go with --clock simulated; on the wall clock the node plays from now on",
        ));
    } else {
        None
    };
    let spec = sink
        .as_deref()
        .map(|s| s.parse::<SinkSpec>().map_err(Failure::input))
        .transpose()?;
    let (node, config) = open_node(data_dir, dir, clock.clone()).await?;
    let spec = spec.unwrap_or_else(|| config.playout.sink.clone());
    let refused = |e: RunError| match e {
        RunError::Refused(_) => Failure::input(e),
        other => Failure::work(other),
    };
    let Some((from, to)) = range else {
        let _lock = crate::daemon::lock::DataDirLock::acquire(data_dir, "none (loa agent run)")
            .map_err(Failure::input)?;
        let stop = super::serve::stop_signal();
        return crate::agent::run::daemon(node, clock, &spec, &config.playout.capture, stop)
            .await
            .map_err(refused);
    };
    let report = crate::agent::run::render(&node, from, to, &spec, &config.playout.capture).await;
    node.store.close().await;
    let report = report.map_err(refused)?;
    if json {
        return super::output::print_json(&report);
    }
    println!(
        "{} slot(s) played from the cache; sync: {}; upload: {}",
        report.slots,
        report.sync.as_ref().map_or_else(
            || "failed".to_string(),
            |s| format!("manifest {}", s.manifest)
        ),
        report.upload.as_ref().map_or_else(
            || "failed (the rows are kept for the next one)".to_string(),
            |u| format!("{} row(s) sent, {} stored", u.sent, u.stored)
        )
    );
    for e in report.sync_error.iter().chain(&report.upload_error) {
        eprintln!("loa: {e}");
    }
    if let Some(at) = report.past_horizon {
        eprintln!("loa: the manifest ends before {at}: slots from then on played the fallback");
    }
    Ok(())
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
    let clock = crate::agent::status::ClockFile::load(dir);
    let state = crate::agent::clock::judge(chrono::Utc::now(), clock.seen, clock.last());
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
        "clock": {
            "last": clock.last(),
            "seen": clock.seen,
            "state": state,
        },
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
    match clock.last() {
        Some(o) => println!(
            "clock: {:+.1} s from the server's (round trip {} ms), measured {}",
            o.offset_ms as f64 / 1000.0,
            o.rtt_ms,
            o.at
        ),
        None => println!("clock: not measured yet (the daemon measures it every minute)"),
    }
    if state.held() {
        println!("clock: far behind the real time; `loa agent run` holds scheduled playout until it is set");
    }
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
