//! FlatGeobuf uploads.
//!
//! The file is framed here (magic, header, index, size-prefixed features)
//! and every table is opened through the `flatgeobuf` crate's generated,
//! verified FlatBuffers accessors. The crate's own reader is not used: it
//! sizes buffers from the sizes a file declares and indexes coordinates and
//! property bytes without bounds checks, so a hostile file could make it
//! allocate gigabytes or panic. Here every length is checked against what is
//! left of the file before anything is allocated, and property bytes and
//! coordinates are decoded with checked reads.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;

use flatgeobuf::{ColumnType, GeometryType};
use geojson::{Geometry, GeometryValue, Position};
use serde_json::{Map, Value};

use super::geometry::{MAX_GEOMETRY_DEPTH, feature, number};
use super::reproject::{Crs, Reprojector, unsupported};
use super::{Budget, Collector, Limits, ParsedFeature};

/// FlatGeobuf's largest header, as in the reference implementation.
const MAX_HEADER_BYTES: u64 = 10 << 20;

/// Size of one packed R-tree node in the index (4 doubles and an offset).
const NODE_ITEM_BYTES: u64 = 40;

/// Reads the FlatGeobuf file at `path` into `collector`.
pub fn read_path<F, E>(path: &Path, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    if let Err(message) = read(path, limits, collector) {
        collector.fatal(message);
    }
}

fn read<F, E>(path: &Path, limits: &Limits, c: &mut Collector<'_, F, E>) -> Result<(), String>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let file = File::open(path).map_err(|e| format!("cannot open the upload: {e}"))?;
    let len = file
        .metadata()
        .map_err(|e| format!("cannot read the upload: {e}"))?
        .len();
    let mut input = Input {
        inner: BufReader::with_capacity(256 * 1024, file),
        pos: 0,
        len,
    };

    let mut magic = [0u8; 8];
    input.exact(&mut magic, "magic bytes")?;
    if &magic[0..3] != b"fgb" || &magic[4..7] != b"fgb" {
        return Err("not a FlatGeobuf file (magic bytes missing)".to_owned());
    }
    if magic[3] != 3 {
        return Err(format!(
            "FlatGeobuf version {} is not supported (only version 3)",
            magic[3]
        ));
    }

    let header_len = input.size_prefix("header")?;
    if !(8..=MAX_HEADER_BYTES).contains(&header_len) {
        return Err(format!("FlatGeobuf header size {header_len} is invalid"));
    }
    let header_buf = input.prefixed(header_len, "header")?;
    let header = flatgeobuf::size_prefixed_root_as_header(&header_buf)
        .map_err(|e| format!("FlatGeobuf header is invalid: {}", e.to_string().trim()))?;

    let reprojector = match header.crs() {
        None => None,
        Some(crs) => Reprojector::new(fgb_crs(&crs)?)?,
    };
    if let Some(r) = &reprojector {
        c.set_source_crs(r.crs().to_string());
    }

    let index_len = index_size(header.features_count(), header.index_node_size())?;
    input.skip(index_len, "spatial index")?;

    let header_columns: Vec<(&str, ColumnType)> = header
        .columns()
        .map(|cs| cs.iter().map(|c| (c.name(), c.type_())).collect())
        .unwrap_or_default();
    for (name, _) in header_columns
        .iter()
        .filter(|(_, t)| *t == ColumnType::Binary)
    {
        c.warning(
            None,
            format!("column {name:?} holds binary data, which has no JSON form: it is left out"),
        );
    }
    let header_type = header.geometry_type();
    let mut budget = Budget::new(limits);
    loop {
        if c.is_aborted() {
            return Ok(());
        }
        if input.pos >= input.len {
            return Ok(());
        }
        let size = input.size_prefix("feature")?;
        let ControlFlow::Continue(i) = c.next_index() else {
            return Ok(());
        };
        budget.next_feature();
        if let Err(o) = budget.take(usize::try_from(size).unwrap_or(usize::MAX)) {
            c.overrun(Some(i), o);
            input.skip(size, &format!("feature {i}"))?;
            continue;
        }
        let buf = input.prefixed(size, &format!("feature {i}"))?;
        let f = match flatgeobuf::size_prefixed_root_as_feature(&buf) {
            Ok(f) => f,
            Err(e) => {
                c.error(
                    Some(i),
                    format!("invalid FlatGeobuf feature: {}", e.to_string().trim()),
                );
                continue;
            }
        };
        let feature_columns: Option<Vec<(&str, ColumnType)>> = f
            .columns()
            .map(|cs| cs.iter().map(|c| (c.name(), c.type_())).collect());
        let columns = feature_columns.as_deref().unwrap_or(&header_columns);
        let properties = match f.properties() {
            None => Ok(Map::new()),
            Some(bytes) => decode_properties(bytes.bytes(), columns),
        };
        let properties = match properties {
            Ok(p) => p,
            Err(e) => {
                c.error(Some(i), e);
                continue;
            }
        };
        let geometry = match f.geometry() {
            None => Ok(None),
            Some(g) => {
                let mut vertices = 0;
                decode_geometry(&g, header_type, 0, &mut vertices, limits.max_vertices)
            }
        };
        let geometry = geometry.and_then(|g| match (g, &reprojector) {
            (Some(mut g), Some(r)) => r.geometry(&mut g).map(|()| Some(g)),
            (g, _) => Ok(g),
        });
        match geometry {
            Ok(g) => c.feature(i, feature(g, properties, None)),
            Err(e) => c.error(Some(i), e),
        }
    }
}

/// The system named in a FlatGeobuf header.
fn fgb_crs(crs: &flatgeobuf::Crs<'_>) -> Result<Crs, String> {
    let org = crs.org().unwrap_or("EPSG");
    if crs.code() != 0 && org.eq_ignore_ascii_case("EPSG") {
        return Crs::from_epsg(i64::from(crs.code())).ok_or_else(|| {
            let label = match crs.name() {
                Some(n) => format!("{n} (EPSG:{})", crs.code()),
                None => format!("EPSG:{}", crs.code()),
            };
            unsupported(&label)
        });
    }
    if let Some(wkt) = crs.wkt().filter(|w| !w.trim().is_empty()) {
        return Crs::parse(wkt);
    }
    if let Some(code) = crs.code_string().filter(|s| !s.trim().is_empty()) {
        return Crs::parse(&format!("{org}:{code}"));
    }
    Err(unsupported(&format!("{org}:{}", crs.code())))
}

/// Bytes of the packed Hilbert R-tree for `count` features, computed with
/// checked arithmetic (the count is the file's claim, not a fact).
fn index_size(count: u64, node_size: u16) -> Result<u64, String> {
    if node_size == 0 || count == 0 {
        return Ok(0);
    }
    if node_size < 2 {
        return Err(format!("FlatGeobuf index node size {node_size} is invalid"));
    }
    // As in the reference implementation: the leaves, then each level up
    // to and including a root, so even one feature has a root above it.
    let mut n = count;
    let mut nodes = n;
    loop {
        n = n.div_ceil(u64::from(node_size));
        nodes = nodes
            .checked_add(n)
            .ok_or("FlatGeobuf index is too large")?;
        if n <= 1 {
            break;
        }
    }
    nodes
        .checked_mul(NODE_ITEM_BYTES)
        .ok_or_else(|| "FlatGeobuf index is too large".to_owned())
}

/// The file, with the position and length to check every declared size
/// against.
struct Input {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Input {
    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), String> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => format!("FlatGeobuf file is truncated (in the {what})"),
            _ => format!("cannot read the upload: {e}"),
        })?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// A little-endian `u32` size prefix.
    fn size_prefix(&mut self, what: &str) -> Result<u64, String> {
        let mut b = [0u8; 4];
        self.exact(&mut b, what)?;
        Ok(u64::from(u32::from_le_bytes(b)))
    }

    /// The `len` bytes after a size prefix, with the prefix in front (the
    /// FlatBuffers `size_prefixed_*` functions expect it). `len` is checked
    /// against the rest of the file before anything is allocated.
    fn prefixed(&mut self, len: u64, what: &str) -> Result<Vec<u8>, String> {
        if len > self.len.saturating_sub(self.pos) {
            return Err(format!(
                "FlatGeobuf file is truncated ({what} of {len} bytes goes past the end of the file)"
            ));
        }
        let n = usize::try_from(len).map_err(|_| format!("{what} is too large"))?;
        let prefix = u32::try_from(len).map_err(|_| format!("{what} is too large"))?;
        let mut buf = vec![0u8; n + 4];
        buf[..4].copy_from_slice(&prefix.to_le_bytes());
        self.exact(&mut buf[4..], what)?;
        Ok(buf)
    }

    fn skip(&mut self, len: u64, what: &str) -> Result<(), String> {
        if len > self.len.saturating_sub(self.pos) {
            return Err(format!(
                "FlatGeobuf file is truncated (the {what} of {len} bytes goes past the end of the file)"
            ));
        }
        let offset = i64::try_from(len).map_err(|_| format!("{what} is too large"))?;
        self.inner
            .seek(SeekFrom::Current(offset))
            .map_err(|e| format!("cannot read the upload: {e}"))?;
        self.pos += len;
        Ok(())
    }
}

/// Decodes FlatGeobuf property bytes: a sequence of (u16 column index,
/// value), every read bounds-checked.
fn decode_properties(
    bytes: &[u8],
    columns: &[(&str, ColumnType)],
) -> Result<Map<String, Value>, String> {
    let mut props = Map::new();
    let mut r = Bytes { b: bytes, pos: 0 };
    // A trailing byte after the last value occurs in files written by some
    // versions of the reference implementation; it is ignored as there.
    while r.remaining() > 1 {
        let idx = usize::from(u16::from_le_bytes(r.array()?));
        let &(name, t) = columns.get(idx).ok_or_else(|| {
            format!("property refers to column {idx}, which the file does not define")
        })?;
        let value = match t {
            ColumnType::Byte => Value::from(i8::from_le_bytes(r.array()?)),
            ColumnType::UByte => Value::from(u8::from_le_bytes(r.array()?)),
            ColumnType::Bool => Value::from(u8::from_le_bytes(r.array()?) != 0),
            ColumnType::Short => Value::from(i16::from_le_bytes(r.array()?)),
            ColumnType::UShort => Value::from(u16::from_le_bytes(r.array()?)),
            ColumnType::Int => Value::from(i32::from_le_bytes(r.array()?)),
            ColumnType::UInt => Value::from(u32::from_le_bytes(r.array()?)),
            ColumnType::Long => Value::from(i64::from_le_bytes(r.array()?)),
            ColumnType::ULong => Value::from(u64::from_le_bytes(r.array()?)),
            ColumnType::Float => number(f64::from(f32::from_le_bytes(r.array()?))),
            ColumnType::Double => number(f64::from_le_bytes(r.array()?)),
            ColumnType::String | ColumnType::DateTime | ColumnType::Json | ColumnType::Binary => {
                let n = usize::try_from(u32::from_le_bytes(r.array()?))
                    .map_err(|_| "property value is too large".to_owned())?;
                let raw = r.take(n)?;
                match t {
                    ColumnType::Binary => continue,
                    ColumnType::Json => serde_json::from_slice(raw).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(raw).into_owned())
                    }),
                    _ => Value::String(
                        std::str::from_utf8(raw)
                            .map_err(|_| format!("property {name:?} is not valid UTF-8"))?
                            .to_owned(),
                    ),
                }
            }
            other => return Err(format!("column type {other:?} is not supported")),
        };
        props.insert(name.to_owned(), value);
    }
    Ok(props)
}

/// A bounds-checked reader over property bytes.
struct Bytes<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| "property bytes end in the middle of a value".to_owned())?;
        let s = self.b.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N)?;
        s.try_into()
            .map_err(|_| "property bytes end in the middle of a value".to_owned())
    }
}

/// Decodes one FlatGeobuf geometry. `ty` is the header's type, or for
/// mixed layers (`Unknown`) the geometry's own.
fn decode_geometry(
    g: &flatgeobuf::Geometry<'_>,
    ty: GeometryType,
    depth: usize,
    vertices: &mut usize,
    max_vertices: usize,
) -> Result<Option<GeometryValue>, String> {
    if depth > MAX_GEOMETRY_DEPTH {
        return Err(format!(
            "geometry is nested more than {MAX_GEOMETRY_DEPTH} levels deep"
        ));
    }
    let ty = match if ty == GeometryType::Unknown {
        g.type_()
    } else {
        ty
    } {
        // A triangle is a polygon of one ring; a polyhedral surface or a
        // TIN is a set of polygons (or triangles), stored as parts.
        GeometryType::Triangle => GeometryType::Polygon,
        GeometryType::PolyhedralSurface | GeometryType::TIN => GeometryType::MultiPolygon,
        other => other,
    };
    let parts = || -> Vec<flatgeobuf::Geometry<'_>> {
        g.parts().map(|p| p.iter().collect()).unwrap_or_default()
    };
    if matches!(
        ty,
        GeometryType::MultiPolygon | GeometryType::GeometryCollection
    ) {
        let mut polys = Vec::new();
        let mut geoms = Vec::new();
        for part in parts() {
            let part_ty = if ty == GeometryType::MultiPolygon {
                GeometryType::Polygon
            } else {
                part.type_()
            };
            match decode_geometry(&part, part_ty, depth + 1, vertices, max_vertices)? {
                Some(GeometryValue::Polygon { coordinates })
                    if ty == GeometryType::MultiPolygon =>
                {
                    polys.push(coordinates);
                }
                Some(v) if ty == GeometryType::GeometryCollection => geoms.push(Geometry::new(v)),
                Some(_) => return Err("a MultiPolygon part is not a polygon".to_owned()),
                None => {}
            }
        }
        return Ok(Some(if ty == GeometryType::MultiPolygon {
            GeometryValue::MultiPolygon { coordinates: polys }
        } else {
            GeometryValue::GeometryCollection { geometries: geoms }
        }));
    }

    let xy: Vec<f64> = g.xy().map(|v| v.iter().collect()).unwrap_or_default();
    if !xy.len().is_multiple_of(2) {
        return Err("geometry has an odd number of coordinates".to_owned());
    }
    let n = xy.len() / 2;
    *vertices = vertices.saturating_add(n);
    if *vertices > max_vertices {
        return Err(format!(
            "geometry has more than {max_vertices} positions (limit max_vertices)"
        ));
    }
    let positions: Vec<Position> = xy
        .chunks_exact(2)
        .map(|p| Position::from([p[0], p[1]]))
        .collect();
    let ends: Vec<usize> = g
        .ends()
        .map(|e| e.iter().map(|x| x as usize).collect())
        .unwrap_or_default();
    Ok(Some(match ty {
        GeometryType::Point => match positions.into_iter().next() {
            Some(p) => GeometryValue::Point { coordinates: p },
            None => return Ok(None),
        },
        GeometryType::MultiPoint => GeometryValue::MultiPoint {
            coordinates: positions,
        },
        GeometryType::LineString => GeometryValue::LineString {
            coordinates: positions,
        },
        GeometryType::MultiLineString => GeometryValue::MultiLineString {
            coordinates: split(positions, &ends)?,
        },
        GeometryType::Polygon => GeometryValue::Polygon {
            coordinates: split(positions, &ends)?,
        },
        other => {
            return Err(format!(
                "geometry type {other:?} is not supported; convert to simple features (points, lines, polygons)"
            ));
        }
    }))
}

/// Splits positions into parts at `ends` (cumulative counts); no ends means
/// one part.
fn split(positions: Vec<Position>, ends: &[usize]) -> Result<Vec<Vec<Position>>, String> {
    if ends.len() <= 1 {
        if ends.first().is_some_and(|&e| e != positions.len()) {
            return Err("geometry ring ends do not match its coordinates".to_owned());
        }
        return Ok(vec![positions]);
    }
    let mut parts = Vec::new();
    let mut it = positions.into_iter();
    let mut start = 0;
    for &end in ends {
        let count = end
            .checked_sub(start)
            .ok_or("geometry ring ends are not increasing")?;
        let part: Vec<Position> = it.by_ref().take(count).collect();
        if part.len() != count {
            return Err("geometry ring ends go past its coordinates".to_owned());
        }
        parts.push(part);
        start = end;
    }
    if it.next().is_some() {
        return Err("geometry has coordinates after its last ring end".to_owned());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::archive::tests::tempfile_path::TempPath;
    use crate::ingest::testing::{fixture, read_fixture, read_path_with};

    #[test]
    fn reads_mixed_geometries_and_properties() {
        let (out, r) = read_fixture("badung.fgb", super::super::Format::FlatGeobuf);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out.len(), 6);
        assert_eq!(r.source_crs, None);
        // GDAL writes features in the order of its spatial index (which is
        // skipped here), not in input order.
        let by_name = |n: &str| out.iter().find(|f| f.name.as_deref() == Some(n)).unwrap();
        let first = by_name("Jalan Raya Kuta – café");
        assert_eq!(
            first.geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.1689,-8.7184]}"#)
        );
        assert!(
            first.properties.contains(r#""kapasitas":1200"#),
            "{}",
            first.properties
        );
        assert!(
            first.properties.contains(r#""luas_ha":3.5"#),
            "{}",
            first.properties
        );
        let mut types: Vec<_> = out
            .iter()
            .map(|f| f.geometry_type.unwrap_or("null"))
            .collect();
        types.sort_unstable();
        assert_eq!(
            types,
            [
                "LineString",
                "MultiPolygon",
                "Point",
                "Point",
                "Point",
                "Polygon"
            ]
        );
        let kuta = by_name("Kawasan Kuta")
            .geometry
            .as_deref()
            .unwrap_or_default();
        assert!(kuta.contains("[115.165,-8.725]"), "hole kept: {kuta}");
    }

    #[test]
    fn reprojects_web_mercator() {
        let (out, r) = read_fixture("badung_3857.fgb", super::super::Format::FlatGeobuf);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(r.source_crs.as_deref(), Some("EPSG:3857"));
        let f = out
            .iter()
            .find(|f| f.name.as_deref() == Some("Jalan Raya Kuta – café"))
            .unwrap();
        let b = f.bbox.unwrap();
        assert!(
            (b[0] - 115.1689).abs() < 1e-6 && (b[1] + 8.7184).abs() < 1e-6,
            "{b:?}"
        );
    }

    #[test]
    fn truncated_or_forged_files_are_errors_not_crashes() {
        let bytes = std::fs::read(fixture("badung.fgb")).unwrap();
        for cut in [0, 5, 8, 11, 40, bytes.len() / 2, bytes.len() - 1] {
            let p = TempPath::with(&bytes[..cut], "fgb");
            let (_, r) = read_path_with(&p, super::super::Format::FlatGeobuf, &Limits::default());
            assert!(!r.is_ok(), "cut at {cut} accepted");
            let m = &r.errors[0].message;
            assert!(
                m.contains("truncated") || m.contains("invalid") || m.contains("FlatGeobuf"),
                "{cut}: {m}"
            );
        }
        // A header claiming 4 GiB: refused before allocating.
        let mut forged = bytes[..8].to_vec();
        forged.extend_from_slice(&u32::MAX.to_le_bytes());
        let p = TempPath::with(&forged, "fgb");
        let (_, r) = read_path_with(&p, super::super::Format::FlatGeobuf, &Limits::default());
        assert!(
            r.errors[0].message.contains("header size"),
            "{:?}",
            r.errors
        );
        assert!(index_size(u64::MAX, 2).is_err());
        assert!(index_size(10, 1).is_err());
        // One feature has a root node above it, as GDAL and the reference
        // implementation write.
        assert_eq!(index_size(1, 16), Ok(80));
        assert_eq!(index_size(16, 16), Ok(17 * 40));
        assert_eq!(index_size(17, 16), Ok((17 + 2 + 1) * 40));
        // Property bytes cut in the middle of a value.
        assert!(decode_properties(&[0, 0, 1], &[]).is_err());
        assert!(decode_properties(&[0, 0, 1], &[("n", ColumnType::Int)]).is_err());
    }

    fn read_fgb(name: &str) -> (Vec<ParsedFeature>, crate::ingest::Report) {
        read_fixture(
            &format!("flatgeobuf/{name}"),
            super::super::Format::FlatGeobuf,
        )
    }

    /// Every file of the FlatGeobuf project's test data that GDAL reads,
    /// and GDAL's own output, imports (see tests/fixtures/formats/README.md).
    #[test]
    fn reads_what_gdal_reads() {
        for (name, count, types) in [
            ("alldatatypes.fgb", 1, "Point"),
            ("no_properties.fgb", 1, "Point"),
            ("heterogeneous.fgb", 3, "LineString,MultiPolygon,Point"),
            ("mp_overlapping.fgb", 2, "MultiPolygon"),
            ("unknown_feature_count.fgb", 1, "Polygon"),
            ("empty.fgb", 0, ""),
            ("countries.fgb", 179, "MultiPolygon"),
            ("countries_nogeo.fgb", 179, "null"),
            ("binary_wkb.fgb", 1, "null"),
            ("triangle.fgb", 1, "Polygon"),
            ("gdal_alltypes.fgb", 3, "Point"),
            ("gdal_no_properties.fgb", 3, "Point"),
            ("gdal_one_no_properties.fgb", 1, "Point"),
        ] {
            let (out, r) = read_fgb(name);
            assert!(r.is_ok(), "{name}: {:?}", r.errors);
            assert_eq!((r.read, out.len()), (count, count), "{name}");
            let got: Vec<&str> = r.geometry_types.keys().map(String::as_str).collect();
            assert_eq!(got.join(","), types, "{name}");
        }
        // A system bsc does not reproject is named, not a format error.
        let (_, r) = read_fgb("poly00.fgb");
        assert!(
            r.errors[0].message.contains("British National Grid"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn reads_every_column_type() {
        let (out, r) = read_fgb("alldatatypes.fgb");
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(
            out[0].properties,
            r#"{"byte":-1,"ubyte":255,"bool":true,"short":-1,"ushort":65535,"int":-1,"uint":4294967295,"long":-1,"ulong":18446744073709551615,"float":0.0,"double":0.0,"string":"X","json":"X","datetime":"2020-02-29T12:34:56Z"}"#
        );
        assert_eq!(r.warning_count, 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0]
                .message
                .contains("\"binary\" holds binary data"),
            "{:?}",
            r.warnings
        );

        let (out, r) = read_fgb("gdal_alltypes.fgb");
        assert!(r.is_ok(), "{:?}", r.errors);
        let kuta = out
            .iter()
            .find(|f| f.name.is_none() && f.properties.contains("café"))
            .unwrap();
        assert_eq!(
            kuta.properties,
            r#"{"bool":true,"short":-32768,"int":-2147483648,"long":-9223372036854775807,"float":1.5,"double":3.141592653589793,"string":"Jalan Raya Kuta – café","json":"{\"a\":[1,2,{\"b\":null}]}","date":"2026-11-30T00:00:00","time":"0000-00-00T12:34:56","datetime":"2026-11-30T12:34:56Z"}"#
        );
        // GDAL writes a Time field as a datetime string of year 0.
        assert!(out.iter().any(|f| f.properties == "{}"), "the row of nulls");
        assert!(r.warnings.iter().any(|w| w.message.contains("\"binary\"")));
    }

    #[test]
    fn refuses_a_feature_larger_than_max_feature_bytes() {
        let limits = Limits {
            max_feature_bytes: 200,
            ..Limits::default()
        };
        let (out, r) = read_path_with(
            &fixture("flatgeobuf/countries.fgb"),
            super::super::Format::FlatGeobuf,
            &limits,
        );
        assert!(out.is_empty());
        assert_eq!(r.read, 179, "reading goes on past a large feature");
        assert!(r.error_count > 0);
        assert!(
            r.errors[0].message.contains("limit max_feature_bytes"),
            "{:?}",
            r.errors
        );
        let limits = Limits {
            max_read_bytes: 10_000,
            ..Limits::default()
        };
        let (_, r) = read_path_with(
            &fixture("flatgeobuf/countries.fgb"),
            super::super::Format::FlatGeobuf,
            &limits,
        );
        assert!(r.read < 179);
        assert!(
            r.errors[0].message.contains("limit max_read_bytes"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn split_checks_ring_ends() {
        let ps = |n: usize| {
            (0..n)
                .map(|i| Position::from([i as f64, 0.0]))
                .collect::<Vec<_>>()
        };
        assert_eq!(split(ps(4), &[2, 4]).unwrap().len(), 2);
        assert!(split(ps(4), &[3, 2]).is_err());
        assert!(split(ps(4), &[2, 5]).is_err());
        assert!(split(ps(4), &[1, 2]).is_err());
        assert!(split(ps(4), &[3]).is_err());
    }
}
