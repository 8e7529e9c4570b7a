//! The console's pages, server-rendered with maud (the one file that knows the template
//! engine): the login form and the **Đang phát** (on-air) home page. Vietnamese, usable on
//! a 390-px phone, styled by one stylesheet embedded in the binary ([`CSS`], served at
//! [`CSS_PATH`]): no CDN, since a district LAN may have no Internet. Pages take plain
//! values; no permission logic or store access here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::lang::{Lang, Render};
use crate::playout::control::{PlayerState, Status};

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/assets/loa.css";

/// Where the script is served.
pub const JS_PATH: &str = "/assets/loa.js";

/// The on-air page's script, embedded: follows the event stream and updates each
/// station's state, item on air and alerts in place (text only, never markup). The page
/// works without it.
pub const JS: &str = r#"(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".js-confirm"), function (b) {
    b.addEventListener("click", function (ev) {
      if (!window.confirm(b.dataset.confirm)) { ev.preventDefault(); }
    });
  });
  function clock(ms) {
    var s = Math.floor(ms / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60);
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + two(m % 60) + ":" + two(s % 60) : m + ":" + two(s % 60);
  }
  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll(".js-progress"), function (bar) {
      var start = Number(bar.dataset.start), length = Number(bar.dataset.length);
      if (!start || !length) { return; }
      var e = Math.min(length, Math.max(0, Date.now() - start));
      bar.value = e;
      var c = bar.parentNode.querySelector(".js-clock");
      if (c) { c.textContent = clock(e) + " / " + clock(length); }
    });
  }
  setInterval(tick, 1000);
  if (!window.EventSource) { return; }
  var en = document.documentElement.lang === "en";
  var PLAYING = en ? "On air: " : "Đang phát: ", IDLE = en ? "Waiting for a slot" : "Chờ buổi phát";
  var es = new EventSource("/api/events?lang=" + (en ? "en" : "vi"));
  function part(station, cls) {
    var s = document.getElementById("station-" + station);
    return s ? s.querySelector("." + cls) : null;
  }
  function say(station, cls, text) {
    var e = part(station, cls);
    if (e) { e.textContent = text; e.hidden = !text; }
  }
  function on(kind, f) {
    es.addEventListener(kind, function (m) {
      try { f(JSON.parse(m.data)); } catch (err) { /* a malformed event changes nothing */ }
    });
  }
  on("slot_started", function (d) {
    say(d.station, "js-state", PLAYING + d.slot);
    var e = part(d.station, "js-state"); if (e) { e.classList.add("playing"); }
  });
  on("item_started", function (d) {
    say(d.station, "js-onair", PLAYING + (d.title || d.bulletin));
    var bar = part(d.station, "js-progress");
    if (bar) {
      bar.dataset.start = String(Date.parse(d.at));
      bar.dataset.length = String(d.duration_ms || 0);
      bar.max = Math.max(1, d.duration_ms || 0);
      bar.value = 0;
    }
    var box = part(d.station, "js-progressbox"); if (box) { box.hidden = false; }
    tick();
  });
  on("item_ended", function (d) {
    var box = part(d.station, "js-progressbox"); if (box) { box.hidden = true; }
  });
  on("slot_ended", function (d) {
    say(d.station, "js-state", IDLE);
    var e = part(d.station, "js-state"); if (e) { e.classList.remove("playing"); }
    say(d.station, "js-onair", "");
    var box = part(d.station, "js-progressbox"); if (box) { box.hidden = true; }
  });
  on("alert", function (d) {
    var ul = part(d.station, "js-alerts");
    if (!ul) { return; }
    var li = document.createElement("li");
    li.className = "alert";
    li.textContent = d.message;
    ul.appendChild(li);
    var box = part(d.station, "js-alertbox");
    if (box) { box.hidden = false; }
  });
})();
"#;

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
            }
            body {
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
fn state_in(w: &OnAirWords, s: &PlayerState) -> (String, bool) {
    match s {
        PlayerState::Idle => (w.idle.into(), false),
        PlayerState::Playing { slot } => (format!("{} {slot}", w.playing), true),
        PlayerState::Stopping => (w.stopping.into(), false),
    }
}

/// **Đang phát** in `lang`: every station the user sees, its state, the item on air, what
/// comes next and its alerts, with skip and stop for the stations the user may control.
/// The parts the script updates carry `js-` classes; the script reads the page's language.
pub fn on_air_in(
    lang: Lang,
    user: (&str, &str, &str),
    stations: &[StationView],
    tz: chrono_tz::Tz,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let csrf = user.2;
    let w = match lang {
        Lang::Vi => &ON_AIR_VI,
        Lang::En => &ON_AIR_EN,
    };
    page_in(
        lang,
        w.title,
        Some(user),
        html! {
            @if stations.is_empty() {
                p.card { (w.none) }
            }
            @for s in stations {
                section.card id=(format!("station-{}", s.code)) {
                    @let (state, playing) = state_in(w, &s.status.state);
                    h2 { (s.name) " " span.muted { "(" (s.code) ")" } }
                    p { span.state.js-state.playing[playing] { (state) } }
                    @let on_air = s.status.on_air.as_ref();
                    p.js-onair hidden[on_air.is_none()] {
                        @if let Some(a) = on_air {
                            (w.playing) " " (a.title)
                            " (" (w.since) " " (a.started.with_timezone(&tz).format("%H:%M:%S")) ")"
                        }
                    }
                    @let (elapsed, length) = on_air.map_or((0, 0), |a| {
                        let e = (now - a.started).num_milliseconds().clamp(0, a.duration_ms as i64) as u64;
                        (e, a.duration_ms)
                    });
                    p.js-progressbox hidden[on_air.is_none()] {
                        progress.js-progress max=(length.max(1)) value=(elapsed)
                            data-start=(on_air.map_or(0, |a| a.started.timestamp_millis()))
                            data-length=(length) {}
                        " " span.js-clock.muted { (clock(elapsed)) " / " (clock(length)) }
                    }
                    @if !s.status.next.is_empty() {
                        p { (w.next) }
                        ul { @for n in &s.status.next { li { (n) } } }
                    }
                    @if let Some(n) = &s.status.next_slot {
                        p.muted { (w.next_slot) " " (n.name) ", " (n.start.format("%H:%M %d/%m/%Y")) }
                    }
                    @if s.status.makeups > 0 {
                        p.muted { (w.makeups) " " (s.status.makeups) }
                    }
                    @if s.status.announcements > 0 {
                        p.muted { (w.announcements) " " (s.status.announcements) }
                    }
                    div.js-alertbox hidden[s.status.alerts.is_empty()] {
                        p { (w.alerts) }
                        ul.js-alerts {
                            @for a in &s.status.alerts { li.alert { (a.render(lang)) } }
                        }
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
                                    button.stop.js-confirm type="submit"
                                        formaction=(format!("/stations/{}/urgent", s.code))
                                        data-confirm=(w.urgent_confirm) { (w.urgent) }
                                }
                            }
                        }
                    }
                }
            }
            p.muted { a href="/" { (w.reload) } }
            script src=(JS_PATH) {}
        },
    )
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
