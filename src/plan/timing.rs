//! Durations as operators write them (`90s`, `30m`, `1h30m`, `2d`) and slot start times as
//! cron expressions in station local time.
//!
//! Cron takes the usual five fields, `minute hour day-of-month month day-of-week`, with
//! day-of-week numbered the Unix way (0 or 7 = Sunday, 1 = Monday) or named (`Mon-Sat`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

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
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "'{text}' is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            ));
        }
        let dow = dow_names(fields[4]).map_err(|e| format!("'{text}': {e}"))?;
        let six = format!(
            "0 {} {} {} {} {}",
            fields[0], fields[1], fields[2], fields[3], dow
        );
        let schedule = cron::Schedule::from_str(&six)
            .map_err(|e| format!("'{text}' is not a valid cron expression: {e}"))?;
        Ok(CronSpec {
            text: text.trim().to_string(),
            schedule,
        })
    }
}

impl CronSpec {
    /// Start instants in `[from, to)`, computed in the station's time zone.
    pub fn between(&self, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        // `after` is exclusive: start one second before `from`.
        let start = tz.from_utc_datetime(&(from - chrono::Duration::seconds(1)).naive_utc());
        self.schedule
            .after(&start)
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t < to)
            .collect()
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
}
