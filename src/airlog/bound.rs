//! How much an open row can have played: the rule recovery applies to an item row a crash
//! (or a forger) left `playing`, and the check `airlog verify` applies to closed rows. Pure:
//! facts in, verdict out.
//!
//! An open row is sealed with no more than it can have played: at most its bulletin's
//! length, and at most the time between its start and the daemon's last progress record
//! (progress writes the played time and the instant together, every second). A row whose
//! claim does not fit its bulletin, its slot instance or those progress records — beyond
//! [`TOLERANCE_MS`] — was not written by a playing daemon: it is closed `failed`, with
//! what does not fit ([`Misfit`]), never sealed as aired.

use chrono::{DateTime, Utc};

use crate::lang::{Lang, Render};

/// Slack for what a playing daemon can honestly record: a sound card holds up to two
/// seconds written ahead of the wall clock (the runner's pre-roll and buffer), plus one
/// block and rounding.
pub const TOLERANCE_MS: u64 = 3_000;

/// What is known of an open item row at recovery.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenFacts {
    /// When its audio started.
    pub actual_start: Option<DateTime<Utc>>,
    /// The instant of its last progress record (the row's `actual_end` while open).
    pub progress_at: Option<DateTime<Utc>>,
    /// The played time it records, ms.
    pub played_ms: i64,
    /// Its bulletin's length, ms (none: the row names no bulletin in the library).
    pub bulletin_ms: Option<u64>,
    /// Start of its slot instance.
    pub slot_start: DateTime<Utc>,
    /// End of its slot instance, when the kept schedule has it.
    pub slot_end: Option<DateTime<Utc>>,
    /// When recovery runs: the crash was before.
    pub now: DateTime<Utc>,
}

/// How an open row does not fit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "m", rename_all = "snake_case", deny_unknown_fields)]
pub enum Misfit {
    /// It names no bulletin of the library.
    UnknownBulletin,
    /// It claims more than its bulletin's length.
    LongerThanBulletin {
        /// Claimed, ms.
        claimed_ms: u64,
        /// The bulletin's length, ms.
        bulletin_ms: u64,
    },
    /// It claims more than the time from its start to its last progress record.
    LongerThanProgress {
        /// Claimed, ms.
        claimed_ms: u64,
        /// Start to last progress record, ms.
        elapsed_ms: u64,
    },
    /// It claims played time with no start or no progress record.
    NoProgress,
    /// It starts outside its slot instance, or after recovery began.
    StartOutsideSlot,
    /// Its last progress record is before its start, after its slot's end or after
    /// recovery began.
    ProgressOutsideSlot,
    /// It claims a negative played time.
    NegativePlayed,
}

impl Misfit {
    fn vi(&self) -> String {
        match self {
            Misfit::UnknownBulletin => "không ứng với bản tin nào trong thư viện".into(),
            Misfit::LongerThanBulletin {
                claimed_ms,
                bulletin_ms,
            } => format!("ghi {claimed_ms} ms đã phát nhưng bản tin chỉ dài {bulletin_ms} ms"),
            Misfit::LongerThanProgress {
                claimed_ms,
                elapsed_ms,
            } => format!(
                "ghi {claimed_ms} ms đã phát nhưng từ lúc bắt đầu đến lần ghi tiến độ cuối chỉ có {elapsed_ms} ms"
            ),
            Misfit::NoProgress => {
                "ghi thời lượng đã phát mà không có thời điểm bắt đầu hay lần ghi tiến độ nào".into()
            }
            Misfit::StartOutsideSlot => "thời điểm bắt đầu nằm ngoài khung giờ".into(),
            Misfit::ProgressOutsideSlot => {
                "lần ghi tiến độ cuối nằm ngoài khung giờ hoặc sau lần khởi động lại".into()
            }
            Misfit::NegativePlayed => "ghi thời lượng đã phát là số âm".into(),
        }
    }

    fn en(&self) -> String {
        match self {
            Misfit::UnknownBulletin => "it names no bulletin of the library".into(),
            Misfit::LongerThanBulletin {
                claimed_ms,
                bulletin_ms,
            } => format!("it claims {claimed_ms} ms played of a bulletin {bulletin_ms} ms long"),
            Misfit::LongerThanProgress {
                claimed_ms,
                elapsed_ms,
            } => format!(
                "it claims {claimed_ms} ms played but only {elapsed_ms} ms passed between its start and its last progress record"
            ),
            Misfit::NoProgress => {
                "it claims played time with no start or progress record behind it".into()
            }
            Misfit::StartOutsideSlot => "its start is outside its slot instance".into(),
            Misfit::ProgressOutsideSlot => {
                "its last progress record is outside its slot instance or after the restart".into()
            }
            Misfit::NegativePlayed => "it claims a negative played time".into(),
        }
    }

    /// One value of each kind (for rendering tests).
    #[cfg(test)]
    pub(crate) fn every() -> Vec<Misfit> {
        vec![
            Misfit::UnknownBulletin,
            Misfit::LongerThanBulletin {
                claimed_ms: 600_000,
                bulletin_ms: 16_000,
            },
            Misfit::LongerThanProgress {
                claimed_ms: 12_000,
                elapsed_ms: 5_000,
            },
            Misfit::NoProgress,
            Misfit::StartOutsideSlot,
            Misfit::ProgressOutsideSlot,
            Misfit::NegativePlayed,
        ]
    }
}

impl Render for Misfit {
    fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => self.vi(),
            Lang::En => self.en(),
        }
    }
}

/// What recovery does with an open item row.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Closed `interrupted` with this much played, ending at `end` (none: it never
    /// started).
    Seal {
        /// Played time, ms: never more than the row can have played.
        played_ms: u64,
        /// When it stopped, as far as the records show.
        end: Option<DateTime<Utc>>,
    },
    /// Closed `failed`, nothing counted as played.
    Fail(Misfit),
}

fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_milliseconds()
}

/// The verdict on an open item row.
pub fn bound(f: &OpenFacts) -> Verdict {
    let tol = TOLERANCE_MS as i64;
    if f.played_ms < 0 {
        return Verdict::Fail(Misfit::NegativePlayed);
    }
    let claimed = f.played_ms as u64;
    let Some(bulletin_ms) = f.bulletin_ms else {
        return Verdict::Fail(Misfit::UnknownBulletin);
    };
    if claimed > bulletin_ms + TOLERANCE_MS {
        return Verdict::Fail(Misfit::LongerThanBulletin {
            claimed_ms: claimed,
            bulletin_ms,
        });
    }
    let Some(start) = f.actual_start else {
        return if claimed == 0 {
            Verdict::Seal {
                played_ms: 0,
                end: None,
            }
        } else {
            Verdict::Fail(Misfit::NoProgress)
        };
    };
    let past_slot = |t: DateTime<Utc>| f.slot_end.is_some_and(|e| ms(e, t) > tol);
    if ms(start, f.slot_start) > tol || past_slot(start) || start > f.now {
        return Verdict::Fail(Misfit::StartOutsideSlot);
    }
    let Some(at) = f.progress_at else {
        return if claimed == 0 {
            Verdict::Seal {
                played_ms: 0,
                end: Some(start),
            }
        } else {
            Verdict::Fail(Misfit::NoProgress)
        };
    };
    if ms(at, start) > tol || past_slot(at) || at > f.now {
        return Verdict::Fail(Misfit::ProgressOutsideSlot);
    }
    let elapsed = ms(start, at).max(0) as u64;
    if claimed > elapsed + TOLERANCE_MS {
        return Verdict::Fail(Misfit::LongerThanProgress {
            claimed_ms: claimed,
            elapsed_ms: elapsed,
        });
    }
    Verdict::Seal {
        played_ms: claimed.min(bulletin_ms).min(elapsed),
        end: Some(at.max(start)),
    }
}

/// Whether a closed item row's played time exceeds its bulletin's length (by more than
/// rounding: the sample clock's milliseconds against the probe's may differ by one).
pub fn overlong(played_ms: i64, bulletin_ms: u64) -> bool {
    played_ms > 0 && played_ms as u64 > bulletin_ms + ROUNDING_MS
}

/// Rounding between a row's played time and its bulletin's length, ms.
pub const ROUNDING_MS: u64 = 1;

/// The first closed item row (lowest seq) of `rows` that claims more than its bulletin's
/// length (`lengths`: bulletin id → ms), named as a bad row of `station`.
pub fn first_overlong(
    station: &str,
    rows: &[crate::airlog::Record],
    lengths: &std::collections::HashMap<String, u64>,
) -> Option<crate::airlog::chain::BadRow> {
    rows.iter()
        .filter(|r| r.level == crate::airlog::Level::Item.as_str() && !r.row_hash.is_empty())
        .filter_map(|r| {
            let len = *lengths.get(r.bulletin_id.as_deref()?)?;
            overlong(r.played_ms, len).then(|| crate::airlog::chain::BadRow {
                station: station.to_string(),
                seq: r.seq,
                what: format!(
                    "it says {} ms played but its bulletin {} is {len} ms long",
                    r.played_ms,
                    r.bulletin_id.as_deref().unwrap_or_default()
                ),
            })
        })
        .min_by_key(|b| b.seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2023-03-06T22:30:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::seconds(i64::from(s))
    }

    /// A 16-second bulletin that started 2 s into its 10-minute slot and recorded 5 s of
    /// progress at 7 s; recovery an hour later.
    fn honest() -> OpenFacts {
        OpenFacts {
            actual_start: Some(t(2)),
            progress_at: Some(t(7)),
            played_ms: 5_000,
            bulletin_ms: Some(16_000),
            slot_start: t(0),
            slot_end: Some(t(600)),
            now: t(3_600),
        }
    }

    #[test]
    fn an_honest_open_row_is_sealed_with_what_it_recorded() {
        assert_eq!(
            bound(&honest()),
            Verdict::Seal {
                played_ms: 5_000,
                end: Some(t(7))
            }
        );
    }

    #[test]
    fn a_forged_row_claiming_ten_minutes_of_a_16_second_bulletin_fails() {
        let forged = OpenFacts {
            played_ms: 600_000,
            progress_at: Some(t(602)),
            ..honest()
        };
        assert_eq!(
            bound(&forged),
            Verdict::Fail(Misfit::LongerThanBulletin {
                claimed_ms: 600_000,
                bulletin_ms: 16_000
            })
        );
    }

    #[test]
    fn a_claim_beyond_the_progress_records_fails() {
        let f = OpenFacts {
            played_ms: 12_000,
            ..honest()
        };
        assert_eq!(
            bound(&f),
            Verdict::Fail(Misfit::LongerThanProgress {
                claimed_ms: 12_000,
                elapsed_ms: 5_000
            })
        );
    }

    #[test]
    fn a_sound_card_buffer_ahead_of_the_clock_is_sealed_at_the_elapsed_time() {
        let f = OpenFacts {
            played_ms: 6_900,
            ..honest()
        };
        assert_eq!(
            bound(&f),
            Verdict::Seal {
                played_ms: 5_000,
                end: Some(t(7))
            }
        );
    }

    #[test]
    fn a_row_outside_its_slot_or_after_the_restart_fails() {
        let early = OpenFacts {
            actual_start: Some(t(0) - chrono::Duration::seconds(60)),
            ..honest()
        };
        assert_eq!(bound(&early), Verdict::Fail(Misfit::StartOutsideSlot));
        let late = OpenFacts {
            actual_start: Some(t(700)),
            progress_at: Some(t(705)),
            ..honest()
        };
        assert_eq!(bound(&late), Verdict::Fail(Misfit::StartOutsideSlot));
        let future = OpenFacts {
            slot_end: None,
            now: t(1),
            ..honest()
        };
        assert_eq!(bound(&future), Verdict::Fail(Misfit::StartOutsideSlot));
        let progress_past_end = OpenFacts {
            progress_at: Some(t(900)),
            played_ms: 10_000,
            ..honest()
        };
        assert_eq!(
            bound(&progress_past_end),
            Verdict::Fail(Misfit::ProgressOutsideSlot)
        );
        let backwards = OpenFacts {
            progress_at: Some(t(0) - chrono::Duration::seconds(30)),
            played_ms: 0,
            ..honest()
        };
        assert_eq!(
            bound(&backwards),
            Verdict::Fail(Misfit::ProgressOutsideSlot)
        );
    }

    #[test]
    fn a_row_with_no_bulletin_no_progress_or_a_negative_claim_fails() {
        let f = OpenFacts {
            bulletin_ms: None,
            ..honest()
        };
        assert_eq!(bound(&f), Verdict::Fail(Misfit::UnknownBulletin));
        let f = OpenFacts {
            progress_at: None,
            ..honest()
        };
        assert_eq!(bound(&f), Verdict::Fail(Misfit::NoProgress));
        let f = OpenFacts {
            played_ms: -1,
            ..honest()
        };
        assert_eq!(bound(&f), Verdict::Fail(Misfit::NegativePlayed));
    }

    #[test]
    fn a_row_that_had_just_started_is_sealed_with_nothing_played() {
        let f = OpenFacts {
            progress_at: None,
            played_ms: 0,
            ..honest()
        };
        assert_eq!(
            bound(&f),
            Verdict::Seal {
                played_ms: 0,
                end: Some(t(2))
            }
        );
    }

    #[test]
    fn without_a_kept_slot_the_bulletin_and_the_progress_still_bound() {
        let f = OpenFacts {
            slot_end: None,
            played_ms: 600_000,
            progress_at: Some(t(602)),
            ..honest()
        };
        assert!(matches!(bound(&f), Verdict::Fail(_)));
    }

    #[test]
    fn verify_flags_a_played_time_beyond_the_bulletin_but_not_rounding() {
        assert!(!overlong(16_000, 16_000));
        assert!(!overlong(16_001, 16_000));
        assert!(overlong(16_002, 16_000));
        assert!(overlong(600_000, 16_000));
    }

    proptest::proptest! {
        #[test]
        fn a_sealed_row_never_holds_more_than_its_bulletin_or_its_elapsed_time(
            start in 0u32..700,
            progress in 0u32..800,
            played in -10i64..1_000_000,
            bulletin in 1u64..200_000,
            end in proptest::option::of(1u32..700),
        ) {
            let f = OpenFacts {
                actual_start: Some(t(start)),
                progress_at: Some(t(progress)),
                played_ms: played,
                bulletin_ms: Some(bulletin),
                slot_start: t(0),
                slot_end: end.map(t),
                now: t(3_600),
            };
            if let Verdict::Seal { played_ms, end } = bound(&f) {
                proptest::prop_assert!(played_ms <= bulletin);
                proptest::prop_assert!(played_ms as i64 <= played);
                let elapsed = (i64::from(progress) - i64::from(start)).max(0) * 1000;
                proptest::prop_assert!(played_ms as i64 <= elapsed);
                proptest::prop_assert!(end.is_some());
            }
        }
    }
}
