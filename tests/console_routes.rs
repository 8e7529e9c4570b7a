//! Every route of the daemon × every role, on the real server: one table ([`ROWS`]) lists
//! each console page, form, asset and API route (method, path, how it is reached, whether
//! it is about a station) with what each caller gets: anonymous, admin, operator, a
//! commune user on its own station and on another station, the Phòng Nội vụ viewer.
//! Allowed is 200/201/204/303 (not to the login form); anonymous gets 401 from the API and
//! a page's media or event stream, and a 303 to `/login` from a page; a role that may not act gets 403; another station 404.
//! Every change made with a session cookie is also sent without and with a wrong CSRF
//! token: 403, nothing changed.
//!
//! The table is the single source: it must list exactly the routes the router is built
//! from ([`loa::web::routes::list`]), so a route added without a row fails here.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::console::{
    console, enc, http, multipart, send, session, wav_bytes, Console, Resp, PASSWORD,
};

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Anonymous,
    Admin,
    Operator,
    /// `xa-vinh-an` on its station, vinh-an.
    CommuneOwn,
    /// `xa-vinh-an` on another station, vinh-tien.
    CommuneOther,
    Viewer,
}

impl Who {
    fn account(self) -> &'static str {
        match self {
            Who::Anonymous => "",
            Who::Admin => "quantri",
            Who::Operator => "dieuhanh",
            Who::CommuneOwn | Who::CommuneOther => "xa-vinh-an",
            Who::Viewer => "noivu",
        }
    }

    /// The station the request is about.
    fn station(self) -> &'static str {
        match self {
            Who::CommuneOther => "vinh-tien",
            _ => "vinh-an",
        }
    }
}

/// What a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    /// 200, 201, 204, or a 303 not to the login form.
    Ok,
    /// 403.
    No,
    /// 404: another station's, as if it did not exist.
    Gone,
}
use Out::{Gone, No, Ok};

/// How a route is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// Anyone (the login form, assets, the OpenAPI document).
    Public,
    /// A console page or form: the session cookie (and the form's `csrf_token`).
    Page,
    /// The JSON API: a bearer token (a session with `X-CSRF-Token` works too).
    Api,
    /// The API's event stream: only its head is read.
    Stream,
    /// A page's media (the library's player): the session cookie, 401 without one.
    Media,
    /// A page's event stream (Đang phát's live parts): the session cookie, 401 without one;
    /// only its head is read.
    Live,
}

/// One request as the row makes it.
struct Req {
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Req {
    fn get(path: impl Into<String>) -> Req {
        Req {
            path: path.into(),
            content_type: "",
            body: Vec::new(),
        }
    }

    fn json(path: impl Into<String>, v: serde_json::Value) -> Req {
        Req {
            path: path.into(),
            content_type: "application/json",
            body: v.to_string().into_bytes(),
        }
    }

    /// A form; `csrf_token` is added when given.
    fn form(path: impl Into<String>, fields: &[(&str, &str)], csrf: Option<&str>) -> Req {
        let mut pairs: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        if let Some(t) = csrf {
            pairs.push(format!("csrf_token={}", enc(t)));
        }
        Req {
            path: path.into(),
            content_type: "application/x-www-form-urlencoded",
            body: pairs.join("&").into_bytes(),
        }
    }
}

/// A row's request, made for the caller (its station) with the form's CSRF token; it may
/// make what it needs first (a fresh draft to approve, a fresh account to disable).
type Make = fn(&mut World, Who, Option<&str>) -> Req;

/// One route and what each caller gets.
struct Row {
    verb: &'static str,
    path: &'static str,
    via: Via,
    /// Whether the request is about one station (so a commune user on another gets 404).
    scoped: bool,
    /// Admin, operator, commune on its own station, commune on another, viewer.
    expect: [Out; 5],
    make: Make,
}

const ALL_OK: [Out; 5] = [Ok, Ok, Ok, Ok, Ok];
const READ_SCOPED: [Out; 5] = [Ok, Ok, Ok, Gone, Ok];
const CONTROL: [Out; 5] = [Ok, Ok, Ok, Gone, No];
const DISTRICT: [Out; 5] = [Ok, Ok, No, Gone, No];
const ADMIN: [Out; 5] = [Ok, No, No, No, No];

/// The shared world of the requests.
struct World {
    c: Console,
    bearer: HashMap<&'static str, String>,
    session: HashMap<&'static str, (String, String)>,
    /// Fresh audio made so far.
    made: usize,
    /// An approved bulletin of each station.
    approved: HashMap<&'static str, String>,
    week: String,
    /// Next week (every slot instance of it still to come).
    next_week: String,
}

impl World {
    fn new() -> World {
        let c = console("");
        let mut w = World {
            c,
            bearer: HashMap::new(),
            session: HashMap::new(),
            made: 0,
            approved: HashMap::new(),
            week: {
                let d = chrono::Utc::now().date_naive();
                let iw = chrono::Datelike::iso_week(&d);
                format!("{}-W{:02}", iw.year(), iw.week())
            },
            next_week: {
                let d = (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                    + chrono::Duration::days(7))
                .date_naive();
                let iw = chrono::Datelike::iso_week(&d);
                format!("{}-W{:02}", iw.year(), iw.week())
            },
        };
        for name in ["quantri", "dieuhanh", "xa-vinh-an", "noivu"] {
            let t = w.c.loa.run(&["user", "token", name]).expect(0);
            w.bearer.insert(name, format!("Bearer {}", t.stdout.trim()));
            w.session.insert(name, session(w.c.port, name));
        }
        for s in ["vinh-an", "vinh-tien"] {
            let id = w.bulletin(s, true);
            w.approved.insert(s, id);
        }
        w
    }

    /// A fresh bulletin for `station`, approved or a draft: its id.
    fn bulletin(&mut self, station: &str, approve: bool) -> String {
        self.made += 1;
        let audio = wav_bytes(self.c.loa.dir.path(), self.made);
        let mut fields = vec![
            ("kind", "news"),
            ("topic", "documents"),
            ("stations", station),
        ];
        if approve {
            fields.push(("approve", "true"));
        }
        let (ct, body) = multipart(&fields, &[("tin.wav", &audio)]);
        let r = send(
            self.c.port,
            "POST",
            "/api/v1/bulletins",
            &[
                ("Authorization", self.bearer["quantri"].as_str()),
                ("Content-Type", &ct),
            ],
            &body,
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v[0]["id"].as_str().unwrap().to_string()
    }

    /// A fresh viewer account: its name.
    fn account(&mut self) -> String {
        self.made += 1;
        let name = format!("tài-khoản-{}", self.made);
        let r = send(
            self.c.port,
            "POST",
            "/api/v1/users",
            &[
                ("Authorization", self.bearer["quantri"].as_str()),
                ("Content-Type", "application/json"),
            ],
            serde_json::json!({ "name": name, "role": "viewer", "password": PASSWORD })
                .to_string()
                .as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        name
    }

    /// A fresh announcement waiting at `station`: its number.
    fn waiting(&mut self, station: &str) -> i64 {
        let r = send(
            self.c.port,
            "POST",
            &format!("/api/v1/stations/{station}/announcements"),
            &[
                ("Authorization", self.bearer["quantri"].as_str()),
                ("Content-Type", "application/json"),
            ],
            serde_json::json!({ "level": "normal", "bulletin_id": self.approved[station] })
                .to_string()
                .as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v["announcements"][0].as_i64().unwrap()
    }

    /// An admin's JSON call: status and body.
    fn admin_call(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = send(
            self.c.port,
            method,
            path,
            &[
                ("Authorization", self.bearer["quantri"].as_str()),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        );
        let v = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
        (r.status, v)
    }

    /// Next week's kept week at `station`, unlocked and freshly built (so a change over its
    /// version succeeds once, and its first slot instance is still to come).
    fn week_at(&self, station: &str) -> serde_json::Value {
        let base = format!("/api/v1/schedules/{}", self.next_week);
        self.admin_call(
            "POST",
            &format!("{base}/unlock"),
            serde_json::json!({ "station": station }),
        );
        let (_, kept) = self.admin_call(
            "GET",
            &format!("{base}?station={station}"),
            serde_json::Value::Null,
        );
        let version = kept[0]["version"].as_u64().unwrap_or(0);
        let (s, w) = self.admin_call(
            "POST",
            &format!("{base}/build"),
            serde_json::json!({ "station": station, "version": version }),
        );
        assert_eq!(s, 200, "{w}");
        w
    }

    /// Next week at `station` locked, its version.
    fn locked_at(&self, station: &str) -> u64 {
        let w = self.week_at(station);
        let version = w["version"].as_u64().unwrap();
        let (s, v) = self.admin_call(
            "POST",
            &format!("/api/v1/schedules/{}/lock", self.next_week),
            serde_json::json!({ "station": station, "version": version }),
        );
        assert_eq!(s, 200, "{v}");
        v["version"].as_u64().unwrap_or(version)
    }

    /// A change of next week's first filled slot instance at `station`: the week's version, the
    /// slot's start, and a bulletin in it (to take out) or a fresh approved one (to pin).
    fn slot_change(&mut self, station: &str, pin: bool) -> (u64, String, String) {
        let w = self.week_at(station);
        let slot = w["schedule"]["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["items"].as_array().is_some_and(|i| !i.is_empty()))
            .unwrap_or_else(|| panic!("the builder filled a slot: {w}"))
            .clone();
        let bulletin = if pin {
            // Approved after the build: in no slot yet.
            self.bulletin(station, true)
        } else {
            slot["items"][0]["bulletin_id"]
                .as_str()
                .unwrap_or_else(|| panic!("the builder filled the first slot: {w}"))
                .to_string()
        };
        (
            w["version"].as_u64().unwrap(),
            slot["start"].as_str().unwrap().to_string(),
            bulletin,
        )
    }

    /// A draft for the caller's station when the caller may change it (so the change
    /// succeeds once), else the station's approved bulletin (nothing changes).
    fn target(&mut self, who: Who, allowed: bool) -> String {
        if allowed {
            self.bulletin(who.station(), false)
        } else {
            self.approved[who.station()].clone()
        }
    }
}

/// Whether `who` is expected to succeed on `row`.
fn may(row_expect: [Out; 5], who: Who) -> bool {
    expected(row_expect, who) == Some(Ok)
}

fn expected(e: [Out; 5], who: Who) -> Option<Out> {
    match who {
        Who::Anonymous => None,
        Who::Admin => Some(e[0]),
        Who::Operator => Some(e[1]),
        Who::CommuneOwn => Some(e[2]),
        Who::CommuneOther => Some(e[3]),
        Who::Viewer => Some(e[4]),
    }
}

fn id_path(prefix: &str, id: &str, suffix: &str) -> String {
    format!("{prefix}{id}{suffix}")
}

/// The table: every route the router is built from.
#[rustfmt::skip]
const ROWS: &[Row] = &[
    // Public.
    Row { verb: "GET", path: "/login", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/login") },
    Row { verb: "POST", path: "/login", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/login") /* driven by login_row */ },
    Row { verb: "GET", path: "/assets/loa.css", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/assets/loa.css") },
    Row { verb: "GET", path: "/assets/loa.js", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/assets/loa.js") },
    Row { verb: "GET", path: "/assets/library.js", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/assets/library.js") },
    Row { verb: "GET", path: "/assets/htmx-2.0.11.min.js", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/assets/htmx-2.0.11.min.js") },
    Row { verb: "GET", path: "/assets/htmx-ext-sse-2.2.4.min.js", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/assets/htmx-ext-sse-2.2.4.min.js") },
    Row { verb: "GET", path: "/api/v1/openapi.json", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/api/v1/openapi.json") },
    // Console pages.
    Row { verb: "GET", path: "/", via: Via::Page, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/") },
    Row { verb: "GET", path: "/events/on-air", via: Via::Live, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/events/on-air?lang=vi") },
    Row { verb: "POST", path: "/logout", via: Via::Page, scoped: false, expect: ALL_OK,
        make: |_, _, csrf| Req::form("/logout", &[], csrf) },
    Row { verb: "POST", path: "/stations/{code}/skip", via: Via::Page, scoped: true, expect: CONTROL,
        make: |_, who, csrf| Req::form(format!("/stations/{}/skip", who.station()), &[], csrf) },
    Row { verb: "POST", path: "/stations/{code}/stop", via: Via::Page, scoped: true, expect: CONTROL,
        make: |_, who, csrf| Req::form(format!("/stations/{}/stop", who.station()), &[], csrf) },
    Row { verb: "POST", path: "/stations/{code}/play", via: Via::Page, scoped: true, expect: CONTROL,
        make: |w, who, csrf| Req::form(format!("/stations/{}/play", who.station()),
            &[("bulletin", w.approved[who.station()].as_str())], csrf) },
    Row { verb: "POST", path: "/stations/{code}/urgent", via: Via::Page, scoped: true, expect: CONTROL,
        make: |w, who, csrf| Req::form(format!("/stations/{}/urgent", who.station()),
            &[("bulletin", w.approved[who.station()].as_str())], csrf) },
    Row { verb: "GET", path: "/library", via: Via::Page, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/library?station={}", who.station())) },
    Row { verb: "GET", path: "/library/{id}", via: Via::Page, scoped: true, expect: READ_SCOPED,
        make: |w, who, _| Req::get(id_path("/library/", &w.approved[who.station()], "")) },
    Row { verb: "GET", path: "/library/{id}/audio", via: Via::Media, scoped: true, expect: READ_SCOPED,
        make: |w, who, _| Req::get(id_path("/library/", &w.approved[who.station()], "/audio")) },
    Row { verb: "POST", path: "/library/{id}/approve", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let id = w.target(who, may(DISTRICT, who));
            Req::form(id_path("/library/", &id, "/approve"), &[], csrf)
        } },
    Row { verb: "POST", path: "/library/{id}/retire", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let id = w.target(who, may(DISTRICT, who));
            Req::form(id_path("/library/", &id, "/retire"), &[], csrf)
        } },
    Row { verb: "POST", path: "/library/{id}/remove", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let id = w.target(who, may(DISTRICT, who));
            Req::form(id_path("/library/", &id, "/remove"), &[], csrf)
        } },
    Row { verb: "POST", path: "/library/{id}/edit", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let id = w.target(who, may(DISTRICT, who));
            Req::form(id_path("/library/", &id, "/edit"), &[("title", "Tin đã sửa")], csrf)
        } },
    // A GET of a form's address goes back to the form's page, whoever asks.
    Row { verb: "GET", path: "/library/{id}/approve", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |w, _, _| Req::get(id_path("/library/", &w.approved["vinh-an"], "/approve")) },
    Row { verb: "GET", path: "/library/{id}/retire", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |w, _, _| Req::get(id_path("/library/", &w.approved["vinh-an"], "/retire")) },
    Row { verb: "GET", path: "/library/{id}/remove", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |w, _, _| Req::get(id_path("/library/", &w.approved["vinh-an"], "/remove")) },
    Row { verb: "GET", path: "/library/{id}/edit", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |w, _, _| Req::get(id_path("/library/", &w.approved["vinh-an"], "/edit?lang=en")) },
    Row { verb: "GET", path: "/library/upload", via: Via::Public, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/library/upload") },
    // An upload is followed only by the session that sends it: none is under way here.
    Row { verb: "GET", path: "/library/upload-progress", via: Via::Media, scoped: false, expect: [Gone; 5],
        make: |_, _, _| Req::get("/library/upload-progress?id=0123456789abcdef0123456789abcdef") },
    Row { verb: "POST", path: "/library/upload", via: Via::Page, scoped: true, expect: CONTROL,
        make: |w, who, csrf| {
            w.made += 1;
            let audio = wav_bytes(w.c.loa.dir.path(), w.made);
            let mut fields = vec![("kind", "news"), ("topic", "documents"), ("stations", who.station())];
            if let Some(t) = csrf {
                fields.insert(0, ("csrf_token", t));
            }
            let (ct, body) = multipart(&fields, &[("tin.wav", &audio)]);
            Req { path: "/library/upload".into(), content_type: leak(ct), body }
        } },
    Row { verb: "GET", path: "/schedule", via: Via::Page, scoped: true, expect: READ_SCOPED,
        make: |w, who, _| Req::get(format!("/schedule?week={}&station={}", w.week, who.station())) },
    Row { verb: "POST", path: "/schedule/build", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let v = w.week_at(who.station())["version"].as_u64().unwrap().to_string();
            Req::form("/schedule/build", &[("week", &w.next_week.clone()), ("station", who.station()), ("version", &v)], csrf)
        } },
    Row { verb: "POST", path: "/schedule/lock", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let v = w.week_at(who.station())["version"].as_u64().unwrap().to_string();
            Req::form("/schedule/lock", &[("week", &w.next_week.clone()), ("station", who.station()), ("version", &v)], csrf)
        } },
    Row { verb: "POST", path: "/schedule/unlock", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let v = w.locked_at(who.station()).to_string();
            Req::form("/schedule/unlock", &[("week", &w.next_week.clone()), ("station", who.station()), ("version", &v)], csrf)
        } },
    Row { verb: "POST", path: "/schedule/pin", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let (v, slot, b) = w.slot_change(who.station(), true);
            Req::form("/schedule/pin", &[("week", &w.next_week.clone()), ("station", who.station()),
                ("version", &v.to_string()), ("slot", &slot), ("bulletin", &b)], csrf)
        } },
    Row { verb: "POST", path: "/schedule/unpin", via: Via::Page, scoped: true, expect: DISTRICT,
        make: |w, who, csrf| {
            let (v, slot, b) = w.slot_change(who.station(), false);
            Req::form("/schedule/unpin", &[("week", &w.next_week.clone()), ("station", who.station()),
                ("version", &v.to_string()), ("slot", &slot), ("bulletin", &b)], csrf)
        } },
    Row { verb: "POST", path: "/api/v1/schedules/{week}/build", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let v = w.week_at(who.station())["version"].as_u64().unwrap();
            Req::json(format!("/api/v1/schedules/{}/build", w.next_week), serde_json::json!({ "station": who.station(), "version": v }))
        } },
    Row { verb: "POST", path: "/api/v1/schedules/{week}/lock", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let v = w.week_at(who.station())["version"].as_u64().unwrap();
            Req::json(format!("/api/v1/schedules/{}/lock", w.next_week), serde_json::json!({ "station": who.station(), "version": v }))
        } },
    Row { verb: "POST", path: "/api/v1/schedules/{week}/unlock", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            w.locked_at(who.station());
            Req::json(format!("/api/v1/schedules/{}/unlock", w.next_week), serde_json::json!({ "station": who.station() }))
        } },
    Row { verb: "POST", path: "/api/v1/schedules/{week}/pins", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let (v, slot, b) = w.slot_change(who.station(), true);
            Req::json(format!("/api/v1/schedules/{}/pins", w.next_week),
                serde_json::json!({ "station": who.station(), "slot": slot, "bulletin": b, "version": v }))
        } },
    Row { verb: "DELETE", path: "/api/v1/schedules/{week}/pins", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let (v, slot, b) = w.slot_change(who.station(), false);
            Req::json(format!("/api/v1/schedules/{}/pins", w.next_week),
                serde_json::json!({ "station": who.station(), "slot": slot, "bulletin": b, "version": v }))
        } },
    Row { verb: "GET", path: "/announcements", via: Via::Page, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/announcements") },
    Row { verb: "POST", path: "/announcements", via: Via::Page, scoped: true, expect: CONTROL,
        make: |w, who, csrf| {
            let id = w.approved[who.station()].clone();
            let key = format!("station:{}", who.station());
            Req::form("/announcements", &[("level", "normal"), ("bulletin_id", &id), (&key, "on")], csrf)
        } },
    Row { verb: "POST", path: "/announcements/{id}/cancel", via: Via::Page, scoped: true, expect: CONTROL,
        make: |w, who, csrf| {
            let id = w.waiting(who.station());
            Req::form(format!("/announcements/{id}/cancel"), &[], csrf)
        } },
    Row { verb: "GET", path: "/airlog", via: Via::Page, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/airlog?station={}", who.station())) },
    Row { verb: "GET", path: "/reports", via: Via::Page, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/reports") },
    Row { verb: "GET", path: "/reports/download", via: Via::Page, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/reports/download?format=csv&year=2023&station={}", who.station())) },
    Row { verb: "GET", path: "/users", via: Via::Page, scoped: false, expect: ADMIN,
        make: |_, _, _| Req::get("/users") },
    Row { verb: "POST", path: "/users", via: Via::Page, scoped: false, expect: ADMIN,
        make: |w, _, csrf| {
            w.made += 1;
            let name = format!("người-mới-{}", w.made);
            Req::form("/users", &[("op", "add"), ("name", &name), ("role", "viewer"), ("password", PASSWORD)], csrf)
        } },
    Row { verb: "GET", path: "/audit", via: Via::Page, scoped: false, expect: ADMIN,
        make: |_, _, _| Req::get("/audit") },
    // The older control API (`loa ctl`).
    Row { verb: "GET", path: "/api/status", via: Via::Api, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/api/status") },
    Row { verb: "GET", path: "/api/events", via: Via::Stream, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/api/events?station={}", who.station())) },
    Row { verb: "POST", path: "/api/stations/{code}/skip", via: Via::Api, scoped: true, expect: CONTROL,
        make: |_, who, _| Req::json(format!("/api/stations/{}/skip", who.station()), serde_json::json!({})) },
    Row { verb: "POST", path: "/api/stations/{code}/stop", via: Via::Api, scoped: true, expect: CONTROL,
        make: |_, who, _| Req::json(format!("/api/stations/{}/stop", who.station()), serde_json::json!({})) },
    Row { verb: "POST", path: "/api/stations/{code}/play", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| Req::json(format!("/api/stations/{}/play", who.station()),
            serde_json::json!({ "bulletin": w.approved[who.station()], "next": true })) },
    Row { verb: "POST", path: "/api/stations/{code}/urgent", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| Req::json(format!("/api/stations/{}/urgent", who.station()),
            serde_json::json!({ "bulletin": w.approved[who.station()] })) },
    // The JSON API.
    Row { verb: "GET", path: "/api/v1/stations", via: Via::Api, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/api/v1/stations") },
    Row { verb: "GET", path: "/api/v1/status", via: Via::Api, scoped: false, expect: ALL_OK,
        make: |_, _, _| Req::get("/api/v1/status") },
    Row { verb: "GET", path: "/api/v1/events", via: Via::Stream, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/api/v1/events?station={}", who.station())) },
    Row { verb: "POST", path: "/api/v1/stations/{code}/skip", via: Via::Api, scoped: true, expect: CONTROL,
        make: |_, who, _| Req::json(format!("/api/v1/stations/{}/skip", who.station()), serde_json::json!({})) },
    Row { verb: "POST", path: "/api/v1/stations/{code}/stop", via: Via::Api, scoped: true, expect: CONTROL,
        make: |_, who, _| Req::json(format!("/api/v1/stations/{}/stop", who.station()), serde_json::json!({})) },
    Row { verb: "POST", path: "/api/v1/stations/{code}/play", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| Req::json(format!("/api/v1/stations/{}/play", who.station()),
            serde_json::json!({ "bulletin": w.approved[who.station()], "next": true })) },
    Row { verb: "POST", path: "/api/v1/stations/{code}/urgent", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| Req::json(format!("/api/v1/stations/{}/urgent", who.station()),
            serde_json::json!({ "bulletin": w.approved[who.station()] })) },
    Row { verb: "POST", path: "/api/v1/stations/{code}/announcements", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| Req::json(format!("/api/v1/stations/{}/announcements", who.station()),
            serde_json::json!({ "level": "priority", "bulletin_id": w.approved[who.station()] })) },
    Row { verb: "POST", path: "/api/v1/announcements/{id}/cancel", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| {
            let id = w.waiting(who.station());
            Req::json(format!("/api/v1/announcements/{id}/cancel"), serde_json::json!({}))
        } },
    Row { verb: "GET", path: "/api/v1/bulletins", via: Via::Api, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/api/v1/bulletins?station={}", who.station())) },
    Row { verb: "POST", path: "/api/v1/bulletins", via: Via::Api, scoped: true, expect: CONTROL,
        make: |w, who, _| {
            w.made += 1;
            let audio = wav_bytes(w.c.loa.dir.path(), w.made);
            let (ct, body) = multipart(
                &[("kind", "news"), ("topic", "documents"), ("stations", who.station())],
                &[("tin.wav", &audio)],
            );
            Req { path: "/api/v1/bulletins".into(), content_type: leak(ct), body }
        } },
    Row { verb: "GET", path: "/api/v1/bulletins/{id}", via: Via::Api, scoped: true, expect: READ_SCOPED,
        make: |w, who, _| Req::get(id_path("/api/v1/bulletins/", &w.approved[who.station()], "")) },
    Row { verb: "PATCH", path: "/api/v1/bulletins/{id}", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let id = w.target(who, may(DISTRICT, who));
            Req::json(id_path("/api/v1/bulletins/", &id, ""), serde_json::json!({ "title": "Tin đã sửa" }))
        } },
    Row { verb: "DELETE", path: "/api/v1/bulletins/{id}", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let id = w.target(who, may(DISTRICT, who));
            Req::get(id_path("/api/v1/bulletins/", &id, ""))
        } },
    Row { verb: "POST", path: "/api/v1/bulletins/{id}/approve", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let id = w.target(who, may(DISTRICT, who));
            Req::get(id_path("/api/v1/bulletins/", &id, "/approve"))
        } },
    Row { verb: "POST", path: "/api/v1/bulletins/{id}/retire", via: Via::Api, scoped: true, expect: DISTRICT,
        make: |w, who, _| {
            let id = w.target(who, may(DISTRICT, who));
            Req::get(id_path("/api/v1/bulletins/", &id, "/retire"))
        } },
    Row { verb: "GET", path: "/api/v1/bulletins/{id}/audio", via: Via::Api, scoped: true, expect: READ_SCOPED,
        make: |w, who, _| Req::get(id_path("/api/v1/bulletins/", &w.approved[who.station()], "/audio")) },
    Row { verb: "GET", path: "/api/v1/schedules/{week}", via: Via::Api, scoped: true, expect: READ_SCOPED,
        make: |w, who, _| Req::get(format!("/api/v1/schedules/{}?station={}", w.week, who.station())) },
    Row { verb: "GET", path: "/api/v1/airlog", via: Via::Api, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/api/v1/airlog?station={}", who.station())) },
    Row { verb: "GET", path: "/api/v1/exports", via: Via::Api, scoped: true, expect: READ_SCOPED,
        make: |_, who, _| Req::get(format!("/api/v1/exports?format=csv&from=2023-01-01&to=2023-03-31&station={}", who.station())) },
    Row { verb: "GET", path: "/api/v1/users", via: Via::Api, scoped: false, expect: ADMIN,
        make: |_, _, _| Req::get("/api/v1/users") },
    Row { verb: "POST", path: "/api/v1/users", via: Via::Api, scoped: false, expect: ADMIN,
        make: |w, _, _| {
            w.made += 1;
            Req::json("/api/v1/users", serde_json::json!({
                "name": format!("người-dùng-{}", w.made), "role": "viewer", "password": PASSWORD }))
        } },
    Row { verb: "POST", path: "/api/v1/users/{name}/password", via: Via::Api, scoped: false, expect: ADMIN,
        make: |w, _, _| {
            let name = w.account();
            Req::json(format!("/api/v1/users/{}/password", enc(&name)), serde_json::json!({ "password": "mật khẩu mới 2026" }))
        } },
    Row { verb: "POST", path: "/api/v1/users/{name}/disable", via: Via::Api, scoped: false, expect: ADMIN,
        make: |w, _, _| {
            let name = w.account();
            Req::json(format!("/api/v1/users/{}/disable", enc(&name)), serde_json::json!({}))
        } },
    Row { verb: "POST", path: "/api/v1/users/{name}/token", via: Via::Api, scoped: false, expect: ADMIN,
        make: |w, _, _| {
            let name = w.account();
            Req::json(format!("/api/v1/users/{}/token", enc(&name)), serde_json::json!({}))
        } },
    Row { verb: "GET", path: "/api/v1/audit", via: Via::Api, scoped: false, expect: ADMIN,
        make: |_, _, _| Req::get("/api/v1/audit") },
];

/// A content type made at run time, for a [`Req`] (a test's few bytes).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Sends `req` as `who` over `row.via`; `csrf` is the CSRF header for a session on the
/// API (`None`: send none).
fn exchange(
    w: &World,
    row: &Row,
    who: Who,
    req: &Req,
    session: Option<(&str, Option<&str>)>,
) -> Resp {
    let origin = format!("http://127.0.0.1:{}", w.c.port);
    let mut headers: Vec<(&str, String)> = Vec::new();
    if !req.content_type.is_empty() {
        headers.push(("Content-Type", req.content_type.to_string()));
    }
    if who != Who::Anonymous {
        match (row.via, session) {
            (Via::Api | Via::Stream, None) => {
                headers.push(("Authorization", w.bearer[who.account()].clone()))
            }
            (_, Some((cookie, csrf))) => {
                headers.push(("Cookie", cookie.to_string()));
                headers.push(("Origin", origin.clone()));
                headers.push(("Sec-Fetch-Site", "same-origin".into()));
                if let Some(t) = csrf {
                    headers.push(("X-CSRF-Token", t.to_string()));
                }
            }
            (_, None) => {
                let (cookie, _) = &w.session[who.account()];
                headers.push(("Cookie", cookie.clone()));
                headers.push(("Origin", origin.clone()));
                headers.push(("Sec-Fetch-Site", "same-origin".into()));
            }
        }
    }
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if matches!(row.via, Via::Stream | Via::Live) {
        return common::console::head_only(w.c.port, row.verb, &req.path, &h);
    }
    send(w.c.port, row.verb, &req.path, &h, &req.body)
}

/// Whether `r` is `out` (or, for anonymous, the refusal of `via`) for `row`.
fn matches(r: &Resp, row: &Row, out: Option<Out>) -> bool {
    let to_login = r.status == 303
        && r.headers("location")
            .iter()
            .any(|l| l.starts_with("/login"));
    if row.path == "/logout" {
        // Logged out, or already: back to the login form.
        return to_login;
    }
    match (row.via, out) {
        (Via::Public, _) | (_, Some(Ok)) => [200, 201, 204, 303].contains(&r.status) && !to_login,
        (Via::Page, None) => to_login,
        (_, None) => r.status == 401,
        (_, Some(No)) => r.status == 403,
        (_, Some(Gone)) => r.status == 404,
    }
}

const CALLERS: [Who; 6] = [
    Who::Anonymous,
    Who::Admin,
    Who::Operator,
    Who::CommuneOwn,
    Who::CommuneOther,
    Who::Viewer,
];

#[test]
fn the_table_lists_exactly_the_routes_the_router_is_built_from() {
    let routed: BTreeSet<String> = loa::web::routes::list()
        .iter()
        .map(|r| r.to_string())
        .collect();
    let table: BTreeSet<String> = ROWS
        .iter()
        .map(|r| format!("{} {}", r.verb, r.path))
        .collect();
    assert_eq!(table.len(), ROWS.len(), "a row is listed twice");
    let missing: Vec<&String> = routed.difference(&table).collect();
    let stale: Vec<&String> = table.difference(&routed).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row: {missing:?}; rows without a route: {stale:?}"
    );
}

#[test]
fn every_route_answers_every_role_as_the_table_says() {
    let mut w = World::new();
    let mut wrong: Vec<String> = Vec::new();
    for row in ROWS {
        if row.verb == "POST" && row.path == "/login" {
            continue; // the login form's own CSRF and limit: console_auth.rs
        }
        for who in CALLERS {
            if who == Who::CommuneOther && !row.scoped {
                continue;
            }
            let fresh;
            let session = if row.path == "/logout" && who != Who::Anonymous {
                // Logging out ends the session: a session of its own.
                fresh = session(w.c.port, who.account());
                Some((fresh.0.as_str(), Some(fresh.1.as_str())))
            } else {
                None
            };
            let csrf = match (who, session) {
                (Who::Anonymous, _) => None,
                (_, Some((_, t))) => t.map(str::to_string),
                _ => Some(w.session[who.account()].1.clone()),
            };
            let req = (row.make)(&mut w, who, csrf.as_deref());
            let page_session = session.map(|(c, _)| (c, None));
            let r = exchange(&w, row, who, &req, page_session);
            let out = expected(row.expect, who);
            if let Some((cookie, _)) = session {
                let after = http(w.c.port, "GET", "/", &[("Cookie", cookie)], "");
                assert_eq!(after.status, 303, "{who:?}'s session outlived its logout");
            }
            if !matches(&r, row, out) {
                wrong.push(format!(
                    "{} {} as {who:?}: expected {out:?}, got {} {}",
                    row.verb,
                    req.path,
                    r.status,
                    r.body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_change_made_with_a_session_needs_its_csrf_token() {
    let mut w = World::new();
    let mut wrong: Vec<String> = Vec::new();
    let (cookie, _) = w.session["quantri"].clone();
    for row in ROWS {
        if row.verb == "GET" || row.via == Via::Public {
            continue;
        }
        for token in [None, Some("sai-ma-chong-gia-mao")] {
            let req = (row.make)(&mut w, Who::Admin, token);
            let r = exchange(&w, row, Who::Admin, &req, Some((&cookie, token)));
            if r.status != 403 {
                wrong.push(format!(
                    "{} {} with CSRF {token:?}: {} {}",
                    row.verb,
                    req.path,
                    r.status,
                    r.body.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The session still works: nothing was logged out or changed.
    let home = http(w.c.port, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(home.status, 200);
}
