//! Ingest of one audio file: detect the format by content, probe, decode it fully, and
//! measure what playout and reports need ([`AudioFacts`]). Anything that is not cleanly
//! decodable audio is refused with one [`IngestError`] naming the file and what is wrong.
//!
//! Memory stays bounded whatever the file's length: samples stream from the decoder into the
//! analysers and are never held whole.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::library::analysis::{frames_to_ms, Loudness, Silence};
use crate::library::audio_store::hash_file;
use crate::library::bulletin::AudioFacts;
use crate::library::decode::{AudioDecoder, DecodeFailure, OpenError};
use crate::library::limits::TITLE_MAX;
use crate::library::mp3_frames::ends_mid_frame;
use crate::library::mp4_edit::{inspect, Index};
use crate::library::regular::{open_regular, Opened};
use crate::library::sniff::{sniff, Sniffed, HEAD_LEN};
use crate::progress::Progress;
use crate::text::nfc;

/// Settings of the measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestOptions {
    /// Samples below this level (dBFS) count as silence at the head and tail.
    pub silence_threshold_dbfs: f64,
    /// Audio shorter than this is refused: a click or a cut-off export is not a bulletin.
    pub min_duration_ms: u64,
}

/// The shortest audio ingest accepts unless the config says otherwise: half a second.
pub const DEFAULT_MIN_DURATION_MS: u64 = 500;

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            silence_threshold_dbfs: -50.0,
            min_duration_ms: DEFAULT_MIN_DURATION_MS,
        }
    }
}

/// Why a file was refused. Each message names the file and says what is wrong in words an
/// operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read the file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A named pipe, a device, a socket or a folder: reading it could block or never end.
    #[error("{path}: not a regular file: it is {what}; give the path of an audio file")]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is, e.g. "a named pipe (FIFO)".
        what: &'static str,
    },
    /// Zero bytes.
    #[error("{path}: the file is empty (0 bytes)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Recognisably something else: text, an HTML page, an image, an archive, …
    #[error("{path}: not an audio file: it is {what}")]
    NotAudio {
        /// The file.
        path: PathBuf,
        /// What it looks like, e.g. "an HTML page".
        what: String,
    },
    /// No supported container or codec recognised in the bytes.
    #[error("{path}: unrecognised or unsupported audio format ({reason})")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The decoder's words.
        reason: String,
    },
    /// A container with no audio track (e.g. an MP4 with only video or nothing).
    #[error("{path}: the {container} container has no audio track")]
    NoAudioTrack {
        /// The file.
        path: PathBuf,
        /// The container found.
        container: String,
    },
    /// An audio track in a codec that cannot be decoded.
    #[error("{path}: cannot decode the audio track: {reason}")]
    Undecodable {
        /// The file.
        path: PathBuf,
        /// The decoder's words.
        reason: String,
    },
    /// Decoding started but failed before the end.
    #[error("{path}: decoding failed at {position} ({reason}); the file is damaged or truncated")]
    DecodeFailed {
        /// The file.
        path: PathBuf,
        /// Where, as `m:ss.mmm` into the audio.
        position: String,
        /// The decoder's words.
        reason: String,
    },
    /// Decoded cleanly to nothing.
    #[error("{path}: the audio has zero duration")]
    ZeroDuration {
        /// The file.
        path: PathBuf,
    },
    /// A sample that is not a number (NaN) or is infinite: it would reach the loudspeakers
    /// as a full-scale click or silence the output.
    #[error("{path}: the audio holds a sample that is not a finite number (NaN or infinity) at {position}; export it again from the editor")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Where, as `m:ss.mmm` into the audio.
        position: String,
    },
    /// Decoded to less than the configured minimum.
    #[error("{path}: the audio lasts {length}, shorter than the {minimum} a bulletin must last (ingest.min_duration_ms)")]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Its length, `m:ss.mmm`.
        length: String,
        /// The minimum, `m:ss.mmm`.
        minimum: String,
    },
}

impl IngestError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            IngestError::Io { path, .. }
            | IngestError::NotRegular { path, .. }
            | IngestError::NonFinite { path, .. }
            | IngestError::TooShort { path, .. }
            | IngestError::Empty { path }
            | IngestError::NotAudio { path, .. }
            | IngestError::UnknownFormat { path, .. }
            | IngestError::NoAudioTrack { path, .. }
            | IngestError::Undecodable { path, .. }
            | IngestError::DecodeFailed { path, .. }
            | IngestError::ZeroDuration { path } => path,
        }
    }
}

/// Formats a position in the audio as `m:ss.mmm`.
pub fn format_position(ms: u64) -> String {
    format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
}

/// Frames of audio sent to the analysis thread at a time (as interleaved samples, per channel).
const BLOCK_FRAMES: usize = 8192;

/// Blocks in flight between the decoding and the analysis thread: bounds memory to a few
/// hundred kilobytes whatever the file's length.
const BLOCKS_IN_FLIGHT: usize = 4;

/// Measures `path`: content sniffing, probe, full decode, loudness, true peak, silence,
/// SHA-256 and tags.
///
/// Decoding runs on the calling thread and the loudness meter (the costliest part: true peak
/// oversamples 4×) on a second one, fed through a bounded channel; the file is hashed on a
/// third, which is brief.
pub fn analyze(path: &Path, opts: &IngestOptions) -> Result<AudioFacts, IngestError> {
    analyze_watched(path, opts, &crate::progress::Quiet)
}

/// [`analyze`], telling `watch` how far the measurement is: the frames the container
/// announces (or estimates) as its steps, each block of frames metered as it is, the
/// last step only once the file is measured and accepted.
pub fn analyze_watched(
    path: &Path,
    opts: &IngestOptions,
    watch: &dyn Progress,
) -> Result<AudioFacts, IngestError> {
    let _span = tracing::info_span!("ingest", file = %path.display()).entered();
    let io_err = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = open_regular(path).map_err(|e| match e {
        Opened::NotRegular(what) => IngestError::NotRegular {
            path: path.to_path_buf(),
            what,
        },
        Opened::Io(source) => io_err(source),
    })?;
    let size_bytes = file.metadata().map_err(io_err)?.len();
    if size_bytes == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    let head = read_head(&mut file).map_err(io_err)?;
    let sniffed = sniff(&head);
    if let Sniffed::NotAudio(what) = sniffed {
        return Err(IngestError::NotAudio {
            path: path.to_path_buf(),
            what: what.to_string(),
        });
    }
    let trim = match sniffed {
        Sniffed::Audio("mp4") => match inspect(&mut file).map_err(io_err)? {
            Index::Sound(trim) => trim,
            Index::Damaged(why) => {
                return Err(IngestError::DecodeFailed {
                    path: path.to_path_buf(),
                    position: format_position(0),
                    reason: format!("the MP4 index is damaged: {why}"),
                })
            }
        },
        _ => None,
    };
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;

    let mut decoder = AudioDecoder::open(file, trim).map_err(|e| open_error(path, sniffed, e))?;
    let info = decoder.info().clone();
    let container = match sniffed {
        Sniffed::Audio(c) => c,
        _ => container_of_codec(&info.codec),
    };
    let loudness =
        Loudness::new(info.channels, info.sample_rate).map_err(|e| IngestError::Undecodable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let silence = Silence::new(info.channels, opts.silence_threshold_dbfs);
    let tags = decoder.tags().clone();
    // Unknown lengths count as one step, taken at the end.
    let steps = decoder.estimated_frames().unwrap_or(0).max(1);
    watch.more(steps);
    let channels = usize::from(info.channels.max(1));

    let (decoded, measured, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| hash_file(path));
        let (to_meter, blocks) = mpsc::sync_channel::<Vec<f32>>(BLOCKS_IN_FLIGHT);
        let (recycle, spare) = mpsc::channel::<Vec<f32>>();
        let meter = s.spawn(move || {
            let (mut loudness, mut silence) = (loudness, silence);
            let (mut metered, mut told) = (0u64, 0u64);
            for block in blocks {
                loudness.add(&block);
                silence.add(&block);
                metered += (block.len() / channels) as u64;
                // Short of the last step: an estimate may fall short of the real length.
                let now = metered.min(steps - 1);
                if now > told {
                    watch.advance(now - told);
                    told = now;
                }
                let _ = recycle.send(block);
            }
            (loudness.report(), silence.report(), told)
        });
        let decoded = pump(&mut decoder, usize::from(info.channels), &to_meter, &spare);
        drop(to_meter);
        let measured = meter.join();
        (decoded, measured, hasher.join())
    });

    let frames = decoded.map_err(|f| match f {
        Pumped::Failed(f) => IngestError::DecodeFailed {
            path: path.to_path_buf(),
            position: format_position(frames_to_ms(f.at_frame, info.sample_rate)),
            reason: f.reason,
        },
        Pumped::NonFinite { at_frame } => IngestError::NonFinite {
            path: path.to_path_buf(),
            position: format_position(frames_to_ms(at_frame, info.sample_rate)),
        },
    })?;
    let (loud, quiet, told) = measured.map_err(|_| IngestError::Undecodable {
        path: path.to_path_buf(),
        reason: "the loudness measurement failed".to_string(),
    })?;
    let sha256 = sha256
        .map_err(|_| io_err(std::io::Error::other("the hashing thread failed")))?
        .map_err(io_err)?;
    if info.codec == "mp3" && !decoder.length_was_checked() {
        let file = File::open(path).map_err(io_err)?;
        if ends_mid_frame(file, size_bytes).map_err(io_err)? {
            return Err(IngestError::DecodeFailed {
                path: path.to_path_buf(),
                position: format_position(frames_to_ms(frames, info.sample_rate)),
                reason: "the file ends in the middle of an MPEG frame".to_string(),
            });
        }
    }
    if frames == 0 {
        return Err(IngestError::ZeroDuration {
            path: path.to_path_buf(),
        });
    }
    let rate = info.sample_rate;
    if u128::from(frames) * 1000 < u128::from(opts.min_duration_ms) * u128::from(rate) {
        return Err(IngestError::TooShort {
            path: path.to_path_buf(),
            length: format_position(frames_to_ms(frames, rate)),
            minimum: format_position(opts.min_duration_ms),
        });
    }
    watch.advance(steps - told);
    Ok(AudioFacts {
        sha256,
        size_bytes,
        codec: info.codec,
        container: container.to_string(),
        sample_rate: rate,
        channels: info.channels,
        duration_ms: frames_to_ms(frames, rate),
        frames,
        loudness_lufs: loud.integrated_lufs,
        loudness_range_lu: loud.range_lu,
        true_peak_dbtp: loud.true_peak_dbtp,
        leading_silence_ms: frames_to_ms(quiet.leading_frames, rate),
        trailing_silence_ms: frames_to_ms(quiet.trailing_frames, rate),
        tag_title: clean_tag(tags.title.as_deref()),
        tag_artist: clean_tag(tags.artist.as_deref()),
    })
}

/// Why [`pump`] stopped early.
enum Pumped {
    /// The decoder failed.
    Failed(DecodeFailure),
    /// A sample was NaN or infinite, in this frame.
    NonFinite {
        /// The frame of the first such sample.
        at_frame: u64,
    },
}

/// Moves the decoder's output to the meter in blocks of about [`BLOCK_FRAMES`] frames,
/// reusing the blocks the meter hands back. Returns the frames decoded; stops at the first
/// sample that is not a finite number.
fn pump(
    decoder: &mut AudioDecoder,
    channels: usize,
    to_meter: &mpsc::SyncSender<Vec<f32>>,
    spare: &mpsc::Receiver<Vec<f32>>,
) -> Result<u64, Pumped> {
    let block_len = BLOCK_FRAMES * channels;
    let mut block = Vec::with_capacity(block_len);
    loop {
        let before = decoder.frames();
        let Some(samples) = decoder.next_block().map_err(Pumped::Failed)? else {
            break;
        };
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Pumped::NonFinite {
                at_frame: before + (i / channels.max(1)) as u64,
            });
        }
        block.extend_from_slice(samples);
        if block.len() >= block_len {
            let mut next = spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(block_len));
            next.clear();
            let full = std::mem::replace(&mut block, next);
            if to_meter.send(full).is_err() {
                break;
            }
        }
    }
    if !block.is_empty() {
        let _ = to_meter.send(block);
    }
    Ok(decoder.frames())
}

/// Refuses a path that is not a regular file, without opening it for long: for inputs other
/// than audio (a manifest) that are then read whole.
pub fn check_regular(path: &Path) -> Result<(), IngestError> {
    open_regular(path).map(drop).map_err(|e| match e {
        Opened::NotRegular(what) => IngestError::NotRegular {
            path: path.to_path_buf(),
            what,
        },
        Opened::Io(source) => IngestError::Io {
            path: path.to_path_buf(),
            source,
        },
    })
}

/// Up to [`HEAD_LEN`] bytes from the start of the file.
fn read_head(file: &mut File) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    file.by_ref().take(HEAD_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// The refusal for a file the decoder could not open.
fn open_error(path: &Path, sniffed: Sniffed, e: OpenError) -> IngestError {
    let path = path.to_path_buf();
    match e {
        OpenError::Unrecognised(reason) => IngestError::UnknownFormat { path, reason },
        OpenError::Truncated => IngestError::DecodeFailed {
            path,
            position: format_position(0),
            reason: "the file ends before its audio starts".to_string(),
        },
        OpenError::NoAudioTrack => IngestError::NoAudioTrack {
            path,
            container: match sniffed {
                Sniffed::Audio(c) => c.to_uppercase(),
                _ => "media".to_string(),
            },
        },
        OpenError::Unsupported(reason) => IngestError::Undecodable { path, reason },
        OpenError::NoAudio => IngestError::ZeroDuration { path },
        OpenError::Failed(f) => IngestError::DecodeFailed {
            path,
            position: format_position(0),
            reason: f.reason,
        },
    }
}

/// The container to store a stream in when its head was not recognised (e.g. MP3 after junk).
fn container_of_codec(codec: &str) -> &'static str {
    match codec {
        "flac" => "flac",
        "vorbis" | "opus" => "ogg",
        "aac" | "alac" => "mp4",
        c if c.starts_with("pcm") => "wav",
        _ => "mp3",
    }
}

/// A tag as stored: NFC, trimmed (NULs too, which some taggers leave), empty → `None`, and
/// cut to [`TITLE_MAX`] characters (a tag is a default, not an operator's words to refuse).
fn clean_tag(raw: Option<&str>) -> Option<String> {
    let t = raw?.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!t.is_empty()).then(|| {
        let t = nfc(t);
        match t.char_indices().nth(TITLE_MAX) {
            Some((cut, _)) => t[..cut].trim_end().to_string(),
            None => t,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_as_minutes_seconds_and_milliseconds() {
        assert_eq!(format_position(0), "0:00.000");
        assert_eq!(format_position(61_005), "1:01.005");
        assert_eq!(format_position(3_600_000), "60:00.000");
    }

    #[test]
    fn tags_are_trimmed_composed_and_empty_ones_dropped() {
        assert_eq!(
            clean_tag(Some("  Tin ca\u{309}i ca\u{301}ch\0")),
            Some("Tin cải cách".to_string())
        );
        assert_eq!(clean_tag(Some(" \0 ")), None);
        assert_eq!(clean_tag(None), None);
    }

    #[test]
    fn an_empty_file_is_refused_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.mp3");
        std::fs::write(&p, b"").unwrap();
        let e = analyze(&p, &IngestOptions::default()).unwrap_err();
        assert!(matches!(e, IngestError::Empty { .. }));
        assert!(e.to_string().contains("empty.mp3"));
    }

    #[test]
    fn an_html_page_named_mp3_is_refused_as_html() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ban-tin.mp3");
        std::fs::write(&p, b"<!DOCTYPE html><html><body>404</body></html>").unwrap();
        let e = analyze(&p, &IngestOptions::default()).unwrap_err();
        assert!(e.to_string().contains("an HTML page"), "{e}");
    }

    #[test]
    fn random_bytes_are_an_unknown_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("noise.bin");
        let bytes: Vec<u8> = (0u32..5000)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&p, bytes).unwrap();
        assert!(analyze(&p, &IngestOptions::default()).is_err());
    }
}
