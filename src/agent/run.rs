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
    pub client: Client,
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

/// The daemon's programme: the kept manifest, re-read when a sync replaced it.
pub struct KeptProgramme {
    /// The node's folder.
    dir: NodeDir,
    /// Its store (make-ups).
    store: Arc<dyn Store>,
    /// The programme of the manifest last read, by its tag.
    current: Mutex<Option<(String, Arc<NodeProgramme>)>>,
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

/// Plays on the wall clock until `stop` resolves, syncing and uploading every
/// [`SYNC_EVERY`].
pub async fn daemon(
    node: Node,
    clock: Arc<dyn Clock>,
    sink_spec: &SinkSpec,
    capture: &CaptureOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let first = sync_and_upload(&node, clock.as_ref(), None).await;
    kept(&node.dir, first.sync_error.as_deref())?;
    let programme = Arc::new(KeptProgramme {
        dir: node.dir.clone(),
        store: node.store.clone(),
        current: Mutex::new(None),
    });
    let p = programme.now().map_err(RunError::NoManifest)?;
    mirror_bulletins(node.store.as_ref(), &p).await?;
    let station = p.station();
    crate::playout::recovery::recover(node.store.as_ref(), clock.now()).await?;
    let sink = sink::open_with(sink_spec, node.settings.format, capture)
        .map_err(|e| RunError::Refused(e.to_string()))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (_commands_tx, commands) = tokio::sync::mpsc::channel(16);
    let mut player = StationPlayer::new(
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
        shutdown: stop_rx,
    });
    player.queue_makeups(programme.makeups(&station.code, clock.now()).await?);
    let play = tokio::spawn(crate::playout::wall::play_station(
        player,
        station,
        programme.clone(),
        clock.clone(),
        1,
    ));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(SYNC_EVERY) => {
                let _ = sync_and_upload(&node, clock.as_ref(), None).await;
                if let Ok(p) = programme.now() {
                    if let Err(e) = mirror_bulletins(node.store.as_ref(), &p).await {
                        tracing::error!(error = %e, "cannot keep the manifest's bulletins in this machine's store");
                    }
                }
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = play.await;
    let mut last = RunReport::default();
    upload_into(&node, clock.as_ref(), &mut last).await;
    node.store.close().await;
    Ok(())
}
