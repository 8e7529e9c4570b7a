//! The node's HTTP(S) client to the district server: the one place reqwest is used. Every
//! request is signed with the node key ([`super::auth::message`]); TLS is rustls with the
//! ring provider and the system's roots.

use std::sync::Arc;

use reqwest::{Method, StatusCode};

use super::auth::{self, NODE_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER};
use super::manifest::Manifest;
use super::node::NodeKey;
use crate::clock::Clock;

/// Why a request to the server did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached (or the connection broke).
    #[error("cannot reach the server {server}: {why}")]
    Unreachable {
        /// The server's URL.
        server: String,
        /// What failed.
        why: String,
    },
    /// The server refused, with its sentence.
    #[error("the server refused ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's sentence.
        message: String,
    },
    /// The answer is not what the protocol says.
    #[error("the server's answer is unreadable: {0}")]
    Bad(String),
    /// The URL is not one the client can use.
    #[error("'{0}' is not a server URL (write http://HOST:PORT or https://HOST:PORT)")]
    BadUrl(String),
}

/// A signed-request client of one server.
pub struct Client {
    /// The HTTP client.
    http: reqwest::Client,
    /// The server's base URL, without a trailing slash.
    server: String,
    /// Signs every request.
    key: Arc<NodeKey>,
    /// The time a request carries.
    clock: Arc<dyn Clock>,
    /// The server's clock minus this node's, ms, as last measured: a request carries the
    /// server's time, so a node whose clock is wrong still authenticates.
    correction_ms: std::sync::atomic::AtomicI64,
}

/// The server's answer to an enrolment.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Enrolled {
    /// The station the node plays.
    pub station: String,
    /// The node's public key.
    pub node: String,
    /// When.
    pub enrolled_at: chrono::DateTime<chrono::Utc>,
}

/// A new manifest: the parsed one and its tag.
#[derive(Debug, Clone)]
pub struct NewManifest {
    /// The manifest.
    pub manifest: Manifest,
    /// Its ETag.
    pub etag: String,
}

impl Client {
    /// A client of `server` signing with `key`.
    pub fn new(
        server: &str,
        key: Arc<NodeKey>,
        clock: Arc<dyn Clock>,
        fingerprint: Option<&str>,
    ) -> Result<Client, ClientError> {
        let server = server.trim().trim_end_matches('/').to_string();
        let parsed =
            reqwest::Url::parse(&server).map_err(|_| ClientError::BadUrl(server.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ClientError::BadUrl(server));
        }
        // ring, not aws-lc-rs: no C toolchain build of aws-lc on commune PCs and CI. rustls
        // deprecates it for lacking post-quantum key exchange, which a link carrying public
        // bulletins and signed requests does not need yet. Another part of the process may
        // have installed a provider already: either is fine.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        if let Some(pin) = fingerprint {
            builder = builder.tls_backend_preconfigured(
                super::pin::client_config(pin).map_err(ClientError::Bad)?,
            );
        }
        let http = builder
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("loa-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Bad(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            server,
            key,
            clock,
            correction_ms: Default::default(),
        })
    }

    /// The server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Signs requests with the node's clock corrected by `offset` (the node's clock minus
    /// the server's, as [`super::clock::Exchange`] measured it).
    pub fn correct_by(&self, offset: &super::clock::Offset) {
        self.correction_ms
            .store(-offset.offset_ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// One four-timestamp exchange with the server (`GET /agent/v1/time`), on the node's
    /// clock.
    pub async fn exchange(&self) -> Result<super::clock::Exchange, ClientError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            received_ms: i64,
            sent_ms: i64,
        }
        let req = self.signed(Method::GET, "/agent/v1/time", Vec::new())?;
        let sent = self.clock.now().timestamp_millis();
        let resp = refused_unless_ok(self.send(req).await?).await?;
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable {
            server: self.server.clone(),
            why: error_chain(&e),
        })?;
        let received = self.clock.now().timestamp_millis();
        let a: Answer = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Bad(format!("the time answer: {e}")))?;
        Ok(super::clock::Exchange {
            sent,
            server_received: a.received_ms,
            server_sent: a.sent_ms,
            received,
        })
    }

    /// Sends a status report.
    pub async fn report(&self, r: &super::report::NodeReport) -> Result<(), ClientError> {
        let body = serde_json::to_vec(r)
            .map_err(|e| ClientError::Bad(format!("cannot write the report: {e}")))?;
        let req = self
            .signed(Method::POST, "/agent/v1/status", body)?
            .header("content-type", "application/json");
        refused_unless_ok(self.send(req).await?).await?;
        Ok(())
    }

    /// Opens the announcement stream (`GET /agent/v1/events`); the caller reads its chunks.
    /// No read timeout beyond the client's: the server's heartbeat keeps it under it.
    pub async fn events(&self) -> Result<reqwest::Response, ClientError> {
        let req = self
            .signed(Method::GET, "/agent/v1/events", Vec::new())?
            .header("accept", "text/event-stream");
        refused_unless_ok(self.send(req).await?).await
    }

    /// Acknowledges announcement `id` (it is in this node's queue and store).
    pub async fn took_announcement(&self, id: i64) -> Result<(), ClientError> {
        let req = self.signed(
            Method::POST,
            &format!("/agent/v1/announcements/{id}"),
            Vec::new(),
        )?;
        refused_unless_ok(self.send(req).await?).await?;
        Ok(())
    }

    /// A request to `path`, signed.
    fn signed(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let time = (self.clock.now().timestamp_millis()
            + self
                .correction_ms
                .load(std::sync::atomic::Ordering::Relaxed))
        .div_euclid(1000);
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)
            .map_err(|e| ClientError::Bad(format!("no random bytes: {e}")))?;
        let nonce = hex::encode(nonce);
        let signature = self
            .key
            .sign(&auth::message(method.as_str(), path, time, &nonce, &body));
        Ok(self
            .http
            .request(method, format!("{}{path}", self.server))
            .header(NODE_HEADER, self.key.public_hex())
            .header(TIME_HEADER, time.to_string())
            .header(NONCE_HEADER, nonce)
            .header(SIGNATURE_HEADER, signature)
            .body(body))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        req.send().await.map_err(|e| ClientError::Unreachable {
            server: self.server.clone(),
            why: error_chain(&e),
        })
    }

    /// Enrols this node with a one-time token.
    pub async fn enroll(&self, token: &str) -> Result<Enrolled, ClientError> {
        let body =
            serde_json::json!({ "token": token.trim(), "public_key": self.key.public_hex() });
        let req = self
            .signed(
                Method::POST,
                "/agent/v1/enroll",
                body.to_string().into_bytes(),
            )?
            .header("content-type", "application/json");
        let resp = refused_unless_ok(self.send(req).await?).await?;
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable {
            server: self.server.clone(),
            why: error_chain(&e),
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Bad(format!("the enrolment answer: {e}")))
    }

    /// The station's manifest, or `None` when it is still the one tagged `etag`.
    pub async fn manifest(&self, etag: Option<&str>) -> Result<Option<NewManifest>, ClientError> {
        self.manifest_for(etag, None).await
    }

    /// The station's manifest of `window` (none: from the server's today).
    pub async fn manifest_for(
        &self,
        etag: Option<&str>,
        window: Option<super::sync::Window>,
    ) -> Result<Option<NewManifest>, ClientError> {
        let path = match window {
            Some(w) => format!("/agent/v1/manifest?from={}&days={}", w.from, w.days),
            None => "/agent/v1/manifest".to_string(),
        };
        let mut req = self.signed(Method::GET, &path, Vec::new())?;
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        let resp = self.send(req).await?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let resp = refused_unless_ok(resp).await?;
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ClientError::Bad("the manifest has no ETag".into()))?
            .to_string();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable {
            server: self.server.clone(),
            why: error_chain(&e),
        })?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Bad(format!("the manifest: {e}")))?;
        manifest.check().map_err(ClientError::Bad)?;
        Ok(Some(NewManifest { manifest, etag }))
    }

    /// The audio `sha256` from byte `from` on (a range request when `from > 0`). The
    /// answer is 200 (the whole file) or 206 (the rest); the caller reads its chunks.
    pub async fn media(&self, sha256: &str, from: u64) -> Result<reqwest::Response, ClientError> {
        let mut req = self.signed(
            Method::GET,
            &format!("/agent/v1/media/{sha256}"),
            Vec::new(),
        )?;
        if from > 0 {
            req = req.header("range", format!("bytes={from}-"));
        }
        let resp = self.send(req).await?;
        if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(resp);
        }
        refused_unless_ok(resp).await
    }
}

impl Client {
    /// The head the server holds for this node's station.
    pub async fn airlog_head(&self) -> Result<Option<super::homeward::Head>, ClientError> {
        #[derive(serde::Deserialize)]
        struct Answer {
            head: Option<super::homeward::Head>,
        }
        let req = self.signed(Method::GET, "/agent/v1/airlog/head", Vec::new())?;
        let a: Answer = self
            .json(refused_unless_ok(self.send(req).await?).await?)
            .await?;
        Ok(a.head)
    }

    /// Sends rows that follow the server's head.
    pub async fn upload_airlog(
        &self,
        upload: &super::inbox::Upload,
    ) -> Result<super::inbox::Taken, ClientError> {
        let body = serde_json::to_vec(upload)
            .map_err(|e| ClientError::Bad(format!("cannot write the upload: {e}")))?;
        let req = self
            .signed(Method::POST, "/agent/v1/airlog", body)?
            .header("content-type", "application/json");
        self.json(refused_unless_ok(self.send(req).await?).await?)
            .await
    }

    /// A JSON answer's body.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        resp: reqwest::Response,
    ) -> Result<T, ClientError> {
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable {
            server: self.server.clone(),
            why: error_chain(&e),
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Bad(format!("the server's answer: {e}")))
    }
}

/// The response when it is a success; else the server's sentence as [`ClientError::Refused`].
async fn refused_unless_ok(resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(String::from))
        .unwrap_or_else(|| text.chars().take(200).collect());
    Err(ClientError::Refused {
        status: status.as_u16(),
        message,
    })
}

/// An error and its causes on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
