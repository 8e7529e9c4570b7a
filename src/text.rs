//! Text rules for Vietnamese: every stored or shown string is UTF-8 NFC, and names sort in
//! Vietnamese alphabetical order (a ă â b c d đ e ê … with tones after the base letter).

use std::cmp::Ordering;

use unicode_normalization::char::decompose_canonical;
use unicode_normalization::UnicodeNormalization;

/// The NFC form of `s`.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// The Vietnamese alphabet's base letters in order, with the marks that make separate
/// letters (breve, circumflex, horn, bar) folded in. Index = collation weight.
const ALPHABET: &[&str] = &[
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
];

/// Tone marks in their conventional order: none, huyền, hỏi, ngã, sắc, nặng.
const TONES: &[char] = &['\u{300}', '\u{309}', '\u{303}', '\u{301}', '\u{323}'];

/// The collation key of one character: (letter weight, tone weight, original char).
fn char_key(c: char) -> (u32, u8, char) {
    let lower: char = c.to_lowercase().next().unwrap_or(c);
    let mut base = String::new();
    let mut tone = 0u8;
    decompose_canonical(lower, |d| {
        if let Some(i) = TONES.iter().position(|t| *t == d) {
            tone = i as u8 + 1;
        } else {
            base.push(d);
        }
    });
    let base: String = base.nfc().collect();
    match ALPHABET.iter().position(|l| *l == base) {
        Some(i) => (1000 + i as u32, tone, c),
        // Digits, spaces and punctuation sort before letters, by code point.
        None if !lower.is_alphabetic() => (lower as u32 % 1000, tone, c),
        None => (2000 + lower as u32, tone, c),
    }
}

/// Compares two strings in Vietnamese dictionary order: letters first (ă after a, đ after d,
/// ư after u, …), then tones (none, huyền, hỏi, ngã, sắc, nặng), then case.
pub fn cmp_vi(a: &str, b: &str) -> Ordering {
    let ka = a.nfc().map(char_key);
    let kb = b.nfc().map(char_key);
    let letters = ka.clone().map(|k| k.0).cmp(kb.clone().map(|k| k.0));
    letters
        .then_with(|| ka.clone().map(|k| k.1).cmp(kb.clone().map(|k| k.1)))
        .then_with(|| ka.map(|k| k.2).cmp(kb.map(|k| k.2)))
}

/// A sort key that orders as [`cmp_vi`] does, for sorting many strings: each string is
/// normalised and mapped once instead of at every comparison.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyVi {
    letters: Vec<u32>,
    tones: Vec<u8>,
    chars: Vec<char>,
}

/// [`KeyVi`] of `s`.
pub fn key_vi(s: &str) -> KeyVi {
    let keys: Vec<_> = s.nfc().map(char_key).collect();
    KeyVi {
        letters: keys.iter().map(|k| k.0).collect(),
        tones: keys.iter().map(|k| k.1).collect(),
        chars: keys.iter().map(|k| k.2).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_sort_key_orders_as_the_comparison_does(
            a in "[aăâbdđeêioôơuưyAĐƯ àáảãạằẳẵặấầẩẫậ]{0,8}",
            b in "[aăâbdđeêioôơuưyAĐƯ àáảãạằẳẵặấầẩẫậ]{0,8}",
        ) {
            proptest::prop_assert_eq!(key_vi(&a).cmp(&key_vi(&b)), cmp_vi(&a, &b));
        }
    }

    #[test]
    fn decomposed_input_becomes_precomposed() {
        let decomposed = "Vie\u{0323}\u{0302}t"; // "Việt" with combining marks
        assert_eq!(nfc(decomposed), "Việt");
    }

    #[test]
    fn vietnamese_names_sort_in_dictionary_order() {
        let mut names = vec![
            "Vĩnh Tiến",
            "Đa Lộc",
            "Vĩnh An",
            "Ninh Khang",
            "Vĩnh Hùng",
            "Minh Tân",
            "Dân Lực",
            "Ân Thịnh",
            "An Bình",
            "Ăn Mày",
            "Vĩnh Hòa",
            "Ưu Đàm",
            "Uy Vũ",
        ];
        names.sort_by(|a, b| cmp_vi(a, b));
        assert_eq!(
            names,
            vec![
                "An Bình",
                "Ăn Mày",
                "Ân Thịnh",
                "Dân Lực",
                "Đa Lộc",
                "Minh Tân",
                "Ninh Khang",
                "Uy Vũ",
                "Ưu Đàm",
                "Vĩnh An",
                "Vĩnh Hòa",
                "Vĩnh Hùng",
                "Vĩnh Tiến",
            ]
        );
    }

    #[test]
    fn tones_order_after_the_letters() {
        let mut words = vec!["má", "mà", "ma", "mạ", "mã", "mả"];
        words.sort_by(|a, b| cmp_vi(a, b));
        assert_eq!(words, vec!["ma", "mà", "mả", "mã", "má", "mạ"]);
    }

    #[test]
    fn nfc_and_nfd_spellings_compare_equal() {
        assert_eq!(
            cmp_vi("Lộc", &"Lộc".nfd().collect::<String>()),
            Ordering::Equal
        );
    }
}
