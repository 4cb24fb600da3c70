//! Signatures: the SHA1 digests that WeChat uses to authenticate cards, pages and pushes.
//!
//! This module owns the card signature (`cardExt.signature`), the chooseCard `cardSign`, the
//! `wx.config` page signature, the server URL/push `signature` and the safe-mode
//! `msg_signature`, plus constant-time digest comparison. Every function is pure: no clock, no
//! randomness, no I/O. Callers pass timestamps as the decimal strings that were signed.
//!
//! The `explain_*` functions return a [`SignatureBreakdown`] so the simulator can show a
//! merchant exactly what the platform hashed when their signature does not match.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// What went into a signature, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureBreakdown {
    /// The signed parts in the order they were joined (sorted values, or sorted `key=value` pairs
    /// for the `wx.config` signature).
    pub sorted_values: Vec<String>,
    /// The exact string that was hashed.
    pub joined: String,
    /// Lower-case hex SHA1 of `joined`.
    pub digest: String,
}

/// The values signed into an addCard `cardExt.signature` (jsapi.md §3).
///
/// A value the card does not use (no custom code, no bound openid, no nonce) is the empty
/// string. Empty strings sort first and add nothing to the joined string, so "omitted" and
/// "included as empty" give the same digest, which is why every SDK interoperates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardSignInput<'a> {
    /// The `wx_card` api_ticket of the account that owns the card (never the jsapi ticket).
    pub api_ticket: &'a str,
    /// The `cardExt.timestamp`, as the decimal string that was signed.
    pub timestamp: &'a str,
    /// The card template being claimed.
    pub card_id: &'a str,
    /// The custom code, or empty for system-code and deposit-mode cards.
    pub code: &'a str,
    /// The openid the card is bound to, or empty when `bind_openid` is false.
    pub openid: &'a str,
    /// The `cardExt.nonce_str`, or empty when the client sent none.
    pub nonce_str: &'a str,
    /// The legacy LUCKY_MONEY `balance`; `None` leaves it out of the signed values entirely.
    pub balance: Option<&'a str>,
}

impl<'a> CardSignInput<'a> {
    fn values(&self) -> Vec<&'a str> {
        let mut values = vec![
            self.api_ticket,
            self.timestamp,
            self.card_id,
            self.code,
            self.openid,
            self.nonce_str,
        ];
        // Compat: jsapi.md §3 "Legacy variants": node-webot signs `balance` as a sixth value
        // (card_signature.json `add_legacy_balance`). It is only listed when present so that
        // `sorted_values` shows exactly the values the client signed.
        if let Some(balance) = self.balance {
            values.push(balance);
        }
        values
    }
}

/// The values signed into a chooseCard `cardSign` (jsapi.md §6.2).
///
/// Empty filters (`location_id`, `card_id`, `card_type`) are empty strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChooseCardSignInput<'a> {
    /// The `wx_card` api_ticket of the official account.
    pub api_ticket: &'a str,
    /// The official account's AppID; leaving it out makes WeChat return an empty list.
    pub app_id: &'a str,
    /// The `shopId` filter, or empty.
    pub location_id: &'a str,
    /// The signing timestamp, as the decimal string that was signed.
    pub timestamp: &'a str,
    /// The `nonceStr` sent with the call.
    pub nonce_str: &'a str,
    /// The `cardId` filter, or empty.
    pub card_id: &'a str,
    /// The `cardType` filter (for example `GROUPON`), or empty.
    pub card_type: &'a str,
}

impl<'a> ChooseCardSignInput<'a> {
    fn values(&self) -> [&'a str; 7] {
        [
            self.api_ticket,
            self.app_id,
            self.location_id,
            self.timestamp,
            self.nonce_str,
            self.card_id,
            self.card_type,
        ]
    }
}

/// Lower-case hex SHA1 of `data`.
#[must_use]
pub fn sha1_hex(data: &[u8]) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha1::digest(data);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Sorts `values` byte-wise, joins them with no separator and returns the lower-case hex SHA1.
///
/// This is the primitive behind the card signature, `cardSign`, the server signature and
/// `msg_signature`.
#[must_use]
pub fn sha1_sorted_concat(values: &[&str]) -> String {
    explain_sorted_concat(values).digest
}

/// Like [`sha1_sorted_concat`], but also returns the sorted values and the joined string.
#[must_use]
pub fn explain_sorted_concat(values: &[&str]) -> SignatureBreakdown {
    let mut sorted = values.to_vec();
    // Compat: jsapi.md §3 step 2 and crypto.md A.6 require plain byte-wise order (digits <
    // upper case < `_` < lower case, "99" after "1700000000"); `str`'s `Ord` is exactly that.
    sorted.sort_unstable();
    let joined = sorted.concat();
    SignatureBreakdown {
        digest: sha1_hex(joined.as_bytes()),
        sorted_values: sorted.into_iter().map(str::to_owned).collect(),
        joined,
    }
}

/// The addCard `cardExt.signature` for `input` (jsapi.md §3).
#[must_use]
pub fn card_signature(input: &CardSignInput<'_>) -> String {
    sha1_sorted_concat(&input.values())
}

/// The addCard signature for `input` with the values and string that were hashed.
#[must_use]
pub fn explain_card_signature(input: &CardSignInput<'_>) -> SignatureBreakdown {
    explain_sorted_concat(&input.values())
}

/// Checks a client's `cardExt.signature`, ignoring hex case, in constant time.
#[must_use]
pub fn verify_card_signature(input: &CardSignInput<'_>, given: &str) -> bool {
    verify_digest(&card_signature(input), given)
}

/// The chooseCard `cardSign` for `input` (jsapi.md §6.2).
#[must_use]
pub fn choose_card_sign(input: &ChooseCardSignInput<'_>) -> String {
    sha1_sorted_concat(&input.values())
}

/// The chooseCard `cardSign` for `input` with the values and string that were hashed.
#[must_use]
pub fn explain_choose_card_sign(input: &ChooseCardSignInput<'_>) -> SignatureBreakdown {
    explain_sorted_concat(&input.values())
}

/// Checks a client's chooseCard `cardSign`, ignoring hex case, in constant time.
#[must_use]
pub fn verify_choose_card_sign(input: &ChooseCardSignInput<'_>, given: &str) -> bool {
    verify_digest(&choose_card_sign(input), given)
}

/// The `wx.config` page signature (auth.md §3); any `#fragment` of `url` is not signed.
#[must_use]
pub fn jsapi_config_signature(
    jsapi_ticket: &str,
    noncestr: &str,
    timestamp: &str,
    url: &str,
) -> String {
    explain_jsapi_config_signature(jsapi_ticket, noncestr, timestamp, url).digest
}

/// The `wx.config` signature with the `key=value` pairs and the string that were hashed.
#[must_use]
pub fn explain_jsapi_config_signature(
    jsapi_ticket: &str,
    noncestr: &str,
    timestamp: &str,
    url: &str,
) -> SignatureBreakdown {
    // Compat: auth.md §3 step 1: the page URL is signed without its `#fragment`, because the
    // JS-SDK signs `location.href.split('#')[0]`. Stripping here means a merchant who signs the
    // fragment gets a mismatch, as on WeChat (jsapi_signature.json `fragment_not_stripped_WRONG`).
    let url = url
        .split_once('#')
        .map_or(url, |(before_fragment, _)| before_fragment);
    // Compat: auth.md §3 step 2: unlike every other signature here, this one sorts by field
    // name and joins `key=value` pairs with `&`. The keys are fixed, so their order is too.
    let sorted_values = vec![
        format!("jsapi_ticket={jsapi_ticket}"),
        format!("noncestr={noncestr}"),
        format!("timestamp={timestamp}"),
        format!("url={url}"),
    ];
    let joined = sorted_values.join("&");
    SignatureBreakdown {
        digest: sha1_hex(joined.as_bytes()),
        sorted_values,
        joined,
    }
}

/// The `signature` query parameter of the URL handshake and of every push (events.md §1).
#[must_use]
pub fn server_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sha1_sorted_concat(&[token, timestamp, nonce])
}

/// Checks a push or handshake `signature` exactly as the reference SDKs do.
#[must_use]
pub fn verify_server_signature(token: &str, timestamp: &str, nonce: &str, given: &str) -> bool {
    // Compat: events.md §1 compares against the lower-case hex digest; wechatpy and node's
    // wechat reject upper-case hex here (server_signature.json `neg_uppercase_hex`), unlike
    // the card signature.
    verify_digest_exact(&server_signature(token, timestamp, nonce), given)
}

/// The safe-mode `msg_signature` over the `Encrypt` text (crypto.md A.6).
#[must_use]
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sha1_sorted_concat(&[token, timestamp, nonce, encrypt])
}

/// Checks a safe-mode `msg_signature` exactly as the reference SDKs do (lower-case hex only).
#[must_use]
pub fn verify_msg_signature(
    token: &str,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
    given: &str,
) -> bool {
    verify_digest_exact(&msg_signature(token, timestamp, nonce, encrypt), given)
}

/// Compares a hex digest with one a client sent, ignoring ASCII case, in constant time.
///
/// Compat: jsapi.md §3 "Legacy variants" and §3.2: upper-case card signatures appear in the
/// official example, so card signatures are compared case-insensitively.
#[must_use]
pub fn verify_digest(expected_hex: &str, given: &str) -> bool {
    let expected = expected_hex.to_ascii_lowercase();
    let given = given.to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Compares a hex digest with one a client sent, byte for byte, in constant time.
#[must_use]
pub fn verify_digest_exact(expected_hex: &str, given: &str) -> bool {
    bool::from(expected_hex.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::sign::{
        card_signature, choose_card_sign, explain_card_signature, explain_choose_card_sign,
        explain_jsapi_config_signature, explain_sorted_concat, jsapi_config_signature,
        msg_signature, server_signature, sha1_hex, sha1_sorted_concat, verify_card_signature,
        verify_choose_card_sign, verify_digest, verify_digest_exact, verify_msg_signature,
        verify_server_signature, CardSignInput, ChooseCardSignInput,
    };

    const CARD_VECTORS: &str = include_str!("../testdata/card_signature.json");
    const JSAPI_VECTORS: &str = include_str!("../testdata/jsapi_signature.json");
    const SERVER_VECTORS: &str = include_str!("../testdata/server_signature.json");
    const CRYPTO_VECTORS: &str = include_str!("../testdata/msg_crypto.json");

    fn vectors(text: &str) -> Value {
        serde_json::from_str(text).expect("vector file is valid JSON")
    }

    fn cases<'v>(file: &'v Value, key: &str) -> &'v Vec<Value> {
        file[key].as_array().expect("vector file lists cases")
    }

    fn text<'v>(value: &'v Value, key: &str) -> &'v str {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("vector field {key} is a string"))
    }

    fn strings(value: &Value) -> Vec<String> {
        value
            .as_array()
            .expect("vector field is an array")
            .iter()
            .map(|item| item.as_str().expect("array of strings").to_owned())
            .collect()
    }

    fn card_input(inputs: &Value) -> CardSignInput<'_> {
        CardSignInput {
            api_ticket: text(inputs, "api_ticket"),
            timestamp: text(inputs, "timestamp"),
            card_id: text(inputs, "card_id"),
            code: text(inputs, "code"),
            openid: text(inputs, "openid"),
            nonce_str: text(inputs, "nonce_str"),
            balance: inputs["balance"].as_str(),
        }
    }

    fn choose_input(inputs: &Value) -> ChooseCardSignInput<'_> {
        ChooseCardSignInput {
            api_ticket: text(inputs, "api_ticket"),
            app_id: text(inputs, "app_id"),
            location_id: text(inputs, "location_id"),
            timestamp: text(inputs, "timestamp"),
            nonce_str: text(inputs, "nonce_str"),
            card_id: text(inputs, "card_id"),
            card_type: text(inputs, "card_type"),
        }
    }

    #[test]
    fn sha1_hex_is_lower_case_and_forty_characters() {
        let digest = sha1_hex(b"abc");

        assert_eq!(digest, "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn sorted_concat_sorts_byte_wise_not_numerically() {
        let breakdown = explain_sorted_concat(&["cardtoken2024", "99", "1700004400"]);

        assert_eq!(
            breakdown.sorted_values,
            ["1700004400", "99", "cardtoken2024"]
        );
        assert_eq!(breakdown.joined, "170000440099cardtoken2024");
        assert_eq!(
            breakdown.digest,
            sha1_sorted_concat(&["99", "1700004400", "cardtoken2024"])
        );
    }

    #[test]
    fn card_signature_matches_every_add_card_vector() {
        let file = vectors(CARD_VECTORS);

        for case in cases(&file, "cases") {
            let id = text(case, "id");
            let input = card_input(&case["inputs"]);
            let expected = &case["expected"];

            let breakdown = explain_card_signature(&input);

            assert_eq!(
                breakdown.sorted_values,
                strings(&expected["sorted_values"]),
                "{id}"
            );
            assert_eq!(breakdown.joined, text(expected, "string_to_sign"), "{id}");
            assert_eq!(breakdown.digest, text(expected, "signature"), "{id}");
            assert_eq!(card_signature(&input), text(expected, "signature"), "{id}");
        }
    }

    #[test]
    fn card_signature_ignores_outer_str_and_fixed_begintimestamp() {
        let file = vectors(CARD_VECTORS);
        let unsigned_cases: Vec<&Value> = cases(&file, "cases")
            .iter()
            .filter(|case| {
                case["expected"]["signature_if_unsigned_fields_were_included_WRONG"].is_string()
            })
            .collect();

        assert_eq!(
            unsigned_cases.len(),
            2,
            "the vectors have two cases with unsigned fields"
        );
        for case in unsigned_cases {
            let wrong = text(
                &case["expected"],
                "signature_if_unsigned_fields_were_included_WRONG",
            );

            let signature = card_signature(&card_input(&case["inputs"]));

            assert_ne!(signature, wrong, "{}", text(case, "id"));
            assert!(!verify_card_signature(&card_input(&case["inputs"]), wrong));
        }
    }

    #[test]
    fn card_signature_without_balance_equals_one_with_an_empty_balance() {
        let input = CardSignInput {
            api_ticket: "ticket",
            timestamp: "1700000000",
            card_id: "pFS7Fjg8kV1IdDz01r4SQwMkuCKc",
            ..CardSignInput::default()
        };
        let with_empty_balance = CardSignInput {
            balance: Some(""),
            ..input
        };

        assert_eq!(card_signature(&input), card_signature(&with_empty_balance));
        assert_eq!(explain_card_signature(&input).sorted_values.len(), 6);
        assert_eq!(
            explain_card_signature(&with_empty_balance)
                .sorted_values
                .len(),
            7
        );
    }

    #[test]
    fn verify_card_signature_accepts_upper_case_hex_and_rejects_another_code() {
        let file = vectors(CARD_VECTORS);
        let case = &cases(&file, "cases")[0];
        let input = card_input(&case["inputs"]);
        let signature = text(&case["expected"], "signature");
        let other_code = CardSignInput {
            code: "202311150002",
            ..input
        };

        assert!(verify_card_signature(&input, signature));
        assert!(verify_card_signature(
            &input,
            &signature.to_ascii_uppercase()
        ));
        assert!(!verify_card_signature(&other_code, signature));
    }

    #[test]
    fn choose_card_sign_matches_every_choose_card_vector() {
        let file = vectors(CARD_VECTORS);

        for case in cases(&file, "choose_card_cases") {
            let id = text(case, "id");
            let input = choose_input(&case["inputs"]);
            let expected = &case["expected"];

            let breakdown = explain_choose_card_sign(&input);

            assert_eq!(
                breakdown.sorted_values,
                strings(&expected["sorted_values"]),
                "{id}"
            );
            assert_eq!(breakdown.joined, text(expected, "string_to_sign"), "{id}");
            assert_eq!(
                choose_card_sign(&input),
                text(expected, "signature"),
                "{id}"
            );
            assert!(
                verify_choose_card_sign(&input, text(expected, "signature")),
                "{id}"
            );
        }
    }

    #[test]
    fn choose_card_sign_changes_when_app_id_is_left_out() {
        let file = vectors(CARD_VECTORS);
        let case = &cases(&file, "choose_card_cases")[0];
        let input = choose_input(&case["inputs"]);
        let without_app_id = ChooseCardSignInput {
            app_id: "",
            ..input
        };

        assert!(!verify_choose_card_sign(
            &without_app_id,
            text(&case["expected"], "signature")
        ));
    }

    #[test]
    fn jsapi_config_signature_matches_every_vector_signed_without_a_fragment() {
        let file = vectors(JSAPI_VECTORS);

        for case in cases(&file, "cases") {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let url = text(inputs, "url");
            if url.contains('#') {
                continue;
            }
            let expected = &case["expected"];

            let breakdown = explain_jsapi_config_signature(
                text(inputs, "jsapi_ticket"),
                text(inputs, "noncestr"),
                text(inputs, "timestamp"),
                url,
            );

            assert_eq!(breakdown.digest, text(expected, "signature"), "{id}");
            if let Some(string_to_sign) = expected["string_to_sign"].as_str() {
                assert_eq!(breakdown.joined, string_to_sign, "{id}");
            }
        }
    }

    #[test]
    fn jsapi_config_signature_does_not_sign_the_url_fragment() {
        let file = vectors(JSAPI_VECTORS);
        let case_named = |id: &str| {
            cases(&file, "cases")
                .iter()
                .find(|case| case["id"] == id)
                .unwrap_or_else(|| panic!("vector {id} exists"))
        };
        let stripped = case_named("fragment_stripped");
        let with_fragment = case_named("fragment_not_stripped_WRONG");
        let inputs = &with_fragment["inputs"];

        let signature = jsapi_config_signature(
            text(inputs, "jsapi_ticket"),
            text(inputs, "noncestr"),
            text(inputs, "timestamp"),
            text(inputs, "url"),
        );

        assert_eq!(signature, text(&stripped["expected"], "signature"));
        assert_ne!(signature, text(&with_fragment["expected"], "signature"));
    }

    #[test]
    fn server_signature_matches_every_handshake_vector() {
        let file = vectors(SERVER_VECTORS);

        for case in cases(&file, "cases") {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let (token, timestamp, nonce) = (
                text(inputs, "token"),
                text(inputs, "timestamp"),
                text(inputs, "nonce"),
            );
            let expected = &case["expected"];

            let breakdown = explain_sorted_concat(&[token, timestamp, nonce]);

            assert_eq!(
                breakdown.sorted_values,
                strings(&expected["sorted_values"]),
                "{id}"
            );
            assert_eq!(breakdown.joined, text(expected, "string_to_sign"), "{id}");
            assert_eq!(
                server_signature(token, timestamp, nonce),
                text(expected, "signature"),
                "{id}"
            );
            assert!(
                verify_server_signature(token, timestamp, nonce, text(expected, "signature")),
                "{id}"
            );
        }
    }

    #[test]
    fn verify_server_signature_rejects_every_negative_vector_including_upper_case_hex() {
        let file = vectors(SERVER_VECTORS);
        let negative_cases = cases(&file, "negative_cases");

        assert_eq!(negative_cases.len(), 3);
        for case in negative_cases {
            let inputs = &case["inputs"];

            let accepted = verify_server_signature(
                text(inputs, "token"),
                text(inputs, "timestamp"),
                text(inputs, "nonce"),
                text(inputs, "signature"),
            );

            assert!(!accepted, "{}", text(case, "id"));
            assert_eq!(
                case["expected"]["wechatpy_check_signature"]["accepted"],
                false
            );
        }
    }

    #[test]
    fn msg_signature_matches_every_crypto_vector() {
        let file = vectors(CRYPTO_VECTORS);

        for case in cases(&file, "cases") {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let (token, timestamp, nonce) = (
                text(inputs, "token"),
                text(inputs, "timestamp"),
                text(inputs, "nonce"),
            );
            let (encrypt, expected) = if case["direction"] == "encrypt" {
                (
                    text(&case["expected"], "encrypt"),
                    text(&case["expected"], "msg_signature"),
                )
            } else {
                (text(inputs, "encrypt"), text(inputs, "msg_signature"))
            };

            assert_eq!(
                msg_signature(token, timestamp, nonce, encrypt),
                expected,
                "{id}"
            );
            assert!(
                verify_msg_signature(token, timestamp, nonce, encrypt, expected),
                "{id}"
            );
        }
    }

    #[test]
    fn verify_digest_ignores_case_but_not_content_or_length() {
        let digest = "f464b24fc39322e44b38aa78f5edd27bd1441696";

        assert!(verify_digest(digest, digest));
        assert!(verify_digest(
            digest,
            "F464B24FC39322E44B38AA78F5EDD27BD1441696"
        ));
        assert!(!verify_digest(
            digest,
            "f464b24fc39322e44b38aa78f5edd27bd1441697"
        ));
        assert!(!verify_digest(
            digest,
            "f464b24fc39322e44b38aa78f5edd27bd144169"
        ));
        assert!(!verify_digest(digest, ""));
    }

    #[test]
    fn verify_digest_exact_rejects_upper_case_hex() {
        let digest = "f464b24fc39322e44b38aa78f5edd27bd1441696";

        assert!(verify_digest_exact(digest, digest));
        assert!(!verify_digest_exact(digest, &digest.to_ascii_uppercase()));
    }

    #[test]
    fn server_signature_matches_the_official_handshake_example() {
        // Worked example from events.md §1 and crypto.md A.2.
        let signature = server_signature("AAAAA", "1714036504", "1514711492");

        assert_eq!(signature, "f464b24fc39322e44b38aa78f5edd27bd1441696");
    }
}
