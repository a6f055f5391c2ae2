//! Filters pushed to the server by real GIS clients, and the photos they
//! show, over a running `bsc`: GDAL 3.6 (Debian's `ogrinfo`), GDAL 3.12
//! (the pyogrio wheel, in `BSC_PYTHON`'s environment) and QGIS 3.22
//! (Debian's PyQGIS, `tests/qgis/oapif_check.py`).
//!
//! Each client reads a 600-feature layer once without a filter and once
//! with one; the server's `/metrics` (`bsc_ogc_items_features_total` by
//! the filters a request carried) show whether the filter arrived and how
//! many features travelled. What the clients can push, from their
//! sources: GDAL's OAPIF driver turns `-where` into a CQL2 text `filter`
//! (`filter-lang=cql-text`) when `/conformance` lists Part 3 filtering
//! and the properties are in `/queryables`; QGIS 3.22 turns only
//! comparisons of a date field into `datetime=` (property equality and
//! CQL2 came with QGIS 3.32, which reads the per-collection parameters of
//! the OpenAPI document that bsc now declares), so its equality filter is
//! checked to stay correct, evaluated in QGIS.
//!
//! Skipped with a `SKIPPED` line when a client is missing, unless
//! `BSC_GDAL_TESTS=required` (GDAL 3.6 and pyogrio) or
//! `BSC_QGIS_TESTS=required` (PyQGIS), as `.ci/run` sets them.
#![allow(clippy::unwrap_used)] // test: a failed unwrap is a failed test

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{Auth, Server, Workspace};
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

const N: usize = 600;
const KECAMATAN: [&str; 6] = [
    "Kuta",
    "Kuta Selatan",
    "Kuta Utara",
    "Mengwi",
    "Abiansemal",
    "Petang",
];

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89, 0, 0, 0, 0x0D, 0x49, 0x44, 0x41, 0x54,
    0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4, 0, 0, 0, 0, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn hotel() -> Value {
    let features: Vec<Value> = (0..N)
        .map(|i| {
            json!({
                "type": "Feature", "id": i + 1,
                "properties": {
                    "nama": format!("Hotel {i}"),
                    "nomor": i,
                    "kecamatan": KECAMATAN[i % 6],
                    "tanggal": format!("{}-{:02}-{:02}", 2020 + i % 4, 1 + i % 12, 1 + i % 28),
                },
                "geometry": {"type": "Point", "coordinates": [
                    115.10 + (i % 30) as f64 * 0.005, -8.80 + (i / 30) as f64 * 0.01
                ]}
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// Items pages and features served so far, by the filters requests carried.
fn served(s: &Server) -> BTreeMap<String, (u64, u64)> {
    let text = s.get("/metrics").text().unwrap();
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for line in text.lines() {
        for (metric, pages) in [
            ("bsc_ogc_items_requests_total{filter=\"", true),
            ("bsc_ogc_items_features_total{filter=\"", false),
        ] {
            if let Some(rest) = line.strip_prefix(metric) {
                let (label, value) = rest.split_once("\"} ").unwrap();
                let v: u64 = value.trim().parse().unwrap();
                let e = out.entry(label.to_owned()).or_default();
                if pages {
                    e.0 = v;
                } else {
                    e.1 = v;
                }
            }
        }
    }
    out
}

/// What travelled between two readings of [`served`]: features in all,
/// and features of requests whose filters name `kind`.
struct Travelled {
    features: u64,
    filtered: u64,
    pages: u64,
}

fn travelled(
    before: &BTreeMap<String, (u64, u64)>,
    after: &BTreeMap<String, (u64, u64)>,
    kind: &str,
) -> Travelled {
    let mut t = Travelled {
        features: 0,
        filtered: 0,
        pages: 0,
    };
    for (label, (pages, feats)) in after {
        let (p0, f0) = before.get(label).copied().unwrap_or_default();
        t.features += feats - f0;
        t.pages += pages - p0;
        if label.split('+').any(|k| k == kind) {
            t.filtered += feats - f0;
        }
    }
    t
}

fn required(var: &str) -> bool {
    std::env::var(var).as_deref() == Ok("required")
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn gis_clients_push_filters_and_show_photo_urls() {
    let ws = Workspace::new();
    let src = hotel();
    let file = ws.write("hotel.geojson", &src.to_string());
    ws.import_ok(&file, "hotel", "tourism", &[]);
    ws.add_user("admin1", "admin", None, "rahasia-panjang-sekali");
    let s = ws.serve(&[]);
    let feats = src["features"].as_array().unwrap();
    let expect = |f: &dyn Fn(&Value) -> bool| -> BTreeSet<i64> {
        feats
            .iter()
            .filter(|x| f(&x["properties"]))
            .map(|x| x["properties"]["nomor"].as_i64().unwrap())
            .collect()
    };
    let kuta_selatan = expect(&|p| p["kecamatan"] == "Kuta Selatan");
    let since_2022 = expect(&|p| p["tanggal"].as_str().unwrap() >= "2022-01-01");

    // A photo on the first feature (nomor 0), shown as `photo_url`.
    let cookie = s.login("admin1", "rahasia-panjang-sekali");
    let form = Form::new().text("caption", "Tampak depan").part(
        "file",
        Part::bytes(PNG.to_vec())
            .file_name("foto.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = s
        .authed(
            reqwest::Method::POST,
            "/api/layers/hotel/features/1/photos",
            Auth::Cookie(&cookie),
        )
        .multipart(form)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "photo: {}", r.text().unwrap());
    let photo_prefix = format!("{}/api/photos/", s.base);
    let mut item = Value::Null;
    for _ in 0..100 {
        item = s.json("/ogc/collections/hotel/items/1");
        if item["properties"]["photo_url"].is_string() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let url = item["properties"]["photo_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&photo_prefix), "{item}");
    assert_eq!(
        url,
        format!(
            "{}{}",
            s.base,
            item["properties"]["photos"][0]["url"].as_str().unwrap()
        )
    );
    assert_eq!(s.get(&url.replace(&s.base, "")).status(), 200);
    let page = s.json("/ogc/collections/hotel/items?limit=2");
    assert_eq!(page["features"][0]["properties"]["photo_url"], url.as_str());
    let api = s.json("/api/layers/hotel/features/1");
    assert!(
        api["properties"]["photo_url"]
            .as_str()
            .unwrap()
            .starts_with("/api/photos/")
    );

    let oapif = format!("OAPIF:{}/ogc", s.base);
    let mut report = Vec::new();

    // --- GDAL 3.6 (ogrinfo) --------------------------------------------------
    if gdal_available() {
        let copy = |name: &str, where_: &[&str]| -> BTreeSet<i64> {
            let out = ws.path(name);
            let mut args = vec!["-f", "GeoJSON", out.to_str().unwrap(), &oapif, "hotel"];
            args.extend(where_);
            run(Command::new("ogr2ogr").args(&args));
            let fc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
            fc["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["nomor"].as_i64().unwrap())
                .collect()
        };
        let before = served(&s);
        let all = copy("all36.geojson", &[]);
        let mid = served(&s);
        let plain = travelled(&before, &mid, "cql2");
        assert_eq!(all.len(), N);
        let got = copy("where36.geojson", &["-where", "kecamatan = 'Kuta Selatan'"]);
        let after = served(&s);
        let pushed = travelled(&mid, &after, "cql2");
        assert_eq!(got, kuta_selatan);
        assert_eq!(
            pushed.filtered as usize,
            kuta_selatan.len(),
            "the filter reached bsc"
        );
        assert!(pushed.features < plain.features / 2);
        let one = run(Command::new("ogrinfo").args([
            "-ro",
            "-al",
            &oapif,
            "hotel",
            "-where",
            "nomor = 0",
        ]));
        assert!(
            one.contains(&format!("photo_url (String) = {photo_prefix}")),
            "{one}"
        );
        report.push(format!(
            "GDAL 3.6 ogr2ogr -where \"kecamatan = 'Kuta Selatan'\": {} features in {} pages with the filter pushed ({} matching), {} in {} pages without a filter",
            pushed.features, pushed.pages, pushed.filtered, plain.features, plain.pages
        ));
    }

    // --- GDAL 3.12 (pyogrio) ---------------------------------------------------
    if let Some(python) = pyogrio_python() {
        let script = r#"
import json, sys
import pyogrio.raw as raw
from pyogrio import __gdal_version_string__ as v
url, where = sys.argv[1], sys.argv[2]
meta, fids, geom, fields = raw.read(url, layer="hotel", where=where or None)
names = list(meta["fields"])
nomor = [int(x) for x in fields[names.index("nomor")]]
photos = []
if "photo_url" in names:
    for n, p in zip(nomor, fields[names.index("photo_url")]):
        if isinstance(p, str):
            photos.append([n, p])
print(json.dumps({"gdal": v, "nomor": nomor, "photos": photos}))
"#;
        let read = |where_: &str| -> Value {
            let out = run(Command::new(&python).args(["-c", script, &oapif, where_]));
            serde_json::from_str(out.trim()).unwrap()
        };
        let before = served(&s);
        let all = read("");
        let mid = served(&s);
        let plain = travelled(&before, &mid, "cql2");
        assert_eq!(all["nomor"].as_array().unwrap().len(), N);
        let got = read("kecamatan = 'Kuta Selatan'");
        let after = served(&s);
        let pushed = travelled(&mid, &after, "cql2");
        let nomors: BTreeSet<i64> = got["nomor"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_i64().unwrap())
            .collect();
        assert_eq!(nomors, kuta_selatan);
        assert_eq!(
            pushed.filtered as usize,
            kuta_selatan.len(),
            "the filter reached bsc"
        );
        assert!(pushed.features < plain.features / 2);
        assert_eq!(all["photos"], json!([[0, url]]), "photo_url as a string");
        report.push(format!(
            "GDAL {} (pyogrio) where \"kecamatan = 'Kuta Selatan'\": {} features in {} pages with the filter pushed ({} matching), {} in {} pages without a filter",
            got["gdal"].as_str().unwrap(),
            pushed.features,
            pushed.pages,
            pushed.filtered,
            plain.features,
            plain.pages
        ));
    }

    // --- QGIS 3.22 (PyQGIS) ----------------------------------------------------
    if qgis_available() {
        let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/qgis/oapif_check.py");
        let read = |subset: &str| -> Value {
            let out = run(Command::new("/usr/bin/python3")
                .arg(&script)
                .args([&s.base, "hotel", subset])
                .env("QT_QPA_PLATFORM", "offscreen")
                .env("XDG_RUNTIME_DIR", std::env::temp_dir()));
            let line = out.lines().last().unwrap_or("");
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {out}"))
        };
        let before = served(&s);
        let all = read("");
        let mid = served(&s);
        let plain = travelled(&before, &mid, "datetime");
        assert_eq!(all["count"], N);
        assert_eq!(all["fields"]["photo_url"], "String", "{all}");
        assert_eq!(
            all["photos"],
            json!([{"nomor": 0, "photo_url": url, "type": "str"}]),
            "{all}"
        );
        let dated = read("\"tanggal\" >= '2022-01-01'");
        let after = served(&s);
        let pushed = travelled(&mid, &after, "datetime");
        assert_eq!(
            dated["count"].as_u64().unwrap() as usize,
            since_2022.len(),
            "{dated}"
        );
        assert_eq!(
            pushed.filtered as usize,
            since_2022.len(),
            "datetime reached bsc"
        );
        assert!(pushed.features < plain.features);
        // Equality: not pushed by QGIS 3.22, still correct (filtered in QGIS).
        let eq = read("\"kecamatan\" = 'Kuta Selatan'");
        let last = served(&s);
        let local = travelled(&after, &last, "property");
        assert_eq!(eq["count"].as_u64().unwrap() as usize, kuta_selatan.len());
        report.push(format!(
            "QGIS 3.22 subset \"tanggal\" >= '2022-01-01': {} features in {} pages with datetime pushed ({} matching), {} in {} pages without a filter; subset \"kecamatan\" = 'Kuta Selatan': {} features in {} pages ({} with a pushed filter: QGIS 3.22 filters equality itself)",
            pushed.features,
            pushed.pages,
            pushed.filtered,
            plain.features,
            plain.pages,
            local.features,
            local.pages,
            local.filtered
        ));
    }
    for line in &report {
        println!("{line}");
    }
}

fn gdal_available() -> bool {
    match Command::new("ogrinfo").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            assert!(
                !required("BSC_GDAL_TESTS"),
                "BSC_GDAL_TESTS=required but ogrinfo does not run (apt-get install gdal-bin)"
            );
            common::skipped(
                "GDAL 3.6 pushdown checks: ogrinfo does not run (apt-get install gdal-bin)",
            );
            false
        }
    }
}

/// `BSC_PYTHON` (else `python3`) when it imports pyogrio.
fn pyogrio_python() -> Option<String> {
    let python = std::env::var("BSC_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&python)
        .args(["-c", "import pyogrio"])
        .output()
    {
        Ok(o) if o.status.success() => Some(python),
        _ => {
            assert!(
                !required("BSC_GDAL_TESTS"),
                "BSC_GDAL_TESTS=required but {python} does not import pyogrio (tests/provision.sh installs it)"
            );
            common::skipped(&format!(
                "GDAL 3.12 pushdown checks: {python} does not import pyogrio (pip install pyogrio)"
            ));
            None
        }
    }
}

fn qgis_available() -> bool {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import qgis.core"])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !required("BSC_QGIS_TESTS"),
            "BSC_QGIS_TESTS=required but PyQGIS does not import (apt-get install python3-qgis)"
        );
        common::skipped(
            "QGIS 3.22 pushdown checks: PyQGIS does not import (apt-get install python3-qgis)",
        );
    }
    ok
}
