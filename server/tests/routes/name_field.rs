//! The layer's name field: detected at upload (`nama pura`, a column that
//! looks like names), named by the upload, changed by staff with `PATCH
//! /api/layers/{id}/versions/{n}`; search follows it. In-process through
//! `server::app`.

use crate::support::{Auth, World};
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use layers::model::access::Role;
use serde_json::{Value, json};

/// Temples with their names under `nama pura`, a code and the priest.
fn temples() -> String {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1,
         "properties": {"kode": "P-001", "nama pura": "Pura Dalem Kedewatan", "pemangku": "Jero Mangku Sukra"},
         "geometry": {"type": "Point", "coordinates": [115.17, -8.70]}},
        {"type": "Feature", "id": 2,
         "properties": {"kode": "P-002", "nama pura": "Pura Puseh Sibang", "pemangku": "Jero Mangku Wirata"},
         "geometry": {"type": "Point", "coordinates": [115.18, -8.69]}},
    ]})
    .to_string()
}

/// A multipart upload of `geojson` with text `fields`; returns its body
/// and content type.
fn form(fields: &[(&str, &str)], geojson: &str) -> (String, Vec<u8>) {
    let boundary = "bsc-name-field-5e1a";
    let mut out = String::new();
    for (name, value) in fields {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    out.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pura.geojson\"\r\nContent-Type: application/geo+json\r\n\r\n{geojson}\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        out.into_bytes(),
    )
}

async fn upload(w: &World, token: &str, fields: &[(&str, &str)], geojson: &str) -> (u16, Value) {
    let (content_type, body) = form(fields, geojson);
    let r = w
        .send(
            World::request(Method::POST, "/api/layers", Auth::Bearer(token))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    (r.status.as_u16(), r.json())
}

async fn patch(w: &World, token: Option<&str>, path: &str, body: &str) -> crate::support::Reply {
    w.call(Method::PATCH, path, token, body.to_owned()).await
}

/// The names `/api/search?q=` finds for `q` (as the public sees them).
async fn found(w: &World, q: &str) -> Vec<String> {
    let r = w.json(&format!("/api/search?q={q}")).await;
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn names_come_from_the_name_field_and_staff_change_it() {
    let w = World::new().await;
    let staff = w
        .user("ayu_budaya", Role::OpdStaff, Some("Dinas Kebudayaan"))
        .await;
    let other = w
        .user("made_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    let admin = w.user("admin", Role::Admin, None).await;
    let (st, v) = upload(
        &w,
        &staff,
        &[("id", "pura-desa"), ("category", "places-of-worship")],
        &temples(),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["report"]["name_field"], "nama pura", "{v}");
    let r = w
        .post("/api/layers/pura-desa/publish", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        found(&w, "Kedewatan")
            .await
            .contains(&"Pura Dalem Kedewatan".to_owned()),
        "{:?}",
        found(&w, "Kedewatan").await
    );
    assert_eq!(
        w.json("/api/layers/pura-desa").await["name_field"],
        "nama pura"
    );
    let v1 = w
        .json_as("/api/layers/pura-desa/versions/1", Auth::Bearer(&staff))
        .await;
    assert_eq!(v1["name_field"], "nama pura");
    assert_eq!(v1["report"]["name_field"], "nama pura");

    // Staff pick the priest's name instead: search follows at once.
    let r = patch(
        &w,
        Some(&staff),
        "/api/layers/pura-desa/versions/1",
        r#"{"name_field": "pemangku"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["name_field"].clone(), v["version"].clone()),
        (json!("pemangku"), json!(1))
    );
    assert_eq!(v["layer"], "pura-desa");
    assert!(
        found(&w, "Sukra")
            .await
            .contains(&"Jero Mangku Sukra".to_owned())
    );
    assert!(
        !found(&w, "Kedewatan")
            .await
            .contains(&"Pura Dalem Kedewatan".to_owned())
    );
    assert_eq!(
        w.json("/api/layers/pura-desa").await["name_field"],
        "pemangku"
    );
    let listed = w
        .json_as("/api/layers/pura-desa/versions", Auth::Bearer(&staff))
        .await;
    assert_eq!(listed["versions"][0]["name_field"], "pemangku");

    // A field the version does not have is a bad request; nothing changes.
    let p = patch(
        &w,
        Some(&staff),
        "/api/layers/pura-desa/versions/1",
        r#"{"name_field": "nama_tidak_ada"}"#,
    )
    .await
    .problem(400);
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("nama_tidak_ada") && detail.contains("pemangku"),
        "{p}"
    );
    for bad in [
        "{",
        "{}",
        r#"{"name_field": 3}"#,
        r#"{"name_field": null, "x": 1}"#,
    ] {
        patch(&w, Some(&staff), "/api/layers/pura-desa/versions/1", bad)
            .await
            .problem(400);
    }
    assert!(
        found(&w, "Sukra")
            .await
            .contains(&"Jero Mangku Sukra".to_owned())
    );

    // Another agency's staff, the public and a missing layer or version: 404 alike.
    let missing = patch(
        &w,
        Some(&other),
        "/api/layers/tidak-ada/versions/1",
        r#"{"name_field": null}"#,
    )
    .await
    .problem(404);
    let theirs = patch(
        &w,
        Some(&other),
        "/api/layers/pura-desa/versions/1",
        r#"{"name_field": null}"#,
    )
    .await
    .problem(404);
    assert_eq!(
        theirs["detail"]
            .as_str()
            .unwrap()
            .replace("pura-desa", "tidak-ada"),
        missing["detail"].as_str().unwrap()
    );
    let anonymous = patch(
        &w,
        None,
        "/api/layers/pura-desa/versions/1",
        r#"{"name_field": null}"#,
    )
    .await
    .problem(404);
    assert_eq!(anonymous["detail"], theirs["detail"]);
    patch(
        &w,
        Some(&staff),
        "/api/layers/pura-desa/versions/9",
        r#"{"name_field": null}"#,
    )
    .await
    .problem(404);
    assert!(
        found(&w, "Sukra")
            .await
            .contains(&"Jero Mangku Sukra".to_owned())
    );

    // An admin takes the names away: nothing is found by them.
    let r = patch(
        &w,
        Some(&admin),
        "/api/layers/pura-desa/versions/1",
        r#"{"name_field": null}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name_field"], Value::Null);
    assert!(found(&w, "Sukra").await.is_empty());
    assert_eq!(
        w.json("/api/layers/pura-desa").await["name_field"],
        Value::Null
    );

    // Each change is in the audit log with who made it.
    let audit = w
        .json_as(
            "/api/audit?action=name_field&layer=pura-desa",
            Auth::Bearer(&admin),
        )
        .await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(
        entries.iter().any(|e| e["actor"] == "ayu_budaya"),
        "{audit}"
    );
}

#[tokio::test]
async fn an_upload_may_name_its_name_field() {
    let w = World::new().await;
    let staff = w
        .user("ayu_budaya", Role::OpdStaff, Some("Dinas Kebudayaan"))
        .await;
    let (st, v) = upload(
        &w,
        &staff,
        &[
            ("id", "pura-desa"),
            ("category", "places-of-worship"),
            ("name_field", "bukan_kolom"),
        ],
        &temples(),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["status"], 400);
    assert!(v["detail"].as_str().unwrap().contains("bukan_kolom"), "{v}");
    // Nothing was kept: the layer id is still free.
    let (st, v) = upload(
        &w,
        &staff,
        &[
            ("id", "pura-desa"),
            ("category", "places-of-worship"),
            ("name_field", "pemangku"),
        ],
        &temples(),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["report"]["name_field"], "pemangku");
    let r = w
        .post("/api/layers/pura-desa/publish", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        found(&w, "Wirata")
            .await
            .contains(&"Jero Mangku Wirata".to_owned())
    );
    assert!(found(&w, "Sibang").await.is_empty());

    // A new version detects its own field; staff change it on the draft,
    // and publishing serves the names it then has.
    let v2 = temples().replace("Wirata", "Budiarta");
    let r = w
        .post(
            "/api/layers/pura-desa/versions?filename=v2.geojson",
            Some(&staff),
            v2,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["report"]["name_field"], "nama pura");
    let r = patch(
        &w,
        Some(&staff),
        "/api/layers/pura-desa/versions/2",
        r#"{"name_field": "pemangku"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "draft");
    // The draft's change leaves what is served alone.
    assert!(found(&w, "Budiarta").await.is_empty());
    let r = w
        .post("/api/layers/pura-desa/publish?version=2", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        found(&w, "Budiarta")
            .await
            .contains(&"Jero Mangku Budiarta".to_owned())
    );
    assert!(found(&w, "Sibang").await.is_empty());
}

#[tokio::test]
async fn a_layer_without_a_name_key_is_named_by_the_column_that_looks_like_names() {
    let w = World::new().await;
    let file = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": "K-001", "luas": 12.5, "tempat": "Pantai Kuta"},
         "geometry": {"type": "Point", "coordinates": [115.17, -8.72]}},
        {"type": "Feature", "properties": {"kode": "K-002", "luas": 3, "tempat": "Pantai Legian"},
         "geometry": {"type": "Point", "coordinates": [115.16, -8.70]}},
    ]});
    w.import(&file.to_string(), "pantai", "tourism", &[]).await;
    assert_eq!(w.json("/api/layers/pantai").await["name_field"], "tempat");
    assert!(
        found(&w, "Legian")
            .await
            .contains(&"Pantai Legian".to_owned())
    );
}
