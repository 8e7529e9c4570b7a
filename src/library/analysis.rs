//! Measurements over decoded audio: EBU R128 loudness (integrated, range, true peak) and the
//! silence at the head and tail. Each is an accumulator fed interleaved `f32` frames block by
//! block, so an hour of audio is measured in constant memory.
//!
//! Pure: no I/O and no decoder here, so the rules are tested with synthetic signals.

use ebur128::{EbuR128, Mode};

/// The loudness meter could not be set up for this stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot measure loudness of {channels} channel(s) at {sample_rate} Hz")]
pub struct UnsupportedStream {
    /// Channels of the stream.
    pub channels: u16,
    /// Sample rate of the stream.
    pub sample_rate: u32,
}

/// What the loudness meter found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessReport {
    /// Integrated loudness, LUFS; `None` when nothing rose above the absolute gate (silence,
    /// or shorter than one 400 ms block).
    pub integrated_lufs: Option<f64>,
    /// Loudness range, LU; `None` when there is no integrated loudness either.
    pub range_lu: Option<f64>,
    /// Highest true peak over all channels, dBTP; `None` for digital silence.
    pub true_peak_dbtp: Option<f64>,
}

/// EBU R128 integrated loudness, loudness range and true peak.
pub struct Loudness {
    /// The `ebur128` state (it keeps one energy per 100 ms block: about 300 kB an hour).
    meter: EbuR128,
    /// Channels per frame, to report the peak over all of them.
    channels: u16,
}

impl Loudness {
    /// A meter for a stream of `channels` channels at `sample_rate` Hz.
    pub fn new(channels: u16, sample_rate: u32) -> Result<Loudness, UnsupportedStream> {
        let unsupported = UnsupportedStream {
            channels,
            sample_rate,
        };
        let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK;
        let meter =
            EbuR128::new(u32::from(channels), sample_rate, mode).map_err(|_| unsupported)?;
        Ok(Loudness { meter, channels })
    }

    /// Feeds interleaved frames; a trailing partial frame is ignored.
    pub fn add(&mut self, interleaved: &[f32]) {
        let whole = interleaved.len() - interleaved.len() % usize::from(self.channels.max(1));
        // Errors only on a partial frame, excluded above.
        let _ = self.meter.add_frames_f32(&interleaved[..whole]);
    }

    /// The measurements so far.
    pub fn report(&self) -> LoudnessReport {
        let finite = |v: Result<f64, _>| v.ok().filter(|v: &f64| v.is_finite());
        let integrated_lufs = finite(self.meter.loudness_global());
        let range_lu = integrated_lufs.and_then(|_| finite(self.meter.loudness_range()));
        let peak = (0..u32::from(self.channels))
            .filter_map(|ch| self.meter.true_peak(ch).ok())
            .fold(0.0f64, f64::max);
        let true_peak_dbtp = (peak > 0.0 && peak.is_finite()).then(|| 20.0 * peak.log10());
        LoudnessReport {
            integrated_lufs,
            range_lu,
            true_peak_dbtp,
        }
    }
}

/// Where the sound starts and ends, to the sample frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SilenceReport {
    /// Frames seen in all.
    pub frames: u64,
    /// Frames before the first one with any channel at or above the threshold (all of them
    /// when the item is silent throughout).
    pub leading_frames: u64,
    /// Frames after the last one with any channel at or above the threshold (all of them
    /// when the item is silent throughout).
    pub trailing_frames: u64,
}

/// Counts the silent frames at the head and tail of a stream.
#[derive(Debug, Clone)]
pub struct Silence {
    /// Linear amplitude below which a sample is silent.
    threshold: f32,
    /// Channels per frame.
    channels: usize,
    /// Frames seen so far.
    frames: u64,
    /// Index of the first frame with sound.
    first_loud: Option<u64>,
    /// Index of the last frame with sound.
    last_loud: Option<u64>,
}

impl Silence {
    /// A counter for `channels`-channel audio where samples below `threshold_dbfs` are silent.
    pub fn new(channels: u16, threshold_dbfs: f64) -> Silence {
        Silence {
            threshold: 10f64.powf(threshold_dbfs / 20.0) as f32,
            channels: usize::from(channels.max(1)),
            frames: 0,
            first_loud: None,
            last_loud: None,
        }
    }

    /// Feeds interleaved frames; a trailing partial frame is ignored.
    pub fn add(&mut self, interleaved: &[f32]) {
        let t = self.threshold;
        // NaN counts as sound: it is not a level below the threshold.
        let loud = |f: &[f32]| f.iter().any(|s| s.abs() >= t || s.is_nan());
        let mut frames = interleaved.chunks_exact(self.channels);
        let n = frames.len() as u64;
        if self.first_loud.is_none() {
            if let Some(i) = frames.position(loud) {
                self.first_loud = Some(self.frames + i as u64);
            }
        }
        if self.first_loud.is_some() {
            if let Some(i) = interleaved.chunks_exact(self.channels).rposition(loud) {
                self.last_loud = Some(self.frames + i as u64);
            }
        }
        self.frames += n;
    }

    /// The counts so far.
    pub fn report(&self) -> SilenceReport {
        match (self.first_loud, self.last_loud) {
            (Some(first), Some(last)) => SilenceReport {
                frames: self.frames,
                leading_frames: first,
                trailing_frames: self.frames - last - 1,
            },
            _ => SilenceReport {
                frames: self.frames,
                leading_frames: self.frames,
                trailing_frames: self.frames,
            },
        }
    }
}

/// `frames` at `sample_rate` in whole milliseconds (rounded down); 0 for a zero rate.
pub fn frames_to_ms(frames: u64, sample_rate: u32) -> u64 {
    if sample_rate == 0 {
        return 0;
    }
    let ms = u128::from(frames) * 1000 / u128::from(sample_rate);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `secs` of a sine at `freq` Hz and peak `amplitude`, `channels` identical channels.
    fn sine(freq: f64, amplitude: f64, rate: u32, secs: f64, channels: usize) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .flat_map(|i| {
                let s = amplitude
                    * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin();
                std::iter::repeat_n(s as f32, channels)
            })
            .collect()
    }

    fn measure(samples: &[f32], channels: u16, rate: u32) -> LoudnessReport {
        let mut l = Loudness::new(channels, rate).unwrap();
        for block in samples.chunks(4096 * usize::from(channels)) {
            l.add(block);
        }
        l.report()
    }

    #[test]
    fn a_1khz_sine_at_minus_20_dbfs_mono_measures_minus_23_lufs() {
        // A full-scale 1 kHz sine reads -3.01 LUFS in one channel (the K-weighting gain at
        // 1 kHz is what the -0.691 dB constant cancels), so a peak of 0.1 reads -23.01.
        let r = measure(&sine(1000.0, 0.1, 48_000, 5.0, 1), 1, 48_000);
        let lufs = r.integrated_lufs.unwrap();
        assert!((lufs - -23.01).abs() < 0.05, "{lufs}");
        assert!(r.range_lu.unwrap().abs() < 0.1);
        let tp = r.true_peak_dbtp.unwrap();
        assert!((tp - -20.0).abs() < 0.1, "{tp}");
    }

    #[test]
    fn the_same_sine_in_two_channels_is_3_lu_louder() {
        let r = measure(&sine(1000.0, 0.1, 44_100, 5.0, 2), 2, 44_100);
        let lufs = r.integrated_lufs.unwrap();
        assert!((lufs - -20.0).abs() < 0.05, "{lufs}");
    }

    #[test]
    fn true_peak_sees_the_peak_between_samples() {
        // A sine at a quarter of the rate, sampled 45° off its crest: every sample is
        // 0.5·√½ ≈ -9.03 dBFS, the real peak is 0.5 (-6.02 dBTP).
        let rate = 48_000u32;
        let samples: Vec<f32> = (0..rate as usize)
            .map(|i| {
                (0.5 * (std::f64::consts::FRAC_PI_2 * i as f64 + std::f64::consts::FRAC_PI_4).sin())
                    as f32
            })
            .collect();
        let tp = measure(&samples, 1, rate).true_peak_dbtp.unwrap();
        assert!((tp - -6.02).abs() < 0.3, "{tp}");
    }

    #[test]
    fn digital_silence_has_no_loudness_and_no_peak() {
        let r = measure(&vec![0.0; 48_000 * 2 * 3], 2, 48_000);
        assert_eq!(r.integrated_lufs, None);
        assert_eq!(r.range_lu, None);
        assert_eq!(r.true_peak_dbtp, None);
    }

    #[test]
    fn a_meter_cannot_be_built_for_zero_channels_or_a_zero_rate() {
        assert!(Loudness::new(0, 48_000).is_err());
        assert!(Loudness::new(2, 0).is_err());
    }

    #[test]
    fn silence_at_head_and_tail_is_counted_to_the_sample() {
        let rate = 8_000;
        let mut s = vec![0.0f32; 2 * 1234];
        s.extend(sine(440.0, 0.5, rate, 1.0, 2));
        // A sample at -60 dBFS is below the -50 dBFS threshold.
        s.extend(std::iter::repeat_n(0.001f32, 2 * 777));
        // The sine starts at phase 0: its first sample is 0 and counts as silence.
        let mut silence = Silence::new(2, -50.0);
        for block in s.chunks(2 * 100 + 2) {
            silence.add(block);
        }
        let r = silence.report();
        assert_eq!(r.frames, 1234 + 8000 + 777);
        assert_eq!(r.leading_frames, 1235);
        let tail = sine(440.0, 0.5, rate, 1.0, 1)
            .iter()
            .rev()
            .take_while(|x| x.abs() < 10f32.powf(-2.5))
            .count() as u64;
        assert_eq!(r.trailing_frames, 777 + tail);
    }

    #[test]
    fn sound_in_one_channel_only_is_not_silence() {
        let mut silence = Silence::new(2, -50.0);
        silence.add(&[0.0, 0.0, 0.0, 0.5, 0.0, 0.0]);
        let r = silence.report();
        assert_eq!((r.leading_frames, r.trailing_frames), (1, 1));
    }

    #[test]
    fn an_all_silent_item_is_silence_from_end_to_end() {
        let mut silence = Silence::new(1, -50.0);
        silence.add(&[0.0; 10]);
        silence.add(&[0.001; 5]);
        let r = silence.report();
        assert_eq!(
            (r.frames, r.leading_frames, r.trailing_frames),
            (15, 15, 15)
        );
    }

    #[test]
    fn frames_convert_to_whole_milliseconds() {
        assert_eq!(frames_to_ms(44_100, 44_100), 1000);
        assert_eq!(frames_to_ms(44_099, 44_100), 999);
        assert_eq!(frames_to_ms(u64::MAX, 1), u64::MAX);
        assert_eq!(frames_to_ms(10, 0), 0);
    }
}
