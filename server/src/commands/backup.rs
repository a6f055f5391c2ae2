//! `bsc backup` and `bsc restore`: consistent copies of the SQLite file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use layers::Store;
use layers::store::audit;
use sqlx::sqlite::{SqliteConnectOptions, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection, Row};

use super::terminal::plain;
use crate::cli::{BackupArgs, RestoreArgs};

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

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
/// the server runs, checked before it gets its name (integrity check, rows
/// per table; see [`layers::store::backup::write_sqlite`]).
pub async fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let db = database_file(&args.db.database)?;
    if !db.exists() {
        bail!("no database at {}", db.display());
    }
    let out = &args.file;
    if out.exists() {
        bail!("{} exists; refusing to overwrite it", out.display());
    }
    utf8(out)?;
    let store = Store::open(&args.db.database).await?;
    let result = async {
        let counts = layers::store::backup::write_sqlite(&store, out)
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
        .map_err(plain)?;
        anyhow::Ok(counts)
    }
    .await;
    store.close().await;
    let counts = result?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes; checked: integrity ok, {} tables, {} rows)",
        db.display(),
        out.display(),
        counts.len(),
        counts.values().sum::<i64>()
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
