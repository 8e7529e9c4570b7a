//! **Lịch phát** and `/api/v1/schedules/{week}` on the real server: a week built by
//! `loa schedule build` is shown to each role, confined (another station's week answers
//! 404 to a commune user), with a bad week refused; an operator builds, rebuilds, pins,
//! unpins, locks and unlocks over the API and the page, each audited; a locked week and a
//! week changed meanwhile are refused saying who and when, with nothing changed; commune
//! and viewer accounts may not change a week (403), nor see another station's (404); a
//! bulletin pinned in the console is what the daemon plays at that slot.

mod common;

use chrono::{Datelike, Timelike};
use common::console::{self, console, http, session, Console};

#[test]
fn a_kept_week_is_shown_to_each_role_and_another_station_is_404_to_a_commune_user() {
    let c = console("");
    let plan = c.loa.dir.path().join("plan.toml");
    let week = {
        let today = chrono::Utc::now().date_naive();
        let w = chrono::Datelike::iso_week(&today);
        format!("{}-W{:02}", w.year(), w.week())
    };
    c.loa
        .run(&[
            "schedule",
            "build",
            "--plan",
            plan.to_str().unwrap(),
            "--week",
            &week,
        ])
        .expect(0);
    c.loa
        .run(&["schedule", "lock", "--week", &week, "--station", "vinh-an"])
        .expect(0);
    for who in ["quantri", "dieuhanh", "noivu", "xa-vinh-an"] {
        let token = c.loa.run(&["user", "token", who]).expect(0);
        let bearer = format!("Bearer {}", token.stdout.trim());
        let r = http(
            c.port,
            "GET",
            &format!("/api/v1/schedules/{week}?station=vinh-an"),
            &[("Authorization", &bearer)],
            "",
        );
        assert_eq!(r.status, 200, "{who}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v[0]["station"], "vinh-an", "{who}");
        // `loa serve` may have built the week itself before the command line rebuilt it.
        assert!(v[0]["version"].as_u64().unwrap() >= 1, "{}", r.body);
        assert!(v[0]["locked_by"].is_string(), "{}", r.body);
        assert!(v[0]["schedule"]["compliance"].is_array());
        let all = http(
            c.port,
            "GET",
            &format!("/api/v1/schedules/{week}"),
            &[("Authorization", &bearer)],
            "",
        );
        let n = serde_json::from_str::<serde_json::Value>(&all.body).unwrap();
        let expected = if who == "xa-vinh-an" { 1 } else { 2 };
        assert_eq!(n.as_array().unwrap().len(), expected, "{who}: {}", all.body);
        let other = http(
            c.port,
            "GET",
            &format!("/api/v1/schedules/{week}?station=vinh-tien"),
            &[("Authorization", &bearer)],
            "",
        );
        let expected = if who == "xa-vinh-an" { 404 } else { 200 };
        assert_eq!(other.status, expected, "{who}: {}", other.body);
    }
    let token = c.loa.run(&["user", "token", "dieuhanh"]).expect(0);
    let bearer = format!("Bearer {}", token.stdout.trim());
    let r = http(
        c.port,
        "GET",
        "/api/v1/schedules/2026-W99",
        &[("Authorization", &bearer)],
        "",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        http(c.port, "GET", &format!("/api/v1/schedules/{week}"), &[], "").status,
        401
    );

    // The page: the week with its forecast; another station's week is 404 to the commune.
    let (cookie, _) = session(c.port, "xa-vinh-an");
    let page = http(
        c.port,
        "GET",
        &format!("/schedule?week={week}&station=vinh-an"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    for words in [
        "Lịch phát",
        "Dự báo đáp ứng kế hoạch",
        "Đã khóa bởi",
        "Xã Vĩnh An",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    let other = http(
        c.port,
        "GET",
        &format!("/schedule?week={week}&station=vinh-tien"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(other.status, 404);
    let bad = http(
        c.port,
        "GET",
        "/schedule?week=tuần-1&station=vinh-an",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("không phải tuần ISO"));
}

/// The ISO week of `d`.
fn iso(d: chrono::NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Next week, station time (every slot instance of it is still to come).
fn next_week() -> String {
    iso(
        (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            + chrono::Duration::days(7))
        .date_naive(),
    )
}

/// `Authorization: Bearer …` for `who`.
fn bearer(c: &Console, who: &str) -> String {
    let token = c.loa.run(&["user", "token", who]).expect(0);
    format!("Bearer {}", token.stdout.trim())
}

/// A JSON request with `auth`: (status, body as JSON).
fn call(
    c: &Console,
    method: &str,
    path: &str,
    auth: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let r = http(
        c.port,
        method,
        path,
        &[
            ("Authorization", auth),
            ("Content-Type", "application/json"),
        ],
        &text,
    );
    let v = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::String(r.body.clone()));
    (r.status, v)
}

/// The kept week of `station` (Null when none).
fn kept(c: &Console, auth: &str, week: &str, station: &str) -> serde_json::Value {
    let (status, v) = call(
        c,
        "GET",
        &format!("/api/v1/schedules/{week}?station={station}"),
        auth,
        serde_json::Value::Null,
    );
    assert_eq!(status, 200, "{v}");
    v[0].clone()
}

/// The version of a kept week (0 when none).
fn version(w: &serde_json::Value) -> u64 {
    w["version"].as_u64().unwrap_or(0)
}

/// The bulletin ids of slot instance `i`.
fn items(w: &serde_json::Value, i: usize) -> Vec<(String, bool)> {
    w["schedule"]["slots"][i]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| {
            (
                it["bulletin_id"].as_str().unwrap().to_string(),
                it["pinned"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// A console with a daily 05:30 slot and two approved 20-second news bulletins.
fn console_with_news() -> Console {
    console::with_slot(
        5,
        30,
        &[
            ("tin-mot.wav", "news", "documents", 20),
            ("tin-hai.wav", "news", "e_procedures", 20),
        ],
    )
}

#[test]
fn an_operator_builds_pins_unpins_locks_and_unlocks_over_the_api_each_audited_and_refusals_change_nothing(
) {
    let c = console_with_news();
    let op = bearer(&c, "dieuhanh");
    let week = next_week();
    let base = format!("/api/v1/schedules/{week}");
    let v0 = version(&kept(&c, &op, &week, "vinh-an"));

    // Build (or rebuild, if the daemon built it already) over the version seen.
    let (s, w) = call(
        &c,
        "POST",
        &format!("{base}/build"),
        &op,
        serde_json::json!({"station": "vinh-an", "version": v0}),
    );
    assert_eq!(s, 200, "{w}");
    let v1 = version(&w);
    assert_eq!(v1, v0 + 1);
    assert_eq!(w["built_by"], "dieuhanh");
    // The same form sent again is stale: refused saying who changed it, nothing built.
    let (s, e) = call(
        &c,
        "POST",
        &format!("{base}/build"),
        &op,
        serde_json::json!({"station": "vinh-an", "version": v0}),
    );
    assert_eq!(s, 409, "{e}");
    let said = e["error"].as_str().unwrap();
    assert!(
        said.contains("changed by dieuhanh") && said.contains(&format!("(version {v1})")),
        "{said}"
    );
    assert_eq!(version(&kept(&c, &op, &week, "vinh-an")), v1);

    // Take the first slot's first bulletin out, then pin it back.
    let slot = w["schedule"]["slots"][0]["start"]
        .as_str()
        .unwrap()
        .to_string();
    let first = items(&w, 0);
    assert!(!first.is_empty(), "the builder filled the first slot: {w}");
    let x = first[0].0.clone();
    let change = |b: &str, v: u64| serde_json::json!({"station": "vinh-an", "slot": slot, "bulletin": b, "version": v});
    let (s, w2) = call(&c, "DELETE", &format!("{base}/pins"), &op, change(&x, v1));
    assert_eq!(s, 200, "{w2}");
    let v2 = version(&w2);
    assert_eq!(v2, v1 + 1);
    assert!(!items(&w2, 0).iter().any(|(b, _)| *b == x), "{w2}");
    let (s, e) = call(&c, "POST", &format!("{base}/pins"), &op, change(&x, v1));
    assert_eq!(
        s, 409,
        "a pin over the version before the unpin is stale: {e}"
    );
    assert_eq!(
        version(&kept(&c, &op, &week, "vinh-an")),
        v2,
        "nothing changed"
    );
    let (s, w3) = call(&c, "POST", &format!("{base}/pins"), &op, change(&x, v2));
    assert_eq!(s, 200, "{w3}");
    let v3 = version(&w3);
    assert!(items(&w3, 0).contains(&(x.clone(), true)), "{w3}");
    let (s, e) = call(&c, "POST", &format!("{base}/pins"), &op, change(&x, v3));
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("already in that slot"),
        "{e}"
    );
    let (s, e) = call(
        &c,
        "POST",
        &format!("{base}/pins"),
        &op,
        change("không-phải-mã", v3),
    );
    assert_eq!(s, 400, "{e}");
    let (s, e) = call(
        &c,
        "POST",
        &format!("{base}/pins"),
        &op,
        serde_json::json!({"station": "vinh-an"}),
    );
    assert_eq!(s, 400, "a body without its fields: {e}");

    // Lock: edits and builds are refused naming who locked it, and nothing changes.
    let (s, w4) = call(
        &c,
        "POST",
        &format!("{base}/lock"),
        &op,
        serde_json::json!({"station": "vinh-an", "version": v3}),
    );
    assert_eq!(s, 200, "{w4}");
    assert_eq!(w4["locked_by"], "dieuhanh");
    for (method, path, body) in [
        ("DELETE", "pins", change(&x, v3)),
        (
            "POST",
            "build",
            serde_json::json!({"station": "vinh-an", "version": v3}),
        ),
    ] {
        let (s, e) = call(&c, method, &format!("{base}/{path}"), &op, body);
        assert_eq!(s, 409, "{path}: {e}");
        assert!(
            e["error"].as_str().unwrap().contains("locked by dieuhanh"),
            "{e}"
        );
    }
    let still = kept(&c, &op, &week, "vinh-an");
    assert_eq!(version(&still), v3, "a refused build keeps the old week");
    assert_eq!(still["schedule"], w3["schedule"]);
    let (s, e) = call(
        &c,
        "POST",
        &format!("{base}/lock"),
        &op,
        serde_json::json!({"station": "vinh-an", "version": v3}),
    );
    assert_eq!(s, 409, "already locked: {e}");
    let (s, w5) = call(
        &c,
        "POST",
        &format!("{base}/unlock"),
        &op,
        serde_json::json!({"station": "vinh-an"}),
    );
    assert_eq!(s, 200, "{w5}");
    assert!(w5["locked_by"].is_null());
    let (s, _) = call(
        &c,
        "POST",
        &format!("{base}/unlock"),
        &op,
        serde_json::json!({"station": "vinh-an"}),
    );
    assert_eq!(s, 409, "not locked");

    // Commune and viewer accounts read but may not change; another station is hidden.
    let commune = bearer(&c, "xa-vinh-an");
    let viewer = bearer(&c, "noivu");
    for (auth, station, expected) in [
        (&commune, "vinh-an", 403),
        (&commune, "vinh-tien", 404),
        (&viewer, "vinh-an", 403),
    ] {
        for path in ["build", "lock", "unlock"] {
            let (s, e) = call(
                &c,
                "POST",
                &format!("{base}/{path}"),
                auth,
                serde_json::json!({"station": station, "version": v3}),
            );
            assert_eq!(s, expected, "{path} at {station}: {e}");
        }
        let body =
            serde_json::json!({"station": station, "slot": slot, "bulletin": x, "version": v3});
        assert_eq!(
            call(&c, "POST", &format!("{base}/pins"), auth, body.clone()).0,
            expected
        );
        assert_eq!(
            call(&c, "DELETE", &format!("{base}/pins"), auth, body).0,
            expected
        );
    }
    assert_eq!(version(&kept(&c, &op, &week, "vinh-an")), v3);

    // Every change is in the audit trail with who, role, station, before and after.
    let log = common::console::audit(&c.loa);
    for action in ["schedule_build", "pin", "unpin", "lock", "unlock"] {
        let e = log
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} audited: {log:?}"));
        assert_eq!(e["actor"], "dieuhanh", "{e}");
        assert_eq!(e["station"], "vinh-an", "{e}");
        assert!(e["before"].is_string() && e["after"].is_string(), "{e}");
        assert!(e["address"].is_string(), "{e}");
    }
    let pin = log.iter().find(|e| e["action"] == "pin").unwrap();
    assert!(pin["after"].as_str().unwrap().contains(&x), "{pin}");
    assert_eq!(
        log.iter()
            .filter(|e| e["action"] == "schedule_build")
            .count(),
        1,
        "refusals are not audited as done"
    );
    c.loa.run(&["audit", "verify"]).expect(0);
}

/// A form post with the session cookie.
fn post_form(c: &Console, cookie: &str, path: &str, body: &str) -> common::console::Resp {
    http(
        c.port,
        "POST",
        path,
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &format!("http://127.0.0.1:{}", c.port)),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        body,
    )
}

#[test]
fn the_page_s_forms_build_pin_lock_and_unlock_and_say_plainly_when_the_week_is_locked_or_changed_meanwhile(
) {
    let c = console_with_news();
    let op = bearer(&c, "dieuhanh");
    let week = next_week();
    let (cookie, csrf) = session(c.port, "dieuhanh");
    let v0 = version(&kept(&c, &op, &week, "vinh-an"));
    let form = |extra: &str, v: u64| {
        format!("csrf_token={csrf}&week={week}&station=vinh-an&version={v}{extra}")
    };

    // Without the CSRF token nothing happens.
    let r = post_form(
        &c,
        &cookie,
        "/schedule/build",
        &format!("week={week}&station=vinh-an&version={v0}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // The API with the session cookie needs the X-CSRF-Token header too.
    let r = http(
        c.port,
        "POST",
        &format!("/api/v1/schedules/{week}/build"),
        &[("Cookie", &cookie), ("Content-Type", "application/json")],
        &format!(r#"{{"station":"vinh-an","version":{v0}}}"#),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(version(&kept(&c, &op, &week, "vinh-an")), v0);

    let r = post_form(&c, &cookie, "/schedule/build", &form("", v0));
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.headers("location").pop().unwrap_or_default();
    assert!(to.contains("done=build") && to.contains(&week), "{to}");
    let page = http(c.port, "GET", &to, &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200);
    for words in [
        "Đã lập lịch tuần.",
        "Lập lại lịch tuần này",
        "Khóa lịch tuần",
        "Ghim vào buổi này",
        "Bỏ khỏi buổi",
        "name=\"version\"",
    ] {
        assert!(page.body.contains(words), "{words}");
    }
    let w = kept(&c, &op, &week, "vinh-an");
    let v1 = version(&w);
    assert_eq!(v1, v0 + 1);

    // A form from before the build is stale: 409, who and when, nothing changed.
    let r = post_form(&c, &cookie, "/schedule/build", &form("", v0));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("đã được dieuhanh sửa lúc") && r.body.contains("sau khi bạn mở trang"),
        "{}",
        r.body
    );
    assert!(r.body.contains(&format!("(phiên bản {v1})")), "{}", r.body);
    assert_eq!(version(&kept(&c, &op, &week, "vinh-an")), v1);

    // Unpin and pin back from the page.
    let slot = w["schedule"]["slots"][0]["start"]
        .as_str()
        .unwrap()
        .to_string();
    let x = items(&w, 0)[0].0.clone();
    let slot_field = format!("&slot={}&bulletin={x}", common::console::enc(&slot));
    let r = post_form(&c, &cookie, "/schedule/unpin", &form(&slot_field, v1));
    assert_eq!(r.status, 303, "{}", r.body);
    let r = post_form(&c, &cookie, "/schedule/pin", &form(&slot_field, v1 + 1));
    assert_eq!(r.status, 303, "{}", r.body);
    let w = kept(&c, &op, &week, "vinh-an");
    assert!(items(&w, 0).contains(&(x.clone(), true)), "{w}");
    let v3 = version(&w);

    // Lock from the page: the page says who locked it and offers only the unlock.
    let r = post_form(&c, &cookie, "/schedule/lock", &form("", v3));
    assert_eq!(r.status, 303, "{}", r.body);
    let page = http(
        c.port,
        "GET",
        &format!("/schedule?week={week}&station=vinh-an"),
        &[("Cookie", &cookie)],
        "",
    );
    assert!(
        page.body.contains("Đã khóa bởi dieuhanh") && page.body.contains("Mở khóa lịch tuần"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("action=\"/schedule/pin\""));
    // A form sent from a page opened before the lock is refused plainly.
    let r = post_form(&c, &cookie, "/schedule/unpin", &form(&slot_field, v3));
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("đã được dieuhanh khóa lúc") && r.body.contains("hãy mở khóa trước"),
        "{}",
        r.body
    );
    assert_eq!(version(&kept(&c, &op, &week, "vinh-an")), v3);
    let r = post_form(&c, &cookie, "/schedule/unlock", &form("", v3));
    assert_eq!(r.status, 303, "{}", r.body);

    // In English, with its forms.
    let en = http(
        c.port,
        "GET",
        &format!("/schedule?week={week}&station=vinh-an&lang=en"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(en.status, 200);
    for words in [
        "Schedule",
        "Compliance forecast",
        "Rebuild this week",
        "Pin into this slot",
    ] {
        assert!(en.body.contains(words), "{words}");
    }
    assert!(
        !en.body.contains("Dự báo đáp ứng"),
        "no Vietnamese sentence on the English page"
    );

    // A commune operator sees its week without forms, and its posts are refused.
    let (cc, ccsrf) = session(c.port, "xa-vinh-an");
    let page = http(
        c.port,
        "GET",
        &format!("/schedule?week={week}&station=vinh-an"),
        &[("Cookie", &cc)],
        "",
    );
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("/schedule/build") && !page.body.contains("/schedule/pin"));
    let r = post_form(
        &c,
        &cc,
        "/schedule/build",
        &format!("csrf_token={ccsrf}&week={week}&station=vinh-an&version={v3}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("không được"), "{}", r.body);
    let r = post_form(
        &c,
        &cc,
        "/schedule/build",
        &format!("csrf_token={ccsrf}&week={week}&station=vinh-tien&version=1"),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    let log = common::console::audit(&c.loa);
    for action in ["schedule_build", "pin", "unpin", "lock", "unlock"] {
        assert!(
            log.iter()
                .any(|e| e["action"] == action && e["actor"] == "dieuhanh"),
            "{action}"
        );
    }
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulletin_pinned_in_the_console_is_what_the_daemon_plays_at_that_slot() {
    // A slot two or three minutes ahead: the daemon reads its week at once and waits.
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let at = now + chrono::Duration::minutes(if now.second() < 30 { 2 } else { 3 });
    let c = console::with_slot(
        at.hour(),
        at.minute(),
        &[("mo-dau.wav", "news", "documents", 3)],
    );
    let op = bearer(&c, "dieuhanh");
    let week = iso(at.date_naive());
    // The daemon builds the week it plays; wait until it is kept.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let w = loop {
        let w = kept(&c, &op, &week, "vinh-an");
        if !w.is_null() {
            break w;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon kept no week"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let slot = w["schedule"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .find(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .naive_local()
                == at
                    .naive_local()
                    .with_second(0)
                    .unwrap()
                    .with_nanosecond(0)
                    .unwrap()
        })
        .unwrap_or_else(|| panic!("a slot at {at}: {w}"));
    // A bulletin approved after the daemon read its week, pinned into the coming slot.
    let pinned = console::add_bulletin(
        &c.loa,
        "ghim.wav",
        "news",
        "examples",
        4,
        Some("Bản tin ghim"),
    );
    let (s, e) = call(
        &c,
        "POST",
        &format!("/api/v1/schedules/{week}/pins"),
        &op,
        serde_json::json!({"station": "vinh-an", "slot": slot, "bulletin": pinned, "version": version(&w)}),
    );
    assert_eq!(s, 200, "{e}");
    let start = chrono::DateTime::parse_from_rfc3339(&slot).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let rows = common::daemon::rows(&c.loa).await;
        let aired = rows.iter().find(|r| {
            r.station == "vinh-an"
                && r.level == "item"
                && r.bulletin_id.as_deref() == Some(pinned.as_str())
        });
        if let Some(r) = aired {
            assert_eq!(
                chrono::DateTime::parse_from_rfc3339(&r.slot_start).unwrap(),
                start,
                "it plays in the slot it was pinned into"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the pinned bulletin did not play: {:?}",
            rows.iter()
                .map(|r| (&r.station, &r.level, &r.bulletin_id, r.status.as_str()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Only at the station it was pinned at.
    assert!(!common::daemon::rows(&c.loa)
        .await
        .iter()
        .any(|r| r.station == "vinh-tien" && r.bulletin_id.as_deref() == Some(pinned.as_str())));
}
