//! `loa audit`: read the record of operator actions (`list`) and check that no entry was
//! edited, deleted or inserted (`verify`; exit 1 naming the first bad entry, as `loa airlog
//! verify` does).

use std::path::Path;

use chrono::{NaiveDate, TimeZone};
use clap::Subcommand;

use crate::access::audit::{verify, AuditRecord};
use crate::access::Action;

use super::output::print_json;
use super::Failure;

/// `loa audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no audit entry was edited, deleted or inserted.
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the audit entries, oldest first.
    List {
        /// Only entries from this day on (YYYY-MM-DD, in the configured time zone).
        #[arg(long)]
        since: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `loa audit` command.
pub async fn run(data_dir: &Path, cmd: AuditCommand) -> Result<(), Failure> {
    match cmd {
        AuditCommand::Verify { json } => {
            let (_, store) = super::library::open(data_dir).await?;
            let read = async {
                Ok::<_, crate::store::StoreError>((
                    store.audit_entries(None).await?,
                    store.audit_head().await?,
                ))
            }
            .await;
            store.close().await;
            let (entries, head) = read?;
            match verify(&entries, (head.0, &head.1)) {
                Ok(()) => {
                    if json {
                        print_json(&serde_json::json!({"ok": true, "entries": entries.len()}))
                    } else {
                        println!(
                            "nhật ký thao tác nguyên vẹn / audit intact: {} entr{}",
                            entries.len(),
                            if entries.len() == 1 { "y" } else { "ies" }
                        );
                        Ok(())
                    }
                }
                Err(broken) => {
                    if json {
                        print_json(&serde_json::json!({
                            "ok": false, "seq": broken.seq(), "problem": broken.to_string(),
                        }))?;
                    }
                    Err(Failure::work(format!("audit altered: {broken}")))
                }
            }
        }
        AuditCommand::List { since, json } => {
            let since_day = since
                .as_deref()
                .map(|s| {
                    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                        Failure::input(format!("--since '{s}' is not a date (expected YYYY-MM-DD)"))
                    })
                })
                .transpose()?;
            let (config, store) = super::library::open(data_dir).await?;
            let tz = config.timezone;
            let from = since_day.and_then(|d| {
                tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
                    .earliest()
                    .map(|t| t.to_utc())
            });
            let result = store.audit_entries(from).await;
            store.close().await;
            let entries = result?;
            if json {
                return print_json(&entries);
            }
            for e in &entries {
                println!("{}", line(e, tz));
            }
            Ok(())
        }
    }
}

/// One entry as a line: seq, local time, who (role), what, to what, where, from where.
fn line(e: &AuditRecord, tz: chrono_tz::Tz) -> String {
    let when = chrono::DateTime::parse_from_rfc3339(&e.at)
        .map(|t| t.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string())
        .unwrap_or_else(|_| e.at.clone());
    let action = match Action::try_from(e.action.as_str()) {
        Ok(a) => format!("{} / {a}", a.label_vi()),
        Err(_) => e.action.clone(),
    };
    let role = e.role.as_deref().unwrap_or("dòng lệnh / cli");
    let mut out = format!("{:>6}  {when}  {} ({role})  {action}", e.seq, e.actor);
    if !e.target.is_empty() {
        out.push_str(&format!("  «{}»", e.target));
    }
    if let Some(s) = &e.station {
        out.push_str(&format!("  đài / station {s}"));
    }
    if let Some(a) = &e.address {
        out.push_str(&format!("  từ / from {a}"));
    }
    out
}
