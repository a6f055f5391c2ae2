//! Facts about layer versions that the OGC routes compute once per version.

/// Cached facts about layer versions for the OGC routes.
pub struct OgcCache {
    /// Temporal extent per (version id, photo revision).
    temporal: moka::sync::Cache<(i64, i64), Option<[i64; 2]>>,
}

impl OgcCache {
    /// The temporal extent of version `key` (version id, photo revision),
    /// computed by `compute` the first time.
    pub fn temporal(
        &self,
        key: (i64, i64),
        compute: impl FnOnce() -> Option<[i64; 2]>,
    ) -> Option<[i64; 2]> {
        self.temporal.get_with(key, compute)
    }
}

impl Default for OgcCache {
    fn default() -> Self {
        OgcCache {
            temporal: moka::sync::Cache::new(1024),
        }
    }
}

impl std::fmt::Debug for OgcCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OgcCache").finish_non_exhaustive()
    }
}
