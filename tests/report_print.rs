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

/// `soffice` (LibreOffice, Debian's `libreoffice-calc`), or a loud failure.
fn soffice() -> &'static str {
    for c in ["soffice", "libreoffice"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!("LibreOffice is required by the XLSX print test (scripts/install-deps installs libreoffice-calc)");
}

/// Converts `xlsx` to PDF with LibreOffice headless, as a Phòng Nội vụ officer printing it
/// would; a private profile keeps parallel runs apart.
fn xlsx_to_pdf(xlsx: &std::path::Path) -> std::path::PathBuf {
    let dir = xlsx.parent().unwrap();
    let profile = dir.join("lo-profile");
    let out = Command::new(soffice())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir)
        .arg(xlsx)
        .output()
        .unwrap();
    let pdf = xlsx.with_extension("pdf");
    assert!(
        out.status.success() && pdf.is_file(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    pdf
}

/// The text of each page of a PDF (pdftotext, form feeds between pages).
fn pages_text(pdf: &std::path::Path) -> Vec<String> {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_xlsx_of_a_district_week_prints_on_a4_with_no_summary_table_split_sideways() {
    use calamine::{open_workbook_auto, Data, Reader};
    let loa = played("2023-03-13", "2023-03-19", None);
    let p = plan();
    let xlsx = export(
        &loa,
        "xlsx",
        &["--from", "2023-03-13", "--to", "2023-03-19", "--plan", &p],
    );
    let mut wb = open_workbook_auto(&xlsx).unwrap();
    let names = wb.sheet_names().to_vec();
    let summary = wb.worksheet_range(&names[0]).unwrap();
    let cell = |r: u32, c: u32| match summary.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        _ => String::new(),
    };
    let title = cell(4, 0);
    assert!(!title.is_empty(), "the title is in A5");
    // The widest table row: its first and last headers must print on one page.
    let (width, header_row) = (0..summary.height() as u32)
        .map(|r| {
            let w = (0..summary.width() as u32)
                .filter(|c| !cell(r, *c).is_empty())
                .count();
            (w, r)
        })
        .max()
        .unwrap();
    let first_header = squeeze(&cell(header_row, 0));
    let last_header = squeeze(&cell(header_row, width as u32 - 1));
    let detail = wb.worksheet_range(&names[1]).unwrap();
    let detail_headers: Vec<String> = (0..detail.width() as u32)
        .filter_map(|c| match detail.get_value((0, c)) {
            Some(Data::String(s)) => Some(squeeze(s)),
            _ => None,
        })
        .collect();
    let detail_header = detail_headers[0].clone();

    let pdf = xlsx_to_pdf(&xlsx);
    if let Ok(dir) = std::env::var("LOA_TEST_KEEP_PDF") {
        // To look at the pages (pdftoppm) or compare with another build.
        std::fs::copy(&pdf, std::path::Path::new(&dir).join("district-week.pdf")).unwrap();
        std::fs::copy(&xlsx, std::path::Path::new(&dir).join("district-week.xlsx")).unwrap();
    }
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.contains("(A4)"), "{info}");
    let pages = pages_text(&pdf);
    let count: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|s| s.trim().parse().unwrap())
        .unwrap();
    assert_eq!(pages.len(), count);
    let squeezed: Vec<String> = pages.iter().map(|p| squeeze(p)).collect();
    // The summary prints first; the detail sheet's pages each start with its header row.
    let summary_pages = squeezed
        .iter()
        .position(|p| p.contains(&detail_header))
        .expect("a detail page");
    eprintln!("XLSX of the district week: {count} A4 pages, {summary_pages} of them the summary");
    // 14 stations' tables take a few pages down; cut into strips sideways they took 15.
    assert!(
        (1..=14).contains(&summary_pages),
        "the summary takes {summary_pages} pages"
    );
    for (i, p) in squeezed[..summary_pages].iter().enumerate() {
        // The title repeats on every page of the summary; a strip cut off sideways would
        // have none of it.
        assert!(
            p.contains(&squeeze(&title)),
            "summary page {} lacks the title",
            i + 1
        );
    }
    assert!(
        squeezed[..summary_pages]
            .iter()
            .any(|p| p.contains(&first_header) && p.contains(&last_header)),
        "'{first_header}' and '{last_header}' of one table are on different pages"
    );
    // The detail prints two pages wide: each page repeats its half of the header row, up
    // to the integrity sheet, which has none of it.
    let repeats = |p: &String| detail_headers.iter().filter(|h| p.contains(*h)).count() >= 3;
    let rest = &squeezed[summary_pages..];
    let detail_pages = rest.iter().position(|p| !repeats(p)).unwrap_or(rest.len());
    assert!(detail_pages >= 2, "{detail_pages} detail pages");
    assert!(
        !rest[detail_pages..].iter().any(repeats),
        "detail page {} does not repeat the header row",
        detail_pages + 1
    );
    // Minutes in the Vietnamese number format: a decimal comma.
    let summary_text = pages[..summary_pages].join("\n");
    assert!(
        summary_text
            .split(|c: char| c.is_whitespace())
            .any(|w| w.len() >= 3
                && w.contains(',')
                && w.chars()
                    .all(|c| c.is_ascii_digit() || c == ',' || c == '.')),
        "no number with a decimal comma in the summary:\n{summary_text}"
    );
}
