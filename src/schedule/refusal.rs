//! Why a schedule operation (build, pin, unpin, lock, unlock) did nothing, as facts: who
//! locked the week and when, which version someone else saved meanwhile, how long a
//! bulletin lasts against the time left in the slot. `Display` is the command line's
//! English sentence (with its flags); [`Render`] is the console's sentence in Vietnamese or
//! English, with times in the station's zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::lang::{Lang, Render};
use crate::library::{ApprovalState, BulletinId};

/// Who did something to a week, and when, in the station's zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    /// The account (or the daemon's name).
    pub by: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The station's zone, to show the time in.
    pub tz: Tz,
}

impl Stamp {
    /// `HH:MM dd/mm/yyyy` in the station's zone.
    fn when(&self) -> String {
        self.at
            .with_timezone(&self.tz)
            .format("%H:%M %d/%m/%Y")
            .to_string()
    }
}

/// A refused schedule operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The station is not in the plan.
    UnknownStation {
        /// The code given.
        station: String,
        /// The plan's name.
        plan: String,
    },
    /// A build of a locked week.
    LockedBuild {
        /// ISO week.
        week: String,
        /// The locked stations with who locked each and when.
        locks: Vec<(String, Stamp)>,
    },
    /// An edit (pin, unpin) of a locked week.
    LockedEdit {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
        /// Who locked it and when.
        locked: Stamp,
    },
    /// A lock of a week already locked.
    AlreadyLocked {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
        /// Who locked it and when.
        locked: Stamp,
    },
    /// An unlock of a week not locked.
    NotLocked {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
    },
    /// No week kept to edit or lock.
    NothingKept {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
    },
    /// No slot instance starts at the time given.
    NoSlot {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
        /// The slot as given.
        slot: String,
    },
    /// No bulletin with that id.
    NoBulletin(BulletinId),
    /// The bulletin is not approved.
    NotApproved {
        /// The bulletin.
        id: BulletinId,
        /// Its state.
        state: ApprovalState,
    },
    /// The bulletin is already in the slot instance.
    AlreadyInSlot(BulletinId),
    /// The bulletin is not in the slot instance.
    NotInSlot(BulletinId),
    /// The bulletin is longer than the CCHC time left in the slot instance.
    TooLong {
        /// The bulletin.
        id: BulletinId,
        /// Its length, seconds (rounded up).
        secs: u64,
        /// The CCHC time left, seconds.
        free_s: u64,
    },
    /// Someone saved the week since the version the caller saw.
    Stale {
        /// ISO week.
        week: String,
        /// Station code.
        station: String,
        /// The version the caller saw (0: none).
        expected: u32,
        /// The version kept now.
        version: u32,
        /// Who saved it and when.
        saved: Stamp,
    },
}

impl Refusal {
    /// Whether the refusal is a conflict with the week's state (a lock, an edit made
    /// meanwhile, a bulletin already there) rather than bad input (HTTP 409 against 400/404).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Refusal::LockedBuild { .. }
                | Refusal::LockedEdit { .. }
                | Refusal::AlreadyLocked { .. }
                | Refusal::NotLocked { .. }
                | Refusal::AlreadyInSlot(_)
                | Refusal::NotApproved { .. }
                | Refusal::TooLong { .. }
                | Refusal::Stale { .. }
        )
    }

    /// Whether the refusal names something that is not there (HTTP 404).
    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            Refusal::UnknownStation { .. }
                | Refusal::NothingKept { .. }
                | Refusal::NoBulletin(_)
                | Refusal::NoSlot { .. }
                | Refusal::NotInSlot(_)
        )
    }
}

/// The command line's sentence (unchanged from before the refusals were typed).
impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::UnknownStation { station, plan } => {
                write!(f, "station '{station}' is not in the plan '{plan}'")
            }
            Refusal::LockedBuild { week, locks } => {
                let at: Vec<&str> = locks.iter().map(|(s, _)| s.as_str()).collect();
                write!(
                    f,
                    "week {week} is locked at {}; unlock it (`loa schedule unlock --week {week}`) or rebuild with --force",
                    at.join(", ")
                )
            }
            Refusal::LockedEdit { week, station, .. } => {
                write!(f, "week {week} is locked at {station}; unlock it or use --force")
            }
            Refusal::AlreadyLocked { week, station, locked } => write!(
                f,
                "week {week} at {station} is already locked (by {} at {})",
                locked.by,
                locked.when()
            ),
            Refusal::NotLocked { week, station } => {
                write!(f, "week {week} at {station} is not locked")
            }
            Refusal::NothingKept { week, station } => {
                write!(f, "no schedule kept for {station} in {week}; build it first")
            }
            Refusal::NoSlot { week, station, slot } => write!(
                f,
                "{station} has no slot starting at '{slot}' in {week} (give the local time as YYYY-MM-DD HH:MM, as `loa schedule show` prints it)"
            ),
            Refusal::NoBulletin(id) => write!(f, "no bulletin with id {id} in the library"),
            Refusal::NotApproved { id, state } => write!(
                f,
                "bulletin {id} is {state}; only approved bulletins can be pinned"
            ),
            Refusal::AlreadyInSlot(id) => write!(f, "bulletin {id} is already in that slot"),
            Refusal::NotInSlot(id) => write!(f, "bulletin {id} is not in that slot"),
            Refusal::TooLong { id, secs, free_s } => write!(
                f,
                "bulletin {id} lasts {secs} s but the slot has only {free_s} s of CCHC time free; unpin something first"
            ),
            Refusal::Stale {
                week,
                station,
                version,
                saved,
                ..
            } => write!(
                f,
                "week {week} at {station} was changed by {} at {} (version {version}) after you read it; look again and redo",
                saved.by,
                saved.when()
            ),
        }
    }
}

/// The console's sentence.
impl Render for Refusal {
    fn render(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return match self {
                Refusal::LockedBuild { week, locks } => locks
                    .iter()
                    .map(|(s, l)| {
                        format!(
                            "week {week} at {s} was locked by {} at {}; unlock it first",
                            l.by,
                            l.when()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                Refusal::LockedEdit {
                    week,
                    station,
                    locked,
                } => format!(
                    "week {week} at {station} was locked by {} at {}; unlock it first",
                    locked.by,
                    locked.when()
                ),
                Refusal::NoSlot {
                    week,
                    station,
                    slot,
                } => {
                    format!("{station} has no slot starting at '{slot}' in {week}")
                }
                other => other.to_string(),
            };
        }
        match self {
            Refusal::UnknownStation { station, plan } => {
                format!("Đài '{station}' không có trong kế hoạch '{plan}'.")
            }
            Refusal::LockedBuild { week, locks } => locks
                .iter()
                .map(|(s, l)| {
                    format!(
                        "Tuần {week} của đài {s} đã được {} khóa lúc {}; hãy mở khóa trước.",
                        l.by,
                        l.when()
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            Refusal::LockedEdit {
                week,
                station,
                locked,
            } => format!(
                "Tuần {week} của đài {station} đã được {} khóa lúc {}; hãy mở khóa trước.",
                locked.by,
                locked.when()
            ),
            Refusal::AlreadyLocked {
                week,
                station,
                locked,
            } => format!(
                "Tuần {week} của đài {station} đã được {} khóa từ lúc {}.",
                locked.by,
                locked.when()
            ),
            Refusal::NotLocked { week, station } => {
                format!("Tuần {week} của đài {station} đang không bị khóa.")
            }
            Refusal::NothingKept { week, station } => {
                format!("Tuần {week} của đài {station} chưa được lập lịch; hãy lập lịch trước.")
            }
            Refusal::NoSlot { week, station, slot } => {
                format!("Tuần {week} của đài {station} không có buổi phát bắt đầu lúc '{slot}'.")
            }
            Refusal::NoBulletin(id) => format!("Không có bản tin mã '{id}' trong thư viện."),
            Refusal::NotApproved { id, state } => format!(
                "Bản tin {id} đang ở trạng thái '{}'; chỉ ghim được bản tin đã duyệt.",
                state.label_vi()
            ),
            Refusal::AlreadyInSlot(id) => format!("Bản tin {id} đã có trong buổi phát này."),
            Refusal::NotInSlot(id) => format!("Bản tin {id} không có trong buổi phát này."),
            Refusal::TooLong { id, secs, free_s } => format!(
                "Bản tin {id} dài {secs} giây nhưng buổi phát chỉ còn {free_s} giây dành cho CCHC; hãy bỏ ghim bớt trước."
            ),
            Refusal::Stale {
                week,
                station,
                version,
                saved,
                ..
            } => format!(
                "Tuần {week} của đài {station} đã được {} sửa lúc {} (phiên bản {version}) sau khi bạn mở trang. Hãy xem lại rồi làm lại.",
                saved.by,
                saved.when()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn stamp() -> Stamp {
        Stamp {
            by: "nguyenvan".into(),
            at: Utc.with_ymd_and_hms(2026, 12, 6, 1, 12, 0).unwrap(),
            tz: chrono_tz::Asia::Ho_Chi_Minh,
        }
    }

    #[test]
    fn a_stale_week_says_who_changed_it_and_when_in_the_station_s_time() {
        let r = Refusal::Stale {
            week: "2026-W49".into(),
            station: "vinh-an".into(),
            expected: 4,
            version: 5,
            saved: stamp(),
        };
        assert_eq!(
            r.render(Lang::Vi),
            "Tuần 2026-W49 của đài vinh-an đã được nguyenvan sửa lúc 08:12 06/12/2026 (phiên bản 5) sau khi bạn mở trang. Hãy xem lại rồi làm lại."
        );
        assert!(r
            .render(Lang::En)
            .contains("changed by nguyenvan at 08:12 06/12/2026"));
        assert!(r.is_conflict());
    }

    #[test]
    fn a_locked_week_names_who_locked_it_and_the_command_line_keeps_its_sentence() {
        let r = Refusal::LockedEdit {
            week: "2026-W49".into(),
            station: "vinh-an".into(),
            locked: stamp(),
        };
        assert!(r
            .render(Lang::Vi)
            .contains("đã được nguyenvan khóa lúc 08:12 06/12/2026"));
        assert_eq!(
            r.to_string(),
            "week 2026-W49 is locked at vinh-an; unlock it or use --force"
        );
    }

    #[test]
    fn every_refusal_reads_in_vietnamese_without_the_command_line_s_flags() {
        let id = BulletinId::from_sha256(&"a".repeat(64));
        for r in [
            Refusal::NoBulletin(id),
            Refusal::AlreadyInSlot(id),
            Refusal::NotInSlot(id),
            Refusal::TooLong {
                id,
                secs: 90,
                free_s: 30,
            },
            Refusal::NothingKept {
                week: "2026-W49".into(),
                station: "vinh-an".into(),
            },
            Refusal::LockedBuild {
                week: "2026-W49".into(),
                locks: vec![("vinh-an".into(), stamp())],
            },
        ] {
            let vi = r.render(Lang::Vi);
            assert!(!vi.contains("--"), "{vi}");
            assert_ne!(vi, r.render(Lang::En), "{vi}");
        }
    }
}
