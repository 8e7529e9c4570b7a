//! The database shape of a bulletin and its conversion to and from [`Bulletin`]. Shared by
//! both backends: `FromRow` works the same for SQLite and PostgreSQL with these column types.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::library::{AudioFacts, Bulletin, BulletinMeta, StateChange};

use super::StoreError;

/// One row of `bulletins`, column for column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BulletinRow {
    pub id: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub codec: String,
    pub container: String,
    pub sample_rate: i64,
    pub channels: i64,
    pub duration_ms: i64,
    pub frames: i64,
    pub loudness_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub leading_silence_ms: i64,
    pub trailing_silence_ms: i64,
    pub tag_title: Option<String>,
    pub tag_artist: Option<String>,
    pub title: String,
    pub kind: String,
    pub topic: String,
    pub priority: String,
    pub producer: String,
    pub language: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub stations: String,
    pub notes: String,
    pub audio_path: String,
    pub original_name: String,
    pub state: String,
    pub added_by: String,
    pub added_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub retired_by: Option<String>,
    pub retired_at: Option<String>,
}

/// Instants are stored as fixed-width RFC 3339 UTC text to the microsecond, so they sort as
/// text, read the same in both backends, and place an airing on its audio frame.
pub(crate) fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn change_parts(c: &Option<StateChange>) -> (Option<String>, Option<String>) {
    match c {
        Some(c) => (Some(c.by.clone()), Some(instant_text(c.at))),
        None => (None, None),
    }
}

impl BulletinRow {
    /// The row for a bulletin.
    pub fn from_bulletin(b: &Bulletin) -> BulletinRow {
        let a = &b.audio;
        let m = &b.meta;
        let (approved_by, approved_at) = change_parts(&b.approved);
        let (retired_by, retired_at) = change_parts(&b.retired);
        BulletinRow {
            id: b.id.to_string(),
            sha256: a.sha256.clone(),
            size_bytes: a.size_bytes as i64,
            codec: a.codec.clone(),
            container: a.container.clone(),
            sample_rate: a.sample_rate as i64,
            channels: a.channels as i64,
            duration_ms: a.duration_ms as i64,
            frames: a.frames as i64,
            loudness_lufs: a.loudness_lufs,
            loudness_range_lu: a.loudness_range_lu,
            true_peak_dbtp: a.true_peak_dbtp,
            leading_silence_ms: a.leading_silence_ms as i64,
            trailing_silence_ms: a.trailing_silence_ms as i64,
            tag_title: a.tag_title.clone(),
            tag_artist: a.tag_artist.clone(),
            title: m.title.clone(),
            kind: m.kind.to_string(),
            topic: m.topic.to_string(),
            priority: m.priority.to_string(),
            producer: m.producer.clone(),
            language: m.language.clone(),
            valid_from: date_text(m.valid_from),
            valid_until: date_text(m.valid_until),
            stations: serde_json::to_string(&m.stations).unwrap_or_else(|_| "[]".into()),
            notes: m.notes.clone(),
            audio_path: b.audio_path.clone(),
            original_name: b.original_name.clone(),
            state: b.state.to_string(),
            added_by: b.added.by.clone(),
            added_at: instant_text(b.added.at),
            approved_by,
            approved_at,
            retired_by,
            retired_at,
        }
    }

    /// The bulletin this row holds; a row that does not parse is reported, not guessed at.
    pub fn into_bulletin(self) -> Result<Bulletin, StoreError> {
        let id = self.id.clone();
        let bad = |reason: String| StoreError::Corrupt {
            id: id.clone(),
            reason,
        };
        let instant = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| bad(format!("bad instant '{s}': {e}")))
        };
        let date = |s: &Option<String>| -> Result<Option<NaiveDate>, StoreError> {
            s.as_deref()
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|e| bad(format!("bad date '{s}': {e}")))
                })
                .transpose()
        };
        let change = |by: &Option<String>, at: &Option<String>| -> Result<_, StoreError> {
            match (by, at) {
                (Some(by), Some(at)) => Ok(Some(StateChange {
                    by: by.clone(),
                    at: instant(at)?,
                })),
                _ => Ok(None),
            }
        };
        let non_negative = |v: i64, what: &str| -> Result<u64, StoreError> {
            u64::try_from(v).map_err(|_| bad(format!("negative {what}: {v}")))
        };
        Ok(Bulletin {
            id: self.id.parse().map_err(|e| bad(format!("{e}")))?,
            meta: BulletinMeta {
                title: self.title,
                kind: self.kind.parse().map_err(|e| bad(format!("{e}")))?,
                topic: self.topic.parse().map_err(|e| bad(format!("{e}")))?,
                priority: self.priority.parse().map_err(|e| bad(format!("{e}")))?,
                producer: self.producer,
                language: self.language,
                valid_from: date(&self.valid_from)?,
                valid_until: date(&self.valid_until)?,
                stations: serde_json::from_str(&self.stations)
                    .map_err(|e| bad(format!("bad station list: {e}")))?,
                notes: self.notes,
            },
            audio: AudioFacts {
                sha256: self.sha256,
                size_bytes: non_negative(self.size_bytes, "size")?,
                codec: self.codec,
                container: self.container,
                sample_rate: u32::try_from(self.sample_rate)
                    .map_err(|_| bad(format!("bad sample rate {}", self.sample_rate)))?,
                channels: u16::try_from(self.channels)
                    .map_err(|_| bad(format!("bad channel count {}", self.channels)))?,
                duration_ms: non_negative(self.duration_ms, "duration")?,
                frames: non_negative(self.frames, "frame count")?,
                loudness_lufs: self.loudness_lufs,
                loudness_range_lu: self.loudness_range_lu,
                true_peak_dbtp: self.true_peak_dbtp,
                leading_silence_ms: non_negative(self.leading_silence_ms, "leading silence")?,
                trailing_silence_ms: non_negative(self.trailing_silence_ms, "trailing silence")?,
                tag_title: self.tag_title,
                tag_artist: self.tag_artist,
            },
            audio_path: self.audio_path,
            original_name: self.original_name,
            state: self.state.parse().map_err(|e| bad(format!("{e}")))?,
            added: StateChange {
                by: self.added_by.clone(),
                at: instant(&self.added_at)?,
            },
            approved: change(&self.approved_by, &self.approved_at)?,
            retired: change(&self.retired_by, &self.retired_at)?,
        })
    }
}
