//! RFC 7946 checks that a GeoJSON parser does not make: coordinate ranges
//! and arity, minimum positions, ring closure, vertex limits.

use geojson::{GeometryValue, Position};

use crate::text::Text;

/// Checks one geometry and returns its extent (`None` when empty).
/// `max_vertices` bounds the positions counted across the whole geometry.
/// Problems are said in both languages, rings, lines and parts counted
/// from 1, with what to do about them.
pub fn check_geometry(
    value: &GeometryValue,
    max_vertices: usize,
) -> Result<Option<[f64; 4]>, Text> {
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

/// What part of a geometry a message is about, in both languages.
struct Part {
    id: String,
    en: String,
}

impl Part {
    fn new(id: impl Into<String>, en: impl Into<String>) -> Part {
        Part {
            id: id.into(),
            en: en.into(),
        }
    }
}

/// GeometryCollections may nest; deeper than this is refused (RFC 7946
/// §3.1.8 says they SHOULD NOT nest at all).
const MAX_COLLECTION_DEPTH: usize = 8;

impl Extent {
    fn geometry(&mut self, value: &GeometryValue, depth: usize) -> Result<(), Text> {
        match value {
            GeometryValue::Point { coordinates } => {
                self.position(coordinates, &Part::new("titik (Point)", "Point"))
            }
            GeometryValue::MultiPoint { coordinates } => {
                let what = Part::new("titik ganda (MultiPoint)", "MultiPoint");
                coordinates.iter().try_for_each(|p| self.position(p, &what))
            }
            GeometryValue::LineString { coordinates } => {
                self.line(coordinates, &Part::new("garis (LineString)", "LineString"))
            }
            GeometryValue::MultiLineString { coordinates } => {
                coordinates.iter().enumerate().try_for_each(|(i, l)| {
                    let what = Part::new(
                        format!("garis ke-{} (MultiLineString)", i + 1),
                        format!("MultiLineString line {}", i + 1),
                    );
                    self.line(l, &what)
                })
            }
            GeometryValue::Polygon { coordinates } => {
                self.polygon(coordinates, &Part::new("poligon", "Polygon"))
            }
            GeometryValue::MultiPolygon { coordinates } => {
                coordinates.iter().enumerate().try_for_each(|(i, p)| {
                    let what = Part::new(
                        format!("poligon ke-{} (MultiPolygon)", i + 1),
                        format!("MultiPolygon polygon {}", i + 1),
                    );
                    self.polygon(p, &what)
                })
            }
            GeometryValue::GeometryCollection { geometries } => {
                if depth >= MAX_COLLECTION_DEPTH {
                    return Err(Text::new(
                        format!(
                            "GeometryCollection bersarang lebih dari {MAX_COLLECTION_DEPTH} tingkat; ratakan menjadi satu tingkat."
                        ),
                        format!(
                            "GeometryCollection nested deeper than {MAX_COLLECTION_DEPTH} levels; flatten it to one level."
                        ),
                    ));
                }
                geometries
                    .iter()
                    .try_for_each(|g| self.geometry(&g.value, depth + 1))
            }
        }
    }

    fn polygon(&mut self, rings: &[Vec<Position>], what: &Part) -> Result<(), Text> {
        for (i, ring) in rings.iter().enumerate() {
            let k = i + 1;
            if ring.len() < 4 {
                let n = ring.len();
                return Err(Text::new(
                    format!(
                        "Cincin ke-{k} {} hanya punya {n} titik; cincin poligon perlu sedikitnya 4 titik (yang terakhir sama dengan yang pertama).",
                        what.id
                    ),
                    format!(
                        "{} ring {k} has {n} position(s); a polygon ring needs at least 4 (the last repeating the first).",
                        what.en
                    ),
                ));
            }
            let (first, last) = (&ring[0], &ring[ring.len() - 1]);
            if first.as_slice()[..2] != last.as_slice()[..2] {
                let (a, b) = (first.as_slice(), last.as_slice());
                return Err(Text::new(
                    format!(
                        "Cincin ke-{k} {} tidak tertutup: titik awal {a:?} dan titik akhir {b:?} harus sama; ulangi titik awal di akhir cincin.",
                        what.id
                    ),
                    format!(
                        "{} ring {k} is not closed: its first position {a:?} and last {b:?} must be the same; repeat the first position at its end.",
                        what.en
                    ),
                ));
            }
            ring.iter().try_for_each(|p| self.position(p, what))?;
        }
        Ok(())
    }

    fn line(&mut self, line: &[Position], what: &Part) -> Result<(), Text> {
        if line.len() < 2 {
            let n = line.len();
            return Err(Text::new(
                format!(
                    "{} hanya punya {n} titik; garis perlu sedikitnya 2 titik.",
                    capitalised(&what.id)
                ),
                format!("{} has {n} position(s); a line needs at least 2.", what.en),
            ));
        }
        line.iter().try_for_each(|p| self.position(p, what))
    }

    fn position(&mut self, p: &Position, what: &Part) -> Result<(), Text> {
        self.vertices += 1;
        if self.vertices > self.max_vertices {
            let m = self.max_vertices;
            return Err(Text::new(
                format!(
                    "Geometri punya lebih dari {m} titik (batas max_vertices); sederhanakan atau pecah objek ini."
                ),
                format!(
                    "The geometry has more than {m} positions (limit max_vertices); simplify or split this feature."
                ),
            ));
        }
        let c = p.as_slice();
        if c.len() != 2 && c.len() != 3 {
            let n = c.len();
            return Err(Text::new(
                format!(
                    "Koordinat {c:?} pada {} punya {n} nilai; harus 2 atau 3 (bujur, lintang[, tinggi]).",
                    what.id
                ),
                format!(
                    "{} position {c:?} has {n} values; expected 2 or 3 (lon, lat[, height]).",
                    what.en
                ),
            ));
        }
        let (x, y) = (c[0], c[1]);
        if !c.iter().all(|v| v.is_finite()) {
            return Err(Text::new(
                format!(
                    "Koordinat {c:?} pada {} bukan angka yang terhingga.",
                    what.id
                ),
                format!("{} position {c:?} is not finite.", what.en),
            ));
        }
        if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
            return Err(Text::new(
                format!(
                    "Koordinat [{x}, {y}] pada {} di luar WGS 84 (bujur -180..180, lintang -90..90): apakah berkasnya memakai proyeksi lain (misalnya UTM), atau bujur dan lintang tertukar?",
                    what.id
                ),
                format!(
                    "{} position [{x}, {y}] is outside WGS 84 longitude -180..180 / latitude -90..90: is the file in a projected CRS (such as UTM), or are longitude and latitude swapped?",
                    what.en
                ),
            ));
        }
        self.bbox = Some(match self.bbox {
            None => [x, y, x, y],
            Some([a, b, c, d]) => [a.min(x), b.min(y), c.max(x), d.max(y)],
        });
        Ok(())
    }
}

/// `s` with its first letter in upper case.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geojson::Geometry;

    fn check(json: &str) -> Result<Option<[f64; 4]>, String> {
        let g: Geometry = serde_json::from_str(json).map_err(|e| e.to_string())?;
        check_geometry(&g.value, 100).map_err(|t| format!("{} | {}", t.id, t.en))
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
                "polygon 2 ring 1 is not closed",
            ),
        ];
        for (json, want) in cases {
            let err = check(json).expect_err(json);
            assert!(err.contains(want), "{json}: {err}");
        }
        // The example the OPD staff see, in Indonesian, counted from 1.
        let err =
            check(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#).unwrap_err();
        assert!(
            err.starts_with("Cincin ke-1 poligon tidak tertutup: titik awal [0.0, 0.0] dan titik akhir [0.0, 1.0] harus sama"),
            "{err}"
        );
        let err = check(r#"{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[0,0]]]}"#)
            .unwrap_err();
        assert!(
            err.starts_with("Garis ke-2 (MultiLineString) hanya punya 1 titik"),
            "{err}"
        );
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
