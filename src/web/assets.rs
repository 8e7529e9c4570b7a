//! The third-party scripts the console embeds, vendored like a dependency (a district LAN
//! may have no Internet, so no CDN): htmx and its server-sent-events extension, which keep
//! the **Đang phát** page live ([`super::on_air_stream`]). Each is served under a path that
//! names its version, so a browser may keep it for a year; a new version is a new path.
//!
//! Where they come from (`npm pack`, files copied unchanged from the package's `dist/`,
//! licences as shipped beside them in `src/web/assets/`):
//! - `htmx.org@2.0.11` (`dist/htmx.min.js`, 0BSD, `LICENSE-htmx`), npm integrity
//!   `sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==`;
//! - `htmx-ext-sse@2.2.4` (`dist/sse.min.js`, 0BSD, `LICENSE-htmx-ext-sse`), npm integrity
//!   `sha512-LJmxVhykyflBWgh5PvbRidcyuqMHlgfajmmzumvKctv9puvsufeH6OaejSMZTNTnEI8O2wXXn4ZZtBdpEMqmEQ==`.
//!
//! To update: `npm pack htmx.org@2 htmx-ext-sse@2`, copy the same files under the new
//! versions' names, change the paths below, and note the integrity here.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Where htmx is served.
pub const HTMX_PATH: &str = "/assets/htmx-2.0.11.min.js";

/// htmx 2.0.11, minified, as published on npm.
pub const HTMX: &str = include_str!("assets/htmx-2.0.11.min.js");

/// Where htmx's server-sent-events extension is served.
pub const SSE_PATH: &str = "/assets/htmx-ext-sse-2.2.4.min.js";

/// The `sse` extension 2.2.4, minified, as published on npm.
pub const SSE: &str = include_str!("assets/htmx-ext-sse-2.2.4.min.js");

/// htmx's settings, for the `htmx-config` meta element of a page: no `<style>` injected for
/// request indicators and no `eval` (the pages' CSP forbids both), and no `<script>` run
/// from swapped-in markup.
pub const HTMX_CONFIG: &str =
    r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;

/// A versioned script: cached for a year, never revalidated.
fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

/// `GET /assets/htmx-2.0.11.min.js`.
pub async fn htmx() -> Response {
    script(HTMX)
}

/// `GET /assets/htmx-ext-sse-2.2.4.min.js`.
pub async fn sse() -> Response {
    script(SSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_scripts_are_the_versions_their_paths_name() {
        assert!(HTMX.contains(r#"version:"2.0.11""#));
        assert!(HTMX_PATH.contains("2.0.11"));
        assert!(SSE.contains(r#"htmx.defineExtension("sse""#));
        assert!(SSE_PATH.contains("2.2.4"));
    }

    #[test]
    fn htmx_reads_the_setting_names_the_meta_element_gives() {
        let config: serde_json::Value = serde_json::from_str(HTMX_CONFIG).unwrap();
        for (name, _) in config.as_object().unwrap() {
            assert!(HTMX.contains(&format!("config.{name}")), "{name}");
        }
    }
}
