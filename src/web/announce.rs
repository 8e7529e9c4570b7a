//! Announcements (issue 13, **Thông báo**): a bulletin from the library, or typed text that
//! the configured text-to-speech command turns into audio, sent at one of Circular
//! 39/2020's three levels to one station, a chosen group, or all the caller may control.
//! `normal` and `priority` wait for each station's next slot instance (the player places
//! them, [`crate::playout::cues::Layout::slot_with`]); `emergency` interrupts at once, as
//! the urgent command does.
//!
//! One path for the API (`POST /api/v1/stations/{code}/announcements`, JSON) and the
//! console's form ([`super::announce_page`]): the request is checked whole
//! ([`Announcement::parse`]), the stations are confined by [`super::control::targets`]
//! before any work, typed text is ingested through the library's checks, each station's
//! entry is written to the audit trail, then the command goes to each station's player.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::access::{Action, Decision};
use crate::config::TtsCommand;
use crate::library::audio_store::AudioStore;
use crate::library::service::{add_files, AddError, AddItem, AddRequest};
use crate::library::tts::{speak, MAX_TEXT_CHARS};
use crate::library::{
    ApprovalState, Bulletin, BulletinId, IngestOptions, Kind, Priority, StateChange, Topic,
};
use crate::playout::control::{Command, StationHandle};
use crate::playout::cues::Waiting;
use crate::store::{Added, NewAnnouncement};

use super::api::ErrorBody;
use super::auth::{authenticate, Caller, Client};
use super::control::targets;
use super::{serve, ApiError, AppState};

/// What typed announcements need: the command that speaks them and where their audio goes.
#[derive(Debug, Clone)]
pub struct Announcing {
    /// `[announce] tts_command`.
    pub tts: TtsCommand,
    /// The library's audio store (the spoken file is ingested into it).
    pub audio: AudioStore,
    /// The library's ingest checks.
    pub ingest: IngestOptions,
    /// Where the command writes before ingest (`DATA_DIR/tmp`).
    pub scratch: PathBuf,
}

/// The JSON body of `POST /api/v1/stations/{code}/announcements`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnounceBody {
    /// `normal`, `priority` or `emergency`.
    #[schema(value_type = Priority)]
    pub level: String,
    /// A bulletin of the library (approved).
    #[serde(default)]
    pub bulletin_id: Option<String>,
    /// Text to speak.
    #[serde(default)]
    pub text: Option<String>,
}

/// What an announcement airs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A bulletin of the library.
    Bulletin(BulletinId),
    /// Text to speak: NFC, trimmed, 1 to [`MAX_TEXT_CHARS`] characters, no control
    /// characters but line breaks.
    Text(String),
    /// A recording uploaded with the announcement, already added to the library (retired,
    /// so it needs no approval): [`super::announce_recording::recorded`] makes it.
    Recorded(BulletinId),
}

/// A checked announcement request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Its level.
    pub level: Priority,
    /// What airs.
    pub content: Content,
}

/// Why a request is not an announcement, one sentence per field (the console shows each
/// at its field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnounceError {
    /// The level is not one of the three.
    #[error("level '{0}' is not one of normal, priority, emergency")]
    Level(String),
    /// Neither a bulletin nor text.
    #[error("give one of bulletin_id or text")]
    Nothing,
    /// Both a bulletin and text.
    #[error("give bulletin_id or text, not both")]
    Both,
    /// The bulletin id is malformed.
    #[error("bulletin_id: {0}")]
    Bulletin(String),
    /// The text is blank.
    #[error("text is empty")]
    EmptyText,
    /// The text is too long.
    #[error("text is {0} characters long; at most 2000 are taken")]
    LongText(usize),
    /// The text holds a control character.
    #[error("text contains a control character")]
    ControlInText,
}

impl AnnounceError {
    /// The field at fault (`level`, `bulletin_id`, `text`).
    pub fn field(&self) -> &'static str {
        match self {
            AnnounceError::Level(_) => "level",
            AnnounceError::Bulletin(_) => "bulletin_id",
            AnnounceError::Nothing | AnnounceError::Both => "bulletin_id",
            _ => "text",
        }
    }

    /// The sentence in Vietnamese.
    pub fn vi(&self) -> String {
        match self {
            AnnounceError::Level(l) => {
                format!("Mức '{l}' không phải thông thường, ưu tiên hay khẩn cấp.")
            }
            AnnounceError::Nothing => "Hãy chọn một bản tin hoặc nhập nội dung.".into(),
            AnnounceError::Both => "Chỉ chọn bản tin hoặc nhập nội dung, không cả hai.".into(),
            AnnounceError::Bulletin(_) => "Mã bản tin không đúng.".into(),
            AnnounceError::EmptyText => "Nội dung thông báo đang trống.".into(),
            AnnounceError::LongText(n) => {
                format!("Nội dung dài {n} ký tự; tối đa {MAX_TEXT_CHARS} ký tự.")
            }
            AnnounceError::ControlInText => "Nội dung có ký tự điều khiển.".into(),
        }
    }
}

impl Announcement {
    /// Checks a request: a level, and exactly one of a bulletin id or text (blank fields
    /// count as absent).
    pub fn parse(
        level: &str,
        bulletin_id: Option<&str>,
        text: Option<&str>,
    ) -> Result<Announcement, AnnounceError> {
        let level: Priority = level
            .trim()
            .parse()
            .map_err(|_| AnnounceError::Level(level.chars().take(40).collect()))?;
        fn blank(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let content = match (blank(bulletin_id), text) {
            (Some(_), Some(t)) if !t.trim().is_empty() => return Err(AnnounceError::Both),
            (Some(id), _) => Content::Bulletin(
                id.parse()
                    .map_err(|e| AnnounceError::Bulletin(format!("{e}")))?,
            ),
            (None, Some(t)) => Content::Text(clean_text(t)?),
            (None, None) => return Err(AnnounceError::Nothing),
        };
        Ok(Announcement { level, content })
    }
}

/// Typed text as it is spoken: NFC, trimmed, line breaks as `\n`.
fn clean_text(t: &str) -> Result<String, AnnounceError> {
    let text = crate::text::nfc(t.trim()).replace("\r\n", "\n");
    if text.is_empty() {
        return Err(AnnounceError::EmptyText);
    }
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(AnnounceError::LongText(n));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AnnounceError::ControlInText);
    }
    Ok(text)
}

/// What was sent.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// The level.
    pub level: Priority,
    /// The bulletin that airs.
    pub bulletin: String,
    /// Its title.
    pub title: String,
    /// The stations it went to.
    pub stations: Vec<String>,
    /// Whether it waits for each station's next slot instance (normal, priority) or
    /// interrupts now (emergency).
    pub waits_for_next_slot: bool,
    /// The numbers it is kept under while it waits, one per station in `stations`' order
    /// (empty for an emergency, which never waits).
    pub announcements: Vec<i64>,
}

/// The action an announcement at `level` is audited and permitted as.
pub fn action_of(level: Priority) -> Action {
    match level {
        Priority::Emergency => Action::Urgent,
        Priority::Normal | Priority::Priority => Action::Announce,
    }
}

/// The stations of `codes` (codes, or `all`) that `caller` may send `level` to; one that is
/// hidden answers 404, a role that may not 403, before any work is done.
pub fn stations_for(
    state: &AppState,
    caller: &Caller,
    level: Priority,
    codes: &[String],
) -> Result<Vec<(String, StationHandle)>, ApiError> {
    let mut out: Vec<(String, StationHandle)> = Vec::new();
    for code in codes {
        for (c, h) in targets(state, caller, action_of(level), code)? {
            if !out.iter().any(|(o, _)| *o == c) {
                out.push((c, h));
            }
        }
    }
    if out.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "choose at least one station".into(),
        ));
    }
    Ok(out)
}

/// Sends `a` to `stations` for `caller`: the bulletin checked (approved) or the text
/// spoken and ingested, one audit entry per station, then the command to each player.
pub async fn send(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    stations: Vec<(String, StationHandle)>,
    a: &Announcement,
) -> Result<Sent, ApiError> {
    let codes: Vec<String> = stations.iter().map(|(c, _)| c.clone()).collect();
    let (bulletin, spoken) = match &a.content {
        Content::Bulletin(id) => (airable(state, id).await?, false),
        Content::Text(text) => (
            spoken(state, caller, client, a.level, text, &codes).await?,
            true,
        ),
        Content::Recorded(id) => (
            state
                .store
                .bulletin(id)
                .await
                .map_err(ApiError::internal)?
                .ok_or_else(|| {
                    ApiError::internal(format!("the recording {id} is not in the library"))
                })?,
            false,
        ),
    };
    let action = action_of(a.level);
    let who = caller.name();
    // A waiting announcement is kept before anything is sent, so a restart does not lose
    // it (the daemon reloads what still waits).
    let kept: Vec<i64> = if Waiting::of(a.level).is_some() {
        let now = state.clock.now();
        let new: Vec<NewAnnouncement> = codes
            .iter()
            .map(|c| NewAnnouncement {
                station: c.clone(),
                bulletin: bulletin.id,
                level: a.level,
                who: who.clone(),
                sent_at: now,
            })
            .collect();
        state
            .store
            .add_announcements(&new)
            .await
            .map_err(ApiError::internal)?
    } else {
        Vec::new()
    };
    for (i, code) in codes.iter().enumerate() {
        let after = serde_json::json!({
            "level": a.level.as_str(),
            "bulletin": bulletin.id.to_string(),
            "title": bulletin.meta.title,
            "spoken_text": spoken,
            "announcement": kept.get(i),
        });
        let entry = caller
            .audit(state, client, action, Some(code), &bulletin.id.to_string())
            .with_change(None, Some(after));
        state
            .store
            .append_audit(&entry)
            .await
            .map_err(ApiError::internal)?;
    }
    for (i, (_, h)) in stations.iter().enumerate() {
        let cmd = Command::Announce {
            bulletin: Box::new(bulletin.clone()),
            level: a.level,
            who: who.clone(),
            id: kept.get(i).copied(),
        };
        h.commands.send(cmd).await.map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("station {} is stopping", h.name),
            )
        })?;
    }
    tracing::info!(bulletin = %bulletin.id, level = %a.level, who = %who, stations = ?codes, "announcement sent");
    Ok(Sent {
        level: a.level,
        bulletin: bulletin.id.to_string(),
        title: bulletin.meta.title.clone(),
        stations: codes,
        waits_for_next_slot: a.level != Priority::Emergency,
        announcements: kept,
    })
}

/// A library bulletin that may air: known and approved.
async fn airable(state: &AppState, id: &BulletinId) -> Result<Bulletin, ApiError> {
    let b = state
        .store
        .bulletin(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no bulletin with id {id} in the library"),
            )
        })?;
    if b.state != ApprovalState::Approved {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("bulletin {id} is {}; only approved bulletins air", b.state),
        ));
    }
    Ok(b)
}

/// The title of a spoken announcement: its first words.
fn spoken_title(text: &str) -> String {
    let first: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(80)
        .collect();
    format!("Thông báo: {first}")
}

/// Speaks `text` and ingests the audio like an upload: a `spot` on topic `other` for
/// `codes`, at `level`, approved (it airs now) and at once retired, so the weekly builder
/// never rotates a one-off announcement; the upload is audited. A file the library refuses
/// is a 422 naming why.
async fn spoken(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    level: Priority,
    text: &str,
    codes: &[String],
) -> Result<Bulletin, ApiError> {
    let setup = state.announcing.clone();
    let words = text.to_string();
    let file = tokio::task::spawn_blocking(move || speak(&setup.tts, &words, &setup.scratch))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            tracing::error!(error = %e, "text to speech failed");
            ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        })?;
    let who = caller.name();
    let now = state.clock.now();
    let item = AddItem {
        file: file.path.clone(),
        title: Some(spoken_title(text)),
        kind: Kind::Spot,
        topic: Topic::Other,
        priority: level,
        producer: who.clone(),
        language: "vi".into(),
        valid_from: None,
        valid_until: None,
        stations: codes.to_vec(),
        notes: text.to_string(),
    };
    let req = AddRequest {
        items: vec![item],
        approve: true,
    };
    let setup = &state.announcing;
    let added = add_files(
        state.store.as_ref(),
        &setup.audio,
        &setup.ingest,
        &req,
        &who,
        now,
    )
    .await
    .map_err(|e| match e {
        AddError::Store(e) => ApiError::internal(e),
        e => ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the spoken audio was refused: {e}"),
        ),
    })?;
    drop(file);
    adopt(state, caller, client, added, codes, "spoken_text").await
}

/// The bulletin an announcement's audio became, just added to the library (`how`:
/// `spoken_text` or `recording`): the same audio already there airs as it is (an
/// operator's bulletin is never retired here; a draft is refused); a new one is retired at
/// once, so the weekly builder never rotates a one-off announcement; the upload is audited.
pub(super) async fn adopt(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    added: Vec<Added>,
    codes: &[String],
    how: &str,
) -> Result<Bulletin, ApiError> {
    let added = added
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("the announcement's audio was not added"))?;
    let (b, new) = match added {
        Added::New(b) => (b, true),
        Added::Existing(b) => (b, false),
    };
    if b.state == ApprovalState::Draft {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("this audio is already in the library as bulletin {}, a draft; approve it or send it by its id", b.id),
        ));
    }
    let b = if new && b.state == ApprovalState::Approved {
        let change = StateChange {
            by: caller.name(),
            at: state.clock.now(),
        };
        state
            .store
            .set_state(&b.id, ApprovalState::Retired, &change)
            .await
            .map_err(ApiError::internal)?
    } else {
        b
    };
    let entry = caller
        .audit(
            state,
            client,
            Action::BulletinUpload,
            codes.first().map(String::as_str),
            &b.id.to_string(),
        )
        .with_change(
            None,
            Some(serde_json::json!({ "title": b.meta.title, how: true, "stations": codes })),
        );
    state
        .store
        .append_audit(&entry)
        .await
        .map_err(ApiError::internal)?;
    Ok(b)
}

/// `POST /api/v1/stations/{code}/announcements`: JSON `level` and one of `bulletin_id` or
/// `text`, or multipart `level` and a `file` part (a recording, taken with the library
/// upload's limit and checks); `{code}` is a station or `all` (every station the caller
/// may control).
#[utoipa::path(
    post,
    path = "/api/v1/stations/{code}/announcements",
    tag = "on-air",
    params(("code" = String, Path, description = "A station code, or `all` (every station the caller may control)")),
    request_body(description = "JSON: `level` and one of `bulletin_id` or `text`; or multipart: `level` and one `file` part, a recording", content(
        (AnnounceBody = "application/json"),
        (String = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "Sent: it airs in each station's next slot, or now for an emergency", body = Sent),
        (status = 400, description = "A bad body: the level, not exactly one of bulletin_id and text, or a recording the library's checks refused; nothing was stored", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not send at this level, or add spoken or recorded audio; or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such station the caller sees, or no such bulletin", body = ErrorBody),
        (status = 409, description = "The bulletin is not approved", body = ErrorBody),
        (status = 413, description = "A recording over http.upload_max_mb; nothing was stored", body = ErrorBody),
        (status = 422, description = "The spoken audio was refused by the library's checks", body = ErrorBody),
        (status = 503, description = "Text to speech failed, or the station's player is stopping", body = ErrorBody),
    )
)]
pub async fn api(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Json<Sent>, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    if super::announce_recording::is_multipart(&headers) {
        return super::announce_recording::api(&state, &caller, &client, code, request)
            .await
            .map(Json);
    }
    // This route takes uploads, so the API's body limit is applied here.
    let bytes = axum::body::to_bytes(request.into_body(), serve::MAX_BODY)
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is longer than the {} bytes the API takes",
                    serve::MAX_BODY
                ),
            )
        })?;
    let body: AnnounceBody = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("bad request body: {e}")))?;
    let a = Announcement::parse(
        &body.level,
        body.bulletin_id.as_deref(),
        body.text.as_deref(),
    )
    .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let stations = stations_for(&state, &caller, a.level, &[code])?;
    if matches!(a.content, Content::Text(_))
        && stations
            .iter()
            .any(|(c, _)| caller.decide(Action::BulletinUpload, Some(c)) != Decision::Allowed)
    {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "the {} role may not add audio to the library",
                caller.role()
            ),
        ));
    }
    send(&state, &caller, &client, stations, &a).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "aaaaaaaaaaaa";

    #[test]
    fn a_request_takes_a_level_and_exactly_one_of_a_bulletin_or_text() {
        let a = Announcement::parse("priority", Some(ID), None).unwrap();
        assert_eq!(a.level, Priority::Priority);
        assert_eq!(a.content, Content::Bulletin(ID.parse().unwrap()));
        let t = Announcement::parse("emergency", Some("  "), Some(" Bão số 3 ")).unwrap();
        assert_eq!(t.content, Content::Text("Bão số 3".into()));
        assert_eq!(
            Announcement::parse("normal", None, None),
            Err(AnnounceError::Nothing)
        );
        assert_eq!(
            Announcement::parse("normal", Some(ID), Some("x")),
            Err(AnnounceError::Both)
        );
        assert_eq!(
            Announcement::parse("urgent", Some(ID), None),
            Err(AnnounceError::Level("urgent".into()))
        );
    }

    #[test]
    fn typed_text_is_composed_and_bounded() {
        let nfd = "Thie\u{302}\u{301}t ha\u{323}i";
        let a = Announcement::parse("normal", None, Some(nfd)).unwrap();
        assert_eq!(a.content, Content::Text("Thiết hại".into()));
        let long = "ễ".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            Announcement::parse("normal", None, Some(&long)),
            Err(AnnounceError::LongText(MAX_TEXT_CHARS + 1))
        );
        assert_eq!(
            Announcement::parse("normal", None, Some("   ")),
            Err(AnnounceError::EmptyText)
        );
        assert_eq!(
            Announcement::parse("normal", None, Some("a\u{1b}[31m")),
            Err(AnnounceError::ControlInText)
        );
        assert!(Announcement::parse("normal", None, Some("dòng 1\r\ndòng 2")).is_ok());
    }

    #[test]
    fn each_error_names_its_field_and_reads_in_vietnamese() {
        assert_eq!(AnnounceError::Level("x".into()).field(), "level");
        assert_eq!(AnnounceError::Both.field(), "bulletin_id");
        assert_eq!(AnnounceError::LongText(3000).field(), "text");
        assert!(AnnounceError::EmptyText.vi().contains("trống"));
    }

    #[test]
    fn an_emergency_is_audited_as_urgent_and_the_waiting_levels_as_announcements() {
        assert_eq!(action_of(Priority::Emergency), Action::Urgent);
        assert_eq!(action_of(Priority::Normal), Action::Announce);
        assert_eq!(action_of(Priority::Priority), Action::Announce);
    }

    #[test]
    fn a_spoken_title_is_the_first_words_of_the_text() {
        assert_eq!(
            spoken_title("Bão\nsố 3   đang đến"),
            "Thông báo: Bão số 3 đang đến"
        );
        assert_eq!(spoken_title(&"a".repeat(200)).chars().count(), 11 + 80);
    }
}
