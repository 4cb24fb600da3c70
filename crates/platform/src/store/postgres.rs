//! The PostgreSQL engine (cargo feature `postgres`): several wxcard instances on one database.
//!
//! Writes run side by side: each instance has `writers` writer connections, each running one
//! job per `SERIALIZABLE` transaction, so PostgreSQL checks every write against every other one
//! of every instance and the domain's rules (stock, get_limit, a code consumed once) hold as
//! they do with SQLite's single writer. A job that PostgreSQL refuses as a conflict runs again
//! on one more connection, in group commits (a savepoint per job) that run alone: each holds the
//! `writer_gate` table locked `EXCLUSIVE`, which every writer's transaction holds `ROW SHARE`.
//! Both take that lock before their first query, so before their snapshot. Jobs whose rules hold
//! by the row locks they take (claims, which lock their card first, and the outbox's leases;
//! see [`Store::submit_row_locked_write`]) run in group commits on a third connection, beside
//! the writers, holding the gate `ROW SHARE`. Reads run on reader
//! threads, each with its own connection, in a `REPEATABLE READ READ ONLY` transaction (one
//! snapshot per job). The outbox is leased with `FOR UPDATE SKIP LOCKED`.

use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

use super::{CodeExtra, Document, Engine, Job, Store, StoreError, StoreResult, Tx};
use crate::domain::events::EventFilter;
use crate::domain::model::{
    AccessToken, App, AppKind, Card, CardStatus, DeliveryAttempt, DueEvent, Gift, LandingPage,
    LoginCode, OpenPlatform, OutboxEvent, PushConfig, QrCode, SignedCardExt, Ticket, TicketType,
    TokenKind, User, UserCard, UserCardStatus,
};

/// Migrations in order, named as those of `migrations/sqlite/`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_accounts",
        include_str!("../../migrations/postgres/0001_accounts.sql"),
    ),
    (
        "0002_cards",
        include_str!("../../migrations/postgres/0002_cards.sql"),
    ),
    (
        "0003_codes",
        include_str!("../../migrations/postgres/0003_codes.sql"),
    ),
    (
        "0004_push",
        include_str!("../../migrations/postgres/0004_push.sql"),
    ),
    (
        "0005_gifts",
        include_str!("../../migrations/postgres/0005_gifts.sql"),
    ),
    (
        "0006_code_extras",
        include_str!("../../migrations/postgres/0006_code_extras.sql"),
    ),
    (
        "0007_members",
        include_str!("../../migrations/postgres/0007_members.sql"),
    ),
    (
        "0008_room_for_updates",
        include_str!("../../migrations/postgres/0008_room_for_updates.sql"),
    ),
    (
        "0009_fewer_outbox_indexes",
        include_str!("../../migrations/postgres/0009_fewer_outbox_indexes.sql"),
    ),
    (
        "0010_no_outbox_due",
        include_str!("../../migrations/postgres/0010_no_outbox_due.sql"),
    ),
    (
        "0011_outbox_without_app_key",
        include_str!("../../migrations/postgres/0011_outbox_without_app_key.sql"),
    ),
    (
        "0012_card_ext_in_time_order",
        include_str!("../../migrations/postgres/0012_card_ext_in_time_order.sql"),
    ),
];

/// The advisory lock held while migrating, so that instances starting together migrate once.
const MIGRATION_LOCK: i64 = 9_922_274;

/// Settings of the PostgreSQL engine.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// `postgres://user@host/db`; `?options=-csearch_path%3Dname` selects a schema.
    pub url: String,
    /// Reader connections (and threads).
    pub readers: usize,
    /// Writer connections (and threads): how many write transactions one instance runs at once.
    pub writers: usize,
    /// The most conflicted jobs one group commit takes.
    pub max_batch: usize,
}

/// A PostgreSQL database behind the [`Store`] trait.
pub struct PostgresStore {
    writer: Mutex<mpsc::Sender<Job>>,
    /// The group commits that run alone: jobs that conflicted.
    alone: Mutex<mpsc::Sender<Job>>,
    /// The group commits of jobs kept apart by their own row locks, beside the other writers.
    row_locked: Mutex<mpsc::Sender<Job>>,
    readers: Mutex<mpsc::Sender<Job>>,
}

/// How a group commit is kept apart from the other writers.
#[derive(Clone, Copy)]
enum Gate<'a> {
    /// The writers' gate held `EXCLUSIVE`: the batch runs while no other writer of any
    /// instance is in a transaction (jobs that conflicted).
    Exclusive,
    /// The gate held `ROW SHARE`, beside the other writers: jobs kept apart by the row locks
    /// they take themselves (claims lock their card first; the outbox's leases lock the events
    /// they lease). They take no predicate locks, so a lease's scan of the outbox does not
    /// conflict with the writers that add events. A job that deadlocks with another
    /// instance's batch is sent here, to run again alone.
    Shared(&'a mpsc::Sender<Job>),
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// One connection, the small runtime that drives it on its storage thread, and the statements
/// prepared on it.
struct Connection {
    runtime: tokio::runtime::Runtime,
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Connection {
    fn open(url: &str) -> StoreResult<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(backend)?;
        let (client, driver) = runtime
            .block_on(tokio_postgres::connect(url, NoTls))
            .map_err(backend)?;
        // The connection's messages move while the thread waits on the runtime for a reply.
        runtime.spawn(async move {
            if let Err(error) = driver.await {
                tracing::debug!(%error, "a PostgreSQL connection ended");
            }
        });
        let connection = Self {
            runtime,
            client,
            statements: HashMap::new(),
        };
        // A session that stops half-way through a transaction (a paused VM, a partition) must
        // not hold the writers' lock, and a writer must not wait for it forever.
        connection
            .batch_execute(
                "SET idle_in_transaction_session_timeout = '60s'; SET lock_timeout = '30s'",
            )
            .map_err(backend)?;
        Ok(connection)
    }

    /// Connects again when the server closed the connection (a restart, a failover), so that
    /// the next job works instead of every job failing until wxcard restarts.
    fn reopen_if_closed(&mut self, url: &str) {
        if !self.client.is_closed() {
            return;
        }
        match Self::open(url) {
            Ok(fresh) => {
                tracing::warn!("the PostgreSQL connection was closed; connected again");
                *self = fresh;
            }
            Err(error) => {
                tracing::error!(%error, "the PostgreSQL connection was closed and reconnecting failed");
                thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    }

    /// Runs statements without parameters, in one round trip.
    fn batch_execute(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        self.runtime.block_on(self.client.batch_execute(sql))
    }

    /// Runs one statement that is not kept prepared (schema setup, migrations).
    fn query(&self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, tokio_postgres::Error> {
        self.runtime.block_on(self.client.query(sql, params))
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.runtime.block_on(self.client.prepare(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl PostgresStore {
    /// Connects, applies pending migrations and starts the storage threads.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub fn open(options: &PostgresOptions) -> StoreResult<Arc<Self>> {
        // Each connection runs on its own small runtime, which cannot start on a thread that
        // drives tokio: each storage thread connects for itself and reports how it went.
        // The thread for jobs that conflicted connects first and migrates the database.
        let (alone_sender, alone_receiver) = mpsc::channel::<Job>();
        // Savepoints past 64 in one transaction slow every snapshot on the server down.
        let max_batch = options.max_batch.clamp(1, 64);
        let url = options.url.clone();
        spawn_connected(
            "wxcard-pg-alone".into(),
            &options.url,
            |connection| prepare_database(connection),
            move |mut connection| {
                run_batches(
                    &mut connection,
                    &url,
                    &alone_receiver,
                    max_batch,
                    Gate::Exclusive,
                );
            },
        )?
        .wait()?;

        // The other threads connect at the same time; a start waits for the slowest of them.
        let mut connecting = Vec::with_capacity(options.writers + options.readers + 1);

        let (row_locked_sender, row_locked_receiver) = mpsc::channel::<Job>();
        {
            let (url, alone) = (options.url.clone(), alone_sender.clone());
            connecting.push(spawn_connected(
                "wxcard-pg-row-locked".into(),
                &options.url,
                |_| Ok(()),
                move |mut connection| {
                    run_batches(
                        &mut connection,
                        &url,
                        &row_locked_receiver,
                        max_batch,
                        Gate::Shared(&alone),
                    );
                },
            )?);
        }

        let (write_sender, write_receiver) = mpsc::channel::<Job>();
        let write_receiver = Arc::new(Mutex::new(write_receiver));
        for index in 0..options.writers.max(1) {
            let queue = Arc::clone(&write_receiver);
            let alone = alone_sender.clone();
            let url = options.url.clone();
            connecting.push(spawn_connected(
                format!("wxcard-pg-writer-{index}"),
                &options.url,
                |_| Ok(()),
                move |mut connection| run_writer(&mut connection, &url, &queue, &alone),
            )?);
        }

        let (read_sender, read_receiver) = mpsc::channel::<Job>();
        let read_receiver = Arc::new(Mutex::new(read_receiver));
        for index in 0..options.readers.max(1) {
            let queue = Arc::clone(&read_receiver);
            let url = options.url.clone();
            connecting.push(spawn_connected(
                format!("wxcard-pg-reader-{index}"),
                &options.url,
                |_| Ok(()),
                move |mut connection| run_reader(&mut connection, &url, &queue),
            )?);
        }
        for thread in &connecting {
            thread.wait()?;
        }
        Ok(Arc::new(Self {
            writer: Mutex::new(write_sender),
            alone: Mutex::new(alone_sender),
            row_locked: Mutex::new(row_locked_sender),
            readers: Mutex::new(read_sender),
        }))
    }
}

impl Store for PostgresStore {
    fn submit_write(&self, job: Job) {
        submit(&self.writer, job);
    }

    fn submit_row_locked_write(&self, job: Job) {
        submit(&self.row_locked, job);
    }

    fn submit_alone_write(&self, job: Job) {
        submit(&self.alone, job);
    }

    fn submit_read(&self, job: Job) {
        submit(&self.readers, job);
    }

    fn engine(&self) -> Engine {
        Engine::Postgres
    }
}

/// Starts a storage thread that connects, runs `prepare` on its connection, says whether
/// both worked, and then runs `run`; answers where that word will come.
fn spawn_connected(
    name: String,
    url: &str,
    prepare: impl FnOnce(&mut Connection) -> StoreResult<()> + Send + 'static,
    run: impl FnOnce(Connection) + Send + 'static,
) -> StoreResult<Connecting> {
    let url = url.to_owned();
    let (ready, connected) = mpsc::channel();
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let opened = Connection::open(&url).and_then(|mut connection| {
                prepare(&mut connection)?;
                Ok(connection)
            });
            match opened {
                Ok(connection) => {
                    let _ = ready.send(Ok(()));
                    run(connection);
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                }
            }
        })
        .map_err(backend)?;
    Ok(Connecting(connected))
}

/// A storage thread's word on whether it connected.
struct Connecting(mpsc::Receiver<StoreResult<()>>);

impl Connecting {
    fn wait(&self) -> StoreResult<()> {
        self.0.recv().unwrap_or(Err(StoreError::Closed))
    }
}

/// Queues `job` for a storage thread; when the thread is gone, answers it with
/// [`StoreError::Closed`].
fn submit(queue: &Mutex<mpsc::Sender<Job>>, job: Job) {
    let sender = queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if let Err(mpsc::SendError(job)) = sender.send(job) {
        super::closed::refuse(job, StoreError::Closed);
    }
}

/// Creates the schema and applies the migrations, under a session lock so that instances
/// starting together on an empty database do it once.
fn prepare_database(connection: &Connection) -> StoreResult<()> {
    connection
        .query("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(backend)?;
    let prepared = create_schema(connection).and_then(|()| migrate(connection));
    let unlocked = connection
        .query("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .map_err(backend);
    prepared.and(unlocked.map(|_| ()))
}

/// Creates the first schema of the search path when it does not exist yet (a URL with
/// `options=-csearch_path%3Dname` gets its own schema, as `--db` gets its own file).
fn create_schema(connection: &Connection) -> StoreResult<()> {
    let rows = connection
        .query(
            "SELECT current_schema() IS NULL, split_part(current_setting('search_path'), ',', 1)",
            &[],
        )
        .map_err(backend)?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt("answer about the schema"))?;
    let (missing, first): (bool, String) = (get(row, 0)?, get(row, 1)?);
    let first = first.trim();
    // PostgreSQL folds an unquoted name to lower case and keeps a quoted one as it is.
    let name = match first
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(quoted) => quoted.to_owned(),
        None => first.to_lowercase(),
    };
    if missing && !name.is_empty() && !name.starts_with('$') {
        connection
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                name.replace('"', "\"\"")
            ))
            .map_err(backend)?;
    }
    Ok(())
}

fn migrate(connection: &Connection) -> StoreResult<()> {
    connection
        .batch_execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .map_err(backend)?;
    for (name, sql) in MIGRATIONS {
        connection.batch_execute("BEGIN").map_err(backend)?;
        let applied = migrate_one(connection, name, sql);
        let ended = match applied {
            Ok(()) => connection.batch_execute("COMMIT"),
            Err(_) => connection.batch_execute("ROLLBACK"),
        };
        applied?;
        ended.map_err(backend)?;
    }
    Ok(())
}

/// Applies one migration inside the open transaction, unless it was applied before.
fn migrate_one(connection: &Connection, name: &str, sql: &str) -> StoreResult<()> {
    let applied = connection
        .query("SELECT name FROM _migrations WHERE name = $1", &[&name])
        .map_err(backend)?;
    if applied.is_empty() {
        connection.batch_execute(sql).map_err(backend)?;
        connection
            .query(
                "INSERT INTO _migrations (name, applied_at) VALUES ($1, extract(epoch FROM now())::BIGINT)",
                &[&name],
            )
            .map_err(backend)?;
    }
    Ok(())
}

/// Runs write jobs side by side with the other writers until the store is gone.
fn run_writer(
    connection: &mut Connection,
    url: &str,
    queue: &Mutex<mpsc::Receiver<Job>>,
    alone: &mpsc::Sender<Job>,
) {
    while let Some(mut job) = next_job(queue) {
        connection.reopen_if_closed(url);
        if let Attempt::Conflict(error) = attempt_write(connection, &mut job) {
            tracing::debug!(%error, "a write transaction conflicted; it runs again alone");
            if let Err(mpsc::SendError(job)) = alone.send(job) {
                super::closed::refuse(job, StoreError::Closed);
            }
        }
    }
}

/// Takes the next queued job; `None` once the store is gone.
fn next_job<T>(queue: &Mutex<mpsc::Receiver<T>>) -> Option<T> {
    queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .recv()
        .ok()
}

/// Runs queued jobs in group commits kept apart by `gate`.
fn run_batches(
    connection: &mut Connection,
    url: &str,
    queue: &mpsc::Receiver<Job>,
    max_batch: usize,
    gate: Gate<'_>,
) {
    while let Ok(first) = queue.recv() {
        connection.reopen_if_closed(url);
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(connection, batch, gate);
    }
}

/// What became of one run of a write job.
enum Attempt {
    /// Committed, or rolled back for good; its caller has its answer.
    Done,
    /// Rolled back because it conflicted with another transaction; the job may run again.
    Conflict(String),
}

/// Opens a writer's transaction and takes the writers' gate shared, before the first query and
/// so before the snapshot. These and COMMIT run as prepared statements, which PostgreSQL does
/// not parse again each time.
const BEGIN_SERIALIZABLE: &[&str] = &[
    "BEGIN ISOLATION LEVEL SERIALIZABLE",
    "LOCK TABLE writer_gate IN ROW SHARE MODE",
];
/// Opens a reader's transaction: one snapshot for the whole job.
const BEGIN_READ: &[&str] = &["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"];
/// Ends a job's transaction.
const COMMIT: &[&str] = &["COMMIT"];
/// Ends a job's savepoint in a group commit and opens the next job's.
const NEXT_SAVEPOINT: &[&str] = &["RELEASE SAVEPOINT job", "SAVEPOINT job"];

/// Runs one job in its own transaction, beside the other writers (each holds the writers' gate
/// shared), and answers its caller after the commit, unless it conflicted.
fn attempt_write(connection: &mut Connection, job: &mut Job) -> Attempt {
    let mut tx = PostgresTx::new(connection, Some(BEGIN_SERIALIZABLE));
    let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)));
    let Ok(outcome) = outcome else {
        tracing::error!("a storage job panicked; its writes were rolled back");
        tx.abandon();
        // Dropping the job drops its answer channel: the caller learns the store failed.
        return Attempt::Done;
    };
    if tx.failed.is_none() && !outcome.rollback {
        // The deferred writes go with COMMIT; one that failed turned the COMMIT into a rollback,
        // and a COMMIT that failed (a conflict found at the end) is a failed statement too.
        if let Err(error) = tx.end(COMMIT) {
            tx.note_failure("COMMIT", &error);
        }
        if tx.failed.is_none() {
            (outcome.complete)(Ok(()));
            return Attempt::Done;
        }
    }
    tx.abandon();
    match tx.failed.take() {
        Some(failed) if failed.retry => Attempt::Conflict(failed.message),
        // A job that failed on its own already carries its error; one that returned success
        // after a failed statement is told its writes are gone.
        Some(failed) => {
            (outcome.complete)(if outcome.rollback {
                Ok(())
            } else {
                Err(StoreError::Backend(failed.message.into()))
            });
            Attempt::Done
        }
        None => {
            (outcome.complete)(Ok(()));
            Attempt::Done
        }
    }
}

/// A serialization failure or a deadlock: the transaction did nothing and may run again.
fn is_conflict(error: &tokio_postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// Runs jobs in one `READ COMMITTED` transaction, one savepoint each, and answers them all
/// after the commit. With [`Gate::Exclusive`] they run alone: locking the gate exclusively
/// waits until no other writer of any instance is in a transaction and keeps new ones out
/// until the commit; those then take their snapshots after it. With [`Gate::Shared`] they run
/// beside the other writers, and a job that conflicts (a deadlock with another instance's
/// batch) is rolled back to its savepoint and sent on to run alone instead of being answered.
fn run_batch(connection: &mut Connection, batch: Vec<Job>, gate: Gate<'_>) {
    // One round trip opens the transaction, takes the gate and opens the first job's
    // savepoint; after each job, one more sends its deferred writes, closes its savepoint and
    // opens the next job's (a rolled-back savepoint stays open for the next job). COMMIT
    // releases the last one.
    let began = connection.batch_execute(match gate {
        Gate::Exclusive => "BEGIN ISOLATION LEVEL READ COMMITTED; LOCK TABLE writer_gate IN EXCLUSIVE MODE; SAVEPOINT job",
        Gate::Shared(_) => "BEGIN ISOLATION LEVEL READ COMMITTED; LOCK TABLE writer_gate IN ROW SHARE MODE; SAVEPOINT job",
    });
    if let Err(error) = began {
        let _ = connection.batch_execute("ROLLBACK");
        let message = error.to_string();
        for job in batch {
            super::closed::refuse(job, StoreError::Backend(message.clone().into()));
        }
        return;
    }
    // Each job answers with the batch's fate, or with its own failure when its writes were
    // rolled back although it returned success (one of its statements failed: PostgreSQL
    // aborted its savepoint, so nothing it did may be reported as written).
    let mut completions: Vec<(Completion, Option<StoreError>)> = Vec::with_capacity(batch.len());
    // A savepoint that could not be opened or closed leaves the transaction unusable.
    let mut broken: Option<String> = None;
    for mut job in batch {
        if broken.is_some() {
            let outcome = job(&mut super::closed::ClosedTx);
            completions.push((outcome.complete, None));
            continue;
        }
        let mut tx = PostgresTx::new(connection, None);
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)));
        let rollback =
            tx.failed.is_some() || outcome.as_ref().map_or(true, |outcome| outcome.rollback);
        let mut closed = Ok(());
        if !rollback {
            closed = tx.end(NEXT_SAVEPOINT);
        }
        // A deferred write that failed aborted the savepoint: the job is rolled back after all.
        let failed = tx.failed.take();
        if rollback || failed.is_some() {
            closed = connection.batch_execute("ROLLBACK TO SAVEPOINT job");
        }
        if let Err(error) = closed {
            broken = Some(error.to_string());
        }
        if let (Gate::Shared(alone), Some(conflict)) =
            (gate, failed.as_ref().filter(|failed| failed.retry))
        {
            tracing::debug!(error = %conflict.message, "a job conflicted in a shared group commit; it runs again alone");
            // Its outcome is dropped unanswered: the run alone answers.
            if let Err(mpsc::SendError(job)) = alone.send(job) {
                super::closed::refuse(job, StoreError::Closed);
            }
            continue;
        }
        match outcome {
            Ok(outcome) => {
                // A job that failed on its own already carries its error; one that returned
                // success after a failed statement is told its writes are gone.
                let forced = failed
                    .filter(|_| !outcome.rollback)
                    .map(|failed| StoreError::Backend(failed.message.into()));
                completions.push((outcome.complete, forced));
            }
            Err(_) => tracing::error!("a storage job panicked; its writes were rolled back"),
        }
    }
    let committed = match &broken {
        Some(reason) => {
            tracing::error!(%reason, "a savepoint failed; the whole batch is rolled back");
            let _ = connection.batch_execute("ROLLBACK");
            Err(reason.clone())
        }
        None => connection.batch_execute("COMMIT").map_err(|error| {
            let _ = connection.batch_execute("ROLLBACK");
            error.to_string()
        }),
    };
    for (complete, forced) in completions {
        complete(match (&committed, forced) {
            (Err(reason), _) => Err(StoreError::Backend(reason.clone().into())),
            (Ok(()), Some(error)) => Err(error),
            (Ok(()), None) => Ok(()),
        });
    }
}

/// How a job's caller is answered once the transaction's fate is known.
type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;

fn run_reader(connection: &mut Connection, url: &str, queue: &Mutex<mpsc::Receiver<Job>>) {
    while let Some(mut job) = next_job(queue) {
        connection.reopen_if_closed(url);
        let mut tx = PostgresTx::new(connection, Some(BEGIN_READ));
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)));
        match outcome {
            Ok(outcome) => {
                let ended = tx.end(COMMIT);
                (outcome.complete)(ended.map_err(backend));
            }
            Err(_) => {
                tracing::error!("a read job panicked");
                tx.abandon();
            }
        }
    }
}

/// The server's words for a failed statement (a `tokio_postgres::Error` shows only "db error").
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => error.to_string(),
    }
}

fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(error))
}

fn map_error(error: tokio_postgres::Error) -> StoreError {
    match error.code() {
        Some(code)
            if *code == SqlState::UNIQUE_VIOLATION
                || *code == SqlState::FOREIGN_KEY_VIOLATION
                || *code == SqlState::CHECK_VIOLATION
                || *code == SqlState::NOT_NULL_VIOLATION =>
        {
            StoreError::Conflict(
                error
                    .as_db_error()
                    .map_or_else(|| error.to_string(), |db| db.message().to_owned()),
            )
        }
        _ => backend(error),
    }
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A job's view of the writer's (or a reader's) open transaction.
///
/// Round trips set the pace of a transaction on PostgreSQL, so a job's statements travel
/// together where they can: the statement that opens the transaction goes with the job's
/// first statement, and writes whose answers the job does not need (`execute_later`) go with
/// the next statement or with the COMMIT. A consume thus takes two round trips instead of five.
struct PostgresTx<'c> {
    connection: &'c mut Connection,
    /// What opens the transaction, until it is sent with the first statement. The snapshot is
    /// taken by that statement, after the opening's lock, as when they went one by one.
    opening: Option<&'static [&'static str]>,
    /// Whether the opening was sent: the transaction then needs ending.
    began: bool,
    /// Writes sent with the next round trip, in order.
    deferred: Vec<Deferred>,
    /// The first statement that failed: PostgreSQL then refuses every later one in the
    /// transaction, so the job's writes are rolled back whatever it returns.
    failed: Option<Failed>,
    /// The stock of the card this job last read with `card_facts` or `lock_card_facts`, until
    /// the job writes a card: `stock` answers from it instead of a round trip (a claim reads
    /// both). Nobody else changes it meanwhile: a `SERIALIZABLE` job reads one snapshot, a job
    /// that runs alone holds the writers' gate exclusively, and a claim in a shared group
    /// commit holds the card's row lock from `lock_card_facts` on.
    stock_read: Option<(String, i64)>,
}

/// A write whose answer nobody waits for.
struct Deferred {
    sql: &'static str,
    statement: Statement,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
}

/// The first failed statement of a job.
struct Failed {
    message: String,
    /// A serialization failure or a deadlock: the job may run again.
    retry: bool,
}

/// The statement that ends a round trip.
#[derive(Clone, Copy)]
enum Last<'a> {
    /// A prepared statement whose rows are wanted.
    Query(&'a Statement, Params<'a>),
    /// A prepared statement whose count of changed rows is wanted.
    Execute(&'a Statement, Params<'a>),
}

/// What one statement of a round trip answered.
enum Reply {
    Rows(Vec<Row>),
    Count(u64),
}

type Pending<'a> = Pin<Box<dyn Future<Output = Result<Reply, tokio_postgres::Error>> + 'a>>;

impl<'c> PostgresTx<'c> {
    fn new(connection: &'c mut Connection, opening: Option<&'static [&'static str]>) -> Self {
        Self {
            connection,
            opening,
            began: opening.is_none(),
            deferred: Vec::new(),
            failed: None,
            stock_read: None,
        }
    }
}

impl PostgresTx<'_> {
    /// Keeps the stock of the card just read for `stock` (see `stock_read`).
    fn remember_stock(&mut self, card: Option<Card>) -> Option<Card> {
        self.stock_read = card
            .as_ref()
            .map(|card| (card.card_id.clone(), card.quantity));
        card
    }

    /// Notes a failed statement (the first one) and passes its error on.
    fn note<T>(&mut self, sql: &str, result: Result<T, tokio_postgres::Error>) -> StoreResult<T> {
        result.map_err(|error| {
            self.note_failure(sql, &error);
            map_error(error)
        })
    }

    fn note_failure(&mut self, sql: &str, error: &tokio_postgres::Error) {
        if self.failed.is_none() {
            self.failed = Some(Failed {
                message: format!("{}, in: {sql}", describe(error)),
                retry: is_conflict(error),
            });
        }
    }

    /// Sends the opening (when not sent yet), the deferred writes and `last` in one round
    /// trip; notes the first failure among the ones before `last` and answers `last`'s reply.
    fn round_trip(&mut self, last: Last<'_>) -> Result<Reply, tokio_postgres::Error> {
        if let Some(opening) = self.opening.take() {
            self.began = true;
            let mut first = Vec::with_capacity(opening.len() + self.deferred.len());
            for &sql in opening {
                first.push(Deferred {
                    sql,
                    statement: self.connection.statement(sql)?,
                    params: Vec::new(),
                });
            }
            first.append(&mut self.deferred);
            self.deferred = first;
        }
        let deferred = std::mem::take(&mut self.deferred);
        let client = &self.connection.client;
        let mut sent: Vec<Pending<'_>> = Vec::with_capacity(deferred.len() + 1);
        for write in &deferred {
            sent.push(Box::pin(async move {
                let params: Vec<&(dyn ToSql + Sync)> = write
                    .params
                    .iter()
                    .map(|param| &**param as &(dyn ToSql + Sync))
                    .collect();
                client
                    .execute(&write.statement, &params)
                    .await
                    .map(Reply::Count)
            }));
        }
        sent.push(match last {
            Last::Query(statement, params) => {
                Box::pin(async move { client.query(statement, params).await.map(Reply::Rows) })
            }
            Last::Execute(statement, params) => {
                Box::pin(async move { client.execute(statement, params).await.map(Reply::Count) })
            }
        });
        // tokio-postgres sends a request when its future is first polled and reads the replies
        // in order: polling them all together puts them on the wire back to back.
        let mut replies = self
            .connection
            .runtime
            .block_on(futures_util::future::join_all(sent));
        let reply = replies.pop().expect("the last statement has a reply");
        for (write, earlier) in deferred.iter().zip(replies) {
            if let Err(error) = earlier {
                self.note_failure(write.sql, &error);
            }
        }
        reply
    }

    /// Prepares `sql` (once per connection) and runs it after the statements waiting to go,
    /// in one round trip; `rows` says whether its rows or its count of changed rows are wanted.
    fn run(&mut self, sql: &str, params: Params<'_>, rows: bool) -> StoreResult<Reply> {
        let statement = self.connection.statement(sql);
        let statement = self.note(sql, statement)?;
        let last = if rows {
            Last::Query(&statement, params)
        } else {
            Last::Execute(&statement, params)
        };
        let reply = self.round_trip(last);
        self.note(sql, reply)
    }

    fn execute(&mut self, sql: &str, params: Params<'_>) -> StoreResult<u64> {
        match self.run(sql, params, false)? {
            Reply::Count(count) => Ok(count),
            Reply::Rows(_) => Err(corrupt("rows from a statement that returns none")),
        }
    }

    /// Queues a write whose answer the job does not need; it goes with the next round trip.
    /// Its failure, if any, rolls the whole job back when the transaction ends.
    fn execute_later(
        &mut self,
        sql: &'static str,
        params: Vec<Box<dyn ToSql + Sync + Send>>,
    ) -> StoreResult<()> {
        let statement = self.connection.statement(sql);
        let statement = self.note(sql, statement)?;
        self.deferred.push(Deferred {
            sql,
            statement,
            params,
        });
        Ok(())
    }

    fn rows(&mut self, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        match self.run(sql, params, true)? {
            Reply::Rows(rows) => Ok(rows),
            Reply::Count(_) => Err(corrupt("count from a query")),
        }
    }

    fn query_one<T>(
        &mut self,
        sql: &str,
        params: Params<'_>,
        map: impl FnOnce(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let rows = self.rows(sql, params)?;
        if rows.len() > 1 {
            return Err(StoreError::Corrupt(format!(
                "{} rows where at most one was expected, from: {sql}",
                rows.len()
            )));
        }
        rows.first().map(map).transpose()
    }

    fn query_all<T>(
        &mut self,
        sql: &str,
        params: Params<'_>,
        map: impl FnMut(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.rows(sql, params)?.iter().map(map).collect()
    }

    /// Ends the transaction (or the job's savepoint) with `statements`, sent together with the
    /// deferred writes. A failed deferred write is noted in `failed`; PostgreSQL then answers
    /// COMMIT by rolling back, so the caller must look at `failed` before trusting `Ok`. A
    /// transaction that never began needs no ending.
    fn end(&mut self, statements: &'static [&'static str]) -> Result<(), tokio_postgres::Error> {
        if !self.began && self.deferred.is_empty() {
            self.opening = None;
            return Ok(());
        }
        let Some((&last, before)) = statements.split_last() else {
            return Ok(());
        };
        for &sql in before {
            let statement = self.connection.statement(sql)?;
            self.deferred.push(Deferred {
                sql,
                statement,
                params: Vec::new(),
            });
        }
        let statement = self.connection.statement(last)?;
        let ended = self.round_trip(Last::Execute(&statement, &[]));
        ended.map(|_| ())
    }

    /// Drops the deferred writes and rolls back whatever was sent.
    fn abandon(&mut self) {
        self.deferred.clear();
        self.opening = None;
        if std::mem::take(&mut self.began) {
            let _ = self.connection.batch_execute("ROLLBACK");
        }
    }
}

fn get<'r, T: tokio_postgres::types::FromSql<'r>>(row: &'r Row, index: usize) -> StoreResult<T> {
    row.try_get(index)
        .map_err(|error| StoreError::Corrupt(format!("column {index}: {error}")))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("unexpected {what}"))
}

fn json(row: &Row, index: usize, what: &str) -> StoreResult<serde_json::Value> {
    let text: String = get(row, index)?;
    serde_json::from_str(&text).map_err(|_| corrupt(what))
}

fn count(value: Option<i64>) -> u64 {
    u64::try_from(value.unwrap_or(0)).unwrap_or(0)
}

macro_rules! app_columns {
    () => {
        "appid, secret, kind, name, original_id, open_platform_id, created_at"
    };
}

fn app_from_row(row: &Row) -> StoreResult<App> {
    let kind: String = get(row, 2)?;
    Ok(App {
        appid: get(row, 0)?,
        secret: get(row, 1)?,
        kind: AppKind::parse(&kind).ok_or_else(|| corrupt("app kind"))?,
        name: get(row, 3)?,
        original_id: get(row, 4)?,
        open_platform_id: get(row, 5)?,
        created_at: get(row, 6)?,
    })
}

macro_rules! user_columns {
    () => {
        "user_id, nickname, profile, client_os, client_version, base_library, created_at"
    };
}

fn user_from_row(row: &Row) -> StoreResult<User> {
    let profile: String = get(row, 2)?;
    Ok(User {
        user_id: get(row, 0)?,
        nickname: get(row, 1)?,
        profile: serde_json::from_str(&profile).map_err(|_| corrupt("profile"))?,
        client_os: get(row, 3)?,
        client_version: get(row, 4)?,
        base_library: get(row, 5)?,
        created_at: get(row, 6)?,
    })
}

macro_rules! token_columns {
    () => {
        "token, appid, kind, issued_at, expires_at, revoked_until"
    };
}

fn token_from_row(row: &Row) -> StoreResult<AccessToken> {
    let kind: String = get(row, 2)?;
    Ok(AccessToken {
        token: get(row, 0)?,
        appid: get(row, 1)?,
        kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("token kind"))?,
        issued_at: get(row, 3)?,
        expires_at: get(row, 4)?,
        revoked_until: get(row, 5)?,
    })
}

fn ticket_from_row(row: &Row) -> StoreResult<Ticket> {
    let ticket_type: String = get(row, 2)?;
    Ok(Ticket {
        ticket: get(row, 0)?,
        appid: get(row, 1)?,
        ticket_type: TicketType::parse(&ticket_type).ok_or_else(|| corrupt("ticket type"))?,
        issued_at: get(row, 3)?,
        expires_at: get(row, 4)?,
    })
}

macro_rules! card_columns {
    () => {
        "card_id, appid, card_type, document, status, quantity, total_quantity, code_mode, bind_openid, get_limit, review_due_at, refuse_reason, create_time, update_time"
    };
}

fn card_from_row(row: &Row) -> StoreResult<Card> {
    let status: String = get(row, 4)?;
    Ok(Card {
        card_id: get(row, 0)?,
        appid: get(row, 1)?,
        card_type: get(row, 2)?,
        document: get(row, 3)?,
        status: CardStatus::parse(&status).ok_or_else(|| corrupt("card status"))?,
        quantity: get(row, 5)?,
        total_quantity: get(row, 6)?,
        code_mode: get(row, 7)?,
        bind_openid: get(row, 8)?,
        get_limit: get(row, 9)?,
        review_due_at: get(row, 10)?,
        refuse_reason: get(row, 11)?,
        create_time: get(row, 12)?,
        update_time: get(row, 13)?,
    })
}

macro_rules! user_card_columns {
    () => {
        "id, card_id, appid, code, user_id, openid, status, begin_time, end_time, outer_str, claimed_at, consumed_at"
    };
}

fn user_card_from_row(row: &Row) -> StoreResult<UserCard> {
    let status: String = get(row, 6)?;
    Ok(UserCard {
        id: get(row, 0)?,
        card_id: get(row, 1)?,
        appid: get(row, 2)?,
        code: get(row, 3)?,
        user_id: get(row, 4)?,
        openid: get(row, 5)?,
        status: UserCardStatus::parse(&status).ok_or_else(|| corrupt("user card status"))?,
        begin_time: get(row, 7)?,
        end_time: get(row, 8)?,
        outer_str: get(row, 9)?,
        claimed_at: get(row, 10)?,
        consumed_at: get(row, 11)?,
    })
}

fn push_from_row(row: &Row) -> StoreResult<Option<PushConfig>> {
    let (url, token, mode): (Option<String>, Option<String>, Option<String>) =
        (get(row, 0)?, get(row, 1)?, get(row, 3)?);
    Ok(match (url, token, mode) {
        (Some(url), Some(token), Some(mode)) => Some(PushConfig {
            url,
            token,
            encoding_aes_key: get(row, 2)?,
            mode,
        }),
        _ => None,
    })
}

fn gift_from_row(row: &Row) -> StoreResult<Gift> {
    Ok(Gift {
        gift_id: get(row, 0)?,
        user_card_id: get(row, 1)?,
        from_user_id: get(row, 2)?,
        status: get(row, 3)?,
        created_at: get(row, 4)?,
        expires_at: get(row, 5)?,
        to_user_id: get(row, 6)?,
    })
}

macro_rules! outbox_columns {
    () => {
        "id, appid, event, payload, created_at, status, attempts, next_attempt_at"
    };
}

fn outbox_from_row(row: &Row) -> StoreResult<OutboxEvent> {
    Ok(OutboxEvent {
        id: get(row, 0)?,
        appid: get(row, 1)?,
        event: get(row, 2)?,
        payload: json(row, 3, "payload")?,
        created_at: get(row, 4)?,
        status: get(row, 5)?,
        attempts: get(row, 6)?,
        next_attempt_at: get(row, 7)?,
    })
}

fn first_text(row: &Row) -> StoreResult<String> {
    get(row, 0)
}

fn text_pair(row: &Row) -> StoreResult<(String, String)> {
    Ok((get(row, 0)?, get(row, 1)?))
}

impl Tx for PostgresTx<'_> {
    fn next_seq(&mut self, kind: &str) -> StoreResult<u64> {
        let value: Option<i64> = self.query_one(
            "INSERT INTO sequences (kind, value) VALUES ($1, 1) ON CONFLICT (kind) DO UPDATE SET value = sequences.value + 1 RETURNING value",
            &[&kind],
            |row| get(row, 0),
        )?;
        let value = value
            .ok_or_else(|| StoreError::Corrupt(format!("sequence {kind} returned nothing")))?;
        u64::try_from(value)
            .map_err(|_| StoreError::Corrupt(format!("sequence {kind} is negative")))
    }

    fn meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        self.query_one("SELECT value FROM meta WHERE key = $1", &[&key], first_text)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.execute("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", &[&key, &value])?;
        Ok(())
    }

    fn insert_open_platform(&mut self, open_platform: &OpenPlatform) -> StoreResult<()> {
        self.execute(
            "INSERT INTO open_platforms (id, name, created_at) VALUES ($1, $2, $3)",
            &[
                &open_platform.id,
                &open_platform.name,
                &open_platform.created_at,
            ],
        )?;
        Ok(())
    }

    fn open_platform(&mut self, id: &str) -> StoreResult<Option<OpenPlatform>> {
        self.query_one(
            "SELECT id, name, created_at FROM open_platforms WHERE id = $1",
            &[&id],
            |row| {
                Ok(OpenPlatform {
                    id: get(row, 0)?,
                    name: get(row, 1)?,
                    created_at: get(row, 2)?,
                })
            },
        )
    }

    fn insert_app(&mut self, app: &App) -> StoreResult<()> {
        self.execute(
            "INSERT INTO apps (appid, secret, kind, name, original_id, open_platform_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&app.appid, &app.secret, &app.kind.as_str(), &app.name, &app.original_id, &app.open_platform_id, &app.created_at],
        )?;
        Ok(())
    }

    fn app(&mut self, appid: &str) -> StoreResult<Option<App>> {
        self.query_one(
            concat!("SELECT ", app_columns!(), " FROM apps WHERE appid = $1"),
            &[&appid],
            app_from_row,
        )
    }

    fn apps(&mut self) -> StoreResult<Vec<App>> {
        self.query_all(
            concat!(
                "SELECT ",
                app_columns!(),
                " FROM apps ORDER BY created_at, seq"
            ),
            &[],
            app_from_row,
        )
    }

    fn insert_user(&mut self, user: &User) -> StoreResult<()> {
        let profile = serde_json::to_string(&user.profile)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        self.execute(
            "INSERT INTO users (user_id, nickname, profile, client_os, client_version, base_library, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&user.user_id, &user.nickname, &profile, &user.client_os, &user.client_version, &user.base_library, &user.created_at],
        )?;
        Ok(())
    }

    fn user(&mut self, user_id: &str) -> StoreResult<Option<User>> {
        self.query_one(
            concat!("SELECT ", user_columns!(), " FROM users WHERE user_id = $1"),
            &[&user_id],
            user_from_row,
        )
    }

    fn users(&mut self) -> StoreResult<Vec<User>> {
        self.query_all(
            concat!(
                "SELECT ",
                user_columns!(),
                " FROM users ORDER BY created_at, seq"
            ),
            &[],
            user_from_row,
        )
    }

    fn insert_openid(&mut self, appid: &str, user_id: &str, openid: &str) -> StoreResult<()> {
        self.execute(
            "INSERT INTO openids (appid, user_id, openid) VALUES ($1, $2, $3)",
            &[&appid, &user_id, &openid],
        )?;
        Ok(())
    }

    fn openids_of_user(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>> {
        self.query_all(
            "SELECT appid, openid FROM openids WHERE user_id = $1 ORDER BY appid COLLATE \"C\"",
            &[&user_id],
            text_pair,
        )
    }

    fn user_id_by_openid(&mut self, appid: &str, openid: &str) -> StoreResult<Option<String>> {
        self.query_one(
            "SELECT user_id FROM openids WHERE appid = $1 AND openid = $2",
            &[&appid, &openid],
            first_text,
        )
    }

    fn insert_unionid(
        &mut self,
        open_platform_id: &str,
        user_id: &str,
        unionid: &str,
    ) -> StoreResult<bool> {
        let inserted = self.execute(
            "INSERT INTO unionids (open_platform_id, user_id, unionid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&open_platform_id, &user_id, &unionid],
        )?;
        Ok(inserted == 1)
    }

    fn unionids_of_user(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>> {
        self.query_all(
            "SELECT open_platform_id, unionid FROM unionids WHERE user_id = $1 ORDER BY open_platform_id COLLATE \"C\"",
            &[&user_id],
            text_pair,
        )
    }

    fn insert_access_token(&mut self, token: &AccessToken) -> StoreResult<()> {
        self.execute(
            "INSERT INTO access_tokens (token, appid, kind, issued_at, expires_at, revoked_until) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&token.token, &token.appid, &token.kind.as_str(), &token.issued_at, &token.expires_at, &token.revoked_until],
        )?;
        Ok(())
    }

    fn access_token(&mut self, token: &str) -> StoreResult<Option<AccessToken>> {
        self.query_one(
            concat!(
                "SELECT ",
                token_columns!(),
                " FROM access_tokens WHERE token = $1"
            ),
            &[&token],
            token_from_row,
        )
    }

    fn latest_access_token(
        &mut self,
        appid: &str,
        kind: TokenKind,
    ) -> StoreResult<Option<AccessToken>> {
        self.query_one(
            concat!("SELECT ", token_columns!(), " FROM access_tokens WHERE appid = $1 AND kind = $2 ORDER BY issued_at DESC, seq DESC LIMIT 1"),
            &[&appid, &kind.as_str()],
            token_from_row,
        )
    }

    fn revoke_access_tokens(
        &mut self,
        appid: &str,
        kind: TokenKind,
        now: i64,
        until: i64,
    ) -> StoreResult<Vec<String>> {
        self.query_all(
            "UPDATE access_tokens SET revoked_until = $4 WHERE appid = $1 AND kind = $2 AND revoked_until IS NULL AND expires_at > $3 RETURNING token",
            &[&appid, &kind.as_str(), &now, &until],
            first_text,
        )
    }

    fn insert_ticket(&mut self, ticket: &Ticket) -> StoreResult<()> {
        self.execute(
            "INSERT INTO tickets (ticket, appid, ticket_type, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            &[&ticket.ticket, &ticket.appid, &ticket.ticket_type.as_str(), &ticket.issued_at, &ticket.expires_at],
        )?;
        Ok(())
    }

    fn latest_ticket(
        &mut self,
        appid: &str,
        ticket_type: TicketType,
    ) -> StoreResult<Option<Ticket>> {
        self.query_one(
            "SELECT ticket, appid, ticket_type, issued_at, expires_at FROM tickets WHERE appid = $1 AND ticket_type = $2 ORDER BY issued_at DESC, seq DESC LIMIT 1",
            &[&appid, &ticket_type.as_str()],
            ticket_from_row,
        )
    }

    fn recent_tickets(
        &mut self,
        appid: &str,
        ticket_type: TicketType,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        self.query_all(
            "SELECT ticket, appid, ticket_type, issued_at, expires_at FROM tickets WHERE appid = $1 AND ticket_type = $2 ORDER BY issued_at DESC, seq DESC LIMIT $3",
            &[&appid, &ticket_type.as_str(), &i64::from(limit)],
            ticket_from_row,
        )
    }

    fn insert_login_code(&mut self, code: &LoginCode) -> StoreResult<()> {
        self.execute(
            "INSERT INTO login_codes (code, appid, user_id, session_key, issued_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&code.code, &code.appid, &code.user_id, &code.session_key, &code.issued_at, &code.expires_at, &code.used_at],
        )?;
        Ok(())
    }

    fn login_code(&mut self, code: &str) -> StoreResult<Option<LoginCode>> {
        self.query_one(
            "SELECT code, appid, user_id, session_key, issued_at, expires_at, used_at FROM login_codes WHERE code = $1",
            &[&code],
            |row| {
                Ok(LoginCode {
                    code: get(row, 0)?,
                    appid: get(row, 1)?,
                    user_id: get(row, 2)?,
                    session_key: get(row, 3)?,
                    issued_at: get(row, 4)?,
                    expires_at: get(row, 5)?,
                    used_at: get(row, 6)?,
                })
            },
        )
    }

    fn mark_login_code_used(&mut self, code: &str, at: i64) -> StoreResult<()> {
        self.execute(
            "UPDATE login_codes SET used_at = $2 WHERE code = $1",
            &[&code, &at],
        )?;
        Ok(())
    }

    fn insert_card(&mut self, card: &Card) -> StoreResult<()> {
        self.stock_read = None;
        self.execute(
            concat!(
                "INSERT INTO cards (",
                card_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ),
            &[
                &card.card_id,
                &card.appid,
                &card.card_type,
                &card.document,
                &card.status.as_str(),
                &card.quantity,
                &card.total_quantity,
                &card.code_mode,
                &card.bind_openid,
                &card.get_limit,
                &card.review_due_at,
                &card.refuse_reason,
                &card.create_time,
                &card.update_time,
            ],
        )?;
        Ok(())
    }

    fn card(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        self.query_one(
            concat!("SELECT ", card_columns!(), " FROM cards WHERE card_id = $1"),
            &[&card_id],
            card_from_row,
        )
    }

    fn card_facts(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        let card = self.card(card_id)?;
        Ok(self.remember_stock(card))
    }

    fn lock_card_facts(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        // NO KEY: the claim's own user_cards row still takes its KEY SHARE lock for the foreign
        // key, and so do other writers' rows of this card, which need not wait.
        let card = self.query_one(
            concat!(
                "SELECT ",
                card_columns!(),
                " FROM cards WHERE card_id = $1 FOR NO KEY UPDATE"
            ),
            &[&card_id],
            card_from_row,
        )?;
        Ok(self.remember_stock(card))
    }

    fn stock(&mut self, card_id: &str) -> StoreResult<Option<i64>> {
        if let Some((read, quantity)) = &self.stock_read {
            if read == card_id {
                return Ok(Some(*quantity));
            }
        }
        self.query_one(
            "SELECT quantity FROM cards WHERE card_id = $1",
            &[&card_id],
            |row| get(row, 0),
        )
    }

    fn update_card(&mut self, card: &Card) -> StoreResult<()> {
        self.stock_read = None;
        self.execute(
            "UPDATE cards SET document = $2, status = $3, quantity = $4, total_quantity = $5, get_limit = $6, review_due_at = $7, refuse_reason = $8, update_time = $9 WHERE card_id = $1",
            &[
                &card.card_id,
                &card.document,
                &card.status.as_str(),
                &card.quantity,
                &card.total_quantity,
                &card.get_limit,
                &card.review_due_at,
                &card.refuse_reason,
                &card.update_time,
            ],
        )?;
        Ok(())
    }

    fn card_ids_of_app(
        &mut self,
        appid: &str,
        statuses: &[CardStatus],
        offset: u64,
        page_size: u64,
    ) -> StoreResult<(Vec<String>, u64)> {
        let filter: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
        let total: Option<i64> = self.query_one(
            "SELECT count(*) FROM cards WHERE appid = $1 AND (cardinality($2::TEXT[]) = 0 OR status = ANY($2))",
            &[&appid, &filter],
            |row| get(row, 0),
        )?;
        let ids = self.query_all(
            "SELECT card_id FROM cards WHERE appid = $1 AND (cardinality($2::TEXT[]) = 0 OR status = ANY($2)) ORDER BY create_time, seq LIMIT $3 OFFSET $4",
            &[&appid, &filter, &i64::try_from(page_size).unwrap_or(i64::MAX), &i64::try_from(offset).unwrap_or(i64::MAX)],
            first_text,
        )?;
        Ok((ids, count(total)))
    }

    fn cards_due_for_review(&mut self, now: i64) -> StoreResult<Vec<Card>> {
        self.query_all(
            concat!("SELECT ", card_columns!(), " FROM cards WHERE review_due_at IS NOT NULL AND review_due_at <= $1 AND status = 'CARD_STATUS_NOT_VERIFY'"),
            &[&now],
            card_from_row,
        )
    }

    fn set_whitelist(
        &mut self,
        appid: &str,
        openids: &[String],
        usernames: &[String],
    ) -> StoreResult<()> {
        self.execute("DELETE FROM test_whitelist WHERE appid = $1", &[&appid])?;
        for (kind, values) in [("openid", openids), ("username", usernames)] {
            for value in values {
                self.execute(
                    "INSERT INTO test_whitelist (appid, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&appid, &kind, value],
                )?;
            }
        }
        Ok(())
    }

    fn whitelist(&mut self, appid: &str) -> StoreResult<Vec<(String, String)>> {
        self.query_all(
            "SELECT kind, value FROM test_whitelist WHERE appid = $1 ORDER BY kind COLLATE \"C\", value COLLATE \"C\"",
            &[&appid],
            text_pair,
        )
    }

    fn insert_qrcode(&mut self, qrcode: &QrCode) -> StoreResult<()> {
        self.execute(
            "INSERT INTO qrcodes (ticket, url_id, appid, action_name, action_info, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&qrcode.ticket, &qrcode.url_id, &qrcode.appid, &qrcode.action_name, &qrcode.action_info.to_string(), &qrcode.created_at, &qrcode.expires_at],
        )?;
        Ok(())
    }

    fn qrcode(&mut self, ticket_or_url_id: &str) -> StoreResult<Option<QrCode>> {
        self.query_one(
            "SELECT ticket, url_id, appid, action_name, action_info, created_at, expires_at FROM qrcodes WHERE ticket = $1 OR url_id = $1",
            &[&ticket_or_url_id],
            |row| {
                Ok(QrCode {
                    ticket: get(row, 0)?,
                    url_id: get(row, 1)?,
                    appid: get(row, 2)?,
                    action_name: get(row, 3)?,
                    action_info: json(row, 4, "action_info")?,
                    created_at: get(row, 5)?,
                    expires_at: get(row, 6)?,
                })
            },
        )
    }

    fn app_by_original_id(&mut self, original_id: &str) -> StoreResult<Option<App>> {
        self.query_one(
            concat!(
                "SELECT ",
                app_columns!(),
                " FROM apps WHERE original_id = $1"
            ),
            &[&original_id],
            app_from_row,
        )
    }

    fn insert_landing_page(&mut self, page: &LandingPage) -> StoreResult<()> {
        self.execute(
            "INSERT INTO landing_pages (page_id, appid, banner, page_title, can_share, scene, card_list, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&page.page_id, &page.appid, &page.banner, &page.page_title, &page.can_share, &page.scene, &page.card_list.to_string(), &page.created_at],
        )?;
        Ok(())
    }

    fn landing_page(&mut self, page_id: i64) -> StoreResult<Option<LandingPage>> {
        self.query_one(
            "SELECT page_id, appid, banner, page_title, can_share, scene, card_list, created_at FROM landing_pages WHERE page_id = $1",
            &[&page_id],
            |row| {
                Ok(LandingPage {
                    page_id: get(row, 0)?,
                    appid: get(row, 1)?,
                    banner: get(row, 2)?,
                    page_title: get(row, 3)?,
                    can_share: get(row, 4)?,
                    scene: get(row, 5)?,
                    card_list: json(row, 6, "card_list")?,
                    created_at: get(row, 7)?,
                })
            },
        )
    }

    fn insert_event(
        &mut self,
        appid: &str,
        event: &str,
        payload: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.execute_later(
            "INSERT INTO outbox (appid, event, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)",
            vec![
                Box::new(appid.to_owned()),
                Box::new(event.to_owned()),
                Box::new(payload.to_owned()),
                Box::new(now),
            ],
        )
    }

    fn events(&mut self, filter: &EventFilter) -> StoreResult<Vec<OutboxEvent>> {
        self.query_all(
            concat!("SELECT ", outbox_columns!(), " FROM outbox \
             WHERE ($1::TEXT IS NULL OR appid = $1) AND ($2::TEXT IS NULL OR status = $2) AND ($3::TEXT IS NULL OR event = $3) ORDER BY id DESC LIMIT $4"),
            &[&filter.appid, &filter.status, &filter.event, &i64::try_from(filter.limit).unwrap_or(i64::MAX)],
            outbox_from_row,
        )
    }

    fn insert_user_card(&mut self, user_card: &UserCard) -> StoreResult<i64> {
        let id: Option<i64> = self.query_one(
            "INSERT INTO user_cards (card_id, appid, code, user_id, openid, status, begin_time, end_time, outer_str, claimed_at, consumed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &user_card.card_id,
                &user_card.appid,
                &user_card.code,
                &user_card.user_id,
                &user_card.openid,
                &user_card.status.as_str(),
                &user_card.begin_time,
                &user_card.end_time,
                &user_card.outer_str,
                &user_card.claimed_at,
                &user_card.consumed_at,
            ],
            |row| get(row, 0),
        )?;
        id.ok_or_else(|| StoreError::Corrupt("user card insert returned no id".into()))
    }

    fn user_cards_by_code(
        &mut self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
    ) -> StoreResult<Vec<UserCard>> {
        self.query_all(
            concat!("SELECT ", user_card_columns!(), " FROM user_cards WHERE appid = $1 AND code = $2 AND ($3::TEXT IS NULL OR card_id = $3) ORDER BY id"),
            &[&appid, &code, &card_id],
            user_card_from_row,
        )
    }

    fn set_user_card_status(
        &mut self,
        id: i64,
        status: UserCardStatus,
        consumed_at: Option<i64>,
    ) -> StoreResult<()> {
        self.execute_later(
            "UPDATE user_cards SET status = $2, consumed_at = coalesce($3, consumed_at) WHERE id = $1",
            vec![Box::new(id), Box::new(status.as_str()), Box::new(consumed_at)],
        )
    }

    fn set_user_card_code(&mut self, id: i64, code: &str) -> StoreResult<()> {
        self.execute(
            "UPDATE user_cards SET code = $2 WHERE id = $1",
            &[&id, &code],
        )?;
        Ok(())
    }

    fn user_cards_of_user(&mut self, user_id: &str) -> StoreResult<Vec<UserCard>> {
        self.query_all(
            concat!(
                "SELECT ",
                user_card_columns!(),
                " FROM user_cards WHERE user_id = $1 ORDER BY id"
            ),
            &[&user_id],
            user_card_from_row,
        )
    }

    fn openid_of(&mut self, appid: &str, user_id: &str) -> StoreResult<Option<String>> {
        self.query_one(
            "SELECT openid FROM openids WHERE appid = $1 AND user_id = $2",
            &[&appid, &user_id],
            first_text,
        )
    }

    fn unionid_of(&mut self, open_platform_id: &str, user_id: &str) -> StoreResult<Option<String>> {
        self.query_one(
            "SELECT unionid FROM unionids WHERE open_platform_id = $1 AND user_id = $2",
            &[&open_platform_id, &user_id],
            first_text,
        )
    }

    fn take_stock(&mut self, card_id: &str, now: i64) -> StoreResult<bool> {
        self.stock_read = None;
        let changed = self.execute(
            "UPDATE cards SET quantity = quantity - 1, update_time = $2 WHERE card_id = $1 AND quantity > 0",
            &[&card_id, &now],
        )?;
        Ok(changed == 1)
    }

    fn login_apps_of_user(&mut self, user_id: &str) -> StoreResult<Vec<String>> {
        self.query_all(
            "SELECT DISTINCT appid COLLATE \"C\" FROM login_codes WHERE user_id = $1 AND used_at IS NOT NULL ORDER BY 1",
            &[&user_id],
            first_text,
        )
    }

    fn count_user_cards(&mut self, user_id: &str, card_id: &str) -> StoreResult<u64> {
        let total: Option<i64> = self.query_one(
            "SELECT count(*) FROM user_cards WHERE user_id = $1 AND card_id = $2",
            &[&user_id, &card_id],
            |row| get(row, 0),
        )?;
        Ok(count(total))
    }

    fn code_in_use(&mut self, card_id: &str, code: &str) -> StoreResult<bool> {
        let found: Option<bool> = self.query_one(
            "SELECT EXISTS (SELECT 1 FROM user_cards WHERE card_id = $1 AND code = $2) OR EXISTS (SELECT 1 FROM deposited_codes WHERE card_id = $1 AND code = $2)",
            &[&card_id, &code],
            |row| get(row, 0),
        )?;
        Ok(found.unwrap_or(false))
    }

    fn code_issued_in_app(&mut self, appid: &str, code: &str) -> StoreResult<bool> {
        let found: Option<bool> = self.query_one(
            "SELECT EXISTS (SELECT 1 FROM user_cards WHERE appid = $1 AND code = $2)",
            &[&appid, &code],
            |row| get(row, 0),
        )?;
        Ok(found.unwrap_or(false))
    }

    fn deposit_codes(&mut self, card_id: &str, codes: &[String]) -> StoreResult<Vec<String>> {
        let mut duplicates = Vec::new();
        for code in codes {
            let inserted = self.execute(
                "INSERT INTO deposited_codes (card_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&card_id, code],
            )?;
            if inserted == 0 {
                duplicates.push(code.clone());
            }
        }
        Ok(duplicates)
    }

    fn deposited_count(&mut self, card_id: &str) -> StoreResult<u64> {
        let total: Option<i64> = self.query_one(
            "SELECT count(*) FROM deposited_codes WHERE card_id = $1",
            &[&card_id],
            |row| get(row, 0),
        )?;
        Ok(count(total))
    }

    fn deposited_available(&mut self, card_id: &str) -> StoreResult<u64> {
        let total: Option<i64> = self.query_one(
            "SELECT count(*) FROM deposited_codes WHERE card_id = $1 AND NOT issued",
            &[&card_id],
            |row| get(row, 0),
        )?;
        Ok(count(total))
    }

    fn deposited_among(&mut self, card_id: &str, codes: &[String]) -> StoreResult<Vec<String>> {
        let found: Vec<String> = self.query_all(
            "SELECT code FROM deposited_codes WHERE card_id = $1 AND code = ANY($2)",
            &[&card_id, &codes],
            first_text,
        )?;
        // In the order asked, as the SQLite engine answers.
        Ok(codes
            .iter()
            .filter(|code| found.contains(code))
            .cloned()
            .collect())
    }

    fn take_deposited_code(&mut self, card_id: &str) -> StoreResult<Option<String>> {
        self.query_one(
            "UPDATE deposited_codes SET issued = TRUE WHERE card_id = $1 AND code = (SELECT code FROM deposited_codes WHERE card_id = $1 AND NOT issued ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING code",
            &[&card_id],
            first_text,
        )
    }

    fn use_card_ext(
        &mut self,
        card_id: &str,
        card_ext: &SignedCardExt,
        now: i64,
    ) -> StoreResult<bool> {
        // A row kept from before migration 0012 has no timestamp: it is found by signature.
        let inserted = self.execute(
            "INSERT INTO used_card_ext (card_id, signed_at, nonce_str, signature, used_at) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS \
             (SELECT 1 FROM used_card_ext WHERE card_id = $1 AND signed_at = -1 AND nonce_str = '' AND signature = $4) \
             ON CONFLICT DO NOTHING",
            &[&card_id, &card_ext.timestamp, &card_ext.nonce_str, &card_ext.signature, &now],
        )?;
        Ok(inserted == 1)
    }

    fn set_push_config(&mut self, appid: &str, push: &PushConfig) -> StoreResult<()> {
        self.execute(
            "UPDATE apps SET push_url = $2, push_token = $3, push_aes_key = $4, push_mode = $5 WHERE appid = $1",
            &[&appid, &push.url, &push.token, &push.encoding_aes_key, &push.mode],
        )?;
        Ok(())
    }

    fn push_config(&mut self, appid: &str) -> StoreResult<Option<PushConfig>> {
        let found: Option<Option<PushConfig>> = self.query_one(
            "SELECT push_url, push_token, push_aes_key, push_mode FROM apps WHERE appid = $1",
            &[&appid],
            push_from_row,
        )?;
        Ok(found.flatten())
    }

    fn lease_due_events(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueEvent>> {
        // Account by account and state by state, each in id order on `outbox_due_by_app`, as
        // SQLite does: the events of accounts without a push URL (every event of a load test)
        // are never walked, where one query over the whole outbox walked them all on every
        // poll. Rows another instance is leasing right now are skipped, not waited for.
        let pushing: Vec<String> = self.query_all(
            "SELECT appid FROM apps WHERE push_url IS NOT NULL",
            &[],
            |row| get(row, 0),
        )?;
        let mut candidates: Vec<i64> = Vec::new();
        for appid in &pushing {
            for status in ["pending", "retrying"] {
                candidates.extend(self.query_all(
                    "SELECT id FROM outbox WHERE appid = $1 AND status = $2 AND next_attempt_at <= $3 \
                     AND (lease_until IS NULL OR lease_until <= $3) ORDER BY id LIMIT $4",
                    &[appid, &status, &now, &i64::from(limit)],
                    |row| get::<i64>(row, 0),
                )?);
            }
        }
        // The oldest first, across accounts. Only these are locked: a row that another
        // instance holds is skipped, and one it leased since this job's snapshot no longer
        // matches once locked (READ COMMITTED checks a locked row's newest version again).
        candidates.sort_unstable();
        candidates.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let leased = if candidates.is_empty() {
            Vec::new()
        } else {
            self.query_all(
                concat!(
                    "UPDATE outbox SET lease_until = $2 WHERE id IN (",
                    "SELECT id FROM outbox WHERE id = ANY($1) AND status IN ('pending', 'retrying') ",
                    "AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) ",
                    "FOR UPDATE SKIP LOCKED) RETURNING ",
                    outbox_columns!()
                ),
                &[&candidates, &lease_until, &now],
                outbox_from_row,
            )?
        };
        // Each account and its push settings are read once per lease, not once per event.
        let mut accounts: HashMap<String, Option<(App, Option<PushConfig>)>> = HashMap::new();
        let mut due = Vec::with_capacity(leased.len());
        for event in leased {
            if !accounts.contains_key(&event.appid) {
                let account = match self.app(&event.appid)? {
                    Some(app) => Some((app, self.push_config(&event.appid)?)),
                    None => None,
                };
                accounts.insert(event.appid.clone(), account);
            }
            let Some(Some((app, push))) = accounts.get(&event.appid) else {
                continue;
            };
            let (app, push) = (app.clone(), push.clone());
            due.push(DueEvent { event, app, push });
        }
        due.sort_by_key(|due| due.event.id);
        Ok(due)
    }

    fn finish_attempt(
        &mut self,
        attempt: &DeliveryAttempt,
        status: &str,
        next_attempt_at: i64,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO delivery_attempts (event_id, attempt, at, url, http_status, answer, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&attempt.event_id, &attempt.attempt, &attempt.at, &attempt.url, &attempt.http_status, &attempt.answer, &attempt.error, &attempt.duration_ms],
        )?;
        self.execute(
            "UPDATE outbox SET status = $2, attempts = $3, next_attempt_at = $4, lease_until = NULL, \
             delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE delivered_at END WHERE id = $1",
            &[&attempt.event_id, &status, &attempt.attempt, &next_attempt_at, &attempt.at],
        )?;
        Ok(())
    }

    fn requeue_event(&mut self, id: i64, now: i64) -> StoreResult<bool> {
        let changed = self.execute(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_until = NULL WHERE id = $1",
            &[&id, &now],
        )?;
        Ok(changed == 1)
    }

    fn event(&mut self, id: i64) -> StoreResult<Option<OutboxEvent>> {
        self.query_one(
            concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = $1"),
            &[&id],
            outbox_from_row,
        )
    }

    fn delivery_attempts(&mut self, event_id: i64) -> StoreResult<Vec<DeliveryAttempt>> {
        self.query_all(
            "SELECT event_id, attempt, at, url, http_status, answer, error, duration_ms FROM delivery_attempts WHERE event_id = $1 ORDER BY attempt, id",
            &[&event_id],
            |row| {
                Ok(DeliveryAttempt {
                    event_id: get(row, 0)?,
                    attempt: get(row, 1)?,
                    at: get(row, 2)?,
                    url: get(row, 3)?,
                    http_status: get(row, 4)?,
                    answer: get(row, 5)?,
                    error: get(row, 6)?,
                    duration_ms: get(row, 7)?,
                })
            },
        )
    }

    fn insert_gift(&mut self, gift: &Gift) -> StoreResult<()> {
        self.execute(
            "INSERT INTO gifts (gift_id, user_card_id, from_user_id, status, created_at, expires_at, to_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&gift.gift_id, &gift.user_card_id, &gift.from_user_id, &gift.status, &gift.created_at, &gift.expires_at, &gift.to_user_id],
        )?;
        Ok(())
    }

    fn gift(&mut self, gift_id: &str) -> StoreResult<Option<Gift>> {
        self.query_one(
            "SELECT gift_id, user_card_id, from_user_id, status, created_at, expires_at, to_user_id FROM gifts WHERE gift_id = $1",
            &[&gift_id],
            gift_from_row,
        )
    }

    fn set_gift_status(
        &mut self,
        gift_id: &str,
        status: &str,
        to_user_id: Option<&str>,
    ) -> StoreResult<()> {
        self.execute(
            "UPDATE gifts SET status = $2, to_user_id = coalesce($3, to_user_id) WHERE gift_id = $1",
            &[&gift_id, &status, &to_user_id],
        )?;
        Ok(())
    }

    fn gifts_due(&mut self, now: i64) -> StoreResult<Vec<Gift>> {
        self.query_all(
            "SELECT gift_id, user_card_id, from_user_id, status, created_at, expires_at, to_user_id FROM gifts WHERE status = 'pending' AND expires_at <= $1",
            &[&now],
            gift_from_row,
        )
    }

    fn user_card(&mut self, id: i64) -> StoreResult<Option<UserCard>> {
        self.query_one(
            concat!(
                "SELECT ",
                user_card_columns!(),
                " FROM user_cards WHERE id = $1"
            ),
            &[&id],
            user_card_from_row,
        )
    }

    fn move_user_card(&mut self, id: i64, user_id: &str, openid: &str) -> StoreResult<()> {
        self.execute(
            "UPDATE user_cards SET user_id = $2, openid = $3, status = 'NORMAL' WHERE id = $1",
            &[&id, &user_id, &openid],
        )?;
        Ok(())
    }

    fn code_extra(&mut self, id: i64, extra: CodeExtra) -> StoreResult<Option<String>> {
        let sql = match extra {
            CodeExtra::Mark => "SELECT mark_openid FROM user_cards WHERE id = $1",
            CodeExtra::TicketInfo => "SELECT ticket_info FROM user_cards WHERE id = $1",
        };
        Ok(self
            .query_one(sql, &[&id], |row| get::<Option<String>>(row, 0))?
            .flatten())
    }

    fn set_code_extra(
        &mut self,
        id: i64,
        extra: CodeExtra,
        value: Option<&str>,
    ) -> StoreResult<()> {
        let sql = match extra {
            CodeExtra::Mark => "UPDATE user_cards SET mark_openid = $2 WHERE id = $1",
            CodeExtra::TicketInfo => "UPDATE user_cards SET ticket_info = $2 WHERE id = $1",
        };
        self.execute(sql, &[&id, &value])?;
        Ok(())
    }

    fn document(&mut self, kind: Document, key: &str) -> StoreResult<Option<String>> {
        // The member table is keyed by the code row's id; the others by text.
        if kind == Document::Member {
            let Ok(id) = key.parse::<i64>() else {
                return Ok(None);
            };
            return self.query_one(
                "SELECT value FROM members WHERE user_card_id = $1",
                &[&id],
                first_text,
            );
        }
        let sql = match kind {
            Document::ActivateForm => "SELECT value FROM activate_forms WHERE card_id = $1",
            Document::ActivateTicket => "SELECT value FROM activate_tickets WHERE ticket = $1",
            Document::ComponentSession => {
                "SELECT value FROM component_sessions WHERE session_id = $1"
            }
            Document::FormAnswers | Document::Member => {
                "SELECT value FROM form_answers WHERE user_id = $1"
            }
        };
        self.query_one(sql, &[&key], first_text)
    }

    fn put_document(&mut self, kind: Document, key: &str, value: &str) -> StoreResult<()> {
        if kind == Document::Member {
            let id = key
                .parse::<i64>()
                .map_err(|_| StoreError::Conflict(format!("member key {key:?} is not a row id")))?;
            self.execute(
                "INSERT INTO members (user_card_id, value) VALUES ($1, $2) ON CONFLICT (user_card_id) DO UPDATE SET value = excluded.value",
                &[&id, &value],
            )?;
            return Ok(());
        }
        let sql = match kind {
            Document::ActivateForm => "INSERT INTO activate_forms (card_id, value) VALUES ($1, $2) ON CONFLICT (card_id) DO UPDATE SET value = excluded.value",
            Document::ActivateTicket => "INSERT INTO activate_tickets (ticket, value) VALUES ($1, $2) ON CONFLICT (ticket) DO UPDATE SET value = excluded.value",
            Document::ComponentSession => "INSERT INTO component_sessions (session_id, value) VALUES ($1, $2) ON CONFLICT (session_id) DO UPDATE SET value = excluded.value",
            Document::FormAnswers | Document::Member => "INSERT INTO form_answers (user_id, value) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET value = excluded.value",
        };
        self.execute(sql, &[&key, &value])?;
        Ok(())
    }

    fn card_cells(&mut self, card_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .query_one(
                "SELECT cells FROM cards WHERE card_id = $1",
                &[&card_id],
                |row| get::<Option<String>>(row, 0),
            )?
            .flatten())
    }

    fn set_card_cells(&mut self, card_id: &str, cells: &str) -> StoreResult<()> {
        self.stock_read = None;
        self.execute(
            "UPDATE cards SET cells = $2 WHERE card_id = $1",
            &[&card_id, &cells],
        )?;
        Ok(())
    }
}
