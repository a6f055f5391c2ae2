//! GeoPackage uploads.
//!
//! The file is opened read-only and immutable with sqlx's SQLite driver on
//! a thread of its own (with its own small runtime, so this works whether
//! or not the caller is inside a tokio runtime, and the collector need not
//! be `Send`); rows stream back over a bounded channel.
//!
//! The feature table and its geometry column come from `gpkg_contents` and
//! `gpkg_geometry_columns`. A GeoPackage with several feature tables is
//! read from its first one (in `gpkg_contents` order) with a warning naming
//! the others: a layer is one table, and refusing the whole file would make
//! people split it with a desktop tool for nothing. Table and column names
//! come from the file, so they are only ever used as quoted identifiers.
//! Geometries are GeoPackage binary (header, then WKB), read with geozero;
//! the coordinate system comes from `gpkg_spatial_ref_sys`.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use futures_util::TryStreamExt;
use geozero::GeozeroGeometry;
use geozero::wkb::GpkgWkb;
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Row, TypeInfo, ValueRef};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::geometry::{GeometryBuilder, feature, geozero_message, is_lon_lat, number};
use super::reproject::{Crs, Reprojector, unsupported};
use super::{Budget, Collector, Limits, ParsedFeature};

/// Rows in flight between the SQLite thread and the collector.
const CHANNEL_ROWS: usize = 256;

/// Feature tables listed in the warning about the ones not read.
const MAX_LISTED_TABLES: i64 = 20;

/// Reads the GeoPackage at `path` into `collector`.
pub fn read_path<F, E>(path: &Path, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    if let Err(message) = read(path, limits, collector) {
        collector.fatal(message);
    }
}

/// One value of a row.
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What the SQLite thread sends.
enum Msg {
    Table {
        name: String,
        columns: Vec<String>,
        geometry: usize,
        fid: Option<usize>,
        crs: Option<Crs>,
        others: Vec<String>,
    },
    /// A row's values, and its size in bytes in the file.
    Row {
        cells: Vec<Cell>,
        size: usize,
    },
    Error(String),
}

fn read<F, E>(path: &Path, limits: &Limits, c: &mut Collector<'_, F, E>) -> Result<(), String>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let mut head = [0u8; 16];
    let is_sqlite = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"SQLite format 3\0";
    if !is_sqlite {
        return Err("not a GeoPackage (the file is not an SQLite database)".to_owned());
    }
    std::thread::scope(|s| {
        let (tx, rx) = sync_channel(CHANNEL_ROWS);
        s.spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the GeoPackage reader: {e}"))
                .and_then(|rt| rt.block_on(query(path, limits, &tx)));
            if let Err(e) = result {
                // sqlx 0.8 copies SQLite's error messages, which quote the
                // file's own bytes, into a `String` unchecked: invalid UTF-8
                // there crashed the process when the message was read
                // (found by the fuzzer; tests/fixtures/fuzz/gpkg/). Repair it.
                let e = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let _ = tx.send(Msg::Error(e));
            }
        });
        consume(rx, limits, c)
    })
}

/// The table being read, as the collector side knows it.
struct TableState {
    columns: Vec<String>,
    geometry: usize,
    fid: Option<usize>,
    reprojector: Option<Reprojector>,
    /// The GeoPackage gives no coordinate system (srs_id 0 or -1).
    unknown_crs: bool,
}

/// Turns rows into features; dropping `rx` (on return) stops the reader.
fn consume<F, E>(
    rx: Receiver<Msg>,
    limits: &Limits,
    c: &mut Collector<'_, F, E>,
) -> Result<(), String>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let mut table: Option<TableState> = None;
    let mut budget = Budget::new(limits);
    for msg in rx {
        if c.is_aborted() {
            return Ok(());
        }
        match msg {
            Msg::Error(e) => return Err(e),
            Msg::Table {
                name,
                columns,
                geometry,
                fid,
                crs,
                others,
            } => {
                if !others.is_empty() {
                    c.warning(
                        None,
                        format!(
                            "the GeoPackage has {} feature tables; only the first, {name:?}, was read (not {})",
                            others.len() + 1,
                            others.join(", ")
                        ),
                    );
                }
                let reprojector = match crs {
                    Some(crs) => Reprojector::new(crs)?,
                    None => None,
                };
                if let Some(r) = &reprojector {
                    c.set_source_crs(r.crs().to_string());
                }
                table = Some(TableState {
                    columns,
                    geometry,
                    fid,
                    unknown_crs: crs.is_none(),
                    reprojector,
                });
            }
            Msg::Row { cells, size } => {
                let Some(TableState {
                    columns,
                    geometry,
                    fid,
                    reprojector,
                    unknown_crs,
                }) = &table
                else {
                    return Err("GeoPackage row before its table".to_owned());
                };
                let ControlFlow::Continue(i) = c.next_index() else {
                    return Ok(());
                };
                budget.next_feature();
                if let Err(o) = budget.take(size) {
                    c.overrun(Some(i), o);
                    continue;
                }
                let mut props = Map::new();
                let mut id = None;
                let mut geom = Ok(None);
                for (k, cell) in cells.into_iter().enumerate() {
                    if k == *geometry {
                        geom = match cell {
                            Cell::Blob(b) => decode_geometry(&b, limits.max_vertices),
                            Cell::Null => Ok(None),
                            _ => Err("geometry is not a GeoPackage geometry blob".to_owned()),
                        };
                        continue;
                    }
                    if Some(k) == *fid
                        && let Cell::Int(n) = cell
                    {
                        id = Some(geojson::feature::Id::Number(n.into()));
                        continue;
                    }
                    let name = columns
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| format!("column{k}"));
                    let value = match cell {
                        Cell::Null => Value::Null,
                        Cell::Int(n) => Value::from(n),
                        Cell::Real(f) => number(f),
                        Cell::Text(s) => Value::String(s),
                        // Binary columns have no JSON form worth storing.
                        Cell::Blob(_) => continue,
                    };
                    props.insert(name, value);
                }
                let geom = geom.and_then(|g| match (g, reprojector) {
                    (Some(mut g), Some(r)) => r.geometry(&mut g).map(|()| Some(g)),
                    (Some(g), None) if *unknown_crs && !is_lon_lat(&g) => Err(
                        "the GeoPackage has no coordinate system for its geometries and they are not longitude/latitude".to_owned(),
                    ),
                    (g, _) => Ok(g),
                });
                match geom {
                    Ok(g) => c.feature(i, feature(g, props, id)),
                    Err(e) => c.error(Some(i), e),
                }
            }
        }
    }
    Ok(())
}

fn decode_geometry(
    blob: &[u8],
    max_vertices: usize,
) -> Result<Option<geojson::GeometryValue>, String> {
    let mut b = GeometryBuilder::new(max_vertices);
    GpkgWkb(blob)
        .process_geom(&mut b)
        .map_err(|e| format!("invalid GeoPackage geometry: {}", geozero_message(&e)))?;
    b.finish()
}

/// A name from the file as an SQL identifier: in double quotes, with
/// double quotes doubled, so that nothing in it is ever read as SQL.
fn quote(name: &str) -> Result<String, String> {
    if name.contains('\0') {
        return Err(format!(
            "GeoPackage table or column name {name:?} is not allowed"
        ));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// SQLite virtual machine steps between checks of the progress handler.
const PROGRESS_STEP: i32 = 100_000;
/// Checks (of [`PROGRESS_STEP`] steps each) a statement may run without
/// producing a row: 500 million steps, a few seconds of work, far more
/// than any plain table needs for one row.
const MAX_IDLE_STEPS: u64 = 5_000;

/// Refuses anything but a plain table: views and virtual tables run code
/// the file chose.
fn check_plain_table(name: &str, kind: &str, sql: Option<&str>) -> Result<(), String> {
    let is_virtual = sql.is_some_and(|s| {
        s.trim_start()
            .get(..20)
            .is_some_and(|p| p.to_ascii_uppercase().starts_with("CREATE VIRTUAL"))
    });
    if kind != "table" || is_virtual {
        return Err(format!(
            "GeoPackage {name:?} is a {}, not a table; only plain tables are read",
            if is_virtual { "virtual table" } else { kind }
        ));
    }
    Ok(())
}

/// Runs on the SQLite thread: finds the table, sends its description,
/// then its rows.
async fn query(path: &Path, limits: &Limits, tx: &SyncSender<Msg>) -> Result<(), String> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| format!("not a GeoPackage (cannot open it as SQLite: {e})"))?;
    // A file can define its tables as views (or virtual tables) that never
    // end; only plain tables are read, and a statement that runs long
    // without producing a row is interrupted.
    let idle = Arc::new(AtomicU64::new(0));
    let counter = idle.clone();
    conn.lock_handle()
        .await
        .map_err(|e| format!("not a GeoPackage: {e}"))?
        .set_progress_handler(PROGRESS_STEP, move || {
            counter.fetch_add(1, Ordering::Relaxed) < MAX_IDLE_STEPS
        });
    let kinds: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT name, type, sql FROM sqlite_master \
         WHERE name IN ('gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys')",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| format!("not a GeoPackage (cannot read its schema: {e})"))?;
    for (name, kind, sql) in &kinds {
        check_plain_table(name, kind, sql.as_deref())?;
    }
    let tables: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c \
         JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
         WHERE c.data_type = 'features' ORDER BY c.rowid LIMIT ?",
    )
    .bind(MAX_LISTED_TABLES + 1)
    .fetch_all(&mut conn)
    .await
    .map_err(|e| {
        format!("not a GeoPackage (its gpkg_contents and gpkg_geometry_columns tables cannot be read: {e})")
    })?;
    let mut tables = tables.into_iter();
    let Some((table, geometry_column, srs_id)) = tables.next() else {
        return Err("the GeoPackage has no feature table (only tiles or attributes?)".to_owned());
    };
    let others: Vec<String> = tables.map(|(t, _, _)| t).collect();
    let crs = srs(&mut conn, srs_id).await?;

    let kind: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT name, type, sql FROM sqlite_master WHERE name = ?")
            .bind(&table)
            .fetch_optional(&mut conn)
            .await
            .map_err(|e| format!("GeoPackage table {table:?} cannot be read: {e}"))?;
    match &kind {
        Some((name, kind, sql)) => check_plain_table(name, kind, sql.as_deref())?,
        None => {
            return Err(format!(
                "the GeoPackage names a table {table:?} it does not have"
            ));
        }
    }
    // table_xinfo, unlike table_info, lists generated columns too.
    let info: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT name, type, pk, hidden FROM pragma_table_xinfo({})",
        sql_string(&table)
    ))
    .fetch_all(&mut conn)
    .await
    .map_err(|e| format!("GeoPackage table {table:?} cannot be read: {e}"))?;
    check_columns(&table, &info, limits)?;
    let pks: Vec<&(String, String, i64, i64)> =
        info.iter().filter(|(_, _, pk, _)| *pk > 0).collect();
    let fid_name = match pks.as_slice() {
        [(name, kind, _, _)] if kind.eq_ignore_ascii_case("INTEGER") => Some(name.clone()),
        _ => None,
    };

    let columns: Vec<String> = info.into_iter().map(|(name, _, _, _)| name).collect();
    let sql = bounded_select(&table, &columns, limits.max_feature_bytes)?;
    let mut rows = sqlx::query(&sql).fetch(&mut conn);
    let mut described = false;
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(|e| format!("GeoPackage table {table:?} cannot be read: {e}"))?
    {
        idle.store(0, Ordering::Relaxed);
        if !described {
            let Some(geometry) = columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(&geometry_column))
            else {
                return Err(format!(
                    "GeoPackage table {table:?} has no geometry column {geometry_column:?}"
                ));
            };
            let fid = fid_name
                .as_ref()
                .and_then(|f| columns.iter().position(|c| c == f));
            let msg = Msg::Table {
                name: table.clone(),
                columns: columns.clone(),
                geometry,
                fid,
                crs,
                others: others.clone(),
            };
            if tx.send(msg).is_err() {
                return Ok(());
            }
            described = true;
        }
        let mut cells = cells(&row)?;
        let size = match cells.pop() {
            Some(Cell::Int(n)) => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err("GeoPackage row size cannot be read".to_owned()),
        };
        if tx.send(Msg::Row { cells, size }).is_err() {
            // The collector stopped reading.
            return Ok(());
        }
    }
    Ok(())
}

/// Refuses tables SQLite would compute values for, and tables with more
/// columns than a feature may have properties.
fn check_columns(
    table: &str,
    info: &[(String, String, i64, i64)],
    limits: &Limits,
) -> Result<(), String> {
    // `hidden` is 2 for a VIRTUAL and 3 for a STORED generated column (1
    // for the hidden columns of virtual tables, refused before). A STORED
    // value is read from the record, not computed, but it is refused all
    // the same: that rests on a schema the file chose, and GeoPackage
    // writers (GDAL, QGIS) make no generated columns.
    let generated: Vec<&str> = info
        .iter()
        .filter(|(_, _, _, hidden)| *hidden != 0)
        .map(|(name, _, _, _)| name.as_str())
        .take(10)
        .collect();
    if !generated.is_empty() {
        return Err(format!(
            "GeoPackage table {table:?} has generated columns ({}): SQLite would compute their values while reading, so such tables are refused; save the layer again without them (e.g. with ogr2ogr or QGIS's Export)",
            generated.join(", ")
        ));
    }
    // The properties, the geometry and the id.
    let most = limits.max_properties.saturating_add(2);
    if info.len() > most {
        return Err(format!(
            "GeoPackage table {table:?} has {} columns, more than {most} (limit max_properties, plus geometry and id)",
            info.len()
        ));
    }
    Ok(())
}

/// The query reading `table`: every column, as NULL when its value is
/// larger than `max_value` bytes, so that SQLite never hands over (and
/// sqlx never copies) a larger value; then the row's size in bytes, the
/// sum of its values' sizes. `octet_length` of a column reads only the
/// record header, not the value.
fn bounded_select(table: &str, columns: &[String], max_value: usize) -> Result<String, String> {
    let quoted = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut select: Vec<String> = quoted
        .iter()
        .map(|q| format!("CASE WHEN octet_length({q}) > {max_value} THEN NULL ELSE {q} END"))
        .collect();
    let sizes: Vec<String> = quoted
        .iter()
        .map(|q| format!("ifnull(octet_length({q}), 0)"))
        .collect();
    select.push(balanced_sum(&sizes));
    Ok(format!(
        "SELECT {} FROM {}",
        select.join(", "),
        quote(table)?
    ))
}

/// `a + b + …` as a balanced tree: SQLite limits the depth of an
/// expression (1,000), not its width.
fn balanced_sum(terms: &[String]) -> String {
    match terms {
        [] => "0".to_owned(),
        [one] => one.clone(),
        _ => {
            let (a, b) = terms.split_at(terms.len() / 2);
            format!("({} + {})", balanced_sum(a), balanced_sum(b))
        }
    }
}

/// A string as an SQL literal (for the table-valued pragma function).
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The values of a row, by storage class.
fn cells(row: &SqliteRow) -> Result<Vec<Cell>, String> {
    let mut out = Vec::new();
    for i in 0..row.len() {
        let raw = row
            .try_get_raw(i)
            .map_err(|e| format!("GeoPackage value cannot be read: {e}"))?;
        if raw.is_null() {
            out.push(Cell::Null);
            continue;
        }
        let kind = raw.type_info().name().to_owned();
        let err = |e: sqlx::Error| format!("GeoPackage value cannot be read: {e}");
        out.push(match kind.as_str() {
            "INTEGER" => Cell::Int(row.try_get_unchecked::<i64, _>(i).map_err(err)?),
            "REAL" => Cell::Real(row.try_get_unchecked::<f64, _>(i).map_err(err)?),
            "BLOB" => Cell::Blob(row.try_get_unchecked::<Vec<u8>, _>(i).map_err(err)?),
            _ => Cell::Text(row.try_get_unchecked::<String, _>(i).map_err(err)?),
        });
    }
    Ok(out)
}

/// The coordinate system of `srs_id`: `None` when the GeoPackage says it
/// is undefined (ids 0 and -1), which is taken as WGS 84 when the
/// coordinates are longitude/latitude.
async fn srs(conn: &mut SqliteConnection, srs_id: i64) -> Result<Option<Crs>, String> {
    if srs_id == 0 || srs_id == -1 {
        return Ok(None);
    }
    let row: Option<(String, String, i64, String)> = sqlx::query_as(
        "SELECT srs_name, organization, organization_coordsys_id, definition \
         FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
    )
    .bind(srs_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| format!("not a GeoPackage (gpkg_spatial_ref_sys cannot be read: {e})"))?;
    let Some((name, org, code, definition)) = row else {
        return Crs::from_epsg(srs_id)
            .map(Some)
            .ok_or_else(|| unsupported(&format!("srs_id {srs_id}")));
    };
    if org.eq_ignore_ascii_case("EPSG")
        && let Some(crs) = Crs::from_epsg(code)
    {
        return Ok(Some(crs));
    }
    match Crs::parse(&definition) {
        Ok(crs) => Ok(Some(crs)),
        Err(_) => Err(unsupported(&format!("{name} ({org}:{code})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Format;
    use crate::ingest::archive::tests::tempfile_path::TempPath;
    use crate::ingest::testing::{fixture, read_fixture, read_path_with};

    #[test]
    fn reads_a_geopackage() {
        let (out, r) = read_fixture("badung.gpkg", Format::GeoPackage);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out.len(), 6);
        assert_eq!(out[0].fid, "1");
        assert_eq!(out[0].name.as_deref(), Some("Jalan Raya Kuta – café"));
        assert_eq!(
            out[0].geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.1689,-8.7184]}"#)
        );
        assert!(
            out[0].properties.contains(r#""kapasitas":1200"#),
            "{}",
            out[0].properties
        );
        let types: Vec<_> = out
            .iter()
            .map(|f| f.geometry_type.unwrap_or("null"))
            .collect();
        assert_eq!(
            types,
            [
                "Point",
                "Point",
                "Point",
                "LineString",
                "Polygon",
                "MultiPolygon"
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn works_from_a_blocking_thread_of_a_runtime() {
        let (out, r) =
            tokio::task::spawn_blocking(|| read_fixture("badung.gpkg", Format::GeoPackage))
                .await
                .unwrap();
        assert!(r.is_ok() && out.len() == 6, "{:?}", r.errors);
        // Even called straight from async code, it must not panic.
        let (out, _) = read_fixture("badung.gpkg", Format::GeoPackage);
        assert_eq!(out.len(), 6);
    }

    #[test]
    fn refuses_what_is_not_a_geopackage() {
        let p = TempPath::with(b"just some text, not SQLite", "gpkg");
        let (_, r) = read_path_with(&p, Format::GeoPackage, &Limits::default());
        assert!(
            r.errors[0].message.contains("not an SQLite database"),
            "{:?}",
            r.errors
        );

        // A real SQLite database, but not a GeoPackage: the fixture
        // without its GeoPackage tables.
        let p = modified(&["DROP TABLE gpkg_contents"]);
        let (_, r) = read_path_with(&p, Format::GeoPackage, &Limits::default());
        assert!(
            r.errors[0].message.starts_with("not a GeoPackage"),
            "{:?}",
            r.errors
        );

        // Truncated SQLite.
        let bytes = std::fs::read(fixture("badung.gpkg")).unwrap();
        let p = TempPath::with(&bytes[..bytes.len() / 3], "gpkg");
        let (_, r) = read_path_with(&p, Format::GeoPackage, &Limits::default());
        assert!(!r.is_ok());
    }

    /// `badung.gpkg` changed by `sqls`.
    fn modified(sqls: &[&str]) -> TempPath {
        let bytes = std::fs::read(fixture("badung.gpkg")).unwrap();
        let p = TempPath::with(&bytes, "gpkg");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let opts = SqliteConnectOptions::new()
                .filename(&*p)
                .foreign_keys(false);
            let mut conn = SqliteConnection::connect_with(&opts).await.unwrap();
            for sql in sqls {
                sqlx::query(sql).execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
        });
        p
    }

    /// A generated column makes SQLite compute a value on every read: a
    /// few bytes of schema could make hundreds of MB per row.
    #[test]
    fn refuses_generated_columns() {
        let p = modified(&[
            "ALTER TABLE badung ADD COLUMN big TEXT GENERATED ALWAYS AS (printf('%.*c', 300000000, 'x')) VIRTUAL",
        ]);
        let started = std::time::Instant::now();
        let (out, r) = read_path_with(&p, Format::GeoPackage, &Limits::default());
        assert!(out.is_empty());
        let m = &r.errors[0].message;
        assert!(m.contains("generated columns (big)"), "{m}");
        assert!(started.elapsed().as_secs() < 5);
        // SQLite cannot add a stored generated column to a table: one made
        // with it.
        let p = modified(&[
            "CREATE TABLE gen (fid INTEGER PRIMARY KEY, geom BLOB, n INTEGER, \
             twice INTEGER GENERATED ALWAYS AS (n * 2) STORED)",
            "INSERT INTO gen (fid, geom, n) SELECT fid, geom, 1 FROM badung",
            "UPDATE gpkg_contents SET table_name = 'gen' WHERE table_name = 'badung'",
            "UPDATE gpkg_geometry_columns SET table_name = 'gen' WHERE table_name = 'badung'",
        ]);
        let (_, r) = read_path_with(&p, Format::GeoPackage, &Limits::default());
        assert!(
            r.errors[0].message.contains("generated columns (twice)"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn bounds_every_value_before_it_is_copied() {
        let p = modified(&[
            "ALTER TABLE badung ADD COLUMN notes TEXT",
            "UPDATE badung SET notes = printf('%.*c', 5000, 'x') WHERE fid = 2",
        ]);
        let limits = Limits {
            max_feature_bytes: 2000,
            ..Limits::default()
        };
        let (_, r) = read_path_with(&p, Format::GeoPackage, &limits);
        assert_eq!(r.read, 6, "reading goes on");
        assert_eq!(r.error_count, 1, "{:?}", r.errors);
        assert_eq!(r.errors[0].feature, Some(1));
        assert!(
            r.errors[0].message.contains("limit max_feature_bytes"),
            "{:?}",
            r.errors
        );
        // The value itself never leaves SQLite.
        let sql = bounded_select("t", &["a".to_owned(), "b".to_owned()], 10).unwrap();
        assert_eq!(
            sql,
            r#"SELECT CASE WHEN octet_length("a") > 10 THEN NULL ELSE "a" END, CASE WHEN octet_length("b") > 10 THEN NULL ELSE "b" END, (ifnull(octet_length("a"), 0) + ifnull(octet_length("b"), 0)) FROM "t""#
        );
        // All rows together.
        let limits = Limits {
            max_read_bytes: 5100,
            ..Limits::default()
        };
        let (_, r) = read_path_with(&p, Format::GeoPackage, &limits);
        assert!(
            r.errors[0].message.contains("limit max_read_bytes"),
            "{:?}",
            r.errors
        );
        // Too many columns.
        let limits = Limits {
            max_properties: 3,
            ..Limits::default()
        };
        let (_, r) = read_path_with(&p, Format::GeoPackage, &limits);
        assert!(
            r.errors[0]
                .message
                .contains("more than 5 (limit max_properties"),
            "{:?}",
            r.errors
        );
        // Wide tables stay within SQLite's expression depth.
        let many: Vec<String> = (0..2000).map(|i| format!("c{i}")).collect();
        let sum = balanced_sum(&many);
        assert!(sum.matches('(').count() < 2000);
    }

    #[test]
    fn quotes_names_from_the_file() {
        assert_eq!(
            quote(r#"a"; DROP TABLE x; --"#).unwrap(),
            r#""a""; DROP TABLE x; --""#
        );
        assert!(quote("a\0b").is_err());
        assert_eq!(sql_string("it's"), "'it''s'");
        assert!(decode_geometry(b"GP\0\x01", 10).is_err());
    }
}
