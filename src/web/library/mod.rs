//! The library as the console and the API see it (issue 13, **Thư viện**): the bulletins a
//! caller may see, filtered and in Vietnamese order, each with its analysis and where it
//! aired; approve, retire, remove and edit; uploads ([`upload`]) and how far their
//! measurement is ([`progress`]); the audio, with range requests ([`audio`]). Pages and
//! refusals speak the page's language; the API's sentences are English.
//!
//! Each operation here takes the caller and plain data and returns data or a
//! [`LibraryError`]; the API routes ([`api`]) serialise the result, the console's handlers
//! ([`console`]) render it ([`page`]). Confinement is decided here, where the bulletin is
//! read: a commune user sees a bulletin meant for every station or for one of its stations,
//! and any other answers 404 as if it did not exist. Every change is audited with who,
//! role, station, target, before and after, and address.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::audit::AuditDraft;
use crate::access::{Action, Decision, Role};
use crate::airlog::Record;
use crate::lang::{Lang, Render};
use crate::library::edit::{EditError, MetaEdit};
use crate::library::{ApprovalState, Bulletin, BulletinId, Kind, Priority, StateChange, Topic};
use crate::store::{BulletinFilter, StoreError};
use crate::text::nfc;

use super::auth::{Caller, Client};
use super::{ApiError, AppState};

pub mod api;
pub mod audio;
pub mod console;
pub mod page;
pub mod progress;
pub mod upload;

/// How many of a bulletin's airings its page lists (the newest).
pub const AIRINGS_SHOWN: u32 = 50;

/// Why a library request was refused, with its status; rendered in the caller's
/// language.
#[derive(Debug)]
pub enum LibraryError {
    /// A filter or field holds a value outside its set.
    BadValue {
        /// The field (`kind`, `topic`, `state`, `priority`, `valid_from` …).
        field: &'static str,
        /// What was given.
        given: String,
        /// What it may be.
        allowed: String,
    },
    /// A station the caller does not see, or that is not in the plan.
    UnknownStation(String),
    /// No bulletin with that id that the caller may see.
    NotFound(String),
    /// The caller's role may not do this.
    Forbidden(Role, Action),
    /// The approval state cannot change that way.
    Transition {
        /// The bulletin.
        id: BulletinId,
        /// Its state.
        from: ApprovalState,
        /// The state asked for.
        to: ApprovalState,
    },
    /// The bulletin has aired: it is evidence and stays.
    HasAired {
        /// The bulletin.
        id: BulletinId,
        /// How many airlog rows point at it.
        count: u64,
    },
    /// An edit the metadata rules refuse (the sentence of `loa library edit`).
    Edit(EditError),
    /// An upload refused ([`upload::UploadError`]).
    Upload(upload::UploadError),
    /// The server failed (the store); logged.
    Internal(String),
}

impl LibraryError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            LibraryError::BadValue { .. } | LibraryError::Edit(_) => StatusCode::BAD_REQUEST,
            LibraryError::UnknownStation(_) | LibraryError::NotFound(_) => StatusCode::NOT_FOUND,
            LibraryError::Forbidden(..) => StatusCode::FORBIDDEN,
            LibraryError::Transition { .. } | LibraryError::HasAired { .. } => StatusCode::CONFLICT,
            LibraryError::Upload(e) => e.status(),
            LibraryError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for LibraryError {
    fn from(e: StoreError) -> LibraryError {
        match e {
            StoreError::NotFound(id) => LibraryError::NotFound(id.to_string()),
            StoreError::BadTransition { id, from, to } => LibraryError::Transition { id, from, to },
            StoreError::HasAired { id, count } => LibraryError::HasAired { id, count },
            other => {
                tracing::error!(error = %other, "library request failed");
                LibraryError::Internal(other.to_string())
            }
        }
    }
}

impl Render for LibraryError {
    fn render(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        match self {
            LibraryError::BadValue {
                field,
                given,
                allowed,
            } => {
                if vi && allowed == "dd/mm/yyyy" {
                    format!(
                        "{}: '{given}' không phải ngày hợp lệ (dd/mm/yyyy).",
                        field_vi(field)
                    )
                } else if vi {
                    format!(
                        "{}: giá trị '{given}' không hợp lệ (các mã được nhận: {allowed}).",
                        field_vi(field)
                    )
                } else {
                    format!("{field}: '{given}' is not valid (expected one of: {allowed})")
                }
            }
            LibraryError::UnknownStation(code) => {
                if vi {
                    format!("Không có đài '{code}' trong các đài bạn được xem.")
                } else {
                    format!("no station '{code}' among the stations you may see")
                }
            }
            LibraryError::NotFound(id) => {
                if vi {
                    format!("Không có bản tin mã '{id}' trong thư viện.")
                } else {
                    format!("no bulletin with id '{id}' in the library")
                }
            }
            LibraryError::Forbidden(role, action) => {
                if vi {
                    format!(
                        "Vai trò {} không được {}.",
                        role.label_vi(),
                        action.label_vi()
                    )
                } else {
                    format!("the {role} role may not {action}")
                }
            }
            LibraryError::Transition { id, from, to } => {
                if vi {
                    format!(
                        "Bản tin {id} đang ở trạng thái '{}', không thể chuyển sang '{}'.",
                        from.label_vi(),
                        to.label_vi()
                    )
                } else {
                    format!("bulletin {id} is {from}; it cannot become {to}")
                }
            }
            LibraryError::HasAired { id, count } => {
                if vi {
                    format!(
                        "Bản tin {id} đã phát {count} lần, là bằng chứng trong nhật ký phát sóng nên không xóa được; hãy cho ngừng phát."
                    )
                } else {
                    format!("bulletin {id} has aired {count} time(s); it is evidence in the airlog and cannot be removed (retire it instead)")
                }
            }
            LibraryError::Edit(e) => {
                if vi {
                    edit_vi(e)
                } else {
                    e.to_string()
                }
            }
            LibraryError::Upload(e) => e.render(lang),
            LibraryError::Internal(e) => {
                if vi {
                    // The cause (the store's or the system's words) is logged.
                    "Lỗi máy chủ; không có gì được lưu. Hãy thử lại sau.".to_string()
                } else {
                    format!("server error: {e}")
                }
            }
        }
    }
}

/// An edit refusal in Vietnamese.
fn edit_vi(e: &EditError) -> String {
    match e {
        EditError::Nothing => "Không có gì để sửa: hãy đổi ít nhất một trường.".into(),
        EditError::NotFound(id) => format!("Không có bản tin mã '{id}' trong thư viện."),
        EditError::Text { error, .. } => match error {
            crate::library::limits::TextError::TooLong { field, length, max } => {
                format!("{}: dài {length} ký tự, tối đa {max}.", field_vi(field))
            }
            crate::library::limits::TextError::TooManyStations { count, max } => {
                format!("Có {count} đài phát; tối đa {max}.")
            }
            crate::library::limits::TextError::EmptyTitle => "Tiêu đề không được để trống.".into(),
        },
        EditError::Dates { from, until, .. } => {
            format!("Ngày hết hiệu lực {until} trước ngày bắt đầu {from}.")
        }
        EditError::Station { station, .. } => {
            format!("'{station}' không phải mã đài (chữ thường, số và '-', ví dụ vinh-hung).")
        }
        EditError::Store(_) => "Lỗi máy chủ; không có gì được lưu. Hãy thử lại sau.".into(),
    }
}

/// A metadata field's Vietnamese name.
pub fn field_vi(field: &str) -> &'static str {
    match field {
        "title" => "Tiêu đề",
        "producer" => "Đơn vị sản xuất",
        "notes" => "Ghi chú",
        "language" => "Ngôn ngữ",
        "kind" => "Loại",
        "topic" => "Chủ đề",
        "priority" => "Mức ưu tiên",
        "valid_from" => "Hiệu lực từ",
        "valid_until" => "Hiệu lực đến",
        "stations" => "Đài phát",
        "state" => "Trạng thái",
        "station" => "Đài",
        "file" => "Tệp",
        _ => "Trường",
    }
}

impl From<LibraryError> for ApiError {
    fn from(e: LibraryError) -> ApiError {
        ApiError(e.status(), e.render(Lang::En))
    }
}

/// The filters of the library list; an empty value is no filter (the plain form sends
/// every field).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// Only this kind (news, article, column, spot, jingle).
    #[serde(default)]
    pub kind: Option<String>,
    /// Only this topic (documents, e_procedures, procedure_control, examples, other).
    #[serde(default)]
    pub topic: Option<String>,
    /// Only this state (draft, approved, retired).
    #[serde(default)]
    pub state: Option<String>,
    /// Only bulletins meant for this station (its code; those meant for every station
    /// included).
    #[serde(default)]
    pub station: Option<String>,
    /// Only bulletins whose title, producer, notes, file name or id contain this text
    /// (case and accents as typed, NFC).
    #[serde(default)]
    pub q: Option<String>,
    /// Page `N` (from 1) of [`PAGE_SIZE`] bulletins; without it the API gives every
    /// bulletin that matches and the console its first page.
    #[serde(default)]
    pub page: Option<usize>,
}

/// How many bulletins a page of the list holds.
pub const PAGE_SIZE: usize = 50;

/// Page `page` (from 1; past the end: the last) of `all`: the page shown, its number and
/// how many pages there are (at least 1).
pub fn page_of<T>(all: &[T], page: usize) -> (&[T], usize, usize) {
    let pages = all.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let from = (page - 1) * PAGE_SIZE;
    (
        &all[from.min(all.len())..(from + PAGE_SIZE).min(all.len())],
        page,
        pages,
    )
}

/// A field's value, when one was given.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses one vocabulary field.
pub fn parse_field<T: std::str::FromStr<Err = crate::library::bulletin::VocabularyError>>(
    field: &'static str,
    v: Option<&str>,
) -> Result<Option<T>, LibraryError> {
    v.map(|s| {
        s.parse::<T>().map_err(|e| LibraryError::BadValue {
            field,
            given: e.given,
            allowed: e.allowed.join(", "),
        })
    })
    .transpose()
}

/// Whether `caller` may see bulletin `b`: every station's, or one meant for a station it
/// sees.
pub fn visible(caller: &Caller, b: &Bulletin) -> bool {
    b.meta.stations.is_empty() || b.meta.stations.iter().any(|s| caller.sees(s))
}

/// One bulletin as the list and the API show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulletinView {
    /// Its id (12 hex digits of its SHA-256).
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: Kind,
    /// Topic (III.1–III.5).
    pub topic: Topic,
    /// Broadcast level.
    pub priority: Priority,
    /// Producer unit.
    pub producer: String,
    /// Language tag.
    pub language: String,
    /// First day it may air.
    pub valid_from: Option<NaiveDate>,
    /// Last day it may air.
    pub valid_until: Option<NaiveDate>,
    /// Stations it is meant for (empty: every station).
    pub stations: Vec<String>,
    /// Notes.
    pub notes: String,
    /// Approval state.
    pub state: ApprovalState,
    /// The file name it was uploaded or added as.
    pub original_name: String,
    /// Who added it.
    pub added_by: String,
    /// When (UTC).
    pub added_at: chrono::DateTime<chrono::Utc>,
    /// Who approved it last.
    pub approved_by: Option<String>,
    /// When (UTC).
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What ingest measured.
    pub analysis: Analysis,
}

/// What ingest measured of a bulletin's audio.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Analysis {
    /// Codec, e.g. mp3.
    pub codec: String,
    /// Container, e.g. mp3, wav, mp4.
    pub container: String,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
    /// Decoded length, ms.
    pub duration_ms: u64,
    /// EBU R128 integrated loudness, LUFS (none for silence).
    pub loudness_lufs: Option<f64>,
    /// Loudness range, LU.
    pub loudness_range_lu: Option<f64>,
    /// True peak, dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Silence at the start, ms.
    pub leading_silence_ms: u64,
    /// Silence at the end, ms.
    pub trailing_silence_ms: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// File size, bytes.
    pub size_bytes: u64,
}

impl From<&Bulletin> for BulletinView {
    fn from(b: &Bulletin) -> BulletinView {
        let a = &b.audio;
        BulletinView {
            id: b.id.to_string(),
            title: b.meta.title.clone(),
            kind: b.meta.kind,
            topic: b.meta.topic,
            priority: b.meta.priority,
            producer: b.meta.producer.clone(),
            language: b.meta.language.clone(),
            valid_from: b.meta.valid_from,
            valid_until: b.meta.valid_until,
            stations: b.meta.stations.clone(),
            notes: b.meta.notes.clone(),
            state: b.state,
            original_name: b.original_name.clone(),
            added_by: b.added.by.clone(),
            added_at: b.added.at,
            approved_by: b.approved.as_ref().map(|c| c.by.clone()),
            approved_at: b.approved.as_ref().map(|c| c.at),
            analysis: Analysis {
                codec: a.codec.clone(),
                container: a.container.clone(),
                sample_rate: a.sample_rate,
                channels: a.channels,
                duration_ms: a.duration_ms,
                loudness_lufs: a.loudness_lufs,
                loudness_range_lu: a.loudness_range_lu,
                true_peak_dbtp: a.true_peak_dbtp,
                leading_silence_ms: a.leading_silence_ms,
                trailing_silence_ms: a.trailing_silence_ms,
                sha256: a.sha256.clone(),
                size_bytes: a.size_bytes,
            },
        }
    }
}

/// One airing of a bulletin.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Airing {
    /// The airlog row's sequence number.
    pub seq: i64,
    /// The station.
    pub station: String,
    /// Planned start (UTC, RFC 3339).
    pub planned_start: String,
    /// Actual start (UTC, RFC 3339), when it started.
    pub actual_start: Option<String>,
    /// How long it played, ms.
    pub played_ms: i64,
    /// The row's status (aired, partial, skipped, failed …).
    pub status: String,
    /// The status in Vietnamese.
    pub status_vi: String,
}

impl From<&Record> for Airing {
    fn from(r: &Record) -> Airing {
        Airing {
            seq: r.seq,
            station: r.station.clone(),
            planned_start: r.planned_start.clone(),
            actual_start: r.actual_start.clone(),
            played_ms: r.played_ms,
            status: r.status.as_str().to_string(),
            status_vi: r.status.render(Lang::Vi),
        }
    }
}

/// A bulletin with where it aired.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulletinDetail {
    /// The bulletin.
    #[serde(flatten)]
    pub bulletin: BulletinView,
    /// Its airings at the stations the caller sees, newest first (at most
    /// [`AIRINGS_SHOWN`]).
    pub airings: Vec<Airing>,
}

/// The bulletins a caller may see that match a query, in Vietnamese order of their titles:
/// the library's snapshot and the ids that match, so that showing a page copies only it.
pub struct Listing {
    snapshot: std::sync::Arc<crate::library::catalogue::Snapshot>,
    ids: Vec<BulletinId>,
}

impl Listing {
    /// Nothing (a refused filter).
    pub fn empty() -> Listing {
        Listing {
            snapshot: Default::default(),
            ids: Vec::new(),
        }
    }

    /// How many bulletins match.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether none matches.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every bulletin that matches, in order.
    pub fn all(&self) -> impl Iterator<Item = &Bulletin> + '_ {
        self.ids.iter().filter_map(|id| self.snapshot.get(id))
    }

    /// Page `page` ([`page_of`]): its bulletins, its number and how many pages there are.
    pub fn page(&self, page: usize) -> (Vec<&Bulletin>, usize, usize) {
        let (ids, page, pages) = page_of(&self.ids, page);
        (
            ids.iter().filter_map(|id| self.snapshot.get(id)).collect(),
            page,
            pages,
        )
    }
}

/// The bulletins `caller` may see that match `q`, in Vietnamese order of their titles.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    q: &LibraryQuery,
) -> Result<Listing, LibraryError> {
    let filter = BulletinFilter {
        kind: parse_field("kind", given(&q.kind))?,
        topic: parse_field("topic", given(&q.topic))?,
        state: parse_field("state", given(&q.state))?,
    };
    let station = given(&q.station);
    if let Some(code) = station {
        if !caller.sees(code) || state.plan.station(code).is_none() {
            return Err(LibraryError::UnknownStation(code.to_string()));
        }
    }
    let text = given(&q.q).map(|t| nfc(t).to_lowercase());
    let snapshot = state.catalogue.snapshot().await?;
    let ids = snapshot
        .filtered(&filter)
        .filter(|b| {
            visible(caller, b)
                && station.is_none_or(|s| b.meta.targets(s))
                && text.as_deref().is_none_or(|t| matches_text(b, t))
        })
        .map(|b| b.id)
        .collect();
    Ok(Listing { snapshot, ids })
}

/// Whether the bulletin's words contain `t` (lower-case NFC).
fn matches_text(b: &Bulletin, t: &str) -> bool {
    [
        b.meta.title.as_str(),
        &b.meta.producer,
        &b.meta.notes,
        &b.original_name,
        b.id.as_str(),
    ]
    .iter()
    .any(|f| f.to_lowercase().contains(t))
}

/// Parses a bulletin id from a path; anything else is "not found".
pub fn parse_id(id: &str) -> Result<BulletinId, LibraryError> {
    id.parse::<BulletinId>()
        .map_err(|_| LibraryError::NotFound(id.chars().take(40).collect()))
}

/// The bulletin `id` if `caller` may see it.
pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Bulletin, LibraryError> {
    let id = parse_id(id)?;
    match state.store.bulletin(&id).await? {
        Some(b) if visible(caller, &b) => Ok(b),
        _ => Err(LibraryError::NotFound(id.to_string())),
    }
}

/// A bulletin with its airings at the stations `caller` sees.
pub async fn detail(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<BulletinDetail, LibraryError> {
    let b = get(state, caller, id).await?;
    let rows = state.store.bulletin_airings(&b.id, AIRINGS_SHOWN).await?;
    Ok(BulletinDetail {
        bulletin: BulletinView::from(&b),
        airings: rows
            .iter()
            .filter(|r| caller.sees(&r.station))
            .map(Airing::from)
            .collect(),
    })
}

/// The station an action on `b` is about, for the audit and the rule: the one a commune
/// user's bulletin targets (its first that the caller sees), else none.
fn station_of(caller: &Caller, b: &Bulletin) -> Option<String> {
    b.meta.stations.iter().find(|s| caller.sees(s)).cloned()
}

/// Refuses `action` unless `caller`'s role may take it.
fn allow(caller: &Caller, action: Action, station: Option<&str>) -> Result<(), LibraryError> {
    match caller.decide(action, station) {
        Decision::Allowed => Ok(()),
        Decision::Hidden => Err(LibraryError::UnknownStation(
            station.unwrap_or_default().to_string(),
        )),
        Decision::Forbidden => Err(LibraryError::Forbidden(caller.role(), action)),
    }
}

/// Records `draft` in the audit trail.
async fn record(state: &AppState, draft: AuditDraft) -> Result<(), LibraryError> {
    state
        .store
        .append_audit(&draft)
        .await
        .map(|_| ())
        .map_err(LibraryError::from)
}

/// The JSON text of a state, for the audit's before and after.
fn state_json(s: ApprovalState) -> String {
    serde_json::json!({ "state": s }).to_string()
}

/// Moves bulletin `id` to `to` (approve or retire) for `caller`, audited.
pub async fn change_state(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    id: &str,
    to: ApprovalState,
) -> Result<Bulletin, LibraryError> {
    let action = match to {
        ApprovalState::Retired => Action::Retire,
        _ => Action::Approve,
    };
    let b = get(state, caller, id).await?;
    let station = station_of(caller, &b);
    allow(caller, action, station.as_deref())?;
    let change = StateChange {
        by: caller.name(),
        at: state.clock.now(),
    };
    let after = state.store.set_state(&b.id, to, &change).await?;
    let mut draft = caller.audit(state, client, action, station.as_deref(), b.id.as_str());
    draft.before = Some(state_json(b.state));
    draft.after = Some(state_json(after.state));
    record(state, draft).await?;
    Ok(after)
}

/// Removes bulletin `id` (never aired) with its audio, for `caller`, audited.
pub async fn remove(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    id: &str,
) -> Result<Bulletin, LibraryError> {
    let b = get(state, caller, id).await?;
    let station = station_of(caller, &b);
    allow(caller, Action::Remove, station.as_deref())?;
    let gone = crate::library::service::remove(state.store.as_ref(), &state.audio, &b.id).await?;
    let mut draft = caller.audit(
        state,
        client,
        Action::Remove,
        station.as_deref(),
        b.id.as_str(),
    );
    draft.before = serde_json::to_string(&BulletinView::from(&gone)).ok();
    record(state, draft).await?;
    Ok(gone)
}

/// The metadata fields an edit may change; an absent field stays as it is.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EditForm {
    /// A new title.
    #[serde(default)]
    pub title: Option<String>,
    /// A new producer unit (empty clears it).
    #[serde(default)]
    pub producer: Option<String>,
    /// A new first day, YYYY-MM-DD (empty clears it).
    #[serde(default)]
    pub valid_from: Option<String>,
    /// A new last day, YYYY-MM-DD (empty clears it).
    #[serde(default)]
    pub valid_until: Option<String>,
    /// New target stations, comma-separated codes (empty: every station).
    #[serde(default)]
    pub stations: Option<String>,
    /// New notes (empty clears them).
    #[serde(default)]
    pub notes: Option<String>,
}

/// A date field: `YYYY-MM-DD` (what a date input sends) or `dd/mm/yyyy`; empty is none.
pub fn parse_date(field: &'static str, s: &str) -> Result<Option<NaiveDate>, LibraryError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| LibraryError::BadValue {
            field,
            given: s.chars().take(40).collect(),
            allowed: "dd/mm/yyyy".into(),
        })
}

/// Splits a comma-separated station list.
pub fn split_stations(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl EditForm {
    /// The edit asked for.
    pub fn to_edit(&self) -> Result<MetaEdit, LibraryError> {
        Ok(MetaEdit {
            title: self.title.clone(),
            producer: self.producer.clone(),
            valid_from: self
                .valid_from
                .as_deref()
                .map(|s| parse_date("valid_from", s))
                .transpose()?,
            valid_until: self
                .valid_until
                .as_deref()
                .map(|s| parse_date("valid_until", s))
                .transpose()?,
            stations: self.stations.as_deref().map(split_stations),
            notes: self.notes.clone(),
        })
    }
}

/// Corrects bulletin `id`'s metadata for `caller`, audited with the fields changed.
pub async fn edit(
    state: &AppState,
    caller: &Caller,
    client: &Client,
    id: &str,
    form: &EditForm,
) -> Result<Bulletin, LibraryError> {
    let b = get(state, caller, id).await?;
    let station = station_of(caller, &b);
    allow(caller, Action::Edit, station.as_deref())?;
    let edit = form.to_edit()?;
    if let Some(unknown) = edit
        .stations
        .iter()
        .flatten()
        .find(|s| state.plan.station(s).is_none())
    {
        return Err(LibraryError::UnknownStation(unknown.clone()));
    }
    let change = StateChange {
        by: caller.name(),
        at: state.clock.now(),
    };
    let edited = state
        .store
        .edit_bulletin(&b.id, &edit, &change)
        .await
        .map_err(|e| match e {
            EditError::Store(s) => LibraryError::from(s),
            EditError::NotFound(id) => LibraryError::NotFound(id.to_string()),
            other => LibraryError::Edit(other),
        })?;
    if !edited.changes.is_empty() {
        let mut draft = caller.audit(
            state,
            client,
            Action::Edit,
            station.as_deref(),
            b.id.as_str(),
        );
        let side = |old: bool| {
            let m: serde_json::Map<String, serde_json::Value> = edited
                .changes
                .iter()
                .map(|c| {
                    let v = if old { &c.old } else { &c.new };
                    (c.field.as_str().to_string(), v.clone().into())
                })
                .collect();
            serde_json::Value::Object(m).to_string()
        };
        draft.before = Some(side(true));
        draft.after = Some(side(false));
        record(state, draft).await?;
    }
    Ok(edited.bulletin)
}

#[cfg(test)]
mod tests;
