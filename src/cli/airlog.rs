//! `loa airlog verify`: checks every station's hash chain; exit 1 naming the first bad row.
//! `loa airlog verify --export FILE` checks an export against the database instead, and
//! `loa airlog export` writes one (both in [`super::report`]).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::airlog::key::DistrictKey;
use crate::airlog::verify::{verify_watched, VerifyError};

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
        /// With --export: check the file alone, even where a database is at hand.
        #[arg(long, requires = "export")]
        no_database: bool,
        /// With --export: the district key's fingerprint the export must carry.
        #[arg(long, requires = "export")]
        key: Option<String>,
        /// Check that the airlog still holds, unchanged, every row of this earlier export.
        #[arg(long, conflicts_with = "export")]
        since: Option<PathBuf>,
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
            no_database,
            key,
            json,
            ..
        } => {
            let args = super::report::VerifyExportArgs {
                plan,
                no_database,
                key,
                json,
            };
            return super::report::verify_export(data_dir, &file, &args).await;
        }
        AirlogCommand::Verify {
            since: Some(old),
            json,
            ..
        } => return super::report::verify_since(data_dir, &old, json).await,
        AirlogCommand::Verify { json, .. } => json,
    };
    let (config, store) = open(data_dir).await?;
    let key = DistrictKey::load(&config.signing_key)
        .map(|k| k.public())
        .map_err(|e| e.to_string());
    let fingerprint = key.as_ref().ok().map(|k| k.fingerprint());
    let bar = super::progress::Bar::steps("kiểm tra đài / verifying stations");
    let result = verify_watched(store.as_ref(), key, &bar).await;
    bar.done();
    store.close().await;
    match result {
        Ok(v) => {
            let signed: usize = v.signed_heads.values().sum();
            if json {
                print_json(&serde_json::json!({
                    "ok": true, "stations": v.stations, "open": v.open,
                    "signed_heads": v.signed_heads, "key_fingerprint": fingerprint,
                }))?;
            } else {
                let rows: usize = v.stations.values().sum();
                println!(
                    "nhật ký phát sóng nguyên vẹn / airlog intact: {rows} row(s) at {} station(s){}, {signed} signed head(s){}",
                    v.stations.len(),
                    if v.open > 0 { format!(", {} open", v.open) } else { String::new() },
                    fingerprint.map(|f| format!(", key {f}")).unwrap_or_default()
                );
            }
            Ok(())
        }
        Err(VerifyError::Store(e)) => Err(e.into()),
        Err(e) => {
            if json {
                let (station, seq) = e.station_seq().unzip();
                print_json(
                    &serde_json::json!({"ok": false, "station": station, "seq": seq, "problem": e.to_string()}),
                )?;
            }
            Err(Failure::work(format!("airlog altered: {e}")))
        }
    }
}
