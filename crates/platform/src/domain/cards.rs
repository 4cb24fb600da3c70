//! Card templates: create, read, list, update, delete, stock, review, the test whitelist,
//! QR codes and landing pages (cards.md). Field rules live in `card_schema`; this module owns
//! ownership, state and the transactions.

use std::sync::Arc;

use serde_json::Value;

use crate::domain::card_schema::{self, CardType, CodeMode};
use crate::domain::clock::Clock;
use crate::domain::events::DomainEvent;
use crate::domain::ids::IdGen;
use crate::domain::model::{App, AppKind, Card, CardStatus, LandingPage, QrCode};
use crate::domain::DomainError;
use crate::store::{self, Store, Tx};

/// The most stock a card may have (cards.md §3.7).
pub const MAX_QUANTITY: i64 = 100_000_000;
/// A QR code without `expire_seconds` lasts 365 days (cards.md §10).
pub const DEFAULT_QR_LIFETIME: i64 = 365 * 24 * 3600;
/// The most cards one page of `/card/batchget` returns.
pub const MAX_BATCH: u64 = 50;
/// Scenes a landing page may name (cards.md §11).
pub const SCENES: &[&str] = &[
    "SCENE_NEAR_BY",
    "SCENE_MENU",
    "SCENE_QRCODE",
    "SCENE_ARTICLE",
    "SCENE_H5",
    "SCENE_IVR",
    "SCENE_CARD_CUSTOM_CELL",
];

/// How new cards (and cards sent back to review) are reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewMode {
    /// Approved in the transaction that creates them.
    Auto,
    /// Approved this many seconds (platform clock) after they enter review.
    Delay(i64),
    /// Wait for `POST /admin/v1/cards/{card_id}/review`.
    Manual,
}

/// What `/card/create` made.
#[derive(Debug, Clone)]
pub struct CreatedCard {
    /// The new card's id.
    pub card_id: String,
    /// Fields the request carried that no card has (logged, not stored).
    pub ignored: Vec<String>,
}

/// One entry of a QR code or landing page request, checked.
#[derive(Debug, Clone)]
pub struct QrCard {
    /// The card.
    pub card_id: String,
    /// A custom code the QR hands out.
    pub code: Option<String>,
    /// The only user who may claim it.
    pub openid: Option<String>,
}

/// Card templates and what hangs off them.
#[derive(Debug, Clone)]
pub struct CardService {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    ids: IdGen,
    review: ReviewMode,
}

impl CardService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>, ids: IdGen, review: ReviewMode) -> Self {
        Self {
            store,
            clock,
            ids,
            review,
        }
    }

    /// `/card/create`: checks every field, stores the card and starts its review.
    ///
    /// # Errors
    /// The first rule the request breaks, a Mini Program that is not linked, storage.
    pub async fn create(&self, appid: &str, request: Value) -> Result<CreatedCard, DomainError> {
        let now = self.clock.now();
        let new_card =
            card_schema::validate_create(&request, now).map_err(DomainError::CardRule)?;
        let (ids, review, appid) = (self.ids.clone(), self.review, appid.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let owner = service_account(tx, &appid)?;
            check_mini_programs(tx, &owner, &new_card.mini_programs)?;
            let seq = IdGen::next(tx, "card")?;
            let quantity = i64::try_from(new_card.quantity).unwrap_or(i64::MAX);
            let mut card = Card {
                card_id: format!(
                    "p{}{}",
                    ids.app_prefix(&appid),
                    ids.url_safe("card_id", &seq, 22)
                ),
                appid: appid.clone(),
                card_type: new_card.card_type.wire_name().to_owned(),
                document: new_card.document.to_string(),
                status: CardStatus::NotVerify,
                quantity,
                total_quantity: quantity,
                code_mode: code_mode_name(&new_card.code_mode).to_owned(),
                bind_openid: new_card.bind_openid,
                get_limit: i64::from(new_card.get_limit),
                review_due_at: None,
                refuse_reason: None,
                create_time: now,
                update_time: now,
            };
            start_review(tx, &mut card, review, now)?;
            tx.insert_card(&card)?;
            Ok(CreatedCard {
                card_id: card.card_id,
                ignored: new_card.ignored.clone(),
            })
        })
        .await
    }

    /// `/card/get`: the card as stored, after any review that fell due.
    ///
    /// # Errors
    /// Unknown or foreign card, storage.
    pub async fn get(&self, appid: &str, card_id: &str) -> Result<Card, DomainError> {
        let card = self.read_card(appid, card_id).await?;
        if card.status == CardStatus::NotVerify
            && card
                .review_due_at
                .is_some_and(|due| due <= self.clock.now())
        {
            self.settle_due_reviews().await?;
            return self.read_card(appid, card_id).await;
        }
        Ok(card)
    }

    async fn read_card(&self, appid: &str, card_id: &str) -> Result<Card, DomainError> {
        let (appid, card_id) = (appid.to_owned(), card_id.to_owned());
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            owned_card(tx, &appid, &card_id)
        })
        .await
    }

    /// A card and the Service Account that owns it, as the client sees it (no ownership check:
    /// any user may try to claim any card). The card's `quantity` may lag its stock (see
    /// [`Tx::card_facts`]): the client's checks do not look at it, the claim checks stock.
    ///
    /// # Errors
    /// Unknown card, storage.
    pub async fn card_and_owner(&self, card_id: &str) -> Result<(Card, App), DomainError> {
        let card_id = card_id.to_owned();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let card = tx
                .card_facts(&card_id)?
                .ok_or_else(|| DomainError::UnknownCard(card_id.clone()))?;
            let owner = tx
                .app(&card.appid)?
                .ok_or_else(|| DomainError::UnknownApp(card.appid.clone()))?;
            Ok((card, owner))
        })
        .await
    }

    /// Every card id of a Service Account (to name "signed for another card" mistakes).
    ///
    /// # Errors
    /// Storage.
    pub async fn all_card_ids(&self, appid: &str) -> Result<Vec<String>, DomainError> {
        let appid = appid.to_owned();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok(tx.card_ids_of_app(&appid, &[], 0, 10_000)?.0)
        })
        .await
    }

    /// `/card/batchget`: a page of the app's card ids in the given states, and the total.
    ///
    /// # Errors
    /// A count outside 1..=50, storage.
    pub async fn batch_get(
        &self,
        appid: &str,
        offset: u64,
        count: u64,
        statuses: Vec<CardStatus>,
    ) -> Result<(Vec<String>, u64), DomainError> {
        if !(1..=MAX_BATCH).contains(&count) {
            return Err(DomainError::Invalid {
                field: "count",
                reason: format!("must be between 1 and {MAX_BATCH}, got {count}"),
            });
        }
        self.settle_due_reviews().await?;
        let appid = appid.to_owned();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok(tx.card_ids_of_app(&appid, &statuses, offset, count)?)
        })
        .await
    }

    /// `/card/update`: applies the updatable fields; returns `send_check` (back to review).
    ///
    /// # Errors
    /// Unknown, foreign or deleted card, a field that may not change, storage.
    pub async fn update(
        &self,
        appid: &str,
        card_id: &str,
        request: Value,
    ) -> Result<(bool, Vec<String>), DomainError> {
        let (now, review, appid, card_id) = (
            self.clock.now(),
            self.review,
            appid.to_owned(),
            card_id.to_owned(),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let owner = service_account(tx, &appid)?;
            let mut card = owned_card(tx, &appid, &card_id)?;
            require_not_deleted(&card)?;
            let card_type =
                CardType::from_wire(&card.card_type).ok_or_else(|| DomainError::Invalid {
                    field: "card_type",
                    reason: format!("stored card has unknown type {}", card.card_type),
                })?;
            let update =
                card_schema::validate_update(card_type, &card.document_value()?, &request, now)
                    .map_err(DomainError::CardRule)?;
            check_mini_programs(tx, &owner, &update.mini_programs)?;
            card.document = update.document.to_string();
            card.get_limit = i64::from(update.get_limit);
            card.update_time = now;
            if update.send_check {
                card.status = CardStatus::NotVerify;
                card.refuse_reason = None;
                start_review(tx, &mut card, review, now)?;
            }
            tx.update_card(&card)?;
            Ok((update.send_check, update.ignored))
        })
        .await
    }

    /// `/card/delete`: the card stops being handed out; claimed codes stay valid.
    ///
    /// # Errors
    /// Unknown, foreign or already deleted card, storage.
    pub async fn delete(&self, appid: &str, card_id: &str) -> Result<(), DomainError> {
        let (now, appid, card_id) = (self.clock.now(), appid.to_owned(), card_id.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let mut card = owned_card(tx, &appid, &card_id)?;
            require_not_deleted(&card)?;
            card.status = CardStatus::Delete;
            card.review_due_at = None;
            card.update_time = now;
            tx.update_card(&card)?;
            Ok(())
        })
        .await
    }

    /// `/card/modifystock`: adds `increase` and removes `reduce`; stock never goes below zero.
    ///
    /// # Errors
    /// Unknown or foreign card, stock out of range, deposit mode over the deposited codes, storage.
    pub async fn modify_stock(
        &self,
        appid: &str,
        card_id: &str,
        increase: i64,
        reduce: i64,
    ) -> Result<(i64, i64), DomainError> {
        if increase < 0 || reduce < 0 {
            return Err(DomainError::StockOutOfRange(format!("increase_stock_value and reduce_stock_value must not be negative (got {increase} and {reduce})")));
        }
        let (now, appid, card_id) = (self.clock.now(), appid.to_owned(), card_id.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let mut card = owned_card(tx, &appid, &card_id)?;
            let quantity = card
                .quantity
                .saturating_add(increase)
                .saturating_sub(reduce);
            if quantity < 0 {
                return Err(DomainError::StockOutOfRange(format!(
                    "the stock is {} and cannot be reduced by {reduce}",
                    card.quantity
                )));
            }
            if quantity > MAX_QUANTITY {
                return Err(DomainError::StockOutOfRange(format!(
                    "the stock would be {quantity}; the most is {MAX_QUANTITY}"
                )));
            }
            if card.code_mode == "deposit" && increase > 0 {
                // Compat: codes.md §6 — stock may not exceed the deposited codes not yet handed out.
                let available =
                    i64::try_from(tx.deposited_available(&card.card_id)?).unwrap_or(i64::MAX);
                if quantity > available {
                    return Err(DomainError::DepositStockExceedsCodes {
                        stock: quantity,
                        deposited: available,
                    });
                }
            }
            card.total_quantity = card.total_quantity.saturating_add(increase);
            card.quantity = quantity;
            card.update_time = now;
            tx.update_card(&card)?;
            Ok((card.quantity, card.total_quantity))
        })
        .await
    }

    /// `/card/testwhitelist/set`: replaces the users who may claim cards still in review.
    ///
    /// # Errors
    /// An openid that is not a user of this app, storage.
    pub async fn set_whitelist(
        &self,
        appid: &str,
        openids: Vec<String>,
        usernames: Vec<String>,
    ) -> Result<(), DomainError> {
        let appid = appid.to_owned();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            service_account(tx, &appid)?;
            for openid in &openids {
                if tx.user_id_by_openid(&appid, openid)?.is_none() {
                    return Err(DomainError::UnknownOpenid(openid.clone()));
                }
            }
            for username in &usernames {
                if username.trim().is_empty() || username.len() > 64 {
                    return Err(DomainError::InvalidUsername(username.clone()));
                }
            }
            tx.set_whitelist(&appid, &openids, &usernames)?;
            Ok(())
        })
        .await
    }

    /// `POST /admin/v1/cards/{card_id}/review`: a person decides a pending review.
    ///
    /// # Errors
    /// Unknown card, a card not waiting for review, storage.
    pub async fn review(
        &self,
        card_id: &str,
        approve: bool,
        reason: Option<String>,
    ) -> Result<Card, DomainError> {
        let (now, card_id) = (self.clock.now(), card_id.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let mut card = tx
                .card(&card_id)?
                .ok_or_else(|| DomainError::UnknownCard(card_id.clone()))?;
            if card.status != CardStatus::NotVerify {
                return Err(DomainError::CardNotUsable {
                    card_id: card.card_id,
                    status: card.status,
                    why: "it is not waiting for review",
                });
            }
            if approve {
                approve_card(tx, &mut card, now)?;
            } else {
                reject_card(
                    tx,
                    &mut card,
                    reason
                        .clone()
                        .unwrap_or_else(|| "rejected by the reviewer".into()),
                    now,
                )?;
            }
            tx.update_card(&card)?;
            Ok(card)
        })
        .await
    }

    /// Whether anything falls due with time (delayed reviews), so a sweeper is worth running.
    #[must_use]
    pub fn has_timed_work(&self) -> bool {
        matches!(self.review, ReviewMode::Delay(_))
    }

    /// Approves every card whose delayed review fell due; returns how many.
    ///
    /// # Errors
    /// Storage.
    pub async fn settle_due_reviews(&self) -> Result<usize, DomainError> {
        if !matches!(self.review, ReviewMode::Delay(_)) {
            return Ok(0);
        }
        let now = self.clock.now();
        // Most ticks find nothing due: look first, and write only when there is work.
        let due = store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(tx.cards_due_for_review(now)?.len())
        })
        .await?;
        if due == 0 {
            return Ok(0);
        }
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let due = tx.cards_due_for_review(now)?;
            for mut card in due.iter().cloned() {
                approve_card(tx, &mut card, now)?;
                tx.update_card(&card)?;
            }
            Ok(due.len())
        })
        .await
    }

    /// `/card/qrcode/create`: a QR code that claims one card (`QR_CARD`) or up to five
    /// (`QR_MULTIPLE_CARD`).
    ///
    /// # Errors
    /// A bad action, a card that is unknown, foreign or not approved, a missing custom code or
    /// bound openid, storage.
    pub async fn create_qrcode(
        &self,
        appid: &str,
        action_name: String,
        expire_seconds: Option<i64>,
        action_info: Value,
    ) -> Result<QrCode, DomainError> {
        let entries = qr_entries(&action_name, &action_info)?;
        let lifetime = match expire_seconds {
            None => DEFAULT_QR_LIFETIME,
            Some(seconds) if (60..=1800).contains(&seconds) => seconds,
            Some(seconds) => {
                return Err(DomainError::BadQrInfo(format!(
                "expire_seconds must be between 60 and 1800, or absent for 365 days; got {seconds}"
            )))
            }
        };
        let (now, ids, appid) = (self.clock.now(), self.ids.clone(), appid.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            service_account(tx, &appid)?;
            for entry in &entries {
                let card = owned_card(tx, &appid, &entry.card_id)?;
                require_approved(&card, "a QR code")?;
                if card.code_mode == "custom" && entry.code.is_none() {
                    return Err(DomainError::MissingCode(format!(
                        "{} uses custom codes: give action_info.card.code",
                        card.card_id
                    )));
                }
                match (&entry.openid, card.bind_openid) {
                    (None, true) => {
                        return Err(DomainError::BadQrInfo(format!(
                            "{} has bind_openid: give the receiver's openid",
                            card.card_id
                        )))
                    }
                    (Some(openid), _) if tx.user_id_by_openid(&appid, openid)?.is_none() => {
                        return Err(DomainError::UnknownOpenid(openid.clone()))
                    }
                    _ => {}
                }
            }
            let seq = IdGen::next(tx, "qrcode")?;
            let qrcode = QrCode {
                ticket: ids.base64("qr_ticket", &seq, 72),
                url_id: ids.url_safe("qr_url", &seq, 22),
                appid: appid.clone(),
                action_name: action_name.clone(),
                action_info: action_info.clone(),
                created_at: now,
                expires_at: now + lifetime,
            };
            tx.insert_qrcode(&qrcode)?;
            Ok(qrcode)
        })
        .await
    }

    /// A QR code by its ticket or url id, if it has not expired.
    ///
    /// # Errors
    /// Unknown or expired ticket, storage.
    pub async fn qrcode(&self, ticket: &str) -> Result<QrCode, DomainError> {
        let (now, ticket) = (self.clock.now(), ticket.to_owned());
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let qrcode = tx.qrcode(&ticket)?.ok_or(DomainError::UnknownQrCode)?;
            if now >= qrcode.expires_at {
                return Err(DomainError::QrCodeExpired(now - qrcode.expires_at));
            }
            Ok(qrcode)
        })
        .await
    }

    /// `/card/landingpage/create`: a page listing approved cards.
    ///
    /// # Errors
    /// Bad scene or card list, a card that is unknown, foreign, not approved or uses custom codes, storage.
    #[allow(clippy::too_many_arguments)] // One argument per documented request field reads best here.
    pub async fn create_landing_page(
        &self,
        appid: &str,
        banner: String,
        page_title: String,
        can_share: bool,
        scene: String,
        card_list: Value,
    ) -> Result<LandingPage, DomainError> {
        if !SCENES.contains(&scene.as_str()) {
            return Err(DomainError::BadScene(scene));
        }
        card_schema::check_image_url("banner", &banner).map_err(DomainError::CardRule)?;
        if page_title.trim().is_empty() {
            return Err(DomainError::Invalid {
                field: "page_title",
                reason: "must not be empty".into(),
            });
        }
        let entries = card_list
            .as_array()
            .filter(|list| !list.is_empty())
            .ok_or_else(|| DomainError::Invalid {
                field: "card_list",
                reason: "must be a non-empty array of {card_id, thumb_url}".into(),
            })?;
        let mut card_ids = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let card_id = entry
                .get("card_id")
                .and_then(Value::as_str)
                .ok_or_else(|| DomainError::Invalid {
                    field: "card_list",
                    reason: format!("entry {index} has no card_id"),
                })?;
            if let Some(thumb) = entry.get("thumb_url").and_then(Value::as_str) {
                card_schema::check_image_url("card_list.thumb_url", thumb)
                    .map_err(DomainError::CardRule)?;
            }
            card_ids.push(card_id.to_owned());
        }
        let (now, appid) = (self.clock.now(), appid.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            service_account(tx, &appid)?;
            for card_id in &card_ids {
                let card = owned_card(tx, &appid, card_id)?;
                require_approved(&card, "a landing page")?;
                if card.code_mode == "custom" {
                    return Err(DomainError::CardFunctionNotSupported(format!("{card_id} uses custom codes given by the merchant; only system-code or deposit-mode cards can go on a landing page")));
                }
            }
            let page_id = i64::try_from(tx.next_seq("landing_page")?).unwrap_or(i64::MAX);
            let page = LandingPage { page_id, appid: appid.clone(), banner: banner.clone(), page_title: page_title.clone(), can_share, scene: scene.clone(), card_list: card_list.clone(), created_at: now };
            tx.insert_landing_page(&page)?;
            Ok(page)
        })
        .await
    }

    /// A landing page and its cards (for the page wxcard serves).
    ///
    /// # Errors
    /// Unknown page, storage.
    pub async fn landing_page(
        &self,
        page_id: i64,
    ) -> Result<(LandingPage, Vec<Card>), DomainError> {
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let page = tx
                .landing_page(page_id)?
                .ok_or(DomainError::UnknownLandingPage(page_id))?;
            let mut cards = Vec::new();
            for entry in page.card_list.as_array().into_iter().flatten() {
                if let Some(card) = entry
                    .get("card_id")
                    .and_then(Value::as_str)
                    .map(|card_id| tx.card(card_id))
                    .transpose()?
                    .flatten()
                {
                    cards.push(card);
                }
            }
            Ok((page, cards))
        })
        .await
    }
}

impl CardService {
    /// `/card/paycell/set` and `/card/selfconsumecell/set`: turns a card's pay cell or
    /// self-consume cell on or off. The two cells and the centre button exclude each other.
    ///
    /// # Errors
    /// Unknown or foreign card, conflicting cells, a self-consume cell on a custom-code card, storage.
    pub async fn set_cell(
        &self,
        appid: &str,
        card_id: &str,
        cell: Cell,
    ) -> Result<(), DomainError> {
        let (appid, card_id) = (appid.to_owned(), card_id.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let card = owned_card(tx, &appid, &card_id)?;
            let mut cells: Value = tx.card_cells(&card_id)?.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_else(|| serde_json::json!({}));
            let has_center = card.document_value()?.pointer("/base_info/center_url").and_then(Value::as_str).is_some_and(|url| !url.is_empty());
            let pay_open = cells.get("pay_cell").and_then(Value::as_bool).unwrap_or(false);
            let self_open = cells.pointer("/self_consume_cell/is_open").and_then(Value::as_bool).unwrap_or(false);
            match cell {
                Cell::Pay { is_open } => {
                    if is_open && has_center {
                        return Err(DomainError::CellConflict { with_center: true, reason: format!("card {card_id} has a centre button (center_url); remove it with /card/update before opening the pay cell") });
                    }
                    if is_open && self_open {
                        return Err(DomainError::CellConflict { with_center: false, reason: format!("card {card_id} has its self-consume cell open; close it first") });
                    }
                    cells["pay_cell"] = Value::Bool(is_open);
                }
                Cell::SelfConsume { is_open, need_verify_code, need_remark_amount } => {
                    if is_open && (pay_open || has_center) {
                        return Err(DomainError::CellConflict { with_center: false, reason: format!("card {card_id} has its pay cell or centre button on; only one of the three can be") });
                    }
                    if is_open && card.code_mode != "system" {
                        return Err(DomainError::NeedsSystemCodes(format!("card {card_id} uses custom codes; the self-consume cell needs system codes")));
                    }
                    cells["self_consume_cell"] = serde_json::json!({"is_open": is_open, "need_verify_cod": need_verify_code, "need_remark_amount": need_remark_amount});
                }
            }
            tx.set_card_cells(&card_id, &cells.to_string())?;
            Ok(())
        })
        .await
    }
}

/// A card cell a merchant turns on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The quick-pay cell.
    Pay {
        /// On or off.
        is_open: bool,
    },
    /// The self-consume cell.
    SelfConsume {
        /// On or off.
        is_open: bool,
        /// The user types a verify code.
        need_verify_code: bool,
        /// The user notes the amount.
        need_remark_amount: bool,
    },
}

fn code_mode_name(mode: &CodeMode) -> &'static str {
    match mode {
        CodeMode::System => "system",
        CodeMode::Custom => "custom",
        CodeMode::Deposit => "deposit",
    }
}

/// The calling app, which must be a Service Account: cards belong to Service Accounts.
fn service_account(tx: &mut dyn Tx, appid: &str) -> Result<App, DomainError> {
    let app = tx
        .app(appid)?
        .ok_or_else(|| DomainError::UnknownApp(appid.to_owned()))?;
    if app.kind != AppKind::ServiceAccount {
        return Err(DomainError::CardsNeedServiceAccount(app.appid));
    }
    Ok(app)
}

/// A card of this app. Another app's card is reported as unknown, as WeChat does.
fn owned_card(tx: &mut dyn Tx, appid: &str, card_id: &str) -> Result<Card, DomainError> {
    match tx.card(card_id)? {
        Some(card) if card.appid == appid => Ok(card),
        _ => Err(DomainError::UnknownCard(card_id.to_owned())),
    }
}

fn require_not_deleted(card: &Card) -> Result<(), DomainError> {
    if card.status == CardStatus::Delete {
        return Err(DomainError::CardNotUsable {
            card_id: card.card_id.clone(),
            status: card.status,
            why: "it was deleted",
        });
    }
    Ok(())
}

fn require_approved(card: &Card, what: &'static str) -> Result<(), DomainError> {
    match card.status {
        CardStatus::VerifyOk | CardStatus::Dispatch => Ok(()),
        status => Err(DomainError::CardNotUsable {
            card_id: card.card_id.clone(),
            status,
            why: match what {
                "a QR code" => "only approved cards can have a QR code",
                _ => "only approved cards can go on a landing page",
            },
        }),
    }
}

/// Puts a card into review under the configured mode.
fn start_review(
    tx: &mut dyn Tx,
    card: &mut Card,
    review: ReviewMode,
    now: i64,
) -> Result<(), DomainError> {
    match review {
        ReviewMode::Auto => approve_card(tx, card, now),
        ReviewMode::Delay(seconds) => {
            card.review_due_at = Some(now.saturating_add(seconds));
            Ok(())
        }
        ReviewMode::Manual => {
            card.review_due_at = None;
            Ok(())
        }
    }
}

fn approve_card(tx: &mut dyn Tx, card: &mut Card, now: i64) -> Result<(), DomainError> {
    card.status = CardStatus::VerifyOk;
    card.review_due_at = None;
    card.refuse_reason = None;
    card.update_time = now;
    DomainEvent::CardPassCheck {
        card_id: card.card_id.clone(),
    }
    .record(tx, &card.appid, now)?;
    Ok(())
}

fn reject_card(
    tx: &mut dyn Tx,
    card: &mut Card,
    reason: String,
    now: i64,
) -> Result<(), DomainError> {
    card.status = CardStatus::VerifyFail;
    card.review_due_at = None;
    card.update_time = now;
    DomainEvent::CardNotPassCheck {
        card_id: card.card_id.clone(),
        refuse_reason: reason.clone(),
    }
    .record(tx, &card.appid, now)?;
    card.refuse_reason = Some(reason);
    Ok(())
}

/// Every Mini Program a card jumps to must exist here and share the card's open platform account.
///
/// Compat: miniprogram-jump.md §4 — the sources do not say whether "bound" means associated
/// or on one open platform account; wxcard has only the latter, so it requires that.
fn check_mini_programs(
    tx: &mut dyn Tx,
    owner: &App,
    mini_programs: &[(String, String)],
) -> Result<(), DomainError> {
    for (field, user_name) in mini_programs {
        let original_id = user_name.strip_suffix("@app").unwrap_or(user_name);
        let target = tx
            .app_by_original_id(original_id)?
            .filter(|app| app.kind == AppKind::MiniProgram);
        let Some(target) = target else {
            return Err(DomainError::UnlinkedMiniProgram { field: field.clone(), user_name: user_name.clone(), why: "no Mini Program in wxcard has this user_name (create it with POST /admin/v1/apps)".into() });
        };
        let linked =
            owner.open_platform_id.is_some() && owner.open_platform_id == target.open_platform_id;
        if !linked {
            return Err(DomainError::UnlinkedMiniProgram {
                field: field.clone(),
                user_name: user_name.clone(),
                why: format!("the Mini Program {} and the Service Account {} are not on one open platform account", target.appid, owner.appid),
            });
        }
    }
    Ok(())
}

/// Checks `action_info` against `action_name` and lists its cards.
fn qr_entries(action_name: &str, action_info: &Value) -> Result<Vec<QrCard>, DomainError> {
    let entry = |value: &Value, path: &str| -> Result<QrCard, DomainError> {
        let text = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let card_id = text("card_id")
            .ok_or_else(|| DomainError::BadQrInfo(format!("{path}.card_id is missing")))?;
        if let Some(outer_str) = text("outer_str") {
            if outer_str.len() > 128 {
                return Err(DomainError::BadQrInfo(format!(
                    "{path}.outer_str is {} bytes; the limit is 128",
                    outer_str.len()
                )));
            }
        }
        Ok(QrCard {
            card_id,
            code: text("code"),
            openid: text("openid"),
        })
    };
    match action_name {
        "QR_CARD" => {
            let card = action_info
                .get("card")
                .filter(|card| card.is_object())
                .ok_or_else(|| DomainError::BadQrInfo("QR_CARD needs action_info.card".into()))?;
            Ok(vec![entry(card, "action_info.card")?])
        }
        "QR_MULTIPLE_CARD" => {
            let list = action_info
                .pointer("/multiple_card/card_list")
                .and_then(Value::as_array)
                .filter(|list| !list.is_empty())
                .ok_or_else(|| DomainError::BadQrInfo("QR_MULTIPLE_CARD needs action_info.multiple_card.card_list with 1 to 5 cards".into()))?;
            if list.len() > 5 {
                return Err(DomainError::TooManyQrCards(list.len()));
            }
            list.iter()
                .enumerate()
                .map(|(index, value)| {
                    entry(
                        value,
                        &format!("action_info.multiple_card.card_list[{index}]"),
                    )
                })
                .collect()
        }
        other => Err(DomainError::BadQrAction(other.to_owned())),
    }
}
