//! `encrypt_code`: the encrypted form of a card code that clients see (crypto.md Part B).
//!
//! WeChat never published its scheme (crypto.md B.3), so this module owns ours: a SIV-like
//! construction that is deterministic ("one-to-one", B.2 rule 3) and authenticated per Service
//! Account (B.2 rule 1). It knows nothing about cards, stores or wire shapes: callers hand it a
//! platform key and an appid, and map [`CodeCryptoError`] to an errcode at the edge.
//!
//! The layout of an `encrypt_code` is `base64(iv ‖ AES-256-CBC(key, iv, PKCS#7(code)))`, where
//! `iv` is the first 16 bytes of `SHA1(mac_key ‖ code)`. The IV is therefore a keyed MAC of the
//! plaintext: the same code always gives the same value, and decrypting recomputes the MAC and
//! rejects anything this account did not make. Values are whole AES blocks, like WeChat's
//! observed 32- and 48-byte values: codes of up to 15 bytes give 32 bytes (44 base64
//! characters), codes of 16 to 31 bytes give 48 bytes (64 characters).

use std::fmt;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::domain::auth::constant_time_eq;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The AES block size; PKCS#7 pads to it and the IV is one block.
const BLOCK_LEN: usize = 16;
/// The shortest `encrypt_code`: the IV and one block of ciphertext.
const MIN_DECODED_LEN: usize = 2 * BLOCK_LEN;
/// Codes are at most 20 characters (codes.md), so a short alphanumeric input is a real code.
const MAX_REAL_CODE_LEN: usize = 20;
/// How much of a rejected input an error message repeats.
const PREVIEW_CHARS: usize = 32;

/// Key-derivation labels; each derived key has its own, so no two keys can coincide.
const AES_KEY_LABEL: &[u8] = b"wxcard encrypt_code aes-256-cbc key";
const MAC_KEY_LABEL: &[u8] = b"wxcard encrypt_code siv mac key";

/// Decodes standard base64 with or without its `=` padding.
///
/// Some URL handling drops a trailing `=`; accepting that costs nothing because the MAC still
/// decides whether the value is ours. Trailing bits stay strict, so one value has one spelling
/// apart from the padding.
const DECODE_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why an `encrypt_code` could not be decrypted; each message says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeCryptoError {
    /// Nothing was passed (or only whitespace).
    #[error(
        "encrypt_code is empty: pass the encrypted code you received (wx.addCard \
         cardList[].code, chooseCard encrypt_code, or the encrypt_code query parameter)"
    )]
    Empty,
    /// The input looks like a real card code, the classic mix-up.
    #[error(
        "encrypt_code {code:?} looks like a real card code, not an encrypted one: pass the \
         encrypted value (wx.addCard cardList[].code, chooseCard encrypt_code, or the \
         encrypt_code query parameter), or skip /card/code/decrypt if you already have the \
         real code"
    )]
    LooksLikeARealCode {
        /// The input (shortened when long).
        code: String,
    },
    /// The input still holds `%25`, so it was percent-encoded twice.
    #[error(
        "encrypt_code is percent-encoded twice (it contains %25): url-decode the query value \
         once more before calling /card/code/decrypt"
    )]
    PercentEncodedTwice,
    /// The input is not standard base64.
    #[error("encrypt_code is not standard base64: {reason}")]
    NotBase64 {
        /// What exactly is wrong, and what to do.
        reason: String,
    },
    /// The input is base64 but does not decode to whole blocks of at least 32 bytes.
    #[error(
        "encrypt_code decodes to {len} bytes, but every encrypt_code is a whole number of \
         16-byte blocks and at least 32 bytes: it was cut short or is not an encrypt_code; \
         pass the value exactly as you received it"
    )]
    BadLength {
        /// The decoded length in bytes.
        len: usize,
    },
    /// Authentication failed: the value was altered, or another Service Account made it.
    ///
    /// Bad padding and a bad MAC are deliberately the same error after the same work, so the
    /// answer never tells an attacker which of the two failed (no padding oracle).
    #[error(
        "encrypt_code was not made for this service account, or was altered: call \
         /card/code/decrypt with the access_token of the account that owns the card, and pass \
         the value exactly as you received it"
    )]
    NotOurs,
}

impl CodeCryptoError {
    /// How far decryption got before this error; used to pick the most telling error when
    /// several readings of a mangled input were tried.
    fn progress(&self) -> u8 {
        match self {
            CodeCryptoError::Empty
            | CodeCryptoError::LooksLikeARealCode { .. }
            | CodeCryptoError::PercentEncodedTwice
            | CodeCryptoError::NotBase64 { .. } => 0,
            CodeCryptoError::BadLength { .. } => 1,
            CodeCryptoError::NotOurs => 2,
        }
    }
}

/// Encrypts and decrypts the codes of one Service Account.
#[derive(Clone)]
pub struct CodeCipher {
    aes_key: [u8; 32],
    mac_key: [u8; 32],
}

impl fmt::Debug for CodeCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys decrypt every code of the account, so they never reach a log.
        f.write_str("CodeCipher { .. }")
    }
}

impl CodeCipher {
    /// The cipher of Service Account `appid` under the platform's secret `platform_key`.
    ///
    /// The AES key and the MAC key are derived separately from (`platform_key`, `appid`), so
    /// each account's values are unreadable and unforgeable with another account's cipher.
    #[must_use]
    pub fn new(platform_key: &[u8], appid: &str) -> CodeCipher {
        CodeCipher {
            aes_key: derive_key(AES_KEY_LABEL, platform_key, appid),
            mac_key: derive_key(MAC_KEY_LABEL, platform_key, appid),
        }
    }

    /// The `encrypt_code` of `code`: standard base64, the same every time for the same code.
    #[must_use]
    pub fn encrypt(&self, code: &str) -> String {
        let plaintext = code.as_bytes();
        let iv = self.synthetic_iv(plaintext);
        let pad_len = BLOCK_LEN - plaintext.len() % BLOCK_LEN;
        let total_len = BLOCK_LEN + plaintext.len() + pad_len;
        let mut buffer = Vec::with_capacity(total_len);
        buffer.extend_from_slice(&iv);
        buffer.extend_from_slice(plaintext);
        // `pad_len` is between 1 and 16, so it fits in the byte that repeats it.
        buffer.resize(total_len, pad_len as u8);

        let mut encryptor = Aes256CbcEnc::new(&self.aes_key.into(), &iv.into());
        for block in buffer[BLOCK_LEN..].chunks_exact_mut(BLOCK_LEN) {
            encryptor.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        STANDARD.encode(buffer)
    }

    /// The real code behind an `encrypt_code`.
    ///
    /// The value may still be percent-encoded (`%2B`, `%2F`, `%3D`, either case), may have
    /// had its `+` turned into spaces by a form decoder, and may carry surrounding whitespace.
    ///
    /// # Errors
    ///
    /// A [`CodeCryptoError`] saying what is wrong with the input. Nothing panics, whatever
    /// the input.
    pub fn decrypt(&self, text: &str) -> Result<String, CodeCryptoError> {
        let text = decode_percent_escapes(text);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(CodeCryptoError::Empty);
        }
        // A form decoder turns `+` into a space; inside the value a space can mean nothing else.
        let reading = trimmed.replace(' ', "+");
        let first = self.decrypt_normalized(&reading);
        if first.is_ok() {
            return first;
        }
        // A `+` at either end became a space that the trim above removed. Try again keeping
        // edge spaces as `+`; the MAC makes a wrong guess fail, never succeed.
        let edge_spaces_kept = text
            .trim_matches(|character: char| character.is_whitespace() && character != ' ')
            .replace(' ', "+");
        if edge_spaces_kept == reading {
            return first;
        }
        let second = self.decrypt_normalized(&edge_spaces_kept);
        match (first, second) {
            (_, Ok(code)) => Ok(code),
            (Err(first), Err(second)) if second.progress() > first.progress() => Err(second),
            (first, _) => first,
        }
    }

    /// Decrypts a value that has been percent-decoded, trimmed and had its spaces restored.
    fn decrypt_normalized(&self, text: &str) -> Result<String, CodeCryptoError> {
        if text.contains('%') {
            return Err(misplaced_percent(text));
        }
        if looks_like_a_real_code(text) {
            return Err(CodeCryptoError::LooksLikeARealCode {
                code: preview(text),
            });
        }
        if let Some((position, character)) = text
            .chars()
            .enumerate()
            .find(|(_, character)| !is_base64_character(*character))
        {
            return Err(CodeCryptoError::NotBase64 {
                reason: bad_character_reason(position, character),
            });
        }
        let decoded = DECODE_ENGINE
            .decode(text)
            .map_err(|error| CodeCryptoError::NotBase64 {
                reason: format!(
                    "{error} ({} characters): it was cut short or altered; pass the value \
                     exactly as you received it",
                    text.len()
                ),
            })?;
        if decoded.len() < MIN_DECODED_LEN || decoded.len() % BLOCK_LEN != 0 {
            return Err(CodeCryptoError::BadLength { len: decoded.len() });
        }

        let (iv, ciphertext) = decoded.split_at(BLOCK_LEN);
        let mut plaintext = ciphertext.to_vec();
        let mut decryptor = Aes256CbcDec::new(&self.aes_key.into(), GenericArray::from_slice(iv));
        for block in plaintext.chunks_exact_mut(BLOCK_LEN) {
            decryptor.decrypt_block_mut(GenericArray::from_mut_slice(block));
        }

        // The padding and the MAC are both checked before either result is used, so a bad
        // padding takes the same path as a bad MAC (see `CodeCryptoError::NotOurs`).
        let (content_len, padding_ok) = check_padding(&plaintext);
        let content = &plaintext[..content_len];
        let mac_ok = constant_time_eq(&self.synthetic_iv(content), iv);
        if !(padding_ok & mac_ok) {
            return Err(CodeCryptoError::NotOurs);
        }
        // Only `encrypt` makes values that pass the MAC, and it encrypts `&str`s, so this
        // cannot fail; if it ever did, the value is still not one of ours.
        String::from_utf8(content.to_vec()).map_err(|_| CodeCryptoError::NotOurs)
    }

    /// The first 16 bytes of `SHA1(mac_key ‖ plaintext)`: the IV and the authentication tag.
    ///
    /// The MAC key has a fixed length and only 16 of the 20 digest bytes are ever shown, so
    /// the length extension of a bare SHA1 prefix MAC does not apply; a forged IV would also
    /// need a matching ciphertext under the separate AES key.
    fn synthetic_iv(&self, plaintext: &[u8]) -> [u8; BLOCK_LEN] {
        let digest = Sha1::new()
            .chain_update(self.mac_key)
            .chain_update(plaintext)
            .finalize();
        let mut iv = [0; BLOCK_LEN];
        iv.copy_from_slice(&digest[..BLOCK_LEN]);
        iv
    }
}

/// 32 key bytes for `label`, from SHA1 in counter mode over (`platform_key`, `appid`).
///
/// Each block hashes `counter ‖ label ‖ 0 ‖ len(platform_key) ‖ platform_key ‖ appid`; the
/// label ends at the zero byte and the platform key carries its length, so no two
/// (label, key, appid) triples hash the same input.
fn derive_key(label: &[u8], platform_key: &[u8], appid: &str) -> [u8; 32] {
    let mut key = [0; 32];
    for (counter, chunk) in (1_u32..).zip(key.chunks_mut(20)) {
        let digest = Sha1::new()
            .chain_update(counter.to_be_bytes())
            .chain_update(label)
            .chain_update([0])
            .chain_update((platform_key.len() as u64).to_be_bytes())
            .chain_update(platform_key)
            .chain_update(appid.as_bytes())
            .finalize();
        chunk.copy_from_slice(&digest[..chunk.len()]);
    }
    key
}

/// Returns the content length and whether `plaintext` ends in valid PKCS#7 padding.
///
/// Every padding byte position is visited whatever the values, and the content length is
/// clamped, so the caller can go on to the MAC without branching on the padding.
fn check_padding(plaintext: &[u8]) -> (usize, bool) {
    let Some(&pad) = plaintext.last() else {
        return (0, false);
    };
    let pad_len = usize::from(pad);
    let in_range = (1..=BLOCK_LEN).contains(&pad_len) && pad_len <= plaintext.len();
    let tail_start = plaintext.len().saturating_sub(BLOCK_LEN);
    let mut mismatch = 0_u8;
    for (distance_from_end, &byte) in plaintext[tail_start..].iter().rev().enumerate() {
        let in_padding = u8::from(distance_from_end < pad_len);
        mismatch |= in_padding * (byte ^ pad);
    }
    let content_len = if in_range {
        plaintext.len() - pad_len
    } else {
        plaintext.len()
    };
    (content_len, in_range & (mismatch == 0))
}

/// Replaces `%2B`, `%2F` and `%3D` (either case) with `+`, `/` and `=`.
///
/// These are the only escapes a percent-encoded base64 value contains; anything else is left
/// for [`misplaced_percent`] to explain.
fn decode_percent_escapes(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('%') {
        decoded.push_str(&rest[..index]);
        let after = &rest[index + 1..];
        let replacement = match after.get(..2).map(str::to_ascii_uppercase).as_deref() {
            Some("2B") => Some('+'),
            Some("2F") => Some('/'),
            Some("3D") => Some('='),
            _ => None,
        };
        if let Some(replacement) = replacement {
            decoded.push(replacement);
            rest = &after[2..];
        } else {
            decoded.push('%');
            rest = after;
        }
    }
    decoded.push_str(rest);
    decoded
}

/// Explains a `%` that survived [`decode_percent_escapes`].
fn misplaced_percent(text: &str) -> CodeCryptoError {
    if text.to_ascii_uppercase().contains("%25") {
        return CodeCryptoError::PercentEncodedTwice;
    }
    CodeCryptoError::NotBase64 {
        reason: "it contains a '%' that is not part of %2B, %2F or %3D: url-decode the query \
                 value once, then pass the result"
            .to_owned(),
    }
}

/// Whether `text` is a card code rather than an `encrypt_code`.
///
/// All digits is a system or typical custom code (no real `encrypt_code` is all digits);
/// a short alphanumeric string is a custom code, since an `encrypt_code` has at least 44
/// characters and codes at most 20.
fn looks_like_a_real_code(text: &str) -> bool {
    let all_digits = text.bytes().all(|byte| byte.is_ascii_digit());
    let short_alphanumeric = text.len() <= MAX_REAL_CODE_LEN
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    all_digits || short_alphanumeric
}

fn is_base64_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '+' | '/' | '=')
}

fn bad_character_reason(position: usize, character: char) -> String {
    let advice = match character {
        '-' | '_' => {
            "this looks like url-safe base64, which no encrypt_code uses: pass the value \
             exactly as you received it"
        }
        '"' | '\'' => "remove the quotes around the value",
        _ => "pass the value exactly as you received it, url-decoded once",
    };
    format!(
        "character {character:?} at position {position} is not in the base64 alphabet \
         (A-Z a-z 0-9 + / =); {advice}"
    )
}

/// The start of `text`, for error messages that must stay short whatever the input.
fn preview(text: &str) -> String {
    let mut shortened: String = text.chars().take(PREVIEW_CHARS).collect();
    if shortened.len() < text.len() {
        shortened.push('…');
    }
    shortened
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    use crate::domain::code_crypto::{CodeCipher, CodeCryptoError};

    const PLATFORM_KEY: &[u8] = b"wxcard test platform key";
    const APPID: &str = "wx1234567890abcdef";
    const OTHER_APPID: &str = "wxfedcba0987654321";

    fn given_a_cipher() -> CodeCipher {
        CodeCipher::new(PLATFORM_KEY, APPID)
    }

    /// The first code (from a fixed sequence) whose `encrypt_code` satisfies `wanted`.
    fn given_a_code_whose_value(cipher: &CodeCipher, wanted: impl Fn(&str) -> bool) -> String {
        (0..100_000_u32)
            .flat_map(|n| [format!("{n:012}"), format!("CUSTOM-{n:013}")])
            .find(|code| wanted(&cipher.encrypt(code)))
            .expect("some code in the sequence has the wanted shape")
    }

    #[test]
    fn encrypting_then_decrypting_gives_back_the_code() {
        let cipher = given_a_cipher();

        for code in [
            "",
            "110201201245",
            "jonyqin_1434008071",
            "0123456789abcdef",
            "二维码会员卡",
            "a code of exactly thirty-one b.",
        ] {
            let encrypted = cipher.encrypt(code);

            assert_eq!(cipher.decrypt(&encrypted), Ok(code.to_owned()), "{code}");
        }
    }

    #[test]
    fn a_twelve_digit_code_gives_32_bytes_and_a_31_byte_code_gives_48() {
        let cipher = given_a_cipher();

        let short = cipher.encrypt("110201201245");
        let long = cipher.encrypt(&"7".repeat(31));
        let sixteen = cipher.encrypt(&"7".repeat(16));

        assert_eq!(short.len(), 44);
        assert_eq!(STANDARD.decode(&short).map(|bytes| bytes.len()), Ok(32));
        assert_eq!(STANDARD.decode(&long).map(|bytes| bytes.len()), Ok(48));
        assert_eq!(long.len(), 64);
        assert_eq!(STANDARD.decode(&sixteen).map(|bytes| bytes.len()), Ok(48));
    }

    #[test]
    fn the_same_code_always_gives_the_same_value_and_different_codes_differ() {
        let cipher = given_a_cipher();
        let rebuilt = given_a_cipher();

        let first = cipher.encrypt("110201201245");
        let again = rebuilt.encrypt("110201201245");
        let other = cipher.encrypt("110201201246");

        assert_eq!(first, again);
        assert_ne!(first, other);
    }

    #[test]
    fn another_service_account_gets_another_value_and_cannot_decrypt_ours() {
        let ours = given_a_cipher();
        let theirs = CodeCipher::new(PLATFORM_KEY, OTHER_APPID);

        let our_value = ours.encrypt("110201201245");
        let their_value = theirs.encrypt("110201201245");

        assert_ne!(our_value, their_value);
        assert_eq!(theirs.decrypt(&our_value), Err(CodeCryptoError::NotOurs));
        assert_eq!(ours.decrypt(&their_value), Err(CodeCryptoError::NotOurs));
    }

    #[test]
    fn another_platform_key_cannot_decrypt_our_values() {
        let ours = given_a_cipher();
        let other_platform = CodeCipher::new(b"another platform", APPID);

        let value = ours.encrypt("110201201245");

        assert_eq!(
            other_platform.decrypt(&value),
            Err(CodeCryptoError::NotOurs)
        );
    }

    #[test]
    fn a_still_percent_encoded_value_decrypts_in_either_case() {
        let cipher = given_a_cipher();
        let code = given_a_code_whose_value(&cipher, |value| {
            value.contains('+') && value.contains('/') && value.ends_with('=')
        });
        let value = cipher.encrypt(&code);

        let upper = value
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let lower = value
            .replace('+', "%2b")
            .replace('/', "%2f")
            .replace('=', "%3d");

        assert_eq!(cipher.decrypt(&upper), Ok(code.clone()));
        assert_eq!(cipher.decrypt(&lower), Ok(code));
    }

    #[test]
    fn a_value_whose_plus_signs_became_spaces_decrypts() {
        let cipher = given_a_cipher();
        let code = given_a_code_whose_value(&cipher, |value| {
            value.contains('+') && !value.starts_with('+') && !value.ends_with('+')
        });
        let value = cipher.encrypt(&code);

        let form_decoded = value.replace('+', " ");

        assert_eq!(cipher.decrypt(&form_decoded), Ok(code.clone()));
        assert_eq!(cipher.decrypt(&format!("  {form_decoded}\n")), Ok(code));
    }

    #[test]
    fn a_plus_sign_at_either_end_survives_form_decoding() {
        let cipher = given_a_cipher();
        let ends_with_plus = given_a_code_whose_value(&cipher, |value| value.ends_with('+'));
        let starts_with_plus = given_a_code_whose_value(&cipher, |value| value.starts_with('+'));

        let trailing = cipher.encrypt(&ends_with_plus).replace('+', " ");
        let leading = cipher.encrypt(&starts_with_plus).replace('+', " ");

        assert_eq!(cipher.decrypt(&trailing), Ok(ends_with_plus));
        assert_eq!(
            cipher.decrypt(&format!("{leading}\r\n")),
            Ok(starts_with_plus)
        );
    }

    #[test]
    fn a_value_without_its_padding_still_decrypts() {
        let cipher = given_a_cipher();
        let value = cipher.encrypt("110201201245");

        let unpadded = value.trim_end_matches('=');

        assert_eq!(cipher.decrypt(unpadded), Ok("110201201245".to_owned()));
    }

    #[test]
    fn changing_any_byte_or_bit_makes_decryption_fail() {
        let cipher = given_a_cipher();
        let bytes = STANDARD
            .decode(cipher.encrypt("110201201245"))
            .expect("our own value is base64");

        for index in 0..bytes.len() {
            for flip in [0x01_u8, 0x80, 0xff] {
                let mut tampered = bytes.clone();
                tampered[index] ^= flip;

                let result = cipher.decrypt(&STANDARD.encode(&tampered));

                assert_eq!(result, Err(CodeCryptoError::NotOurs), "byte {index}");
            }
        }
    }

    #[test]
    fn swapping_blocks_between_two_values_makes_decryption_fail() {
        let cipher = given_a_cipher();
        let first = STANDARD
            .decode(cipher.encrypt(&"1".repeat(20)))
            .expect("base64");
        let second = STANDARD
            .decode(cipher.encrypt(&"2".repeat(20)))
            .expect("base64");

        let spliced = [&first[..32], &second[32..]].concat();

        assert_eq!(
            cipher.decrypt(&STANDARD.encode(spliced)),
            Err(CodeCryptoError::NotOurs)
        );
    }

    #[test]
    fn a_real_code_passed_to_decrypt_is_recognised_as_one() {
        let cipher = given_a_cipher();

        let twelve_digits = cipher.decrypt("110201201245");
        let custom = cipher.decrypt(" VIP-2024_0001 ");

        assert_eq!(
            twelve_digits,
            Err(CodeCryptoError::LooksLikeARealCode {
                code: "110201201245".to_owned()
            })
        );
        assert!(matches!(
            custom,
            Err(CodeCryptoError::LooksLikeARealCode { .. })
        ));
        let message = twelve_digits.expect_err("rejected").to_string();
        assert!(message.contains("real card code"), "{message}");
    }

    #[test]
    fn each_kind_of_bad_input_gets_its_own_error() {
        let cipher = given_a_cipher();
        let value = cipher.encrypt("110201201245");

        assert_eq!(cipher.decrypt(""), Err(CodeCryptoError::Empty));
        assert_eq!(cipher.decrypt(" \t\n"), Err(CodeCryptoError::Empty));
        assert_eq!(
            cipher.decrypt(&value.replace('=', "%253D")),
            Err(CodeCryptoError::PercentEncodedTwice)
        );
        assert!(matches!(
            cipher.decrypt(&value.replace('=', "%")),
            Err(CodeCryptoError::NotBase64 { .. })
        ));
        assert!(matches!(
            cipher.decrypt(&value.replace('=', ".")),
            Err(CodeCryptoError::NotBase64 { .. })
        ));
        assert!(matches!(
            cipher.decrypt(&value[..41]),
            Err(CodeCryptoError::NotBase64 { .. })
        ));
        assert_eq!(
            cipher.decrypt(&value[..40]),
            Err(CodeCryptoError::BadLength { len: 30 })
        );
        assert_eq!(
            cipher.decrypt(&STANDARD.encode([7_u8; 16])),
            Err(CodeCryptoError::BadLength { len: 16 })
        );
        assert_eq!(
            cipher.decrypt(&STANDARD.encode([7_u8; 33])),
            Err(CodeCryptoError::BadLength { len: 33 })
        );
        assert_eq!(
            cipher.decrypt(&STANDARD.encode([7_u8; 32])),
            Err(CodeCryptoError::NotOurs)
        );
    }

    #[test]
    fn url_safe_base64_is_rejected_with_advice() {
        let cipher = given_a_cipher();
        let code = given_a_code_whose_value(&cipher, |value| value.contains('+'));

        let url_safe = cipher.encrypt(&code).replace('+', "-").replace('/', "_");
        let error = cipher.decrypt(&url_safe).expect_err("url-safe is rejected");

        assert!(error.to_string().contains("url-safe base64"), "{error}");
    }

    #[test]
    fn every_error_message_says_what_to_do() {
        let errors = [
            CodeCryptoError::Empty,
            CodeCryptoError::LooksLikeARealCode {
                code: "110201201245".to_owned(),
            },
            CodeCryptoError::PercentEncodedTwice,
            CodeCryptoError::NotBase64 {
                reason: "x".to_owned(),
            },
            CodeCryptoError::BadLength { len: 9 },
            CodeCryptoError::NotOurs,
        ];

        for error in errors {
            let message = error.to_string();

            assert!(message.starts_with("encrypt_code"), "{message}");
            assert!(!message.ends_with('.'), "{message}");
        }
    }

    #[test]
    fn the_debug_output_shows_no_key_material() {
        let cipher = given_a_cipher();

        let shown = format!("{cipher:?}");

        assert_eq!(shown, "CodeCipher { .. }");
    }

    #[test]
    fn garbage_of_any_shape_is_an_error_and_never_a_panic() {
        let cipher = given_a_cipher();
        let value = cipher.encrypt("110201201245");
        let huge_base64 = "A".repeat(1 << 20);
        let huge_unicode = "码".repeat(100_000);
        let mut inputs: Vec<String> = [
            "",
            " ",
            "%",
            "%2",
            "%2b",
            "%zz",
            "%%%%",
            "=",
            "====",
            "+",
            "/",
            "A",
            "AA==",
            "\u{0}",
            "\u{feff}",
            "😀😀😀😀",
            "é",
            "null",
            "{}",
            "[]",
            "-1",
            "0",
            "+++++++++++++++++++++++++++++++++++++++++++=",
            "////////////////////////////////////////////",
            "gSHaes50dDUoXJalv4MsleElIvJQ53tOeGf5EIKzTj8=",
            "XXIzTtMqCxwOaawoE91+VJdsFmv7b8g0VZIZkqf4GWA60Fzpc8ksZ/5ZZ0DVkXdE",
        ]
        .iter()
        .map(|input| (*input).to_owned())
        .collect();
        inputs.extend([
            huge_base64,
            huge_unicode,
            format!("{value}{value}"),
            format!("é{}", &value[1..]),
            value.chars().rev().collect(),
            format!("%25{value}"),
            value[..value.len() - 2].to_owned(),
            " ".repeat(64),
            format!(" {} ", " ".repeat(44)),
        ]);
        for length in 0..80 {
            inputs.push(STANDARD.encode(vec![0xa5_u8; length]));
        }

        for input in &inputs {
            let result = cipher.decrypt(input);

            assert!(result.is_err(), "{input:?} decrypted to {result:?}");
        }
    }

    #[test]
    fn every_mutation_of_an_encrypt_code_is_answered_without_panicking() {
        let cipher = given_a_cipher();
        let codes = ["123456789012", "C1", "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"];
        let encrypted = codes.map(|code| cipher.encrypt(code));
        wxcard_wire::fuzz::Campaign {
            name: "encrypt_code decryption",
            seed: 0x5eed_0101,
            rounds: 6000,
        }
        .run(
            |rng, round| {
                (
                    round % 3,
                    wxcard_wire::fuzz::mutate(rng, &encrypted[round % 3]),
                )
            },
            |(which, input)| {
                if let Ok(decrypted) = cipher.decrypt(input) {
                    // Only the value itself (or a spelling of it) decrypts, to its code.
                    assert_eq!(decrypted, codes[*which], "{input:?}");
                }
            },
        );
    }
}
