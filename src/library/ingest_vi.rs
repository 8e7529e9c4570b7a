//! Why a file was refused, in the operator's language ([`Render`]): the console shows the
//! same one sentence as `loa library add` prints, in Vietnamese, naming the file by the
//! name it was uploaded under (never the server's temporary path).

use std::path::Path;

use crate::lang::{Lang, Render};

use super::ingest::IngestError;

/// The file's name as the operator knows it: its last component.
fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl IngestError {
    /// The sentence in `lang`, naming the file by its name alone.
    pub fn sentence(&self, lang: Lang) -> String {
        let file = name(self.path());
        match lang {
            Lang::En => {
                let full = self.to_string();
                let path = self.path().display().to_string();
                match full.strip_prefix(&path) {
                    Some(rest) => format!("{file}{rest}"),
                    None => full,
                }
            }
            Lang::Vi => format!("{file}: {}", self.render(Lang::Vi)),
        }
    }
}

impl Render for IngestError {
    /// What is wrong with the file (without its name in Vietnamese; English is the
    /// whole sentence of `library add`). The decoder's and the system's own words are
    /// English, so the Vietnamese leaves them out (the log keeps them) and says what the
    /// operator can do.
    fn render(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            IngestError::Io { .. } => {
                "máy chủ không đọc được tệp; hãy gửi lại".into()
            }
            IngestError::NotRegular { what, .. } => {
                format!("không phải tệp thường ({}); hãy chọn một tệp âm thanh", what_vi(what))
            }
            IngestError::Empty { .. } => "tệp rỗng (0 byte)".into(),
            IngestError::NotAudio { what, .. } => {
                format!("không phải tệp âm thanh: đây là {}", what_vi(what))
            }
            IngestError::UnknownFormat { .. } => {
                "định dạng âm thanh không nhận ra hoặc không hỗ trợ; hãy gửi MP3, AAC (M4A), FLAC, Ogg Vorbis hoặc WAV".into()
            }
            IngestError::NoAudioTrack { container, .. } => {
                format!("tệp {container} không có rãnh âm thanh")
            }
            IngestError::Undecodable { .. } => {
                "không giải mã được rãnh âm thanh (mã hóa không được hỗ trợ); hãy gửi MP3, AAC (M4A), FLAC, Ogg Vorbis hoặc WAV".into()
            }
            IngestError::DecodeFailed { position, .. } => format!(
                "giải mã hỏng ở {position}; tệp bị lỗi hoặc không trọn vẹn, hãy xuất lại hoặc gửi lại tệp"
            ),
            IngestError::ZeroDuration { .. } => "âm thanh dài 0 giây".into(),
            IngestError::NonFinite { position, .. } => format!(
                "âm thanh có mẫu không phải số hữu hạn (NaN hoặc vô cực) ở {position}; hãy xuất lại từ phần mềm biên tập"
            ),
            IngestError::TooShort {
                length, minimum, ..
            } => format!(
                "âm thanh dài {length}, ngắn hơn mức tối thiểu {minimum} của một bản tin (ingest.min_duration_ms)"
            ),
        }
    }
}

/// What a file is, in Vietnamese, from the English words content sniffing and the file
/// system use ([`crate::library::sniff`], [`crate::library::regular`]).
fn what_vi(what: &str) -> &'static str {
    match what {
        "a PNG image" => "ảnh PNG",
        "a JPEG image" => "ảnh JPEG",
        "a GIF image" => "ảnh GIF",
        "a BMP image" => "ảnh BMP",
        "a WebP image" => "ảnh WebP",
        "an AVI video" => "video AVI",
        "a ZIP archive (or an office document)" => "tệp nén ZIP (hoặc tài liệu văn phòng)",
        "a ZIP archive (empty)" => "tệp nén ZIP rỗng",
        "a gzip archive" => "tệp nén gzip",
        "a 7-Zip archive" => "tệp nén 7-Zip",
        "a RAR archive" => "tệp nén RAR",
        "a PDF document" => "tài liệu PDF",
        "an old Microsoft Office document" => "tài liệu Microsoft Office kiểu cũ",
        "an HTML page" => "trang HTML",
        "an XML document" => "tài liệu XML",
        "a JSON or other text document" => "tài liệu JSON hoặc văn bản khác",
        "a text file" => "tệp văn bản",
        "a named pipe (FIFO)" => "ống dẫn có tên (FIFO)",
        "a character device" => "thiết bị ký tự",
        "a block device" => "thiết bị khối",
        "a socket" => "socket",
        "a folder" | "a directory" => "thư mục",
        _ => "một loại tệp khác",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn a_refusal_names_the_uploaded_file_not_the_temporary_path_in_both_languages() {
        let e = IngestError::Empty {
            path: PathBuf::from("/data/tmp/upload-1a2b/bản tin.mp3"),
        };
        assert_eq!(
            e.sentence(Lang::En),
            "bản tin.mp3: the file is empty (0 bytes)"
        );
        assert_eq!(e.sentence(Lang::Vi), "bản tin.mp3: tệp rỗng (0 byte)");
    }

    #[test]
    fn a_decoding_failure_in_vietnamese_says_where_and_why() {
        let e = IngestError::DecodeFailed {
            path: PathBuf::from("x/tin.mp3"),
            position: "0:01.500".into(),
            reason: "invalid main_data offset".into(),
        };
        let vi = e.sentence(Lang::Vi);
        assert!(vi.starts_with("tin.mp3: giải mã hỏng ở 0:01.500"), "{vi}");
        assert!(!vi.contains("main_data"), "{vi}");
    }

    #[test]
    fn what_a_refused_file_is_is_said_in_vietnamese_whatever_sniffing_found() {
        for (head, vi) in [
            (&b"<!DOCTYPE html><html>"[..], "trang HTML"),
            (&b"%PDF-1.7\n"[..], "tài liệu PDF"),
            (
                &b"Xin ch\xc3\xa0o, \xc4\x91\xc3\xa2y l\xc3\xa0 v\xc4\x83n b\xe1\xba\xa3n\n"[..],
                "tệp văn bản",
            ),
        ] {
            let crate::library::sniff::Sniffed::NotAudio(what) = crate::library::sniff::sniff(head)
            else {
                panic!("{head:?} sniffed as audio");
            };
            assert_eq!(what_vi(what), vi);
        }
        assert_eq!(what_vi("something new"), "một loại tệp khác");
    }
}
