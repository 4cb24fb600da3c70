//! Assembling the server: storage, clock, services, router and listener.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::domain::accounts::AccountService;
use crate::domain::auth::{AuthService, Lifetimes};
use crate::domain::cards::{CardService, ReviewMode};
use crate::domain::clock::Clock;
use crate::domain::codes::CodeService;
use crate::domain::events::EventService;
use crate::domain::ids::IdGen;
use crate::domain::members::MemberService;
use crate::domain::DomainError;
use crate::events::{Deliverer, DeliveryReport, DeliverySettings};
use crate::http::{self, AppState, Services};
use crate::store::sqlite::{Durability, SqliteOptions, SqliteStore};
use crate::store::{self, Engine, Store, StoreError, Tx};

/// Why the server could not start, said so that the user knows what to change.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Listening beyond loopback without an admin token would open the admin API to the network.
    #[error("refusing to listen on {0} without an admin token: the admin and simulator APIs would be open to the network; pass --admin-token TOKEN (or WXCARD_ADMIN_TOKEN), or listen on 127.0.0.1")]
    NeedsAdminToken(SocketAddr),
    /// A PostgreSQL URL was given to a build without the `postgres` feature.
    #[error("this wxcard was built without PostgreSQL support; rebuild with `cargo build --release --features postgres`, or drop --database-url to use SQLite")]
    PostgresNotCompiled,
    /// The database URL names no engine wxcard knows.
    #[error("--database-url must start with postgres:// or postgresql://")]
    UnknownDatabaseUrl,
    /// The database could not be opened or migrated.
    #[error("cannot open the database {path}")]
    Store {
        /// The file or URL (without credentials).
        path: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// Reading the platform's state failed.
    #[error("cannot read the platform state")]
    State(#[source] DomainError),
    /// The HTTP client for pushes could not be built.
    #[error("cannot set up the push client: {0}")]
    Http(String),
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A built server, bound to its address but not yet serving.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    load: Arc<http::serve::Load>,
    local_addr: SocketAddr,
    state: AppState,
    handle: AppHandle,
    shutdown: watch::Receiver<bool>,
}

/// Controls a running server from elsewhere (tests, the CLI's signal handler).
#[derive(Debug, Clone)]
pub struct AppHandle {
    shutdown: Arc<watch::Sender<bool>>,
    codes: CodeService,
    deliverer: Deliverer,
    poll_interval: std::time::Duration,
    cards: CardService,
    accounts: AccountService,
    auth: AuthService,
    clock: Arc<Clock>,
    store: Arc<dyn Store>,
}

impl App {
    /// Opens the database, applies migrations, and binds the listener.
    ///
    /// # Errors
    /// See [`BuildError`].
    pub async fn build(config: Config) -> Result<App, BuildError> {
        if !config.listen.ip().is_loopback() && config.admin_token.is_none() {
            return Err(BuildError::NeedsAdminToken(config.listen));
        }
        let store = open_store(&config)?;
        let clock = Arc::new(
            store::read(&*store, |tx: &mut dyn Tx| Clock::load(tx))
                .await
                .map_err(BuildError::State)?,
        );
        let ids = IdGen::new(config.seed);
        let lifetimes = Lifetimes {
            access_token: config.tokens.access_token_ttl,
            grace: config.tokens.grace,
            ticket: config.tokens.ticket_ttl,
            login_code: config.tokens.login_code_ttl,
        };
        let accounts = AccountService::new(Arc::clone(&store), Arc::clone(&clock), ids.clone());
        let auth = AuthService::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            ids.clone(),
            lifetimes,
        );
        let review = match config.review.mode.as_str() {
            "delay" => ReviewMode::Delay(config.review.delay_seconds),
            "manual" => ReviewMode::Manual,
            _ => ReviewMode::Auto,
        };
        let code_key = code_key(&*store, &ids).await?;
        let delivery = DeliverySettings {
            timeout: std::time::Duration::from_millis(config.push.timeout_ms.max(1)),
            retry_delay: config.push.retry_delay_seconds,
            max_attempts: config.push.max_attempts.max(1),
            concurrency: config.push.concurrency.max(1),
        };
        let deliverer = Deliverer::new(Arc::clone(&store), Arc::clone(&clock), delivery)
            .map_err(|error| BuildError::Http(error.to_string()))?;
        let push_http = reqwest::Client::builder()
            .timeout(delivery.timeout)
            .build()
            .map_err(|error| BuildError::Http(error.to_string()))?;
        let codes = CodeService::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            ids.clone(),
            Arc::clone(&code_key),
        );
        let members = MemberService::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            ids.clone(),
            code_key,
        );
        let cards = CardService::new(Arc::clone(&store), Arc::clone(&clock), ids, review);
        let load = Arc::new(http::serve::Load::new(config.limits.clone()));
        let state = AppState::new(Services {
            accounts: accounts.clone(),
            auth: auth.clone(),
            cards: cards.clone(),
            codes: codes.clone(),
            members,
            deliverer: deliverer.clone(),
            push_http,
            events: EventService::new(Arc::clone(&store)),
            clock: Arc::clone(&clock),
            store: Arc::clone(&store),
            admin_token: config.admin_token.clone().map(Arc::new),
            recent: http::log::RecentRequests::default(),
            load: Arc::clone(&load),
        });
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| BuildError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| BuildError::Bind {
            addr: config.listen,
            source,
        })?;
        let (sender, shutdown) = watch::channel(false);
        let handle = AppHandle {
            shutdown: Arc::new(sender),
            codes,
            deliverer,
            poll_interval: std::time::Duration::from_millis(config.push.poll_interval_ms),
            cards,
            accounts,
            auth,
            clock,
            store,
        };
        Ok(App {
            load,
            listener,
            local_addr,
            state,
            handle,
            shutdown,
        })
    }

    /// The address the server listens on (with the real port when 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that can stop the server and reach its services.
    #[must_use]
    pub fn handle(&self) -> AppHandle {
        self.handle.clone()
    }

    /// Serves until [`AppHandle::shutdown`] is called, then finishes the requests in flight.
    ///
    /// # Errors
    /// When accepting connections fails for good.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let shutdown = self.shutdown;
        let sweeper = tokio::spawn(sweep_due_work(
            self.handle.cards.clone(),
            self.handle.codes.clone(),
            (
                Arc::clone(&self.handle.clock),
                Arc::clone(&self.handle.store),
            ),
            shutdown.clone(),
        ));
        // A poll interval of 0 turns the worker off: the embedder delivers with `deliver_due`.
        let worker = (!self.handle.poll_interval.is_zero()).then(|| {
            tokio::spawn(
                self.handle
                    .deliverer
                    .clone()
                    .run(self.handle.poll_interval, shutdown.clone()),
            )
        });
        let router = http::router(self.state);
        // Ends when shutdown turns true, or when every handle is gone (nobody could stop the
        // server otherwise: `wait_for` then fails, which the loop takes as a stop).
        http::serve::serve(self.listener, router, self.load, shutdown.clone()).await?;
        if let Some(worker) = worker {
            worker.abort();
        }
        sweeper.abort();
        Ok(())
    }
}

impl AppHandle {
    /// Asks the server to stop accepting connections and finish what is in flight.
    pub fn shutdown(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Delivers every due event now (tests use it instead of waiting for the worker).
    ///
    /// # Errors
    /// Storage.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, DomainError> {
        self.deliverer.deliver_due().await
    }

    /// The account service (the demo seeds through it).
    #[must_use]
    pub fn accounts(&self) -> &AccountService {
        &self.accounts
    }

    /// The credential service.
    #[must_use]
    pub fn auth(&self) -> &AuthService {
        &self.auth
    }

    /// The platform clock.
    #[must_use]
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The database engine in use.
    #[must_use]
    pub fn engine(&self) -> Engine {
        self.store.engine()
    }

    /// A bookkeeping value (the demo remembers what it seeded).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, DomainError> {
        let key = key.to_owned();
        store::read(&*self.store, move |tx: &mut dyn Tx| Ok(tx.meta(&key)?)).await
    }

    /// Sets a bookkeeping value.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), DomainError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            Ok(tx.set_meta(&key, &value)?)
        })
        .await
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(config: &Config, url: &str) -> Result<Arc<dyn Store>, BuildError> {
    let options = crate::store::postgres::PostgresOptions {
        url: url.to_owned(),
        readers: config.store.readers,
        writers: config.store.writers,
        max_batch: config.store.max_batch,
    };
    let store = crate::store::postgres::PostgresStore::open(&options).map_err(|source| {
        BuildError::Store {
            // The URL may carry a password: name the database by its engine only.
            path: "the PostgreSQL database of --database-url".into(),
            source,
        }
    })?;
    Ok(store)
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_config: &Config, _url: &str) -> Result<Arc<dyn Store>, BuildError> {
    Err(BuildError::PostgresNotCompiled)
}

fn open_store(config: &Config) -> Result<Arc<dyn Store>, BuildError> {
    if let Some(url) = &config.database_url {
        let url = url.expose();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(BuildError::UnknownDatabaseUrl);
        }
        return open_postgres(config, url);
    }
    let options = SqliteOptions {
        path: config.db.clone(),
        readers: config.store.readers,
        max_batch: config.store.max_batch,
        durability: if config.store.synchronous == "normal" {
            Durability::Normal
        } else {
            Durability::Full
        },
    };
    let store = SqliteStore::open(&options).map_err(|source| BuildError::Store {
        path: config.db.display().to_string(),
        source,
    })?;
    Ok(store)
}

/// Once a second, does the work that falls due with time (delayed card reviews, gifts not
/// accepted in time). Tests do not
/// wait for it: advancing the clock through the admin API does the same work at once.
async fn sweep_due_work(
    cards: CardService,
    codes: CodeService,
    (clock, store): (Arc<Clock>, Arc<dyn Store>),
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                // Another instance on the same database may have moved the clock.
                if let Err(error) = clock.refresh(&*store).await {
                    tracing::warn!("could not read the clock's offset: {error}");
                }
                if let Err(error) = cards.settle_due_reviews().await {
                    tracing::warn!("could not settle due reviews: {error}");
                }
                if let Err(error) = codes.settle_gift_timeouts().await {
                    tracing::warn!("could not return timed-out gifts: {error}");
                }
            }
            changed = shutdown.changed() => {
                // A closed channel means every handle is gone: stop as well.
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

/// The key behind every account's encrypt_code. It is stored, so that codes handed out before
/// a restart still decrypt after it; with `--seed` it is derived from the seed.
async fn code_key(store: &dyn Store, ids: &IdGen) -> Result<Arc<[u8]>, BuildError> {
    const KEY: &str = "code_key";
    let fresh = ids.hex("code_key", b"", 64);
    let stored = store::write(store, move |tx: &mut dyn Tx| {
        if let Some(existing) = tx.meta(KEY)? {
            return Ok(existing);
        }
        tx.set_meta(KEY, &fresh)?;
        Ok::<_, DomainError>(fresh.clone())
    })
    .await
    .map_err(BuildError::State)?;
    Ok(Arc::from(stored.into_bytes()))
}
