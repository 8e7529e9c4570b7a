//! `GET /events/on-air`: the live parts of **Đang phát** as server-sent events, for htmx's
//! SSE extension on that page. Each event is named `station-{code}` and carries the
//! station's part as the page renders it ([`pages::station_live`], from the station's
//! status at that moment), so the page and the stream cannot drift; htmx swaps it into the
//! station's card. Only the stations the caller sees are sent.
//!
//! A station's part is sent when the stream opens (so nothing that happened between the
//! page's loading and the stream's opening is missed, and a reconnection catches up), on
//! every event of its player, and when a check every [`CHECK`] finds its status changed
//! without an event (an announcement queued, the next slot found, an operator's item over).
//! A listener too slow to keep up gets every part again. The stream ends once its session
//! or token no longer authenticates (checked every [`RECHECK`]): logged out, expired, the
//! user disabled. `GET /api/events` (JSON, for `loa ctl` and scripts) is
//! [`super::control::events`].

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::lang::Lang;
use crate::playout::control::{Event, Status};

use super::auth::{authenticate, still_valid, Caller};
use super::{pages, ApiError, AppState};

/// How often the stream looks for a status changed without an event.
pub const CHECK: Duration = Duration::from_secs(2);

/// How often the stream checks that its session (or token) is still valid; once it is not
/// (logged out, expired, the user disabled), the stream ends.
pub const RECHECK: Duration = Duration::from_secs(10);

/// The language of the parts (`?lang=vi|en`, Vietnamese by default).
#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    lang: Option<Lang>,
}

/// `GET /events/on-air?lang=vi|en`: the caller's stations' live parts as they change. A
/// console session (its cookie) or a bearer token; without either 401, which the browser's
/// event source retries later.
pub async fn stream(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    q: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    let lang = q
        .map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("bad query string: {} (lang is vi or en)", e.body_text()),
            )
        })?
        .0
        .lang
        .unwrap_or_default();
    let seen = state
        .stations
        .keys()
        .filter(|c| caller.sees(c))
        .cloned()
        .collect();
    // Subscribed before the first parts are rendered: no change falls in between.
    let events = state.events.subscribe();
    let mut live = Live::new(state, lang, seen, events, (caller, headers));
    live.queue_all(true);
    let stream = futures_util::stream::unfold(live, |mut live| async move {
        let e = live.next().await?;
        Some((Ok::<_, Infallible>(e), live))
    });
    Ok(axum::response::Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One listener's stream: what it sees and what it was last sent.
struct Live {
    /// The stations and the clock.
    state: AppState,
    /// The language of the parts.
    lang: Lang,
    /// The codes of the stations the caller sees.
    seen: Vec<String>,
    /// The players' events.
    events: broadcast::Receiver<Event>,
    /// When to look for a status changed without an event.
    check: tokio::time::Interval,
    /// Each station's status as last sent (JSON), to send a part only when it changed.
    sent: BTreeMap<String, String>,
    /// Parts ready to send.
    queue: VecDeque<Sse>,
    /// Who opened the stream and with what, checked again every [`RECHECK`].
    caller: (Caller, HeaderMap),
    /// When to check it.
    recheck: tokio::time::Interval,
}

impl Live {
    fn new(
        state: AppState,
        lang: Lang,
        seen: Vec<String>,
        events: broadcast::Receiver<Event>,
        caller: (Caller, HeaderMap),
    ) -> Live {
        let mut check = tokio::time::interval(CHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Live {
            state,
            lang,
            seen,
            events,
            check,
            sent: BTreeMap::new(),
            queue: VecDeque::new(),
            caller,
            recheck,
        }
    }

    /// The next part to send; `None` when the daemon stops or the caller's session ended.
    async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            tokio::select! {
                got = self.events.recv() => match got {
                    Ok(e) => {
                        let code = station_of(&e).to_string();
                        if self.seen.contains(&code) {
                            self.queue_part(&code, true);
                        }
                    }
                    Err(RecvError::Lagged(_)) => self.queue_all(true),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.check.tick() => self.queue_all(false),
                _ = self.recheck.tick() => {
                    if !still_valid(&self.state, &self.caller.0, &self.caller.1).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Queues every station's part (`always`, or only those whose status changed).
    fn queue_all(&mut self, always: bool) {
        for code in self.seen.clone() {
            self.queue_part(&code, always);
        }
    }

    /// Queues station `code`'s part, as of now (`always`, or only if its status changed
    /// since it was last sent).
    fn queue_part(&mut self, code: &str, always: bool) {
        let Some(h) = self.state.stations.get(code) else {
            return;
        };
        let status = h.status();
        let key = serde_json::to_string(&status).unwrap_or_default();
        if !always && self.sent.get(code) == Some(&key) {
            return;
        }
        let now = self.state.clock.now();
        self.queue
            .push_back(part(code, &status, self.lang, self.state.timezone, now));
        self.sent.insert(code.to_string(), key);
    }
}

/// The station an event is about.
fn station_of(e: &Event) -> &str {
    match e {
        Event::SlotStarted { station, .. }
        | Event::ItemStarted { station, .. }
        | Event::ItemEnded { station, .. }
        | Event::SlotEnded { station, .. }
        | Event::Alert { station, .. }
        | Event::NodeReported { station, .. } => station,
    }
}

/// Station `code`'s live part as an SSE event named for it. Its markup's line breaks
/// become one `data:` line each (a browser joins them again with `\n`); a `\r` becomes a
/// `\n` first, as an HTML parser would read it anyway, since a bare `\r` would end a line
/// of the stream too and come back as another.
pub fn part(
    code: &str,
    status: &Status,
    lang: Lang,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Sse {
    let html = pages::station_live(lang, status, tz, now).into_string();
    Sse::default()
        .event(pages::live_event(code))
        .data(html.replace("\r\n", "\n").replace('\r', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playout::alert::Alert;
    use crate::playout::control::{OnAir, PlayerState};

    /// The status of a station playing an item, with a multi-line alert.
    fn playing() -> Status {
        let started = "2026-03-02T07:00:10Z".parse().unwrap();
        Status {
            state: PlayerState::Playing {
                slot: "Buổi sáng".into(),
                by: None,
            },
            on_air: Some(OnAir {
                bulletin: "b1".into(),
                title: "Thủ tục mới <một cửa>".into(),
                started,
                duration_ms: 90_000,
                source: crate::airlog::CueSource::Schedule,
            }),
            next: vec!["b2".into()],
            alerts: vec![Alert::PlayFailed {
                bulletin: "b3".into(),
                detail: "dòng một\r\ndòng hai\rdòng ba\ndòng bốn".into(),
            }],
            makeups: 1,
            announcements: 2,
            next_slot: None,
            node: None,
        }
    }

    /// The events of an SSE body, read as a browser reads them: (name, data).
    fn read_events(body: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let (mut name, mut data): (String, Vec<String>) = (String::new(), Vec::new());
        for line in body.split('\n') {
            if line.is_empty() {
                if !data.is_empty() {
                    out.push((std::mem::take(&mut name), data.join("\n")));
                }
                data.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                name = v.strip_prefix(' ').unwrap_or(v).to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
            }
        }
        out
    }

    async fn body_of(e: Sse) -> String {
        let stream = futures_util::stream::iter([Ok::<_, Infallible>(e)]);
        let r = axum::response::Sse::new(stream).into_response();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_station_s_part_arrives_whole_under_its_own_event_name() {
        let now = "2026-03-02T07:00:40Z".parse().unwrap();
        let tz = chrono_tz::Asia::Ho_Chi_Minh;
        let status = playing();
        let body = body_of(part("vinh-an", &status, Lang::Vi, tz, now)).await;
        assert!(!body.contains('\r'), "{body:?}");
        let events = read_events(&body);
        let html = pages::station_live(Lang::Vi, &status, tz, now)
            .into_string()
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        assert_eq!(events, vec![("station-vinh-an".to_string(), html.clone())]);
        assert!(
            html.contains("dòng một\ndòng hai\ndòng ba\ndòng bốn"),
            "{html}"
        );
        assert!(html.contains("Thủ tục mới &lt;một cửa&gt;"), "{html}");
        assert!(html.contains("data-elapsed=\"30000\""), "{html}");
    }

    #[test]
    fn every_event_names_its_station() {
        let e = Event::Alert {
            station: "vinh-tien".into(),
            message: Alert::NothingOnAir { who: "an".into() },
        };
        assert_eq!(station_of(&e), "vinh-tien");
    }
}
