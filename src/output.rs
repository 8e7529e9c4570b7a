//! What a station's output is, as plain values: the sample format every sink takes
//! ([`OutputFormat`]), what a WAV capture stores ([`CaptureOptions`], [`SampleFormat`]) and
//! which sink a station plays to ([`SinkSpec`]).
//!
//! A leaf: it imports nothing of loa, so the config can hold these values without importing
//! playout, and playout, the daemon and the commune agent all share them. Opening a sink and
//! writing to it live in [`crate::playout::sink`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The sample format every sink of a station takes: interleaved `f32` at this rate and
/// channel count. Items are converted to it on the way out, so sinks never resample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutputFormat {
    /// Sample frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
}

impl Default for OutputFormat {
    /// 48 kHz stereo: what sound cards run at natively, so the device sink never converts.
    fn default() -> Self {
        OutputFormat {
            sample_rate: 48_000,
            channels: 2,
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz, {} channel(s)", self.sample_rate, self.channels)
    }
}

impl OutputFormat {
    /// Whether the format can be played at all (a rate and at least one channel).
    pub fn is_usable(&self) -> bool {
        (1..=768_000).contains(&self.sample_rate) && (1..=32).contains(&self.channels)
    }

    /// Frames to milliseconds at this rate (rounded down; 0 at a rate of 0).
    pub fn frames_to_ms(&self, frames: u64) -> u64 {
        if self.sample_rate == 0 {
            return 0;
        }
        let ms = u128::from(frames) * 1000 / u128::from(self.sample_rate);
        u64::try_from(ms).unwrap_or(u64::MAX)
    }
}

/// How captured samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// 16-bit signed integer PCM: a quarter of the float size at the same rate.
    S16,
    /// 32-bit IEEE float: the played samples bit for bit.
    F32,
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> u64 {
        match self {
            SampleFormat::S16 => 2,
            SampleFormat::F32 => 4,
        }
    }

    /// WAVE format tag: 1 (PCM) or 3 (IEEE float).
    pub fn wave_tag(self) -> u16 {
        match self {
            SampleFormat::S16 => 1,
            SampleFormat::F32 => 3,
        }
    }
}

impl fmt::Display for SampleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SampleFormat::S16 => "s16",
            SampleFormat::F32 => "f32",
        })
    }
}

impl FromStr for SampleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "s16" => Ok(SampleFormat::S16),
            "f32" => Ok(SampleFormat::F32),
            other => Err(format!(
                "'{other}' is not a capture sample format (expected \"s16\" or \"f32\")"
            )),
        }
    }
}

/// What a capture stores and how much disk it leaves free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureOptions {
    /// Rate and channels of the capture (the station renders in them).
    pub format: OutputFormat,
    /// How samples are stored.
    pub sample: SampleFormat,
    /// Capture stops below this many free bytes on the folder's disk (0: never).
    pub min_free_bytes: u64,
}

impl Default for CaptureOptions {
    /// 16 kHz mono 16-bit, stopping with 500 MB left.
    fn default() -> Self {
        CaptureOptions {
            format: OutputFormat {
                sample_rate: 16_000,
                channels: 1,
            },
            sample: SampleFormat::S16,
            min_free_bytes: 500 * 1024 * 1024,
        }
    }
}

impl CaptureOptions {
    /// Float at exactly `format`, no free-space floor: the played samples bit for bit.
    pub fn exact(format: OutputFormat) -> CaptureOptions {
        CaptureOptions {
            format,
            sample: SampleFormat::F32,
            min_free_bytes: 0,
        }
    }
}

/// Which sink a station plays to, as its config names it: `device`, `device:NAME`,
/// `wav:DIR` or `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSpec {
    /// The sound card: the default output device, or the one of this name.
    Device(Option<String>),
    /// WAV capture into this folder.
    Wav(PathBuf),
    /// Nothing.
    Null,
}

impl SinkSpec {
    /// The backend's name in the sink table (`crate::playout::sink::BACKENDS`).
    pub fn backend(&self) -> &'static str {
        match self {
            SinkSpec::Device(_) => "device",
            SinkSpec::Wav(_) => "wav",
            SinkSpec::Null => "null",
        }
    }
}

/// A sink text that names no sink loa has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad sink `{text}`: {reason}")]
pub struct BadSinkSpec {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for SinkSpec {
    type Err = BadSinkSpec;

    fn from_str(text: &str) -> Result<SinkSpec, BadSinkSpec> {
        let bad = |reason: &str| BadSinkSpec {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (name, arg) = match text.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (text, None),
        };
        match (name, arg) {
            ("device", None) => Ok(SinkSpec::Device(None)),
            ("device", Some(d)) if !d.trim().is_empty() => {
                Ok(SinkSpec::Device(Some(d.to_string())))
            }
            ("device", Some(_)) => Err(bad("the device name after `device:` is empty")),
            ("wav", Some(d)) if !d.trim().is_empty() => Ok(SinkSpec::Wav(PathBuf::from(d))),
            ("wav", _) => Err(bad("`wav` needs a folder: `wav:DIR`")),
            ("null", None) => Ok(SinkSpec::Null),
            ("null", Some(_)) => Err(bad("`null` takes no argument")),
            _ => Err(bad("expected `device`, `device:NAME`, `wav:DIR` or `null`")),
        }
    }
}

impl fmt::Display for SinkSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SinkSpec::Device(None) => f.write_str("device"),
            SinkSpec::Device(Some(name)) => write!(f, "device:{name}"),
            SinkSpec::Wav(dir) => write!(f, "wav:{}", dir.display()),
            SinkSpec::Null => f.write_str("null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sink_text_reads_back_as_it_was_written() {
        for text in [
            "device",
            "device:hw:1,0",
            "wav:/var/lib/loa/capture",
            "null",
        ] {
            let spec: SinkSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
        }
    }

    #[test]
    fn a_sink_text_loa_does_not_know_is_refused_with_its_text() {
        let e = "speaker".parse::<SinkSpec>().unwrap_err();
        assert_eq!(e.text, "speaker");
        assert!(e.to_string().starts_with("bad sink `speaker`"), "{e}");
        assert!("wav".parse::<SinkSpec>().is_err());
        assert!("null:x".parse::<SinkSpec>().is_err());
        assert!("device:".parse::<SinkSpec>().is_err());
    }

    #[test]
    fn the_default_capture_is_16_khz_mono_16_bit() {
        let c = CaptureOptions::default();
        assert_eq!((c.format.sample_rate, c.format.channels), (16_000, 1));
        assert_eq!(c.sample, SampleFormat::S16);
        assert_eq!(SampleFormat::S16.wave_tag(), 1);
        assert_eq!(SampleFormat::F32.wave_tag(), 3);
    }

    #[test]
    fn frames_turn_into_whole_milliseconds_rounded_down() {
        let f = OutputFormat::default();
        assert_eq!(f.frames_to_ms(48_000), 1_000);
        assert_eq!(f.frames_to_ms(47), 0);
        let none = OutputFormat {
            sample_rate: 0,
            channels: 2,
        };
        assert_eq!(none.frames_to_ms(10), 0);
    }
}
