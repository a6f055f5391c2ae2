//! Regression tests for what the fuzzer (`fuzz/`) found: every input saved
//! under `tests/fixtures/fuzz/TARGET/` is read again by its reader, which
//! must answer with a report, not a panic, in reasonable time.
#![allow(clippy::unwrap_used, reason = "tests")]

use super::testing::read_path_with;
use super::{Format, Limits};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The fixtures the fuzzer left for `target`.
pub(crate) fn findings(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn readers_survive_earlier_findings() {
    let targets = [
        ("geojson", Format::GeoJson),
        ("fgb", Format::FlatGeobuf),
        ("shapefile", Format::Shapefile),
        ("kml", Format::Kml),
        ("kmz", Format::Kmz),
        ("csv", Format::Csv),
        ("gpkg", Format::GeoPackage),
    ];
    for (target, format) in targets {
        for path in findings(target) {
            let t = Instant::now();
            let (_, report) = read_path_with(&path, format, &Limits::default());
            let problems = report.errors.iter().chain(&report.warnings);
            for p in problems {
                // A message that is not UTF-8 crashes whoever reads it.
                assert!(
                    std::str::from_utf8(p.message.as_bytes()).is_ok(),
                    "{}",
                    path.display()
                );
                assert!(
                    !p.message.contains("internal error"),
                    "{}: {}",
                    path.display(),
                    p.message
                );
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{}", path.display());
        }
    }
}

#[test]
fn bbox_survives_earlier_findings() {
    for path in findings("bbox") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let _ = text.parse::<crate::bbox::Bbox>();
    }
}
