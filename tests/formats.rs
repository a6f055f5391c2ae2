//! End-to-end tests of uploads in every format `bsc` reads: each fixture in
//! `tests/fixtures/formats/` is uploaded over HTTP by OPD staff as a new
//! layer, published, and read back through the features API, where it must
//! hold what `badung.geojson` holds (names, geometry types, positions,
//! holes, accented names). Then, when `../shared/data/reference` exists,
//! the same reference countries are uploaded as GeoJSON, FlatGeobuf and a
//! zipped shapefile and must agree with one another.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::{Auth, Server, Workspace};
use reqwest::Method;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

const PASSWORD: &str = "kata-sandi-rahasia-1";
/// The first point of every fixture.
const KUTA_NAME: &str = "Jalan Raya Kuta – café";
const KUTA: [f64; 2] = [115.1689, -8.7184];
/// How close reprojected and re-encoded positions must come back, in degrees.
const TOLERANCE: f64 = 1e-6;

fn fixtures() -> PathBuf {
    common::fixtures().join("formats")
}

fn fixture(name: &str) -> Vec<u8> {
    common::fixture(&format!("formats/{name}"))
}

/// Which features of `badung.geojson` a fixture holds.
#[derive(Clone, Copy, Debug)]
enum Holds {
    /// All six.
    All,
    /// The three points.
    Points,
    /// The polygon with a hole and the multipolygon.
    Areas,
}

/// One fixture: file, what it holds, its format's name and its source CRS.
struct Case {
    file: &'static str,
    holds: Holds,
    format: &'static str,
    crs: Option<&'static str>,
}

const fn case(
    file: &'static str,
    holds: Holds,
    format: &'static str,
    crs: Option<&'static str>,
) -> Case {
    Case {
        file,
        holds,
        format,
        crs,
    }
}

/// Every fixture in `tests/fixtures/formats/` but the README and script.
const CASES: &[Case] = &[
    case("badung.geojson", Holds::All, "geojson", None),
    case("badung.fgb", Holds::All, "flatgeobuf", None),
    case(
        "badung_3857.fgb",
        Holds::All,
        "flatgeobuf",
        Some("EPSG:3857"),
    ),
    case("badung.gpkg", Holds::All, "geopackage", None),
    case("badung.kml", Holds::All, "kml", None),
    case("badung.kmz", Holds::All, "kmz", None),
    case("badung_lonlat.csv", Holds::Points, "csv", None),
    case("badung_wkt.csv", Holds::All, "csv", None),
    case("badung_points_utf8.zip", Holds::Points, "shapefile", None),
    case("badung_points_latin1.zip", Holds::Points, "shapefile", None),
    case(
        "badung_points_utm50s.zip",
        Holds::Points,
        "shapefile",
        Some("EPSG:32750"),
    ),
    case("badung_areas.zip", Holds::Areas, "shapefile", None),
];

fn find_case(file: &str) -> &'static Case {
    CASES.iter().find(|c| c.file == file).unwrap()
}

/// The features of `badung.geojson` a fixture should hold.
fn expected(holds: Holds) -> Vec<Value> {
    let all: Value = serde_json::from_slice(&fixture("badung.geojson")).unwrap();
    let all = all["features"].as_array().unwrap().clone();
    match holds {
        Holds::All => all,
        Holds::Points => all[..3].to_vec(),
        Holds::Areas => all[4..].to_vec(),
    }
}

/// Every position in a GeoJSON geometry.
fn positions(g: &Value, out: &mut Vec<[f64; 2]>) {
    match g {
        Value::Object(o) => {
            if let Some(c) = o.get("coordinates") {
                positions(c, out);
            }
            if let Some(Value::Array(gs)) = o.get("geometries") {
                gs.iter().for_each(|g| positions(g, out));
            }
        }
        Value::Array(a) if a.first().is_some_and(Value::is_number) => {
            out.push([a[0].as_f64().unwrap(), a[1].as_f64().unwrap()]);
        }
        Value::Array(a) => a.iter().for_each(|v| positions(v, out)),
        _ => {}
    }
}

fn bbox_of(g: &Value) -> [f64; 4] {
    let mut ps = Vec::new();
    positions(g, &mut ps);
    assert!(!ps.is_empty(), "no positions in {g}");
    ps.iter().fold(
        [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
        |[a, b, c, d], [x, y]| [a.min(*x), b.min(*y), c.max(*x), d.max(*y)],
    )
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= TOLERANCE)
}

/// Rings of each polygon of a (multi)polygon, e.g. `[2]` for a polygon with a hole.
fn rings(g: &Value) -> Vec<usize> {
    let c = &g["coordinates"];
    match g["type"].as_str() {
        Some("Polygon") => vec![c.as_array().unwrap().len()],
        Some("MultiPolygon") => c
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_array().unwrap().len())
            .collect(),
        _ => vec![],
    }
}

fn nama(f: &Value) -> String {
    f["properties"]["nama"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn json_of(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A server with one OPD staff account; its session cookie.
struct World {
    _ws: Workspace,
    s: Server,
    staff: String,
}

fn world() -> World {
    let ws = Workspace::new();
    ws.add_user("ayu_pupr", "opd_staff", Some("Dinas PUPR"), PASSWORD);
    let s = ws.serve(&[]);
    let staff = s.login("ayu_pupr", PASSWORD);
    World { _ws: ws, s, staff }
}

impl World {
    /// Uploads `body` raw as new layer `id` with the extra query `query`;
    /// asserts 201 and returns the report.
    fn upload(&self, id: &str, query: &str, body: Vec<u8>) -> Value {
        let path = format!("/api/layers?id={id}&category=general&{query}");
        let r = self
            .s
            .authed(Method::POST, &path, Auth::Cookie(&self.staff))
            .body(body)
            .send()
            .unwrap();
        let (st, v) = json_of(r);
        assert_eq!(st, 201, "upload {path}: {v}");
        assert_eq!(v["status"], "draft", "{path}: {v}");
        v["report"].clone()
    }

    /// Uploads as a multipart form; asserts 201 and returns the report.
    fn upload_form(&self, what: &str, form: Form) -> Value {
        let r = self
            .s
            .authed(Method::POST, "/api/layers", Auth::Cookie(&self.staff))
            .multipart(form)
            .send()
            .unwrap();
        let (st, v) = json_of(r);
        assert_eq!(st, 201, "{what}: {v}");
        v["report"].clone()
    }

    /// Publishes layer `id`'s latest draft and returns all its features as served.
    fn publish_and_read(&self, id: &str) -> Value {
        let r = self
            .s
            .authed(
                Method::POST,
                &format!("/api/layers/{id}/publish"),
                Auth::Cookie(&self.staff),
            )
            .send()
            .unwrap();
        let (st, v) = json_of(r);
        assert_eq!(st, 200, "publish {id}: {v}");
        let fc = self
            .s
            .json(&format!("/api/layers/{id}/features?limit=10000"));
        assert_eq!(
            fc["numberMatched"], fc["numberReturned"],
            "{id}: features not all on one page"
        );
        fc
    }
}

/// Checks `fc` (as served) against the `badung.geojson` features it should
/// hold, matched by `nama` (an indexed FlatGeobuf stores its features in
/// spatial order, not in the order they were written).
fn check_layer(what: &str, fc: &Value, holds: Holds) {
    let want = expected(holds);
    let got = fc["features"].as_array().unwrap();
    let mut got_names: Vec<String> = got.iter().map(nama).collect();
    let mut want_names: Vec<String> = want.iter().map(nama).collect();
    got_names.sort();
    want_names.sort();
    assert_eq!(
        got_names, want_names,
        "{what}: feature names differ from badung.geojson's (count or accents?)"
    );
    for w in &want {
        let name = nama(w);
        let g = got.iter().find(|g| nama(g) == name).unwrap();
        assert_eq!(
            g["geometry"]["type"], w["geometry"]["type"],
            "{what}: geometry type of {name:?}"
        );
        if let Some(jenis) = w["properties"].get("jenis") {
            assert_eq!(g["properties"]["jenis"], *jenis, "{what}: {name:?}'s jenis");
        }
        let (gb, wb) = (bbox_of(&g["geometry"]), bbox_of(&w["geometry"]));
        assert!(
            close(&gb, &wb),
            "{what}: {name:?} extent {gb:?}, want {wb:?} within {TOLERANCE}"
        );
        assert_eq!(
            rings(&g["geometry"]),
            rings(&w["geometry"]),
            "{what}: {name:?} rings per polygon (holes lost?): {}",
            g["geometry"]
        );
    }
    if !matches!(holds, Holds::Areas) {
        let first = got.iter().find(|g| nama(g) == KUTA_NAME).unwrap();
        let p = &first["geometry"]["coordinates"];
        let p = [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()];
        assert!(
            close(&p, &KUTA),
            "{what}: {KUTA_NAME} at {p:?}, want {KUTA:?} within {TOLERANCE}"
        );
    }
}

/// Checks an upload report against the fixture.
fn check_report(what: &str, report: &Value, case: &Case) {
    let want = expected(case.holds);
    assert_eq!(report["format"], case.format, "{what}: {report}");
    assert_eq!(report["features"], want.len(), "{what}: {report}");
    assert_eq!(report["error_count"], 0, "{what}: {report}");
    let mut counts = BTreeMap::<String, u64>::new();
    for w in &want {
        *counts
            .entry(w["geometry"]["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let got: BTreeMap<String, u64> =
        serde_json::from_value(report["geometry_types"].clone()).unwrap();
    assert_eq!(got, counts, "{what}: report geometry_types: {report}");
    let crs = report["source_crs"].as_str();
    match case.crs {
        Some(code) => assert!(
            crs.is_some_and(|c| c.contains(code)),
            "{what}: source_crs {crs:?} does not name {code}: {report}"
        ),
        None => assert!(
            crs.is_none_or(|c| c.contains("4326") || c.contains("WGS 84")),
            "{what}: unexpected source_crs {crs:?}: {report}"
        ),
    }
}

/// A layer id for a fixture file name (`badung_3857.fgb` → `n-badung-3857-fgb`).
fn layer_id(prefix: &str, file: &str) -> String {
    format!("{prefix}-{}", file.replace(['_', '.'], "-"))
}

/// One server for the whole file: every format, raw and multipart, then
/// the reference data.
#[test]
fn every_format_uploaded_published_and_read_back() {
    let w = world();
    let started = std::time::Instant::now();
    let mut uploads = 0;

    for case in CASES {
        // Detected from the file name alone (no content type, no format field).
        let what = format!("{} (format from its name)", case.file);
        let id = layer_id("n", case.file);
        let report = w.upload(&id, &format!("filename={}", case.file), fixture(case.file));
        check_report(&what, &report, case);
        check_layer(&what, &w.publish_and_read(&id), case.holds);

        // Named by an explicit format field, the file name telling nothing.
        let what = format!("{} (format={})", case.file, case.format);
        let id = layer_id("f", case.file);
        let report = w.upload(
            &id,
            &format!("filename=upload.bin&format={}", case.format),
            fixture(case.file),
        );
        check_report(&what, &report, case);
        check_layer(&what, &w.publish_and_read(&id), case.holds);
        uploads += 2;
    }

    // Multipart forms with metadata fields.
    for (file, mime) in [
        ("badung_points_utm50s.zip", "application/zip"),
        ("badung_points_latin1.zip", "application/zip"),
        ("badung.gpkg", "application/geopackage+sqlite3"),
        ("badung.kmz", "application/vnd.google-earth.kmz"),
    ] {
        let id = layer_id("m", file);
        let form = Form::new()
            .text("id", id.clone())
            .text("category", "general")
            .text("title_id", format!("Uji {file}"))
            .text("title_en", format!("Test {file}"))
            .text("visibility", "public")
            .part(
                "file",
                Part::bytes(fixture(file))
                    .file_name(file)
                    .mime_str(mime)
                    .unwrap(),
            );
        let what = format!("{file} (multipart)");
        check_report(&what, &w.upload_form(&what, form), find_case(file));
        check_layer(&what, &w.publish_and_read(&id), find_case(file).holds);
        let meta = w.s.json(&format!("/api/layers/{id}"));
        assert_eq!(meta["title_en"], format!("Test {file}"), "{meta}");
        uploads += 1;
    }
    // A multipart form with an explicit format field and an uninformative name.
    let what = "badung_3857.fgb (multipart, format field)";
    let form = Form::new()
        .text("id", "m-explicit-fgb")
        .text("category", "general")
        .text("format", "flatgeobuf")
        .part(
            "file",
            Part::bytes(fixture("badung_3857.fgb"))
                .file_name("data")
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    let case = find_case("badung_3857.fgb");
    check_report(what, &w.upload_form(what, form), case);
    check_layer(what, &w.publish_and_read("m-explicit-fgb"), case.holds);
    uploads += 1;
    println!(
        "{} fixtures: {uploads} uploads (by name, by format field, multipart) published and read back in {:.1} s",
        CASES.len(),
        started.elapsed().as_secs_f64()
    );

    reference_countries_agree_across_formats(&w);
}

/// FlatGeobuf files that GDAL's `ogrinfo` reads (the FlatGeobuf project's
/// test data and GDAL's own output, see tests/fixtures/formats/README.md)
/// upload, and every column type comes back.
#[test]
fn flatgeobuf_files_gdal_reads_are_uploaded() {
    let w = world();
    for (file, count) in [
        ("alldatatypes.fgb", 1),
        ("no_properties.fgb", 1),
        ("heterogeneous.fgb", 3),
        ("mp_overlapping.fgb", 2),
        ("unknown_feature_count.fgb", 1),
        ("countries.fgb", 179),
        ("countries_nogeo.fgb", 179),
        ("binary_wkb.fgb", 1),
        ("triangle.fgb", 1),
        ("gdal_alltypes.fgb", 3),
        ("gdal_no_properties.fgb", 3),
        ("gdal_one_no_properties.fgb", 1),
    ] {
        let id = layer_id("fgb", file);
        let report = w.upload(
            &id,
            &format!("filename={file}"),
            fixture(&format!("flatgeobuf/{file}")),
        );
        assert_eq!(report["features"], count, "{file}: {report}");
        assert_eq!(report["error_count"], 0, "{file}: {report}");
    }
    let fc = w.publish_and_read(&layer_id("fgb", "alldatatypes.fgb"));
    assert_eq!(
        fc["features"][0]["properties"],
        json!({"byte": -1, "ubyte": 255, "bool": true, "short": -1, "ushort": 65535,
               "int": -1, "uint": 4_294_967_295_u64, "long": -1,
               "ulong": 18_446_744_073_709_551_615_u64, "float": 0.0, "double": 0.0,
               "string": "X", "json": "X", "datetime": "2020-02-29T12:34:56Z"}),
        "{fc}"
    );
}

// ---------------------------------------------------------------------------
// Reference data: the same countries as GeoJSON, FlatGeobuf and shapefile.
// ---------------------------------------------------------------------------

/// `../shared/data/reference` relative to the workspace root.
fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/reference")
}

/// `{stem}.shp` and those of its siblings that exist, zipped in memory.
fn zip_shapefile(dir: &Path, stem: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut added = Vec::new();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        let name = format!("{stem}.{ext}");
        let Ok(bytes) = std::fs::read(dir.join(&name)) else {
            continue;
        };
        zip.start_file(name.as_str(), opts).unwrap();
        zip.write_all(&bytes).unwrap();
        added.push(ext);
    }
    assert!(
        added.contains(&"shp") && added.contains(&"dbf"),
        "no {stem}.shp/.dbf in {}",
        dir.display()
    );
    zip.finish().unwrap().into_inner()
}

fn reference_countries_agree_across_formats(w: &World) {
    let dir = reference_dir();
    if !dir.join("countries.geojson").exists() {
        println!("reference data: skipped ({} does not exist)", dir.display());
        return;
    }
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let uploads = [
        (
            "ref-countries-geojson",
            "countries.geojson",
            read("countries.geojson"),
        ),
        ("ref-countries-fgb", "countries.fgb", read("countries.fgb")),
        (
            "ref-countries-shp",
            "countries.zip",
            zip_shapefile(&dir, "countries"),
        ),
    ];
    let mut served = Vec::new();
    for (id, file, body) in uploads {
        let report = w.upload(id, &format!("filename={file}"), body);
        assert_eq!(report["error_count"], 0, "{file}: {report}");
        served.push((file, report, w.publish_and_read(id)));
    }
    let (_, ref_report, reference) = &served[0];
    let reference = reference["features"].as_array().unwrap();
    assert!(!reference.is_empty());
    let name = |f: &Value| f["properties"]["name"].as_str().unwrap().to_owned();
    for (file, report, fc) in &served[1..] {
        let got = fc["features"].as_array().unwrap();
        assert_eq!(
            got.len(),
            reference.len(),
            "{file}: feature count differs from countries.geojson's"
        );
        assert_eq!(report["features"], ref_report["features"], "{file}: report");
        // Ten features spread over the layer, by order, and the same by name
        // (a FlatGeobuf with an index may store them in another order).
        let step = (reference.len() / 10).max(1);
        for i in (0..reference.len()).step_by(step).take(10) {
            let a = &reference[i];
            let by_order = &got[i];
            let b = got
                .iter()
                .find(|b| name(b) == name(a))
                .unwrap_or_else(|| panic!("{file}: no feature named {:?}", name(a)));
            if *file != "countries.fgb" {
                assert_eq!(name(by_order), name(a), "{file}: feature {i}'s name");
            }
            let (ab, bb) = (bbox_of(&a["geometry"]), bbox_of(&b["geometry"]));
            assert!(
                close(&ab, &bb),
                "{file}: {:?} extent {bb:?}, want {ab:?}",
                name(a)
            );
            // countries.fgb declares MultiPolygon for all: compare areal types only.
            let areal = |f: &Value| f["geometry"]["type"].as_str().unwrap().replace("Multi", "");
            assert_eq!(areal(b), areal(a), "{file}: {:?}", name(a));
        }
    }
    println!(
        "reference data: countries as .geojson, .fgb and zipped .shp agree ({} features)",
        reference.len()
    );
}

// ---------------------------------------------------------------------------
// The command line reads every format too.
// ---------------------------------------------------------------------------

/// `bsc import` of a zipped UTM 50S shapefile, then served (a second,
/// short-lived server over the imported database).
#[test]
fn cli_import_reads_a_zipped_utm_shapefile() {
    let ws = Workspace::new();
    let file = fixtures().join("badung_points_utm50s.zip");
    let out = ws.import(&file, "x", "general", &["--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bsc import {} failed: {}{stdout}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("bsc import --json: {e}: {stdout}"));
    assert_eq!(report["features"], 3, "{report}");
    assert_eq!(report["geometry_types"], json!({"Point": 3}), "{report}");
    let s = ws.serve(&[]);
    let fc = s.json("/api/layers/x/features");
    check_layer("bsc import badung_points_utm50s.zip", &fc, Holds::Points);
}
