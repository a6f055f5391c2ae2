//! Layer data for the unit tests of this crate.

use layers::index::LayerData;
use layers::index::build::LayerBuilder;
use layers::model::FeatureRow;
use layers::model::VersionInfo;

/// A layer version of `features` (GeoJSON geometry, properties JSON,
/// bbox), with ids 1, 2, … in order.
pub(crate) fn layer_data<G, P>(features: impl IntoIterator<Item = (G, P, [f64; 4])>) -> LayerData
where
    G: Into<String>,
    P: Into<String>,
{
    let mut rows = Vec::new();
    for (i, (geometry, properties, bbox)) in features.into_iter().enumerate() {
        rows.push(FeatureRow {
            fid: (i + 1).to_string(),
            fid_json: (i + 1).to_string(),
            geometry: Some(geometry.into()),
            properties: properties.into(),
            name: None,
            bbox: Some(bbox),
        });
    }
    let mut b = LayerBuilder::new(VersionInfo {
        id: 1,
        version: 1,
        feature_count: rows.len() as i64,
        geometry_types: vec![],
        bbox: None,
        created_at: String::new(),
        photos_rev: 0,
    });
    for row in rows {
        b.push(row).unwrap();
    }
    b.finish().unwrap()
}
