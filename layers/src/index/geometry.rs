//! Feature geometry as the index keeps it: every vertex of a layer in one
//! flat array, cut into runs (point sets, lines, rings), with the exact
//! test of a run against a query box.

use geo::{Coord, Intersects, Rect, coord};
use geojson::GeometryValue;

use crate::error::{Error, Result};

/// What a run of a feature's coordinates is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// Separate points (a MultiPoint).
    Points,
    /// A polyline.
    Line,
    /// The exterior ring of a polygon; the `Hole`s after it belong to it.
    Shell,
    /// An interior ring of the polygon whose `Shell` came last.
    Hole,
}

/// One run of vertices in a layer's flat coordinate array.
#[derive(Debug, Clone, Copy)]
pub(super) struct Part {
    pub(super) start: u32,
    pub(super) len: u32,
    pub(super) kind: PartKind,
}

/// Whether a flat geometry meets the closed box `r`, given that their
/// envelopes intersect (the R-tree checked that). A polygon meets the box
/// when one of its edges does (which covers a polygon inside the box) or,
/// failing that, when the box lies inside it: then so does its corner.
pub(super) fn parts_meet(coords: &[Coord<f64>], parts: &[Part], r: &Rect<f64>) -> bool {
    let run = |p: &Part| &coords[p.start as usize..(p.start + p.len) as usize];
    let mut i = 0;
    while i < parts.len() {
        let p = &parts[i];
        match p.kind {
            PartKind::Points => {
                if run(p).iter().any(|c| outcode(c, r) == 0) {
                    return true;
                }
            }
            PartKind::Line => {
                if line_meets(run(p), r) {
                    return true;
                }
            }
            PartKind::Shell | PartKind::Hole => {
                let end = i
                    + 1
                    + parts[i + 1..]
                        .iter()
                        .take_while(|q| q.kind == PartKind::Hole)
                        .count();
                let rings = &parts[i..end];
                if rings.iter().any(|q| line_meets(run(q), r)) {
                    return true;
                }
                // Even-odd over shell and holes: a corner in a hole is outside.
                let corner = r.min();
                if rings.iter().filter(|q| crosses(run(q), corner)).count() % 2 == 1 {
                    return true;
                }
                i = end;
                continue;
            }
        }
        i += 1;
    }
    false
}

/// Whether a ray from `c` towards +x crosses the ring an odd number of times.
fn crosses(ring: &[Coord<f64>], c: Coord<f64>) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > c.y) != (b.y > c.y) && c.x < (b.x - a.x) * (c.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
    }
    inside
}

/// Cohen–Sutherland region code of `c` against the closed box `r`:
/// 0 inside (edges included), else a bit per side it lies beyond.
fn outcode(c: &geo::Coord<f64>, r: &Rect<f64>) -> u8 {
    let (lo, hi) = (r.min(), r.max());
    u8::from(c.x < lo.x)
        | u8::from(c.x > hi.x) << 1
        | u8::from(c.y < lo.y) << 2
        | u8::from(c.y > hi.y) << 3
}

/// Whether a polyline meets the box. Most segments are settled by their
/// end points' region codes (one inside: yes; both beyond the same side:
/// no); only the rest go to geo's exact segment test.
fn line_meets(coords: &[geo::Coord<f64>], r: &Rect<f64>) -> bool {
    let Some(first) = coords.first() else {
        return false;
    };
    let mut prev = (*first, outcode(first, r));
    if prev.1 == 0 {
        return true;
    }
    for c in &coords[1..] {
        let code = outcode(c, r);
        if code == 0 {
            return true;
        }
        if prev.1 & code == 0 && r.intersects(&geo::Line::new(prev.0, *c)) {
            return true;
        }
        prev = (*c, code);
    }
    false
}

/// Appends a GeoJSON geometry's vertices (x, y: the tests are 2D, heights
/// stay in the encoded GeoJSON) and its runs.
pub(super) fn flatten(
    g: &GeometryValue,
    coords: &mut Vec<Coord<f64>>,
    parts: &mut Vec<Part>,
) -> Result<()> {
    fn run(
        positions: &[geojson::Position],
        kind: PartKind,
        coords: &mut Vec<Coord<f64>>,
        parts: &mut Vec<Part>,
    ) -> Result<()> {
        let start = u32::try_from(coords.len())
            .map_err(|_| Error::Corrupt("more than 2^32 vertices in a layer".into()))?;
        coords.extend(positions.iter().map(|p| coord! { x: p[0], y: p[1] }));
        parts.push(Part {
            start,
            len: positions.len() as u32,
            kind,
        });
        Ok(())
    }
    fn polygon(
        rings: &[Vec<geojson::Position>],
        coords: &mut Vec<Coord<f64>>,
        parts: &mut Vec<Part>,
    ) -> Result<()> {
        for (i, ring) in rings.iter().enumerate() {
            run(
                ring,
                if i == 0 {
                    PartKind::Shell
                } else {
                    PartKind::Hole
                },
                coords,
                parts,
            )?;
        }
        Ok(())
    }
    match g {
        GeometryValue::Point { coordinates } => run(
            std::slice::from_ref(coordinates),
            PartKind::Points,
            coords,
            parts,
        ),
        GeometryValue::MultiPoint { coordinates } => {
            run(coordinates, PartKind::Points, coords, parts)
        }
        GeometryValue::LineString { coordinates } => {
            run(coordinates, PartKind::Line, coords, parts)
        }
        GeometryValue::MultiLineString { coordinates } => coordinates
            .iter()
            .try_for_each(|l| run(l, PartKind::Line, coords, parts)),
        GeometryValue::Polygon { coordinates } => polygon(coordinates, coords, parts),
        GeometryValue::MultiPolygon { coordinates } => coordinates
            .iter()
            .try_for_each(|p| polygon(p, coords, parts)),
        GeometryValue::GeometryCollection { geometries } => geometries
            .iter()
            .try_for_each(|g| flatten(&g.value, coords, parts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat test must agree with geo's full `Intersects` whenever the
    /// envelopes intersect: random lines, polygons with holes, multipolygons
    /// and multipoints against random boxes.
    #[test]
    fn flat_test_agrees_with_geo_intersects() {
        use geo::{BoundingRect, LineString, MultiPoint, MultiPolygon, Point, Polygon};
        let mut state = 99u64;
        let mut rnd = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let square = |x: f64, y: f64, d: f64| {
            LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)])
        };
        let mut checked = 0;
        for i in 0..20_000 {
            let (x, y, d) = (rnd() * 10.0, rnd() * 10.0, 0.5 + rnd() * 3.0);
            let holed = Polygon::new(
                square(x, y, d),
                vec![square(x + d * 0.25, y + d * 0.25, d * 0.5)],
            );
            let g: geo::Geometry<f64> = match i % 5 {
                0 => LineString::from(vec![(x, y), (x + d, y + rnd() * d), (x + rnd() * d, y + d)])
                    .into(),
                1 => holed.into(),
                2 => Polygon::new(
                    LineString::from(vec![
                        (x, y),
                        (x + d, y + d * 0.1),
                        (x + d * 0.1, y + d),
                        (x, y),
                    ]),
                    vec![],
                )
                .into(),
                3 => {
                    MultiPolygon::new(vec![holed, Polygon::new(square(x + d * 2.0, y, d), vec![])])
                        .into()
                }
                _ => MultiPoint::from(vec![Point::new(x, y), Point::new(x + d, y + d)]).into(),
            };
            let (bx, by, bs) = (rnd() * 12.0 - 1.0, rnd() * 12.0 - 1.0, rnd() * 2.0);
            let r = Rect::new(coord! { x: bx, y: by }, coord! { x: bx + bs, y: by + bs });
            if !g.bounding_rect().unwrap().intersects(&r) {
                continue;
            }
            let gj = geojson::Geometry::from(&g);
            let (mut coords, mut parts) = (Vec::new(), Vec::new());
            flatten(&gj.value, &mut coords, &mut parts).unwrap();
            checked += 1;
            assert_eq!(
                parts_meet(&coords, &parts, &r),
                g.intersects(&r),
                "{g:?} vs {r:?}"
            );
        }
        assert!(checked > 1000, "{checked}");
    }
}
