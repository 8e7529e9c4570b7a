//! How playout sounds and behaves ([`Settings`]): the output format, the loudness target and
//! ceiling, make-ups, the output's latency, the daemon's name in the airlog, and the key that
//! signs its chain heads.

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
    pub signer: Option<std::sync::Arc<crate::airlog::key::DistrictKey>>,
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
