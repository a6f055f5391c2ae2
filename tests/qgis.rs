//! bsc's MapLibre styles opened in QGIS: `tests/qgis/style_check.py` runs
//! PyQGIS headless (Debian's `python3-qgis`, with `/usr/bin/python3` and
//! `QT_QPA_PLATFORM=offscreen`) against a running `bsc`. It converts
//! `/styles/{layer}.json` and `/styles/bsc.json` with
//! `QgsMapBoxGlStyleConverter`, checks that each category or class became
//! a QGIS style filtered on the property in its colour, loads the layer's
//! vector tiles from its TileJSON with that renderer, renders them with
//! `QgsMapRendererParallelJob` and counts the pixels of each colour: areas
//! by categories, areas by graduated classes, points by categories.
//!
//! Without PyQGIS it prints a `SKIPPED` line and passes, unless
//! `BSC_QGIS_TESTS=required` (as `.ci/run` sets; `tests/provision.sh`
//! installs `python3-qgis`). The rendered pictures go to
//! `target/tmp/qgis/`.
#![allow(clippy::unwrap_used)] // test: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Auth, Workspace};
use reqwest::Method;
use serde_json::{Value, json};

const PYTHON: &str = "/usr/bin/python3";

/// Runs `/usr/bin/python3` headless with `args`.
fn python(args: &[&str]) -> std::process::Output {
    Command::new(PYTHON)
        .args(args)
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("{PYTHON} could not run: {e}"))
}

/// Whether PyQGIS imports; otherwise SKIPPED, or a failure when required.
fn qgis_available() -> bool {
    let why = match Command::new(PYTHON)
        .args(["-c", "import qgis.core"])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
    {
        Ok(o) if o.status.success() => return true,
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_owned(),
        Err(e) => format!("{PYTHON} could not run ({e})"),
    };
    assert!(
        std::env::var("BSC_QGIS_TESTS").as_deref() != Ok("required"),
        "BSC_QGIS_TESTS=required but PyQGIS does not import: {why} (apt-get install python3-qgis)"
    );
    common::skipped(&format!(
        "QGIS checks of the MapLibre styles: {why} (apt-get install python3-qgis)"
    ));
    false
}

/// Three squares side by side, with the properties `props`.
fn squares(props: &[Value]) -> Vec<u8> {
    let features: Vec<Value> = props
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = 115.17 + 0.01 * i as f64;
            json!({
                "type": "Feature", "id": i + 1, "properties": p,
                "geometry": { "type": "Polygon", "coordinates": [[
                    [x, -8.60], [x + 0.008, -8.60], [x + 0.008, -8.592], [x, -8.592], [x, -8.60]
                ]]}
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "type": "FeatureCollection", "features": features })).unwrap()
}

/// Runs the QGIS script on `layer`; its report.
fn check(base: &str, layer: &str, expected: &Value, out: &Path) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/qgis/style_check.py");
    let o = python(&[
        script.to_str().unwrap(),
        base,
        layer,
        &expected.to_string(),
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no report from style_check.py:\n{stdout}\n{stderr}"));
    assert!(
        o.status.success(),
        "QGIS checks of {layer} failed: {}\n{stderr}",
        report["problems"]
    );
    report
}

#[test]
fn maplibre_styles_open_in_qgis() {
    if !qgis_available() {
        return;
    }
    let ws = Workspace::new();
    ws.add_user(
        "ayu",
        "opd_staff",
        Some("Dinas Lingkungan Hidup"),
        "staff-pass-7315",
    );
    let s = ws.serve(&["--basemap-url", "none"]);
    let cookie = s.login("ayu", "staff-pass-7315");
    let upload = |id: &str, style: &Value, body: Vec<u8>| {
        let q: String = form_urlencoded::byte_serialize(style.to_string().as_bytes()).collect();
        let r = s
            .authed(
                Method::POST,
                &format!("/api/layers?id={id}&category=general&filename={id}.geojson&visibility=public&style={q}"),
                Auth::Cookie(&cookie),
            )
            .body(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        assert_eq!(status, 201, "upload {id}: {}", r.text().unwrap());
        let r = s
            .authed(
                Method::POST,
                &format!("/api/layers/{id}/publish"),
                Auth::Cookie(&cookie),
            )
            .send()
            .unwrap();
        let status = r.status().as_u16();
        assert_eq!(status, 200, "publish {id}: {}", r.text().unwrap());
    };
    // Opaque fills, so the rendered pixels have the style's colours.
    let categories = json!({
        "type": "categories", "property": "jenis", "color": "#808080", "fill_opacity": 1.0,
        "categories": [
            {"value": "sawah", "label": "Sawah", "color": "#ff0000"},
            {"value": "hutan", "label": "Hutan", "color": "#00ff00"},
            {"value": "taman", "label": "Taman", "color": "#0000ff"}
        ]
    });
    upload(
        "uji-kategori",
        &categories,
        squares(&[
            json!({"jenis": "sawah"}),
            json!({"jenis": "hutan"}),
            json!({"jenis": "taman"}),
        ]),
    );
    let classes = json!({
        "type": "classes", "property": "n", "color": "#808080", "fill_opacity": 1.0, "method": "equal",
        "classes": [
            {"min": 0, "max": 10, "label": "0 – 10", "color": "#ffff00"},
            {"min": 10, "max": 20, "label": "10 – 20", "color": "#ff00ff"},
            {"min": 20, "max": 30, "label": "20 – 30", "color": "#00ffff"}
        ]
    });
    upload(
        "uji-kelas",
        &classes,
        squares(&[json!({"n": 5}), json!({"n": 15}), json!({"n": 30})]),
    );

    // Points by category: QGIS 3.22 has no data-driven circle colour, the
    // filters carry it.
    let points = json!({
        "type": "categories", "property": "jenis", "color": "#808080", "point_radius": 12,
        "categories": [
            {"value": "sawah", "label": "Sawah", "color": "#ff0000"},
            {"value": "hutan", "label": "Hutan", "color": "#00ff00"},
            {"value": "taman", "label": "Taman", "color": "#0000ff"}
        ]
    });
    let dots: Vec<Value> = ["sawah", "hutan", "taman"]
        .iter()
        .enumerate()
        .map(|(i, k)| {
            json!({
                "type": "Feature", "id": i + 1, "properties": { "jenis": k },
                "geometry": { "type": "Point", "coordinates": [115.17 + 0.01 * i as f64, -8.6] }
            })
        })
        .collect();
    upload(
        "uji-titik",
        &points,
        serde_json::to_vec(&json!({ "type": "FeatureCollection", "features": dots })).unwrap(),
    );

    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("qgis");
    for (layer, property, colours) in [
        (
            "uji-kategori",
            "jenis",
            json!({"sawah": "#ff0000", "hutan": "#00ff00", "taman": "#0000ff"}),
        ),
        (
            "uji-kelas",
            "n",
            json!({"0 – 10": "#ffff00", "10 – 20": "#ff00ff", "20 – 30": "#00ffff"}),
        ),
        (
            "uji-titik",
            "jenis",
            json!({"sawah": "#ff0000", "hutan": "#00ff00", "taman": "#0000ff"}),
        ),
    ] {
        let expected = json!({ "property": property, "classes": colours });
        let report = check(&s.base, layer, &expected, &out);
        // Each part of an area is a fill and an outline in QGIS; of a point, a marker.
        let per_part = if layer == "uji-titik" { 1 } else { 2 };
        assert_eq!(report["classed_styles"], 3 * per_part, "{report}");
        println!(
            "QGIS {}: {layer}.json → {} QGIS styles, pixels {}; bsc.json: {} style layers → {} QGIS styles, warnings {}; picture {}",
            report["qgis"].as_str().unwrap_or(""),
            report["styles"].as_array().map_or(0, Vec::len),
            report["pixels"],
            report["bsc"]["style_layers"],
            report["bsc"]["qgis_styles"],
            report["bsc"]["warnings"],
            report["image"].as_str().unwrap_or("")
        );
    }
}
