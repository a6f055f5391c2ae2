//! Vector tiles checked with an independent decoder (the `mvt-reader`
//! crate): positions and attributes against the source at several zooms,
//! visibility of internal layers, empty tiles, caching across a publish;
//! TileJSON as a snapshot. In-process through `server::app` (moved from
//! the end-to-end tests/tiles.rs).

use std::collections::HashMap;
use std::f64::consts::PI;

use crate::support::{Auth, PASSWORD, Rng, World};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Coord, Geometry};
use mvt_reader::Reader;
use mvt_reader::feature::Value as MvtValue;
use serde_json::{Value, json};

fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat = lat.to_radians();
    let y = ((1.0 - lat.tan().asinh() / PI) / 2.0 * n).floor() as u32;
    (x, y)
}

/// Tile units back to longitude/latitude.
fn unproject(z: u8, x: u32, y: u32, c: Coord<f64>) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let wx = (f64::from(x) + c.x / 4096.0) / n;
    let wy = (f64::from(y) + c.y / 4096.0) / n;
    let lon = wx * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * wy)).sinh().atan().to_degrees();
    (lon, lat)
}

fn decode(bytes: Vec<u8>) -> HashMap<String, Vec<mvt_reader::feature::Feature<f64>>> {
    let r = Reader::new(bytes).unwrap();
    r.get_layer_names()
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name, r.get_features_as::<f64>(i).unwrap()))
        .collect()
}

fn points(n: usize, seed: u64, tag: &str) -> Value {
    let mut r = Rng(seed);
    let features: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "Feature", "id": i + 1,
                   "properties": {"nama": format!("{tag} {i}"), "nomor": i, "aktif": i % 2 == 0},
                   "geometry": {"type": "Point", "coordinates": [r.between(115.15, 115.20), r.between(-8.75, -8.70)]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

async fn get_if_none_match(w: &World, path: &str, etag: &str) -> crate::support::Reply {
    w.send(
        Request::get(path)
            .header("if-none-match", etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn tiles_match_the_source_and_follow_visibility() {
    let w = World::new().await;
    let src = points(300, 1, "Pura");
    w.import(&src.to_string(), "pura", "places-of-worship", &[])
        .await;
    let lines = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"nama": "Jalan Raya"},
         "geometry": {"type": "LineString", "coordinates": [[115.10, -8.72], [115.30, -8.72]]}},
        {"type": "Feature", "id": 2, "properties": {"nama": "Sawah"},
         "geometry": {"type": "Polygon", "coordinates": [[[115.16, -8.74], [115.19, -8.74], [115.19, -8.71], [115.16, -8.71], [115.16, -8.74]]]}}]});
    w.import(&lines.to_string(), "jalan", "infrastructure", &[])
        .await;
    let secret = points(20, 2, "RAHASIACANARY");
    w.import(
        &secret.to_string(),
        "rahasia",
        "social",
        &["--visibility", "internal"],
    )
    .await;
    w.add_user("pimpinan", "leader", None).await;

    // Points: every source point inside a z16 tile is there, within a tile unit, with its attributes.
    let by_id: HashMap<u64, &Value> = src["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_u64().unwrap(), f))
        .collect();
    let mut checked = 0;
    for f in src["features"].as_array().unwrap().iter().step_by(30) {
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        for z in [10u8, 12, 14, 16] {
            let (x, y) = tile_of(lon, lat, z);
            let r = w.get(&format!("/tiles/pura/{z}/{x}/{y}.mvt"), None).await;
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(
                r.header("content-type").as_deref(),
                Some("application/vnd.mapbox-vector-tile")
            );
            let layers = decode(r.body);
            let feats = &layers["pura"];
            let unit = 360.0 / f64::from(1u32 << z) / 4096.0;
            for g in feats {
                let id = g.id.unwrap();
                let source = by_id[&id];
                // The decoder gives one-point MoveTos as a MultiPoint of one.
                let p = match &g.geometry {
                    Geometry::Point(p) => p.0,
                    Geometry::MultiPoint(m) if m.0.len() == 1 => m.0[0].0,
                    other => panic!("{other:?}"),
                };
                let (plon, plat) = unproject(z, x, y, p);
                let sc = &source["geometry"]["coordinates"];
                assert!(
                    (plon - sc[0].as_f64().unwrap()).abs() <= unit,
                    "z{z} id {id}"
                );
                assert!(
                    (plat - sc[1].as_f64().unwrap()).abs() <= unit * 1.5,
                    "z{z} id {id}"
                );
                let props = g.properties.as_ref().unwrap();
                assert_eq!(
                    props["nama"],
                    MvtValue::String(source["properties"]["nama"].as_str().unwrap().to_owned())
                );
            }
            if z >= 14 {
                // Not thinned at this density: the feature is in its tile.
                assert!(
                    feats.iter().any(|g| g.id == f["id"].as_u64()),
                    "z{z}: {} missing",
                    f["id"]
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 40);

    // Lines are clipped to the tile (plus buffer), polygons keep their area.
    let (x, y) = tile_of(115.175, -8.725, 14);
    let layers = decode(
        w.get(&format!("/tiles/jalan/14/{x}/{y}.mvt"), None)
            .await
            .body,
    );
    let line = layers["jalan"].iter().find(|g| g.id == Some(1)).unwrap();
    let Geometry::LineString(l) = &line.geometry else {
        panic!("{:?}", line.geometry)
    };
    assert!(l.0.iter().all(|c| (-64.0..=4160.0).contains(&c.x)), "{l:?}");
    let (_, lat0) = unproject(14, x, y, l.0[0]);
    assert!((lat0 + 8.72).abs() < 1e-4);
    assert!(
        layers["jalan"]
            .iter()
            .any(|g| matches!(g.geometry, Geometry::Polygon(_) | Geometry::MultiPolygon(_)))
    );

    // Visibility: the internal layer is never in an anonymous tile, TileJSON, or by name.
    let (x, y) = tile_of(115.175, -8.725, 12);
    let all = async |auth: Auth<'_>| {
        let r = w.get_as(&format!("/tiles/all/12/{x}/{y}.mvt"), auth).await;
        assert_eq!(r.status, StatusCode::OK);
        let bytes = r.body;
        (
            String::from_utf8_lossy(&bytes).contains("RAHASIACANARY"),
            decode(bytes),
        )
    };
    let (leak, layers) = all(Auth::Anonymous).await;
    assert!(!leak && !layers.contains_key("rahasia"));
    assert!(layers.contains_key("pura") && layers.contains_key("jalan"));
    assert_eq!(
        w.get(&format!("/tiles/rahasia/12/{x}/{y}.mvt"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.get("/tiles/rahasia.json", None).await.status,
        StatusCode::NOT_FOUND
    );
    let tj = w.json("/tiles/all.json").await;
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["jalan", "pura"]);
    let cookie = w.login("pimpinan", PASSWORD).await;
    let (seen, layers) = all(Auth::Cookie(&cookie)).await;
    assert!(seen && layers.contains_key("rahasia"));
    // The anonymous tile rendered after the leader's is still clean (separate cache entries).
    assert!(!all(Auth::Anonymous).await.0);

    // TileJSON describes fields from the upload's schema.
    let tj = w.json("/tiles/pura.json").await;
    insta::assert_json_snapshot!("tilejson_pura", crate::support::redact(&tj));
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["vector_layers"][0]["fields"],
        json!({"nama": "String", "nomor": "Number", "aktif": "Boolean"})
    );
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/tiles/pura/{z}/{x}/{y}.mvt")
    );

    // Empty tiles are 204, bad addresses 400.
    assert_eq!(
        w.get("/tiles/pura/14/0/0.mvt", None).await.status,
        StatusCode::NO_CONTENT
    );
    for bad in [
        "/tiles/pura/23/0/0.mvt",
        "/tiles/pura/2/4/0.mvt",
        "/tiles/pura/a/b/c.mvt",
    ] {
        assert_eq!(
            w.get(bad, None).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }

    // Caching: the same tile has the same tag and answers 304; a publish changes it at once.
    let (x, y) = tile_of(115.175, -8.725, 12);
    let path = format!("/tiles/pura/12/{x}/{y}.mvt");
    let r = w.get(&path, None).await;
    let etag = r.header("etag").unwrap();
    let before = r.body;
    let again = get_if_none_match(&w, &path, &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    w.import(
        &points(50, 9, "Baru").to_string(),
        "pura",
        "places-of-worship",
        &[],
    )
    .await;
    assert_eq!(w.json("/api/layers/pura").await["version"], 2);
    let r = get_if_none_match(&w, &path, &etag).await;
    assert_eq!(r.status, StatusCode::OK);
    let after = r.body;
    assert_ne!(before, after);
    let layers = decode(after);
    assert!(layers["pura"].iter().all(|g| matches!(&g.properties.as_ref().unwrap()["nama"], MvtValue::String(n) if n.starts_with("Baru"))));
}
