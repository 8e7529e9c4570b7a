//! The announcements that wait for a station's next slot instance, as the **Thông báo** page
//! lists them (kept in the store, so they survive a restart), and their cancellation
//! (`POST /announcements/{id}/cancel`, the form's button, and
//! `POST /api/v1/announcements/{id}/cancel`): an operator or an admin, or a
//! commune user for its own station; CSRF-checked, audited, and the station's player drops
//! it from its queue. Words in both languages: [`Words`].

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use maud::{html, Markup};

use crate::access::{Action, Decision};
use crate::lang::Lang;
use crate::library::Priority;
use crate::playout::control::Command;
use crate::store::{AnnouncementState, KeptAnnouncement};

use super::api::{ApiCaller, ErrorBody};
use super::auth::{authenticate, Caller, Client};
use super::dates::{local_time, station_zone};
use super::login::see_other;
use super::pages::{message_in, respond};
use super::{locale, ApiError, AppState};

/// The words of the waiting list and of a cancellation, in one language.
#[derive(Debug)]
pub struct Words {
    title: &'static str,
    cols: [&'static str; 5],
    cancel: &'static str,
    cancelled: &'static str,
    not_done: &'static str,
    gone: &'static str,
    not_found: &'static str,
    forbidden: &'static str,
}

/// Vietnamese.
const VI: Words = Words {
    title: "Đang chờ buổi phát tới",
    cols: ["Đài", "Bản tin", "Mức", "Người gửi", "Lúc gửi"],
    cancel: "Hủy",
    cancelled: "Đã hủy thông báo đang chờ.",
    not_done: "Không thực hiện được",
    gone: "Thông báo này không còn chờ nữa (đã phát, đã hủy hoặc đã hết hạn).",
    not_found: "Không có thông báo này trong các đài bạn được xem.",
    forbidden: "Vai trò của bạn không được hủy thông báo.",
};

/// English.
const EN: Words = Words {
    title: "Waiting for the next slot",
    cols: ["Station", "Bulletin", "Level", "Sent by", "Sent at"],
    cancel: "Cancel",
    cancelled: "The waiting announcement is cancelled.",
    not_done: "Not done",
    gone: "This announcement no longer waits (it aired, was cancelled or expired).",
    not_found: "No such announcement among the stations you may see.",
    forbidden: "Your role may not cancel announcements.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// The sentence said after a cancellation (`?cancelled=1`).
pub fn cancelled_words(lang: Lang) -> &'static str {
    words(lang).cancelled
}

/// The waiting announcements of the stations `caller` sees, oldest first.
pub async fn waiting(state: &AppState, caller: &Caller) -> Result<Vec<KeptAnnouncement>, ApiError> {
    Ok(state
        .store
        .announcements(None, Some(AnnouncementState::Waiting))
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .filter(|a| caller.sees(&a.station))
        .collect())
}

/// What a page shows of a level.
pub type LevelWords = fn(Lang, Priority) -> &'static str;

/// The waiting list: each with its station, title, level, sender and time (in the station's
/// zone), and a cancel button where `caller` may cancel.
#[allow(clippy::too_many_arguments)]
pub fn section(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    csrf: &str,
    list: &[KeptAnnouncement],
    names: &HashMap<&str, &str>,
    titles: &HashMap<String, &str>,
    level: LevelWords,
) -> Markup {
    let w = words(lang);
    html! {
        @if !list.is_empty() {
            section.card #waiting {
                h2 { (w.title) }
                div.table { table {
                    thead { tr { @for c in &w.cols { th { (c) } } th {} } }
                    tbody { @for a in list {
                        @let id = a.bulletin.to_string();
                        tr id=(format!("announcement-{}", a.id)) {
                            td { (names.get(a.station.as_str()).copied().unwrap_or(a.station.as_str())) }
                            td { (titles.get(&id).copied().unwrap_or(id.as_str())) }
                            td { (level(lang, a.level)) }
                            td { (a.who) }
                            td { (local_time(&a.sent_at, station_zone(&state.plan, &a.station))) }
                            td {
                                @if caller.decide(Action::AnnounceCancel, Some(&a.station)) == Decision::Allowed {
                                    form method="post" action=(format!("/announcements/{}/cancel", a.id)) {
                                        input type="hidden" name="csrf_token" value=(csrf);
                                        button type="submit" { (w.cancel) }
                                    }
                                }
                            }
                        }
                    } }
                } }
            }
        }
    }
}

/// Why a cancellation was refused.
#[derive(Debug)]
pub enum CancelError {
    /// No such announcement among the stations the caller sees (404).
    NotFound,
    /// The caller's role may not cancel (403).
    Forbidden,
    /// It no longer waits: it aired, was cancelled or expired (409).
    Gone,
    /// The store failed (500, logged).
    Store(ApiError),
}

impl CancelError {
    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        match self {
            CancelError::NotFound => StatusCode::NOT_FOUND,
            CancelError::Forbidden => StatusCode::FORBIDDEN,
            CancelError::Gone => StatusCode::CONFLICT,
            CancelError::Store(e) => e.0,
        }
    }

    /// The sentence in `lang`.
    pub fn sentence(&self, lang: Lang) -> String {
        let w = words(lang);
        match self {
            CancelError::NotFound => w.not_found.into(),
            CancelError::Forbidden => w.forbidden.into(),
            CancelError::Gone => w.gone.into(),
            CancelError::Store(e) => e.1.clone(),
        }
    }
}

impl From<CancelError> for ApiError {
    fn from(e: CancelError) -> ApiError {
        ApiError(e.status(), e.sentence(Lang::En))
    }
}

/// Cancels the waiting announcement numbered `id` (as typed) for `caller`: confined (one of
/// another station, or no number, is not found), permitted by the rule, ended in the store,
/// audited, and dropped from the station's player. The console's button and the API call it.
pub async fn cancel_kept(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    id: &str,
) -> Result<KeptAnnouncement, CancelError> {
    // An id that is not a number is as unknown as one that is not kept.
    let id = id.parse::<i64>().map_err(|_| CancelError::NotFound)?;
    let kept = state
        .store
        .announcement(id)
        .await
        .map_err(|e| CancelError::Store(ApiError::internal(e)))?;
    let a = kept
        .filter(|a| caller.sees(&a.station))
        .ok_or(CancelError::NotFound)?;
    match caller.decide(Action::AnnounceCancel, Some(&a.station)) {
        Decision::Allowed => {}
        Decision::Hidden => return Err(CancelError::NotFound),
        Decision::Forbidden => return Err(CancelError::Forbidden),
    }
    let now = state.clock.now();
    let who = caller.name();
    let ended = state
        .store
        .end_announcement(id, AnnouncementState::Cancelled, &who, now, None)
        .await
        .map_err(|e| CancelError::Store(ApiError::internal(e)))?;
    if !ended {
        return Err(CancelError::Gone);
    }
    let entry = caller
        .audit(
            state,
            client,
            Action::AnnounceCancel,
            Some(&a.station),
            &id.to_string(),
        )
        .with_change(
            Some(serde_json::json!({
                "state": "waiting",
                "bulletin": a.bulletin.to_string(),
                "level": a.level.as_str(),
                "sent_by": a.who,
            })),
            Some(serde_json::json!({ "state": "cancelled" })),
        );
    state
        .store
        .append_audit(&entry)
        .await
        .map_err(|e| CancelError::Store(ApiError::internal(e)))?;
    if let Some(h) = state.stations.get(&a.station) {
        // A stopping player has nothing left to drop.
        let _ = h.send(Command::CancelAnnouncement { id }).await;
    }
    tracing::info!(announcement = id, station = %a.station, who = %who, "announcement cancelled");
    Ok(a)
}

/// `POST /announcements/{id}/cancel`: the form's cancel button.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    form: Result<
        axum::Form<std::collections::BTreeMap<String, String>>,
        axum::extract::rejection::FormRejection,
    >,
) -> Response {
    let form = form.map(|f| f.0).unwrap_or_default();
    let lang = locale::of(&headers, None);
    let caller = match authenticate(
        &state,
        &method,
        &headers,
        form.get("csrf_token").map(String::as_str),
    )
    .await
    {
        Ok(c) => c,
        Err(e) if e.0 == StatusCode::UNAUTHORIZED => return see_other("/login", &[]),
        Err(e) => return super::announce_page::refused(lang, e),
    };
    match cancel_kept(&state, &caller, &client, &id).await {
        Ok(_) => see_other("/announcements?cancelled=1", &[]),
        Err(e) => respond(
            e.status(),
            message_in(lang, words(lang).not_done, &e.sentence(lang)),
        ),
    }
}

/// What `POST /api/v1/announcements/{id}/cancel` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Cancelled {
    /// Always true.
    pub ok: bool,
    /// The announcement's number.
    pub announcement: i64,
    /// Its station.
    pub station: String,
}

/// Cancels an announcement that waits for its station's next slot (the numbers are in the
/// answer of `POST /api/v1/stations/{code}/announcements`).
#[utoipa::path(
    post,
    path = "/api/v1/announcements/{id}/cancel",
    tag = "on-air",
    params(("id" = i64, Path, description = "The waiting announcement's number")),
    responses(
        (status = 200, description = "Cancelled: it will not air", body = Cancelled),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "The role may not cancel, or a session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such announcement among the stations the caller sees", body = ErrorBody),
        (status = 409, description = "It no longer waits (aired, cancelled or expired)", body = ErrorBody),
    )
)]
pub async fn api_cancel(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    let a = cancel_kept(&state, &caller, &client, &id).await?;
    Ok(Json(Cancelled {
        ok: true,
        announcement: a.id,
        station: a.station,
    }))
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables(
            "announce_waiting",
            &format!("{VI:?}"),
            &format!("{EN:?}"),
        );
    }
}
