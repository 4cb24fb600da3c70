//! [`RedisCache`]: a [`TokenCache`] in Redis, so that several merchant processes share one
//! access_token per app instead of invalidating each other's (feature `redis`).
//!
//! It speaks the few Redis commands it needs (`GET`, `SET … PX`, and a compare-and-delete
//! script) over one TCP connection per call, in RESP, without a client library.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::cache::{CacheError, CacheFuture, TokenCache};

/// Deletes KEYS[1] only while it still holds ARGV[1].
const REMOVE_IF_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// A [`TokenCache`] on a Redis server.
#[derive(Debug, Clone)]
pub struct RedisCache {
    addr: String,
    prefix: String,
}

impl RedisCache {
    /// A cache on the Redis at `addr` (`127.0.0.1:6379`); every key starts with `prefix`.
    #[must_use]
    pub fn new(addr: &str, prefix: &str) -> Self {
        Self {
            addr: addr.to_owned(),
            prefix: prefix.to_owned(),
        }
    }

    async fn command(&self, args: &[&[u8]]) -> Result<Reply, CacheError> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|error| CacheError(format!("cannot reach Redis at {}: {error}", self.addr)))?;
        let mut stream = BufReader::new(stream);
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        stream
            .get_mut()
            .write_all(&request)
            .await
            .map_err(|error| CacheError(format!("writing to Redis: {error}")))?;
        read_reply(&mut stream).await
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

/// One RESP reply (the kinds these commands get).
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Simple,
    Integer,
    Bulk(Option<Vec<u8>>),
}

async fn read_reply(stream: &mut BufReader<TcpStream>) -> Result<Reply, CacheError> {
    let mut line = String::new();
    stream
        .read_line(&mut line)
        .await
        .map_err(|error| CacheError(format!("reading from Redis: {error}")))?;
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = match line.as_bytes().first() {
        Some(kind) if kind.is_ascii() => (*kind, &line[1..]),
        _ => {
            return Err(CacheError(format!(
                "Redis sent {line:?}, which this cache does not read"
            )))
        }
    };
    match kind {
        b'+' => Ok(Reply::Simple),
        b':' => Ok(Reply::Integer),
        b'-' => Err(CacheError(format!("Redis refused: {rest}"))),
        b'$' => {
            let length: i64 = rest
                .parse()
                .map_err(|_| CacheError(format!("Redis sent a bad length {rest:?}")))?;
            let Ok(length) = usize::try_from(length) else {
                return Ok(Reply::Bulk(None));
            };
            let mut value = vec![0; length + 2];
            stream
                .read_exact(&mut value)
                .await
                .map_err(|error| CacheError(format!("reading from Redis: {error}")))?;
            value.truncate(length);
            Ok(Reply::Bulk(Some(value)))
        }
        _ => Err(CacheError(format!(
            "Redis sent {line:?}, which this cache does not read"
        ))),
    }
}

impl TokenCache for RedisCache {
    fn get<'a>(&'a self, key: &'a str) -> CacheFuture<'a, Result<Option<String>, CacheError>> {
        Box::pin(async move {
            let key = self.key(key);
            match self.command(&[b"GET", key.as_bytes()]).await? {
                Reply::Bulk(Some(value)) => String::from_utf8(value)
                    .map(Some)
                    .map_err(|_| CacheError(format!("{key} does not hold UTF-8"))),
                _ => Ok(None),
            }
        })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> CacheFuture<'a, Result<(), CacheError>> {
        Box::pin(async move {
            let key = self.key(key);
            let millis = ttl.as_millis().max(1).to_string();
            self.command(&[
                b"SET",
                key.as_bytes(),
                value.as_bytes(),
                b"PX",
                millis.as_bytes(),
            ])
            .await
            .map(|_| ())
        })
    }

    fn remove_if<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
    ) -> CacheFuture<'a, Result<(), CacheError>> {
        Box::pin(async move {
            let key = self.key(key);
            self.command(&[
                b"EVAL",
                REMOVE_IF_SCRIPT.as_bytes(),
                b"1",
                key.as_bytes(),
                value.as_bytes(),
            ])
            .await
            .map(|_| ())
        })
    }
}
