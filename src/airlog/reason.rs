//! Why an airlog row says what it says, as structured values ([`Reason`]) rather than
//! sentences, so that every report renders them in its own language.
//!
//! A row's reason ([`AirReason`]) is a list of parts, stored in one text column in a
//! stable machine form that parses back: empty for none, a compact JSON array of tagged
//! parts otherwise (`[{"k":"joined_late","at_ms":12000},{"k":"cut_at_slot_end"}]`). Rows
//! written before reasons were structured hold free English text; that text parses to one
//! [`Reason::Text`] part and is shown as stored. The row hash covers the stored text, so an
//! [`AirReason`] keeps the exact text it was parsed from: `parse(s).stored() == s` for every
//! `s`, and old chains verify unchanged.

use std::fmt::Write as _;

use crate::lang::{Lang, Render};

use super::status::AirStatus;

/// One part of a row's reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "k", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reason {
    /// Free text: a reason written before reasons were structured, shown as stored.
    Text {
        /// The text.
        text: String,
    },
    /// A slot row's first part: the slot's name.
    Slot {
        /// The slot's name in the plan.
        name: String,
    },
    /// A slot instance resumed after a restart; some of its items were already logged.
    Resumed {
        /// Item rows already in the airlog.
        rows: u32,
    },
    /// What a slot's items did.
    SlotSummary {
        /// Items that aired whole.
        aired: u32,
        /// Items attempted.
        items: u32,
        /// The others by status, in the order of their stored codes.
        others: Vec<(AirStatus, u32)>,
    },
    /// The slot had no content and played the plan's fallback.
    FallbackPlayed,
    /// The slot had no content and no fallback fitted.
    Silent,
    /// An operator stopped the slot.
    SlotStoppedBy {
        /// The operator.
        who: String,
    },
    /// The daemon stopped during the slot.
    StoppedDuringSlot,
    /// loa stopped during the slot without closing it (closed at the next start).
    CrashDuringSlot,
    /// The bulletin was removed from the library before its turn.
    NotInLibrary {
        /// The bulletin's id.
        bulletin: String,
    },
    /// The item's time passed while loa was not playing.
    Missed {
        /// Its planned start, station-local `HH:MM:SS`.
        at: String,
    },
    /// Too little of the slot was left to start the item.
    NoTimeLeft,
    /// The audio file is not where the library says.
    FileMissing {
        /// The file.
        file: String,
    },
    /// The audio file's bytes are not those the library approved.
    FileChanged {
        /// The file.
        file: String,
        /// SHA-256 the library holds.
        expected: String,
        /// SHA-256 of the file now.
        actual: String,
    },
    /// The audio file could not be read.
    FileUnreadable {
        /// The file.
        file: String,
        /// The operating system's words.
        detail: String,
    },
    /// The audio file could not be decoded or converted.
    Undecodable {
        /// The file.
        file: String,
        /// The decoder's words.
        detail: String,
    },
    /// Decoding failed part-way.
    DecodeFailed {
        /// The file.
        file: String,
        /// Where, m:ss.mmm of the file's audio.
        at: String,
        /// The decoder's words.
        detail: String,
    },
    /// The file decodes to another length than the library recorded.
    WrongLength {
        /// The file.
        file: String,
        /// Frames recorded at ingest.
        expected: u64,
        /// Frames decoded.
        actual: u64,
    },
    /// The sink refused audio.
    OutputFailed {
        /// The sink's words.
        detail: String,
    },
    /// The daemon stopped while the item played.
    StoppedWhilePlaying,
    /// The daemon stopped while the item played and the airlog could not record how much.
    StoppedPlayedUnknown,
    /// loa stopped while the item played without closing it (closed at the next start).
    CrashWhilePlaying,
    /// An operator skipped the item.
    SkippedBy {
        /// The operator.
        who: String,
    },
    /// An operator's item interrupted this one.
    InterruptedBy {
        /// The operator.
        who: String,
        /// The operator's bulletin.
        bulletin: String,
    },
    /// An urgent announcement interrupted this item.
    InterruptedByUrgent {
        /// Who sent it.
        who: String,
        /// The announcement's bulletin.
        bulletin: String,
    },
    /// Playout joined the item late, this far into it.
    JoinedLate {
        /// Milliseconds into the item.
        at_ms: u64,
    },
    /// The slot ended before the item did.
    CutAtSlotEnd,
    /// Playout stalled: the wall clock ran ahead of the audio written (the daemon was
    /// frozen, the machine overloaded, or the output blocked) for this long.
    Stalled {
        /// How far the wall clock was ahead, ms.
        ms: u64,
    },
    /// The row reached the store late, after writes failed for a while.
    WrittenLate {
        /// When writes started failing (RFC 3339 UTC).
        from: String,
        /// When they worked again (RFC 3339 UTC).
        to: String,
    },
    /// The row waited in the journal beside the database from a stop to the next start.
    Journalled {
        /// When the stop wrote it there (RFC 3339 UTC).
        at: String,
    },
    /// A row left open that does not fit what can have played: closed failed at the next
    /// start, nothing counted as aired ([`crate::airlog::bound`]).
    OpenRowFailed {
        /// What does not fit.
        misfit: crate::airlog::bound::Misfit,
    },
}

/// Seconds to one decimal.
fn seconds(ms: u64) -> String {
    format!("{}.{}", ms / 1000, (ms % 1000) / 100)
}

/// m:ss.mmm.
fn position(ms: u64) -> String {
    format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
}

impl Reason {
    fn vi(&self) -> String {
        match self {
            Reason::Text { text } => text.clone(),
            Reason::Slot { name } => name.clone(),
            Reason::Resumed { rows } => {
                format!("phát tiếp: {rows} dòng của khung giờ này đã có trong nhật ký")
            }
            Reason::SlotSummary {
                aired,
                items,
                others,
            } => {
                let mut s = format!("{aired}/{items} mục đã phát");
                for (st, n) in others {
                    let _ = write!(s, ", {n} {}", st.render(Lang::Vi).to_lowercase());
                }
                s
            }
            Reason::FallbackPlayed => {
                "không có nội dung theo lịch, đã phát nội dung dự phòng của kế hoạch".into()
            }
            Reason::Silent => {
                "không có nội dung và không có nội dung dự phòng vừa thời lượng: khung giờ im lặng"
                    .into()
            }
            Reason::SlotStoppedBy { who } => format!("{who} dừng khung giờ"),
            Reason::StoppedDuringSlot => "loa bị dừng trong khung giờ".into(),
            Reason::CrashDuringSlot => {
                "loa ngừng trong khung giờ (sự cố máy hoặc mất điện)".into()
            }
            Reason::NotInLibrary { bulletin } => {
                format!("bản tin {bulletin} không còn trong thư viện")
            }
            Reason::Missed { at } => format!("bỏ lỡ: lúc {at} loa không phát"),
            Reason::NoTimeLeft => "không còn thời gian trước khi hết khung giờ".into(),
            Reason::FileMissing { file } => format!("{file}: không tìm thấy tệp âm thanh"),
            Reason::FileChanged {
                file,
                expected,
                actual,
            } => format!(
                "{file}: tệp đã bị thay đổi sau khi đưa vào thư viện (SHA-256 {actual}, đúng phải là {expected}); không phát tệp này"
            ),
            Reason::FileUnreadable { file, detail } => {
                format!("{file}: không đọc được tệp (thông báo của hệ thống: {detail})")
            }
            Reason::Undecodable { file, detail } => {
                format!("{file}: không giải mã được tệp (thông báo của bộ giải mã: {detail})")
            }
            Reason::DecodeFailed { file, at, detail } => format!(
                "{file}: lỗi giải mã tại {at} (thông báo của bộ giải mã: {detail})"
            ),
            Reason::WrongLength {
                file,
                expected,
                actual,
            } => format!(
                "{file}: giải mã ra {actual} khung mẫu, thư viện ghi {expected}"
            ),
            Reason::OutputFailed { detail } => {
                format!("lỗi đầu ra âm thanh (thông báo của thiết bị: {detail})")
            }
            Reason::StoppedWhilePlaying => "loa bị dừng khi đang phát".into(),
            Reason::StoppedPlayedUnknown => {
                "loa bị dừng khi đang phát; không rõ thời lượng đã phát (không ghi được nhật ký)"
                    .into()
            }
            Reason::CrashWhilePlaying => {
                "loa ngừng khi đang phát (sự cố máy hoặc mất điện)".into()
            }
            Reason::SkippedBy { who } => format!("{who} cho qua mục này"),
            Reason::InterruptedBy { who, bulletin } => {
                format!("{who} ngắt để phát bản tin {bulletin}")
            }
            Reason::InterruptedByUrgent { who, bulletin } => {
                format!("bị ngắt bởi thông báo khẩn cấp ({bulletin}) của {who}")
            }
            Reason::JoinedLate { at_ms } => {
                format!("vào muộn, phát từ {}", position(*at_ms))
            }
            Reason::CutAtSlotEnd => "bị cắt khi hết khung giờ".into(),
            Reason::Stalled { ms } => format!(
                "phát bị gián đoạn {} giây: đồng hồ thực đã chạy trước phần âm thanh đã phát (máy bị treo, quá tải hoặc thiết bị ra bị nghẽn)",
                seconds(*ms).replace('.', ",")
            ),
            Reason::WrittenLate { from, to } => format!(
                "ghi muộn: từ {from} đến {to} không ghi được nhật ký phát sóng"
            ),
            Reason::Journalled { at } => {
                format!("được giữ trong tệp nhật ký dự phòng khi dừng lúc {at}")
            }
            Reason::OpenRowFailed { misfit } => format!(
                "dòng còn mở được đóng là lỗi phát khi khởi động lại: {}; không tính là đã phát",
                misfit.render(Lang::Vi)
            ),
        }
    }

    fn en(&self) -> String {
        match self {
            Reason::Text { text } => text.clone(),
            Reason::Slot { name } => name.clone(),
            Reason::Resumed { rows } => format!(
                "resumed: {rows} item row(s) of this slot instance were already in the airlog"
            ),
            Reason::SlotSummary {
                aired,
                items,
                others,
            } => {
                let mut s = format!("{aired} of {items} item(s) aired");
                for (st, n) in others {
                    let _ = write!(s, ", {n} {st}");
                }
                s
            }
            Reason::FallbackPlayed => "no scheduled content, the plan's fallback played".into(),
            Reason::Silent => "no content and no fallback fits: the slot stayed silent".into(),
            Reason::SlotStoppedBy { who } => format!("slot stopped by {who}"),
            Reason::StoppedDuringSlot => "loa was stopped during the slot".into(),
            Reason::CrashDuringSlot => "loa stopped during the slot (crash or power cut)".into(),
            Reason::NotInLibrary { bulletin } => {
                format!("bulletin {bulletin} is no longer in the library")
            }
            Reason::Missed { at } => format!("missed: loa was not playing at {at}"),
            Reason::NoTimeLeft => "no time left before the end of the slot".into(),
            Reason::FileMissing { file } => format!("{file}: the audio file is missing"),
            Reason::FileChanged {
                file,
                expected,
                actual,
            } => format!(
                "{file}: the file has changed since it was added to the library (SHA-256 {actual}, expected {expected}); it will not be aired"
            ),
            Reason::FileUnreadable { file, detail } => format!("{file}: {detail}"),
            Reason::Undecodable { file, detail } => format!("{file}: cannot be decoded: {detail}"),
            Reason::DecodeFailed { file, at, detail } => {
                format!("{file}: decoding failed at {at}: {detail}")
            }
            Reason::WrongLength {
                file,
                expected,
                actual,
            } => format!(
                "{file}: decodes to {actual} sample frames, the library recorded {expected}"
            ),
            Reason::OutputFailed { detail } => format!("audio output failed: {detail}"),
            Reason::StoppedWhilePlaying => "loa was stopped while it played".into(),
            Reason::StoppedPlayedUnknown => {
                "loa stopped while it played; played time unknown (airlog unavailable)".into()
            }
            Reason::CrashWhilePlaying => "loa stopped while it played (crash or power cut)".into(),
            Reason::SkippedBy { who } => format!("skipped by {who}"),
            Reason::InterruptedBy { who, bulletin } => {
                format!("interrupted by {who} for bulletin {bulletin}")
            }
            Reason::InterruptedByUrgent { who, bulletin } => {
                format!("interrupted by an urgent announcement ({bulletin}) from {who}")
            }
            Reason::JoinedLate { at_ms } => format!("joined late at {}", position(*at_ms)),
            Reason::CutAtSlotEnd => "cut at the end of the slot".into(),
            Reason::Stalled { ms } => format!(
                "playout stalled for {} s: the wall clock ran ahead of the audio written (a freeze, an overloaded machine or a blocked output)",
                seconds(*ms)
            ),
            Reason::WrittenLate { from, to } => {
                format!("written late: the airlog could not be written from {from} to {to}")
            }
            Reason::Journalled { at } => {
                format!("kept in the journal beside the database at the stop at {at}")
            }
            Reason::OpenRowFailed { misfit } => format!(
                "left open and closed at the next start as failed: {}, so nothing of it counts as aired",
                misfit.render(Lang::En)
            ),
        }
    }
}

impl Render for Reason {
    fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => self.vi(),
            Lang::En => self.en(),
        }
    }
}

/// A row's reason: its parts and the exact text stored for them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AirReason {
    /// The stored text (what the row hash covers), exactly as read or written.
    stored: String,
    /// The parts, in order.
    parts: Vec<Reason>,
}

/// The stored form of `parts`: empty, the text of a lone legacy part, or compact JSON.
fn stored_form(parts: &[Reason]) -> String {
    match parts {
        [] => String::new(),
        // A lone free text is stored as itself (so legacy rows keep their text), unless it
        // could be mistaken for the JSON form.
        [Reason::Text { text }] if !text.starts_with('[') && !text.is_empty() => text.clone(),
        _ => serde_json::to_string(parts).unwrap_or_default(),
    }
}

impl AirReason {
    /// No reason (a clean airing).
    pub fn none() -> AirReason {
        AirReason::default()
    }

    /// A reason of these parts.
    pub fn of(parts: Vec<Reason>) -> AirReason {
        let parts: Vec<Reason> = parts
            .into_iter()
            .filter(|p| !matches!(p, Reason::Text { text } if text.is_empty()))
            .collect();
        AirReason {
            stored: stored_form(&parts),
            parts,
        }
    }

    /// A reason of one part.
    pub fn one(part: Reason) -> AirReason {
        AirReason::of(vec![part])
    }

    /// The reason stored as `text`. Never fails: text that is not the structured form (a
    /// row from before reasons were structured, or one edited by hand) is one
    /// [`Reason::Text`] shown as stored. Either way [`AirReason::stored`] gives `text` back.
    pub fn parse(text: &str) -> AirReason {
        if text.is_empty() {
            return AirReason::none();
        }
        if text.starts_with('[') {
            if let Ok(parts) = serde_json::from_str::<Vec<Reason>>(text) {
                // Only the exact form loa writes counts as structured.
                if !parts.is_empty() && stored_form(&parts) == text {
                    return AirReason {
                        stored: text.to_string(),
                        parts,
                    };
                }
            }
        }
        AirReason {
            stored: text.to_string(),
            parts: vec![Reason::Text {
                text: text.to_string(),
            }],
        }
    }

    /// The stored text.
    pub fn stored(&self) -> &str {
        &self.stored
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[Reason] {
        &self.parts
    }

    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// This reason followed by `more` (a closing adds to what the row said when it opened).
    pub fn then(&self, more: &AirReason) -> AirReason {
        if more.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return more.clone();
        }
        // Free text after free text stays one text, joined as loa always joined it.
        if let ([Reason::Text { text: a }], [Reason::Text { text: b }]) =
            (self.parts.as_slice(), more.parts.as_slice())
        {
            return AirReason::one(Reason::Text {
                text: format!("{a}; {b}"),
            });
        }
        let mut parts = self.parts.clone();
        parts.extend(more.parts.iter().cloned());
        AirReason::of(parts)
    }

    /// This reason with one more part.
    pub fn with(&self, part: Reason) -> AirReason {
        self.then(&AirReason::one(part))
    }

    /// The slot's name, for a slot row (its first part; for a legacy row, the text before
    /// the first `; `).
    pub fn slot_name(&self) -> Option<&str> {
        match self.parts.first()? {
            Reason::Slot { name } => Some(name),
            Reason::Text { text } => Some(text.split_once("; ").map_or(text.as_str(), |p| p.0)),
            _ => None,
        }
    }

    /// What the slot row says after its name, rendered.
    pub fn render_after_slot_name(&self, lang: Lang) -> String {
        match self.parts.first() {
            Some(Reason::Slot { .. }) => join(&self.parts[1..], lang),
            Some(Reason::Text { text }) if self.parts.len() == 1 => text
                .split_once("; ")
                .map(|p| p.1.to_string())
                .unwrap_or_default(),
            _ => join(&self.parts, lang),
        }
    }

    /// The English rendering (logs, and tests that look for words).
    pub fn en(&self) -> String {
        self.render(Lang::En)
    }
}

fn join(parts: &[Reason], lang: Lang) -> String {
    parts
        .iter()
        .map(|p| p.render(lang))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Render for AirReason {
    fn render(&self, lang: Lang) -> String {
        join(&self.parts, lang)
    }
}

impl From<Reason> for AirReason {
    fn from(r: Reason) -> AirReason {
        AirReason::one(r)
    }
}

impl std::fmt::Display for AirReason {
    /// The English rendering, for logs (reports render in their own language).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en())
    }
}

impl PartialEq<str> for AirReason {
    /// Compares the stored text.
    fn eq(&self, other: &str) -> bool {
        self.stored == other
    }
}

impl PartialEq<&str> for AirReason {
    /// Compares the stored text.
    fn eq(&self, other: &&str) -> bool {
        self.stored == *other
    }
}

impl From<&str> for AirReason {
    /// The reason stored as this text ([`AirReason::parse`]).
    fn from(text: &str) -> AirReason {
        AirReason::parse(text)
    }
}

impl serde::Serialize for AirReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.stored)
    }
}

impl<'de> serde::Deserialize<'de> for AirReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(AirReason::parse(&s))
    }
}

#[cfg(test)]
#[path = "reason_tests.rs"]
pub(crate) mod tests;
