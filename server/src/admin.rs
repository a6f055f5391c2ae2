//! Administration from the command line: `bsc user`, `bsc token`, `bsc
//! audit`, `bsc backup` and `bsc restore`. Every change is audited with the
//! actor `cli`.

use std::fs::File;
use std::io::{BufRead, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use layers::model::access::Actor;
use layers::store::accounts::NewUser;
use layers::store::audit::{self, Filter};
use layers::{Error, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection, Row};

use crate::cli::{AuditArgs, BackupArgs, MigrateDataArgs, RestoreArgs, TokenCommand, UserCommand};

/// The command line as an actor: recorded as `cli`.
const CLI: Actor<'static> = Actor {
    account: None,
    client: None,
};

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Reads a password: from a prompt without echo (asked twice) when
/// standard input is a terminal, else the first line of standard input.
fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))
            .context("reading the password")?;
        let again =
            rpassword::prompt_password("Repeat the password: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("no password on standard input (give it as the first line)");
        }
        Ok(password)
    }
}

/// Turns a layers error into a one-line CLI error.
fn plain(e: Error) -> anyhow::Error {
    anyhow!("{e}")
}

/// `bsc user ...`.
pub async fn user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add(args) => {
            let role = args.role;
            // Checked before asking for the password, so a typo costs nothing.
            layers::store::accounts::check_user_name(&args.name).map_err(plain)?;
            let password = read_password(&args.name)?;
            let store = Store::open(&args.db.database).await?;
            let result = store
                .create_user(
                    &NewUser {
                        name: &args.name,
                        role,
                        agency: args.agency.as_deref(),
                        create_agency: args.create_agency,
                        password: &password,
                    },
                    CLI,
                )
                .await;
            store.close().await;
            let user = result.map_err(|e| match e {
                Error::BadRequest(m) if m.starts_with("unknown agency") => {
                    anyhow!("{m} (add --create-agency to create it)")
                }
                other => plain(other),
            })?;
            println!(
                "created user {} ({}{})",
                user.name,
                user.role,
                user.agency
                    .map(|a| format!(", agency {a}"))
                    .unwrap_or_default()
            );
        }
        UserCommand::List(args) => {
            let store = Store::open(&args.db.database).await?;
            let users = store.users().await;
            store.close().await;
            let users = users.map_err(plain)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.name.clone(),
                            u.role.to_string(),
                            u.agency.clone().unwrap_or_else(|| "-".into()),
                            if u.disabled { "disabled" } else { "active" }.into(),
                            if u.totp { "yes" } else { "no" }.into(),
                            u.created_at.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    &["NAME", "ROLE", "AGENCY", "STATUS", "TOTP", "CREATED"],
                    &rows,
                );
            }
        }
        UserCommand::Disable(args) => {
            let store = Store::open(&args.db.database).await?;
            let result = store.disable_user(&args.name, CLI).await;
            store.close().await;
            result.map_err(plain)?;
            println!(
                "disabled user {}; their sessions are ended and API tokens revoked",
                args.name
            );
        }
        UserCommand::Passwd(args) => {
            let store = Store::open(&args.db.database).await?;
            let exists = store.user(&args.name).await.map_err(plain)?.is_some();
            if !exists {
                store.close().await;
                bail!("no user named {:?}", args.name);
            }
            let password = read_password(&args.name)?;
            let result = store.set_password(&args.name, &password, CLI).await;
            store.close().await;
            result.map_err(plain)?;
            println!(
                "password of {} changed; their sessions are ended",
                args.name
            );
        }
        UserCommand::Totp(args) => {
            let store = Store::open(&args.db.database).await?;
            if args.disable {
                let result = store.disable_totp(&args.name, CLI).await;
                store.close().await;
                if result.map_err(plain)? {
                    println!(
                        "second factor of {} removed; they log in with their password alone",
                        args.name
                    );
                } else {
                    println!("{} had no second factor", args.name);
                }
            } else {
                let result = store.enable_totp(&args.name, CLI).await;
                store.close().await;
                let enrolment = result.map_err(plain)?;
                // The secret goes to standard output only, once; the
                // explanation to standard error, so `> file` keeps just the URL.
                eprintln!(
                    "second factor of {} enrolled (any earlier one no longer works). Add it to an \
                     authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP, ...) \
                     by opening or scanning the URL below, or by typing the key \
                     {} (time-based, 6 digits, 30 s). It is shown only now. From now on the \
                     user logs in with the app's current code in the \"otp\" field.",
                    args.name,
                    group(&enrolment.secret),
                );
                if std::io::stderr().is_terminal() {
                    eprint!("{}", terminal_qr(&enrolment.url));
                }
                println!("{}", enrolment.url);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `bsc token ...`.
pub async fn token(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create(args) => {
            let store = Store::open(&args.db.database).await?;
            let label = args.name.unwrap_or_else(|| "cli".to_owned());
            let result = store.create_token(&args.user, &label, CLI).await;
            store.close().await;
            let token = result.map_err(plain)?;
            eprintln!(
                "created API token {} for {}; it is shown only now:",
                token.id, args.user
            );
            println!("{}", token.token);
        }
        TokenCommand::List(args) => {
            let store = Store::open(&args.db.database).await?;
            let tokens = store.tokens(args.user.as_deref()).await;
            store.close().await;
            let tokens = tokens.map_err(plain)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.user.clone(),
                            t.name.clone(),
                            format!("{}…", t.prefix),
                            t.created_at.clone(),
                            t.last_used_at.clone().unwrap_or_else(|| "-".into()),
                            t.revoked_at
                                .as_ref()
                                .map_or_else(|| "active".into(), |r| format!("revoked {r}")),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "ID",
                        "USER",
                        "NAME",
                        "TOKEN",
                        "CREATED",
                        "LAST USED",
                        "STATUS",
                    ],
                    &rows,
                );
            }
        }
        TokenCommand::Revoke(args) => {
            let store = Store::open(&args.db.database).await?;
            let result = store.revoke_token(args.id, CLI).await;
            store.close().await;
            result.map_err(plain)?;
            println!("revoked API token {}", args.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `bsc audit`.
pub async fn audit_log(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.db.database).await?;
    let entries = audit::list(
        &store,
        &Filter {
            limit: args.limit,
            before: args.before,
            action: args.action.as_deref(),
            layer: args.layer.as_deref(),
        },
    )
    .await;
    store.close().await;
    let entries = entries.map_err(plain)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                let versions = match (e.from_version, e.to_version) {
                    (None, None) => "-".to_owned(),
                    (f, t) => format!(
                        "{}→{}",
                        f.map_or("-".into(), |v| v.to_string()),
                        t.map_or("-".into(), |v| v.to_string())
                    ),
                };
                vec![
                    e.id.to_string(),
                    e.at.clone(),
                    e.actor.clone().unwrap_or_else(|| "-".into()),
                    e.client.clone().unwrap_or_else(|| "-".into()),
                    e.action.clone(),
                    e.layer.clone().unwrap_or_else(|| "-".into()),
                    versions,
                    e.detail
                        .as_ref()
                        .map_or_else(|| "-".into(), ToString::to_string),
                ]
            })
            .collect();
        print_table(
            &[
                "ID", "AT", "ACTOR", "CLIENT", "ACTION", "LAYER", "VERSIONS", "DETAIL",
            ],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints rows under a header, columns padded to their widest cell.
/// `text` as a QR code drawn with Unicode half blocks, two modules a
/// character, light modules drawn (as `qrencode -t UTF8` does, for the
/// usual dark terminal), with a quiet zone; empty if it does not fit.
fn terminal_qr(text: &str) -> String {
    let Ok(qr) = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium) else {
        return String::new();
    };
    let (size, quiet) = (qr.size(), 2);
    let light = |x: i32, y: i32| !qr.get_module(x, y);
    let mut out = String::new();
    for y in (-quiet..size + quiet).step_by(2) {
        for x in -quiet..size + quiet {
            out.push(match (light(x, y), light(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    out
}

/// `secret` in groups of four, as authenticator apps show keys.
fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// `bsc migrate-data --from URL --to URL`: copies one database into
/// another, empty one, and prints what was copied.
pub async fn migrate_data(args: MigrateDataArgs) -> anyhow::Result<ExitCode> {
    let (from_name, to_name) = (redact(&args.from), redact(&args.to));
    if from_name == to_name {
        bail!("--from and --to name the same database");
    }
    let from = Store::open(&args.from)
        .await
        .with_context(|| format!("opening {from_name}"))?;
    let to = Store::open(&args.to)
        .await
        .with_context(|| format!("opening {to_name}"))?;
    let started = std::time::Instant::now();
    let report = layers::store::copy::copy(&from, &to).await?;
    for (table, rows) in &report.tables {
        println!("{table:<15} {rows:>10}");
    }
    println!(
        "copied {from_name} to {to_name} in {:.1} s; every count matches",
        started.elapsed().as_secs_f64()
    );
    from.close().await;
    to.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A database URL fit for messages: any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The file behind a `sqlite://PATH` (or plain path) database URL.
pub fn database_file(url: &str) -> anyhow::Result<PathBuf> {
    if layers::store::Backend::of_url(url) == layers::store::Backend::Postgres {
        bail!(
            "backup and restore work on the SQLite file; for PostgreSQL use pg_dump and pg_restore (see the README)"
        );
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
        bail!("{url:?} is not a database file");
    }
    Ok(PathBuf::from(path))
}

fn utf8(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .ok_or_else(|| anyhow!("{}: the path must be UTF-8", path.display()))
}

/// `bsc backup FILE`: a consistent snapshot (`VACUUM INTO`), safe while
/// the server runs.
pub async fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let db = database_file(&args.db.database)?;
    if !db.exists() {
        bail!("no database at {}", db.display());
    }
    let out = &args.file;
    if out.exists() {
        bail!("{} exists; refusing to overwrite it", out.display());
    }
    let store = Store::open(&args.db.database).await?;
    let result = async {
        sqlx::query("VACUUM INTO $1")
            .bind(utf8(out)?)
            .execute(store.pool())
            .await
            .map_err(|e| anyhow!("writing {}: {e}", out.display()))?;
        audit::record(
            store.pool(),
            &audit::Entry {
                action: "backup",
                detail: Some(serde_json::json!({"file": out.display().to_string()})),
                ..audit::Entry::default()
            },
        )
        .await
        .map_err(plain)
    }
    .await;
    store.close().await;
    result?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes)",
        db.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Checks that `file` is an undamaged bsc database: SQLite, passes
/// `PRAGMA integrity_check`, and holds only migrations this binary knows.
pub async fn check_backup(file: &Path) -> anyhow::Result<()> {
    let shown = file.display();
    let mut magic = [0u8; 16];
    File::open(file)
        .with_context(|| format!("{shown}"))?
        .read_exact(&mut magic)
        .map_err(|_| anyhow!("{shown} is not a SQLite database (too short)"))?;
    if &magic != SQLITE_MAGIC {
        bail!("{shown} is not a SQLite database");
    }
    let options = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true);
    let mut conn = options
        .connect()
        .await
        .map_err(|e| anyhow!("{shown} cannot be opened: {e}"))?;
    let result = async {
        let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| anyhow!("{shown} is damaged: {e}"))?;
        if report != ["ok"] {
            bail!(
                "{shown} is damaged: {}",
                report.first().map_or("integrity check failed", String::as_str)
            );
        }
        let has_migrations: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(|e| anyhow!("{shown} is damaged: {e}"))?;
        if !has_migrations {
            bail!("{shown} is not a bsc database (no migrations table)");
        }
        let applied = sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| anyhow!("{shown} is not a bsc database: {e}"))?;
        let mut has_core = false;
        for row in &applied {
            let version: i64 = row.try_get("version")?;
            let checksum: Vec<u8> = row.try_get("checksum")?;
            let success: bool = row.try_get("success")?;
            let known = layers::store::MIGRATOR
                .iter()
                .find(|m| m.version == version);
            match known {
                Some(m) if *m.checksum == *checksum && success => has_core |= version == 1,
                Some(_) => bail!(
                    "{shown} is not a bsc database this version can restore (migration {version} differs or failed)"
                ),
                None => bail!(
                    "{shown} comes from a newer bsc (migration {version} is unknown here)"
                ),
            }
        }
        if !has_core {
            bail!("{shown} is not a bsc database (no core schema)");
        }
        Ok(())
    }
    .await;
    let _ = conn.close().await;
    result
}

/// Fails if another process has the database open (a running server):
/// taking an exclusive lock on it needs every other connection closed.
async fn check_not_in_use(db: &Path) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::from_millis(200));
    let in_use = |e: sqlx::Error| {
        let busy = e
            .as_database_error()
            .and_then(|d| d.code())
            .and_then(|c| c.parse::<i32>().ok())
            // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
            .is_some_and(|c| matches!(c & 0xff, 5 | 6));
        if busy {
            anyhow!(
                "{} is in use (is `bsc serve` running?); stop the server first",
                db.display()
            )
        } else {
            anyhow!("{}: {e}", db.display())
        }
    };
    let mut conn = options.connect().await.map_err(in_use)?;
    let result = async {
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut conn)
            .await
            .map_err(in_use)?;
        // A write under the exclusive lock proves no one else holds the file.
        sqlx::query("PRAGMA user_version = 0")
            .execute(&mut conn)
            .await
            .map_err(in_use)?;
        sqlx::query("ROLLBACK").execute(&mut conn).await?;
        anyhow::Ok(())
    }
    .await;
    let _ = conn.close().await;
    result
}

/// `bsc restore FILE`: replaces the database with a checked backup.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let target = database_file(&args.db.database)?;
    check_backup(&args.file).await?;
    if target.exists() {
        check_not_in_use(&target).await?;
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", target.display()))?
        .to_string_lossy()
        .into_owned();
    let temp = dir.join(format!(".{name}.restore-{}", std::process::id()));
    let copied = (|| -> std::io::Result<()> {
        std::fs::copy(&args.file, &temp)?;
        File::open(&temp)?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&temp);
        bail!("copying {} to {}: {e}", args.file.display(), temp.display());
    }
    // The old database's WAL must not be applied to the restored file.
    for suffix in ["-wal", "-shm", "-journal"] {
        let stale = dir.join(format!("{name}{suffix}"));
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                bail!("removing {}: {e}", stale.display());
            }
        }
    }
    if let Err(e) = std::fs::rename(&temp, &target) {
        let _ = std::fs::remove_file(&temp);
        bail!("replacing {}: {e}", target.display());
    }
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    // Brings an older backup's schema up to date, and records the restore.
    let store = Store::open(&args.db.database).await?;
    let recorded = audit::record(
        store.pool(),
        &audit::Entry {
            action: "restore",
            detail: Some(serde_json::json!({"file": args.file.display().to_string()})),
            ..audit::Entry::default()
        },
    )
    .await;
    store.close().await;
    recorded.map_err(plain)?;
    println!("restored {} from {}", target.display(), args.file.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://bsc:s3cret@db.badung.go.id:5432/bsc?sslmode=require"),
            "postgres://bsc:***@db.badung.go.id:5432/bsc?sslmode=require"
        );
        assert_eq!(redact("postgres://bsc@db/bsc"), "postgres://bsc@db/bsc");
        assert_eq!(redact("sqlite://bsc.db"), "sqlite://bsc.db");
        assert_eq!(redact("bsc.db"), "bsc.db");
    }
}
