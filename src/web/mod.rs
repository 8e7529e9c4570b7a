//! What `loa serve` answers over HTTP (axum), on one port: the control API ([`control`]:
//! status, the stations' events as server-sent events, operator commands) and the operator
//! console ([`login`], [`pages`], its live parts in [`on_air_stream`], htmx in [`assets`]). Every request is authenticated in [`auth`] (a bearer
//! token, or a console session with its CSRF guard) and confined to what the caller may
//! see by [`crate::access::rules`]; bad requests get a 4xx with one clear sentence.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};

use crate::access::limit::Failures;
use crate::clock::Clock;
use crate::playout::control::{Event, StationHandle};
use crate::store::Store;

pub mod accounts_api;
pub mod agent;
pub mod airlog;
pub mod airlog_page;
pub mod announce;
pub mod announce_page;
pub mod announce_recording;
pub mod announce_waiting;
pub mod api;
pub mod assets;
pub mod audit_page;
pub mod auth;
pub mod console;
pub mod control;
pub mod dates;
pub mod exports;
pub mod library;
pub mod locale;
pub mod login;
pub mod on_air_stream;
pub mod operator;
pub mod pages;
pub mod reports_page;
pub mod routes;
pub mod schedule;
pub mod serve;
pub mod tls;
pub mod users_page;
pub mod view;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The stations this daemon plays.
    pub stations: Arc<BTreeMap<String, StationHandle>>,
    /// The store (to check bulletins).
    pub store: Arc<dyn Store>,
    /// The library in memory (lists and choices of bulletins), shared with playout.
    pub catalogue: Arc<crate::library::catalogue::Catalogue>,
    /// The shared bearer token of `[http] token`.
    pub token: String,
    /// Every station's events.
    pub events: tokio::sync::broadcast::Sender<Event>,
    /// The time (sessions, the login limit, the audit).
    pub clock: Arc<dyn Clock>,
    /// How long a console session lives without a request.
    pub session_idle: std::time::Duration,
    /// Whether cookies are marked `Secure` (served over TLS, here or by a proxy).
    pub secure_cookies: bool,
    /// Whether a proxy is in front (the client's address from `X-Forwarded-For`).
    pub behind_proxy: bool,
    /// Failed logins within the limit's window.
    pub failures: Arc<std::sync::Mutex<Failures>>,
    /// The zone times are shown in.
    pub timezone: chrono_tz::Tz,
    /// The plan served (its stations, slots and rules).
    pub plan: Arc<crate::plan::Plan>,
    /// The audio store (uploads go in, the library's player reads out).
    pub audio: crate::library::audio_store::AudioStore,
    /// How uploads are measured (`[ingest]`, as for `loa library add`).
    pub ingest: crate::library::IngestOptions,
    /// The largest file one upload may send (`[http] upload_max_mb`), bytes.
    pub upload_max_bytes: u64,
    /// Where uploads are written while they arrive (each in its own folder, removed when
    /// the request ends).
    pub upload_dir: std::path::PathBuf,
    /// The district's airlog signing key file (its public half checks the chains' signed
    /// heads on the airlog page).
    pub signing_key: std::path::PathBuf,
    /// What typed announcements need (the text-to-speech command, the library's store).
    pub announcing: Arc<announce::Announcing>,
    /// The console uploads being measured, for their forms' progress bars.
    pub uploads: Arc<library::progress::Uploads>,
}

/// An API error: a status and one sentence.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// A failure of the server (the store): 500, the cause logged and named.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "request failed");
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// Every route outside the OpenAPI document: console pages and forms, assets, and the
/// older control API under `/api/` (what `loa ctl` calls; its `/api/v1/` twins are in the
/// document). Adding a route here adds it to [`routes::list`], which the route × role test
/// walks.
pub fn table() -> routes::Table {
    let t = routes::Table::new()
        .get("/api/status", control::status)
        .get("/api/events", control::events)
        .post("/api/stations/{code}/skip", control::skip)
        .post("/api/stations/{code}/stop", control::stop)
        .post("/api/stations/{code}/play", control::play)
        .post("/api/stations/{code}/urgent", control::urgent)
        // A recording comes with the form: an upload's limits (the page beside it, one
        // path in one router).
        .upload_get("/announcements", announce_page::page)
        .upload("/announcements", announce_page::submit)
        .post("/announcements/{id}/cancel", announce_waiting::cancel)
        .get("/airlog", airlog_page::page)
        .get("/users", users_page::page)
        .post("/users", users_page::submit)
        .get("/reports", reports_page::page)
        .get("/reports/download", reports_page::download_page)
        .get("/audit", audit_page::page)
        .get("/", console::home)
        .get("/login", login::form)
        .post("/login", login::login)
        .post("/logout", login::logout)
        .post("/stations/{code}/skip", console::skip)
        .post("/stations/{code}/stop", console::stop)
        .post("/stations/{code}/play", console::play)
        .post("/stations/{code}/urgent", console::urgent)
        .get("/events/on-air", on_air_stream::stream)
        .get(pages::CSS_PATH, console::css)
        .get(pages::JS_PATH, console::js)
        .get(assets::HTMX_PATH, assets::htmx)
        .get(assets::SSE_PATH, assets::sse);
    schedule::forms::routes(library::console::routes(t))
}

/// The daemon's router: the [`table`] and the `/api/v1/` routes ([`api`]), each with its
/// limits ([`serve`]).
pub fn router(state: AppState) -> Router {
    let t = table();
    let (api, api_uploads) = api::routes();
    let routes = t.router.merge(api).with_state(state.clone());
    let uploads = t.uploads.merge(api_uploads).with_state(state);
    serve::with_limits(routes).merge(serve::with_upload_limits(uploads))
}
