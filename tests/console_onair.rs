//! **Đang phát**'s play forms on the real server with real audio: a commune officer picks a
//! bulletin meant for its station and plays it now, then another as urgent, from the page
//! without JavaScript; the page shows the item's progress; bad choices are refused in
//! Vietnamese and change nothing; a viewer gets no form; every command is audited. The
//! page's stream (`/events/on-air`) sends a station's live part, as the page renders it, when
//! it changes, and only the caller's stations; anonymous gets none.

mod common;

use std::time::{Duration, Instant};

use common::console::{self, audit, http, session};
use common::fixtures::{speech_like, write_wav, WavFormat};
use common::sse::EventStream;
use loa::web::on_air_stream;

/// Adds a 20-second WAV bulletin titled `title` for `stations` (empty: all), approved or not;
/// gives its id and length in ms.
fn add(c: &common::Loa, title: &str, stations: &str, approve: bool, seed: usize) -> (String, u64) {
    let p = c.dir.path().join(format!("b{seed}.wav"));
    write_wav(
        &p,
        WavFormat::Pcm16,
        8000,
        1,
        &speech_like(8000, 1, 800, 160_000 + seed, 800),
        None,
    );
    let mut args = vec![
        "library",
        "add",
        p.to_str().unwrap(),
        "--kind",
        "news",
        "--topic",
        "documents",
        "--title",
        title,
        "--json",
    ];
    if !stations.is_empty() {
        args.extend(["--stations", stations]);
    }
    if approve {
        args.push("--approve");
    }
    let out = c.run(&args).expect(0).json();
    (
        out[0]["id"].as_str().unwrap().to_string(),
        out[0]["audio"]["duration_ms"].as_u64().unwrap(),
    )
}

/// What `vinh-an` has on air: (title, source), once it is `title`.
fn wait_on_air(port: u16, h: &[(&str, &str)], title: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s: serde_json::Value =
            serde_json::from_str(&http(port, "GET", "/api/status", h, "").body).unwrap();
        let on = &s["stations"]["vinh-an"]["on_air"];
        if on["title"] == title {
            return on["source"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "{title} never went on air: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_commune_officer_plays_a_bulletin_now_then_one_as_urgent_from_the_on_air_page() {
    let port = common::daemon::free_port();
    let loa = console::data_dir(port, "");
    let (ours, length) = add(&loa, "Tin xã Vĩnh An: một cửa", "vinh-an", true, 1);
    let (urgent, _) = add(&loa, "Ảnh hưởng bão số 3", "", true, 2);
    let (theirs, _) = add(&loa, "Tin xã Vĩnh Tiến", "vinh-tien", true, 3);
    let (draft, _) = add(&loa, "Bản nháp chưa duyệt", "vinh-an", false, 4);
    let c = console::serve(loa, port);

    let (cookie, csrf) = session(port, "xa-vinh-an");
    let h = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let home = http(port, "GET", "/", &h, "");
    // The form lists the approved bulletins meant for its station, in Vietnamese order, and
    // nothing of the other station's.
    assert!(home.body.contains("action=\"/stations/vinh-an/play\""));
    assert!(home
        .body
        .contains("formaction=\"/stations/vinh-an/urgent\""));
    let a = home.body.find(&urgent).expect("the all-stations bulletin");
    let b = home.body.find(&ours).expect("the station's bulletin");
    assert!(a < b, "Ảnh… sorts before Tin…");
    assert!(!home.body.contains(&theirs) && !home.body.contains(&draft));
    assert!(!home.body.contains("Phát now") && home.body.contains("Phát ngay"));

    let form = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let post = |path: &str, body: String| http(port, "POST", path, &form, &body);
    // Bad choices: said in Vietnamese, nothing sent.
    for (bulletin, status, words) in [
        ("", 400, "Hãy chọn một bản tin"),
        ("not-an-id", 400, "không phải mã bản tin"),
        (theirs.as_str(), 404, "Không có bản tin"),
        (draft.as_str(), 409, "chưa được duyệt"),
    ] {
        let r = post(
            "/stations/vinh-an/play",
            format!("csrf_token={csrf}&bulletin={bulletin}"),
        );
        assert_eq!(r.status, status, "{bulletin}: {}", r.body);
        assert!(r.body.contains(words), "{bulletin}: {}", r.body);
    }
    let r = post(
        "/stations/vinh-an/play",
        format!("csrf_token=wrong&bulletin={ours}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = post(
        "/stations/vinh-tien/play",
        format!("csrf_token={csrf}&bulletin={urgent}"),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.contains("Không có đài 'vinh-tien'"), "{}", r.body);
    assert!(
        !audit(&c.loa).iter().any(|e| e["action"] == "play"),
        "nothing refused is in the audit"
    );

    // Play now: it goes on air as an operator item, and the page shows its progress.
    let r = post(
        "/stations/vinh-an/play",
        format!("csrf_token={csrf}&bulletin={ours}"),
    );
    assert_eq!((r.status, r.headers("location")), (303, vec!["/".into()]));
    assert_eq!(wait_on_air(port, &h, "Tin xã Vĩnh An: một cửa"), "manual");
    let page = http(port, "GET", "/", &h, "");
    assert!(page.body.contains("<progress "), "{}", page.body);
    assert!(
        page.body.contains(&format!("data-length=\"{length}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains(" / 0:20"), "{}", page.body);

    // Urgent: interrupts it.
    let r = post(
        "/stations/vinh-an/urgent",
        format!("csrf_token={csrf}&bulletin={urgent}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(wait_on_air(port, &h, "Ảnh hưởng bão số 3"), "urgent");

    // A viewer sees the stations but gets no form, and its post is refused.
    let (vc, vt) = session(port, "noivu");
    let viewer = http(port, "GET", "/", &[("Cookie", vc.as_str())], "");
    assert!(
        !viewer.body.contains("/play\""),
        "a viewer gets no play form"
    );
    let r = http(
        port,
        "POST",
        "/stations/vinh-an/urgent",
        &[
            ("Cookie", vc.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("csrf_token={vt}&bulletin={urgent}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // One audit entry each, with who, station and the bulletin.
    let entries = audit(&c.loa);
    let done: Vec<(String, String, String)> = entries
        .iter()
        .filter(|e| e["action"] == "play" || e["action"] == "urgent")
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["station"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        done,
        vec![
            ("play".into(), "vinh-an".into(), ours.clone()),
            ("urgent".into(), "vinh-an".into(), urgent.clone()),
        ],
        "{entries:?}"
    );
    c.loa.run(&["audit", "verify"]).expect(0);
}

#[test]
fn the_on_air_stream_sends_a_station_s_part_when_it_changes_and_only_the_caller_s_stations() {
    let port = common::daemon::free_port();
    let loa = console::data_dir(port, "");
    add(&loa, "Tin xã Vĩnh An: một cửa", "vinh-an", true, 1);
    let (theirs, _) = add(&loa, "Tin xã Vĩnh Tiến", "vinh-tien", true, 2);
    let (ours, length) = add(&loa, "Tin của xã, lần hai", "vinh-an", true, 3);
    let c = console::serve(loa, port);

    // Anonymous: refused, nothing streamed.
    let anonymous = EventStream::open(port, "/events/on-air", &[]);
    assert_eq!(anonymous.status, 401);

    let (cookie, csrf) = session(port, "xa-vinh-an");
    let commune = EventStream::open(port, "/events/on-air?lang=vi", &[("Cookie", &cookie)]);
    assert_eq!(commune.status, 200);
    let (admin_cookie, admin_csrf) = session(port, "quantri");
    let admin = EventStream::open(port, "/events/on-air?lang=en", &[("Cookie", &admin_cookie)]);
    assert_eq!(admin.status, 200);
    // On opening: each station's part as it is now, in the page's language.
    commune.wait_for(10, "vinh-an's part on opening", |n, d| {
        n == "station-vinh-an" && d.contains("Chờ buổi phát")
    });
    admin.wait_for(10, "vinh-tien's part on opening", |n, d| {
        n == "station-vinh-tien" && d.contains("Waiting for a slot")
    });

    // The commune plays a bulletin now from the page's form: its part follows, as HTML.
    let form = |cookie: &str, path: &str, body: String| {
        http(
            port,
            "POST",
            path,
            &[
                ("Cookie", cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )
    };
    let r = form(
        &cookie,
        "/stations/vinh-an/play",
        format!("csrf_token={csrf}&bulletin={ours}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, part) = commune.wait_for(20, "vinh-an's part with the item on air", |n, d| {
        n == "station-vinh-an" && d.contains("Tin của xã, lần hai")
    });
    assert!(
        part.contains("<span class=\"state playing\">Đang phát:")
            && part.contains("<progress ")
            && part.contains(&format!("data-length=\"{length}\"")),
        "{part}"
    );
    assert!(
        !part.contains("<form"),
        "the forms stay out of the part: {part}"
    );
    // The same part the page shows, apart from the moment it was rendered at.
    let page = http(port, "GET", "/", &[("Cookie", cookie.as_str())], "").body;
    let head = &part[..part.find("<progress").unwrap()];
    assert!(page.contains(head), "{head}\n{page}");

    // The admin plays at the other station: the admin's stream follows it, the commune's
    // carries nothing of it.
    let r = form(
        &admin_cookie,
        "/stations/vinh-tien/play",
        format!("csrf_token={admin_csrf}&bulletin={theirs}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    admin.wait_for(20, "vinh-tien's part with the item on air", |n, d| {
        n == "station-vinh-tien" && d.contains("On air: Tin xã Vĩnh Tiến")
    });
    // Past a status check, so a part of vinh-tien would have been sent by now.
    std::thread::sleep(Duration::from_secs(3));
    let seen = commune.events();
    assert!(
        seen.iter()
            .all(|(n, d)| n == "station-vinh-an" && !d.contains("Vĩnh Tiến")),
        "{seen:?}"
    );

    // The commune logs out in another tab: its open stream ends at the next check of its
    // session; the admin's goes on.
    let r = form(&cookie, "/logout", format!("csrf_token={csrf}"));
    assert_eq!(r.status, 303, "{}", r.body);
    commune.wait_ended(
        on_air_stream::RECHECK.as_secs() + 5,
        "the logged-out commune's stream to end",
    );
    assert!(!admin.ended(), "the admin's stream goes on");
    drop(c);
}
