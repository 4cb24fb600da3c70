//! Credentials: access_tokens (normal and stable), tickets, and `wx.login` codes.
//!
//! Rules (spec/auth.md): a token lives 7200 s; fetching a new normal token starts a 5-minute
//! grace period for the previous ones; a ticket is the same until it expires. Checking a token
//! is on every API call's path, so verified tokens are cached in memory, but only for a short
//! while: another instance on the same database may have refreshed it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::clock::Clock;
use crate::domain::ids::IdGen;
use crate::domain::model::{AccessToken, App, AppKind, LoginCode, Ticket, TicketType, TokenKind};
use crate::domain::{AuthError, DomainError};
use crate::store::{self, Store, Tx};

/// Lifetimes of credentials, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// access_token `expires_in`.
    pub access_token: i64,
    /// How long a replaced token keeps working.
    pub grace: i64,
    /// Ticket `expires_in`.
    pub ticket: i64,
    /// How long a `wx.login` code can be exchanged.
    pub login_code: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: 7200,
            grace: 300,
            ticket: 7200,
            login_code: 300,
        }
    }
}

/// How long a verified token is trusted without asking the database again.
const CACHE_FRESHNESS: Duration = Duration::from_secs(1);
/// The cache is emptied when it grows past this many tokens.
const CACHE_CAPACITY: usize = 100_000;

/// The app behind a valid access_token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The calling app.
    pub appid: Arc<str>,
}

/// What `/sns/jscode2session` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user's openid in the Mini Program.
    pub openid: String,
    /// The session key.
    pub session_key: String,
    /// The user's unionid, when the Mini Program is on an open platform account.
    pub unionid: Option<String>,
}

#[derive(Debug, Clone)]
struct CachedToken {
    appid: Arc<str>,
    expires_at: i64,
    revoked_until: Option<i64>,
    checked: Instant,
}

/// Issues and checks credentials.
#[derive(Debug, Clone)]
pub struct AuthService {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    ids: IdGen,
    lifetimes: Lifetimes,
    cache: Arc<RwLock<HashMap<String, CachedToken>>>,
}

impl AuthService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>, ids: IdGen, lifetimes: Lifetimes) -> Self {
        Self {
            store,
            clock,
            ids,
            lifetimes,
            cache: Arc::default(),
        }
    }

    /// The lifetimes in force.
    #[must_use]
    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }

    /// `/cgi-bin/token`: a new token; the previous ones enter their grace period.
    ///
    /// # Errors
    /// Unknown app, wrong secret, storage.
    pub async fn issue_token(
        &self,
        appid: String,
        secret: String,
    ) -> Result<AccessToken, DomainError> {
        let (ids, now, lifetimes) = (self.ids.clone(), self.clock.now(), self.lifetimes);
        let (token, revoked) = store::write(&*self.store, move |tx: &mut dyn Tx| {
            check_app_secret(tx, &appid, &secret)?;
            let revoked =
                tx.revoke_access_tokens(&appid, TokenKind::Normal, now, now + lifetimes.grace)?;
            let token = new_token(tx, &ids, &appid, TokenKind::Normal, now, lifetimes)?;
            Ok::<_, DomainError>((token, revoked))
        })
        .await?;
        self.forget(&revoked);
        Ok(token)
    }

    /// `/cgi-bin/stable_token`: the current stable token, or a new one when there is none, it
    /// expired, or `force_refresh` asks for one, with its seconds left as of this call (a new
    /// token's whole lifetime, whenever the answer is sent). Normal tokens are not touched.
    ///
    /// # Errors
    /// Unknown app, wrong secret, storage.
    pub async fn issue_stable_token(
        &self,
        appid: String,
        secret: String,
        force_refresh: bool,
    ) -> Result<(AccessToken, i64), DomainError> {
        let (ids, now, lifetimes) = (self.ids.clone(), self.clock.now(), self.lifetimes);
        let (token, revoked) = store::write(&*self.store, move |tx: &mut dyn Tx| {
            check_app_secret(tx, &appid, &secret)?;
            if !force_refresh {
                if let Some(current) = tx.latest_access_token(&appid, TokenKind::Stable)? {
                    if current.revoked_until.is_none() && now < current.expires_at {
                        return Ok((current, Vec::new()));
                    }
                }
            }
            let revoked =
                tx.revoke_access_tokens(&appid, TokenKind::Stable, now, now + lifetimes.grace)?;
            let token = new_token(tx, &ids, &appid, TokenKind::Stable, now, lifetimes)?;
            Ok::<_, DomainError>((token, revoked))
        })
        .await?;
        self.forget(&revoked);
        let left = (token.expires_at - now).max(1);
        Ok((token, left))
    }

    /// Checks an access_token and names its app.
    ///
    /// # Errors
    /// Why the token is refused.
    pub async fn check_token(&self, token: Option<&str>) -> Result<Caller, AuthError> {
        let token = token.ok_or(AuthError::Missing)?;
        check_token_shape(token)?;
        let now = self.clock.now();
        let cached = self
            .cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned();
        let entry = match cached {
            Some(entry) if entry.checked.elapsed() < CACHE_FRESHNESS => entry,
            _ => self.load_token(token).await?,
        };
        if let Some(until) = entry.revoked_until {
            if now >= until {
                return Err(AuthError::Superseded(now - until + self.lifetimes.grace));
            }
        }
        if now >= entry.expires_at {
            return Err(AuthError::Expired(now - entry.expires_at));
        }
        Ok(Caller { appid: entry.appid })
    }

    async fn load_token(&self, token: &str) -> Result<CachedToken, AuthError> {
        let key = token.to_owned();
        let stored = store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, AuthError>(tx.access_token(&key)?)
        })
        .await?;
        let stored = stored.ok_or(AuthError::Unknown)?;
        let entry = CachedToken {
            appid: Arc::from(stored.appid),
            expires_at: stored.expires_at,
            revoked_until: stored.revoked_until,
            checked: Instant::now(),
        };
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(token.to_owned(), entry.clone());
        Ok(entry)
    }

    /// Drops revoked tokens from the cache so that this instance sees their grace period at once.
    fn forget(&self, tokens: &[String]) {
        if tokens.is_empty() {
            return;
        }
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for token in tokens {
            cache.remove(token);
        }
    }

    /// `/cgi-bin/ticket/getticket`: the current ticket of this type, or a new one once it
    /// expired, with its seconds left as of this call (a new ticket's whole lifetime, whenever
    /// the answer is sent).
    ///
    /// # Errors
    /// Bad type, storage.
    pub async fn ticket(
        &self,
        caller: &Caller,
        ticket_type: &str,
    ) -> Result<(Ticket, i64), DomainError> {
        let ticket_type = TicketType::parse(ticket_type)
            .ok_or_else(|| DomainError::BadTicketType(ticket_type.to_owned()))?;
        let (ids, now, lifetimes) = (self.ids.clone(), self.clock.now(), self.lifetimes);
        let appid = caller.appid.to_string();
        // Most calls find a live ticket: try a read first and write only to issue a new one.
        let reader_appid = appid.clone();
        let current = store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(tx.latest_ticket(&reader_appid, ticket_type)?)
        })
        .await?;
        if let Some(ticket) = current.filter(|ticket| now < ticket.expires_at) {
            let left = ticket.expires_at - now;
            return Ok((ticket, left));
        }
        let ticket = store::write(&*self.store, move |tx: &mut dyn Tx| {
            if let Some(ticket) = tx
                .latest_ticket(&appid, ticket_type)?
                .filter(|ticket| now < ticket.expires_at)
            {
                return Ok(ticket);
            }
            let seq = IdGen::next(tx, "ticket")?;
            let ticket = Ticket {
                ticket: ids.url_safe("ticket", &seq, 86),
                appid: appid.clone(),
                ticket_type,
                issued_at: now,
                expires_at: now + lifetimes.ticket,
            };
            tx.insert_ticket(&ticket)?;
            Ok::<_, DomainError>(ticket)
        })
        .await?;
        let left = (ticket.expires_at - now).max(1);
        Ok((ticket, left))
    }

    /// The account's recent `wx_card` tickets for checking a card signature, newest first,
    /// each with whether it is still accepted and a label that says why. The current ticket
    /// is accepted until it expires; the one before it for the grace period after that.
    ///
    /// # Errors
    /// Storage.
    pub async fn card_tickets(
        &self,
        appid: &str,
    ) -> Result<Vec<(String, bool, String)>, DomainError> {
        let (now, grace, appid) = (self.clock.now(), self.lifetimes.grace, appid.to_owned());
        let tickets = store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(tx.recent_tickets(&appid, TicketType::WxCard, 3)?)
        })
        .await?;
        Ok(tickets
            .into_iter()
            .enumerate()
            .map(|(index, ticket)| {
                let (usable, label) = match index {
                    0 if now < ticket.expires_at => (true, "the current wx_card ticket".to_owned()),
                    0 => (false, format!("the last wx_card ticket, expired {} s ago (fetch a new one from getticket)", now - ticket.expires_at)),
                    1 if now < ticket.expires_at + grace => (true, "the previous wx_card ticket (still accepted for 5 minutes)".to_owned()),
                    _ => (false, format!("an old wx_card ticket, expired {} s ago", now - ticket.expires_at)),
                };
                (ticket.ticket, usable, label)
            })
            .collect())
    }

    /// The account's newest jsapi ticket, if one was issued (to recognise a card signature
    /// made with it by mistake).
    ///
    /// # Errors
    /// Storage.
    pub async fn latest_jsapi_ticket(&self, appid: &str) -> Result<Option<String>, DomainError> {
        let appid = appid.to_owned();
        let ticket = store::read(&*self.store, move |tx: &mut dyn Tx| {
            Ok::<_, DomainError>(tx.latest_ticket(&appid, TicketType::Jsapi)?)
        })
        .await?;
        Ok(ticket.map(|ticket| ticket.ticket))
    }

    /// `wx.login` inside a Mini Program: a code for `/sns/jscode2session`.
    ///
    /// # Errors
    /// Unknown user or app, an app that is not a Mini Program, storage.
    pub async fn login(&self, user_id: String, appid: String) -> Result<LoginCode, DomainError> {
        let (ids, now, lifetimes) = (self.ids.clone(), self.clock.now(), self.lifetimes);
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let app = tx
                .app(&appid)?
                .ok_or_else(|| DomainError::UnknownApp(appid.clone()))?;
            require_kind(&app, AppKind::MiniProgram)?;
            if tx.user(&user_id)?.is_none() {
                return Err(DomainError::UnknownUser(user_id.clone()));
            }
            let seq = IdGen::next(tx, "login_code")?;
            let session_key = ids.base64("session_key", &seq, 16);
            let code = LoginCode {
                code: ids.url_safe("login_code", &seq, 32),
                appid: appid.clone(),
                user_id: user_id.clone(),
                session_key,
                issued_at: now,
                expires_at: now + lifetimes.login_code,
                used_at: None,
            };
            tx.insert_login_code(&code)?;
            Ok(code)
        })
        .await
    }

    /// `/sns/jscode2session`: exchanges a `wx.login` code, once.
    ///
    /// # Errors
    /// Unknown or foreign app, wrong secret, unknown, expired or used code, storage.
    pub async fn code_to_session(
        &self,
        appid: String,
        secret: String,
        js_code: String,
    ) -> Result<Session, DomainError> {
        let now = self.clock.now();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let app = check_app_secret(tx, &appid, &secret)?;
            require_kind(&app, AppKind::MiniProgram)?;
            let code = tx
                .login_code(&js_code)?
                .filter(|code| code.appid == appid)
                .ok_or(DomainError::UnknownLoginCode)?;
            if code.used_at.is_some() {
                return Err(DomainError::LoginCodeUsed);
            }
            if now >= code.expires_at {
                return Err(DomainError::LoginCodeExpired(now - code.expires_at));
            }
            tx.mark_login_code_used(&js_code, now)?;
            let openid = tx
                .openids_of_user(&code.user_id)?
                .into_iter()
                .find_map(|(app_of_openid, openid)| (app_of_openid == appid).then_some(openid))
                .ok_or_else(|| DomainError::UnknownUser(code.user_id.clone()))?;
            let unionid = match &app.open_platform_id {
                Some(open_platform_id) => tx
                    .unionids_of_user(&code.user_id)?
                    .into_iter()
                    .find_map(|(id, unionid)| (&id == open_platform_id).then_some(unionid)),
                None => None,
            };
            Ok(Session {
                openid,
                session_key: code.session_key,
                unionid,
            })
        })
        .await
    }
}

fn check_app_secret(tx: &mut dyn Tx, appid: &str, secret: &str) -> Result<App, DomainError> {
    let app = tx
        .app(appid)?
        .ok_or_else(|| DomainError::UnknownApp(appid.to_owned()))?;
    if !constant_time_eq(app.secret.as_bytes(), secret.as_bytes()) {
        return Err(DomainError::WrongSecret(app.appid));
    }
    Ok(app)
}

fn require_kind(app: &App, needed: AppKind) -> Result<(), DomainError> {
    if app.kind == needed {
        Ok(())
    } else {
        Err(DomainError::WrongAppKind {
            appid: app.appid.clone(),
            needed,
            actual: app.kind,
        })
    }
}

fn new_token(
    tx: &mut dyn Tx,
    ids: &IdGen,
    appid: &str,
    kind: TokenKind,
    now: i64,
    lifetimes: Lifetimes,
) -> Result<AccessToken, DomainError> {
    let seq = IdGen::next(tx, "access_token")?;
    // Compat: auth.md §1 — real tokens look like `79_` followed by opaque text, ~136 characters.
    let token = AccessToken {
        token: format!("86_{}", ids.url_safe("access_token", &seq, 133)),
        appid: appid.to_owned(),
        kind,
        issued_at: now,
        expires_at: now + lifetimes.access_token,
        revoked_until: None,
    };
    tx.insert_access_token(&token)?;
    Ok(token)
}

/// Refuses values that cannot be a token before touching the database.
fn check_token_shape(token: &str) -> Result<(), AuthError> {
    if token.is_empty() {
        return Err(AuthError::Malformed("is empty"));
    }
    if token.len() > 512 {
        return Err(AuthError::Malformed("is longer than 512 characters"));
    }
    if !token
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
    {
        return Err(AuthError::Malformed(
            "has characters outside [A-Za-z0-9_-]; was it URL-encoded twice?",
        ));
    }
    Ok(())
}

/// Compares secrets, tokens and MACs without a timing signal of where they differ (only
/// whether the lengths do). The one comparison the platform uses for them; wire's signature
/// checks use the same `subtle` primitive.
#[must_use]
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(left, right))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }

    /// Security pass: secrets, tokens, signatures and MACs are compared only through
    /// `constant_time_eq` (here) or wire's `verify_digest*` (both `subtle`), never with `==`,
    /// which stops at the first differing byte. This reads every crate's sources, so a new
    /// comparison cannot slip in unnoticed.
    #[test]
    fn no_source_compares_a_secret_or_a_signature_with_double_equals() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for krate in ["wire", "platform", "sdk", "merchant", "cli"] {
            rust_files(&crates.join(krate).join("src"), &mut files);
        }
        let sensitive = [
            "signature",
            "secret",
            "expose()",
            "digest",
            "admin_token",
            "aes_key",
            "mac",
            "password",
        ];
        let mut found = Vec::new();
        let mut definitions = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            definitions += text.matches(concat!("fn constant_time_eq", "(")).count();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                let lower = code.to_ascii_lowercase();
                let compares = code.contains("==") || code.contains("!=");
                let is_length = code.contains(".len()");
                if compares && !is_length && sensitive.iter().any(|word| lower.contains(word)) {
                    found.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
        assert!(files.len() > 50, "only {} source files found", files.len());
        assert!(
            found.is_empty(),
            "compare these in constant time:\n{}",
            found.join("\n")
        );
        assert_eq!(definitions, 1, "one constant_time_eq, in domain::auth");
    }
}
