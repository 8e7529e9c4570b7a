//! What the benchmarks generate alike: station codes, a province plan built from the
//! district plan's rules, and synthetic approved bulletins (no audio behind them).

use chrono::DateTime;
use loa::library::{
    ApprovalState, AudioFacts, Bulletin, BulletinId, BulletinMeta, Kind, Priority, StateChange,
    Topic,
};

/// The code of commune station `i`.
pub fn code(i: usize) -> String {
    format!("xa-{i:03}")
}

/// The district plan's header, limits, rules, campaigns and blackout, with `stations`
/// commune stations and the two commune slots (05:30 and 16:30, 30m, 10m of CCHC).
pub fn province_plan_text(stations: usize) -> String {
    let district = include_str!("../../schedules/vinh-loc-2023.toml");
    let rules = &district[district.find("# Cadence rules.").expect("rules section")..];
    let mut t = String::from(
        "[plan]\nname = \"Kế hoạch tuyên truyền CCHC cấp tỉnh (thử tải)\"\nyear = 2023\n\
         timezone = \"Asia/Ho_Chi_Minh\"\n\n[limits]\nmax_sessions_per_day = 3\n\
         max_minutes_per_session = 60\napplies_to = \"communes\"\n\n",
    );
    for i in 1..=stations {
        t += &format!(
            "[[station]]\ncode = \"{}\"\nname = \"Xã {i}\"\nlevel = \"commune\"\n\n",
            code(i)
        );
    }
    for (name, cron) in [("sáng", "30 5 * * *"), ("chiều", "30 16 * * *")] {
        t += &format!(
            "[[slot]]\nname = \"Bản tin loa truyền thanh buổi {name}\"\nstations = [\"communes\"]\n\
             cron = \"{cron}\"\nlength = \"30m\"\ncchc = \"10m\"\nintro = \"auto\"\n\n"
        );
    }
    t + rules
}

/// Approved bulletin number `n`: id and SHA-256 from `n`, a 44.1 kHz mono MP3 of `seconds`
/// at -18 LUFS, added at the start of 2022 plus `n` hours, for every station.
pub fn bulletin(n: u64, kind: Kind, topic: Topic, seconds: u64) -> Bulletin {
    let sha = format!("{n:012x}{}", "0".repeat(52));
    Bulletin {
        id: BulletinId::from_sha256(&sha),
        meta: BulletinMeta {
            title: format!("{kind} {n}"),
            kind,
            topic,
            priority: Priority::Normal,
            producer: "Trung tâm VH-TT-TT&DL".into(),
            language: "vi".into(),
            valid_from: None,
            valid_until: None,
            stations: vec![],
            notes: String::new(),
        },
        audio: AudioFacts {
            sha256: sha,
            size_bytes: seconds * 16_000,
            codec: "mp3".into(),
            container: "mp3".into(),
            sample_rate: 44_100,
            channels: 1,
            duration_ms: seconds * 1000,
            frames: seconds * 44_100,
            loudness_lufs: Some(-18.0),
            loudness_range_lu: Some(5.0),
            true_peak_dbtp: Some(-2.0),
            leading_silence_ms: 0,
            trailing_silence_ms: 0,
            tag_title: None,
            tag_artist: None,
        },
        audio_path: String::new(),
        original_name: String::new(),
        state: ApprovalState::Approved,
        added: StateChange {
            by: "bench".into(),
            at: DateTime::from_timestamp(1_640_995_200 + n as i64 * 3_600, 0).expect("time"),
        },
        approved: None,
        retired: None,
    }
}
