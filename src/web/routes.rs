//! The daemon's route table: every route outside the OpenAPI document (console pages,
//! their forms, assets, the older control API under `/api/`) is added through a [`Table`],
//! which builds the axum router and records each method and path as it does. With the
//! `/api/v1/` routes, which utoipa-axum registers together with their description
//! ([`super::api`]), that record is [`list`]: the very routes the router answers, so the
//! tests that walk every route (the OpenAPI document's, the route × role table's) cannot
//! drift from it.

use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use axum::Router;

use super::AppState;

/// An HTTP method a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// GET (and HEAD, which axum answers with it).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Verb {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One route: a method and a path in axum's syntax (`/library/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    /// The method.
    pub verb: Verb,
    /// The path.
    pub path: String,
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.path)
    }
}

/// The routes outside the OpenAPI document, as they are added: the ordinary router, the
/// router of routes that take a large upload (their own limits, [`super::serve`]), and the
/// record of both.
pub struct Table {
    /// Routes with the ordinary body limit and timeout.
    pub router: Router<AppState>,
    /// Routes that take an upload.
    pub uploads: Router<AppState>,
    /// Every method and path added, in order.
    pub list: Vec<Route>,
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table {
            router: Router::new(),
            uploads: Router::new(),
            list: Vec::new(),
        }
    }

    fn add(mut self, verb: Verb, path: &str, route: MethodRouter<AppState>) -> Table {
        self.router = self.router.route(path, route);
        self.list.push(Route {
            verb,
            path: path.to_string(),
        });
        self
    }

    /// Adds `GET path`.
    pub fn get<H, T>(self, path: &str, handler: H) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Verb::Get, path, routing::get(handler))
    }

    /// Adds `POST path`.
    pub fn post<H, T>(self, path: &str, handler: H) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Verb::Post, path, routing::post(handler))
    }

    fn add_upload(mut self, verb: Verb, path: &str, route: MethodRouter<AppState>) -> Table {
        self.uploads = self.uploads.route(path, route);
        self.list.push(Route {
            verb,
            path: path.to_string(),
        });
        self
    }

    /// Adds `POST path` taking an upload (no overall body limit, the long timeout).
    pub fn upload<H, T>(self, path: &str, handler: H) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_upload(Verb::Post, path, routing::post(handler))
    }

    /// Adds `GET path` beside an upload's `POST path` (one path lives in one router).
    pub fn upload_get<H, T>(self, path: &str, handler: H) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_upload(Verb::Get, path, routing::get(handler))
    }
}

/// The routes an OpenAPI document describes, by method.
pub fn documented(doc: &utoipa::openapi::OpenApi) -> Vec<Route> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (verb, op) in [
            (Verb::Get, &item.get),
            (Verb::Post, &item.post),
            (Verb::Put, &item.put),
            (Verb::Patch, &item.patch),
            (Verb::Delete, &item.delete),
        ] {
            if op.is_some() {
                out.push(Route {
                    verb,
                    path: path.clone(),
                });
            }
        }
    }
    out
}

/// Every route the daemon answers: the table's ([`super::table`]), the `/api/v1/` routes of
/// the OpenAPI document, and the document itself; sorted.
pub fn list() -> Vec<Route> {
    let mut out = super::table().list;
    out.extend(documented(&super::api::document()));
    out.push(Route {
        verb: Verb::Get,
        path: super::api::OPENAPI_PATH.to_string(),
    });
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v1_route_is_described_by_the_openapi_document_and_no_route_is_added_twice() {
        let table = super::super::table().list;
        let stray: Vec<String> = table
            .iter()
            .filter(|r| r.path.starts_with("/api/v1/"))
            .map(|r| r.to_string())
            .collect();
        assert!(
            stray.is_empty(),
            "add these through api::router (routes! with #[utoipa::path]), not the table: {stray:?}"
        );
        let all = list();
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(all, unique, "a route is added twice");
        assert!(all.contains(&Route {
            verb: Verb::Post,
            path: "/library/upload".into()
        }));
        assert!(all.contains(&Route {
            verb: Verb::Post,
            path: "/api/v1/stations/{code}/announcements".into()
        }));
    }
}
