//! End-to-end tests of the HTTP API against the real `bsc` binary.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{EXTENT, Rng, Workspace, mixed_layer};
use geo::{Intersects, Rect, coord};
use serde_json::Value;

/// Feature ids (as URL strings) of a GeoJSON id value.
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Follows `next` links from `path`, returning every feature id in order
/// and the `numberMatched` of the first page.
fn collect_pages(s: &common::Server, path: &str) -> (Vec<String>, u64) {
    let mut ids = Vec::new();
    let mut next = Some(path.to_owned());
    let mut matched = None;
    while let Some(p) = next.take() {
        let page = s.json(&p);
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
            .map(|l| l["href"].as_str().unwrap().to_owned());
    }
    (ids, matched.unwrap_or(0))
}

#[test]
fn bbox_queries_match_an_independent_computation() {
    let ws = Workspace::new();
    let fc = mixed_layer(3000, 42);
    let file = ws.write("mixed.geojson", &fc.to_string());
    ws.import_ok(&file, "campuran", "general", &["--title-id", "Campuran"]);
    let s = ws.serve(&[]);

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
        let (got, matched) = collect_pages(&s, &path);
        assert_eq!(matched as usize, expected.len(), "numberMatched for {path}");
        // Each match exactly once across pages (bbox results come in the
        // layer's spatial order, so compare as sorted lists)...
        let mut sorted = got.clone();
        sorted.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(sorted, want, "features for {path}");
        // ...and that order is stable, so paging can be resumed.
        assert_eq!(collect_pages(&s, &path).0, got, "order changed for {path}");
        nonempty += usize::from(!expected.is_empty());
    }
    assert!(
        nonempty > 20,
        "too few non-empty boxes ({nonempty}) to test anything"
    );
}

#[test]
fn whole_layer_paging_counts_equal_the_source() {
    let ws = Workspace::new();
    let fc = mixed_layer(2500, 5);
    let file = ws.write("mixed.geojson", &fc.to_string());
    ws.import_ok(&file, "semua", "general", &[]);
    let s = ws.serve(&["--default-limit", "300", "--max-limit", "2000"]);

    let layer = s.json("/api/layers/semua");
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

    let (ids, matched) = collect_pages(&s, "/api/layers/semua/features");
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
    let past = s.json("/api/layers/semua/features?offset=5000");
    assert_eq!(past["numberReturned"], 0);
    assert_eq!(past["numberMatched"], 2500);
    let links = past["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["rel"] == "prev"));
    assert!(!links.iter().any(|l| l["rel"] == "next"));

    // The largest page is streamed and still valid JSON.
    let big = s.json("/api/layers/semua/features?limit=2000");
    assert_eq!(big["features"].as_array().unwrap().len(), 2000);
}

#[test]
fn features_round_trip_exactly() {
    let ws = Workspace::new();
    let fc = mixed_layer(60, 9);
    let file = ws.write("mixed.geojson", &fc.to_string());
    ws.import_ok(&file, "bulat", "general", &[]);
    let s = ws.serve(&[]);
    for f in fc["features"].as_array().unwrap() {
        let id = id_key(&f["id"]);
        let got = s.json(&format!("/api/layers/bulat/features/{id}"));
        assert_eq!(got["id"], f["id"]);
        assert_eq!(got["properties"], f["properties"]);
        assert_eq!(
            got["geometry"], f["geometry"],
            "geometry of {id} must come back unchanged"
        );
    }
    let detail = s.problem("/api/layers/bulat/features/nope", 404);
    assert!(detail.contains("nope"), "{detail}");
}

#[test]
fn internal_layers_never_reach_anonymous_callers() {
    let ws = Workspace::new();
    let canary = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"c1","properties":{"nama":"Kanari Rahasia Zzyzx"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}]}"#;
    let public = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"p1","properties":{"nama":"Pura Umum Zzyzx"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}]}"#;
    ws.import_ok(
        &ws.write("c.geojson", canary),
        "rahasia",
        "social",
        &["--visibility", "internal"],
    );
    ws.import_ok(&ws.write("p.geojson", public), "umum", "social", &[]);
    let s = ws.serve(&[]);

    let layers = s.json("/api/layers");
    let ids: Vec<&str> = layers["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["umum"]);
    for path in [
        "/api/layers/rahasia",
        "/api/layers/rahasia/features",
        "/api/layers/rahasia/features?bbox=115,-9,116,-8",
        "/api/layers/rahasia/features/c1",
    ] {
        let detail = s.problem(path, 404);
        // Indistinguishable from a layer that does not exist.
        let missing = s.problem(&path.replace("rahasia", "tidak-ada"), 404);
        assert_eq!(
            detail.replace("rahasia", "X"),
            missing.replace("tidak-ada", "X"),
            "{path}"
        );
    }
    let found = s.json("/api/search?q=zzyzx");
    let names: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Pura Umum Zzyzx"]);
    let cats = s.json("/api/categories");
    let social = cats["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "social")
        .unwrap()
        .clone();
    assert_eq!(
        social["layer_count"], 1,
        "the internal layer must not be counted"
    );
    let metrics = s.get("/metrics").text().unwrap();
    assert!(
        !metrics.contains("rahasia"),
        "metrics must not name internal layers"
    );
    assert!(
        metrics.contains("bsc_layer_features{layer=\"umum\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("bsc_features_loaded 1\n"), "{metrics}");
}

#[test]
fn bad_requests_get_problem_json() {
    let ws = Workspace::new();
    let fc = mixed_layer(20, 1);
    ws.import_ok(
        &ws.write("m.geojson", &fc.to_string()),
        "uji",
        "general",
        &[],
    );
    let s = ws.serve(&[]);
    for (path, status, needle) in [
        (
            "/api/layers/uji/features?bbox=1,2,3",
            400,
            "4 comma-separated",
        ),
        ("/api/layers/uji/features?bbox=a,b,c,d", 400, "not a number"),
        (
            "/api/layers/uji/features?bbox=0,10,1,5",
            400,
            "greater than maxy",
        ),
        (
            "/api/layers/uji/features?bbox=0,-95,1,5",
            400,
            "outside -90..90",
        ),
        ("/api/layers/uji/features?limit=0", 400, "limit"),
        ("/api/layers/uji/features?limit=10001", 400, "limit"),
        ("/api/layers/uji/features?limit=abc", 400, "limit"),
        ("/api/layers/uji/features?offset=-1", 400, "offset"),
        (
            "/api/layers/uji/features?bbox=1,1,2,2&bbox=1,1,2,2",
            400,
            "",
        ),
        ("/api/layers/nope/features", 404, "nope"),
        ("/api/layers/nope", 404, "nope"),
        ("/api/search", 400, "q must"),
        ("/api/search?q=", 400, "q must"),
        ("/api/search?q=pura&limit=1000", 400, "limit"),
        ("/no/such/route", 404, ""),
    ] {
        let detail = s.problem(path, status);
        assert!(detail.contains(needle), "{path}: {detail}");
    }
    let long_q = format!("/api/layers/uji/features?q={}", "a".repeat(500));
    s.problem(&long_q, 400);
    let r = s
        .request(reqwest::Method::POST, "/api/layers/uji/features")
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[test]
fn caching_compression_and_cors() {
    let ws = Workspace::new();
    let fc = mixed_layer(400, 3);
    let file = ws.write("m.geojson", &fc.to_string());
    ws.import_ok(&file, "cache", "general", &[]);
    let s = ws.serve(&[]);
    let path = "/api/layers/cache/features?limit=400";

    let first = s.get(path);
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "application/geo+json");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-cache")
    );
    let plain = first.bytes().unwrap();

    let again = s
        .request(reqwest::Method::GET, path)
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let other = s
        .request(reqwest::Method::GET, path)
        .header("If-None-Match", "W/\"other\"")
        .send()
        .unwrap();
    assert_eq!(other.status(), 200);

    let gz = s
        .request(reqwest::Method::GET, path)
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let body = gz.bytes().unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(
        body.len() * 2 < plain.len(),
        "gzip {} vs plain {}",
        body.len(),
        plain.len()
    );

    let cors = s
        .request(reqwest::Method::GET, path)
        .header("Origin", "https://example.org")
        .send()
        .unwrap();
    assert_eq!(cors.headers()["access-control-allow-origin"], "*");
    assert_eq!(cors.headers()["x-content-type-options"], "nosniff");

    // A new version changes the tag: nobody keeps stale data.
    ws.import_ok(&file, "cache", "general", &[]);
    s.eventually(20, |s| s.json("/api/layers/cache")["version"] == 2);
    let after = s
        .request(reqwest::Method::GET, path)
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
}

#[test]
fn a_cli_import_appears_in_the_running_server() {
    let ws = Workspace::new();
    let v1 = r#"{"type":"Feature","id":1,"properties":{"nama":"Lama"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}"#;
    let v2 = r#"{"type":"Feature","id":1,"properties":{"nama":"Baru"},"geometry":{"type":"Point","coordinates":[115.21,-8.61]}}
{"type":"Feature","id":2,"properties":{"nama":"Tambahan"},"geometry":{"type":"Point","coordinates":[115.22,-8.62]}}"#;
    ws.import_ok(&ws.write("v1.geojson", v1), "hidup", "tourism", &[]);
    let s = ws.serve(&[]);
    assert_eq!(
        s.json("/api/layers/hidup/features/1")["properties"]["nama"],
        "Lama"
    );

    ws.import_ok(&ws.write("v2.geojsonl", v2), "hidup", "tourism", &[]);
    s.eventually(20, |s| s.json("/api/layers/hidup")["version"] == 2);
    assert_eq!(
        s.json("/api/layers/hidup/features/1")["properties"]["nama"],
        "Baru"
    );
    assert_eq!(s.json("/api/layers/hidup/features")["numberMatched"], 2);

    // A new layer appears without a restart, too.
    ws.import_ok(&ws.write("n.geojson", v1), "baru", "economy", &[]);
    s.eventually(20, |s| s.get("/api/layers/baru").status() == 200);
}

#[test]
fn search_ranks_exact_then_prefix_then_words() {
    let ws = Workspace::new();
    let names = [
        "Pasar Badung",
        "Badung",
        "Pura Badung Sari",
        "Badungan",
        "Jalan Kebadungan",
    ];
    let feats: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(r#"{{"type":"Feature","id":{i},"properties":{{"nama":"{n}"}},"geometry":{{"type":"Point","coordinates":[115.2,-8.6]}}}}"#)
        })
        .collect();
    let file = ws.write(
        "s.geojson",
        &format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            feats.join(",")
        ),
    );
    ws.import_ok(&file, "cari", "economy", &[]);
    let s = ws.serve(&[]);
    let r = s.json("/api/search?q=BADUNG");
    let got: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        vec![
            "Badung",
            "Badungan",
            "Pasar Badung",
            "Pura Badung Sari",
            "Jalan Kebadungan"
        ]
    );
    assert_eq!(r["results"][0]["layer"], "cari");
    assert_eq!(r["results"][0]["feature"]["properties"]["nama"], "Badung");
    assert_eq!(s.json("/api/search?q=badung&limit=2")["numberReturned"], 2);
    let filtered = s.json("/api/layers/cari/features?q=pura");
    assert_eq!(filtered["numberMatched"], 1);
}

#[test]
fn demo_data_answers_every_route() {
    let ws = Workspace::new();
    let s = ws.serve(&["--demo", "--demo-features", "3000"]);
    let cats = s.json("/api/categories");
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

    let layers = s.json("/api/layers");
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
    let regency = common::f64s(&by_id["batas-kabupaten"]["bbox"]);
    for l in layers {
        let b = common::f64s(&l["bbox"]);
        assert!(
            b[0] >= regency[0] && b[1] >= regency[1] && b[2] <= regency[2] && b[3] <= regency[3],
            "{}",
            l["id"]
        );
    }
    let pura = s.json("/api/layers/pura/features?bbox=115.15,-8.70,115.25,-8.55&limit=5");
    let f = &pura["features"][0];
    for key in ["nama", "kecamatan", "desa", "alamat", "opd", "keterangan"] {
        assert!(f["properties"][key].is_string(), "pura has {key}: {f}");
    }
    let fid = id_key(&f["id"]);
    assert_eq!(
        s.json(&format!("/api/layers/pura/features/{fid}"))["id"],
        f["id"]
    );
    let name = f["properties"]["nama"].as_str().unwrap();
    let found = s.json(&format!("/api/search?q={}", name.replace(' ', "%20")));
    assert!(
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == name)
    );
    assert_eq!(s.json("/healthz")["status"], "ok");
    assert_eq!(s.json("/readyz")["status"], "ready");
    let metrics = s.get("/metrics").text().unwrap();
    assert!(metrics.contains("bsc_http_requests_total{method=\"GET\",route=\"/api/layers/{id}/features\",status=\"200\"}"), "{metrics}");
    assert!(metrics.contains("bsc_http_request_duration_seconds_bucket"));
    assert!(!metrics.contains("zona-covid") && !metrics.contains("bantuan-sosial"));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let ws = Workspace::new();
    let fc = mixed_layer(10, 1);
    ws.import_ok(
        &ws.write("m.geojson", &fc.to_string()),
        "henti",
        "general",
        &[],
    );
    let mut s = ws.serve(&[]);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(code) = s.child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        s.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("shutting down"))
    );
}
