//! End-to-end tests of the HTTP API that need the real `bsc` binary: a
//! command-line import reaching a running server, and SIGTERM. Route behaviour that needs no process is tested
//! in-process in server/tests/routes/ (features, visibility, caching, tiles,
//! ogc_documents, uploads, sessions).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use common::{Workspace, mixed_layer};

#[test]
fn a_cli_import_appears_in_the_running_server() {
    let ws = Workspace::new();
    let v1 = r#"{"type":"Feature","id":1,"properties":{"nama":"Lama"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}"#;
    let v2 = r#"{"type":"Feature","id":1,"properties":{"nama":"Baru"},"geometry":{"type":"Point","coordinates":[115.21,-8.61]}}
{"type":"Feature","id":2,"properties":{"nama":"Tambahan"},"geometry":{"type":"Point","coordinates":[115.22,-8.62]}}"#;
    ws.import_ok(&ws.write("v1.geojson", v1), "hidup", "tourism", &[]);
    let s = ws.serve(&[]);
    assert_eq!(
        s.json("/api/layers/hidup/features/1")["properties"]["nama"],
        "Lama"
    );

    ws.import_ok(&ws.write("v2.geojsonl", v2), "hidup", "tourism", &[]);
    s.eventually(20, |s| s.json("/api/layers/hidup")["version"] == 2);
    assert_eq!(
        s.json("/api/layers/hidup/features/1")["properties"]["nama"],
        "Baru"
    );
    assert_eq!(s.json("/api/layers/hidup/features")["numberMatched"], 2);

    // A new layer appears without a restart, too.
    ws.import_ok(&ws.write("n.geojson", v1), "baru", "economy", &[]);
    s.eventually(20, |s| s.get("/api/layers/baru").status() == 200);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let ws = Workspace::new();
    let fc = mixed_layer(10, 1);
    ws.import_ok(
        &ws.write("m.geojson", &fc.to_string()),
        "henti",
        "general",
        &[],
    );
    let mut s = ws.serve(&[]);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(code) = s.child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        s.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("shutting down"))
    );
}
