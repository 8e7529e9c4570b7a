//! The only place that reads the time. Everything else takes a [`Clock`] (or an instant)
//! as a parameter, so a whole week can be simulated in seconds.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A source of the current instant (UTC).
pub trait Clock: Send + Sync {
    /// Now, UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to: tests and offline renders set it.
#[derive(Debug, Clone)]
pub struct SimClock {
    /// Shared so that every holder of a clone sees the same instant.
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl SimClock {
    /// A simulated clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        SimClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock to `t` (forward or back, as a stepped system clock would).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += d;
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_of_a_simulated_clock_share_one_instant() {
        let t0 = DateTime::parse_from_rfc3339("2023-03-06T05:30:00+07:00")
            .unwrap()
            .with_timezone(&Utc);
        let a = SimClock::new(t0);
        let b = a.clone();
        a.advance(chrono::Duration::seconds(90));
        assert_eq!(b.now(), t0 + chrono::Duration::seconds(90));
        b.set(t0);
        assert_eq!(a.now(), t0);
    }
}
