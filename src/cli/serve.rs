//! `loa serve`: runs the daemon until SIGTERM or Ctrl-C. The only place that listens for
//! signals; the daemon takes its shutdown as a future.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::daemon::{self, DaemonError, Options};
use crate::playout::sink::SinkSpec;

use super::library::open;
use super::Failure;

/// Flags of `loa serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The plan to play (default: serve.plan in loa.toml).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Stations to play, comma-separated (default: serve.stations, else all).
    #[arg(long, value_delimiter = ',')]
    stations: Vec<String>,
    /// device, device:NAME, wav:DIR or null (default: playout.sink).
    #[arg(long)]
    sink: Option<String>,
}

/// Resolves when the process is asked to stop.
pub(crate) async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `loa serve`.
pub async fn run(data_dir: &Path, a: ServeArgs) -> Result<(), Failure> {
    let (config, store) = open(data_dir).await?;
    let key =
        crate::airlog::key::load_for_playout(&config).map_err(|e| Failure::work(e.to_string()))?;
    let plan_path = a
        .plan
        .clone()
        .or_else(|| config.serve.plan.clone())
        .ok_or_else(|| {
            Failure::input("no plan to play: give --plan PLAN.toml or set serve.plan in loa.toml")
        })?;
    let plan = Arc::new(super::plan::load(&plan_path)?);
    let sink = a
        .sink
        .as_deref()
        .map(str::parse::<SinkSpec>)
        .transpose()
        .map_err(Failure::input)?;
    let stations = if a.stations.is_empty() {
        config.serve.stations.clone()
    } else {
        a.stations.clone()
    };
    let options = Options {
        plan,
        stations,
        sink,
        signer: Some(Arc::new(key)),
    };
    daemon::run(config, store, options, stop_signal())
        .await
        .map_err(|e| match e {
            DaemonError::Refused(m) => Failure::input(m),
            DaemonError::Locked(e @ crate::daemon::lock::LockError::Held { .. }) => {
                Failure::input(e)
            }
            DaemonError::Store(e @ crate::store::StoreError::Claimed { .. }) => Failure::input(e),
            DaemonError::Sink(e) => Failure::input(e),
            other => Failure::work(other),
        })
}
