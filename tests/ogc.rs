//! OGC API - Features and FlatGeobuf downloads checked with real clients:
//! GDAL's OAPIF and FlatGeobuf drivers (`ogrinfo`, `ogr2ogr`, `/vsicurl/`
//! range reads) over a running `bsc`, openapi-spec-validator for the
//! OpenAPI document, and rdflib (a JSON-LD processor and SPARQL engine) for
//! the open data catalogue `/data/catalog.jsonld`. What needs no process (the documents, paging, CQL2
//! against an independent computation, visibility, ranges and tags of
//! downloads) is tested in-process in server/tests/routes/ogc_documents.rs.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use common::Workspace;
use serde_json::{Value, json};
use testkit::{OGC_N as N, ogc_layer};

fn gdal(args: &[&str]) -> String {
    gdal_env(args, &[]).0
}

/// Runs a GDAL command; stdout and stderr.
fn gdal_env(args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .envs(env.iter().copied())
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} could not run ({e}): install GDAL's command line tools (`apt-get install -y gdal-bin`); .ci/run does",
                args[0]
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// Whether GDAL's command line tools run. Without them the GDAL checks are
/// skipped with a `SKIPPED` line, unless `BSC_GDAL_TESTS=required` (as
/// `.ci/run` sets it), when the test fails.
fn gdal_available() -> bool {
    let why = match Command::new("ogrinfo").arg("--version").output() {
        Ok(o) if o.status.success() => return true,
        Ok(o) => format!(
            "ogrinfo --version failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("ogrinfo could not run ({e})"),
    };
    assert!(
        std::env::var("BSC_GDAL_TESTS").as_deref() != Ok("required"),
        "BSC_GDAL_TESTS=required but {why}"
    );
    common::skipped(&format!(
        "GDAL checks of the OGC API and FlatGeobuf downloads: {why} (apt-get install gdal-bin)"
    ));
    false
}

/// The `nomor` values of features `ogrinfo -al` printed.
fn ogr_nomors(listing: &str) -> BTreeSet<i64> {
    listing
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("nomor (")
                .and_then(|rest| rest.split(" = ").nth(1))
                .map(|v| v.trim().parse::<i64>().unwrap())
        })
        .collect()
}

fn nomors(fc: &Value) -> BTreeSet<i64> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["nomor"].as_i64().unwrap())
        .collect()
}

#[test]
fn ogc_api_and_fgb_with_real_clients() {
    let ws = Workspace::new();
    let src = ogc_layer();
    let file = ws.write("pura.geojson", &src.to_string());
    ws.import_ok(&file, "pura", "places-of-worship", &[]);
    let secret = json!({"type": "FeatureCollection", "features": (0..20).map(|i| json!({
        "type": "Feature", "id": i + 1,
        "properties": {"nama": format!("RAHASIACANARY {i}"), "nomor": i},
        "geometry": {"type": "Point", "coordinates": [115.17 + i as f64 * 0.001, -8.72]}
    })).collect::<Vec<_>>()});
    let file = ws.write("rahasia.geojson", &secret.to_string());
    ws.import_ok(&file, "rahasia", "social", &["--visibility", "internal"]);
    let s = ws.serve(&["--default-limit", "100"]);
    let oapif = format!("OAPIF:{}/ogc", s.base);
    let feats = src["features"].as_array().unwrap();

    let spat = ["115.15", "-8.70", "115.20", "-8.60"];
    let api = nomors(&s.json(&format!(
        "/api/layers/pura/features?bbox={}&limit=10000",
        spat.join(",")
    )));
    assert!(!api.is_empty() && api.len() < N);

    // The OpenAPI document against openapi-spec-validator (its structure is
    // checked in-process by server/tests/routes/ogc_documents.rs).
    validate_openapi(&ws, &s.json("/ogc/api"));

    if !gdal_available() {
        return;
    }
    // --- GDAL: OAPIF ------------------------------------------------------
    let listing = gdal(&["ogrinfo", "-ro", "-q", &oapif]);
    assert!(listing.contains("pura"), "{listing}");
    assert!(!listing.contains("rahasia"), "{listing}");
    println!("ogrinfo OAPIF: {}", listing.trim());

    let out = ws.path("copy.geojson");
    gdal(&[
        "ogr2ogr",
        "-f",
        "GeoJSON",
        out.to_str().unwrap(),
        &oapif,
        "pura",
    ]);
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let copied = copy["features"].as_array().unwrap();
    assert_eq!(copied.len(), N, "ogr2ogr copied {} features", copied.len());
    let by_nomor: HashMap<i64, &Value> = copied
        .iter()
        .map(|f| (f["properties"]["nomor"].as_i64().unwrap(), f))
        .collect();
    assert_eq!(by_nomor.len(), N);
    for f in feats.iter().step_by(7) {
        let p = &f["properties"];
        let c = &by_nomor[&p["nomor"].as_i64().unwrap()]["properties"];
        for k in ["nama", "kecamatan", "catatan", "aktif", "tahun_data"] {
            assert_eq!(c[k], p[k], "{k} of {}", p["nomor"]);
        }
        assert!((c["luas"].as_f64().unwrap() - p["luas"].as_f64().unwrap()).abs() < 1e-9);
    }
    println!(
        "ogr2ogr OAPIF copied {} features over 4 pages of 100",
        copied.len()
    );

    let mut args = vec!["ogrinfo", "-ro", "-al", &oapif, "pura", "-spat"];
    args.extend(spat);
    let ogr = ogr_nomors(&gdal(&args));
    assert_eq!(ogr, api, "ogrinfo -spat vs /api bbox");
    println!("ogrinfo OAPIF -spat: {} features, as /api bbox", ogr.len());

    // GDAL translates -where into a CQL2 filter when the server claims Part 3.
    let ogr = ogr_nomors(&gdal(&[
        "ogrinfo",
        "-ro",
        "-al",
        &oapif,
        "pura",
        "-where",
        "nomor < 20 AND kecamatan = 'Kuta'",
    ]));
    assert_eq!(ogr, [0, 6, 12, 18].into_iter().collect());

    // --- FlatGeobuf downloads ----------------------------------------------
    let r = s.get("/api/layers/pura/download?format=fgb");
    assert_eq!(r.status(), 200);
    let fgb = r.bytes().unwrap();
    let fgb_path = ws.path("pura.fgb");
    std::fs::write(&fgb_path, &fgb).unwrap();
    let so = gdal(&["ogrinfo", "-ro", "-so", fgb_path.to_str().unwrap(), "pura"]);
    assert!(so.contains(&format!("Feature Count: {N}")), "{so}");
    let mut args = vec!["ogrinfo", "-ro", "-al", fgb_path.to_str().unwrap(), "-spat"];
    args.extend(spat);
    assert_eq!(ogr_nomors(&gdal(&args)), api, "FGB file -spat");
    let vsi = format!("/vsicurl/{}/api/layers/pura/download", s.base);
    let mut args = vec!["ogrinfo", "-ro", "-al", vsi.as_str(), "-spat"];
    args.extend(spat);
    let (listing, verbose) = gdal_env(&args, &[("CPL_CURL_VERBOSE", "YES")]);
    assert_eq!(ogr_nomors(&listing), api, "FGB over /vsicurl/ -spat");
    assert!(
        verbose.contains("206 Partial Content"),
        "no range reads: {verbose}"
    );
    println!(
        "FGB: {} bytes; ogrinfo -so: {}; /vsicurl/ -spat read {} features with {} range requests",
        fgb.len(),
        so.lines()
            .find(|l| l.contains("Feature Count"))
            .unwrap_or("")
            .trim(),
        ogr_nomors(&listing).len(),
        verbose.matches("206 Partial Content").count()
    );
}

/// Validates with openapi-spec-validator (PyPI) when a Python with it is
/// available (`BSC_PYTHON`, else `python3`); `.ci/run` installs it. With
/// `BSC_OPENAPI_VALIDATOR=required` a missing validator fails the test.
fn validate_openapi(ws: &Workspace, api: &Value) {
    let python = std::env::var("BSC_PYTHON").unwrap_or_else(|_| "python3".into());
    let path = ws.write("openapi.json", &api.to_string());
    let out = Command::new(&python)
        .args(["-c", "import sys, json; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')"])
        .arg(&path)
        .output();
    match out {
        Ok(o) if o.status.success() => println!(
            "openapi-spec-validator: {}",
            String::from_utf8_lossy(&o.stdout).trim()
        ),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named") => {
            assert!(
                std::env::var("BSC_OPENAPI_VALIDATOR").as_deref() != Ok("required"),
                "openapi-spec-validator is not installed for {python}"
            );
            common::skipped(&format!(
                "openapi-spec-validator: not installed for {python} (tests/provision.sh installs it); structural checks only"
            ));
        }
        Ok(o) => panic!(
            "the OpenAPI document is invalid:\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            assert!(
                std::env::var("BSC_OPENAPI_VALIDATOR").as_deref() != Ok("required"),
                "{python}: {e}"
            );
            common::skipped(&format!(
                "openapi-spec-validator: no {python} ({e}); structural checks only"
            ));
        }
    }
}

/// The open data catalogue of the demo data read by rdflib as JSON-LD:
/// one `dcat:Dataset` per public layer (the internal ones left out), and a
/// SPARQL query finds for each a title, a publisher's name, a licence and
/// at least 5 distributions. Needs rdflib for `BSC_PYTHON` (else
/// `python3`); tests/provision.sh installs it, and with
/// `BSC_OPENAPI_VALIDATOR=required` (the Python tools, as .ci/run sets
/// it) a missing rdflib fails the test instead of saying SKIPPED.
#[test]
fn dcat_catalogue_read_by_rdflib() {
    let ws = Workspace::new();
    let s = ws.serve(&["--demo", "--demo-features", "300"]);
    let public = s.json("/api/layers")["layers"].as_array().unwrap().len();
    let path = ws.write(
        "catalog.jsonld",
        &s.get("/data/catalog.jsonld").text().unwrap(),
    );
    let script = r#"
import sys, rdflib
g = rdflib.Graph()
g.parse(sys.argv[1], format="json-ld")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
datasets = set(g.subjects(rdflib.RDF.type, DCAT.Dataset))
rows = g.query("""
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?d (COUNT(DISTINCT ?x) AS ?n) WHERE {
  ?c a dcat:Catalog ; dcat:dataset ?d .
  ?d a dcat:Dataset ; dct:title ?t ; dct:publisher/foaf:name ?p ; dct:license ?l ;
     dcat:distribution ?x .
  ?x dcat:accessURL ?u .
} GROUP BY ?d""")
complete = [r.d for r in rows if int(r.n) >= 5]
assert len(complete) == len(datasets), (len(complete), len(datasets))
print(len(datasets), len(g))
"#;
    let python = std::env::var("BSC_PYTHON").unwrap_or_else(|_| "python3".into());
    let required = std::env::var("BSC_OPENAPI_VALIDATOR").as_deref() == Ok("required");
    let out = match Command::new(&python)
        .args(["-c", script])
        .arg(&path)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert!(!required, "{python}: {e}");
            return common::skipped(&format!(
                "rdflib check of /data/catalog.jsonld: no {python} ({e})"
            ));
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("No module named") {
        assert!(!required, "rdflib is not installed for {python}");
        return common::skipped(&format!(
            "rdflib check of /data/catalog.jsonld: rdflib not installed for {python} (tests/provision.sh installs it)"
        ));
    }
    assert!(
        out.status.success(),
        "rdflib rejected the catalogue:\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut counts = stdout
        .split_whitespace()
        .map(|n| n.parse::<usize>().unwrap());
    let (datasets, triples) = (counts.next().unwrap(), counts.next().unwrap());
    assert_eq!(datasets, public, "one dataset per public layer");
    println!(
        "rdflib: {datasets} datasets, {triples} triples, each with a title, publisher, licence and 5+ distributions"
    );
}
