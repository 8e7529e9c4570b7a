//! A console daemon for the tests that log in: `loa serve` on a free loopback port with two
//! commune stations and one account per role, raw HTTP and HTTPS requests, the login form.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::daemon::free_port;
use super::Loa;

/// Every account's password.
pub const PASSWORD: &str = "mật khẩu tốt 2026";
/// The shared `[http] token`.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A running `loa serve` and its data dir.
pub struct Console {
    pub loa: Loa,
    pub child: Child,
    pub port: u16,
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `loa ARGS…` with `stdin` on its standard input.
pub fn run_with_stdin(loa: &Loa, args: &[&str], stdin: &str) -> super::Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loa"));
    cmd.arg("--data-dir").arg(&loa.data).args(args);
    cmd.env("LOA_OPERATOR", "Kiểm thử");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    super::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A data dir with two commune stations and four accounts (`quantri` admin, `dieuhanh`
/// operator, `xa-vinh-an` commune of vinh-an, `noivu` viewer), `[http]` extended by
/// `http_extra`.
pub fn data_dir(port: u16, http_extra: &str) -> Loa {
    data_dir_on(&format!("127.0.0.1:{port}"), http_extra)
}

/// [`data_dir`] listening on `bind`.
pub fn data_dir_on(bind: &str, http_extra: &str) -> Loa {
    let loa = Loa::init();
    std::fs::write(
        loa.data.join("loa.toml"),
        format!(
            "[playout]\nsink = \"null\"\nsample_rate = 8000\nchannels = 1\n\n[http]\n\
             bind = \"{bind}\"\ntoken = \"{TOKEN}\"\n{http_extra}\n"
        ),
    )
    .unwrap();
    let year = chrono::Datelike::year(&chrono::Utc::now());
    std::fs::write(
        loa.dir.path().join("plan.toml"),
        format!(
            "[plan]\nname = \"Thử\"\nyear = {year}\n\n\
             [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\n\n\
             [[station]]\ncode = \"vinh-tien\"\nname = \"Xã Vĩnh Tiến\"\nlevel = \"commune\"\n\n\
             [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"30 5 * * *\"\n\
             length = \"10m\"\ncchc = \"5m\"\n"
        ),
    )
    .unwrap();
    for (name, role, station) in [
        ("quantri", "admin", None),
        ("dieuhanh", "operator", None),
        ("xa-vinh-an", "commune", Some("vinh-an")),
        ("noivu", "viewer", None),
    ] {
        let mut args = vec!["user", "add", name, "--role", role, "--password-stdin"];
        if let Some(s) = station {
            args.extend(["--station", s]);
        }
        run_with_stdin(&loa, &args, &format!("{PASSWORD}\n")).expect(0);
    }
    loa
}

/// Gives station `code` of the data dir's plan the zone `zone` (an IANA name).
pub fn set_zone(loa: &Loa, code: &str, zone: &str) {
    let path = loa.dir.path().join("plan.toml");
    let plan = std::fs::read_to_string(&path).unwrap();
    let line = format!("code = \"{code}\"\n");
    assert!(plan.contains(&line), "no station {code} in {plan}");
    std::fs::write(
        &path,
        plan.replace(&line, &format!("{line}timezone = \"{zone}\"\n")),
    )
    .unwrap();
}

/// Starts `loa serve` on the data dir.
fn spawn_serve(loa: &Loa) -> Child {
    let plan = loa.dir.path().join("plan.toml");
    Command::new(env!("CARGO_BIN_EXE_loa"))
        .args(["--data-dir", loa.data.to_str().unwrap(), "serve", "--plan"])
        .arg(&plan)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until something listens on `port`.
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "loa serve did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `loa serve` on the data dir and waits until it answers.
pub fn serve(loa: Loa, port: u16) -> Console {
    let child = spawn_serve(&loa);
    let c = Console { loa, child, port };
    wait_listening(port);
    c
}

impl Console {
    /// Kills `loa serve` (as a crash or a power cut would end it) and starts it again on
    /// the same data dir and port.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn_serve(&self.loa);
        wait_listening(self.port);
    }
}

pub fn console(http_extra: &str) -> Console {
    let port = free_port();
    serve(data_dir(port, http_extra), port)
}

/// An answer: status, head and body.
pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Resp {
    /// Every value of header `name`.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// The whole `Set-Cookie` line for cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers("set-cookie")
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value a `Set-Cookie` gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        let (_, v) = line.split(';').next()?.split_once('=')?;
        Some(v.to_string())
    }

    /// The hidden `csrf_token` of the page's form.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf_token\" value=\"")
            .unwrap_or_else(|| panic!("no csrf_token in {}", self.body));
        let rest = &self.body[at + "name=\"csrf_token\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// One request on its own connection, with the `Host` header of the daemon.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    exchange(&mut s, port, method, path, headers, body)
}

/// One request over HTTPS, trusting only the certificate in `cert` (PEM).
pub fn https(
    cert: &std::path::Path,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap().to_owned();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    exchange(&mut tls, port, method, path, headers, body)
}

/// Writes one request on `s` and reads the answer until the server closes.
pub fn exchange(
    s: &mut (impl Read + Write),
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // A TLS peer that closes without close_notify: the answer is complete.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => break,
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    Resp {
        status: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
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

/// Opens the login form and posts `name` and `password` with its CSRF token.
pub fn login(port: u16, name: &str, password: &str) -> Resp {
    let form = http(port, "GET", "/login", &[], "");
    assert_eq!(form.status, 200, "{}", form.head);
    let cookie = format!("loa_login={}", form.cookie("loa_login").unwrap());
    let body = format!(
        "username={}&password={}&csrf_token={}",
        enc(name),
        enc(password),
        form.csrf()
    );
    http(
        port,
        "POST",
        "/login",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &format!("http://127.0.0.1:{port}")),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        &body,
    )
}

/// Logs in and gives the session's `Cookie` header and its CSRF token (from the home page).
pub fn session(port: u16, name: &str) -> (String, String) {
    let r = login(port, name, PASSWORD);
    assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
    let cookie = format!("loa_session={}", r.cookie("loa_session").unwrap());
    let home = http(port, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(home.status, 200, "{}", home.head);
    (cookie, home.csrf())
}

/// The audit trail as `loa audit list --json` gives it.
pub fn audit(loa: &Loa) -> Vec<serde_json::Value> {
    loa.run(&["audit", "list", "--json"])
        .expect(0)
        .json()
        .as_array()
        .cloned()
        .unwrap()
}

/// A self-signed certificate for 127.0.0.1 and its key, made with the openssl command;
/// `None` when openssl is not installed.
pub fn self_signed(dir: &std::path::Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let cfg = dir.join("openssl.cnf");
    std::fs::write(
        &cfg,
        "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n\
         [dn]\nCN = loa-test\n\
         [ext]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n\
         basicConstraints = critical,CA:FALSE\nkeyUsage = digitalSignature\n\
         extendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-config"])
        .arg(&cfg)
        .args([
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    made.success().then_some((cert, key))
}

/// A distinct 2-second WAV (its length grows with `n`, so each `n` is another bulletin),
/// written in `dir` and read back.
pub fn wav_bytes(dir: &std::path::Path, n: usize) -> Vec<u8> {
    use super::fixtures::{speech_like, write_wav, WavFormat};
    let p = dir.join(format!("fixture-{n}.wav"));
    write_wav(
        &p,
        WavFormat::Pcm16,
        8000,
        1,
        &speech_like(8000, 1, 800, 16000 + 80 * n, 800),
        None,
    );
    let bytes = std::fs::read(&p).unwrap();
    let _ = std::fs::remove_file(&p);
    bytes
}

/// A multipart body (text fields, then files as `file`) and its content type.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "loaBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// One request with a binary body, on its own connection.
pub fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    // The server may answer (413) before the whole body is sent.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    split_answer(&out)
}

/// The head of the answer to a request whose body never ends (an event stream): read
/// until the blank line, then the connection is dropped.
pub fn head_only(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    split_answer(&out)
}

/// An answer's bytes as status, head and body.
fn split_answer(out: &[u8]) -> Resp {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let body = String::from_utf8_lossy(out.get(split + 4..).unwrap_or_default()).into_owned();
    Resp {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP answer: {head:?}")),
        head,
        body,
    }
}

/// Adds an approved bulletin of `secs` seconds of speech-like audio to the data dir (the
/// file `name`, with `title` when given), and gives its id. Works while `loa serve` runs.
pub fn add_bulletin(
    loa: &Loa,
    name: &str,
    kind: &str,
    topic: &str,
    secs: usize,
    title: Option<&str>,
) -> String {
    let f = &super::fixtures::speech_like;
    let path = loa.dir.path().join(name);
    super::fixtures::write_wav(
        &path,
        super::fixtures::WavFormat::Pcm16,
        16_000,
        1,
        &f(16_000, 1, 800, 16_000 * secs, 800),
        None,
    );
    let mut args = vec![
        "library",
        "add",
        path.to_str().unwrap(),
        "--kind",
        kind,
        "--topic",
        topic,
        "--approve",
        "--json",
    ];
    if let Some(t) = title {
        args.extend(["--title", t]);
    }
    let out = loa.run(&args).expect(0).json();
    out[0]["id"].as_str().unwrap().to_string()
}

/// A console (as [`data_dir`]) whose plan has one daily slot "Buổi thử" at both stations
/// at `slot_hour:slot_minute` station time (10 minutes, 5 of them CCHC), with `bulletins`
/// (file name, kind, topic, seconds) added approved before it starts.
pub fn with_slot(
    slot_hour: u32,
    slot_minute: u32,
    bulletins: &[(&str, &str, &str, usize)],
) -> Console {
    let port = free_port();
    let loa = data_dir(port, "");
    for (name, kind, topic, secs) in bulletins {
        add_bulletin(&loa, name, kind, topic, *secs, None);
    }
    let year = chrono::Datelike::year(&chrono::Utc::now());
    std::fs::write(
        loa.dir.path().join("plan.toml"),
        format!(
            "[plan]\nname = \"Thử\"\nyear = {year}\n\n\
             [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\n\n\
             [[station]]\ncode = \"vinh-tien\"\nname = \"Xã Vĩnh Tiến\"\nlevel = \"commune\"\n\n\
             [[slot]]\nname = \"Buổi thử\"\nstations = [\"all\"]\n\
             cron = \"{slot_minute} {slot_hour} * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n"
        ),
    )
    .unwrap();
    serve(loa, port)
}
