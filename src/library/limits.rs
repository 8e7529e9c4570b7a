//! How long the operator's words on a bulletin may be. A title is printed in report tables,
//! on the console and in spreadsheet cells (Excel holds at most 32,767 characters in one):
//! a 3-million-character title pasted by mistake must be refused when it is given, naming
//! the field, not break every export of the period later.
//!
//! Lengths count characters (Unicode scalar values) after NFC, as an operator sees them.

use crate::library::bulletin::BulletinMeta;

/// Most characters in a title.
pub const TITLE_MAX: usize = 200;
/// Most characters in a producer unit's name.
pub const PRODUCER_MAX: usize = 200;
/// Most characters in the notes.
pub const NOTES_MAX: usize = 2_000;
/// Most characters in the language tag (BCP 47 tags in use are far shorter).
pub const LANGUAGE_MAX: usize = 35;
/// Most target stations one bulletin may list.
pub const STATIONS_MAX: usize = 500;

/// A text field over its limit, or a title left empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Longer than allowed.
    #[error("the {field} is {length} characters long; at most {max} are allowed")]
    TooLong {
        /// Which field ("title", "producer", …).
        field: &'static str,
        /// Its length in characters.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// More target stations than allowed.
    #[error("{count} target stations are listed; at most {max} are allowed")]
    TooManyStations {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The title is empty or only spaces.
    #[error("the title is empty")]
    EmptyTitle,
}

/// A text field's Vietnamese name.
pub fn field_vi(field: &str) -> &'static str {
    match field {
        "title" => "Tiêu đề",
        "producer" => "Đơn vị sản xuất",
        "notes" => "Ghi chú",
        "language" => "Ngôn ngữ",
        _ => "Trường",
    }
}

impl crate::lang::Render for TextError {
    fn render(&self, lang: crate::lang::Lang) -> String {
        if lang == crate::lang::Lang::En {
            return self.to_string();
        }
        match self {
            TextError::TooLong { field, length, max } => {
                format!("{}: dài {length} ký tự, tối đa {max}", field_vi(field))
            }
            TextError::TooManyStations { count, max } => {
                format!("có {count} đài phát; tối đa {max}")
            }
            TextError::EmptyTitle => "tiêu đề không được để trống".into(),
        }
    }
}

/// Checks one field against its limit.
pub fn check_len(field: &'static str, text: &str, max: usize) -> Result<(), TextError> {
    // Count only as far as needed: a huge paste is refused without walking all of it.
    match text.chars().nth(max) {
        None => Ok(()),
        Some(_) => Err(TextError::TooLong {
            field,
            length: text.chars().count(),
            max,
        }),
    }
}

/// Checks every free-text field of `meta` (after normalisation).
pub fn check_meta(meta: &BulletinMeta) -> Result<(), TextError> {
    if meta.title.trim().is_empty() {
        return Err(TextError::EmptyTitle);
    }
    check_len("title", &meta.title, TITLE_MAX)?;
    check_len("producer", &meta.producer, PRODUCER_MAX)?;
    check_len("notes", &meta.notes, NOTES_MAX)?;
    check_len("language", &meta.language, LANGUAGE_MAX)?;
    if meta.stations.len() > STATIONS_MAX {
        return Err(TextError::TooManyStations {
            count: meta.stations.len(),
            max: STATIONS_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::bulletin::{Kind, Priority, Topic};

    fn meta(title: &str) -> BulletinMeta {
        BulletinMeta {
            title: title.into(),
            kind: Kind::News,
            topic: Topic::Other,
            priority: Priority::Normal,
            producer: String::new(),
            language: "vi".into(),
            valid_from: None,
            valid_until: None,
            stations: vec![],
            notes: String::new(),
        }
    }

    #[test]
    fn a_title_of_200_vietnamese_characters_is_accepted_and_201_refused() {
        let ok = "ầ".repeat(TITLE_MAX);
        assert_eq!(check_meta(&meta(&ok)), Ok(()));
        let long = "ầ".repeat(TITLE_MAX + 1);
        assert_eq!(
            check_meta(&meta(&long)).unwrap_err().to_string(),
            "the title is 201 characters long; at most 200 are allowed"
        );
    }

    #[test]
    fn a_three_million_character_title_is_refused_with_its_length() {
        let huge = "a".repeat(3_200_000);
        assert_eq!(
            check_meta(&meta(&huge)).unwrap_err(),
            TextError::TooLong {
                field: "title",
                length: 3_200_000,
                max: TITLE_MAX
            }
        );
    }

    #[test]
    fn long_notes_and_producer_are_refused_naming_the_field() {
        let mut m = meta("Tin");
        m.notes = "x".repeat(NOTES_MAX + 1);
        assert!(check_meta(&m)
            .unwrap_err()
            .to_string()
            .starts_with("the notes is"));
        let mut m = meta("Tin");
        m.producer = "x".repeat(PRODUCER_MAX + 5);
        assert!(check_meta(&m)
            .unwrap_err()
            .to_string()
            .starts_with("the producer is 205 characters"));
    }

    #[test]
    fn an_empty_title_is_refused() {
        assert_eq!(check_meta(&meta("  ")), Err(TextError::EmptyTitle));
    }
}
