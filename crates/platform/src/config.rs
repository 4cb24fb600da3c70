//! Configuration: defaults, then `wxcard.toml`, then `WXCARD_*` environment variables (`__`
//! separates nesting: `WXCARD_TOKENS__ACCESS_TOKEN_TTL`), then command-line flags. The result
//! is one typed [`Config`] passed explicitly; nothing reads the environment later.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A value that must not be printed: its `Debug` and `Display` are redacted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is compared or sent.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything `wxcard serve` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The SQLite database file.
    pub db: PathBuf,
    /// A `postgres://` URL; when set it wins over `db`.
    pub database_url: Option<Secret>,
    /// Bearer token the admin and simulator APIs require; needed for a non-loopback `listen`.
    pub admin_token: Option<Secret>,
    /// Makes every generated id reproducible on a fresh database.
    pub seed: Option<u64>,
    /// Log level: `error`, `warn`, `info`, `debug` or `trace`.
    pub log: String,
    /// Credential lifetimes.
    pub tokens: TokenConfig,
    /// Storage tuning.
    pub store: StoreConfig,
    /// How card templates are reviewed.
    pub review: ReviewConfig,
    /// How events are pushed to merchants' servers.
    pub push: PushSettings,
    /// Connection and request limits.
    pub limits: Limits,
}

/// What one server accepts at once, and how long it waits for a slow client. Each refusal is
/// answered in WeChat's shape (`errcode`, `errmsg` with a hint naming the limit).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Open connections in all; one more is answered "busy" and closed.
    pub max_connections: usize,
    /// Open connections from one client address.
    pub max_connections_per_client: usize,
    /// Requests being answered at once in all (`/healthz` is not counted, so a load balancer
    /// still sees the server under load); one more is answered "busy" at once.
    pub max_in_flight: usize,
    /// How long a client may take to send a request's headers (and how long a kept-alive
    /// connection may sit idle).
    pub header_timeout_ms: u64,
    /// How long a client may take to send a request's body.
    pub body_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_client: 512,
            max_in_flight: 512,
            header_timeout_ms: 30_000,
            body_timeout_ms: 30_000,
        }
    }
}

/// How events are pushed to merchants' servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushSettings {
    /// How long a receiver has to answer, in milliseconds (WeChat: 5000).
    pub timeout_ms: u64,
    /// Platform seconds between attempts.
    pub retry_delay_seconds: i64,
    /// Attempts in all: WeChat's first try and three retries.
    pub max_attempts: i64,
    /// How often the worker looks for due events, in milliseconds; 0 turns the worker off
    /// (for embedders and tests that deliver with `AppHandle::deliver_due`).
    pub poll_interval_ms: u64,
    /// Events delivered at once.
    pub concurrency: usize,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 5000,
            retry_delay_seconds: 5,
            max_attempts: 4,
            poll_interval_ms: 100,
            concurrency: 64,
        }
    }
}

/// How card templates are reviewed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewConfig {
    /// `auto` (approved at once), `delay` (approved after `delay_seconds`) or `manual`
    /// (`POST /admin/v1/cards/{card_id}/review`).
    pub mode: String,
    /// Seconds (platform clock) before a card in `delay` mode is approved.
    pub delay_seconds: i64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            mode: "auto".into(),
            delay_seconds: 60,
        }
    }
}

/// Credential lifetimes, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// access_token `expires_in`.
    pub access_token_ttl: i64,
    /// How long a replaced token keeps working.
    pub grace: i64,
    /// Ticket `expires_in`.
    pub ticket_ttl: i64,
    /// How long a `wx.login` code can be exchanged.
    pub login_code_ttl: i64,
}

/// Storage tuning.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Reader threads (SQLite) or reader connections (PostgreSQL).
    pub readers: usize,
    /// The most write jobs one group commit takes (SQLite's writer; on PostgreSQL the jobs run
    /// again after a conflict, at most 64).
    pub max_batch: usize,
    /// PostgreSQL writer connections: how many write transactions one instance runs at once.
    pub writers: usize,
    /// `full` (survives power loss) or `normal` (survives a crash of wxcard).
    pub synchronous: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7800)),
            db: PathBuf::from("wxcard.db"),
            database_url: None,
            admin_token: None,
            seed: None,
            log: "info".into(),
            tokens: TokenConfig::default(),
            store: StoreConfig::default(),
            review: ReviewConfig::default(),
            push: PushSettings::default(),
            limits: Limits::default(),
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: 7200,
            grace: 300,
            ticket_ttl: 7200,
            login_code_ttl: 300,
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            readers: 2,
            max_batch: 512,
            writers: 16,
            synchronous: "full".into(),
        }
    }
}

/// Every key a config may set, dotted. `wxcard.example.toml` lists the same keys; a test
/// keeps the two in step.
pub const KEYS: &[&str] = &[
    "listen",
    "db",
    "database_url",
    "admin_token",
    "seed",
    "log",
    "tokens.access_token_ttl",
    "tokens.grace",
    "tokens.ticket_ttl",
    "tokens.login_code_ttl",
    "store.readers",
    "store.max_batch",
    "store.writers",
    "store.synchronous",
    "review.mode",
    "review.delay_seconds",
    "push.timeout_ms",
    "push.retry_delay_seconds",
    "push.max_attempts",
    "push.poll_interval_ms",
    "push.concurrency",
    "limits.max_connections",
    "limits.max_connections_per_client",
    "limits.max_in_flight",
    "limits.header_timeout_ms",
    "limits.body_timeout_ms",
];

/// A configuration problem, said so that the user knows what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file or an override is not valid.
    #[error("{origin}: {message}")]
    Invalid {
        /// Which layer said it.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// Where the layers come from.
#[derive(Debug, Default)]
pub struct Sources {
    /// A config file given explicitly (`--config`); it must exist.
    pub file: Option<PathBuf>,
    /// Read `wxcard.toml` from the working directory when no file is given.
    pub look_for_default_file: bool,
    /// Environment variables (all of them; only `WXCARD_*` are read).
    pub env: Vec<(String, String)>,
    /// Command-line overrides as (dotted key, value).
    pub flags: Vec<(String, String)>,
}

/// What loading found besides the config: warnings to show the user.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The config.
    pub config: Config,
    /// Unknown `WXCARD_*` variables and similar.
    pub warnings: Vec<String>,
}

impl Config {
    /// Builds the config from its layers.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, or a value of the wrong type.
    pub fn load(sources: Sources) -> Result<Loaded, ConfigError> {
        let mut warnings = Vec::new();
        let mut table = toml::Table::new();
        let file = match sources.file {
            Some(path) => Some(path),
            None if sources.look_for_default_file && Path::new("wxcard.toml").exists() => {
                Some(PathBuf::from("wxcard.toml"))
            }
            None => None,
        };
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            table = text
                .parse::<toml::Table>()
                .map_err(|error| ConfigError::Invalid {
                    origin: path.display().to_string(),
                    message: error.to_string(),
                })?;
        }
        for (name, value) in &sources.env {
            let Some(rest) = name.strip_prefix("WXCARD_") else {
                continue;
            };
            let key = rest.to_ascii_lowercase().replace("__", ".");
            if KEYS.contains(&key.as_str()) {
                set_key(&mut table, &key, value);
            } else if !IGNORED_ENV.contains(&name.as_str()) {
                warnings.push(format!(
                    "ignoring {name}: not a config key (known: {})",
                    env_names().join(", ")
                ));
            }
        }
        for (key, value) in &sources.flags {
            set_key(&mut table, key, value);
        }
        let origin = file.map_or_else(
            || "configuration".to_owned(),
            |path| format!("configuration ({} + environment + flags)", path.display()),
        );
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
                let path = error.path().to_string();
                ConfigError::Invalid {
                    origin,
                    message: format!("{path}: {}", error.into_inner().message()),
                }
            })?;
        config.check()?;
        Ok(Loaded { config, warnings })
    }

    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: "configuration".into(),
            message,
        };
        if !["error", "warn", "info", "debug", "trace"].contains(&self.log.as_str()) {
            return Err(invalid(format!(
                "log must be one of error, warn, info, debug, trace; got {:?}",
                self.log
            )));
        }
        if !["full", "normal"].contains(&self.store.synchronous.as_str()) {
            return Err(invalid(format!(
                "store.synchronous must be \"full\" or \"normal\"; got {:?}",
                self.store.synchronous
            )));
        }
        for (key, value) in [
            ("tokens.access_token_ttl", self.tokens.access_token_ttl),
            ("tokens.ticket_ttl", self.tokens.ticket_ttl),
            ("tokens.login_code_ttl", self.tokens.login_code_ttl),
        ] {
            if value <= 0 {
                return Err(invalid(format!("{key} must be positive; got {value}")));
            }
        }
        for (key, value, most) in [
            (
                "limits.max_connections",
                self.limits.max_connections,
                1 << 20,
            ),
            (
                "limits.max_connections_per_client",
                self.limits.max_connections_per_client,
                1 << 20,
            ),
            ("limits.max_in_flight", self.limits.max_in_flight, 1 << 20),
        ] {
            if !(1..=most).contains(&value) {
                return Err(invalid(format!(
                    "{key} must be between 1 and {most}; got {value}"
                )));
            }
        }
        for (key, value) in [
            ("limits.header_timeout_ms", self.limits.header_timeout_ms),
            ("limits.body_timeout_ms", self.limits.body_timeout_ms),
        ] {
            if !(10..=3_600_000).contains(&value) {
                return Err(invalid(format!(
                    "{key} must be between 10 and 3600000 milliseconds; got {value}"
                )));
            }
        }
        if !["auto", "delay", "manual"].contains(&self.review.mode.as_str()) {
            return Err(invalid(format!(
                "review.mode must be \"auto\", \"delay\" or \"manual\"; got {:?}",
                self.review.mode
            )));
        }
        if self.review.delay_seconds < 0 {
            return Err(invalid(format!(
                "review.delay_seconds must not be negative; got {}",
                self.review.delay_seconds
            )));
        }
        if self.tokens.grace < 0 {
            return Err(invalid(format!(
                "tokens.grace must not be negative; got {}",
                self.tokens.grace
            )));
        }
        Ok(())
    }
}

/// Keys whose values are always strings, even when they look like numbers (`admin_token = 123`).
const STRING_KEYS: &[&str] = &[
    "listen",
    "db",
    "database_url",
    "admin_token",
    "log",
    "store.synchronous",
    "review.mode",
];

/// `WXCARD_*` variables that are not config keys but are read elsewhere (tests, scripts).
const IGNORED_ENV: &[&str] = &["WXCARD_TEST_DATABASE_URL", "WXCARD_BIN", "WXCARD_URL"];

fn env_names() -> Vec<String> {
    KEYS.iter()
        .map(|key| format!("WXCARD_{}", key.replace('.', "__").to_ascii_uppercase()))
        .collect()
}

/// Sets a dotted key. The value is read as a TOML value when it parses as one (numbers,
/// booleans), and as a string otherwise (paths, addresses, tokens).
fn set_key(table: &mut toml::Table, key: &str, raw: &str) {
    let parsed = if STRING_KEYS.contains(&key) {
        None
    } else {
        format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut parsed| parsed.remove("v"))
            .filter(|value| !value.is_str() && !value.is_table() && !value.is_array())
    };
    let value = parsed.unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
    current.insert(last.to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        file: Option<&str>,
        env: &[(&str, &str)],
        flags: &[(&str, &str)],
    ) -> Result<Loaded, ConfigError> {
        let path = file.map(|text| {
            let path = std::env::temp_dir().join(format!(
                "wxcard-config-{}-{}.toml",
                std::process::id(),
                text.len()
            ));
            std::fs::write(&path, text).unwrap();
            path
        });
        let owned = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect()
        };
        Config::load(Sources {
            file: path,
            look_for_default_file: false,
            env: owned(env),
            flags: owned(flags),
        })
    }

    #[test]
    fn layers_apply_in_order_file_then_env_then_flags() {
        let loaded = load(
            Some("listen = \"127.0.0.1:1000\"\nseed = 1\n[tokens]\ngrace = 10\n"),
            &[
                ("WXCARD_SEED", "2"),
                ("WXCARD_TOKENS__GRACE", "20"),
                ("PATH", "/bin"),
            ],
            &[("seed", "3")],
        )
        .unwrap();

        assert_eq!(loaded.config.listen.port(), 1000);
        assert_eq!(loaded.config.seed, Some(3));
        assert_eq!(loaded.config.tokens.grace, 20);
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn an_unknown_environment_variable_is_a_warning_that_names_the_known_ones() {
        let loaded = load(None, &[("WXCARD_LISTEM", "x")], &[]).unwrap();

        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("WXCARD_LISTEN"),
            "{}",
            loaded.warnings[0]
        );
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let error = load(Some("lisen = \"127.0.0.1:1\"\n"), &[], &[]).unwrap_err();

        assert!(error.to_string().contains("lisen"), "{error}");
    }

    #[test]
    fn limits_out_of_range_are_refused_with_their_key() {
        for (key, value) in [
            ("limits.max_in_flight", "0"),
            ("limits.max_connections", "99999999999"),
            ("limits.header_timeout_ms", "0"),
        ] {
            let error = load(None, &[], &[(key, value)]).unwrap_err();

            assert!(error.to_string().contains(key), "{key}: {error}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_says_which_key() {
        let error = load(None, &[], &[("tokens.grace", "soon")]).unwrap_err();

        assert!(error.to_string().contains("grace"), "{error}");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let loaded = load(None, &[("WXCARD_ADMIN_TOKEN", "hunter2")], &[]).unwrap();

        assert!(!format!("{:?}", loaded.config).contains("hunter2"));
        assert_eq!(loaded.config.admin_token.unwrap().expose(), "hunter2");
    }

    #[test]
    fn the_example_file_lists_every_key_and_parses() {
        let example = include_str!("../../../wxcard.example.toml");
        for key in KEYS {
            let leaf = key.rsplit('.').next().unwrap();
            assert!(
                example.contains(&format!("{leaf} =")),
                "wxcard.example.toml does not mention {key}"
            );
        }
        let uncommented: String = example
            .lines()
            .map(|line| {
                line.strip_prefix("# ")
                    .filter(|rest| rest.contains(" = "))
                    .unwrap_or(line)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let table: toml::Table = uncommented.parse().unwrap();
        assert!(toml::Value::Table(table).try_into::<Config>().is_ok());
    }
}
