//! The CSV export: UTF-8 with a byte-order mark (so Excel reads Vietnamese right), RFC 4180
//! quoting, the header of [`COLUMNS`], one line per row, then an empty line and the
//! integrity block as `#integrity,KEY,VALUE` lines. Written and read as a stream.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::integrity::Integrity;
use super::rows::{instant_text, ExportRow, COLUMNS};
use super::walk::RowSink;
use super::ReportError;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The first field of an integrity line.
pub const INTEGRITY_TAG: &str = "#integrity";

/// A CSV export being written.
pub struct CsvWriter {
    path: String,
    out: csv::Writer<BufWriter<File>>,
}

fn csv_err(path: &str, e: csv::Error) -> ReportError {
    ReportError::Io {
        path: path.to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

impl CsvWriter {
    /// Creates the file and writes the BOM and the header.
    pub fn create(path: &Path) -> Result<CsvWriter, ReportError> {
        let mut f = BufWriter::with_capacity(
            1 << 16,
            File::create(path).map_err(|e| ReportError::io(path, e))?,
        );
        f.write_all(BOM).map_err(|e| ReportError::io(path, e))?;
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(f);
        let p = path.display().to_string();
        out.write_record(COLUMNS).map_err(|e| csv_err(&p, e))?;
        Ok(CsvWriter { path: p, out })
    }

    /// Writes the integrity block and closes the file.
    pub fn finish(self, integrity: &Integrity) -> Result<(), ReportError> {
        let p = self.path.clone();
        let io = |e: std::io::Error| ReportError::Io {
            path: p.clone(),
            source: e,
        };
        // An empty line parts rows from the block (the writer would quote an empty record).
        let mut f = self
            .out
            .into_inner()
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        f.write_all(b"\r\n").map_err(io)?;
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(f);
        for (k, v) in integrity.pairs() {
            out.write_record([INTEGRITY_TAG, &k, &v])
                .map_err(|e| csv_err(&p, e))?;
        }
        out.flush().map_err(io)
    }
}

impl RowSink for CsvWriter {
    fn row(&mut self, row: &ExportRow) -> Result<(), ReportError> {
        let t = |o: Option<chrono::DateTime<chrono::FixedOffset>>| {
            o.map(instant_text).unwrap_or_default()
        };
        let times = [
            instant_text(row.slot_start),
            instant_text(row.planned_start),
            t(row.actual_start),
            t(row.actual_end),
        ];
        let played = row.played_ms.to_string();
        let record: [&str; 16] = [
            row.station_code,
            row.station_name,
            &times[0],
            row.bulletin_id,
            row.title,
            row.kind.map_or("", |k| k.as_str()),
            row.topic.map_or("", |k| k.as_str()),
            row.producer,
            &times[1],
            &times[2],
            &times[3],
            &played,
            row.status,
            row.reason,
            row.sha256,
            row.row_hash,
        ];
        let p = &self.path;
        self.out.write_record(record).map_err(|e| csv_err(p, e))
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
                self.pairs.push((
                    rec.get(1).unwrap_or_default().to_string(),
                    rec.get(2).unwrap_or_default().to_string(),
                ));
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
    fn titles_with_commas_quotes_and_line_breaks_survive_the_round_trip() {
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
        let mut w = CsvWriter::create(&path).unwrap();
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
            text.contains("\"Tin: \"\"Một cửa\"\", liên thông\nđiện tử\""),
            "{text}"
        );
        let mut r = CsvReader::open(&path).unwrap();
        let (_, fields) = r.next_row().unwrap().unwrap();
        assert_eq!(fields[4], title);
        let cells: Vec<String> = row.cells().iter().map(|c| c.text()).collect();
        assert_eq!(fields, cells, "the CSV writes the cells the check compares");
        assert!(r.next_row().unwrap().is_none());
        assert!(r.pairs.iter().any(|(k, v)| k == "rows" && v == "1"));
    }
}
