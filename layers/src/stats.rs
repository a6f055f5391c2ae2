//! Features counted per area, for the leaders' dashboard (`GET /api/stats`).
//!
//! A layer's features are grouped either by the area that contains them
//! (the six kecamatan of [`crate::regency`], by real geometry, never by a
//! property's text) or by the value of a text property. Per group the
//! answer holds the count, optionally split by a second property
//! (`group`: COVID zones by risk level per kecamatan), and the sum and
//! mean of numeric properties.
//!
//! The assignment rule, for areas: a point belongs to the area whose
//! polygon contains it; a line, polygon or point set to the area that
//! contains its *interior point* (`geo`'s [`InteriorPoint`]: a point on
//! or inside the geometry, near its centre). So a feature spanning two
//! kecamatan counts once, where its interior point lies. Features that no
//! area contains, and features without geometry, are counted as outside
//! (*luar wilayah*).
//!
//! Containment is tested against [`Areas`], which prepares each boundary
//! once: its bounding box first, then an even-odd ray cast over only the
//! edges of one horizontal band of the polygon (the ~6,000 vertices of the
//! kecamatan are split in bands of a few edges each), so a point costs a
//! handful of edge tests rather than thousands. `benches/stats.rs` measures
//! it against `geo`'s `Contains`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use geo::{
    Coord, Geometry, InteriorPoint, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon,
};
use serde::Serialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use crate::index::LayerData;
use crate::index::geometry::PartKind;

/// The most distinct values a `by=<property>` grouping may produce.
pub const MAX_AREAS: usize = 1000;
/// The most distinct values of the `group` property over the layer.
pub const MAX_GROUPS: usize = 100;

/// Why statistics could not be computed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatsError {
    /// The property has more distinct values than a grouping may show.
    #[error("{param}={property}: the property has more than {limit} distinct values")]
    TooManyValues {
        /// The request parameter that named the property (`by`, `group`).
        param: &'static str,
        /// The property.
        property: String,
        /// The limit ([`MAX_AREAS`] or [`MAX_GROUPS`]).
        limit: usize,
    },
    /// No feature of the layer has the property.
    #[error("{param}: no feature of the layer has a property {property:?}")]
    UnknownProperty {
        /// The request parameter that named the property (`by`, `group`,
        /// `sum`, `mean`).
        param: &'static str,
        /// The property.
        property: String,
    },
}

/// A set of named areas prepared for fast point-in-polygon tests.
pub struct Areas {
    areas: Vec<Area>,
}

impl fmt::Debug for Areas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.areas.iter().map(|a| &a.name))
            .finish()
    }
}

/// One named area: its name, bounding box and prepared boundary.
pub struct Area {
    /// The area's name (`Kuta`, `Mengwi`, …).
    pub name: String,
    /// `[minx, miny, maxx, maxy]` of its boundary.
    pub bbox: [f64; 4],
    prepared: Prepared,
}

static KECAMATAN: LazyLock<Areas> = LazyLock::new(|| {
    Areas::new(
        crate::regency::kecamatan_list()
            .iter()
            .map(|(name, g)| (name.clone(), g)),
    )
});

impl Areas {
    /// Prepares areas from names and (multi)polygons; other geometries
    /// contribute no boundary.
    pub fn new<'a>(list: impl IntoIterator<Item = (String, &'a Geometry<f64>)>) -> Areas {
        let areas = list
            .into_iter()
            .map(|(name, g)| {
                let prepared = Prepared::new(&polygons_of(g));
                Area {
                    name,
                    bbox: prepared.bbox,
                    prepared,
                }
            })
            .collect();
        Areas { areas }
    }

    /// Areas from the polygons of a layer (desa boundaries): each feature
    /// with a polygon is one area, named by the first of `name_props` it
    /// has as text, else by its display name. Features without a polygon
    /// or a name are left out. Made once per layer version through
    /// [`LayerData::derived`].
    pub fn from_layer(data: &LayerData, name_props: &[&str]) -> Areas {
        let mut values = vec![None; name_props.len()];
        let mut areas = Vec::new();
        for i in 0..data.len() as u32 {
            let polygons = polygons_of_runs(&mut data.runs(i));
            if polygons.is_empty() {
                continue;
            }
            values.iter_mut().for_each(|v| *v = None);
            pick(data.properties_bytes(i), name_props, &mut values);
            let name = values
                .iter()
                .flatten()
                .find_map(text)
                .or_else(|| data.name(i).map(str::to_owned));
            let Some(name) = name else { continue };
            let prepared = Prepared::new(&polygons);
            areas.push(Area {
                name,
                bbox: prepared.bbox,
                prepared,
            });
        }
        Areas { areas }
    }

    /// The six kecamatan of Badung, prepared once.
    pub fn kecamatan() -> &'static Areas {
        &KECAMATAN
    }

    /// The areas, in the order given.
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// The position of the first area containing (`x`, `y`).
    pub fn locate(&self, x: f64, y: f64) -> Option<usize> {
        self.areas.iter().position(|a| a.prepared.contains(x, y))
    }
}

fn polygons_of(g: &Geometry<f64>) -> Vec<Polygon<f64>> {
    match g {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(mp) => mp.0.clone(),
        Geometry::GeometryCollection(gc) => gc.0.iter().flat_map(polygons_of).collect(),
        _ => Vec::new(),
    }
}

/// A boundary split into horizontal bands, each holding the edges whose
/// vertical extent meets it.
struct Prepared {
    bbox: [f64; 4],
    bands: usize,
    band_height: f64,
    /// Band `b`'s edges are `edges[offsets[b]..offsets[b + 1]]`.
    offsets: Vec<u32>,
    /// `[x1, y1, x2, y2]`; horizontal edges are left out (a ray never
    /// crosses them).
    edges: Vec<[f64; 4]>,
}

impl Prepared {
    fn new(polygons: &[Polygon<f64>]) -> Prepared {
        let mut all: Vec<[f64; 4]> = Vec::new();
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for p in polygons {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    for c in [l.start, l.end] {
                        bbox = [
                            bbox[0].min(c.x),
                            bbox[1].min(c.y),
                            bbox[2].max(c.x),
                            bbox[3].max(c.y),
                        ];
                    }
                    if l.start.y != l.end.y {
                        all.push([l.start.x, l.start.y, l.end.x, l.end.y]);
                    }
                }
            }
        }
        let bands = (all.len() / 4).clamp(1, 4096);
        let height = (bbox[3] - bbox[1]).max(f64::MIN_POSITIVE);
        let band_height = height / bands as f64;
        let band = |y: f64| (((y - bbox[1]) / band_height) as usize).min(bands - 1);
        let mut counts = vec![0u32; bands + 1];
        for e in &all {
            for b in band(e[1].min(e[3]))..=band(e[1].max(e[3])) {
                counts[b + 1] += 1;
            }
        }
        for b in 0..bands {
            counts[b + 1] += counts[b];
        }
        let offsets = counts;
        let mut fill = offsets.clone();
        let mut edges = vec![[0.0; 4]; offsets[bands] as usize];
        for e in &all {
            for b in band(e[1].min(e[3]))..=band(e[1].max(e[3])) {
                edges[fill[b] as usize] = *e;
                fill[b] += 1;
            }
        }
        Prepared {
            bbox,
            bands,
            band_height,
            offsets,
            edges,
        }
    }

    /// Even-odd ray cast towards +x over the edges of `y`'s band. Points
    /// exactly on the boundary may go either way.
    fn contains(&self, x: f64, y: f64) -> bool {
        let [minx, miny, maxx, maxy] = self.bbox;
        if !(x >= minx && x <= maxx && y >= miny && y <= maxy) {
            return false;
        }
        let b = (((y - miny) / self.band_height) as usize).min(self.bands - 1);
        let edges = &self.edges[self.offsets[b] as usize..self.offsets[b + 1] as usize];
        let mut inside = false;
        for &[x1, y1, x2, y2] in edges {
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                inside = !inside;
            }
        }
        inside
    }
}

/// How features are grouped.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// By the area containing each feature (see the module's rule).
    Areas(&'a Areas),
    /// By the value of this property (text as is; numbers and booleans
    /// as written). Features without a value count as outside.
    Property(&'a str),
}

/// What to compute.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    /// The grouping.
    pub by: By<'a>,
    /// A property whose values split each group's count (`""`: features
    /// without a value).
    pub group: Option<&'a str>,
    /// Numeric properties to sum per group.
    pub sum: &'a [String],
    /// Numeric properties to average per group.
    pub mean: &'a [String],
}

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaStats {
    /// The area's name or the property's value (`""` for outside).
    pub name: String,
    /// Features in it.
    pub count: usize,
    /// Per `sum` property: the sum of its numeric values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<BTreeMap<String, f64>>,
    /// Per `mean` property: the mean of its numeric values (null when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<BTreeMap<String, Option<f64>>>,
    /// Per `sum` or `mean` property: how many numeric values were counted
    /// (values that are not numbers, and missing ones, are ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counted: Option<BTreeMap<String, usize>>,
    /// With `group`: features per value of the group property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<BTreeMap<String, usize>>,
    /// `[minx, miny, maxx, maxy]`: the area's boundary, or the extent of
    /// the group's features; absent when none has geometry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f64; 4]>,
}

/// The answer: every group, sorted by count (largest first, then by
/// name), the features outside every group, and the layer's total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// The groups. With areas, every area is listed, even when empty.
    pub areas: Vec<AreaStats>,
    /// Features in no area (or without a value of the `by` property).
    pub outside: AreaStats,
    /// All features of the layer.
    pub total: usize,
}

#[derive(Default)]
struct Acc {
    count: usize,
    sums: Vec<f64>,
    counted: Vec<usize>,
    groups: HashMap<String, usize>,
    bbox: Option<[f64; 4]>,
}

const OUTSIDE: u32 = u32::MAX;

/// Computes the figures of `data` grouped as `spec` says.
pub fn compute(data: &LayerData, spec: &Spec<'_>) -> Result<Stats, StatsError> {
    // The properties to read, each once.
    let mut wanted: Vec<&str> = Vec::new();
    let by_slot = match spec.by {
        By::Property(p) => Some(slot(&mut wanted, p)),
        By::Areas(_) => None,
    };
    let group_slot = spec.group.map(|g| slot(&mut wanted, g));
    let mut numeric: Vec<&str> = Vec::new();
    for n in spec.sum.iter().chain(spec.mean) {
        if !numeric.contains(&n.as_str()) {
            numeric.push(n);
        }
    }
    let numeric_slots: Vec<usize> = numeric.iter().map(|n| slot(&mut wanted, n)).collect();

    let n = data.len();
    let mut area_of = vec![OUTSIDE; n];
    let mut names: Vec<String> = Vec::new();
    let mut accs: Vec<Acc> = Vec::new();
    let blank = || Acc {
        sums: vec![0.0; numeric.len()],
        counted: vec![0; numeric.len()],
        ..Acc::default()
    };
    let world = [-1e300, -1e300, 1e300, 1e300];
    if let By::Areas(areas) = spec.by {
        for a in areas.areas() {
            names.push(a.name.clone());
            accs.push(Acc {
                bbox: Some(a.bbox),
                ..blank()
            });
        }
        data.visit_envelopes(world, |i, env, runs| {
            let mut runs = runs.peekable();
            let at = if runs.peek().is_none() {
                Some(Coord {
                    x: env[0],
                    y: env[1],
                })
            } else {
                representative(&mut runs)
            };
            if let Some(c) = at
                && let Some(a) = areas.locate(c.x, c.y)
            {
                area_of[i as usize] = a as u32;
            }
        });
    }
    let mut outside = blank();
    let mut values: Vec<Option<serde_json::Value>> = vec![None; wanted.len()];
    let mut seen = vec![false; wanted.len()];
    let mut by_index: HashMap<String, u32> = HashMap::new();
    let mut group_values: HashSet<String> = HashSet::new();
    for (i, area) in area_of.iter_mut().enumerate() {
        if !wanted.is_empty() {
            values.iter_mut().for_each(|v| *v = None);
            pick(data.properties_bytes(i as u32), &wanted, &mut values);
            for (s, v) in seen.iter_mut().zip(&values) {
                *s |= v.is_some();
            }
        }
        if let (Some(s), By::Property(p)) = (by_slot, spec.by)
            && let Some(key) = values[s].as_ref().and_then(text)
        {
            let next = by_index.len() as u32;
            let a = *by_index.entry(key.clone()).or_insert(next);
            if a == next {
                if by_index.len() > MAX_AREAS {
                    return Err(StatsError::TooManyValues {
                        param: "by",
                        property: p.to_owned(),
                        limit: MAX_AREAS,
                    });
                }
                names.push(key);
                accs.push(blank());
            }
            *area = a;
        }
        let acc = match *area {
            OUTSIDE => &mut outside,
            a => &mut accs[a as usize],
        };
        acc.count += 1;
        if let Some(s) = group_slot {
            let key = values[s].as_ref().and_then(text).unwrap_or_default();
            if !group_values.contains(&key) {
                if group_values.len() == MAX_GROUPS {
                    return Err(StatsError::TooManyValues {
                        param: "group",
                        property: spec.group.unwrap_or_default().to_owned(),
                        limit: MAX_GROUPS,
                    });
                }
                group_values.insert(key.clone());
            }
            *acc.groups.entry(key).or_default() += 1;
        }
        for (k, &s) in numeric_slots.iter().enumerate() {
            if let Some(v) = values[s].as_ref().and_then(number) {
                acc.sums[k] += v;
                acc.counted[k] += 1;
            }
        }
    }
    if n > 0 {
        let mut named: Vec<(&'static str, &str)> = Vec::new();
        if let By::Property(p) = spec.by {
            named.push(("by", p));
        }
        named.extend(spec.group.map(|g| ("group", g)));
        named.extend(spec.sum.iter().map(|p| ("sum", p.as_str())));
        named.extend(spec.mean.iter().map(|p| ("mean", p.as_str())));
        for (param, property) in named {
            let k = wanted.iter().position(|w| *w == property).unwrap_or(0);
            if !seen.get(k).copied().unwrap_or(true) {
                return Err(StatsError::UnknownProperty {
                    param,
                    property: property.to_owned(),
                });
            }
        }
    }
    if let By::Property(_) = spec.by {
        // The extent of each value's features, to zoom to.
        data.visit_envelopes(world, |i, env, _| {
            if let Some(acc) = accs.get_mut(area_of[i as usize] as usize) {
                acc.bbox = Some(match acc.bbox {
                    None => env,
                    Some(b) => [
                        b[0].min(env[0]),
                        b[1].min(env[1]),
                        b[2].max(env[2]),
                        b[3].max(env[3]),
                    ],
                });
            }
        });
    }

    let finish = |name: String, acc: Acc| -> AreaStats {
        let of = |list: &[String], f: &dyn Fn(usize) -> f64| -> BTreeMap<String, f64> {
            list.iter()
                .map(|p| {
                    let k = numeric.iter().position(|n| n == p).unwrap_or(0);
                    (p.clone(), f(k))
                })
                .collect()
        };
        let sum = (!spec.sum.is_empty()).then(|| of(spec.sum, &|k| acc.sums[k]));
        let mean = (!spec.mean.is_empty()).then(|| {
            spec.mean
                .iter()
                .map(|p| {
                    let k = numeric.iter().position(|n| n == p).unwrap_or(0);
                    let c = acc.counted[k];
                    (p.clone(), (c > 0).then(|| acc.sums[k] / c as f64))
                })
                .collect()
        });
        let counted = (!numeric.is_empty()).then(|| {
            numeric
                .iter()
                .zip(&acc.counted)
                .map(|(p, c)| ((*p).to_owned(), *c))
                .collect()
        });
        AreaStats {
            name,
            count: acc.count,
            sum,
            mean,
            counted,
            groups: spec.group.map(|_| acc.groups.into_iter().collect()),
            bbox: acc.bbox,
        }
    };
    let mut areas: Vec<AreaStats> = names
        .into_iter()
        .zip(accs)
        .map(|(name, acc)| finish(name, acc))
        .collect();
    areas.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    Ok(Stats {
        areas,
        outside: finish(String::new(), outside),
        total: n,
    })
}

/// The position of `name` in `wanted`, added if missing.
fn slot<'s>(wanted: &mut Vec<&'s str>, name: &'s str) -> usize {
    match wanted.iter().position(|w| *w == name) {
        Some(i) => i,
        None => {
            wanted.push(name);
            wanted.len() - 1
        }
    }
}

/// A grouping key: text as is, numbers and booleans as written; none for
/// null, arrays and objects, and blank text.
fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A numeric value: a JSON number, or text that is one (`"12.5"`).
fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// The point a line, polygon or point set is counted at: the interior
/// point of its polygons if it has any, else of its lines, else of its
/// points.
fn representative<'a>(runs: &mut dyn Iterator<Item = crate::index::Run<'a>>) -> Option<Coord<f64>> {
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    let mut lines: Vec<LineString<f64>> = Vec::new();
    let mut points: Vec<Point<f64>> = Vec::new();
    collect_runs(runs, &mut polygons, &mut lines, &mut points);
    let p = if !polygons.is_empty() {
        MultiPolygon::new(polygons).interior_point()
    } else if !lines.is_empty() {
        MultiLineString::new(lines).interior_point()
    } else {
        MultiPoint::new(points).interior_point()
    };
    p.map(|p| p.0)
}

/// The polygons among a feature's runs.
fn polygons_of_runs<'a>(
    runs: &mut dyn Iterator<Item = crate::index::Run<'a>>,
) -> Vec<Polygon<f64>> {
    let mut polygons = Vec::new();
    collect_runs(runs, &mut polygons, &mut Vec::new(), &mut Vec::new());
    polygons
}

/// A feature's runs as `geo` polygons, lines and points.
fn collect_runs<'a>(
    runs: &mut dyn Iterator<Item = crate::index::Run<'a>>,
    polygons: &mut Vec<Polygon<f64>>,
    lines: &mut Vec<LineString<f64>>,
    points: &mut Vec<Point<f64>>,
) {
    for r in runs {
        let ring = || LineString::from(r.coords.to_vec());
        match r.kind {
            PartKind::Shell => polygons.push(Polygon::new(ring(), Vec::new())),
            PartKind::Hole => {
                if let Some(p) = polygons.last_mut() {
                    p.interiors_push(ring());
                }
            }
            PartKind::Line => lines.push(ring()),
            PartKind::Points => points.extend(r.coords.iter().map(|&c| Point::from(c))),
        }
    }
}

/// Reads the members of a feature's `properties` named in `wanted` into
/// `out` (same positions), skipping all others without building them.
fn pick(properties: &[u8], wanted: &[&str], out: &mut [Option<serde_json::Value>]) {
    let mut de = serde_json::Deserializer::from_slice(properties);
    // Stored properties are always an object; anything else reads as empty.
    let _ = serde::Deserializer::deserialize_map(&mut de, Picker { wanted, out });
}

struct Picker<'w> {
    wanted: &'w [&'w str],
    out: &'w mut [Option<serde_json::Value>],
}

struct KeySeed<'w>(&'w [&'w str]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|w| *w == v))
    }
}

impl<'de> Visitor<'de> for Picker<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the properties object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed(self.wanted))? {
            match key {
                Some(i) => self.out[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
