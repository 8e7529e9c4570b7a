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
