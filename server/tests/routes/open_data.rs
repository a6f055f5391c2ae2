//! Open data: the CSV and XLSX downloads read back by independent readers
//! (the `csv` crate, calamine) to the uploaded values, formula guard and
//! Unicode included; their tags and 304s; the same 404 for a hidden layer
//! as for a missing one; and the catalogue (`/data/catalog.jsonld`, DCAT-AP)
//! and its page (`/data`) listing public layers only, whoever asks.
//! rdflib's reading of the JSON-LD needs Python: tests/ogc.rs.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use layers::model::access::Role;
use serde_json::{Value, json};

use crate::support::World;

/// A name a spreadsheet would run as a formula.
const FORMULA: &str = "=HYPERLINK(\"http://x\",\"klik\")";
/// A name with accents, a dash, an emoji, a comma and a line break.
const UNICODE: &str = "Pura Tanah Lot – Tabanan, «Café» 🛕\nbaris dua";
/// A title made of what HTML must escape.
const NASTY: &str = "Pura <b>\"Dalem\"</b> & 'Co'";

async fn world() -> World {
    let w = World::new().await;
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"nama": FORMULA, "nomor": 1, "luas": 12.5, "aktif": true},
         "geometry": {"type": "Point", "coordinates": [115.17, -8.72]}},
        {"type": "Feature", "id": 2, "properties": {"nama": UNICODE, "nomor": -2, "luas": 0.25, "aktif": false},
         "geometry": {"type": "Point", "coordinates": [115.18, -8.71]}},
        {"type": "Feature", "id": 3, "properties": {"nama": "Pura Desa", "nomor": 3},
         "geometry": {"type": "Point", "coordinates": [115.19, -8.7]}},
    ]});
    w.import(
        &fc.to_string(),
        "pura",
        "places-of-worship",
        &[
            "--agency",
            "Dinas Kebudayaan",
            "--title-id",
            NASTY,
            "--title-en",
            "Temples",
        ],
    )
    .await;
    w.import(
        &crate::support::points(&["RAHASIACANARY"]),
        "gudang",
        "general",
        &["--visibility", "internal", "--agency", "Dinas Kebudayaan"],
    )
    .await;
    w
}

/// The rows of a CSV download, its byte order mark checked and dropped.
fn csv_rows(body: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(body).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("the CSV starts with a BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn csv_reads_back_to_the_uploaded_values() {
    let w = world().await;
    let r = w.get("/api/layers/pura/download?format=csv", None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8; header=present")
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"pura.csv\"")
    );
    let rows = csv_rows(&r.body);
    assert_eq!(
        rows[0],
        ["fid", "nama", "nomor", "luas", "aktif", "wkt", "lon", "lat"]
    );
    assert_eq!(rows.len(), 4);
    let by_fid = |fid: &str| rows.iter().find(|r| r[0] == fid).unwrap().clone();
    let one = by_fid("1");
    // The formula comes back with the guarding quote, and only that.
    assert_eq!(one[1], format!("'{FORMULA}"));
    assert_eq!(one[2..5], ["1", "12.5", "true"]);
    assert_eq!(one[5], "POINT(115.17 -8.72)");
    assert_eq!(one[6..8], ["115.17", "-8.72"]);
    let two = by_fid("2");
    assert_eq!(two[1], UNICODE);
    // A negative number is a number, not a formula: no quote.
    assert_eq!(two[2], "-2");
    let three = by_fid("3");
    assert_eq!(three[3..5], ["", ""]);
}

#[tokio::test]
async fn xlsx_reads_back_with_calamine() {
    let w = world().await;
    let r = w.get("/api/layers/pura/download?format=xlsx", None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"pura.xlsx\"")
    );
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(r.body.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["pura"]);
    let range = book.worksheet_range("pura").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        ["fid", "nama", "nomor", "luas", "aktif", "wkt", "lon", "lat"]
    );
    let by_fid = |fid: f64| {
        *rows
            .iter()
            .find(|r| r[0] == Data::Float(fid))
            .unwrap_or_else(|| panic!("no fid {fid}"))
    };
    let one = by_fid(1.0);
    // A text cell is never a formula: the value as uploaded.
    assert_eq!(one[1], Data::String(FORMULA.into()));
    assert_eq!(one[2], Data::Float(1.0));
    assert_eq!(one[3], Data::Float(12.5));
    assert_eq!(one[4], Data::Bool(true));
    assert_eq!(one[5], Data::String("POINT(115.17 -8.72)".into()));
    assert_eq!(
        (&one[6], &one[7]),
        (&Data::Float(115.17), &Data::Float(-8.72))
    );
    let two = by_fid(2.0);
    assert_eq!(two[1], Data::String(UNICODE.into()));
    assert_eq!(two[2], Data::Float(-2.0));
    assert_eq!(two[4], Data::Bool(false));
    let three = by_fid(3.0);
    assert_eq!(three[3], Data::Empty);
}

#[tokio::test]
async fn tables_have_tags_and_the_visibility_rule() {
    let w = world().await;
    for format in ["csv", "xlsx"] {
        let path = format!("/api/layers/pura/download?format={format}");
        let r = w.get(&path, None).await;
        let tag = r.header("etag").expect("a tag");
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("public, no-cache")
        );
        let again = w
            .send(
                axum::http::Request::get(&path)
                    .header("if-none-match", &tag)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(again.status, 304, "{format}");
        assert_eq!(again.header("etag"), Some(tag));
        assert!(again.body.is_empty());

        // Hidden and missing are the same 404.
        let hidden = w
            .get(
                &format!("/api/layers/gudang/download?format={format}"),
                None,
            )
            .await
            .problem(404);
        let missing = w
            .get(&format!("/api/layers/tiada/download?format={format}"), None)
            .await
            .problem(404);
        assert_eq!(
            hidden["detail"].as_str().unwrap().replace("gudang", "X"),
            missing["detail"].as_str().unwrap().replace("tiada", "X")
        );
    }
    // The owning agency downloads its internal layer.
    let staff = w
        .user("staf_budaya", Role::OpdStaff, Some("Dinas Kebudayaan"))
        .await;
    let r = w
        .get("/api/layers/gudang/download?format=csv", Some(&staff))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("private, no-cache")
    );
    assert!(csv_rows(&r.body)[1][1] == "RAHASIACANARY");

    let detail = w.problem("/api/layers/pura/download?format=shp", 400).await;
    assert!(detail.contains("fgb, geojson, csv, xlsx"), "{detail}");
}

/// `v` with the times blanked out.
fn redact_times(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if k == "dct:modified" {
                        json!({"@value": "[time]", "@type": "xsd:dateTime"})
                    } else {
                        redact_times(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact_times).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn the_catalogue_lists_public_layers_only() {
    let w = world().await;
    let leader = w.user("bupati", Role::Leader, None).await;
    for who in [None, Some(leader.as_str())] {
        let r = w.get("/data/catalog.jsonld", who).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/ld+json")
        );
        assert!(!r.text().contains("gudang"), "an internal layer is listed");
        assert!(!r.text().contains("RAHASIA"));
    }
    let doc = w.json("/data/catalog.jsonld").await;
    assert_eq!(doc["@type"], "dcat:Catalog");
    let datasets = doc["dcat:dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), 1);
    let d = &datasets[0];
    assert_eq!(d["dct:identifier"], "pura");
    assert_eq!(d["dct:publisher"]["foaf:name"], "Dinas Kebudayaan");
    assert_eq!(
        d["dct:description"][0]["@value"],
        format!("Lapisan {NASTY} (Tempat Ibadah) dari Dinas Kebudayaan: 3 objek titik.")
    );
    let dists = d["dcat:distribution"].as_array().unwrap();
    assert_eq!(dists.len(), 6);
    // Every download link answers, with the media type it claims.
    for x in dists {
        let url = x["dcat:accessURL"]["@id"].as_str().unwrap();
        let path = url.strip_prefix("http://127.0.0.1:8080").expect(url);
        let r = w.get(path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        if let Some(mt) = x["dcat:mediaType"]["@id"].as_str() {
            let mt = mt.rsplit_once("media-types/").unwrap().1;
            if mt != "application/vnd.mapbox-vector-tile" {
                let ct = r.header("content-type").unwrap();
                assert!(ct.starts_with(mt), "{path}: {ct} is not {mt}");
            }
        }
    }
    insta::assert_json_snapshot!("dcat_catalog", redact_times(&doc));

    // Tags and 304.
    let r = w.get("/data/catalog.jsonld", None).await;
    let tag = r.header("etag").unwrap();
    let again = w
        .send(
            axum::http::Request::get("/data/catalog.jsonld")
                .header("if-none-match", &tag)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn the_data_page_escapes_and_links() {
    let w = world().await;
    let leader = w.user("bupati", Role::Leader, None).await;
    let r = w.get("/data", Some(&leader)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = r.text();
    assert!(!html.contains("<b>"), "unescaped title");
    assert!(html.contains("Pura &lt;b&gt;&quot;Dalem&quot;&lt;/b&gt; &amp; &#39;Co&#39;"));
    assert!(!html.contains("gudang") && !html.contains("RAHASIA"));
    for link in [
        "/api/layers/pura/download?format=csv",
        "/api/layers/pura/download?format=xlsx",
        "/api/layers/pura/download?format=fgb",
        "/api/layers/pura/download?format=geojson",
        "/ogc/collections/pura",
        "/tiles/pura.json",
        "/data/catalog.jsonld",
        "http://spdx.org/licenses/CC-BY-4.0",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(html.contains("Dinas Kebudayaan"));
    assert!(!html.contains("<script"));
}

#[tokio::test]
async fn xlsx_cuts_long_cells_and_keeps_big_integers() {
    let w = World::new().await;
    // A polygon whose WKT is longer than an Excel cell holds.
    let n = 2400;
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            [115.2 + 0.01 * a.cos(), -8.6 + 0.01 * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "properties": {"nama": "Lapangan", "nib": 9_007_199_254_740_993_i64},
         "geometry": {"type": "Polygon", "coordinates": [ring]}},
    ]});
    w.import(&fc.to_string(), "lapangan", "general", &[]).await;
    let r = w
        .get("/api/layers/lapangan/download?format=xlsx", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(r.body.clone())).unwrap();
    let range = book.worksheet_range("lapangan").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header, ["fid", "nama", "nib", "wkt"]);
    // Beyond 2^53 a double would round: the digits are kept as text.
    assert_eq!(rows[1][2], Data::String("9007199254740993".into()));
    let Data::String(wkt) = &rows[1][3] else {
        panic!("{:?}", rows[1][3])
    };
    assert!(wkt.starts_with("POLYGON(("), "{}", &wkt[..40]);
    assert!(wkt.ends_with('…'));
    assert_eq!(wkt.encode_utf16().count(), 32_767);
    // The CSV has the whole geometry.
    let r = w
        .get("/api/layers/lapangan/download?format=csv", None)
        .await;
    let rows = csv_rows(&r.body);
    assert!(rows[1][3].len() > 32_767 && rows[1][3].ends_with("))"));
    assert_eq!(rows[1][2], "9007199254740993");
}
