//! The life of a layer's versions after upload: listing them, publishing a
//! draft, rolling back to an older version, hiding and restoring a layer.
//!
//! Every change runs in one transaction that first reads the layer's owner
//! and lets the caller's [`Guard`] decide, so an ownership check can never
//! be separated from the write it allows.

use std::str::FromStr;

use serde::Serialize;
use sqlx::Row;

use crate::audit;
use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::model::{LayerMeta, VersionInfo, Visibility};
use crate::store::{Store, bbox_of, geometry_types_of, layer_meta_of};

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Uploaded and valid, never published: seen by its agency and admins.
    Draft,
    /// Published at some time (the current one is the layer's `current_version`).
    Published,
    /// Uploaded with errors; kept with its report, holds no features.
    Rejected,
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Status::Draft),
            "published" => Ok(Status::Published),
            "rejected" => Ok(Status::Rejected),
            other => Err(Error::Corrupt(format!("unknown version status {other:?}"))),
        }
    }
}

/// The owner and state of a layer, as a [`Guard`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Layer id.
    pub layer: String,
    /// Owning agency slug, if any.
    pub agency: Option<String>,
    /// Who may see the published layer.
    pub visibility: Visibility,
    /// Whether a version of it is served (it has been published); a layer
    /// with drafts only is seen by its agency and admins alone.
    pub published: bool,
    /// Whether the layer is hidden (deleted).
    pub deleted: bool,
}

/// Decides, inside the write's transaction, whether the caller may change
/// a layer: `Err(NotFound)` for a layer they may not see, `Err(Forbidden)`
/// for one they may see but not change.
pub type Guard<'a> = &'a (dyn Fn(&Owner) -> Result<()> + Send + Sync);

/// Who is changing something, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The account, `None` for the command line.
    pub account: Option<&'a crate::accounts::Account>,
    /// The client's address.
    pub client: Option<&'a str>,
}

/// One version in a layer's history.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    /// Version number, from 1.
    pub version: i64,
    /// Draft, published or rejected.
    pub status: Status,
    /// Whether this is the version being served.
    pub current: bool,
    /// Features stored.
    pub feature_count: i64,
    /// Geometry types present.
    pub geometry_types: Vec<String>,
    /// Extent.
    pub bbox: Option<Bbox>,
    /// File name of the upload.
    pub source_name: Option<String>,
    /// Format it was read as.
    pub format: Option<String>,
    /// Who uploaded it.
    pub created_by: Option<String>,
    /// When it was uploaded.
    pub created_at: String,
    /// When it was last made current.
    pub published_at: Option<String>,
}

/// A layer as the people who manage it see it, published or not.
#[derive(Debug, Clone, Serialize)]
pub struct ManagedLayer {
    /// Layer id.
    pub id: String,
    /// Category id.
    pub category: String,
    /// Indonesian title.
    pub title_id: String,
    /// English title.
    pub title_en: String,
    /// Owning agency slug.
    pub agency: Option<String>,
    /// Who may see it once published.
    pub visibility: Visibility,
    /// The version being served, if any.
    pub current_version: Option<i64>,
    /// The newest version and its status.
    pub latest_version: Option<i64>,
    /// Status of the newest version.
    pub latest_status: Option<Status>,
    /// When the layer last changed.
    pub updated_at: String,
    /// When it was hidden, if it is.
    pub deleted_at: Option<String>,
}

const SUMMARY_COLUMNS: &str = "v.version, v.status, v.feature_count, v.geometry_types,
     v.minx, v.miny, v.maxx, v.maxy, v.source_name, v.format, v.created_by, v.created_at,
     v.published_at, l.current_version";

impl Store {
    /// The owner of layer `id`, if it exists.
    pub async fn owner(&self, id: &str) -> Result<Option<Owner>> {
        let mut conn = self.pool.acquire().await?;
        owner_in(&mut conn, id).await
    }

    /// What layer `id` is, published or not.
    pub async fn layer_meta(&self, id: &str) -> Result<Option<LayerMeta>> {
        let row = sqlx::query(
            "SELECT l.id AS layer_id, l.category_id, l.title_id, l.title_en, l.visibility, l.updated_at,
                    a.id AS agency_id, a.name AS agency_name
             FROM layers l LEFT JOIN agencies a ON a.id = l.agency_id WHERE l.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(layer_meta_of).transpose()
    }

    /// Every version of layer `id`, newest first.
    pub async fn versions(&self, id: &str) -> Result<Vec<VersionSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM layer_versions v JOIN layers l ON l.id = v.layer_id
             WHERE v.layer_id = $1 ORDER BY v.version DESC"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary).collect()
    }

    /// One version of layer `id` with its validation report (JSON text).
    pub async fn version(
        &self,
        id: &str,
        version: i64,
    ) -> Result<Option<(VersionSummary, Option<String>)>> {
        let row = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, v.report FROM layer_versions v JOIN layers l ON l.id = v.layer_id
             WHERE v.layer_id = $1 AND v.version = $2"
        ))
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((summary(&r)?, r.try_get("report")?)))
            .transpose()
    }

    /// What the index needs to load version `version` of layer `id`.
    pub async fn version_info(&self, id: &str, version: i64) -> Result<Option<VersionInfo>> {
        let row = sqlx::query(
            "SELECT v.id, v.version, v.feature_count, v.geometry_types, v.minx, v.miny, v.maxx, v.maxy,
                    v.created_at, l.photos_rev
             FROM layer_versions v JOIN layers l ON l.id = v.layer_id
             WHERE v.layer_id = $1 AND v.version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| crate::store::version_info(&r)).transpose()
    }

    /// Layers for the people who manage them: all of them, published or
    /// not, hidden ones included; the caller filters by what it may write.
    pub async fn managed_layers(&self) -> Result<Vec<ManagedLayer>> {
        let rows = sqlx::query(
            "SELECT l.id, l.category_id, l.title_id, l.title_en, l.agency_id, l.visibility,
                    l.current_version, l.updated_at, l.deleted_at,
                    v.version AS latest_version, v.status AS latest_status
             FROM layers l
             JOIN categories c ON c.id = l.category_id
             LEFT JOIN layer_versions v ON v.layer_id = l.id
                  AND v.version = (SELECT MAX(version) FROM layer_versions WHERE layer_id = l.id)
             ORDER BY c.sort_order, l.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let visibility: String = r.try_get("visibility")?;
                let status: Option<String> = r.try_get("latest_status")?;
                Ok(ManagedLayer {
                    id: r.try_get("id")?,
                    category: r.try_get("category_id")?,
                    title_id: r.try_get("title_id")?,
                    title_en: r.try_get("title_en")?,
                    agency: r.try_get("agency_id")?,
                    visibility: Visibility::from_str(&visibility).map_err(Error::Corrupt)?,
                    current_version: r.try_get("current_version")?,
                    latest_version: r.try_get("latest_version")?,
                    latest_status: status.as_deref().map(Status::from_str).transpose()?,
                    updated_at: r.try_get("updated_at")?,
                    deleted_at: r.try_get("deleted_at")?,
                })
            })
            .collect()
    }

    /// Makes version `version` of layer `id` current: a draft (publish) or
    /// an older published version (rollback). Returns the version that was
    /// current before. One transaction, ownership checked inside it.
    pub async fn make_current(
        &self,
        id: &str,
        version: i64,
        action: &str,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write().await?;
        let owner = checked_owner(&mut tx, id, guard).await?;
        if owner.deleted {
            return Err(Error::Conflict(format!(
                "layer {id:?} is deleted; restore it first"
            )));
        }
        let row = sqlx::query(
            "SELECT v.status, l.current_version FROM layer_versions v JOIN layers l ON l.id = v.layer_id
             WHERE v.layer_id = $1 AND v.version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("layer {id:?} has no version {version}")))?;
        let status = Status::from_str(&row.try_get::<String, _>("status")?)?;
        let before: Option<i64> = row.try_get("current_version")?;
        match (action, status) {
            (_, Status::Rejected) => {
                return Err(Error::Conflict(format!(
                    "version {version} was rejected by validation and has no features; upload a corrected file"
                )));
            }
            ("publish", Status::Published) => {
                return Err(Error::Conflict(format!(
                    "version {version} is already published; use rollback to make it current again"
                )));
            }
            ("rollback", Status::Draft) => {
                return Err(Error::Conflict(format!(
                    "version {version} is a draft that was never published; publish it instead"
                )));
            }
            _ => {}
        }
        if before == Some(version) {
            return Err(Error::Conflict(format!(
                "version {version} is already the current version"
            )));
        }
        sqlx::query(
            "UPDATE layer_versions SET status = 'published', published_at = $1
             WHERE layer_id = $2 AND version = $3",
        )
        .bind(crate::clock::now())
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE layers SET current_version = $2, updated_at = $1 WHERE id = $3")
            .bind(crate::clock::now())
            .bind(version)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::store::apply_version_meta(&mut tx, id, version).await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action,
                client: actor.client,
                layer: Some(id),
                from_version: before,
                to_version: Some(version),
                detail: None,
            },
        )
        .await?;
        crate::changes::announce(self.backend(), &mut tx, id).await?;
        tx.commit().await?;
        Ok(before)
    }

    /// Hides layer `id` (`deleted = true`) or brings it back. Versions and
    /// features are kept, so a hidden layer can always be restored.
    pub async fn set_deleted(
        &self,
        id: &str,
        deleted: bool,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let owner = checked_owner(&mut tx, id, guard).await?;
        if owner.deleted == deleted {
            return Err(Error::Conflict(format!(
                "layer {id:?} is {}",
                if deleted {
                    "already deleted"
                } else {
                    "not deleted"
                }
            )));
        }
        sqlx::query(
            "UPDATE layers SET deleted_at = CASE WHEN $2 THEN $1 END,
                    updated_at = $1
             WHERE id = $3",
        )
        .bind(crate::clock::now())
        .bind(deleted)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                actor: actor.account,
                action: if deleted { "delete" } else { "restore" },
                client: actor.client,
                layer: Some(id),
                from_version: None,
                to_version: None,
                detail: None,
            },
        )
        .await?;
        crate::changes::announce(self.backend(), &mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Reads the owner of `id` inside `tx` and asks `guard`.
pub(crate) async fn checked_owner(
    tx: &mut crate::store::Tx,
    id: &str,
    guard: Guard<'_>,
) -> Result<Owner> {
    let owner = owner_in(tx, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no layer {id:?}")))?;
    guard(&owner)?;
    Ok(owner)
}

pub(crate) async fn owner_in(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Option<Owner>> {
    let row = sqlx::query(
        "SELECT agency_id, visibility, current_version, deleted_at FROM layers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        let visibility: String = r.try_get("visibility")?;
        let deleted: Option<String> = r.try_get("deleted_at")?;
        Ok(Owner {
            layer: id.to_owned(),
            agency: r.try_get("agency_id")?,
            visibility: Visibility::from_str(&visibility).map_err(Error::Corrupt)?,
            published: r.try_get::<Option<i64>, _>("current_version")?.is_some(),
            deleted: deleted.is_some(),
        })
    })
    .transpose()
}

fn summary(r: &sqlx::any::AnyRow) -> Result<VersionSummary> {
    let status: String = r.try_get("status")?;
    let version: i64 = r.try_get("version")?;
    Ok(VersionSummary {
        version,
        status: Status::from_str(&status)?,
        current: r.try_get::<Option<i64>, _>("current_version")? == Some(version),
        feature_count: r.try_get("feature_count")?,
        geometry_types: geometry_types_of(r)?,
        bbox: bbox_of(r)?.map(|[a, b, c, d]| Bbox::new(a, b, c, d)),
        source_name: r.try_get("source_name")?,
        format: r.try_get("format")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        published_at: r.try_get("published_at")?,
    })
}
