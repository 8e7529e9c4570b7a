//! The **Thư viện** page and `/api/v1/bulletins` on the real server, real SQLite and real
//! audio: uploads good, corrupt and oversized (nothing left behind), each role allowed or
//! forbidden, another station's bulletin 404 for a commune user, CSRF, range requests,
//! and an audit entry for every action.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::console::{audit, console, http, session, Console, Resp};
use common::fixtures::{speech_like, write_wav, WavFormat};

/// A 2-second WAV.
fn wav(dir: &Path, name: &str, seed_len: usize) -> Vec<u8> {
    let p = dir.join(name);
    write_wav(
        &p,
        WavFormat::Pcm16,
        8000,
        1,
        &speech_like(8000, 1, 800, 16000 + seed_len, 800),
        None,
    );
    std::fs::read(&p).unwrap()
}

/// A multipart body: text fields then files.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "loaBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// One request with a binary body.
fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    // The server may answer (413) before the whole body is sent.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let body = String::from_utf8_lossy(out.get(split + 4..).unwrap_or_default()).into_owned();
    Resp {
        status: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        head,
        body,
    }
}

fn bearer(c: &Console, name: &str) -> String {
    let issued = c.loa.run(&["user", "token", name]).expect(0);
    format!("Bearer {}", issued.stdout.trim())
}

/// What is left in the data dir's audio store and upload folder.
fn leftovers(c: &Console) -> (usize, usize) {
    let count = |d: &Path| walk(d);
    fn walk(d: &Path) -> usize {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    (
        count(&c.loa.data.join("audio")),
        count(&c.loa.data.join("uploads")),
    )
}

fn api_upload(c: &Console, who: &str, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Resp {
    let (ct, body) = multipart(fields, files);
    send(
        c.port,
        "POST",
        "/api/v1/bulletins",
        &[("Authorization", &bearer(c, who)), ("Content-Type", &ct)],
        &body,
    )
}

fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {} {}", r.head, r.body))
}

#[test]
fn uploads_good_corrupt_and_oversized_leave_exactly_what_they_should() {
    let c = console("upload_max_mb = 1");
    let dir = tempfile::tempdir().unwrap();
    let a = wav(dir.path(), "a.wav", 0);
    let b = wav(dir.path(), "b.wav", 8);
    // Two good files at once: both added as drafts, measured, audited.
    let r = api_upload(
        &c,
        "dieuhanh",
        &[
            ("kind", "news"),
            ("topic", "documents"),
            ("producer", "Phòng VH"),
        ],
        &[("Tin sáng.wav", &a), ("Tin chiều.wav", &b)],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = json(&r);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["new"], true);
    assert_eq!(v[0]["state"], "draft");
    assert_eq!(v[0]["title"], "Tin sáng");
    assert!(v[0]["analysis"]["duration_ms"].as_u64().unwrap() > 1500);
    assert_eq!(v[0]["analysis"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(leftovers(&c), (2, 0));
    let uploads: Vec<_> = audit(&c.loa)
        .into_iter()
        .filter(|e| e["action"] == "bulletin_upload")
        .collect();
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    assert_eq!(uploads[0]["actor"], "dieuhanh");
    assert_eq!(uploads[0]["address"], "127.0.0.1");

    // A corrupt file beside a good one: refused naming the file, nothing stored.
    let mut corrupt = wav(dir.path(), "c.wav", 16);
    corrupt.truncate(60);
    corrupt.extend_from_slice(&[0xffu8; 4000]);
    let fresh = wav(dir.path(), "d.wav", 24);
    let r = api_upload(
        &c,
        "dieuhanh",
        &[("kind", "news"), ("topic", "documents")],
        &[("hỏng.wav", &corrupt), ("tốt.wav", &fresh)],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let e = json(&r)["error"].as_str().unwrap().to_string();
    assert!(e.starts_with("hỏng.wav: "), "{e}");
    assert!(
        !e.contains("uploads"),
        "the temporary path is not shown: {e}"
    );
    assert_eq!(leftovers(&c), (2, 0));

    // A file over the configured 1 MB: 413 naming the key, nothing left behind.
    let big = vec![0u8; 1024 * 1024 + 10];
    let r = api_upload(
        &c,
        "dieuhanh",
        &[("kind", "news"), ("topic", "documents")],
        &[("lớn.wav", &big)],
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("http.upload_max_mb"), "{}", r.body);
    assert_eq!(leftovers(&c), (2, 0));

    // A missing kind: 400 naming the field.
    let r = api_upload(
        &c,
        "dieuhanh",
        &[("topic", "documents")],
        &[("x.wav", &fresh)],
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("kind"), "{}", r.body);
    let list = http(
        c.port,
        "GET",
        "/api/v1/bulletins",
        &[("Authorization", &bearer(&c, "noivu"))],
        "",
    );
    assert_eq!(json(&list).as_array().unwrap().len(), 2);
    assert_eq!(leftovers(&c), (2, 0));
}

#[test]
fn each_role_may_do_what_its_role_allows_and_a_commune_user_sees_only_its_own() {
    let c = console("");
    let dir = tempfile::tempdir().unwrap();
    let a = wav(dir.path(), "a.wav", 0);
    let b = wav(dir.path(), "b.wav", 8);
    // An operator's bulletin for vinh-tien only; a commune upload is a draft for vinh-an.
    let r = api_upload(
        &c,
        "dieuhanh",
        &[
            ("kind", "article"),
            ("topic", "examples"),
            ("stations", "vinh-tien"),
        ],
        &[("Vĩnh Tiến.wav", &a)],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let tien = json(&r)[0]["id"].as_str().unwrap().to_string();
    let r = api_upload(
        &c,
        "xa-vinh-an",
        &[("kind", "news"), ("topic", "other"), ("approve", "1")],
        &[("an.wav", &b)],
    );
    assert_eq!(r.status, 403, "a commune user cannot approve: {}", r.body);
    let r = api_upload(
        &c,
        "xa-vinh-an",
        &[("kind", "news"), ("topic", "other")],
        &[("an.wav", &b)],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let an = json(&r)[0].clone();
    assert_eq!(an["state"], "draft");
    assert_eq!(an["stations"], serde_json::json!(["vinh-an"]));
    let an = an["id"].as_str().unwrap().to_string();
    let r = api_upload(
        &c,
        "noivu",
        &[("kind", "news"), ("topic", "other")],
        &[("v.wav", &b)],
    );
    assert_eq!(r.status, 403, "a viewer cannot upload: {}", r.body);

    // The commune user does not see vinh-tien's bulletin anywhere: 404 as if absent.
    let commune = bearer(&c, "xa-vinh-an");
    let list = http(
        c.port,
        "GET",
        "/api/v1/bulletins",
        &[("Authorization", &commune)],
        "",
    );
    let ids: Vec<String> = json(&list)
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![an.clone()]);
    for (method, path) in [
        ("GET", format!("/api/v1/bulletins/{tien}")),
        ("GET", format!("/api/v1/bulletins/{tien}/audio")),
        ("POST", format!("/api/v1/bulletins/{tien}/approve")),
        ("POST", format!("/api/v1/bulletins/{tien}/retire")),
        ("DELETE", format!("/api/v1/bulletins/{tien}")),
        ("GET", "/api/v1/bulletins?station=vinh-tien".to_string()),
    ] {
        let r = http(c.port, method, &path, &[("Authorization", &commune)], "");
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
    let (cookie, _) = session(c.port, "xa-vinh-an");
    for path in [format!("/library/{tien}"), format!("/library/{tien}/audio")] {
        let r = http(c.port, "GET", &path, &[("Cookie", &cookie)], "");
        assert_eq!(r.status, 404, "{path}");
    }
    let page = http(c.port, "GET", "/library", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains(&tien),
        "another station's bulletin is listed"
    );

    // Approve: admin and operator yes, commune and viewer 403 on what they see.
    for (who, status) in [("xa-vinh-an", 403), ("noivu", 403), ("dieuhanh", 200)] {
        let r = http(
            c.port,
            "POST",
            &format!("/api/v1/bulletins/{an}/approve"),
            &[("Authorization", &bearer(&c, who))],
            "",
        );
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    let r = http(
        c.port,
        "POST",
        &format!("/api/v1/bulletins/{an}/approve"),
        &[("Authorization", &bearer(&c, "quantri"))],
        "",
    );
    assert_eq!(r.status, 409, "approved twice: {}", r.body);
    let approvals: Vec<_> = audit(&c.loa)
        .into_iter()
        .filter(|e| e["action"] == "approve")
        .collect();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0]["target"], an.as_str());
    assert!(approvals[0]["before"].as_str().unwrap().contains("draft"));
    assert!(approvals[0]["after"].as_str().unwrap().contains("approved"));

    // Edit and retire by the operator, audited with before and after.
    let op = bearer(&c, "dieuhanh");
    let r = http(
        c.port,
        "PATCH",
        &format!("/api/v1/bulletins/{an}"),
        &[("Authorization", &op), ("Content-Type", "application/json")],
        r#"{"title":"Tin xã Vĩnh An"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(json(&r)["title"], "Tin xã Vĩnh An");
    let r = http(
        c.port,
        "POST",
        &format!("/api/v1/bulletins/{an}/retire"),
        &[("Authorization", &op)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let log = audit(&c.loa);
    let edit = log.iter().find(|e| e["action"] == "edit").unwrap();
    assert!(edit["after"].as_str().unwrap().contains("Tin xã Vĩnh An"));
    assert!(log.iter().any(|e| e["action"] == "retire"));

    // Remove: forbidden to the commune user, done by the operator, audited.
    let r = http(
        c.port,
        "DELETE",
        &format!("/api/v1/bulletins/{an}"),
        &[("Authorization", &commune)],
        "",
    );
    assert_eq!(r.status, 403);
    let r = http(
        c.port,
        "DELETE",
        &format!("/api/v1/bulletins/{tien}"),
        &[("Authorization", &op)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(audit(&c.loa).iter().any(|e| e["action"] == "remove"));
    let r = http(
        c.port,
        "GET",
        &format!("/api/v1/bulletins/{tien}"),
        &[("Authorization", &op)],
        "",
    );
    assert_eq!(r.status, 404);
}

#[test]
fn the_console_pages_filter_play_in_ranges_and_refuse_changes_without_csrf() {
    let c = console("");
    let dir = tempfile::tempdir().unwrap();
    let a = wav(dir.path(), "a.wav", 0);
    let (cookie, csrf) = session(c.port, "dieuhanh");
    let origin = format!("http://127.0.0.1:{}", c.port);
    // The plain form: csrf_token first, then fields and the file; answered 303 to the list.
    let (ct, body) = multipart(
        &[
            ("csrf_token", &csrf),
            ("kind", "news"),
            ("topic", "e_procedures"),
            ("approve", "1"),
        ],
        &[("Dịch vụ công.wav", &a)],
    );
    let r = send(
        c.port,
        "POST",
        "/library/upload",
        &[
            ("Cookie", &cookie),
            ("Content-Type", &ct),
            ("Origin", &origin),
        ],
        &body,
    );
    assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
    let list = http(
        c.port,
        "GET",
        "/library?kind=news&state=approved&q=d%E1%BB%8Bch",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Dịch vụ công"), "{}", list.body);
    assert!(list.body.contains("lang=\"vi\""));
    let none = http(
        c.port,
        "GET",
        "/library?kind=column",
        &[("Cookie", &cookie)],
        "",
    );
    assert!(!none.body.contains("Dịch vụ công"));
    let bad = http(
        c.port,
        "GET",
        "/library?kind=podcast",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("'podcast'"));

    // The bulletin's page shows its analysis and player; the audio answers ranges.
    let at = list.body.find("href=\"/library/").unwrap() + "href=\"/library/".len();
    let id = &list.body[at..at + 12];
    let page = http(
        c.port,
        "GET",
        &format!("/library/{id}"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(page.status, 200);
    for words in ["LUFS", "dBTP", "SHA-256", "Chưa phát lần nào", "<audio"] {
        assert!(page.body.contains(words), "{words}");
    }
    let r = http(
        c.port,
        "GET",
        &format!("/library/{id}/audio"),
        &[("Cookie", &cookie), ("Range", "bytes=0-99")],
        "",
    );
    assert_eq!(r.status, 206, "{}", r.head);
    assert!(
        r.headers("content-range")[0].starts_with("bytes 0-99/"),
        "{}",
        r.head
    );
    assert_eq!(r.headers("content-length"), vec!["100"]);

    // A change without the CSRF token, or with a wrong one: 403 and nothing changes.
    for form in ["", "csrf_token=wrong"] {
        let r = http(
            c.port,
            "POST",
            &format!("/library/{id}/retire"),
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &origin),
            ],
            form,
        );
        assert_eq!(r.status, 403, "{form}: {}", r.body);
    }
    let (ct, body) = multipart(&[("kind", "news"), ("topic", "other")], &[("x.wav", &a)]);
    let r = send(
        c.port,
        "POST",
        "/library/upload",
        &[
            ("Cookie", &cookie),
            ("Content-Type", &ct),
            ("Origin", &origin),
        ],
        &body,
    );
    assert_eq!(r.status, 403, "an upload without its token: {}", r.body);
    assert!(!audit(&c.loa).iter().any(|e| e["action"] == "retire"));

    // With the token the form retires it and says so.
    let r = http(
        c.port,
        "POST",
        &format!("/library/{id}/retire"),
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &origin),
        ],
        &format!("csrf_token={csrf}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let retire = audit(&c.loa)
        .into_iter()
        .find(|e| e["action"] == "retire")
        .unwrap();
    assert_eq!(retire["role"], "operator");

    // A corrupt upload through the form: the page again, 400, the sentence at the file field.
    let (ct, body) = multipart(
        &[("csrf_token", &csrf), ("kind", "news"), ("topic", "other")],
        &[(
            "hỏng.wav",
            b"RIFF....WAVEfmt garbage that is not audio at all",
        )],
    );
    let r = send(
        c.port,
        "POST",
        "/library/upload",
        &[
            ("Cookie", &cookie),
            ("Content-Type", &ct),
            ("Origin", &origin),
        ],
        &body,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"file-error\""), "{}", r.body);
    assert!(r.body.contains("hỏng.wav: "), "{}", r.body);
    assert_eq!(leftovers(&c).1, 0);
}
