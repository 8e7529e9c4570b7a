//! The capture sink: what would have gone to the loudspeakers, kept as files.
//!
//! One WAV per station per station-local day, `DIR/<station>/<YYYY-MM-DD>.wav`, in 32-bit
//! float PCM (format 3) so the captured samples are the played ones bit for bit, and beside
//! it `<YYYY-MM-DD>.segments.tsv`, one line per segment:
//! `start_instant_rfc3339 TAB first_frame_in_file TAB frames`, which is how the sample
//! that aired at instant T is found ([`frame_at`]).
//!
//! # Crash safety
//! The header's sizes are rewritten and the file fsynced at every [`Sink::end`], and only
//! then is the segment's line appended (and fsynced). A crash leaves a valid WAV up to the
//! last ended segment; audio past the header's size is cut off when the file is reopened
//! for appending (a restart the same day), so file and segments file agree again.
//!
//! A RIFF file holds at most 4 GiB: at 48 kHz stereo that is 3 h 06 min a day, far more
//! than a station's slots; a write past it is an error, not a corrupt file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::{check_frames, Sink, SinkError, SinkSpec};
use crate::playout::OutputFormat;

/// Bytes of the header this sink writes: RIFF, `fmt ` (18 bytes, as format 3 asks), `fact`
/// and the `data` chunk's header.
const HEADER_LEN: u64 = 58;
/// Where the RIFF size, the fact chunk's frame count and the data size sit in the header.
const RIFF_SIZE_AT: u64 = 4;
const FACT_FRAMES_AT: u64 = 46;
const DATA_SIZE_AT: u64 = 54;

/// One segment of a capture file, as the segments file records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The instant the segment's first frame aired.
    pub start: DateTime<Utc>,
    /// Its first frame's index in the day's WAV.
    pub first_frame: u64,
    /// Its length in frames.
    pub frames: u64,
}

/// The frame of the day's WAV that aired at instant `t`, if one did. The instant is rounded
/// to the nearest frame, so an instant logged to the microsecond finds its frame exactly.
pub fn frame_at(segments: &[Segment], sample_rate: u32, t: DateTime<Utc>) -> Option<u64> {
    segments.iter().find_map(|s| {
        let ns = (t - s.start).num_nanoseconds()?;
        if ns < 0 {
            return None;
        }
        let offset =
            ((i128::from(ns) * i128::from(sample_rate) + 500_000_000) / 1_000_000_000) as u64;
        (offset < s.frames).then_some(s.first_frame + offset)
    })
}

/// Captures to WAV files under a folder.
pub struct WavSink {
    /// The capture folder.
    dir: PathBuf,
    /// The format of every file.
    format: OutputFormat,
    /// The day file being written, if any.
    day: Option<DayFile>,
    /// Frames written since the sink was opened.
    frames: u64,
    /// Reused byte buffer for converting samples.
    bytes: Vec<u8>,
}

/// The WAV of one station and day, open for appending.
struct DayFile {
    /// Which station.
    station: String,
    /// Which local day.
    day: NaiveDate,
    /// The WAV's path.
    path: PathBuf,
    /// The segments file's path.
    tsv: PathBuf,
    /// The WAV, positioned at the end of its audio.
    file: BufWriter<File>,
    /// Frames in the file, including the open segment's.
    frames: u64,
    /// The open segment: its start instant and first frame.
    open: Option<(DateTime<Utc>, u64)>,
}

/// The `wav` entry of the backend table.
pub fn open(spec: &SinkSpec, fmt: OutputFormat) -> Result<Box<dyn Sink>, SinkError> {
    match spec {
        SinkSpec::Wav(dir) => Ok(Box::new(WavSink::new(dir, fmt)?)),
        other => Err(SinkError::BadSpec {
            text: other.to_string(),
            reason: "not a wav sink".to_string(),
        }),
    }
}

impl WavSink {
    /// A capture sink writing under `dir` (created if missing).
    pub fn new(dir: &Path, format: OutputFormat) -> Result<WavSink, SinkError> {
        fs::create_dir_all(dir).map_err(|source| SinkError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(WavSink {
            dir: dir.to_path_buf(),
            format,
            day: None,
            frames: 0,
            bytes: Vec::new(),
        })
    }

    /// Opens (or creates) the day file of `station` and `day`.
    fn open_day(&self, station: &str, day: NaiveDate) -> Result<DayFile, SinkError> {
        if station.is_empty() || station.starts_with('.') || station.contains(['/', '\\', '\0']) {
            return Err(SinkError::Capture {
                path: self.dir.clone(),
                reason: format!("`{station}` cannot be a folder name for a station's capture"),
            });
        }
        let folder = self.dir.join(station);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SinkError::Io { path, source }
        };
        fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        let path = folder.join(format!("{day}.wav"));
        let tsv = folder.join(format!("{day}.segments.tsv"));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        let len = file.metadata().map_err(io_err(&path))?.len();
        let frames = if len == 0 {
            file.write_all(&header(self.format, 0))
                .and_then(|_| file.sync_all())
                .map_err(io_err(&path))?;
            0
        } else {
            let (frames, _) = read_header(&mut file, &path, Some(self.format))?;
            // Audio past the header's size is a segment a crash cut short: drop it.
            let end = HEADER_LEN + frames * frame_bytes(self.format);
            if len > end {
                tracing::warn!(file = %path.display(), bytes = len - end, "dropping audio of a segment that never ended");
                file.set_len(end).map_err(io_err(&path))?;
            }
            frames
        };
        file.seek(SeekFrom::End(0)).map_err(io_err(&path))?;
        Ok(DayFile {
            station: station.to_string(),
            day,
            path,
            tsv,
            file: BufWriter::with_capacity(256 * 1024, file),
            frames,
            open: None,
        })
    }
}

impl Sink for WavSink {
    fn format(&self) -> OutputFormat {
        self.format
    }

    fn realtime(&self) -> bool {
        false
    }

    fn begin(&mut self, station: &str, day: NaiveDate, at: DateTime<Utc>) -> Result<(), SinkError> {
        if self.day.as_ref().is_some_and(|d| d.open.is_some()) {
            self.end()?;
        }
        let same = self
            .day
            .as_ref()
            .is_some_and(|d| d.station == station && d.day == day);
        if !same {
            self.day = None;
            self.day = Some(self.open_day(station, day)?);
        }
        if let Some(d) = self.day.as_mut() {
            d.open = Some((at, d.frames));
        }
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), SinkError> {
        let what = format!("wav:{}", self.dir.display());
        let n = check_frames(&what, self.format, samples)?;
        let fb = frame_bytes(self.format);
        let Some(d) = self.day.as_mut().filter(|d| d.open.is_some()) else {
            return Err(SinkError::NoSegment(what));
        };
        if HEADER_LEN + (d.frames + n) * fb > u64::from(u32::MAX) {
            return Err(SinkError::Capture {
                path: d.path.clone(),
                reason: "the day's capture would pass the 4 GiB a WAV file can hold".to_string(),
            });
        }
        self.bytes.clear();
        self.bytes.reserve(samples.len() * 4);
        for s in samples {
            self.bytes.extend_from_slice(&s.to_le_bytes());
        }
        d.file
            .write_all(&self.bytes)
            .map_err(|source| SinkError::Io {
                path: d.path.clone(),
                source,
            })?;
        d.frames += n;
        self.frames += n;
        Ok(())
    }

    fn end(&mut self) -> Result<(), SinkError> {
        // Nothing open: nothing to end (as with the other sinks).
        let Some(d) = self.day.as_mut() else {
            return Ok(());
        };
        let Some((start, first)) = d.open.take() else {
            return Ok(());
        };
        let fmt = self.format;
        let wav_err = |source| SinkError::Io {
            path: d.path.clone(),
            source,
        };
        d.file.flush().map_err(wav_err)?;
        let file = d.file.get_mut();
        update_sizes(file, fmt, d.frames).map_err(|source| SinkError::Io {
            path: d.path.clone(),
            source,
        })?;
        let line = format!(
            "{}\t{first}\t{}\n",
            start.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            d.frames - first
        );
        let mut tsv = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&d.tsv)
            .map_err(|source| SinkError::Io {
                path: d.tsv.clone(),
                source,
            })?;
        tsv.write_all(line.as_bytes())
            .and_then(|_| tsv.sync_data())
            .map_err(|source| SinkError::Io {
                path: d.tsv.clone(),
                source,
            })?;
        Ok(())
    }

    fn frames_written(&self) -> u64 {
        self.frames
    }
}

impl Drop for WavSink {
    /// Ends an open segment so its audio is in the header and the segments file.
    fn drop(&mut self) {
        if self.day.as_ref().is_some_and(|d| d.open.is_some()) {
            if let Err(e) = self.end() {
                tracing::warn!(error = %e, "capture segment not closed cleanly");
            }
        }
    }
}

/// Bytes per frame of `fmt` as 32-bit float.
fn frame_bytes(fmt: OutputFormat) -> u64 {
    u64::from(fmt.channels) * 4
}

/// The header of a float WAV of `frames` frames.
fn header(fmt: OutputFormat, frames: u64) -> Vec<u8> {
    let data = (frames * frame_bytes(fmt)) as u32;
    let block_align = fmt.channels * 4;
    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(HEADER_LEN as u32 - 8 + data).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&18u32.to_le_bytes());
    h.extend_from_slice(&3u16.to_le_bytes());
    h.extend_from_slice(&fmt.channels.to_le_bytes());
    h.extend_from_slice(&fmt.sample_rate.to_le_bytes());
    h.extend_from_slice(&(fmt.sample_rate * u32::from(block_align)).to_le_bytes());
    h.extend_from_slice(&block_align.to_le_bytes());
    h.extend_from_slice(&32u16.to_le_bytes());
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
fn update_sizes(file: &mut File, fmt: OutputFormat, frames: u64) -> io::Result<()> {
    file.sync_data()?;
    let h = header(fmt, frames);
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
fn read_header(
    file: &mut File,
    path: &Path,
    expect: Option<OutputFormat>,
) -> Result<(u64, OutputFormat), SinkError> {
    let mut h = [0u8; HEADER_LEN as usize];
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut h))
        .map_err(|source| SinkError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let ours = &h[0..4] == b"RIFF"
        && &h[8..16] == b"WAVEfmt "
        && u32_at(16) == 18
        && u16_at(20) == 3
        && u16_at(34) == 32
        && &h[38..42] == b"fact"
        && &h[50..54] == b"data";
    let found = OutputFormat {
        channels: u16_at(22),
        sample_rate: u32_at(24),
    };
    if !ours || !found.is_usable() {
        return Err(SinkError::Capture {
            path: path.to_path_buf(),
            reason: "not a capture file written by loa (32-bit float WAV); move it away"
                .to_string(),
        });
    }
    if let Some(fmt) = expect.filter(|f| *f != found) {
        return Err(SinkError::Capture {
            path: path.to_path_buf(),
            reason: format!("holds {found}, the station now plays {fmt}; move it away"),
        });
    }
    Ok((
        u64::from(u32_at(DATA_SIZE_AT as usize)) / frame_bytes(found),
        found,
    ))
}

/// Reads back a day's capture: its samples (interleaved) and its segments. For tests and
/// for checking what aired; the whole day is loaded into memory.
pub fn read_capture(
    dir: &Path,
    station: &str,
    day: NaiveDate,
) -> Result<(Vec<f32>, Vec<Segment>), SinkError> {
    let path = dir.join(station).join(format!("{day}.wav"));
    let tsv = dir.join(station).join(format!("{day}.segments.tsv"));
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SinkError::Io { path, source }
    };
    let mut file = File::open(&path).map_err(io_err(&path))?;
    let (frames, fmt) = read_header(&mut file, &path, None)?;
    let mut bytes = Vec::new();
    file.take(frames * frame_bytes(fmt))
        .read_to_end(&mut bytes)
        .map_err(io_err(&path))?;
    let samples = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect::<Vec<f32>>();
    let text = match fs::read_to_string(&tsv) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_err(&tsv)(e)),
    };
    let segments = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            parse_segment(line).ok_or_else(|| SinkError::Capture {
                path: tsv.clone(),
                reason: format!("line {} is not `instant<TAB>first_frame<TAB>frames`", i + 1),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((samples, segments))
}

/// One line of a segments file.
fn parse_segment(line: &str) -> Option<Segment> {
    let mut parts = line.split('\t');
    let start = DateTime::parse_from_rfc3339(parts.next()?).ok()?.to_utc();
    let first_frame = parts.next()?.parse().ok()?;
    let frames = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(Segment {
        start,
        first_frame,
        frames,
    })
}

#[cfg(test)]
mod tests;
