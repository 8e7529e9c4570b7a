//! The **Thư viện** page and `/api/v1/bulletins` on the real server, real SQLite and real
//! audio: uploads good, corrupt and oversized (nothing left behind), each role allowed or
//! forbidden, another station's bulletin 404 for a commune user, CSRF, range requests,
//! and an audit entry for every action.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::console::{audit, console, http, multipart, send, session, Console, Resp};
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

/// The sentences shown at `field` of a page (`<p class="error" … id="FIELD-error">`).
fn errors_at(body: &str, field: &str) -> Vec<String> {
    let marker = format!("id=\"{field}-error\">");
    body.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &body[at + marker.len()..];
            rest[..rest.find("</p>").unwrap()].to_string()
        })
        .collect()
}

/// English words a refusal might hold: none may be in a Vietnamese page's sentence.
fn english_in(s: &str) -> Vec<String> {
    const WORDS: &[&str] = &[
        "the",
        "file",
        "is",
        "not",
        "audio",
        "cannot",
        "decode",
        "decoding",
        "failed",
        "larger",
        "than",
        "required",
        "invalid",
        "error",
        "damaged",
        "truncated",
        "unrecognised",
        "format",
        "text",
        "it",
        "at",
        "of",
        "and",
        "or",
        "server",
        "nothing",
        "was",
        "stored",
        "kind",
        "producer",
        "characters",
        "long",
        "allowed",
        "before",
        "valid",
        "until",
        "from",
        "date",
        "expected",
        "one",
    ];
    s.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| WORDS.contains(&w.as_str()))
        .collect()
}

#[test]
fn the_library_pages_speak_english_when_asked_and_vietnamese_otherwise() {
    let c = console("");
    let dir = tempfile::tempdir().unwrap();
    let a = wav(dir.path(), "a.wav", 0);
    let (cookie, csrf) = session(c.port, "dieuhanh");
    let origin = format!("http://127.0.0.1:{}", c.port);
    let (ct, body) = multipart(
        &[("csrf_token", &csrf), ("kind", "news"), ("topic", "other")],
        &[("Tin chiều.wav", &a)],
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
    assert_eq!(r.status, 303, "{}", r.body);
    let get = |path: &str, extra: &str| {
        let cookies = format!("{cookie}{extra}");
        http(c.port, "GET", path, &[("Cookie", &cookies)], "")
    };
    let vi = get("/library", "");
    let at = vi.body.find("href=\"/library/").unwrap() + "href=\"/library/".len();
    let id = vi.body[at..at + 12].to_string();
    let en = get("/library?lang=en", "");
    assert_eq!(en.status, 200);
    assert!(en.body.contains("lang=\"en\""));
    assert_eq!(en.cookie("lang").as_deref(), Some("en"), "{}", en.head);
    let list_words = [
        "Upload bulletins",
        "Audio files (several may be chosen)",
        "Search text",
        "All stations",
        "Log out",
        ">Library<",
    ];
    for w in list_words {
        assert!(en.body.contains(w), "the English list says {w}");
        assert!(!vi.body.contains(w), "the Vietnamese list does not say {w}");
    }
    assert!(vi.body.contains("Tải lên bản tin") && !en.body.contains("Tải lên bản tin"));
    // The cookie keeps the language; the page of a bulletin follows it.
    let en_list = get("/library", "; lang=en");
    assert!(en_list.body.contains("Upload bulletins"));
    let en_page = get(&format!("/library/{id}"), "; lang=en");
    let vi_page = get(&format!("/library/{id}"), "");
    for w in [
        "Audio analysis",
        "Where it aired",
        "It has not aired yet.",
        "Edit details",
        "Back to the library",
        " channels, ",
    ] {
        assert!(
            en_page.body.contains(w),
            "the English bulletin page says {w}"
        );
        assert!(
            !vi_page.body.contains(w),
            "the Vietnamese one does not say {w}"
        );
    }
    assert!(vi_page.body.contains("Phân tích âm thanh") && !en_page.body.contains("Phân tích"));
    // The switch on a page drawn at a form's address leads back to the page of the form.
    let r = get("/library/upload?lang=en", "");
    assert_eq!(r.status, 303);
    assert_eq!(r.headers("location"), vec!["/library?lang=en"]);
    let r = get(&format!("/library/{id}/edit?lang=vi"), "");
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers("location"),
        vec![format!("/library/{id}?lang=vi")]
    );
    // A refusal is in the page's language: an edit with a date that does not exist.
    let edit = |extra: &str| {
        let cookies = format!("{cookie}{extra}");
        http(
            c.port,
            "POST",
            &format!("/library/{id}/edit"),
            &[
                ("Cookie", &cookies),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Origin", &origin),
            ],
            &format!("csrf_token={csrf}&title=Tin&valid_from=31%2F02%2F2026"),
        )
    };
    let vi_refused = edit("");
    assert_eq!(vi_refused.status, 400, "{}", vi_refused.body);
    assert_eq!(
        errors_at(&vi_refused.body, "valid_from"),
        vec!["Hiệu lực từ: '31/02/2026' không phải ngày hợp lệ (dd/mm/yyyy)."]
    );
    let en_refused = edit("; lang=en");
    assert_eq!(en_refused.status, 400);
    let sentence = errors_at(&en_refused.body, "valid_from").join(" ");
    assert!(sentence.contains("is not valid"), "{sentence}");
    assert!(!audit(&c.loa).iter().any(|e| e["action"] == "edit"));
}

#[test]
fn every_upload_refusal_on_the_vietnamese_page_is_a_vietnamese_sentence_at_its_field() {
    let c = console("upload_max_mb = 1");
    let dir = tempfile::tempdir().unwrap();
    let good = wav(dir.path(), "a.wav", 0);
    let (cookie, csrf) = session(c.port, "dieuhanh");
    let origin = format!("http://127.0.0.1:{}", c.port);
    let upload = |fields: &[(&str, &str)], files: &[(&str, &[u8])]| {
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        let (ct, body) = multipart(&all, files);
        send(
            c.port,
            "POST",
            "/library/upload",
            &[
                ("Cookie", &cookie),
                ("Content-Type", &ct),
                ("Origin", &origin),
            ],
            &body,
        )
    };
    let meta = [("kind", "news"), ("topic", "documents")];
    let mut corrupt = good.clone();
    corrupt.truncate(60);
    corrupt.extend_from_slice(&[0x5au8; 3000]);
    let big = vec![0u8; 1024 * 1024 + 10];
    let long_producer = "P".repeat(201);
    // The fields, the files, the status, the field the sentence is at and how it starts.
    type Case<'a> = (
        Vec<(&'a str, &'a str)>,
        Vec<(&'a str, &'a [u8])>,
        u16,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            meta.to_vec(),
            vec![("hỏng.wav", &corrupt[..])],
            400,
            "file",
            "hỏng.wav: ",
        ),
        (
            meta.to_vec(),
            vec![(
                "ghi chú.txt",
                &b"Xin ch\xc3\xa0o, \xc4\x91\xc3\xa2y l\xc3\xa0 v\xc4\x83n b\xe1\xba\xa3n.\n"[..],
            )],
            400,
            "file",
            "ghi chú.txt: không phải tệp âm thanh: đây là tệp văn bản",
        ),
        (
            meta.to_vec(),
            vec![("lớn.wav", &big[..])],
            413,
            "file",
            "lớn.wav: tệp lớn hơn giới hạn 1 MB một tệp",
        ),
        (
            vec![("topic", "documents")],
            vec![("a.wav", &good[..])],
            400,
            "kind",
            "Loại: bắt buộc phải chọn.",
        ),
        (
            vec![
                ("kind", "news"),
                ("topic", "documents"),
                ("producer", &long_producer),
            ],
            vec![("a.wav", &good[..])],
            400,
            "producer",
            "a.wav: Đơn vị sản xuất: dài 201 ký tự, tối đa 200.",
        ),
        (
            vec![
                ("kind", "news"),
                ("topic", "documents"),
                ("valid_from", "2026-05-02"),
                ("valid_until", "2026-05-01"),
            ],
            vec![("a.wav", &good[..])],
            400,
            "valid_until",
            "a.wav: ngày hết hiệu lực 01/05/2026 trước ngày bắt đầu 02/05/2026.",
        ),
        (
            vec![("kind", "podcast"), ("topic", "documents")],
            vec![("a.wav", &good[..])],
            400,
            "kind",
            "Loại: giá trị 'podcast' không hợp lệ",
        ),
    ];
    for (fields, files, status, field, start) in cases {
        let r = upload(&fields, &files);
        assert_eq!(r.status, status, "{field} {start}: {}", r.body);
        assert!(r.body.contains("lang=\"vi\""));
        let said = errors_at(&r.body, field);
        assert_eq!(said.len(), 1, "one sentence at {field}: {}", r.body);
        assert!(said[0].starts_with(start), "at {field}: {}", said[0]);
        assert_eq!(english_in(&said[0]), Vec::<String>::new(), "{}", said[0]);
        assert_eq!(leftovers(&c), (0, 0), "nothing is left after {start}");
    }
    // The same corrupt file on the English page: the sentence of `library add`.
    let en_cookie = format!("{cookie}; lang=en");
    let (ct, body) = multipart(
        &[("csrf_token", &csrf), ("kind", "news"), ("topic", "other")],
        &[("hỏng.wav", &corrupt)],
    );
    let r = send(
        c.port,
        "POST",
        "/library/upload",
        &[
            ("Cookie", &en_cookie),
            ("Content-Type", &ct),
            ("Origin", &origin),
        ],
        &body,
    );
    assert_eq!(r.status, 400);
    let said = errors_at(&r.body, "file").join(" ");
    assert!(said.starts_with("hỏng.wav: "), "{said}");
    assert!(
        !english_in(&said).is_empty(),
        "English on the English page: {said}"
    );
    assert!(!audit(&c.loa)
        .iter()
        .any(|e| e["action"] == "bulletin_upload"));
}

#[test]
fn the_upload_form_follows_each_file_s_analysis_from_nothing_to_done_for_its_own_session_only() {
    let c = console("");
    let dir = tempfile::tempdir().unwrap();
    // A minute of speech-like audio: seconds of decoding and metering.
    let p = dir.path().join("dài.wav");
    write_wav(
        &p,
        WavFormat::Pcm16,
        16_000,
        1,
        &speech_like(16_000, 1, 1_600, 16_000 * 60, 1_600),
        None,
    );
    let long = std::fs::read(&p).unwrap();
    let (cookie, csrf) = session(c.port, "dieuhanh");
    let (other, _) = session(c.port, "dieuhanh");
    let (commune, _) = session(c.port, "xa-vinh-an");
    let origin = format!("http://127.0.0.1:{}", c.port);
    let id = "5f0c1a2b3c4d5e6f7a8b9c0d1e2f3a4b";
    let progress = |who: &str| {
        http(
            c.port,
            "GET",
            &format!("/library/upload-progress?id={id}"),
            &[("Cookie", who)],
            "",
        )
    };
    assert_eq!(progress(&cookie).status, 404, "no such upload yet");
    let (ct, body) = multipart(
        &[
            ("csrf_token", &csrf),
            ("kind", "article"),
            ("topic", "documents"),
        ],
        &[("dài.wav", &long)],
    );
    // The head and the first half of the body; the rest waits until the server is seen
    // receiving.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", c.port)).unwrap();
    let head = format!(
        "POST /library/upload?progress={id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
         Cookie: {cookie}\r\nOrigin: {origin}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        c.port,
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let half = body.len() / 2;
    s.write_all(&body[..half]).unwrap();
    s.flush().unwrap();
    let mut seen = Vec::new();
    let receiving = loop {
        let r = progress(&cookie);
        if r.status == 200 {
            break json(&r);
        }
        assert_eq!(r.status, 404, "{}", r.body);
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(receiving["stage"], "receiving", "{receiving}");
    assert_eq!(receiving["files"], serde_json::json!([]));
    // Another session, even the same account's, and a commune user: not theirs to see.
    assert_eq!(progress(&other).status, 404);
    assert_eq!(progress(&commune).status, 404);
    assert_eq!(
        http(
            c.port,
            "GET",
            &format!("/library/upload-progress?id={id}"),
            &[],
            ""
        )
        .status,
        401
    );
    s.write_all(&body[half..]).unwrap();
    let last = loop {
        let r = progress(&cookie);
        assert_eq!(
            r.status, 200,
            "the upload is followed until its end is read: {}",
            r.body
        );
        let v = json(&r);
        if let Some(f) = v["files"].as_array().and_then(|f| f.first()) {
            assert_eq!(f["name"], "dài.wav");
            seen.push(f["percent"].as_u64().unwrap());
        }
        if v["stage"] == "done" || v["stage"] == "refused" {
            break v;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(last["stage"], "done", "{last}");
    assert_eq!(last["files"][0]["percent"], 100);
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the share only grows: {seen:?}"
    );
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert_eq!(
        progress(&cookie).status,
        404,
        "forgotten once its end was read"
    );
}

#[test]
fn a_long_library_is_shown_fifty_at_a_time_in_vietnamese_order_with_the_filters_kept() {
    let port = common::daemon::free_port();
    let loa = common::console::data_dir(port, "");
    // 53 real files, titled by their names: "Tin 01" … "Tin 52" and one "Ấp …", which sorts
    // after every "A…" and before "B…", so first here.
    let mut files = Vec::new();
    for i in 1..=53usize {
        let name = if i == 53 {
            "Ấp Bắc.wav".to_string()
        } else {
            format!("Tin {i:02}.wav")
        };
        wav(loa.dir.path(), &name, i * 10);
        files.push(loa.dir.path().join(name).to_str().unwrap().to_string());
    }
    let mut args = vec!["library", "add", "--kind", "news", "--topic", "documents"];
    args.extend(files.iter().map(String::as_str));
    loa.run(&args).expect(0);
    let c = common::console::serve(loa, port);
    let (cookie, _) = session(c.port, "dieuhanh");
    let h = [("Cookie", cookie.as_str())];
    let first = http(c.port, "GET", "/library?kind=news", &h, "");
    assert_eq!(first.status, 200);
    assert!(
        first.body.contains("53 bản tin · Trang 1/2"),
        "{}",
        first.body
    );
    let ap = first.body.find("Ấp Bắc").expect("first page has Ấp Bắc");
    let t01 = first.body.find("Tin 01").expect("first page has Tin 01");
    assert!(ap < t01, "Ấp sorts before Tin");
    assert!(first.body.contains("Tin 49") && !first.body.contains("Tin 50"));
    assert!(first
        .body
        .contains("href=\"/library?kind=news&amp;page=2\""));
    let second = http(c.port, "GET", "/library?kind=news&page=2", &h, "");
    assert!(second.body.contains("Trang 2/2") && second.body.contains("Tin 52"));
    assert!(!second.body.contains("Tin 49") && second.body.contains("rel=\"prev\""));
    // The API gives every match, or one page when asked.
    let token = bearer(&c, "dieuhanh");
    let b = [("Authorization", token.as_str())];
    let all = json(&http(c.port, "GET", "/api/v1/bulletins", &b, ""));
    assert_eq!(all.as_array().unwrap().len(), 53);
    let page = json(&http(c.port, "GET", "/api/v1/bulletins?page=2", &b, ""));
    assert_eq!(page.as_array().unwrap().len(), 3);
}
