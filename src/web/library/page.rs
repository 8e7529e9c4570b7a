//! The **Thư viện** pages, in maud: the list with its filters and the upload form, and one
//! bulletin with its analysis, its player, where it aired and the forms that change it.
//! Every word is in [`TEXT_VI`], one table, so the English switch swaps the table. Pages
//! take plain values; what the user may do is decided before ([`Abilities`]).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};

use crate::library::{ApprovalState, Bulletin, Kind, Priority, Topic};

use super::super::api::stations::StationInfo;
use crate::access::Role;
use crate::lang::Lang;

use super::super::pages::page_in;

/// The logged-in user a page is drawn for.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    /// The account name.
    pub name: &'a str,
    /// Its role.
    pub role: Role,
    /// The session's CSRF token, for the page's forms.
    pub csrf: &'a str,
}

/// A whole console page in Vietnamese for `who`.
fn page(title: &str, who: &Who, body: Markup) -> Markup {
    page_in(
        Lang::Vi,
        title,
        Some((who.name, who.role.label_vi(), who.csrf)),
        body,
    )
}
use super::{BulletinDetail, LibraryQuery};

/// Where the library's script is served.
pub const JS_PATH: &str = "/assets/library.js";

/// The upload form's script, embedded: sends the form with a progress bar for the upload,
/// then an indeterminate one while the server analyses, and shows the answer. Without it
/// the form posts as usual.
pub const JS: &str = r#"(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var bar = document.getElementById("upload-progress");
  var label = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false; bar.value = 0; bar.max = 100;
    label.textContent = form.dataset.sending;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    };
    xhr.upload.onload = function () {
      bar.removeAttribute("value");
      label.textContent = form.dataset.analysing;
    };
    xhr.onload = function () {
      document.open(); document.write(xhr.responseText); document.close();
      if (xhr.responseURL) { history.replaceState(null, "", xhr.responseURL); }
    };
    xhr.onerror = function () { label.textContent = form.dataset.failed; bar.hidden = true; };
    xhr.send(new FormData(form));
  });
})();
"#;

/// The words of the library pages, one table per language.
#[derive(Debug)]
pub struct LibraryText {
    pub title: &'static str,
    pub filters: &'static str,
    pub kind: &'static str,
    pub topic: &'static str,
    pub state: &'static str,
    pub station: &'static str,
    pub text: &'static str,
    pub any: &'static str,
    pub all_stations: &'static str,
    pub apply: &'static str,
    pub none_found: &'static str,
    pub count: &'static str,
    pub upload: &'static str,
    pub files: &'static str,
    pub files_hint: &'static str,
    pub upload_title: &'static str,
    pub upload_title_hint: &'static str,
    pub producer: &'static str,
    pub valid_from: &'static str,
    pub valid_until: &'static str,
    pub stations: &'static str,
    pub stations_hint: &'static str,
    pub priority: &'static str,
    pub notes: &'static str,
    pub approve_now: &'static str,
    pub send: &'static str,
    pub sending: &'static str,
    pub analysing: &'static str,
    pub failed: &'static str,
    pub uploaded: &'static str,
    pub draft_note: &'static str,
    pub choose: &'static str,
    pub analysis: &'static str,
    pub length: &'static str,
    pub loudness: &'static str,
    pub peak: &'static str,
    pub silence: &'static str,
    pub silence_fmt: &'static str,
    pub format: &'static str,
    pub sha256: &'static str,
    pub file: &'static str,
    pub added: &'static str,
    pub approved: &'static str,
    pub listen: &'static str,
    pub no_audio: &'static str,
    pub aired: &'static str,
    pub never_aired: &'static str,
    pub when: &'static str,
    pub played: &'static str,
    pub status: &'static str,
    pub actions: &'static str,
    pub do_approve: &'static str,
    pub do_retire: &'static str,
    pub do_remove: &'static str,
    pub remove_note: &'static str,
    pub edit: &'static str,
    pub save: &'static str,
    pub back: &'static str,
    pub every_station: &'static str,
    pub done: &'static str,
}

/// The library's words in Vietnamese.
pub const TEXT_VI: LibraryText = LibraryText {
    title: "Thư viện",
    filters: "Lọc",
    kind: "Loại",
    topic: "Chủ đề",
    state: "Trạng thái",
    station: "Đài",
    text: "Tìm chữ",
    any: "Tất cả",
    all_stations: "Mọi đài",
    apply: "Lọc",
    none_found: "Không có bản tin nào khớp.",
    count: "bản tin",
    upload: "Tải lên bản tin",
    files: "Tệp âm thanh (chọn được nhiều tệp)",
    files_hint: "Tối đa mỗi tệp",
    upload_title: "Tiêu đề",
    upload_title_hint: "chỉ khi tải một tệp; để trống thì lấy từ thẻ hoặc tên tệp",
    producer: "Đơn vị sản xuất",
    valid_from: "Hiệu lực từ",
    valid_until: "Hiệu lực đến",
    stations: "Đài phát",
    stations_hint: "mã đài, cách nhau bằng dấu phẩy; để trống là mọi đài",
    priority: "Mức phát",
    notes: "Ghi chú",
    approve_now: "Duyệt ngay",
    send: "Tải lên",
    sending: "Đang tải lên…",
    analysing: "Đã tải xong, máy chủ đang phân tích âm thanh…",
    failed: "Mất kết nối khi tải lên; chưa có gì được lưu.",
    uploaded: "Đã thêm vào thư viện",
    draft_note: "Bản tin tải lên từ xã là bản nháp, chờ đài huyện duyệt.",
    choose: "— chọn —",
    analysis: "Phân tích âm thanh",
    length: "Độ dài",
    loudness: "Độ to (EBU R128)",
    peak: "Đỉnh thực",
    silence: "Khoảng lặng đầu / cuối",
    silence_fmt: "ms",
    format: "Định dạng",
    sha256: "SHA-256",
    file: "Tệp gốc",
    added: "Thêm bởi",
    approved: "Duyệt bởi",
    listen: "Nghe thử",
    no_audio: "Trình duyệt không phát được âm thanh này.",
    aired: "Đã phát ở đâu",
    never_aired: "Chưa phát lần nào.",
    when: "Thời gian",
    played: "Đã phát",
    status: "Kết quả",
    actions: "Thao tác",
    do_approve: "Duyệt",
    do_retire: "Ngừng phát",
    do_remove: "Xóa",
    remove_note: "Chỉ xóa được bản tin chưa phát lần nào.",
    edit: "Sửa thông tin",
    save: "Lưu",
    back: "Về thư viện",
    every_station: "mọi đài",
    done: "Đã thực hiện",
};

/// What the user may do on the library pages (decided by the rules, not here).
#[derive(Debug, Clone, Copy)]
pub struct Abilities {
    /// Upload files.
    pub upload: bool,
    /// Approve, retire, remove and edit.
    pub manage: bool,
}

/// A date as dd/mm/yyyy.
fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// An instant in `tz`, dd/mm/yyyy HH:MM.
fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

/// A stored RFC 3339 instant in `tz`, dd/mm/yyyy HH:MM:SS.
fn local_text(t: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(t)
        .map(|t| t.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// A length, m:ss.
fn length(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A measurement with one decimal and its unit, or a dash.
fn measure(v: Option<f64>, unit: &str) -> String {
    v.map(|v| format!("{v:.1} {unit}"))
        .unwrap_or_else(|| "—".into())
}

/// The state's badge class.
fn state_class(s: ApprovalState) -> &'static str {
    match s {
        ApprovalState::Draft => "state draft",
        ApprovalState::Approved => "state playing",
        ApprovalState::Retired => "state retired",
    }
}

/// A `<select>` of a vocabulary with "any" (or "choose") first.
fn select<T: Copy + PartialEq>(
    name: &str,
    all: &[T],
    wire: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    chosen: Option<&str>,
    first: &str,
    required: bool,
) -> Markup {
    html! {
        select id=(name) name=(name) required[required] {
            option value="" { (first) }
            @for v in all {
                option value=(wire(*v)) selected[chosen == Some(wire(*v))] { (label(*v)) }
            }
        }
    }
}

/// An upload's outcome shown above the list.
pub enum Flash<'a> {
    /// Nothing to say.
    None,
    /// Files were added: their titles.
    Uploaded(&'a [String]),
    /// An action was done.
    Done,
}

/// The refusal of an upload, shown at its field, with the values given.
pub struct UploadProblem<'a> {
    /// The field the sentences belong at.
    pub field: &'static str,
    /// The sentences (one per refused file).
    pub sentences: Vec<String>,
    /// The values the form carried, to fill it again.
    pub values: &'a BTreeMap<String, String>,
}

/// The errors of `field`, when the problem is there.
fn errors_at(problem: Option<&UploadProblem>, field: &str) -> Markup {
    html! {
        @if let Some(p) = problem.filter(|p| p.field == field) {
            @for s in &p.sentences {
                p.error role="alert" id=(format!("{field}-error")) { (s) }
            }
        }
    }
}

/// The list page's values.
pub struct ListPage<'a> {
    /// The user.
    pub who: &'a Who<'a>,
    /// What the user may do.
    pub can: Abilities,
    /// The filters as given.
    pub query: &'a LibraryQuery,
    /// A filter's refusal.
    pub filter_error: Option<String>,
    /// The stations the user sees.
    pub stations: &'a [StationInfo],
    /// The bulletins to list.
    pub bulletins: &'a [Bulletin],
    /// The per-file upload limit, MB.
    pub upload_max_mb: u64,
    /// What happened just before.
    pub flash: Flash<'a>,
    /// An upload refused.
    pub problem: Option<UploadProblem<'a>>,
    /// Whether the user is confined to its stations (its uploads are drafts).
    pub confined: bool,
}

/// **Thư viện**: filters, the upload form, the bulletins.
pub fn list(p: &ListPage) -> Markup {
    let t = &TEXT_VI;
    let q = p.query;
    let value = |k: &str| {
        p.problem
            .as_ref()
            .and_then(|pr| pr.values.get(k).cloned())
            .unwrap_or_default()
    };
    let problem = p.problem.as_ref();
    page(
        t.title,
        p.who,
        html! {
            @match p.flash {
                Flash::Uploaded(titles) => {
                    div.card role="status" {
                        p { (t.uploaded) ": " }
                        ul { @for title in titles { li { (title) } } }
                    }
                }
                Flash::Done => { p.card role="status" { (t.done) } }
                Flash::None => {}
            }
            @if p.can.upload {
                details.card open[problem.is_some()] {
                    summary { h2 style="display:inline" { (t.upload) } }
                    form #upload-form method="post" action="/library/upload"
                        enctype="multipart/form-data"
                        data-sending=(t.sending) data-analysing=(t.analysing) data-failed=(t.failed) {
                        input type="hidden" name="csrf_token" value=(p.who.csrf);
                        label for="file" { (t.files) }
                        input #file type="file" name="file" multiple required
                            accept="audio/*,.mp3,.wav,.flac,.ogg,.m4a,.mp4";
                        p.muted { (t.files_hint) " " (p.upload_max_mb) " MB." }
                        (errors_at(problem, "file"))
                        label for="kind" { (t.kind) }
                        (select("kind", Kind::ALL, Kind::as_str, Kind::label_vi,
                            Some(value("kind").as_str()), t.choose, true))
                        (errors_at(problem, "kind"))
                        label for="topic" { (t.topic) }
                        (select("topic", Topic::ALL, Topic::as_str, Topic::label_vi,
                            Some(value("topic").as_str()), t.choose, true))
                        (errors_at(problem, "topic"))
                        label for="title" { (t.upload_title) " " span.muted { "(" (t.upload_title_hint) ")" } }
                        input #title type="text" name="title" value=(value("title"));
                        (errors_at(problem, "title"))
                        label for="producer" { (t.producer) }
                        input #producer type="text" name="producer" value=(value("producer"));
                        (errors_at(problem, "producer"))
                        label for="valid_from" { (t.valid_from) }
                        input #valid_from type="date" name="valid_from" value=(value("valid_from"));
                        (errors_at(problem, "valid_from"))
                        label for="valid_until" { (t.valid_until) }
                        input #valid_until type="date" name="valid_until" value=(value("valid_until"));
                        (errors_at(problem, "valid_until"))
                        label for="stations" { (t.stations) " " span.muted { "(" (t.stations_hint) ")" } }
                        input #stations type="text" name="stations" value=(value("stations"));
                        (errors_at(problem, "stations"))
                        label for="priority" { (t.priority) }
                        (select("priority", Priority::ALL, Priority::as_str, Priority::label_vi,
                            Some(value("priority").as_str()).filter(|v| !v.is_empty()).or(Some("normal")), t.choose, false))
                        label for="notes" { (t.notes) }
                        input #notes type="text" name="notes" value=(value("notes"));
                        @if p.can.manage {
                            label { input type="checkbox" name="approve" value="1"; " " (t.approve_now) }
                        }
                        @if p.confined { p.muted { (t.draft_note) } }
                        p { button type="submit" { (t.send) } }
                        p { progress #upload-progress hidden max="100" {} " " span #upload-status role="status" {} }
                    }
                }
            }
            form.card method="get" action="/library" {
                h2 { (t.filters) }
                @if let Some(e) = &p.filter_error { p.error role="alert" { (e) } }
                div.filters {
                    div { label for="f-kind" { (t.kind) }
                        (select_id("f-kind", "kind", Kind::ALL, Kind::as_str, Kind::label_vi, q.kind.as_deref(), t.any)) }
                    div { label for="f-topic" { (t.topic) }
                        (select_id("f-topic", "topic", Topic::ALL, Topic::as_str, Topic::label_vi, q.topic.as_deref(), t.any)) }
                    div { label for="f-state" { (t.state) }
                        (select_id("f-state", "state", ApprovalState::ALL, ApprovalState::as_str, ApprovalState::label_vi, q.state.as_deref(), t.any)) }
                    div { label for="f-station" { (t.station) }
                        select #f-station name="station" {
                            option value="" { (t.all_stations) }
                            @for s in p.stations {
                                option value=(s.code) selected[q.station.as_deref() == Some(s.code.as_str())] { (s.name) }
                            }
                        }
                    }
                    div { label for="f-q" { (t.text) }
                        input #f-q type="text" name="q" value=(q.q.clone().unwrap_or_default()); }
                }
                p { button type="submit" { (t.apply) } }
            }
            p.muted { (p.bulletins.len()) " " (t.count) }
            @if p.bulletins.is_empty() { p.card { (t.none_found) } }
            ul.items {
                @for b in p.bulletins {
                    li.card {
                        a href=(format!("/library/{}", b.id)) { strong { (b.meta.title) } }
                        " " span class=(state_class(b.state)) { (b.state.label_vi()) }
                        br;
                        span.muted {
                            (b.meta.kind.label_vi()) " · " (b.meta.topic.clause()) " · "
                            (length(b.audio.duration_ms)) " · "
                            @if b.meta.stations.is_empty() { (t.every_station) } @else { (b.meta.stations.join(", ")) }
                            @if !b.meta.producer.is_empty() { " · " (b.meta.producer) }
                        }
                    }
                }
            }
            script src=(JS_PATH) {}
        },
    )
}

/// A filter `<select>` with its own id.
fn select_id<T: Copy + PartialEq>(
    id: &str,
    name: &str,
    all: &[T],
    wire: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    chosen: Option<&str>,
    first: &str,
) -> Markup {
    html! {
        select id=(id) name=(name) {
            option value="" { (first) }
            @for v in all {
                option value=(wire(*v)) selected[chosen == Some(wire(*v))] { (label(*v)) }
            }
        }
    }
}

/// One bulletin's page values.
pub struct DetailPage<'a> {
    /// The user.
    pub who: &'a Who<'a>,
    /// What the user may do.
    pub can: Abilities,
    /// The bulletin and its airings.
    pub detail: &'a BulletinDetail,
    /// The zone of times not tied to a station.
    pub tz: Tz,
    /// The zone of each station.
    pub station_tz: &'a dyn Fn(&str) -> Tz,
    /// A refusal of the last action, at its field (`actions` or an edit field).
    pub error: Option<(&'static str, String)>,
    /// Whether an action was just done.
    pub done: bool,
}

/// One bulletin: analysis, player, airings, actions and the edit form.
pub fn detail(p: &DetailPage) -> Markup {
    let t = &TEXT_VI;
    let b = &p.detail.bulletin;
    let a = &b.analysis;
    let csrf = p.who.csrf;
    let err = |field: &str| -> Markup {
        html! {
            @if let Some((f, e)) = &p.error {
                @if *f == field { p.error role="alert" { (e) } }
            }
        }
    };
    page(
        &b.title,
        p.who,
        html! {
            p { a href="/library" { "← " (t.back) } }
            @if p.done { p.card role="status" { (t.done) } }
            section.card {
                h2 { (b.title) " " span class=(state_class(b.state)) { (b.state.label_vi()) } }
                p.muted {
                    (b.kind.label_vi()) " · " (b.topic.clause()) " " (b.topic.label_vi())
                    " · " (b.priority.label_vi())
                }
                p { (t.stations) ": "
                    @if b.stations.is_empty() { (t.every_station) } @else { (b.stations.join(", ")) } }
                @if b.valid_from.is_some() || b.valid_until.is_some() {
                    p { (t.valid_from) " " (date(b.valid_from)) " · " (t.valid_until) " " (date(b.valid_until)) }
                }
                @if !b.producer.is_empty() { p { (t.producer) ": " (b.producer) } }
                @if !b.notes.is_empty() { p { (t.notes) ": " (b.notes) } }
                p.muted { (t.added) " " (b.added_by) ", " (local(b.added_at, p.tz)) }
                @if let (Some(by), Some(at)) = (&b.approved_by, b.approved_at) {
                    p.muted { (t.approved) " " (by) ", " (local(at, p.tz)) }
                }
            }
            section.card {
                h2 { (t.listen) }
                audio controls preload="none" src=(format!("/library/{}/audio", b.id)) style="width:100%" {
                    (t.no_audio)
                }
            }
            section.card {
                h2 { (t.analysis) }
                dl.facts {
                    dt { (t.length) } dd { (length(a.duration_ms)) " (" (a.duration_ms) " ms)" }
                    dt { (t.loudness) } dd { (measure(a.loudness_lufs, "LUFS")) }
                    dt { (t.peak) } dd { (measure(a.true_peak_dbtp, "dBTP")) }
                    dt { (t.silence) } dd { (a.leading_silence_ms) " / " (a.trailing_silence_ms) " " (t.silence_fmt) }
                    dt { (t.format) } dd { (a.codec) ", " (a.sample_rate) " Hz, " (a.channels) " kênh, " (a.size_bytes) " byte" }
                    dt { (t.file) } dd { (b.original_name) }
                    dt { (t.sha256) } dd.hash { (a.sha256) }
                }
            }
            section.card {
                h2 { (t.aired) }
                @if p.detail.airings.is_empty() {
                    p { (t.never_aired) }
                } @else {
                    div.scroll {
                        table {
                            thead { tr { th { (t.station) } th { (t.when) } th { (t.played) } th { (t.status) } } }
                            tbody {
                                @for r in &p.detail.airings {
                                    tr {
                                        td { (r.station) }
                                        td { (local_text(r.actual_start.as_deref().unwrap_or(&r.planned_start), (p.station_tz)(&r.station))) }
                                        td { (length(r.played_ms.max(0) as u64)) }
                                        td { (r.status_vi) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if p.can.manage {
                section.card {
                    h2 { (t.actions) }
                    (err("actions"))
                    div.actions {
                        @if b.state != ApprovalState::Approved {
                            form method="post" action=(format!("/library/{}/approve", b.id)) {
                                input type="hidden" name="csrf_token" value=(csrf);
                                button type="submit" { (t.do_approve) }
                            }
                        }
                        @if b.state != ApprovalState::Retired {
                            form method="post" action=(format!("/library/{}/retire", b.id)) {
                                input type="hidden" name="csrf_token" value=(csrf);
                                button type="submit" { (t.do_retire) }
                            }
                        }
                        @if p.detail.airings.is_empty() {
                            form method="post" action=(format!("/library/{}/remove", b.id)) {
                                input type="hidden" name="csrf_token" value=(csrf);
                                button.stop type="submit" { (t.do_remove) }
                            }
                        }
                    }
                    p.muted { (t.remove_note) }
                }
                section.card {
                    h2 { (t.edit) }
                    form method="post" action=(format!("/library/{}/edit", b.id)) {
                        input type="hidden" name="csrf_token" value=(csrf);
                        label for="title" { (t.upload_title) }
                        input #title type="text" name="title" value=(b.title) required;
                        (err("title"))
                        label for="producer" { (t.producer) }
                        input #producer type="text" name="producer" value=(b.producer);
                        (err("producer"))
                        label for="valid_from" { (t.valid_from) }
                        input #valid_from type="date" name="valid_from"
                            value=(b.valid_from.map(|d| d.to_string()).unwrap_or_default());
                        (err("valid_from"))
                        label for="valid_until" { (t.valid_until) }
                        input #valid_until type="date" name="valid_until"
                            value=(b.valid_until.map(|d| d.to_string()).unwrap_or_default());
                        (err("valid_until"))
                        label for="stations" { (t.stations) " " span.muted { "(" (t.stations_hint) ")" } }
                        input #stations type="text" name="stations" value=(b.stations.join(","));
                        (err("stations"))
                        label for="notes" { (t.notes) }
                        input #notes type="text" name="notes" value=(b.notes);
                        (err("notes"))
                        p { button type="submit" { (t.save) } }
                    }
                }
            }
        },
    )
}
