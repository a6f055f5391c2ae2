//! Decoding database rows into the [`crate::model`] types: extents,
//! geometry types, versions, layer metadata and features (PostgreSQL's
//! WKB geometry written back as GeoJSON text, properties in upload order).

use std::str::FromStr;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::model::access::Owner;
use crate::model::{Agency, FeatureRow, LayerMeta, PublishedLayer, VersionInfo, Visibility};

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
pub(crate) fn pg_feature_row(row: &AnyRow, order: &[String]) -> Result<FeatureRow> {
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

/// A feature from SQLite, as stored.
pub(crate) fn feature_row(row: &AnyRow) -> Result<FeatureRow> {
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

/// The `geometry_types` column (comma-separated) as a list.
pub(crate) fn geometry_types_of(row: &AnyRow) -> Result<Vec<String>> {
    let joined: String = row.try_get("geometry_types")?;
    Ok(joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// A version as the index needs it, from a row with the version's columns
/// (`id` being the version's row id) and the layer's `photos_rev`.
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

/// A published layer and its current version from one row.
pub(crate) fn published_layer(row: &AnyRow) -> Result<PublishedLayer> {
    Ok(PublishedLayer {
        meta: layer_meta_of(row)?,
        version: version_info(row)?,
        name_field: row.try_get("name_field")?,
    })
}

/// A layer's `about` or `style` column (JSON written by this program).
pub(crate) fn json_of<T: serde::de::DeserializeOwned>(
    text: Option<String>,
    what: &str,
) -> Result<Option<T>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| Error::Corrupt(format!("a layer's {what}: {e}")))
    })
    .transpose()
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
        about: json_of(row.try_get("about")?, "about")?,
        style: json_of(row.try_get("style")?, "style")?,
    })
}

/// The owner of layer `id` (agency, visibility, whether published or
/// deleted), or `None` when there is no such layer.
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
