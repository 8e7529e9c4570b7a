//! The control API of a running daemon (axum): status, the stations' events as a
//! server-sent event stream, and operator commands to a station (play now or next, skip,
//! stop the slot, urgent announcement). Every request needs the bearer token from the
//! config; bad requests get a 4xx with one clear sentence.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::lang::{Lang, Render};
use crate::library::{ApprovalState, BulletinId};
use crate::playout::control::{Command, Event, StationHandle};
use crate::store::Store;

pub mod agent;
pub mod operator;
pub mod serve;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The stations this daemon plays.
    pub stations: Arc<BTreeMap<String, StationHandle>>,
    /// The store (to check bulletins).
    pub store: Arc<dyn Store>,
    /// The bearer token.
    pub token: String,
    /// Every station's events.
    pub events: tokio::sync::broadcast::Sender<Event>,
}

/// An API error: a status and one sentence.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/api/status", get(status))
        .route("/api/events", get(events))
        .route("/api/stations/{code}/skip", post(skip))
        .route("/api/stations/{code}/stop", post(stop))
        .route("/api/stations/{code}/play", post(play))
        .route("/api/stations/{code}/urgent", post(urgent))
        .with_state(state);
    serve::with_limits(routes)
}

/// Checks the bearer token in constant time and returns the operator's name.
fn authorise(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (a, b) = (given.as_bytes(), state.token.as_bytes());
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if !same {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token (Authorization: Bearer TOKEN, from http.token in loa.toml)"
                .into(),
        ));
    }
    let who = match headers.get(operator::HEADER) {
        Some(v) => operator::decode(v.as_bytes())
            .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?,
        None => None,
    };
    Ok(who.unwrap_or_else(|| "api".into()))
}

/// The stations a command is for: one code, or `all`.
fn targets<'a>(state: &'a AppState, code: &str) -> Result<Vec<&'a StationHandle>, ApiError> {
    if code == "all" {
        return Ok(state.stations.values().collect());
    }
    state.stations.get(code).map(|h| vec![h]).ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("station '{code}' is not played by this daemon"),
        )
    })
}

async fn send(
    handles: Vec<&StationHandle>,
    cmd: Command,
) -> Result<Json<serde_json::Value>, ApiError> {
    for h in &handles {
        h.commands.send(cmd.clone()).await.map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("station {} is stopping", h.name),
            )
        })?;
    }
    Ok(Json(
        serde_json::json!({ "ok": true, "stations": handles.len() }),
    ))
}

/// The language of the words in an answer (`?lang=vi|en`, Vietnamese by default).
#[derive(Debug, Deserialize)]
struct LangQuery {
    #[serde(default)]
    lang: Lang,
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<axum::extract::Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorise(&state, &headers)?;
    let lang = q.map_err(bad_query)?.0.lang;
    let mut out = serde_json::Map::new();
    for (code, h) in state.stations.iter() {
        let s = h.status.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut v = status_view(&s, lang);
        v["name"] = serde_json::Value::String(h.name.clone());
        out.insert(code.clone(), v);
    }
    Ok(Json(serde_json::json!({ "stations": out, "lang": lang })))
}

/// A bad query string: 400 with the parser's sentence.
fn bad_query(e: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError(
        StatusCode::BAD_REQUEST,
        format!("bad query string: {} (lang is vi or en)", e.body_text()),
    )
}

/// A station's status as the API shows it: values as codes, and beside each value people
/// read its words in `lang` (`alerts` are the words, `alert_codes` the values).
fn status_view(s: &crate::playout::control::Status, lang: Lang) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["alert_codes"] = v["alerts"].take();
    v["alerts"] = s.alerts.iter().map(|a| a.render(lang)).collect();
    if let Some(on_air) = &s.on_air {
        v["on_air"]["source_text"] = on_air.source.render(lang).into();
    }
    v
}

/// An event as the API shows it: its values as codes and, beside each value people read,
/// its words in `lang` (`reason` and `summary` are words, `reason_stored` and
/// `summary_stored` the airlog's stored form; an alert's `message` is words, `alert` its
/// value).
fn event_view(e: &Event, lang: Lang) -> serde_json::Value {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    match e {
        Event::SlotStarted { .. } => {}
        Event::ItemStarted { source, .. } => {
            v["source_text"] = source.render(lang).into();
        }
        Event::ItemEnded { status, reason, .. } => {
            v["status_text"] = status.render(lang).into();
            v["reason_stored"] = v["reason"].take();
            v["reason"] = reason.render(lang).into();
        }
        Event::SlotEnded {
            status, summary, ..
        } => {
            v["status_text"] = status.render(lang).into();
            v["summary_stored"] = v["summary"].take();
            v["summary"] = summary.render(lang).into();
        }
        Event::Alert { message, .. } => {
            v["alert"] = v["message"].take();
            v["message"] = message.render(lang).into();
        }
    }
    v
}

/// Which station's events to stream (`?station=CODE`; all by default) and in which
/// language (`?lang=vi|en`).
#[derive(Debug, Deserialize)]
struct EventsQuery {
    station: Option<String>,
    #[serde(default)]
    lang: Lang,
}

/// The stations' events as they happen, as server-sent events (`event:` the kind, `data:`
/// the JSON). A listener too slow to keep up is told how many it missed.
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<axum::extract::Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    use axum::response::sse::{Event as Sse, KeepAlive};
    use tokio::sync::broadcast::error::RecvError;
    authorise(&state, &headers)?;
    let q = q.map_err(bad_query)?.0;
    let lang = q.lang;
    if let Some(code) = &q.station {
        targets(&state, code)?;
    }
    let only = q.station.filter(|c| c != "all");
    let rx = state.events.subscribe();
    let stream = futures_util::stream::unfold((rx, only), move |(mut rx, only)| async move {
        loop {
            let sse = match rx.recv().await {
                Ok(e) => {
                    let v = event_view(&e, lang);
                    if only
                        .as_deref()
                        .is_some_and(|c| v["station"].as_str() != Some(c))
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

async fn skip(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = authorise(&state, &headers)?;
    send(targets(&state, &code)?, Command::Skip { who }).await
}

async fn stop(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = authorise(&state, &headers)?;
    send(targets(&state, &code)?, Command::StopSlot { who }).await
}

/// The body of play and urgent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlayBody {
    bulletin: String,
    #[serde(default)]
    next: bool,
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
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
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

/// A play or urgent request: who asks, for which stations, which checked bulletin.
async fn play_request(
    state: &AppState,
    code: &str,
    headers: &HeaderMap,
    body: Result<Json<PlayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(String, Vec<StationHandle>, BulletinId, bool), ApiError> {
    let who = authorise(state, headers)?;
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
    let handles = targets(state, code)?.into_iter().cloned().collect();
    let bulletin = airable(state, &body.bulletin).await?;
    Ok((who, handles, bulletin, body.next))
}

async fn play(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PlayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (who, handles, bulletin, next) = play_request(&state, &code, &headers, body).await?;
    send(
        handles.iter().collect(),
        Command::Play {
            bulletin,
            now: !next,
            who,
        },
    )
    .await
}

async fn urgent(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PlayBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (who, handles, bulletin, _) = play_request(&state, &code, &headers, body).await?;
    send(handles.iter().collect(), Command::Urgent { bulletin, who }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::airlog::{AirReason, AirStatus, Reason};
    use crate::playout::alert::Alert;

    fn ended() -> Event {
        Event::ItemEnded {
            station: "vinh-an".into(),
            bulletin: "b-1".into(),
            status: AirStatus::Interrupted,
            played_ms: 4_000,
            reason: AirReason::one(Reason::SkippedBy {
                who: "Nguyễn Văn An".into(),
            }),
        }
    }

    #[test]
    fn an_event_carries_its_codes_and_its_words_in_the_language_asked() {
        let vi = event_view(&ended(), Lang::Vi);
        let en = event_view(&ended(), Lang::En);
        assert_eq!(vi["status"], "interrupted");
        assert_eq!(vi["status_text"], "Bị ngắt");
        assert_eq!(en["status_text"], "interrupted");
        assert_eq!(vi["reason_stored"], en["reason_stored"]);
        let reason = AirReason::one(Reason::SkippedBy {
            who: "Nguyễn Văn An".into(),
        });
        assert_eq!(vi["reason"], reason.render(Lang::Vi));
        assert_eq!(en["reason"], reason.render(Lang::En));
        assert_ne!(vi["reason"], en["reason"]);
    }

    #[test]
    fn an_alert_event_reads_in_the_language_asked_and_keeps_its_value() {
        let e = Event::Alert {
            station: "vinh-an".into(),
            message: Alert::AirlogWritable,
        };
        let vi = event_view(&e, Lang::Vi);
        assert_eq!(vi["alert"]["kind"], "airlog_writable");
        assert_eq!(vi["message"], Alert::AirlogWritable.render(Lang::Vi));
        assert_eq!(
            event_view(&e, Lang::En)["message"],
            "airlog writes work again; held rows are written"
        );
    }

    #[test]
    fn a_status_lists_alerts_as_words_and_as_values() {
        let s = crate::playout::control::Status {
            alerts: vec![Alert::AirlogWritable],
            ..Default::default()
        };
        let v = status_view(&s, Lang::Vi);
        assert_eq!(v["alerts"][0], Alert::AirlogWritable.render(Lang::Vi));
        assert_eq!(v["alert_codes"][0]["kind"], "airlog_writable");
    }
}
