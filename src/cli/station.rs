//! `loa station enroll|revoke CODE` on the district server: a one-time token for the
//! commune machine that will play a station (`loa agent enroll`), and the end of that
//! machine's access. The token is printed once, alone on the last line of stdout; only its
//! SHA-256 is stored.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::access::password::SecretToken;
use crate::store::NewEnrolToken;

use super::Failure;

/// `loa station …`.
#[derive(Debug, Subcommand)]
pub enum StationCommand {
    /// Print a one-time token that enrols a commune machine for the station.
    Enroll {
        /// The station's code (its plan output must be "agent").
        code: String,
        /// The plan to check the station in (default: serve.plan in loa.toml).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Hours the token stays usable (1 to 168).
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
    /// End the access of the station's commune machine (and drop its unused tokens).
    Revoke {
        /// The station's code.
        code: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `loa station` command.
pub async fn run(data_dir: &Path, cmd: StationCommand) -> Result<(), Failure> {
    match cmd {
        StationCommand::Enroll { code, plan, hours } => enroll(data_dir, &code, plan, hours).await,
        StationCommand::Revoke { code, json } => {
            let (_, store) = super::library::open(data_dir).await?;
            let clock = crate::clock::SystemClock;
            let result = store
                .revoke_station(&code, crate::clock::Clock::now(&clock))
                .await;
            store.close().await;
            let revoked = result.map_err(Failure::work)?;
            if json {
                return super::output::print_json(&serde_json::json!({
                    "station": code, "nodes": revoked.nodes, "tokens": revoked.tokens,
                }));
            }
            println!(
                "đã thu hồi / revoked: {code}: {} máy / node(s), {} mã chưa dùng / unused token(s)",
                revoked.nodes, revoked.tokens
            );
            Ok(())
        }
    }
}

async fn enroll(
    data_dir: &Path,
    code: &str,
    plan: Option<PathBuf>,
    hours: u32,
) -> Result<(), Failure> {
    if !(1..=168).contains(&hours) {
        return Err(Failure::input(format!(
            "--hours {hours}: a token lasts 1 to 168 hours"
        )));
    }
    let (config, store) = super::library::open(data_dir).await?;
    let plan_path = plan.or_else(|| config.serve.plan.clone()).ok_or_else(|| {
        Failure::input(format!(
            "no plan to check station '{code}' in: give --plan PLAN.toml or set serve.plan in loa.toml"
        ))
    })?;
    let plan = super::plan::load(&plan_path)?;
    crate::agent::server::enrollable(&plan, code).map_err(Failure::input)?;
    let token = SecretToken::generate().map_err(Failure::work)?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let expires_at = now + chrono::Duration::hours(i64::from(hours));
    let result = store
        .add_enrol_token(&NewEnrolToken {
            token_hash: token.hash(),
            station: code.to_string(),
            created_by: config.operator.clone(),
            created_at: now,
            expires_at,
        })
        .await;
    store.close().await;
    result.map_err(Failure::work)?;
    eprintln!(
        "mã ghi danh một lần cho đài {code}, hết hạn {expires_at} / one-time enrolment token for station {code}, valid until {expires_at}:"
    );
    match config
        .http
        .tls
        .as_ref()
        .map(|t| crate::agent::pin::fingerprint_of_pem(&t.cert))
    {
        Some(Ok(pin)) => {
            eprintln!(
                "  loa agent enroll --server https://HOST:PORT --fingerprint {pin} --token TOKEN"
            )
        }
        Some(Err(e)) => eprintln!("loa: the server certificate's fingerprint is unknown: {e}"),
        None => eprintln!("  loa agent enroll --server URL --token TOKEN"),
    }
    println!("{}", token.reveal());
    Ok(())
}
