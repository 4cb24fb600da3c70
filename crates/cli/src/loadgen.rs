//! A small HTTP/1.1 load generator for `wxcard bench`: N keep-alive connections, each sending
//! one request at a time for a fixed duration, recording every latency.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One request to repeat.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// What the report calls it.
    pub(crate) name: &'static str,
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    /// Path and query.
    pub(crate) path: String,
    /// JSON body for a POST.
    pub(crate) body: Option<String>,
    /// A response counts only when its body contains this.
    pub(crate) expect: &'static str,
}

impl Target {
    pub(crate) fn get(name: &'static str, path: impl Into<String>, expect: &'static str) -> Self {
        Self {
            name,
            method: "GET",
            path: path.into(),
            body: None,
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
            body: Some(body),
            expect,
        }
    }

    fn request(&self, addr: SocketAddr) -> Vec<u8> {
        let body = self.body.as_deref().unwrap_or_default();
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
/// unless it is a 200 whose body contains `target.expect`.
pub(crate) async fn run(
    addr: SocketAddr,
    target: &Target,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let request = target.request(addr);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (request, expect) = (request.clone(), target.expect);
        tasks.push(tokio::spawn(async move {
            connection_loop(addr, &request, deadline, expect).await
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
    request: &[u8],
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
        let sent = Instant::now();
        stream.write_all(request).await?;
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
