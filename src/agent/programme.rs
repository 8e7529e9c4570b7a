//! The commune machine's [`Programme`]: the slot instances and bulletins of its kept
//! manifest, the audio from its verified cache. Past the days the manifest covers it has
//! no playlists: it plays the plan's slots with nothing in them (the player fills them
//! with the fallback) and says so once ([`NodeProgramme::past_horizon`]). Make-ups come
//! from the node's own airlog, as on the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use super::manifest::{Manifest, ManifestBulletin};
use crate::library::{ApprovalState, AudioFacts, Bulletin, BulletinId, BulletinMeta, StateChange};
use crate::plan::{Plan, Station};
use crate::playout::cues::{Library, Makeup};
use crate::playout::seams::Programme;
use crate::playout::service::PlayoutError;
use crate::schedule::SlotPlaylist;
use crate::store::{Store, StoreError};

/// A node's programme.
pub struct NodeProgramme {
    /// The kept manifest.
    manifest: Manifest,
    /// Its bulletins as playout reads them, their audio in the cache.
    library: Arc<Library>,
    /// The plan the manifest carries.
    plan: Arc<Plan>,
    /// The node's own store (its airlog: make-ups).
    store: Arc<dyn Store>,
    /// The first slot start past the manifest's days that was played with the fallback
    /// (the alert is raised once).
    warned: Mutex<Option<DateTime<Utc>>>,
    /// When the manifest came.
    received: DateTime<Utc>,
}

/// Why the kept manifest cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum ProgrammeError {
    /// The manifest's plan does not parse.
    #[error("the plan in the kept manifest does not check: {0}")]
    Plan(String),
    /// The manifest names another station than the plan has.
    #[error("station '{0}' of the kept manifest is not in its plan")]
    Station(String),
}

impl NodeProgramme {
    /// The programme of `manifest` (its audio named by SHA-256 in the node's cache, where
    /// the player's audio store points), with make-ups from `store`.
    pub fn new(
        manifest: Manifest,
        store: Arc<dyn Store>,
        received: DateTime<Utc>,
    ) -> Result<NodeProgramme, ProgrammeError> {
        let plan = crate::plan::validate::check(&manifest.plan_text, "manifest.json (plan)")
            .map_err(|e| ProgrammeError::Plan(e.to_string()))?;
        if plan.station(&manifest.station.code).is_none() {
            return Err(ProgrammeError::Station(manifest.station.code.clone()));
        }
        let library = manifest
            .bulletins
            .iter()
            .filter_map(|(id, b)| {
                let id: BulletinId = id.parse().ok()?;
                Some((id, bulletin(id, b, received)))
            })
            .collect::<HashMap<_, _>>();
        Ok(NodeProgramme {
            manifest,
            library: Arc::new(library),
            plan: Arc::new(plan),
            store,
            warned: Mutex::new(None),
            received,
        })
    }

    /// When the manifest came.
    pub fn received_at(&self) -> DateTime<Utc> {
        self.received
    }

    /// The plan the manifest carries.
    pub fn plan(&self) -> Arc<Plan> {
        self.plan.clone()
    }

    /// The station the manifest is for, as its plan has it.
    pub fn station(&self) -> Station {
        self.plan
            .station(&self.manifest.station.code)
            .cloned()
            .expect("checked in new")
    }

    /// The instant the manifest's days end.
    pub fn horizon_end(&self) -> DateTime<Utc> {
        let station = self.station();
        let end = self.manifest.from + chrono::Duration::days(i64::from(self.manifest.days));
        local_midnight(&station, end)
    }

    /// The first slot start past the manifest's days played with the fallback, if any.
    pub fn past_horizon(&self) -> Option<DateTime<Utc>> {
        *self.warned.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A station's local midnight starting `d`.
pub fn local_midnight(station: &Station, d: chrono::NaiveDate) -> DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    station
        .timezone
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

/// A manifest bulletin as the player reads it: its audio is the cache file named by its
/// SHA-256 (missing when it never arrived: the player logs the item as such).
pub(crate) fn bulletin(id: BulletinId, b: &ManifestBulletin, received: DateTime<Utc>) -> Bulletin {
    let by = StateChange {
        by: "district".into(),
        at: received,
    };
    Bulletin {
        id,
        meta: BulletinMeta {
            title: b.title.clone(),
            kind: b.kind,
            topic: b.topic,
            priority: b.priority,
            producer: String::new(),
            language: "vi".into(),
            valid_from: None,
            valid_until: None,
            stations: Vec::new(),
            notes: String::new(),
        },
        audio: b.facts.clone().unwrap_or_else(|| AudioFacts {
            sha256: b.sha256.clone(),
            size_bytes: b.size_bytes,
            codec: String::new(),
            container: b.container.clone(),
            sample_rate: 0,
            channels: 0,
            duration_ms: b.duration_ms,
            frames: 0,
            loudness_lufs: b.loudness_lufs,
            loudness_range_lu: None,
            true_peak_dbtp: b.true_peak_dbtp,
            leading_silence_ms: 0,
            trailing_silence_ms: 0,
            tag_title: None,
            tag_artist: None,
        }),
        audio_path: b.sha256.clone(),
        original_name: String::new(),
        state: ApprovalState::Approved,
        added: by.clone(),
        approved: Some(by),
        retired: None,
    }
}

/// The slot instances of `slots` that end after `from` and start before `to` (a slot
/// still running at `from` is joined late).
pub fn overlapping(
    slots: &[SlotPlaylist],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SlotPlaylist> {
    slots
        .iter()
        .filter(|s| {
            let t = s.start.with_timezone(&Utc);
            t + chrono::Duration::seconds(i64::from(s.length_s)) > from && t < to
        })
        .cloned()
        .collect()
}

/// The plan's running slot instances of `station` in `[from, to)` with no items: what a
/// node plays past its manifest (the player fills an empty slot with the fallback).
pub fn empty_slots(
    plan: &Plan,
    station: &Station,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<SlotPlaylist> {
    if from >= to {
        return Vec::new();
    }
    crate::plan::calendar::instances(plan, station, from, to)
        .into_iter()
        .filter(|i| i.skipped.is_none())
        .filter_map(|i| {
            let slot = plan.slots.get(i.slot)?;
            Some(SlotPlaylist {
                name: slot.name.clone(),
                start: i.start.with_timezone(&station.timezone).fixed_offset(),
                length_s: slot.length_s,
                cchc_s: slot.cchc_s,
                items: Vec::new(),
            })
        })
        .collect()
}

#[async_trait]
impl Programme for NodeProgramme {
    async fn slots(
        &self,
        station: &Station,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> Result<Vec<SlotPlaylist>, PlayoutError> {
        if station.code != self.manifest.station.code {
            return Err(PlayoutError::Refused(format!(
                "this machine plays station '{}', not '{}'",
                self.manifest.station.code, station.code
            )));
        }
        let end = self.horizon_end();
        let mut out = overlapping(&self.manifest.slots, from, to.min(end));
        let past = empty_slots(&self.plan, station, from.max(end), to);
        if let Some(first) = past.first() {
            let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
            if warned.is_none() {
                tracing::error!(
                    alert = "past_horizon",
                    station = %station.code,
                    horizon = %end,
                    "ALERT: the kept manifest ends before {}: slots after it play the fallback until the server is reached",
                    first.start
                );
                *warned = Some(first.start.with_timezone(&Utc));
            }
        }
        out.extend(past);
        Ok(out)
    }

    async fn library(&self) -> Result<Arc<Library>, StoreError> {
        Ok(self.library.clone())
    }

    async fn makeups(&self, station: &str, from: DateTime<Utc>) -> Result<Vec<Makeup>, StoreError> {
        crate::playout::service::pending_makeups(self.store.as_ref(), station, from).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let text = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
            [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
            [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";
        crate::plan::validate::check(text, "p.toml").unwrap()
    }

    #[test]
    fn past_the_manifest_each_running_slot_plays_empty_for_the_fallback() {
        let p = plan();
        let s = &p.stations[0];
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let from = local_midnight(s, day);
        let slots = empty_slots(&p, s, from, from + chrono::Duration::days(3));
        assert_eq!(slots.len(), 3);
        assert!(slots.iter().all(|s| s.items.is_empty()));
        assert_eq!(slots[0].start.to_rfc3339(), "2026-12-06T06:00:00+07:00");
    }

    #[test]
    fn a_slot_still_running_at_the_start_is_joined_late() {
        let p = plan();
        let s = &p.stations[0];
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let from = local_midnight(s, day);
        let slots = empty_slots(&p, s, from, from + chrono::Duration::days(1));
        let six_oh_five = slots[0].start.with_timezone(&Utc) + chrono::Duration::minutes(5);
        assert_eq!(
            overlapping(
                &slots,
                six_oh_five,
                six_oh_five + chrono::Duration::hours(1)
            )
            .len(),
            1
        );
        let after = six_oh_five + chrono::Duration::minutes(5);
        assert!(overlapping(&slots, after, after + chrono::Duration::hours(1)).is_empty());
    }
}
