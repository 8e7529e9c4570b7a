//! The console's **Thông báo** page (`GET /announcements`) and its form
//! (`POST /announcements`): pick a bulletin or type a text, a level of Circular 39/2020,
//! one station, a chosen group, or all the user may control; below, what waits for the next
//! slot and the airlog rows of recent announcements (where and when they aired). The form
//! works without JavaScript and goes through the API's path ([`super::announce::send`]).
//! Its words, in both languages, are in [`Words`].

use std::collections::{BTreeMap, HashMap};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::Duration;
use maud::{html, Markup};

use crate::access::{Action, Decision};
use crate::airlog::{CueSource, Level, Record};
use crate::lang::{Lang, Render};
use crate::library::{ApprovalState, Bulletin, Priority};

use super::announce::{send, stations_for, AnnounceError, Announcement, Content};
use super::announce_recording::{recorded, RecordingError};
use super::auth::{authenticate, Caller, Client};
use super::dates::{local_time, station_zone};
use super::library::upload::{receive, Received};
use super::login::see_other;
use super::pages::{page_in, respond};
use super::{locale, ApiError, AppState};

/// How far back the page lists announcements that aired.
const RECENT_DAYS: i64 = 7;
/// At most this many rows.
const RECENT_ROWS: usize = 100;

/// The page's words in one language.
#[derive(Debug)]
pub struct Words {
    title: &'static str,
    stations: &'static str,
    all: &'static str,
    level: &'static str,
    levels: [(&'static str, &'static str); 3],
    bulletin: &'static str,
    none: &'static str,
    or_text: &'static str,
    text_hint: &'static str,
    or_file: &'static str,
    one_source: &'static str,
    send: &'static str,
    sent_wait: &'static str,
    sent_now: &'static str,
    aired: &'static str,
    nothing_aired: &'static str,
    cols: [&'static str; 7],
    no_station: &'static str,
    pick_station: &'static str,
}

/// Vietnamese.
const VI: Words = Words {
    title: "Thông báo",
    stations: "Đài nhận",
    all: "Tất cả các đài bạn được điều khiển",
    level: "Mức phát (Thông tư 39/2020)",
    levels: [
        (
            "normal",
            "Thông thường: vào buổi phát tới, sau các bài theo lịch",
        ),
        ("priority", "Ưu tiên: vào buổi phát tới, trước các bài khác"),
        ("emergency", "Khẩn cấp: ngắt bài đang phát, phát ngay"),
    ],
    bulletin: "Bản tin có sẵn",
    none: "— không chọn —",
    or_text: "Hoặc nhập nội dung để đọc bằng giọng máy",
    text_hint: "Tối đa 2000 ký tự.",
    or_file: "Hoặc tải lên một tệp ghi âm",
    one_source: "Chỉ chọn một nguồn: bản tin có sẵn, nội dung để đọc hoặc tệp ghi âm.",
    send: "Gửi thông báo",
    sent_wait: "Đã gửi; thông báo sẽ phát ở buổi phát tới của mỗi đài.",
    sent_now: "Đã gửi; thông báo khẩn cấp đang phát.",
    aired: "Thông báo đã phát (7 ngày qua)",
    nothing_aired: "Chưa có thông báo nào được phát.",
    cols: [
        "Đài",
        "Dự kiến",
        "Thực tế",
        "Bản tin",
        "Mức",
        "Trạng thái",
        "Người gửi",
    ],
    no_station: "Vai trò của bạn không được gửi thông báo.",
    pick_station: "Hãy chọn ít nhất một đài.",
};

/// English.
const EN: Words = Words {
    title: "Announcements",
    stations: "Stations",
    all: "Every station you may control",
    level: "Level (Circular 39/2020)",
    levels: [
        (
            "normal",
            "Normal: into the next slot, after its scheduled items",
        ),
        (
            "priority",
            "Priority: into the next slot, ahead of its other items",
        ),
        (
            "emergency",
            "Emergency: interrupts what is on air, plays now",
        ),
    ],
    bulletin: "A bulletin from the library",
    none: "— none —",
    or_text: "Or type a text to be read by the speech synthesiser",
    text_hint: "At most 2000 characters.",
    or_file: "Or upload a recording",
    one_source: "Choose one source: a bulletin, a text to read or a recording.",
    send: "Send the announcement",
    sent_wait: "Sent; it airs in each station's next slot.",
    sent_now: "Sent; the emergency announcement is on air.",
    aired: "Announcements aired (last 7 days)",
    nothing_aired: "No announcement has aired yet.",
    cols: [
        "Station", "Planned", "Actual", "Bulletin", "Level", "Status", "Sent by",
    ],
    no_station: "Your role may not send announcements.",
    pick_station: "Choose at least one station.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// What the form held, to show it again after a refusal.
#[derive(Debug, Default, Clone)]
struct Filled {
    level: String,
    bulletin_id: String,
    text: String,
    all: bool,
    stations: Vec<String>,
}

impl Filled {
    fn from_form(form: &BTreeMap<String, String>) -> Filled {
        let get = |k: &str| form.get(k).cloned().unwrap_or_default();
        Filled {
            level: get("level"),
            bulletin_id: get("bulletin_id"),
            text: get("text"),
            all: form.contains_key("all"),
            stations: form
                .keys()
                .filter_map(|k| k.strip_prefix("station:"))
                .map(str::to_string)
                .chain(
                    form.get("stations")
                        .into_iter()
                        .flat_map(|s| s.split(','))
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                )
                .collect(),
        }
    }
}

/// An error shown at a field.
struct FieldError {
    field: &'static str,
    sentence: String,
}

/// What the page says the last action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    /// Sent; it waits for each station's next slot.
    Waiting,
    /// Sent; an emergency on air now.
    Now,
    /// A waiting announcement cancelled.
    Cancelled,
}

/// `GET /announcements`.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(caller) = authenticate(&state, &method, &headers, None).await else {
        return see_other("/login", &[]);
    };
    if caller.session().is_none() {
        return see_other("/login", &[]);
    }
    let lang = locale::of(&headers, query.as_deref());
    let said = |k: &str| {
        query
            .as_deref()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix(k)))
    };
    let sent = match (said("sent="), said("cancelled=")) {
        (_, Some(_)) => Some(Done::Cancelled),
        (Some("emergency"), _) => Some(Done::Now),
        (Some(_), _) => Some(Done::Waiting),
        _ => None,
    };
    let r = render(
        &state,
        &caller,
        lang,
        StatusCode::OK,
        Filled::default(),
        None,
        sent,
    )
    .await;
    locale::remember(r, query.as_deref())
}

/// `POST /announcements`: the form, sent like the API's request.
pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let lang = locale::of(&headers, None);
    let (caller, form, received) = match read_form(&state, &method, &headers, request).await {
        Ok(got) => got,
        Err(r) => return r,
    };
    let filled = Filled::from_form(&form);
    let has_file = received.as_ref().is_some_and(|r| !r.files.is_empty());
    let parsed = if has_file {
        // A recording is the announcement's audio: neither a bulletin nor a text beside it.
        if !filled.bulletin_id.trim().is_empty() || !filled.text.trim().is_empty() {
            Err(FieldError {
                field: "file",
                sentence: words(lang).one_source.into(),
            })
        } else {
            Announcement::parse(&filled.level, None, Some("-"))
                .map(|a| a.level)
                .map_err(|e| FieldError {
                    field: e.field(),
                    sentence: error_words(lang, &e),
                })
        }
    } else {
        Announcement::parse(
            &filled.level,
            Some(filled.bulletin_id.as_str()),
            // A form always sends the text box: left blank, it is not given.
            Some(filled.text.as_str()).filter(|t| !t.trim().is_empty()),
        )
        .map(|a| a.level)
        .map_err(|e| FieldError {
            field: e.field(),
            sentence: error_words(lang, &e),
        })
    };
    let level = match parsed {
        Ok(l) => l,
        Err(fe) => {
            return render(
                &state,
                &caller,
                lang,
                StatusCode::BAD_REQUEST,
                filled,
                Some(fe),
                None,
            )
            .await
        }
    };
    let codes: Vec<String> = if filled.all {
        vec!["all".into()]
    } else {
        filled.stations.clone()
    };
    if codes.is_empty() {
        let fe = FieldError {
            field: "stations",
            sentence: words(lang).pick_station.into(),
        };
        return render(
            &state,
            &caller,
            lang,
            StatusCode::BAD_REQUEST,
            filled,
            Some(fe),
            None,
        )
        .await;
    }
    let stations = match stations_for(&state, &caller, level, &codes) {
        Ok(s) => s,
        Err(e) => return refused(lang, e),
    };
    let content = match received.as_ref().filter(|_| has_file) {
        Some(r) => {
            let codes: Vec<String> = stations.iter().map(|(c, _)| c.clone()).collect();
            match recorded(&state, &caller, &client, level, r, &codes).await {
                Ok(b) => Content::Recorded(b.id),
                Err(RecordingError::File(e)) => {
                    let fe = FieldError {
                        field: "file",
                        sentence: e.render(lang),
                    };
                    return render(&state, &caller, lang, e.status(), filled, Some(fe), None).await;
                }
                Err(RecordingError::Other(e)) => return refused(lang, e),
            }
        }
        None => match Announcement::parse(
            &filled.level,
            Some(filled.bulletin_id.as_str()),
            Some(filled.text.as_str()).filter(|t| !t.trim().is_empty()),
        ) {
            Ok(a) => a.content,
            Err(e) => return refused(lang, ApiError(StatusCode::BAD_REQUEST, e.to_string())),
        },
    };
    // The staged file is removed once added (or refused).
    drop(received);
    let a = Announcement { level, content };
    if matches!(a.content, Content::Text(_))
        && stations
            .iter()
            .any(|(c, _)| caller.decide(Action::BulletinUpload, Some(c)) != Decision::Allowed)
    {
        return refused(lang, ApiError(StatusCode::FORBIDDEN, String::new()));
    }
    match send(&state, &caller, &client, stations, &a).await {
        Ok(s) if s.waits_for_next_slot => see_other("/announcements?sent=waiting", &[]),
        Ok(_) => see_other("/announcements?sent=emergency", &[]),
        Err(e) => refused(lang, e),
    }
}

/// The form as sent: urlencoded (no file) or multipart (a recording streamed to disk with
/// the library upload's limit), its CSRF token checked before any file is read. Stations
/// come as `stations` (repeated) or `station:CODE` keys. A refusal is the page to answer.
async fn read_form(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    request: axum::extract::Request,
) -> Result<(Caller, BTreeMap<String, String>, Option<Received>), Response> {
    use axum::extract::FromRequest;
    let lang = locale::of(headers, None);
    let auth = |token: Option<String>| async move {
        match authenticate(state, method, headers, token.as_deref()).await {
            Ok(c) => Ok(c),
            Err(e) if e.0 == StatusCode::UNAUTHORIZED => Err(see_other("/login", &[])),
            Err(e) => Err(refused(lang, e)),
        }
    };
    if !super::announce_recording::is_multipart(headers) {
        let pairs = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map(|f| f.0)
            .unwrap_or_default();
        let mut form: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in pairs {
            match (k.as_str(), form.get_mut("stations")) {
                ("stations", Some(prev)) => *prev = format!("{prev},{v}"),
                _ => {
                    form.insert(k, v);
                }
            }
        }
        let caller = auth(form.get("csrf_token").cloned()).await?;
        return Ok((caller, form, None));
    }
    let mut multipart = match axum::extract::Multipart::from_request(request, state).await {
        Ok(m) => m,
        Err(e) => {
            return Err(refused(
                lang,
                ApiError(StatusCode::BAD_REQUEST, e.body_text()),
            ))
        }
    };
    // The plain form sends its CSRF token first, before any file.
    let token = match multipart.next_field().await {
        Ok(Some(f)) if f.name() == Some("csrf_token") => {
            f.text().await.ok().filter(|t| t.len() <= 256)
        }
        _ => None,
    };
    let caller = auth(token.clone()).await?;
    let received = match receive(&mut multipart, &state.upload_dir, state.upload_max_bytes).await {
        Ok(r) => r,
        Err(e) => {
            let fe = FieldError {
                field: "file",
                sentence: e.render(lang),
            };
            return Err(render(
                state,
                &caller,
                lang,
                e.status(),
                Filled::default(),
                Some(fe),
                None,
            )
            .await);
        }
    };
    let mut form = received.fields.clone();
    if let Some(t) = token {
        form.insert("csrf_token".into(), t);
    }
    Ok((caller, form, Some(received)))
}

fn error_words(lang: Lang, e: &AnnounceError) -> String {
    match lang {
        Lang::Vi => e.vi(),
        Lang::En => {
            let s = e.to_string();
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str() + ".")
                .unwrap_or_default()
        }
    }
}

/// A refused form as a page, in the page's language.
pub(super) fn refused(lang: Lang, e: ApiError) -> Response {
    let (title, sentence) = match (lang, e.0) {
        (Lang::Vi, StatusCode::NOT_FOUND) => {
            ("Không thực hiện được", "Không có đài này trong các đài bạn được xem.".to_string())
        }
        (Lang::En, StatusCode::NOT_FOUND) => {
            ("Not done", "No such station among those you may see.".to_string())
        }
        (Lang::Vi, StatusCode::FORBIDDEN) if e.1.contains("CSRF") => ("Không thực hiện được", e.1),
        (Lang::En, StatusCode::FORBIDDEN) if e.1.contains("CSRF") => (
            "Not done",
            "Refused: the anti-forgery (CSRF) token is missing or wrong, or the request came from another site; reload the page and try again.".to_string(),
        ),
        (Lang::Vi, StatusCode::FORBIDDEN) => ("Không thực hiện được", VI.no_station.to_string()),
        (Lang::En, StatusCode::FORBIDDEN) => ("Not done", EN.no_station.to_string()),
        (Lang::Vi, _) => ("Không thực hiện được", format!("Lỗi: {}", e.1)),
        (Lang::En, _) => ("Not done", format!("Error: {}", e.1)),
    };
    respond(e.0, super::pages::message_in(lang, title, &sentence))
}

/// The page: the form (for a user who may send), what waits, what aired.
async fn render(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    status: StatusCode,
    filled: Filled,
    error: Option<FieldError>,
    sent: Option<Done>,
) -> Response {
    let Caller::User {
        user,
        session: Some(session),
    } = caller
    else {
        return see_other("/login", &[]);
    };
    let w = words(lang);
    let controls: Vec<(String, String)> = state
        .stations
        .iter()
        .filter(|(c, _)| caller.decide(Action::Announce, Some(c)) == Decision::Allowed)
        .map(|(c, h)| (c.clone(), h.name.clone()))
        .collect();
    let waiting = match super::announce_waiting::waiting(state, caller).await {
        Ok(w) => w,
        Err(e) => return respond_error(lang, e),
    };
    let library = match state.catalogue.snapshot().await {
        Ok(l) => l,
        Err(e) => return respond_error(lang, ApiError::internal(e)),
    };
    let choices: Vec<&Bulletin> = library
        .in_title_order()
        .filter(|b| b.state == ApprovalState::Approved)
        .filter(|b| controls.iter().any(|(c, _)| b.meta.targets(c)))
        .collect();
    let titles: HashMap<String, &str> = library
        .by_id()
        .values()
        .map(|b| (b.id.to_string(), b.meta.title.as_str()))
        .collect();
    let now = state.clock.now();
    let mut rows: Vec<Record> = Vec::new();
    for (code, _) in state.stations.iter().filter(|(c, _)| caller.sees(c)) {
        match state
            .store
            .airlog(Some(code), Some(now - Duration::days(RECENT_DAYS)), None)
            .await
        {
            Ok(r) => rows.extend(r.into_iter().filter(|r| {
                r.level == Level::Item.as_str()
                    && matches!(
                        r.source,
                        CueSource::Announcement | CueSource::Priority | CueSource::Urgent
                    )
            })),
            Err(e) => return respond_error(lang, ApiError::internal(e)),
        }
    }
    rows.sort_by(|a, b| {
        b.planned_start
            .cmp(&a.planned_start)
            .then(b.seq.cmp(&a.seq))
    });
    rows.truncate(RECENT_ROWS);
    let names: HashMap<&str, &str> = state
        .stations
        .iter()
        .map(|(c, h)| (c.as_str(), h.name.as_str()))
        .collect();
    // Each row in its station's zone.
    let local = |t: &str, station: &str| local_time(t, station_zone(&state.plan, station));
    let level_of = |s: CueSource| match s {
        CueSource::Urgent => Priority::Emergency,
        CueSource::Priority => Priority::Priority,
        _ => Priority::Normal,
    };
    let role = match lang {
        Lang::Vi => user.grant.role.label_vi().to_string(),
        Lang::En => user.grant.role.to_string(),
    };
    let err_at = |f: &str| {
        error
            .as_ref()
            .filter(|e| e.field == f)
            .map(|e| e.sentence.clone())
    };
    let level_now = if filled.level.is_empty() {
        "normal"
    } else {
        filled.level.as_str()
    };
    let csrf = session.csrf.as_str();
    let body: Markup = html! {
        @match sent {
            Some(Done::Now) => { p.ok role="status" { (w.sent_now) } }
            Some(Done::Waiting) => { p.ok role="status" { (w.sent_wait) } }
            Some(Done::Cancelled) => { p.ok role="status" { (super::announce_waiting::cancelled_words(lang)) } }
            None => {}
        }
        @if controls.is_empty() {
            p.card { (w.no_station) }
        } @else {
            form.card method="post" action="/announcements" enctype="multipart/form-data" {
                input type="hidden" name="csrf_token" value=(csrf);
                fieldset {
                    legend { (w.stations) }
                    @if let Some(e) = err_at("stations") { p.field-error role="alert" { (e) } }
                    @for (code, name) in &controls {
                        label {
                            input type="checkbox" name="stations" value=(code)
                                checked[filled.stations.contains(code) || controls.len() == 1];
                            (name)
                        }
                    }
                    @if controls.len() > 1 {
                        label { input type="checkbox" name="all" checked[filled.all]; (w.all) }
                    }
                }
                fieldset {
                    legend { (w.level) }
                    @if let Some(e) = err_at("level") { p.field-error role="alert" { (e) } }
                    @for (code, label) in &w.levels {
                        label {
                            input type="radio" name="level" value=(code) checked[*code == level_now];
                            (label)
                        }
                    }
                }
                label for="bulletin_id" { (w.bulletin) }
                @if let Some(e) = err_at("bulletin_id") { p.field-error role="alert" { (e) } }
                select #bulletin_id name="bulletin_id" {
                    option value="" { (w.none) }
                    @for b in &choices {
                        @let id = b.id.to_string();
                        option value=(id) selected[id == filled.bulletin_id] {
                            (b.meta.title) " (" (b.audio.duration_ms / 1000) " s)"
                        }
                    }
                }
                label for="text" { (w.or_text) }
                @if let Some(e) = err_at("text") { p.field-error role="alert" { (e) } }
                textarea #text name="text" rows="4" maxlength="2000" { (filled.text) }
                p.muted { (w.text_hint) }
                label for="file" { (w.or_file) }
                @if let Some(e) = err_at("file") { p.field-error role="alert" { (e) } }
                input #file type="file" name="file" accept="audio/*";
                p { button type="submit" { (w.send) } }
            }
        }
        (super::announce_waiting::section(state, caller, lang, csrf, &waiting, &names, &titles, level_label))
        section.card {
            h2 { (w.aired) }
            @if rows.is_empty() {
                p.muted { (w.nothing_aired) }
            } @else {
                div.table { table {
                    thead { tr { @for c in &w.cols { th { (c) } } } }
                    tbody { @for r in &rows {
                        @let bid = r.bulletin_id.clone().unwrap_or_default();
                        tr {
                            td { (names.get(r.station.as_str()).copied().unwrap_or(r.station.as_str())) }
                            td { (local(&r.planned_start, &r.station)) }
                            td { (r.actual_start.as_deref().map(|t| local(t, &r.station)).unwrap_or_default()) }
                            td { (titles.get(&bid).copied().unwrap_or(bid.as_str())) }
                            td { (level_label(lang, level_of(r.source))) }
                            td {
                                (r.status.render(lang))
                                @if !r.reason.is_empty() { br; span.muted { (r.reason.render(lang)) } }
                            }
                            td { (r.who) }
                        }
                    } }
                } }
            }
        }
    };
    respond(
        status,
        page_in(lang, w.title, Some((user.name.as_str(), &role, csrf)), body),
    )
}

/// A level in `lang`.
fn level_label(lang: Lang, level: Priority) -> &'static str {
    match lang {
        Lang::Vi => level.label_vi(),
        Lang::En => match level {
            Priority::Normal => "normal",
            Priority::Priority => "priority",
            Priority::Emergency => "emergency",
        },
    }
}

fn respond_error(lang: Lang, e: ApiError) -> Response {
    refused(lang, e)
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables(
            "announce_page",
            &format!("{VI:?}"),
            &format!("{EN:?}"),
        );
    }
}
