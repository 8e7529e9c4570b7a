//! The library's `/api/v1/` routes: the same operations as the **Thư viện** page
//! ([`super`]), answered in JSON with English sentences for errors.

use axum::extract::multipart::Multipart;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;

use crate::library::{ApprovalState, Bulletin};

use super::super::api::{ApiCaller, ErrorBody};
use super::super::auth::Client;
use super::super::{ApiError, AppState};
use super::upload::{self, Uploaded};
use super::{BulletinDetail, BulletinView, EditForm, LibraryQuery};

/// A bad query string: 400 naming it.
fn bad_query(e: QueryRejection) -> ApiError {
    ApiError(
        StatusCode::BAD_REQUEST,
        format!("bad query string: {}", e.body_text()),
    )
}

/// The bulletins the caller may see, filtered, in Vietnamese order of their titles (all of
/// them, or one page of 50 with `page`).
#[utoipa::path(
    get,
    path = "/api/v1/bulletins",
    tag = "library",
    params(LibraryQuery),
    responses(
        (status = 200, description = "The bulletins", body = [BulletinView]),
        (status = 400, description = "A filter outside its set", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    q: Result<Query<LibraryQuery>, QueryRejection>,
) -> Result<Json<Vec<BulletinView>>, ApiError> {
    let q = q.map_err(bad_query)?.0;
    let list = super::list(&state, &caller, &q).await?;
    let shown: Vec<&Bulletin> = match q.page {
        Some(n) => list.page(n).0,
        None => list.all().collect(),
    };
    Ok(Json(shown.into_iter().map(BulletinView::from).collect()))
}

/// One bulletin with its analysis and where it aired.
#[utoipa::path(
    get,
    path = "/api/v1/bulletins/{id}",
    tag = "library",
    params(("id" = String, Path, description = "The bulletin's id")),
    responses(
        (status = 200, description = "The bulletin", body = BulletinDetail),
        (status = 404, description = "No such bulletin the caller may see", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<BulletinDetail>, ApiError> {
    Ok(Json(super::detail(&state, &caller, &id).await?))
}

/// The multipart form of `POST /api/v1/bulletins` (as `loa library add` takes it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the form for the document; the upload reads it field by field.
pub struct UploadForm {
    /// The audio (repeat the field for more files; at most `http.upload_max_mb` each).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// news, article, column, spot or jingle.
    kind: crate::library::Kind,
    /// documents, e_procedures, procedure_control, examples or other.
    topic: crate::library::Topic,
    /// The title (one file only; else each file's tag or name).
    title: Option<String>,
    /// The producing unit.
    producer: Option<String>,
    /// First day it may air (YYYY-MM-DD).
    valid_from: Option<chrono::NaiveDate>,
    /// Last day it may air.
    valid_until: Option<chrono::NaiveDate>,
    /// The stations it is for, comma-separated (default: all; a commune user's own).
    stations: Option<String>,
    /// normal, priority or emergency.
    priority: Option<crate::library::Priority>,
    /// Its language (vi by default).
    language: Option<String>,
    /// Notes.
    notes: Option<String>,
    /// `true` to approve at once (admin, operator).
    approve: Option<bool>,
}

/// Uploads audio files (multipart: `file`, once per file, and the metadata fields of
/// `loa library add`: `kind`, `topic`, `title`, `producer`, `valid_from`, `valid_until`,
/// `stations`, `priority`, `language`, `notes`, `approve`). All files or none are added.
#[utoipa::path(
    post,
    path = "/api/v1/bulletins",
    tag = "library",
    request_body(content = UploadForm, content_type = "multipart/form-data", description = "file (one or more) and the metadata fields"),
    responses(
        (status = 201, description = "The bulletins added (or found already in the library)", body = [Uploaded]),
        (status = 400, description = "A refused file or field; nothing was stored", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not upload, or may not approve; or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
        (status = 413, description = "A file over http.upload_max_mb; nothing was stored", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Vec<Uploaded>>), ApiError> {
    let mut multipart = multipart.map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("expected a multipart/form-data body: {}", e.body_text()),
        )
    })?;
    let received = upload::receive(&mut multipart, &state.upload_dir, state.upload_max_bytes)
        .await
        .map_err(super::LibraryError::from)?;
    let added = upload::add(&state, &caller, &client, &received).await?;
    drop(received);
    Ok((
        StatusCode::CREATED,
        Json(
            added
                .iter()
                .map(|(new, b)| Uploaded {
                    new: *new,
                    bulletin: BulletinView::from(b),
                })
                .collect(),
        ),
    ))
}

/// Approves a bulletin for broadcast (admin, operator).
#[utoipa::path(
    post,
    path = "/api/v1/bulletins/{id}/approve",
    tag = "library",
    params(("id" = String, Path, description = "The bulletin's id")),
    responses(
        (status = 200, description = "The bulletin, approved", body = BulletinView),
        (status = 403, description = "The role may not approve", body = ErrorBody),
        (status = 404, description = "No such bulletin the caller may see", body = ErrorBody),
        (status = 409, description = "Already approved", body = ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<BulletinView>, ApiError> {
    let b = super::change_state(&state, &caller, &client, &id, ApprovalState::Approved).await?;
    Ok(Json(BulletinView::from(&b)))
}

/// Retires a bulletin: out of rotation, kept for the airlog (admin, operator).
#[utoipa::path(
    post,
    path = "/api/v1/bulletins/{id}/retire",
    tag = "library",
    params(("id" = String, Path, description = "The bulletin's id")),
    responses(
        (status = 200, description = "The bulletin, retired", body = BulletinView),
        (status = 403, description = "The role may not retire", body = ErrorBody),
        (status = 404, description = "No such bulletin the caller may see", body = ErrorBody),
        (status = 409, description = "Already retired", body = ErrorBody),
    )
)]
pub async fn retire(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<BulletinView>, ApiError> {
    let b = super::change_state(&state, &caller, &client, &id, ApprovalState::Retired).await?;
    Ok(Json(BulletinView::from(&b)))
}

/// Removes a bulletin that never aired, with its audio (admin, operator).
#[utoipa::path(
    delete,
    path = "/api/v1/bulletins/{id}",
    tag = "library",
    params(("id" = String, Path, description = "The bulletin's id")),
    responses(
        (status = 200, description = "The bulletin removed", body = BulletinView),
        (status = 403, description = "The role may not remove", body = ErrorBody),
        (status = 404, description = "No such bulletin the caller may see", body = ErrorBody),
        (status = 409, description = "It has aired: evidence, retire it instead", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<BulletinView>, ApiError> {
    let b = super::remove(&state, &caller, &client, &id).await?;
    Ok(Json(BulletinView::from(&b)))
}

/// Corrects a bulletin's title, producer, validity, stations or notes (admin, operator).
#[utoipa::path(
    patch,
    path = "/api/v1/bulletins/{id}",
    tag = "library",
    params(("id" = String, Path, description = "The bulletin's id")),
    request_body = EditForm,
    responses(
        (status = 200, description = "The bulletin as edited", body = BulletinView),
        (status = 400, description = "A field the metadata rules refuse", body = ErrorBody),
        (status = 403, description = "The role may not edit", body = ErrorBody),
        (status = 404, description = "No such bulletin the caller may see", body = ErrorBody),
    )
)]
pub async fn edit(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(id): Path<String>,
    form: Result<Json<EditForm>, JsonRejection>,
) -> Result<Json<BulletinView>, ApiError> {
    let Json(form) = form.map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("bad JSON: {}", e.body_text()),
        )
    })?;
    let b = super::edit(&state, &caller, &client, &id, &form).await?;
    Ok(Json(BulletinView::from(&b)))
}

/// The bulletin's audio; `Range` requests are answered 206.
#[utoipa::path(
    get,
    path = "/api/v1/bulletins/{id}/audio",
    tag = "library",
    params(("id" = String, Path, description = "The bulletin's id")),
    responses(
        (status = 200, description = "The audio file", content_type = "audio/*"),
        (status = 206, description = "The range asked for", content_type = "audio/*"),
        (status = 404, description = "No such bulletin the caller may see", body = ErrorBody),
    )
)]
pub async fn audio(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    Ok(super::audio::serve(&state, &caller, &id, req).await?)
}
