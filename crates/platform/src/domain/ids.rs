//! Identifier generation. Every id is a keyed hash of (kind, sequence number), where the
//! sequence lives in the database. With `--seed N` the key comes from N, so a fresh database
//! produces the same appids, secrets, tokens and codes every time; without a seed the key is
//! random. Derived ids (openid, unionid) are hashes of the ids they derive from.

use sha1::{Digest, Sha1};

use crate::store::{StoreResult, Tx};

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Makes identifiers; cheap to share.
#[derive(Clone)]
pub struct IdGen {
    key: [u8; 20],
}

impl std::fmt::Debug for IdGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdGen { .. }")
    }
}

impl IdGen {
    /// A generator keyed by `seed`, or by random bytes when there is none.
    #[must_use]
    pub fn new(seed: Option<u64>) -> Self {
        let mut hasher = Sha1::new();
        match seed {
            Some(seed) => {
                hasher.update(b"wxcard seed ");
                hasher.update(seed.to_be_bytes());
            }
            None => {
                let mut random = [0_u8; 32];
                // Without randomness ids are still unique (the sequence is), only guessable.
                if getrandom::getrandom(&mut random).is_err() {
                    tracing::warn!("no OS randomness: ids will be predictable");
                }
                hasher.update(random);
            }
        }
        Self {
            key: hasher.finalize().into(),
        }
    }

    /// `n` pseudo-random bytes for (kind, input).
    fn bytes(&self, kind: &str, input: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 20);
        let mut block: u32 = 0;
        while out.len() < n {
            let mut hasher = Sha1::new();
            hasher.update(self.key);
            hasher.update(kind.as_bytes());
            hasher.update([0]);
            hasher.update(input);
            hasher.update(block.to_be_bytes());
            out.extend_from_slice(&hasher.finalize());
            block += 1;
        }
        out.truncate(n);
        out
    }

    /// `n` lowercase hex digits.
    #[must_use]
    pub fn hex(&self, kind: &str, input: &[u8], n: usize) -> String {
        self.bytes(kind, input, n)
            .iter()
            .map(|byte| char::from(HEX[usize::from(byte & 0x0f)]))
            .collect()
    }

    /// `n` characters of `[A-Za-z0-9_-]`.
    #[must_use]
    pub fn url_safe(&self, kind: &str, input: &[u8], n: usize) -> String {
        self.bytes(kind, input, n)
            .iter()
            .map(|byte| char::from(URL_SAFE[usize::from(byte & 0x3f)]))
            .collect()
    }

    /// `n` decimal digits.
    #[must_use]
    pub fn digits(&self, kind: &str, input: &[u8], n: usize) -> String {
        self.bytes(kind, input, n)
            .iter()
            .map(|byte| char::from(b'0' + byte % 10))
            .collect()
    }

    /// The standard base64 of `n` bytes (WeChat's session_key is the base64 of 16 bytes).
    #[must_use]
    pub fn base64(&self, kind: &str, input: &[u8], n: usize) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.bytes(kind, input, n))
    }

    /// Draws the next sequence number of `kind` inside the caller's transaction.
    ///
    /// # Errors
    /// When the store fails.
    pub fn next(tx: &mut dyn Tx, kind: &str) -> StoreResult<[u8; 8]> {
        Ok(tx.next_seq(kind)?.to_be_bytes())
    }

    /// The five characters that every openid of an app (and later its card_ids) shares, as in
    /// WeChat's examples (`oFS7Fj…` and `pFS7Fj…`).
    #[must_use]
    pub fn app_prefix(&self, appid: &str) -> String {
        self.url_safe("app-prefix", appid.as_bytes(), 5)
    }

    /// A user's openid in an app: 28 characters starting with `o`.
    #[must_use]
    pub fn openid(&self, appid: &str, user_id: &str) -> String {
        let input = [appid.as_bytes(), b"/", user_id.as_bytes()].concat();
        format!(
            "o{}{}",
            self.app_prefix(appid),
            self.url_safe("openid", &input, 22)
        )
    }

    /// A user's unionid in an open platform account: 28 characters starting with `o`.
    #[must_use]
    pub fn unionid(&self, open_platform_id: &str, user_id: &str) -> String {
        let input = [open_platform_id.as_bytes(), b"/", user_id.as_bytes()].concat();
        format!("o{}", self.url_safe("unionid", &input, 27))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_ids_and_another_seed_does_not() {
        let first = IdGen::new(Some(7));
        let again = IdGen::new(Some(7));
        let other = IdGen::new(Some(8));

        assert_eq!(first.hex("appid", &[1], 16), again.hex("appid", &[1], 16));
        assert_ne!(first.hex("appid", &[1], 16), other.hex("appid", &[1], 16));
        assert_ne!(first.hex("appid", &[1], 16), first.hex("appid", &[2], 16));
    }

    #[test]
    fn openids_have_wechats_shape_and_share_the_app_prefix() {
        let ids = IdGen::new(Some(1));

        let alice = ids.openid("wx0123456789abcdef", "user_1");
        let bob = ids.openid("wx0123456789abcdef", "user_2");
        let alice_elsewhere = ids.openid("wxfedcba9876543210", "user_1");

        assert_eq!(alice.len(), 28);
        assert!(alice.starts_with('o'));
        assert_eq!(alice[..6], bob[..6]);
        assert_ne!(alice, bob);
        assert_ne!(alice, alice_elsewhere);
        assert_eq!(ids.unionid("op_1", "user_1").len(), 28);
    }

    #[test]
    fn long_outputs_span_several_hash_blocks() {
        let ids = IdGen::new(Some(1));

        let token = ids.url_safe("access_token", &[1], 133);

        assert_eq!(token.len(), 133);
        assert!(token.bytes().all(|byte| URL_SAFE.contains(&byte)));
        assert!(ids
            .digits("code", &[1], 12)
            .bytes()
            .all(|byte| byte.is_ascii_digit()));
    }
}
