//! The console's pages for a logged-in user: **Đang phát** (`GET /`), the forms that skip
//! the item on air or stop the slot at a station (they work without JavaScript: a POST with
//! the session's `csrf_token`, then back to `/`), and the embedded assets. The forms call
//! the same confined, audited command path as the control API ([`super::control`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::access::{Action, Decision};
use crate::playout::control::Command;

use super::auth::{authenticate, Caller, Client};
use super::login::{see_other, CsrfForm};
use super::pages::{self, StationView};
use super::{control, ApiError, AppState};

/// `GET /`: the on-air page for a logged-in user; anyone else goes to the login form.
pub async fn home(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = super::locale::of(&headers, query.as_deref());
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) => c,
        Err(_) => return see_other("/login", &[]),
    };
    let Caller::User {
        user,
        session: Some(session),
    } = &caller
    else {
        return see_other("/login", &[]);
    };
    let stations: Vec<StationView> = state
        .stations
        .iter()
        .filter(|(c, _)| caller.sees(c))
        .map(|(c, h)| StationView {
            code: c.clone(),
            name: h.name.clone(),
            status: h.status(),
            controls: caller.decide(Action::Skip, Some(c)) == Decision::Allowed,
        })
        .collect();
    let role = match lang {
        crate::lang::Lang::Vi => user.grant.role.label_vi(),
        crate::lang::Lang::En => user.grant.role.as_str(),
    };
    let r = pages::respond(
        StatusCode::OK,
        pages::on_air_in(
            lang,
            (user.name.as_str(), role, &session.csrf),
            &stations,
            state.timezone,
        ),
    );
    super::locale::remember(r, query.as_deref())
}

/// A refused console action as a page, in Vietnamese.
fn refused(e: ApiError, action: Action, code: &str) -> Response {
    let sentence = match e.0 {
        StatusCode::UNAUTHORIZED => return see_other("/login", &[]),
        StatusCode::NOT_FOUND => format!("Không có đài '{code}' trong các đài bạn được xem."),
        StatusCode::FORBIDDEN if e.1.contains("CSRF") => e.1,
        StatusCode::FORBIDDEN => format!(
            "Vai trò của bạn không được {} ở đài '{code}'.",
            action.label_vi()
        ),
        _ => e.1,
    };
    pages::respond(e.0, pages::message("Không thực hiện được", &sentence))
}

/// The caller of a console form: its session, with the form's CSRF token checked.
async fn form_caller(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Result<Caller, ApiError> {
    let csrf = form.ok().and_then(|f| f.0.csrf_token);
    authenticate(state, method, headers, csrf.as_deref()).await
}

/// Sends `action` (built by `cmd` from the caller's name) to station `code` for `caller`.
async fn command_form(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    client: &Client,
    code: &str,
    action: Action,
    cmd: fn(String) -> Command,
) -> Response {
    let sent = async {
        let caller = caller?;
        let handles = control::targets(state, &caller, action, code)?;
        let command = cmd(caller.name());
        control::send(state, &caller, client, action, None, handles, command).await
    };
    match sent.await {
        Ok(_) => see_other("/", &[]),
        Err(e) => refused(e, action, code),
    }
}

/// `POST /stations/{code}/skip`: skips the item on air.
pub async fn skip(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let caller = form_caller(&state, &method, &headers, form).await;
    let cmd: fn(String) -> Command = |who| Command::Skip { who };
    command_form(&state, caller, &client, &code, Action::Skip, cmd).await
}

/// `POST /stations/{code}/stop`: stops the slot on air.
pub async fn stop(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let caller = form_caller(&state, &method, &headers, form).await;
    let cmd: fn(String) -> Command = |who| Command::StopSlot { who };
    command_form(&state, caller, &client, &code, Action::Stop, cmd).await
}

/// `GET /assets/loa.css`: the embedded stylesheet.
pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        pages::CSS,
    )
        .into_response()
}

/// `GET /assets/loa.js`: the embedded script that keeps the on-air page live.
pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        pages::JS,
    )
        .into_response()
}
