//! Playout: a station's slot instances on time, item after item with no gap, to a sink,
//! with the airlog written as it goes. The same engine renders a date range on a simulated
//! clock and plays in real time for the daemon (and, next, the commune agent).
//!
//! The audio path:
//! - [`gain`]: the pure loudness rule, the gain that brings an item to the target loudness
//!   without letting its true peak pass the ceiling.
//! - [`downmix`]: the pure channel map (ITU-R BS.775 downmix of 5.1, 7.1 and others).
//! - [`source`]: [`source::ItemSource`], one item decoded, checked against its SHA-256,
//!   resampled and channel-mapped to the station's [`OutputFormat`], with the gain applied;
//!   streaming, so memory stays bounded whatever the item's length.
//! - [`sink`]: the audio seam, librespot style: the [`sink::Sink`] trait and its backends
//!   (sound card, WAV capture, null), chosen by name from a table.
//!
//! The engine, each part owning one responsibility (dependencies point down the list):
//! - [`player`]: the actor of one station: composes the parts below, takes operator
//!   commands, emits events, keeps the status.
//! - [`control`]: what passes in and out of a player: commands, the shutdown signal,
//!   events, status, and the narrow [`control::StationHandle`] the web layer uses.
//! - [`cues`] (pure): the cue queue: scheduled items, make-ups, operator and urgent
//!   inserts, fallback: what plays next and why.
//! - [`timing`] (pure): slot timing and the sample clock: planned instants, late joins, what
//!   fits before the slot's end, the early start by the output's latency.
//! - [`item`]: the item player: open, decode, resample, gain, write to the sink.
//! - [`ledger`]: the airlog as playout writes it: rows opened before audio, progress,
//!   closing, rows held in memory while the destination cannot take them.
//! - [`journal`]: where held rows go at a stop when the store still refuses them, and
//!   their replay at the next start.
//! - [`recovery`]: rows a crash left open, closed at the next start with no more than they
//!   can have played (judged by [`crate::airlog::bound`]).
//! - [`seams`]: where playlists and bulletins come from ([`seams::Programme`]) and where
//!   airlog rows go ([`seams::AirlogDestination`]): the two places the commune agent differs.
//! - [`service`]: `loa playout run`: a date range for every station, through the seams.
//! - [`settings`]: how playout sounds and behaves, from the config's plain values.
//! - [`wall`]: one station on the wall clock, slot instance after slot instance: the loop
//!   the daemon runs for each station, and the commune agent with its own programme.

pub mod alert;
pub mod control;
pub mod cues;
pub mod downmix;
pub mod gain;
pub mod item;
pub mod journal;
pub mod ledger;
pub mod player;
pub mod recovery;
pub mod seams;
pub mod service;
pub mod settings;
pub mod sink;
pub mod source;
pub mod timing;
pub mod wall;

pub use player::StationPlayer;
pub use settings::Settings;

use std::path::PathBuf;

pub use crate::output::OutputFormat;

/// Why an item could not be played. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// The audio file is not where the library says it is.
    #[error("{}: the audio file is missing", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
    },
    /// Reading the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file's bytes are not the ones the library approved.
    #[error("{}: the file has changed since it was added to the library (SHA-256 {actual}, expected {expected}); it will not be aired", path.display())]
    ShaMismatch {
        /// The file.
        path: PathBuf,
        /// The SHA-256 the library holds.
        expected: String,
        /// The SHA-256 of the file as it is now.
        actual: String,
    },
    /// The file could not be opened as audio.
    #[error("{}: cannot be decoded: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The decoder's reason, in words.
        reason: String,
    },
    /// Decoding failed part-way.
    #[error("{}: decoding failed at {position}: {reason}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// Where in the file (m:ss.mmm of the file's own audio).
        position: String,
        /// What went wrong.
        reason: String,
    },
    /// The file decodes to a different length than the library recorded.
    #[error("{}: decodes to {actual} sample frames, the library recorded {expected}", path.display())]
    Length {
        /// The file.
        path: PathBuf,
        /// Frames the library recorded at ingest.
        expected: u64,
        /// Frames the decoder produced.
        actual: u64,
    },
    /// The output format cannot be produced.
    #[error("{}: cannot convert to {format}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The format asked for.
        format: OutputFormat,
        /// Why not.
        reason: String,
    },
    /// The resampler refused its buffers (a bug in loa, not in the file).
    #[error("{}: resampling failed: {reason}", path.display())]
    Resample {
        /// The file.
        path: PathBuf,
        /// rubato's words.
        reason: String,
    },
    /// [`source::decode_all`] was asked for an item too long to hold in memory.
    #[error("{}: {seconds} s is too long to decode into memory (limit {limit} s); stream it", path.display())]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The item's length.
        seconds: u64,
        /// [`source::DECODE_ALL_MAX_SECONDS`].
        limit: u64,
    },
}

impl From<&PlayError> for crate::airlog::Reason {
    /// The airlog's reason for an item that could not be played: the file and the problem,
    /// with the decoder's or the system's own words where there are no others.
    fn from(e: &PlayError) -> crate::airlog::Reason {
        use crate::airlog::Reason;
        let file = |p: &PathBuf| p.display().to_string();
        match e {
            PlayError::Missing { path } => Reason::FileMissing { file: file(path) },
            PlayError::Io { path, source } => Reason::FileUnreadable {
                file: file(path),
                detail: source.to_string(),
            },
            PlayError::ShaMismatch {
                path,
                expected,
                actual,
            } => Reason::FileChanged {
                file: file(path),
                expected: expected.clone(),
                actual: actual.clone(),
            },
            PlayError::Open { path, reason } => Reason::Undecodable {
                file: file(path),
                detail: reason.clone(),
            },
            PlayError::Decode {
                path,
                position,
                reason,
            } => Reason::DecodeFailed {
                file: file(path),
                at: position.clone(),
                detail: reason.clone(),
            },
            PlayError::Length {
                path,
                expected,
                actual,
            } => Reason::WrongLength {
                file: file(path),
                expected: *expected,
                actual: *actual,
            },
            PlayError::Format { path, .. }
            | PlayError::Resample { path, .. }
            | PlayError::TooLong { path, .. } => {
                let whole = e.to_string();
                let detail = whole
                    .strip_prefix(&format!("{}: ", path.display()))
                    .unwrap_or(&whole)
                    .to_string();
                Reason::Undecodable {
                    file: file(path),
                    detail,
                }
            }
        }
    }
}
