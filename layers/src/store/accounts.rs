//! User accounts in the database: users, sessions, API tokens, the second
//! factor's secrets and login throttling. Password hashing is
//! [`crate::password`]'s and token shapes are [`crate::token`]'s.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::model::access::{Account, Actor, Role};
use crate::model::agency_slug;
use crate::password::{dummy_hash, hash_password, verify_password};
use crate::store::audit;
use crate::store::{Store, Tx};
use crate::token::{TOKEN_PREFIX, is_api_token, is_session_token, random_hex, token_hash};

// ---------------------------------------------------------------------------
// Users, passwords, sessions, API tokens and login throttling.
// ---------------------------------------------------------------------------

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = crate::password::MIN_LEN;
/// Longest password accepted (bytes): longer input is refused before hashing.
pub const MAX_PASSWORD_LEN: usize = crate::password::MAX_LEN;
/// Longest login name, in characters (names are ASCII, so also bytes).
pub const MAX_USER_NAME_LEN: usize = 64;
/// Failed logins per account within [`THROTTLE_WINDOW`] before further
/// attempts are refused.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins per client address within [`THROTTLE_WINDOW`] before
/// further attempts from it are refused.
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;
/// The throttling window.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most rows kept in the `login_attempts` table (two per failed login).
/// Past it the oldest are dropped, so an attacker sending many distinct
/// names or addresses cannot grow the table without bound; at the rate the
/// argon2 work allows (some tens of failures a second on two cores) it
/// holds well over the 15-minute window.
pub const MAX_THROTTLE_ROWS: i64 = 100_000;
/// Default session lifetime since last use.
pub const DEFAULT_SESSION_HOURS: u64 = 12;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "bsc_session";
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
    /// Whether the user has a second factor (`bsc user totp`).
    pub totp: bool,
    /// When the user was created.
    pub created_at: String,
}

/// SQL of the `totp` column of a [`UserInfo`]: whether a second factor is
/// enrolled, without reading the secret (an integer on both backends).
macro_rules! totp_enrolled {
    () => {
        "CAST(CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS totp"
    };
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

/// The message of every refused login (401), whatever was wrong: the name,
/// the password or the second factor's code.
pub const LOGIN_FAILED: &str = "wrong user name, password or authenticator code";

/// What a login attempt gives.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// Login name.
    pub name: &'a str,
    /// Password in clear.
    pub password: &'a str,
    /// The code of the user's authenticator app, if they gave one (needed
    /// when they have a second factor).
    pub otp: Option<&'a str>,
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How logins are checked (server settings).
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// How long a session lasts since its last use.
    pub ttl: Duration,
    /// Admins and leaders must have a second factor to log in (`--require-totp`).
    pub require_totp: bool,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who logged in.
    pub account: Account,
    /// The session token for the cookie (32 hex digits).
    pub token: String,
}

/// Checks that `password` may be set for the user named `user`: the one
/// password policy ([`crate::password::check`]) of every path that sets a
/// password. The error says why and what to do, in English and Indonesian.
pub fn check_password(user: &str, password: &str) -> Result<()> {
    crate::password::check(user, password).map_err(|p| Error::BadRequest(p.to_string()))
}

/// Checks a login name: 1-[`MAX_USER_NAME_LEN`] characters
/// `A-Z a-z 0-9 . _ @ -`, starting with a letter or digit. An over-long
/// name is not echoed in the error.
pub fn check_user_name(name: &str) -> Result<()> {
    if name.len() > MAX_USER_NAME_LEN {
        return Err(Error::BadRequest(format!(
            "Nama pengguna terlalu panjang: paling banyak {MAX_USER_NAME_LEN} karakter. / The user name is too long: use at most {MAX_USER_NAME_LEN} characters."
        )));
    }
    if is_valid_user_name(name) {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "Nama pengguna {name:?} tidak sah: pakai 1-{MAX_USER_NAME_LEN} karakter A-Z, a-z, 0-9, '.', '_', '@' atau '-', diawali huruf atau angka. / User name {name:?} is not valid: use 1-{MAX_USER_NAME_LEN} characters A-Z, a-z, 0-9, '.', '_', '@' or '-', starting with a letter or digit."
        )))
    }
}

/// Whether `name` could be a login name (see [`check_user_name`]).
fn is_valid_user_name(name: &str) -> bool {
    name.len() <= MAX_USER_NAME_LEN
        && name
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphanumeric)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
}

fn unix_now() -> i64 {
    crate::clock::unix_seconds()
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
        totp: row.try_get::<i64, _>("totp")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// The throttling key of a client address: an IPv4 address as it is, an
/// IPv6 address by its /64 network (one subscriber usually holds a whole
/// /64, so counting single addresses would let one attacker spread over
/// 2^64 keys), anything else (not expected) cut to 64 characters.
fn client_key(client: &str) -> String {
    match client.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => format!("client:{v4}"),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("client:{v4}"),
            None => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("client:{net}/64")
            }
        },
        Err(_) => format!("client:{}", client.chars().take(64).collect::<String>()),
    }
}

/// The throttling key of a login name (lower-cased: names compare without
/// case). Only called for names that pass [`is_valid_user_name`], so at
/// most `user:` and [`MAX_USER_NAME_LEN`] bytes.
fn user_key(name: &str) -> String {
    format!("user:{}", name.to_lowercase())
}

/// Throttling keys of a login attempt, each with its limit.
fn throttle_keys(name: &str, client: Option<&str>) -> Vec<(String, i64)> {
    let mut keys = vec![(user_key(name), MAX_FAILURES_PER_ACCOUNT)];
    if let Some(c) = client {
        keys.push((client_key(c), MAX_FAILURES_PER_CLIENT));
    }
    keys
}

impl Store {
    /// Creates a user (audited as `user_add`). Errors: `BadRequest` for a bad
    /// name, password, role/agency combination or an unknown agency (the
    /// message lists the known ones), `Conflict` if the name is taken.
    pub async fn create_user(&self, new: &NewUser<'_>, actor: Actor<'_>) -> Result<UserInfo> {
        check_user_name(new.name)?;
        check_password(new.name, new.password)?;
        let password = new.password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let mut tx = self.write().await?;
        let agency = match (new.role, new.agency) {
            (Role::OpdStaff, None) => {
                return Err(Error::BadRequest(
                    "Pengguna opd_staff memerlukan perangkat daerah (--agency). / An opd_staff user needs an agency (--agency).".into(),
                ));
            }
            (Role::OpdStaff, Some(a)) => Some(resolve_agency(&mut tx, a, new.create_agency).await?),
            (role, Some(_)) => {
                return Err(Error::BadRequest(format!(
                    "Hanya opd_staff yang terikat pada perangkat daerah, bukan {role}. / Only opd_staff users belong to an agency, not {role}."
                )));
            }
            (_, None) => None,
        };
        let inserted = sqlx::query(concat!(
            "INSERT INTO users (name, role, agency_id, password_hash) VALUES ($1, $2, $3, $4)
                 RETURNING id, name, role, agency_id, disabled, created_at, ",
            totp_enrolled!()
        ))
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
                    "Nama pengguna {:?} sudah dipakai. / A user named {:?} exists.",
                    new.name, new.name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let user = user_from_row(&row)?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"user": user.name, "role": user.role, "agency": user.agency})),
                ..audit::Entry::by(actor, "user_add")
            },
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserInfo>> {
        let rows = sqlx::query(concat!(
            "SELECT id, name, role, agency_id, disabled, created_at, ",
            totp_enrolled!(),
            " FROM users ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The user named `name` (any case), if any.
    pub async fn user(&self, name: &str) -> Result<Option<UserInfo>> {
        let row = sqlx::query(concat!(
            "SELECT id, name, role, agency_id, disabled, created_at, ",
            totp_enrolled!(),
            " FROM users WHERE lower(name) = lower($1)"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Disables a user: they can no longer log in, their sessions are
    /// deleted and their API tokens revoked (audited as `user_disable`).
    /// Refused (`Conflict`) for the last enabled admin: someone must be left
    /// to administer the server from the page.
    pub async fn disable_user(&self, name: &str, actor: Actor<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        keep_an_admin(&mut tx, name, None).await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET disabled = 1 WHERE lower(name) = lower($1) RETURNING id",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(Error::NotFound(format!(
                "Pengguna {name:?} tidak ada. / No user named {name:?}."
            )));
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
                detail: Some(
                    json!({"user": name, "sessions_deleted": sessions, "tokens_revoked": tokens}),
                ),
                ..audit::Entry::by(actor, "user_disable")
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's password and deletes their sessions (audited as
    /// `user_passwd`). API tokens stay valid.
    pub async fn set_password(&self, name: &str, password: &str, actor: Actor<'_>) -> Result<()> {
        check_password(name, password)?;
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
            return Err(Error::NotFound(format!(
                "Pengguna {name:?} tidak ada. / No user named {name:?}."
            )));
        };
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"user": name})),
                ..audit::Entry::by(actor, "user_passwd")
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
        let mut last = 0i64;
        for (key, _) in throttle_keys(name, client) {
            last = sqlx::query_scalar(
                "INSERT INTO login_attempts (key, at) VALUES ($1, $2) RETURNING id",
            )
            .bind(&key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        }
        // Ids only grow, so the rows more than MAX_THROTTLE_ROWS ids back
        // are the oldest: dropped through the primary key, no count needed.
        sqlx::query("DELETE FROM login_attempts WHERE id <= $1")
            .bind(last - MAX_THROTTLE_ROWS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks the credentials and opens a session lasting `policy.ttl` since
    /// its last use.
    ///
    /// A name that cannot be a login name (over [`MAX_USER_NAME_LEN`]
    /// characters, or characters a name never has) is answered
    /// `Err(Unauthorized)` at once: no argon2 work, no throttling row, no
    /// audit entry. Otherwise throttled ([`MAX_FAILURES_PER_ACCOUNT`] per
    /// account and [`MAX_FAILURES_PER_CLIENT`] per client address, an IPv6
    /// client by its /64, in [`THROTTLE_WINDOW`]): `Err(Throttled)` before
    /// any password check. Unknown users, disabled users, wrong passwords
    /// and, for a user with a second factor, a wrong, missing or reused code
    /// all answer the same `Err(Unauthorized)` after the same argon2 work,
    /// and count as failures. With `policy.require_totp`, an admin or
    /// leader without a second factor gets `Err(Forbidden)` telling them to
    /// enrol one, once the password is right. Audited as `login` or
    /// `login_failed` (with the name tried and why, never the password or
    /// code); throttled attempts are not audited.
    pub async fn login(
        &self,
        creds: &Credentials<'_>,
        client: Option<&str>,
        policy: &LoginPolicy,
    ) -> Result<Login> {
        let name = creds.name;
        let unauthorized = || Error::Unauthorized(LOGIN_FAILED.into());
        if !is_valid_user_name(name) {
            return Err(unauthorized());
        }
        let failed = |reason: &'static str| json!({"user": name, "reason": reason});
        // Refused attempts are not audited one by one: a client hammering
        // the login would otherwise turn each request into a write.
        if let Some(retry_after) = self.login_wait(name, client).await? {
            return Err(Error::Throttled { retry_after });
        }
        let row = if creds.password.len() <= MAX_PASSWORD_LEN {
            sqlx::query(
                "SELECT id, name, role, agency_id, disabled, password_hash, totp_secret, totp_last_step
                 FROM users WHERE lower(name) = lower($1)",
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
        let given = creds
            .password
            .chars()
            .take(MAX_PASSWORD_LEN)
            .collect::<String>();
        let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &given))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        // The second factor is looked at only once the password is right,
        // and a wrong one answers exactly as a wrong password does.
        let mut step = None;
        let outcome = match (&account, &row) {
            (None, _) | (_, None) => Err("unknown user"),
            (Some(_), Some(_)) if disabled => Err("disabled"),
            (Some(_), Some(_)) if !matches => Err("wrong password"),
            (Some(_), Some(row)) => match row.try_get::<Option<String>, _>("totp_secret")? {
                None => Ok(()),
                Some(secret) => {
                    let last: Option<i64> = row.try_get("totp_last_step")?;
                    let now = u64::try_from(unix_now()).unwrap_or(0);
                    match creds
                        .otp
                        .map(|c| crate::totp::matching_step(&secret, c, now))
                    {
                        None => Err("code missing"),
                        Some(found) => match found?.and_then(|s| i64::try_from(s).ok()) {
                            None => Err("wrong code"),
                            Some(s) if last.is_some_and(|l| s <= l) => Err("code reused"),
                            Some(s) => {
                                step = Some(s);
                                Ok(())
                            }
                        },
                    }
                }
            },
        };
        let account = match (outcome, account) {
            (Ok(()), Some(a)) => a,
            (Err(reason), _) => return Err(self.login_failed(name, client, reason).await?),
            (Ok(()), None) => return Err(self.login_failed(name, client, "unknown user").await?),
        };
        if policy.require_totp
            && matches!(account.role, Role::Admin | Role::Leader)
            && step.is_none()
        {
            audit::record_anonymous(
                &self.pool,
                &audit::Entry {
                    action: "login_failed",
                    client,
                    detail: Some(failed("second factor required, none enrolled")),
                    ..audit::Entry::default()
                },
            )
            .await?;
            return Err(Error::Forbidden(format!(
                "this server requires a second factor (an authenticator app code) for {} accounts, \
                 and yours has none yet: ask an administrator to run `bsc user totp {}` and add \
                 the key it shows to your authenticator app / server ini mewajibkan faktor kedua \
                 (kode aplikasi autentikator) untuk akun {}, dan akun Anda belum memilikinya: \
                 minta administrator menjalankan `bsc user totp {}` lalu tambahkan kuncinya ke \
                 aplikasi autentikator Anda",
                account.role, account.name, account.role, account.name
            )));
        }
        let token = random_hex(16);
        let mut tx = self.write().await?;
        if let Some(step) = step {
            // Claims the code's step: a concurrent login with the same code
            // finds it taken.
            let claimed = sqlx::query(
                "UPDATE users SET totp_last_step = $1
                 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
            )
            .bind(step)
            .bind(account.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                tx.rollback().await?;
                return Err(self.login_failed(name, client, "code reused").await?);
            }
        }
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(crate::clock::now())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(user_key(name))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, expires_at)
             VALUES ($1, $2, $3)",
        )
        .bind(token_hash(&token))
        .bind(account.id)
        .bind(crate::clock::after(policy.ttl))
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

    /// Counts and audits a failed login; the error to answer it with.
    async fn login_failed(
        &self,
        name: &str,
        client: Option<&str>,
        reason: &'static str,
    ) -> Result<Error> {
        self.note_failure(name, client).await?;
        audit::record_anonymous(
            &self.pool,
            &audit::Entry {
                action: "login_failed",
                client,
                detail: Some(json!({"user": name, "reason": reason})),
                ..audit::Entry::default()
            },
        )
        .await?;
        Ok(Error::Unauthorized(LOGIN_FAILED.into()))
    }

    /// Enrols `name` in the second factor (audited as `user_totp_enable`):
    /// a new secret replaces any earlier one, so an old authenticator entry
    /// stops working. The secret is returned once, for the user's app, and
    /// never logged or audited.
    pub async fn enable_totp(
        &self,
        name: &str,
        actor: Actor<'_>,
    ) -> Result<crate::totp::Enrolment> {
        let mut tx = self.write().await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT name FROM users WHERE lower(name) = lower($1)")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(stored) = stored else {
            return Err(Error::NotFound(format!(
                "Pengguna {name:?} tidak ada. / No user named {name:?}."
            )));
        };
        let enrolment = crate::totp::enrol(&stored)?;
        sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_last_step = NULL WHERE lower(name) = lower($2)",
        )
        .bind(&enrolment.secret)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"user": stored})),
                ..audit::Entry::by(actor, "user_totp_enable")
            },
        )
        .await?;
        tx.commit().await?;
        Ok(enrolment)
    }

    /// Removes `name`'s second factor (audited as `user_totp_disable`).
    /// Whether they had one.
    pub async fn disable_totp(&self, name: &str, actor: Actor<'_>) -> Result<bool> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT name, totp_secret FROM users WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(Error::NotFound(format!(
                "Pengguna {name:?} tidak ada. / No user named {name:?}."
            )));
        };
        let stored: String = row.try_get("name")?;
        let had = row.try_get::<Option<String>, _>("totp_secret")?.is_some();
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE lower(name) = lower($1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"user": stored, "was_enrolled": had})),
                ..audit::Entry::by(actor, "user_totp_disable")
            },
        )
        .await?;
        tx.commit().await?;
        Ok(had)
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
                "Label token: 1-100 karakter, tanpa karakter kendali. / A token label must have 1-100 characters and no control characters.".into(),
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
            return Err(Error::NotFound(format!(
                "Pengguna {user:?} tidak ada. / No user named {user:?}."
            )));
        };
        if owner.try_get::<i64, _>("disabled")? != 0 {
            return Err(Error::Conflict(format!(
                "Pengguna {user:?} nonaktif. / User {user:?} is disabled."
            )));
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
                detail: Some(json!({"token_id": id, "user": owner_name, "name": label})),
                ..audit::Entry::by(actor, "token_create")
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
            return Err(Error::NotFound(format!(
                "Token API {id} tidak ada. / No API token with id {id}."
            )));
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
                detail: Some(json!({"token_id": id, "user": row.try_get::<String, _>("name")?})),
                ..audit::Entry::by(actor, "token_revoke")
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

    /// Enables a disabled user again (audited as `user_enable`): they log
    /// in with their password as before; tokens revoked when they were
    /// disabled stay revoked. Enabling an enabled user is a no-op.
    pub async fn enable_user(&self, name: &str, actor: Actor<'_>) -> Result<()> {
        let mut tx = self.write().await?;
        let row = sqlx::query("SELECT name, disabled FROM users WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(Error::NotFound(format!(
                "Pengguna {name:?} tidak ada. / No user named {name:?}."
            )));
        };
        if row.try_get::<i64, _>("disabled")? == 0 {
            return Ok(());
        }
        sqlx::query("UPDATE users SET disabled = 0 WHERE lower(name) = lower($1)")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"user": row.try_get::<String, _>("name")?})),
                ..audit::Entry::by(actor, "user_enable")
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a user's role and agency (audited as `user_role`, with both
    /// before and after). The rules of [`Store::create_user`] hold: an
    /// `opd_staff` user needs a known agency (slug or name), the others
    /// have none. The last enabled admin keeps the admin role
    /// (`Conflict`). The change applies to their next request: sessions
    /// and tokens read the role from the user.
    pub async fn set_role(
        &self,
        name: &str,
        role: Role,
        agency: Option<&str>,
        actor: Actor<'_>,
    ) -> Result<UserInfo> {
        let mut tx = self.write().await?;
        let before = sqlx::query(concat!(
            "SELECT id, name, role, agency_id, disabled, created_at, ",
            totp_enrolled!(),
            " FROM users WHERE lower(name) = lower($1)"
        ))
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(before) = before.as_ref().map(user_from_row).transpose()? else {
            return Err(Error::NotFound(format!(
                "Pengguna {name:?} tidak ada. / No user named {name:?}."
            )));
        };
        let agency = match (role, agency.map(str::trim).filter(|a| !a.is_empty())) {
            (Role::OpdStaff, None) => {
                return Err(Error::BadRequest(
                    "Pengguna opd_staff memerlukan perangkat daerah. / An opd_staff user needs an agency."
                        .into(),
                ));
            }
            (Role::OpdStaff, Some(a)) => Some(resolve_agency(&mut tx, a, false).await?),
            (other, Some(_)) => {
                return Err(Error::BadRequest(format!(
                    "Hanya opd_staff yang terikat pada perangkat daerah, bukan {other}. / Only opd_staff users belong to an agency, not {other}."
                )));
            }
            (_, None) => None,
        };
        if role != Role::Admin {
            keep_an_admin(&mut tx, name, Some(role)).await?;
        }
        let row = sqlx::query(concat!(
            "UPDATE users SET role = $1, agency_id = $2 WHERE id = $3
             RETURNING id, name, role, agency_id, disabled, created_at, ",
            totp_enrolled!()
        ))
        .bind(role.as_str())
        .bind(&agency)
        .bind(before.id)
        .fetch_one(&mut *tx)
        .await?;
        let after = user_from_row(&row)?;
        if (after.role, &after.agency) != (before.role, &before.agency) {
            audit::record(
                &mut *tx,
                &audit::Entry {
                    detail: Some(json!({
                        "user": after.name,
                        "from": {"role": before.role, "agency": before.agency},
                        "to": {"role": after.role, "agency": after.agency},
                    })),
                    ..audit::Entry::by(actor, "user_role")
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// How many admins may log in (not disabled).
    pub async fn admin_count(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Creates an agency named `name` (audited as `agency_add`); its slug
    /// is made from the name. `Conflict` when an agency has that slug or
    /// name (any case), `BadRequest` for a name without letters or digits
    /// or over 200 characters. Returns `(slug, name)`.
    pub async fn create_agency(&self, name: &str, actor: Actor<'_>) -> Result<(String, String)> {
        let name = check_agency_name(name)?;
        let slug = agency_slug(name);
        let mut tx = self.write().await?;
        let taken: Option<String> = sqlx::query_scalar(
            "SELECT id FROM agencies WHERE id = $1 OR lower(name) = lower($2) LIMIT 1",
        )
        .bind(&slug)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = taken {
            return Err(Error::Conflict(format!(
                "Perangkat daerah {id:?} sudah ada. / Agency {id:?} exists."
            )));
        }
        sqlx::query("INSERT INTO agencies (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&slug)
            .bind(name)
            .bind(crate::clock::now())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                detail: Some(json!({"agency": slug, "name": name})),
                ..audit::Entry::by(actor, "agency_add")
            },
        )
        .await?;
        tx.commit().await?;
        Ok((slug, name.to_owned()))
    }

    /// Renames agency `id` (audited as `agency_rename`); its slug, which
    /// layers and users refer to, stays. `NotFound` for an unknown id,
    /// `Conflict` when another agency has the name.
    pub async fn rename_agency(
        &self,
        id: &str,
        name: &str,
        actor: Actor<'_>,
    ) -> Result<(String, String)> {
        let name = check_agency_name(name)?;
        let mut tx = self.write().await?;
        let old: Option<String> = sqlx::query_scalar("SELECT name FROM agencies WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old else {
            return Err(Error::NotFound(format!(
                "Perangkat daerah {id:?} tidak ada. / No agency {id:?}."
            )));
        };
        let other: Option<String> = sqlx::query_scalar(
            "SELECT id FROM agencies WHERE lower(name) = lower($1) AND id <> $2 LIMIT 1",
        )
        .bind(name)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(other) = other {
            return Err(Error::Conflict(format!(
                "Nama itu dipakai perangkat daerah {other:?}. / Agency {other:?} has that name."
            )));
        }
        if old != name {
            sqlx::query("UPDATE agencies SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut *tx,
                &audit::Entry {
                    detail: Some(json!({"agency": id, "from": old, "to": name})),
                    ..audit::Entry::by(actor, "agency_rename")
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok((id.to_owned(), name.to_owned()))
    }
}

/// An agency name trimmed, or why it cannot be one.
fn check_agency_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if agency_slug(name).is_empty()
        || name.chars().count() > 200
        || name.chars().any(char::is_control)
    {
        return Err(Error::BadRequest(
            "Nama perangkat daerah: 1-200 karakter, ada huruf atau angka. / An agency name has 1-200 characters, some of them letters or digits.".into(),
        ));
    }
    Ok(name)
}

/// Refuses (`Conflict`) to leave no enabled admin: when `name` is one and
/// the only one, it may be neither disabled (`new_role: None`) nor given
/// another role.
async fn keep_an_admin(tx: &mut Tx, name: &str, new_role: Option<Role>) -> Result<()> {
    if new_role == Some(Role::Admin) {
        return Ok(());
    }
    let target: Option<(String, i64)> =
        sqlx::query_as("SELECT role, disabled FROM users WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(&mut **tx)
            .await?;
    if !matches!(target, Some((ref role, 0)) if role == "admin") {
        return Ok(());
    }
    let admins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut **tx)
            .await?;
    if admins <= 1 {
        return Err(Error::Conflict(format!(
            "{name} adalah satu-satunya admin aktif: tambahkan admin lain dahulu. / {name} is the only enabled admin: add another admin first."
        )));
    }
    Ok(())
}

/// The slug of the agency `given` names (by slug or name, any case);
/// creates it when `create` is set, else an error listing known agencies.
async fn resolve_agency(tx: &mut Tx, given: &str, create: bool) -> Result<String> {
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
                "Nama perangkat daerah {given:?}: 1-200 karakter, ada huruf atau angka. / Agency name {given:?} must have 1-200 characters, some of them letters or digits."
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
        format!(
            "Perangkat daerah {given:?} tidak dikenal; belum ada perangkat daerah. / unknown agency {given:?}; there are no agencies yet."
        )
    } else {
        format!(
            "Perangkat daerah {given:?} tidak dikenal; yang ada: {list}. / unknown agency {given:?}; known agencies: {list}.",
            list = known.join(", ")
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_and_name_rules() {
        assert!(check_password("ayu", "short").is_err());
        assert!(check_password("ayu", "long enough!").is_ok());
        assert!(check_password("ayu", "long enough\n").is_err());
        let weak = check_password("ayu", "Password123")
            .unwrap_err()
            .to_string();
        assert!(
            weak.contains("most common") && weak.contains("paling umum"),
            "{weak}"
        );
        assert!(check_password("wayan", "password-wayan").is_err());
        assert!(check_user_name("ayu.putri").is_ok());
        assert!(check_user_name("-x").is_err());
        assert!(check_user_name("a b").is_err());
        assert!(check_user_name("").is_err());
        assert!(check_user_name(&"a".repeat(MAX_USER_NAME_LEN)).is_ok());
        let long = "a".repeat(10_000);
        let err = check_user_name(&long).unwrap_err().to_string();
        assert!(err.contains("at most 64") && err.len() < 200, "{err}");
    }

    #[test]
    fn throttling_keys_are_bounded() {
        assert_eq!(client_key("1.2.3.4"), "client:1.2.3.4");
        assert_eq!(client_key("::ffff:1.2.3.4"), "client:1.2.3.4");
        // Every address of one /64 is one client.
        assert_eq!(
            client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "client:2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key("2001:db8:1:2::1"),
            client_key("2001:db8:1:2:ffff::9")
        );
        assert_ne!(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
        assert!(client_key(&"x".repeat(1000)).len() <= 7 + 64);
    }

    const PW: &str = "kata-sandi-rahasia";

    fn creds<'a>(name: &'a str, password: &'a str, otp: Option<&'a str>) -> Credentials<'a> {
        Credentials {
            name,
            password,
            otp,
        }
    }

    const CLI: Actor<'static> = Actor {
        account: None,
        client: None,
    };

    async fn store_with(users: &[(&str, Role)]) -> Store {
        let store = Store::open("sqlite::memory:").await.unwrap();
        for (name, role) in users {
            store
                .create_user(
                    &NewUser {
                        name,
                        role: *role,
                        agency: (*role == Role::OpdStaff).then_some("Dinas X"),
                        create_agency: true,
                        password: PW,
                    },
                    CLI,
                )
                .await
                .unwrap();
        }
        store
    }

    async fn count(store: &Store, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn weak_passwords_are_refused_on_every_path() {
        let store = store_with(&[("ayu", Role::Admin)]).await;
        for weak in [
            "password123",
            "aaaaaaaaaaaa",
            "            ",
            "bismillah123",
            "Ayu-2024-Ayu!",
        ] {
            let err = store
                .create_user(
                    &NewUser {
                        name: "made",
                        role: Role::Leader,
                        agency: None,
                        create_agency: false,
                        password: if weak.starts_with("Ayu") {
                            "made-made-made!"
                        } else {
                            weak
                        },
                    },
                    CLI,
                )
                .await
                .unwrap_err();
            assert!(matches!(err, Error::BadRequest(_)), "{weak}: {err}");
            let err = store.set_password("ayu", weak, CLI).await.unwrap_err();
            assert!(matches!(err, Error::BadRequest(_)), "{weak}: {err}");
        }
        assert!(store.user("made").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_over_long_name_costs_no_hashing_and_no_throttling_row() {
        let store = store_with(&[("ayu", Role::Admin)]).await;
        let policy = LoginPolicy {
            ttl: Duration::from_secs(60),
            require_totp: false,
        };
        let long = "a".repeat(100_000);
        for name in [
            long.as_str(),
            &"b".repeat(MAX_USER_NAME_LEN + 1),
            "bad name",
        ] {
            let err = store
                .login(
                    &creds(name, "whatever-password", None),
                    Some("1.2.3.4"),
                    &policy,
                )
                .await
                .unwrap_err();
            assert!(
                matches!(&err, Error::Unauthorized(m) if m == LOGIN_FAILED),
                "{err}"
            );
        }
        assert_eq!(
            count(&store, "SELECT count(*) FROM login_attempts").await,
            0
        );
        // A name of the longest length is tried and counted as usual.
        let name = "c".repeat(MAX_USER_NAME_LEN);
        assert!(matches!(
            store
                .login(
                    &creds(&name, "whatever-password", None),
                    Some("1.2.3.4"),
                    &policy
                )
                .await,
            Err(Error::Unauthorized(_))
        ));
        assert_eq!(
            count(&store, "SELECT count(*) FROM login_attempts").await,
            2
        );
        assert!(
            count(&store, "SELECT max(length(key)) FROM login_attempts").await
                <= 5 + i64::try_from(MAX_USER_NAME_LEN).unwrap()
        );
    }

    #[tokio::test]
    async fn the_throttling_table_keeps_at_most_its_cap() {
        let store = store_with(&[]).await;
        let now = unix_now();
        // A flood of distinct names and addresses, as an attacker would send.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
             INSERT INTO login_attempts (key, at) SELECT 'user:flood' || i, $2 FROM n",
        )
        .bind(MAX_THROTTLE_ROWS + 500)
        .bind(now)
        .execute(store.pool())
        .await
        .unwrap();
        store.note_failure("ayu", Some("10.0.0.1")).await.unwrap();
        assert_eq!(
            count(&store, "SELECT count(*) FROM login_attempts").await,
            MAX_THROTTLE_ROWS
        );
        // The newest rows are the ones kept.
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM login_attempts WHERE key IN ('user:ayu', 'client:10.0.0.1')"
            )
            .await,
            2
        );
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM login_attempts WHERE key = 'user:flood1'"
            )
            .await,
            0
        );
    }

    #[tokio::test]
    async fn a_second_factor_is_checked_once_and_required_by_the_flag() {
        let store = store_with(&[
            ("ayu", Role::Admin),
            ("made", Role::Leader),
            ("wayan", Role::OpdStaff),
        ])
        .await;
        let open = LoginPolicy {
            ttl: Duration::from_secs(60),
            require_totp: false,
        };
        let strict = LoginPolicy {
            require_totp: true,
            ..open.clone()
        };
        let enrolment = store.enable_totp("AYU", CLI).await.unwrap();
        assert!(store.user("ayu").await.unwrap().unwrap().totp);
        assert!(!store.user("made").await.unwrap().unwrap().totp);
        let now = u64::try_from(unix_now()).unwrap();
        let code_at = |t: u64| {
            let secret = totp_rs::Secret::Encoded(enrolment.secret.clone())
                .to_bytes()
                .unwrap();
            totp_rs::TOTP::new(
                totp_rs::Algorithm::SHA1,
                6,
                1,
                30,
                secret,
                None,
                String::new(),
            )
            .unwrap()
            .generate(t)
        };
        let code = code_at(now);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let refused =
            |r: Result<Login>| matches!(r, Err(Error::Unauthorized(m)) if m == LOGIN_FAILED);
        // Missing or wrong code, or a wrong password with the right code: the same 401.
        assert!(refused(
            store.login(&creds("ayu", PW, None), None, &open).await
        ));
        assert!(refused(
            store
                .login(&creds("ayu", PW, Some(wrong)), None, &open)
                .await
        ));
        assert!(refused(
            store
                .login(&creds("ayu", "not-the-password", Some(&code)), None, &open)
                .await
        ));
        assert!(refused(
            store
                .login(&creds("ayu", PW, Some(&code_at(now - 90))), None, &open)
                .await
        ));
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM login_attempts WHERE key = 'user:ayu'"
            )
            .await,
            4
        );
        // Password and code: in, with the throttle reset.
        store
            .login(&creds("ayu", PW, Some(&code)), None, &strict)
            .await
            .unwrap();
        assert_eq!(
            count(
                &store,
                "SELECT count(*) FROM login_attempts WHERE key = 'user:ayu'"
            )
            .await,
            0
        );
        // The same code again is refused, and so is the one before it.
        assert!(refused(
            store
                .login(&creds("ayu", PW, Some(&code)), None, &open)
                .await
        ));
        assert!(refused(
            store
                .login(&creds("ayu", PW, Some(&code_at(now - 30))), None, &open)
                .await
        ));
        // The next step's code (a phone clock slightly ahead) is fine.
        store
            .login(&creds("ayu", PW, Some(&code_at(now + 30))), None, &open)
            .await
            .unwrap();

        // The flag: a leader without a second factor is told to enrol, once the password is right.
        assert!(
            store
                .login(&creds("made", PW, None), None, &open)
                .await
                .is_ok()
        );
        assert!(refused(
            store
                .login(&creds("made", "not-the-password", None), None, &strict)
                .await
        ));
        let err = store
            .login(&creds("made", PW, None), None, &strict)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Forbidden(m) if m.contains("bsc user totp made")),
            "{err}"
        );
        // Staff are not concerned.
        store
            .login(&creds("wayan", PW, None), None, &strict)
            .await
            .unwrap();
        // Disabling the second factor lets the admin log in with the password alone.
        assert!(store.disable_totp("ayu", CLI).await.unwrap());
        assert!(!store.disable_totp("ayu", CLI).await.unwrap());
        store
            .login(&creds("ayu", PW, None), None, &open)
            .await
            .unwrap();
        assert!(store.enable_totp("nobody", CLI).await.is_err());
        let audit: Vec<String> = sqlx::query_scalar("SELECT coalesce(detail, '') FROM audit_log")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            !audit
                .iter()
                .any(|d| d.contains(&enrolment.secret) || d.contains(&code))
        );
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
                    password: PW,
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
                    password: PW,
                },
                cli,
            )
            .await
            .unwrap();
        let ttl = Duration::from_secs(3600);
        let policy = LoginPolicy {
            ttl,
            require_totp: false,
        };
        let login = store
            .login(&creds("STAFF", PW, None), Some("1.2.3.4"), &policy)
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
                    .login(
                        &creds("staff", "wrong password", None),
                        Some("1.2.3.4"),
                        &policy
                    )
                    .await,
                Err(Error::Unauthorized(_))
            ));
        }
        assert!(matches!(
            store.login(&creds("staff", PW, None), Some("1.2.3.4"), &policy).await,
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

    #[tokio::test]
    async fn roles_agencies_enabling_and_the_last_admin() {
        let store = store_with(&[("ayu", Role::Admin), ("made", Role::Leader)]).await;
        // The only admin can be neither disabled nor demoted.
        for err in [
            store.disable_user("ayu", CLI).await.unwrap_err(),
            store
                .set_role("ayu", Role::Leader, None, CLI)
                .await
                .unwrap_err(),
        ] {
            assert!(matches!(err, Error::Conflict(_)), "{err}");
        }
        assert_eq!(store.admin_count().await.unwrap(), 1);

        // Agencies: created, refused twice, renamed (the slug stays).
        let (slug, _) = store.create_agency("Dinas Sosial", CLI).await.unwrap();
        assert_eq!(slug, "dinas-sosial");
        for name in ["dinas sosial", "Dinas-Sosial"] {
            let err = store.create_agency(name, CLI).await.unwrap_err();
            assert!(matches!(err, Error::Conflict(_)), "{err}");
        }
        assert!(matches!(
            store.create_agency(" !! ", CLI).await,
            Err(Error::BadRequest(_))
        ));
        store
            .rename_agency("dinas-sosial", "Dinas Sosial P3A", CLI)
            .await
            .unwrap();
        assert!(
            store
                .agencies()
                .await
                .unwrap()
                .contains(&("dinas-sosial".to_owned(), "Dinas Sosial P3A".to_owned()))
        );
        assert!(matches!(
            store.rename_agency("nope", "X", CLI).await,
            Err(Error::NotFound(_))
        ));

        // Roles: staff need a known agency, others none.
        assert!(matches!(
            store.set_role("made", Role::OpdStaff, None, CLI).await,
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            store
                .set_role("made", Role::OpdStaff, Some("unknown"), CLI)
                .await,
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            store
                .set_role("made", Role::Leader, Some("dinas-sosial"), CLI)
                .await,
            Err(Error::BadRequest(_))
        ));
        let u = store
            .set_role("made", Role::OpdStaff, Some("Dinas Sosial P3A"), CLI)
            .await
            .unwrap();
        assert_eq!(
            (u.role, u.agency.as_deref()),
            (Role::OpdStaff, Some("dinas-sosial"))
        );
        // With a second admin the first may step down.
        store
            .set_role("made", Role::Admin, None, CLI)
            .await
            .unwrap();
        store
            .set_role("ayu", Role::Leader, None, CLI)
            .await
            .unwrap();
        assert_eq!(store.admin_count().await.unwrap(), 1);

        // Disabled, then enabled again: logs in with the same password.
        store.disable_user("ayu", CLI).await.unwrap();
        assert!(store.user("ayu").await.unwrap().unwrap().disabled);
        store.enable_user("ayu", CLI).await.unwrap();
        store.enable_user("ayu", CLI).await.unwrap();
        assert!(!store.user("ayu").await.unwrap().unwrap().disabled);
        assert!(matches!(
            store.enable_user("nobody", CLI).await,
            Err(Error::NotFound(_))
        ));
        let policy = LoginPolicy {
            ttl: Duration::from_secs(60),
            require_totp: false,
        };
        store
            .login(&creds("ayu", PW, None), None, &policy)
            .await
            .unwrap();

        let actions = sqlx::query_scalar::<_, String>("SELECT action FROM audit_log ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
        for a in [
            "agency_add",
            "agency_rename",
            "user_role",
            "user_disable",
            "user_enable",
        ] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
        // Each change once: the second enable changed nothing.
        assert_eq!(actions.iter().filter(|a| *a == "user_enable").count(), 1);
        assert_eq!(actions.iter().filter(|a| *a == "user_role").count(), 3);
    }
}
