//! The database: categories, agencies, layers, versions and features
//! through sqlx, on SQLite (embedded, the default) or PostgreSQL with
//! PostGIS (several replicas on one database). Both run the same SQL through
//! sqlx's `Any` driver, with `$N` parameters, times bound as values
//! ([`crate::clock`]) and no dialect functions; only the feature columns
//! differ (PostGIS geometry and jsonb properties on PostgreSQL), and that
//! difference lives in [`features`]. The schemas are in `migrations/sqlite/`
//! and `migrations/postgres/` and are applied on open.
//!
//! This module holds the [`Store`] handle: the pool, opening and
//! migrating, and transactions. Each submodule adds the methods of one
//! part of the database: [`writer`] writes a new layer version,
//! [`versions`] lists versions and makes one current, [`draft_features`]
//! edits a draft feature by feature, [`features`] reads
//! what the catalog serves and inserts features, [`accounts`], [`photos`],
//! [`audit`] and [`changes`] keep users, photos, the audit log and change
//! notices, [`copy`] copies a whole database to another backend,
//! [`backup`] takes checked backups (`bsc backup`, the scheduler), and
//! [`rows`] decodes rows into [`crate::model`] types.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

use crate::error::Result;
use crate::model::Category;

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod changes;
pub mod copy;
pub mod draft_features;
pub mod features;
pub mod photos;
pub mod reports;
pub mod rows;
pub mod versions;
pub mod writer;

/// The SQLite schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The PostgreSQL schema migrations, embedded in the binary.
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A transaction on either backend.
pub(crate) type Tx = Transaction<'static, Any>;

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (one server process).
    Sqlite,
    /// PostgreSQL with PostGIS (any number of replicas).
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `postgres://` and `postgresql://`
    /// are PostgreSQL, anything else (`sqlite:…` or a file path) SQLite.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The PostgreSQL URL, for [`changes::follow`]'s own connection.
    postgres_url: Option<Arc<str>>,
    /// Held by the one upload being written at a time on SQLite, which has
    /// one writer: a second upload queues here rather than failing.
    /// PostgreSQL writes uploads concurrently.
    uploads: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    /// `url` is `postgres://…` (PostgreSQL 15+ with PostGIS 3, which the
    /// first migration enables), or `sqlite://PATH` (created if missing),
    /// `sqlite::memory:` or a plain file path.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url);
        let pool = match backend {
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    // A replica whose database is gone answers 503 soon
                    // instead of holding requests.
                    .acquire_timeout(Duration::from_secs(3))
                    .connect(url)
                    .await?
            }
            Backend::Sqlite => {
                let url = match url.strip_prefix("sqlite:") {
                    Some(rest) => format!("sqlite:{rest}"),
                    None => format!("sqlite://{url}"),
                };
                let in_memory = url.contains(":memory:");
                let url = if in_memory || url.contains('?') {
                    url
                } else {
                    format!("{url}?mode=rwc")
                };
                AnyPoolOptions::new()
                    // An in-memory database exists once per connection.
                    .max_connections(if in_memory { 1 } else { 4 })
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Executor;
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
        };
        match backend {
            Backend::Sqlite => MIGRATOR.run(&pool).await?,
            Backend::Postgres => PG_MIGRATOR.run(&pool).await?,
        }
        Ok(Store {
            pool,
            backend,
            postgres_url: (backend == Backend::Postgres).then(|| Arc::from(url)),
            uploads: Arc::default(),
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL when this is PostgreSQL.
    pub(crate) fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    /// Begins a write transaction. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so that waiting for another writer goes
    /// through the busy timeout instead of failing when the first write
    /// comes; PostgreSQL locks rows as they are written.
    pub(crate) async fn write(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Whether the database can answer a query.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes all connections, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The 14 BSC categories in display order.
    pub async fn categories(&self) -> Result<Vec<Category>> {
        Ok(sqlx::query_as::<_, Category>(
            "SELECT id, title_id, title_en, icon, color FROM categories ORDER BY sort_order",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many layers exist (deleted ones included).
    pub async fn layer_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM layers")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The connection pool, for callers that run their own queries or
    /// transactions (e.g. [`audit::record`] inside a write).
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }
}
