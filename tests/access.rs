//! The access matrix: every read route, as anonymous, leader, the owning
//! agency's staff, another agency's staff and admin, over a public layer
//! with a draft, an internal layer and a layer that was never published.
//! Canary strings in each must reach exactly the callers allowed to see them.
#![allow(clippy::unwrap_used)]

mod common;

use common::Workspace;
use serde_json::{Value, json};

const PASSWORD: &str = "kata-sandi-rahasia-1";

fn fc(names: &[&str]) -> String {
    let features: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"type": "Feature", "id": i + 1, "properties": {"nama": n},
                   "geometry": {"type": "Point", "coordinates": [115.17 + i as f64 * 0.001, -8.7]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

#[test]
fn every_read_route_shows_each_caller_exactly_what_they_may_see() {
    let ws = Workspace::new();
    let public = ws.write("public.geojson", &fc(&["Taman Umum"]));
    let internal = ws.write("internal.geojson", &fc(&["Gudang INTERNALCANARY"]));
    ws.import_ok(
        &public,
        "taman-umum",
        "general",
        &["--agency", "Dinas PUPR"],
    );
    ws.import_ok(
        &internal,
        "gudang-rahasia",
        "infrastructure",
        &["--agency", "Dinas PUPR", "--visibility", "internal"],
    );
    for (name, role, agency) in [
        ("staf_pupr", "opd_staff", Some("dinas-pupr")),
        ("staf_dinkes", "opd_staff", Some("dinas-kesehatan")),
        ("pimpinan", "leader", None),
        ("admin", "admin", None),
    ] {
        ws.add_user(name, role, agency, PASSWORD);
    }
    let s = ws.serve(&[]);
    let own = s.login("staf_pupr", PASSWORD);
    let upload = |path: &str, body: String| {
        let r = s
            .request(reqwest::Method::POST, path)
            .header("cookie", &own)
            .header("origin", &s.base)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    };
    // A draft of the public layer, and a layer that was never published.
    upload(
        "/api/layers/taman-umum/versions?filename=v2.geojson",
        fc(&["Taman DRAFTCANARY"]),
    );
    upload(
        "/api/layers?id=lapangan-baru&category=general&filename=new.geojson",
        fc(&["Lapangan NEWCANARY"]),
    );

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
        let cookie = user.map(|u| s.login(u, PASSWORD));
        let mut seen_text = String::new();
        for p in &paths {
            let mut r = s.request(reqwest::Method::GET, p);
            if let Some(c) = &cookie {
                r = r.header("cookie", c);
            }
            let r = r.send().unwrap();
            let status = r.status().as_u16();
            assert!(status < 500, "{label} {p}: {status}");
            // Nothing a caller may not see is told apart from nothing at all.
            assert_ne!(
                status, 403,
                "{label} {p}: invisible things are 404, not 403"
            );
            let body = r.text().unwrap();
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
        let cats = {
            let mut r = s.request(reqwest::Method::GET, "/api/categories");
            if let Some(c) = &cookie {
                r = r.header("cookie", c);
            }
            r.send().unwrap().json::<Value>().unwrap()
        };
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
