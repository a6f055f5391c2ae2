//! User accounts: roles, password hashes, sessions, API tokens and login
//! throttling.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit;
use crate::error::{Error, Result};
use crate::model::agency_slug;
use crate::store::Store;
use crate::versions::Actor;

/// What a user may do (see DESIGN.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, agencies, backups; sees and may change everything.
    Admin,
    /// Regency leaders: see every agency's layers, change nothing.
    Leader,
    /// Staff of one agency (OPD): publish that agency's layers.
    OpdStaff,
}

impl Role {
    /// The name stored in the database and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::OpdStaff => "opd_staff",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "leader" => Ok(Role::Leader),
            "opd_staff" => Ok(Role::OpdStaff),
            other => Err(format!(
                "unknown role {other:?}: expected admin, leader or opd_staff"
            )),
        }
    }
}

/// A logged-in user as requests see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The agency (OPD) slug an `opd_staff` user belongs to.
    pub agency: Option<String>,
}

// ---------------------------------------------------------------------------
// Users, passwords, sessions, API tokens and login throttling.
// ---------------------------------------------------------------------------

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted (bytes): longer input is refused before hashing.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Failed logins per account within [`THROTTLE_WINDOW`] before further
/// attempts are refused.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins per client address within [`THROTTLE_WINDOW`] before
/// further attempts from it are refused.
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;
/// The throttling window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Default session lifetime since last use.
pub const DEFAULT_SESSION_HOURS: u64 = 12;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "bsc_session";
/// Every API token starts with this.
pub const TOKEN_PREFIX: &str = "bsc_";
/// Argon2id memory cost in KiB (OWASP's minimum for argon2id).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id iterations.
pub const ARGON2_T: u32 = 2;
/// Argon2id parallelism.
pub const ARGON2_P: u32 = 1;

/// Sessions and tokens are touched (expiry slid, last use noted) at most
/// this often, so a busy client does not write on every request.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A user as listed by administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Agency slug (opd_staff only).
    pub agency: Option<String>,
    /// Whether the user is disabled (cannot log in, tokens revoked).
    pub disabled: bool,
    /// When the user was created.
    pub created_at: String,
}

/// What [`Store::create_user`] needs.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Login name: 1-64 characters `A-Z a-z 0-9 . _ @ -`, starting with a
    /// letter or digit; unique regardless of case.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Agency slug or name; required for `opd_staff`, refused for others.
    pub agency: Option<&'a str>,
    /// Create the agency (named `agency`) if no agency has that slug or name.
    /// Without it an unknown agency is an error that lists the known ones.
    pub create_agency: bool,
    /// The password in clear ([`MIN_PASSWORD_LEN`] or more characters).
    pub password: &'a str,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Id, for `bsc token revoke`.
    pub id: i64,
    /// Owner's login name.
    pub user: String,
    /// Label.
    pub name: String,
    /// The token's first characters.
    pub prefix: String,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<String>,
}

/// A token just created: the only time its value is known.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Id.
    pub id: i64,
    /// The token, `bsc_` and 64 hex digits.
    pub token: String,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who logged in.
    pub account: Account,
    /// The session token for the cookie (32 hex digits).
    pub token: String,
}

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| Error::BadRequest(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with argon2id (m=19456 KiB, t=2, p=1) and a random
/// salt, as a PHC string. Slow on purpose (tens of milliseconds): call it
/// off the async threads.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::BadRequest(format!("hashing the password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (compared in constant
/// time). A malformed hash never matches. As slow as [`hash_password`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    // The parameters come from the stored hash; the algorithm is checked too.
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
}

/// A hash no password matches in practice, verified for unknown users so
/// that they cost the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        hash_password(&hex(&secret)).unwrap_or_default()
    })
}

/// Checks the password rules: [`MIN_PASSWORD_LEN`] characters or more, at
/// most [`MAX_PASSWORD_LEN`] bytes, no control characters.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::BadRequest(format!(
            "the password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::BadRequest(format!(
            "the password must have at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "the password must not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Checks a login name: 1-64 characters `A-Z a-z 0-9 . _ @ -`, starting with
/// a letter or digit.
pub fn check_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "user name {name:?} is not valid: use 1-64 characters A-Z, a-z, 0-9, '.', '_', '@' or '-', starting with a letter or digit"
        )))
    }
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// SHA-256 of `token` as hex: what the database keeps of sessions and tokens.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `token` looks like a session token (32 lower-case hex digits).
pub fn is_session_token(token: &str) -> bool {
    is_hex(token, 32)
}

/// Whether `token` looks like an API token (`bsc_` and 64 hex digits).
pub fn is_api_token(token: &str) -> bool {
    token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| is_hex(rest, 64))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn account_from_row(row: &AnyRow) -> Result<Account> {
    let role: String = row.try_get("role")?;
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role.parse().map_err(Error::Corrupt)?,
        agency: row.try_get("agency_id")?,
    })
}

fn user_from_row(row: &AnyRow) -> Result<UserInfo> {
    let a = account_from_row(row)?;
    Ok(UserInfo {
        id: a.id,
        name: a.name,
        role: a.role,
        agency: a.agency,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// Throttling keys of a login attempt.
fn throttle_keys(name: &str, client: Option<&str>) -> Vec<(String, i64)> {
    let mut keys = vec![(
        format!("user:{}", name.to_lowercase()),
        MAX_FAILURES_PER_ACCOUNT,
    )];
    if let Some(c) = client {
        keys.push((format!("client:{c}"), MAX_FAILURES_PER_CLIENT));
    }
    keys
}

impl Store {
    /// The connection pool, for callers that run their own queries or
    /// transactions (e.g. [`crate::audit::record`] inside a write).
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }

    /// Creates a user (audited as `user_add`). Errors: `BadRequest` for a bad
    /// name, password, role/agency combination or an unknown agency (the
    /// message lists the known ones), `Conflict` if the name is taken.
    pub async fn create_user(&self, new: &NewUser<'_>, actor: Actor<'_>) -> Result<UserInfo> {
        check_user_name(new.name)?;
        check_password(new.password)?;
        let password = new.password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let mut tx = self.write().await?;
        let agency = match (new.role, new.agency) {
            (Role::OpdStaff, None) => {
                return Err(Error::BadRequest(
                    "an opd_staff user needs an agency (--agency)".into(),
                ));
            }
            (Role::OpdStaff, Some(a)) => Some(resolve_agency(&mut tx, a, new.create_agency).await?),
            (role, Some(_)) => {
                return Err(Error::BadRequest(format!(
                    "only opd_staff users belong to an agency, not {role}"
                )));
            }
            (_, None) => None,
        };
        let inserted = sqlx::query(
            "INSERT INTO users (name, role, agency_id, password_hash) VALUES ($1, $2, $3, $4)
             RETURNING id, name, role, agency_id, disabled, created_at",
        )
        .bind(new.name)
        .bind(new.role.as_str())
        .bind(&agency)
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Ok(row) => row,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::Conflict(format!(
                    "a user named {:?} exists",
                    new.name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let user = user_from_row(&row)?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action: "user_add",
                client: actor.client,
                detail: Some(json!({"user": user.name, "role": user.role, "agency": user.agency})),
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, role, agency_id, disabled, created_at FROM users ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The user named `name` (any case), if any.
    pub async fn user(&self, name: &str) -> Result<Option<UserInfo>> {
        let row = sqlx::query(
            "SELECT id, name, role, agency_id, disabled, created_at FROM users WHERE lower(name) = lower($1)",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Disables a user: they can no longer log in, their sessions are
    /// deleted and their API tokens revoked (audited as `user_disable`).
    pub async fn disable_user(&self, name: &str, actor: Actor<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET disabled = 1 WHERE lower(name) = lower($1) RETURNING id",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(Error::NotFound(format!("no user named {name:?}")));
        };
        let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let tokens = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1
             WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(crate::clock::now())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action: "user_disable",
                client: actor.client,
                detail: Some(
                    json!({"user": name, "sessions_deleted": sessions, "tokens_revoked": tokens}),
                ),
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's password and deletes their sessions (audited as
    /// `user_passwd`). API tokens stay valid.
    pub async fn set_password(&self, name: &str, password: &str, actor: Actor<'_>) -> Result<()> {
        check_password(password)?;
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let mut tx = self.write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET password_hash = $1 WHERE lower(name) = lower($2) RETURNING id",
        )
        .bind(&hash)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(Error::NotFound(format!("no user named {name:?}")));
        };
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action: "user_passwd",
                client: actor.client,
                detail: Some(json!({"user": name})),
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Seconds to wait before `name` may try to log in from `client` again,
    /// or `None` if an attempt may be made now.
    pub async fn login_wait(&self, name: &str, client: Option<&str>) -> Result<Option<u64>> {
        let now = unix_now();
        let window = i64::try_from(THROTTLE_WINDOW.as_secs()).unwrap_or(i64::MAX);
        let mut wait = 0i64;
        for (key, max) in throttle_keys(name, client) {
            // The max-th newest failure inside the window: while it is in
            // the window, `max` failures are.
            let at: Option<i64> = sqlx::query_scalar(
                "SELECT at FROM login_attempts WHERE key = $1 AND at > $2
                 ORDER BY at DESC LIMIT 1 OFFSET $3",
            )
            .bind(&key)
            .bind(now - window)
            .bind(max - 1)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(at) = at {
                wait = wait.max(at + window - now).max(1);
            }
        }
        Ok((wait > 0).then(|| u64::try_from(wait).unwrap_or(1)))
    }

    async fn note_failure(&self, name: &str, client: Option<&str>) -> Result<()> {
        let now = unix_now();
        let window = i64::try_from(THROTTLE_WINDOW.as_secs()).unwrap_or(i64::MAX);
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM login_attempts WHERE at <= $1")
            .bind(now - window)
            .execute(&mut *tx)
            .await?;
        for (key, _) in throttle_keys(name, client) {
            sqlx::query("INSERT INTO login_attempts (key, at) VALUES ($1, $2)")
                .bind(&key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks `name` and `password` and opens a session lasting `ttl` since
    /// its last use. Throttled ([`MAX_FAILURES_PER_ACCOUNT`] per account and
    /// [`MAX_FAILURES_PER_CLIENT`] per client address in
    /// [`THROTTLE_WINDOW`]): `Err(Throttled)` before any password check.
    /// Unknown users, disabled users and wrong passwords all answer
    /// `Err(Unauthorized)` after the same argon2 work. Audited as `login` or
    /// `login_failed` (with the name tried and why, never the password);
    /// throttled attempts are not audited.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client: Option<&str>,
        ttl: Duration,
    ) -> Result<Login> {
        let failed = |reason: &'static str| json!({"user": name.chars().take(64).collect::<String>(), "reason": reason});
        // Refused attempts are not audited one by one: a client hammering
        // the login would otherwise turn each request into a write.
        if let Some(retry_after) = self.login_wait(name, client).await? {
            return Err(Error::Throttled { retry_after });
        }
        let row = if name.len() <= 64 && password.len() <= MAX_PASSWORD_LEN {
            sqlx::query(
                "SELECT id, name, role, agency_id, disabled, password_hash FROM users WHERE lower(name) = lower($1)",
            )
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
        } else {
            None
        };
        let (account, disabled, hash) = match &row {
            Some(row) => (
                Some(account_from_row(row)?),
                row.try_get::<i64, _>("disabled")? != 0,
                row.try_get::<String, _>("password_hash")?,
            ),
            None => (None, true, dummy_hash().to_owned()),
        };
        let given = password.chars().take(MAX_PASSWORD_LEN).collect::<String>();
        let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &given))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let account = match account {
            Some(a) if matches && !disabled => a,
            _ => {
                self.note_failure(name, client).await?;
                audit::record_anonymous(
                    &self.pool,
                    &audit::Entry {
                        action: "login_failed",
                        client,
                        detail: Some(failed(if row.is_none() {
                            "unknown user"
                        } else if disabled {
                            "disabled"
                        } else {
                            "wrong password"
                        })),
                        ..audit::Entry::default()
                    },
                )
                .await?;
                return Err(Error::Unauthorized("wrong user name or password".into()));
            }
        };
        let token = random_hex(16);
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(crate::clock::now())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(format!("user:{}", name.to_lowercase()))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, expires_at)
             VALUES ($1, $2, $3)",
        )
        .bind(token_hash(&token))
        .bind(account.id)
        .bind(crate::clock::after(ttl))
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: Some(&account),
                action: "login",
                client,
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Login { account, token })
    }

    /// The account of a live session, sliding its expiry to `ttl` from now;
    /// `None` for an unknown or expired session or a disabled user.
    pub async fn session_account(&self, token: &str, ttl: Duration) -> Result<Option<Account>> {
        if !is_session_token(token) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.agency_id, s.last_seen
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(&hash)
        .bind(crate::clock::now())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<String, _>("last_seen")? < crate::clock::before(TOUCH_EVERY) {
            sqlx::query(
                "UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3",
            )
            .bind(crate::clock::now())
            .bind(crate::clock::after(ttl))
            .bind(&hash)
            .execute(&self.pool)
            .await?;
        }
        account_from_row(&row).map(Some)
    }

    /// Ends the session `token` (audited as `logout` when it existed).
    /// Whether it existed.
    pub async fn logout(&self, token: &str, client: Option<&str>) -> Result<bool> {
        let hash = token_hash(token);
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.agency_id FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let account = account_from_row(&row)?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: Some(&account),
                action: "logout",
                client,
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Creates an API token for `user` labelled `label` (audited as
    /// `token_create`). The value is returned once and stored only hashed.
    pub async fn create_token(
        &self,
        user: &str,
        label: &str,
        actor: Actor<'_>,
    ) -> Result<NewToken> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(Error::BadRequest(
                "a token label must have 1-100 characters and no control characters".into(),
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_hex(32));
        let mut tx = self.write().await?;
        let owner =
            sqlx::query("SELECT id, name, disabled FROM users WHERE lower(name) = lower($1)")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(owner) = owner else {
            return Err(Error::NotFound(format!("no user named {user:?}")));
        };
        if owner.try_get::<i64, _>("disabled")? != 0 {
            return Err(Error::Conflict(format!("user {user:?} is disabled")));
        }
        let owner_name: String = owner.try_get("name")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(owner.try_get::<i64, _>("id")?)
        .bind(label)
        .bind(token_hash(&token))
        .bind(&token[..TOKEN_PREFIX.len() + 8])
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action: "token_create",
                client: actor.client,
                detail: Some(json!({"token_id": id, "user": owner_name, "name": label})),
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(NewToken { id, token })
    }

    /// API tokens, of one user or of all, oldest first.
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT t.id, u.name AS user, t.name, t.prefix, t.created_at, t.revoked_at, t.last_used_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE $1 IS NULL OR lower(u.name) = lower($1)
             ORDER BY t.id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get("id")?,
                    user: r.try_get("user")?,
                    name: r.try_get("name")?,
                    prefix: r.try_get("prefix")?,
                    created_at: r.try_get("created_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes API token `id` (audited as `token_revoke`). `NotFound` if
    /// there is no such token; revoking a revoked token is a no-op.
    pub async fn revoke_token(&self, id: i64, actor: Actor<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT u.name, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(Error::NotFound(format!("no API token with id {id}")));
        };
        if row.try_get::<Option<String>, _>("revoked_at")?.is_some() {
            return Ok(());
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(crate::clock::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action: "token_revoke",
                client: actor.client,
                detail: Some(json!({"token_id": id, "user": row.try_get::<String, _>("name")?})),
                ..audit::Entry::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account an API token belongs to; `None` for a malformed, unknown
    /// or revoked token or a disabled user.
    pub async fn token_account(&self, token: &str) -> Result<Option<Account>> {
        if !is_api_token(token) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.agency_id, t.id AS token_id, t.last_used_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_used: Option<String> = row.try_get("last_used_at")?;
        if last_used.is_none_or(|t| t < crate::clock::before(TOUCH_EVERY)) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(crate::clock::now())
                .bind(row.try_get::<i64, _>("token_id")?)
                .execute(&self.pool)
                .await?;
        }
        account_from_row(&row).map(Some)
    }

    /// Known agencies as `(slug, name)`, by slug.
    pub async fn agencies(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT id, name FROM agencies ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }
}

/// The slug of the agency `given` names (by slug or name, any case);
/// creates it when `create` is set, else an error listing known agencies.
async fn resolve_agency(tx: &mut crate::store::Tx, given: &str, create: bool) -> Result<String> {
    let given = given.trim();
    let slug = agency_slug(given);
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM agencies WHERE id = $1 OR id = $2 OR lower(name) = lower($3) LIMIT 1",
    )
    .bind(given)
    .bind(&slug)
    .bind(given)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    if create {
        if slug.is_empty() || given.len() > 200 {
            return Err(Error::BadRequest(format!(
                "agency name {given:?} must have 1-200 characters, some of them letters or digits"
            )));
        }
        sqlx::query("INSERT INTO agencies (id, name, created_at) VALUES ($2, $3, $1)")
            .bind(crate::clock::now())
            .bind(&slug)
            .bind(given)
            .execute(&mut **tx)
            .await?;
        return Ok(slug);
    }
    let known: Vec<String> = sqlx::query_scalar("SELECT id FROM agencies ORDER BY id")
        .fetch_all(&mut **tx)
        .await?;
    Err(Error::BadRequest(if known.is_empty() {
        format!("unknown agency {given:?}; there are no agencies yet")
    } else {
        format!(
            "unknown agency {given:?}; known agencies: {}",
            known.join(", ")
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_required_cost() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse batterx"));
        assert!(!verify_password("garbage", "correct horse battery"));
    }

    #[test]
    fn token_shapes() {
        assert!(is_session_token(&random_hex(16)));
        assert!(is_api_token(&format!("{TOKEN_PREFIX}{}", random_hex(32))));
        assert!(!is_api_token("bsc_xyz"));
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(random_hex(16), random_hex(16));
    }

    #[test]
    fn password_and_name_rules() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough!").is_ok());
        assert!(check_password("long enough\n").is_err());
        assert!(check_user_name("ayu.putri").is_ok());
        assert!(check_user_name("-x").is_err());
        assert!(check_user_name("a b").is_err());
    }

    #[tokio::test]
    async fn login_sessions_tokens_and_throttling() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let cli = Actor {
            account: None,
            client: None,
        };
        let err = store
            .create_user(
                &NewUser {
                    name: "staff",
                    role: Role::OpdStaff,
                    agency: Some("Dinas X"),
                    create_agency: false,
                    password: "password123",
                },
                cli,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("unknown agency"), "{err}");
        store
            .create_user(
                &NewUser {
                    name: "staff",
                    role: Role::OpdStaff,
                    agency: Some("Dinas X"),
                    create_agency: true,
                    password: "password123",
                },
                cli,
            )
            .await
            .unwrap();
        let ttl = Duration::from_secs(3600);
        let login = store
            .login("STAFF", "password123", Some("1.2.3.4"), ttl)
            .await
            .unwrap();
        assert_eq!(login.account.agency.as_deref(), Some("dinas-x"));
        let a = store
            .session_account(&login.token, ttl)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.name, "staff");
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert!(matches!(
                store
                    .login("staff", "wrong password", Some("1.2.3.4"), ttl)
                    .await,
                Err(Error::Unauthorized(_))
            ));
        }
        assert!(matches!(
            store.login("staff", "password123", Some("1.2.3.4"), ttl).await,
            Err(Error::Throttled { retry_after }) if retry_after > 0 && retry_after <= 900
        ));
        let t = store.create_token("staff", "qgis", cli).await.unwrap();
        assert_eq!(
            store.token_account(&t.token).await.unwrap().unwrap().name,
            "staff"
        );
        store.revoke_token(t.id, cli).await.unwrap();
        assert!(store.token_account(&t.token).await.unwrap().is_none());
        store.disable_user("staff", cli).await.unwrap();
        assert!(
            store
                .session_account(&login.token, ttl)
                .await
                .unwrap()
                .is_none()
        );
        assert!(!store.logout(&login.token, None).await.unwrap());
    }
}
