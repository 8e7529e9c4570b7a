//! Rule tests of the capture sink.

use super::*;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    day().and_hms_opt(h, m, s).unwrap().and_utc()
}

#[test]
fn the_sample_at_an_instant_is_found_through_the_segments() {
    let segs = [
        Segment {
            start: at(5, 30, 0),
            first_frame: 0,
            frames: 48_000,
        },
        Segment {
            start: at(17, 0, 0),
            first_frame: 48_000,
            frames: 96_000,
        },
    ];
    assert_eq!(frame_at(&segs, 48_000, at(5, 30, 0)), Some(0));
    assert_eq!(
        frame_at(
            &segs,
            48_000,
            at(5, 30, 0) + chrono::Duration::milliseconds(500)
        ),
        Some(24_000)
    );
    assert_eq!(frame_at(&segs, 48_000, at(5, 30, 1)), None);
    assert_eq!(frame_at(&segs, 48_000, at(17, 0, 1)), Some(96_000));
    assert_eq!(frame_at(&segs, 48_000, at(4, 0, 0)), None);
}

#[test]
fn a_restart_the_same_day_appends_and_drops_a_segment_that_never_ended() {
    let dir = tempfile::tempdir().unwrap();
    let fmt = OutputFormat::default();
    {
        let mut sink = WavSink::new(dir.path(), fmt).unwrap();
        sink.begin("xa-a", day(), at(5, 30, 0)).unwrap();
        sink.write(&[0.25; 200]).unwrap();
        sink.end().unwrap();
        sink.begin("xa-a", day(), at(6, 0, 0)).unwrap();
        sink.write(&[0.5; 100]).unwrap();
        // A crash: the segment never ends and nothing closes the file.
        if let Some(d) = sink.day.as_mut() {
            d.file.flush().unwrap();
            d.open = None;
        }
    }
    let (samples, segments) = read_capture(dir.path(), "xa-a", day()).unwrap();
    assert_eq!(samples, vec![0.25; 200]);
    assert_eq!(segments.len(), 1);

    let mut sink = WavSink::new(dir.path(), fmt).unwrap();
    sink.begin("xa-a", day(), at(17, 0, 0)).unwrap();
    sink.write(&[-0.75; 40]).unwrap();
    drop(sink); // ends the open segment
    let (samples, segments) = read_capture(dir.path(), "xa-a", day()).unwrap();
    assert_eq!(samples.len(), 240);
    assert_eq!(samples[200..], [-0.75; 40]);
    assert_eq!(
        segments[1],
        Segment {
            start: at(17, 0, 0),
            first_frame: 100,
            frames: 20
        }
    );
}

#[test]
fn a_day_file_in_another_format_is_not_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = WavSink::new(dir.path(), OutputFormat::default()).unwrap();
    sink.begin("xa-a", day(), at(5, 0, 0)).unwrap();
    sink.write(&[0.0; 8]).unwrap();
    sink.end().unwrap();
    drop(sink);
    let mono = OutputFormat {
        sample_rate: 48_000,
        channels: 1,
    };
    let mut sink = WavSink::new(dir.path(), mono).unwrap();
    let err = sink
        .begin("xa-a", day(), at(6, 0, 0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2026-03-02.wav") && err.contains("move it away"),
        "{err}"
    );
}

#[test]
fn writing_outside_a_segment_and_unsafe_station_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = WavSink::new(dir.path(), OutputFormat::default()).unwrap();
    assert!(matches!(
        sink.write(&[0.0; 2]),
        Err(SinkError::NoSegment(_))
    ));
    for bad in ["", "../x", "a/b", ".hidden"] {
        assert!(sink.begin(bad, day(), at(5, 0, 0)).is_err(), "{bad}");
    }
}

#[test]
fn the_header_is_a_valid_float_wav_that_symphonia_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = WavSink::new(dir.path(), OutputFormat::default()).unwrap();
    sink.begin("xa-a", day(), at(5, 0, 0)).unwrap();
    let samples: Vec<f32> = (0..960).map(|i| (i as f32 / 960.0) - 0.5).collect();
    sink.write(&samples).unwrap();
    sink.end().unwrap();
    let path = dir.path().join("xa-a/2026-03-02.wav");
    let file = File::open(&path).unwrap();
    let mut dec = crate::library::decode::AudioDecoder::open(file, None).unwrap();
    assert_eq!(dec.info().sample_rate, 48_000);
    assert_eq!(dec.info().channels, 2);
    let mut back = Vec::new();
    while let Some(b) = dec.next_block().unwrap() {
        back.extend_from_slice(b);
    }
    assert_eq!(back, samples);
}

#[test]
fn a_default_capture_is_16_khz_mono_16_bit_and_reads_back_within_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let options = CaptureOptions {
        min_free_bytes: 0,
        ..CaptureOptions::default()
    };
    let mut sink = WavSink::with_options(dir.path(), &options).unwrap();
    assert_eq!(
        sink.format(),
        OutputFormat {
            sample_rate: 16_000,
            channels: 1
        }
    );
    sink.begin("xa-a", day(), at(5, 0, 0)).unwrap();
    let samples: Vec<f32> = (0..1600).map(|i| (i as f32 / 800.0) - 1.0).collect();
    sink.write(&samples).unwrap();
    sink.write(&[2.0, -2.0, f32::NAN]).unwrap();
    sink.end().unwrap();
    let path = dir.path().join("xa-a/2026-03-02.wav");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        HEADER_LEN + 1603 * 2
    );
    let (back, segments) = read_capture(dir.path(), "xa-a", day()).unwrap();
    assert_eq!(back.len(), 1603);
    for (a, b) in samples.iter().zip(&back) {
        assert!((a - b).abs() <= 0.5 / 32767.0 + 1e-7, "{a} {b}");
    }
    assert_eq!(&back[1600..], &[1.0, -1.0, 0.0]);
    assert_eq!(segments[0].frames, 1603);
    // A WAV any player opens: symphonia reads it as 16-bit PCM.
    let dec = crate::library::decode::AudioDecoder::open(File::open(&path).unwrap(), None).unwrap();
    assert_eq!(dec.info().codec, "pcm_s16le");
    assert_eq!(dec.info().sample_rate, 16_000);
}

#[test]
fn a_filling_disk_warns_then_stops_capture_mid_segment_and_resumes_when_there_is_room() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    const MB: u64 = 1024 * 1024;
    let free = Arc::new(Mutex::new(10_000 * MB));
    let reading = free.clone();
    let options = CaptureOptions {
        format: OutputFormat {
            sample_rate: 48_000,
            channels: 2,
        },
        sample: SampleFormat::F32,
        min_free_bytes: 500 * MB,
    };
    let mut sink = WavSink::with_options(dir.path(), &options)
        .unwrap()
        .with_free_space(move |_| Some(*reading.lock().unwrap()));
    let block = vec![0.25f32; 2 * 48_000]; // one second, 384 kB
    sink.begin("xa-a", day(), at(5, 0, 0)).unwrap();
    assert!(sink.take_alerts().is_empty());
    *free.lock().unwrap() = 800 * MB;
    // Enough seconds to pass one check interval: the warning comes mid-segment.
    for _ in 0..23 {
        sink.write(&block).unwrap();
    }
    let alerts = sink.take_alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0].to_string().contains("only 800 MB free"),
        "{alerts:?}"
    );
    *free.lock().unwrap() = 300 * MB;
    for _ in 0..23 {
        sink.write(&block).unwrap();
    }
    let alerts = sink.take_alerts();
    assert!(
        alerts.len() == 1
            && alerts[0]
                .to_string()
                .starts_with("capture stopped: only 300 MB free"),
        "{alerts:?}"
    );
    sink.end().unwrap();
    // The next slot is played but not kept while space is short.
    sink.begin("xa-a", day(), at(6, 0, 0)).unwrap();
    sink.write(&block).unwrap();
    sink.end().unwrap();
    let (kept, segments) = read_capture(dir.path(), "xa-a", day()).unwrap();
    assert_eq!(segments.len(), 1);
    assert_eq!(kept.len() as u64, segments[0].frames * 2);
    assert!(segments[0].frames < 46 * 48_000, "{}", segments[0].frames);
    assert_eq!(sink.frames_written(), 47 * 48_000);
    // Room again: the next slot is captured.
    *free.lock().unwrap() = 5_000 * MB;
    sink.begin("xa-a", day(), at(7, 0, 0)).unwrap();
    assert!(sink.take_alerts()[0]
        .to_string()
        .starts_with("capture resumed"));
    sink.write(&block).unwrap();
    sink.end().unwrap();
    let (_, segments) = read_capture(dir.path(), "xa-a", day()).unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[1].start, at(7, 0, 0));
    assert_eq!(segments[1].frames, 48_000);
}
