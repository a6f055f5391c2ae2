//! RFC 7946 checks that a GeoJSON parser does not make: coordinate ranges
//! and arity, minimum positions, ring closure, vertex limits.

use geojson::{GeometryValue, Position};

/// Checks one geometry and returns its extent (`None` when empty).
/// `max_vertices` bounds the positions counted across the whole geometry.
pub fn check_geometry(
    value: &GeometryValue,
    max_vertices: usize,
) -> Result<Option<[f64; 4]>, String> {
    let mut acc = Extent {
        bbox: None,
        vertices: 0,
        max_vertices,
    };
    acc.geometry(value, 0)?;
    Ok(acc.bbox)
}

struct Extent {
    bbox: Option<[f64; 4]>,
    vertices: usize,
    max_vertices: usize,
}

/// GeometryCollections may nest; deeper than this is refused (RFC 7946
/// §3.1.8 says they SHOULD NOT nest at all).
const MAX_COLLECTION_DEPTH: usize = 8;

impl Extent {
    fn geometry(&mut self, value: &GeometryValue, depth: usize) -> Result<(), String> {
        match value {
            GeometryValue::Point { coordinates } => self.position(coordinates, "Point"),
            GeometryValue::MultiPoint { coordinates } => coordinates
                .iter()
                .try_for_each(|p| self.position(p, "MultiPoint")),
            GeometryValue::LineString { coordinates } => self.line(coordinates, "LineString"),
            GeometryValue::MultiLineString { coordinates } => coordinates
                .iter()
                .enumerate()
                .try_for_each(|(i, l)| self.line(l, &format!("MultiLineString line {i}"))),
            GeometryValue::Polygon { coordinates } => self.polygon(coordinates, "Polygon"),
            GeometryValue::MultiPolygon { coordinates } => coordinates
                .iter()
                .enumerate()
                .try_for_each(|(i, p)| self.polygon(p, &format!("MultiPolygon polygon {i}"))),
            GeometryValue::GeometryCollection { geometries } => {
                if depth >= MAX_COLLECTION_DEPTH {
                    return Err(format!(
                        "GeometryCollection nested deeper than {MAX_COLLECTION_DEPTH} levels"
                    ));
                }
                geometries
                    .iter()
                    .try_for_each(|g| self.geometry(&g.value, depth + 1))
            }
        }
    }

    fn polygon(&mut self, rings: &[Vec<Position>], what: &str) -> Result<(), String> {
        for (i, ring) in rings.iter().enumerate() {
            if ring.len() < 4 {
                return Err(format!(
                    "{what} ring {i} has {} position(s), a linear ring needs at least 4",
                    ring.len()
                ));
            }
            let (first, last) = (&ring[0], &ring[ring.len() - 1]);
            if first.as_slice()[..2] != last.as_slice()[..2] {
                return Err(format!(
                    "{what} ring {i} is not closed: first position {:?} differs from last {:?}",
                    first.as_slice(),
                    last.as_slice()
                ));
            }
            ring.iter().try_for_each(|p| self.position(p, what))?;
        }
        Ok(())
    }

    fn line(&mut self, line: &[Position], what: &str) -> Result<(), String> {
        if line.len() < 2 {
            return Err(format!(
                "{what} has {} position(s), needs at least 2",
                line.len()
            ));
        }
        line.iter().try_for_each(|p| self.position(p, what))
    }

    fn position(&mut self, p: &Position, what: &str) -> Result<(), String> {
        self.vertices += 1;
        if self.vertices > self.max_vertices {
            return Err(format!(
                "geometry has more than {} positions (limit max_vertices)",
                self.max_vertices
            ));
        }
        let c = p.as_slice();
        if c.len() != 2 && c.len() != 3 {
            return Err(format!(
                "{what} position {c:?} has {} values, expected 2 or 3 (lon, lat[, height])",
                c.len()
            ));
        }
        let (x, y) = (c[0], c[1]);
        if !c.iter().all(|v| v.is_finite()) {
            return Err(format!("{what} position {c:?} is not finite"));
        }
        if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
            return Err(format!(
                "{what} position [{x}, {y}] is outside WGS 84 longitude -180..180 / latitude -90..90 (is it in a projected CRS or lat/lon swapped?)"
            ));
        }
        self.bbox = Some(match self.bbox {
            None => [x, y, x, y],
            Some([a, b, c, d]) => [a.min(x), b.min(y), c.max(x), d.max(y)],
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geojson::Geometry;

    fn check(json: &str) -> Result<Option<[f64; 4]>, String> {
        let g: Geometry = serde_json::from_str(json).map_err(|e| e.to_string())?;
        check_geometry(&g.value, 100)
    }

    #[test]
    fn extent_of_valid_geometries() {
        assert_eq!(
            check(r#"{"type":"Point","coordinates":[115.2,-8.6]}"#),
            Ok(Some([115.2, -8.6, 115.2, -8.6]))
        );
        assert_eq!(
            check(r#"{"type":"LineString","coordinates":[[115.2,-8.6],[115.3,-8.7,12]]}"#),
            Ok(Some([115.2, -8.7, 115.3, -8.6]))
        );
        assert_eq!(check(r#"{"type":"MultiPoint","coordinates":[]}"#), Ok(None));
        assert_eq!(
            check(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#),
            Ok(Some([0.0, 0.0, 1.0, 1.0]))
        );
    }

    #[test]
    fn refuses_invalid_geometries() {
        let cases = [
            (
                r#"{"type":"Point","coordinates":[200,0]}"#,
                "outside WGS 84",
            ),
            (r#"{"type":"Point","coordinates":[0,95]}"#, "outside WGS 84"),
            (
                r#"{"type":"Point","coordinates":[1,2,3,4]}"#,
                "expected 2 or 3",
            ),
            (
                r#"{"type":"LineString","coordinates":[[0,0]]}"#,
                "at least 2",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#,
                "not closed",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
                "at least 4",
            ),
            (
                r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[1,1],[2,2]]]]}"#,
                "polygon 1 ring 0 is not closed",
            ),
        ];
        for (json, want) in cases {
            let err = check(json).expect_err(json);
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn vertex_limit() {
        let coords: Vec<String> = (0..101)
            .map(|i| format!("[{},0]", i as f64 / 1000.0))
            .collect();
        let json = format!(
            r#"{{"type":"LineString","coordinates":[{}]}}"#,
            coords.join(",")
        );
        assert!(check(&json).unwrap_err().contains("max_vertices"));
    }
}
