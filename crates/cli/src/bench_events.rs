//! `wxcard bench events`: how fast queued events reach a merchant's server, in plain and in
//! safe mode. Events are created while the account has no push URL (they wait), then the push
//! is configured and the time runs from the first push the receiver gets to the last.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::client::Server;
use crate::loadgen::{self, Target};

/// The target of the issue: events delivered per second on SQLite.
pub(crate) const EVENTS_TARGET: f64 = 10_000.0;

/// A keep-alive receiver that echoes the handshake and answers every push `success`.
struct Receiver {
    url: String,
    received: Arc<AtomicU64>,
    first: Arc<Mutex<Option<Instant>>>,
    last: Arc<Mutex<Option<Instant>>>,
}

async fn start_receiver() -> anyhow::Result<Receiver> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/wechat", listener.local_addr()?);
    let (received, first, last) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(Mutex::new(None)),
        Arc::new(Mutex::new(None)),
    );
    let (counter, first_at, last_at) =
        (Arc::clone(&received), Arc::clone(&first), Arc::clone(&last));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (counter, first_at, last_at) = (
                Arc::clone(&counter),
                Arc::clone(&first_at),
                Arc::clone(&last_at),
            );
            tokio::spawn(async move {
                let _ = serve(stream, &counter, &first_at, &last_at).await;
            });
        }
    });
    Ok(Receiver {
        url,
        received,
        first,
        last,
    })
}

async fn serve(
    stream: tokio::net::TcpStream,
    counter: &AtomicU64,
    first: &Mutex<Option<Instant>>,
    last: &Mutex<Option<Instant>>,
) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            if header == "\r\n" {
                break;
            }
            if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let answer = if request_line.starts_with("GET") {
            request_line
                .split(['?', '&', ' '])
                .find_map(|part| part.strip_prefix("echostr="))
                .unwrap_or_default()
                .to_owned()
        } else {
            let now = Instant::now();
            first
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert(now);
            *last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(now);
            counter.fetch_add(1, Ordering::Relaxed);
            "success".to_owned()
        };
        write
            .write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            )
            .await?;
    }
}

/// One mode's measurement.
pub(crate) struct EventsRun {
    pub(crate) mode: &'static str,
    pub(crate) events: u64,
    pub(crate) elapsed: Duration,
}

impl EventsRun {
    pub(crate) fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Queues `events` events for a new account, points its push at a local receiver in `mode`,
/// and times the deliveries.
pub(crate) async fn measure(
    addr: SocketAddr,
    events: u64,
    mode: &'static str,
    card: &str,
) -> anyhow::Result<EventsRun> {
    let server = Server::new(&addr.to_string(), None)?;
    let receiver = start_receiver().await?;
    let app = call(
        &server,
        "POST",
        "/admin/v1/apps".into(),
        Some(serde_json::json!({"kind": "service_account", "name": format!("events {mode}")})),
    )
    .await?;
    let appid = app["appid"].as_str().context("no appid")?.to_owned();
    let secret = app["secret"].as_str().context("no secret")?.to_owned();
    let token = call(
        &server,
        "GET",
        format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
        None,
    )
    .await?["access_token"]
        .as_str()
        .context("no token")?
        .to_owned();
    // Each card created writes one card_pass_check event; the account has no push URL yet.
    eprintln!("queueing {events} events ({mode})…");
    let made = Arc::new(AtomicU64::new(0));
    let card = card.to_owned();
    let create = Target::generated(
        "create",
        format!("/card/create?access_token={token}"),
        "card_id",
        Arc::new(move |n| (n < events).then(|| card.clone())),
    );
    let created = loadgen::run(addr, &create, 32, Duration::from_secs(600), made).await?;
    if created.errors > 0 {
        bail!(
            "{} card creations failed: {}",
            created.errors,
            created.first_error.unwrap_or_default()
        );
    }
    let push = serde_json::json!({"url": receiver.url, "token": "benchtoken", "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "mode": mode});
    call(
        &server,
        "PUT",
        format!("/admin/v1/apps/{appid}/push"),
        Some(push),
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut shown = 0;
    while receiver.received.load(Ordering::Relaxed) < events {
        if Instant::now() > deadline {
            bail!(
                "only {} of {events} events arrived within 120 s",
                receiver.received.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let done = receiver.received.load(Ordering::Relaxed);
        if done / (events / 10).max(1) > shown {
            shown = done / (events / 10).max(1);
            eprint!("\rdelivered {done:>7}/{events} ({mode})");
        }
    }
    eprintln!();
    let first = receiver
        .first
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .context("no push arrived")?;
    let last = receiver
        .last
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .context("no push arrived")?;
    Ok(EventsRun {
        mode,
        events,
        elapsed: last.duration_since(first),
    })
}

/// An admin call made off the async runtime: the receiver answering wxcard's handshake runs
/// on this same runtime, so blocking it would deadlock.
async fn call(
    server: &Server,
    method: &'static str,
    path: String,
    body: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let server = server.clone();
    tokio::task::spawn_blocking(move || server.json(method, &path, body.as_ref()))
        .await
        .context("an admin call panicked")?
}
