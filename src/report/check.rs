//! `loa airlog verify --export FILE`: reads a CSV or XLSX export back (XLSX with calamine)
//! and walks the database over the range and stations its integrity block names, comparing
//! row by row. The export is **complete** when every database row of that range is in it,
//! and **unaltered** when every field equals the database's, every database row still
//! matches its own hash, and the SHA-256 of the file's rows matches its integrity block.
//! The first difference ends the check with [`ReportError::Altered`].

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use chrono::{DateTime, NaiveDate};
use sha2::{Digest, Sha256};

use crate::airlog::{chain, Record};
use crate::plan::Plan;
use crate::store::Store;

use super::csv::CsvReader;
use super::integrity::Integrity;
use super::rows::{Cell, ExportRow, Library, COLUMNS, COLUMNS_VI};
use super::walk::{walk, RowSink};
use super::{scope, Period, ReportError};

/// What a passing check saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    /// Rows compared.
    pub rows: u64,
    /// Stations covered.
    pub stations: usize,
    /// The export's SHA-256.
    pub sha256: String,
}

enum Source {
    Csv(CsvReader),
    Xlsx {
        rows: std::vec::IntoIter<Vec<Data>>,
        line: u64,
    },
}

impl Source {
    fn next(&mut self) -> Result<Option<(u64, Vec<Data>)>, ReportError> {
        match self {
            Source::Csv(r) => Ok(r
                .next_row()?
                .map(|(l, f)| (l, f.into_iter().map(Data::String).collect()))),
            Source::Xlsx { rows, line } => {
                *line += 1;
                Ok(rows.next().map(|r| (*line, r)))
            }
        }
    }
}

fn text_of(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// Days since Excel's epoch of a local date-time.
fn excel_serial(t: chrono::NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .expect("valid")
        .and_hms_opt(0, 0, 0)
        .expect("valid");
    (t - epoch).num_microseconds().unwrap_or(0) as f64 / 86_400_000_000.0
}

/// Whether a file cell holds the expected cell (instants in the CSV to the µs; in XLSX,
/// which keeps dates as floating-point days, to within a millisecond).
fn same(file: &Data, want: &Cell, xlsx: bool) -> bool {
    match want {
        Cell::Text(s) => text_of(file) == *s,
        Cell::Number(n) => match file {
            Data::Float(f) => *f == *n as f64,
            Data::Int(i) => i == n,
            other => text_of(other) == n.to_string(),
        },
        Cell::Time(None) => matches!(file, Data::Empty) || text_of(file).is_empty(),
        Cell::Time(Some(t)) if xlsx => match file {
            Data::DateTime(d) => {
                (d.as_f64() - excel_serial(t.naive_local())).abs() * 86_400_000.0 < 1.0
            }
            Data::Float(f) => (f - excel_serial(t.naive_local())).abs() * 86_400_000.0 < 1.0,
            _ => false,
        },
        Cell::Time(Some(t)) => DateTime::parse_from_rfc3339(&text_of(file)).is_ok_and(|f| f == *t),
    }
}

struct Compare {
    source: Source,
    xlsx: bool,
    names: bool,
    digest: Sha256,
    rows: u64,
    first: Option<String>,
}

impl RowSink for Compare {
    fn wants_records(&self) -> bool {
        true
    }

    fn record(&mut self, r: &Record) -> Result<(), ReportError> {
        if self.first.is_none() && chain::row_hash(r) != r.row_hash {
            self.first = Some(format!(
                "database row {} of station {} does not match its own hash: the database was altered (run `loa airlog verify`)",
                r.seq, r.station
            ));
        }
        Ok(())
    }

    fn row(&mut self, want: &ExportRow) -> Result<(), ReportError> {
        if self.first.is_some() {
            return Ok(());
        }
        let Some((line, got)) = self.source.next()? else {
            self.first = Some(format!(
                "the export is incomplete: database row {} of station {} (planned {}) is not in it",
                want.seq, want.station_code, want.planned_start
            ));
            return Ok(());
        };
        self.rows += 1;
        let row_hash = got.get(15).map(text_of).unwrap_or_default();
        self.digest.update(row_hash.as_bytes());
        self.digest.update(b"\n");
        for (c, cell) in want.cells().iter().enumerate() {
            if c == 1 && !self.names {
                continue;
            }
            let file = got.get(c).cloned().unwrap_or(Data::Empty);
            if !same(&file, cell, self.xlsx) {
                self.first = Some(format!(
                    "row {} of the export (line {line}, station {}, database row {}): {} is '{}' in the file but '{}' in the database",
                    self.rows,
                    want.station_code,
                    want.seq,
                    COLUMNS[c],
                    text_of(&file),
                    cell.text()
                ));
                return Ok(());
            }
        }
        Ok(())
    }
}

/// An XLSX export's detail rows (every detail sheet, headers off) and integrity pairs.
type XlsxContent = (Vec<Vec<Data>>, Vec<(String, String)>);

fn read_xlsx(path: &Path) -> Result<XlsxContent, ReportError> {
    let p = path.display().to_string();
    let not = |reason: String| ReportError::NotAnExport {
        path: p.clone(),
        reason,
    };
    let mut wb =
        open_workbook_auto(path).map_err(|e| not(format!("it cannot be read as XLSX ({e})")))?;
    let n = wb.sheet_names().len();
    if n < 3 {
        return Err(not("it lacks the summary, detail or integrity sheet".into()));
    }
    let mut rows = Vec::new();
    for i in 1..n - 1 {
        let range = wb
            .worksheet_range_at(i)
            .ok_or_else(|| not(format!("sheet {} is missing", i + 1)))?
            .map_err(|e| not(format!("sheet {} cannot be read ({e})", i + 1)))?;
        let mut it = range.rows();
        let header: Vec<String> = it
            .next()
            .map(|h| h.iter().map(text_of).collect())
            .unwrap_or_default();
        if header
            .iter()
            .map(String::as_str)
            .ne(COLUMNS_VI.iter().copied())
        {
            return Err(not(format!(
                "sheet {} does not have the detail columns",
                i + 1
            )));
        }
        rows.extend(it.map(|r| r.to_vec()));
    }
    let range = wb
        .worksheet_range_at(n - 1)
        .ok_or_else(|| not("the integrity sheet is missing".into()))?
        .map_err(|e| not(format!("the integrity sheet cannot be read ({e})")))?;
    let pairs = range
        .rows()
        .skip(1)
        .map(|r| {
            (
                r.first().map(text_of).unwrap_or_default(),
                r.get(1).map(text_of).unwrap_or_default(),
            )
        })
        .collect();
    Ok((rows, pairs))
}

/// Checks an export against the store. `plan` (optional) lets station names be compared.
pub async fn check(
    store: &std::sync::Arc<dyn Store>,
    path: &Path,
    plan: Option<&Plan>,
) -> Result<Checked, ReportError> {
    let p = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (source, integrity, xlsx) = match ext.as_deref() {
        Some("csv") => {
            // The integrity block is at the end: read through once for it.
            let mut r = CsvReader::open(path)?;
            while r.next_row()?.is_some() {}
            let integrity = Integrity::from_pairs(&p, &r.pairs)?;
            (Source::Csv(CsvReader::open(path)?), integrity, false)
        }
        Some("xlsx") => {
            let (rows, pairs) = read_xlsx(path)?;
            let integrity = Integrity::from_pairs(&p, &pairs)?;
            (
                Source::Xlsx {
                    rows: rows.into_iter(),
                    line: 1,
                },
                integrity,
                true,
            )
        }
        _ => {
            return Err(ReportError::Input(format!(
                "{p}: verify --export reads .csv or .xlsx exports (the HTML page carries no rows)"
            )))
        }
    };
    let period =
        Period::range(&integrity.from, &integrity.to).map_err(|e| ReportError::NotAnExport {
            path: p.clone(),
            reason: format!("its range is unreadable ({e})"),
        })?;
    let stored: Vec<String> = store
        .chain_heads()
        .await?
        .into_iter()
        .map(|h| h.0)
        .collect();
    let scope = scope(period, &integrity.stations, plan, &stored).map_err(|e| {
        ReportError::Altered(format!(
            "{e} (the export names a station the database does not have)"
        ))
    })?;
    let library = Library::new(store.list_bulletins(&Default::default()).await?);
    let mut cmp = Compare {
        source,
        xlsx,
        names: plan.is_some(),
        digest: Sha256::new(),
        rows: 0,
        first: None,
    };
    let walked = walk(store, &scope, &library, plan, false, &mut cmp).await?;
    if let Some(first) = cmp.first.take() {
        return Err(ReportError::Altered(first));
    }
    if let Some((line, _)) = cmp.source.next()? {
        return Err(ReportError::Altered(format!(
            "the export has rows the database does not hold for its range (the first at line {line})"
        )));
    }
    let file_digest = hex::encode(cmp.digest.finalize());
    if file_digest != integrity.sha256 {
        return Err(ReportError::Altered(format!(
            "the SHA-256 of the exported rows is {file_digest} but the export's integrity block says {}",
            integrity.sha256
        )));
    }
    if integrity.rows != cmp.rows || walked.integrity.sha256 != integrity.sha256 {
        return Err(ReportError::Altered(format!(
            "the integrity block counts {} rows, the file holds {}",
            integrity.rows, cmp.rows
        )));
    }
    Ok(Checked {
        rows: cmp.rows,
        stations: scope.stations.len(),
        sha256: file_digest,
    })
}
