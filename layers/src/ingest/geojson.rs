//! A streaming GeoJSON reader: FeatureCollection, a single Feature or
//! geometry, and newline-delimited or RFC 8142 (`RS`-separated) sequences of
//! Features.
//!
//! The features array is never held in memory: each feature is read as raw
//! text, parsed and validated on its own, and handed to a callback. A broken
//! feature becomes a [`Problem`](super::Problem) with its index and reading goes on, so one
//! upload reports every broken feature (up to [`Limits::max_problems`]) at once.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, BufReader, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::collect::{Collector, Report};
use super::{Budget, Limits, Overrun, ParsedFeature};

/// CRS names that mean WGS 84 longitude/latitude, as written by GDAL, QGIS
/// and the 2008 GeoJSON spec. Anything else must be reprojected first.
const WGS84_NAMES: &[&str] = &[
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
];

/// Reads GeoJSON from `reader`, calling `on_feature` with each valid
/// feature in input order. Invalid features are reported in the report and
/// not passed on. An error from `on_feature` stops reading and is returned.
pub fn read<R, F, E>(reader: R, limits: &Limits, on_feature: F) -> Result<Report, E>
where
    R: Read,
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let mut collector = Collector::new("geojson", limits, on_feature);
    read_into(reader, limits, &mut collector);
    collector.finish()
}

/// Reads GeoJSON from `reader` into `collector`.
pub fn read_into<R, F, E>(reader: R, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    R: Read,
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let budget = Rc::new(RefCell::new(Budget::new(limits)));
    let overrun = Rc::new(Cell::new(None));
    let input = Input {
        inner: BufReader::with_capacity(256 * 1024, reader),
        remaining: limits.max_bytes,
        exceeded: false,
        budget: budget.clone(),
        overrun: overrun.clone(),
    };
    let mut state = State {
        c: collector,
        max_bytes: limits.max_bytes,
        budget,
        overrun,
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    let first = TopLevel { state: &mut state }.deserialize(&mut de);
    match first {
        Ok(Kind::Collection) => {
            if let Err(e) = de.end() {
                state.fatal(&e, "after the FeatureCollection");
            }
        }
        Ok(Kind::Single) => {
            for raw in de.into_iter::<Box<RawValue>>() {
                match raw {
                    Ok(raw) => state.raw_feature(&raw),
                    Err(e) => {
                        state.fatal(&e, "in the GeoJSON sequence");
                        break;
                    }
                }
                if state.c.is_aborted() {
                    break;
                }
            }
        }
        Err(e) => {
            if !state.c.is_aborted() {
                state.fatal(&e, "");
            }
        }
    }
}

/// The input stream: bounded in size, with RFC 8142 record separators read
/// as whitespace (they cannot occur unescaped inside JSON strings). Every
/// byte is charged to the feature being read before serde_json copies it,
/// so a huge feature is refused while it is read, not after.
struct Input<R> {
    inner: R,
    remaining: u64,
    exceeded: bool,
    budget: Rc<RefCell<Budget>>,
    overrun: Rc<Cell<Option<Overrun>>>,
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.exceeded = true;
            return Err(io::Error::other("input exceeds max_bytes"));
        }
        let cap = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..cap])?;
        self.remaining -= n as u64;
        if let Err(o) = self.budget.borrow_mut().take(n) {
            self.overrun.set(Some(o));
            return Err(io::Error::other(o));
        }
        for b in &mut buf[..n] {
            if *b == 0x1e {
                *b = b' ';
            }
        }
        Ok(n)
    }
}

enum Kind {
    Collection,
    Single,
}

struct State<'s, 'a, F, E> {
    c: &'s mut Collector<'a, F, E>,
    max_bytes: u64,
    budget: Rc<RefCell<Budget>>,
    overrun: Rc<Cell<Option<Overrun>>>,
}

impl<F, E> State<'_, '_, F, E>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    /// Records an error that ends reading (syntax, size, I/O).
    fn fatal(&mut self, e: &serde_json::Error, place: &str) {
        let message = if let Some(o) = self.overrun.get().filter(|_| e.is_io()) {
            match o {
                Overrun::Feature(max) => format!(
                    "a feature (or another member of the document) takes more than {max} bytes in the file (limit max_feature_bytes); reading stopped there"
                ),
                Overrun::Input(_) => o.to_string(),
            }
        } else if e.is_io() && e.to_string().contains("max_bytes") {
            format!(
                "input is larger than {} bytes (limit max_bytes)",
                self.max_bytes
            )
        } else if e.is_eof() && e.line() == 1 && e.column() == 0 {
            "input is empty".to_owned()
        } else if place.is_empty() {
            format!("not valid GeoJSON: {e}")
        } else {
            format!("not valid GeoJSON {place}: {e}")
        };
        self.c.fatal(message);
    }

    fn raw_feature(&mut self, raw: &RawValue) {
        // The next feature's bytes are counted from here.
        self.budget.borrow_mut().next_feature();
        let ControlFlow::Continue(index) = self.c.next_index() else {
            return;
        };
        match serde_json::from_str::<geojson::Feature>(raw.get()) {
            Ok(f) => {
                // The members were parsed once already, so this cannot fail.
                let members = serde_json::from_str::<Members>(raw.get()).unwrap_or_default();
                self.feature(index, f, members.geometry.0, members.properties.0);
            }
            Err(e) => self.c.error(Some(index), without_position(&e)),
        }
    }

    /// Passes a parsed feature on, with a warning for each required member
    /// it lacks: readers that follow RFC 7946 may refuse such a feature.
    fn feature(&mut self, index: usize, f: geojson::Feature, geometry: bool, properties: bool) {
        for (present, member, fix) in [
            (
                geometry,
                "geometry",
                "\"geometry\": null for a feature without a location",
            ),
            (
                properties,
                "properties",
                "\"properties\": {} or null for a feature without properties",
            ),
        ] {
            if !present {
                self.c.warning(
                    Some(index),
                    crate::text::Text::new(
                        format!(
                            "Objek tidak punya anggota \"{member}\" yang diwajibkan GeoJSON (RFC 7946 §3.2); dibaca seolah-olah null; tuliskan {fix}."
                        ),
                        format!(
                            "Feature has no \"{member}\" member, which GeoJSON requires (RFC 7946 §3.2); read as if it were null; write {fix}"
                        ),
                    ),
                );
            }
        }
        self.c.feature(index, f);
    }
}

/// Which of a Feature's required members are present, whatever their value.
#[derive(Default, serde::Deserialize)]
struct Members {
    #[serde(default)]
    geometry: Present,
    #[serde(default)]
    properties: Present,
}

/// Whether a member is present (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <IgnoredAny as serde::Deserialize>::deserialize(d).map(|_| Present(true))
    }
}

/// serde_json's positions inside one feature's raw text mislead more than
/// they help; the feature index says where the problem is.
fn without_position(e: &serde_json::Error) -> String {
    let mut s = e.to_string();
    if let Some(pos) = s.rfind(" at line ") {
        s.truncate(pos);
    }
    s
}

/// Reads the top-level object. A `features` member is streamed; every other
/// member is kept so that a lone Feature or geometry can be rebuilt.
struct TopLevel<'s, 't, 'a, F, E> {
    state: &'s mut State<'t, 'a, F, E>,
}

impl<'de, F, E> DeserializeSeed<'de> for TopLevel<'_, '_, '_, F, E>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    type Value = Kind;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F, E> Visitor<'de> for TopLevel<'_, '_, '_, F, E>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON object (FeatureCollection, Feature or geometry)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut members = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                if streamed {
                    return Err(de::Error::custom("duplicate member \"features\""));
                }
                streamed = true;
                map.next_value_seed(Features {
                    state: &mut *self.state,
                })?;
                if self.state.c.is_aborted() {
                    return Err(de::Error::custom("reading stopped"));
                }
            } else if streamed && key != "type" && key != "crs" {
                // Foreign members after the features are not needed.
                map.next_value::<IgnoredAny>()?;
            } else {
                let value: Value = map.next_value()?;
                members.insert(key, value);
            }
        }
        let kind = members
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(crs) = members.get("crs") {
            check_crs(crs).map_err(de::Error::custom)?;
        }
        match kind.as_deref() {
            Some("FeatureCollection") if streamed => Ok(Kind::Collection),
            Some("FeatureCollection") => Err(de::Error::custom(
                "FeatureCollection has no \"features\" array",
            )),
            Some(other) if streamed => Err(de::Error::custom(format!(
                "an object with \"features\" must have type FeatureCollection, not {other:?}"
            ))),
            Some("Feature") => {
                if let ControlFlow::Continue(index) = self.state.c.next_index() {
                    let geometry = members.contains_key("geometry");
                    let properties = members.contains_key("properties");
                    match serde_json::from_value::<geojson::Feature>(Value::Object(members)) {
                        Ok(f) => self.state.feature(index, f, geometry, properties),
                        Err(e) => self.state.c.error(Some(index), without_position(&e)),
                    }
                }
                Ok(Kind::Single)
            }
            Some(
                "Point" | "MultiPoint" | "LineString" | "MultiLineString" | "Polygon"
                | "MultiPolygon" | "GeometryCollection",
            ) => {
                if let ControlFlow::Continue(index) = self.state.c.next_index() {
                    match serde_json::from_value::<geojson::Geometry>(Value::Object(members)) {
                        Ok(g) => self.state.c.feature(index, geojson::Feature::from(g)),
                        Err(e) => self.state.c.error(Some(index), without_position(&e)),
                    }
                }
                Ok(Kind::Single)
            }
            Some(other) => Err(de::Error::custom(format!("unknown GeoJSON type {other:?}"))),
            None => Err(de::Error::custom(
                "the top-level object has no \"type\" member",
            )),
        }
    }
}

fn check_crs(crs: &Value) -> Result<(), String> {
    let name = crs.pointer("/properties/name").and_then(Value::as_str);
    match name {
        Some(n) if WGS84_NAMES.contains(&n) => Ok(()),
        Some(n) => Err(format!(
            "coordinate reference system {n:?} is not WGS 84; GeoJSON must use longitude/latitude in WGS 84 (RFC 7946 §4)"
        )),
        None => Err(
            "the \"crs\" member has no properties.name; GeoJSON must use WGS 84 (RFC 7946 §4)"
                .to_owned(),
        ),
    }
}

struct Features<'s, 't, 'a, F, E> {
    state: &'s mut State<'t, 'a, F, E>,
}

impl<'de, F, E> DeserializeSeed<'de> for Features<'_, '_, '_, F, E>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F, E> Visitor<'de> for Features<'_, '_, '_, F, E>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.state.raw_feature(&raw);
            if self.state.c.is_aborted() {
                return Err(de::Error::custom("reading stopped"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &str, limits: &Limits) -> (Vec<ParsedFeature>, Report) {
        let mut out = Vec::new();
        let outcome = read(input.as_bytes(), limits, |f| {
            out.push(f);
            Ok::<_, ()>(())
        })
        .unwrap();
        (out, outcome)
    }

    fn messages(input: &str) -> Vec<String> {
        read_all(input, &Limits::default())
            .1
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const PT: &str = r#"{"type":"Feature","properties":{"nama":"Pura Besakih"},"geometry":{"type":"Point","coordinates":[115.2,-8.6]}}"#;

    #[test]
    fn reads_a_feature_collection() {
        let input = format!(
            r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}}},"features":[{PT},{{"type":"Feature","id":"a","properties":null,"geometry":null}}]}}"#
        );
        let (fs, outcome) = read_all(&input, &Limits::default());
        assert_eq!(outcome.error_count, 0, "{:?}", outcome.errors);
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[0].fid, "1");
        assert_eq!(fs[0].name.as_deref(), Some("Pura Besakih"));
        assert_eq!(
            fs[0].geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.2,-8.6]}"#)
        );
        assert_eq!(fs[0].bbox, Some([115.2, -8.6, 115.2, -8.6]));
        assert_eq!(fs[1].fid_json, r#""a""#);
        assert_eq!(fs[1].geometry, None);
        assert_eq!(fs[1].properties, "{}");
    }

    #[test]
    fn keeps_property_order_and_types() {
        let input = r#"{"type":"Feature","id":7,"properties":{"z":1,"a":[1,{"b":null}],"m":"x"},"geometry":null}"#;
        let (fs, _) = read_all(input, &Limits::default());
        assert_eq!(fs[0].properties, r#"{"z":1,"a":[1,{"b":null}],"m":"x"}"#);
        assert_eq!(fs[0].fid_json, "7");
    }

    #[test]
    fn reads_single_feature_geometry_and_sequences() {
        assert_eq!(read_all(PT, &Limits::default()).0.len(), 1);
        let g = read_all(
            r#"{"type":"Point","coordinates":[1,2]}"#,
            &Limits::default(),
        )
        .0;
        assert_eq!(g[0].geometry_type, Some("Point"));
        let ndjson = format!("{PT}\n{PT}\n\n{PT}\n");
        assert_eq!(read_all(&ndjson, &Limits::default()).0.len(), 3);
        let rfc8142 = format!("\x1e{PT}\n\x1e{PT}\n");
        let (fs, outcome) = read_all(&rfc8142, &Limits::default());
        assert_eq!((fs.len(), outcome.error_count), (2, 0));
    }

    #[test]
    fn reports_each_bad_feature_with_its_index() {
        let input = format!(
            r#"{{"type":"FeatureCollection","features":[{PT},
            {{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[500,1]}}}},
            {{"type":"Feature","properties":"text","geometry":null}},
            {{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}}},
            {{"type":"Feature","id":1,"properties":{{}},"geometry":null}},
            {{"type":"Feature","properties":{{}},"geometry":{{"type":"Circle","coordinates":[0,0]}}}}
            ]}}"#
        );
        let m = messages(&input);
        assert_eq!(m.len(), 5, "{m:#?}");
        assert!(
            m[0].starts_with("feature 2: Point position [500, 1] is outside"),
            "{}",
            m[0]
        );
        assert!(m[1].starts_with("feature 3: "), "{}", m[1]);
        assert!(
            m[2].starts_with("feature 4: Polygon ring 1 is not closed"),
            "{}",
            m[2]
        );
        assert_eq!(
            m[3],
            "feature 5 (id 1): Duplicate id 1 (first used by feature 1); every feature needs its own id."
        );
        assert!(m[4].starts_with("feature 6: "), "{}", m[4]);
    }

    /// RFC 7946 §3.2: a Feature has a `geometry` and a `properties`
    /// member (either may be null). A Feature lacking one is read as if it
    /// were null, with a warning.
    #[test]
    fn warns_about_features_without_geometry_or_properties() {
        let input = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"n":1}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[115.2,-8.6]}},
            {"type":"Feature"},
            {"type":"Feature","properties":null,"geometry":null}
            ]}"#;
        let (fs, r) = read_all(input, &Limits::default());
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(fs.len(), 4, "warnings do not reject");
        let got: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(
            got[0].starts_with(r#"feature 1: Feature has no "geometry" member"#),
            "{}",
            got[0]
        );
        assert!(got[1].starts_with(r#"feature 2: Feature has no "properties" member"#));
        assert!(got[2].contains("\"geometry\"") && got[3].contains("\"properties\""));
        assert!(got[3].starts_with("feature 3: "), "{}", got[3]);
        // A lone Feature too.
        let (_, r) = read_all(r#"{"type":"Feature","geometry":null}"#, &Limits::default());
        assert_eq!(r.warning_count, 1, "{:?}", r.warnings);
        assert!(r.warnings[0].message.contains("\"properties\""));
        // A geometry alone is not a Feature and has nothing missing.
        let (_, r) = read_all(
            r#"{"type":"Point","coordinates":[1,2]}"#,
            &Limits::default(),
        );
        assert_eq!(r.warning_count, 0);
    }

    #[test]
    fn refuses_a_feature_larger_than_max_feature_bytes_while_reading_it() {
        let big = format!(
            r#"{{"type":"Feature","properties":{{"s":"{}"}},"geometry":null}}"#,
            "x".repeat(5000)
        );
        let input = format!(r#"{{"type":"FeatureCollection","features":[{PT},{big},{PT}]}}"#);
        let limits = Limits {
            max_feature_bytes: 1000,
            ..Limits::default()
        };
        let (_, r) = read_all(&input, &limits);
        assert!(!r.is_ok());
        assert_eq!(r.read, 1, "stopped at the large feature");
        assert!(
            r.errors[0]
                .message
                .contains("more than 1000 bytes in the file (limit max_feature_bytes)"),
            "{:?}",
            r.errors
        );
        let limits = Limits {
            max_read_bytes: 300,
            ..Limits::default()
        };
        let input = format!(r#"{{"type":"FeatureCollection","features":[{PT},{PT},{PT}]}}"#);
        let (_, r) = read_all(&input, &limits);
        assert!(
            r.errors[0].message.contains("limit max_read_bytes"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn stops_storing_after_the_first_problem() {
        let input = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","geometry":{{"type":"Point","coordinates":[0,100]}}}},{PT}]}}"#
        );
        let (fs, outcome) = read_all(&input, &Limits::default());
        assert!(fs.is_empty());
        assert_eq!(outcome.error_count, 1);
    }

    #[test]
    fn refuses_broken_documents() {
        for (input, want) in [
            ("", "empty"),
            ("[1,2]", "GeoJSON object"),
            (r#"{"type":"FeatureCollection"}"#, "no \"features\""),
            (
                r#"{"type":"Topology","features":[]}"#,
                "must have type FeatureCollection",
            ),
            (r#"{"type":"Foo"}"#, "unknown GeoJSON type"),
            (r#"{"features":[]}"#, "no \"type\""),
            (
                r#"{"type":"FeatureCollection","features":[]} {}"#,
                "after the FeatureCollection",
            ),
            (
                r#"{"type":"FeatureCollection","features":[{"type":"Feature""#,
                "not valid GeoJSON",
            ),
            (
                r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32750"}},"features":[]}"#,
                "not WGS 84",
            ),
        ] {
            let m = messages(input);
            assert_eq!(m.len(), 1, "{input}: {m:?}");
            assert!(m[0].contains(want), "{input}: {}", m[0]);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            r#"{{"type":"Feature","properties":{{"x":{}{}}},"geometry":null}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let m = messages(&deep);
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("recursion limit"), "{}", m[0]);
    }

    #[test]
    fn enforces_limits() {
        let input = format!(r#"{{"type":"FeatureCollection","features":[{PT},{PT},{PT}]}}"#);
        let limits = Limits {
            max_features: 2,
            ..Limits::default()
        };
        let (_, outcome) = read_all(&input, &limits);
        assert!(
            outcome.errors[0].message.contains("max_features"),
            "{:?}",
            outcome.errors
        );

        let limits = Limits {
            max_bytes: 50,
            ..Limits::default()
        };
        let (_, outcome) = read_all(&input, &limits);
        assert!(
            outcome.errors[0].message.contains("max_bytes"),
            "{:?}",
            outcome.errors
        );

        let limits = Limits {
            max_properties: 0,
            ..Limits::default()
        };
        let (_, outcome) = read_all(PT, &limits);
        assert!(
            outcome.errors[0].message.contains("max_properties"),
            "{:?}",
            outcome.errors
        );
    }

    #[test]
    fn keeps_only_the_first_problems_but_counts_all() {
        let bad = r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[0,100]}}"#;
        let input = format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            vec![bad; 30].join(",")
        );
        let (_, outcome) = read_all(&input, &Limits::default());
        assert_eq!(outcome.error_count, 30);
        assert_eq!(outcome.errors.len(), 20);
    }
}
