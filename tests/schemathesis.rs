//! A property-based test of the OGC API over its own OpenAPI document:
//! schemathesis (PyPI) generates requests for every operation and checks
//! that none gets a 5xx and every response matches its declared status,
//! content type and schema. `.ci/run` installs schemathesis next to
//! openapi-spec-validator (`BSC_PYTHON`'s virtual environment); with
//! `BSC_OPENAPI_VALIDATOR=required` a missing schemathesis fails the test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Workspace;

#[test]
fn generated_requests_get_no_5xx_and_match_the_openapi_document() {
    let python = std::env::var("BSC_PYTHON").unwrap_or_else(|_| "python3".into());
    let cli = PathBuf::from(&python).with_file_name("schemathesis");
    let required = std::env::var("BSC_OPENAPI_VALIDATOR").as_deref() == Ok("required");
    if !cli.exists() {
        assert!(!required, "schemathesis is not installed next to {python}");
        common::skipped(&format!(
            "schemathesis: not installed next to {python} (tests/provision.sh installs it)"
        ));
        return;
    }
    let ws = Workspace::new();
    let s = ws.serve(&["--demo", "--demo-features", "1000", "--basemap-url", "none"]);
    let out = Command::new(&cli)
        // The document names its server (`/ogc`, and the site root for the
        // downloads) with absolute URLs from the request.
        .args(["run", &s.url("/ogc/api")])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "15",
            "--workers",
            "2",
            "--seed",
            "1",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = stdout.lines().filter(|l| l.contains("generated")).collect();
    println!("schemathesis: {summary:?}");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!summary.is_empty(), "{stdout}");
}
