//! What every request handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use layers::{Catalog, Category, Store};

use crate::backups::Backups;
use crate::caches::{FgbCache, TileCache};
use crate::change_feed::ChangeFeed;
use crate::config::{ApiConfig, Config, WriteConfig};
use crate::metrics::Metrics;
use crate::previews::Previews;
use crate::setup::SetupLink;

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
    pub fgb: Arc<FgbCache>,
    /// The change feed's fan-out to `GET /api/changes` streams.
    pub changes: Arc<ChangeFeed>,
    /// The first run's setup link (`/setup`), while no admin exists.
    pub setup: Arc<SetupLink>,
    /// The demo accounts and their passwords, shown on the sign-in page;
    /// empty unless the server runs with `--demo`.
    pub demo_accounts: Arc<Vec<layers::demo::DemoAccount>>,
    /// The backups (`--backup-dir`): settings, last success, one at a time.
    pub backups: Arc<Backups>,
    ready: Arc<AtomicBool>,
}

impl AppState {
    /// State over an opened store with `config`; not ready until
    /// [`AppState::set_ready`].
    pub async fn new(store: Store, config: Config) -> layers::Result<AppState> {
        let categories = store.categories().await?;
        let metrics = Arc::new(Metrics::new());
        Ok(AppState {
            backups: Arc::new(Backups::new(config.backups, metrics.clone())),
            store,
            catalog: Arc::new(Catalog::with_prepare(Arc::new(crate::caches::prepare))),
            categories: Arc::new(categories),
            config: Arc::new(config.api),
            metrics,
            writes: Arc::new(config.writes),
            previews: Arc::new(Previews::default()),
            tiles: Arc::new(TileCache::new(config.tile_cache_bytes)),
            fgb: Arc::new(FgbCache::new(config.fgb_cache_bytes)),
            changes: Arc::new(ChangeFeed::default()),
            setup: Arc::new(SetupLink::default()),
            demo_accounts: Arc::new(Vec::new()),
            ready: Arc::new(AtomicBool::new(false)),
        })
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
