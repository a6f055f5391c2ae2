//! A small layer the export tests share.

use crate::index::LayerData;
use crate::index::build::LayerBuilder;
use crate::model::{FeatureRow, VersionInfo};

/// Three points: a formula-looking name, a name with a comma, quotes and
/// a line break, and an accented one; `nomor` 1 to 3, `tags` on the first.
pub fn layer() -> LayerData {
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
    let names = [
        r#"=HYPERLINK(\"x\")"#,
        r#"Pura Ulun Danu, \"Batur\"\nbaris 2"#,
        "Pantai Kuta – Café",
    ];
    let mut b = LayerBuilder::new(version);
    b.set_fields(fields);
    for (i, name) in (1..=3i64).zip(names) {
        let x = 115.0 + i as f64 * 0.01;
        let tags = if i == 1 { r#","tags":[1,2]"# } else { "" };
        b.push(FeatureRow {
            fid: i.to_string(),
            fid_json: i.to_string(),
            geometry: Some(format!(r#"{{"type":"Point","coordinates":[{x},-8.5]}}"#)),
            properties: format!(r#"{{"nama":"{name}","nomor":{i}{tags}}}"#),
            name: None,
            bbox: Some([x, -8.5, x, -8.5]),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
    b.finish().unwrap_or_else(|e| panic!("{e}"))
}
