//! The command line (PRODUCT.md's contract): flags parsed by clap, then validated into typed
//! arguments in each command group's file. Exit codes: 0 success, 1 the work failed, 2 bad
//! input or usage. Errors go to stderr as one sentence naming the input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agent;
mod airlog;
mod audit;
mod ctl;
mod init;
mod library;
mod library_edit;
mod output;
mod plan;
mod playout;
mod progress;
mod report;
mod schedule;
mod schedule_print;
mod serve;
mod station;
mod user;

pub use output::Failure;

/// loa — phát thanh tuyên truyền cải cách hành chính / CCHC bulletin playout and airlog.
#[derive(Debug, Parser)]
#[command(name = "loa", version, about)]
pub struct Cli {
    /// Data directory (config, database, audio store).
    #[arg(
        long,
        global = true,
        env = "LOA_DATA_DIR",
        default_value = "./loa-data"
    )]
    pub data_dir: PathBuf,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
// Parsed once per process; boxing the larger variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data dir, its config and database.
    Init(init::InitArgs),
    /// The bulletin library: check, add, import, list, show, edit, approve, retire, remove.
    #[command(subcommand)]
    Library(library::LibraryCommand),
    /// The year's plan: check a plan file, list the kept plan versions.
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    /// Weekly playlists: build, show, pin, unpin, lock, unlock.
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Playout: play a date range (simulated or real time) and write the airlog.
    #[command(subcommand)]
    Playout(playout::PlayoutCommand),
    /// The daemon: play every station on time, serve the control API.
    Serve(serve::ServeArgs),
    /// Control a running daemon: status, play, skip, stop, urgent.
    #[command(subcommand)]
    Ctl(ctl::CtlCommand),
    /// The airtime log: export it for reports, verify its integrity or an export's.
    #[command(subcommand)]
    Airlog(airlog::AirlogCommand),
    /// Console accounts: add, list, passwd, disable, token.
    #[command(subcommand)]
    User(user::UserCommand),
    /// The record of operator actions: list it, verify its hash chain.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Commune machines of the district's stations: enroll (a one-time token), revoke.
    #[command(subcommand)]
    Station(station::StationCommand),
    /// This commune machine: enroll with the district server, sync, status.
    #[command(subcommand)]
    Agent(agent::AgentCommand),
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loa: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(dispatch(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Init(args) => init::run(&cli.data_dir, args).await,
        Command::Library(cmd) => library::run(&cli.data_dir, cmd).await,
        Command::Plan(cmd) => plan::run(&cli.data_dir, cmd).await,
        Command::Schedule(cmd) => schedule::run(&cli.data_dir, cmd).await,
        Command::Airlog(cmd) => airlog::run(&cli.data_dir, cmd).await,
        Command::User(cmd) => user::run(&cli.data_dir, cmd).await,
        Command::Audit(cmd) => audit::run(&cli.data_dir, cmd).await,
        Command::Playout(cmd) => playout::run(&cli.data_dir, cmd).await,
        Command::Serve(args) => serve::run(&cli.data_dir, args).await,
        Command::Station(cmd) => station::run(&cli.data_dir, cmd).await,
        Command::Agent(cmd) => agent::run(&cli.data_dir, cmd).await,
        Command::Ctl(cmd) => {
            let dir = cli.data_dir.clone();
            tokio::task::spawn_blocking(move || ctl::run(&dir, cmd))
                .await
                .map_err(|e| Failure::work(format!("ctl failed: {e}")))?
        }
    }
}

/// Logs go to stderr, filtered by `LOA_LOG` ([`log_filter`]), with colour codes only when
/// stderr is a terminal (and `NO_COLOR` is not set): a log file or the journal gets plain
/// text.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(
        std::env::var("LOA_LOG").ok().as_deref(),
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The log filter when `LOA_LOG` is not set: `info` for loa, `warn` for the rest.
const DEFAULT_LOG: &str = "warn,loa=info,symphonia=error";

/// The decoders' own log lines (symphonia's Ogg reader logs two INFO lines per file it
/// opens; its warnings about skipped atoms and junk bytes are noise beside ingest's own
/// one-line refusals) stay at `error` unless `LOA_LOG` names them: `LOA_LOG=info` (as
/// scripts/demo sets) means loa's INFO lines, not the decoder's.
const QUIET_DECODERS: &str = "symphonia=error";

/// The filter directives for a `LOA_LOG` value (or none).
pub fn log_filter(loa_log: Option<&str>) -> String {
    match loa_log.map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_LOG.to_string(),
        Some(asked) if asked.contains("symphonia") => asked.to_string(),
        Some(asked) => format!("{asked},{QUIET_DECODERS}"),
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn the_decoders_stay_quiet_unless_loa_log_names_them() {
        assert_eq!(log_filter(None), "warn,loa=info,symphonia=error");
        assert_eq!(log_filter(Some(" ")), "warn,loa=info,symphonia=error");
        assert_eq!(log_filter(Some("info")), "info,symphonia=error");
        assert_eq!(
            log_filter(Some("info,symphonia_format_ogg=debug")),
            "info,symphonia_format_ogg=debug"
        );
    }
}
