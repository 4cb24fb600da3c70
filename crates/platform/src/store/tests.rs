//! Conformance of the storage engines: what every `Store` must do, whatever the engine.

use std::collections::HashSet;
use std::sync::Arc;

use crate::domain::model::{
    App, AppKind, Card, CardStatus, DeliveryAttempt, OpenPlatform, PushConfig, SignedCardExt,
    Ticket, TicketType, User, UserCard, UserCardStatus,
};
use crate::store::sqlite::{migrate_until, Durability, SqliteOptions, SqliteStore};
use crate::store::{self, Store, StoreError, Tx};

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("wxcard-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &TempDir) -> Arc<dyn Store> {
    open_with(dir, Durability::Normal)
}

fn open_with(dir: &TempDir, durability: Durability) -> Arc<dyn Store> {
    SqliteStore::open(&SqliteOptions {
        path: dir.0.join("store.db"),
        readers: 2,
        max_batch: 64,
        durability,
    })
    .unwrap()
}

fn app(appid: &str) -> App {
    App {
        appid: appid.into(),
        secret: "s".into(),
        kind: AppKind::ServiceAccount,
        name: "n".into(),
        original_id: format!("gh_{appid}"),
        open_platform_id: None,
        created_at: 0,
    }
}

#[derive(Debug, thiserror::Error)]
enum TestError {
    #[error("refused on purpose")]
    Refused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The PostgreSQL engine on a schema of its own (`WXCARD_TEST_DATABASE_URL`, set by `.ci/run`).
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conforms() {
    let url = std::env::var("WXCARD_TEST_DATABASE_URL")
        .expect("a build with the postgres feature needs WXCARD_TEST_DATABASE_URL");
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    let store: Arc<dyn Store> =
        crate::store::postgres::PostgresStore::open(&crate::store::postgres::PostgresOptions {
            url: store::database_url_in_schema(&url, &format!("conformance_{started}")),
            readers: 2,
            writers: 4,
            max_batch: 64,
        })
        .unwrap();
    conformance(Arc::clone(&store)).await;
    a_job_that_goes_on_after_a_failed_statement_is_told_its_writes_are_gone(&store).await;
}

/// PostgreSQL only: a failed statement aborts the transaction up to the job's savepoint, so a
/// job that ignores the failure and returns success must not be told its writes committed.
/// (SQLite keeps a transaction usable after a failed statement, so there they do commit.)
#[cfg(feature = "postgres")]
async fn a_job_that_goes_on_after_a_failed_statement_is_told_its_writes_are_gone(
    store: &Arc<dyn Store>,
) {
    store::write(&**store, |tx: &mut dyn Tx| tx.insert_app(&app("wxtaken")))
        .await
        .unwrap();
    let (neighbour, swallowing) = tokio::join!(
        store::write(&**store, |tx: &mut dyn Tx| tx.set_meta("neighbour", "kept")),
        store::write(&**store, |tx: &mut dyn Tx| {
            tx.set_meta("swallower", "written")?;
            let _ignored = tx.insert_app(&app("wxtaken"));
            Ok::<_, StoreError>(())
        }),
    );

    assert!(neighbour.is_ok(), "{neighbour:?}");
    assert!(swallowing.is_err(), "the job was told its writes committed");
    let (kept, gone) = store::read(&**store, |tx: &mut dyn Tx| {
        Ok::<_, StoreError>((tx.meta("neighbour")?, tx.meta("swallower")?))
    })
    .await
    .unwrap();
    assert_eq!((kept.as_deref(), gone), (Some("kept"), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms() {
    let dir = TempDir::new("conformance");
    conformance(open(&dir)).await;
}

/// The default durability answers each write after an fsync on a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conforms_when_each_answer_waits_for_an_fsync() {
    let dir = TempDir::new("conformance-full");
    conformance(open_with(&dir, Durability::Full)).await;
}

/// Every engine runs these checks.
async fn conformance(store: Arc<dyn Store>) {
    concurrent_writes_each_commit_exactly_once(&store).await;
    concurrent_read_modify_writes_lose_no_update(&store).await;
    a_failing_job_rolls_back_only_its_own_writes(&store).await;
    a_job_that_panics_after_writing_leaves_nothing_and_stops_no_other(&store).await;
    a_lone_job_that_panics_after_writing_leaves_the_store_writable(&store).await;
    constraint_violations_are_conflicts(&store).await;
    reads_see_committed_writes(&store).await;
    a_card_read_after_an_update_commits_shows_the_update(&store).await;
    card_reads_racing_updates_end_on_the_last_update(&store).await;
    code_lookups_show_every_committed_change_to_a_code(&store).await;
    account_reads_show_every_committed_account_write(&store).await;
    card_facts_follow_every_card_write_and_stock_stays_exact(&store).await;
    a_job_reads_its_own_writes_and_they_share_its_fate(&store).await;
    leases_take_the_oldest_due_events_of_pushing_accounts(&store).await;
    a_card_ext_works_once(&store).await;
}

fn card_ext(timestamp: i64, nonce_str: &str, signature: &str) -> SignedCardExt {
    SignedCardExt {
        timestamp,
        nonce_str: nonce_str.to_owned(),
        signature: signature.to_owned(),
    }
}

/// Whether `use_card_ext` took this cardExt of card `pcardext` as unused.
async fn first_use(store: &Arc<dyn Store>, card_ext: SignedCardExt) -> bool {
    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.use_card_ext("pcardext", &card_ext, 1_700_000_000)
    })
    .await
    .unwrap()
}

/// The replay check of jsapi.md §8 step 5: a cardExt works once, and cardExts that share a
/// timestamp and nonce_str but differ in a signed value (so in their signature) are two.
async fn a_card_ext_works_once(store: &Arc<dyn Store>) {
    assert!(first_use(store, card_ext(1_700_000_000, "n1", "sig-a")).await);
    assert!(!first_use(store, card_ext(1_700_000_000, "n1", "sig-a")).await);
    assert!(first_use(store, card_ext(1_700_000_000, "n1", "sig-b")).await);
    assert!(first_use(store, card_ext(1_700_000_000, "", "sig-c")).await);
    assert!(!first_use(store, card_ext(1_700_000_000, "", "sig-c")).await);
}

/// Jobs that read a value and write it back changed, with no lock of their own, as the domain
/// does with stock: whatever the engine runs side by side, none may overwrite another's write.
/// Every fourth job goes where writes run one at a time (as claims do), between the others.
async fn concurrent_read_modify_writes_lose_no_update(store: &Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for index in 0..200 {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            let work = |tx: &mut dyn Tx| {
                let seen: u32 = tx
                    .meta("read-modify-write")?
                    .map_or(0, |text| text.parse().unwrap_or(0));
                tx.set_meta("read-modify-write", &(seen + 1).to_string())
            };
            if index % 4 == 0 {
                store::write_alone(&*store, work).await
            } else {
                store::write(&*store, work).await
            }
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let total = store::read(&**store, |tx: &mut dyn Tx| tx.meta("read-modify-write"))
        .await
        .unwrap();
    assert_eq!(total.as_deref(), Some("200"));
}

async fn concurrent_writes_each_commit_exactly_once(store: &Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            store::write(&*store, |tx: &mut dyn Tx| tx.next_seq("exactly-once")).await
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        assert!(
            seen.insert(task.await.unwrap().unwrap()),
            "a sequence number was handed out twice"
        );
    }

    assert_eq!(seen, (1..=500).collect::<HashSet<u64>>());
}

async fn a_failing_job_rolls_back_only_its_own_writes(store: &Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for index in 0..200 {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            store::write(&*store, move |tx: &mut dyn Tx| {
                tx.set_meta(&format!("job-{index}"), "written")?;
                if index % 3 == 0 {
                    return Err(TestError::Refused);
                }
                Ok(())
            })
            .await
        }));
    }
    for (index, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().is_err(), index % 3 == 0);
    }

    let kept = store::read(&**store, |tx: &mut dyn Tx| {
        let mut kept = Vec::new();
        for index in 0..200 {
            kept.push(tx.meta(&format!("job-{index}"))?.is_some());
        }
        Ok::<_, StoreError>(kept)
    })
    .await
    .unwrap();
    for (index, kept) in kept.into_iter().enumerate() {
        assert_eq!(kept, index % 3 != 0, "job {index}");
    }
}

/// A panic inside a job (a bug) must not take the storage thread down, keep the job's writes,
/// or lose the writes of the jobs that share its transaction.
async fn a_job_that_panics_after_writing_leaves_nothing_and_stops_no_other(store: &Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for index in 0..60 {
        let store = Arc::clone(store);
        tasks.push(tokio::spawn(async move {
            store::write(&*store, move |tx: &mut dyn Tx| {
                tx.set_meta(&format!("panic-{index}"), "written")?;
                assert!(index % 20 != 7, "job {index} fails on purpose");
                Ok::<_, StoreError>(())
            })
            .await
        }));
    }
    for (index, task) in tasks.into_iter().enumerate() {
        let answer = task.await.unwrap();
        assert_eq!(answer.is_err(), index % 20 == 7, "job {index}: {answer:?}");
    }

    let kept = store::read(&**store, |tx: &mut dyn Tx| {
        (0..60)
            .map(|index| Ok(tx.meta(&format!("panic-{index}"))?.is_some()))
            .collect::<Result<Vec<bool>, StoreError>>()
    })
    .await
    .unwrap();
    for (index, kept) in kept.into_iter().enumerate() {
        assert_eq!(kept, index % 20 != 7, "job {index}");
    }
}

/// The same panic in a job that has its transaction to itself.
async fn a_lone_job_that_panics_after_writing_leaves_the_store_writable(store: &Arc<dyn Store>) {
    let panicked = store::write(&**store, |tx: &mut dyn Tx| {
        tx.set_meta("lone-panic", "written")?;
        assert!(tx.meta("never-set")?.is_some(), "this job fails on purpose");
        Ok::<_, StoreError>(())
    })
    .await;
    assert!(panicked.is_err(), "{panicked:?}");

    let after = store::write(&**store, |tx: &mut dyn Tx| {
        tx.set_meta("after-lone-panic", "written")
    })
    .await;

    assert!(after.is_ok(), "{after:?}");
    let kept = store::read(&**store, |tx: &mut dyn Tx| {
        Ok::<_, StoreError>((tx.meta("lone-panic")?, tx.meta("after-lone-panic")?))
    })
    .await
    .unwrap();
    assert_eq!(kept, (None, Some("written".to_owned())));
}

async fn constraint_violations_are_conflicts(store: &Arc<dyn Store>) {
    store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_app(&app("wxconflict"))
    })
    .await
    .unwrap();

    let again = store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_app(&app("wxconflict"))
    })
    .await;

    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

async fn reads_see_committed_writes(store: &Arc<dyn Store>) {
    store::write(&**store, |tx: &mut dyn Tx| tx.insert_app(&app("wxvisible")))
        .await
        .unwrap();

    let found = store::read(&**store, |tx: &mut dyn Tx| tx.app("wxvisible"))
        .await
        .unwrap();

    assert_eq!(found, Some(app("wxvisible")));
}

#[tokio::test]
async fn sqlite_keeps_committed_data_across_a_reopen() {
    let dir = TempDir::new("reopen");
    {
        let store = open(&dir);
        store::write(&*store, |tx: &mut dyn Tx| tx.set_meta("kept", "yes"))
            .await
            .unwrap();
    }

    let reopened = open(&dir);
    let value = store::read(&*reopened, |tx: &mut dyn Tx| tx.meta("kept"))
        .await
        .unwrap();

    assert_eq!(value.as_deref(), Some("yes"));
}

/// Migration 0012 re-keys the used cardExts by timestamp; the rows it keeps from before carry
/// none, and a claim must still find them by signature.
#[tokio::test]
async fn sqlite_refuses_a_card_ext_used_before_migration_0012() {
    let dir = TempDir::new("card-ext-0012");
    let path = dir.0.join("store.db");
    {
        let connection = migrate_until(&path, "0012_card_ext_in_time_order").unwrap();
        connection
            .execute(
                "INSERT INTO used_card_ext (card_id, signature, used_at) VALUES ('pcardext', 'sig-before', 1)",
                [],
            )
            .unwrap();
    }

    let store = open(&dir);

    assert!(!first_use(&store, card_ext(1_600_000_000, "n0", "sig-before")).await);
    assert!(first_use(&store, card_ext(1_600_000_000, "n0", "sig-after")).await);
    assert!(!first_use(&store, card_ext(1_600_000_000, "n0", "sig-after")).await);
}

#[tokio::test]
async fn a_read_job_cannot_write() {
    let dir = TempDir::new("readonly");
    let store = open(&dir);

    let attempt = store::read(&*store, |tx: &mut dyn Tx| tx.set_meta("sneaky", "write")).await;

    assert!(attempt.is_err());
}

fn card(card_id: &str, quantity: i64) -> Card {
    Card {
        card_id: card_id.into(),
        appid: "wxcards".into(),
        card_type: "GROUPON".into(),
        document: r#"{"base_info":{"title":"t"}}"#.into(),
        status: CardStatus::VerifyOk,
        quantity,
        total_quantity: quantity,
        code_mode: "system".into(),
        bind_openid: false,
        get_limit: 50,
        review_due_at: None,
        refuse_reason: None,
        create_time: 0,
        update_time: 0,
    }
}

async fn read_quantity(store: &Arc<dyn Store>, card_id: &'static str) -> i64 {
    store::read(&**store, move |tx: &mut dyn Tx| tx.card(card_id))
        .await
        .unwrap()
        .unwrap()
        .quantity
}

async fn a_card_read_after_an_update_commits_shows_the_update(store: &Arc<dyn Store>) {
    store::write(&**store, |tx: &mut dyn Tx| tx.insert_app(&app("wxcards")))
        .await
        .unwrap();
    store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_card(&card("pcached", 10))
    })
    .await
    .unwrap();
    // Read twice so that an engine with a read cache has the card cached.
    assert_eq!(read_quantity(store, "pcached").await, 10);
    assert_eq!(read_quantity(store, "pcached").await, 10);

    store::write(&**store, |tx: &mut dyn Tx| {
        tx.update_card(&card("pcached", 7))
    })
    .await
    .unwrap();

    assert_eq!(read_quantity(store, "pcached").await, 7);
}

async fn card_reads_racing_updates_end_on_the_last_update(store: &Arc<dyn Store>) {
    store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_card(&card("pracing", 0))
    })
    .await
    .unwrap();
    let mut readers = Vec::new();
    for _ in 0..4 {
        let store = Arc::clone(store);
        readers.push(tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..200 {
                let quantity = read_quantity(&store, "pracing").await;
                assert!(
                    quantity >= last,
                    "a read went back in time: {quantity} after {last}"
                );
                last = quantity;
            }
        }));
    }
    for quantity in 1..=100 {
        store::write(&**store, move |tx: &mut dyn Tx| {
            tx.update_card(&card("pracing", quantity))
        })
        .await
        .unwrap();
    }
    for reader in readers {
        reader.await.unwrap();
    }

    assert_eq!(read_quantity(store, "pracing").await, 100);
}

/// What a code lookup answers now: (status, code, user_id) of each match.
async fn lookup(
    store: &Arc<dyn Store>,
    code: &'static str,
) -> Vec<(UserCardStatus, String, String)> {
    store::read(&**store, move |tx: &mut dyn Tx| {
        tx.user_cards_by_code("wxcards", code, None)
    })
    .await
    .unwrap()
    .into_iter()
    .map(|found| (found.status, found.code, found.user_id))
    .collect()
}

/// Looks a code up twice, so that an engine with a read cache answers the second from it.
async fn lookup_twice(
    store: &Arc<dyn Store>,
    code: &'static str,
) -> Vec<(UserCardStatus, String, String)> {
    let first = lookup(store, code).await;
    assert_eq!(
        lookup(store, code).await,
        first,
        "two reads of {code} differ"
    );
    first
}

fn user(user_id: &str) -> User {
    User {
        user_id: user_id.into(),
        nickname: user_id.into(),
        profile: std::collections::BTreeMap::new(),
        client_os: "ios".into(),
        client_version: "8.0.50".into(),
        base_library: "3.5.0".into(),
        created_at: 0,
    }
}

/// A usable code of a card of `wxcards`, held for ever.
fn held_code(card_id: &str, code: &str, user_id: &str, openid: &str) -> UserCard {
    UserCard {
        id: 0,
        card_id: card_id.into(),
        appid: "wxcards".into(),
        code: code.into(),
        user_id: user_id.into(),
        openid: openid.into(),
        status: UserCardStatus::Normal,
        begin_time: 0,
        end_time: i64::MAX,
        outer_str: None,
        claimed_at: 0,
        consumed_at: None,
    }
}

async fn code_lookups_show_every_committed_change_to_a_code(store: &Arc<dyn Store>) {
    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.insert_card(&card("pcodes", 10))?;
        tx.insert_user(&user("u-giver"))?;
        tx.insert_user(&user("u-friend"))
    })
    .await
    .unwrap();
    let held = held_code("pcodes", "111122223333", "u-giver", "o-giver");
    let normal = (
        UserCardStatus::Normal,
        "111122223333".to_owned(),
        "u-giver".to_owned(),
    );

    // A miss is an answer too: it must not outlive the insert.
    assert_eq!(lookup_twice(store, "111122223333").await, vec![]);
    let id = store::write(&**store, move |tx: &mut dyn Tx| tx.insert_user_card(&held))
        .await
        .unwrap();
    assert_eq!(lookup_twice(store, "111122223333").await, vec![normal]);

    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.set_user_card_status(id, UserCardStatus::Gifting, None)
    })
    .await
    .unwrap();
    assert_eq!(
        lookup_twice(store, "111122223333").await[0].0,
        UserCardStatus::Gifting
    );

    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.move_user_card(id, "u-friend", "o-friend")
    })
    .await
    .unwrap();
    assert_eq!(
        lookup_twice(store, "111122223333").await,
        vec![(
            UserCardStatus::Normal,
            "111122223333".to_owned(),
            "u-friend".to_owned()
        )]
    );

    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.set_user_card_code(id, "444455556666")
    })
    .await
    .unwrap();
    assert_eq!(lookup(store, "111122223333").await, vec![]);
    assert_eq!(lookup_twice(store, "444455556666").await.len(), 1);

    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.set_user_card_status(id, UserCardStatus::Consumed, Some(1))
    })
    .await
    .unwrap();
    assert_eq!(
        lookup(store, "444455556666").await[0].0,
        UserCardStatus::Consumed
    );
}

/// Reads twice, so that an engine with a read cache answers the second from it.
async fn read_twice<T, F>(store: &Arc<dyn Store>, read: F) -> T
where
    T: PartialEq + std::fmt::Debug + Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<T, StoreError> + Clone + Send + 'static,
{
    let first = store::read(&**store, read.clone()).await.unwrap();
    let second = store::read(&**store, read).await.unwrap();
    assert_eq!(first, second, "two reads differ");
    first
}

/// Everything the account reads answer (apps, users, openids, unionids, tickets), before
/// and after each kind of write, read by readers and by the writer after its own write.
async fn account_reads_show_every_committed_account_write(store: &Arc<dyn Store>) {
    let user = User {
        user_id: "u-accounts".into(),
        nickname: "accounts".into(),
        profile: std::collections::BTreeMap::new(),
        client_os: "ios".into(),
        client_version: "8.0.50".into(),
        base_library: "3.5.0".into(),
        created_at: 0,
    };
    let ticket = |n: i64| Ticket {
        ticket: format!("ticket-{n}"),
        appid: "wxaccounts".into(),
        ticket_type: TicketType::WxCard,
        issued_at: n,
        expires_at: n + 7200,
    };
    let app_of = |tx: &mut dyn Tx| tx.app("wxaccounts").map(|app| app.map(|app| app.name));
    let user_of = |tx: &mut dyn Tx| tx.user("u-accounts").map(|user| user.map(|u| u.nickname));
    let ids_of = |tx: &mut dyn Tx| {
        Ok((
            tx.openids_of_user("u-accounts")?,
            tx.openid_of("wxaccounts", "u-accounts")?,
            tx.unionids_of_user("u-accounts")?,
            tx.unionid_of("op_accounts", "u-accounts")?,
        ))
    };
    let tickets_of = |tx: &mut dyn Tx| {
        tx.recent_tickets("wxaccounts", TicketType::WxCard, 3)
            .map(|tickets| tickets.into_iter().map(|t| t.ticket).collect::<Vec<_>>())
    };

    // Misses are answers too: none may outlive the write that fills it.
    assert_eq!(read_twice(store, app_of).await, None);
    assert_eq!(read_twice(store, user_of).await, None);
    assert_eq!(
        read_twice(store, ids_of).await,
        (vec![], None, vec![], None)
    );
    assert_eq!(read_twice(store, tickets_of).await, Vec::<String>::new());

    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.insert_open_platform(&OpenPlatform {
            id: "op_accounts".into(),
            name: "accounts".into(),
            created_at: 0,
        })?;
        tx.insert_app(&App {
            open_platform_id: Some("op_accounts".into()),
            ..app("wxaccounts")
        })?;
        tx.insert_user(&user)
    })
    .await
    .unwrap();
    assert_eq!(read_twice(store, app_of).await, Some("n".to_owned()));
    assert_eq!(
        read_twice(store, user_of).await,
        Some("accounts".to_owned())
    );
    assert_eq!(
        read_twice(store, ids_of).await,
        (vec![], None, vec![], None)
    );

    store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_openid("wxaccounts", "u-accounts", "o-accounts")
    })
    .await
    .unwrap();
    let openid = ("wxaccounts".to_owned(), "o-accounts".to_owned());
    assert_eq!(
        read_twice(store, ids_of).await,
        (
            vec![openid.clone()],
            Some("o-accounts".into()),
            vec![],
            None
        )
    );

    store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_unionid("op_accounts", "u-accounts", "un-accounts")
    })
    .await
    .unwrap();
    assert_eq!(
        read_twice(store, ids_of).await,
        (
            vec![openid],
            Some("o-accounts".into()),
            vec![("op_accounts".to_owned(), "un-accounts".to_owned())],
            Some("un-accounts".into())
        )
    );

    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.insert_ticket(&ticket(1))
    })
    .await
    .unwrap();
    assert_eq!(read_twice(store, tickets_of).await, vec!["ticket-1"]);
    // The writer sees its own new ticket, whatever it or a reader saw before.
    let seen_by_writer = store::write(&**store, move |tx: &mut dyn Tx| {
        let before = tickets_of(tx)?;
        tx.insert_ticket(&ticket(2))?;
        Ok::<_, StoreError>((before, tickets_of(tx)?))
    })
    .await
    .unwrap();
    assert_eq!(
        seen_by_writer,
        (
            vec!["ticket-1".to_owned()],
            vec!["ticket-2".to_owned(), "ticket-1".to_owned()]
        )
    );
    assert_eq!(
        read_twice(store, tickets_of).await,
        vec!["ticket-2", "ticket-1"]
    );
}

/// The facts of a card (all but its stock) follow every write of the card, read by readers
/// and by the writer; the stock, which claims change without refreshing the facts, is exact
/// wherever it is read.
async fn card_facts_follow_every_card_write_and_stock_stays_exact(store: &Arc<dyn Store>) {
    let facts_of = |tx: &mut dyn Tx| {
        tx.card_facts("pfacts")
            .map(|card| card.map(|card| (card.status, card.get_limit)))
    };
    let stock_of =
        |tx: &mut dyn Tx| Ok((tx.stock("pfacts")?, tx.card("pfacts")?.map(|c| c.quantity)));
    assert_eq!(read_twice(store, facts_of).await, None);
    assert_eq!(read_twice(store, stock_of).await, (None, None));

    store::write(&**store, |tx: &mut dyn Tx| {
        tx.insert_card(&card("pfacts", 2))
    })
    .await
    .unwrap();
    assert_eq!(
        read_twice(store, facts_of).await,
        Some((CardStatus::VerifyOk, 50))
    );
    assert_eq!(read_twice(store, stock_of).await, (Some(2), Some(2)));

    // A claim's stock change: the facts stay, the stock moves, for readers and the writer.
    let in_writer = store::write(&**store, move |tx: &mut dyn Tx| {
        let before = facts_of(tx)?;
        let taken = tx.take_stock("pfacts", 1)?;
        Ok::<_, StoreError>((before, taken, stock_of(tx)?))
    })
    .await
    .unwrap();
    assert_eq!(
        in_writer,
        (Some((CardStatus::VerifyOk, 50)), true, (Some(1), Some(1)))
    );
    assert_eq!(read_twice(store, stock_of).await, (Some(1), Some(1)));
    assert_eq!(
        read_twice(store, facts_of).await,
        Some((CardStatus::VerifyOk, 50))
    );

    // Any other write of the card shows in its facts at once, in the writer too.
    let in_writer = store::write(&**store, move |tx: &mut dyn Tx| {
        tx.update_card(&Card {
            status: CardStatus::Delete,
            get_limit: 3,
            ..card("pfacts", 1)
        })?;
        facts_of(tx)
    })
    .await
    .unwrap();
    assert_eq!(in_writer, Some((CardStatus::Delete, 3)));
    assert_eq!(
        read_twice(store, facts_of).await,
        Some((CardStatus::Delete, 3))
    );
    assert_eq!(read_twice(store, stock_of).await, (Some(1), Some(1)));
    // Stock never goes below zero.
    let taken = store::write(&**store, |tx: &mut dyn Tx| {
        Ok::<_, StoreError>((tx.take_stock("pfacts", 2)?, tx.take_stock("pfacts", 2)?))
    })
    .await
    .unwrap();
    assert_eq!(taken, (true, false));
    assert_eq!(read_twice(store, stock_of).await, (Some(0), Some(0)));
}

/// An engine may send some writes (a code's status, an outbox event) with the job's next
/// statement instead of at once. The job must still read them back, in order, and they must
/// commit with the job or vanish with it.
async fn a_job_reads_its_own_writes_and_they_share_its_fate(store: &Arc<dyn Store>) {
    let held = held_code("pfate", "999988887777", "u-fate", "o-fate");
    let id = store::write(&**store, move |tx: &mut dyn Tx| {
        tx.insert_card(&card("pfate", 10))?;
        tx.insert_user(&user("u-fate"))?;
        tx.insert_user_card(&held)
    })
    .await
    .unwrap();
    let filter = crate::domain::events::EventFilter {
        appid: Some("wxcards".into()),
        event: Some("fate_test".into()),
        status: None,
        limit: 10,
    };
    let status_and_events = |tx: &mut dyn Tx, filter: &crate::domain::events::EventFilter| {
        let found = tx.user_cards_by_code("wxcards", "999988887777", Some("pfate"))?;
        let events = tx.events(filter)?;
        Ok::<_, StoreError>((
            found
                .iter()
                .map(|c| (c.status, c.consumed_at))
                .collect::<Vec<_>>(),
            events
                .iter()
                .map(|e| e.payload.to_string())
                .collect::<Vec<_>>(),
        ))
    };

    // Refused after writing: the writes vanish, though the job read them back.
    let seen = Arc::new(std::sync::Mutex::new(None));
    let (seen_in_job, job_filter) = (Arc::clone(&seen), filter.clone());
    let refused = store::write(&**store, move |tx: &mut dyn Tx| {
        tx.set_user_card_status(id, UserCardStatus::Consumed, Some(5))?;
        tx.insert_event("wxcards", "fate_test", r#"{"n":1}"#, 5)?;
        *seen_in_job.lock().unwrap() = Some(status_and_events(tx, &job_filter)?);
        Err::<(), _>(TestError::Refused)
    })
    .await;
    assert!(matches!(refused, Err(TestError::Refused)), "{refused:?}");
    assert_eq!(
        seen.lock().unwrap().take(),
        Some((
            vec![(UserCardStatus::Consumed, Some(5))],
            vec![r#"{"n":1}"#.to_owned()]
        )),
        "a job must read back its own writes"
    );
    let read_filter = filter.clone();
    let after = store::read(&**store, move |tx: &mut dyn Tx| {
        status_and_events(tx, &read_filter)
    })
    .await
    .unwrap();
    assert_eq!(after, (vec![(UserCardStatus::Normal, None)], vec![]));

    // Two status changes and two events, the last write the job's last statement: all commit,
    // in order.
    store::write(&**store, move |tx: &mut dyn Tx| {
        tx.set_user_card_status(id, UserCardStatus::Gifting, None)?;
        tx.insert_event("wxcards", "fate_test", r#"{"n":2}"#, 6)?;
        tx.set_user_card_status(id, UserCardStatus::Consumed, Some(7))?;
        tx.insert_event("wxcards", "fate_test", r#"{"n":3}"#, 7)
    })
    .await
    .unwrap();
    let after = store::read(&**store, move |tx: &mut dyn Tx| {
        status_and_events(tx, &filter)
    })
    .await
    .unwrap();
    assert_eq!(
        after,
        (
            vec![(UserCardStatus::Consumed, Some(7))],
            vec![r#"{"n":3}"#.to_owned(), r#"{"n":2}"#.to_owned()]
        )
    );
}

/// The outbox's leases: due events of accounts with a push URL only, the oldest first across
/// accounts, at most `limit`, not leased again while its lease runs, and a `retrying` event
/// again once its next attempt is due. (Two instances leasing at once: the CLI's
/// `two_instances` test.)
async fn leases_take_the_oldest_due_events_of_pushing_accounts(store: &Arc<dyn Store>) {
    let ids = store::write(&**store, |tx: &mut dyn Tx| {
        let push = PushConfig {
            url: "http://127.0.0.1:9/push".into(),
            token: "t".into(),
            encoding_aes_key: None,
            mode: "plain".into(),
        };
        for appid in ["wxlease_a", "wxlease_b", "wxlease_c"] {
            tx.insert_app(&app(appid))?;
        }
        tx.set_push_config("wxlease_a", &push)?;
        tx.set_push_config("wxlease_c", &push)?;
        // wxlease_b has no push URL: its events wait, and they come first by id.
        tx.insert_event("wxlease_b", "lease_test", r#"{"n":"b1"}"#, 100)?;
        tx.insert_event("wxlease_a", "lease_test", r#"{"n":"a1"}"#, 100)?;
        tx.insert_event("wxlease_b", "lease_test", r#"{"n":"b2"}"#, 100)?;
        tx.insert_event("wxlease_c", "lease_test", r#"{"n":"c1"}"#, 100)?;
        tx.insert_event("wxlease_a", "lease_test", r#"{"n":"a2"}"#, 100)?;
        tx.insert_event("wxlease_c", "lease_test", r#"{"n":"c2"}"#, 100)?;
        // Not due before 150.
        tx.insert_event("wxlease_a", "lease_test", r#"{"n":"a3"}"#, 150)?;
        let events = tx.events(&crate::domain::events::EventFilter {
            appid: None,
            event: Some("lease_test".into()),
            status: None,
            limit: 10,
        })?;
        Ok::<_, StoreError>(
            events
                .into_iter()
                .map(|event| {
                    (
                        event.payload["n"].as_str().unwrap_or("").to_owned(),
                        event.id,
                    )
                })
                .collect::<std::collections::HashMap<_, _>>(),
        )
    })
    .await
    .unwrap();
    let lease = |now: i64, until: i64, limit: u32| {
        let store = Arc::clone(store);
        async move {
            store::write_row_locked(&*store, move |tx: &mut dyn Tx| {
                let due = tx.lease_due_events(now, until, limit)?;
                Ok::<_, StoreError>(
                    due.into_iter()
                        .map(|due| {
                            assert!(due.push.is_some(), "{due:?}");
                            due.event.payload["n"].as_str().unwrap_or("").to_owned()
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .await
            .unwrap()
        }
    };

    assert_eq!(lease(100, 200, 2).await, ["a1", "c1"]);
    assert_eq!(lease(100, 200, 3).await, ["a2", "c2"]);
    assert_eq!(lease(100, 200, 3).await, Vec::<String>::new());
    // The leases ran out at 200; a3 became due at 150.
    assert_eq!(lease(200, 300, 10).await, ["a1", "c1", "a2", "c2", "a3"]);

    // a1 delivered, c1 to be tried again at 500.
    let finish = |name: &str, status: &'static str, next: i64| {
        let (store, event_id) = (Arc::clone(store), ids[name]);
        async move {
            store::write_row_locked(&*store, move |tx: &mut dyn Tx| {
                let attempt = DeliveryAttempt {
                    event_id,
                    attempt: 1,
                    at: 250,
                    url: "http://127.0.0.1:9/push".into(),
                    http_status: None,
                    answer: None,
                    error: None,
                    duration_ms: 1,
                };
                tx.finish_attempt(&attempt, status, next)
            })
            .await
            .unwrap();
        }
    };
    finish("a1", "delivered", 250).await;
    finish("c1", "retrying", 500).await;
    assert_eq!(lease(400, 500, 10).await, ["a2", "c2", "a3"]);
    // A retried event older than the pending ones comes first.
    assert_eq!(lease(500, 600, 2).await, ["c1", "a2"]);
}
