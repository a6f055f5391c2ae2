//! Rendered vector tiles, and the tile overview made as each layer loads.

use std::sync::Arc;

use bytes::Bytes;
use layers::LayerIndex;
use tiles::{TileId, TileOptions};

use crate::error::{ApiError, ApiResult};

/// Encoded tiles kept in memory, weighed by their bytes, and the right to
/// render one.
pub struct TileCache {
    tiles: moka::sync::Cache<String, Bytes>,
    options: TileOptions,
    /// Two permits per core. Rendering is pure CPU work: with many tiles
    /// in progress they share the cores and each takes as many times longer
    /// (a heavy tile among 32 at once took 16 times its own time, the p99
    /// of a busy server); waiting in line instead (the semaphore is fair)
    /// costs the short ones little. Two rather than one, so that a core is
    /// not left idle while a rendering thread is descheduled.
    rendering: Arc<tokio::sync::Semaphore>,
}

impl TileCache {
    /// The tile `t` of `layers` under `key` (which must change with the
    /// layers' versions and the caller's visibility class), rendered on the
    /// blocking pool the first time; empty when no feature falls in it.
    pub async fn get(
        &self,
        key: String,
        layers: Vec<Arc<LayerIndex>>,
        t: TileId,
    ) -> ApiResult<Bytes> {
        if let Some(b) = self.tiles.get(&key) {
            return Ok(b);
        }
        let opts = self.options.clone();
        let permit = self
            .rendering
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let bytes = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let named: Vec<(&str, &layers::index::LayerData)> = layers
                .iter()
                .map(|l| (l.meta.id.as_str(), &*l.data))
                .collect();
            tiles::render_tile(&named, t, &opts)
                .map(Bytes::from)
                .unwrap_or_default()
        })
        .await
        .map_err(ApiError::internal)?;
        self.tiles.insert(key, bytes.clone());
        Ok(bytes)
    }

    /// A cache holding at most `max_bytes` of tiles.
    pub fn new(max_bytes: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        TileCache {
            tiles: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &String, v: &Bytes| {
                    u32::try_from(k.len() + v.len() + 64).unwrap_or(u32::MAX)
                })
                .build(),
            options: tile_options(),
            rendering: Arc::new(tokio::sync::Semaphore::new(2 * cores)),
        }
    }
}

/// How every tile is made: what the route renders with and what the
/// overviews are made for as layers load ([`prepare`]).
fn tile_options() -> TileOptions {
    TileOptions::default()
}

/// Makes the tile overview of a layer version as it loads, before it is
/// served (see [`layers::Catalog::with_prepare`]), so that no tile request
/// waits for it.
pub fn prepare(data: &layers::index::LayerData) {
    let started = std::time::Instant::now();
    let overview = tiles::Overview::of(data, &tile_options());
    tracing::debug!(
        version = data.version.id,
        bytes = overview.heap_bytes(),
        ms = started.elapsed().as_millis() as u64,
        "tile overview made"
    );
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("entries", &self.tiles.entry_count())
            .field("bytes", &self.tiles.weighted_size())
            .finish()
    }
}
