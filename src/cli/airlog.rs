//! `loa airlog verify`: checks every station's hash chain; exit 1 naming the first bad row.
//! `loa airlog verify --export FILE` checks an export against the database instead, and
//! `loa airlog export` writes one (both in [`super::report`]).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::airlog::verify::{verify, VerifyError};

use super::library::open;
use super::output::print_json;
use super::Failure;

/// `loa airlog` subcommands.
#[derive(Debug, Subcommand)]
pub enum AirlogCommand {
    /// Check that no airlog row was edited, deleted or inserted.
    Verify {
        /// Check this CSV or XLSX export against the database instead of the chains.
        #[arg(long)]
        export: Option<PathBuf>,
        /// The plan, to compare station names too (with --export).
        #[arg(long, requires = "export")]
        plan: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export the airlog of a period as CSV, XLSX or a printable HTML report.
    Export(super::report::ExportArgs),
}

/// Runs a `loa airlog` command.
pub async fn run(data_dir: &Path, cmd: AirlogCommand) -> Result<(), Failure> {
    let json = match cmd {
        AirlogCommand::Export(args) => return super::report::export(data_dir, args).await,
        AirlogCommand::Verify {
            export: Some(file),
            plan,
            json,
        } => return super::report::verify_export(data_dir, &file, plan.as_deref(), json).await,
        AirlogCommand::Verify { json, .. } => json,
    };
    let (_, store) = open(data_dir).await?;
    let bar = super::progress::Bar::counter("kiểm tra / verifying");
    let result = verify(store.as_ref()).await;
    bar.done();
    store.close().await;
    match result {
        Ok(v) => {
            if json {
                print_json(
                    &serde_json::json!({"ok": true, "stations": v.stations, "open": v.open}),
                )?;
            } else {
                let rows: usize = v.stations.values().sum();
                println!(
                    "nhật ký phát sóng nguyên vẹn / airlog intact: {rows} row(s) at {} station(s){}",
                    v.stations.len(),
                    if v.open > 0 { format!(", {} open", v.open) } else { String::new() }
                );
            }
            Ok(())
        }
        Err(VerifyError::Tampered(bad)) => {
            if json {
                print_json(
                    &serde_json::json!({"ok": false, "station": bad.station, "seq": bad.seq, "problem": bad.what}),
                )?;
            }
            Err(Failure::work(format!("airlog altered: {bad}")))
        }
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}
