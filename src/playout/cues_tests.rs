//! Rule tests of the cue queue: no store, no sink, no clock.

use chrono::{FixedOffset, TimeZone};

use super::*;
use crate::library::{Kind, Topic};
use crate::schedule::Item;

const A: &str = "aaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbb";
const C: &str = "cccccccccccc";
const F: &str = "ffffffffffff";

fn id(s: &str) -> BulletinId {
    s.parse().unwrap()
}

/// A bulletin of `secs` seconds (8 kHz mono), valid from `from` when given.
fn bulletin(s: &str, secs: u64, from: Option<NaiveDate>) -> Bulletin {
    let mut b = crate::report::rows::tests::bulletin(s, Kind::News, Topic::Documents, "tin");
    b.audio.duration_ms = secs * 1000;
    b.audio.frames = secs * 8000;
    b.meta.valid_from = from;
    b
}

fn library(items: &[(&str, u64)]) -> Library {
    items
        .iter()
        .map(|(s, secs)| (id(s), bulletin(s, *secs, None)))
        .collect()
}

fn slot(items: &[(&str, u64)], cchc_s: u32) -> SlotPlaylist {
    let start = FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(2023, 3, 6, 5, 30, 0)
        .unwrap();
    let mut offset = 0;
    SlotPlaylist {
        name: "Sáng".into(),
        start,
        length_s: cchc_s + 60,
        cchc_s,
        items: items
            .iter()
            .map(|(s, secs)| {
                let i = Item {
                    bulletin_id: id(s),
                    title: "tin".into(),
                    kind: Kind::News,
                    topic: Topic::Documents,
                    offset_ms: offset,
                    duration_ms: secs * 1000,
                    pinned: false,
                };
                offset += secs * 1000;
                i
            })
            .collect(),
    }
}

fn layout<'a>(library: &'a Library, fallback: &'a [BulletinId]) -> Layout<'a> {
    Layout {
        library,
        fallback,
        rate: 48_000,
        who: "loa",
    }
}

fn makeup(s: &str, seq: i64) -> Makeup {
    Makeup {
        bulletin: id(s),
        link_seq: Some(seq),
    }
}

fn order(c: &SlotCues) -> Vec<(String, CueSource)> {
    c.cues
        .iter()
        .map(|c| (c.bulletin.to_string(), c.source))
        .collect()
}

#[test]
fn scheduled_items_play_in_order_each_where_the_one_before_ends() {
    let lib = library(&[(A, 60), (B, 30)]);
    let s = slot(&[(A, 60), (B, 30)], 600);
    let q = layout(&lib, &[]).slot(&s, VecDeque::new());
    assert_eq!(
        order(&q),
        [
            (A.into(), CueSource::Schedule),
            (B.into(), CueSource::Schedule)
        ]
    );
    let start = s.start.with_timezone(&Utc);
    assert_eq!(q.cues[0].planned_start, start);
    assert_eq!(q.cues[1].planned_start, start + Duration::seconds(60));
    assert!(!q.empty && !q.fallback);
}

#[test]
fn make_ups_follow_the_scheduled_items_oldest_first_while_they_fit() {
    let lib = library(&[(A, 60), (B, 30), (C, 500)]);
    let s = slot(&[(A, 60)], 120);
    let q = layout(&lib, &[]).slot(
        &s,
        VecDeque::from([makeup(C, 1), makeup(B, 2), makeup(A, 3)]),
    );
    // C (500 s) does not fit the 60 s left; B does, then A no longer does.
    assert_eq!(
        order(&q),
        [
            (A.into(), CueSource::Schedule),
            (B.into(), CueSource::Makeup)
        ]
    );
    assert_eq!(q.cues[1].link_seq, Some(2), "linked to its miss");
    assert_eq!(
        q.cues[1].planned_start,
        s.start.with_timezone(&Utc) + Duration::seconds(60)
    );
    assert_eq!(q.waiting, VecDeque::from([makeup(C, 1), makeup(A, 3)]));
}

#[test]
fn a_make_up_waits_for_a_day_it_is_valid_on_and_is_dropped_once_it_left_the_library() {
    let mut lib = library(&[(A, 10)]);
    let later = NaiveDate::from_ymd_opt(2023, 3, 7);
    lib.insert(id(B), bulletin(B, 10, later));
    let q = layout(&lib, &[]).slot(
        &slot(&[(A, 10)], 600),
        VecDeque::from([makeup(B, 1), makeup(C, 2)]),
    );
    assert_eq!(q.cues.len(), 1);
    assert_eq!(q.waiting, VecDeque::from([makeup(B, 1)]));
}

#[test]
fn an_empty_slot_plays_the_fallback_that_fits_and_stays_silent_when_none_does() {
    let lib = library(&[(F, 50), (A, 50), (B, 30)]);
    let fallback = [id(F), id(A), id(B)];
    let q = layout(&lib, &fallback).slot(&slot(&[], 120), VecDeque::new());
    // F and A fill 100 s of 120; B (30 s) would pass it, and the fallback stops there.
    assert_eq!(
        order(&q),
        [
            (F.into(), CueSource::Fallback),
            (A.into(), CueSource::Fallback)
        ]
    );
    assert!(q.empty && q.fallback);
    let none = layout(&lib, &fallback).slot(&slot(&[], 40), VecDeque::new());
    assert!(none.empty && !none.fallback && none.cues.is_empty());
}

#[test]
fn an_urgent_item_airs_at_once_then_the_interrupted_one_again_then_the_rest() {
    let lib = library(&[(A, 60), (B, 30)]);
    let mut q = layout(&lib, &[])
        .slot(&slot(&[(A, 60), (B, 30)], 600), VecDeque::new())
        .cues;
    let current = q.pop_front().unwrap();
    let now = current.planned_start + Duration::seconds(20);
    let urgent = Cue {
        bulletin: id(C),
        planned_start: now,
        source: CueSource::Urgent,
        link_seq: None,
        who: "Anh Hùng".into(),
        announcement: None,
    };
    interrupt(&mut q, urgent, &current, Some(41));
    let got: Vec<(BulletinId, CueSource, Option<i64>)> = q
        .iter()
        .map(|c| (c.bulletin, c.source, c.link_seq))
        .collect();
    assert_eq!(
        got,
        [
            (id(C), CueSource::Urgent, Some(41)),
            (id(A), CueSource::Makeup, Some(41)),
            (id(B), CueSource::Schedule, None),
        ]
    );
    assert_eq!(q[1].planned_start, now);
    assert_eq!(q[1].who, "loa", "the interrupted item keeps who cued it");
}

#[test]
fn the_fallback_is_never_made_up() {
    assert!(makes_up(true, true, CueSource::Schedule));
    assert!(!makes_up(true, true, CueSource::Fallback));
    assert!(!makes_up(true, false, CueSource::Makeup));
    assert!(!makes_up(false, true, CueSource::Urgent));
}

fn announced(s: &str, level: Waiting) -> Announced {
    Announced {
        bulletin: id(s),
        level,
        who: "Chị Lan".into(),
        id: None,
    }
}

#[test]
fn a_priority_announcement_airs_ahead_of_the_slot_and_a_normal_one_after_its_items() {
    let lib = library(&[(A, 60), (B, 30), (C, 20), (F, 10)]);
    let s = slot(&[(A, 60), (B, 30)], 600);
    let q = layout(&lib, &[]).slot_with(
        &s,
        VecDeque::new(),
        vec![
            announced(C, Waiting::Normal),
            announced(F, Waiting::Priority),
        ],
    );
    assert_eq!(
        order(&q),
        [
            (F.into(), CueSource::Priority),
            (A.into(), CueSource::Schedule),
            (B.into(), CueSource::Schedule),
            (C.into(), CueSource::Announcement),
        ]
    );
    let start = s.start.with_timezone(&Utc);
    assert_eq!(
        q.cues[0].planned_start, start,
        "priority from the slot's start"
    );
    assert_eq!(
        q.cues[1].planned_start, start,
        "scheduled items keep their planned instants, so the airlog shows the delay"
    );
    assert_eq!(q.cues[3].planned_start, start + Duration::seconds(100));
    assert_eq!(q.cues[0].who, "Chị Lan", "the row names who sent it");
    assert_eq!(q.cues[1].who, "loa");
}

#[test]
fn announcements_of_one_level_keep_the_order_they_were_sent_in() {
    let lib = library(&[(A, 60), (B, 30), (C, 20), (F, 10)]);
    let q = layout(&lib, &[]).slot_with(
        &slot(&[(A, 60)], 600),
        VecDeque::new(),
        vec![
            announced(B, Waiting::Priority),
            announced(C, Waiting::Normal),
            announced(F, Waiting::Priority),
            announced(A, Waiting::Normal),
        ],
    );
    let got: Vec<String> = q.cues.iter().map(|c| c.bulletin.to_string()).collect();
    assert_eq!(got, [B, F, A, C, A]);
}

#[test]
fn announcements_take_cchc_time_before_make_ups_and_are_never_dropped_for_it() {
    let lib = library(&[(A, 60), (B, 50), (C, 30)]);
    let q = layout(&lib, &[]).slot_with(
        &slot(&[(A, 60)], 100),
        VecDeque::from([makeup(C, 7)]),
        vec![
            announced(B, Waiting::Normal),
            announced(B, Waiting::Priority),
        ],
    );
    // 60 + 50 + 50 s passes the 100 s of CCHC time: both announcements stay, the make-up waits.
    assert_eq!(q.cues.len(), 3);
    assert!(q.cues.iter().all(|c| c.source != CueSource::Makeup));
    assert_eq!(q.waiting, VecDeque::from([makeup(C, 7)]));
}

#[test]
fn a_slot_that_only_announcements_fill_is_not_empty_and_takes_no_fallback() {
    let lib = library(&[(F, 50), (C, 20)]);
    let fallback = [id(F)];
    let q = layout(&lib, &fallback).slot_with(
        &slot(&[], 120),
        VecDeque::new(),
        vec![announced(C, Waiting::Normal)],
    );
    assert_eq!(order(&q), [(C.into(), CueSource::Announcement)]);
    assert!(!q.empty && !q.fallback);
}

#[test]
fn each_waiting_level_is_logged_with_its_own_source() {
    assert_eq!(Waiting::Normal.source(), CueSource::Announcement);
    assert_eq!(Waiting::Priority.source(), CueSource::Priority);
    assert_eq!(Waiting::of(Priority::Normal), Some(Waiting::Normal));
    assert_eq!(Waiting::of(Priority::Priority), Some(Waiting::Priority));
    assert_eq!(
        Waiting::of(Priority::Emergency),
        None,
        "an emergency never waits"
    );
    assert!(makes_up(true, true, CueSource::Announcement));
}
