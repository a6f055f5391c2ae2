//! Browsers on other origins may read the map by range (FlatGeobuf readers)
//! and revalidate: the preflight allows `Range` and `If-None-Match`, and
//! the range headers are exposed. In-process through `server::app`.

use crate::support::World;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

#[tokio::test]
async fn range_readers_on_other_origins_pass_the_preflight() {
    let w = World::new().await;
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/layers/pura/download?format=fgb")
        .header(header::ORIGIN, "https://data.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "range,if-none-match",
        )
        .body(Body::empty())
        .unwrap();
    let r = w.send(preflight).await;
    assert!(r.status.is_success(), "{}", r.status);
    let allowed = r
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        allowed.contains("range") && allowed.contains("if-none-match"),
        "{allowed}"
    );
    let get = Request::get("/api/categories")
        .header(header::ORIGIN, "https://data.example")
        .body(Body::empty())
        .unwrap();
    let r = w.send(get).await;
    assert_eq!(r.status, StatusCode::OK);
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_lowercase();
    for h in ["etag", "content-range", "accept-ranges", "content-length"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
}
