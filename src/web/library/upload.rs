//! Uploads: a multipart request (`file`, once or several times, and the metadata fields of
//! `loa library add`) streamed to disk chunk by chunk (never held in memory), each file cut
//! off as soon as it passes `[http] upload_max_mb`, then added with the same checks as
//! `library add` ([`crate::library::service::add_files_with`]): all files or none. Whatever
//! happens (a refusal, an oversized file, a dropped connection) the temporary folder is
//! removed when the request ends, so a refused upload leaves no file and no row.
//!
//! A commune user's files arrive as drafts for its own stations; only a role that may
//! approve can ask for `approve`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::multipart::{Field, Multipart};
use axum::http::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::access::{Action, Decision};
use crate::lang::{Lang, Render};
use crate::library::service::{AddError, AddItem, AddRequest};
use crate::library::{Bulletin, IngestError, Kind, Priority, Topic};
use crate::progress::{Progress, Quiet};
use crate::store::Added;

use super::super::auth::{Caller, Client};
use super::super::AppState;
use super::{parse_date, parse_field, split_stations, BulletinView, LibraryError};

/// The most files one upload may carry.
pub const MAX_FILES: usize = 20;
/// The longest text field, in bytes.
pub const MAX_FIELD_BYTES: usize = 16 * 1024;
/// The most text fields one upload may carry.
pub const MAX_FIELDS: usize = 32;

/// Why an upload stored nothing.
#[derive(Debug)]
pub enum UploadError {
    /// No `file` part.
    NoFile,
    /// More than [`MAX_FILES`] files.
    TooManyFiles,
    /// A file passed the configured limit.
    TooLarge {
        /// Its name.
        file: String,
        /// The limit, MB.
        limit_mb: u64,
    },
    /// A file the ingest checks refused (each named, in the sentence of `library add`).
    Refused(Vec<IngestError>),
    /// A metadata field is missing or wrong.
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong, in English.
        en: String,
        /// What is wrong, in Vietnamese.
        vi: String,
    },
    /// The body is not a well-formed multipart form.
    Malformed(String),
    /// Writing the temporary file failed.
    Disk(String),
}

impl UploadError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Disk(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The form field the error belongs at.
    pub fn field(&self) -> &'static str {
        match self {
            UploadError::Field { field, .. } => field,
            _ => "file",
        }
    }

    /// One sentence per refused file, or the one sentence.
    pub fn sentences(&self, lang: Lang) -> Vec<String> {
        match self {
            UploadError::Refused(errors) => errors.iter().map(|e| e.sentence(lang)).collect(),
            other => vec![other.render(lang)],
        }
    }
}

impl Render for UploadError {
    fn render(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            UploadError::NoFile if vi => "Chưa chọn tệp âm thanh nào.".into(),
            UploadError::NoFile => "no file: send the audio as the multipart field 'file'".into(),
            UploadError::TooManyFiles if vi => {
                format!("Mỗi lần chỉ tải lên tối đa {MAX_FILES} tệp.")
            }
            UploadError::TooManyFiles => {
                format!("more than {MAX_FILES} files in one upload")
            }
            UploadError::TooLarge { file, limit_mb } if vi => format!(
                "{file}: tệp lớn hơn giới hạn {limit_mb} MB một tệp (http.upload_max_mb trong loa.toml); không có gì được lưu."
            ),
            UploadError::TooLarge { file, limit_mb } => format!(
                "{file}: the file is larger than the {limit_mb} MB a file may be (http.upload_max_mb in loa.toml); nothing was stored"
            ),
            UploadError::Refused(errors) => errors
                .iter()
                .map(|e| e.sentence(lang))
                .collect::<Vec<_>>()
                .join("; "),
            UploadError::Field { vi: v, .. } if vi => v.clone(),
            UploadError::Field { en, .. } => en.clone(),
            UploadError::Malformed(_) if vi => {
                "Dữ liệu gửi lên không phải biểu mẫu tải lên hợp lệ (bị cắt giữa chừng hoặc sai dạng); không có gì được lưu.".into()
            }
            UploadError::Malformed(e) => format!("the body is not a valid multipart form: {e}"),
            UploadError::Disk(_) if vi => {
                "Máy chủ không ghi được tệp tạm (đĩa đầy hoặc không có quyền ghi); không có gì được lưu.".into()
            }
            UploadError::Disk(e) => format!("cannot write the temporary file on the server: {e}"),
        }
    }
}

impl From<UploadError> for LibraryError {
    fn from(e: UploadError) -> LibraryError {
        LibraryError::Upload(e)
    }
}

/// A folder of one upload's files, removed with everything in it when dropped (the
/// request ended, however it ended).
pub struct Staging {
    /// The folder.
    dir: PathBuf,
}

impl Staging {
    /// A new, empty, private folder under `root`.
    fn new(root: &Path) -> std::io::Result<Staging> {
        let mut bytes = [0u8; 12];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        let dir = root.join(format!("upload-{}", hex::encode(bytes)));
        std::fs::create_dir_all(root)?;
        std::fs::create_dir(&dir)?;
        Ok(Staging { dir })
    }

    /// Where the `n`th file, uploaded as `name`, is written: its own folder, so the file
    /// keeps the name it was uploaded as (the title and the messages use it).
    fn path_for(&self, n: usize, name: &str) -> std::io::Result<PathBuf> {
        let sub = self.dir.join(n.to_string());
        std::fs::create_dir(&sub)?;
        Ok(sub.join(name))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(dir = %self.dir.display(), error = %e, "cannot remove an upload's temporary folder");
            }
        }
    }
}

/// A file name safe to write: its last component, no control or path characters, at most
/// 120 characters, NFC; `upload` when nothing is left.
pub fn safe_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = crate::text::nfc(last)
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "upload".into()
    } else {
        cleaned
    }
}

/// What a multipart upload carried, the files on disk.
pub struct Received {
    /// The files written, with the names they were uploaded as.
    pub files: Vec<PathBuf>,
    /// The text fields, by name (the last value of a repeated field, except `stations`,
    /// which are joined).
    pub fields: std::collections::BTreeMap<String, String>,
    /// The folder holding the files; dropping it removes them.
    pub staging: Staging,
}

/// Streams one file part to `path`, refusing it past `limit` bytes.
async fn write_part(
    field: &mut Field<'_>,
    path: &Path,
    name: &str,
    limit: u64,
) -> Result<(), UploadError> {
    let disk = |e: std::io::Error| UploadError::Disk(e.to_string());
    let mut out = tokio::fs::File::create(path).await.map_err(disk)?;
    let mut written: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| UploadError::Malformed(e.body_text()))?
    {
        written += chunk.len() as u64;
        if written > limit {
            return Err(UploadError::TooLarge {
                file: name.to_string(),
                limit_mb: limit / (1024 * 1024),
            });
        }
        out.write_all(&chunk).await.map_err(disk)?;
    }
    out.sync_all().await.map_err(disk)?;
    Ok(())
}

/// Reads the multipart body: files streamed to a fresh folder under `root`, text fields
/// kept (bounded). `csrf_token` may be the first field (the plain form); it is returned
/// among the fields.
pub async fn receive(
    multipart: &mut Multipart,
    root: &Path,
    limit: u64,
) -> Result<Received, UploadError> {
    let staging = Staging::new(root).map_err(|e| UploadError::Disk(e.to_string()))?;
    let mut files = Vec::new();
    let mut fields = std::collections::BTreeMap::new();
    let mut count = 0usize;
    loop {
        let next = multipart
            .next_field()
            .await
            .map_err(|e| UploadError::Malformed(e.body_text()))?;
        let Some(mut field) = next else { break };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let given = field.file_name().unwrap_or_default().to_string();
            if given.is_empty() {
                // An empty file input of the plain form: no file chosen.
                while field
                    .chunk()
                    .await
                    .map_err(|e| UploadError::Malformed(e.body_text()))?
                    .is_some()
                {}
                continue;
            }
            if files.len() == MAX_FILES {
                return Err(UploadError::TooManyFiles);
            }
            let file_name = safe_name(&given);
            let path = staging
                .path_for(files.len(), &file_name)
                .map_err(|e| UploadError::Disk(e.to_string()))?;
            write_part(&mut field, &path, &file_name, limit).await?;
            files.push(path);
            continue;
        }
        count += 1;
        if count > MAX_FIELDS {
            return Err(UploadError::Malformed(format!(
                "more than {MAX_FIELDS} fields"
            )));
        }
        let mut value = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| UploadError::Malformed(e.body_text()))?
        {
            value.extend_from_slice(&chunk);
            if value.len() > MAX_FIELD_BYTES {
                return Err(UploadError::Malformed(format!(
                    "the field '{}' is longer than {MAX_FIELD_BYTES} bytes",
                    name.chars().take(40).collect::<String>()
                )));
            }
        }
        let value = String::from_utf8(value).map_err(|_| {
            UploadError::Malformed(format!(
                "the field '{}' is not UTF-8 text",
                name.chars().take(40).collect::<String>()
            ))
        })?;
        if name == "stations" {
            let joined = match fields.get("stations") {
                Some(prev) => format!("{prev},{value}"),
                None => value,
            };
            fields.insert(name, joined);
        } else {
            fields.insert(name, value);
        }
    }
    Ok(Received {
        files,
        fields,
        staging,
    })
}

/// A field error in both languages.
fn field_error(field: &'static str, e: LibraryError) -> UploadError {
    match e {
        LibraryError::Upload(u) => u,
        other => UploadError::Field {
            field,
            en: other.render(Lang::En),
            vi: other.render(Lang::Vi),
        },
    }
}

/// A required vocabulary field.
fn required<T: std::str::FromStr<Err = crate::library::bulletin::VocabularyError>>(
    fields: &std::collections::BTreeMap<String, String>,
    field: &'static str,
) -> Result<T, UploadError> {
    let v = fields
        .get(field)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    match parse_field::<T>(field, v).map_err(|e| field_error(field, e))? {
        Some(t) => Ok(t),
        None => Err(UploadError::Field {
            field,
            en: format!("{field}: required"),
            vi: format!("{}: bắt buộc phải chọn.", super::field_vi(field)),
        }),
    }
}

/// Whether a checkbox or flag field is on.
fn flag(fields: &std::collections::BTreeMap<String, String>, name: &str) -> bool {
    fields
        .get(name)
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "on" | "yes"))
}

/// The batch the received files and fields ask for, for `caller`: a commune user's go to
/// its stations (all of them when none is named) and stay drafts.
pub fn request(
    state: &AppState,
    caller: &Caller,
    received: &Received,
) -> Result<AddRequest, LibraryError> {
    let f = &received.fields;
    if received.files.is_empty() {
        return Err(UploadError::NoFile.into());
    }
    let kind: Kind = required(f, "kind")?;
    let topic: Topic = required(f, "topic")?;
    let priority: Priority = parse_field(
        "priority",
        f.get("priority")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty()),
    )
    .map_err(|e| field_error("priority", e))?
    .unwrap_or(Priority::Normal);
    let valid_from = parse_date("valid_from", f.get("valid_from").map_or("", |s| s))
        .map_err(|e| field_error("valid_from", e))?;
    let valid_until = parse_date("valid_until", f.get("valid_until").map_or("", |s| s))
        .map_err(|e| field_error("valid_until", e))?;
    let mut stations = split_stations(f.get("stations").map_or("", |s| s));
    stations.sort();
    stations.dedup();
    if let Some(s) = stations
        .iter()
        .find(|s| !caller.sees(s) || state.plan.station(s).is_none())
    {
        return Err(LibraryError::UnknownStation(s.clone()));
    }
    if let Caller::User { user, .. } = caller {
        if user.grant.role.is_confined() && stations.is_empty() {
            stations = user.grant.stations.clone();
        }
    }
    let approve = flag(f, "approve");
    if approve {
        if let Decision::Forbidden | Decision::Hidden = caller.decide(Action::Approve, None) {
            return Err(LibraryError::Forbidden(caller.role(), Action::Approve));
        }
    }
    let title = f
        .get("title")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if title.is_some() && received.files.len() > 1 {
        return Err(UploadError::Field {
            field: "title",
            en: "title: give a title only when uploading one file (each file is titled from its tag or name)".into(),
            vi: "Tiêu đề: chỉ nhập khi tải lên một tệp (mỗi tệp lấy tiêu đề từ thẻ hoặc tên tệp).".into(),
        }
        .into());
    }
    let text = |k: &str| f.get(k).cloned().unwrap_or_default();
    let language = Some(text("language"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "vi".into());
    Ok(AddRequest {
        items: received
            .files
            .iter()
            .map(|file| AddItem {
                file: file.clone(),
                title: title.clone(),
                kind,
                topic,
                priority,
                producer: text("producer"),
                language: language.clone(),
                valid_from,
                valid_until,
                stations: stations.clone(),
                notes: text("notes"),
            })
            .collect(),
        approve,
    })
}

/// Adds the received files for `caller` (all or none), each new bulletin audited.
pub async fn add(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    received: &Received,
) -> Result<Vec<(bool, Bulletin)>, LibraryError> {
    add_watched(state, caller, client, received, Arc::new(Quiet)).await
}

/// [`add`], telling `progress` how the measurement of each file goes.
pub async fn add_watched(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    received: &Received,
    progress: Arc<dyn Progress>,
) -> Result<Vec<(bool, Bulletin)>, LibraryError> {
    let station = match caller {
        Caller::User { user, .. } if user.grant.role.is_confined() => {
            user.grant.stations.first().cloned()
        }
        _ => None,
    };
    match caller.decide(Action::BulletinUpload, station.as_deref()) {
        Decision::Allowed => {}
        _ => {
            return Err(LibraryError::Forbidden(
                caller.role(),
                Action::BulletinUpload,
            ))
        }
    }
    let req = request(state, caller, received)?;
    let added = crate::library::service::add_files_with(
        state.store.as_ref(),
        &state.audio,
        &state.ingest,
        &req,
        &caller.name(),
        state.clock.now(),
        progress,
    )
    .await
    .map_err(add_refusal)?;
    let mut out = Vec::new();
    for a in added {
        let new = matches!(a, Added::New(_));
        let b = a.bulletin().clone();
        if new {
            let target = b.meta.stations.first().cloned().or(station.clone());
            let mut draft = caller.audit(
                state,
                client,
                Action::BulletinUpload,
                target.as_deref(),
                b.id.as_str(),
            );
            draft.after = serde_json::to_string(&serde_json::json!({
                "title": b.meta.title,
                "file": b.original_name,
                "state": b.state,
                "stations": b.meta.stations,
            }))
            .ok();
            state
                .store
                .append_audit(&draft)
                .await
                .map_err(LibraryError::from)?;
        }
        out.push((new, b));
    }
    Ok(out)
}

/// Why the library refused an upload's files, as the upload says it (each file's refusal at
/// the files, a metadata problem at its field); the announcements' recordings say it the
/// same way.
pub fn add_refusal(e: AddError) -> LibraryError {
    match e {
        AddError::Refused(errors) => LibraryError::Upload(UploadError::Refused(errors)),
        AddError::Item { file, problem } => {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // The form has no language field: its refusal shows at the files.
            let field = match problem.field() {
                "language" => "file",
                f => f,
            };
            LibraryError::Upload(UploadError::Field {
                field,
                en: format!("{name}: {problem}"),
                vi: format!("{name}: {}.", problem.render(Lang::Vi)),
            })
        }
        AddError::BadRequest(m) => {
            tracing::error!(error = %m, "an upload's batch was refused");
            LibraryError::Internal(m)
        }
        AddError::AudioStore { source, .. } => LibraryError::Internal(source.to_string()),
        AddError::Store(s) => LibraryError::from(s),
    }
}

/// What an upload answers: each bulletin, and whether it is new (an upload of audio
/// already in the library finds the bulletin there, unchanged).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// Whether it was added now.
    pub new: bool,
    /// The bulletin.
    #[serde(flatten)]
    pub bulletin: BulletinView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploaded_name_keeps_its_last_component_without_path_or_control_characters() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\Users\\x\\tin bài.mp3"), "tin bài.mp3");
        assert_eq!(safe_name("a\u{0}b\n.mp3"), "ab.mp3");
        assert_eq!(safe_name(".."), "upload");
        assert_eq!(safe_name(""), "upload");
        assert_eq!(safe_name(&"ữ".repeat(300)).chars().count(), 120);
    }

    #[test]
    fn a_staging_folder_is_removed_with_its_files_when_dropped() {
        let root = std::env::temp_dir().join(format!("loa-staging-{}", std::process::id()));
        let staging = Staging::new(&root).unwrap();
        let p = staging.path_for(0, "a.mp3").unwrap();
        std::fs::write(&p, b"x").unwrap();
        let dir = staging.dir.clone();
        drop(staging);
        assert!(!dir.exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn an_oversized_file_names_itself_and_the_config_key_in_both_languages() {
        let e = UploadError::TooLarge {
            file: "dài.mp3".into(),
            limit_mb: 1,
        };
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.render(Lang::Vi).contains("dài.mp3"));
        assert!(e.render(Lang::Vi).contains("http.upload_max_mb"));
        assert!(e.render(Lang::En).contains("1 MB"));
    }
}
