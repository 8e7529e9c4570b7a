//! The only place that reads the time. Everything else takes a [`Clock`] (or an instant)
//! as a parameter, so a whole week can be simulated in seconds.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A future the clock hands out for waiting.
pub type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of the current instant (UTC) and of waiting for one.
pub trait Clock: Send + Sync {
    /// Now, UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Waits until `t`; at once when `t` is past. A simulated clock jumps there instead.
    fn sleep_until(&self, t: DateTime<Utc>) -> Wait;

    /// Whether time only moves when told to (renders run as fast as the machine can).
    fn simulated(&self) -> bool {
        false
    }
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Wait {
        // Re-checks the wall clock after each sleep: a stepped clock (NTP) moves the target.
        Box::pin(async move {
            loop {
                let left = t - Utc::now();
                if left <= chrono::Duration::zero() {
                    return;
                }
                let step = left
                    .to_std()
                    .unwrap_or_default()
                    .min(std::time::Duration::from_secs(1));
                tokio::time::sleep(step).await;
            }
        })
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

    fn sleep_until(&self, t: DateTime<Utc>) -> Wait {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if t > *now {
            *now = t;
        }
        Box::pin(std::future::ready(()))
    }

    fn simulated(&self) -> bool {
        true
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

    #[tokio::test]
    async fn a_simulated_clock_jumps_forward_to_the_instant_waited_for_never_back() {
        let t0 = DateTime::parse_from_rfc3339("2023-03-06T05:30:00+07:00")
            .unwrap()
            .with_timezone(&Utc);
        let c = SimClock::new(t0);
        c.sleep_until(t0 + chrono::Duration::hours(11)).await;
        assert_eq!(c.now(), t0 + chrono::Duration::hours(11));
        c.sleep_until(t0).await;
        assert_eq!(c.now(), t0 + chrono::Duration::hours(11));
    }

    #[tokio::test]
    async fn the_system_clock_returns_at_once_for_a_past_instant() {
        let c = SystemClock;
        c.sleep_until(c.now() - chrono::Duration::seconds(5)).await;
    }
}
