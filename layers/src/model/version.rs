//! A layer's versions as listed: where each stands, its history entry,
//! and a layer as the people who manage it see it.

use std::str::FromStr;

use serde::Serialize;

use super::Visibility;
use crate::bbox::Bbox;
use crate::error::{Error, Result};

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Uploaded and valid, never published: seen by its agency and admins.
    Draft,
    /// Published at some time (the current one is the layer's `current_version`).
    Published,
    /// Uploaded with errors; kept with its report, holds no features.
    Rejected,
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Status::Draft),
            "published" => Ok(Status::Published),
            "rejected" => Ok(Status::Rejected),
            other => Err(Error::Corrupt(format!("unknown version status {other:?}"))),
        }
    }
}

/// One version in a layer's history.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    /// Version number, from 1.
    pub version: i64,
    /// Draft, published or rejected.
    pub status: Status,
    /// Whether this is the version being served.
    pub current: bool,
    /// Features stored.
    pub feature_count: i64,
    /// Geometry types present.
    pub geometry_types: Vec<String>,
    /// Extent.
    pub bbox: Option<Bbox>,
    /// File name of the upload.
    pub source_name: Option<String>,
    /// Format it was read as.
    pub format: Option<String>,
    /// Who uploaded it.
    pub created_by: Option<String>,
    /// When it was uploaded.
    pub created_at: String,
    /// When it was last made current.
    pub published_at: Option<String>,
    /// The property its features' names come from (`None`: no names).
    pub name_field: Option<String>,
}

/// A layer as the people who manage it see it, published or not.
#[derive(Debug, Clone, Serialize)]
pub struct ManagedLayer {
    /// Layer id.
    pub id: String,
    /// Category id.
    pub category: String,
    /// Indonesian title.
    pub title_id: String,
    /// English title.
    pub title_en: String,
    /// Owning agency slug.
    pub agency: Option<String>,
    /// Who may see it once published.
    pub visibility: Visibility,
    /// The version being served, if any.
    pub current_version: Option<i64>,
    /// The newest version and its status.
    pub latest_version: Option<i64>,
    /// Status of the newest version.
    pub latest_status: Option<Status>,
    /// When the layer last changed.
    pub updated_at: String,
    /// When it was hidden, if it is.
    pub deleted_at: Option<String>,
}
