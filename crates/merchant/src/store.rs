//! The merchant server's records, in one SQLite file: claims, members, pushed events (each
//! once) and the users joined across the Mini Program and the Service Account by unionid.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection};
use serde::Serialize;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS claims (
    id          INTEGER PRIMARY KEY,
    mp_openid   TEXT NOT NULL,
    card_id     TEXT NOT NULL,
    code        TEXT NOT NULL,
    outer_str   TEXT,
    recorded_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now')),
    UNIQUE (card_id, code)
);
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    dedupe_key  TEXT NOT NULL UNIQUE,
    event       TEXT NOT NULL,
    sa_openid   TEXT NOT NULL,
    card_id     TEXT NOT NULL,
    code        TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    xml         TEXT NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS members (
    card_id           TEXT NOT NULL,
    code              TEXT NOT NULL,
    membership_number TEXT NOT NULL,
    form              TEXT NOT NULL,
    PRIMARY KEY (card_id, code)
);
CREATE TABLE IF NOT EXISTS users (
    unionid   TEXT PRIMARY KEY,
    mp_openid TEXT,
    sa_openid TEXT
);
";

/// The database failed.
#[derive(Debug, thiserror::Error)]
#[error("merchant database: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// The merchant's SQLite file (one connection; a merchant server is not a hot path).
#[derive(Debug)]
pub struct MerchantStore {
    connection: Mutex<Connection>,
}

/// Everything recorded, for the page and `/api/records`.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// Claims recorded from the Mini Program page.
    pub claims: Vec<ClaimRow>,
    /// Pushed events, each once, newest first.
    pub events: Vec<EventRow>,
    /// Members activated by this server.
    pub members: Vec<MemberRow>,
    /// Users known by unionid, with their openid in each app.
    pub users: Vec<UserRow>,
}

/// One claim.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimRow {
    /// The user's Mini Program openid.
    pub mp_openid: String,
    /// The card.
    pub card_id: String,
    /// The real code.
    pub code: String,
    /// The channel tag.
    pub outer_str: Option<String>,
    /// The user's Service Account openid, when a unionid joined them.
    pub sa_openid: Option<String>,
}

/// One pushed event.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// `user_get_card`, ….
    pub event: String,
    /// `FromUserName`.
    pub sa_openid: String,
    /// The card, if the event names one.
    pub card_id: String,
    /// The code, if the event names one.
    pub code: String,
    /// `CreateTime`.
    pub create_time: i64,
    /// How many times it was delivered.
    pub deliveries: i64,
    /// The push as XML.
    pub xml: String,
}

/// One member.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    /// The card.
    pub card_id: String,
    /// The code.
    pub code: String,
    /// The number given at activation.
    pub membership_number: String,
    /// The form the user submitted, as JSON.
    pub form: serde_json::Value,
}

/// One user joined across apps.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    /// The unionid.
    pub unionid: String,
    /// The Mini Program openid.
    pub mp_openid: Option<String>,
    /// The Service Account openid.
    pub sa_openid: Option<String>,
}

impl MerchantStore {
    /// Opens (creating) the file.
    ///
    /// # Errors
    /// The file cannot be opened or its tables created.
    pub fn open(path: &Path) -> Result<MerchantStore, StoreError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.execute_batch(SCHEMA)?;
        Ok(MerchantStore {
            connection: Mutex::new(connection),
        })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a claim (once per card and code).
    ///
    /// # Errors
    /// The database failed.
    pub fn record_claim(
        &self,
        mp_openid: &str,
        card_id: &str,
        code: &str,
        outer_str: Option<&str>,
    ) -> Result<(), StoreError> {
        self.connection().execute(
            "INSERT OR IGNORE INTO claims (mp_openid, card_id, code, outer_str) VALUES (?1, ?2, ?3, ?4)",
            params![mp_openid, card_id, code, outer_str],
        )?;
        Ok(())
    }

    /// Keeps an event once per `dedupe_key`; a repeat only counts a delivery. True when new.
    ///
    /// # Errors
    /// The database failed.
    #[allow(clippy::too_many_arguments)]
    pub fn record_event(
        &self,
        dedupe_key: &str,
        event: &str,
        sa_openid: &str,
        card_id: &str,
        code: &str,
        create_time: i64,
        xml: &str,
    ) -> Result<bool, StoreError> {
        let connection = self.connection();
        let inserted = connection.execute(
            "INSERT OR IGNORE INTO events (dedupe_key, event, sa_openid, card_id, code, create_time, xml) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![dedupe_key, event, sa_openid, card_id, code, create_time, xml],
        )?;
        if inserted == 0 {
            connection.execute(
                "UPDATE events SET deliveries = deliveries + 1 WHERE dedupe_key = ?1",
                [dedupe_key],
            )?;
        }
        Ok(inserted == 1)
    }

    /// Keeps a member this server activated.
    ///
    /// # Errors
    /// The database failed.
    pub fn record_member(
        &self,
        card_id: &str,
        code: &str,
        membership_number: &str,
        form: &str,
    ) -> Result<(), StoreError> {
        self.connection().execute(
            "INSERT OR REPLACE INTO members (card_id, code, membership_number, form) VALUES (?1, ?2, ?3, ?4)",
            params![card_id, code, membership_number, form],
        )?;
        Ok(())
    }

    /// The form kept for a member, if this server started activating it.
    ///
    /// # Errors
    /// The database failed.
    pub fn member_form(
        &self,
        card_id: &str,
        code: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let connection = self.connection();
        let mut statement =
            connection.prepare("SELECT form FROM members WHERE card_id = ?1 AND code = ?2")?;
        let mut rows = statement.query(params![card_id, code])?;
        Ok(match rows.next()? {
            Some(row) => {
                let form: String = row.get(0)?;
                Some(serde_json::from_str(&form).unwrap_or(serde_json::Value::Null))
            }
            None => None,
        })
    }

    /// Joins a user's openids under their unionid (either side may come first).
    ///
    /// # Errors
    /// The database failed.
    pub fn remember_user(
        &self,
        unionid: Option<&str>,
        mp_openid: Option<&str>,
        sa_openid: Option<&str>,
    ) -> Result<(), StoreError> {
        let Some(unionid) = unionid else {
            return Ok(());
        };
        self.connection().execute(
            "INSERT INTO users (unionid, mp_openid, sa_openid) VALUES (?1, ?2, ?3)
             ON CONFLICT (unionid) DO UPDATE SET
                 mp_openid = coalesce(excluded.mp_openid, users.mp_openid),
                 sa_openid = coalesce(excluded.sa_openid, users.sa_openid)",
            params![unionid, mp_openid, sa_openid],
        )?;
        Ok(())
    }

    /// Everything recorded.
    ///
    /// # Errors
    /// The database failed.
    pub fn recorded(&self) -> Result<Recorded, StoreError> {
        let connection = self.connection();
        let claims = connection
            .prepare(
                "SELECT c.mp_openid, c.card_id, c.code, c.outer_str,
                        (SELECT u.sa_openid FROM users u WHERE u.mp_openid = c.mp_openid)
                 FROM claims c ORDER BY c.id",
            )?
            .query_map([], |row| {
                Ok(ClaimRow {
                    mp_openid: row.get(0)?,
                    card_id: row.get(1)?,
                    code: row.get(2)?,
                    outer_str: row.get(3)?,
                    sa_openid: row.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let events = connection
            .prepare("SELECT event, sa_openid, card_id, code, create_time, deliveries, xml FROM events ORDER BY id DESC")?
            .query_map([], |row| {
                Ok(EventRow {
                    event: row.get(0)?,
                    sa_openid: row.get(1)?,
                    card_id: row.get(2)?,
                    code: row.get(3)?,
                    create_time: row.get(4)?,
                    deliveries: row.get(5)?,
                    xml: row.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let members = connection
            .prepare("SELECT card_id, code, membership_number, form FROM members ORDER BY rowid")?
            .query_map([], |row| {
                let form: String = row.get(3)?;
                Ok(MemberRow {
                    card_id: row.get(0)?,
                    code: row.get(1)?,
                    membership_number: row.get(2)?,
                    form: serde_json::from_str(&form).unwrap_or(serde_json::Value::Null),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let users = connection
            .prepare("SELECT unionid, mp_openid, sa_openid FROM users ORDER BY unionid")?
            .query_map([], |row| {
                Ok(UserRow {
                    unionid: row.get(0)?,
                    mp_openid: row.get(1)?,
                    sa_openid: row.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Recorded {
            claims,
            events,
            members,
            users,
        })
    }
}
