//! Layers written once as a PMTiles v3 archive (`bsc export pmtiles`): the
//! same tiles the server renders (one tile holds every layer given, as
//! `/tiles/all/{z}/{x}/{y}` does), for static or CDN hosting and offline
//! use, read by Martin, the `pmtiles` tools and MapLibre's PMTiles
//! protocol. Written by the `pmtiles` crate (Stadia Maps, the reference
//! Rust implementation of the spec): gzip-compressed tiles, identical
//! tiles stored once, directories in tile-id order.

use std::io::{Seek, Write};

use layers::index::LayerData;
use pmtiles::{Compression, PmTilesWriter, TileCoord, TileId as PmTileId, TileType};
use serde_json::json;

use crate::options::TileOptions;
use crate::render::render_tile;
use crate::tile_id::{TileId, lat_to_world_y, lon_to_world_x};

/// One layer of an archive: its MVT layer name, data and words for the
/// metadata.
pub struct ArchiveLayer<'a> {
    /// The MVT layer name (the layer id).
    pub name: &'a str,
    /// The features.
    pub data: &'a LayerData,
    /// A description for the metadata's `vector_layers`.
    pub description: String,
}

/// What went into an archive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArchiveSummary {
    /// Tiles written (not empty), every zoom.
    pub tiles: u64,
    /// Tiles looked at (the layers' extent at each zoom).
    pub tiles_considered: u64,
    /// Bytes of tile data before compression.
    pub tile_bytes: u64,
    /// Tiles written per zoom, from `min_zoom`.
    pub per_zoom: Vec<u64>,
}

/// Writing an archive failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The zoom range is not `min <= max <= 22`.
    #[error("zoom range {0}..={1} is not valid: use 0 <= min-zoom <= max-zoom <= 22")]
    Zooms(u8, u8),
    /// No layer has features to draw.
    #[error("no layer to write: the layers named are not served or have no features")]
    Empty,
    /// The archive could not be written.
    #[error("writing the archive: {0}")]
    Write(#[from] pmtiles::PmtError),
}

/// Renders `layers` at zooms `min_zoom..=max_zoom` over their extent and
/// writes them as a PMTiles archive to `out`, with TileJSON-like metadata
/// (`name`, `description`, `attribution`, `vector_layers`). `progress` is
/// called after each zoom with the zoom and the tiles written at it.
pub fn write_pmtiles<W: Write + Seek>(
    layers: &[ArchiveLayer<'_>],
    min_zoom: u8,
    max_zoom: u8,
    attribution: &str,
    opts: &TileOptions,
    out: W,
    mut progress: impl FnMut(u8, u64),
) -> Result<ArchiveSummary, ArchiveError> {
    if min_zoom > max_zoom || max_zoom > crate::tile_id::MAX_ZOOM {
        return Err(ArchiveError::Zooms(min_zoom, max_zoom));
    }
    let bbox = layers
        .iter()
        .filter_map(|l| l.data.version.bbox)
        .reduce(|a, b| a.union(&b))
        .ok_or(ArchiveError::Empty)?;
    let [w, s, e, n] = bbox.to_array();
    let vector_layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            json!({
                "id": l.name,
                "description": l.description,
                "minzoom": min_zoom,
                "maxzoom": max_zoom,
                "fields": l.data.fields(),
            })
        })
        .collect();
    let metadata = json!({
        "name": "bsc",
        "description": "Badung Smart City",
        "attribution": attribution,
        "format": "pbf",
        "type": "overlay",
        "vector_layers": vector_layers,
    });
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .tile_compression(Compression::Gzip)
        .min_zoom(min_zoom)
        .max_zoom(max_zoom)
        .bounds(w, s, e, n)
        .center((w + e) / 2.0, (s + n) / 2.0)
        .center_zoom(min_zoom.max(max_zoom.min(12)))
        .metadata(metadata.to_string())
        .create(out)?;
    let named: Vec<(&str, &LayerData)> = layers.iter().map(|l| (l.name, l.data)).collect();
    let mut summary = ArchiveSummary {
        tiles: 0,
        tiles_considered: 0,
        tile_bytes: 0,
        per_zoom: Vec::new(),
    };
    for z in min_zoom..=max_zoom {
        // Tiles in PMTiles tile-id (Hilbert) order, as readers prefer.
        let mut coords: Vec<(u64, TileCoord)> = covering([w, s, e, n], z)
            .filter_map(|(x, y)| {
                let c = TileCoord::new(z, x, y).ok()?;
                Some((PmTileId::from(c).value(), c))
            })
            .collect();
        coords.sort_unstable_by_key(|(id, _)| *id);
        let mut written = 0;
        for (_, c) in coords {
            summary.tiles_considered += 1;
            let Ok(t) = TileId::new(c.z(), c.x(), c.y()) else {
                continue;
            };
            if let Some(bytes) = render_tile(&named, t, opts) {
                summary.tile_bytes += bytes.len() as u64;
                writer.add_tile(c, &bytes)?;
                written += 1;
            }
        }
        summary.tiles += written;
        summary.per_zoom.push(written);
        progress(z, written);
    }
    writer.finalize()?;
    Ok(summary)
}

/// The tiles at zoom `z` that `[w, s, e, n]` meets, as `(x, y)`.
fn covering(b: [f64; 4], z: u8) -> impl Iterator<Item = (u32, u32)> {
    let n = 1u64 << z;
    let max = (n - 1) as f64;
    let col = |lon: f64| (lon_to_world_x(lon) * n as f64).floor().clamp(0.0, max) as u32;
    let row = |lat: f64| (lat_to_world_y(lat) * n as f64).floor().clamp(0.0, max) as u32;
    let (x0, x1) = (col(b[0]), col(b[2]));
    let (y0, y1) = (row(b[3]), row(b[1]));
    (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_tiles_of_badung() {
        let badung = [115.08, -8.85, 115.26, -8.24];
        let z0: Vec<_> = covering(badung, 0).collect();
        assert_eq!(z0, [(0, 0)]);
        // At zoom 10 a tile is 0.35° wide: one or two columns, a few rows.
        let z10: Vec<_> = covering(badung, 10).collect();
        assert!(z10.len() >= 2 && z10.len() <= 8, "{z10:?}");
        for (x, y) in z10 {
            let t = TileId::new(10, x, y).unwrap();
            let [tw, ts, te, tn] = t.bounds_lonlat(0.0);
            assert!(te >= badung[0] && tw <= badung[2] && tn >= badung[1] && ts <= badung[3]);
        }
    }
}
