//! Links built from the request's `Host` never reach another host's
//! cache: responses vary by Host and their tags name it; with a configured
//! public URL the Host plays no part. In-process through `server::app`.

use crate::support::World;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use server::config::ApiConfig;

async fn get(w: &World, path: &str, host: &str, inm: Option<&str>) -> crate::support::Reply {
    let mut req = Request::get(path).header(header::HOST, host);
    if let Some(tag) = inm {
        req = req.header(header::IF_NONE_MATCH, tag);
    }
    w.send(req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn host_built_links_vary_by_host() {
    let w = World::new().await;
    for path in ["/ogc", "/ogc/collections", "/ogc/conformance", "/ogc/api"] {
        let good = get(&w, path, "peta.badungkab.go.id", None).await;
        let evil = get(&w, path, "evil.example", None).await;
        assert_eq!(good.status, StatusCode::OK, "{path}");
        let vary = good.header("vary").unwrap_or_default().to_lowercase();
        assert!(vary.contains("host"), "{path}: Vary {vary:?}");
        let (good_tag, evil_tag) = (good.header("etag").unwrap(), evil.header("etag").unwrap());
        assert_ne!(good_tag, evil_tag, "{path}: one tag for two hosts");
        if path != "/ogc/conformance" {
            assert!(evil.text().contains("http://evil.example"), "{path}");
            assert!(!good.text().contains("evil.example"), "{path}");
        }
        // A tag earned on one host is a 304 there and nowhere else.
        let again = get(&w, path, "peta.badungkab.go.id", Some(&good_tag)).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.header("etag").unwrap(), good_tag);
        let poisoned = get(&w, path, "peta.badungkab.go.id", Some(&evil_tag)).await;
        assert_eq!(poisoned.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_public_url_makes_links_independent_of_the_host() {
    let w = World::with_config(ApiConfig {
        public_url: "https://peta.badungkab.go.id".to_owned(),
        ..ApiConfig::default()
    })
    .await;
    let a = get(&w, "/ogc", "peta.badungkab.go.id", None).await;
    let b = get(&w, "/ogc", "evil.example", None).await;
    assert_eq!(a.body, b.body);
    assert_eq!(a.header("etag"), b.header("etag"));
    assert!(!b.text().contains("evil.example"));
    let vary = b.header("vary").unwrap_or_default().to_lowercase();
    assert!(!vary.contains("host"), "Vary {vary:?}");
}
