//! Visibility per role on every read route: anonymous, leader, the owning
//! agency's staff, another agency's staff and admin, over a public layer
//! with a draft, an internal layer and a layer that was never published.
//! Canary strings in each must reach exactly the callers allowed to see
//! them. In-process through `server::app` (moved from the end-to-end
//! tests/access.rs and tests/api.rs).

use crate::support::{Auth, PASSWORD, World, mixed_layer, points};
use axum::http::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn every_read_route_shows_each_caller_exactly_what_they_may_see() {
    let w = World::new().await;
    w.import(
        &points(&["Taman Umum"]),
        "taman-umum",
        "general",
        &["--agency", "Dinas PUPR"],
    )
    .await;
    w.import(
        &points(&["Gudang INTERNALCANARY"]),
        "gudang-rahasia",
        "infrastructure",
        &["--agency", "Dinas PUPR", "--visibility", "internal"],
    )
    .await;
    for (name, role, agency) in [
        ("staf_pupr", "opd_staff", Some("dinas-pupr")),
        ("staf_dinkes", "opd_staff", Some("dinas-kesehatan")),
        ("pimpinan", "leader", None),
        ("admin", "admin", None),
    ] {
        w.add_user(name, role, agency).await;
    }
    let own = w.login("staf_pupr", PASSWORD).await;
    let upload = async |path: &str, body: String| {
        let r = w
            .call_as(Method::POST, path, Auth::Cookie(&own), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    };
    // A draft of the public layer, and a layer that was never published.
    upload(
        "/api/layers/taman-umum/versions?filename=v2.geojson",
        points(&["Taman DRAFTCANARY"]),
    )
    .await;
    upload(
        "/api/layers?id=lapangan-baru&category=general&filename=new.geojson",
        points(&["Lapangan NEWCANARY"]),
    )
    .await;

    let mut paths = vec![
        "/api/layers".to_owned(),
        "/api/categories".to_owned(),
        "/api/search?q=canary".to_owned(),
        "/api/search?q=taman".to_owned(),
        "/api/manage/layers".to_owned(),
        "/metrics".to_owned(),
    ];
    for layer in ["taman-umum", "gudang-rahasia", "lapangan-baru"] {
        for p in [
            "",
            "/features",
            "/features/1",
            "/features?bbox=115,-9,116,-8",
            "/versions",
        ] {
            paths.push(format!("/api/layers/{layer}{p}"));
        }
        paths.push(format!("/api/stats?layer={layer}&by=nama"));
        for v in 1..=2 {
            paths.push(format!("/api/layers/{layer}/features?version={v}"));
            paths.push(format!("/api/layers/{layer}/features/1?version={v}"));
            paths.push(format!("/api/layers/{layer}/versions/{v}"));
        }
    }

    let callers = [
        ("anonymous", None, vec![]),
        ("other agency", Some("staf_dinkes"), vec![]),
        (
            "leader",
            Some("pimpinan"),
            vec!["INTERNALCANARY", "gudang-rahasia"],
        ),
        (
            "own agency",
            Some("staf_pupr"),
            vec![
                "INTERNALCANARY",
                "gudang-rahasia",
                "DRAFTCANARY",
                "NEWCANARY",
                "lapangan-baru",
            ],
        ),
        (
            "admin",
            Some("admin"),
            vec![
                "INTERNALCANARY",
                "gudang-rahasia",
                "DRAFTCANARY",
                "NEWCANARY",
                "lapangan-baru",
            ],
        ),
    ];
    let canaries = [
        "INTERNALCANARY",
        "gudang-rahasia",
        "DRAFTCANARY",
        "NEWCANARY",
        "lapangan-baru",
    ];
    let mut layer_counts = Vec::new();
    for (label, user, allowed) in callers {
        let cookie = match user {
            Some(u) => Some(w.login(u, PASSWORD).await),
            None => None,
        };
        let auth = cookie.as_deref().map_or(Auth::Anonymous, Auth::Cookie);
        let mut seen_text = String::new();
        for p in &paths {
            let r = w.get_as(p, auth).await;
            let status = r.status.as_u16();
            assert!(status < 500, "{label} {p}: {status}");
            // Nothing a caller may not see is told apart from nothing at all.
            assert_ne!(
                status, 403,
                "{label} {p}: invisible things are 404, not 403"
            );
            let body = r.text();
            if !(200..300).contains(&status) {
                // An error may repeat the name asked for, nothing more.
                assert!([401, 404].contains(&status), "{label} {p}: {status} {body}");
                continue;
            }
            for c in canaries {
                if body.contains(c) && !allowed.contains(&c) {
                    panic!("{label} saw {c} in {p}: {body}");
                }
            }
            seen_text.push_str(&body);
        }
        for c in &allowed {
            assert!(seen_text.contains(c), "{label} never saw {c}");
        }
        let cats = w.get_as("/api/categories", auth).await.json();
        let total: u64 = cats["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["layer_count"].as_u64().unwrap())
            .sum();
        layer_counts.push((label, total));
    }
    // Counts follow visibility too: the internal layer is counted only for those who see it.
    assert_eq!(
        layer_counts,
        [
            ("anonymous", 1),
            ("other agency", 1),
            ("leader", 2),
            ("own agency", 2),
            ("admin", 2)
        ]
    );
}

#[tokio::test]
async fn internal_layers_never_reach_anonymous_callers() {
    let w = World::new().await;
    let canary = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"c1","properties":{"nama":"Kanari Rahasia Zzyzx"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}]}"#;
    let public = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"p1","properties":{"nama":"Pura Umum Zzyzx"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}]}"#;
    w.import(canary, "rahasia", "social", &["--visibility", "internal"])
        .await;
    w.import(public, "umum", "social", &[]).await;

    let layers = w.json("/api/layers").await;
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
        let detail = w.problem(path, 404).await;
        // Indistinguishable from a layer that does not exist.
        let missing = w.problem(&path.replace("rahasia", "tidak-ada"), 404).await;
        assert_eq!(
            detail.replace("rahasia", "X"),
            missing.replace("tidak-ada", "X"),
            "{path}"
        );
    }
    let found = w.json("/api/search?q=zzyzx").await;
    let names: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Pura Umum Zzyzx"]);
    let cats = w.json("/api/categories").await;
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
    let metrics = w.get("/metrics", None).await.text();
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

/// Bad requests get a problem JSON (RFC 9457) naming what was wrong; the
/// 404 and 400 documents are snapshots.
#[tokio::test]
async fn bad_requests_get_problem_json() {
    let w = World::new().await;
    let fc = mixed_layer(20, 1);
    w.import(&fc.to_string(), "uji", "general", &[]).await;
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
        let detail = w.problem(path, status).await;
        assert!(detail.contains(needle), "{path}: {detail}");
    }
    let long_q = format!("/api/layers/uji/features?q={}", "a".repeat(500));
    w.problem(&long_q, 400).await;
    let r = w
        .call(Method::POST, "/api/layers/uji/features", None, "")
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json")
    );

    let not_found: Value = w.get("/api/layers/nope", None).await.problem(404);
    insta::assert_json_snapshot!("problem_404", crate::support::redact(&not_found));
    let bad: Value = w
        .get("/api/layers/uji/features?bbox=0,10,1,5", None)
        .await
        .problem(400);
    insta::assert_json_snapshot!("problem_400", crate::support::redact(&bad));
}
