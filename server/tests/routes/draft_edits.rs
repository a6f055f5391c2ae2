//! Editing a draft feature by feature (`/api/layers/{id}/drafts/{n}/features`):
//! a fixed name, a moved point, a new and a deleted feature, the version's
//! summary and report recomputed, the audit log naming who changed which
//! property; refused edits change nothing.

use axum::http::{Method, StatusCode, header};
use layers::model::access::Role;
use serde_json::{Value, json};

use crate::support::{Auth, World, points};

/// A published layer `pura` of Dinas Kebudayaan with three points (one
/// name misspelt) and a draft of it (version 2); returns the staff token.
async fn layer_with_a_draft(w: &World) -> String {
    let staff = w
        .user("staf_budaya", Role::OpdStaff, Some("Dinas Kebudayaan"))
        .await;
    w.created(
        "/api/layers?id=pura&category=places-of-worship&filename=pura.geojson",
        &staff,
        points(&["Pura Dalme", "Pura Desa", "Pura Puseh"]),
    )
    .await;
    let r = w.post("/api/layers/pura/publish", Some(&staff), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let draft = w.created("/api/layers/pura/drafts", &staff, "").await;
    assert_eq!(draft["version"], 2);
    staff
}

async fn patch(w: &World, path: &str, token: &str, body: Value) -> crate::support::Reply {
    w.call(Method::PATCH, path, Some(token), body.to_string())
        .await
}

fn names(collection: &Value) -> Vec<String> {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["nama"].as_str().unwrap_or("-").to_owned())
        .collect()
}

#[tokio::test]
async fn edit_a_draft_feature_by_feature() {
    let w = World::new().await;
    let staff = layer_with_a_draft(&w).await;
    let leader = w.user("pimpinan", Role::Leader, None).await;

    // A typo fixed: the other properties stay.
    let r = patch(
        &w,
        "/api/layers/pura/drafts/2/features/1",
        &staff,
        json!({"properties": {"nama": "Pura Dalem", "keterangan": null}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    insta::assert_json_snapshot!("draft_feature_patched", r.json());

    // A point moved (a partial Feature with only its geometry).
    let r = patch(
        &w,
        "/api/layers/pura/drafts/2/features/2",
        &staff,
        json!({"geometry": {"type": "Point", "coordinates": [115.2, -8.65]}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["feature"]["properties"]["nama"], "Pura Desa");

    // A feature added: it takes the next number; then one deleted.
    let r = w
        .post(
            "/api/layers/pura/drafts/2/features",
            Some(&staff),
            json!({"type": "Feature", "properties": {"nama": "Pura Segara"},
                   "geometry": {"type": "Point", "coordinates": [115.16, -8.72]}})
            .to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let added = r.json();
    assert_eq!(added["fid"], "4");
    assert_eq!(added["feature_count"], 4);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/layers/pura/features/4?version=2")
    );
    let r = w
        .call(
            Method::DELETE,
            "/api/layers/pura/drafts/2/features/3",
            Some(&staff),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

    // The preview shows the draft as edited; what is served has not changed.
    let preview = w
        .json_as("/api/layers/pura/features?version=2", Auth::Bearer(&staff))
        .await;
    assert_eq!(names(&preview), ["Pura Dalem", "Pura Desa", "Pura Segara"]);
    let moved = w
        .json_as(
            "/api/layers/pura/features/2?version=2",
            Auth::Bearer(&staff),
        )
        .await;
    assert_eq!(moved["geometry"]["coordinates"], json!([115.2, -8.65]));
    let served = w.json("/api/layers/pura/features").await;
    assert_eq!(names(&served), ["Pura Dalme", "Pura Desa", "Pura Puseh"]);

    // The version's summary and report follow the features.
    let v = w
        .json_as("/api/layers/pura/versions/2", Auth::Bearer(&staff))
        .await;
    assert_eq!(v["status"], "draft");
    assert_eq!(v["feature_count"], 3);
    assert_eq!(v["report"]["features"], 3);
    assert_eq!(v["report"]["name_field"], "nama");
    assert_eq!(v["report"]["format"], "geojson");
    let schema: Vec<&str> = v["report"]["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(schema, ["nama", "keterangan"]);
    assert_eq!(v["bbox"][2], json!(115.2));

    // Published as any draft: everyone sees the fixed name.
    let r = w
        .post("/api/layers/pura/publish?version=2", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let served = w.json("/api/layers/pura/features").await;
    assert_eq!(names(&served), ["Pura Dalem", "Pura Desa", "Pura Segara"]);
    let found = w.json("/api/search?q=dalem").await;
    assert!(found.to_string().contains("Pura Dalem"), "{found}");

    // The history says who changed what (names of properties, no values).
    let audit = w
        .json_as("/api/audit?layer=pura", Auth::Bearer(&leader))
        .await;
    let edits: Vec<Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("feature_"))
        .map(|e| json!([e["action"], e["actor"], e["to_version"], e["detail"]]))
        .collect();
    assert_eq!(
        edits,
        [
            json!(["feature_delete", "staf_budaya", 2, {"fid": "3"}]),
            json!(["feature_add", "staf_budaya", 2, {"fid": "4", "properties": ["nama"]}]),
            json!(["feature_edit", "staf_budaya", 2, {"fid": "2", "properties": [], "geometry": true}]),
            json!(["feature_edit", "staf_budaya", 2, {"fid": "1", "properties": ["nama", "keterangan"], "geometry": false}]),
        ]
    );
    // The change feed heard of each edit as a draft change.
    let drafts = w.sql_strings(
        "SELECT kind FROM change_events WHERE layer_id = 'pura' AND kind = 'draft' AND version = 2",
    );
    assert_eq!(drafts.len(), 5, "{drafts:?}");
}

#[tokio::test]
async fn refused_edits_change_nothing() {
    let w = World::new().await;
    let staff = layer_with_a_draft(&w).await;
    let other = w
        .user("staf_dinkes", Role::OpdStaff, Some("Dinas Kesehatan"))
        .await;
    let before = w
        .json_as("/api/layers/pura/versions/2", Auth::Bearer(&staff))
        .await;
    let third = w
        .json_as(
            "/api/layers/pura/features/3?version=2",
            Auth::Bearer(&staff),
        )
        .await;

    // A geometry an upload would refuse: 422 with the report's entries.
    let r = patch(
        &w,
        "/api/layers/pura/drafts/2/features/2",
        &staff,
        json!({"geometry": {"type": "Point", "coordinates": [999, 0]}}),
    )
    .await;
    let problem = r.problem(422);
    insta::assert_json_snapshot!("draft_feature_invalid", problem);
    let r = w
        .post(
            "/api/layers/pura/drafts/2/features",
            Some(&staff),
            json!({"type": "Feature", "properties": {},
                   "geometry": {"type": "Polygon", "coordinates": [[[115.1, -8.7], [115.2, -8.7], [115.2, -8.6]]]}})
            .to_string(),
        )
        .await;
    let problem = r.problem(422);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at least 4"),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["feature"], 3, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("objek no. 4 (id 4): Cincin ke-1 poligon"),
        "{problem}"
    );

    // Warnings are kept, in the answer and in the version's report.
    let r = patch(
        &w,
        "/api/layers/pura/drafts/2/features/3",
        &staff,
        json!({"geometry": {"type": "Point", "coordinates": [106.8, -6.2]}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let warned = r.json();
    assert!(
        warned["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("outside Badung Regency"),
        "{warned}"
    );
    let v = w
        .json_as("/api/layers/pura/versions/2", Auth::Bearer(&staff))
        .await;
    assert_eq!(v["report"]["warning_count"], 1, "{v}");
    assert_eq!(v["report"]["warnings"][0]["feature"], 2, "{v}");
    let r = patch(
        &w,
        "/api/layers/pura/drafts/2/features/3",
        &staff,
        json!({"geometry": third["geometry"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = w
        .json_as("/api/layers/pura/versions/2", Auth::Bearer(&staff))
        .await;
    assert_eq!(after["report"], before["report"]);
    assert_eq!(after["bbox"], before["bbox"]);

    let cases: [(Method, &str, Option<&str>, Value, StatusCode); 9] = [
        // Only drafts are edited.
        (
            Method::PATCH,
            "/api/layers/pura/drafts/1/features/1",
            Some(&staff),
            json!({"properties": {"nama": "X"}}),
            StatusCode::CONFLICT,
        ),
        (
            Method::PATCH,
            "/api/layers/pura/drafts/9/features/1",
            Some(&staff),
            json!({"properties": {"nama": "X"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::PATCH,
            "/api/layers/pura/drafts/2/features/99",
            Some(&staff),
            json!({"properties": {"nama": "X"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/api/layers/pura/drafts/2/features/99",
            Some(&staff),
            Value::Null,
            StatusCode::NOT_FOUND,
        ),
        // A taken id, an id that changes, a body that says nothing.
        (
            Method::POST,
            "/api/layers/pura/drafts/2/features",
            Some(&staff),
            json!({"type": "Feature", "id": 2, "properties": {}, "geometry": null}),
            StatusCode::CONFLICT,
        ),
        (
            Method::PATCH,
            "/api/layers/pura/drafts/2/features/1",
            Some(&staff),
            json!({"type": "Feature", "id": 7, "properties": {}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            "/api/layers/pura/drafts/2/features/1",
            Some(&staff),
            json!({"nama": "X"}),
            StatusCode::BAD_REQUEST,
        ),
        // Another agency and the public see no such layer.
        (
            Method::PATCH,
            "/api/layers/pura/drafts/2/features/1",
            Some(&other),
            json!({"properties": {"nama": "X"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/api/layers/pura/drafts/2/features/1",
            None,
            Value::Null,
            StatusCode::NOT_FOUND,
        ),
    ];
    for (method, path, token, body, status) in cases {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let r = w.call(method.clone(), path, token, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    }
    // A body larger than one feature may be.
    let big = format!(
        r#"{{"properties": {{"nama": "{}"}}}}"#,
        "x".repeat(w.state.writes.limits.max_feature_bytes + 1)
    );
    let r = patch_raw(&w, "/api/layers/pura/drafts/2/features/1", &staff, big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());

    // A session's write from another site is refused.
    let cookie = w.login("staf_budaya", crate::support::PASSWORD).await;
    let req = axum::http::Request::builder()
        .method(Method::PATCH)
        .uri("/api/layers/pura/drafts/2/features/1")
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, "https://elsewhere.example")
        .body(axum::body::Body::from(
            json!({"properties": {"nama": "X"}}).to_string(),
        ))
        .unwrap();
    assert_eq!(w.send(req).await.status, StatusCode::FORBIDDEN);

    // Nothing of it changed the draft.
    let preview = w
        .json_as("/api/layers/pura/features?version=2", Auth::Bearer(&staff))
        .await;
    assert_eq!(names(&preview), ["Pura Dalme", "Pura Desa", "Pura Puseh"]);
}

async fn patch_raw(w: &World, path: &str, token: &str, body: String) -> crate::support::Reply {
    w.call(Method::PATCH, path, Some(token), body).await
}
