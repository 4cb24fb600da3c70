//! Events the platform pushes to a Service Account's server, as the domain records them.
//! They are written to the outbox in the transaction of the change that causes them; the
//! delivery worker turns them into WeChat's XML.

use serde::{Deserialize, Serialize};

use crate::domain::model::OutboxEvent;
use crate::store::{StoreResult, Tx};

/// `FromUserName` of events no user causes (review results).
///
/// Compat: events.md §3.1 — WeChat's sample shows an arbitrary sender for these system
/// events; wxcard names itself so a merchant can tell them apart.
pub const SYSTEM_SENDER: &str = "wxcard-platform";

/// One pushable event. The variant names follow WeChat's `Event` values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A card template was approved.
    CardPassCheck {
        /// The card.
        card_id: String,
    },
    /// A card template was rejected.
    CardNotPassCheck {
        /// The card.
        card_id: String,
        /// Why.
        refuse_reason: String,
    },
    /// A user claimed a card.
    UserGetCard {
        /// The card.
        card_id: String,
        /// The code the user now holds.
        code: String,
        /// The user's openid in the card's Service Account.
        openid: String,
        /// The user's unionid, when the account is on an open platform account.
        union_id: Option<String>,
        /// The channel tag of the claim.
        outer_str: Option<String>,
        /// The legacy integer channel id.
        outer_id: Option<i64>,
        /// Received as a gift.
        is_give_by_friend: bool,
        /// The giver's openid, for a gift.
        #[serde(default)]
        friend_openid: Option<String>,
        /// The giver's code before the gift changed it.
        #[serde(default)]
        old_code: Option<String>,
    },
    /// A user gifted a card, or an unaccepted gift came back.
    UserGiftingCard {
        /// The card.
        card_id: String,
        /// The gifted code.
        code: String,
        /// The giver's openid.
        openid: String,
        /// The receiver's openid, once known.
        friend_openid: Option<String>,
        /// The gift was not accepted in time and came back.
        is_return_back: bool,
    },
    /// A code was redeemed.
    UserConsumeCard {
        /// The card.
        card_id: String,
        /// The code.
        code: String,
        /// The holder's openid.
        openid: String,
        /// `FROM_API` and the rest.
        consume_source: String,
        /// The channel tag passed when redeeming.
        outer_str: Option<String>,
        /// What the user typed when redeeming through the self-consume cell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verify_code: Option<String>,
        /// The amount the user noted when redeeming through the self-consume cell.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remark_amount: Option<String>,
    },
    /// A user paid through a card's quick-pay cell.
    UserPayFromPayCell {
        /// The card.
        card_id: String,
        /// The code.
        code: String,
        /// The payer's openid.
        openid: String,
        /// The (simulated) WeChat Pay transaction id.
        trans_id: String,
        /// The amount paid, in fen.
        fee: i64,
        /// The amount due before the card's discount, in fen.
        original_fee: i64,
    },
    /// A user deleted a card from the card package.
    UserDelCard {
        /// The card.
        card_id: String,
        /// The code.
        code: String,
        /// The user's openid.
        openid: String,
    },
    /// A user opened a member card that pushes views.
    UserViewCard {
        /// The card.
        card_id: String,
        /// The code.
        code: String,
        /// The user's openid.
        openid: String,
    },
    /// A user submitted a one-tap (non-jump) activation form; the card is activated.
    SubmitMembercardUserInfo {
        /// The member card.
        card_id: String,
        /// The code.
        code: String,
        /// The member's openid.
        openid: String,
    },
    /// A member's points or balance changed.
    UpdateMemberCard {
        /// The member card.
        card_id: String,
        /// The code.
        code: String,
        /// The member's openid.
        openid: String,
        /// The points delta.
        modify_bonus: i64,
        /// The balance delta, in fen.
        modify_balance: i64,
    },
}

impl DomainEvent {
    /// WeChat's `Event` name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            DomainEvent::CardPassCheck { .. } => "card_pass_check",
            DomainEvent::CardNotPassCheck { .. } => "card_not_pass_check",
            DomainEvent::UserGetCard { .. } => "user_get_card",
            DomainEvent::UserGiftingCard { .. } => "user_gifting_card",
            DomainEvent::UserConsumeCard { .. } => "user_consume_card",
            DomainEvent::UserPayFromPayCell { .. } => "user_pay_from_pay_cell",
            DomainEvent::UserDelCard { .. } => "user_del_card",
            DomainEvent::UserViewCard { .. } => "user_view_card",
            DomainEvent::SubmitMembercardUserInfo { .. } => "submit_membercard_user_info",
            DomainEvent::UpdateMemberCard { .. } => "update_member_card",
        }
    }

    /// Who the event comes from (`FromUserName`).
    #[must_use]
    pub fn sender(&self) -> &str {
        match self {
            DomainEvent::CardPassCheck { .. } | DomainEvent::CardNotPassCheck { .. } => {
                SYSTEM_SENDER
            }
            DomainEvent::UserGetCard { openid, .. }
            | DomainEvent::UserGiftingCard { openid, .. }
            | DomainEvent::UserConsumeCard { openid, .. }
            | DomainEvent::UserPayFromPayCell { openid, .. }
            | DomainEvent::UserDelCard { openid, .. }
            | DomainEvent::UserViewCard { openid, .. }
            | DomainEvent::SubmitMembercardUserInfo { openid, .. }
            | DomainEvent::UpdateMemberCard { openid, .. } => openid,
        }
    }

    /// Writes the event to the outbox inside the caller's transaction.
    ///
    /// # Errors
    /// When storage fails.
    pub fn record(&self, tx: &mut dyn Tx, appid: &str, now: i64) -> StoreResult<()> {
        let payload = serde_json::to_string(self)
            .map_err(|error| crate::store::StoreError::Corrupt(error.to_string()))?;
        tx.insert_event(appid, self.name(), &payload, now)
    }
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only this Service Account's.
    pub appid: Option<String>,
    /// Only in this delivery state.
    pub status: Option<String>,
    /// Only this event name.
    pub event: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// Reads an outbox row's payload back.
#[must_use]
pub fn decode(event: &OutboxEvent) -> Option<DomainEvent> {
    serde_json::from_value(event.payload.clone()).ok()
}

/// Reads the outbox.
#[derive(Debug, Clone)]
pub struct EventService {
    store: std::sync::Arc<dyn crate::store::Store>,
}

impl EventService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: std::sync::Arc<dyn crate::store::Store>) -> Self {
        Self { store }
    }

    /// Outbox events matching `filter`, newest first.
    ///
    /// # Errors
    /// Storage.
    pub async fn list(
        &self,
        filter: EventFilter,
    ) -> Result<Vec<OutboxEvent>, crate::domain::DomainError> {
        crate::store::read(&*self.store, move |tx: &mut dyn Tx| Ok(tx.events(&filter)?)).await
    }
}

impl EventService {
    /// One event with its delivery attempts.
    ///
    /// # Errors
    /// Unknown event, storage.
    pub async fn event(
        &self,
        id: i64,
    ) -> Result<(OutboxEvent, Vec<crate::domain::model::DeliveryAttempt>), crate::domain::DomainError>
    {
        crate::store::read(&*self.store, move |tx: &mut dyn Tx| {
            let event = tx
                .event(id)?
                .ok_or(crate::domain::DomainError::UnknownEvent(id))?;
            let attempts = tx.delivery_attempts(id)?;
            Ok((event, attempts))
        })
        .await
    }

    /// Puts an event (delivered, dead or waiting) back in the queue with fresh attempts.
    ///
    /// # Errors
    /// Unknown event, storage.
    pub async fn redeliver(&self, id: i64, now: i64) -> Result<(), crate::domain::DomainError> {
        crate::store::write(&*self.store, move |tx: &mut dyn Tx| {
            if tx.requeue_event(id, now)? {
                Ok(())
            } else {
                Err(crate::domain::DomainError::UnknownEvent(id))
            }
        })
        .await
    }
}
