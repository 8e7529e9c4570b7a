//! The console's pages for a logged-in user: **Đang phát** (`GET /`), the forms that skip
//! the item on air, stop the slot, play a bulletin now or as urgent at a station (they work
//! without JavaScript: a POST with the session's `csrf_token`, then back to `/`), and the
//! embedded assets. The forms call the same confined, audited command path as the control
//! API ([`super::control`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::access::{Action, Decision};
use crate::playout::control::{Command, PlayedBy};

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
    let now = state.clock.now();
    let library = match playable_library(&state, now).await {
        Ok(l) => l,
        Err(e) => return refused(e, Action::Play, ""),
    };
    let stations: Vec<StationView> = state
        .stations
        .iter()
        .filter(|(c, _)| caller.sees(c))
        .map(|(c, h)| StationView {
            code: c.clone(),
            name: h.name.clone(),
            status: h.status(),
            // A commune machine takes only announcements from here (Thông báo).
            controls: h.played_by == PlayedBy::ThisDaemon
                && caller.decide(Action::Skip, Some(c)) == Decision::Allowed,
            playable: if h.played_by == PlayedBy::ThisDaemon
                && caller.decide(Action::Play, Some(c)) == Decision::Allowed
            {
                library
                    .iter()
                    .filter(|b| b.meta.targets(c))
                    .map(|b| (b.id.to_string(), b.meta.title.clone()))
                    .collect()
            } else {
                Vec::new()
            },
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
            now,
        ),
    );
    super::locale::remember(r, query.as_deref())
}

/// The approved bulletins valid today (in the station zone of the daemon), in Vietnamese
/// order of their titles: what the on-air page offers to play.
async fn playable_library(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<crate::library::Bulletin>, ApiError> {
    let today = now.with_timezone(&state.timezone).date_naive();
    let approved = crate::store::BulletinFilter {
        state: Some(crate::library::ApprovalState::Approved),
        ..Default::default()
    };
    Ok(state
        .catalogue
        .snapshot()
        .await
        .map_err(ApiError::internal)?
        .filtered(&approved)
        .filter(|b| b.meta.valid_on(today))
        .cloned()
        .collect())
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
        // The player's and the store's own sentences are English (the API's): say it here.
        StatusCode::SERVICE_UNAVAILABLE => {
            format!("Đài '{code}' đang dừng phát nên chưa nhận lệnh; hãy thử lại sau ít phút.")
        }
        s if s.is_server_error() => {
            "Lỗi máy chủ: lệnh chưa được gửi; hãy thử lại, nếu vẫn lỗi hãy báo cán bộ kỹ thuật."
                .to_string()
        }
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

/// Why a console command was not sent.
enum FormError {
    /// Refused on the common command path (who, where, CSRF, the player).
    Api(ApiError),
    /// The play form names no bulletin that may air at the station: the status and the
    /// sentence (Vietnamese).
    Bulletin(StatusCode, String),
}

impl From<ApiError> for FormError {
    fn from(e: ApiError) -> FormError {
        FormError::Api(e)
    }
}

fn unplayable(status: StatusCode, sentence: String) -> FormError {
    FormError::Bulletin(status, sentence)
}

/// The bulletin a play form chose, checked: known, approved, valid today and meant for
/// station `code`.
async fn chosen(
    state: &AppState,
    code: &str,
    text: &str,
) -> Result<crate::library::BulletinId, FormError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(unplayable(
            StatusCode::BAD_REQUEST,
            "Hãy chọn một bản tin để phát.".into(),
        ));
    }
    let id: crate::library::BulletinId = text.parse().map_err(|_| {
        unplayable(
            StatusCode::BAD_REQUEST,
            format!("'{text}' không phải mã bản tin."),
        )
    })?;
    let b = state
        .store
        .bulletin(&id)
        .await
        .map_err(ApiError::internal)?
        .filter(|b| b.meta.targets(code))
        .ok_or_else(|| {
            unplayable(
                StatusCode::NOT_FOUND,
                format!("Không có bản tin {id} dành cho đài '{code}' trong thư viện."),
            )
        })?;
    let today = state
        .clock
        .now()
        .with_timezone(&state.timezone)
        .date_naive();
    if b.state != crate::library::ApprovalState::Approved || !b.meta.valid_on(today) {
        return Err(unplayable(
            StatusCode::CONFLICT,
            format!(
                "Bản tin «{}» chưa được duyệt, đã ngừng phát hoặc hết hạn; chỉ bản tin đã duyệt, còn hạn mới được phát.",
                b.meta.title
            ),
        ));
    }
    Ok(id)
}

/// Sends `action` to station `code` for `caller`: skip, stop, or play `bulletin` now or as
/// urgent (the bulletin checked before anything is sent).
async fn command_form(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    client: &Client,
    code: &str,
    action: Action,
    bulletin: Option<&str>,
) -> Response {
    let sent = async {
        let caller = caller?;
        let handles = control::targets(state, &caller, action, code)?;
        let who = caller.name();
        let (command, id) = match (action, bulletin) {
            (Action::Play, Some(text)) => {
                let id = chosen(state, code, text).await?;
                (
                    Command::Play {
                        bulletin: id,
                        now: true,
                        who,
                    },
                    Some(id),
                )
            }
            (Action::Urgent, Some(text)) => {
                let id = chosen(state, code, text).await?;
                (Command::Urgent { bulletin: id, who }, Some(id))
            }
            (Action::Stop, _) => (Command::StopSlot { who }, None),
            _ => (Command::Skip { who }, None),
        };
        control::send(
            state,
            &caller,
            client,
            action,
            id.as_ref(),
            handles,
            command,
        )
        .await
        .map_err(FormError::Api)
    };
    match sent.await {
        Ok(_) => see_other("/", &[]),
        Err(FormError::Api(e)) => refused(e, action, code),
        Err(FormError::Bulletin(status, sentence)) => {
            pages::respond(status, pages::message("Không thực hiện được", &sentence))
        }
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
    command_form(&state, caller, &client, &code, Action::Skip, None).await
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
    command_form(&state, caller, &client, &code, Action::Stop, None).await
}

/// The form that plays a bulletin: the session's CSRF token and the bulletin's id.
#[derive(Debug, serde::Deserialize)]
pub struct PlayForm {
    csrf_token: Option<String>,
    #[serde(default)]
    bulletin: String,
}

/// `POST /stations/{code}/play` and `/urgent`: the caller and the bulletin of a play form.
async fn play_form(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    form: Result<axum::Form<PlayForm>, axum::extract::rejection::FormRejection>,
) -> (Result<Caller, ApiError>, String) {
    let (csrf, bulletin) = match form {
        Ok(f) => (f.0.csrf_token, f.0.bulletin),
        Err(_) => (None, String::new()),
    };
    (
        authenticate(state, method, headers, csrf.as_deref()).await,
        bulletin,
    )
}

/// `POST /stations/{code}/play`: plays the chosen bulletin now, interrupting the item on
/// air (which is made up later), as `loa ctl play` does.
pub async fn play(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<PlayForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (caller, bulletin) = play_form(&state, &method, &headers, form).await;
    command_form(
        &state,
        caller,
        &client,
        &code,
        Action::Play,
        Some(&bulletin),
    )
    .await
}

/// `POST /stations/{code}/urgent`: interrupts what plays with the chosen bulletin, as
/// `loa ctl urgent` does.
pub async fn urgent(
    State(state): State<AppState>,
    Path(code): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<PlayForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (caller, bulletin) = play_form(&state, &method, &headers, form).await;
    command_form(
        &state,
        caller,
        &client,
        &code,
        Action::Urgent,
        Some(&bulletin),
    )
    .await
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

/// `GET /assets/loa.js`: the on-air page's own script (the progress tick, the urgent
/// button's confirmation; htmx keeps the page live).
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
