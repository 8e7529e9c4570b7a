//! Rule tests of the item source on small float WAVs written here.

use super::*;
use rubato::audioadapter_buffers::direct::InterleavedSlice;

/// Writes `samples` as a 32-bit float WAV.
fn float_wav(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&3u16.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * 4 * u32::from(channels)).to_le_bytes());
    f.extend_from_slice(&(4 * channels).to_le_bytes());
    f.extend_from_slice(&32u16.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&(data.len() as u32).to_le_bytes());
    f.extend_from_slice(&data);
    std::fs::write(path, f).unwrap();
}

fn sine(rate: u32, hz: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            (0.5 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin()) as f32
        })
        .collect()
}

fn mono(rate: u32) -> OutputFormat {
    OutputFormat {
        sample_rate: rate,
        channels: 1,
    }
}

fn read_all(src: &mut ItemSource) -> Vec<f32> {
    let mut all = Vec::new();
    let mut buf = vec![0.0; 999 * 2];
    loop {
        let n = src.read(&mut buf).unwrap();
        if n == 0 {
            return all;
        }
        all.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn the_output_length_is_rounded_half_up_and_unchanged_at_equal_rates() {
    assert_eq!(output_length(22_050, 22_050, 48_000), 48_000);
    assert_eq!(output_length(1, 44_100, 48_000), 1);
    assert_eq!(output_length(3, 48_000, 16_000), 1);
    // 147 frames at 44.1 kHz are 160 at 48 kHz; 1 frame at 96 kHz is half a frame at 48 kHz.
    assert_eq!(output_length(147, 44_100, 48_000), 160);
    assert_eq!(output_length(1, 96_000, 48_000), 1);
    assert_eq!(output_length(12_345, 48_000, 48_000), 12_345);
}

/// `speech` in channel `at` of an `n`-channel interleaving, the others silent.
fn in_channel(speech: &[f32], n: usize, at: usize) -> Vec<f32> {
    let mut all = vec![0.0f32; speech.len() * n];
    for (i, s) in speech.iter().enumerate() {
        all[i * n + at] = *s;
    }
    all
}

fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0f32, |m, s| m.max(s.abs()))
}

#[test]
fn a_7_1_file_with_speech_only_in_the_centre_is_heard_in_stereo_and_mono() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("7.1.wav");
    let speech = sine(48_000, 440.0, 4_800);
    float_wav(&path, 48_000, 8, &in_channel(&speech, 8, 2));
    let stereo = OutputFormat {
        sample_rate: 48_000,
        channels: 2,
    };
    let out = read_all(&mut ItemSource::open(&path, None, stereo, 0.0).unwrap());
    assert_eq!(out.len(), 4_800 * 2);
    let g = std::f32::consts::FRAC_1_SQRT_2;
    for (i, frame) in out.chunks_exact(2).enumerate() {
        assert_eq!(frame, [speech[i] * g, speech[i] * g], "frame {i}");
    }
    // Resampled to a mono 16 kHz output too: the downmix happens before the resampler.
    let out = read_all(&mut ItemSource::open(&path, None, mono(16_000), 0.0).unwrap());
    assert_eq!(out.len(), 1_600);
    assert!((peak(&out) - 0.5 * g).abs() < 0.02, "{}", peak(&out));
}

#[test]
fn a_file_of_nan_and_infinity_plays_as_silence_and_loud_samples_stop_at_the_ceiling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.wav");
    let mut samples = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 4.0, -4.0];
    samples.extend(sine(48_000, 1000.0, 480));
    float_wav(&path, 48_000, 1, &samples);
    let ceiling = crate::playout::gain::db_to_linear(-1.0);
    for fmt in [mono(48_000), mono(22_050)] {
        let mut src = ItemSource::open(&path, None, fmt, 12.0)
            .unwrap()
            .with_ceiling(-1.0);
        let out = read_all(&mut src);
        assert!(out.iter().all(|s| s.is_finite()), "{fmt}");
        assert!(peak(&out) <= ceiling, "{fmt}: {}", peak(&out));
        if fmt.sample_rate == 48_000 {
            assert_eq!(&out[..5], &[0.0, 0.0, 0.0, ceiling, -ceiling]);
        }
    }
}

#[test]
fn a_resampled_sine_lines_up_with_the_ideal_one_from_the_first_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sine.wav");
    float_wav(&path, 22_050, 1, &sine(22_050, 1000.0, 22_050));
    let mut src = ItemSource::open(&path, None, mono(48_000), 0.0).unwrap();
    assert_eq!(src.total_frames(), 48_000);
    let out = read_all(&mut src);
    assert_eq!(out.len(), 48_000);
    let ideal = sine(48_000, 1000.0, 48_000);
    // Away from the edges (where the signal starts and stops abruptly) the resampled sine
    // is the ideal one: a delay error of one frame would be an error of ~0.065.
    let worst = out[2000..46_000]
        .iter()
        .zip(&ideal[2000..46_000])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "worst error {worst}");
}

#[test]
fn streaming_gives_what_rubato_gives_for_the_whole_clip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    let input: Vec<f32> = sine(16_000, 440.0, 7_777)
        .iter()
        .zip(sine(16_000, 3100.0, 7_777))
        .map(|(a, b)| a + b * 0.5)
        .collect();
    float_wav(&path, 16_000, 1, &input);
    let mut src = ItemSource::open(&path, None, mono(48_000), 0.0).unwrap();
    let streamed = read_all(&mut src);
    assert_eq!(streamed.len(), 23_331);

    let mut fft = Fft::<f32>::new(
        16_000,
        48_000,
        chunk_frames(16_000, 48_000),
        1,
        FixedSync::Both,
    )
    .unwrap();
    let clip = InterleavedSlice::new(&input[..], 1, input.len()).unwrap();
    let whole = fft
        .process_all(&clip, input.len(), None)
        .unwrap()
        .take_data();
    assert!(whole.len() >= streamed.len());
    let worst = streamed
        .iter()
        .zip(&whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "worst difference {worst}");
}

#[test]
fn skipping_then_reading_gives_the_same_samples_as_reading_through() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    float_wav(&path, 22_050, 1, &sine(22_050, 700.0, 10_000));
    let fmt = OutputFormat::default();
    let all = read_all(&mut ItemSource::open(&path, None, fmt, -3.0).unwrap());
    let mut src = ItemSource::open(&path, None, fmt, -3.0).unwrap();
    assert_eq!(src.skip(5_000).unwrap(), 5_000);
    assert_eq!(src.position(), 5_000);
    let rest = read_all(&mut src);
    assert_eq!(rest[..], all[10_000..]);
    let mut end = ItemSource::open(&path, None, fmt, 0.0).unwrap();
    let total = end.total_frames();
    assert_eq!(end.skip(total + 10).unwrap(), total);
    assert_eq!(end.read(&mut [0.0; 8]).unwrap(), 0);
}

#[test]
fn a_file_whose_length_differs_from_the_librarys_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.wav");
    float_wav(&path, 48_000, 1, &sine(48_000, 300.0, 4_800));
    let mut src = ItemSource::open_known_length(&path, None, 9_600, mono(48_000), 0.0).unwrap();
    assert_eq!(src.total_frames(), 9_600);
    let mut buf = vec![0.0; 20_000];
    let err = loop {
        match src.read(&mut buf) {
            Ok(0) => panic!("the short file ended without an error"),
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    let text = err.to_string();
    assert!(
        text.contains("short.wav") && text.contains("4800"),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_named_as_missing() {
    let err = ItemSource::open(Path::new("/nowhere/ban-tin.mp3"), None, mono(48_000), 0.0)
        .err()
        .unwrap();
    assert!(matches!(err, PlayError::Missing { .. }));
    assert!(err.to_string().contains("/nowhere/ban-tin.mp3"));
}

#[test]
fn a_file_that_is_not_audio_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("note.txt");
    std::fs::write(&path, "Thông báo: lịch phát thanh tuần này.\n".repeat(20)).unwrap();
    let err = ItemSource::open(&path, None, mono(48_000), 0.0)
        .err()
        .unwrap();
    assert!(err.to_string().contains("note.txt"), "{err}");
}

#[test]
fn every_common_rate_lines_up_with_the_ideal_sine_to_a_fraction_of_a_frame() {
    // A misalignment of a tenth of a frame would show as an error of ~1e-3 at 200 Hz.
    for rate in [8_000u32, 16_000, 22_050, 32_000, 44_100, 96_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sine.wav");
        float_wav(&path, rate, 1, &sine(rate, 200.0, rate as usize));
        let out = read_all(&mut ItemSource::open(&path, None, mono(48_000), 0.0).unwrap());
        assert_eq!(out.len(), 48_000, "{rate} Hz");
        let ideal = sine(48_000, 200.0, 48_000);
        let worst = (2000..46_000)
            .map(|i| (out[i] - ideal[i]).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{rate} Hz: worst error {worst}");
    }
}
