//! What a slot instance as a whole did, for its slot row: its items counted by how they
//! ended ([`SlotTally`]) and the status and reason that follow ([`SlotOutcome`]). Pure; the
//! player fills a tally as items end, recovery fills one from the rows a crash left.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::reason::{AirReason, Reason};
use super::status::AirStatus;

/// Why a slot instance was cut short by loa itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotCut {
    /// The daemon stopped during the slot.
    Stopped,
    /// A crash or power cut (found at the next start).
    Crash,
}

/// A slot instance's items so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotTally {
    /// Items by how they ended.
    pub statuses: BTreeMap<AirStatus, u32>,
    /// Audio time carried, ms.
    pub played_ms: u64,
    /// When the last audio ended.
    pub last_end: Option<DateTime<Utc>>,
    /// Fallback items played because the slot had no content.
    pub fallback: bool,
    /// The operator who stopped the slot.
    pub stopped_by: Option<String>,
    /// Why the slot was cut short (the daemon stopped, or a crash).
    pub cut: Option<SlotCut>,
}

/// How a slot row closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOutcome {
    /// The slot instance's status.
    pub status: AirStatus,
    /// What it did (added after the slot's name).
    pub reason: AirReason,
}

impl SlotTally {
    /// Counts one item that ended with `status` after `played_ms` of audio. An open status
    /// counts as interrupted (it can only be one left by a crash).
    pub fn count(&mut self, status: AirStatus, played_ms: u64) {
        let status = if status.is_open() {
            AirStatus::Interrupted
        } else {
            status
        };
        *self.statuses.entry(status).or_default() += 1;
        self.played_ms += played_ms;
    }

    /// Items counted.
    pub fn items(&self) -> u32 {
        self.statuses.values().sum()
    }

    /// The slot row's status and what its reason adds.
    pub fn outcome(&self) -> SlotOutcome {
        let items = self.items();
        let aired = self.statuses.get(&AirStatus::Aired).copied().unwrap_or(0);
        let mut others: Vec<(AirStatus, u32)> = self
            .statuses
            .iter()
            .filter(|(k, _)| **k != AirStatus::Aired)
            .map(|(k, n)| (*k, *n))
            .collect();
        // In the order of the stored codes, as loa has always listed them.
        others.sort_by_key(|(k, _)| k.as_str());
        let mut parts = vec![Reason::SlotSummary {
            aired,
            items,
            others,
        }];
        if self.fallback {
            parts.push(Reason::FallbackPlayed);
        }
        if let Some(who) = &self.stopped_by {
            parts.push(Reason::SlotStoppedBy { who: who.clone() });
        }
        let status = if let Some(cut) = self.cut {
            parts.push(match cut {
                SlotCut::Stopped => Reason::StoppedDuringSlot,
                SlotCut::Crash => Reason::CrashDuringSlot,
            });
            AirStatus::Interrupted
        } else if items == 0 {
            parts = vec![Reason::Silent];
            AirStatus::Failed
        } else if aired == items {
            AirStatus::Aired
        } else if self.played_ms > 0 {
            AirStatus::Partial
        } else if self.statuses.contains_key(&AirStatus::Failed) {
            AirStatus::Failed
        } else {
            AirStatus::Skipped
        };
        SlotOutcome {
            status,
            reason: AirReason::of(parts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AirStatus::*;

    fn tally(items: &[(AirStatus, u64)]) -> SlotTally {
        let mut r = SlotTally::default();
        for (status, ms) in items {
            r.count(*status, *ms);
        }
        r
    }

    #[test]
    fn a_slot_row_says_what_its_items_did() {
        let all = tally(&[(Aired, 1000), (Aired, 2000)]).outcome();
        assert_eq!(
            (all.status, all.reason.en()),
            (Aired, "2 of 2 item(s) aired".into())
        );
        let some = tally(&[(Aired, 1000), (Failed, 0), (Partial, 500)]);
        let o = some.outcome();
        assert_eq!(
            (o.status, o.reason.en()),
            (Partial, "1 of 3 item(s) aired, 1 failed, 1 partial".into())
        );
        assert_eq!(some.played_ms, 1500);
        assert_eq!(tally(&[(Failed, 0), (Skipped, 0)]).outcome().status, Failed);
        assert_eq!(tally(&[(Skipped, 0)]).outcome().status, Skipped);
        let silent = tally(&[]).outcome();
        assert_eq!(silent.status, Failed);
        assert!(silent.reason.en().contains("stayed silent"));
    }

    #[test]
    fn a_stopped_or_shut_down_slot_says_so() {
        let mut r = tally(&[(Aired, 1000), (Partial, 10)]);
        r.stopped_by = Some("Chị Lan".into());
        assert_eq!(r.outcome().status, Partial);
        assert!(r.outcome().reason.en().ends_with("slot stopped by Chị Lan"));
        r.cut = Some(SlotCut::Stopped);
        assert_eq!(r.outcome().status, Interrupted);
        let mut f = tally(&[(Aired, 1000)]);
        f.fallback = true;
        assert_eq!(f.outcome().status, Aired);
        assert!(f.outcome().reason.en().contains("fallback"));
    }

    #[test]
    fn an_item_left_open_by_a_crash_counts_as_interrupted() {
        let mut r = tally(&[(Playing, 700)]);
        r.cut = Some(SlotCut::Crash);
        let o = r.outcome();
        assert_eq!(o.status, Interrupted);
        assert_eq!(
            o.reason.en(),
            "0 of 1 item(s) aired, 1 interrupted; loa stopped during the slot (crash or power cut)"
        );
    }
}
