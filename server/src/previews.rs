//! Indexes of unpublished versions, built on demand so that OPD staff can
//! look at a draft through the features API (`?version=N`) before
//! publishing it. Only a few are kept; published layers live in the catalog.

use std::sync::{Arc, Mutex};

use layers::index::LayerData;
use layers::model::VersionInfo;
use layers::{Store, catalog};

/// Previews kept at once; each holds a whole version in memory.
const KEPT: usize = 4;

/// A small most-recently-used set of loaded versions.
#[derive(Debug, Default)]
pub struct Previews {
    loaded: Mutex<Vec<Arc<LayerData>>>,
}

impl Previews {
    /// The index of `version` of layer `layer`, loading it if needed.
    pub async fn get(
        &self,
        store: &Store,
        layer: &str,
        version: VersionInfo,
    ) -> layers::Result<Arc<LayerData>> {
        let fresh = |d: &Arc<LayerData>| {
            d.version.id == version.id && d.version.photos_rev == version.photos_rev
        };
        if let Some(hit) = self.lock().iter().find(|d| fresh(d)).cloned() {
            return Ok(hit);
        }
        let data = Arc::new(catalog::load(store, layer, version).await?);
        let mut kept = self.lock();
        kept.retain(|d| d.version.id != data.version.id);
        kept.insert(0, data.clone());
        kept.truncate(KEPT);
        Ok(data)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<LayerData>>> {
        // A panic while holding the lock cannot leave the list half-changed.
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }
}
