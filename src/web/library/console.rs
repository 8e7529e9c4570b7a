//! The **Thư viện** console routes: the list (`GET /library`), one bulletin
//! (`GET /library/{id}`), its audio, and the forms that upload, approve, retire, remove and
//! edit. They work without JavaScript: a POST with the session's `csrf_token`, then a
//! redirect (303) to the page that shows the result, or the page again with the refusal
//! at its field. Each calls the same operation as the API ([`super`]).

use axum::extract::multipart::Multipart;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::access::{Action, Decision, Role};
use crate::lang::{Lang, Render};
use crate::library::ApprovalState;

use super::super::api::stations;
use super::super::auth::{authenticate, Caller, Client};
use super::super::locale;
use super::super::login::see_other;
use super::super::pages;
use super::super::routes::Table;
use super::super::AppState;
use super::page::{self, Abilities, DetailPage, Flash, ListPage, UploadProblem, Who};
use super::progress::{BatchWatch, Following, UploadId};
use super::upload;
use super::{EditForm, LibraryError, LibraryQuery};

/// `GET /assets/library.js`: the upload form's script.
pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        page::JS,
    )
        .into_response()
}

/// Adds the library's console routes, the upload with its own limits. A GET of a form's
/// address (the page a refusal was drawn at, whose language switch asks `?lang=`) goes
/// back to the page the form is on.
pub fn routes(t: Table) -> Table {
    t.get("/library", list)
        .get("/library/{id}", show)
        .get("/library/{id}/audio", super::audio::console)
        .get("/library/{id}/approve", to_bulletin)
        .post("/library/{id}/approve", approve)
        .get("/library/{id}/retire", to_bulletin)
        .post("/library/{id}/retire", retire)
        .get("/library/{id}/remove", to_bulletin)
        .post("/library/{id}/remove", remove)
        .get("/library/{id}/edit", to_bulletin)
        .post("/library/{id}/edit", edit)
        .get(page::JS_PATH, js)
        .get(page::PROGRESS_PATH, upload_progress)
        .upload_get("/library/upload", to_list)
        .upload("/library/upload", upload)
}

/// `GET /library/upload-progress?id=ID`: how far this session's upload `ID` is, as JSON
/// ([`super::progress::UploadView`]); 404 for an upload of another session or none.
async fn upload_progress(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let id = UploadId::in_query(raw.as_deref(), "id");
    let view = caller
        .session()
        .zip(id)
        .and_then(|(s, id)| state.uploads.read(&s.token_hash, &id));
    match view {
        Some(v) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(v)).into_response(),
        None => super::super::ApiError(
            StatusCode::NOT_FOUND,
            "no upload with that id is being followed for this session".into(),
        )
        .into_response(),
    }
}

/// `GET` of a bulletin's form address: to the bulletin's page, with the query (`lang`).
async fn to_bulletin(Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    back_to(&format!("/library/{}", query_encode(&id)), q.as_deref())
}

/// `GET /library/upload`: to the list, with the query (`lang`).
pub async fn to_list(RawQuery(q): RawQuery) -> Response {
    back_to("/library", q.as_deref())
}

/// A redirect to `path`, keeping only the language asked in `query`.
fn back_to(path: &str, query: Option<&str>) -> Response {
    match locale::asked(query) {
        Some(lang) => see_other(&format!("{path}?lang={}", lang.code()), &[]),
        None => see_other(path, &[]),
    }
}

/// A refusal as a page in `lang`: to the login form when not authenticated, else the
/// sentence with the status.
fn refused(lang: Lang, status: StatusCode, sentence: &str) -> Response {
    if status == StatusCode::UNAUTHORIZED {
        return see_other("/login", &[]);
    }
    pages::respond(
        status,
        pages::message_in(lang, page::text(lang).refused_title, sentence),
    )
}

/// An authentication refusal in `lang` (the CSRF guard speaks Vietnamese).
fn auth_refused(lang: Lang, e: super::super::ApiError) -> Response {
    let sentence = match (lang, e.0) {
        (Lang::En, StatusCode::FORBIDDEN) => "Request refused: the anti-forgery (CSRF) token is missing or wrong, or the form was sent from another site; reload the page and try again.".to_string(),
        (Lang::Vi, StatusCode::INTERNAL_SERVER_ERROR) => "Lỗi máy chủ; hãy thử lại sau.".to_string(),
        _ => e.1,
    };
    refused(lang, e.0, &sentence)
}

/// The session user of a console page, or the way to the login form.
async fn page_user(
    state: &AppState,
    lang: Lang,
    method: &Method,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<Caller, Response> {
    match authenticate(state, method, headers, csrf).await {
        Ok(c @ Caller::User { .. }) if c.session().is_some() => Ok(c),
        Ok(_) => Err(see_other("/login", &[])),
        Err(e) => Err(auth_refused(lang, e)),
    }
}

/// The frame's user.
fn who(caller: &Caller, lang: Lang) -> Who<'_> {
    match caller {
        Caller::User { user, session } => Who {
            name: user.name.as_str(),
            role: user.grant.role,
            csrf: session.as_ref().map_or("", |s| s.csrf.as_str()),
            lang,
        },
        Caller::Shared { who } => Who {
            name: who,
            role: Role::Operator,
            csrf: "",
            lang,
        },
    }
}

/// What `caller` may do here.
fn abilities(caller: &Caller) -> Abilities {
    let station = match caller {
        Caller::User { user, .. } => user.grant.stations.first().map(String::as_str),
        Caller::Shared { .. } => None,
    };
    Abilities {
        upload: caller.decide(Action::BulletinUpload, station) == Decision::Allowed,
        manage: caller.decide(Action::Approve, None) == Decision::Allowed,
    }
}

/// Whether `caller` is confined to its stations.
fn confined(caller: &Caller) -> bool {
    caller.role().is_confined()
}

/// What the list page shows above the bulletins.
#[derive(Debug, Default, Deserialize)]
struct Shown {
    /// Titles just uploaded, joined by newlines.
    #[serde(default)]
    uploaded: Option<String>,
    /// An action done.
    #[serde(default)]
    done: Option<String>,
}

/// Renders the list page.
async fn render_list(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    query: &LibraryQuery,
    flash: Flash<'_>,
    problem: Option<UploadProblem<'_>>,
    status: StatusCode,
) -> Response {
    let (bulletins, filter_error, status) = match super::list(state, caller, query).await {
        Ok(b) => (b, None, status),
        Err(e) => {
            let status = if status.is_success() {
                e.status()
            } else {
                status
            };
            (super::Listing::empty(), Some(e.render(lang)), status)
        }
    };
    let seen = stations::visible(&state.plan, caller, |c| state.stations.contains_key(c));
    let w = who(caller, lang);
    let (shown, page, pages) = bulletins.page(query.page.unwrap_or(1));
    pages::respond(
        status,
        page::list(&ListPage {
            who: &w,
            can: abilities(caller),
            query,
            filter_error,
            stations: &seen,
            bulletins: &shown,
            total: bulletins.len(),
            page,
            pages,
            upload_max_mb: state.upload_max_bytes / (1024 * 1024),
            flash,
            problem,
            confined: confined(caller),
        }),
    )
}

/// `GET /library`.
async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    q: Result<Query<LibraryQuery>, QueryRejection>,
    shown: Result<Query<Shown>, QueryRejection>,
) -> Response {
    let lang = locale::of(&headers, raw.as_deref());
    let caller = match page_user(&state, lang, &method, &headers, None).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let query = q.map(|q| q.0).unwrap_or_default();
    let shown = shown.map(|s| s.0).unwrap_or_default();
    let titles: Vec<String> = shown
        .uploaded
        .as_deref()
        .map(|s| {
            s.lines()
                .map(str::to_string)
                .take(upload::MAX_FILES)
                .collect()
        })
        .unwrap_or_default();
    let flash = if !titles.is_empty() {
        Flash::Uploaded(&titles)
    } else if shown.done.is_some() {
        Flash::Done
    } else {
        Flash::None
    };
    let r = render_list(&state, &caller, lang, &query, flash, None, StatusCode::OK).await;
    locale::remember(r, raw.as_deref())
}

/// Renders one bulletin's page.
async fn render_detail(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    id: &str,
    error: Option<(&'static str, String)>,
    status: StatusCode,
    done: bool,
) -> Response {
    let detail = match super::detail(state, caller, id).await {
        Ok(d) => d,
        Err(e) => return refused(lang, e.status(), &e.render(lang)),
    };
    let w = who(caller, lang);
    let plan = state.plan.clone();
    let default_tz = state.timezone;
    let station_tz = move |code: &str| plan.station(code).map_or(default_tz, |s| s.timezone);
    pages::respond(
        status,
        page::detail(&DetailPage {
            who: &w,
            can: abilities(caller),
            detail: &detail,
            tz: state.timezone,
            station_tz: &station_tz,
            error,
            done,
        }),
    )
}

/// `GET /library/{id}`.
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    shown: Result<Query<Shown>, QueryRejection>,
) -> Response {
    let lang = locale::of(&headers, raw.as_deref());
    let caller = match page_user(&state, lang, &method, &headers, None).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let done = shown.is_ok_and(|s| s.0.done.is_some());
    let r = render_detail(&state, &caller, lang, &id, None, StatusCode::OK, done).await;
    locale::remember(r, raw.as_deref())
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf_token: Option<String>,
}

/// Approve, retire or remove from the bulletin's page.
async fn act(
    state: &AppState,
    id: &str,
    client: &Client,
    method: &Method,
    headers: &HeaderMap,
    form: Result<axum::Form<CsrfOnly>, FormRejection>,
    to: Option<ApprovalState>,
) -> Response {
    let csrf = form.ok().and_then(|f| f.0.csrf_token);
    let lang = locale::of(headers, None);
    let caller = match page_user(state, lang, method, headers, csrf.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let done = match to {
        Some(to) => super::change_state(state, &caller, client, id, to)
            .await
            .map(|_| format!("/library/{id}?done=1")),
        None => super::remove(state, &caller, client, id)
            .await
            .map(|_| "/library?done=1".to_string()),
    };
    match done {
        Ok(to) => see_other(&to, &[]),
        Err(e @ (LibraryError::NotFound(_) | LibraryError::UnknownStation(_))) => {
            refused(lang, e.status(), &e.render(lang))
        }
        Err(e) => {
            render_detail(
                state,
                &caller,
                lang,
                id,
                Some(("actions", e.render(lang))),
                e.status(),
                false,
            )
            .await
        }
    }
}

/// `POST /library/{id}/approve`.
async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfOnly>, FormRejection>,
) -> Response {
    act(
        &state,
        &id,
        &client,
        &method,
        &headers,
        form,
        Some(ApprovalState::Approved),
    )
    .await
}

/// `POST /library/{id}/retire`.
async fn retire(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfOnly>, FormRejection>,
) -> Response {
    act(
        &state,
        &id,
        &client,
        &method,
        &headers,
        form,
        Some(ApprovalState::Retired),
    )
    .await
}

/// `POST /library/{id}/remove`.
async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfOnly>, FormRejection>,
) -> Response {
    act(&state, &id, &client, &method, &headers, form, None).await
}

/// The edit form: the fields and the CSRF token.
#[derive(Debug, Deserialize)]
struct EditWithCsrf {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    producer: Option<String>,
    #[serde(default)]
    valid_from: Option<String>,
    #[serde(default)]
    valid_until: Option<String>,
    #[serde(default)]
    stations: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

/// The field an edit refusal belongs at.
fn edit_field(e: &LibraryError) -> &'static str {
    use crate::library::edit::EditError;
    use crate::library::limits::TextError;
    match e {
        LibraryError::BadValue { field, .. } => field,
        LibraryError::UnknownStation(_) => "stations",
        LibraryError::Edit(EditError::Dates { .. }) => "valid_until",
        LibraryError::Edit(EditError::Station { .. }) => "stations",
        LibraryError::Edit(EditError::Text { error, .. }) => match error {
            TextError::TooLong { field, .. } => match *field {
                "producer" => "producer",
                "notes" => "notes",
                _ => "title",
            },
            TextError::TooManyStations { .. } => "stations",
            TextError::EmptyTitle => "title",
        },
        _ => "actions",
    }
}

/// `POST /library/{id}/edit`.
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<axum::Form<EditWithCsrf>, FormRejection>,
) -> Response {
    let (csrf, fields) = match form {
        Ok(axum::Form(f)) => (
            f.csrf_token,
            Some(EditForm {
                title: f.title,
                producer: f.producer,
                valid_from: f.valid_from,
                valid_until: f.valid_until,
                stations: f.stations,
                notes: f.notes,
            }),
        ),
        Err(_) => (None, None),
    };
    let lang = locale::of(&headers, None);
    let caller = match page_user(&state, lang, &method, &headers, csrf.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(fields) = fields else {
        let sentence = match lang {
            Lang::Vi => "Biểu mẫu gửi lên không hợp lệ.",
            Lang::En => "The form sent is not valid.",
        };
        return refused(lang, StatusCode::BAD_REQUEST, sentence);
    };
    match super::edit(&state, &caller, &client, &id, &fields).await {
        Ok(_) => see_other(&format!("/library/{id}?done=1"), &[]),
        Err(e @ LibraryError::NotFound(_)) => refused(lang, e.status(), &e.render(lang)),
        Err(e) => {
            let field = edit_field(&e);
            render_detail(
                &state,
                &caller,
                lang,
                &id,
                Some((field, e.render(lang))),
                e.status(),
                false,
            )
            .await
        }
    }
}

/// Reads a short text field (the plain form's CSRF token), at most 256 bytes.
async fn short_text(field: &mut axum::extract::multipart::Field<'_>) -> Option<String> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = field.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() > 256 {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

/// `POST /library/upload`: the upload form. With JavaScript the form's script sends it and
/// shows the progress; without, the browser posts it. The session's CSRF token comes in
/// the `X-CSRF-Token` header (the script) or as the form's first field.
pub async fn upload(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let lang = locale::of(&headers, None);
    let Ok(mut multipart) = multipart else {
        let sentence = match lang {
            Lang::Vi => "Biểu mẫu tải lên phải gửi dạng multipart/form-data.",
            Lang::En => "The upload form must be sent as multipart/form-data.",
        };
        return refused(lang, StatusCode::BAD_REQUEST, sentence);
    };
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) => c,
        Err(e) if e.0 == StatusCode::FORBIDDEN => {
            // The plain form: its csrf_token is the first field, before any file.
            let token = match multipart.next_field().await {
                Ok(Some(mut f)) if f.name() == Some("csrf_token") => short_text(&mut f).await,
                _ => None,
            };
            match authenticate(&state, &method, &headers, token.as_deref()).await {
                Ok(c) => c,
                Err(e) => return auth_refused(lang, e),
            }
        }
        Err(e) => return auth_refused(lang, e),
    };
    if caller.session().is_none() {
        return see_other("/login", &[]);
    }
    // The form's script names its upload to follow the measurement of each file.
    let following = UploadId::in_query(raw.as_deref(), "progress")
        .zip(caller.session())
        .and_then(|(id, s)| state.uploads.start(&s.token_hash, id, state.clock.now()))
        .map(|tracker| Following {
            tracker,
            clock: state.clock.clone(),
        });
    let empty = std::collections::BTreeMap::new();
    let received =
        match upload::receive(&mut multipart, &state.upload_dir, state.upload_max_bytes).await {
            Ok(r) => r,
            Err(e) => {
                return upload_refused(&state, &caller, lang, LibraryError::Upload(e), &empty).await
            }
        };
    let watch: std::sync::Arc<dyn crate::progress::Progress> = match &following {
        Some(f) => {
            f.tracker.analysing(
                received
                    .files
                    .iter()
                    .map(|p| {
                        p.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    })
                    .collect(),
            );
            std::sync::Arc::new(BatchWatch(f.tracker.clone()))
        }
        None => std::sync::Arc::new(crate::progress::Quiet),
    };
    match upload::add_watched(&state, &caller, &client, &received, watch).await {
        Ok(added) => {
            if let Some(f) = &following {
                f.tracker.end(true, state.clock.now());
            }
            let titles: Vec<String> = added.iter().map(|(_, b)| b.meta.title.clone()).collect();
            see_other(
                &format!("/library?uploaded={}", query_encode(&titles.join("\n"))),
                &[],
            )
        }
        Err(e) => upload_refused(&state, &caller, lang, e, &received.fields).await,
    }
}

/// The list page again with an upload's refusal at its field and the values given.
async fn upload_refused(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    error: LibraryError,
    values: &std::collections::BTreeMap<String, String>,
) -> Response {
    let status = error.status();
    if !abilities(caller).upload {
        return refused(lang, status, &error.render(lang));
    }
    let (field, sentences) = match &error {
        LibraryError::Upload(u) => (u.field(), u.sentences(lang)),
        LibraryError::UnknownStation(_) => ("stations", vec![error.render(lang)]),
        LibraryError::BadValue { field, .. } => (*field, vec![error.render(lang)]),
        other => ("file", vec![other.render(lang)]),
    };
    render_list(
        state,
        caller,
        lang,
        &LibraryQuery::default(),
        Flash::None,
        Some(UploadProblem {
            field,
            sentences,
            values,
        }),
        status,
    )
    .await
}

/// Percent-encodes a query value.
fn query_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
