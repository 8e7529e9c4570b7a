//! Channel mapping, pure: how a file's channels become the output's. [`Mix::new`] builds the
//! matrix once per item; [`Mix::apply`] maps one frame.
//!
//! # The rules
//! - Same count: channel `i` to channel `i`, unchanged (bit for bit).
//! - Mono in: the one channel to every output channel.
//! - More channels in than out, output mono or stereo: the ITU-R BS.775 downmix to stereo,
//!   by the channels' positions (from the file, else the usual WAV/SMPTE order for the
//!   count): `L = FL + g·C + g·Ls (+ g·Lb)`, `R = FR + g·C + g·Rs (+ g·Rb)` with
//!   `g = 1/√2` (−3 dB), the LFE left out (BS.775 does not carry it). Every other position
//!   (rear or top centre, wide and high channels) goes to its side at −3 dB, or to both
//!   sides at −3 dB when it is in the middle. A mono output takes `(L + R) / 2`, which for
//!   a stereo file is the plain average of its two channels. So speech only in the centre
//!   channel of a 5.1 or 7.1 file is heard at its own loudness in stereo (−3 dB in each
//!   side) and at −3 dB in mono.
//! - More channels in than out, output of 3 or more: channel `i` to `i` for the output's
//!   channels, and each input channel beyond them folded into the first two outputs by the
//!   stereo coefficients above.
//! - Fewer channels in than out (2 or more in): channel `i` to `i`, the rest silent.

use std::f32::consts::FRAC_1_SQRT_2;

/// Where a channel plays, as far as the downmix cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The left side at full level (front left).
    Left,
    /// The right side at full level (front right).
    Right,
    /// The left side at −3 dB (surround, back, side, left-of-centre, top left …).
    LeftSurround,
    /// The right side at −3 dB.
    RightSurround,
    /// Both sides at −3 dB (centre, rear centre, top centre …).
    Middle,
    /// Left out (low-frequency effects).
    Lfe,
}

/// Positions of the WAVE channel mask bits (symphonia's `Channels` follows it), in bit
/// order.
const MASK_SIDES: [Side; 26] = [
    Side::Left,          // front left
    Side::Right,         // front right
    Side::Middle,        // front centre
    Side::Lfe,           // LFE 1
    Side::LeftSurround,  // rear left
    Side::RightSurround, // rear right
    Side::LeftSurround,  // front left of centre
    Side::RightSurround, // front right of centre
    Side::Middle,        // rear centre
    Side::LeftSurround,  // side left
    Side::RightSurround, // side right
    Side::Middle,        // top centre
    Side::LeftSurround,  // top front left
    Side::Middle,        // top front centre
    Side::RightSurround, // top front right
    Side::LeftSurround,  // top rear left
    Side::Middle,        // top rear centre
    Side::RightSurround, // top rear right
    Side::LeftSurround,  // rear left of centre
    Side::RightSurround, // rear right of centre
    Side::LeftSurround,  // front left wide
    Side::RightSurround, // front right wide
    Side::LeftSurround,  // front left high
    Side::Middle,        // front centre high
    Side::RightSurround, // front right high
    Side::Lfe,           // LFE 2
];

/// The usual layout of `n` channels when the file does not say (WAV/SMPTE order):
/// 3 = L R C, 4 = L R Ls Rs, 5 = L R C Ls Rs, 6 = 5.1 (L R C LFE Ls Rs),
/// 7 = 6.1 (L R C LFE Cs Ls Rs), 8 = 7.1 (L R C LFE Lb Rb Ls Rs); beyond that, L R and
/// the rest in the middle.
fn default_sides(n: usize) -> Vec<Side> {
    use Side::*;
    let sides: &[Side] = match n {
        1 => &[Middle],
        2 => &[Left, Right],
        3 => &[Left, Right, Middle],
        4 => &[Left, Right, LeftSurround, RightSurround],
        5 => &[Left, Right, Middle, LeftSurround, RightSurround],
        6 => &[Left, Right, Middle, Lfe, LeftSurround, RightSurround],
        7 => &[
            Left,
            Right,
            Middle,
            Lfe,
            Middle,
            LeftSurround,
            RightSurround,
        ],
        8 => &[
            Left,
            Right,
            Middle,
            Lfe,
            LeftSurround,
            RightSurround,
            LeftSurround,
            RightSurround,
        ],
        _ => &[],
    };
    let mut v = sides.to_vec();
    if v.is_empty() {
        v = vec![Left, Right];
        v.resize(n, Middle);
    }
    v
}

/// The sides of `n` channels from a WAVE-style mask; the default layout when the mask does
/// not name exactly `n` positions, or names only the first `n` (what a plain WAV without a
/// mask gets, which is wrong for 7.1).
fn sides_of(mask: u32, n: usize) -> Vec<Side> {
    let first_n = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
    if mask.count_ones() as usize != n || mask == first_n || n < 3 {
        return default_sides(n);
    }
    (0..32)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| MASK_SIDES.get(bit).copied().unwrap_or(Side::Middle))
        .collect()
}

/// The (left, right) gains of a side in the stereo downmix.
fn stereo_gains(side: Side) -> (f32, f32) {
    let g = FRAC_1_SQRT_2;
    match side {
        Side::Left => (1.0, 0.0),
        Side::Right => (0.0, 1.0),
        Side::LeftSurround => (g, 0.0),
        Side::RightSurround => (0.0, g),
        Side::Middle => (g, g),
        Side::Lfe => (0.0, 0.0),
    }
}

/// How to map one frame.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    /// Same count: copy.
    Copy,
    /// One channel in: to every output channel.
    Spread,
    /// Channel `i` to `i`, missing outputs silent.
    Direct,
    /// A matrix, `out` rows of `in` gains.
    Matrix(Vec<f32>),
}

/// The channel mapping of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// Channels per input frame.
    inputs: usize,
    /// Channels per output frame.
    outputs: usize,
    /// The mapping.
    plan: Plan,
}

impl Mix {
    /// The mapping from `inputs` channels at the positions of `mask` (a WAVE channel mask;
    /// 0 when unknown) to `outputs` channels.
    pub fn new(mask: u32, inputs: usize, outputs: usize) -> Mix {
        let (inputs, outputs) = (inputs.max(1), outputs.max(1));
        let plan = if inputs == outputs {
            Plan::Copy
        } else if inputs == 1 {
            Plan::Spread
        } else if inputs < outputs {
            Plan::Direct
        } else {
            let sides = sides_of(mask, inputs);
            let mut m = vec![0.0f32; outputs * inputs];
            if outputs <= 2 {
                for (i, side) in sides.iter().enumerate() {
                    let (l, r) = stereo_gains(*side);
                    if outputs == 1 {
                        m[i] = (l + r) / 2.0;
                    } else {
                        m[i] = l;
                        m[inputs + i] = r;
                    }
                }
            } else {
                for o in 0..outputs {
                    m[o * inputs + o] = 1.0;
                }
                for (i, side) in sides.iter().enumerate().skip(outputs) {
                    let (l, r) = stereo_gains(*side);
                    m[i] += l;
                    m[inputs + i] += r;
                }
            }
            Plan::Matrix(m)
        };
        Mix {
            inputs,
            outputs,
            plan,
        }
    }

    /// Maps one frame: `input` holds this mix's input channels, `out` its output channels.
    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        match &self.plan {
            Plan::Copy => out.copy_from_slice(input),
            Plan::Spread => out.fill(input[0]),
            Plan::Direct => {
                let n = input.len().min(out.len());
                out[..n].copy_from_slice(&input[..n]);
                out[n..].fill(0.0);
            }
            Plan::Matrix(m) => {
                for (o, row) in out.iter_mut().zip(m.chunks_exact(self.inputs)) {
                    *o = row.iter().zip(input).map(|(g, s)| g * s).sum();
                }
            }
        }
    }

    /// Channels per output frame.
    pub fn outputs(&self) -> usize {
        self.outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(mix: &Mix, frame: &[f32]) -> Vec<f32> {
        let mut out = vec![9.0; mix.outputs()];
        mix.apply(frame, &mut out);
        out
    }

    const G: f32 = FRAC_1_SQRT_2;

    #[test]
    fn speech_in_the_centre_of_a_7_1_file_is_heard_in_both_sides_at_minus_3_db() {
        let mix = Mix::new(0, 8, 2);
        let centre = [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(map(&mix, &centre), vec![0.5 * G, 0.5 * G]);
        let mono = Mix::new(0, 8, 1);
        assert_eq!(map(&mono, &centre), vec![0.5 * G]);
    }

    #[test]
    fn a_5_1_file_downmixes_by_the_bs_775_coefficients_without_the_lfe() {
        let mix = Mix::new(0, 6, 2);
        //            L    R    C    LFE  Ls   Rs
        let frame = [0.1, 0.2, 0.3, 0.9, 0.4, 0.5];
        let out = map(&mix, &frame);
        assert!((out[0] - (0.1 + G * 0.3 + G * 0.4)).abs() < 1e-6, "{out:?}");
        assert!((out[1] - (0.2 + G * 0.3 + G * 0.5)).abs() < 1e-6, "{out:?}");
    }

    #[test]
    fn a_7_1_mask_from_the_file_puts_side_and_back_channels_on_their_sides() {
        // FL FR FC LFE BL BR SL SR, as WAVE_FORMAT_EXTENSIBLE names 7.1.
        let mask = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x200 | 0x400;
        let mix = Mix::new(mask, 8, 2);
        let left_side = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        assert_eq!(map(&mix, &left_side), vec![G, 0.0]);
        let right_back = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(map(&mix, &right_back), vec![0.0, G]);
    }

    #[test]
    fn stereo_to_mono_is_the_average_and_same_counts_are_copied_exactly() {
        assert_eq!(map(&Mix::new(0, 2, 1), &[0.25, 0.75]), vec![0.5]);
        let frame = [0.123_456_7, -0.765_432_1];
        assert_eq!(map(&Mix::new(0b11, 2, 2), &frame), frame.to_vec());
    }

    #[test]
    fn mono_goes_everywhere_and_missing_channels_are_silent() {
        assert_eq!(map(&Mix::new(0, 1, 3), &[0.5]), vec![0.5, 0.5, 0.5]);
        assert_eq!(
            map(&Mix::new(0, 2, 4), &[0.1, 0.2]),
            vec![0.1, 0.2, 0.0, 0.0]
        );
    }

    #[test]
    fn channels_beyond_a_wide_output_fold_into_its_first_two() {
        // 5.1 into a 4-channel output: Ls and Rs (channels 4 and 5) fold into L and R.
        let mix = Mix::new(0, 6, 4);
        let out = map(&mix, &[0.1, 0.2, 0.3, 0.4, 1.0, 1.0]);
        assert_eq!(out, vec![0.1 + G, 0.2 + G, 0.3, 0.4]);
    }

    #[test]
    fn an_odd_layout_keeps_every_channel_audible() {
        let mix = Mix::new(0, 12, 2);
        for ch in 0..12 {
            let mut frame = [0.0f32; 12];
            frame[ch] = 1.0;
            let out = map(&mix, &frame);
            assert!(out[0] > 0.0 || out[1] > 0.0, "channel {ch}: {out:?}");
        }
    }
}
