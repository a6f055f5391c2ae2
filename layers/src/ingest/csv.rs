//! CSV uploads: a point per row from longitude/latitude columns, or any
//! geometry from a WKT column.
//!
//! Column names are matched case-insensitively: `lon`, `lng`, `long`,
//! `longitude`, `x`, `bujur` with `lat`, `latitude`, `y`, `lintang`; or
//! `wkt`, `geometry`, `geom`, `the_geom`. Coordinates must be WGS 84
//! longitude/latitude: a CSV has no place to name another system, so one
//! whose coordinates look projected is refused with a message saying so.
//!
//! The file is read twice (it is on disk): first to type the columns (a
//! column is numeric only when every non-empty value is a number, so that
//! codes such as `080361` or `+62 361` stay text), to choose the encoding
//! (UTF-8, or Windows-1252 as Excel writes when the file is not valid
//! UTF-8) and to check the coordinates; then to hand the features over.
//! The delimiter (`,`, `;` or tab) is guessed from the header line; with
//! `;`, a decimal comma (`115,1689`) is accepted as Indonesian spreadsheets
//! write it.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use geozero::GeozeroGeometry;
use geozero::wkt::Wkt;
use serde_json::{Map, Value};

use super::geometry::{
    GeometryBuilder, MAX_GEOMETRY_DEPTH, feature, geozero_message, is_lon_lat, number,
};
use super::{Budget, Collector, Limits, Overrun, ParsedFeature};

const LON_NAMES: &[&str] = &["lon", "lng", "long", "longitude", "x", "bujur"];
const LAT_NAMES: &[&str] = &["lat", "latitude", "y", "lintang"];
const WKT_NAMES: &[&str] = &["wkt", "geometry", "geom", "the_geom"];

/// Reads the CSV file at `path` into `collector`.
pub fn read_path<F, E>(path: &Path, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    if let Err(message) = read(path, limits, collector) {
        collector.fatal(message);
    }
}

/// Where the geometry comes from.
#[derive(Clone, Copy)]
enum Geom {
    LonLat(usize, usize),
    Wkt(usize),
}

/// What the first pass learnt about a property column.
#[derive(Clone, Copy)]
struct Column {
    /// Every non-empty value is an integer.
    int: bool,
    /// Every non-empty value is a number.
    num: bool,
}

/// The file's layout, from the first pass.
struct Layout {
    delimiter: u8,
    headers: Vec<String>,
    geom: Geom,
    columns: Vec<Column>,
    utf8: bool,
    decimal_comma: bool,
}

/// The file as the CSV parser reads it: every byte is charged to the
/// record being read before the parser copies it into the record, so a
/// huge field is refused after [`Limits::max_feature_bytes`] bytes instead
/// of being read whole (and then copied).
struct Counted {
    inner: File,
    budget: Budget,
    overrun: Option<Overrun>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Never read far past what the record may still take.
        let room = self.budget.feature_room().saturating_add(1);
        let cap = buf.len().min(room);
        let n = self.inner.read(&mut buf[..cap])?;
        if let Err(o) = self.budget.take(n) {
            self.overrun = Some(o);
            return Err(std::io::Error::other(o));
        }
        Ok(n)
    }
}

type CsvReader = ::csv::Reader<Counted>;

fn open(path: &Path, delimiter: u8, limits: &Limits) -> Result<CsvReader, String> {
    let file = File::open(path).map_err(|e| format!("cannot open the upload: {e}"))?;
    Ok(::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .buffer_capacity(256 * 1024)
        .from_reader(Counted {
            inner: file,
            budget: Budget::new(limits),
            overrun: None,
        }))
}

/// Reads the next record into `record`; `row` is its one-based number.
/// The bytes read ahead by the parser count towards the record, so the
/// limit is met within the parser's buffer (256 KiB).
fn next_record(
    reader: &mut CsvReader,
    record: &mut ::csv::ByteRecord,
    row: usize,
) -> Result<bool, String> {
    let result = reader.read_byte_record(record);
    let counted = reader.get_mut();
    counted.budget.next_feature();
    match (result, counted.overrun) {
        (Ok(more), _) => Ok(more),
        (Err(_), Some(o @ Overrun::Feature(_))) => Err(format!(
            "CSV row {row} (not counting the header) {o}; reading stopped there (is a quote left open?)"
        )),
        (Err(_), Some(o)) => Err(o.to_string()),
        (Err(e), None) => Err(format!("CSV cannot be read: {e}")),
    }
}

/// `,`, `;` or tab, whichever the header line has most of.
fn sniff_delimiter(path: &Path) -> Result<u8, String> {
    let file = File::open(path).map_err(|e| format!("cannot open the upload: {e}"))?;
    let mut head = Vec::new();
    file.take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot read the upload: {e}"))?;
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    Ok([b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b','))
}

/// A field as text, borrowed when it is UTF-8 already.
fn decode(field: &[u8], utf8: bool) -> Cow<'_, str> {
    if utf8 && let Ok(s) = std::str::from_utf8(field) {
        return Cow::Borrowed(s);
    }
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(field)
        .0
}

/// A numeric cell's text, with a decimal comma made a point.
fn numeric_text(s: &str, decimal_comma: bool) -> std::borrow::Cow<'_, str> {
    if decimal_comma && s.matches(',').count() == 1 && !s.contains('.') {
        s.replace(',', ".").into()
    } else {
        s.into()
    }
}

/// Whether a value is an integer and whether it is a number, as a value
/// (not as a code: leading zeros and a leading `+` mean text).
fn classify(s: &str) -> (bool, bool) {
    let b = s.as_bytes();
    let code = b.first() == Some(&b'+')
        || (b.len() > 1 && b.first() == Some(&b'0') && b.get(1).is_some_and(u8::is_ascii_digit))
        || (b.len() > 2 && b.starts_with(b"-0") && b.get(2).is_some_and(u8::is_ascii_digit));
    if code || !b.iter().all(|c| c.is_ascii_digit() || b".-+eE".contains(c)) {
        return (false, false);
    }
    if s.parse::<i64>().is_ok() {
        return (true, true);
    }
    (false, s.parse::<f64>().is_ok_and(f64::is_finite))
}

fn read<F, E>(path: &Path, limits: &Limits, c: &mut Collector<'_, F, E>) -> Result<(), String>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let layout = survey(path, limits)?;
    let mut reader = open(path, layout.delimiter, limits)?;
    let mut record = ::csv::ByteRecord::new();
    let mut row = 0usize;
    loop {
        if c.is_aborted() {
            return Ok(());
        }
        row += 1;
        if !next_record(&mut reader, &mut record, row)? {
            return Ok(());
        }
        let ControlFlow::Continue(i) = c.next_index() else {
            return Ok(());
        };
        // A property larger than all of a feature's properties may be is
        // refused before it is copied.
        if let Some((k, field)) = record.iter().enumerate().find(|(k, f)| {
            f.len() > limits.max_properties_bytes && !is_geometry_column(layout.geom, *k)
        }) {
            let name = layout.headers.get(k).map_or("", String::as_str);
            c.error(
                Some(i),
                format!(
                    "property {name:?} takes {} bytes, more than {} (limit max_properties_bytes)",
                    field.len(),
                    limits.max_properties_bytes
                ),
            );
            continue;
        }
        let cell = |k: usize| decode(record.get(k).unwrap_or_default(), layout.utf8);
        let geometry = match layout.geom {
            Geom::LonLat(x, y) => lon_lat(&cell(x), &cell(y), layout.decimal_comma),
            Geom::Wkt(k) => wkt(&cell(k), limits.max_vertices),
        };
        let geometry = match geometry {
            Ok(g) => g,
            Err(e) => {
                c.error(Some(i), e);
                continue;
            }
        };
        let mut props = Map::new();
        for (k, name) in layout.headers.iter().enumerate() {
            if is_geometry_column(layout.geom, k) {
                continue;
            }
            let Some(col) = layout.columns.get(k).copied() else {
                continue;
            };
            let v = cell(k);
            let v = v.trim();
            let value = if v.is_empty() {
                Value::Null
            } else if col.int {
                numeric_text(v, layout.decimal_comma)
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(v.to_owned()), Value::from)
            } else if col.num {
                numeric_text(v, layout.decimal_comma)
                    .parse::<f64>()
                    .map_or_else(|_| Value::String(v.to_owned()), number)
            } else {
                Value::String(v.to_owned())
            };
            props.insert(name.clone(), value);
        }
        c.feature(i, feature(geometry, props, None));
    }
}

/// Whether column `k` holds the geometry (and so is not a property).
fn is_geometry_column(geom: Geom, k: usize) -> bool {
    match geom {
        Geom::LonLat(x, y) => k == x || k == y,
        Geom::Wkt(w) => k == w,
    }
}

fn lon_lat(
    x: &str,
    y: &str,
    decimal_comma: bool,
) -> Result<Option<geojson::GeometryValue>, String> {
    let (x, y) = (x.trim(), y.trim());
    if x.is_empty() && y.is_empty() {
        return Ok(None);
    }
    let parse = |s: &str, what: &str| {
        numeric_text(s, decimal_comma)
            .parse::<f64>()
            .map_err(|_| format!("{what} {s:?} is not a number"))
    };
    let (lon, lat) = (parse(x, "longitude")?, parse(y, "latitude")?);
    Ok(Some(geojson::GeometryValue::Point {
        coordinates: geojson::Position::from([lon, lat]),
    }))
}

fn wkt(text: &str, max_vertices: usize) -> Result<Option<geojson::GeometryValue>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    // The WKT parser is recursive: refuse deep nesting before it starts.
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'(' => {
                depth += 1;
                if depth > MAX_GEOMETRY_DEPTH {
                    return Err(format!(
                        "WKT is nested more than {MAX_GEOMETRY_DEPTH} levels deep"
                    ));
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let mut b = GeometryBuilder::new(max_vertices);
    Wkt(text)
        .process_geom(&mut b)
        .map_err(|e| format!("invalid WKT: {}", geozero_message(&e)))?;
    b.finish()
}

/// The first pass: columns, types, encoding, coordinate ranges.
fn survey(path: &Path, limits: &Limits) -> Result<Layout, String> {
    let delimiter = sniff_delimiter(path)?;
    let mut reader = open(path, delimiter, limits)?;
    let raw_headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(match reader.get_ref().overrun {
                Some(o @ Overrun::Feature(_)) => format!("the CSV header {o}"),
                Some(o) => o.to_string(),
                None => format!("CSV header cannot be read: {e}"),
            });
        }
    };
    reader.get_mut().budget.next_feature();
    let mut utf8 = raw_headers.iter().all(|h| std::str::from_utf8(h).is_ok());
    let headers: Vec<String> = raw_headers
        .iter()
        .map(|h| {
            decode(h, utf8)
                .trim()
                .trim_start_matches('\u{feff}')
                .trim()
                .to_owned()
        })
        .collect();
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    };
    let geom = match (find(LON_NAMES), find(LAT_NAMES), find(WKT_NAMES)) {
        (Some(x), Some(y), _) => Geom::LonLat(x, y),
        (_, _, Some(w)) => Geom::Wkt(w),
        _ => {
            let shown: Vec<&str> = headers.iter().take(20).map(String::as_str).collect();
            return Err(format!(
                "CSV has no coordinate columns: expected longitude/latitude columns (lon/lat, lng, longitude/latitude, x/y, bujur/lintang) or a WKT column (wkt, geometry, geom, the_geom); found {}",
                if shown.is_empty() {
                    "no columns".to_owned()
                } else {
                    shown.join(", ")
                }
            ));
        }
    };
    let decimal_comma = delimiter == b';';
    let mut columns = vec![
        Column {
            int: true,
            num: true
        };
        headers.len()
    ];
    let (mut inside, mut outside) = (0usize, 0usize);
    let mut example = None;
    let mut record = ::csv::ByteRecord::new();
    let mut rows = 0usize;
    loop {
        if !next_record(&mut reader, &mut record, rows + 1)? {
            break;
        }
        rows += 1;
        if rows > limits.max_features {
            // The collector reports the limit when the rows are read again.
            break;
        }
        utf8 &= record.iter().all(|f| std::str::from_utf8(f).is_ok());
        for (k, col) in columns.iter_mut().enumerate() {
            if !(col.int || col.num) {
                continue;
            }
            let v = String::from_utf8_lossy(record.get(k).unwrap_or_default());
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let (int, num) = classify(&numeric_text(v, decimal_comma));
            col.int &= int;
            col.num &= num;
        }
        let cell = |k: usize| String::from_utf8_lossy(record.get(k).unwrap_or_default());
        let g = match geom {
            Geom::LonLat(x, y) => lon_lat(&cell(x), &cell(y), decimal_comma).ok().flatten(),
            Geom::Wkt(w) => wkt(&cell(w), limits.max_vertices).ok().flatten(),
        };
        if let Some(g) = g {
            if is_lon_lat(&g) {
                inside += 1;
            } else {
                outside += 1;
                if example.is_none() {
                    example = Some(serde_json::to_string(&g).unwrap_or_default());
                }
            }
        }
    }
    if outside > 0 && outside >= inside {
        let which = match geom {
            Geom::LonLat(x, y) => format!(
                "columns {} and {}",
                headers.get(x).map_or("", String::as_str),
                headers.get(y).map_or("", String::as_str)
            ),
            Geom::Wkt(w) => format!("column {}", headers.get(w).map_or("", String::as_str)),
        };
        return Err(format!(
            "the coordinates in {which} are not longitude/latitude (e.g. {}); they look projected (UTM?). A CSV must be in WGS 84 (EPSG:4326): export it with longitude/latitude, or upload a shapefile or GeoPackage, whose coordinate system is known",
            example.unwrap_or_default()
        ));
    }
    Ok(Layout {
        delimiter,
        headers,
        geom,
        columns,
        utf8,
        decimal_comma,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Format;
    use crate::ingest::archive::tests::tempfile_path::TempPath;
    use crate::ingest::testing::{read_fixture, read_path_with};

    fn read_text(csv: &[u8]) -> (Vec<ParsedFeature>, crate::ingest::Report) {
        let p = TempPath::with(csv, "csv");
        read_path_with(&p, Format::Csv, &Limits::default())
    }

    #[test]
    fn reads_lon_lat_columns() {
        let (out, r) = read_fixture("badung_lonlat.csv", Format::Csv);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0].geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.1689,-8.7184]}"#)
        );
        assert_eq!(
            out[0].properties,
            r#"{"nama":"Jalan Raya Kuta – café","jenis":"pantai","kapasitas":1200,"kelas":null,"kode":null,"luas_ha":3.5}"#
        );
        assert!(out[2].properties.contains(r#""kapasitas":null"#));
    }

    #[test]
    fn reads_a_wkt_column() {
        let (out, r) = read_fixture("badung_wkt.csv", Format::Csv);
        assert!(r.is_ok(), "{:?}", r.errors);
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
        // `kode` values like 5103010 are numbers in every row that has one.
        assert!(
            out[4].properties.contains(r#""kode":5103010"#),
            "{}",
            out[4].properties
        );
        assert!(
            out[4]
                .geometry
                .as_deref()
                .unwrap_or_default()
                .contains("[115.165,-8.725]")
        );
    }

    #[test]
    fn types_columns_and_reads_excel_flavours() {
        let text = "Nama;Bujur;Lintang;Kode_Pos;Telepon;Nilai\r\nPura;115,1689;-8,7184;080361;+62 361;1,5\r\nPasar;115,18;-8,53;;;2\r\n";
        let (out, r) = read_text(text.as_bytes());
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(
            out[0].geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.1689,-8.7184]}"#)
        );
        assert_eq!(
            out[0].properties,
            r#"{"Nama":"Pura","Kode_Pos":"080361","Telepon":"+62 361","Nilai":1.5}"#
        );
        assert_eq!(
            out[1].properties,
            r#"{"Nama":"Pasar","Kode_Pos":null,"Telepon":null,"Nilai":2.0}"#
        );
        // Windows-1252 from Excel, with a BOM-less header.
        let (out, r) = read_text(b"name,lon,lat\nCaf\xe9,115.1,-8.7\n");
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out[0].name.as_deref(), Some("Café"));
        // UTF-8 BOM and tabs.
        let (out, r) = read_text("\u{feff}X\tY\tn\n115.1\t-8.7\t7\n".as_bytes());
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out[0].properties, r#"{"n":7}"#);
    }

    /// A field as large as the whole feature may be is refused while it is
    /// read, not after being read whole and copied.
    #[test]
    fn refuses_a_huge_field_while_reading_it() {
        let limits = Limits {
            max_feature_bytes: 1 << 20,
            ..Limits::default()
        };
        let mut text = b"nama,lon,lat\nPura,115.1,-8.7\n\"".to_vec();
        text.resize(text.len() + (3 << 20), b'x');
        text.extend_from_slice(b"\",115.2,-8.6\n");
        let p = TempPath::with(&text, "csv");
        let (out, r) = read_path_with(&p, Format::Csv, &limits);
        assert!(out.is_empty());
        assert_eq!(r.error_count, 1, "{:?}", r.errors);
        let m = &r.errors[0].message;
        assert!(
            m.starts_with(
                "CSV row 2 (not counting the header) takes more than 1048576 bytes in the file (limit max_feature_bytes)"
            ),
            "{m}"
        );

        // A property larger than max_properties_bytes, but within the
        // feature's bytes, is an error in its feature only.
        let limits = Limits {
            max_properties_bytes: 1000,
            ..Limits::default()
        };
        let text = format!(
            "nama,lon,lat\nPura,115.1,-8.7\n{},115.2,-8.6\nPasar,115.3,-8.5\n",
            "y".repeat(5000)
        );
        let (_, r) = read_path_with(
            &TempPath::with(text.as_bytes(), "csv"),
            Format::Csv,
            &limits,
        );
        assert_eq!((r.read, r.error_count), (3, 1), "{:?}", r.errors);
        assert_eq!(r.errors[0].feature, Some(1));
        assert!(
            r.errors[0].message.contains(
                "property \"nama\" takes 5000 bytes, more than 1000 (limit max_properties_bytes)"
            ),
            "{:?}",
            r.errors
        );

        // All rows together.
        let limits = Limits {
            max_read_bytes: 100,
            ..Limits::default()
        };
        let text = "nama,lon,lat\n".to_owned() + &"Pura,115.1,-8.7\n".repeat(20);
        let (_, r) = read_path_with(
            &TempPath::with(text.as_bytes(), "csv"),
            Format::Csv,
            &limits,
        );
        assert!(
            r.errors[0].message.contains("limit max_read_bytes"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn refuses_missing_and_projected_coordinates() {
        let (out, r) = read_text(b"nama,alamat\nPura,Jl. Raya\n");
        assert!(out.is_empty());
        let m = &r.errors[0].message;
        assert!(
            m.contains("no coordinate columns") && m.contains("nama, alamat"),
            "{m}"
        );

        let (_, r) = read_text(b"nama,x,y\nKuta,298550.33,9035792.44\n");
        let m = &r.errors[0].message;
        assert!(
            m.contains("not longitude/latitude") && m.contains("EPSG:4326"),
            "{m}"
        );

        let (_, r) = read_text(b"wkt,n\n\"POINT (298550 9035792)\",1\n");
        assert!(r.errors[0].message.contains("column wkt"), "{:?}", r.errors);

        let (out, r) = read_text(b"lon,lat,n\nabc,-8.7,1\n115.1,-8.7,2\n,,3\n");
        assert_eq!(r.error_count, 1, "{:?}", r.errors);
        assert_eq!(r.errors[0].feature, Some(0));
        assert!(
            r.errors[0].message.contains("longitude \"abc\""),
            "{:?}",
            r.errors
        );
        assert!(out.is_empty(), "nothing stored once there is an error");

        let deep = format!(
            "wkt\n\"{}POINT (1 2){}\"\n",
            "GEOMETRYCOLLECTION (".repeat(40),
            ")".repeat(40)
        );
        let (_, r) = read_text(deep.as_bytes());
        assert!(r.errors[0].message.contains("nested"), "{:?}", r.errors);
    }
}
