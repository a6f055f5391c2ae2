//! How tiles are made: the settings the renderer and the overview share.

/// How tiles are made.
#[derive(Debug, Clone)]
pub struct TileOptions {
    /// Units per tile side (MVT's `extent`).
    pub extent: u32,
    /// Units drawn beyond each edge, so lines and areas join across tiles.
    pub buffer: u32,
    /// Simplification tolerance in units.
    pub tolerance: f64,
    /// Deeper than [`TileOptions::thin_max_zoom`], a layer with more
    /// points than this in one tile is thinned.
    pub dense_points: usize,
    /// When thinning, one point is kept per square cell of this many units.
    pub thin_cell: u32,
    /// Where lines and areas crowd, one (the largest) is drawn per square
    /// cell of this many units, at zooms up to
    /// [`TileOptions::thin_max_zoom`].
    pub shape_cell: u32,
    /// The deepest zoom at which crowded features are left out (points by
    /// `thin_cell`, lines and areas by `shape_cell`); deeper tiles draw
    /// every feature.
    pub thin_max_zoom: u8,
    /// Encoded bytes a tile should not exceed; coarser renderings are tried
    /// until it fits.
    pub max_bytes: usize,
}

impl Default for TileOptions {
    fn default() -> Self {
        TileOptions {
            extent: 4096,
            buffer: 64,
            tolerance: 1.0,
            dense_points: 4_000,
            thin_cell: 16,
            shape_cell: 32,
            thin_max_zoom: 12,
            max_bytes: 512 * 1024,
        }
    }
}
