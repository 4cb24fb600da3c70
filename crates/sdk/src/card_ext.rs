//! [`CardExt`]: the `cardExt` string a merchant server signs for `wx.addCard`, and
//! [`ActivateLink`]: the `extraData` of the card-opening component, read from a geturl link.

use std::time::{SystemTime, UNIX_EPOCH};

use wxcard_wire::sign::{card_signature, CardSignInput};

/// A `cardExt` to sign: the card, and what the card's code mode needs (a custom code for
/// custom-code cards, the openid for `bind_openid` cards). Timestamp and nonce are filled in
/// when not given.
///
/// ```
/// use wxcard_sdk::CardExt;
///
/// let signed = CardExt::new("pFS7Fjg8kV1IdDz01r4SQwMkuCKc")
///     .outer_str("poster01")
///     .timestamp(1_700_000_000)
///     .nonce_str("n0nce")
///     .sign("the wx_card api_ticket");
/// assert!(signed.card_ext.contains(r#""signature":""#));
/// assert!(signed.card_ext.contains(r#""outer_str":"poster01""#));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardExt {
    card_id: String,
    code: Option<String>,
    openid: Option<String>,
    outer_str: Option<String>,
    fixed_begintimestamp: Option<i64>,
    timestamp: Option<i64>,
    nonce_str: Option<String>,
}

/// A signed `cardExt`, ready for `wx.addCard({cardList: [{cardId, cardExt}]})`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCardExt {
    /// The card, for `cardList[].cardId`.
    pub card_id: String,
    /// The JSON string for `cardList[].cardExt`.
    pub card_ext: String,
    /// The signature inside it.
    pub signature: String,
    /// The signed timestamp (Unix seconds, as the decimal string that was signed).
    pub timestamp: String,
    /// The signed nonce.
    pub nonce_str: String,
}

impl CardExt {
    /// A cardExt for `card_id`.
    #[must_use]
    pub fn new(card_id: &str) -> Self {
        Self {
            card_id: card_id.to_owned(),
            ..Self::default()
        }
    }

    /// The custom code to issue (custom-code cards only; signed).
    #[must_use]
    pub fn code(mut self, code: &str) -> Self {
        self.code = Some(code.to_owned());
        self
    }

    /// The Service Account openid the card is bound to (`bind_openid` cards only; signed).
    #[must_use]
    pub fn openid(mut self, openid: &str) -> Self {
        self.openid = Some(openid.to_owned());
        self
    }

    /// A channel tag, echoed as `OuterStr` in `user_get_card` (not signed).
    #[must_use]
    pub fn outer_str(mut self, outer_str: &str) -> Self {
        self.outer_str = Some(outer_str.to_owned());
        self
    }

    /// When a `DATE_TYPE_FIX_TERM` code's validity starts, Unix seconds (not signed).
    #[must_use]
    pub fn fixed_begintimestamp(mut self, seconds: i64) -> Self {
        self.fixed_begintimestamp = Some(seconds);
        self
    }

    /// The timestamp to sign, Unix **seconds** [default: now].
    #[must_use]
    pub fn timestamp(mut self, seconds: i64) -> Self {
        self.timestamp = Some(seconds);
        self
    }

    /// The nonce to sign [default: 16 random letters and digits].
    #[must_use]
    pub fn nonce_str(mut self, nonce: &str) -> Self {
        self.nonce_str = Some(nonce.to_owned());
        self
    }

    /// Signs with the card's Service Account `wx_card` api_ticket (see
    /// [`crate::Client::api_ticket`]) and serialises the cardExt string.
    #[must_use]
    pub fn sign(self, api_ticket: &str) -> SignedCardExt {
        let timestamp = self
            .timestamp
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(0))
            })
            .to_string();
        let nonce_str = self.nonce_str.unwrap_or_else(random_nonce);
        let signature = card_signature(&CardSignInput {
            api_ticket,
            timestamp: &timestamp,
            card_id: &self.card_id,
            code: self.code.as_deref().unwrap_or(""),
            openid: self.openid.as_deref().unwrap_or(""),
            nonce_str: &nonce_str,
            balance: None,
        });
        let mut fields = serde_json::Map::new();
        let mut put = |name: &str, value: serde_json::Value| {
            fields.insert(name.to_owned(), value);
        };
        if let Some(code) = self.code {
            put("code", code.into());
        }
        if let Some(openid) = self.openid {
            put("openid", openid.into());
        }
        put("timestamp", timestamp.clone().into());
        put("nonce_str", nonce_str.clone().into());
        if let Some(begin) = self.fixed_begintimestamp {
            put("fixed_begintimestamp", begin.into());
        }
        if let Some(outer_str) = self.outer_str {
            put("outer_str", outer_str.into());
        }
        put("signature", signature.clone().into());
        SignedCardExt {
            card_id: self.card_id,
            card_ext: serde_json::Value::Object(fields).to_string(),
            signature,
            timestamp,
            nonce_str,
        }
    }
}

fn random_nonce() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0_u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness: the time still makes nonces differ between calls.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect()
}

/// The `extraData` for the card-opening component (`wx.navigateToMiniProgram` with appId
/// `wxeb490c6f9b154ef9`), read from the link `/card/membercard/activate/geturl` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivateLink {
    /// The encrypted card_id.
    pub encrypt_card_id: String,
    /// The channel tag (may be empty).
    pub outer_str: String,
    /// The Service Account.
    pub biz: String,
}

/// Why a geturl link could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No `?` in the link.
    #[error("the link has no query: pass the url /card/membercard/activate/geturl returned")]
    NoQuery,
    /// A value the component needs is not in the query.
    #[error("the link's query has no {0}")]
    Missing(&'static str),
    /// A `%` escape that is not two hex digits, or bytes that are not UTF-8.
    #[error("the value of {0} is not valid percent-encoded UTF-8")]
    BadEncoding(&'static str),
}

impl ActivateLink {
    /// Reads a geturl link the way WeChat documents: drop the `#…` fragment, take the query,
    /// split on `&` (skipping the empty part of `&&`), split each part on the first `=`, and
    /// percent-decode the value (`+` stays `+`: base64 values contain it).
    ///
    /// # Errors
    /// A link without a query, without `encrypt_card_id` or `biz`, or with a broken escape.
    pub fn parse(url: &str) -> Result<ActivateLink, LinkError> {
        let without_fragment = url.split('#').next().unwrap_or(url);
        let (_, query) = without_fragment.split_once('?').ok_or(LinkError::NoQuery)?;
        let mut encrypt_card_id = None;
        let mut outer_str = None;
        let mut biz = None;
        for part in query.split('&').filter(|part| !part.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let (slot, label) = match name {
                "encrypt_card_id" => (&mut encrypt_card_id, "encrypt_card_id"),
                "outer_str" => (&mut outer_str, "outer_str"),
                "biz" => (&mut biz, "biz"),
                _ => continue,
            };
            *slot = Some(percent_decode(value).ok_or(LinkError::BadEncoding(label))?);
        }
        Ok(ActivateLink {
            encrypt_card_id: encrypt_card_id.ok_or(LinkError::Missing("encrypt_card_id"))?,
            outer_str: outer_str.unwrap_or_default(),
            biz: biz.ok_or(LinkError::Missing("biz"))?,
        })
    }

    /// The `extraData` object to pass to `wx.navigateToMiniProgram`.
    #[must_use]
    pub fn extra_data(&self) -> serde_json::Value {
        serde_json::json!({
            "encrypt_card_id": self.encrypt_card_id,
            "outer_str": self.outer_str,
            "biz": self.biz,
        })
    }
}

fn percent_decode(text: &str) -> Option<String> {
    String::from_utf8(crate::percent::decode_bytes(text, false, true)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxcard_wire::sign::verify_card_signature;

    #[test]
    fn a_signed_card_ext_verifies_over_the_values_it_carries() {
        let signed = CardExt::new("pCard")
            .code("C1")
            .openid("oUser")
            .timestamp(1_700_000_000)
            .nonce_str("abc")
            .sign("ticket");
        let parsed: serde_json::Value = serde_json::from_str(&signed.card_ext).unwrap();

        assert_eq!(parsed["timestamp"], "1700000000");
        assert_eq!(parsed["nonce_str"], "abc");
        assert!(verify_card_signature(
            &CardSignInput {
                api_ticket: "ticket",
                timestamp: "1700000000",
                card_id: "pCard",
                code: "C1",
                openid: "oUser",
                nonce_str: "abc",
                balance: None,
            },
            parsed["signature"].as_str().unwrap()
        ));
    }

    #[test]
    fn defaults_fill_a_current_timestamp_and_a_fresh_nonce() {
        let first = CardExt::new("pCard").sign("ticket");
        let second = CardExt::new("pCard").sign("ticket");

        assert_eq!(first.nonce_str.len(), 16);
        assert_ne!(first.nonce_str, second.nonce_str);
        assert!(first.timestamp.parse::<i64>().unwrap() > 1_600_000_000);
    }

    #[test]
    fn a_geturl_link_gives_the_decoded_extra_data() {
        let link = ActivateLink::parse(
            "https://mp.weixin.qq.com/bizmall/activatemembercard?action=preshow&&encrypt_card_id=ab%2Bc%2Fd%3D&outer_str=store%20042&biz=MzU2ODQzMDM1MQ%3D%3D#wechat_redirect",
        )
        .unwrap();

        assert_eq!(link.encrypt_card_id, "ab+c/d=");
        assert_eq!(link.outer_str, "store 042");
        assert_eq!(link.biz, "MzU2ODQzMDM1MQ==");
    }

    #[test]
    fn a_link_without_biz_or_with_a_broken_escape_is_refused() {
        assert_eq!(
            ActivateLink::parse("https://x/a?encrypt_card_id=abc"),
            Err(LinkError::Missing("biz"))
        );
        assert_eq!(
            ActivateLink::parse("https://x/a?encrypt_card_id=%zz&biz=b"),
            Err(LinkError::BadEncoding("encrypt_card_id"))
        );
        assert_eq!(ActivateLink::parse("https://x/a"), Err(LinkError::NoQuery));
    }
}
