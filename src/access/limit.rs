//! The login rate limit (issue 13, point 2), pure: failed logins are counted per account
//! and per client address over a sliding window; once an account has [`ACCOUNT_FAILURES`]
//! failures (or an address [`ADDRESS_FAILURES`]) within [`WINDOW_MINUTES`], further
//! attempts are refused without checking the password until the oldest failure leaves
//! the window. The address limit is higher because a commune office or a district LAN
//! often shares one address behind its router.
//!
//! The counts live in the daemon's memory (a restart forgets them); the caller passes the
//! time, so the rule is tested without a clock.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

/// Failures of one account within the window after which it is refused.
pub const ACCOUNT_FAILURES: usize = 5;
/// Failures from one address within the window after which it is refused.
pub const ADDRESS_FAILURES: usize = 20;
/// The window, in minutes.
pub const WINDOW_MINUTES: i64 = 15;
/// The most keys remembered: past it the keys whose last failure is oldest are forgotten
/// first, so a flood of made-up names cannot grow the daemon's memory without bound.
pub const MAX_KEYS: usize = 10_000;

/// What a failure is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// An account name as typed (NFC, trimmed; unknown names count too).
    Account(String),
    /// A client address.
    Address(String),
}

impl Key {
    /// How many failures within the window refuse this key.
    fn limit(&self) -> usize {
        match self {
            Key::Account(_) => ACCOUNT_FAILURES,
            Key::Address(_) => ADDRESS_FAILURES,
        }
    }
}

/// The failed logins within the window, by key.
#[derive(Debug, Default, Clone)]
pub struct Failures {
    /// Each key's failure instants, oldest first, none older than the window.
    by_key: HashMap<Key, Vec<DateTime<Utc>>>,
}

fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

impl Failures {
    /// `Ok` when an attempt for `keys` may go ahead at `now`; otherwise the instant the
    /// last of the keys that refuse it is free again.
    pub fn check(&self, keys: &[Key], now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        let mut free_at: Option<DateTime<Utc>> = None;
        for key in keys {
            let Some(times) = self.by_key.get(key) else {
                continue;
            };
            let recent: Vec<&DateTime<Utc>> =
                times.iter().filter(|t| now - **t < window()).collect();
            if recent.len() >= key.limit() {
                // Free once the failure that makes the count reach the limit leaves.
                let at = *recent[recent.len() - key.limit()] + window();
                free_at = Some(free_at.map_or(at, |f| f.max(at)));
            }
        }
        free_at.map_or(Ok(()), Err)
    }

    /// Counts one failure against each of `keys` at `now`.
    pub fn record(&mut self, keys: &[Key], now: DateTime<Utc>) {
        self.forget_before(now);
        for key in keys {
            self.by_key.entry(key.clone()).or_default().push(now);
        }
        if self.by_key.len() > MAX_KEYS {
            let mut last: Vec<(DateTime<Utc>, Key)> = self
                .by_key
                .iter()
                .map(|(k, t)| (t.last().copied().unwrap_or(now), k.clone()))
                .collect();
            last.sort_by_key(|(t, _)| *t);
            for (_, k) in last.into_iter().take(self.by_key.len() - MAX_KEYS) {
                self.by_key.remove(&k);
            }
        }
    }

    /// Takes an attempt for `keys` at `now`: refused as [`Failures::check`] says, else
    /// counted as a failure at once, so attempts made together cannot all pass the check
    /// while their passwords are being checked. A login that then succeeds calls
    /// [`Failures::succeeded`].
    pub fn attempt(&mut self, keys: &[Key], now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
        self.check(keys, now)?;
        self.record(keys, now);
        Ok(())
    }

    /// Takes back the attempt made at `at` for `keys` because it logged in: the account's
    /// failures are forgotten, the address keeps its others.
    pub fn succeeded(&mut self, keys: &[Key], at: DateTime<Utc>) {
        for key in keys {
            match key {
                Key::Account(_) => self.clear(key),
                Key::Address(_) => {
                    if let Some(times) = self.by_key.get_mut(key) {
                        if let Some(i) = times.iter().rposition(|t| *t == at) {
                            times.remove(i);
                        }
                        if times.is_empty() {
                            self.by_key.remove(key);
                        }
                    }
                }
            }
        }
    }

    /// Forgets an account's failures (after it logged in).
    pub fn clear(&mut self, key: &Key) {
        self.by_key.remove(key);
    }

    /// Drops failures that have left the window at `now`, and keys left with none.
    fn forget_before(&mut self, now: DateTime<Utc>) {
        self.by_key.retain(|_, times| {
            times.retain(|t| now - *t < window());
            !times.is_empty()
        });
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Whole minutes from `now` until `free_at`, at least one (what the refusal tells people).
pub fn minutes_until(now: DateTime<Utc>, free_at: DateTime<Utc>) -> i64 {
    let secs = (free_at - now).num_seconds().max(0);
    ((secs + 59) / 60).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64, sec: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-06T03:00:00Z")
            .unwrap()
            .to_utc()
            + Duration::minutes(min)
            + Duration::seconds(sec)
    }

    fn keys(name: &str, addr: &str) -> Vec<Key> {
        vec![Key::Account(name.into()), Key::Address(addr.into())]
    }

    #[test]
    fn four_failures_leave_an_account_free_and_the_fifth_refuses_it() {
        let mut f = Failures::default();
        let k = keys("an", "10.0.0.1");
        for i in 0..4 {
            f.record(&k, t(i, 0));
        }
        assert_eq!(f.check(&k, t(4, 0)), Ok(()));
        f.record(&k, t(4, 0));
        assert_eq!(f.check(&k, t(4, 1)), Err(t(15, 0)));
        assert_eq!(minutes_until(t(4, 1), t(15, 0)), 11);
    }

    #[test]
    fn a_refused_account_is_free_again_once_its_oldest_failure_leaves_the_window() {
        let mut f = Failures::default();
        let k = keys("an", "10.0.0.1");
        for i in 0..5 {
            f.record(&k, t(i, 0));
        }
        assert!(f.check(&k, t(14, 59)).is_err());
        assert_eq!(f.check(&k, t(15, 0)), Ok(()));
    }

    #[test]
    fn the_limit_is_per_account_another_account_from_the_same_address_goes_ahead() {
        let mut f = Failures::default();
        for i in 0..5 {
            f.record(&keys("an", "10.0.0.1"), t(i, 0));
        }
        assert!(f.check(&keys("an", "10.0.0.2"), t(5, 0)).is_err());
        assert_eq!(f.check(&keys("binh", "10.0.0.1"), t(5, 0)), Ok(()));
    }

    #[test]
    fn an_address_is_refused_after_twenty_failures_across_accounts() {
        let mut f = Failures::default();
        for i in 0..20 {
            f.record(&keys(&format!("user{i}"), "10.0.0.9"), t(0, i));
        }
        assert_eq!(
            f.check(&keys("someone-new", "10.0.0.9"), t(1, 0)),
            Err(t(15, 0))
        );
        assert_eq!(f.check(&keys("someone-new", "10.0.0.8"), t(1, 0)), Ok(()));
    }

    #[test]
    fn a_login_clears_its_account_but_not_its_address() {
        let mut f = Failures::default();
        for i in 0..5 {
            f.record(&keys("an", "10.0.0.1"), t(i, 0));
        }
        f.clear(&Key::Account("an".into()));
        assert_eq!(f.check(&keys("an", "10.0.0.1"), t(5, 0)), Ok(()));
        assert_eq!(f.len(), 1, "the address keeps its count");
    }

    #[test]
    fn old_failures_are_forgotten_and_the_keys_remembered_are_bounded() {
        let mut f = Failures::default();
        f.record(&keys("an", "10.0.0.1"), t(0, 0));
        f.record(&[Key::Account("binh".into())], t(20, 0));
        assert_eq!(f.len(), 1, "the failure at 03:00 left the window by 03:20");
        for i in 0..(MAX_KEYS + 10) {
            f.record(&[Key::Account(format!("u{i}"))], t(21, 0));
        }
        assert!(f.len() <= MAX_KEYS);
    }

    #[test]
    fn attempts_made_together_are_counted_before_their_passwords_are_checked() {
        let mut f = Failures::default();
        let k = keys("an", "10.0.0.1");
        let taken = (0..8).filter(|_| f.attempt(&k, t(0, 0)).is_ok()).count();
        assert_eq!(
            taken, ACCOUNT_FAILURES,
            "the sixth concurrent attempt is refused"
        );
    }

    #[test]
    fn a_successful_attempt_is_taken_back_and_the_address_keeps_its_other_failures() {
        let mut f = Failures::default();
        f.record(&keys("binh", "10.0.0.1"), t(0, 0));
        let k = keys("an", "10.0.0.1");
        f.attempt(&k, t(1, 0)).unwrap();
        f.succeeded(&k, t(1, 0));
        assert_eq!(f.len(), 2, "binh and the address remain, an is gone");
        for i in 0..19 {
            f.record(&[Key::Address("10.0.0.1".into())], t(2, i));
        }
        assert!(
            f.check(&keys("chi", "10.0.0.1"), t(3, 0)).is_err(),
            "twenty failures: binh's and nineteen more"
        );
    }

    #[test]
    fn a_refusal_says_at_least_one_minute() {
        assert_eq!(minutes_until(t(0, 0), t(0, 5)), 1);
        assert_eq!(minutes_until(t(0, 10), t(0, 0)), 1);
        assert_eq!(minutes_until(t(0, 0), t(2, 1)), 3);
    }
}
