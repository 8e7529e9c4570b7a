//! The **Thư viện** pages, in maud: the list with its filters and the upload form, and one
//! bulletin with its analysis, its player, where it aired and the forms that change it.
//! Every word is in [`TEXT_VI`] and [`TEXT_EN`], one table per language, picked by
//! [`text`] from the page's [`Lang`] (the `?lang=` switch or its cookie). Pages take plain
//! values; what the user may do is decided before ([`Abilities`]).

use crate::web::dates::{day_input, show_day};
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
    /// The language the page speaks.
    pub lang: Lang,
}

/// A whole console page in `who`'s language.
fn page(title: &str, who: &Who, body: Markup) -> Markup {
    let role = match who.lang {
        Lang::Vi => who.role.label_vi().to_string(),
        Lang::En => who.role.to_string(),
    };
    page_in(who.lang, title, Some((who.name, &role, who.csrf)), body)
}
use super::{BulletinDetail, LibraryQuery};

/// Where the library's script is served.
pub const JS_PATH: &str = "/assets/library.js";

/// Where the upload form's script asks how far an upload is.
pub const PROGRESS_PATH: &str = "/library/upload-progress";

/// The upload form's script, embedded: sends the form with a bar for the upload, then,
/// while the server measures the files, one bar per file fed by polling
/// [`PROGRESS_PATH`] under an id the script makes for this upload; then shows the
/// answer. Without it the form posts as usual (and no progress is kept).
pub const JS: &str = r#"(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.fetch || !window.crypto) { return; }
  var bar = document.getElementById("upload-progress");
  var label = document.getElementById("upload-status");
  var list = document.getElementById("analysis-progress");
  function newId() {
    var a = new Uint8Array(16), s = "";
    window.crypto.getRandomValues(a);
    for (var i = 0; i < a.length; i++) { s += ("0" + a[i].toString(16)).slice(-2); }
    return s;
  }
  function row(i) {
    var li = list.children[i];
    if (li) { return li; }
    li = document.createElement("li");
    li.style.overflowWrap = "anywhere";
    var name = document.createElement("span");
    name.className = "name";
    var p = document.createElement("progress");
    p.max = 100; p.value = 0;
    var pc = document.createElement("span");
    pc.className = "percent";
    li.appendChild(name); li.appendChild(document.createTextNode(" ")); li.appendChild(pc);
    li.appendChild(p);
    list.appendChild(li);
    return li;
  }
  function show(p) {
    list.hidden = false;
    p.files.forEach(function (f, i) {
      var li = row(i), bar = li.querySelector("progress");
      var v = Math.max(Number(bar.getAttribute("value")) || 0, f.percent);
      li.querySelector(".name").textContent = f.name;
      li.querySelector(".percent").textContent = v + " %";
      bar.value = v;
    });
    if (p.stage === "storing" || p.stage === "done") { label.textContent = form.dataset.analysed; }
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var id = newId(), timer = null;
    function poll(then) {
      fetch(form.dataset.progress + "?id=" + id, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) { if (p) { show(p); } })
        .catch(function () {})
        .then(function () { if (then) { then(); } });
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action + "?progress=" + id);
    bar.hidden = false; bar.value = 0; bar.max = 100;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    label.textContent = form.dataset.sending;
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    };
    xhr.upload.onload = function () {
      bar.value = 100;
      label.textContent = form.dataset.analysing;
      poll(null);
      timer = window.setInterval(function () { poll(null); }, 400);
    };
    xhr.onload = function () {
      if (timer) { window.clearInterval(timer); }
      poll(function () {
        document.open(); document.write(xhr.responseText); document.close();
        if (xhr.responseURL) { history.replaceState(null, "", xhr.responseURL); }
      });
    };
    xhr.onerror = function () {
      if (timer) { window.clearInterval(timer); }
      label.textContent = form.dataset.failed; bar.hidden = true;
    };
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
    pub page: &'static str,
    pub prev: &'static str,
    pub next: &'static str,
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
    pub channels: &'static str,
    pub bytes: &'static str,
    pub analysed: &'static str,
    pub refused_title: &'static str,
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
    page: "Trang",
    prev: "‹ Trang trước",
    next: "Trang sau ›",
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
    loudness: "Độ lớn âm thanh (EBU R128)",
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
    channels: "kênh",
    bytes: "byte",
    analysed: "Đã phân tích xong, đang lưu…",
    refused_title: "Không thực hiện được",
};

/// The library's words in English.
pub const TEXT_EN: LibraryText = LibraryText {
    title: "Library",
    filters: "Filter",
    kind: "Kind",
    topic: "Topic",
    state: "State",
    station: "Station",
    text: "Search text",
    any: "Any",
    all_stations: "All stations",
    apply: "Filter",
    none_found: "No bulletin matches.",
    count: "bulletins",
    page: "Page",
    prev: "‹ Previous page",
    next: "Next page ›",
    upload: "Upload bulletins",
    files: "Audio files (several may be chosen)",
    files_hint: "At most per file",
    upload_title: "Title",
    upload_title_hint:
        "only when uploading one file; if empty, taken from the tag or the file name",
    producer: "Producer unit",
    valid_from: "Valid from",
    valid_until: "Valid until",
    stations: "Stations",
    stations_hint: "station codes, separated by commas; empty means every station",
    priority: "Broadcast level",
    notes: "Notes",
    approve_now: "Approve now",
    send: "Upload",
    sending: "Uploading…",
    analysing: "Uploaded; the server is analysing the audio…",
    failed: "The connection was lost while uploading; nothing was stored.",
    uploaded: "Added to the library",
    draft_note:
        "Bulletins uploaded by a commune are drafts until the district station approves them.",
    choose: "— choose —",
    analysis: "Audio analysis",
    length: "Length",
    loudness: "Loudness (EBU R128)",
    peak: "True peak",
    silence: "Leading / trailing silence",
    silence_fmt: "ms",
    format: "Format",
    sha256: "SHA-256",
    file: "Original file",
    added: "Added by",
    approved: "Approved by",
    listen: "Listen",
    no_audio: "The browser cannot play this audio.",
    aired: "Where it aired",
    never_aired: "It has not aired yet.",
    when: "Time",
    played: "Played",
    status: "Result",
    actions: "Actions",
    do_approve: "Approve",
    do_retire: "Retire",
    do_remove: "Remove",
    remove_note: "Only a bulletin that never aired can be removed.",
    edit: "Edit details",
    save: "Save",
    back: "Back to the library",
    every_station: "every station",
    done: "Done",
    channels: "channels",
    bytes: "bytes",
    analysed: "Analysed; storing…",
    refused_title: "Could not be done",
};

/// The library's words in `lang`.
pub fn text(lang: Lang) -> &'static LibraryText {
    match lang {
        Lang::Vi => &TEXT_VI,
        Lang::En => &TEXT_EN,
    }
}

/// A kind's name in `lang`.
fn kind_name(lang: Lang, k: Kind) -> String {
    crate::report::labels::kind_one(lang, k).to_string()
}

/// A topic's name in `lang`, with its clause.
fn topic_name(lang: Lang, t: Topic) -> String {
    crate::report::labels::topic(lang, t)
}

/// A broadcast level's name in `lang`.
fn priority_name(lang: Lang, p: Priority) -> String {
    match lang {
        Lang::Vi => p.label_vi().to_string(),
        Lang::En => p.as_str().to_string(),
    }
}

/// An approval state's name in `lang`.
fn state_name(lang: Lang, s: ApprovalState) -> String {
    match lang {
        Lang::Vi => s.label_vi().to_string(),
        Lang::En => s.as_str().to_string(),
    }
}

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

/// An airing's result in `lang`.
fn airing_status(lang: Lang, r: &super::Airing) -> String {
    use crate::lang::Render;
    match (lang, r.status.parse::<crate::airlog::AirStatus>()) {
        (Lang::En, Ok(s)) => s.render(Lang::En),
        _ => r.status_vi.clone(),
    }
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
    label: &dyn Fn(T) -> String,
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
    /// The bulletins of the page shown.
    pub bulletins: &'a [&'a Bulletin],
    /// How many match the filters in all.
    pub total: usize,
    /// The page shown (from 1).
    pub page: usize,
    /// How many pages there are.
    pub pages: usize,
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
    let lang = p.who.lang;
    let t = text(lang);
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
                        data-sending=(t.sending) data-analysing=(t.analysing) data-failed=(t.failed)
                        data-analysed=(t.analysed) data-progress=(PROGRESS_PATH) {
                        input type="hidden" name="csrf_token" value=(p.who.csrf);
                        label for="file" { (t.files) }
                        input #file type="file" name="file" multiple required
                            accept="audio/*,.mp3,.wav,.flac,.ogg,.m4a,.mp4";
                        p.muted { (t.files_hint) " " (p.upload_max_mb) " MB." }
                        (errors_at(problem, "file"))
                        label for="kind" { (t.kind) }
                        (select("kind", Kind::ALL, Kind::as_str, &|k| kind_name(lang, k),
                            Some(value("kind").as_str()), t.choose, true))
                        (errors_at(problem, "kind"))
                        label for="topic" { (t.topic) }
                        (select("topic", Topic::ALL, Topic::as_str, &|x| topic_name(lang, x),
                            Some(value("topic").as_str()), t.choose, true))
                        (errors_at(problem, "topic"))
                        label for="title" { (t.upload_title) " " span.muted { "(" (t.upload_title_hint) ")" } }
                        input #title type="text" name="title" value=(value("title"));
                        (errors_at(problem, "title"))
                        label for="producer" { (t.producer) }
                        input #producer type="text" name="producer" value=(value("producer"));
                        (errors_at(problem, "producer"))
                        label for="valid_from" { (t.valid_from) }
                        (day_input("valid_from", &value("valid_from"), None))
                        (errors_at(problem, "valid_from"))
                        label for="valid_until" { (t.valid_until) }
                        (day_input("valid_until", &value("valid_until"), None))
                        (errors_at(problem, "valid_until"))
                        label for="stations" { (t.stations) " " span.muted { "(" (t.stations_hint) ")" } }
                        input #stations type="text" name="stations" value=(value("stations"));
                        (errors_at(problem, "stations"))
                        label for="priority" { (t.priority) }
                        (select("priority", Priority::ALL, Priority::as_str, &|x| priority_name(lang, x),
                            Some(value("priority").as_str()).filter(|v| !v.is_empty()).or(Some("normal")), t.choose, false))
                        (errors_at(problem, "priority"))
                        label for="notes" { (t.notes) }
                        input #notes type="text" name="notes" value=(value("notes"));
                        (errors_at(problem, "notes"))
                        @if p.can.manage {
                            label { input type="checkbox" name="approve" value="1"; " " (t.approve_now) }
                        }
                        @if p.confined { p.muted { (t.draft_note) } }
                        p { button type="submit" { (t.send) } }
                        p { progress #upload-progress hidden max="100" {} " " span #upload-status role="status" {} }
                        ul #analysis-progress hidden aria-label=(t.analysis) {}
                    }
                }
            }
            // Without JavaScript the filters are a plain GET form; with htmx a change (or
            // typing in the text box) fetches the same page and swaps in only its results,
            // keeping the address in step.
            form.card method="get" action="/library"
                hx-get="/library" hx-target="#results" hx-select="#results" hx-swap="outerHTML"
                hx-push-url="true"
                hx-trigger="change, input changed delay:400ms from:#f-q, submit" {
                h2 { (t.filters) }
                @if let Some(e) = &p.filter_error { p.error role="alert" { (e) } }
                div.filters {
                    div { label for="f-kind" { (t.kind) }
                        (select_id("f-kind", "kind", Kind::ALL, Kind::as_str, &|k| kind_name(lang, k), q.kind.as_deref(), t.any)) }
                    div { label for="f-topic" { (t.topic) }
                        (select_id("f-topic", "topic", Topic::ALL, Topic::as_str, &|x| topic_name(lang, x), q.topic.as_deref(), t.any)) }
                    div { label for="f-state" { (t.state) }
                        (select_id("f-state", "state", ApprovalState::ALL, ApprovalState::as_str, &|x| state_name(lang, x), q.state.as_deref(), t.any)) }
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
            div #results aria-live="polite" {
                p.muted { (p.total) " " (t.count)
                    @if p.pages > 1 { " · " (t.page) " " (p.page) "/" (p.pages) } }
                @if p.bulletins.is_empty() { p.card { (t.none_found) } }
                ul.items {
                    @for b in p.bulletins {
                        li.card {
                            a href=(format!("/library/{}", b.id)) { strong { (b.meta.title) } }
                            " " span class=(state_class(b.state)) { (state_name(lang, b.state)) }
                            br;
                            span.muted {
                                (kind_name(lang, b.meta.kind)) " · " (b.meta.topic.clause()) " · "
                                (length(b.audio.duration_ms)) " · "
                                @if b.meta.stations.is_empty() { (t.every_station) } @else { (b.meta.stations.join(", ")) }
                                @if !b.meta.producer.is_empty() { " · " (b.meta.producer) }
                            }
                        }
                    }
                }
                @if p.pages > 1 {
                    nav.pager {
                        @if p.page > 1 { a href=(page_link(q, p.page - 1)) rel="prev" { (t.prev) } }
                        " " span.muted { (t.page) " " (p.page) "/" (p.pages) } " "
                        @if p.page < p.pages { a href=(page_link(q, p.page + 1)) rel="next" { (t.next) } }
                    }
                }
            }
            script src=(crate::web::assets::HTMX_PATH) {}
            script src=(JS_PATH) {}
        },
    )
}

/// The list's address with the same filters on page `n`.
fn page_link(q: &LibraryQuery, n: usize) -> String {
    let mut parts = vec![];
    for (k, v) in [
        ("kind", &q.kind),
        ("topic", &q.topic),
        ("state", &q.state),
        ("station", &q.station),
        ("q", &q.q),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", crate::web::operator::encode(v)));
        }
    }
    parts.push(format!("page={n}"));
    format!("/library?{}", parts.join("&"))
}

/// A filter `<select>` with its own id.
fn select_id<T: Copy + PartialEq>(
    id: &str,
    name: &str,
    all: &[T],
    wire: fn(T) -> &'static str,
    label: &dyn Fn(T) -> String,
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
    let lang = p.who.lang;
    let t = text(lang);
    let b = &p.detail.bulletin;
    let a = &b.analysis;
    let csrf = p.who.csrf;
    let err = |field: &str| -> Markup {
        html! {
            @if let Some((f, e)) = &p.error {
                @if *f == field { p.error role="alert" id=(format!("{field}-error")) { (e) } }
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
                h2 { (b.title) " " span class=(state_class(b.state)) { (state_name(lang, b.state)) } }
                p.muted {
                    (kind_name(lang, b.kind)) " · " (topic_name(lang, b.topic))
                    " · " (priority_name(lang, b.priority))
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
                    dt { (t.format) } dd { (a.codec) ", " (a.sample_rate) " Hz, " (a.channels) " " (t.channels) ", " (a.size_bytes) " " (t.bytes) }
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
                                        td { (airing_status(lang, r)) }
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
                        (day_input("valid_from", &b.valid_from.map(show_day).unwrap_or_default(), None))
                        (err("valid_from"))
                        label for="valid_until" { (t.valid_until) }
                        (day_input("valid_until", &b.valid_until.map(show_day).unwrap_or_default(), None))
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

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_vietnamese_words_hold_no_english_and_the_english_no_vietnamese() {
        crate::lang::tests::check_word_tables(
            "library page",
            &format!("{TEXT_VI:?}"),
            &format!("{TEXT_EN:?}"),
        );
    }
}
