//! ISO weeks (`2023-W10`): parsing, their days, and their bounds in a station's time zone.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// An ISO 8601 week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    /// ISO week-numbering year.
    year: i32,
    /// 1–53.
    week: u32,
}

impl IsoWeek {
    /// The week containing `date`.
    pub fn of(date: NaiveDate) -> IsoWeek {
        let w = date.iso_week();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }

    /// Its Monday.
    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon)
            .expect("validated on construction")
    }

    /// Its seven days, Monday first.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.monday().iter_days().take(7)
    }

    /// The next week.
    pub fn next(self) -> IsoWeek {
        IsoWeek::of(self.monday() + chrono::Duration::days(7))
    }

    /// The previous week.
    pub fn prev(self) -> IsoWeek {
        IsoWeek::of(self.monday() - chrono::Duration::days(7))
    }

    /// `[Monday 00:00, next Monday 00:00)` in `tz`, as UTC instants.
    pub fn bounds(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
                .earliest()
                .map_or_else(
                    || Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")),
                    |t| t.with_timezone(&Utc),
                )
        };
        (
            at(self.monday()),
            at(self.monday() + chrono::Duration::days(7)),
        )
    }

    /// The ISO week-numbering year.
    pub fn year(self) -> i32 {
        self.year
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

/// Text that is not an ISO week.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an ISO week (expected YYYY-Www, e.g. 2023-W10)")]
pub struct BadWeek(pub String);

impl FromStr for IsoWeek {
    type Err = BadWeek;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadWeek(s.to_string());
        let (y, w) = s.trim().split_once("-W").ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let week: u32 = w.parse().map_err(|_| bad())?;
        if w.len() != 2 || !(1000..=9999).contains(&year) {
            return Err(bad());
        }
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
        Ok(IsoWeek { year, week })
    }
}

impl serde::Serialize for IsoWeek {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_and_print_the_iso_way() {
        let w: IsoWeek = "2023-W10".parse().unwrap();
        assert_eq!(w.to_string(), "2023-W10");
        assert_eq!(w.monday(), NaiveDate::from_ymd_opt(2023, 3, 6).unwrap());
        assert!(
            "2023-W53".parse::<IsoWeek>().is_err(),
            "2023 has 52 ISO weeks"
        );
        assert!("2020-W53".parse::<IsoWeek>().is_ok());
        assert!("2023-10".parse::<IsoWeek>().is_err());
        assert!("2023-W1".parse::<IsoWeek>().is_err());
    }

    #[test]
    fn the_week_after_the_last_of_a_year_is_the_first_of_the_next() {
        let w: IsoWeek = "2023-W52".parse().unwrap();
        assert_eq!(w.next().to_string(), "2024-W01");
        assert_eq!(w.next().prev(), w);
    }

    #[test]
    fn bounds_are_local_midnights() {
        let w: IsoWeek = "2023-W10".parse().unwrap();
        let (from, to) = w.bounds(chrono_tz::Asia::Ho_Chi_Minh);
        assert_eq!(from.to_rfc3339(), "2023-03-05T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2023-03-12T17:00:00+00:00");
    }
}
