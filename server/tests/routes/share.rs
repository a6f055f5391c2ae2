//! Sharing a place: the QR code of `/api/layers/{id}/features/{fid}/qr.svg`
//! is well-formed SVG that a real QR decoder reads back as the share page's
//! absolute address; the share page `/p/{layer}/{fid}` carries escaped
//! Open Graph tags, an absolute photo address and a script-free redirect to
//! the map; hidden and missing features answer the same 404 as everywhere.
//! In-process through `server::app`.

use crate::support::{Reply, World};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use layers::model::access::Role;
use quick_xml::events::Event;
use serde_json::json;
use server::config::ApiConfig;

/// A name made of everything HTML must escape.
const NASTY: &str = r#"Pura "Dalem" <script>alert('x')</script> & Co"#;

async fn get(w: &World, path: &str, host: &str) -> Reply {
    let req = Request::get(path).header(header::HOST, host);
    w.send(req.body(Body::empty()).unwrap()).await
}

/// A server with a public layer `pura-uji` (feature 1 named [`NASTY`], in
/// Kuta, with a photo; feature 2 without either) and an internal layer
/// `gudang-uji`, both published.
async fn world(config: ApiConfig) -> World {
    let w = World::with_config(config).await;
    let staff = w
        .user("staf_budaya", Role::OpdStaff, Some("Dinas Kebudayaan"))
        .await;
    let temples = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"nama": NASTY, "kecamatan": "Kuta <Selatan>"},
         "geometry": {"type": "Point", "coordinates": [115.17, -8.72]}},
        {"type": "Feature", "id": 2, "properties": {"nama": "Pura Desa"},
         "geometry": {"type": "Point", "coordinates": [115.18, -8.71]}},
    ]});
    w.created(
        "/api/layers?id=pura-uji&category=general&visibility=public&title_id=Pura%20Uji&title_en=Test%20temples&filename=a.geojson",
        &staff,
        temples.to_string(),
    )
    .await;
    w.created(
        "/api/layers?id=gudang-uji&category=general&visibility=internal&title_id=Gudang&filename=b.geojson",
        &staff,
        crate::support::points(&["Gudang Rahasia"]),
    )
    .await;
    for id in ["pura-uji", "gudang-uji"] {
        let r = w
            .post(&format!("/api/layers/{id}/publish"), Some(&staff), "")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = w
        .post(
            "/api/layers/pura-uji/features/1/photos?caption=gapura",
            Some(&staff),
            testkit::PNG,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    w
}

/// The dark modules of our SVG, checked to be well-formed XML on the way:
/// (size of the square in modules, dark cells).
fn modules(svg: &str) -> (usize, Vec<(usize, usize)>) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut size, mut d, mut white, mut root) = (None, None, false, false);
    loop {
        match reader
            .read_event()
            .expect("the QR code is not well-formed XML")
        {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.try_get_attribute(name)
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"svg" => {
                        root = true;
                        assert_eq!(attr("xmlns").as_deref(), Some("http://www.w3.org/2000/svg"));
                        let vb = attr("viewBox").unwrap();
                        let n: Vec<usize> = vb.split(' ').map(|v| v.parse().unwrap()).collect();
                        assert_eq!((n[0], n[1]), (0, 0));
                        assert_eq!(n[2], n[3], "not square: {vb}");
                        size = Some(n[2]);
                    }
                    b"rect" => white = attr("fill").as_deref() == Some("#ffffff"),
                    b"path" => {
                        assert_eq!(attr("fill").as_deref(), Some("#000000"));
                        d = attr("d");
                    }
                    other => panic!("unexpected element {:?}", String::from_utf8_lossy(other)),
                }
            }
            _ => {}
        }
    }
    assert!(root && white, "no white background under the code: {svg}");
    let d = d.unwrap();
    let mut dark = Vec::new();
    // Runs "Mx,yhNv1h-Nz": N modules from (x, y).
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(',').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let n: usize = rest.split_once('v').unwrap().0.parse().unwrap();
        assert_eq!(rest, format!("{n}v1h-{n}z"), "run {run:?}");
        dark.extend((x..x + n).map(|x| (x, y)));
    }
    (size.unwrap(), dark)
}

/// Rasterises the SVG's modules (4 px each) and decodes them with `rqrr`.
fn decode(svg: &str) -> String {
    let (size, dark) = modules(svg);
    // The standard's quiet zone: 4 white modules on every side.
    assert!(
        dark.iter()
            .all(|&(x, y)| (4..size - 4).contains(&x) && (4..size - 4).contains(&y)),
        "a dark module in the quiet zone"
    );
    let scale = 4;
    let px = size * scale;
    let mut grey = vec![255u8; px * px];
    for (x, y) in dark {
        for dy in 0..scale {
            for dx in 0..scale {
                grey[(y * scale + dy) * px + x * scale + dx] = 0;
            }
        }
    }
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| grey[y * px + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "the decoder found {} codes", grids.len());
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn the_qr_code_is_printable_svg_of_the_share_address() {
    let w = world(ApiConfig::default()).await;
    let r = get(
        &w,
        "/api/layers/pura-uji/features/1/qr.svg",
        "peta.badungkab.go.id",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, no-cache")
    );
    assert!(r.header("vary").unwrap().to_lowercase().contains("host"));
    assert_eq!(
        decode(&r.text()),
        "http://peta.badungkab.go.id/p/pura-uji/1"
    );
    // Revalidation answers 304.
    let tag = r.header("etag").unwrap();
    let again = w
        .send(
            Request::get("/api/layers/pura-uji/features/1/qr.svg")
                .header(header::HOST, "peta.badungkab.go.id")
                .header(header::IF_NONE_MATCH, &tag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    // With --public-url the Host plays no part.
    let w = world(ApiConfig {
        public_url: "https://peta.badungkab.go.id".to_owned(),
        ..ApiConfig::default()
    })
    .await;
    let r = get(&w, "/api/layers/pura-uji/features/2/qr.svg", "evil.example").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        decode(&r.text()),
        "https://peta.badungkab.go.id/p/pura-uji/2"
    );
}

/// The `content` of `<meta {attr}="{key}" …>` in `page`, as written.
fn meta<'p>(page: &'p str, attr: &str, key: &str) -> Option<&'p str> {
    let start = page.find(&format!("<meta {attr}=\"{key}\" content=\""))?;
    let rest = &page[start..];
    let rest = &rest[rest.find("content=\"")? + 9..];
    Some(&rest[..rest.find('"')?])
}

#[tokio::test]
async fn the_share_page_has_escaped_open_graph_tags_and_goes_on_to_the_map() {
    let w = world(ApiConfig::default()).await;
    let r = get(&w, "/p/pura-uji/1", "peta.badungkab.go.id").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let page = r.text();
    // Nothing of the name comes out as markup, in any tag or the body.
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("\"Dalem\""), "{page}");
    let escaped = "Pura &quot;Dalem&quot; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co";
    assert_eq!(meta(&page, "property", "og:title"), Some(escaped), "{page}");
    assert_eq!(
        meta(&page, "name", "twitter:title"),
        Some(escaped),
        "{page}"
    );
    assert!(page.contains(&format!("<h1>{escaped}</h1>")), "{page}");
    let description = meta(&page, "property", "og:description").unwrap();
    assert!(
        description.starts_with("Pura Uji (Test temples) · Kecamatan Kuta &lt;Selatan&gt;"),
        "{description}"
    );
    assert_eq!(
        meta(&page, "property", "og:url"),
        Some("http://peta.badungkab.go.id/p/pura-uji/1")
    );
    let image = meta(&page, "property", "og:image").unwrap();
    assert!(
        image.starts_with("http://peta.badungkab.go.id/api/photos/"),
        "{image}"
    );
    assert_eq!(
        meta(&page, "name", "twitter:card"),
        Some("summary_large_image")
    );
    // The photo is there at that address.
    let path = image.trim_start_matches("http://peta.badungkab.go.id");
    assert_eq!(w.get(path, None).await.status, StatusCode::OK);
    // On to the map without a script.
    assert!(
        page.contains("<meta http-equiv=\"refresh\" content=\"0; url=/#feature=pura-uji/1\">"),
        "{page}"
    );
    assert!(page.contains("<a href=\"/#feature=pura-uji/1\">"), "{page}");
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));

    // A feature without photo or kecamatan: no image tags, a plain card.
    let page = get(&w, "/p/pura-uji/2", "peta.badungkab.go.id")
        .await
        .text();
    assert_eq!(meta(&page, "property", "og:title"), Some("Pura Desa"));
    assert_eq!(meta(&page, "property", "og:image"), None, "{page}");
    assert_eq!(meta(&page, "name", "twitter:card"), Some("summary"));
    assert!(
        !meta(&page, "property", "og:description")
            .unwrap()
            .contains("Kecamatan")
    );
}

#[tokio::test]
async fn hidden_and_missing_places_answer_the_same_404() {
    let w = world(ApiConfig::default()).await;
    let leader = w.user("pimpinan", Role::Leader, None).await;
    for (hidden, missing) in [
        ("/p/gudang-uji/1", "/p/tidak-ada/1"),
        (
            "/api/layers/gudang-uji/features/1/qr.svg",
            "/api/layers/tidak-ada/features/1/qr.svg",
        ),
    ] {
        let h = get(&w, hidden, "peta.badungkab.go.id").await;
        let m = get(&w, missing, "peta.badungkab.go.id").await;
        assert_eq!(h.status, StatusCode::NOT_FOUND, "{hidden}: {}", h.text());
        assert_eq!(m.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(
            h.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(h.text().replace("gudang-uji", "tidak-ada"), m.text());
        assert!(!h.text().contains("Gudang Rahasia"));
        // Exactly what the feature route answers.
        let f = get(
            &w,
            "/api/layers/gudang-uji/features/1",
            "peta.badungkab.go.id",
        )
        .await;
        assert_eq!(h.body, f.body);
        // A leader may see the internal layer, and so its share page and code.
        let seen = w.get(hidden, Some(&leader)).await;
        assert_eq!(seen.status, StatusCode::OK, "{hidden}");
        assert_eq!(
            seen.header("cache-control").as_deref(),
            Some("private, no-cache")
        );
    }
    for path in ["/p/pura-uji/99", "/api/layers/pura-uji/features/99/qr.svg"] {
        let r = get(&w, path, "peta.badungkab.go.id").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.json()["status"], 404, "{}", r.text());
    }
}
