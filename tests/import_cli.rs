//! End-to-end tests of `bsc import`: valid inputs, and invalid ones that
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test
//! must leave the database exactly as it was.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{BSC, Workspace, mixed_layer};
use sqlx::Row;

/// Every row of every table, as text: equal dumps mean an unchanged database.
fn dump(ws: &Workspace) -> Vec<String> {
    let features = if ws.is_sqlite() {
        "SELECT * FROM features ORDER BY 1, 2"
    } else {
        "SELECT version_id, seq, fid, fid_json, ST_AsText(geometry) AS geometry, properties::text AS properties,
                name, minx, miny, maxx, maxy FROM features ORDER BY 1, 2"
    };
    let mut out = Vec::new();
    for (table, sql) in [
        ("categories", "SELECT * FROM categories ORDER BY 1, 2"),
        ("agencies", "SELECT * FROM agencies ORDER BY 1, 2"),
        ("layers", "SELECT * FROM layers ORDER BY 1, 2"),
        (
            "layer_versions",
            "SELECT * FROM layer_versions ORDER BY 1, 2",
        ),
        ("features", features),
    ] {
        for r in ws.sql(sql) {
            let cols: Vec<String> = (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .map(|v| format!("{v:?}"))
                        .or_else(|_| r.try_get::<Option<f64>, _>(i).map(|v| format!("{v:?}")))
                        .or_else(|_| r.try_get::<Option<i64>, _>(i).map(|v| format!("{v:?}")))
                        .unwrap()
                })
                .collect();
            out.push(format!("{table}: {}", cols.join("|")));
        }
    }
    out
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn imports_report_counts_and_time() {
    let ws = Workspace::new();
    let fc = mixed_layer(700, 11);
    let file = ws.write("m.geojson", &fc.to_string());
    let out = ws.import(
        &file,
        "lapisan",
        "infrastructure",
        &["--json", "--agency", "Dinas PUPR"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["features"], 700);
    assert_eq!(report["version"], 1);
    let nulls = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"].is_null())
        .count();
    assert_eq!(report["geometry_types"]["null"], nulls);
    assert!(report["seconds"].as_f64().unwrap() > 0.0);

    let out = ws.import(&file, "lapisan", "infrastructure", &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("imported 700 features into lapisan version 2 ("),
        "{text}"
    );
    assert!(text.trim_end().ends_with(" s"), "{text}");
}

#[test]
fn real_kecamatan_boundaries_import() {
    // layers/data/kecamatan.geojson: GADM 4.1 kecamatan of Badung (see README).
    let ws = Workspace::new();
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../layers/data/kecamatan.geojson");
    let out = ws.import(&file, "kecamatan", "general", &["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["features"], 6);
    assert_eq!(report["geometry_types"]["MultiPolygon"], 6);
    let b = common::f64s(&report["bbox"]);
    // Badung lies around 115.05-115.27 E, 8.85-8.24 S.
    assert!(
        b[0] > 115.0 && b[2] < 115.3 && b[1] > -8.9 && b[3] < -8.2,
        "{b:?}"
    );
}

#[test]
fn invalid_input_changes_nothing_and_names_each_problem() {
    let ws = Workspace::new();
    let good = ws.write("good.geojson", &mixed_layer(50, 2).to_string());
    ws.import_ok(&good, "tetap", "health", &["--visibility", "internal"]);
    let before = dump(&ws);

    let bad = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[-8.6]}},
        {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[115.2,-8.6]]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[500000,9000000]}},
        {"type":"Feature","properties":[1,2],"geometry":null},
        {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":["115","-8"]}}
    ]}"#;
    let out = ws.import(&ws.write("bad.geojson", bad), "tetap", "health", &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 7, "{err}");
    for (line, want) in lines.iter().zip([
        "feature 2: ",
        "feature 3: LineString has 1 position(s)",
        "feature 4: Polygon ring 1 is not closed",
        "feature 5: Point position [500000, 9000000] is outside",
        "feature 6: ",
        "feature 7: ",
    ]) {
        assert!(
            line.contains(&format!("bad.geojson: {want}")),
            "{line:?} should contain {want:?}"
        );
    }
    assert!(
        lines[6].starts_with("error: ")
            && lines[6].ends_with("bad.geojson: 6 problem(s), nothing imported"),
        "{}",
        lines[6]
    );
    assert_eq!(dump(&ws), before, "the database must be exactly as it was");

    // In Indonesian when the terminal is (LANG=id_ID.UTF-8): features
    // counted from 1, rings too, and what to do.
    let out = ws.import_in(
        "id_ID.UTF-8",
        &ws.path("bad.geojson"),
        "tetap",
        "health",
        &[],
    );
    let err = stderr(&out);
    assert!(
        err.contains("bad.geojson: objek no. 4: Cincin ke-1 poligon tidak tertutup: titik awal [0.0, 0.0] dan titik akhir [0.0, 1.0] harus sama; ulangi titik awal di akhir cincin."),
        "{err}"
    );
    assert!(
        err.contains("error: ") && err.contains("bad.geojson: 6 masalah, tidak ada yang diimpor"),
        "{err}"
    );
    assert_eq!(dump(&ws), before);

    // A new layer that fails leaves no trace either.
    let out = ws.import(&ws.path("bad.geojson"), "baru", "health", &[]);
    assert!(!out.status.success());
    assert_eq!(dump(&ws), before);
}

#[test]
fn at_most_twenty_problems_are_listed() {
    let ws = Workspace::new();
    let bad =
        r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,100]}}"#;
    let file = ws.write("many.geojsonl", &vec![bad; 45].join("\n"));
    let out = ws.import(&file, "banyak", "general", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.contains(": feature ")).count(),
        20,
        "{err}"
    );
    assert!(err.contains("... and 25 more problem(s)"), "{err}");
    assert!(err.contains("45 problem(s), nothing imported"), "{err}");
}

#[test]
fn hostile_and_broken_files_fail_cleanly() {
    let ws = Workspace::new();
    let deep = format!(
        r#"{{"type":"Feature","properties":{{"x":{}}},"geometry":null}}"#,
        "[".repeat(10_000) + &"]".repeat(10_000)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty.geojson", String::new(), "input is empty"),
        ("deep.geojson", deep, "recursion limit"),
        ("truncated.geojson", r#"{"type":"FeatureCollection","features":[{"type":"Feature","#.into(), "not valid GeoJSON"),
        ("binary.geojson", "\u{0}\u{1}PK\u{3}\u{4}".into(), "not valid GeoJSON"),
        ("utm.geojson", r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32750"}},"features":[]}"#.into(), "not WGS 84"),
        ("array.geojson", "[]".into(), "GeoJSON object"),
        ("dupe.geojson", r#"{"type":"Feature","id":"x","properties":{},"geometry":null}
{"type":"Feature","id":"x","properties":{},"geometry":null}"#.into(), "Duplicate id \"x\""),
    ];
    for (name, body, want) in cases {
        let out = ws.import(&ws.write(name, &body), "rusak", "general", &[]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = stderr(&out);
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let out = ws.import(&ws.path("missing.geojson"), "x", "general", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    let out = ws.import(
        &ws.write("ok.geojson", r#"{"type":"Point","coordinates":[115,-8]}"#),
        "x",
        "nope",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown category \"nope\""),
        "{}",
        stderr(&out)
    );
    let out = ws.import(&ws.path("ok.geojson"), "Bad Slug", "general", &[]);
    assert!(stderr(&out).contains("not a slug"), "{}", stderr(&out));
    let out = ws.import(
        &ws.path("ok.geojson"),
        "x",
        "general",
        &["--visibility", "secret"],
    );
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn imports_standard_input_sequences_and_keeps_visibility() {
    let ws = Workspace::new();
    let seq = "\x1e{\"type\":\"Feature\",\"properties\":{\"nama\":\"A\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.1,-8.7]}}\n\
               \x1e{\"type\":\"Feature\",\"properties\":{\"nama\":\"B\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.2,-8.6]}}\n";
    for (n, vis) in [(1, Some("internal")), (2, None)] {
        let mut args = vec![
            "import",
            "-",
            "--layer",
            "rahasia",
            "--category",
            "social",
            "--json",
            "--database",
        ];
        let db = ws.db();
        args.push(&db);
        if let Some(v) = vis {
            args.extend(["--visibility", v]);
        }
        let mut child = Command::new(BSC)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(seq.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (report["features"].as_u64(), report["version"].as_i64()),
            (Some(2), Some(n))
        );
    }
    let rows = dump(&ws);
    let layer = rows.iter().find(|r| r.starts_with("layers: ")).unwrap();
    assert!(
        layer.contains("\"internal\""),
        "re-import without --visibility keeps internal: {layer}"
    );
}
