//! What every request handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::path::PathBuf;

use layers::ingest::Limits;
use layers::{Catalog, Category, Store};

use crate::previews::Previews;
use crate::routes::tiles::TileCache;

/// Memory for cached vector tiles unless configured otherwise.
pub const DEFAULT_TILE_CACHE_BYTES: u64 = 256 << 20;

use crate::metrics::Metrics;

/// Settings of the HTTP API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Features per page when the request names no limit.
    pub default_limit: usize,
    /// The largest limit a request may ask for.
    pub max_limit: usize,
    /// Prefix for links in responses (e.g. `https://bsc.badungkab.go.id`);
    /// empty for links relative to the host.
    pub public_url: String,
    /// Serve `/bench/ceiling`, a fixed buffer route for benchmarks.
    pub bench_ceiling: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy
    /// that sets it).
    pub trust_forwarded_for: bool,
    /// Served over HTTPS by a proxy in front: session cookies get `Secure`.
    pub behind_tls: bool,
    /// How long a login session lasts since its last use.
    pub session_ttl: std::time::Duration,
    /// Admins and leaders need a second factor (TOTP) to log in over HTTP
    /// (`--require-totp`); API tokens are not concerned.
    pub require_totp: bool,
    /// Basemap tile URL template for the viewer (`{z}/{x}/{y}`); `None` for no basemap.
    pub basemap_url: Option<String>,
    /// Attribution shown with the basemap.
    pub basemap_attribution: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_limit: 1000,
            max_limit: 10_000,
            public_url: String::new(),
            bench_ceiling: false,
            trust_forwarded_for: false,
            behind_tls: false,
            session_ttl: std::time::Duration::from_secs(
                layers::store::accounts::DEFAULT_SESSION_HOURS * 3600,
            ),
            require_totp: false,
            basemap_url: None,
            basemap_attribution: String::new(),
        }
    }
}

/// Limits and settings of uploads and other writes.
#[derive(Debug, Clone)]
pub struct WriteConfig {
    /// Largest upload body in bytes (the file and form fields together).
    pub max_upload_bytes: u64,
    /// Limits applied while reading an upload.
    pub limits: Limits,
    /// Largest photo in bytes.
    pub max_photo_bytes: usize,
    /// Where uploads are spooled while being read (the system's temp dir if unset).
    pub upload_dir: Option<PathBuf>,
}

impl Default for WriteConfig {
    fn default() -> Self {
        WriteConfig {
            max_upload_bytes: 256 << 20,
            limits: Limits {
                max_bytes: 256 << 20,
                // What the features of one upload may take as read: a
                // zipped upload may expand (to max_uncompressed_bytes),
                // a plain one is bounded by max_bytes already.
                max_read_bytes: 1 << 30,
                max_features: 2_000_000,
                extent: Some(layers::model::REGENCY_EXTENT),
                ..Limits::default()
            },
            max_photo_bytes: 10 << 20,
            upload_dir: None,
        }
    }
}

/// Shared state of the server. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The layers being served.
    pub catalog: Arc<Catalog>,
    /// The 14 categories, read once at start (they change only by migration).
    pub categories: Arc<Vec<Category>>,
    /// API settings.
    pub config: Arc<ApiConfig>,
    /// Prometheus registry and instruments.
    pub metrics: Arc<Metrics>,
    /// Upload limits.
    pub writes: Arc<WriteConfig>,
    /// Indexes of unpublished versions being previewed.
    pub previews: Arc<Previews>,
    /// Rendered vector tiles.
    pub tiles: Arc<TileCache>,
    /// Built FlatGeobuf files of layer versions (downloads).
    pub fgb: Arc<crate::routes::download::FgbCache>,
    /// Cached facts of layer versions for the OGC API (temporal extents).
    pub ogc: Arc<crate::routes::ogc::OgcCache>,
    ready: Arc<AtomicBool>,
}

impl AppState {
    /// State over an opened store; not ready until [`AppState::set_ready`].
    pub async fn new(store: Store, config: ApiConfig) -> layers::Result<AppState> {
        let categories = store.categories().await?;
        Ok(AppState {
            store,
            catalog: Arc::new(Catalog::with_prepare(Arc::new(
                crate::routes::tiles::prepare,
            ))),
            categories: Arc::new(categories),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            writes: Arc::new(WriteConfig::default()),
            previews: Arc::new(Previews::default()),
            tiles: Arc::new(TileCache::new(DEFAULT_TILE_CACHE_BYTES)),
            fgb: Arc::new(crate::routes::download::FgbCache::new(
                crate::routes::download::DEFAULT_FGB_CACHE_BYTES,
            )),
            ogc: Arc::new(crate::routes::ogc::OgcCache::default()),
            ready: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The same state with upload settings `writes`.
    pub fn with_writes(mut self, writes: WriteConfig) -> AppState {
        self.writes = Arc::new(writes);
        self
    }

    /// The same state with a tile cache of `bytes` (0: no caching).
    pub fn with_tile_cache(mut self, bytes: u64) -> AppState {
        self.tiles = Arc::new(TileCache::new(bytes));
        self
    }

    /// Whether the layers have been loaded and requests can be answered.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Marks the server ready (after the first catalog load) or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }
}
