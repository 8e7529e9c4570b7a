//! Every reason loa gives people (the airlog's and the plan's: compliance, slots not run,
//! slots left empty), every status word and every kind and topic name, rendered in both
//! languages: the Vietnamese holds no word of [`ENGLISH_WORDS`], the English none of
//! [`VIETNAMESE_WORDS`]. A new variant gets a sample in its module's `every_…` list (the
//! lists fail to compile without one) and is checked here.

use super::{Lang, Render};
use crate::airlog::reason::tests::{every_part, ENGLISH_WORDS as AIRLOG_ENGLISH_WORDS};
use crate::airlog::reason::Reason;
use crate::airlog::status::CueSource;
use crate::airlog::AirStatus;
use crate::library::{Kind, Topic};
use crate::schedule::reason::tests::{every_rule_reason, every_skip_reason};
use crate::schedule::EmptyReason;

/// English words of the plan's reasons, beyond the airlog's ([`AIRLOG_ENGLISH_WORDS`]):
/// none may appear in a Vietnamese rendering (whole words, any case).
const ENGLISH_WORDS: &[&str] = &[
    "library",
    "approved",
    "column",
    "columns",
    "spot",
    "spots",
    "topic",
    "topics",
    "covered",
    "needs",
    "rule",
    "quarter",
    "week",
    "station",
    "distinct",
    "gap",
    "least",
    "allowed",
    "blackout",
    "local",
    "limit",
    "limits",
    "broadcast",
    "sessions",
    "day",
    "each",
    "times",
    "repeat",
    "next",
    "yet",
    "valid",
    "pairs",
    "between",
    "only",
    "but",
    "has",
    "available",
    "news",
    "article",
    "articles",
    "does",
    "exist",
    "run",
    "airs",
    "fewer",
    "than",
    "held",
    "later",
    "excluded",
    "longer",
    "every",
    "that",
];

/// Vietnamese words of loa's own wording: none may appear in an English rendering.
const VIETNAMESE_WORDS: &[&str] = &[
    "không", "chưa", "phát", "tin", "bài", "tuần", "buổi", "đã", "duyệt", "thư", "viện", "cho",
    "lần", "chuyên", "mục", "khẩu", "hiệu", "giờ", "phút", "giây", "trong", "của", "và", "có",
    "được", "nội", "dung", "tháng", "năm", "quý", "đài", "ngày", "giới", "hạn", "mỗi", "đủ", "cần",
    "khác", "nhau", "lượt", "thời", "lượng", "nhật", "ký", "lỗi", "tệp", "kế", "hoạch", "đạt",
    "dừng", "người", "vận", "hành",
];

fn words_in(s: &str, list: &[&str]) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.to_lowercase())
        .filter(|w| list.contains(&w.as_str()))
        .collect()
}

fn english_in(s: &str) -> Vec<String> {
    let mut found = words_in(s, AIRLOG_ENGLISH_WORDS);
    found.extend(words_in(s, ENGLISH_WORDS));
    found
}

/// Checks one rendering pair; `typed` marks text people typed (kept as written).
fn check(what: &str, vi: &str, en: &str, typed: bool) {
    assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{what}");
    assert_eq!(english_in(vi), Vec::<String>::new(), "{what}: {vi}");
    if !typed {
        assert_eq!(
            words_in(en, VIETNAMESE_WORDS),
            Vec::<String>::new(),
            "{what}: {en}"
        );
        assert_ne!(vi, en, "{what} is not translated");
    }
}

/// Checks a page's word table in both languages (their `Debug` texts): each quoted text of
/// the Vietnamese table against the English one at the same place. Texts equal in both
/// (codes, format names) are not words of either language and are skipped.
pub(crate) fn check_word_tables(what: &str, vi_debug: &str, en_debug: &str) {
    fn quoted(s: &str) -> Vec<&str> {
        s.split('"').skip(1).step_by(2).collect()
    }
    let (vi, en) = (quoted(vi_debug), quoted(en_debug));
    assert_eq!(vi.len(), en.len(), "{what}: the two tables differ in shape");
    for (v, e) in vi.iter().zip(&en) {
        if v != e {
            check(what, v, e, false);
        }
    }
}

fn pair(r: &impl Render) -> (String, String) {
    (r.render(Lang::Vi), r.render(Lang::En))
}

#[test]
fn every_reason_and_status_word_renders_in_each_language_without_the_others_words() {
    for p in every_part() {
        let (vi, en) = pair(&p);
        let typed = matches!(p, Reason::Text { .. } | Reason::Slot { .. });
        check(&format!("{p:?}"), &vi, &en, typed);
    }
    for s in AirStatus::ALL {
        let (vi, en) = pair(s);
        check(&format!("{s:?}"), &vi, &en, false);
    }
    for s in CueSource::ALL {
        let (vi, en) = pair(s);
        check(&format!("{s:?}"), &vi, &en, false);
    }
    for a in crate::playout::alert::every_alert() {
        let (vi, en) = pair(&a);
        check(&format!("{a:?}"), &vi, &en, false);
    }
    for r in every_rule_reason() {
        let (vi, en) = pair(&r);
        check(&format!("{r:?}"), &vi, &en, false);
    }
    for r in every_skip_reason() {
        let (vi, en) = pair(&r);
        check(&format!("{r:?}"), &vi, &en, false);
    }
    for r in [
        EmptyReason::NothingValid,
        EmptyReason::TooLong { room_ms: 90_000 },
        EmptyReason::Excluded,
        EmptyReason::Gap { gap_s: 72_000 },
        EmptyReason::HeldForLater,
    ] {
        check(&format!("{r:?}"), &r.vi(), &r.en(), false);
    }
}

#[test]
fn every_kind_and_topic_has_a_vietnamese_name_and_an_english_one() {
    use crate::report::labels;
    for k in Kind::ALL {
        let (vi, en) = (labels::kind(Lang::Vi, *k), labels::kind(Lang::En, *k));
        check(&format!("{k:?}"), vi, en, false);
        let (vi, en) = (
            labels::kind_one(Lang::Vi, *k),
            labels::kind_one(Lang::En, *k),
        );
        check(&format!("{k:?}"), vi, en, false);
    }
    for t in Topic::ALL {
        let (vi, en) = (labels::topic(Lang::Vi, *t), labels::topic(Lang::En, *t));
        check(&format!("{t:?}"), &vi, &en, false);
    }
}
