//! Console accounts, their API tokens and web sessions (migration 0009): [`UserStore`] is
//! part of every [`super::Store`]; both backends get it from [`impl_user_store!`]. Every
//! change of an account appends its audit entry in the same transaction: a change is
//! recorded or not made. Secrets are never stored: a password as its argon2id PHC string,
//! a token or session as the SHA-256 of its text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::access::audit::AuditDraft;
use crate::access::{Grant, Role, User, UserName};

use super::StoreError;

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Its name.
    pub name: UserName,
    /// Role and stations.
    pub grant: Grant,
    /// The argon2id PHC string of its password.
    pub password_hash: String,
}

/// A web session to keep.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 of the session token ([`crate::access::password::token_hash`]).
    pub token_hash: String,
    /// Whose.
    pub user: UserName,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it ends unless renewed.
    pub expires_at: DateTime<Utc>,
    /// The client's address.
    pub address: Option<String>,
}

/// Why an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No account has that name.
    #[error("no user named '{0}'")]
    Unknown(UserName),
    /// The name is taken.
    #[error("a user named '{0}' already exists")]
    Duplicate(UserName),
    /// The account is disabled.
    #[error("user '{0}' is disabled; a disabled user gets no token")]
    Disabled(UserName),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UserError {
    /// Whether the operator named something wrong (exit 2) rather than the database failing.
    pub fn is_input(&self) -> bool {
        !matches!(self, UserError::Store(_))
    }
}

impl From<sqlx::Error> for UserError {
    fn from(e: sqlx::Error) -> UserError {
        UserError::Store(e.into())
    }
}

/// Accounts, tokens and sessions.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account (created and updated by the entry's actor, at its time) and
    /// records `audit` with the account's role and stations as its `after`.
    async fn add_user(&self, user: &NewUser, audit: &AuditDraft) -> Result<User, UserError>;

    /// One account.
    async fn user(&self, name: &UserName) -> Result<Option<User>, StoreError>;

    /// Every account, by name (as stored; callers sort for people).
    async fn users(&self) -> Result<Vec<User>, StoreError>;

    /// An account's argon2id PHC string, for a login to check.
    async fn password_hash(&self, name: &UserName) -> Result<Option<String>, StoreError>;

    /// Replaces an account's password and records `audit` (no password in it).
    async fn set_password(
        &self,
        name: &UserName,
        password_hash: &str,
        audit: &AuditDraft,
    ) -> Result<User, UserError>;

    /// Disables an account (its sessions end; its tokens stop working) and records `audit`
    /// with the state before and after.
    async fn disable_user(&self, name: &UserName, audit: &AuditDraft) -> Result<User, UserError>;

    /// Keeps a new API token (its hash) for an enabled account and records `audit`.
    async fn add_token(
        &self,
        name: &UserName,
        token_hash: &str,
        audit: &AuditDraft,
    ) -> Result<(), UserError>;

    /// The enabled account a token (by its hash) belongs to.
    async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError>;

    /// Keeps a new web session.
    async fn add_session(&self, session: &NewSession) -> Result<(), StoreError>;

    /// The enabled account of a session (by its token's hash) that has not expired at
    /// `now` (reading only: its use is kept by [`Self::renew_session`]).
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;

    /// Moves a live session's end to `expires_at` and its last use to `now` (idle expiry:
    /// each use renews it), unless its end is already within [`renewal_due`]'s slack of
    /// `expires_at` (then nothing is written); an ended or expired session stays ended.
    async fn renew_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Ends a session (logout); whether there was one.
    async fn end_session(&self, token_hash: &str) -> Result<bool, StoreError>;
}

/// What the audit shows of an account (never its password).
pub(crate) fn account_json(u: &User) -> serde_json::Value {
    serde_json::json!({
        "role": u.grant.role,
        "stations": u.grant.stations,
        "disabled": u.disabled(),
    })
}

const COLUMNS: &str = "name, role, stations, disabled_at, created_by, created_at, \
     updated_by, updated_at";
pub(crate) fn select_user() -> String {
    format!("SELECT {COLUMNS} FROM users WHERE name = $1")
}
pub(crate) fn select_users() -> String {
    format!("SELECT {COLUMNS} FROM users ORDER BY name")
}
pub(crate) fn select_token_user() -> String {
    format!(
        "SELECT {} FROM users u JOIN api_tokens t ON t.user_name = u.name \
         WHERE t.token_hash = $1 AND u.disabled_at IS NULL",
        prefixed()
    )
}
pub(crate) fn select_session_user() -> String {
    format!(
        "SELECT {} FROM users u JOIN sessions s ON s.user_name = u.name \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        prefixed()
    )
}
fn prefixed() -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
pub(crate) const INSERT_USER: &str = "INSERT INTO users (name, role, stations, password_hash, \
     disabled_at, created_by, created_at, updated_by, updated_at) \
     VALUES ($1, $2, $3, $4, NULL, $5, $6, $5, $6)";
pub(crate) const SELECT_HASH: &str = "SELECT password_hash FROM users WHERE name = $1";
pub(crate) const SET_PASSWORD: &str =
    "UPDATE users SET password_hash = $2, updated_by = $3, updated_at = $4 WHERE name = $1";
pub(crate) const DISABLE: &str = "UPDATE users SET disabled_at = COALESCE(disabled_at, $2), \
     updated_by = $3, updated_at = $2 WHERE name = $1";
pub(crate) const END_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_name = $1";
pub(crate) const INSERT_TOKEN: &str = "INSERT INTO api_tokens (token_hash, user_name, \
     created_by, created_at) VALUES ($1, $2, $3, $4)";
pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_name, \
     created_at, last_seen, expires_at, address) VALUES ($1, $2, $3, $3, $4, $5)";
pub(crate) const RENEW_SESSION: &str = "UPDATE sessions SET expires_at = $3, last_seen = $2 \
     WHERE token_hash = $1 AND expires_at > $2 AND expires_at < $4";

/// How far behind the new end a session's end must be for a renewal to be written: a tenth
/// of the idle time, at most a minute. Every request renews its session, and a write per
/// request (fsynced, serialised with the airlog's) held 50 browser sessions to about 40
/// pages a second and delayed slot starts by half a second (docs/benchmarks.md, "Console");
/// this way a session is written at most once a minute, and ends at most that much early.
pub(crate) fn renewal_due(now: DateTime<Utc>, expires_at: DateTime<Utc>) -> DateTime<Utc> {
    let slack = ((expires_at - now) / 10).min(chrono::Duration::minutes(1));
    expires_at - slack.max(chrono::Duration::zero())
}
pub(crate) const END_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";

/// One `users` row, column for column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    name: String,
    role: String,
    stations: String,
    disabled_at: Option<String>,
    created_by: String,
    created_at: String,
    updated_by: String,
    updated_at: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User, StoreError> {
        let bad = |reason: String| StoreError::Corrupt {
            id: format!("user {}", r.name),
            reason,
        };
        let role = Role::try_from(r.role.as_str()).map_err(|e| bad(e.to_string()))?;
        let stations: Vec<String> = r
            .stations
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let grant = Grant::new(role, &stations).map_err(|e| bad(e.to_string()))?;
        let name = UserName::parse(&r.name).map_err(|e| bad(e.to_string()))?;
        let instant = super::schedules::instant;
        Ok(User {
            grant,
            disabled_at: r.disabled_at.as_deref().map(instant).transpose()?,
            created_by: r.created_by,
            created_at: instant(&r.created_at)?,
            updated_by: r.updated_by,
            updated_at: instant(&r.updated_at)?,
            name,
        })
    }
}

/// Implements [`UserStore`] for `$ty` (a struct with a sqlx `pool` of `$db`, a `sql()`
/// placeholder converter, the write transaction functions and `append_audit_in` from
/// [`super::audit::impl_audit_store!`]).
macro_rules! impl_user_store {
    ($ty:ty, $db:ty) => {
        impl $ty {
            /// The account named, read inside `tx`.
            async fn user_in(
                tx: &mut crate::store::write_tx::WriteTx<$db>,
                name: &$crate::access::UserName,
            ) -> Result<$crate::access::User, $crate::store::users::UserError> {
                use $crate::store::users::*;
                sqlx::query_as::<$db, UserRow>(&sql(&select_user()))
                    .bind(name.as_str())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| UserError::Unknown(name.clone()))?
                    .try_into()
                    .map_err(UserError::Store)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::users::UserStore for $ty {
            async fn add_user(
                &self,
                user: &$crate::store::users::NewUser,
                audit: &$crate::access::audit::AuditDraft,
            ) -> Result<$crate::access::User, $crate::store::users::UserError> {
                use $crate::store::users::*;
                let mut tx = begin_write(&self.pool).await?;
                match Self::user_in(&mut tx, &user.name).await {
                    Ok(_) => return Err(UserError::Duplicate(user.name.clone())),
                    Err(UserError::Unknown(_)) => {}
                    Err(e) => return Err(e),
                }
                sqlx::query::<$db>(&sql(INSERT_USER))
                    .bind(user.name.as_str())
                    .bind(user.grant.role.as_str())
                    .bind(user.grant.stations.join(","))
                    .bind(&user.password_hash)
                    .bind(&audit.actor)
                    .bind($crate::store::rows::instant_text(audit.at))
                    .execute(&mut *tx)
                    .await?;
                let added = Self::user_in(&mut tx, &user.name).await?;
                let entry = audit.clone().with_change(None, Some(account_json(&added)));
                Self::append_audit_in(&mut tx, &entry).await?;
                commit_write(tx).await?;
                Ok(added)
            }

            async fn user(
                &self,
                name: &$crate::access::UserName,
            ) -> Result<Option<$crate::access::User>, $crate::store::StoreError> {
                use $crate::store::users::*;
                sqlx::query_as::<$db, UserRow>(&sql(&select_user()))
                    .bind(name.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn users(&self) -> Result<Vec<$crate::access::User>, $crate::store::StoreError> {
                use $crate::store::users::*;
                sqlx::query_as::<$db, UserRow>(&sql(&select_users()))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn password_hash(
                &self,
                name: &$crate::access::UserName,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                use $crate::store::users::*;
                Ok(sqlx::query_scalar::<$db, String>(&sql(SELECT_HASH))
                    .bind(name.as_str())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_password(
                &self,
                name: &$crate::access::UserName,
                password_hash: &str,
                audit: &$crate::access::audit::AuditDraft,
            ) -> Result<$crate::access::User, $crate::store::users::UserError> {
                use $crate::store::users::*;
                let mut tx = begin_write(&self.pool).await?;
                Self::user_in(&mut tx, name).await?;
                sqlx::query::<$db>(&sql(SET_PASSWORD))
                    .bind(name.as_str())
                    .bind(password_hash)
                    .bind(&audit.actor)
                    .bind($crate::store::rows::instant_text(audit.at))
                    .execute(&mut *tx)
                    .await?;
                let changed = Self::user_in(&mut tx, name).await?;
                Self::append_audit_in(&mut tx, audit).await?;
                commit_write(tx).await?;
                Ok(changed)
            }

            async fn disable_user(
                &self,
                name: &$crate::access::UserName,
                audit: &$crate::access::audit::AuditDraft,
            ) -> Result<$crate::access::User, $crate::store::users::UserError> {
                use $crate::store::users::*;
                let mut tx = begin_write(&self.pool).await?;
                let before = Self::user_in(&mut tx, name).await?;
                sqlx::query::<$db>(&sql(DISABLE))
                    .bind(name.as_str())
                    .bind($crate::store::rows::instant_text(audit.at))
                    .bind(&audit.actor)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>(&sql(END_USER_SESSIONS))
                    .bind(name.as_str())
                    .execute(&mut *tx)
                    .await?;
                let after = Self::user_in(&mut tx, name).await?;
                let entry = audit
                    .clone()
                    .with_change(Some(account_json(&before)), Some(account_json(&after)));
                Self::append_audit_in(&mut tx, &entry).await?;
                commit_write(tx).await?;
                Ok(after)
            }

            async fn add_token(
                &self,
                name: &$crate::access::UserName,
                token_hash: &str,
                audit: &$crate::access::audit::AuditDraft,
            ) -> Result<(), $crate::store::users::UserError> {
                use $crate::store::users::*;
                let mut tx = begin_write(&self.pool).await?;
                if Self::user_in(&mut tx, name).await?.disabled() {
                    return Err(UserError::Disabled(name.clone()));
                }
                sqlx::query::<$db>(&sql(INSERT_TOKEN))
                    .bind(token_hash)
                    .bind(name.as_str())
                    .bind(&audit.actor)
                    .bind($crate::store::rows::instant_text(audit.at))
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit).await?;
                commit_write(tx).await?;
                Ok(())
            }

            async fn token_user(
                &self,
                token_hash: &str,
            ) -> Result<Option<$crate::access::User>, $crate::store::StoreError> {
                use $crate::store::users::*;
                sqlx::query_as::<$db, UserRow>(&sql(&select_token_user()))
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
            }

            async fn add_session(
                &self,
                s: &$crate::store::users::NewSession,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::rows::instant_text;
                use $crate::store::users::*;
                sqlx::query::<$db>(&sql(INSERT_SESSION))
                    .bind(&s.token_hash)
                    .bind(s.user.as_str())
                    .bind(instant_text(s.created_at))
                    .bind(instant_text(s.expires_at))
                    .bind(&s.address)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn session_user(
                &self,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::access::User>, $crate::store::StoreError> {
                use $crate::store::users::*;
                let now = $crate::store::rows::instant_text(now);
                let user = sqlx::query_as::<$db, UserRow>(&sql(&select_session_user()))
                    .bind(token_hash)
                    .bind(&now)
                    .fetch_optional(&self.pool)
                    .await?;
                user.map(TryInto::try_into).transpose()
            }

            async fn renew_session(
                &self,
                token_hash: &str,
                now: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::rows::instant_text;
                use $crate::store::users::*;
                sqlx::query::<$db>(&sql(RENEW_SESSION))
                    .bind(token_hash)
                    .bind(instant_text(now))
                    .bind(instant_text(expires_at))
                    .bind(instant_text(renewal_due(now, expires_at)))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn end_session(
                &self,
                token_hash: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::users::*;
                let done = sqlx::query::<$db>(&sql(END_SESSION))
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}
pub(crate) use impl_user_store;
