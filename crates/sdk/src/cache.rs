//! Where the client keeps access_tokens and api_tickets: [`TokenCache`], with an in-memory
//! implementation ([`MemoryCache`]) and, with the `redis` feature, a Redis one
//! ([`crate::redis::RedisCache`]) that several processes can share.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A boxed future, so that [`TokenCache`] can be used as a trait object.
pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a cache could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("token cache: {0}")]
pub struct CacheError(pub String);

/// A store of short-lived strings by key. The client keeps a value only for as long as its
/// `ttl` says; a value that has expired must not come back from [`TokenCache::get`].
pub trait TokenCache: Send + Sync + std::fmt::Debug {
    /// The value under `key`, unless it expired.
    fn get<'a>(&'a self, key: &'a str) -> CacheFuture<'a, Result<Option<String>, CacheError>>;
    /// Keeps `value` under `key` for `ttl`.
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> CacheFuture<'a, Result<(), CacheError>>;
    /// Forgets `key` if it still holds `value` (another process may have refreshed it).
    fn remove_if<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
    ) -> CacheFuture<'a, Result<(), CacheError>>;
}

/// A [`TokenCache`] in this process's memory: the default.
#[derive(Debug, Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TokenCache for MemoryCache {
    fn get<'a>(&'a self, key: &'a str) -> CacheFuture<'a, Result<Option<String>, CacheError>> {
        let found = self
            .entries()
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone());
        Box::pin(std::future::ready(Ok(found)))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> CacheFuture<'a, Result<(), CacheError>> {
        self.entries()
            .insert(key.to_owned(), (value.to_owned(), Instant::now() + ttl));
        Box::pin(std::future::ready(Ok(())))
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
    ) -> CacheFuture<'a, Result<(), CacheError>> {
        let mut entries = self.entries();
        if entries.get(key).is_some_and(|(held, _)| held == value) {
            entries.remove(key);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_value_comes_back_until_its_ttl_ends() {
        let cache = MemoryCache::new();
        cache.set("k", "v", Duration::from_secs(60)).await.unwrap();
        cache.set("gone", "v", Duration::ZERO).await.unwrap();

        assert_eq!(cache.get("k").await.unwrap().as_deref(), Some("v"));
        assert_eq!(cache.get("gone").await.unwrap(), None);
        assert_eq!(cache.get("never").await.unwrap(), None);
    }

    #[tokio::test]
    async fn remove_if_keeps_a_value_another_caller_refreshed() {
        let cache = MemoryCache::new();
        cache
            .set("k", "new", Duration::from_secs(60))
            .await
            .unwrap();

        cache.remove_if("k", "old").await.unwrap();
        assert_eq!(cache.get("k").await.unwrap().as_deref(), Some("new"));
        cache.remove_if("k", "new").await.unwrap();
        assert_eq!(cache.get("k").await.unwrap(), None);
    }
}
