//! `loa playout run`: plays a date range and writes the airlog — on a simulated clock as
//! fast as the machine can (renders, tests), or on the wall clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

use crate::daemon::lock::{describe, DataDirLock, LockError};
use crate::library::audio_store::AudioStore;
use crate::playout::service::{run_range, PlayoutError, Range};
use crate::playout::sink::SinkSpec;
use crate::playout::Settings;

use super::library::open;
use super::output::print_json;
use super::Failure;

/// `loa playout` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlayoutCommand {
    /// Play a date range and write the airlog.
    Run(RunArgs),
}

/// Which clock drives a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockKind {
    /// Jump from event to event: a week renders in seconds.
    Simulated,
    /// The wall clock.
    System,
}

/// Flags of `loa playout run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan.
    #[arg(long)]
    plan: PathBuf,
    /// First day, YYYY-MM-DD (station local).
    #[arg(long)]
    from: String,
    /// Last day, YYYY-MM-DD (inclusive).
    #[arg(long)]
    to: String,
    /// simulated or system.
    #[arg(long, value_enum, default_value = "simulated")]
    clock: ClockKind,
    /// wav:DIR, null or device (default: the config's playout.sink).
    #[arg(long)]
    sink: Option<String>,
    /// Only this station.
    #[arg(long)]
    station: Option<String>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

fn date(flag: &str, s: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::input(format!("{flag} '{s}' is not a date (expected YYYY-MM-DD)")))
}

/// Locks the data dir and claims the stations a wall-clock run plays.
async fn claim(
    data_dir: &Path,
    store: &dyn crate::store::Store,
    plan: &crate::plan::Plan,
    station: Option<&str>,
) -> Result<(DataDirLock, crate::store::StationClaim), Failure> {
    const ADDRESS: &str = "none (loa playout run)";
    let lock = DataDirLock::acquire(data_dir, ADDRESS).map_err(|e| match e {
        LockError::Held { .. } => Failure::input(e),
        LockError::Io { .. } => Failure::work(e),
    })?;
    let codes: Vec<String> = plan
        .stations
        .iter()
        .filter(|s| station.is_none_or(|c| c == s.code))
        .map(|s| s.code.clone())
        .collect();
    let claim = store
        .claim_stations(&codes, &describe("loa playout run", ADDRESS))
        .await?;
    Ok((lock, claim))
}

/// Runs a `loa playout` command.
pub async fn run(data_dir: &Path, cmd: PlayoutCommand) -> Result<(), Failure> {
    let PlayoutCommand::Run(a) = cmd;
    let from = date("--from", &a.from)?;
    let to = date("--to", &a.to)?;
    let plan = Arc::new(super::plan::load(&a.plan)?);
    let (config, store) = open(data_dir).await?;
    let key =
        crate::airlog::key::load_for_playout(&config).map_err(|e| Failure::work(e.to_string()))?;
    let settings = Settings::from_config(&config.playout).signed_by(Arc::new(key));
    let sink = match &a.sink {
        Some(s) => s.parse::<SinkSpec>().map_err(Failure::input)?,
        None => config.playout.sink.clone(),
    };
    let bar = super::progress::Bar::steps("phát / slots");
    let range = Range {
        from,
        to,
        station: a.station.clone(),
        sink,
        simulated: a.clock == ClockKind::Simulated,
        capture: config.playout.capture,
        progress: bar.progress(),
    };
    // On the wall clock this is a daemon like `loa serve`: one per data dir and station.
    let held = if a.clock == ClockKind::System {
        Some(claim(data_dir, store.as_ref(), &plan, a.station.as_deref()).await?)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let result = run_range(
        store.clone(),
        plan,
        AudioStore::new(config.audio_dir()),
        &settings,
        &range,
    )
    .await;
    bar.done();
    if let Some((_lock, claim)) = held {
        claim.release().await;
    }
    store.close().await;
    let summary = result.map_err(|e| match e {
        PlayoutError::Refused(m) => Failure::input(m),
        PlayoutError::Sink(e) => Failure::input(e),
        other => Failure::work(other),
    })?;
    if a.json {
        print_json(&summary)?;
    } else {
        let rows: Vec<String> = summary
            .rows
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        let slots: Vec<String> = summary
            .slot_rows
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        println!(
            "{} slot(s) played, {} to {}: items {}; slots {}{}",
            summary.slots,
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y"),
            if rows.is_empty() {
                "none".to_string()
            } else {
                rows.join(", ")
            },
            if slots.is_empty() {
                "none".to_string()
            } else {
                slots.join(", ")
            },
            if summary.recovered > 0 {
                format!(" ({} interrupted row(s) closed first)", summary.recovered)
            } else {
                String::new()
            }
        );
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "playout run finished"
    );
    Ok(())
}
