//! Configuration: `loa.toml` in the data dir, then `LOA_SECTION__KEY` environment overrides,
//! parsed into a [`Config`] whose values are already valid (a bad key or value is refused
//! with the file or variable named, before anything starts).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::output::{CaptureOptions, OutputFormat, SinkSpec};

/// Environment variables that steer the process rather than override config keys.
const RESERVED_ENV: &[&str] = &["LOA_DATA_DIR", "LOA_LOG"];
/// Prefixes of environment variables that belong to the test suite, not the config.
const RESERVED_ENV_PREFIXES: &[&str] = &["LOA_TEST_"];

/// The name of the config file inside the data dir.
pub const CONFIG_FILE: &str = "loa.toml";

/// The config file `loa init` writes: every key, its default and what it does.
pub const DEFAULT_CONFIG_TOML: &str = r#"# loa configuration. Every key may be overridden from the environment as
# LOA_KEY or LOA_SECTION__KEY (e.g. LOA_INGEST__SILENCE_THRESHOLD_DBFS=-45).

# Where bulletins, schedules and the airlog are kept.
#   sqlite://loa.db          the embedded database, relative to the data dir (default)
#   sqlite:///abs/path.db    an embedded database elsewhere
#   postgres://user@host/db  a central PostgreSQL server (province-wide installations)
database_url = "sqlite://loa.db"

# Time zone of the stations when the plan does not name one (IANA name).
timezone = "Asia/Ho_Chi_Minh"

# Operator name recorded for changes made from this machine's command line
# (approvals, removals). Defaults to the login name when empty.
operator = ""

[ingest]
# Samples quieter than this (dBFS) count as silence at the start and end of a bulletin.
silence_threshold_dbfs = -50.0
# Audio shorter than this (milliseconds) is refused: a click or a cut-off export.
min_duration_ms = 500

[playout]
# Where audio goes when a command does not say: "device" (the sound card), "device:NAME",
# "wav:DIR" (capture files, one per station per day) or "null".
sink = "device"
# The output format every item is converted to.
sample_rate = 48000
channels = 2
# Loudness target for outdoor speech loudspeakers (LUFS) and the true-peak ceiling (dBTP).
target_lufs = -16.0
ceiling_dbtp = -1.0
# Make up an item that failed, was cut or was missed in the next slot with room.
makeup = true
# How long the sound card takes to put a sample on air (its buffer and the chain after it).
# On a sound card, loa starts writing a slot this much early so its first sample is heard
# at the planned instant. "auto" uses the buffer the device reports; set milliseconds when
# you have measured your chain (docs/en/service.md, "Slot start accuracy").
output_latency_ms = "auto"

[playout.capture]
# WAV capture ("wav:DIR", and the fallback when there is no sound card): the station renders
# in this rate and channels. 16 kHz mono 16-bit ("s16") is about 110 MB an airtime hour;
# "f32" keeps the played samples bit for bit (twice the size at the same rate).
sample_rate = 16000
channels = 1
sample_format = "s16"
# Capture stops (playout and the airlog go on, with an alert) when the disk holding the
# capture folder has less free space than this, in MB; an alert comes first at twice it.
min_free_mb = 500

[serve]
# The plan `loa serve` plays when --plan is not given (e.g. /etc/loa/plan.toml).
plan = ""
# Stations this daemon plays (codes); empty plays every station of the plan.
stations = []
# Build the next week's playlists this many days before it starts.
build_ahead_days = 3

[agent]
# Commune machines (`loa agent`) that play stations whose plan output is "agent": the days
# ahead their manifest covers (1 to 31), so a node keeps playing through a dead link.
horizon_days = 7
# A node whose clock is further than this from the server's (its four-timestamp exchange
# every minute) raises an alert on the on-air page and in `loa ctl status` (1s to 1h).
max_clock_offset = "2s"

[announce]
# The text-to-speech command that turns a typed announcement (the console's Thông báo page,
# POST /api/v1/stations/CODE/announcements with "text") into audio. Arguments are separated
# by spaces; {out} is replaced by the WAV file it must write; the text comes on its stdin
# (UTF-8, NFC). The audio it makes is ingested like any uploaded file. Replace it with a
# better Vietnamese voice when you have one, e.g.
#   tts_command = "piper --model /opt/piper/vi_VN-vais1000-medium.onnx --output_file {out}"
tts_command = "espeak-ng -v vi -w {out} --stdin"

[airlog]
# The district's Ed25519 key that signs each station's chain head and every export's
# integrity block (relative to the data dir). Created 0600 by `loa init`, or by the first
# start of an older data dir. Keep it secret, back it up, and give Phòng Nội vụ its
# fingerprint (printed by `loa airlog verify` and in every export).
signing_key = "airlog-signing.key"

[http]
# The control API (loa ctl, the console). An address other than the loopback needs TLS:
# tls_cert and tls_key here, or behind_proxy = true with a TLS proxy in front; otherwise
# `loa serve` refuses to start.
bind = "127.0.0.1:7010"
# Required on every request as "Authorization: Bearer TOKEN". `loa init` writes a random
# one; an empty token disables the API and the console. Each console user may also get a
# token of their own (`loa user token NAME`), which acts with that user's role and stations.
token = ""
# A console session ends after this long without a request (e.g. 30m, 1h, 90s).
session_idle = "30m"
# Set when a TLS proxy (nginx, Caddy) is in front: cookies are marked Secure and the client's
# address is read from the last X-Forwarded-For entry the proxy adds.
behind_proxy = false
# HTTPS: the certificate chain and its private key, PEM files (relative to the data dir).
# Both or neither. `loa ctl` on the server itself still talks plain HTTP over the loopback.
tls_cert = ""
tls_key = ""
# The largest audio file one console or API upload may send, in MB (1 to 4096). A larger
# file is refused as it arrives, naming this key, and leaves nothing behind.
upload_max_mb = 200
"#;

/// Raw config as written in TOML; unknown keys are errors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_database_url")]
    database_url: String,
    #[serde(default = "default_timezone")]
    timezone: String,
    #[serde(default)]
    operator: String,
    #[serde(default)]
    ingest: RawIngest,
    #[serde(default)]
    playout: RawPlayout,
    #[serde(default)]
    serve: RawServe,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    airlog: RawAirlog,
    #[serde(default)]
    agent: RawAgent,
    #[serde(default)]
    announce: RawAnnounce,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAnnounce {
    tts_command: String,
}

impl Default for RawAnnounce {
    fn default() -> Self {
        RawAnnounce {
            tts_command: DEFAULT_TTS.into(),
        }
    }
}

/// The text-to-speech command when the config names none.
pub const DEFAULT_TTS: &str = "espeak-ng -v vi -w {out} --stdin";

/// The text-to-speech command of `[announce] tts_command`: a program and its arguments, one
/// of which holds `{out}` (the WAV file to write); the text goes to its stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtsCommand {
    /// The program.
    pub program: String,
    /// Its arguments, `{out}` still in place.
    pub args: Vec<String>,
}

impl TtsCommand {
    /// Parses the configured text: words separated by spaces, `{out}` among them.
    pub fn parse(text: &str) -> Result<TtsCommand, String> {
        let mut words = text.split_whitespace().map(str::to_string);
        let program = words
            .next()
            .ok_or("announce.tts_command is empty (default: espeak-ng -v vi -w {out} --stdin)")?;
        let args: Vec<String> = words.collect();
        if !args.iter().any(|a| a.contains("{out}")) {
            return Err(format!(
                "announce.tts_command '{text}' does not say where to write the audio: put {{out}} where the WAV file's path goes"
            ));
        }
        Ok(TtsCommand { program, args })
    }

    /// The arguments with `{out}` replaced by `out`.
    pub fn args_for(&self, out: &Path) -> Vec<String> {
        let out = out.display().to_string();
        self.args.iter().map(|a| a.replace("{out}", &out)).collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAgent {
    horizon_days: u32,
    max_clock_offset: String,
}

impl Default for RawAgent {
    fn default() -> Self {
        RawAgent {
            horizon_days: 7,
            max_clock_offset: "2s".into(),
        }
    }
}

/// What the district server tells commune machines (`loa agent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentConfig {
    /// Days ahead a node's manifest covers (1 to 31).
    pub horizon_days: u32,
    /// A node's clock further than this from the server's is alerted (1 s to 1 h).
    pub max_clock_offset: std::time::Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAirlog {
    signing_key: String,
}

impl Default for RawAirlog {
    fn default() -> Self {
        RawAirlog {
            signing_key: DEFAULT_SIGNING_KEY.into(),
        }
    }
}

/// The signing key's file in the data dir when the config does not name one.
pub const DEFAULT_SIGNING_KEY: &str = "airlog-signing.key";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServe {
    plan: String,
    stations: Vec<String>,
    build_ahead_days: u32,
}

impl Default for RawServe {
    fn default() -> Self {
        RawServe {
            plan: String::new(),
            stations: vec![],
            build_ahead_days: 3,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHttp {
    bind: String,
    token: String,
    session_idle: String,
    behind_proxy: bool,
    tls_cert: String,
    tls_key: String,
    upload_max_mb: u64,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            bind: "127.0.0.1:7010".into(),
            token: String::new(),
            session_idle: "30m".into(),
            behind_proxy: false,
            tls_cert: String::new(),
            tls_key: String::new(),
            upload_max_mb: 200,
        }
    }
}

/// `loa serve` settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The plan to play when the command line names none.
    pub plan: Option<PathBuf>,
    /// Stations to play (empty: all).
    pub stations: Vec<String>,
    /// Days ahead the next week is built.
    pub build_ahead_days: u32,
}

/// The control API's settings. The token is a secret: never printed.
#[derive(Clone)]
pub struct HttpConfig {
    /// Where it listens.
    pub bind: std::net::SocketAddr,
    /// The bearer token; `None` disables the API.
    pub token: Option<String>,
    /// How long a console session lives without a request.
    pub session_idle: std::time::Duration,
    /// Whether a TLS proxy is in front (Secure cookies, the client's address from
    /// X-Forwarded-For).
    pub behind_proxy: bool,
    /// The certificate chain and key to serve HTTPS with.
    pub tls: Option<TlsFiles>,
    /// The largest audio file one upload may send, in bytes (`upload_max_mb`).
    pub upload_max_bytes: u64,
}

/// The PEM files of `[http] tls_cert` and `tls_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl HttpConfig {
    /// Why `loa serve` must not listen as configured: an address other than the loopback
    /// with neither TLS here nor a TLS proxy in front would carry passwords, session
    /// cookies and tokens in clear text.
    pub fn exposure_refusal(&self) -> Option<String> {
        if self.bind.ip().is_loopback() || self.tls.is_some() || self.behind_proxy {
            return None;
        }
        Some(format!(
            "http.bind {} is not a loopback address and no TLS is set: give http.tls_cert and \
             http.tls_key (PEM files) to serve HTTPS, or set http.behind_proxy = true when a TLS \
             proxy is in front, or bind to 127.0.0.1",
            self.bind
        ))
    }

    /// Whether cookies are marked `Secure` (HTTPS here or at the proxy).
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some() || self.behind_proxy
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("bind", &self.bind)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("session_idle", &self.session_idle)
            .field("behind_proxy", &self.behind_proxy)
            .field("tls", &self.tls)
            .field("upload_max_bytes", &self.upload_max_bytes)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPlayout {
    sink: String,
    sample_rate: u32,
    channels: u16,
    target_lufs: f64,
    ceiling_dbtp: f64,
    makeup: bool,
    output_latency_ms: Latency,
    capture: RawCapture,
}

/// `[playout.capture]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCapture {
    sample_rate: u32,
    channels: u16,
    sample_format: String,
    min_free_mb: u64,
}

impl Default for RawCapture {
    fn default() -> Self {
        let d = CaptureOptions::default();
        RawCapture {
            sample_rate: d.format.sample_rate,
            channels: d.format.channels,
            sample_format: d.sample.to_string(),
            min_free_mb: d.min_free_bytes / (1024 * 1024),
        }
    }
}

/// `output_latency_ms`: "auto" or milliseconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Latency {
    Ms(u32),
    Word(String),
}

impl Default for RawPlayout {
    fn default() -> Self {
        RawPlayout {
            sink: "device".into(),
            sample_rate: 48_000,
            channels: 2,
            target_lufs: -16.0,
            ceiling_dbtp: -1.0,
            makeup: true,
            output_latency_ms: Latency::Word("auto".into()),
            capture: RawCapture::default(),
        }
    }
}

/// `[playout]` as validated: plain values, which playout turns into its own settings
/// (`crate::playout::Settings::from_config`). The config does not import playout.
#[derive(Debug, Clone)]
pub struct PlayoutConfig {
    /// The default sink.
    pub sink: SinkSpec,
    /// The format every sink of a station takes.
    pub format: OutputFormat,
    /// Loudness target, LUFS.
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP.
    pub ceiling_dbtp: f64,
    /// Make up failed, cut or missed items in the next slot with room.
    pub makeup: bool,
    /// How long the sound card takes to put a sample on air (None: what the sink says).
    pub output_latency: Option<std::time::Duration>,
    /// What WAV captures store and the free space they leave.
    pub capture: CaptureOptions,
    /// Where airlog rows the store would not take are kept at a stop.
    pub journal: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIngest {
    #[serde(default = "default_silence")]
    silence_threshold_dbfs: f64,
    #[serde(default = "default_min_duration")]
    min_duration_ms: u64,
}

impl Default for RawIngest {
    fn default() -> Self {
        RawIngest {
            silence_threshold_dbfs: default_silence(),
            min_duration_ms: default_min_duration(),
        }
    }
}

fn default_min_duration() -> u64 {
    crate::library::ingest::DEFAULT_MIN_DURATION_MS
}

fn default_database_url() -> String {
    "sqlite://loa.db".into()
}
fn default_timezone() -> String {
    "Asia/Ho_Chi_Minh".into()
}
fn default_silence() -> f64 {
    -50.0
}

/// Where the store lives, resolved against the data dir.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server; the URL may carry a password, so it is never printed whole.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
            DatabaseUrl::Postgres(u) => write!(f, "Postgres({})", redact_url(u)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl DatabaseUrl {
    /// Parses a `database_url` value; relative SQLite paths are taken from `data_dir`.
    pub fn parse(url: &str, data_dir: &Path) -> Result<DatabaseUrl, String> {
        if let Some(rest) = url.strip_prefix("sqlite://") {
            let rest = rest.split('?').next().unwrap_or(rest);
            if rest.is_empty() {
                return Err("the sqlite:// URL names no file".into());
            }
            let p = PathBuf::from(rest);
            Ok(DatabaseUrl::Sqlite(if p.is_absolute() {
                p
            } else {
                data_dir.join(p)
            }))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_string()))
        } else {
            Err(format!(
                "'{}' is not a database URL loa can use (expected sqlite://FILE or postgres://…)",
                redact_url(url)
            ))
        }
    }
}

/// The file name of the held-row journal (see `crate::playout::journal`).
pub const JOURNAL_FILE: &str = "airlog-journal.jsonl";

/// The held-row journal: beside the SQLite file, or in the data dir for PostgreSQL.
fn airlog_journal(data_dir: &Path, database: &DatabaseUrl) -> PathBuf {
    let dir = match database {
        DatabaseUrl::Sqlite(file) => file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(data_dir),
        DatabaseUrl::Postgres(_) => data_dir,
    };
    dir.join(JOURNAL_FILE)
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data dir everything relative is resolved against.
    pub data_dir: PathBuf,
    /// The store.
    pub database: DatabaseUrl,
    /// Default station time zone.
    pub timezone: chrono_tz::Tz,
    /// Operator name for changes made from this machine's CLI.
    pub operator: String,
    /// Ingest measurement settings.
    pub ingest: crate::library::IngestOptions,
    /// Playout settings.
    pub playout: PlayoutConfig,
    /// Daemon settings.
    pub serve: ServeConfig,
    /// Control API settings.
    pub http: HttpConfig,
    /// The district's airlog signing key file ([`crate::airlog::key`]).
    pub signing_key: PathBuf,
    /// What commune machines are served.
    pub agent: AgentConfig,
    /// How a typed announcement becomes audio.
    pub tts: TtsCommand,
}

/// A config that cannot be used, naming the file or variable and the problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The data dir has no config: `loa init` was not run.
    #[error("{0}: no loa.toml here; run `loa init --data-dir {1}` first")]
    NotInitialised(PathBuf, String),
    /// The file cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TOML (after overrides) is malformed or has a bad key or value.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file, or the environment variable, at fault.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Loads `DATA_DIR/loa.toml` and applies the environment's `LOA_*` overrides.
    pub fn load(data_dir: &Path) -> Result<Config, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::NotInitialised(
                    data_dir.to_path_buf(),
                    data_dir.display().to_string(),
                ))
            }
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        Self::from_toml(&text, &path, data_dir, std::env::vars())
    }

    /// Builds a config from TOML text and a set of environment variables.
    pub fn from_toml(
        text: &str,
        origin: &Path,
        data_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let invalid = |origin: &str, message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let file = origin.display().to_string();
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            invalid(&file, e.to_string().trim().replace('\n', " "))
        })?;
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("LOA_"))
            .filter(|(k, _)| !RESERVED_ENV.contains(&k.as_str()))
            .filter(|(k, _)| !RESERVED_ENV_PREFIXES.iter().any(|p| k.starts_with(p)))
            .collect();
        overrides.sort();
        for (var, value) in &overrides {
            apply_override(&mut table, var, value).map_err(|m| invalid(var, m))?;
        }
        let raw: RawConfig =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    let origin = if overrides.is_empty() {
                        file.clone()
                    } else {
                        format!(
                            "{file} (with {})",
                            overrides
                                .iter()
                                .map(|(k, _)| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    invalid(&origin, e.message().to_string())
                })?;
        let database = DatabaseUrl::parse(&raw.database_url, data_dir)
            .map_err(|m| invalid(&file, format!("database_url: {m}")))?;
        let timezone: chrono_tz::Tz = raw.timezone.parse().map_err(|_| {
            invalid(
                &file,
                format!("timezone: '{}' is not an IANA time zone name", raw.timezone),
            )
        })?;
        let silence = raw.ingest.silence_threshold_dbfs;
        if !(-120.0..=0.0).contains(&silence) {
            return Err(invalid(
                &file,
                format!("ingest.silence_threshold_dbfs: {silence} is outside -120..0 dBFS"),
            ));
        }
        if raw.ingest.min_duration_ms > 3_600_000 {
            return Err(invalid(
                &file,
                format!(
                    "ingest.min_duration_ms: {} is more than an hour",
                    raw.ingest.min_duration_ms
                ),
            ));
        }
        let p = &raw.playout;
        let sink = p
            .sink
            .parse::<SinkSpec>()
            .map_err(|e| invalid(&file, format!("playout.sink: {e}")))?;
        let format = OutputFormat {
            sample_rate: p.sample_rate,
            channels: p.channels,
        };
        if !format.is_usable() {
            return Err(invalid(
                &file,
                format!("playout: {format} is not an output format loa can play"),
            ));
        }
        if !(-40.0..=0.0).contains(&p.target_lufs) || !(-20.0..=0.0).contains(&p.ceiling_dbtp) {
            return Err(invalid(
                &file,
                format!(
                "playout: target_lufs {} must be within -40..0 and ceiling_dbtp {} within -20..0",
                p.target_lufs, p.ceiling_dbtp
            ),
            ));
        }
        let output_latency = match &p.output_latency_ms {
            Latency::Ms(ms) if *ms <= 2_000 => Some(std::time::Duration::from_millis(u64::from(*ms))),
            Latency::Word(w) if w == "auto" => None,
            other => {
                return Err(invalid(
                    &file,
                    format!(
                        "playout.output_latency_ms: {other:?} is neither \"auto\" nor a number of milliseconds up to 2000"
                    ),
                ))
            }
        };
        let c = &p.capture;
        let capture = CaptureOptions {
            format: OutputFormat {
                sample_rate: c.sample_rate,
                channels: c.channels,
            },
            sample: c
                .sample_format
                .parse()
                .map_err(|m| invalid(&file, format!("playout.capture.sample_format: {m}")))?,
            min_free_bytes: c.min_free_mb.saturating_mul(1024 * 1024),
        };
        if !capture.format.is_usable() {
            return Err(invalid(
                &file,
                format!(
                    "playout.capture: {} is not a format loa can capture",
                    capture.format
                ),
            ));
        }
        let playout = PlayoutConfig {
            sink,
            format,
            target_lufs: p.target_lufs,
            ceiling_dbtp: p.ceiling_dbtp,
            makeup: p.makeup,
            output_latency,
            capture,
            journal: airlog_journal(data_dir, &database),
        };
        let bind = raw.http.bind.parse::<std::net::SocketAddr>().map_err(|_| {
            invalid(
                &file,
                format!(
                    "http.bind: '{}' is not an address:port (e.g. 127.0.0.1:7010)",
                    raw.http.bind
                ),
            )
        })?;
        let token = Some(raw.http.token.trim().to_string()).filter(|t| !t.is_empty());
        if token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(invalid(
                &file,
                "http.token: too short (at least 16 characters)".into(),
            ));
        }
        let session_idle = crate::plan::timing::parse_duration(&raw.http.session_idle)
            .ok()
            .filter(|s| (1..=7 * 24 * 3600).contains(s))
            .map(|s| std::time::Duration::from_secs(u64::from(s)))
            .ok_or_else(|| {
                invalid(
                    &file,
                    format!(
                        "http.session_idle: '{}' is not a duration from 1s to 7d (e.g. 30m)",
                        raw.http.session_idle
                    ),
                )
            })?;
        if !(1..=4096).contains(&raw.http.upload_max_mb) {
            return Err(invalid(
                &file,
                format!(
                    "http.upload_max_mb: {} is not a size from 1 to 4096 (MB)",
                    raw.http.upload_max_mb
                ),
            ));
        }
        let in_data_dir = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                data_dir.join(p)
            }
        };
        let tls =
            match (raw.http.tls_cert.trim(), raw.http.tls_key.trim()) {
                ("", "") => None,
                (cert, key) if !cert.is_empty() && !key.is_empty() => Some(TlsFiles {
                    cert: in_data_dir(cert),
                    key: in_data_dir(key),
                }),
                _ => return Err(invalid(
                    &file,
                    "http.tls_cert and http.tls_key go together: give both PEM files, or neither"
                        .into(),
                )),
            };
        let serve = ServeConfig {
            plan: Some(raw.serve.plan.trim())
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let p = PathBuf::from(p);
                    if p.is_absolute() {
                        p
                    } else {
                        data_dir.join(p)
                    }
                }),
            stations: raw.serve.stations.clone(),
            build_ahead_days: raw.serve.build_ahead_days.min(6),
        };
        if !(1..=31).contains(&raw.agent.horizon_days) {
            return Err(invalid(
                &file,
                format!(
                    "agent.horizon_days: {} is not between 1 and 31 days",
                    raw.agent.horizon_days
                ),
            ));
        }
        let max_clock_offset = crate::plan::timing::parse_duration(&raw.agent.max_clock_offset)
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .map(|s| std::time::Duration::from_secs(u64::from(s)))
            .ok_or_else(|| {
                invalid(
                    &file,
                    format!(
                        "agent.max_clock_offset: '{}' is not a duration from 1s to 1h (e.g. 2s)",
                        raw.agent.max_clock_offset
                    ),
                )
            })?;
        let agent = AgentConfig {
            horizon_days: raw.agent.horizon_days,
            max_clock_offset,
        };
        let operator = if raw.operator.trim().is_empty() {
            std::env::var("USER").unwrap_or_else(|_| "operator".into())
        } else {
            crate::text::nfc(raw.operator.trim())
        };
        let tts = TtsCommand::parse(&raw.announce.tts_command).map_err(|m| invalid(&file, m))?;
        Ok(Config {
            tts,
            data_dir: data_dir.to_path_buf(),
            database,
            timezone,
            operator,
            ingest: crate::library::IngestOptions {
                silence_threshold_dbfs: silence,
                min_duration_ms: raw.ingest.min_duration_ms,
            },
            playout,
            serve,
            http: HttpConfig {
                bind,
                token,
                session_idle,
                behind_proxy: raw.http.behind_proxy,
                tls,
                upload_max_bytes: raw.http.upload_max_mb * 1024 * 1024,
            },
            agent,
            signing_key: {
                let k = raw.airlog.signing_key.trim();
                let k = PathBuf::from(if k.is_empty() { DEFAULT_SIGNING_KEY } else { k });
                if k.is_absolute() {
                    k
                } else {
                    data_dir.join(k)
                }
            },
        })
    }

    /// The held-row journal (`crate::playout::journal`).
    pub fn airlog_journal(&self) -> PathBuf {
        self.playout.journal.clone()
    }

    /// The folder of the content-addressed audio store.
    pub fn audio_dir(&self) -> PathBuf {
        self.data_dir.join("audio")
    }
}

/// Sets `LOA_SECTION__KEY=value` into the table. The value is read as a TOML value when it
/// parses as one (numbers, booleans), else as a string.
fn apply_override(table: &mut toml::Table, var: &str, value: &str) -> Result<(), String> {
    let path: Vec<String> = var["LOA_".len()..]
        .split("__")
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err("malformed override name (expected LOA_KEY or LOA_SECTION__KEY)".into());
    }
    let parsed: toml::Value = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let (last, sections) = path.split_last().expect("non-empty");
    let mut cur = table;
    for s in sections {
        let entry = cur
            .entry(s.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("'{s}' is a value, not a section"))?;
    }
    cur.insert(last.clone(), parsed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml(
            text,
            Path::new("/d/loa.toml"),
            Path::new("/d"),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn the_upload_limit_is_200_mb_by_default_and_a_size_outside_1_to_4096_is_refused() {
        assert_eq!(
            load("", &[]).unwrap().http.upload_max_bytes,
            200 * 1024 * 1024
        );
        let c = load("[http]\nupload_max_mb = 1\n", &[]).unwrap();
        assert_eq!(c.http.upload_max_bytes, 1024 * 1024);
        for bad in ["0", "5000"] {
            let err = load(&format!("[http]\nupload_max_mb = {bad}\n"), &[]).unwrap_err();
            assert!(err.to_string().contains("http.upload_max_mb"), "{err}");
        }
    }

    #[test]
    fn a_session_idle_time_is_a_duration_and_a_bad_one_is_refused_naming_the_key() {
        let c = load("[http]\nsession_idle = \"1h30m\"\n", &[]).unwrap();
        assert_eq!(c.http.session_idle, std::time::Duration::from_secs(5400));
        assert_eq!(
            load("", &[]).unwrap().http.session_idle,
            std::time::Duration::from_secs(1800)
        );
        for bad in ["soon", "0s", "8d"] {
            let err = load(&format!("[http]\nsession_idle = \"{bad}\"\n"), &[]).unwrap_err();
            assert!(err.to_string().contains("http.session_idle"), "{err}");
        }
    }

    #[test]
    fn an_address_off_the_loopback_needs_tls_here_or_at_a_proxy() {
        let c = load("[http]\nbind = \"0.0.0.0:7010\"\n", &[]).unwrap();
        let why = c.http.exposure_refusal().unwrap();
        for key in ["http.tls_cert", "http.tls_key", "http.behind_proxy"] {
            assert!(why.contains(key), "{why}");
        }
        assert!(!c.http.secure_cookies());
        let proxied = load(
            "[http]\nbind = \"0.0.0.0:7010\"\nbehind_proxy = true\n",
            &[],
        )
        .unwrap();
        assert_eq!(proxied.http.exposure_refusal(), None);
        assert!(proxied.http.secure_cookies());
        let tls = load(
            "[http]\nbind = \"0.0.0.0:7010\"\ntls_cert = \"c.pem\"\ntls_key = \"/k.pem\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(tls.http.exposure_refusal(), None);
        assert_eq!(
            tls.http.tls,
            Some(TlsFiles {
                cert: PathBuf::from("/d/c.pem"),
                key: PathBuf::from("/k.pem")
            })
        );
        assert_eq!(load("", &[]).unwrap().http.exposure_refusal(), None);
        let half = load("[http]\ntls_cert = \"c.pem\"\n", &[]).unwrap_err();
        assert!(half.to_string().contains("http.tls_key"), "{half}");
    }

    #[test]
    fn the_text_to_speech_command_defaults_to_espeak_ng_and_must_name_its_output() {
        let c = load(DEFAULT_CONFIG_TOML, &[]).unwrap();
        assert_eq!(c.tts, TtsCommand::parse(DEFAULT_TTS).unwrap());
        assert_eq!(c.tts.program, "espeak-ng");
        assert_eq!(
            c.tts.args_for(Path::new("/tmp/a b.wav")),
            ["-v", "vi", "-w", "/tmp/a b.wav", "--stdin"]
        );
        let piper = load(
            "[announce]\ntts_command = \"piper --output_file {out}\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(piper.tts.program, "piper");
        for bad in ["", "   ", "espeak-ng -v vi"] {
            let err = load(&format!("[announce]\ntts_command = \"{bad}\"\n"), &[]).unwrap_err();
            assert!(err.to_string().contains("announce.tts_command"), "{err}");
        }
    }

    #[test]
    fn the_deployed_example_is_the_file_init_writes() {
        assert_eq!(
            include_str!("../deploy/loa.toml.example"),
            DEFAULT_CONFIG_TOML,
            "deploy/loa.toml.example must stay the config `loa init` writes"
        );
    }

    #[test]
    fn the_default_file_gives_the_documented_defaults() {
        let c = load(DEFAULT_CONFIG_TOML, &[]).unwrap();
        assert_eq!(c.database, DatabaseUrl::Sqlite(PathBuf::from("/d/loa.db")));
        assert_eq!(c.timezone, chrono_tz::Asia::Ho_Chi_Minh);
        assert_eq!(c.ingest.silence_threshold_dbfs, -50.0);
        assert_eq!(c.ingest.min_duration_ms, 500);
        assert_eq!(c.playout.capture, CaptureOptions::default());
    }

    #[test]
    fn a_capture_format_is_set_in_its_section_or_the_environment_and_checked() {
        let c = load(
            "[playout.capture]\nsample_format = \"f32\"\n",
            &[("LOA_PLAYOUT__CAPTURE__SAMPLE_RATE", "48000")],
        )
        .unwrap();
        assert_eq!(c.playout.capture.sample, crate::output::SampleFormat::F32);
        assert_eq!(c.playout.capture.format.sample_rate, 48_000);
        assert_eq!(c.playout.capture.format.channels, 1);
        let err = load("[playout.capture]\nsample_format = \"s24\"\n", &[])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "/d/loa.toml: playout.capture.sample_format: 's24' is not a capture sample format (expected \"s16\" or \"f32\")"
        );
    }

    #[test]
    fn an_environment_override_reaches_a_section_key() {
        let c = load(
            DEFAULT_CONFIG_TOML,
            &[
                ("LOA_INGEST__SILENCE_THRESHOLD_DBFS", "-45"),
                ("LOA_DATA_DIR", "/x"),
            ],
        )
        .unwrap();
        assert_eq!(c.ingest.silence_threshold_dbfs, -45.0);
    }

    #[test]
    fn a_postgres_url_from_the_environment_selects_postgres() {
        let c = load(
            DEFAULT_CONFIG_TOML,
            &[("LOA_DATABASE_URL", "postgres://loa:pw@127.0.0.1/test")],
        )
        .unwrap();
        assert!(matches!(c.database, DatabaseUrl::Postgres(_)));
        assert!(
            !format!("{c:?}").contains("pw"),
            "the password must not be printed"
        );
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_file() {
        let err = load("databse_url = 'x'\n", &[]).unwrap_err().to_string();
        assert!(err.contains("/d/loa.toml"), "{err}");
        assert!(err.contains("databse_url"), "{err}");
    }

    #[test]
    fn a_misspelt_override_is_refused_naming_the_variable() {
        let err = load(DEFAULT_CONFIG_TOML, &[("LOA_INGEST__SILENCE", "1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("LOA_INGEST__SILENCE"), "{err}");
    }

    #[test]
    fn a_bad_time_zone_is_refused() {
        let err = load("timezone = 'Mars/Olympus'", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Mars/Olympus"), "{err}");
    }
}
