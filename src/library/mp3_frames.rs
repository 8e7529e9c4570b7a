//! Whether an MP3 without a LAME/Xing header ends part-way through a frame.
//!
//! symphonia reports the end of an MP3 the same way whether the file ends cleanly after its
//! last frame or in the middle of one, and without a LAME/Xing header there is no announced
//! length to compare with. [`ends_mid_frame`] walks the frame headers (skipping an ID3v2 tag
//! at the start, stopping at ID3v1/APE/Lyrics tags at the end, resyncing over junk) and says
//! whether the last frame runs past the end of the file: an interrupted upload.

use std::io::{self, BufRead, BufReader, Read, Seek};

/// The fields of a frame header that must stay the same from frame to frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stream {
    /// MPEG version bits (0: 2.5, 2: 2, 3: 1).
    version: u8,
    /// Layer bits (1: III, 2: II, 3: I).
    layer: u8,
    /// Sample rate in Hz.
    rate: u32,
}

/// The stream fields and the frame length in bytes of the header `h`, when it is valid
/// (free-format frames have no computable length and count as invalid).
fn parse_header(h: [u8; 4]) -> Option<(Stream, u64)> {
    if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (h[1] >> 3) & 3;
    let layer = (h[1] >> 1) & 3;
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 3);
    let padding = u64::from((h[2] >> 1) & 1);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const RATES: [u32; 3] = [44_100, 48_000, 32_000];
    let rate = RATES[rate_index]
        >> if version == 3 {
            0
        } else if version == 2 {
            1
        } else {
            2
        };
    // MPEG-1 Layer III, II, I.
    const V1: [[u32; 15]; 3] = [
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
    ];
    // MPEG-2/2.5 Layer II and III, Layer I.
    const V2: [[u32; 15]; 2] = [
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
    ];
    // Layer bits: 1 = III, 2 = II, 3 = I.
    let kbps = match (version == 3, layer) {
        (true, l) => V1[usize::from(l - 1)][bitrate_index],
        (false, 3) => V2[1][bitrate_index],
        (false, _) => V2[0][bitrate_index],
    };
    let bps = u64::from(kbps) * 1000;
    let rate64 = u64::from(rate);
    let len = match (layer, version == 3) {
        (3, _) => (12 * bps / rate64 + padding) * 4,
        (2, _) | (1, true) => 144 * bps / rate64 + padding,
        _ => 72 * bps / rate64 + padding,
    };
    Some((
        Stream {
            version,
            layer,
            rate,
        },
        len,
    ))
}

/// Whether the MP3 in `file` (of `len` bytes) ends inside a frame.
pub fn ends_mid_frame<R: Read + Seek>(file: R, len: u64) -> io::Result<bool> {
    let mut r = BufReader::with_capacity(64 * 1024, file);
    r.rewind()?;
    let mut pos = 0u64;
    let mut head = [0u8; 10];
    if read_full(&mut r, &mut head)? == 10 && head.starts_with(b"ID3") {
        let size = head[6..10]
            .iter()
            .fold(0u64, |a, b| (a << 7) | u64::from(b & 0x7f));
        let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
        pos = 10 + size + footer;
    }
    r.seek(io::SeekFrom::Start(pos))?;
    let mut stream: Option<Stream> = None;
    loop {
        let mut h = [0u8; 4];
        let got = read_full(&mut r, &mut h)?;
        if got < 4 {
            // Fewer than 4 bytes left: clean unless they start a frame header.
            return Ok(stream.is_some()
                && got > 0
                && h[0] == 0xff
                && (got < 2 || h[1] & 0xe0 == 0xe0));
        }
        match parse_header(h) {
            Some((s, frame_len)) if stream.is_none_or(|first| first == s) => {
                stream = Some(s);
                let end = pos.saturating_add(frame_len);
                if end > len {
                    return Ok(true);
                }
                r.seek_relative(i64::try_from(frame_len).unwrap_or(i64::MAX) - 4)?;
                pos = end;
            }
            _ => {
                if h.starts_with(b"TAG") || h == *b"APET" || h == *b"LYRI" {
                    return Ok(false);
                }
                // Junk: resync one byte further on.
                r.seek_relative(-3)?;
                pos += 1;
            }
        }
    }
}

/// Reads until `buf` is full or the end; returns the bytes read.
fn read_full<R: BufRead>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// MPEG-1 Layer III, 128 kb/s, 44.1 kHz, no padding: 417-byte frames.
    const HEADER: [u8; 4] = [0xff, 0xfb, 0x90, 0x64];

    fn frames(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.extend_from_slice(&HEADER);
            v.extend(std::iter::repeat_n(0x55u8, 413));
        }
        v
    }

    fn check(bytes: &[u8]) -> bool {
        ends_mid_frame(Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    #[test]
    fn a_128k_frame_is_417_bytes() {
        assert_eq!(parse_header(HEADER).map(|(_, l)| l), Some(417));
    }

    #[test]
    fn whole_frames_end_cleanly_even_with_tags_around_them() {
        assert!(!check(&frames(5)));
        let mut tagged = b"ID3\x03\x00\x00\x00\x00\x00\x04abcd".to_vec();
        tagged.extend(frames(3));
        tagged.extend_from_slice(b"TAG");
        tagged.extend(std::iter::repeat_n(b' ', 125));
        assert!(!check(&tagged));
    }

    #[test]
    fn a_file_cut_inside_a_frame_ends_mid_frame() {
        let f = frames(5);
        assert!(check(&f[..417 * 3 + 200]));
        assert!(check(&f[..417 * 3 + 2]));
    }

    #[test]
    fn junk_between_frames_is_skipped() {
        let mut f = frames(2);
        f.extend_from_slice(b"\0\0junk");
        f.extend(frames(2));
        assert!(!check(&f));
    }

    #[test]
    fn empty_and_garbage_input_does_not_end_mid_frame() {
        assert!(!check(b""));
        assert!(!check(&[0x12; 1000]));
    }
}
