//! The **Lịch phát** page's forms: `POST /schedule/build|pin|unpin|lock|unlock`. They work
//! without JavaScript: a POST with the session's `csrf_token` and the version shown, then
//! a redirect (303) to the week with what was done, or the page again with the refusal at
//! the form that was sent and its status (403, 404, 409 …). Each calls the same operation
//! as the API ([`super`]).

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

use super::super::routes::Table;
use serde::Deserialize;

use crate::lang::Render;

use super::super::auth::{authenticate, Caller, Client};
use super::super::login::see_other;
use super::super::{locale, pages, AppState};
use super::page::{render, words, Problem, Shown};
use super::{change, edit, Change, SlotChange, WeekAction, WeekError};

/// Adds the page's form routes.
pub fn routes(t: Table) -> Table {
    t.get("/schedule", super::page)
        .post("/schedule/build", build)
        .post("/schedule/lock", lock)
        .post("/schedule/unlock", unlock)
        .post("/schedule/pin", pin)
        .post("/schedule/unpin", unpin)
}

/// A form of the page: the CSRF token, the week shown and its version, and for pins the
/// slot and bulletin.
#[derive(Debug, Default, Deserialize)]
struct Posted {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    week: String,
    #[serde(default)]
    station: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    slot: String,
    #[serde(default)]
    bulletin: String,
}

/// Which form was sent.
#[derive(Debug, Clone, Copy)]
enum Sent {
    Week(WeekAction),
    Pin,
    Unpin,
}

impl Sent {
    /// The word in the redirect's `done=`.
    fn done(self) -> &'static str {
        match self {
            Sent::Week(WeekAction::Build) => "build",
            Sent::Week(WeekAction::Lock) => "lock",
            Sent::Week(WeekAction::Unlock) => "unlock",
            Sent::Pin => "pin",
            Sent::Unpin => "unpin",
        }
    }
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
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

/// The version a form sent: a number, or refused at its field.
fn version(v: &str) -> Result<Option<u32>, WeekError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse().map(Some).map_err(|_| WeekError::BadValue {
        field: "version",
        given: v.chars().take(20).collect(),
    })
}

/// Runs one form.
async fn act(
    state: &AppState,
    client: &Client,
    method: &Method,
    headers: &HeaderMap,
    form: Result<axum::Form<Posted>, FormRejection>,
    sent: Sent,
) -> Response {
    let lang = locale::of(headers, None);
    let t = words(lang);
    let (csrf, posted) = match form {
        Ok(axum::Form(p)) => (p.csrf_token.clone(), Some(p)),
        Err(_) => (None, None),
    };
    let caller = match authenticate(state, method, headers, csrf.as_deref()).await {
        Ok(c @ Caller::User { .. }) if c.session().is_some() => c,
        Ok(_) => return see_other("/login", &[]),
        Err(e) if e.0 == StatusCode::UNAUTHORIZED => return see_other("/login", &[]),
        Err(e) => {
            return pages::respond(e.0, pages::message_in(lang, t.refused, &e.1));
        }
    };
    let Some(p) = posted else {
        return pages::respond(
            StatusCode::BAD_REQUEST,
            pages::message_in(lang, t.refused, t.bad_form),
        );
    };
    let done = match version(&p.version) {
        Err(e) => Err(e),
        Ok(version) => match sent {
            Sent::Week(what) => {
                let c = Change {
                    station: p.station.clone(),
                    version,
                };
                change(state, &caller, client, &p.week, what, &c).await
            }
            Sent::Pin | Sent::Unpin => {
                let c = SlotChange {
                    station: p.station.clone(),
                    slot: p.slot.clone(),
                    bulletin: p.bulletin.clone(),
                    version,
                };
                edit(
                    state,
                    &caller,
                    client,
                    &p.week,
                    matches!(sent, Sent::Pin),
                    &c,
                )
                .await
            }
        },
    };
    match done {
        Ok(w) => see_other(
            &format!(
                "/schedule?week={}&station={}&done={}",
                enc(&w.week),
                enc(&w.station),
                sent.done()
            ),
            &[],
        ),
        Err(
            e @ (WeekError::UnknownStation(_) | WeekError::BadWeek(_) | WeekError::Forbidden(..)),
        ) => pages::respond(
            e.status(),
            pages::message_in(lang, t.refused, &e.render(lang)),
        ),
        Err(e) => {
            let at = match sent {
                Sent::Week(WeekAction::Build) => "build".to_string(),
                Sent::Week(_) => "lock".to_string(),
                Sent::Pin | Sent::Unpin => slot_key(state, &caller, &p).await,
            };
            render(
                state,
                &caller,
                lang,
                Shown {
                    week: Some(p.week.clone()),
                    station: Some(p.station.clone()),
                    done: None,
                    problem: Some(Problem {
                        at,
                        sentence: e.render(lang),
                    }),
                    status: e.status(),
                },
            )
            .await
        }
    }
}

/// The key the page gives the slot a pin form named (its start, RFC 3339), so the refusal
/// shows at that slot; the slot as sent when the week has no such slot.
async fn slot_key(state: &AppState, caller: &Caller, p: &Posted) -> String {
    if let Ok(Some(w)) = super::weeks(state, caller, &p.week, Some(&p.station))
        .await
        .map(|mut l| l.pop())
    {
        if let Some(i) = crate::schedule::service::find_slot(&w.schedule, &p.slot) {
            return w.schedule.slots[i].start.to_rfc3339();
        }
    }
    // No such slot: the refusal shows at the first form of the week.
    "build".to_string()
}

macro_rules! form_handler {
    ($name:ident, $sent:expr, $doc:literal) => {
        #[doc = $doc]
        async fn $name(
            State(state): State<AppState>,
            client: Client,
            method: Method,
            headers: HeaderMap,
            form: Result<axum::Form<Posted>, FormRejection>,
        ) -> Response {
            act(&state, &client, &method, &headers, form, $sent).await
        }
    };
}

form_handler!(
    build,
    Sent::Week(WeekAction::Build),
    "`POST /schedule/build`: build or rebuild the week shown."
);
form_handler!(
    lock,
    Sent::Week(WeekAction::Lock),
    "`POST /schedule/lock`: lock the week shown."
);
form_handler!(
    unlock,
    Sent::Week(WeekAction::Unlock),
    "`POST /schedule/unlock`: unlock the week shown."
);
form_handler!(
    pin,
    Sent::Pin,
    "`POST /schedule/pin`: pin a bulletin into a slot instance."
);
form_handler!(
    unpin,
    Sent::Unpin,
    "`POST /schedule/unpin`: take a bulletin out of a slot instance."
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn a_form_s_version_is_a_number_or_refused_naming_it() {
        assert_eq!(version(" 4 ").unwrap(), Some(4));
        assert_eq!(version("").unwrap(), None);
        let e = version("bốn").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(
            e.render(Lang::Vi).contains("'bốn'"),
            "{}",
            e.render(Lang::Vi)
        );
    }

    #[test]
    fn a_query_value_is_percent_encoded() {
        assert_eq!(enc("2026-W10"), "2026-W10");
        assert_eq!(enc("a b&c"), "a%20b%26c");
    }
}
