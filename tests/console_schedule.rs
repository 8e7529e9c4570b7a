//! **Lịch phát** (read-only) and `GET /api/v1/schedules/{week}` on the real server: a
//! week built by `loa schedule build` is shown to each role, confined (another station's
//! week answers 404 to a commune user), with a bad week refused.

mod common;

use common::console::{console, http, session};

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
