use super::*;
use crate::index::build::LayerBuilder;
use crate::model::{FeatureRow, VersionInfo};

fn version() -> VersionInfo {
    VersionInfo {
        id: 1,
        version: 1,
        feature_count: 0,
        geometry_types: vec![],
        bbox: None,
        created_at: String::new(),
        photos_rev: 0,
    }
}

fn bbox_of(coords: &[[f64; 2]]) -> [f64; 4] {
    coords.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, c| {
            [
                b[0].min(c[0]),
                b[1].min(c[1]),
                b[2].max(c[0]),
                b[3].max(c[1]),
            ]
        },
    )
}

/// A layer of (geometry, properties) features.
fn layer(features: &[(Option<serde_json::Value>, serde_json::Value)]) -> LayerData {
    let mut b = LayerBuilder::new(version());
    for (i, (g, p)) in features.iter().enumerate() {
        let bbox = g.as_ref().map(|g| {
            let geo: Geometry<f64> =
                Geometry::try_from(g.to_string().parse::<geojson::Geometry>().unwrap()).unwrap();
            let r = geo::BoundingRect::bounding_rect(&geo).unwrap();
            bbox_of(&[[r.min().x, r.min().y], [r.max().x, r.max().y]])
        });
        b.push(FeatureRow {
            fid: (i + 1).to_string(),
            fid_json: (i + 1).to_string(),
            geometry: g.as_ref().map(|g| g.to_string()),
            properties: p.to_string(),
            name: None,
            bbox,
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn point(lon: f64, lat: f64) -> Option<serde_json::Value> {
    Some(serde_json::json!({"type": "Point", "coordinates": [lon, lat]}))
}

const KUTA: [f64; 2] = [115.1686, -8.7184];
const MENGWI: [f64; 2] = [115.1865, -8.5409];
const DENPASAR: [f64; 2] = [115.2625, -8.65];

fn by_areas() -> Spec<'static> {
    Spec {
        by: By::Areas(Areas::kecamatan()),
        group: None,
        sum: &[],
        mean: &[],
    }
}

fn area<'s>(s: &'s Stats, name: &str) -> &'s AreaStats {
    s.areas.iter().find(|a| a.name == name).unwrap()
}

#[test]
fn points_fall_in_their_kecamatan_or_outside() {
    let l = layer(&[
        (point(KUTA[0], KUTA[1]), serde_json::json!({})),
        (point(KUTA[0], KUTA[1]), serde_json::json!({})),
        (point(MENGWI[0], MENGWI[1]), serde_json::json!({})),
        (point(DENPASAR[0], DENPASAR[1]), serde_json::json!({})),
        (None, serde_json::json!({})),
    ]);
    let s = compute(&l, &by_areas()).unwrap();
    assert_eq!(s.total, 5);
    assert_eq!(s.areas.len(), 6, "every kecamatan is listed");
    assert_eq!(s.areas[0].name, "Kuta");
    assert_eq!(s.areas[0].count, 2);
    assert_eq!(area(&s, "Mengwi").count, 1);
    assert_eq!(area(&s, "Petang").count, 0);
    assert_eq!(
        s.outside.count, 2,
        "Denpasar and the feature without geometry"
    );
    // Sorted by count, then name.
    assert_eq!(
        s.areas.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        [
            "Kuta",
            "Mengwi",
            "Abiansemal",
            "Kuta Selatan",
            "Kuta Utara",
            "Petang"
        ]
    );
    assert!(s.areas[0].bbox.is_some());
    assert_eq!(s.areas[0].groups, None);
}

#[test]
fn a_polygon_across_a_border_counts_once() {
    // A box around Kuta's northern border with Kuta Utara (~ -8.69 … -8.70).
    let ring = [
        [115.15, -8.72],
        [115.20, -8.72],
        [115.20, -8.66],
        [115.15, -8.66],
        [115.15, -8.72],
    ];
    let g = serde_json::json!({"type": "Polygon", "coordinates": [ring]});
    let line = serde_json::json!({"type": "LineString", "coordinates": [KUTA, MENGWI]});
    let l = layer(&[
        (Some(g.clone()), serde_json::json!({})),
        (Some(line), serde_json::json!({})),
    ]);
    let s = compute(&l, &by_areas()).unwrap();
    let counted: usize = s.areas.iter().map(|a| a.count).sum::<usize>() + s.outside.count;
    assert_eq!(counted, 2);
    // Where its interior point lies.
    let geo: Geometry<f64> =
        Geometry::try_from(g.to_string().parse::<geojson::Geometry>().unwrap()).unwrap();
    let p = geo.interior_point().unwrap();
    let k = crate::regency::kecamatan(p.x(), p.y()).unwrap();
    assert!(area(&s, k).count >= 1, "{k}");
}

#[test]
fn prepared_areas_agree_with_geo_contains() {
    use geo::Contains;
    let areas = Areas::kecamatan();
    let mut rng = fastrand::Rng::with_seed(16);
    let mut inside = 0;
    for _ in 0..20_000 {
        let (x, y) = (rng.f64() * 0.4 + 115.0, rng.f64() * 0.5 - 8.9);
        let expected = crate::regency::kecamatan_list()
            .iter()
            .position(|(_, g)| g.contains(&Point::new(x, y)));
        assert_eq!(areas.locate(x, y), expected, "({x}, {y})");
        inside += usize::from(expected.is_some());
    }
    assert!(inside > 2_000, "{inside}");
    assert_eq!(areas.locate(f64::NAN, -8.7), None);
}

#[test]
fn by_property_with_groups_sums_and_means() {
    let l = layer(&[
        (
            point(KUTA[0], KUTA[1]),
            serde_json::json!({"opd": "Dinas Kesehatan", "zona": "merah", "kasus": 4}),
        ),
        (
            point(KUTA[0], KUTA[1]),
            serde_json::json!({"opd": "Dinas Kesehatan", "zona": "hijau", "kasus": "6"}),
        ),
        (
            point(MENGWI[0], MENGWI[1]),
            serde_json::json!({"opd": "Dinas Kesehatan", "zona": "merah", "kasus": "tidak ada"}),
        ),
        (
            point(DENPASAR[0], DENPASAR[1]),
            serde_json::json!({"opd": "Dinas Sosial", "kasus": 10, "x": {"nested": [1, 2]}}),
        ),
        (None, serde_json::json!({"opd": null, "zona": "merah"})),
    ]);
    let sum = ["kasus".to_owned()];
    let spec = Spec {
        by: By::Property("opd"),
        group: Some("zona"),
        sum: &sum,
        mean: &sum,
    };
    let s = compute(&l, &spec).unwrap();
    assert_eq!(s.total, 5);
    assert_eq!(s.areas.len(), 2);
    let dk = &s.areas[0];
    assert_eq!((dk.name.as_str(), dk.count), ("Dinas Kesehatan", 3));
    assert_eq!(dk.sum.as_ref().unwrap()["kasus"], 10.0);
    assert_eq!(dk.mean.as_ref().unwrap()["kasus"], Some(5.0));
    assert_eq!(
        dk.counted.as_ref().unwrap()["kasus"],
        2,
        "non-numeric ignored"
    );
    let g = dk.groups.as_ref().unwrap();
    assert_eq!((g["merah"], g["hijau"]), (2, 1));
    let bbox = dk.bbox.unwrap();
    assert!(bbox[0] <= KUTA[0] && bbox[3] >= MENGWI[1]);
    let ds = &s.areas[1];
    assert_eq!(ds.groups.as_ref().unwrap()[""], 1, "no zona");
    assert_eq!(s.outside.count, 1, "null opd");
    assert_eq!(s.outside.mean.as_ref().unwrap()["kasus"], None);

    // Per kecamatan with groups.
    let spec = Spec {
        by: By::Areas(Areas::kecamatan()),
        ..spec
    };
    let s = compute(&l, &spec).unwrap();
    let kuta = area(&s, "Kuta");
    assert_eq!(kuta.count, 2);
    assert_eq!(kuta.sum.as_ref().unwrap()["kasus"], 10.0);
    assert_eq!(kuta.groups.as_ref().unwrap().len(), 2);
    assert_eq!(s.outside.count, 2);
}

#[test]
fn too_many_values_is_an_error() {
    let features: Vec<_> = (0..=MAX_GROUPS)
        .map(|i| (None, serde_json::json!({"nama": format!("n{i}")})))
        .collect();
    let l = layer(&features);
    let spec = Spec {
        by: By::Areas(Areas::kecamatan()),
        group: Some("nama"),
        sum: &[],
        mean: &[],
    };
    assert_eq!(
        compute(&l, &spec),
        Err(StatsError::TooManyValues {
            param: "group",
            property: "nama".into(),
            limit: MAX_GROUPS
        })
    );
    let spec = Spec {
        by: By::Property("nama"),
        group: None,
        ..spec
    };
    assert_eq!(compute(&l, &spec).unwrap().areas.len(), MAX_GROUPS + 1);
}

#[test]
fn picks_only_wanted_members() {
    let mut out = vec![None, None];
    pick(
        br#"{"a":1,"b\"":{"c":[1,2]},"zona":"merah","a\u0062":2}"#,
        &["zona", "ab"],
        &mut out,
    );
    assert_eq!(
        out,
        [Some(serde_json::json!("merah")), Some(serde_json::json!(2))]
    );
}

#[test]
fn properties_no_feature_has_are_errors() {
    let l = layer(&[(None, serde_json::json!({"zona": "merah", "kasus": null}))]);
    let kasus = ["kasus".to_owned()];
    let typo = ["kasuss".to_owned()];
    let ok = Spec {
        by: By::Property("zona"),
        group: Some("zona"),
        sum: &kasus,
        mean: &kasus,
    };
    assert_eq!(
        compute(&l, &ok).unwrap().areas[0].counted.as_ref().unwrap()["kasus"],
        0
    );
    let bad = Spec { mean: &typo, ..ok };
    assert_eq!(
        compute(&l, &bad),
        Err(StatsError::UnknownProperty {
            param: "mean",
            property: "kasuss".into()
        })
    );
    let bad = Spec {
        by: By::Property("opd"),
        ..ok
    };
    assert!(matches!(
        compute(&l, &bad),
        Err(StatsError::UnknownProperty { param: "by", .. })
    ));
}
