//! Library operations over a [`Store`] and the [`AudioStore`]: the all-or-nothing batch add
//! (measure every file first, store nothing unless all are good, undo stored audio if the
//! database refuses), and removal (database row first, then the audio).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::lang::{Lang, Render};
use crate::library::audio_store::{relative_path, AudioStore};
use crate::library::bulletin::{
    ApprovalState, AudioFacts, Bulletin, BulletinId, BulletinMeta, Kind, Priority, StateChange,
    Topic,
};
use crate::library::ingest::{analyze, analyze_watched, IngestError, IngestOptions};
use crate::library::limits;
use crate::progress::{Progress, Quiet};
use crate::store::{Added, Store, StoreError};
use crate::text::nfc;

/// One file to add and the operator's metadata for it.
#[derive(Debug, Clone)]
pub struct AddItem {
    /// The audio file.
    pub file: PathBuf,
    /// Title; default: the title tag, else the file name.
    pub title: Option<String>,
    /// Kind.
    pub kind: Kind,
    /// Topic.
    pub topic: Topic,
    /// Priority.
    pub priority: Priority,
    /// Producer unit.
    pub producer: String,
    /// Language tag.
    pub language: String,
    /// First valid day.
    pub valid_from: Option<NaiveDate>,
    /// Last valid day.
    pub valid_until: Option<NaiveDate>,
    /// Target stations (empty: all).
    pub stations: Vec<String>,
    /// Notes.
    pub notes: String,
}

/// A batch of files added together: all or none.
#[derive(Debug, Clone)]
pub struct AddRequest {
    /// The files, in the order given.
    pub items: Vec<AddItem>,
    /// Approve every new bulletin at once.
    pub approve: bool,
}

/// Why a batch add stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The request itself is inconsistent.
    #[error("{0}")]
    BadRequest(String),
    /// One file's metadata breaks a rule; nothing was read.
    #[error("{}: {problem}", file.display())]
    Item {
        /// The file the metadata is for.
        file: PathBuf,
        /// What is wrong.
        problem: ItemProblem,
    },
    /// One or more files were refused; nothing was added.
    #[error("{} file(s) refused; nothing was added", .0.len())]
    Refused(Vec<IngestError>),
    /// Copying audio into the store failed; nothing was added.
    #[error("{path}: cannot copy into the audio store: {source}; nothing was added")]
    AudioStore {
        /// The source file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database refused; stored audio was removed again; nothing was added.
    #[error("{0}; nothing was added")]
    Store(#[from] StoreError),
}

/// What is wrong with one file's metadata (as `library add` says it; in Vietnamese through
/// [`Render`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemProblem {
    /// A text over its limit, or too many stations.
    #[error("{0}")]
    Text(#[from] limits::TextError),
    /// The validity ends before it starts.
    #[error("valid-until {} is before valid-from {}", until.format("%d/%m/%Y"), from.format("%d/%m/%Y"))]
    Dates {
        /// First day.
        from: NaiveDate,
        /// Last day.
        until: NaiveDate,
    },
    /// A station that is not a code.
    #[error("'{0}' is not a station code (lower-case letters, digits and '-', e.g. vinh-hung)")]
    Station(String),
}

impl ItemProblem {
    /// The metadata field the problem is at (`title`, `producer`, `notes`, `language`,
    /// `valid_until`, `stations`).
    pub fn field(&self) -> &'static str {
        match self {
            ItemProblem::Text(limits::TextError::TooLong { field, .. }) => field,
            ItemProblem::Text(limits::TextError::TooManyStations { .. }) => "stations",
            ItemProblem::Text(limits::TextError::EmptyTitle) => "title",
            ItemProblem::Dates { .. } => "valid_until",
            ItemProblem::Station(_) => "stations",
        }
    }
}

impl Render for ItemProblem {
    fn render(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, _) => self.to_string(),
            (Lang::Vi, ItemProblem::Text(e)) => e.render(Lang::Vi),
            (Lang::Vi, ItemProblem::Dates { from, until }) => format!(
                "ngày hết hiệu lực {} trước ngày bắt đầu {}",
                until.format("%d/%m/%Y"),
                from.format("%d/%m/%Y")
            ),
            (Lang::Vi, ItemProblem::Station(s)) => {
                format!("'{s}' không phải mã đài (chữ thường, số và '-', ví dụ vinh-hung)")
            }
        }
    }
}

/// Checks the request before any file is read.
fn validate(req: &AddRequest) -> Result<(), AddError> {
    if req.items.is_empty() {
        return Err(AddError::BadRequest("no file given".into()));
    }
    for item in &req.items {
        let refuse = |problem: ItemProblem| AddError::Item {
            file: item.file.clone(),
            problem,
        };
        check_texts(item).map_err(|e| refuse(ItemProblem::Text(e)))?;
        if let (Some(from), Some(until)) = (item.valid_from, item.valid_until) {
            if until < from {
                return Err(refuse(ItemProblem::Dates { from, until }));
            }
        }
        if let Some(s) = item.stations.iter().find(|s| !is_station_code(s)) {
            return Err(refuse(ItemProblem::Station(s.clone())));
        }
    }
    Ok(())
}

/// The operator's text of one item against the [`limits`]; a title taken from a tag or the
/// file name is cut to length instead (see [`record`]).
fn check_texts(item: &AddItem) -> Result<(), limits::TextError> {
    if let Some(t) = &item.title {
        limits::check_len("title", &nfc(t.trim()), limits::TITLE_MAX)?;
    }
    limits::check_len("producer", &nfc(item.producer.trim()), limits::PRODUCER_MAX)?;
    limits::check_len("notes", &nfc(&item.notes), limits::NOTES_MAX)?;
    limits::check_len("language", item.language.trim(), limits::LANGUAGE_MAX)?;
    if item.stations.len() > limits::STATIONS_MAX {
        return Err(limits::TextError::TooManyStations {
            count: item.stations.len(),
            max: limits::STATIONS_MAX,
        });
    }
    Ok(())
}

/// Station codes are lower-case ASCII slugs such as `vinh-loc` or `xa-vinh-hung`.
pub fn is_station_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// The bulletin record for one measured file.
fn record(
    item: &AddItem,
    approve: bool,
    facts: AudioFacts,
    by: &str,
    now: DateTime<Utc>,
) -> Bulletin {
    let path: &Path = &item.file;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name.clone());
    let title = item
        .title
        .clone()
        .or_else(|| facts.tag_title.clone().filter(|t| !t.trim().is_empty()))
        .unwrap_or(stem);
    let title = match title.char_indices().nth(limits::TITLE_MAX) {
        Some((cut, _)) => title[..cut].trim_end().to_string(),
        None => title,
    };
    let change = StateChange {
        by: by.to_string(),
        at: now,
    };
    Bulletin {
        id: BulletinId::from_sha256(&facts.sha256),
        meta: BulletinMeta {
            title,
            kind: item.kind,
            topic: item.topic,
            priority: item.priority,
            producer: item.producer.clone(),
            language: item.language.clone(),
            valid_from: item.valid_from,
            valid_until: item.valid_until,
            stations: item.stations.clone(),
            notes: item.notes.clone(),
        }
        .normalized(),
        audio_path: relative_path(&facts.sha256, &facts.container),
        audio: facts,
        original_name: nfc(&file_name),
        state: if approve {
            ApprovalState::Approved
        } else {
            ApprovalState::Draft
        },
        added: change.clone(),
        approved: approve.then_some(change),
        retired: None,
    }
}

/// Adds a batch of files: all are added or none is.
pub async fn add_files(
    store: &dyn Store,
    audio: &AudioStore,
    opts: &IngestOptions,
    req: &AddRequest,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Added>, AddError> {
    add_files_with(store, audio, opts, req, by, now, Arc::new(Quiet)).await
}

/// [`add_files`], telling `progress` of each file measured.
pub async fn add_files_with(
    store: &dyn Store,
    audio: &AudioStore,
    opts: &IngestOptions,
    req: &AddRequest,
    by: &str,
    now: DateTime<Utc>,
    progress: Arc<dyn Progress>,
) -> Result<Vec<Added>, AddError> {
    validate(req)?;
    let files: Vec<PathBuf> = req.items.iter().map(|i| i.file.clone()).collect();
    let opts2 = opts.clone();
    progress.more(files.len() as u64);
    let measured = tokio::task::spawn_blocking(move || {
        files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let m = match progress.part(i) {
                    Some(part) => analyze_watched(f, &opts2, part.as_ref()),
                    None => analyze(f, &opts2),
                };
                progress.advance(1);
                m
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| AddError::BadRequest(format!("the measuring task failed: {e}")))?;
    let mut refused = Vec::new();
    let mut records = Vec::new();
    for (item, m) in req.items.iter().zip(measured) {
        match m {
            Ok(facts) => {
                if !records
                    .iter()
                    .any(|(_, b): &(PathBuf, Bulletin)| b.audio.sha256 == facts.sha256)
                {
                    let b = record(item, req.approve, facts, by, now);
                    records.push((item.file.clone(), b));
                }
            }
            Err(e) => refused.push(e),
        }
    }
    if !refused.is_empty() {
        return Err(AddError::Refused(refused));
    }
    let mut written: Vec<String> = Vec::new();
    for (path, b) in &records {
        match audio.put(path, &b.audio_path, &b.audio.sha256) {
            Ok(true) => written.push(b.audio_path.clone()),
            Ok(false) => {}
            Err(source) => {
                undo(audio, &written);
                return Err(AddError::AudioStore {
                    path: path.clone(),
                    source,
                });
            }
        }
    }
    let bulletins: Vec<Bulletin> = records.into_iter().map(|(_, b)| b).collect();
    match store.add_bulletins(&bulletins).await {
        Ok(added) => Ok(added),
        Err(e) => {
            undo(audio, &written);
            Err(AddError::Store(e))
        }
    }
}

/// Removes audio written by a batch that did not complete.
fn undo(audio: &AudioStore, written: &[String]) {
    for rel in written {
        if let Err(e) = audio.remove(rel) {
            tracing::error!(file = %rel, error = %e, "cannot remove audio of a refused batch");
        }
    }
}

/// Removes a bulletin that never aired: its row, then its audio.
pub async fn remove(
    store: &dyn Store,
    audio: &AudioStore,
    id: &BulletinId,
) -> Result<Bulletin, StoreError> {
    let gone = store.remove_bulletin(id).await?;
    if let Err(e) = audio.remove(&gone.audio_path) {
        tracing::warn!(bulletin = %id, file = %gone.audio_path, error = %e,
            "bulletin removed but its audio file could not be deleted");
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(files: &[&str]) -> AddRequest {
        AddRequest {
            items: files
                .iter()
                .map(|f| AddItem {
                    file: PathBuf::from(f),
                    title: None,
                    kind: Kind::News,
                    topic: Topic::Documents,
                    priority: Priority::Normal,
                    producer: String::new(),
                    language: "vi".into(),
                    valid_from: None,
                    valid_until: None,
                    stations: vec![],
                    notes: String::new(),
                })
                .collect(),
            approve: false,
        }
    }

    #[test]
    fn a_metadata_problem_names_its_field_and_says_it_in_vietnamese_too() {
        let mut r = req(&["a.mp3"]);
        r.items[0].valid_from = NaiveDate::from_ymd_opt(2026, 5, 2);
        r.items[0].valid_until = NaiveDate::from_ymd_opt(2026, 5, 1);
        let Err(AddError::Item { problem, .. }) = validate(&r) else {
            panic!("refused as an item's problem");
        };
        assert_eq!(problem.field(), "valid_until");
        assert_eq!(
            problem.render(Lang::Vi),
            "ngày hết hiệu lực 01/05/2026 trước ngày bắt đầu 02/05/2026"
        );
        assert_eq!(
            problem.render(Lang::En),
            "valid-until 01/05/2026 is before valid-from 02/05/2026"
        );
        let mut r = req(&["a.mp3"]);
        r.items[0].notes = "x".repeat(limits::NOTES_MAX + 1);
        let Err(AddError::Item { problem, .. }) = validate(&r) else {
            panic!("refused as an item's problem");
        };
        assert_eq!(problem.field(), "notes");
        assert!(problem
            .render(Lang::Vi)
            .starts_with("Ghi chú: dài 2001 ký tự"));
    }

    #[test]
    fn an_empty_batch_is_refused() {
        assert!(matches!(validate(&req(&[])), Err(AddError::BadRequest(_))));
    }

    #[test]
    fn a_station_name_instead_of_a_code_is_refused_naming_the_file() {
        let mut r = req(&["a.mp3"]);
        r.items[0].stations = vec!["Vĩnh Hùng".into()];
        let msg = validate(&r).unwrap_err().to_string();
        assert!(msg.starts_with("a.mp3:"), "{msg}");
    }

    #[test]
    fn validity_that_ends_before_it_starts_is_refused() {
        let mut r = req(&["a.mp3"]);
        r.items[0].valid_from = NaiveDate::from_ymd_opt(2023, 3, 1);
        r.items[0].valid_until = NaiveDate::from_ymd_opt(2023, 2, 1);
        let msg = validate(&r).unwrap_err().to_string();
        assert!(msg.contains("01/02/2023"), "{msg}");
    }

    #[test]
    fn a_title_over_the_limit_is_refused_naming_the_file_and_the_length() {
        let mut r = req(&["tin.mp3"]);
        r.items[0].title = Some("Tiêu đề ".repeat(400));
        let msg = validate(&r).unwrap_err().to_string();
        assert_eq!(
            msg,
            "tin.mp3: the title is 3199 characters long; at most 200 are allowed"
        );
    }

    #[test]
    fn a_title_from_a_long_file_name_is_cut_to_the_limit() {
        let mut item = req(&["x.wav"]).items.remove(0);
        item.file = PathBuf::from(format!("{}.wav", "b".repeat(250)));
        let facts = AudioFacts {
            sha256: "a".repeat(64),
            size_bytes: 1,
            codec: "pcm_s16le".into(),
            container: "wav".into(),
            sample_rate: 8000,
            channels: 1,
            duration_ms: 1000,
            frames: 8000,
            loudness_lufs: None,
            loudness_range_lu: None,
            true_peak_dbtp: None,
            leading_silence_ms: 0,
            trailing_silence_ms: 0,
            tag_title: None,
            tag_artist: None,
        };
        let b = record(&item, false, facts, "t", DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(b.meta.title.chars().count(), limits::TITLE_MAX);
    }

    #[test]
    fn station_codes_are_slugs() {
        assert!(is_station_code("vinh-hung"));
        assert!(is_station_code("xa-2"));
        assert!(!is_station_code("Vĩnh Hùng"));
        assert!(!is_station_code("-x"));
        assert!(!is_station_code(""));
    }
}
