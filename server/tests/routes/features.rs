//! The features routes against an independent computation: bbox queries
//! (geo's exact predicates over the source), paging over a whole layer,
//! exact round trips of every geometry type, the demo
//! data on every route, and the layer list as a snapshot.
//! In-process through `server::app` (moved from the end-to-end tests/api.rs).

use std::collections::{BTreeSet, HashMap};

use crate::support::{EXTENT, Rng, World, f64s, id_key, mixed_layer};
use geo::{Intersects, Rect, coord};
use serde_json::Value;
use server::config::ApiConfig;

/// Follows `next` links from `path`, returning every feature id in order
/// and the `numberMatched` of the first page.
async fn collect_pages(w: &World, path: &str) -> (Vec<String>, u64) {
    let mut ids = Vec::new();
    let mut next = Some(path.to_owned());
    let mut matched = None;
    while let Some(p) = next.take() {
        let page = w.json(&p).await;
        let m = page["numberMatched"].as_u64().unwrap();
        assert_eq!(
            *matched.get_or_insert(m),
            m,
            "numberMatched changed between pages"
        );
        let feats = page["features"].as_array().unwrap();
        assert_eq!(
            page["numberReturned"].as_u64().unwrap() as usize,
            feats.len()
        );
        ids.extend(feats.iter().map(|f| id_key(&f["id"])));
        next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| {
                let href = l["href"].as_str().unwrap();
                // Links are absolute; the application is asked by path.
                let at = href.find("/api/").unwrap_or(0);
                href[at..].to_owned()
            });
    }
    (ids, matched.unwrap_or(0))
}

#[tokio::test]
async fn bbox_queries_match_an_independent_computation() {
    let w = World::new().await;
    let fc = mixed_layer(3000, 42);
    w.import(
        &fc.to_string(),
        "campuran",
        "general",
        &["--title-id", "Campuran"],
    )
    .await;

    // The independent side: geo's exact predicates over the source file.
    let source: Vec<(String, Option<geo::Geometry<f64>>)> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let g = (!f["geometry"].is_null()).then(|| {
                let gj: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
                geo::Geometry::try_from(gj).unwrap()
            });
            (id_key(&f["id"]), g)
        })
        .collect();

    let mut r = Rng(7);
    let mut nonempty = 0;
    for round in 0..40 {
        let size = [0.002, 0.01, 0.03, 0.08][round % 4];
        let x = r.between(EXTENT[0] - 0.01, EXTENT[2]);
        let y = r.between(EXTENT[1] - 0.01, EXTENT[3]);
        let rect = Rect::new(coord! { x: x, y: y }, coord! { x: x + size, y: y + size });
        let expected: Vec<String> = source
            .iter()
            .filter(|(_, g)| g.as_ref().is_some_and(|g| g.intersects(&rect)))
            .map(|(id, _)| id.clone())
            .collect();
        let limit = [7, 50, 1000][round % 3];
        let path = format!(
            "/api/layers/campuran/features?bbox={x},{y},{},{}&limit={limit}",
            x + size,
            y + size
        );
        let (got, matched) = collect_pages(&w, &path).await;
        assert_eq!(matched as usize, expected.len(), "numberMatched for {path}");
        // Each match exactly once across pages (bbox results come in the
        // layer's spatial order, so compare as sorted lists)...
        let mut sorted = got.clone();
        sorted.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(sorted, want, "features for {path}");
        // ...and that order is stable, so paging can be resumed.
        assert_eq!(
            collect_pages(&w, &path).await.0,
            got,
            "order changed for {path}"
        );
        nonempty += usize::from(!expected.is_empty());
    }
    assert!(
        nonempty > 20,
        "too few non-empty boxes ({nonempty}) to test anything"
    );
}

#[tokio::test]
async fn whole_layer_paging_counts_equal_the_source() {
    let w = World::with_config(ApiConfig {
        default_limit: 300,
        max_limit: 2000,
        ..ApiConfig::default()
    })
    .await;
    let fc = mixed_layer(2500, 5);
    w.import(&fc.to_string(), "semua", "general", &[]).await;

    let layer = w.json("/api/layers/semua").await;
    assert_eq!(layer["feature_count"], 2500);
    assert_eq!(layer["version"], 1);
    let types: BTreeSet<&str> = layer["geometry_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "LineString",
            "MultiPoint",
            "MultiPolygon",
            "Point",
            "Polygon"
        ])
    );
    assert_eq!(layer["geometry_type"], "Mixed");

    let (ids, matched) = collect_pages(&w, "/api/layers/semua/features").await;
    let expected: Vec<String> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| id_key(&f["id"]))
        .collect();
    assert_eq!(matched, 2500);
    assert_eq!(
        ids, expected,
        "no bbox: every feature, null geometries included, in source order"
    );

    // A page past the end is empty but still counts the matches.
    let past = w.json("/api/layers/semua/features?offset=5000").await;
    assert_eq!(past["numberReturned"], 0);
    assert_eq!(past["numberMatched"], 2500);
    let links = past["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["rel"] == "prev"));
    assert!(!links.iter().any(|l| l["rel"] == "next"));

    // The largest page is streamed and still valid JSON.
    let big = w.json("/api/layers/semua/features?limit=2000").await;
    assert_eq!(big["features"].as_array().unwrap().len(), 2000);
}

#[tokio::test]
async fn features_round_trip_exactly() {
    let w = World::new().await;
    let fc = mixed_layer(60, 9);
    w.import(&fc.to_string(), "bulat", "general", &[]).await;
    for f in fc["features"].as_array().unwrap() {
        let id = id_key(&f["id"]);
        let got = w.json(&format!("/api/layers/bulat/features/{id}")).await;
        assert_eq!(got["id"], f["id"]);
        assert_eq!(got["properties"], f["properties"]);
        assert_eq!(
            got["geometry"], f["geometry"],
            "geometry of {id} must come back unchanged"
        );
    }
    let detail = w.problem("/api/layers/bulat/features/nope", 404).await;
    assert!(detail.contains("nope"), "{detail}");
}

#[tokio::test]
async fn demo_data_answers_every_route() {
    let w = World::new().await;
    // What `bsc serve --demo --demo-features 3000` loads before serving.
    layers::demo::load(&w.state.store, 3000, layers::demo::SEED)
        .await
        .unwrap();
    w.sync().await;
    let cats = w.json("/api/categories").await;
    let cats = cats["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 14);
    assert!(
        cats.iter().all(|c| c["layer_count"].as_u64().unwrap() >= 1),
        "every category has a public layer"
    );
    assert!(
        cats.iter().all(|c| c["title_id"].is_string()
            && c["title_en"].is_string()
            && c["icon"].is_string())
    );

    let layers = w.json("/api/layers").await;
    let layers = layers["layers"].as_array().unwrap();
    assert!(layers.len() >= 19, "{}", layers.len());
    assert!(layers.iter().all(|l| l["visibility"] == "public"));
    let by_id: HashMap<&str, &Value> = layers
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l))
        .collect();
    for kind in ["Point", "LineString", "Polygon", "MultiPolygon"] {
        assert!(
            layers.iter().any(|l| l["geometry_type"] == kind),
            "a {kind} layer"
        );
    }
    // Everything lies in the regency's bounding box.
    let regency = f64s(&by_id["batas-kabupaten"]["bbox"]);
    for l in layers {
        let b = f64s(&l["bbox"]);
        assert!(
            b[0] >= regency[0] && b[1] >= regency[1] && b[2] <= regency[2] && b[3] <= regency[3],
            "{}",
            l["id"]
        );
    }
    let pura = w
        .json("/api/layers/pura/features?bbox=115.15,-8.70,115.25,-8.55&limit=5")
        .await;
    let f = &pura["features"][0];
    for key in ["nama", "kecamatan", "desa", "alamat", "opd", "keterangan"] {
        assert!(f["properties"][key].is_string(), "pura has {key}: {f}");
    }
    let fid = id_key(&f["id"]);
    assert_eq!(
        w.json(&format!("/api/layers/pura/features/{fid}")).await["id"],
        f["id"]
    );
    let name = f["properties"]["nama"].as_str().unwrap();
    let found = w
        .json(&format!("/api/search?q={}", name.replace(' ', "%20")))
        .await;
    assert!(
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == name)
    );
    assert_eq!(w.json("/healthz").await["status"], "ok");
    assert_eq!(w.json("/readyz").await["status"], "ready");
    let metrics = w.get("/metrics", None).await.text();
    assert!(metrics.contains("bsc_http_requests_total{method=\"GET\",route=\"/api/layers/{id}/features\",status=\"200\"}"), "{metrics}");
    assert!(metrics.contains("bsc_http_request_duration_seconds_bucket"));
    assert!(!metrics.contains("zona-covid") && !metrics.contains("bantuan-sosial"));
}

/// The layer list, as a snapshot: what a client of `/api/layers` sees of
/// a public layer (redacted: times and version tags).
#[tokio::test]
async fn the_layer_list_document() {
    let w = World::new().await;
    w.import(
        &mixed_layer(30, 3).to_string(),
        "campuran",
        "general",
        &["--title-id", "Campuran", "--agency", "Dinas PUPR"],
    )
    .await;
    w.import(
        &crate::support::points(&["Gudang"]),
        "gudang",
        "infrastructure",
        &["--visibility", "internal"],
    )
    .await;
    let list: Value = w.json("/api/layers").await;
    insta::assert_json_snapshot!("layer_list", crate::support::redact(&list));
}
