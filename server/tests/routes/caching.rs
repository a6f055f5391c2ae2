//! ETags, conditional requests, compression and CORS headers of the
//! features routes, and a new version changing the tag. In-process through
//! `server::app` (moved from the end-to-end tests/api.rs).

use crate::support::{World, mixed_layer};
use axum::body::Body;
use axum::http::{Request, StatusCode};

async fn get_with(w: &World, path: &str, name: &str, value: &str) -> crate::support::Reply {
    w.send(
        Request::get(path)
            .header(name, value)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn caching_compression_and_cors() {
    let w = World::new().await;
    let fc = mixed_layer(400, 3).to_string();
    w.import(&fc, "cache", "general", &[]).await;
    let path = "/api/layers/cache/features?limit=400";

    let first = w.get(path, None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.header("content-type").as_deref(),
        Some("application/geo+json")
    );
    let etag = first.header("etag").unwrap();
    assert!(first.header("cache-control").unwrap().contains("no-cache"));
    let plain = first.body;

    let again = get_with(&w, path, "If-None-Match", &etag).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag").unwrap(), etag);
    let other = get_with(&w, path, "If-None-Match", "W/\"other\"").await;
    assert_eq!(other.status, StatusCode::OK);

    let gz = get_with(&w, path, "Accept-Encoding", "gzip").await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    let body = gz.body;
    assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(
        body.len() * 2 < plain.len(),
        "gzip {} vs plain {}",
        body.len(),
        plain.len()
    );

    let cors = get_with(&w, path, "Origin", "https://example.org").await;
    assert_eq!(
        cors.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        cors.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );

    // A new version changes the tag: nobody keeps stale data.
    w.import(&fc, "cache", "general", &[]).await;
    assert_eq!(w.json("/api/layers/cache").await["version"], 2);
    let after = get_with(&w, path, "If-None-Match", &etag).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_ne!(after.header("etag").unwrap(), etag);
}
