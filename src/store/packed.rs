//! Export pages fetched packed: a page of a station's closed airlog rows comes back from the
//! database as **one** text value, and [`ExportPage::rows`] reads it into borrowed
//! [`ExportFields`]. sqlx's SQLite driver hands every result row from its worker thread to
//! the async side over a channel; for the millions of rows of a year's export that hand-over
//! was most of the time, and one value a page removes it.
//!
//! # Format
//!
//! Each row is its `seq`, a space, its `played_ms`, a space, then fourteen fields and a line
//! feed. A field is its length in UTF-8 bytes, a colon and its text (`6:failed`); the empty
//! text is `0:`, NULL a colon alone. The fields, in order: slot_start, bulletin_id, sha256,
//! planned_start, actual_start, actual_end, status, row_hash, reason, source, gain_db, who,
//! link_seq, prev_hash (the last five let an export carry what its row hash covers). The
//! gain is written with 17 significant digits (`printf('%!.17g')`, which PostgreSQL gets
//! from a function of migration 0006), enough to read back the exact stored number; the
//! text a database makes of a REAL by default (15 digits in SQLite) is not. Free text (the reason,
//! or anything hand-edited into the store) may hold any character: the length, not a
//! separator, says where a field ends. The station is not repeated in every row: a page is
//! one station's (`station = $1`, equal bytes), and [`ExportPage`] holds it once.
//!
//! [`PACKED_PAGE`] builds this with `concat` (which reads NULL as empty) and `octet_length`,
//! and joins the rows with `string_agg`: SQLite (3.44 on; sqlx bundles 3.46) and PostgreSQL
//! both have them, so both backends run the one SQL text. Lengths are in bytes of UTF-8,
//! the encoding of both loa databases (SQLite's default, and PostgreSQL's `UTF8`, which
//! Vietnamese text needs).
//!
//! # Order
//!
//! The subquery's `ORDER BY … LIMIT` chooses the page's rows; `string_agg` joins them
//! without an `ORDER BY` of its own, which would make SQLite copy every packed row into a
//! sort b-tree (a third of a year's export time). Its order is then not promised, so
//! [`ExportPage::parse`] puts the rows back in order ([`sort_for_export`]); they come in
//! order in practice and the check costs one comparison a row.

use crate::airlog::Record;

use super::StoreError;

/// The packed text of one row (the format of the module doc), as a SQL expression.
macro_rules! packed_row {
    () => {
        "concat(\
     seq, ' ', played_ms, ' ', \
     octet_length(slot_start), ':', slot_start, \
     octet_length(bulletin_id), ':', bulletin_id, \
     octet_length(sha256), ':', sha256, \
     octet_length(planned_start), ':', planned_start, \
     octet_length(actual_start), ':', actual_start, \
     octet_length(actual_end), ':', actual_end, \
     octet_length(status), ':', status, \
     octet_length(row_hash), ':', row_hash, \
     octet_length(reason), ':', reason, \
     octet_length(source), ':', source, \
     octet_length(CASE WHEN gain_db IS NULL THEN NULL ELSE printf('%!.17g', gain_db) END), ':', \
     CASE WHEN gain_db IS NULL THEN NULL ELSE printf('%!.17g', gain_db) END, \
     octet_length(who), ':', who, \
     octet_length(CAST(link_seq AS TEXT)), ':', link_seq, \
     octet_length(prev_hash), ':', prev_hash, \
          '\n')"
    };
}

/// One page of a station's closed item rows in (planned start, seq) order, at most `$6` rows
/// after the key (`$4`, `$5`) in `[$2, $3)`, as one text value (NULL when the page is empty).
pub(crate) const PACKED_PAGE: &str = concat!(
    "SELECT string_agg(packed, '') FROM (SELECT ",
    packed_row!(),
    " AS packed, planned_start, seq FROM airlog_all \
     WHERE station = $1 AND planned_start >= $2 AND planned_start < $3 AND row_hash <> '' \
     AND level = 'item' AND (planned_start > $4 OR seq > $5) ORDER BY planned_start, seq LIMIT $6) AS page",
);

/// A station's closed slot rows whose planned start is in `[$2, $3)`, in seq order, packed
/// as [`PACKED_PAGE`] packs item rows (the integrity block carries them; reading them
/// packed spares the driver's per-value work on hundreds of thousands of rows).
pub(crate) const PACKED_SLOT_ROWS: &str = concat!(
    "SELECT string_agg(packed, '') FROM (SELECT ",
    packed_row!(),
    " AS packed, seq FROM airlog_all WHERE station = $1 AND level = 'slot' \
     AND planned_start >= $2 AND planned_start < $3 AND row_hash <> '' ORDER BY seq) AS page",
);

/// The fields of a closed airlog row that exports show (not the chain's own fields),
/// borrowed from an [`ExportPage`] or a [`Record`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportFields<'a> {
    /// Sequence number.
    pub seq: i64,
    /// Station code.
    pub station: &'a str,
    /// Start of the slot instance (stored text).
    pub slot_start: &'a str,
    /// The bulletin.
    pub bulletin_id: Option<&'a str>,
    /// SHA-256 of the audio.
    pub sha256: Option<&'a str>,
    /// When it should have started.
    pub planned_start: &'a str,
    /// When it started.
    pub actual_start: Option<&'a str>,
    /// When it ended.
    pub actual_end: Option<&'a str>,
    /// How much played, ms.
    pub played_ms: i64,
    /// Its status.
    pub status: &'a str,
    /// Why.
    pub reason: &'a str,
    /// Its hash.
    pub row_hash: &'a str,
    /// schedule, manual, urgent, fallback, makeup.
    pub source: &'a str,
    /// Gain applied, dB, as stored.
    pub gain_db: Option<f64>,
    /// Operator or "loa".
    pub who: &'a str,
    /// The row this one relates to.
    pub link_seq: Option<i64>,
    /// Hash of the station's previous closed row.
    pub prev_hash: &'a str,
}

impl<'a> From<&'a Record> for ExportFields<'a> {
    fn from(r: &'a Record) -> ExportFields<'a> {
        ExportFields {
            seq: r.seq,
            station: &r.station,
            slot_start: &r.slot_start,
            bulletin_id: r.bulletin_id.as_deref(),
            sha256: r.sha256.as_deref(),
            planned_start: &r.planned_start,
            actual_start: r.actual_start.as_deref(),
            actual_end: r.actual_end.as_deref(),
            played_ms: r.played_ms,
            status: r.status.as_str(),
            reason: r.reason.stored(),
            row_hash: &r.row_hash,
            source: r.source.as_str(),
            gain_db: r.gain_db,
            who: &r.who,
            link_seq: r.link_seq,
            prev_hash: &r.prev_hash,
        }
    }
}

impl ExportFields<'_> {
    /// The whole record of a row read packed at `level` (the packed text carries every
    /// stored field but the level, which the query fixed).
    pub fn to_record(&self, level: crate::airlog::Level) -> Result<Record, StoreError> {
        use crate::airlog::{AirReason, AirStatus, CueSource};
        let bad = |e: crate::airlog::UnknownCode| StoreError::BadAirlogRow {
            seq: self.seq,
            reason: e.to_string(),
        };
        Ok(Record {
            seq: self.seq,
            level: level.as_str().to_string(),
            station: self.station.to_string(),
            slot_start: self.slot_start.to_string(),
            bulletin_id: self.bulletin_id.map(str::to_string),
            sha256: self.sha256.map(str::to_string),
            planned_start: self.planned_start.to_string(),
            actual_start: self.actual_start.map(str::to_string),
            actual_end: self.actual_end.map(str::to_string),
            played_ms: self.played_ms,
            status: AirStatus::try_from(self.status).map_err(bad)?,
            source: CueSource::try_from(self.source).map_err(bad)?,
            reason: AirReason::parse(self.reason),
            gain_db: self.gain_db,
            who: self.who.to_string(),
            link_seq: self.link_seq,
            prev_hash: self.prev_hash.to_string(),
            row_hash: self.row_hash.to_string(),
        })
    }
}

/// Puts rows in export order, (planned start, seq), comparing the planned starts byte by
/// byte: SQLite's order (its BINARY collation), and any PostgreSQL collation's order for
/// the fixed-width UTC text loa stores. Pages come out of the database in that order
/// already. Only a hand-edited instant, whose row then fails its own hash, could order
/// differently in a PostgreSQL collation, and be moved within its page (or, where it ends
/// a full page, shift where the next page starts).
pub fn sort_for_export(rows: &mut [ExportFields<'_>]) {
    fn key<'a>(r: &ExportFields<'a>) -> (&'a [u8], i64) {
        (r.planned_start.as_bytes(), r.seq)
    }
    if !rows.is_sorted_by(|a, b| key(a) <= key(b)) {
        rows.sort_by(|a, b| key(a).cmp(&key(b)));
    }
}

/// Where one row's fields are in a page's text.
#[derive(Debug, Clone, PartialEq)]
struct Spans {
    seq: i64,
    played_ms: i64,
    /// Byte ranges of the text fields, in the order of the module doc (None: NULL).
    texts: [Option<(u32, u32)>; FIELDS],
    /// The gain, read from its 17-digit text.
    gain_db: Option<f64>,
    /// The linked row.
    link_seq: Option<i64>,
}

/// The text fields of a packed row.
const FIELDS: usize = 14;

/// One page of rows, read back from the packed text the database returned: it can only
/// hold rows that read back, in export order ([`sort_for_export`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportPage {
    /// The station whose rows these are.
    station: String,
    /// The rows, in the format of the module doc.
    text: String,
    /// Each row's fields in `text`, in export order.
    rows: Vec<Spans>,
}

impl ExportPage {
    /// Reads a page of `station` (named in the error when it does not read back) from the
    /// text [`PACKED_PAGE`] returned (None: no rows).
    pub(crate) fn parse(station: &str, text: Option<String>) -> Result<ExportPage, StoreError> {
        let text = text.unwrap_or_default();
        let bad = |rows: &[Spans], reason: String| StoreError::Corrupt {
            id: format!(
                "airlog page of station {station} (row {} of the page, after seq {})",
                rows.len() + 1,
                rows.last().map_or("none".into(), |r| r.seq.to_string())
            ),
            reason: format!("its packed export fields do not read back: {reason}"),
        };
        if u32::try_from(text.len()).is_err() {
            return Err(bad(&[], format!("{} bytes is too long", text.len())));
        }
        let mut cur = Cursor { text: &text, at: 0 };
        let mut rows = Vec::new();
        while !cur.done() {
            let row = cur.row().map_err(|reason| bad(&rows, reason))?;
            rows.push(row);
        }
        // The same order as sort_for_export's.
        let key = |r: &Spans| {
            let planned = r.texts[3].map_or(0..0, |(a, b)| a as usize..b as usize);
            (&text.as_bytes()[planned], r.seq)
        };
        if !rows.is_sorted_by(|a, b| key(a) <= key(b)) {
            rows.sort_by(|a, b| key(a).cmp(&key(b)));
        }
        Ok(ExportPage {
            station: station.to_string(),
            text,
            rows,
        })
    }

    /// How many rows the page has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the page has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, in export order, borrowed from the page.
    pub fn rows(
        &self,
    ) -> impl DoubleEndedIterator<Item = ExportFields<'_>> + ExactSizeIterator + '_ {
        self.rows.iter().map(|r| {
            let text = |i: usize| r.texts[i].map(|(a, b)| &self.text[a as usize..b as usize]);
            ExportFields {
                seq: r.seq,
                station: &self.station,
                slot_start: text(0).unwrap_or_default(),
                bulletin_id: text(1),
                sha256: text(2),
                planned_start: text(3).unwrap_or_default(),
                actual_start: text(4),
                actual_end: text(5),
                played_ms: r.played_ms,
                status: text(6).unwrap_or_default(),
                row_hash: text(7).unwrap_or_default(),
                reason: text(8).unwrap_or_default(),
                source: text(9).unwrap_or_default(),
                gain_db: r.gain_db,
                who: text(11).unwrap_or_default(),
                link_seq: r.link_seq,
                prev_hash: text(13).unwrap_or_default(),
            }
        })
    }
}

/// Reads a packed page from its start.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    /// The text up to the next `end` byte (an ASCII byte), consuming both.
    fn until(&mut self, end: u8, what: &str) -> Result<&str, String> {
        let rest = &self.text.as_bytes()[self.at..];
        let n = rest
            .iter()
            .position(|&b| b == end)
            .ok_or_else(|| format!("{what} has no end at byte {}", self.at))?;
        let s = &self.text[self.at..self.at + n];
        self.at += n + 1;
        Ok(s)
    }

    fn int(&mut self, what: &str) -> Result<i64, String> {
        let at = self.at;
        let s = self.until(b' ', what)?;
        s.parse()
            .map_err(|_| format!("{what} '{s}' at byte {at} is not a number"))
    }

    /// A field's byte range (None: NULL), checked to be whole characters of the page.
    fn field(&mut self, what: &str, nullable: bool) -> Result<Option<(u32, u32)>, String> {
        let at = self.at;
        let len = self.until(b':', what)?;
        if len.is_empty() {
            return match nullable {
                true => Ok(None),
                false => Err(format!("{what} is NULL at byte {at}")),
            };
        }
        let len: usize = len
            .parse()
            .map_err(|_| format!("{what}'s length '{len}' at byte {at} is not a number"))?;
        let (start, end) = (self.at, self.at.saturating_add(len));
        if self.text.get(start..end).is_none() {
            return Err(format!("{what} at byte {at} is not {len} bytes of text"));
        }
        self.at = end;
        // The page is shorter than u32::MAX bytes (checked first).
        Ok(Some((start as u32, end as u32)))
    }

    fn row(&mut self) -> Result<Spans, String> {
        let seq = self.int("seq")?;
        let played_ms = self.int("played_ms")?;
        let mut texts = [None; FIELDS];
        for (i, (what, nullable)) in [
            ("slot_start", false),
            ("bulletin_id", true),
            ("sha256", true),
            ("planned_start", false),
            ("actual_start", true),
            ("actual_end", true),
            ("status", false),
            ("row_hash", false),
            ("reason", false),
            ("source", false),
            ("gain_db", true),
            ("who", false),
            ("link_seq", true),
            ("prev_hash", false),
        ]
        .into_iter()
        .enumerate()
        {
            texts[i] = self.field(what, nullable)?;
        }
        let text = |i: usize| texts[i].map(|(a, b)| &self.text[a as usize..b as usize]);
        let gain_db = match text(10) {
            None => None,
            Some(g) => Some(
                g.parse::<f64>()
                    .map_err(|_| format!("row {seq}: gain_db '{g}' is not a number"))?,
            ),
        };
        let link_seq = match text(12) {
            None => None,
            Some(l) => Some(
                l.parse::<i64>()
                    .map_err(|_| format!("row {seq}: link_seq '{l}' is not a number"))?,
            ),
        };
        match self.text.as_bytes().get(self.at) {
            Some(b'\n') => {
                self.at += 1;
                Ok(Spans {
                    seq,
                    played_ms,
                    texts,
                    gain_db,
                    link_seq,
                })
            }
            _ => Err(format!("row {seq} does not end at byte {}", self.at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`PACKED_PAGE`] makes of a row, written in Rust (the station is the page's).
    fn pack(r: &ExportFields, out: &mut String) {
        let field = |out: &mut String, f: Option<&str>| {
            if let Some(s) = f {
                out.push_str(&s.len().to_string());
                out.push(':');
                out.push_str(s);
            } else {
                out.push(':');
            }
        };
        out.push_str(&format!("{} {} ", r.seq, r.played_ms));
        for f in [
            Some(r.slot_start),
            r.bulletin_id,
            r.sha256,
            Some(r.planned_start),
            r.actual_start,
            r.actual_end,
            Some(r.status),
            Some(r.row_hash),
            Some(r.reason),
            Some(r.source),
            r.gain_db.map(|g| format!("{g:e}")).as_deref(),
            Some(r.who),
            r.link_seq.map(|l| l.to_string()).as_deref(),
            Some(r.prev_hash),
        ] {
            field(out, f);
        }
        out.push('\n');
    }

    fn fields<'a>(seq: i64, reason: &'a str) -> ExportFields<'a> {
        ExportFields {
            seq,
            station: "vinh-an",
            slot_start: "2023-03-12T22:30:00.000000Z",
            bulletin_id: Some("0123456789ab"),
            sha256: Some("ab"),
            planned_start: "2023-03-12T22:30:00.000000Z",
            actual_start: Some("2023-03-12T22:30:00.000000Z"),
            actual_end: Some("2023-03-12T22:31:00.000000Z"),
            played_ms: 60_000,
            status: "aired",
            reason,
            row_hash: "cd",
            source: "schedule",
            gain_db: Some(-7.399999999999999),
            who: "Nguyễn Văn An",
            link_seq: Some(12),
            prev_hash: "ef",
        }
    }

    #[test]
    fn packed_rows_read_back_with_nulls_empty_texts_and_reasons_holding_the_separators() {
        let mut nulls = fields(-3, "");
        nulls.bulletin_id = None;
        nulls.sha256 = None;
        nulls.actual_start = None;
        nulls.actual_end = None;
        nulls.played_ms = 0;
        nulls.gain_db = None;
        nulls.link_seq = None;
        let mut empty = fields(5, "");
        empty.bulletin_id = Some("");
        let rows = [
            nulls,
            fields(1, "tệp \"âm thanh\" bị mất; lỗi đọc, thử lại\r\nlần 2"),
            empty,
            fields(7, "12:x 3 4\n5:\u{1f}:\u{0}ngắt ~ : ::"),
            fields(8, ":"),
            fields(9, "0:"),
            fields(i64::MAX, "Phòng Nội vụ — Đài truyền thanh xã Vĩnh Ân"),
        ];
        let mut text = String::new();
        for r in &rows {
            pack(r, &mut text);
        }
        let page = ExportPage::parse("vinh-an", Some(text)).unwrap();
        assert_eq!(page.len(), rows.len());
        assert_eq!(page.rows().collect::<Vec<_>>(), rows);
    }

    #[test]
    fn an_empty_page_has_no_rows() {
        assert!(ExportPage::parse("vinh-an", None).unwrap().is_empty());
    }

    #[test]
    fn rows_are_put_in_planned_start_then_seq_order() {
        let (mut a, mut b, c) = (fields(9, "a"), fields(3, "b"), fields(4, "c"));
        a.planned_start = "2023-03-12T22:29:00.000000Z";
        b.planned_start = "2023-03-12T22:31:00.000000Z";
        let mut text = String::new();
        for r in [b, c, a] {
            pack(&r, &mut text);
        }
        let page = ExportPage::parse("vinh-an", Some(text)).unwrap();
        let seqs: Vec<i64> = page.rows().map(|r| r.seq).collect();
        assert_eq!(seqs, [9, 4, 3]);
        let mut rows = [b, c, a];
        sort_for_export(&mut rows);
        assert_eq!(page.rows().collect::<Vec<_>>(), rows);
    }

    #[test]
    fn a_page_that_does_not_read_back_is_reported_naming_the_station_and_row() {
        let mut good = String::new();
        pack(&fields(41, "x"), &mut good);
        let cut = good.len() - 3;
        for bad in [
            format!("{good}{}", &good[..cut]),
            format!("{good}42 0 27:2023-03-12T22:30"),
            format!("{good}x 0 \n"),
            // A NULL where the column cannot be.
            format!("{good}{}", good.replace("5:aired", ":")),
            // A length that ends inside a multi-byte character.
            format!("{good}{}", good.replace("1:x", "1:ệ")),
            // A length past the end.
            format!("{good}{}", good.replace("1:x", "99:x")),
        ] {
            let e = ExportPage::parse("vinh-an", Some(bad)).unwrap_err();
            let e = e.to_string();
            assert!(
                e.contains("station vinh-an") && e.contains("row 2 of the page, after seq 41"),
                "{e}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_texts_read_back_as_packed(
            reason in ".*",
            station in "\\PC*",
            id in proptest::option::of(".*"),
            seq in proptest::num::i64::ANY,
        ) {
            let mut r = fields(seq, &reason);
            r.station = &station;
            r.bulletin_id = id.as_deref();
            let mut text = String::new();
            pack(&r, &mut text);
            pack(&r, &mut text);
            let page = ExportPage::parse(&station, Some(text)).unwrap();
            proptest::prop_assert_eq!(page.rows().collect::<Vec<_>>(), vec![r, r]);
        }
    }
}
