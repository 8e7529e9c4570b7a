//! Which plan judges which week of a report. Each schedule build keeps the plan it used
//! ([`crate::store::plans`]); a report judges each station week by the plan version its
//! latest kept schedule was built by, so a plan changed in May does not re-judge March. A
//! `--plan` given to the export overrides this and judges every week. The plan that names
//! the stations and their time zones (the report's scope and header) is the override, else
//! the newest plan among the period's weeks, else the newest plan kept.

use std::collections::HashMap;

use crate::plan::Plan;
use crate::schedule::IsoWeek;
use crate::store::Store;

use super::{Period, ReportError};

/// A plan a report judges by.
#[derive(Debug, Clone)]
pub struct Judge {
    /// The plan.
    pub plan: Plan,
    /// Its kept version (`None` for a `--plan` file no build has used).
    pub version: Option<u32>,
}

/// The plan a report names as the one it judged by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedBy {
    /// The plan's name.
    pub name: String,
    /// Its kept version, if kept.
    pub version: Option<u32>,
    /// SHA-256 of its text.
    pub sha256: String,
}

impl Judge {
    /// What the report says about it.
    pub fn judged_by(&self) -> JudgedBy {
        JudgedBy {
            name: self.plan.name.clone(),
            version: self.version,
            sha256: self.plan.sha256(),
        }
    }
}

/// The plans of a report and which week each judges.
#[derive(Debug, Clone, Default)]
pub struct Judges {
    /// Every plan used.
    plans: Vec<Judge>,
    /// The plan of the scope and of weeks with no kept plan.
    default: Option<usize>,
    /// (station, ISO week) → plan, from the kept schedules.
    weeks: HashMap<(String, String), usize>,
}

impl Judges {
    /// One plan for every week (a `--plan` override, or a check).
    pub fn single(plan: Plan, version: Option<u32>) -> Judges {
        Judges {
            plans: vec![Judge { plan, version }],
            default: Some(0),
            weeks: HashMap::new(),
        }
    }

    /// The plan that names the stations and time zones, if any.
    pub fn default_plan(&self) -> Option<&Plan> {
        self.default.map(|i| &self.plans[i].plan)
    }

    /// Whether any plan knows the station (its weeks can be judged).
    pub fn knows(&self, station: &str) -> bool {
        self.plans.iter().any(|j| j.plan.station(station).is_some())
    }

    /// The plan that judges a station's week.
    pub fn for_week(&self, station: &str, week: IsoWeek) -> Option<&Judge> {
        self.weeks
            .get(&(station.to_string(), week.to_string()))
            .or(self.default.as_ref())
            .map(|i| &self.plans[*i])
    }

    /// The judges of `period`: `over` for every week when given; else each week's kept plan.
    pub async fn load(
        store: &dyn Store,
        period: &Period,
        over: Option<Plan>,
    ) -> Result<Judges, ReportError> {
        let history = store.plan_history().await?;
        if let Some(plan) = over {
            let sha = plan.sha256();
            let version = history.iter().find(|h| h.sha256 == sha).map(|h| h.version);
            return Ok(Judges::single(plan, version));
        }
        let (from, to) = (IsoWeek::of(period.from), IsoWeek::of(period.to));
        let weeks = store.week_plans(&from.to_string(), &to.to_string()).await?;
        let mut versions: Vec<u32> = weeks.iter().map(|w| w.plan_version).collect();
        let newest = versions.iter().max().copied();
        let default_version = newest.or_else(|| history.last().map(|h| h.version));
        versions.extend(default_version);
        versions.sort_unstable();
        versions.dedup();
        let mut judges = Judges::default();
        let mut index = HashMap::new();
        for v in versions {
            index.insert(v, judges.plans.len());
            judges.plans.push(Judge {
                plan: kept(store, v).await?,
                version: Some(v),
            });
        }
        judges.default = default_version.and_then(|v| index.get(&v).copied());
        judges.weeks = weeks
            .into_iter()
            .filter_map(|w| {
                let i = *index.get(&w.plan_version)?;
                Some(((w.station, w.week), i))
            })
            .collect();
        Ok(judges)
    }
}

/// A kept plan version, parsed.
async fn kept(store: &dyn Store, version: u32) -> Result<Plan, ReportError> {
    let k = store.kept_plan(version).await?.ok_or_else(|| {
        ReportError::Input(format!(
            "kept plan version {version} is named by a kept schedule but is not in the database"
        ))
    })?;
    crate::plan::check(&k.content, &format!("kept plan version {version}")).map_err(|report| {
        ReportError::Input(format!(
            "kept plan version {version} does not pass today's plan checks ({}); give the plan to judge by with --plan",
            report.to_string().lines().next().unwrap_or_default()
        ))
    })
}
