//! Durations as operators write them (`90s`, `30m`, `1h30m`, `2d`) and slot start times as
//! cron expressions in station local time.
//!
//! Cron takes the usual five fields, `minute hour day-of-month month day-of-week`, with
//! day-of-week numbered the Unix way (0 or 7 = Sunday, 1 = Monday) or named (`Mon-Sat`).
//! Summer time: a slot whose wall time happens twice starts once, at the first; one whose
//! wall time does not exist starts once, when the gap ends ([`place`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::plan::cron_fields::{self, CronError};

/// Parses `1h30m`, `45m`, `90s`, `2d` (units d, h, m, s; at least one) into seconds.
pub fn parse_duration(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("an empty duration (expected e.g. 30m, 1h30m, 90s)".into());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            ' ' if number.is_empty() => continue,
            _ => {
                return Err(format!(
                    "'{text}' is not a duration (expected e.g. 30m, 1h30m, 90s)"
                ))
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("'{text}' is not a duration (a number must come before '{c}')"))?;
        number.clear();
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if !number.is_empty() {
        return Err(format!(
            "'{text}' has no unit after {number} (write {number}m or {number}s)"
        ));
    }
    u32::try_from(total).map_err(|_| format!("'{text}' is too long"))
}

/// Formats seconds as `1h30m`, `45m`, `90s` → `1m30s`.
pub fn format_duration(s: u64) -> String {
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if sec > 0 || out.is_empty() {
        out += &format!("{sec}s");
    }
    out
}

/// A slot's start times.
#[derive(Clone)]
pub struct CronSpec {
    /// As written.
    text: String,
    /// Parsed (the cron crate's six-field form, seconds fixed at 0).
    schedule: cron::Schedule,
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSpec({:?})", self.text)
    }
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Unix day-of-week numbers → names (the cron crate numbers Sunday as 1).
fn dow_names(field: &str) -> Result<String, String> {
    let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut out = String::new();
    let mut num = String::new();
    let flush = |num: &mut String, out: &mut String| -> Result<(), String> {
        if !num.is_empty() {
            let n: usize = num
                .parse()
                .map_err(|_| format!("bad day-of-week '{num}'"))?;
            let name = names.get(n).ok_or_else(|| {
                format!("day-of-week {n} is out of range (0–7, 0 and 7 = Sunday)")
            })?;
            out.push_str(name);
            num.clear();
        }
        Ok(())
    };
    let mut after_slash = false;
    for c in field.chars() {
        if c.is_ascii_digit() && !after_slash {
            num.push(c);
        } else {
            flush(&mut num, &mut out)?;
            after_slash = c == '/' || (after_slash && c.is_ascii_digit());
            out.push(c);
        }
    }
    flush(&mut num, &mut out)?;
    Ok(out)
}

impl FromStr for CronSpec {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CronSpec::parse(text).map_err(|e| e.message)
    }
}

impl CronSpec {
    /// Parses the five fields, with the place of any fault in `text`.
    pub fn parse(text: &str) -> Result<CronSpec, CronError> {
        let fields = cron_fields::check(text)?;
        let f = |i: usize| fields[i].0.as_str();
        let dow = dow_names(f(4)).map_err(|message| CronError {
            offset: fields[4].1,
            message: format!(
                "'{}' is not a valid cron expression: {message}",
                text.trim()
            ),
        })?;
        let six = format!("0 {} {} {} {} {}", f(0), f(1), f(2), f(3), dow);
        let schedule = cron::Schedule::from_str(&six).map_err(|_| CronError {
            offset: 0,
            message: format!(
                "'{}' is not a valid cron expression (minute hour day-of-month month day-of-week, e.g. 30 5 * * *)",
                text.trim()
            ),
        })?;
        Ok(CronSpec {
            text: text.trim().to_string(),
            schedule,
        })
    }

    /// The wall-clock times it names from `from` (inclusive) to `to` (exclusive), with no
    /// time zone: what the operator wrote, before summer time moves anything.
    pub fn wall_times(&self, from: NaiveDateTime, to: NaiveDateTime) -> Vec<NaiveDateTime> {
        // UTC has no summer time, so it walks the wall clock itself.
        let start = Utc.from_utc_datetime(&(from - chrono::Duration::seconds(1)));
        self.schedule
            .after(&start)
            .map(|t| t.naive_utc())
            .take_while(|t| *t < to)
            .collect()
    }

    /// Start instants in `[from, to)`, computed in the station's time zone.
    ///
    /// A wall time that happens twice (summer time ends) starts the slot once, at its first
    /// instant; a wall time that does not exist (summer time begins) starts it once, at the
    /// first instant after the gap. See [`place`].
    pub fn between(&self, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        // A day either side covers any offset change; instants outside are dropped below.
        let day = chrono::Duration::days(1);
        let wall_from = from.with_timezone(&tz).naive_local() - day;
        let wall_to = to.with_timezone(&tz).naive_local() + day;
        let mut out: Vec<DateTime<Utc>> = self
            .wall_times(wall_from, wall_to)
            .into_iter()
            .map(|w| place(tz, w).0)
            .filter(|t| *t >= from && *t < to)
            .collect();
        // Two wall times in one gap land on the same instant: the slot starts once.
        out.dedup();
        out
    }
}

/// How a wall time falls in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WallTime {
    /// It happens once.
    Single,
    /// It happens twice (summer time ends); the slot starts at the first.
    Twice,
    /// It does not happen (summer time begins); the slot starts when the gap ends.
    InGap,
}

/// The instant a slot written for wall time `wall` starts in `tz`, and how the wall time
/// falls: the one instant; the first of two; or the first instant after a summer-time gap.
pub fn place(tz: Tz, wall: NaiveDateTime) -> (DateTime<Utc>, WallTime) {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => (t.with_timezone(&Utc), WallTime::Single),
        LocalResult::Ambiguous(a, b) => (
            a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
            WallTime::Twice,
        ),
        LocalResult::None => {
            // Gaps are whole minutes and at most a few hours long: the first wall minute
            // after `wall` that exists starts at the instant the gap ends.
            let minute = wall
                .with_second(0)
                .and_then(|w| w.with_nanosecond(0))
                .unwrap_or(wall);
            let after = (1..=24 * 60)
                .map(|m| minute + chrono::Duration::minutes(m))
                .find_map(|w| tz.from_local_datetime(&w).earliest());
            let at = after.map_or_else(|| Utc.from_utc_datetime(&wall), |t| t.with_timezone(&Utc));
            (at, WallTime::InGap)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_operators_write_them() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(parse_duration("1h 5m"), Ok(3900));
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(90), "1m30s");
        assert_eq!(format_duration(0), "0s");
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_morning_slot_starts_at_local_time() {
        let c: CronSpec = "30 5 * * *".parse().unwrap();
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let starts = c.between(tz, utc("2023-03-05T17:00:00Z"), utc("2023-03-07T17:00:00Z"));
        assert_eq!(
            starts,
            vec![utc("2023-03-05T22:30:00Z"), utc("2023-03-06T22:30:00Z")]
        );
    }

    #[test]
    fn unix_weekday_numbers_mean_what_they_mean_in_crontab() {
        // 1-5 = Monday to Friday. 2023-03-06 is a Monday.
        let c: CronSpec = "0 17 * * 1-5".parse().unwrap();
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let starts = c.between(tz, utc("2023-03-05T17:00:00Z"), utc("2023-03-12T17:00:00Z"));
        assert_eq!(starts.len(), 5);
        assert_eq!(starts[0], utc("2023-03-06T10:00:00Z"));
        let sunday: CronSpec = "0 17 * * 0".parse().unwrap();
        let s = sunday.between(tz, utc("2023-03-05T17:00:00Z"), utc("2023-03-12T17:00:00Z"));
        assert_eq!(s, vec![utc("2023-03-12T10:00:00Z")]);
    }

    #[test]
    fn the_start_instant_itself_is_included() {
        let c: CronSpec = "30 5 * * *".parse().unwrap();
        let tz: Tz = "Asia/Ho_Chi_Minh".parse().unwrap();
        let s = c.between(tz, utc("2023-03-05T22:30:00Z"), utc("2023-03-05T22:31:00Z"));
        assert_eq!(s, vec![utc("2023-03-05T22:30:00Z")]);
    }

    #[test]
    fn bad_cron_expressions_are_refused_with_the_reason() {
        assert!("30 5 * *"
            .parse::<CronSpec>()
            .unwrap_err()
            .contains("5 fields"));
        assert!("61 5 * * *".parse::<CronSpec>().is_err());
        assert!("0 5 * * 9"
            .parse::<CronSpec>()
            .unwrap_err()
            .contains("out of range"));
    }

    #[test]
    fn a_slot_in_the_spring_gap_starts_once_when_the_gap_ends() {
        // Berlin, 26/03/2023: clocks go from 02:00 to 03:00 (01:00 UTC).
        let c: CronSpec = "30 2 * * *".parse().unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let s = c.between(tz, utc("2023-03-25T00:00:00Z"), utc("2023-03-28T00:00:00Z"));
        assert_eq!(
            s,
            vec![
                utc("2023-03-25T01:30:00Z"),
                utc("2023-03-26T01:00:00Z"),
                utc("2023-03-27T00:30:00Z")
            ]
        );
        let gap: CronSpec = "15,45 2 * * *".parse().unwrap();
        let s = gap.between(tz, utc("2023-03-26T00:00:00Z"), utc("2023-03-26T06:00:00Z"));
        assert_eq!(
            s,
            vec![utc("2023-03-26T01:00:00Z")],
            "two gap times, one start"
        );
    }

    #[test]
    fn a_slot_in_the_autumn_overlap_starts_once_at_the_first_instant() {
        // Berlin, 29/10/2023: 02:00–03:00 happens twice (00:00 UTC, then 01:00 UTC).
        let c: CronSpec = "30 2 * * *".parse().unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let s = c.between(tz, utc("2023-10-28T00:00:00Z"), utc("2023-10-31T00:00:00Z"));
        assert_eq!(
            s,
            vec![
                utc("2023-10-28T00:30:00Z"),
                utc("2023-10-29T00:30:00Z"),
                utc("2023-10-30T01:30:00Z")
            ]
        );
    }
}
