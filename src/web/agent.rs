//! The agent API on `loa serve`'s port (`/agent/v1/*`): a commune machine enrols, then
//! reads its station's manifest (ETag / If-None-Match) and the audio it names (range
//! requests). Every request is signed by the node ([`crate::agent::auth`]); the rules are
//! in [`crate::agent::server`], this file only maps HTTP to them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::ApiError;
use crate::agent::auth::Presented;
use crate::agent::range;
use crate::agent::server::{AgentError, AgentService};

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        let status = match &self {
            AgentError::Auth(crate::agent::auth::AuthRefusal::Busy) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AgentError::Auth(_) | AgentError::Enrol(_) => StatusCode::UNAUTHORIZED,
            AgentError::Forbidden(_) => StatusCode::FORBIDDEN,
            AgentError::NotFound(_) => StatusCode::NOT_FOUND,
            AgentError::Bad(_) => StatusCode::BAD_REQUEST,
            AgentError::Conflict(_) => StatusCode::CONFLICT,
            AgentError::Internal(m) => {
                tracing::error!(error = %m, "agent API");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError(status, self.to_string()).into_response()
    }
}

/// The agent API's routes.
pub fn router(service: Arc<AgentService>) -> Router {
    let routes = Router::new()
        .route("/agent/v1/enroll", post(enroll))
        .route("/agent/v1/manifest", get(manifest))
        .route("/agent/v1/media/{sha256}", get(media))
        .route("/agent/v1/airlog/head", get(airlog_head))
        .route("/agent/v1/time", get(time))
        .route("/agent/v1/status", post(status))
        .route("/agent/v1/events", get(events))
        .route("/agent/v1/announcements/{id}", post(announcement_taken))
        .with_state(service.clone());
    // An upload carries up to `homeward::MAX_BATCH` rows: more than the control API's
    // body limit, so it has its own.
    let uploads = Router::new()
        .route("/agent/v1/airlog", post(airlog_upload))
        .with_state(service)
        .layer(axum::middleware::from_fn(upload_limits))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD));
    super::serve::with_limits(routes).merge(uploads)
}

/// The largest airlog upload taken (a batch of `MAX_BATCH` rows is about half of it).
pub const MAX_UPLOAD: usize = 1024 * 1024;
/// How long an upload may take, its body included (a slow 4G link).
const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Refuses an oversized upload by its declared length (413) and answers 408 when it takes
/// longer than [`UPLOAD_TIMEOUT`].
async fn upload_limits(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_UPLOAD as u64) {
        return ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is {n} bytes; the server takes at most {MAX_UPLOAD} (send fewer rows at a time)"),
        )
        .into_response();
    }
    match tokio::time::timeout(UPLOAD_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload was not received and answered within {} s",
                UPLOAD_TIMEOUT.as_secs()
            ),
        )
        .into_response(),
    }
}

/// The head the server holds for the node's station.
async fn airlog_head(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AgentError> {
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "GET", signed_path(&uri), b"").await?;
    let station = s.station_of(&node, None)?;
    let head = s.held_head(station).await?;
    Ok(Json(
        serde_json::json!({ "station": station.code, "head": head }),
    ))
}

/// Rows that follow the server's head, from the node that plays the station.
async fn airlog_upload(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<crate::agent::inbox::Taken>, AgentError> {
    let body = body
        .map_err(|e| AgentError::Bad(format!("the upload could not be read: {}", e.body_text())))?;
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "POST", signed_path(&uri), &body).await?;
    let station = s.station_of(&node, None)?;
    let upload: crate::agent::inbox::Upload = serde_json::from_slice(&body)
        .map_err(|e| AgentError::Bad(format!("bad upload body: {e}")))?;
    Ok(Json(s.take_airlog(&node, station, upload).await?))
}

/// The request's signature headers.
fn presented(headers: &HeaderMap) -> Result<Presented, AgentError> {
    Ok(Presented::parse(|name| {
        headers.get(name).and_then(|v| v.to_str().ok())
    })?)
}

/// The path and query a node signed.
fn signed_path(uri: &Uri) -> &str {
    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
}

/// The enrolment request's body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollBody {
    token: String,
    public_key: String,
}

async fn enroll(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AgentError> {
    let p = presented(&headers)?;
    let b: EnrollBody = serde_json::from_slice(&body)
        .map_err(|e| AgentError::Bad(format!("bad request body: {e}")))?;
    if !b.public_key.trim().eq_ignore_ascii_case(&p.node) {
        return Err(AgentError::Bad(
            "the public key in the body is not the key that signed the request".into(),
        ));
    }
    let node = s.enroll(&p, signed_path(&uri), &body, &b.token).await?;
    Ok(Json(serde_json::json!({
        "station": node.station,
        "node": node.public_key,
        "enrolled_at": node.enrolled_at,
    })))
}

/// `?station=CODE`: a node may name its own station (any other is refused);
/// `from=YYYY-MM-DD&days=N`: the manifest of those days (a simulated run's range).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestQuery {
    station: Option<String>,
    from: Option<chrono::NaiveDate>,
    days: Option<u32>,
}

async fn manifest(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
    q: Result<axum::extract::Query<ManifestQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AgentError> {
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "GET", signed_path(&uri), b"").await?;
    let q = q
        .map_err(|e| AgentError::Bad(format!("bad query string: {}", e.body_text())))?
        .0;
    let station = s.station_of(&node, q.station.as_deref())?;
    let window = match (q.from, q.days) {
        (Some(from), days) => Some((from, days.unwrap_or(1))),
        (None, None) => None,
        (None, Some(_)) => return Err(AgentError::Bad("days= needs from=YYYY-MM-DD".into())),
    };
    let served = s.manifest_for(station, window).await?;
    let etag = served.manifest.etag();
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let json = serde_json::to_vec(&served.manifest)
        .map_err(|e| AgentError::Internal(format!("cannot write the manifest: {e}")))?;
    Ok((
        StatusCode::OK,
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        json,
    )
        .into_response())
}

async fn media(
    State(s): State<Arc<AgentService>>,
    Path(sha256): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "GET", signed_path(&uri), b"").await?;
    let station = s.station_of(&node, None)?;
    let path = &s.media_file(station, &sha256).await?;
    let io = |e: std::io::Error| AgentError::Internal(format!("{}: {e}", path.display()));
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    let size = file.metadata().await.map_err(io)?.len();
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let Ok(range) = range::parse(asked, size) else {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        )
            .into_response());
    };
    let (first, last) = range.unwrap_or((0, size.saturating_sub(1)));
    let len = if size == 0 { 0 } else { last - first + 1 };
    file.seek(std::io::SeekFrom::Start(first))
        .await
        .map_err(io)?;
    let stream = futures_util::stream::unfold((file, len), |(mut f, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; left.min(64 * 1024) as usize];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(buf)),
                    (f, left - n as u64),
                ))
            }
            Err(e) => Some((Err(e), (f, 0))),
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    let put = |h: &mut HeaderMap, name, value: String| {
        if let Ok(v) = value.parse() {
            h.insert(name, v);
        }
    };
    put(h, header::CONTENT_LENGTH, len.to_string());
    put(h, header::ACCEPT_RANGES, "bytes".into());
    put(h, header::ETAG, format!("\"{sha256}\""));
    put(h, header::CONTENT_TYPE, "application/octet-stream".into());
    if range.is_some() {
        put(
            h,
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{size}"),
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}

/// The server's side of the four-timestamp exchange ([`crate::agent::clock`]): when the
/// request arrived and when the answer left, ms since 1970. Signed by an enrolled node but
/// taken whatever time the node's clock says, so a wrong clock can learn the right one.
async fn time(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AgentError> {
    let received = s.clock.now().timestamp_millis();
    let p = presented(&headers)?;
    s.authenticate_any_time(&p, "GET", signed_path(&uri))
        .await?;
    Ok(Json(serde_json::json!({
        "received_ms": received,
        "sent_ms": s.clock.now().timestamp_millis(),
    })))
}

/// A node's status report: kept (the last one per station) and shown.
async fn status(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AgentError> {
    if body.len() > crate::agent::report::MAX_REPORT {
        return Err(AgentError::Bad(format!(
            "the report is {} bytes; at most {}",
            body.len(),
            crate::agent::report::MAX_REPORT
        )));
    }
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "POST", signed_path(&uri), &body).await?;
    let station = s.station_of(&node, None)?;
    let report: crate::agent::report::NodeReport = serde_json::from_slice(&body)
        .map_err(|e| AgentError::Bad(format!("bad report body: {e}")))?;
    report
        .check()
        .map_err(|e| AgentError::Bad(format!("bad report: {e}")))?;
    let now = s.clock.now();
    let json = serde_json::to_string(&report)
        .map_err(|e| AgentError::Internal(format!("cannot write the report: {e}")))?;
    s.store
        .keep_node_report(&crate::store::KeptReport {
            station: station.code.clone(),
            node: node.public_key.clone(),
            received_at: now,
            clock_offset_ms: report.clock.map(|c| c.offset_ms),
            report: json,
        })
        .await?;
    s.live.report(&station.code, &node.public_key, report, now);
    Ok(Json(serde_json::json!({ "received_at": now })))
}

/// A node's announcement stream (server-sent events): `event: announcement` or
/// `event: cancel` with the push's JSON, and `event: heartbeat` with the server's time
/// every [`crate::agent::live::HEARTBEAT`]. It starts with what still waits for the
/// station, and ends when the node is revoked (checked every minute).
async fn events(
    State(s): State<Arc<AgentService>>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AgentError> {
    use crate::agent::live::{self, Push};
    use axum::response::sse::Event as Sse;
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "GET", signed_path(&uri), b"").await?;
    let station = s.station_of(&node, None)?.code.clone();
    // Subscribed before the waiting ones are read: none sent in between is missed (one
    // may come twice; the node takes each number once).
    let pushes = s.live.subscribe(&station).ok_or_else(|| {
        AgentError::Conflict(format!("station '{station}' is not an agent station"))
    })?;
    let mut first = std::collections::VecDeque::new();
    for a in live::pending(s.store.as_ref(), &station, s.clock.now()).await? {
        if let Some(p) = live::pushed(s.store.as_ref(), &a).await? {
            first.push_back(Push::Announcement(Box::new(p)));
        }
    }
    tracing::info!(station = %station, waiting = first.len(), "a commune machine opened its announcement stream");
    struct Stream {
        first: std::collections::VecDeque<Push>,
        pushes: tokio::sync::broadcast::Receiver<Push>,
        heartbeat: tokio::time::Interval,
        recheck: tokio::time::Interval,
        service: Arc<AgentService>,
        node: String,
    }
    let sse = |p: &Push| {
        let name = match p {
            Push::Announcement(_) => "announcement",
            Push::Cancel { .. } => "cancel",
        };
        Sse::default()
            .event(name)
            .data(serde_json::to_string(p).unwrap_or_default())
    };
    let mut heartbeat = tokio::time::interval(live::HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut recheck = tokio::time::interval(std::time::Duration::from_secs(60));
    recheck.reset();
    let state = Stream {
        first,
        pushes,
        heartbeat,
        recheck,
        service: s.clone(),
        node: node.public_key,
    };
    let stream = futures_util::stream::unfold(state, move |mut st| async move {
        loop {
            if let Some(p) = st.first.pop_front() {
                return Some((Ok::<_, std::convert::Infallible>(sse(&p)), st));
            }
            tokio::select! {
                got = st.pushes.recv() => match got {
                    Ok(p) => return Some((Ok(sse(&p)), st)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Missed some: end the stream; the node reconnects and gets what
                        // waits from the store.
                        return None;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = st.heartbeat.tick() => {
                    let now = st.service.clock.now().timestamp_millis();
                    return Some((Ok(Sse::default().event("heartbeat").data(now.to_string())), st));
                }
                _ = st.recheck.tick() => {
                    let still = st.service.store.node(&st.node).await;
                    if !matches!(still, Ok(Some(ref n)) if n.revoked_at.is_none()) {
                        return None;
                    }
                }
            }
        }
    });
    Ok(axum::response::Sse::new(stream).into_response())
}

/// A node took announcement `id`: it is delivered (it airs from the node's own queue and
/// airlog from now on).
async fn announcement_taken(
    State(s): State<Arc<AgentService>>,
    Path(id): Path<i64>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AgentError> {
    let p = presented(&headers)?;
    let node = s.authenticate(&p, "POST", signed_path(&uri), b"").await?;
    let station = s.station_of(&node, None)?;
    let now = s.clock.now();
    match crate::agent::live::delivered(
        s.store.as_ref(),
        &s.live,
        &station.code,
        &node.public_key,
        id,
        now,
    )
    .await?
    {
        Ok(moved) => Ok(Json(serde_json::json!({ "id": id, "delivered": moved }))),
        Err(why) => Err(AgentError::NotFound(why)),
    }
}
