//! Categories, agencies, layers, versions and features as the store keeps
//! them: the types every other module shares. It imports nothing above
//! [`crate::bbox`] and [`crate::error`].

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

use crate::bbox::Bbox;

pub mod about;
pub mod access;
pub mod change;
pub mod report;
pub mod style;
pub mod version;

/// Who may see a layer besides its own agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everybody, without logging in.
    Public,
    /// Regency leaders, administrators and the owning agency only.
    Internal,
}

impl Visibility {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Visibility::Public),
            "internal" => Ok(Visibility::Internal),
            other => Err(format!(
                "visibility must be 'public' or 'internal', not {other:?}"
            )),
        }
    }
}

/// One of the 14 BSC map categories (seeded by migration, stable ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Category {
    /// Stable id, e.g. `places-of-worship`.
    pub id: String,
    /// Indonesian title.
    pub title_id: String,
    /// English title.
    pub title_en: String,
    /// Icon name the viewer maps to a symbol.
    pub icon: String,
    /// Display colour as `#rrggbb`.
    pub color: String,
}

/// A government agency (OPD) that owns layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agency {
    /// Slug id, e.g. `dinas-pupr`.
    pub id: String,
    /// Display name, e.g. `Dinas PUPR`.
    pub name: String,
}

/// What a layer is, independent of the features of any version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerMeta {
    /// Slug id used in URLs.
    pub id: String,
    /// Category id.
    pub category: String,
    /// Indonesian title.
    pub title_id: String,
    /// English title.
    pub title_en: String,
    /// Owning agency, if any.
    pub agency: Option<Agency>,
    /// Who may see it.
    pub visibility: Visibility,
    /// Last change of the layer row (RFC 3339, UTC).
    pub updated_at: String,
    /// What the layer is about (description, source, licence, …), as
    /// its current version says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<about::LayerAbout>,
    /// How the layer is drawn, as its current version says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<style::LayerStyle>,
}

/// Facts about one stored version of a layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionInfo {
    /// Database id of the version row.
    #[serde(skip)]
    pub id: i64,
    /// Version number within the layer, from 1.
    pub version: i64,
    /// Number of features.
    pub feature_count: i64,
    /// Geometry types present, e.g. `["Point"]`.
    pub geometry_types: Vec<String>,
    /// Extent of all geometries, if any.
    pub bbox: Option<Bbox>,
    /// When the version was created (RFC 3339, UTC).
    pub created_at: String,
    /// The layer's photo revision plus the version's edits (a draft edited
    /// in place) the features were loaded with: photos appear in the
    /// features' properties, so a change of either reloads the layer.
    #[serde(skip)]
    pub photos_rev: i64,
}

/// One stored feature as the index loads it.
#[derive(Debug, Clone)]
pub struct FeatureRow {
    /// Id as URLs name it.
    pub fid: String,
    /// Id as JSON.
    pub fid_json: String,
    /// Geometry object as JSON, if any.
    pub geometry: Option<String>,
    /// Properties object as JSON.
    pub properties: String,
    /// Display name, if any.
    pub name: Option<String>,
    /// Extent of the geometry, if any.
    pub bbox: Option<[f64; 4]>,
}

/// A published layer as the catalog loads it.
#[derive(Debug, Clone)]
pub struct PublishedLayer {
    /// What the layer is.
    pub meta: LayerMeta,
    /// Its current version.
    pub version: VersionInfo,
    /// The property that version's feature names come from (`None`: no
    /// names); a change reloads the layer.
    pub name_field: Option<String>,
}

/// The Badung regency's extent with a margin of about 5 km
/// (`[minx, miny, maxx, maxy]`): uploaded features outside it get a warning.
pub const REGENCY_EXTENT: [f64; 4] = [115.03, -8.90, 115.30, -8.19];

/// What to call a new or replaced layer when importing.
#[derive(Debug, Clone)]
pub struct LayerSpec {
    /// Slug id.
    pub id: String,
    /// Category id; must be one of the seeded categories.
    pub category: String,
    /// Indonesian title (defaults to the id).
    pub title_id: Option<String>,
    /// English title (defaults to the Indonesian title).
    pub title_en: Option<String>,
    /// Owning agency display name.
    pub agency: Option<String>,
    /// Who may see it; `None` keeps an existing layer's visibility (new
    /// layers are public).
    pub visibility: Option<Visibility>,
    /// Name of the source file, kept with the version.
    pub source_name: Option<String>,
    /// What the layer is about; `None` keeps what the layer says.
    pub about: Option<about::LayerAbout>,
    /// How the layer is drawn; `None` keeps the layer's style.
    pub style: Option<style::LayerStyle>,
}

impl LayerSpec {
    /// The same spec drawn with `style`.
    pub fn with_style(mut self, style: style::LayerStyle) -> LayerSpec {
        self.style = Some(style);
        self
    }

    /// The same spec saying `about`.
    pub fn with_about(mut self, about: about::LayerAbout) -> LayerSpec {
        self.about = Some(about);
        self
    }
}

/// Checks that `id` is a usable layer slug: 1–64 of `a-z`, `0-9`, `-`, `_`,
/// starting with a letter or digit. Slugs appear in URLs and file names, so
/// nothing else is accepted.
pub fn check_slug(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "layer id {id:?} is not a slug: use 1-64 characters a-z, 0-9, '-' or '_', starting with a letter or digit"
        ))
    }
}

/// Turns an agency name into its slug id (`Dinas PUPR` → `dinas-pupr`).
pub fn agency_slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(check_slug("pura").is_ok());
        assert!(check_slug("lampu-jalan_2").is_ok());
        assert!(check_slug("").is_err());
        assert!(check_slug("-x").is_err());
        assert!(check_slug("../etc").is_err());
        assert!(check_slug("Pura").is_err());
        assert!(check_slug(&"a".repeat(65)).is_err());
    }

    #[test]
    fn agency_slugs() {
        assert_eq!(agency_slug("Dinas PUPR"), "dinas-pupr");
        assert_eq!(
            agency_slug("  Dinas Koperasi & UMKM "),
            "dinas-koperasi-umkm"
        );
        assert_eq!(agency_slug("ÄÖ"), "");
    }

    #[test]
    fn visibility_round_trip() {
        for v in [Visibility::Public, Visibility::Internal] {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(v));
        }
        assert!("secret".parse::<Visibility>().is_err());
    }
}
