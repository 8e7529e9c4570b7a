//! Correcting a bulletin's metadata after it was added (`loa library edit ID`): the title,
//! producer, validity, target stations and notes. Pure: [`MetaEdit::apply`] takes the
//! metadata as stored and returns the new metadata and the list of fields that changed,
//! old and new; the store writes both in one transaction with who and when
//! ([`crate::store::EditStore`]), so a correction made after airing is on record.
//!
//! Kind, topic and priority are not editable here: they decide what the schedules and the
//! reports already counted; the audio is the bulletin's identity and never changes.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::library::bulletin::{BulletinId, BulletinMeta};
use crate::library::limits::{self, TextError};
use crate::library::service::is_station_code;
use crate::store::StoreError;

/// The changes asked for; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaEdit {
    /// A new title.
    pub title: Option<String>,
    /// A new producer unit (empty clears it).
    pub producer: Option<String>,
    /// A new first valid day (`Some(None)` clears it).
    pub valid_from: Option<Option<NaiveDate>>,
    /// A new last valid day (`Some(None)` clears it).
    pub valid_until: Option<Option<NaiveDate>>,
    /// New target stations (empty: every station).
    pub stations: Option<Vec<String>>,
    /// New notes (empty clears them).
    pub notes: Option<String>,
}

/// An editable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Tiêu đề.
    Title,
    /// Đơn vị sản xuất.
    Producer,
    /// Hiệu lực từ.
    ValidFrom,
    /// Hiệu lực đến.
    ValidUntil,
    /// Đài phát.
    Stations,
    /// Ghi chú.
    Notes,
}

impl Field {
    /// Every field, in the order changes are listed.
    pub const ALL: [Field; 6] = [
        Field::Title,
        Field::Producer,
        Field::ValidFrom,
        Field::ValidUntil,
        Field::Stations,
        Field::Notes,
    ];

    /// The name stored in the database and shown in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Producer => "producer",
            Field::ValidFrom => "valid_from",
            Field::ValidUntil => "valid_until",
            Field::Stations => "stations",
            Field::Notes => "notes",
        }
    }

    /// The Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            Field::Title => "Tiêu đề",
            Field::Producer => "Đơn vị sản xuất",
            Field::ValidFrom => "Hiệu lực từ",
            Field::ValidUntil => "Hiệu lực đến",
            Field::Stations => "Đài phát",
            Field::Notes => "Ghi chú",
        }
    }

    /// The field named `s` in the database.
    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field's change, as text (dates `YYYY-MM-DD`, stations comma-separated, empty for
/// none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Which field.
    pub field: Field,
    /// Its value before.
    pub old: String,
    /// Its value after.
    pub new: String,
}

/// A recorded change: what, who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditRecord {
    /// The field and its values.
    #[serde(flatten)]
    pub change: FieldChange,
    /// The operator.
    pub by: String,
    /// When, UTC.
    pub at: DateTime<Utc>,
}

/// Why an edit changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// No field was given.
    #[error("nothing to change: give at least one of --title, --producer, --valid-from, --valid-until, --stations, --notes")]
    Nothing,
    /// No bulletin has that id.
    #[error("no bulletin with id {0} in the library")]
    NotFound(BulletinId),
    /// A text field is too long or the title empty.
    #[error("bulletin {id}: {error}")]
    Text {
        /// The bulletin.
        id: BulletinId,
        /// What is wrong.
        error: TextError,
    },
    /// The validity would end before it starts.
    #[error("bulletin {id}: valid-until {until} would be before valid-from {from}")]
    Dates {
        /// The bulletin.
        id: BulletinId,
        /// First day, dd/mm/yyyy.
        from: String,
        /// Last day, dd/mm/yyyy.
        until: String,
    },
    /// A station that is not a code.
    #[error("bulletin {id}: '{station}' is not a station code (lower-case letters, digits and '-', e.g. vinh-hung)")]
    Station {
        /// The bulletin.
        id: BulletinId,
        /// The text given.
        station: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EditError {
    /// Whether the operator's input is at fault (exit code 2) rather than the database.
    pub fn is_input(&self) -> bool {
        !matches!(self, EditError::Store(_))
    }
}

fn date_text(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl MetaEdit {
    /// Whether no field is to change.
    pub fn is_empty(&self) -> bool {
        *self == MetaEdit::default()
    }

    /// The metadata after the edit and the fields that really changed (a field given with
    /// its current value is not a change). Text is trimmed and NFC, as on add.
    pub fn apply(
        &self,
        id: &BulletinId,
        meta: &BulletinMeta,
    ) -> Result<(BulletinMeta, Vec<FieldChange>), EditError> {
        if self.is_empty() {
            return Err(EditError::Nothing);
        }
        let mut next = meta.clone();
        if let Some(t) = &self.title {
            next.title = t.clone();
        }
        if let Some(p) = &self.producer {
            next.producer = p.clone();
        }
        if let Some(d) = self.valid_from {
            next.valid_from = d;
        }
        if let Some(d) = self.valid_until {
            next.valid_until = d;
        }
        if let Some(s) = &self.stations {
            next.stations = s.iter().filter(|s| !s.trim().is_empty()).cloned().collect();
        }
        if let Some(n) = &self.notes {
            next.notes = n.clone();
        }
        let next = next.normalized();
        limits::check_meta(&next).map_err(|error| EditError::Text { id: *id, error })?;
        if let (Some(f), Some(u)) = (next.valid_from, next.valid_until) {
            if u < f {
                return Err(EditError::Dates {
                    id: *id,
                    from: f.format("%d/%m/%Y").to_string(),
                    until: u.format("%d/%m/%Y").to_string(),
                });
            }
        }
        if let Some(bad) = next.stations.iter().find(|s| !is_station_code(s)) {
            return Err(EditError::Station {
                id: *id,
                station: bad.clone(),
            });
        }
        let text = |m: &BulletinMeta, f: Field| match f {
            Field::Title => m.title.clone(),
            Field::Producer => m.producer.clone(),
            Field::ValidFrom => date_text(m.valid_from),
            Field::ValidUntil => date_text(m.valid_until),
            Field::Stations => m.stations.join(","),
            Field::Notes => m.notes.clone(),
        };
        let changes = Field::ALL
            .into_iter()
            .filter_map(|field| {
                let (old, new) = (text(meta, field), text(&next, field));
                (old != new).then_some(FieldChange { field, old, new })
            })
            .collect();
        Ok((next, changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::bulletin::{Kind, Priority, Topic};

    fn id() -> BulletinId {
        "0123456789ab".parse().unwrap()
    }

    fn meta() -> BulletinMeta {
        BulletinMeta {
            title: "Tin cũ".into(),
            kind: Kind::News,
            topic: Topic::Other,
            priority: Priority::Normal,
            producer: "Phòng Nội vụ".into(),
            language: "vi".into(),
            valid_from: NaiveDate::from_ymd_opt(2023, 1, 1),
            valid_until: None,
            stations: vec![],
            notes: String::new(),
        }
    }

    #[test]
    fn only_the_fields_that_change_are_listed_with_old_and_new_values() {
        let edit = MetaEdit {
            title: Some("  Tin mới ".into()),
            producer: Some("Phòng Nội vụ".into()),
            valid_from: Some(None),
            stations: Some(vec!["vinh-an".into(), "vinh-hung".into()]),
            ..MetaEdit::default()
        };
        let (next, changes) = edit.apply(&id(), &meta()).unwrap();
        assert_eq!(next.title, "Tin mới");
        assert_eq!(next.valid_from, None);
        assert_eq!(
            changes,
            vec![
                FieldChange {
                    field: Field::Title,
                    old: "Tin cũ".into(),
                    new: "Tin mới".into()
                },
                FieldChange {
                    field: Field::ValidFrom,
                    old: "2023-01-01".into(),
                    new: String::new()
                },
                FieldChange {
                    field: Field::Stations,
                    old: String::new(),
                    new: "vinh-an,vinh-hung".into()
                },
            ]
        );
    }

    #[test]
    fn an_edit_with_no_field_is_refused() {
        let e = MetaEdit::default().apply(&id(), &meta()).unwrap_err();
        assert!(matches!(e, EditError::Nothing));
    }

    #[test]
    fn a_too_long_or_empty_title_is_refused_naming_the_bulletin() {
        let edit = MetaEdit {
            title: Some("x".repeat(limits::TITLE_MAX + 1)),
            ..MetaEdit::default()
        };
        assert_eq!(
            edit.apply(&id(), &meta()).unwrap_err().to_string(),
            "bulletin 0123456789ab: the title is 201 characters long; at most 200 are allowed"
        );
        let edit = MetaEdit {
            title: Some("   ".into()),
            ..MetaEdit::default()
        };
        assert_eq!(
            edit.apply(&id(), &meta()).unwrap_err().to_string(),
            "bulletin 0123456789ab: the title is empty"
        );
    }

    #[test]
    fn validity_that_would_end_before_it_starts_is_refused() {
        let edit = MetaEdit {
            valid_until: Some(NaiveDate::from_ymd_opt(2022, 12, 31)),
            ..MetaEdit::default()
        };
        assert_eq!(
            edit.apply(&id(), &meta()).unwrap_err().to_string(),
            "bulletin 0123456789ab: valid-until 31/12/2022 would be before valid-from 01/01/2023"
        );
    }

    #[test]
    fn a_station_name_instead_of_a_code_is_refused() {
        let edit = MetaEdit {
            stations: Some(vec!["Vĩnh An".into()]),
            ..MetaEdit::default()
        };
        let e = edit.apply(&id(), &meta()).unwrap_err().to_string();
        assert!(e.contains("'Vĩnh An' is not a station code"), "{e}");
    }
}
