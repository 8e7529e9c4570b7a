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
    /// whole sentence of `library add`).
    fn render(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            IngestError::Io { source, .. } => format!("không đọc được tệp: {source}"),
            IngestError::NotRegular { what, .. } => {
                format!("không phải tệp thường ({what}); hãy chọn một tệp âm thanh")
            }
            IngestError::Empty { .. } => "tệp rỗng (0 byte)".into(),
            IngestError::NotAudio { what, .. } => {
                format!("không phải tệp âm thanh: đây là {what}")
            }
            IngestError::UnknownFormat { reason, .. } => {
                format!("định dạng âm thanh không nhận ra hoặc không hỗ trợ ({reason})")
            }
            IngestError::NoAudioTrack { container, .. } => {
                format!("tệp {container} không có rãnh âm thanh")
            }
            IngestError::Undecodable { reason, .. } => {
                format!("không giải mã được rãnh âm thanh: {reason}")
            }
            IngestError::DecodeFailed {
                position, reason, ..
            } => format!(
                "giải mã hỏng ở {position} ({reason}); tệp bị lỗi hoặc không trọn vẹn"
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
    }
}
