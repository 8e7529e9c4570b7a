//! Summary totals recomputed (`verify --export`): the tables of an XLSX summary sheet are
//! recomputed from the file's own detail rows (and the chain's slot rows its integrity
//! block carries), and with the database every table of an XLSX or HTML report is
//! recomputed from the database's rows, by the code that made them at export
//! ([`Summary::add_row`], [`Summary::add_slots_before`], [`tables`]). Each is then compared
//! cell by cell with what the file shows; the first difference is named by its sheet or
//! page, table, row and column, with both values. Pure: texts in, verdict out.
//!
//! From the file's rows alone, compliance (which needs the plan and the whole weeks around
//! the range) and the incidents table's column of slots not run (which the plan decides)
//! are not recomputed: the integrity block's signed summary digest proves them.

use std::fmt;

use chrono::{DateTime, FixedOffset};

use crate::airlog::{AirStatus, Level};
use crate::library::{Kind, Topic};
use crate::store::SlotRecord;

use super::integrity::{chain_row_from_json, Integrity};
use super::labels::words;
use super::proof::FileRow;
use super::rows::{ExportRow, NCOLS};
use super::summary::{SlotRow, Summary};
use super::tables::{tables, Table, Val};
use super::{Lang, Period, Scope, StationScope, DEFAULT_TZ};

/// One cell of a summary as a file shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// Nothing.
    Empty,
    /// Text (every cell of a printed page is text).
    Text(String),
    /// A number cell of a sheet.
    Number(f64),
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Empty => f.write_str("an empty cell"),
            Shown::Text(s) => write!(f, "'{}'", super::safe::escape(s)),
            Shown::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => write!(f, "{}", *x as i64),
            Shown::Number(x) => write!(f, "{x}"),
        }
    }
}

/// A value as the report writes it, for messages.
struct Wanted<'a>(&'a Val);

impl fmt::Display for Wanted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Val::Text(s) if s.is_empty() => f.write_str("an empty cell"),
            Val::Text(s) => write!(f, "'{}'", super::safe::escape(s)),
            Val::Int(n) => write!(f, "{n}"),
            Val::Dec(x) => write!(f, "{x:.1}"),
        }
    }
}

/// Whether a shown cell holds the value: numbers as the sheet stores them (exactly), or as
/// the page prints them (`{n}`, `{x:.1}`).
fn agrees(shown: &Shown, want: &Val) -> bool {
    match (shown, want) {
        (Shown::Number(f), Val::Int(n)) => *f == *n as f64,
        (Shown::Number(f), Val::Dec(x)) => *f == *x,
        (Shown::Text(s), Val::Text(t)) => s == t,
        (Shown::Text(s), Val::Int(n)) => *s == n.to_string(),
        (Shown::Text(s), Val::Dec(x)) => *s == format!("{x:.1}"),
        (Shown::Empty, Val::Text(t)) => t.is_empty(),
        _ => false,
    }
}

/// A summary as a file shows it: rows of cells from the top of the sheet or page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid(pub Vec<Vec<Shown>>);

const EMPTY: Shown = Shown::Empty;

impl Grid {
    /// The cell at a row and column (empty outside what was read).
    pub fn at(&self, r: usize, c: usize) -> &Shown {
        self.0.get(r).and_then(|row| row.get(c)).unwrap_or(&EMPTY)
    }

    /// Puts a cell, growing the grid.
    pub fn set(&mut self, r: usize, c: usize, v: Shown) {
        if self.0.len() <= r {
            self.0.resize(r + 1, Vec::new());
        }
        let row = &mut self.0[r];
        if row.len() <= c {
            row.resize(c + 1, Shown::Empty);
        }
        row[c] = v;
    }

    fn text_at(&self, r: usize, c: usize) -> Option<&str> {
        match self.at(r, c) {
            Shown::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The row of a table's header (under its heading, when it has one).
    fn find(&self, t: &Table) -> Option<usize> {
        (0..self.0.len()).find(|&r| {
            t.header
                .iter()
                .enumerate()
                .all(|(c, h)| self.text_at(r, c) == Some(h.as_str()))
                && (t.heading.is_empty()
                    || r > 0 && self.text_at(r - 1, 0) == Some(t.heading.as_str()))
        })
    }
}

/// What the recomputation was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The file's detail rows and the chain rows of its integrity block: every table but
    /// compliance and the column of slots not run.
    FileRows,
    /// The database's rows, with the plans that judged the weeks: every table.
    Database,
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Basis::FileRows => "the file's detail rows",
            Basis::Database => "the database",
        })
    }
}

/// What a comparison covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compared {
    /// Tables compared.
    pub tables: usize,
    /// Cells compared.
    pub cells: usize,
}

/// The first difference between a summary and its recomputation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The table's kind ([`Table::class`]).
    pub table: &'static str,
    /// The sentence naming it.
    pub message: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Compares recomputed tables with a file's summary, cell by cell. `place` names the
/// summary ("the summary sheet 'Tổng hợp'"). Every recomputed row must be on file, in
/// order, and no other row under the table's header. The first difference is returned as a
/// sentence naming the place, the table, the row, the column and both values.
pub fn compare(
    grid: &Grid,
    want: &[Table],
    basis: Basis,
    place: &str,
) -> Result<Compared, Difference> {
    let mut done = Compared::default();
    let mut last_heading = "";
    for t in want {
        if !t.heading.is_empty() {
            last_heading = &t.heading;
        }
        if basis == Basis::FileRows && t.class == "compliance" {
            continue;
        }
        let name = match t.heading.is_empty() {
            true => format!("{last_heading} ({})", t.header.join(", ")),
            false => t.heading.clone(),
        };
        let differs = |message: String| Difference {
            table: t.class,
            message,
        };
        let Some(h) = grid.find(t) else {
            // A table without rows prints only its note on the page.
            if t.rows.is_empty() {
                continue;
            }
            return Err(differs(format!(
                "{place} has no table '{name}', of which {} row(s) were recomputed from {basis} (its heading or header was edited or removed)",
                t.rows.len()
            )));
        };
        let skip_last = basis == Basis::FileRows && t.class == "incidents";
        for (i, row) in t.rows.iter().enumerate() {
            let r = h + 1 + i;
            let label = match row.first() {
                Some(Val::Text(s)) => s.clone(),
                _ => format!("{}", i + 1),
            };
            for (c, v) in row.iter().enumerate() {
                if skip_last && c + 1 == row.len() {
                    continue;
                }
                let got = grid.at(r, c);
                if !agrees(got, v) {
                    return Err(differs(format!(
                        "{place}, table '{name}', row '{label}', column '{}': {got} on file but {} recomputed from {basis}",
                        t.header.get(c).map_or("", String::as_str),
                        Wanted(v)
                    )));
                }
                done.cells += 1;
            }
        }
        // Under the last row: the table's note or a blank line, nothing in a second column.
        let r = h + 1 + t.rows.len();
        if (1..t.header.len().max(2)).any(|c| *grid.at(r, c) != Shown::Empty) {
            return Err(differs(format!(
                "{place}, table '{name}': row {} on file (labelled {}) is not among the {} row(s) recomputed from {basis} (a row was added)",
                t.rows.len() + 1,
                grid.at(r, 0),
                t.rows.len()
            )));
        }
        done.tables += 1;
    }
    Ok(done)
}

/// The language whose summary sheet has this name.
pub fn sheet_lang(name: &str) -> Option<Lang> {
    Lang::ALL
        .into_iter()
        .find(|l| words(*l).summary_sheet == name)
}

/// How a sheet or page names a place in messages.
pub fn sheet_place(name: &str) -> String {
    format!("the summary sheet '{name}'")
}

/// The language a printed page declares (`<html lang="vi">`).
pub fn page_lang(page: &str) -> Option<Lang> {
    let (_, rest) = page.split_once("<html lang=\"")?;
    let (code, _) = rest.split_once('"')?;
    Lang::ALL.into_iter().find(|l| l.code() == code)
}

/// The cells of one line of the page between `<open …>` and `</close>` tags.
fn cells_of(line: &str, open: &str, close: &str) -> Vec<Shown> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find(open) {
        let after = &rest[at + open.len()..];
        // `<th` is also the start of `<thead>`: a cell's tag ends or has attributes next.
        if !after.starts_with(['>', ' ']) {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let body = &after[gt + 1..];
        let Some(end) = body.find(close) else { break };
        out.push(Shown::Text(super::html::unescape(&body[..end])));
        rest = &body[end + close.len()..];
    }
    out
}

/// A printed page's summary as a grid laid out as the sheet lays it out: each heading, its
/// table's header and rows, its note, and a blank row (the integrity block is left out).
pub fn page_grid(page: &str) -> Grid {
    let body = page
        .split_once(super::html::INTEGRITY_START)
        .map_or(page, |(before, _)| before);
    let mut rows: Vec<Vec<Shown>> = Vec::new();
    for line in body.lines() {
        if let Some(h) = line
            .strip_prefix("<h2>")
            .and_then(|l| l.strip_suffix("</h2>"))
        {
            rows.push(vec![Shown::Text(super::html::unescape(h))]);
        } else if line.starts_with("<table class=\"t ") {
            rows.push(cells_of(line, "<th", "</th>"));
        } else if line.starts_with("<tr") {
            rows.push(cells_of(line, "<td", "</td>"));
        } else if line.starts_with("</tbody></table>") {
            rows.push(Vec::new());
        } else if let Some(n) = line
            .strip_prefix("<p class=\"note\">")
            .and_then(|l| l.strip_suffix("</p>"))
        {
            rows.push(vec![Shown::Text(super::html::unescape(n))]);
        }
    }
    Grid(rows)
}

/// A detail row read back from a file as the export row it shows (texts as the CSV's).
fn export_row_of(f: &[String]) -> Result<ExportRow<'_>, String> {
    if f.len() < NCOLS {
        return Err(format!("it has {} fields, not {NCOLS}", f.len()));
    }
    let time = |i: usize, name: &str| {
        DateTime::parse_from_rfc3339(&f[i])
            .map_err(|_| format!("{name} '{}' is not an instant", f[i]))
    };
    let opt_time = |i: usize, name: &str| -> Result<Option<DateTime<FixedOffset>>, String> {
        match f[i].is_empty() {
            true => Ok(None),
            false => time(i, name).map(Some),
        }
    };
    let int = |i: usize, name: &str| {
        f[i].parse::<i64>()
            .map_err(|_| format!("{name} '{}' is not a whole number", f[i]))
    };
    let kind = match f[5].as_str() {
        "" => None,
        k => Some(k.parse::<Kind>().map_err(|e| e.to_string())?),
    };
    let topic = match f[6].as_str() {
        "" => None,
        t => Some(t.parse::<Topic>().map_err(|e| e.to_string())?),
    };
    Ok(ExportRow {
        seq: int(16, "seq")?,
        station_code: &f[0],
        station_name: &f[1],
        slot_start: time(2, "slot_start")?,
        bulletin_id: &f[3],
        title: &f[4],
        kind,
        topic,
        producer: &f[7],
        planned_start: time(8, "planned_start")?,
        actual_start: opt_time(9, "actual_start")?,
        actual_end: opt_time(10, "actual_end")?,
        played_ms: int(11, "played_ms")?,
        status: AirStatus::try_from(f[12].as_str()).map_err(|e| e.to_string())?,
        reason: &f[22],
        sha256: &f[14],
        row_hash: &f[15],
        prev_hash: &f[17],
        source: &f[18],
        gain_db: match f[19].as_str() {
            "" => None,
            g => Some(
                g.parse::<f64>()
                    .map_err(|_| format!("gain_db '{g}' is not a number"))?,
            ),
        },
        who: &f[20],
        link_seq: match f[21].is_empty() {
            true => None,
            false => Some(int(21, "link_seq")?),
        },
        reason_stored: &f[22],
    })
}

/// The summary an export's own rows give: its detail rows (in file order) and the slot rows
/// of its integrity block, added as the export added them. `names` are the stations' names
/// as the summary shows them, for stations without a detail row to name them.
pub fn summary_of_rows(
    integrity: &Integrity,
    rows: &[FileRow],
    names: &[String],
) -> Result<Summary, String> {
    let period = Period::range(&integrity.from, &integrity.to).map_err(|e| e.to_string())?;
    let stations: Vec<StationScope> = integrity
        .stations
        .iter()
        .enumerate()
        .map(|(i, code)| StationScope {
            code: code.clone(),
            name: rows
                .iter()
                .find(|r| r.fields.first() == Some(code))
                .and_then(|r| r.fields.get(1).cloned())
                .or_else(|| names.get(i).cloned())
                .unwrap_or_else(|| code.clone()),
            timezone: integrity
                .timezones
                .get(code)
                .and_then(|t| t.parse().ok())
                .unwrap_or(DEFAULT_TZ),
        })
        .collect();
    let scope = Scope { period, stations };
    let mut summary = Summary::new(&scope, false);
    let chain: Vec<crate::airlog::Record> = integrity
        .chain_rows
        .iter()
        .filter_map(|j| chain_row_from_json(j))
        .filter(|r| r.level == Level::Slot.as_str() && !r.row_hash.is_empty())
        .collect();
    for (i, st) in scope.stations.iter().enumerate() {
        let mut mine: Vec<&crate::airlog::Record> =
            chain.iter().filter(|r| r.station == st.code).collect();
        mine.sort_by(|a, b| (&a.planned_start, a.seq).cmp(&(&b.planned_start, b.seq)));
        let slots = mine
            .into_iter()
            .map(|r| {
                let rec = SlotRecord {
                    seq: r.seq,
                    slot_start: r.slot_start.clone(),
                    status: r.status,
                    reason: r.reason.clone(),
                };
                SlotRow::of(&rec, st).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut slots = slots.into_iter().peekable();
        for r in rows.iter().filter(|r| r.fields.first() == Some(&st.code)) {
            let row = export_row_of(&r.fields)
                .map_err(|e| format!("detail row at line {}: {e}", r.line))?;
            summary.add_slots_before(i, row.planned_start, &mut slots);
            summary.add_row(i, &row);
        }
        for slot in slots {
            summary.add_slot(i, &slot);
        }
    }
    Ok(summary)
}

/// The stations' names as the counts table of a summary shows them, in order.
fn shown_names(grid: &Grid, lang: Lang, integrity: &Integrity) -> Vec<String> {
    let empty = Summary::default();
    let Some(counts) = tables(lang, &empty).into_iter().next() else {
        return Vec::new();
    };
    let Some(h) = grid.find(&counts) else {
        return Vec::new();
    };
    (0..integrity.stations.len())
        .map(|i| grid.text_at(h + 1 + i, 0).unwrap_or_default().to_string())
        .collect()
}

/// Recomputes an XLSX summary sheet from the file's own rows and compares it with the
/// sheet (`grid`, in `lang`, named `sheet`).
pub fn check_sheet(
    grid: &Grid,
    lang: Lang,
    sheet: &str,
    integrity: &Integrity,
    rows: &[FileRow],
) -> Result<Compared, String> {
    let names = shown_names(grid, lang, integrity);
    let summary = summary_of_rows(integrity, rows, &names)?;
    compare(
        grid,
        &tables(lang, &summary),
        Basis::FileRows,
        &sheet_place(sheet),
    )
    .map_err(|d| d.message)
}

#[cfg(test)]
mod tests {
    use super::super::rows::tests::{bulletin, record, station};
    use super::super::rows::{export_row, Library};
    use super::*;

    fn summary() -> Summary {
        let lib = Library::new(vec![
            bulletin("aaaaaaaaaaaa", Kind::News, Topic::EProcedures, "Tin"),
            bulletin("bbbbbbbbbbbb", Kind::Article, Topic::Documents, "Bài"),
        ]);
        let st = station();
        let scope = Scope {
            period: Period::year("2023").unwrap(),
            stations: vec![st.clone()],
        };
        let mut s = Summary::new(&scope, false);
        for r in [
            record(1, "aaaaaaaaaaaa", "aired", 60_000),
            record(2, "aaaaaaaaaaaa", "aired", 60_000),
            record(3, "bbbbbbbbbbbb", "partial", 30_000),
            record(4, "bbbbbbbbbbbb", "failed", 0),
        ] {
            s.add_row(0, &export_row((&r).into(), &st, &lib).unwrap());
        }
        s
    }

    /// The grid a sheet shows: the cells the XLSX writer lays out, numbers as numbers.
    fn sheet_grid(s: &Summary, lang: Lang) -> Grid {
        let period = Period::year("2023").unwrap();
        let issued = chrono::NaiveDate::from_ymd_opt(2024, 1, 5).unwrap();
        let mut g = Grid::default();
        for (r, c, cell) in super::super::xlsx::summary_cells(lang, s, &period, None, issued) {
            let v = match cell {
                super::super::xlsx::SumCell::Text(t, _) => Shown::Text(t),
                super::super::xlsx::SumCell::Int(n) => Shown::Number(n as f64),
                super::super::xlsx::SumCell::Dec(x) => Shown::Number(x),
            };
            g.set(r as usize, usize::from(c), v);
        }
        g
    }

    /// Finds the cell of a table's row and column, by the table's heading, the row's label
    /// and the column's header.
    fn cell_of(g: &Grid, t: &Table, label: &str, column: &str) -> (usize, usize) {
        let h = g.find(t).unwrap();
        let i = t
            .rows
            .iter()
            .position(|r| r[0] == Val::Text(label.into()))
            .unwrap();
        let c = t.header.iter().position(|x| x == column).unwrap();
        (h + 1 + i, c)
    }

    #[test]
    fn a_sheet_laid_out_from_the_summary_agrees_with_its_recomputation() {
        for lang in Lang::ALL {
            let s = summary();
            let g = sheet_grid(&s, lang);
            let done = compare(&g, &tables(lang, &s), Basis::Database, "the sheet").unwrap();
            assert!(done.tables >= 5 && done.cells > 20, "{done:?}");
        }
    }

    #[test]
    fn an_edited_count_is_named_by_sheet_table_row_column_and_both_values() {
        let s = summary();
        let want = tables(Lang::Vi, &s);
        let mut g = sheet_grid(&s, Lang::Vi);
        let w = words(Lang::Vi);
        let (r, c) = cell_of(&g, &want[0], w.total, w.airings);
        assert_eq!(*g.at(r, c), Shown::Number(2.0));
        g.set(r, c, Shown::Number(99.0));
        let e = compare(&g, &want, Basis::FileRows, &sheet_place("Tổng hợp"))
            .unwrap_err()
            .message;
        assert!(e.contains("the summary sheet 'Tổng hợp'"), "{e}");
        assert!(e.contains(&format!("table '{}'", want[0].heading)), "{e}");
        assert!(e.contains(&format!("row '{}'", w.total)), "{e}");
        assert!(
            e.contains("99 on file but 2 recomputed from the file's detail rows"),
            "{e}"
        );
    }

    #[test]
    fn an_added_row_and_a_removed_table_are_caught() {
        let s = summary();
        let want = tables(Lang::En, &s);
        let g = sheet_grid(&s, Lang::En);
        let h = g.find(&want[2]).unwrap();
        let mut added = g.clone();
        added.0.insert(
            h + 1 + want[2].rows.len(),
            vec![Shown::Text("Phòng khác".into()), Shown::Number(1.0)],
        );
        let e = compare(&added, &want, Basis::FileRows, "the sheet")
            .unwrap_err()
            .message;
        assert!(
            e.contains("a row was added") && e.contains("Phòng khác"),
            "{e}"
        );
        let mut gone = g.clone();
        gone.set(h, 0, Shown::Text("Producer unit".into()));
        gone.set(h - 1, 0, Shown::Empty);
        let e = compare(&gone, &want, Basis::FileRows, "the sheet")
            .unwrap_err()
            .message;
        assert!(
            e.contains(&format!("no table '{}'", want[2].heading)),
            "{e}"
        );
    }

    #[test]
    fn from_the_file_rows_compliance_is_left_to_the_signature() {
        let s = summary();
        let want = tables(Lang::Vi, &s);
        let mut g = sheet_grid(&s, Lang::Vi);
        // The compliance table has no rows without a plan: its header stands alone.
        let h = g.find(&want[3]).unwrap();
        g.set(h + 1, 0, Shown::Text("x".into()));
        g.set(h + 1, 2, Shown::Number(7.0));
        assert!(compare(&g, &want, Basis::FileRows, "the sheet").is_ok());
        assert!(compare(&g, &want, Basis::Database, "the sheet").is_err());
    }

    #[test]
    fn a_printed_page_reads_back_as_the_grid_its_tables_were_printed_from() {
        let s = summary();
        let want = tables(Lang::Vi, &s);
        let mut page = String::from("<!DOCTYPE html>\n<html lang=\"vi\">\n<body>\n");
        for t in &want {
            super::super::html::table_html(&mut page, t, words(Lang::Vi).total);
        }
        page.push_str(super::super::html::INTEGRITY_START);
        assert_eq!(page_lang(&page), Some(Lang::Vi));
        let g = page_grid(&page);
        compare(&g, &want, Basis::Database, "the printed report").unwrap();
        let edited = page.replacen("<td class=\"n\">2.5</td>", "<td class=\"n\">25.0</td>", 1);
        let e = compare(
            &page_grid(&edited),
            &want,
            Basis::Database,
            "the printed report",
        )
        .unwrap_err()
        .message;
        assert!(
            e.contains("'25.0' on file but 2.5 recomputed from the database"),
            "{e}"
        );
    }

    #[test]
    fn a_summary_of_the_file_rows_equals_the_one_made_at_export() {
        let lib = Library::new(vec![bulletin(
            "aaaaaaaaaaaa",
            Kind::News,
            Topic::EProcedures,
            "Tin",
        )]);
        let st = station();
        let recs = [
            record(1, "aaaaaaaaaaaa", "aired", 60_000),
            record(2, "aaaaaaaaaaaa", "failed", 0),
        ];
        let rows: Vec<FileRow> = recs
            .iter()
            .map(|r| {
                let row = export_row(r.into(), &st, &lib).unwrap();
                FileRow {
                    line: r.seq as u64,
                    fields: row.cells().iter().map(|c| c.text()).collect(),
                }
            })
            .collect();
        let integrity = Integrity {
            from: "2023-01-01".into(),
            to: "2023-12-31".into(),
            stations: vec![st.code.clone()],
            timezones: [(st.code.clone(), st.timezone.name().to_string())].into(),
            ..Default::default()
        };
        let got = summary_of_rows(&integrity, &rows, &[]).unwrap();
        let scope = Scope {
            period: Period::year("2023").unwrap(),
            stations: vec![st.clone()],
        };
        let mut want = Summary::new(&scope, false);
        for r in &recs {
            want.add_row(0, &export_row(r.into(), &st, &lib).unwrap());
        }
        assert_eq!(got, want);
        assert_eq!(sheet_lang("Tổng hợp"), Some(Lang::Vi));
        assert_eq!(sheet_lang("Sheet1"), None);
    }
}
