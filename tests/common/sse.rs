//! A server-sent-event stream read the way a browser reads it: one request on its own
//! connection, its chunked body decoded on a thread, its events (name and data, `data:`
//! lines joined with `\n`) collected for the test to wait on.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An open event stream.
pub struct EventStream {
    /// The status of the answer.
    pub status: u16,
    /// The events so far: (name, data).
    events: Arc<Mutex<Vec<(String, String)>>>,
    /// Set when the server ended the body (or closed the connection).
    ended: Arc<std::sync::atomic::AtomicBool>,
    /// The connection, to close it when the test drops the stream.
    conn: std::net::TcpStream,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.conn.shutdown(std::net::Shutdown::Both);
    }
}

impl EventStream {
    /// `GET path` with `headers`; reads the answer's head, then its events on a thread.
    pub fn open(port: u16, path: &str, headers: &[(&str, &str)]) -> EventStream {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let conn = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let status = head
            .first()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP answer: {head:?}"));
        let chunked = head
            .iter()
            .any(|h| h.eq_ignore_ascii_case("transfer-encoding: chunked"));
        let events = Arc::new(Mutex::new(Vec::new()));
        let into = events.clone();
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let end = ended.clone();
        std::thread::spawn(move || {
            read_events(r, chunked, &into);
            end.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        EventStream {
            status,
            events,
            ended,
            conn,
        }
    }

    /// The events so far.
    pub fn events(&self) -> Vec<(String, String)> {
        self.events.lock().unwrap().clone()
    }

    /// Whether the server has ended the stream.
    pub fn ended(&self) -> bool {
        self.ended.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits (up to `secs`) for the server to end the stream.
    pub fn wait_ended(&self, secs: u64, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.ended() {
            assert!(Instant::now() < deadline, "waited in vain for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits (up to `secs`) for an event `ready` accepts, and gives it.
    pub fn wait_for(
        &self,
        secs: u64,
        what: &str,
        ready: impl Fn(&str, &str) -> bool,
    ) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(e) = self.events().into_iter().find(|(n, d)| ready(n, d)) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "waited in vain for {what}; got {:?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Reads the body (chunked or not) and parses its events until the connection closes.
fn read_events(
    mut r: BufReader<std::net::TcpStream>,
    chunked: bool,
    into: &Mutex<Vec<(String, String)>>,
) {
    let mut text = Vec::new();
    let (mut name, mut data): (String, Vec<String>) = (String::new(), Vec::new());
    loop {
        let got = if chunked {
            let mut size = String::new();
            if r.read_line(&mut size).unwrap_or(0) == 0 {
                return;
            }
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
                return;
            };
            let mut chunk = vec![0u8; n + 2];
            if n == 0 || r.read_exact(&mut chunk).is_err() {
                return;
            }
            chunk.truncate(n);
            chunk
        } else {
            let mut buf = [0u8; 4096];
            match r.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf[..n].to_vec(),
            }
        };
        text.extend_from_slice(&got);
        // Whole lines only; a line may span chunks.
        while let Some(end) = text.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = text.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            if line.is_empty() {
                if !data.is_empty() {
                    into.lock()
                        .unwrap()
                        .push((std::mem::take(&mut name), data.join("\n")));
                }
                data.clear();
                name.clear();
            } else if let Some(v) = line.strip_prefix("event:") {
                name = v.strip_prefix(' ').unwrap_or(v).to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
            }
        }
    }
}
