//! A commune machine's own files, under `DATA_DIR/agent/`: `agent.toml` (the server's URL
//! and the station it enrolled for), `node.key` (its Ed25519 key, 0600, never sent or
//! logged), `manifest.json` (the last good manifest and its tag), `media/` (verified
//! audio named by SHA-256; downloads in progress end in `.part`) and `airlog.db` (the
//! node's own SQLite store: its hash-chained airlog, never emptied by an upload).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::manifest::Manifest;
use crate::airlog::key::{write_private, DistrictKey};
use crate::library::audio_store::write_durably;

/// The first line of a node key file.
const KEY_HEADER: &str = "loa-agent-node-key/1";

/// Why the node's files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not what loa wrote.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// This machine has not enrolled.
    #[error("{0}: this machine is not enrolled; run `loa agent enroll --server URL --token TOKEN` first")]
    NotEnrolled(PathBuf),
}

/// The node's folder.
#[derive(Debug, Clone)]
pub struct NodeDir {
    /// `DATA_DIR/agent`.
    root: PathBuf,
}

/// What `loa agent enroll` keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentFile {
    /// The district server's base URL, e.g. `https://loa.vinhloc.example:7010`.
    pub server: String,
    /// The station this node plays.
    pub station: String,
    /// Its public key, hex (its name on the server).
    pub node: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// The SHA-256 of the server's certificate this node trusts ([`super::pin`]); none:
    /// the system's certificate authorities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_fingerprint: Option<String>,
}

/// The last good manifest as kept: its tag (for If-None-Match) and when it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptManifest {
    /// The server's ETag.
    pub etag: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// The manifest.
    pub manifest: Manifest,
}

/// The node's Ed25519 key (its secret never printed in `Debug`).
pub struct NodeKey(DistrictKey);

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey")
            .field("public", &self.public_hex())
            .finish_non_exhaustive()
    }
}

impl NodeKey {
    /// The public key, 64 hex digits.
    pub fn public_hex(&self) -> String {
        self.0.public().hex()
    }

    /// The signature of `message`, 128 hex digits.
    pub fn sign(&self, message: &[u8]) -> String {
        self.0.sign(message)
    }

    /// Its signature over a chain head (the server keeps it beside the rows).
    pub fn sign_head(
        &self,
        station: &str,
        seq: i64,
        row_hash: &str,
        at: DateTime<Utc>,
    ) -> crate::airlog::signed::SignedHead {
        crate::airlog::signed::SignedHead::sign(&self.0, station, seq, row_hash, at)
    }
}

impl NodeDir {
    /// The node folder of a data dir.
    pub fn of(data_dir: &Path) -> NodeDir {
        NodeDir {
            root: data_dir.join("agent"),
        }
    }

    /// `agent.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("agent.toml")
    }

    /// `node.key`.
    pub fn key_path(&self) -> PathBuf {
        self.root.join("node.key")
    }

    /// `manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join("manifest.json")
    }

    /// `airlog.db`: the node's own store (its hash-chained airlog).
    pub fn airlog_db_path(&self) -> PathBuf {
        self.root.join("airlog.db")
    }

    /// `clock.json`: the clock's measurements and the latest instant seen.
    pub fn clock_path(&self) -> PathBuf {
        self.root.join("clock.json")
    }

    /// `announced.json`: the server's announcements this node took, and their numbers in
    /// its own store.
    pub fn announced_path(&self) -> PathBuf {
        self.root.join("announced.json")
    }

    /// `media/`.
    pub fn media_dir(&self) -> PathBuf {
        self.root.join("media")
    }

    /// A verified audio file in the cache.
    pub fn media_path(&self, sha256: &str) -> PathBuf {
        self.media_dir().join(sha256)
    }

    /// An audio file being downloaded.
    pub fn part_path(&self, sha256: &str) -> PathBuf {
        self.media_dir().join(format!("{sha256}.part"))
    }

    fn io(path: &Path) -> impl Fn(std::io::Error) -> NodeError + '_ {
        move |source| NodeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Creates the folders.
    pub fn create(&self) -> Result<(), NodeError> {
        let media = self.media_dir();
        std::fs::create_dir_all(&media).map_err(Self::io(&media))
    }

    /// The node's key, created (0600, from the system's random source) when there is none.
    pub fn key(&self) -> Result<NodeKey, NodeError> {
        let path = self.key_path();
        if path.exists() {
            return self.read_key(&path);
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NodeError::Malformed {
            path: path.clone(),
            reason: format!("no random bytes for a new key: {e}"),
        })?;
        let key = DistrictKey::from_seed(seed);
        let text = format!(
            "{KEY_HEADER}\n{}\n# This commune machine's Ed25519 key (loa agent). Keep it secret.\n# public key {}\n",
            hex::encode(seed),
            key.public().hex()
        );
        self.create()?;
        write_private(&path, text.as_bytes()).map_err(Self::io(&path))?;
        Ok(NodeKey(key))
    }

    /// Reads the key; refuses one others can read.
    fn read_key(&self, path: &Path) -> Result<NodeKey, NodeError> {
        let bad = |reason: &str| NodeError::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(Self::io(path))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(bad(&format!(
                    "the node key is readable by other users (mode {:o}); run `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                )));
            }
        }
        let text = std::fs::read_to_string(path).map_err(Self::io(path))?;
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        if lines.next().map(str::trim) != Some(KEY_HEADER) {
            return Err(bad(&format!("its first line is not {KEY_HEADER}")));
        }
        let seed: [u8; 32] = lines
            .next()
            .and_then(|l| hex::decode(l.trim()).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("its second line is not 64 hex digits"))?;
        Ok(NodeKey(DistrictKey::from_seed(seed)))
    }

    /// The enrolment, if this machine has one.
    pub fn agent_file(&self) -> Result<AgentFile, NodeError> {
        let path = self.config_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(NodeError::NotEnrolled(self.root.clone()))
            }
            Err(e) => return Err(Self::io(&path)(e)),
        };
        toml::from_str(&text).map_err(|e| NodeError::Malformed {
            path,
            reason: e.to_string().trim().replace('\n', " "),
        })
    }

    /// Keeps the enrolment.
    pub fn write_agent_file(&self, f: &AgentFile) -> Result<(), NodeError> {
        let path = self.config_path();
        let text = format!(
            "# Written by `loa agent enroll`: the district server this machine syncs from.\n{}",
            toml::to_string(f).map_err(|e| NodeError::Malformed {
                path: path.clone(),
                reason: e.to_string(),
            })?
        );
        self.create()?;
        write_durably(&path, text.as_bytes()).map_err(Self::io(&path))
    }

    /// The last good manifest, if any.
    pub fn kept_manifest(&self) -> Result<Option<KeptManifest>, NodeError> {
        let path = self.manifest_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Self::io(&path)(e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| NodeError::Malformed {
                path,
                reason: format!("not a kept manifest: {e}"),
            })
    }

    /// Replaces the kept manifest atomically (a temporary file, synced, renamed): a cut
    /// leaves the last good one whole.
    pub fn keep_manifest(&self, kept: &KeptManifest) -> Result<(), NodeError> {
        let path = self.manifest_path();
        let bytes = serde_json::to_vec_pretty(kept).map_err(|e| NodeError::Malformed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        self.create()?;
        write_durably(&path, &bytes).map_err(Self::io(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_key_is_created_private_and_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeDir::of(dir.path());
        let a = node.key().unwrap();
        let b = node.key().unwrap();
        assert_eq!(a.public_hex(), b.public_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(node.key_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(node.key_path()).unwrap();
        let secret = text.lines().nth(1).unwrap();
        assert!(
            !format!("{a:?}").contains(secret),
            "the secret shows in Debug"
        );
    }

    #[test]
    fn a_machine_without_an_enrolment_is_told_to_enrol() {
        let dir = tempfile::tempdir().unwrap();
        let e = NodeDir::of(dir.path()).agent_file().unwrap_err();
        assert!(e.to_string().contains("loa agent enroll"), "{e}");
    }
}
