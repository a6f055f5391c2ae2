//! What the server keeps in memory between requests, beside the layers
//! themselves: rendered tiles and built downloads.
//! The state owns one of each; routes use them. Each cache is keyed by
//! layer version, so a publish never serves a stale entry.

pub mod fgb;
pub mod tiles;

/// Work done on each layer version as it loads, before it is served (see
/// [`layers::Catalog::with_prepare`]): its tile overview, its temporal
/// extent and its name index for search, so that no request waits for any.
pub fn prepare(data: &layers::index::LayerData) {
    tiles::prepare(data);
    layers::query::datetime::temporal(data);
    let started = std::time::Instant::now();
    let names = layers::search::names_of(data);
    tracing::debug!(
        version = data.version.id,
        words = names.term_count(),
        ms = started.elapsed().as_millis() as u64,
        "name index made"
    );
}

pub use fgb::FgbCache;
pub use tiles::TileCache;
