//! The loudness rule, pure: how many dB to turn an item up or down so it plays at the
//! station's target loudness, without letting its true peak pass the ceiling; and the
//! [`Stage`] that applies it to samples and cannot let a NaN, an infinity or a sample past
//! the ceiling through.
//!
//! Outdoor horn loudspeakers carry speech over street noise, so the target is louder than
//! broadcast's -23 LUFS: -16 LUFS by default, with peaks kept 1 dB below full scale so the
//! amplifier and any lossy link after it do not clip.

/// Default target loudness for speech on outdoor loudspeakers, LUFS.
pub const DEFAULT_TARGET_LUFS: f64 = -16.0;

/// Default true-peak ceiling, dBTP.
pub const DEFAULT_CEILING_DBTP: f64 = -1.0;

/// Below this integrated loudness an item is treated as silence and left alone: raising it
/// to the target would only amplify noise (EBU R128's absolute gate is -70 LUFS).
const SILENCE_LUFS: f64 = -70.0;

/// The gain in dB for an item of `loudness_lufs` and `true_peak_dbtp`: the one that brings
/// it to `target_lufs`, lowered where needed so the peak lands at or below `ceiling_dbtp`.
///
/// Unknown or silent loudness → 0 dB (nothing to normalise). An unknown true peak imposes
/// no ceiling. Non-finite inputs count as unknown, so the result is always finite.
pub fn gain_db(
    loudness_lufs: Option<f64>,
    true_peak_dbtp: Option<f64>,
    target_lufs: f64,
    ceiling_dbtp: f64,
) -> f64 {
    let Some(loudness) = loudness_lufs.filter(|l| l.is_finite() && *l > SILENCE_LUFS) else {
        return 0.0;
    };
    if !target_lufs.is_finite() {
        return 0.0;
    }
    let wanted = target_lufs - loudness;
    match true_peak_dbtp.filter(|p| p.is_finite()) {
        Some(peak) if ceiling_dbtp.is_finite() => wanted.min(ceiling_dbtp - peak),
        _ => wanted,
    }
}

/// A gain in dB as a linear factor for samples.
pub fn db_to_linear(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

/// The last stage before a sink: the item's gain, then a hard limit at the ceiling.
///
/// Whatever the file holds or the library recorded, no sample leaves it as NaN or infinity
/// (those become silence) or beyond ±ceiling. For an item measured right, the gain already
/// keeps the peaks under the ceiling and the limit changes nothing; it is the guarantee for
/// the rest (a true peak the meter underestimated, a non-finite sample in a file added
/// before ingest refused them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Linear gain, finite.
    gain: f32,
    /// Largest magnitude a sample may have, linear, in (0, 1].
    ceiling: f32,
}

impl Stage {
    /// A stage of `gain_db` limited at `ceiling_dbtp` (at most full scale, 0 dBFS). A
    /// non-finite gain counts as 0 dB and a non-finite ceiling as full scale.
    pub fn new(gain_db: f64, ceiling_dbtp: f64) -> Stage {
        let gain = if gain_db.is_finite() {
            db_to_linear(gain_db.min(FULL_SCALE_GAIN_DB))
        } else {
            1.0
        };
        let ceiling = if ceiling_dbtp.is_finite() {
            db_to_linear(ceiling_dbtp.min(0.0)).max(f32::MIN_POSITIVE)
        } else {
            1.0
        };
        Stage { gain, ceiling }
    }

    /// Applies the gain and the limit to samples in place.
    pub fn apply(&self, samples: &mut [f32]) {
        let (g, c) = (self.gain, self.ceiling);
        for s in samples {
            let v = *s * g;
            // `clamp` keeps NaN, so non-finite values are replaced first.
            *s = if v.is_finite() { v.clamp(-c, c) } else { 0.0 };
        }
    }
}

/// The largest gain a stage applies (+60 dB): more only ever amplifies noise, and keeps the
/// product of a sample and the gain finite.
const FULL_SCALE_GAIN_DB: f64 = 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_quiet_item_is_raised_to_the_target() {
        assert!(approx(gain_db(Some(-26.0), Some(-12.0), -16.0, -1.0), 10.0));
    }

    #[test]
    fn a_loud_item_is_lowered_to_the_target() {
        assert!(approx(gain_db(Some(-10.0), Some(-0.5), -16.0, -1.0), -6.0));
    }

    #[test]
    fn the_true_peak_ceiling_limits_the_raise() {
        // +10 dB would put the -4 dBTP peak at +6 dBTP; only +3 dB fits under -1 dBTP.
        assert!(approx(gain_db(Some(-26.0), Some(-4.0), -16.0, -1.0), 3.0));
    }

    #[test]
    fn a_peak_already_over_the_ceiling_at_target_loudness_is_turned_down() {
        assert!(approx(gain_db(Some(-16.0), Some(0.5), -16.0, -1.0), -1.5));
    }

    #[test]
    fn silence_or_unknown_loudness_gets_no_gain() {
        assert_eq!(gain_db(None, None, -16.0, -1.0), 0.0);
        assert_eq!(gain_db(None, Some(-3.0), -16.0, -1.0), 0.0);
        assert_eq!(gain_db(Some(-75.0), Some(-60.0), -16.0, -1.0), 0.0);
        assert_eq!(gain_db(Some(f64::NEG_INFINITY), None, -16.0, -1.0), 0.0);
        assert_eq!(gain_db(Some(f64::NAN), None, -16.0, -1.0), 0.0);
    }

    #[test]
    fn an_unknown_true_peak_imposes_no_ceiling() {
        assert!(approx(gain_db(Some(-30.0), None, -16.0, -1.0), 14.0));
    }

    #[test]
    fn an_item_at_the_target_is_left_alone() {
        assert!(approx(gain_db(Some(-16.0), Some(-3.0), -16.0, -1.0), 0.0));
    }

    #[test]
    fn the_stage_turns_nan_and_infinity_into_silence_and_never_passes_the_ceiling() {
        let stage = Stage::new(6.0, -1.0);
        let mut s = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.9, -0.9, 0.1];
        stage.apply(&mut s);
        let ceiling = db_to_linear(-1.0);
        assert_eq!(&s[..5], &[0.0, 0.0, 0.0, ceiling, -ceiling]);
        assert!((s[5] - 0.1 * db_to_linear(6.0)).abs() < 1e-7);
    }

    #[test]
    fn a_stage_with_a_non_finite_gain_or_ceiling_still_limits_at_full_scale() {
        let mut s = [2.0f32, -0.5];
        Stage::new(f64::NAN, f64::INFINITY).apply(&mut s);
        assert_eq!(s, [1.0, -0.5]);
        let mut s = [f32::MAX];
        Stage::new(f64::INFINITY, 3.0).apply(&mut s);
        assert_eq!(s, [1.0]);
    }

    proptest::proptest! {
        #[test]
        fn no_input_and_no_gain_makes_the_stage_pass_a_non_finite_or_over_ceiling_sample(
            sample in proptest::num::f32::ANY,
            gain_db in proptest::num::f64::ANY,
            ceiling_dbtp in -20.0f64..0.0,
        ) {
            let mut s = [sample];
            Stage::new(gain_db, ceiling_dbtp).apply(&mut s);
            proptest::prop_assert!(s[0].is_finite());
            proptest::prop_assert!(s[0].abs() <= db_to_linear(ceiling_dbtp));
        }
    }

    #[test]
    fn decibels_become_the_usual_linear_factors() {
        assert_eq!(db_to_linear(0.0), 1.0);
        assert!((db_to_linear(-6.0206) - 0.5).abs() < 1e-4);
        assert!((db_to_linear(20.0) - 10.0).abs() < 1e-4);
    }
}
