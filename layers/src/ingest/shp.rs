//! Zipped ESRI Shapefile uploads.
//!
//! The archive must hold exactly one shapefile: its `.shp` (geometries),
//! `.dbf` (attributes, optional), `.prj` (coordinate system, optional) and
//! `.cpg` (attribute encoding, optional). Entries are decompressed in memory
//! within the zip limits. The `.shx` index is not used: shapes are read in
//! order, and the index would only be one more count to distrust.
//!
//! The `.shp` bytes are walked once before the `shapefile` crate reads them,
//! checking every record's declared length and part/point counts against
//! the bytes that are really there, so that no count from the file can make
//! the crate allocate or compute out of range.

use std::io::Cursor;
use std::ops::ControlFlow;
use std::path::Path;

use geo::Contains;
use geojson::{GeometryValue, Position};
use serde_json::{Map, Value};
use shapefile::dbase::{self, FieldValue};
use shapefile::{PolygonRing, Shape};

use super::archive::{Archive, base_name, extension};
use super::geometry::{feature, is_lon_lat, number};
use super::reproject::{Crs, Reprojector};
use super::{Collector, Limits, ParsedFeature};

/// Reads the zipped shapefile at `path` into `collector`.
pub fn read_path<F, E>(path: &Path, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    if let Err(message) = read(path, limits, collector) {
        collector.fatal(message);
    }
}

/// The parts of one shapefile, as found in the archive.
#[derive(Default)]
struct Parts {
    shp: Option<usize>,
    dbf: Option<usize>,
    prj: Option<usize>,
    cpg: Option<usize>,
}

fn read<F, E>(path: &Path, limits: &Limits, c: &mut Collector<'_, F, E>) -> Result<(), String>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let mut archive = Archive::open(path, limits)?;
    let shps: Vec<&str> = archive
        .files
        .iter()
        .filter(|(_, n)| extension(n) == "shp")
        .map(|(_, n)| n.as_str())
        .collect();
    let stem = match shps.as_slice() {
        [] => {
            return Err(
                "the zip archive holds no shapefile (.shp); a zipped shapefile needs at least its .shp, .dbf and .prj"
                    .to_owned(),
            );
        }
        [one] => stem(one).to_owned(),
        many => {
            return Err(format!(
                "the zip archive holds {} shapefiles ({}); upload one shapefile per layer",
                many.len(),
                many.join(", ")
            ));
        }
    };
    let mut parts = Parts::default();
    for (i, name) in &archive.files {
        if !stem.eq_ignore_ascii_case(self::stem(name)) {
            continue;
        }
        let slot = match extension(name).as_str() {
            "shp" => &mut parts.shp,
            "dbf" => &mut parts.dbf,
            "prj" => &mut parts.prj,
            "cpg" => &mut parts.cpg,
            _ => continue,
        };
        *slot = Some(*i);
    }
    let shp_name = format!("{}.shp", base_name(&stem));
    let shp = match parts.shp {
        Some(i) => archive.read(i, limits)?,
        None => return Err("the zip archive holds no .shp".to_owned()),
    };
    check_shp(&shp, limits.max_feature_bytes)
        .map_err(|e| format!("{shp_name} is not a valid shapefile: {e}"))?;

    let crs = match parts.prj {
        Some(i) => {
            let prj = archive.read(i, limits)?;
            Some(Crs::parse(&String::from_utf8_lossy(&prj))?)
        }
        None => None,
    };
    let reprojector = match crs {
        Some(crs) => Reprojector::new(crs)?,
        None => None,
    };
    if let Some(r) = &reprojector {
        c.set_source_crs(r.crs().to_string());
    }

    let has_dbf = parts.dbf.is_some();
    let mut dbf = match parts.dbf {
        Some(i) => {
            let bytes = archive.read(i, limits)?;
            let cpg = match parts.cpg {
                Some(i) => Some(String::from_utf8_lossy(&archive.read(i, limits)?).into_owned()),
                None => None,
            };
            Some(Table::open(bytes, cpg.as_deref())?)
        }
        None => {
            c.warning(
                None,
                "the shapefile has no .dbf: features get no properties",
            );
            None
        }
    };
    let fields: Vec<(String, u8)> = dbf.as_ref().map(|t| t.fields.clone()).unwrap_or_default();
    let mut records = dbf.as_mut().map(|t| t.reader.iter_records());

    let mut shapes = shapefile::ShapeReader::new(Cursor::new(shp))
        .map_err(|e| format!("{shp_name} cannot be read: {e}"))?;
    let mut shape_iter = shapes.iter_shapes();
    loop {
        if c.is_aborted() {
            return Ok(());
        }
        let shape = shape_iter.next();
        let record = records.as_mut().and_then(|r| r.next());
        let shape = match (shape, record.is_some()) {
            (None, false) => return Ok(()),
            (None, true) => {
                c.error(None, "the .dbf has more records than the .shp has shapes");
                return Ok(());
            }
            (Some(s), _) => s,
        };
        let ControlFlow::Continue(i) = c.next_index() else {
            return Ok(());
        };
        let shape = match shape {
            Ok(s) => s,
            Err(e) => {
                return Err(format!("{shp_name}: shape {i} cannot be read: {e}"));
            }
        };
        let properties = match (record, has_dbf) {
            (Some(Ok(r)), _) => properties(&fields, &r),
            (Some(Err(e)), _) => {
                c.error(Some(i), format!("its .dbf record cannot be read: {e}"));
                continue;
            }
            (None, true) => {
                c.fatal("the .dbf has fewer records than the .shp has shapes");
                return Ok(());
            }
            (None, false) => Map::new(),
        };
        let geometry = match convert(shape) {
            Ok(g) => g,
            Err(e) => {
                c.error(Some(i), e);
                continue;
            }
        };
        let geometry = match (geometry, &reprojector) {
            (Some(mut g), Some(r)) => match r.geometry(&mut g) {
                Ok(()) => Some(g),
                Err(e) => {
                    c.error(Some(i), e);
                    continue;
                }
            },
            (Some(g), None) if crs.is_none() && !is_lon_lat(&g) => {
                return Err(format!(
                    "{shp_name} has no .prj and its coordinates are not longitude/latitude; add the .prj file to the zip so that they can be reprojected"
                ));
            }
            (g, _) => g,
        };
        c.feature(i, feature(geometry, properties, None));
    }
}

/// `dir/roads.shp` → `dir/roads`.
fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// Walks the `.shp` records, checking each declared length and count
/// against the bytes that are there, and each length against
/// `max_record` ([`Limits::max_feature_bytes`]) before the `shapefile`
/// crate allocates for it. (A .dbf record is at most 64 KiB: its length is
/// a 16-bit number.)
fn check_shp(b: &[u8], max_record: usize) -> Result<(), String> {
    let be =
        |at: usize| -> Option<i32> { b.get(at..at + 4)?.try_into().ok().map(i32::from_be_bytes) };
    if b.len() < 100 || be(0) != Some(9994) {
        return Err("the .shp header is missing".to_owned());
    }
    let declared = be(24)
        .and_then(|w| u64::try_from(w).ok())
        .map_or(u64::MAX, |w| w * 2);
    if declared > b.len() as u64 {
        return Err(format!(
            "the file is truncated (header says {declared} bytes, {} found)",
            b.len()
        ));
    }
    let end = usize::try_from(declared).unwrap_or(b.len());
    let mut pos = 100usize;
    let mut record = 0usize;
    while pos < end {
        let words = be(pos + 4).ok_or_else(|| format!("record {record} is cut off"))?;
        let len = usize::try_from(words)
            .ok()
            .and_then(|w| w.checked_mul(2))
            .ok_or_else(|| format!("record {record} has a negative length"))?;
        if len > max_record {
            return Err(format!(
                "record {record} takes {len} bytes, more than {max_record} (limit max_feature_bytes)"
            ));
        }
        let start = pos + 8;
        let content = start
            .checked_add(len)
            .filter(|&e| e <= end)
            .and_then(|e| b.get(start..e))
            .ok_or_else(|| format!("record {record} goes past the end of the file"))?;
        check_record(content).map_err(|e| format!("record {record}: {e}"))?;
        pos = start + len;
        record += 1;
    }
    Ok(())
}

/// Checks one record's shape type and counts against its length.
fn check_record(content: &[u8]) -> Result<(), String> {
    let le = |at: usize| -> Option<i32> {
        content
            .get(at..at + 4)?
            .try_into()
            .ok()
            .map(i32::from_le_bytes)
    };
    let count = |at: usize| -> Result<u64, String> {
        le(at)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| "its part or point count is missing or negative".to_owned())
    };
    let Some(shape_type) = le(0) else {
        return Err("the shape type is missing".to_owned());
    };
    let len = content.len() as u64;
    let needed = match shape_type {
        0 => 4,
        1 | 11 | 21 => 20,
        3 | 5 | 13 | 15 | 23 | 25 | 31 => {
            let parts = count(36)?;
            let points = count(40)?;
            let per_part = if shape_type == 31 { 8 } else { 4 };
            44 + parts * per_part + points * 16
        }
        8 | 18 | 28 => 40 + count(36)? * 16,
        other => return Err(format!("shape type {other} is not a shapefile type")),
    };
    if needed > len {
        return Err(format!(
            "it declares more parts or points than its {len} bytes hold"
        ));
    }
    Ok(())
}

/// A shape as a GeoJSON geometry (heights and measures dropped).
fn convert(shape: Shape) -> Result<Option<GeometryValue>, String> {
    let xy = |x: f64, y: f64| Position::from([x, y]);
    Ok(Some(match shape {
        Shape::NullShape => return Ok(None),
        Shape::Point(p) => GeometryValue::Point {
            coordinates: xy(p.x, p.y),
        },
        Shape::PointM(p) => GeometryValue::Point {
            coordinates: xy(p.x, p.y),
        },
        Shape::PointZ(p) => GeometryValue::Point {
            coordinates: xy(p.x, p.y),
        },
        Shape::Multipoint(m) => GeometryValue::MultiPoint {
            coordinates: m.points().iter().map(|p| xy(p.x, p.y)).collect(),
        },
        Shape::MultipointM(m) => GeometryValue::MultiPoint {
            coordinates: m.points().iter().map(|p| xy(p.x, p.y)).collect(),
        },
        Shape::MultipointZ(m) => GeometryValue::MultiPoint {
            coordinates: m.points().iter().map(|p| xy(p.x, p.y)).collect(),
        },
        Shape::Polyline(l) => lines(
            l.parts()
                .iter()
                .map(|p| p.iter().map(|q| xy(q.x, q.y)).collect()),
        ),
        Shape::PolylineM(l) => lines(
            l.parts()
                .iter()
                .map(|p| p.iter().map(|q| xy(q.x, q.y)).collect()),
        ),
        Shape::PolylineZ(l) => lines(
            l.parts()
                .iter()
                .map(|p| p.iter().map(|q| xy(q.x, q.y)).collect()),
        ),
        Shape::Polygon(p) => polygons(p.rings().iter().map(|r| ring(r, |q| xy(q.x, q.y)))),
        Shape::PolygonM(p) => polygons(p.rings().iter().map(|r| ring(r, |q| xy(q.x, q.y)))),
        Shape::PolygonZ(p) => polygons(p.rings().iter().map(|r| ring(r, |q| xy(q.x, q.y)))),
        Shape::Multipatch(_) => {
            return Err("Multipatch shapes (3D surfaces) are not supported".to_owned());
        }
    }))
}

/// One part is a LineString, several a MultiLineString.
fn lines(parts: impl Iterator<Item = Vec<Position>>) -> GeometryValue {
    let mut parts: Vec<Vec<Position>> = parts.collect();
    if parts.len() == 1 {
        GeometryValue::LineString {
            coordinates: parts.remove(0),
        }
    } else {
        GeometryValue::MultiLineString { coordinates: parts }
    }
}

/// A ring and whether it is an outer one (clockwise in a shapefile).
fn ring<P>(r: &PolygonRing<P>, xy: impl Fn(&P) -> Position) -> (bool, Vec<Position>) {
    let outer = matches!(r, PolygonRing::Outer(_));
    (outer, r.points().iter().map(xy).collect())
}

/// Groups rings into polygons: each hole goes to the outer ring that
/// contains it (shapefiles do not say which), or else to the one before it.
fn polygons(rings: impl Iterator<Item = (bool, Vec<Position>)>) -> GeometryValue {
    let mut polys: Vec<Vec<Vec<Position>>> = Vec::new();
    let mut shells: Vec<geo::Polygon<f64>> = Vec::new();
    let to_geo = |ring: &[Position]| -> geo::LineString<f64> {
        ring.iter()
            .map(|p| geo::coord! { x: p.as_slice().first().copied().unwrap_or(0.0), y: p.as_slice().get(1).copied().unwrap_or(0.0) })
            .collect()
    };
    for (outer, ring) in rings {
        if outer || polys.is_empty() {
            shells.push(geo::Polygon::new(to_geo(&ring), vec![]));
            polys.push(vec![ring]);
            continue;
        }
        let probe = ring.first().map(|p| {
            geo::Point::new(
                p.as_slice().first().copied().unwrap_or(0.0),
                p.as_slice().get(1).copied().unwrap_or(0.0),
            )
        });
        let owner = probe
            .and_then(|pt| shells.iter().position(|s| s.contains(&pt)))
            .unwrap_or(polys.len() - 1);
        if let Some(p) = polys.get_mut(owner) {
            p.push(ring);
        }
    }
    if polys.len() == 1 {
        GeometryValue::Polygon {
            coordinates: polys.remove(0),
        }
    } else {
        GeometryValue::MultiPolygon { coordinates: polys }
    }
}

/// The `.dbf` attribute table.
struct Table {
    reader: dbase::Reader<Cursor<Vec<u8>>>,
    /// `(name, decimal places)` of each field, in file order (the crate's
    /// records are hash maps, so the order comes from here).
    fields: Vec<(String, u8)>,
}

impl Table {
    /// Opens a `.dbf` in the encoding named by the `.cpg`, or else by the
    /// dBASE language driver byte (UTF-8 when that says nothing).
    fn open(bytes: Vec<u8>, cpg: Option<&str>) -> Result<Table, String> {
        let decimals = field_decimals(&bytes);
        let builder = dbase::ReaderBuilder::new();
        let builder = match cpg.map(str::trim).filter(|s| !s.is_empty()) {
            None => match encoding_from_language_driver(&bytes) {
                Some(e) => builder.with_encoding(e),
                None => builder,
            },
            Some(name) => match encoding_from_cpg(name) {
                Some(e) => builder.with_encoding(e),
                None => {
                    return Err(format!(
                        "the .cpg names an unknown encoding {name:?}; use UTF-8 or a Windows/ISO code page"
                    ));
                }
            },
        };
        let reader = builder
            .build(Cursor::new(bytes))
            .map_err(|e| format!("the .dbf cannot be read: {e}"))?;
        let fields = reader
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().to_owned(), decimals.get(i).copied().unwrap_or(0)))
            .collect();
        Ok(Table { reader, fields })
    }
}

/// One record's properties, in field order.
fn properties(fields: &[(String, u8)], record: &dbase::Record) -> Map<String, Value> {
    let mut props = Map::new();
    for (name, decimals) in fields {
        let value = match record.get(name) {
            None => continue,
            Some(v) => dbf_value(v, *decimals),
        };
        props.insert(name.clone(), value);
    }
    props
}

/// `.cpg` contents as GDAL and QGIS write them (`UTF-8`, `1252`, `CP1252`,
/// `ISO-8859-1`, `88591`, `LATIN1`, …).
fn encoding_from_cpg(name: &str) -> Option<dbase::encoding::DynEncoding> {
    let upper = name.trim().to_ascii_uppercase();
    let name = match upper.as_str() {
        "LATIN1" | "LATIN-1" | "ISO8859-1" | "ISO88591" => "ISO-8859-1",
        "UTF8" => "UTF-8",
        other => other,
    };
    dbase::encoding::DynEncoding::from_name(name).or_else(|| {
        encoding_rs::Encoding::for_label(name.as_bytes())
            .map(|e| dbase::encoding::EncodingRs::from(e).into())
    })
}

/// The encoding told by the dBASE language driver byte where the `dbase`
/// crate does not know it: 0x57 is what ArcGIS writes for Windows ANSI
/// (code page 1252); 0 says nothing, and then the records are read as UTF-8
/// when they are valid UTF-8 and as Windows-1252 (Latin-1) otherwise, as
/// older desktop tools wrote.
fn encoding_from_language_driver(b: &[u8]) -> Option<dbase::encoding::DynEncoding> {
    let windows_1252 = || Some(dbase::encoding::EncodingRs::from(encoding_rs::WINDOWS_1252).into());
    match b.get(29) {
        Some(0x57) => windows_1252(),
        Some(0x00) => {
            let header_len = b
                .get(8..10)
                .map_or(0, |h| usize::from(u16::from_le_bytes([h[0], h[1]])));
            let records = b.get(header_len..).unwrap_or_default();
            if std::str::from_utf8(records).is_ok() {
                None
            } else {
                windows_1252()
            }
        }
        _ => None,
    }
}

/// The decimal count of each field descriptor (byte 17 of each 32-byte
/// descriptor after the 32-byte header, up to the 0x0D terminator).
fn field_decimals(b: &[u8]) -> Vec<u8> {
    b.get(32..)
        .unwrap_or_default()
        .chunks_exact(32)
        .take_while(|d| d.first() != Some(&0x0d))
        .map(|d| d.get(17).copied().unwrap_or(0))
        .collect()
}

/// A dBASE value as JSON: numbers without decimals are integers, blank
/// fields are null.
fn dbf_value(v: &FieldValue, decimals: u8) -> Value {
    match v {
        FieldValue::Character(s) => s.clone().map_or(Value::Null, Value::String),
        FieldValue::Memo(s) => Value::String(s.clone()),
        FieldValue::Numeric(None)
        | FieldValue::Float(None)
        | FieldValue::Logical(None)
        | FieldValue::Date(None) => Value::Null,
        FieldValue::Numeric(Some(n)) if decimals == 0 && n.fract() == 0.0 && n.abs() < 9.0e15 => {
            // Exact: the value is integral and well within i64 range.
            #[allow(clippy::cast_possible_truncation)]
            Value::from(*n as i64)
        }
        FieldValue::Numeric(Some(n)) => number(*n),
        FieldValue::Float(Some(n)) => number(f64::from(*n)),
        FieldValue::Logical(Some(b)) => Value::Bool(*b),
        FieldValue::Date(Some(d)) => {
            Value::String(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        FieldValue::Integer(n) => Value::from(*n),
        FieldValue::Currency(n) | FieldValue::Double(n) => number(*n),
        FieldValue::DateTime(dt) => {
            let (d, t) = (dt.date(), dt.time());
            Value::String(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                t.hours(),
                t.minutes(),
                t.seconds()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Format;
    use crate::ingest::archive::tests::{tempfile_path::TempPath, write_zip};
    use crate::ingest::testing::{fixture, read_fixture, read_path_with};
    use std::io::Read;

    /// The entries of a fixture zip.
    fn entries(name: &str) -> Vec<(String, Vec<u8>)> {
        let mut z = zip::ZipArchive::new(std::fs::File::open(fixture(name)).unwrap()).unwrap();
        (0..z.len())
            .map(|i| {
                let mut f = z.by_index(i).unwrap();
                let mut b = Vec::new();
                f.read_to_end(&mut b).unwrap();
                (f.name().unwrap().into_owned(), b)
            })
            .collect()
    }

    fn zip_of(entries: &[(String, Vec<u8>)]) -> TempPath {
        let refs: Vec<(&str, &[u8])> = entries
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        write_zip(&refs)
    }

    fn kuta(out: &[ParsedFeature]) -> &ParsedFeature {
        out.iter()
            .find(|f| f.name.as_deref() == Some("Jalan Raya Kuta – café"))
            .unwrap_or_else(|| {
                panic!(
                    "no Kuta point in {:?}",
                    out.iter().map(|f| &f.name).collect::<Vec<_>>()
                )
            })
    }

    #[test]
    fn reads_a_utf8_shapefile() {
        let (out, r) = read_fixture("badung_points_utf8.zip", Format::Shapefile);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out.len(), 3);
        assert_eq!(r.source_crs, None);
        let f = kuta(&out);
        assert_eq!(
            f.geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.1689,-8.7184]}"#)
        );
        assert!(
            f.properties.starts_with(
                r#"{"nama":"Jalan Raya Kuta – café","jenis":"pantai","kapasitas":1200,"#
            ),
            "{}",
            f.properties
        );
        assert!(
            out[2].properties.contains(r#""kapasitas":null"#),
            "{}",
            out[2].properties
        );
    }

    #[test]
    fn reads_latin1_from_the_cpg_and_from_the_language_driver() {
        let (out, r) = read_fixture("badung_points_latin1.zip", Format::Shapefile);
        assert!(r.is_ok(), "{:?}", r.errors);
        kuta(&out);
        // Without the .cpg, the dBASE language driver byte 0x57 (ANSI,
        // Windows-1252) tells the encoding.
        let mut es = entries("badung_points_latin1.zip");
        es.retain(|(n, _)| !n.ends_with(".cpg"));
        for (n, b) in &mut es {
            if n.ends_with(".dbf") {
                b[29] = 0x57;
            }
        }
        let p = zip_of(&es);
        let (out, r) = read_path_with(&p, Format::Shapefile, &Limits::default());
        assert!(r.is_ok(), "{:?}", r.errors);
        kuta(&out);
    }

    #[test]
    fn reprojects_utm_50s() {
        let (out, r) = read_fixture("badung_points_utm50s.zip", Format::Shapefile);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(r.source_crs.as_deref(), Some("EPSG:32750"));
        let b = kuta(&out).bbox.unwrap();
        assert!(
            (b[0] - 115.1689).abs() < 1e-6 && (b[1] + 8.7184).abs() < 1e-6,
            "{b:?}"
        );
    }

    #[test]
    fn groups_polygon_holes_in_a_folder_inside_the_zip() {
        let (out, r) = read_fixture("badung_areas.zip", Format::Shapefile);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].geometry_type, Some("Polygon"));
        let g: serde_json::Value =
            serde_json::from_str(out[0].geometry.as_deref().unwrap()).unwrap();
        assert_eq!(
            g["coordinates"].as_array().unwrap().len(),
            2,
            "outer ring and hole"
        );
        assert_eq!(out[1].geometry_type, Some("MultiPolygon"));
        assert!(
            out[1].properties.contains(r#""kode":"5103020""#),
            "{}",
            out[1].properties
        );
    }

    #[test]
    fn refuses_unknown_crs_missing_prj_and_several_shapefiles() {
        let mut es = entries("badung_points_utm50s.zip");
        for (n, b) in &mut es {
            if n.ends_with(".prj") {
                *b = br#"PROJCS["DGN95 / Indonesia TM-3 zone 50.2",GEOGCS["DGN95"],AUTHORITY["EPSG","23836"]]"#.to_vec();
            }
        }
        let (_, r) = read_path_with(&zip_of(&es), Format::Shapefile, &Limits::default());
        assert!(
            r.errors[0]
                .message
                .contains("DGN95 / Indonesia TM-3 zone 50.2"),
            "{:?}",
            r.errors
        );

        es.retain(|(n, _)| !n.ends_with(".prj"));
        let (out, r) = read_path_with(&zip_of(&es), Format::Shapefile, &Limits::default());
        assert!(out.is_empty());
        assert!(r.errors[0].message.contains("no .prj"), "{:?}", r.errors);

        // Without a .prj, longitude/latitude coordinates are taken as WGS 84.
        let mut es = entries("badung_points_utf8.zip");
        es.retain(|(n, _)| !n.ends_with(".prj"));
        let (out, r) = read_path_with(&zip_of(&es), Format::Shapefile, &Limits::default());
        assert!(r.is_ok() && out.len() == 3, "{:?}", r.errors);

        let mut es = entries("badung_points_utf8.zip");
        es.extend(entries("badung_areas.zip"));
        let (_, r) = read_path_with(&zip_of(&es), Format::Shapefile, &Limits::default());
        let m = &r.errors[0].message;
        assert!(
            m.contains("2 shapefiles") && m.contains("kawasan/badung_areas.shp"),
            "{m}"
        );

        let p = write_zip(&[("readme.txt", b"no data")]);
        let (_, r) = read_path_with(&p, Format::Shapefile, &Limits::default());
        assert!(
            r.errors[0].message.contains("no shapefile"),
            "{:?}",
            r.errors
        );

        let p = write_zip(&[("../../etc/passwd", b"root:x:0:0"), ("a.shp", b"")]);
        let (_, r) = read_path_with(&p, Format::Shapefile, &Limits::default());
        assert!(
            r.errors[0]
                .message
                .contains("\"../../etc/passwd\" is not allowed"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn forged_counts_are_caught_before_the_crate_reads_them() {
        let es = entries("badung_points_utf8.zip");
        let shp = es
            .iter()
            .find(|(n, _)| n.ends_with(".shp"))
            .unwrap()
            .1
            .clone();
        assert!(check_shp(&shp, usize::MAX).is_ok());
        // A record larger than one feature may be (a point record is 20 bytes).
        assert_eq!(
            check_shp(&shp, 19),
            Err("record 0 takes 20 bytes, more than 19 (limit max_feature_bytes)".to_owned())
        );
        assert!(check_shp(&shp, 20).is_ok());
        // Truncated.
        assert!(check_shp(&shp[..shp.len() - 3], usize::MAX).is_err());
        // A polyline record claiming 2^31-1 points in 48 bytes.
        let mut rec = Vec::new();
        rec.extend_from_slice(&3i32.to_le_bytes());
        rec.extend_from_slice(&[0; 32]);
        rec.extend_from_slice(&1i32.to_le_bytes());
        rec.extend_from_slice(&i32::MAX.to_le_bytes());
        rec.extend_from_slice(&0i32.to_le_bytes());
        assert!(
            check_record(&rec)
                .unwrap_err()
                .contains("more parts or points")
        );
        rec[40..44].copy_from_slice(&(-1i32).to_le_bytes());
        assert!(check_record(&rec).unwrap_err().contains("negative"));
        // A record whose length runs past the end of the file.
        let mut forged = shp.clone();
        forged[104..108].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(
            check_shp(&forged, usize::MAX)
                .unwrap_err()
                .contains("past the end")
        );
        assert!(check_shp(b"short", usize::MAX).is_err());
    }
}
