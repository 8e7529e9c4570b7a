//! Gapless trimming for MP4/M4A: symphonia 0.5 decodes AAC's encoder priming and padding as
//! audio, so the exact length comes from the audio track's edit list (`moov/trak/edts/elst`),
//! which encoders such as ffmpeg write: skip `media_time` frames, keep `segment_duration`.
//!
//! [`inspect`] finds the `moov` box in the file (it may sit after `mdat`), checks its tables
//! against their box sizes (symphonia 0.5 trusts the counts and sizes its allocations by
//! them: a damaged count can abort the process), and [`trim_from_moov`] reads the edit list
//! from its bytes (pure, unit-tested).

use std::io::{self, Read, Seek, SeekFrom};

/// Largest `moov` or `moof` box accepted (an hour of AAC needs well under 1 MB).
const MAX_MOOV: u64 = 16 * 1024 * 1024;

/// Which decoded frames are the program: skip the first `skip`, then keep `keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// Frames of encoder priming to drop at the start.
    pub skip: u64,
    /// Frames of program after that; the rest is padding.
    pub keep: u64,
}

/// What [`inspect`] found in an MP4 file's index boxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Index {
    /// The tables are consistent; the audio track's trim when it has a simple edit list.
    Sound(Option<Trim>),
    /// A table claims more entries than its box holds (or a box is too short for its
    /// fields): symphonia 0.5 would size its allocation by the claim and could abort the
    /// process, so the file is refused before it gets there. The words say which box.
    Damaged(String),
}

/// Walks the top-level boxes of an MP4 file, checks the tables of `moov` (and of every
/// `moof` fragment) against their box sizes, and reads the audio track's trim.
pub fn inspect<R: Read + Seek>(file: &mut R) -> io::Result<Index> {
    file.seek(SeekFrom::Start(0))?;
    let mut pos = 0u64;
    let mut trim = None;
    loop {
        let mut header = [0u8; 8];
        if read_full(file, &mut header)? < 8 {
            return Ok(Index::Sound(trim));
        }
        let mut size = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let mut header_len = 8u64;
        if size == 1 {
            let mut large = [0u8; 8];
            if read_full(file, &mut large)? < 8 {
                return Ok(Index::Sound(trim));
            }
            size = u64::from_be_bytes(large);
            header_len = 16;
        }
        if size != 0 && size < header_len {
            return Ok(Index::Sound(trim));
        }
        let kind = &header[4..8];
        if kind == b"moov" || kind == b"moof" {
            let body_len = if size == 0 {
                MAX_MOOV + 1
            } else {
                size - header_len
            };
            let mut body = Vec::new();
            file.take(body_len.min(MAX_MOOV + 1))
                .read_to_end(&mut body)?;
            if body.len() as u64 > MAX_MOOV {
                return Ok(Index::Damaged(format!(
                    "its index box is larger than {} MB",
                    MAX_MOOV >> 20
                )));
            }
            if let Err(reason) = check_tables(&body, false) {
                return Ok(Index::Damaged(reason));
            }
            if kind == b"moov" {
                trim = trim_from_moov(&body);
            }
        }
        if size == 0 {
            return Ok(Index::Sound(trim));
        }
        pos = match pos.checked_add(size) {
            Some(p) => p,
            None => return Ok(Index::Sound(trim)),
        };
        file.seek(SeekFrom::Start(pos))?;
    }
}

/// Boxes whose children are boxes, and how many bytes of fields come before the children.
fn container_skip(kind: &[u8]) -> Option<usize> {
    match kind {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"mvex" | b"moof" | b"traf"
        | b"udta" | b"ilst" | b"dinf" => Some(0),
        b"meta" => Some(4),
        _ => None,
    }
}

/// Checks that every table in `data` (a box body) fits its box, recursively; `in_ilst` when
/// `data` is the body of an `ilst`, whose children (`©nam`, `©ART`, `----`, …) hold boxes.
fn check_tables(data: &[u8], in_ilst: bool) -> Result<(), String> {
    for (kind, body) in boxes(data) {
        if in_ilst {
            check_tables(body, false)?;
            continue;
        }
        let name = String::from_utf8_lossy(kind).into_owned();
        let count = || be(body, 4, 4).unwrap_or(0);
        let room = |fields: usize| body.len().saturating_sub(fields) as u64;
        let too_many = |count: u64, each: u64, room: u64| {
            Err(format!(
                "its '{name}' table claims {count} entries of {each} bytes in {room} bytes"
            ))
        };
        match kind {
            b"stts" | b"ctts" if count().saturating_mul(8) > room(8) => {
                return too_many(count(), 8, room(8))
            }
            b"stsc" if count().saturating_mul(12) > room(8) => {
                return too_many(count(), 12, room(8))
            }
            b"stco" | b"stss" if count().saturating_mul(4) > room(8) => {
                return too_many(count(), 4, room(8))
            }
            b"co64" if count().saturating_mul(8) > room(8) => return too_many(count(), 8, room(8)),
            b"stsz" => {
                let n = be(body, 8, 4).unwrap_or(0);
                if be(body, 4, 4) == Some(0) && n.saturating_mul(4) > room(12) {
                    return too_many(n, 4, room(12));
                }
            }
            b"hdlr" if body.len() < 24 => return Err(format!("its '{name}' box is too short")),
            b"data" if body.len() < 8 => return Err(format!("its '{name}' box is too short")),
            b"mean" | b"name" if body.len() < 4 => {
                return Err(format!("its '{name}' box is too short"))
            }
            k => {
                if let Some(skip) = container_skip(k) {
                    check_tables(body.get(skip..).unwrap_or_default(), k == b"ilst")?;
                }
            }
        }
    }
    Ok(())
}

/// Reads until `buf` is full or the end; returns the bytes read.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The child boxes of a box body: (type, body).
fn boxes(mut data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
        let kind = data.get(4..8)?;
        let (header, size) = match size {
            1 => {
                let large = u64::from_be_bytes(data.get(8..16)?.try_into().ok()?);
                (16, usize::try_from(large).ok()?)
            }
            0 => (8, data.len()),
            s => (8, s),
        };
        let body = data.get(header..size)?;
        let item = (kind, body);
        data = &data[size..];
        Some(item)
    })
}

/// The body of the first child box of type `kind`.
fn child<'a>(data: &'a [u8], kind: &[u8]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| *k == kind).map(|(_, b)| b)
}

/// Big-endian unsigned integer of `n` bytes at `at`.
fn be(data: &[u8], at: usize, n: usize) -> Option<u64> {
    let bytes = data.get(at..at.checked_add(n)?)?;
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// The timescale of an `mvhd` or `mdhd` body.
fn timescale(full_box: &[u8]) -> Option<u64> {
    let at = if *full_box.first()? == 1 { 20 } else { 12 };
    be(full_box, at, 4).filter(|t| *t > 0)
}

/// The trim of the first sound track in a `moov` body, from a single-segment edit list.
pub fn trim_from_moov(moov: &[u8]) -> Option<Trim> {
    let movie_scale = timescale(child(moov, b"mvhd")?)?;
    let trak = boxes(moov)
        .filter(|(k, _)| *k == b"trak")
        .find_map(|(_, trak)| {
            let mdia = child(trak, b"mdia")?;
            let handler = child(mdia, b"hdlr")?.get(8..12)?;
            (handler == b"soun").then_some(trak)
        })?;
    let media_scale = timescale(child(child(trak, b"mdia")?, b"mdhd")?)?;
    let elst = child(child(trak, b"edts")?, b"elst")?;
    let v1 = *elst.first()? == 1;
    let count = be(elst, 4, 4)?;
    let entry_len = if v1 { 20 } else { 12 };
    let mut program = None;
    for i in 0..usize::try_from(count).ok()? {
        let at = 8usize.checked_add(i.checked_mul(entry_len)?)?;
        let (dur, time) = if v1 {
            (be(elst, at, 8)?, be(elst, at + 8, 8)? as i64)
        } else {
            (
                be(elst, at, 4)?,
                i64::from(be(elst, at + 4, 4)? as u32 as i32),
            )
        };
        if time == -1 {
            // An empty edit (a delay before the audio starts): not a trim we apply.
            return None;
        }
        if program.replace((dur, time)).is_some() {
            // Several segments: an edit beyond gapless trimming.
            return None;
        }
    }
    let (dur, time) = program?;
    let keep = u128::from(dur) * u128::from(media_scale) / u128::from(movie_scale);
    Some(Trim {
        skip: u64::try_from(time).ok()?,
        keep: u64::try_from(keep).ok().filter(|k| *k > 0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    /// A version-0 `mvhd`/`mdhd` body with this timescale.
    fn header(scale: u32) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        v.extend_from_slice(&scale.to_be_bytes());
        v.extend_from_slice(&[0u8; 4]);
        v
    }

    fn moov(handler: &[u8], edits: &[(u32, i32)]) -> Vec<u8> {
        let mut elst = vec![0u8; 4];
        elst.extend_from_slice(&(edits.len() as u32).to_be_bytes());
        for (dur, time) in edits {
            elst.extend_from_slice(&dur.to_be_bytes());
            elst.extend_from_slice(&time.to_be_bytes());
            elst.extend_from_slice(&0x0001_0000u32.to_be_bytes());
        }
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 13]); // reserved, empty name
        let mdia = [bx(b"mdhd", &header(44_100)), bx(b"hdlr", &hdlr)].concat();
        let trak = [bx(b"edts", &bx(b"elst", &elst)), bx(b"mdia", &mdia)].concat();
        [bx(b"mvhd", &header(1000)), bx(b"trak", &trak)].concat()
    }

    #[test]
    fn an_ffmpeg_style_edit_list_skips_the_priming_and_keeps_the_program() {
        let m = moov(b"soun", &[(7000, 1024)]);
        assert_eq!(
            trim_from_moov(&m),
            Some(Trim {
                skip: 1024,
                keep: 308_700
            })
        );
    }

    #[test]
    fn a_video_track_or_a_multi_segment_edit_gives_no_trim() {
        assert_eq!(trim_from_moov(&moov(b"vide", &[(7000, 1024)])), None);
        assert_eq!(
            trim_from_moov(&moov(b"soun", &[(1000, 0), (1000, 5000)])),
            None
        );
        assert_eq!(
            trim_from_moov(&moov(b"soun", &[(500, -1), (1000, 0)])),
            None
        );
    }

    #[test]
    fn the_moov_box_is_found_after_the_media_data() {
        let file = [
            bx(b"ftyp", b"M4A \0\0\0\0"),
            bx(b"mdat", &[7u8; 1000]),
            bx(b"moov", &moov(b"soun", &[(1000, 2048)])),
        ]
        .concat();
        let index = inspect(&mut io::Cursor::new(file)).unwrap();
        let trim = Trim {
            skip: 2048,
            keep: 44_100,
        };
        assert_eq!(index, Index::Sound(Some(trim)));
    }

    #[test]
    fn garbage_boxes_give_no_trim_and_no_panic() {
        assert_eq!(trim_from_moov(&[0, 0, 0, 1, b'm', b'v', b'h', b'd']), None);
        assert_eq!(trim_from_moov(&[0xff; 64]), None);
        let file = [0u8, 0, 0, 3, b'f', b't', b'y', b'p'];
        assert_eq!(
            inspect(&mut io::Cursor::new(file)).unwrap(),
            Index::Sound(None)
        );
    }

    #[test]
    fn a_sample_table_claiming_more_entries_than_it_holds_is_damaged() {
        let mut stsc = vec![0u8; 4];
        stsc.extend_from_slice(&0x8000_0001u32.to_be_bytes());
        stsc.extend_from_slice(&[0u8; 12]);
        let stbl = bx(b"stbl", &bx(b"stsc", &stsc));
        let moov = [
            bx(b"mvhd", &header(1000)),
            bx(b"trak", &bx(b"mdia", &bx(b"minf", &stbl))),
        ]
        .concat();
        let file = [bx(b"ftyp", b"M4A \0\0\0\0"), bx(b"moov", &moov)].concat();
        match inspect(&mut io::Cursor::new(file)).unwrap() {
            Index::Damaged(why) => assert!(why.contains("stsc"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_consistent_index_is_sound() {
        let file = [
            bx(b"ftyp", b"M4A \0\0\0\0"),
            bx(b"moov", &moov(b"soun", &[(7000, 1024)])),
        ]
        .concat();
        assert_eq!(
            inspect(&mut io::Cursor::new(file)).unwrap(),
            Index::Sound(Some(Trim {
                skip: 1024,
                keep: 308_700
            }))
        );
    }
}
