//! Mapbox Vector Tiles for `bsc`, made from the in-memory R-tree of each
//! layer (`layers::index`), never from the database: tile math
//! ([`tile_id`]), clipping ([`clip`]), MVT encoding ([`encode`]), the
//! settings ([`options`]), the generalisation made once per layer version
//! ([`overview`]: which features low zooms draw, how much each vertex
//! matters) and the per-tile renderer ([`render`]).
#![forbid(unsafe_code)]

pub mod archive;
pub mod clip;
pub mod encode;
pub mod options;
pub mod overview;
pub mod render;
pub mod tile_id;

#[cfg(test)]
mod test_data;

pub use options::TileOptions;
pub use overview::Overview;
pub use render::render_tile;
pub use tile_id::TileId;

/// What can go wrong making a tile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tile address does not exist.
    #[error("{0}")]
    BadTile(String),
}
