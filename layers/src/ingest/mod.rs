//! Reading uploaded files into validated features.
//!
//! Readers never trust the input: every size is bounded by [`Limits`], and
//! every problem is reported with the index of the feature it belongs to,
//! so the person who uploaded the file can fix it.

mod archive;
pub mod collect;
pub mod csv;
pub mod fgb;
pub mod format;
#[cfg(test)]
mod fuzzed;
pub mod geojson;
pub(crate) mod geometry;
pub mod gpkg;
pub mod kml;
pub mod name_field;
pub mod reproject;
pub mod shp;
#[cfg(test)]
mod testing;
pub mod validate;
pub mod validity;

pub use collect::{Collector, Field, Report};
pub use format::{Format, UnknownFormat};
pub use name_field::{NameKeys, TextStats};

use serde::Serialize;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::text::Lang;

/// Bounds on what one input may hold. Exceeding one is a problem naming it.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes read from the input in all.
    pub max_bytes: u64,
    /// Features in one input.
    pub max_features: usize,
    /// Positions in one feature's geometry.
    pub max_vertices: usize,
    /// Properties of one feature.
    pub max_properties: usize,
    /// Bytes of one feature's properties, encoded as JSON.
    pub max_properties_bytes: usize,
    /// Bytes of one feature as read from the input, geometry and values
    /// together (a CSV record, a GeoPackage row, a FlatGeobuf feature, a
    /// shapefile record and its .dbf record, a KML `Placemark`'s text, a
    /// GeoJSON feature's text), counted before they are copied: a larger
    /// feature is refused without being held in memory.
    pub max_feature_bytes: usize,
    /// Bytes of all features read from one input, counted the same way:
    /// bounds what a small input can make a reader produce (values SQLite
    /// would compute, archives that expand).
    pub max_read_bytes: u64,
    /// Errors and warnings kept in detail (all are counted).
    pub max_problems: usize,
    /// The area the data is expected in (`[minx, miny, maxx, maxy]`); a
    /// feature not inside it gets a warning.
    pub extent: Option<[f64; 4]>,
    /// Whether a feature with a position outside Badung Regency (its real
    /// boundary, with [`crate::regency::TOLERANCE_DEG`]) gets a warning.
    pub regency: bool,
    /// Entries in one zip archive (zipped shapefile, KMZ).
    pub max_zip_entries: usize,
    /// Bytes decompressed from one zip archive in all, counted while
    /// decompressing (declared sizes are not trusted).
    pub max_uncompressed_bytes: u64,
    /// How many times its own size a zip archive may expand to (past the
    /// first MiB): more is taken for a zip bomb.
    pub max_compression_ratio: u64,
    /// Element nesting in XML (KML) documents.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 << 30,
            max_features: 10_000_000,
            max_vertices: 1_000_000,
            max_properties: 1_000,
            max_properties_bytes: 1 << 20,
            // A geometry of `max_vertices` positions is 16 MB as WKB and
            // about as much again as WKT.
            max_feature_bytes: 32 << 20,
            max_read_bytes: 8 << 30,
            max_problems: 20,
            extent: None,
            regency: false,
            max_zip_entries: 1_000,
            max_uncompressed_bytes: 1 << 30,
            max_compression_ratio: 100,
            max_depth: 64,
        }
    }
}

/// Counts the bytes a reader takes from its input for the feature being
/// read and for the whole input, against [`Limits::max_feature_bytes`] and
/// [`Limits::max_read_bytes`]. Readers charge a value's size before they
/// copy it.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    feature: usize,
    total: u64,
    max_feature: usize,
    max_total: u64,
}

/// Why a [`Budget`] refused bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Overrun {
    /// One feature is too large: an error in that feature.
    #[error("takes more than {0} bytes in the file (limit max_feature_bytes)")]
    Feature(usize),
    /// The input holds too much in all: reading must stop.
    #[error("the features read take more than {0} bytes in all (limit max_read_bytes)")]
    Input(u64),
}

impl Budget {
    /// A budget for one input.
    pub(crate) fn new(limits: &Limits) -> Self {
        Budget {
            feature: 0,
            total: 0,
            max_feature: limits.max_feature_bytes,
            max_total: limits.max_read_bytes,
        }
    }

    /// Starts counting a new feature.
    pub(crate) fn next_feature(&mut self) {
        self.feature = 0;
    }

    /// Counts `bytes` more of the current feature. Bytes that overrun are
    /// not counted in the total, so that one refused feature does not use
    /// up the input's budget.
    pub(crate) fn take(&mut self, bytes: usize) -> Result<(), Overrun> {
        let feature = self.feature.saturating_add(bytes);
        if feature > self.max_feature {
            return Err(Overrun::Feature(self.max_feature));
        }
        let total = self.total.saturating_add(bytes as u64);
        if total > self.max_total {
            return Err(Overrun::Input(self.max_total));
        }
        self.feature = feature;
        self.total = total;
        Ok(())
    }

    /// The most bytes the current feature may still take.
    pub(crate) fn feature_room(&self) -> usize {
        let by_total =
            usize::try_from(self.max_total.saturating_sub(self.total)).unwrap_or(usize::MAX);
        self.max_feature.saturating_sub(self.feature).min(by_total)
    }
}

/// One thing wrong with the input, said to people in both languages about
/// the feature by its number (from 1), id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    /// Zero-based index of the feature in the input, when the problem is in
    /// one (for programs; people are shown [`Problem::number`]).
    pub feature: Option<usize>,
    /// The feature's number in the input, counted from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<usize>,
    /// The feature's id, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fid: Option<String>,
    /// The feature's name, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What is wrong and what to do, in English.
    pub message: String,
    /// The same in Indonesian.
    #[serde(default)]
    pub message_id: String,
}

impl Problem {
    /// The problem in `lang`, naming its feature: "objek no. 4 (id 17,
    /// Pura Dalem): …" / "feature 4 (id 17, Pura Dalem): …".
    pub fn said(&self, lang: Lang) -> String {
        let message = match lang {
            Lang::Id if !self.message_id.is_empty() => &self.message_id,
            _ => &self.message,
        };
        let Some(n) = self.number.or(self.feature.map(|i| i + 1)) else {
            return message.clone();
        };
        let word = match lang {
            Lang::Id => format!("objek no. {n}"),
            Lang::En => format!("feature {n}"),
        };
        let label: Vec<String> = [
            self.fid.as_ref().map(|f| format!("id {f}")),
            self.name.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if label.is_empty() {
            format!("{word}: {message}")
        } else {
            format!("{word} ({}): {message}", label.join(", "))
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.said(Lang::En))
    }
}

/// A validated feature ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeature {
    /// The id as URLs name it.
    pub fid: String,
    /// The id as JSON (a number or a string), as written in the input or generated.
    pub fid_json: String,
    /// The RFC 7946 geometry object as compact JSON, `None` for a null geometry.
    pub geometry: Option<String>,
    /// The geometry type, `None` for a null geometry.
    pub geometry_type: Option<&'static str>,
    /// The properties as compact JSON (`{...}` or `null`).
    pub properties: String,
    /// The display name: the value of the feature's best name key (see
    /// [`name_field`]), a string or a number; recomputed after reading
    /// when the layer's name field turns out to be another.
    pub name: Option<String>,
    /// Extent of the geometry, `None` when null or empty.
    pub bbox: Option<[f64; 4]>,
}

/// Keys that name features whatever their case (see [`name_field`] for
/// the rules: `nama` and `name` first, then `nama_*`, `*_name`, and the
/// others here: `title`, `judul`, and the RBI maps' `namobj`).
pub const NAME_KEYS: &[&str] = &["nama", "name", "nama_objek", "title", "judul", "namobj"];

/// Reads the upload spooled at `path` as `format` into `collector`.
///
/// Uploads are written to a temporary file first because GeoPackages and
/// zip archives need random access. This blocks (file I/O, decompression,
/// SQLite), so call it from a blocking thread (`spawn_blocking`). Every
/// failure, from a missing file to a broken feature, ends up in the
/// collector's report as a one-line problem; nothing is returned and
/// nothing panics: a panic inside a reader is caught and reported as a
/// fatal problem so that one bad file cannot take the server down.
/// [`Limits::max_bytes`] applies to the file as it is on disk.
pub fn read_path<F, E>(
    path: &Path,
    format: Format,
    limits: &Limits,
    collector: &mut Collector<'_, F, E>,
) where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => return collector.fatal(format!("cannot read the upload: {e}")),
    };
    if size > limits.max_bytes {
        return collector.fatal(format!(
            "input is larger than {} bytes (limit max_bytes)",
            limits.max_bytes
        ));
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| match format {
        Format::GeoJson => match std::fs::File::open(path) {
            Ok(file) => geojson::read_into(file, limits, collector),
            Err(e) => collector.fatal(format!("cannot open the upload: {e}")),
        },
        Format::FlatGeobuf => fgb::read_path(path, limits, collector),
        Format::Shapefile => shp::read_path(path, limits, collector),
        Format::Kml => kml::read_kml(path, limits, collector),
        Format::Kmz => kml::read_kmz(path, limits, collector),
        Format::Csv => csv::read_path(path, limits, collector),
        Format::GeoPackage => gpkg::read_path(path, limits, collector),
    }));
    if outcome.is_err() {
        tracing::error!(path = %path.display(), %format, "reader panicked");
        collector.fatal(format!(
            "the {format} file could not be read (internal error); please report this file to the administrators"
        ));
    }
}
