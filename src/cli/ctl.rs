//! `loa ctl status|events|play|skip|stop|urgent`: talks to a running daemon's control API
//! on the address and with the token of the data dir's loa.toml. A small HTTP/1.1 client
//! over a TCP stream: the API is on the loopback and answers JSON (and server-sent events).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use clap::Subcommand;

use crate::config::Config;

use super::output::{print_json, LangArg};
use super::Failure;
use crate::lang::Lang;

/// `loa ctl` subcommands.
#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// What every station is playing, what comes next, alerts.
    Status {
        /// Print the JSON as the API gives it.
        #[arg(long)]
        json: bool,
        /// Language of the words (alerts, sources): vi (default) or en.
        #[arg(long, value_enum, default_value_t)]
        lang: LangArg,
    },
    /// Follow what the stations do as it happens (slots and items starting and ending,
    /// alerts), one line an event, until the daemon stops or Ctrl-C.
    Events {
        /// Only this station.
        #[arg(long)]
        station: Option<String>,
        /// One JSON object a line, as the API sends them.
        #[arg(long)]
        json: bool,
        /// Language of the words (statuses, reasons, alerts): vi (default) or en.
        #[arg(long, value_enum, default_value_t)]
        lang: LangArg,
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

/// Connects to the API and sends one request; the stream then holds the answer.
fn send(
    config: &Config,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<TcpStream, Failure> {
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
    // Percent-encoded UTF-8: the name reaches the airlog as typed ("Nguyễn Văn An").
    let who = crate::web::operator::encode(&crate::text::nfc(&config.operator));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nX-Loa-Operator: {who}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| Failure::work(format!("cannot send to {addr}: {e}")))?;
    Ok(stream)
}

/// The status code of an answer's first line.
fn status_code(line: &str) -> u16 {
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// One request to the API; returns the status code and the JSON body.
fn request(
    config: &Config,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value), Failure> {
    let addr = config.http.bind;
    let mut stream = send(config, method, path, body)?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| Failure::work(format!("no answer from {addr}: {e}")))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Failure::work(format!("{addr} answered something that is not HTTP")))?;
    let code = status_code(head);
    // The daemon answers with Content-Length or chunked; take the JSON object in the body.
    let json_text = rest
        .find('{')
        .map(|i| &rest[i..rest.rfind('}').map_or(rest.len(), |j| j + 1)])
        .unwrap_or("{}");
    let json = serde_json::from_str(json_text).unwrap_or(serde_json::Value::Null);
    Ok((code, json))
}

/// Refusal of a request: exit 2 for the caller's mistakes (4xx), 1 otherwise.
fn refused(code: u16, answer: &serde_json::Value) -> Failure {
    Failure {
        code: if (400..500).contains(&code) { 2 } else { 1 },
        lines: vec![answer["error"]
            .as_str()
            .unwrap_or("the daemon refused the request")
            .to_string()],
    }
}

/// One event as a line for people, its words in `lang` as the daemon rendered them; times
/// are UTC.
fn event_line(v: &serde_json::Value, lang: Lang) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    // The daemon's words, or the value's code from an older daemon that sent none.
    let text = |k: &str, code: &str| v[k].as_str().map_or_else(|| s(code), str::to_string);
    let station = s("station");
    match v["event"].as_str().unwrap_or("") {
        "slot_started" => format!("{station:<14} ▶ {} ({})", s("slot"), s("at")),
        "slot_ended" => format!(
            "{station:<14} ■ {}: {} — {}",
            s("slot"),
            text("status_text", "status"),
            s("summary")
        ),
        "item_started" => format!(
            "{station:<14}   ▷ {} [{}]",
            s("title"),
            text("source_text", "source")
        ),
        "item_ended" => {
            let why = s("reason");
            format!(
                "{station:<14}   □ {} {} ({} ms){}",
                s("bulletin"),
                text("status_text", "status"),
                v["played_ms"],
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            )
        }
        "alert" => format!("{station:<14} ! {}", s("message")),
        "lagged" => match lang {
            Lang::Vi => format!(
                "… bỏ lỡ {} sự kiện (chương trình theo dõi này nhận quá chậm)",
                v["missed"]
            ),
            Lang::En => format!(
                "… {} event(s) missed (this listener was too slow)",
                v["missed"]
            ),
        },
        other => format!("{station:<14} {other}"),
    }
}

/// What an idle station waits for, in station-local time as the daemon gives it
/// ("khung giờ tới / next slot: Sáng at 05:30 06/03/2023").
fn next_slot_line(next: &serde_json::Value, lang: Lang) -> String {
    let when = next["start"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let label = match lang {
        Lang::Vi => "khung giờ tới",
        Lang::En => "next slot",
    };
    match (next["name"].as_str(), when) {
        (Some(name), Some(t)) => format!("{label}: {name} — {}", t.format("%H:%M %d/%m/%Y")),
        _ => match lang {
            Lang::Vi => format!("{label}: không có trong lịch đã lập"),
            Lang::En => format!("{label}: none in the schedules built"),
        },
    }
}

/// Follows the event stream, printing each event, until the daemon closes it.
fn follow(config: &Config, station: Option<&str>, json: bool, lang: Lang) -> Result<(), Failure> {
    let path = match station {
        Some(c) => format!("/api/events?lang={}&station={c}", lang.code()),
        None => format!("/api/events?lang={}", lang.code()),
    };
    let addr = config.http.bind;
    let stream = send(config, "GET", &path, None)?;
    // The daemon sends a keep-alive comment every 15 s; a minute of nothing means it is gone.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut lines = BufReader::new(stream).lines();
    let first = lines.next().transpose().ok().flatten().unwrap_or_default();
    let code = status_code(&first);
    if code != 200 {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let body = rest.join(
            "
",
        );
        let answer = body
            .find('{')
            .and_then(|i| serde_json::from_str(&body[i..=body.rfind('}')?]).ok())
            .unwrap_or(serde_json::Value::Null);
        return Err(refused(code, &answer));
    }
    for line in lines {
        let line =
            line.map_err(|e| Failure::work(format!("the event stream from {addr} broke: {e}")))?;
        // Chunk sizes, headers, `event:` lines and keep-alive comments are skipped; the
        // JSON in `data:` carries the event's kind too.
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        if json {
            println!("{data}");
        } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
            println!("{}", event_line(&v, lang));
        }
    }
    Ok(())
}

/// Runs a `loa ctl` command.
pub fn run(data_dir: &Path, cmd: CtlCommand) -> Result<(), Failure> {
    let config = Config::load(data_dir)?;
    let (method, path, body, json) = match &cmd {
        CtlCommand::Events {
            station,
            json,
            lang,
        } => return follow(&config, station.as_deref(), *json, (*lang).into()),
        CtlCommand::Status { json, lang } => (
            "GET",
            format!("/api/status?lang={}", Lang::from(*lang).code()),
            None,
            *json,
        ),
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
        return Err(refused(code, &answer));
    }
    if json {
        return print_json(&answer);
    }
    match cmd {
        CtlCommand::Status { lang, .. } => {
            let lang = Lang::from(lang);
            let idle = match lang {
                Lang::Vi => "— (không phát)",
                Lang::En => "— (idle)",
            };
            if let Some(stations) = answer["stations"].as_object() {
                for (code, s) in stations {
                    let on_air = s["on_air"]["title"].as_str().map_or(idle.to_string(), |t| {
                        let source = s["on_air"]["source_text"]
                            .as_str()
                            .or(s["on_air"]["source"].as_str())
                            .unwrap_or("");
                        format!("{t} [{source}]")
                    });
                    println!("{:<14} {}", code, on_air);
                    if s["on_air"].is_null() {
                        println!("{:<14}   {}", "", next_slot_line(&s["next_slot"], lang));
                    }
                    if let Some(node) = s["node_text"].as_str() {
                        println!("{:<14}   {}", "", node);
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_slot_is_shown_in_station_local_time() {
        let v = serde_json::json!({"name": "Sáng", "start": "2023-03-06T05:30:00+07:00"});
        let line = next_slot_line(&v, Lang::Vi);
        assert_eq!(line, "khung giờ tới: Sáng — 05:30 06/03/2023");
        assert_eq!(
            next_slot_line(&v, Lang::En),
            "next slot: Sáng — 05:30 06/03/2023"
        );
        assert!(next_slot_line(&serde_json::Value::Null, Lang::Vi).contains("không có"));
        assert!(next_slot_line(&serde_json::Value::Null, Lang::En).contains("none"));
    }
}
