//! `wxcard bench`: starts `wxcard serve` as a child process and measures what a user feels:
//! startup to the first answered request, idle memory, and the throughput and latency of an
//! authenticated trivial call (`GET /card/getcolors`) next to `GET /healthz` in the same run,
//! so the ratio shows what authentication and the API layer cost.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;

use crate::loadgen::{self, Target};

/// Options of `wxcard bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Seconds of load per endpoint
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Concurrent keep-alive connections
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How many cold starts to time (the median is reported)
    #[arg(long, default_value_t = 5)]
    startups: usize,
}

/// Targets from the foundation issue; printed next to the measurements, never enforced.
const STARTUP_TARGET: Duration = Duration::from_millis(50);
const RSS_TARGET_KIB: u64 = 20 * 1024;
const AUTHED_TARGET: f64 = 0.8;
const GET_TARGET: f64 = 0.5;
const CREATE_TARGET: f64 = 0.05;

/// The card `/card/create` is measured with: a complete GENERAL_COUPON.
const BENCH_CARD: &str = r#"{"card":{"card_type":"GENERAL_COUPON","general_coupon":{"base_info":{"logo_url":"http://mmbiz.qpic.cn/mmbiz/logo/0","code_type":"CODE_TYPE_QRCODE","brand_name":"Bench","title":"Bench coupon","color":"Color010","notice":"Show the code","description":"A coupon for the benchmark","sku":{"quantity":1000},"date_info":{"type":"DATE_TYPE_FIX_TERM","fixed_term":30,"fixed_begin_term":0}},"default_detail":"10% off"}}}"#;

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let scratch = std::env::temp_dir().join(format!("wxcard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    let result = measure(args, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn measure(args: &BenchArgs, scratch: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the wxcard binary")?;
    println!(
        "wxcard bench: {} cores, {} connections, {} s per endpoint",
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        args.connections,
        args.duration
    );

    eprintln!("timing {} cold starts…", args.startups.max(1));
    let mut startups = Vec::new();
    let mut server = None;
    for index in 0..args.startups.max(1) {
        let (started, elapsed) = start_server(&exe, &scratch.join(format!("bench-{index}.db")))?;
        startups.push(elapsed);
        server = Some(started);
    }
    let server = server.context("no server started")?;
    startups.sort();
    let startup = startups[startups.len() / 2];
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss = rss_kib(server.child.id());

    let token = given_a_token(server.addr)?;
    let card_id = given_a_card(server.addr, &token)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let duration = Duration::from_secs(args.duration.max(1));
    let targets = [
        (
            Target::get("GET /healthz (the limit)", "/healthz", "ok"),
            None,
        ),
        (
            // A second reference: a POST with a small body that the router answers at once
            // (43001, wrong method), to show what reading a request body costs by itself.
            Target::post(
                "POST, answered at once",
                "/cgi-bin/token",
                r#"{"card_id":"x"}"#.to_owned(),
                "43001",
            ),
            None,
        ),
        (
            Target::get(
                "GET /card/getcolors",
                format!("/card/getcolors?access_token={token}"),
                "Color010",
            ),
            Some(AUTHED_TARGET),
        ),
        (
            Target::post(
                "POST /card/get",
                format!("/card/get?access_token={token}"),
                format!(r#"{{"card_id":"{card_id}"}}"#),
                "base_info",
            ),
            Some(GET_TARGET),
        ),
        (
            Target::post(
                "POST /card/create",
                format!("/card/create?access_token={token}"),
                BENCH_CARD.to_owned(),
                "card_id",
            ),
            Some(CREATE_TARGET),
        ),
    ];
    let mut results = Vec::new();
    for (target, _) in &targets {
        eprintln!("loading {} for {} s…", target.name, duration.as_secs());
        let result = runtime.block_on(async {
            loadgen::run(
                server.addr,
                target,
                args.connections,
                Duration::from_millis(500),
            )
            .await?;
            loadgen::run(server.addr, target, args.connections, duration).await
        })?;
        results.push(result);
    }
    let loaded_rss = rss_kib(server.child.id());

    println!();
    println!(
        "startup to first answer  {:>8.1} ms (median of {})   target <= {} ms   {}",
        ms(startup),
        startups.len(),
        STARTUP_TARGET.as_millis(),
        verdict(startup <= STARTUP_TARGET)
    );
    match idle_rss {
        Some(kib) => println!(
            "idle RSS                 {:>8.1} MiB                target <= {} MiB   {}",
            kib as f64 / 1024.0,
            RSS_TARGET_KIB / 1024,
            verdict(kib <= RSS_TARGET_KIB)
        ),
        None => println!("idle RSS                 unknown (no /proc on this system)"),
    }
    if let Some(kib) = loaded_rss {
        println!("RSS after load           {:>8.1} MiB", kib as f64 / 1024.0);
    }
    println!();
    println!(
        "{:<28} {:>10} {:>9} {:>9} {:>7} {:>9}   target",
        "endpoint", "req/s", "p50", "p99", "errors", "/healthz"
    );
    let limit = results[0].throughput();
    let mut failed = 0;
    for ((target, goal), result) in targets.iter().zip(&results) {
        let ratio = result.throughput() / limit;
        let goal_text = goal.map_or_else(String::new, |goal| {
            format!(">= {:>3.0} %  {}", goal * 100.0, verdict(ratio >= goal))
        });
        println!(
            "{:<28} {:>10.0} {:>7.2}ms {:>7.2}ms {:>7} {:>8.1}%   {goal_text}",
            target.name,
            result.throughput(),
            ms(result.percentile(0.5)),
            ms(result.percentile(0.99)),
            result.errors,
            ratio * 100.0
        );
        if let Some(body) = &result.first_error {
            eprintln!("first failed answer of {}: {body}", target.name);
        }
        failed += result.errors;
    }
    if failed > 0 {
        bail!("{failed} requests failed during the load; the figures above are not trustworthy");
    }
    Ok(())
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Starts `wxcard serve` on a fresh database; returns it and the time from spawn to the first
/// answered `/healthz`.
fn start_server(exe: &Path, db: &PathBuf) -> anyhow::Result<(Server, Duration)> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn",
            "--seed",
            "1",
            "--db",
        ])
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start wxcard serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|addr| addr.parse().ok())
        .with_context(|| format!("unexpected first line {line:?}"))?;
    let server = Server { child, addr };
    loop {
        if let Ok((200, _)) = http(addr, "GET", "/healthz", None) {
            return Ok((server, started.elapsed()));
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("wxcard serve did not answer /healthz within 10 s");
        }
    }
}

/// Creates the card `/card/get` reads.
fn given_a_card(addr: SocketAddr, token: &str) -> anyhow::Result<String> {
    let (_, body) = http(
        addr,
        "POST",
        &format!("/card/create?access_token={token}"),
        Some(BENCH_CARD),
    )?;
    let created: serde_json::Value = serde_json::from_str(&body)?;
    created["card_id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no card_id in {body}"))
}

/// Creates a Service Account through the admin API and fetches its access_token.
fn given_a_token(addr: SocketAddr) -> anyhow::Result<String> {
    let (status, body) = http(
        addr,
        "POST",
        "/admin/v1/apps",
        Some(r#"{"kind":"service_account","name":"bench"}"#),
    )?;
    let app: serde_json::Value =
        serde_json::from_str(&body).with_context(|| format!("admin answered {status}: {body}"))?;
    let (appid, secret) = (
        app["appid"].as_str().unwrap_or_default(),
        app["secret"].as_str().unwrap_or_default(),
    );
    let (_, body) = http(
        addr,
        "GET",
        &format!("/cgi-bin/token?grant_type=client_credential&appid={appid}&secret={secret}"),
        None,
    )?;
    let token: serde_json::Value = serde_json::from_str(&body)?;
    token["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no token in {body}"))
}

/// One request on its own connection; returns (status, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let body = body.unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .context("malformed status line")?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Resident memory of a process, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}
