//! The format-independent half of reading an upload: every reader (GeoJSON,
//! FlatGeobuf, Shapefile, KML, CSV, GeoPackage) turns its input into
//! [`geojson::Feature`]s in WGS 84 and hands them to a [`Collector`], which
//! validates them, assigns ids, checks for duplicates, builds the
//! [`Report`] and passes valid features on to the writer.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use geojson::feature::Id;
use serde::Serialize;
use serde_json::{Map, Value};

use super::name_field::{Column, NameKeys, TextStats, detect, name_key, name_of};
use super::validate::check_geometry;
use super::{Limits, Overrun, ParsedFeature, Problem};
use crate::bbox::Bbox;
use crate::text::Text;

/// Distinct property names described in a report's schema; more are counted
/// in [`Report::schema_truncated`] but not described.
const MAX_SCHEMA_FIELDS: usize = 1_000;

/// What reading an input found: the validation report shown before anything
/// is published, and stored with the version it describes.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Report {
    /// The format the input was read as (`geojson`, `shapefile`, …).
    pub format: String,
    /// The coordinate reference system of the source, when it was not WGS 84
    /// and coordinates were reprojected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_crs: Option<String>,
    /// Features read from the input, valid or not.
    pub read: usize,
    /// Valid features (stored when there is no error).
    pub features: usize,
    /// Valid features per geometry type (`null` for no geometry).
    pub geometry_types: BTreeMap<String, usize>,
    /// Extent of the valid features.
    pub bbox: Option<Bbox>,
    /// Property names in order of first appearance, with inferred types.
    pub schema: Vec<Field>,
    /// The property the features' names come from (see
    /// [`name_field`](super::name_field)); `None`: they have no names.
    pub name_field: Option<String>,
    /// The keys the features took their names from while reading.
    #[serde(skip)]
    pub name_keys: NameKeys,
    /// Property names beyond `MAX_SCHEMA_FIELDS` that were not described.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub schema_truncated: usize,
    /// The first errors, in input order; any error rejects the input.
    pub errors: Vec<Problem>,
    /// All errors (may exceed `errors.len()`).
    pub error_count: usize,
    /// The first warnings: suspicious but stored (self-intersections,
    /// features outside the expected extent).
    pub warnings: Vec<Problem>,
    /// All warnings.
    pub warning_count: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Report {
    /// Whether the input may be stored as a draft.
    pub fn is_ok(&self) -> bool {
        self.error_count == 0
    }
}

/// One property in a report's schema.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Field {
    /// The property name.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `array`, `object`, `null`
    /// (only nulls seen) or `mixed`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Features where the property holds a non-null value.
    pub count: usize,
    /// What a sample of its values looks like, for the name field.
    #[serde(skip)]
    pub stats: TextStats,
}

/// Validates features from a reader and hands the valid ones to `sink`.
///
/// Once any error is found nothing more is passed on (the input will be
/// rejected as a whole) but reading goes on so that one upload reports every
/// problem at once, up to [`Limits::max_problems`] of each kind in detail.
pub struct Collector<'a, F, E> {
    limits: &'a Limits,
    sink: F,
    sink_error: Option<E>,
    index: usize,
    seen: HashMap<String, usize>,
    fields: HashMap<String, usize>,
    report: Report,
    aborted: bool,
    /// The feature being checked: its index, id and name, for messages.
    label: Option<(usize, Option<String>, Option<String>)>,
}

impl<'a, F, E> Collector<'a, F, E>
where
    F: FnMut(ParsedFeature) -> Result<(), E>,
{
    /// A collector for an input read as `format`.
    pub fn new(format: &str, limits: &'a Limits, sink: F) -> Self {
        Collector {
            limits,
            sink,
            sink_error: None,
            index: 0,
            seen: HashMap::new(),
            fields: HashMap::new(),
            label: None,
            report: Report {
                format: format.to_owned(),
                ..Report::default()
            },
            aborted: false,
        }
    }

    /// Records that coordinates were reprojected from `crs`.
    pub fn set_source_crs(&mut self, crs: impl Into<String>) {
        self.report.source_crs = Some(crs.into());
    }

    /// The index of the next feature, or `Break` once reading must stop
    /// (a fatal problem, the feature limit, or a failed sink).
    pub fn next_index(&mut self) -> ControlFlow<(), usize> {
        if self.aborted {
            return ControlFlow::Break(());
        }
        let index = self.index;
        if index >= self.limits.max_features {
            let m = self.limits.max_features;
            self.fatal(Text::new(
                format!("Berkas berisi lebih dari {m} objek (batas max_features); pecah menjadi beberapa lapisan atau hubungi admin."),
                format!("The input has more than {m} features (limit max_features); split it into several layers or ask an administrator."),
            ));
            return ControlFlow::Break(());
        }
        self.index += 1;
        self.report.read = self.index;
        ControlFlow::Continue(index)
    }

    /// Whether reading should stop.
    pub fn is_aborted(&self) -> bool {
        self.aborted
    }

    /// Records an error, in feature `index` or in the whole input. A
    /// `String` is a reader's technical detail, in English only.
    pub fn error(&mut self, index: Option<usize>, message: impl Into<Text>) {
        self.report.error_count += 1;
        if self.report.errors.len() < self.limits.max_problems {
            let p = self.problem(index, message.into());
            self.report.errors.push(p);
        }
    }

    /// Records a warning for feature `index`.
    pub fn warning(&mut self, index: Option<usize>, message: impl Into<Text>) {
        self.report.warning_count += 1;
        if self.report.warnings.len() < self.limits.max_problems {
            let p = self.problem(index, message.into());
            self.report.warnings.push(p);
        }
    }

    /// A problem of feature `index`, with its id and name when it is the
    /// feature being checked.
    fn problem(&self, index: Option<usize>, text: Text) -> Problem {
        let (fid, name) = match (&self.label, index) {
            (Some((i, fid, name)), Some(j)) if *i == j => (fid.clone(), name.clone()),
            _ => (None, None),
        };
        Problem {
            feature: index,
            number: index.map(|i| i + 1),
            fid,
            name,
            message: text.en,
            message_id: text.id,
        }
    }

    /// Records an error that ends reading (syntax, size, I/O, limits).
    pub fn fatal(&mut self, message: impl Into<Text>) {
        self.error(None, message);
        self.aborted = true;
    }

    /// Records that a [`Budget`](super::Budget) refused bytes: an error in
    /// feature `index` when that feature alone is too large, else (the
    /// whole input is, or the feature is not known) an error that ends
    /// reading.
    pub(crate) fn overrun(&mut self, index: Option<usize>, o: Overrun) {
        match (o, index) {
            (Overrun::Feature(_), Some(i)) => self.error(Some(i), o.to_string()),
            (Overrun::Feature(_), None) => self.fatal(format!("a feature {o}")),
            (Overrun::Input(_), _) => self.fatal(o.to_string()),
        }
    }

    /// Validates feature `index` and passes it on when valid.
    pub fn feature(&mut self, index: usize, f: geojson::Feature) {
        self.label = Some((
            index,
            id_of(&f),
            f.properties.as_ref().and_then(|p| name_of(p, name_key(p))),
        ));
        let parsed = match convert(index, f, self.limits) {
            Ok(p) => p,
            Err(message) => return self.error(Some(index), message),
        };
        if let Some(first) = self.seen.get(&parsed.feature.fid) {
            let (id, n) = (&parsed.feature.fid_json, first + 1);
            let msg = Text::new(
                format!("Id {id} sudah dipakai objek no. {n}; setiap objek perlu id yang berbeda."),
                format!(
                    "Duplicate id {id} (first used by feature {n}); every feature needs its own id."
                ),
            );
            return self.error(Some(index), msg);
        }
        self.seen.insert(parsed.feature.fid.clone(), index);
        if let Some(w) = parsed.invalid {
            self.warning(Some(index), w);
        }
        if let (Some(extent), Some(b)) = (self.limits.extent, parsed.feature.bbox)
            && !(b[0] >= extent[0] && b[1] >= extent[1] && b[2] <= extent[2] && b[3] <= extent[3])
        {
            self.warning(
                Some(index),
                Text::new(
                    format!(
                        "Berada di luar wilayah yang diharapkan {extent:?} (batas objek {b:?}); apakah letaknya benar?"
                    ),
                    format!(
                        "lies outside the expected extent {extent:?} (extent of the feature {b:?}); is it in the right place?"
                    ),
                ),
            );
        }
        if self.limits.regency
            && let Some([x, y]) = parsed.outside_regency
        {
            self.warning(
                Some(index),
                Text::new(
                    format!(
                        "Titik [{x}, {y}] berada di luar Kabupaten Badung (batas wilayah yang sebenarnya, dengan toleransi beberapa ratus meter); periksa apakah letak objek ini benar, atau bujur dan lintangnya tertukar."
                    ),
                    format!(
                        "Position [{x}, {y}] lies outside Badung Regency (its real boundary, with a tolerance of a few hundred metres); check that the feature is in the right place, or whether longitude and latitude are swapped."
                    ),
                ),
            );
        }
        self.describe(&parsed.props);
        let key = name_key(&parsed.props);
        self.report.name_keys.note(key);
        let mut f = parsed.feature;
        f.name = name_of(&parsed.props, key);
        self.report.features += 1;
        *self
            .report
            .geometry_types
            .entry(f.geometry_type.unwrap_or("null").to_owned())
            .or_default() += 1;
        if let Some([a, b, c, d]) = f.bbox {
            let fb = Bbox::new(a, b, c, d);
            self.report.bbox = Some(self.report.bbox.map_or(fb, |x| x.union(&fb)));
        }
        // Once the input is known to be bad nothing more is stored.
        if self.report.error_count > 0 || self.sink_error.is_some() {
            return;
        }
        if let Err(e) = (self.sink)(f) {
            self.sink_error = Some(e);
            self.aborted = true;
        }
    }

    fn describe(&mut self, props: &Map<String, Value>) {
        for (k, v) in props {
            let kind = match v {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            let i = match self.fields.get(k) {
                Some(&i) => i,
                None if self.report.schema.len() >= MAX_SCHEMA_FIELDS => {
                    self.report.schema_truncated += 1;
                    continue;
                }
                None => {
                    let i = self.report.schema.len();
                    self.fields.insert(k.clone(), i);
                    self.report.schema.push(Field {
                        name: k.clone(),
                        kind: "null".to_owned(),
                        count: 0,
                        stats: TextStats::default(),
                    });
                    i
                }
            };
            let field = &mut self.report.schema[i];
            if kind == "null" {
                continue;
            }
            field.count += 1;
            if field.stats.wants_more() {
                field.stats.add(v);
            }
            field.kind = match (field.kind.as_str(), kind) {
                ("null", k) => k,
                (a, b) if a == b => continue,
                ("integer", "number") | ("number", "integer") => "number",
                _ => "mixed",
            }
            .to_owned();
        }
    }

    /// Ends reading: the report, or the sink's error if it failed.
    pub fn finish(mut self) -> Result<Report, E> {
        match self.sink_error {
            Some(e) => Err(e),
            None => {
                let columns: Vec<Column<'_>> = self
                    .report
                    .schema
                    .iter()
                    .map(|f| Column {
                        name: &f.name,
                        kind: &f.kind,
                        stats: &f.stats,
                    })
                    .collect();
                self.report.name_field = detect(&columns);
                Ok(self.report)
            }
        }
    }
}

/// Text may not hold U+0000: PostgreSQL can store it neither in text nor
/// in jsonb, and a file that SQLite took must move to PostgreSQL intact.
fn nul_message(id: &str, en: &str) -> Text {
    Text::new(
        format!(
            "{id} berisi karakter U+0000 (NUL) yang tidak dapat disimpan; hapus karakter itu dari berkas."
        ),
        format!(
            "{en} contains the character U+0000 (NUL), which cannot be stored; remove it from the file."
        ),
    )
}

/// Whether a property's key or value holds U+0000 anywhere, nested too.
fn has_nul(key: &str, value: &Value) -> bool {
    fn value_has(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(a) => a.iter().any(value_has),
            Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || value_has(v)),
            _ => false,
        }
    }
    key.contains('\0') || value_has(value)
}

struct Converted {
    feature: ParsedFeature,
    props: Map<String, Value>,
    /// Why the geometry is not valid in the OGC sense, when it is not.
    invalid: Option<Text>,
    /// The first position outside the regency, when [`Limits::regency`]
    /// asks and there is one.
    outside_regency: Option<[f64; 2]>,
}

/// The id of a feature as read, for messages.
fn id_of(f: &geojson::Feature) -> Option<String> {
    match &f.id {
        Some(Id::String(s)) => Some(s.clone()),
        Some(Id::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

/// The first position of `value` not in or near Badung Regency.
fn outside_regency(value: &geojson::GeometryValue) -> Option<[f64; 2]> {
    use geojson::GeometryValue as G;
    fn first(ps: &[geojson::Position]) -> Option<[f64; 2]> {
        ps.iter()
            .map(|p| [p[0], p[1]])
            .find(|[x, y]| !crate::regency::near_regency(*x, *y))
    }
    match value {
        G::Point { coordinates } => first(std::slice::from_ref(coordinates)),
        G::MultiPoint { coordinates } | G::LineString { coordinates } => first(coordinates),
        G::MultiLineString { coordinates } | G::Polygon { coordinates } => {
            coordinates.iter().find_map(|l| first(l))
        }
        G::MultiPolygon { coordinates } => coordinates
            .iter()
            .flat_map(|p| p.iter())
            .find_map(|l| first(l)),
        G::GeometryCollection { geometries } => {
            geometries.iter().find_map(|g| outside_regency(&g.value))
        }
    }
}

fn convert(index: usize, f: geojson::Feature, limits: &Limits) -> Result<Converted, Text> {
    let (fid, fid_json) = match f.id {
        Some(Id::String(s)) => {
            let json = serde_json::to_string(&s).map_err(|e| Text::from(e.to_string()))?;
            (s, json)
        }
        Some(Id::Number(n)) => (n.to_string(), n.to_string()),
        None => {
            let n = (index + 1).to_string();
            (n.clone(), n)
        }
    };
    if fid.contains('\0') {
        return Err(nul_message("id", "the id"));
    }
    if fid.is_empty() || fid.len() > 256 {
        let n = fid.len();
        return Err(Text::new(
            format!("Id harus 1 sampai 256 karakter, bukan {n}."),
            format!("The id must be 1 to 256 characters long, got {n}."),
        ));
    }
    let (geometry, geometry_type, bbox, invalid, outside) = match f.geometry {
        None => (None, None, None, None, None),
        Some(g) => {
            let bbox = check_geometry(&g.value, limits.max_vertices)?;
            let kind = g.value.type_name();
            let invalid = ogc_invalidity(&g.value);
            let outside = if limits.regency {
                outside_regency(&g.value)
            } else {
                None
            };
            // Only `type` and `coordinates`/`geometries` are kept: a foreign
            // bbox could disagree with the coordinates.
            let json = serde_json::to_string(&geojson::Geometry::new(g.value))
                .map_err(|e| Text::from(e.to_string()))?;
            (Some(json), Some(kind), bbox, invalid, outside)
        }
    };
    let props = f.properties.unwrap_or_default();
    if props.len() > limits.max_properties {
        let (n, m) = (props.len(), limits.max_properties);
        return Err(Text::new(
            format!("Objek ini punya {n} atribut, lebih dari {m} (batas max_properties)."),
            format!("{n} properties, more than {m} (limit max_properties)."),
        ));
    }
    if let Some(key) = props.iter().find_map(|(k, v)| has_nul(k, v).then_some(k)) {
        return Err(nul_message(
            &format!("atribut {key:?}"),
            &format!("property {key:?}"),
        ));
    }
    let properties = serde_json::to_string(&props).map_err(|e| Text::from(e.to_string()))?;
    if properties.len() > limits.max_properties_bytes {
        let (n, m) = (properties.len(), limits.max_properties_bytes);
        return Err(Text::new(
            format!(
                "Atribut objek ini berukuran {n} byte, lebih dari {m} (batas max_properties_bytes)."
            ),
            format!("The properties take {n} bytes, more than {m} (limit max_properties_bytes)."),
        ));
    }
    Ok(Converted {
        feature: ParsedFeature {
            fid,
            fid_json,
            geometry,
            geometry_type,
            properties,
            name: None,
            bbox,
        },
        props,
        invalid,
        outside_regency: outside,
    })
}

/// Self-intersections and other OGC validity problems of polygons: maps
/// drawn by hand often have them and renderers cope, so they are warnings.
fn ogc_invalidity(value: &geojson::GeometryValue) -> Option<Text> {
    use geojson::GeometryValue as G;
    if !matches!(value, G::Polygon { .. } | G::MultiPolygon { .. }) {
        return None;
    }
    let g: geo::Geometry<f64> = value.try_into().ok()?;
    let checked = match &g {
        geo::Geometry::Polygon(p) => super::validity::check_polygon(p),
        geo::Geometry::MultiPolygon(m) => super::validity::check_multi_polygon(m),
        _ => Ok(()),
    };
    checked.err().map(|e| {
        Text::new(
            format!(
                "Geometri tidak sah menurut OGC simple features: {} Peta tetap menampilkannya, tetapi perhitungan luas dan irisan bisa keliru; perbaiki bentuknya bila sempat.",
                e.id
            ),
            format!("geometry is not valid (OGC simple features): {}", e.en),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(features: Vec<geojson::Feature>, limits: &Limits) -> (Vec<ParsedFeature>, Report) {
        let mut out = Vec::new();
        let mut c = Collector::new("test", limits, |f| {
            out.push(f);
            Ok::<_, ()>(())
        });
        for f in features {
            let ControlFlow::Continue(i) = c.next_index() else {
                break;
            };
            c.feature(i, f);
        }
        let report = c.finish().unwrap();
        (out, report)
    }

    fn feature(json: &str) -> geojson::Feature {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn infers_the_schema() {
        let fs = vec![
            feature(
                r#"{"type":"Feature","properties":{"nama":"a","n":1,"x":null},"geometry":null}"#,
            ),
            feature(
                r#"{"type":"Feature","properties":{"nama":"b","n":1.5,"x":true,"y":[1]},"geometry":null}"#,
            ),
            feature(r#"{"type":"Feature","properties":{"nama":3,"n":2},"geometry":null}"#),
        ];
        let (_, r) = collect(fs, &Limits::default());
        let got: Vec<(&str, &str, usize)> = r
            .schema
            .iter()
            .map(|f| (f.name.as_str(), f.kind.as_str(), f.count))
            .collect();
        assert_eq!(
            got,
            [
                ("nama", "mixed", 3),
                ("n", "number", 3),
                ("x", "boolean", 1),
                ("y", "array", 1)
            ]
        );
        assert_eq!((r.read, r.features, r.geometry_types["null"]), (3, 3, 3));
    }

    #[test]
    fn names_follow_the_detected_field_while_reading() {
        let uniform = vec![
            feature(
                r#"{"type":"Feature","properties":{"kode":"P-1","nama pura":" Pura Dalem "},"geometry":null}"#,
            ),
            feature(
                r#"{"type":"Feature","properties":{"kode":"P-2","nama pura":"Pura Desa"},"geometry":null}"#,
            ),
        ];
        let (out, r) = collect(uniform, &Limits::default());
        let names: Vec<_> = out.iter().map(|f| f.name.as_deref()).collect();
        assert_eq!(names, [Some("Pura Dalem"), Some("Pura Desa")]);
        assert_eq!(r.name_field.as_deref(), Some("nama pura"));
        assert!(r.name_keys.names_follow(r.name_field.as_deref()));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["name_field"], "nama pura");
        assert!(json["schema"][0].get("stats").is_none(), "{json}");

        // Features named by different keys: the layer's field is the best
        // in the schema, and the names need a second pass.
        let mixed = vec![
            feature(r#"{"type":"Feature","properties":{"title":"A"},"geometry":null}"#),
            feature(r#"{"type":"Feature","properties":{"name":"B","title":"C"},"geometry":null}"#),
        ];
        let (out, r) = collect(mixed, &Limits::default());
        assert_eq!(out[0].name.as_deref(), Some("A"));
        assert_eq!(r.name_field.as_deref(), Some("name"));
        assert!(!r.name_keys.names_follow(r.name_field.as_deref()));
    }

    #[test]
    fn warns_about_self_intersections_and_far_away_features() {
        let bowtie = feature(
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[115.1,-8.7],[115.2,-8.6],[115.2,-8.7],[115.1,-8.6],[115.1,-8.7]]]}}"#,
        );
        let far = feature(
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.8,-6.2]}}"#,
        );
        let limits = Limits {
            extent: Some([115.0, -8.9, 115.4, -8.4]),
            ..Limits::default()
        };
        let (out, r) = collect(vec![bowtie, far], &limits);
        assert_eq!(out.len(), 2, "warnings do not reject");
        assert_eq!(r.warning_count, 2, "{:?}", r.warnings);
        assert!(r.warnings[0].message.contains("self-intersection"));
        assert_eq!(r.warnings[1].feature, Some(1));
        assert!(
            r.warnings[1]
                .message
                .contains("outside the expected extent")
        );
        assert!(r.is_ok());
    }
}
