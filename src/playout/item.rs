//! The item player: one bulletin from its stored file to the sink. It opens the file
//! (checked against its SHA-256), decodes, resamples and maps channels to the output
//! format, applies the loudness gain, and hands out blocks, fading out at a cut; the
//! [`Output`] writes them to the station's sink on the sample clock, paced to the wall clock
//! where the sink is not.
//!
//! Owns decoding and sink writes; it decides nothing about what plays or when (the cue
//! queue and slot timing do) and writes no airlog row (the ledger does).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::Clock;
use crate::library::audio_store::AudioStore;
use crate::library::{Bulletin, BulletinId};
use crate::playout::sink::{Sink, SinkError};
use crate::playout::source::ItemSource;
use crate::playout::timing::{fade_out, frames_in, ms_in, SampleClock, BLOCK_MS, CUT_FADE_MS};
use crate::playout::{OutputFormat, PlayError};

/// Items decoded whole and kept for reuse on a simulated render, at most this long.
const CACHE_MAX_MS: u64 = 120_000;

/// Opens items for one station.
pub struct ItemPlayer {
    /// Where bulletins' files are.
    audio: AudioStore,
    /// The output's format.
    format: OutputFormat,
    /// Whether short items are decoded whole and kept (a simulated render, which plays the
    /// same items many times as fast as it can).
    keep_decoded: bool,
    /// Items decoded whole, by bulletin (with the gain they were decoded at).
    cache: HashMap<BulletinId, Arc<Vec<f32>>>,
    /// The station's true-peak ceiling, dBTP: no sample leaves an item above it.
    ceiling_dbtp: f64,
}

/// Where an open item's samples come from.
enum Samples {
    /// Decoded whole (kept for the render).
    Whole(Arc<Vec<f32>>),
    /// Decoded as it plays.
    Stream(Box<ItemSource>),
}

/// An item being played: its samples and how far it has got.
pub struct OpenItem {
    samples: Samples,
    /// Channels per frame.
    channels: usize,
    /// Frames per second.
    rate: u32,
    /// The frame it started at (a late join starts part-way).
    first: u64,
    /// The next frame to play.
    pos: u64,
    /// The item's length, frames.
    total: u64,
    /// Where it stops: its end, or the slot's.
    limit: u64,
    /// The block being handed out.
    buf: Vec<f32>,
}

impl ItemPlayer {
    /// A player for items in `audio`, converting to `format`.
    pub fn new(audio: AudioStore, format: OutputFormat, keep_decoded: bool) -> ItemPlayer {
        ItemPlayer {
            audio,
            format,
            keep_decoded,
            cache: HashMap::new(),
            ceiling_dbtp: 0.0,
        }
    }

    /// Limits every item's samples at `ceiling_dbtp` (full scale unless set).
    pub fn with_ceiling(mut self, ceiling_dbtp: f64) -> ItemPlayer {
        self.ceiling_dbtp = ceiling_dbtp;
        self
    }

    /// Opens `b` at `gain` dB, `join_ms` into it, to play for at most `left_ms`.
    pub fn open(
        &mut self,
        b: &Bulletin,
        gain: f64,
        join_ms: u64,
        left_ms: u64,
    ) -> Result<OpenItem, PlayError> {
        let rate = self.format.sample_rate;
        let channels = usize::from(self.format.channels);
        let pos = frames_in(join_ms, rate);
        let samples = if self.keep_decoded && b.audio.duration_ms <= CACHE_MAX_MS {
            Samples::Whole(self.decoded(b, gain)?)
        } else {
            let mut s = self.source(b, gain)?;
            s.skip(pos)?;
            Samples::Stream(Box::new(s))
        };
        let total = match &samples {
            Samples::Whole(w) => (w.len() / channels) as u64,
            Samples::Stream(s) => s.total_frames(),
        };
        Ok(OpenItem {
            samples,
            channels,
            rate,
            first: pos,
            pos,
            total,
            limit: crate::playout::timing::play_limit(pos, left_ms, rate, total),
            buf: vec![0f32; frames_in(BLOCK_MS, rate) as usize * channels],
        })
    }

    fn source(&self, b: &Bulletin, gain: f64) -> Result<ItemSource, PlayError> {
        ItemSource::open_known_length(
            &self.audio.path_of(&b.audio_path),
            Some(&b.audio.sha256),
            b.audio.frames,
            self.format,
            gain,
        )
        .map(|s| s.with_ceiling(self.ceiling_dbtp))
    }

    /// Samples of a whole item, decoded once per render.
    fn decoded(&mut self, b: &Bulletin, gain: f64) -> Result<Arc<Vec<f32>>, PlayError> {
        if let Some(c) = self.cache.get(&b.id) {
            return Ok(c.clone());
        }
        let mut src = self.source(b, gain)?;
        let total = src.total_frames() as usize * usize::from(self.format.channels);
        let mut all = vec![0f32; total];
        let mut at = 0;
        while at < total {
            let n = src.read(&mut all[at..])?;
            if n == 0 {
                break;
            }
            at += n;
        }
        all.truncate(at);
        let all = Arc::new(all);
        self.cache.insert(b.id, all.clone());
        Ok(all)
    }
}

impl OpenItem {
    /// Whether it stops before its own end (cut at the slot's end).
    pub fn is_cut(&self) -> bool {
        self.pos < self.total
    }

    /// Whether everything it is to play has been handed out.
    pub fn is_done(&self) -> bool {
        self.pos >= self.limit
    }

    /// How much of it has played, ms.
    pub fn played_ms(&self) -> u64 {
        ms_in(self.pos - self.first, self.rate)
    }

    /// The next block (at most [`BLOCK_MS`]), faded out when it ends at a cut; `None` when
    /// the item has no more audio. Call [`OpenItem::advance`] once the block is written.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, PlayError> {
        let ch = self.channels;
        let n_frames = (self.limit - self.pos).min(frames_in(BLOCK_MS, self.rate)) as usize;
        let fade = frames_in(CUT_FADE_MS, self.rate);
        let (pos, limit, total) = (self.pos, self.limit, self.total);
        let cut_in = |n: usize| pos + (n / ch) as u64 >= limit && limit < total;
        match &mut self.samples {
            Samples::Whole(w) => {
                let from = (pos as usize * ch).min(w.len());
                let to = (from + n_frames * ch).min(w.len());
                let n = to - from;
                if n == 0 {
                    return Ok(None);
                }
                if !cut_in(n) {
                    return Ok(Some(&w[from..to]));
                }
                self.buf[..n].copy_from_slice(&w[from..to]);
                fade_out(&mut self.buf[..n], ch, fade.min((n / ch) as u64));
                Ok(Some(&self.buf[..n]))
            }
            Samples::Stream(s) => {
                let n = s.read(&mut self.buf[..n_frames * ch])?;
                if n == 0 {
                    return Ok(None);
                }
                if cut_in(n) {
                    // A cut: fade the last few milliseconds out.
                    fade_out(&mut self.buf[..n], ch, fade.min((n / ch) as u64));
                }
                Ok(Some(&self.buf[..n]))
            }
        }
    }

    /// Counts `frames` as played.
    pub fn advance(&mut self, frames: u64) {
        self.pos += frames;
    }
}

/// A station's sink and the sample clock of the segment it is playing.
pub struct Output {
    /// The sink.
    sink: Box<dyn Sink>,
    /// The clock writes are paced by.
    clock: Arc<dyn Clock>,
    /// The segment being written, while audio flows.
    segment: Option<SampleClock>,
    /// The sink's underrun count when the segment began.
    underruns_before: u64,
}

impl Output {
    /// What the sink wants raised as alerts since the last call (a capture stopped for
    /// lack of disk space).
    pub fn take_alerts(&mut self) -> Vec<crate::playout::alert::Alert> {
        self.sink.take_alerts()
    }

    /// An output writing to `sink`, paced by `clock`.
    pub fn new(sink: Box<dyn Sink>, clock: Arc<dyn Clock>) -> Output {
        Output {
            sink,
            clock,
            segment: None,
            underruns_before: 0,
        }
    }

    /// Whether audio is flowing (a segment has begun).
    pub fn flowing(&self) -> bool {
        self.segment.is_some()
    }

    /// When the next frame airs (the sample clock), while audio flows.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.segment.map(|s| s.now())
    }

    /// The sample clock of the segment, while audio flows.
    pub fn segment_mut(&mut self) -> Option<&mut SampleClock> {
        self.segment.as_mut()
    }

    /// Whether the sink is a sound card (heard as it is written).
    pub fn realtime(&self) -> bool {
        self.sink.realtime()
    }

    /// The sink's own idea of its latency.
    pub fn latency(&self) -> std::time::Duration {
        self.sink.latency()
    }

    /// Begins a segment at `at` unless one is open.
    pub fn begin(
        &mut self,
        station: &str,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), SinkError> {
        if self.segment.is_none() {
            self.sink.begin(station, day, at)?;
            self.segment = Some(SampleClock::starting(at, self.sink.format().sample_rate));
            self.underruns_before = self.sink.underrun_frames();
        }
        Ok(())
    }

    /// How far the wall clock `wall` ran ahead of the audio written, when that is a stall
    /// ([`SampleClock::stalled`]).
    pub fn stalled(&self, wall: DateTime<Utc>) -> Option<u64> {
        self.segment.and_then(|s| s.stalled(wall))
    }

    /// Silence the sound card played inside this segment because audio came late, ms.
    pub fn underrun_ms(&self) -> u64 {
        let frames =
            self.sink.underrun_frames() - self.underruns_before.min(self.sink.underrun_frames());
        ms_in(frames, self.sink.format().sample_rate)
    }

    /// Writes one block on the sample clock: on the wall clock a sink that is not heard
    /// (a capture) is written when the audio is due; a simulated clock moves to the block's
    /// end. Returns the frames written.
    pub async fn write(&mut self, block: &[f32]) -> Result<u64, SinkError> {
        let Some(seg) = self.segment else {
            return Ok(0);
        };
        let simulated = self.clock.simulated();
        if !simulated && !self.sink.realtime() {
            self.clock.sleep_until(seg.now()).await;
        }
        self.sink.write(block)?;
        let frames = (block.len() / usize::from(self.sink.format().channels.max(1))) as u64;
        let seg = self.segment.as_mut().expect("checked above");
        seg.advance(frames);
        if simulated {
            self.clock.sleep_until(seg.now()).await;
        }
        Ok(frames)
    }

    /// Ends the segment, when one is open, and logs the sound card's underruns in it.
    pub fn end(&mut self) -> Result<(), SinkError> {
        if self.segment.take().is_some() {
            let ended = self.sink.end();
            let underrun_ms = self.underrun_ms();
            if underrun_ms > 0 {
                tracing::warn!(
                    underrun_ms,
                    underrun_frames_total = self.sink.underrun_frames(),
                    "the sound card ran dry during the segment (underruns): audio came late"
                );
            }
            ended?;
        }
        Ok(())
    }
}
