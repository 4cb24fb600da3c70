//! Open platform accounts, apps and virtual users, with their derived openids and unionids.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::ids::IdGen;
use crate::domain::model::{App, AppKind, OpenPlatform, User};
use crate::domain::DomainError;
use crate::store::{self, Store, Tx};

/// The profile keys a user may have (DESIGN §8).
pub const PROFILE_KEYS: &[&str] = &[
    "mobile",
    "sex",
    "name",
    "birthday",
    "idcard",
    "email",
    "location",
    "education_background",
    "industry",
    "income",
    "habit",
];

/// The client a user gets when none is given: a current iOS WeChat.
pub const DEFAULT_CLIENT: (&str, &str) = ("ios", "8.0.50");
/// The base library a user gets when none is given.
pub const DEFAULT_BASE_LIBRARY: &str = "3.5.0";

/// What it takes to create a user; the service fills the defaults and checks the values.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Display name.
    pub nickname: String,
    /// Form pre-fill data.
    pub profile: BTreeMap<String, String>,
    /// `(os, version)`.
    pub client: Option<(String, String)>,
    /// Base library version.
    pub base_library: Option<String>,
}

/// A user with the ids that other apps know them by.
#[derive(Debug, Clone)]
pub struct UserDetails {
    /// The user.
    pub user: User,
    /// (appid, openid) for every app.
    pub openids: Vec<(String, String)>,
    /// (open platform id, unionid) for every open platform account with apps.
    pub unionids: Vec<(String, String)>,
}

/// Creates and reads accounts.
#[derive(Debug, Clone)]
pub struct AccountService {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    ids: IdGen,
}

impl AccountService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>, ids: IdGen) -> Self {
        Self { store, clock, ids }
    }

    /// Creates an open platform account.
    ///
    /// # Errors
    /// When the name is empty or storage fails.
    pub async fn create_open_platform(&self, name: String) -> Result<OpenPlatform, DomainError> {
        check_name("name", &name)?;
        let ids = self.ids.clone();
        let now = self.clock.now();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let seq = IdGen::next(tx, "open_platform")?;
            let open_platform = OpenPlatform {
                id: format!("op_{}", ids.hex("open_platform", &seq, 12)),
                name: name.clone(),
                created_at: now,
            };
            tx.insert_open_platform(&open_platform)?;
            Ok(open_platform)
        })
        .await
    }

    /// Creates an app, and the openid (and unionid) of every existing user in it.
    ///
    /// # Errors
    /// When the name is empty, the open platform account is unknown, or storage fails.
    pub async fn create_app(
        &self,
        kind: AppKind,
        name: String,
        open_platform_id: Option<String>,
    ) -> Result<App, DomainError> {
        check_name("name", &name)?;
        let ids = self.ids.clone();
        let now = self.clock.now();
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            if let Some(id) = &open_platform_id {
                if tx.open_platform(id)?.is_none() {
                    return Err(DomainError::UnknownOpenPlatform(id.clone()));
                }
            }
            let seq = IdGen::next(tx, "app")?;
            let app = App {
                appid: format!("wx{}", ids.hex("appid", &seq, 16)),
                secret: ids.hex("secret", &seq, 32),
                kind,
                name: name.clone(),
                original_id: format!("gh_{}", ids.hex("original_id", &seq, 12)),
                open_platform_id: open_platform_id.clone(),
                created_at: now,
            };
            tx.insert_app(&app)?;
            for user in tx.users()? {
                link_user_to_app(tx, &ids, &app, &user.user_id)?;
            }
            Ok(app)
        })
        .await
    }

    /// Creates a user, with their openid in every app.
    ///
    /// # Errors
    /// When a value is malformed or storage fails.
    pub async fn create_user(&self, new_user: NewUser) -> Result<User, DomainError> {
        check_name("nickname", &new_user.nickname)?;
        for (key, value) in &new_user.profile {
            if !PROFILE_KEYS.contains(&key.as_str()) {
                return Err(DomainError::Invalid {
                    field: "profile",
                    reason: format!(
                        "unknown key {key:?}; known keys: {}",
                        PROFILE_KEYS.join(", ")
                    ),
                });
            }
            if value.len() > 256 {
                return Err(DomainError::Invalid {
                    field: "profile",
                    reason: format!("{key} is longer than 256 bytes"),
                });
            }
        }
        let (client_os, client_version) = new_user
            .client
            .unwrap_or_else(|| (DEFAULT_CLIENT.0.to_owned(), DEFAULT_CLIENT.1.to_owned()));
        if client_os != "ios" && client_os != "android" {
            return Err(DomainError::Invalid {
                field: "client.os",
                reason: format!("must be \"ios\" or \"android\", got {client_os:?}"),
            });
        }
        check_version("client.version", &client_version)?;
        let base_library = new_user
            .base_library
            .unwrap_or_else(|| DEFAULT_BASE_LIBRARY.to_owned());
        check_version("base_library", &base_library)?;

        let ids = self.ids.clone();
        let now = self.clock.now();
        let nickname = new_user.nickname;
        let profile = new_user.profile;
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let seq = IdGen::next(tx, "user")?;
            let user = User {
                user_id: format!("user_{}", ids.hex("user", &seq, 8)),
                nickname: nickname.clone(),
                profile: profile.clone(),
                client_os: client_os.clone(),
                client_version: client_version.clone(),
                base_library: base_library.clone(),
                created_at: now,
            };
            tx.insert_user(&user)?;
            for app in tx.apps()? {
                link_user_to_app(tx, &ids, &app, &user.user_id)?;
            }
            Ok(user)
        })
        .await
    }

    /// Stores a Service Account's push configuration (after its URL passed the handshake).
    ///
    /// # Errors
    /// Unknown app, a Mini Program, storage.
    pub async fn set_push(
        &self,
        appid: String,
        push: crate::domain::model::PushConfig,
    ) -> Result<(), DomainError> {
        store::write(&*self.store, move |tx: &mut dyn Tx| {
            let app = tx
                .app(&appid)?
                .ok_or_else(|| DomainError::UnknownApp(appid.clone()))?;
            if app.kind != AppKind::ServiceAccount {
                return Err(DomainError::WrongAppKind {
                    appid: appid.clone(),
                    needed: AppKind::ServiceAccount,
                    actual: app.kind,
                });
            }
            tx.set_push_config(&appid, &push)?;
            Ok(())
        })
        .await
    }

    /// A user with their openids and unionids.
    ///
    /// # Errors
    /// When there is no such user or storage fails.
    pub async fn user(&self, user_id: String) -> Result<UserDetails, DomainError> {
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            let user = tx
                .user(&user_id)?
                .ok_or_else(|| DomainError::UnknownUser(user_id.clone()))?;
            let openids = tx.openids_of_user(&user_id)?;
            let unionids = tx.unionids_of_user(&user_id)?;
            Ok(UserDetails {
                user,
                openids,
                unionids,
            })
        })
        .await
    }

    /// Every user, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn users(&self) -> Result<Vec<User>, DomainError> {
        store::read(&*self.store, |tx: &mut dyn Tx| Ok(tx.users()?)).await
    }

    /// One app.
    ///
    /// # Errors
    /// When there is no such app or storage fails.
    pub async fn app(&self, appid: String) -> Result<App, DomainError> {
        store::read(&*self.store, move |tx: &mut dyn Tx| {
            tx.app(&appid)?
                .ok_or(DomainError::UnknownApp(appid.clone()))
        })
        .await
    }

    /// Every app, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn apps(&self) -> Result<Vec<App>, DomainError> {
        store::read(&*self.store, |tx: &mut dyn Tx| Ok(tx.apps()?)).await
    }
}

/// Records a user's openid in an app and, for an app on an open platform account, their
/// unionid there (once per account).
fn link_user_to_app(
    tx: &mut dyn Tx,
    ids: &IdGen,
    app: &App,
    user_id: &str,
) -> Result<(), DomainError> {
    tx.insert_openid(&app.appid, user_id, &ids.openid(&app.appid, user_id))?;
    if let Some(open_platform_id) = &app.open_platform_id {
        // False when another app of the same account already gave the user their unionid.
        tx.insert_unionid(
            open_platform_id,
            user_id,
            &ids.unionid(open_platform_id, user_id),
        )?;
    }
    Ok(())
}

fn check_name(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::Invalid {
            field,
            reason: "must not be empty".into(),
        });
    }
    if value.len() > 128 {
        return Err(DomainError::Invalid {
            field,
            reason: "must be at most 128 bytes".into(),
        });
    }
    Ok(())
}

/// Checks a dotted version such as `8.0.50`.
fn check_version(field: &'static str, value: &str) -> Result<(), DomainError> {
    let parts: Vec<&str> = value.split('.').collect();
    let well_formed = (1..=4).contains(&parts.len())
        && parts.iter().all(|part| {
            !part.is_empty() && part.len() <= 5 && part.bytes().all(|byte| byte.is_ascii_digit())
        });
    if well_formed {
        Ok(())
    } else {
        Err(DomainError::Invalid {
            field,
            reason: format!("must be a dotted version such as \"8.0.50\", got {value:?}"),
        })
    }
}
