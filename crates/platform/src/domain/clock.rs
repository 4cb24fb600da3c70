//! The platform clock: the machine's time plus an offset that only moves forward.
//!
//! Expiry (tokens, tickets, codes, validity windows) is always judged against this clock, so
//! tests and `POST /admin/v1/clock/advance` move time instead of sleeping. The offset is stored
//! in the database so that it survives a restart.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::DomainError;
use crate::store::{self, Store, Tx};

const OFFSET_KEY: &str = "clock_offset";
/// The furthest one call may move the clock: ten years.
pub const MAX_ADVANCE: i64 = 10 * 366 * 24 * 3600;

/// The platform's notion of "now", in Unix seconds.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// Reads the stored offset.
    ///
    /// # Errors
    /// When the store fails or holds a value that is not a number.
    pub fn load(tx: &mut dyn Tx) -> Result<Self, DomainError> {
        let offset = match tx.meta(OFFSET_KEY)? {
            Some(text) => text.parse().map_err(|_| DomainError::Invalid {
                field: "clock_offset",
                reason: format!("stored value {text:?} is not a number"),
            })?,
            None => 0,
        };
        Ok(Self {
            offset: AtomicI64::new(offset),
        })
    }

    /// Now, in Unix seconds.
    #[must_use]
    pub fn now(&self) -> i64 {
        system_now() + self.offset()
    }

    /// How far the clock is ahead of the machine's, in seconds.
    #[must_use]
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Takes up the stored offset when it is ahead (another instance on the same database
    /// advanced the clock); the sweeper calls this once a second.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn refresh(&self, store: &dyn Store) -> Result<i64, DomainError> {
        let stored = store::read(store, |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(
                tx.meta(OFFSET_KEY)?
                    .and_then(|text| text.parse::<i64>().ok())
                    .unwrap_or(0),
            )
        })
        .await?;
        self.offset.fetch_max(stored, Ordering::Relaxed);
        Ok(self.offset())
    }

    /// Moves the clock forward and stores the new offset; returns the new offset.
    ///
    /// # Errors
    /// When `seconds` is negative or too large, or the store fails.
    pub async fn advance(&self, store: &dyn Store, seconds: i64) -> Result<i64, DomainError> {
        if !(0..=MAX_ADVANCE).contains(&seconds) {
            return Err(DomainError::Invalid {
                field: "seconds",
                reason: format!(
                    "must be between 0 and {MAX_ADVANCE} (the clock only moves forward)"
                ),
            });
        }
        let offset = store::write(store, move |tx: &mut dyn Tx| {
            let current: i64 = tx
                .meta(OFFSET_KEY)?
                .and_then(|text| text.parse().ok())
                .unwrap_or(0);
            let next = current.saturating_add(seconds);
            tx.set_meta(OFFSET_KEY, &next.to_string())?;
            Ok::<_, DomainError>(next)
        })
        .await?;
        // Concurrent advances commit in order; `fetch_max` keeps the in-memory copy monotonic.
        self.offset.fetch_max(offset, Ordering::Relaxed);
        Ok(offset)
    }
}

fn system_now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
}
