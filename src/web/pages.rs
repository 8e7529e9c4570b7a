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
  if (!window.EventSource) { return; }
  var es = new EventSource("/api/events");
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
    say(d.station, "js-state", "Đang phát: " + d.slot);
    var e = part(d.station, "js-state"); if (e) { e.classList.add("playing"); }
  });
  on("item_started", function (d) {
    say(d.station, "js-onair", "Đang phát: " + (d.title || d.bulletin));
  });
  on("slot_ended", function (d) {
    say(d.station, "js-state", "Chờ buổi phát");
    var e = part(d.station, "js-state"); if (e) { e.classList.remove("playing"); }
    say(d.station, "js-onair", "");
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
button.stop{background:#8a1c12}
header a.lang{color:#fff}
textarea,select{width:100%;padding:.6rem;font-size:1rem;border:1px solid #9aa5b1;border-radius:.35rem;font-family:inherit}
fieldset{border:1px solid #d5dbe1;border-radius:.35rem;margin:.75rem 0;padding:.5rem .75rem}
fieldset label{display:inline-flex;gap:.35rem;align-items:center;font-weight:400;margin:.25rem 1rem .25rem 0}
.field-error{color:#8a1c12;margin:.25rem 0}
.ok{background:#e7f5ea;border:1px solid #b7dfc0;color:#1b5e20;padding:.6rem;border-radius:.35rem}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid #e3e8ed;vertical-align:top}
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
}

/// The state of a station in Vietnamese.
fn state_vi(s: &PlayerState) -> (String, bool) {
    match s {
        PlayerState::Idle => ("Chờ buổi phát".into(), false),
        PlayerState::Playing { slot } => (format!("Đang phát: {slot}"), true),
        PlayerState::Stopping => ("Đang dừng".into(), false),
    }
}

/// **Đang phát**: every station the user sees, its state, the item on air, what comes
/// next and its alerts, with skip and stop for the stations the user may control. The
/// parts the script updates carry `js-` classes.
pub fn on_air(user: (&str, &str, &str), stations: &[StationView], tz: chrono_tz::Tz) -> Markup {
    let csrf = user.2;
    page(
        "Đang phát",
        Some(user),
        html! {
            @if stations.is_empty() {
                p.card { "Không có đài nào của bạn do máy chủ này phát." }
            }
            @for s in stations {
                section.card id=(format!("station-{}", s.code)) {
                    @let (state, playing) = state_vi(&s.status.state);
                    h2 { (s.name) " " span.muted { "(" (s.code) ")" } }
                    p { span.state.js-state.playing[playing] { (state) } }
                    @let on_air = s.status.on_air.as_ref();
                    p.js-onair hidden[on_air.is_none()] {
                        @if let Some(a) = on_air {
                            "Đang phát: " (a.title)
                            " (từ " (a.started.with_timezone(&tz).format("%H:%M:%S")) ")"
                        }
                    }
                    @if !s.status.next.is_empty() {
                        p { "Tiếp theo:" }
                        ul { @for n in &s.status.next { li { (n) } } }
                    }
                    @if let Some(n) = &s.status.next_slot {
                        p.muted { "Buổi sau: " (n.name) ", " (n.start.format("%H:%M %d/%m/%Y")) }
                    }
                    @if s.status.makeups > 0 {
                        p.muted { "Chờ phát bù: " (s.status.makeups) }
                    }
                    div.js-alertbox hidden[s.status.alerts.is_empty()] {
                        p { "Cảnh báo:" }
                        ul.js-alerts {
                            @for a in &s.status.alerts { li.alert { (a.render(Lang::Vi)) } }
                        }
                    }
                    @if s.controls {
                        div.actions {
                            form method="post" action=(format!("/stations/{}/skip", s.code)) {
                                input type="hidden" name="csrf_token" value=(csrf);
                                button type="submit" { "Bỏ qua bài đang phát" }
                            }
                            form method="post" action=(format!("/stations/{}/stop", s.code)) {
                                input type="hidden" name="csrf_token" value=(csrf);
                                button.stop type="submit" { "Dừng buổi phát" }
                            }
                        }
                    }
                }
            }
            p.muted { a href="/" { "Làm mới" } }
            script src=(JS_PATH) {}
        },
    )
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
