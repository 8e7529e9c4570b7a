//! Reports for Phòng Nội vụ: the airlog of a period exported as CSV, XLSX or a printable
//! HTML page, each carrying an integrity block, and the check of an export against the
//! database (`loa airlog verify --export`).
//!
//! - [`rows`]: an airlog [`Record`](crate::airlog::Record) + the library + the station →
//!   one export row with station-local times (pure).
//! - [`summary`]: counts by station, kind, topic and producer, minutes, incidents, and the
//!   plan's compliance from [`crate::schedule::compliance::evaluate`] (pure).
//! - [`integrity`]: the range, row count, chain heads and the SHA-256 over the exported
//!   rows (pure).
//! - [`judges`]: which kept plan version judges which week (or the `--plan` override).
//! - [`walk`]: pages through the store station by station, feeding a sink, the summary
//!   and the integrity block (the I/O edge; constant memory for any range).
//! - [`pages`]: the store's pages for a walk, fetched by a task ahead of the writing.
//! - [`tables`]: the summary as titled tables in a language (pure), for XLSX and HTML.
//! - [`labels`]: the words of the reports in Vietnamese and English.
//! - [`csv`], [`xlsx`], [`html`]: the three formats; [`xlsx_read`] reads XLSX back;
//!   [`xlsx_print`]: how the XLSX prints.
//! - [`safe`]: what a cell may show (no control character, no formula), reversibly.
//! - [`proof`]: what an export proves without the database (signature, row hashes,
//!   digest, links, signed heads).
//! - [`recount`]: the summary's tables recomputed from an export's rows (or the database's)
//!   and compared with its sheet or page, cell by cell.
//! - [`since`]: `verify --since`: an earlier export anchors the history.
//! - [`check`]: reads an export back, checks its proof, and compares it with the
//!   database when there is one.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

pub mod check;
pub mod csv;
pub mod html;
pub mod integrity;
pub mod judges;
pub mod labels;
pub mod pages;
pub mod proof;
pub mod recount;
pub mod rows;
pub mod safe;
pub mod since;
pub mod summary;
pub mod tables;
pub mod walk;
pub mod xlsx;
pub mod xlsx_print;
pub mod xlsx_read;

/// Why an export or its check could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The operator asked for something that cannot be (exit 2).
    #[error("{0}")]
    Input(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The XLSX writer failed.
    #[error("cannot write the workbook {path}: {reason}")]
    Xlsx {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// A stored airlog row could not be read (hand-edited instants).
    #[error("airlog row {seq}: {reason}")]
    BadRow {
        /// The row.
        seq: i64,
        /// What is wrong.
        reason: String,
    },
    /// An export differs from the database (exit 1): the first difference.
    #[error("{0}")]
    Altered(String),
    /// The export file is not one loa wrote, or lost its integrity block.
    #[error("{path} is not a loa airlog export: {reason}")]
    NotAnExport {
        /// The file.
        path: String,
        /// Why not.
        reason: String,
    },
    /// The task reading the airlog ahead of the writer ended before the last page.
    #[error("the airlog reader stopped before the end of the export")]
    ReaderStopped,
}

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> ReportError {
        ReportError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// The three export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Format {
    /// UTF-8 CSV with a BOM, RFC 4180.
    Csv,
    /// An Excel workbook: summary, detail, integrity.
    Xlsx,
    /// A printable A4 page.
    Html,
}

/// The language of a report's words (column codes and data stay as they are).
pub use crate::lang::Lang;

/// How a period was named, for the report's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodName {
    /// A quarter of a year.
    Quarter(i32, u32),
    /// A whole year.
    Year(i32),
    /// Any range of days.
    Range,
}

/// A period of days, both ends included, in each station's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
    /// How it was asked for.
    pub name: PeriodName,
}

fn bad(msg: String) -> ReportError {
    ReportError::Input(msg)
}

impl Period {
    /// `--from` and `--to` (`YYYY-MM-DD`, `to` not before `from`).
    pub fn range(from: &str, to: &str) -> Result<Period, ReportError> {
        let day = |flag: &str, s: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                bad(format!(
                    "{flag} '{s}' is not a date (expected YYYY-MM-DD, e.g. 2023-01-01)"
                ))
            })
        };
        let (from, to) = (day("--from", from)?, day("--to", to)?);
        if to < from {
            return Err(bad(format!(
                "--to {to} is before --from {from}; the period would be empty"
            )));
        }
        Ok(Period {
            from,
            to,
            name: PeriodName::Range,
        })
    }

    /// `--quarter 2023-Q1`.
    pub fn quarter(s: &str) -> Result<Period, ReportError> {
        let err = || {
            bad(format!(
                "--quarter '{s}' is not a quarter (expected YYYY-Qn, e.g. 2023-Q1)"
            ))
        };
        let (y, q) = s.trim().split_once("-Q").ok_or_else(err)?;
        let year: i32 = y.parse().map_err(|_| err())?;
        let q: u32 = q.parse().map_err(|_| err())?;
        if !(1..=4).contains(&q) || !(1000..=9999).contains(&year) {
            return Err(err());
        }
        let from = NaiveDate::from_ymd_opt(year, 3 * q - 2, 1).ok_or_else(err)?;
        let next = if q == 4 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, 3 * q + 1, 1)
        }
        .ok_or_else(err)?;
        Ok(Period {
            from,
            to: next.pred_opt().ok_or_else(err)?,
            name: PeriodName::Quarter(year, q),
        })
    }

    /// `--year 2023`.
    pub fn year(s: &str) -> Result<Period, ReportError> {
        let err = || {
            bad(format!(
                "--year '{s}' is not a year (expected YYYY, e.g. 2023)"
            ))
        };
        let year: i32 = s.trim().parse().map_err(|_| err())?;
        if !(1000..=9999).contains(&year) {
            return Err(err());
        }
        Ok(Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(err)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(err)?,
            name: PeriodName::Year(year),
        })
    }

    /// `[from 00:00, the day after to 00:00)` in `tz`, as UTC instants.
    pub fn bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            local_midnight(tz, self.from),
            local_midnight(tz, self.to + chrono::Duration::days(1)),
        )
    }
}

/// The first instant of a local day (the earliest, where a zone skips or repeats midnight).
pub fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight).earliest().map_or_else(
        || Utc.from_utc_datetime(&midnight),
        |t| t.with_timezone(&Utc),
    )
}

/// A date as people read it: `dd/mm/yyyy`.
pub fn date_vi(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Roman numerals for quarters, as Vietnamese administrative titles write them.
pub fn roman(q: u32) -> &'static str {
    ["I", "II", "III", "IV"][(q.clamp(1, 4) - 1) as usize]
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", date_vi(self.from), date_vi(self.to))
    }
}

/// One station in an export: its code, the name people read, and its time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct StationScope {
    /// Station code.
    pub code: String,
    /// The plan's name for it (the code when there is no plan).
    pub name: String,
    /// Its local time zone (times are shown in it).
    pub timezone: Tz,
}

/// What an export covers: the period and the stations, in export order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// The period.
    pub period: Period,
    /// The stations.
    pub stations: Vec<StationScope>,
}

/// The time zone used when no plan names one (Việt Nam, UTC+07:00).
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// The stations of an export: those asked for (checked against the plan, or against the
/// store's chains when there is no plan), else every station of the plan, then any other
/// station the store has rows for.
pub fn scope(
    period: Period,
    asked: &[String],
    plan: Option<&crate::plan::Plan>,
    stored: &[String],
) -> Result<Scope, ReportError> {
    let of = |code: &str| match plan.and_then(|p| p.station(code)) {
        Some(s) => StationScope {
            code: s.code.clone(),
            name: s.name.clone(),
            timezone: s.timezone,
        },
        None => StationScope {
            code: code.to_string(),
            name: code.to_string(),
            timezone: plan.map_or(DEFAULT_TZ, |p| p.timezone),
        },
    };
    let mut stations: Vec<StationScope> = Vec::new();
    if asked.is_empty() {
        if let Some(p) = plan {
            stations.extend(p.stations.iter().map(|s| of(&s.code)));
        }
        for code in stored {
            if !stations.iter().any(|s| &s.code == code) {
                stations.push(of(code));
            }
        }
    } else {
        for code in asked {
            let known = match plan {
                Some(p) => p.station(code).is_some() || stored.contains(code),
                None => stored.contains(code),
            };
            if !known {
                return Err(bad(format!(
                    "--station '{code}' is not a station of the plan and has no airlog rows"
                )));
            }
            if !stations.iter().any(|s| &s.code == code) {
                stations.push(of(code));
            }
        }
    }
    Ok(Scope { period, stations })
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportSpec<'a> {
    /// The period and stations.
    pub scope: Scope,
    /// The format.
    pub format: Format,
    /// The file to write.
    pub out: &'a std::path::Path,
    /// The plans: names, time zones, and the rules each week is judged by.
    pub judges: &'a judges::Judges,
    /// The language of the words.
    pub lang: Lang,
    /// The date the report is signed (the header's place and date).
    pub issued: NaiveDate,
    /// The district key that signs the integrity block.
    pub key: &'a crate::airlog::key::DistrictKey,
    /// Replace `out` if it exists (otherwise an existing file is refused).
    pub force: bool,
    /// Who watches the rows go by (a bar on a terminal).
    pub progress: &'a dyn crate::progress::Progress,
}

/// Writes an export; returns its walk (summary and integrity). The file is written beside
/// `out` under a temporary name, synced, and renamed into place, so a reader never sees half
/// an export and an interrupted one leaves no file at `out`; an existing `out` is refused
/// unless `force`.
pub async fn export(
    store: &std::sync::Arc<dyn crate::store::Store>,
    spec: &ExportSpec<'_>,
) -> Result<walk::Walked, ReportError> {
    if spec.out.exists() && !spec.force {
        return Err(ReportError::Input(format!(
            "{}: the file exists; choose another --out or add --force to replace it",
            spec.out.display()
        )));
    }
    let tmp = temp_beside(spec.out);
    let result = write_to(store, spec, &tmp).await;
    let done = result.and_then(|walked| {
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&tmp, spec.out))
            .map_err(|e| ReportError::io(spec.out, e))?;
        Ok(walked)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// A temporary name in the same folder as `out` (so the rename stays on one file system).
fn temp_beside(out: &std::path::Path) -> std::path::PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned());
    let ext = out.extension().map(|e| e.to_string_lossy().into_owned());
    let tmp = format!(
        ".{}.{}.tmp.{}",
        name.unwrap_or_default(),
        std::process::id(),
        // Keep the extension last: the XLSX writer insists on it.
        ext.unwrap_or_default()
    );
    out.with_file_name(tmp)
}

async fn write_to(
    store: &std::sync::Arc<dyn crate::store::Store>,
    spec: &ExportSpec<'_>,
    path: &std::path::Path,
) -> Result<walk::Walked, ReportError> {
    let library = rows::Library::new(store.list_bulletins(&Default::default()).await?);
    let plan_name = spec.judges.default_plan().map(|p| p.name.as_str());
    let period = spec.scope.period;
    match spec.format {
        Format::Csv => {
            let mut w = csv::CsvWriter::create(path, spec.lang)?;
            let mut walked = walk::walk(
                store,
                &spec.scope,
                &library,
                spec.judges,
                false,
                &mut w,
                spec.progress,
            )
            .await?;
            walked.integrity.sign(spec.key);
            w.finish(&walked.integrity)?;
            Ok(walked)
        }
        Format::Xlsx => {
            let mut w = xlsx::XlsxWriter::create(path, spec.lang)?;
            let mut walked = walk::walk(
                store,
                &spec.scope,
                &library,
                spec.judges,
                true,
                &mut w,
                spec.progress,
            )
            .await?;
            w.finish(&mut walked, &period, plan_name, spec.issued, spec.key)?;
            Ok(walked)
        }
        Format::Html => {
            let mut walked = walk::walk(
                store,
                &spec.scope,
                &library,
                spec.judges,
                true,
                &mut html::NoRows,
                spec.progress,
            )
            .await?;
            let page = html::render(
                spec.lang,
                &mut walked,
                &period,
                plan_name,
                spec.issued,
                spec.key,
            );
            std::fs::write(path, page).map_err(|e| ReportError::io(path, e))?;
            Ok(walked)
        }
    }
}

/// The quarter (1–4) of a date.
pub fn quarter_of(d: NaiveDate) -> u32 {
    (d.month() - 1) / 3 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_quarter_covers_its_three_months() {
        let q = Period::quarter("2023-Q1").unwrap();
        assert_eq!((q.from, q.to), (d("2023-01-01"), d("2023-03-31")));
        let q = Period::quarter("2023-Q4").unwrap();
        assert_eq!((q.from, q.to), (d("2023-10-01"), d("2023-12-31")));
        assert!(Period::quarter("2023-Q5").is_err());
        assert!(Period::quarter("2023Q1").is_err());
    }

    #[test]
    fn a_range_ending_before_it_starts_is_refused_naming_both_dates() {
        let e = Period::range("2023-03-02", "2023-03-01").unwrap_err();
        assert!(e.to_string().contains("2023-03-01"), "{e}");
        assert!(Period::range("01/03/2023", "2023-03-01")
            .unwrap_err()
            .to_string()
            .contains("--from '01/03/2023'"));
    }

    #[test]
    fn period_bounds_are_local_midnights() {
        let p = Period::range("2023-03-13", "2023-03-13").unwrap();
        let (a, b) = p.bounds(DEFAULT_TZ);
        assert_eq!(a.to_rfc3339(), "2023-03-12T17:00:00+00:00");
        assert_eq!(b.to_rfc3339(), "2023-03-13T17:00:00+00:00");
    }

    #[test]
    fn an_unknown_station_is_refused_without_a_plan() {
        let p = Period::year("2023").unwrap();
        let e = scope(p, &["vinh-x".into()], None, &["vinh-an".into()]).unwrap_err();
        assert!(e.to_string().contains("'vinh-x'"));
        let s = scope(p, &[], None, &["vinh-an".into()]).unwrap();
        assert_eq!(s.stations[0].name, "vinh-an");
        assert_eq!(s.stations[0].timezone, DEFAULT_TZ);
    }
}
