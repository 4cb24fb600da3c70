//! `store`: the only module that speaks SQL.
//!
//! The domain hands the store a synchronous closure over a [`Tx`]; the store runs it inside one
//! database transaction on a storage thread and answers after the commit. Business rules stay in
//! `domain`; SQL stays here. A closure's error rolls back everything it wrote, and nothing else.

mod closed;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::domain::events::EventFilter;
use crate::domain::model::{
    AccessToken, App, Card, CardStatus, DeliveryAttempt, DueEvent, Gift, LandingPage, LoginCode,
    OpenPlatform, OutboxEvent, PushConfig, QrCode, SignedCardExt, Ticket, TokenKind, User,
    UserCard, UserCardStatus,
};

/// The database engines wxcard can run on. Both are named even when one is compiled out, so
/// that a config asking for it gets "not compiled into this build" instead of "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One file, WAL, one writer with group commit.
    Sqlite,
    /// Several wxcard instances on one server (the `postgres` cargo feature).
    Postgres,
}

/// A storage failure with no business meaning.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value could not be read back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The storage threads have stopped.
    #[error("store is shut down")]
    Closed,
    /// Another process holds the SQLite file.
    #[error("{0} is in use by another process: one wxcard process serves a SQLite file (run several instances on PostgreSQL instead)")]
    InUse(String),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// One transaction's view of the data. Every method runs inside the caller's transaction.
pub trait Tx {
    /// The next value of a named counter, starting at 1.
    fn next_seq(&mut self, kind: &str) -> StoreResult<u64>;
    /// A bookkeeping value.
    fn meta(&mut self, key: &str) -> StoreResult<Option<String>>;
    /// Sets a bookkeeping value.
    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()>;

    /// Adds an open platform account.
    fn insert_open_platform(&mut self, open_platform: &OpenPlatform) -> StoreResult<()>;
    /// One open platform account.
    fn open_platform(&mut self, id: &str) -> StoreResult<Option<OpenPlatform>>;

    /// Adds an app.
    fn insert_app(&mut self, app: &App) -> StoreResult<()>;
    /// One app.
    fn app(&mut self, appid: &str) -> StoreResult<Option<App>>;
    /// Every app, oldest first.
    fn apps(&mut self) -> StoreResult<Vec<App>>;

    /// Adds a user.
    fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    /// One user.
    fn user(&mut self, user_id: &str) -> StoreResult<Option<User>>;
    /// Every user, oldest first.
    fn users(&mut self) -> StoreResult<Vec<User>>;

    /// Records a user's openid in an app.
    fn insert_openid(&mut self, appid: &str, user_id: &str, openid: &str) -> StoreResult<()>;
    /// A user's openids as (appid, openid).
    fn openids_of_user(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>>;
    /// The user behind an openid.
    fn user_id_by_openid(&mut self, appid: &str, openid: &str) -> StoreResult<Option<String>>;
    /// Records a user's unionid in an open platform account; false when the user already has
    /// one there (nothing is written, and the transaction stays usable on every engine).
    fn insert_unionid(
        &mut self,
        open_platform_id: &str,
        user_id: &str,
        unionid: &str,
    ) -> StoreResult<bool>;
    /// A user's unionids as (open platform id, unionid).
    fn unionids_of_user(&mut self, user_id: &str) -> StoreResult<Vec<(String, String)>>;

    /// Adds an access_token.
    fn insert_access_token(&mut self, token: &AccessToken) -> StoreResult<()>;
    /// One access_token.
    fn access_token(&mut self, token: &str) -> StoreResult<Option<AccessToken>>;
    /// The newest token of an app and kind.
    fn latest_access_token(
        &mut self,
        appid: &str,
        kind: TokenKind,
    ) -> StoreResult<Option<AccessToken>>;
    /// Starts the grace period (ending at `until`) of every live, unrevoked token of an app and
    /// kind; returns the tokens it revoked.
    fn revoke_access_tokens(
        &mut self,
        appid: &str,
        kind: TokenKind,
        now: i64,
        until: i64,
    ) -> StoreResult<Vec<String>>;

    /// Adds a ticket.
    fn insert_ticket(&mut self, ticket: &Ticket) -> StoreResult<()>;
    /// The newest ticket of an app and type.
    fn latest_ticket(
        &mut self,
        appid: &str,
        ticket_type: crate::domain::model::TicketType,
    ) -> StoreResult<Option<Ticket>>;

    /// An app's newest tickets of a type, newest first.
    fn recent_tickets(
        &mut self,
        appid: &str,
        ticket_type: crate::domain::model::TicketType,
        limit: u32,
    ) -> StoreResult<Vec<Ticket>>;
    /// Adds a `wx.login` code.
    fn insert_login_code(&mut self, code: &LoginCode) -> StoreResult<()>;
    /// One `wx.login` code.
    fn login_code(&mut self, code: &str) -> StoreResult<Option<LoginCode>>;
    /// Marks a `wx.login` code as exchanged.
    fn mark_login_code_used(&mut self, code: &str, at: i64) -> StoreResult<()>;

    /// Adds a card template.
    fn insert_card(&mut self, card: &Card) -> StoreResult<()>;
    /// One card template.
    fn card(&mut self, card_id: &str) -> StoreResult<Option<Card>>;
    /// One card template for what does not depend on its stock: its `quantity`, and the
    /// `update_time` a stock change sets, may be any recent value (a claim's stock change
    /// leaves cached copies alone). [`Tx::stock`] is exact.
    fn card_facts(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        self.card(card_id)
    }
    /// [`Tx::card_facts`] for a claim (writers only). An engine whose writers run side by side
    /// also locks the card's row until the transaction ends, so that the claims of one card
    /// follow each other and each statement after the lock sees the claims before it: the
    /// stock and get_limit then hold by that lock, at `READ COMMITTED`.
    fn lock_card_facts(&mut self, card_id: &str) -> StoreResult<Option<Card>> {
        self.card_facts(card_id)
    }
    /// A card's remaining stock.
    fn stock(&mut self, card_id: &str) -> StoreResult<Option<i64>> {
        Ok(self.card(card_id)?.map(|card| card.quantity))
    }
    /// Writes every field of a card template back.
    fn update_card(&mut self, card: &Card) -> StoreResult<()>;
    /// A page of an app's card ids (oldest first) in the given states (all when empty), and
    /// how many match in all.
    fn card_ids_of_app(
        &mut self,
        appid: &str,
        statuses: &[CardStatus],
        offset: u64,
        count: u64,
    ) -> StoreResult<(Vec<String>, u64)>;
    /// Cards whose pending review decides itself at or before `now`.
    fn cards_due_for_review(&mut self, now: i64) -> StoreResult<Vec<Card>>;

    /// Replaces an app's test whitelist.
    fn set_whitelist(
        &mut self,
        appid: &str,
        openids: &[String],
        usernames: &[String],
    ) -> StoreResult<()>;
    /// An app's test whitelist as (kind, value), kind `openid` or `username`.
    fn whitelist(&mut self, appid: &str) -> StoreResult<Vec<(String, String)>>;

    /// Adds a QR code.
    fn insert_qrcode(&mut self, qrcode: &QrCode) -> StoreResult<()>;
    /// One QR code, by its ticket or the short id in its url.
    fn qrcode(&mut self, ticket_or_url_id: &str) -> StoreResult<Option<QrCode>>;
    /// The app with this original id (`gh_…`).
    fn app_by_original_id(&mut self, original_id: &str) -> StoreResult<Option<App>>;

    /// Adds a landing page.
    fn insert_landing_page(&mut self, page: &LandingPage) -> StoreResult<()>;
    /// One landing page.
    fn landing_page(&mut self, page_id: i64) -> StoreResult<Option<LandingPage>>;

    /// Adds an event to the outbox, its payload given as JSON text. An engine may send the
    /// write with the transaction's next statement; a failure then fails the transaction.
    fn insert_event(
        &mut self,
        appid: &str,
        event: &str,
        payload: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Outbox events, newest first.
    fn events(&mut self, filter: &EventFilter) -> StoreResult<Vec<OutboxEvent>>;

    /// Adds a code to a user's card package; returns its row id.
    fn insert_user_card(&mut self, user_card: &UserCard) -> StoreResult<i64>;
    /// The codes of an app with this code string, of one card when `card_id` is given.
    fn user_cards_by_code(
        &mut self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
    ) -> StoreResult<Vec<UserCard>>;
    /// Sets a code's state (and when it was consumed). Like `insert_event`, an engine may send
    /// the write with the transaction's next statement.
    fn set_user_card_status(
        &mut self,
        id: i64,
        status: UserCardStatus,
        consumed_at: Option<i64>,
    ) -> StoreResult<()>;
    /// Changes a code's code string.
    fn set_user_card_code(&mut self, id: i64, code: &str) -> StoreResult<()>;
    /// Every code a user holds or held, oldest first.
    fn user_cards_of_user(&mut self, user_id: &str) -> StoreResult<Vec<UserCard>>;
    /// A user's openid in one app.
    fn openid_of(&mut self, appid: &str, user_id: &str) -> StoreResult<Option<String>>;
    /// A user's unionid in one open platform account.
    fn unionid_of(&mut self, open_platform_id: &str, user_id: &str) -> StoreResult<Option<String>>;
    /// Takes one from a card's stock (and touches its update_time); false when none is left.
    fn take_stock(&mut self, card_id: &str, now: i64) -> StoreResult<bool>;
    /// The apps whose `wx.login` codes of this user were exchanged by `/sns/jscode2session`.
    fn login_apps_of_user(&mut self, user_id: &str) -> StoreResult<Vec<String>>;
    /// How many codes of a card a user ever received.
    fn count_user_cards(&mut self, user_id: &str, card_id: &str) -> StoreResult<u64>;
    /// Whether a card already has this code (issued or deposited).
    fn code_in_use(&mut self, card_id: &str, code: &str) -> StoreResult<bool>;
    /// Whether any card of the app has issued this code.
    fn code_issued_in_app(&mut self, appid: &str, code: &str) -> StoreResult<bool>;

    /// Deposits codes for a card; returns the ones that were already deposited.
    fn deposit_codes(&mut self, card_id: &str, codes: &[String]) -> StoreResult<Vec<String>>;
    /// How many codes were ever deposited for a card.
    fn deposited_count(&mut self, card_id: &str) -> StoreResult<u64>;
    /// How many deposited codes of a card are not handed out yet.
    fn deposited_available(&mut self, card_id: &str) -> StoreResult<u64>;
    /// Which of these codes were deposited for a card.
    fn deposited_among(&mut self, card_id: &str, codes: &[String]) -> StoreResult<Vec<String>>;
    /// Takes a deposited code not yet issued, marking it issued.
    fn take_deposited_code(&mut self, card_id: &str) -> StoreResult<Option<String>>;

    /// Records a cardExt as used; false when it was used before.
    fn use_card_ext(
        &mut self,
        card_id: &str,
        card_ext: &SignedCardExt,
        now: i64,
    ) -> StoreResult<bool>;

    /// Stores an app's push configuration.
    fn set_push_config(&mut self, appid: &str, push: &PushConfig) -> StoreResult<()>;
    /// An app's push configuration.
    fn push_config(&mut self, appid: &str) -> StoreResult<Option<PushConfig>>;
    /// Leases up to `limit` events due at `now` (pending or retrying, not leased) of accounts
    /// that have a push URL, until `lease_until`, oldest first, with where to deliver them.
    /// Events of accounts without one wait, without holding up the others.
    fn lease_due_events(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueEvent>>;
    /// Records a delivery attempt and the event's new state.
    fn finish_attempt(
        &mut self,
        attempt: &DeliveryAttempt,
        status: &str,
        next_attempt_at: i64,
    ) -> StoreResult<()>;
    /// Puts an event back in the queue with fresh attempts; false when there is no such event.
    fn requeue_event(&mut self, id: i64, now: i64) -> StoreResult<bool>;
    /// One event.
    fn event(&mut self, id: i64) -> StoreResult<Option<OutboxEvent>>;
    /// An event's delivery attempts, first first.
    fn delivery_attempts(&mut self, event_id: i64) -> StoreResult<Vec<DeliveryAttempt>>;

    /// Adds a gift.
    fn insert_gift(&mut self, gift: &Gift) -> StoreResult<()>;
    /// One gift.
    fn gift(&mut self, gift_id: &str) -> StoreResult<Option<Gift>>;
    /// Sets a gift's state and receiver.
    fn set_gift_status(
        &mut self,
        gift_id: &str,
        status: &str,
        to_user_id: Option<&str>,
    ) -> StoreResult<()>;
    /// Pending gifts whose time ran out at `now`.
    fn gifts_due(&mut self, now: i64) -> StoreResult<Vec<Gift>>;
    /// One code by its row id.
    fn user_card(&mut self, id: i64) -> StoreResult<Option<UserCard>>;
    /// Gives a code row to another user (custom and deposited codes keep their code on a gift).
    fn move_user_card(&mut self, id: i64, user_id: &str, openid: &str) -> StoreResult<()>;

    /// A per-code extra (the friends'-coupon mark, ticket details as JSON).
    fn code_extra(&mut self, id: i64, extra: CodeExtra) -> StoreResult<Option<String>>;
    /// Sets or clears a per-code extra.
    fn set_code_extra(&mut self, id: i64, extra: CodeExtra, value: Option<&str>)
        -> StoreResult<()>;
    /// A JSON document of `kind` by its key.
    fn document(&mut self, kind: Document, key: &str) -> StoreResult<Option<String>>;
    /// Creates or replaces a JSON document of `kind`.
    fn put_document(&mut self, kind: Document, key: &str, value: &str) -> StoreResult<()>;
    /// A card's pay and self-consume cells, as JSON.
    fn card_cells(&mut self, card_id: &str) -> StoreResult<Option<String>>;
    /// Sets a card's pay and self-consume cells.
    fn set_card_cells(&mut self, card_id: &str, cells: &str) -> StoreResult<()>;
}

/// `url` with wxcard kept in schema `schema` (created when missing by the PostgreSQL engine):
/// how tests, benchmarks and several deployments share one database.
#[must_use]
pub fn database_url_in_schema(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

/// JSON documents looked up by key only, each kind in a table of its own; the domain owns
/// their shape (`domain::members`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A card's activation form, by card_id.
    ActivateForm,
    /// A member's state, by the code row's id.
    Member,
    /// An activate_ticket, by the ticket.
    ActivateTicket,
    /// A card-opening component session, by its id.
    ComponentSession,
    /// A user's earlier form answers, by user_id.
    FormAnswers,
}

/// Per-code extras kept beside a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeExtra {
    /// The openid a friends' coupon is marked for.
    Mark,
    /// Ticket details (movie, boarding pass, meeting) as JSON.
    TicketInfo,
}

/// What a finished job tells the storage thread: whether to roll its writes back, and how to
/// answer its caller once the transaction's fate is known.
pub struct JobOutcome {
    /// Roll back this job's writes (its closure failed).
    pub rollback: bool,
    /// Called with the commit's result; sends the job's answer to its caller.
    pub complete: Box<dyn FnOnce(StoreResult<()>) + Send>,
}

impl fmt::Debug for JobOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobOutcome")
            .field("rollback", &self.rollback)
            .finish_non_exhaustive()
    }
}

/// A unit of work for a storage thread. An engine may run it more than once: when a
/// transaction has to be retried (a PostgreSQL serialization failure), the job runs again
/// from the start and only the outcome of the run that committed answers its caller.
pub type Job = Box<dyn FnMut(&mut dyn Tx) -> JobOutcome + Send>;

/// A database. Held as `Arc<dyn Store>`; see [`write`] and [`read`] for the typed entry points.
pub trait Store: Send + Sync + 'static {
    /// Queues a job that may write; it runs in a transaction that commits before it answers.
    fn submit_write(&self, job: Job);
    /// Queues a write job whose rules hold by the row locks it takes itself (`FOR UPDATE`,
    /// an `UPDATE … WHERE id`), so that it need not be checked against the other writers: the
    /// outbox's leases, and claims, which lock their card first ([`Tx::lock_card_facts`]).
    /// An engine that runs writers one at a time treats it as any write.
    fn submit_row_locked_write(&self, job: Job) {
        self.submit_write(job);
    }
    /// Queues a write job to run where writes run one at a time (where a job that conflicted
    /// runs again), instead of beside the other writers. An engine with one writer treats it
    /// as any write. No caller needs it now that claims lock their card; the conformance
    /// tests reach that path with it.
    fn submit_alone_write(&self, job: Job) {
        self.submit_write(job);
    }
    /// Queues a job that only reads, on a reader connection.
    fn submit_read(&self, job: Job);
    /// Which engine this is.
    fn engine(&self) -> Engine;
}

impl fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({:?})", self.engine())
    }
}

/// What a job's work may answer: anything that can travel to another thread.
pub trait Reply: Send + 'static {}
impl<T: Send + 'static> Reply for T {}

/// What a job's work may fail with: its own error, which a storage failure converts into.
pub trait Failure: From<StoreError> + Send + 'static {}
impl<E: From<StoreError> + Send + 'static> Failure for E {}

/// A job's work: a closure over the transaction that may run more than once (a retried
/// transaction), so it touches nothing but `tx`.
pub trait Work<T, E>: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static {}
impl<T, E, F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static> Work<T, E> for F {}

/// Runs `work` in a write transaction and returns its result once the transaction committed.
/// If `work` fails, its writes are rolled back and its error returned.
pub fn write<T: Reply, E: Failure>(store: &dyn Store, work: impl Work<T, E>) -> Answer<T, E> {
    queued(work, |job| store.submit_write(job))
}

/// [`write`] for work whose rules hold by the row locks its statements take (see
/// [`Store::submit_row_locked_write`]).
pub fn write_row_locked<T: Reply, E: Failure>(
    store: &dyn Store,
    work: impl Work<T, E>,
) -> Answer<T, E> {
    queued(work, |job| store.submit_row_locked_write(job))
}

/// [`write`] for work to run alone (see [`Store::submit_alone_write`]).
#[cfg(test)]
pub(crate) fn write_alone<T: Reply, E: Failure>(
    store: &dyn Store,
    work: impl Work<T, E>,
) -> Answer<T, E> {
    queued(work, |job| store.submit_alone_write(job))
}

/// Runs `work` against a consistent snapshot on a reader connection.
pub fn read<T: Reply, E: Failure>(store: &dyn Store, work: impl Work<T, E>) -> Answer<T, E> {
    queued(work, |job| store.submit_read(job))
}

/// Makes a job of `work`, hands it to `submit` and returns its answer.
fn queued<T: Reply, E: Failure>(work: impl Work<T, E>, submit: impl FnOnce(Job)) -> Answer<T, E> {
    let (job, answer) = job(work);
    submit(job);
    answer
}

/// The answer of a queued job.
pub type Answer<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

fn job<T: Reply, E: Failure>(work: impl Work<T, E>) -> (Job, Answer<T, E>) {
    let (sender, receiver) = oneshot::channel::<Result<T, E>>();
    // Shared by the outcomes of every run: the one that is completed takes it.
    let sender = Arc::new(Mutex::new(Some(sender)));
    let mut work = work;
    let job: Job = Box::new(move |tx: &mut dyn Tx| {
        let result = work(tx);
        let sender = Arc::clone(&sender);
        JobOutcome {
            rollback: result.is_err(),
            complete: Box::new(move |committed: StoreResult<()>| {
                let answer = match committed {
                    Ok(()) => result,
                    Err(error) => Err(E::from(error)),
                };
                let taken = sender
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                // The caller may have gone away (a dropped request); nothing to tell then.
                if let Some(sender) = taken {
                    let _ = sender.send(answer);
                }
            }),
        }
    });
    let answer = Box::pin(async move {
        receiver
            .await
            .unwrap_or_else(|_| Err(E::from(StoreError::Closed)))
    });
    (job, answer)
}
