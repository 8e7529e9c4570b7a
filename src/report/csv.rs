//! The CSV export: UTF-8 with a byte-order mark (so Excel reads Vietnamese right), RFC 4180
//! quoting, the header of [`COLUMNS`], one line per row, then an empty line and the
//! integrity block as `#integrity,KEY,VALUE` lines. Written and read as a stream. Every
//! text cell is made safe first ([`super::safe`]: no control character, no formula).

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::integrity::Integrity;
use super::rows::{instant_bytes, shown_reason, ExportRow, COLUMNS};
use super::safe;
use super::walk::RowSink;
use super::ReportError;
use crate::lang::Lang;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The first field of an integrity line.
pub const INTEGRITY_TAG: &str = "#integrity";

/// A CSV export being written. Lines are formatted by hand into a buffer written out a
/// megabyte at a time: the csv crate's writer, field by field, was a large part of the
/// time of a year's export. The quoting is the csv crate's (RFC 4180, only where needed).
pub struct CsvWriter {
    /// The file, for messages.
    path: String,
    /// The open file.
    file: File,
    /// Lines not yet written.
    buf: Vec<u8>,
    /// The language of the `reason` column.
    lang: Lang,
}

/// How much [`CsvWriter`] gathers before writing.
const FLUSH_AT: usize = 1 << 20;

fn csv_err(path: &str, e: csv::Error) -> ReportError {
    ReportError::Io {
        path: path.to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Appends one field, quoted (its quotes doubled) when it holds a comma, a quote, a
/// carriage return or a line feed, as the csv crate's writer does.
fn field(buf: &mut Vec<u8>, s: &[u8]) {
    // Without an early exit the scan compiles to vector instructions; fields are short.
    let special = |acc: bool, &b: &u8| acc | matches!(b, b',' | b'"' | b'\r' | b'\n');
    if !s.iter().fold(false, special) {
        buf.extend_from_slice(s);
        return;
    }
    buf.push(b'"');
    for part in s.split_inclusive(|&b| b == b'"') {
        buf.extend_from_slice(part);
        if part.ends_with(b"\"") {
            buf.push(b'"');
        }
    }
    buf.push(b'"');
}

/// Appends a line of fields and its CRLF.
fn line<'a>(buf: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a [u8]>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        field(buf, f);
    }
    buf.extend_from_slice(b"\r\n");
}

/// Appends a whole number in decimal.
fn number(buf: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&digits[at..]);
}

impl CsvWriter {
    /// Creates the file and writes the BOM and the header.
    pub fn create(path: &Path, lang: Lang) -> Result<CsvWriter, ReportError> {
        let file = File::create(path).map_err(|e| ReportError::io(path, e))?;
        let mut buf = Vec::with_capacity(FLUSH_AT + (1 << 16));
        buf.extend_from_slice(BOM);
        line(&mut buf, COLUMNS.iter().map(|c| c.as_bytes()));
        Ok(CsvWriter {
            path: path.display().to_string(),
            file,
            buf,
            lang,
        })
    }

    fn write_out(&mut self) -> Result<(), ReportError> {
        self.file
            .write_all(&self.buf)
            .map_err(|source| ReportError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.buf.clear();
        Ok(())
    }

    /// Writes the integrity block and closes the file.
    pub fn finish(mut self, integrity: &Integrity) -> Result<(), ReportError> {
        // An empty line parts rows from the block.
        self.buf.extend_from_slice(b"\r\n");
        for (k, v) in integrity.pairs() {
            line(
                &mut self.buf,
                [
                    INTEGRITY_TAG.as_bytes(),
                    safe::csv_cell(&k).as_bytes(),
                    safe::csv_cell(&v).as_bytes(),
                ],
            );
            if self.buf.len() >= FLUSH_AT {
                self.write_out()?;
            }
        }
        self.write_out()
    }
}

impl RowSink for CsvWriter {
    fn row(&mut self, row: &ExportRow) -> Result<(), ReportError> {
        let b = &mut self.buf;
        let text = |b: &mut Vec<u8>, s: &str| {
            field(b, safe::csv_cell(s).as_bytes());
            b.push(b',');
        };
        let time = |b: &mut Vec<u8>, t: Option<DateTime<FixedOffset>>| {
            if let Some(t) = t {
                b.extend_from_slice(&instant_bytes(t));
            }
            b.push(b',');
        };
        text(b, row.station_code);
        text(b, row.station_name);
        time(b, Some(row.slot_start));
        text(b, row.bulletin_id);
        text(b, row.title);
        text(b, row.kind.map_or("", |k| k.as_str()));
        text(b, row.topic.map_or("", |k| k.as_str()));
        text(b, row.producer);
        time(b, Some(row.planned_start));
        time(b, row.actual_start);
        time(b, row.actual_end);
        number(b, row.played_ms);
        b.push(b',');
        text(b, row.status.as_str());
        text(b, &shown_reason(row.reason, self.lang));
        text(b, row.sha256);
        text(b, row.row_hash);
        number(b, row.seq);
        b.push(b',');
        text(b, row.prev_hash);
        text(b, row.source);
        if let Some(g) = row.gain_db {
            // Exact (the row hash's form); a number, never a formula.
            use std::io::Write as _;
            let _ = write!(b, "{g}");
        }
        b.push(b',');
        text(b, row.who);
        if let Some(l) = row.link_seq {
            number(b, l);
        }
        b.push(b',');
        field(b, safe::csv_cell(row.reason_stored).as_bytes());
        b.extend_from_slice(b"\r\n");
        if self.buf.len() >= FLUSH_AT {
            self.write_out()?;
        }
        Ok(())
    }
}

/// A CSV export being read back: its rows as text fields, then its integrity block.
pub struct CsvReader {
    path: String,
    records: csv::StringRecordsIntoIter<BufReader<File>>,
    /// The integrity lines met so far.
    pub pairs: Vec<(String, String)>,
    line: u64,
}

impl CsvReader {
    /// Opens the file, checks the BOM and the header.
    pub fn open(path: &Path) -> Result<CsvReader, ReportError> {
        let p = path.display().to_string();
        let not = |reason: &str| ReportError::NotAnExport {
            path: p.clone(),
            reason: reason.to_string(),
        };
        let mut f = BufReader::new(File::open(path).map_err(|e| ReportError::io(path, e))?);
        let mut bom = [0u8; 3];
        f.read_exact(&mut bom)
            .map_err(|_| not("it is shorter than a header"))?;
        if bom != BOM {
            return Err(not("it does not start with the UTF-8 byte-order mark"));
        }
        let mut records = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(f)
            .into_records();
        let header = records
            .next()
            .ok_or_else(|| not("it is empty"))?
            .map_err(|e| csv_err(&p, e))?;
        if header.iter().ne(COLUMNS.iter().copied()) {
            return Err(not("its header is not the airlog export's columns"));
        }
        Ok(CsvReader {
            path: p,
            records,
            pairs: Vec::new(),
            line: 1,
        })
    }

    /// The next data row (its 16 fields and its line number), or None at the end of the
    /// rows; integrity lines are gathered into [`CsvReader::pairs`].
    pub fn next_row(&mut self) -> Result<Option<(u64, Vec<String>)>, ReportError> {
        for rec in self.records.by_ref() {
            let rec = rec.map_err(|e| csv_err(&self.path, e))?;
            self.line += 1;
            if rec.get(0) == Some(INTEGRITY_TAG) {
                let cell = |i: usize| {
                    let raw = rec.get(i).unwrap_or_default();
                    safe::from_csv_cell(raw).unwrap_or_else(|| raw.to_string())
                };
                self.pairs.push((cell(1), cell(2)));
                continue;
            }
            if rec.len() == 1 && rec.get(0) == Some("") {
                continue;
            }
            return Ok(Some((self.line, rec.iter().map(str::to_string).collect())));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::rows::tests::{bulletin, record, station};
    use super::super::rows::{export_row, Library};
    use super::*;
    use crate::library::{Kind, Topic};

    #[test]
    fn titles_with_commas_quotes_and_escaped_line_breaks_survive_the_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        let title = "Tin: \"Một cửa\", liên thông\nđiện tử";
        let lib = Library::new(vec![bulletin(
            "0123456789ab",
            Kind::News,
            Topic::Other,
            title,
        )]);
        let (r, st) = (record(1, "0123456789ab", "aired", 5), station());
        let row = export_row((&r).into(), &st, &lib).unwrap();
        let mut w = CsvWriter::create(&path, Lang::Vi).unwrap();
        w.row(&row).unwrap();
        let mut t = super::super::integrity::Tracker::default();
        t.add("vinh-an", row.row_hash);
        let p = super::super::Period::year("2023").unwrap();
        w.finish(&t.finish(&p, vec!["vinh-an".into()], Default::default()))
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("\"Tin: \"\"Một cửa\"\", liên thông\\u000Ađiện tử\""),
            "{text}"
        );
        let mut r = CsvReader::open(&path).unwrap();
        let (_, fields) = r.next_row().unwrap().unwrap();
        assert_eq!(safe::from_csv_cell(&fields[4]).unwrap(), title);
        let cells: Vec<String> = row.cells().iter().map(|c| c.text()).collect();
        let fields: Vec<String> = fields
            .iter()
            .map(|f| safe::from_csv_cell(f).unwrap())
            .collect();
        assert_eq!(fields, cells, "the CSV writes the cells the check compares");
        assert!(r.next_row().unwrap().is_none());
        assert!(r.pairs.iter().any(|(k, v)| k == "rows" && v == "1"));
    }

    /// The line the csv crate's writer makes of `fields` (what exports were written with).
    fn csv_crate_line(fields: &[&str]) -> Vec<u8> {
        let mut w = ::csv::WriterBuilder::new()
            .flexible(true)
            .terminator(::csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record(fields).unwrap();
        w.into_inner().unwrap()
    }

    #[test]
    fn lines_are_quoted_as_the_csv_crate_quotes_them() {
        let fields = [
            "",
            "plain",
            "a,b",
            "\"",
            "nói \"không\"",
            "\r",
            "x\ny",
            "Phòng Nội vụ",
            "'#;=\t",
            "\"\"",
        ];
        let mut mine = Vec::new();
        line(&mut mine, fields.iter().map(|f| f.as_bytes()));
        assert_eq!(
            String::from_utf8(mine).unwrap(),
            String::from_utf8(csv_crate_line(&fields)).unwrap()
        );
        for n in [0, 7, -7, 60_000, i64::MAX, i64::MIN] {
            let mut b = Vec::new();
            number(&mut b, n);
            assert_eq!(b, n.to_string().as_bytes());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_fields_are_written_as_the_csv_crate_writes_them(
            fields in proptest::collection::vec("\\PC*|[,\"\r\na ]*", 2..6)
        ) {
            let mut mine = Vec::new();
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            line(&mut mine, refs.iter().map(|f| f.as_bytes()));
            proptest::prop_assert_eq!(mine, csv_crate_line(&refs));
        }
    }
}
