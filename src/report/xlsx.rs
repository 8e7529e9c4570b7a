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
use super::rows::{Cell, ExportRow, COLUMNS_VI};
use super::tables::{tables, Val};
use super::walk::{RowSink, Walked};
use super::xlsx_print::{
    detail_page, row_height, set_widths, summary_page, summary_widths, SummaryFormats, LINE_POINTS,
};
use super::{Lang, Period, ReportError};

/// Detail rows per sheet.
pub const ROWS_PER_SHEET: u32 = 1_000_000;

/// The Excel number format of instants.
pub const DATE_FORMAT: &str = "dd/mm/yyyy hh:mm:ss.000";

const WIDTHS: [f64; 16] = [
    14.0, 28.0, 22.0, 14.0, 48.0, 10.0, 18.0, 32.0, 22.0, 22.0, 22.0, 12.0, 12.0, 40.0, 20.0, 20.0,
];

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
        ws.autofilter(0, 0, last, 15).map_err(|e| err(&p, e))?;
        Ok(())
    }

    /// Fills the summary, adds the integrity sheet and saves the file.
    pub fn finish(
        mut self,
        walked: &Walked,
        period: &Period,
        plan_name: Option<&str>,
        issued: NaiveDate,
    ) -> Result<(), ReportError> {
        self.close_detail_sheet()?;
        let p = self.path.clone();
        let lang = self.lang;
        let bold = self.bold.clone();
        let ws = self.wb.worksheet_from_index(0).map_err(|e| err(&p, e))?;
        summary_sheet(ws, lang, walked, period, plan_name, issued).map_err(|e| err(&p, e))?;
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
        for (c, cell) in row.cells().iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text("") => {}
                Cell::Text(s) => {
                    ws.write_string(r, c, *s).map_err(|e| err(p, e))?;
                }
                Cell::Time(None) => {}
                Cell::Time(Some(t)) => {
                    ws.write_datetime_with_format(r, c, t.naive_local(), date)
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

fn summary_sheet(
    ws: &mut Worksheet,
    lang: Lang,
    walked: &Walked,
    period: &Period,
    plan_name: Option<&str>,
    issued: NaiveDate,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let w = words(lang);
    let f = SummaryFormats::new();
    let (body1, body2, place) = labels::issuer(plan_name);
    let tables = tables(lang, &walked.summary);
    let columns = tables
        .iter()
        .map(|t| t.header.len())
        .max()
        .unwrap_or(1)
        .clamp(4, 64) as u16;
    let last = columns - 1;
    // The issuer on the left, the national motto on the right, as on an official letter.
    let split = (columns / 2 - 1).max(1);
    ws.merge_range(0, 0, 0, split, &body1, &f.issuer)?;
    ws.merge_range(0, split + 1, 0, last, w.nation, &f.issuer)?;
    ws.merge_range(1, 0, 1, split, &body2, &f.issuer)?;
    ws.merge_range(1, split + 1, 1, last, w.motto, &f.issuer)?;
    let place_date = labels::place_date(lang, &place, issued);
    ws.merge_range(2, split + 1, 2, last, &place_date, &f.period)?;
    ws.merge_range(4, 0, 4, last, &labels::title(lang, period), &f.title)?;
    ws.set_row_height(4, 40)?;
    ws.merge_range(5, 0, 5, last, &format!("{}: {period}", w.range), &f.period)?;
    ws.set_row_height(5, 20)?;
    let widths = summary_widths(&tables, columns);
    let mut r = 7u32;
    for table in &tables {
        if !table.heading.is_empty() {
            ws.write_string_with_format(r, 0, &table.heading, &f.heading)?;
            r += 1;
        }
        for (c, h) in table.header.iter().enumerate() {
            ws.write_string_with_format(r, c as u16, h, &f.header)?;
        }
        let header_cells = table.header.iter().map(String::as_str).enumerate();
        // Bold headers take a little more room than the body's text.
        ws.set_row_height(r, row_height(header_cells, &widths) + 2.0)?;
        r += 1;
        for row in &table.rows {
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v {
                    Val::Text(s) => ws.write_string_with_format(r, c, s, &f.text)?,
                    Val::Int(n) => ws.write_number_with_format(r, c, *n as f64, &f.int)?,
                    Val::Dec(x) => ws.write_number_with_format(r, c, *x, &f.dec)?,
                };
            }
            let texts = row.iter().enumerate().filter_map(|(c, v)| match v {
                Val::Text(s) => Some((c, s.as_str())),
                _ => None,
            });
            let height = row_height(texts, &widths);
            if height > LINE_POINTS {
                ws.set_row_height(r, height)?;
            }
            r += 1;
        }
        if let Some(note) = &table.note {
            // Across the whole width, wrapped: a legend never runs off the printed page.
            let width = vec![widths.iter().sum::<f64>()];
            ws.merge_range(r, 0, r, last, note, &f.note)?;
            ws.set_row_height(r, row_height([(0, note.as_str())], &width))?;
            r += 1;
        }
        r += 1;
    }
    set_widths(ws, &widths)?;
    summary_page(ws, columns, (4, 5), lang)?;
    ws.set_freeze_panes(0, 1)?;
    Ok(())
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
        ws.write_string(i as u32 + 1, 0, k)?;
        ws.write_string(i as u32 + 1, 1, v)?;
    }
    Ok(())
}
