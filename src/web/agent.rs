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
        .with_state(service);
    super::serve::with_limits(routes)
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

/// `?station=CODE`: a node may name its own station (any other is refused).
#[derive(Debug, Deserialize)]
struct ManifestQuery {
    station: Option<String>,
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
    let served = s.manifest(station).await?;
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
    let served = s.manifest(station).await?;
    let path = served.files.get(&sha256).ok_or_else(|| {
        AgentError::NotFound(format!(
            "no audio {sha256} in the manifest of station '{}'",
            station.code
        ))
    })?;
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
