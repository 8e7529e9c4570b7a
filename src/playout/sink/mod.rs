//! The audio seam: the [`Sink`] trait every output implements, the [`SinkSpec`] a station's
//! config names it by, and [`open`], which picks the backend from a table (as librespot's
//! `audio_backend` does).
//!
//! - [`device`]: the sound card through rodio (the only file that uses rodio); realtime.
//! - [`wav`]: capture to one WAV per station per local day (16 kHz mono 16-bit by default,
//!   float bit for bit when asked), with a segments file that maps instants to frames and a
//!   watch on free disk space; what the simulated clock and the tests play into.
//! - [`null`]: discards and counts.
//!
//! A sink takes contiguous *segments*: [`Sink::begin`] says which station and day the audio
//! belongs to and at what instant its first frame airs, [`Sink::write`] hands it interleaved
//! samples in the sink's [`OutputFormat`], [`Sink::end`] closes the segment.

pub mod device;
pub mod null;
pub mod wav;

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

use crate::playout::OutputFormat;

pub use crate::output::{BadSinkSpec, CaptureOptions, SampleFormat, SinkSpec};
pub use wav::{read_capture, Segment};

/// An audio output.
pub trait Sink: Send {
    /// The format [`Sink::write`] takes.
    fn format(&self) -> OutputFormat;

    /// Whether the sink plays at the speed of the audio (a sound card): `write` then blocks
    /// for backpressure and `end` waits until the audio has been heard.
    fn realtime(&self) -> bool;

    /// How long after [`Sink::write`] takes a sample it is heard, as far as the sink knows
    /// (a sound card's buffer); zero for sinks that are not heard.
    fn latency(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// Starts a contiguous segment of audio for `station` whose first frame airs at `at`;
    /// `day` is the station-local date it belongs to. A segment still open is ended first.
    fn begin(&mut self, station: &str, day: NaiveDate, at: DateTime<Utc>) -> Result<(), SinkError>;

    /// Appends interleaved samples (whole frames) to the open segment.
    fn write(&mut self, samples: &[f32]) -> Result<(), SinkError>;

    /// Ends the segment: flushes, and for a realtime sink waits until it has played out.
    fn end(&mut self) -> Result<(), SinkError>;

    /// Frames written since the sink was opened, over all segments.
    fn frames_written(&self) -> u64;

    /// Things the station should raise as alerts since the last call (e.g. a capture
    /// stopped for lack of disk space); none for most sinks.
    fn take_alerts(&mut self) -> Vec<crate::playout::alert::Alert> {
        Vec::new()
    }

    /// Frames of silence a sound card played inside segments because loa did not write in
    /// time (underruns), since the sink opened; zero for sinks that are not heard.
    fn underrun_frames(&self) -> u64 {
        0
    }
}

/// Opens one backend for a spec.
type Opener = fn(&SinkSpec, OutputFormat) -> Result<Box<dyn Sink>, SinkError>;

/// The backends by name, as [`SinkSpec::backend`] names them.
pub const BACKENDS: &[(&str, Opener)] = &[
    ("device", device::open),
    ("wav", wav::open),
    ("null", null::open),
];

/// Opens the sink `spec` names, taking samples in `fmt`.
pub fn open(spec: &SinkSpec, fmt: OutputFormat) -> Result<Box<dyn Sink>, SinkError> {
    if !fmt.is_usable() {
        return Err(SinkError::Format {
            what: spec.to_string(),
            reason: format!("cannot output {fmt}"),
        });
    }
    let name = spec.backend();
    let (_, opener) =
        BACKENDS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| SinkError::BadSpec {
                text: spec.to_string(),
                reason: "no such backend".to_string(),
            })?;
    opener(spec, fmt)
}

/// Opens the sink `spec` names for a station playing `fmt`; a WAV capture stores what
/// `capture` says (its rate and channels then are the station's: see [`Sink::format`]).
pub fn open_with(
    spec: &SinkSpec,
    fmt: OutputFormat,
    capture: &CaptureOptions,
) -> Result<Box<dyn Sink>, SinkError> {
    match spec {
        SinkSpec::Wav(dir) => {
            if !capture.format.is_usable() {
                return Err(SinkError::Format {
                    what: spec.to_string(),
                    reason: format!("cannot capture {}", capture.format),
                });
            }
            wav::open_capture(dir, capture)
        }
        other => open(other, fmt),
    }
}

/// Why a sink could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The sink text in a config or on the command line is not one we know.
    #[error("bad sink `{text}`: {reason}")]
    BadSpec {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No sound card could be opened (the daemon falls back to WAV capture).
    #[error("no audio output device: {0}")]
    NoDevice(String),
    /// The sound card failed while playing.
    #[error("audio device {device}: {reason}")]
    Device {
        /// The device's name.
        device: String,
        /// What failed.
        reason: String,
    },
    /// Reading or writing a capture file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A capture file exists but is not one this sink can append to.
    #[error("{}: {reason}", path.display())]
    Capture {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Samples that do not fit the sink's format, or a format it cannot take.
    #[error("sink {what}: {reason}")]
    Format {
        /// The sink.
        what: String,
        /// What does not fit.
        reason: String,
    },
    /// `write` or `end` without `begin`.
    #[error("sink {0}: audio written outside a segment (begin was not called)")]
    NoSegment(String),
}

impl From<BadSinkSpec> for SinkError {
    fn from(e: BadSinkSpec) -> SinkError {
        SinkError::BadSpec {
            text: e.text,
            reason: e.reason,
        }
    }
}

/// Checks that `samples` holds whole frames of `fmt`.
fn check_frames(what: &str, fmt: OutputFormat, samples: &[f32]) -> Result<u64, SinkError> {
    let ch = usize::from(fmt.channels);
    if samples.len() % ch != 0 {
        return Err(SinkError::Format {
            what: what.to_string(),
            reason: format!(
                "{} samples is not a whole number of {ch}-channel frames",
                samples.len()
            ),
        });
    }
    Ok((samples.len() / ch) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_form_parses_and_prints_back() {
        for text in ["device", "device:hw:1,0", "wav:/tmp/cap", "null"] {
            let spec: SinkSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
        }
        assert_eq!(
            "device:USB Audio".parse::<SinkSpec>().unwrap(),
            SinkSpec::Device(Some("USB Audio".to_string()))
        );
    }

    #[test]
    fn bad_sink_text_is_refused_naming_it() {
        for text in [
            "", "speaker", "wav", "wav:", "device:", "null:x", "WAV:/tmp",
        ] {
            let err = text.parse::<SinkSpec>().unwrap_err().to_string();
            assert!(err.contains(&format!("`{text}`")), "{err}");
        }
    }

    #[test]
    fn every_spec_has_a_backend_in_the_table() {
        for spec in [
            SinkSpec::Device(None),
            SinkSpec::Wav(PathBuf::from("x")),
            SinkSpec::Null,
        ] {
            assert!(BACKENDS.iter().any(|(n, _)| *n == spec.backend()));
        }
    }

    #[test]
    fn a_partial_frame_is_refused() {
        let fmt = OutputFormat::default();
        assert_eq!(check_frames("null", fmt, &[0.0; 4]).unwrap(), 2);
        assert!(check_frames("null", fmt, &[0.0; 3]).is_err());
    }
}
