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
        let y0 = f64::from(self.y) * f64::from(extent);
        // Mercator's ordinate M(φ) = atanh(sin φ) by its Taylor series
        // about the tile's middle latitude, with (t = tan φ, s = sec φ)
        // M1 = s, M2 = s t, M3 = s (2t² + 1), M4 = s t (6t² + 5); the
        // remainder is bounded with M5 = s (24t⁴ + 28t² + 5) at the far end
        // of the reach.
        let n = f64::from(1u32 << self.z);
        let lat0 = world_y_to_lat((f64::from(self.y) + 0.5) / n).to_radians();
        let max_lat = MAX_LATITUDE.to_radians();
        let far = (lat0.abs() + 0.1).min(max_lat);
        let (t, s) = (far.tan(), 1.0 / far.cos());
        let m5 = s * (24.0 * t.powi(4) + 28.0 * t * t + 5.0);
        // Units per radian of M: the world is 2π of M high.
        let units = scale / (2.0 * PI);
        let reach = (TAYLOR_ERROR * 120.0 / (m5 * units))
            .powf(0.2)
            .min(0.1)
            .min(max_lat - lat0.abs());
        let (t, s) = (lat0.tan(), 1.0 / lat0.cos());
        let taylor = [
            lat_to_world_y(lat0.to_degrees()) * scale - y0,
            -units * s,
            -units * s * t / 2.0,
            -units * s * (2.0 * t * t + 1.0) / 6.0,
            -units * s * t * (6.0 * t * t + 5.0) / 24.0,
        ];
        Projector {
            scale,
            x0: f64::from(self.x) * f64::from(extent),
            y0,
            lat0,
            reach,
            taylor,
        }
    }
}

/// The most a latitude projected by [`Projector`]'s series may be off,
/// in tile units: below the rounding error of the exact formula at deep
/// zooms, so the series changes no tile.
const TAYLOR_ERROR: f64 = 1e-7;

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Longitude/latitude to one tile's pixel coordinates.
///
/// Latitudes near the tile (most of what it draws) go through a short
/// Taylor series instead of a sine and a logarithm each: projecting was a
/// sixth of a tile's time.
#[derive(Debug, Clone, Copy)]
pub struct Projector {
    scale: f64,
    x0: f64,
    y0: f64,
    /// The tile's middle latitude (radians) and how far from it the series
    /// holds to [`TAYLOR_ERROR`].
    lat0: f64,
    reach: f64,
    /// The tile's y at `lat0` and the series' coefficients, in tile units.
    taylor: [f64; 5],
}

impl Projector {
    /// Tile pixel coordinates of a position (may lie outside the tile).
    pub fn project(&self, lon: f64, lat: f64) -> [f64; 2] {
        let d = lat.to_radians() - self.lat0;
        let y = if d.abs() <= self.reach {
            let c = &self.taylor;
            c[0] + d * (c[1] + d * (c[2] + d * (c[3] + d * c[4])))
        } else {
            lat_to_world_y(lat) * self.scale - self.y0
        };
        [lon_to_world_x(lon) * self.scale - self.x0, y]
    }
}

/// Longitude to the Web Mercator world's x in `0..1`.
pub fn lon_to_world_x(lon: f64) -> f64 {
    (lon + 180.0) / 360.0
}

/// Latitude to the Web Mercator world's y in `0..1`, from the north.
pub fn lat_to_world_y(lat: f64) -> f64 {
    // ln(tan φ + sec φ) = atanh(sin φ) = ln_1p(2 sin φ / (1 - sin φ)) / 2:
    // one sine and one logarithm instead of a tangent, a cosine and a
    // logarithm (this runs for every vertex drawn), and exact near the
    // equator.
    let s = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians().sin();
    0.5 - (2.0 * s / (1.0 - s)).ln_1p() / (4.0 * PI)
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
        // The same as the textbook formula.
        for lat in [-85.0511, -60.0, -8.7, -1e-9, 0.0, 3e-7, 45.0, 85.0511] {
            let r = f64::to_radians(lat);
            let textbook = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / PI) / 2.0;
            assert!((lat_to_world_y(lat) - textbook).abs() < 1e-15, "{lat}");
        }
        let whole = TileId::new(0, 0, 0).unwrap().bounds_lonlat(0.0);
        assert!((whole[3] - MAX_LATITUDE).abs() < 1e-9);
    }

    /// The series agrees with the exact projection to its rounding error,
    /// over the tile, its neighbours and far away, at every zoom and
    /// latitude.
    #[test]
    fn the_series_is_as_good_as_the_formula() {
        let mut state = 3u64;
        let mut rnd = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut near = 0;
        for z in 0..=MAX_ZOOM {
            let n = 1u32 << z;
            for _ in 0..300 {
                let y = ((rnd() * f64::from(n)) as u32).min(n - 1);
                let t = TileId::new(z, 0, y).unwrap();
                let p = t.projector(4096);
                let b = t.bounds_lonlat(1.0);
                let lat = if rnd() < 0.9 {
                    b[1] + rnd() * (b[3] - b[1])
                } else {
                    rnd() * 170.0 - 85.0
                };
                let exact = lat_to_world_y(lat) * p.scale - p.y0;
                let got = p.project(0.0, lat)[1];
                // The exact formula itself is only good to its rounding,
                // which grows with the secant towards the poles.
                let sec = 1.0 / lat.to_radians().cos();
                let slack = 1e-6f64.max(p.scale * 16.0 * f64::EPSILON * sec);
                assert!(
                    (got - exact).abs() <= slack,
                    "z{z} y{y} {lat}: {got} {exact}"
                );
                near += usize::from((lat.to_radians() - p.lat0).abs() <= p.reach);
            }
        }
        assert!(near > 3000, "{near}");
    }
}
