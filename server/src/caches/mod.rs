//! What the server keeps in memory between requests, beside the layers
//! themselves: rendered tiles, built downloads and facts for the OGC API.
//! The state owns one of each; routes use them. Each cache is keyed by
//! layer version, so a publish never serves a stale entry.

pub mod fgb;
pub mod ogc;
pub mod tiles;

pub use fgb::FgbCache;
pub use ogc::OgcCache;
pub use tiles::TileCache;
