//! Logging in and out of the console, and its home page. `GET /login` sets a short-lived
//! login cookie and renders the form with the CSRF token derived from it; `POST /login`
//! checks that token, the login limit ([`crate::access::limit`]) and the password, then
//! starts a new session (a random token in an `HttpOnly; SameSite=Strict` cookie, only its
//! hash stored) and redirects to `/`; `POST /logout` ends it. Every login, failed login and
//! logout is recorded in the audit trail with the client's address.
//! The pages a session then sees are in [`super::console`].

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::access::limit::{self, Key};
use crate::access::password::{password_matches, token_hash, SecretToken};
use crate::access::session::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::access::{Action, UserName};
use crate::store::users::NewSession;

use super::auth::{authenticate, header as text_of, request_host, session_secret, Caller, Client};
use super::pages;
use super::AppState;

/// A redirect (303) to `to`, a path of this server, with cookies to set.
pub(super) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// A page with a cookie to set.
fn with_cookie(mut r: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The login form's cookie secret, when the request carries one.
fn login_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, LOGIN_COOKIE).map(str::to_string))
        .filter(|v| !v.is_empty())
}

/// A fresh login form: a new login cookie and its CSRF token.
fn fresh_form(
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Response {
    let Ok(secret) = SecretToken::generate() else {
        return internal_page();
    };
    let page = pages::respond(
        status,
        pages::login(&session::csrf_token(secret.reveal()), username, error),
    );
    with_cookie(
        page,
        &session::set_cookie(
            LOGIN_COOKIE,
            secret.reveal(),
            state.secure_cookies,
            Some(session::LOGIN_FORM_SECONDS),
        ),
    )
}

fn internal_page() -> Response {
    pages::respond(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::message(
            "Lỗi",
            "Máy chủ gặp lỗi khi xử lý yêu cầu; hãy thử lại, và báo quản trị nếu lỗi còn.",
        ),
    )
}

/// `GET /login`: the form (or the home page for someone logged in).
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = session_secret(&headers) {
        if let Ok(Some(_)) = state
            .store
            .session_user(&token_hash(&secret), state.clock.now())
            .await
        {
            return see_other("/", &[]);
        }
    }
    fresh_form(&state, StatusCode::OK, "", None)
}

/// The login form's fields. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

/// Refused logins say this, whatever was wrong (unknown name, wrong password, disabled).
const WRONG: &str = "Tên đăng nhập hoặc mật khẩu không đúng.";

/// `POST /login`.
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(form)) = form else {
        return pages::respond(
            StatusCode::BAD_REQUEST,
            pages::message(
                "Đăng nhập",
                "Biểu mẫu đăng nhập gửi lên không đọc được; hãy mở lại trang đăng nhập.",
            ),
        );
    };
    // The form must come from our own login page.
    let same = session::same_origin(
        request_host(&state, &headers),
        text_of(&headers, "origin"),
        text_of(&headers, "sec-fetch-site"),
    );
    let token_ok = login_secret(&headers)
        .is_some_and(|s| session::same_secret(&session::csrf_token(&s), form.csrf_token.trim()));
    if !same || !token_ok {
        return fresh_form(
            &state,
            StatusCode::FORBIDDEN,
            "",
            Some("Biểu mẫu đăng nhập đã hết hạn hoặc không hợp lệ (CSRF); hãy đăng nhập lại."),
        );
    }
    let typed: String = crate::text::nfc(form.username.trim())
        .chars()
        .take(crate::access::MAX_NAME_CHARS)
        .collect();
    let keys = [Key::Account(typed.clone()), Key::Address(client.0.clone())];
    let now = state.clock.now();
    // Counted as a failure now, taken back if the password is right.
    let refused = state
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .attempt(&keys, now);
    if let Err(free_at) = refused {
        let minutes = limit::minutes_until(now, free_at);
        tracing::warn!(address = %client.0, "login refused: too many failures");
        return fresh_form(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &typed,
            Some(&format!(
                "Đăng nhập sai quá nhiều lần; hãy thử lại sau {minutes} phút."
            )),
        );
    }
    let user = match UserName::parse(&typed) {
        Ok(name) => match state.store.user(&name).await {
            Ok(u) => u.map(|u| (name, u)),
            Err(e) => {
                tracing::error!(error = %e, "login: cannot read the account");
                return internal_page();
            }
        },
        Err(_) => None,
    };
    let hash = match &user {
        Some((name, _)) => state.store.password_hash(name).await.ok().flatten(),
        None => None,
    };
    // argon2 takes tens of milliseconds: off the async threads. An unknown name is checked
    // against a dummy hash so it takes as long as a known one.
    let password = form.password;
    let matches = tokio::task::spawn_blocking(move || {
        let phc = hash.unwrap_or_else(|| dummy_hash().to_string());
        password_matches(&password, &phc)
    })
    .await
    .unwrap_or(false);
    let enabled = user.as_ref().is_some_and(|(_, u)| !u.disabled());
    let known_role = user.as_ref().map(|(_, u)| u.grant.role);
    let Some((name, user)) = user.filter(|_| matches && enabled) else {
        let entry = crate::access::audit::AuditDraft {
            at: now,
            actor: typed.clone(),
            role: known_role,
            station: None,
            action: Action::LoginFailed,
            target: typed.clone(),
            before: None,
            after: None,
            address: Some(client.0.clone()),
        };
        if let Err(e) = state.store.append_audit(&entry).await {
            tracing::error!(error = %e, "cannot record a failed login in the audit trail");
        }
        tracing::info!(address = %client.0, "login failed");
        return fresh_form(&state, StatusCode::UNAUTHORIZED, &typed, Some(WRONG));
    };
    state
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .succeeded(&keys, now);
    match start_session(&state, &client, &headers, name, user).await {
        Ok(cookie) => see_other(
            "/",
            &[
                cookie,
                session::set_cookie(LOGIN_COOKIE, "", state.secure_cookies, Some(0)),
            ],
        ),
        Err(e) => {
            tracing::error!(error = %e, "login: cannot start a session");
            internal_page()
        }
    }
}

/// A valid argon2id hash of nothing anyone types, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        crate::access::password::Password::parse("loa dummy password for timing")
            .ok()
            .and_then(|p| p.hash().ok())
            .unwrap_or_default()
    })
}

/// Starts a new session for `user` (ending the one the browser had, if any), records the
/// login, and gives the cookie to set.
async fn start_session(
    state: &AppState,
    client: &Client,
    headers: &HeaderMap,
    name: UserName,
    user: crate::access::User,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    if let Some(old) = session_secret(headers) {
        state.store.end_session(&token_hash(&old)).await?;
    }
    let now = state.clock.now();
    let secret = SecretToken::generate()?;
    state
        .store
        .add_session(&NewSession {
            token_hash: secret.hash(),
            user: name,
            created_at: now,
            expires_at: session::renewed_until(now, state.session_idle),
            address: Some(client.0.clone()),
        })
        .await?;
    let caller = Caller::User {
        user,
        session: None,
    };
    state
        .store
        .append_audit(&caller.audit(state, client, Action::Login, None, ""))
        .await?;
    tracing::info!(address = %client.0, "login");
    Ok(session::set_cookie(
        SESSION_COOKIE,
        secret.reveal(),
        state.secure_cookies,
        None,
    ))
}

/// The field every console form carries besides its own.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf_token: Option<String>,
}

/// `POST /logout`: ends the session (CSRF-guarded like every state change) and goes back
/// to the login form.
pub async fn logout(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let csrf = form.ok().and_then(|f| f.0.csrf_token);
    let caller = match authenticate(&state, &method, &headers, csrf.as_deref()).await {
        Ok(c) => c,
        // No session (it expired, or was never there): already logged out.
        Err(e) if e.0 == StatusCode::UNAUTHORIZED => return see_other("/login", &[]),
        Err(e) => return e.into_response(),
    };
    let Some(s) = caller.session() else {
        return super::ApiError(
            StatusCode::BAD_REQUEST,
            "only a console session logs out; an API token is withdrawn by disabling its user"
                .into(),
        )
        .into_response();
    };
    if let Err(e) = state.store.end_session(&s.token_hash).await {
        tracing::error!(error = %e, "logout: cannot end the session");
        return internal_page();
    }
    if let Err(e) = state
        .store
        .append_audit(&caller.audit(&state, &client, Action::Logout, None, ""))
        .await
    {
        tracing::error!(error = %e, "cannot record a logout in the audit trail");
    }
    see_other(
        "/login",
        &[session::set_cookie(
            SESSION_COOKIE,
            "",
            state.secure_cookies,
            Some(0),
        )],
    )
}
