//! `loa agent run`: the commune machine's daemon. It syncs when the server answers, plays
//! its station from the kept manifest and the verified cache with the same engine as
//! `loa serve` (through the engine's seams: [`NodeProgramme`] for playlists, the node's
//! own store for airlog rows, hash-chained as on the server), and sends its rows home.
//! With the server unreachable it plays what it has and keeps the rows for later.
//!
//! - [`render`]: a date range on a simulated clock (tests, dry runs): sync, play, upload.
//! - [`daemon`]: the wall clock: playout on time, a sync and an upload every minute.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::client::Client;
use super::node::{KeptManifest, NodeDir, NodeError, NodeKey};
use super::programme::{local_midnight, NodeProgramme, ProgrammeError};
use super::report::NodeAlert;
use super::status::{disk_free_mb, Known, NodeClock};
use super::sync::{self, SyncReport, Window};
use super::upload::{self, UploadReport};
use crate::clock::{Clock, SimClock};
use crate::library::audio_store::AudioStore;
use crate::plan::Station;
use crate::playout::cues::{Library, Makeup};
use crate::playout::seams::{Programme, StoreAirlog};
use crate::playout::service::PlayoutError;
use crate::playout::sink::{self, CaptureOptions, SinkSpec};
use crate::playout::{Settings, StationPlayer};
use crate::schedule::SlotPlaylist;
use crate::store::{Store, StoreError};

/// How often the daemon syncs and uploads.
pub const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What the node has to run with.
pub struct Node {
    /// Its folder.
    pub dir: NodeDir,
    /// Its key (signs requests and chain heads).
    pub key: Arc<NodeKey>,
    /// Its client of the server.
    pub client: Arc<Client>,
    /// Its own store: its airlog.
    pub store: Arc<dyn Store>,
    /// Its station's code.
    pub station: String,
    /// How it plays.
    pub settings: Settings,
}

/// Why the node cannot play.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Its files.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// No manifest kept and the server unreachable.
    #[error("this machine has no manifest yet and the server cannot be reached ({0}); it can play only once it has synced")]
    NoManifest(String),
    /// The manifest cannot be played.
    #[error(transparent)]
    Programme(#[from] ProgrammeError),
    /// A bad range or sink.
    #[error("{0}")]
    Refused(String),
    /// Its store.
    #[error("this machine's airlog: {0}")]
    Store(#[from] StoreError),
}

/// What a simulated run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// The sync, or why it could not be done.
    pub sync: Option<SyncReport>,
    /// Why the sync failed (the kept manifest played).
    pub sync_error: Option<String>,
    /// Slot instances played.
    pub slots: usize,
    /// The first slot past the manifest's days (played with the fallback), if any.
    pub past_horizon: Option<DateTime<Utc>>,
    /// The upload, or why it could not be done (the rows stay for the next one).
    pub upload: Option<UploadReport>,
    /// Why the upload failed.
    pub upload_error: Option<String>,
}

/// Syncs, then uploads; failures are reported, not fatal.
async fn sync_and_upload(node: &Node, clock: &dyn Clock, window: Option<Window>) -> RunReport {
    let mut report = RunReport::default();
    match sync::once_for(&node.dir, &node.client, clock, window).await {
        Ok(r) => report.sync = Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "sync failed; playing from the kept manifest and cache");
            report.sync_error = Some(e.to_string());
        }
    }
    upload_into(node, clock, &mut report).await;
    report
}

async fn upload_into(node: &Node, clock: &dyn Clock, report: &mut RunReport) {
    match upload::upload(
        node.store.as_ref(),
        &node.station,
        &node.key,
        &node.client,
        clock,
        &super::status::ClockFile::load(&node.dir).measurements,
    )
    .await
    {
        Ok(u) => report.upload = Some(u),
        Err(e) => {
            tracing::warn!(error = %e, "airlog not uploaded; the rows are kept for the next upload");
            report.upload_error = Some(e.to_string());
        }
    }
}

/// Keeps the manifest's bulletins and plan in the node's store: its airlog rows name the
/// bulletins (as on the server, a row's bulletin must be in the library), and its exports
/// show their titles and the station's name, as the server's do.
async fn mirror_bulletins(store: &dyn Store, p: &NodeProgramme) -> Result<(), StoreError> {
    let all: Vec<crate::library::Bulletin> = p.library().await?.values().cloned().collect();
    store.add_bulletins(&all).await?;
    let plan = p.plan();
    store
        .keep_plan(&plan.name, &plan.text, &plan.sha256(), p.received_at())
        .await?;
    Ok(())
}

/// The kept manifest, or why there is none.
fn kept(dir: &NodeDir, why: Option<&str>) -> Result<KeptManifest, RunError> {
    dir.kept_manifest()?
        .ok_or_else(|| RunError::NoManifest(why.unwrap_or("no sync has succeeded yet").to_string()))
}

/// Plays `from`–`to` (station-local dates, inclusive) on a simulated clock: syncs first
/// (a manifest from `from` covering the range), renders from the cache, uploads.
pub async fn render(
    node: &Node,
    from: NaiveDate,
    to: NaiveDate,
    sink_spec: &SinkSpec,
    capture: &CaptureOptions,
) -> Result<RunReport, RunError> {
    if to < from {
        return Err(RunError::Refused(format!(
            "--to {to} is before --from {from}"
        )));
    }
    let days = u32::try_from((to - from).num_days() + 1).unwrap_or(u32::MAX);
    // The sync's own instants (signatures) are the wall clock's: the server checks them.
    let wall: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
    let mut report = RunReport::default();
    match sync::once_for(
        &node.dir,
        &node.client,
        wall.as_ref(),
        Some(Window { from, days }),
    )
    .await
    {
        Ok(r) => report.sync = Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "sync failed; playing from the kept manifest and cache");
            report.sync_error = Some(e.to_string());
        }
    }
    let k = kept(&node.dir, report.sync_error.as_deref())?;
    let programme = NodeProgramme::new(k.manifest, node.store.clone(), k.received_at)?;
    mirror_bulletins(node.store.as_ref(), &programme).await?;
    let station = programme.station();
    let start = local_midnight(&station, from);
    let end = local_midnight(&station, to + chrono::Duration::days(1));
    crate::playout::recovery::recover(node.store.as_ref(), wall.now()).await?;
    let clock: Arc<dyn Clock> = Arc::new(SimClock::new(start));
    let sink = sink::open_with(sink_spec, node.settings.format, capture)
        .map_err(|e| RunError::Refused(e.to_string()))?;
    let mut player = StationPlayer::new(
        station.clone(),
        programme.plan(),
        Arc::new(StoreAirlog(node.store.clone())),
        clock,
        AudioStore::new(node.dir.media_dir()),
        programme.library().await?,
        sink,
        node.settings.clone(),
    );
    player.queue_makeups(programme.makeups(&station.code, start).await?);
    let slots = programme
        .slots(&station, start, end, start)
        .await
        .map_err(|e| RunError::Refused(e.to_string()))?;
    for slot in &slots {
        player.play_slot(slot).await.map_err(|e| match e {
            crate::playout::player::RunError::Store(e) => RunError::Store(e),
        })?;
        report.slots += 1;
    }
    player.finish().await;
    report.past_horizon = programme.past_horizon();
    upload_into(node, wall.as_ref(), &mut report).await;
    Ok(report)
}

/// The daemon's programme: the kept manifest, re-read when a sync replaced it. While the
/// node's clock is held ([`NodeClock`]) it has no slot instances: scheduled playout waits,
/// announcements still play.
pub struct KeptProgramme {
    /// The node's folder.
    dir: NodeDir,
    /// Its store (make-ups).
    store: Arc<dyn Store>,
    /// The programme of the manifest last read, by its tag.
    current: Mutex<Option<(String, Arc<NodeProgramme>)>>,
    /// The node's clock, when it is judged (the daemon).
    clock: Option<Arc<NodeClock>>,
}

impl KeptProgramme {
    /// The programme of the manifest kept now.
    fn now(&self) -> Result<Arc<NodeProgramme>, String> {
        let k = kept(&self.dir, None).map_err(|e| e.to_string())?;
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((tag, p)) = current.as_ref() {
            if *tag == k.etag {
                return Ok(p.clone());
            }
        }
        let tag = k.etag.clone();
        let p = Arc::new(
            NodeProgramme::new(k.manifest, self.store.clone(), k.received_at)
                .map_err(|e| e.to_string())?,
        );
        *current = Some((tag, p.clone()));
        Ok(p)
    }
}

#[async_trait]
impl Programme for KeptProgramme {
    async fn slots(
        &self,
        station: &Station,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotPlaylist>, PlayoutError> {
        if self.clock.as_ref().is_some_and(|c| c.held()) {
            return Ok(Vec::new());
        }
        let p = self.now().map_err(PlayoutError::Refused)?;
        p.slots(station, from, to, now).await
    }

    async fn library(&self) -> Result<Arc<Library>, StoreError> {
        match self.now() {
            Ok(p) => p.library().await,
            Err(e) => Err(StoreError::Corrupt {
                id: "manifest.json".into(),
                reason: e,
            }),
        }
    }

    async fn makeups(&self, station: &str, from: DateTime<Utc>) -> Result<Vec<Makeup>, StoreError> {
        crate::playout::service::pending_makeups(self.store.as_ref(), station, from).await
    }
}

/// How often the clock is judged again while it holds scheduled playout (every minute
/// otherwise).
const HELD_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Plays on the wall clock until `stop` resolves: measures the clock, syncs, uploads and
/// reports every [`SYNC_EVERY`]; listens for announcements all the while; tells systemd it
/// is ready once it plays and feeds its watchdog while the player runs.
pub async fn daemon(
    node: Node,
    clock: Arc<dyn Clock>,
    sink_spec: &SinkSpec,
    capture: &CaptureOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let node_clock = NodeClock::load(&node.dir, clock.now());
    // Rows a crash or power cut left open are closed first, so the first upload sends them.
    crate::playout::recovery::recover(node.store.as_ref(), clock.now()).await?;
    node_clock.tick(&node.client, clock.now()).await;
    let mut known = Known::default();
    let first = sync_and_upload(&node, clock.as_ref(), None).await;
    learn(&node, &mut known, &first, clock.now()).await;
    kept(&node.dir, first.sync_error.as_deref())?;
    let programme = Arc::new(KeptProgramme {
        dir: node.dir.clone(),
        store: node.store.clone(),
        current: Mutex::new(None),
        clock: Some(node_clock.clone()),
    });
    let p = programme.now().map_err(RunError::NoManifest)?;
    mirror_bulletins(node.store.as_ref(), &p).await?;
    let station = p.station();
    let sink = sink::open_with(sink_spec, node.settings.format, capture)
        .map_err(|e| RunError::Refused(e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (commands_tx, commands) = tokio::sync::mpsc::channel(16);
    let player = StationPlayer::new(
        station.clone(),
        p.plan(),
        Arc::new(StoreAirlog(node.store.clone())),
        clock.clone(),
        AudioStore::new(node.dir.media_dir()),
        p.library().await?,
        sink,
        node.settings.clone(),
    )
    .with_control(crate::playout::control::Control {
        commands,
        shutdown: stop_rx.clone(),
    });
    // What the player does also goes to the server at once (a report), so the district's
    // on-air page follows a commune's item within a second, not a minute later.
    let (events_tx, mut events) = tokio::sync::broadcast::channel(64);
    let mut player = player.with_events(events_tx);
    player.queue_makeups(programme.makeups(&station.code, clock.now()).await?);
    // Announcements taken before a restart still wait for the next slot.
    player.queue_announcements(
        crate::playout::service::waiting_announcements(
            node.store.as_ref(),
            &station.code,
            clock.now(),
            &node.settings.who,
        )
        .await?,
    );
    let status = player.status();
    let playing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let wall = crate::playout::wall::play_station(
        player,
        station.clone(),
        programme.clone(),
        clock.clone(),
        1,
    );
    let play = {
        let playing = playing.clone();
        tokio::spawn(async move {
            wall.await;
            playing.store(false, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let listen = tokio::spawn(super::listen::listen(
        super::listen::Listener {
            dir: node.dir.clone(),
            client: node.client.clone(),
            store: node.store.clone(),
            station: station.code.clone(),
            commands: commands_tx.clone(),
            clock: clock.clone(),
        },
        stop_rx.clone(),
    ));
    send_report(&node, &node_clock, &known, &status, clock.now()).await;
    crate::notify::ready(&format!("playing station {} from the cache", station.code));
    // Its own task: a sync that downloads for minutes must not starve it.
    let watchdog = crate::notify::watchdog_interval()
        .map(|every| tokio::spawn(feed_watchdog(playing.clone(), every, stop_rx.clone())));
    let mut minute = tokio::time::interval(SYNC_EVERY);
    minute.reset();
    let mut was_held = node_clock.held();
    let mut events_open = true;
    tokio::pin!(stop);
    loop {
        let every = if was_held { HELD_RECHECK } else { SYNC_EVERY };
        tokio::select! {
            _ = &mut stop => break,
            got = events.recv(), if events_open => {
                use crate::playout::control::Event;
                use tokio::sync::broadcast::error::RecvError;
                // The player has ended (its sender is gone): nothing more to follow.
                events_open = !matches!(got, Err(RecvError::Closed));
                let changed = matches!(
                    got,
                    Ok(Event::SlotStarted { .. }
                        | Event::ItemStarted { .. }
                        | Event::ItemEnded { .. }
                        | Event::SlotEnded { .. }
                        | Event::Alert { .. })
                        | Err(RecvError::Lagged(_))
                );
                if changed {
                    send_report(&node, &node_clock, &known, &status, clock.now()).await;
                }
            }
            // Held: the clock is judged more often. The wall loop idles on the wrong
            // clock until an hour past it, which a clock set right has long passed: it
            // reads the programme again within a second of the hold ending.
            _ = tokio::time::sleep(every), if was_held => {
                node_clock.tick(&node.client, clock.now()).await;
                was_held = node_clock.held();
            }
            _ = minute.tick() => {
                node_clock.tick(&node.client, clock.now()).await;
                was_held = node_clock.held();
                let r = sync_and_upload(&node, clock.as_ref(), None).await;
                learn(&node, &mut known, &r, clock.now()).await;
                if let Ok(p) = programme.now() {
                    if let Err(e) = mirror_bulletins(node.store.as_ref(), &p).await {
                        tracing::error!(error = %e, "cannot keep the manifest's bulletins in this machine's store");
                    }
                }
                send_report(&node, &node_clock, &known, &status, clock.now()).await;
                crate::notify::status(&status_line(&station.code, &status, &node_clock));
            }
        }
    }
    crate::notify::stopping();
    let _ = stop_tx.send(true);
    let _ = play.await;
    let _ = listen.await;
    if let Some(w) = watchdog {
        let _ = w.await;
    }
    let mut last = RunReport::default();
    upload_into(&node, clock.as_ref(), &mut last).await;
    node.store.close().await;
    Ok(())
}

/// Feeds systemd's watchdog every `every` while the player runs (`playing`), until the
/// stop: a player that ended starves it and systemd restarts the node.
async fn feed_watchdog(
    playing: Arc<std::sync::atomic::AtomicBool>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if playing.load(std::sync::atomic::Ordering::SeqCst) {
            crate::notify::watchdog_ping();
        } else {
            tracing::error!("the player has stopped; no longer feeding the watchdog so systemd restarts loa agent");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// The `systemctl status` line: what plays, or why nothing does.
fn status_line(
    code: &str,
    status: &Mutex<crate::playout::control::Status>,
    clock: &NodeClock,
) -> String {
    if clock.held() {
        return format!("station {code}: the clock is far behind; scheduled playout waits");
    }
    let s = status.lock().unwrap_or_else(|e| e.into_inner());
    match &s.on_air {
        Some(a) => format!("station {code}: on air {}", a.title),
        None => format!("station {code}: waiting for the next slot"),
    }
}

/// Keeps what a sync and an upload said for the next report.
async fn learn(node: &Node, known: &mut Known, r: &RunReport, now: DateTime<Utc>) {
    let mut alerts = Vec::new();
    if r.sync.is_some() {
        known.last_sync = Some(now);
    }
    if let Ok(Some(k)) = node.dir.kept_manifest() {
        known.manifest = Some(k.etag.clone());
        if let Ok(p) = NodeProgramme::new(k.manifest, node.store.clone(), k.received_at) {
            let until = p.horizon_end();
            known.manifest_until = Some(until);
            if until <= now {
                let at = until
                    .with_timezone(&p.station().timezone)
                    .format("%H:%M %d/%m/%Y");
                alerts.push(NodeAlert {
                    vi: format!("lịch phát đã giữ chỉ đến {at}: từ đó mỗi buổi phát nội dung dự phòng; cần đồng bộ với máy chủ"),
                    en: format!("the kept schedule ends at {at}: each slot since plays the fallback; the machine needs to sync"),
                });
            }
        }
    }
    if let Some(e) = &r.sync_error {
        alerts.push(NodeAlert {
            vi: format!(
                "không đồng bộ được với máy chủ; đang phát từ bộ nhớ đệm ({})",
                short(e)
            ),
            en: format!("sync failed; playing from the cache ({})", short(e)),
        });
    }
    if let Some(s) = &r.sync {
        if !s.failed.is_empty() {
            alerts.push(NodeAlert {
                vi: format!(
                    "{} tệp âm thanh chưa tải được hoặc không khớp mã băm; sẽ tải lại",
                    s.failed.len()
                ),
                en: format!(
                    "{} audio file(s) not fetched or not matching their hash; fetching again",
                    s.failed.len()
                ),
            });
        }
    }
    let node_head = node.store.chain_head(&node.station).await.ok().flatten();
    known.chain_head = node_head.as_ref().map(|(seq, h)| super::homeward::Head {
        seq: *seq,
        row_hash: h.clone(),
    });
    if let Some(u) = &r.upload {
        known.server_head = u.head.as_ref().map(|h| h.seq);
    }
    if let Some(e) = &r.upload_error {
        alerts.push(NodeAlert {
            vi: format!(
                "chưa gửi được nhật ký phát sóng về máy chủ; các dòng được giữ lại ({})",
                short(e)
            ),
            en: format!(
                "the airlog could not be sent; its rows are kept ({})",
                short(e)
            ),
        });
    }
    // Rows are numbered one after another in the node's chain: those past the server's
    // head are not held there yet.
    known.unsent_rows = match (&known.chain_head, known.server_head) {
        (Some(n), Some(s)) => u64::try_from(n.seq - s).unwrap_or(0),
        (Some(n), None) => u64::try_from(n.seq).unwrap_or(0),
        (None, _) => 0,
    };
    known.alerts = alerts;
}

/// The first 200 characters of a technical detail.
fn short(e: &str) -> String {
    e.chars().take(200).collect()
}

/// Sends the report; a failure is logged (the next one goes a minute later).
async fn send_report(
    node: &Node,
    clock: &NodeClock,
    known: &Known,
    status: &Mutex<crate::playout::control::Status>,
    now: DateTime<Utc>,
) {
    let s = status.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let r = super::status::report(now, clock, known, &s, disk_free_mb(&node.dir));
    if let Err(e) = node.client.report(&r).await {
        tracing::debug!(error = %e, "status report not sent");
    }
}
