//! Building GeoJSON geometries from the readers of binary and text formats
//! (FlatGeobuf, GeoPackage WKB, CSV WKT), within limits, and the features
//! the readers hand to the collector.

use geojson::{Feature, Geometry, GeometryValue, Position};
use geozero::GeomProcessor;
use geozero::error::{GeozeroError, Result as GeozeroResult};
use serde_json::{Map, Value};

/// Nesting of geometries (collections in collections) accepted by the
/// builder: deeper input is refused before it can exhaust the stack of a
/// recursive reader.
pub(crate) const MAX_GEOMETRY_DEPTH: usize = 16;

/// One geometry being built.
enum Frame {
    Point(Option<Position>),
    MultiPoint(Vec<Position>),
    /// A linestring or a polygon ring.
    Line(Vec<Position>),
    MultiLine(Vec<Vec<Position>>),
    Polygon(Vec<Vec<Position>>),
    MultiPolygon(Vec<Vec<Vec<Position>>>),
    Collection(Vec<Geometry>),
}

/// A [`GeomProcessor`] that builds a [`GeometryValue`], counting positions
/// against a limit as they arrive (so a huge geometry is refused before it
/// is held in memory) and never trusting the sizes a reader announces.
pub(crate) struct GeometryBuilder {
    stack: Vec<Frame>,
    result: Option<GeometryValue>,
    vertices: usize,
    max_vertices: usize,
}

impl GeometryBuilder {
    /// A builder accepting at most `max_vertices` positions.
    pub(crate) fn new(max_vertices: usize) -> Self {
        GeometryBuilder {
            stack: Vec::new(),
            result: None,
            vertices: 0,
            max_vertices,
        }
    }

    /// The geometry built, `None` when it was empty.
    pub(crate) fn finish(self) -> Result<Option<GeometryValue>, String> {
        if !self.stack.is_empty() {
            return Err("geometry is incomplete".to_owned());
        }
        Ok(self.result)
    }

    fn push(&mut self, frame: Frame) -> GeozeroResult<()> {
        if self.stack.len() >= MAX_GEOMETRY_DEPTH {
            return Err(GeozeroError::Geometry(format!(
                "geometry is nested more than {MAX_GEOMETRY_DEPTH} levels deep"
            )));
        }
        if self.result.is_some() && self.stack.is_empty() {
            return Err(GeozeroError::Geometry(
                "more than one geometry where one was expected".to_owned(),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn pop(&mut self) -> GeozeroResult<Frame> {
        self.stack
            .pop()
            .ok_or_else(|| GeozeroError::Geometry("unbalanced geometry".to_owned()))
    }

    /// Hands a finished geometry to its parent collection, or keeps it as
    /// the result.
    fn emit(&mut self, value: GeometryValue) -> GeozeroResult<()> {
        match self.stack.last_mut() {
            None => {
                self.result = Some(value);
                Ok(())
            }
            Some(Frame::Collection(gs)) => {
                gs.push(Geometry::new(value));
                Ok(())
            }
            Some(_) => Err(unexpected("geometry")),
        }
    }
}

fn unexpected(what: &str) -> GeozeroError {
    GeozeroError::Geometry(format!("unexpected {what} in geometry"))
}

fn unsupported(kind: &str) -> GeozeroError {
    GeozeroError::Geometry(format!(
        "{kind} geometries are not supported; convert them to simple features (points, lines, polygons)"
    ))
}

impl GeomProcessor for GeometryBuilder {
    fn xy(&mut self, x: f64, y: f64, _idx: usize) -> GeozeroResult<()> {
        self.vertices += 1;
        if self.vertices > self.max_vertices {
            return Err(GeozeroError::Geometry(format!(
                "geometry has more than {} positions (limit max_vertices)",
                self.max_vertices
            )));
        }
        let p = Position::from([x, y]);
        match self.stack.last_mut() {
            Some(Frame::Point(slot)) => *slot = Some(p),
            Some(Frame::MultiPoint(ps) | Frame::Line(ps)) => ps.push(p),
            _ => return Err(unexpected("position")),
        }
        Ok(())
    }

    fn empty_point(&mut self, _idx: usize) -> GeozeroResult<()> {
        // An empty point has no GeoJSON form: the feature gets no geometry,
        // and in a multipoint it is dropped.
        Ok(())
    }

    fn point_begin(&mut self, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::Point(None))
    }

    fn point_end(&mut self, _idx: usize) -> GeozeroResult<()> {
        let Frame::Point(p) = self.pop()? else {
            return Err(unexpected("end of point"));
        };
        let Some(p) = p else { return Ok(()) };
        if let Some(Frame::MultiPoint(ps)) = self.stack.last_mut() {
            ps.push(p);
            return Ok(());
        }
        self.emit(GeometryValue::Point { coordinates: p })
    }

    fn multipoint_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::MultiPoint(Vec::new()))
    }

    fn multipoint_end(&mut self, _idx: usize) -> GeozeroResult<()> {
        let Frame::MultiPoint(ps) = self.pop()? else {
            return Err(unexpected("end of multipoint"));
        };
        self.emit(GeometryValue::MultiPoint { coordinates: ps })
    }

    fn linestring_begin(&mut self, _tagged: bool, _size: usize, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::Line(Vec::new()))
    }

    fn linestring_end(&mut self, _tagged: bool, _idx: usize) -> GeozeroResult<()> {
        let Frame::Line(ps) = self.pop()? else {
            return Err(unexpected("end of linestring"));
        };
        match self.stack.last_mut() {
            Some(Frame::MultiLine(ls) | Frame::Polygon(ls)) => {
                ls.push(ps);
                Ok(())
            }
            _ => self.emit(GeometryValue::LineString { coordinates: ps }),
        }
    }

    fn multilinestring_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::MultiLine(Vec::new()))
    }

    fn multilinestring_end(&mut self, _idx: usize) -> GeozeroResult<()> {
        let Frame::MultiLine(ls) = self.pop()? else {
            return Err(unexpected("end of multilinestring"));
        };
        self.emit(GeometryValue::MultiLineString { coordinates: ls })
    }

    fn polygon_begin(&mut self, _tagged: bool, _size: usize, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::Polygon(Vec::new()))
    }

    fn polygon_end(&mut self, _tagged: bool, _idx: usize) -> GeozeroResult<()> {
        let Frame::Polygon(rings) = self.pop()? else {
            return Err(unexpected("end of polygon"));
        };
        if let Some(Frame::MultiPolygon(polys)) = self.stack.last_mut() {
            polys.push(rings);
            return Ok(());
        }
        self.emit(GeometryValue::Polygon { coordinates: rings })
    }

    fn multipolygon_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::MultiPolygon(Vec::new()))
    }

    fn multipolygon_end(&mut self, _idx: usize) -> GeozeroResult<()> {
        let Frame::MultiPolygon(polys) = self.pop()? else {
            return Err(unexpected("end of multipolygon"));
        };
        self.emit(GeometryValue::MultiPolygon { coordinates: polys })
    }

    fn geometrycollection_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        self.push(Frame::Collection(Vec::new()))
    }

    fn geometrycollection_end(&mut self, _idx: usize) -> GeozeroResult<()> {
        let Frame::Collection(gs) = self.pop()? else {
            return Err(unexpected("end of geometry collection"));
        };
        self.emit(GeometryValue::GeometryCollection { geometries: gs })
    }

    fn circularstring_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("CircularString"))
    }

    fn compoundcurve_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("CompoundCurve"))
    }

    fn curvepolygon_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("CurvePolygon"))
    }

    fn multicurve_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("MultiCurve"))
    }

    fn multisurface_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("MultiSurface"))
    }

    fn triangle_begin(&mut self, _tagged: bool, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("Triangle"))
    }

    fn polyhedralsurface_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("PolyhedralSurface"))
    }

    fn tin_begin(&mut self, _size: usize, _idx: usize) -> GeozeroResult<()> {
        Err(unsupported("TIN"))
    }
}

/// The message of a geozero error, without its type prefix where it has
/// one of ours.
pub(crate) fn geozero_message(e: &GeozeroError) -> String {
    match e {
        GeozeroError::Geometry(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The GeoJSON text of a WKB geometry (as PostGIS gives it back), written
/// as uploads are stored, so both backends serve the same bytes; `None`
/// for an empty geometry.
pub(crate) fn geojson_from_wkb(wkb: &[u8]) -> Result<Option<String>, String> {
    use geozero::GeozeroGeometry;
    let mut builder = GeometryBuilder::new(usize::MAX);
    geozero::wkb::Wkb(wkb)
        .process_geom(&mut builder)
        .map_err(|e| geozero_message(&e))?;
    match builder.finish()? {
        None => Ok(None),
        Some(value) => serde_json::to_string(&Geometry::new(value))
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// A feature as readers hand it to the collector.
pub(crate) fn feature(
    geometry: Option<GeometryValue>,
    properties: Map<String, Value>,
    id: Option<geojson::feature::Id>,
) -> Feature {
    Feature {
        bbox: None,
        geometry: geometry.map(Geometry::new),
        id,
        properties: Some(properties),
        foreign_members: None,
    }
}

/// A JSON number from a float, `null` for NaN and infinities (which JSON
/// cannot hold).
pub(crate) fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Whether every position is within longitude/latitude ranges: data with
/// no coordinate system named is only taken as WGS 84 when it is.
pub(crate) fn is_lon_lat(g: &GeometryValue) -> bool {
    let ok =
        |p: &Position| matches!(p.as_slice(), [x, y, ..] if x.abs() <= 180.0 && y.abs() <= 90.0);
    match g {
        GeometryValue::Point { coordinates } => ok(coordinates),
        GeometryValue::MultiPoint { coordinates } | GeometryValue::LineString { coordinates } => {
            coordinates.iter().all(ok)
        }
        GeometryValue::MultiLineString { coordinates } | GeometryValue::Polygon { coordinates } => {
            coordinates.iter().flatten().all(ok)
        }
        GeometryValue::MultiPolygon { coordinates } => {
            coordinates.iter().flatten().flatten().all(ok)
        }
        GeometryValue::GeometryCollection { geometries } => {
            geometries.iter().all(|g| is_lon_lat(&g.value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geozero::GeozeroGeometry;
    use geozero::wkt::Wkt;

    fn build(wkt: &str, max: usize) -> Result<Option<GeometryValue>, String> {
        let mut b = GeometryBuilder::new(max);
        Wkt(wkt)
            .process_geom(&mut b)
            .map_err(|e| geozero_message(&e))?;
        b.finish()
    }

    #[test]
    fn builds_every_simple_type() {
        let cases = [
            ("POINT (1 2)", r#"{"type":"Point","coordinates":[1.0,2.0]}"#),
            (
                "LINESTRING (1 2, 3 4)",
                r#"{"type":"LineString","coordinates":[[1.0,2.0],[3.0,4.0]]}"#,
            ),
            (
                "POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))",
                r#"{"type":"Polygon","coordinates":[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]]}"#,
            ),
            (
                "MULTIPOINT ((1 2), (3 4))",
                r#"{"type":"MultiPoint","coordinates":[[1.0,2.0],[3.0,4.0]]}"#,
            ),
            (
                "MULTILINESTRING ((1 2, 3 4), (5 6, 7 8))",
                r#"{"type":"MultiLineString","coordinates":[[[1.0,2.0],[3.0,4.0]],[[5.0,6.0],[7.0,8.0]]]}"#,
            ),
            (
                "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
                r#"{"type":"MultiPolygon","coordinates":[[[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,0.0]]]]}"#,
            ),
            (
                "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (1 2, 3 4))",
                r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1.0,2.0]},{"type":"LineString","coordinates":[[1.0,2.0],[3.0,4.0]]}]}"#,
            ),
        ];
        for (wkt, json) in cases {
            let g = build(wkt, 100).unwrap().unwrap();
            assert_eq!(
                serde_json::to_string(&Geometry::new(g)).unwrap(),
                json,
                "{wkt}"
            );
        }
    }

    #[test]
    fn limits_positions_and_refuses_curves() {
        let e = build("LINESTRING (1 2, 3 4, 5 6)", 2).unwrap_err();
        assert!(e.contains("max_vertices"), "{e}");
        // WKB CircularString (type 8) with one point.
        let mut wkb = vec![1u8, 8, 0, 0, 0, 1, 0, 0, 0];
        wkb.extend_from_slice(&[0; 16]);
        let mut b = GeometryBuilder::new(10);
        let e = geozero::wkb::Wkb(wkb).process_geom(&mut b).unwrap_err();
        assert!(geozero_message(&e).contains("CircularString"), "{e}");
        // Collections nested deeper than the builder accepts.
        let deep = format!(
            "{}POINT (1 2){}",
            "GEOMETRYCOLLECTION (".repeat(20),
            ")".repeat(20)
        );
        let e = build(&deep, 10).unwrap_err();
        assert!(e.contains("nested"), "{e}");
    }
}
