//! `loa schedule build|show|pin|unpin|lock|unlock`: weekly playlists and their compliance
//! forecast, kept in the store.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::clock::{Clock, SystemClock};
use crate::lang::Lang;
use crate::library::StateChange;
use crate::schedule::service::{self, Edit, ScheduleError};
use crate::schedule::{IsoWeek, WeekSchedule};
use crate::store::Store;

use super::library::open;
use super::output::{print_json, LangArg};
use super::schedule_print::{print_station, print_week, station_json, week_json};
use super::Failure;

/// `loa schedule` subcommands.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Build (or rebuild) a week's playlists and keep them.
    Build {
        /// The plan.
        #[arg(long)]
        plan: PathBuf,
        /// ISO week, e.g. 2023-W10.
        #[arg(long)]
        week: String,
        /// Only this station.
        #[arg(long)]
        station: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Build and print, keep nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rebuild even a locked week.
        #[arg(long)]
        force: bool,
        /// Language of the table and of the reasons.
        #[arg(long, value_enum, default_value = "vi")]
        lang: LangArg,
    },
    /// Show a kept week.
    Show {
        /// ISO week.
        #[arg(long)]
        week: String,
        /// Only this station.
        #[arg(long)]
        station: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Language of the table and of the reasons.
        #[arg(long, value_enum, default_value = "vi")]
        lang: LangArg,
    },
    /// Put a bulletin into a slot instance (kept on rebuilds).
    Pin(EditArgs),
    /// Take a bulletin out of a slot instance (kept out on rebuilds).
    Unpin(EditArgs),
    /// Freeze a week: rebuilds and edits are refused unless forced.
    Lock(LockArgs),
    /// Unfreeze a week.
    Unlock(LockArgs),
}

/// Which slot instance and bulletin an edit concerns.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The plan the week was built from.
    #[arg(long)]
    plan: PathBuf,
    /// ISO week.
    #[arg(long)]
    week: String,
    /// Station code.
    #[arg(long)]
    station: String,
    /// Slot start: local "YYYY-MM-DD HH:MM" (as `schedule show` prints it) or RFC 3339.
    #[arg(long)]
    slot: String,
    /// Bulletin id.
    #[arg(long)]
    bulletin: String,
    /// Edit even a locked week.
    #[arg(long)]
    force: bool,
    /// Print the edited week as JSON.
    #[arg(long)]
    json: bool,
    /// Language of the table and of the reasons.
    #[arg(long, value_enum, default_value = "vi")]
    lang: LangArg,
}

/// Which week and stations to lock or unlock.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// ISO week.
    #[arg(long)]
    week: String,
    /// Station codes (default: every station with a kept schedule that week).
    #[arg(long, value_delimiter = ',')]
    station: Vec<String>,
}

fn parse_week(s: &str) -> Result<IsoWeek, Failure> {
    s.parse::<IsoWeek>().map_err(Failure::input)
}

impl From<ScheduleError> for Failure {
    fn from(e: ScheduleError) -> Failure {
        match e {
            ScheduleError::Refused(m) => Failure::input(m.to_string()),
            ScheduleError::Store(e) => e.into(),
        }
    }
}

/// Runs a `loa schedule` command.
pub async fn run(data_dir: &Path, cmd: ScheduleCommand) -> Result<(), Failure> {
    match cmd {
        ScheduleCommand::Build {
            plan,
            week,
            station,
            json,
            dry_run,
            force,
            lang,
        } => {
            let lang: Lang = lang.into();
            let week = parse_week(&week)?;
            let plan = super::plan::load(&plan)?;
            let (config, store) = open(data_dir).await?;
            let by = StateChange {
                by: config.operator.clone(),
                at: SystemClock.now(),
            };
            let result = service::build_week(
                store.as_ref(),
                &plan,
                week,
                station.as_deref(),
                force,
                dry_run,
                &by,
            )
            .await;
            store.close().await;
            let built = result?;
            if json {
                print_json(&week_json(&built.schedule, built.plan_version, lang))
            } else {
                print_week(&built.schedule, built.plan_version, lang);
                let n = built.versions.len();
                match (dry_run, lang) {
                    (true, Lang::Vi) => eprintln!("loa: chạy thử: không lưu gì"),
                    (true, Lang::En) => eprintln!("loa: dry run: nothing kept"),
                    (false, Lang::Vi) => eprintln!("loa: đã lưu {week} cho {n} đài"),
                    (false, Lang::En) => eprintln!("loa: kept {week} for {n} station(s)"),
                }
                Ok(())
            }
        }
        ScheduleCommand::Show {
            week,
            station,
            json,
            lang,
        } => {
            let lang = lang.into();
            let week = parse_week(&week)?;
            let (_, store) = open(data_dir).await?;
            let kept = store
                .latest_weeks(&week.to_string(), station.as_deref())
                .await;
            store.close().await;
            let kept = kept?;
            if kept.is_empty() {
                return Err(Failure::input(format!(
                    "no schedule kept for {week}{}; build it with `loa schedule build --plan PLAN --week {week}`",
                    station.map(|s| format!(" at {s}")).unwrap_or_default()
                )));
            }
            let plan_version = kept[0].plan_version;
            let schedule = WeekSchedule {
                week: week.to_string(),
                plan: kept[0].plan.clone(),
                stations: kept.into_iter().map(|k| k.body).collect(),
            };
            if json {
                print_json(&week_json(&schedule, plan_version, lang))
            } else {
                print_week(&schedule, plan_version, lang);
                Ok(())
            }
        }
        ScheduleCommand::Pin(a) => edit(data_dir, a, true).await,
        ScheduleCommand::Unpin(a) => edit(data_dir, a, false).await,
        ScheduleCommand::Lock(a) => lock(data_dir, a, true).await,
        ScheduleCommand::Unlock(a) => lock(data_dir, a, false).await,
    }
}

async fn edit(data_dir: &Path, a: EditArgs, pin: bool) -> Result<(), Failure> {
    let week = parse_week(&a.week)?;
    let plan = super::plan::load(&a.plan)?;
    let bulletin = a.bulletin.parse().map_err(Failure::input)?;
    let (config, store) = open(data_dir).await?;
    let made = StateChange {
        by: config.operator.clone(),
        at: SystemClock.now(),
    };
    let e = Edit {
        plan: &plan,
        week,
        station: &a.station,
        slot: &a.slot,
        bulletin: &bulletin,
        force: a.force,
        expected: None,
    };
    let result = if pin {
        service::pin(store.as_ref(), &e, &made).await
    } else {
        service::unpin(store.as_ref(), &e, &made).await
    };
    store.close().await;
    let body = result?.body;
    if a.json {
        print_json(&station_json(&body, a.lang.into()))
    } else {
        print_station(&body, a.lang.into());
        Ok(())
    }
}

async fn lock(data_dir: &Path, a: LockArgs, lock: bool) -> Result<(), Failure> {
    let week = parse_week(&a.week)?.to_string();
    let (config, store) = open(data_dir).await?;
    let result = lock_inner(store.as_ref(), &week, a.station, lock, &config.operator).await;
    store.close().await;
    let stations = result?;
    eprintln!(
        "loa: {} {week} at {}",
        if lock { "locked" } else { "unlocked" },
        stations.join(", ")
    );
    Ok(())
}

async fn lock_inner(
    store: &dyn Store,
    week: &str,
    stations: Vec<String>,
    lock: bool,
    by: &str,
) -> Result<Vec<String>, Failure> {
    let stations = if stations.is_empty() {
        let kept: Vec<String> = store
            .latest_weeks(week, None)
            .await?
            .into_iter()
            .map(|k| k.station)
            .collect();
        if kept.is_empty() {
            return Err(Failure::input(format!(
                "no schedule kept for {week}: nothing to {}",
                if lock { "lock" } else { "unlock" }
            )));
        }
        kept
    } else {
        stations
    };
    if lock {
        store
            .lock_weeks(
                week,
                &stations,
                &StateChange {
                    by: by.to_string(),
                    at: SystemClock.now(),
                },
            )
            .await?;
    } else {
        store.unlock_weeks(week, &stations).await?;
    }
    Ok(stations)
}
