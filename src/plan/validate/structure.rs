//! The plan file's shape and the values every part of it shares: unknown keys, dates,
//! durations, numbers, time zones, lists, station lists (`all`, `communes`, `district`),
//! and the stations themselves (codes, levels, validity, successors).

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::Problems;
use crate::library::BulletinId;
use crate::plan::raw::{self, RawPlan, S};
use crate::plan::timing::parse_duration;
use crate::plan::{Level, Output, Station};
use crate::text::nfc;

/// Reports keys the format does not know, in every table.
pub(super) fn unknown_keys(table: &toml_edit::Table, name: &str, p: &mut Problems) {
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

pub(super) fn date(s: &S<String>, what: &str, p: &mut Problems) -> Option<NaiveDate> {
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

pub(super) fn duration(s: &S<String>, what: &str, p: &mut Problems) -> Option<u32> {
    parse_duration(s.get_ref())
        .map_err(|e| p.at(s, format!("{what}: {e}")))
        .ok()
}

pub(super) fn positive(s: &S<i64>, what: &str, p: &mut Problems) -> Option<u32> {
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

pub(super) fn tz(s: &S<String>, p: &mut Problems) -> Option<Tz> {
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

pub(super) fn parse_list<T: std::str::FromStr>(items: &[S<String>], p: &mut Problems) -> Vec<T>
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

pub(super) fn bulletin_ids(items: &[S<String>], p: &mut Problems) -> Vec<BulletinId> {
    parse_list(items, p)
}

/// Expands a station list: codes, or `all`, `communes`, `district`.
pub(super) fn expand(
    list: Option<&S<Vec<S<String>>>>,
    stations: &[Station],
    p: &mut Problems,
) -> Vec<String> {
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

pub(super) fn stations(raw: &RawPlan, default_tz: Tz, p: &mut Problems) -> Vec<Station> {
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
        if r.name.get_ref().trim().is_empty() {
            p.at(
                &r.name,
                format!("station '{code}' has a blank name (give its name, e.g. \"Xã Vĩnh Hùng\")"),
            );
        }
        let output = match &r.output {
            None => Output::Device(None),
            Some(o) => o.get_ref().trim().parse().unwrap_or_else(|e: String| {
                p.at(o, e);
                Output::Null
            }),
        };
        out.push(Station {
            code,
            name: nfc(r.name.get_ref().trim()),
            level,
            timezone,
            output,
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
    successor_cycles(raw, &out, p);
    out
}

/// Reports successors that go round in a circle (`a` → `b` → `a`), once per circle, at the
/// first station of it in the file. A station naming itself is reported on its own.
fn successor_cycles(raw: &RawPlan, stations: &[Station], p: &mut Problems) {
    let index = |code: &str| stations.iter().position(|s| s.code == code);
    for (start, st) in stations.iter().enumerate() {
        let mut path = vec![start];
        let mut next = st.successor.as_deref().and_then(index);
        while let Some(n) = next {
            if n == start {
                // Report at the circle's first station only, and not a self-succession.
                if path.len() > 1 && path.iter().all(|i| *i >= start) {
                    let names: Vec<String> = path
                        .iter()
                        .chain([&start])
                        .map(|i| format!("'{}'", stations[*i].code))
                        .collect();
                    if let Some(succ) = &raw.station[start].get_ref().successor {
                        p.at(
                            succ,
                            format!(
                                "successors go round in a circle: {} (each station needs a last successor)",
                                names.join(" → ")
                            ),
                        );
                    }
                }
                break;
            }
            if path.contains(&n) || path.len() > stations.len() {
                break;
            }
            path.push(n);
            next = stations[n].successor.as_deref().and_then(index);
        }
    }
}
