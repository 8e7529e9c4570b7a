//! The sound-card sink, through rodio (and cpal under it). The only file that uses rodio.
//!
//! rodio pulls samples from a [`Source`] on the audio thread; the sink pushes them from the
//! playout thread. Between the two sits a bounded queue of about half a second:
//! [`Sink::write`] blocks while it is full, which paces the playout to the sound card, and
//! [`Sink::end`] waits until the queue has drained and the device has asked for one more
//! buffer of silence after the last sample, i.e. until the segment has been played out.
//! When the queue runs dry the source plays silence (an underrun, counted) rather than
//! ending, so the stream stays open between segments.
//!
//! The stream lives on a thread of its own, since cpal streams are not `Send` everywhere;
//! the sink talks to it only through the queue.

use std::collections::VecDeque;
use std::num::NonZero;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rodio::cpal::traits::HostTrait;
use rodio::cpal::BufferSize;
use rodio::{DeviceSinkBuilder, DeviceTrait, MixerDeviceSink, Source};

use super::{check_frames, Sink, SinkError, SinkSpec};
use crate::playout::OutputFormat;

/// How much audio the queue holds before `write` blocks, in milliseconds.
const QUEUE_MS: u64 = 500;
/// Samples the audio thread takes from the queue per lock.
const FEED_BATCH_FRAMES: usize = 128;
/// How long the device may take no audio at all before it counts as stalled.
const STALL: Duration = Duration::from_secs(5);
/// The device buffer assumed when the device does not say (rodio asks for 50 ms).
const DEFAULT_DEVICE_BUFFER_MS: u64 = 50;

/// The queue between the playout thread and the audio thread.
#[derive(Default)]
struct Queue {
    /// Samples waiting to be played.
    samples: VecDeque<f32>,
    /// Samples pushed since the sink opened.
    pushed: u64,
    /// Samples taken by the audio thread since the sink opened.
    pulled: u64,
    /// Samples of silence the audio thread played because the queue was empty.
    silence: u64,
    /// Whether a segment is open (silence inside one is an underrun).
    in_segment: bool,
    /// Samples of silence played inside segments: underruns.
    underrun: u64,
    /// Set when the sink closes: the source ends.
    stopped: bool,
}

/// The queue and the signal that it changed.
#[derive(Default)]
struct Shared {
    /// The queue.
    queue: Mutex<Queue>,
    /// Notified whenever the audio thread takes samples.
    changed: Condvar,
}

impl Shared {
    /// The queue, even if a thread panicked holding it (the data stays consistent: every
    /// update is a single push or pop plus counters).
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The rodio source the audio thread pulls from.
struct Feed {
    /// The queue.
    shared: Arc<Shared>,
    /// A batch taken from the queue, so the lock is taken once per batch, not per sample.
    batch: Vec<f32>,
    /// Next sample of `batch`.
    pos: usize,
    /// Channels of the output format.
    channels: NonZero<u16>,
    /// Rate of the output format.
    rate: NonZero<u32>,
}

impl Iterator for Feed {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.pos == self.batch.len() {
            let batch = FEED_BATCH_FRAMES * usize::from(self.channels.get());
            let mut q = self.shared.lock();
            if q.stopped {
                return None;
            }
            self.batch.clear();
            self.pos = 0;
            let n = q.samples.len().min(batch);
            if n > 0 {
                self.batch.extend(q.samples.drain(..n));
                q.pulled += n as u64;
            } else {
                self.batch.resize(batch, 0.0);
                q.silence += batch as u64;
                if q.in_segment {
                    q.underrun += batch as u64;
                }
            }
            drop(q);
            self.shared.changed.notify_all();
        }
        let s = self.batch[self.pos];
        self.pos += 1;
        Some(s)
    }
}

impl Source for Feed {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> rodio::ChannelCount {
        self.channels
    }

    fn sample_rate(&self) -> rodio::SampleRate {
        self.rate
    }

    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

/// Plays to a sound card.
pub struct DeviceSink {
    /// The queue shared with the audio thread.
    shared: Arc<Shared>,
    /// The format written.
    format: OutputFormat,
    /// The device's name, for messages.
    device: String,
    /// Samples the queue holds before `write` blocks.
    capacity: usize,
    /// Samples of silence the device takes after the last sample before `end` returns:
    /// one device buffer, so the last sample has left the card.
    tail: u64,
    /// Frames written since the sink opened.
    frames: u64,
    /// Whether a segment is open.
    in_segment: bool,
    /// How long the device may take nothing before `write`/`end` give up ([`STALL`]).
    stall: Duration,
    /// Tells the stream thread to close the stream.
    stop: Option<mpsc::Sender<()>>,
    /// The stream thread.
    thread: Option<JoinHandle<()>>,
}

/// The `device` entry of the backend table.
pub fn open(spec: &SinkSpec, fmt: OutputFormat) -> Result<Box<dyn Sink>, SinkError> {
    match spec {
        SinkSpec::Device(name) => Ok(Box::new(DeviceSink::open(name.as_deref(), fmt)?)),
        other => Err(SinkError::BadSpec {
            text: other.to_string(),
            reason: "not a device sink".to_string(),
        }),
    }
}

impl DeviceSink {
    /// Opens the default output device, or the one named `name` (matched against cpal's
    /// device names and ids), at `fmt` where the device allows it (rodio converts
    /// otherwise). [`SinkError::NoDevice`] when there is none to open.
    pub fn open(name: Option<&str>, fmt: OutputFormat) -> Result<DeviceSink, SinkError> {
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let feed = Feed {
            shared: Arc::clone(&shared),
            batch: Vec::new(),
            pos: 0,
            channels: NonZero::new(fmt.channels).unwrap_or(NonZero::<u16>::MIN),
            rate: NonZero::new(fmt.sample_rate).unwrap_or(NonZero::<u32>::MIN),
        };
        let name = name.map(str::to_string);
        let thread = thread::Builder::new()
            .name("loa-audio-device".to_string())
            .spawn(move || match open_stream(name.as_deref(), fmt) {
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
                Ok((mut stream, label, buffer_frames)) => {
                    stream.log_on_drop(false);
                    stream.mixer().add(feed);
                    let _ = ready_tx.send(Ok((label, buffer_frames)));
                    let _ = stop_rx.recv();
                    drop(stream);
                }
            })
            .map_err(|e| SinkError::NoDevice(format!("cannot start the audio thread: {e}")))?;
        let (device, buffer_frames) = ready_rx.recv().map_err(|_| {
            SinkError::NoDevice("the audio thread died while opening".to_string())
        })??;
        let ch = u64::from(fmt.channels);
        tracing::info!(device = %device, format = %fmt, "audio device opened");
        Ok(DeviceSink {
            shared,
            format: fmt,
            device,
            capacity: (u64::from(fmt.sample_rate) * QUEUE_MS / 1000 * ch) as usize,
            tail: buffer_frames * ch,
            frames: 0,
            in_segment: false,
            stall: STALL,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The device's name.
    pub fn device_name(&self) -> &str {
        &self.device
    }

    /// Samples of silence played because the queue ran dry, since the sink opened.
    pub fn underrun_samples(&self) -> u64 {
        self.shared.lock().silence
    }

    /// Waits until `done` holds, failing if the device takes nothing for `stall`.
    fn wait_until(&self, mut done: impl FnMut(&Queue) -> bool) -> Result<(), SinkError> {
        let mut q = self.shared.lock();
        let mut seen = (q.pulled, q.silence);
        let mut idle = Duration::ZERO;
        let step = Duration::from_millis(100);
        while !done(&q) {
            let (next, timeout) = self
                .shared
                .changed
                .wait_timeout(q, step)
                .unwrap_or_else(|p| p.into_inner());
            q = next;
            if (q.pulled, q.silence) != seen {
                seen = (q.pulled, q.silence);
                idle = Duration::ZERO;
            } else if timeout.timed_out() {
                idle += step;
                if idle >= self.stall {
                    return Err(SinkError::Device {
                        device: self.device.clone(),
                        reason: format!("took no audio for {:.1} s", self.stall.as_secs_f64()),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Opens the stream on the calling thread: the stream, the device's name and its buffer in
/// frames.
fn open_stream(
    name: Option<&str>,
    fmt: OutputFormat,
) -> Result<(MixerDeviceSink, String, u64), SinkError> {
    let host = rodio::cpal::default_host();
    let device = match name {
        None => host.default_output_device().ok_or_else(|| {
            SinkError::NoDevice("the system has no default output device".to_string())
        })?,
        Some(wanted) => {
            let devices = host
                .output_devices()
                .map_err(|e| SinkError::NoDevice(format!("cannot list output devices: {e}")))?;
            let mut seen = Vec::new();
            let mut found = None;
            for d in devices {
                let names = device_names(&d);
                if names.iter().any(|n| n == wanted) {
                    found = Some(d);
                    break;
                }
                seen.extend(names.into_iter().take(1));
            }
            found.ok_or_else(|| {
                SinkError::NoDevice(format!(
                    "no output device named `{wanted}` (there are: {})",
                    if seen.is_empty() {
                        "none".to_string()
                    } else {
                        seen.join(", ")
                    }
                ))
            })?
        }
    };
    let label = device_names(&device)
        .into_iter()
        .next()
        .unwrap_or_else(|| "default".to_string());
    let no_device = |e: rodio::DeviceSinkError| SinkError::NoDevice(format!("{label}: {e}"));
    let on_error = |e: rodio::cpal::Error| tracing::warn!(error = %e, "audio device error");
    let channels = NonZero::new(fmt.channels).unwrap_or(NonZero::<u16>::MIN);
    let rate = NonZero::new(fmt.sample_rate).unwrap_or(NonZero::<u32>::MIN);
    let stream = DeviceSinkBuilder::from_device(device.clone())
        .map_err(no_device)?
        .with_channels(channels)
        .with_sample_rate(rate)
        .with_error_callback(on_error)
        .open_stream()
        .or_else(|_| {
            DeviceSinkBuilder::from_device(device)?
                .with_error_callback(on_error)
                .open_stream()
        })
        .map_err(no_device)?;
    let buffer_frames = match stream.config().buffer_size() {
        BufferSize::Fixed(n) => u64::from(*n),
        _ => u64::from(fmt.sample_rate) * DEFAULT_DEVICE_BUFFER_MS / 1000,
    };
    Ok((stream, label, buffer_frames))
}

/// The names a device answers to: its description's name, then its id with and without the
/// host prefix (e.g. `alsa:hw:1,0` and `hw:1,0`).
fn device_names(d: &rodio::Device) -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(desc) = d.description() {
        names.push(desc.name().to_string());
    }
    if let Ok(id) = d.id() {
        let full = id.to_string();
        if let Some((_, bare)) = full.split_once(':') {
            names.push(bare.to_string());
        }
        names.push(full);
    }
    names
}

impl Sink for DeviceSink {
    fn format(&self) -> OutputFormat {
        self.format
    }

    fn realtime(&self) -> bool {
        true
    }

    fn latency(&self) -> Duration {
        Duration::from_micros(
            self.tail / u64::from(self.format.channels).max(1) * 1_000_000
                / u64::from(self.format.sample_rate).max(1),
        )
    }

    fn begin(
        &mut self,
        station: &str,
        _day: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), SinkError> {
        if self.in_segment {
            self.end()?;
        }
        tracing::debug!(station, %at, device = %self.device, "segment begins");
        self.in_segment = true;
        self.shared.lock().in_segment = true;
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), SinkError> {
        let n = check_frames(&format!("device {}", self.device), self.format, samples)?;
        if !self.in_segment {
            return Err(SinkError::NoSegment(format!("device {}", self.device)));
        }
        // Push in pieces of at most half the queue, each once there is room for it.
        let ch = usize::from(self.format.channels);
        let piece = (self.capacity / 2 / ch).max(1) * ch;
        for part in samples.chunks(piece) {
            let capacity = self.capacity;
            self.wait_until(|q| q.samples.len() + part.len() <= capacity)?;
            let mut q = self.shared.lock();
            q.samples.extend(part.iter().copied());
            q.pushed += part.len() as u64;
        }
        self.frames += n;
        Ok(())
    }

    fn end(&mut self) -> Result<(), SinkError> {
        if !self.in_segment {
            return Ok(());
        }
        self.in_segment = false;
        let pushed = {
            let mut q = self.shared.lock();
            q.in_segment = false;
            q.pushed
        };
        self.wait_until(|q| q.pulled >= pushed)?;
        let silence_then = self.shared.lock().silence;
        let tail = self.tail;
        self.wait_until(|q| q.silence >= silence_then + tail)
    }

    fn frames_written(&self) -> u64 {
        self.frames
    }

    fn underrun_frames(&self) -> u64 {
        self.shared.lock().underrun / u64::from(self.format.channels).max(1)
    }
}

impl Drop for DeviceSink {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
impl DeviceSink {
    /// A sink with no sound card: the test plays the part of the audio thread with the
    /// returned source.
    fn detached(format: OutputFormat, tail_frames: u64, stall: Duration) -> (DeviceSink, Feed) {
        let shared = Arc::new(Shared::default());
        let ch = u64::from(format.channels);
        let feed = Feed {
            shared: Arc::clone(&shared),
            batch: Vec::new(),
            pos: 0,
            channels: NonZero::new(format.channels).unwrap(),
            rate: NonZero::new(format.sample_rate).unwrap(),
        };
        let sink = DeviceSink {
            shared,
            format,
            device: "test".to_string(),
            capacity: (u64::from(format.sample_rate) * QUEUE_MS / 1000 * ch) as usize,
            tail: tail_frames * ch,
            frames: 0,
            in_segment: false,
            stall,
            stop: None,
            thread: None,
        };
        (sink, feed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn write_blocks_at_half_a_second_queued_and_end_waits_until_a_real_time_consumer_took_all() {
        let fmt = OutputFormat::default();
        let (mut sink, mut feed) = DeviceSink::detached(fmt, 480, STALL);
        // The "sound card": 10 ms of audio every 10 ms, keeping what is not silence.
        let card = thread::spawn(move || {
            let mut heard = Vec::new();
            'play: loop {
                for _ in 0..960 {
                    match feed.next() {
                        Some(s) if s != 0.0 => heard.push(s),
                        Some(_) => {}
                        None => break 'play,
                    }
                }
                thread::sleep(Duration::from_millis(10));
            }
            heard
        });
        let samples: Vec<f32> = (1..=96_000).map(|i| i as f32 / 96_000.0).collect();
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let t = Instant::now();
        sink.begin("xa-a", day, Utc::now()).unwrap();
        sink.write(&samples).unwrap();
        let written = t.elapsed();
        sink.end().unwrap();
        let ended = t.elapsed();
        assert_eq!(sink.frames_written(), 48_000);
        // 1 s of audio through a 0.5 s queue: write waits for half of it to play.
        assert!(
            written >= Duration::from_millis(400),
            "write took {written:?}"
        );
        assert!(ended >= Duration::from_millis(1000), "end after {ended:?}");
        drop(sink);
        assert_eq!(
            card.join().unwrap(),
            samples,
            "every sample, in order, once"
        );
    }

    #[test]
    fn its_latency_is_the_device_buffer() {
        let (sink, _feed) = DeviceSink::detached(OutputFormat::default(), 2_400, STALL);
        assert_eq!(sink.latency(), Duration::from_millis(50));
    }

    #[test]
    fn a_device_that_takes_nothing_is_reported_stalled_not_waited_on_forever() {
        let (mut sink, _feed) =
            DeviceSink::detached(OutputFormat::default(), 0, Duration::from_millis(300));
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        sink.begin("xa-a", day, Utc::now()).unwrap();
        sink.write(&[0.1; 9_600]).unwrap();
        let err = sink.end().unwrap_err().to_string();
        assert!(err.contains("took no audio"), "{err}");
    }
}
