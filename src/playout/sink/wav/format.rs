//! The capture's file format: the WAV header this sink writes and reads back, for what
//! [`crate::output::CaptureOptions`] says a capture stores. Both sample formats share one header
//! layout (an 18-byte `fmt ` chunk and a `fact` chunk), so the sizes sit at the same
//! offsets whatever the format.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::SinkError;
use crate::output::{OutputFormat, SampleFormat};

/// Bytes of the header this sink writes: RIFF, `fmt ` (18 bytes, as format 3 asks; PCM
/// gets the same layout), `fact` and the `data` chunk's header.
pub(super) const HEADER_LEN: u64 = 58;
/// Where the RIFF size, the fact chunk's frame count and the data size sit in the header.
const RIFF_SIZE_AT: u64 = 4;
const FACT_FRAMES_AT: u64 = 46;
const DATA_SIZE_AT: u64 = 54;

/// Bytes per frame of `fmt` in `sample`s.
pub(super) fn frame_bytes(fmt: OutputFormat, sample: SampleFormat) -> u64 {
    u64::from(fmt.channels) * sample.bytes()
}

/// A played sample as 16-bit PCM: clipped to full scale, rounded (NaN becomes 0).
pub(super) fn to_s16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}

/// The header of a WAV of `frames` frames.
pub(super) fn header(fmt: OutputFormat, sample: SampleFormat, frames: u64) -> Vec<u8> {
    let data = (frames * frame_bytes(fmt, sample)) as u32;
    let block_align = fmt.channels * sample.bytes() as u16;
    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(HEADER_LEN as u32 - 8 + data).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&18u32.to_le_bytes());
    h.extend_from_slice(&sample.wave_tag().to_le_bytes());
    h.extend_from_slice(&fmt.channels.to_le_bytes());
    h.extend_from_slice(&fmt.sample_rate.to_le_bytes());
    h.extend_from_slice(&(fmt.sample_rate * u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&(sample.bytes() as u16 * 8).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(b"fact");
    h.extend_from_slice(&4u32.to_le_bytes());
    h.extend_from_slice(&(frames as u32).to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    debug_assert_eq!(h.len() as u64, HEADER_LEN);
    h
}

/// Rewrites the sizes in the header for `frames` frames, fsyncs, and returns to the end.
pub(super) fn update_sizes(
    file: &mut File,
    fmt: OutputFormat,
    sample: SampleFormat,
    frames: u64,
) -> io::Result<()> {
    file.sync_data()?;
    let h = header(fmt, sample, frames);
    for at in [RIFF_SIZE_AT, FACT_FRAMES_AT, DATA_SIZE_AT] {
        file.seek(SeekFrom::Start(at))?;
        file.write_all(&h[at as usize..at as usize + 4])?;
    }
    file.sync_data()?;
    file.seek(SeekFrom::End(0))?;
    Ok(())
}

/// Reads a header this sink wrote; the frames it announces and its format. With `expect`, the format must
/// be that one (a day file is never appended to in another format).
pub(super) fn read_header(
    file: &mut File,
    path: &Path,
    expect: Option<(OutputFormat, SampleFormat)>,
) -> Result<(u64, OutputFormat, SampleFormat), SinkError> {
    let mut h = [0u8; HEADER_LEN as usize];
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut h))
        .map_err(|source| SinkError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let sample = match (u16_at(20), u16_at(34)) {
        (3, 32) => Some(SampleFormat::F32),
        (1, 16) => Some(SampleFormat::S16),
        _ => None,
    };
    let ours = &h[0..4] == b"RIFF"
        && &h[8..16] == b"WAVEfmt "
        && u32_at(16) == 18
        && &h[38..42] == b"fact"
        && &h[50..54] == b"data";
    let found = OutputFormat {
        channels: u16_at(22),
        sample_rate: u32_at(24),
    };
    let Some(sample) = sample.filter(|_| ours && found.is_usable()) else {
        return Err(SinkError::Capture {
            path: path.to_path_buf(),
            reason: "not a capture file written by loa (16-bit or float WAV); move it away"
                .to_string(),
        });
    };
    if let Some((fmt, s)) = expect.filter(|e| *e != (found, sample)) {
        return Err(SinkError::Capture {
            path: path.to_path_buf(),
            reason: format!(
                "holds {found} ({sample}), the station now captures {fmt} ({s}); move it away"
            ),
        });
    }
    Ok((
        u64::from(u32_at(DATA_SIZE_AT as usize)) / frame_bytes(found, sample),
        found,
        sample,
    ))
}
