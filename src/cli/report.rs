//! `loa airlog export` and `loa airlog verify --export`: the flags, validated into a
//! [`crate::report::ExportSpec`], and the report module's errors mapped to exit codes.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::clock::{Clock, SystemClock};
use crate::report::{self, Format, Lang, Period, ReportError};

use super::library::open;
use super::output::print_json;
use super::Failure;

/// Export formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// UTF-8 CSV with BOM.
    Csv,
    /// Excel workbook.
    Xlsx,
    /// Printable A4 page.
    Html,
}

/// Report languages on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// Tiếng Việt.
    Vi,
    /// English.
    En,
}

/// Flags of `loa airlog export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// First day, YYYY-MM-DD (station local).
    #[arg(long, required_unless_present_any = ["quarter", "year"], conflicts_with_all = ["quarter", "year"])]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (included).
    #[arg(long, required_unless_present_any = ["quarter", "year"], conflicts_with_all = ["quarter", "year"])]
    to: Option<String>,
    /// A quarter instead of --from/--to, e.g. 2023-Q1.
    #[arg(long, conflicts_with = "year")]
    quarter: Option<String>,
    /// A year instead of --from/--to, e.g. 2023.
    #[arg(long)]
    year: Option<String>,
    /// Only these stations (repeat the flag or separate codes with commas).
    #[arg(long, value_delimiter = ',')]
    station: Vec<String>,
    /// csv, xlsx or html.
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
    /// The plan: station names, time zones, compliance rules (required for xlsx and html).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Language of the report's words.
    #[arg(long, value_enum, default_value = "vi")]
    lang: LangArg,
    /// Print a JSON summary of the export.
    #[arg(long)]
    json: bool,
}

/// Maps a report error to the command's failure: bad input 2, altered exports 1.
pub fn failure(e: ReportError) -> Failure {
    match e {
        ReportError::Input(_) | ReportError::NotAnExport { .. } => Failure::input(e),
        ReportError::Store(s) => s.into(),
        other => Failure::work(other),
    }
}

/// Runs `loa airlog export`.
pub async fn export(data_dir: &Path, a: ExportArgs) -> Result<(), Failure> {
    let period = match (&a.quarter, &a.year, &a.from, &a.to) {
        (Some(q), _, _, _) => Period::quarter(q),
        (_, Some(y), _, _) => Period::year(y),
        (_, _, Some(f), Some(t)) => Period::range(f, t),
        _ => Err(ReportError::Input(
            "give --from and --to, or --quarter, or --year".into(),
        )),
    }
    .map_err(failure)?;
    let format = match a.format {
        FormatArg::Csv => Format::Csv,
        FormatArg::Xlsx => Format::Xlsx,
        FormatArg::Html => Format::Html,
    };
    let plan = match &a.plan {
        Some(p) => Some(super::plan::load(p)?),
        None if format != Format::Csv => {
            return Err(Failure::input(
                "--plan is required for xlsx and html exports (station names, time zones and the rules compliance is judged by)",
            ))
        }
        None => None,
    };
    let (_, store) = open(data_dir).await?;
    let bar = super::progress::Bar::counter("xuất / exporting");
    let result = async {
        let stored: Vec<String> = store
            .chain_heads()
            .await?
            .into_iter()
            .map(|h| h.0)
            .collect();
        let scope = report::scope(period, &a.station, plan.as_ref(), &stored)?;
        let spec = report::ExportSpec {
            scope,
            format,
            out: &a.out,
            plan: plan.as_ref(),
            lang: match a.lang {
                LangArg::Vi => Lang::Vi,
                LangArg::En => Lang::En,
            },
            issued: SystemClock
                .now()
                .with_timezone(&plan.as_ref().map_or(report::DEFAULT_TZ, |p| p.timezone))
                .date_naive(),
        };
        report::export(&store, &spec).await
    }
    .await;
    bar.done();
    store.close().await;
    let walked = result.map_err(failure)?;
    let i = &walked.integrity;
    if a.json {
        print_json(&serde_json::json!({
            "file": a.out.display().to_string(),
            "rows": i.rows,
            "stations": i.stations.len(),
            "sha256": i.sha256,
            "from": i.from,
            "to": i.to,
        }))?;
    } else {
        println!(
            "{}: {} row(s), {} station(s), {} – {}, SHA-256 {}",
            a.out.display(),
            i.rows,
            i.stations.len(),
            report::date_vi(period.from),
            report::date_vi(period.to),
            i.sha256
        );
    }
    Ok(())
}

/// Runs `loa airlog verify --export FILE`.
pub async fn verify_export(
    data_dir: &Path,
    file: &Path,
    plan: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let plan = plan.map(super::plan::load).transpose()?;
    let (_, store) = open(data_dir).await?;
    let result = report::check::check(&store, file, plan.as_ref()).await;
    store.close().await;
    match result {
        Ok(c) => {
            if json {
                print_json(
                    &serde_json::json!({"ok": true, "complete": true, "unaltered": true, "rows": c.rows, "stations": c.stations, "sha256": c.sha256}),
                )?;
            } else {
                println!(
                    "tệp xuất đầy đủ và nguyên vẹn / export complete and unaltered: {}: {} row(s) at {} station(s), SHA-256 {}",
                    file.display(),
                    c.rows,
                    c.stations,
                    c.sha256
                );
            }
            Ok(())
        }
        Err(ReportError::Altered(first)) => {
            if json {
                print_json(&serde_json::json!({"ok": false, "problem": first}))?;
            }
            Err(Failure::work(format!(
                "{}: export does not match the airlog: {first}",
                file.display()
            )))
        }
        Err(e) => Err(failure(e)),
    }
}
