//! Rule tests of slot timing: no store, no sink, no clock.

use chrono::TimeZone;

use super::*;

fn t(h: u32, m: u32, s: u32, ms: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 3, 6, h, m, s).unwrap() + Duration::milliseconds(ms.into())
}

fn at(now: DateTime<Utc>, flowing: bool) -> TurnAt {
    TurnAt {
        source: CueSource::Schedule,
        planned_start: t(5, 30, 0, 0),
        duration_ms: 60_000,
        now,
        flowing,
        slot_end: t(5, 45, 0, 0),
    }
}

#[test]
fn items_start_where_the_one_before_ends_to_the_frame() {
    let starts = planned_starts(t(5, 30, 0, 0), 48_000, [48_000 * 60 + 1, 24_000, 10]);
    assert_eq!(starts[0], t(5, 30, 0, 0));
    // One frame past a minute at 48 kHz: 20.833 µs, kept to the microsecond.
    assert_eq!(starts[1], t(5, 31, 0, 0) + Duration::microseconds(20));
    assert_eq!(starts[2], t(5, 31, 0, 500) + Duration::microseconds(20));
}

#[test]
fn a_start_a_little_late_plays_the_item_whole() {
    assert_eq!(
        turn(at(t(5, 30, 0, 900), false)),
        Turn::Play {
            join_ms: 0,
            left_ms: 14 * 60_000 + 59_100
        }
    );
}

#[test]
fn a_late_join_starts_part_way_where_the_item_should_be() {
    assert_eq!(
        turn(at(t(5, 30, 12, 0), false)),
        Turn::Play {
            join_ms: 12_000,
            left_ms: 14 * 60_000 + 48_000
        }
    );
    // Once audio flows, a late turn is the slot running behind, not a join.
    assert!(matches!(
        turn(at(t(5, 30, 12, 0), true)),
        Turn::Play { join_ms: 0, .. }
    ));
    // Only scheduled items join late; an operator's item always plays from its start.
    let mut manual = at(t(5, 30, 12, 0), false);
    manual.source = CueSource::Manual;
    assert!(matches!(turn(manual), Turn::Play { join_ms: 0, .. }));
}

#[test]
fn a_scheduled_item_whose_time_passed_before_loa_played_is_missed() {
    assert_eq!(turn(at(t(5, 31, 0, 0), false)), Turn::Missed);
    assert!(matches!(turn(at(t(5, 31, 0, 0), true)), Turn::Play { .. }));
}

#[test]
fn an_item_that_does_not_fit_is_cut_at_the_slots_end_or_not_started() {
    // 10 s left of a 60 s item: it starts and is cut after 10 s.
    let mut late = at(t(5, 44, 50, 0), true);
    late.planned_start = late.now;
    let Turn::Play { join_ms, left_ms } = turn(late) else {
        panic!("it fits in part")
    };
    assert_eq!((join_ms, left_ms), (0, 10_000));
    assert_eq!(play_limit(0, left_ms, 48_000, 60 * 48_000), 10 * 48_000);
    // 2 s left: a fragment, not started.
    late.now = t(5, 44, 58, 0);
    late.planned_start = late.now;
    assert_eq!(turn(late), Turn::NoTimeLeft);
    // A 2 s item fits in the last 2 s whole.
    late.duration_ms = 2_000;
    assert!(matches!(turn(late), Turn::Play { left_ms: 2_000, .. }));
}

#[test]
fn the_play_limit_never_passes_the_items_end() {
    assert_eq!(play_limit(48_000, 600_000, 48_000, 96_000), 96_000);
}

#[test]
fn a_sound_card_starts_early_by_its_latency_up_to_two_seconds() {
    let ms = std::time::Duration::from_millis;
    assert_eq!(
        preroll(false, true, None, ms(120)),
        Duration::milliseconds(120)
    );
    assert_eq!(
        preroll(false, true, Some(ms(40)), ms(120)),
        Duration::milliseconds(40)
    );
    assert_eq!(
        preroll(false, true, Some(ms(9_000)), ms(0)),
        Duration::seconds(2)
    );
    assert_eq!(preroll(true, true, None, ms(120)), Duration::zero());
    assert_eq!(preroll(false, false, None, ms(120)), Duration::zero());
}

#[test]
fn the_sample_clock_counts_frames_and_knows_when_the_wall_clock_ran_ahead() {
    let mut c = SampleClock::starting(t(5, 30, 0, 0), 48_000);
    c.advance(48_000 * 5);
    assert_eq!(c.now(), t(5, 30, 5, 0));
    assert_eq!(c.behind(t(5, 30, 4, 0)), None);
    assert_eq!(c.behind(t(5, 30, 25, 0)), Some(20_000));
    c.rejoin(t(5, 30, 25, 0));
    assert_eq!(c.now(), t(5, 30, 25, 0));
}

#[test]
fn only_a_wall_clock_more_than_two_seconds_ahead_of_the_audio_is_a_stall() {
    let mut c = SampleClock::starting(t(5, 30, 0, 0), 8_000);
    c.advance(8_000 * 10);
    assert_eq!(c.stalled(t(5, 30, 12, 0)), None, "scheduler jitter");
    assert_eq!(c.stalled(t(5, 30, 9, 0)), None, "audio written ahead");
    assert_eq!(c.stalled(t(5, 30, 30, 500)), Some(20_500));
}

#[test]
fn a_cut_fades_out_to_silence_over_its_last_frames() {
    let mut block = vec![1.0f32; 2 * 10];
    fade_out(&mut block, 2, 4);
    assert_eq!(&block[..12], &[1.0; 12]);
    assert_eq!(block[18..], [0.0, 0.0]);
    assert!(block[12] > block[14] && block[14] > block[16]);
    let mut empty: Vec<f32> = vec![];
    fade_out(&mut empty, 2, 4);
}
