//! `wxcard bench`: starts `wxcard serve` as a child process and measures what a user feels:
//! startup to the first answered request, idle memory, and the throughput and latency of an
//! authenticated trivial call (`GET /card/getcolors`) next to `GET /healthz` in the same run,
//! so the ratio shows what authentication and the API layer cost.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use wxcard_wire::sign::{card_signature, CardSignInput};

use crate::loadgen::{self, Body, LoadResult, Target};

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
    /// How many codes the deposit scenario imports (100 per call)
    #[arg(long, default_value_t = 1_000_000)]
    deposit_codes: u64,
    /// Coupon codes to have claimed before the consume load, and member codes before the
    /// activate load, each topped up (untimed) when the claim scenario made fewer (at most
    /// 200,000 of each): consume and activate stop early when they run out of codes. On
    /// PostgreSQL, each later consume round tops up what it needs
    #[arg(long, default_value_t = 0)]
    consume_codes: u64,
    /// How many events each push scenario delivers
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// Which scenarios: `all`, `http` (the API calls) or `events` (pushes only)
    #[arg(default_value = "all", value_parser = ["all", "http", "events"])]
    scenario: String,
    /// Run the server on this PostgreSQL database (each start in a schema of its own; needs a
    /// build with `--features postgres`), measure `pgbench -N` on it for comparison, and end
    /// with claims and consumes at once
    #[arg(long, env = "WXCARD_BENCH_DATABASE_URL")]
    database_url: Option<String>,
}

/// Consume on PostgreSQL next to `pgbench -N` on the same server with as many clients.
const PG_CONSUME_TARGET: f64 = 0.80;

/// Targets from the foundation issue; printed next to the measurements, never enforced.
const STARTUP_TARGET: Duration = Duration::from_millis(50);
const RSS_TARGET_KIB: u64 = 20 * 1024;
const AUTHED_TARGET: f64 = 0.8;
const GET_TARGET: f64 = 0.5;
const CREATE_TARGET: f64 = 0.05;
const CLAIM_TARGET: f64 = 0.15;
const CONSUME_TARGET: f64 = 0.30;
const CODE_GET_TARGET: f64 = 0.50;
const ACTIVATE_TARGET: f64 = 0.25;
/// How many distinct codes the warm code/get scenario cycles through.
const CODE_GET_WORKING_SET: u64 = 1000;
const DEPOSIT_TARGET: Duration = Duration::from_secs(15);

/// The card `/card/create` is measured with: a complete GENERAL_COUPON.
const BENCH_CARD: &str = r#"{"card":{"card_type":"GENERAL_COUPON","general_coupon":{"base_info":{"logo_url":"http://mmbiz.qpic.cn/mmbiz/logo/0","code_type":"CODE_TYPE_QRCODE","brand_name":"Bench","title":"Bench coupon","color":"Color010","notice":"Show the code","description":"A coupon for the benchmark","sku":{"quantity":1000},"date_info":{"type":"DATE_TYPE_FIX_TERM","fixed_term":30,"fixed_begin_term":0}},"default_detail":"10% off"}}}"#;

/// The member card activations are measured with: custom codes, API activation.
const BENCH_MEMBER_CARD: &str = r#"{"card":{"card_type":"MEMBER_CARD","member_card":{"base_info":{"logo_url":"http://mmbiz.qpic.cn/mmbiz/logo/0","code_type":"CODE_TYPE_QRCODE","brand_name":"Bench","title":"Bench member card","color":"Color010","notice":"Show the card","description":"A member card for the benchmark","sku":{"quantity":100000000},"use_custom_code":true,"get_limit":50,"date_info":{"type":"DATE_TYPE_PERMANENT"}},"prerogative":"10% off","supply_bonus":true,"supply_balance":false,"activate_url":"https://example.com/activate"}}}"#;

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
        let database = match &args.database_url {
            Some(url) => wxcard_platform::store::database_url_in_schema(
                url,
                &format!("wxcard_bench_{}_{index}", std::process::id()),
            ),
            None => scratch
                .join(format!("bench-{index}.db"))
                .display()
                .to_string(),
        };
        let (started, elapsed) = start_server(&exe, &database, args.database_url.is_some())?;
        startups.push(elapsed);
        server = Some(started);
    }
    let server = server.context("no server started")?;
    startups.sort();
    let startup = startups[startups.len() / 2];
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss = rss_kib(server.child.id());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let duration = Duration::from_secs(args.duration.max(1));
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
    // The disk sets the pace of every durable answer on SQLite, whose file is in `scratch`.
    let probe_disk = args.database_url.is_none() && args.scenario != "events";
    if probe_disk {
        print_disk("disk before the load", &DiskProbe::measure(scratch)?);
    }
    let mut failed = 0;
    let mut consumed = None;
    if args.scenario != "events" {
        let (errors, consume) = http_scenarios(args, &server, &runtime, duration)?;
        failed += errors;
        consumed = Some(consume);
    }
    if probe_disk {
        print_disk("disk after the load", &DiskProbe::measure(scratch)?);
        println!(
            "  (a durable answer waits for an fdatasync of the WAL that began after its commit)"
        );
    }
    if args.scenario != "http" {
        println!();
        println!(
            "{:<28} {:>10} {:>9}   target",
            "events pushed", "events/s", "seconds"
        );
        for mode in ["plain", "safe"] {
            let run = runtime.block_on(crate::bench_events::measure(
                server.addr,
                args.events,
                mode,
                BENCH_CARD,
            ))?;
            println!(
                "{:<28} {:>10.0} {:>8.2}s   >= {:.0}/s  {}",
                format!("{} events, {} mode", run.events, run.mode),
                run.per_second(),
                run.elapsed.as_secs_f64(),
                crate::bench_events::EVENTS_TARGET,
                verdict(run.per_second() >= crate::bench_events::EVENTS_TARGET)
            );
        }
    }
    if let Some(kib) = rss_kib(server.child.id()) {
        println!("RSS after load           {:>8.1} MiB", kib as f64 / 1024.0);
        // SQLite maps the database file: pages read through the map count as resident, but
        // they are the kernel's file cache, shared and dropped under memory pressure.
        if let Some(file) = status_kib(server.child.id(), "RssFile:") {
            println!(
                "  ({:.1} MiB of it file pages: the mapped database and the binary)",
                file as f64 / 1024.0
            );
        }
    }
    if let (Some(url), Some(mut consume)) = (&args.database_url, consumed) {
        compare_with_pgbench(url, args, &mut consume, server.addr, &runtime)?;
    }
    if failed > 0 {
        bail!("{failed} requests failed during the load; the figures above are not trustworthy");
    }
    Ok(())
}

/// The first and the last scenario: the limit each API call is compared with.
const HEALTHZ_FIRST: &str = "GET /healthz, first (the limit)";
const HEALTHZ_LAST: &str = "GET /healthz, last (the limit)";

/// The API calls, each next to /healthz; returns how many requests failed and the consume
/// throughput.
fn http_scenarios(
    args: &BenchArgs,
    server: &Server,
    runtime: &tokio::runtime::Runtime,
    duration: Duration,
) -> anyhow::Result<(u64, Consumed)> {
    let token = given_a_token(server.addr)?;
    let card_id = given_a_card(server.addr, &token)?;
    let shop = given_a_shop(server.addr)?;
    let claim_shop = shop.clone();
    let consume_shop = shop.clone();
    // Claims alternate between the coupon (even n, code C{n}) and the member card (odd n):
    // how many of each the later scenarios may use.
    let (coupons, members) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let coupons_for_consume = Arc::clone(&coupons);
    let (members_for_activate, activate_shop) = (Arc::clone(&members), shop.clone());
    let (coupons_for_get, coupons_for_cold_get) = (Arc::clone(&coupons), Arc::clone(&coupons));
    let (get_shop, cold_get_shop) = (shop.clone(), shop.clone());
    let scenarios: Vec<(Target, Option<f64>)> = vec![
        // The limit is measured first and again last: the machine's speed drifts (other
        // tenants of a virtual machine), and the mean of both is fairer to every scenario
        // in between than either alone.
        (Target::get(HEALTHZ_FIRST, "/healthz", "ok"), None),
        // A second reference: a POST with a small body that the router answers at once
        // (43001, wrong method): what reading a request body costs by itself.
        (
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
        // Claims through the simulator: a fresh signed cardExt and custom code each time.
        (
            Target::generated(
                "claim (wx.addCard)",
                "/sim/v1/addCard",
                "addCard:ok",
                Arc::new(move |n| Some(claim_shop.add_card_body(n))),
            ),
            Some(CLAIM_TARGET),
        ),
        // Activations of the member codes the claims handed out (every odd claim), each once.
        (
            Target::generated(
                "POST /card/membercard/activate",
                format!("/card/membercard/activate?access_token={}", shop.token),
                r#""errcode":0"#,
                Arc::new(move |n| {
                    let claim = Claimed::Member.claim_number(n);
                    (n < members_for_activate.load(Ordering::Relaxed)).then(|| {
                        format!(
                            r#"{{"membership_number":"M{n}","code":"C{claim}","card_id":"{}","init_bonus":10}}"#,
                            activate_shop.member_card_id
                        )
                    })
                }),
            ),
            Some(ACTIVATE_TARGET),
        ),
        // Consumes of the coupon codes the claims handed out (every even claim), each once.
        (
            consume_target(consume_shop, 0, coupons_for_consume),
            Some(CONSUME_TARGET),
        ),
        // A shop's counter checking its active codes: 1,000 codes in turn, each looked up
        // many times (the read cache answers repeats until a code changes).
        (
            Target::generated(
                "POST /card/code/get, 1000 codes",
                format!("/card/code/get?access_token={}", shop.token),
                "user_card_status",
                Arc::new(move |n| {
                    let codes = coupons_for_get
                        .load(Ordering::Relaxed)
                        .min(CODE_GET_WORKING_SET);
                    (codes > 0).then(|| get_shop.code_get_body(n % codes))
                }),
            ),
            Some(CODE_GET_TARGET),
        ),
        // Every code looked up once: nothing is cached, each answer is a SQLite read.
        (
            Target::generated(
                "POST /card/code/get, each once",
                format!("/card/code/get?access_token={}", shop.token),
                "user_card_status",
                Arc::new(move |n| {
                    (n < coupons_for_cold_get.load(Ordering::Relaxed))
                        .then(|| cold_get_shop.code_get_body(n))
                }),
            ),
            Some(CODE_GET_TARGET),
        ),
        (Target::get(HEALTHZ_LAST, "/healthz", "ok"), None),
    ];
    let mut results = Vec::new();
    for (target, _) in &scenarios {
        eprintln!("loading {} for {} s…", target.name, duration.as_secs());
        let result = runtime.block_on(async {
            if matches!(target.body, Body::Generated(_)) {
                // No warm-up: generated requests are used up once.
                loadgen::run(
                    server.addr,
                    target,
                    args.connections,
                    duration,
                    Arc::new(AtomicU64::new(0)),
                )
                .await
            } else {
                loadgen::run(
                    server.addr,
                    target,
                    args.connections,
                    Duration::from_millis(500),
                    Arc::new(AtomicU64::new(0)),
                )
                .await?;
                loadgen::run(
                    server.addr,
                    target,
                    args.connections,
                    duration,
                    Arc::new(AtomicU64::new(0)),
                )
                .await
            }
        })?;
        if target.name.starts_with("claim") {
            let claims = result.requests + result.errors;
            let wanted = args.consume_codes.min(CLAIM_CAPACITY);
            for (card, count) in [(Claimed::Coupon, &coupons), (Claimed::Member, &members)] {
                let made = card.made_in(claims);
                count.store(made, Ordering::Relaxed);
                if wanted > made {
                    let added =
                        runtime.block_on(more_claims(server.addr, &shop, card, made, wanted))?;
                    count.store(made + added, Ordering::Relaxed);
                }
            }
        }
        results.push(result);
    }
    let deposit = runtime.block_on(deposit_codes(server.addr, &shop, args.deposit_codes))?;
    println!();
    println!(
        "{:<32} {:>10} {:>9} {:>9} {:>7} {:>9}   target",
        "endpoint", "req/s", "p50", "p99", "errors", "/healthz"
    );
    // The scenario list begins with HEALTHZ_FIRST and ends with HEALTHZ_LAST.
    let limit = match (results.first(), results.last()) {
        (Some(first), Some(last)) => (first.throughput() + last.throughput()) / 2.0,
        _ => bail!("no /healthz measurement to compare with"),
    };
    let mut failed = 0;
    for ((target, goal), result) in scenarios.iter().zip(&results) {
        let ratio = result.throughput() / limit;
        let goal_text = goal.map_or_else(String::new, |goal| {
            format!(">= {:>3.0} %  {}", goal * 100.0, verdict(ratio >= goal))
        });
        println!(
            "{:<32} {:>10.0} {:>7.2}ms {:>7.2}ms {:>7} {:>8.1}%   {goal_text}",
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
        if !result.lasted(duration) {
            println!(
                "  ({} ran out of requests after {:.2} s; for consume and activate, --consume-codes N claims more codes first)",
                target.name,
                result.elapsed.as_secs_f64()
            );
        }
        failed += result.errors;
    }
    println!(
        "  (100 % is the mean of both /healthz runs, {limit:.0} req/s: the limit, measured before and after the rest)"
    );
    println!();
    println!(
        "deposit {} codes (100 per call) {:>6.2} s, {:.0} codes/s        target <= {} s   {}",
        deposit.codes,
        deposit.elapsed.as_secs_f64(),
        deposit.codes as f64 / deposit.elapsed.as_secs_f64(),
        DEPOSIT_TARGET.as_secs(),
        verdict(deposit.codes < 1_000_000 || deposit.elapsed <= DEPOSIT_TARGET)
    );
    if deposit.codes < 1_000_000 {
        println!(
            "  (the target is for 1,000,000 codes; run with --deposit-codes 1000000 to check it)"
        );
    }
    let consume = scenarios
        .iter()
        .zip(&results)
        .find(|((target, _), _)| target.name.contains("consume"))
        .map_or(
            Consumed {
                throughput: 0.0,
                full: false,
                used: 0,
                available: 0,
                shop: shop.clone(),
            },
            |(_, result)| Consumed {
                throughput: result.throughput(),
                full: result.lasted(duration),
                used: result.requests + result.errors,
                available: coupons.load(Ordering::Relaxed),
                shop: shop.clone(),
            },
        );
    Ok((failed + deposit.errors, consume))
}

/// Consumes of the claimed coupon codes from the `from`-th on, each once, while fewer than
/// `available` (read as the load goes) have been used.
fn consume_target(shop: Shop, from: u64, available: Arc<AtomicU64>) -> Target {
    Target::generated(
        "POST /card/code/consume",
        format!("/card/code/consume?access_token={}", shop.token),
        r#""openid""#,
        Arc::new(move |n| {
            (from + n < available.load(Ordering::Relaxed)).then(|| {
                format!(
                    r#"{{"code":"C{}","card_id":"{}"}}"#,
                    Claimed::Coupon.claim_number(from + n),
                    shop.card_id
                )
            })
        }),
    )
}

/// The consume scenario's result and what is left for more consume rounds.
struct Consumed {
    throughput: f64,
    /// The load lasted its whole duration (it did not run out of codes).
    full: bool,
    /// Coupon codes consumed (C0, C2, … in the claim numbering).
    used: u64,
    /// Coupon codes claimed.
    available: u64,
    shop: Shop,
}

/// Claims (untimed) enough coupon codes for `rounds` more consume loads of `duration` at 1.2
/// times the best rate so far, within what the users' get_limit allows. (Claims are slow on
/// PostgreSQL, where they all update one stock row; the margin costs minutes there.)
fn top_up(
    addr: SocketAddr,
    consumed: &mut Consumed,
    rounds: u32,
    duration: Duration,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let each = (consumed.throughput * duration.as_secs_f64() * 1.2) as u64;
    let wanted = (consumed.used + each * u64::from(rounds)).min(CLAIM_CAPACITY);
    if wanted > consumed.available {
        let shop = consumed.shop.clone();
        let added = runtime.block_on(more_claims(
            addr,
            &shop,
            Claimed::Coupon,
            consumed.available,
            wanted,
        ))?;
        consumed.available += added;
    }
    Ok(())
}

/// One more consume load of `duration` over the coupon codes not consumed yet; its
/// throughput, or `None` when too few codes are left to fill it.
fn consume_round(
    addr: SocketAddr,
    consumed: &mut Consumed,
    connections: usize,
    duration: Duration,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Option<f64>> {
    top_up(addr, consumed, 1, duration, runtime)?;
    let target = consume_target(
        consumed.shop.clone(),
        consumed.used,
        Arc::new(AtomicU64::new(consumed.available)),
    );
    let result = runtime.block_on(loadgen::run(
        addr,
        &target,
        connections,
        duration,
        Arc::new(AtomicU64::new(0)),
    ))?;
    consumed.used += result.requests + result.errors;
    if let Some(body) = &result.first_error {
        bail!("a consume failed: {body}");
    }
    consumed.throughput = consumed.throughput.max(result.throughput());
    Ok(result.lasted(duration).then(|| result.throughput()))
}

/// `pgbench -N` (the simple-update script without the hot branch and teller rows) on the same
/// database, with as many clients as the HTTP load had connections, next to the consume rate.
fn compare_with_pgbench(
    url: &str,
    args: &BenchArgs,
    consumed: &mut Consumed,
    addr: SocketAddr,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    let run = |program: &str, arguments: &[String]| -> anyhow::Result<String> {
        let output = Command::new(program)
            .args(arguments)
            .output()
            .with_context(|| format!("cannot run {program}; install PostgreSQL's client tools"))?;
        if !output.status.success() {
            bail!(
                "{program} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let synchronous_commit = run(
        "psql",
        &["-Atc".into(), "SHOW synchronous_commit".into(), url.into()],
    )?;
    let duration = Duration::from_secs(args.duration.max(1));
    run("pgbench", &["-i".into(), "-q".into(), url.into()])?;
    // A server's commit rate drifts from second to second (disk flushes, other tenants), so
    // pgbench and consume take turns, five rounds each, and their medians are compared. The
    // codes for the later consume rounds are claimed first, so that the rounds follow each
    // other with no claims (and their after-effects on the server) in between.
    let mut pgbench = Vec::new();
    let mut consume = Vec::new();
    if consumed.full {
        consume.push(consumed.throughput);
    }
    let later_rounds = PG_ROUNDS as u32 - u32::from(!consume.is_empty());
    top_up(addr, consumed, later_rounds, duration, runtime)?;
    for round in 1..=PG_ROUNDS {
        if round == 1 && consume.is_empty() {
            eprintln!(
                "consume for {} s (it ran out of codes before)…",
                duration.as_secs()
            );
            if let Some(throughput) =
                consume_round(addr, consumed, args.connections, duration, runtime)?
            {
                consume.push(throughput);
            }
        }
        eprintln!(
            "pgbench -N for {} s (round {round} of {PG_ROUNDS})…",
            duration.as_secs()
        );
        let report = run(
            "pgbench",
            &[
                "-N".into(),
                "-M".into(),
                "prepared".into(),
                "-c".into(),
                args.connections.to_string(),
                "-j".into(),
                "2".into(),
                "-T".into(),
                duration.as_secs().to_string(),
                url.into(),
            ],
        )?;
        pgbench.push(
            report
                .lines()
                .find_map(|line| {
                    line.trim()
                        .strip_prefix("tps = ")
                        .and_then(|rest| rest.split_whitespace().next())
                        .and_then(|number| number.parse::<f64>().ok())
                })
                .with_context(|| format!("no tps in pgbench's report:\n{report}"))?,
        );
        if round < PG_ROUNDS {
            eprintln!(
                "consume for {} s (round {} of {PG_ROUNDS})…",
                duration.as_secs(),
                round + 1
            );
            match consume_round(addr, consumed, args.connections, duration, runtime)? {
                Some(throughput) => consume.push(throughput),
                None => eprintln!(
                    "  too few codes left for a full consume round; run with a larger --consume-codes"
                ),
            }
        }
    }
    let list = |values: &[f64]| {
        values
            .iter()
            .map(|value| format!("{value:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (tps, consume_median) = (median(&pgbench), median(&consume));
    println!();
    println!(
        "PostgreSQL (synchronous_commit={}): pgbench -N, {} clients {:>10.0} tps (median of {})",
        synchronous_commit.trim(),
        args.connections,
        tps,
        list(&pgbench)
    );
    println!(
        "POST /card/code/consume on the same server      {:>10.0} req/s (median of {})  {:>5.1}%   target >= {:.0} %  {}",
        consume_median,
        list(&consume),
        consume_median / tps * 100.0,
        PG_CONSUME_TARGET * 100.0,
        verdict(consume_median / tps >= PG_CONSUME_TARGET)
    );
    mixed_round(addr, args.connections, consumed, duration, runtime)
}

/// Claims and consumes at once, half of the connections each: what a stream of claims costs
/// the consumes beside it on PostgreSQL, where claims of one card follow each other on their
/// card's row lock. Figures only, no target.
fn mixed_round(
    addr: SocketAddr,
    connections: usize,
    consumed: &mut Consumed,
    duration: Duration,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    top_up(addr, consumed, 1, duration, runtime)?;
    let half = (connections / 2).max(1);
    eprintln!(
        "claims and consumes at once for {} s, {half} connections each…",
        duration.as_secs()
    );
    let consumes = consume_target(
        consumed.shop.clone(),
        consumed.used,
        Arc::new(AtomicU64::new(consumed.available)),
    );
    // New coupon codes after those claimed so far, within what the users' get_limit allows.
    let (from, room) = (
        consumed.available,
        CLAIM_CAPACITY.saturating_sub(consumed.available),
    );
    let claim_shop = consumed.shop.clone();
    let claims = Target::generated(
        "claim (wx.addCard)",
        "/sim/v1/addCard",
        "addCard:ok",
        Arc::new(move |n| {
            (n < room).then(|| claim_shop.add_card_body(Claimed::Coupon.claim_number(from + n)))
        }),
    );
    let (consumed_now, claimed_now) = runtime.block_on(async {
        tokio::join!(
            loadgen::run(addr, &consumes, half, duration, Arc::new(AtomicU64::new(0))),
            loadgen::run(addr, &claims, half, duration, Arc::new(AtomicU64::new(0))),
        )
    });
    let (consumed_now, claimed_now) = (consumed_now?, claimed_now?);
    consumed.used += consumed_now.requests + consumed_now.errors;
    consumed.available += claimed_now.requests;
    for (what, result) in [("consume", &consumed_now), ("claim", &claimed_now)] {
        if let Some(body) = &result.first_error {
            bail!("a {what} beside the other load failed: {body}");
        }
        let short = if !result.lasted(duration) {
            format!(
                " (ran out of requests after {:.2} s)",
                result.elapsed.as_secs_f64()
            )
        } else {
            String::new()
        };
        println!(
            "{:<48} {:>10.0} req/s   p50 {:>7.2}ms   p99 {:>7.2}ms{short}",
            format!("{what}, beside the other ({half} connections each)"),
            result.throughput(),
            result.percentile(0.5).as_secs_f64() * 1000.0,
            result.percentile(0.99).as_secs_f64() * 1000.0,
        );
    }
    Ok(())
}

/// Rounds of pgbench (and of consume) in the PostgreSQL comparison.
const PG_ROUNDS: usize = 5;

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 0 => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        n => sorted[n / 2],
    }
}

/// A Service Account and a Mini Program on one open platform account, a custom-code card
/// with large stock, a deposit-mode card, and users to claim with.
#[derive(Clone)]
struct Shop {
    token: String,
    ticket: String,
    card_id: String,
    /// A custom-code member card with API activation; odd claims take it.
    member_card_id: String,
    deposit_card_id: String,
    mini_program: String,
    users: Arc<Vec<String>>,
}

/// Users to claim with: get_limit is 50 per user and card, so 4000 users allow 400,000
/// claims split over the two cards.
const BENCH_USERS: usize = 4000;
/// Codes of each card the bench users can claim: each may hold 50 (the get_limit of both).
const CLAIM_CAPACITY: u64 = BENCH_USERS as u64 * 50;

/// One of the shop's two cards. Claims alternate between them: claim number `2k` is the
/// coupon's `k`-th (code `C{2k}`), `2k + 1` the member card's `k`-th.
#[derive(Debug, Clone, Copy)]
enum Claimed {
    Coupon,
    Member,
}

impl Claimed {
    /// The claim number of this card's `index`-th code.
    fn claim_number(self, index: u64) -> u64 {
        2 * index + u64::from(matches!(self, Self::Member))
    }

    /// How many of this card's codes the first `claims` claims made.
    fn made_in(self, claims: u64) -> u64 {
        match self {
            Self::Coupon => claims.div_ceil(2),
            Self::Member => claims / 2,
        }
    }

    fn progress_label(self) -> &'static str {
        match self {
            Self::Coupon => "claiming coupons for consume",
            Self::Member => "claiming member cards for activate",
        }
    }
}

impl Shop {
    /// The body of a `/card/code/get` of the n-th claimed coupon code.
    fn code_get_body(&self, n: u64) -> String {
        format!(
            r#"{{"code":"C{}","card_id":"{}","check_consume":false}}"#,
            Claimed::Coupon.claim_number(n),
            self.card_id
        )
    }

    /// The n-th claim: the coupon for even n, the member card for odd n.
    fn add_card_body(&self, n: u64) -> String {
        let card_id = if n % 2 == 0 {
            &self.card_id
        } else {
            &self.member_card_id
        };
        let code = format!("C{n}");
        let nonce = format!("n{n}");
        let timestamp = "1900000000";
        let signature = card_signature(&CardSignInput {
            api_ticket: &self.ticket,
            timestamp,
            card_id,
            code: &code,
            nonce_str: &nonce,
            ..CardSignInput::default()
        });
        let card_ext = serde_json::json!({"timestamp": timestamp, "nonce_str": nonce, "code": code, "signature": signature}).to_string();
        // n and n + 1 go to one user: every user claims both cards, up to get_limit each.
        let user = &self.users[usize::try_from(n / 2).unwrap_or(0) % self.users.len()];
        serde_json::json!({"user_id": user, "appid": self.mini_program, "cardList": [{"cardId": card_id, "cardExt": card_ext}]}).to_string()
    }
}

fn given_a_shop(addr: SocketAddr) -> anyhow::Result<Shop> {
    let post = |path: &str, body: &serde_json::Value| -> anyhow::Result<serde_json::Value> {
        let (_, text) = http(addr, "POST", path, Some(&body.to_string()))?;
        let answer: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{path} answered {text}"))?;
        if answer
            .get("errcode")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
            != 0
        {
            bail!("{path} answered {text}");
        }
        Ok(answer)
    };
    let open_platform = post(
        "/admin/v1/open-platforms",
        &serde_json::json!({"name": "bench"}),
    )?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let service_account = post(
        "/admin/v1/apps",
        &serde_json::json!({"kind": "service_account", "name": "bench shop", "open_platform_id": open_platform}),
    )?;
    let mini_program = post(
        "/admin/v1/apps",
        &serde_json::json!({"kind": "mini_program", "name": "bench mp", "open_platform_id": open_platform}),
    )?;
    let (appid, secret) = (
        service_account["appid"].as_str().unwrap_or_default(),
        service_account["secret"].as_str().unwrap_or_default(),
    );
    let token = crate::client::Server::new(&addr.to_string(), None)?.access_token(appid, secret)?;
    let (_, body) = http(
        addr,
        "GET",
        &format!("/cgi-bin/ticket/getticket?type=wx_card&access_token={token}"),
        None,
    )?;
    let ticket = serde_json::from_str::<serde_json::Value>(&body)?["ticket"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let custom: serde_json::Value = serde_json::from_str(&BENCH_CARD.replace(
        r#""sku":{"quantity":1000}"#,
        r#""sku":{"quantity":100000000},"use_custom_code":true,"get_limit":50"#,
    ))?;
    let card_id = post(&format!("/card/create?access_token={token}"), &custom)?["card_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let member_card_id = post(
        &format!("/card/create?access_token={token}"),
        &serde_json::from_str(BENCH_MEMBER_CARD)?,
    )?["card_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let deposit: serde_json::Value = serde_json::from_str(&BENCH_CARD.replace(
        r#""sku":{"quantity":1000}"#,
        r#""sku":{"quantity":0},"use_custom_code":true,"get_custom_code_mode":"GET_CUSTOM_CODE_MODE_DEPOSIT""#,
    ))?;
    let deposit_card_id = post(&format!("/card/create?access_token={token}"), &deposit)?["card_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    eprintln!("creating {BENCH_USERS} users to claim with…");
    let mut users = Vec::with_capacity(BENCH_USERS);
    for index in 0..BENCH_USERS {
        users.push(
            post(
                "/admin/v1/users",
                &serde_json::json!({"nickname": format!("bench{index}")}),
            )?["user_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    Ok(Shop {
        token,
        ticket,
        card_id,
        member_card_id,
        deposit_card_id,
        mini_program: mini_program["appid"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        users: Arc::new(users),
    })
}

struct DepositRun {
    codes: u64,
    elapsed: Duration,
    errors: u64,
}

/// Claims `card`'s codes `from..to` (counted per card, numbered as in the claim scenario)
/// through the simulator, untimed, printing progress; returns how many were claimed.
async fn more_claims(
    addr: SocketAddr,
    shop: &Shop,
    card: Claimed,
    from: u64,
    to: u64,
) -> anyhow::Result<u64> {
    let count = to - from;
    let claim_shop = shop.clone();
    let target = Target::generated(
        "more claims",
        "/sim/v1/addCard",
        "addCard:ok",
        Arc::new(move |n| {
            (n < count).then(|| claim_shop.add_card_body(card.claim_number(from + n)))
        }),
    );
    let result = with_progress(card.progress_label(), count, 1, "codes", |sent| {
        loadgen::run(addr, &target, 32, Duration::from_secs(3600), sent)
    })
    .await?;
    if let Some(body) = &result.first_error {
        bail!(
            "a claim of more codes ({}) failed: {body}",
            card.progress_label()
        );
    }
    Ok(result.requests)
}

/// Runs `load` while printing a progress bar of its sent calls out of `calls`, each worth
/// `per_call` `unit`.
async fn with_progress<F: std::future::Future<Output = anyhow::Result<LoadResult>>>(
    label: &'static str,
    calls: u64,
    per_call: u64,
    unit: &'static str,
    load: impl FnOnce(Arc<AtomicU64>) -> F,
) -> anyhow::Result<LoadResult> {
    let sent = Arc::new(AtomicU64::new(0));
    let progress = {
        let sent = Arc::clone(&sent);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let done = sent.load(Ordering::Relaxed).min(calls);
                let width = 30;
                let filled = usize::try_from(done * width / calls.max(1)).unwrap_or(0);
                eprint!(
                    "\r{label} [{}{}] {:>9}/{} {unit}",
                    "#".repeat(filled),
                    " ".repeat(30 - filled),
                    done * per_call,
                    calls * per_call
                );
            }
        })
    };
    let result = load(sent).await;
    progress.abort();
    eprintln!();
    result
}

/// Deposits `codes` codes through `/card/code/deposit`, 100 per call, printing progress.
async fn deposit_codes(addr: SocketAddr, shop: &Shop, codes: u64) -> anyhow::Result<DepositRun> {
    let calls = codes.div_ceil(100);
    let card_id = shop.deposit_card_id.clone();
    let target = Target::generated(
        "deposit",
        format!("/card/code/deposit?access_token={}", shop.token),
        "succ_code",
        Arc::new(move |n| {
            (n < calls).then(|| {
                let batch: Vec<String> = (0..100)
                    .map(|index| format!("D{}", n * 100 + index))
                    .collect();
                serde_json::json!({"card_id": card_id, "code": batch}).to_string()
            })
        }),
    );
    let result = with_progress("depositing", calls, 100, "codes", |sent| {
        loadgen::run(addr, &target, 16, Duration::from_secs(600), sent)
    })
    .await;
    let result = result?;
    if let Some(body) = &result.first_error {
        eprintln!("first failed deposit answer: {body}");
    }
    Ok(DepositRun {
        codes: result.requests * 100,
        elapsed: result.elapsed,
        errors: result.errors,
    })
}

/// What an fdatasync costs on the disk under the database, measured next to it: after
/// overwriting one 4 KiB page, and after overwriting 32 (about what a group commit of claims
/// writes to the WAL). The file is written and synced whole first, so that the timed fsyncs
/// overwrite, as the WAL's do between its restarts, instead of growing the file.
struct DiskProbe {
    /// p50 and p99 for one page.
    page: (Duration, Duration),
    /// p50 and p99 for 32 pages.
    batch: (Duration, Duration),
}

impl DiskProbe {
    const PAGE: usize = 4096;
    const BATCH_PAGES: usize = 32;
    const SAMPLES: usize = 200;
    /// Places the timed writes cycle through.
    const SLOTS: usize = 16;

    fn measure(dir: &Path) -> anyhow::Result<Self> {
        use std::io::{Seek, SeekFrom, Write};
        let path = dir.join("disk-probe");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let block = vec![0x5a_u8; Self::PAGE * Self::BATCH_PAGES];
        for _ in 0..Self::SLOTS {
            file.write_all(&block)?;
        }
        file.sync_all()?;
        let mut time = |bytes: usize| -> std::io::Result<(Duration, Duration)> {
            let mut samples = Vec::with_capacity(Self::SAMPLES);
            for index in 0..Self::SAMPLES {
                let slot = u64::try_from((index % Self::SLOTS) * block.len()).unwrap_or(0);
                file.seek(SeekFrom::Start(slot))?;
                file.write_all(&block[..bytes])?;
                let started = Instant::now();
                file.sync_data()?;
                samples.push(started.elapsed());
            }
            samples.sort();
            Ok((
                samples[Self::SAMPLES / 2],
                samples[Self::SAMPLES * 99 / 100],
            ))
        };
        let probe = Self {
            page: time(Self::PAGE)?,
            batch: time(block.len())?,
        };
        drop(file);
        let _ = std::fs::remove_file(&path);
        Ok(probe)
    }
}

fn print_disk(label: &str, probe: &DiskProbe) {
    println!(
        "{label:<24} fdatasync after {} KiB {:.2} ms p50, {:.2} ms p99; after {} KiB {:.2} ms p50, {:.2} ms p99",
        DiskProbe::PAGE / 1024,
        ms(probe.page.0),
        ms(probe.page.1),
        DiskProbe::PAGE * DiskProbe::BATCH_PAGES / 1024,
        ms(probe.batch.0),
        ms(probe.batch.1)
    );
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
fn start_server(exe: &Path, database: &str, postgres: bool) -> anyhow::Result<(Server, Duration)> {
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
            "--stop-with-stdin",
            if postgres { "--database-url" } else { "--db" },
            database,
        ])
        // The server stops when this pipe closes, so a killed bench leaves nothing running.
        .stdin(Stdio::piped())
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
    crate::client::Server::new(&addr.to_string(), None)?.access_token(appid, secret)
}

/// One request on its own connection; returns (status, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    crate::client::Server::new(&addr.to_string(), None)?.request(method, path, body)
}

/// Resident memory of a process, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// A `/proc/PID/status` field in KiB (Linux only).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}
