//! End-to-end tests of the HTTP API that need the real `bsc` binary: a
//! command-line import reaching a running server, the demo data of
//! `--demo`, and SIGTERM. Route behaviour that needs no process is tested
//! in-process in server/tests/ (features, visibility, caching, tiles,
//! ogc_documents, uploads, sessions).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;

use common::{Workspace, id_key, mixed_layer};
use serde_json::Value;

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
