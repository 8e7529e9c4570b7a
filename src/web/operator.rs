//! The operator's name as a control request carries it, in the `X-Loa-Operator` header: the
//! name's UTF-8 bytes percent-encoded (what `loa ctl` sends: HTTP header values are ASCII
//! by convention) or raw UTF-8 (what a script may send). The name that reaches the airlog
//! is NFC, trimmed, free of control characters and at most [`MAX_CHARS`] characters, so
//! "Nguyễn Văn An" is logged as "Nguyễn Văn An" however it was typed.
//!
//! A raw name whose `%` is followed by two hex digits reads as percent-encoded: send a
//! literal `%` as `%25`.

/// The header.
pub const HEADER: &str = "x-loa-operator";

/// The longest name taken, in characters.
pub const MAX_CHARS: usize = 100;

/// Why a header's name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The bytes (after percent-decoding) are not UTF-8.
    #[error(
        "the X-Loa-Operator header is not UTF-8 (send the name percent-encoded, as `loa ctl` does)"
    )]
    NotUtf8,
    /// Longer than [`MAX_CHARS`].
    #[error("the operator name in X-Loa-Operator is {0} characters long; at most 100 are taken")]
    TooLong(usize),
}

/// Percent-encodes a name for the header: every byte but ASCII letters, digits and `-._~`.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes `raw` when every `%` in it starts a `%XX` escape; `None` otherwise (the
/// bytes are then taken as they are).
fn percent_decoded(raw: &[u8]) -> Option<Vec<u8>> {
    if !raw.contains(&b'%') {
        return None;
    }
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hi = hex(*raw.get(i + 1)?)?;
            let lo = hex(*raw.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The operator name a header value carries: `None` when it is empty or blank.
pub fn decode(raw: &[u8]) -> Result<Option<String>, NameError> {
    let bytes = percent_decoded(raw).unwrap_or_else(|| raw.to_vec());
    let text = String::from_utf8(bytes).map_err(|_| NameError::NotUtf8)?;
    let clean: String = crate::text::nfc(&text)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let name = clean.trim();
    let n = name.chars().count();
    if n > MAX_CHARS {
        return Err(NameError::TooLong(n));
    }
    Ok((!name.is_empty()).then(|| name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "Nguyễn Văn An";

    #[test]
    fn a_percent_encoded_name_reads_back_as_sent() {
        let sent = encode(NAME);
        assert!(sent.is_ascii(), "{sent}");
        assert_eq!(decode(sent.as_bytes()), Ok(Some(NAME.to_string())));
    }

    #[test]
    fn a_raw_utf8_name_is_taken_as_it_is() {
        assert_eq!(decode(NAME.as_bytes()), Ok(Some(NAME.to_string())));
    }

    #[test]
    fn a_decomposed_name_is_logged_composed() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(NAME).collect();
        assert_ne!(nfd, NAME);
        assert_eq!(decode(nfd.as_bytes()), Ok(Some(NAME.to_string())));
        assert_eq!(decode(encode(&nfd).as_bytes()), Ok(Some(NAME.to_string())));
    }

    #[test]
    fn blank_names_are_none_and_control_characters_are_dropped() {
        assert_eq!(decode(b""), Ok(None));
        assert_eq!(decode(b"  %20 "), Ok(None));
        assert_eq!(decode(b"An%0A%1B[31m"), Ok(Some("An[31m".into())));
    }

    #[test]
    fn a_lone_percent_is_taken_literally() {
        assert_eq!(decode(b"100% An"), Ok(Some("100% An".into())));
        assert_eq!(decode(b"An %2"), Ok(Some("An %2".into())));
    }

    #[test]
    fn bytes_that_are_not_utf8_and_overlong_names_are_refused() {
        assert_eq!(decode(b"An \xff"), Err(NameError::NotUtf8));
        assert_eq!(decode(b"%FF"), Err(NameError::NotUtf8));
        let long = "ễ".repeat(MAX_CHARS + 1);
        assert_eq!(
            decode(encode(&long).as_bytes()),
            Err(NameError::TooLong(MAX_CHARS + 1))
        );
        assert!(decode(encode(&"ễ".repeat(MAX_CHARS)).as_bytes()).is_ok());
    }
}
