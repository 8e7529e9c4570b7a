//! Serving the control API on a listener, with the limits a daemon on a commune PC needs:
//! a connection that sends no complete request head within [`HEADER_TIMEOUT`] (idle, or
//! half-sent) is closed by hyper's header read timeout; a request whose handler (body
//! included) takes longer than [`REQUEST_TIMEOUT`] is answered 408; a body longer than
//! [`MAX_BODY`] is answered 413 before it is read. The event stream is a response that
//! started in time, so it runs for as long as its listener stays.
//!
//! With `[http] tls_cert` and `tls_key` the port speaks HTTPS ([`super::tls`]); plain HTTP is
//! then taken only from the loopback (`loa ctl` on the server).
//!
//! Shutdown is a parameter: once it resolves no connection is accepted, open ones finish
//! their request and close, and after [`DRAIN_TIMEOUT`] the rest (event streams) are
//! dropped.

use std::future::Future;
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::ApiError;

/// How long a connection may take to send a request's head (and stay idle between
/// requests).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take from its head to its answer, its body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request body taken (the API's bodies are a few dozen bytes).
pub const MAX_BODY: usize = 16 * 1024;
/// How long an upload may take from its head to its answer (200 MB at about 1 Mbit/s,
/// a commune's slow link, takes half an hour).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long open connections get to finish once the daemon stops.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Refuses an oversized body by its declared length (413) and answers 408 when the request
/// takes longer than [`REQUEST_TIMEOUT`].
pub async fn limits(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_BODY as u64) {
        return ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is {n} bytes; the control API takes at most {MAX_BODY}"),
        )
        .into_response();
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request was not received and answered within {} s",
                REQUEST_TIMEOUT.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Answers 408 when an upload takes longer than [`UPLOAD_TIMEOUT`].
pub async fn upload_limits(req: Request, next: Next) -> Response {
    match tokio::time::timeout(UPLOAD_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload was not received and answered within {} minutes",
                UPLOAD_TIMEOUT.as_secs() / 60
            ),
        )
        .into_response(),
    }
}

/// The upload routes' limits: no overall body limit (each file is counted against
/// `[http] upload_max_mb` as it streams to disk, and an upload holds at most
/// [`crate::web::library::upload::MAX_FILES`]), and the longer [`UPLOAD_TIMEOUT`].
pub fn with_upload_limits(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(upload_limits))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// Adds the body limit and the request timeout to the API's routes.
pub fn with_limits(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(limits))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
}

/// Serves `app` on `listener` until `shutdown` resolves: HTTPS when `tls` is given (a
/// client on the loopback may still speak plain HTTP on the same port, so `loa ctl` on the
/// server keeps working; told apart by the first byte), else plain HTTP.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Each connection task holds a sender; when all are gone, every connection is closed.
    let (alive_tx, mut alive_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, then go on.
                    tracing::warn!(error = %e, "control API: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let stop = stop_rx.clone();
        let alive = alive_tx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let Some(acceptor) = tls else {
                return connection(stream, peer, app, stop).await;
            };
            let mut first = [0u8; 1];
            match tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut first)).await {
                Ok(Ok(1)) if first[0] == super::tls::HANDSHAKE => {
                    match tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => connection(tls_stream, peer, app, stop).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                Ok(Ok(1)) if peer.ip().is_loopback() => connection(stream, peer, app, stop).await,
                Ok(Ok(1)) => {
                    tracing::debug!(%peer, "plain HTTP off the loopback refused on the HTTPS port")
                }
                _ => {}
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, alive_rx.recv()).await;
}

/// Serves one connection (plain or TLS) until it ends, or until the stop, when it finishes
/// its request and closes.
async fn connection<I>(
    io: I,
    peer: std::net::SocketAddr,
    app: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app.map_request(
        move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(super::auth::ClientAddr(peer));
            req
        },
    ));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "control API connection ended");
            }
        }
        _ = async { drop(stop.wait_for(|s| *s).await) } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
