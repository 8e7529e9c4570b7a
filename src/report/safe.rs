//! Safe cells: what a spreadsheet or a terminal shows of a text cell, reversibly.
//!
//! 1. **Control characters never reach a cell or a terminal.** A backslash is written `\\`
//!    and every control character (U+0000–U+001F, U+007F, U+0080–U+009F) `\uXXXX` (four
//!    hex digits, upper case), so the text reads back exactly ([`unescape`]).
//! 2. **No cell is a formula** (CSV only, as OWASP recommends for CSV injection): a cell
//!    that begins with `=`, `+`, `-`, `@`, a tab, a carriage return or `'` gets a `'` in
//!    front, unless the whole cell is a decimal number such as `-3.5`. (A leading tab or
//!    carriage return is already written `\u0009` or `\u000D` by rule 1, which no
//!    spreadsheet reads as a formula.) `'` is included so the rule reverses: a reader
//!    drops one leading `'` ([`unneutralise`]).
//!
//! The verifiers (`loa airlog verify --export`, `scripts/verify-export.py`) undo both
//! before recomputing row hashes.

/// Whether `s` needs rule 1 (a byte scan; fields are short and this is on the export path).
fn needs_escape(s: &[u8]) -> bool {
    let mut any = false;
    let mut prev = 0u8;
    for &b in s {
        // C1 controls are U+0080–U+009F: 0xC2 followed by 0x80–0x9F in UTF-8.
        any |= b < 0x20 || b == 0x7f || b == b'\\' || (prev == 0xc2 && (0x80..0xa0).contains(&b));
        prev = b;
    }
    any
}

/// Rule 1: backslashes doubled, control characters as `\uXXXX`.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !needs_escape(s.as_bytes()) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Undoes [`escape`]; `None` when `s` holds a backslash sequence escape never writes.
pub fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            '\\' => out.push('\\'),
            'u' => {
                let hex: String = it.by_ref().take(4).collect();
                let v = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)?;
                out.push(char::from_u32(v).filter(|c| c.is_control())?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Whether the whole text is a decimal number (`-3.5`, `12`): a spreadsheet reads it as
/// a number, never as a formula.
fn is_number(s: &[u8]) -> bool {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    !int.is_empty()
        && int.iter().all(u8::is_ascii_digit)
        && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
}

/// Whether rule 2 puts a `'` in front of this (already escaped) cell.
pub fn needs_quote(s: &[u8]) -> bool {
    matches!(
        s.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'')
    ) && !is_number(s)
}

/// What a CSV cell holds for `s`: rules 1 and 2.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let escaped = escape(s);
    if needs_quote(escaped.as_bytes()) {
        std::borrow::Cow::Owned(format!("'{escaped}"))
    } else {
        escaped
    }
}

/// Undoes rule 2 (one leading `'`).
pub fn unneutralise(s: &str) -> &str {
    s.strip_prefix('\'').unwrap_or(s)
}

/// The text a CSV cell stood for (rules 2 then 1 undone); `None` when it cannot be one.
pub fn from_csv_cell(s: &str) -> Option<String> {
    unescape(unneutralise(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_looking_cells_get_a_quote_and_numbers_do_not() {
        for (s, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\tx", "\\u0009x"),
            ("\r=1", "\\u000D=1"),
            ("'quoted", "''quoted"),
            ("-3.5", "-3.5"),
            ("12", "12"),
            ("Tin: Một cửa", "Tin: Một cửa"),
            ("a\\b", "a\\\\b"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(s), want, "{s:?}");
            assert_eq!(from_csv_cell(&csv_cell(s)).as_deref(), Some(s), "{s:?}");
        }
    }

    #[test]
    fn control_characters_never_reach_a_cell() {
        let s = "a\u{1b}[31mđỏ\u{7}\u{0}\u{85}\n";
        let c = csv_cell(s);
        assert!(!c.chars().any(char::is_control), "{c}");
        assert_eq!(c, "a\\u001B[31mđỏ\\u0007\\u0000\\u0085\\u000A");
    }

    #[test]
    fn an_escape_sequence_loa_never_writes_does_not_read_back() {
        for bad in ["\\x", "\\u12", "\\u0041", "end\\"] {
            assert_eq!(unescape(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_reads_back_from_its_cell(s in "\\PC*|[=+\\-@'\\t\\r\\n\\\\\u{1b}\u{85}a0-9.]*") {
            let c = csv_cell(&s);
            proptest::prop_assert!(!c.chars().any(char::is_control));
            proptest::prop_assert!(!matches!(c.as_bytes().first(), Some(b'=' | b'+' | b'@')));
            proptest::prop_assert_eq!(from_csv_cell(&c), Some(s));
        }
    }
}
