//! Badung Regency as it really is: its boundary and its six kecamatan
//! (vendored in `layers/data`, see the README's data sources), parsed once,
//! for the questions every part asks: is this place in the regency, and in
//! which kecamatan.

use std::sync::LazyLock;

use geo::{Contains, Geometry, Point};

/// The regency boundary, `Kabupaten Badung` (GADM 4.1, coordinates rounded to 1e-6°).
pub const BOUNDARY_GEOJSON: &str = include_str!("../data/badung-boundary.geojson");
/// The six kecamatan of Badung (GADM 4.1, coordinates rounded to 1e-6°).
pub const KECAMATAN_GEOJSON: &str = include_str!("../data/kecamatan.geojson");
/// The real regency boundary, parsed once.
static REGENCY: LazyLock<Option<Geometry<f64>>> = LazyLock::new(|| {
    let fc: geojson::FeatureCollection = BOUNDARY_GEOJSON.parse().ok()?;
    let g = fc.features.into_iter().next()?.geometry?;
    Geometry::<f64>::try_from(g).ok()
});

/// Whether (`lon`, `lat`) lies in Badung Regency (its real boundary).
pub fn in_regency(lon: f64, lat: f64) -> bool {
    lon.is_finite()
        && lat.is_finite()
        && REGENCY
            .as_ref()
            .is_some_and(|g| g.contains(&Point::new(lon, lat)))
}

/// How far outside the boundary a place may surely lie and still be taken
/// as in the regency by [`near_regency`], in degrees (about 280 m): a point
/// on a beach or a river mouth digitised a little off the coastline is not
/// "outside Badung". By the grid's cells, places up to [`REACH_DEG`] away
/// may be taken as in too.
pub const TOLERANCE_DEG: f64 = 0.0025;

/// Side of a cell of the grid [`near_regency`] looks up, in degrees.
const CELL_DEG: f64 = TOLERANCE_DEG / 4.0;

/// Cells around a point of the boundary that are marked near it: every
/// place within [`TOLERANCE_DEG`] of an edge is within this many cells of
/// one of the edge's samples (taken a cell apart).
const REACH_CELLS: usize = 5; // ceil((TOLERANCE + CELL / 2) / CELL)

/// The farthest from the boundary a place taken as near may be, in
/// degrees (about 590 m): a marked cell's far corner.
pub const REACH_DEG: f64 = std::f64::consts::SQRT_2 * (REACH_CELLS as f64 + 1.0) * CELL_DEG;

/// Which cells of a grid over the regency hold a place inside the boundary
/// or within [`TOLERANCE_DEG`] of it.
struct Grid {
    minx: f64,
    miny: f64,
    cols: usize,
    rows: usize,
    near: Vec<bool>,
}

impl Grid {
    /// Rasterises `g`: the cells whose centre row crosses its inside
    /// (scan lines over every ring, even-odd), and every cell within the
    /// tolerance of an edge (walking each edge a cell at a time). Built in
    /// milliseconds, then each lookup is one index.
    fn of(g: &Geometry<f64>) -> Option<Grid> {
        use geo::BoundingRect;
        let r = g.bounding_rect()?;
        let pad = REACH_DEG + CELL_DEG;
        let (minx, miny) = (r.min().x - pad, r.min().y - pad);
        let cols = ((r.max().x + pad - minx) / CELL_DEG).ceil() as usize;
        let rows = ((r.max().y + pad - miny) / CELL_DEG).ceil() as usize;
        let mut grid = Grid {
            minx,
            miny,
            cols,
            rows,
            near: vec![false; cols * rows],
        };
        let edges: Vec<geo::Line<f64>> = match g {
            Geometry::Polygon(p) => rings_of(std::slice::from_ref(p)),
            Geometry::MultiPolygon(m) => rings_of(&m.0),
            _ => return None,
        };
        let mut xs = Vec::new();
        for row in 0..rows {
            let y = miny + (row as f64 + 0.5) * CELL_DEG;
            xs.clear();
            for e in &edges {
                let (a, b) = (e.start, e.end);
                if (a.y > y) != (b.y > y) {
                    xs.push(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                let c0 = grid.col(pair[0]);
                let c1 = grid.col(pair[1]);
                for c in c0..=c1 {
                    grid.near[row * cols + c] = true;
                }
            }
        }
        let reach = REACH_CELLS as isize;
        for e in &edges {
            let steps = ((e.dx().hypot(e.dy()) / CELL_DEG).ceil() as usize).max(1);
            for k in 0..=steps {
                let t = k as f64 / steps as f64;
                let (x, y) = (e.start.x + t * e.dx(), e.start.y + t * e.dy());
                let (c, r) = (grid.col(x) as isize, grid.row(y) as isize);
                for dr in -reach..=reach {
                    for dc in -reach..=reach {
                        let (rr, cc) = (r + dr, c + dc);
                        if rr >= 0 && cc >= 0 && (rr as usize) < rows && (cc as usize) < cols {
                            grid.near[rr as usize * cols + cc as usize] = true;
                        }
                    }
                }
            }
        }
        Some(grid)
    }

    fn col(&self, x: f64) -> usize {
        (((x - self.minx) / CELL_DEG).floor().max(0.0) as usize).min(self.cols - 1)
    }

    fn row(&self, y: f64) -> usize {
        (((y - self.miny) / CELL_DEG).floor().max(0.0) as usize).min(self.rows - 1)
    }

    fn holds(&self, lon: f64, lat: f64) -> bool {
        let (c, r) = ((lon - self.minx) / CELL_DEG, (lat - self.miny) / CELL_DEG);
        c >= 0.0
            && r >= 0.0
            && (c as usize) < self.cols
            && (r as usize) < self.rows
            && self.near[r as usize * self.cols + c as usize]
    }
}

/// Every edge of every ring of `polygons`.
fn rings_of(polygons: &[geo::Polygon<f64>]) -> Vec<geo::Line<f64>> {
    polygons
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .collect()
}

static NEAR: LazyLock<Option<Grid>> = LazyLock::new(|| REGENCY.as_ref().and_then(Grid::of));

/// Whether (`lon`, `lat`) lies in Badung Regency or within
/// [`TOLERANCE_DEG`] of its boundary (or, by the grid's cells, up to
/// [`REACH_DEG`]): the test of the uploads' "outside the regency" warning,
/// which must not fire for a beach point drawn just off the coast.
pub fn near_regency(lon: f64, lat: f64) -> bool {
    lon.is_finite() && lat.is_finite() && NEAR.as_ref().is_some_and(|g| g.holds(lon, lat))
}

/// The six kecamatan of Badung with their boundaries, parsed once.
static KECAMATAN: LazyLock<Vec<(String, Geometry<f64>)>> = LazyLock::new(|| {
    let Ok(fc) = KECAMATAN_GEOJSON.parse::<geojson::FeatureCollection>() else {
        return Vec::new();
    };
    fc.features
        .into_iter()
        .filter_map(|f| {
            let name = f.property("kecamatan")?.as_str()?.to_owned();
            let g = Geometry::<f64>::try_from(f.geometry?).ok()?;
            Some((name, g))
        })
        .collect()
});

/// The six kecamatan, each with its name (`Kuta`, `Mengwi`, …) and boundary,
/// in the order of the vendored file (for [`crate::stats::Areas::kecamatan`]).
pub fn kecamatan_list() -> &'static [(String, Geometry<f64>)] {
    &KECAMATAN
}

/// The kecamatan (`Kuta`, `Mengwi`, …) that (`lon`, `lat`) lies in.
pub fn kecamatan(lon: f64, lat: f64) -> Option<&'static str> {
    let p = Point::new(lon, lat);
    KECAMATAN
        .iter()
        .find(|(_, g)| g.contains(&p))
        .map(|(name, _)| name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regency_holds_kuta_and_not_denpasar_or_the_sea() {
        assert!(in_regency(115.1686, -8.7184), "Kuta");
        assert!(in_regency(115.1865, -8.5409), "Mengwi");
        assert!(!in_regency(115.2625, -8.6500), "Denpasar");
        assert!(!in_regency(115.0, -9.0), "the sea");
        assert!(!in_regency(f64::NAN, -8.7));
        assert_eq!(kecamatan(115.1686, -8.7184), Some("Kuta"));
        assert_eq!(kecamatan(115.2625, -8.65), None);
    }

    #[test]
    fn near_the_regency_is_inside_or_a_few_hundred_metres_off() {
        // Inside, and Kuta beach's waterline just off the coast.
        assert!(near_regency(115.1686, -8.7184));
        assert!(near_regency(115.1865, -8.5409));
        // Denpasar (inside the regency's bounding box) and Tabanan: outside.
        assert!(!near_regency(115.2625, -8.65));
        assert!(!near_regency(115.2167, -8.6705)); // Puputan square, Denpasar
        assert!(!near_regency(115.05, -8.55)); // Tabanan, west of the Yeh Sungi
        assert!(!near_regency(115.0, -9.0));
        assert!(!near_regency(f64::NAN, -8.7));
        // The grid agrees with the exact boundary wherever the boundary is
        // farther than the tolerance (plus a cell's diagonal) away.
        use geo::Distance;
        let g = REGENCY.as_ref().unwrap();
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut inside, mut outside) = (0, 0);
        for _ in 0..6_000 {
            let (x, y) = (115.0 + next() * 0.35, -8.9 + next() * 0.75);
            let p = Point::new(x, y);
            let d = geo::Euclidean.distance(g, &p);
            if d > REACH_DEG {
                assert!(!near_regency(x, y), "({x}, {y}) is {d}° away");
                outside += 1;
            } else if g.contains(&p) || d <= TOLERANCE_DEG {
                assert!(near_regency(x, y), "({x}, {y}) is {d}° away");
                inside += 1;
            }
        }
        assert!(inside > 800 && outside > 3_000, "{inside} {outside}");
    }
}
