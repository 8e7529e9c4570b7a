//! The airlog and the report downloads on the console and the API, on the real binary: a
//! day played (simulated clock) at two commune stations, then `loa serve` with one account
//! per role. Each role reads what it may (a commune account only its station; another
//! station answers 404), each station's chain verdict is shown on its own (an edited row at
//! one station does not hide the other's), downloads are the CLI's exports, streamed, and
//! audited; `loa audit verify` still passes.

mod common;

use common::console::*;
use common::daemon::free_port;
use common::fixtures::{speech_like, write_wav, WavFormat};
use common::Loa;
use loa::store::Store;

/// The day played.
fn day() -> String {
    format!("{}-01-05", chrono::Datelike::year(&chrono::Utc::now()))
}

/// The console's data dir with a spot, one day played at both stations, then served.
fn played() -> Console {
    played_with(|_| {})
}

/// [`played`], the data dir first changed by `setup` (e.g. a station's zone).
fn played_with(setup: impl FnOnce(&Loa)) -> Console {
    let port = free_port();
    let loa = data_dir(port, "");
    setup(&loa);
    let spot = loa.dir.path().join("khau-hieu.wav");
    write_wav(
        &spot,
        WavFormat::Pcm16,
        8_000,
        1,
        &speech_like(8_000, 1, 400, 8_000 * 3, 400),
        None,
    );
    let plan = loa.dir.path().join("plan.toml");
    run(
        &loa,
        &[
            "library",
            "add",
            spot.to_str().unwrap(),
            "--kind",
            "news",
            "--topic",
            "documents",
            "--title",
            "Tin cải cách",
            "--approve",
        ],
    );
    run(
        &loa,
        &[
            "playout",
            "run",
            "--plan",
            plan.to_str().unwrap(),
            "--from",
            &day(),
            "--to",
            &day(),
            "--clock",
            "simulated",
            "--sink",
            "null",
        ],
    );
    serve(loa, port)
}

fn run(loa: &Loa, args: &[&str]) {
    loa.run(args).expect(0);
}

fn get(port: u16, path: &str, cookie: &str) -> Resp {
    http(port, "GET", path, &[("Cookie", cookie)], "")
}

fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

fn stations_of(v: &serde_json::Value) -> Vec<String> {
    let mut s: Vec<String> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["station"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s.dedup();
    s
}

#[test]
fn each_role_reads_the_airlog_it_may_with_every_chain_checked_on_its_own() {
    let c = played();
    let port = c.port;
    let q = format!("/api/v1/airlog?from={}&to={}", day(), day());
    for user in ["quantri", "dieuhanh", "noivu"] {
        let (cookie, _) = session(port, user);
        let r = get(port, &q, &cookie);
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        let v = json(&r);
        assert_eq!(stations_of(&v), ["vinh-an", "vinh-tien"], "{user}");
        assert!(v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true));
    }
    let (commune, _) = session(port, "xa-vinh-an");
    let v = json(&get(port, &q, &commune));
    assert_eq!(stations_of(&v), ["vinh-an"]);
    assert_eq!(v["chains"].as_array().unwrap().len(), 1);
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["level"] == "item")
        .unwrap()
        .clone();
    assert_eq!(row["title"], "Tin cải cách");
    assert_eq!(row["status"], "aired");
    assert_eq!(row["status_text"], "Đã phát");
    let other = get(port, &format!("{q}&station=vinh-tien"), &commune);
    assert_eq!(other.status, 404, "{}", other.body);
    // Bad input: one sentence naming it; no login: 401.
    let bad = get(port, "/api/v1/airlog?from=5/1/20x", &commune);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("from '5/1/20x'"), "{}", bad.body);
    assert_eq!(http(port, "GET", &q, &[], "").status, 401);
    // The page, in Vietnamese then English; the commune user's shows only its station.
    let page = get(
        port,
        &format!("/airlog?from={}&to={}", day(), day()),
        &commune,
    );
    assert_eq!(page.status, 200);
    for w in [
        "Nhật ký phát sóng",
        "nguyên vẹn",
        "Tin cải cách",
        "Đã phát",
        "Xã Vĩnh An",
    ] {
        assert!(page.body.contains(w), "{w}: {}", page.body);
    }
    assert!(!page.body.contains("Xã Vĩnh Tiến"), "{}", page.body);
    let en = get(
        port,
        "/airlog?lang=en&from=2020-01-01&to=2020-01-07",
        &commune,
    );
    assert!(
        en.body.contains("Airlog") && en.body.contains("intact"),
        "{}",
        en.body
    );
    assert!(!en.body.contains("nguyên vẹn"));
    assert_eq!(get(port, "/airlog?station=vinh-tien", &commune).status, 404);
    // An edited row at Vĩnh Tiến: its chain is named altered, Vĩnh An's still holds.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = c.loa.store().await;
        sqlx::query(
            "UPDATE airlog SET played_ms = played_ms + 1000 WHERE seq = \
             (SELECT MIN(seq) FROM airlog WHERE station = 'vinh-tien' AND bulletin_id IS NOT NULL)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        store.close().await;
    });
    let (admin, _) = session(port, "quantri");
    let v = json(&get(port, &q, &admin));
    let chains = v["chains"].as_array().unwrap();
    let of = |s: &str| chains.iter().find(|c| c["station"] == s).unwrap().clone();
    assert_eq!(of("vinh-an")["ok"], true);
    assert_eq!(of("vinh-tien")["ok"], false);
    assert!(of("vinh-tien")["problem"]
        .as_str()
        .unwrap()
        .contains("edited"));
    let page = get(port, "/airlog", &admin);
    assert!(page.body.contains("bị thay đổi tại dòng"), "{}", page.body);
}

#[test]
fn every_role_downloads_the_exports_it_may_streamed_and_audited() {
    let c = played();
    let port = c.port;
    let period = format!("from={}&to={}", day(), day());
    let (viewer, _) = session(port, "noivu");
    let csv = get(
        port,
        &format!("/api/v1/exports?format=csv&{period}"),
        &viewer,
    );
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.headers("content-type"), ["text/csv; charset=utf-8"]);
    let disposition = csv.headers("content-disposition").join("");
    assert!(
        disposition.starts_with("attachment; filename=\"loa-nhat-ky-phat-song-"),
        "{disposition}"
    );
    assert!(csv.body.starts_with('\u{feff}'), "a BOM first");
    assert!(csv.body.contains("vinh-an") && csv.body.contains("vinh-tien"));
    for format in ["xlsx", "html"] {
        let r = get(
            port,
            &format!("/api/v1/exports?format={format}&{period}"),
            &viewer,
        );
        assert_eq!(r.status, 200, "{format}: {}", r.body);
    }
    // A commune user downloads its own station only; another station is 404.
    let (commune, _) = session(port, "xa-vinh-an");
    let own = get(
        port,
        &format!("/api/v1/exports?format=csv&{period}"),
        &commune,
    );
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(
        own.body.contains("vinh-an") && !own.body.contains("vinh-tien"),
        "{}",
        own.body
    );
    let other = get(
        port,
        &format!("/api/v1/exports?format=csv&{period}&station=vinh-tien"),
        &commune,
    );
    assert_eq!(other.status, 404, "{}", other.body);
    let bad = get(port, "/api/v1/exports?format=pdf&year=2023", &commune);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("format 'pdf'"), "{}", bad.body);
    assert_eq!(
        http(port, "GET", "/api/v1/exports?format=csv&year=2023", &[], "").status,
        401
    );
    // Nothing is left in the scratch folder; each download is in the audit.
    let scratch = c.loa.data.join("tmp");
    assert!(std::fs::read_dir(&scratch).map_or(true, |mut d| d.next().is_none()));
    let downloads: Vec<serde_json::Value> = audit(&c.loa)
        .into_iter()
        .filter(|e| e["action"] == "report_download")
        .collect();
    assert_eq!(downloads.len(), 4, "{downloads:?}");
    let by_commune = downloads
        .iter()
        .find(|e| e["actor"] == "xa-vinh-an")
        .unwrap();
    assert_eq!(by_commune["station"], "vinh-an");
    assert!(by_commune["after"].as_str().unwrap().contains("\"rows\""));
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn the_reports_page_downloads_what_the_api_does_and_says_a_refusal_as_a_page() {
    let c = played();
    let port = c.port;
    let (commune, _) = session(port, "xa-vinh-an");
    let page = get(port, "/reports", &commune);
    assert_eq!(page.status, 200);
    for w in [
        "Báo cáo",
        "Tải báo cáo",
        "Xã Vĩnh An",
        "href=\"/airlog\"",
        "href=\"/announcements\"",
    ] {
        assert!(page.body.contains(w), "{w}: {}", page.body);
    }
    assert!(!page.body.contains("Xã Vĩnh Tiến"), "only its stations");
    assert!(
        !page.body.contains("href=\"/users\""),
        "no admin pages offered"
    );
    let en = get(port, "/reports?lang=en", &commune);
    assert!(
        en.body.contains("Reports") && en.body.contains("Download"),
        "{}",
        en.body
    );
    let q = format!(
        "quarter=&year=&from={}&to={}&format=csv&lang=vi",
        day(),
        day()
    );
    let csv = get(port, &format!("/reports/download?{q}"), &commune);
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.starts_with('\u{feff}') && csv.body.contains("vinh-an"));
    let other = get(
        port,
        &format!("/reports/download?{q}&station=vinh-tien"),
        &commune,
    );
    assert_eq!(other.status, 404);
    assert!(other.body.contains("Không có đài này"), "{}", other.body);
    let bad = get(port, "/reports/download?format=csv", &commune);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Không tải được"), "{}", bad.body);
    // The home page in English too, with the navigation; an admin is offered its pages.
    let (admin, _) = session(port, "quantri");
    let home = get(port, "/?lang=en", &admin);
    for w in [
        "On air",
        "Announcements",
        "href=\"/users\"",
        "href=\"/audit\"",
    ] {
        assert!(home.body.contains(w), "{w}: {}", home.body);
    }
    assert!(
        !home.body.contains("Đang phát") && !home.body.contains("Chờ buổi phát"),
        "{}",
        home.body
    );
    let vi = get(port, "/?lang=vi", &admin);
    assert!(vi.body.contains("Đang phát") && vi.body.contains("Nhật ký thao tác"));
    let downloads = audit(&c.loa)
        .into_iter()
        .filter(|e| e["action"] == "report_download")
        .count();
    assert_eq!(downloads, 1);
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn each_airlog_row_is_in_its_station_s_zone_and_days_are_typed_and_shown_day_first() {
    let c = played_with(|loa| set_zone(loa, "vinh-tien", "Asia/Tokyo"));
    let port = c.port;
    let (admin, _) = session(port, "quantri");
    let d = chrono::NaiveDate::parse_from_str(&day(), "%Y-%m-%d").unwrap();
    let shown = d.format("%d/%m/%Y").to_string();
    let q = format!("from={}&to={}", enc(&shown), enc(&shown));
    let page = get(port, &format!("/airlog?{q}"), &admin);
    assert_eq!(page.status, 200, "{}", page.body);
    // Both stations' 05:30 slots read 05:30 at their stations; Vĩnh Tiến's zone is named.
    // (In the server's zone Tokyo's 05:30 would read 03:30.)
    let at = format!("05:30:00 {shown}");
    assert!(page.body.matches(&at).count() >= 2, "{}", page.body);
    assert!(
        !page.body.contains(&format!("03:30:00 {shown}")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Asia/Tokyo"), "{}", page.body);
    // The day fields show dd/mm/yyyy whatever the browser, and take it.
    assert!(
        page.body.contains(&format!(r#"value="{shown}""#)),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"placeholder="dd/mm/yyyy""#));
    assert!(!page.body.contains(r#"type="date""#));
    // A wrong day: 400, said in Vietnamese at its field, the form as it was sent.
    let bad = get(
        port,
        "/airlog?from=31%2F02%2F2026&to=&station=vinh-an",
        &admin,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("field-error"), "{}", bad.body);
    assert!(
        bad.body
            .contains("'31/02/2026' không phải một ngày; hãy nhập theo dạng dd/mm/yyyy"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains(r#"value="31/02/2026""#), "{}", bad.body);
    assert!(
        bad.body.contains(r#"<option value="vinh-an" selected>"#),
        "{}",
        bad.body
    );
    // The API takes both forms; a station's days are its own zone's.
    let api = get(
        port,
        &format!("/api/v1/airlog?{q}&station=vinh-tien"),
        &admin,
    );
    assert_eq!(api.status, 200, "{}", api.body);
    assert!(!json(&api)["rows"].as_array().unwrap().is_empty());
    // The reports form and the audit's filter take and say days the same way.
    let bad = get(
        port,
        "/reports/download?quarter=&year=&from=32%2F01%2F2026&to=05%2F01%2F2026&format=csv",
        &admin,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("'32/01/2026' không phải một ngày"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains(r#"value="32/01/2026""#), "{}", bad.body);
    let csv = get(
        port,
        &format!("/reports/download?quarter=&year=&{q}&format=csv"),
        &admin,
    );
    assert_eq!(csv.status, 200, "{}", csv.body);
    let bad = get(port, "/audit?since=1%2F13%2F2026", &admin);
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("'1/13/2026' không phải một ngày"),
        "{}",
        bad.body
    );
    let audit_page = get(port, &format!("/audit?since={}", enc(&shown)), &admin);
    assert_eq!(audit_page.status, 200, "{}", audit_page.body);
    assert!(audit_page.body.contains(&format!(r#"value="{shown}""#)));
}
