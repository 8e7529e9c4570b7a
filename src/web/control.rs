//! The control routes: status, the stations' events as server-sent events, and operator
//! commands to a station (play now or next, skip, stop the slot, urgent announcement).
//! Each asks [`crate::access::rules`] through the [`Caller`]: a station outside the
//! caller's scope answers 404 as if it did not exist, a role that may not act answers 403,
//! status and events show only the stations the caller sees, and every command is recorded
//! in the audit trail (one entry per station) before it is sent.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::access::{Action, Decision};
use crate::lang::Lang;
use crate::library::{ApprovalState, BulletinId};
use crate::playout::control::{Command, PlayedBy, StationHandle};

use super::api::ErrorBody;
use super::auth::{authenticate, Caller, Client};
use super::view::{event_view, status_view};
use super::{serve, ApiError, AppState};

/// The answer for a station the daemon does not play, or the caller may not see.
fn unknown_station(code: &str) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!("station '{code}' is not played by this daemon"),
    )
}

/// The stations `caller` sends `action` to: one code, or `all` (every station played here
/// that the caller may act on).
pub(super) fn targets(
    state: &AppState,
    caller: &Caller,
    action: Action,
    code: &str,
) -> Result<Vec<(String, StationHandle)>, ApiError> {
    let forbidden = || {
        ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "the {} role may not {} (Vai trò {} không được {})",
                caller.role(),
                action,
                caller.role().label_vi(),
                action.label_vi()
            ),
        )
    };
    if code == "all" {
        if !crate::access::rules::role_may(caller.role(), action) {
            return Err(forbidden());
        }
        let mine: Vec<(String, StationHandle)> = state
            .stations
            .iter()
            .filter(|(_, h)| reaches(action, h))
            .filter(|(c, _)| caller.decide(action, Some(c)) == Decision::Allowed)
            .map(|(c, h)| (c.clone(), h.clone()))
            .collect();
        if mine.is_empty() {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                "none of the stations you may control is played by this daemon".into(),
            ));
        }
        return Ok(mine);
    }
    match caller.decide(action, Some(code)) {
        Decision::Hidden => Err(unknown_station(code)),
        Decision::Forbidden => Err(forbidden()),
        Decision::Allowed => {
            let h = state
                .stations
                .get(code)
                .ok_or_else(|| unknown_station(code))?;
            if !reaches(action, h) {
                return Err(ApiError(
                    StatusCode::CONFLICT,
                    format!(
                        "station '{code}' is played by its commune machine: only announcements (and urgent ones) reach it from here (đài '{code}' do máy xã phát: từ đây chỉ gửi được thông báo)"
                    ),
                ));
            }
            Ok(vec![(code.to_string(), h.clone())])
        }
    }
}

/// Whether `action` reaches the station behind `h`: everything reaches a station this
/// daemon plays; only announcements and urgent ones reach a commune machine.
fn reaches(action: Action, h: &StationHandle) -> bool {
    h.played_by == PlayedBy::ThisDaemon || matches!(action, Action::Announce | Action::Urgent)
}

/// Records `action` on each target, then sends `cmd` to each.
pub(super) async fn send(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    action: Action,
    target: Option<&BulletinId>,
    handles: Vec<(String, StationHandle)>,
    cmd: Command,
) -> Result<Json<CommandSent>, ApiError> {
    for (code, _) in &handles {
        let what = target
            .map(|b| b.to_string())
            .unwrap_or_else(|| code.clone());
        state
            .store
            .append_audit(&caller.audit(state, client, action, Some(code), &what))
            .await
            .map_err(ApiError::internal)?;
    }
    for (_, h) in &handles {
        h.commands.send(cmd.clone()).await.map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("station {} is stopping", h.name),
            )
        })?;
    }
    Ok(Json(CommandSent {
        ok: true,
        stations: handles.len(),
    }))
}

/// The language of the words in an answer (`?lang=vi|en`, Vietnamese by default).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// The language of the words (`vi` by default).
    #[serde(default)]
    #[param(inline)]
    lang: Option<Lang>,
}

/// A bad query string: 400 with the parser's sentence.
fn bad_query(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError(
        StatusCode::BAD_REQUEST,
        format!("bad query string: {} (lang is vi or en)", e.body_text()),
    )
}

/// What every station the caller sees is doing (also at `GET /api/status`).
#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "on-air",
    params(LangQuery),
    responses(
        (status = 200, description = "Each station the caller sees, by code: what it plays", body = StatusAnswer),
        (status = 400, description = "A bad query string", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    q: Result<axum::extract::Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    let lang = q.map_err(bad_query)?.0.lang.unwrap_or_default();
    let mut out = serde_json::Map::new();
    for (code, h) in state.stations.iter().filter(|(c, _)| caller.sees(c)) {
        let s = h.status.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut v = status_view(&s, lang);
        if let Some(n) = &s.node {
            v["node_text"] = super::view::node_summary(n, lang, state.timezone).into();
        }
        v["name"] = serde_json::Value::String(h.name.clone());
        out.insert(code.clone(), v);
    }
    Ok(Json(StatusAnswer {
        stations: out,
        lang,
    }))
}

/// Which station's events to stream (`?station=CODE`; all the caller sees by default) and
/// in which language (`?lang=vi|en`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// One station's events (`all` or absent: every station the caller sees).
    station: Option<String>,
    /// The language of the words (`vi` by default).
    #[serde(default)]
    #[param(inline)]
    lang: Option<Lang>,
}

/// The stations' events as they happen, as server-sent events (`event:` the kind, `data:`
/// the JSON), only of the stations the caller sees. A listener too slow to keep up is told
/// how many it missed (also at `GET /api/events`).
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "on-air",
    params(EventsQuery),
    responses(
        (status = 200, description = "Server-sent events: `event:` the kind, `data:` its JSON; never ends", content_type = "text/event-stream"),
        (status = 400, description = "A bad query string", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "A station this daemon does not play or the caller does not see", body = ErrorBody),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    q: Result<axum::extract::Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    use axum::response::sse::{Event as Sse, KeepAlive};
    use tokio::sync::broadcast::error::RecvError;
    let caller = authenticate(&state, &method, &headers, None).await?;
    let q = q.map_err(bad_query)?.0;
    let lang = q.lang.unwrap_or_default();
    let only: Vec<String> = match q.station.as_deref() {
        None | Some("all") => state
            .stations
            .keys()
            .filter(|c| caller.sees(c))
            .cloned()
            .collect(),
        Some(code) if caller.sees(code) && state.stations.contains_key(code) => {
            vec![code.to_string()]
        }
        Some(code) => return Err(unknown_station(code)),
    };
    let rx = state.events.subscribe();
    let stream = futures_util::stream::unfold((rx, only), move |(mut rx, only)| async move {
        loop {
            let sse = match rx.recv().await {
                Ok(e) => {
                    let v = event_view(&e, lang);
                    if !v["station"]
                        .as_str()
                        .is_some_and(|c| only.iter().any(|o| o == c))
                    {
                        continue;
                    }
                    let kind = v["event"].as_str().unwrap_or("event").to_string();
                    Sse::default().event(kind).data(v.to_string())
                }
                Err(RecvError::Lagged(n)) => Sse::default()
                    .event("lagged")
                    .data(serde_json::json!({ "event": "lagged", "missed": n }).to_string()),
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok::<_, std::convert::Infallible>(sse), (rx, only)));
        }
    });
    Ok(axum::response::Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Skips the item on air (also at `POST /api/stations/{code}/skip`).
#[utoipa::path(
    post,
    path = "/api/v1/stations/{code}/skip",
    tag = "on-air",
    params(("code" = String, Path, description = "A station code, or `all` (every station played here the caller may control)")),
    responses(
        (status = 200, description = "Sent to the stations", body = CommandSent),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not skip, or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such station played here the caller sees", body = ErrorBody),
        (status = 503, description = "The station's player is stopping", body = ErrorBody),
    )
)]
pub async fn skip(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<CommandSent>, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    let handles = targets(&state, &caller, Action::Skip, &code)?;
    let who = caller.name();
    send(
        &state,
        &caller,
        &client,
        Action::Skip,
        None,
        handles,
        Command::Skip { who },
    )
    .await
}

/// Stops the slot on air (also at `POST /api/stations/{code}/stop`).
#[utoipa::path(
    post,
    path = "/api/v1/stations/{code}/stop",
    tag = "on-air",
    params(("code" = String, Path, description = "A station code, or `all` (every station played here the caller may control)")),
    responses(
        (status = 200, description = "Sent to the stations", body = CommandSent),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not stop, or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such station played here the caller sees", body = ErrorBody),
        (status = 503, description = "The station's player is stopping", body = ErrorBody),
    )
)]
pub async fn stop(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<CommandSent>, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    let handles = targets(&state, &caller, Action::Stop, &code)?;
    let who = caller.name();
    send(
        &state,
        &caller,
        &client,
        Action::Stop,
        None,
        handles,
        Command::StopSlot { who },
    )
    .await
}

/// The body of play and urgent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlayBody {
    /// The bulletin's id (approved).
    bulletin: String,
    /// Play it after the item on air rather than now (play only).
    #[serde(default)]
    next: bool,
}

/// What a command answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CommandSent {
    /// Always true.
    pub ok: bool,
    /// How many stations it went to.
    pub stations: usize,
}

/// What `GET /api/v1/status` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StatusAnswer {
    /// Each station the caller sees, by code: its name and what it plays.
    #[schema(value_type = Object)]
    pub stations: serde_json::Map<String, serde_json::Value>,
    /// The language of the words.
    pub lang: Lang,
}

/// Parses and checks a bulletin for airing: known and approved.
async fn airable(state: &AppState, text: &str) -> Result<BulletinId, ApiError> {
    let id: BulletinId = text
        .parse()
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{e}")))?;
    let b = state
        .store
        .bulletin(&id)
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
    Ok(id)
}

/// A checked play or urgent request.
struct PlayRequest {
    caller: Caller,
    handles: Vec<(String, StationHandle)>,
    bulletin: BulletinId,
    next: bool,
}

/// A play or urgent request: who asks, for which stations, which checked bulletin.
async fn play_request(
    state: &AppState,
    action: Action,
    code: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Result<Json<PlayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<PlayRequest, ApiError> {
    let caller = authenticate(state, method, headers, None).await?;
    let Json(body) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is longer than the {} bytes the control API takes",
                serve::MAX_BODY
            ),
        ),
        _ => ApiError(
            StatusCode::BAD_REQUEST,
            format!("bad request body: {}", e.body_text()),
        ),
    })?;
    let handles = targets(state, &caller, action, code)?;
    let bulletin = airable(state, &body.bulletin).await?;
    Ok(PlayRequest {
        caller,
        handles,
        bulletin,
        next: body.next,
    })
}

/// Plays a bulletin now (or next) (also at `POST /api/stations/{code}/play`).
#[utoipa::path(
    post,
    path = "/api/v1/stations/{code}/play",
    tag = "on-air",
    params(("code" = String, Path, description = "A station code, or `all` (every station played here the caller may control)")),
    request_body = PlayBody,
    responses(
        (status = 200, description = "Sent to the stations", body = CommandSent),
        (status = 400, description = "A bad body or bulletin id", body = ErrorBody),
        (status = 409, description = "The bulletin is not approved", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not play, or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such station played here the caller sees, or no such bulletin", body = ErrorBody),
        (status = 503, description = "The station's player is stopping", body = ErrorBody),
    )
)]
pub async fn play(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<PlayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<CommandSent>, ApiError> {
    let r = play_request(&state, Action::Play, &code, &method, &headers, body).await?;
    let cmd = Command::Play {
        bulletin: r.bulletin,
        now: !r.next,
        who: r.caller.name(),
    };
    send(
        &state,
        &r.caller,
        &client,
        Action::Play,
        Some(&r.bulletin),
        r.handles,
        cmd,
    )
    .await
}

/// Interrupts whatever plays with an urgent announcement (also at `POST /api/stations/{code}/urgent`).
#[utoipa::path(
    post,
    path = "/api/v1/stations/{code}/urgent",
    tag = "on-air",
    params(("code" = String, Path, description = "A station code, or `all` (every station played here the caller may control)")),
    request_body = PlayBody,
    responses(
        (status = 200, description = "Sent to the stations", body = CommandSent),
        (status = 400, description = "A bad body or bulletin id", body = ErrorBody),
        (status = 409, description = "The bulletin is not approved", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not urgent, or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such station played here the caller sees, or no such bulletin", body = ErrorBody),
        (status = 503, description = "The station's player is stopping", body = ErrorBody),
    )
)]
pub async fn urgent(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<PlayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<CommandSent>, ApiError> {
    let r = play_request(&state, Action::Urgent, &code, &method, &headers, body).await?;
    let cmd = Command::Urgent {
        bulletin: r.bulletin,
        who: r.caller.name(),
    };
    send(
        &state,
        &r.caller,
        &client,
        Action::Urgent,
        Some(&r.bulletin),
        r.handles,
        cmd,
    )
    .await
}
