//! The accept loop: HTTP/1.1 connections served by hyper under wxcard's [`Limits`]. Every
//! refusal is answered in WeChat's shape, never by a silent close:
//! - a connection over `max_connections` (or `max_connections_per_client` for its address) is
//!   served, but each of its requests (but `/healthz`) gets errcode -1 with a hint naming the
//!   limit, and it is closed after the answer;
//! - a request over `max_in_flight` gets the same "busy" answer at once (`/healthz` is not
//!   counted, so a load balancer can tell a busy server from a dead one);
//! - headers that do not arrive within `header_timeout_ms` get 408 with a WeChat error body;
//! - a body that does not arrive within `body_timeout_ms` gets 47001 (in [`super::extract`]).
//!
//! One connection answers one request at a time (HTTP/1.1; pipelined requests wait their turn).

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use wxcard_wire::{ErrCode, WxError};

use crate::config::Limits;
use crate::http::respond::JSON_CONTENT_TYPE;

/// How long a body may take to arrive, put in each request's extensions for the extractors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

/// What the server carries right now: open connections and requests being answered.
#[derive(Debug)]
pub(crate) struct Load {
    limits: Limits,
    connections: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    in_flight: Arc<Semaphore>,
}

impl Load {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            limits,
            connections: AtomicUsize::new(0),
            per_client: Mutex::new(HashMap::new()),
        }
    }

    /// Open connections.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Requests being answered (not counting `/healthz`).
    pub(crate) fn in_flight(&self) -> usize {
        self.limits.max_in_flight - self.in_flight.available_permits()
    }

    /// Counts a new connection; the refusal, if any, names the limit it is over.
    fn admit(self: &Arc<Self>, client: IpAddr) -> (Connection, Option<String>) {
        let total = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let from_client = {
            let mut per_client = self
                .per_client
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = per_client.entry(client).or_insert(0);
            *count += 1;
            *count
        };
        let connection = Connection {
            load: Arc::clone(self),
            client,
        };
        let refusal = if total > self.limits.max_connections {
            Some(format!(
                "wxcard has {} connections open, its limit (limits.max_connections); retry later",
                self.limits.max_connections
            ))
        } else if from_client > self.limits.max_connections_per_client {
            Some(format!(
                "{client} has {} connections open, the limit for one client (limits.max_connections_per_client); reuse connections or retry later",
                self.limits.max_connections_per_client
            ))
        } else {
            None
        };
        (connection, refusal)
    }
}

/// One open connection, counted until it is dropped.
#[derive(Debug)]
struct Connection {
    load: Arc<Load>,
    client: IpAddr,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.load.connections.fetch_sub(1, Ordering::Relaxed);
        let mut per_client = self
            .load
            .per_client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = per_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                per_client.remove(&self.client);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets the requests in flight
/// finish.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    load: Arc<Load>,
    shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut tasks = JoinSet::new();
    let mut stop = shutdown.clone();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        while tasks.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        tasks.spawn(connection(
            stream,
            peer,
            router.clone(),
            Arc::clone(&load),
            shutdown.clone(),
        ));
    }
    drop(listener);
    // Requests in flight get a grace period; a client that never reads its answer does not
    // hold the shutdown up for longer.
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "{} connections still open after {} s; closing them",
            tasks.len(),
            SHUTDOWN_GRACE.as_secs()
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Ok(())
}

/// How long a stopping server waits for the requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Resolves when `shutdown` turns true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    load: Arc<Load>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (counted, refusal) = load.admit(peer.ip());
    let body_timeout = BodyTimeout(Duration::from_millis(load.limits.body_timeout_ms));
    let service_load = Arc::clone(&load);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        // Refusals are decided before anything is awaited, from the borrowed path: a request
        // that is let through costs no copy of it.
        let path = request.uri().path();
        let health = path == "/healthz";
        let admitted = match &refusal {
            Some(refusal) if !health => {
                let mut response = busy(path, refusal);
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                Err(response)
            }
            _ if health => Ok(None),
            _ => Arc::clone(&service_load.in_flight)
                .try_acquire_owned()
                .map(Some)
                .map_err(|_| {
                    busy(
                        path,
                        &format!(
                            "wxcard is answering {} requests at once, its limit (limits.max_in_flight); retry",
                            service_load.limits.max_in_flight
                        ),
                    )
                }),
        };
        let close = refusal.is_some();
        let router = router.clone();
        async move {
            let _permit: Option<OwnedSemaphorePermit> = match admitted {
                Ok(permit) => permit,
                Err(refused) => return Ok::<_, Infallible>(refused),
            };
            request.extensions_mut().insert(body_timeout);
            let mut router = router;
            let mut response =
                tower_service::Service::call(&mut router, request.map(Body::new)).await?;
            if close {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        }
    });
    let started_request = AtomicBool::new(false);
    let flushed = AtomicBool::new(true);
    let io = TokioIo::new(Watched {
        stream: &mut stream,
        started_request: &started_request,
        flushed: &flushed,
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(load.limits.header_timeout_ms));
    let served = builder.serve_connection(io, service);
    tokio::pin!(served);
    let mut stopping = false;
    let result = loop {
        tokio::select! {
            result = served.as_mut() => break result,
            () = stopped(&mut shutdown), if !stopping => {
                served.as_mut().graceful_shutdown();
                stopping = true;
            }
        }
    };
    if let Err(error) = result {
        // Headers too slow: answer the request that was started (an idle kept-alive
        // connection is just closed).
        // Only when the last answer went out whole: never after a half-written response.
        let answer_sent = flushed.load(Ordering::Relaxed);
        if error.is_timeout() && started_request.load(Ordering::Relaxed) && answer_sent {
            let body = serde_json::to_string(&WxError::with_hint(
                ErrCode::SYSTEM_BUSY,
                &format!(
                    "the request's headers did not arrive within {} ms (limits.header_timeout_ms)",
                    load.limits.header_timeout_ms
                ),
            ))
            .unwrap_or_default();
            let answer = format!(
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; encoding=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            // A client that does not read gets a second of our time, not a connection slot.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            })
            .await;
        } else {
            tracing::debug!(%error, "connection ended with an error");
        }
    }
    drop(counted);
}

/// The "busy" answer: errcode -1 with a hint, HTTP 200 on WeChat's paths (which always answer
/// 200) and 503 on wxcard's own.
fn busy(path: &str, hint: &str) -> Response {
    let body =
        serde_json::to_vec(&WxError::with_hint(ErrCode::SYSTEM_BUSY, hint)).unwrap_or_default();
    let wechat =
        path.starts_with("/card/") || path.starts_with("/cgi-bin/") || path.starts_with("/sns/");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = if wechat {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, JSON_CONTENT_TYPE);
    response
}

/// The connection's stream, noting whether a request has started arriving since the last
/// answer was written (so a header timeout can tell a slow request from an idle connection),
/// and whether everything written was flushed (hyper flushes once its buffer is out).
struct Watched<'a> {
    stream: &'a mut TcpStream,
    started_request: &'a AtomicBool,
    flushed: &'a AtomicBool,
}

impl Watched<'_> {
    /// An answer is going out: the request before it is over, and the bytes are not flushed yet.
    fn note_written(&self, polled: &Poll<io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(written)) if *written > 0) {
            self.started_request.store(false, Ordering::Relaxed);
            self.flushed.store(false, Ordering::Relaxed);
        }
    }
}

impl AsyncRead for Watched<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut *self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.started_request.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Watched<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut *self.stream).poll_write(cx, buf);
        self.note_written(&polled);
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut *self.stream).poll_flush(cx);
        if matches!(polled, Poll::Ready(Ok(()))) {
            self.flushed.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut *self.stream).poll_write_vectored(cx, bufs);
        self.note_written(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
