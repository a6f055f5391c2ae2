//! The database: categories, agencies, layers, versions and features
//! through sqlx, on SQLite (embedded, the default) or PostgreSQL with
//! PostGIS (several replicas on one database). Both run the same SQL through
//! sqlx's `Any` driver, with `$N` parameters, times bound as values
//! ([`crate::clock`]) and no dialect functions; only the feature columns
//! differ (PostGIS geometry and jsonb properties on PostgreSQL), and that
//! difference lives in this module. The schemas are in `migrations/sqlite/`
//! and `migrations/postgres/` and are applied on open.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::audit;
use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::ingest::ParsedFeature;
use crate::model::{
    Agency, Category, LayerMeta, LayerSpec, VersionInfo, Visibility, agency_slug, check_slug,
};
use crate::versions::{Actor, Guard};

/// The SQLite schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The PostgreSQL schema migrations, embedded in the binary.
pub static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Rows per multi-row INSERT: 11 bound values each stays far below
/// SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
const INSERT_BATCH: usize = 1000;

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
    /// The PostgreSQL URL, for [`crate::changes::follow`]'s own connection.
    postgres_url: Option<Arc<str>>,
    /// Held by the one upload being written at a time on SQLite, which has
    /// one writer: a second upload queues here rather than failing.
    /// PostgreSQL writes uploads concurrently.
    uploads: Arc<tokio::sync::Mutex<()>>,
}

/// One stored feature as the index loads it.
#[derive(Debug, Clone)]
pub struct FeatureRow {
    /// Id as URLs name it.
    pub fid: String,
    /// Id as JSON.
    pub fid_json: String,
    /// Geometry object as JSON, if any.
    pub geometry: Option<String>,
    /// Properties object as JSON.
    pub properties: String,
    /// Display name, if any.
    pub name: Option<String>,
    /// Extent of the geometry, if any.
    pub bbox: Option<[f64; 4]>,
}

/// A published layer as the catalog loads it.
#[derive(Debug, Clone)]
pub struct PublishedLayer {
    /// What the layer is.
    pub meta: LayerMeta,
    /// Its current version.
    pub version: VersionInfo,
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

    /// Every layer that has a published version and is not deleted, with
    /// that version, in category order.
    pub async fn published_layers(&self) -> Result<Vec<PublishedLayer>> {
        let rows = sqlx::query(
            "SELECT l.id AS layer_id, l.category_id, l.title_id, l.title_en, l.visibility, l.updated_at,
                    a.id AS agency_id, a.name AS agency_name,
                    v.id, v.version, v.feature_count, v.geometry_types,
                    v.minx, v.miny, v.maxx, v.maxy, v.created_at, l.photos_rev
             FROM layers l
             JOIN categories c ON c.id = l.category_id
             JOIN layer_versions v ON v.layer_id = l.id AND v.version = l.current_version
             LEFT JOIN agencies a ON a.id = l.agency_id
             WHERE l.deleted_at IS NULL
             ORDER BY c.sort_order, l.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(published_layer).collect()
    }

    /// Property names and their TileJSON types (`String`, `Number`,
    /// `Boolean`) of the version with row id `version_id`, from its
    /// validation report; read when the version is loaded, not on every sync.
    pub async fn version_fields(
        &self,
        version_id: i64,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        Ok(fields_of(self.report_schema(version_id).await?))
    }

    /// The property schema (names in upload order, inferred types) of the
    /// version with row id `version_id`, from its validation report; empty
    /// when it has none.
    async fn report_schema(&self, version_id: i64) -> Result<Vec<SchemaField>> {
        #[derive(serde::Deserialize)]
        struct Report {
            #[serde(default)]
            schema: Vec<SchemaField>,
        }
        let report: Option<Option<String>> =
            sqlx::query_scalar("SELECT report FROM layer_versions WHERE id = $1")
                .bind(version_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(report
            .flatten()
            .and_then(|r| serde_json::from_str::<Report>(&r).ok())
            .map(|r| r.schema)
            .unwrap_or_default())
    }

    /// The features of one version with `from <= seq < to`, in source order.
    pub async fn feature_rows(
        &self,
        version_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<FeatureRow>> {
        // Few columns on purpose: sqlx copies every value of every row, and
        // at a million rows that copying is the cost of loading.
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT fid_json, geometry, properties, name, minx, miny, maxx, maxy
                 FROM features WHERE version_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq"
            }
            Backend::Postgres => {
                "SELECT fid_json, ST_AsBinary(geometry) AS geometry, properties::text AS properties,
                        name, minx, miny, maxx, maxy
                 FROM features WHERE version_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq"
            }
        };
        let rows = sqlx::query(sql)
            .bind(version_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        match self.backend {
            Backend::Sqlite => rows.iter().map(feature_row).collect(),
            Backend::Postgres => {
                let order = self.property_order(version_id).await?;
                rows.iter().map(|r| pg_feature_row(r, &order)).collect()
            }
        }
    }

    /// The property names of a version in the order of its upload (from its
    /// validation report), so PostgreSQL's jsonb, which keeps keys in its
    /// own order, gives back properties as they were written.
    async fn property_order(&self, version_id: i64) -> Result<Vec<String>> {
        let schema = self.report_schema(version_id).await?;
        Ok(schema.into_iter().map(|f| f.name).collect())
    }

    /// Starts writing a new version of the layer `spec` names, creating the
    /// layer if `opts.mode` allows. Nothing is visible until the writer
    /// finishes; dropping it rolls everything back. When `opts.guard` is
    /// set it decides, inside this transaction, whether the caller may
    /// write the layer (for a new layer: create it for `spec.agency`).
    pub async fn begin_version(
        &self,
        spec: &LayerSpec,
        opts: &WriteOptions<'_>,
    ) -> Result<VersionWriter> {
        check_slug(&spec.id).map_err(Error::BadRequest)?;
        let queued = match self.backend {
            Backend::Sqlite => Some(self.uploads.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let mut tx = self.write().await?;
        if self.backend == Backend::Postgres {
            // Writers of one layer (on any replica) take turns, so two
            // uploads never number their versions alike or both create it.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(&spec.id)
                .execute(&mut *tx)
                .await?;
        }
        if !(opts.mode == WriteMode::Replace && spec.category.is_empty()) {
            let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM categories WHERE id = $1")
                .bind(&spec.category)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                let ids: Vec<String> =
                    sqlx::query_scalar("SELECT id FROM categories ORDER BY sort_order")
                        .fetch_all(&mut *tx)
                        .await?;
                return Err(Error::BadRequest(format!(
                    "unknown category {:?}; use one of: {}",
                    spec.category,
                    ids.join(", ")
                )));
            }
        }
        let existing = crate::versions::owner_in(&mut tx, &spec.id).await?;
        let agency_id = match &spec.agency {
            None => None,
            Some(name) => {
                let id = agency_slug(name);
                if let (Some(guard), None) = (opts.guard, &existing) {
                    guard(&crate::versions::Owner {
                        layer: spec.id.clone(),
                        agency: Some(id.clone()),
                        visibility: spec.visibility.unwrap_or(Visibility::Public),
                        published: false,
                        deleted: false,
                    })?;
                }
                Some(upsert_agency(&mut tx, name).await?)
            }
        };
        match (&existing, opts.mode) {
            (Some(_), WriteMode::Create) => {
                // The same words for every taken id, whether or not the
                // caller may see the layer that holds it.
                return Err(Error::Conflict(format!(
                    "the layer id {:?} is not available; choose another id (to replace a layer you manage, upload to /api/layers/ID/versions)",
                    spec.id
                )));
            }
            (None, WriteMode::Replace) => {
                return Err(Error::NotFound(format!("no layer {:?}", spec.id)));
            }
            (Some(owner), _) => {
                if let Some(guard) = opts.guard {
                    guard(owner)?;
                }
            }
            (None, _) => {
                if let (Some(guard), None) = (opts.guard, &spec.agency) {
                    guard(&crate::versions::Owner {
                        layer: spec.id.clone(),
                        agency: None,
                        visibility: spec.visibility.unwrap_or(Visibility::Public),
                        published: false,
                        deleted: false,
                    })?;
                }
            }
        }
        // The metadata this upload names belongs to its version (see
        // `apply_version_meta`): an existing layer's row changes only when
        // the version becomes current. A new layer's row is written now
        // with the same values, but nothing serves a layer before its first
        // publish.
        let named = VersionMeta {
            category: (!spec.category.is_empty()).then(|| spec.category.clone()),
            title_id: spec.title_id.clone(),
            title_en: spec.title_en.clone(),
            agency_id: agency_id.clone(),
            visibility: spec.visibility.map(|v| v.as_str().to_owned()),
        };
        let meta = if existing.is_none() {
            let title_id = spec.title_id.clone().unwrap_or_else(|| spec.id.clone());
            let meta = VersionMeta {
                title_en: Some(spec.title_en.clone().unwrap_or_else(|| title_id.clone())),
                title_id: Some(title_id),
                visibility: Some(
                    spec.visibility
                        .unwrap_or(Visibility::Public)
                        .as_str()
                        .to_owned(),
                ),
                ..named
            };
            sqlx::query(
                "INSERT INTO layers (id, category_id, title_id, title_en, agency_id, visibility, created_at, updated_at)
                 VALUES ($2, $3, $4, $5, $6, $7, $1, $1)",
            ).bind(crate::clock::now())
            .bind(&spec.id)
            .bind(&meta.category)
            .bind(&meta.title_id)
            .bind(&meta.title_en)
            .bind(&meta.agency_id)
            .bind(&meta.visibility)
            .execute(&mut *tx)
            .await?;
            meta
        } else {
            if opts.mode == WriteMode::Upsert {
                // The command line's import also brings a deleted layer back.
                sqlx::query("UPDATE layers SET deleted_at = NULL WHERE id = $1")
                    .bind(&spec.id)
                    .execute(&mut *tx)
                    .await?;
            }
            named
        };
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM layer_versions WHERE layer_id = $1",
        )
        .bind(&spec.id)
        .fetch_one(&mut *tx)
        .await?;
        let version_id: i64 = sqlx::query_scalar(
            "INSERT INTO layer_versions (layer_id, version, status, feature_count, geometry_types, source_name, format, created_by, created_at,
                                         meta_category_id, meta_title_id, meta_title_en, meta_agency_id, meta_visibility)
             VALUES ($2, $3, 'draft', 0, '', $4, $5, $6, $1, $7, $8, $9, $10, $11) RETURNING id",
        ).bind(crate::clock::now())
        .bind(&spec.id)
        .bind(version)
        .bind(&spec.source_name)
        .bind(opts.format)
        .bind(opts.actor.account.map(|a| a.name.as_str()).unwrap_or("cli"))
        .bind(&meta.category)
        .bind(&meta.title_id)
        .bind(&meta.title_en)
        .bind(&meta.agency_id)
        .bind(&meta.visibility)
        .fetch_one(&mut *tx)
        .await?;
        Ok(VersionWriter {
            tx,
            backend: self.backend,
            _queued: queued,
            layer_id: spec.id.clone(),
            version,
            version_id,
            seq: 0,
        })
    }
}

/// Whether a write may create the layer, replace it, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// A new layer: refused if the id exists.
    Create,
    /// A new version of an existing layer: refused if it does not exist.
    Replace,
    /// Either (the command line's `bsc import`); also restores a deleted layer.
    Upsert,
}

/// How [`Store::begin_version`] may write.
pub struct WriteOptions<'a> {
    /// Create, replace or either.
    pub mode: WriteMode,
    /// The ownership check run inside the transaction; `None` for the
    /// command line, which has the database file and so every right.
    pub guard: Option<Guard<'a>>,
    /// Who writes, for the version row and the audit log.
    pub actor: Actor<'a>,
    /// The format the input is read as (`geojson`, `shapefile`, …).
    pub format: &'a str,
}

/// Writes one new layer version inside a single transaction.
pub struct VersionWriter {
    tx: Tx,
    backend: Backend,
    _queued: Option<tokio::sync::OwnedMutexGuard<()>>,
    layer_id: String,
    version: i64,
    version_id: i64,
    seq: i64,
}

/// A version's summary, recorded when its writer finishes.
#[derive(Debug, Clone, Default)]
pub struct VersionSummaryIn {
    /// Geometry types present.
    pub geometry_types: Vec<String>,
    /// Extent.
    pub bbox: Option<Bbox>,
    /// The validation report as JSON.
    pub report: Option<String>,
}

impl VersionWriter {
    /// The version number being written.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Rolls everything back and waits until it is, so the next writer
    /// finds the database free.
    pub async fn abort(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Appends features in source order.
    pub async fn insert(&mut self, features: &[ParsedFeature]) -> Result<()> {
        let rows: Vec<_> = features.iter().map(FeatureRef::from).collect();
        insert_features(self.backend, &mut self.tx, self.version_id, self.seq, &rows).await?;
        self.seq += rows.len() as i64;
        Ok(())
    }

    async fn summarize(&mut self, status: &str, summary: &VersionSummaryIn) -> Result<()> {
        let b = nullable_floats(summary.bbox.map(|b| b.to_array()));
        sqlx::query(
            "UPDATE layer_versions SET status = $1, feature_count = $2, geometry_types = $3,
                    minx = NULLIF($4, 'NaN'), miny = NULLIF($5, 'NaN'), maxx = NULLIF($6, 'NaN'),
                    maxy = NULLIF($7, 'NaN'), report = $8
             WHERE id = $9",
        )
        .bind(status)
        .bind(self.seq)
        .bind(summary.geometry_types.join(","))
        .bind(b[0])
        .bind(b[1])
        .bind(b[2])
        .bind(b[3])
        .bind(&summary.report)
        .bind(self.version_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Keeps the version as a draft (or, with `rejected`, as a rejected
    /// upload holding only its report) and commits; what is served does
    /// not change.
    pub async fn finish_draft(
        mut self,
        summary: &VersionSummaryIn,
        rejected: bool,
        actor: Actor<'_>,
    ) -> Result<i64> {
        let status = if rejected { "rejected" } else { "draft" };
        self.summarize(status, summary).await?;
        crate::changes::announce(self.backend, &mut self.tx, &self.layer_id).await?;
        audit::record(
            &mut *self.tx,
            &audit::Entry {
                actor: actor.account,
                action: if rejected {
                    "upload_rejected"
                } else {
                    "upload"
                },
                client: actor.client,
                layer: Some(&self.layer_id),
                from_version: None,
                to_version: Some(self.version),
                detail: None,
            },
        )
        .await?;
        self.tx.commit().await?;
        Ok(self.version)
    }

    /// Records the version's summary, makes it the layer's current version
    /// and commits: readers of the database see the old version or the new
    /// one, never a mix.
    pub async fn publish(mut self, summary: &VersionSummaryIn, actor: Actor<'_>) -> Result<i64> {
        self.summarize("published", summary).await?;
        crate::changes::announce(self.backend, &mut self.tx, &self.layer_id).await?;
        let before: Option<i64> =
            sqlx::query_scalar("SELECT current_version FROM layers WHERE id = $1")
                .bind(&self.layer_id)
                .fetch_one(&mut *self.tx)
                .await?;
        sqlx::query("UPDATE layer_versions SET published_at = $1 WHERE id = $2")
            .bind(crate::clock::now())
            .bind(self.version_id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE layers SET current_version = $2, updated_at = $1 WHERE id = $3")
            .bind(crate::clock::now())
            .bind(self.version)
            .bind(&self.layer_id)
            .execute(&mut *self.tx)
            .await?;
        apply_version_meta(&mut self.tx, &self.layer_id, self.version).await?;
        audit::record(
            &mut *self.tx,
            &audit::Entry {
                actor: actor.account,
                action: "import",
                client: actor.client,
                layer: Some(&self.layer_id),
                from_version: before,
                to_version: Some(self.version),
                detail: None,
            },
        )
        .await?;
        self.tx.commit().await?;
        Ok(self.version)
    }
}

/// The layer metadata one version carries (`None`: as the layer had it).
struct VersionMeta {
    category: Option<String>,
    title_id: Option<String>,
    title_en: Option<String>,
    agency_id: Option<String>,
    visibility: Option<String>,
}

/// Makes the metadata version `version` of layer `id` carries the layer's
/// own, as the version becomes current (publish or rollback): fields the
/// upload left out keep the layer's values. The result is written back to
/// the version, so a later rollback to it restores exactly what was then
/// served. Runs inside the transaction that makes the version current, so
/// readers see the old metadata with the old features or the new with the
/// new.
pub(crate) async fn apply_version_meta(tx: &mut Tx, id: &str, version: i64) -> Result<()> {
    sqlx::query(
        "UPDATE layers SET
            category_id = COALESCE((SELECT meta_category_id FROM layer_versions WHERE layer_id = $1 AND version = $2), category_id),
            title_id = COALESCE((SELECT meta_title_id FROM layer_versions WHERE layer_id = $1 AND version = $2), title_id),
            title_en = COALESCE((SELECT meta_title_en FROM layer_versions WHERE layer_id = $1 AND version = $2), title_en),
            agency_id = COALESCE((SELECT meta_agency_id FROM layer_versions WHERE layer_id = $1 AND version = $2), agency_id),
            visibility = COALESCE((SELECT meta_visibility FROM layer_versions WHERE layer_id = $1 AND version = $2), visibility)
         WHERE id = $1",
    )
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE layer_versions SET
            meta_category_id = (SELECT category_id FROM layers WHERE id = $1),
            meta_title_id = (SELECT title_id FROM layers WHERE id = $1),
            meta_title_en = (SELECT title_en FROM layers WHERE id = $1),
            meta_agency_id = (SELECT agency_id FROM layers WHERE id = $1),
            meta_visibility = (SELECT visibility FROM layers WHERE id = $1)
         WHERE layer_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An optional extent as four floats to bind, NaN standing for "none",
/// with `NULLIF($n, 'NaN')` in the SQL. Binding a NULL float through sqlx's
/// `Any` driver declares it to PostgreSQL as a `float4` (sqlx 0.8.6 swaps
/// the two float types for NULLs), which breaks the cached statement for
/// every later `float8`; a NaN is always a `float8`, and SQLite stores a
/// NaN as NULL by itself.
pub(crate) fn nullable_floats(bbox: Option<[f64; 4]>) -> [f64; 4] {
    bbox.unwrap_or([f64::NAN; 4])
}

/// One feature to store, borrowed from an upload or from another database.
pub(crate) struct FeatureRef<'a> {
    pub(crate) fid: &'a str,
    pub(crate) fid_json: &'a str,
    pub(crate) geometry: Option<&'a str>,
    pub(crate) properties: &'a str,
    pub(crate) name: Option<&'a str>,
    pub(crate) bbox: Option<[f64; 4]>,
}

impl<'a> From<&'a ParsedFeature> for FeatureRef<'a> {
    fn from(f: &'a ParsedFeature) -> Self {
        FeatureRef {
            fid: &f.fid,
            fid_json: &f.fid_json,
            geometry: f.geometry.as_deref(),
            properties: &f.properties,
            name: f.name.as_deref(),
            bbox: f.bbox,
        }
    }
}

impl<'a> From<&'a FeatureRow> for FeatureRef<'a> {
    fn from(f: &'a FeatureRow) -> Self {
        FeatureRef {
            fid: &f.fid,
            fid_json: &f.fid_json,
            geometry: f.geometry.as_deref(),
            properties: &f.properties,
            name: f.name.as_deref(),
            bbox: f.bbox,
        }
    }
}

/// Stores `rows` as features `first_seq..` of the version with row id
/// `version_id`, in multi-row INSERTs.
pub(crate) async fn insert_features(
    backend: Backend,
    tx: &mut Tx,
    version_id: i64,
    first_seq: i64,
    rows: &[FeatureRef<'_>],
) -> Result<()> {
    let mut seq = first_seq;
    for chunk in rows.chunks(INSERT_BATCH) {
        let sql = insert_sql(backend, chunk.len());
        let mut q = sqlx::query(&sql);
        for f in chunk {
            q = q
                .bind(version_id)
                .bind(seq)
                .bind(f.fid)
                .bind(f.fid_json)
                .bind(f.geometry)
                .bind(f.properties)
                .bind(f.name);
            for v in nullable_floats(f.bbox) {
                q = q.bind(v);
            }
            seq += 1;
        }
        q.persistent(true).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The multi-row INSERT of `rows` features. SQLite gets anonymous `?`
/// parameters: it resolves each numbered or named one by a linear search,
/// which makes a statement of 11,000 of them a million times slower to
/// prepare. On PostgreSQL (`$N`) the geometry is read by PostGIS and the
/// properties as jsonb.
fn insert_sql(backend: Backend, rows: usize) -> String {
    const COLUMNS: &str = "INSERT INTO features (version_id, seq, fid, fid_json, geometry, properties, name, minx, miny, maxx, maxy) VALUES ";
    let mut sql = String::with_capacity(COLUMNS.len() + rows * 140);
    sql.push_str(COLUMNS);
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        match backend {
            Backend::Sqlite => sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            Backend::Postgres => {
                let p = |k: usize| row * 11 + k;
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ST_SetSRID(ST_GeomFromGeoJSON(${}), 4326), ${}::jsonb, ${}, \
                     NULLIF(${}, 'NaN'), NULLIF(${}, 'NaN'), NULLIF(${}, 'NaN'), NULLIF(${}, 'NaN'))",
                    p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11)
                ));
            }
        }
    }
    sql
}

async fn upsert_agency(tx: &mut Tx, name: &str) -> Result<String> {
    let name = name.trim();
    let id = agency_slug(name);
    if id.is_empty() || name.len() > 200 {
        return Err(Error::BadRequest(format!(
            "agency name {name:?} must have 1-200 characters, some of them letters or digits"
        )));
    }
    sqlx::query(
        "INSERT INTO agencies (id, name, created_at) VALUES ($2, $3, $1)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(crate::clock::now())
    .bind(&id)
    .bind(name)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The `minx`..`maxy` columns of a row: an extent, or `None` when unset.
pub(crate) fn bbox_of(row: &AnyRow) -> Result<Option<[f64; 4]>> {
    let v: [Option<f64>; 4] = [
        row.try_get("minx")?,
        row.try_get("miny")?,
        row.try_get("maxx")?,
        row.try_get("maxy")?,
    ];
    Ok(match v {
        [Some(a), Some(b), Some(c), Some(d)] => Some([a, b, c, d]),
        _ => None,
    })
}

/// A feature from PostgreSQL: WKB geometry written as the GeoJSON text
/// SQLite stores (the same writer as uploads), properties back in upload
/// order.
fn pg_feature_row(row: &AnyRow, order: &[String]) -> Result<FeatureRow> {
    let fid_json: String = row.try_get("fid_json")?;
    let wkb: Option<Vec<u8>> = row.try_get("geometry")?;
    let geometry = wkb
        .map(|wkb| crate::ingest::geometry::geojson_from_wkb(&wkb))
        .transpose()
        .map_err(|e| Error::Corrupt(format!("geometry of feature {fid_json}: {e}")))?
        .flatten();
    let properties: String = row.try_get("properties")?;
    Ok(FeatureRow {
        fid: fid_from_json(&fid_json)?,
        fid_json,
        geometry,
        properties: in_order(&properties, order)?,
        name: row.try_get("name")?,
        bbox: bbox_of(row)?,
    })
}

/// `properties` (a JSON object or `null`) with its keys in `order` first,
/// then any others as they come, as compact JSON.
fn in_order(properties: &str, order: &[String]) -> Result<String> {
    let value: serde_json::Value =
        serde_json::from_str(properties).map_err(|e| Error::Corrupt(format!("properties: {e}")))?;
    let serde_json::Value::Object(mut map) = value else {
        return Ok(value.to_string());
    };
    let mut out = serde_json::Map::with_capacity(map.len());
    for key in order {
        if let Some(v) = map.shift_remove(key.as_str()) {
            out.insert(key.clone(), v);
        }
    }
    out.extend(map);
    Ok(serde_json::Value::Object(out).to_string())
}

fn feature_row(row: &AnyRow) -> Result<FeatureRow> {
    let fid_json: String = row.try_get("fid_json")?;
    Ok(FeatureRow {
        fid: fid_from_json(&fid_json)?,
        fid_json,
        geometry: row.try_get("geometry")?,
        properties: row.try_get("properties")?,
        name: row.try_get("name")?,
        bbox: bbox_of(row)?,
    })
}

/// The URL form of a stored id: a JSON string unquoted, a number as written.
pub fn fid_from_json(json: &str) -> Result<String> {
    if json.starts_with('"') {
        serde_json::from_str(json).map_err(|e| Error::Corrupt(format!("feature id {json}: {e}")))
    } else {
        Ok(json.to_owned())
    }
}

/// A version as the index needs it, from a row with the version's columns
/// (`id` being the version's row id) and the layer's `photos_rev`.
/// The `geometry_types` column (comma-separated) as a list.
pub(crate) fn geometry_types_of(row: &AnyRow) -> Result<Vec<String>> {
    let joined: String = row.try_get("geometry_types")?;
    Ok(joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

pub(crate) fn version_info(row: &AnyRow) -> Result<VersionInfo> {
    Ok(VersionInfo {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        feature_count: row.try_get("feature_count")?,
        geometry_types: geometry_types_of(row)?,
        bbox: bbox_of(row)?.map(|[a, b, c, d]| Bbox::new(a, b, c, d)),
        created_at: row.try_get("created_at")?,
        photos_rev: row.try_get("photos_rev")?,
    })
}

/// TileJSON `fields` from a stored validation report's schema.
/// One property of a validation report's schema.
#[derive(serde::Deserialize)]
struct SchemaField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

fn fields_of(schema: Vec<SchemaField>) -> serde_json::Map<String, serde_json::Value> {
    schema
        .into_iter()
        .filter_map(|f| {
            let t = match f.kind.as_str() {
                "string" => "String",
                "integer" | "number" => "Number",
                "boolean" => "Boolean",
                // Arrays, objects and mixed columns have no MVT value type.
                _ => return None,
            };
            Some((f.name, serde_json::Value::from(t)))
        })
        .collect()
}

fn published_layer(row: &AnyRow) -> Result<PublishedLayer> {
    Ok(PublishedLayer {
        meta: layer_meta_of(row)?,
        version: version_info(row)?,
    })
}

/// A layer's metadata from a row with the layer's columns (`layer_id`
/// being its id) and its agency's `agency_id` and `agency_name`.
pub(crate) fn layer_meta_of(row: &AnyRow) -> Result<LayerMeta> {
    let visibility: String = row.try_get("visibility")?;
    let agency_id: Option<String> = row.try_get("agency_id")?;
    let agency_name: Option<String> = row.try_get("agency_name")?;
    Ok(LayerMeta {
        id: row.try_get("layer_id")?,
        category: row.try_get("category_id")?,
        title_id: row.try_get("title_id")?,
        title_en: row.try_get("title_en")?,
        agency: agency_id
            .zip(agency_name)
            .map(|(id, name)| Agency { id, name }),
        visibility: Visibility::from_str(&visibility).map_err(Error::Corrupt)?,
        updated_at: row.try_get("updated_at")?,
    })
}
