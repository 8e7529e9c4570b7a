//! The console's pages, server-rendered with maud (the one file that knows the template
//! engine): the login form and the **Đang phát** (on-air) home page. Vietnamese, usable on
//! a 390-px phone, styled by one stylesheet embedded in the binary ([`CSS`], served at
//! [`CSS_PATH`]), kept live by htmx ([`super::assets`]) and a small script of its own
//! ([`JS`]): no CDN, since a district LAN may have no Internet; no inline script or style
//! (the CSP of [`respond`] forbids them). Pages take plain values; no permission logic or
//! store access here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::lang::{Lang, Render};
use crate::playout::control::{PlayerState, Status};

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/assets/loa.css";

/// Where the on-air page's own script is served.
pub const JS_PATH: &str = "/assets/loa.js";

/// The on-air page's own script, embedded: what htmx does not do (the item on air's
/// progress ticking each second, the urgent button's confirmation). The page works
/// without it.
pub const JS: &str = include_str!("assets/loa.js");

/// The stylesheet, embedded.
pub const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1b1f24;background:#f4f6f8}
header{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between;padding:.6rem 1rem;background:#0b4f8a;color:#fff}
header h1{font-size:1.15rem;margin:0}
header form{margin:0}
main{max-width:60rem;margin:0 auto;padding:1rem}
.card{background:#fff;border:1px solid #d5dbe1;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.card h2{font-size:1.1rem;margin:0 0 .5rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.6rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:.35rem}
button{padding:.6rem 1rem;font-size:1rem;border:0;border-radius:.35rem;background:#0b4f8a;color:#fff;cursor:pointer}
header button{background:#fff;color:#0b4f8a}
.error{background:#fdecea;border:1px solid #f5c2bd;color:#8a1c12;padding:.6rem;border-radius:.35rem}
.state{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.85rem;background:#e6ebf0}
.state.playing{background:#d8f3dc;color:#1b5e20}
.alert{color:#8a1c12}
ul{padding-left:1.2rem;margin:.25rem 0}
.muted{color:#5c6773;font-size:.9rem}
.login{max-width:24rem;margin:3rem auto}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem}
.actions form{margin:0}
progress{width:12rem;max-width:60%;vertical-align:middle}
form.play{margin-top:.75rem}
nav.pager{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:1rem 0}
button.stop{background:#8a1c12}
header a.lang{color:#fff}
header nav{display:flex;flex-wrap:wrap;gap:.25rem .75rem;width:100%;order:3}
header nav a{color:#dbe9f6;text-decoration:none}
header nav a[aria-current]{color:#fff;font-weight:600;text-decoration:underline}
textarea,select{width:100%;padding:.6rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:.35rem;font-family:inherit}
fieldset{border:1px solid #d5dbe1;border-radius:.35rem;margin:.75rem 0;padding:.5rem .75rem}
fieldset label{display:inline-flex;gap:.35rem;align-items:center;font-weight:400;margin:.25rem 1rem .25rem 0}
.field-error{color:#8a1c12;margin:.25rem 0}
.ok{background:#e7f5ea;border:1px solid #b7dfc0;color:#1b5e20;padding:.6rem;border-radius:.35rem}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid #e3e8ed;vertical-align:top}
select,input[type=date],input[type=file]{max-width:100%;padding:.5rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:.35rem;background:#fff}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:0 .75rem}
.filters select,.filters input{width:100%}
ul.items{list-style:none;padding:0}
.state.draft{background:#fff3cd;color:#6b4e00}
.state.retired{background:#e2e3e5;color:#41464b}
dl.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem .75rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;min-width:0}
.hash{font-family:monospace;word-break:break-all}
.scroll{overflow-x:auto}
progress{width:100%;max-width:24rem}
details>summary{cursor:pointer}
.fill{height:.5rem;background:#e6ebf0;border-radius:.25rem;overflow:hidden;max-width:24rem}
.fill>div{height:100%;background:#2e7d32}
.slot{margin:.75rem 0;padding-top:.5rem;border-top:1px solid #e3e8ed}
li.item{display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:center;margin:.2rem 0}
li.item span{min-width:0;overflow-wrap:anywhere}
form.unpin{margin:0}
button.small{padding:.2rem .6rem;font-size:.85rem;background:#5c6773}
form.pin button{margin-top:.5rem}
"#;

/// A whole page: the head, the stylesheet, a header with the user (when logged in) and the
/// body.
fn page(title: &str, user: Option<(&str, &str, &str)>, body: Markup) -> Markup {
    page_in(Lang::Vi, title, user, body)
}

/// A whole page in `lang`: its words come from the caller; the header's own (log out, the
/// other language) from here.
pub(crate) fn page_in(
    lang: Lang,
    title: &str,
    user: Option<(&str, &str, &str)>,
    body: Markup,
) -> Markup {
    let (logout, other, other_code) = match lang {
        Lang::Vi => ("Đăng xuất", "English", "en"),
        Lang::En => ("Log out", "Tiếng Việt", "vi"),
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · loa" }
                link rel="stylesheet" href=(CSS_PATH);
                meta name="htmx-config" content=(super::assets::HTMX_CONFIG);
            }
            // Every htmx request a page makes carries the session's CSRF token.
            body hx-headers=[user.map(|(_, _, csrf)| csrf_header(csrf))] {
                header {
                    h1 { "loa · " (title) }
                    @if let Some((_, role, _)) = user {
                        nav aria-label=(match lang { Lang::Vi => "Các trang", Lang::En => "Pages" }) {
                            @for (href, vi, en) in NAV {
                                @if !ADMIN_PAGES.contains(href) || is_admin(role) {
                                    a href=(href) aria-current=[(*vi == title || *en == title).then_some("page")] {
                                        (match lang { Lang::Vi => *vi, Lang::En => *en })
                                    }
                                }
                            }
                        }
                    }
                    @if let Some((name, role, csrf)) = user {
                        span { (name) " (" (role) ")" }
                        a.lang href=(format!("?lang={other_code}")) hreflang=(other_code) { (other) }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf_token" value=(csrf);
                            button type="submit" { (logout) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The `hx-headers` of a logged-in page: the session's CSRF token, which the server wants
/// on every state change made from a script ([`super::auth::authenticate`]).
fn csrf_header(csrf: &str) -> String {
    serde_json::json!({ crate::access::session::CSRF_HEADER: csrf }).to_string()
}

/// The console's pages in the navigation: path, Vietnamese and English names.
const NAV: &[(&str, &str, &str)] = &[
    ("/", "Đang phát", "On air"),
    ("/library", "Thư viện", "Library"),
    ("/schedule", "Lịch phát", "Schedule"),
    ("/announcements", "Thông báo", "Announcements"),
    ("/airlog", "Nhật ký phát sóng", "Airlog"),
    ("/reports", "Báo cáo", "Reports"),
    ("/users", "Người dùng", "Users"),
    ("/audit", "Nhật ký thao tác", "Audit log"),
];

/// The pages only an admin opens (the others answer 403 there, so they are not offered).
const ADMIN_PAGES: &[&str] = &["/users", "/audit"];

/// Whether the role shown in the header (either language's name) is the admin's.
fn is_admin(role: &str) -> bool {
    role == crate::access::Role::Admin.label_vi() || role == crate::access::Role::Admin.as_str()
}

/// A page as a response with `status` and the headers every console page carries: never
/// cached, never framed, no resources from elsewhere.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    );
    r
}

/// The login form, with its CSRF token and, after a refusal, why.
pub fn login(csrf: &str, username: &str, error: Option<&str>) -> Markup {
    page(
        "Đăng nhập",
        None,
        html! {
            div.card.login {
                h2 { "Đăng nhập bảng điều khiển" }
                @if let Some(e) = error {
                    p.error role="alert" { (e) }
                }
                form method="post" action="/login" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    label for="username" { "Tên đăng nhập" }
                    input #username type="text" name="username" value=(username)
                        autocomplete="username" required autofocus;
                    label for="password" { "Mật khẩu" }
                    input #password type="password" name="password"
                        autocomplete="current-password" required;
                    p { button type="submit" { "Đăng nhập" } }
                }
            }
        },
    )
}

/// One station on the on-air page.
pub struct StationView {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// What it is doing.
    pub status: Status,
    /// Whether the user may skip and stop here (the buttons are shown only then).
    pub controls: bool,
    /// The approved bulletins the user may play now or as urgent here (id, title), in
    /// Vietnamese order; empty when the user may not.
    pub playable: Vec<(String, String)>,
}

/// The on-air page's words in one language.
#[derive(Debug)]
struct OnAirWords {
    title: &'static str,
    idle: &'static str,
    playing: &'static str,
    stopping: &'static str,
    since: &'static str,
    next: &'static str,
    next_slot: &'static str,
    makeups: &'static str,
    announcements: &'static str,
    alerts: &'static str,
    skip: &'static str,
    stop: &'static str,
    pick: &'static str,
    play_now: &'static str,
    urgent: &'static str,
    urgent_confirm: &'static str,
    reload: &'static str,
    none: &'static str,
}

const ON_AIR_VI: OnAirWords = OnAirWords {
    title: "Đang phát",
    idle: "Chờ buổi phát",
    playing: "Đang phát:",
    stopping: "Đang dừng",
    since: "từ",
    next: "Tiếp theo:",
    next_slot: "Buổi sau:",
    makeups: "Chờ phát bù:",
    announcements: "Thông báo chờ buổi sau:",
    alerts: "Cảnh báo:",
    skip: "Bỏ qua bài đang phát",
    stop: "Dừng buổi phát",
    pick: "Bản tin để phát",
    play_now: "Phát ngay",
    urgent: "Phát khẩn cấp",
    urgent_confirm: "Ngắt ngay bài đang phát để phát khẩn cấp bản tin này?",
    reload: "Làm mới",
    none: "Không có đài nào của bạn do máy chủ này phát.",
};

const ON_AIR_EN: OnAirWords = OnAirWords {
    title: "On air",
    idle: "Waiting for a slot",
    playing: "On air:",
    stopping: "Stopping",
    since: "since",
    next: "Next:",
    next_slot: "Next slot:",
    makeups: "Waiting to be made up:",
    announcements: "Announcements waiting for the next slot:",
    alerts: "Alerts:",
    skip: "Skip the item on air",
    stop: "Stop the slot",
    pick: "Bulletin to play",
    play_now: "Play now",
    urgent: "Play as urgent",
    urgent_confirm: "Interrupt what is on air now to play this bulletin as urgent?",
    reload: "Reload",
    none: "None of your stations is played by this server.",
};

/// The state of a station in `w`'s language.
fn state_in(w: &OnAirWords, lang: Lang, s: &PlayerState) -> (String, bool) {
    match s {
        PlayerState::Idle => (w.idle.into(), false),
        PlayerState::Playing { by: Some(by), .. } => (
            format!("{} {} ({})", w.playing, by.source.render(lang), by.who),
            true,
        ),
        PlayerState::Playing { slot, by: None } => (format!("{} {slot}", w.playing), true),
        PlayerState::Stopping => (w.stopping.into(), false),
    }
}

/// The words of the on-air page in `lang`.
fn on_air_words(lang: Lang) -> &'static OnAirWords {
    match lang {
        Lang::Vi => &ON_AIR_VI,
        Lang::En => &ON_AIR_EN,
    }
}

/// The SSE event that carries station `code`'s live part ([`station_live`]) to the page.
pub fn live_event(code: &str) -> String {
    format!("station-{code}")
}

/// **Đang phát** in `lang`: every station the user sees, its live part ([`station_live`]),
/// with skip, stop and the play form for the stations the user may control. The live
/// parts follow the stations through htmx's SSE extension: one stream for the page
/// ([`super::on_air_stream`]), which sends each station's part again, rendered by the same
/// function, when it changes; the forms stay outside the part, so a swap never resets an
/// open choice. Without JavaScript the page is the same, as of its loading.
pub fn on_air_in(
    lang: Lang,
    user: (&str, &str, &str),
    stations: &[StationView],
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let csrf = user.2;
    let w = on_air_words(lang);
    page_in(
        lang,
        w.title,
        Some(user),
        html! {
            @if stations.is_empty() {
                p.card { (w.none) }
            } @else {
                div hx-ext="sse" sse-connect=(format!("/events/on-air?lang={}", lang.code())) {
                    @for s in stations {
                        (station_card(w, lang, csrf, s, tz, now))
                    }
                }
            }
            p.muted { a href="/" { (w.reload) } }
            script src=(super::assets::HTMX_PATH) {}
            script src=(super::assets::SSE_PATH) {}
            script src=(JS_PATH) {}
        },
    )
}

/// One station's card: its name, its live part, and its forms.
fn station_card(
    w: &OnAirWords,
    lang: Lang,
    csrf: &str,
    s: &StationView,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    html! {
        section.card id=(format!("station-{}", s.code)) {
            h2 { (s.name) " " span.muted { "(" (s.code) ")" } }
            div.live sse-swap=(live_event(&s.code)) hx-swap="innerHTML" {
                (station_live(lang, &s.status, tz, now))
            }
            @if s.controls {
                div.actions {
                    form method="post" action=(format!("/stations/{}/skip", s.code)) {
                        input type="hidden" name="csrf_token" value=(csrf);
                        button type="submit" { (w.skip) }
                    }
                    form method="post" action=(format!("/stations/{}/stop", s.code)) {
                        input type="hidden" name="csrf_token" value=(csrf);
                        button.stop type="submit" { (w.stop) }
                    }
                }
                @if !s.playable.is_empty() {
                    form.play method="post" action=(format!("/stations/{}/play", s.code)) {
                        input type="hidden" name="csrf_token" value=(csrf);
                        label for=(format!("play-{}", s.code)) { (w.pick) }
                        select id=(format!("play-{}", s.code)) name="bulletin" {
                            @for (id, title) in &s.playable { option value=(id) { (title) } }
                        }
                        div.actions {
                            button type="submit" { (w.play_now) }
                            button.stop type="submit"
                                formaction=(format!("/stations/{}/urgent", s.code))
                                data-confirm=(w.urgent_confirm) { (w.urgent) }
                        }
                    }
                }
            }
        }
    }
}

/// What a station is doing, as its card shows it and its SSE event carries it: the state,
/// the item on air with its progress (as of `now`; the page's script ticks it on), what
/// comes next, the next slot, make-ups and announcements waiting, and the alerts.
pub fn station_live(
    lang: Lang,
    status: &Status,
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let w = on_air_words(lang);
    let (state, playing) = state_in(w, lang, &status.state);
    html! {
        p { span.state.playing[playing] { (state) } }
        @if let Some(a) = &status.on_air {
            @let elapsed = (now - a.started).num_milliseconds().clamp(0, a.duration_ms as i64) as u64;
            p.onair {
                (w.playing) " " (a.title)
                " (" (w.since) " " (a.started.with_timezone(&tz).format("%H:%M:%S")) ")"
            }
            p {
                progress max=(a.duration_ms.max(1)) value=(elapsed)
                    data-elapsed=(elapsed) data-length=(a.duration_ms) {}
                " " span.clock.muted { (clock(elapsed)) " / " (clock(a.duration_ms)) }
            }
        }
        @if !status.next.is_empty() {
            p { (w.next) }
            ul { @for n in &status.next { li { (n) } } }
        }
        @if let Some(n) = &status.next_slot {
            p.muted { (w.next_slot) " " (n.name) ", " (n.start.format("%H:%M %d/%m/%Y")) }
        }
        @if status.makeups > 0 {
            p.muted { (w.makeups) " " (status.makeups) }
        }
        @if status.announcements > 0 {
            p.muted { (w.announcements) " " (status.announcements) }
        }
        @if let Some(n) = &status.node {
            p.node.muted { (super::view::node_summary(n, lang, tz)) }
        }
        @if !status.alerts.is_empty() {
            div.alerts {
                p { (w.alerts) }
                ul { @for a in &status.alerts { li.alert { (a.render(lang)) } } }
            }
        }
    }
}

/// A length as `m:ss` (or `h:mm:ss` from an hour).
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A short page saying one thing (a refusal, in Vietnamese), with a way back.
pub fn message(title: &str, sentence: &str) -> Markup {
    message_in(Lang::Vi, title, sentence)
}

/// A short page saying one thing in `lang`, with a way back.
pub fn message_in(lang: Lang, title: &str, sentence: &str) -> Markup {
    let back = match lang {
        Lang::Vi => "Về trang đăng nhập",
        Lang::En => "Back to the login page",
    };
    page_in(
        lang,
        title,
        None,
        html! {
            div.card.login {
                p.error role="alert" { (sentence) }
                p { a href="/login" { (back) } }
            }
        },
    )
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_on_air_words_hold_no_english_in_vietnamese_and_no_vietnamese_in_english() {
        crate::lang::tests::check_word_tables(
            "on air",
            &format!("{ON_AIR_VI:?}"),
            &format!("{ON_AIR_EN:?}"),
        );
    }
}

#[cfg(test)]
mod on_air_tests {
    use super::*;
    use crate::playout::control::{NextSlot, OnAir};

    fn station(code: &str, controls: bool) -> StationView {
        StationView {
            code: code.into(),
            name: "Xã Vĩnh An".into(),
            status: Status {
                state: PlayerState::Playing {
                    slot: "Buổi sáng".into(),
                    by: None,
                },
                on_air: Some(OnAir {
                    bulletin: "b1".into(),
                    title: "Thủ tục mới".into(),
                    started: "2026-03-02T07:00:00Z".parse().unwrap(),
                    duration_ms: 90_000,
                    source: crate::airlog::CueSource::Schedule,
                }),
                next: vec!["b2".into()],
                alerts: vec![crate::playout::alert::Alert::NothingOnAir { who: "an".into() }],
                makeups: 1,
                announcements: 1,
                next_slot: Some(NextSlot {
                    name: "Buổi chiều".into(),
                    start: "2026-03-02T17:00:00+07:00".parse().unwrap(),
                }),
                node: Some(crate::playout::control::NodeSeen {
                    node: "0123456789abcdef".into(),
                    reported_at: "2026-03-02T07:00:05Z".parse().unwrap(),
                    clock_offset_ms: Some(-2_500),
                    clock_rtt_ms: Some(14),
                    clock_held: false,
                    last_sync: Some("2026-03-02T07:00:00Z".parse().unwrap()),
                    manifest_until: Some("2026-03-08T17:00:00Z".parse().unwrap()),
                    disk_free_mb: Some(12_000),
                    chain_head: Some(41),
                    unsent_rows: 3,
                    version: "0.1.0".into(),
                }),
            },
            controls,
            playable: vec![("b9".into(), "Tin khẩn".into())],
        }
    }

    fn page(lang: Lang, stations: &[StationView]) -> String {
        on_air_in(
            lang,
            ("an", "Quản trị", "csrf-1"),
            stations,
            chrono_tz::Asia::Ho_Chi_Minh,
            "2026-03-02T07:00:30Z".parse().unwrap(),
        )
        .into_string()
    }

    #[test]
    fn the_stream_part_of_a_station_is_the_same_markup_the_page_shows() {
        let s = station("vinh-an", true);
        for lang in Lang::ALL {
            let page = page(lang, std::slice::from_ref(&s));
            let part = station_live(
                lang,
                &s.status,
                chrono_tz::Asia::Ho_Chi_Minh,
                "2026-03-02T07:00:30Z".parse().unwrap(),
            )
            .into_string();
            let swapped = format!(
                r#"<div class="live" sse-swap="station-vinh-an" hx-swap="innerHTML">{part}</div>"#
            );
            assert!(page.contains(&swapped), "{lang:?}: {page}");
            assert!(part.contains("Thủ tục mới") && part.contains("data-elapsed=\"30000\""));
        }
    }

    #[test]
    fn the_forms_stay_outside_the_part_a_swap_replaces() {
        let page = page(Lang::Vi, &[station("vinh-an", true)]);
        let live = page.find(r#"class="live""#).unwrap();
        let end = live + page[live..].find("</div><div class=\"actions\">").unwrap();
        let part = &page[live..end];
        assert!(
            !part.contains("<form") && !part.contains("<select"),
            "{part}"
        );
        assert!(page[end..].contains("action=\"/stations/vinh-an/skip\""));
        assert!(page[end..].contains("data-confirm="));
    }

    #[test]
    fn the_page_follows_its_stations_in_its_own_language_with_htmx_served_here() {
        for lang in Lang::ALL {
            let page = page(lang, &[station("vinh-an", false)]);
            let connect = format!(
                r#"hx-ext="sse" sse-connect="/events/on-air?lang={}""#,
                lang.code()
            );
            assert!(page.contains(&connect), "{page}");
            for src in [
                super::super::assets::HTMX_PATH,
                super::super::assets::SSE_PATH,
                JS_PATH,
            ] {
                assert!(page.contains(&format!(r#"<script src="{src}">"#)), "{src}");
            }
            assert!(
                !page.contains("<script>")
                    && !page.contains("http://")
                    && !page.contains("https://")
            );
            assert!(page.contains(r#"<meta name="htmx-config""#));
            assert!(
                page.contains("&quot;x-csrf-token&quot;:&quot;csrf-1&quot;"),
                "{page}"
            );
        }
        // No station: no stream to open.
        assert!(!page(Lang::Vi, &[]).contains("sse-connect"));
    }

    #[test]
    fn a_commune_machine_s_report_shows_on_its_card_in_the_page_s_language_and_local_time() {
        let vi = page(Lang::Vi, &[station("vinh-an", false)]);
        assert!(
            vi.contains("máy xã 0123456789abcdef: báo cáo lúc 14:00:05 02/03/2026 · đồng hồ lệch -2,5 giây (khứ hồi 14 ms) · đồng bộ lúc 14:00 02/03/2026"),
            "{vi}"
        );
        assert!(vi.contains("nhật ký chưa gửi: 3 dòng"), "{vi}");
        let en = page(Lang::En, &[station("vinh-an", false)]);
        assert!(en.contains("clock -2.5 s off (round trip 14 ms)"), "{en}");
    }
}
