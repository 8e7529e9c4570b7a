//! `/api/v1/schedules/{week}`: read a week, build or rebuild it, pin and unpin, lock and
//! unlock, each through the same operation as the page ([`super`]), described in the
//! OpenAPI document. Errors are one English sentence with the status: 400 bad input, 403 a
//! role that may not, 404 a station the caller does not see, 409 a locked week or one saved
//! meanwhile by someone else.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::super::api::{ApiCaller, ErrorBody};
use super::super::auth::Client;
use super::super::{ApiError, AppState};
use super::{change, edit, weeks, Change, SlotChange, WeekAction, WeekView};

/// `?station=CODE`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StationQuery {
    /// Only this station (default: every station the caller sees).
    #[serde(default)]
    pub station: Option<String>,
}

/// A station's (or every visible station's) kept week.
#[utoipa::path(
    get,
    path = "/api/v1/schedules/{week}",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10"), StationQuery),
    responses(
        (status = 200, description = "The kept weeks (empty when none was built)", body = [WeekView]),
        (status = 400, description = "Not an ISO week", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
    )
)]
pub async fn api(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    Path(week): Path<String>,
    q: Result<Query<StationQuery>, QueryRejection>,
) -> Result<Json<Vec<WeekView>>, ApiError> {
    let q = q
        .map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("bad query: {}", e.body_text()),
            )
        })?
        .0;
    let station = q.station.as_deref().filter(|s| !s.is_empty());
    Ok(Json(weeks(&state, &caller, &week, station).await?))
}

/// The JSON body, or a 400 naming what is wrong with it.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|j| j.0).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("bad request body: {}", e.body_text()),
        )
    })
}

/// Builds (or rebuilds) one station's week from the plan the daemon plays, over the
/// version given (0 when none was kept).
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{week}/build",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10")),
    request_body = Change,
    responses(
        (status = 200, description = "The week as kept now", body = WeekView),
        (status = 400, description = "Bad week or body", body = ErrorBody),
        (status = 403, description = "The role may not build", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
        (status = 409, description = "Locked, or saved meanwhile by someone else (says who and when)", body = ErrorBody),
    )
)]
pub async fn build(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(week): Path<String>,
    b: Result<Json<Change>, JsonRejection>,
) -> Result<Json<WeekView>, ApiError> {
    let c = body(b)?;
    Ok(Json(
        change(&state, &caller, &client, &week, WeekAction::Build, &c).await?,
    ))
}

/// Pins an approved bulletin into a slot instance (it stays there on rebuilds).
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{week}/pins",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10")),
    request_body = SlotChange,
    responses(
        (status = 200, description = "The week as kept now", body = WeekView),
        (status = 400, description = "Bad week or body", body = ErrorBody),
        (status = 403, description = "The role may not pin", body = ErrorBody),
        (status = 404, description = "No such station, slot or bulletin", body = ErrorBody),
        (status = 409, description = "Locked, saved meanwhile, started, not approved, already there or too long", body = ErrorBody),
    )
)]
pub async fn pin(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(week): Path<String>,
    b: Result<Json<SlotChange>, JsonRejection>,
) -> Result<Json<WeekView>, ApiError> {
    let c = body(b)?;
    Ok(Json(edit(&state, &caller, &client, &week, true, &c).await?))
}

/// Takes a bulletin out of a slot instance: a pinned one loses its pin, any other is kept
/// out of that slot on rebuilds.
#[utoipa::path(
    delete,
    path = "/api/v1/schedules/{week}/pins",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10")),
    request_body = SlotChange,
    responses(
        (status = 200, description = "The week as kept now", body = WeekView),
        (status = 400, description = "Bad week or body", body = ErrorBody),
        (status = 403, description = "The role may not unpin", body = ErrorBody),
        (status = 404, description = "No such station or slot, or the bulletin is not in it", body = ErrorBody),
        (status = 409, description = "Locked, saved meanwhile or started", body = ErrorBody),
    )
)]
pub async fn unpin(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(week): Path<String>,
    b: Result<Json<SlotChange>, JsonRejection>,
) -> Result<Json<WeekView>, ApiError> {
    let c = body(b)?;
    Ok(Json(
        edit(&state, &caller, &client, &week, false, &c).await?,
    ))
}

/// Locks one station's week: rebuilds and edits are refused until it is unlocked.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{week}/lock",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10")),
    request_body = Change,
    responses(
        (status = 200, description = "The week as kept now", body = WeekView),
        (status = 403, description = "The role may not lock", body = ErrorBody),
        (status = 404, description = "No such station, or no week kept", body = ErrorBody),
        (status = 409, description = "Already locked, or saved meanwhile", body = ErrorBody),
    )
)]
pub async fn lock(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(week): Path<String>,
    b: Result<Json<Change>, JsonRejection>,
) -> Result<Json<WeekView>, ApiError> {
    let c = body(b)?;
    Ok(Json(
        change(&state, &caller, &client, &week, WeekAction::Lock, &c).await?,
    ))
}

/// Unlocks one station's week.
#[utoipa::path(
    post,
    path = "/api/v1/schedules/{week}/unlock",
    tag = "schedules",
    params(("week" = String, Path, description = "ISO week, e.g. 2026-W10")),
    request_body = Change,
    responses(
        (status = 200, description = "The week as kept now", body = WeekView),
        (status = 403, description = "The role may not unlock", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
        (status = 409, description = "Not locked", body = ErrorBody),
    )
)]
pub async fn unlock(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(week): Path<String>,
    b: Result<Json<Change>, JsonRejection>,
) -> Result<Json<WeekView>, ApiError> {
    let c = body(b)?;
    Ok(Json(
        change(&state, &caller, &client, &week, WeekAction::Unlock, &c).await?,
    ))
}
