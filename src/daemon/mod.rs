//! `loa serve`: the daemon. Plays every station it serves on the wall clock (one task and
//! one [`StationPlayer`] per station), keeps the next week built ahead, serves the control
//! API, and stops cleanly when `shutdown` resolves: the item on air is logged
//! `interrupted` with its played time and nothing is left open.
//!
//! Shutdown is a parameter; only the command line listens for signals.
//!
//! One daemon per data dir ([`lock`]) and, on a shared PostgreSQL server, one per station
//! ([`crate::store::claim`]): both are taken before recovery touches a row.

pub mod lock;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use tokio::sync::{mpsc, watch};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::library::audio_store::AudioStore;
use crate::plan::Plan;
pub use crate::playout::control::StationHandle;
use crate::playout::control::{Control, NextSlot, Status, Waited};
use crate::playout::recovery::recover;
use crate::playout::seams::{KeptSchedules, Programme, StoreAirlog};
use crate::playout::sink::{self, SinkError, SinkSpec};
use crate::playout::StationPlayer;
use crate::store::Store;

/// What the daemon serves.
#[derive(Debug, Clone)]
pub struct Options {
    /// The plan.
    pub plan: Arc<Plan>,
    /// Stations to play (empty: all of the plan's).
    pub stations: Vec<String>,
    /// The sink (default: the config's).
    pub sink: Option<SinkSpec>,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Bad options.
    #[error("{0}")]
    Refused(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// No sink could be opened.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// Another daemon runs on the data dir (or the lock file cannot be written).
    #[error(transparent)]
    Locked(#[from] lock::LockError),
    /// The control API could not listen.
    #[error("cannot listen on {bind} for the control API: {source}")]
    Listen {
        /// The address.
        bind: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Whether this Linux machine has no sound card at all (no ALSA playback device, no sound
/// server socket); trying to open one would only fill the log with ALSA's complaints.
fn no_sound_card() -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let alsa = std::fs::read_dir("/dev/snd")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("pcmC"))
        })
        .unwrap_or(false);
    let server = std::env::var_os("PULSE_SERVER").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| {
            let d = PathBuf::from(d);
            d.join("pulse/native").exists() || d.join("pipewire-0").exists()
        });
    !alsa && !server
}

/// Opens a station's sink; a missing sound card falls back to WAV capture in the data dir.
fn open_sink(
    spec: &SinkSpec,
    config: &Config,
    fallback_said: &mut bool,
) -> Result<Box<dyn sink::Sink>, SinkError> {
    let tried = if *fallback_said && matches!(spec, SinkSpec::Device(_)) {
        // Once there is no device, there is none for the next station either.
        Err(SinkError::NoDevice("see above".into()))
    } else if matches!(spec, SinkSpec::Device(None)) && no_sound_card() {
        Err(SinkError::NoDevice(
            "no ALSA playback device and no sound server".into(),
        ))
    } else {
        sink::open_with(
            spec,
            config.playout.settings.format,
            &config.playout.capture,
        )
    };
    match tried {
        Err(SinkError::NoDevice(why)) => {
            let dir: PathBuf = config.data_dir.join("capture");
            if !*fallback_said {
                tracing::warn!(
                    "no sound card ({why}): playing to WAV files in {}",
                    dir.display()
                );
                *fallback_said = true;
            }
            sink::open_with(
                &SinkSpec::Wav(dir),
                config.playout.settings.format,
                &config.playout.capture,
            )
        }
        other => other,
    }
}

/// Writes the rows an earlier stop kept in the journal; when the store still refuses them
/// they stay there for the next start, and playout goes on.
pub async fn replay_journal(
    store: &dyn Store,
    path: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
) {
    match crate::playout::journal::replay(store, path, now).await {
        Ok(r) if r.rows + r.closes + r.skipped > 0 => tracing::warn!(
            rows = r.rows,
            closings = r.closes,
            already_written = r.skipped,
            journal = %path.display(),
            "wrote the airlog rows an earlier stop kept in the journal (marked written late)"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "the airlog journal was not replayed"),
    }
}

/// Shows the slot instance a station waits for in its status (`loa ctl status`).
fn set_next_slot(status: &Mutex<Status>, slot: Option<&crate::schedule::SlotPlaylist>) {
    status.lock().unwrap_or_else(|e| e.into_inner()).next_slot = slot.map(|s| NextSlot {
        name: s.name.clone(),
        start: s.start,
    });
}

/// Runs the daemon until `shutdown` resolves.
pub async fn run(
    config: Config,
    store: Arc<dyn Store>,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let plan = options.plan.clone();
    let stations: Vec<_> = plan
        .stations
        .iter()
        .filter(|s| options.stations.is_empty() || options.stations.contains(&s.code))
        .cloned()
        .collect();
    for code in &options.stations {
        if plan.station(code).is_none() {
            return Err(DaemonError::Refused(format!(
                "station '{code}' is not in the plan '{}'",
                plan.name
            )));
        }
    }
    let address = match &config.http.token {
        Some(_) => format!("http://{}", config.http.bind),
        None => "off (http.token is empty)".to_string(),
    };
    let _lock = lock::DataDirLock::acquire(&config.data_dir, &address)?;
    let codes: Vec<String> = stations.iter().map(|s| s.code.clone()).collect();
    let claim = store
        .claim_stations(&codes, &lock::describe("loa serve", &address))
        .await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    replay_journal(store.as_ref(), &config.airlog_journal(), clock.now()).await;
    // A database that cannot be written (read-only, full) must not keep the stations silent:
    // the open rows stay open for the next start, and playout goes on.
    let recovered = recover(store.as_ref(), clock.now())
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "rows left open by a crash cannot be closed now; they are closed at a later start");
            Default::default()
        });
    let n: usize = recovered.values().map(Vec::len).sum();
    if n > 0 {
        tracing::warn!(
            rows = n,
            "closed airlog rows left open by a crash or power cut as interrupted"
        );
    }
    let spec = options
        .sink
        .clone()
        .unwrap_or_else(|| config.playout.sink.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut handles = BTreeMap::new();
    // Every station's events, for the control API's event stream.
    let (events, _) = tokio::sync::broadcast::channel(1024);
    let mut tasks = Vec::new();
    let mut fallback_said = false;
    // Station tasks alive; the watchdog is fed only while all of them are.
    let alive = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let programme = Arc::new(KeptSchedules {
        store: store.clone(),
        plan: plan.clone(),
        who: config.playout.settings.who.clone(),
    });
    let lib = programme.library().await?;
    for station in stations {
        let sink = open_sink(&spec, &config, &mut fallback_said)?;
        let (tx, rx) = mpsc::channel(16);
        let mut player = StationPlayer::new(
            station.clone(),
            plan.clone(),
            Arc::new(StoreAirlog(store.clone())),
            clock.clone(),
            AudioStore::new(config.audio_dir()),
            lib.clone(),
            sink,
            config.playout.settings.clone(),
        )
        .with_control(Control {
            commands: rx,
            shutdown: stop_rx.clone(),
        })
        .with_events(events.clone());
        player.queue_makeups(programme.makeups(&station.code, clock.now()).await?);
        handles.insert(
            station.code.clone(),
            StationHandle {
                name: station.name.clone(),
                commands: tx,
                status: player.status(),
            },
        );
        let programme = programme.clone();
        let clock = clock.clone();
        let ahead = i64::from(config.serve.build_ahead_days);
        let alive_here = alive.clone();
        let status = player.status();
        alive.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tasks.push(tokio::spawn(async move {
            /// Counts the task out however it ends (return or panic).
            struct Alive(Arc<std::sync::atomic::AtomicUsize>);
            impl Drop for Alive {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let _alive = Alive(alive_here);
            // The start of the last slot instance played: each plays once.
            let mut played: Option<chrono::DateTime<chrono::Utc>> = None;
            loop {
                if player.is_stopping() {
                    break;
                }
                let now = clock.now();
                if let Ok(l) = programme.library().await {
                    player.set_library(l);
                }
                // Looking `ahead` days past today builds next week's playlists that early.
                let until = now + Duration::days(1 + ahead);
                let next = match programme.slots(&station, now, until, now).await {
                    Ok(slots) => slots.into_iter().find(|s| played.is_none_or(|p| s.start.with_timezone(&chrono::Utc) > p)),
                    Err(e) => {
                        tracing::error!(station = %station.code, error = %e, "cannot read or build the schedule; retrying in a minute");
                        if player.idle_until(now + Duration::minutes(1)).await == Waited::Shutdown {
                            break;
                        }
                        continue;
                    }
                };
                set_next_slot(&status, next.as_ref());
                match next {
                    Some(slot) => {
                        played = Some(slot.start.with_timezone(&chrono::Utc));
                        if let Err(e) = player.play_slot(&slot).await {
                            tracing::error!(station = %station.code, error = %e, "slot failed");
                        }
                    }
                    None => {
                        if player.idle_until(now + Duration::hours(1)).await == Waited::Shutdown {
                            break;
                        }
                    }
                }
            }
            player.finish().await;
        }));
    }
    let handles = Arc::new(handles);
    let api = match &config.http.token {
        Some(token) => {
            let listener = tokio::net::TcpListener::bind(config.http.bind)
                .await
                .map_err(|source| DaemonError::Listen {
                    bind: config.http.bind,
                    source,
                })?;
            let state = crate::web::AppState {
                stations: handles.clone(),
                store: store.clone(),
                token: token.clone(),
                events: events.clone(),
            };
            let mut stop = stop_rx.clone();
            tracing::info!("control API on http://{}", config.http.bind);
            Some(tokio::spawn(async move {
                let app = crate::web::router(state);
                crate::web::serve::serve(listener, app, async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
            }))
        }
        None => {
            tracing::warn!("http.token is empty: the control API is off");
            None
        }
    };
    let count = handles.len();
    tracing::info!(stations = count, plan = %plan.name, "loa serve is playing");
    crate::notify::ready(&format!("playing {count} station(s) of {}", plan.name));
    let watchdog = crate::notify::watchdog_interval().map(|every| {
        let alive = alive.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                if alive.load(std::sync::atomic::Ordering::SeqCst) == count {
                    crate::notify::watchdog_ping();
                } else {
                    tracing::error!("a station task has stopped; no longer feeding the watchdog so systemd restarts loa");
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        })
    });
    shutdown.await;
    tracing::info!("stopping: closing what is on air");
    crate::notify::stopping();
    let _ = stop_tx.send(true);
    if let Some(w) = watchdog {
        let _ = w.await;
    }
    for t in tasks {
        let _ = t.await;
    }
    if let Some(api) = api {
        let _ = api.await;
    }
    claim.release().await;
    store.close().await;
    Ok(())
}
