//! `loa plan check PLAN.toml [--json]`: every problem of a plan file, with file, line and
//! column; exit 2 when there is any.

use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;

use crate::plan::{check_file, check_file_with_notes, Level, Plan};

use super::output::print_json;
use super::Failure;

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
pub fn run(cmd: PlanCommand) -> Result<(), Failure> {
    let PlanCommand::Check { plan, json } = cmd;
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
