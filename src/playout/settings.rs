//! How playout sounds and behaves ([`Settings`]): the output format, the loudness target and
//! ceiling, make-ups, the output's latency, the daemon's name in the airlog, and the key that
//! signs its chain heads.

use std::sync::Arc;

use crate::airlog::key::DistrictKey;
use crate::config::PlayoutConfig;
use crate::playout::OutputFormat;

/// How playout sounds and behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The sink's format.
    pub format: OutputFormat,
    /// Loudness target, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub ceiling_dbtp: f64,
    /// Make up failed, cut or missed items in the next slot with room.
    pub makeup: bool,
    /// How long a sound card takes to put a sample on air (None: what the sink says).
    pub output_latency: Option<std::time::Duration>,
    /// Who the daemon is in the airlog.
    pub who: String,
    /// Where rows the store would not take are kept at a stop (none: the log only).
    pub journal: Option<std::path::PathBuf>,
    /// The district key that signs the station's chain head at every slot's end (None:
    /// heads are not signed, as in tests that do not need it).
    pub signer: Option<Arc<DistrictKey>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            format: OutputFormat::default(),
            target_lufs: crate::playout::gain::DEFAULT_TARGET_LUFS,
            ceiling_dbtp: crate::playout::gain::DEFAULT_CEILING_DBTP,
            makeup: true,
            output_latency: None,
            who: "loa".into(),
            journal: None,
            signer: None,
        }
    }
}

impl Settings {
    /// The settings the config's `[playout]` section gives: its format, loudness target,
    /// ceiling, make-ups, latency and journal, as the daemon named "loa", signing nothing
    /// yet (see [`Settings::signed_by`]).
    pub fn from_config(config: &PlayoutConfig) -> Settings {
        Settings {
            format: config.format,
            target_lufs: config.target_lufs,
            ceiling_dbtp: config.ceiling_dbtp,
            makeup: config.makeup,
            output_latency: config.output_latency,
            who: "loa".into(),
            journal: Some(config.journal.clone()),
            signer: None,
        }
    }

    /// These settings, signing every station's chain head with the district's key.
    pub fn signed_by(self, key: Arc<DistrictKey>) -> Settings {
        Settings {
            signer: Some(key),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_s_playout_section_becomes_the_settings_it_names() {
        let config = crate::config::Config::from_toml(
            "[playout]\ntarget_lufs = -18.0\nmakeup = false\noutput_latency_ms = 120\n",
            std::path::Path::new("/d/loa.toml"),
            std::path::Path::new("/d"),
            Vec::new(),
        )
        .unwrap();
        let s = Settings::from_config(&config.playout);
        assert_eq!(s.target_lufs, -18.0);
        assert!(!s.makeup);
        assert_eq!(
            s.output_latency,
            Some(std::time::Duration::from_millis(120))
        );
        assert_eq!(s.format, config.playout.format);
        assert_eq!(
            s.journal.as_deref(),
            Some(config.airlog_journal().as_path())
        );
        assert!(
            s.signer.is_none(),
            "nothing is signed until the key is given"
        );
    }
}
