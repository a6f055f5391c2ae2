//! The server's own backups (`--backup-dir`): taken on a schedule and from
//! the admin page, one at a time, each checked after writing (see
//! [`layers::store::backup`]), the oldest pruned, the last success shown in
//! `/metrics`, and every one recorded in the audit log, by `scheduler` or
//! by the admin who asked.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use layers::Store;
use layers::model::access::Actor;
use layers::store::audit;
use layers::store::backup::{self, BackupError, BackupFile, Taken};
use layers::store::{Backend, audit::Entry};

use crate::config::BackupConfig;
use crate::metrics::Metrics;

/// Why no backup was taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TakeError {
    /// The server runs without `--backup-dir`.
    #[error("no backup folder is configured (--backup-dir)")]
    NotConfigured,
    /// Another backup is being taken.
    #[error("a backup is being taken")]
    Busy,
    /// Writing or checking the backup failed.
    #[error(transparent)]
    Failed(#[from] BackupError),
}

/// The backups of one server: settings, the one-at-a-time lock and the
/// last success.
pub struct Backups {
    config: BackupConfig,
    running: tokio::sync::Mutex<()>,
    last: Mutex<Option<BackupFile>>,
    metrics: Arc<Metrics>,
}

impl Backups {
    /// The backups under `config`; the newest backup already in the folder
    /// counts as the last success (in the metrics too).
    pub fn new(config: BackupConfig, metrics: Arc<Metrics>) -> Backups {
        let last = config
            .dir
            .as_deref()
            .and_then(|dir| backup::list(dir).ok())
            .and_then(|l| l.into_iter().next());
        if let Some(b) = &last {
            metrics.backup_succeeded(b.created_unix, b.bytes);
        }
        Backups {
            config,
            running: tokio::sync::Mutex::new(()),
            last: Mutex::new(last),
            metrics,
        }
    }

    /// Holds the one-at-a-time lock as a backup being taken does, if no
    /// backup is being taken: while it is held, [`Backups::take`] answers
    /// [`TakeError::Busy`] (for work on the folder by hand, and tests).
    pub fn try_hold(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        self.running.try_lock().ok()
    }

    /// The settings.
    pub fn config(&self) -> &BackupConfig {
        &self.config
    }

    /// The folder, when backups are configured.
    pub fn dir(&self) -> Option<&Path> {
        self.config.dir.as_deref()
    }

    /// The backups in the folder, newest first (none without a folder).
    pub fn list(&self) -> Result<Vec<BackupFile>, BackupError> {
        self.dir().map_or_else(|| Ok(Vec::new()), backup::list)
    }

    /// The last backup taken and checked (by this server, or found in the
    /// folder when it started).
    pub fn last_success(&self) -> Option<BackupFile> {
        self.last.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Takes a backup now, as `by` (an admin; `None`: the scheduler):
    /// writes and checks it, prunes the folder to the newest
    /// `--backup-keep`, and records it in the metrics and the audit log.
    /// A failure is logged and counted, never more.
    pub async fn take(&self, store: &Store, by: Option<Actor<'_>>) -> Result<Taken, TakeError> {
        let dir = self.dir().ok_or(TakeError::NotConfigured)?;
        let _one = self.running.try_lock().map_err(|_| TakeError::Busy)?;
        let taken = match backup::take(store, dir).await {
            Ok(t) => t,
            Err(e) => {
                self.metrics.backup_failed();
                tracing::error!(error = %e, dir = %dir.display(), "backup failed; the next one is due in --backup-every");
                return Err(e.into());
            }
        };
        let file = &taken.file;
        self.metrics.backup_succeeded(file.created_unix, file.bytes);
        if let Ok(mut last) = self.last.lock() {
            *last = Some(file.clone());
        }
        tracing::info!(
            file = %dir.join(&file.name).display(),
            bytes = file.bytes,
            tables = taken.counts.len(),
            rows = taken.counts.values().sum::<i64>(),
            ms = taken.elapsed.as_millis() as u64,
            "backup taken and checked"
        );
        match backup::prune(dir, self.config.keep) {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(removed = ?removed, keep = self.config.keep, "old backups deleted");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deleting old backups failed"),
        }
        let detail = serde_json::json!({
            "file": file.name,
            "bytes": file.bytes,
            "ms": taken.elapsed.as_millis() as u64,
        });
        let recorded = match by {
            Some(actor) => {
                let entry = Entry {
                    detail: Some(detail),
                    ..Entry::by(actor, "backup")
                };
                audit::record(store.pool(), &entry).await
            }
            None => {
                let entry = Entry {
                    action: "backup",
                    detail: Some(detail),
                    ..Entry::default()
                };
                audit::record_system(store.pool(), audit::SCHEDULER_ACTOR, &entry).await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "recording the backup in the audit log failed");
        }
        Ok(taken)
    }

    /// Takes a backup every `--backup-every`, forever: the first at once
    /// unless the newest backup is younger than that; after a failure, the
    /// next try is one interval later. Returns at once without a folder,
    /// and on PostgreSQL without `pg_dump` (saying so in the log).
    pub async fn run_schedule(&self, store: &Store) {
        let Some(dir) = self.dir() else {
            return;
        };
        if store.backend() == Backend::Postgres && !backup::pg_dump_available() {
            tracing::warn!(
                dir = %dir.display(),
                "no scheduled backups: pg_dump is not on the PATH, so backups of PostgreSQL are the database's job (see the README, \"Backups\")"
            );
            return;
        }
        match backup::remove_partials(dir) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                files = n,
                "removed half-written backups of a stopped server"
            ),
            Err(e) => tracing::warn!(error = %e, "could not look for half-written backups"),
        }
        tracing::info!(
            dir = %dir.display(),
            every_seconds = self.config.every.as_secs(),
            keep = self.config.keep,
            "scheduled backups"
        );
        let mut failed: Option<Instant> = None;
        loop {
            let last = self.last_success();
            let wait = match (failed, &last) {
                (Some(at), _) => self.config.every.saturating_sub(at.elapsed()),
                (None, Some(last)) => {
                    let every = i64::try_from(self.config.every.as_secs()).unwrap_or(i64::MAX);
                    let due = last.created_unix.saturating_add(every);
                    // Never longer than an interval, even if the clock
                    // went back or a backup's name lies in the future.
                    Duration::from_secs(
                        u64::try_from(due - layers::clock::unix_seconds()).unwrap_or(0),
                    )
                    .min(self.config.every)
                }
                (None, None) => Duration::ZERO,
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
                // A backup taken from the page meanwhile moves the next one.
                if failed.is_none() && self.last_success() != last {
                    continue;
                }
            }
            match self.take(store, None).await {
                Ok(_) => failed = None,
                Err(TakeError::Busy) => tokio::time::sleep(Duration::from_secs(1)).await,
                Err(_) => failed = Some(Instant::now()),
            }
        }
    }
}
