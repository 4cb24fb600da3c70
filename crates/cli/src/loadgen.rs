//! A small HTTP/1.1 load generator for `wxcard bench`: N keep-alive connections, each sending
//! one request at a time for a fixed duration (or until its requests run out), recording every
//! latency.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Makes the body of the n-th request (n counts across all connections); `None` ends the run
/// early. Used where requests must differ: a fresh cardExt per claim, a new code per consume.
pub(crate) type Generator = Arc<dyn Fn(u64) -> Option<String> + Send + Sync>;

/// One kind of request to repeat.
#[derive(Clone)]
pub(crate) struct Target {
    /// What the report calls it.
    pub(crate) name: &'static str,
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    /// Path and query.
    pub(crate) path: String,
    /// The JSON body of every request, or a generator of bodies.
    pub(crate) body: Body,
    /// A response counts only when its body contains this.
    pub(crate) expect: &'static str,
}

/// Where request bodies come from.
#[derive(Clone)]
pub(crate) enum Body {
    /// No body.
    None,
    /// The same body every time.
    Fixed(String),
    /// A new body for each request.
    Generated(Generator),
}

impl Target {
    pub(crate) fn get(name: &'static str, path: impl Into<String>, expect: &'static str) -> Self {
        Self {
            name,
            method: "GET",
            path: path.into(),
            body: Body::None,
            expect,
        }
    }

    pub(crate) fn post(
        name: &'static str,
        path: impl Into<String>,
        body: String,
        expect: &'static str,
    ) -> Self {
        Self {
            name,
            method: "POST",
            path: path.into(),
            body: Body::Fixed(body),
            expect,
        }
    }

    pub(crate) fn generated(
        name: &'static str,
        path: impl Into<String>,
        expect: &'static str,
        generate: Generator,
    ) -> Self {
        Self {
            name,
            method: "POST",
            path: path.into(),
            body: Body::Generated(generate),
            expect,
        }
    }

    fn request(&self, addr: SocketAddr, body: &str) -> Vec<u8> {
        format!("{} {} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: wxcard-bench\r\nContent-Length: {}\r\n\r\n{body}", self.method, self.path, body.len()).into_bytes()
    }
}

/// What one load run measured.
#[derive(Debug, Clone)]
pub(crate) struct LoadResult {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
    /// Sorted, in microseconds.
    pub(crate) latencies: Vec<u32>,
    /// The body of the first failed response, to say why.
    pub(crate) first_error: Option<String>,
}

impl LoadResult {
    /// Whether the load lasted (nearly) all of `duration` instead of running out of requests.
    pub(crate) fn lasted(&self, duration: Duration) -> bool {
        self.elapsed >= duration.mul_f64(0.9)
    }

    pub(crate) fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub(crate) fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * fraction).round() as usize;
        Duration::from_micros(u64::from(
            self.latencies[index.min(self.latencies.len() - 1)],
        ))
    }
}

/// Sends `target` on `connections` connections for `duration`; a response counts as an error
/// unless it is a 200 whose body contains `target.expect`. `sent` counts requests as they go,
/// for a progress display.
pub(crate) async fn run(
    addr: SocketAddr,
    target: &Target,
    connections: usize,
    duration: Duration,
    sent: Arc<AtomicU64>,
) -> anyhow::Result<LoadResult> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (target, sent) = (target.clone(), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            let fixed = match &target.body {
                Body::None => Some(target.request(addr, "")),
                Body::Fixed(body) => Some(target.request(addr, body)),
                Body::Generated(_) => None,
            };
            let next = || -> Option<Vec<u8>> {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                match (&fixed, &target.body) {
                    (Some(request), _) => Some(request.clone()),
                    (None, Body::Generated(generate)) => {
                        generate(n).map(|body| target.request(addr, &body))
                    }
                    (None, _) => None,
                }
            };
            connection_loop(addr, next, deadline, target.expect).await
        }));
    }
    let mut result = LoadResult {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        first_error: None,
    };
    for task in tasks {
        let (latencies, errors, first_error) =
            task.await.context("a load connection panicked")??;
        result.requests += latencies.len() as u64;
        result.errors += errors;
        result.latencies.extend(latencies);
        result.first_error = result.first_error.or(first_error);
    }
    result.elapsed = started.elapsed();
    result.latencies.sort_unstable();
    Ok(result)
}

type ConnectionResult = (Vec<u32>, u64, Option<String>);

async fn connection_loop(
    addr: SocketAddr,
    mut next: impl FnMut() -> Option<Vec<u8>>,
    deadline: Instant,
    expect: &str,
) -> anyhow::Result<ConnectionResult> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(4096);
    let mut latencies = Vec::with_capacity(100_000);
    let (mut errors, mut first_error) = (0, None);
    while Instant::now() < deadline {
        let Some(request) = next() else { break };
        let sent = Instant::now();
        stream.write_all(&request).await?;
        let (status_ok, body) = read_response(&mut stream, &mut buffer).await?;
        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
        if status_ok && find(body, expect.as_bytes()).is_some() {
            latencies.push(micros);
        } else {
            errors += 1;
            first_error.get_or_insert_with(|| String::from_utf8_lossy(body).into_owned());
        }
    }
    Ok((latencies, errors, first_error))
}

/// Reads one response with a Content-Length body; returns (status is 200, body).
async fn read_response<'b>(
    stream: &mut TcpStream,
    buffer: &'b mut Vec<u8>,
) -> anyhow::Result<(bool, &'b [u8])> {
    buffer.clear();
    let mut chunk = [0_u8; 8192];
    let header_end = loop {
        if let Some(position) = find(buffer, b"\r\n\r\n") {
            break position + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .context("the response has no Content-Length")?;
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection mid-body");
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok((
        head.starts_with("http/1.1 200"),
        &buffer[header_end..header_end + length],
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
