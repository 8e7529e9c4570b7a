//! The console's Người dùng and Nhật ký thao tác pages on the real binary, for every role:
//! only an admin manages accounts (the changes of `loa user`, audited with the admin's
//! name, role and address) and reads the audit, whose chain verdict names an edited entry.

mod common;

use common::console::*;
use loa::store::Store;

fn form(port: u16, cookie: &str, body: &str) -> Resp {
    http(
        port,
        "POST",
        "/users",
        &[
            ("Cookie", cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &format!("http://127.0.0.1:{port}")),
        ],
        body,
    )
}

#[test]
fn only_an_admin_manages_accounts_and_each_change_is_audited() {
    let c = console("");
    let port = c.port;
    for user in ["dieuhanh", "xa-vinh-an", "noivu"] {
        let (cookie, csrf) = session(port, user);
        assert_eq!(
            http(port, "GET", "/users", &[("Cookie", &cookie)], "").status,
            403,
            "{user}"
        );
        let r = form(
            port,
            &cookie,
            &format!("csrf_token={csrf}&op=disable&name=quantri"),
        );
        assert_eq!(r.status, 403, "{user}: {}", r.body);
    }
    let (admin, csrf) = session(port, "quantri");
    let page = http(port, "GET", "/users", &[("Cookie", &admin)], "");
    assert_eq!(page.status, 200);
    for w in [
        "Người dùng",
        "dieuhanh",
        "xa-vinh-an",
        "vinh-an",
        "Thêm người dùng",
    ] {
        assert!(page.body.contains(w), "{w}: {}", page.body);
    }
    let pw = enc("mật khẩu mới 2026");
    let name = enc("Nguyễn Văn Bình");
    // Refused without the CSRF token; refused input is said in Vietnamese and changes nothing.
    let r = form(
        port,
        &admin,
        &format!("csrf_token=x&op=add&name={name}&role=commune&stations=vinh-tien&password={pw}"),
    );
    assert_eq!(r.status, 403);
    for (body, words) in [
        (
            format!("op=add&name={name}&role=commune&stations=&password={pw}"),
            "cần ít nhất một đài",
        ),
        (
            format!("op=add&name={name}&role=boss&password={pw}"),
            "không phải một vai trò",
        ),
        (
            format!("op=add&name={name}&role=viewer&password=ngan"),
            "cần ít nhất 8",
        ),
        (
            format!("op=add&name=dieuhanh&role=viewer&password={pw}"),
            "Đã có người dùng tên 'dieuhanh'",
        ),
        (
            "op=disable&name=ai-do".to_string(),
            "Không có người dùng 'ai-do'",
        ),
    ] {
        let r = form(port, &admin, &format!("csrf_token={csrf}&{body}"));
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(words), "{words}: {}", r.body);
    }
    let users = || c.loa.run(&["user", "list", "--json"]).expect(0).json();
    assert_eq!(users().as_array().unwrap().len(), 4);
    // Add, set a password, issue a token, disable.
    let r = form(
        port,
        &admin,
        &format!(
            "csrf_token={csrf}&op=add&name={name}&role=commune&stations=vinh-tien&password={pw}"
        ),
    );
    assert_eq!(
        (r.status, r.headers("location")),
        (303, vec!["/users?done=1".to_string()]),
        "{}",
        r.body
    );
    let list = users();
    let binh = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Nguyễn Văn Bình")
        .unwrap();
    assert_eq!(binh["role"], "commune");
    assert_eq!(binh["stations"], serde_json::json!(["vinh-tien"]));
    assert_eq!(
        login(port, "Nguyễn Văn Bình", "mật khẩu mới 2026").status,
        303
    );
    let r = form(
        port,
        &admin,
        &format!("csrf_token={csrf}&op=passwd&name=noivu&password={pw}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(login(port, "noivu", PASSWORD).status, 401);
    assert_eq!(login(port, "noivu", "mật khẩu mới 2026").status, 303);
    let r = form(
        port,
        &admin,
        &format!("csrf_token={csrf}&op=token&name={name}"),
    );
    assert_eq!(r.status, 200);
    let at = r.body.find("chép ngay: ").expect("the token is shown once") + "chép ngay: ".len();
    let token: String = r.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let status = http(
        port,
        "GET",
        "/api/status",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(status.status, 200, "{}", status.body);
    assert!(
        status.body.contains("vinh-tien") && !status.body.contains("vinh-an"),
        "{}",
        status.body
    );
    let r = form(
        port,
        &admin,
        &format!("csrf_token={csrf}&op=disable&name={name}"),
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        login(port, "Nguyễn Văn Bình", "mật khẩu mới 2026").status,
        401
    );
    // Each change is in the audit with the admin's name, role and address.
    let entries = audit(&c.loa);
    for action in ["user_add", "user_passwd", "token_issue", "user_disable"] {
        let e = entries
            .iter()
            .find(|e| e["action"] == action && e["actor"] == "quantri")
            .unwrap_or_else(|| panic!("{action}: {entries:?}"));
        assert_eq!(e["role"], "admin");
        assert_eq!(e["address"], "127.0.0.1");
    }
    assert!(
        !serde_json::to_string(&entries).unwrap().contains(&token),
        "no token in the audit"
    );
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn only_an_admin_reads_the_audit_page_whose_verdict_names_an_edited_entry() {
    let c = console("");
    let port = c.port;
    for user in ["dieuhanh", "xa-vinh-an", "noivu"] {
        let (cookie, _) = session(port, user);
        assert_eq!(
            http(port, "GET", "/audit", &[("Cookie", &cookie)], "").status,
            403,
            "{user}"
        );
    }
    let (admin, _) = session(port, "quantri");
    let page = http(port, "GET", "/audit", &[("Cookie", &admin)], "");
    assert_eq!(page.status, 200);
    for w in [
        "Nhật ký thao tác",
        "nguyên vẹn",
        "thêm người dùng",
        "đăng nhập",
        "dòng lệnh",
    ] {
        assert!(page.body.contains(w), "{w}: {}", page.body);
    }
    let only = http(
        port,
        "GET",
        "/audit?action=login&actor=noivu",
        &[("Cookie", &admin)],
        "",
    );
    assert!(only.body.contains("<td>noivu</td>"), "{}", only.body);
    assert!(
        !only.body.contains("<td>thêm người dùng</td>"),
        "{}",
        only.body
    );
    let en = http(port, "GET", "/audit?lang=en", &[("Cookie", &admin)], "");
    assert!(
        en.body.contains("Audit log") && en.body.contains("intact"),
        "{}",
        en.body
    );
    assert!(!en.body.contains("nguyên vẹn"));
    let bad = http(
        port,
        "GET",
        "/audit?since=hôm-qua",
        &[("Cookie", &admin)],
        "",
    );
    assert_eq!(bad.status, 400);
    // An entry edited in the database: the page names it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = c.loa.store().await;
        sqlx::query("UPDATE audit_log SET actor = 'kẻ gian' WHERE seq = 2")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    let page = http(port, "GET", "/audit", &[("Cookie", &admin)], "");
    assert!(page.body.contains("bị thay đổi tại mục 2"), "{}", page.body);
}

#[test]
fn the_accounts_and_audit_api_answer_an_admin_only_with_csrf_under_a_session() {
    let c = console("");
    let port = c.port;
    let json = |r: &Resp| -> serde_json::Value {
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
    };
    let call = |method: &str, path: &str, cookie: &str, csrf: Option<&str>, body: &str| {
        let mut h = vec![("Cookie", cookie), ("Content-Type", "application/json")];
        if let Some(t) = csrf {
            h.push(("X-CSRF-Token", t));
        }
        http(port, method, path, &h, body)
    };
    let add = r#"{"name":"Lê Thị Hoa","role":"viewer","password":"mật khẩu mới 2026"}"#;
    for user in ["dieuhanh", "xa-vinh-an", "noivu"] {
        let (cookie, csrf) = session(port, user);
        for (m, path, body) in [
            ("GET", "/api/v1/users", ""),
            ("GET", "/api/v1/audit", ""),
            ("POST", "/api/v1/users", add),
            ("POST", "/api/v1/users/noivu/disable", ""),
            ("POST", "/api/v1/users/noivu/token", ""),
        ] {
            assert_eq!(
                call(m, path, &cookie, Some(&csrf), body).status,
                403,
                "{user} {m} {path}"
            );
        }
    }
    let (admin, csrf) = session(port, "quantri");
    assert_eq!(
        call("POST", "/api/v1/users", &admin, None, add).status,
        403,
        "CSRF"
    );
    let r = call("POST", "/api/v1/users", &admin, Some(&csrf), add);
    assert_eq!(r.status, 200, "{}", r.body);
    let dup = call("POST", "/api/v1/users", &admin, Some(&csrf), add);
    assert_eq!(dup.status, 400);
    assert!(dup.body.contains("already exists"), "{}", dup.body);
    let list = json(&call("GET", "/api/v1/users", &admin, None, ""));
    let names: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dieuhanh", "Lê Thị Hoa", "noivu", "quantri", "xa-vinh-an"],
        "Vietnamese order"
    );
    let name = enc("Lê Thị Hoa");
    let t = json(&call(
        "POST",
        &format!("/api/v1/users/{name}/token"),
        &admin,
        Some(&csrf),
        "",
    ));
    let token = t["token"].as_str().unwrap().to_string();
    assert_eq!(
        http(
            port,
            "GET",
            "/api/status",
            &[("Authorization", &format!("Bearer {token}"))],
            ""
        )
        .status,
        200
    );
    let r = call(
        "POST",
        &format!("/api/v1/users/{name}/password"),
        &admin,
        Some(&csrf),
        r#"{"password":"ngắn"}"#,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("at least 8"), "{}", r.body);
    assert_eq!(
        call(
            "POST",
            &format!("/api/v1/users/{name}/disable"),
            &admin,
            Some(&csrf),
            ""
        )
        .status,
        200
    );
    assert_eq!(
        http(
            port,
            "GET",
            "/api/status",
            &[("Authorization", &format!("Bearer {token}"))],
            ""
        )
        .status,
        401
    );
    let a = json(&call(
        "GET",
        "/api/v1/audit?action=user_disable",
        &admin,
        None,
        "",
    ));
    assert_eq!(a["ok"], true);
    let entries = a["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"], "quantri");
    assert_eq!(entries[0]["target"], "Lê Thị Hoa");
    assert_eq!(
        call("GET", "/api/v1/audit?since=x", &admin, None, "").status,
        400
    );
    c.loa.run(&["audit", "verify"]).expect(0);
}
