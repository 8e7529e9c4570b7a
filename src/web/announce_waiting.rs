//! The announcements that wait for a station's next slot instance, as the **Thông báo** page
//! lists them (kept in the store, so they survive a restart), and their cancellation
//! (`POST /announcements/{id}/cancel`, the form's button): an operator or an admin, or a
//! commune user for its own station; CSRF-checked, audited, and the station's player drops
//! it from its queue. Words in both languages: [`Words`].

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

use crate::access::{Action, Decision};
use crate::lang::Lang;
use crate::library::Priority;
use crate::playout::control::Command;
use crate::store::{AnnouncementState, KeptAnnouncement};

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
    let w = words(lang);
    let refuse = |status: StatusCode, sentence: &str| {
        respond(status, message_in(lang, w.not_done, sentence))
    };
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
    // An id that is not a number is as unknown as one that is not kept.
    let Ok(id) = id.parse::<i64>() else {
        return refuse(StatusCode::NOT_FOUND, w.not_found);
    };
    let kept = match state.store.announcement(id).await {
        Ok(k) => k,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &ApiError::internal(e).1),
    };
    let Some(a) = kept.filter(|a| caller.sees(&a.station)) else {
        return refuse(StatusCode::NOT_FOUND, w.not_found);
    };
    match caller.decide(Action::AnnounceCancel, Some(&a.station)) {
        Decision::Allowed => {}
        Decision::Hidden => return refuse(StatusCode::NOT_FOUND, w.not_found),
        Decision::Forbidden => return refuse(StatusCode::FORBIDDEN, w.forbidden),
    }
    let now = state.clock.now();
    let who = caller.name();
    let ended = state
        .store
        .end_announcement(id, AnnouncementState::Cancelled, &who, now, None)
        .await;
    match ended {
        Ok(true) => {}
        Ok(false) => return refuse(StatusCode::CONFLICT, w.gone),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &ApiError::internal(e).1),
    }
    let entry = caller
        .audit(
            &state,
            &client,
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
    if let Err(e) = state.store.append_audit(&entry).await {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, &ApiError::internal(e).1);
    }
    if let Some(h) = state.stations.get(&a.station) {
        // A stopping player has nothing left to drop.
        let _ = h.send(Command::CancelAnnouncement { id }).await;
    }
    tracing::info!(announcement = id, station = %a.station, who = %who, "announcement cancelled");
    see_other("/announcements?cancelled=1", &[])
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
