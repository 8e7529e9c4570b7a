//! Why a plan rule is met or not ([`RuleReason`]) and why a slot instance does not run
//! ([`SkipReason`]), as structured values rather than sentences, so that the forecast, the
//! CLI, the JSON and every report render them in their own language ([`Render`]).
//!
//! Weeks kept before reasons were structured hold English sentences; those read back as
//! [`RuleReason::Text`] / [`SkipReason::Text`] and are shown as stored
//! ([`rule_reason_compat`], [`skip_reason_compat`]).

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize};

use crate::lang::{Lang, Render};
use crate::library::{Kind, Topic};

/// Why a slot instance does not run this week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum SkipReason {
    /// Free text kept from before reasons were structured, shown as stored.
    Text {
        /// The text.
        text: String,
    },
    /// The station does not exist yet (or any more) on that day.
    StationInactive {
        /// Station code.
        station: String,
        /// The day.
        date: NaiveDate,
    },
    /// A blackout day of the plan.
    Blackout {
        /// The blackout's name in the plan.
        name: String,
    },
    /// The local limits allow no broadcast on that weekday.
    NoBroadcastDay {
        /// The weekday, 1 = Monday … 7 = Sunday.
        weekday: u8,
    },
    /// The local limit of sessions a day is reached.
    SessionLimit {
        /// Sessions allowed a day.
        max: u32,
    },
}

fn weekday_vi(n: u8) -> &'static str {
    match n {
        1 => "thứ Hai",
        2 => "thứ Ba",
        3 => "thứ Tư",
        4 => "thứ Năm",
        5 => "thứ Sáu",
        6 => "thứ Bảy",
        _ => "Chủ nhật",
    }
}

fn weekday_en(n: u8) -> &'static str {
    match n {
        1 => "Monday",
        2 => "Tuesday",
        3 => "Wednesday",
        4 => "Thursday",
        5 => "Friday",
        6 => "Saturday",
        _ => "Sunday",
    }
}

impl SkipReason {
    /// The reason for a weekday the local limits exclude.
    pub fn no_broadcast_on(d: Weekday) -> SkipReason {
        SkipReason::NoBroadcastDay {
            weekday: d.number_from_monday() as u8,
        }
    }
}

impl Render for SkipReason {
    fn render(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            SkipReason::Text { text } => text.clone(),
            SkipReason::StationInactive { station, date } => {
                let d = date.format("%d/%m/%Y");
                if vi {
                    format!("đài {station} chưa hoặc không còn hoạt động ngày {d}")
                } else {
                    format!("station {station} does not exist on {d}")
                }
            }
            SkipReason::Blackout { name } => {
                if vi {
                    format!("ngày tạm dừng phát: {name}")
                } else {
                    format!("blackout: {name}")
                }
            }
            SkipReason::NoBroadcastDay { weekday } => {
                if vi {
                    format!(
                        "giới hạn của địa phương không cho phát vào {}",
                        weekday_vi(*weekday)
                    )
                } else {
                    format!(
                        "local limits allow no broadcast on {}",
                        weekday_en(*weekday)
                    )
                }
            }
            SkipReason::SessionLimit { max } => {
                if vi {
                    format!("giới hạn của địa phương: tối đa {max} buổi phát mỗi ngày")
                } else {
                    format!("local limit of {max} sessions a day")
                }
            }
        }
    }
}

/// Slot instances of the week that do not run, added to a reason for a shortfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedNote {
    /// How many.
    pub count: u32,
    /// Their distinct reasons.
    pub reasons: Vec<SkipReason>,
}

impl SkippedNote {
    /// "; 2 slot(s) do not run this week (…)", or nothing when `note` is `None`.
    fn suffix(note: &Option<SkippedNote>, lang: Lang) -> String {
        let Some(n) = note else {
            return String::new();
        };
        let reasons: Vec<String> = n.reasons.iter().map(|r| r.render(lang)).collect();
        match lang {
            Lang::Vi => format!(
                "; {} buổi phát không thực hiện trong tuần ({})",
                n.count,
                reasons.join(", ")
            ),
            Lang::En => format!(
                "; {} slot(s) do not run this week ({})",
                n.count,
                reasons.join(", ")
            ),
        }
    }
}

/// A topic the month still lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingTopic {
    /// The topic.
    pub topic: Topic,
    /// Whether the library has an approved item of it (it just did not air yet).
    pub in_library: bool,
}

/// Why a plan rule is met or not at a station in a week, with the numbers that say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum RuleReason {
    /// Free text kept from before reasons were structured, shown as stored.
    Text {
        /// The text.
        text: String,
    },
    /// Enough distinct items of the kinds aired.
    DistinctMet {
        /// The kinds.
        kinds: Vec<Kind>,
        /// Distinct items.
        distinct: u32,
    },
    /// The library has fewer approved items of the kinds than the rule needs.
    DistinctLibraryShort {
        /// The kinds.
        kinds: Vec<Kind>,
        /// Needed.
        needs: u32,
        /// Approved for the station this week.
        available: u32,
        /// The station's name.
        station: String,
    },
    /// The library has enough, but slot time allowed fewer.
    DistinctTimeShort {
        /// Approved items of the kinds.
        available: u32,
        /// Distinct items that aired.
        distinct: u32,
        /// Slot instances that did not run.
        skipped: Option<SkippedNote>,
    },
    /// No item of the kinds aired this week.
    RepeatNone {
        /// The kinds.
        kinds: Vec<Kind>,
        /// Slot instances that did not run.
        skipped: Option<SkippedNote>,
    },
    /// Every item aired as often as the rule asks.
    RepeatMet {
        /// Items.
        items: u32,
        /// Times each.
        times: u32,
        /// Items started late in the week, repeated next week.
        carried: u32,
    },
    /// Some items aired fewer times than asked.
    RepeatShort {
        /// Items short.
        short: u32,
        /// Times asked.
        times: u32,
        /// The least gap between airings, s.
        gap_s: u32,
        /// Slot instances that did not run.
        skipped: Option<SkippedNote>,
    },
    /// The quarter's column aired.
    ColumnMet {
        /// Airings.
        airings: u32,
    },
    /// No approved column is valid in the quarter.
    ColumnMissing {
        /// The quarter, 1–4.
        quarter: u32,
        /// The year.
        year: i32,
        /// The station's name.
        station: String,
    },
    /// Columns exist but slot time allowed fewer airings.
    ColumnTimeShort {
        /// Columns available.
        columns: u32,
        /// Airings.
        airings: u32,
        /// Slot instances that did not run.
        skipped: Option<SkippedNote>,
    },
    /// Every topic aired in the month.
    TopicsMet {
        /// Topics.
        topics: u32,
        /// Month, 1–12.
        month: u32,
        /// Year.
        year: i32,
    },
    /// Topics the month still lacks.
    TopicsMissing {
        /// Month, 1–12.
        month: u32,
        /// Year.
        year: i32,
        /// What is missing.
        missing: Vec<MissingTopic>,
    },
    /// Enough spots between items.
    SpotsMet {
        /// Spots.
        spots: u32,
        /// Pairs of items.
        pairs: u32,
    },
    /// No approved spot for the station.
    SpotsMissing {
        /// The station's name.
        station: String,
    },
    /// Slot time allowed fewer spots.
    SpotsTimeShort {
        /// Spots.
        spots: u32,
        /// Spots needed.
        needed: u32,
    },
}

/// Kinds joined with "/": Vietnamese labels in lower case, or the English names.
fn kinds(lang: Lang, kinds: &[Kind]) -> String {
    kinds
        .iter()
        .map(|k| match lang {
            Lang::Vi => k.label_vi().to_lowercase(),
            Lang::En => k.as_str().to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn duration_vi(s: u64) -> String {
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} giờ"));
    }
    if m > 0 {
        parts.push(format!("{m} phút"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec} giây"));
    }
    parts.join(" ")
}

fn roman(q: u32) -> &'static str {
    ["I", "II", "III", "IV"]
        .get(q.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("?")
}

impl RuleReason {
    fn vi(&self) -> String {
        let note = |n: &Option<SkippedNote>| SkippedNote::suffix(n, Lang::Vi);
        match self {
            RuleReason::Text { text } => text.clone(),
            RuleReason::DistinctMet { kinds: k, distinct } => {
                format!("{distinct} {} khác nhau", kinds(Lang::Vi, k))
            }
            RuleReason::DistinctLibraryShort {
                kinds: k,
                needs,
                available,
                station,
            } => format!(
                "cần {needs} {} khác nhau, thư viện chỉ có {available} đã duyệt cho {station} trong tuần",
                kinds(Lang::Vi, k)
            ),
            RuleReason::DistinctTimeShort {
                available,
                distinct,
                skipped,
            } => format!(
                "thư viện có {available} tin, bài nhưng thời lượng các buổi phát chỉ đủ cho {distinct}{}",
                note(skipped)
            ),
            RuleReason::RepeatNone { kinds: k, skipped } => format!(
                "trong tuần không phát {} nào{}",
                kinds(Lang::Vi, k),
                note(skipped)
            ),
            RuleReason::RepeatMet {
                items,
                times,
                carried,
            } => {
                let mut s = format!("mỗi tin, bài trong {items} tin, bài phát {times} lần");
                if *carried > 0 {
                    s += &format!("; {carried} tin, bài bắt đầu phát cuối tuần sẽ phát lại tuần sau");
                }
                s
            }
            RuleReason::RepeatShort {
                short,
                times,
                gap_s,
                skipped,
            } => format!(
                "{short} tin, bài phát ít hơn {times} lần: thời lượng buổi phát hoặc khoảng cách tối thiểu {} giữa hai lần phát không cho phép thêm{}",
                duration_vi(u64::from(*gap_s)),
                note(skipped)
            ),
            RuleReason::ColumnMet { airings } => {
                format!("chuyên mục của quý được phát {airings} lần")
            }
            RuleReason::ColumnMissing {
                quarter,
                year,
                station,
            } => format!(
                "không có chuyên mục đã duyệt nào còn hiệu lực trong quý {} năm {year} cho {station}; Kế hoạch yêu cầu mỗi quý 01 chuyên mục",
                roman(*quarter)
            ),
            RuleReason::ColumnTimeShort {
                columns,
                airings,
                skipped,
            } => format!(
                "có {columns} chuyên mục nhưng thời lượng các buổi phát chỉ đủ cho {airings} lượt phát{}",
                note(skipped)
            ),
            RuleReason::TopicsMet {
                topics,
                month,
                year,
            } => format!("đã phát đủ {topics} nội dung trong tháng {month:02}/{year}"),
            RuleReason::TopicsMissing {
                month,
                year,
                missing,
            } => {
                let parts: Vec<String> = missing
                    .iter()
                    .map(|m| {
                        let t = format!("{} ({})", m.topic.label_vi(), m.topic.clause());
                        if m.in_library {
                            format!("{t} chưa được phát")
                        } else {
                            format!("{t} chưa có tin, bài đã duyệt")
                        }
                    })
                    .collect();
                format!("tháng {month:02}/{year}: {}", parts.join("; "))
            }
            RuleReason::SpotsMet { spots, pairs } => {
                format!("{spots} khẩu hiệu xen giữa {pairs} cặp tin, bài")
            }
            RuleReason::SpotsMissing { station } => {
                format!("không có khẩu hiệu đã duyệt nào cho {station}")
            }
            RuleReason::SpotsTimeShort { spots, needed } => format!(
                "thời lượng các buổi phát chỉ đủ cho {spots} trong {needed} khẩu hiệu cần phát"
            ),
        }
    }

    fn en(&self) -> String {
        let note = |n: &Option<SkippedNote>| SkippedNote::suffix(n, Lang::En);
        match self {
            RuleReason::Text { text } => text.clone(),
            RuleReason::DistinctMet { kinds: k, distinct } => {
                format!("{distinct} distinct {} items", kinds(Lang::En, k))
            }
            RuleReason::DistinctLibraryShort {
                kinds: k,
                needs,
                available,
                station,
            } => format!(
                "needs {needs} distinct {} items, the library has {available} approved for {station} this week",
                kinds(Lang::En, k)
            ),
            RuleReason::DistinctTimeShort {
                available,
                distinct,
                skipped,
            } => format!(
                "the library has {available} items but slot time allowed only {distinct}{}",
                note(skipped)
            ),
            RuleReason::RepeatNone { kinds: k, skipped } => format!(
                "no {} item airs this week{}",
                kinds(Lang::En, k),
                note(skipped)
            ),
            RuleReason::RepeatMet {
                items,
                times,
                carried,
            } => {
                let mut s = format!("each of {items} items airs {times} times");
                if *carried > 0 {
                    s += &format!("; {carried} item(s) started late in the week repeat next week");
                }
                s
            }
            RuleReason::RepeatShort {
                short,
                times,
                gap_s,
                skipped,
            } => format!(
                "{short} item(s) air fewer than {times} times: slot time or the least gap of {} allowed no more{}",
                crate::plan::timing::format_duration(u64::from(*gap_s)),
                note(skipped)
            ),
            RuleReason::ColumnMet { airings } => {
                format!("the quarter's column airs {airings} times")
            }
            RuleReason::ColumnMissing {
                quarter,
                year,
                station,
            } => format!(
                "no approved column valid in Q{quarter} {year} for {station}; the rule needs 1 per quarter"
            ),
            RuleReason::ColumnTimeShort {
                columns,
                airings,
                skipped,
            } => format!(
                "{columns} column(s) available but slot time allowed {airings} airings{}",
                note(skipped)
            ),
            RuleReason::TopicsMet {
                topics,
                month,
                year,
            } => format!("all {topics} topics covered in {month:02}/{year}"),
            RuleReason::TopicsMissing {
                month,
                year,
                missing,
            } => {
                let parts: Vec<String> = missing
                    .iter()
                    .map(|m| {
                        let t = format!("{} ({})", m.topic.as_str(), m.topic.clause());
                        if m.in_library {
                            format!("{t} not yet aired")
                        } else {
                            format!("{t} has no approved item")
                        }
                    })
                    .collect();
                format!("{month:02}/{year}: {}", parts.join("; "))
            }
            RuleReason::SpotsMet { spots, pairs } => {
                format!("{spots} spots between {pairs} pairs of items")
            }
            RuleReason::SpotsMissing { station } => {
                format!("no approved spot for {station}")
            }
            RuleReason::SpotsTimeShort { spots, needed } => {
                format!("slot time allowed {spots} of {needed} spots")
            }
        }
    }
}

impl Render for RuleReason {
    fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => self.vi(),
            Lang::En => self.en(),
        }
    }
}

/// A stored reason: a structured one, or a sentence kept from before.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored<T> {
    Sentence(String),
    Structured(T),
}

/// Reads a [`RuleReason`] as stored now or as an English sentence kept before.
pub fn rule_reason_compat<'de, D: Deserializer<'de>>(d: D) -> Result<RuleReason, D::Error> {
    Ok(match Stored::<RuleReason>::deserialize(d)? {
        Stored::Sentence(text) => RuleReason::Text { text },
        Stored::Structured(r) => r,
    })
}

/// Reads a [`SkipReason`] as stored now or as an English sentence kept before.
pub fn skip_reason_compat<'de, D: Deserializer<'de>>(d: D) -> Result<SkipReason, D::Error> {
    Ok(match Stored::<SkipReason>::deserialize(d)? {
        Stored::Sentence(text) => SkipReason::Text { text },
        Stored::Structured(r) => r,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One value of every [`RuleReason`] variant, with Vietnamese names where people typed them.
    pub(crate) fn every_rule_reason() -> Vec<RuleReason> {
        // A variant added without a sample below fails here, at compile time.
        let _ = |r: &RuleReason| match r {
            RuleReason::Text { .. }
            | RuleReason::DistinctMet { .. }
            | RuleReason::DistinctLibraryShort { .. }
            | RuleReason::DistinctTimeShort { .. }
            | RuleReason::RepeatNone { .. }
            | RuleReason::RepeatMet { .. }
            | RuleReason::RepeatShort { .. }
            | RuleReason::ColumnMet { .. }
            | RuleReason::ColumnMissing { .. }
            | RuleReason::ColumnTimeShort { .. }
            | RuleReason::TopicsMet { .. }
            | RuleReason::TopicsMissing { .. }
            | RuleReason::SpotsMet { .. }
            | RuleReason::SpotsMissing { .. }
            | RuleReason::SpotsTimeShort { .. } => {}
        };
        let note = Some(SkippedNote {
            count: 2,
            reasons: every_skip_reason(),
        });
        vec![
            RuleReason::DistinctMet {
                kinds: vec![Kind::News, Kind::Article],
                distinct: 3,
            },
            RuleReason::DistinctLibraryShort {
                kinds: vec![Kind::News, Kind::Article],
                needs: 3,
                available: 2,
                station: "Xã Vĩnh Hùng".into(),
            },
            RuleReason::DistinctTimeShort {
                available: 5,
                distinct: 2,
                skipped: note.clone(),
            },
            RuleReason::RepeatNone {
                kinds: vec![Kind::Spot],
                skipped: note.clone(),
            },
            RuleReason::RepeatMet {
                items: 4,
                times: 2,
                carried: 1,
            },
            RuleReason::RepeatShort {
                short: 1,
                times: 2,
                gap_s: 72_000,
                skipped: note.clone(),
            },
            RuleReason::ColumnMet { airings: 2 },
            RuleReason::ColumnMissing {
                quarter: 1,
                year: 2023,
                station: "Xã Vĩnh Hùng".into(),
            },
            RuleReason::ColumnTimeShort {
                columns: 1,
                airings: 0,
                skipped: note,
            },
            RuleReason::TopicsMet {
                topics: 5,
                month: 3,
                year: 2023,
            },
            RuleReason::TopicsMissing {
                month: 3,
                year: 2023,
                missing: vec![
                    MissingTopic {
                        topic: Topic::EProcedures,
                        in_library: false,
                    },
                    MissingTopic {
                        topic: Topic::Examples,
                        in_library: true,
                    },
                ],
            },
            RuleReason::SpotsMet { spots: 4, pairs: 4 },
            RuleReason::SpotsMissing {
                station: "Xã Vĩnh Hùng".into(),
            },
            RuleReason::SpotsTimeShort {
                spots: 1,
                needed: 3,
            },
        ]
    }

    /// One value of every [`SkipReason`] variant but the kept text.
    pub(crate) fn every_skip_reason() -> Vec<SkipReason> {
        // A variant added without a sample below fails here, at compile time.
        let _ = |r: &SkipReason| match r {
            SkipReason::Text { .. }
            | SkipReason::StationInactive { .. }
            | SkipReason::Blackout { .. }
            | SkipReason::NoBroadcastDay { .. }
            | SkipReason::SessionLimit { .. } => {}
        };
        vec![
            SkipReason::StationInactive {
                station: "vinh-hung".into(),
                date: NaiveDate::from_ymd_opt(2023, 3, 6).unwrap(),
            },
            SkipReason::Blackout {
                name: "Tết Nguyên đán".into(),
            },
            SkipReason::no_broadcast_on(Weekday::Sun),
            SkipReason::SessionLimit { max: 2 },
        ]
    }

    #[test]
    fn reasons_stored_as_sentences_before_read_back_as_kept_text() {
        #[derive(Deserialize)]
        struct R {
            #[serde(deserialize_with = "rule_reason_compat")]
            r: RuleReason,
            #[serde(deserialize_with = "skip_reason_compat")]
            s: SkipReason,
        }
        let old: R =
            serde_json::from_str(r#"{"r":"3 distinct news/article items","s":"blackout: Tết"}"#)
                .unwrap();
        assert_eq!(
            old.r,
            RuleReason::Text {
                text: "3 distinct news/article items".into()
            }
        );
        assert_eq!(old.r.render(Lang::Vi), "3 distinct news/article items");
        assert_eq!(
            old.s,
            SkipReason::Text {
                text: "blackout: Tết".into()
            }
        );
    }

    #[test]
    fn every_reason_reads_back_from_its_stored_form() {
        for r in every_rule_reason() {
            let json = serde_json::to_string(&r).unwrap();
            let mut de = serde_json::Deserializer::from_str(&json);
            assert_eq!(rule_reason_compat(&mut de).unwrap(), r, "{json}");
        }
        for r in every_skip_reason() {
            let json = serde_json::to_string(&r).unwrap();
            let mut de = serde_json::Deserializer::from_str(&json);
            assert_eq!(skip_reason_compat(&mut de).unwrap(), r, "{json}");
        }
    }

    #[test]
    fn a_missing_column_reads_as_the_seed_plan_words_in_vietnamese() {
        let r = RuleReason::ColumnMissing {
            quarter: 1,
            year: 2023,
            station: "Xã Vĩnh Hùng".into(),
        };
        assert_eq!(
            r.render(Lang::Vi),
            "không có chuyên mục đã duyệt nào còn hiệu lực trong quý I năm 2023 cho Xã Vĩnh Hùng; Kế hoạch yêu cầu mỗi quý 01 chuyên mục"
        );
        assert_eq!(
            r.render(Lang::En),
            "no approved column valid in Q1 2023 for Xã Vĩnh Hùng; the rule needs 1 per quarter"
        );
    }
}
