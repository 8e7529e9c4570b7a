//! `loa user` and `loa audit` on the real binary with a temporary SQLite data dir: each
//! role, the refusals, list, passwd, disable, a token printed once and stored only hashed,
//! and `audit verify` passing, then naming an entry edited or deleted in the file.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Loa, Run};

/// Runs `loa --data-dir DATA ARGS…` with `stdin` on its standard input.
fn run_with_stdin(loa: &Loa, args: &[&str], stdin: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
    cmd.arg("--data-dir").arg(&loa.data).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LOA_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("LOA_OPERATOR", "Kiểm thử");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the loa binary runs");
    // A command refusing its arguments exits before reading stdin: the pipe may be closed.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn add(loa: &Loa, args: &[&str], password: &str) -> Run {
    let mut all = vec!["user", "add"];
    all.extend_from_slice(args);
    all.push("--password-stdin");
    run_with_stdin(loa, &all, password)
}

/// A data dir with one account of each role.
fn with_users() -> Loa {
    let loa = Loa::init();
    add(&loa, &["quantri", "--role", "admin"], "mật khẩu quản trị\n").expect(0);
    add(
        &loa,
        &["dieuhanh", "--role", "operator"],
        "mật khẩu huyện\n",
    )
    .expect(0);
    add(
        &loa,
        &[
            "Nguyễn Văn An",
            "--role",
            "commune",
            "--station",
            "vinh-an",
            "--station",
            "vinh-tien",
        ],
        "mật khẩu xã\n",
    )
    .expect(0);
    add(&loa, &["noivu", "--role", "viewer"], "mật khẩu nội vụ\n").expect(0);
    loa
}

#[test]
fn each_role_is_added_and_listed_with_its_stations() {
    let loa = with_users();
    let list = loa.run(&["user", "list", "--json"]).expect(0).json();
    let got: Vec<(String, String, Vec<String>, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().to_string(),
                u["role"].as_str().unwrap().to_string(),
                serde_json::from_value(u["stations"].clone()).unwrap(),
                u["disabled_at"].is_null(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            ("dieuhanh".into(), "operator".into(), vec![], true),
            (
                "Nguyễn Văn An".into(),
                "commune".into(),
                s(&["vinh-an", "vinh-tien"]),
                true
            ),
            ("noivu".into(), "viewer".into(), vec![], true),
            ("quantri".into(), "admin".into(), vec![], true),
        ]
    );
    assert_eq!(list[0]["created_by"], "Kiểm thử");
    let text = loa.run(&["user", "list"]).expect(0).stdout;
    assert!(text.contains("vinh-an, vinh-tien"), "{text}");
}

#[test]
fn bad_input_exits_2_naming_it_and_changes_nothing() {
    let loa = with_users();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["x", "--role", "boss"],
            "abcdefghi\n",
            "'boss' is not a role",
        ),
        (
            vec!["x", "--role", "commune"],
            "abcdefghi\n",
            "commune user needs at least one --station",
        ),
        (
            vec!["x", "--role", "operator", "--station", "vinh-an"],
            "abcdefghi\n",
            "takes no --station",
        ),
        (
            vec!["x", "--role", "commune", "--station", "Vĩnh An"],
            "abcdefghi\n",
            "'Vĩnh An' is not a station code",
        ),
        (vec!["x", "--role", "viewer"], "ngắn\n", "at least 8"),
        (vec!["x", "--role", "viewer"], "", "no password on stdin"),
        (
            vec!["quantri", "--role", "viewer"],
            "abcdefghi\n",
            "a user named 'quantri' already exists",
        ),
    ];
    for (args, stdin, says) in cases {
        let out = add(&loa, &args, stdin).expect(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    let out = loa.run(&["user", "add", "x", "--role", "viewer"]).expect(2);
    assert!(out.stderr.contains("--password-stdin"), "{}", out.stderr);
    for args in [
        vec!["user", "disable", "không-có"],
        vec!["user", "token", "không-có"],
    ] {
        let out = loa.run(&args).expect(2);
        assert!(
            out.stderr.contains("no user named 'không-có'"),
            "{}",
            out.stderr
        );
    }
    let out = run_with_stdin(
        &loa,
        &["user", "passwd", "không-có", "--password-stdin"],
        "abcdefghi\n",
    )
    .expect(2);
    assert!(
        out.stderr.contains("no user named 'không-có'"),
        "{}",
        out.stderr
    );
    assert_eq!(
        loa.run(&["user", "list", "--json"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let audit = loa.run(&["audit", "list", "--json"]).expect(0).json();
    assert_eq!(
        audit.as_array().unwrap().len(),
        4,
        "refusals record nothing"
    );
}

#[tokio::test]
async fn passwd_disable_and_a_token_printed_once_and_stored_only_hashed() {
    let loa = with_users();
    let store = loa.store().await;
    use loa::store::UserStore;
    let an = loa::access::UserName::parse("noivu").unwrap();
    let old = store.password_hash(&an).await.unwrap().unwrap();
    assert!(old.starts_with("$argon2id$"), "{old}");
    run_with_stdin(
        &loa,
        &["user", "passwd", "noivu", "--password-stdin"],
        "mật khẩu mới 2026\n",
    )
    .expect(0);
    let new = store.password_hash(&an).await.unwrap().unwrap();
    assert_ne!(new, old);
    assert!(loa::access::password::password_matches(
        "mật khẩu mới 2026",
        &new
    ));

    let out = loa.run(&["user", "token", "noivu"]).expect(0);
    let token = out.stdout.trim().to_string();
    assert!(token.starts_with("loa_") && token.len() == 68, "{token}");
    assert!(out.stderr.contains("shown only once"), "{}", out.stderr);
    let hash = loa::access::password::token_hash(&token);
    assert_eq!(store.token_user(&hash).await.unwrap().unwrap().name, an);
    store.pool().close().await;
    let mut bytes = std::fs::read(loa.data.join("loa.db")).unwrap();
    if let Ok(wal) = std::fs::read(loa.data.join("loa.db-wal")) {
        bytes.extend(wal);
    }
    let secret = &token["loa_".len()..];
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the token's text is not in the database"
    );

    loa.run(&["user", "disable", "noivu"]).expect(0);
    let store = loa.store().await;
    assert!(
        store.token_user(&hash).await.unwrap().is_none(),
        "a disabled user's token stops working"
    );
    let out = loa.run(&["user", "token", "noivu"]).expect(2);
    assert!(out.stderr.contains("is disabled"), "{}", out.stderr);
    let list = loa.run(&["user", "list", "--json"]).expect(0).json();
    let noivu = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "noivu")
        .unwrap();
    assert!(noivu["disabled_at"].is_string());

    let audit = loa.run(&["audit", "list", "--json"]).expect(0).json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user_add",
            "user_add",
            "user_add",
            "user_add",
            "user_passwd",
            "token_issue",
            "user_disable"
        ]
    );
    let disable = &audit[6];
    assert_eq!(disable["actor"], "Kiểm thử");
    assert_eq!(disable["target"], "noivu");
    assert!(disable["before"]
        .as_str()
        .unwrap()
        .contains("\"disabled\":false"));
    assert!(disable["after"]
        .as_str()
        .unwrap()
        .contains("\"disabled\":true"));
    let text = serde_json::to_string(&audit).unwrap();
    assert!(
        !text.contains("argon2") && !text.contains(secret),
        "no secret in the audit"
    );
    let since = loa
        .run(&["audit", "list", "--since", "2999-01-01", "--json"])
        .expect(0)
        .json();
    assert!(since.as_array().unwrap().is_empty());
    loa.run(&["audit", "list", "--since", "hôm qua"]).expect(2);
}

#[tokio::test]
async fn audit_verify_passes_then_names_an_entry_edited_or_deleted_in_the_file() {
    let loa = with_users();
    loa.run(&["user", "disable", "noivu"]).expect(0);
    let ok = loa.run(&["audit", "verify", "--json"]).expect(0).json();
    assert_eq!(ok, serde_json::json!({"ok": true, "entries": 5}));
    assert!(loa
        .run(&["audit", "verify"])
        .expect(0)
        .stdout
        .contains("audit intact: 5 entries"));

    let store = loa.store().await;
    sqlx::query("UPDATE audit_log SET target = 'người khác' WHERE seq = 3")
        .execute(store.pool())
        .await
        .unwrap();
    let out = loa.run(&["audit", "verify", "--json"]).expect(1);
    assert_eq!(out.json()["seq"], 3, "{}", out.stdout);
    assert!(
        out.stderr.contains("audit entry 3 was edited"),
        "{}",
        out.stderr
    );

    // Put it back: the chain holds again; then delete an entry.
    sqlx::query("UPDATE audit_log SET target = 'Nguyễn Văn An' WHERE seq = 3")
        .execute(store.pool())
        .await
        .unwrap();
    loa.run(&["audit", "verify"]).expect(0);
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(store.pool())
        .await
        .unwrap();
    let out = loa.run(&["audit", "verify", "--json"]).expect(1);
    assert_eq!(out.json()["seq"], 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("audit entry 2 was deleted"),
        "{}",
        out.stderr
    );

    // The newest entry deleted: the head still names it.
    sqlx::query("DELETE FROM audit_log WHERE seq >= 2")
        .execute(store.pool())
        .await
        .unwrap();
    let out = loa.run(&["audit", "verify"]).expect(1);
    assert!(
        out.stderr.contains("audit entry 2 was deleted"),
        "{}",
        out.stderr
    );
    store.pool().close().await;
}
