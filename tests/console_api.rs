//! The JSON API under `/api/v1/` on the real server: its OpenAPI document, the stations
//! each role sees (by bearer token and by session), and the console's navigation bar.

mod common;

use common::console::{console, http, session, TOKEN};

/// A user's API token, from `loa user token`.
fn token(c: &common::console::Console, name: &str) -> String {
    let issued = c.loa.run(&["user", "token", name]).expect(0);
    format!("Bearer {}", issued.stdout.trim())
}

fn codes(body: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_openapi_document_describes_the_v1_routes_and_their_authentication() {
    let c = console("");
    let r = http(c.port, "GET", "/api/v1/openapi.json", &[], "");
    assert_eq!(r.status, 200, "{}", r.body);
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    assert!(doc["paths"]["/api/v1/stations"]["get"].is_object(), "{doc}");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{doc}");
    assert_eq!(schemes["session"]["in"], "cookie", "{doc}");
}

#[test]
fn the_served_document_describes_exactly_the_v1_routes_the_router_answers_with_their_methods() {
    let c = console("");
    let r = http(c.port, "GET", "/api/v1/openapi.json", &[], "");
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let mut served: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            served.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    served.sort();
    let mut routed: Vec<String> = loa::web::routes::list()
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/") && r.path != "/api/v1/openapi.json")
        .map(|r| r.to_string())
        .collect();
    routed.sort();
    assert_eq!(served, routed);
    for must in [
        "GET /api/v1/stations",
        "GET /api/v1/bulletins",
        "POST /api/v1/bulletins",
        "POST /api/v1/bulletins/{id}/approve",
        "GET /api/v1/schedules/{week}",
        "GET /api/v1/airlog",
        "POST /api/v1/stations/{code}/announcements",
        "GET /api/v1/exports",
    ] {
        assert!(served.iter().any(|s| s == must), "{must}");
    }
}

#[test]
fn each_role_lists_the_stations_it_may_see_by_token_or_session_and_strangers_get_401() {
    let c = console("");
    for (name, expected) in [
        ("quantri", vec!["vinh-an", "vinh-tien"]),
        ("dieuhanh", vec!["vinh-an", "vinh-tien"]),
        ("noivu", vec!["vinh-an", "vinh-tien"]),
        ("xa-vinh-an", vec!["vinh-an"]),
    ] {
        let bearer = token(&c, name);
        let r = http(
            c.port,
            "GET",
            "/api/v1/stations",
            &[("Authorization", &bearer)],
            "",
        );
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert_eq!(codes(&r.body), expected, "{name}");
        let (cookie, _) = session(c.port, name);
        let r = http(
            c.port,
            "GET",
            "/api/v1/stations",
            &[("Cookie", &cookie)],
            "",
        );
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert_eq!(codes(&r.body), expected, "{name}");
    }
    let r = http(
        c.port,
        "GET",
        "/api/v1/stations",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        "",
    );
    assert_eq!(codes(&r.body), ["vinh-an", "vinh-tien"]);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v[0]["name"], "Xã Vĩnh An");
    assert_eq!(v[0]["timezone"], "Asia/Ho_Chi_Minh");
    assert_eq!(v[0]["played_here"], true);
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Cookie", "loa_session=forged")],
    ] {
        let r = http(c.port, "GET", "/api/v1/stations", &headers, "");
        assert_eq!(r.status, 401, "{headers:?}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert!(!v["error"].as_str().unwrap().is_empty());
    }
}

#[test]
fn the_navigation_bar_offers_each_role_its_pages() {
    let c = console("");
    let pages = [
        "/",
        "/library",
        "/schedule",
        "/announcements",
        "/airlog",
        "/reports",
        "/users",
        "/audit",
    ];
    for (name, offered) in [
        ("quantri", 8),
        ("dieuhanh", 6),
        ("xa-vinh-an", 6),
        ("noivu", 6),
    ] {
        let (cookie, _) = session(c.port, name);
        let home = http(c.port, "GET", "/", &[("Cookie", &cookie)], "");
        assert_eq!(home.status, 200);
        let nav = &home.body[home.body.find("<nav").unwrap()..home.body.find("</nav>").unwrap()];
        let n = pages
            .iter()
            .filter(|p| nav.contains(&format!("href=\"{p}\"")))
            .count();
        assert_eq!(n, offered, "{name}: {nav}");
        assert!(
            nav.contains("Thư viện") && nav.contains("Lịch phát"),
            "{nav}"
        );
    }
}
