//! `loa plan check PLAN.toml [--json]`: every problem of a plan file, with file, line and
//! column; exit 2 when there is any. `loa plan history [--json]`: the plan versions kept
//! with the schedules built by them.

use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;

use crate::plan::{check_file, check_file_with_notes, Level, Plan};

use super::output::{print_json, LangArg};
use super::Failure;
use crate::lang::Lang;

/// `loa plan` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Validate a plan file and report every problem.
    Check {
        /// The plan (schedules/*.toml).
        plan: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the plan versions kept with the schedules built by them.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Language of the table: vi (default) or en.
        #[arg(long, value_enum, default_value_t)]
        lang: LangArg,
    },
}

#[derive(Serialize)]
struct CheckOutput<'a> {
    file: String,
    ok: bool,
    problems: &'a [crate::plan::PlanProblem],
    /// What loa does about slot times summer time skips or repeats.
    notes: &'a [crate::plan::PlanProblem],
    name: Option<&'a str>,
    year: Option<i32>,
    stations: usize,
    slots: usize,
    rules: usize,
}

/// Loads and validates a plan for another command; problems become one failure (exit 2).
pub fn load(path: &std::path::Path) -> Result<Plan, Failure> {
    check_file(path).map_err(|report| Failure {
        code: 2,
        lines: report.to_string().lines().map(str::to_string).collect(),
    })
}

/// Runs a `loa plan` command.
pub async fn run(data_dir: &std::path::Path, cmd: PlanCommand) -> Result<(), Failure> {
    match cmd {
        PlanCommand::Check { plan, json } => check(plan, json),
        PlanCommand::History { json, lang } => history(data_dir, json, lang.into()).await,
    }
}

/// `loa plan history`: every kept plan version, oldest first.
async fn history(data_dir: &std::path::Path, json: bool, lang: Lang) -> Result<(), Failure> {
    let (_, store) = super::library::open(data_dir).await?;
    let kept = store.plan_history().await;
    store.close().await;
    let kept = kept?;
    if json {
        return print_json(&kept);
    }
    if kept.is_empty() {
        println!(
            "{}",
            match lang {
                Lang::Vi =>
                    "Chưa lưu Kế hoạch nào: mỗi lần `loa schedule build` lưu Kế hoạch đã dùng.",
                Lang::En => "No plan kept yet: each `loa schedule build` keeps the plan it used.",
            }
        );
        return Ok(());
    }
    println!(
        "{}",
        match lang {
            Lang::Vi => "phiên bản  SHA-256       tuần đầu   tuần cuối  lưu lúc (UTC)         tên",
            Lang::En => "  version  SHA-256       first week last week  kept at (UTC)         name",
        }
    );
    for v in &kept {
        println!(
            "{:>9}  {}  {:<9}  {:<9}  {}  {}",
            v.version,
            &v.sha256[..12.min(v.sha256.len())],
            v.first_week.as_deref().unwrap_or("-"),
            v.last_week.as_deref().unwrap_or("-"),
            v.stored_at.format("%d/%m/%Y %H:%M:%S"),
            v.name
        );
    }
    Ok(())
}

/// `loa plan check`.
fn check(plan: PathBuf, json: bool) -> Result<(), Failure> {
    let result = check_file_with_notes(&plan);
    let file = plan.display().to_string();
    match &result {
        Ok((p, notes)) => {
            if json {
                print_json(&CheckOutput {
                    file,
                    ok: true,
                    problems: &[],
                    notes,
                    name: Some(&p.name),
                    year: Some(p.year),
                    stations: p.stations.len(),
                    slots: p.slots.len(),
                    rules: p.rules.len(),
                })?;
            } else {
                let communes = p
                    .stations
                    .iter()
                    .filter(|s| s.level == Level::Commune)
                    .count();
                println!(
                    "{file}: hợp lệ / valid — {} ({}): {} station(s) ({} commune), {} slot(s), {} rule(s), {} campaign(s), {} blackout(s)",
                    p.name,
                    p.year,
                    p.stations.len(),
                    communes,
                    p.slots.len(),
                    p.rules.len(),
                    p.campaigns.len(),
                    p.blackouts.len()
                );
                for n in notes {
                    println!(
                        "{file}:{}:{}: lưu ý / note: {}",
                        n.line, n.column, n.message
                    );
                }
            }
            Ok(())
        }
        Err(report) => {
            if json {
                print_json(&CheckOutput {
                    file,
                    ok: false,
                    problems: &report.problems,
                    notes: &[],
                    name: None,
                    year: None,
                    stations: 0,
                    slots: 0,
                    rules: 0,
                })?;
            }
            let mut lines: Vec<String> = report.to_string().lines().map(str::to_string).collect();
            lines.push(format!(
                "{} problem(s) in {}",
                report.problems.len(),
                report.file
            ));
            Err(Failure { code: 2, lines })
        }
    }
}
