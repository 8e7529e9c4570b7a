//! `loa serve`: the daemon. Plays every station it serves on the wall clock (one task and
//! one [`StationPlayer`] per station), keeps the next week built ahead, serves the control
//! API, and stops cleanly when `shutdown` resolves: the item on air is logged
//! `interrupted` with its played time and nothing is left open.
//!
//! The players run on threads of their own ([`PlayoutThreads`]), apart from the HTTP
//! workers. Shutdown is a parameter; only the command line listens for signals.
//!
//! One daemon per data dir ([`lock`]) and, on a shared PostgreSQL server, one per station
//! ([`crate::store::claim`]): both are taken before recovery touches a row.

pub mod lock;
pub mod memory;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::airlog::key::DistrictKey;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::library::audio_store::AudioStore;
use crate::library::catalogue::Catalogue;
use crate::plan::{Output, Plan, Station};
pub use crate::playout::control::StationHandle;
use crate::playout::control::{Control, Event};
use crate::playout::recovery::recover;
use crate::playout::seams::{KeptSchedules, Programme, StoreAirlog};
use crate::playout::sink::{self, SinkError, SinkSpec};
use crate::playout::{Settings, StationPlayer};
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
    /// The district key that signs every station's chain head (None: heads unsigned).
    pub signer: Option<Arc<DistrictKey>>,
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
    /// Playout's own threads could not be started.
    #[error("cannot start the playout threads: {0}")]
    Threads(std::io::Error),
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
        sink::open_with(spec, config.playout.format, &config.playout.capture)
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
                config.playout.format,
                &config.playout.capture,
            )
        }
        other => other,
    }
}

/// Runs the daemon until `shutdown` resolves: takes the data dir and the stations, replays
/// the journal, closes what a crash left open, starts every station and the control API,
/// and at the stop closes what is on air and lets the stations go.
pub async fn run(
    config: Config,
    store: Arc<dyn Store>,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let plan = options.plan.clone();
    let stations = stations_to_play(&plan, &options.stations)?;
    let tls = match (&config.http.token, &config.http.tls) {
        (Some(_), Some(files)) => {
            Some(crate::web::tls::acceptor(files).map_err(DaemonError::Refused)?)
        }
        _ => None,
    };
    if config.http.token.is_some() {
        if let Some(why) = config.http.exposure_refusal() {
            return Err(DaemonError::Refused(why));
        }
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let address = match &config.http.token {
        Some(_) => format!("{scheme}://{}", config.http.bind),
        None => "off (http.token is empty)".to_string(),
    };
    let _lock = lock::DataDirLock::acquire(&config.data_dir, &address)?;
    let codes: Vec<String> = stations.iter().map(|s| s.code.clone()).collect();
    let claim = store
        .claim_stations(&codes, &lock::describe("loa serve", &address))
        .await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let journal = config.airlog_journal();
    crate::playout::journal::replay_at_start(store.as_ref(), &journal, clock.now()).await;
    close_crashed_rows(store.as_ref(), clock.now()).await;
    let (stop_tx, stop_rx) = watch::channel(false);
    let playout = PlayoutThreads::start()?;
    let started = Started::stations(
        &config,
        &store,
        &options,
        stations,
        clock.clone(),
        &stop_rx,
        playout.handle(),
    )
    .await?;
    let api = started
        .control_api(&config, &store, &options, &clock, tls, &stop_rx)
        .await?;
    // The stations this daemon plays (not those of commune machines): the watchdog counts
    // their tasks.
    let count = started
        .handles
        .values()
        .filter(|h| h.played_by == crate::playout::control::PlayedBy::ThisDaemon)
        .count();
    tracing::info!(stations = count, plan = %plan.name, "loa serve is playing");
    crate::notify::ready(&format!("playing {count} station(s) of {}", plan.name));
    let watchdog = feed_watchdog(started.alive.clone(), count, stop_rx.clone());
    let tidy = memory::keep_giving_back(stop_rx.clone());
    shutdown.await;
    tracing::info!("stopping: closing what is on air");
    crate::notify::stopping();
    let _ = stop_tx.send(true);
    for task in watchdog
        .into_iter()
        .chain(started.tasks)
        .chain(api)
        .chain([tidy])
    {
        let _ = task.await;
    }
    drop(playout);
    claim.release().await;
    store.close().await;
    Ok(())
}

/// The stations' players run on threads of their own (a second tokio runtime), not on the
/// workers that answer HTTP: a console page that computes for a while, or fifty of them at
/// once, holds an HTTP worker, never the task that starts a slot on time.
struct PlayoutThreads(Option<tokio::runtime::Runtime>);

impl PlayoutThreads {
    /// Two worker threads named `loa-playout`.
    fn start() -> Result<PlayoutThreads, DaemonError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("loa-playout")
            .enable_all()
            .build()
            .map_err(DaemonError::Threads)?;
        Ok(PlayoutThreads(Some(rt)))
    }

    fn handle(&self) -> tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("running until dropped")
            .handle()
            .clone()
    }
}

impl Drop for PlayoutThreads {
    fn drop(&mut self) {
        // Dropped from inside the daemon's own runtime, where blocking is not allowed; the
        // station tasks have ended by then (or the daemon is failing to start).
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// The plan's stations this daemon plays: those asked for (all when none are), each of
/// which must be in the plan. A station whose output is `agent` is played by its commune
/// machine (`loa agent`): this daemon serves it and never plays it; asking for one by
/// name is refused.
fn stations_to_play(plan: &Plan, asked: &[String]) -> Result<Vec<Station>, DaemonError> {
    if let Some(code) = asked.iter().find(|c| plan.station(c).is_none()) {
        return Err(DaemonError::Refused(format!(
            "station '{code}' is not in the plan '{}'",
            plan.name
        )));
    }
    if let Some(s) = plan
        .stations
        .iter()
        .find(|s| s.output == Output::Agent && asked.contains(&s.code))
    {
        return Err(DaemonError::Refused(format!(
            "station '{}' has output = \"agent\" in the plan '{}': its commune machine plays it (`loa agent run`), loa serve only serves it",
            s.code, plan.name
        )));
    }
    Ok(plan
        .stations
        .iter()
        .filter(|s| s.output != Output::Agent)
        .filter(|s| asked.is_empty() || asked.contains(&s.code))
        .cloned()
        .collect())
}

/// Closes the rows a crash or power cut left open. A database that cannot be written
/// (read-only, full) must not keep the stations silent: the rows stay open for the next
/// start, and playout goes on.
async fn close_crashed_rows(store: &dyn Store, now: DateTime<Utc>) {
    match recover(store, now).await {
        Ok(recovered) => {
            let n: usize = recovered.values().map(Vec::len).sum();
            if n > 0 {
                tracing::warn!(
                    rows = n,
                    "closed airlog rows left open by a crash or power cut as interrupted"
                );
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "rows left open by a crash cannot be closed now; they are closed at a later start")
        }
    }
}

/// The stations playing: their handles for the control API, their events, their tasks,
/// and how many of the tasks are still alive (for the watchdog).
struct Started {
    handles: Arc<BTreeMap<String, StationHandle>>,
    events: broadcast::Sender<Event>,
    tasks: Vec<JoinHandle<()>>,
    alive: Arc<AtomicUsize>,
    /// The library in memory, shared by the players and the console.
    catalogue: Arc<Catalogue>,
    /// The stations played by commune machines, live.
    live: Arc<crate::agent::live::Live>,
}

/// Counts a station task out however it ends (return or panic).
struct Alive(Arc<AtomicUsize>);

impl Alive {
    fn count_in(alive: &Arc<AtomicUsize>) -> Alive {
        alive.fetch_add(1, Ordering::SeqCst);
        Alive(alive.clone())
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Started {
    /// Opens every station's sink and starts its player on the wall clock
    /// ([`crate::playout::wall::play_station`]) on the playout threads (`threads`), with
    /// the make-ups its airlog owes.
    async fn stations(
        config: &Config,
        store: &Arc<dyn Store>,
        options: &Options,
        stations: Vec<Station>,
        clock: Arc<dyn Clock>,
        stop: &watch::Receiver<bool>,
        threads: tokio::runtime::Handle,
    ) -> Result<Started, DaemonError> {
        let mut settings = Settings::from_config(&config.playout);
        settings.signer = options.signer.clone();
        let spec = options
            .sink
            .clone()
            .unwrap_or_else(|| config.playout.sink.clone());
        let catalogue = Arc::new(Catalogue::new(store.clone()));
        let programme = Arc::new(KeptSchedules {
            store: store.clone(),
            plan: options.plan.clone(),
            who: settings.who.clone(),
            catalogue: catalogue.clone(),
        });
        let lib = programme.library().await?;
        let (events, _) = broadcast::channel(1024);
        let max_offset = chrono::Duration::from_std(config.agent.max_clock_offset)
            .unwrap_or(chrono::Duration::seconds(2));
        let live = Arc::new(
            crate::agent::live::Live::new(
                &options.plan,
                store.as_ref(),
                max_offset,
                events.clone(),
                clock.now(),
            )
            .await,
        );
        let mut started = Started {
            handles: Arc::new(BTreeMap::new()),
            events,
            tasks: Vec::new(),
            alive: Arc::new(AtomicUsize::new(0)),
            catalogue,
            live: live.clone(),
        };
        let mut handles = BTreeMap::new();
        // The stations played by commune machines: the console and the control API reach
        // them through handles like the others; their commands go to the relay.
        for (code, handle, commands) in live.handles() {
            started.tasks.push(tokio::spawn(crate::agent::live::relay(
                code.clone(),
                commands,
                live.clone(),
                store.clone(),
                clock.clone(),
                stop.clone(),
            )));
            handles.insert(code, handle);
        }
        started.tasks.push(tokio::spawn(
            live.clone().watch(clock.clone(), stop.clone()),
        ));
        let mut fallback_said = false;
        for station in stations {
            let (tx, rx) = mpsc::channel(16);
            let mut player = StationPlayer::new(
                station.clone(),
                options.plan.clone(),
                Arc::new(StoreAirlog(store.clone())),
                clock.clone(),
                AudioStore::new(config.audio_dir()),
                lib.clone(),
                open_sink(&spec, config, &mut fallback_said)?,
                settings.clone(),
            )
            .with_control(Control {
                commands: rx,
                shutdown: stop.clone(),
            })
            .with_events(started.events.clone());
            player.queue_makeups(programme.makeups(&station.code, clock.now()).await?);
            // Announcements sent before a restart still wait for this station's next slot.
            player.queue_announcements(
                crate::playout::service::waiting_announcements(
                    store.as_ref(),
                    &station.code,
                    clock.now(),
                    &settings.who,
                )
                .await?,
            );
            let handle = StationHandle {
                name: station.name.clone(),
                commands: tx,
                status: player.status(),
                played_by: crate::playout::control::PlayedBy::ThisDaemon,
            };
            handles.insert(station.code.clone(), handle);
            let alive = Alive::count_in(&started.alive);
            let wall = crate::playout::wall::play_station(
                player,
                station,
                programme.clone(),
                clock.clone(),
                config.serve.build_ahead_days,
            );
            started.tasks.push(threads.spawn(async move {
                let _alive = alive;
                wall.await
            }));
        }
        started.handles = Arc::new(handles);
        Ok(started)
    }

    /// Serves the control API until the stop, when `http.token` is set.
    async fn control_api(
        &self,
        config: &Config,
        store: &Arc<dyn Store>,
        options: &Options,
        clock: &Arc<dyn Clock>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        stop: &watch::Receiver<bool>,
    ) -> Result<Option<JoinHandle<()>>, DaemonError> {
        let Some(token) = &config.http.token else {
            tracing::warn!("http.token is empty: the control API is off");
            return Ok(None);
        };
        let listener = tokio::net::TcpListener::bind(config.http.bind)
            .await
            .map_err(|source| DaemonError::Listen {
                bind: config.http.bind,
                source,
            })?;
        let state = crate::web::AppState {
            stations: self.handles.clone(),
            store: store.clone(),
            catalogue: self.catalogue.clone(),
            token: token.clone(),
            events: self.events.clone(),
            clock: clock.clone(),
            session_idle: config.http.session_idle,
            secure_cookies: config.http.secure_cookies(),
            behind_proxy: config.http.behind_proxy,
            failures: Default::default(),
            timezone: config.timezone,
            plan: options.plan.clone(),
            audio: AudioStore::new(config.audio_dir()),
            ingest: config.ingest.clone(),
            upload_max_bytes: config.http.upload_max_bytes,
            upload_dir: config.data_dir.join("uploads"),
            signing_key: config.signing_key.clone(),
            announcing: Arc::new(crate::web::announce::Announcing {
                tts: config.tts.clone(),
                audio: AudioStore::new(config.audio_dir()),
                ingest: config.ingest.clone(),
                scratch: config.data_dir.join("tmp"),
            }),
            uploads: Default::default(),
        };
        // Commune machines sync from the same port ([`crate::web::agent`]).
        let agents = Arc::new(crate::agent::server::AgentService {
            store: store.clone(),
            plan: options.plan.clone(),
            clock: clock.clone(),
            horizon_days: config.agent.horizon_days,
            audio: AudioStore::new(config.audio_dir()),
            guard: Default::default(),
            who: "loa serve".into(),
            live: self.live.clone(),
        });
        let mut stop = stop.clone();
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(
            "control API, console and agent API on {scheme}://{}",
            config.http.bind
        );
        Ok(Some(tokio::spawn(async move {
            let app = crate::web::router(state).merge(crate::web::agent::router(agents));
            crate::web::serve::serve(listener, app, tls, async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        })))
    }
}

/// Feeds systemd's watchdog while all `count` station tasks are alive, until the stop; a
/// station task that ended starves it, so systemd restarts loa.
fn feed_watchdog(
    alive: Arc<AtomicUsize>,
    count: usize,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let every = crate::notify::watchdog_interval()?;
    Some(tokio::spawn(async move {
        loop {
            if alive.load(Ordering::SeqCst) == count {
                crate::notify::watchdog_ping();
            } else {
                tracing::error!("a station task has stopped; no longer feeding the watchdog so systemd restarts loa");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let text = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
            [[station]]\ncode = \"huyen\"\nname = \"Đài huyện\"\nlevel = \"district\"\n\n\
            [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
            [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";
        crate::plan::validate::check(text, "p.toml").expect("the test plan is valid")
    }

    fn codes(stations: &[Station]) -> Vec<&str> {
        stations.iter().map(|s| s.code.as_str()).collect()
    }

    #[test]
    fn the_daemon_plays_every_station_but_the_agent_ones() {
        assert_eq!(codes(&stations_to_play(&plan(), &[]).unwrap()), ["huyen"]);
    }

    #[test]
    fn asking_the_daemon_to_play_an_agent_station_is_refused_naming_it() {
        let e = stations_to_play(&plan(), &["vinh-an".into()]).unwrap_err();
        assert!(
            e.to_string().contains("'vinh-an' has output = \"agent\""),
            "{e}"
        );
    }

    #[test]
    fn a_station_asked_by_name_is_played_alone() {
        let got = stations_to_play(&plan(), &["huyen".into()]).unwrap();
        assert_eq!(codes(&got), ["huyen"]);
    }
}
