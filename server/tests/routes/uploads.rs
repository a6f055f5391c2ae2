//! Uploads, drafts, publishing, rollback, deletion and photos through the
//! HTTP API, as OPD staff, leaders and admins use them. In-process through
//! `server::app` (moved from the end-to-end tests/uploads.rs).

use crate::support::{Auth, PASSWORD, PNG, Reply, World, named_points};
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::Value;

/// How a test request identifies itself.
#[derive(Clone)]
enum As {
    Anonymous,
    /// A session cookie (`bsc_session=...`).
    Cookie(String),
}

impl As {
    /// Writes with a cookie come from the server's own origin.
    fn auth(&self) -> Auth<'_> {
        match self {
            As::Anonymous => Auth::Anonymous,
            As::Cookie(c) => Auth::Cookie(c),
        }
    }
}

async fn call(s: &World, who: &As, method: Method, path: &str, body: impl Into<Body>) -> Reply {
    s.call_as(method, path, who.auth(), body).await
}

fn json_of(r: Reply) -> (u16, Value) {
    let text = r.text();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (r.status.as_u16(), v)
}

async fn get_as(s: &World, who: &As, path: &str) -> (u16, Value) {
    json_of(call(s, who, Method::GET, path, Body::empty()).await)
}

async fn post_as(s: &World, who: &As, path: &str) -> (u16, Value) {
    json_of(call(s, who, Method::POST, path, Body::empty()).await)
}

/// Uploads `body` raw with the metadata `query` (e.g. `filename=a.geojson`).
async fn upload(s: &World, who: &As, path: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    json_of(call(s, who, Method::POST, &format!("{path}?{query}"), body).await)
}

fn points(names: &[&str], at: [f64; 2]) -> Vec<u8> {
    serde_json::to_vec(&named_points(names, at)).unwrap()
}

/// A `multipart/form-data` body of text `fields` and one file part
/// `(file name, type, bytes)` named `file`; returns its content type too.
fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "bsc-test-boundary-7d3c";
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (filename, mime, bytes) = file;
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(bytes);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
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

/// A server with one published public layer `jalan` of Dinas PUPR (v1)
/// and users of every role, logged in.
struct Fixture {
    s: World,
    pupr: As,
    dinkes: As,
    leader: As,
    admin: As,
}

async fn world() -> Fixture {
    let s = World::new().await;
    let v1 = points(&["Jalan Lama A", "Jalan Lama B"], [115.17, -8.70]);
    s.import(
        std::str::from_utf8(&v1).unwrap(),
        "jalan",
        "infrastructure",
        &["--agency", "Dinas PUPR"],
    )
    .await;
    let other = points(&["RSUD Mangusada"], [115.18, -8.60]);
    s.import(
        std::str::from_utf8(&other).unwrap(),
        "rumah-sakit",
        "health",
        &["--agency", "Dinas Kesehatan"],
    )
    .await;
    for (name, role, agency) in [
        ("ayu_pupr", "opd_staff", Some("dinas-pupr")),
        ("made_dinkes", "opd_staff", Some("dinas-kesehatan")),
        ("bupati", "leader", None),
        ("admin", "admin", None),
    ] {
        s.add_user(name, role, agency).await;
    }
    Fixture {
        pupr: As::Cookie(s.login("ayu_pupr", PASSWORD).await),
        dinkes: As::Cookie(s.login("made_dinkes", PASSWORD).await),
        leader: As::Cookie(s.login("bupati", PASSWORD).await),
        admin: As::Cookie(s.login("admin", PASSWORD).await),
        s,
    }
}

#[tokio::test]
async fn draft_publish_rollback_delete_restore() {
    let w = world().await;
    let s = &w.s;
    let anon = As::Anonymous;
    let served = async |who: &As| names(&get_as(s, who, "/api/layers/jalan/features").await.1);
    assert_eq!(served(&anon).await, ["Jalan Lama A", "Jalan Lama B"]);

    // Only logged-in owners may upload.
    let body = points(
        &["Jalan Baru 1", "Jalan Baru 2", "Jalan Baru 3"],
        [115.17, -8.71],
    );
    let path = "/api/layers/jalan/versions";
    assert_eq!(
        upload(s, &anon, path, "filename=j.geojson", body.clone())
            .await
            .0,
        401
    );
    assert_eq!(
        upload(s, &w.leader, path, "filename=j.geojson", body.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        upload(s, &w.dinkes, path, "filename=j.geojson", body.clone())
            .await
            .0,
        403
    );
    let (status, r) = upload(s, &w.pupr, path, "filename=j.geojson", body).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["version"].as_i64(), r["status"].as_str()),
        (Some(2), Some("draft"))
    );
    assert_eq!(r["report"]["features"], 3);
    assert_eq!(r["report"]["geometry_types"]["Point"], 3);
    assert_eq!(r["report"]["schema"][0]["name"], "nama");

    // The draft is served to nobody; it is previewed only by its agency and admins.
    assert_eq!(served(&anon).await, ["Jalan Lama A", "Jalan Lama B"]);
    let preview = "/api/layers/jalan/features?version=2";
    for who in [&anon, &w.leader, &w.dinkes] {
        assert_eq!(get_as(s, who, preview).await.0, 404);
        assert_eq!(get_as(s, who, "/api/layers/jalan/versions").await.0, 404);
    }
    for who in [&w.pupr, &w.admin] {
        let (st, v) = get_as(s, who, preview).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(names(&v), ["Jalan Baru 1", "Jalan Baru 2", "Jalan Baru 3"]);
    }

    // Publishing: not by another agency, leader or anonymous; then at once everywhere.
    assert_eq!(
        post_as(s, &w.dinkes, "/api/layers/jalan/publish?version=2")
            .await
            .0,
        403
    );
    assert_eq!(
        post_as(s, &w.leader, "/api/layers/jalan/publish?version=2")
            .await
            .0,
        403
    );
    // The public may see the layer, so it is told to log in (401).
    assert_eq!(
        post_as(s, &anon, "/api/layers/jalan/publish?version=2")
            .await
            .0,
        401
    );
    assert_eq!(served(&anon).await.len(), 2);
    let (st, v) = post_as(s, &w.pupr, "/api/layers/jalan/publish").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["current_version"].as_i64(),
            v["previous_version"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        served(&anon).await,
        ["Jalan Baru 1", "Jalan Baru 2", "Jalan Baru 3"]
    );
    assert_eq!(get_as(s, &anon, "/api/layers/jalan").await.1["version"], 2);
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/publish?version=2")
            .await
            .0,
        409
    );

    // Rollback to 1 and forward again.
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/rollback").await.0,
        400
    );
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/rollback?to=9")
            .await
            .0,
        404
    );
    let (st, v) = post_as(s, &w.pupr, "/api/layers/jalan/rollback?to=1").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(served(&anon).await, ["Jalan Lama A", "Jalan Lama B"]);
    assert_eq!(
        post_as(s, &w.admin, "/api/layers/jalan/rollback?to=2")
            .await
            .0,
        200
    );
    assert_eq!(served(&anon).await.len(), 3);

    // An upload with errors is kept as a rejected version; nothing served changes.
    let bad = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"nama":"ok"},"geometry":{"type":"Point","coordinates":[115.2,-8.7]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500000,9000000]}}]}"#;
    let (st, p) = upload(s, &w.pupr, path, "filename=bad.geojson", bad.to_vec()).await;
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["type"], "urn:bsc:problem:invalid-upload");
    assert_eq!(p["version"], 3);
    assert_eq!(p["report"]["error_count"], 1);
    assert_eq!(p["report"]["errors"][0]["feature"], 1);
    // People read the problem counted from 1, in both languages.
    let e = &p["report"]["errors"][0];
    assert_eq!(e["number"], 2);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Point position [500000, 9000000] is outside WGS 84"),
        "{e}"
    );
    assert!(
        e["message_id"]
            .as_str()
            .unwrap()
            .starts_with("Koordinat [500000, 9000000] pada titik (Point) di luar WGS 84"),
        "{e}"
    );
    assert_eq!(served(&anon).await.len(), 3);
    let (_, versions) = get_as(s, &w.pupr, "/api/layers/jalan/versions").await;
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
    let (_, v3) = get_as(s, &w.pupr, "/api/layers/jalan/versions/3").await;
    assert_eq!(v3["report"]["errors"][0]["feature"], 1);
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/publish?version=3")
            .await
            .0,
        409
    );

    // Delete hides the layer from everyone; only an admin restores it.
    assert_eq!(
        call(s, &w.dinkes, Method::DELETE, "/api/layers/jalan", "")
            .await
            .status
            .as_u16(),
        403
    );
    assert_eq!(
        call(s, &w.pupr, Method::DELETE, "/api/layers/jalan", "")
            .await
            .status
            .as_u16(),
        204
    );
    for who in [&anon, &w.leader, &w.pupr, &w.admin] {
        assert_eq!(get_as(s, who, "/api/layers/jalan").await.0, 404);
    }
    assert_eq!(
        post_as(s, &w.pupr, "/api/layers/jalan/restore").await.0,
        404
    );
    assert_eq!(
        post_as(s, &w.admin, "/api/layers/jalan/restore").await.0,
        200
    );
    assert_eq!(served(&anon).await.len(), 3);

    // Every write is in the audit log with who, from where, and the versions.
    let (st, audit) = get_as(s, &w.admin, "/api/audit?limit=100").await;
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

#[tokio::test]
async fn places_outside_the_real_regency_boundary_are_warned_about() {
    let w = world().await;
    let s = &w.s;
    // Denpasar lies inside Badung's bounding box but not in Badung; Kuta
    // beach's waterline a hundred metres off the coast is in, by the
    // tolerance; Lombok is far out.
    let body = br#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"kuta","properties":{"nama":"Pantai Kuta"},"geometry":{"type":"Point","coordinates":[115.1660,-8.7190]}},
        {"type":"Feature","id":"dps","properties":{"nama":"Lapangan Puputan"},"geometry":{"type":"Point","coordinates":[115.2167,-8.6705]}},
        {"type":"Feature","id":"jalan","properties":{"nama":"Jalan ke Denpasar"},"geometry":{"type":"LineString","coordinates":[[115.17,-8.65],[115.2625,-8.65]]}},
        {"type":"Feature","id":"lombok","properties":{"nama":"Taman Jauh"},"geometry":{"type":"Point","coordinates":[116.5,-8.6]}}]}"#;
    let (st, v) = upload(
        s,
        &w.pupr,
        "/api/layers",
        "id=batas-uji&category=general&filename=batas.geojson",
        body.to_vec(),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let r = &v["report"];
    assert_eq!(r["warning_count"], 3, "{r}");
    let warned: Vec<(i64, &str, &str)> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["number"].as_i64().unwrap(),
                p["fid"].as_str().unwrap(),
                p["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        warned,
        [
            (2, "dps", "Lapangan Puputan"),
            (3, "jalan", "Jalan ke Denpasar"),
            (4, "lombok", "Taman Jauh")
        ]
    );
    let first = &r["warnings"][0];
    assert!(
        first["message_id"]
            .as_str()
            .unwrap()
            .contains("di luar Kabupaten Badung"),
        "{first}"
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("outside Badung Regency"),
        "{first}"
    );
}

#[tokio::test]
async fn a_new_internal_layer_from_a_multipart_upload() {
    let w = world().await;
    let s = &w.s;
    let (content_type, form) = multipart(
        &[
            ("id", "posyandu"),
            ("category", "health"),
            ("title_id", "Posyandu"),
            ("title_en", "Integrated health posts"),
            ("visibility", "internal"),
        ],
        (
            "posyandu.geojson",
            "application/geo+json",
            &points(&["Posyandu Melati"], [115.2, -8.65]),
        ),
    );
    let r = s
        .send(
            World::request(Method::POST, "/api/layers", w.dinkes.auth())
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    let (st, v) = json_of(r);
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"], "draft");
    // An unpublished layer is listed for nobody, not even its agency.
    let listed = async |who: &As| {
        get_as(s, who, "/api/layers").await.1["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "posyandu")
    };
    assert!(!listed(&w.dinkes).await && !listed(&w.leader).await);
    // Its agency sees it among the layers it manages, another agency does not.
    let managed = async |who: &As| {
        get_as(s, who, "/api/manage/layers").await.1["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "posyandu" && l["latest_status"] == "draft")
    };
    assert!(managed(&w.dinkes).await && managed(&w.admin).await && !managed(&w.pupr).await);
    // Creating it again is a conflict.
    let (st, _) = upload(
        s,
        &w.dinkes,
        "/api/layers",
        "id=posyandu&category=health&filename=p.geojson",
        points(&["x"], [115.2, -8.6]),
    )
    .await;
    assert_eq!(st, 409);
    // Staff cannot create layers for another agency.
    let (st, _) = upload(
        s,
        &w.dinkes,
        "/api/layers",
        "id=lain&category=health&agency=dinas-pupr&filename=p.geojson",
        points(&["x"], [115.2, -8.6]),
    )
    .await;
    assert_eq!(st, 403);

    assert_eq!(
        post_as(s, &w.dinkes, "/api/layers/posyandu/publish")
            .await
            .0,
        200
    );
    // Internal: leaders and its own agency see it, the public and other agencies do not.
    assert!(listed(&w.leader).await && listed(&w.dinkes).await && listed(&w.admin).await);
    assert!(!listed(&As::Anonymous).await && !listed(&w.pupr).await);
    assert_eq!(
        get_as(s, &As::Anonymous, "/api/layers/posyandu/features")
            .await
            .0,
        404
    );
    assert_eq!(
        names(
            &get_as(s, &w.leader, "/api/layers/posyandu/features")
                .await
                .1
        ),
        ["Posyandu Melati"]
    );
}

#[tokio::test]
async fn photos_are_sniffed_served_safely_and_listed_in_properties() {
    let w = world().await;
    let s = &w.s;
    let path = "/api/layers/jalan/features/1/photos";
    let send = async |who: &As, path: &str, body: &[u8]| {
        json_of(call(s, who, Method::POST, path, body.to_vec()).await)
    };
    assert_eq!(send(&As::Anonymous, path, PNG).await.0, 401);
    assert_eq!(send(&w.dinkes, path, PNG).await.0, 403);
    // HTML or SVG named as a photo is refused whatever it claims to be.
    let (st, p) = send(
        &w.pupr,
        &format!("{path}?caption=x"),
        b"<html><script>alert(1)</script></html>",
    )
    .await;
    assert_eq!(st, 400, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("JPEG, PNG and WebP"),
        "{p}"
    );
    assert_eq!(
        send(&w.pupr, "/api/layers/jalan/features/999/photos", PNG)
            .await
            .0,
        404
    );

    let caption = "Jalan <img src=x onerror=alert(1)> rusak";
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("caption", caption)
        .finish();
    let (st, photo) = send(&w.pupr, &format!("{path}?{q}"), PNG).await;
    assert_eq!(st, 201, "{photo}");
    assert_eq!(
        (photo["type"].as_str(), photo["width"].as_i64()),
        (Some("image/png"), Some(2))
    );

    // The feature lists it (the caption as plain data), and anyone who sees the layer can fetch it.
    let (_, f) = get_as(s, &As::Anonymous, "/api/layers/jalan/features/1").await;
    assert_eq!(f["properties"]["photos"][0]["url"], photo["url"]);
    assert_eq!(f["properties"]["photos"][0]["caption"], caption);
    let r = s.get(photo["url"].as_str().unwrap(), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(r.body, PNG);
    assert_eq!(
        s.get("/api/photos/999999", None).await.status,
        StatusCode::NOT_FOUND
    );

    // Photos of an internal layer follow its visibility.
    assert_eq!(
        call(
            s,
            &w.pupr,
            Method::DELETE,
            &format!("/api/photos/{}", photo["id"]),
            ""
        )
        .await
        .status
        .as_u16(),
        204
    );
    let (_, f) = get_as(s, &As::Anonymous, "/api/layers/jalan/features/1").await;
    assert!(f["properties"].get("photos").is_none(), "{f}");
}
