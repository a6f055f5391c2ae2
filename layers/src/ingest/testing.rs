//! Helpers for the format readers' tests.

use std::path::{Path, PathBuf};

use super::{Collector, Format, Limits, ParsedFeature, Report, read_path};

/// The path of a fixture in `tests/fixtures/formats/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/formats")
        .join(name)
}

/// Reads a fixture with the default limits.
pub(crate) fn read_fixture(name: &str, format: Format) -> (Vec<ParsedFeature>, Report) {
    read_path_with(&fixture(name), format, &Limits::default())
}

/// Reads a file through [`read_path`], keeping every valid feature.
pub(crate) fn read_path_with(
    path: &Path,
    format: Format,
    limits: &Limits,
) -> (Vec<ParsedFeature>, Report) {
    let mut out = Vec::new();
    let mut c = Collector::new(format.name(), limits, |f| {
        out.push(f);
        Ok::<_, ()>(())
    });
    read_path(path, format, limits, &mut c);
    let report = c.finish().unwrap();
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_path_reads_geojson_and_checks_the_file_size_first() {
        let (out, r) = read_fixture("badung.geojson", Format::GeoJson);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out.len(), 6);
        assert_eq!(out[0].name.as_deref(), Some("Jalan Raya Kuta – café"));

        let limits = Limits {
            max_bytes: 100,
            ..Limits::default()
        };
        for format in Format::ALL {
            let (out, r) = read_path_with(&fixture("badung.geojson"), format, &limits);
            assert!(out.is_empty());
            assert!(
                r.errors[0].message.contains("max_bytes"),
                "{format}: {:?}",
                r.errors
            );
        }
        let (_, r) = read_path_with(
            Path::new("/nonexistent/upload"),
            Format::Kml,
            &Limits::default(),
        );
        assert!(
            r.errors[0].message.contains("cannot read the upload"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn every_fixture_is_detected_by_name_and_by_content() {
        let cases = [
            ("badung.geojson", Format::GeoJson, Some(Format::GeoJson)),
            ("badung.fgb", Format::FlatGeobuf, Some(Format::FlatGeobuf)),
            ("badung.gpkg", Format::GeoPackage, Some(Format::GeoPackage)),
            ("badung.kml", Format::Kml, Some(Format::Kml)),
            ("badung.kmz", Format::Kmz, Some(Format::Shapefile)),
            (
                "badung_points_utf8.zip",
                Format::Shapefile,
                Some(Format::Shapefile),
            ),
            ("badung_lonlat.csv", Format::Csv, None),
        ];
        for (name, by_name, by_magic) in cases {
            let head: Vec<u8> = std::fs::read(fixture(name))
                .unwrap()
                .into_iter()
                .take(512)
                .collect();
            assert_eq!(
                Format::detect(Some(name), None, &head),
                Some(by_name),
                "{name}"
            );
            assert_eq!(Format::detect(None, None, &head), by_magic, "{name}");
        }
    }
}
