//! Bulletin manifests: a TOML file listing audio files with their metadata
//! (`audio/manifest.toml` is the demo's), read into an [`AddRequest`] so a whole folder can
//! be imported in one all-or-nothing batch with `loa library import`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::library::bulletin::{Kind, Priority, Topic};
use crate::library::regular::{open_regular, Opened};
use crate::library::service::{AddItem, AddRequest};
use crate::text::nfc;

/// The manifest file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    bulletin: Vec<RawEntry>,
}

/// One `[[bulletin]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    file: PathBuf,
    title: Option<String>,
    kind: Kind,
    topic: Topic,
    #[serde(default = "default_priority")]
    priority: Priority,
    #[serde(default)]
    producer: String,
    #[serde(default = "default_language")]
    language: String,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    #[serde(default)]
    stations: Vec<String>,
    #[serde(default)]
    notes: String,
}

fn default_priority() -> Priority {
    Priority::Normal
}
fn default_language() -> String {
    "vi".into()
}

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Unreadable file.
    #[error("{path}: cannot read the manifest: {source}")]
    Io {
        /// The manifest.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown key or a bad value (with line and column).
    #[error("{path}: {message}")]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// What and where.
        message: String,
    },
}

/// Reads a manifest; file paths are resolved against the manifest's folder.
pub fn read(path: &Path, approve: bool) -> Result<AddRequest, ManifestError> {
    use std::io::Read;
    let io = |source| ManifestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = open_regular(path).map_err(|e| match e {
        Opened::NotRegular(what) => ManifestError::Invalid {
            path: path.to_path_buf(),
            message: format!("not a regular file: it is {what}; give the path of a manifest"),
        },
        Opened::Io(source) => io(source),
    })?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io)?;
    parse(&text, path, approve)
}

/// Parses manifest text that was read from `path`.
pub fn parse(text: &str, path: &Path, approve: bool) -> Result<AddRequest, ManifestError> {
    let invalid = |message: String| ManifestError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            })
            .unwrap_or_default();
        invalid(format!("{at}{}", e.message().trim()))
    })?;
    if raw.bulletin.is_empty() {
        return Err(invalid("lists no [[bulletin]] entries".into()));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let items = raw
        .bulletin
        .into_iter()
        .map(|e| AddItem {
            file: if e.file.is_absolute() {
                e.file
            } else {
                dir.join(e.file)
            },
            title: e.title.map(|t| nfc(t.trim())).filter(|t| !t.is_empty()),
            kind: e.kind,
            topic: e.topic,
            priority: e.priority,
            producer: e.producer,
            language: e.language,
            valid_from: e.valid_from,
            valid_until: e.valid_until,
            stations: e.stations,
            notes: e.notes,
        })
        .collect();
    Ok(AddRequest { items, approve })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[bulletin]]
file = "tin.mp3"
title = "Tin: Dịch vụ công trực tuyến"
kind = "news"
topic = "e_procedures"
valid_from = "2023-01-01"

[[bulletin]]
file = "/abs/nhac-hieu.wav"
kind = "jingle"
topic = "other"
priority = "priority"
"#;

    #[test]
    fn entries_become_items_with_paths_beside_the_manifest() {
        let req = parse(GOOD, Path::new("/demo/audio/manifest.toml"), true).unwrap();
        assert!(req.approve);
        assert_eq!(req.items.len(), 2);
        assert_eq!(req.items[0].file, PathBuf::from("/demo/audio/tin.mp3"));
        assert_eq!(req.items[0].kind, Kind::News);
        assert_eq!(req.items[0].language, "vi");
        assert_eq!(req.items[0].valid_from, NaiveDate::from_ymd_opt(2023, 1, 1));
        assert_eq!(req.items[1].file, PathBuf::from("/abs/nhac-hieu.wav"));
        assert_eq!(req.items[1].priority, Priority::Priority);
        assert_eq!(req.items[1].title, None);
    }

    #[test]
    fn an_unknown_kind_is_refused_with_its_line() {
        let text = "[[bulletin]]\nfile = \"a.mp3\"\nkind = \"newz\"\ntopic = \"other\"\n";
        let msg = parse(text, Path::new("m.toml"), false)
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("m.toml: line 3:"), "{msg}");
        assert!(msg.contains("newz"), "{msg}");
    }

    #[test]
    fn a_misspelt_key_is_refused() {
        let text =
            "[[bulletin]]\nfile = \"a.mp3\"\nkind = \"news\"\ntopic = \"other\"\nproducr = \"x\"\n";
        let msg = parse(text, Path::new("m.toml"), false)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("producr"), "{msg}");
    }

    #[test]
    fn an_empty_manifest_is_refused() {
        assert!(parse("", Path::new("m.toml"), false).is_err());
    }
}
