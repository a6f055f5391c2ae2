//! A layer version read as a table, for the CSV and XLSX downloads: the
//! columns (the schema's properties in [`LayerData::fields`] order, then
//! properties outside the schema in the order they first appear, beside
//! `fid` and the geometry columns) and one parsed row per feature.

use std::collections::HashSet;

use geozero::ToWkt;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::index::LayerData;

/// The columns of a layer's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// Name of the feature id column (`fid`, or `_fid` when a property
    /// is called `fid`).
    pub fid: String,
    /// Property names, in column order.
    pub properties: Vec<String>,
    /// Name of the WKT geometry column.
    pub wkt: String,
    /// Names of the longitude and latitude columns: only for layers of
    /// points alone.
    pub lonlat: Option<(String, String)>,
}

impl Columns {
    /// Every column name in the order written: `fid`, the properties, the
    /// geometry as WKT, then `lon` and `lat` for a layer of points.
    pub fn header(&self) -> Vec<&str> {
        let mut h = Vec::with_capacity(self.properties.len() + 4);
        h.push(self.fid.as_str());
        h.extend(self.properties.iter().map(String::as_str));
        h.push(self.wkt.as_str());
        if let Some((lon, lat)) = &self.lonlat {
            h.push(lon.as_str());
            h.push(lat.as_str());
        }
        h
    }
}

/// One feature as a row.
#[derive(Debug, Deserialize)]
pub struct Row {
    /// The feature's id as stored (a number or a string).
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    geometry: Option<geojson::Geometry>,
    /// The properties.
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
}

/// A row's geometry as the table writes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// The geometry as WKT (none without a geometry).
    pub wkt: Option<String>,
    /// Longitude and latitude, when the geometry is a point.
    pub point: Option<(f64, f64)>,
}

impl Row {
    /// The geometry as WKT, and the coordinates when it is a point.
    pub fn geometry(&self) -> Result<Shape> {
        let Some(g) = &self.geometry else {
            return Ok(Shape::default());
        };
        let fail = |e: &dyn std::fmt::Display| Error::Corrupt(format!("stored geometry: {e}"));
        let g = geo::Geometry::<f64>::try_from(g.clone()).map_err(|e| fail(&e))?;
        let point = match &g {
            geo::Geometry::Point(p) => Some((p.x(), p.y())),
            _ => None,
        };
        Ok(Shape {
            wkt: Some(g.to_wkt().map_err(|e| fail(&e))?),
            point,
        })
    }
}

/// The feature with handle `index`, parsed.
pub fn row(data: &LayerData, index: u32) -> Result<Row> {
    serde_json::from_slice(data.feature_bytes(index))
        .map_err(|e| Error::Corrupt(format!("stored feature {index} is not GeoJSON: {e}")))
}

/// `name`, or `_name`, `__name`… until it is not in `taken`.
fn free(name: &str, taken: &HashSet<String>) -> String {
    let mut n = name.to_owned();
    while taken.contains(&n) {
        n.insert(0, '_');
    }
    n
}

/// The columns of `data`'s table: one pass over the properties to find
/// those outside the schema.
pub fn columns(data: &LayerData) -> Result<Columns> {
    let mut properties: Vec<String> = data.fields().keys().cloned().collect();
    let mut taken: HashSet<String> = properties.iter().cloned().collect();
    for i in 0..data.len() as u32 {
        let props: Map<String, Value> = serde_json::from_slice(data.properties_bytes(i))
            .map_err(|e| Error::Corrupt(format!("stored properties of {i}: {e}")))?;
        for k in props.keys() {
            if !taken.contains(k) {
                taken.insert(k.clone());
                properties.push(k.clone());
            }
        }
    }
    let fid = free("fid", &taken);
    taken.insert(fid.clone());
    let wkt = free("wkt", &taken);
    taken.insert(wkt.clone());
    let points = data.version.geometry_types.iter().all(|t| t == "Point")
        && !data.version.geometry_types.is_empty();
    let lonlat = points.then(|| {
        let lon = free("lon", &taken);
        taken.insert(lon.clone());
        let lat = free("lat", &taken);
        (lon, lat)
    });
    Ok(Columns {
        fid,
        properties,
        wkt,
        lonlat,
    })
}

/// A value as the text of a cell: strings as they are, numbers as
/// written, `true`/`false`, nothing for null, arrays and objects as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
