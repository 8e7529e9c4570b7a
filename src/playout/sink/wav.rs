//! The capture sink: what would have gone to the loudspeakers, kept as files.
//!
//! One WAV per station per station-local day, `DIR/<station>/<YYYY-MM-DD>.wav`, in the
//! [`CaptureOptions`]' format: by default 16 kHz mono 16-bit PCM (about 110 MB an airtime
//! hour, enough to hear what aired), or 32-bit float (format 3) at the station's rate, so
//! the captured samples are the played ones bit for bit (what the tests compare). The
//! station renders its items in the capture's rate and channels ([`Sink::format`]), so
//! this sink only converts samples to 16 bits. Beside each WAV,
//! `<YYYY-MM-DD>.segments.tsv`, one line per segment:
//! `start_instant_rfc3339 TAB first_frame_in_file TAB frames`, which is how the sample
//! that aired at instant T is found ([`frame_at`]).
//!
//! # Crash safety
//! The header's sizes are rewritten and the file fsynced at every [`Sink::end`], and only
//! then is the segment's line appended (and fsynced). A crash leaves a valid WAV up to the
//! last ended segment; audio past the header's size is cut off when the file is reopened
//! for appending (a restart the same day), so file and segments file agree again.
//!
//! A RIFF file holds at most 4 GiB: at 48 kHz stereo float that is 3 h 06 min a day (37 h
//! at 16 kHz mono 16-bit), far more than a station's slots; a write past it is an error,
//! not a corrupt file.
//!
//! # Free space
//! Before each segment and every few megabytes, the free space of the capture folder's disk
//! is checked ([`space`]): an alert below twice the configured floor, and below the floor
//! capture stops (with an alert) while playout and the airlog go on; it resumes at a later
//! segment once there is room again. Alerts reach the station through
//! [`Sink::take_alerts`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::{check_frames, Sink, SinkError, SinkSpec};
use crate::playout::alert::Alert;
use crate::playout::OutputFormat;

mod format;
pub mod space;

use crate::output::{CaptureOptions, SampleFormat};
use format::{frame_bytes, header, read_header, to_s16, update_sizes, HEADER_LEN};

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

/// Reads the free bytes of a folder's disk (replaced in tests).
type FreeSpace = Box<dyn FnMut(&Path) -> Option<u64> + Send>;

/// Captures to WAV files under a folder.
pub struct WavSink {
    /// The capture folder.
    dir: PathBuf,
    /// The format of every file.
    format: OutputFormat,
    /// How samples are stored.
    sample: SampleFormat,
    /// Whether capture is on, by the free space.
    watch: space::Watch,
    /// Where the free space comes from.
    free_space: FreeSpace,
    /// Bytes written since the last free-space check.
    since_check: u64,
    /// Alerts not yet taken by the station.
    alerts: Vec<Alert>,
    /// The day file being written, if any.
    day: Option<DayFile>,
    /// Frames written since the sink was opened.
    frames: u64,
    /// Reused byte buffer for converting samples.
    bytes: Vec<u8>,
    /// Whether a segment is open (begun, not ended), captured or not.
    segment_open: bool,
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

/// Opens a capture sink under `dir` as `options` say (the daemon's and `playout run`'s
/// captures, in the configured format).
pub fn open_capture(dir: &Path, options: &CaptureOptions) -> Result<Box<dyn Sink>, SinkError> {
    Ok(Box::new(WavSink::with_options(dir, options)?))
}

/// The `wav` entry of the backend table: float at the station's format, bit for bit.
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
    /// A capture sink writing float at `format` under `dir` (created if missing), bit for
    /// bit, with no free-space floor: [`CaptureOptions::exact`].
    pub fn new(dir: &Path, format: OutputFormat) -> Result<WavSink, SinkError> {
        WavSink::with_options(dir, &CaptureOptions::exact(format))
    }

    /// A capture sink writing under `dir` (created if missing) as `options` say.
    pub fn with_options(dir: &Path, options: &CaptureOptions) -> Result<WavSink, SinkError> {
        fs::create_dir_all(dir).map_err(|source| SinkError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(WavSink {
            dir: dir.to_path_buf(),
            format: options.format,
            sample: options.sample,
            watch: space::Watch::new(options.min_free_bytes),
            free_space: Box::new(|p: &Path| space::free_bytes(p).ok()),
            since_check: 0,
            alerts: Vec::new(),
            day: None,
            frames: 0,
            bytes: Vec::new(),
            segment_open: false,
        })
    }

    /// Replaces where the free space comes from (tests).
    pub fn with_free_space(
        mut self,
        f: impl FnMut(&Path) -> Option<u64> + Send + 'static,
    ) -> WavSink {
        self.free_space = Box::new(f);
        self
    }

    /// Checks the free space; stopping ends the open segment with what was written.
    fn check_space(&mut self) -> Result<(), SinkError> {
        self.since_check = 0;
        let free = (self.free_space)(&self.dir);
        match self.watch.check(&self.dir, free) {
            space::Verdict::Same => {}
            space::Verdict::Warn(m) | space::Verdict::Resume(m) => {
                tracing::warn!(dir = %self.dir.display(), "{m}");
                self.alerts.push(m);
            }
            space::Verdict::Stop(m) => {
                tracing::error!(dir = %self.dir.display(), "{m}");
                self.alerts.push(m);
                self.end_on_disk()?;
            }
        }
        Ok(())
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
            file.write_all(&header(self.format, self.sample, 0))
                .and_then(|_| file.sync_all())
                .map_err(io_err(&path))?;
            0
        } else {
            let (frames, _, _) = read_header(&mut file, &path, Some((self.format, self.sample)))?;
            // Audio past the header's size is a segment a crash cut short: drop it.
            let end = HEADER_LEN + frames * frame_bytes(self.format, self.sample);
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
        self.segment_open = true;
        self.check_space()?;
        if !self.watch.capturing() {
            return Ok(());
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
        if !self.segment_open {
            return Err(SinkError::NoSegment(what));
        }
        if self.since_check >= space::CHECK_EVERY_BYTES {
            self.check_space()?;
        }
        let fb = frame_bytes(self.format, self.sample);
        let Some(d) = self.day.as_mut().filter(|d| d.open.is_some()) else {
            // Capture is stopped for lack of space: the audio is played, not kept.
            self.frames += n;
            return Ok(());
        };
        if HEADER_LEN + (d.frames + n) * fb > u64::from(u32::MAX) {
            return Err(SinkError::Capture {
                path: d.path.clone(),
                reason: "the day's capture would pass the 4 GiB a WAV file can hold".to_string(),
            });
        }
        self.bytes.clear();
        self.bytes
            .reserve(samples.len() * self.sample.bytes() as usize);
        match self.sample {
            SampleFormat::F32 => {
                for s in samples {
                    self.bytes.extend_from_slice(&s.to_le_bytes());
                }
            }
            SampleFormat::S16 => {
                for s in samples {
                    self.bytes.extend_from_slice(&to_s16(*s).to_le_bytes());
                }
            }
        }
        d.file
            .write_all(&self.bytes)
            .map_err(|source| SinkError::Io {
                path: d.path.clone(),
                source,
            })?;
        d.frames += n;
        self.frames += n;
        self.since_check += n * fb;
        Ok(())
    }

    fn end(&mut self) -> Result<(), SinkError> {
        self.segment_open = false;
        self.end_on_disk()
    }

    fn frames_written(&self) -> u64 {
        self.frames
    }

    fn take_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.alerts)
    }
}

impl WavSink {
    /// Ends the segment open in the day file, if any: sizes, fsync, the segments line.
    fn end_on_disk(&mut self) -> Result<(), SinkError> {
        // Nothing open: nothing to end (as with the other sinks).
        let Some(d) = self.day.as_mut() else {
            return Ok(());
        };
        let Some((start, first)) = d.open.take() else {
            return Ok(());
        };
        let (fmt, sample) = (self.format, self.sample);
        let wav_err = |source| SinkError::Io {
            path: d.path.clone(),
            source,
        };
        d.file.flush().map_err(wav_err)?;
        let file = d.file.get_mut();
        update_sizes(file, fmt, sample, d.frames).map_err(|source| SinkError::Io {
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
    let (frames, fmt, sample) = read_header(&mut file, &path, None)?;
    let mut bytes = Vec::new();
    file.take(frames * frame_bytes(fmt, sample))
        .read_to_end(&mut bytes)
        .map_err(io_err(&path))?;
    let samples = match sample {
        SampleFormat::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect::<Vec<f32>>(),
        SampleFormat::S16 => bytes
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32767.0)
            .collect::<Vec<f32>>(),
    };
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
