//! The database: categories, agencies, layers, versions and features
//! through sqlx. SQLite (embedded, the default) lives here; the schema is in
//! `migrations/sqlite/` and is applied on open.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};

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

/// Rows per multi-row INSERT: 11 bound values each stays far below
/// SQLite's 32,766 variables per statement.
const INSERT_BATCH: usize = 1000;

/// Handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    /// Held by the one upload being written at a time: SQLite has one
    /// writer, and a second upload should queue here rather than fail.
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
    /// Opens (creating if needed) the database at `url` and brings its
    /// schema up to date. `url` is `sqlite://PATH`, `sqlite::memory:` or a
    /// plain file path.
    pub async fn open(url: &str) -> Result<Store> {
        let url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let in_memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists once per connection.
            .max_connections(if in_memory { 1 } else { 4 })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            uploads: Arc::default(),
        })
    }

    /// Begins a write transaction that takes SQLite's write lock at once
    /// (`BEGIN IMMEDIATE`), so that waiting for another writer goes through
    /// the busy timeout instead of failing when the first write comes.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
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
        let report: Option<Option<String>> =
            sqlx::query_scalar("SELECT report FROM layer_versions WHERE id = ?")
                .bind(version_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(fields_of(report.flatten().as_deref()))
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
        let rows = sqlx::query(
            "SELECT fid_json, geometry, properties, name, minx, miny, maxx, maxy
             FROM features WHERE version_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
        )
        .bind(version_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(feature_row).collect()
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
        let queued = self.uploads.clone().lock_owned().await;
        let mut tx = self.write().await?;
        if !(opts.mode == WriteMode::Replace && spec.category.is_empty()) {
            let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM categories WHERE id = ?")
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
                        deleted: false,
                    })?;
                }
                Some(upsert_agency(&mut tx, name).await?)
            }
        };
        match (&existing, opts.mode) {
            (Some(_), WriteMode::Create) => {
                return Err(Error::Conflict(format!(
                    "layer {:?} already exists; upload to /api/layers/{}/versions to replace it",
                    spec.id, spec.id
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
                        deleted: false,
                    })?;
                }
            }
        }
        if existing.is_none() {
            let title_id = spec.title_id.clone().unwrap_or_else(|| spec.id.clone());
            let title_en = spec.title_en.clone().unwrap_or_else(|| title_id.clone());
            sqlx::query(
                "INSERT INTO layers (id, category_id, title_id, title_en, agency_id, visibility, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
            )
            .bind(&spec.id)
            .bind(&spec.category)
            .bind(&title_id)
            .bind(&title_en)
            .bind(&agency_id)
            .bind(spec.visibility.unwrap_or(Visibility::Public).as_str())
            .execute(&mut *tx)
            .await?;
        } else {
            // Only what the caller named changes; an omitted visibility keeps
            // the old one so a re-import never makes an internal layer public.
            // The command line's import also brings a deleted layer back.
            sqlx::query(
                "UPDATE layers SET category_id = COALESCE(NULLIF(?, ''), category_id),
                        title_id = COALESCE(?, title_id),
                        title_en = COALESCE(?, title_en),
                        agency_id = COALESCE(?, agency_id),
                        visibility = COALESCE(?, visibility),
                        deleted_at = CASE WHEN ? THEN NULL ELSE deleted_at END
                 WHERE id = ?",
            )
            .bind(&spec.category)
            .bind(&spec.title_id)
            .bind(&spec.title_en)
            .bind(&agency_id)
            .bind(spec.visibility.map(Visibility::as_str))
            .bind(opts.mode == WriteMode::Upsert)
            .bind(&spec.id)
            .execute(&mut *tx)
            .await?;
        }
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM layer_versions WHERE layer_id = ?",
        )
        .bind(&spec.id)
        .fetch_one(&mut *tx)
        .await?;
        let version_id: i64 = sqlx::query_scalar(
            "INSERT INTO layer_versions (layer_id, version, status, feature_count, geometry_types, source_name, format, created_by, created_at)
             VALUES (?, ?, 'draft', 0, '', ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now')) RETURNING id",
        )
        .bind(&spec.id)
        .bind(version)
        .bind(&spec.source_name)
        .bind(opts.format)
        .bind(opts.actor.account.map(|a| a.name.as_str()).unwrap_or("cli"))
        .fetch_one(&mut *tx)
        .await?;
        Ok(VersionWriter {
            tx,
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
    tx: Transaction<'static, Sqlite>,
    _queued: tokio::sync::OwnedMutexGuard<()>,
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
        for chunk in features.chunks(INSERT_BATCH) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO features (version_id, seq, fid, fid_json, geometry, properties, name, minx, miny, maxx, maxy) ",
            );
            let first_seq = self.seq;
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, f)| {
                let bbox = f.bbox.map(|b| b.map(Some)).unwrap_or([None; 4]);
                b.push_bind(self.version_id)
                    .push_bind(first_seq + i as i64)
                    .push_bind(f.fid.as_str())
                    .push_bind(f.fid_json.as_str())
                    .push_bind(f.geometry.as_deref())
                    .push_bind(f.properties.as_str())
                    .push_bind(f.name.as_deref())
                    .push_bind(bbox[0])
                    .push_bind(bbox[1])
                    .push_bind(bbox[2])
                    .push_bind(bbox[3]);
            });
            qb.build().persistent(true).execute(&mut *self.tx).await?;
            self.seq += chunk.len() as i64;
        }
        Ok(())
    }

    async fn summarize(&mut self, status: &str, summary: &VersionSummaryIn) -> Result<()> {
        let b = summary
            .bbox
            .map(|b| b.to_array().map(Some))
            .unwrap_or([None; 4]);
        sqlx::query(
            "UPDATE layer_versions SET status = ?, feature_count = ?, geometry_types = ?,
                    minx = ?, miny = ?, maxx = ?, maxy = ?, report = ?
             WHERE id = ?",
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
        let before: Option<i64> =
            sqlx::query_scalar("SELECT current_version FROM layers WHERE id = ?")
                .bind(&self.layer_id)
                .fetch_one(&mut *self.tx)
                .await?;
        sqlx::query(
            "UPDATE layer_versions SET published_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
        )
        .bind(self.version_id)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE layers SET current_version = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?")
            .bind(self.version)
            .bind(&self.layer_id)
            .execute(&mut *self.tx)
            .await?;
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

async fn upsert_agency(tx: &mut Transaction<'static, Sqlite>, name: &str) -> Result<String> {
    let name = name.trim();
    let id = agency_slug(name);
    if id.is_empty() || name.len() > 200 {
        return Err(Error::BadRequest(format!(
            "agency name {name:?} must have 1-200 characters, some of them letters or digits"
        )));
    }
    sqlx::query(
        "INSERT INTO agencies (id, name, created_at) VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(name)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The `minx`..`maxy` columns of a row: an extent, or `None` when unset.
pub(crate) fn bbox_of(row: &sqlx::sqlite::SqliteRow) -> Result<Option<[f64; 4]>> {
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

fn feature_row(row: &sqlx::sqlite::SqliteRow) -> Result<FeatureRow> {
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
pub(crate) fn geometry_types_of(row: &sqlx::sqlite::SqliteRow) -> Result<Vec<String>> {
    let joined: String = row.try_get("geometry_types")?;
    Ok(joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

pub(crate) fn version_info(row: &sqlx::sqlite::SqliteRow) -> Result<VersionInfo> {
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
fn fields_of(report: Option<&str>) -> serde_json::Map<String, serde_json::Value> {
    #[derive(serde::Deserialize)]
    struct Schema {
        #[serde(default)]
        schema: Vec<Field>,
    }
    #[derive(serde::Deserialize)]
    struct Field {
        name: String,
        #[serde(rename = "type")]
        kind: String,
    }
    let Some(Ok(s)) = report.map(serde_json::from_str::<Schema>) else {
        return serde_json::Map::new();
    };
    s.schema
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

fn published_layer(row: &sqlx::sqlite::SqliteRow) -> Result<PublishedLayer> {
    Ok(PublishedLayer {
        meta: layer_meta_of(row)?,
        version: version_info(row)?,
    })
}

/// A layer's metadata from a row with the layer's columns (`layer_id`
/// being its id) and its agency's `agency_id` and `agency_name`.
pub(crate) fn layer_meta_of(row: &sqlx::sqlite::SqliteRow) -> Result<LayerMeta> {
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
