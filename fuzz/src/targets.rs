//! The fuzz targets: each feeds one input to one real reader.

use axum::http::{HeaderMap, HeaderValue, header};
use layers::bbox::Bbox;
use layers::ingest::{Collector, Format, Limits};
use layers::query::cql2 as cql;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

/// Every target, in the order `all` runs them.
pub const NAMES: [&str; 10] = [
    "geojson",
    "fgb",
    "shapefile",
    "kml",
    "kmz",
    "csv",
    "gpkg",
    "cql2",
    "bbox",
    "range",
];

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// An upload read from a file by `layers::ingest::read_path`.
    Upload(Format),
    Cql2,
    Bbox,
    Range,
}

#[derive(Clone, Debug)]
pub struct Target {
    pub name: &'static str,
    /// Extension of the saved inputs (and of the file readers are given).
    pub ext: &'static str,
    pub kind: Kind,
    /// Extensions of the fixture files that seed it.
    seed_exts: &'static [&'static str],
    /// Tokens spliced in by the mutator.
    pub dictionary: &'static [&'static str],
    builtin: &'static [&'static str],
}

impl Target {
    pub fn by_name(name: &str) -> Option<Target> {
        use Format as F;
        let t = |name, ext, kind, seed_exts, dictionary, builtin| Target {
            name,
            ext,
            kind,
            seed_exts,
            dictionary,
            builtin,
        };
        Some(match name {
            "geojson" => t(
                "geojson",
                "geojson",
                Kind::Upload(F::GeoJson),
                &["geojson", "json", "geojsonl"],
                GEOJSON_DICT,
                GEOJSON_SEEDS,
            ),
            "fgb" => t(
                "fgb",
                "fgb",
                Kind::Upload(F::FlatGeobuf),
                &["fgb"],
                &[],
                &[],
            ),
            "shapefile" => t(
                "shapefile",
                "zip",
                Kind::Upload(F::Shapefile),
                &["zip"],
                &[],
                &[],
            ),
            "kml" => t(
                "kml",
                "kml",
                Kind::Upload(F::Kml),
                &["kml"],
                KML_DICT,
                KML_SEEDS,
            ),
            "kmz" => t("kmz", "kmz", Kind::Upload(F::Kmz), &["kmz"], KML_DICT, &[]),
            "csv" => t(
                "csv",
                "csv",
                Kind::Upload(F::Csv),
                &["csv", "tsv"],
                CSV_DICT,
                CSV_SEEDS,
            ),
            "gpkg" => t(
                "gpkg",
                "gpkg",
                Kind::Upload(F::GeoPackage),
                &["gpkg"],
                &[],
                &[],
            ),
            "cql2" => t("cql2", "txt", Kind::Cql2, &[], CQL_DICT, CQL_SEEDS),
            "bbox" => t("bbox", "txt", Kind::Bbox, &[], BBOX_DICT, BBOX_SEEDS),
            "range" => t("range", "txt", Kind::Range, &[], RANGE_DICT, RANGE_SEEDS),
            _ => return None,
        })
    }

    /// Whether inputs are zip archives, mutated entry by entry too.
    pub fn zipped(&self) -> bool {
        matches!(self.kind, Kind::Upload(Format::Shapefile | Format::Kmz))
    }

    /// Seeds: fixtures of the format, earlier findings, built-in inputs.
    pub fn seeds(&self, fixtures: &Path) -> Vec<Vec<u8>> {
        let mut files = Vec::new();
        walk(fixtures, &mut files);
        files.sort();
        let own = fixtures.join("fuzz").join(self.name);
        let mut out: Vec<Vec<u8>> = files
            .iter()
            .filter(|p| {
                p.starts_with(&own)
                    || (!p.starts_with(fixtures.join("fuzz"))
                        && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            self.seed_exts.contains(&e.to_ascii_lowercase().as_str())
                        }))
            })
            .filter_map(|p| std::fs::read(p).ok())
            .collect();
        out.extend(self.builtin.iter().map(|s| s.as_bytes().to_vec()));
        out
    }

    /// Runs the reader on `input` (also written at `path`). `Ok` is a
    /// signature of the outcome; `Err` a broken promise of the reader (a
    /// result its documentation rules out).
    pub fn run(&self, input: &[u8], path: &Path) -> Result<u64, String> {
        match self.kind {
            Kind::Upload(format) => Ok(upload(format, path)),
            Kind::Cql2 => Ok(cql2(input)),
            Kind::Bbox => bbox(input),
            Kind::Range => range(input),
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A hash of an outcome with its digits dropped, so that "feature 3" and
/// "feature 4" count as the same outcome.
fn signature(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.chars()
        .filter(|c| !c.is_ascii_digit())
        .for_each(|c| c.hash(&mut h));
    h.finish()
}

fn upload(format: Format, path: &Path) -> u64 {
    let limits = Limits::default();
    let mut features = 0usize;
    let mut c = Collector::new(format.name(), &limits, |_| {
        features += 1;
        Ok::<_, ()>(())
    });
    layers::ingest::read_path(path, format, &limits, &mut c);
    match c.finish() {
        Ok(r) => {
            let first = r
                .errors
                .first()
                .or(r.warnings.first())
                .map(|p| p.message.as_str());
            signature(&format!(
                "{}:{}:{}",
                r.is_ok(),
                r.features.min(3),
                first.unwrap_or_default()
            ))
        }
        Err(()) => 0,
    }
}

fn cql2(input: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(input);
    let mut q = cql::Queryables::new();
    q.insert("nama".into(), "String".into());
    q.insert("nomor".into(), "Number".into());
    q.insert("aktif".into(), "Boolean".into());
    let props = serde_json::json!({"nama": "Pura Dalem", "nomor": 7, "aktif": true});
    let mut sig = String::new();
    for lang in ["cql2-text", "cql2-json"] {
        match cql::compile(&text, lang, &q) {
            Ok(node) => {
                let _ = node.envelope();
                for geometry in [
                    None,
                    Some(geo::Geometry::Point(geo::Point::new(115.17, -8.72))),
                    Some(geo::Geometry::Rect(geo::Rect::new(
                        geo::coord! {x: 115.0, y: -9.0},
                        geo::coord! {x: 116.0, y: -8.0},
                    ))),
                ] {
                    let geometry = geometry.filter(|_| node.needs_geometry());
                    let r = node.eval(&cql::Candidate {
                        properties: props.as_object(),
                        geometry,
                    });
                    sig.push_str(&format!("{r:?}"));
                }
            }
            Err(e) => sig.push_str(&e.to_string()),
        }
    }
    signature(&sig)
}

fn bbox(input: &[u8]) -> Result<u64, String> {
    let Ok(text) = std::str::from_utf8(input) else {
        return Ok(0);
    };
    match text.parse::<Bbox>() {
        Ok(b) => {
            let parts: Vec<Bbox> = b.parts().collect();
            let sane = |v: f64, lim: f64| v.is_finite() && (-lim..=lim).contains(&v);
            let ordered = b.miny <= b.maxy && parts.iter().all(|p| p.minx <= p.maxx);
            let in_range = [b.minx, b.maxx].iter().all(|&x| sane(x, 180.0))
                && [b.miny, b.maxy].iter().all(|&y| sane(y, 90.0));
            if !(ordered && in_range) {
                return Err(format!("{text:?} parsed as {b:?}"));
            }
            // Displayed and parsed again, it is the same box.
            let again: Result<Bbox, _> = b.to_string().parse();
            if again.as_ref() != Ok(&b) {
                return Err(format!("{text:?} -> {b} -> {again:?}"));
            }
            Ok(signature(&format!("ok{}", parts.len())))
        }
        Err(e) => Ok(signature(&e.to_string())),
    }
}

fn range(input: &[u8]) -> Result<u64, String> {
    let Ok(value) = HeaderValue::from_bytes(input) else {
        return Ok(0);
    };
    let mut h = HeaderMap::new();
    h.insert(header::RANGE, value);
    let mut sig = String::new();
    for len in [0, 1, 100, u64::MAX] {
        let r = server::routes::download::byte_range(&h, len);
        if let Ok(Some((start, end))) = r
            && (start > end || end >= len)
        {
            return Err(format!("{input:?} on {len} bytes gave {start}-{end}"));
        }
        sig.push_str(match r {
            Ok(None) => "whole",
            Ok(Some(_)) => "part",
            Err(()) => "unsatisfiable",
        });
    }
    Ok(signature(&sig))
}

const GEOJSON_SEEDS: &[&str] = &[
    r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"nama":"Pura","n":1.5,"a":[1,{"b":null}]},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}]}"#,
    r#"{"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[[[115,-9],[116,-9],[116,-8],[115,-8],[115,-9]],[[115.2,-8.8],[115.4,-8.8],[115.4,-8.6],[115.2,-8.8]]]}}"#,
    r#"{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[2,2],[2,0],[0,2],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}}"#,
    "{\"type\":\"Feature\",\"properties\":{\"x\":1},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[1,2],[3,4,5]]}}\n{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"GeometryCollection\",\"geometries\":[{\"type\":\"MultiPoint\",\"coordinates\":[[1,1]]}]}}\n",
    "\u{1e}{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}\n\u{1e}{\"type\":\"Feature\",\"id\":\"a\",\"properties\":{},\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":[[[0,0],[1,1]]]}}\n",
];
const GEOJSON_DICT: &[&str] = &[
    "\"type\"",
    "\"Feature\"",
    "\"FeatureCollection\"",
    "\"features\"",
    "\"Polygon\"",
    "\"MultiPolygon\"",
    "\"GeometryCollection\"",
    "\"geometries\"",
    "\"coordinates\"",
    "\"properties\"",
    "\"bbox\"",
    "\"crs\"",
    "\"id\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "null",
    "1e308",
    "-1e308",
    "1e999",
    "4.9e-324",
    "-0",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[[[0,0],[1,0],[1,1],[0,0]]]",
    "\n",
    "\u{1e}",
];
const KML_SEEDS: &[&str] = &[
    r#"<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><Placemark><name>A</name><ExtendedData><Data name="x"><value>1</value></Data><SchemaData><SimpleData name="y">2</SimpleData></SchemaData></ExtendedData><MultiGeometry><Point><coordinates>115.1,-8.6,0</coordinates></Point><LineString><coordinates>1,2 3,4</coordinates></LineString><Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 4,0 4,4 0,4 0,0</coordinates></LinearRing></outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>1,1 2,1 2,2 1,1</coordinates></LinearRing></innerBoundaryIs></Polygon></MultiGeometry></Placemark></Folder></Document></kml>"#,
];
const KML_DICT: &[&str] = &[
    "<Placemark>",
    "</Placemark>",
    "<Polygon><outerBoundaryIs><LinearRing><coordinates>",
    "</coordinates></LinearRing></outerBoundaryIs></Polygon>",
    "<innerBoundaryIs>",
    "<MultiGeometry>",
    "</MultiGeometry>",
    "<Point><coordinates>1,2</coordinates></Point>",
    "<coordinates>",
    "</coordinates>",
    "<!DOCTYPE x [<!ENTITY a \"b\">]>",
    "&a;",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "<![CDATA[",
    "]]>",
    "<name>",
    "</name>",
    "<Data name=\"",
    "<value>",
    "<Folder>",
    "<Document>",
    "1e308,",
    "NaN,",
    " ",
    ",",
];
const CSV_SEEDS: &[&str] = &[
    "lon,lat,name\n115.1,-8.6,Kuta\n115.2,-8.7,\"Sanur, Bali\"\n",
    "WKT;nama\n\"POLYGON((0 0,1 0,1 1,0 0))\";a\nMULTIPOINT((1 2),(3 4));b\n",
    "x\ty\tn\n1\t2\t3\n",
];
const CSV_DICT: &[&str] = &[
    ",",
    ";",
    "\t",
    "\"",
    "\n",
    "\r\n",
    "POINT(",
    "POLYGON((",
    "MULTIPOLYGON(((",
    "GEOMETRYCOLLECTION(",
    "LINESTRING(",
    "EMPTY",
    ")",
    "1e308",
    "NaN",
    "inf",
    "lon",
    "lat",
    "WKT",
    "geometry",
    "\u{feff}",
];
const CQL_SEEDS: &[&str] = &[
    "nama = 'Pura Dalem'",
    "nomor > 5 AND nomor < 8 OR NOT aktif = true",
    "nomor BETWEEN 8 AND 9",
    "nomor IN (1, 7)",
    "CASEI(nama) LIKE 'pura%'",
    "nama IS NULL",
    "S_INTERSECTS(geometry, POLYGON((115 -9, 116 -9, 116 -8, 115 -8, 115 -9)))",
    "S_WITHIN(geometry, BBOX(0, 0, 1, 1))",
    "S_CONTAINS(geometry, MULTIPOINT((1 2), (3 4)))",
    r#"{"op":"<>","args":[{"property":"nomor"},3]}"#,
    r#"{"op":"and","args":[{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[0,0,1,1]}]},{"op":"like","args":[{"property":"nama"},"P%"]}]}"#,
];
const CQL_DICT: &[&str] = &[
    " AND ",
    " OR ",
    "NOT ",
    "(",
    ")",
    "'",
    "\"",
    "=",
    "<>",
    "<=",
    " LIKE ",
    " BETWEEN ",
    " IN (",
    " IS NULL",
    "CASEI(",
    "ACCENTI(",
    "S_INTERSECTS(geometry, ",
    "POINT(1 2)",
    "POLYGON((0 0,1 0,1 1,0 0))",
    "GEOMETRYCOLLECTION(POINT(1 2))",
    "BBOX(0,0,1,1)",
    "nama",
    "nomor",
    "aktif",
    "geometry",
    "TIMESTAMP('2020-01-01T00:00:00Z')",
    "INTERVAL('..','..')",
    "{\"op\":",
    "\"args\":[",
    "{\"property\":\"nama\"}",
    "1e400",
    "-",
    "%",
    "\\",
    "true",
    "null",
];
const BBOX_SEEDS: &[&str] = &[
    "115,-9,116,-8",
    "-180,-90,180,90",
    "170,-10,-170,10",
    "1,2,0,3,4,10",
];
const BBOX_DICT: &[&str] = &[
    ",", "-", "1e308", "NaN", "inf", "180", "90", ".", "+", " ", "0x10", "1e-400",
];
const RANGE_SEEDS: &[&str] = &[
    "bytes=0-9",
    "bytes=90-",
    "bytes=-10",
    "bytes=0-1,5-6",
    "items=0-1",
];
const RANGE_DICT: &[&str] = &[
    "bytes=",
    "-",
    ",",
    "18446744073709551615",
    "18446744073709551616",
    "0",
    " ",
    "+",
    "\t",
];
