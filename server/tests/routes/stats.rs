//! `/api/stats`: counts per kecamatan checked against an independent
//! point-in-polygon (`layers::regency::kecamatan`), grouping by a property,
//! sums and means, the 400s naming the bad parameter, and the same 404 for
//! a hidden layer as for a missing one. `/api/areas/kecamatan`: the
//! boundaries the choropleth is drawn on.

use std::collections::BTreeMap;

use layers::model::access::Role;
use serde_json::{Value, json};

use crate::support::{Rng, World};

const ZONES: [&str; 4] = ["hijau", "kuning", "oranye", "merah"];

/// `n` seeded points over Badung's extent (some outside it), each with a
/// zone, a case count (sometimes text) and an agency.
fn zone_points(n: usize) -> (String, Vec<(f64, f64, &'static str, Value)>) {
    let mut rng = Rng(16);
    let mut out = Vec::new();
    let feats: Vec<Value> = (0..n)
        .map(|i| {
            let (lon, lat) = (115.05 + rng.f() * 0.25, -8.88 + rng.f() * 0.55);
            let zona = ZONES[i % 4];
            let kasus = if i % 7 == 0 { json!("n/a") } else { json!(i % 40) };
            out.push((lon, lat, zona, kasus.clone()));
            json!({"type": "Feature", "id": i + 1,
                   "properties": {"nama": format!("Banjar {i}"), "zona": zona, "kasus_aktif": kasus,
                                  "opd": if i % 3 == 0 { "Dinas Sosial" } else { "Dinas Kesehatan" }},
                   "geometry": {"type": "Point", "coordinates": [lon, lat]}})
        })
        .collect();
    (
        json!({"type": "FeatureCollection", "features": feats}).to_string(),
        out,
    )
}

fn areas(v: &Value) -> BTreeMap<String, Value> {
    v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_owned(), a.clone()))
        .collect()
}

#[tokio::test]
async fn counts_per_kecamatan_match_an_independent_point_in_polygon() {
    let w = World::new().await;
    let (geojson, pts) = zone_points(600);
    w.import(&geojson, "zona", "covid-19-response", &[]).await;
    let v = w
        .json("/api/stats?layer=zona&by=kecamatan&group=zona&sum=kasus_aktif&mean=kasus_aktif")
        .await;
    assert_eq!(v["layer"], "zona");
    assert_eq!(v["by"], "kecamatan");
    assert_eq!(v["total"], 600);

    let mut expected: BTreeMap<String, (u64, BTreeMap<String, u64>, f64, u64)> = BTreeMap::new();
    for (lon, lat, zona, kasus) in &pts {
        let k = layers::regency::kecamatan(*lon, *lat)
            .unwrap_or("")
            .to_owned();
        let e = expected.entry(k).or_default();
        e.0 += 1;
        *e.1.entry((*zona).to_owned()).or_default() += 1;
        if let Some(n) = kasus.as_f64() {
            e.2 += n;
            e.3 += 1;
        }
    }
    let got = areas(&v);
    assert_eq!(got.len(), 6, "all six kecamatan, even empty ones");
    let outside = expected.remove("").unwrap();
    assert!(outside.0 > 0, "the sample reaches outside Badung");
    assert_eq!(v["outside"]["count"], outside.0);
    for (k, (count, groups, sum, counted)) in &expected {
        let a = &got[k];
        assert_eq!(a["count"], *count, "{k}");
        assert_eq!(a["groups"], json!(groups), "{k}");
        assert_eq!(a["sum"]["kasus_aktif"].as_f64().unwrap(), *sum, "{k}");
        assert_eq!(a["counted"]["kasus_aktif"], *counted, "{k}");
        let mean = a["mean"]["kasus_aktif"].as_f64().unwrap();
        assert!((mean - sum / *counted as f64).abs() < 1e-9, "{k}");
        assert_eq!(a["bbox"].as_array().unwrap().len(), 4);
    }
    // Sorted by count, largest first.
    let counts: Vec<u64> = v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");

    // By a property instead: no geometry involved.
    let v = w.json("/api/stats?layer=zona&by=opd").await;
    let got = areas(&v);
    assert_eq!(got["Dinas Sosial"]["count"], 200);
    assert_eq!(got["Dinas Kesehatan"]["count"], 400);
    assert_eq!(v["outside"]["count"], 0);
    assert!(got["Dinas Sosial"].get("groups").is_none());
}

#[tokio::test]
async fn a_small_answer() {
    let w = World::new().await;
    let geojson = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"zona": "merah", "kasus_aktif": 3},
         "geometry": {"type": "Point", "coordinates": [115.1686, -8.7184]}},
        {"type": "Feature", "id": 2, "properties": {"zona": "hijau", "kasus_aktif": "?"},
         "geometry": {"type": "Point", "coordinates": [115.1865, -8.5409]}},
        {"type": "Feature", "id": 3, "properties": {"zona": "merah", "kasus_aktif": 5},
         "geometry": {"type": "Polygon", "coordinates": [[[115.16, -8.72], [115.18, -8.72],
             [115.18, -8.71], [115.16, -8.71], [115.16, -8.72]]]}}
    ]});
    w.import(&geojson.to_string(), "kecil", "general", &[])
        .await;
    let v = w
        .json("/api/stats?layer=kecil&group=zona&sum=kasus_aktif")
        .await;
    insta::assert_json_snapshot!("stats_small", v);
}

#[tokio::test]
async fn bad_parameters_are_named_and_hidden_layers_are_missing() {
    let w = World::new().await;
    let (geojson, _) = zone_points(20);
    w.import(&geojson, "zona", "covid-19-response", &[]).await;
    w.import(
        &geojson,
        "zona-rahasia",
        "covid-19-response",
        &["--visibility", "internal"],
    )
    .await;
    for (path, param) in [
        ("/api/stats", "layer"),
        ("/api/stats?layer=zona&by=", "by"),
        ("/api/stats?layer=zona&by=tidak_ada", "by"),
        ("/api/stats?layer=zona&by=desa", "desa"),
        ("/api/stats?layer=zona&group=tidak_ada", "group"),
        ("/api/stats?layer=zona&sum=kasus_aktif,,x", "sum"),
        ("/api/stats?layer=zona&mean=tidak_ada", "mean"),
        (
            "/api/stats?layer=zona&sum=a,b,c,d,e,f,g,h,i,j,k",
            "sum may name at most",
        ),
    ] {
        let detail = w.problem(path, 400).await;
        assert!(detail.contains(param), "{path}: {detail}");
    }
    // More than 100 distinct values of the group property.
    let (big, _) = zone_points(101);
    w.import(&big, "banyak", "general", &[]).await;
    let detail = w.problem("/api/stats?layer=banyak&group=nama", 400).await;
    assert!(
        detail.ends_with("/ group=nama: the property has more than 100 distinct values."),
        "{detail}"
    );

    let hidden = w
        .get("/api/stats?layer=zona-rahasia", None)
        .await
        .problem(404);
    let missing = w.get("/api/stats?layer=zona-lain", None).await.problem(404);
    assert_eq!(hidden["type"], missing["type"]);
    assert_eq!(
        hidden["detail"]
            .as_str()
            .unwrap()
            .replace("zona-rahasia", "X"),
        missing["detail"]
            .as_str()
            .unwrap()
            .replace("zona-lain", "X")
    );
    // A leader sees it.
    let leader = w.user("pimpinan", Role::Leader, None).await;
    let r = w.get("/api/stats?layer=zona-rahasia", Some(&leader)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["total"], 20);
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("private, no-cache")
    );

    // Conditional requests.
    let r = w.get("/api/stats?layer=zona", None).await;
    let etag = r.header("etag").unwrap();
    let again = w
        .send(
            axum::http::Request::get("/api/stats?layer=zona")
                .header("if-none-match", &etag)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn the_kecamatan_boundaries_are_served() {
    let w = World::new().await;
    let v = w.json("/api/areas/kecamatan").await;
    let names: Vec<&str> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["kecamatan"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 6);
    assert!(names.contains(&"Kuta") && names.contains(&"Petang"));
}

#[tokio::test]
async fn per_desa_once_a_layer_of_desa_boundaries_exists() {
    let w = World::new().await;
    let square = |x0: f64, y0: f64| json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + 0.01, y0], [x0 + 0.01, y0 + 0.01], [x0, y0 + 0.01], [x0, y0]]]});
    let points = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {}, "geometry": {"type": "Point", "coordinates": [115.165, -8.715]}},
        {"type": "Feature", "id": 2, "properties": {}, "geometry": {"type": "Point", "coordinates": [115.166, -8.714]}},
        {"type": "Feature", "id": 3, "properties": {}, "geometry": {"type": "Point", "coordinates": [115.185, -8.715]}},
        {"type": "Feature", "id": 4, "properties": {}, "geometry": {"type": "Point", "coordinates": [115.2, -8.6]}}
    ]});
    w.import(&points.to_string(), "titik", "general", &[]).await;
    w.problem("/api/stats?layer=titik&by=desa", 400).await;
    let desa = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"desa": "Kuta"}, "geometry": square(115.16, -8.72)},
        {"type": "Feature", "id": 2, "properties": {"nama": "Legian"}, "geometry": square(115.18, -8.72)}
    ]});
    w.import(&desa.to_string(), "batas-desa", "general", &[])
        .await;
    let v = w.json("/api/stats?layer=titik&by=desa").await;
    assert_eq!(v["by"], "desa");
    let got = areas(&v);
    assert_eq!(got["Kuta"]["count"], 2);
    assert_eq!(got["Legian"]["count"], 1);
    assert_eq!(v["outside"]["count"], 1);
    // New boundaries: a new answer under a new tag.
    let etag = w
        .get("/api/stats?layer=titik&by=desa", None)
        .await
        .header("etag");
    let desa = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"desa": "Kuta"}, "geometry": square(115.16, -8.72)},
        {"type": "Feature", "id": 2, "properties": {"nama": "Legian"}, "geometry": square(115.18, -8.72)},
        {"type": "Feature", "id": 3, "properties": {"desa": "Sibang"}, "geometry": square(115.195, -8.605)}
    ]});
    w.import(&desa.to_string(), "batas-desa", "general", &[])
        .await;
    let r = w.get("/api/stats?layer=titik&by=desa", None).await;
    assert_ne!(r.header("etag"), etag);
    assert_eq!(areas(&r.json())["Sibang"]["count"], 1);
}
