//! The version writer: a new version of a layer, written in one
//! transaction that checks the category and the caller's right to write,
//! creates the agency and the layer when needed, numbers the version, and
//! then takes features in batches until it is kept as a draft or
//! published.

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::ingest::ParsedFeature;
use crate::model::access::{Actor, Guard, Owner};
use crate::model::change::ChangeKind;
use crate::model::{LayerSpec, Visibility, agency_slug, check_slug};
use crate::store::changes::Change;
use crate::store::features::{FeatureRef, insert_features, nullable_floats, rename_features};
use crate::store::rows::owner_in;
use crate::store::versions::{apply_version_meta, next_version};
use crate::store::{Backend, Store, Tx, audit, changes};

impl Store {
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
        take_turn(self.backend, &mut tx, &spec.id).await?;
        check_category(&mut tx, spec, opts.mode).await?;
        let existing = owner_in(&mut tx, &spec.id).await?;
        let agency_id = agency(&mut tx, spec, opts.guard, existing.as_ref()).await?;
        check_owner(spec, opts, existing.as_ref())?;
        let meta = upsert_layer(&mut tx, spec, opts.mode, existing.is_some(), agency_id).await?;
        let (version, version_id) = number_version(&mut tx, spec, opts, &meta).await?;
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

/// On PostgreSQL, waits for this layer's other writers (on any replica):
/// they take turns, so two uploads never number their versions alike or
/// both create the layer. SQLite has one writer anyway.
async fn take_turn(backend: Backend, tx: &mut Tx, layer: &str) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(layer)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Checks that the category `spec` names is one of the seeded ones (a
/// replacement may name none, keeping the layer's); the error lists them.
async fn check_category(tx: &mut Tx, spec: &LayerSpec, mode: WriteMode) -> Result<()> {
    if mode == WriteMode::Replace && spec.category.is_empty() {
        return Ok(());
    }
    let known: Option<i64> = sqlx::query_scalar("SELECT 1 FROM categories WHERE id = $1")
        .bind(&spec.category)
        .fetch_optional(&mut **tx)
        .await?;
    if known.is_some() {
        return Ok(());
    }
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM categories ORDER BY sort_order")
        .fetch_all(&mut **tx)
        .await?;
    let (c, all) = (&spec.category, ids.join(", "));
    Err(Error::BadRequest(format!(
        "Kategori {c:?} tidak dikenal; pilih salah satu dari: {all}. / unknown category {c:?}; use one of: {all}"
    )))
}

/// The owner a new layer would have: `agency`, `spec`'s visibility (public
/// by default), nothing published.
fn new_owner(spec: &LayerSpec, agency: Option<String>) -> Owner {
    Owner {
        layer: spec.id.clone(),
        agency,
        visibility: spec.visibility.unwrap_or(Visibility::Public),
        published: false,
        deleted: false,
    }
}

/// The agency `spec` names, created if new; `None` when it names none. For
/// a new layer the guard first decides whether the caller may create a
/// layer for that agency.
async fn agency(
    tx: &mut Tx,
    spec: &LayerSpec,
    guard: Option<Guard<'_>>,
    existing: Option<&Owner>,
) -> Result<Option<String>> {
    let Some(name) = &spec.agency else {
        return Ok(None);
    };
    if let (Some(guard), None) = (guard, existing) {
        guard(&new_owner(spec, Some(agency_slug(name))))?;
    }
    Ok(Some(upsert_agency(tx, name).await?))
}

/// Checks the write against the layer as it is: `Create` needs a free id,
/// `Replace` an existing layer, and the guard decides on the existing
/// owner (or on a new layer without an agency).
fn check_owner(spec: &LayerSpec, opts: &WriteOptions<'_>, existing: Option<&Owner>) -> Result<()> {
    match (existing, opts.mode) {
        (Some(_), WriteMode::Create) => {
            // The same words for every taken id, whether or not the
            // caller may see the layer that holds it.
            let id = &spec.id;
            Err(Error::Conflict(format!(
                "Id lapisan {id:?} tidak tersedia; pilih id lain (untuk mengganti lapisan yang Anda kelola, unggah ke /api/layers/ID/versions). / The layer id {id:?} is not available; choose another id (to replace a layer you manage, upload to /api/layers/ID/versions)."
            )))
        }
        (None, WriteMode::Replace) => {
            Err(Error::NotFound(crate::store::versions::no_layer(&spec.id)))
        }
        (Some(owner), _) => match opts.guard {
            Some(guard) => guard(owner),
            None => Ok(()),
        },
        (None, _) => match (opts.guard, &spec.agency) {
            (Some(guard), None) => guard(&new_owner(spec, None)),
            _ => Ok(()),
        },
    }
}

/// Writes a new layer's row, or for an existing one (with `Upsert`) brings
/// it back if deleted, and returns the metadata the new version carries.
///
/// The metadata this upload names belongs to its version (see
/// [`apply_version_meta`]): an existing layer's row changes only when the
/// version becomes current. A new layer's row is written now with the same
/// values, but nothing serves a layer before its first publish.
async fn upsert_layer(
    tx: &mut Tx,
    spec: &LayerSpec,
    mode: WriteMode,
    exists: bool,
    agency_id: Option<String>,
) -> Result<VersionMeta> {
    let named = VersionMeta {
        category: (!spec.category.is_empty()).then(|| spec.category.clone()),
        title_id: spec.title_id.clone(),
        title_en: spec.title_en.clone(),
        agency_id,
        visibility: spec.visibility.map(|v| v.as_str().to_owned()),
        about: spec
            .about
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Corrupt(e.to_string()))?,
        style: spec
            .style
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Corrupt(e.to_string()))?,
    };
    if exists {
        if mode == WriteMode::Upsert {
            // The command line's import also brings a deleted layer back.
            sqlx::query("UPDATE layers SET deleted_at = NULL WHERE id = $1")
                .bind(&spec.id)
                .execute(&mut **tx)
                .await?;
        }
        return Ok(named);
    }
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
        "INSERT INTO layers (id, category_id, title_id, title_en, agency_id, visibility, about, style, created_at, updated_at)
         VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $1, $1)",
    )
    .bind(crate::clock::now())
    .bind(&spec.id)
    .bind(&meta.category)
    .bind(&meta.title_id)
    .bind(&meta.title_en)
    .bind(&meta.agency_id)
    .bind(&meta.visibility)
    .bind(&meta.about)
    .bind(&meta.style)
    .execute(&mut **tx)
    .await?;
    Ok(meta)
}

/// Numbers the new version (one more than the layer's highest) and writes
/// its row as an empty draft carrying `meta`; returns its number and row id.
async fn number_version(
    tx: &mut Tx,
    spec: &LayerSpec,
    opts: &WriteOptions<'_>,
    meta: &VersionMeta,
) -> Result<(i64, i64)> {
    let version = next_version(tx, &spec.id).await?;
    let version_id: i64 = sqlx::query_scalar(
        "INSERT INTO layer_versions (layer_id, version, status, feature_count, geometry_types, source_name, format, created_by, created_at,
                                     meta_category_id, meta_title_id, meta_title_en, meta_agency_id, meta_visibility, meta_about, meta_style)
         VALUES ($2, $3, 'draft', 0, '', $4, $5, $6, $1, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(crate::clock::now())
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
    .bind(&meta.about)
    .bind(&meta.style)
    .fetch_one(&mut **tx)
    .await?;
    Ok((version, version_id))
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
    /// The property the features' names come from, as the uploader chose
    /// it; `None` detects it from the schema (see
    /// [`name_field`](crate::ingest::name_field)).
    pub name_field: Option<&'a str>,
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

    /// Records `field` as the version's name field; with `recompute`, the
    /// names of the features written so far are first recomputed from it
    /// (when they did not follow it while reading).
    pub async fn name_features(&mut self, field: Option<&str>, recompute: bool) -> Result<()> {
        if recompute {
            rename_features(self.backend, &mut self.tx, self.version_id, field).await?;
        }
        sqlx::query("UPDATE layer_versions SET name_field = $1 WHERE id = $2")
            .bind(field)
            .bind(self.version_id)
            .execute(&mut *self.tx)
            .await?;
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
        audit::record(
            &mut *self.tx,
            &audit::Entry {
                layer: Some(&self.layer_id),
                to_version: Some(self.version),
                ..audit::Entry::by(
                    actor,
                    if rejected {
                        "upload_rejected"
                    } else {
                        "upload"
                    },
                )
            },
        )
        .await?;
        changes::announce(
            self.backend,
            &mut self.tx,
            Change::layer(ChangeKind::Draft, &self.layer_id, Some(self.version)),
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
        let was = owner_in(&mut self.tx, &self.layer_id).await?;
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
                layer: Some(&self.layer_id),
                from_version: before,
                to_version: Some(self.version),
                ..audit::Entry::by(actor, "import")
            },
        )
        .await?;
        changes::announce(
            self.backend,
            &mut self.tx,
            Change::Layer {
                kind: ChangeKind::Publish,
                layer: &self.layer_id,
                version: Some(self.version),
                was: was.as_ref(),
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
    /// [`crate::model::about::LayerAbout`] as JSON.
    about: Option<String>,
    /// [`crate::model::style::LayerStyle`] as JSON.
    style: Option<String>,
}

/// Creates the agency called `name` unless its slug exists; returns the slug.
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
