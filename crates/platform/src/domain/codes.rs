//! Codes: claiming a card into a user's card package, and everything a merchant does with a
//! code afterwards (codes.md). Every state change and its event commit in one transaction, so
//! a code is consumed once and stock never goes below zero whatever the concurrency.

use std::sync::Arc;

use serde_json::Value;

use crate::domain::clock::Clock;
use crate::domain::code_crypto::CodeCipher;
use crate::domain::error::CodeListRule;
use crate::domain::events::DomainEvent;
use crate::domain::ids::IdGen;
use crate::domain::model::{
    App, AppKind, Card, CardStatus, SignedCardExt, UserCard, UserCardStatus,
};
use crate::domain::DomainError;
use crate::store::{self, CodeExtra, Store, Tx};

/// The most codes one deposit or check may carry (codes.md §6.1).
pub const MAX_CODES_PER_CALL: usize = 100;
/// The end of a window that never ends (member cards, `DATE_TYPE_PERMANENT`): 2100-01-01.
pub const FOREVER: i64 = 4_102_444_800;
const DAY: i64 = 86_400;
/// Card days start at midnight in UTC+8 (cards.md §3.8).
const UTC_PLUS_8: i64 = 8 * 3600;

/// What a claim asks for, after the client checked the cardExt.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    /// The claiming user.
    pub user_id: String,
    /// The card.
    pub card_id: String,
    /// The custom code the cardExt gave.
    pub code: Option<String>,
    /// The channel tag.
    pub outer_str: Option<String>,
    /// The legacy integer channel id.
    pub outer_id: Option<i64>,
    /// FIX_TERM validity starts here instead of at the claim.
    pub fixed_begintimestamp: Option<i64>,
    /// The cardExt, which works once.
    pub card_ext: Option<SignedCardExt>,
}

/// A code as a merchant sees it.
#[derive(Debug, Clone)]
pub struct CodeView {
    /// The stored code.
    pub user_card: UserCard,
    /// Its state now (a usable code past its window is `EXPIRE`).
    pub status: UserCardStatus,
    /// Whether `/card/code/consume` would succeed now.
    pub can_consume: bool,
}

/// What a deposit did.
#[derive(Debug, Clone, Default)]
pub struct Deposited {
    /// Codes newly deposited.
    pub succ: Vec<String>,
    /// Codes deposited before.
    pub duplicate: Vec<String>,
}

/// Claims, code queries and redemptions.
#[derive(Debug, Clone)]
pub struct CodeService {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    ids: IdGen,
    code_key: Arc<[u8]>,
}

impl CodeService {
    /// A service over `store`; `code_key` keys every account's encrypt_code.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>, ids: IdGen, code_key: Arc<[u8]>) -> Self {
        Self {
            store,
            clock,
            ids,
            code_key,
        }
    }

    /// The encrypt_code of a code of this Service Account.
    #[must_use]
    pub fn encrypt_code(&self, appid: &str, code: &str) -> String {
        CodeCipher::new(&self.code_key, appid).encrypt(code)
    }

    /// Puts a card into a user's card package: checks the card's state, stock, the user's
    /// limit and validity, allocates the code, takes one from stock and records
    /// `user_get_card`, all in one transaction.
    ///
    /// # Errors
    /// Unknown, deleted or unapproved card; no stock; over get_limit; outside validity; a
    /// replayed cardExt; a custom code already taken; storage.
    pub async fn claim(&self, claim: Claim) -> Result<UserCard, DomainError> {
        let (ids, now) = (self.ids.clone(), self.clock.now());
        // Every claim takes from its card's stock, so it locks its card first (see
        // `claim_in`): claims of one card follow each other, and the other writes go on.
        store::write_row_locked(&*self.store, move |tx: &mut dyn Tx| {
            claim_in(tx, &ids, claim.clone(), now)
        })
        .await
    }

    /// `/card/code/get`: a code, its window and whether it can be consumed. With
    /// `check_consume`, a code that cannot be consumed is an error instead of data.
    ///
    /// # Errors
    /// Unknown code, a missing card_id where it is needed, the code's state (with `check_consume`).
    pub async fn get(
        &self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
        check_consume: bool,
    ) -> Result<CodeView, DomainError> {
        let now = self.clock.now();
        let (appid, code, card_id) = (
            appid.to_owned(),
            code.to_owned(),
            card_id.map(str::to_owned),
        );
        let user_card = store::read(&*self.store, move |tx: &mut dyn Tx| {
            find_code(tx, &appid, &code, card_id.as_deref())
        })
        .await?;
        let status = user_card.status_at(now);
        let can_consume = status == UserCardStatus::Normal && now >= user_card.begin_time;
        if check_consume {
            usable(status)?;
        }
        Ok(CodeView {
            user_card,
            status,
            can_consume,
        })
    }

    /// `/card/code/consume`: redeems a code, once, and records `user_consume_card`.
    ///
    /// # Errors
    /// Unknown code, missing card_id, a code that is not usable or not yet valid, storage.
    pub async fn consume(
        &self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
        outer_str: Option<String>,
    ) -> Result<UserCard, DomainError> {
        let now = self.clock.now();
        let (appid, code, card_id) = (
            appid.to_owned(),
            code.to_owned(),
            card_id.map(str::to_owned),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let mut user_card = find_code(tx, &appid, &code, card_id.as_deref())?;
            let event = DomainEvent::UserConsumeCard {
                card_id: user_card.card_id.clone(),
                code: user_card.code.clone(),
                openid: user_card.openid.clone(),
                consume_source: "FROM_API".into(),
                outer_str: outer_str.clone(),
                verify_code: None,
                remark_amount: None,
            };
            redeem(tx, &mut user_card, &event, now)?;
            Ok(user_card)
        })
        .await
    }

    /// `/card/code/decrypt`: the real code behind an encrypt_code of this Service Account.
    ///
    /// # Errors
    /// A value that is not an encrypt_code of this account.
    pub fn decrypt(&self, appid: &str, encrypt_code: &str) -> Result<String, DomainError> {
        CodeCipher::new(&self.code_key, appid)
            .decrypt(encrypt_code)
            .map_err(|error| DomainError::BadEncryptCode(error.to_string()))
    }

    /// `/card/code/unavailable`: makes a usable code unusable, for good.
    ///
    /// # Errors
    /// Unknown code, missing card_id, a code that is not usable, storage.
    pub async fn make_unavailable(
        &self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
    ) -> Result<(), DomainError> {
        let now = self.clock.now();
        let (appid, code, card_id) = (
            appid.to_owned(),
            code.to_owned(),
            card_id.map(str::to_owned),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let user_card = find_code(tx, &appid, &code, card_id.as_deref())?;
            usable(user_card.status_at(now))?;
            tx.set_user_card_status(user_card.id, UserCardStatus::Unavailable, None)?;
            Ok(())
        })
        .await
    }

    /// `/card/code/update`: gives a custom-code card's code a new code string.
    ///
    /// # Errors
    /// Unknown code, a system-code card, a new code already taken, storage.
    pub async fn update_code(
        &self,
        appid: &str,
        code: &str,
        card_id: &str,
        new_code: &str,
    ) -> Result<(), DomainError> {
        check_code_text("new_code", new_code)?;
        let (appid, code, card_id, new_code) = (
            appid.to_owned(),
            code.to_owned(),
            card_id.to_owned(),
            new_code.to_owned(),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let card = owned_card(tx, &appid, &card_id)?;
            if card.code_mode == "system" {
                return Err(DomainError::WrongCodeMode(format!(
                    "card {card_id} uses system codes; only custom-code cards can change a code"
                )));
            }
            let user_card = find_code(tx, &appid, &code, Some(&card_id))?;
            if tx.code_in_use(&card_id, &new_code)? {
                return Err(DomainError::CodeTaken(new_code.clone()));
            }
            tx.set_user_card_code(user_card.id, &new_code)?;
            Ok(())
        })
        .await
    }

    /// `/card/user/getcardlist`: the codes a user holds of this account's cards.
    ///
    /// # Errors
    /// An openid that is not a user of this account, storage.
    pub async fn card_list(
        &self,
        appid: &str,
        openid: &str,
        card_id: Option<&str>,
    ) -> Result<Vec<UserCard>, DomainError> {
        let now = self.clock.now();
        let (appid, openid, card_id) = (
            appid.to_owned(),
            openid.to_owned(),
            card_id.map(str::to_owned),
        );
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let user_id = tx
                .user_id_by_openid(&appid, &openid)?
                .ok_or_else(|| DomainError::UnknownOpenid(openid.clone()))?;
            Ok(tx
                .user_cards_of_user(&user_id)?
                .into_iter()
                .filter(|user_card| {
                    user_card.appid == appid
                        && card_id
                            .as_deref()
                            .is_none_or(|card_id| user_card.card_id == card_id)
                })
                // Compat: codes.md §8 — codes the user still holds, usable or not; gone ones are left out.
                .filter(|user_card| {
                    matches!(
                        user_card.status_at(now),
                        UserCardStatus::Normal | UserCardStatus::Expire | UserCardStatus::Gifting
                    )
                })
                .collect())
        })
        .await
    }

    /// `/card/code/deposit`: imports codes for a deposit-mode card.
    ///
    /// # Errors
    /// A bad code list, a card that is not in deposit mode, storage.
    pub async fn deposit(
        &self,
        appid: &str,
        card_id: &str,
        codes: Vec<String>,
    ) -> Result<Deposited, DomainError> {
        check_code_list(&codes, true)?;
        let (appid, card_id) = (appid.to_owned(), card_id.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let card = owned_card(tx, &appid, &card_id)?;
            require_deposit_mode(&card)?;
            let duplicate = tx.deposit_codes(&card_id, &codes)?;
            let succ = codes
                .clone()
                .into_iter()
                .filter(|code| !duplicate.contains(code))
                .collect();
            Ok(Deposited { succ, duplicate })
        })
        .await
    }

    /// `/card/code/getdepositcount`: how many codes were deposited for a card.
    ///
    /// # Errors
    /// A card that is unknown or not in deposit mode, storage.
    pub async fn deposit_count(&self, appid: &str, card_id: &str) -> Result<u64, DomainError> {
        let (appid, card_id) = (appid.to_owned(), card_id.to_owned());
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let card = owned_card(tx, &appid, &card_id)?;
            require_deposit_mode(&card)?;
            Ok(tx.deposited_count(&card_id)?)
        })
        .await
    }

    /// `/card/code/checkcode`: which of these codes were deposited.
    ///
    /// # Errors
    /// A bad code list, a card that is unknown or not in deposit mode, storage.
    pub async fn check_codes(
        &self,
        appid: &str,
        card_id: &str,
        codes: Vec<String>,
    ) -> Result<(Vec<String>, Vec<String>), DomainError> {
        check_code_list(&codes, false)?;
        let (appid, card_id) = (appid.to_owned(), card_id.to_owned());
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let card = owned_card(tx, &appid, &card_id)?;
            require_deposit_mode(&card)?;
            let exist = tx.deposited_among(&card_id, &codes)?;
            let not_exist = codes
                .clone()
                .into_iter()
                .filter(|code| !exist.contains(code))
                .collect();
            Ok((exist, not_exist))
        })
        .await
    }

    /// A user's card package, newest first, with each code's state now.
    ///
    /// # Errors
    /// Unknown user, storage.
    pub async fn card_package(&self, user_id: &str) -> Result<Vec<PackagedCard>, DomainError> {
        let now = self.clock.now();
        let user_id = user_id.to_owned();
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            if tx.user(&user_id)?.is_none() {
                return Err(DomainError::UnknownUser(user_id.clone()));
            }
            let mut package = Vec::new();
            for user_card in tx.user_cards_of_user(&user_id)?.into_iter().rev() {
                let status = user_card.status_at(now);
                if matches!(status, UserCardStatus::Delete | UserCardStatus::GiftSucc) {
                    continue;
                }
                if let Some(card) = tx.card(&user_card.card_id)? {
                    let ticket = tx
                        .code_extra(user_card.id, CodeExtra::TicketInfo)?
                        .and_then(|text| serde_json::from_str(&text).ok());
                    let member = if card.card_type == "MEMBER_CARD" {
                        Some(crate::domain::members::member_of(tx, &card, &user_card)?)
                    } else {
                        None
                    };
                    package.push(PackagedCard {
                        user_card,
                        status,
                        card,
                        ticket,
                        member,
                    });
                }
            }
            Ok(package)
        })
        .await
    }

    /// The code a user holds, for `wx.openCard` and the card package actions.
    ///
    /// # Errors
    /// The user does not hold that code of that card.
    pub async fn held_code(
        &self,
        user_id: &str,
        card_id: &str,
        code: &str,
    ) -> Result<(UserCard, Card), DomainError> {
        let (user_id, card_id, code) = (user_id.to_owned(), card_id.to_owned(), code.to_owned());
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            held(tx, &user_id, &card_id, &code)
        })
        .await
    }

    /// The user deletes a card from the card package (`user_del_card`).
    ///
    /// # Errors
    /// The user does not hold that code, it is already gone, storage.
    pub async fn delete_from_package(
        &self,
        user_id: &str,
        card_id: &str,
        code: &str,
    ) -> Result<(), DomainError> {
        let now = self.clock.now();
        let (user_id, card_id, code) = (user_id.to_owned(), card_id.to_owned(), code.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let (user_card, _) = held(tx, &user_id, &card_id, &code)?;
            if user_card.status == UserCardStatus::Delete {
                return Err(DomainError::CodeNotUsable {
                    status: UserCardStatus::Delete,
                    why: "it was deleted already",
                });
            }
            tx.set_user_card_status(user_card.id, UserCardStatus::Delete, None)?;
            DomainEvent::UserDelCard {
                card_id: user_card.card_id,
                code: user_card.code,
                openid: user_card.openid,
            }
            .record(tx, &user_card.appid, now)?;
            Ok(())
        })
        .await
    }

    /// The user opens a card; a member card with `need_push_on_view` pushes `user_view_card`.
    ///
    /// # Errors
    /// The user does not hold that code, storage.
    pub async fn view(
        &self,
        user_id: &str,
        card_id: &str,
        code: &str,
    ) -> Result<(UserCard, Card), DomainError> {
        let now = self.clock.now();
        let (user_id, card_id, code) = (user_id.to_owned(), card_id.to_owned(), code.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let (user_card, card) = held(tx, &user_id, &card_id, &code)?;
            let pushes = card
                .document_value()?
                .pointer("/base_info/need_push_on_view")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if pushes {
                DomainEvent::UserViewCard {
                    card_id: user_card.card_id.clone(),
                    code: user_card.code.clone(),
                    openid: user_card.openid.clone(),
                }
                .record(tx, &user_card.appid, now)?;
            }
            Ok((user_card, card))
        })
        .await
    }
}

impl CodeService {
    /// `/card/code/mark`: marks (or releases) a friends' coupon code for a user.
    ///
    /// # Errors
    /// Unknown code or openid, a code marked by another user, storage.
    pub async fn mark(
        &self,
        appid: &str,
        code: &str,
        card_id: &str,
        openid: &str,
        is_mark: bool,
    ) -> Result<(), DomainError> {
        let (appid, code, card_id, openid) = (
            appid.to_owned(),
            code.to_owned(),
            card_id.to_owned(),
            openid.to_owned(),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            if tx.user_id_by_openid(&appid, &openid)?.is_none() {
                return Err(DomainError::UnknownOpenid(openid.clone()));
            }
            let user_card = find_code(tx, &appid, &code, Some(&card_id))?;
            let current = tx.code_extra(user_card.id, CodeExtra::Mark)?;
            if current.as_deref().is_some_and(|marked| marked != openid) {
                return Err(DomainError::MarkedByOther(format!("the code is marked for {}; release it with is_mark false for that openid first", current.unwrap_or_default())));
            }
            tx.set_code_extra(user_card.id, CodeExtra::Mark, is_mark.then_some(openid.as_str()))?;
            Ok(())
        })
        .await
    }

    /// The per-code ticket APIs (`movieticket/updateuser`, `boardingpass/checkin`,
    /// `meetingticket/updateuser`): stores the ticket's details on a code of a card of
    /// `card_type`.
    ///
    /// # Errors
    /// Unknown code, a card of another type, storage.
    pub async fn update_ticket(
        &self,
        appid: &str,
        code: &str,
        card_id: Option<&str>,
        card_type: &'static str,
        info: Value,
    ) -> Result<(), DomainError> {
        let (appid, code, card_id) = (
            appid.to_owned(),
            code.to_owned(),
            card_id.map(str::to_owned),
        );
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let user_card = find_code(tx, &appid, &code, card_id.as_deref())?;
            let card = tx
                .card(&user_card.card_id)?
                .ok_or_else(|| DomainError::UnknownCard(user_card.card_id.clone()))?;
            if card.card_type != card_type {
                return Err(DomainError::WrongCodeMode(format!(
                    "card {} is a {}; this API is for {card_type} cards",
                    card.card_id, card.card_type
                )));
            }
            tx.set_code_extra(user_card.id, CodeExtra::TicketInfo, Some(&info.to_string()))?;
            Ok(())
        })
        .await
    }
}

/// How long a gift waits for its receiver (codes.md §1: 24 h in the gift-card doc).
pub const GIFT_LIFETIME: i64 = 24 * 3600;

impl CodeService {
    /// The user gifts a code: it is `GIFTING` until a friend accepts it or 24 h pass.
    ///
    /// # Errors
    /// The user does not hold it, it is not usable, the card may not be gifted, storage.
    pub async fn gift(
        &self,
        user_id: &str,
        card_id: &str,
        code: &str,
    ) -> Result<String, DomainError> {
        let (now, ids) = (self.clock.now(), self.ids.clone());
        let (user_id, card_id, code) = (user_id.to_owned(), card_id.to_owned(), code.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let (user_card, card) = held(tx, &user_id, &card_id, &code)?;
            usable(user_card.status_at(now))?;
            let giftable = card
                .document_value()?
                .pointer("/base_info/can_give_friend")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if !giftable {
                return Err(DomainError::CardFunctionNotSupported(format!(
                    "card {card_id} has can_give_friend false"
                )));
            }
            let seq = IdGen::next(tx, "gift")?;
            let gift_id = format!("gift_{}", ids.hex("gift", &seq, 12));
            tx.insert_gift(&crate::domain::model::Gift {
                gift_id: gift_id.clone(),
                user_card_id: user_card.id,
                from_user_id: user_id.clone(),
                status: "pending".into(),
                created_at: now,
                expires_at: now + GIFT_LIFETIME,
                to_user_id: None,
            })?;
            tx.set_user_card_status(user_card.id, UserCardStatus::Gifting, None)?;
            DomainEvent::UserGiftingCard {
                card_id: user_card.card_id,
                code: user_card.code,
                openid: user_card.openid,
                friend_openid: None,
                is_return_back: false,
            }
            .record(tx, &user_card.appid, now)?;
            Ok(gift_id)
        })
        .await
    }

    /// A friend accepts a gift: a system code changes for safety (the giver's becomes
    /// `GIFT_SUCC`), a custom or deposited code moves as it is; the friend's `user_get_card`
    /// names the giver and the old code.
    ///
    /// # Errors
    /// Unknown or settled gift, the giver accepting their own gift, storage.
    pub async fn accept_gift(&self, gift_id: &str, user_id: &str) -> Result<UserCard, DomainError> {
        let (now, ids) = (self.clock.now(), self.ids.clone());
        let (gift_id, user_id) = (gift_id.to_owned(), user_id.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let gift = tx
                .gift(&gift_id)?
                .ok_or_else(|| DomainError::NotHolder(format!("no gift has the id {gift_id:?}")))?;
            if gift.status != "pending" || now >= gift.expires_at {
                return Err(DomainError::CodeNotUsable {
                    status: UserCardStatus::GiftTimeout,
                    why: "the gift was accepted already or timed out",
                });
            }
            if gift.from_user_id == user_id {
                return Err(DomainError::NotHolder(
                    "the giver cannot accept their own gift".into(),
                ));
            }
            let given = tx
                .user_card(gift.user_card_id)?
                .ok_or_else(|| DomainError::UnknownCode(gift.user_card_id.to_string()))?;
            let card = tx
                .card(&given.card_id)?
                .ok_or_else(|| DomainError::UnknownCard(given.card_id.clone()))?;
            if tx.user(&user_id)?.is_none() {
                return Err(DomainError::UnknownUser(user_id.clone()));
            }
            let openid = openid_in(tx, &user_id, &given.appid)?;
            let received = if card.code_mode == "system" {
                tx.set_user_card_status(given.id, UserCardStatus::GiftSucc, None)?;
                let code = allocate_code(tx, &ids, &card, None)?;
                let fresh = UserCard {
                    id: 0,
                    code,
                    user_id: user_id.clone(),
                    openid: openid.clone(),
                    status: UserCardStatus::Normal,
                    claimed_at: now,
                    consumed_at: None,
                    ..given.clone()
                };
                let id = tx.insert_user_card(&fresh)?;
                UserCard { id, ..fresh }
            } else {
                tx.move_user_card(given.id, &user_id, &openid)?;
                UserCard {
                    user_id: user_id.clone(),
                    openid: openid.clone(),
                    status: UserCardStatus::Normal,
                    ..given.clone()
                }
            };
            tx.set_gift_status(&gift_id, "accepted", Some(&user_id))?;
            let owner = tx
                .app(&given.appid)?
                .ok_or_else(|| DomainError::UnknownApp(given.appid.clone()))?;
            let union_id = match &owner.open_platform_id {
                Some(open_platform) => tx
                    .unionids_of_user(&user_id)?
                    .into_iter()
                    .find_map(|(id, unionid)| (id == *open_platform).then_some(unionid)),
                None => None,
            };
            DomainEvent::UserGetCard {
                card_id: received.card_id.clone(),
                code: received.code.clone(),
                openid,
                union_id,
                outer_str: None,
                outer_id: None,
                is_give_by_friend: true,
                friend_openid: Some(given.openid.clone()),
                old_code: Some(given.code.clone()),
            }
            .record(tx, &given.appid, now)?;
            Ok(received)
        })
        .await
    }

    /// Returns every gift not accepted in time to its giver (`user_gifting_card` with
    /// IsReturnBack); returns how many.
    ///
    /// # Errors
    /// Storage.
    pub async fn settle_gift_timeouts(&self) -> Result<usize, DomainError> {
        let now = self.clock.now();
        let due = store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(tx.gifts_due(now)?.len())
        })
        .await?;
        if due == 0 {
            return Ok(0);
        }
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let gifts = tx.gifts_due(now)?;
            for gift in &gifts {
                tx.set_gift_status(&gift.gift_id, "returned", None)?;
                if let Some(user_card) = tx.user_card(gift.user_card_id)? {
                    // Compat: codes.md §1 — the card goes back to the giver, usable again.
                    tx.set_user_card_status(user_card.id, UserCardStatus::Normal, None)?;
                    DomainEvent::UserGiftingCard {
                        card_id: user_card.card_id,
                        code: user_card.code,
                        openid: user_card.openid,
                        friend_openid: None,
                        is_return_back: true,
                    }
                    .record(tx, &user_card.appid, now)?;
                }
            }
            Ok(gifts.len())
        })
        .await
    }
}

/// The user's openid in an app.
pub(crate) fn openid_in(
    tx: &mut dyn Tx,
    user_id: &str,
    appid: &str,
) -> Result<String, DomainError> {
    tx.openid_of(appid, user_id)?
        .ok_or_else(|| DomainError::UnknownUser(user_id.to_owned()))
}

/// The claim of [`CodeService::claim`] inside the caller's transaction (the card-opening
/// component claims and activates in one).
pub(crate) fn claim_in(
    tx: &mut dyn Tx,
    ids: &IdGen,
    claim: Claim,
    now: i64,
) -> Result<UserCard, DomainError> {
    // The facts are cached across claims; the stock, which every claim changes, is read apart.
    // First: where writers run side by side this locks the card, and the stock and get_limit
    // checks below then see every earlier claim of it.
    let card = tx
        .lock_card_facts(&claim.card_id)?
        .ok_or_else(|| DomainError::UnknownCard(claim.card_id.clone()))?;
    let owner = tx
        .app(&card.appid)?
        .ok_or_else(|| DomainError::UnknownApp(card.appid.clone()))?;
    let user = tx
        .user(&claim.user_id)?
        .ok_or_else(|| DomainError::UnknownUser(claim.user_id.clone()))?;
    let openid = openid_in(tx, &user.user_id, &owner.appid)?;
    match card.status {
        CardStatus::VerifyOk | CardStatus::Dispatch => {}
        CardStatus::Delete => {
            return Err(DomainError::CardNotUsable {
                card_id: card.card_id,
                status: card.status,
                why: "deleted cards cannot be claimed",
            })
        }
        CardStatus::NotVerify | CardStatus::VerifyFail => {
            let whitelist = tx.whitelist(&owner.appid)?;
            let listed = whitelist.iter().any(|(kind, value)| {
                (kind == "openid" && *value == openid)
                    || (kind == "username" && *value == user.nickname)
            });
            if !listed {
                return Err(DomainError::NotWhitelisted(card.card_id));
            }
        }
    }
    if tx.stock(&card.card_id)?.unwrap_or(0) <= 0 {
        return Err(DomainError::StockExhausted(card.card_id));
    }
    let held = tx.count_user_cards(&user.user_id, &card.card_id)?;
    if i64::try_from(held).unwrap_or(i64::MAX) >= card.get_limit {
        return Err(DomainError::GetLimitReached {
            card_id: card.card_id,
            held,
            limit: card.get_limit,
        });
    }
    let (begin_time, end_time) = validity(&card, claim.fixed_begintimestamp.unwrap_or(now))?;
    if end_time < now {
        return Err(DomainError::OutsideValidity(format!("card {} stopped being valid at {end_time} (now {now}); widen its date_info with /card/update", card.card_id)));
    }
    if let Some(card_ext) = &claim.card_ext {
        if !tx.use_card_ext(&card.card_id, card_ext, now)? {
            return Err(DomainError::ReplayedCardExt);
        }
    }
    let code = allocate_code(tx, ids, &card, claim.code.as_deref())?;
    let user_card = UserCard {
        id: 0,
        card_id: card.card_id.clone(),
        appid: owner.appid.clone(),
        code,
        user_id: user.user_id.clone(),
        openid: openid.clone(),
        status: UserCardStatus::Normal,
        begin_time,
        end_time,
        outer_str: claim.outer_str.clone(),
        claimed_at: now,
        consumed_at: None,
    };
    let id = tx.insert_user_card(&user_card)?;
    // Only the stock changes: the card's document is not rewritten.
    if !tx.take_stock(&card.card_id, now)? {
        return Err(DomainError::StockExhausted(card.card_id));
    }
    let union_id = match &owner.open_platform_id {
        Some(open_platform) => tx.unionid_of(open_platform, &user.user_id)?,
        None => None,
    };
    DomainEvent::UserGetCard {
        card_id: card.card_id.clone(),
        code: user_card.code.clone(),
        openid,
        union_id,
        outer_str: claim.outer_str,
        outer_id: claim.outer_id,
        is_give_by_friend: false,
        friend_openid: None,
        old_code: None,
    }
    .record(tx, &owner.appid, now)?;
    Ok(UserCard { id, ..user_card })
}

pub(crate) fn owned_card(tx: &mut dyn Tx, appid: &str, card_id: &str) -> Result<Card, DomainError> {
    match tx.card(card_id)? {
        Some(card) if card.appid == appid => Ok(card),
        _ => Err(DomainError::UnknownCard(card_id.to_owned())),
    }
}

fn held(
    tx: &mut dyn Tx,
    user_id: &str,
    card_id: &str,
    code: &str,
) -> Result<(UserCard, Card), DomainError> {
    let user_card = tx
        .user_cards_of_user(user_id)?
        .into_iter()
        .find(|user_card| user_card.card_id == card_id && user_card.code == code)
        .ok_or_else(|| {
            DomainError::NotHolder(format!("the user holds no code {code:?} of card {card_id}"))
        })?;
    let card = tx
        .card(card_id)?
        .ok_or_else(|| DomainError::UnknownCard(card_id.to_owned()))?;
    Ok((user_card, card))
}

/// Finds a code of this account. A custom-code card's codes are unique per card only, so
/// card_id is needed for them (codes.md §10).
pub(crate) fn find_code(
    tx: &mut dyn Tx,
    appid: &str,
    code: &str,
    card_id: Option<&str>,
) -> Result<UserCard, DomainError> {
    check_code_text("code", code)?;
    // Codes carry their account, so a hit needs no look at the card; only a miss does, to
    // tell an unknown card (40073) from an unknown code (40056).
    let mut found = tx.user_cards_by_code(appid, code, card_id)?;
    match found.len() {
        0 => {
            if let Some(card_id) = card_id {
                owned_card(tx, appid, card_id)?;
            }
            Err(DomainError::UnknownCode(code.to_owned()))
        }
        1 => {
            let user_card = found.remove(0);
            if card_id.is_none() {
                let card = tx
                    .card(&user_card.card_id)?
                    .ok_or_else(|| DomainError::UnknownCard(user_card.card_id.clone()))?;
                if card.code_mode != "system" {
                    return Err(DomainError::CardIdRequired(format!(
                        "{} uses custom codes: give card_id with the code",
                        card.card_id
                    )));
                }
            }
            Ok(user_card)
        }
        _ => Err(DomainError::CardIdRequired(format!(
            "several cards have the code {code:?}: give card_id with the code"
        ))),
    }
}

/// Consumes a usable code that is inside its window and records `event` with the change.
fn redeem(
    tx: &mut dyn Tx,
    user_card: &mut UserCard,
    event: &DomainEvent,
    now: i64,
) -> Result<(), DomainError> {
    usable(user_card.status_at(now))?;
    if now < user_card.begin_time {
        return Err(DomainError::OutsideValidity(format!(
            "the code is valid from {} (now {now}); it cannot be consumed before",
            user_card.begin_time
        )));
    }
    tx.set_user_card_status(user_card.id, UserCardStatus::Consumed, Some(now))?;
    event.record(tx, &user_card.appid, now)?;
    user_card.status = UserCardStatus::Consumed;
    user_card.consumed_at = Some(now);
    Ok(())
}

/// Errors for a code that cannot be consumed (codes.md §1 state table).
pub(crate) fn usable(status: UserCardStatus) -> Result<(), DomainError> {
    let why = match status {
        UserCardStatus::Normal => return Ok(()),
        UserCardStatus::Consumed => "it was consumed already",
        UserCardStatus::Expire => "its validity window is over",
        UserCardStatus::Gifting => "it is being gifted",
        UserCardStatus::GiftSucc => "it was gifted to someone else",
        UserCardStatus::GiftTimeout => "its gift timed out",
        UserCardStatus::Delete => "the user deleted it",
        UserCardStatus::Unavailable => "the merchant made it unavailable",
    };
    Err(DomainError::CodeNotUsable { status, why })
}

fn require_deposit_mode(card: &Card) -> Result<(), DomainError> {
    if card.code_mode == "deposit" {
        Ok(())
    } else {
        Err(DomainError::WrongCodeMode(format!(
            "card {} is not in deposit mode (get_custom_code_mode GET_CUSTOM_CODE_MODE_DEPOSIT)",
            card.card_id
        )))
    }
}

fn check_code_text(field: &'static str, code: &str) -> Result<(), DomainError> {
    if code.is_empty() || code.len() > 20 {
        return Err(DomainError::Invalid {
            field,
            reason: format!("a code is 1 to 20 characters, got {} bytes", code.len()),
        });
    }
    Ok(())
}

fn check_code_list(codes: &[String], reject_duplicates: bool) -> Result<(), DomainError> {
    if codes.is_empty() || codes.len() > MAX_CODES_PER_CALL {
        return Err(DomainError::BadCodeList {
            rule: CodeListRule::TooMany,
            reason: format!(
                "send 1 to {MAX_CODES_PER_CALL} codes per call, got {}",
                codes.len()
            ),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for code in codes {
        if code.is_empty() {
            return Err(DomainError::BadCodeList {
                rule: CodeListRule::Empty,
                reason: "the list has an empty code".into(),
            });
        }
        check_code_text("code", code)?;
        if !seen.insert(code.as_str()) && reject_duplicates {
            return Err(DomainError::BadCodeList {
                rule: CodeListRule::Duplicate,
                reason: format!("the code {code:?} is in the list twice"),
            });
        }
    }
    Ok(())
}

/// The code a claim hands out: the custom code given, a deposited code, or a new system code.
fn allocate_code(
    tx: &mut dyn Tx,
    ids: &IdGen,
    card: &Card,
    given: Option<&str>,
) -> Result<String, DomainError> {
    match (card.code_mode.as_str(), given) {
        ("custom", Some(code)) => {
            check_code_text("code", code)?;
            if tx.code_in_use(&card.card_id, code)? {
                return Err(DomainError::CodeTaken(code.to_owned()));
            }
            Ok(code.to_owned())
        }
        ("custom", None) => Err(DomainError::MissingCode(format!(
            "{} uses custom codes: the cardExt must carry the code",
            card.card_id
        ))),
        ("deposit", _) => tx
            .take_deposited_code(&card.card_id)?
            .ok_or_else(|| DomainError::StockExhausted(card.card_id.clone())),
        _ => loop {
            // System codes: 12 digits, unique across the account so that a code alone finds it.
            let seq = IdGen::next(tx, "code")?;
            let code = ids.digits("code", &seq, 12);
            if !tx.code_issued_in_app(&card.appid, &code)? {
                break Ok(code);
            }
        },
    }
}

/// The part of a card document that [`validity`] reads: every claim reads it, so the rest of
/// the document is skipped rather than built into a value.
#[derive(serde::Deserialize)]
struct DocumentDates {
    #[serde(default)]
    base_info: Option<BaseInfoDates>,
}

#[derive(serde::Deserialize)]
struct BaseInfoDates {
    #[serde(default)]
    date_info: Value,
}

/// A code's validity window from its card's `date_info` (cards.md §3.8).
fn validity(card: &Card, start: i64) -> Result<(i64, i64), DomainError> {
    let dates: DocumentDates = card.document_as()?;
    let date_info = dates
        .base_info
        .map_or(Value::Null, |base_info| base_info.date_info);
    let number = |key: &str| date_info.get(key).and_then(Value::as_i64);
    let kind = match date_info.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Number(number)) if number.as_i64() == Some(1) => {
            "DATE_TYPE_FIX_TIME_RANGE".into()
        }
        Some(Value::Number(number)) if number.as_i64() == Some(2) => "DATE_TYPE_FIX_TERM".into(),
        _ => "DATE_TYPE_PERMANENT".into(),
    };
    Ok(match kind.as_str() {
        "DATE_TYPE_FIX_TIME_RANGE" => (
            number("begin_timestamp").unwrap_or(0),
            number("end_timestamp").unwrap_or(FOREVER),
        ),
        "DATE_TYPE_FIX_TERM" => {
            // Compat: cards.md §3.8 — the claim day is day 1; the window runs from midnight
            // (UTC+8) fixed_begin_term days after the claim, for fixed_term days.
            let begin = start_of_day(start) + number("fixed_begin_term").unwrap_or(0).max(0) * DAY;
            let end = begin + number("fixed_term").unwrap_or(1).max(1) * DAY - 1;
            (
                begin,
                number("end_timestamp").map_or(end, |hard_end| end.min(hard_end)),
            )
        }
        _ => (start, FOREVER),
    })
}

fn start_of_day(time: i64) -> i64 {
    time - (time + UTC_PLUS_8).rem_euclid(DAY)
}

/// Whether a Mini Program may hand out cards of a Service Account: both on one open platform
/// account (the source document's step 2 for `wx.addCard` in a Mini Program).
#[must_use]
pub fn may_distribute(mini_program: &App, owner: &App) -> bool {
    mini_program.kind == AppKind::MiniProgram
        && mini_program.open_platform_id.is_some()
        && mini_program.open_platform_id == owner.open_platform_id
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_day_starts_at_midnight_in_utc_plus_8() {
        // 2023-11-15 00:00:00 +08:00 is 1699977600.
        assert_eq!(start_of_day(1_699_977_600), 1_699_977_600);
        assert_eq!(start_of_day(1_699_977_600 + 3600 * 23), 1_699_977_600);
        assert_eq!(start_of_day(1_699_977_600 - 1), 1_699_977_600 - DAY);
    }
}

/// One card in a user's card package.
#[derive(Debug, Clone)]
pub struct PackagedCard {
    /// The code the user holds.
    pub user_card: UserCard,
    /// Its status now (EXPIRE follows the clock).
    pub status: UserCardStatus,
    /// Its card template.
    pub card: Card,
    /// The details a ticket API last set on the code (movie, flight, meeting tickets).
    pub ticket: Option<Value>,
    /// The member, for member cards.
    pub member: Option<crate::domain::members::Member>,
}

/// What a user does at the counter with a card's cells (DESIGN.md §8, simulator only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CounterAction {
    /// Redeems the code through the self-consume cell.
    SelfConsume {
        /// The verify code the user typed (needed when the cell asks for one).
        verify_code: Option<String>,
        /// The amount the user noted (needed when the cell asks for one).
        remark_amount: Option<String>,
    },
    /// Pays through the quick-pay cell, which redeems the code.
    Pay {
        /// The amount paid, in fen.
        fee: i64,
        /// The amount due before the discount, in fen.
        original_fee: i64,
    },
}

impl CodeService {
    /// The user redeems a held code through the card's self-consume cell or pays through its
    /// pay cell: the code becomes `CONSUMED` and `user_consume_card` (with VerifyCode and
    /// RemarkAmount) or `user_pay_from_pay_cell` is recorded, in one transaction.
    ///
    /// # Errors
    /// The user does not hold the code, the cell is closed, a value the cell asks for is
    /// missing, the code is not usable now, storage.
    pub async fn at_counter(
        &self,
        user_id: &str,
        card_id: &str,
        code: &str,
        action: CounterAction,
    ) -> Result<UserCard, DomainError> {
        let (now, ids) = (self.clock.now(), self.ids.clone());
        let (user_id, card_id, code) = (user_id.to_owned(), card_id.to_owned(), code.to_owned());
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let (mut user_card, _) = held(tx, &user_id, &card_id, &code)?;
            let cells: Value = tx
                .card_cells(&card_id)?
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null);
            let event = match action.clone() {
                CounterAction::SelfConsume {
                    verify_code,
                    remark_amount,
                } => {
                    let cell = cells.get("self_consume_cell").cloned().unwrap_or(Value::Null);
                    if !cell.get("is_open").and_then(Value::as_bool).unwrap_or(false) {
                        return Err(DomainError::CardFunctionNotSupported(format!(
                            "card {card_id} has no open self-consume cell; the merchant opens it with /card/selfconsumecell/set"
                        )));
                    }
                    let asks = |flag: &str| cell.get(flag).and_then(Value::as_bool).unwrap_or(false);
                    if asks("need_verify_cod") && verify_code.as_deref().is_none_or(str::is_empty) {
                        return Err(DomainError::MissingField("verify_code"));
                    }
                    if asks("need_remark_amount") && remark_amount.as_deref().is_none_or(str::is_empty) {
                        return Err(DomainError::MissingField("remark_amount"));
                    }
                    DomainEvent::UserConsumeCard {
                        card_id: user_card.card_id.clone(),
                        code: user_card.code.clone(),
                        openid: user_card.openid.clone(),
                        // Compat: events.md §3.5 lists no value for self-redemption.
                        consume_source: "FROM_SELF_CONSUME".into(),
                        outer_str: None,
                        verify_code,
                        remark_amount,
                    }
                }
                CounterAction::Pay { fee, original_fee } => {
                    if !cells.get("pay_cell").and_then(Value::as_bool).unwrap_or(false) {
                        return Err(DomainError::CardFunctionNotSupported(format!(
                            "card {card_id} has no open pay cell; the merchant opens it with /card/paycell/set"
                        )));
                    }
                    let seq = IdGen::next(tx, "trans")?;
                    DomainEvent::UserPayFromPayCell {
                        card_id: user_card.card_id.clone(),
                        code: user_card.code.clone(),
                        openid: user_card.openid.clone(),
                        trans_id: format!("42{}", ids.digits("trans", &seq, 26)),
                        fee,
                        original_fee,
                    }
                }
            };
            redeem(tx, &mut user_card, &event, now)?;
            Ok(user_card)
        })
        .await
    }
}
