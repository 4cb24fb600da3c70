//! Card event pushes: the XML documents the platform POSTs to a merchant's server.
//!
//! This module owns one type per card event of events.md §3, the common header, rendering to
//! WeChat's XML and parsing it back with quick-xml's pull reader. It does not sign or encrypt a
//! push (`sign` and `crypto` do), and it does not decide when an event fires (the platform's
//! domain does).
//!
//! Parsing is tolerant in the ways real pushes vary: element order does not matter, CDATA and
//! plain text are both accepted, whitespace around values is trimmed, and numbers may be bare
//! or wrapped in CDATA. Elements this module does not know are kept, in order, in
//! [`EventMessage::extra`] and rendered back as CDATA; children nested inside an element are
//! skipped. An unknown `Event` value becomes [`CardEvent::Unknown`] instead of an error.
//!
//! Missing elements: the header and the identifying element of each event (`CardId`, or
//! `OrderId` for `card_pay_order`) are required. Other event elements read as WeChat's
//! "nothing" value when absent (empty string, `0`, `false`), because the field set has grown
//! over the years (`IsRestoreMemberCard` and `IsRecommendByFriend` came late) and old pushes
//! must still parse.

use std::borrow::Cow;

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The `MsgType` of every event push.
pub const MSG_TYPE_EVENT: &str = "event";

/// One pushed event: the common header, the event itself and any elements not modelled here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    /// The elements every event carries.
    pub header: EventHeader,
    /// Which event this is, with its own elements.
    pub event: CardEvent,
    /// Elements this module does not model, as `(element name, text)` in document order.
    /// They are rendered after the event's own elements, as CDATA. Names must be valid XML
    /// names; rendering does not check them.
    pub extra: Vec<(String, String)>,
}

/// The elements every event push starts with (events.md §2).
///
/// `MsgType` is always `event` and `Event` follows from the [`CardEvent`] variant, so neither
/// is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventHeader {
    /// `<ToUserName>`: the developer account's original id (`gh_…`).
    pub to_user_name: String,
    /// `<FromUserName>`: the user's openid, or the platform's sender id for system events.
    pub from_user_name: String,
    /// `<CreateTime>`: Unix seconds; retries of one push carry the same value.
    pub create_time: i64,
}

/// Every card event of events.md §3, one variant per `Event` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEvent {
    /// `card_pass_check`: a card template was approved.
    CardPassCheck(CardPassCheckEvent),
    /// `card_not_pass_check`: a card template was rejected.
    CardNotPassCheck(CardNotPassCheckEvent),
    /// `user_get_card`: a user claimed a card (also when receiving a gift).
    UserGetCard(UserGetCardEvent),
    /// `user_gifting_card`: a user gifted a card, or an unaccepted gift came back.
    UserGiftingCard(UserGiftingCardEvent),
    /// `user_del_card`: a user deleted a card from the wallet.
    UserDelCard(UserDelCardEvent),
    /// `user_consume_card`: a code was redeemed.
    UserConsumeCard(UserConsumeCardEvent),
    /// `user_pay_from_pay_cell`: the user paid through the card's quick-pay cell.
    UserPayFromPayCell(UserPayFromPayCellEvent),
    /// `user_view_card`: the user opened a member card created with `need_push_on_view`.
    UserViewCard(UserViewCardEvent),
    /// `user_enter_session_from_card`: the user went from a card to the account's chat.
    UserEnterSessionFromCard(UserEnterSessionFromCardEvent),
    /// `update_member_card`: a member's bonus or balance changed.
    UpdateMemberCard(UpdateMemberCardEvent),
    /// `card_sku_remind`: the stock alarm fired.
    CardSkuRemind(CardSkuRemindEvent),
    /// `card_pay_order`: a coin (券点) account order changed.
    CardPayOrder(CardPayOrderEvent),
    /// `submit_membercard_user_info`: the user submitted the member-card activation form.
    SubmitMembercardUserInfo(SubmitMembercardUserInfoEvent),
    /// Any other `Event` value; all its elements are in [`EventMessage::extra`].
    Unknown {
        /// The `Event` value as sent.
        event: String,
    },
}

/// `card_pass_check` (events.md §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardPassCheckEvent {
    /// `<CardId>`: the approved card template.
    pub card_id: String,
}

/// `card_not_pass_check` (events.md §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardNotPassCheckEvent {
    /// `<CardId>`: the rejected card template.
    pub card_id: String,
    /// `<RefuseReason>`: why the review failed.
    pub refuse_reason: String,
}

/// `user_get_card` (events.md §3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserGetCardEvent {
    /// `<CardId>`: the claimed card template.
    pub card_id: String,
    /// `<IsGiveByFriend>`: the card was received as a gift.
    pub is_give_by_friend: bool,
    /// `<UserCardCode>`: the code this user now holds.
    pub user_card_code: String,
    /// `<FriendUserName>`: the giver's openid for gifts, else empty.
    pub friend_user_name: String,
    /// `<OuterId>`: the legacy integer channel id, `0` if none.
    pub outer_id: i64,
    /// `<OldUserCardCode>`: the giver's code before a gift changed it, else empty.
    pub old_user_card_code: String,
    /// `<OuterStr>`: the channel string from the QR code or `cardExt`, else empty.
    pub outer_str: String,
    /// `<IsRestoreMemberCard>`: the user re-claimed a member card they had deleted.
    pub is_restore_member_card: bool,
    /// `<IsRecommendByFriend>`: the card was claimed through a friend's recommendation.
    pub is_recommend_by_friend: bool,
    /// `<UnionId>`: the claimant's UnionID, only when the account has one; omitted when `None`.
    pub union_id: Option<String>,
}

/// `user_gifting_card` (events.md §3.3); `FromUserName` is the giver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserGiftingCardEvent {
    /// `<CardId>`: the gifted card template.
    pub card_id: String,
    /// `<UserCardCode>`: the code being gifted.
    pub user_card_code: String,
    /// `<IsReturnBack>`: this push reports an unaccepted gift coming back.
    pub is_return_back: bool,
    /// `<FriendUserName>`: the receiver's openid.
    pub friend_user_name: String,
    /// `<IsChatRoom>`: the card was gifted into a group chat.
    pub is_chat_room: bool,
}

/// `user_del_card` (events.md §3.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDelCardEvent {
    /// `<CardId>`: the deleted card's template.
    pub card_id: String,
    /// `<UserCardCode>`: the deleted code.
    pub user_card_code: String,
}

/// `user_consume_card` (events.md §3.5); `FromUserName` is the card holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConsumeCardEvent {
    /// `<CardId>`: the redeemed card's template.
    pub card_id: String,
    /// `<UserCardCode>`: the redeemed code.
    pub user_card_code: String,
    /// `<ConsumeSource>`: `FROM_API`, `FROM_MP`, `FROM_MOBILE_HELPER`, or another value.
    pub consume_source: String,
    /// `<LocationName>`: the store for self- and quick-pay redemption, else empty.
    pub location_name: String,
    /// `<StaffOpenId>`: the staff member for merchant-helper redemption, else empty.
    pub staff_open_id: String,
    /// `<VerifyCode>`: the code the user typed during self-redemption, else empty.
    pub verify_code: String,
    /// `<RemarkAmount>`: the amount the user noted during self-redemption, else empty.
    pub remark_amount: String,
    /// `<OuterStr>`: the merchant's custom parameter from the consume call, else empty.
    pub outer_str: String,
}

/// `user_pay_from_pay_cell` (events.md §3.6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPayFromPayCellEvent {
    /// `<CardId>`: the card whose pay cell was used.
    pub card_id: String,
    /// `<UserCardCode>`: the code.
    pub user_card_code: String,
    /// `<TransId>`: the WeChat Pay transaction id.
    pub trans_id: String,
    /// `<LocationId>`: the store id.
    pub location_id: i64,
    /// `<Fee>`: the amount actually paid, in fen.
    pub fee: i64,
    /// `<OriginalFee>`: the amount due before the discount, in fen.
    pub original_fee: i64,
}

/// `user_view_card` (events.md §3.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserViewCardEvent {
    /// `<CardId>`: the viewed member card.
    pub card_id: String,
    /// `<UserCardCode>`: the custom code, or empty for cards without custom codes.
    pub user_card_code: String,
    /// `<OuterStr>`: the channel of the QR code the user scanned, else empty.
    pub outer_str: String,
}

/// `user_enter_session_from_card` (events.md §3.8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserEnterSessionFromCardEvent {
    /// `<CardId>`: the card the user came from.
    pub card_id: String,
    /// `<UserCardCode>`: the code.
    pub user_card_code: String,
}

/// `update_member_card` (events.md §3.9).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateMemberCardEvent {
    /// `<CardId>`: the member card.
    pub card_id: String,
    /// `<UserCardCode>`: the member's code.
    pub user_card_code: String,
    /// `<ModifyBonus>`: the bonus points delta (may be negative).
    pub modify_bonus: i64,
    /// `<ModifyBalance>`: the balance delta in fen (may be negative).
    pub modify_balance: i64,
}

/// `card_sku_remind` (events.md §3.10).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardSkuRemindEvent {
    /// `<CardId>`: the card running out of stock.
    pub card_id: String,
    /// `<Detail>`: the alarm text.
    pub detail: String,
}

/// `card_pay_order` (events.md §3.11); it has no `CardId`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardPayOrderEvent {
    /// `<OrderId>`: the order id (a numeric string).
    pub order_id: String,
    /// `<Status>`: `ORDER_STATUS_WAITING`, `ORDER_STATUS_SUCC`, `ORDER_STATUS_FINANCE_SUCC`, ….
    pub status: String,
    /// `<CreateOrderTime>`: when the payment QR code was created, Unix seconds.
    pub create_order_time: i64,
    /// `<PayFinishTime>`: when the payment completed, Unix seconds, or `0`.
    pub pay_finish_time: i64,
    /// `<Desc>`: the payment method.
    pub desc: String,
    /// `<FreeCoinCount>`: remaining free coins.
    pub free_coin_count: i64,
    /// `<PayCoinCount>`: remaining paid coins.
    pub pay_coin_count: i64,
    /// `<RefundFreeCoinCount>`: free coins changed by this order.
    pub refund_free_coin_count: i64,
    /// `<RefundPayCoinCount>`: paid coins changed by this order.
    pub refund_pay_coin_count: i64,
    /// `<OrderType>`: `ORDER_TYPE_SYS_ADD`, `ORDER_TYPE_WXPAY`, `ORDER_TYPE_REFUND`, ….
    pub order_type: String,
    /// `<Memo>`: the system remark.
    pub memo: String,
    /// `<ReceiptInfo>`: the invoice details.
    pub receipt_info: String,
}

/// `submit_membercard_user_info` (events.md §3.12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitMembercardUserInfoEvent {
    /// `<CardId>`: the member card being activated.
    pub card_id: String,
    /// `<UserCardCode>`: the member's code.
    pub user_card_code: String,
}

/// Why an event document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventXmlError {
    /// The text is not well-formed XML.
    #[error("malformed xml at byte {position}: {message}")]
    Malformed {
        /// Byte offset where the reader stopped.
        position: u64,
        /// The XML reader's description of the problem.
        message: String,
    },
    /// The document has no root element at all.
    #[error("document has no root element")]
    MissingRoot,
    /// The root element is not `<xml>`.
    #[error("root element is <{found}>, expected <xml>")]
    UnexpectedRoot {
        /// The root element's name.
        found: String,
    },
    /// The document ends before the root element is closed.
    #[error("document ends before </xml>")]
    UnexpectedEof,
    /// A required element is absent.
    #[error("missing element <{element}>")]
    MissingElement {
        /// The absent element.
        element: &'static str,
    },
    /// An element that must appear once appears more than once.
    #[error("element <{element}> appears more than once")]
    DuplicateElement {
        /// The repeated element.
        element: &'static str,
    },
    /// An element's text is not of the expected kind.
    #[error("element <{element}> holds {value:?}, expected {expected}")]
    InvalidValue {
        /// The offending element.
        element: &'static str,
        /// Its text.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// The document is a message of another `MsgType`, not an event.
    #[error("message type is {msg_type:?}, not an event")]
    NotAnEvent {
        /// The `MsgType` that was sent.
        msg_type: String,
    },
}

/// Reads an event push document.
///
/// # Errors
///
/// Returns an [`EventXmlError`] when the text is not XML with an `<xml>` root, when the header
/// or the event's identifying element is missing, when a number or flag does not parse, or
/// when `MsgType` is not `event`.
pub fn parse(xml: &str) -> Result<EventMessage, EventXmlError> {
    let mut fields = Fields {
        elements: read_flat_document(xml)?,
    };
    let to_user_name = fields.required("ToUserName")?;
    let from_user_name = fields.required("FromUserName")?;
    let create_time = fields.required_int("CreateTime")?;
    let msg_type = fields.required("MsgType")?;
    if msg_type != MSG_TYPE_EVENT {
        return Err(EventXmlError::NotAnEvent { msg_type });
    }
    let event_name = fields.required("Event")?;
    let event = CardEvent::from_fields(event_name, &mut fields)?;
    Ok(EventMessage {
        header: EventHeader {
            to_user_name,
            from_user_name,
            create_time,
        },
        event,
        extra: fields.elements,
    })
}

impl EventMessage {
    /// The `Event` value of this push.
    #[must_use]
    pub fn event_name(&self) -> &str {
        self.event.event_name()
    }

    /// Every element in render order, as `(element name, text)`: the header, the event's
    /// elements, then [`EventMessage::extra`].
    #[must_use]
    pub fn elements(&self) -> Vec<(&str, String)> {
        self.all_elements()
            .into_iter()
            .map(|element| (element.name, element.value.into_owned()))
            .collect()
    }

    /// Renders the push body as WeChat sends it: one line, no XML declaration, strings in
    /// CDATA and numbers bare except where WeChat wraps them (events.md §3 tables).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push_str("<xml>");
        for element in self.all_elements() {
            write_element(&mut out, &element);
        }
        out.push_str("</xml>");
        out
    }

    fn all_elements(&self) -> Vec<Element<'_>> {
        let mut elements = vec![
            Element::cdata("ToUserName", &self.header.to_user_name),
            Element::cdata("FromUserName", &self.header.from_user_name),
            Element::bare_int("CreateTime", self.header.create_time),
            Element::cdata("MsgType", MSG_TYPE_EVENT),
            Element::cdata("Event", self.event.event_name()),
        ];
        elements.extend(self.event.elements());
        elements.extend(
            self.extra
                .iter()
                .map(|(name, value)| Element::cdata(name, value)),
        );
        elements
    }
}

impl CardEvent {
    /// The `Event` value WeChat uses for this event.
    #[must_use]
    pub fn event_name(&self) -> &str {
        match self {
            CardEvent::CardPassCheck(_) => CardPassCheckEvent::EVENT,
            CardEvent::CardNotPassCheck(_) => CardNotPassCheckEvent::EVENT,
            CardEvent::UserGetCard(_) => UserGetCardEvent::EVENT,
            CardEvent::UserGiftingCard(_) => UserGiftingCardEvent::EVENT,
            CardEvent::UserDelCard(_) => UserDelCardEvent::EVENT,
            CardEvent::UserConsumeCard(_) => UserConsumeCardEvent::EVENT,
            CardEvent::UserPayFromPayCell(_) => UserPayFromPayCellEvent::EVENT,
            CardEvent::UserViewCard(_) => UserViewCardEvent::EVENT,
            CardEvent::UserEnterSessionFromCard(_) => UserEnterSessionFromCardEvent::EVENT,
            CardEvent::UpdateMemberCard(_) => UpdateMemberCardEvent::EVENT,
            CardEvent::CardSkuRemind(_) => CardSkuRemindEvent::EVENT,
            CardEvent::CardPayOrder(_) => CardPayOrderEvent::EVENT,
            CardEvent::SubmitMembercardUserInfo(_) => SubmitMembercardUserInfoEvent::EVENT,
            CardEvent::Unknown { event } => event,
        }
    }

    fn elements(&self) -> Vec<Element<'_>> {
        match self {
            CardEvent::CardPassCheck(body) => body.elements(),
            CardEvent::CardNotPassCheck(body) => body.elements(),
            CardEvent::UserGetCard(body) => body.elements(),
            CardEvent::UserGiftingCard(body) => body.elements(),
            CardEvent::UserDelCard(body) => body.elements(),
            CardEvent::UserConsumeCard(body) => body.elements(),
            CardEvent::UserPayFromPayCell(body) => body.elements(),
            CardEvent::UserViewCard(body) => body.elements(),
            CardEvent::UserEnterSessionFromCard(body) => body.elements(),
            CardEvent::UpdateMemberCard(body) => body.elements(),
            CardEvent::CardSkuRemind(body) => body.elements(),
            CardEvent::CardPayOrder(body) => body.elements(),
            CardEvent::SubmitMembercardUserInfo(body) => body.elements(),
            CardEvent::Unknown { .. } => Vec::new(),
        }
    }

    fn from_fields(event_name: String, fields: &mut Fields) -> Result<CardEvent, EventXmlError> {
        let event = match event_name.as_str() {
            CardPassCheckEvent::EVENT => {
                CardEvent::CardPassCheck(CardPassCheckEvent::from_fields(fields)?)
            }
            CardNotPassCheckEvent::EVENT => {
                CardEvent::CardNotPassCheck(CardNotPassCheckEvent::from_fields(fields)?)
            }
            UserGetCardEvent::EVENT => {
                CardEvent::UserGetCard(UserGetCardEvent::from_fields(fields)?)
            }
            UserGiftingCardEvent::EVENT => {
                CardEvent::UserGiftingCard(UserGiftingCardEvent::from_fields(fields)?)
            }
            UserDelCardEvent::EVENT => {
                CardEvent::UserDelCard(UserDelCardEvent::from_fields(fields)?)
            }
            UserConsumeCardEvent::EVENT => {
                CardEvent::UserConsumeCard(UserConsumeCardEvent::from_fields(fields)?)
            }
            UserPayFromPayCellEvent::EVENT => {
                CardEvent::UserPayFromPayCell(UserPayFromPayCellEvent::from_fields(fields)?)
            }
            UserViewCardEvent::EVENT => {
                CardEvent::UserViewCard(UserViewCardEvent::from_fields(fields)?)
            }
            UserEnterSessionFromCardEvent::EVENT => CardEvent::UserEnterSessionFromCard(
                UserEnterSessionFromCardEvent::from_fields(fields)?,
            ),
            UpdateMemberCardEvent::EVENT => {
                CardEvent::UpdateMemberCard(UpdateMemberCardEvent::from_fields(fields)?)
            }
            CardSkuRemindEvent::EVENT => {
                CardEvent::CardSkuRemind(CardSkuRemindEvent::from_fields(fields)?)
            }
            CardPayOrderEvent::EVENT => {
                CardEvent::CardPayOrder(CardPayOrderEvent::from_fields(fields)?)
            }
            SubmitMembercardUserInfoEvent::EVENT => CardEvent::SubmitMembercardUserInfo(
                SubmitMembercardUserInfoEvent::from_fields(fields)?,
            ),
            _ => CardEvent::Unknown { event: event_name },
        };
        Ok(event)
    }
}

/// The rendering and parsing of one event's own elements (after the header).
trait EventBody: Sized {
    /// The `Event` value.
    const EVENT: &'static str;

    /// The event's elements in WeChat's order.
    fn elements(&self) -> Vec<Element<'_>>;

    /// Reads the event's elements, leaving unknown ones in `fields`.
    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError>;
}

impl EventBody for CardPassCheckEvent {
    const EVENT: &'static str = "card_pass_check";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![Element::cdata("CardId", &self.card_id)]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(CardPassCheckEvent {
            card_id: fields.required("CardId")?,
        })
    }
}

impl EventBody for CardNotPassCheckEvent {
    const EVENT: &'static str = "card_not_pass_check";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("RefuseReason", &self.refuse_reason),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(CardNotPassCheckEvent {
            card_id: fields.required("CardId")?,
            refuse_reason: fields.text("RefuseReason")?,
        })
    }
}

impl EventBody for UserGetCardEvent {
    const EVENT: &'static str = "user_get_card";

    fn elements(&self) -> Vec<Element<'_>> {
        let mut elements = vec![
            Element::cdata("CardId", &self.card_id),
            Element::flag("IsGiveByFriend", self.is_give_by_friend),
            Element::cdata("UserCardCode", &self.user_card_code),
            Element::cdata("FriendUserName", &self.friend_user_name),
            Element::bare_int("OuterId", self.outer_id),
            Element::cdata("OldUserCardCode", &self.old_user_card_code),
            Element::cdata("OuterStr", &self.outer_str),
            Element::flag("IsRestoreMemberCard", self.is_restore_member_card),
            Element::flag("IsRecommendByFriend", self.is_recommend_by_friend),
        ];
        if let Some(union_id) = &self.union_id {
            // Compat: events.md §3.2: the official sample sends `UnionId` without CDATA, the
            // project's vectors (events/user_get_card.xml) with it. Readers accept both; we
            // emit CDATA like every other string so the vectors render byte for byte.
            elements.push(Element::cdata("UnionId", union_id));
        }
        elements
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserGetCardEvent {
            card_id: fields.required("CardId")?,
            is_give_by_friend: fields.flag("IsGiveByFriend")?,
            user_card_code: fields.text("UserCardCode")?,
            friend_user_name: fields.text("FriendUserName")?,
            outer_id: fields.int("OuterId")?,
            old_user_card_code: fields.text("OldUserCardCode")?,
            outer_str: fields.text("OuterStr")?,
            is_restore_member_card: fields.flag("IsRestoreMemberCard")?,
            is_recommend_by_friend: fields.flag("IsRecommendByFriend")?,
            union_id: fields.optional("UnionId")?,
        })
    }
}

impl EventBody for UserGiftingCardEvent {
    const EVENT: &'static str = "user_gifting_card";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
            Element::flag("IsReturnBack", self.is_return_back),
            Element::cdata("FriendUserName", &self.friend_user_name),
            Element::flag("IsChatRoom", self.is_chat_room),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserGiftingCardEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
            is_return_back: fields.flag("IsReturnBack")?,
            friend_user_name: fields.text("FriendUserName")?,
            is_chat_room: fields.flag("IsChatRoom")?,
        })
    }
}

impl EventBody for UserDelCardEvent {
    const EVENT: &'static str = "user_del_card";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserDelCardEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
        })
    }
}

impl EventBody for UserConsumeCardEvent {
    const EVENT: &'static str = "user_consume_card";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
            Element::cdata("ConsumeSource", &self.consume_source),
            Element::cdata("LocationName", &self.location_name),
            Element::cdata("StaffOpenId", &self.staff_open_id),
            Element::cdata("VerifyCode", &self.verify_code),
            Element::cdata("RemarkAmount", &self.remark_amount),
            Element::cdata("OuterStr", &self.outer_str),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserConsumeCardEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
            consume_source: fields.text("ConsumeSource")?,
            location_name: fields.text("LocationName")?,
            staff_open_id: fields.text("StaffOpenId")?,
            verify_code: fields.text("VerifyCode")?,
            remark_amount: fields.text("RemarkAmount")?,
            outer_str: fields.text("OuterStr")?,
        })
    }
}

impl EventBody for UserPayFromPayCellEvent {
    const EVENT: &'static str = "user_pay_from_pay_cell";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
            Element::cdata("TransId", &self.trans_id),
            Element::bare_int("LocationId", self.location_id),
            // Compat: events.md §3.6: the official sample wraps the amounts in CDATA although
            // they are integers (captured real pushes show them bare; readers accept both).
            Element::cdata_int("Fee", self.fee),
            Element::cdata_int("OriginalFee", self.original_fee),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserPayFromPayCellEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
            trans_id: fields.text("TransId")?,
            location_id: fields.int("LocationId")?,
            fee: fields.int("Fee")?,
            original_fee: fields.int("OriginalFee")?,
        })
    }
}

impl EventBody for UserViewCardEvent {
    const EVENT: &'static str = "user_view_card";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
            Element::cdata("OuterStr", &self.outer_str),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserViewCardEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
            outer_str: fields.text("OuterStr")?,
        })
    }
}

impl EventBody for UserEnterSessionFromCardEvent {
    const EVENT: &'static str = "user_enter_session_from_card";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UserEnterSessionFromCardEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
        })
    }
}

impl EventBody for UpdateMemberCardEvent {
    const EVENT: &'static str = "update_member_card";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
            Element::bare_int("ModifyBonus", self.modify_bonus),
            Element::bare_int("ModifyBalance", self.modify_balance),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(UpdateMemberCardEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
            modify_bonus: fields.int("ModifyBonus")?,
            modify_balance: fields.int("ModifyBalance")?,
        })
    }
}

impl EventBody for CardSkuRemindEvent {
    const EVENT: &'static str = "card_sku_remind";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("Detail", &self.detail),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(CardSkuRemindEvent {
            card_id: fields.required("CardId")?,
            detail: fields.text("Detail")?,
        })
    }
}

impl EventBody for CardPayOrderEvent {
    const EVENT: &'static str = "card_pay_order";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("OrderId", &self.order_id),
            Element::cdata("Status", &self.status),
            Element::bare_int("CreateOrderTime", self.create_order_time),
            Element::bare_int("PayFinishTime", self.pay_finish_time),
            Element::cdata("Desc", &self.desc),
            // Compat: events.md §3.11: the official sample wraps every coin count in CDATA.
            Element::cdata_int("FreeCoinCount", self.free_coin_count),
            Element::cdata_int("PayCoinCount", self.pay_coin_count),
            Element::cdata_int("RefundFreeCoinCount", self.refund_free_coin_count),
            Element::cdata_int("RefundPayCoinCount", self.refund_pay_coin_count),
            Element::cdata("OrderType", &self.order_type),
            Element::cdata("Memo", &self.memo),
            Element::cdata("ReceiptInfo", &self.receipt_info),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(CardPayOrderEvent {
            order_id: fields.required("OrderId")?,
            status: fields.text("Status")?,
            create_order_time: fields.int("CreateOrderTime")?,
            pay_finish_time: fields.int("PayFinishTime")?,
            desc: fields.text("Desc")?,
            free_coin_count: fields.int("FreeCoinCount")?,
            pay_coin_count: fields.int("PayCoinCount")?,
            refund_free_coin_count: fields.int("RefundFreeCoinCount")?,
            refund_pay_coin_count: fields.int("RefundPayCoinCount")?,
            order_type: fields.text("OrderType")?,
            memo: fields.text("Memo")?,
            receipt_info: fields.text("ReceiptInfo")?,
        })
    }
}

impl EventBody for SubmitMembercardUserInfoEvent {
    const EVENT: &'static str = "submit_membercard_user_info";

    fn elements(&self) -> Vec<Element<'_>> {
        vec![
            Element::cdata("CardId", &self.card_id),
            Element::cdata("UserCardCode", &self.user_card_code),
        ]
    }

    fn from_fields(fields: &mut Fields) -> Result<Self, EventXmlError> {
        Ok(SubmitMembercardUserInfoEvent {
            card_id: fields.required("CardId")?,
            user_card_code: fields.text("UserCardCode")?,
        })
    }
}

/// How an element's text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Inside `<![CDATA[…]]>`, as WeChat writes strings.
    Cdata,
    /// As escaped text, as WeChat writes most numbers.
    Bare,
}

/// One element to render.
#[derive(Debug, Clone)]
struct Element<'a> {
    name: &'a str,
    value: Cow<'a, str>,
    form: Form,
}

impl<'a> Element<'a> {
    fn cdata(name: &'a str, value: &'a str) -> Element<'a> {
        Element {
            name,
            value: Cow::Borrowed(value),
            form: Form::Cdata,
        }
    }

    fn bare_int(name: &'a str, value: i64) -> Element<'a> {
        Element {
            name,
            value: Cow::Owned(value.to_string()),
            form: Form::Bare,
        }
    }

    fn cdata_int(name: &'a str, value: i64) -> Element<'a> {
        Element {
            name,
            value: Cow::Owned(value.to_string()),
            form: Form::Cdata,
        }
    }

    fn flag(name: &'a str, value: bool) -> Element<'a> {
        Element {
            name,
            value: Cow::Borrowed(if value { "1" } else { "0" }),
            form: Form::Bare,
        }
    }
}

fn write_element(out: &mut String, element: &Element<'_>) {
    out.push('<');
    out.push_str(element.name);
    out.push('>');
    match element.form {
        Form::Cdata => write_cdata(out, &element.value),
        Form::Bare => write_escaped(out, &element.value),
    }
    out.push_str("</");
    out.push_str(element.name);
    out.push('>');
}

/// Appends `text` as a CDATA section.
pub(crate) fn write_cdata(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    // A CDATA section cannot contain `]]>`, so the text is split there into two sections;
    // readers join adjacent sections back into the original text.
    out.push_str(&text.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

/// Appends `text` as escaped character data.
pub(crate) fn write_escaped(out: &mut String, text: &str) {
    out.push_str(&partial_escape(text));
}

/// The child elements of a flat document, consumed as the event is read.
struct Fields {
    elements: Vec<(String, String)>,
}

impl Fields {
    /// Removes and returns the element called `name`, refusing a second one.
    fn take(&mut self, name: &'static str) -> Result<Option<String>, EventXmlError> {
        let Some(index) = self
            .elements
            .iter()
            .position(|(element, _)| element == name)
        else {
            return Ok(None);
        };
        let (_, value) = self.elements.remove(index);
        if self.elements.iter().any(|(element, _)| element == name) {
            return Err(EventXmlError::DuplicateElement { element: name });
        }
        Ok(Some(value))
    }

    fn required(&mut self, name: &'static str) -> Result<String, EventXmlError> {
        self.take(name)?
            .ok_or(EventXmlError::MissingElement { element: name })
    }

    fn optional(&mut self, name: &'static str) -> Result<Option<String>, EventXmlError> {
        self.take(name)
    }

    fn text(&mut self, name: &'static str) -> Result<String, EventXmlError> {
        Ok(self.take(name)?.unwrap_or_default())
    }

    fn required_int(&mut self, name: &'static str) -> Result<i64, EventXmlError> {
        let value = self.required(name)?;
        value.parse().map_err(|_| EventXmlError::InvalidValue {
            element: name,
            value,
            expected: "an integer",
        })
    }

    fn int(&mut self, name: &'static str) -> Result<i64, EventXmlError> {
        match self.take(name)? {
            // Compat: events.md §3.6: fields such as `LocationId` are "only for" some
            // redemption paths, so an absent or empty number reads as 0.
            None => Ok(0),
            Some(value) if value.is_empty() => Ok(0),
            Some(value) => value.parse().map_err(|_| EventXmlError::InvalidValue {
                element: name,
                value,
                expected: "an integer",
            }),
        }
    }

    fn flag(&mut self, name: &'static str) -> Result<bool, EventXmlError> {
        match self.take(name)?.as_deref() {
            None | Some("" | "0") => Ok(false),
            Some("1") => Ok(true),
            Some(other) => Err(EventXmlError::InvalidValue {
                element: name,
                value: other.to_owned(),
                expected: "0 or 1",
            }),
        }
    }
}

/// Reads a document shaped like every WeChat push, `<xml><Name>text</Name>…</xml>`, into its
/// child elements as `(name, text)` in document order.
///
/// Text and CDATA inside a child are joined; plain text is trimmed, CDATA is kept verbatim.
/// Elements nested inside a child are skipped.
pub(crate) fn read_flat_document(xml: &str) -> Result<Vec<(String, String)>, EventXmlError> {
    let mut reader = Reader::from_str(xml);
    // Compat: events.md §2: official samples put whitespace around CDATA sections
    // (`<CardId> <![CDATA[p…]]> </CardId>`) and pretty-print documents, so text is trimmed.
    reader.config_mut().trim_text(true);

    loop {
        match reader
            .read_event()
            .map_err(|error| malformed(&reader, &error))?
        {
            Event::Start(root) => {
                expect_xml_root(&root)?;
                break;
            }
            Event::Empty(root) => {
                expect_xml_root(&root)?;
                return Ok(Vec::new());
            }
            Event::Eof => return Err(EventXmlError::MissingRoot),
            // The declaration, comments, processing instructions and a doctype may precede
            // the root.
            _ => {}
        }
    }

    let mut elements = Vec::new();
    loop {
        match reader
            .read_event()
            .map_err(|error| malformed(&reader, &error))?
        {
            Event::Start(child) => {
                let name = element_name(&child);
                let text = read_element_text(&mut reader)?;
                elements.push((name, text));
            }
            Event::Empty(child) => {
                elements.push((element_name(&child), String::new()));
            }
            // The reader checks end names, so this closes the root.
            Event::End(_) => return Ok(elements),
            Event::Eof => return Err(EventXmlError::UnexpectedEof),
            // Stray text, comments and processing instructions directly inside <xml> are not
            // fields.
            _ => {}
        }
    }
}

/// Reads the text of the element whose start tag was just read, up to its end tag.
fn read_element_text(reader: &mut Reader<&[u8]>) -> Result<String, EventXmlError> {
    let mut text = String::new();
    loop {
        match reader
            .read_event()
            .map_err(|error| malformed(reader, &error))?
        {
            Event::Text(chunk) => {
                let unescaped = chunk
                    .unescape()
                    .map_err(|error| malformed(reader, &error))?;
                text.push_str(&unescaped);
            }
            Event::CData(chunk) => {
                let decoded = chunk
                    .decode()
                    .map_err(|error| malformed(reader, &error.into()))?;
                text.push_str(&decoded);
            }
            Event::Start(nested) => {
                reader
                    .read_to_end(nested.name())
                    .map_err(|error| malformed(reader, &error))?;
            }
            Event::End(_) => return Ok(text),
            Event::Eof => return Err(EventXmlError::UnexpectedEof),
            _ => {}
        }
    }
}

fn expect_xml_root(root: &BytesStart<'_>) -> Result<(), EventXmlError> {
    if root.name().as_ref() == b"xml" {
        Ok(())
    } else {
        Err(EventXmlError::UnexpectedRoot {
            found: element_name(root),
        })
    }
}

fn element_name(element: &BytesStart<'_>) -> String {
    // The document is a `&str` and tags split only at ASCII delimiters, so names are UTF-8.
    String::from_utf8_lossy(element.name().as_ref()).into_owned()
}

fn malformed(reader: &Reader<&[u8]>, error: &quick_xml::Error) -> EventXmlError {
    EventXmlError::Malformed {
        position: reader.buffer_position(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use crate::event::{
        parse, CardEvent, CardNotPassCheckEvent, CardPassCheckEvent, CardPayOrderEvent,
        CardSkuRemindEvent, EventHeader, EventMessage, EventXmlError,
        SubmitMembercardUserInfoEvent, UpdateMemberCardEvent, UserConsumeCardEvent,
        UserDelCardEvent, UserEnterSessionFromCardEvent, UserGetCardEvent, UserGiftingCardEvent,
        UserPayFromPayCellEvent, UserViewCardEvent,
    };

    const EVENT_VECTORS: &str = include_str!("../testdata/events.json");

    /// Every sample document of the shared vectors, by the `file` name events.json uses.
    const EVENT_FILES: [(&str, &str); 15] = [
        (
            "events/card_pass_check.xml",
            include_str!("../testdata/events/card_pass_check.xml"),
        ),
        (
            "events/card_not_pass_check.xml",
            include_str!("../testdata/events/card_not_pass_check.xml"),
        ),
        (
            "events/user_get_card.xml",
            include_str!("../testdata/events/user_get_card.xml"),
        ),
        (
            "events/user_get_card_from_friend.xml",
            include_str!("../testdata/events/user_get_card_from_friend.xml"),
        ),
        (
            "events/user_gifting_card.xml",
            include_str!("../testdata/events/user_gifting_card.xml"),
        ),
        (
            "events/user_del_card.xml",
            include_str!("../testdata/events/user_del_card.xml"),
        ),
        (
            "events/user_consume_card.xml",
            include_str!("../testdata/events/user_consume_card.xml"),
        ),
        (
            "events/user_consume_card_mobile_helper.xml",
            include_str!("../testdata/events/user_consume_card_mobile_helper.xml"),
        ),
        (
            "events/user_pay_from_pay_cell.xml",
            include_str!("../testdata/events/user_pay_from_pay_cell.xml"),
        ),
        (
            "events/user_view_card.xml",
            include_str!("../testdata/events/user_view_card.xml"),
        ),
        (
            "events/user_enter_session_from_card.xml",
            include_str!("../testdata/events/user_enter_session_from_card.xml"),
        ),
        (
            "events/update_member_card.xml",
            include_str!("../testdata/events/update_member_card.xml"),
        ),
        (
            "events/submit_membercard_user_info.xml",
            include_str!("../testdata/events/submit_membercard_user_info.xml"),
        ),
        (
            "events/card_sku_remind.xml",
            include_str!("../testdata/events/card_sku_remind.xml"),
        ),
        (
            "events/card_pay_order.xml",
            include_str!("../testdata/events/card_pay_order.xml"),
        ),
    ];

    fn vector_cases() -> Vec<Value> {
        let file: Value = serde_json::from_str(EVENT_VECTORS).expect("events.json is valid JSON");
        file["cases"]
            .as_array()
            .expect("events.json lists cases")
            .clone()
    }

    fn text<'v>(value: &'v Value, key: &str) -> &'v str {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("vector field {key} is a string"))
    }

    fn document(file: &str) -> &'static str {
        EVENT_FILES
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, xml)| *xml)
            .unwrap_or_else(|| panic!("{file} is embedded in EVENT_FILES"))
    }

    fn parse_file(name: &str) -> EventMessage {
        parse(document(&format!("events/{name}.xml"))).expect("vector parses")
    }

    fn header(create_time: i64) -> EventHeader {
        EventHeader {
            to_user_name: "gh_7e1c3a5b9d2f".to_owned(),
            from_user_name: "oFS7Fjl0WsZ9AMZqrI80nbIq8xrA".to_owned(),
            create_time,
        }
    }

    fn card_id() -> String {
        "pFS7Fjg8kV1IdDz01r4SQwMkuCKc".to_owned()
    }

    fn code() -> String {
        "226009850808".to_owned()
    }

    /// One message of every variant, with values that exercise escaping and signs.
    fn given_one_message_of_every_variant() -> Vec<EventMessage> {
        let events = vec![
            CardEvent::CardPassCheck(CardPassCheckEvent { card_id: card_id() }),
            CardEvent::CardNotPassCheck(CardNotPassCheckEvent {
                card_id: card_id(),
                refuse_reason: "资质不符 <logo> & ]]> name".to_owned(),
            }),
            CardEvent::UserGetCard(UserGetCardEvent {
                card_id: card_id(),
                is_give_by_friend: true,
                user_card_code: "226009850809".to_owned(),
                friend_user_name: "obLatjm43RA5C6QfMO5szKYnT3dM".to_owned(),
                outer_id: 7,
                old_user_card_code: code(),
                outer_str: "poster01".to_owned(),
                is_restore_member_card: true,
                is_recommend_by_friend: true,
                union_id: Some("o6_bmjrPTlm6_2sgVt7hMZOPfL2M".to_owned()),
            }),
            CardEvent::UserGiftingCard(UserGiftingCardEvent {
                card_id: card_id(),
                user_card_code: code(),
                is_return_back: true,
                friend_user_name: "obLatjm43RA5C6QfMO5szKYnT3dM".to_owned(),
                is_chat_room: true,
            }),
            CardEvent::UserDelCard(UserDelCardEvent {
                card_id: card_id(),
                user_card_code: code(),
            }),
            CardEvent::UserConsumeCard(UserConsumeCardEvent {
                card_id: card_id(),
                user_card_code: code(),
                consume_source: "FROM_MOBILE_HELPER".to_owned(),
                location_name: "Downtown Store".to_owned(),
                staff_open_id: "oStaff0Fjl0WsZ9AMZqrI80nbIq8".to_owned(),
                verify_code: "1234".to_owned(),
                remark_amount: "18.00".to_owned(),
                outer_str: "pos_7".to_owned(),
            }),
            CardEvent::UserPayFromPayCell(UserPayFromPayCellEvent {
                card_id: card_id(),
                user_card_code: code(),
                trans_id: "4200000123202311150123456789".to_owned(),
                location_id: 401_234_567,
                fee: 1800,
                original_fee: 2000,
            }),
            CardEvent::UserViewCard(UserViewCardEvent {
                card_id: card_id(),
                user_card_code: String::new(),
                outer_str: "card_bag".to_owned(),
            }),
            CardEvent::UserEnterSessionFromCard(UserEnterSessionFromCardEvent {
                card_id: card_id(),
                user_card_code: code(),
            }),
            CardEvent::UpdateMemberCard(UpdateMemberCardEvent {
                card_id: card_id(),
                user_card_code: code(),
                modify_bonus: -30,
                modify_balance: 500,
            }),
            CardEvent::CardSkuRemind(CardSkuRemindEvent {
                card_id: card_id(),
                detail: "the card's quantity is equal to 0".to_owned(),
            }),
            CardEvent::CardPayOrder(CardPayOrderEvent {
                order_id: "404091456".to_owned(),
                status: "ORDER_STATUS_SUCC".to_owned(),
                create_order_time: 1_700_006_000,
                pay_finish_time: 0,
                desc: "top-up".to_owned(),
                free_coin_count: 200,
                pay_coin_count: 3,
                refund_free_coin_count: -5,
                refund_pay_coin_count: 0,
                order_type: "ORDER_TYPE_WXPAY".to_owned(),
                memo: "account opening".to_owned(),
                receipt_info: String::new(),
            }),
            CardEvent::SubmitMembercardUserInfo(SubmitMembercardUserInfoEvent {
                card_id: card_id(),
                user_card_code: code(),
            }),
            CardEvent::Unknown {
                event: "card_merchant_check_result".to_owned(),
            },
        ];
        events
            .into_iter()
            .zip(1_700_000_000..)
            .map(|(event, create_time)| EventMessage {
                header: header(create_time),
                event,
                extra: vec![("MerchantId".to_owned(), "12".to_owned())],
            })
            .collect()
    }

    #[test]
    fn every_vector_file_parses_to_its_event_with_the_values_events_json_lists() {
        let cases = vector_cases();

        assert_eq!(cases.len(), EVENT_FILES.len());
        for case in &cases {
            let id = text(case, "id");
            let xml = document(text(case, "file"));
            let expected: BTreeMap<String, String> = case["node_wechat_middleware"]["message"]
                .as_object()
                .expect("node message is an object")
                .iter()
                .map(|(name, value)| {
                    (
                        name.clone(),
                        value.as_str().expect("node gives strings").to_owned(),
                    )
                })
                .collect();

            let message = parse(xml).unwrap_or_else(|error| panic!("{id}: {error}"));

            assert_eq!(message.event_name(), text(case, "event"), "{id}");
            assert!(!matches!(message.event, CardEvent::Unknown { .. }), "{id}");
            assert!(message.extra.is_empty(), "{id}: {:?}", message.extra);
            let parsed: BTreeMap<String, String> = message
                .elements()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
            assert_eq!(parsed, expected, "{id}");
        }
    }

    #[test]
    fn every_vector_file_renders_back_byte_for_byte() {
        for (file, xml) in EVENT_FILES {
            let message = parse(xml).unwrap_or_else(|error| panic!("{file}: {error}"));

            let rendered = message.render();

            assert_eq!(rendered, xml.trim_end_matches('\n'), "{file}");
        }
    }

    #[test]
    fn vector_files_parse_into_typed_fields() {
        let get_card = parse_file("user_get_card_from_friend");
        let pay = parse_file("user_pay_from_pay_cell");
        let member = parse_file("update_member_card");
        let order = parse_file("card_pay_order");

        assert_eq!(
            get_card.header,
            EventHeader {
                to_user_name: "gh_7e1c3a5b9d2f".to_owned(),
                from_user_name: "oFS7Fjl0WsZ9AMZqrI80nbIq8xrA".to_owned(),
                create_time: 1_700_006_025,
            }
        );
        assert_eq!(
            get_card.event,
            CardEvent::UserGetCard(UserGetCardEvent {
                card_id: card_id(),
                is_give_by_friend: true,
                user_card_code: "226009850809".to_owned(),
                friend_user_name: "obLatjm43RA5C6QfMO5szKYnT3dM".to_owned(),
                outer_id: 0,
                old_user_card_code: code(),
                outer_str: String::new(),
                is_restore_member_card: false,
                is_recommend_by_friend: false,
                union_id: None,
            })
        );
        assert!(matches!(
            pay.event,
            CardEvent::UserPayFromPayCell(UserPayFromPayCellEvent {
                location_id: 401_234_567,
                fee: 1800,
                original_fee: 2000,
                ..
            })
        ));
        assert!(matches!(
            member.event,
            CardEvent::UpdateMemberCard(UpdateMemberCardEvent {
                modify_bonus: 30,
                modify_balance: -500,
                ..
            })
        ));
        assert!(matches!(
            order.event,
            CardEvent::CardPayOrder(CardPayOrderEvent {
                free_coin_count: 200,
                pay_finish_time: 1_700_006_060,
                ..
            })
        ));
    }

    #[test]
    fn union_id_is_kept_when_present() {
        let message = parse_file("user_get_card");

        let CardEvent::UserGetCard(event) = message.event else {
            panic!("user_get_card.xml is a user_get_card event");
        };
        assert_eq!(
            event.union_id.as_deref(),
            Some("o6_bmasdasdsad6_2sgVt7hMZOPfL")
        );
        assert_eq!(event.outer_str, "mini_home");
    }

    #[test]
    fn every_variant_round_trips_through_render_and_parse() {
        for message in given_one_message_of_every_variant() {
            let rendered = message.render();

            let parsed = parse(&rendered).unwrap_or_else(|error| panic!("{rendered}: {error}"));

            assert_eq!(parsed, message, "{rendered}");
            assert_eq!(parsed.elements(), message.elements());
        }
    }

    #[test]
    fn render_writes_strings_as_cdata_and_numbers_bare_or_as_wechat_wraps_them() {
        let messages = given_one_message_of_every_variant();
        let rendered: Vec<String> = messages.iter().map(EventMessage::render).collect();
        let all = rendered.join("\n");

        assert!(all.contains("<CreateTime>1700000000</CreateTime>"));
        assert!(all.contains("<MsgType><![CDATA[event]]></MsgType>"));
        assert!(all.contains("<IsGiveByFriend>1</IsGiveByFriend>"));
        assert!(all.contains("<OuterId>7</OuterId>"));
        assert!(all.contains("<LocationId>401234567</LocationId>"));
        assert!(all.contains("<Fee><![CDATA[1800]]></Fee>"));
        assert!(all.contains("<ModifyBonus>-30</ModifyBonus>"));
        assert!(all.contains("<RefundFreeCoinCount><![CDATA[-5]]></RefundFreeCoinCount>"));
        assert!(all.contains("<PayFinishTime>0</PayFinishTime>"));
        assert!(all.contains("<UnionId><![CDATA[o6_bmjrPTlm6_2sgVt7hMZOPfL2M]]></UnionId>"));
        assert!(all.contains("<MerchantId><![CDATA[12]]></MerchantId></xml>"));
    }

    #[test]
    fn render_splits_cdata_around_its_terminator() {
        let message = EventMessage {
            header: header(1),
            event: CardEvent::CardSkuRemind(CardSkuRemindEvent {
                card_id: card_id(),
                detail: "a]]>b".to_owned(),
            }),
            extra: Vec::new(),
        };

        let rendered = message.render();

        assert!(
            rendered.contains("<Detail><![CDATA[a]]]]><![CDATA[>b]]></Detail>"),
            "{rendered}"
        );
        assert_eq!(parse(&rendered), Ok(message));
    }

    #[test]
    fn render_omits_union_id_when_there_is_none() {
        let message = EventMessage {
            header: header(1),
            event: CardEvent::UserGetCard(UserGetCardEvent {
                card_id: card_id(),
                ..UserGetCardEvent::default()
            }),
            extra: Vec::new(),
        };

        let rendered = message.render();

        assert!(!rendered.contains("UnionId"), "{rendered}");
        assert!(
            rendered.ends_with("<IsRecommendByFriend>0</IsRecommendByFriend></xml>"),
            "{rendered}"
        );
    }

    #[test]
    fn parse_accepts_the_official_pretty_printed_sample_with_bare_union_id() {
        // The user_get_card sample of events.md §3.2, indented and with a bare UnionId.
        let xml = r"<xml>
  <ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>
  <FromUserName><![CDATA[oFS7Fjl0WsZ9AMZqrI80nbIq8xrA]]></FromUserName>
  <CreateTime>1700000200</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[user_get_card]]></Event>
  <CardId><![CDATA[pFS7Fjg8kV1IdDz01r4SQwMkuCKc]]></CardId>
  <IsGiveByFriend>0</IsGiveByFriend>
  <UserCardCode><![CDATA[110201201245]]></UserCardCode>
  <FriendUserName><![CDATA[]]></FriendUserName>
  <OuterId>0</OuterId>
  <OldUserCardCode><![CDATA[]]></OldUserCardCode>
  <OuterStr><![CDATA[poster01]]></OuterStr>
  <IsRestoreMemberCard>0</IsRestoreMemberCard>
  <IsRecommendByFriend>0</IsRecommendByFriend>
  <UnionId>o6_bmjrPTlm6_2sgVt7hMZOPfL2M</UnionId>
</xml>
";

        let message = parse(xml).expect("official sample parses");

        assert_eq!(message.header.create_time, 1_700_000_200);
        let CardEvent::UserGetCard(event) = message.event else {
            panic!("sample is a user_get_card event");
        };
        assert_eq!(event.user_card_code, "110201201245");
        assert_eq!(event.outer_str, "poster01");
        assert_eq!(
            event.union_id.as_deref(),
            Some("o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
        );
    }

    #[test]
    fn parse_trims_whitespace_around_cdata_and_plain_text() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml><ToUserName> gh_7e1c3a5b9d2f </ToUserName>\
            <FromUserName><![CDATA[oFS7Fjl0WsZ9AMZqrI80nbIq8xrA]]></FromUserName><CreateTime> 1700000100 </CreateTime>\
            <MsgType>event</MsgType><Event> <![CDATA[card_not_pass_check]]> </Event>\
            <CardId> <![CDATA[pFS7Fjg8kV1IdDz01r4SQwMkuCKc]]> </CardId><RefuseReason><![CDATA[ 资质不符 ]]></RefuseReason></xml>";

        let message = parse(xml).expect("whitespace is tolerated");

        assert_eq!(message.header.to_user_name, "gh_7e1c3a5b9d2f");
        assert_eq!(message.header.create_time, 1_700_000_100);
        assert_eq!(
            message.event,
            CardEvent::CardNotPassCheck(CardNotPassCheckEvent {
                card_id: card_id(),
                // Whitespace inside CDATA is part of the value.
                refuse_reason: " 资质不符 ".to_owned(),
            })
        );
    }

    #[test]
    fn parse_ignores_element_order_and_accepts_numbers_in_either_form() {
        let xml = "<xml><OriginalFee>2000</OriginalFee><Fee><![CDATA[1800]]></Fee>\
            <LocationId><![CDATA[401234567]]></LocationId><Event><![CDATA[user_pay_from_pay_cell]]></Event>\
            <CardId>pFS7Fjg8kV1IdDz01r4SQwMkuCKc</CardId><CreateTime><![CDATA[1700006060]]></CreateTime>\
            <MsgType><![CDATA[event]]></MsgType><FromUserName>oFS7Fjl0WsZ9AMZqrI80nbIq8xrA</FromUserName>\
            <ToUserName>gh_7e1c3a5b9d2f</ToUserName><UserCardCode>226009850808</UserCardCode>\
            <TransId>4200000123202311150123456789</TransId></xml>";

        let message = parse(xml).expect("any order parses");

        assert_eq!(message, parse_file("user_pay_from_pay_cell"));
    }

    #[test]
    fn parse_keeps_unknown_elements_in_document_order() {
        let xml = "<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName>\
            <SourceScene><![CDATA[SOURCE_SCENE_QRCODE]]></SourceScene>\
            <FromUserName><![CDATA[oFS7Fjl0WsZ9AMZqrI80nbIq8xrA]]></FromUserName><CreateTime>1</CreateTime>\
            <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_del_card]]></Event>\
            <CardId><![CDATA[pFS7Fjg8kV1IdDz01r4SQwMkuCKc]]></CardId><UserCardCode><![CDATA[226009850808]]></UserCardCode>\
            <LocationId>5</LocationId><Empty/></xml>";

        let message = parse(xml).expect("extra elements are tolerated");

        assert_eq!(
            message.extra,
            [
                ("SourceScene".to_owned(), "SOURCE_SCENE_QRCODE".to_owned()),
                ("LocationId".to_owned(), "5".to_owned()),
                ("Empty".to_owned(), String::new()),
            ]
        );
        assert_eq!(parse(&message.render()), Ok(message));
    }

    #[test]
    fn parse_skips_elements_nested_inside_a_field() {
        let xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
            <MsgType>event</MsgType><Event>giftcard_pay_done</Event>\
            <Detail>top<Item><Id>1</Id></Item></Detail></xml>";

        let message = parse(xml).expect("nested elements are skipped");

        assert_eq!(message.extra, [("Detail".to_owned(), "top".to_owned())]);
    }

    #[test]
    fn parse_reads_unknown_events_as_unknown_with_all_their_elements() {
        let xml = "<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName>\
            <FromUserName><![CDATA[oPlatformNotifierAAAAAAAAAAA]]></FromUserName><CreateTime>1700000000</CreateTime>\
            <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[card_merchant_check_result]]></Event>\
            <MerchantId>12</MerchantId><IsPass>1</IsPass><Reason><![CDATA[]]></Reason></xml>";

        let message = parse(xml).expect("unknown events parse");

        assert_eq!(
            message.event,
            CardEvent::Unknown {
                event: "card_merchant_check_result".to_owned()
            }
        );
        assert_eq!(message.event_name(), "card_merchant_check_result");
        assert_eq!(message.extra.len(), 3);
        assert!(message
            .render()
            .contains("<Event><![CDATA[card_merchant_check_result]]></Event>"));
    }

    #[test]
    fn parse_reads_absent_optional_elements_as_empty_values() {
        let xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
            <MsgType>event</MsgType><Event>user_get_card</Event><CardId>p</CardId>\
            <LocationId></LocationId></xml>";

        let message = parse(xml).expect("old pushes without newer fields parse");

        assert_eq!(
            message.event,
            CardEvent::UserGetCard(UserGetCardEvent {
                card_id: "p".to_owned(),
                ..UserGetCardEvent::default()
            })
        );
    }

    #[test]
    fn parse_unescapes_entities_in_plain_text() {
        let xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
            <MsgType>event</MsgType><Event>card_sku_remind</Event><CardId>p</CardId>\
            <Detail>stock &lt; 100 &amp; falling &#x263A;</Detail></xml>";

        let message = parse(xml).expect("entities are allowed");

        let CardEvent::CardSkuRemind(event) = message.event else {
            panic!("document is a card_sku_remind event");
        };
        assert_eq!(event.detail, "stock < 100 & falling \u{263a}");
    }

    #[test]
    fn parse_rejects_a_document_whose_root_is_not_xml() {
        let error = parse("<event><ToUserName>gh</ToUserName></event>");

        assert_eq!(
            error,
            Err(EventXmlError::UnexpectedRoot {
                found: "event".to_owned()
            })
        );
    }

    #[test]
    fn parse_rejects_empty_and_truncated_documents() {
        assert_eq!(parse(""), Err(EventXmlError::MissingRoot));
        assert_eq!(parse("success"), Err(EventXmlError::MissingRoot));
        assert_eq!(
            parse("<xml><ToUserName>gh</ToUserName>"),
            Err(EventXmlError::UnexpectedEof)
        );
        assert_eq!(
            parse("<xml><ToUserName>gh"),
            Err(EventXmlError::UnexpectedEof)
        );
    }

    #[test]
    fn parse_rejects_malformed_xml() {
        for xml in [
            "<xml><ToUserName>gh</FromUserName></xml>",
            "<xml><ToUserName>a &bogus; b</ToUserName></xml>",
            "<xml><ToUserName><![CDATA[gh</ToUserName></xml>",
        ] {
            let error = parse(xml);

            assert!(
                matches!(error, Err(EventXmlError::Malformed { .. })),
                "{xml}: {error:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_a_missing_header_element() {
        let xml =
            "<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>\
            <Event>user_del_card</Event><CardId>p</CardId></xml>";

        assert_eq!(
            parse(xml),
            Err(EventXmlError::MissingElement {
                element: "FromUserName"
            })
        );
    }

    #[test]
    fn parse_rejects_a_card_event_without_card_id() {
        let xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
            <MsgType>event</MsgType><Event>user_del_card</Event><UserCardCode>1</UserCardCode></xml>";

        assert_eq!(
            parse(xml),
            Err(EventXmlError::MissingElement { element: "CardId" })
        );
    }

    #[test]
    fn parse_rejects_a_message_that_is_not_an_event() {
        let xml = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
            <MsgType><![CDATA[text]]></MsgType><Content>hi</Content></xml>";

        assert_eq!(
            parse(xml),
            Err(EventXmlError::NotAnEvent {
                msg_type: "text".to_owned()
            })
        );
    }

    #[test]
    fn parse_rejects_numbers_and_flags_that_do_not_parse() {
        let base = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName>\
            <MsgType>event</MsgType><Event>user_get_card</Event><CardId>p</CardId>";

        let bad_time = parse(&format!("{base}<CreateTime>soon</CreateTime></xml>"));
        let bad_flag = parse(&format!(
            "{base}<CreateTime>1</CreateTime><IsGiveByFriend>2</IsGiveByFriend></xml>"
        ));
        let bad_number = parse(&format!(
            "{base}<CreateTime>1</CreateTime><OuterId>1.5</OuterId></xml>"
        ));

        assert_eq!(
            bad_time,
            Err(EventXmlError::InvalidValue {
                element: "CreateTime",
                value: "soon".to_owned(),
                expected: "an integer"
            })
        );
        assert_eq!(
            bad_flag,
            Err(EventXmlError::InvalidValue {
                element: "IsGiveByFriend",
                value: "2".to_owned(),
                expected: "0 or 1"
            })
        );
        assert!(matches!(
            bad_number,
            Err(EventXmlError::InvalidValue {
                element: "OuterId",
                ..
            })
        ));
    }

    #[test]
    fn parse_rejects_a_repeated_known_element_but_keeps_repeated_unknown_ones() {
        let base = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
            <MsgType>event</MsgType><Event>user_del_card</Event>";

        let repeated_card_id = parse(&format!("{base}<CardId>p</CardId><CardId>q</CardId></xml>"));
        let repeated_unknown = parse(&format!(
            "{base}<CardId>p</CardId><Tag>a</Tag><Tag>b</Tag></xml>"
        ));

        assert_eq!(
            repeated_card_id,
            Err(EventXmlError::DuplicateElement { element: "CardId" })
        );
        assert_eq!(repeated_unknown.map(|message| message.extra.len()), Ok(2));
    }
}
