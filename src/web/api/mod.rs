//! The JSON API under `/api/v1/` (issue 13, point 5), described by the OpenAPI document it
//! serves at `/api/v1/openapi.json` (utoipa: each route is declared once, with its
//! `#[utoipa::path]`, and [`utoipa_axum`] registers the handler and its description
//! together, so the document cannot drift from the routes).
//!
//! A request is authenticated by a bearer token (`loa user token`, or the shared
//! `[http] token`) or by a console session, which then needs `X-CSRF-Token` on a change
//! ([`super::auth`]). Each route calls the same service function as the console page that
//! shows the same thing: the function takes the caller and the data and returns data or a
//! typed error, the route serialises it, the page renders it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{authenticate, Caller};
use super::{ApiError, AppState};

pub mod stations;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The document's fixed parts: title, version, security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "loa API",
        description = "The JSON API of loa serve: what the operator console does, for scripts. \
            Authenticate with `Authorization: Bearer TOKEN` (`loa user token NAME`), or with the \
            console's session cookie plus `X-CSRF-Token` on a change. Errors are 4xx with \
            `{\"error\": \"one sentence\"}`; another station's resources answer 404."
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    // The schemas only query parameters name (utoipa collects those of bodies itself).
    components(schemas(ErrorBody, crate::report::Format, crate::lang::Lang))
)]
struct ApiDoc;

/// Adds the two ways to authenticate to the document.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::access::session::SESSION_COOKIE,
            ))),
        );
    }
}

/// An error answer: one sentence naming the input and what is wrong.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The sentence.
    pub error: String,
}

/// The caller of an API route, authenticated from its headers (a change made with a
/// session cookie needs `X-CSRF-Token`).
pub struct ApiCaller(pub Caller);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ApiCaller, ApiError> {
        authenticate(state, &parts.method, &parts.headers, None)
            .await
            .map(ApiCaller)
    }
}

/// Every `/api/v1/` route with its description, but uploads ([`upload_router`]).
pub fn router() -> OpenApiRouter<AppState> {
    use super::library::api as library;
    use super::{accounts_api as accounts, airlog, control, exports};
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(stations::list))
        .routes(routes!(control::status))
        .routes(routes!(control::events))
        .routes(routes!(control::skip))
        .routes(routes!(control::stop))
        .routes(routes!(control::play))
        .routes(routes!(control::urgent))
        .routes(routes!(super::announce_waiting::api_cancel))
        .routes(routes!(library::list))
        .routes(routes!(library::show, library::edit, library::remove))
        .routes(routes!(library::approve))
        .routes(routes!(library::retire))
        .routes(routes!(library::audio))
        .routes(routes!(super::schedule::api::api))
        .routes(routes!(super::schedule::api::build))
        .routes(routes!(
            super::schedule::api::pin,
            super::schedule::api::unpin
        ))
        .routes(routes!(super::schedule::api::lock))
        .routes(routes!(super::schedule::api::unlock))
        .routes(routes!(airlog::api))
        .routes(routes!(exports::api))
        .routes(routes!(accounts::list, accounts::add))
        .routes(routes!(accounts::password))
        .routes(routes!(accounts::disable))
        .routes(routes!(accounts::token))
        .routes(routes!(accounts::audit))
}

/// The routes that take an upload's large body (their own limits, [`super::serve`]).
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(super::library::api::upload))
        // JSON or a recording: the handler limits a JSON body itself.
        .routes(routes!(super::announce::api))
}

/// The routes as axum routers (the ordinary ones, with `GET /api/v1/openapi.json` serving
/// the document of all, and the upload ones).
pub fn routes() -> (axum::Router<AppState>, axum::Router<AppState>) {
    let (router, mut doc) = router().split_for_parts();
    let (uploads, upload_doc) = upload_router().split_for_parts();
    doc.merge(upload_doc);
    let doc = std::sync::Arc::new(doc);
    let router = router.route(
        OPENAPI_PATH,
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { Json(doc.as_ref().clone()).into_response() }
        }),
    );
    (router, uploads)
}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = router().into_openapi();
    doc.merge(upload_router().into_openapi());
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_every_route_with_its_security_schemes() {
        let doc = document();
        for path in [
            "/api/v1/stations",
            "/api/v1/status",
            "/api/v1/events",
            "/api/v1/stations/{code}/skip",
            "/api/v1/stations/{code}/stop",
            "/api/v1/stations/{code}/play",
            "/api/v1/stations/{code}/urgent",
            "/api/v1/stations/{code}/announcements",
            "/api/v1/bulletins",
            "/api/v1/bulletins/{id}",
            "/api/v1/bulletins/{id}/approve",
            "/api/v1/bulletins/{id}/audio",
            "/api/v1/schedules/{week}",
            "/api/v1/airlog",
            "/api/v1/exports",
            "/api/v1/users",
            "/api/v1/users/{name}/password",
            "/api/v1/users/{name}/disable",
            "/api/v1/users/{name}/token",
            "/api/v1/audit",
            "/api/v1/schedules/{week}/build",
            "/api/v1/schedules/{week}/pins",
            "/api/v1/schedules/{week}/lock",
            "/api/v1/schedules/{week}/unlock",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path}");
        }
        let bulletins = &doc.paths.paths["/api/v1/bulletins"];
        assert!(bulletins.get.is_some() && bulletins.post.is_some());
        let pins = &doc.paths.paths["/api/v1/schedules/{week}/pins"];
        assert!(pins.post.is_some() && pins.delete.is_some());
        let schemes = &doc.components.as_ref().unwrap().security_schemes;
        assert!(schemes.contains_key("bearer") && schemes.contains_key("session"));
    }

    #[test]
    fn every_operation_names_its_error_body_and_a_success() {
        let doc = serde_json::to_value(document()).unwrap();
        let error = "#/components/schemas/ErrorBody";
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|k| k.starts_with('2')),
                    "{method} {path}: no success"
                );
                let errors: Vec<&String> =
                    responses.keys().filter(|k| k.starts_with('4')).collect();
                assert!(!errors.is_empty(), "{method} {path}: no 4xx");
                for k in errors {
                    let schema = &responses[k]["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, error, "{method} {path} {k}");
                }
            }
        }
    }
}
