//! Bulletin metadata: the closed vocabularies (kind, topic, priority, approval state), the
//! identifier, and the record the library keeps for each recorded item.
//!
//! Every vocabulary type is parsed from its wire name (`news`, `e_procedures`, …) and rejects
//! anything else, so the rest of the program never holds an unknown kind or topic.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::text::nfc;

/// Declares a closed vocabulary: an enum with its wire names, Vietnamese labels and a parser.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident = $wire:literal / $vi:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in the order the plan and reports list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in files, the database, the CLI and JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The Vietnamese label shown to operators and in reports.
            pub fn label_vi(self) -> &'static str {
                match self { $($name::$variant => $vi),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, so that table columns (`{:<8}`) line up.
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = VocabularyError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($wire => Ok($name::$variant),)+
                    other => Err(VocabularyError {
                        what: $what,
                        given: other.to_string(),
                        allowed: vec![$($wire),+],
                    }),
                }
            }
        }
    };
}

/// A value outside one of the closed vocabularies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}' (expected one of: {})", allowed.join(", "))]
pub struct VocabularyError {
    /// Which vocabulary was being parsed ("kind", "topic", …).
    pub what: &'static str,
    /// What the input said.
    pub given: String,
    /// The accepted names, for the message.
    pub allowed: Vec<&'static str>,
}

vocabulary!(
    /// What sort of item a bulletin is (PRODUCT.md vocabulary).
    Kind, "kind", {
        /// Tin: a news item.
        News = "news" / "Tin",
        /// Bài: an article.
        Article = "article" / "Bài",
        /// Chuyên mục: a thematic column (V.4: one per quarter).
        Column = "column" / "Chuyên mục",
        /// Khẩu hiệu: a short slogan aired between items.
        Spot = "spot" / "Khẩu hiệu",
        /// Nhạc hiệu: an intro or outro jingle.
        Jingle = "jingle" / "Nhạc hiệu",
    }
);

vocabulary!(
    /// The content area of the seed plan, section III.1–III.5.
    Topic, "topic", {
        /// III.1: central and provincial documents on administrative reform.
        Documents = "documents" / "Văn bản của Trung ương và của tỉnh về CCHC",
        /// III.2: electronic procedures and the public postal service (BCCI).
        EProcedures = "e_procedures" / "Thủ tục hành chính trên môi trường điện tử, dịch vụ BCCI",
        /// III.3: control of administrative procedures and citizens' feedback.
        ProcedureControl = "procedure_control" / "Kiểm soát thủ tục hành chính, phản ánh, kiến nghị",
        /// III.4: good examples and criticism.
        Examples = "examples" / "Nêu gương người tốt, việc tốt; phê bình",
        /// III.5: other reform tasks.
        Other = "other" / "Nhiệm vụ khác liên quan đến CCHC",
    }
);

impl Topic {
    /// The clause of the seed plan this topic implements ("III.1" … "III.5").
    pub fn clause(self) -> &'static str {
        match self {
            Topic::Documents => "III.1",
            Topic::EProcedures => "III.2",
            Topic::ProcedureControl => "III.3",
            Topic::Examples => "III.4",
            Topic::Other => "III.5",
        }
    }
}

vocabulary!(
    /// Broadcast priority: the three levels of Circular 39/2020/TT-BTTTT for commune stations.
    Priority, "priority", {
        /// Thông thường.
        Normal = "normal" / "Thông thường",
        /// Ưu tiên.
        Priority = "priority" / "Ưu tiên",
        /// Khẩn cấp.
        Emergency = "emergency" / "Khẩn cấp",
    }
);

vocabulary!(
    /// Where a bulletin is in its approval life: only `approved` ones are scheduled.
    ApprovalState, "approval state", {
        /// Uploaded, not yet approved: never scheduled.
        Draft = "draft" / "Bản nháp",
        /// Approved for broadcast.
        Approved = "approved" / "Đã duyệt",
        /// Withdrawn from rotation; kept because the airlog may point at it.
        Retired = "retired" / "Ngừng phát",
    }
);

impl ApprovalState {
    /// Whether an operator may move a bulletin from `self` to `next`.
    ///
    /// draft → approved → retired, and a retired bulletin may be approved again
    /// (re-entering rotation); nothing goes back to draft.
    pub fn can_become(self, next: ApprovalState) -> bool {
        matches!(
            (self, next),
            (ApprovalState::Draft, ApprovalState::Approved)
                | (ApprovalState::Draft, ApprovalState::Retired)
                | (ApprovalState::Approved, ApprovalState::Retired)
                | (ApprovalState::Retired, ApprovalState::Approved)
        )
    }
}

/// A bulletin's identifier: the first 12 hex digits of the SHA-256 of its audio file.
///
/// Content-addressed, so the same bytes always get the same id and adding them twice finds
/// the existing bulletin. Held inline (12 ASCII bytes, no allocation): schedules and a
/// year of airing history hold millions of them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BulletinId([u8; ID_LEN]);

impl fmt::Debug for BulletinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BulletinId({})", self.as_str())
    }
}

/// How many hex digits of the SHA-256 make a bulletin id.
pub const ID_LEN: usize = 12;

impl BulletinId {
    /// The id of the audio whose SHA-256 (lower-case hex) is `sha256`.
    ///
    /// # Panics
    /// When `sha256` is not hex of at least 12 digits (callers pass a computed digest).
    pub fn from_sha256(sha256: &str) -> BulletinId {
        sha256[..ID_LEN].parse().expect("a SHA-256 digest is hex")
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only lower-case ASCII hex digits are ever stored (see `from_str`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Text that is not a bulletin id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a bulletin id (expected {ID_LEN} hex digits, as `loa library list` shows)")]
pub struct BadBulletinId(pub String);

impl FromStr for BulletinId {
    type Err = BadBulletinId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.len() == ID_LEN && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut id = [0u8; ID_LEN];
            id.copy_from_slice(t.to_ascii_lowercase().as_bytes());
            Ok(BulletinId(id))
        } else {
            Err(BadBulletinId(s.to_string()))
        }
    }
}

impl TryFrom<String> for BulletinId {
    type Error = BadBulletinId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<BulletinId> for String {
    fn from(id: BulletinId) -> String {
        id.as_str().to_string()
    }
}

impl fmt::Display for BulletinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What ingest measured of a bulletin's audio; stored with the bulletin and used by playout
/// (loudness gain, trimming) and reports (durations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioFacts {
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Container/codec as detected from the content, e.g. "mp3", "flac", "aac".
    pub codec: String,
    /// The container format, e.g. "mp3", "wav", "flac", "ogg", "mp4"; also the stored extension.
    pub container: String,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u16,
    /// Exact decoded length, encoder delay and padding removed.
    pub duration_ms: u64,
    /// Exact decoded length in sample frames.
    pub frames: u64,
    /// EBU R128 integrated loudness, LUFS (None when the item is all silence).
    pub loudness_lufs: Option<f64>,
    /// EBU R128 loudness range, LU.
    pub loudness_range_lu: Option<f64>,
    /// True peak, dBTP (None when the item is digital silence).
    pub true_peak_dbtp: Option<f64>,
    /// Silence at the start, below the configured threshold, in ms.
    pub leading_silence_ms: u64,
    /// Silence at the end, below the configured threshold, in ms.
    pub trailing_silence_ms: u64,
    /// Title tag, NFC, when the file has one.
    pub tag_title: Option<String>,
    /// Artist tag, NFC, when the file has one.
    pub tag_artist: Option<String>,
}

/// Who and when for an approval-state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    /// Operator name, or "loa" for the daemon.
    pub by: String,
    /// When, UTC.
    pub at: DateTime<Utc>,
}

/// Operator-given metadata of a bulletin (everything that is not measured from the audio).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulletinMeta {
    /// Title, NFC: from the command line, else the title tag, else the file name.
    pub title: String,
    /// Tin, bài, chuyên mục, khẩu hiệu or nhạc hiệu.
    pub kind: Kind,
    /// Content area III.1–III.5.
    pub topic: Topic,
    /// Broadcast priority.
    pub priority: Priority,
    /// The unit that produced it (V: responsibilities), NFC; empty when not given.
    pub producer: String,
    /// BCP 47 language tag of the speech, "vi" by default.
    pub language: String,
    /// First day it may air (station-local date), inclusive.
    pub valid_from: Option<NaiveDate>,
    /// Last day it may air (station-local date), inclusive.
    pub valid_until: Option<NaiveDate>,
    /// Station codes it is meant for; empty means every station.
    pub stations: Vec<String>,
    /// Free notes, NFC.
    pub notes: String,
}

impl BulletinMeta {
    /// Whether the bulletin may air on `date` (station-local).
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| date >= f) && self.valid_until.is_none_or(|u| date <= u)
    }

    /// Whether the bulletin is meant for `station`.
    pub fn targets(&self, station: &str) -> bool {
        self.stations.is_empty() || self.stations.iter().any(|s| s == station)
    }

    /// Normalises every free-text field to NFC (the rule for all stored text).
    pub fn normalized(mut self) -> Self {
        self.title = nfc(self.title.trim());
        self.producer = nfc(self.producer.trim());
        self.notes = nfc(&self.notes);
        self.stations = self.stations.iter().map(|s| nfc(s.trim())).collect();
        self
    }
}

/// A bulletin as the library keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bulletin {
    /// Content-addressed id.
    pub id: BulletinId,
    /// Operator metadata.
    #[serde(flatten)]
    pub meta: BulletinMeta,
    /// What ingest measured.
    pub audio: AudioFacts,
    /// Path of the audio inside the audio store, e.g. `ab/cdef….mp3`.
    pub audio_path: String,
    /// The file name it was added from (for operators; not used to find the audio).
    pub original_name: String,
    /// Approval state.
    pub state: ApprovalState,
    /// Who added it and when.
    pub added: StateChange,
    /// Who approved it and when (the latest approval).
    pub approved: Option<StateChange>,
    /// Who retired it and when.
    pub retired: Option<StateChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vocabulary_name_parses_back_to_itself() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), *k);
        }
        for t in Topic::ALL {
            assert_eq!(t.as_str().parse::<Topic>().unwrap(), *t);
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>().unwrap(), *p);
        }
        for s in ApprovalState::ALL {
            assert_eq!(s.as_str().parse::<ApprovalState>().unwrap(), *s);
        }
    }

    #[test]
    fn an_unknown_topic_is_refused_with_the_allowed_names() {
        let err = "laws".parse::<Topic>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown topic 'laws'"), "{msg}");
        assert!(msg.contains("e_procedures"), "{msg}");
    }

    #[test]
    fn nothing_goes_back_to_draft() {
        for s in ApprovalState::ALL {
            assert!(!s.can_become(ApprovalState::Draft));
        }
        assert!(ApprovalState::Draft.can_become(ApprovalState::Approved));
        assert!(ApprovalState::Approved.can_become(ApprovalState::Retired));
        assert!(!ApprovalState::Approved.can_become(ApprovalState::Approved));
    }

    #[test]
    fn a_bulletin_id_is_twelve_hex_digits() {
        assert!("0123456789ab".parse::<BulletinId>().is_ok());
        assert!("0123456789AB".parse::<BulletinId>().is_ok());
        assert!("0123456789a".parse::<BulletinId>().is_err());
        assert!("0123456789ag".parse::<BulletinId>().is_err());
        let id = BulletinId::from_sha256(&"f".repeat(64));
        assert_eq!(id.as_str(), "ffffffffffff");
    }

    #[test]
    fn validity_is_inclusive_at_both_ends() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let meta = BulletinMeta {
            title: "t".into(),
            kind: Kind::News,
            topic: Topic::Other,
            priority: Priority::Normal,
            producer: String::new(),
            language: "vi".into(),
            valid_from: Some(d("2023-03-01")),
            valid_until: Some(d("2023-03-31")),
            stations: vec![],
            notes: String::new(),
        };
        assert!(!meta.valid_on(d("2023-02-28")));
        assert!(meta.valid_on(d("2023-03-01")));
        assert!(meta.valid_on(d("2023-03-31")));
        assert!(!meta.valid_on(d("2023-04-01")));
        assert!(meta.targets("any"));
    }
}
