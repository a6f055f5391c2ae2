//! The life of a layer's versions after upload: listing them, publishing a
//! draft, rolling back to an older version, hiding and restoring a layer
//! (writing a new one is [`super::writer`]'s).
//!
//! Every change runs in one transaction that first reads the layer's owner
//! and lets the caller's [`Guard`] decide, so an ownership check can never
//! be separated from the write it allows.

use std::str::FromStr;

use sqlx::Row;

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::model::about::LayerAbout;
use crate::model::access::{Actor, Guard, Owner};
use crate::model::change::ChangeKind;
use crate::model::style::LayerStyle;
use crate::model::version::{ManagedLayer, Status, VersionSummary};
use crate::model::{LayerMeta, VersionInfo, Visibility};
use crate::store::changes::Change;
use crate::store::features::{rename_features, schema_names};
use crate::store::rows::{bbox_of, geometry_types_of, layer_meta_of, owner_in, version_info};
use crate::store::{Store, Tx, audit, changes};

const SUMMARY_COLUMNS: &str = "v.version, v.status, v.feature_count, v.geometry_types,
     v.minx, v.miny, v.maxx, v.maxy, v.source_name, v.format, v.created_by, v.created_at,
     v.published_at, v.name_field, l.current_version";

impl Store {
    /// The owner of layer `id`, if it exists.
    pub async fn owner(&self, id: &str) -> Result<Option<Owner>> {
        let mut conn = self.pool.acquire().await?;
        owner_in(&mut conn, id).await
    }

    /// What layer `id` is, published or not.
    pub async fn layer_meta(&self, id: &str) -> Result<Option<LayerMeta>> {
        let row = sqlx::query(
            "SELECT l.id AS layer_id, l.category_id, l.title_id, l.title_en, l.visibility, l.updated_at, l.about, l.style,
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
        row.map(|r| version_info(&r)).transpose()
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
        let was = live_owner(&mut tx, id, guard).await?;
        let row = sqlx::query(
            "SELECT v.status, l.current_version FROM layer_versions v JOIN layers l ON l.id = v.layer_id
             WHERE v.layer_id = $1 AND v.version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Lapisan {id:?} tidak punya versi {version}. / Layer {id:?} has no version {version}."
            ))
        })?;
        let status = Status::from_str(&row.try_get::<String, _>("status")?)?;
        let before: Option<i64> = row.try_get("current_version")?;
        match (action, status) {
            (_, Status::Rejected) => {
                return Err(Error::Conflict(format!(
                    "Versi {version} ditolak saat pemeriksaan dan tidak berisi objek; unggah berkas yang sudah diperbaiki. / Version {version} was rejected by validation and has no features; upload a corrected file."
                )));
            }
            ("publish", Status::Published) => {
                return Err(Error::Conflict(format!(
                    "Versi {version} sudah pernah diterbitkan; gunakan kembalikan (rollback) untuk menjadikannya versi sekarang lagi. / Version {version} is already published; use rollback to make it current again."
                )));
            }
            ("rollback", Status::Draft) => {
                return Err(Error::Conflict(format!(
                    "Versi {version} adalah draf yang belum pernah diterbitkan; terbitkan saja. / Version {version} is a draft that was never published; publish it instead."
                )));
            }
            _ => {}
        }
        if before == Some(version) {
            return Err(Error::Conflict(format!(
                "Versi {version} sudah menjadi versi sekarang. / Version {version} is already the current version."
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
        apply_version_meta(&mut tx, id, version).await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                layer: Some(id),
                from_version: before,
                to_version: Some(version),
                ..audit::Entry::by(actor, action)
            },
        )
        .await?;
        let kind = if action == "rollback" {
            ChangeKind::Rollback
        } else {
            ChangeKind::Publish
        };
        changes::announce(
            self.backend(),
            &mut tx,
            Change::Layer {
                kind,
                layer: id,
                version: Some(version),
                was: Some(&was),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(before)
    }

    /// Makes property `field` (`None`: none) the name field of version
    /// `version` of layer `id`: its features' names are recomputed from
    /// it, the version row records it and the audit log the change, all in
    /// one transaction with the ownership check. A field not in the
    /// version's schema is a bad request. Returns the version as listed;
    /// a current version's layer is reloaded by the next catalog sync.
    pub async fn set_name_field(
        &self,
        id: &str,
        version: i64,
        field: Option<&str>,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<VersionSummary> {
        let mut tx = self.write().await?;
        live_owner(&mut tx, id, guard).await?;
        let row = sqlx::query(
            "SELECT v.id, v.status, v.name_field, l.current_version
             FROM layer_versions v JOIN layers l ON l.id = v.layer_id
             WHERE v.layer_id = $1 AND v.version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Lapisan {id:?} tidak memiliki versi {version}. / Layer {id:?} has no version {version}."
            ))
        })?;
        let version_id: i64 = row.try_get("id")?;
        let before: Option<String> = row.try_get("name_field")?;
        let current: Option<i64> = row.try_get("current_version")?;
        if Status::from_str(&row.try_get::<String, _>("status")?)? == Status::Rejected {
            return Err(Error::Conflict(format!(
                "Versi {version} ditolak saat validasi dan tidak memiliki fitur. / Version {version} was rejected by validation and has no features."
            )));
        }
        if let Some(f) = field {
            let names = schema_names(&mut tx, version_id).await?;
            if !names.iter().any(|n| n == f) {
                return Err(Error::BadRequest(format!(
                    "Kolom {f:?} tidak ada pada versi {version}; kolomnya: {list}. / Version {version} has no field {f:?}; its fields: {list}.",
                    list = names.join(", ")
                )));
            }
        }
        // The same field again changes no name: a version stored before
        // name fields existed keeps the names it was given then.
        let renamed = if before.as_deref() == field {
            0
        } else {
            rename_features(self.backend(), &mut tx, version_id, field).await?
        };
        sqlx::query("UPDATE layer_versions SET name_field = $1 WHERE id = $2")
            .bind(field)
            .bind(version_id)
            .execute(&mut *tx)
            .await?;
        if current == Some(version) {
            // What is served changes: list ETags and replicas follow.
            sqlx::query("UPDATE layers SET updated_at = $1 WHERE id = $2")
                .bind(crate::clock::now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut *tx,
            &audit::Entry {
                layer: Some(id),
                to_version: Some(version),
                detail: Some(serde_json::json!({
                    "name_field": field,
                    "before": before,
                    "renamed": renamed,
                })),
                ..audit::Entry::by(actor, "name_field")
            },
        )
        .await?;
        // Renaming a draft's features changes nothing served.
        let kind = if current == Some(version) {
            ChangeKind::NameField
        } else {
            ChangeKind::Draft
        };
        changes::announce(
            self.backend(),
            &mut tx,
            Change::layer(kind, id, Some(version)),
        )
        .await?;
        tx.commit().await?;
        let (summary, _) = self
            .version(id, version)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "Lapisan {id:?} tidak memiliki versi {version}. / Layer {id:?} has no version {version}."
                ))
            })?;
        Ok(summary)
    }

    /// Makes a new draft of layer `id` holding exactly its current
    /// version: the same features (copied in the database), schema,
    /// report and name field, and no metadata of its own (so it keeps
    /// what the layer says until [`Store::set_draft_meta`] or an edit
    /// changes it). Answers the new version's number.
    pub async fn draft_from_current(
        &self,
        id: &str,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        live_owner(&mut tx, id, guard).await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT current_version FROM layers WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let current = current.ok_or_else(|| {
            Error::Conflict(format!(
                "Lapisan {id:?} belum pernah diterbitkan: unggah datanya. / Layer {id:?} has never been published: upload its data."
            ))
        })?;
        let version = next_version(&mut tx, id).await?;
        let from: i64 = sqlx::query_scalar(
            "SELECT id FROM layer_versions WHERE layer_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(current)
        .fetch_one(&mut *tx)
        .await?;
        let to: i64 = sqlx::query_scalar(
            "INSERT INTO layer_versions (layer_id, version, status, feature_count, geometry_types,
                                         minx, miny, maxx, maxy, source_name, format, created_by, created_at,
                                         report, name_field)
             SELECT layer_id, $2, 'draft', feature_count, geometry_types, minx, miny, maxx, maxy,
                    source_name, format, $3, $1, report, name_field
             FROM layer_versions WHERE id = $4 RETURNING id",
        )
        .bind(crate::clock::now())
        .bind(version)
        .bind(actor.account.map(|a| a.name.as_str()).unwrap_or("cli"))
        .bind(from)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO features (version_id, seq, fid, fid_json, geometry, properties, name, minx, miny, maxx, maxy)
             SELECT $1, seq, fid, fid_json, geometry, properties, name, minx, miny, maxx, maxy
             FROM features WHERE version_id = $2",
        )
        .bind(to)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                layer: Some(id),
                from_version: Some(current),
                to_version: Some(version),
                ..audit::Entry::by(actor, "draft")
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::layer(ChangeKind::Draft, id, Some(version)),
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Sets what draft `version` of layer `id` says the layer is about
    /// and how it is drawn (each when given; served once the draft is
    /// published). Only drafts: what is published changes by publishing.
    pub async fn set_draft_meta(
        &self,
        id: &str,
        version: i64,
        about: Option<&LayerAbout>,
        style: Option<&LayerStyle>,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        checked_owner(&mut tx, id, guard).await?;
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM layer_versions WHERE layer_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let status = status.ok_or_else(|| {
            Error::NotFound(format!(
                "Lapisan {id:?} tidak memiliki versi {version}. / Layer {id:?} has no version {version}."
            ))
        })?;
        if Status::from_str(&status)? != Status::Draft {
            return Err(Error::Conflict(format!(
                "Versi {version} bukan draf: uraian lapisan diubah lewat draf (POST /api/layers/{id}/drafts), lalu diterbitkan. / Version {version} is not a draft: make one (POST /api/layers/{id}/drafts), change it, then publish."
            )));
        }
        let json = |v: Option<serde_json::Result<String>>| {
            v.transpose().map_err(|e| Error::Corrupt(e.to_string()))
        };
        // What is not given stays as the draft says it.
        sqlx::query(
            "UPDATE layer_versions SET meta_about = COALESCE($1, meta_about), meta_style = COALESCE($2, meta_style)
             WHERE layer_id = $3 AND version = $4",
        )
        .bind(json(about.map(serde_json::to_string))?)
        .bind(json(style.map(serde_json::to_string))?)
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            &audit::Entry {
                layer: Some(id),
                to_version: Some(version),
                detail: Some(serde_json::json!({ "about": about, "style": style })),
                ..audit::Entry::by(actor, if style.is_some() { "style" } else { "about" })
            },
        )
        .await?;
        changes::announce(
            self.backend(),
            &mut tx,
            Change::layer(ChangeKind::Draft, id, Some(version)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
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
            return Err(Error::Conflict(if deleted {
                format!("Lapisan {id:?} sudah dihapus. / Layer {id:?} is already deleted.")
            } else {
                format!("Lapisan {id:?} tidak sedang dihapus. / Layer {id:?} is not deleted.")
            }));
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
                layer: Some(id),
                ..audit::Entry::by(actor, if deleted { "delete" } else { "restore" })
            },
        )
        .await?;
        let kind = if deleted {
            ChangeKind::Delete
        } else {
            ChangeKind::Restore
        };
        changes::announce(self.backend(), &mut tx, Change::layer(kind, id, None)).await?;
        tx.commit().await?;
        Ok(())
    }
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
            visibility = COALESCE((SELECT meta_visibility FROM layer_versions WHERE layer_id = $1 AND version = $2), visibility),
            about = COALESCE((SELECT meta_about FROM layer_versions WHERE layer_id = $1 AND version = $2), about),
            style = COALESCE((SELECT meta_style FROM layer_versions WHERE layer_id = $1 AND version = $2), style)
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
            meta_visibility = (SELECT visibility FROM layers WHERE id = $1),
            meta_about = (SELECT about FROM layers WHERE id = $1),
            meta_style = (SELECT style FROM layers WHERE id = $1)
         WHERE layer_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What a missing layer (or one the caller may not see) is called.
pub(crate) fn no_layer(id: &str) -> String {
    format!("Lapisan {id:?} tidak ditemukan. / No layer {id:?}.")
}

/// Reads the owner of `id` inside `tx` and asks `guard`.
pub(crate) async fn checked_owner(tx: &mut Tx, id: &str, guard: Guard<'_>) -> Result<Owner> {
    let owner = owner_in(tx, id)
        .await?
        .ok_or_else(|| Error::NotFound(no_layer(id)))?;
    guard(&owner)?;
    Ok(owner)
}

/// [`checked_owner`] of a layer that is not deleted: a deleted layer is
/// restored before it changes.
async fn live_owner(tx: &mut Tx, id: &str, guard: Guard<'_>) -> Result<Owner> {
    let owner = checked_owner(tx, id, guard).await?;
    if owner.deleted {
        return Err(Error::Conflict(format!(
            "Lapisan {id:?} sudah dihapus; pulihkan dahulu. / Layer {id:?} is deleted; restore it first."
        )));
    }
    Ok(owner)
}

/// The number a new version of layer `id` takes: one more than its highest.
pub(crate) async fn next_version(tx: &mut Tx, id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM layer_versions WHERE layer_id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?)
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
        name_field: r.try_get("name_field")?,
    })
}
