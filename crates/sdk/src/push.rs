//! [`PushReceiver`]: the merchant server's end of WeChat's event pushes: the URL handshake,
//! the signature check, safe-mode decryption and the typed card event, independent of any
//! HTTP framework. With the `axum` feature, [`crate::push::router`] mounts it on an axum
//! `Router`.

use wxcard_wire::crypto::{CryptoError, MsgCrypt};
use wxcard_wire::event::{parse, EventMessage, EventXmlError};
use wxcard_wire::sign::verify_server_signature;

/// What a push handler answers once it has recorded the event; WeChat stops retrying.
pub const SUCCESS: &str = "success";

/// The query string of a push or a handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushQuery {
    /// `signature`: SHA-1 over (token, timestamp, nonce).
    pub signature: Option<String>,
    /// `timestamp`.
    pub timestamp: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `echostr` (handshakes).
    pub echostr: Option<String>,
    /// `encrypt_type`: `aes` in safe and compatible mode.
    pub encrypt_type: Option<String>,
    /// `msg_signature`: SHA-1 over (token, timestamp, nonce, Encrypt) in safe mode.
    pub msg_signature: Option<String>,
}

impl PushQuery {
    /// Reads a raw query string (`signature=…&timestamp=…`), percent-decoding the values.
    #[must_use]
    pub fn parse(query: &str) -> PushQuery {
        let mut parsed = PushQuery::default();
        for part in query.split('&').filter(|part| !part.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let value = Some(decode(value));
            match name {
                "signature" => parsed.signature = value,
                "timestamp" => parsed.timestamp = value,
                "nonce" => parsed.nonce = value,
                "echostr" => parsed.echostr = value,
                "encrypt_type" => parsed.encrypt_type = value,
                "msg_signature" => parsed.msg_signature = value,
                _ => {}
            }
        }
        parsed
    }
}

fn decode(text: &str) -> String {
    let bytes = crate::percent::decode_bytes(text, true, false).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Why a push or a handshake was refused; answer it with HTTP 400 (or 401) and WeChat
/// retries or reports the URL as failing.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A query parameter the check needs is absent.
    #[error("the query has no {0}")]
    Missing(&'static str),
    /// `signature` does not match the Token: the request is not from the platform, or the
    /// Token differs from the one configured there.
    #[error("signature does not match this Token")]
    BadSignature,
    /// The push is encrypted but this receiver has no EncodingAESKey.
    #[error(
        "the push is encrypted (encrypt_type=aes): create the receiver with PushReceiver::safe"
    )]
    NoKey,
    /// A safe-mode receiver got a plain push.
    #[error("a plain push reached a safe-mode receiver: safe mode accepts encrypted pushes only (use PushReceiver::compatible while switching modes)")]
    NotEncrypted,
    /// Safe-mode decryption failed (msg_signature, key, appid, padding).
    #[error("cannot decrypt the push: {0}")]
    Crypto(#[from] CryptoError),
    /// The (decrypted) XML is not a card event.
    #[error("cannot read the event: {0}")]
    Xml(#[from] EventXmlError),
}

/// Checks and reads pushes for one Service Account.
#[derive(Clone)]
pub struct PushReceiver {
    token: String,
    crypt: Option<MsgCrypt>,
    /// Plain pushes are refused (safe mode): their signature does not cover the body.
    encrypted_only: bool,
}

impl std::fmt::Debug for PushReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Token and key are secrets: never printed.
        f.debug_struct("PushReceiver")
            .field("safe_mode", &self.crypt.is_some())
            .finish_non_exhaustive()
    }
}

impl PushReceiver {
    /// A receiver for plain-mode pushes signed with `token`.
    #[must_use]
    pub fn plain(token: &str) -> Self {
        Self {
            token: token.to_owned(),
            crypt: None,
            encrypted_only: false,
        }
    }

    /// A receiver for safe mode: `token`, the 43-character `encoding_aes_key`, and the
    /// Service Account's `appid`. A push without `encrypt_type=aes` is refused: a plain push's
    /// signature does not cover its body, so anyone who saw one push's URL could forge others.
    ///
    /// # Errors
    /// A key that is not 43 characters of base64.
    pub fn safe(token: &str, encoding_aes_key: &str, appid: &str) -> Result<Self, PushError> {
        Ok(Self {
            token: token.to_owned(),
            crypt: Some(MsgCrypt::new(token, encoding_aes_key, appid)?),
            encrypted_only: true,
        })
    }

    /// A receiver for compatible mode (while an account moves to safe mode): encrypted pushes
    /// are decrypted, plain ones are read as they are.
    ///
    /// # Errors
    /// A key that is not 43 characters of base64.
    pub fn compatible(token: &str, encoding_aes_key: &str, appid: &str) -> Result<Self, PushError> {
        Ok(Self {
            encrypted_only: false,
            ..Self::safe(token, encoding_aes_key, appid)?
        })
    }

    fn check_signature<'q>(&self, query: &'q PushQuery) -> Result<(&'q str, &'q str), PushError> {
        let timestamp = query
            .timestamp
            .as_deref()
            .ok_or(PushError::Missing("timestamp"))?;
        let nonce = query.nonce.as_deref().ok_or(PushError::Missing("nonce"))?;
        let signature = query
            .signature
            .as_deref()
            .ok_or(PushError::Missing("signature"))?;
        if !verify_server_signature(&self.token, timestamp, nonce, signature) {
            return Err(PushError::BadSignature);
        }
        Ok((timestamp, nonce))
    }

    /// The URL handshake (a GET with `signature`, `timestamp`, `nonce`, `echostr`): answer
    /// the returned `echostr` as the body.
    ///
    /// # Errors
    /// A missing parameter or a signature that does not match.
    pub fn handshake(&self, query: &PushQuery) -> Result<String, PushError> {
        self.check_signature(query)?;
        query.echostr.clone().ok_or(PushError::Missing("echostr"))
    }

    /// A push (a POST): checks its signature, decrypts it in safe and compatible mode, and
    /// reads the card event. Record it, then answer [`SUCCESS`].
    ///
    /// # Errors
    /// See [`PushError`].
    pub fn receive(&self, query: &PushQuery, body: &str) -> Result<EventMessage, PushError> {
        let (timestamp, nonce) = self.check_signature(query)?;
        if query.encrypt_type.as_deref() == Some("aes") {
            let crypt = self.crypt.as_ref().ok_or(PushError::NoKey)?;
            let msg_signature = query
                .msg_signature
                .as_deref()
                .ok_or(PushError::Missing("msg_signature"))?;
            let xml = crypt.decrypt_message(body, msg_signature, timestamp, nonce)?;
            return Ok(parse(&xml)?);
        }
        if self.encrypted_only {
            return Err(PushError::NotEncrypted);
        }
        Ok(parse(body)?)
    }

    /// The body that answers a push with a passive reply message (`xml`, e.g. a text message
    /// to the user): as it is for a plain push, encrypted in the safe-mode reply envelope
    /// when the push came with `encrypt_type=aes`. Answer [`SUCCESS`] when there is nothing
    /// to reply.
    ///
    /// # Errors
    /// An encrypted push answered by a receiver without an EncodingAESKey.
    pub fn reply(&self, query: &PushQuery, xml: &str) -> Result<String, PushError> {
        if query.encrypt_type.as_deref() != Some("aes") {
            return Ok(xml.to_owned());
        }
        let crypt = self.crypt.as_ref().ok_or(PushError::NoKey)?;
        let mut random = [0_u8; 16];
        // Without OS randomness the padding prefix is predictable, which the scheme tolerates.
        let _ = getrandom::getrandom(&mut random);
        let timestamp = query.timestamp.as_deref().unwrap_or("0");
        let nonce = query.nonce.as_deref().unwrap_or("");
        Ok(crypt.encrypt_message(xml, timestamp, nonce, random))
    }
}

/// Mounts a [`PushReceiver`] on an axum `Router` at `path`: GET answers the handshake, POST
/// checks and reads a push, awaits `on_event` and answers `success` (feature `axum`).
///
/// ```no_run
/// # async fn example() {
/// use wxcard_sdk::push::{router, PushReceiver};
///
/// let app = router("/wechat", PushReceiver::plain("mytoken"), |event| async move {
///     println!("{} from {}", event.event_name(), event.header.from_user_name);
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
/// axum::serve(listener, app).await.unwrap();
/// # }
/// ```
#[cfg(feature = "axum")]
pub fn router<F, Fut>(path: &str, receiver: PushReceiver, on_event: F) -> axum::Router
where
    F: Fn(EventMessage) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use axum::extract::RawQuery;
    use axum::http::StatusCode;
    use axum::routing::get;

    let receiver = std::sync::Arc::new(receiver);
    let for_get = std::sync::Arc::clone(&receiver);
    axum::Router::new().route(
        path,
        get(move |RawQuery(query): RawQuery| async move {
            let query = PushQuery::parse(query.as_deref().unwrap_or(""));
            match for_get.handshake(&query) {
                Ok(echostr) => (StatusCode::OK, echostr),
                Err(error) => (StatusCode::UNAUTHORIZED, error.to_string()),
            }
        })
        .post(move |RawQuery(query): RawQuery, body: String| async move {
            let query = PushQuery::parse(query.as_deref().unwrap_or(""));
            match receiver.receive(&query, &body) {
                Ok(event) => {
                    on_event(event).await;
                    (StatusCode::OK, SUCCESS.to_owned())
                }
                Err(PushError::BadSignature) => (
                    StatusCode::UNAUTHORIZED,
                    PushError::BadSignature.to_string(),
                ),
                Err(error) => (StatusCode::BAD_REQUEST, error.to_string()),
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxcard_wire::sign::server_signature;

    fn signed_query(token: &str, extra: &str) -> PushQuery {
        let signature = server_signature(token, "1700000000", "n1");
        PushQuery::parse(&format!(
            "signature={signature}&timestamp=1700000000&nonce=n1{extra}"
        ))
    }

    const EVENT: &str = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_del_card]]></Event><CardId><![CDATA[pCard]]></CardId><UserCardCode><![CDATA[123]]></UserCardCode></xml>";

    #[test]
    fn a_handshake_with_the_right_token_answers_echostr() {
        let receiver = PushReceiver::plain("tok");

        assert_eq!(
            receiver
                .handshake(&signed_query("tok", "&echostr=hello%21"))
                .unwrap(),
            "hello!"
        );
        assert!(matches!(
            receiver.handshake(&signed_query("other", "&echostr=x")),
            Err(PushError::BadSignature)
        ));
        assert!(matches!(
            receiver.handshake(&PushQuery::default()),
            Err(PushError::Missing("timestamp"))
        ));
    }

    #[test]
    fn a_plain_push_reads_as_its_card_event() {
        let event = PushReceiver::plain("tok")
            .receive(&signed_query("tok", ""), EVENT)
            .unwrap();

        assert_eq!(event.event_name(), "user_del_card");
        assert_eq!(event.header.from_user_name, "oUser");
    }

    #[test]
    fn a_safe_mode_push_is_decrypted_and_a_tampered_one_refused() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let crypt = MsgCrypt::new("tok", key, "wx0123456789abcdef").unwrap();
        let push = crypt.encrypt_push("gh_1", EVENT, "1700000000", "n1", [7; 16]);
        let receiver = PushReceiver::safe("tok", key, "wx0123456789abcdef").unwrap();
        let query = signed_query(
            "tok",
            &format!("&encrypt_type=aes&msg_signature={}", push.msg_signature),
        );

        let event = receiver.receive(&query, &push.body).unwrap();
        assert_eq!(event.event_name(), "user_del_card");
        let reply = receiver
            .reply(&query, "<xml><Content>hi</Content></xml>")
            .unwrap();
        let decrypted = crypt
            .decrypt_message(&reply, &reply_signature(&reply), "1700000000", "n1")
            .unwrap();
        assert_eq!(decrypted, "<xml><Content>hi</Content></xml>");
        let tampered = push.body.replace(&push.encrypt[..8], "AAAAAAAA");
        assert!(receiver.receive(&query, &tampered).is_err());
        assert!(matches!(
            PushReceiver::plain("tok").receive(&query, &push.body),
            Err(PushError::NoKey)
        ));
        // The plain body under a valid plain signature: refused in safe mode, read in
        // compatible mode.
        assert!(matches!(
            receiver.receive(&signed_query("tok", ""), EVENT),
            Err(PushError::NotEncrypted)
        ));
        let compatible = PushReceiver::compatible("tok", key, "wx0123456789abcdef").unwrap();
        assert!(compatible.receive(&signed_query("tok", ""), EVENT).is_ok());
    }

    fn reply_signature(reply: &str) -> String {
        reply
            .split("<MsgSignature><![CDATA[")
            .nth(1)
            .and_then(|rest| rest.split("]]>").next())
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_plain_push_is_answered_with_the_reply_as_it_is() {
        let receiver = PushReceiver::plain("tok");

        assert_eq!(
            receiver.reply(&signed_query("tok", ""), "<xml/>").unwrap(),
            "<xml/>"
        );
    }
}
