//! `wxcard events`: follow the pushes a running wxcard sends, and redeliver one.

use std::collections::HashMap;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::client::Server;

/// `wxcard events …`.
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
    /// The running wxcard
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:7800",
        env = "WXCARD_URL"
    )]
    url: String,
    /// Its admin token, if it has one
    #[arg(long, global = true, env = "WXCARD_ADMIN_TOKEN")]
    admin_token: Option<String>,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Follow new events and their delivery outcome (Ctrl-C to stop).
    Tail {
        /// Only this Service Account's events
        #[arg(long)]
        appid: Option<String>,
        /// How often to look, in milliseconds
        #[arg(long, default_value_t = 500)]
        interval_ms: u64,
        /// Print what is there now and stop, instead of following
        #[arg(long)]
        once: bool,
    },
    /// Put an event back in the queue with fresh attempts (a dead one, say).
    Redeliver {
        /// The event id (from `events tail` or GET /admin/v1/events)
        id: i64,
    },
}

pub(crate) fn run(args: &EventsArgs) -> anyhow::Result<()> {
    let server = Server::new(&args.url, args.admin_token.clone())?;
    match &args.command {
        EventsCommand::Tail {
            appid,
            interval_ms,
            once,
        } => tail(
            &server,
            appid.as_deref(),
            Duration::from_millis(*interval_ms),
            *once,
        ),
        EventsCommand::Redeliver { id } => {
            server.json("POST", &format!("/admin/v1/events/{id}/redeliver"), None)?;
            println!("event {id} is queued again");
            Ok(())
        }
    }
}

/// Prints each event once when it appears and again each time its delivery state changes.
fn tail(
    server: &Server,
    appid: Option<&str>,
    interval: Duration,
    once: bool,
) -> anyhow::Result<()> {
    let path = match appid {
        Some(appid) => format!("/admin/v1/events?limit=200&appid={appid}"),
        None => "/admin/v1/events?limit=200".to_owned(),
    };
    let mut seen: HashMap<i64, (String, i64)> = HashMap::new();
    loop {
        let listed = server.json("GET", &path, None)?;
        let mut events: Vec<&serde_json::Value> = listed["events"]
            .as_array()
            .map(|events| events.iter().collect())
            .unwrap_or_default();
        events.reverse();
        for event in events {
            let id = event["id"].as_i64().unwrap_or_default();
            let status = event["status"].as_str().unwrap_or("?").to_owned();
            let attempts = event["attempts"].as_i64().unwrap_or_default();
            if seen.get(&id) == Some(&(status.clone(), attempts)) {
                continue;
            }
            let is_new = !seen.contains_key(&id);
            seen.insert(id, (status.clone(), attempts));
            if is_new {
                println!(
                    "#{id:<6} {:<22} {}  {}  {}",
                    event["event"].as_str().unwrap_or("?"),
                    event["appid"].as_str().unwrap_or("?"),
                    status,
                    event["payload"]
                );
            } else {
                let detail = server
                    .json("GET", &format!("/admin/v1/events/{id}"), None)
                    .ok();
                let last = detail
                    .as_ref()
                    .and_then(|detail| detail["deliveries"].as_array())
                    .and_then(|deliveries| deliveries.last().cloned())
                    .unwrap_or_default();
                let why = last["error"]
                    .as_str()
                    .map(|error| format!(": {error}"))
                    .unwrap_or_default();
                println!("#{id:<6} {status} after attempt {attempts}{why}");
            }
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}
