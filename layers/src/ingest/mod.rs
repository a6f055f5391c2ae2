//! Reading uploaded files into validated features.
//!
//! Readers never trust the input: every size is bounded by [`Limits`], and
//! every problem is reported with the index of the feature it belongs to,
//! so the person who uploaded the file can fix it.

pub mod collect;
pub mod geojson;
pub mod validate;

pub use collect::{Collector, Field, Report, display_name};

use serde::Serialize;
use std::fmt;

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
    /// Errors and warnings kept in detail (all are counted).
    pub max_problems: usize,
    /// The area the data is expected in (`[minx, miny, maxx, maxy]`); a
    /// feature not inside it gets a warning.
    pub extent: Option<[f64; 4]>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 << 30,
            max_features: 10_000_000,
            max_vertices: 1_000_000,
            max_properties: 1_000,
            max_properties_bytes: 1 << 20,
            max_problems: 20,
            extent: None,
        }
    }
}

/// One thing wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    /// Zero-based index of the feature in the input, when the problem is in one.
    pub feature: Option<usize>,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.feature {
            Some(i) => write!(f, "feature {i}: {}", self.message),
            None => f.write_str(&self.message),
        }
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
    /// The display name (first of `nama`, `name`, … that holds a string or number).
    pub name: Option<String>,
    /// Extent of the geometry, `None` when null or empty.
    pub bbox: Option<[f64; 4]>,
}

/// Property keys tried in order for a feature's display name.
pub const NAME_KEYS: &[&str] = &[
    "nama",
    "name",
    "Nama",
    "Name",
    "NAMA",
    "NAME",
    "nama_objek",
    "title",
    "judul",
];
