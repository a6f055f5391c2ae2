//! Features in and out: what the catalog loads (published layers, their
//! features and property fields) and the multi-row INSERTs that the
//! version writer and the database copy store features with. PostgreSQL's
//! feature columns (PostGIS geometry, jsonb properties) differ from
//! SQLite's only here.

use crate::error::Result;
use crate::ingest::ParsedFeature;
use crate::ingest::name_field::name_of;
use crate::model::{FeatureRow, PublishedLayer};
use crate::store::rows::{feature_row, pg_feature_row, published_layer};
use crate::store::{Backend, Store, Tx};

/// Rows per multi-row INSERT: 11 bound values each stays far below
/// SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
const INSERT_BATCH: usize = 1000;

/// Features read and renamed per round trip when names are recomputed
/// (two bound values each in the UPDATE).
const RENAME_BATCH: i64 = 1000;

impl Store {
    /// Every layer that has a published version and is not deleted, with
    /// that version, in category order.
    pub async fn published_layers(&self) -> Result<Vec<PublishedLayer>> {
        let rows = sqlx::query(
            "SELECT l.id AS layer_id, l.category_id, l.title_id, l.title_en, l.visibility, l.updated_at, l.about, l.style,
                    a.id AS agency_id, a.name AS agency_name,
                    v.id, v.version, v.feature_count, v.geometry_types,
                    v.minx, v.miny, v.maxx, v.maxy, v.created_at, l.photos_rev + v.edits AS photos_rev, v.name_field
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
        let report: Option<Option<String>> =
            sqlx::query_scalar("SELECT report FROM layer_versions WHERE id = $1")
                .bind(version_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(schema_of(report.flatten().as_deref()))
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

/// Recomputes the names of the features of the version with row id
/// `version_id` from their property `field` (`None`: no names), inside
/// `tx`, in batches; returns how many changed. Names are computed as at
/// upload ([`name_of`]), so a field holding strings gives them trimmed and
/// a number gives it as written.
pub(crate) async fn rename_features(
    backend: Backend,
    tx: &mut Tx,
    version_id: i64,
    field: Option<&str>,
) -> Result<u64> {
    let end: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq) + 1, 0) FROM features WHERE version_id = $1")
            .bind(version_id)
            .fetch_one(&mut **tx)
            .await?;
    let select = match backend {
        Backend::Sqlite => {
            "SELECT seq, properties, name FROM features
             WHERE version_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq"
        }
        Backend::Postgres => {
            "SELECT seq, properties::text AS properties, name FROM features
             WHERE version_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq"
        }
    };
    // A key serde_json writes as it is can be looked for in the text
    // before the properties are parsed: most features of a layer without
    // the field then cost no parse.
    let plain = field.filter(|f| !f.contains(['"', '\\']) && !f.contains(char::is_control));
    let mut changed = 0u64;
    let mut from = 0i64;
    while from < end {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(select)
            .bind(version_id)
            .bind(from)
            .bind(from + RENAME_BATCH)
            .fetch_all(&mut **tx)
            .await?;
        from += RENAME_BATCH;
        let mut renamed = Vec::new();
        for (seq, properties, old) in rows {
            let name = match field {
                None => None,
                Some(f) if plain.is_some() && !properties.contains(f) => None,
                Some(_) => {
                    let props: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(&properties).unwrap_or_default();
                    name_of(&props, field)
                }
            };
            if name != old {
                renamed.push((seq, name));
            }
        }
        if renamed.is_empty() {
            continue;
        }
        let sql = rename_sql(backend, renamed.len());
        let mut q = sqlx::query(&sql);
        for (seq, name) in &renamed {
            q = q.bind(*seq).bind(name.as_deref());
        }
        q.bind(version_id).execute(&mut **tx).await?;
        changed += renamed.len() as u64;
    }
    Ok(changed)
}

/// The UPDATE that gives `rows` features (seq, name pairs, then the
/// version's row id) their new names; anonymous parameters on SQLite, as
/// in [`insert_sql`].
fn rename_sql(backend: Backend, rows: usize) -> String {
    let mut sql = String::from("WITH renamed (seq, name) AS (VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        match backend {
            Backend::Sqlite => sql.push_str("(?, ?)"),
            Backend::Postgres => sql.push_str(&format!("(${}, ${})", 2 * row + 1, 2 * row + 2)),
        }
    }
    sql.push_str(
        ") UPDATE features SET name = renamed.name FROM renamed
         WHERE features.seq = renamed.seq AND features.version_id = ",
    );
    match backend {
        Backend::Sqlite => sql.push('?'),
        Backend::Postgres => sql.push_str(&format!("${}", 2 * rows + 1)),
    }
    sql
}

/// The property names of the version with row id `version_id` (from its
/// validation report's schema, in upload order), read inside `tx`.
pub(crate) async fn schema_names(tx: &mut Tx, version_id: i64) -> Result<Vec<String>> {
    let report: Option<String> =
        sqlx::query_scalar("SELECT report FROM layer_versions WHERE id = $1")
            .bind(version_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(schema_of(report.as_deref())
        .into_iter()
        .map(|f| f.name)
        .collect())
}

/// The schema of a stored validation report (JSON text); empty when there
/// is none or it cannot be read.
fn schema_of(report: Option<&str>) -> Vec<SchemaField> {
    #[derive(serde::Deserialize)]
    struct Report {
        #[serde(default)]
        schema: Vec<SchemaField>,
    }
    report
        .and_then(|r| serde_json::from_str::<Report>(r).ok())
        .map(|r| r.schema)
        .unwrap_or_default()
}

/// One property of a validation report's schema.
#[derive(serde::Deserialize)]
struct SchemaField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

/// TileJSON `fields` from a stored validation report's schema.
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
