//! An announcement's own recording: a `file` part of the **Thông báo** form or of
//! `POST /api/v1/stations/{code}/announcements` (multipart), received by the library
//! upload's streaming ([`super::library::upload::receive`]: to disk chunk by chunk, cut off
//! past `[http] upload_max_mb`, the temporary folder removed when the request ends) and added
//! with the library's ingest checks ([`crate::library::service::add_files`]), then retired
//! at once like a spoken announcement ([`super::announce::adopt`]). A refused file leaves
//! no file and no row.

use axum::http::StatusCode;

use crate::access::{Action, Decision};
use crate::lang::{Lang, Render};
use crate::library::service::{add_files, AddItem, AddRequest};
use crate::library::{Bulletin, Kind, Priority, Topic};

use super::announce::{adopt, send, stations_for, AnnounceError, Announcement, Content, Sent};
use super::auth::{Caller, Client};
use super::library::upload::{add_refusal, receive, Received, UploadError};
use super::library::LibraryError;
use super::{ApiError, AppState};

/// Why a recording did not become an announcement's audio.
#[derive(Debug)]
pub enum RecordingError {
    /// The file itself (missing, too large, refused by the ingest checks): said at the
    /// form's file field.
    File(UploadError),
    /// Anything else (the role, the store).
    Other(ApiError),
}

impl RecordingError {
    /// As the API answers it: the status and one English sentence.
    pub fn api(self) -> ApiError {
        match self {
            RecordingError::File(e) => ApiError(e.status(), e.render(Lang::En)),
            RecordingError::Other(e) => e,
        }
    }
}

impl From<LibraryError> for RecordingError {
    fn from(e: LibraryError) -> RecordingError {
        match e {
            LibraryError::Upload(u) => RecordingError::File(u),
            other => RecordingError::Other(ApiError(other.status(), other.render(Lang::En))),
        }
    }
}

/// Whether a request's body is a multipart form.
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// `POST /api/v1/stations/{code}/announcements` as multipart: `level` and a `file` part.
/// The station and the role are checked before the file is read.
pub async fn api(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    code: String,
    request: axum::extract::Request,
) -> Result<Sent, ApiError> {
    use axum::extract::FromRequest;
    // Both waiting and emergency levels are permitted to the same roles: refuse a hidden
    // station (404) or a role that may not (403) before a byte of audio is stored.
    stations_for(state, caller, Priority::Normal, std::slice::from_ref(&code))?;
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("bad multipart body: {}", e.body_text()),
            )
        })?;
    let received = receive(&mut multipart, &state.upload_dir, state.upload_max_bytes)
        .await
        .map_err(|e| RecordingError::File(e).api())?;
    if let Some(k) = received
        .fields
        .keys()
        .find(|k| !matches!(k.as_str(), "level" | "csrf_token"))
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown field '{}' (a recording takes level and file)",
                k.chars().take(40).collect::<String>()
            ),
        ));
    }
    let given = received.fields.get("level").map_or("", String::as_str);
    let level: Priority = given.trim().parse().map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            AnnounceError::Level(given.chars().take(40).collect()).to_string(),
        )
    })?;
    let stations = stations_for(state, caller, level, &[code])?;
    let codes: Vec<String> = stations.iter().map(|(c, _)| c.clone()).collect();
    let b = recorded(state, caller, client, level, &received, &codes)
        .await
        .map_err(RecordingError::api)?;
    let a = Announcement {
        level,
        content: Content::Recorded(b.id),
    };
    send(state, caller, client, stations, &a).await
}

/// The title of a recording: the file's name without its extension.
fn recording_title(file: &std::path::Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("Thông báo: {}", stem.chars().take(80).collect::<String>())
}

/// Adds the one recording `received` carries for `codes` at `level`, as `caller` (who must
/// be allowed to add audio at each station): a `spot` on topic `other`, approved then at
/// once retired; the upload audited.
pub async fn recorded(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    level: Priority,
    received: &Received,
    codes: &[String],
) -> Result<Bulletin, RecordingError> {
    if codes
        .iter()
        .any(|c| caller.decide(Action::BulletinUpload, Some(c)) != Decision::Allowed)
    {
        return Err(RecordingError::Other(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "the {} role may not add audio to the library",
                caller.role()
            ),
        )));
    }
    let file = match received.files.as_slice() {
        [one] => one,
        [] => return Err(RecordingError::File(UploadError::NoFile)),
        _ => {
            return Err(RecordingError::File(UploadError::Field {
                field: "file",
                en: "send one recording per announcement".into(),
                vi: "Mỗi thông báo chỉ gửi một tệp ghi âm.".into(),
            }))
        }
    };
    let who = caller.name();
    let req = AddRequest {
        items: vec![AddItem {
            file: file.clone(),
            title: Some(recording_title(file)),
            kind: Kind::Spot,
            topic: Topic::Other,
            priority: level,
            producer: who.clone(),
            language: "vi".into(),
            valid_from: None,
            valid_until: None,
            stations: codes.to_vec(),
            notes: String::new(),
        }],
        approve: true,
    };
    let added = add_files(
        state.store.as_ref(),
        &state.audio,
        &state.ingest,
        &req,
        &who,
        state.clock.now(),
    )
    .await
    .map_err(|e| RecordingError::from(add_refusal(e)))?;
    adopt(state, caller, client, added, codes, "recording")
        .await
        .map_err(RecordingError::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_is_titled_by_its_file_name() {
        assert_eq!(
            recording_title(std::path::Path::new("/tmp/x/0/Cắt điện.mp3")),
            "Thông báo: Cắt điện"
        );
    }
}
