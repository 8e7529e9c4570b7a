//! The JSON API of the admin's pages: accounts (`GET /api/v1/users`, `POST /api/v1/users`,
//! `POST /api/v1/users/{name}/password|disable|token`) and the audit
//! (`GET /api/v1/audit?since=&action=&actor=`, with the chain's verdict). Admin only (403
//! for the other roles); the changes go through [`crate::access::accounts`], as `loa user`
//! and the Người dùng page do, each audited with the caller's name, role and address.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use serde::Deserialize;

use crate::access::accounts::{self, ChangeError};
use crate::access::audit::verify;
use crate::access::password::Password;
use crate::access::{Action, Decision, UserName};

use super::airlog::{pairs, parse_day};
use super::auth::{authenticate, Caller, Client};
use super::{serve, ApiError, AppState};

/// The caller, when it may manage accounts (an admin); 403 otherwise.
async fn admin(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let caller = authenticate(state, method, headers, None).await?;
    if caller.decide(Action::UserAdd, None) != Decision::Allowed {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "the {} role may not manage users or read the audit",
                caller.role()
            ),
        ));
    }
    Ok(caller)
}

fn change(e: ChangeError) -> ApiError {
    match e {
        ChangeError::Store(e) => ApiError::internal(e),
        e => ApiError(
            StatusCode::BAD_REQUEST,
            e.to_string().replace(" on stdin", ""),
        ),
    }
}

fn body_error(e: axum::extract::rejection::JsonRejection) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is longer than the {} bytes the API takes",
                serve::MAX_BODY
            ),
        ),
        _ => ApiError(
            StatusCode::BAD_REQUEST,
            format!("bad request body: {}", e.body_text()),
        ),
    }
}

/// `GET /api/v1/users`: every account, sorted the Vietnamese way.
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&state, &method, &headers).await?;
    let mut users = state.store.users().await.map_err(ApiError::internal)?;
    users.sort_by(|a, b| crate::text::cmp_vi(a.name.as_str(), b.name.as_str()));
    Ok(Json(serde_json::json!({ "users": users })))
}

/// The body of `POST /api/v1/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    name: String,
    role: String,
    #[serde(default)]
    stations: Vec<String>,
    password: String,
}

/// `POST /api/v1/users`.
pub async fn add(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<NewAccount>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let Json(b) = body.map_err(body_error)?;
    let password = Password::parse(&b.password).map_err(|e| change(e.into()))?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    let user = accounts::add(
        state.store.as_ref(),
        &b.name,
        &b.role,
        &b.stations,
        &password,
        &draft,
    )
    .await
    .map_err(change)?;
    Ok(Json(serde_json::json!({ "ok": true, "user": user })))
}

/// The body of `POST /api/v1/users/{name}/password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    password: String,
}

/// `POST /api/v1/users/{name}/password`.
pub async fn password(
    State(state): State<AppState>,
    Path(name): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<NewPassword>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let Json(b) = body.map_err(body_error)?;
    let password = Password::parse(&b.password).map_err(|e| change(e.into()))?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    accounts::set_password(state.store.as_ref(), &name, &password, &draft)
        .await
        .map_err(change)?;
    Ok(Json(serde_json::json!({ "ok": true })))
}

/// `POST /api/v1/users/{name}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    Path(name): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    let user = accounts::disable(state.store.as_ref(), &name, &draft)
        .await
        .map_err(change)?;
    Ok(Json(serde_json::json!({ "ok": true, "user": user })))
}

/// `POST /api/v1/users/{name}/token`: the new token, in this answer only.
pub async fn token(
    State(state): State<AppState>,
    Path(name): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    let t = accounts::issue_token(state.store.as_ref(), &name, &draft)
        .await
        .map_err(change)?;
    Ok(Json(serde_json::json!({ "ok": true, "token": t.reveal() })))
}

/// `GET /api/v1/audit?since=&action=&actor=`: the entries, oldest first, and the verdict.
pub async fn audit(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&state, &method, &headers).await?;
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let (mut since, mut action, mut actor) = (None, None, None);
    for (k, v) in pairs(query.as_deref()) {
        let v = v.trim().to_string();
        match k.as_str() {
            "since" if !v.is_empty() => {
                since = Some(parse_day("since", &v).map_err(|e| bad(e.to_string()))?)
            }
            "action" if !v.is_empty() => {
                action = Some(Action::try_from(v.as_str()).map_err(|e| bad(e.to_string()))?)
            }
            "actor" if !v.is_empty() => actor = Some(crate::text::nfc(&v)),
            "since" | "action" | "actor" => {}
            other => {
                return Err(bad(format!(
                    "unknown query parameter '{other}' (since, action, actor)"
                )))
            }
        }
    }
    let entries = state
        .store
        .audit_entries(None)
        .await
        .map_err(ApiError::internal)?;
    let head = state.store.audit_head().await.map_err(ApiError::internal)?;
    let verdict = verify(&entries, (head.0, &head.1));
    let from = since.map(|d| crate::report::local_midnight(state.timezone, d));
    let shown: Vec<_> = entries
        .iter()
        .filter(|e| {
            from.is_none_or(|f| chrono::DateTime::parse_from_rfc3339(&e.at).is_ok_and(|t| t >= f))
        })
        .filter(|e| action.is_none_or(|a| e.action == a.as_str()))
        .filter(|e| actor.as_ref().is_none_or(|a| &e.actor == a))
        .collect();
    Ok(Json(serde_json::json!({
        "ok": verdict.is_ok(),
        "problem": verdict.as_ref().err().map(|b| b.to_string()),
        "seq": verdict.as_ref().err().map(|b| b.seq()),
        "entries": shown,
    })))
}
