//! OGC API - Features in-process through `server::app`: the landing page,
//! conformance, collections, queryables and the OpenAPI document (as
//! snapshots and by structure), paging, content negotiation, parameters,
//! ranges and tags of FlatGeobuf downloads, CQL2 filters against an
//! independent computation over the source, and visibility of internal
//! layers. Moved from the end-to-end tests/ogc.rs, which keeps what real
//! clients (GDAL, openapi-spec-validator) check over a running `bsc`.

use std::collections::BTreeSet;

use crate::support::{Auth, HOST, PASSWORD, World};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use server::config::ApiConfig;
use testkit::{OGC_N as N, ogc_layer};

fn nomors(fc: &Value) -> BTreeSet<i64> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["nomor"].as_i64().unwrap())
        .collect()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn get_with(w: &World, path: &str, name: &str, value: &str) -> crate::support::Reply {
    w.send(
        Request::get(path)
            .header(name, value)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// The OGC layer `pura` and an internal layer `rahasia` of 20 canaries,
/// with a leader `pimpinan`, at 100 features a page.
async fn world() -> World {
    let w = World::with_config(ApiConfig {
        default_limit: 100,
        ..ApiConfig::default()
    })
    .await;
    w.import(&ogc_layer().to_string(), "pura", "places-of-worship", &[])
        .await;
    let secret = json!({"type": "FeatureCollection", "features": (0..20).map(|i| json!({
        "type": "Feature", "id": i + 1,
        "properties": {"nama": format!("RAHASIACANARY {i}"), "nomor": i},
        "geometry": {"type": "Point", "coordinates": [115.17 + i as f64 * 0.001, -8.72]}
    })).collect::<Vec<_>>()});
    w.import(
        &secret.to_string(),
        "rahasia",
        "social",
        &["--visibility", "internal"],
    )
    .await;
    w.add_user("pimpinan", "leader", None).await;
    w
}

/// The documents a client starts from, as snapshots (links name [`HOST`];
/// times and tags are redacted).
#[tokio::test]
async fn ogc_documents_snapshots() {
    let w = world().await;
    for (name, path) in [
        ("ogc_landing", "/ogc"),
        ("ogc_conformance", "/ogc/conformance"),
        ("ogc_collections", "/ogc/collections"),
        ("ogc_collection_pura", "/ogc/collections/pura"),
        ("ogc_queryables_pura", "/ogc/collections/pura/queryables"),
    ] {
        let doc = w.json(path).await;
        insta::assert_json_snapshot!(name, crate::support::redact(&doc));
    }
    // The OpenAPI document: its paths and their parameters (the schemas
    // are checked by structure below and by openapi-spec-validator).
    let api = w.json("/ogc/api").await;
    let paths: serde_json::Map<String, Value> = api["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, item)| {
            let ops: serde_json::Map<String, Value> = item
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, op)| op.is_object())
                .map(|(m, op)| {
                    let params: Vec<Value> = op["parameters"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|p| {
                                    if p["$ref"].is_string() {
                                        p["$ref"].clone()
                                    } else {
                                        json!(format!(
                                            "{} in {}",
                                            p["name"].as_str().unwrap_or("?"),
                                            p["in"].as_str().unwrap_or("?")
                                        ))
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (m.clone(), json!(params))
                })
                .collect();
            (p.clone(), Value::Object(ops))
        })
        .collect();
    insta::assert_json_snapshot!("openapi_paths", paths);
    check_openapi(&api);
}

#[tokio::test]
async fn ogc_api_paging_parameters_downloads_cql2_and_visibility() {
    let w = world().await;
    let base = format!("http://{HOST}");
    let src = ogc_layer();
    let feats = src["features"].as_array().unwrap();

    // --- Core documents -------------------------------------------------
    let landing = w.json("/ogc").await;
    let rels: Vec<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel} missing: {rels:?}");
    }
    assert!(
        landing["links"][0]["href"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
    let conf = w.json("/ogc/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "conf/core",
        "conf/geojson",
        "conf/html",
        "conf/oas30",
        "conf/filter",
        "conf/cql2-text",
        "conf/basic-cql2",
    ] {
        assert!(classes.iter().any(|x| x.ends_with(c)), "{c}");
    }
    let coll = w.json("/ogc/collections/pura").await;
    assert_eq!(
        coll["crs"][0],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    assert_eq!(coll["temporalProperty"], "tahun_data");
    assert_eq!(
        coll["extent"]["temporal"]["interval"][0],
        json!(["2019-01-01T00:00:00Z", "2023-12-31T23:59:59Z"])
    );
    assert_eq!(
        coll["extent"]["spatial"]["bbox"][0]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let q = w.json("/ogc/collections/pura/queryables").await;
    assert_eq!(q["type"], "object");
    assert!(q["$schema"].is_string() && q["$id"].is_string());
    assert_eq!(q["properties"]["nomor"]["type"], "number");
    assert_eq!(q["properties"]["kecamatan"]["type"], "string");
    assert!(q["properties"]["geometry"].is_object());

    // Paging: numberMatched, numberReturned, timeStamp, next/prev links.
    let page = w.json("/ogc/collections/pura/items").await;
    assert_eq!(page["numberMatched"], N);
    assert_eq!(page["numberReturned"], 100);
    assert!(page["timeStamp"].is_string());
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        next.starts_with(&base) && next.contains("offset=100"),
        "{next}"
    );
    let page2 = w.json(&next[base.len()..]).await;
    assert!(
        page2["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "prev")
    );
    assert!(nomors(&page).is_disjoint(&nomors(&page2)));
    let one = w.json("/ogc/collections/pura/items/5").await;
    assert_eq!(one["properties"]["nomor"], 4);
    assert!(
        one["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "collection")
    );
    assert_eq!(
        w.get("/ogc/collections/pura/items/99999", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Content negotiation and HTML escaping.
    let r = get_with(
        &w,
        "/ogc/collections/pura/items?limit=5",
        "accept",
        "text/html,application/xhtml+xml,*/*;q=0.8",
    )
    .await;
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let html = r.text();
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script>"),
        "{html}"
    );
    let r = get_with(
        &w,
        "/ogc/collections/pura/items?limit=5",
        "accept",
        "application/flatgeobuf",
    )
    .await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/flatgeobuf")
    );
    assert_eq!(&r.body[..3], b"fgb");
    assert!(
        w.get("/ogc/collections?f=html", None)
            .await
            .text()
            .contains("pura")
    );

    // Parameters: equality filters, datetime, bbox-crs, bad values.
    let kuta = w
        .json("/ogc/collections/pura/items?kecamatan=Kuta&limit=1000")
        .await;
    let expect: BTreeSet<i64> = feats
        .iter()
        .filter(|f| f["properties"]["kecamatan"] == "Kuta")
        .map(|f| f["properties"]["nomor"].as_i64().unwrap())
        .collect();
    assert_eq!(nomors(&kuta), expect);
    assert_eq!(kuta["numberMatched"], expect.len());
    let dt = w
        .json("/ogc/collections/pura/items?datetime=2021-01-01/2021-12-31&limit=1000")
        .await;
    let expect: BTreeSet<i64> = feats
        .iter()
        .filter(|f| f["properties"]["tahun_data"] == 2021)
        .map(|f| f["properties"]["nomor"].as_i64().unwrap())
        .collect();
    assert_eq!(nomors(&dt), expect);
    let dt = w
        .json("/ogc/collections/pura/items?datetime=../2019-06-01T00:00:00Z&limit=1000")
        .await;
    assert_eq!(dt["numberMatched"], N / 5);
    w.problem(
        "/ogc/collections/pura/items?bbox-crs=EPSG:23830&bbox=1,2,3,4",
        400,
    )
    .await;
    w.problem("/ogc/collections/pura/items?bbox=1,2,3", 400)
        .await;
    w.problem("/ogc/collections/pura/items?limit=0", 400).await;
    w.problem("/ogc/collections/pura/items?datetime=yesterday", 400)
        .await;
    w.problem("/ogc/collections/pura/items?nomor=abc", 400)
        .await;
    w.problem("/ogc/collections/pura/items?f=xml", 400).await;

    // --- FlatGeobuf downloads: ranges and tags (GDAL reads them in tests/ogc.rs)
    let r = w.get("/api/layers/pura/download?format=fgb", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"pura.fgb\"")
    );
    let etag = r.header("etag").unwrap();
    assert!(!etag.starts_with("W/"), "{etag}");
    let fgb = r.body;
    let part = get_with(&w, "/api/layers/pura/download", "range", "bytes=0-7").await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.header("content-range").unwrap(),
        format!("bytes 0-7/{}", fgb.len())
    );
    assert_eq!(&part.body[..], &fgb[..8]);
    let r = get_with(
        &w,
        "/api/layers/pura/download",
        "range",
        &format!("bytes={}-", fgb.len()),
    )
    .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let r = get_with(&w, "/api/layers/pura/download", "if-none-match", &etag).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let gj: Value = w
        .get("/api/layers/pura/download?format=geojson", None)
        .await
        .json();
    assert_eq!(gj["features"].as_array().unwrap().len(), N);
    w.problem("/api/layers/pura/download?format=shp", 400).await;

    // --- CQL2 against an independent computation ----------------------------
    let p = |f: &Value, k: &str| f["properties"][k].clone();
    let num = |f: &Value, k: &str| f["properties"][k].as_f64();
    let point = |f: &Value| {
        let g = &f["geometry"];
        (g["type"] == "Point").then(|| {
            (
                g["coordinates"][0].as_f64().unwrap(),
                g["coordinates"][1].as_f64().unwrap(),
            )
        })
    };
    let ring = |f: &Value| -> Vec<(f64, f64)> {
        let g = &f["geometry"];
        let c = if g["type"] == "Point" {
            json!([g["coordinates"]])
        } else {
            g["coordinates"][0].clone()
        };
        c.as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            .collect()
    };
    // The test polygon is a box, so intersection is "some vertex inside, or the
    // box corner inside the square" (squares and boxes are axis-aligned).
    let (bx0, by0, bx1, by1) = (115.16, -8.72, 115.21, -8.65);
    let in_box = |(x, y): (f64, f64)| x >= bx0 && x <= bx1 && y >= by0 && y <= by1;
    let meets_box = |f: &Value| {
        let r = ring(f);
        let (minx, maxx) = r
            .iter()
            .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.0), a.1.max(c.0)));
        let (miny, maxy) = r
            .iter()
            .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.1), a.1.max(c.1)));
        minx <= bx1 && maxx >= bx0 && miny <= by1 && maxy >= by0
    };
    let (qx, qy) = point(&feats[1]).unwrap();
    type Pred<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(&str, String, Pred)> = vec![
        ("cql2-text", "kecamatan = 'Mengwi'".into(), Box::new(|f| p(f, "kecamatan") == "Mengwi")),
        ("cql2-text", "kecamatan <> 'Mengwi' AND nomor < 50".into(), Box::new(|f| p(f, "kecamatan") != "Mengwi" && num(f, "nomor").unwrap() < 50.0)),
        ("cql2-text", "nomor > 300 OR luas < 6".into(), Box::new(|f| num(f, "nomor").unwrap() > 300.0 || num(f, "luas").unwrap() < 6.0)),
        ("cql2-text", "nama LIKE 'Pura D%'".into(), Box::new(|f| p(f, "nama").as_str().unwrap().starts_with("Pura D"))),
        ("cql2-text", "nama LIKE 'Pasar _1'".into(), Box::new(|f| { let n = p(f, "nama"); let n = n.as_str().unwrap(); n.len() == 8 && n.starts_with("Pasar ") && n.ends_with('1') })),
        ("cql2-text", "kecamatan IN ('Kuta', 'Petang')".into(), Box::new(|f| p(f, "kecamatan") == "Kuta" || p(f, "kecamatan") == "Petang")),
        ("cql2-text", "nomor BETWEEN 100 AND 120".into(), Box::new(|f| (100.0..=120.0).contains(&num(f, "nomor").unwrap()))),
        ("cql2-text", "NOT (aktif = true) AND nomor < 30".into(), Box::new(|f| p(f, "aktif") == false && num(f, "nomor").unwrap() < 30.0)),
        ("cql2-text", "catatan IS NULL".into(), Box::new(|f| p(f, "catatan").is_null())),
        ("cql2-text", "catatan IS NOT NULL AND tahun_data = 2020".into(), Box::new(|f| !p(f, "catatan").is_null() && p(f, "tahun_data") == 2020)),
        ("cql2-text", format!("S_INTERSECTS(geometry, POINT({qx} {qy}))"), Box::new(|f| point(f) == Some((qx, qy)))),
        ("cql2-text", format!("S_INTERSECTS(geometry, POLYGON(({bx0} {by0}, {bx1} {by0}, {bx1} {by1}, {bx0} {by1}, {bx0} {by0})))"), Box::new(|f| match point(f) { Some(c) => in_box(c), None => meets_box(f) })),
        ("cql2-text", format!("S_INTERSECTS(geometry, BBOX({bx0}, {by0}, {bx1}, {by1})) AND aktif = true"), Box::new(|f| (match point(f) { Some(c) => in_box(c), None => meets_box(f) }) && p(f, "aktif") == true)),
        ("cql2-json", json!({"op": "and", "args": [
            {"op": ">=", "args": [{"property": "nomor"}, 10]},
            {"op": "like", "args": [{"property": "nama"}, "Pantai%"]},
            {"op": "not", "args": [{"op": "in", "args": [{"property": "kecamatan"}, ["Kuta", "Mengwi"]]}]}
        ]}).to_string(), Box::new(|f| num(f, "nomor").unwrap() >= 10.0 && p(f, "nama").as_str().unwrap().starts_with("Pantai") && p(f, "kecamatan") != "Kuta" && p(f, "kecamatan") != "Mengwi")),
        ("cql2-json", json!({"op": "s_intersects", "args": [{"property": "geometry"},
            {"type": "Polygon", "coordinates": [[[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1], [bx0, by0]]]}]}).to_string(),
            Box::new(|f| match point(f) { Some(c) => in_box(c), None => meets_box(f) })),
        ("cql2-json", json!({"op": "or", "args": [{"op": "isNull", "args": [{"property": "catatan"}]}, {"op": "between", "args": [{"property": "luas"}, 0, 10]}]}).to_string(),
            Box::new(|f| p(f, "catatan").is_null() || (0.0..=10.0).contains(&num(f, "luas").unwrap()))),
    ];
    for (lang, filter, pred) in &cases {
        let expect: BTreeSet<i64> = feats
            .iter()
            .filter(|f| pred(f))
            .map(|f| f["properties"]["nomor"].as_i64().unwrap())
            .collect();
        assert!(
            !expect.is_empty() && expect.len() < N,
            "weak case {filter}: {}",
            expect.len()
        );
        let path = format!(
            "/ogc/collections/pura/items?filter-lang={lang}&filter={}&limit=10000",
            enc(filter)
        );
        let got = w.json(&path).await;
        assert_eq!(nomors(&got), expect, "{lang}: {filter}");
        assert_eq!(got["numberMatched"], expect.len(), "{filter}");
        // Paging over a filter is stable: two pages are the first page of 2x.
        let half = (expect.len() / 2).max(1);
        let a = w
            .json(&format!(
                "/ogc/collections/pura/items?filter-lang={lang}&filter={}&limit={half}",
                enc(filter)
            ))
            .await;
        let b = w.json(&format!(
            "/ogc/collections/pura/items?filter-lang={lang}&filter={}&limit={half}&offset={half}",
            enc(filter)
        )).await;
        let mut ab = nomors(&a);
        ab.extend(nomors(&b));
        assert_eq!(ab.len(), (2 * half).min(expect.len()), "{filter}");
        assert!(ab.is_subset(&expect));
    }
    println!(
        "CQL2: {} filters matched the independent computation",
        cases.len()
    );

    let bad = [
        ("cql2-text", "nomor = ", "cql2-text"),
        (
            "cql2-text",
            "kelurahan = 'Kuta'",
            "unknown property \"kelurahan\"",
        ),
        ("cql2-text", "nomor = 'tujuh'", "types differ"),
        ("cql2-text", "nama > 5", "types differ"),
        (
            "cql2-text",
            "T_BEFORE(tahun_data, TIMESTAMP('2020-01-01T00:00:00Z'))",
            "not supported",
        ),
        ("cql2-text", "foo(nama)", "unknown function"),
        (
            "cql2-text",
            "S_INTERSECTS(geometry, POINT(500 1))",
            "outside CRS84",
        ),
        (
            "cql2-text",
            "S_INTERSECTS(nama, POINT(115 -8))",
            "not a geometry",
        ),
        ("cql2-json", "{\"op\": \"=\", \"args\": [", "cql2-json"),
        (
            "cql2-json",
            "{\"op\": \"=\", \"args\": [{\"property\": \"rahasia\"}, 1]}",
            "unknown property",
        ),
        ("cql2-sql", "nomor = 1", "filter-lang"),
    ];
    for (lang, filter, needle) in bad {
        let detail = w
            .problem(
                &format!(
                    "/ogc/collections/pura/items?filter-lang={lang}&filter={}",
                    enc(filter)
                ),
                400,
            )
            .await;
        assert!(detail.contains(needle), "{filter}: {detail}");
    }
    // Deep nesting is refused before the (recursive) parser sees it; the server lives on.
    let deep = format!("{}nomor = 1{}", "(".repeat(5000), ")".repeat(5000));
    let detail = w
        .problem(
            &format!("/ogc/collections/pura/items?filter={}", enc(&deep)),
            400,
        )
        .await;
    assert!(detail.contains("nested"), "{detail}");
    w.problem(
        "/ogc/collections/pura/items?filter=nomor=1&filter-crs=EPSG:4326",
        400,
    )
    .await;

    // --- Visibility ------------------------------------------------------------
    let colls = w.json("/ogc/collections").await;
    let ids: Vec<&str> = colls["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pura"]);
    for path in [
        "/ogc/collections/rahasia",
        "/ogc/collections/rahasia/items",
        "/ogc/collections/rahasia/items/1",
        "/ogc/collections/rahasia/queryables",
        "/api/layers/rahasia/download",
        "/api/layers/rahasia/download?format=geojson",
        "/ogc/collections/rahasia/items?f=fgb",
    ] {
        w.problem(path, 404).await;
    }
    for path in [
        "/ogc/collections",
        "/ogc/collections?f=html",
        "/ogc",
        "/ogc/api",
    ] {
        assert!(
            !w.get(path, None).await.text().contains("rahasia"),
            "{path}"
        );
    }
    let cookie = w.login("pimpinan", PASSWORD).await;
    let leader = Auth::Cookie(&cookie);
    let colls = w.json_as("/ogc/collections", leader).await;
    assert_eq!(colls["collections"].as_array().unwrap().len(), 2);
    let items = w.json_as("/ogc/collections/rahasia/items", leader).await;
    assert_eq!(items["numberMatched"], 20);
    let r = w.get_as("/api/layers/rahasia/download", leader).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("private, no-cache")
    );
    assert!(r.text().contains("RAHASIACANARY"));
    // Anonymous again after the leader's download was cached: still 404.
    w.problem("/api/layers/rahasia/download", 404).await;
}

/// Structural checks: every `$ref` resolves and every path parameter is declared.
fn check_openapi(api: &Value) {
    assert_eq!(api["openapi"].as_str().unwrap().get(..2), Some("3."));
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(api, &mut all);
    for r in all {
        let (kind, name) = r
            .strip_prefix("#/components/")
            .unwrap()
            .split_once('/')
            .unwrap();
        assert!(api["components"][kind][name].is_object(), "{r}");
    }
    for (path, item) in api["paths"].as_object().unwrap() {
        for seg in path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(['{', '}']);
            let declared = item["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == name && p["in"] == "path");
            assert!(declared, "{path}: {name}");
        }
    }
    for p in [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/{collectionId}/queryables",
        "/collections/{collectionId}/sortables",
        "/api/layers/{layerId}/download",
    ] {
        assert!(api["paths"][p].is_object(), "{p}");
    }
}
