//! One export row: an airlog [`Record`](crate::airlog::Record) joined with its bulletin's
//! metadata and shown in its station's local time. Pure: the same record, library and
//! station always give the same row, which is what lets `verify --export` regenerate and
//! compare.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};

use crate::airlog::AirStatus;
use crate::library::{Bulletin, BulletinId, Kind, Topic};
use crate::store::ExportFields;

use super::{ReportError, StationScope};

/// How many columns an export's detail has.
pub const NCOLS: usize = 23;

/// The CSV header, in order (the column codes of the export contract). The last seven
/// columns carry what each row hash covers besides the shown ones, as stored, so anyone
/// can recompute it (`docs/en/reporting.md`, "The row hash").
pub const COLUMNS: [&str; NCOLS] = [
    "station_code",
    "station_name",
    "slot_start",
    "bulletin_id",
    "title",
    "kind",
    "topic",
    "producer",
    "planned_start",
    "actual_start",
    "actual_end",
    "played_ms",
    "status",
    "reason",
    "sha256",
    "row_hash",
    "seq",
    "prev_hash",
    "source",
    "gain_db",
    "who",
    "link_seq",
    "reason_stored",
];

/// The detail sheet's Vietnamese headers, column for column with [`COLUMNS`].
pub const COLUMNS_VI: [&str; NCOLS] = [
    "Mã đài",
    "Tên đài",
    "Bắt đầu buổi phát",
    "Mã tin bài",
    "Tiêu đề",
    "Loại",
    "Nội dung",
    "Đơn vị thực hiện",
    "Giờ phát theo lịch",
    "Giờ bắt đầu thực tế",
    "Giờ kết thúc thực tế",
    "Thời lượng đã phát (ms)",
    "Trạng thái",
    "Lý do",
    "SHA-256 tệp âm thanh",
    "Mã băm dòng",
    "Số thứ tự",
    "Mã băm dòng trước",
    "Nguồn",
    "Độ khuếch đại (dB)",
    "Người thực hiện",
    "Dòng liên quan",
    "Lý do (như đã lưu)",
];

/// The library, by bulletin id, for joining titles, kinds, topics and producers.
#[derive(Debug, Default)]
pub struct Library(HashMap<BulletinId, Bulletin>);

impl Library {
    /// Every bulletin, whatever its state (retired bulletins aired too).
    pub fn new(bulletins: Vec<Bulletin>) -> Library {
        Library(bulletins.into_iter().map(|b| (b.id, b)).collect())
    }

    /// A bulletin by the id text an airlog row holds.
    pub fn get(&self, id: &str) -> Option<&Bulletin> {
        id.parse::<BulletinId>().ok().and_then(|i| self.0.get(&i))
    }

    /// Every bulletin.
    pub fn all(&self) -> impl Iterator<Item = &Bulletin> {
        self.0.values()
    }
}

/// One row of an export, borrowing its texts from the fetched page, the station and the
/// library (an export makes millions of them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportRow<'a> {
    /// The store's sequence number.
    pub seq: i64,
    /// Station code.
    pub station_code: &'a str,
    /// Station name.
    pub station_name: &'a str,
    /// Start of the slot instance, station time.
    pub slot_start: DateTime<FixedOffset>,
    /// The bulletin (empty for a slot-level row).
    pub bulletin_id: &'a str,
    /// Its title (empty when the library no longer has it).
    pub title: &'a str,
    /// Its kind.
    pub kind: Option<Kind>,
    /// Its topic.
    pub topic: Option<Topic>,
    /// Its producer unit.
    pub producer: &'a str,
    /// When it should have started.
    pub planned_start: DateTime<FixedOffset>,
    /// When it started.
    pub actual_start: Option<DateTime<FixedOffset>>,
    /// When it ended.
    pub actual_end: Option<DateTime<FixedOffset>>,
    /// How much played, ms.
    pub played_ms: i64,
    /// How it ended.
    pub status: AirStatus,
    /// Why, for anything but a clean airing.
    pub reason: &'a str,
    /// SHA-256 of the audio that played.
    pub sha256: &'a str,
    /// The row's hash in its station's chain.
    pub row_hash: &'a str,
    /// The hash of the row before it in the chain.
    pub prev_hash: &'a str,
    /// schedule, manual, urgent, fallback, makeup.
    pub source: &'a str,
    /// Gain applied, dB, exactly as stored.
    pub gain_db: Option<f64>,
    /// Operator or "loa".
    pub who: &'a str,
    /// The related row.
    pub link_seq: Option<i64>,
    /// The reason as stored (what the row hash covers; [`ExportRow::reason`] is what
    /// people read).
    pub reason_stored: &'a str,
}

/// One cell of a row, typed so that XLSX can write real dates and numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// An instant in station time (None: empty cell).
    Time(Option<DateTime<FixedOffset>>),
    /// A whole number.
    Number(i64),
    /// A whole number or nothing.
    OptNumber(Option<i64>),
    /// A gain in dB, written as the exact decimal the row hash uses.
    Gain(Option<f64>),
}

impl Cell<'_> {
    /// The cell as CSV text: instants RFC 3339 with the station's offset, to the µs.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.to_string(),
            Cell::Time(t) => t.map(instant_text).unwrap_or_default(),
            Cell::Number(n) => n.to_string(),
            Cell::OptNumber(n) => n.map(|n| n.to_string()).unwrap_or_default(),
            Cell::Gain(g) => g.map(|g| format!("{g}")).unwrap_or_default(),
        }
    }
}

/// The detail column that shows a row's reason in the report's language (the stored text
/// is in `reason_stored`, which the row hash covers).
pub const REASON_COLUMN: usize = 13;

/// A row's stored reason as the report shows it in `lang` (empty for none).
pub fn shown_reason(stored: &str, lang: crate::lang::Lang) -> String {
    use crate::lang::Render;
    if stored.is_empty() {
        String::new()
    } else {
        crate::airlog::AirReason::parse(stored).render(lang)
    }
}

/// RFC 3339 with the offset, to the microsecond: `2023-03-13T05:30:00.000000+07:00`.
pub fn instant_text(t: DateTime<FixedOffset>) -> String {
    String::from_utf8_lossy(&instant_bytes(t)).into_owned()
}

/// [`instant_text`] as ASCII bytes, written digit by digit: an export writes millions of
/// them.
pub fn instant_bytes(t: DateTime<FixedOffset>) -> [u8; 32] {
    use chrono::{Datelike, Timelike};
    fn put(b: &mut [u8], mut v: u32) {
        for d in b.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let l = t.naive_local();
    let off = t.offset().local_minus_utc();
    let mut b = *b"0000-00-00T00:00:00.000000+00:00";
    put(&mut b[0..4], l.year().clamp(0, 9999) as u32);
    put(&mut b[5..7], l.month());
    put(&mut b[8..10], l.day());
    put(&mut b[11..13], l.hour());
    put(&mut b[14..16], l.minute());
    put(&mut b[17..19], l.second());
    put(&mut b[20..26], l.nanosecond() % 1_000_000_000 / 1_000);
    if off < 0 {
        b[26] = b'-';
    }
    let off = off.unsigned_abs();
    put(&mut b[27..29], off / 3600);
    put(&mut b[30..32], off % 3600 / 60);
    b
}

/// Parses a stored instant. The store writes fixed-width UTC text to the microsecond
/// (`2023-03-12T22:30:00.000000Z`), read here without chrono's general parser; anything
/// else goes through RFC 3339 parsing.
fn parse_stored(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let fixed = b.len() == 27
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[26] == b'Z';
    if fixed {
        let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
        let time = chrono::NaiveTime::from_hms_micro_opt(
            num(11..13)?,
            num(14..16)?,
            num(17..19)?,
            num(20..26)?,
        )?;
        return Some(date.and_time(time).and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl<'a> ExportRow<'a> {
    /// The cells, in [`COLUMNS`] order.
    pub fn cells(&self) -> [Cell<'a>; NCOLS] {
        let t = Cell::Text;
        [
            t(self.station_code),
            t(self.station_name),
            Cell::Time(Some(self.slot_start)),
            t(self.bulletin_id),
            t(self.title),
            t(self.kind.map_or("", |k| k.as_str())),
            t(self.topic.map_or("", |k| k.as_str())),
            t(self.producer),
            Cell::Time(Some(self.planned_start)),
            Cell::Time(self.actual_start),
            Cell::Time(self.actual_end),
            Cell::Number(self.played_ms),
            t(self.status.as_str()),
            t(self.reason),
            t(self.sha256),
            t(self.row_hash),
            Cell::Number(self.seq),
            t(self.prev_hash),
            t(self.source),
            Cell::Gain(self.gain_db),
            t(self.who),
            Cell::OptNumber(self.link_seq),
            t(self.reason_stored),
        ]
    }
}

pub(super) fn instant(
    seq: i64,
    field: &str,
    s: &str,
    station: &StationScope,
) -> Result<DateTime<FixedOffset>, ReportError> {
    parse_stored(s)
        .map(|t| t.with_timezone(&station.timezone).fixed_offset())
        .ok_or(())
        .map_err(|_| ReportError::BadRow {
            seq,
            reason: format!("{field} '{s}' is not an RFC 3339 instant"),
        })
}

/// The export row of a closed airlog row at `station`.
pub fn export_row<'a>(
    r: ExportFields<'a>,
    station: &'a StationScope,
    library: &'a Library,
) -> Result<ExportRow<'a>, ReportError> {
    let b = r.bulletin_id.and_then(|id| library.get(id));
    let (title, kind, topic, producer) = match b {
        Some(b) => (
            b.meta.title.as_str(),
            Some(b.meta.kind),
            Some(b.meta.topic),
            b.meta.producer.as_str(),
        ),
        None => ("", None, None, ""),
    };
    let opt =
        |field: &str, v: Option<&str>| v.map(|s| instant(r.seq, field, s, station)).transpose();
    let slot_start = instant(r.seq, "slot_start", r.slot_start, station)?;
    let planned_start = instant(r.seq, "planned_start", r.planned_start, station)?;
    let actual_start = opt("actual_start", r.actual_start)?;
    let actual_end = opt("actual_end", r.actual_end)?;
    Ok(ExportRow {
        seq: r.seq,
        station_code: r.station,
        station_name: &station.name,
        slot_start,
        bulletin_id: r.bulletin_id.unwrap_or_default(),
        title,
        kind,
        topic,
        producer,
        planned_start,
        actual_start,
        actual_end,
        played_ms: r.played_ms,
        status: AirStatus::try_from(r.status).map_err(|e| ReportError::BadRow {
            seq: r.seq,
            reason: e.to_string(),
        })?,
        reason: r.reason,
        sha256: r.sha256.unwrap_or_default(),
        row_hash: r.row_hash,
        prev_hash: r.prev_hash,
        source: r.source,
        gain_db: r.gain_db,
        who: r.who,
        link_seq: r.link_seq,
        reason_stored: r.reason,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::airlog::Record;
    use crate::library::{ApprovalState, AudioFacts, BulletinMeta, Priority, StateChange};

    pub(crate) fn bulletin(id: &str, kind: Kind, topic: Topic, title: &str) -> Bulletin {
        Bulletin {
            id: id.parse().unwrap(),
            meta: BulletinMeta {
                title: title.into(),
                kind,
                topic,
                priority: Priority::Normal,
                producer: "Phòng Tư pháp".into(),
                language: "vi".into(),
                valid_from: None,
                valid_until: None,
                stations: vec![],
                notes: String::new(),
            },
            audio: AudioFacts {
                sha256: format!("{id}{}", "0".repeat(52)),
                size_bytes: 1,
                codec: "mp3".into(),
                container: "mp3".into(),
                sample_rate: 8000,
                channels: 1,
                duration_ms: 60_000,
                frames: 480_000,
                loudness_lufs: None,
                loudness_range_lu: None,
                true_peak_dbtp: None,
                leading_silence_ms: 0,
                trailing_silence_ms: 0,
                tag_title: None,
                tag_artist: None,
            },
            audio_path: String::new(),
            original_name: String::new(),
            state: ApprovalState::Approved,
            added: StateChange {
                by: "t".into(),
                at: chrono::DateTime::UNIX_EPOCH,
            },
            approved: None,
            retired: None,
        }
    }

    pub(crate) fn record(seq: i64, id: &str, status: &str, played_ms: i64) -> Record {
        Record {
            seq,
            level: "item".into(),
            station: "vinh-an".into(),
            slot_start: "2023-03-12T22:30:00.000000Z".into(),
            bulletin_id: Some(id.into()),
            sha256: Some("ab".repeat(32)),
            planned_start: "2023-03-12T22:30:10.250000Z".into(),
            actual_start: Some("2023-03-12T22:30:10.250000Z".into()),
            actual_end: Some("2023-03-12T22:31:10.250000Z".into()),
            played_ms,
            status: status.try_into().unwrap(),
            source: crate::airlog::CueSource::Schedule,
            reason: crate::airlog::AirReason::none(),
            gain_db: None,
            who: "loa".into(),
            link_seq: None,
            prev_hash: String::new(),
            row_hash: "cd".repeat(32),
        }
    }

    pub(crate) fn station() -> StationScope {
        StationScope {
            code: "vinh-an".into(),
            name: "Xã Vĩnh An".into(),
            timezone: super::super::DEFAULT_TZ,
        }
    }

    #[test]
    fn times_are_shown_in_station_time_with_the_offset_to_the_microsecond() {
        let lib = Library::new(vec![bulletin(
            "0123456789ab",
            Kind::News,
            Topic::Documents,
            "Tin",
        )]);
        let (r, st) = (record(7, "0123456789ab", "aired", 60_000), station());
        let row = export_row((&r).into(), &st, &lib).unwrap();
        let cells = row.cells();
        assert_eq!(cells[2].text(), "2023-03-13T05:30:00.000000+07:00");
        assert_eq!(cells[8].text(), "2023-03-13T05:30:10.250000+07:00");
        assert_eq!(cells[5].text(), "news");
        assert_eq!(cells[6].text(), "documents");
        assert_eq!(cells[1].text(), "Xã Vĩnh An");
    }

    #[test]
    fn instants_are_written_as_chrono_would_write_them() {
        for text in [
            "2023-03-13T05:30:00.000000+07:00",
            "2023-12-31T23:59:59.999999+07:00",
            "2023-06-01T01:02:03.000450-03:30",
            "2023-06-01T01:02:03.120000+00:00",
        ] {
            let t = DateTime::parse_from_rfc3339(text).unwrap();
            assert_eq!(instant_text(t), text);
            assert_eq!(
                instant_text(t),
                t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
            );
        }
    }

    #[test]
    fn a_bulletin_gone_from_the_library_leaves_its_metadata_empty() {
        let (r, st, lib) = (
            record(7, "0123456789ab", "aired", 1),
            station(),
            Library::default(),
        );
        let row = export_row((&r).into(), &st, &lib).unwrap();
        assert_eq!((row.title, row.kind), ("", None));
        assert_eq!(row.bulletin_id, "0123456789ab");
    }

    #[test]
    fn an_unreadable_instant_names_the_row_and_field() {
        let mut r = record(9, "0123456789ab", "aired", 1);
        r.planned_start = "yesterday".into();
        let e = export_row((&r).into(), &station(), &Library::default()).unwrap_err();
        assert!(
            e.to_string().contains("row 9") && e.to_string().contains("planned_start"),
            "{e}"
        );
    }
}
