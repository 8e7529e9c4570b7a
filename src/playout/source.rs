//! [`ItemSource`]: one stored item as samples in the station's [`OutputFormat`].
//!
//! The file is checked against the SHA-256 the library approved, decoded by
//! [`AudioDecoder`] block by block, channel-mapped, resampled with rubato's synchronous FFT
//! resampler, and scaled by the loudness gain. Nothing holds more than a few decoder
//! blocks and one resampler chunk, whatever the item's length.
//!
//! # Exact length
//! An item of `n` input frames at `in_rate` always yields exactly
//! `round(n * out_rate / in_rate)` frames (halves round up), computed in integers, so the
//! engine knows to the frame where the next item starts. Without resampling that is `n`,
//! and the samples are the decoder's, bit for bit, times the gain (within the ceiling).
//!
//! # Resampler delay and tail
//! The FFT resampler's output lags its input by [`Resampler::output_delay`] frames. The
//! source drops exactly that many frames from the front of the resampler's output, so
//! output frame 0 lines up with input frame 0. At the end of the input the last partial
//! chunk is fed with `partial_len` (rubato pads it with silence), then chunks of pure
//! silence (`partial_len = 0`) until the delay-trimmed output reaches the exact length;
//! whatever the resampler would still give after that is the filter's ringing past the
//! end and is cut. The chunk size is chosen so the reported delay is exact (see
//! [`chunk_frames`]); a test holds a resampled sine against the ideal one to the frame. No input frame is dropped (they all reach the resampler) and none is
//! doubled (each chunk is consumed once).
//!
//! # Channels
//! [`Mix`] maps the file's channels to the output's: mono to every channel, extra channels
//! downmixed by ITU-R BS.775 (so a 5.1 or 7.1 file with speech in the centre is heard),
//! see [`crate::playout::downmix`]. Mapping is done on the side of the resampler with
//! fewer channels (both are linear, so the order does not change the result).
//!
//! # Gain and ceiling
//! Every output sample goes through a [`Stage`]: the loudness gain, then a hard limit at
//! the ceiling ([`ItemSource::with_ceiling`]; full scale unless set), so no NaN, infinity
//! or over-ceiling sample reaches a sink whatever the file holds.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};
use sha2::{Digest, Sha256};

use crate::library::analysis::frames_to_ms;
use crate::library::decode::{AudioDecoder, DecodeFailure, OpenError};
use crate::library::ingest::format_position;
use crate::library::mp4_edit::{inspect, Index};
use crate::library::sniff::{sniff, Sniffed, HEAD_LEN};
use crate::playout::downmix::Mix;
use crate::playout::gain::Stage;
use crate::playout::{OutputFormat, PlayError};

/// Input frames per resampler chunk (rounded by rubato to fit the rate ratio): large
/// enough for the FFT to be efficient, small enough to keep memory and latency low.
const CHUNK_FRAMES: usize = 1024;

/// The longest item [`decode_all`] will hold in memory: two minutes is 23 MB of 48 kHz
/// stereo `f32`. The engine uses it only for jingles and spots under this length; bulletins
/// are streamed through [`ItemSource::read`].
pub const DECODE_ALL_MAX_SECONDS: u64 = 120;

/// One item, streaming, in the output format.
pub struct ItemSource {
    /// The file, for error messages.
    path: PathBuf,
    /// The streaming decoder.
    decoder: AudioDecoder,
    /// The file's sample rate, for positions in error messages.
    in_rate: u32,
    /// The file's channel count.
    in_channels: usize,
    /// The output's channel count.
    out_channels: usize,
    /// Channels the resampler works on: the smaller of input and output.
    work_channels: usize,
    /// Input channels to output channels, when there is no resampler.
    mix: Mix,
    /// Input channels to work channels (before resampling).
    pre_mix: Mix,
    /// Work channels to output channels (after resampling).
    post_mix: Mix,
    /// The item's gain in dB, kept to rebuild the stage with another ceiling.
    gain_db: f64,
    /// Gain and ceiling applied to every output sample.
    stage: Stage,
    /// Input frames the file holds (counted or as the library recorded).
    frames_in: u64,
    /// Exact output length in frames.
    total_frames: u64,
    /// Output frames handed out so far.
    emitted: u64,
    /// The resampler and its buffers; `None` when the rates are equal.
    resampler: Option<Stream>,
    /// Output samples ready to hand out (interleaved, output channels, gain applied).
    ready: Vec<f32>,
    /// How much of `ready` was handed out.
    ready_pos: usize,
    /// Whether the decoder reached the end of the file.
    input_done: bool,
}

/// The resampling half of an [`ItemSource`].
struct Stream {
    /// rubato's fixed-ratio FFT resampler.
    fft: Fft<f32>,
    /// One input chunk being gathered (interleaved, work channels).
    input: Vec<f32>,
    /// Frames of `input` filled.
    filled: usize,
    /// Decoded frames mapped to work channels, not yet moved into `input`.
    staged: Vec<f32>,
    /// How much of `staged` was moved.
    staged_pos: usize,
    /// The resampler's output for one chunk (interleaved, work channels).
    output: Vec<f32>,
    /// Output frames still to drop for the resampler's delay.
    delay_left: usize,
    /// Delay-trimmed output frames produced so far (at most the item's total).
    produced: u64,
}

impl ItemSource {
    /// Opens `path`, checks it against `expected_sha256` (lower- or upper-case hex) when
    /// given, and prepares it for playing in `fmt` at `gain_db`.
    ///
    /// The exact length needs the input's frame count, so this decodes the file once
    /// without keeping anything to count them; that pass also proves the whole file
    /// decodes before any of it airs. When the library's count is at hand, use
    /// [`ItemSource::open_known_length`] and skip the pass.
    pub fn open(
        path: &Path,
        expected_sha256: Option<&str>,
        fmt: OutputFormat,
        gain_db: f64,
    ) -> Result<ItemSource, PlayError> {
        ItemSource::open_inner(path, expected_sha256, None, fmt, gain_db)
    }

    /// [`ItemSource::open`] for a file whose decoded length the library recorded at ingest
    /// (`AudioFacts::frames`). The decoder is deterministic, so the same bytes decode to the
    /// same length; a file that still ends elsewhere is a [`PlayError::Length`] at its end.
    pub fn open_known_length(
        path: &Path,
        expected_sha256: Option<&str>,
        frames_in: u64,
        fmt: OutputFormat,
        gain_db: f64,
    ) -> Result<ItemSource, PlayError> {
        ItemSource::open_inner(path, expected_sha256, Some(frames_in), fmt, gain_db)
    }

    fn open_inner(
        path: &Path,
        expected_sha256: Option<&str>,
        frames_in: Option<u64>,
        fmt: OutputFormat,
        gain_db: f64,
    ) -> Result<ItemSource, PlayError> {
        let _span = tracing::debug_span!("item_source", file = %path.display()).entered();
        if !fmt.is_usable() {
            return Err(PlayError::Format {
                path: path.to_path_buf(),
                format: fmt,
                reason: "no such output format".to_string(),
            });
        }
        let io_err = |source: io::Error| match source.kind() {
            io::ErrorKind::NotFound => PlayError::Missing {
                path: path.to_path_buf(),
            },
            _ => PlayError::Io {
                path: path.to_path_buf(),
                source,
            },
        };
        // One handle for the hash and the decoding: a file swapped on disk after the check
        // cannot slip in between.
        let mut file = File::open(path).map_err(io_err)?;
        if let Some(expected) = expected_sha256 {
            let actual = sha256_of(&mut file).map_err(io_err)?;
            if !actual.eq_ignore_ascii_case(expected.trim()) {
                return Err(PlayError::ShaMismatch {
                    path: path.to_path_buf(),
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        let frames_in = match frames_in {
            Some(n) => n,
            None => {
                let mut counter = open_decoder(path, &mut file)?;
                let rate = counter.info().sample_rate;
                loop {
                    match counter.next_block() {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(f) => return Err(decode_error(path, rate, f)),
                    }
                }
                counter.frames()
            }
        };
        let decoder = open_decoder(path, &mut file)?;
        let in_rate = decoder.info().sample_rate;
        let in_channels = usize::from(decoder.info().channels);
        let mask = decoder.info().channel_mask;
        let out_channels = usize::from(fmt.channels);
        let work_channels = in_channels.min(out_channels);
        let resampler = if in_rate == fmt.sample_rate {
            None
        } else {
            let fft = Fft::<f32>::new(
                in_rate as usize,
                fmt.sample_rate as usize,
                chunk_frames(in_rate, fmt.sample_rate),
                work_channels,
                FixedSync::Both,
            )
            .map_err(|e| PlayError::Format {
                path: path.to_path_buf(),
                format: fmt,
                reason: format!("resampling from {in_rate} Hz: {e}"),
            })?;
            Some(Stream {
                input: vec![0.0; fft.input_frames_max() * work_channels],
                output: vec![0.0; fft.output_frames_max() * work_channels],
                delay_left: fft.output_delay(),
                fft,
                filled: 0,
                staged: Vec::new(),
                staged_pos: 0,
                produced: 0,
            })
        };
        let total_frames = output_length(frames_in, in_rate, fmt.sample_rate);
        tracing::debug!(
            in_rate,
            in_channels,
            frames_in,
            total_frames,
            gain_db,
            "item opened"
        );
        Ok(ItemSource {
            path: path.to_path_buf(),
            decoder,
            in_rate,
            in_channels,
            out_channels,
            work_channels,
            mix: Mix::new(mask, in_channels, out_channels),
            pre_mix: Mix::new(mask, in_channels, work_channels),
            post_mix: Mix::new(mask, work_channels, out_channels),
            gain_db,
            stage: Stage::new(gain_db, 0.0),
            frames_in,
            total_frames,
            emitted: 0,
            resampler,
            ready: Vec::new(),
            ready_pos: 0,
            input_done: false,
        })
    }

    /// Limits every output sample at `ceiling_dbtp` (the station's true-peak ceiling)
    /// instead of full scale.
    pub fn with_ceiling(mut self, ceiling_dbtp: f64) -> ItemSource {
        self.stage = Stage::new(self.gain_db, ceiling_dbtp);
        self
    }

    /// The item's exact length in output frames.
    pub fn total_frames(&self) -> u64 {
        self.total_frames
    }

    /// Output frames handed out so far (by [`ItemSource::read`] and [`ItemSource::skip`]).
    pub fn position(&self) -> u64 {
        self.emitted
    }

    /// Fills `out` with interleaved output samples (whole frames only) and returns how
    /// many samples it wrote: fewer than asked only at the end, 0 once the item is over.
    /// `out` must hold at least one frame; a shorter buffer reads nothing.
    pub fn read(&mut self, out: &mut [f32]) -> Result<usize, PlayError> {
        let ch = self.out_channels;
        let want = out.len() / ch * ch;
        let mut written = 0;
        while written < want {
            if self.ready_pos == self.ready.len() && !self.refill()? {
                break;
            }
            let left_in_item = (self.total_frames - self.emitted) as usize * ch;
            let n = (want - written)
                .min(self.ready.len() - self.ready_pos)
                .min(left_in_item);
            if n == 0 {
                break;
            }
            out[written..written + n]
                .copy_from_slice(&self.ready[self.ready_pos..self.ready_pos + n]);
            self.ready_pos += n;
            written += n;
            self.emitted += (n / ch) as u64;
        }
        Ok(written)
    }

    /// Skips `frames` output frames (decoding and discarding them), for joining an item
    /// part-way. Returns the frames skipped: fewer only when the item ends first.
    pub fn skip(&mut self, frames: u64) -> Result<u64, PlayError> {
        let mut scratch = vec![0.0f32; 4096 * self.out_channels];
        let mut skipped = 0u64;
        while skipped < frames {
            let n = ((frames - skipped) as usize).min(4096) * self.out_channels;
            let got = self.read(&mut scratch[..n])?;
            if got == 0 {
                break;
            }
            skipped += (got / self.out_channels) as u64;
        }
        Ok(skipped)
    }

    /// Puts the next output samples into `ready`; `false` once the item is exhausted.
    fn refill(&mut self) -> Result<bool, PlayError> {
        self.ready.clear();
        self.ready_pos = 0;
        if self.emitted >= self.total_frames {
            return Ok(false);
        }
        if self.resampler.is_some() {
            self.refill_resampled()
        } else {
            self.refill_direct()
        }
    }

    /// Same rate: one decoder block, channel-mapped and scaled.
    fn refill_direct(&mut self) -> Result<bool, PlayError> {
        let (ic, oc) = (self.in_channels, self.out_channels);
        let mix = &self.mix;
        loop {
            match self.decoder.next_block() {
                Ok(Some(block)) => {
                    for frame in block.chunks_exact(ic) {
                        let at = self.ready.len();
                        self.ready.resize(at + oc, 0.0);
                        mix.apply(frame, &mut self.ready[at..]);
                    }
                    self.stage.apply(&mut self.ready);
                    if !self.ready.is_empty() {
                        return Ok(true);
                    }
                }
                Ok(None) => {
                    self.finish_input()?;
                    return Ok(false);
                }
                Err(f) => return Err(decode_error(&self.path, self.in_rate, f)),
            }
        }
    }

    /// Different rates: gather one resampler chunk, resample, trim the delay, map, scale.
    fn refill_resampled(&mut self) -> Result<bool, PlayError> {
        loop {
            let Some(rs) = self.resampler.as_mut() else {
                return Ok(false);
            };
            if rs.produced >= self.total_frames {
                return Ok(false);
            }
            let need = rs.fft.input_frames_next();
            let wc = self.work_channels;
            // Move staged frames into the chunk.
            let staged_frames = (rs.staged.len() - rs.staged_pos) / wc;
            let take = staged_frames.min(need - rs.filled);
            rs.input[rs.filled * wc..(rs.filled + take) * wc]
                .copy_from_slice(&rs.staged[rs.staged_pos..rs.staged_pos + take * wc]);
            rs.filled += take;
            rs.staged_pos += take * wc;
            if rs.filled < need && !self.input_done {
                self.stage_next_block()?;
                continue;
            }
            // A full chunk, the last partial one, or (filled = 0) silence to flush the tail.
            let partial = (rs.filled < need).then_some(rs.filled);
            let indexing = partial.map(|n| Indexing::new().partial_len(n));
            let input = InterleavedSlice::new(&rs.input[..], wc, rs.input.len() / wc)
                .map_err(|e| resample_error(&self.path, e))?;
            let out_cap = rs.output.len() / wc;
            let mut output = InterleavedSlice::new_mut(&mut rs.output[..], wc, out_cap)
                .map_err(|e| resample_error(&self.path, e))?;
            let (_, made) = rs
                .fft
                .process_into_buffer(&input, &mut output, indexing.as_ref())
                .map_err(|e| resample_error(&self.path, e))?;
            rs.filled = 0;
            let drop = rs.delay_left.min(made);
            rs.delay_left -= drop;
            let keep = ((made - drop) as u64).min(self.total_frames - rs.produced) as usize;
            rs.produced += keep as u64;
            let oc = self.out_channels;
            self.ready.resize(keep * oc, 0.0);
            for (frame, out) in rs.output[drop * wc..(drop + keep) * wc]
                .chunks_exact(wc)
                .zip(self.ready.chunks_exact_mut(oc))
            {
                self.post_mix.apply(frame, out);
            }
            self.stage.apply(&mut self.ready);
            if keep > 0 {
                return Ok(true);
            }
        }
    }

    /// Decodes one block into the resampler's stage, mapped to work channels.
    fn stage_next_block(&mut self) -> Result<(), PlayError> {
        let ic = self.in_channels;
        let wc = self.work_channels;
        match self.decoder.next_block() {
            Ok(Some(block)) => {
                let Some(rs) = self.resampler.as_mut() else {
                    return Ok(());
                };
                rs.staged.clear();
                rs.staged_pos = 0;
                if ic == wc {
                    rs.staged.extend_from_slice(block);
                } else {
                    for frame in block.chunks_exact(ic) {
                        let at = rs.staged.len();
                        rs.staged.resize(at + wc, 0.0);
                        self.pre_mix.apply(frame, &mut rs.staged[at..]);
                    }
                }
                // The FFT resampler cannot take a NaN or an infinity (rubato panics on
                // them): silence instead, as the stage would make of them anyway.
                for s in rs.staged.iter_mut().filter(|s| !s.is_finite()) {
                    *s = 0.0;
                }
                Ok(())
            }
            Ok(None) => self.finish_input(),
            Err(f) => Err(decode_error(&self.path, self.in_rate, f)),
        }
    }

    /// At the decoder's end: the file must have been as long as the library said.
    fn finish_input(&mut self) -> Result<(), PlayError> {
        self.input_done = true;
        let actual = self.decoder.frames();
        if actual != self.frames_in {
            return Err(PlayError::Length {
                path: self.path.clone(),
                expected: self.frames_in,
                actual,
            });
        }
        Ok(())
    }
}

/// Decodes the whole item into memory: for short items (jingles, spots) that the engine
/// renders often. Refuses items longer than [`DECODE_ALL_MAX_SECONDS`].
pub fn decode_all(
    path: &Path,
    expected_sha256: Option<&str>,
    fmt: OutputFormat,
    gain_db: f64,
) -> Result<Vec<f32>, PlayError> {
    let mut src = ItemSource::open(path, expected_sha256, fmt, gain_db)?;
    let seconds = src.total_frames() / u64::from(fmt.sample_rate);
    if seconds > DECODE_ALL_MAX_SECONDS {
        return Err(PlayError::TooLong {
            path: path.to_path_buf(),
            seconds,
            limit: DECODE_ALL_MAX_SECONDS,
        });
    }
    let len = src.total_frames() as usize * usize::from(fmt.channels);
    let mut all = vec![0.0f32; len];
    let mut at = 0;
    while at < len {
        let n = src.read(&mut all[at..])?;
        if n == 0 {
            break;
        }
        at += n;
    }
    all.truncate(at);
    Ok(all)
}

/// `round(frames_in * out_rate / in_rate)`, halves up, in integers.
pub fn output_length(frames_in: u64, in_rate: u32, out_rate: u32) -> u64 {
    if in_rate == out_rate || in_rate == 0 {
        return frames_in;
    }
    let (n, i, o) = (
        u128::from(frames_in),
        u128::from(in_rate),
        u128::from(out_rate),
    );
    u64::try_from((n * o + i / 2) / i).unwrap_or(u64::MAX)
}

/// The chunk size to ask rubato for: at least [`CHUNK_FRAMES`], and an *even* number of
/// the smallest chunks the rate ratio allows. rubato's FFT resampler filters with a kernel
/// centred on the middle of its FFT block; with an odd block the true delay is a fraction
/// of a frame off what [`Resampler::output_delay`] reports (1.09 frames early at
/// 22.05 → 48 kHz). With an even number of smallest chunks both FFT sizes are even and the
/// reported delay is exact, so trimming it lines the output up with the input.
fn chunk_frames(in_rate: u32, out_rate: u32) -> usize {
    let (mut a, mut b) = (in_rate, out_rate);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    let smallest = (in_rate / a.max(1)) as usize;
    let k = CHUNK_FRAMES.div_ceil(smallest);
    (k + k % 2) * smallest
}

/// Sniffs the file and opens a decoder on a fresh handle to it at offset 0, with the MP4
/// edit list's trim exactly as ingest found it (so the length matches the library's).
fn open_decoder(path: &Path, file: &mut File) -> Result<AudioDecoder, PlayError> {
    let io_err = |source| PlayError::Io {
        path: path.to_path_buf(),
        source,
    };
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let mut head = Vec::with_capacity(HEAD_LEN);
    file.by_ref()
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let trim = match sniff(&head) {
        Sniffed::NotAudio(what) => {
            return Err(PlayError::Open {
                path: path.to_path_buf(),
                reason: format!("the file is {what}, not audio"),
            })
        }
        Sniffed::Audio("mp4") => match inspect(file).map_err(io_err)? {
            Index::Sound(trim) => trim,
            Index::Damaged(why) => {
                return Err(PlayError::Open {
                    path: path.to_path_buf(),
                    reason: format!("the MP4 index is damaged: {why}"),
                })
            }
        },
        _ => None,
    };
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let handle = file.try_clone().map_err(io_err)?;
    AudioDecoder::open(handle, trim).map_err(|e| {
        let reason = match e {
            OpenError::Unrecognised(r) => format!("not a recognised audio format ({r})"),
            OpenError::Truncated => "the file ends inside its headers".to_string(),
            OpenError::NoAudioTrack => "no audio track".to_string(),
            OpenError::Unsupported(r) => format!("unsupported codec: {r}"),
            OpenError::NoAudio => "no audio in the file".to_string(),
            OpenError::Failed(f) => {
                return PlayError::Decode {
                    path: path.to_path_buf(),
                    position: format_position(0),
                    reason: f.reason,
                }
            }
        };
        PlayError::Open {
            path: path.to_path_buf(),
            reason,
        }
    })
}

/// Lower-case hex SHA-256 of the whole file.
fn sha256_of(file: &mut File) -> io::Result<String> {
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A decoder failure as a [`PlayError`] with its position in the file.
fn decode_error(path: &Path, rate: u32, f: DecodeFailure) -> PlayError {
    PlayError::Decode {
        path: path.to_path_buf(),
        position: format_position(frames_to_ms(f.at_frame, rate)),
        reason: f.reason,
    }
}

/// A resampler error (a bug, not bad input) as a [`PlayError`].
fn resample_error(path: &Path, e: impl std::fmt::Display) -> PlayError {
    PlayError::Resample {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests;
