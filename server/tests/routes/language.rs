//! Problem details in the caller's language: every problem is written in
//! Indonesian and English; `Accept-Language` picks one half, no preference
//! keeps both, and problems vary by the header.

use axum::body::Body;
use axum::http::{Method, Request, header};

use crate::support::World;

async fn detail(w: &World, path: &str, accept: Option<&str>) -> (String, String) {
    let mut req = Request::builder().method(Method::GET).uri(path);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_LANGUAGE, a);
    }
    let r = w.send(req.body(Body::empty()).unwrap()).await;
    let vary = r.header("vary").unwrap_or_default();
    let p = r.problem(r.status.as_u16());
    (p["detail"].as_str().unwrap().to_owned(), vary)
}

#[tokio::test]
async fn problems_speak_the_language_asked_for() {
    let w = World::new().await;
    let both = "Lapisan \"nope\" tidak ditemukan. / No layer \"nope\".";
    let (d, vary) = detail(&w, "/api/layers/nope", None).await;
    assert_eq!(d, both);
    assert!(vary.contains("accept-language"), "{vary}");
    for (accept, want) in [
        (
            "id-ID,id;q=0.9,en;q=0.8",
            "Lapisan \"nope\" tidak ditemukan.",
        ),
        ("id", "Lapisan \"nope\" tidak ditemukan."),
        ("en-US,en;q=0.9", "No layer \"nope\"."),
        ("fr, en;q=0.5", "No layer \"nope\"."),
        ("fr, de", both),
    ] {
        assert_eq!(
            detail(&w, "/api/layers/nope", Some(accept)).await.0,
            want,
            "{accept}"
        );
    }
    // A parser's own words are framed in Indonesian, and kept in English.
    let path = "/api/search?q=kuta&near=utara";
    let (id, _) = detail(&w, path, Some("id")).await;
    assert_eq!(
        id,
        "Permintaan tidak dapat diproses (rincian dalam bahasa Inggris): near must be lon,lat in degrees (WGS 84), e.g. near=115.17,-8.72."
    );
    let (en, _) = detail(&w, path, Some("en")).await;
    assert_eq!(
        en,
        "near must be lon,lat in degrees (WGS 84), e.g. near=115.17,-8.72."
    );
    // Every problem the routes give has both halves.
    for path in [
        "/api/layers/nope/features",
        "/api/changes?after=x",
        "/api/search?q=",
        "/tiles/nope/1/2/3",
        "/api/nothing-here",
        "/api/layers/nope/versions/1",
    ] {
        let (d, _) = detail(&w, path, None).await;
        let id = server::language::in_language(&d, layers::text::Lang::Id);
        let en = server::language::in_language(&d, layers::text::Lang::En);
        assert!(id.is_some() && en.is_some() && id != en, "{path}: {d}");
    }
}
