//! Backups of the database, checked after writing: what `bsc backup` and
//! the server's backup scheduler (`bsc serve --backup-dir`) share.
//!
//! On SQLite a backup is a `VACUUM INTO` copy, a consistent snapshot taken
//! while the server keeps serving and writing. It is written under a
//! temporary name (`.bsc-….db.partial`) beside its final place, then
//! checked: `PRAGMA integrity_check` must say `ok` and every table of the
//! copy must hold as many rows as the same table of the database held at
//! the moment of the snapshot (see [`write_sqlite`] for how that moment is
//! pinned down). Only then is it renamed to `bsc-YYYYMMDDTHHMMSSZ.db`, so
//! every file with a backup's name in the folder has passed the checks.
//! Photos are rows of the `photos` table, so they are inside the copy.
//!
//! On PostgreSQL a backup is a `pg_dump --format=custom` archive
//! (`bsc-….dump`), checked with `pg_restore --list`: it must be readable
//! and hold the data of every table of the database.
//!
//! [`list`] and [`prune`] only ever touch files whose whole name is a
//! backup's name ([`parse_name`]); names are made here, never taken from
//! a request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::store::{Backend, Store};

/// What a backup's name starts with.
pub const PREFIX: &str = "bsc-";

/// Rows per table, by table name.
pub type Counts = BTreeMap<String, i64>;

/// Why a backup failed. Nothing is left under a backup's name when it does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The database failed while copying or counting.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The copy failed `PRAGMA integrity_check`.
    #[error("the copy {} is damaged: {report}", path.display())]
    Damaged {
        /// The copy.
        path: PathBuf,
        /// The first line of the integrity check's report.
        report: String,
    },
    /// A table of the copy holds a different number of rows than the
    /// database held at the snapshot (or is missing from one of them).
    #[error(
        "the copy does not match the database: table {table} has {copy:?} rows in the copy, {live:?} in the database"
    )]
    Counts {
        /// The table.
        table: String,
        /// Rows in the database (`None`: no such table).
        live: Option<i64>,
        /// Rows in the copy (`None`: no such table).
        copy: Option<i64>,
    },
    /// `pg_dump` or `pg_restore` failed or could not be run.
    #[error("{tool}: {detail}")]
    Tool {
        /// `pg_dump` or `pg_restore`.
        tool: &'static str,
        /// What went wrong (the end of its error output).
        detail: String,
    },
    /// A path the database cannot be given (not UTF-8).
    #[error("{}: the path must be UTF-8", .0.display())]
    Path(PathBuf),
    /// The database is PostgreSQL and `pg_dump` is not on the `PATH`.
    #[error(
        "backups of PostgreSQL need pg_dump on the PATH; otherwise they are the database's job (see the README)"
    )]
    NoPgDump,
}

/// Result alias of this module.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A backup in a backup folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupFile {
    /// Its file name, `bsc-YYYYMMDDTHHMMSSZ.db` (or `.dump`).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// When it was taken (from its name), RFC 3339 to the second.
    pub created_at: String,
    /// When it was taken, in seconds since 1970.
    #[serde(skip)]
    pub created_unix: i64,
}

/// A backup just taken, with what was checked.
#[derive(Debug, Clone)]
pub struct Taken {
    /// The file.
    pub file: BackupFile,
    /// Rows per table, as checked in the copy (empty for PostgreSQL, whose
    /// archive is checked by its table of contents).
    pub counts: Counts,
    /// How long taking and checking it took.
    pub elapsed: Duration,
}

/// The file name of a backup taken at `unix` seconds, with extension
/// `ext` (`db` or `dump`): `bsc-20261201T081000Z.db`.
pub fn file_name(unix: i64, ext: &str) -> String {
    let t = Timestamp::from_second(unix).unwrap_or(Timestamp::UNIX_EPOCH);
    format!("{PREFIX}{}.{ext}", t.strftime("%Y%m%dT%H%M%SZ"))
}

/// The time (seconds since 1970) a backup's name says it was taken, when
/// `name` is exactly a backup's name: `bsc-`, 8 digits, `T`, 6 digits,
/// `Z`, and `.db` or `.dump`, naming a real UTC time. Anything else is
/// `None`.
pub fn parse_name(name: &str) -> Option<i64> {
    let rest = name.strip_prefix(PREFIX)?;
    let stamp = rest
        .strip_suffix(".db")
        .or_else(|| rest.strip_suffix(".dump"))?;
    let b = stamp.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || !digits(0..8) || b[8] != b'T' || !digits(9..15) || b[15] != b'Z' {
        return None;
    }
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    text.parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// The backups in `dir`, newest first: regular files whose whole name is a
/// backup's name. A folder that does not exist holds none.
pub fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some(created_unix) = parse_name(&name) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        out.push(BackupFile {
            created_at: crate::clock::format_seconds(created_unix),
            name,
            bytes: meta.len(),
            created_unix,
        });
    }
    out.sort_by(|a, b| {
        b.created_unix
            .cmp(&a.created_unix)
            .then(b.name.cmp(&a.name))
    });
    Ok(out)
}

/// The backup named `name` in `dir`, if `name` is exactly a backup's name
/// and that file exists.
pub fn find(dir: &Path, name: &str) -> Result<Option<(PathBuf, BackupFile)>> {
    if parse_name(name).is_none() {
        return Ok(None);
    }
    Ok(list(dir)?
        .into_iter()
        .find(|b| b.name == name)
        .map(|b| (dir.join(&b.name), b)))
}

/// Deletes all but the `keep` newest backups in `dir` (at least one is
/// always kept); returns the names deleted. Only files with a backup's
/// name are ever deleted.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for old in list(dir)?.into_iter().skip(keep.max(1)) {
        let path = dir.join(&old.name);
        std::fs::remove_file(&path).map_err(io(&path))?;
        removed.push(old.name);
    }
    Ok(removed)
}

/// Deletes what a stopped process left half written in `dir`: files named
/// `.{backup name}.partial`. Returns how many.
pub fn remove_partials(dir: &Path) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut n = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let partial = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".partial"))
            .is_some_and(|n| parse_name(n).is_some());
        if partial {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(io(&path))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Whether `pg_dump` (and so PostgreSQL backups) can be run: it is a file
/// in one of the `PATH`'s folders.
pub fn pg_dump_available() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("pg_dump").is_file()))
}

/// Takes a backup of `store` into `dir` (created if missing) under a new
/// backup name, checks it, and returns it. Two backups are never taken in
/// the same second: when the name is taken, this waits for the next one.
pub async fn take(store: &Store, dir: &Path) -> Result<Taken> {
    let started = Instant::now();
    if store.backend() == Backend::Postgres && !pg_dump_available() {
        return Err(BackupError::NoPgDump);
    }
    tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
    let ext = match store.backend() {
        Backend::Sqlite => "db",
        Backend::Postgres => "dump",
    };
    let (unix, name) = loop {
        let unix = crate::clock::unix_seconds();
        let name = file_name(unix, ext);
        if !dir.join(&name).exists() {
            break (unix, name);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let out = dir.join(&name);
    let counts = match store.backend() {
        Backend::Sqlite => write_sqlite(store, &out).await?,
        Backend::Postgres => {
            dump_postgres(store, &out).await?;
            Counts::new()
        }
    };
    let bytes = std::fs::metadata(&out).map_err(io(&out))?.len();
    Ok(Taken {
        file: BackupFile {
            name,
            bytes,
            created_at: crate::clock::format_seconds(unix),
            created_unix: unix,
        },
        counts,
        elapsed: started.elapsed(),
    })
}

/// The temporary name a backup is written under before it is checked.
fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.partial"))
}

/// Writes a checked copy of the SQLite database of `store` to `out`
/// (which must not exist), and returns the rows per table it holds.
///
/// The copy is written to a temporary name beside `out`, checked, synced
/// and renamed to `out`; when anything fails, nothing is left behind.
///
/// **Consistency.** `VACUUM INTO` reads the database in one read
/// transaction, so the copy is a snapshot; but SQLite refuses to run it
/// inside a transaction of ours, so the rows per table cannot be counted in
/// the same transaction. Instead, on one connection: `PRAGMA data_version`
/// is read, the tables are counted (one read transaction), `VACUUM INTO`
/// runs, and `data_version` is read again. It changes whenever another
/// connection commits, so when it did not change, no write happened from
/// before the counts until after the copy: both saw the same database and
/// the copy's counts must equal them exactly. When writes did happen in
/// between, the copy is thrown away and taken again; the third retry holds
/// the write lock (writers wait, readers do not) so it cannot be
/// overtaken.
pub async fn write_sqlite(store: &Store, out: &Path) -> Result<Counts> {
    if out.exists() {
        return Err(io(out)(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "exists; a backup never overwrites a file",
        )));
    }
    let temp = partial_path(out);
    let result = async {
        let counts = snapshot_sqlite(store, &temp).await?;
        verify_sqlite(&temp, &counts).await?;
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(io(&temp))?;
        std::fs::rename(&temp, out).map_err(io(out))?;
        if let Some(dir) = out.parent()
            && let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
        {
            let _ = d.sync_all();
        }
        Ok(counts)
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Tries (without the write lock) before the last attempt holds it.
const UNLOCKED_ATTEMPTS: usize = 3;

/// `VACUUM INTO temp` with the rows per table of the same snapshot (see
/// [`write_sqlite`]).
async fn snapshot_sqlite(store: &Store, temp: &Path) -> Result<Counts> {
    let target = temp
        .to_str()
        .ok_or_else(|| BackupError::Path(temp.to_path_buf()))?;
    for attempt in 0..=UNLOCKED_ATTEMPTS {
        let _ = std::fs::remove_file(temp);
        // The last attempt holds the write lock: nobody can commit.
        let lock = if attempt == UNLOCKED_ATTEMPTS {
            Some(store.write().await.map_err(database)?)
        } else {
            None
        };
        let mut conn = store.pool().acquire().await?;
        let before: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await?;
        let counts = {
            let mut tx = conn.begin().await?;
            let counts = count_live(&mut tx).await?;
            tx.commit().await?;
            counts
        };
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&mut *conn)
            .await?;
        let after: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await?;
        drop(conn);
        if let Some(tx) = lock {
            tx.rollback().await?;
        }
        if before == after {
            return Ok(counts);
        }
        tracing::debug!(
            attempt,
            "the database changed while backing up; taking it again"
        );
    }
    Err(BackupError::Database(sqlx::Error::Protocol(
        "the database kept changing while it was copied".into(),
    )))
}

fn database(e: crate::Error) -> BackupError {
    match e {
        crate::Error::Database(e) => BackupError::Database(e),
        other => BackupError::Database(sqlx::Error::Protocol(other.to_string())),
    }
}

/// The tables whose rows are counted: all but SQLite's own `sqlite_*`.
const TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";

/// `SELECT COUNT(*)` of `table`, a name from the database's own
/// catalogue, quoted.
fn count_sql(table: &str) -> String {
    format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""))
}

/// Rows of every table of the database, through the store's connection.
async fn count_live(conn: &mut sqlx::AnyConnection) -> Result<Counts> {
    let tables: Vec<String> = sqlx::query_scalar(TABLES).fetch_all(&mut *conn).await?;
    let mut counts = Counts::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&count_sql(&table))
            .fetch_one(&mut *conn)
            .await?;
        counts.insert(table, n);
    }
    Ok(counts)
}

/// Rows of every table of a copy.
async fn count_copy(conn: &mut sqlx::SqliteConnection) -> Result<Counts> {
    let tables: Vec<String> = sqlx::query_scalar(TABLES).fetch_all(&mut *conn).await?;
    let mut counts = Counts::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&count_sql(&table))
            .fetch_one(&mut *conn)
            .await?;
        counts.insert(table, n);
    }
    Ok(counts)
}

/// Checks the SQLite file `file`: `PRAGMA integrity_check` says `ok`, and
/// it has exactly the tables of `expected` with as many rows each.
pub async fn verify_sqlite(file: &Path, expected: &Counts) -> Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await?;
    let result = async {
        let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await?;
        if report != ["ok"] {
            return Err(BackupError::Damaged {
                path: file.to_path_buf(),
                report: report
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "no report".to_owned()),
            });
        }
        let copy = count_copy(&mut conn).await?;
        compare(expected, &copy)
    }
    .await;
    let _ = conn.close().await;
    result
}

/// The first table whose rows differ between `live` and `copy`.
fn compare(live: &Counts, copy: &Counts) -> Result<()> {
    for table in live.keys().chain(copy.keys()) {
        let (l, c) = (live.get(table).copied(), copy.get(table).copied());
        if l != c {
            return Err(BackupError::Counts {
                table: table.clone(),
                live: l,
                copy: c,
            });
        }
    }
    Ok(())
}

/// `pg_dump --format=custom` of `store` to `out` (without comments and
/// without the rows of PostGIS's `spatial_ref_sys`, so that the owner's
/// role can restore it into an empty database), checked with
/// `pg_restore --list`: the archive must be readable and hold the data of
/// every table in the `public` schema (PostGIS's `spatial_ref_sys` aside,
/// which the extension recreates). The password is passed in the
/// environment, never on the command line.
async fn dump_postgres(store: &Store, out: &Path) -> Result<()> {
    let url = store.postgres_url().unwrap_or_default().to_owned();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'",
    )
    .fetch_all(store.pool())
    .await?;
    let temp = partial_path(out);
    let (temp2, out2) = (temp.clone(), out.to_path_buf());
    let result = tokio::task::spawn_blocking(move || -> Result<()> {
        let (url, password) = split_password(&url);
        let mut dump = std::process::Command::new("pg_dump");
        // PostGIS's comment and its `spatial_ref_sys` rows belong to the
        // extension, which a restore recreates; left in, they are errors
        // for a restoring role that is not a superuser. bsc's schema has
        // no comments of its own.
        dump.arg("--format=custom")
            .arg("--no-comments")
            .arg("--exclude-table-data=public.spatial_ref_sys")
            .arg("--file")
            .arg(&temp2)
            .arg("--dbname")
            .arg(&url);
        if let Some(p) = password {
            dump.env("PGPASSWORD", p);
        }
        run("pg_dump", &mut dump)?;
        let toc = run(
            "pg_restore",
            std::process::Command::new("pg_restore")
                .arg("--list")
                .arg(&temp2),
        )?;
        for table in &tables {
            let needle = format!("TABLE DATA public {table} ");
            if !toc.lines().any(|l| l.contains(&needle)) {
                return Err(BackupError::Tool {
                    tool: "pg_restore",
                    detail: format!("the archive holds no data of table {table}"),
                });
            }
        }
        std::fs::rename(&temp2, &out2).map_err(io(&out2))?;
        Ok(())
    })
    .await
    .unwrap_or_else(|e| {
        Err(BackupError::Tool {
            tool: "pg_dump",
            detail: e.to_string(),
        })
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Runs `cmd`; its standard output, or its error output's last line.
fn run(tool: &'static str, cmd: &mut std::process::Command) -> Result<String> {
    let output = cmd.output().map_err(|e| BackupError::Tool {
        tool,
        detail: e.to_string(),
    })?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(BackupError::Tool {
            tool,
            detail: err
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("failed")
                .to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `postgres://user:secret@host/db` as `postgres://user@host/db` and the
/// password, percent-decoded.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_owned(), None);
    };
    (
        format!("{scheme}://{user}@{host}{path}"),
        Some(percent_decode(password)),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(hi), Some(lo)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_is_a_backup() {
        let name = file_name(1_795_000_000, "db");
        assert_eq!(name, "bsc-20261118T110640Z.db");
        assert_eq!(parse_name(&name), Some(1_795_000_000));
        assert_eq!(parse_name("bsc-20261118T110640Z.dump"), Some(1_795_000_000));
        for bad in [
            "bsc-20261118T110640Z.db.partial",
            ".bsc-20261118T110640Z.db",
            "bsc-20261318T110640Z.db",
            "bsc-2026111T8110640Z.db",
            "bsc-20261118T110640.db",
            "bsc-20261118T110640Z.sqlite",
            "bsc-20261118T110640Z.db/../x",
            "../bsc-20261118T110640Z.db",
            "bsc.db",
            "",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(
            split_password("postgres://bsc:s%40cret@db:5432/bsc?sslmode=require"),
            (
                "postgres://bsc@db:5432/bsc?sslmode=require".to_owned(),
                Some("s@cret".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://bsc@db/bsc"),
            ("postgres://bsc@db/bsc".to_owned(), None)
        );
    }

    #[test]
    fn pruning_keeps_the_newest_and_touches_only_backups() {
        let dir = std::env::temp_dir().join(format!("bsc-prune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for t in 0..4 {
            std::fs::write(dir.join(file_name(1_795_000_000 + t, "db")), b"x").unwrap();
        }
        std::fs::write(dir.join("bsc-notes.db"), b"x").unwrap();
        std::fs::write(dir.join("bsc.db"), b"x").unwrap();
        let partial = format!(".{}.partial", file_name(1_795_000_100, "db"));
        std::fs::write(dir.join(&partial), b"x").unwrap();
        let removed = prune(&dir, 2).unwrap();
        assert_eq!(
            removed,
            [
                file_name(1_795_000_001, "db"),
                file_name(1_795_000_000, "db")
            ]
        );
        let left: Vec<String> = list(&dir).unwrap().into_iter().map(|b| b.name).collect();
        assert_eq!(
            left,
            [
                file_name(1_795_000_003, "db"),
                file_name(1_795_000_002, "db")
            ]
        );
        assert_eq!(remove_partials(&dir).unwrap(), 1);
        assert!(dir.join("bsc-notes.db").exists() && dir.join("bsc.db").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
