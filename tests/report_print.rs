//! The printable report in a real browser: headless Chromium lays the HTML out at the
//! printable width of A4 and prints it to PDF; nothing may overflow sideways.

mod common;

use std::process::Command;

use common::report::{export, plan, played};

/// Chromium, or a loud failure: the printed page is part of the product.
fn chromium() -> &'static str {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!("chromium is required by the report rendering test (scripts/install-deps installs it)");
}

fn headless(args: &[&str]) -> std::process::Output {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn the_printed_report_fits_an_a4_page_without_horizontal_overflow() {
    let loa = played("2023-03-13", "2023-03-19", Some("vinh-an"));
    let p = plan();
    let path = export(&loa, "html", &["--quarter", "2023-Q1", "--plan", &p]);
    // 165 mm (A4 less the margins) at 96 px per inch: the width the print layout has.
    let probe = path.with_file_name("probe.html");
    let html = std::fs::read_to_string(&path).unwrap().replace(
        "</body>",
        "<script>document.body.setAttribute('data-overflow', String(document.documentElement.scrollWidth - document.documentElement.clientWidth));</script></body>",
    );
    std::fs::write(&probe, html).unwrap();
    let url = format!("file://{}", probe.display());
    let dom = headless(&["--window-size=624,900", "--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    let overflow: i64 = dom
        .split("data-overflow=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no measurement in the DOM"));
    assert!(
        overflow <= 0,
        "the page is {overflow} px wider than the printable width"
    );
    let pdf = path.with_extension("pdf");
    headless(&[
        &format!("--print-to-pdf={}", pdf.display()),
        "--no-pdf-header-footer",
        &format!("file://{}", path.display()),
    ]);
    let info = Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo (poppler-utils) runs");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "{info}");
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap();
    assert!(pages >= 1, "{info}");
}
