//! Built FlatGeobuf files of layer versions, for downloads.

use std::sync::Arc;

use bytes::Bytes;
use layers::LayerIndex;

use crate::error::{ApiError, ApiResult};

/// Built FlatGeobuf files per (layer version id, photo revision).
pub struct FgbCache {
    files: moka::sync::Cache<(i64, i64), Bytes>,
}

impl FgbCache {
    /// A cache holding up to about `max_bytes` of files.
    pub fn new(max_bytes: u64) -> FgbCache {
        FgbCache {
            files: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_: &(i64, i64), v: &Bytes| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }

    /// The FlatGeobuf of `layer`'s version, built on the blocking pool the
    /// first time (concurrent requests wait for the one build).
    pub async fn get(&self, layer: Arc<LayerIndex>) -> ApiResult<Bytes> {
        let key = (layer.data.version.id, layer.data.version.photos_rev);
        if let Some(b) = self.files.get(&key) {
            return Ok(b);
        }
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || {
            files.try_get_with(key, || {
                let all: Vec<u32> = (0..layer.data.len() as u32).collect();
                let mut out = Vec::new();
                layers::export::fgb::write(&layer.data, &all, &layer.meta.id, &mut out)
                    .map(|()| Bytes::from(out))
            })
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(e.to_string()))
    }
}

impl std::fmt::Debug for FgbCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FgbCache")
            .field("files", &self.files.entry_count())
            .finish()
    }
}
