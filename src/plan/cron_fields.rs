//! The five fields of a slot's cron expression (`minute hour day-of-month month
//! day-of-week`), checked one by one so an error speaks of the plan's own five fields in an
//! operator's words ("hour 25 is out of range: hours run from 0 to 23"), never of the cron
//! crate's internal six-field form. [`super::timing::CronSpec`] hands the checked fields to
//! the cron crate.

/// A cron expression that is not valid, and where in its text the fault is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// Character offset of the faulty field (or part of it) in the expression as written.
    pub offset: usize,
    /// What is wrong, one sentence an operator can act on.
    pub message: String,
}

/// One of the five fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// 0–59.
    Minute,
    /// 0–23.
    Hour,
    /// 1–31.
    DayOfMonth,
    /// 1–12 or jan–dec.
    Month,
    /// 0–7 (0 and 7 = Sunday) or sun–sat.
    DayOfWeek,
}

impl Field {
    /// The five fields in the order they are written.
    pub const ALL: [Field; 5] = [
        Field::Minute,
        Field::Hour,
        Field::DayOfMonth,
        Field::Month,
        Field::DayOfWeek,
    ];

    /// Its name as an operator says it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// The values it takes.
    fn range(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    /// What the field takes, for the end of an error sentence.
    fn takes(self) -> &'static str {
        match self {
            Field::Minute => "minutes run from 0 to 59",
            Field::Hour => "hours run from 0 to 23",
            Field::DayOfMonth => "days of the month run from 1 to 31",
            Field::Month => "months run from 1 to 12, or jan to dec",
            Field::DayOfWeek => {
                "days of the week run from 0 to 7 (0 and 7 are Sunday), or sun to sat"
            }
        }
    }

    /// Names the field accepts instead of numbers, first at index 0 or 1.
    fn names(self) -> (&'static [&'static str], u32) {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        match self {
            Field::Month => (&MONTHS, 1),
            Field::DayOfWeek => (&DAYS, 0),
            _ => (&[], 0),
        }
    }
}

/// Checks the five fields of `text`; returns each field's text and its offset.
pub fn check(text: &str) -> Result<Vec<(String, usize)>, CronError> {
    let fields = split(text);
    if fields.len() != 5 {
        return Err(CronError {
            offset: 0,
            message: format!(
                "'{}' is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                text.trim(),
                fields.len()
            ),
        });
    }
    for (field, (part, at)) in Field::ALL.iter().zip(&fields) {
        check_field(*field, part).map_err(|(off, why)| CronError {
            offset: at + off,
            message: format!("'{}' is not a valid cron expression: {why}", text.trim()),
        })?;
    }
    Ok(fields)
}

/// The whitespace-separated fields of `text` with their character offsets.
fn split(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for (i, c) in text.chars().enumerate() {
        if c.is_whitespace() {
            out.extend(current.take());
        } else {
            current.get_or_insert_with(|| (String::new(), i)).0.push(c);
        }
    }
    out.extend(current);
    out
}

/// Checks one field: a comma-separated list of `*`, `N`, `N-M`, each with an optional `/STEP`.
fn check_field(field: Field, text: &str) -> Result<(), (usize, String)> {
    let name = field.name();
    let mut at = 0;
    for item in text.split(',') {
        if item.is_empty() {
            return Err((
                at,
                format!("the {name} field '{text}' has an empty list item"),
            ));
        }
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (item, None),
        };
        if let Some(step) = step {
            let step_at = at + base.chars().count() + 1;
            match step.parse::<u32>() {
                Ok(0) => {
                    return Err((
                        step_at,
                        format!("a step of 0 in the {name} field: a step must be 1 or more"),
                    ))
                }
                Ok(_) => {}
                Err(_) => {
                    return Err((
                        step_at,
                        format!("the step '{step}' in the {name} field is not a whole number"),
                    ))
                }
            }
        }
        if base != "*" {
            let (lo, hi) = match base.split_once('-') {
                Some((a, b)) => (a, Some(b)),
                None => (base, None),
            };
            let lo_v = value(field, lo).map_err(|m| (at, m))?;
            if let Some(hi) = hi {
                let hi_at = at + lo.chars().count() + 1;
                let hi_v = value(field, hi).map_err(|m| (hi_at, m))?;
                if hi_v < lo_v {
                    return Err((at, format!("the {name} range '{base}' runs backwards: write the smaller value first")));
                }
            }
        }
        at += item.chars().count() + 1;
    }
    Ok(())
}

/// One value of a field: a number in range or, for months and weekdays, a name.
fn value(field: Field, text: &str) -> Result<u32, String> {
    let name = field.name();
    let (lo, hi) = field.range();
    if let Ok(n) = text.parse::<u32>() {
        if n < lo || n > hi {
            return Err(format!("{name} {n} is out of range: {}", field.takes()));
        }
        return Ok(n);
    }
    let (names, first) = field.names();
    let lower = text.to_ascii_lowercase();
    match names.iter().position(|n| *n == lower) {
        Some(i) => Ok(i as u32 + first),
        None if text.is_empty() => Err(format!("a {name} value is missing")),
        None => Err(format!(
            "'{text}' in the {name} field is not a {name}: {}",
            field.takes()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (usize, String) {
        let e = check(text).unwrap_err();
        (e.offset, e.message)
    }

    #[test]
    fn an_hour_past_23_is_refused_in_the_plans_own_words() {
        assert_eq!(
            err("0 25 * * *"),
            (
                2,
                "'0 25 * * *' is not a valid cron expression: hour 25 is out of range: hours run from 0 to 23".into()
            )
        );
    }

    #[test]
    fn a_minute_of_60_names_the_minute_field() {
        assert_eq!(
            err("60 5 * * *").1,
            "'60 5 * * *' is not a valid cron expression: minute 60 is out of range: minutes run from 0 to 59"
        );
    }

    #[test]
    fn a_backwards_range_a_zero_step_and_a_bad_name_are_refused() {
        assert_eq!(
            err("0 5 * * 5-1").1,
            "'0 5 * * 5-1' is not a valid cron expression: the day-of-week range '5-1' runs backwards: write the smaller value first"
        );
        assert_eq!(
            err("*/0 5 * * *").1,
            "'*/0 5 * * *' is not a valid cron expression: a step of 0 in the minute field: a step must be 1 or more"
        );
        assert_eq!(
            err("0 5 * foo *"),
            (6, "'0 5 * foo *' is not a valid cron expression: 'foo' in the month field is not a month: months run from 1 to 12, or jan to dec".into())
        );
    }

    #[test]
    fn lists_ranges_steps_and_names_are_accepted() {
        for ok in [
            "*/3 * * * *",
            "0,30 5-7 1-15/2 jan-mar mon-fri",
            "30 5 * * 0",
            "0 6 * * 7",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn four_fields_are_counted() {
        assert!(err("30 5 * *").1.contains("expected 5 fields"));
    }
}
