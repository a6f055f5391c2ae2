//! End-to-end tests of uploads, drafts, publishing, rollback, deletion and
//! photos through HTTP, as OPD staff, leaders and admins use them.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Server, Workspace};
use reqwest::Method;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

/// How a test request identifies itself.
#[derive(Clone)]
enum As {
    Anonymous,
    /// A session cookie (`bsc_session=...`).
    Cookie(String),
}

fn call(s: &Server, who: &As, method: Method, path: &str) -> RequestBuilder {
    let r = s.request(method, path);
    match who {
        As::Anonymous => r,
        // Writes with a cookie must come from the server's own origin.
        As::Cookie(c) => r.header("cookie", c).header("origin", &s.base),
    }
}

fn json_of(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

fn get_as(s: &Server, who: &As, path: &str) -> (u16, Value) {
    json_of(call(s, who, Method::GET, path).send().unwrap())
}

fn post_as(s: &Server, who: &As, path: &str) -> (u16, Value) {
    json_of(call(s, who, Method::POST, path).send().unwrap())
}

/// Uploads `body` raw with the metadata `query` (e.g. `filename=a.geojson`).
fn upload(s: &Server, who: &As, path: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    json_of(
        call(s, who, Method::POST, &format!("{path}?{query}"))
            .body(body)
            .send()
            .unwrap(),
    )
}

fn points(names: &[&str], at: [f64; 2]) -> Vec<u8> {
    let features: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"type": "Feature", "id": i + 1, "properties": {"nama": n},
                   "geometry": {"type": "Point", "coordinates": [at[0] + i as f64 * 0.001, at[1]]}})
        })
        .collect();
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["properties"]["nama"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A workspace with one published public layer `jalan` of Dinas PUPR (v1)
/// and users of every role; returns the server and the callers.
struct World {
    _ws: Workspace,
    s: Server,
    pupr: As,
    dinkes: As,
    leader: As,
    admin: As,
}

fn world() -> World {
    let ws = Workspace::new();
    let v1 = ws.path("jalan-v1.geojson");
    std::fs::write(
        &v1,
        points(&["Jalan Lama A", "Jalan Lama B"], [115.17, -8.70]),
    )
    .unwrap();
    ws.import_ok(&v1, "jalan", "infrastructure", &["--agency", "Dinas PUPR"]);
    let other = ws.path("rs.geojson");
    std::fs::write(&other, points(&["RSUD Mangusada"], [115.18, -8.60])).unwrap();
    ws.import_ok(
        &other,
        "rumah-sakit",
        "health",
        &["--agency", "Dinas Kesehatan"],
    );
    for (name, role, agency) in [
        ("ayu_pupr", "opd_staff", Some("dinas-pupr")),
        ("made_dinkes", "opd_staff", Some("dinas-kesehatan")),
        ("bupati", "leader", None),
        ("admin", "admin", None),
    ] {
        ws.add_user(name, role, agency, "kata-sandi-rahasia-1");
    }
    let s = ws.serve(&[]);
    let login = |n: &str| As::Cookie(s.login(n, "kata-sandi-rahasia-1"));
    World {
        pupr: login("ayu_pupr"),
        dinkes: login("made_dinkes"),
        leader: login("bupati"),
        admin: login("admin"),
        s,
        _ws: ws,
    }
}

#[test]
fn draft_publish_rollback_delete_restore() {
    let w = world();
    let s = &w.s;
    let anon = As::Anonymous;
    let served = |who: &As| names(&get_as(s, who, "/api/layers/jalan/features").1);
    assert_eq!(served(&anon), ["Jalan Lama A", "Jalan Lama B"]);

    // Only logged-in owners may upload.
    let body = points(
        &["Jalan Baru 1", "Jalan Baru 2", "Jalan Baru 3"],
        [115.17, -8.71],
    );
    let path = "/api/layers/jalan/versions";
    assert_eq!(
        upload(s, &anon, path, "filename=j.geojson", body.clone()).0,
        401
    );
    assert_eq!(
        upload(s, &w.leader, path, "filename=j.geojson", body.clone()).0,
        403
    );
    assert_eq!(
        upload(s, &w.dinkes, path, "filename=j.geojson", body.clone()).0,
        403
    );
    let (status, r) = upload(s, &w.pupr, path, "filename=j.geojson", body);
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["version"].as_i64(), r["status"].as_str()),
        (Some(2), Some("draft"))
    );
    assert_eq!(r["report"]["features"], 3);
    assert_eq!(r["report"]["geometry_types"]["Point"], 3);
    assert_eq!(r["report"]["schema"][0]["name"], "nama");

    // The draft is served to nobody; it is previewed only by its agency and admins.
    assert_eq!(served(&anon), ["Jalan Lama A", "Jalan Lama B"]);
    let preview = "/api/layers/jalan/features?version=2";
    for who in [&anon, &w.leader, &w.dinkes] {
        assert_eq!(get_as(s, who, preview).0, 404);
        assert_eq!(get_as(s, who, "/api/layers/jalan/versions").0, 404);
    }
    for who in [&w.pupr, &w.admin] {
        let (st, v) = get_as(s, who, preview);
        assert_eq!(st, 200, "{v}");
        assert_eq!(names(&v), ["Jalan Baru 1", "Jalan Baru 2", "Jalan Baru 3"]);
    }

    // Publishing: not by another agency, leader or anonymous; then at once everywhere.
    assert_eq!(
        post_as(s, &w.dinkes, "/api/layers/jalan/publish?version=2").0,
        403
    );
    assert_eq!(
        post_as(s, &w.leader, "/api/layers/jalan/publish?version=2").0,
        403
    );
    // The public may see the layer, so it is told to log in (401).
    assert_eq!(
        post_as(s, &anon, "/api/layers/jalan/publish?version=2").0,
        401
    );
    assert_eq!(served(&anon).len(), 2);
    let (st, v) = post_as(s, &w.pupr, "/api/layers/jalan/publish");
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["current_version"].as_i64(),
            v["previous_version"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        served(&anon),
        ["Jalan Baru 1", "Jalan Baru 2", "Jalan Baru 3"]
    );
    assert_eq!(get_as(s, &anon, "/api/layers/jalan").1["version"], 2);
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/publish?version=2").0,
        409
    );

    // Rollback to 1 and forward again.
    assert_eq!(post_as(s, &w.pupr, "/api/layers/jalan/rollback").0, 400);
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/rollback?to=9").0,
        404
    );
    let (st, v) = post_as(s, &w.pupr, "/api/layers/jalan/rollback?to=1");
    assert_eq!(st, 200, "{v}");
    assert_eq!(served(&anon), ["Jalan Lama A", "Jalan Lama B"]);
    assert_eq!(
        post_as(s, &w.admin, "/api/layers/jalan/rollback?to=2").0,
        200
    );
    assert_eq!(served(&anon).len(), 3);

    // An upload with errors is kept as a rejected version; nothing served changes.
    let bad = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"nama":"ok"},"geometry":{"type":"Point","coordinates":[115.2,-8.7]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500000,9000000]}}]}"#;
    let (st, p) = upload(s, &w.pupr, path, "filename=bad.geojson", bad.to_vec());
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["type"], "urn:bsc:problem:invalid-upload");
    assert_eq!(p["version"], 3);
    assert_eq!(p["report"]["error_count"], 1);
    assert_eq!(p["report"]["errors"][0]["feature"], 1);
    assert_eq!(served(&anon).len(), 3);
    let (_, versions) = get_as(s, &w.pupr, "/api/layers/jalan/versions");
    let statuses: Vec<(i64, &str, bool)> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap(),
                v["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (3, "rejected", false),
            (2, "published", true),
            (1, "published", false)
        ]
    );
    let (_, v3) = get_as(s, &w.pupr, "/api/layers/jalan/versions/3");
    assert_eq!(v3["report"]["errors"][0]["feature"], 1);
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/publish?version=3").0,
        409
    );

    // Delete hides the layer from everyone; only an admin restores it.
    assert_eq!(
        call(s, &w.dinkes, Method::DELETE, "/api/layers/jalan")
            .send()
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        call(s, &w.pupr, Method::DELETE, "/api/layers/jalan")
            .send()
            .unwrap()
            .status(),
        204
    );
    for who in [&anon, &w.leader, &w.pupr, &w.admin] {
        assert_eq!(get_as(s, who, "/api/layers/jalan").0, 404);
    }
    assert_eq!(post_as(s, &w.pupr, "/api/layers/jalan/restore").0, 404);
    assert_eq!(post_as(s, &w.admin, "/api/layers/jalan/restore").0, 200);
    assert_eq!(served(&anon).len(), 3);

    // Every write is in the audit log with who, from where, and the versions.
    let (st, audit) = get_as(s, &w.admin, "/api/audit?limit=100");
    assert_eq!(st, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    // Oldest first, so each action's first entry is the one made above first.
    let find = |action: &str| {
        entries
            .iter()
            .rev()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {audit}"))
    };
    let publish = find("publish");
    assert_eq!(publish["actor"], "ayu_pupr");
    assert_eq!(
        (
            publish["from_version"].as_i64(),
            publish["to_version"].as_i64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(publish["client"], "127.0.0.1");
    assert_eq!(find("rollback")["to_version"], 1);
    assert_eq!(find("rollback")["from_version"], 2);
    assert_eq!(find("upload_rejected")["to_version"], 3);
    assert_eq!(find("delete")["layer"], "jalan");
    assert_eq!(find("restore")["actor"], "admin");
}

#[test]
fn a_new_internal_layer_from_a_multipart_upload() {
    let w = world();
    let s = &w.s;
    let form = reqwest::blocking::multipart::Form::new()
        .text("id", "posyandu")
        .text("category", "health")
        .text("title_id", "Posyandu")
        .text("title_en", "Integrated health posts")
        .text("visibility", "internal")
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(points(&["Posyandu Melati"], [115.2, -8.65]))
                .file_name("posyandu.geojson")
                .mime_str("application/geo+json")
                .unwrap(),
        );
    let r = call(s, &w.dinkes, Method::POST, "/api/layers")
        .multipart(form)
        .send()
        .unwrap();
    let (st, v) = json_of(r);
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"], "draft");
    // An unpublished layer is listed for nobody, not even its agency.
    let listed = |who: &As| {
        get_as(s, who, "/api/layers").1["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "posyandu")
    };
    assert!(!listed(&w.dinkes) && !listed(&w.leader));
    // Its agency sees it among the layers it manages, another agency does not.
    let managed = |who: &As| {
        get_as(s, who, "/api/manage/layers").1["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "posyandu" && l["latest_status"] == "draft")
    };
    assert!(managed(&w.dinkes) && managed(&w.admin) && !managed(&w.pupr));
    // Creating it again is a conflict.
    let (st, _) = upload(
        s,
        &w.dinkes,
        "/api/layers",
        "id=posyandu&category=health&filename=p.geojson",
        points(&["x"], [115.2, -8.6]),
    );
    assert_eq!(st, 409);
    // Staff cannot create layers for another agency.
    let (st, _) = upload(
        s,
        &w.dinkes,
        "/api/layers",
        "id=lain&category=health&agency=dinas-pupr&filename=p.geojson",
        points(&["x"], [115.2, -8.6]),
    );
    assert_eq!(st, 403);

    assert_eq!(post_as(s, &w.dinkes, "/api/layers/posyandu/publish").0, 200);
    // Internal: leaders and its own agency see it, the public and other agencies do not.
    assert!(listed(&w.leader) && listed(&w.dinkes) && listed(&w.admin));
    assert!(!listed(&As::Anonymous) && !listed(&w.pupr));
    assert_eq!(
        get_as(s, &As::Anonymous, "/api/layers/posyandu/features").0,
        404
    );
    assert_eq!(
        names(&get_as(s, &w.leader, "/api/layers/posyandu/features").1),
        ["Posyandu Melati"]
    );
}

/// A 2x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7B, 0x40, 0xE8,
    0xDD, 0x00, 0x00, 0x00, 0x0F, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[test]
fn photos_are_sniffed_served_safely_and_listed_in_properties() {
    let w = world();
    let s = &w.s;
    let path = "/api/layers/jalan/features/1/photos";
    let send = |who: &As, path: &str, body: &[u8]| {
        json_of(
            call(s, who, Method::POST, path)
                .body(body.to_vec())
                .send()
                .unwrap(),
        )
    };
    assert_eq!(send(&As::Anonymous, path, PNG).0, 401);
    assert_eq!(send(&w.dinkes, path, PNG).0, 403);
    // HTML or SVG named as a photo is refused whatever it claims to be.
    let (st, p) = send(
        &w.pupr,
        &format!("{path}?caption=x"),
        b"<html><script>alert(1)</script></html>",
    );
    assert_eq!(st, 400, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("JPEG, PNG and WebP"),
        "{p}"
    );
    assert_eq!(
        send(&w.pupr, "/api/layers/jalan/features/999/photos", PNG).0,
        404
    );

    let caption = "Jalan <img src=x onerror=alert(1)> rusak";
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("caption", caption)
        .finish();
    let (st, photo) = send(&w.pupr, &format!("{path}?{q}"), PNG);
    assert_eq!(st, 201, "{photo}");
    assert_eq!(
        (photo["type"].as_str(), photo["width"].as_i64()),
        (Some("image/png"), Some(2))
    );

    // The feature lists it (the caption as plain data), and anyone who sees the layer can fetch it.
    let (_, f) = get_as(s, &As::Anonymous, "/api/layers/jalan/features/1");
    assert_eq!(f["properties"]["photos"][0]["url"], photo["url"]);
    assert_eq!(f["properties"]["photos"][0]["caption"], caption);
    let r = s.get(photo["url"].as_str().unwrap());
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(r.bytes().unwrap().as_ref(), PNG);
    assert_eq!(s.get("/api/photos/999999").status(), 404);

    // Photos of an internal layer follow its visibility.
    assert_eq!(
        call(
            s,
            &w.pupr,
            Method::DELETE,
            &format!("/api/photos/{}", photo["id"])
        )
        .send()
        .unwrap()
        .status(),
        204
    );
    let (_, f) = get_as(s, &As::Anonymous, "/api/layers/jalan/features/1");
    assert!(f["properties"].get("photos").is_none(), "{f}");
}
