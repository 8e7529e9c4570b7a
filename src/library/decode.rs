//! Symphonia behind a small streaming decoder: [`AudioDecoder`] probes a file by its content
//! (no name hint), picks the audio track, and yields the audio as blocks of interleaved `f32`
//! frames, with encoder delay and padding removed where the container says how much.
//!
//! This is the only file that uses symphonia. It refuses to paper over damage: a decoder
//! error, an error part-way through a packet, a checksum mismatch or a stream that ends
//! before the length its header announces is a [`DecodeFailure`] at the frame where it
//! happened. Only an end of file exactly at a packet boundary is a normal end.

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use symphonia::core::audio::{SampleBuffer, SignalSpec};
use symphonia::core::codecs::{
    CodecParameters, Decoder, DecoderOptions, CODEC_TYPE_ALAC, CODEC_TYPE_FLAC, CODEC_TYPE_MP1,
    CODEC_TYPE_MP2, CODEC_TYPE_MP3, CODEC_TYPE_NULL, CODEC_TYPE_OPUS,
};
use symphonia::core::errors::Error;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::{MetadataRevision, StandardTagKey, Value};
use symphonia::core::probe::Hint;

use crate::library::mp4_edit::Trim;

/// Most channels a stream may have (symphonia's own limit is 32 positions).
const MAX_CHANNELS: usize = 32;

/// What the stream is, from its first decoded audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// The codec's short name, e.g. "mp3", "pcm_s16le", "flac", "vorbis", "aac".
    pub codec: String,
    /// Sample frames per second (never 0).
    pub sample_rate: u32,
    /// Channels per frame (1..=32).
    pub channels: u16,
    /// Where the channels play, as a WAVE channel mask (bit 0 front left, 1 front right,
    /// 2 centre, 3 LFE, …), as the file declares them or the container's default.
    pub channel_mask: u32,
}

/// The title and artist tags as the file holds them (not yet normalised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    /// Title (ID3v2 TIT2, Vorbis TITLE, MP4 ©nam, RIFF INAM).
    pub title: Option<String>,
    /// Artist (ID3v2 TPE1, Vorbis ARTIST, MP4 ©ART, RIFF IART).
    pub artist: Option<String>,
}

/// Why a file could not be opened as audio.
#[derive(Debug)]
pub enum OpenError {
    /// No container or codec recognised; the decoder's words.
    Unrecognised(String),
    /// The file ends inside the container's headers, before any audio.
    Truncated,
    /// A container with no track in a codec we know.
    NoAudioTrack,
    /// An audio track whose codec cannot be decoded; the reason.
    Unsupported(String),
    /// The stream ended cleanly without a single decoded frame.
    NoAudio,
    /// Decoding failed before the first frame came out.
    Failed(DecodeFailure),
}

/// Decoding stopped part-way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeFailure {
    /// Frames decoded before the failure (the position of the damage).
    pub at_frame: u64,
    /// What went wrong, in words.
    pub reason: String,
}

/// A streaming decoder over one file's audio track.
pub struct AudioDecoder {
    /// The demuxer.
    format: Box<dyn FormatReader>,
    /// The codec.
    decoder: Box<dyn Decoder>,
    /// The track being decoded; packets of other tracks are skipped.
    track_id: u32,
    /// What the stream is (fixed by the first decoded buffer).
    info: StreamInfo,
    /// The spec every later buffer must have.
    spec: SignalSpec,
    /// Title and artist.
    tags: Tags,
    /// Interleaved samples of the last decoded buffer, reused from packet to packet.
    buf: Option<SampleBuffer<f32>>,
    /// Whether `buf` holds a buffer not yet handed out (the one `open` decoded).
    pending: bool,
    /// Frames handed out so far.
    frames: u64,
    /// Frames decoded so far, including any trimmed off.
    raw_frames: u64,
    /// Priming and padding to drop, from the container's edit list.
    trim: Option<Trim>,
    /// The part of `buf` (in frames) that is program, not priming or padding.
    keep_range: (usize, usize),
    /// Whether packet timestamps must follow on from the frames decoded (FLAC).
    checks_timestamps: bool,
    /// The length the container announces, when it is exact (not an estimate).
    expected_frames: Option<u64>,
    /// The length the container announces or estimates (an MP3's from its bitrate), for
    /// showing progress only.
    estimated_frames: Option<u64>,
    /// Set once the end was reached.
    done: bool,
}

impl AudioDecoder {
    /// Probes `file` by its content, picks the first decodable track and decodes up to its
    /// first audio, which fixes the [`StreamInfo`]. `trim` is the priming and padding to
    /// drop when the container describes them outside symphonia's reach (MP4 edit lists).
    pub fn open(file: File, trim: Option<Trim>) -> Result<AudioDecoder, OpenError> {
        guarded(|| AudioDecoder::open_unguarded(file, trim)).unwrap_or_else(|reason| {
            Err(OpenError::Failed(DecodeFailure {
                at_frame: 0,
                reason,
            }))
        })
    }

    /// [`AudioDecoder::open`], letting symphonia's panics through.
    fn open_unguarded(file: File, trim: Option<Trim>) -> Result<AudioDecoder, OpenError> {
        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let format_opts = FormatOptions {
            enable_gapless: true,
            ..Default::default()
        };
        let mut probed = symphonia::default::get_probe()
            .format(&Hint::new(), mss, &format_opts, &Default::default())
            .map_err(|e| match e {
                Error::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
                    OpenError::Truncated
                }
                e => OpenError::Unrecognised(describe(&e)),
            })?;
        let mut format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or(OpenError::NoAudioTrack)?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let codec = symphonia::default::get_codecs()
            .get_codec(params.codec)
            .map(|d| d.short_name.to_string());
        let Some(codec) = codec else {
            let name = match params.codec {
                CODEC_TYPE_OPUS => "Opus".to_string(),
                CODEC_TYPE_ALAC => "Apple Lossless".to_string(),
                other => format!("codec {other}"),
            };
            return Err(OpenError::Unsupported(format!(
                "{name} is not supported; send MP3, AAC, FLAC, Ogg Vorbis or WAV"
            )));
        };
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions { verify: true })
            .map_err(|e| OpenError::Unsupported(format!("{codec}: {}", describe(&e))))?;
        // Without a LAME/Xing tag symphonia estimates an MP3's length from its bitrate.
        let is_mpeg = [CODEC_TYPE_MP1, CODEC_TYPE_MP2, CODEC_TYPE_MP3].contains(&params.codec);
        let expected_frames = match trim {
            Some(t) => Some(t.keep),
            None => params
                .n_frames
                .filter(|_| !is_mpeg || params.delay.is_some())
                .filter(|n| !is_streamed_wav_length(&codec, &params, *n)),
        };

        // Container tags first, then tags found before the container (ID3v2 ahead of MP3).
        let mut tags = Tags::default();
        if let Some(rev) = format.metadata().current() {
            collect_tags(rev, &mut tags);
        }
        if let Some(rev) = probed.metadata.get().as_ref().and_then(|m| m.current()) {
            collect_tags(rev, &mut tags);
        }

        let mut d = AudioDecoder {
            format,
            decoder,
            track_id,
            // Rate and channels are filled from the first decoded buffer, just below.
            info: StreamInfo {
                codec,
                sample_rate: 0,
                channels: 0,
                channel_mask: 0,
            },
            spec: SignalSpec::new(0, Default::default()),
            tags,
            buf: None,
            pending: false,
            frames: 0,
            raw_frames: 0,
            trim,
            keep_range: (0, 0),
            checks_timestamps: params.codec == CODEC_TYPE_FLAC,
            expected_frames,
            estimated_frames: trim.map(|t| t.keep).or(params.n_frames),
            done: false,
        };
        match d.decode_next() {
            Ok(true) => {
                d.pending = true;
                Ok(d)
            }
            Ok(false) => Err(OpenError::NoAudio),
            Err(f) => Err(OpenError::Failed(f)),
        }
    }

    /// What the stream is.
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// The title and artist tags.
    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// Whether the end was checked against a length the container announced (for MP3 only
    /// when it has a LAME/Xing header); when not, the caller may check the framing itself.
    pub fn length_was_checked(&self) -> bool {
        self.expected_frames.is_some()
    }

    /// The length the container announces or estimates, in frames, when it says one: a
    /// guide for progress, never a check.
    pub fn estimated_frames(&self) -> Option<u64> {
        self.estimated_frames
    }

    /// Frames handed out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The next block of interleaved frames, `None` at the clean end of the stream.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, DecodeFailure> {
        if !self.pending && !self.decode_next()? {
            return Ok(None);
        }
        self.pending = false;
        let Some(buf) = self.buf.as_ref() else {
            return Ok(None);
        };
        let ch = usize::from(self.info.channels.max(1));
        let (from, to) = self.keep_range;
        let samples = buf.samples().get(from * ch..to * ch).unwrap_or_default();
        self.frames += (to - from) as u64;
        Ok(Some(samples))
    }

    /// A failure at the current position.
    fn fail(&self, reason: impl Into<String>) -> DecodeFailure {
        DecodeFailure {
            at_frame: self.frames,
            reason: reason.into(),
        }
    }

    /// Decodes packets until one yields frames (into `buf`); `false` at the clean end.
    fn decode_next(&mut self) -> Result<bool, DecodeFailure> {
        match guarded(|| self.decode_next_unguarded()) {
            Ok(result) => result,
            Err(reason) => {
                self.done = true;
                Err(self.fail(reason))
            }
        }
    }

    /// [`AudioDecoder::decode_next`], letting symphonia's panics through.
    fn decode_next_unguarded(&mut self) -> Result<bool, DecodeFailure> {
        if self.done {
            return Ok(false);
        }
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(Error::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.done = true;
                    self.check_end()?;
                    return Ok(false);
                }
                Err(Error::ResetRequired) => {
                    return Err(self.fail("the stream changes its format part-way"))
                }
                Err(e) => return Err(self.fail(describe(&e))),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            // FLAC frames carry their sample number; the reader skips frames that fail their
            // CRC, so a jump means damaged audio was dropped right here.
            if self.checks_timestamps && packet.ts() != self.raw_frames {
                return Err(self.fail(format!(
                    "damaged frames were skipped ({} sample frames missing)",
                    packet.ts().abs_diff(self.raw_frames)
                )));
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(e) => return Err(self.fail(describe(&e))),
            };
            let n = decoded.frames();
            if n == 0 {
                continue;
            }
            let spec = *decoded.spec();
            if self.info.channels == 0 {
                let channels = spec.channels.count();
                if spec.rate == 0 || channels == 0 || channels > MAX_CHANNELS {
                    return Err(self.fail(format!(
                        "unusable stream: {channels} channel(s) at {} Hz",
                        spec.rate
                    )));
                }
                self.info.sample_rate = spec.rate;
                self.info.channels = channels as u16;
                self.info.channel_mask = spec.channels.bits();
                self.spec = spec;
            } else if spec != self.spec {
                return Err(self.fail(format!(
                    "the stream changes from {} channel(s) at {} Hz to {} at {} Hz",
                    self.spec.channels.count(),
                    self.spec.rate,
                    spec.channels.count(),
                    spec.rate
                )));
            }
            let capacity = decoded.capacity();
            let buf = match &mut self.buf {
                Some(b) if b.capacity() >= capacity => b,
                slot => slot.insert(SampleBuffer::new(capacity as u64, spec)),
            };
            buf.copy_interleaved_ref(decoded);
            let start = self.raw_frames;
            self.raw_frames += n as u64;
            self.keep_range = match self.trim {
                None => (0, n),
                Some(t) => {
                    let end = t.skip.saturating_add(t.keep);
                    let from = t.skip.clamp(start, self.raw_frames) - start;
                    let to = end.clamp(start, self.raw_frames) - start;
                    (from as usize, to as usize)
                }
            };
            if self.keep_range.0 == self.keep_range.1 {
                // All priming or padding: decoded (damage still counts) but not handed out.
                continue;
            }
            return Ok(true);
        }
    }

    /// At end of file: the checksum must match and the announced length must be there.
    fn check_end(&mut self) -> Result<(), DecodeFailure> {
        if let Some(n) = self.expected_frames.filter(|n| self.frames < *n) {
            return Err(self.fail(format!(
                "the file ends early: {} of {n} sample frames are there",
                self.frames
            )));
        }
        if self.decoder.finalize().verify_ok == Some(false) {
            return Err(self.fail("the audio does not match the checksum stored in the file"));
        }
        Ok(())
    }
}

thread_local! {
    /// Set while symphonia runs on this thread under [`guarded`]: its panics are reported
    /// as refusals, so the panic hook keeps them off stderr.
    static IN_GUARD: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays quiet for panics inside [`guarded`] (logging them
/// at debug level) and hands every other panic to the hook that was there before.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_GUARD.with(Cell::get) {
                tracing::debug!(%info, "symphonia panicked on malformed data");
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs symphonia code, turning a panic into an error message: symphonia 0.5 still panics
/// on some malformed input (e.g. arithmetic overflow in the MP4 and ADTS readers), and a
/// damaged upload must be refused, not crash the daemon.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    let was = IN_GUARD.with(|g| g.replace(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.with(|g| g.set(was));
    result.map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_string());
        format!("the decoder gave up on malformed data: {what}")
    })
}

/// Whether `n_frames` of a PCM track comes from a WAV written to a pipe, whose data chunk
/// size is the placeholder 0xFFFFFFFF: then it is no announced length to check against.
fn is_streamed_wav_length(codec: &str, params: &CodecParameters, n_frames: u64) -> bool {
    let bits = params.bits_per_coded_sample.or(params.bits_per_sample);
    let channels = params.channels.map(|c| c.count());
    match (codec.starts_with("pcm_"), bits, channels) {
        (true, Some(bits), Some(channels)) => {
            let frame_bytes = u64::from(bits.div_ceil(8)) * channels as u64;
            n_frames.saturating_add(1).saturating_mul(frame_bytes) > u64::from(u32::MAX)
        }
        _ => false,
    }
}

/// Symphonia's error in operator words.
fn describe(e: &Error) -> String {
    match e {
        Error::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "the file ends in the middle of a packet".to_string()
        }
        Error::IoError(io) => format!("read error: {io}"),
        Error::DecodeError(m) => format!("corrupt data: {m}"),
        Error::Unsupported(m) => format!("unsupported: {m}"),
        Error::LimitError(m) => format!("too large: {m}"),
        other => other.to_string(),
    }
}

/// Copies title and artist from one metadata revision where `tags` has none yet.
fn collect_tags(rev: &MetadataRevision, tags: &mut Tags) {
    for tag in rev.tags() {
        let slot = match tag.std_key {
            Some(StandardTagKey::TrackTitle) => &mut tags.title,
            Some(StandardTagKey::Artist) => &mut tags.artist,
            _ => continue,
        };
        if slot.is_some() {
            continue;
        }
        let text = match &tag.value {
            Value::String(s) => s.clone(),
            Value::Binary(_) | Value::Flag => continue,
            other => other.to_string(),
        };
        if !text.trim().is_empty() {
            *slot = Some(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_the_guard_becomes_an_error_naming_it() {
        let result: Result<(), String> = guarded(|| panic!("attempt to subtract with overflow"));
        let reason = result.unwrap_err();
        assert!(reason.contains("malformed data"), "{reason}");
        assert!(reason.contains("subtract with overflow"), "{reason}");
        assert!(!IN_GUARD.with(Cell::get), "the guard is cleared afterwards");
    }

    #[test]
    fn a_value_passes_through_the_guard() {
        assert_eq!(guarded(|| 7), Ok(7));
    }
}
