//! Writes change nothing served before their publish, answer exactly as
//! reads do for layers the caller may not see, and refuse anonymous bodies
//! before reading them. In-process through `server::app`.

use std::time::Duration;

use crate::support::{World, points};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use layers::model::access::Role;
use serde_json::Value;

/// Every anonymous read that could show layer `id` (or its features,
/// titled or named with `canary`): none may.
async fn assert_hidden_from_public(w: &World, id: &str, canary: &str) {
    for path in [
        format!("/api/layers/{id}"),
        format!("/api/layers/{id}/features"),
        format!("/api/layers/{id}/features/1"),
        format!("/api/layers/{id}/download?format=geojson"),
        format!("/api/layers/{id}/download?format=fgb"),
        format!("/ogc/collections/{id}"),
        format!("/ogc/collections/{id}/items"),
        format!("/ogc/collections/{id}/queryables"),
        format!("/tiles/{id}.json"),
        format!("/tiles/{id}/14/13441/8772.mvt"),
    ] {
        let r = w.get(&path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}: {}", r.text());
    }
    for path in [
        "/api/layers",
        "/ogc/collections",
        "/api/search?q=gudang",
        "/api/search?q=terbuka",
        "/metrics",
        "/tiles/all.json",
    ] {
        let r = w.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}");
        let mut text = r.text().to_lowercase();
        if path.starts_with("/api/search") {
            // The answer repeats the query; what it found is what counts.
            text = r.json()["results"].to_string().to_lowercase();
        }
        assert!(
            !text.contains(id) && !text.contains(&canary.to_lowercase()),
            "GET {path} shows {id}: {text}"
        );
    }
}

#[tokio::test]
async fn uploaded_metadata_waits_for_its_version_to_be_published() {
    let w = World::new().await;
    let staff = w
        .user("staf_sosial", Role::OpdStaff, Some("Dinas Sosial"))
        .await;
    let leader = w.user("pimpinan", Role::Leader, None).await;
    w.created("/api/layers?id=penerima-bansos&category=social&visibility=internal&title_id=Penerima%20Bansos&filename=a.geojson", &staff, points(&["Gudang Bantuan"])).await;
    let r = w
        .post("/api/layers/penerima-bansos/publish", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_hidden_from_public(&w, "penerima-bansos", "Terbuka").await;

    // A valid draft and a rejected upload, both asking to go public under
    // a new title.
    w.created("/api/layers/penerima-bansos/versions?visibility=public&title_id=Terbuka&title_en=Open&category=general&filename=b.geojson", &staff, points(&["Gudang Bantuan", "Posko Bantuan"])).await;
    let r = w
        .post(
            "/api/layers/penerima-bansos/versions?visibility=public&title_id=Terbuka&filename=c.geojson",
            Some(&staff),
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[999,999]}}]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    assert_hidden_from_public(&w, "penerima-bansos", "Terbuka").await;
    let seen = w.get("/api/layers/penerima-bansos", Some(&leader)).await;
    assert_eq!(seen.status, StatusCode::OK);
    let meta = seen.json();
    assert_eq!(meta["title_id"], "Penerima Bansos", "{meta}");
    assert_eq!(meta["visibility"], "internal", "{meta}");
    assert_eq!(meta["category"], "social", "{meta}");

    // Publishing the draft brings its metadata with it.
    let r = w
        .post(
            "/api/layers/penerima-bansos/publish?version=2",
            Some(&staff),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let public = w.get("/api/layers/penerima-bansos", None).await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let meta = public.json();
    assert_eq!(meta["title_id"], "Terbuka", "{meta}");
    assert_eq!(meta["title_en"], "Open", "{meta}");
    assert_eq!(meta["category"], "general", "{meta}");
    let r = w.get("/ogc/collections/penerima-bansos", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["title"], "Open");

    // Rolling back restores the metadata served with version 1.
    let r = w
        .post(
            "/api/layers/penerima-bansos/rollback?to=1",
            Some(&staff),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_hidden_from_public(&w, "penerima-bansos", "Terbuka").await;
    let meta = w
        .get("/api/layers/penerima-bansos", Some(&leader))
        .await
        .json();
    assert_eq!(meta["title_id"], "Penerima Bansos", "{meta}");
    assert_eq!(meta["category"], "social", "{meta}");
}

/// The problem body of a 404 with the layer id taken out: what is left
/// must be the same for a hidden layer and a missing one.
fn shape_of_404(r: &crate::support::Reply, id: &str) -> Value {
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let mut v = r.json();
    let detail = v["detail"].as_str().unwrap().replace(id, "ID");
    v["detail"] = Value::String(detail);
    v
}

#[tokio::test]
async fn write_routes_hide_what_read_routes_hide() {
    let w = World::new().await;
    let owner = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    let other = w
        .user("staf_dinkes", Role::OpdStaff, Some("Dinas Kesehatan"))
        .await;
    let leader = w.user("pimpinan", Role::Leader, None).await;
    // A layer with a draft only (never published) and an internal one.
    let r = w
        .post(
            "/api/layers?id=draf-saja&category=infrastructure&filename=a.geojson",
            Some(&owner),
            points(&["Jembatan Baru"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    for step in [
        "/api/layers?id=internal-pupr&category=infrastructure&visibility=internal&filename=a.geojson",
        "/api/layers/internal-pupr/publish",
    ] {
        let r = w.post(step, Some(&owner), points(&["Gudang"])).await;
        assert!(r.status.is_success(), "{step}: {}", r.text());
    }
    w.created(
        "/api/layers/internal-pupr/versions?filename=b.geojson",
        &owner,
        points(&["Gudang", "Gudang 2"]),
    )
    .await;

    let writes: Vec<(Method, &str, Body)> = vec![
        (Method::POST, "/api/layers/ID/publish", Body::empty()),
        (
            Method::POST,
            "/api/layers/ID/publish?version=1",
            Body::empty(),
        ),
        (Method::POST, "/api/layers/ID/rollback?to=1", Body::empty()),
        (Method::GET, "/api/layers/ID/versions", Body::empty()),
        (Method::GET, "/api/layers/ID/versions/1", Body::empty()),
        (Method::DELETE, "/api/layers/ID", Body::empty()),
        (
            Method::POST,
            "/api/layers/ID/versions?filename=x.geojson",
            Body::from(points(&["X"])),
        ),
        (
            Method::POST,
            "/api/layers/ID/features/1/photos",
            Body::from(vec![0x89, b'P', b'N', b'G']),
        ),
        (Method::POST, "/api/layers/ID/drafts", Body::empty()),
        (
            Method::PATCH,
            "/api/layers/ID/drafts/1/features/1",
            Body::from(r#"{"properties": {"nama": "X"}}"#),
        ),
        (
            Method::POST,
            "/api/layers/ID/drafts/1/features",
            Body::from(r#"{"type": "Feature", "properties": {}, "geometry": null}"#),
        ),
        (
            Method::DELETE,
            "/api/layers/ID/drafts/1/features/1",
            Body::empty(),
        ),
    ];
    let callers: [(&str, Option<&str>, &[&str]); 3] = [
        ("anonymous", None, &["draf-saja", "internal-pupr"]),
        (
            "another agency",
            Some(&other),
            &["draf-saja", "internal-pupr"],
        ),
        ("a leader", Some(&leader), &["draf-saja"]),
    ];
    for (method, path, body) in writes {
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        for (who, token, hidden) in &callers {
            let missing = w
                .call(
                    method.clone(),
                    &path.replace("ID", "tidak-ada"),
                    *token,
                    body.clone(),
                )
                .await;
            // Nobody may upload or attach photos: the public is told to
            // log in before anything is looked up, for every id alike.
            let expected = if token.is_none() && missing.status == StatusCode::UNAUTHORIZED {
                missing.json()
            } else {
                shape_of_404(&missing, "tidak-ada")
            };
            for id in *hidden {
                let r = w
                    .call(
                        method.clone(),
                        &path.replace("ID", id),
                        *token,
                        body.clone(),
                    )
                    .await;
                let got = if r.status == StatusCode::UNAUTHORIZED {
                    r.json()
                } else {
                    shape_of_404(&r, id)
                };
                assert_eq!(got, expected, "{method} {path} on {id} as {who}");
            }
        }
    }

    // A taken id gets the same words whether its layer is hidden or not.
    let taken_hidden = w
        .post(
            "/api/layers?id=internal-pupr&category=health&filename=x.geojson",
            Some(&other),
            points(&["X"]),
        )
        .await;
    let taken_seen = w
        .post(
            "/api/layers?id=draf-saja&category=infrastructure&filename=x.geojson",
            Some(&owner),
            points(&["X"]),
        )
        .await;
    assert_eq!(taken_hidden.status, StatusCode::CONFLICT);
    assert_eq!(taken_seen.status, StatusCode::CONFLICT);
    let words = |r: &crate::support::Reply, id: &str| {
        r.json()["detail"].as_str().unwrap().replace(id, "ID")
    };
    assert_eq!(
        words(&taken_hidden, "internal-pupr"),
        words(&taken_seen, "draf-saja")
    );
    assert!(words(&taken_seen, "draf-saja").contains("not available"));
}

/// A request body that sends one chunk and then nothing, ever: a route
/// that waits for the whole body never answers.
fn endless_body() -> Body {
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(
            b"{\"type\":\"FeatureCollection\"",
        ))
    });
    Body::from_stream(futures_util::StreamExt::chain(
        first,
        futures_util::stream::pending(),
    ))
}

#[tokio::test]
async fn uploads_are_refused_before_their_body_is_read() {
    let w = World::new().await;
    let owner = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    let other = w
        .user("staf_dinkes", Role::OpdStaff, Some("Dinas Kesehatan"))
        .await;
    w.created(
        "/api/layers?id=jalan&category=infrastructure&visibility=internal&filename=a.geojson",
        &owner,
        points(&["Jalan"]),
    )
    .await;
    let cases = [
        (
            "/api/layers?id=baru&category=general",
            None,
            StatusCode::UNAUTHORIZED,
        ),
        ("/api/layers/jalan/versions", None, StatusCode::UNAUTHORIZED),
        (
            "/api/layers/jalan/versions",
            Some(&other),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/layers/tidak-ada/versions",
            Some(&owner),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/layers/jalan/features/1/photos",
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/layers/jalan/features/1/photos",
            Some(&other),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, token, status) in cases {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/geo+json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            w.send(req.body(endless_body()).unwrap()),
        )
        .await
        .unwrap_or_else(|_| panic!("POST {path} waited for a body it should refuse"));
        assert_eq!(r.status, status, "POST {path}: {}", r.text());
    }
}
