//! Tile addresses in the Web Mercator (EPSG:3857) tile matrix used by
//! every web map: zoom `z`, column `x` from the antimeridian eastward, row
//! `y` from the north.

use std::f64::consts::PI;
use std::fmt;

use crate::Error;

/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 22;

/// Web Mercator stops at this latitude (the square world's edge).
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// One tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom level, 0 to [`MAX_ZOOM`].
    pub z: u8,
    /// Column, 0 to 2^z - 1.
    pub x: u32,
    /// Row, 0 to 2^z - 1, from the north.
    pub y: u32,
}

impl TileId {
    /// A tile, if the address exists.
    pub fn new(z: u8, x: u32, y: u32) -> Result<TileId, Error> {
        if z > MAX_ZOOM {
            return Err(Error::BadTile(format!(
                "zoom {z} is deeper than the maximum {MAX_ZOOM}"
            )));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(Error::BadTile(format!(
                "tile {z}/{x}/{y} does not exist: x and y go from 0 to {} at zoom {z}",
                n - 1
            )));
        }
        Ok(TileId { z, x, y })
    }

    /// The tile's extent in longitude/latitude, `[west, south, east, north]`,
    /// grown on every side by `buffer` (a fraction of the tile's width).
    pub fn bounds_lonlat(&self, buffer: f64) -> [f64; 4] {
        let n = f64::from(1u32 << self.z);
        let x0 = (f64::from(self.x) - buffer) / n;
        let x1 = (f64::from(self.x) + 1.0 + buffer) / n;
        let y0 = (f64::from(self.y) - buffer) / n;
        let y1 = (f64::from(self.y) + 1.0 + buffer) / n;
        [
            world_x_to_lon(x0).max(-180.0),
            world_y_to_lat(y1),
            world_x_to_lon(x1).min(180.0),
            world_y_to_lat(y0),
        ]
    }

    /// A projection of longitude/latitude into this tile's pixel space of
    /// `extent` units a side (y down).
    pub fn projector(&self, extent: u32) -> Projector {
        let scale = f64::from(1u32 << self.z) * f64::from(extent);
        Projector {
            scale,
            x0: f64::from(self.x) * f64::from(extent),
            y0: f64::from(self.y) * f64::from(extent),
        }
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Longitude/latitude to one tile's pixel coordinates.
#[derive(Debug, Clone, Copy)]
pub struct Projector {
    scale: f64,
    x0: f64,
    y0: f64,
}

impl Projector {
    /// Tile pixel coordinates of a position (may lie outside the tile).
    pub fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        [
            lon_to_world_x(lon) * self.scale - self.x0,
            lat_to_world_y(lat) * self.scale - self.y0,
        ]
    }
}

/// Longitude to the Web Mercator world's x in `0..1`.
pub fn lon_to_world_x(lon: f64) -> f64 {
    (lon + 180.0) / 360.0
}

/// Latitude to the Web Mercator world's y in `0..1`, from the north.
pub fn lat_to_world_y(lat: f64) -> f64 {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0
}

fn world_x_to_lon(x: f64) -> f64 {
    x * 360.0 - 180.0
}

fn world_y_to_lat(y: f64) -> f64 {
    let n = PI * (1.0 - 2.0 * y);
    n.sinh().atan().to_degrees().clamp(-90.0, 90.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert!(TileId::new(3, 7, 7).is_ok());
        assert!(TileId::new(3, 8, 0).is_err());
        assert!(TileId::new(23, 0, 0).is_err());
        assert!(TileId::new(22, (1 << 22) - 1, 0).is_ok());
    }

    #[test]
    fn bounds_and_projection_agree() {
        // The tile over Kuta, Bali at zoom 14 (y = (1 - asinh(tan(lat))/pi)/2 * 2^z = 8590.3).
        let lon = 115.1689;
        let lat = -8.7184;
        let n = f64::from(1u32 << 14);
        let x = (lon_to_world_x(lon) * n).floor() as u32;
        let y = (lat_to_world_y(lat) * n).floor() as u32;
        assert_eq!((x, y), (13433, 8590));
        let t = TileId::new(14, x, y).unwrap();
        let b = t.bounds_lonlat(0.0);
        assert!(
            b[0] <= lon && lon <= b[2] && b[1] <= lat && lat <= b[3],
            "{b:?}"
        );
        let p = t.projector(4096);
        let [px, py] = p.project(lon, lat);
        assert!((0.0..4096.0).contains(&px) && (0.0..4096.0).contains(&py));
        let [wx, ny] = p.project(b[0], b[3]);
        assert!(wx.abs() < 1e-6 && ny.abs() < 1e-6, "{wx} {ny}");
        let [ex, sy] = p.project(b[2], b[1]);
        assert!((ex - 4096.0).abs() < 1e-6 && (sy - 4096.0).abs() < 1e-6);
        let whole = TileId::new(0, 0, 0).unwrap().bounds_lonlat(0.0);
        assert!((whole[3] - MAX_LATITUDE).abs() < 1e-9);
    }
}
