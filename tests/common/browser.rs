//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`,
//! installed by `scripts/install-deps`), for the console's browser tests: a ChromeDriver on a
//! free loopback port, a browser session at a desktop or a phone size, logging in through
//! the form, screenshots written under `target/screenshots/` for review, and the check that
//! a page does not overflow sideways.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use super::daemon::free_port;

/// A running ChromeDriver.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The screen a page is looked at on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// 1280×800.
    Desktop,
    /// 390×844, a phone's viewport (Chromium's mobile emulation, so the page's viewport
    /// meta applies as on a phone).
    Phone,
}

impl Screen {
    pub const ALL: [Screen; 2] = [Screen::Desktop, Screen::Phone];

    pub fn name(self) -> &'static str {
        match self {
            Screen::Desktop => "1280x800",
            Screen::Phone => "390x844",
        }
    }

    pub fn width(self) -> u32 {
        match self {
            Screen::Desktop => 1280,
            Screen::Phone => 390,
        }
    }
}

impl Driver {
    /// Starts `chromedriver` and waits until it answers.
    pub fn start() -> Driver {
        let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromedriver is not installed: run scripts/install-deps (chromium-driver)");
        let port = free_port();
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }

    /// A new headless browser session at `screen`'s size, downloads going to `downloads`.
    pub async fn session(&self, screen: Screen, downloads: &std::path::Path) -> Client {
        let mut options = serde_json::json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--lang=vi-VN",
                "--window-size=1280,800",
            ],
            "prefs": {
                "download.default_directory": downloads.to_str().unwrap(),
                "download.prompt_for_download": false,
            },
        });
        if let Some(b) = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
        {
            options["binary"] = serde_json::json!(b);
        }
        if screen == Screen::Phone {
            options["mobileEmulation"] = serde_json::json!({
                "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 1.0, "touch": true },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), serde_json::json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

/// Where screenshots go: `target/screenshots/` (of `CARGO_TARGET_DIR` when set).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::repo().join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the page as `target/screenshots/NAME.png`.
pub async fn screenshot(c: &Client, name: &str) -> PathBuf {
    let png = c.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    path
}

/// How far the page reaches past the viewport's right edge, in CSS pixels (0: it fits).
pub async fn overflow(c: &Client) -> i64 {
    let v = c
        .execute(
            "return Math.max(document.documentElement.scrollWidth, document.body ? document.body.scrollWidth : 0) - window.innerWidth;",
            vec![],
        )
        .await
        .expect("the overflow script runs");
    v.as_i64()
        .unwrap_or_else(|| v.as_f64().unwrap_or(0.0) as i64)
}

/// The viewport's width in CSS pixels.
pub async fn viewport_width(c: &Client) -> i64 {
    c.execute("return window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap()
}

/// Logs in through the form at `base/login` and waits for the page it leads to.
pub async fn log_in(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The address changes when the navigation commits, before the new page is parsed: wait
    // for the page itself too, or a look at it right after may find nothing yet.
    wait_until(c, "the page after login", |c| async move {
        let away = c
            .current_url()
            .await
            .map(|u| u.path() != "/login")
            .unwrap_or(false);
        away && c
            .execute("return document.readyState;", vec![])
            .await
            .is_ok_and(|v| v == serde_json::json!("complete"))
    })
    .await;
}

/// Waits (up to 90 s) until `ready` holds, polling every 200 ms.
pub async fn wait_until<F, Fut>(c: &Client, what: &str, ready: F)
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if ready(c.clone()).await {
            return;
        }
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The text of the first element matching `css`, or "" when there is none.
pub async fn text_of(c: &Client, css: &str) -> String {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The paths of the console's navigation links on the current page (same origin only).
pub async fn nav_paths(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('nav a[href]')).map(a => new URL(a.href).pathname + new URL(a.href).search);",
            vec![],
        )
        .await
        .unwrap();
    let mut paths: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    paths.dedup();
    paths
}
