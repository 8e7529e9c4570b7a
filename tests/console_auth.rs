//! The console's authentication on the real binary: `loa serve` on a free loopback port
//! with a temporary SQLite data dir, two commune stations and one account per role. Login
//! and its cookie, wrong passwords and the login limit, idle expiry, logout, the CSRF
//! guard, per-user API tokens, confinement of commune and viewer accounts on the control
//! routes, and the audit trail those leave (checked by `loa audit verify`).

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::console::*;
use common::daemon::free_port;

#[test]
fn a_user_logs_in_with_a_strict_cookie_is_guarded_against_csrf_and_logs_out() {
    let c = console("");
    let port = c.port;
    // The form sets its own strict cookie and carries a hidden token.
    let form = http(port, "GET", "/login", &[], "");
    assert!(form.body.contains("Đăng nhập"), "{}", form.body);
    let login_cookie = form.set_cookie("loa_login").unwrap();
    assert!(
        login_cookie.contains("HttpOnly; SameSite=Strict; Path=/"),
        "{login_cookie}"
    );
    // A login without the form's token is refused.
    let forged = http(
        port,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("username=dieuhanh&password={}&csrf_token=x", enc(PASSWORD)),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    // Login: a new session in an HttpOnly, SameSite=Strict cookie (no Secure on plain
    // HTTP), then the home page.
    let ok = login(port, "dieuhanh", PASSWORD);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.headers("location"), vec!["/"]);
    let set = ok.set_cookie("loa_session").unwrap();
    assert!(set.contains("; HttpOnly; SameSite=Strict; Path=/"), "{set}");
    assert!(!set.contains("Secure"), "{set}");
    let cookie = format!("loa_session={}", ok.cookie("loa_session").unwrap());
    let home = http(port, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Đang phát") && home.body.contains("Xã Vĩnh Tiến"));
    let csrf = home.csrf();
    // The session reads the API.
    let status = http(port, "GET", "/api/status", &[("Cookie", &cookie)], "");
    assert_eq!(status.status, 200, "{}", status.body);
    // A state change without the CSRF token, with a wrong one, or from another site: 403.
    let skip = "/api/stations/vinh-an/skip";
    for headers in [
        vec![("Cookie", cookie.as_str())],
        vec![("Cookie", cookie.as_str()), ("X-CSRF-Token", "wrong")],
        vec![
            ("Cookie", cookie.as_str()),
            ("X-CSRF-Token", csrf.as_str()),
            ("Origin", "http://evil.example"),
        ],
        vec![
            ("Cookie", cookie.as_str()),
            ("X-CSRF-Token", csrf.as_str()),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    ] {
        let r = http(port, "POST", skip, &headers, "");
        assert_eq!(r.status, 403, "{headers:?}: {}", r.body);
        assert!(r.body.contains("CSRF"), "{}", r.body);
    }
    let r = http(
        port,
        "POST",
        skip,
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // A request with a bearer token is judged by the token alone, never by its cookie.
    let r = http(
        port,
        "GET",
        "/api/status",
        &[("Cookie", &cookie), ("Authorization", "Bearer wrong-token")],
        "",
    );
    assert_eq!(r.status, 401);
    // Logout needs the token too; then the cookie is cleared and the session is gone.
    let r = http(port, "POST", "/logout", &[("Cookie", &cookie)], "");
    assert_eq!(r.status, 403);
    let r = http(
        port,
        "POST",
        "/logout",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf_token={csrf}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.headers("location"), vec!["/login"]);
    assert!(r.set_cookie("loa_session").unwrap().contains("Max-Age=0"));
    assert_eq!(
        http(port, "GET", "/api/status", &[("Cookie", &cookie)], "").status,
        401
    );
    let after = http(port, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(
        (after.status, after.headers("location")),
        (303, vec!["/login".into()])
    );
    // A wrong password: 401 with one Vietnamese sentence; five failures refuse the account
    // for a while, even with the right password.
    let wrong = login(port, "noivu", "sai mật khẩu");
    assert_eq!(wrong.status, 401);
    assert!(wrong
        .body
        .contains("Tên đăng nhập hoặc mật khẩu không đúng."));
    for _ in 0..4 {
        assert_eq!(login(port, "noivu", "sai mật khẩu").status, 401);
    }
    let limited = login(port, "noivu", PASSWORD);
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.body.contains("thử lại sau"), "{}", limited.body);
    assert_eq!(
        login(port, "quantri", PASSWORD).status,
        303,
        "another account goes on"
    );
    // Logins, failures and the logout are in the audit trail, with the address.
    let entries = audit(&c.loa);
    let count = |action: &str, actor: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["actor"] == actor)
            .count()
    };
    assert_eq!(count("login", "dieuhanh"), 1);
    assert_eq!(count("logout", "dieuhanh"), 1);
    assert_eq!(
        count("login_failed", "noivu"),
        5,
        "the refused sixth is not checked"
    );
    assert_eq!(count("login", "quantri"), 1);
    let skip = entries.iter().find(|e| e["action"] == "skip").unwrap();
    assert_eq!(skip["station"], "vinh-an");
    assert_eq!(skip["role"], "operator");
    assert_eq!(skip["address"], "127.0.0.1");
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn accounts_act_only_within_their_role_and_stations() {
    let c = console("");
    let port = c.port;
    // A commune user sees and runs only its station; another one does not exist for it.
    let (cookie, csrf) = session(port, "xa-vinh-an");
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(String, String)> {
        let mut h = vec![
            ("Cookie".to_string(), cookie.clone()),
            ("X-CSRF-Token".to_string(), csrf.clone()),
        ];
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    };
    let h = with(&[]);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let status: serde_json::Value =
        serde_json::from_str(&http(port, "GET", "/api/status", &h, "").body).unwrap();
    let seen: Vec<&String> = status["stations"].as_object().unwrap().keys().collect();
    assert_eq!(seen, vec!["vinh-an"]);
    let home = http(port, "GET", "/", &h, "");
    assert!(home.body.contains("Xã Vĩnh An") && !home.body.contains("Xã Vĩnh Tiến"));
    assert_eq!(
        http(port, "POST", "/api/stations/vinh-tien/skip", &h, "").status,
        404
    );
    assert_eq!(
        http(port, "GET", "/api/events?station=vinh-tien", &h, "").status,
        404
    );
    assert_eq!(
        http(port, "POST", "/api/stations/vinh-an/stop", &h, "").status,
        200
    );
    let all = http(port, "POST", "/api/stations/all/skip", &h, "");
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.body.contains("\"stations\":1"), "{}", all.body);
    // The on-air page offers skip and stop for its station only; the forms work without
    // JavaScript, need the page's CSRF token, and another station does not exist.
    assert!(home.body.contains("action=\"/stations/vinh-an/skip\""));
    assert!(home.body.contains("action=\"/stations/vinh-an/stop\""));
    assert!(!home.body.contains("/stations/vinh-tien/"));
    assert!(home.body.contains("src=\"/assets/loa.js\""));
    let form = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let body = format!("csrf_token={csrf}");
    let r = http(port, "POST", "/stations/vinh-an/skip", &form, &body);
    assert_eq!(
        (r.status, r.headers("location")),
        (303, vec!["/".into()]),
        "{}",
        r.body
    );
    let r = http(
        port,
        "POST",
        "/stations/vinh-an/skip",
        &form,
        "csrf_token=wrong",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = http(port, "POST", "/stations/vinh-tien/stop", &form, &body);
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("Không có đài 'vinh-tien'"), "{}", r.body);
    // The live parts come through htmx's SSE extension from the page's own stream, which
    // carries only the stations this user may see.
    assert!(
        home.body.contains("sse-connect=\"/events/on-air?lang=vi\""),
        "{}",
        home.body
    );
    for asset in [
        "/assets/loa.js",
        "/assets/htmx-2.0.11.min.js",
        "/assets/htmx-ext-sse-2.2.4.min.js",
    ] {
        assert_eq!(http(port, "GET", asset, &[], "").status, 200, "{asset}");
    }
    // A viewer sees every station and may not command any.
    let (vc, vt) = session(port, "noivu");
    let vh = [("Cookie", vc.as_str()), ("X-CSRF-Token", vt.as_str())];
    let status: serde_json::Value =
        serde_json::from_str(&http(port, "GET", "/api/status", &vh, "").body).unwrap();
    assert_eq!(status["stations"].as_object().unwrap().len(), 2);
    for path in ["/api/stations/vinh-an/skip", "/api/stations/all/stop"] {
        let r = http(port, "POST", path, &vh, "");
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }
    let viewer_home = http(port, "GET", "/", &vh, "");
    assert!(viewer_home.body.contains("Xã Vĩnh Tiến"));
    assert!(
        !viewer_home.body.contains("/skip\""),
        "a viewer gets no buttons"
    );
    let r = http(
        port,
        "POST",
        "/stations/vinh-an/skip",
        &[
            ("Cookie", vc.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf_token={vt}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("không được bỏ qua"), "{}", r.body);
    // A user's API token acts as that user; a disabled user's token is refused.
    let issued = c.loa.run(&["user", "token", "xa-vinh-an"]).expect(0);
    let token = issued.stdout.trim().to_string();
    let bearer = format!("Bearer {token}");
    let th = [("Authorization", bearer.as_str())];
    let status: serde_json::Value =
        serde_json::from_str(&http(port, "GET", "/api/status", &th, "").body).unwrap();
    assert_eq!(status["stations"].as_object().unwrap().len(), 1, "{status}");
    assert_eq!(
        http(port, "POST", "/api/stations/vinh-tien/skip", &th, "").status,
        404
    );
    assert_eq!(
        http(port, "POST", "/api/stations/vinh-an/skip", &th, "").status,
        200
    );
    c.loa.run(&["user", "disable", "xa-vinh-an"]).expect(0);
    assert_eq!(http(port, "GET", "/api/status", &th, "").status, 401);
    assert_eq!(
        http(port, "GET", "/api/status", &h, "").status,
        401,
        "its session ended"
    );
    // The shared token still acts as an operator named by the header.
    let shared = format!("Bearer {TOKEN}");
    let r = http(
        port,
        "POST",
        "/api/stations/all/skip",
        &[
            ("Authorization", &shared),
            ("X-Loa-Operator", "Tr%E1%BA%A7n B"),
        ],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"stations\":2"), "{}", r.body);
    // Each command is one audit entry per station, with who, role, station and address.
    let entries = audit(&c.loa);
    let commands: Vec<(String, String, String)> = entries
        .iter()
        .filter(|e| e["action"] == "skip" || e["action"] == "stop")
        .map(|e| {
            assert_eq!(e["address"], "127.0.0.1", "{e}");
            (
                e["actor"].as_str().unwrap().to_string(),
                e["role"].as_str().unwrap().to_string(),
                e["station"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let c3 = |a: &str, r: &str, s: &str| (a.to_string(), r.to_string(), s.to_string());
    assert_eq!(
        commands,
        vec![
            c3("xa-vinh-an", "commune", "vinh-an"),
            c3("xa-vinh-an", "commune", "vinh-an"),
            c3("xa-vinh-an", "commune", "vinh-an"),
            c3("xa-vinh-an", "commune", "vinh-an"),
            c3("Trần B", "operator", "vinh-an"),
            c3("Trần B", "operator", "vinh-tien"),
        ]
    );
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn an_idle_session_expires_and_is_not_brought_back() {
    let c = console("session_idle = \"2s\"");
    let (cookie, _) = session(c.port, "dieuhanh");
    assert_eq!(
        http(c.port, "GET", "/api/status", &[("Cookie", &cookie)], "").status,
        200
    );
    std::thread::sleep(Duration::from_millis(1_200));
    assert_eq!(
        http(c.port, "GET", "/api/status", &[("Cookie", &cookie)], "").status,
        200,
        "each request renews the idle time"
    );
    std::thread::sleep(Duration::from_millis(1_200));
    assert_eq!(
        http(c.port, "GET", "/api/status", &[("Cookie", &cookie)], "").status,
        200
    );
    std::thread::sleep(Duration::from_millis(2_500));
    let r = http(c.port, "GET", "/api/status", &[("Cookie", &cookie)], "");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("hết hạn"), "{}", r.body);
    let home = http(c.port, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(home.headers("location"), vec!["/login"]);
}

#[test]
fn an_address_off_the_loopback_without_tls_is_refused_naming_the_keys() {
    let port = free_port();
    let loa = data_dir_on(&format!("0.0.0.0:{port}"), "");
    let plan = loa.dir.path().join("plan.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", loa.data.to_str().unwrap(), "serve", "--plan"])
        .arg(&plan)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("loa serve started on 0.0.0.0 without TLS");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    for key in ["http.tls_cert", "http.tls_key", "http.behind_proxy"] {
        assert!(err.contains(key), "{err}");
    }
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
}

#[test]
fn the_console_answers_over_https_with_secure_cookies_and_ctl_keeps_plain_http_on_the_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key)) = self_signed(dir.path()) else {
        eprintln!("skipped: no openssl command to make a certificate");
        return;
    };
    let port = free_port();
    let loa = data_dir_on(
        &format!("0.0.0.0:{port}"),
        &format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"",
            cert.display(),
            key.display()
        ),
    );
    let c = serve(loa, port);
    // HTTPS: the login form and the session cookie are Secure.
    let form = https(&cert, port, "GET", "/login", &[], "");
    assert_eq!(form.status, 200, "{}", form.head);
    assert!(form.set_cookie("loa_login").unwrap().contains("; Secure"));
    let login_cookie = format!("loa_login={}", form.cookie("loa_login").unwrap());
    let origin = format!("https://127.0.0.1:{port}");
    let ok = https(
        &cert,
        port,
        "POST",
        "/login",
        &[
            ("Cookie", &login_cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
        ],
        &format!(
            "username=dieuhanh&password={}&csrf_token={}",
            enc(PASSWORD),
            form.csrf()
        ),
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    let set = ok.set_cookie("loa_session").unwrap();
    assert!(
        set.ends_with("; HttpOnly; SameSite=Strict; Path=/; Secure"),
        "{set}"
    );
    let bearer = format!("Bearer {TOKEN}");
    let status = https(
        &cert,
        port,
        "GET",
        "/api/status",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(status.status, 200, "{}", status.body);
    // Plain HTTP still answers on the loopback: loa ctl on the server keeps working.
    assert_eq!(
        http(
            port,
            "GET",
            "/api/status",
            &[("Authorization", &bearer)],
            ""
        )
        .status,
        200
    );
    let ctl = c.loa.run(&["ctl", "status", "--json"]).expect(0).json();
    assert!(ctl["stations"]["vinh-tien"].is_object(), "{ctl}");
}

#[test]
fn behind_a_proxy_the_forwarded_host_and_address_are_taken_and_cookies_are_secure() {
    let c = console("behind_proxy = true");
    let port = c.port;
    // What nginx adds: the client's address, and the host the browser addressed.
    let proxy = [
        ("X-Forwarded-For", "203.0.113.9, 10.0.0.7"),
        ("X-Forwarded-Host", "loa.huyen.example"),
    ];
    let form = http(port, "GET", "/login", &proxy, "");
    assert!(form.set_cookie("loa_login").unwrap().contains("; Secure"));
    let cookie = format!("loa_login={}", form.cookie("loa_login").unwrap());
    let mut headers = proxy.to_vec();
    headers.extend([
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Origin", "https://loa.huyen.example"),
    ]);
    let body = format!(
        "username=dieuhanh&password={}&csrf_token={}",
        enc(PASSWORD),
        form.csrf()
    );
    let ok = http(port, "POST", "/login", &headers, &body);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(ok.set_cookie("loa_session").unwrap().ends_with("; Secure"));
    let login = audit(&c.loa)
        .into_iter()
        .find(|e| e["action"] == "login")
        .unwrap();
    assert_eq!(login["address"], "10.0.0.7", "the entry the proxy added");
}
