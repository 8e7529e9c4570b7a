//! Dates and times as the console shows and takes them: a day is typed and shown
//! `dd/mm/yyyy` whatever the browser's locale (a text field, not `<input type=date>`, whose
//! display follows the browser), and scripts may still send `yyyy-mm-dd`; an instant is
//! shown in its station's zone. One place for the pages that filter by day (airlog,
//! reports, audit) and those that show times (airlog, announcements).

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use maud::{html, Markup};

use crate::lang::Lang;
use crate::plan::Plan;

/// What a day field accepts, for the browser (`pattern`): `dd/mm/yyyy` (one-digit day and
/// month too) or `yyyy-mm-dd`.
pub const DAY_PATTERN: &str = "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}";

/// A day field that is not a day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} '{given}' is not a date (expected dd/mm/yyyy or YYYY-MM-DD)")]
pub struct DayError {
    /// The field (`from`, `to`, `since`).
    pub field: &'static str,
    /// What was typed (at most 40 characters of it).
    pub given: String,
}

impl DayError {
    /// The sentence in `lang`, for the field's place on a page.
    pub fn sentence(&self, lang: Lang) -> String {
        match lang {
            Lang::Vi => format!(
                "'{}' không phải một ngày; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/01/2026.",
                self.given
            ),
            Lang::En => format!(
                "'{}' is not a date; type it as dd/mm/yyyy, e.g. 05/01/2026.",
                self.given
            ),
        }
    }
}

/// Parses a typed day: `dd/mm/yyyy` (as shown) or `yyyy-mm-dd` (scripts), surrounding
/// blanks ignored.
pub fn parse_day(field: &'static str, s: &str) -> Result<NaiveDate, DayError> {
    let t = s.trim();
    let strict = |fmt: &str| {
        NaiveDate::parse_from_str(t, fmt)
            .ok()
            // chrono takes a year of any length; a day field wants four digits.
            .filter(|d| (1000..=9999).contains(&chrono::Datelike::year(d)))
    };
    let four = t.len() >= 8 && t.is_ascii();
    let iso = four && t.as_bytes().get(4) == Some(&b'-');
    let day = if iso {
        strict("%Y-%m-%d")
    } else if four {
        strict("%d/%m/%Y")
    } else {
        None
    };
    day.ok_or_else(|| DayError {
        field,
        given: t.chars().take(40).collect(),
    })
}

/// A day as the console shows it: `dd/mm/yyyy`.
pub fn show_day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A day field: a text input that shows and takes `dd/mm/yyyy` on every browser (numeric
/// keypad on a phone), with its error, if any, above it.
pub fn day_input(name: &str, value: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p.field-error role="alert" { (e) } }
        input id=(name) type="text" name=(name) value=(value) inputmode="numeric"
            placeholder="dd/mm/yyyy" pattern=(DAY_PATTERN) maxlength="10" size="10"
            autocomplete="off" aria-invalid=[error.map(|_| "true")];
    }
}

/// The zone of the station `code` (the plan's; the district's default for a station the
/// plan does not know).
pub fn station_zone(plan: &Plan, code: &str) -> Tz {
    plan.station(code)
        .map_or(crate::report::DEFAULT_TZ, |s| s.timezone)
}

/// An RFC 3339 instant in `tz`, `HH:MM:SS dd/mm/yyyy`; shown as stored when it does not
/// parse.
pub fn local_time(t: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(t)
        .map(|t| t.with_timezone(&tz).format("%H:%M:%S %d/%m/%Y").to_string())
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_day_is_taken_as_shown_and_as_scripts_send_it() {
        assert_eq!(parse_day("from", "05/01/2026"), Ok(d(2026, 1, 5)));
        assert_eq!(parse_day("from", " 5/1/2026 "), Ok(d(2026, 1, 5)));
        assert_eq!(parse_day("from", "2026-01-05"), Ok(d(2026, 1, 5)));
    }

    #[test]
    fn a_day_that_is_not_one_is_refused_naming_the_field_and_what_was_typed() {
        for bad in [
            "",
            "31/02/2026",
            "13/13/2026",
            "01/05/26",
            "2026/01/05",
            "5/1/20x",
            "hôm qua",
        ] {
            let e = parse_day("to", bad).unwrap_err();
            assert_eq!(e.field, "to");
            assert!(
                e.to_string().starts_with(&format!("to '{}'", bad.trim())),
                "{e}"
            );
        }
        let e = parse_day("since", "01/05/26").unwrap_err();
        assert!(e.sentence(Lang::Vi).contains("dd/mm/yyyy"));
        assert!(e.sentence(Lang::Vi).contains("không phải một ngày"));
    }

    #[test]
    fn a_day_is_shown_day_first() {
        assert_eq!(show_day(d(2026, 1, 5)), "05/01/2026");
        assert_eq!(
            parse_day("x", &show_day(d(2024, 2, 29))),
            Ok(d(2024, 2, 29))
        );
    }

    #[test]
    fn a_day_field_is_a_text_input_with_the_day_first_placeholder_and_its_error() {
        let plain = day_input("from", "05/01/2026", None).into_string();
        assert!(plain.contains(r#"type="text""#), "{plain}");
        assert!(plain.contains(r#"inputmode="numeric""#));
        assert!(plain.contains(r#"placeholder="dd/mm/yyyy""#));
        assert!(plain.contains(r#"value="05/01/2026""#));
        assert!(!plain.contains("aria-invalid"));
        let bad = day_input("from", "x", Some("Sai.")).into_string();
        assert!(bad.contains("field-error") && bad.contains("Sai."));
        assert!(bad.contains(r#"aria-invalid="true""#));
    }

    #[test]
    fn an_instant_is_shown_in_the_zone_asked() {
        let t = "2026-01-05T05:30:00+00:00";
        assert_eq!(
            local_time(t, chrono_tz::Asia::Ho_Chi_Minh),
            "12:30:00 05/01/2026"
        );
        assert_eq!(local_time(t, chrono_tz::Asia::Tokyo), "14:30:00 05/01/2026");
        assert_eq!(local_time("garbage", chrono_tz::UTC), "garbage");
    }
}
