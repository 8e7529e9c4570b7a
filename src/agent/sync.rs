//! One sync of a commune machine (`loa agent sync --once`): the manifest when it changed
//! (If-None-Match; kept atomically, the last good one stays when a new one is bad), then
//! every audio file it names that the cache lacks, emergency bulletins first. A download
//! goes to `SHA256.part`, resumes from that file's size after a cut, and moves into the
//! cache only once its size and SHA-256 match the manifest and it decodes whole (the
//! ingest checks); a file that fails is deleted and fetched once more from the start.

use std::path::Path;

use serde::Serialize;

use super::client::{error_chain, Client, ClientError};
use super::manifest::{is_sha256, ManifestBulletin};
use super::node::{KeptManifest, NodeDir, NodeError};
use crate::clock::Clock;
use crate::library::Priority;

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// `new` (a new manifest was kept) or `unchanged` (304).
    pub manifest: &'static str,
    /// The kept manifest's tag.
    pub etag: String,
    /// Slot instances in the manifest.
    pub slots: usize,
    /// Audio files the manifest names.
    pub media: usize,
    /// Of them, already in the cache before this sync.
    pub cached: usize,
    /// Files fetched and verified by this sync.
    pub fetched: Vec<String>,
    /// Of them, resumed from a `.part` file.
    pub resumed: usize,
    /// Audio bytes received.
    pub bytes: u64,
    /// Files that could not be fetched or verified, and why.
    pub failed: Vec<Failed>,
    /// Cached files removed: named by no manifest for [`PRUNE_AFTER`].
    pub pruned: usize,
}

/// How long a cached audio file (or a download left part-way) stays once the manifest no
/// longer names it: past its last slot, an announcement that still waits or a make-up
/// finds it; after a week it is gone.
pub const PRUNE_AFTER: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The files of the cache to remove: those the kept manifest does not name (a `.part` by
/// the hash it is named after), untouched for longer than [`PRUNE_AFTER`]. `files` are
/// (file name, time since last modified). Pure.
pub fn to_prune(
    files: &[(String, std::time::Duration)],
    named: &std::collections::BTreeSet<&str>,
) -> Vec<String> {
    files
        .iter()
        .filter(|(name, age)| {
            let hash = name.strip_suffix(".part").unwrap_or(name);
            !named.contains(hash) && *age > PRUNE_AFTER
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Removes what [`to_prune`] says from the cache of `dir`, by the kept manifest; returns
/// how many files went. Errors are logged: a file that stays costs disk, not playout.
pub fn prune(dir: &NodeDir, kept: &KeptManifest) -> usize {
    let named: std::collections::BTreeSet<&str> = kept.manifest.media().into_keys().collect();
    let Ok(entries) = std::fs::read_dir(dir.media_dir()) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let files: Vec<(String, std::time::Duration)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let modified = e.metadata().ok()?.modified().ok()?;
            Some((name, now.duration_since(modified).unwrap_or_default()))
        })
        .collect();
    let mut gone = 0;
    for name in to_prune(&files, &named) {
        let path = dir.media_dir().join(&name);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                gone += 1;
                tracing::info!(file = %path.display(), "audio no manifest names any more removed from the cache");
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove old audio from the cache")
            }
        }
    }
    gone
}

/// An audio file this sync could not bring into the cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failed {
    /// Its SHA-256.
    pub sha256: String,
    /// Why.
    pub reason: String,
}

/// Why a sync could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The node's files.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The server.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The days a manifest is asked for: from `from`, at least `days` (the server adds its
/// horizon). A simulated run asks for its range; the daemon asks for none (today).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first local date.
    pub from: chrono::NaiveDate,
    /// How many days at least.
    pub days: u32,
}

/// Syncs once: the manifest, then the missing media.
pub async fn once(
    dir: &NodeDir,
    client: &Client,
    clock: &dyn Clock,
) -> Result<SyncReport, SyncError> {
    once_for(dir, client, clock, None).await
}

/// Syncs once, the manifest of `window` (none: from today).
pub async fn once_for(
    dir: &NodeDir,
    client: &Client,
    clock: &dyn Clock,
    window: Option<Window>,
) -> Result<SyncReport, SyncError> {
    dir.create()?;
    let kept = dir.kept_manifest()?;
    let mut report = SyncReport::default();
    let kept = match client
        .manifest_for(kept.as_ref().map(|k| k.etag.as_str()), window)
        .await?
    {
        Some(new) => {
            let k = KeptManifest {
                etag: new.etag,
                received_at: clock.now(),
                manifest: new.manifest,
            };
            dir.keep_manifest(&k)?;
            report.manifest = "new";
            k
        }
        None => {
            report.manifest = "unchanged";
            kept.ok_or_else(|| {
                ClientError::Bad("the server answered 304 to a node that has no manifest".into())
            })?
        }
    };
    report.etag = kept.etag.clone();
    report.slots = kept.manifest.slots.len();
    let mut media: Vec<&ManifestBulletin> = kept.manifest.media().into_values().collect();
    // Emergency audio first: it must be playable first.
    media.sort_by_key(|b| (b.priority != Priority::Emergency, b.sha256.clone()));
    report.media = media.len();
    for b in media {
        if !is_sha256(&b.sha256) {
            continue;
        }
        if dir.media_path(&b.sha256).exists() {
            report.cached += 1;
            continue;
        }
        match fetch(dir, client, b, &mut report).await {
            Ok(()) => report.fetched.push(b.sha256.clone()),
            Err(reason) => {
                tracing::warn!(sha256 = %b.sha256, %reason, "audio not fetched");
                report.failed.push(Failed {
                    sha256: b.sha256.clone(),
                    reason,
                })
            }
        }
    }
    report.pruned = prune(dir, &kept);
    Ok(report)
}

/// Brings one file into the cache (an announcement's audio, pushed before any sync named
/// it): nothing to do when it is there already.
pub async fn fetch_one(dir: &NodeDir, client: &Client, b: &ManifestBulletin) -> Result<(), String> {
    if !is_sha256(&b.sha256) {
        return Err(format!("'{}' is not a SHA-256", b.sha256));
    }
    if dir.media_path(&b.sha256).exists() {
        return Ok(());
    }
    dir.create().map_err(|e| e.to_string())?;
    fetch(dir, client, b, &mut SyncReport::default()).await
}

/// Fetches one file into the cache: resumes its `.part`, verifies, moves it in; once more
/// from the start when the bytes do not verify.
async fn fetch(
    dir: &NodeDir,
    client: &Client,
    b: &ManifestBulletin,
    report: &mut SyncReport,
) -> Result<(), String> {
    let part = dir.part_path(&b.sha256);
    for attempt in 0..2 {
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let have = if have > b.size_bytes { 0 } else { have };
        if have > 0 && attempt == 0 {
            report.resumed += 1;
        }
        download(client, &b.sha256, &part, have, b.size_bytes, report).await?;
        match verify(&part, b).await {
            Ok(()) => {
                let into = dir.media_path(&b.sha256);
                std::fs::rename(&part, &into).map_err(|e| format!("{}: {e}", into.display()))?;
                return Ok(());
            }
            Err(why) => {
                let _ = std::fs::remove_file(&part);
                if attempt == 1 {
                    return Err(format!(
                        "{why}; the download was deleted and is fetched again at the next sync"
                    ));
                }
                tracing::warn!(sha256 = %b.sha256, %why, "fetching again from the start");
            }
        }
    }
    Ok(())
}

/// Appends the bytes from `have` on to `part` (or rewrites it when the server sends the
/// whole file), at most `size` bytes in all.
async fn download(
    client: &Client,
    sha256: &str,
    part: &Path,
    have: u64,
    size: u64,
    report: &mut SyncReport,
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    if have == size && size > 0 {
        return Ok(());
    }
    let mut resp = client
        .media(sha256, have)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    if status == 416 {
        // The part is as long as the file on the server: verify it as it is.
        return Ok(());
    }
    let append = status == 206;
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .await
        .map_err(|e| format!("{}: {e}", part.display()))?;
    let mut written = if append { have } else { 0 };
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                let _ = file.sync_all().await;
                return Err(format!(
                    "the download was cut after {written} of {size} bytes ({}); it resumes at the next sync",
                    error_chain(&e)
                ));
            }
        };
        written += chunk.len() as u64;
        if written > size {
            return Err(format!(
                "the server sent more than the {size} bytes the manifest says"
            ));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| format!("{}: {e}", part.display()))?;
        report.bytes += chunk.len() as u64;
    }
    file.sync_all()
        .await
        .map_err(|e| format!("{}: {e}", part.display()))?;
    Ok(())
}

/// Whether a downloaded file is the manifest's and may play: its size, its SHA-256, then
/// a full decode with the ingest checks ([`crate::library::ingest::analyze`]).
async fn verify(part: &Path, b: &ManifestBulletin) -> Result<(), String> {
    let size = std::fs::metadata(part)
        .map_err(|e| format!("{}: {e}", part.display()))?
        .len();
    if size != b.size_bytes {
        return Err(format!(
            "the download is {size} bytes, the manifest says {}",
            b.size_bytes
        ));
    }
    let path = part.to_path_buf();
    let got = tokio::task::spawn_blocking(move || crate::library::audio_store::hash_file(&path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{}: {e}", part.display()))?;
    if got != b.sha256 {
        return Err(format!(
            "the bytes received hash to {got}, not to {}",
            b.sha256
        ));
    }
    let path = part.to_path_buf();
    tokio::task::spawn_blocking(move || {
        crate::library::ingest::analyze(&path, &crate::library::IngestOptions::default())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("the audio does not pass the ingest checks: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_the_manifest_no_longer_names_goes_after_a_week_and_named_audio_stays() {
        let day = std::time::Duration::from_secs(24 * 3600);
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let c = "c".repeat(64);
        let files = vec![
            (a.clone(), day * 30),
            (b.clone(), day * 8),
            (format!("{b}.part"), day * 8),
            (c.clone(), day * 2),
            (format!("{a}.part"), day * 9),
        ];
        let named = std::collections::BTreeSet::from([a.as_str()]);
        let gone = to_prune(&files, &named);
        // b (and its stale download) go; a is named; c is recent (an announcement may
        // still wait for it); a's download is for a named file.
        assert_eq!(gone, vec![b.clone(), format!("{b}.part")]);
    }
}
