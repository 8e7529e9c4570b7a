//! `loa ctl status|play|skip|stop|urgent`: talks to a running daemon's control API on the
//! address and with the token of the data dir's loa.toml. A small HTTP/1.1 client over a
//! TCP stream: the API is on the loopback and answers JSON.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use clap::Subcommand;

use crate::config::Config;

use super::output::print_json;
use super::Failure;

/// `loa ctl` subcommands.
#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// What every station is playing, what comes next, alerts.
    Status {
        /// Print the JSON as the API gives it.
        #[arg(long)]
        json: bool,
    },
    /// Play a bulletin now (interrupting what plays) or after the item on air.
    Play {
        /// Bulletin id.
        bulletin: String,
        /// Station code, or "all".
        #[arg(long)]
        station: String,
        /// After the item on air instead of now.
        #[arg(long)]
        next: bool,
    },
    /// End the item on air; the next one plays.
    Skip {
        /// Station code, or "all".
        #[arg(long)]
        station: String,
    },
    /// End the slot on air.
    Stop {
        /// Station code, or "all".
        #[arg(long)]
        station: String,
    },
    /// Urgent announcement: interrupts whatever plays at once, airs, and playout goes on.
    Urgent {
        /// Bulletin id.
        bulletin: String,
        /// Station code, or "all".
        #[arg(long, default_value = "all")]
        station: String,
    },
}

/// One request to the API; returns the status code and the JSON body.
fn request(
    config: &Config,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value), Failure> {
    let token =
        config.http.token.as_ref().ok_or_else(|| {
            Failure::input("http.token is empty in loa.toml: the control API is off")
        })?;
    let addr = config.http.bind;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| {
        Failure::work(format!(
            "cannot reach loa serve at {addr}: {e} (is the daemon running?)"
        ))
    })?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let who: String = config
        .operator
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nX-Loa-Operator: {who}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| Failure::work(format!("cannot send to {addr}: {e}")))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| Failure::work(format!("no answer from {addr}: {e}")))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Failure::work(format!("{addr} answered something that is not HTTP")))?;
    let code: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    // The daemon answers with Content-Length or chunked; take the JSON object in the body.
    let json_text = rest
        .find('{')
        .map(|i| &rest[i..rest.rfind('}').map_or(rest.len(), |j| j + 1)])
        .unwrap_or("{}");
    let json = serde_json::from_str(json_text).unwrap_or(serde_json::Value::Null);
    Ok((code, json))
}

/// Runs a `loa ctl` command.
pub fn run(data_dir: &Path, cmd: CtlCommand) -> Result<(), Failure> {
    let config = Config::load(data_dir)?;
    let (method, path, body, json) = match &cmd {
        CtlCommand::Status { json } => ("GET", "/api/status".to_string(), None, *json),
        CtlCommand::Play {
            bulletin,
            station,
            next,
        } => (
            "POST",
            format!("/api/stations/{station}/play"),
            Some(serde_json::json!({"bulletin": bulletin, "next": next})),
            false,
        ),
        CtlCommand::Skip { station } => {
            ("POST", format!("/api/stations/{station}/skip"), None, false)
        }
        CtlCommand::Stop { station } => {
            ("POST", format!("/api/stations/{station}/stop"), None, false)
        }
        CtlCommand::Urgent { bulletin, station } => (
            "POST",
            format!("/api/stations/{station}/urgent"),
            Some(serde_json::json!({"bulletin": bulletin})),
            false,
        ),
    };
    let (code, answer) = request(&config, method, &path, body)?;
    if !(200..300).contains(&code) {
        let msg = answer["error"]
            .as_str()
            .unwrap_or("the daemon refused the request")
            .to_string();
        return Err(Failure {
            code: if (400..500).contains(&code) { 2 } else { 1 },
            lines: vec![msg],
        });
    }
    if json {
        return print_json(&answer);
    }
    match cmd {
        CtlCommand::Status { .. } => {
            if let Some(stations) = answer["stations"].as_object() {
                for (code, s) in stations {
                    let on_air = s["on_air"]["title"]
                        .as_str()
                        .map_or("— (im lặng / idle)".to_string(), |t| {
                            format!("{t} [{}]", s["on_air"]["source"].as_str().unwrap_or(""))
                        });
                    println!("{:<14} {}", code, on_air);
                    if let Some(alerts) = s["alerts"].as_array() {
                        for a in alerts.iter().rev().take(3) {
                            println!("{:<14}   ! {}", "", a.as_str().unwrap_or(""));
                        }
                    }
                }
            }
        }
        _ => println!("ok: {} station(s)", answer["stations"]),
    }
    Ok(())
}
