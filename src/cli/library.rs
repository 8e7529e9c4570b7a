//! `loa library …`: check files without storing them, add (all-or-nothing), list, show,
//! approve, retire and remove bulletins (`edit` is in [`super::library_edit`]).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::library::audio_store::AudioStore;
use crate::library::service::{self, AddError, AddItem, AddRequest};
use crate::library::{
    analyze, ApprovalState, Bulletin, BulletinId, Kind, Priority, StateChange, Topic,
};
use crate::store::{Added, BulletinFilter, Store};
use crate::text::{cmp_vi, nfc};

use super::output::print_json;
use super::Failure;

/// `loa library` subcommands.
#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// Probe and fully decode files without storing them.
    Check {
        /// Audio files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Add files to the library (all or nothing).
    Add(AddArgs),
    /// Add every file a manifest lists, with its metadata (all or nothing).
    Import {
        /// The manifest (TOML, `[[bulletin]]` entries; see audio/manifest.toml).
        manifest: PathBuf,
        /// Approve at once.
        #[arg(long)]
        approve: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List bulletins.
    List {
        /// Only this kind (news, article, column, spot, jingle).
        #[arg(long)]
        kind: Option<String>,
        /// Only this topic (documents, e_procedures, procedure_control, examples, other).
        #[arg(long)]
        topic: Option<String>,
        /// Only this state (draft, approved, retired).
        #[arg(long)]
        state: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one bulletin.
    Show {
        /// Bulletin id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Correct a bulletin's title, producer, validity, stations or notes (recorded).
    Edit(super::library_edit::EditArgs),
    /// Approve bulletins for broadcast.
    Approve {
        /// Bulletin ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Withdraw bulletins from rotation (kept for the airlog).
    Retire {
        /// Bulletin ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Delete bulletins that never aired, with their audio.
    Remove {
        /// Bulletin ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Flags of `loa library add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Audio files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// news, article, column, spot or jingle.
    #[arg(long)]
    kind: String,
    /// documents, e_procedures, procedure_control, examples or other.
    #[arg(long)]
    topic: String,
    /// Title (one file only); default: the title tag, else the file name.
    #[arg(long)]
    title: Option<String>,
    /// Producing unit, e.g. "Phòng Văn hóa - Thông tin".
    #[arg(long, default_value = "")]
    producer: String,
    /// First day it may air, YYYY-MM-DD.
    #[arg(long)]
    valid_from: Option<String>,
    /// Last day it may air, YYYY-MM-DD.
    #[arg(long)]
    valid_until: Option<String>,
    /// Target station codes, comma-separated (default: all stations).
    #[arg(long, value_delimiter = ',')]
    stations: Vec<String>,
    /// normal, priority or emergency.
    #[arg(long, default_value = "normal")]
    priority: String,
    /// Language of the speech (BCP 47).
    #[arg(long, default_value = "vi")]
    language: String,
    /// Notes.
    #[arg(long, default_value = "")]
    notes: String,
    /// Approve at once.
    #[arg(long)]
    approve: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One entry of `library check --json` (PRODUCT.md's contract).
#[derive(Debug, Serialize)]
struct CheckEntry {
    file: String,
    ok: bool,
    error: Option<String>,
    codec: Option<String>,
    sample_rate: Option<u32>,
    channels: Option<u16>,
    duration_ms: Option<u64>,
    loudness_lufs: Option<f64>,
    loudness_range_lu: Option<f64>,
    true_peak_dbtp: Option<f64>,
    leading_silence_ms: Option<u64>,
    trailing_silence_ms: Option<u64>,
    sha256: Option<String>,
    title: Option<String>,
}

/// Runs a `loa library` command.
pub async fn run(data_dir: &Path, cmd: LibraryCommand) -> Result<(), Failure> {
    match cmd {
        LibraryCommand::Check { files, json } => check(data_dir, &files, json).await,
        LibraryCommand::Add(args) => add(data_dir, args).await,
        LibraryCommand::Import {
            manifest,
            approve,
            json,
        } => import(data_dir, &manifest, approve, json).await,
        LibraryCommand::List {
            kind,
            topic,
            state,
            json,
        } => {
            let filter = BulletinFilter {
                kind: parse_opt(kind.as_deref())?,
                topic: parse_opt(topic.as_deref())?,
                state: parse_opt(state.as_deref())?,
            };
            let (config, store) = open(data_dir).await?;
            let mut list = store.list_bulletins(&filter).await?;
            store.close().await;
            list.sort_by(|a, b| cmp_vi(&a.meta.title, &b.meta.title).then(a.id.cmp(&b.id)));
            if json {
                print_json(&list)
            } else {
                print_table(&config, &list);
                Ok(())
            }
        }
        LibraryCommand::Show { id, json } => {
            let id = parse_id(&id)?;
            let (config, store) = open(data_dir).await?;
            let b = store.bulletin(&id).await;
            let edits = store.bulletin_edits(&id).await;
            store.close().await;
            let b = b?.ok_or_else(|| {
                Failure::input(format!("no bulletin with id {id} in the library"))
            })?;
            let edits = edits?;
            if json {
                let mut v = serde_json::to_value(&b).unwrap_or_default();
                v["edits"] = serde_json::to_value(&edits).unwrap_or_default();
                print_json(&v)
            } else {
                print_details(&config, &b);
                for line in super::library_edit::history_lines(config.timezone, &edits) {
                    println!("Sửa / edited:            {line}");
                }
                Ok(())
            }
        }
        LibraryCommand::Edit(args) => super::library_edit::run(data_dir, args).await,
        LibraryCommand::Approve { ids } => {
            change_state(data_dir, &ids, ApprovalState::Approved).await
        }
        LibraryCommand::Retire { ids } => {
            change_state(data_dir, &ids, ApprovalState::Retired).await
        }
        LibraryCommand::Remove { ids } => {
            let ids = ids
                .iter()
                .map(|s| parse_id(s))
                .collect::<Result<Vec<_>, _>>()?;
            let (config, store) = open(data_dir).await?;
            let audio = AudioStore::new(config.audio_dir());
            let mut failure: Option<Failure> = None;
            for id in &ids {
                match service::remove(store.as_ref(), &audio, id).await {
                    Ok(b) => eprintln!("loa: removed {id} ({})", b.meta.title),
                    Err(e) => {
                        let f = Failure::from(e);
                        let lines = &mut failure
                            .get_or_insert(Failure {
                                code: f.code,
                                lines: vec![],
                            })
                            .lines;
                        lines.extend(f.lines);
                    }
                }
            }
            store.close().await;
            failure.map_or(Ok(()), Err)
        }
    }
}

/// Opens the config and the store of a data dir.
pub(super) async fn open(data_dir: &Path) -> Result<(Config, std::sync::Arc<dyn Store>), Failure> {
    let config = Config::load(data_dir)?;
    let store = crate::store::open(&config.database).await?;
    Ok((config, store))
}

fn parse_opt<T: std::str::FromStr>(s: Option<&str>) -> Result<Option<T>, Failure>
where
    T::Err: std::fmt::Display,
{
    s.map(|s| s.parse::<T>().map_err(Failure::input))
        .transpose()
}

fn parse_id(s: &str) -> Result<BulletinId, Failure> {
    s.parse::<BulletinId>().map_err(Failure::input)
}

fn parse_date(flag: &str, s: Option<&str>) -> Result<Option<NaiveDate>, Failure> {
    s.map(|s| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            Failure::input(format!("{flag} '{s}' is not a date (expected YYYY-MM-DD)"))
        })
    })
    .transpose()
}

async fn check(data_dir: &Path, files: &[PathBuf], json: bool) -> Result<(), Failure> {
    // The check works without a data dir; when one exists its ingest settings apply.
    let opts = match Config::load(data_dir) {
        Ok(c) => c.ingest,
        Err(crate::config::ConfigError::NotInitialised(..)) => Default::default(),
        Err(e) => return Err(e.into()),
    };
    let files = files.to_vec();
    let results = tokio::task::spawn_blocking(move || {
        files
            .iter()
            .map(|f| (f.clone(), analyze(f, &opts)))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| Failure::work(format!("the measuring task failed: {e}")))?;
    let mut refused = Vec::new();
    let mut entries = Vec::new();
    for (file, r) in results {
        let name = file.display().to_string();
        match r {
            Ok(a) => {
                let title = a
                    .tag_title
                    .clone()
                    .or_else(|| file.file_stem().map(|s| nfc(&s.to_string_lossy())));
                if !json {
                    println!(
                        "{name}: ok, {} {} Hz {} ch, {}, {} LUFS, LRA {} LU, peak {} dBTP, silence {} ms / {} ms",
                        a.codec,
                        a.sample_rate,
                        a.channels,
                        crate::library::ingest::format_position(a.duration_ms),
                        fmt_opt(a.loudness_lufs),
                        fmt_opt(a.loudness_range_lu),
                        fmt_opt(a.true_peak_dbtp),
                        a.leading_silence_ms,
                        a.trailing_silence_ms
                    );
                }
                entries.push(CheckEntry {
                    file: name,
                    ok: true,
                    error: None,
                    codec: Some(a.codec),
                    sample_rate: Some(a.sample_rate),
                    channels: Some(a.channels),
                    duration_ms: Some(a.duration_ms),
                    loudness_lufs: a.loudness_lufs,
                    loudness_range_lu: a.loudness_range_lu,
                    true_peak_dbtp: a.true_peak_dbtp,
                    leading_silence_ms: Some(a.leading_silence_ms),
                    trailing_silence_ms: Some(a.trailing_silence_ms),
                    sha256: Some(a.sha256),
                    title,
                });
            }
            Err(e) => {
                refused.push(e.to_string());
                entries.push(CheckEntry {
                    file: name,
                    ok: false,
                    error: Some(e.to_string()),
                    codec: None,
                    sample_rate: None,
                    channels: None,
                    duration_ms: None,
                    loudness_lufs: None,
                    loudness_range_lu: None,
                    true_peak_dbtp: None,
                    leading_silence_ms: None,
                    trailing_silence_ms: None,
                    sha256: None,
                    title: None,
                });
            }
        }
    }
    if json {
        print_json(&entries)?;
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 2,
            lines: refused,
        })
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

async fn add(data_dir: &Path, a: AddArgs) -> Result<(), Failure> {
    let title = a.title.map(|t| nfc(t.trim())).filter(|t| !t.is_empty());
    if title.is_some() && a.files.len() > 1 {
        return Err(Failure::input(format!(
            "--title names one bulletin but {} files were given; add them one at a time or let each take its own title",
            a.files.len()
        )));
    }
    let kind = a.kind.parse::<Kind>().map_err(Failure::input)?;
    let topic = a.topic.parse::<Topic>().map_err(Failure::input)?;
    let priority = a.priority.parse::<Priority>().map_err(Failure::input)?;
    let valid_from = parse_date("--valid-from", a.valid_from.as_deref())?;
    let valid_until = parse_date("--valid-until", a.valid_until.as_deref())?;
    let stations: Vec<String> = a
        .stations
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let req = AddRequest {
        items: a
            .files
            .into_iter()
            .map(|file| AddItem {
                file,
                title: title.clone(),
                kind,
                topic,
                priority,
                producer: a.producer.clone(),
                language: a.language.trim().to_string(),
                valid_from,
                valid_until,
                stations: stations.clone(),
                notes: a.notes.clone(),
            })
            .collect(),
        approve: a.approve,
    };
    add_batch(data_dir, req, a.json).await
}

/// Runs `loa library import MANIFEST`.
async fn import(
    data_dir: &Path,
    manifest: &Path,
    approve: bool,
    json: bool,
) -> Result<(), Failure> {
    let req = crate::library::manifest::read(manifest, approve).map_err(Failure::input)?;
    add_batch(data_dir, req, json).await
}

/// Adds a batch (from `add` or `import`) and prints what happened.
async fn add_batch(data_dir: &Path, req: AddRequest, json: bool) -> Result<(), Failure> {
    let (config, store) = open(data_dir).await?;
    let audio = AudioStore::new(config.audio_dir());
    let bar = super::progress::Bar::steps("đo tệp / measuring files");
    let result = service::add_files_with(
        store.as_ref(),
        &audio,
        &config.ingest,
        &req,
        &config.operator,
        SystemClock.now(),
        bar.progress(),
    )
    .await;
    bar.done();
    store.close().await;
    let added = result.map_err(|e| match e {
        AddError::Refused(errors) => {
            let mut lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            lines.push(format!(
                "{} file(s) refused; nothing was added",
                errors.len()
            ));
            Failure { code: 2, lines }
        }
        AddError::BadRequest(m) => Failure::input(m),
        e @ AddError::Item { .. } => Failure::input(e.to_string()),
        other => Failure::work(other),
    })?;
    if json {
        let out: Vec<_> = added
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r.bulletin()).unwrap_or_default();
                v["existing"] = serde_json::Value::Bool(matches!(r, Added::Existing(_)));
                v
            })
            .collect();
        print_json(&out)?;
    } else {
        for r in &added {
            let b = r.bulletin();
            match r {
                Added::New(_) => println!("{}  added  {}  {}", b.id, b.state, b.meta.title),
                Added::Existing(_) => println!(
                    "{}  already in the library ({})  {}",
                    b.id, b.state, b.meta.title
                ),
            }
        }
    }
    Ok(())
}

async fn change_state(data_dir: &Path, ids: &[String], to: ApprovalState) -> Result<(), Failure> {
    let ids = ids
        .iter()
        .map(|s| parse_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let (config, store) = open(data_dir).await?;
    let mut problems = Vec::new();
    for id in &ids {
        let change = StateChange {
            by: config.operator.clone(),
            at: SystemClock.now(),
        };
        match store.set_state(id, to, &change).await {
            Ok(b) => println!("{}  {}  {}", b.id, b.state, b.meta.title),
            Err(e) => problems.push(e),
        }
    }
    store.close().await;
    if problems.is_empty() {
        return Ok(());
    }
    let code = problems
        .iter()
        .map(super::output::exit_code_of)
        .max()
        .unwrap_or(1);
    Err(Failure {
        code,
        lines: problems.iter().map(|e| e.to_string()).collect(),
    })
}

fn local(config: &Config, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&config.timezone)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn print_table(config: &Config, list: &[Bulletin]) {
    let _ = config;
    if list.is_empty() {
        println!("(thư viện trống / the library is empty)");
        return;
    }
    println!(
        "{:<12}  {:<8}  {:<7}  {:<17}  {:>8}  Tiêu đề / title",
        "id", "state", "kind", "topic", "length"
    );
    for b in list {
        println!(
            "{:<12}  {:<8}  {:<7}  {:<17}  {:>8}  {}",
            b.id,
            b.state,
            b.meta.kind,
            b.meta.topic,
            crate::library::ingest::format_position(b.audio.duration_ms),
            b.meta.title
        );
    }
}

fn print_details(config: &Config, b: &Bulletin) {
    let date =
        |d: Option<NaiveDate>| d.map_or_else(|| "-".into(), |d| d.format("%d/%m/%Y").to_string());
    let m = &b.meta;
    let a = &b.audio;
    println!("Mã / id:                 {}", b.id);
    println!("Tiêu đề / title:         {}", m.title);
    println!(
        "Loại / kind:             {} ({})",
        m.kind,
        m.kind.label_vi()
    );
    println!(
        "Chủ đề / topic:          {} ({} {})",
        m.topic,
        m.topic.clause(),
        m.topic.label_vi()
    );
    println!(
        "Mức ưu tiên / priority:  {} ({})",
        m.priority,
        m.priority.label_vi()
    );
    println!(
        "Đơn vị / producer:       {}",
        if m.producer.is_empty() {
            "-"
        } else {
            &m.producer
        }
    );
    println!(
        "Hiệu lực / valid:        {} – {}",
        date(m.valid_from),
        date(m.valid_until)
    );
    println!(
        "Đài / stations:          {}",
        if m.stations.is_empty() {
            "tất cả / all".to_string()
        } else {
            m.stations.join(", ")
        }
    );
    println!(
        "Trạng thái / state:      {} ({})",
        b.state,
        b.state.label_vi()
    );
    println!(
        "Thêm / added:            {} by {}",
        local(config, b.added.at),
        b.added.by
    );
    if let Some(c) = &b.approved {
        println!(
            "Duyệt / approved:        {} by {}",
            local(config, c.at),
            c.by
        );
    }
    if let Some(c) = &b.retired {
        println!(
            "Ngừng / retired:         {} by {}",
            local(config, c.at),
            c.by
        );
    }
    println!(
        "Âm thanh / audio:        {} {} Hz {} ch, {}",
        a.codec,
        a.sample_rate,
        a.channels,
        crate::library::ingest::format_position(a.duration_ms)
    );
    println!(
        "Độ lớn / loudness:       {} LUFS, LRA {} LU, peak {} dBTP",
        fmt_opt(a.loudness_lufs),
        fmt_opt(a.loudness_range_lu),
        fmt_opt(a.true_peak_dbtp)
    );
    println!(
        "Khoảng lặng / silence:   {} ms head, {} ms tail",
        a.leading_silence_ms, a.trailing_silence_ms
    );
    println!(
        "Tệp / file:              {} ({})",
        b.audio_path, b.original_name
    );
    println!("SHA-256:                 {}", a.sha256);
    if !m.notes.is_empty() {
        println!("Ghi chú / notes:         {}", m.notes);
    }
}
