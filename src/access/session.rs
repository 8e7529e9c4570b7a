//! Web sessions and the CSRF guard (issue 13, points 2 and 3), pure: the cookies a session
//! and a login form use, how long a session lives while idle, the CSRF token a session's
//! forms and scripts must send back, and the same-origin check on state changes.
//!
//! The CSRF token is derived from the session's secret (SHA-256 under its own label), so
//! nothing more is stored: only the browser holding the `HttpOnly` cookie can have it, and
//! the store, which keeps only the cookie's hash, cannot make it. The login form is guarded
//! the same way by a short-lived cookie of its own.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// The session cookie.
pub const SESSION_COOKIE: &str = "loa_session";
/// The login form's cookie (its CSRF token is derived from it).
pub const LOGIN_COOKIE: &str = "loa_login";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header that carries the CSRF token (htmx, fetch, scripts).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a login form stays usable, in seconds.
pub const LOGIN_FORM_SECONDS: i64 = 3600;

/// The CSRF token of a session or login form whose cookie holds `secret`.
pub fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("loa csrf\u{1f}{}", secret.trim())))
}

/// Compares two secrets in time that depends on their length only.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// When a session used at `now` ends unless it is used again: idle expiry.
pub fn renewed_until(now: DateTime<Utc>, idle: std::time::Duration) -> DateTime<Utc> {
    now + Duration::from_std(idle).unwrap_or_else(|_| Duration::minutes(30))
}

/// Whether a state change carries the expected CSRF token, in the header or the form field
/// (the header wins when both are sent).
pub fn csrf_ok(expected: &str, header: Option<&str>, form: Option<&str>) -> bool {
    match header.or(form) {
        Some(given) => same_secret(expected, given.trim()),
        None => false,
    }
}

/// Whether a state change comes from a page of this server, by the headers browsers add:
/// `Sec-Fetch-Site` must be `same-origin` (or `none`: typed by the user) and `Origin`, when
/// sent, must name the `Host` the request went to. A client that sends neither (a script,
/// an old browser) passes: the CSRF token still guards it.
pub fn same_origin(host: Option<&str>, origin: Option<&str>, fetch_site: Option<&str>) -> bool {
    if let Some(site) = fetch_site {
        if !matches!(site.trim(), "same-origin" | "none") {
            return false;
        }
    }
    match origin.map(str::trim) {
        None => true,
        Some(o) => {
            let Some(rest) = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
            else {
                // "null" (a sandboxed page, a file) and anything else are foreign.
                return false;
            };
            host.is_some_and(|h| rest.trim_end_matches('/').eq_ignore_ascii_case(h.trim()))
        }
    }
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Strict; Path=/`, `Secure` when the console is
/// served over TLS (directly or by the proxy in front), and `Max-Age` when given (0 ends
/// it). Without `Max-Age` it is a browser-session cookie; the server ends it when idle.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(s) = max_age {
        c.push_str(&format!("; Max-Age={}", s.max(0)));
    }
    c
}

/// The value of cookie `name` in a `Cookie` header's text.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csrf_token_is_derived_from_the_secret_and_differs_from_its_stored_hash() {
        let secret = "loa_0123";
        assert_eq!(csrf_token(secret), csrf_token(secret));
        assert_ne!(csrf_token(secret), csrf_token("loa_0124"));
        assert_ne!(
            csrf_token(secret),
            crate::access::password::token_hash(secret)
        );
    }

    #[test]
    fn a_state_change_needs_the_right_token_in_the_header_or_the_form() {
        let t = csrf_token("s");
        assert!(csrf_ok(&t, Some(&t), None));
        assert!(csrf_ok(&t, None, Some(&t)));
        assert!(!csrf_ok(&t, None, None), "missing");
        assert!(!csrf_ok(&t, Some("wrong"), Some(&t)), "the header wins");
        assert!(!csrf_ok(&t, None, Some("")));
    }

    #[test]
    fn a_session_used_now_lives_for_the_idle_time_from_now() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T03:00:00Z")
            .unwrap()
            .to_utc();
        let until = renewed_until(now, std::time::Duration::from_secs(30 * 60));
        assert_eq!(until - now, Duration::minutes(30));
    }

    #[test]
    fn a_cross_site_request_is_refused_and_a_same_origin_one_passes() {
        let host = Some("10.0.0.5:7010");
        assert!(same_origin(
            host,
            Some("https://10.0.0.5:7010"),
            Some("same-origin")
        ));
        assert!(same_origin(host, Some("http://10.0.0.5:7010"), None));
        assert!(same_origin(host, None, None), "a script sends neither");
        assert!(!same_origin(host, Some("https://evil.example"), None));
        assert!(!same_origin(host, None, Some("cross-site")));
        assert!(!same_origin(host, None, Some("same-site")));
        assert!(!same_origin(host, Some("null"), None));
        assert!(!same_origin(None, Some("http://10.0.0.5:7010"), None));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_under_tls() {
        let c = set_cookie("loa_session", "abc", true, None);
        assert_eq!(
            c,
            "loa_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure"
        );
        let gone = set_cookie("loa_session", "", false, Some(0));
        assert_eq!(
            gone,
            "loa_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        );
    }

    #[test]
    fn a_cookie_is_found_by_its_name_among_others() {
        let h = "theme=dark; loa_session=loa_ab12 ; loa_login=x";
        assert_eq!(cookie_value(h, SESSION_COOKIE), Some("loa_ab12"));
        assert_eq!(cookie_value(h, LOGIN_COOKIE), Some("x"));
        assert_eq!(cookie_value(h, "other"), None);
        assert_eq!(cookie_value("garbage", SESSION_COOKIE), None);
    }
}
