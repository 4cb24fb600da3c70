//! [`ClosedTx`]: what a job runs against when its engine could not open a transaction.

use super::{CodeExtra, Document, Job, StoreError, StoreResult, Tx};
use crate::domain::events::EventFilter;
use crate::domain::model::{
    AccessToken, App, Card, CardStatus, DeliveryAttempt, DueEvent, Gift, LandingPage, LoginCode,
    OpenPlatform, OutboxEvent, PushConfig, QrCode, SignedCardExt, Ticket, TicketType, TokenKind,
    User, UserCard, UserCardStatus,
};

/// Stands in for a transaction when the storage thread could not open one, so that a job can
/// still be turned into an answer for its caller. Every call fails.
pub(crate) struct ClosedTx;

/// Answers a job that cannot run with `error`, touching no database.
pub(crate) fn refuse(mut job: Job, error: StoreError) {
    refuse_in_place(&mut job, error);
}

/// [`refuse`] for a job that is borrowed.
pub(crate) fn refuse_in_place(job: &mut Job, error: StoreError) {
    // A job that panics on a failed call must not take the storage thread down with it; its
    // dropped answer channel tells its caller the store failed.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut ClosedTx)));
    if let Ok(outcome) = outcome {
        (outcome.complete)(Err(error));
    }
}

macro_rules! closed_tx {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl Tx for ClosedTx {
            $(fn $name(&mut self, $(_: $ty),*) -> StoreResult<$ret> { Err(StoreError::Closed) })*
        }
    };
}

closed_tx! {
    next_seq(kind: &str) -> u64;
    meta(key: &str) -> Option<String>;
    set_meta(key: &str, value: &str) -> ();
    insert_open_platform(open_platform: &OpenPlatform) -> ();
    open_platform(id: &str) -> Option<OpenPlatform>;
    insert_app(app: &App) -> ();
    app(appid: &str) -> Option<App>;
    apps() -> Vec<App>;
    insert_user(user: &User) -> ();
    user(user_id: &str) -> Option<User>;
    users() -> Vec<User>;
    insert_openid(appid: &str, user_id: &str, openid: &str) -> ();
    openids_of_user(user_id: &str) -> Vec<(String, String)>;
    user_id_by_openid(appid: &str, openid: &str) -> Option<String>;
    insert_unionid(open_platform_id: &str, user_id: &str, unionid: &str) -> bool;
    unionids_of_user(user_id: &str) -> Vec<(String, String)>;
    insert_access_token(token: &AccessToken) -> ();
    access_token(token: &str) -> Option<AccessToken>;
    latest_access_token(appid: &str, kind: TokenKind) -> Option<AccessToken>;
    revoke_access_tokens(appid: &str, kind: TokenKind, now: i64, until: i64) -> Vec<String>;
    insert_ticket(ticket: &Ticket) -> ();
    latest_ticket(appid: &str, ticket_type: TicketType) -> Option<Ticket>;
    recent_tickets(appid: &str, ticket_type: TicketType, limit: u32) -> Vec<Ticket>;
    insert_login_code(code: &LoginCode) -> ();
    login_code(code: &str) -> Option<LoginCode>;
    mark_login_code_used(code: &str, at: i64) -> ();
    insert_card(card: &Card) -> ();
    card(card_id: &str) -> Option<Card>;
    update_card(card: &Card) -> ();
    card_ids_of_app(appid: &str, statuses: &[CardStatus], offset: u64, count: u64) -> (Vec<String>, u64);
    cards_due_for_review(now: i64) -> Vec<Card>;
    set_whitelist(appid: &str, openids: &[String], usernames: &[String]) -> ();
    whitelist(appid: &str) -> Vec<(String, String)>;
    insert_qrcode(qrcode: &QrCode) -> ();
    qrcode(ticket_or_url_id: &str) -> Option<QrCode>;
    app_by_original_id(original_id: &str) -> Option<App>;
    insert_landing_page(page: &LandingPage) -> ();
    landing_page(page_id: i64) -> Option<LandingPage>;
    insert_event(appid: &str, event: &str, payload: &str, now: i64) -> ();
    events(filter: &EventFilter) -> Vec<OutboxEvent>;
    insert_user_card(user_card: &UserCard) -> i64;
    user_cards_by_code(appid: &str, code: &str, card_id: Option<&str>) -> Vec<UserCard>;
    set_user_card_status(id: i64, status: UserCardStatus, consumed_at: Option<i64>) -> ();
    set_user_card_code(id: i64, code: &str) -> ();
    user_cards_of_user(user_id: &str) -> Vec<UserCard>;
    count_user_cards(user_id: &str, card_id: &str) -> u64;
    code_in_use(card_id: &str, code: &str) -> bool;
    code_issued_in_app(appid: &str, code: &str) -> bool;
    deposit_codes(card_id: &str, codes: &[String]) -> Vec<String>;
    deposited_count(card_id: &str) -> u64;
    deposited_available(card_id: &str) -> u64;
    deposited_among(card_id: &str, codes: &[String]) -> Vec<String>;
    take_deposited_code(card_id: &str) -> Option<String>;
    use_card_ext(card_id: &str, card_ext: &SignedCardExt, now: i64) -> bool;
    set_push_config(appid: &str, push: &PushConfig) -> ();
    push_config(appid: &str) -> Option<PushConfig>;
    lease_due_events(now: i64, lease_until: i64, limit: u32) -> Vec<DueEvent>;
    finish_attempt(attempt: &DeliveryAttempt, status: &str, next_attempt_at: i64) -> ();
    requeue_event(id: i64, now: i64) -> bool;
    event(id: i64) -> Option<OutboxEvent>;
    delivery_attempts(event_id: i64) -> Vec<DeliveryAttempt>;
    insert_gift(gift: &Gift) -> ();
    gift(gift_id: &str) -> Option<Gift>;
    set_gift_status(gift_id: &str, status: &str, to_user_id: Option<&str>) -> ();
    gifts_due(now: i64) -> Vec<Gift>;
    user_card(id: i64) -> Option<UserCard>;
    move_user_card(id: i64, user_id: &str, openid: &str) -> ();
    code_extra(id: i64, extra: CodeExtra) -> Option<String>;
    set_code_extra(id: i64, extra: CodeExtra, value: Option<&str>) -> ();
    openid_of(appid: &str, user_id: &str) -> Option<String>;
    unionid_of(open_platform_id: &str, user_id: &str) -> Option<String>;
    take_stock(card_id: &str, now: i64) -> bool;
    login_apps_of_user(user_id: &str) -> Vec<String>;
    document(kind: Document, key: &str) -> Option<String>;
    put_document(kind: Document, key: &str, value: &str) -> ();
    card_cells(card_id: &str) -> Option<String>;
    set_card_cells(card_id: &str, cells: &str) -> ();
}
