//! Rule tests of the library's confinement, filters and refusals.

use super::*;
use crate::access::{Grant, User, UserName};
use crate::library::{AudioFacts, BulletinMeta};

fn caller(role: Role, stations: &[&str]) -> Caller {
    let at = chrono::DateTime::UNIX_EPOCH;
    let stations: Vec<String> = stations.iter().map(|s| s.to_string()).collect();
    Caller::User {
        user: User {
            name: UserName::parse("Thử").unwrap(),
            grant: Grant::new(role, &stations).unwrap(),
            disabled_at: None,
            created_by: "t".into(),
            created_at: at,
            updated_by: "t".into(),
            updated_at: at,
        },
        session: None,
    }
}

fn bulletin(title: &str, stations: &[&str]) -> Bulletin {
    let change = StateChange {
        by: "t".into(),
        at: chrono::DateTime::UNIX_EPOCH,
    };
    Bulletin {
        id: BulletinId::from_sha256(&"a".repeat(64)),
        meta: BulletinMeta {
            title: title.into(),
            kind: Kind::News,
            topic: Topic::Documents,
            priority: Priority::Normal,
            producer: "Phòng Văn hóa".into(),
            language: "vi".into(),
            valid_from: None,
            valid_until: None,
            stations: stations.iter().map(|s| s.to_string()).collect(),
            notes: String::new(),
        },
        audio: AudioFacts {
            sha256: "a".repeat(64),
            size_bytes: 1,
            codec: "mp3".into(),
            container: "mp3".into(),
            sample_rate: 44100,
            channels: 1,
            duration_ms: 1000,
            frames: 44100,
            loudness_lufs: None,
            loudness_range_lu: None,
            true_peak_dbtp: None,
            leading_silence_ms: 0,
            trailing_silence_ms: 0,
            tag_title: None,
            tag_artist: None,
        },
        audio_path: "aa/aa.mp3".into(),
        original_name: "Tin ngày 1.mp3".into(),
        state: ApprovalState::Draft,
        added: change,
        approved: None,
        retired: None,
    }
}

#[test]
fn a_commune_user_sees_bulletins_for_every_station_or_its_own_and_no_other() {
    let c = caller(Role::Commune, &["vinh-an"]);
    assert!(visible(&c, &bulletin("chung", &[])));
    assert!(visible(&c, &bulletin("của xã", &["vinh-an", "vinh-tien"])));
    assert!(!visible(&c, &bulletin("xã khác", &["vinh-tien"])));
    assert!(visible(
        &caller(Role::Viewer, &[]),
        &bulletin("xã khác", &["vinh-tien"])
    ));
}

#[test]
fn the_text_filter_finds_words_in_the_title_producer_file_name_and_id() {
    let b = bulletin("Cải cách hành chính", &[]);
    for t in ["cải cách", "văn hóa", "ngày 1", "aaaaaa"] {
        assert!(matches_text(&b, &nfc(t).to_lowercase()), "{t}");
    }
    assert!(!matches_text(&b, "bầu cử"));
}

#[test]
fn a_filter_outside_its_set_is_refused_naming_the_field_and_the_values() {
    let e = parse_field::<Kind>("kind", Some("podcast")).unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    let vi = e.render(Lang::Vi);
    assert!(vi.contains("'podcast'") && vi.contains("news"), "{vi}");
    assert_eq!(parse_field::<Kind>("kind", None).unwrap(), None);
}

#[test]
fn dates_are_taken_as_a_date_input_sends_them_or_as_dd_mm_yyyy() {
    let d = NaiveDate::from_ymd_opt(2026, 3, 1);
    assert_eq!(parse_date("valid_from", "2026-03-01").unwrap(), d);
    assert_eq!(parse_date("valid_from", "01/03/2026").unwrap(), d);
    assert_eq!(parse_date("valid_from", " ").unwrap(), None);
    let e = parse_date("valid_from", "31/02/2026").unwrap_err();
    assert!(e.render(Lang::Vi).contains("dd/mm/yyyy"));
}

#[test]
fn an_aired_bulletin_is_a_conflict_said_in_both_languages() {
    let id = BulletinId::from_sha256(&"b".repeat(64));
    let e = LibraryError::from(StoreError::HasAired { id, count: 2 });
    assert_eq!(e.status(), StatusCode::CONFLICT);
    assert!(e.render(Lang::Vi).contains("đã phát 2 lần"));
    assert!(e.render(Lang::En).contains("retire"));
}

#[test]
fn a_bulletin_id_that_is_not_one_is_simply_not_found() {
    let e = parse_id("../../etc").unwrap_err();
    assert_eq!(e.status(), StatusCode::NOT_FOUND);
}

#[test]
fn a_long_list_is_cut_into_pages_of_fifty_and_a_page_past_the_end_is_the_last() {
    let all: Vec<usize> = (0..2006).collect();
    let (first, page, pages) = super::page_of(&all, 1);
    assert_eq!((first.len(), first[0], page, pages), (50, 0, 1, 41));
    let (last, page, _) = super::page_of(&all, 41);
    assert_eq!((last.len(), last[0], page), (6, 2000, 41));
    assert_eq!(super::page_of(&all, 99).1, 41);
    assert_eq!(super::page_of(&all, 0).1, 1);
    let none: Vec<usize> = vec![];
    assert_eq!(super::page_of(&none, 3), (&none[..], 1, 1));
}
