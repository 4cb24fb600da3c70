//! Safe-mode message crypto (crypto.md part A): AES-256-CBC encryption of pushes and passive
//! replies, their `msg_signature`, and the XML envelopes that carry them.
//!
//! This module owns the EncodingAESKey, the plaintext layout
//! (`random[16] ‖ be_u32(len) ‖ msg ‖ appid`, PKCS#7 to 32 bytes) and both directions of the
//! envelope. It never panics on received data: every malformed input is a [`CryptoError`].
//! It does not pick random prefixes, timestamps or nonces; callers pass them in, so the
//! functions stay pure and testable against the vectors.

use std::fmt;
use std::string::FromUtf8Error;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use crate::event::{read_flat_document, write_cdata, write_escaped, EventXmlError};
use crate::sign::{msg_signature, verify_msg_signature};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Characters in an EncodingAESKey (crypto.md A.4).
const ENCODING_AES_KEY_LEN: usize = 43;
/// The AES block size; ciphertexts are whole blocks.
const AES_BLOCK_LEN: usize = 16;
/// The block size of the scheme's PKCS#7 padding (crypto.md A.5), twice AES's.
const PAD_BLOCK_LEN: usize = 32;
/// Bytes of random prefix before the length field.
const RANDOM_PREFIX_LEN: usize = 16;

/// Decodes an EncodingAESKey.
///
/// Compat: crypto.md A.4 "Trailing-bits caveat": 43 base64 characters carry 258 bits and most
/// real keys have non-zero bits in the last two, which every other SDK silently drops. The
/// standard engines reject those keys, so this engine allows trailing bits and takes the key
/// with or without the `=` that SDKs append.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a key could not be loaded or a message could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey does not have 43 characters.
    #[error("encoding aes key has {len} bytes, expected 43")]
    InvalidKeyLength {
        /// The length that was given, in bytes.
        len: usize,
    },
    /// The EncodingAESKey is not base64.
    #[error("encoding aes key is not base64")]
    InvalidKeyEncoding(#[source] base64::DecodeError),
    /// The `Encrypt` text is not standard base64.
    #[error("encrypt text is not base64")]
    InvalidBase64(#[source] base64::DecodeError),
    /// The ciphertext is empty or not a whole number of AES blocks.
    #[error("ciphertext has {len} bytes, expected a positive multiple of 16")]
    InvalidCiphertextLength {
        /// The ciphertext length in bytes.
        len: usize,
    },
    /// The padding is not 1 to 32 bytes that each hold the padding length.
    #[error("invalid padding: last byte is {pad}")]
    InvalidPadding {
        /// The last plaintext byte, which should be the padding length.
        pad: u8,
    },
    /// The plaintext is too short to hold the random prefix and the length field.
    #[error("decrypted text has {len} bytes, too short for the random prefix and length field")]
    Truncated {
        /// The plaintext length after removing the padding.
        len: usize,
    },
    /// The length field claims more message bytes than follow it.
    #[error("length field says {declared} bytes but only {available} follow")]
    LengthOutOfRange {
        /// The message length the field declares.
        declared: u32,
        /// The bytes that follow the length field.
        available: usize,
    },
    /// The message was encrypted for another appid.
    #[error("message is for appid {found:?}, expected {expected:?}")]
    AppIdMismatch {
        /// The configured appid.
        expected: String,
        /// The bytes after the message, decoded lossily.
        found: String,
    },
    /// The decrypted message is not UTF-8.
    #[error("decrypted message is not utf-8")]
    NotUtf8(#[source] FromUtf8Error),
    /// The `msg_signature` does not match the token, timestamp, nonce and `Encrypt` text.
    #[error("msg_signature does not match")]
    SignatureMismatch,
    /// The envelope is not an `<xml>` document.
    #[error("encrypted envelope is not valid xml")]
    MalformedEnvelope(#[source] EventXmlError),
    /// The envelope has no `<Encrypt>` element.
    #[error("encrypted envelope has no <Encrypt> element")]
    MissingEncrypt,
}

impl CryptoError {
    /// The local error number WeChat's sample SDKs use for this failure (crypto.md A.10).
    ///
    /// These numbers never travel on the wire; they let an SDK report failures the way
    /// merchants know from the official samples.
    #[must_use]
    pub fn sdk_code(&self) -> i32 {
        match self {
            CryptoError::SignatureMismatch => -40001,
            CryptoError::MalformedEnvelope(_) | CryptoError::MissingEncrypt => -40002,
            CryptoError::InvalidKeyLength { .. } | CryptoError::InvalidKeyEncoding(_) => -40004,
            CryptoError::AppIdMismatch { .. } => -40005,
            CryptoError::InvalidCiphertextLength { .. } | CryptoError::InvalidPadding { .. } => {
                -40007
            }
            CryptoError::Truncated { .. }
            | CryptoError::LengthOutOfRange { .. }
            | CryptoError::NotUtf8(_) => -40008,
            CryptoError::InvalidBase64(_) => -40010,
        }
    }
}

/// An encrypted push ready to send: the body and the `msg_signature` for its query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedPush {
    /// The safe-mode body, `<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>`.
    pub body: String,
    /// The `Encrypt` text inside the body.
    pub encrypt: String,
    /// The `msg_signature` query parameter over `Encrypt`.
    pub msg_signature: String,
}

/// The keys of one official account's safe mode: its Token, EncodingAESKey and appid.
#[derive(Clone)]
pub struct MsgCrypt {
    token: String,
    appid: String,
    key: [u8; 32],
}

impl fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The AES key is a secret; logs show which account a `MsgCrypt` belongs to, not its key.
        f.debug_struct("MsgCrypt")
            .field("appid", &self.appid)
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl MsgCrypt {
    /// Loads an account's Token, 43-character EncodingAESKey and appid.
    ///
    /// # Errors
    ///
    /// [`CryptoError::InvalidKeyLength`] when the key is not 43 characters long and
    /// [`CryptoError::InvalidKeyEncoding`] when it is not base64.
    pub fn new(token: &str, encoding_aes_key: &str, appid: &str) -> Result<MsgCrypt, CryptoError> {
        if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
            return Err(CryptoError::InvalidKeyLength {
                len: encoding_aes_key.len(),
            });
        }
        let decoded = KEY_ENGINE
            .decode(encoding_aes_key)
            .map_err(CryptoError::InvalidKeyEncoding)?;
        // 43 base64 characters always decode to 32 bytes; the check keeps that an invariant
        // of this function instead of an assumption.
        let key = <[u8; 32]>::try_from(decoded.as_slice()).map_err(|_| {
            CryptoError::InvalidKeyLength {
                len: encoding_aes_key.len(),
            }
        })?;
        Ok(MsgCrypt {
            token: token.to_owned(),
            appid: appid.to_owned(),
            key,
        })
    }

    /// The Token used for `msg_signature`.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The appid written into and expected at the end of every plaintext.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// Encrypts `xml` with the given 16-byte random prefix and returns the base64 `Encrypt` text.
    ///
    /// # Panics
    ///
    /// If `xml` is 4 GiB or longer, which the 32-bit length field cannot describe.
    #[must_use]
    pub fn encrypt(&self, xml: &str, random16: [u8; 16]) -> String {
        let message = xml.as_bytes();
        let declared =
            u32::try_from(message.len()).expect("a pushed message is shorter than 4 GiB");
        let raw_len = RANDOM_PREFIX_LEN + 4 + message.len() + self.appid.len();
        // Compat: crypto.md A.5: PKCS#7 over 32-byte blocks, so the padding is 1..=32 bytes and
        // a whole block of 0x20 is added when the text already fills its last block.
        let pad_len = PAD_BLOCK_LEN - raw_len % PAD_BLOCK_LEN;
        let mut buffer = Vec::with_capacity(raw_len + pad_len);
        buffer.extend_from_slice(&random16);
        buffer.extend_from_slice(&declared.to_be_bytes());
        buffer.extend_from_slice(message);
        buffer.extend_from_slice(self.appid.as_bytes());
        // `pad_len` is between 1 and 32, so it fits in the byte that repeats it.
        buffer.resize(raw_len + pad_len, pad_len as u8);

        let mut encryptor = Aes256CbcEnc::new(&self.key.into(), &self.iv().into());
        for block in buffer.chunks_exact_mut(AES_BLOCK_LEN) {
            encryptor.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        STANDARD.encode(buffer)
    }

    /// Decrypts an `Encrypt` text and returns the message.
    ///
    /// This checks the padding, the length field, the appid (exact match) and UTF-8, but it
    /// does not authenticate the sender: use [`MsgCrypt::decrypt_message`] or
    /// [`MsgCrypt::verify_and_decrypt`] on anything received.
    ///
    /// # Errors
    ///
    /// A [`CryptoError`] naming the first check that failed.
    pub fn decrypt(&self, encrypt_b64: &str) -> Result<String, CryptoError> {
        let mut buffer = STANDARD
            .decode(encrypt_b64)
            .map_err(CryptoError::InvalidBase64)?;
        if buffer.is_empty() || buffer.len() % AES_BLOCK_LEN != 0 {
            return Err(CryptoError::InvalidCiphertextLength { len: buffer.len() });
        }
        let mut decryptor = Aes256CbcDec::new(&self.key.into(), &self.iv().into());
        for block in buffer.chunks_exact_mut(AES_BLOCK_LEN) {
            decryptor.decrypt_block_mut(GenericArray::from_mut_slice(block));
        }

        let content = strip_padding(&buffer)?;
        let Some((_random, after_random)) = content.split_at_checked(RANDOM_PREFIX_LEN) else {
            return Err(CryptoError::Truncated { len: content.len() });
        };
        let Some((length_field, after_length)) = after_random.split_first_chunk::<4>() else {
            return Err(CryptoError::Truncated { len: content.len() });
        };
        let declared = u32::from_be_bytes(*length_field);
        let out_of_range = CryptoError::LengthOutOfRange {
            declared,
            available: after_length.len(),
        };
        let message_len = usize::try_from(declared).map_err(|_| out_of_range.clone())?;
        let Some((message, appid)) = after_length.split_at_checked(message_len) else {
            return Err(out_of_range);
        };
        // Compat: crypto.md A.8 step 6: the appid must match exactly (easywechat trims it
        // first; we do not, so trailing garbage is caught).
        if appid != self.appid.as_bytes() {
            return Err(CryptoError::AppIdMismatch {
                expected: self.appid.clone(),
                found: String::from_utf8_lossy(appid).into_owned(),
            });
        }
        String::from_utf8(message.to_vec()).map_err(CryptoError::NotUtf8)
    }

    /// Encrypts a passive reply and wraps it in the safe-mode reply envelope (crypto.md A.7).
    ///
    /// # Panics
    ///
    /// As [`MsgCrypt::encrypt`].
    #[must_use]
    pub fn encrypt_message(
        &self,
        xml: &str,
        timestamp: &str,
        nonce: &str,
        random16: [u8; 16],
    ) -> String {
        let encrypt = self.encrypt(xml, random16);
        let signature = msg_signature(&self.token, timestamp, nonce, &encrypt);
        // Compat: crypto.md A.7: one element per line, in the order every SDK emits (wechatpy's
        // output in msg_crypto.json is byte-identical); `TimeStamp` is the only bare value.
        let mut out = String::with_capacity(encrypt.len() + 160);
        out.push_str("<xml>\n<Encrypt>");
        write_cdata(&mut out, &encrypt);
        out.push_str("</Encrypt>\n<MsgSignature>");
        write_cdata(&mut out, &signature);
        out.push_str("</MsgSignature>\n<TimeStamp>");
        write_escaped(&mut out, timestamp);
        out.push_str("</TimeStamp>\n<Nonce>");
        write_cdata(&mut out, nonce);
        out.push_str("</Nonce>\n</xml>");
        out
    }

    /// Encrypts a push for the account `to_user_name` (its `gh_…` id) as safe mode sends it:
    /// a body with only `ToUserName` and `Encrypt`, and a `msg_signature` for the query string
    /// (crypto.md A.3).
    ///
    /// # Panics
    ///
    /// As [`MsgCrypt::encrypt`].
    #[must_use]
    pub fn encrypt_push(
        &self,
        to_user_name: &str,
        xml: &str,
        timestamp: &str,
        nonce: &str,
        random16: [u8; 16],
    ) -> EncryptedPush {
        let encrypt = self.encrypt(xml, random16);
        let signature = msg_signature(&self.token, timestamp, nonce, &encrypt);
        let mut body = String::with_capacity(encrypt.len() + 96);
        body.push_str("<xml><ToUserName>");
        write_cdata(&mut body, to_user_name);
        body.push_str("</ToUserName><Encrypt>");
        write_cdata(&mut body, &encrypt);
        body.push_str("</Encrypt></xml>");
        EncryptedPush {
            body,
            encrypt,
            msg_signature: signature,
        }
    }

    /// Reads a safe-mode envelope (a push body or a reply), checks its `msg_signature` and
    /// returns the decrypted message.
    ///
    /// # Errors
    ///
    /// [`CryptoError::MalformedEnvelope`] or [`CryptoError::MissingEncrypt`] for a bad envelope,
    /// [`CryptoError::SignatureMismatch`] before any decryption is attempted, then the errors
    /// of [`MsgCrypt::decrypt`].
    pub fn decrypt_message(
        &self,
        post_xml_body: &str,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, CryptoError> {
        let elements = read_flat_document(post_xml_body).map_err(CryptoError::MalformedEnvelope)?;
        let Some((_, encrypt)) = elements.iter().find(|(name, _)| name == "Encrypt") else {
            return Err(CryptoError::MissingEncrypt);
        };
        self.verify_and_decrypt(encrypt, msg_signature, timestamp, nonce)
    }

    /// Checks `msg_signature` over an `Encrypt` text taken from anywhere (an envelope, or the
    /// `echostr` of an encrypted handshake) and returns the decrypted message.
    ///
    /// # Errors
    ///
    /// [`CryptoError::SignatureMismatch`] before any decryption is attempted, then the errors
    /// of [`MsgCrypt::decrypt`].
    pub fn verify_and_decrypt(
        &self,
        encrypt: &str,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, CryptoError> {
        // Compat: crypto.md A.8 step 1: the signature covers `Encrypt` exactly as transmitted,
        // and it is checked first so unauthenticated ciphertexts never reach the decoder.
        if !verify_msg_signature(&self.token, timestamp, nonce, encrypt, msg_signature) {
            return Err(CryptoError::SignatureMismatch);
        }
        self.decrypt(encrypt)
    }

    fn iv(&self) -> [u8; 16] {
        // Compat: crypto.md A.4: the IV is the first 16 bytes of the key, fixed for every message.
        let mut iv = [0; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }
}

/// Removes the 32-byte-block PKCS#7 padding, refusing anything but 1..=32 equal bytes.
fn strip_padding(plain: &[u8]) -> Result<&[u8], CryptoError> {
    let Some(&pad) = plain.last() else {
        return Err(CryptoError::InvalidPadding { pad: 0 });
    };
    // Compat: crypto.md A.8 step 4: wechatpy, easywechat and node treat an out-of-range pad as
    // 0 and strip nothing; the spec lets a decoder be strict, and strictness turns corruption
    // into a clear error instead of garbage glued to the appid.
    let pad_len = usize::from(pad);
    if !(1..=PAD_BLOCK_LEN).contains(&pad_len) {
        return Err(CryptoError::InvalidPadding { pad });
    }
    let Some(content_len) = plain.len().checked_sub(pad_len) else {
        return Err(CryptoError::InvalidPadding { pad });
    };
    let (content, padding) = plain.split_at(content_len);
    if padding.iter().any(|&byte| byte != pad) {
        return Err(CryptoError::InvalidPadding { pad });
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use aes::cipher::generic_array::GenericArray;
    use aes::cipher::{BlockEncryptMut, KeyIvInit};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde_json::Value;

    use crate::crypto::{Aes256CbcEnc, CryptoError, MsgCrypt};
    use crate::sign::{msg_signature, server_signature};

    const CRYPTO_VECTORS: &str = include_str!("../testdata/msg_crypto.json");
    const EVENT_VECTORS: &str = include_str!("../testdata/events.json");

    const TOKEN: &str = "cardtoken2024";
    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const APPID: &str = "wx1a2b3c4d5e6f7a8b";

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

    fn random_prefix(value: &str) -> [u8; 16] {
        value
            .as_bytes()
            .try_into()
            .expect("random prefix is 16 bytes")
    }

    fn crypt_for(inputs: &Value) -> MsgCrypt {
        MsgCrypt::new(
            text(inputs, "token"),
            text(inputs, "encoding_aes_key"),
            text(inputs, "appid"),
        )
        .expect("vector key loads")
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn given_a_crypt() -> MsgCrypt {
        MsgCrypt::new(TOKEN, KEY, APPID).expect("test key loads")
    }

    /// Encrypts an arbitrary (already padded) plaintext, to build inputs no honest sender makes.
    fn encrypt_raw(crypt: &MsgCrypt, plain: &[u8]) -> String {
        let mut buffer = plain.to_vec();
        let mut encryptor = Aes256CbcEnc::new(&crypt.key.into(), &crypt.iv().into());
        for block in buffer.chunks_exact_mut(16) {
            encryptor.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        STANDARD.encode(buffer)
    }

    fn padded(mut raw: Vec<u8>) -> Vec<u8> {
        let pad_len = 32 - raw.len() % 32;
        raw.resize(
            raw.len() + pad_len,
            u8::try_from(pad_len).expect("pad fits a byte"),
        );
        raw
    }

    fn plaintext(message: &[u8], appid: &[u8]) -> Vec<u8> {
        let mut raw = b"0123456789abcdef".to_vec();
        raw.extend_from_slice(&u32::try_from(message.len()).expect("short").to_be_bytes());
        raw.extend_from_slice(message);
        raw.extend_from_slice(appid);
        raw
    }

    #[test]
    fn new_derives_key_and_iv_from_non_canonical_keys() {
        let file = vectors(CRYPTO_VECTORS);

        for case in cases(&file, "cases")
            .iter()
            .filter(|case| case["direction"] == "encrypt")
        {
            let crypt = crypt_for(&case["inputs"]);

            assert_eq!(
                hex(&crypt.key),
                text(&case["derived"], "aes_key_hex"),
                "{}",
                text(case, "id")
            );
            assert_eq!(
                hex(&crypt.iv()),
                text(&case["derived"], "iv_hex"),
                "{}",
                text(case, "id")
            );
        }
    }

    #[test]
    fn encrypt_matches_every_encrypt_vector() {
        let file = vectors(CRYPTO_VECTORS);

        for case in cases(&file, "cases")
            .iter()
            .filter(|case| case["direction"] == "encrypt")
        {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let crypt = crypt_for(inputs);

            let encrypt = crypt.encrypt(
                text(inputs, "plaintext"),
                random_prefix(text(inputs, "random_prefix")),
            );

            assert_eq!(encrypt, text(&case["expected"], "encrypt"), "{id}");
        }
    }

    #[test]
    fn encrypt_message_renders_the_reply_envelope_byte_for_byte_like_wechatpy() {
        let file = vectors(CRYPTO_VECTORS);

        for case in cases(&file, "cases")
            .iter()
            .filter(|case| case["direction"] == "encrypt")
        {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let crypt = crypt_for(inputs);

            let envelope = crypt.encrypt_message(
                text(inputs, "plaintext"),
                text(inputs, "timestamp"),
                text(inputs, "nonce"),
                random_prefix(text(inputs, "random_prefix")),
            );

            assert_eq!(
                envelope,
                text(&case["expected"], "wechatpy_reply_envelope"),
                "{id}"
            );
        }
    }

    #[test]
    fn decrypt_message_reads_every_reply_envelope_it_renders() {
        let file = vectors(CRYPTO_VECTORS);

        for case in cases(&file, "cases")
            .iter()
            .filter(|case| case["direction"] == "encrypt")
        {
            let inputs = &case["inputs"];
            let crypt = crypt_for(inputs);
            let expected = &case["expected"];

            let message = crypt.decrypt_message(
                text(expected, "wechatpy_reply_envelope"),
                text(expected, "msg_signature"),
                text(inputs, "timestamp"),
                text(inputs, "nonce"),
            );

            assert_eq!(
                message.as_deref(),
                Ok(text(inputs, "plaintext")),
                "{}",
                text(case, "id")
            );
        }
    }

    #[test]
    fn decrypt_matches_every_decrypt_vector() {
        let file = vectors(CRYPTO_VECTORS);
        let decrypt_cases: Vec<&Value> = cases(&file, "cases")
            .iter()
            .filter(|case| case["direction"] == "decrypt")
            .collect();

        assert_eq!(decrypt_cases.len(), 6);
        for case in decrypt_cases {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let crypt = crypt_for(inputs);
            let (signature, timestamp, nonce) = (
                text(inputs, "msg_signature"),
                text(inputs, "timestamp"),
                text(inputs, "nonce"),
            );

            let message = match inputs["post_body"].as_str() {
                Some(body) => crypt.decrypt_message(body, signature, timestamp, nonce),
                None => {
                    crypt.verify_and_decrypt(text(inputs, "encrypt"), signature, timestamp, nonce)
                }
            };

            assert_eq!(
                message.as_deref(),
                Ok(text(&case["expected"], "plaintext")),
                "{id}"
            );
            assert_eq!(crypt.appid(), text(&case["expected"], "from_appid"), "{id}");
        }
    }

    #[test]
    fn decrypt_message_rejects_every_negative_vector_with_the_matching_error() {
        let file = vectors(CRYPTO_VECTORS);
        let negative_cases = cases(&file, "negative_cases");

        assert_eq!(negative_cases.len(), 6);
        for case in negative_cases {
            let id = text(case, "id");
            let inputs = &case["inputs"];
            let crypt = crypt_for(inputs);

            let error = crypt
                .decrypt_message(
                    text(inputs, "post_body"),
                    text(inputs, "msg_signature"),
                    text(inputs, "timestamp"),
                    text(inputs, "nonce"),
                )
                .expect_err(id);

            let expected = match id {
                "neg_wrong_msg_signature" => matches!(error, CryptoError::SignatureMismatch),
                "neg_wrong_appid" => {
                    matches!(&error, CryptoError::AppIdMismatch { found, .. } if found == "wx9f8e7d6c5b4a3f2e")
                }
                "neg_padding_byte_zero" => error == CryptoError::InvalidPadding { pad: 0 },
                "neg_padding_byte_33" => error == CryptoError::InvalidPadding { pad: 33 },
                "neg_msg_len_too_large" => matches!(
                    error,
                    CryptoError::LengthOutOfRange { declared, available } if declared == 629 + 40 && available == 629 + 18
                ),
                "neg_ciphertext_not_block_aligned" => {
                    matches!(error, CryptoError::InvalidCiphertextLength { len } if len % 16 != 0)
                }
                other => panic!("negative vector {other} has no expected error in this test"),
            };
            assert!(expected, "{id}: got {error:?}");
        }
    }

    #[test]
    fn decrypt_rejects_a_message_for_another_appid() {
        let crypt = given_a_crypt();
        let other_account = MsgCrypt::new(TOKEN, KEY, "wx9f8e7d6c5b4a3f2e").expect("key loads");
        let encrypt = other_account.encrypt("<xml/>", *b"aaaabbbbccccdddd");

        let error = crypt.decrypt(&encrypt).expect_err("appid differs");

        assert_eq!(
            error,
            CryptoError::AppIdMismatch {
                expected: APPID.to_owned(),
                found: "wx9f8e7d6c5b4a3f2e".to_owned(),
            }
        );
        assert_eq!(error.sdk_code(), -40005);
    }

    #[test]
    fn decrypt_rejects_an_appid_with_trailing_bytes() {
        let crypt = given_a_crypt();
        let encrypt = encrypt_raw(
            &crypt,
            &padded(plaintext(b"<xml/>", b"wx1a2b3c4d5e6f7a8b ")),
        );

        let error = crypt
            .decrypt(&encrypt)
            .expect_err("appid has a trailing space");

        assert!(
            matches!(error, CryptoError::AppIdMismatch { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_messages_of_every_padding_length() {
        let crypt = given_a_crypt();

        for len in 0..=80 {
            let message: String = "é".repeat(len / 2) + &"x".repeat(len % 2);

            let encrypt = crypt.encrypt(&message, *b"0000111122223333");
            let ciphertext = STANDARD.decode(&encrypt).expect("own output is base64");

            assert_eq!(ciphertext.len() % 32, 0, "length {len}");
            assert_eq!(crypt.decrypt(&encrypt), Ok(message), "length {len}");
        }
    }

    #[test]
    fn encrypt_matches_the_worked_example_of_crypto_md_a9() {
        // Inputs and expected values from crypto.md A.9 (verified there with wechatpy 1.8.18).
        let crypt = MsgCrypt::new(
            "cardspec_token",
            "CardVoucherSpecExampleKey0123456789abcdefgh",
            "wx1234567890abcdef",
        )
        .expect("example key loads");
        let message = "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oTestOpenid0000000000000001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[submit_membercard_user_info]]></Event><CardId><![CDATA[pTestCardId00000000000000001]]></CardId><UserCardCode><![CDATA[123456789012]]></UserCardCode></xml>";

        let push = crypt.encrypt_push(
            "gh_0123456789ab",
            message,
            "1700000000",
            "1234567890",
            *b"aaaabbbbccccdddd",
        );

        assert_eq!(
            hex(&crypt.key),
            "09aadd568b9c85ead2a5e704c5a9a995e29ecb4d76df8e7aefcf5a6dc75e7e08"
        );
        assert!(push
            .encrypt
            .starts_with("AVfcf2Xw2veAFxmQtzMoWmLdwXEzHb4yotAiegWEWDI0p6CR4TFJGBjKgWVQZSEh"));
        assert!(push.encrypt.ends_with("a1+r/Qo8RkwtxgzieQXk="));
        assert_eq!(push.encrypt.len(), 556);
        assert_eq!(
            push.msg_signature,
            "e5e879d2c8e73871021987444f802f840bbfd917"
        );
    }

    #[test]
    fn encrypt_push_matches_every_encrypted_event_push_vector() {
        let file = vectors(EVENT_VECTORS);
        let config = &file["push_config"];
        let crypt = crypt_for(config);

        for case in cases(&file, "cases") {
            let id = text(case, "id");
            let encrypted = &case["push"]["encrypted"];
            let query = &encrypted["query"];
            let (timestamp, nonce) = (text(query, "timestamp"), text(query, "nonce"));

            let push = crypt.encrypt_push(
                text(config, "developer_gh_id"),
                text(case, "xml"),
                timestamp,
                nonce,
                random_prefix(text(encrypted, "random_prefix")),
            );

            assert_eq!(push.body, text(encrypted, "body"), "{id}");
            assert_eq!(push.msg_signature, text(query, "msg_signature"), "{id}");
            assert_eq!(
                server_signature(crypt.token(), timestamp, nonce),
                text(query, "signature"),
                "{id}"
            );
            assert_eq!(
                crypt
                    .decrypt_message(&push.body, &push.msg_signature, timestamp, nonce)
                    .as_deref(),
                Ok(text(case, "xml")),
                "{id}"
            );
        }
    }

    #[test]
    fn new_rejects_keys_that_are_not_43_characters() {
        for key in ["", &KEY[..42], &format!("{KEY}="), &format!("{KEY}A")] {
            let error = MsgCrypt::new(TOKEN, key, APPID).expect_err("wrong length");

            assert_eq!(error, CryptoError::InvalidKeyLength { len: key.len() });
            assert_eq!(error.sdk_code(), -40004);
        }
    }

    #[test]
    fn new_rejects_a_key_that_is_not_base64() {
        let key = format!("{}*", &KEY[..42]);

        let error = MsgCrypt::new(TOKEN, &key, APPID).expect_err("'*' is not base64");

        assert!(
            matches!(error, CryptoError::InvalidKeyEncoding(_)),
            "{error:?}"
        );
    }

    #[test]
    fn debug_output_does_not_reveal_the_key() {
        let crypt = given_a_crypt();

        let debug = format!("{crypt:?}");

        assert!(debug.contains(APPID));
        assert!(!debug.contains(&hex(&crypt.key)));
        assert!(!debug.contains(&format!("{:?}", crypt.key)));
    }

    #[test]
    fn decrypt_rejects_text_that_is_not_base64() {
        let crypt = given_a_crypt();

        let error = crypt.decrypt("not base64!").expect_err("invalid base64");

        assert!(matches!(error, CryptoError::InvalidBase64(_)), "{error:?}");
        assert_eq!(error.sdk_code(), -40010);
    }

    #[test]
    fn decrypt_rejects_an_empty_ciphertext() {
        let crypt = given_a_crypt();

        assert_eq!(
            crypt.decrypt(""),
            Err(CryptoError::InvalidCiphertextLength { len: 0 })
        );
    }

    #[test]
    fn decrypt_rejects_a_ciphertext_that_is_not_whole_aes_blocks() {
        let crypt = given_a_crypt();
        let encrypt = STANDARD.encode([7u8; 40]);

        assert_eq!(
            crypt.decrypt(&encrypt),
            Err(CryptoError::InvalidCiphertextLength { len: 40 })
        );
    }

    #[test]
    fn decrypt_rejects_padding_bytes_that_differ_from_the_pad_length() {
        let crypt = given_a_crypt();
        let mut plain = padded(plaintext(b"<xml/>", APPID.as_bytes()));
        let pad = *plain.last().expect("padded text is not empty");
        let first_pad_byte = plain.len() - usize::from(pad);
        plain[first_pad_byte] = 0;

        let error = crypt
            .decrypt(&encrypt_raw(&crypt, &plain))
            .expect_err("corrupt padding");

        assert_eq!(error, CryptoError::InvalidPadding { pad });
    }

    #[test]
    fn decrypt_rejects_a_plaintext_too_short_for_the_length_field() {
        let crypt = given_a_crypt();
        let plain = padded(b"0123456789abcdef00".to_vec());

        let error = crypt
            .decrypt(&encrypt_raw(&crypt, &plain))
            .expect_err("no room for a length field");

        assert_eq!(error, CryptoError::Truncated { len: 18 });
        assert_eq!(error.sdk_code(), -40008);
    }

    #[test]
    fn decrypt_rejects_a_message_that_is_not_utf8() {
        let crypt = given_a_crypt();
        let plain = padded(plaintext(&[0x3c, 0xff, 0xfe, 0x3e], APPID.as_bytes()));

        let error = crypt
            .decrypt(&encrypt_raw(&crypt, &plain))
            .expect_err("invalid utf-8");

        assert!(matches!(error, CryptoError::NotUtf8(_)), "{error:?}");
    }

    #[test]
    fn decrypt_message_checks_the_signature_before_decoding() {
        let crypt = given_a_crypt();
        let body = "<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName><Encrypt><![CDATA[not base64!]]></Encrypt></xml>";

        let error = crypt
            .decrypt_message(
                body,
                "0000000000000000000000000000000000000000",
                "1700005000",
                "1",
            )
            .expect_err("signature is wrong");

        assert_eq!(error, CryptoError::SignatureMismatch);
        assert_eq!(error.sdk_code(), -40001);
    }

    #[test]
    fn decrypt_message_rejects_an_upper_case_msg_signature() {
        let crypt = given_a_crypt();
        let push = crypt.encrypt_push(
            "gh_7e1c3a5b9d2f",
            "<xml/>",
            "1700005000",
            "1",
            *b"aaaabbbbccccdddd",
        );

        let error = crypt
            .decrypt_message(
                &push.body,
                &push.msg_signature.to_ascii_uppercase(),
                "1700005000",
                "1",
            )
            .expect_err("reference SDKs compare lower-case hex exactly");

        assert_eq!(error, CryptoError::SignatureMismatch);
    }

    #[test]
    fn decrypt_message_rejects_an_envelope_without_encrypt() {
        let crypt = given_a_crypt();
        let body = "<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName></xml>";

        let error = crypt
            .decrypt_message(body, "sig", "1", "2")
            .expect_err("no Encrypt");

        assert_eq!(error, CryptoError::MissingEncrypt);
    }

    #[test]
    fn decrypt_message_rejects_a_body_that_is_not_xml() {
        let crypt = given_a_crypt();

        for body in [
            "",
            "success",
            "<xml><Encrypt>abc</Encrypt>",
            "<root><Encrypt>abc</Encrypt></root>",
        ] {
            let error = crypt
                .decrypt_message(body, "sig", "1", "2")
                .expect_err(body);

            assert!(
                matches!(error, CryptoError::MalformedEnvelope(_)),
                "{body}: {error:?}"
            );
            assert_eq!(error.sdk_code(), -40002);
        }
    }

    #[test]
    fn decrypt_message_accepts_plain_text_and_indented_envelopes() {
        let crypt = given_a_crypt();
        let push = crypt.encrypt_push(
            "gh_7e1c3a5b9d2f",
            "<xml/>",
            "1700005000",
            "42",
            *b"aaaabbbbccccdddd",
        );
        let body = format!(
            "<?xml version=\"1.0\"?>\n<xml>\n  <Encrypt>{}</Encrypt>\n  <ToUserName>gh_7e1c3a5b9d2f</ToUserName>\n</xml>\n",
            push.encrypt
        );

        let message = crypt.decrypt_message(&body, &push.msg_signature, "1700005000", "42");

        assert_eq!(message.as_deref(), Ok("<xml/>"));
        assert_eq!(
            push.msg_signature,
            msg_signature(TOKEN, "1700005000", "42", &push.encrypt)
        );
    }
}
