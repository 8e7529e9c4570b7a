//! Which language a console page speaks: `?lang=vi|en` when the request asks (and then
//! remembered in the `lang` cookie), else the cookie, else Vietnamese. Each page keeps its
//! words for both languages in one place and picks them with the [`Lang`] found here.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::access::session::cookie_value;
use crate::lang::Lang;

/// The cookie that remembers the language.
pub const COOKIE: &str = "lang";

/// The language asked in a query string (`lang=vi|en`), ignoring anything else in it.
pub fn asked(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| match v {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        })
}

/// The language of a page: the query's, else the cookie's, else Vietnamese.
pub fn of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    asked(query).unwrap_or_else(|| {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| cookie_value(h, COOKIE))
            .and_then(|v| match v {
                "en" => Some(Lang::En),
                "vi" => Some(Lang::Vi),
                _ => None,
            })
            .unwrap_or_default()
    })
}

/// Remembers the language a query asked for, on the response that answers it.
pub fn remember(mut r: Response, query: Option<&str>) -> Response {
    if let Some(lang) = asked(query) {
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict",
            lang.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(v).unwrap(),
        );
        h
    }

    #[test]
    fn vietnamese_is_the_default_and_a_query_wins_over_the_cookie() {
        assert_eq!(of(&HeaderMap::new(), None), Lang::Vi);
        assert_eq!(of(&cookie("loa_session=x; lang=en"), None), Lang::En);
        assert_eq!(of(&cookie("lang=en"), Some("lang=vi")), Lang::Vi);
        assert_eq!(of(&HeaderMap::new(), Some("station=a&lang=en")), Lang::En);
        assert_eq!(of(&cookie("lang=fr"), Some("lang=xx")), Lang::Vi);
    }
}
