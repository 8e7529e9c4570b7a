//! The fixed words of an airlog row as types: its status ([`AirStatus`]) and where the
//! item came from ([`CueSource`]). Each is stored as a short lowercase code (the text the
//! row hash covers), parsed once where rows leave the store (`TryFrom<&str>`), and rendered
//! for people in Vietnamese or English ([`Render`]).

use std::fmt;

use crate::lang::{Lang, Render};

/// A stored code that is not one of the values it may hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{value}' is not one of: {allowed}")]
pub struct UnknownCode {
    /// Which field (`status`, `source`).
    pub what: &'static str,
    /// The text found.
    pub value: String,
    /// The codes it may be, comma-separated.
    pub allowed: String,
}

/// Declares a code enum: stored text, parsing, display, serde and the comparison with the
/// stored text (so code and tests that read rows can still say `status == "aired"`).
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($(#[$vm:meta])* $v:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The stored code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $code),+ }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = UnknownCode;
            fn try_from(s: &str) -> Result<Self, UnknownCode> {
                match s {
                    $($code => Ok($name::$v),)+
                    _ => Err(UnknownCode {
                        what: $what,
                        value: s.chars().take(40).collect(),
                        allowed: [$($code),+].join(", "),
                    }),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                $name::try_from(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::try_from(s.as_ref()).map_err(serde::de::Error::custom)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }
    };
}

code_enum!(
    /// How an airlog row ended (or that it is still open).
    AirStatus, "status", {
        /// Open: its audio is playing (or loa stopped before closing it).
        Playing = "playing",
        /// Played whole.
        Aired = "aired",
        /// Played in part (joined late, cut, skipped by an operator, failed part-way).
        Partial = "partial",
        /// Not played (missed, no time left, the rest of a stopped slot).
        Skipped = "skipped",
        /// Could not be played (missing or damaged file, output failure).
        Failed = "failed",
        /// Stopped by loa stopping, a crash, or an operator's or urgent item.
        Interrupted = "interrupted",
    }
);

code_enum!(
    /// Why an item was cued: the schedule, an operator, or one of playout's own rules.
    CueSource, "source", {
        /// The slot's kept playlist.
        Schedule = "schedule",
        /// An operator's `play` command.
        Manual = "manual",
        /// An urgent announcement (interrupts whatever plays).
        Urgent = "urgent",
        /// The plan's fallback, for a slot with no content.
        Fallback = "fallback",
        /// An item played again because it failed, was cut or missed earlier.
        Makeup = "makeup",
        /// A normal-level announcement (Circular 39/2020): queued into the next slot
        /// instance, after its scheduled items.
        Announcement = "announcement",
        /// A priority-level announcement (Circular 39/2020): queued into the next slot
        /// instance, ahead of its other items.
        Priority = "priority",
    }
);

impl AirStatus {
    /// The statuses a closed row can have.
    pub const CLOSED: [AirStatus; 5] = [
        AirStatus::Aired,
        AirStatus::Partial,
        AirStatus::Skipped,
        AirStatus::Failed,
        AirStatus::Interrupted,
    ];

    /// Whether the row is still open.
    pub fn is_open(self) -> bool {
        self == AirStatus::Playing
    }

    /// Whether the item did not air whole (made up later when its source allows).
    pub fn is_incident(self) -> bool {
        !matches!(self, AirStatus::Aired | AirStatus::Playing)
    }
}

impl Render for AirStatus {
    fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => match self {
                AirStatus::Playing => "Đang phát",
                AirStatus::Aired => "Đã phát",
                AirStatus::Partial => "Phát không trọn",
                AirStatus::Skipped => "Không phát",
                AirStatus::Failed => "Lỗi phát",
                AirStatus::Interrupted => "Bị ngắt",
            },
            Lang::En => self.as_str(),
        }
        .to_string()
    }
}

impl Render for CueSource {
    fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => match self {
                CueSource::Schedule => "Theo lịch",
                CueSource::Manual => "Người trực phát",
                CueSource::Urgent => "Khẩn cấp",
                CueSource::Fallback => "Dự phòng",
                CueSource::Makeup => "Phát bù",
                CueSource::Announcement => "Thông báo",
                CueSource::Priority => "Thông báo ưu tiên",
            },
            Lang::En => match self {
                CueSource::Schedule => "schedule",
                CueSource::Manual => "operator",
                CueSource::Urgent => "urgent",
                CueSource::Fallback => "fallback",
                CueSource::Makeup => "make-up",
                CueSource::Announcement => "announcement",
                CueSource::Priority => "priority announcement",
            },
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_value() {
        for s in AirStatus::ALL {
            assert_eq!(AirStatus::try_from(s.as_str()), Ok(*s));
            assert_eq!(*s, s.as_str());
        }
        for s in CueSource::ALL {
            assert_eq!(CueSource::try_from(s.as_str()), Ok(*s));
        }
    }

    #[test]
    fn an_unknown_code_is_refused_naming_the_field_and_the_codes_it_may_be() {
        let e = AirStatus::try_from("Aired").unwrap_err();
        assert_eq!(
            e.to_string(),
            "status 'Aired' is not one of: playing, aired, partial, skipped, failed, interrupted"
        );
        assert!(CueSource::try_from("")
            .unwrap_err()
            .to_string()
            .starts_with("source ''"));
    }

    #[test]
    fn codes_serialize_as_their_stored_text() {
        assert_eq!(
            serde_json::to_string(&AirStatus::Partial).unwrap(),
            "\"partial\""
        );
        let s: CueSource = serde_json::from_str("\"makeup\"").unwrap();
        assert_eq!(s, CueSource::Makeup);
        assert!(serde_json::from_str::<CueSource>("\"later\"").is_err());
    }
}
