//! The airlog as the console and the API show it (issue 13, **Nhật ký phát sóng**):
//! `GET /api/v1/airlog?station=&from=&to=&status=` (JSON) and `GET /airlog` (the page, in
//! [`super::airlog_page`]). Rows of the stations the caller may see, by local dates, planned
//! against actual, their reasons in the language asked, the make-up links both ways, and
//! each station's chain checked by the same verification as `loa airlog verify`
//! ([`crate::airlog::verify::verify_stations`]).
//!
//! The query is parsed whole into an [`AirlogAsk`] before anything is read; a station the
//! caller may not see answers 404, as if it did not exist.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use chrono::{Duration, NaiveDate};

use crate::airlog::key::DistrictKey;
use crate::airlog::verify::verify_stations;
use crate::airlog::{AirStatus, CueSource, Record};
use crate::lang::{Lang, Render};

use super::api::ErrorBody;
use super::auth::{authenticate, Caller};
use super::dates::{show_day, DayError};
use super::{ApiError, AppState};

/// The longest period one request reads, in days.
pub const MAX_DAYS: i64 = 366;
/// The most rows one answer carries (the rest is said to be cut).
pub const MAX_ROWS: usize = 5_000;

/// A checked airlog request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirlogAsk {
    /// One station, or every station the caller sees.
    pub station: Option<String>,
    /// First local day.
    pub from: NaiveDate,
    /// Last local day (included).
    pub to: NaiveDate,
    /// Only rows of this status.
    pub status: Option<AirStatus>,
    /// The language of the words.
    pub lang: Lang,
}

pub use super::dates::parse_day;

/// Why a query is not an airlog request. A day field's fault names the field, so the page
/// shows it there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// A day field is not a day.
    #[error(transparent)]
    Day(#[from] DayError),
    /// The last day is before the first.
    #[error("to {} is before from {}", show_day(*.to), show_day(*.from))]
    Order {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// The period is longer than [`MAX_DAYS`].
    #[error("from {} to {} is more than {MAX_DAYS} days; ask for a shorter period", show_day(*.from), show_day(*.to))]
    TooLong {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// Another key or value (English: only scripts send these).
    #[error("{0}")]
    Other(String),
}

impl AskError {
    /// The page's field at fault, if it is a day field's.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AskError::Day(d) => Some(d.field),
            AskError::Order { .. } | AskError::TooLong { .. } => Some("to"),
            AskError::Other(_) => None,
        }
    }

    /// The sentence in `lang`.
    pub fn sentence(&self, lang: Lang) -> String {
        match (self, lang) {
            (AskError::Day(d), _) => d.sentence(lang),
            (AskError::Order { from, to }, Lang::Vi) => format!(
                "Ngày cuối {} trước ngày đầu {}.",
                show_day(*to),
                show_day(*from)
            ),
            (AskError::TooLong { .. }, Lang::Vi) => {
                format!("Khoảng ngày dài hơn {MAX_DAYS} ngày; hãy chọn khoảng ngắn hơn.")
            }
            (e, _) => {
                let s = e.to_string();
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str() + ".")
                    .unwrap_or_default()
            }
        }
    }
}

/// The `key=value` pairs of a query string, percent-decoded.
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes a query component (`+` is a space); bytes that are not UTF-8 become U+FFFD.
fn decode(s: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = match (b[i], b.get(i + 1), b.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (escaped, b[i]) {
            (Some(v), _) => {
                out.push(v);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl AirlogAsk {
    /// Parses a query: `station`, `from`, `to` (default: the last 7 days up to `today`),
    /// `status`, `lang`; an unknown key is refused, so a typo is not silently ignored.
    pub fn parse(query: Option<&str>, today: NaiveDate) -> Result<AirlogAsk, AskError> {
        let mut ask = AirlogAsk {
            station: None,
            from: today - Duration::days(6),
            to: today,
            status: None,
            lang: Lang::Vi,
        };
        let (mut from, mut to) = (None, None);
        for (k, v) in pairs(query) {
            let v = v.trim().to_string();
            match k.as_str() {
                "station" if v.is_empty() || v == "all" => ask.station = None,
                "station" => ask.station = Some(v),
                "from" if !v.is_empty() => from = Some(parse_day("from", &v)?),
                "to" if !v.is_empty() => to = Some(parse_day("to", &v)?),
                "from" | "to" => {}
                "status" if v.is_empty() || v == "all" => ask.status = None,
                "status" => {
                    ask.status = Some(
                        AirStatus::try_from(v.as_str())
                            .map_err(|e| AskError::Other(e.to_string()))?,
                    )
                }
                "lang" => {
                    ask.lang = match v.as_str() {
                        "vi" => Lang::Vi,
                        "en" => Lang::En,
                        _ => return Err(AskError::Other(format!("lang '{v}' is not vi or en"))),
                    }
                }
                other => {
                    return Err(AskError::Other(format!(
                        "unknown query parameter '{other}' (station, from, to, status, lang)"
                    )))
                }
            }
        }
        match (from, to) {
            (Some(f), Some(t)) => (ask.from, ask.to) = (f, t),
            (Some(f), None) => (ask.from, ask.to) = (f, (f + Duration::days(6)).min(today.max(f))),
            (None, Some(t)) => (ask.from, ask.to) = (t - Duration::days(6), t),
            (None, None) => {}
        }
        if ask.to < ask.from {
            return Err(AskError::Order {
                from: ask.from,
                to: ask.to,
            });
        }
        if (ask.to - ask.from).num_days() >= MAX_DAYS {
            return Err(AskError::TooLong {
                from: ask.from,
                to: ask.to,
            });
        }
        Ok(ask)
    }
}

/// The rows that made up each row: the row's seq → the make-up's seq.
pub fn made_up_by(rows: &[Record]) -> HashMap<i64, i64> {
    rows.iter()
        .filter(|r| r.source == CueSource::Makeup)
        .filter_map(|r| Some((r.link_seq?, r.seq)))
        .collect()
}

/// One station's chain as a page or the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Chain {
    /// Station code.
    pub station: String,
    /// Its name.
    pub name: String,
    /// Whether the chain holds.
    pub ok: bool,
    /// Closed rows checked.
    pub rows: usize,
    /// Signed heads checked.
    pub signed_heads: usize,
    /// The first bad row, when it does not hold.
    pub seq: Option<i64>,
    /// What is wrong (English, as `loa airlog verify` says it).
    pub problem: Option<String>,
}

/// What a request reads: its rows (oldest first, at most [`MAX_ROWS`]), whether more were
/// cut, and each station's chain.
#[derive(Debug)]
pub struct Read {
    /// The rows.
    pub rows: Vec<Record>,
    /// Rows left out past [`MAX_ROWS`].
    pub cut: usize,
    /// The chains, in station order.
    pub chains: Vec<Chain>,
    /// The stations read: code and name.
    pub stations: Vec<(String, String)>,
}

/// The stations `caller` sees among those this daemon plays or has rows of, code and name.
pub async fn visible_stations(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut all: BTreeMap<String, String> = state
        .stations
        .iter()
        .map(|(c, h)| (c.clone(), h.name.clone()))
        .collect();
    for code in state
        .store
        .airlog_stations()
        .await
        .map_err(ApiError::internal)?
    {
        all.entry(code.clone()).or_insert(code);
    }
    Ok(all.into_iter().filter(|(c, _)| caller.sees(c)).collect())
}

/// Reads what `ask` asks for `caller`.
pub async fn read(state: &AppState, caller: &Caller, ask: &AirlogAsk) -> Result<Read, ApiError> {
    let mut stations = visible_stations(state, caller).await?;
    if let Some(code) = &ask.station {
        stations.retain(|(c, _)| c == code);
        if stations.is_empty() {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!("station '{code}' is not a station you may see"),
            ));
        }
    }
    let mut rows = Vec::new();
    for (code, _) in &stations {
        // Each station's days are its own zone's.
        let tz = super::dates::station_zone(&state.plan, code);
        let from = crate::report::local_midnight(tz, ask.from);
        let to = crate::report::local_midnight(tz, ask.to + Duration::days(1));
        let got = state
            .store
            .airlog(Some(code), Some(from), Some(to))
            .await
            .map_err(ApiError::internal)?;
        rows.extend(
            got.into_iter()
                .filter(|r| ask.status.is_none_or(|s| r.status == s)),
        );
    }
    rows.sort_by(|a, b| {
        a.planned_start
            .cmp(&b.planned_start)
            .then(a.seq.cmp(&b.seq))
    });
    let cut = rows.len().saturating_sub(MAX_ROWS);
    rows.truncate(MAX_ROWS);
    let codes: Vec<String> = stations.iter().map(|(c, _)| c.clone()).collect();
    let key = DistrictKey::load(&state.signing_key)
        .map(|k| k.public())
        .map_err(|e| e.to_string());
    let verdicts = verify_stations(state.store.as_ref(), &codes, key)
        .await
        .map_err(ApiError::internal)?;
    let chains = stations
        .iter()
        .map(|(code, name)| {
            let v = verdicts.get(code);
            let problem = v.and_then(|v| v.problem.as_ref());
            Chain {
                station: code.clone(),
                name: name.clone(),
                ok: problem.is_none(),
                rows: v.map_or(0, |v| v.rows),
                signed_heads: v.map_or(0, |v| v.signed_heads),
                seq: problem.and_then(|p| p.station_seq()).map(|(_, s)| s),
                problem: problem.map(|p| p.to_string()),
            }
        })
        .collect();
    Ok(Read {
        rows,
        cut,
        chains,
        stations,
    })
}

/// A row as the API shows it: its stored values, and beside each value people read its
/// words in the language asked.
fn row_json(
    r: &Record,
    titles: &HashMap<String, String>,
    made_up: &HashMap<i64, i64>,
    lang: Lang,
) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["status_text"] = r.status.render(lang).into();
    v["source_text"] = r.source.render(lang).into();
    v["reason_stored"] = v["reason"].take();
    v["reason"] = r.reason.render(lang).into();
    v["title"] = r
        .bulletin_id
        .as_ref()
        .and_then(|b| titles.get(b))
        .cloned()
        .into();
    v["made_up_by"] = made_up.get(&r.seq).copied().into();
    v
}

/// What `GET /api/v1/airlog` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AirlogAnswer {
    /// First local day read.
    pub from: NaiveDate,
    /// Last local day read (included).
    pub to: NaiveDate,
    /// The language of the words.
    pub lang: Lang,
    /// Each station's chain, checked as `loa airlog verify` does.
    pub chains: Vec<Chain>,
    /// The rows, oldest first: the stored values, and beside them `status_text`,
    /// `source_text`, `reason` (words), `reason_stored`, `title`, `made_up_by`.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Value>,
    /// Rows left out past the first 5,000.
    pub rows_cut: usize,
}

/// The airlog of the stations the caller sees, by local days: planned against actual,
/// with each station's chain verdict.
#[utoipa::path(
    get,
    path = "/api/v1/airlog",
    tag = "airlog",
    params(
        ("station" = Option<String>, Query, description = "One station (default, or `all`: every station the caller sees)"),
        ("from" = Option<NaiveDate>, Query, description = "First local day, YYYY-MM-DD or dd/mm/yyyy (default: six days before `to`)"),
        ("to" = Option<NaiveDate>, Query, description = "Last local day, included (default: today, or six days after `from`)"),
        ("status" = Option<String>, Query, description = "Only rows of this status: playing, aired, partial, skipped, failed, interrupted (`all`: every one)"),
        ("lang" = Option<Lang>, Query, description = "The language of the words (vi by default)"),
    ),
    responses(
        (status = 200, description = "The rows and the chains", body = AirlogAnswer),
        (status = 400, description = "A bad query: an unknown key, a bad date or status, a period over 366 days", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 404, description = "A station the caller does not see", body = ErrorBody),
    )
)]
pub async fn api(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<AirlogAnswer>, ApiError> {
    let caller = authenticate(&state, &method, &headers, None).await?;
    let today = state
        .clock
        .now()
        .with_timezone(&state.timezone)
        .date_naive();
    let ask = AirlogAsk::parse(query.as_deref(), today)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let read = read(&state, &caller, &ask).await?;
    let titles = titles(&state).await?;
    let made_up = made_up_by(&read.rows);
    Ok(Json(AirlogAnswer {
        from: ask.from,
        to: ask.to,
        lang: ask.lang,
        chains: read.chains,
        rows: read
            .rows
            .iter()
            .map(|r| row_json(r, &titles, &made_up, ask.lang))
            .collect(),
        rows_cut: read.cut,
    }))
}

/// Every bulletin's title by id.
pub async fn titles(state: &AppState) -> Result<HashMap<String, String>, ApiError> {
    Ok(state
        .catalogue
        .snapshot()
        .await
        .map_err(ApiError::internal)?
        .by_id()
        .values()
        .map(|b| (b.id.to_string(), b.meta.title.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn with_no_dates_the_last_seven_days_are_read() {
        let a = AirlogAsk::parse(None, day("2026-12-06")).unwrap();
        assert_eq!((a.from, a.to), (day("2026-11-30"), day("2026-12-06")));
        assert_eq!((a.station, a.status, a.lang), (None, None, Lang::Vi));
    }

    #[test]
    fn dates_are_taken_as_iso_or_as_people_write_them() {
        let a = AirlogAsk::parse(
            Some("station=vinh-an&from=01%2F03%2F2023&to=2023-03-31&status=partial&lang=en"),
            day("2026-12-06"),
        )
        .unwrap();
        assert_eq!(a.station.as_deref(), Some("vinh-an"));
        assert_eq!((a.from, a.to), (day("2023-03-01"), day("2023-03-31")));
        assert_eq!(a.status, Some(AirStatus::Partial));
        assert_eq!(a.lang, Lang::En);
    }

    #[test]
    fn a_bad_date_status_key_or_period_is_refused_naming_it() {
        let today = day("2026-12-06");
        for (q, words) in [
            ("from=31-12-2023", "from '31-12-2023'"),
            ("status=done", "status 'done'"),
            ("stations=a", "'stations'"),
            ("from=2023-03-02&to=2023-03-01", "before"),
            ("from=2022-01-01&to=2023-03-01", "366 days"),
            ("lang=fr", "lang 'fr'"),
        ] {
            let err = AirlogAsk::parse(Some(q), today).unwrap_err();
            assert!(err.to_string().contains(words), "{q}: {err}");
        }
    }

    #[test]
    fn a_query_component_is_percent_decoded() {
        assert_eq!(decode("Vi%E1%BB%87t+Nam"), "Việt Nam");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
