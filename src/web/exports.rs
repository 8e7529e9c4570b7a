//! Report downloads (issue 13, **Báo cáo**): `GET /api/v1/exports?format=&from=&to=&station=`
//! (or `quarter=2023-Q1`, `year=2023` instead of the dates; `lang=vi|en`) and the console's
//! `GET /reports/download` (the same, with refusals as pages). The very exports of
//! `loa airlog export` ([`crate::report::export`]): written to a scratch file, then streamed
//! to the client from disk in blocks and the file removed, so a year's XLSX never sits in
//! memory whole. Every role may download; a commune account only its stations (another
//! station answers 404). Each download is audited as `report_download` with what it held.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::access::{Action, Decision};
use crate::airlog::key::DistrictKey;
use crate::lang::Lang;
use crate::report::{self, Format, Period, ReportError};

use super::airlog::pairs;
use super::api::ErrorBody;
use super::auth::{authenticate, Caller, Client};
use super::dates::parse_day;
use super::{ApiError, AppState};

/// Bytes read from the file per block sent.
const BLOCK: usize = 64 * 1024;

/// A checked download request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportAsk {
    /// The format.
    pub format: Format,
    /// The period.
    pub period: Period,
    /// The stations asked for (empty: every station the caller may see).
    pub stations: Vec<String>,
    /// The language of the words.
    pub lang: Lang,
}

impl ExportAsk {
    /// Parses a query: `format` (csv, xlsx, html), `from` and `to` (YYYY-MM-DD), or
    /// `quarter` (2023-Q1), or `year`; `station` repeated or comma-separated; `lang`.
    pub fn parse(query: Option<&str>) -> Result<ExportAsk, String> {
        let (mut format, mut from, mut to, mut quarter, mut year) = (None, None, None, None, None);
        let mut stations: Vec<String> = Vec::new();
        let mut lang = Lang::Vi;
        for (k, v) in pairs(query) {
            let v = v.trim().to_string();
            match k.as_str() {
                "format" => {
                    format = Some(match v.as_str() {
                        "csv" => Format::Csv,
                        "xlsx" => Format::Xlsx,
                        "html" => Format::Html,
                        _ => return Err(format!("format '{v}' is not csv, xlsx or html")),
                    })
                }
                // Days as the console shows them (dd/mm/yyyy) or as scripts send them.
                "from" if !v.is_empty() => {
                    from = Some(parse_day("from", &v).map_err(|e| e.to_string())?.to_string())
                }
                "to" if !v.is_empty() => {
                    to = Some(parse_day("to", &v).map_err(|e| e.to_string())?.to_string())
                }
                "quarter" if !v.is_empty() => quarter = Some(v),
                "year" if !v.is_empty() => year = Some(v),
                "from" | "to" | "quarter" | "year" | "period" | "csrf_token" => {}
                "station" => stations.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && *s != "all")
                        .map(str::to_string),
                ),
                "lang" => {
                    lang = match v.as_str() {
                        "vi" => Lang::Vi,
                        "en" => Lang::En,
                        _ => return Err(format!("lang '{v}' is not vi or en")),
                    }
                }
                other => {
                    return Err(format!(
                        "unknown query parameter '{other}' (format, from, to, quarter, year, station, lang)"
                    ))
                }
            }
        }
        let format = format.ok_or("format is missing (csv, xlsx or html)")?;
        let period = match (quarter, year, from, to) {
            (Some(q), None, None, None) => Period::quarter(&q),
            (None, Some(y), None, None) => Period::year(&y),
            (None, None, Some(f), Some(t)) => Period::range(&f, &t),
            _ => {
                return Err(
                    "give from and to (YYYY-MM-DD), or quarter (e.g. 2023-Q1), or year".into(),
                )
            }
        }
        .map_err(|e| e.to_string().replace("--", ""))?;
        stations.sort();
        stations.dedup();
        Ok(ExportAsk {
            format,
            period,
            stations,
            lang,
        })
    }

    /// The file name the client saves.
    pub fn file_name(&self) -> String {
        let period = match self.period.name {
            report::PeriodName::Quarter(y, q) => format!("{y}-Q{q}"),
            report::PeriodName::Year(y) => y.to_string(),
            report::PeriodName::Range => format!("{}_{}", self.period.from, self.period.to),
        };
        let ext = match self.format {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
        };
        format!("loa-nhat-ky-phat-song-{period}.{ext}")
    }
}

fn content_type(f: Format) -> &'static str {
    match f {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Format::Html => "text/html; charset=utf-8",
    }
}

/// The stations `caller` may download for `asked`: each must be one it sees (else 404); when
/// none is asked, a commune account gets its own and the others every station.
fn stations_for(caller: &Caller, asked: &[String]) -> Result<Vec<String>, ApiError> {
    for code in asked {
        if caller.decide(Action::ReportDownload, Some(code)) == Decision::Hidden {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("station '{code}' is not a station you may see"),
            ));
        }
    }
    if !asked.is_empty() {
        return Ok(asked.to_vec());
    }
    match caller {
        Caller::User { user, .. } if user.grant.role.is_confined() => {
            Ok(user.grant.stations.clone())
        }
        _ => Ok(Vec::new()),
    }
}

/// Writes the export `ask` asks for `caller` and answers with it, streamed from disk.
pub async fn download(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    ask: &ExportAsk,
) -> Result<Response, ApiError> {
    let stations = stations_for(caller, &ask.stations)?;
    let input = |e: ReportError| match e {
        ReportError::Input(m) => ApiError(StatusCode::BAD_REQUEST, m.replace("--", "")),
        ReportError::Store(e) => ApiError::internal(e),
        other => ApiError::internal(other),
    };
    let key = DistrictKey::load_or_create(&state.signing_key)
        .map(|(k, _)| k)
        .map_err(ApiError::internal)?;
    let judges = report::judges::Judges::load(state.store.as_ref(), &ask.period, None)
        .await
        .map_err(input)?;
    let plan = judges.default_plan();
    if plan.is_none() && ask.format != Format::Csv {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "no plan to judge by is kept in the database yet (it is kept when a schedule is built); CSV needs none".into(),
        ));
    }
    let stored: Vec<String> = state
        .store
        .chain_heads()
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|h| h.0)
        .filter(|c| caller.sees(c))
        .collect();
    let mut scope = report::scope(ask.period, &stations, plan, &stored).map_err(input)?;
    // Every station of the plan is listed when none is asked: keep those the caller sees.
    scope.stations.retain(|s| caller.sees(&s.code));
    let scratch = &state.announcing.scratch;
    std::fs::create_dir_all(scratch).map_err(ApiError::internal)?;
    let mut name = [0u8; 8];
    let _ = getrandom::fill(&mut name);
    let ext = ask
        .file_name()
        .rsplit('.')
        .next()
        .unwrap_or("out")
        .to_string();
    let out = scratch.join(format!("export-{}.{ext}", hex::encode(name)));
    let issued = state
        .clock
        .now()
        .with_timezone(&plan.map_or(report::DEFAULT_TZ, |p| p.timezone))
        .date_naive();
    let (store, format, lang, path) = (state.store.clone(), ask.format, ask.lang, out.clone());
    // The exporter reports progress through a plain `&dyn Progress`, so its future is not
    // `Send`: it runs on a blocking thread of its own, driven by this runtime.
    let handle = tokio::runtime::Handle::current();
    let walked = tokio::task::spawn_blocking(move || {
        let spec = report::ExportSpec {
            scope,
            format,
            out: &path,
            judges: &judges,
            lang,
            issued,
            key: &key,
            force: true,
            progress: &crate::progress::Quiet,
        };
        handle.block_on(report::export(&store, &spec))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(input)?;
    let file = tokio::fs::File::open(&out)
        .await
        .map_err(ApiError::internal);
    // The open file keeps its bytes; its name goes now, so nothing is left behind however
    // the download ends.
    let _ = std::fs::remove_file(&out);
    let file = file?;
    let length = file.metadata().await.map_err(ApiError::internal)?.len();
    let i = &walked.integrity;
    let entry = caller
        .audit(
            state,
            client,
            Action::ReportDownload,
            (i.stations.len() == 1).then(|| i.stations[0].as_str()),
            &ask.file_name(),
        )
        .with_change(
            None,
            Some(serde_json::json!({
                "format": ext,
                "from": ask.period.from.to_string(),
                "to": ask.period.to.to_string(),
                "stations": i.stations,
                "rows": i.rows,
                "sha256": i.sha256,
            })),
        );
    state
        .store
        .append_audit(&entry)
        .await
        .map_err(ApiError::internal)?;
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; BLOCK];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(ask.format)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", ask.file_name())) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The airlog export of `loa airlog export` for a period: CSV, an XLSX workbook or a
/// printable HTML page, of the stations asked (default: every station the caller sees).
/// Give `from` and `to`, or `quarter`, or `year`. Audited as `report_download`.
#[utoipa::path(
    get,
    path = "/api/v1/exports",
    tag = "reports",
    params(
        ("format" = Format, Query, description = "csv, xlsx or html"),
        ("from" = Option<chrono::NaiveDate>, Query, description = "First day, YYYY-MM-DD (with `to`)"),
        ("to" = Option<chrono::NaiveDate>, Query, description = "Last day, included (with `from`)"),
        ("quarter" = Option<String>, Query, description = "A quarter instead of the dates, e.g. 2023-Q1"),
        ("year" = Option<i32>, Query, description = "A year instead of the dates, e.g. 2023"),
        ("station" = Option<String>, Query, description = "Station codes, comma-separated or repeated (default: every station the caller sees)"),
        ("lang" = Option<Lang>, Query, description = "The language of the words (vi by default)"),
    ),
    responses(
        (status = 200, description = "The export, as an attachment", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/html"),
        )),
        (status = 400, description = "A bad query: the format, the period, an unknown key", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
        (status = 409, description = "XLSX and HTML need a plan kept in the database (one is kept when a schedule is built)", body = ErrorBody),
    )
)]
pub async fn api(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    let ask =
        ExportAsk::parse(query.as_deref()).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e))?;
    download(&state, &caller, &client, &ask).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_a_year_or_a_range_is_asked_with_a_format() {
        let a = ExportAsk::parse(Some(
            "format=xlsx&quarter=2023-Q1&station=vinh-an,huyen&station=vinh-an",
        ))
        .unwrap();
        assert_eq!(a.format, Format::Xlsx);
        assert_eq!(a.period, Period::quarter("2023-Q1").unwrap());
        assert_eq!(a.stations, vec!["huyen", "vinh-an"]);
        assert_eq!(a.file_name(), "loa-nhat-ky-phat-song-2023-Q1.xlsx");
        let y = ExportAsk::parse(Some("format=csv&year=2023&lang=en")).unwrap();
        assert_eq!(
            (y.lang, y.file_name().as_str()),
            (Lang::En, "loa-nhat-ky-phat-song-2023.csv")
        );
        let r = ExportAsk::parse(Some("format=html&from=2023-01-01&to=2023-01-31")).unwrap();
        assert_eq!(
            r.file_name(),
            "loa-nhat-ky-phat-song-2023-01-01_2023-01-31.html"
        );
    }

    #[test]
    fn a_missing_format_period_or_a_bad_value_is_refused_naming_it() {
        for (q, words) in [
            ("year=2023", "format is missing"),
            ("format=pdf&year=2023", "format 'pdf'"),
            ("format=csv", "give from and to"),
            ("format=csv&year=2023&quarter=2023-Q1", "give from and to"),
            ("format=csv&quarter=2023-Q5", "quarter '2023-Q5'"),
            ("format=csv&from=2023-02-01&to=2023-01-01", "before"),
            ("format=csv&year=2023&stations=a", "'stations'"),
        ] {
            let err = ExportAsk::parse(Some(q)).unwrap_err();
            assert!(err.contains(words), "{q}: {err}");
            assert!(!err.contains("--"), "{q}: {err}");
        }
    }
}
