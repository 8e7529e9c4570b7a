//! `loa airlog verify --export FILE`: reads a CSV, XLSX or HTML export back (XLSX with
//! calamine) and checks first what it proves by itself ([`super::proof`]: the signed
//! integrity block, each row's hash, the digest, the links to the signed heads, and for
//! XLSX and HTML the summary's digest). With the database it then walks the range and
//! stations the block names, comparing row by row. The export is **complete** when every
//! database row of that range is in it, and **unaltered** when every field equals the
//! database's, every database row still matches its own hash, and the SHA-256 of the
//! file's rows matches its integrity block. The first difference ends the check with
//! [`ReportError::Altered`].

use std::path::Path;

use calamine::Data;
use chrono::DateTime;
use sha2::{Digest, Sha256};

use crate::airlog::{chain, Record};
use crate::plan::Plan;
use crate::store::Store;

use super::csv::CsvReader;
use super::integrity::Integrity;
use super::proof::{prove, FileRow, Proven, SummaryProof};
use super::recount;
use super::rows::{shown_reason, Cell, ExportRow, Library, COLUMNS, REASON_COLUMN};
use super::safe;
use super::walk::{walk, RowSink};
use super::xlsx::excel_serial;
use super::xlsx_read::{read_xlsx, xlsx_file_rows};
use super::{scope, Period, ReportError};
use crate::lang::Lang;

/// What a passing check saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    /// Rows compared.
    pub rows: u64,
    /// Stations covered.
    pub stations: usize,
    /// The export's SHA-256.
    pub sha256: String,
    /// What the file proved by itself.
    pub proven: Proven,
}

enum Source {
    Csv(CsvReader),
    Xlsx {
        rows: std::vec::IntoIter<Vec<Data>>,
        line: u64,
    },
}

impl Source {
    /// The next row, its text cells as they stood before being made safe.
    fn next(&mut self) -> Result<Option<(u64, Vec<Data>)>, ReportError> {
        let undo = |s: String, csv: bool| {
            let back = match csv {
                true => safe::from_csv_cell(&s),
                false => safe::unescape(&s),
            };
            Data::String(back.unwrap_or(s))
        };
        match self {
            Source::Csv(r) => Ok(r
                .next_row()?
                .map(|(l, f)| (l, f.into_iter().map(|s| undo(s, true)).collect()))),
            Source::Xlsx { rows, line } => {
                *line += 1;
                Ok(rows.next().map(|r| {
                    let cells = r
                        .into_iter()
                        .map(|d| match d {
                            Data::String(s) => undo(s, false),
                            other => other,
                        })
                        .collect();
                    (*line, cells)
                }))
            }
        }
    }
}

pub(super) fn text_of(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// Whether a file cell holds the expected cell (instants in the CSV to the µs; in XLSX,
/// which keeps dates as floating-point days, to within a millisecond).
fn same(file: &Data, want: &Cell, xlsx: bool) -> bool {
    match want {
        Cell::Text(_) | Cell::OptNumber(_) | Cell::Gain(_) => text_of(file) == want.text(),
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
    /// A printed report: no rows to compare, only the walk's digest.
    html: bool,
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
        if self.first.is_none() && !chain::holds(r) {
            self.first = Some(format!(
                "database row {} of station {} does not match its own hash: the database was altered (run `loa airlog verify`)",
                r.seq, r.station
            ));
        }
        Ok(())
    }

    fn row(&mut self, want: &ExportRow) -> Result<(), ReportError> {
        if self.first.is_some() || self.html {
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
            let shown_in_either = c == REASON_COLUMN && {
                let f = text_of(&file);
                let stored = want.reason;
                f == stored || Lang::ALL.iter().any(|l| f == shown_reason(stored, *l))
            };
            if !shown_in_either && !same(&file, cell, self.xlsx) {
                self.first = Some(format!(
                    "row {} of the export (line {line}, station {}, database row {}): {} is '{}' in the file but '{}' in the database",
                    self.rows,
                    want.station_code,
                    want.seq,
                    COLUMNS[c],
                    safe::escape(&text_of(&file)),
                    safe::escape(&cell.text())
                ));
                return Ok(());
            }
        }
        Ok(())
    }
}

/// The kind of an export file, from its extension.
fn kind_of(path: &Path) -> Result<super::Format, ReportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(super::Format::Csv),
        Some("xlsx") => Ok(super::Format::Xlsx),
        Some("html") | Some("htm") => Ok(super::Format::Html),
        _ => Err(ReportError::Input(format!(
            "{}: verify --export reads .csv, .xlsx or .html exports",
            path.display()
        ))),
    }
}

/// Reads an export's integrity block.
pub fn integrity_of(path: &Path) -> Result<Integrity, ReportError> {
    let p = path.display().to_string();
    let pairs = match kind_of(path)? {
        super::Format::Csv => {
            let mut r = CsvReader::open(path)?;
            while r.next_row()?.is_some() {}
            r.pairs
        }
        super::Format::Xlsx => read_xlsx(path)?.pairs,
        super::Format::Html => {
            let page = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
            super::html::read_pairs(&page).ok_or_else(|| ReportError::NotAnExport {
                path: p.clone(),
                reason: "it has no integrity block".into(),
            })?
        }
    };
    Integrity::from_pairs(&p, pairs)
}

/// What an export proves without the database. `expected` is the district key's
/// fingerprint when the caller knows it.
pub fn prove_file(path: &Path, expected: Option<&str>) -> Result<Proven, ReportError> {
    let p = path.display().to_string();
    if !path.is_file() {
        return Err(ReportError::Input(format!("{p}: no such export file")));
    }
    let summary_checked = |integrity: &Integrity, got: Option<String>| {
        match (&integrity.summary_sha256, got) {
            (Some(want), Some(got)) if *want == got => Ok(()),
            _ => Err(ReportError::Altered(
                "the summary differs from the one the integrity block signed (a summary cell, table or word was edited)"
                    .into(),
            )),
        }
    };
    match kind_of(path)? {
        super::Format::Csv => {
            let integrity = integrity_of(path)?;
            let mut r = CsvReader::open(path)?;
            let rows = std::iter::from_fn(move || match r.next_row() {
                Ok(Some((line, f))) => Some(Ok(FileRow {
                    line,
                    fields: f
                        .into_iter()
                        .map(|s| safe::from_csv_cell(&s).unwrap_or(s))
                        .collect(),
                })),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            });
            prove(&integrity, Some(rows), expected)
        }
        super::Format::Xlsx => {
            let mut x = read_xlsx(path)?;
            let integrity = Integrity::from_pairs(&p, std::mem::take(&mut x.pairs))?;
            let rows = xlsx_file_rows(&x.rows, &integrity)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            let mut proven = prove(&integrity, Some(rows.iter().cloned().map(Ok)), expected)?;
            // The totals first, from the rows just proven, so that an edited total is named;
            // then the signed digest, which covers every word of the sheet.
            let lang = recount::sheet_lang(&x.summary_name).ok_or_else(|| {
                ReportError::Altered(format!(
                    "the summary sheet is named '{}', which no report language uses (the sheet was renamed or replaced)",
                    safe::escape(&x.summary_name)
                ))
            })?;
            recount::check_sheet(&x.summary_grid, lang, &x.summary_name, &integrity, &rows)
                .map_err(ReportError::Altered)?;
            summary_checked(&integrity, Some(x.summary))?;
            proven.summary = SummaryProof::FileRows;
            Ok(proven)
        }
        super::Format::Html => {
            let page = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
            let pairs = super::html::read_pairs(&page).ok_or_else(|| ReportError::NotAnExport {
                path: p.clone(),
                reason: "it has no integrity block".into(),
            })?;
            let integrity = Integrity::from_pairs(&p, pairs)?;
            // The page has no rows: its block, its signature and its summary prove it.
            let none: Option<Vec<Result<FileRow, ReportError>>> = None;
            let mut proven = prove(&integrity, none, expected)?;
            summary_checked(&integrity, super::html::page_digest(&page))?;
            proven.summary = SummaryProof::SignatureOnly;
            Ok(proven)
        }
    }
}

/// A report's summary as shown (its cells, its language, and how messages name it).
fn shown_summary(path: &Path, html: bool) -> Result<(recount::Grid, Lang, String), ReportError> {
    let p = path.display().to_string();
    if html {
        let page = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        let lang = recount::page_lang(&page).ok_or_else(|| ReportError::NotAnExport {
            path: p,
            reason: "its page declares no report language".into(),
        })?;
        return Ok((
            recount::page_grid(&page),
            lang,
            "the printed report".to_string(),
        ));
    }
    let x = read_xlsx(path)?;
    let lang = recount::sheet_lang(&x.summary_name).ok_or_else(|| {
        ReportError::Altered(format!(
            "the summary sheet is named '{}', which no report language uses (the sheet was renamed or replaced)",
            safe::escape(&x.summary_name)
        ))
    })?;
    Ok((x.summary_grid, lang, recount::sheet_place(&x.summary_name)))
}

/// Checks an export: its own proof, then against the store. `plan` (optional) lets station
/// names be compared (without it, the plan kept with the period's schedules gives the
/// stations and time zones); the export must be signed by `key` (the district's).
pub async fn check(
    store: &std::sync::Arc<dyn Store>,
    path: &Path,
    plan: Option<&Plan>,
    key: &crate::airlog::key::PublicKey,
) -> Result<Checked, ReportError> {
    let p = path.display().to_string();
    kind_of(path)?;
    if !path.is_file() {
        return Err(ReportError::Input(format!("{p}: no such export file")));
    }
    let integrity = integrity_of(path)?;
    let (source, xlsx) = match kind_of(path)? {
        super::Format::Csv => (Source::Csv(CsvReader::open(path)?), false),
        super::Format::Xlsx => (
            Source::Xlsx {
                rows: read_xlsx(path)?.rows.into_iter(),
                line: 1,
            },
            true,
        ),
        super::Format::Html => (
            Source::Xlsx {
                rows: Vec::new().into_iter(),
                line: 1,
            },
            false,
        ),
    };
    let html = kind_of(path)? == super::Format::Html;
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
    // Without --plan, the plan kept with the period's schedules names the stations, as it
    // did for the export (one that no longer passes the checks is left out).
    let kept = match plan {
        Some(_) => None,
        None => super::judges::Judges::load(store.as_ref(), &period, None)
            .await
            .ok(),
    };
    let scope_plan = plan.or_else(|| kept.as_ref().and_then(|j| j.default_plan()));
    let scope = scope(period, &integrity.stations, scope_plan, &stored).map_err(|e| {
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
        html,
    };
    // A summary (XLSX, HTML) is recomputed whole, compliance included: the weeks are
    // judged as the export judged them (by --plan, or by the plans kept with the weeks).
    let tabled = xlsx || html;
    let judges = match (tabled, plan, kept) {
        (true, Some(p), _) => {
            super::judges::Judges::load(store.as_ref(), &period, Some(p.clone())).await?
        }
        (true, None, Some(kept)) => kept,
        (false, Some(p), _) => super::judges::Judges::single(p.clone(), None),
        _ => Default::default(),
    };
    let walked = walk(
        store,
        &scope,
        &library,
        &judges,
        tabled,
        &mut cmp,
        &crate::progress::Quiet,
    )
    .await?;
    if let Some(first) = cmp.first.take() {
        return Err(ReportError::Altered(first));
    }
    // The rows equal the database's (the first different cell is named above); then the
    // summary's tables, recomputed from the database, cell by cell (so an edited total is
    // named); then what the file proves by itself: the district key's signature, links,
    // the summary's digest.
    if tabled {
        let (grid, lang, place) = shown_summary(path, html)?;
        recount::compare(
            &grid,
            &super::tables::tables(lang, &walked.summary),
            recount::Basis::Database,
            &place,
        )
        .map_err(|d| {
            ReportError::Altered(match (d.table, plan) {
                ("compliance", None) => format!(
                    "{d} (if the report was exported with --plan, give that plan to verify too)"
                ),
                _ => d.message,
            })
        })?;
    }
    let mut proven = prove_file(path, Some(&key.fingerprint()))?;
    if tabled {
        proven.summary = SummaryProof::Database;
    }
    if html {
        if walked.integrity.sha256 != integrity.sha256 || walked.integrity.rows != integrity.rows {
            return Err(ReportError::Altered(format!(
                "the report counts {} row(s) with SHA-256 {}, the database now holds {} with SHA-256 {} for its range (rows were added, removed or edited)",
                integrity.rows, integrity.sha256, walked.integrity.rows, walked.integrity.sha256
            )));
        }
        return Ok(Checked {
            rows: integrity.rows,
            stations: scope.stations.len(),
            sha256: integrity.sha256.clone(),
            proven,
        });
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
        proven,
    })
}

/// An export's integrity block and detail rows, in memory (`--since` reads an earlier
/// export this way). An HTML report has no rows and is refused.
pub fn read_rows(path: &Path) -> Result<(Integrity, Vec<FileRow>), ReportError> {
    let p = path.display().to_string();
    match kind_of(path)? {
        super::Format::Csv => {
            let integrity = integrity_of(path)?;
            let mut r = CsvReader::open(path)?;
            let mut rows = Vec::new();
            while let Some((line, f)) = r.next_row()? {
                let fields = f
                    .into_iter()
                    .map(|s| safe::from_csv_cell(&s).unwrap_or(s))
                    .collect();
                rows.push(FileRow { line, fields });
            }
            Ok((integrity, rows))
        }
        super::Format::Xlsx => {
            let mut x = read_xlsx(path)?;
            let integrity = Integrity::from_pairs(&p, std::mem::take(&mut x.pairs))?;
            let rows = xlsx_file_rows(&x.rows, &integrity)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            Ok((integrity, rows))
        }
        super::Format::Html => Err(ReportError::Input(format!(
            "{p}: a printed report carries no rows; give the CSV or XLSX export of that period"
        ))),
    }
}
