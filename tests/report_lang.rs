//! The printed report (HTML) and the workbook (XLSX) in one language: a week of the district
//! plan at one commune with unmet rules (too little slot time for three distinct news items,
//! a topic not aired) and incidents (one article's audio deleted) is exported in Vietnamese and in English. The Vietnamese holds no
//! English sentence; the English holds no Vietnamese reason.
//!
//! What is not prose is left out of the check, and only that: code-like tokens (paths,
//! identifiers with `_`, hashes, URLs) and the integrity block's machine key/value table
//! (`integrity-raw`, read by the verifiers in both languages).

mod common;

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use common::report::{export, plan, played};

/// English words of sentences: none may appear in the Vietnamese report. ("an" is left out:
/// it is a Vietnamese word too, as in Vĩnh An.)
const ENGLISH_WORDS: &[&str] = &[
    "the",
    "a",
    "of",
    "and",
    "or",
    "is",
    "are",
    "was",
    "were",
    "not",
    "no",
    "for",
    "to",
    "from",
    "by",
    "at",
    "with",
    "has",
    "have",
    "this",
    "that",
    "each",
    "every",
    "slot",
    "slots",
    "item",
    "items",
    "aired",
    "airs",
    "library",
    "approved",
    "rule",
    "needs",
    "week",
    "missed",
    "failed",
    "reason",
    "station",
    "file",
    "missing",
    "column",
    "spot",
    "spots",
    "topic",
    "topics",
    "quarter",
    "while",
    "played",
    "time",
    "left",
    "allowed",
    "only",
    "report",
    "total",
    "minutes",
    "rows",
    "met",
    "yet",
    "run",
    "blackout",
    "partial",
    "skipped",
    "interrupted",
];

/// Vietnamese words of loa's reasons: none may appear in an English reason.
const VIETNAMESE_WORDS: &[&str] = &[
    "không", "chưa", "phát", "tin", "bài", "tuần", "buổi", "đã", "duyệt", "thư", "viện", "cho",
    "lần", "chuyên", "mục", "khẩu", "hiệu", "giờ", "phút", "giây", "trong", "của", "có", "được",
    "nội", "dung", "tháng", "năm", "quý", "đài", "ngày", "mỗi", "đủ", "cần", "tệp", "tìm", "thấy",
    "lỗi",
];

/// The words of `text` that are prose (code-like tokens dropped), lower case.
fn prose_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|t| !t.contains(['/', '\\', '_', '@', '=']) && !t.contains("://"))
        .flat_map(|t| {
            t.split(|c: char| !c.is_alphanumeric() && c != '\'')
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        // Hashes and fingerprints: long runs of hex digits.
        .filter(|w| !(w.len() >= 8 && w.chars().all(|c| c.is_ascii_hexdigit())))
        .collect()
}

fn found(text: &str, list: &[&str]) -> Vec<String> {
    let mut f: Vec<String> = prose_words(text)
        .into_iter()
        .filter(|w| list.contains(&w.as_str()))
        .collect();
    f.sort();
    f.dedup();
    f
}

/// The visible text of a page: tags, the style sheet and the machine integrity table out.
fn page_text(html: &str) -> String {
    let mut s = html.to_string();
    for (open, close) in [
        ("<style>", "</style>"),
        ("<table class=\"t integrity-raw\">", "</table>"),
        ("<!--", "-->"),
    ] {
        while let Some(i) = s.find(open) {
            let j = s[i..].find(close).map_or(s.len(), |j| i + j + close.len());
            s.replace_range(i..j, " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// The last cell of each row of the page's table of `class`.
fn last_cells(html: &str, class: &str) -> Vec<String> {
    let start = html
        .find(&format!("<table class=\"t {class}\">"))
        .unwrap_or_else(|| panic!("no {class} table"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<tr")
        .skip(1)
        .filter_map(|row| {
            let cells: Vec<&str> = row.split("<td").skip(1).collect();
            cells.last().map(|c| page_text(&format!("<td{c}")))
        })
        .collect()
}

fn sheet_texts(path: &Path, name_prefix: &str) -> Vec<Vec<String>> {
    let mut wb = open_workbook_auto(path).unwrap();
    let names = wb.sheet_names().to_vec();
    let mut rows = Vec::new();
    for n in names.iter().filter(|n| n.starts_with(name_prefix)) {
        let range = wb.worksheet_range(n).unwrap();
        for r in range.rows() {
            rows.push(
                r.iter()
                    .map(|d| match d {
                        Data::String(s) => s.clone(),
                        _ => String::new(),
                    })
                    .collect(),
            );
        }
    }
    rows
}

#[test]
fn the_vietnamese_report_holds_no_english_sentence_and_the_english_no_vietnamese_reason() {
    let loa = played("2023-03-13", "2023-03-19", Some("vinh-an"));
    let p = plan();
    let args = |lang: &'static str| -> Vec<String> {
        [
            "--from",
            "2023-03-13",
            "--to",
            "2023-03-19",
            "--station",
            "vinh-an",
            "--plan",
            &p,
            "--lang",
            lang,
        ]
        .map(str::to_string)
        .to_vec()
    };
    let run = |format: &str, lang: &'static str| {
        let a = args(lang);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        export(&loa, format, &a)
    };

    // The printed page in Vietnamese.
    let vi = std::fs::read_to_string(run("html", "vi")).unwrap();
    let text = page_text(&vi);
    // The week has unmet rules and incidents, or the check would prove nothing.
    assert!(text.contains("Chưa đạt"), "{text}");
    let incidents = last_cells(&vi, "incident-list");
    assert!(!incidents.is_empty(), "no incident listed");
    assert_eq!(found(&text, ENGLISH_WORDS), Vec::<String>::new(), "{text}");

    // The workbook in Vietnamese: every sheet's text cells but the integrity sheet.
    let xlsx = run("xlsx", "vi");
    let mut cells = sheet_texts(&xlsx, "Tổng hợp");
    cells.extend(sheet_texts(&xlsx, "Chi tiết").into_iter().map(|mut r| {
        // Columns that hold codes, not words: kind, topic, status, source, who and the
        // reason as stored (JSON), which the row hash covers.
        for c in [5, 6, 12, 18, 20, 22] {
            if let Some(x) = r.get_mut(c) {
                x.clear();
            }
        }
        r
    }));
    let joined: String = cells.iter().flatten().map(|c| format!("{c}\n")).collect();
    assert!(joined.contains("Chưa đạt"));
    assert_eq!(
        found(&joined, ENGLISH_WORDS),
        Vec::<String>::new(),
        "{joined}"
    );

    // The English page: its reasons (compliance, incidents) hold no Vietnamese word.
    let en = std::fs::read_to_string(run("html", "en")).unwrap();
    let mut reasons = last_cells(&en, "compliance");
    reasons.extend(last_cells(&en, "incident-list"));
    let reasons = reasons.join("\n");
    assert!(reasons.contains("not yet aired"), "{reasons}");
    assert_eq!(
        found(&reasons, VIETNAMESE_WORDS),
        Vec::<String>::new(),
        "{reasons}"
    );
    // The English workbook: the compliance reasons and the detail rows' reasons.
    let xlsx = run("xlsx", "en");
    let detail: Vec<String> = sheet_texts(&xlsx, "Detail")
        .into_iter()
        .skip(1)
        .filter_map(|r| r.get(13).cloned())
        .collect();
    assert!(detail.iter().any(|r| !r.is_empty()), "no detail reason");
    let summary = sheet_texts(&xlsx, "Summary");
    let why = summary
        .iter()
        .find_map(|r| r.iter().position(|c| c == "Why not met"))
        .expect("a compliance table");
    let mut en_reasons: Vec<String> = summary.iter().filter_map(|r| r.get(why).cloned()).collect();
    en_reasons.extend(detail);
    let en_reasons = en_reasons.join("\n");
    assert!(en_reasons.contains("not yet aired"), "{en_reasons}");
    assert_eq!(
        found(&en_reasons, VIETNAMESE_WORDS),
        Vec::<String>::new(),
        "{en_reasons}"
    );
}
