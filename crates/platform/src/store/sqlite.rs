//! The SQLite engine: one file in WAL mode, one writer thread, a pool of reader threads.
//!
//! SQLite allows one writer at a time, and many connections fighting for its lock are slower
//! than one that never waits. So every write job goes to a single writer thread, which takes
//! whatever jobs are queued, runs each in its own savepoint inside one transaction, commits
//! once (group commit), and only then answers each caller. A failing job rolls back to its
//! savepoint and leaves the others' writes alone.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row};

use super::{CodeExtra, Document, Engine, Job, Store, StoreError, StoreResult, Tx};
use crate::domain::events::EventFilter;
use crate::domain::model::{
    AccessToken, App, AppKind, Card, CardStatus, DeliveryAttempt, DueEvent, Gift, LandingPage,
    LoginCode, OpenPlatform, OutboxEvent, PushConfig, QrCode, SignedCardExt, Ticket, TicketType,
    TokenKind, User, UserCard, UserCardStatus,
};

/// Migrations in order; the file names match those of `migrations/postgres/`.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_accounts",
        include_str!("../../migrations/sqlite/0001_accounts.sql"),
    ),
    (
        "0002_cards",
        include_str!("../../migrations/sqlite/0002_cards.sql"),
    ),
    (
        "0003_codes",
        include_str!("../../migrations/sqlite/0003_codes.sql"),
    ),
    (
        "0004_push",
        include_str!("../../migrations/sqlite/0004_push.sql"),
    ),
    (
        "0005_gifts",
        include_str!("../../migrations/sqlite/0005_gifts.sql"),
    ),
    (
        "0006_code_extras",
        include_str!("../../migrations/sqlite/0006_code_extras.sql"),
    ),
    (
        "0007_members",
        include_str!("../../migrations/sqlite/0007_members.sql"),
    ),
    (
        "0008_room_for_updates",
        include_str!("../../migrations/sqlite/0008_room_for_updates.sql"),
    ),
    (
        "0009_fewer_outbox_indexes",
        include_str!("../../migrations/sqlite/0009_fewer_outbox_indexes.sql"),
    ),
    (
        "0010_no_outbox_due",
        include_str!("../../migrations/sqlite/0010_no_outbox_due.sql"),
    ),
    (
        "0011_outbox_without_app_key",
        include_str!("../../migrations/sqlite/0011_outbox_without_app_key.sql"),
    ),
    (
        "0012_card_ext_in_time_order",
        include_str!("../../migrations/sqlite/0012_card_ext_in_time_order.sql"),
    ),
];

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A write is answered once an fsync of the WAL that began after its commit has
    /// returned: an answered write survives a power cut. The fsyncs run on a thread of their
    /// own (`wxcard-sqlite-sync`), so the writer goes on with the next batch meanwhile, and one
    /// fsync answers every batch that committed before it began.
    Full,
    /// `synchronous=NORMAL` and no fsync per commit: survives a crash of wxcard, may lose the
    /// last commits on power loss.
    Normal,
}

/// The answers of a committed batch's jobs.
type Answers = Vec<Box<dyn FnOnce(StoreResult<()>) + Send>>;

/// Settings of the SQLite engine.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file; created when missing.
    pub path: PathBuf,
    /// Read-only connections kept open for reads.
    pub readers: usize,
    /// The most jobs one group commit takes.
    pub max_batch: usize,
    /// `synchronous` setting.
    pub durability: Durability,
}

/// A SQLite database behind the [`Store`] trait.
pub struct SqliteStore {
    writer: Mutex<mpsc::Sender<Job>>,
    /// Idle read-only connections. A read runs on the caller's thread: a point lookup in WAL
    /// mode takes microseconds, less than handing it to another thread and back would.
    readers: Mutex<Vec<Connection>>,
    keep_readers: usize,
    path: PathBuf,
    caches: Arc<Caches>,
    /// Dropped with the store, which stops the checkpointer thread.
    _checkpointer: mpsc::Sender<()>,
}

/// Rows that readers fetched, trusted while no write to their table has started or committed
/// since.
///
/// SQLite here has exactly one writer (one thread of one process), so the writer can tell the
/// readers when a table changes: `generation` is even while no write to it is in flight; the
/// writer makes it odd before the first such write of a batch and even again once the batch
/// has committed or rolled back. A reader trusts an entry only if it was stored under the
/// current, even generation, and stores one only if the generation did not move while it read.
///
/// A cache that reaches its `limit` of entries is emptied and fills again: the limit must hold
/// the working set of a hot path, or every lookup of it misses once the cache is full.
#[derive(Debug)]
struct Cache<K, V> {
    generation: AtomicU64,
    entries: Mutex<HashMap<K, (u64, V)>>,
    limit: usize,
}

impl<K: std::hash::Hash + Eq, V: Clone> Cache<K, V> {
    fn new(limit: usize) -> Self {
        Self {
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            limit,
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (u64, V)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The entry, if it was stored under the current generation and no write is in flight.
    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let generation = self.generation();
        if generation % 2 != 0 {
            return None;
        }
        match self.lock().get(key) {
            Some((stored_at, value)) if *stored_at == generation => Some(value.clone()),
            _ => None,
        }
    }

    /// Stores what a reader read in a snapshot that began at generation `began`, unless a
    /// write was in flight then or has started since.
    fn put(&self, began: u64, key: K, value: &V) {
        if began % 2 == 0 && self.generation() == began {
            let value = value.clone();
            let mut entries = self.lock();
            // Dropped after the lock is released: freeing thousands of entries would hold
            // every other reader of this cache.
            let full = (entries.len() >= self.limit).then(|| std::mem::take(&mut *entries));
            entries.insert(key, (began, value));
            drop(entries);
            drop(full);
        }
    }

    /// The writer is about to write the table (once per batch): entries stop being trusted.
    fn writes_begin(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The batch that wrote the table has committed or rolled back: readers may cache again.
    fn writes_end(&self) {
        let stale = std::mem::take(&mut *self.lock());
        self.generation.fetch_add(1, Ordering::SeqCst);
        drop(stale);
    }
}

/// A code lookup: account, code, and the card_id filter.
type CodeKey = (String, String, Option<String>);

/// A lookup in the account tables (apps, users, openids, unionids, tickets), which one
/// generation covers: they are written rarely (an app or user created, a ticket issued) and
/// read on every claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AccountKey {
    App(String),
    User(String),
    OpenidsOfUser(String),
    UnionidsOfUser(String),
    /// (appid, user_id)
    Openid(String, String),
    /// (open_platform_id, user_id)
    Unionid(String, String),
    Tickets(String, TicketType, u32),
}

/// What an [`AccountKey`] lookup found.
#[derive(Debug, Clone)]
enum AccountRow {
    App(Option<App>),
    User(Option<User>),
    Pairs(Vec<(String, String)>),
    Text(Option<String>),
    Tickets(Vec<Ticket>),
}

/// A value an account lookup answers, and the [`AccountRow`] it is cached as.
trait AccountValue: Clone + Sized {
    fn into_row(self) -> AccountRow;
    fn from_row(row: AccountRow) -> Option<Self>;
}

macro_rules! account_value {
    ($($variant:ident($type:ty)),* $(,)?) => {$(
        impl AccountValue for $type {
            fn into_row(self) -> AccountRow {
                AccountRow::$variant(self)
            }
            fn from_row(row: AccountRow) -> Option<Self> {
                match row {
                    AccountRow::$variant(value) => Some(value),
                    _ => None,
                }
            }
        }
    )*};
}

account_value!(
    App(Option<App>),
    User(Option<User>),
    Pairs(Vec<(String, String)>),
    Text(Option<String>),
    Tickets(Vec<Ticket>),
);

/// The reader caches: cards by card_id, cards whose stock may lag (which claims read, and
/// which a claim's stock change does not empty), code lookups (`user_cards_by_code`, the hot
/// path of `/card/code/get`), and account lookups (the reads of every claim).
#[derive(Debug)]
struct Caches {
    cards: Cache<String, Card>,
    card_facts: Cache<String, Card>,
    codes: Cache<CodeKey, Vec<UserCard>>,
    accounts: Cache<AccountKey, AccountRow>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            // Card documents run to kilobytes; a few thousand cards is a large merchant.
            cards: Cache::new(10_000),
            card_facts: Cache::new(10_000),
            codes: Cache::new(10_000),
            // A user takes five entries (user, openids, unionids, the openid and the unionid
            // of the card's account): room for 20,000 users claiming.
            accounts: Cache::new(100_000),
        }
    }
}

/// The cache generations a reader's snapshot began under.
#[derive(Debug, Clone, Copy)]
struct Began {
    cards: u64,
    card_facts: u64,
    codes: u64,
    accounts: u64,
}

/// Which cached tables a writer batch has written.
#[derive(Debug, Default)]
struct Written {
    cards: Cell<bool>,
    card_facts: Cell<bool>,
    codes: Cell<bool>,
    accounts: Cell<bool>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database, applies pending migrations and starts the
    /// storage threads.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub fn open(options: &SqliteOptions) -> StoreResult<Arc<Self>> {
        let mut writer = open_connection(&options.path, Open::First)?;
        // In WAL mode, NORMAL writes a commit to the WAL without an fsync; checkpoints still
        // fsync the WAL before they copy it into the database and the database after. With
        // `Durability::Full`, the syncer thread makes each commit durable before it answers.
        writer
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        // A job that has to be undone runs in a savepoint, whose sub-journal keeps the pages
        // the job changes: in memory, it costs a copy; in a temporary file, a write(2) per page.
        writer
            .pragma_update(None, "temp_store", "MEMORY")
            .map_err(backend)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(backend)?;
        migrate(&mut writer, MIGRATIONS)?;

        let checkpointer = open_connection(&options.path, Open::Writable)?;
        let (checkpointer_stop, checkpointer_stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("wxcard-sqlite-checkpoint".into())
            .spawn(move || run_checkpointer(&checkpointer, &checkpointer_stopped))
            .map_err(backend)?;

        let caches = Arc::new(Caches::default());
        let writer_caches = Arc::clone(&caches);
        let (write_sender, write_receiver) = mpsc::channel::<Job>();
        let max_batch = options.max_batch.max(1);
        let syncer = match options.durability {
            Durability::Full => {
                let (sync_sender, sync_receiver) = mpsc::channel::<Answers>();
                let wal = wal_path(&options.path);
                thread::Builder::new()
                    .name("wxcard-sqlite-sync".into())
                    .spawn(move || run_syncer(&wal, &sync_receiver))
                    .map_err(backend)?;
                Some(sync_sender)
            }
            Durability::Normal => None,
        };
        thread::Builder::new()
            .name("wxcard-sqlite-writer".into())
            .spawn(move || {
                run_writer(
                    &writer,
                    &write_receiver,
                    max_batch,
                    &writer_caches,
                    syncer.as_ref(),
                );
            })
            .map_err(backend)?;

        let keep_readers = options.readers.max(1);
        let readers = (0..keep_readers)
            .map(|_| open_connection(&options.path, Open::ReadOnly))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Arc::new(Self {
            writer: Mutex::new(write_sender),
            readers: Mutex::new(readers),
            keep_readers,
            path: options.path.clone(),
            caches,
            _checkpointer: checkpointer_stop,
        }))
    }
}

impl Store for SqliteStore {
    fn submit_write(&self, job: Job) {
        let sender = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Err(mpsc::SendError(job)) = sender.send(job) {
            // The writer thread is gone: answer the caller instead of leaving it waiting.
            super::closed::refuse(job, StoreError::Closed);
        }
    }

    fn submit_read(&self, job: Job) {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let connection = match idle.map_or_else(|| open_connection(&self.path, Open::ReadOnly), Ok)
        {
            Ok(connection) => connection,
            Err(error) => {
                super::closed::refuse(job, error);
                return;
            }
        };
        if let Some(connection) = run_read(connection, job, &self.caches) {
            let mut idle = self
                .readers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < self.keep_readers {
                idle.push(connection);
            }
        }
    }

    fn engine(&self) -> Engine {
        Engine::Sqlite
    }
}

/// How often the checkpointer copies the WAL back into the database file. Pages that many
/// commits touch (index leaves, the outbox's last page) are copied once per checkpoint, so a
/// longer interval copies less in all.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// WAL pages (4 KiB each) after which the writer checkpoints by itself, in its commit: only
/// when the checkpointer falls that far behind.
const WAL_CHECKPOINT_PAGES: i64 = 50_000;

/// Copies the WAL back into the database every [`CHECKPOINT_INTERVAL`] on a connection of its
/// own, beside the writer (a `PASSIVE` checkpoint waits for nobody), so that the writer does
/// not stop for it; ends when `stop`'s sender is dropped with the store.
fn run_checkpointer(connection: &Connection, stop: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_INTERVAL) {
        let checkpointed = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(error) = checkpointed {
            tracing::warn!(error = %error, "a WAL checkpoint failed; the next one tries again");
        }
    }
}

/// How much of the database file each connection maps into memory. A read transaction that
/// begins after any commit finds its page cache emptied (WAL mode drops it whole), so every
/// page is fetched again: from the map, that is a pointer instead of a pread(2) and a copy.
const MMAP_BYTES: i64 = 1 << 30;

/// Which connection of the store is being opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// The writer, opened before any other: it takes the file's lock for this process.
    First,
    /// Another connection that writes (the checkpointer).
    Writable,
    /// A reader.
    ReadOnly,
}

/// Creates a database at `path` with only the migrations before the one named `before`, as a
/// wxcard from before it left its databases.
#[cfg(test)]
pub(crate) fn migrate_until(path: &Path, before: &str) -> StoreResult<Connection> {
    let index = MIGRATIONS
        .iter()
        .position(|(name, _)| *name == before)
        .unwrap_or_else(|| panic!("no migration is named {before}"));
    let older = &MIGRATIONS[..index];
    let mut connection = open_connection(path, Open::First)?;
    migrate(&mut connection, older)?;
    Ok(connection)
}

fn open_connection(path: &Path, open: Open) -> StoreResult<Connection> {
    connect(path, open).map_err(|error| match error.sqlite_error_code() {
        // Another process holds the file's lock (see `connect`).
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::InUse(path.display().to_string())
        }
        _ => backend(error),
    })
}

fn connect(path: &Path, open: Open) -> rusqlite::Result<Connection> {
    let flags = if open == Open::ReadOnly {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    // `unix-excl`: the process's first connection locks the file for this process alone, and
    // the WAL index then lives in heap memory instead of a shared `-shm` mapping. Beginning
    // and ending a read transaction costs no fcntl(2) locks; another process cannot open it.
    let connection = Connection::open_with_flags_and_vfs(path, flags, "unix-excl")?;
    // More statements than rusqlite's default 16 are in use; an evicted one is prepared again.
    connection.set_prepared_statement_cache_capacity(128);
    let busy = std::time::Duration::from_secs(5);
    if open != Open::ReadOnly {
        // The first statement takes the file's lock. Another process's lock is not going to
        // be released, so the first connection says so soon instead of after the busy
        // timeout; within this process a store being closed may hold the file for a moment
        // (its last connection checkpoints), so it waits a little.
        let first_lock = if open == Open::First {
            std::time::Duration::from_secs(1)
        } else {
            busy
        };
        connection.busy_timeout(first_lock)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
    }
    connection.busy_timeout(busy)?;
    connection.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    Ok(connection)
}

/// Applies those of `migrations` not applied yet, each in a transaction of its own. The store
/// passes them all; a test passes the first few, to build a database as an older wxcard left it.
fn migrate(connection: &mut Connection, migrations: &[(&str, &str)]) -> StoreResult<()> {
    connection
        .execute_batch("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .map_err(backend)?;
    for (name, sql) in migrations {
        let tx = connection.transaction().map_err(backend)?;
        let applied: Option<String> = tx
            .query_row(
                "SELECT name FROM _migrations WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()
            .map_err(backend)?;
        if applied.is_none() {
            tx.execute_batch(sql).map_err(backend)?;
            tx.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?1, strftime('%s', 'now'))",
                [name],
            )
            .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

fn run_writer(
    connection: &Connection,
    queue: &mpsc::Receiver<Job>,
    max_batch: usize,
    caches: &Caches,
    syncer: Option<&mpsc::Sender<Answers>>,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(connection, batch, caches, syncer);
    }
}

/// The WAL file of the database at `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Answers committed batches once an fsync of the WAL that began after their commit has
/// returned. Batches that commit while an fsync runs wait for the next one, which answers
/// them all: the WAL only grows between checkpoints, and a checkpoint fsyncs what it copies.
fn run_syncer(wal: &Path, queue: &mpsc::Receiver<Answers>) {
    while let Ok(mut waiting) = queue.recv() {
        while let Ok(more) = queue.try_recv() {
            waiting.extend(more);
        }
        // Opened for each fsync: an fsync reaches the file's data whichever descriptor asks,
        // and a descriptor kept open would miss a WAL that was deleted and made again.
        let failure = std::fs::File::open(wal)
            .and_then(|file| file.sync_data())
            .err()
            .map(|error| format!("could not fsync the WAL {}: {error}", wal.display()));
        if let Some(failure) = &failure {
            tracing::error!("{failure}");
        }
        for answer in waiting {
            answer(failure.as_ref().map_or(Ok(()), |failure| {
                Err(StoreError::Backend(failure.clone().into()))
            }));
        }
    }
}

/// Runs queued jobs in one transaction, then answers them all.
///
/// Most jobs either write and succeed, or fail before they write; neither needs a savepoint,
/// and a savepoint is not free (every page a job changes is copied to its sub-journal). So the
/// batch first runs without them. When a job fails after it changed rows (or panics), the
/// transaction is rolled back and the batch runs again with a savepoint per job; jobs may run
/// more than once, and only the run that commits answers.
fn run_batch(
    connection: &Connection,
    mut batch: Vec<Job>,
    caches: &Caches,
    syncer: Option<&mpsc::Sender<Answers>>,
) {
    let written = Written::default();
    let ran = match run_jobs(connection, &mut batch, caches, &written, false) {
        Ran::Undone { panicked } => {
            if let Some(index) = panicked {
                // Dropping it answers its caller that the store failed; it does not run again.
                drop(batch.remove(index));
            }
            run_jobs(connection, &mut batch, caches, &written, true)
        }
        ran => ran,
    };
    let (completions, committed) = match ran {
        Ran::Completed(completions) => {
            // Even with no one to answer (every job panicked), the transaction must end.
            let committed = connection.execute_batch("COMMIT");
            if committed.is_err() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            (completions, committed)
        }
        failed => {
            let message = match failed {
                Ran::Failed(message) => message,
                // With a savepoint per job a failed job is undone by itself, so a second run
                // is not undone whole; should it be, its jobs are refused, not left waiting.
                _ => "the batch was undone twice".to_owned(),
            };
            for job in batch {
                super::closed::refuse(job, StoreError::Backend(message.clone().into()));
            }
            (Vec::new(), Ok(()))
        }
    };
    // Committed or rolled back, the batch is over: readers may cache again.
    if written.cards.get() {
        caches.cards.writes_end();
    }
    if written.card_facts.get() {
        caches.card_facts.writes_end();
    }
    if written.codes.get() {
        caches.codes.writes_end();
    }
    if written.accounts.get() {
        caches.accounts.writes_end();
    }
    if let (Some(syncer), Ok(())) = (syncer, &committed) {
        // The syncer answers once an fsync covers this commit; with no one to answer, no fsync.
        if !completions.is_empty() {
            if let Err(mpsc::SendError(unsent)) = syncer.send(completions) {
                // The syncer is gone: the commit's durability is unknown.
                for complete in unsent {
                    complete(Err(StoreError::Closed));
                }
            }
        }
        return;
    }
    for complete in completions {
        complete(
            committed
                .as_ref()
                .map(|_| ())
                .map_err(|error| StoreError::Backend(error.to_string().into())),
        );
    }
}

/// How one run of a batch's jobs ended.
enum Ran {
    /// Every job ran; the transaction is open, and these answer the jobs once it ends.
    Completed(Answers),
    /// A job failed after it changed rows, or panicked (the index given), with no savepoint
    /// to undo it: the transaction was rolled back and nobody was answered.
    Undone { panicked: Option<usize> },
    /// The transaction could not begin; nothing ran.
    Failed(String),
}

/// Runs `batch` in one new transaction, each job in a savepoint of its own when `savepoints`.
fn run_jobs(
    connection: &Connection,
    batch: &mut [Job],
    caches: &Caches,
    written: &Written,
    savepoints: bool,
) -> Ran {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        return Ran::Failed(error.to_string());
    }
    let mut completions = Vec::with_capacity(batch.len());
    for (index, job) in batch.iter_mut().enumerate() {
        if savepoints {
            if let Err(error) = exec_cached(connection, "SAVEPOINT job") {
                tracing::error!(error = %error, "could not open a savepoint");
                continue;
            }
        }
        let changes = connection.total_changes();
        let mut tx = SqliteTx {
            connection,
            role: Role::Writer { caches, written },
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)));
        let failed = outcome.as_ref().map_or(true, |outcome| outcome.rollback);
        if savepoints {
            let closed = if failed {
                exec_cached(connection, "ROLLBACK TO job")
                    .and_then(|()| exec_cached(connection, "RELEASE job"))
            } else {
                exec_cached(connection, "RELEASE job")
            };
            if let Err(error) = closed {
                tracing::error!(error = %error, "could not close a savepoint");
            }
        } else if (failed && connection.total_changes() != changes) || connection.is_autocommit() {
            // Its changes are mixed with the other jobs' (or SQLite ended the transaction
            // after an I/O error): start again, with savepoints.
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            let panicked = outcome.is_err().then_some(index);
            if panicked.is_some() {
                tracing::error!("a storage job panicked; its batch runs again without it");
            }
            return Ran::Undone { panicked };
        }
        match outcome {
            Ok(outcome) => completions.push(outcome.complete),
            // The job's answer channel goes with it; its caller sees the store as closed.
            Err(_) => tracing::error!("a storage job panicked; its writes were rolled back"),
        }
    }
    Ran::Completed(completions)
}

/// Runs a read job on `connection`, in a snapshot that begins with its first statement (a
/// job answered from the card cache touches no table); gives the connection back unless the
/// job panicked (its state is then unknown).
fn run_read(connection: Connection, mut job: Job, caches: &Caches) -> Option<Connection> {
    let started = Cell::new(None);
    let mut tx = SqliteTx {
        connection: &connection,
        role: Role::Reader {
            caches,
            started: &started,
        },
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)));
    let ended = if started.get().is_some() {
        exec_cached(&connection, "COMMIT")
    } else {
        Ok(())
    };
    match outcome {
        Ok(outcome) => {
            (outcome.complete)(Ok(()));
            ended.is_ok().then_some(connection)
        }
        Err(_) => {
            tracing::error!("a read job panicked");
            None
        }
    }
}

fn exec_cached(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(error))
}

fn map_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, message)
            if failure.code == ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(message.clone().unwrap_or_else(|| failure.to_string()))
        }
        _ => backend(error),
    }
}

/// A job's view of the writer's (or a reader's) open transaction.
struct SqliteTx<'c> {
    connection: &'c Connection,
    role: Role<'c>,
}

/// What kind of connection a transaction runs on.
enum Role<'c> {
    /// The writer, inside a batch; notes which cached tables the batch wrote.
    Writer {
        caches: &'c Caches,
        written: &'c Written,
    },
    /// A reader; `started` holds the cache generations seen when its snapshot began.
    Reader {
        caches: &'c Caches,
        started: &'c Cell<Option<Began>>,
    },
}

impl SqliteTx<'_> {
    /// Begins a reader's snapshot before its first statement.
    fn begin(&self) -> StoreResult<()> {
        if let Role::Reader { caches, started } = &self.role {
            if started.get().is_none() {
                // The generations are read before the snapshot begins, so a snapshot never
                // misses a write that finished before them.
                let generations = Began {
                    cards: caches.cards.generation(),
                    card_facts: caches.card_facts.generation(),
                    codes: caches.codes.generation(),
                    accounts: caches.accounts.generation(),
                };
                exec_cached(self.connection, "BEGIN").map_err(backend)?;
                started.set(Some(generations));
            }
        }
        Ok(())
    }

    /// Marks the batch as writing cards (the writer calls this before each card write).
    fn writing_cards(&self) {
        self.writing_stock();
        if let Role::Writer { caches, written } = &self.role {
            if !written.card_facts.replace(true) {
                caches.card_facts.writes_begin();
            }
        }
    }

    /// Marks the batch as changing a card's stock and nothing else of it: the cards cache
    /// stops being trusted, the card-facts cache (whose stock may lag) does not.
    fn writing_stock(&self) {
        if let Role::Writer { caches, written } = &self.role {
            if !written.cards.replace(true) {
                caches.cards.writes_begin();
            }
        }
    }

    /// Marks the batch as writing an account table (before each write of apps, users,
    /// openids, unionids or tickets).
    fn writing_accounts(&self) {
        if let Role::Writer { caches, written } = &self.role {
            if !written.accounts.replace(true) {
                caches.accounts.writes_begin();
            }
        }
    }

    /// An account lookup, from the cache when no write to the account tables has begun since
    /// it was stored. The writer uses and stores entries too, while its batch has not written
    /// an account table: until then its reads of them are the committed state.
    fn account<T: AccountValue>(
        &self,
        key: AccountKey,
        load: impl FnOnce(&Self) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let caches = self.caches();
        if let Some(row) = caches.accounts.get(&key) {
            // Another kind than the key's would be a bug: reported, without the entry (which
            // may hold an AppSecret), instead of a panic.
            return T::from_row(row).ok_or_else(|| {
                StoreError::Corrupt("an account cache entry of the wrong kind".into())
            });
        }
        let value = load(self)?;
        if let Some(began) = self.read_under(|c| &c.accounts, |b| b.accounts, |w| &w.accounts) {
            caches.accounts.put(began, key, &value.clone().into_row());
        }
        Ok(value)
    }

    fn caches(&self) -> &Caches {
        match &self.role {
            Role::Writer { caches, .. } | Role::Reader { caches, .. } => caches,
        }
    }

    /// The generation of a cache that what this transaction just read was read under, if it
    /// may be stored in that cache (used by the caches both readers and the writer fill).
    fn read_under<K: std::hash::Hash + Eq, V: Clone>(
        &self,
        cache: fn(&Caches) -> &Cache<K, V>,
        began: fn(&Began) -> u64,
        written: fn(&Written) -> &Cell<bool>,
    ) -> Option<u64> {
        match &self.role {
            // A reader's snapshot begins with its first statement, which the read may have run.
            Role::Reader { started, .. } => started.get().map(|generations| began(&generations)),
            // Only the writer moves generations, so the current one is the one it read under,
            // until its batch writes the table: after that it may read its own uncommitted rows.
            Role::Writer {
                caches,
                written: batch,
            } => (!written(batch).get()).then(|| cache(caches).generation()),
        }
    }

    /// Marks the batch as writing user cards (before each insert or update of `user_cards`).
    fn writing_codes(&self) {
        if let Role::Writer { caches, written } = &self.role {
            if !written.codes.replace(true) {
                caches.codes.writes_begin();
            }
        }
    }

    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<usize> {
        self.begin()?;
        self.connection
            .prepare_cached(sql)
            .and_then(|mut statement| statement.execute(params))
            .map_err(map_error)
    }

    /// Runs an INSERT and returns the new row's id. (`RETURNING id` would cost an ephemeral
    /// table per statement: SQLite collects RETURNING rows before handing them out.)
    fn insert(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<i64> {
        self.execute(sql, params)?;
        Ok(self.connection.last_insert_rowid())
    }

    fn query_one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        self.begin()?;
        self.connection
            .prepare_cached(sql)
            .and_then(|mut statement| statement.query_row(params, map).optional())
            .map_err(map_error)
    }

    fn query_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        self.begin()?;
        let mut statement = self.connection.prepare_cached(sql).map_err(map_error)?;
        let rows = statement.query_map(params, map).map_err(map_error)?;
        rows.collect::<rusqlite::Result<Vec<T>>>()
            .map_err(map_error)
    }
}

fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<Ticket> {
    let ticket_type: String = row.get(2)?;
    Ok(Ticket {
        ticket: row.get(0)?,
        appid: row.get(1)?,
        ticket_type: TicketType::parse(&ticket_type).ok_or_else(|| corrupt(2, "ticket type"))?,
        issued_at: row.get(3)?,
        expires_at: row.get(4)?,
    })
}

/// Turns a bad stored value into an error a row mapper can return.
fn corrupt(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unexpected {what}").into(),
    )
}

/// The columns of the row mapper below, as a literal so queries can be built with `concat!`.
macro_rules! app_columns {
    () => {
        "appid, secret, kind, name, original_id, open_platform_id, created_at"
    };
}

fn app_from_row(row: &Row<'_>) -> rusqlite::Result<App> {
    let kind: String = row.get(2)?;
    Ok(App {
        appid: row.get(0)?,
        secret: row.get(1)?,
        kind: AppKind::parse(&kind).ok_or_else(|| corrupt(2, "app kind"))?,
        name: row.get(3)?,
        original_id: row.get(4)?,
        open_platform_id: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// The columns of the row mapper below, as a literal so queries can be built with `concat!`.
macro_rules! user_columns {
    () => {
        "user_id, nickname, profile, client_os, client_version, base_library, created_at"
    };
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let profile: String = row.get(2)?;
    Ok(User {
        user_id: row.get(0)?,
        nickname: row.get(1)?,
        profile: serde_json::from_str(&profile).map_err(|_| corrupt(2, "profile"))?,
        client_os: row.get(3)?,
        client_version: row.get(4)?,
        base_library: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// The columns of the row mapper below, as a literal so queries can be built with `concat!`.
macro_rules! token_columns {
    () => {
        "token, appid, kind, issued_at, expires_at, revoked_until"
    };
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<AccessToken> {
    let kind: String = row.get(2)?;
    Ok(AccessToken {
        token: row.get(0)?,
        appid: row.get(1)?,
        kind: TokenKind::parse(&kind).ok_or_else(|| corrupt(2, "token kind"))?,
        issued_at: row.get(3)?,
        expires_at: row.get(4)?,
        revoked_until: row.get(5)?,
    })
}

/// The columns of the row mapper below, as a literal so queries can be built with `concat!`.
macro_rules! card_columns {
    () => {
        "card_id, appid, card_type, document, status, quantity, total_quantity, code_mode, bind_openid, get_limit, review_due_at, refuse_reason, create_time, update_time"
    };
}

fn card_from_row(row: &Row<'_>) -> rusqlite::Result<Card> {
    let document: String = row.get(3)?;
    let status: String = row.get(4)?;
    Ok(Card {
        card_id: row.get(0)?,
        appid: row.get(1)?,
        card_type: row.get(2)?,
        document,
        status: CardStatus::parse(&status).ok_or_else(|| corrupt(4, "card status"))?,
        quantity: row.get(5)?,
        total_quantity: row.get(6)?,
        code_mode: row.get(7)?,
        bind_openid: row.get(8)?,
        get_limit: row.get(9)?,
        review_due_at: row.get(10)?,
        refuse_reason: row.get(11)?,
        create_time: row.get(12)?,
        update_time: row.get(13)?,
    })
}

impl SqliteTx<'_> {
    fn load_card(&self, card_id: &str) -> StoreResult<Option<Card>> {
        self.query_one(
            concat!("SELECT ", card_columns!(), " FROM cards WHERE card_id = ?1"),
            [card_id],
            card_from_row,
        )
    }
}

fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

fn json_column(row: &Row<'_>, index: usize, what: &str) -> rusqlite::Result<serde_json::Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|_| corrupt(index, what))
}

macro_rules! user_card_columns {
    () => {
        "id, card_id, appid, code, user_id, openid, status, begin_time, end_time, outer_str, claimed_at, consumed_at"
    };
}

fn user_card_from_row(row: &Row<'_>) -> rusqlite::Result<UserCard> {
    let status: String = row.get(6)?;
    Ok(UserCard {
        id: row.get(0)?,
        card_id: row.get(1)?,
        appid: row.get(2)?,
        code: row.get(3)?,
        user_id: row.get(4)?,
        openid: row.get(5)?,
        status: UserCardStatus::parse(&status).ok_or_else(|| corrupt(6, "user card status"))?,
        begin_time: row.get(7)?,
        end_time: row.get(8)?,
        outer_str: row.get(9)?,
        claimed_at: row.get(10)?,
        consumed_at: row.get(11)?,
    })
}

fn push_from_row(row: &Row<'_>) -> rusqlite::Result<Option<PushConfig>> {
    let (url, token, mode): (Option<String>, Option<String>, Option<String>) =
        (row.get(0)?, row.get(1)?, row.get(3)?);
    Ok(match (url, token, mode) {
        (Some(url), Some(token), Some(mode)) => Some(PushConfig {
            url,
            token,
            encoding_aes_key: row.get(2)?,
            mode,
        }),
        _ => None,
    })
}

fn gift_from_row(row: &Row<'_>) -> rusqlite::Result<Gift> {
    Ok(Gift {
        gift_id: row.get(0)?,
        user_card_id: row.get(1)?,
        from_user_id: row.get(2)?,
        status: row.get(3)?,
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
        to_user_id: row.get(6)?,
    })
}

fn outbox_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxEvent> {
    Ok(OutboxEvent {
        id: row.get(0)?,
        appid: row.get(1)?,
        event: row.get(2)?,
        payload: json_column(row, 3, "payload")?,
        created_at: row.get(4)?,
        status: row.get(5)?,
        attempts: row.get(6)?,
        next_attempt_at: row.get(7)?,
    })
}

impl Tx for SqliteTx<'_> {
    fn next_seq(&mut self, kind: &str) -> StoreResult<u64> {
        // Two statements instead of `RETURNING value`, which would cost an ephemeral table.
        self.execute(
            "INSERT INTO sequences (kind, value) VALUES (?1, 1) ON CONFLICT (kind) DO UPDATE SET value = value + 1",
            [kind],
        )?;
        let value: Option<i64> = self.query_one(
            "SELECT value FROM sequences WHERE kind = ?1",
            [kind],
            |row| row.get(0),
        )?;
        let value = value
            .ok_or_else(|| StoreError::Corrupt(format!("sequence {kind} returned nothing")))?;
        u64::try_from(value)
            .map_err(|_| StoreError::Corrupt(format!("sequence {kind} is negative")))
    }

    fn meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        self.query_one("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
    }

    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])?;
        Ok(())
    }

    fn insert_open_platform(&mut self, open_platform: &OpenPlatform) -> StoreResult<()> {
        self.writing_accounts();
        self.execute(
            "INSERT INTO open_platforms (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![
                open_platform.id,
                open_platform.name,
                open_platform.created_at
            ],
        )?;
        Ok(())
    }

    fn open_platform(&mut self, id: &str) -> StoreResult<Option<OpenPlatform>> {
        self.query_one(
            "SELECT id, name, created_at FROM open_platforms WHERE id = ?1",
            [id],
            |row| {
                Ok(OpenPlatform {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    created_at: row.get(2)?,
                })
            },
        )
    }

    fn insert_app(&mut self, app: &App) -> StoreResult<()> {
        self.writing_accounts();
        self.execute(
            "INSERT INTO apps (appid, secret, kind, name, original_id, open_platform_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![app.appid, app.secret, app.kind.as_str(), app.name, app.original_id, app.open_platform_id, app.created_at],
        )?;
        Ok(())
    }

    fn app(&mut self, appid: &str) -> StoreResult<Option<App>> {
        self.account(AccountKey::App(appid.to_owned()), |tx| {
            tx.query_one(
                concat!("SELECT ", app_columns!(), " FROM apps WHERE appid = ?1"),
                [appid],
                app_from_row,
            )
        })
    }

    fn apps(&mut self) -> StoreResult<Vec<App>> {
        self.query_all(
            concat!(
                "SELECT ",
                app_columns!(),
                " FROM apps ORDER BY created_at, rowid"
            ),
            [],
            app_from_row,
        )
    }

    fn insert_user(&mut self, user: &User) -> StoreResult<()> {
        self.writing_accounts();
        let profile = serde_json::to_string(&user.profile)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        self.execute(
            "INSERT INTO users (user_id, nickname, profile, client_os, client_version, base_library, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![user.user_id, user.nickname, profile, user.client_os, user.client_version, user.base_library, user.created_at],
        )?;
        Ok(())
    }

    fn user(&mut self, user_id: &str) -> StoreResult<Option<User>> {
        self.account(AccountKey::User(user_id.to_owned()), |tx| {
            tx.query_one(
                concat!("SELECT ", user_columns!(), " FROM users WHERE user_id = ?1"),
                [user_id],
                user_from_row,
            )
        })
    }

    fn users(&mut self) -> StoreResult<Vec<User>> {
        self.query_all(
            concat!(
                "SELECT ",
                user_columns!(),
                " FROM users ORDER BY created_at, rowid"
            ),
            [],
            user_from_row,
        )
    }

    fn insert_openid(&mut self, appid: &str, user_id: &str, openid: &str) -> StoreResult<()> {
        self.writing_accounts();
        self.execute(
            "INSERT INTO openids (appid, user_id, openid) VALUES (?1, ?2, ?3)",
            [appid, user_id, openid],
        )?;
        Ok(())
    }

    fn openids_of_user(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>> {
        self.account(AccountKey::OpenidsOfUser(user_id.to_owned()), |tx| {
            tx.query_all(
                "SELECT appid, openid FROM openids WHERE user_id = ?1 ORDER BY appid",
                [user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
    }

    fn user_id_by_openid(&mut self, appid: &str, openid: &str) -> StoreResult<Option<String>> {
        self.query_one(
            "SELECT user_id FROM openids WHERE appid = ?1 AND openid = ?2",
            [appid, openid],
            |row| row.get(0),
        )
    }

    fn insert_unionid(
        &mut self,
        open_platform_id: &str,
        user_id: &str,
        unionid: &str,
    ) -> StoreResult<bool> {
        self.writing_accounts();
        let inserted = self.execute(
            "INSERT INTO unionids (open_platform_id, user_id, unionid) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            [open_platform_id, user_id, unionid],
        )?;
        Ok(inserted == 1)
    }

    fn unionids_of_user(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>> {
        self.account(AccountKey::UnionidsOfUser(user_id.to_owned()), |tx| {
            tx.query_all(
                "SELECT open_platform_id, unionid FROM unionids WHERE user_id = ?1 ORDER BY open_platform_id",
                [user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
    }

    fn insert_access_token(&mut self, token: &AccessToken) -> StoreResult<()> {
        self.execute(
            "INSERT INTO access_tokens (token, appid, kind, issued_at, expires_at, revoked_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![token.token, token.appid, token.kind.as_str(), token.issued_at, token.expires_at, token.revoked_until],
        )?;
        Ok(())
    }

    fn access_token(&mut self, token: &str) -> StoreResult<Option<AccessToken>> {
        self.query_one(
            concat!(
                "SELECT ",
                token_columns!(),
                " FROM access_tokens WHERE token = ?1"
            ),
            [token],
            token_from_row,
        )
    }

    fn latest_access_token(
        &mut self,
        appid: &str,
        kind: TokenKind,
    ) -> StoreResult<Option<AccessToken>> {
        self.query_one(
            concat!("SELECT ", token_columns!(), " FROM access_tokens WHERE appid = ?1 AND kind = ?2 ORDER BY issued_at DESC, rowid DESC LIMIT 1"),
            [appid, kind.as_str()],
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
            "UPDATE access_tokens SET revoked_until = ?4 WHERE appid = ?1 AND kind = ?2 AND revoked_until IS NULL AND expires_at > ?3 RETURNING token",
            params![appid, kind.as_str(), now, until],
            |row| row.get(0),
        )
    }

    fn insert_ticket(&mut self, ticket: &Ticket) -> StoreResult<()> {
        self.writing_accounts();
        self.execute(
            "INSERT INTO tickets (ticket, appid, ticket_type, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![ticket.ticket, ticket.appid, ticket.ticket_type.as_str(), ticket.issued_at, ticket.expires_at],
        )?;
        Ok(())
    }

    fn latest_ticket(
        &mut self,
        appid: &str,
        ticket_type: TicketType,
    ) -> StoreResult<Option<Ticket>> {
        self.query_one(
            "SELECT ticket, appid, ticket_type, issued_at, expires_at FROM tickets WHERE appid = ?1 AND ticket_type = ?2 ORDER BY issued_at DESC, rowid DESC LIMIT 1",
            [appid, ticket_type.as_str()],
            ticket_from_row,
        )
    }

    fn recent_tickets(
        &mut self,
        appid: &str,
        ticket_type: TicketType,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>> {
        let key = AccountKey::Tickets(appid.to_owned(), ticket_type, limit);
        self.account(key, |tx| {
            tx.query_all(
                "SELECT ticket, appid, ticket_type, issued_at, expires_at FROM tickets WHERE appid = ?1 AND ticket_type = ?2 ORDER BY issued_at DESC, rowid DESC LIMIT ?3",
                params![appid, ticket_type.as_str(), limit],
                ticket_from_row,
            )
        })
    }

    fn insert_login_code(&mut self, code: &LoginCode) -> StoreResult<()> {
        self.execute(
            "INSERT INTO login_codes (code, appid, user_id, session_key, issued_at, expires_at, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![code.code, code.appid, code.user_id, code.session_key, code.issued_at, code.expires_at, code.used_at],
        )?;
        Ok(())
    }

    fn login_code(&mut self, code: &str) -> StoreResult<Option<LoginCode>> {
        self.query_one(
            "SELECT code, appid, user_id, session_key, issued_at, expires_at, used_at FROM login_codes WHERE code = ?1",
            [code],
            |row| {
                Ok(LoginCode {
                    code: row.get(0)?,
                    appid: row.get(1)?,
                    user_id: row.get(2)?,
                    session_key: row.get(3)?,
                    issued_at: row.get(4)?,
                    expires_at: row.get(5)?,
                    used_at: row.get(6)?,
                })
            },
        )
    }

    fn mark_login_code_used(&mut self, code: &str, at: i64) -> StoreResult<()> {
        self.execute(
            "UPDATE login_codes SET used_at = ?2 WHERE code = ?1",
            params![code, at],
        )?;
        Ok(())
    }

    fn insert_card(&mut self, card: &Card) -> StoreResult<()> {
        self.writing_cards();
        self.execute(
            concat!(
                "INSERT INTO cards (",
                card_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            params![
                card.card_id,
                card.appid,
                card.card_type,
                card.document,
                card.status.as_str(),
                card.quantity,
                card.total_quantity,
                card.code_mode,
                card.bind_openid,
                card.get_limit,
                card.review_due_at,
                card.refuse_reason,
                card.create_time,
                card.update_time
            ],
        )?;
        Ok(())
    }

    fn card(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        if let Role::Reader { caches, .. } = &self.role {
            if let Some(card) = caches.cards.get(card_id) {
                return Ok(Some(card));
            }
        }
        let card = self.load_card(card_id)?;
        if let (Role::Reader { caches, started }, Some(card)) = (&self.role, &card) {
            if let Some(began) = started.get() {
                caches.cards.put(began.cards, card.card_id.clone(), card);
            }
        }
        Ok(card)
    }

    fn card_facts(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        let caches = self.caches();
        if let Some(card) = caches.card_facts.get(card_id) {
            return Ok(Some(card));
        }
        let card = self.load_card(card_id)?;
        let began = self.read_under(|c| &c.card_facts, |b| b.card_facts, |w| &w.card_facts);
        if let (Some(began), Some(card)) = (began, &card) {
            caches.card_facts.put(began, card.card_id.clone(), card);
        }
        Ok(card)
    }

    fn stock(&mut self, card_id: &str) -> StoreResult<Option<i64>> {
        self.query_one(
            "SELECT quantity FROM cards WHERE card_id = ?1",
            [card_id],
            |row| row.get(0),
        )
    }

    fn update_card(&mut self, card: &Card) -> StoreResult<()> {
        self.writing_cards();
        self.execute(
            "UPDATE cards SET document = ?2, status = ?3, quantity = ?4, total_quantity = ?5, get_limit = ?6, review_due_at = ?7, refuse_reason = ?8, update_time = ?9 WHERE card_id = ?1",
            params![
                card.card_id,
                card.document,
                card.status.as_str(),
                card.quantity,
                card.total_quantity,
                card.get_limit,
                card.review_due_at,
                card.refuse_reason,
                card.update_time
            ],
        )?;
        Ok(())
    }

    fn card_ids_of_app(
        &mut self,
        appid: &str,
        statuses: &[CardStatus],
        offset: u64,
        count: u64,
    ) -> StoreResult<(Vec<String>, u64)> {
        // The status filter is a JSON array so that one cached statement serves any list.
        let filter = serde_json::Value::from(
            statuses
                .iter()
                .map(|status| status.as_str())
                .collect::<Vec<_>>(),
        )
        .to_string();
        let matches = "appid = ?1 AND (json_array_length(?2) = 0 OR status IN (SELECT value FROM json_each(?2)))";
        let total: Option<i64> = self.query_one(
            &format!("SELECT count(*) FROM cards WHERE {matches}"),
            params![appid, filter],
            |row| row.get(0),
        )?;
        let ids = self.query_all(
            &format!("SELECT card_id FROM cards WHERE {matches} ORDER BY create_time, rowid LIMIT ?3 OFFSET ?4"),
            params![appid, filter, i64::try_from(count).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(i64::MAX)],
            |row| row.get(0),
        )?;
        Ok((ids, u64::try_from(total.unwrap_or(0)).unwrap_or(0)))
    }

    fn cards_due_for_review(&mut self, now: i64) -> StoreResult<Vec<Card>> {
        self.query_all(
            concat!("SELECT ", card_columns!(), " FROM cards WHERE review_due_at IS NOT NULL AND review_due_at <= ?1 AND status = 'CARD_STATUS_NOT_VERIFY'"),
            [now],
            card_from_row,
        )
    }

    fn set_whitelist(
        &mut self,
        appid: &str,
        openids: &[String],
        usernames: &[String],
    ) -> StoreResult<()> {
        self.execute("DELETE FROM test_whitelist WHERE appid = ?1", [appid])?;
        for (kind, values) in [("openid", openids), ("username", usernames)] {
            for value in values {
                self.execute(
                    "INSERT OR IGNORE INTO test_whitelist (appid, kind, value) VALUES (?1, ?2, ?3)",
                    [appid, kind, value.as_str()],
                )?;
            }
        }
        Ok(())
    }

    fn whitelist(&mut self, appid: &str) -> StoreResult<Vec<(String, String)>> {
        self.query_all(
            "SELECT kind, value FROM test_whitelist WHERE appid = ?1 ORDER BY kind, value",
            [appid],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    }

    fn insert_qrcode(&mut self, qrcode: &QrCode) -> StoreResult<()> {
        self.execute(
            "INSERT INTO qrcodes (ticket, url_id, appid, action_name, action_info, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![qrcode.ticket, qrcode.url_id, qrcode.appid, qrcode.action_name, json_text(&qrcode.action_info), qrcode.created_at, qrcode.expires_at],
        )?;
        Ok(())
    }

    fn qrcode(&mut self, ticket_or_url_id: &str) -> StoreResult<Option<QrCode>> {
        self.query_one(
            "SELECT ticket, url_id, appid, action_name, action_info, created_at, expires_at FROM qrcodes WHERE ticket = ?1 OR url_id = ?1",
            [ticket_or_url_id],
            |row| {
                Ok(QrCode {
                    ticket: row.get(0)?,
                    url_id: row.get(1)?,
                    appid: row.get(2)?,
                    action_name: row.get(3)?,
                    action_info: json_column(row, 4, "action_info")?,
                    created_at: row.get(5)?,
                    expires_at: row.get(6)?,
                })
            },
        )
    }

    fn app_by_original_id(&mut self, original_id: &str) -> StoreResult<Option<App>> {
        self.query_one(
            concat!(
                "SELECT ",
                app_columns!(),
                " FROM apps WHERE original_id = ?1"
            ),
            [original_id],
            app_from_row,
        )
    }

    fn insert_landing_page(&mut self, page: &LandingPage) -> StoreResult<()> {
        self.execute(
            "INSERT INTO landing_pages (page_id, appid, banner, page_title, can_share, scene, card_list, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![page.page_id, page.appid, page.banner, page.page_title, page.can_share, page.scene, json_text(&page.card_list), page.created_at],
        )?;
        Ok(())
    }

    fn landing_page(&mut self, page_id: i64) -> StoreResult<Option<LandingPage>> {
        self.query_one(
            "SELECT page_id, appid, banner, page_title, can_share, scene, card_list, created_at FROM landing_pages WHERE page_id = ?1",
            [page_id],
            |row| {
                Ok(LandingPage {
                    page_id: row.get(0)?,
                    appid: row.get(1)?,
                    banner: row.get(2)?,
                    page_title: row.get(3)?,
                    can_share: row.get(4)?,
                    scene: row.get(5)?,
                    card_list: json_column(row, 6, "card_list")?,
                    created_at: row.get(7)?,
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
        self.insert(
            "INSERT INTO outbox (appid, event, payload, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![appid, event, payload, now],
        )
        .map(|_| ())
    }

    fn events(&mut self, filter: &EventFilter) -> StoreResult<Vec<OutboxEvent>> {
        self.query_all(
            "SELECT id, appid, event, payload, created_at, status, attempts, next_attempt_at FROM outbox \
             WHERE (?1 IS NULL OR appid = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR event = ?3) ORDER BY id DESC LIMIT ?4",
            params![filter.appid, filter.status, filter.event, i64::try_from(filter.limit).unwrap_or(i64::MAX)],
            |row| {
                Ok(OutboxEvent {
                    id: row.get(0)?,
                    appid: row.get(1)?,
                    event: row.get(2)?,
                    payload: json_column(row, 3, "payload")?,
                    created_at: row.get(4)?,
                    status: row.get(5)?,
                    attempts: row.get(6)?,
                    next_attempt_at: row.get(7)?,
                })
            },
        )
    }

    fn insert_user_card(&mut self, user_card: &UserCard) -> StoreResult<i64> {
        self.writing_codes();
        self.insert(
            "INSERT INTO user_cards (card_id, appid, code, user_id, openid, status, begin_time, end_time, outer_str, claimed_at, consumed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                user_card.card_id,
                user_card.appid,
                user_card.code,
                user_card.user_id,
                user_card.openid,
                user_card.status.as_str(),
                user_card.begin_time,
                user_card.end_time,
                user_card.outer_str,
                user_card.claimed_at,
                user_card.consumed_at
            ],
        )
    }

    fn user_cards_by_code(
        &mut self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
    ) -> StoreResult<Vec<UserCard>> {
        let key = (
            appid.to_owned(),
            code.to_owned(),
            card_id.map(str::to_owned),
        );
        if let Role::Reader { caches, .. } = &self.role {
            if let Some(found) = caches.codes.get(&key) {
                return Ok(found);
            }
        }
        let found = self.query_all(
            concat!("SELECT ", user_card_columns!(), " FROM user_cards WHERE appid = ?1 AND code = ?2 AND (?3 IS NULL OR card_id = ?3) ORDER BY id"),
            params![appid, code, card_id],
            user_card_from_row,
        )?;
        if let Role::Reader { caches, started } = &self.role {
            if let Some(began) = started.get() {
                caches.codes.put(began.codes, key, &found);
            }
        }
        Ok(found)
    }

    fn set_user_card_status(
        &mut self,
        id: i64,
        status: UserCardStatus,
        consumed_at: Option<i64>,
    ) -> StoreResult<()> {
        self.writing_codes();
        self.execute("UPDATE user_cards SET status = ?2, consumed_at = coalesce(?3, consumed_at) WHERE id = ?1", params![id, status.as_str(), consumed_at])?;
        Ok(())
    }

    fn set_user_card_code(&mut self, id: i64, code: &str) -> StoreResult<()> {
        self.writing_codes();
        self.execute(
            "UPDATE user_cards SET code = ?2 WHERE id = ?1",
            params![id, code],
        )?;
        Ok(())
    }

    fn user_cards_of_user(&mut self, user_id: &str) -> StoreResult<Vec<UserCard>> {
        self.query_all(
            concat!(
                "SELECT ",
                user_card_columns!(),
                " FROM user_cards WHERE user_id = ?1 ORDER BY id"
            ),
            [user_id],
            user_card_from_row,
        )
    }

    fn openid_of(&mut self, appid: &str, user_id: &str) -> StoreResult<Option<String>> {
        let key = AccountKey::Openid(appid.to_owned(), user_id.to_owned());
        self.account(key, |tx| {
            tx.query_one(
                "SELECT openid FROM openids WHERE appid = ?1 AND user_id = ?2",
                [appid, user_id],
                |row| row.get(0),
            )
        })
    }

    fn unionid_of(&mut self, open_platform_id: &str, user_id: &str) -> StoreResult<Option<String>> {
        let key = AccountKey::Unionid(open_platform_id.to_owned(), user_id.to_owned());
        self.account(key, |tx| {
            tx.query_one(
                "SELECT unionid FROM unionids WHERE open_platform_id = ?1 AND user_id = ?2",
                [open_platform_id, user_id],
                |row| row.get(0),
            )
        })
    }

    fn take_stock(&mut self, card_id: &str, now: i64) -> StoreResult<bool> {
        self.writing_stock();
        let changed = self.execute(
            "UPDATE cards SET quantity = quantity - 1, update_time = ?2 WHERE card_id = ?1 AND quantity > 0",
            params![card_id, now],
        )?;
        Ok(changed == 1)
    }

    fn login_apps_of_user(&mut self, user_id: &str) -> StoreResult<Vec<String>> {
        self.query_all(
            "SELECT DISTINCT appid FROM login_codes WHERE user_id = ?1 AND used_at IS NOT NULL ORDER BY appid",
            [user_id],
            |row| row.get(0),
        )
    }

    fn count_user_cards(&mut self, user_id: &str, card_id: &str) -> StoreResult<u64> {
        let count: Option<i64> = self.query_one(
            "SELECT count(*) FROM user_cards WHERE user_id = ?1 AND card_id = ?2",
            [user_id, card_id],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(count.unwrap_or(0)).unwrap_or(0))
    }

    fn code_in_use(&mut self, card_id: &str, code: &str) -> StoreResult<bool> {
        let found: Option<i64> = self.query_one(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM user_cards WHERE card_id = ?1 AND code = ?2) OR EXISTS (SELECT 1 FROM deposited_codes WHERE card_id = ?1 AND code = ?2)",
            [card_id, code],
            |row| row.get(0),
        )?;
        Ok(found.is_some())
    }

    fn code_issued_in_app(&mut self, appid: &str, code: &str) -> StoreResult<bool> {
        let found: Option<i64> = self.query_one(
            "SELECT 1 FROM user_cards WHERE appid = ?1 AND code = ?2 LIMIT 1",
            [appid, code],
            |row| row.get(0),
        )?;
        Ok(found.is_some())
    }

    fn deposit_codes(&mut self, card_id: &str, codes: &[String]) -> StoreResult<Vec<String>> {
        let mut duplicates = Vec::new();
        for code in codes {
            let inserted = self.execute(
                "INSERT OR IGNORE INTO deposited_codes (card_id, code) VALUES (?1, ?2)",
                [card_id, code.as_str()],
            )?;
            if inserted == 0 {
                duplicates.push(code.clone());
            }
        }
        Ok(duplicates)
    }

    fn deposited_count(&mut self, card_id: &str) -> StoreResult<u64> {
        let count: Option<i64> = self.query_one(
            "SELECT count(*) FROM deposited_codes WHERE card_id = ?1",
            [card_id],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(count.unwrap_or(0)).unwrap_or(0))
    }

    fn deposited_available(&mut self, card_id: &str) -> StoreResult<u64> {
        let count: Option<i64> = self.query_one(
            "SELECT count(*) FROM deposited_codes WHERE card_id = ?1 AND issued = 0",
            [card_id],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(count.unwrap_or(0)).unwrap_or(0))
    }

    fn deposited_among(&mut self, card_id: &str, codes: &[String]) -> StoreResult<Vec<String>> {
        let mut found = Vec::new();
        for code in codes {
            let exists: Option<i64> = self.query_one(
                "SELECT 1 FROM deposited_codes WHERE card_id = ?1 AND code = ?2",
                [card_id, code.as_str()],
                |row| row.get(0),
            )?;
            if exists.is_some() {
                found.push(code.clone());
            }
        }
        Ok(found)
    }

    fn take_deposited_code(&mut self, card_id: &str) -> StoreResult<Option<String>> {
        self.query_one(
            "UPDATE deposited_codes SET issued = 1 WHERE rowid = (SELECT rowid FROM deposited_codes WHERE card_id = ?1 AND issued = 0 ORDER BY rowid LIMIT 1) RETURNING code",
            [card_id],
            |row| row.get(0),
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
            "INSERT OR IGNORE INTO used_card_ext (card_id, signed_at, nonce_str, signature, used_at) \
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS \
             (SELECT 1 FROM used_card_ext WHERE card_id = ?1 AND signed_at = -1 AND nonce_str = '' AND signature = ?4)",
            params![card_id, card_ext.timestamp, card_ext.nonce_str, card_ext.signature, now],
        )?;
        Ok(inserted == 1)
    }

    fn set_push_config(&mut self, appid: &str, push: &PushConfig) -> StoreResult<()> {
        self.writing_accounts();
        self.execute(
            "UPDATE apps SET push_url = ?2, push_token = ?3, push_aes_key = ?4, push_mode = ?5 WHERE appid = ?1",
            params![appid, push.url, push.token, push.encoding_aes_key, push.mode],
        )?;
        Ok(())
    }

    fn push_config(&mut self, appid: &str) -> StoreResult<Option<PushConfig>> {
        let found: Option<Option<PushConfig>> = self.query_one(
            "SELECT push_url, push_token, push_aes_key, push_mode FROM apps WHERE appid = ?1",
            [appid],
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
        // Account by account and state by state, each in id order on `outbox_due_by_app`:
        // another account's backlog of undeliverable events is never walked.
        let pushing: Vec<String> = self.query_all(
            "SELECT appid FROM apps WHERE push_url IS NOT NULL",
            [],
            |row| row.get(0),
        )?;
        let mut candidates: Vec<i64> = Vec::new();
        for appid in &pushing {
            for status in ["pending", "retrying"] {
                candidates.extend(self.query_all(
                    "SELECT id FROM outbox INDEXED BY outbox_due_by_app WHERE appid = ?1 AND status = ?2 AND next_attempt_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3) ORDER BY id LIMIT ?4",
                    params![appid, status, now, limit],
                    |row| row.get::<_, i64>(0),
                )?);
            }
        }
        candidates.sort_unstable();
        candidates.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut leased = Vec::with_capacity(candidates.len());
        for id in candidates {
            leased.extend(self.query_one(
                "UPDATE outbox SET lease_until = ?2 WHERE id = ?1 RETURNING id, appid, event, payload, created_at, status, attempts, next_attempt_at",
                params![id, lease_until],
                outbox_from_row,
            )?);
        }
        let mut due = Vec::with_capacity(leased.len());
        for event in leased {
            let Some(app) = self.app(&event.appid)? else {
                continue;
            };
            let push = self.push_config(&event.appid)?;
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
            "INSERT INTO delivery_attempts (event_id, attempt, at, url, http_status, answer, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![attempt.event_id, attempt.attempt, attempt.at, attempt.url, attempt.http_status, attempt.answer, attempt.error, attempt.duration_ms],
        )?;
        self.execute(
            "UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_at = ?4, lease_until = NULL, \
             delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 ELSE delivered_at END WHERE id = ?1",
            params![attempt.event_id, status, attempt.attempt, next_attempt_at, attempt.at],
        )?;
        Ok(())
    }

    fn requeue_event(&mut self, id: i64, now: i64) -> StoreResult<bool> {
        let changed = self.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = NULL WHERE id = ?1", params![id, now])?;
        Ok(changed == 1)
    }

    fn event(&mut self, id: i64) -> StoreResult<Option<OutboxEvent>> {
        self.query_one("SELECT id, appid, event, payload, created_at, status, attempts, next_attempt_at FROM outbox WHERE id = ?1", [id], outbox_from_row)
    }

    fn delivery_attempts(&mut self, event_id: i64) -> StoreResult<Vec<DeliveryAttempt>> {
        self.query_all(
            "SELECT event_id, attempt, at, url, http_status, answer, error, duration_ms FROM delivery_attempts WHERE event_id = ?1 ORDER BY attempt, id",
            [event_id],
            |row| {
                Ok(DeliveryAttempt {
                    event_id: row.get(0)?,
                    attempt: row.get(1)?,
                    at: row.get(2)?,
                    url: row.get(3)?,
                    http_status: row.get(4)?,
                    answer: row.get(5)?,
                    error: row.get(6)?,
                    duration_ms: row.get(7)?,
                })
            },
        )
    }

    fn insert_gift(&mut self, gift: &Gift) -> StoreResult<()> {
        self.execute(
            "INSERT INTO gifts (gift_id, user_card_id, from_user_id, status, created_at, expires_at, to_user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![gift.gift_id, gift.user_card_id, gift.from_user_id, gift.status, gift.created_at, gift.expires_at, gift.to_user_id],
        )?;
        Ok(())
    }

    fn gift(&mut self, gift_id: &str) -> StoreResult<Option<Gift>> {
        self.query_one("SELECT gift_id, user_card_id, from_user_id, status, created_at, expires_at, to_user_id FROM gifts WHERE gift_id = ?1", [gift_id], gift_from_row)
    }

    fn set_gift_status(
        &mut self,
        gift_id: &str,
        status: &str,
        to_user_id: Option<&str>,
    ) -> StoreResult<()> {
        self.execute("UPDATE gifts SET status = ?2, to_user_id = coalesce(?3, to_user_id) WHERE gift_id = ?1", params![gift_id, status, to_user_id])?;
        Ok(())
    }

    fn gifts_due(&mut self, now: i64) -> StoreResult<Vec<Gift>> {
        self.query_all(
            "SELECT gift_id, user_card_id, from_user_id, status, created_at, expires_at, to_user_id FROM gifts WHERE status = 'pending' AND expires_at <= ?1",
            [now],
            gift_from_row,
        )
    }

    fn user_card(&mut self, id: i64) -> StoreResult<Option<UserCard>> {
        self.query_one(
            concat!(
                "SELECT ",
                user_card_columns!(),
                " FROM user_cards WHERE id = ?1"
            ),
            [id],
            user_card_from_row,
        )
    }

    fn move_user_card(&mut self, id: i64, user_id: &str, openid: &str) -> StoreResult<()> {
        self.writing_codes();
        self.execute(
            "UPDATE user_cards SET user_id = ?2, openid = ?3, status = 'NORMAL' WHERE id = ?1",
            params![id, user_id, openid],
        )?;
        Ok(())
    }

    fn code_extra(&mut self, id: i64, extra: CodeExtra) -> StoreResult<Option<String>> {
        let sql = match extra {
            CodeExtra::Mark => "SELECT mark_openid FROM user_cards WHERE id = ?1",
            CodeExtra::TicketInfo => "SELECT ticket_info FROM user_cards WHERE id = ?1",
        };
        Ok(self
            .query_one(sql, [id], |row| row.get::<_, Option<String>>(0))?
            .flatten())
    }

    fn set_code_extra(
        &mut self,
        id: i64,
        extra: CodeExtra,
        value: Option<&str>,
    ) -> StoreResult<()> {
        let sql = match extra {
            CodeExtra::Mark => "UPDATE user_cards SET mark_openid = ?2 WHERE id = ?1",
            CodeExtra::TicketInfo => "UPDATE user_cards SET ticket_info = ?2 WHERE id = ?1",
        };
        self.execute(sql, params![id, value])?;
        Ok(())
    }

    fn document(&mut self, kind: Document, key: &str) -> StoreResult<Option<String>> {
        let sql = match kind {
            Document::ActivateForm => "SELECT value FROM activate_forms WHERE card_id = ?1",
            Document::Member => "SELECT value FROM members WHERE user_card_id = ?1",
            Document::ActivateTicket => "SELECT value FROM activate_tickets WHERE ticket = ?1",
            Document::ComponentSession => {
                "SELECT value FROM component_sessions WHERE session_id = ?1"
            }
            Document::FormAnswers => "SELECT value FROM form_answers WHERE user_id = ?1",
        };
        self.query_one(sql, [key], |row| row.get(0))
    }

    fn put_document(&mut self, kind: Document, key: &str, value: &str) -> StoreResult<()> {
        let sql = match kind {
            Document::ActivateForm => "INSERT INTO activate_forms (card_id, value) VALUES (?1, ?2) ON CONFLICT (card_id) DO UPDATE SET value = excluded.value",
            Document::Member => "INSERT INTO members (user_card_id, value) VALUES (?1, ?2) ON CONFLICT (user_card_id) DO UPDATE SET value = excluded.value",
            Document::ActivateTicket => "INSERT INTO activate_tickets (ticket, value) VALUES (?1, ?2) ON CONFLICT (ticket) DO UPDATE SET value = excluded.value",
            Document::ComponentSession => "INSERT INTO component_sessions (session_id, value) VALUES (?1, ?2) ON CONFLICT (session_id) DO UPDATE SET value = excluded.value",
            Document::FormAnswers => "INSERT INTO form_answers (user_id, value) VALUES (?1, ?2) ON CONFLICT (user_id) DO UPDATE SET value = excluded.value",
        };
        self.execute(sql, params![key, value])?;
        Ok(())
    }

    fn card_cells(&mut self, card_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .query_one(
                "SELECT cells FROM cards WHERE card_id = ?1",
                [card_id],
                |row| row.get::<_, Option<String>>(0),
            )?
            .flatten())
    }

    fn set_card_cells(&mut self, card_id: &str, cells: &str) -> StoreResult<()> {
        self.writing_cards();
        self.execute(
            "UPDATE cards SET cells = ?2 WHERE card_id = ?1",
            params![card_id, cells],
        )?;
        Ok(())
    }
}
