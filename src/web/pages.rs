//! The console's pages, server-rendered with maud (the one file that knows the template
//! engine): the login form and the **Đang phát** (on-air) home page. Vietnamese, usable on
//! a 390-px phone, styled by one stylesheet embedded in the binary ([`CSS`], served at
//! [`CSS_PATH`]): no CDN, since a district LAN may have no Internet. Pages take plain
//! values; no permission logic or store access here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::access::Role;
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
nav.bar{background:#e6eef6;border-bottom:1px solid #c9d6e3}
nav.bar ul{display:flex;flex-wrap:wrap;gap:.25rem .5rem;list-style:none;margin:0 auto;padding:.4rem 1rem;max-width:60rem}
nav.bar a{display:inline-block;padding:.3rem .5rem;border-radius:.35rem;color:#0b4f8a;text-decoration:none}
nav.bar a[aria-current=page]{background:#0b4f8a;color:#fff}
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
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d5dbe1;vertical-align:top}
progress{width:100%;max-width:24rem}
details>summary{cursor:pointer}
"#;

/// The console's pages, in the order the navigation bar lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// **Đang phát** (`/`).
    OnAir,
    /// **Thư viện** (`/library`).
    Library,
    /// **Lịch phát** (`/schedule`).
    Schedule,
    /// **Thông báo** (`/announcements`).
    Announce,
    /// **Nhật ký phát sóng** (`/airlog`).
    Airlog,
    /// **Báo cáo** (`/reports`).
    Reports,
    /// **Người dùng** (`/users`, admin).
    Users,
    /// **Nhật ký thao tác** (`/audit`, admin).
    Audit,
}

impl Section {
    /// Every page, in the bar's order.
    pub const ALL: [Section; 8] = [
        Section::OnAir,
        Section::Library,
        Section::Schedule,
        Section::Announce,
        Section::Airlog,
        Section::Reports,
        Section::Users,
        Section::Audit,
    ];

    /// Where the page is served.
    pub fn path(self) -> &'static str {
        match self {
            Section::OnAir => "/",
            Section::Library => "/library",
            Section::Schedule => "/schedule",
            Section::Announce => "/announcements",
            Section::Airlog => "/airlog",
            Section::Reports => "/reports",
            Section::Users => "/users",
            Section::Audit => "/audit",
        }
    }

    /// Whether the bar offers the page to `role` (the page itself still checks: a link
    /// hidden is not a door locked).
    pub fn offered_to(self, role: Role) -> bool {
        match self {
            Section::Users | Section::Audit => role == Role::Admin,
            Section::Announce => role != Role::Viewer,
            _ => true,
        }
    }

    /// Its name in the bar, in `text`'s language.
    pub fn label(self, text: &NavText) -> &'static str {
        match self {
            Section::OnAir => text.on_air,
            Section::Library => text.library,
            Section::Schedule => text.schedule,
            Section::Announce => text.announce,
            Section::Airlog => text.airlog,
            Section::Reports => text.reports,
            Section::Users => text.users,
            Section::Audit => text.audit,
        }
    }
}

/// The words of the page frame (navigation bar, user, logout), one table per language.
#[derive(Debug)]
pub struct NavText {
    /// The bar's label for screen readers.
    pub bar: &'static str,
    /// Đang phát.
    pub on_air: &'static str,
    /// Thư viện.
    pub library: &'static str,
    /// Lịch phát.
    pub schedule: &'static str,
    /// Thông báo.
    pub announce: &'static str,
    /// Nhật ký phát sóng.
    pub airlog: &'static str,
    /// Báo cáo.
    pub reports: &'static str,
    /// Người dùng.
    pub users: &'static str,
    /// Nhật ký thao tác.
    pub audit: &'static str,
    /// The logout button.
    pub logout: &'static str,
}

/// The frame's words in Vietnamese.
pub const NAV_VI: NavText = NavText {
    bar: "Các trang",
    on_air: "Đang phát",
    library: "Thư viện",
    schedule: "Lịch phát",
    announce: "Thông báo",
    airlog: "Nhật ký phát sóng",
    reports: "Báo cáo",
    users: "Người dùng",
    audit: "Nhật ký thao tác",
    logout: "Đăng xuất",
};

/// The logged-in user a page is drawn for.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    /// The account name.
    pub name: &'a str,
    /// Its role (what the bar offers).
    pub role: Role,
    /// The session's CSRF token, for the page's forms.
    pub csrf: &'a str,
}

/// The navigation bar: the pages `who` may open, `current` marked.
fn nav(who: &Who, current: Section, text: &NavText) -> Markup {
    html! {
        nav.bar aria-label=(text.bar) {
            ul {
                @for s in Section::ALL.into_iter().filter(|s| s.offered_to(who.role)) {
                    li {
                        @if s == current {
                            a href=(s.path()) aria-current="page" { (s.label(text)) }
                        } @else {
                            a href=(s.path()) { (s.label(text)) }
                        }
                    }
                }
            }
        }
    }
}

/// A whole page: the head, the stylesheet, a header with the user and the navigation bar
/// (when logged in) and the body.
pub fn page(title: &str, user: Option<(&Who, Section)>, body: Markup) -> Markup {
    let text = &NAV_VI;
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · loa" }
                link rel="stylesheet" href=(CSS_PATH);
            }
            body {
                header {
                    h1 { "loa · " (title) }
                    @if let Some((who, _)) = user {
                        span { (who.name) " (" (who.role.label_vi()) ")" }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf_token" value=(who.csrf);
                            button type="submit" { (text.logout) }
                        }
                    }
                }
                @if let Some((who, current)) = user {
                    (nav(who, current, text))
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
pub fn on_air(who: &Who, stations: &[StationView], tz: chrono_tz::Tz) -> Markup {
    let csrf = who.csrf;
    page(
        "Đang phát",
        Some((who, Section::OnAir)),
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
    page(
        title,
        None,
        html! {
            div.card.login {
                p.error role="alert" { (sentence) }
                p { a href="/login" { "Về trang đăng nhập" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(role: Role) -> String {
        let who = Who {
            name: "Thử",
            role,
            csrf: "c",
        };
        nav(&who, Section::Library, &NAV_VI).into_string()
    }

    #[test]
    fn an_admin_is_offered_all_eight_pages_with_the_current_one_marked() {
        let html = bar(Role::Admin);
        for s in Section::ALL {
            assert!(html.contains(&format!("href=\"{}\"", s.path())), "{s:?}");
        }
        assert!(
            html.contains("href=\"/library\" aria-current=\"page\""),
            "{html}"
        );
        assert_eq!(html.matches("aria-current").count(), 1);
    }

    #[test]
    fn only_an_admin_is_offered_users_and_audit_and_a_viewer_no_announcements() {
        for role in [Role::Operator, Role::Commune, Role::Viewer] {
            let html = bar(role);
            assert!(!html.contains("href=\"/users\""), "{role}");
            assert!(!html.contains("href=\"/audit\""), "{role}");
            assert!(html.contains("href=\"/schedule\""), "{role}");
        }
        assert!(bar(Role::Commune).contains("href=\"/announcements\""));
        assert!(!bar(Role::Viewer).contains("href=\"/announcements\""));
    }
}
