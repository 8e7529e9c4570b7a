//! The console the way people use it: headless Chromium (over WebDriver) against the real
//! `loa serve` on a free loopback port with a temporary SQLite data dir, real WAV
//! bulletins and one account per role. Every page each role can reach from the navigation
//! is opened at 1280×800 and at a phone's 390×844, screenshot under `target/screenshots/`
//! for review, and must not overflow sideways; a commune operator sees only its station;
//! the on-air panel follows the slot's start from its event stream (htmx's SSE extension,
//! served by the daemon) without a reload, and its skip button ends the item on air (logged
//! as partly aired).

mod common;

use chrono::{Timelike, Utc};
use common::browser::{self, Driver, Screen};
use common::console::{self, PASSWORD};
use common::daemon::rows;
use fantoccini::Locator;

/// The accounts of [`console::data_dir`], with the role in the screenshot names.
const ACCOUNTS: [(&str, &str); 4] = [
    ("quantri", "admin"),
    ("dieuhanh", "operator"),
    ("xa-vinh-an", "commune"),
    ("noivu", "viewer"),
];

/// A console with two approved bulletins (a 90-second article, a 2-second spot) and a
/// daily slot at both stations starting at `slot_minute` past `slot_hour`, station time.
fn console_with_bulletins(slot_hour: u32, slot_minute: u32) -> console::Console {
    console::with_slot(
        slot_hour,
        slot_minute,
        &[
            ("bai-dai.wav", "article", "documents", 90),
            ("khau-hieu.wav", "spot", "other", 2),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_each_role_reaches_fits_a_desktop_and_a_phone_and_is_screenshot() {
    // A slot an hour from now: the stations wait for it while the pages are looked at.
    let later =
        Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh) + chrono::Duration::hours(1);
    let c = console_with_bulletins(later.hour(), later.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let mut overflowing = Vec::new();
    let mut shots = 0;

    for screen in Screen::ALL {
        // The login form, before anyone logs in.
        let b = driver.session(screen, downloads.path()).await;
        b.goto(&format!("{base}/login")).await.unwrap();
        assert_eq!(
            browser::viewport_width(&b).await,
            screen.width() as i64,
            "the browser's viewport is the {} screen's",
            screen.name()
        );
        browser::screenshot(&b, &format!("login-{}", screen.name())).await;
        shots += 1;
        if browser::overflow(&b).await > 0 {
            overflowing.push(format!("/login at {}", screen.name()));
        }
        b.close().await.unwrap();

        for (user, role) in ACCOUNTS {
            let b = driver.session(screen, downloads.path()).await;
            browser::log_in(&b, &base, user, PASSWORD).await;
            assert_eq!(b.current_url().await.unwrap().path(), "/");
            let mut paths = vec!["/".to_string()];
            for p in browser::nav_paths(&b).await {
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
            for path in &paths {
                b.goto(&format!("{base}{path}")).await.unwrap();
                let title = b.title().await.unwrap();
                assert!(
                    title.ends_with("· loa"),
                    "{role} opens {path} and gets a console page, not '{title}'"
                );
                let page = match path.trim_matches('/') {
                    "" => "dang-phat".to_string(),
                    p => p.replace(['/', '?', '=', '&'], "-"),
                };
                browser::screenshot(&b, &format!("{role}-{page}-{}", screen.name())).await;
                shots += 1;
                let over = browser::overflow(&b).await;
                if over > 0 {
                    overflowing.push(format!("{path} as {role} at {} by {over}px", screen.name()));
                }
            }
            // The on-air page shows the stations the role may see, and only those.
            b.goto(&format!("{base}/")).await.unwrap();
            let an = b.find(Locator::Css("#station-vinh-an")).await.is_ok();
            let tien = b.find(Locator::Css("#station-vinh-tien")).await.is_ok();
            assert!(an, "{role} sees Xã Vĩnh An on air");
            assert_eq!(
                tien,
                role != "commune",
                "{role} sees Xã Vĩnh Tiến only if not confined to Vĩnh An"
            );
            // Commands are offered to those allowed them, never to the viewer.
            let skip = b
                .find(Locator::Css(
                    "#station-vinh-an form[action$='/skip'] button",
                ))
                .await
                .is_ok();
            assert_eq!(skip, role != "viewer", "{role}'s skip button");
            b.close().await.unwrap();
        }
    }
    assert!(
        overflowing.is_empty(),
        "pages overflow sideways: {overflowing:?}"
    );
    eprintln!(
        "{shots} screenshots in {}",
        browser::screenshot_dir().display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_on_air_panel_follows_the_slot_start_without_a_reload_and_skip_interrupts_the_item() {
    // The slot starts at the next minute (or the one after, to leave time to log in).
    let now = Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let lead = if now.second() < 40 { 1 } else { 2 };
    let at = now + chrono::Duration::minutes(lead);
    let c = console_with_bulletins(at.hour(), at.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let b = driver.session(Screen::Phone, downloads.path()).await;
    browser::log_in(&b, &base, "xa-vinh-an", PASSWORD).await;

    let state = "#station-vinh-an .state";
    assert_eq!(browser::text_of(&b, state).await, "Chờ buổi phát");
    browser::screenshot(&b, "commune-dang-phat-before-slot-390x844").await;
    // A mark on the page: it is still there after the slot starts only if the page was
    // updated in place, not reloaded.
    b.execute("window.loaMark = 'same page';", vec![])
        .await
        .unwrap();

    browser::wait_until(&b, "the slot to show as playing", |b| async move {
        browser::text_of(&b, "#station-vinh-an .state")
            .await
            .starts_with("Đang phát")
            && !browser::text_of(&b, "#station-vinh-an .onair")
                .await
                .is_empty()
    })
    .await;
    let mark = b.execute("return window.loaMark;", vec![]).await.unwrap();
    assert_eq!(
        mark,
        serde_json::json!("same page"),
        "updated without a reload"
    );
    // Through htmx, from this server, with no style injected (the CSP would refuse it).
    let htmx = b
        .execute(
            "return [window.htmx && htmx.version, document.querySelectorAll('style').length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(htmx, serde_json::json!(["2.0.11", 0]));
    assert_eq!(
        browser::text_of(&b, state).await,
        "Đang phát: Buổi thử",
        "the slot's name in Vietnamese"
    );
    browser::screenshot(&b, "commune-dang-phat-on-air-390x844").await;

    // Skip, as a commune operator on its own station, with the page's form.
    b.find(Locator::Css(
        "#station-vinh-an form[action$='/skip'] button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser::wait_until(
        &b,
        "the form to come back to the on-air page",
        |b| async move {
            b.current_url()
                .await
                .map(|u| u.path() == "/")
                .unwrap_or(false)
                && b.execute("return window.loaMark === undefined;", vec![])
                    .await
                    .map(|v| v == serde_json::json!(true))
                    .unwrap_or(false)
        },
    )
    .await;
    let loa = &c.loa;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = rows(loa).await;
        if r.iter()
            .any(|r| r.station == "vinh-an" && r.level == "item" && r.status == "partial")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the skipped item is logged as partly aired: {:?}",
            r.iter()
                .map(|r| (&r.station, &r.level, r.status.as_str()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    browser::screenshot(&b, "commune-dang-phat-after-skip-390x844").await;
    // The other station was not touched by the commune's skip.
    assert!(!rows(loa)
        .await
        .iter()
        .any(|r| { r.station == "vinh-tien" && r.level == "item" && r.status != "playing" }));
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_said_in_vietnamese_on_the_login_form() {
    let later =
        Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh) + chrono::Duration::hours(1);
    let c = console_with_bulletins(later.hour(), later.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let b = driver.session(Screen::Desktop, downloads.path()).await;
    b.goto(&format!("{base}/login")).await.unwrap();
    b.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys("dieuhanh")
        .await
        .unwrap();
    b.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys("sai mật khẩu")
        .await
        .unwrap();
    b.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::wait_until(&b, "the refusal", |b| async move {
        !browser::text_of(&b, "[role=alert]").await.is_empty()
    })
    .await;
    let said = browser::text_of(&b, "[role=alert]").await;
    assert!(
        said.contains("mật khẩu") || said.contains("Mật khẩu"),
        "the refusal is Vietnamese: {said}"
    );
    assert_eq!(b.current_url().await.unwrap().path(), "/login");
    // The name typed stays in its field, the password does not.
    let name = b
        .find(Locator::Css("#username"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("dieuhanh"));
    browser::screenshot(&b, "login-refused-1280x800").await;
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_uploads_a_bulletin_approves_it_pins_it_into_the_coming_slot_and_sees_it_on_air(
) {
    // The slot starts three or four minutes from now: time to upload, approve and pin.
    let now = Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh);
    let at = now + chrono::Duration::minutes(if now.second() < 30 { 3 } else { 4 });
    let c = console_with_bulletins(at.hour(), at.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let wav = c.loa.dir.path().join("thu-tuc-moi.wav");
    common::fixtures::write_wav(
        &wav,
        common::fixtures::WavFormat::Pcm16,
        16_000,
        1,
        &common::fixtures::speech_like(16_000, 1, 1_600, 16_000 * 12, 1_600),
        None,
    );
    let title = "Thủ tục mới ở bộ phận một cửa";
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let b = driver.session(Screen::Desktop, downloads.path()).await;
    browser::log_in(&b, &base, "dieuhanh", PASSWORD).await;
    b.goto(&format!("{base}/library")).await.unwrap();
    // The upload form folds away until it is opened, as a person would.
    b.find(Locator::Css("details.card summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(wav.to_str().unwrap())
        .await
        .unwrap();
    b.find(Locator::Css("select[name=kind]"))
        .await
        .unwrap()
        .select_by_value("article")
        .await
        .unwrap();
    b.find(Locator::Css("select[name=topic]"))
        .await
        .unwrap()
        .select_by_value("documents")
        .await
        .unwrap();
    b.find(Locator::Css("#upload-form #title"))
        .await
        .unwrap()
        .send_keys(title)
        .await
        .unwrap();
    browser::screenshot(&b, "operator-library-upload-filled-1280x800").await;
    // Every value the file's analysis bar takes is noted (in the tab's session storage,
    // which outlives the page the answer replaces).
    b.execute(
        r#"sessionStorage.setItem("analysis", "[]");
           new MutationObserver(function (records) {
             var seen = JSON.parse(sessionStorage.getItem("analysis"));
             records.forEach(function (r) {
               if (r.target.tagName === "PROGRESS") { seen.push(r.target.value); }
             });
             sessionStorage.setItem("analysis", JSON.stringify(seen));
           }).observe(document.getElementById("analysis-progress"),
                      { subtree: true, attributes: true, attributeFilter: ["value"] });"#,
        vec![],
    )
    .await
    .unwrap();
    b.find(Locator::Css("#upload-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The list comes back naming the new bulletin; its page holds the analysis.
    browser::wait_until(&b, "the uploaded bulletin in the list", |b| async move {
        b.find(Locator::LinkText(title)).await.is_ok()
    })
    .await;
    browser::screenshot(&b, "operator-library-uploaded-1280x800").await;
    // The analysis bar went up to 100 % from what the server said, never down.
    let seen = b
        .execute(r#"return sessionStorage.getItem("analysis");"#, vec![])
        .await
        .unwrap();
    let seen: Vec<f64> = serde_json::from_str(seen.as_str().unwrap()).unwrap();
    assert_eq!(
        seen.last(),
        Some(&100.0),
        "the analysis bar reached 100 %: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the analysis bar only went up: {seen:?}"
    );
    b.find(Locator::LinkText(title))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::wait_until(&b, "the bulletin's analysis", |b| async move {
        b.find(Locator::Css("dd.hash")).await.is_ok()
    })
    .await;
    let hash = browser::text_of(&b, "dd.hash").await;
    assert_eq!(hash.len(), 64, "a SHA-256 is shown: {hash}");
    let page = b.source().await.unwrap();
    assert!(
        page.contains("LUFS") && page.contains("dBTP"),
        "loudness and true peak are shown"
    );
    // 1,600 + 192,000 + 1,600 samples at 16 kHz.
    assert!(page.contains("(12200 ms)"), "the exact length is shown");
    browser::screenshot(&b, "operator-library-bulletin-draft-1280x800").await;

    b.find(Locator::Css("form[action$='/approve'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::wait_until(&b, "the approval to be confirmed", |b| async move {
        b.current_url()
            .await
            .map(|u| u.query() == Some("done=1"))
            .unwrap_or(false)
    })
    .await;
    browser::screenshot(&b, "operator-library-bulletin-approved-1280x800").await;
    assert!(
        b.find(Locator::Css("form[action$='/approve'] button"))
            .await
            .is_err(),
        "an approved bulletin offers no approval"
    );
    // The list's filters answer in place (htmx): the page is not loaded again, the address
    // follows, only approved bulletins are left.
    b.goto(&format!("{base}/library")).await.unwrap();
    b.execute("window.loaSamePage = true;", vec![])
        .await
        .unwrap();
    for (state, shown) in [
        ("retired", "Không có bản tin nào khớp."),
        ("approved", title),
    ] {
        b.find(Locator::Css("select[name=state]"))
            .await
            .unwrap()
            .select_by_value(state)
            .await
            .unwrap();
        browser::wait_until(&b, "the list filtered by state", |b| async move {
            let url = b.current_url().await.ok();
            let results = b.find(Locator::Css("#results")).await.ok();
            let text = match results {
                Some(r) => r.text().await.unwrap_or_default(),
                None => String::new(),
            };
            url.is_some_and(|u| {
                u.query()
                    .is_some_and(|q| q.contains(&format!("state={state}")))
            }) && text.contains(shown)
        })
        .await;
    }
    assert!(
        b.find(Locator::Css("#results .state.draft")).await.is_err(),
        "no draft among approved bulletins"
    );
    let same = b
        .execute("return window.loaSamePage === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        same,
        serde_json::json!(true),
        "the filter did not reload the page"
    );
    b.find(Locator::Css("#results"))
        .await
        .unwrap()
        .find(Locator::LinkText(title))
        .await
        .expect("the approved bulletin is in the filtered list");
    // The library holds it approved, with the hash the page showed.
    let list = c.loa.run(&["library", "list", "--json"]).expect(0).json();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| serde_json::to_string(e).unwrap().contains(title))
        .unwrap_or_else(|| panic!("{title} in the library: {list}"));
    let text = serde_json::to_string(entry).unwrap();
    assert!(text.contains("\"approved\""), "approved: {text}");
    let show = c
        .loa
        .run(&["library", "show", entry["id"].as_str().unwrap(), "--json"])
        .expect(0)
        .stdout;
    assert!(show.contains(&hash), "the page's SHA-256 is the stored one");
    // And the audit names the operator for both.
    let audit = c.loa.run(&["audit", "list", "--json"]).expect(0).stdout;
    assert!(
        audit.contains("bulletin_upload") && audit.contains("\"approve\""),
        "{audit}"
    );

    // Lịch phát: in the coming slot, take the long article out and pin the new bulletin.
    let id = entry["id"].as_str().unwrap().to_string();
    b.goto(&format!("{base}/schedule?station=vinh-an"))
        .await
        .unwrap();
    let slot = format!("#slot-{}", at.format("%Y%m%d%H%M"));
    browser::wait_until(&b, "the coming slot on the schedule page", |b| {
        let slot = slot.clone();
        async move { b.find(Locator::Css(&slot)).await.is_ok() }
    })
    .await;
    browser::screenshot(&b, "operator-lich-phat-before-pin-1280x800").await;
    let long = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "article" && e["id"] != entry["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    b.find(Locator::Css(&format!(
        "{slot} form.unpin:has(input[name=bulletin][value='{long}']) button"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser::wait_until(&b, "the article to be taken out", |b| async move {
        b.current_url()
            .await
            .map(|u| u.query().is_some_and(|q| q.contains("done=unpin")))
            .unwrap_or(false)
    })
    .await;
    b.find(Locator::Css(&format!("{slot} select[name=bulletin]")))
        .await
        .unwrap()
        .select_by_value(&id)
        .await
        .unwrap();
    b.find(Locator::Css(&format!("{slot} form.pin button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::wait_until(&b, "the pin to be confirmed", |b| async move {
        b.current_url()
            .await
            .map(|u| u.query().is_some_and(|q| q.contains("done=pin")))
            .unwrap_or(false)
    })
    .await;
    let shown = browser::text_of(&b, &slot).await;
    assert!(
        shown.contains(title) && shown.contains("📌"),
        "pinned in the slot: {shown}"
    );
    browser::screenshot(&b, "operator-lich-phat-pinned-1280x800").await;

    // The on-air page shows it when the slot starts.
    b.goto(&format!("{base}/")).await.unwrap();
    let start = at.with_second(0).unwrap().with_timezone(&Utc);
    let wait = (start - Utc::now() - chrono::Duration::seconds(30)).max(chrono::Duration::zero());
    tokio::time::sleep(wait.to_std().unwrap()).await;
    browser::wait_until(&b, "the pinned bulletin on air", |b| async move {
        browser::text_of(&b, "#station-vinh-an .onair")
            .await
            .contains("Thủ tục mới ở bộ phận một cửa")
    })
    .await;
    browser::screenshot(&b, "operator-dang-phat-pinned-on-air-1280x800").await;
    let audit = c.loa.run(&["audit", "list", "--json"]).expect(0).stdout;
    assert!(
        audit.contains("\"unpin\"") && audit.contains("\"pin\""),
        "{audit}"
    );
    c.loa.run(&["audit", "verify"]).expect(0);
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_emergency_is_spoken_by_espeak_and_airs_at_once_on_the_commune_s_station_only() {
    let later =
        Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh) + chrono::Duration::hours(1);
    let c = console_with_bulletins(later.hour(), later.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let b = driver.session(Screen::Phone, downloads.path()).await;
    browser::log_in(&b, &base, "xa-vinh-an", PASSWORD).await;
    b.goto(&format!("{base}/announcements")).await.unwrap();
    // Its one station is ticked already; the commune may send at every level.
    let ticked = b
        .find(Locator::Css("input[name=stations][value='vinh-an']"))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(ticked.as_deref(), Some("true"));
    assert!(
        b.find(Locator::Css("input[name=stations][value='vinh-tien']"))
            .await
            .is_err(),
        "another commune's station is not offered"
    );
    b.find(Locator::Css("input[name=level][value=emergency]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Css("#text"))
        .await
        .unwrap()
        .send_keys("Thông báo khẩn: chiều nay mất điện từ mười bốn giờ.")
        .await
        .unwrap();
    browser::screenshot(&b, "commune-announcements-emergency-filled-390x844").await;
    b.find(Locator::Css(
        "form[action='/announcements'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser::wait_until(&b, "the emergency to be sent", |b| async move {
        b.current_url()
            .await
            .map(|u| u.query() == Some("sent=emergency"))
            .unwrap_or(false)
    })
    .await;
    browser::screenshot(&b, "commune-announcements-emergency-sent-390x844").await;
    // The spoken text airs at once (the station had no slot on), logged as urgent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let r = rows(&c.loa).await;
        if r.iter().any(|r| {
            r.station == "vinh-an"
                && r.level == "item"
                && r.source == "urgent"
                && r.status == "aired"
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the emergency aired at vinh-an: {:?}",
            r.iter()
                .map(|r| (&r.station, &r.level, r.source.as_str(), r.status.as_str()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        !rows(&c.loa).await.iter().any(|r| r.station == "vinh-tien"),
        "nothing aired at the other commune"
    );
    c.loa.run(&["airlog", "verify"]).expect(0);
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_affairs_viewer_downloads_the_quarter_s_xlsx_from_the_reports_page() {
    let later =
        Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh) + chrono::Duration::hours(1);
    let c = console_with_bulletins(later.hour(), later.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let b = driver.session(Screen::Desktop, downloads.path()).await;
    browser::log_in(&b, &base, "noivu", PASSWORD).await;
    b.goto(&format!("{base}/reports")).await.unwrap();
    b.find(Locator::Css("input[name=format][value=xlsx]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Css(
        "form[action='/reports/download'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let dir = downloads.path().to_path_buf();
    browser::wait_until(&b, "the XLSX in the downloads folder", move |_| {
        let dir = dir.clone();
        async move {
            std::fs::read_dir(&dir)
                .map(|d| {
                    d.flatten().any(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        n.ends_with(".xlsx") && e.metadata().map(|m| m.len() > 0).unwrap_or(false)
                    })
                })
                .unwrap_or(false)
        }
    })
    .await;
    let file = std::fs::read_dir(downloads.path())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".xlsx"))
        .unwrap()
        .path();
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        bytes.starts_with(b"PK"),
        "{} is a workbook (a zip)",
        file.display()
    );
    // The download is in the audit under the viewer's name.
    let audit = c.loa.run(&["audit", "list", "--json"]).expect(0).stdout;
    assert!(
        audit.contains("report_download") && audit.contains("noivu"),
        "{audit}"
    );
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_fields_show_and_take_dd_mm_yyyy_in_chromium_and_a_wrong_day_is_said_at_its_field() {
    let later =
        Utc::now().with_timezone(&chrono_tz::Asia::Ho_Chi_Minh) + chrono::Duration::hours(1);
    let c = console_with_bulletins(later.hour(), later.minute());
    let base = format!("http://127.0.0.1:{}", c.port);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let b = driver.session(Screen::Phone, downloads.path()).await;
    browser::log_in(&b, &base, "quantri", PASSWORD).await;
    let value = |css: &'static str| {
        let b = b.clone();
        async move {
            b.find(Locator::Css(css))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    let day_first = |s: &str| chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y").is_ok();
    // The airlog's filter shows its days day first, whatever Chromium's locale.
    b.goto(&format!("{base}/airlog")).await.unwrap();
    let (from, to) = (value("#from").await, value("#to").await);
    assert!(day_first(&from) && day_first(&to), "{from} – {to}");
    browser::screenshot(&b, "admin-airlog-days-390x844").await;
    let submit = |form: &'static str| {
        let b = b.clone();
        async move {
            b.find(Locator::Css(&format!(
                "form[action='{form}'] button[type=submit]"
            )))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        }
    };
    let retype = |css: &'static str, text: &'static str| {
        let b = b.clone();
        async move {
            let e = b.find(Locator::Css(css)).await.unwrap();
            e.clear().await.unwrap();
            e.send_keys(text).await.unwrap();
        }
    };
    let said = |what: &'static str| {
        let b = b.clone();
        async move {
            browser::wait_until(&b, what, |b| async move {
                !browser::text_of(&b, ".field-error").await.is_empty()
            })
            .await;
            browser::text_of(&b, ".field-error").await
        }
    };
    // Typed day first, it is taken and shown back the same way.
    retype("#from", "05/01/2026").await;
    retype("#to", "07/01/2026").await;
    submit("/airlog").await;
    browser::wait_until(&b, "the airlog of 05/01/2026", |b| async move {
        b.current_url()
            .await
            .map(|u| u.query().is_some_and(|q| q.contains("from=05%2F01%2F2026")))
            .unwrap_or(false)
    })
    .await;
    assert_eq!(value("#from").await, "05/01/2026");
    assert_eq!(value("#to").await, "07/01/2026");
    // A day that does not exist: said in Vietnamese at its field.
    retype("#from", "31/02/2026").await;
    submit("/airlog").await;
    let e = said("the airlog's day error").await;
    assert!(
        e.contains("không phải một ngày") && e.contains("dd/mm/yyyy"),
        "{e}"
    );
    assert_eq!(value("#from").await, "31/02/2026");
    browser::screenshot(&b, "admin-airlog-day-refused-390x844").await;
    // The reports form: a range typed day first, one day wrong.
    b.goto(&format!("{base}/reports")).await.unwrap();
    b.find(Locator::Css("#quarter option[value='']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    retype("#from", "01/13/2026").await;
    retype("#to", "31/01/2026").await;
    browser::screenshot(&b, "admin-reports-range-390x844").await;
    submit("/reports/download").await;
    let e = said("the report's day error").await;
    assert!(e.contains("'01/13/2026' không phải một ngày"), "{e}");
    assert_eq!(value("#to").await, "31/01/2026");
    browser::screenshot(&b, "admin-reports-day-refused-390x844").await;
    // The audit's filter.
    b.goto(&format!("{base}/audit")).await.unwrap();
    retype("#since", "05/01/2026").await;
    submit("/audit").await;
    browser::wait_until(&b, "the audit since 05/01/2026", |b| async move {
        b.current_url()
            .await
            .map(|u| {
                u.query()
                    .is_some_and(|q| q.contains("since=05%2F01%2F2026"))
            })
            .unwrap_or(false)
    })
    .await;
    assert_eq!(value("#since").await, "05/01/2026");
    browser::screenshot(&b, "admin-audit-since-390x844").await;
    b.close().await.unwrap();
}
