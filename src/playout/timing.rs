//! Slot timing and the sample clock (pure): planned instants to the frame, whether and
//! where an item joins when its turn comes late, how much of it fits before the slot's end,
//! the early start by the output's latency, and the fade at a cut.
//!
//! Owns the numbers that decide *when*; it reads no clock (instants are passed in), opens
//! no file and writes nothing. The time of every frame is the segment's origin plus frames
//! written / sample rate, so logged instants are exact on a simulated clock and a capture.

use chrono::{DateTime, Duration, Utc};

use crate::airlog::CueSource;

/// Frames per block written to the sink (100 ms).
pub const BLOCK_MS: u64 = 100;
/// How late a start may be and still play the item from its beginning.
pub const JOIN_TOLERANCE_MS: u64 = 1_000;
/// Shortest cut item worth starting: less would only be a fragment.
pub const MIN_PARTIAL_MS: u64 = 3_000;
/// Fade applied at a cut, so it does not click.
pub const CUT_FADE_MS: u64 = 30;
/// How far the wall clock may run ahead of the audio written before it is a stall (the
/// scheduler's jitter on a busy machine stays well under it).
pub const STALL_TOLERANCE_MS: u64 = 2_000;
/// The most a slot is started early to make up for the sound card's latency.
pub const MAX_PREROLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Frames in `ms` milliseconds at `rate` (rounded down).
pub fn frames_in(ms: u64, rate: u32) -> u64 {
    ms * u64::from(rate) / 1000
}

/// Milliseconds in `frames` at `rate` (rounded down).
pub fn ms_in(frames: u64, rate: u32) -> u64 {
    if rate == 0 {
        return 0;
    }
    frames * 1000 / u64::from(rate)
}

/// The instant `frames` after `origin` at `rate`, to the microsecond.
pub fn at_frame(origin: DateTime<Utc>, frames: u64, rate: u32) -> DateTime<Utc> {
    let us = i128::from(frames) * 1_000_000 / i128::from(rate.max(1));
    origin + Duration::microseconds(i64::try_from(us).unwrap_or(i64::MAX))
}

/// The sample clock of one segment of continuous audio: when the next frame written airs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleClock {
    /// When the segment's first frame aired.
    origin: DateTime<Utc>,
    /// Frames written since.
    frames: u64,
    /// Frames per second.
    rate: u32,
}

impl SampleClock {
    /// A segment beginning at `origin`.
    pub fn starting(origin: DateTime<Utc>, rate: u32) -> SampleClock {
        SampleClock {
            origin,
            frames: 0,
            rate,
        }
    }

    /// When the next frame written airs.
    pub fn now(&self) -> DateTime<Utc> {
        at_frame(self.origin, self.frames, self.rate)
    }

    /// Counts `frames` more as written.
    pub fn advance(&mut self, frames: u64) {
        self.frames += frames;
    }

    /// Moves the clock to `at` as the time of the next frame (after a stall: the audio
    /// resumes where the wall clock is, and the frames that were not written are not
    /// counted).
    pub fn rejoin(&mut self, at: DateTime<Utc>) {
        *self = SampleClock::starting(at, self.rate);
    }

    /// How far the wall clock `wall` is ahead of the sample clock, when it is.
    pub fn behind(&self, wall: DateTime<Utc>) -> Option<u64> {
        let ms = (wall - self.now()).num_milliseconds();
        u64::try_from(ms).ok().filter(|ms| *ms > 0)
    }

    /// A stall: the wall clock ran ahead of the audio written by more than
    /// [`STALL_TOLERANCE_MS`] (a frozen daemon, an overloaded machine, a blocked sink);
    /// how far, ms.
    pub fn stalled(&self, wall: DateTime<Utc>) -> Option<u64> {
        self.behind(wall).filter(|ms| *ms > STALL_TOLERANCE_MS)
    }
}

/// The planned instants of a slot's items on the sample clock: each starts where the one
/// before ends, to the frame (the schedule's offsets are the same rounded to milliseconds).
pub fn planned_starts(
    start: DateTime<Utc>,
    rate: u32,
    lengths_in_frames: impl IntoIterator<Item = u64>,
) -> Vec<DateTime<Utc>> {
    let mut before = 0u64;
    lengths_in_frames
        .into_iter()
        .map(|n| {
            let t = at_frame(start, before, rate);
            before += n;
            t
        })
        .collect()
}

/// What to do with a cue whose turn has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// A scheduled item whose whole time passed before loa played anything: logged missed.
    Missed,
    /// Too little of the slot is left to start it.
    NoTimeLeft,
    /// Play it, from `join_ms` into the item, for at most `left_ms`.
    Play {
        /// Where in the item to start (a late join); 0 from the beginning.
        join_ms: u64,
        /// What is left of the slot.
        left_ms: u64,
    },
}

/// The moment a cue's turn comes.
#[derive(Debug, Clone, Copy)]
pub struct TurnAt {
    /// Why it was cued.
    pub source: CueSource,
    /// When it should start.
    pub planned_start: DateTime<Utc>,
    /// Its length.
    pub duration_ms: u64,
    /// Now (the sample clock, or the wall clock before the first audio).
    pub now: DateTime<Utc>,
    /// Whether audio is already flowing in this slot (then nothing joins late).
    pub flowing: bool,
    /// The slot's end.
    pub slot_end: DateTime<Utc>,
}

/// Whether and how a cue plays when its turn comes. Only a scheduled item met before any
/// audio flows (a restart, a stepped clock) joins late; a start a little late (the wall
/// clock woke a few ms after the slot) plays the item whole. An item that does not fit
/// before the slot's end is cut there, or not started when less than
/// [`MIN_PARTIAL_MS`] of it would play.
pub fn turn(t: TurnAt) -> Turn {
    let scheduled_first = t.source == CueSource::Schedule && !t.flowing;
    let planned_end = t.planned_start + Duration::milliseconds(t.duration_ms as i64);
    if scheduled_first && t.now >= planned_end {
        return Turn::Missed;
    }
    let late_ms = (t.now - t.planned_start).num_milliseconds().max(0) as u64;
    let join_ms = if scheduled_first && late_ms > JOIN_TOLERANCE_MS {
        late_ms
    } else {
        0
    };
    let left_ms = (t.slot_end - t.now).num_milliseconds().max(0) as u64;
    let wants_ms = t.duration_ms.saturating_sub(join_ms);
    if left_ms < wants_ms && left_ms < MIN_PARTIAL_MS.min(wants_ms) {
        return Turn::NoTimeLeft;
    }
    Turn::Play { join_ms, left_ms }
}

/// The frame an item stops at: `left_ms` after `from`, or its end.
pub fn play_limit(from: u64, left_ms: u64, rate: u32, total: u64) -> u64 {
    (from + frames_in(left_ms, rate)).min(total)
}

/// How early a slot starts so that its first sample is heard on time: the output's
/// latency (configured, or what the sink reports) on a sound card paced by the wall clock,
/// at most [`MAX_PREROLL`]; nothing on a simulated clock or a capture.
pub fn preroll(
    simulated: bool,
    realtime: bool,
    configured: Option<std::time::Duration>,
    reported: std::time::Duration,
) -> Duration {
    if simulated || !realtime {
        return Duration::zero();
    }
    Duration::from_std(configured.unwrap_or(reported).min(MAX_PREROLL))
        .unwrap_or_else(|_| Duration::zero())
}

/// Fades the last `fade_frames` of `block` out (interleaved, `channels` per frame).
pub fn fade_out(block: &mut [f32], channels: usize, fade_frames: u64) {
    let n = block.len() / channels.max(1);
    let fade = usize::try_from(fade_frames)
        .unwrap_or(usize::MAX)
        .min(n)
        .max(1);
    for f in 0..fade.min(n) {
        let g = f as f32 / fade as f32;
        for c in 0..channels {
            block[(n - 1 - f) * channels + c] *= g;
        }
    }
}

#[cfg(test)]
#[path = "timing_tests.rs"]
mod tests;
