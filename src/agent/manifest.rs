//! The manifest a commune machine syncs: its station's slot instances and items for the
//! next `agent.horizon_days` from the district's kept schedules, the metadata of every
//! bulletin they name (with the SHA-256 and size of its audio), the plan's fallback and the
//! station's time zone. Built by the server ([`Manifest::build`], pure), versioned by its
//! [`Manifest::etag`] (the SHA-256 of its JSON: the same content always has the same tag),
//! and checked by the node before it replaces the last good one ([`Manifest::check`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::library::{Bulletin, Kind, Priority, Topic};
use crate::plan::{Plan, Station};
use crate::schedule::SlotPlaylist;

/// The manifest's format and version.
pub const FORMAT: &str = "loa-agent-manifest/1";

/// What a node plays for its next days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The station.
    pub station: ManifestStation,
    /// The plan's name.
    pub plan: String,
    /// The first local date covered.
    pub from: NaiveDate,
    /// How many days from `from` are covered.
    pub days: u32,
    /// Slot instances in order, with their items.
    pub slots: Vec<SlotPlaylist>,
    /// Every bulletin the slots or the fallback name, by id.
    pub bulletins: BTreeMap<String, ManifestBulletin>,
    /// What plays when a slot has nothing (bulletin ids, in order).
    pub fallback: Vec<String>,
    /// The plan's text as the server serves it: the node plays with the same plan (its
    /// fallback, and its slots past the manifest's days).
    #[serde(default)]
    pub plan_text: String,
}

/// The station a manifest is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestStation {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub timezone: String,
}

/// A bulletin as a node needs it: what it is, and the audio to fetch and verify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestBulletin {
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: Kind,
    /// Its topic.
    pub topic: Topic,
    /// Its broadcast level.
    pub priority: Priority,
    /// SHA-256 of the audio file, 64 lower-case hex digits: its name in the cache.
    pub sha256: String,
    /// Size of the audio file, bytes.
    pub size_bytes: u64,
    /// Its container (the file's extension).
    pub container: String,
    /// Decoded length, ms.
    pub duration_ms: u64,
    /// Integrated loudness, LUFS (playout's gain).
    pub loudness_lufs: Option<f64>,
    /// True peak, dBTP (playout's gain stays under the ceiling).
    #[serde(default)]
    pub true_peak_dbtp: Option<f64>,
    /// Everything ingest measured of the audio (its format, frames, silences): the node's
    /// player reads the bulletin as the district's does.
    #[serde(default)]
    pub facts: Option<crate::library::AudioFacts>,
}

impl ManifestBulletin {
    /// The manifest's view of a library bulletin.
    pub fn of(b: &Bulletin) -> ManifestBulletin {
        ManifestBulletin {
            title: b.meta.title.clone(),
            kind: b.meta.kind,
            topic: b.meta.topic,
            priority: b.meta.priority,
            sha256: b.audio.sha256.clone(),
            size_bytes: b.audio.size_bytes,
            container: b.audio.container.clone(),
            duration_ms: b.audio.duration_ms,
            loudness_lufs: b.audio.loudness_lufs,
            true_peak_dbtp: b.audio.true_peak_dbtp,
            facts: Some(b.audio.clone()),
        }
    }
}

/// Whether `s` is a SHA-256 as the manifest writes it (64 lower-case hex digits): safe as a
/// file name.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Manifest {
    /// The manifest of `station` for `days` days from `from`: its `slots` and the
    /// `bulletins` they and the plan's fallback name (bulletins not found are left out; the
    /// node logs their items as missing).
    pub fn build(
        plan: &Plan,
        station: &Station,
        from: NaiveDate,
        days: u32,
        slots: Vec<SlotPlaylist>,
        bulletins: &[Bulletin],
    ) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            station: ManifestStation {
                code: station.code.clone(),
                name: station.name.clone(),
                timezone: station.timezone.name().to_string(),
            },
            plan: plan.name.clone(),
            from,
            days,
            slots,
            bulletins: bulletins
                .iter()
                .map(|b| (b.id.to_string(), ManifestBulletin::of(b)))
                .collect(),
            fallback: plan.fallback.iter().map(|id| id.to_string()).collect(),
            plan_text: plan.text.to_string(),
        }
    }

    /// The bulletin ids the slots and the fallback name, each once, fallback first.
    pub fn named_ids(slots: &[SlotPlaylist], plan: &Plan) -> Vec<crate::library::BulletinId> {
        let mut out = Vec::new();
        let items = slots
            .iter()
            .flat_map(|s| s.items.iter().map(|i| i.bulletin_id));
        for id in plan.fallback.iter().copied().chain(items) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// Its version: the SHA-256 of its JSON, quoted as an HTTP entity tag.
    pub fn etag(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("\"{}\"", hex::encode(Sha256::digest(json)))
    }

    /// The audio it names, each file once, by SHA-256.
    pub fn media(&self) -> BTreeMap<&str, &ManifestBulletin> {
        self.bulletins
            .values()
            .map(|b| (b.sha256.as_str(), b))
            .collect()
    }

    /// Whether a node may take it: its format, and every hash a safe cache name.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "the manifest's format is '{}', not {FORMAT}; upgrade loa on this machine",
                self.format
            ));
        }
        if let Some(b) = self.bulletins.values().find(|b| !is_sha256(&b.sha256)) {
            return Err(format!(
                "the manifest names audio '{}' that is not a SHA-256",
                b.sha256
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let text = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
            [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
            [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";
        crate::plan::validate::check(text, "p.toml").expect("the test plan is valid")
    }

    fn manifest() -> Manifest {
        let p = plan();
        let day = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        Manifest::build(&p, &p.stations[0], day, 7, vec![], &[])
    }

    #[test]
    fn the_same_content_has_the_same_tag_and_a_change_a_new_one() {
        let a = manifest();
        assert_eq!(a.etag(), manifest().etag());
        let mut b = manifest();
        b.days = 6;
        assert_ne!(a.etag(), b.etag());
    }

    #[test]
    fn a_manifest_names_its_station_and_time_zone() {
        let m = manifest();
        assert_eq!(m.station.code, "vinh-an");
        assert_eq!(m.station.timezone, "Asia/Ho_Chi_Minh");
        assert_eq!(m.check(), Ok(()));
    }

    #[test]
    fn a_hash_that_could_escape_the_cache_is_refused() {
        assert!(is_sha256(&"ab".repeat(32)));
        assert!(!is_sha256(&format!("../{}", "a".repeat(61))));
        assert!(!is_sha256(&"AB".repeat(32)));
        let mut m = manifest();
        m.bulletins.insert(
            "x".into(),
            ManifestBulletin {
                title: "t".into(),
                kind: Kind::News,
                topic: Topic::Other,
                priority: Priority::Normal,
                sha256: "../../etc/passwd".into(),
                size_bytes: 1,
                container: "wav".into(),
                duration_ms: 1,
                loudness_lufs: None,
                true_peak_dbtp: None,
                facts: None,
            },
        );
        assert!(m.check().is_err());
    }

    #[test]
    fn another_format_is_refused_with_advice() {
        let mut m = manifest();
        m.format = "loa-agent-manifest/9".into();
        assert!(m.check().unwrap_err().contains("upgrade loa"));
    }
}
