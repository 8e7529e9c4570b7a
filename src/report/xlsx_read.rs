//! Reading an XLSX export back (calamine): its detail rows as the CSV's texts (dates back to
//! the exact microsecond in the station's time zone), its integrity pairs, and its summary
//! sheet as read (its cells, and their digest).

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use chrono::{NaiveDate, TimeZone};

use super::check::text_of;
use super::integrity::Integrity;
use super::proof::FileRow;
use super::recount::{Grid, Shown};
use super::rows::{COLUMNS, COLUMNS_VI};
use super::safe;
use super::ReportError;

/// An XLSX export's detail rows (every detail sheet, headers off), integrity pairs and the
/// digest of its summary sheet as read back.
pub(super) struct XlsxContent {
    pub(super) rows: Vec<Vec<Data>>,
    pub(super) pairs: Vec<(String, String)>,
    pub(super) summary: String,
    /// The summary sheet's cells, as [`super::recount`] compares them.
    pub(super) summary_grid: Grid,
    /// The summary sheet's name (it tells the report's language).
    pub(super) summary_name: String,
}

pub(super) fn read_xlsx(path: &Path) -> Result<XlsxContent, ReportError> {
    let p = path.display().to_string();
    let not = |reason: String| ReportError::NotAnExport {
        path: p.clone(),
        reason,
    };
    let mut wb =
        open_workbook_auto(path).map_err(|e| not(format!("it cannot be read as XLSX ({e})")))?;
    let summary_name = wb.sheet_names().first().cloned().unwrap_or_default();
    let n = wb.sheet_names().len();
    if n < 3 {
        return Err(not("it lacks the summary, detail or integrity sheet".into()));
    }
    let sheet = |wb: &mut calamine::Sheets<_>, i: usize| {
        wb.worksheet_range_at(i)
            .ok_or_else(|| not(format!("sheet {} is missing", i + 1)))?
            .map_err(|e| not(format!("sheet {} cannot be read ({e})", i + 1)))
    };
    let summary_range = sheet(&mut wb, 0)?;
    let (r0, c0) = summary_range.start().unwrap_or((0, 0));
    let cells: Vec<(u32, u16, String)> = summary_range
        .cells()
        .map(|(r, c, d)| {
            let t = match d {
                Data::Float(f) => format!("{f}"),
                Data::Int(i) => format!("{}", *i as f64),
                other => text_of(other),
            };
            (r0 + r as u32, (c0 as usize + c) as u16, t)
        })
        .collect();
    let summary = super::xlsx::summary_digest(cells.iter().map(|(r, c, t)| (*r, *c, t.as_str())));
    let mut summary_grid = Grid::default();
    for (r, c, d) in summary_range.cells() {
        let shown = match d {
            Data::Empty => Shown::Empty,
            Data::Float(f) => Shown::Number(*f),
            Data::Int(i) => Shown::Number(*i as f64),
            other => Shown::Text(text_of(other)),
        };
        summary_grid.set(r0 as usize + r, c0 as usize + c, shown);
    }
    let mut rows = Vec::new();
    for i in 1..n - 1 {
        let range = sheet(&mut wb, i)?;
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
    let range = sheet(&mut wb, n - 1)?;
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
    Ok(XlsxContent {
        rows,
        pairs,
        summary,
        summary_grid,
        summary_name,
    })
}

/// An XLSX date cell back to the exact instant it was written from (loa writes the days
/// since Excel's epoch computed from the microsecond, [`excel_serial`]), in the station's
/// time zone, as the CSV writes it.
fn xlsx_instant(d: &Data, tz: chrono_tz::Tz) -> Option<String> {
    let serial = match d {
        Data::DateTime(x) => x.as_f64(),
        Data::Float(f) => *f,
        Data::Empty => return Some(String::new()),
        _ => return None,
    };
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let guess = (serial * 86_400_000_000.0).round() as i64;
    // The division that made the serial is exact to within its last bit: of the
    // microseconds around the guess, the one that divides back to it.
    let us = (guess - 2..=guess + 2).find(|us| *us as f64 / 86_400_000_000.0 == serial)?;
    let local = epoch + chrono::Duration::microseconds(us);
    let t = tz.from_local_datetime(&local).earliest()?;
    Some(super::rows::instant_text(t.fixed_offset()))
}

/// The detail rows of an XLSX export as [`FileRow`]s (texts unescaped, dates as the CSV's).
pub(super) fn xlsx_file_rows(
    rows: &[Vec<Data>],
    integrity: &Integrity,
) -> Vec<Result<FileRow, ReportError>> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let line = i as u64 + 2;
            let bad = |what: String| {
                ReportError::Altered(format!(
                    "row {} of the export (sheet row {line}): {what}",
                    i + 1
                ))
            };
            let station = r.first().map(text_of).unwrap_or_default();
            let tz: chrono_tz::Tz = integrity
                .timezones
                .get(&station)
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| {
                    bad(format!(
                        "station '{station}' has no time zone in the integrity block"
                    ))
                })?;
            let fields = (0..COLUMNS.len())
                .map(|c| {
                    let d = r.get(c).cloned().unwrap_or(Data::Empty);
                    match c {
                        2 | 8 | 9 | 10 => xlsx_instant(&d, tz)
                            .ok_or_else(|| bad(format!("{} is not a date", COLUMNS[c]))),
                        _ => Ok(match d {
                            Data::String(s) => safe::unescape(&s).unwrap_or(s),
                            other => text_of(&other),
                        }),
                    }
                })
                .collect::<Result<Vec<String>, ReportError>>()?;
            Ok(FileRow { line, fields })
        })
        .collect()
}
