//! What every request handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use layers::{Catalog, Category, Store};

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
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_limit: 1000,
            max_limit: 10_000,
            public_url: String::new(),
            bench_ceiling: false,
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
    ready: Arc<AtomicBool>,
}

impl AppState {
    /// State over an opened store; not ready until [`AppState::set_ready`].
    pub async fn new(store: Store, config: ApiConfig) -> layers::Result<AppState> {
        let categories = store.categories().await?;
        Ok(AppState {
            store,
            catalog: Arc::new(Catalog::new()),
            categories: Arc::new(categories),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
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
