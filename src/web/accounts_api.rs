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
use super::api::ErrorBody;
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

/// What `GET /api/v1/users` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UsersAnswer {
    /// Every account: name, role, stations, disabled_at, created and updated by and at.
    #[schema(value_type = Vec<Object>)]
    pub users: Vec<crate::access::User>,
}

/// What a change to an account answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AccountChanged {
    /// Always true.
    pub ok: bool,
    /// The account as it now is (no password, no token).
    #[schema(value_type = Object)]
    pub user: crate::access::User,
}

/// What a new password answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Done {
    /// Always true.
    pub ok: bool,
}

/// What a new API token answers: the token, shown this once (no `Debug`: a secret).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TokenIssued {
    /// Always true.
    pub ok: bool,
    /// The token (`Authorization: Bearer TOKEN`); only its hash is kept.
    pub token: String,
}

/// What `GET /api/v1/audit` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditAnswer {
    /// Whether the whole chain holds (as `loa audit verify`).
    pub ok: bool,
    /// What is wrong, when it does not.
    pub problem: Option<String>,
    /// The first bad entry, when it does not.
    pub seq: Option<i64>,
    /// The entries asked for, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<serde_json::Value>,
}

/// Every account, sorted the Vietnamese way (admin only).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    responses(
        (status = 200, description = "Every account", body = UsersAnswer),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<UsersAnswer>, ApiError> {
    admin(&state, &method, &headers).await?;
    let mut users = state.store.users().await.map_err(ApiError::internal)?;
    users.sort_by(|a, b| crate::text::cmp_vi(a.name.as_str(), b.name.as_str()));
    Ok(Json(UsersAnswer { users }))
}

/// The body of `POST /api/v1/users`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// The account's name (NFC, at most 100 characters).
    name: String,
    /// admin, operator, commune or viewer.
    #[schema(value_type = crate::access::Role)]
    role: String,
    /// The stations of a commune account (none for the other roles).
    #[serde(default)]
    stations: Vec<String>,
    /// Its password (at least 12 characters).
    password: String,
}

/// Adds an account (admin only).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewAccount,
    responses(
        (status = 200, description = "The account added", body = AccountChanged),
        (status = 400, description = "A bad body, name, role, station or password, or the name is taken", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin, or a session without its CSRF token", body = ErrorBody),
    )
)]
pub async fn add(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<NewAccount>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<AccountChanged>, ApiError> {
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
    Ok(Json(AccountChanged { ok: true, user }))
}

/// The body of `POST /api/v1/users/{name}/password`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The new password (at least 12 characters).
    password: String,
}

/// Sets an account's password (admin only).
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/password",
    tag = "users",
    params(("name" = String, Path, description = "The account's name")),
    request_body = NewPassword,
    responses(
        (status = 200, description = "The password set", body = Done),
        (status = 400, description = "A bad body or password, or no such account", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin, or a session without its CSRF token", body = ErrorBody),
    )
)]
pub async fn password(
    State(state): State<AppState>,
    Path(name): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    body: Result<Json<NewPassword>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Done>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let Json(b) = body.map_err(body_error)?;
    let password = Password::parse(&b.password).map_err(|e| change(e.into()))?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    accounts::set_password(state.store.as_ref(), &name, &password, &draft)
        .await
        .map_err(change)?;
    Ok(Json(Done { ok: true }))
}

/// Disables an account: it can no longer log in or use its tokens (admin only).
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/disable",
    tag = "users",
    params(("name" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The account, disabled", body = AccountChanged),
        (status = 400, description = "No such account, or the last enabled admin", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin, or a session without its CSRF token", body = ErrorBody),
    )
)]
pub async fn disable(
    State(state): State<AppState>,
    Path(name): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<AccountChanged>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    let user = accounts::disable(state.store.as_ref(), &name, &draft)
        .await
        .map_err(change)?;
    Ok(Json(AccountChanged { ok: true, user }))
}

/// Issues a new API token for an account: shown in this answer only (admin only).
#[utoipa::path(
    post,
    path = "/api/v1/users/{name}/token",
    tag = "users",
    params(("name" = String, Path, description = "The account's name")),
    responses(
        (status = 200, description = "The new token", body = TokenIssued),
        (status = 400, description = "No such account, or a disabled one", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin, or a session without its CSRF token", body = ErrorBody),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    Path(name): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<TokenIssued>, ApiError> {
    let caller = admin(&state, &method, &headers).await?;
    let draft = |a: Action, n: &UserName| caller.audit(&state, &client, a, None, n.as_str());
    let t = accounts::issue_token(state.store.as_ref(), &name, &draft)
        .await
        .map_err(change)?;
    Ok(Json(TokenIssued {
        ok: true,
        token: t.reveal().to_string(),
    }))
}

/// The audit's entries, oldest first, filtered, and the chain's verdict (admin only).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "users",
    params(
        ("since" = Option<chrono::NaiveDate>, Query, description = "Entries from this local day on (YYYY-MM-DD or dd/mm/yyyy)"),
        ("action" = Option<String>, Query, description = "Only this action (login, bulletin_upload, user_add, …)"),
        ("actor" = Option<String>, Query, description = "Only this account's entries"),
    ),
    responses(
        (status = 200, description = "The entries and the verdict", body = AuditAnswer),
        (status = 400, description = "A bad query: an unknown key, date or action", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn audit(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditAnswer>, ApiError> {
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
    Ok(Json(AuditAnswer {
        ok: verdict.is_ok(),
        problem: verdict.as_ref().err().map(|b| b.to_string()),
        seq: verdict.as_ref().err().map(|b| b.seq()),
        entries: shown
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap_or_default())
            .collect(),
    }))
}
