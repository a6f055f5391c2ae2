//! FlatGeobuf output: a layer version (or some of its features) written
//! with the `flatgeobuf` crate's writer, with the packed Hilbert R-tree
//! index, so clients can read a bbox from the file over HTTP range requests.
//!
//! Columns come from the version's schema ([`LayerData::fields`]): strings,
//! numbers (`Long` when every value in the layer is a whole number that fits,
//! else `Double`) and booleans. Properties outside the schema (arrays,
//! objects, mixed columns) are written as one `Json` column each, in the
//! order they first appear. Features without geometry are kept.

use std::collections::HashMap;
use std::io::Write;

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geozero::{ColumnValue, FeatureProcessor, GeozeroGeometry, PropertyProcessor};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::index::LayerData;

/// Media type of FlatGeobuf.
pub const MEDIA_TYPE: &str = "application/flatgeobuf";

#[derive(Deserialize)]
struct Parsed {
    #[serde(default)]
    geometry: Option<geojson::Geometry>,
    #[serde(default)]
    properties: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Long,
    Double,
    Bool,
    Json,
}

impl Kind {
    fn column(self) -> ColumnType {
        match self {
            Kind::String => ColumnType::String,
            Kind::Long => ColumnType::Long,
            Kind::Double => ColumnType::Double,
            Kind::Bool => ColumnType::Bool,
            Kind::Json => ColumnType::Json,
        }
    }
}

fn parse(data: &LayerData, index: u32) -> Result<Parsed> {
    serde_json::from_slice(data.feature_bytes(index))
        .map_err(|e| Error::Corrupt(format!("stored feature {index} is not GeoJSON: {e}")))
}

/// The FlatGeobuf geometry type of a set of GeoJSON type names: the one
/// type (a single and a multi of the same family become the multi), else
/// `Unknown` (each feature then carries its own type).
fn geometry_type(types: &[String]) -> (GeometryType, bool) {
    let has = |t: &str| types.iter().any(|x| x == t);
    let only = |allowed: &[&str]| types.iter().all(|t| allowed.contains(&t.as_str()));
    if types.is_empty() {
        return (GeometryType::Unknown, false);
    }
    if only(&["Point"]) {
        (GeometryType::Point, false)
    } else if only(&["MultiPoint"]) {
        (GeometryType::MultiPoint, false)
    } else if only(&["LineString"]) {
        (GeometryType::LineString, false)
    } else if only(&["LineString", "MultiLineString"]) {
        (GeometryType::MultiLineString, has("LineString"))
    } else if only(&["Polygon"]) {
        (GeometryType::Polygon, false)
    } else if only(&["Polygon", "MultiPolygon"]) {
        (GeometryType::MultiPolygon, has("Polygon"))
    } else {
        (GeometryType::Unknown, false)
    }
}

/// Writes the features `indices` of `data` (in this order; the writer sorts
/// them along its Hilbert index) as a FlatGeobuf file named `name` to `out`.
/// CPU and I/O bound: call it from a blocking thread for large layers.
pub fn write(data: &LayerData, indices: &[u32], name: &str, out: impl Write) -> Result<()> {
    // Column types: the schema's, refined by one pass over the values.
    let fields = data.fields();
    let mut kinds: Vec<(String, Kind)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for (k, t) in fields {
        let kind = match t.as_str() {
            Some("Number") => Kind::Long,
            Some("Boolean") => Kind::Bool,
            _ => Kind::String,
        };
        position.insert(k.clone(), kinds.len());
        kinds.push((k.clone(), kind));
    }
    for &i in indices {
        let Some(props) = parse(data, i)?.properties else {
            continue;
        };
        for (k, v) in &props {
            if v.is_null() {
                continue;
            }
            let at = match position.get(k) {
                Some(&at) => at,
                None => {
                    position.insert(k.clone(), kinds.len());
                    kinds.push((k.clone(), Kind::Json));
                    kinds.len() - 1
                }
            };
            let kind = &mut kinds[at].1;
            *kind = match (*kind, v) {
                (Kind::Long, Value::Number(n)) if n.as_i64().is_some() => Kind::Long,
                (Kind::Long | Kind::Double, Value::Number(_)) => Kind::Double,
                (Kind::Bool, Value::Bool(_)) => Kind::Bool,
                (Kind::String, Value::String(_)) => Kind::String,
                _ => Kind::Json,
            };
        }
    }

    let (gtype, promote) = geometry_type(&data.version.geometry_types);
    let options = FgbWriterOptions {
        write_index: true,
        detect_type: false,
        promote_to_multi: promote,
        crs: FgbCrs {
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let fail = |e: &dyn std::fmt::Display| Error::Corrupt(format!("writing FlatGeobuf: {e}"));
    let mut fgb = FgbWriter::create_with_options(name, gtype, options).map_err(|e| fail(&e))?;
    for (k, kind) in &kinds {
        fgb.add_column(k, kind.column(), |_, col| col.nullable = true);
    }
    for (n, &i) in indices.iter().enumerate() {
        let f = parse(data, i)?;
        let n = n as u64;
        fgb.feature_begin(n).map_err(|e| fail(&e))?;
        if let Some(props) = &f.properties {
            fgb.properties_begin().map_err(|e| fail(&e))?;
            for (col, (k, kind)) in kinds.iter().enumerate() {
                let Some(v) = props.get(k).filter(|v| !v.is_null()) else {
                    continue;
                };
                let text;
                let value = match (kind, v) {
                    (Kind::Long, Value::Number(x)) => ColumnValue::Long(x.as_i64().unwrap_or(0)),
                    (Kind::Double, Value::Number(x)) => {
                        ColumnValue::Double(x.as_f64().unwrap_or(f64::NAN))
                    }
                    (Kind::Bool, Value::Bool(b)) => ColumnValue::Bool(*b),
                    (Kind::String, Value::String(s)) => ColumnValue::String(s),
                    (_, v) => {
                        text = v.to_string();
                        ColumnValue::Json(&text)
                    }
                };
                fgb.property(col, k, &value).map_err(|e| fail(&e))?;
            }
            fgb.properties_end().map_err(|e| fail(&e))?;
        }
        if let Some(g) = f.geometry {
            let g = geo::Geometry::<f64>::try_from(g).map_err(|e| fail(&e))?;
            fgb.geometry_begin().map_err(|e| fail(&e))?;
            g.process_geom(&mut fgb).map_err(|e| fail(&e))?;
            fgb.geometry_end().map_err(|e| fail(&e))?;
        }
        fgb.feature_end(n).map_err(|e| fail(&e))?;
    }
    fgb.write(out).map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::index::build::LayerBuilder;
    use crate::model::{FeatureRow, VersionInfo};
    use flatgeobuf::{FallibleStreamingIterator, FgbReader};
    use geozero::FeatureProperties;

    #[test]
    fn writes_an_indexed_file_that_reads_back() {
        let mut fields = serde_json::Map::new();
        fields.insert("nama".into(), "String".into());
        fields.insert("nomor".into(), "Number".into());
        let version = VersionInfo {
            id: 1,
            version: 1,
            feature_count: 3,
            geometry_types: vec!["Point".into()],
            bbox: None,
            created_at: String::new(),
            photos_rev: 0,
        };
        let mut b = LayerBuilder::new(version);
        b.set_fields(fields);
        for i in 1..=3i64 {
            let x = 115.0 + i as f64 * 0.01;
            b.push(FeatureRow {
                fid: i.to_string(),
                fid_json: i.to_string(),
                geometry: Some(format!(r#"{{"type":"Point","coordinates":[{x},-8.5]}}"#)),
                properties: format!(r#"{{"nama":"Pura {i}","nomor":{i},"tags":[1,2]}}"#),
                name: Some(format!("Pura {i}")),
                bbox: Some([x, -8.5, x, -8.5]),
            })
            .unwrap();
        }
        let data = b.finish().unwrap();
        let all: Vec<u32> = (0..3).collect();
        let mut buf = Vec::new();
        write(&data, &all, "pura", &mut buf).unwrap();
        let r = FgbReader::open(std::io::Cursor::new(&buf)).unwrap();
        assert_eq!(r.header().features_count(), 3);
        assert!(r.header().index_node_size() > 0);
        let mut sel = r.select_bbox(115.015, -9.0, 115.025, -8.0).unwrap();
        let mut names = Vec::new();
        while let Some(f) = sel.next().unwrap() {
            names.push(f.property::<String>("nama").unwrap());
            assert_eq!(f.property::<String>("tags").unwrap(), "[1,2]");
        }
        assert_eq!(names, ["Pura 2"]);
    }
}
