//! Recognises what a file is from its first bytes, before any decoder sees it: the audio
//! containers ingest accepts (so the container is known from the content, never the name),
//! and the things operators upload by mistake (text, HTML error pages saved as `.mp3`,
//! images, archives, PDFs), so the refusal can say what the file really is.
//!
//! Pure: it looks at a byte slice and nothing else.

/// How many bytes of the file's head [`sniff`] wants to see.
pub const HEAD_LEN: usize = 4096;

/// What the head of a file looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// An audio container, named as it is stored ("mp3", "wav", "flac", "ogg", "mp4", "aac").
    Audio(&'static str),
    /// Recognisably not audio; the words say what it is ("an HTML page", "a PNG image", …).
    NotAudio(&'static str),
    /// Nothing recognised; the decoder gets to try.
    Unknown,
}

/// Binary signatures of things that are not audio, checked at offset 0.
const NOT_AUDIO_MAGIC: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"PK\x05\x06", "a ZIP archive (empty)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"%PDF-", "a PDF document"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Microsoft Office document",
    ),
];

/// Looks at the head of a file (ideally its first [`HEAD_LEN`] bytes, fewer if the file is
/// shorter) and says what it is.
pub fn sniff(head: &[u8]) -> Sniffed {
    if let Some(container) = audio_container(head) {
        return Sniffed::Audio(container);
    }
    for (magic, what) in NOT_AUDIO_MAGIC {
        if head.starts_with(magic) {
            return Sniffed::NotAudio(what);
        }
    }
    if is_bmp(head) {
        return Sniffed::NotAudio("a BMP image");
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Sniffed::NotAudio("a WebP image");
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"AVI " {
        return Sniffed::NotAudio("an AVI video");
    }
    if let Some(text) = as_text(head) {
        return Sniffed::NotAudio(kind_of_text(&text));
    }
    Sniffed::Unknown
}

/// "BM" is only two bytes (and starts ordinary words): a BMP also needs a known DIB header
/// size at offset 14.
fn is_bmp(head: &[u8]) -> bool {
    let dib = head
        .get(14..18)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    head.starts_with(b"BM") && matches!(dib, Some(12 | 40 | 52 | 56 | 64 | 108 | 124))
}

/// The audio container whose signature starts `head`, if any.
fn audio_container(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WAVE" {
        return Some("wav");
    }
    if head.starts_with(b"fLaC") {
        return Some("flac");
    }
    if head.starts_with(b"OggS") {
        return Some("ogg");
    }
    if head.len() >= 8 && &head[4..8] == b"ftyp" {
        return Some("mp4");
    }
    if head.starts_with(b"ID3") {
        // An ID3v2 tag usually precedes MP3, but may precede FLAC or ADTS; look past it.
        let after = id3v2_len(head).and_then(|n| head.get(n..));
        return match after.and_then(audio_container) {
            Some(inner) => Some(inner),
            None => Some("mp3"),
        };
    }
    if head.len() >= 2 && head[0] == 0xff && head[1] & 0xf6 == 0xf0 {
        // 12-bit sync and layer 00: AAC in ADTS frames.
        return Some("aac");
    }
    if head.len() >= 2 && head[0] == 0xff && head[1] & 0xe0 == 0xe0 && head[1] & 0x06 != 0 {
        // 11-bit sync and a non-reserved layer: MPEG audio.
        return Some("mp3");
    }
    None
}

/// The length of the ID3v2 tag at the start of `head`, header included.
fn id3v2_len(head: &[u8]) -> Option<usize> {
    let h = head.get(..10)?;
    let size = h[6..10].iter().try_fold(0usize, |acc, b| {
        (b & 0x80 == 0).then_some((acc << 7) | *b as usize)
    })?;
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// `head` as text, when it is text: UTF-8 (a character cut at the end of the head is
/// allowed) or UTF-16 with a byte-order mark, and no control characters besides whitespace.
fn as_text(head: &[u8]) -> Option<String> {
    if head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff") {
        let le = head[0] == 0xff;
        let units: Vec<u16> = head[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let s: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        return is_texty(&s).then_some(s);
    }
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let s = match std::str::from_utf8(body) {
        Ok(s) => s,
        // A multi-byte character cut by the end of the head.
        Err(e) if e.error_len().is_none() && body.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&body[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    is_texty(s).then(|| s.to_string())
}

/// Non-empty and free of control characters other than whitespace.
fn is_texty(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

/// Names a piece of text: HTML, XML, JSON or plain.
fn kind_of_text(text: &str) -> &'static str {
    let start = text.trim_start().to_ascii_lowercase();
    let html_starts = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<!--",
        "<meta",
        "<title",
    ];
    if html_starts.iter().any(|p| start.starts_with(p)) || start.contains("<html") {
        "an HTML page"
    } else if start.starts_with("<?xml") || start.starts_with("<svg") {
        "an XML document"
    } else if start.starts_with('{') || start.starts_with('[') {
        "a JSON or other text document"
    } else {
        "a text file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_image_is_not_audio() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
        assert_eq!(sniff(png), Sniffed::NotAudio("a PNG image"));
    }

    #[test]
    fn jpeg_gif_and_pdf_are_named() {
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Sniffed::NotAudio("a JPEG image")
        );
        assert_eq!(
            sniff(b"GIF89a\x10\0\x10\0"),
            Sniffed::NotAudio("a GIF image")
        );
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3"),
            Sniffed::NotAudio("a PDF document")
        );
    }

    #[test]
    fn archives_are_named() {
        assert!(
            matches!(sniff(b"PK\x03\x04\x14\0\0\0"), Sniffed::NotAudio(w) if w.contains("ZIP"))
        );
        assert_eq!(
            sniff(b"\x1f\x8b\x08\0"),
            Sniffed::NotAudio("a gzip archive")
        );
        assert_eq!(
            sniff(b"7z\xbc\xaf\x27\x1c\0\x04"),
            Sniffed::NotAudio("a 7-Zip archive")
        );
        assert_eq!(
            sniff(b"Rar!\x1a\x07\x01\0"),
            Sniffed::NotAudio("a RAR archive")
        );
    }

    #[test]
    fn an_html_error_page_is_recognised_even_with_a_bom_and_blank_lines() {
        let page = "\u{feff}\n\n  <!DOCTYPE html>\n<html><body>404 Không tìm thấy</body></html>";
        assert_eq!(sniff(page.as_bytes()), Sniffed::NotAudio("an HTML page"));
        assert_eq!(
            sniff(b"<html><head><title>502 Bad Gateway</title>"),
            Sniffed::NotAudio("an HTML page")
        );
    }

    #[test]
    fn a_bmp_needs_its_dib_header_and_text_starting_with_bm_is_text() {
        let mut bmp = b"BM\x36\x03\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(sniff(&bmp), Sniffed::NotAudio("a BMP image"));
        let text = b"BMW and other brands in a plain text file";
        assert_eq!(sniff(text), Sniffed::NotAudio("a text file"));
    }

    #[test]
    fn vietnamese_plain_text_is_a_text_file() {
        let text = "Bản tin cải cách hành chính tuần này\r\nXã Vĩnh Hòa";
        assert_eq!(sniff(text.as_bytes()), Sniffed::NotAudio("a text file"));
    }

    #[test]
    fn text_cut_in_the_middle_of_a_character_is_still_text() {
        let text = "Tin cải cách".as_bytes();
        let cut = &text[..text.len() - 1]; // "h" is ASCII; cut inside "á" instead
        let at = "Tin cả".len() - 1;
        assert_eq!(sniff(&text[..at]), Sniffed::NotAudio("a text file"));
        assert_eq!(sniff(cut), Sniffed::NotAudio("a text file"));
    }

    #[test]
    fn audio_containers_are_recognised_by_their_signatures() {
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Sniffed::Audio("wav"));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Sniffed::Audio("flac"));
        assert_eq!(sniff(b"OggS\0\x02\0\0"), Sniffed::Audio("ogg"));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0"), Sniffed::Audio("mp4"));
        assert_eq!(sniff(b"\xff\xfb\x90\x64\0\0"), Sniffed::Audio("mp3"));
        assert_eq!(sniff(b"\xff\xf1\x50\x80\0\x1f"), Sniffed::Audio("aac"));
    }

    #[test]
    fn an_id3_tag_means_mp3_unless_another_container_follows_it() {
        let mut tagged = b"ID3\x04\0\0\0\0\0\x02xx".to_vec();
        assert_eq!(sniff(&tagged), Sniffed::Audio("mp3"));
        tagged.extend_from_slice(b"fLaC\0\0\0\x22");
        assert_eq!(sniff(&tagged), Sniffed::Audio("flac"));
    }

    #[test]
    fn random_binary_is_left_to_the_decoder() {
        assert_eq!(sniff(&[0u8, 1, 2, 3, 250, 17, 0, 9]), Sniffed::Unknown);
        assert_eq!(sniff(&[]), Sniffed::Unknown);
    }
}
