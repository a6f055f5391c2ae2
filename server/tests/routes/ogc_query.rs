//! The OGC API items parameters beyond Part 1's paging and filters:
//! unknown parameters refused, `sortby` (checked against an independent
//! sort of the source), `properties` and `skipGeometry`, `crs` and
//! `bbox-crs` (checked against independent Transverse Mercator and Web
//! Mercator formulas), `Content-Crs`, the sortables document and the
//! draft filter language name GDAL sends.

use std::cmp::Ordering;

use crate::support::World;
use serde_json::Value;
use server::config::ApiConfig;
use testkit::{OGC_N as N, ogc_layer};

async fn world() -> World {
    let w = World::with_config(ApiConfig {
        default_limit: 100,
        ..ApiConfig::default()
    })
    .await;
    w.import(&ogc_layer().to_string(), "pura", "places-of-worship", &[])
        .await;
    w
}

fn nomor(f: &Value) -> i64 {
    f["properties"]["nomor"].as_i64().unwrap()
}

/// Every feature of `path` (which has no limit/offset), following `next`.
async fn all(w: &World, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = w
            .json(&format!("{path}{sep}limit=97&offset={offset}"))
            .await;
        let feats = page["features"].as_array().unwrap();
        out.extend(feats.iter().cloned());
        offset += feats.len();
        if feats.is_empty() || page["numberMatched"].as_u64().unwrap() as usize <= offset {
            return out;
        }
    }
}

/// WGS 84 / UTM (southern hemisphere) by Snyder's series (USGS
/// Professional Paper 1395, p. 61), independent of proj4rs.
fn utm_south(lon: f64, lat: f64, zone: u32) -> (f64, f64) {
    let a = 6_378_137.0_f64;
    let f = 1.0 / 298.257_223_563;
    let k0 = 0.9996;
    let e2 = f * (2.0 - f);
    let ep2 = e2 / (1.0 - e2);
    let phi = lat.to_radians();
    let lon0 = f64::from(zone * 6) - 183.0;
    let n = a / (1.0 - e2 * phi.sin().powi(2)).sqrt();
    let t = phi.tan().powi(2);
    let c = ep2 * phi.cos().powi(2);
    let aa = (lon - lon0).to_radians() * phi.cos();
    let (e4, e6) = (e2 * e2, e2 * e2 * e2);
    let m = a
        * ((1.0 - e2 / 4.0 - 3.0 * e4 / 64.0 - 5.0 * e6 / 256.0) * phi
            - (3.0 * e2 / 8.0 + 3.0 * e4 / 32.0 + 45.0 * e6 / 1024.0) * (2.0 * phi).sin()
            + (15.0 * e4 / 256.0 + 45.0 * e6 / 1024.0) * (4.0 * phi).sin()
            - (35.0 * e6 / 3072.0) * (6.0 * phi).sin());
    let x = k0
        * n
        * (aa
            + (1.0 - t + c) * aa.powi(3) / 6.0
            + (5.0 - 18.0 * t + t * t + 72.0 * c - 58.0 * ep2) * aa.powi(5) / 120.0)
        + 500_000.0;
    let y = k0
        * (m + n
            * phi.tan()
            * (aa * aa / 2.0
                + (5.0 - t + 9.0 * c + 4.0 * c * c) * aa.powi(4) / 24.0
                + (61.0 - 58.0 * t + t * t + 600.0 * c - 330.0 * ep2) * aa.powi(6) / 720.0))
        + 10_000_000.0;
    (x, y)
}

/// Web Mercator on the sphere of radius a.
fn web_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let r = 6_378_137.0_f64;
    (
        r * lon.to_radians(),
        r * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln(),
    )
}

/// The first position of a geometry.
fn first_position(g: &Value) -> (f64, f64) {
    let mut c = &g["coordinates"];
    while c[0].is_array() {
        c = &c[0];
    }
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[tokio::test]
async fn unknown_parameters_are_refused_and_named() {
    let w = world().await;
    // A misspelt property is no longer a silent "whole layer".
    let p = w
        .get("/ogc/collections/pura/items?kecamtan=Kuta", None)
        .await
        .problem(400);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("\"kecamtan\""), "{detail}");
    for allowed in ["sortby", "skipGeometry", "kecamatan", "nomor"] {
        assert!(detail.contains(allowed), "{allowed} not listed: {detail}");
    }
    // Both languages, Indonesian first.
    assert!(detail.contains("tidak dikenal") && detail.contains(" / Unknown parameter"));
    // One item: only f and crs.
    w.get("/ogc/collections/pura/items/1?limit=3", None)
        .await
        .problem(400);
    // A queryable is still an equality filter.
    let fc = w
        .json("/ogc/collections/pura/items?kecamatan=Kuta&limit=1000")
        .await;
    let expect = ogc_layer()["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["kecamatan"] == "Kuta")
        .count();
    assert_eq!(fc["numberMatched"].as_u64().unwrap() as usize, expect);
    // Bad values of the new parameters.
    for q in [
        "sortby=nope",
        "sortby=-geometry",
        "properties=nama,nope",
        "skipGeometry=yes",
        "crs=EPSG:23830",
        "bbox-crs=EPSG:2100&bbox=1,2,3,4",
        "filter-lang=cql3",
        "f=fgb&crs=EPSG:3857",
        "f=fgb&properties=nama",
    ] {
        w.get(&format!("/ogc/collections/pura/items?{q}"), None)
            .await
            .problem(400);
    }
}

#[tokio::test]
async fn sortby_orders_like_an_independent_sort() {
    let w = world().await;
    let src = ogc_layer();
    let feats = src["features"].as_array().unwrap();
    // Keys: kecamatan ascending (text), then luas descending (number).
    let mut expect: Vec<&Value> = feats.iter().collect();
    expect.sort_by(|a, b| {
        let (pa, pb) = (&a["properties"], &b["properties"]);
        pa["kecamatan"]
            .as_str()
            .unwrap()
            .cmp(pb["kecamatan"].as_str().unwrap())
            .then(
                pb["luas"]
                    .as_f64()
                    .unwrap()
                    .partial_cmp(&pa["luas"].as_f64().unwrap())
                    .unwrap_or(Ordering::Equal),
            )
    });
    let expect: Vec<i64> = expect.iter().map(|f| nomor(f)).collect();
    // `+` escaped, and as a raw `+` (a space once decoded): both ascending.
    for sortby in ["%2Bkecamatan,-luas", "+kecamatan,-luas", "kecamatan,-luas"] {
        let got: Vec<i64> = all(&w, &format!("/ogc/collections/pura/items?sortby={sortby}"))
            .await
            .iter()
            .map(nomor)
            .collect();
        assert_eq!(got.len(), N);
        assert_eq!(got, expect, "sortby={sortby}");
    }
    // With a filter and a descending number key, paged.
    let got: Vec<i64> = all(
        &w,
        "/ogc/collections/pura/items?sortby=-nomor&kecamatan=Kuta",
    )
    .await
    .iter()
    .map(nomor)
    .collect();
    let mut want: Vec<i64> = feats
        .iter()
        .filter(|f| f["properties"]["kecamatan"] == "Kuta")
        .map(nomor)
        .collect();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(got, want);
    // Missing values (catatan is null for every fifth) sort last ascending.
    let got = all(&w, "/ogc/collections/pura/items?sortby=catatan").await;
    let nulls = got
        .iter()
        .rev()
        .take_while(|f| f["properties"]["catatan"].is_null())
        .count();
    assert_eq!(nulls, N / 5);
    // The sortables: every property, no geometry.
    let s = w.json("/ogc/collections/pura/sortables").await;
    let props = s["properties"].as_object().unwrap();
    assert!(props.contains_key("kecamatan") && props.contains_key("luas"));
    assert!(!props.contains_key("geometry"));
}

#[tokio::test]
async fn properties_and_skip_geometry_shape_the_features() {
    let w = world().await;
    let fc = w
        .json("/ogc/collections/pura/items?properties=nomor,nama&limit=5")
        .await;
    for f in fc["features"].as_array().unwrap() {
        let keys: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["nomor", "nama"], "{f}");
        assert!(f["geometry"]["type"].is_string());
        assert!(f["id"].is_number() || f["id"].is_string());
    }
    let fc = w
        .json("/ogc/collections/pura/items?skipGeometry=true&properties=&limit=5")
        .await;
    for f in fc["features"].as_array().unwrap() {
        assert!(f["geometry"].is_null(), "{f}");
        assert_eq!(f["properties"], serde_json::json!({}));
    }
    // The paging links keep the shape.
    let next = fc["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap();
    assert!(next.contains("skipGeometry=true"), "{next}");
    // skipGeometry=false is the default.
    let fc = w
        .json("/ogc/collections/pura/items?skipGeometry=false&limit=1")
        .await;
    assert!(fc["features"][0]["geometry"].is_object());
}

#[tokio::test]
async fn crs_reprojects_against_independent_formulas() {
    let w = world().await;
    let by_id = |fc: &Value| -> std::collections::HashMap<String, Value> {
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["id"].to_string(), f["geometry"].clone()))
            .collect()
    };
    let r = w.get("/ogc/collections/pura/items?limit=40", None).await;
    assert_eq!(
        r.header("content-crs").as_deref(),
        Some("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
    );
    let plain = by_id(&r.json());
    for (crs, zone) in [
        ("http://www.opengis.net/def/crs/EPSG/0/32750", 50),
        ("EPSG:32749", 49),
    ] {
        let r = w
            .get(
                &format!("/ogc/collections/pura/items?limit=40&crs={crs}"),
                None,
            )
            .await;
        assert_eq!(
            r.header("content-crs").as_deref(),
            Some(format!("<http://www.opengis.net/def/crs/EPSG/0/327{zone}>").as_str())
        );
        let utm = by_id(&r.json());
        assert_eq!(utm.len(), 40);
        for (id, g) in &utm {
            let (lon, lat) = first_position(&plain[id]);
            let (x, y) = first_position(g);
            let (ex, ey) = utm_south(lon, lat, zone);
            assert!(
                (x - ex).abs() < 0.05 && (y - ey).abs() < 0.05,
                "{id} zone {zone}: ({x}, {y}) vs ({ex}, {ey})"
            );
        }
    }
    // A known point: the central meridian of zone 50 on the equator is
    // the false origin, checked through the formula above.
    let (x, y) = utm_south(117.0, 0.0, 50);
    assert!((x - 500_000.0).abs() < 1e-6 && (y - 10_000_000.0).abs() < 1e-6);

    let merc = by_id(
        &w.json(
            "/ogc/collections/pura/items?limit=40&crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        )
        .await,
    );
    for (id, g) in &merc {
        let (lon, lat) = first_position(&plain[id]);
        let (x, y) = first_position(g);
        let (ex, ey) = web_mercator(lon, lat);
        assert!((x - ex).abs() < 0.01 && (y - ey).abs() < 0.01, "{id}");
    }
    // EPSG:4326: latitude first.
    let r = w
        .get("/ogc/collections/pura/items?limit=40&crs=EPSG:4326", None)
        .await;
    assert_eq!(
        r.header("content-crs").as_deref(),
        Some("<http://www.opengis.net/def/crs/EPSG/0/4326>")
    );
    for (id, g) in &by_id(&r.json()) {
        let (lon, lat) = first_position(&plain[id]);
        assert_eq!(first_position(g), (lat, lon), "{id}");
    }
    // One item, too.
    let r = w
        .get("/ogc/collections/pura/items/1?crs=EPSG:32750", None)
        .await;
    assert_eq!(
        r.header("content-crs").as_deref(),
        Some("<http://www.opengis.net/def/crs/EPSG/0/32750>")
    );
    let f = r.json();
    let (lon, lat) = first_position(&plain[&f["id"].to_string()]);
    let (ex, ey) = utm_south(lon, lat, 50);
    let (x, y) = first_position(&f["geometry"]);
    assert!((x - ex).abs() < 0.05 && (y - ey).abs() < 0.05);
}

#[tokio::test]
async fn bbox_crs_selects_like_the_crs84_box() {
    let w = world().await;
    let ids = |fc: Value| -> std::collections::BTreeSet<i64> {
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(nomor)
            .collect()
    };
    let crs84 = ids(w
        .json("/ogc/collections/pura/items?bbox=115.15,-8.70,115.20,-8.60&limit=1000")
        .await);
    assert!(!crs84.is_empty() && crs84.len() < N);
    // The same box in EPSG:4326 order.
    let latlon = ids(
        w.json("/ogc/collections/pura/items?bbox=-8.70,115.15,-8.60,115.20&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326&limit=1000")
            .await,
    );
    assert_eq!(latlon, crs84);
    // A UTM box around the same area covers at least those features (its
    // edges are not meridians) and no feature far outside it.
    let (x0, y0) = utm_south(115.15, -8.70, 50);
    let (x1, y1) = utm_south(115.20, -8.60, 50);
    let utm = ids(w
        .json(&format!(
            "/ogc/collections/pura/items?bbox={x0},{y0},{x1},{y1}&bbox-crs=EPSG:32750&limit=1000"
        ))
        .await);
    assert!(utm.is_superset(&crs84), "{utm:?} vs {crs84:?}");
    let wider = ids(w
        .json("/ogc/collections/pura/items?bbox=115.149,-8.701,115.201,-8.599&limit=1000")
        .await);
    assert!(utm.is_subset(&wider));
}

#[tokio::test]
async fn the_draft_filter_language_name_is_cql2_text() {
    let w = world().await;
    // What GDAL 3.6 and 3.12 send for -where.
    let a = w
        .json("/ogc/collections/pura/items?filter=kecamatan%20%3D%20'Kuta'&filter-lang=cql-text&limit=1000")
        .await;
    let b = w
        .json("/ogc/collections/pura/items?kecamatan=Kuta&limit=1000")
        .await;
    assert_eq!(a["numberMatched"], b["numberMatched"]);
    assert!(a["numberMatched"].as_u64().unwrap() > 0);
}
