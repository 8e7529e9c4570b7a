//! `loa airlog export` and `loa airlog verify --export`: the flags, validated into a
//! [`crate::report::ExportSpec`], and the report module's errors mapped to exit codes.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::clock::{Clock, SystemClock};
use crate::report::{self, Format, Lang, Period, ReportError};

use super::library::open;
use super::output::{print_json, LangArg};
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
    /// A plan to judge every week by, overriding the plans kept with the schedules (each
    /// week is otherwise judged by the plan it was built by).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Language of the report's words.
    #[arg(long, value_enum, default_value = "vi")]
    lang: LangArg,
    /// Replace --out if it exists (an existing file is refused otherwise).
    #[arg(long)]
    force: bool,
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
    let over = a.plan.as_deref().map(super::plan::load).transpose()?;
    if a.out.exists() && !a.force {
        return Err(Failure::input(format!(
            "{}: the file exists; choose another --out or add --force to replace it",
            a.out.display()
        )));
    }
    let (config, store) = open(data_dir).await?;
    let key = match crate::airlog::key::DistrictKey::load_or_create(&config.signing_key) {
        Ok((k, _)) => k,
        Err(e) => {
            store.close().await;
            return Err(Failure::work(e.to_string()));
        }
    };
    let bar = super::progress::Bar::steps("xuất dòng / exporting rows");
    let result = async {
        let judges = report::judges::Judges::load(store.as_ref(), &period, over).await?;
        let plan = judges.default_plan();
        if plan.is_none() && format != Format::Csv {
            return Err(ReportError::Input(
                "no plan to judge by: none is kept in the database (build a schedule with `loa schedule build --plan PLAN`) and --plan is not given".into(),
            ));
        }
        let stored: Vec<String> = store
            .chain_heads()
            .await?
            .into_iter()
            .map(|h| h.0)
            .collect();
        let scope = report::scope(period, &a.station, plan, &stored)?;
        let spec = report::ExportSpec {
            scope,
            format,
            out: &a.out,
            judges: &judges,
            lang: Lang::from(a.lang),
            issued: SystemClock
                .now()
                .with_timezone(&plan.map_or(report::DEFAULT_TZ, |p| p.timezone))
                .date_naive(),
            key: &key,
            force: a.force,
            progress: &bar,
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
            "key_fingerprint": key.public().fingerprint(),
        }))?;
    } else {
        println!(
            "{}: {} row(s), {} station(s), {} – {}, SHA-256 {}, signed by key {}",
            a.out.display(),
            i.rows,
            i.stations.len(),
            report::date_vi(period.from),
            report::date_vi(period.to),
            i.sha256,
            key.public().fingerprint()
        );
    }
    Ok(())
}

/// How `loa airlog verify --export` and `--since` run.
#[derive(Debug, Clone, Default)]
pub struct VerifyExportArgs {
    /// The plan, to compare station names too.
    pub plan: Option<PathBuf>,
    /// Check the file alone even when the data dir has a database.
    pub no_database: bool,
    /// The district key's fingerprint the export must be signed with.
    pub key: Option<String>,
    /// Print JSON.
    pub json: bool,
}

/// The district key's public half, from the data dir's key file.
fn district_key(config: &crate::config::Config) -> Result<crate::airlog::key::PublicKey, Failure> {
    crate::airlog::key::DistrictKey::load(&config.signing_key)
        .map(|k| k.public())
        .map_err(|e| Failure::work(format!("cannot check the export's signature: {e}")))
}

/// Runs `loa airlog verify --export FILE`: with the data dir's database (complete and
/// unaltered), or without one (what the file proves by itself).
pub async fn verify_export(
    data_dir: &Path,
    file: &Path,
    a: &VerifyExportArgs,
) -> Result<(), Failure> {
    let plan = a.plan.as_deref().map(super::plan::load).transpose()?;
    let config = match crate::config::Config::load(data_dir) {
        Ok(c) if !a.no_database => Some(c),
        Ok(_) | Err(crate::config::ConfigError::NotInitialised(..)) => None,
        Err(e) => return Err(e.into()),
    };
    let result = match &config {
        Some(config) => {
            let key = district_key(config)?;
            if let Some(want) = a.key.as_deref().filter(|w| *w != key.fingerprint()) {
                return Err(Failure::input(format!(
                    "--key {want} is not the fingerprint of this data dir's district key ({})",
                    key.fingerprint()
                )));
            }
            let store = crate::store::open(&config.database).await?;
            let r = report::check::check(&store, file, plan.as_ref(), &key).await;
            store.close().await;
            r.map(|c| (c.proven, true))
        }
        None => report::check::prove_file(file, a.key.as_deref()).map(|p| (p, false)),
    };
    match result {
        Ok((p, with_db)) => {
            if a.json {
                print_json(&serde_json::json!({
                    "ok": true, "database": with_db, "complete": with_db, "unaltered": true,
                    "rows": p.rows, "chain_rows": p.chain_rows, "stations": p.stations,
                    "signed_heads": p.signed_heads, "sha256": p.sha256,
                    "key_fingerprint": p.key_fingerprint, "summary": p.summary,
                }))?;
            } else if with_db {
                println!(
                    "tệp xuất đầy đủ và nguyên vẹn / export complete and unaltered: {}: {} row(s) at {} station(s), SHA-256 {}, signed by the district key {}",
                    file.display(),
                    p.rows,
                    p.stations,
                    p.sha256,
                    p.key_fingerprint
                );
            } else {
                println!(
                    "tệp xuất nguyên vẹn (không có cơ sở dữ liệu) / export unaltered (checked without a database): {}: {} row(s) at {} station(s), {} reaching a head signed as they aired, SHA-256 {}, signed by key {}{}",
                    file.display(),
                    p.rows,
                    p.stations,
                    p.signed_heads,
                    p.sha256,
                    p.key_fingerprint,
                    if a.key.is_some() { " (the one given with --key)" } else { " (compare it with the district's)" }
                );
            }
            if !a.json {
                if let Some(line) = summary_line(p.summary) {
                    println!("{line}");
                }
            }
            Ok(())
        }
        Err(ReportError::Altered(first)) => {
            if a.json {
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

/// What the check said of an export's summary, in both languages.
fn summary_line(proof: report::proof::SummaryProof) -> Option<&'static str> {
    use report::proof::SummaryProof;
    match proof {
        SummaryProof::NoSummary => None,
        SummaryProof::SignatureOnly => Some(
            "các bảng của báo cáo chỉ được chứng minh bằng chữ ký: trang in không có dòng chi tiết để tính lại, hãy kiểm tra cùng cơ sở dữ liệu để tính lại / the report's tables are proven by the signature only: the page has no detail rows to recompute them from; check it with the database to recompute them",
        ),
        SummaryProof::FileRows => Some(
            "các số tổng hợp được tính lại từ các dòng chi tiết của tệp và khớp từng ô; bảng tuân thủ kế hoạch được chứng minh bằng chữ ký / the summary totals were recomputed from the file's detail rows and match cell by cell; the compliance table is proven by the signature",
        ),
        SummaryProof::Database => Some(
            "mọi bảng tổng hợp được tính lại từ cơ sở dữ liệu và khớp từng ô / every summary table was recomputed from the database and matches cell by cell",
        ),
    }
}

/// Runs `loa airlog verify --since OLD_EXPORT`: today's log still holds, unchanged, every
/// row the earlier export showed.
pub async fn verify_since(data_dir: &Path, old: &Path, json: bool) -> Result<(), Failure> {
    let (config, store) = open(data_dir).await?;
    let key = match district_key(&config) {
        Ok(k) => k,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    let result = report::since::check(&store, old, &key).await;
    store.close().await;
    match result {
        Ok(n) => {
            if json {
                print_json(&serde_json::json!({"ok": true, "rows": n}))?;
            } else {
                println!(
                    "nhật ký vẫn giữ nguyên mọi dòng của {} / the airlog still holds every row of {}, unchanged: {n} row(s)",
                    old.display(),
                    old.display()
                );
            }
            Ok(())
        }
        Err(ReportError::Altered(first)) => {
            if json {
                print_json(&serde_json::json!({"ok": false, "problem": first}))?;
            }
            Err(Failure::work(format!(
                "the airlog no longer matches {}: {first}",
                old.display()
            )))
        }
        Err(e) => Err(failure(e)),
    }
}
