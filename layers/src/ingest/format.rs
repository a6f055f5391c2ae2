//! Which reader an upload needs, from its file name, its content type or
//! its first bytes.

use std::fmt;
use std::str::FromStr;

/// An upload format `bsc` can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// GeoJSON (RFC 7946), also newline-delimited and RFC 8142 sequences.
    GeoJson,
    /// FlatGeobuf.
    FlatGeobuf,
    /// An ESRI Shapefile in a zip archive (`.shp`, `.dbf`, `.prj`, `.cpg`).
    Shapefile,
    /// KML (OGC 07-147r2).
    Kml,
    /// KMZ: a zip archive holding a KML document.
    Kmz,
    /// CSV with longitude/latitude columns or a WKT column.
    Csv,
    /// An OGC GeoPackage (SQLite).
    GeoPackage,
}

/// The first bytes of a FlatGeobuf file (`fgb`, major version 3); the last
/// byte is the patch version, which may differ.
const FGB_MAGIC: &[u8] = b"fgb\x03fgb";
/// The first bytes of every SQLite 3 database, so of every GeoPackage.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// A zip local file header.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

impl Format {
    /// Every format, in the order they are documented.
    pub const ALL: [Format; 7] = [
        Format::GeoJson,
        Format::FlatGeobuf,
        Format::Shapefile,
        Format::Kml,
        Format::Kmz,
        Format::Csv,
        Format::GeoPackage,
    ];

    /// The format's short name, as used in reports and the `format` field of
    /// an upload (`geojson`, `flatgeobuf`, `shapefile`, `kml`, `kmz`, `csv`,
    /// `geopackage`).
    pub fn name(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::FlatGeobuf => "flatgeobuf",
            Format::Shapefile => "shapefile",
            Format::Kml => "kml",
            Format::Kmz => "kmz",
            Format::Csv => "csv",
            Format::GeoPackage => "geopackage",
        }
    }

    /// Guesses the format of an upload.
    ///
    /// The file name's extension wins (people name their files correctly
    /// more often than browsers send the right content type), then the
    /// content type, then the first bytes (`head`, a few hundred are
    /// enough). A zip without a telling name is taken for a shapefile:
    /// KMZ files nearly always keep their `.kmz` extension. CSV has no magic
    /// bytes, so it is only recognised by name or content type.
    ///
    /// ```
    /// use layers::ingest::Format;
    /// assert_eq!(Format::detect(Some("jalan.KMZ"), None, b""), Some(Format::Kmz));
    /// assert_eq!(Format::detect(None, Some("text/csv; charset=utf-8"), b""), Some(Format::Csv));
    /// assert_eq!(Format::detect(None, None, b"  {\"type\":"), Some(Format::GeoJson));
    /// assert_eq!(Format::detect(Some("data.bin"), None, b"SQLite format 3\0"), Some(Format::GeoPackage));
    /// assert_eq!(Format::detect(None, None, b"hello"), None);
    /// ```
    pub fn detect(
        file_name: Option<&str>,
        content_type: Option<&str>,
        head: &[u8],
    ) -> Option<Format> {
        file_name
            .and_then(Self::from_file_name)
            .or_else(|| content_type.and_then(Self::from_content_type))
            .or_else(|| Self::from_magic(head))
    }

    /// The format named by a file name's extension.
    fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.trim().to_ascii_lowercase();
        // `roads.shp.zip` and `roads.zip` are both zipped shapefiles.
        let ext = lower.rsplit_once('.')?.1;
        Some(match ext {
            "geojson" | "json" | "geojsonl" | "geojsons" | "ndjson" | "jsonl" => Format::GeoJson,
            "fgb" => Format::FlatGeobuf,
            "zip" | "shz" => Format::Shapefile,
            "kml" => Format::Kml,
            "kmz" => Format::Kmz,
            "csv" | "tsv" => Format::Csv,
            "gpkg" => Format::GeoPackage,
            _ => return None,
        })
    }

    /// The format named by a MIME type (parameters such as `charset` ignored).
    fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(match essence.as_str() {
            "application/geo+json"
            | "application/geo+json-seq"
            | "application/vnd.geo+json"
            | "application/json" => Format::GeoJson,
            "application/flatgeobuf" | "application/vnd.flatgeobuf" => Format::FlatGeobuf,
            "application/zip" | "application/x-zip-compressed" | "application/x-shapefile" => {
                Format::Shapefile
            }
            "application/vnd.google-earth.kml+xml" => Format::Kml,
            "application/vnd.google-earth.kmz" => Format::Kmz,
            "text/csv" | "application/csv" | "text/tab-separated-values" => Format::Csv,
            "application/geopackage+sqlite3" | "application/x-sqlite3" => Format::GeoPackage,
            _ => return None,
        })
    }

    /// The format told by the first bytes of the file.
    fn from_magic(head: &[u8]) -> Option<Format> {
        if head.starts_with(FGB_MAGIC) {
            return Some(Format::FlatGeobuf);
        }
        if head.starts_with(SQLITE_MAGIC) {
            return Some(Format::GeoPackage);
        }
        if head.starts_with(ZIP_MAGIC) {
            return Some(Format::Shapefile);
        }
        let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let start = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(&[][..], |i| &text[i..]);
        match start.first() {
            // RS starts an RFC 8142 GeoJSON text sequence.
            Some(b'{' | 0x1e) => Some(Format::GeoJson),
            Some(b'<') if start.starts_with(b"<?xml") || starts_with_kml(start) => {
                Some(Format::Kml)
            }
            _ => None,
        }
    }
}

/// Whether XML text opens with a `kml` element (with or without a prefix).
fn starts_with_kml(start: &[u8]) -> bool {
    let tag: Vec<u8> = start
        .iter()
        .skip(1)
        .take_while(|b| !b.is_ascii_whitespace() && **b != b'>')
        .copied()
        .collect();
    tag.eq_ignore_ascii_case(b"kml") || tag.to_ascii_lowercase().ends_with(b":kml")
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format {0:?}; expected one of geojson, flatgeobuf, shapefile, kml, kmz, csv, geopackage"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses a name returned by [`Format::name`] (case-insensitive; `fgb`,
    /// `shp` and `gpkg` are accepted too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "geojson" | "json" => Format::GeoJson,
            "flatgeobuf" | "fgb" => Format::FlatGeobuf,
            "shapefile" | "shp" => Format::Shapefile,
            "kml" => Format::Kml,
            "kmz" => Format::Kmz,
            "csv" => Format::Csv,
            "geopackage" | "gpkg" => Format::GeoPackage,
            _ => return Err(UnknownFormat(s.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert!("dxf".parse::<Format>().is_err());
    }

    #[test]
    fn extension_wins_over_content_type_and_magic() {
        let d = Format::detect;
        assert_eq!(
            d(Some("a.csv"), Some("application/json"), b"{"),
            Some(Format::Csv)
        );
        assert_eq!(d(Some("a.shp.zip"), None, b""), Some(Format::Shapefile));
        assert_eq!(d(Some("a.GPKG"), None, b""), Some(Format::GeoPackage));
        assert_eq!(d(Some("a.fgb"), None, b""), Some(Format::FlatGeobuf));
        assert_eq!(
            d(Some("noext"), Some("application/vnd.google-earth.kmz"), b""),
            Some(Format::Kmz)
        );
    }

    #[test]
    fn magic_bytes() {
        let d = |h: &[u8]| Format::detect(None, None, h);
        assert_eq!(d(b"fgb\x03fgb\x01rest"), Some(Format::FlatGeobuf));
        assert_eq!(d(b"PK\x03\x04...."), Some(Format::Shapefile));
        assert_eq!(d(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>"), Some(Format::Kml));
        assert_eq!(
            d(b"<kml xmlns=\"http://www.opengis.net/kml/2.2\">"),
            Some(Format::Kml)
        );
        assert_eq!(d(b"\x1e{\"type\":\"Feature\"}"), Some(Format::GeoJson));
        assert_eq!(d(b"lon,lat\n1,2\n"), None);
        assert_eq!(d(b""), None);
    }
}
