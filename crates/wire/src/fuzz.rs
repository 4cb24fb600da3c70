//! Deterministic input mutation for bounded fuzzing inside `cargo test` (stable Rust has no
//! cargo-fuzz): a xorshift generator and [`mutate`], which edits a valid input the way broken
//! clients and attackers do. wxcard's own robustness tests use it; a fixed seed makes every
//! failure reproducible.

/// A xorshift generator: deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator; the same seed gives the same sequence.
    #[must_use]
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

/// Characters that matter to JSON, XML, base64 and percent-encoding, and some that are wide.
const SPECIAL: &[char] = &[
    '"', '\\', '{', '}', '[', ']', '<', '>', '/', '&', ';', '%', '=', '+', ':', ',', '\0', '\n',
    '!', '-', 'é', '卡', '😀', '\u{feff}', '0', '9', 'A', 'z',
];

/// One to four random edits of `text`: delete, insert, replace, duplicate or cut a run.
#[must_use]
pub fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(6) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 => chars.insert(at, SPECIAL[rng.below(SPECIAL.len())]),
            2 if at < chars.len() => chars[at] = SPECIAL[rng.below(SPECIAL.len())],
            3 if at < chars.len() => {
                let end = (at + 1 + rng.below(16)).min(chars.len());
                let run: Vec<char> = chars[at..end].to_vec();
                for (offset, c) in run.into_iter().enumerate() {
                    chars.insert(end + offset, c);
                }
            }
            4 => chars.truncate(at),
            _ => {
                let end = (at + rng.below(8)).min(chars.len());
                chars.drain(at..end);
            }
        }
    }
    chars.into_iter().collect()
}
