//! Who is asking: every request to the daemon is authenticated here, once, into a
//! [`Caller`]. A request with `Authorization: Bearer` is judged by its token alone (the
//! shared `[http] token`, or a user's API token by its hash); only a request without one is
//! judged by its session cookie, and then a state change needs the session's CSRF token
//! and a same-origin request ([`crate::access::session`]). What the caller may then see
//! and do is decided by [`crate::access::rules`], never here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};

use crate::access::audit::AuditDraft;
use crate::access::password::token_hash;
use crate::access::rules::{self, Decision};
use crate::access::session::{self, SESSION_COOKIE};
use crate::access::{Action, Role, User};

use super::{operator, ApiError, AppState};

/// The peer address of a connection, put on each request by [`super::serve`].
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// The client's address as the audit and the login limit see it: the connection's peer,
/// or behind a proxy the last `X-Forwarded-For` entry (the one the proxy added).
#[derive(Debug, Clone)]
pub struct Client(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Client, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ClientAddr>()
            .map(|c| c.0.ip().to_string());
        let forwarded = state
            .behind_proxy
            .then(|| {
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .rfind(|v| v.parse::<std::net::IpAddr>().is_ok())
                    .map(str::to_string)
            })
            .flatten();
        Ok(Client(
            forwarded.or(peer).unwrap_or_else(|| "unknown".into()),
        ))
    }
}

/// A session a request was authenticated by.
#[derive(Debug, Clone)]
pub struct Session {
    /// The stored hash of its cookie.
    pub token_hash: String,
    /// The CSRF token its forms carry.
    pub csrf: String,
}

/// Who a request acts as.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The shared `[http] token` (`loa ctl`, scripts): an operator of every station, named
    /// by the `X-Loa-Operator` header (else `api`).
    Shared {
        /// The operator's name.
        who: String,
    },
    /// A console account, by its API token or its session cookie.
    User {
        /// The account.
        user: User,
        /// The session, when the request came with its cookie rather than a token.
        session: Option<Session>,
    },
}

impl Caller {
    /// The name the airlog and the audit record.
    pub fn name(&self) -> String {
        match self {
            Caller::Shared { who } => who.clone(),
            Caller::User { user, .. } => user.name.to_string(),
        }
    }

    /// The role acted with.
    pub fn role(&self) -> Role {
        match self {
            Caller::Shared { .. } => Role::Operator,
            Caller::User { user, .. } => user.grant.role,
        }
    }

    /// Whether the caller may see `station`.
    pub fn sees(&self, station: &str) -> bool {
        match self {
            Caller::Shared { .. } => true,
            Caller::User { user, .. } => rules::scope(user).sees(station),
        }
    }

    /// What the rule says about `action` at `station`.
    pub fn decide(&self, action: Action, station: Option<&str>) -> Decision {
        match self {
            Caller::Shared { .. } if rules::role_may(Role::Operator, action) => Decision::Allowed,
            Caller::Shared { .. } => Decision::Forbidden,
            Caller::User { user, .. } => rules::decide(user, action, station),
        }
    }

    /// The session, when the request was authenticated by one.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Caller::User { session, .. } => session.as_ref(),
            Caller::Shared { .. } => None,
        }
    }

    /// An audit entry of this caller's `action` from `client`, now.
    pub fn audit(
        &self,
        state: &AppState,
        client: &Client,
        action: Action,
        station: Option<&str>,
        target: &str,
    ) -> AuditDraft {
        AuditDraft {
            at: state.clock.now(),
            actor: self.name(),
            role: Some(self.role()),
            station: station.map(str::to_string),
            action,
            target: target.to_string(),
            before: None,
            after: None,
            address: Some(client.0.clone()),
        }
    }
}

/// Why a request is not authenticated; the web layer answers 401, or sends a page to the
/// login form.
fn unauthorised(sentence: &str) -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, sentence.to_string())
}

/// The text of a header, when it is one.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The host the browser addressed, which a same-origin `Origin` names: the `Host` header,
/// or behind a proxy the last `X-Forwarded-Host` it adds (nginx passes its upstream as
/// `Host` unless told otherwise). A cross-site page cannot set that header on a request
/// without a CORS preflight, which this server never grants.
pub fn request_host<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let forwarded = state
        .behind_proxy
        .then(|| header(headers, "x-forwarded-host"))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    forwarded.or_else(|| header(headers, "host"))
}

/// The session cookie's secret, when the request carries one.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| session::cookie_value(h, SESSION_COOKIE).map(str::to_string))
        .filter(|v| !v.is_empty())
}

/// Whether `method` changes state (and so needs the CSRF guard under a session).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Authenticates a request: by its bearer token when it has an `Authorization` header,
/// else by its session cookie (a state change then needs the CSRF token, from the
/// `X-CSRF-Token` header or `form_csrf`, and a same-origin request).
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    form_csrf: Option<&str>,
) -> Result<Caller, ApiError> {
    if let Some(given) = bearer_given(headers) {
        return bearer(state, headers, given).await;
    }
    let Some(secret) = session_secret(headers) else {
        return Err(unauthorised(
            "missing token or session: send Authorization: Bearer TOKEN, or log in at /login",
        ));
    };
    let hash = token_hash(&secret);
    let now = state.clock.now();
    let user = state
        .store
        .session_user(&hash, now)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            unauthorised("Phiên đăng nhập đã hết hạn hoặc không còn; hãy đăng nhập lại.")
        })?;
    let csrf = session::csrf_token(&secret);
    if changes_state(method) {
        let same = session::same_origin(
            request_host(state, headers),
            header(headers, "origin"),
            header(headers, "sec-fetch-site"),
        );
        if !same || !session::csrf_ok(&csrf, header(headers, session::CSRF_HEADER), form_csrf) {
            return Err(ApiError(
                StatusCode::FORBIDDEN,
                "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF), hoặc gửi từ trang khác; hãy tải lại trang rồi thử lại.".into(),
            ));
        }
    }
    state
        .store
        .renew_session(&hash, now, session::renewed_until(now, state.session_idle))
        .await
        .map_err(ApiError::internal)?;
    Ok(Caller::User {
        user,
        session: Some(Session {
            token_hash: hash,
            csrf,
        }),
    })
}

/// The token of an `Authorization` header (empty when it is not `Bearer …`); `None`
/// without the header.
fn bearer_given(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(axum::http::header::AUTHORIZATION)?;
    Some(
        auth.to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or(""),
    )
}

/// Whether what authenticated `caller` from `headers` still does, without renewing
/// anything: its session not expired, logged out or its user disabled; its user's API
/// token not replaced and its user enabled. The shared token always does. For a request
/// that lasts (the on-air stream), checked again while it runs.
pub async fn still_valid(state: &AppState, caller: &Caller, headers: &HeaderMap) -> bool {
    let now = state.clock.now();
    let found = match caller {
        Caller::Shared { .. } => return true,
        Caller::User {
            session: Some(s), ..
        } => state.store.session_user(&s.token_hash, now).await,
        Caller::User { session: None, .. } => {
            let given = bearer_given(headers).unwrap_or("");
            state.store.token_user(&token_hash(given)).await
        }
    };
    match found {
        Ok(user) => user.is_some(),
        // A store that cannot answer now does not end a stream that was allowed.
        Err(e) => {
            tracing::warn!(error = %e, "cannot check a lasting request's session again");
            true
        }
    }
}

/// Authenticates a bearer token: the shared token (the operator named by the header), or
/// an enabled user's API token.
async fn bearer(state: &AppState, headers: &HeaderMap, given: &str) -> Result<Caller, ApiError> {
    let wrong = || {
        unauthorised(
            "missing or wrong token (Authorization: Bearer TOKEN, from http.token in loa.toml or `loa user token`)",
        )
    };
    if given.is_empty() {
        return Err(wrong());
    }
    if session::same_secret(given, &state.token) {
        let who = match headers.get(operator::HEADER) {
            Some(v) => operator::decode(v.as_bytes())
                .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?,
            None => None,
        };
        return Ok(Caller::Shared {
            who: who.unwrap_or_else(|| "api".into()),
        });
    }
    let user = state
        .store
        .token_user(&token_hash(given))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(wrong)?;
    Ok(Caller::User {
        user,
        session: None,
    })
}
