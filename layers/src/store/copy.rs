//! Copying a whole bsc database to another backend (`bsc migrate-data`):
//! SQLite to PostgreSQL when a regency outgrows one machine, or back.
//!
//! Everything is written in one transaction on the destination, which must
//! be empty, and the copy is counted table by table (and feature by feature
//! for every version) before it commits: a failed or partial copy leaves
//! the destination as it was. Row ids are kept, so audit records, tokens
//! and sessions still point at the same users, layers and versions.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::store::features::{FeatureRef, insert_features};
use crate::store::{Backend, Store, Tx};

/// Rows per multi-row INSERT of the plain tables (at most 16 columns, so
/// far below either backend's parameter limit).
const ROWS_PER_INSERT: usize = 200;

/// Features read and written per round trip.
const FEATURES_PER_CHUNK: i64 = 10_000;

/// What a column holds, for reading it from one backend and binding it on
/// the other.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Real,
    Blob,
}

use Kind::{Blob, Int, Real, Text};

/// The tables copied as they are, parents before children, with their
/// columns (the same on both backends: see `migrations/`). Features are
/// copied separately, version by version. Login throttling is not copied:
/// it is about the last 15 minutes only.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "agencies",
        &[("id", Text), ("name", Text), ("created_at", Text)],
    ),
    (
        "users",
        &[
            ("id", Int),
            ("name", Text),
            ("role", Text),
            ("agency_id", Text),
            ("password_hash", Text),
            ("disabled", Int),
            ("created_at", Text),
            ("totp_secret", Text),
            ("totp_last_step", Int),
        ],
    ),
    (
        "sessions",
        &[
            ("token_hash", Text),
            ("user_id", Int),
            ("created_at", Text),
            ("expires_at", Text),
            ("last_seen", Text),
        ],
    ),
    (
        "api_tokens",
        &[
            ("id", Int),
            ("user_id", Int),
            ("name", Text),
            ("token_hash", Text),
            ("prefix", Text),
            ("created_at", Text),
            ("revoked_at", Text),
            ("last_used_at", Text),
        ],
    ),
    (
        "layers",
        &[
            ("id", Text),
            ("category_id", Text),
            ("title_id", Text),
            ("title_en", Text),
            ("agency_id", Text),
            ("visibility", Text),
            ("current_version", Int),
            ("created_at", Text),
            ("updated_at", Text),
            ("deleted_at", Text),
            ("photos_rev", Int),
            ("about", Text),
            ("style", Text),
        ],
    ),
    (
        "layer_versions",
        &[
            ("id", Int),
            ("layer_id", Text),
            ("version", Int),
            ("status", Text),
            ("feature_count", Int),
            ("geometry_types", Text),
            ("minx", Real),
            ("miny", Real),
            ("maxx", Real),
            ("maxy", Real),
            ("source_name", Text),
            ("created_at", Text),
            ("report", Text),
            ("format", Text),
            ("created_by", Text),
            ("published_at", Text),
            ("meta_category_id", Text),
            ("meta_title_id", Text),
            ("meta_title_en", Text),
            ("meta_agency_id", Text),
            ("meta_visibility", Text),
            ("name_field", Text),
            ("meta_about", Text),
            ("meta_style", Text),
            ("edits", Int),
        ],
    ),
    (
        "photos",
        &[
            ("id", Int),
            ("layer_id", Text),
            ("fid", Text),
            ("content_type", Text),
            ("bytes", Blob),
            ("size", Int),
            ("width", Int),
            ("height", Int),
            ("caption", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("deleted_at", Text),
        ],
    ),
    (
        "audit_log",
        &[
            ("id", Int),
            ("at", Text),
            ("actor_id", Int),
            ("actor_name", Text),
            ("action", Text),
            ("client", Text),
            ("layer_id", Text),
            ("from_version", Int),
            ("to_version", Int),
            ("detail", Text),
        ],
    ),
    (
        "report_types",
        &[
            ("id", Text),
            ("title_id", Text),
            ("title_en", Text),
            ("category_id", Text),
            ("agency_id", Text),
            ("sort_order", Int),
        ],
    ),
    (
        "reports",
        &[
            ("id", Int),
            ("code", Text),
            ("type_id", Text),
            ("agency_id", Text),
            ("lon", Real),
            ("lat", Real),
            ("description", Text),
            ("reporter_name", Text),
            ("reporter_contact", Text),
            ("photo", Blob),
            ("photo_type", Text),
            ("status", Text),
            ("client_hash", Text),
            ("created_at", Text),
            ("updated_at", Text),
            ("first_response_at", Text),
            ("finished_at", Text),
            ("rating", Int),
            ("rating_comment", Text),
            ("rated_at", Text),
        ],
    ),
    (
        "report_events",
        &[
            ("id", Int),
            ("report_id", Int),
            ("status", Text),
            ("note", Text),
            ("agency_id", Text),
            ("created_at", Text),
        ],
    ),
    ("report_keys", &[("id", Int), ("key", Text)]),
    (
        "change_events",
        &[
            ("id", Int),
            ("at", Text),
            ("kind", Text),
            ("audience", Text),
            ("agency_id", Text),
            ("from_agency_id", Text),
            ("layer_id", Text),
            ("version", Int),
            ("report_id", Int),
            ("status", Text),
        ],
    ),
    ("change_events_pruned", &[("id", Int), ("through", Int)]),
];

/// Tables whose `id` PostgreSQL generates: their sequences move past the
/// copied ids so that new rows do not collide with them.
const GENERATED_IDS: &[&str] = &[
    "users",
    "api_tokens",
    "layer_versions",
    "photos",
    "audit_log",
    "login_attempts",
    "reports",
    "report_events",
    "change_events",
];

/// One copied value.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
    Blob(Option<Vec<u8>>),
}

/// How many rows of each table were copied (and found in the destination
/// before it committed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TransferReport {
    /// `(table, rows)` in copy order; `features` counts every version's.
    pub tables: Vec<(String, i64)>,
}

/// Copies everything in `from` to the empty database `to`.
pub async fn copy(from: &Store, to: &Store) -> Result<TransferReport> {
    let existing: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM layers) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM audit_log)",
    )
    .fetch_one(&to.pool)
    .await?;
    if existing != 0 {
        return Err(Error::Conflict(
            "the destination already holds layers, users or audit records; migrate-data only fills an empty database".into(),
        ));
    }
    let mut tx = to.write().await?;
    copy_categories(from, &mut tx).await?;
    // The report types and their agencies come with the schema too; the
    // source's (with its routing) replace them.
    sqlx::query("DELETE FROM report_types")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM agencies")
        .execute(&mut *tx)
        .await?;
    let mut report = TransferReport::default();
    for (table, columns) in TABLES {
        let rows = copy_table(from, to.backend(), &mut tx, table, columns).await?;
        report.tables.push(((*table).to_owned(), rows));
        if *table == "layer_versions" {
            let features = copy_features(from, to.backend(), &mut tx).await?;
            report.tables.push(("features".to_owned(), features));
        }
    }
    verify(from, &mut tx, &report).await?;
    if to.backend() == Backend::Postgres {
        for table in GENERATED_IDS {
            // Table names come from the list above, never from input.
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// The 14 categories come with the schema; a source whose titles, icons
/// or colours were changed keeps them.
async fn copy_categories(from: &Store, tx: &mut Tx) -> Result<()> {
    for c in from.categories().await? {
        sqlx::query(
            "UPDATE categories SET title_id = $1, title_en = $2, icon = $3, color = $4 WHERE id = $5",
        )
        .bind(&c.title_id)
        .bind(&c.title_en)
        .bind(&c.icon)
        .bind(&c.color)
        .bind(&c.id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn copy_table(
    from: &Store,
    to: Backend,
    tx: &mut Tx,
    table: &str,
    columns: &[(&str, Kind)],
) -> Result<i64> {
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let list = names.join(", ");
    let order = if names.contains(&"id") {
        "id"
    } else {
        names[0]
    };
    // Table and column names come from TABLES, never from input.
    let rows = sqlx::query(&format!("SELECT {list} FROM {table} ORDER BY {order}"))
        .fetch_all(&from.pool)
        .await?;
    let mut copied = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut sql = format!("INSERT INTO {table} ({list}) VALUES ");
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for (j, (name, kind)) in columns.iter().enumerate() {
                if j > 0 {
                    sql.push(',');
                }
                // SQLite prepares anonymous parameters fastest (see
                // store::insert_sql); PostgreSQL knows only numbered ones.
                let n = i * columns.len() + j + 1;
                match (to, kind) {
                    (Backend::Sqlite, _) => sql.push('?'),
                    // See store::nullable_floats.
                    (Backend::Postgres, Real) => sql.push_str(&format!("NULLIF(${n}, 'NaN')")),
                    (Backend::Postgres, _) => sql.push_str(&format!("${n}")),
                }
                values.push(read(row, name, *kind)?);
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for v in values {
            q = match v {
                Value::Text(v) => q.bind(v),
                Value::Int(v) => q.bind(v),
                Value::Real(v) => q.bind(v.unwrap_or(f64::NAN)),
                Value::Blob(v) => q.bind(v),
            };
        }
        q.execute(&mut **tx).await?;
        copied += chunk.len() as i64;
    }
    Ok(copied)
}

fn read(row: &AnyRow, name: &str, kind: Kind) -> Result<Value> {
    Ok(match kind {
        Text => Value::Text(row.try_get(name)?),
        Int => Value::Int(row.try_get(name)?),
        Real => Value::Real(row.try_get(name)?),
        Blob => Value::Blob(row.try_get(name)?),
    })
}

/// Copies the features of every version (published, draft and old ones),
/// in their stored order.
async fn copy_features(from: &Store, to: Backend, tx: &mut Tx) -> Result<i64> {
    let versions: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, feature_count FROM layer_versions ORDER BY id")
            .fetch_all(&from.pool)
            .await?;
    let mut copied = 0;
    for (version_id, count) in versions {
        let mut seq = 0;
        while seq < count {
            let rows = from
                .feature_rows(version_id, seq, seq + FEATURES_PER_CHUNK)
                .await?;
            if rows.is_empty() {
                break;
            }
            let refs: Vec<FeatureRef<'_>> = rows.iter().map(FeatureRef::from).collect();
            insert_features(to, tx, version_id, seq, &refs).await?;
            seq += rows.len() as i64;
        }
        copied += seq;
    }
    Ok(copied)
}

/// Counts every table in the destination (inside the copy's transaction)
/// against the source, and each version's features against its
/// `feature_count`.
async fn verify(from: &Store, tx: &mut Tx, report: &TransferReport) -> Result<()> {
    for (table, copied) in &report.tables {
        // Table names come from TABLES (and "features"), never from input.
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let source: i64 = sqlx::query_scalar(&sql).fetch_one(&from.pool).await?;
        let dest: i64 = sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?;
        if source != dest || dest != *copied {
            return Err(Error::Corrupt(format!(
                "{table}: the source has {source} rows but {dest} arrived; nothing was committed"
            )));
        }
    }
    let short: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT v.id, v.feature_count, COUNT(f.seq) FROM layer_versions v
         LEFT JOIN features f ON f.version_id = v.id
         GROUP BY v.id, v.feature_count HAVING COUNT(f.seq) <> v.feature_count LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id, expected, found)) = short {
        return Err(Error::Corrupt(format!(
            "version row {id} should have {expected} features but {found} arrived; nothing was committed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn copies_everything_between_two_sqlite_databases() {
        let dir = std::env::temp_dir().join(format!("bsc-transfer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.db"), dir.join("b.db"));
        let _ = std::fs::remove_file(&a);
        let _ = std::fs::remove_file(&b);
        let from = Store::open(a.to_str().unwrap()).await.unwrap();
        crate::demo::load(&from, 300, 7).await.unwrap();
        // A citizen report, with its photo and history, travels too.
        let sent = from
            .submit_report(
                &crate::store::reports::NewReport {
                    type_id: "sampah".into(),
                    lon: 115.1686,
                    lat: -8.7184,
                    description: "Tumpukan sampah di pinggir jalan".into(),
                    photo: Some(crate::photo_meta::jpeg_with_gps()),
                    ..Default::default()
                },
                Some("10.1.2.3"),
                1 << 20,
            )
            .await
            .unwrap();
        let to = Store::open(b.to_str().unwrap()).await.unwrap();
        let report = copy(&from, &to).await.unwrap();
        let features = report
            .tables
            .iter()
            .find(|(t, _)| t == "features")
            .unwrap()
            .1;
        assert!(features > 300, "{report:?}");
        let (pa, pb) = (
            from.published_layers().await.unwrap(),
            to.published_layers().await.unwrap(),
        );
        assert_eq!(pa.len(), pb.len());
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(x.meta, y.meta);
            assert_eq!(x.version.id, y.version.id);
            let rows = |s: &Store, id| {
                let s = s.clone();
                async move { s.feature_rows(id, 0, i64::MAX).await.unwrap() }
            };
            let (ra, rb) = (
                rows(&from, x.version.id).await,
                rows(&to, y.version.id).await,
            );
            assert_eq!(ra.len(), rb.len());
            for (f, g) in ra.iter().zip(&rb) {
                assert_eq!(
                    (&f.fid_json, &f.geometry, &f.properties),
                    (&g.fid_json, &g.geometry, &g.properties)
                );
            }
        }
        let (ta, tb) = (
            from.track_report(&sent.code).await.unwrap().unwrap(),
            to.track_report(&sent.code).await.unwrap().unwrap(),
        );
        assert_eq!(
            serde_json::to_value(ta).unwrap(),
            serde_json::to_value(tb).unwrap()
        );
        assert_eq!(
            to.report_types().await.unwrap(),
            from.report_types().await.unwrap()
        );
        assert_eq!(
            to.report_photo(1).await.unwrap().unwrap().bytes,
            from.report_photo(1).await.unwrap().unwrap().bytes
        );
        // A second copy into the now full database is refused and changes nothing.
        let again = copy(&from, &to).await.unwrap_err();
        assert!(matches!(again, Error::Conflict(_)), "{again}");
        assert_eq!(to.published_layers().await.unwrap().len(), pb.len());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
