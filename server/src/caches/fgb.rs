//! Built download files of layer versions: FlatGeobuf, CSV and XLSX.

use std::sync::Arc;

use bytes::Bytes;
use layers::LayerIndex;

use crate::error::{ApiError, ApiResult};

/// The formats of built download files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Built {
    /// FlatGeobuf with its spatial index.
    Fgb,
    /// CSV ([`layers::export::csv`]).
    Csv,
    /// XLSX ([`layers::export::xlsx`]).
    Xlsx,
}

/// Built files per (layer version id, photo revision, format): a
/// published version's features never change, and the photo revision
/// changes with the `photos` property the files carry.
pub struct FgbCache {
    files: moka::sync::Cache<(i64, i64, Built), Bytes>,
}

impl FgbCache {
    /// A cache holding up to about `max_bytes` of files.
    pub fn new(max_bytes: u64) -> FgbCache {
        FgbCache {
            files: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_: &(i64, i64, Built), v: &Bytes| {
                    u32::try_from(v.len()).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The FlatGeobuf of `layer`'s version (see [`FgbCache::file`]).
    pub async fn get(&self, layer: Arc<LayerIndex>) -> ApiResult<Bytes> {
        self.file(layer, Built::Fgb).await
    }

    /// The file of `layer`'s version in `format`, built on the blocking
    /// pool the first time (concurrent requests wait for the one build).
    /// A layer a format cannot hold (an XLSX of more rows than a sheet
    /// has) is a 400 problem.
    pub async fn file(&self, layer: Arc<LayerIndex>, format: Built) -> ApiResult<Bytes> {
        let key = (layer.data.version.id, layer.data.version.photos_rev, format);
        if let Some(b) = self.files.get(&key) {
            return Ok(b);
        }
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || {
            files.try_get_with(key, || {
                let data = &layer.data;
                let mut out = Vec::new();
                match format {
                    Built::Fgb => {
                        let all: Vec<u32> = (0..data.len() as u32).collect();
                        layers::export::fgb::write(data, &all, &layer.meta.id, &mut out)?;
                    }
                    Built::Csv => layers::export::csv::write(data, &mut out)?,
                    Built::Xlsx => out = layers::export::xlsx::write(data, &layer.meta.id)?,
                }
                Ok::<_, layers::Error>(Bytes::from(out))
            })
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match &*e {
            layers::Error::BadRequest(m) => ApiError::bad_request("invalid-parameter", m.clone()),
            other => ApiError::internal(other.to_string()),
        })
    }
}

impl std::fmt::Debug for FgbCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FgbCache")
            .field("files", &self.files.entry_count())
            .finish()
    }
}
