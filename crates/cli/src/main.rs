//! `wxcard`: the one binary. `serve` runs the platform, `demo` runs it with seeded accounts,
//! `routes` prints the route table, `bench` measures the server.

mod bench;
mod bench_events;
mod client;
mod demo;
mod events;
mod loadgen;
mod merchant;
mod serve;
mod sim;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// glibc's malloc spent about a seventh of the server's CPU under load (perf), much of it
/// merging freed blocks each time an HTTP read buffer was allocated; mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A local WeChat Card & Voucher platform: point your SDK at it instead of WeChat, act as a
/// user, and see every push your server receives.
#[derive(Debug, Parser)]
#[command(name = "wxcard", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform server (WeChat card API, admin API, simulator).
    Serve(ServeArgs),
    /// Run the platform with a seeded open platform account, Service Account, Mini Program and
    /// two users, and print their credentials and what to try.
    Demo(DemoArgs),
    /// Print every WeChat endpoint wxcard knows, with its status.
    Routes(RoutesArgs),
    /// Print the OpenAPI description of every JSON endpoint (what `/openapi.json` serves).
    Openapi,
    /// Measure startup time, idle memory and HTTP throughput of `wxcard serve` on this machine.
    Bench(bench::BenchArgs),
    /// Follow the pushes a running wxcard sends (`tail`), or send one again (`redeliver ID`).
    Events(events::EventsArgs),
    /// Act as a virtual WeChat user: create users, wx.login, wx.addCard, wx.openCard, and
    /// view, delete, gift, self-consume or pay with a held card.
    Sim(sim::SimArgs),
    /// Run the reference merchant server (built on wxcard-sdk): the Mini Program page's
    /// endpoints, the push endpoint (each event recorded once), and a page of what it recorded.
    Merchant(merchant::MerchantArgs),
}

/// Options shared by `serve` and `demo`.
#[derive(Debug, Args)]
struct ServerArgs {
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:7800]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// SQLite database file (created when missing)
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Makes every generated id reproducible on a fresh database
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Log level on stderr: error, warn, info, debug, trace [default: info]
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
    /// Config file [default: ./wxcard.toml when it exists]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// PostgreSQL URL instead of SQLite (needs a build with `--features postgres`)
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Bearer token for /admin and /sim; required to listen beyond loopback
    #[arg(long, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// Stop when stdin closes: set by `wxcard bench` so a killed bench leaves no server behind
    #[arg(long, hide = true)]
    stop_with_stdin: bool,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Args)]
struct RoutesArgs {
    /// Print a Markdown table instead of aligned columns
    #[arg(long)]
    markdown: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(
            &args.server,
            args.database_url,
            args.admin_token,
            serve::Mode::Serve {
                stop_with_stdin: args.stop_with_stdin,
            },
        ),
        Command::Demo(args) => serve::run(&args.server, None, None, serve::Mode::Demo),
        Command::Routes(args) => {
            print!(
                "{}",
                if args.markdown {
                    wxcard_platform::http_routes_markdown()
                } else {
                    wxcard_platform::http_routes_text()
                }
            );
            Ok(())
        }
        Command::Openapi => {
            print!("{}", wxcard_platform::http_openapi_text());
            Ok(())
        }
        Command::Bench(args) => bench::run(&args),
        Command::Events(args) => events::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Merchant(args) => merchant::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wxcard: {error:#}");
            ExitCode::FAILURE
        }
    }
}
