//! What a station's player tells operators when something needs their attention: a fixed
//! set of alerts, each a value ([`Alert`]) that renders itself in Vietnamese or English where
//! it is shown (the control API's status and event stream, `loa ctl`, the console). The
//! technical log keeps the English rendering.

use serde::Serialize;

use crate::airlog::reason::Reason;
use crate::lang::{Lang, Render};

/// Where the audio output failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStage {
    /// When an item was to begin.
    Begin,
    /// When the slot ended.
    SlotEnd,
    /// When the output was closed after a stall.
    AfterStall,
}

/// Which airlog write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AirlogWrite {
    /// Opening an item's or a slot's row.
    Open,
    /// Recording how much has played.
    Progress,
    /// Closing a row.
    Close,
    /// Writing a whole row.
    Record,
}

impl Render for AirlogWrite {
    fn render(&self, lang: Lang) -> String {
        let (vi, en) = match self {
            AirlogWrite::Open => ("mở dòng nhật ký", "opening a row"),
            AirlogWrite::Progress => ("ghi thời lượng đã phát", "recording progress"),
            AirlogWrite::Close => ("đóng dòng nhật ký", "closing a row"),
            AirlogWrite::Record => ("ghi dòng nhật ký", "writing a row"),
        };
        match lang {
            Lang::Vi => vi.into(),
            Lang::En => en.into(),
        }
    }
}

/// Something an operator should know, as it happened at a station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alert {
    /// A slot instance had no content; the plan's fallback plays.
    SlotEmpty {
        /// The slot's name.
        slot: String,
        /// When it starts, station-local `dd/mm/yyyy HH:MM`.
        at: String,
    },
    /// A slot instance had no content and no fallback fits: it stays silent.
    NoFallbackFits {
        /// The slot's name.
        slot: String,
        /// When it starts, station-local `dd/mm/yyyy HH:MM`.
        at: String,
    },
    /// A bulletin's audio cannot be played (missing, changed, unreadable, undecodable).
    Unplayable {
        /// The bulletin's id.
        bulletin: String,
        /// Its title.
        title: String,
        /// Why, as the airlog row says it.
        why: Reason,
    },
    /// The audio output refused audio.
    OutputFailed {
        /// When.
        stage: OutputStage,
        /// The output's words.
        detail: String,
    },
    /// An operator asked to skip or stop while nothing played.
    NothingOnAir {
        /// The operator.
        who: String,
    },
    /// An operator asked for a bulletin the library does not hold.
    NotInLibrary {
        /// The operator.
        who: String,
        /// The bulletin's id.
        bulletin: String,
    },
    /// An operator's item could not be played.
    PlayFailed {
        /// The bulletin's id.
        bulletin: String,
        /// What went wrong.
        detail: String,
    },
    /// Playout stalled mid-item (a freeze, an overloaded machine or a blocked output).
    Stalled {
        /// How long, ms.
        ms: u64,
        /// The bulletin's id.
        bulletin: String,
        /// Its title.
        title: String,
        /// Whether the item rejoins where it should be now (else playout goes on with what
        /// should be on air now).
        rejoin: bool,
        /// How long the sound card ran dry, ms (0: it did not, or cannot tell).
        underrun_ms: u64,
    },
    /// The airlog cannot be written; rows are held in memory.
    AirlogUnwritable {
        /// What was being written.
        what: AirlogWrite,
        /// The store's words.
        detail: String,
    },
    /// The airlog takes writes again; held rows are written.
    AirlogWritable,
    /// The capture disk is getting full.
    DiskLow {
        /// The capture folder.
        dir: String,
        /// Free space, MB.
        free_mb: u64,
        /// Capture stops below this, MB.
        floor_mb: u64,
    },
    /// Capture stopped for lack of disk space (playout and the airlog go on).
    CaptureStopped {
        /// The capture folder.
        dir: String,
        /// Free space, MB.
        free_mb: u64,
        /// The floor, MB.
        floor_mb: u64,
    },
    /// Capture resumed.
    CaptureResumed {
        /// The capture folder.
        dir: String,
        /// Free space, MB.
        free_mb: u64,
    },
    /// The commune machine that plays the station has not reported (since when, local
    /// `dd/mm/yyyy HH:MM`; none: never).
    NodeSilent {
        /// Its last report.
        since: Option<String>,
    },
    /// The commune machine's clock is further from the server's than allowed.
    ClockOffset {
        /// The node's clock minus the server's, ms.
        offset_ms: i64,
        /// `agent.max_clock_offset`, ms.
        max_ms: i64,
    },
    /// The commune machine's clock is far behind the real time: its scheduled playout waits
    /// until the clock is set (announcements still play).
    ClockHeld,
    /// An alert the commune machine reported, as it worded it.
    FromNode {
        /// In Vietnamese.
        vi: String,
        /// In English.
        en: String,
    },
}

/// A signed offset in seconds, one decimal, in `lang`'s decimal mark.
fn signed_seconds(ms: i64, lang: Lang) -> String {
    let sign = if ms < 0 { "-" } else { "+" };
    format!("{sign}{}", seconds(ms.unsigned_abs(), lang))
}

fn seconds(ms: u64, lang: Lang) -> String {
    let s = format!("{:.1}", ms as f64 / 1000.0);
    match lang {
        Lang::Vi => s.replace('.', ","),
        Lang::En => s,
    }
}

impl Alert {
    fn vi(&self) -> String {
        match self {
            Alert::SlotEmpty { slot, at } => {
                format!("khung giờ {slot} lúc {at} không có nội dung; phát nội dung dự phòng của kế hoạch")
            }
            Alert::NoFallbackFits { slot, at } => format!(
                "khung giờ {slot} lúc {at}: không có nội dung dự phòng vừa khung giờ; khung giờ sẽ im lặng"
            ),
            Alert::Unplayable { bulletin, title, why } => format!(
                "không phát được tin {bulletin} ({title}): {}",
                why.render(Lang::Vi)
            ),
            Alert::OutputFailed { stage, detail } => {
                let when = match stage {
                    OutputStage::Begin => "khi bắt đầu phát",
                    OutputStage::SlotEnd => "khi kết thúc khung giờ",
                    OutputStage::AfterStall => "sau khi phát bị treo",
                };
                format!("đầu ra âm thanh lỗi {when} (thông báo của thiết bị: {detail})")
            }
            Alert::NothingOnAir { who } => {
                format!("{who} yêu cầu bỏ qua hoặc dừng, nhưng hiện không có gì đang phát")
            }
            Alert::NotInLibrary { who, bulletin } => {
                format!("{who} yêu cầu phát tin {bulletin}, nhưng thư viện không có tin này")
            }
            Alert::PlayFailed { bulletin, detail } => {
                format!("phát tin {bulletin} lỗi: {detail}")
            }
            Alert::Stalled {
                ms,
                bulletin,
                title,
                rejoin,
                underrun_ms,
            } => {
                let then = if *rejoin {
                    "phát lại tiếp tục tin này từ vị trí đúng lúc này"
                } else {
                    "phát tiếp nội dung đúng lịch lúc này"
                };
                let dry = if *underrun_ms > 0 {
                    format!("; card âm thanh bị cạn dữ liệu {underrun_ms} mili giây")
                } else {
                    String::new()
                };
                format!(
                    "phát sóng bị treo {} giây khi đang phát tin {bulletin} ({title}): đồng hồ chạy trước âm thanh đã ghi (máy bị đóng băng, quá tải hoặc đầu ra bị nghẽn); nhật ký ghi là phát một phần và {then}{dry}",
                    seconds(*ms, Lang::Vi)
                )
            }
            Alert::AirlogUnwritable { what, detail } => format!(
                "không ghi được nhật ký phát sóng ({}: {detail}); vẫn phát bình thường, các dòng nhật ký được giữ trong bộ nhớ",
                what.render(Lang::Vi)
            ),
            Alert::AirlogWritable => {
                "đã ghi được nhật ký phát sóng trở lại; các dòng giữ trong bộ nhớ đã được ghi".into()
            }
            Alert::DiskLow {
                dir,
                free_mb,
                floor_mb,
            } => format!(
                "ổ đĩa chứa {dir} chỉ còn {free_mb} MB trống; ghi âm sẽ dừng khi còn dưới {floor_mb} MB"
            ),
            Alert::CaptureStopped {
                dir,
                free_mb,
                floor_mb,
            } => format!(
                "đã dừng ghi âm: ổ đĩa chứa {dir} chỉ còn {free_mb} MB trống (ngưỡng {floor_mb} MB); vẫn phát và ghi nhật ký bình thường"
            ),
            Alert::CaptureResumed { dir, free_mb } => {
                format!("đã ghi âm trở lại: ổ đĩa chứa {dir} còn {free_mb} MB trống")
            }
            Alert::NodeSilent { since: Some(t) } => {
                format!("máy xã không báo cáo từ {t}: mất liên lạc hoặc máy đã tắt")
            }
            Alert::NodeSilent { since: None } => {
                "máy xã chưa báo cáo lần nào (chưa đăng ký hoặc chưa chạy)".into()
            }
            Alert::ClockOffset { offset_ms, max_ms } => format!(
                "đồng hồ máy xã lệch {} giây so với máy chủ (cho phép tối đa {} giây)",
                signed_seconds(*offset_ms, Lang::Vi),
                seconds(max_ms.unsigned_abs(), Lang::Vi)
            ),
            Alert::ClockHeld => {
                "đồng hồ máy xã chậm quá xa so với giờ thực: tạm dừng phát theo lịch cho đến khi đồng hồ đúng (thông báo vẫn phát)".into()
            }
            Alert::FromNode { vi, .. } => format!("máy xã báo: {vi}"),
        }
    }

    fn en(&self) -> String {
        match self {
            Alert::SlotEmpty { slot, at } => {
                format!("slot {slot} at {at} has no content; playing the plan's fallback")
            }
            Alert::NoFallbackFits { slot, at } => {
                format!("slot {slot} at {at}: no fallback fits; the slot stays silent")
            }
            Alert::Unplayable { bulletin, title, why } => format!(
                "bulletin {bulletin} ({title}) cannot be played: {}",
                why.render(Lang::En)
            ),
            Alert::OutputFailed { stage, detail } => {
                let when = match stage {
                    OutputStage::Begin => "",
                    OutputStage::SlotEnd => " at the end of the slot",
                    OutputStage::AfterStall => " after a stall",
                };
                format!("audio output failed{when}: {detail}")
            }
            Alert::NothingOnAir { who } => {
                format!("{who} asked to skip or stop, but nothing is on air")
            }
            Alert::NotInLibrary { who, bulletin } => {
                format!("{who} asked for bulletin {bulletin}, which is not in the library")
            }
            Alert::PlayFailed { bulletin, detail } => format!("playing {bulletin} failed: {detail}"),
            Alert::Stalled {
                ms,
                bulletin,
                title,
                rejoin,
                underrun_ms,
            } => {
                let then = if *rejoin {
                    "playout rejoins it where it should be now"
                } else {
                    "playout goes on with what should be on air now"
                };
                let dry = if *underrun_ms > 0 {
                    format!("; the sound card ran dry for {underrun_ms} ms")
                } else {
                    String::new()
                };
                format!(
                    "playout stalled for {} s during bulletin {bulletin} ({title}): the wall clock ran ahead of the audio written (a freeze, an overloaded machine or a blocked output); the item is logged partial and {then}{dry}",
                    seconds(*ms, Lang::En)
                )
            }
            Alert::AirlogUnwritable { what, detail } => format!(
                "airlog cannot be written ({}: {detail}); playout goes on and rows are held in memory",
                what.render(Lang::En)
            ),
            Alert::AirlogWritable => "airlog writes work again; held rows are written".into(),
            Alert::DiskLow {
                dir,
                free_mb,
                floor_mb,
            } => format!(
                "the disk of {dir} has only {free_mb} MB free; capture stops below {floor_mb} MB"
            ),
            Alert::CaptureStopped {
                dir,
                free_mb,
                floor_mb,
            } => format!(
                "capture stopped: only {free_mb} MB free on the disk of {dir} (the floor is {floor_mb} MB); playout and the airlog go on"
            ),
            Alert::CaptureResumed { dir, free_mb } => {
                format!("capture resumed: {free_mb} MB free on the disk of {dir}")
            }
            Alert::NodeSilent { since: Some(t) } => format!(
                "the commune machine has not reported since {t}: the link is down or the machine is off"
            ),
            Alert::NodeSilent { since: None } => {
                "the commune machine has never reported (not enrolled or not running)".into()
            }
            Alert::ClockOffset { offset_ms, max_ms } => format!(
                "the commune machine's clock is {} s off the server's (at most {} s allowed)",
                signed_seconds(*offset_ms, Lang::En),
                seconds(max_ms.unsigned_abs(), Lang::En)
            ),
            Alert::ClockHeld => {
                "the commune machine's clock is far behind the real time: scheduled playout waits until the clock is set (announcements still play)".into()
            }
            Alert::FromNode { en, .. } => format!("the commune machine reports: {en}"),
        }
    }
}

impl Render for Alert {
    fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => self.vi(),
            Lang::En => self.en(),
        }
    }
}

impl std::fmt::Display for Alert {
    /// The technical log's wording (English).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en())
    }
}

/// One alert of every kind, for the language tests; a new variant must be added here (the
/// match below fails to compile without it).
#[cfg(test)]
pub(crate) fn every_alert() -> Vec<Alert> {
    let all = vec![
        Alert::SlotEmpty {
            slot: "Sáng".into(),
            at: "06/03/2023 05:30".into(),
        },
        Alert::NoFallbackFits {
            slot: "Sáng".into(),
            at: "06/03/2023 05:30".into(),
        },
        Alert::Unplayable {
            bulletin: "b-1".into(),
            title: "Dịch vụ công".into(),
            why: Reason::FileMissing {
                file: "ab/cd.mp3".into(),
            },
        },
        Alert::OutputFailed {
            stage: OutputStage::Begin,
            detail: "EPIPE".into(),
        },
        Alert::OutputFailed {
            stage: OutputStage::SlotEnd,
            detail: "EPIPE".into(),
        },
        Alert::OutputFailed {
            stage: OutputStage::AfterStall,
            detail: "EPIPE".into(),
        },
        Alert::NothingOnAir {
            who: "Lê Thị Hoa".into(),
        },
        Alert::NotInLibrary {
            who: "Lê Thị Hoa".into(),
            bulletin: "b-9".into(),
        },
        Alert::PlayFailed {
            bulletin: "b-1".into(),
            detail: "EPIPE".into(),
        },
        Alert::Stalled {
            ms: 20_400,
            bulletin: "b-1".into(),
            title: "Dịch vụ công".into(),
            rejoin: true,
            underrun_ms: 300,
        },
        Alert::Stalled {
            ms: 20_400,
            bulletin: "b-1".into(),
            title: "Dịch vụ công".into(),
            rejoin: false,
            underrun_ms: 0,
        },
        Alert::AirlogUnwritable {
            what: AirlogWrite::Open,
            detail: "SQLITE_READONLY".into(),
        },
        Alert::AirlogUnwritable {
            what: AirlogWrite::Progress,
            detail: "SQLITE_READONLY".into(),
        },
        Alert::AirlogUnwritable {
            what: AirlogWrite::Close,
            detail: "SQLITE_READONLY".into(),
        },
        Alert::AirlogUnwritable {
            what: AirlogWrite::Record,
            detail: "SQLITE_READONLY".into(),
        },
        Alert::AirlogWritable,
        Alert::DiskLow {
            dir: "/srv/loa/capture".into(),
            free_mb: 900,
            floor_mb: 500,
        },
        Alert::CaptureStopped {
            dir: "/srv/loa/capture".into(),
            free_mb: 400,
            floor_mb: 500,
        },
        Alert::CaptureResumed {
            dir: "/srv/loa/capture".into(),
            free_mb: 1000,
        },
        Alert::NodeSilent {
            since: Some("06/12/2026 17:00".into()),
        },
        Alert::NodeSilent { since: None },
        Alert::ClockOffset {
            offset_ms: -2_500,
            max_ms: 2_000,
        },
        Alert::ClockHeld,
        Alert::FromNode {
            vi: "khung giờ Sáng không có nội dung".into(),
            en: "slot Sáng has no content".into(),
        },
    ];
    for a in &all {
        match a {
            Alert::SlotEmpty { .. }
            | Alert::NoFallbackFits { .. }
            | Alert::Unplayable { .. }
            | Alert::OutputFailed { .. }
            | Alert::NothingOnAir { .. }
            | Alert::NotInLibrary { .. }
            | Alert::PlayFailed { .. }
            | Alert::Stalled { .. }
            | Alert::AirlogUnwritable { .. }
            | Alert::AirlogWritable
            | Alert::DiskLow { .. }
            | Alert::CaptureStopped { .. }
            | Alert::CaptureResumed { .. }
            | Alert::NodeSilent { .. }
            | Alert::ClockOffset { .. }
            | Alert::ClockHeld
            | Alert::FromNode { .. } => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_reads_in_vietnamese_with_a_decimal_comma_and_in_english_with_a_point() {
        let a = Alert::Stalled {
            ms: 20_400,
            bulletin: "b-1".into(),
            title: "Dịch vụ công".into(),
            rejoin: true,
            underrun_ms: 0,
        };
        assert!(a.render(Lang::Vi).contains("bị treo 20,4 giây"));
        assert!(a.render(Lang::En).contains("stalled for 20.4 s"));
        assert!(!a.render(Lang::Vi).contains("ran dry"));
    }

    #[test]
    fn an_alert_serialises_as_its_kind_and_fields_not_as_words() {
        let v = serde_json::to_value(Alert::CaptureResumed {
            dir: "/c".into(),
            free_mb: 7,
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "capture_resumed", "dir": "/c", "free_mb": 7})
        );
    }

    #[test]
    fn the_technical_log_keeps_the_english_words() {
        assert_eq!(
            Alert::AirlogWritable.to_string(),
            "airlog writes work again; held rows are written"
        );
    }
}
