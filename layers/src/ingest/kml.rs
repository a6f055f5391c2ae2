//! KML and KMZ uploads.
//!
//! KML is read with a pull parser, one event at a time, so a large document
//! is never held as a tree. Each `Placemark` becomes a feature: its `name`,
//! `description` and `ExtendedData` (`Data`/`value` and
//! `SchemaData`/`SimpleData`, typed by the document's `Schema`) become
//! properties; `Point`, `LineString`, `LinearRing`, `Polygon` and
//! `MultiGeometry` become GeoJSON geometries. KML coordinates are always
//! WGS 84 longitude/latitude; heights are dropped.
//!
//! A document with a `DOCTYPE` is refused outright: entity declarations are
//! the way to XML external entity (XXE) reads and to "billion laughs"
//! expansion, and KML never needs them. Only the five predefined entities
//! and character references are resolved.
//!
//! A KMZ is a zip holding `doc.kml` (or else its first `.kml`), read in
//! memory within the zip limits; `NetworkLink`s from it to other `.kml`
//! entries of the same archive (as GDAL's LIBKML driver writes) are
//! followed, each entry once. Links to anything outside are not.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use geojson::{Geometry, GeometryValue, Position};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use super::archive::{Archive, extension};
use super::geometry::{MAX_GEOMETRY_DEPTH, feature, number};
use super::{Budget, Collector, Limits, Overrun, ParsedFeature};

/// Reads the KML file at `path` into `collector`.
pub fn read_kml<F, E>(path: &Path, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return collector.fatal(format!("cannot open the upload: {e}")),
    };
    let mut doc = Document::new(limits);
    if let Err(e) = doc.parse(BufReader::new(file), collector) {
        collector.fatal(e);
    }
}

/// Reads the KMZ archive at `path` into `collector`.
pub fn read_kmz<F, E>(path: &Path, limits: &Limits, collector: &mut Collector<'_, F, E>)
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    if let Err(e) = kmz(path, limits, collector) {
        collector.fatal(e);
    }
}

fn kmz<F, E>(path: &Path, limits: &Limits, c: &mut Collector<'_, F, E>) -> Result<(), String>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    let mut archive = Archive::open(path, limits)?;
    let kmls: Vec<(usize, String)> = archive
        .files
        .iter()
        .filter(|(_, n)| extension(n) == "kml")
        .cloned()
        .collect();
    let root = kmls
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case("doc.kml"))
        .or_else(|| kmls.first())
        .cloned()
        .ok_or("the KMZ archive holds no .kml document")?;
    let mut queue = vec![root];
    let mut seen: Vec<usize> = Vec::new();
    let mut doc = Document::new(limits);
    while let Some((index, name)) = queue.pop() {
        if seen.contains(&index) {
            continue;
        }
        seen.push(index);
        let bytes = archive.read(index, limits)?;
        doc.links.clear();
        doc.parse(&bytes[..], c)
            .map_err(|e| format!("{name}: {e}"))?;
        if c.is_aborted() {
            return Ok(());
        }
        let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
        // Depth-first in document order: push in reverse.
        for href in doc.links.iter().rev() {
            let target = resolve(dir, href);
            if let Some(k) = kmls
                .iter()
                .find(|(_, n)| Some(n.as_str()) == target.as_deref())
            {
                queue.push(k.clone());
            }
        }
    }
    Ok(())
}

/// A link relative to `dir` inside the archive, or `None` for links that
/// leave it (URLs, absolute paths, `..` above the root).
fn resolve(dir: &str, href: &str) -> Option<String> {
    let href = href.trim();
    if href.contains("://") || href.starts_with('/') || href.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in href.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// A geometry being built inside a placemark.
enum Frame {
    Point(Vec<Position>),
    Line(Vec<Position>),
    Ring(Vec<Position>),
    Polygon {
        outer: Option<Vec<Position>>,
        inner: Vec<Vec<Position>>,
    },
    Multi(Vec<GeometryValue>),
}

/// The placemark being read.
#[derive(Default)]
struct Placemark {
    name: Option<String>,
    description: Option<String>,
    data: Map<String, Value>,
    geometry: Option<GeometryValue>,
    frames: Vec<Frame>,
    /// The first problem found in it; reported when it ends.
    error: Option<String>,
}

/// What the text being captured is for.
#[derive(Clone, PartialEq)]
enum Capture {
    Name,
    Description,
    Value,
    SimpleData(String),
    Coordinates,
    Href,
}

/// The input as the XML parser reads it: one event (a text node, a tag
/// with its attributes, a comment) may take at most `max` bytes, counted
/// as the parser consumes them, so a huge text node is refused while it is
/// read instead of being buffered whole.
struct Limited<R> {
    inner: R,
    /// Bytes consumed since the last event ended.
    consumed: usize,
    max: usize,
    exceeded: bool,
}

impl<R: BufRead> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Limited<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.max {
            self.exceeded = true;
            return Err(io::Error::other(Overrun::Feature(self.max)));
        }
        // Never more than the event may still take (plus one byte to
        // notice), so that an input already in memory (a KMZ entry) is not
        // copied whole into one event.
        let room = (self.max - self.consumed).saturating_add(1).min(64 << 10);
        let available = self.inner.fill_buf()?;
        Ok(&available[..available.len().min(room)])
    }

    fn consume(&mut self, amount: usize) {
        self.consumed = self.consumed.saturating_add(amount);
        self.inner.consume(amount);
    }
}

/// Parser state over one or more KML documents.
struct Document<'l> {
    limits: &'l Limits,
    /// Text kept from the input (names, descriptions, values,
    /// coordinates), per placemark and in all.
    budget: Budget,
    /// Local names of the open elements.
    path: Vec<String>,
    placemark: Option<Placemark>,
    capture: Option<Capture>,
    text: String,
    /// `Data` name waiting for its `value`.
    data_name: Option<String>,
    /// `SimpleField` types from `Schema`s, by field name.
    schema: HashMap<String, String>,
    /// `NetworkLink` targets.
    links: Vec<String>,
}

impl<'l> Document<'l> {
    fn new(limits: &'l Limits) -> Self {
        Document {
            limits,
            budget: Budget::new(limits),
            path: Vec::new(),
            placemark: None,
            capture: None,
            text: String::new(),
            data_name: None,
            schema: HashMap::new(),
            links: Vec::new(),
        }
    }

    fn parse<R: BufRead, F, E>(
        &mut self,
        input: R,
        c: &mut Collector<'_, F, E>,
    ) -> Result<(), String>
    where
        F: FnMut(ParsedFeature) -> Result<(), E>,
    {
        let mut reader = Reader::from_reader(Limited {
            inner: input,
            consumed: 0,
            max: self.limits.max_feature_bytes,
            exceeded: false,
        });
        let mut buf = Vec::new();
        self.path.clear();
        self.placemark = None;
        self.capture = None;
        loop {
            if c.is_aborted() {
                return Ok(());
            }
            buf.clear();
            reader.get_mut().consumed = 0;
            let event = reader.read_event_into(&mut buf).map_err(|e| {
                if reader.get_ref().exceeded {
                    format!(
                        "KML text or tag near byte {} takes more than {} bytes (limit max_feature_bytes)",
                        reader.buffer_position(),
                        self.limits.max_feature_bytes
                    )
                } else {
                    format!(
                        "KML is not well-formed XML (near byte {}): {e}",
                        reader.error_position()
                    )
                }
            })?;
            match event {
                Event::DocType(_) => {
                    return Err(
                        "KML with a DOCTYPE is refused: entity declarations are not allowed in uploads"
                            .to_owned(),
                    );
                }
                Event::Start(e) => self.start(&e)?,
                Event::Empty(e) => {
                    self.start(&e)?;
                    self.end(c)?;
                }
                Event::End(_) => self.end(c)?,
                Event::Text(t) if self.capture.is_some() => {
                    let s = t
                        .decode()
                        .map_err(|e| format!("KML text is not valid UTF-8: {e}"))?;
                    self.keep(&s)?;
                }
                Event::CData(t) if self.capture.is_some() => {
                    let s = t
                        .decode()
                        .map_err(|e| format!("KML text is not valid UTF-8: {e}"))?;
                    self.keep(&s)?;
                }
                Event::GeneralRef(r) => {
                    let resolved = if r.is_char_ref() {
                        r.resolve_char_ref().ok().flatten().map(String::from)
                    } else {
                        let name = r
                            .decode()
                            .map_err(|e| format!("KML is not valid UTF-8: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                    };
                    let Some(s) = resolved else {
                        let name = String::from_utf8_lossy(&r);
                        return Err(format!(
                            "KML uses the undefined entity &{name}; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)"
                        ));
                    };
                    if self.capture.is_some() {
                        self.keep(&s)?;
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !self.path.is_empty() {
            return Err("KML document ends before its elements are closed".to_owned());
        }
        Ok(())
    }

    /// Adds captured text, charged to the placemark it is in (text outside
    /// placemarks, such as link targets, to the input only). A placemark
    /// whose text is too large gets an error and keeps no more text; too
    /// much text in all ends reading.
    fn keep(&mut self, text: &str) -> Result<(), String> {
        if self.placemark.as_ref().is_some_and(|pm| pm.error.is_some()) {
            return Ok(());
        }
        match self.budget.take(text.len()) {
            Ok(()) => {
                self.text.push_str(text);
                Ok(())
            }
            Err(o @ Overrun::Feature(_)) => {
                self.text.clear();
                match self.placemark.as_mut() {
                    Some(pm) => {
                        pm.error = Some(format!("its text {o}"));
                        Ok(())
                    }
                    None => Err(format!("KML text outside placemarks {o}")),
                }
            }
            Err(o) => Err(o.to_string()),
        }
    }

    fn parent(&self) -> Option<&str> {
        self.path
            .len()
            .checked_sub(2)
            .and_then(|i| self.path.get(i))
            .map(String::as_str)
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        if self.path.len() >= self.limits.max_depth {
            return Err(format!(
                "KML elements are nested more than {} levels deep (limit max_depth)",
                self.limits.max_depth
            ));
        }
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        self.path.push(name.clone());
        let local = name.as_str();
        let parent = self.parent().unwrap_or_default().to_owned();
        let attr = |key: &str| -> Result<Option<String>, String> {
            for a in e.attributes() {
                let a = a.map_err(|e| format!("KML attribute is malformed: {e}"))?;
                if a.key.local_name().as_ref() == key.as_bytes() {
                    let v = a
                        .unescape_value()
                        .map_err(|e| format!("KML attribute value is malformed: {e}"))?;
                    return Ok(Some(v.into_owned()));
                }
            }
            Ok(None)
        };
        let Some(pm) = self.placemark.as_mut() else {
            match local {
                "Placemark" => {
                    self.budget.next_feature();
                    self.placemark = Some(Placemark::default());
                }
                "SimpleField" => {
                    if let (Some(name), Some(kind)) = (attr("name")?, attr("type")?) {
                        self.schema.insert(name, kind.to_ascii_lowercase());
                    }
                }
                "href" if parent == "Link" || parent == "Url" => self.begin(Capture::Href),
                _ => {}
            }
            return Ok(());
        };
        let frame = match local {
            "Point" => Some(Frame::Point(Vec::new())),
            "LineString" => Some(Frame::Line(Vec::new())),
            "LinearRing" => Some(Frame::Ring(Vec::new())),
            "Polygon" => Some(Frame::Polygon {
                outer: None,
                inner: Vec::new(),
            }),
            "MultiGeometry" => Some(Frame::Multi(Vec::new())),
            _ => None,
        };
        if let Some(f) = frame {
            if pm.frames.len() >= MAX_GEOMETRY_DEPTH {
                pm.error.get_or_insert_with(|| {
                    format!("geometry is nested more than {MAX_GEOMETRY_DEPTH} levels deep")
                });
            } else {
                pm.frames.push(f);
            }
            return Ok(());
        }
        match local {
            "coordinates" => self.begin(Capture::Coordinates),
            "name" if parent == "Placemark" => self.begin(Capture::Name),
            "description" if parent == "Placemark" => self.begin(Capture::Description),
            "Data" => self.data_name = attr("name")?,
            "value" if parent == "Data" => self.begin(Capture::Value),
            "SimpleData" => {
                let name = attr("name")?.unwrap_or_default();
                self.begin(Capture::SimpleData(name));
            }
            _ => {}
        }
        Ok(())
    }

    fn begin(&mut self, capture: Capture) {
        self.capture = Some(capture);
        self.text.clear();
    }

    fn end<F, E>(&mut self, c: &mut Collector<'_, F, E>) -> Result<(), String>
    where
        F: FnMut(ParsedFeature) -> Result<(), E>,
    {
        let local = self.path.pop().unwrap_or_default();
        let parent = self.path.last().cloned().unwrap_or_default();
        let text = std::mem::take(&mut self.text);
        let capture = self.capture.take();
        if capture == Some(Capture::Href) {
            self.links.push(text.trim().to_owned());
            return Ok(());
        }
        if local == "Placemark" {
            if let Some(pm) = self.placemark.take() {
                self.placemark_end(pm, c);
            }
            return Ok(());
        }
        let Some(pm) = self.placemark.as_mut() else {
            return Ok(());
        };
        match capture {
            Some(Capture::Name) => pm.name = Some(text.trim().to_owned()),
            Some(Capture::Description) => pm.description = Some(text.trim().to_owned()),
            Some(Capture::Value) => {
                let name = self.data_name.clone().unwrap_or_default();
                pm.data.insert(name, Value::String(text.trim().to_owned()));
            }
            Some(Capture::SimpleData(name)) => {
                let v = typed(text.trim(), self.schema.get(&name).map(String::as_str));
                pm.data.insert(name, v);
            }
            Some(Capture::Coordinates) => {
                match parse_coordinates(&text, self.limits.max_vertices) {
                    Ok(ps) => {
                        if let Some(Frame::Point(p) | Frame::Line(p) | Frame::Ring(p)) =
                            pm.frames.last_mut()
                        {
                            *p = ps;
                        }
                    }
                    Err(e) => {
                        pm.error.get_or_insert(e);
                    }
                }
            }
            Some(Capture::Href) | None => {}
        }
        if !matches!(
            local.as_str(),
            "Point" | "LineString" | "LinearRing" | "Polygon" | "MultiGeometry"
        ) {
            return Ok(());
        }
        let Some(frame) = pm.frames.pop() else {
            return Ok(());
        };
        let value = match frame {
            Frame::Point(ps) => ps
                .into_iter()
                .next()
                .map(|p| GeometryValue::Point { coordinates: p }),
            Frame::Line(ps) => Some(GeometryValue::LineString { coordinates: ps }),
            Frame::Ring(ps) => {
                if let Some(Frame::Polygon { outer, inner }) = pm.frames.last_mut() {
                    if parent == "innerBoundaryIs" {
                        inner.push(ps);
                    } else {
                        *outer = Some(ps);
                    }
                    return Ok(());
                }
                Some(GeometryValue::LineString { coordinates: ps })
            }
            Frame::Polygon { outer, inner } => match outer {
                Some(o) => Some(GeometryValue::Polygon {
                    coordinates: std::iter::once(o).chain(inner).collect(),
                }),
                None => {
                    pm.error
                        .get_or_insert_with(|| "Polygon has no outerBoundaryIs".to_owned());
                    None
                }
            },
            Frame::Multi(gs) => Some(multi(gs)),
        };
        let Some(value) = value else { return Ok(()) };
        match pm.frames.last_mut() {
            Some(Frame::Multi(gs)) => gs.push(value),
            _ => {
                if pm.geometry.is_none() {
                    pm.geometry = Some(value);
                }
            }
        }
        Ok(())
    }

    fn placemark_end<F, E>(&mut self, pm: Placemark, c: &mut Collector<'_, F, E>)
    where
        F: FnMut(ParsedFeature) -> Result<(), E>,
    {
        let ControlFlow::Continue(i) = c.next_index() else {
            return;
        };
        if let Some(e) = pm.error {
            return c.error(Some(i), e);
        }
        let mut props = Map::new();
        if let Some(n) = pm.name {
            props.insert("name".to_owned(), Value::String(n));
        }
        if let Some(d) = pm.description {
            props.insert("description".to_owned(), Value::String(d));
        }
        for (k, v) in pm.data {
            props.entry(k).or_insert(v);
        }
        c.feature(i, feature(pm.geometry, props, None));
    }
}

/// A MultiGeometry as the GeoJSON multi type of its parts when they are
/// all of one kind, else a GeometryCollection.
fn multi(gs: Vec<GeometryValue>) -> GeometryValue {
    let all = |t: &str| !gs.is_empty() && gs.iter().all(|g| g.type_name() == t);
    if all("Point") {
        GeometryValue::MultiPoint {
            coordinates: gs
                .into_iter()
                .filter_map(|g| match g {
                    GeometryValue::Point { coordinates } => Some(coordinates),
                    _ => None,
                })
                .collect(),
        }
    } else if all("LineString") {
        GeometryValue::MultiLineString {
            coordinates: gs
                .into_iter()
                .filter_map(|g| match g {
                    GeometryValue::LineString { coordinates } => Some(coordinates),
                    _ => None,
                })
                .collect(),
        }
    } else if all("Polygon") {
        GeometryValue::MultiPolygon {
            coordinates: gs
                .into_iter()
                .filter_map(|g| match g {
                    GeometryValue::Polygon { coordinates } => Some(coordinates),
                    _ => None,
                })
                .collect(),
        }
    } else {
        GeometryValue::GeometryCollection {
            geometries: gs.into_iter().map(Geometry::new).collect(),
        }
    }
}

/// `lon,lat[,alt]` tuples separated by whitespace.
fn parse_coordinates(text: &str, max_vertices: usize) -> Result<Vec<Position>, String> {
    let mut out = Vec::new();
    for tuple in text.split_whitespace() {
        if out.len() >= max_vertices {
            return Err(format!(
                "geometry has more than {max_vertices} positions (limit max_vertices)"
            ));
        }
        let mut it = tuple.split(',').map(str::parse::<f64>);
        match (it.next(), it.next()) {
            (Some(Ok(x)), Some(Ok(y))) => out.push(Position::from([x, y])),
            _ => {
                return Err(format!(
                    "invalid KML coordinates {tuple:?} (expected lon,lat[,alt])"
                ));
            }
        }
    }
    Ok(out)
}

/// A `SimpleData` value typed by its `SimpleField` type.
fn typed(text: &str, kind: Option<&str>) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    let s = || Value::String(text.to_owned());
    match kind {
        Some("int" | "uint" | "short" | "ushort") => {
            text.parse::<i64>().map_or_else(|_| s(), Value::from)
        }
        Some("float" | "double") => text.parse::<f64>().map_or_else(|_| s(), number),
        Some("bool") => match text {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => s(),
        },
        _ => s(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Format;
    use crate::ingest::archive::tests::{tempfile_path::TempPath, write_zip};
    use crate::ingest::testing::{read_fixture, read_path_with};

    fn check_badung(out: &[ParsedFeature]) {
        assert_eq!(out.len(), 6);
        let f = &out[0];
        assert_eq!(
            f.geometry.as_deref(),
            Some(r#"{"type":"Point","coordinates":[115.1689,-8.7184]}"#)
        );
        assert_eq!(f.name.as_deref(), Some("Jalan Raya Kuta – café"));
        assert!(
            f.properties.contains(r#""kapasitas":1200"#),
            "{}",
            f.properties
        );
        assert!(
            f.properties.contains(r#""luas_ha":3.5"#),
            "{}",
            f.properties
        );
        let types: Vec<_> = out
            .iter()
            .map(|f| f.geometry_type.unwrap_or("null"))
            .collect();
        assert_eq!(
            types,
            [
                "Point",
                "Point",
                "Point",
                "LineString",
                "Polygon",
                "MultiPolygon"
            ]
        );
        let kuta = out[4].geometry.as_deref().unwrap_or_default();
        assert!(kuta.contains("[115.165,-8.725]"), "hole kept: {kuta}");
    }

    #[test]
    fn reads_kml() {
        let (out, r) = read_fixture("badung.kml", Format::Kml);
        assert!(r.is_ok(), "{:?}", r.errors);
        check_badung(&out);
    }

    #[test]
    fn reads_kmz_following_links_inside_the_archive() {
        let (out, r) = read_fixture("badung.kmz", Format::Kmz);
        assert!(r.is_ok(), "{:?}", r.errors);
        check_badung(&out);
        assert_eq!(resolve("layers", "../doc.kml").as_deref(), Some("doc.kml"));
        assert_eq!(resolve("", "../../etc/passwd"), None);
        assert_eq!(resolve("", "http://example.com/a.kml"), None);
    }

    fn read_kml_text(kml: &str) -> (Vec<ParsedFeature>, crate::ingest::Report) {
        let p = TempPath::with(kml.as_bytes(), "kml");
        read_path_with(&p, Format::Kml, &Limits::default())
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml><Placemark><name>&xxe;</name><Point><coordinates>115,-8</coordinates></Point></Placemark></kml>"#;
        let (out, r) = read_kml_text(xxe);
        assert!(out.is_empty());
        assert!(r.errors[0].message.contains("DOCTYPE"), "{:?}", r.errors);

        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<kml><Placemark><name>&lol2;</name></Placemark></kml>"#;
        let (_, r) = read_kml_text(laughs);
        assert!(r.errors[0].message.contains("DOCTYPE"), "{:?}", r.errors);

        let undeclared = r#"<kml><Placemark><name>&lol;</name></Placemark></kml>"#;
        let (_, r) = read_kml_text(undeclared);
        assert!(
            r.errors[0].message.contains("undefined entity &lol;"),
            "{:?}",
            r.errors
        );

        let ok = r#"<kml><Placemark><name>Kuta &amp; Legian &#233;</name><description><![CDATA[<b>pantai</b>]]></description>
<ExtendedData><Data name="jenis"><value>pantai</value></Data></ExtendedData>
<MultiGeometry><Point><coordinates>115.1,-8.7,0</coordinates></Point><LineString><coordinates>115.1,-8.7 115.2,-8.6</coordinates></LineString></MultiGeometry></Placemark></kml>"#;
        let (out, r) = read_kml_text(ok);
        assert!(r.is_ok(), "{:?}", r.errors);
        assert_eq!(out[0].name.as_deref(), Some("Kuta & Legian é"));
        assert_eq!(out[0].geometry_type, Some("GeometryCollection"));
        assert!(
            out[0]
                .properties
                .contains(r#""description":"<b>pantai</b>","jenis":"pantai""#),
            "{}",
            out[0].properties
        );
    }

    #[test]
    fn bounds_the_text_of_a_placemark_and_of_one_node() {
        let limits = Limits {
            max_feature_bytes: 1000,
            ..Limits::default()
        };
        let pm = |name: &str, desc: &str| {
            format!(
                "<Placemark><name>{name}</name><description>{desc}</description><Point><coordinates>115.1,-8.7</coordinates></Point></Placemark>"
            )
        };
        // Many small texts in one placemark add up.
        let values: String = (0..40)
            .map(|i| {
                format!(
                    "<Data name=\"d{i}\"><value>{}</value></Data>",
                    "v".repeat(40)
                )
            })
            .collect();
        let kml = format!(
            "<kml><Document>{}<Placemark><name>b</name><ExtendedData>{values}</ExtendedData></Placemark>{}</Document></kml>",
            pm("a", "x"),
            pm("c", "y")
        );
        let p = TempPath::with(kml.as_bytes(), "kml");
        let (_, r) = read_path_with(&p, Format::Kml, &limits);
        assert_eq!((r.read, r.error_count), (3, 1), "{:?}", r.errors);
        assert_eq!(r.errors[0].feature, Some(1));
        assert!(
            r.errors[0].message.contains("limit max_feature_bytes"),
            "{:?}",
            r.errors
        );
        // One huge text node, even outside anything read, is refused while
        // it is read.
        let kml = format!(
            "<kml><Document><Snippet>{}</Snippet>{}</Document></kml>",
            "z".repeat(100_000),
            pm("a", "x")
        );
        let p = TempPath::with(kml.as_bytes(), "kml");
        let (_, r) = read_path_with(&p, Format::Kml, &limits);
        assert_eq!(r.read, 0);
        assert!(
            r.errors[0]
                .message
                .contains("takes more than 1000 bytes (limit max_feature_bytes)"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn bad_documents_are_problems() {
        let (_, r) = read_kml_text("<kml><Placemark><name>x</Placemark></kml>");
        assert!(
            r.errors[0].message.contains("not well-formed"),
            "{:?}",
            r.errors
        );
        let (_, r) = read_kml_text(
            "<kml><Placemark><Point><coordinates>a,b</coordinates></Point></Placemark></kml>",
        );
        assert_eq!(r.errors[0].feature, Some(0));
        assert!(
            r.errors[0].message.contains("invalid KML coordinates"),
            "{:?}",
            r.errors
        );
        let deep = format!(
            "<kml>{}{}</kml>",
            "<Folder>".repeat(100),
            "</Folder>".repeat(100)
        );
        let (_, r) = read_kml_text(&deep);
        assert!(r.errors[0].message.contains("max_depth"), "{:?}", r.errors);
        let (_, r) = read_kml_text("<kml><Folder>");
        assert!(!r.is_ok());
        let p = write_zip(&[("readme.txt", b"x")]);
        let (_, r) = read_path_with(&p, Format::Kmz, &Limits::default());
        assert!(r.errors[0].message.contains("no .kml"), "{:?}", r.errors);
    }
}
