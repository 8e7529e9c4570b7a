//! A bulletin's audio for the browser's player (`GET /library/{id}/audio`, and the same
//! at `GET /api/v1/bulletins/{id}/audio`): confined like the bulletin (another station's
//! answers 404), served by tower-http's `ServeFile`, which answers `Range` requests (206
//! with `Content-Range`, 416 for a range past the end) so the player can seek.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::lang::{Lang, Render};

use super::super::auth::{authenticate, Caller};
use super::super::{ApiError, AppState};
use super::LibraryError;

/// Serves the audio of bulletin `id` to `caller`, who must see it; `req` carries the
/// range asked for.
pub async fn serve(
    state: &AppState,
    caller: &Caller,
    id: &str,
    req: Request,
) -> Result<Response, LibraryError> {
    let b = super::get(state, caller, id).await?;
    let path = state.audio.path_of(&b.audio_path);
    let served = ServeFile::new(&path)
        .oneshot(req)
        .await
        .map_err(|e| LibraryError::Internal(e.to_string()))?;
    let mut r = served.map(Body::new).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(r)
}

/// `GET /library/{id}/audio`: the console's player (errors in Vietnamese).
pub async fn console(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let caller = match authenticate(&state, req.method(), req.headers(), None).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match serve(&state, &caller, &id, req).await {
        Ok(r) => r,
        Err(e) => ApiError(e.status(), e.render(Lang::Vi)).into_response(),
    }
}
