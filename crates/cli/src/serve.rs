//! `wxcard serve` and `wxcard demo`: load the config, start the server, stop on a signal.

use std::io::Write;

use anyhow::Context;
use wxcard_platform::config::{Config, Sources};
use wxcard_platform::App;

use crate::ServerArgs;

/// Which command is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Serve {
        /// Stop when stdin reaches EOF (the spawning process is gone).
        stop_with_stdin: bool,
    },
    Demo,
}

/// Runs the server until SIGINT or SIGTERM.
pub(crate) fn run(
    args: &ServerArgs,
    database_url: Option<String>,
    admin_token: Option<String>,
    mode: Mode,
) -> anyhow::Result<()> {
    let mut flags = Vec::new();
    let mut flag = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            flags.push((key.to_owned(), value));
        }
    };
    flag("listen", args.listen.clone());
    flag(
        "db",
        args.db
            .as_ref()
            .map(|path| path.display().to_string())
            .or_else(|| (mode == Mode::Demo).then(|| "wxcard-demo.db".to_owned())),
    );
    flag("seed", args.seed.map(|seed| seed.to_string()));
    flag("log", args.log.clone());
    flag("database_url", database_url);
    flag("admin_token", admin_token);
    let loaded = Config::load(Sources {
        file: args.config.clone(),
        look_for_default_file: true,
        env: std::env::vars().collect(),
        flags,
    })?;
    init_logging(&loaded.config.log);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let config = loaded.config;
        let app = App::build(config.clone()).await?;
        let handle = app.handle();
        let addr = app.local_addr();
        {
            // Scripts wait for this exact first line.
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "listening on http://{addr}")?;
            stdout.flush()?;
        }
        if mode == Mode::Demo {
            let seeded = crate::demo::seed_and_print(&handle, addr, &config).await?;
            crate::demo::start_merchant(&handle, &seeded, addr, &config).await?;
        }
        tokio::spawn(stop_on_signal(handle.clone()));
        if let Mode::Serve {
            stop_with_stdin: true,
        } = mode
        {
            let handle = handle.clone();
            std::thread::spawn(move || {
                // The parent holds the other end; EOF means it is gone.
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                tracing::info!("stopping: stdin closed");
                handle.shutdown();
            });
        }
        app.run_until_stopped()
            .await
            .context("the server stopped with an error")?;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn stop_on_signal(handle: wxcard_platform::AppHandle) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!("cannot listen for SIGTERM: {error}");
                    let _ = interrupt.await;
                    handle.shutdown();
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("stopping: finishing requests in flight");
    handle.shutdown();
}

fn init_logging(level: &str) {
    let level = level
        .parse::<tracing::Level>()
        .unwrap_or(tracing::Level::INFO);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}
