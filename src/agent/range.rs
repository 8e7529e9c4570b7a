//! The one byte range a media request may ask for (`Range: bytes=A-B`, `bytes=A-`,
//! `bytes=-N`), as the server reads it: a node resumes a cut download from the size of
//! its `.part` file. Several ranges in one request are not served (the whole file is).

/// A range that cannot be served: answered 416 with the file's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// The inclusive byte range `(first, last)` a `Range` header asks of a file of `size`
/// bytes; `None` for the whole file (no header, or one this server does not take).
pub fn parse(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let n = num(b).ok_or(Unsatisfiable)?;
            if n == 0 || size == 0 {
                return Err(Unsatisfiable);
            }
            (size.saturating_sub(n), size - 1)
        }
        (false, true) => (num(a).ok_or(Unsatisfiable)?, size.saturating_sub(1)),
        (false, false) => {
            let (first, last) = (num(a).ok_or(Unsatisfiable)?, num(b).ok_or(Unsatisfiable)?);
            if last < first {
                return Err(Unsatisfiable);
            }
            (first, last.min(size.saturating_sub(1)))
        }
        (true, true) => return Ok(None),
    };
    if range.0 >= size {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_download_asks_from_its_part_size_to_the_end() {
        assert_eq!(parse(Some("bytes=400-"), 1000), Ok(Some((400, 999))));
    }

    #[test]
    fn a_closed_range_is_cut_at_the_end_of_the_file() {
        assert_eq!(parse(Some("bytes=0-99"), 1000), Ok(Some((0, 99))));
        assert_eq!(parse(Some("bytes=900-5000"), 1000), Ok(Some((900, 999))));
    }

    #[test]
    fn a_suffix_range_takes_the_last_bytes() {
        assert_eq!(parse(Some("bytes=-100"), 1000), Ok(Some((900, 999))));
        assert_eq!(parse(Some("bytes=-5000"), 1000), Ok(Some((0, 999))));
    }

    #[test]
    fn a_range_past_the_end_or_backwards_cannot_be_served() {
        assert_eq!(parse(Some("bytes=1000-"), 1000), Err(Unsatisfiable));
        assert_eq!(parse(Some("bytes=50-10"), 1000), Err(Unsatisfiable));
        assert_eq!(parse(Some("bytes=x-"), 1000), Err(Unsatisfiable));
    }

    #[test]
    fn no_range_or_several_ranges_serve_the_whole_file() {
        assert_eq!(parse(None, 1000), Ok(None));
        assert_eq!(parse(Some("bytes=0-1,5-6"), 1000), Ok(None));
        assert_eq!(parse(Some("items=0-1"), 1000), Ok(None));
    }
}
