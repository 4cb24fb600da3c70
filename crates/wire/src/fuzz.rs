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

/// How long a fuzzing campaign runs: a fixed number of rounds in `cargo test`, or, when
/// `WXCARD_FUZZ_SECONDS` is set (as `.ci/run` does), as many rounds as fit in that time.
/// `WXCARD_FUZZ_SEED` replaces every campaign's seed, so a longer run explores new inputs.
#[derive(Debug, Clone, Copy)]
pub struct Campaign {
    /// The name printed in the summary line.
    pub name: &'static str,
    /// The generator's seed (unless `WXCARD_FUZZ_SEED` overrides it).
    pub seed: u64,
    /// Rounds when no time budget is set.
    pub rounds: usize,
}

impl Campaign {
    /// Builds an input with `generate` (from the generator and the round number) and hands it
    /// to `check`, until the budget is spent. A panic in `check` is reported with the seed, the
    /// round and the input, so that it can become a regression test, and then re-raised.
    ///
    /// Prints `fuzz NAME: N inputs in T ms (seed S), no panic` on stderr.
    ///
    /// # Panics
    /// When `check` panics.
    pub fn run<I: std::fmt::Debug>(
        self,
        mut generate: impl FnMut(&mut Rng, usize) -> I,
        mut check: impl FnMut(&I),
    ) {
        let seed = std::env::var("WXCARD_FUZZ_SEED")
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .map_or(self.seed, |extra| self.seed ^ extra);
        let budget = std::env::var("WXCARD_FUZZ_SECONDS")
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .map(std::time::Duration::from_secs);
        let started = std::time::Instant::now();
        let mut rng = Rng::new(seed);
        let mut done = 0;
        while match budget {
            Some(budget) => started.elapsed() < budget,
            None => done < self.rounds,
        } {
            let input = generate(&mut rng, done);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
            if let Err(panic) = outcome {
                eprintln!(
                    "fuzz {}: FINDING at round {done} (seed {seed:#x}); add this input to the \
                     target's regression list:\n{input:?}",
                    self.name
                );
                std::panic::resume_unwind(panic);
            }
            done += 1;
        }
        // Formatted first: stderr is unbuffered, so `eprintln!` with several pieces would write
        // each one separately, and the test harness's progress dots (on stdout, often the
        // same file in CI) could land inside the line and break the summary CI looks for.
        let line = format!(
            "fuzz {}: {done} inputs in {} ms (seed {seed:#x}), no panic\n",
            self.name,
            started.elapsed().as_millis()
        );
        // A single `{}` argument is written with one call (and the harness still captures it).
        eprint!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_re_raises_the_first_panic_of_its_check() {
        let mut checked = Vec::new();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Campaign {
                name: "test",
                seed: 1,
                rounds: 10,
            }
            .run(
                |_, round| round,
                |round| {
                    checked.push(*round);
                    assert!(*round < 3, "round {round}");
                },
            );
        }));

        assert!(outcome.is_err());
        assert_eq!(checked, [0, 1, 2, 3]);
    }

    #[test]
    fn the_same_seed_mutates_the_same_way() {
        let first = mutate(&mut Rng::new(7), "<xml>a</xml>");
        let second = mutate(&mut Rng::new(7), "<xml>a</xml>");
        assert_eq!(first, second);
    }
}
