//! `events`: the outbox delivery worker. It leases due events, renders WeChat's XML from
//! `wxcard-wire` types, signs (and in safe or compatible mode encrypts) each push, POSTs it to
//! the Service Account's server, records the attempt, and retries the way WeChat does: the
//! first try and three retries, then the event is dead until someone redelivers it. It talks
//! to storage through the domain's `Tx` like every other edge.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wxcard_wire::crypto::MsgCrypt;
use wxcard_wire::event::{
    CardEvent, CardNotPassCheckEvent, CardPassCheckEvent, EventHeader, EventMessage,
    SubmitMembercardUserInfoEvent, UpdateMemberCardEvent, UserConsumeCardEvent, UserDelCardEvent,
    UserGetCardEvent, UserGiftingCardEvent, UserPayFromPayCellEvent, UserViewCardEvent,
};
use wxcard_wire::sign::server_signature;

use crate::domain::clock::Clock;
use crate::domain::events::{decode, DomainEvent};
use crate::domain::model::{DeliveryAttempt, DueEvent, PushConfig};
use crate::domain::DomainError;
use crate::future::join_all;
use crate::store::{self, Store, Tx};

/// How pushes are delivered.
#[derive(Debug, Clone, Copy)]
pub struct DeliverySettings {
    /// How long the receiver has to answer (WeChat: 5 s).
    pub timeout: Duration,
    /// Platform seconds between attempts.
    pub retry_delay: i64,
    /// Attempts in all: the first and three retries.
    pub max_attempts: i64,
    /// Events delivered at once.
    pub concurrency: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            retry_delay: 5,
            max_attempts: 4,
            concurrency: 64,
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Events the receiver accepted.
    pub delivered: usize,
    /// Events that failed and will be tried again.
    pub retrying: usize,
    /// Events that failed for the last time.
    pub dead: usize,
    /// Events waiting for their account's push configuration.
    pub waiting: usize,
}

/// Delivers the outbox.
#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    http: reqwest::Client,
    settings: DeliverySettings,
    wake: Arc<tokio::sync::Notify>,
}

/// The `FromUserName` WeChat gives events no user causes.
fn header(due: &DueEvent, event: &DomainEvent) -> EventHeader {
    EventHeader {
        to_user_name: due.app.original_id.clone(),
        from_user_name: event.sender().to_owned(),
        create_time: due.event.created_at,
    }
}

/// WeChat's XML of a domain event.
#[must_use]
pub fn render(due: &DueEvent, event: &DomainEvent) -> String {
    let card_event = match event.clone() {
        DomainEvent::CardPassCheck { card_id } => {
            CardEvent::CardPassCheck(CardPassCheckEvent { card_id })
        }
        DomainEvent::CardNotPassCheck {
            card_id,
            refuse_reason,
        } => CardEvent::CardNotPassCheck(CardNotPassCheckEvent {
            card_id,
            refuse_reason,
        }),
        DomainEvent::UserGetCard {
            card_id,
            code,
            union_id,
            outer_str,
            outer_id,
            is_give_by_friend,
            friend_openid,
            old_code,
            ..
        } => CardEvent::UserGetCard(UserGetCardEvent {
            card_id,
            is_give_by_friend,
            user_card_code: code,
            friend_user_name: friend_openid.unwrap_or_default(),
            old_user_card_code: old_code.unwrap_or_default(),
            outer_id: outer_id.unwrap_or(0),
            outer_str: outer_str.unwrap_or_default(),
            union_id,
            ..UserGetCardEvent::default()
        }),
        DomainEvent::UserConsumeCard {
            card_id,
            code,
            consume_source,
            outer_str,
            verify_code,
            remark_amount,
            ..
        } => CardEvent::UserConsumeCard(UserConsumeCardEvent {
            card_id,
            user_card_code: code,
            consume_source,
            outer_str: outer_str.unwrap_or_default(),
            verify_code: verify_code.unwrap_or_default(),
            remark_amount: remark_amount.unwrap_or_default(),
            ..UserConsumeCardEvent::default()
        }),
        DomainEvent::UserPayFromPayCell {
            card_id,
            code,
            trans_id,
            fee,
            original_fee,
            ..
        } => CardEvent::UserPayFromPayCell(UserPayFromPayCellEvent {
            card_id,
            user_card_code: code,
            trans_id,
            // Compat: wxcard has no store locations; LocationId is 0.
            location_id: 0,
            fee,
            original_fee,
        }),
        DomainEvent::UserGiftingCard {
            card_id,
            code,
            friend_openid,
            is_return_back,
            ..
        } => CardEvent::UserGiftingCard(UserGiftingCardEvent {
            card_id,
            user_card_code: code,
            is_return_back,
            friend_user_name: friend_openid.unwrap_or_default(),
            is_chat_room: false,
        }),
        DomainEvent::UserDelCard { card_id, code, .. } => {
            CardEvent::UserDelCard(UserDelCardEvent {
                card_id,
                user_card_code: code,
            })
        }
        DomainEvent::UserViewCard { card_id, code, .. } => {
            CardEvent::UserViewCard(UserViewCardEvent {
                card_id,
                user_card_code: code,
                outer_str: String::new(),
            })
        }
        DomainEvent::SubmitMembercardUserInfo { card_id, code, .. } => {
            CardEvent::SubmitMembercardUserInfo(SubmitMembercardUserInfoEvent {
                card_id,
                user_card_code: code,
            })
        }
        DomainEvent::UpdateMemberCard {
            card_id,
            code,
            modify_bonus,
            modify_balance,
            ..
        } => CardEvent::UpdateMemberCard(UpdateMemberCardEvent {
            card_id,
            user_card_code: code,
            modify_bonus,
            modify_balance,
        }),
    };
    EventMessage {
        header: header(due, event),
        event: card_event,
        extra: Vec::new(),
    }
    .render()
}

/// A push ready to send: where, with which query, and what body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The receiver's URL with the signed query.
    pub url: String,
    /// The XML body.
    pub body: String,
}

/// Signs (and, in safe or compatible mode, encrypts) a push.
///
/// # Errors
/// A stored EncodingAESKey that does not load.
pub fn prepare(
    due: &DueEvent,
    push: &PushConfig,
    xml: &str,
    timestamp: i64,
    nonce: &str,
    random16: [u8; 16],
) -> Result<Push, String> {
    let timestamp = timestamp.to_string();
    let signature = server_signature(&push.token, &timestamp, nonce);
    let separator = if push.url.contains('?') { '&' } else { '?' };
    let mut url = format!(
        "{}{separator}signature={signature}&timestamp={timestamp}&nonce={nonce}",
        push.url
    );
    let sender = decode(&due.event)
        .map(|event| event.sender().to_owned())
        .unwrap_or_default();
    if sender.starts_with('o') {
        // Compat: events.md §2 — pushes caused by a user carry openid=FromUserName.
        url.push_str(&format!("&openid={sender}"));
    }
    if push.mode == "plain" {
        return Ok(Push {
            url,
            body: xml.to_owned(),
        });
    }
    let key = push.encoding_aes_key.as_deref().unwrap_or_default();
    let crypt = MsgCrypt::new(&push.token, key, &due.app.appid)
        .map_err(|error| format!("the stored EncodingAESKey does not load: {error}"))?;
    let encrypted = crypt.encrypt_push(&due.app.original_id, xml, &timestamp, nonce, random16);
    url.push_str(&format!(
        "&encrypt_type=aes&msg_signature={}",
        encrypted.msg_signature
    ));
    let body = if push.mode == "compatible" {
        // Compat: crypto.md A.1 — compatible mode sends the plain elements and <Encrypt>.
        let plain = xml.trim_end().strip_suffix("</xml>").unwrap_or(xml);
        format!(
            "{plain}<Encrypt><![CDATA[{}]]></Encrypt></xml>",
            encrypted.encrypt
        )
    } else {
        encrypted.body
    };
    Ok(Push { url, body })
}

impl Deliverer {
    /// A deliverer over `store`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<Clock>,
        settings: DeliverySettings,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .pool_max_idle_per_host(settings.concurrency)
            .build()?;
        Ok(Self {
            store,
            clock,
            http,
            settings,
            wake: Arc::default(),
        })
    }

    /// Wakes the worker now instead of at its next poll (after a redeliver, say).
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Delivers every event due now, once each; returns what happened. Tests call this instead
    /// of waiting for the worker.
    ///
    /// # Errors
    /// Storage.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, DomainError> {
        let mut report = DeliveryReport::default();
        loop {
            let now = self.clock.now();
            // The lease outlives every attempt; a crash leaves rows that become due again.
            let lease_until =
                now + i64::try_from(self.settings.timeout.as_secs()).unwrap_or(5) * 2 + 30;
            let limit = u32::try_from(self.settings.concurrency).unwrap_or(64);
            let due = store::write_row_locked(&*self.store, move |tx: &mut dyn Tx| {
                Ok::<_, DomainError>(tx.lease_due_events(now, lease_until, limit)?)
            })
            .await?;
            if due.is_empty() {
                return Ok(report);
            }
            let attempts = due.into_iter().map(|due| self.attempt(due));
            for outcome in join_all(attempts).await {
                match outcome? {
                    Outcome::Delivered => report.delivered += 1,
                    Outcome::Retrying => report.retrying += 1,
                    Outcome::Dead => report.dead += 1,
                    Outcome::Waiting => report.waiting += 1,
                }
            }
            if report.waiting > 0 {
                // Events of accounts without a push URL stay queued; do not spin on them.
                return Ok(report);
            }
        }
    }

    async fn attempt(&self, due: DueEvent) -> Result<Outcome, DomainError> {
        let now = self.clock.now();
        let Some(push) = due.push.clone() else {
            // No push URL yet: release the lease and look again later.
            let id = due.event.id;
            store::write_row_locked(&*self.store, move |tx: &mut dyn Tx| {
                Ok::<_, DomainError>(tx.requeue_event(id, now + 1)?)
            })
            .await?;
            return Ok(Outcome::Waiting);
        };
        let number = due.event.attempts + 1;
        let started = Instant::now();
        let (http_status, answer, error) = match decode(&due.event) {
            None => (
                None,
                None,
                Some(format!(
                    "the stored payload of event {} is not an event this wxcard knows",
                    due.event.id
                )),
            ),
            Some(event) => {
                let xml = render(&due, &event);
                match prepare(&due, &push, &xml, now, &nonce(), random16()) {
                    Err(error) => (None, None, Some(error)),
                    Ok(request) => self.post(request).await,
                }
            }
        };
        let accepted = http_status.is_some_and(|status| (200..300).contains(&status))
            && answer.as_deref().is_some_and(accepts);
        let error = match (&error, accepted, http_status) {
            (Some(_), _, _) | (None, true, _) => error,
            (None, false, Some(status)) if !(200..300).contains(&status) => {
                Some(format!("the receiver answered HTTP {status}"))
            }
            (None, false, _) => Some(
                "the receiver answered neither `success`, an empty body, nor a reply message"
                    .to_owned(),
            ),
        };
        let (status, next) = if accepted {
            ("delivered", now)
        } else if number >= self.settings.max_attempts {
            ("dead", now)
        } else {
            ("retrying", now + self.settings.retry_delay)
        };
        let attempt = DeliveryAttempt {
            event_id: due.event.id,
            attempt: number,
            at: now,
            url: push.url.clone(),
            http_status,
            answer: answer.map(|answer| answer.chars().take(1024).collect()),
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        if let Some(error) = &attempt.error {
            tracing::info!(target: "wxcard::push", "event {} ({}) attempt {number} to {} failed: {error}", due.event.id, due.event.event, push.url);
        }
        store::write_row_locked(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(tx.finish_attempt(&attempt, status, next)?)
        })
        .await?;
        Ok(match status {
            "delivered" => Outcome::Delivered,
            "dead" => Outcome::Dead,
            _ => Outcome::Retrying,
        })
    }

    async fn post(&self, push: Push) -> (Option<i64>, Option<String>, Option<String>) {
        let sent = self
            .http
            .post(&push.url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .body(push.body)
            .send()
            .await;
        match sent {
            Err(error) if error.is_timeout() => (
                None,
                None,
                Some(format!(
                    "no answer within {} ms (WeChat waits 5 s)",
                    self.settings.timeout.as_millis()
                )),
            ),
            Err(error) => (
                None,
                None,
                Some(format!(
                    "could not reach the receiver: {}",
                    without_url(&error)
                )),
            ),
            Ok(response) => {
                let status = i64::from(response.status().as_u16());
                match response.text().await {
                    Ok(body) => (Some(status), Some(body), None),
                    Err(error) => (
                        Some(status),
                        None,
                        Some(format!(
                            "could not read the answer: {}",
                            without_url(&error)
                        )),
                    ),
                }
            }
        }
    }

    /// Runs deliveries until `stop` says so, looking for due events every `interval`.
    pub async fn run(self, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.deliver_logged().await,
                () = self.wake.notified() => self.deliver_logged().await,
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

impl Deliverer {
    async fn deliver_logged(&self) {
        if let Err(error) = self.deliver_due().await {
            tracing::warn!("event delivery failed: {error}");
        }
    }
}

/// Whether an answer ends a push: `success`, an empty body, or a passive reply message.
///
/// Compat: events.md §2 — a reply XML (plain, or the encrypted envelope in safe mode) is
/// allowed for events, and node's `wechat` middleware sends one; WeChat re-sends only pushes
/// that got no proper answer.
fn accepts(answer: &str) -> bool {
    let answer = answer.trim();
    answer.is_empty() || answer == "success" || answer.starts_with("<xml")
}

enum Outcome {
    Delivered,
    Retrying,
    Dead,
    Waiting,
}

/// reqwest's errors print the URL, which carries the signature: keep it out of the log.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<push url>");
    }
    text
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0_u8; N];
    if getrandom::getrandom(&mut bytes).is_err() {
        // A push nonce only needs to differ between pushes; time does that.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_be_bytes();
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = nanos[index % nanos.len()];
        }
    }
    bytes
}

/// A push's `nonce`: ten digits, as WeChat sends.
fn nonce() -> String {
    random_digits(10)
}

/// `n` random decimal digits (push nonces and the handshake's echostr).
#[must_use]
pub fn random_digits(n: usize) -> String {
    let mut bytes = vec![0_u8; n];
    if getrandom::getrandom(&mut bytes).is_err() {
        bytes = random_bytes::<32>()
            .iter()
            .cycle()
            .take(n)
            .copied()
            .collect();
    }
    bytes
        .iter()
        .map(|byte| char::from(b'0' + byte % 10))
        .collect()
}

/// The 16 random characters before the message in safe mode (letters and digits, as WeChat's).
fn random16() -> [u8; 16] {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes::<16>().map(|byte| ALPHABET[usize::from(byte) % ALPHABET.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_an_empty_body_or_a_reply_message_end_a_push_and_anything_else_does_not() {
        assert!(accepts("success"));
        assert!(accepts("  \n"));
        assert!(accepts(
            "<xml><ToUserName><![CDATA[o]]></ToUserName><MsgType><![CDATA[text]]></MsgType></xml>"
        ));
        assert!(!accepts("ok"));
        assert!(!accepts("<html>500</html>"));
    }

    #[test]
    fn random_digits_are_digits_and_differ() {
        let (first, second) = (random_digits(19), random_digits(19));

        assert_eq!(first.len(), 19);
        assert!(first.bytes().all(|byte| byte.is_ascii_digit()));
        assert_ne!(first, second);
    }

    fn due(event: &DomainEvent) -> DueEvent {
        DueEvent {
            event: crate::domain::model::OutboxEvent {
                id: 1,
                appid: "wx0000000000000001".into(),
                event: event.name().into(),
                payload: serde_json::to_value(event).unwrap(),
                created_at: 1_900_000_000,
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: 0,
            },
            app: crate::domain::model::App {
                appid: "wx0000000000000001".into(),
                secret: String::new(),
                kind: crate::domain::model::AppKind::ServiceAccount,
                name: "shop".into(),
                original_id: "gh_000000000001".into(),
                open_platform_id: None,
                created_at: 0,
            },
            push: None,
        }
    }

    #[test]
    fn counter_events_render_their_verify_code_remark_amount_and_fees() {
        let self_consume = DomainEvent::UserConsumeCard {
            card_id: "pCard".into(),
            code: "123412341234".into(),
            openid: "oUser".into(),
            consume_source: "FROM_SELF_CONSUME".into(),
            outer_str: None,
            verify_code: Some("1234".into()),
            remark_amount: Some("88.00".into()),
        };
        let paid = DomainEvent::UserPayFromPayCell {
            card_id: "pCard".into(),
            code: "123412341234".into(),
            openid: "oUser".into(),
            trans_id: "4200000000000000000000000001".into(),
            fee: 900,
            original_fee: 1000,
        };

        let consume_xml = render(&due(&self_consume), &self_consume);
        let pay_xml = render(&due(&paid), &paid);

        assert!(
            consume_xml.contains("<VerifyCode><![CDATA[1234]]></VerifyCode>"),
            "{consume_xml}"
        );
        assert!(
            consume_xml.contains("<RemarkAmount><![CDATA[88.00]]></RemarkAmount>"),
            "{consume_xml}"
        );
        assert!(
            pay_xml.contains("<Event><![CDATA[user_pay_from_pay_cell]]></Event>"),
            "{pay_xml}"
        );
        assert!(
            pay_xml.contains("<Fee><![CDATA[900]]></Fee>") || pay_xml.contains("<Fee>900</Fee>"),
            "{pay_xml}"
        );
        assert!(
            pay_xml.contains("<FromUserName><![CDATA[oUser]]></FromUserName>"),
            "{pay_xml}"
        );
    }

    #[test]
    fn member_events_render_as_xml_that_parses_back_to_the_same_event() {
        let submitted = DomainEvent::SubmitMembercardUserInfo {
            card_id: "pCard".into(),
            code: "123412341234".into(),
            openid: "oUser".into(),
        };
        let updated = DomainEvent::UpdateMemberCard {
            card_id: "pCard".into(),
            code: "123412341234".into(),
            openid: "oUser".into(),
            modify_bonus: -30,
            modify_balance: 500,
        };

        let submitted_xml = render(&due(&submitted), &submitted);
        let updated_xml = render(&due(&updated), &updated);

        let submitted_back = wxcard_wire::event::parse(&submitted_xml).expect("parses");
        assert_eq!(
            submitted_back.event,
            CardEvent::SubmitMembercardUserInfo(SubmitMembercardUserInfoEvent {
                card_id: "pCard".into(),
                user_card_code: "123412341234".into(),
            })
        );
        assert_eq!(submitted_back.header.from_user_name, "oUser");
        let updated_back = wxcard_wire::event::parse(&updated_xml).expect("parses");
        assert_eq!(
            updated_back.event,
            CardEvent::UpdateMemberCard(UpdateMemberCardEvent {
                card_id: "pCard".into(),
                user_card_code: "123412341234".into(),
                modify_bonus: -30,
                modify_balance: 500,
            })
        );
    }
}
