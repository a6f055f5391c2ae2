//! Editing a draft in place, one feature at a time: change a feature's
//! properties or geometry, add one, delete one (the editor of the web
//! page, through `/api/layers/{id}/drafts/{version}/features`).
//!
//! Each edit runs in one transaction: the ownership check, the draft's
//! status, the feature checked as an upload checks it
//! ([`Collector::feature`]: an invalid one is [`Error::Invalid`] and
//! changes nothing), the row rewritten with the upload's INSERT
//! (`insert_features`), the version's summary and validation report
//! recomputed from all its features, the audit entry (the feature's id and
//! the names of the properties that changed, never their values) and the
//! change notice. The version's `edits` count grows with every edit, so
//! previews and ETags built from it are fresh.

use std::collections::HashSet;
use std::str::FromStr;

use geojson::feature::Id;
use serde_json::{Map, Value};
use sqlx::Row;

use crate::error::{Error, Result};
use crate::ingest::name_field::name_of;
use crate::ingest::{Collector, Limits, ParsedFeature, Problem, Report};
use crate::model::FeatureRow;
use crate::model::access::{Actor, Guard};
use crate::model::change::ChangeKind;
use crate::model::version::Status;
use crate::store::changes::Change;
use crate::store::features::{FeatureRef, insert_features, nullable_floats};
use crate::store::rows::{feature_row, pg_feature_row};
use crate::store::versions::live_owner;
use crate::store::writer::take_turn;
use crate::store::{Backend, Store, Tx, audit, changes};

/// Features read per round trip when a version's report is recomputed.
const READ_BATCH: i64 = 1000;

/// A change to one feature of a draft.
#[derive(Debug, Clone, Default)]
pub struct FeatureChange {
    /// Properties to set (`None`: unchanged). Merged into the feature's
    /// properties (keys given replace theirs, others are kept) unless
    /// `replace_properties`.
    pub properties: Option<Map<String, Value>>,
    /// Whether `properties` replaces all of the feature's properties.
    pub replace_properties: bool,
    /// The new geometry (`Some(None)`: none); `None`: unchanged.
    pub geometry: Option<Option<geojson::Geometry>>,
}

/// A feature as an edit left it.
#[derive(Debug, Clone)]
pub struct Edited {
    /// Its id as URLs name it.
    pub fid: String,
    /// Its position in the version, from 1.
    pub number: i64,
    /// The feature as stored, a GeoJSON Feature.
    pub feature: Value,
    /// What the checks warn about in it (kept in the version's report).
    pub warnings: Vec<Problem>,
    /// The version's features after the edit.
    pub feature_count: i64,
}

/// The draft being edited.
struct Draft {
    version_id: i64,
    name_field: Option<String>,
    report: Option<String>,
}

impl Store {
    /// Changes feature `fid` of draft `version` of layer `id`: its
    /// properties (merged or replaced) and/or its geometry, checked as an
    /// upload checks a feature.
    #[allow(clippy::too_many_arguments)]
    pub async fn edit_draft_feature(
        &self,
        id: &str,
        version: i64,
        fid: &str,
        change: FeatureChange,
        limits: &Limits,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<Edited> {
        let backend = self.backend();
        let mut tx = self.write().await?;
        let draft = open_draft(backend, &mut tx, id, version, guard).await?;
        let order = schema_order(draft.report.as_deref());
        let (seq, row) = find(backend, &mut tx, &draft, fid, &order)
            .await?
            .ok_or_else(|| no_feature(id, version, fid))?;
        let old = properties_of(&row.properties)?;
        let geometry_changed = change.geometry.is_some();
        let new = match change.properties {
            None => old.clone(),
            Some(given) if change.replace_properties => given,
            Some(given) => {
                let mut merged = old.clone();
                merged.extend(given);
                merged
            }
        };
        let changed: Vec<&String> = new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(v))
            .map(|(k, _)| k)
            .chain(old.keys().filter(|k| !new.contains_key(*k)))
            .collect();
        let detail = serde_json::json!({
            "fid": fid,
            "properties": changed,
            "geometry": geometry_changed,
        });
        let geometry = match change.geometry {
            Some(g) => g,
            None => geometry_of(&row)?,
        };
        let feature = geojson::Feature {
            bbox: None,
            geometry,
            id: Some(id_of(&row.fid_json)?),
            properties: Some(new),
            foreign_members: None,
        };
        let (parsed, warnings) = check(seq, feature, limits, draft.name_field.as_deref())?;
        sqlx::query("DELETE FROM features WHERE version_id = $1 AND seq = $2")
            .bind(draft.version_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        insert_features(
            backend,
            &mut tx,
            draft.version_id,
            seq,
            &[FeatureRef::from(&parsed)],
        )
        .await?;
        let count = finish_edit(
            backend,
            &mut tx,
            &draft,
            limits,
            (id, version),
            "feature_edit",
            detail,
            actor,
        )
        .await?;
        tx.commit().await?;
        edited(&parsed, seq, warnings, count)
    }

    /// Adds `feature` to draft `version` of layer `id`, checked as an
    /// upload checks a feature. Its id, when it has one, must be new in
    /// the version; without one it gets the next free number.
    pub async fn add_draft_feature(
        &self,
        id: &str,
        version: i64,
        mut feature: geojson::Feature,
        limits: &Limits,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<Edited> {
        let backend = self.backend();
        let mut tx = self.write().await?;
        let draft = open_draft(backend, &mut tx, id, version, guard).await?;
        let fids: Vec<String> =
            sqlx::query_scalar("SELECT fid FROM features WHERE version_id = $1")
                .bind(draft.version_id)
                .fetch_all(&mut *tx)
                .await?;
        let taken: HashSet<&str> = fids.iter().map(String::as_str).collect();
        match &feature.id {
            Some(given) => {
                let fid = match given {
                    Id::String(s) => s.clone(),
                    Id::Number(n) => n.to_string(),
                };
                if taken.contains(fid.as_str()) {
                    return Err(Error::Conflict(format!(
                        "Id fitur {fid:?} sudah dipakai dalam versi {version}. / The feature id {fid:?} is already used in version {version}."
                    )));
                }
            }
            None => {
                let next = fids
                    .iter()
                    .filter_map(|f| f.parse::<u64>().ok())
                    .max()
                    .map_or(1, |n| n.saturating_add(1));
                feature.id = Some(Id::Number(next.into()));
            }
        }
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM features WHERE version_id = $1",
        )
        .bind(draft.version_id)
        .fetch_one(&mut *tx)
        .await?;
        let names: Vec<String> = feature
            .properties
            .as_ref()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let (parsed, warnings) = check(seq, feature, limits, draft.name_field.as_deref())?;
        insert_features(
            backend,
            &mut tx,
            draft.version_id,
            seq,
            &[FeatureRef::from(&parsed)],
        )
        .await?;
        let detail = serde_json::json!({ "fid": parsed.fid, "properties": names });
        let count = finish_edit(
            backend,
            &mut tx,
            &draft,
            limits,
            (id, version),
            "feature_add",
            detail,
            actor,
        )
        .await?;
        tx.commit().await?;
        edited(&parsed, seq, warnings, count)
    }

    /// Deletes feature `fid` of draft `version` of layer `id`; the
    /// features after it move up one place. Answers how many are left.
    pub async fn delete_draft_feature(
        &self,
        id: &str,
        version: i64,
        fid: &str,
        limits: &Limits,
        guard: Guard<'_>,
        actor: Actor<'_>,
    ) -> Result<i64> {
        let backend = self.backend();
        let mut tx = self.write().await?;
        let draft = open_draft(backend, &mut tx, id, version, guard).await?;
        let order = schema_order(draft.report.as_deref());
        let (seq, _) = find(backend, &mut tx, &draft, fid, &order)
            .await?
            .ok_or_else(|| no_feature(id, version, fid))?;
        sqlx::query("DELETE FROM features WHERE version_id = $1 AND seq = $2")
            .bind(draft.version_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        // Features are numbered without gaps (the index loads 0..count):
        // the later ones move up, through negative numbers so that no two
        // rows ever share one while the statements run.
        for sql in [
            "UPDATE features SET seq = -seq WHERE version_id = $1 AND seq > $2",
            "UPDATE features SET seq = -seq - 1 WHERE version_id = $1 AND seq < $2",
        ] {
            sqlx::query(sql)
                .bind(draft.version_id)
                .bind(if sql.contains('>') { seq } else { 0 })
                .execute(&mut *tx)
                .await?;
        }
        let count = finish_edit(
            backend,
            &mut tx,
            &draft,
            limits,
            (id, version),
            "feature_delete",
            serde_json::json!({ "fid": fid }),
            actor,
        )
        .await?;
        tx.commit().await?;
        Ok(count)
    }
}

/// Checks the caller's right and that `version` of layer `id` is a draft,
/// inside `tx`; on PostgreSQL the layer's writers take turns from here.
async fn open_draft(
    backend: Backend,
    tx: &mut Tx,
    id: &str,
    version: i64,
    guard: Guard<'_>,
) -> Result<Draft> {
    live_owner(tx, id, guard).await?;
    take_turn(backend, tx, id).await?;
    let row = sqlx::query(
        "SELECT id, status, name_field, report FROM layer_versions WHERE layer_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| {
        Error::NotFound(format!(
            "Lapisan {id:?} tidak memiliki versi {version}. / Layer {id:?} has no version {version}."
        ))
    })?;
    if Status::from_str(&row.try_get::<String, _>("status")?)? != Status::Draft {
        return Err(Error::Conflict(format!(
            "Versi {version} bukan draf: buat draf (POST /api/layers/{id}/drafts), ubah, lalu terbitkan. / Version {version} is not a draft: make one (POST /api/layers/{id}/drafts), edit it, then publish."
        )));
    }
    Ok(Draft {
        version_id: row.try_get("id")?,
        name_field: row.try_get("name_field")?,
        report: row.try_get("report")?,
    })
}

fn no_feature(id: &str, version: i64, fid: &str) -> Error {
    Error::NotFound(format!(
        "Versi {version} lapisan {id:?} tidak memiliki fitur {fid:?}. / Version {version} of layer {id:?} has no feature {fid:?}."
    ))
}

/// The feature columns of a SELECT, as [`feature_row`] and
/// [`pg_feature_row`] read them.
fn feature_columns(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "seq, fid_json, geometry, properties, name, minx, miny, maxx, maxy",
        Backend::Postgres => {
            "seq, fid_json, ST_AsBinary(geometry) AS geometry, properties::text AS properties,
             name, minx, miny, maxx, maxy"
        }
    }
}

fn decode(backend: Backend, row: &sqlx::any::AnyRow, order: &[String]) -> Result<FeatureRow> {
    match backend {
        Backend::Sqlite => feature_row(row),
        Backend::Postgres => pg_feature_row(row, order),
    }
}

/// Feature `fid` of the draft with its place (`seq`), read inside `tx`.
async fn find(
    backend: Backend,
    tx: &mut Tx,
    draft: &Draft,
    fid: &str,
    order: &[String],
) -> Result<Option<(i64, FeatureRow)>> {
    let sql = format!(
        "SELECT {} FROM features WHERE version_id = $1 AND fid = $2",
        feature_columns(backend)
    );
    let row = sqlx::query(&sql)
        .bind(draft.version_id)
        .bind(fid)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("seq")?, decode(backend, &r, order)?)))
        .transpose()
}

/// The property names of a stored report's schema, in upload order.
fn schema_order(report: Option<&str>) -> Vec<String> {
    report
        .and_then(|r| serde_json::from_str::<Value>(r).ok())
        .and_then(|v| {
            v.get("schema")?.as_array().map(|fields| {
                fields
                    .iter()
                    .filter_map(|f| f.get("name")?.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn properties_of(text: &str) -> Result<Map<String, Value>> {
    let v: Option<Map<String, Value>> =
        serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("properties: {e}")))?;
    Ok(v.unwrap_or_default())
}

fn geometry_of(row: &FeatureRow) -> Result<Option<geojson::Geometry>> {
    row.geometry
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| Error::Corrupt(format!("geometry of feature {}: {e}", row.fid_json)))
}

/// A stored id (JSON text) as GeoJSON has it.
fn id_of(fid_json: &str) -> Result<Id> {
    let v: Value = serde_json::from_str(fid_json)
        .map_err(|e| Error::Corrupt(format!("feature id {fid_json}: {e}")))?;
    match v {
        Value::String(s) => Ok(Id::String(s)),
        Value::Number(n) => Ok(Id::Number(n)),
        other => Err(Error::Corrupt(format!("feature id {other}"))),
    }
}

/// A stored feature as the reader of an upload hands it over.
fn as_geojson(row: FeatureRow) -> Result<geojson::Feature> {
    let geometry = geometry_of(&row)?;
    let properties: Option<Map<String, Value>> = serde_json::from_str(&row.properties)
        .map_err(|e| Error::Corrupt(format!("properties: {e}")))?;
    Ok(geojson::Feature {
        bbox: None,
        geometry,
        id: Some(id_of(&row.fid_json)?),
        properties,
        foreign_members: None,
    })
}

/// Checks `feature`, at place `seq` of its version, as an upload checks
/// one: the feature as it will be stored (named by `name_field`) and its
/// warnings, or [`Error::Invalid`] with its errors.
fn check(
    seq: i64,
    feature: geojson::Feature,
    limits: &Limits,
    name_field: Option<&str>,
) -> Result<(ParsedFeature, Vec<Problem>)> {
    let mut out = None;
    let mut collector = Collector::new("edit", limits, |f| {
        out = Some(f);
        Ok::<_, ()>(())
    });
    collector.feature(usize::try_from(seq).unwrap_or(0), feature);
    let report = collector
        .finish()
        .map_err(|()| Error::Corrupt("feature check".into()))?;
    if !report.is_ok() {
        return Err(Error::Invalid {
            problems: report.errors,
            count: report.error_count,
        });
    }
    let mut parsed = out.ok_or_else(|| Error::Corrupt("feature check kept nothing".into()))?;
    parsed.name = name_of(&properties_of(&parsed.properties)?, name_field);
    Ok((parsed, report.warnings))
}

fn edited(parsed: &ParsedFeature, seq: i64, warnings: Vec<Problem>, count: i64) -> Result<Edited> {
    let json = |t: &str| {
        serde_json::from_str::<Value>(t).map_err(|e| Error::Corrupt(format!("feature: {e}")))
    };
    Ok(Edited {
        fid: parsed.fid.clone(),
        number: seq + 1,
        feature: serde_json::json!({
            "type": "Feature",
            "id": json(&parsed.fid_json)?,
            "geometry": parsed.geometry.as_deref().map(json).transpose()?,
            "properties": json(&parsed.properties)?,
        }),
        warnings,
        feature_count: count,
    })
}

/// Recomputes the draft's summary and report from all its features,
/// counts the edit, and records it in the audit log and the change feed
/// (last, as [`changes::announce`] asks). Answers the feature count.
#[allow(clippy::too_many_arguments)]
async fn finish_edit(
    backend: Backend,
    tx: &mut Tx,
    draft: &Draft,
    limits: &Limits,
    (id, version): (&str, i64),
    action: &str,
    detail: Value,
    actor: Actor<'_>,
) -> Result<i64> {
    let report = recheck(backend, tx, draft, limits).await?;
    let count = i64::try_from(report.features).unwrap_or(i64::MAX);
    let types: Vec<&str> = report
        .geometry_types
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "null")
        .collect();
    let b = nullable_floats(report.bbox.map(|b| b.to_array()));
    let text = serde_json::to_string(&report).map_err(|e| Error::Corrupt(e.to_string()))?;
    sqlx::query(
        "UPDATE layer_versions SET feature_count = $1, geometry_types = $2,
                minx = NULLIF($3, 'NaN'), miny = NULLIF($4, 'NaN'), maxx = NULLIF($5, 'NaN'),
                maxy = NULLIF($6, 'NaN'), report = $7, edits = edits + 1
         WHERE id = $8",
    )
    .bind(count)
    .bind(types.join(","))
    .bind(b[0])
    .bind(b[1])
    .bind(b[2])
    .bind(b[3])
    .bind(text)
    .bind(draft.version_id)
    .execute(&mut **tx)
    .await?;
    audit::record(
        &mut **tx,
        &audit::Entry {
            layer: Some(id),
            to_version: Some(version),
            detail: Some(detail),
            ..audit::Entry::by(actor, action)
        },
    )
    .await?;
    changes::announce(
        backend,
        tx,
        Change::layer(ChangeKind::Draft, id, Some(version)),
    )
    .await?;
    Ok(count)
}

/// The validation report of the draft's features as they now are, read
/// inside `tx` and checked as an upload's are; it keeps the format and
/// source CRS of the report it replaces, and the draft's name field.
async fn recheck(backend: Backend, tx: &mut Tx, draft: &Draft, limits: &Limits) -> Result<Report> {
    let old: Value = draft
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null);
    let format = old["format"].as_str().unwrap_or("edit").to_owned();
    let order = schema_order(draft.report.as_deref());
    let limits = Limits {
        max_features: usize::MAX,
        ..limits.clone()
    };
    let mut collector = Collector::new(&format, &limits, |_| Ok::<_, ()>(()));
    if let Some(crs) = old["source_crs"].as_str() {
        collector.set_source_crs(crs);
    }
    let end: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq) + 1, 0) FROM features WHERE version_id = $1")
            .bind(draft.version_id)
            .fetch_one(&mut **tx)
            .await?;
    let sql = format!(
        "SELECT {} FROM features WHERE version_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
        feature_columns(backend)
    );
    let mut from = 0;
    while from < end {
        let rows = sqlx::query(&sql)
            .bind(draft.version_id)
            .bind(from)
            .bind(from + READ_BATCH)
            .fetch_all(&mut **tx)
            .await?;
        from += READ_BATCH;
        for r in &rows {
            let feature = as_geojson(decode(backend, r, &order)?)?;
            if let std::ops::ControlFlow::Continue(i) = collector.next_index() {
                collector.feature(i, feature);
            }
        }
    }
    let mut report = collector
        .finish()
        .map_err(|()| Error::Corrupt("report".into()))?;
    report.name_field.clone_from(&draft.name_field);
    Ok(report)
}
