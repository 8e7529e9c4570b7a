//! The XLSX export (rust_xlsxwriter): a summary sheet, the detail rows in constant-memory
//! sheets (a new one every [`ROWS_PER_SHEET`] rows: Excel stops at 1,048,576), then the
//! integrity sheet. Vietnamese headers, frozen header row, autofilter, column widths, and
//! instants as real Excel dates in the station's local time (to the millisecond). How the
//! sheets print (A4, landscape, repeated headers, borders) is in [`super::xlsx_print`].

use std::path::Path;

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

use super::integrity::Integrity;
use super::labels::{self, words};
use super::rows::{shown_reason, Cell, ExportRow, COLUMNS_VI, NCOLS, REASON_COLUMN};
use super::safe;
use super::tables::{tables, Val};
use super::walk::{RowSink, Walked};
use super::xlsx_print::{detail_page, summary_sheet, Role};
use super::{Lang, Period, ReportError};

/// Detail rows per sheet.
pub const ROWS_PER_SHEET: u32 = 1_000_000;

/// The Excel number format of instants.
pub const DATE_FORMAT: &str = "dd/mm/yyyy hh:mm:ss.000";

const WIDTHS: [f64; NCOLS] = [
    14.0, 28.0, 22.0, 14.0, 48.0, 10.0, 18.0, 32.0, 22.0, 22.0, 22.0, 12.0, 12.0, 40.0, 20.0, 20.0,
    10.0, 20.0, 12.0, 12.0, 20.0, 10.0, 40.0,
];

/// Days since Excel's epoch of a local date-time, from its microseconds (so the exact
/// instant reads back: `verify --export` finds the microsecond that divides to it).
pub fn excel_serial(t: chrono::NaiveDateTime) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    (t - epoch).num_microseconds().unwrap_or(0) as f64 / 86_400_000_000.0
}

/// An XLSX export being written.
pub struct XlsxWriter {
    path: String,
    wb: Workbook,
    lang: Lang,
    sheet: usize,
    sheets: u32,
    row: u32,
    date: Format,
    bold: Format,
}

fn err(path: &str, e: rust_xlsxwriter::XlsxError) -> ReportError {
    ReportError::Xlsx {
        path: path.to_string(),
        reason: e.to_string(),
    }
}

impl XlsxWriter {
    /// Starts a workbook: the summary sheet (filled at the end) and the first detail sheet.
    pub fn create(path: &Path, lang: Lang) -> Result<XlsxWriter, ReportError> {
        let p = path.display().to_string();
        let mut wb = Workbook::new();
        wb.add_worksheet()
            .set_name(words(lang).summary_sheet)
            .map_err(|e| err(&p, e))?;
        let mut w = XlsxWriter {
            path: p,
            wb,
            lang,
            sheet: 0,
            sheets: 0,
            row: 0,
            date: Format::new().set_num_format(DATE_FORMAT),
            bold: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top),
        };
        w.new_detail_sheet()?;
        Ok(w)
    }

    fn new_detail_sheet(&mut self) -> Result<(), ReportError> {
        self.close_detail_sheet()?;
        self.sheets += 1;
        let name = match self.sheets {
            1 => words(self.lang).detail_sheet.to_string(),
            n => format!("{} ({n})", words(self.lang).detail_sheet),
        };
        let p = self.path.clone();
        let bold = self.bold.clone();
        let ws = self.wb.add_worksheet_with_constant_memory();
        ws.set_name(name).map_err(|e| err(&p, e))?;
        for (c, w) in WIDTHS.iter().enumerate() {
            ws.set_column_width(c as u16, *w).map_err(|e| err(&p, e))?;
        }
        for (c, h) in COLUMNS_VI.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(|e| err(&p, e))?;
        }
        ws.set_freeze_panes(1, 0).map_err(|e| err(&p, e))?;
        detail_page(ws, self.lang).map_err(|e| err(&p, e))?;
        self.sheet = self.sheets as usize;
        self.row = 1;
        Ok(())
    }

    fn close_detail_sheet(&mut self) -> Result<(), ReportError> {
        if self.sheets == 0 {
            return Ok(());
        }
        let p = self.path.clone();
        let last = self.row.saturating_sub(1).max(1);
        let ws = self
            .wb
            .worksheet_from_index(self.sheet)
            .map_err(|e| err(&p, e))?;
        ws.autofilter(0, 0, last, NCOLS as u16 - 1)
            .map_err(|e| err(&p, e))?;
        Ok(())
    }

    /// Fills the summary, signs the integrity block (with the summary's digest), adds the
    /// integrity sheet and saves the file.
    pub fn finish(
        mut self,
        walked: &mut Walked,
        period: &Period,
        plan_name: Option<&str>,
        issued: NaiveDate,
        key: &crate::airlog::key::DistrictKey,
    ) -> Result<(), ReportError> {
        self.close_detail_sheet()?;
        let p = self.path.clone();
        let lang = self.lang;
        let bold = self.bold.clone();
        let cells = summary_cells(lang, &walked.summary, period, plan_name, issued);
        let texts: Vec<(u32, u16, String)> = cells
            .iter()
            .map(|(r, c, v)| {
                let t = match v {
                    SumCell::Text(s, _) => s.clone(),
                    SumCell::Int(n) => format!("{}", *n as f64),
                    SumCell::Dec(x) => format!("{x}"),
                };
                (*r, *c, t)
            })
            .collect();
        walked.integrity.summary_sha256 = Some(summary_digest(
            texts.iter().map(|(r, c, t)| (*r, *c, t.as_str())),
        ));
        walked.integrity.sign(key);
        let ws = self.wb.worksheet_from_index(0).map_err(|e| err(&p, e))?;
        summary_sheet(ws, &cells, lang).map_err(|e| err(&p, e))?;
        let ws = self.wb.add_worksheet();
        ws.set_name(words(lang).integrity_sheet)
            .map_err(|e| err(&p, e))?;
        integrity_sheet(ws, &walked.integrity, &bold).map_err(|e| err(&p, e))?;
        self.wb.save(&self.path).map_err(|e| err(&p, e))
    }
}

impl RowSink for XlsxWriter {
    fn row(&mut self, row: &ExportRow) -> Result<(), ReportError> {
        if self.row > ROWS_PER_SHEET {
            self.new_detail_sheet()?;
        }
        // Disjoint fields: the sheet borrows the workbook, the format and path stay shared.
        let (p, r, date) = (&self.path, self.row, &self.date);
        let ws = self
            .wb
            .worksheet_from_index(self.sheet)
            .map_err(|e| err(p, e))?;
        let shown = shown_reason(row.reason, self.lang);
        for (c, cell) in row.cells().iter().enumerate() {
            let cell = if c == REASON_COLUMN {
                &Cell::Text(&shown)
            } else {
                cell
            };
            let c = c as u16;
            match cell {
                Cell::Text("") => {}
                Cell::Text(s) => {
                    // A string cell is never a formula; control characters are escaped.
                    ws.write_string(r, c, safe::escape(s).as_ref())
                        .map_err(|e| err(p, e))?;
                }
                Cell::OptNumber(None) | Cell::Gain(None) => {}
                Cell::OptNumber(Some(n)) => {
                    ws.write_number(r, c, *n as f64).map_err(|e| err(p, e))?;
                }
                Cell::Gain(Some(g)) => {
                    // As text: the exact decimal the row hash covers.
                    ws.write_string(r, c, format!("{g}"))
                        .map_err(|e| err(p, e))?;
                }
                Cell::Time(None) => {}
                Cell::Time(Some(t)) => {
                    // The serial computed here keeps the microsecond (the writer's own
                    // date conversion keeps the millisecond).
                    ws.write_number_with_format(r, c, excel_serial(t.naive_local()), date)
                        .map_err(|e| err(p, e))?;
                }
                Cell::Number(n) => {
                    ws.write_number(r, c, *n as f64).map_err(|e| err(p, e))?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }
}

/// One cell of the summary sheet.
pub(super) enum SumCell {
    /// Text, and what it is on the page (how it prints).
    Text(String, Role),
    /// A count.
    Int(i64),
    /// Minutes or a percentage, shown with one decimal.
    Dec(f64),
}

/// The summary sheet's cells, (row, column, cell), in row then column order.
pub(super) fn summary_cells(
    lang: Lang,
    summary: &super::summary::Summary,
    period: &Period,
    plan_name: Option<&str>,
    issued: NaiveDate,
) -> Vec<(u32, u16, SumCell)> {
    let w = words(lang);
    let (body1, body2, place) = labels::issuer(plan_name);
    let t = |s: &str, role| SumCell::Text(s.to_string(), role);
    let mut out = vec![
        (0, 0, t(&body1, Role::Issuer)),
        (0, 4, t(w.nation, Role::Issuer)),
        (1, 0, t(&body2, Role::Issuer)),
        (1, 4, t(w.motto, Role::Issuer)),
        (
            2,
            4,
            t(&labels::place_date(lang, &place, issued), Role::Period),
        ),
        (4, 0, t(&labels::title(lang, period), Role::Title)),
        (5, 0, t(&format!("{}: {period}", w.range), Role::Period)),
    ];
    let mut r = 7u32;
    for table in tables(lang, summary) {
        if !table.heading.is_empty() {
            out.push((r, 0, t(&table.heading, Role::Heading)));
            r += 1;
        }
        for (c, h) in table.header.iter().enumerate() {
            out.push((r, c as u16, t(h, Role::Header)));
        }
        r += 1;
        for row in &table.rows {
            for (c, v) in row.iter().enumerate() {
                let cell = match v {
                    Val::Text(s) => SumCell::Text(s.clone(), Role::Body),
                    Val::Int(n) => SumCell::Int(*n),
                    Val::Dec(x) => SumCell::Dec(*x),
                };
                out.push((r, c as u16, cell));
            }
            r += 1;
        }
        if let Some(note) = &table.note {
            out.push((r, 0, t(note, Role::Note)));
            r += 1;
        }
        r += 1;
    }
    out
}

/// The summary digest of an XLSX export: SHA-256 over every non-empty cell of the summary
/// sheet in row then column order, each as `row` U+001F `column` U+001F `text` and a line
/// feed, a number's text being the shortest decimal that reads back to it. `verify
/// --export` recomputes it from the sheet as read back.
pub fn summary_digest<'a>(cells: impl IntoIterator<Item = (u32, u16, &'a str)>) -> String {
    use sha2::{Digest, Sha256};
    let mut d = Sha256::new();
    for (r, c, t) in cells {
        if !t.is_empty() {
            d.update(format!("{r}\u{1f}{c}\u{1f}{t}\n").as_bytes());
        }
    }
    hex::encode(d.finalize())
}

fn integrity_sheet(
    ws: &mut Worksheet,
    integrity: &Integrity,
    bold: &Format,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    ws.set_column_width(0, 30)?;
    ws.set_column_width(1, 80)?;
    ws.write_string_with_format(0, 0, "key", bold)?;
    ws.write_string_with_format(0, 1, "value", bold)?;
    for (i, (k, v)) in integrity.pairs().iter().enumerate() {
        ws.write_string(i as u32 + 1, 0, k.as_ref())?;
        ws.write_string(i as u32 + 1, 1, v.as_ref())?;
    }
    Ok(())
}
