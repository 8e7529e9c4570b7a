//! How the XLSX export prints: Phòng Nội vụ opens the workbook and prints it on A4, so the
//! sheets carry their own page setup instead of leaving it to the spreadsheet's defaults
//! (which cut the summary tables into strips of two or three columns).
//!
//! - Summary: A4, landscape when its tables are wider than a portrait page, scaled to the
//!   page width (never split sideways), the title and period repeated on every page, in
//!   merged and wrapped cells; tables with thin borders and bold shaded headers; counts
//!   and minutes in the Vietnamese number format (`1.234` and `12,5`).
//! - Detail: A4 landscape, the header row repeated on every page, two pages wide at most.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Worksheet, XlsxError};

use super::xlsx::SumCell;
use super::Lang;

/// Excel's paper size code for A4.
pub const PAPER_A4: u8 = 9;

/// Counts: thousands grouped, in the Vietnamese locale (LCID 0x42A: `1.234`).
pub const INT_FORMAT: &str = "[$-42A]#,##0";

/// Minutes and percentages: one decimal, Vietnamese locale (`12,5`).
pub const DEC_FORMAT: &str = "[$-42A]#,##0.0";

/// Width of the summary's first column (station, producer or rule names), in characters.
pub const FIRST_WIDTH: f64 = 30.0;

/// Width of every other summary column: numbers, with headers wrapped over two or three
/// lines.
pub const OTHER_WIDTH: f64 = 11.0;

/// The widest a text column of the summary gets, in characters (longer text wraps).
pub const TEXT_WIDTH_MAX: f64 = 40.0;

/// The height of one line of 11-point text, in points.
pub const LINE_POINTS: f64 = 15.0;

/// Beyond this many columns a summary does not fit a portrait A4 page at a readable scale.
const PORTRAIT_MAX_COLUMNS: u16 = 7;

/// The cell formats of the summary sheet.
pub struct SummaryFormats {
    /// The issuing body and the national motto at the top.
    pub issuer: Format,
    /// The report's title: large, bold, centred, wrapped.
    pub title: Format,
    /// The period under the title.
    pub period: Format,
    /// A table's heading.
    pub heading: Format,
    /// A table's column headers.
    pub header: Format,
    /// A text cell of a table.
    pub text: Format,
    /// A count.
    pub int: Format,
    /// Minutes or a percentage.
    pub dec: Format,
    /// The line under a table.
    pub note: Format,
}

impl SummaryFormats {
    /// The formats.
    pub fn new() -> SummaryFormats {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top);
        SummaryFormats {
            issuer: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::Top),
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            period: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            heading: Format::new().set_bold().set_align(FormatAlign::Bottom),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(0xE7E6E6)),
            text: cell.clone().set_text_wrap(),
            int: cell.clone().set_num_format(INT_FORMAT),
            dec: cell.set_num_format(DEC_FORMAT),
            note: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Top),
        }
    }
}

impl Default for SummaryFormats {
    fn default() -> Self {
        SummaryFormats::new()
    }
}

/// The footer: the page number of the total, in the report's language.
fn footer(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "&CTrang &P / &N",
        Lang::En => "&CPage &P of &N",
    }
}

/// Column widths of a summary `columns` wide: the first column fits its names, a column
/// holding body text in any table (a rule, its reasons, a title) is widened to its text up
/// to [`TEXT_WIDTH_MAX`], the rest hold numbers at [`OTHER_WIDTH`]. `texts` are the body
/// texts by column.
pub fn summary_widths<'a>(
    texts: impl IntoIterator<Item = (usize, &'a str)>,
    columns: u16,
) -> Vec<f64> {
    let mut widths = vec![OTHER_WIDTH; usize::from(columns.max(1))];
    widths[0] = FIRST_WIDTH;
    for (c, t) in texts {
        if let Some(w) = widths.get_mut(c).filter(|_| c > 0) {
            let want = (t.chars().count() as f64 + 2.0).min(TEXT_WIDTH_MAX);
            *w = w.max(want);
        }
    }
    widths
}

/// Sets the widths of [`summary_widths`].
pub fn set_widths(ws: &mut Worksheet, widths: &[f64]) -> Result<(), XlsxError> {
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

/// The height a row needs (points) when its cells wrap: LibreOffice and Excel do not grow a
/// row for wrapped text written by a program, so a wrapped cell would spill over the next
/// row. One line per [`LINE_POINTS`]; `cells` are the texts by column.
pub fn row_height<'a>(cells: impl IntoIterator<Item = (usize, &'a str)>, widths: &[f64]) -> f64 {
    let lines = cells
        .into_iter()
        .map(|(c, text)| {
            // A column `w` wide holds about 1.15·w characters of proportional text.
            let width = (widths.get(c).copied().unwrap_or(OTHER_WIDTH).max(2.0) - 1.0) * 1.15;
            text.split('\n')
                .map(|l| (l.chars().count() as f64 / width).ceil().max(1.0))
                .sum::<f64>()
        })
        .fold(1.0, f64::max);
    lines * LINE_POINTS
}

/// What a text cell of the summary is, which decides how it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The issuing body, the national motto (merged over their half of the width).
    Issuer,
    /// The report's title (merged over the whole width, large).
    Title,
    /// The period under the title, the place and date (merged, italic).
    Period,
    /// A table's heading.
    Heading,
    /// A table's column header.
    Header,
    /// A text cell of a table's body.
    Body,
    /// The line under a table (merged over the whole width, wrapped).
    Note,
}

/// Writes the summary's cells with their formats, merges, widths, row heights and page
/// setup. The cells stay where [`super::xlsx`] put them (a merged range keeps its text in
/// its first cell), so the summary digest reads the same back.
pub(super) fn summary_sheet(
    ws: &mut Worksheet,
    cells: &[(u32, u16, SumCell)],
    lang: Lang,
) -> Result<(), XlsxError> {
    let f = SummaryFormats::new();
    let columns = cells
        .iter()
        .filter(|(_, _, v)| matches!(v, SumCell::Text(_, Role::Header)))
        .map(|(_, c, _)| c + 1)
        .max()
        .unwrap_or(1)
        .clamp(6, 64);
    let last = columns - 1;
    let widths = summary_widths(
        cells.iter().filter_map(|(_, c, v)| match v {
            SumCell::Text(t, Role::Body) => Some((usize::from(*c), t.as_str())),
            _ => None,
        }),
        columns,
    );
    let full = [widths.iter().sum::<f64>()];
    let mut heights: std::collections::BTreeMap<u32, f64> = Default::default();
    let mut tall = |r: u32, h: f64| {
        let e = heights.entry(r).or_insert(LINE_POINTS);
        *e = e.max(h);
    };
    for (r, c, cell) in cells {
        let (r, c) = (*r, *c);
        match cell {
            SumCell::Text(t, Role::Issuer) => {
                let end = if c == 0 { 3 } else { last };
                ws.merge_range(r, c, r, end.max(c), t, &f.issuer)?;
            }
            SumCell::Text(t, Role::Title) => {
                ws.merge_range(r, c, r, last, t, &f.title)?;
                tall(r, 2.6 * LINE_POINTS);
            }
            SumCell::Text(t, Role::Period) => {
                let end = last.max(c);
                if end > c {
                    ws.merge_range(r, c, r, end, t, &f.period)?;
                } else {
                    ws.write_string_with_format(r, c, t, &f.period)?;
                }
                tall(r, 1.3 * LINE_POINTS);
            }
            SumCell::Text(t, Role::Heading) => {
                ws.write_string_with_format(r, c, t, &f.heading)?;
            }
            SumCell::Text(t, Role::Header) => {
                ws.write_string_with_format(r, c, t, &f.header)?;
                // Bold headers take a little more room than the body's text.
                tall(r, row_height([(usize::from(c), t.as_str())], &widths) + 2.0);
            }
            SumCell::Text(t, Role::Body) => {
                ws.write_string_with_format(r, c, t, &f.text)?;
                tall(r, row_height([(usize::from(c), t.as_str())], &widths));
            }
            SumCell::Text(t, Role::Note) => {
                // Across the whole width, wrapped: a legend never runs off the page.
                ws.merge_range(r, c, r, last, t, &f.note)?;
                tall(r, row_height([(0, t.as_str())], &full));
            }
            SumCell::Int(n) => {
                ws.write_number_with_format(r, c, *n as f64, &f.int)?;
            }
            SumCell::Dec(x) => {
                ws.write_number_with_format(r, c, *x, &f.dec)?;
            }
        }
    }
    for (r, h) in heights {
        if h > LINE_POINTS {
            ws.set_row_height(r, h)?;
        }
    }
    set_widths(ws, &widths)?;
    summary_page(ws, columns, (4, 5), lang)?;
    ws.set_freeze_panes(0, 1)?;
    Ok(())
}

/// The summary's page setup: A4, landscape when wider than [`PORTRAIT_MAX_COLUMNS`], one
/// page wide (as many tall as it takes), rows `repeat.0..=repeat.1` (title and period) on
/// every page, page numbers in the footer.
pub fn summary_page(
    ws: &mut Worksheet,
    columns: u16,
    repeat: (u32, u32),
    lang: Lang,
) -> Result<(), XlsxError> {
    ws.set_paper_size(PAPER_A4);
    if columns > PORTRAIT_MAX_COLUMNS {
        ws.set_landscape();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_repeat_rows(repeat.0, repeat.1)?;
    ws.set_footer(footer(lang));
    Ok(())
}

/// The detail sheet's page setup: A4 landscape, the header row on every page, at most two
/// pages wide, page numbers in the footer.
pub fn detail_page(ws: &mut Worksheet, lang: Lang) -> Result<(), XlsxError> {
    ws.set_paper_size(PAPER_A4);
    ws.set_landscape();
    ws.set_print_fit_to_pages(2, 0);
    ws.set_margins(0.4, 0.4, 0.5, 0.5, 0.3, 0.3);
    ws.set_repeat_rows(0, 0)?;
    ws.set_footer(footer(lang));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_column_is_widened_to_its_text_up_to_the_limit_and_numbers_stay_narrow() {
        let long = "x".repeat(100);
        let texts = [(0, "Xã Vĩnh An"), (1, "tin-bai — V.4"), (3, long.as_str())];
        let w = summary_widths(texts, 4);
        assert_eq!(w, vec![FIRST_WIDTH, 15.0, OTHER_WIDTH, TEXT_WIDTH_MAX]);
    }

    #[test]
    fn a_row_is_as_tall_as_its_longest_wrapped_cell() {
        let widths = [30.0, 11.0];
        assert_eq!(row_height([(0, "ngắn")], &widths), LINE_POINTS);
        // 25 characters in a column 10 wide (11.5 characters of text): three lines.
        assert_eq!(
            row_height([(0, "a"), (1, "b".repeat(25).as_str())], &widths),
            3.0 * LINE_POINTS
        );
        assert_eq!(row_height([(0, "một\nhai")], &widths), 2.0 * LINE_POINTS);
    }
}
