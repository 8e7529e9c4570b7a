//! Rule tests of [`super::AirReason`]: every part renders in both languages, the Vietnamese
//! rendering holds no English word, and the stored form parses back exactly.

use proptest::prelude::*;

use super::*;

/// English words that must never appear in a Vietnamese rendering (whole words, any case).
/// Kept beside the test so that a new reason's Vietnamese wording is checked against it.
pub(crate) const ENGLISH_WORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "at",
    "by",
    "for",
    "from",
    "to",
    "was",
    "were",
    "is",
    "not",
    "no",
    "and",
    "or",
    "while",
    "during",
    "before",
    "after",
    "it",
    "item",
    "items",
    "slot",
    "aired",
    "air",
    "played",
    "playing",
    "partial",
    "skipped",
    "failed",
    "interrupted",
    "missed",
    "stopped",
    "cut",
    "end",
    "late",
    "joined",
    "written",
    "resumed",
    "file",
    "audio",
    "missing",
    "changed",
    "library",
    "bulletin",
    "cannot",
    "decoded",
    "decoding",
    "output",
    "fallback",
    "content",
    "scheduled",
    "silent",
    "stayed",
    "fits",
    "crash",
    "power",
    "urgent",
    "announcement",
    "operator",
    "unknown",
    "unavailable",
    "airlog",
    "time",
    "left",
    "expected",
    "recorded",
    "frames",
    "sample",
    "decodes",
    "row",
    "rows",
    "instance",
    "plan",
    "stall",
    "stalled",
    "clock",
    "wall",
    "ahead",
    "alert",
];

/// One value of every part, with Vietnamese values where a value is text people typed
/// (operator, slot and file names); third-party details are short codes.
pub(crate) fn every_part() -> Vec<Reason> {
    let who = "Chị Lan".to_string();
    let file = "/du-lieu/am-thanh/ab12.mp3".to_string();
    let parts = vec![
        Reason::Text {
            text: "ghi chú cũ".into(),
        },
        Reason::Slot {
            name: "Buổi sáng".into(),
        },
        Reason::Resumed { rows: 2 },
        Reason::SlotSummary {
            aired: 1,
            items: 3,
            others: vec![(AirStatus::Failed, 1), (AirStatus::Partial, 1)],
        },
        Reason::FallbackPlayed,
        Reason::Silent,
        Reason::SlotStoppedBy { who: who.clone() },
        Reason::StoppedDuringSlot,
        Reason::CrashDuringSlot,
        Reason::NotInLibrary {
            bulletin: "ab12".into(),
        },
        Reason::Missed {
            at: "05:30:00".into(),
        },
        Reason::NoTimeLeft,
        Reason::FileMissing { file: file.clone() },
        Reason::FileChanged {
            file: file.clone(),
            expected: "ab".into(),
            actual: "cd".into(),
        },
        Reason::FileUnreadable {
            file: file.clone(),
            detail: "EIO".into(),
        },
        Reason::Undecodable {
            file: file.clone(),
            detail: "E42".into(),
        },
        Reason::DecodeFailed {
            file: file.clone(),
            at: "0:01.500".into(),
            detail: "E42".into(),
        },
        Reason::WrongLength {
            file,
            expected: 48_000,
            actual: 47_000,
        },
        Reason::OutputFailed {
            detail: "EPIPE".into(),
        },
        Reason::StoppedWhilePlaying,
        Reason::StoppedPlayedUnknown,
        Reason::CrashWhilePlaying,
        Reason::SkippedBy { who: who.clone() },
        Reason::InterruptedBy {
            who: who.clone(),
            bulletin: "cd34".into(),
        },
        Reason::InterruptedByUrgent {
            who,
            bulletin: "cd34".into(),
        },
        Reason::JoinedLate { at_ms: 12_345 },
        Reason::CutAtSlotEnd,
        Reason::Stalled { ms: 20_345 },
        Reason::WrittenLate {
            from: "2023-03-06T05:30:00Z".into(),
            to: "2023-03-06T05:31:00Z".into(),
        },
        Reason::Journalled {
            at: "2023-03-06T05:32:00Z".into(),
        },
        Reason::OpenRowFailed {
            misfit: crate::airlog::bound::Misfit::LongerThanBulletin {
                claimed_ms: 600_000,
                bulletin_ms: 16_000,
            },
        },
    ];
    // Adding a variant without a sample above fails here, at compile time.
    for p in &parts {
        match p {
            Reason::Text { .. }
            | Reason::Slot { .. }
            | Reason::Resumed { .. }
            | Reason::SlotSummary { .. }
            | Reason::FallbackPlayed
            | Reason::Silent
            | Reason::SlotStoppedBy { .. }
            | Reason::StoppedDuringSlot
            | Reason::CrashDuringSlot
            | Reason::NotInLibrary { .. }
            | Reason::Missed { .. }
            | Reason::NoTimeLeft
            | Reason::FileMissing { .. }
            | Reason::FileChanged { .. }
            | Reason::FileUnreadable { .. }
            | Reason::Undecodable { .. }
            | Reason::DecodeFailed { .. }
            | Reason::WrongLength { .. }
            | Reason::OutputFailed { .. }
            | Reason::StoppedWhilePlaying
            | Reason::StoppedPlayedUnknown
            | Reason::CrashWhilePlaying
            | Reason::SkippedBy { .. }
            | Reason::InterruptedBy { .. }
            | Reason::InterruptedByUrgent { .. }
            | Reason::JoinedLate { .. }
            | Reason::CutAtSlotEnd
            | Reason::Stalled { .. }
            | Reason::WrittenLate { .. }
            | Reason::Journalled { .. }
            | Reason::OpenRowFailed { .. } => {}
        }
    }
    parts
}

/// The English words of [`ENGLISH_WORDS`] found in `s`.
pub(crate) fn english_words_in(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.to_lowercase())
        .filter(|w| ENGLISH_WORDS.contains(&w.as_str()))
        .collect()
}

#[test]
fn every_reason_and_status_renders_in_vietnamese_without_an_english_word() {
    let mut seen = std::collections::HashSet::new();
    for p in every_part() {
        let vi = p.render(Lang::Vi);
        let en = p.render(Lang::En);
        assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{p:?}");
        assert_eq!(english_words_in(&vi), Vec::<String>::new(), "{p:?}: {vi}");
        if !matches!(p, Reason::Text { .. } | Reason::Slot { .. }) {
            assert_ne!(vi, en, "{p:?} is not translated");
        }
        assert!(seen.insert(std::mem::discriminant(&p)), "{p:?} twice");
    }
    for s in AirStatus::ALL {
        let vi = s.render(Lang::Vi);
        assert_eq!(english_words_in(&vi), Vec::<String>::new(), "{s}: {vi}");
        assert_eq!(s.render(Lang::En), s.as_str());
    }
    for s in crate::airlog::status::CueSource::ALL {
        let vi = s.render(Lang::Vi);
        assert_eq!(english_words_in(&vi), Vec::<String>::new(), "{s}: {vi}");
    }
}

#[test]
fn every_way_an_open_row_can_misfit_renders_in_vietnamese_without_an_english_word() {
    for misfit in crate::airlog::bound::Misfit::every() {
        let p = Reason::OpenRowFailed { misfit };
        let vi = p.render(Lang::Vi);
        assert_eq!(english_words_in(&vi), Vec::<String>::new(), "{p:?}: {vi}");
        assert_ne!(vi, p.render(Lang::En));
        let r = AirReason::one(p);
        assert_eq!(AirReason::parse(r.stored()), r);
    }
}

#[test]
fn the_english_rendering_keeps_the_sentences_loa_wrote_before() {
    let r = AirReason::of(vec![
        Reason::Slot {
            name: "Sáng".into(),
        },
        Reason::SlotSummary {
            aired: 1,
            items: 3,
            others: vec![(AirStatus::Failed, 1), (AirStatus::Partial, 1)],
        },
        Reason::SlotStoppedBy {
            who: "Chị Lan".into(),
        },
    ]);
    assert_eq!(
        r.en(),
        "Sáng; 1 of 3 item(s) aired, 1 failed, 1 partial; slot stopped by Chị Lan"
    );
    assert_eq!(
        r.render(Lang::Vi),
        "Sáng; 1/3 mục đã phát, 1 lỗi phát, 1 phát không trọn; Chị Lan dừng khung giờ"
    );
    assert_eq!(r.slot_name(), Some("Sáng"));
    assert_eq!(
        r.render_after_slot_name(Lang::En),
        "1 of 3 item(s) aired, 1 failed, 1 partial; slot stopped by Chị Lan"
    );
}

#[test]
fn a_legacy_free_text_reason_is_shown_as_stored_in_both_languages() {
    let old = "missed: loa was not playing at 05:30:00";
    let r = AirReason::parse(old);
    assert_eq!(r.stored(), old);
    assert_eq!(r.render(Lang::Vi), old);
    assert_eq!(r.render(Lang::En), old);
    let slot = AirReason::parse("Sáng; 2 of 2 item(s) aired");
    assert_eq!(slot.slot_name(), Some("Sáng"));
    assert_eq!(
        slot.render_after_slot_name(Lang::Vi),
        "2 of 2 item(s) aired"
    );
}

#[test]
fn a_closing_adds_its_parts_after_what_the_row_said_when_it_opened() {
    let open = AirReason::one(Reason::Slot {
        name: "Chiều".into(),
    });
    let closed = open.then(&AirReason::one(Reason::Silent));
    assert_eq!(closed.parts().len(), 2);
    assert_eq!(AirReason::parse(closed.stored()), closed);
    // A row opened before the upgrade keeps its old text as the first part.
    let old = AirReason::parse("Chiều").then(&AirReason::one(Reason::CrashDuringSlot));
    assert_eq!(old.slot_name(), Some("Chiều"));
    assert!(old.stored().starts_with('['));
    assert_eq!(AirReason::none().then(&AirReason::none()).stored(), "");
}

#[test]
fn the_stored_form_is_compact_tagged_json() {
    let r = AirReason::of(vec![
        Reason::JoinedLate { at_ms: 12_000 },
        Reason::CutAtSlotEnd,
    ]);
    assert_eq!(
        r.stored(),
        r#"[{"k":"joined_late","at_ms":12000},{"k":"cut_at_slot_end"}]"#
    );
    // Text that only looks like the form is kept as text.
    let edited = r#"[{"k":"cut_at_slot_end"} ]"#;
    assert_eq!(
        AirReason::parse(edited).parts(),
        &[Reason::Text {
            text: edited.into()
        }]
    );
}

fn any_part() -> impl Strategy<Value = Reason> {
    let parts = every_part();
    (0..parts.len(), ".{0,12}", any::<u64>()).prop_map(move |(i, s, n)| match parts[i].clone() {
        Reason::Text { .. } => Reason::Text { text: s },
        Reason::Slot { .. } => Reason::Slot { name: s },
        Reason::SkippedBy { .. } => Reason::SkippedBy { who: s },
        Reason::JoinedLate { .. } => Reason::JoinedLate { at_ms: n },
        other => other,
    })
}

proptest! {
    #[test]
    fn any_stored_text_parses_to_a_reason_that_stores_it_exactly(s in ".{0,40}") {
        let r = AirReason::parse(&s);
        prop_assert_eq!(r.stored(), s.as_str());
    }

    #[test]
    fn any_reason_loa_writes_parses_back_to_the_same_parts(parts in proptest::collection::vec(any_part(), 0..4)) {
        let r = AirReason::of(parts);
        let back = AirReason::parse(r.stored());
        prop_assert_eq!(back.stored(), r.stored());
        prop_assert_eq!(back.parts(), r.parts());
    }
}
