//! The console's **Báo cáo** page (`GET /reports`): a form (quarter, year or range; the
//! stations; CSV, XLSX or printable HTML; the report's language) that works without
//! JavaScript and asks `GET /reports/download`, which gives the very download of
//! `GET /api/v1/exports` ([`super::exports::download`]) and says a refusal as a page.
//! Words in both languages: [`Words`].

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use maud::{html, Markup};

use crate::lang::Lang;

use super::airlog::visible_stations;
use super::auth::{authenticate, Caller, Client};
use super::dates::{day_input, parse_day};
use super::exports::{download, ExportAsk};
use super::login::see_other;
use super::pages::{message_in, page_in, respond};
use super::{locale, AppState};

/// The page's words in one language.
#[derive(Debug)]
pub struct Words {
    title: &'static str,
    quarter: &'static str,
    year: &'static str,
    or_range: &'static str,
    from: &'static str,
    to: &'static str,
    stations: &'static str,
    stations_hint: &'static str,
    format: &'static str,
    formats: [(&'static str, &'static str); 3],
    lang: &'static str,
    download: &'static str,
    note: &'static str,
    refused: &'static str,
    not_found: &'static str,
}

/// Vietnamese.
const VI: Words = Words {
    title: "Báo cáo",
    quarter: "Quý",
    year: "Năm",
    or_range: "Hoặc một khoảng ngày (để trống quý và năm)",
    from: "Từ ngày",
    to: "Đến ngày",
    stations: "Đài",
    stations_hint: "Không chọn đài nào là mọi đài bạn được xem.",
    format: "Định dạng",
    formats: [
        ("xlsx", "XLSX (Excel, in khổ A4)"),
        ("csv", "CSV"),
        ("html", "Trang in (HTML)"),
    ],
    lang: "Ngôn ngữ của báo cáo",
    download: "Tải báo cáo",
    note: "Báo cáo giống hệt tệp xuất bằng dòng lệnh, có khối kiểm tra toàn vẹn đã ký; mỗi lần tải được ghi vào nhật ký thao tác.",
    refused: "Không tải được:",
    not_found: "Không có đài này trong các đài bạn được xem.",
};

/// English.
const EN: Words = Words {
    title: "Reports",
    quarter: "Quarter",
    year: "Year",
    or_range: "Or a range of days (leave quarter and year empty)",
    from: "From",
    to: "To",
    stations: "Stations",
    stations_hint: "No station chosen means every station you may see.",
    format: "Format",
    formats: [
        ("xlsx", "XLSX (Excel, prints on A4)"),
        ("csv", "CSV"),
        ("html", "Printable page (HTML)"),
    ],
    lang: "Language of the report",
    download: "Download",
    note: "The very file the command line exports, with its signed integrity block; each download is recorded in the audit.",
    refused: "Not downloaded:",
    not_found: "No such station among those you may see.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// `GET /reports`.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = locale::of(&headers, query.as_deref());
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) if c.session().is_some() => c,
        _ => return see_other("/login", &[]),
    };
    let r = form_page(&state, &caller, lang, StatusCode::OK, &Filled::default()).await;
    locale::remember(r, query.as_deref())
}

/// What the form held when a day field was wrong, to show it again.
#[derive(Debug, Default)]
struct Filled {
    /// The first day as typed.
    from: String,
    /// The last day as typed.
    to: String,
    /// The stations checked.
    stations: Vec<String>,
    /// The format chosen.
    format: String,
    /// Each wrong day field and its sentence.
    errors: Vec<(&'static str, String)>,
}

impl Filled {
    /// The form's range as sent, each day field checked (a quarter or a year, when given,
    /// is the period and the days are not read).
    fn check(query: &str, lang: Lang) -> Filled {
        let pairs = super::airlog::pairs(Some(query));
        let get = |k: &str| {
            pairs
                .iter()
                .rev()
                .find(|(p, _)| p == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let mut f = Filled {
            from: get("from"),
            to: get("to"),
            stations: pairs
                .iter()
                .filter(|(k, _)| k == "station")
                .map(|(_, v)| v.clone())
                .collect(),
            format: get("format"),
            errors: Vec::new(),
        };
        for (field, v) in [("from", &f.from), ("to", &f.to)] {
            if !v.is_empty() {
                if let Err(e) = parse_day(field, v) {
                    f.errors.push((field, e.sentence(lang)));
                }
            }
        }
        f
    }

    fn error_at(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.as_str())
    }
}

/// The form, filled with `filled` (its day fields' errors at their places).
async fn form_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    status: StatusCode,
    filled: &Filled,
) -> Response {
    let w = words(lang);
    let Caller::User {
        user,
        session: Some(session),
    } = caller
    else {
        return see_other("/login", &[]);
    };
    let stations = match visible_stations(state, caller).await {
        Ok(s) => s,
        Err(e) => return respond(e.0, message_in(lang, w.title, &e.1)),
    };
    let today = state
        .clock
        .now()
        .with_timezone(&state.timezone)
        .date_naive();
    let this_quarter = (today.month() - 1) / 3 + 1;
    let years: Vec<i32> = (0..5).map(|i| today.year() - i).collect();
    let role = match lang {
        Lang::Vi => user.grant.role.label_vi().to_string(),
        Lang::En => user.grant.role.to_string(),
    };
    // A form sent back for a wrong day asked for a range: no quarter is chosen then.
    let refilled = !filled.errors.is_empty();
    let body: Markup = html! {
        form.card method="get" action="/reports/download" {
            label for="quarter" { (w.quarter) }
            select #quarter name="quarter" {
                option value="" { "—" }
                @for y in &years { @for q in (1..=4).rev() {
                    @if *y < today.year() || q <= this_quarter {
                        option value=(format!("{y}-Q{q}")) selected[!refilled && *y == today.year() && q == this_quarter] {
                            (crate::report::roman(q)) " / " (y)
                        }
                    }
                } }
            }
            label for="year" { (w.year) }
            select #year name="year" {
                option value="" { "—" }
                @for y in &years { option value=(y) { (y) } }
            }
            fieldset {
                legend { (w.or_range) }
                label for="from" { (w.from) }
                (day_input("from", &filled.from, filled.error_at("from")))
                label for="to" { (w.to) }
                (day_input("to", &filled.to, filled.error_at("to")))
            }
            fieldset {
                legend { (w.stations) }
                @for (code, name) in &stations {
                    label { input type="checkbox" name="station" value=(code) checked[filled.stations.contains(code)]; (name) }
                }
                p.muted { (w.stations_hint) }
            }
            fieldset {
                legend { (w.format) }
                @for (i, (code, label)) in w.formats.iter().enumerate() {
                    label {
                        input type="radio" name="format" value=(code)
                            checked[if filled.format.is_empty() { i == 0 } else { filled.format == *code }];
                        (label)
                    }
                }
            }
            fieldset {
                legend { (w.lang) }
                label { input type="radio" name="lang" value="vi" checked[lang == Lang::Vi]; "Tiếng Việt" }
                label { input type="radio" name="lang" value="en" checked[lang == Lang::En]; "English" }
            }
            p.muted { (w.note) }
            p { button type="submit" { (w.download) } }
        }
    };
    respond(
        status,
        page_in(
            lang,
            w.title,
            Some((user.name.as_str(), &role, &session.csrf)),
            body,
        ),
    )
}

/// `GET /reports/download`: the form's download. A period left on both a quarter and a
/// year, or on a range too, is read in that order (a quarter first), as the form says. A
/// wrong day is said at its field, the form shown again (400).
pub async fn download_page(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = locale::of(&headers, None);
    let w = words(lang);
    let caller = match authenticate(&state, &method, &headers, None).await {
        Ok(c) => c,
        Err(_) => return see_other("/login", &[]),
    };
    let q = form_query(query.as_deref());
    let filled = Filled::check(&q, lang);
    if !filled.errors.is_empty() && caller.session().is_some() {
        return form_page(&state, &caller, lang, StatusCode::BAD_REQUEST, &filled).await;
    }
    let ask = match ExportAsk::parse(Some(&q)) {
        Ok(a) => a,
        Err(e) => {
            return respond(
                StatusCode::BAD_REQUEST,
                message_in(lang, w.title, &format!("{} {e}", w.refused)),
            )
        }
    };
    match download(&state, &caller, &client, &ask).await {
        Ok(r) => r,
        Err(e) if e.0 == StatusCode::NOT_FOUND => {
            respond(e.0, message_in(lang, w.title, w.not_found))
        }
        Err(e) => respond(
            e.0,
            message_in(lang, w.title, &format!("{} {}", w.refused, e.1)),
        ),
    }
}

/// The form's query with only one period kept: the quarter, else the year, else the range.
fn form_query(query: Option<&str>) -> String {
    let pairs: Vec<(String, String)> = super::airlog::pairs(query)
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let has = |k: &str| pairs.iter().any(|(p, _)| p == k);
    let drop: &[&str] = if has("quarter") {
        &["year", "from", "to"]
    } else if has("year") {
        &["from", "to"]
    } else {
        &[]
    };
    pairs
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .map(|(k, v)| format!("{}={}", enc(&k), enc(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_keeps_one_period_a_quarter_before_a_year_before_a_range() {
        assert_eq!(
            form_query(Some("quarter=2023-Q1&year=2023&from=&to=&format=csv")),
            "quarter=2023-Q1&format=csv"
        );
        assert_eq!(
            form_query(Some(
                "quarter=&year=2023&from=2023-01-01&to=2023-01-02&format=csv"
            )),
            "year=2023&format=csv"
        );
        assert_eq!(
            form_query(Some(
                "quarter=&year=&from=2023-01-01&to=2023-01-02&station=vinh-an"
            )),
            "from=2023-01-01&to=2023-01-02&station=vinh-an"
        );
    }
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables(
            "reports_page",
            &format!("{VI:?}"),
            &format!("{EN:?}"),
        );
    }
}
