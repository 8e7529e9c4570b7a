//! The printable report: one self-contained HTML page laid out for A4 (print CSS), with the
//! administrative header, the title, the summary tables, compliance, a short list of
//! incidents and the integrity block. Every text is escaped. The detail rows are not
//! printed (a year is millions of lines); they are in the CSV and XLSX exports.

use chrono::NaiveDate;

use super::integrity::Integrity;
use super::labels::{self, words};
use super::rows::ExportRow;
use super::tables::{tables, Val};
use super::walk::{RowSink, Walked};
use super::{Lang, Period};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML page needs no rows: its summary and integrity come from the walk.
#[derive(Debug, Default)]
pub struct NoRows;

impl RowSink for NoRows {
    fn row(&mut self, _: &ExportRow) -> Result<(), super::ReportError> {
        Ok(())
    }

    fn wants_chain(&self) -> bool {
        false
    }
}

const STYLE: &str = r#"
@page { size: A4 portrait; margin: 20mm 15mm 20mm 30mm; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 12pt;
  line-height: 1.3; color: #000; max-width: 165mm; margin: 0 auto; }
@media screen { body { padding: 10mm 0; } }
.head { display: table; width: 100%; table-layout: fixed; margin-bottom: 6mm; }
.head > div { display: table-cell; text-align: center; vertical-align: top; }
.head { font-size: 11.5pt; }
.head .left { width: 40%; } .head .right { width: 60%; }
.head p { margin: 0; } .b { font-weight: bold; } .u { text-decoration: underline; }
.date { font-style: italic; margin-top: 3mm !important; }
h1 { font-size: 13pt; text-align: center; margin: 4mm 0 1mm; text-transform: uppercase; }
.period { text-align: center; margin: 0 0 5mm; font-style: italic; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; page-break-after: avoid; break-after: avoid; }
table.t { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 9pt; margin-bottom: 2mm; }
table.t th, table.t td { border: 0.5pt solid #000; padding: 1mm 1.2mm; vertical-align: top;
  overflow-wrap: anywhere; word-break: break-word; }
table.t th:first-child { width: 20%; }
table.counts th { font-size: 8pt; }
table.producers th:first-child { width: 50%; }
table.compliance th:nth-child(2) { width: 20%; } table.compliance th:nth-child(8) { width: 26%; }
table.compliance th:first-child { width: 14%; }
table.incidents th:last-child { width: 30%; }
table.incident-list th:nth-child(2) { width: 14%; } table.incident-list th:nth-child(3) { width: 28%; }
table.t th { background: #eee; font-weight: bold; text-align: center; }
table.t td.n { text-align: right; white-space: nowrap; }
table.t tr { page-break-inside: avoid; break-inside: avoid; }
table.t tr.total td { font-weight: bold; }
thead { display: table-header-group; }
.note { font-size: 9pt; font-style: italic; margin: 0 0 3mm; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; overflow-wrap: anywhere; }
.sign { display: table; width: 100%; table-layout: fixed; margin-top: 8mm; page-break-inside: avoid; }
.sign > div { display: table-cell; vertical-align: top; }
.sign .right { text-align: center; font-weight: bold; }
.sign .left { font-size: 10pt; }
"#;

pub(super) fn table_html(out: &mut String, t: &super::tables::Table, total_label: &str) {
    if !t.heading.is_empty() {
        out.push_str(&format!("<h2>{}</h2>\n", escape(&t.heading)));
    }
    if t.rows.is_empty() {
        if let Some(n) = &t.note {
            out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(n)));
        }
        return;
    }
    out.push_str(&format!("<table class=\"t {}\"><thead><tr>", t.class));
    for h in &t.header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in &t.rows {
        let total = matches!(row.first(), Some(Val::Text(s)) if s == total_label);
        out.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for v in row {
            match v {
                Val::Text(s) => out.push_str(&format!("<td>{}</td>", escape(s))),
                Val::Int(n) => out.push_str(&format!("<td class=\"n\">{n}</td>")),
                Val::Dec(x) => out.push_str(&format!("<td class=\"n\">{x:.1}</td>")),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    if let Some(n) = &t.note {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(n)));
    }
}

fn integrity_html(out: &mut String, lang: Lang, i: &Integrity) {
    let w = words(lang);
    out.push_str(&format!(
        "<h2>{}</h2>\n<table class=\"t integrity\"><colgroup><col style=\"width:32%\"><col></colgroup><tbody>\n",
        escape(w.sec_integrity)
    ));
    let mut row = |k: &str, v: &str, hash: bool| {
        out.push_str(&format!(
            "<tr><td>{}</td><td{}>{}</td></tr>\n",
            escape(k),
            if hash { " class=\"hash\"" } else { "" },
            escape(v)
        ));
    };
    row(w.range, &format!("{} – {}", i.from, i.to), false);
    row(w.rows, &i.rows.to_string(), false);
    row(w.digest, &i.sha256, true);
    row(w.digest_rule, w.digest_rule_text, false);
    for s in &i.stations {
        if let Some(h) = i.last_row_hash.get(s) {
            row(&format!("{} — {s}", w.last_hash), h, true);
        }
        if let Some((seq, h)) = i.store_heads.get(s) {
            row(
                &format!("{} — {s}", w.store_head),
                &format!("{seq} {h}"),
                true,
            );
        }
    }
    out.push_str("</tbody></table>\n");
}

/// Marks where the integrity block starts in the page.
pub const INTEGRITY_START: &str = "<!-- loa-integrity -->";
/// Marks where it ends.
pub const INTEGRITY_END: &str = "<!-- /loa-integrity -->";

/// The summary digest of a printed report: SHA-256 over the page without its integrity
/// block (the text before [`INTEGRITY_START`] and after [`INTEGRITY_END`], joined). Every
/// table, number and word of the page is under it. `None` when the markers are missing.
pub fn page_digest(page: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let (before, rest) = page.split_once(INTEGRITY_START)?;
    let (_, after) = rest.split_once(INTEGRITY_END)?;
    let mut d = Sha256::new();
    d.update(before.as_bytes());
    d.update(after.as_bytes());
    Some(hex::encode(d.finalize()))
}

/// The block's pairs as the page carries them for machines (`verify --export` reads them).
fn integrity_pairs_html(out: &mut String, i: &Integrity) {
    out.push_str("<table class=\"t integrity-raw\"><tbody>\n");
    for (k, v) in i.pairs() {
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"hash\">{}</td></tr>\n",
            escape(&k),
            escape(&v)
        ));
    }
    out.push_str("</tbody></table>\n");
}

/// Reads the pairs back from a page ([`integrity_pairs_html`]).
pub fn read_pairs(page: &str) -> Option<Vec<(String, String)>> {
    let (_, rest) = page.split_once("<table class=\"t integrity-raw\"><tbody>\n")?;
    let (body, _) = rest.split_once("</tbody></table>")?;
    body.lines()
        .map(|l| {
            let l = l.strip_prefix("<tr><td>")?.strip_suffix("</td></tr>")?;
            let (k, v) = l.split_once("</td><td class=\"hash\">")?;
            Some((unescape(k), unescape(v)))
        })
        .collect()
}

/// Undoes [`escape`].
pub(super) fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The whole page, its integrity block signed with `key` over the page's digest.
pub fn render(
    lang: Lang,
    walked: &mut Walked,
    period: &Period,
    plan_name: Option<&str>,
    issued: NaiveDate,
    key: &crate::airlog::key::DistrictKey,
) -> String {
    let w = words(lang);
    let (body1, body2, place) = labels::issuer(plan_name);
    let title = labels::title(lang, period);
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        match lang { Lang::Vi => "vi", Lang::En => "en" },
        escape(&title)
    ));
    out.push_str(&format!(
        "<div class=\"head\"><div class=\"left\"><p>{}</p><p class=\"b u\">{}</p></div>\
         <div class=\"right\"><p class=\"b\">{}</p><p class=\"b u\">{}</p><p class=\"date\">{}</p></div></div>\n",
        escape(&body1),
        escape(&body2),
        escape(w.nation),
        escape(w.motto),
        escape(&labels::place_date(lang, &place, issued))
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&title)));
    out.push_str(&format!(
        "<p class=\"period\">{}: {}</p>\n",
        escape(w.range),
        escape(&period.to_string())
    ));
    for t in tables(lang, &walked.summary) {
        table_html(&mut out, &t, w.total);
    }
    let mut tail = String::new();
    tail.push_str(&format!(
        "<div class=\"sign\"><div class=\"left\"><p class=\"b\">{}</p><p>- Phòng Nội vụ;<br>- Lưu: VT.</p></div>\
         <div class=\"right\"><p>{}</p></div></div>\n</body>\n</html>\n",
        escape(w.recipients),
        escape(w.signer)
    ));
    let digest = page_digest(&format!("{out}{INTEGRITY_START}{INTEGRITY_END}{tail}"));
    walked.integrity.summary_sha256 = digest;
    walked.integrity.sign(key);
    out.push_str(INTEGRITY_START);
    out.push('\n');
    integrity_html(&mut out, lang, &walked.integrity);
    integrity_pairs_html(&mut out, &walked.integrity);
    out.push_str(INTEGRITY_END);
    out.push_str(&tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            escape("<b>\"Một cửa\" & 'liên thông'</b>"),
            "&lt;b&gt;&quot;Một cửa&quot; &amp; &#39;liên thông&#39;&lt;/b&gt;"
        );
    }
}
