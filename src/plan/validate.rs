//! Plan validation: reads a plan file and reports every problem at once (file, line, column,
//! plain words), or returns a [`Plan`] that holds only valid data.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use chrono::{Datelike, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::library::{BulletinId, Kind, Topic};
use crate::plan::calendar;
use crate::plan::raw::{self, RawPlan, S};
use crate::plan::timing::{format_duration, parse_duration, CronSpec};
use crate::plan::{
    Blackout, Campaign, JingleRef, Level, Limits, Nominal, Plan, Rule, RuleBody, Slot, Station,
};
use crate::text::nfc;

/// One problem in a plan file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct PlanProblem {
    /// 1-based line (0 when the problem is about the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, in words an operator understands.
    pub message: String,
}

/// Every problem found in one plan file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlanReport {
    /// The file, as named by the caller.
    pub file: String,
    /// The problems, in file order.
    pub problems: Vec<PlanProblem>,
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}", self.file, p.line, p.column, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanReport {}

/// Reads and validates a plan file.
pub fn check_file(path: &Path) -> Result<Plan, PlanReport> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => check(&text, &file),
        Err(e) => Err(PlanReport {
            file,
            problems: vec![PlanProblem {
                line: 0,
                column: 0,
                message: format!("cannot read the plan: {e}"),
            }],
        }),
    }
}

/// Collects problems with their positions.
struct Problems<'a> {
    text: &'a str,
    list: Vec<PlanProblem>,
}

impl Problems<'_> {
    fn at_offset(&mut self, offset: usize, message: impl Into<String>) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.list.push(PlanProblem {
            line,
            column,
            message: message.into(),
        });
    }

    fn at<T>(&mut self, s: &S<T>, message: impl Into<String>) {
        self.at_offset(s.span().start, message);
    }
}

/// Validates plan text read from `file`.
pub fn check(text: &str, file: &str) -> Result<Plan, PlanReport> {
    let mut p = Problems {
        text,
        list: Vec::new(),
    };
    let report = |mut list: Vec<PlanProblem>| {
        list.sort();
        list.dedup();
        PlanReport {
            file: file.to_string(),
            problems: list,
        }
    };
    let doc = match text.parse::<toml_edit::ImDocument<String>>() {
        Ok(d) => d,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            p.at_offset(at, format!("not valid TOML: {}", e.message().trim()));
            return Err(report(p.list));
        }
    };
    unknown_keys(doc.as_table(), "", &mut p);
    let raw: RawPlan = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            p.at_offset(at, e.message().trim().to_string());
            return Err(report(p.list));
        }
    };
    let plan = build(&raw, &mut p);
    match plan {
        Some(plan) if p.list.is_empty() => Ok(plan),
        _ => Err(report(p.list)),
    }
}

/// Reports keys the format does not know, in every table.
fn unknown_keys(table: &toml_edit::Table, name: &str, p: &mut Problems) {
    let allowed = raw::KEYS
        .iter()
        .find(|(t, _)| *t == name)
        .map_or(&[][..], |(_, k)| *k);
    for (key, item) in table.iter() {
        if !allowed.contains(&key) {
            let at = table.key(key).and_then(|k| k.span()).map_or(0, |s| s.start);
            let hint = if name.is_empty() {
                String::new()
            } else {
                format!(" in [{name}]")
            };
            p.at_offset(
                at,
                format!(
                    "unknown key '{key}'{hint} (allowed: {})",
                    allowed.join(", ")
                ),
            );
            continue;
        }
        if !name.is_empty() {
            continue;
        }
        match item {
            toml_edit::Item::Table(t) => unknown_keys(t, key, p),
            toml_edit::Item::ArrayOfTables(a) => {
                for t in a.iter() {
                    unknown_keys(t, key, p);
                }
            }
            _ => {}
        }
    }
}

fn date(s: &S<String>, what: &str, p: &mut Problems) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s.get_ref().trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            p.at(
                s,
                format!(
                    "{what} '{}' is not a date (expected YYYY-MM-DD)",
                    s.get_ref()
                ),
            );
            None
        }
    }
}

fn duration(s: &S<String>, what: &str, p: &mut Problems) -> Option<u32> {
    parse_duration(s.get_ref())
        .map_err(|e| p.at(s, format!("{what}: {e}")))
        .ok()
}

fn positive(s: &S<i64>, what: &str, p: &mut Problems) -> Option<u32> {
    match u32::try_from(*s.get_ref()) {
        Ok(n) if n > 0 => Some(n),
        _ => {
            p.at(
                s,
                format!("{what} must be a whole number above 0, not {}", s.get_ref()),
            );
            None
        }
    }
}

fn tz(s: &S<String>, p: &mut Problems) -> Option<Tz> {
    s.get_ref()
        .parse::<Tz>()
        .map_err(|_| {
            p.at(
                s,
                format!(
                    "'{}' is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)",
                    s.get_ref()
                ),
            )
        })
        .ok()
}

fn parse_list<T: std::str::FromStr>(items: &[S<String>], p: &mut Problems) -> Vec<T>
where
    T::Err: fmt::Display,
{
    items
        .iter()
        .filter_map(|s| {
            s.get_ref()
                .parse::<T>()
                .map_err(|e| p.at(s, e.to_string()))
                .ok()
        })
        .collect()
}

fn bulletin_ids(items: &[S<String>], p: &mut Problems) -> Vec<BulletinId> {
    parse_list(items, p)
}

/// Expands a station list: codes, or `all`, `communes`, `district`.
fn expand(list: Option<&S<Vec<S<String>>>>, stations: &[Station], p: &mut Problems) -> Vec<String> {
    let Some(list) = list else {
        return stations.iter().map(|s| s.code.clone()).collect();
    };
    if list.get_ref().is_empty() {
        p.at(list, "names no station (use \"all\" for every station)");
    }
    let mut out = BTreeSet::new();
    for item in list.get_ref() {
        let name = item.get_ref().as_str();
        let pick = |f: &dyn Fn(&Station) -> bool| {
            stations
                .iter()
                .filter(|s| f(s))
                .map(|s| s.code.clone())
                .collect::<Vec<_>>()
        };
        let codes = match name {
            "all" => pick(&|_| true),
            "communes" => pick(&|s| s.level == Level::Commune),
            "district" => pick(&|s| s.level == Level::District),
            code => match stations.iter().find(|s| s.code == code) {
                Some(s) => vec![s.code.clone()],
                None => {
                    p.at(
                        item,
                        format!("unknown station '{code}' (not in any [[station]])"),
                    );
                    vec![]
                }
            },
        };
        out.extend(codes);
    }
    // Keep the plan's station order.
    stations
        .iter()
        .filter(|s| out.contains(&s.code))
        .map(|s| s.code.clone())
        .collect()
}

fn build(raw: &RawPlan, p: &mut Problems) -> Option<Plan> {
    let Some(header) = &raw.plan else {
        p.at_offset(0, "the plan has no [plan] table (name, year)");
        return None;
    };
    let h = header.get_ref();
    let year = match i32::try_from(*h.year.get_ref()) {
        Ok(y) if (2000..=2100).contains(&y) => y,
        _ => {
            p.at(
                &h.year,
                format!("year {} is not a plausible plan year", h.year.get_ref()),
            );
            return None;
        }
    };
    let default_tz = h
        .timezone
        .as_ref()
        .and_then(|t| tz(t, p))
        .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh);
    let in_year = |d: NaiveDate| d.year() == year;

    let stations = stations(raw, default_tz, p);
    if stations.is_empty() {
        p.at(header, "the plan has no [[station]]");
    }
    let slots = slots(raw, &stations, p);
    let rules = rules(raw, &stations, p);

    let mut campaigns = Vec::new();
    for c in &raw.campaign {
        let r = c.get_ref();
        let (from, to) = (date(&r.from, "from", p), date(&r.to, "to", p));
        let topics: Vec<Topic> = parse_list(&r.topics, p);
        let bulletins = bulletin_ids(&r.bulletins, p);
        let boost = positive(&r.boost, "boost", p);
        if r.topics.is_empty() && r.bulletins.is_empty() {
            p.at(
                c,
                format!(
                    "campaign '{}' boosts nothing: give topics or bulletins",
                    r.name.get_ref()
                ),
            );
        }
        let stations = expand(r.stations.as_ref(), &stations, p);
        if let (Some(from), Some(to), Some(boost)) = (from, to, boost) {
            if to < from {
                p.at(
                    &r.to,
                    format!(
                        "campaign '{}' ends ({}) before it starts ({})",
                        r.name.get_ref(),
                        to.format("%d/%m/%Y"),
                        from.format("%d/%m/%Y")
                    ),
                );
            } else if !in_year(from) || !in_year(to) {
                p.at(
                    &r.from,
                    format!(
                        "campaign '{}' ({} – {}) lies outside the plan's year {year}",
                        r.name.get_ref(),
                        from.format("%d/%m/%Y"),
                        to.format("%d/%m/%Y")
                    ),
                );
            }
            campaigns.push(Campaign {
                name: nfc(r.name.get_ref()),
                from,
                to,
                topics,
                bulletins,
                stations,
                boost,
            });
        }
    }

    let mut blackouts = Vec::new();
    for b in &raw.blackout {
        let r = b.get_ref();
        let (from, to) = (date(&r.from, "from", p), date(&r.to, "to", p));
        let stations = expand(r.stations.as_ref(), &stations, p);
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                p.at(
                    &r.to,
                    format!("blackout '{}' ends before it starts", r.name.get_ref()),
                );
            } else if !in_year(from) && !in_year(to) {
                p.at(
                    &r.from,
                    format!(
                        "blackout '{}' lies outside the plan's year {year}",
                        r.name.get_ref()
                    ),
                );
            }
            blackouts.push(Blackout {
                name: nfc(r.name.get_ref()),
                from,
                to,
                stations,
            });
        }
    }

    let limits = limits(raw, p);
    let nominal = nominal(raw, p);
    let plan = Plan {
        name: nfc(h.name.get_ref()),
        year,
        timezone: default_tz,
        source: nfc(&h.source),
        fallback: bulletin_ids(&h.fallback, p),
        stations,
        slots,
        rules,
        campaigns,
        blackouts,
        limits,
        nominal,
    };
    if p.list.is_empty() {
        cross_checks(raw, &plan, p);
    }
    Some(plan)
}

fn stations(raw: &RawPlan, default_tz: Tz, p: &mut Problems) -> Vec<Station> {
    let mut out: Vec<Station> = Vec::new();
    for s in &raw.station {
        let r = s.get_ref();
        let code = r.code.get_ref().trim().to_string();
        if !crate::library::service::is_station_code(&code) {
            p.at(&r.code, format!("'{code}' is not a station code (lower-case letters, digits and '-', e.g. vinh-hung)"));
        } else if out.iter().any(|o| o.code == code) {
            p.at(&r.code, format!("station '{code}' is defined twice"));
        }
        let level = match r.level.get_ref().as_str() {
            "district" => Level::District,
            "commune" => Level::Commune,
            other => {
                p.at(
                    &r.level,
                    format!("level '{other}' is neither 'district' nor 'commune'"),
                );
                Level::Commune
            }
        };
        let timezone = r
            .timezone
            .as_ref()
            .and_then(|t| tz(t, p))
            .unwrap_or(default_tz);
        let valid_from = r.valid_from.as_ref().and_then(|d| date(d, "valid_from", p));
        let valid_until = r
            .valid_until
            .as_ref()
            .and_then(|d| date(d, "valid_until", p));
        if let (Some(f), Some(u)) = (valid_from, valid_until) {
            if u < f {
                p.at(
                    r.valid_until.as_ref().expect("parsed"),
                    format!("station '{code}' ends before it starts"),
                );
            }
        }
        out.push(Station {
            code,
            name: nfc(r.name.get_ref().trim()),
            level,
            timezone,
            output: r
                .output
                .as_ref()
                .map_or_else(|| "device".to_string(), |o| o.get_ref().clone()),
            valid_from,
            valid_until,
            successor: r.successor.as_ref().map(|s| s.get_ref().clone()),
        });
    }
    for (s, st) in raw.station.iter().zip(&out) {
        if let Some(succ) = &s.get_ref().successor {
            if !out.iter().any(|o| &o.code == succ.get_ref()) {
                p.at(
                    succ,
                    format!(
                        "successor '{}' is not a station of this plan",
                        succ.get_ref()
                    ),
                );
            } else if succ.get_ref() == &st.code {
                p.at(succ, "a station cannot succeed itself");
            } else if st.valid_until.is_none() {
                p.at(
                    succ,
                    format!("station '{}' names a successor but no valid_until", st.code),
                );
            }
        }
    }
    out
}

fn jingle(s: &Option<S<String>>, p: &mut Problems) -> Option<JingleRef> {
    let s = s.as_ref()?;
    if s.get_ref() == "auto" {
        return Some(JingleRef::Auto);
    }
    match s.get_ref().parse::<BulletinId>() {
        Ok(id) => Some(JingleRef::Id(id)),
        Err(e) => {
            p.at(s, format!("{e}, or \"auto\""));
            None
        }
    }
}

fn slots(raw: &RawPlan, stations: &[Station], p: &mut Problems) -> Vec<Slot> {
    let mut out = Vec::new();
    for s in &raw.slot {
        let r = s.get_ref();
        let cron = r
            .cron
            .get_ref()
            .parse::<CronSpec>()
            .map_err(|e| p.at(&r.cron, e))
            .ok();
        let length = duration(&r.length, "length", p);
        let cchc = duration(&r.cchc, "cchc", p);
        let list = expand(Some(&r.stations), stations, p);
        if let (Some(length), Some(cchc)) = (length, cchc) {
            if length < 60 {
                p.at(
                    &r.length,
                    format!(
                        "slot '{}' lasts {}: too short for anything (at least 1m)",
                        r.name.get_ref(),
                        format_duration(length.into())
                    ),
                );
            }
            if cchc < 30 {
                p.at(&r.cchc, format!("slot '{}' gives CCHC content {}: too short for any bulletin (at least 30s)", r.name.get_ref(), format_duration(cchc.into())));
            }
            if cchc > length {
                p.at(
                    &r.cchc,
                    format!(
                        "slot '{}' gives CCHC content {} but lasts only {}",
                        r.name.get_ref(),
                        format_duration(cchc.into()),
                        format_duration(length.into())
                    ),
                );
            }
        }
        let intro = jingle(&r.intro, p);
        let outro = jingle(&r.outro, p);
        if let (Some(cron), Some(length_s), Some(cchc_s)) = (cron, length, cchc) {
            out.push(Slot {
                name: nfc(r.name.get_ref()),
                stations: list,
                cron,
                length_s,
                cchc_s,
                intro,
                outro,
            });
        }
    }
    out
}

fn kinds(r: &raw::RawRule, p: &mut Problems, rule: &S<raw::RawRule>) -> Vec<Kind> {
    match &r.kinds {
        Some(k) => {
            let v: Vec<Kind> = parse_list(k.get_ref(), p);
            if k.get_ref().is_empty() {
                p.at(k, "names no kind");
            }
            v
        }
        None => {
            p.at(
                rule,
                format!(
                    "rule '{}' ({}) needs 'kinds'",
                    r.id.get_ref(),
                    r.kind.get_ref()
                ),
            );
            vec![]
        }
    }
}

fn need<'a, T>(
    v: &'a Option<S<T>>,
    key: &str,
    r: &raw::RawRule,
    rule: &S<raw::RawRule>,
    p: &mut Problems,
) -> Option<&'a S<T>> {
    if v.is_none() {
        p.at(
            rule,
            format!(
                "rule '{}' ({}) needs '{key}'",
                r.id.get_ref(),
                r.kind.get_ref()
            ),
        );
    }
    v.as_ref()
}

fn rules(raw: &RawPlan, stations: &[Station], p: &mut Problems) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    for rule in &raw.rule {
        let r = rule.get_ref();
        let id = r.id.get_ref().trim().to_string();
        if out.iter().any(|o| o.id == id) {
            p.at(&r.id, format!("rule id '{id}' is used twice"));
        }
        let present: Vec<(&str, bool)> = vec![
            ("kinds", r.kinds.is_some()),
            ("topics", r.topics.is_some()),
            ("count", r.count.is_some()),
            ("times", r.times.is_some()),
            ("min_gap", r.min_gap.is_some()),
            ("per_week", r.per_week.is_some()),
            ("per", r.per.is_some()),
        ];
        let applies: &[&str] = match r.kind.get_ref().as_str() {
            "min_distinct" => &["kinds", "count"],
            "repeat" => &["kinds", "times", "min_gap"],
            "column" => &["per_week"],
            "topic_coverage" => &["topics", "per"],
            "spots_between" => &[],
            other => {
                p.at(&r.kind, format!("unknown rule type '{other}' (min_distinct, repeat, column, topic_coverage, spots_between)"));
                continue;
            }
        };
        for (key, is) in present {
            if is && !applies.contains(&key) {
                p.at(
                    rule,
                    format!(
                        "'{key}' does not apply to a {} rule ('{id}')",
                        r.kind.get_ref()
                    ),
                );
            }
        }
        let body = match r.kind.get_ref().as_str() {
            "min_distinct" => {
                let kinds = kinds(r, p, rule);
                let count =
                    need(&r.count, "count", r, rule, p).and_then(|c| positive(c, "count", p));
                count.map(|count| RuleBody::MinDistinct { kinds, count })
            }
            "repeat" => {
                let kinds = kinds(r, p, rule);
                let times =
                    need(&r.times, "times", r, rule, p).and_then(|c| positive(c, "times", p));
                let gap =
                    need(&r.min_gap, "min_gap", r, rule, p).and_then(|g| duration(g, "min_gap", p));
                match (times, gap) {
                    (Some(times), Some(min_gap_s)) => Some(RuleBody::Repeat {
                        kinds,
                        times,
                        min_gap_s,
                    }),
                    _ => None,
                }
            }
            "column" => need(&r.per_week, "per_week", r, rule, p)
                .and_then(|c| positive(c, "per_week", p))
                .map(|per_week| RuleBody::Column { per_week }),
            "topic_coverage" => {
                if let Some(per) = &r.per {
                    if per.get_ref() != "month" {
                        p.at(
                            per,
                            format!("per '{}': only \"month\" is supported", per.get_ref()),
                        );
                    }
                }
                let topics = r
                    .topics
                    .as_ref()
                    .map_or_else(|| Topic::ALL.to_vec(), |t| parse_list(t.get_ref(), p));
                Some(RuleBody::TopicCoverage { topics })
            }
            _ => Some(RuleBody::SpotsBetween),
        };
        let stations = expand(r.stations.as_ref(), stations, p);
        if let Some(body) = body {
            out.push(Rule {
                id,
                clause: nfc(r.clause.get_ref()),
                stations,
                body,
            });
        }
    }
    out
}

fn limits(raw: &RawPlan, p: &mut Problems) -> Limits {
    let mut limits = Limits {
        max_sessions_per_day: None,
        max_minutes_per_session: None,
        weekdays: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ],
        include_district: false,
    };
    let Some(l) = &raw.limits else { return limits };
    let l = l.get_ref();
    limits.max_sessions_per_day = l
        .max_sessions_per_day
        .as_ref()
        .and_then(|v| positive(v, "max_sessions_per_day", p));
    limits.max_minutes_per_session = l
        .max_minutes_per_session
        .as_ref()
        .and_then(|v| positive(v, "max_minutes_per_session", p));
    if let Some(days) = &l.weekdays {
        limits.weekdays = days
            .get_ref()
            .iter()
            .filter_map(|d| {
                d.get_ref()
                    .parse::<Weekday>()
                    .map_err(|_| {
                        p.at(
                            d,
                            format!("'{}' is not a weekday (mon, tue, … sun)", d.get_ref()),
                        )
                    })
                    .ok()
            })
            .collect();
    }
    if let Some(a) = &l.applies_to {
        match a.get_ref().as_str() {
            "communes" => {}
            "all" => limits.include_district = true,
            other => p.at(
                a,
                format!("applies_to '{other}' is neither \"communes\" nor \"all\""),
            ),
        }
    }
    limits
}

fn nominal(raw: &RawPlan, p: &mut Problems) -> Nominal {
    // news 2m, article 4m, column 10m, spot 20s, jingle 10s unless the plan says otherwise.
    let mut ms = [120_000, 240_000, 600_000, 20_000, 10_000];
    if let Some(n) = &raw.nominal_length {
        let n = n.get_ref();
        for (i, v) in [&n.news, &n.article, &n.column, &n.spot, &n.jingle]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = v {
                if let Some(s) = duration(v, Kind::ALL[i].as_str(), p) {
                    ms[i] = u64::from(s) * 1000;
                }
            }
        }
    }
    Nominal { ms }
}

/// Checks that need the whole plan: overlapping slots, local limits, impossible rules.
fn cross_checks(raw: &RawPlan, plan: &Plan, p: &mut Problems) {
    let year_start = plan
        .timezone
        .with_ymd_and_hms(plan.year, 1, 1, 0, 0, 0)
        .earliest();
    let year_end = plan
        .timezone
        .with_ymd_and_hms(plan.year + 1, 1, 1, 0, 0, 0)
        .earliest();
    let (Some(from), Some(to)) = (year_start, year_end) else {
        return;
    };
    let (from, to) = (
        from.with_timezone(&chrono::Utc),
        to.with_timezone(&chrono::Utc),
    );
    for (si, slot) in plan.slots.iter().enumerate() {
        let r = raw.slot[si].get_ref();
        if let Some(max) = plan.limits.max_minutes_per_session {
            let binds = slot
                .stations
                .iter()
                .any(|c| plan.station(c).is_some_and(|s| plan.limits.bind(s.level)));
            if binds && slot.length_s > max * 60 {
                p.at(
                    &r.length,
                    format!(
                        "slot '{}' lasts {}, over the local limit of {max} minutes a session",
                        slot.name,
                        format_duration(slot.length_s.into())
                    ),
                );
            }
        }
    }
    for station in &plan.stations {
        let all = calendar::raw_instances(plan, station, from, to);
        // Overlaps at one station.
        let mut reported = BTreeSet::new();
        for w in all.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let a_end = a.start + chrono::Duration::seconds(plan.slots[a.slot].length_s.into());
            if b.start < a_end && reported.insert((a.slot, b.slot)) {
                let local = b.start.with_timezone(&station.timezone);
                p.at(
                    &raw.slot[b.slot].get_ref().cron,
                    format!(
                        "slot '{}' overlaps slot '{}' at station '{}' (e.g. {})",
                        plan.slots[b.slot].name,
                        plan.slots[a.slot].name,
                        station.code,
                        local.format("%d/%m/%Y %H:%M")
                    ),
                );
            }
        }
        if !plan.limits.bind(station.level) {
            continue;
        }
        let mut per_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
        for i in &all {
            let local = i.start.with_timezone(&station.timezone);
            let day = local.date_naive();
            *per_day.entry(day).or_default() += 1;
            if !plan.limits.weekdays.contains(&day.weekday())
                && reported.insert((usize::MAX, i.slot))
            {
                p.at(
                    &raw.slot[i.slot].get_ref().cron,
                    format!(
                        "slot '{}' runs on {:?} at '{}', a day the local limits do not allow",
                        plan.slots[i.slot].name,
                        day.weekday(),
                        station.code
                    ),
                );
            }
        }
        if let Some(max) = plan.limits.max_sessions_per_day {
            if let Some((day, n)) = per_day.iter().find(|(_, n)| **n > max) {
                let at = raw
                    .station
                    .iter()
                    .find(|s| s.get_ref().code.get_ref() == &station.code);
                if let Some(at) = at {
                    p.at(
                        at,
                        format!(
                        "station '{}' has {n} sessions on {}, over the local limit of {max} a day",
                        station.code, day.format("%d/%m/%Y")
                    ),
                    );
                }
            }
        }
        feasibility(raw, plan, station, &all, p);
    }
}

/// Reports rules that cannot all be met in the best week the slots give.
fn feasibility(
    raw: &RawPlan,
    plan: &Plan,
    station: &Station,
    all: &[calendar::RawInstance],
    p: &mut Problems,
) {
    let mut weeks: BTreeMap<(i32, u32), (u64, u32)> = BTreeMap::new();
    for i in all {
        let w = i.start.with_timezone(&station.timezone).iso_week();
        let slot = &plan.slots[i.slot];
        let jingles = u64::from(slot.intro.is_some() as u8 + slot.outro.is_some() as u8)
            * plan.nominal.of(Kind::Jingle);
        let e = weeks.entry((w.year(), w.week())).or_default();
        e.0 += (u64::from(slot.cchc_s) * 1000).saturating_sub(jingles);
        e.1 += 1;
    }
    let (capacity_ms, sessions) = weeks.values().copied().max().unwrap_or((0, 0));
    let mut need_ms: u64 = 0;
    let rules: Vec<(usize, &Rule)> = plan
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.stations.contains(&station.code))
        .collect();
    for (ri, rule) in &rules {
        match &rule.body {
            RuleBody::MinDistinct { kinds, count } => {
                let times = rules
                    .iter()
                    .find_map(|(_, r)| match &r.body {
                        RuleBody::Repeat {
                            kinds: k, times, ..
                        } if k.iter().any(|x| kinds.contains(x)) => Some(*times),
                        _ => None,
                    })
                    .unwrap_or(1);
                let avg = kinds.iter().map(|k| plan.nominal.of(*k)).sum::<u64>()
                    / kinds.len().max(1) as u64;
                need_ms += u64::from(*count) * u64::from(times) * avg;
            }
            RuleBody::Column { per_week } => {
                need_ms += u64::from(*per_week) * plan.nominal.of(Kind::Column)
            }
            RuleBody::Repeat {
                times, min_gap_s, ..
            } => {
                let r = raw.rule[*ri].get_ref();
                if *times > sessions && sessions > 0 {
                    p.at(&r.id, format!("rule '{}' wants each item {times} times a week but station '{}' has only {sessions} sessions a week", rule.id, station.code));
                }
                let span = u64::from(times.saturating_sub(1)) * u64::from(*min_gap_s);
                if span >= 7 * 86_400 {
                    p.at(&r.id, format!("rule '{}': {times} airings at least {} apart need {} — more than a week", rule.id, format_duration((*min_gap_s).into()), format_duration(span)));
                }
            }
            _ => {}
        }
    }
    if need_ms > capacity_ms {
        let at = raw
            .station
            .iter()
            .find(|s| s.get_ref().code.get_ref() == &station.code);
        if let Some(at) = at {
            p.at(at, format!(
                "the rules need about {} of CCHC time a week at '{}' but its slots give at most {}: {} short",
                format_duration(need_ms / 1000), station.code, format_duration(capacity_ms / 1000), format_duration((need_ms - capacity_ms).div_ceil(1000))
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTRICT: &str = include_str!("../../schedules/vinh-loc-2023.toml");

    fn problems(text: &str) -> Vec<String> {
        match check(text, "p.toml") {
            Ok(_) => vec![],
            Err(r) => r
                .problems
                .iter()
                .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
                .collect(),
        }
    }

    #[test]
    fn the_district_plan_is_valid() {
        let plan = check(DISTRICT, "vinh-loc-2023.toml").unwrap_or_else(|r| panic!("{r}"));
        assert_eq!(plan.year, 2023);
        assert_eq!(plan.stations.len(), 14);
        assert_eq!(
            plan.stations
                .iter()
                .filter(|s| s.level == Level::Commune)
                .count(),
            13
        );
        assert_eq!(plan.slots[2].stations.len(), 13);
        assert_eq!(plan.rules.len(), 5);
    }

    #[test]
    fn every_unknown_key_is_reported_with_its_line() {
        let text = DISTRICT
            .replacen("max_sessions_per_day", "max_session_per_day", 1)
            .replacen("cchc = \"8m\"", "cchc = \"8m\"\nlenght = \"1m\"", 1);
        let p = problems(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("unknown key 'max_session_per_day' in [limits]"),
            "{p:?}"
        );
        assert!(p[1].contains("unknown key 'lenght' in [slot]"), "{p:?}");
        let line: usize = p[1].split(':').next().unwrap().parse().unwrap();
        assert_eq!(
            text.lines().nth(line - 1).unwrap().trim(),
            "lenght = \"1m\""
        );
    }

    #[test]
    fn overlapping_slots_at_one_station_are_reported() {
        let text = DISTRICT.replacen("cron = \"30 16 * * *\"", "cron = \"45 5 * * *\"", 1);
        let p = problems(&text);
        assert!(
            p.iter()
                .any(|m| m.contains("overlaps slot 'Bản tin loa truyền thanh buổi sáng'")),
            "{p:?}"
        );
    }

    #[test]
    fn a_rule_naming_an_unknown_station_or_topic_is_reported() {
        let text = format!("{DISTRICT}\n[[rule]]\nid = \"x\"\ntype = \"topic_coverage\"\nclause = \"III\"\ntopics = [\"laws\"]\nstations = [\"vinh-xyz\"]\n");
        let p = problems(&text);
        assert!(
            p.iter().any(|m| m.contains("unknown topic 'laws'")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("unknown station 'vinh-xyz'")),
            "{p:?}"
        );
    }

    #[test]
    fn a_campaign_outside_the_year_is_reported() {
        let text = DISTRICT
            .replacen("from = \"2023-09-01\"", "from = \"2022-09-01\"", 1)
            .replacen("to = \"2023-09-30\"", "to = \"2022-09-30\"", 1);
        let p = problems(&text);
        assert!(
            p.iter().any(|m| m.contains("outside the plan's year 2023")),
            "{p:?}"
        );
    }

    #[test]
    fn rules_that_need_more_time_than_the_slots_give_say_by_how_much() {
        let text = DISTRICT.replacen("count = 3", "count = 30", 1);
        let p = problems(&text);
        let m = p
            .iter()
            .find(|m| m.contains("CCHC time a week"))
            .unwrap_or_else(|| panic!("{p:?}"));
        assert!(m.contains("short"), "{m}");
    }

    #[test]
    fn a_bad_cron_and_a_bad_duration_are_both_reported() {
        let text = DISTRICT
            .replacen("cron = \"0 6 * * *\"", "cron = \"0 25 * * *\"", 1)
            .replacen("length = \"30m\"", "length = \"30\"", 1);
        let p = problems(&text);
        assert!(p.iter().any(|m| m.contains("not a valid cron")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("no unit")), "{p:?}");
    }

    #[test]
    fn broken_toml_gives_one_problem_with_a_position() {
        let p = problems("[plan\nname = 1");
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("1:"), "{p:?}");
    }
}
