//! The in-memory index of one published layer version.
//!
//! Each feature's GeoJSON is encoded once, at load, into one contiguous
//! arena; an R-tree over the feature envelopes answers bbox queries, an
//! exact geometry test removes envelope-only hits, and responses are the
//! concatenation of arena slices. The database is never read on this path.
//!
//! Features are stored along a Hilbert curve rather than in file order, so
//! the features of one bbox lie close together in memory (a bbox query on a
//! million-feature layer otherwise spends most of its time on cache misses).
//! Bbox results come in that spatial order, as from a FlatGeobuf index;
//! listings without a bbox come in file order. Both orders are stable, so
//! paging never skips or repeats a feature.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use geo::{Coord, Intersects, Rect, coord};
use geojson::GeometryValue;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::model::{LayerMeta, VersionInfo};
use crate::store::FeatureRow;

type TreeEntry = GeomWithData<Rectangle<[f64; 2]>, Slot>;

/// What a bbox query needs of a candidate, kept in the R-tree entry itself
/// so that testing it touches no other table (each lookup elsewhere is a
/// cache miss at a million features).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    index: u32,
    parts_start: u32,
    parts_len: u32,
}

/// A published layer: what it is ([`LayerMeta`]) and the indexed features
/// of its current version ([`LayerData`]), swapped as one.
#[derive(Debug, Clone)]
pub struct LayerIndex {
    /// Titles, category, agency, visibility.
    pub meta: Arc<LayerMeta>,
    /// The indexed features of the current version.
    pub data: Arc<LayerData>,
}

/// The features of one layer version, indexed for bbox, id and name lookups.
#[derive(Debug)]
pub struct LayerData {
    /// Which version this is.
    pub version: VersionInfo,
    /// Property names and their TileJSON types, from the upload's report.
    fields: serde_json::Map<String, serde_json::Value>,
    tree: RTree<TreeEntry>,
    /// In Hilbert order; a feature's handle is its index here.
    features: Vec<Feature>,
    /// Every vertex of every non-point geometry, features in Hilbert order.
    coords: Vec<Coord<f64>>,
    /// Runs of `coords`: point sets, lines and polygon rings.
    parts: Vec<Part>,
    /// Handle of the feature at each source position.
    by_seq: Vec<u32>,
    arena: Bytes,
    /// Display names of all features, concatenated.
    names: String,
    by_fid: FidIndex,
    derived: Derived,
}

/// Values other crates derive from one layer version (the vector tile
/// generalisation of `tiles`), one per type, each made once and dropped
/// with the version.
#[derive(Default)]
struct Derived(Mutex<HashMap<TypeId, DerivedCell>>);

type DerivedCell = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().unwrap_or_else(PoisonError::into_inner).len();
        write!(f, "Derived({n} values)")
    }
}

/// Feature id lookup. Ids are most often the numbers 1..n in file order
/// (GeoJSON without ids, most exports); those need no map at all.
#[derive(Debug)]
enum FidIndex {
    /// The feature at source position `p` has id `p + 1`.
    Sequential,
    /// Any other ids.
    Map(HashMap<Box<str>, u32>),
}

#[derive(Debug, Clone, Copy)]
struct Feature {
    start: usize,
    len: u32,
    /// This feature's runs in `parts`. None for points: their envelope is
    /// exact, so they never need a geometry test.
    parts_start: u32,
    parts_len: u32,
    /// This feature's display name in `names` (empty when it has none).
    name_start: u32,
    name_len: u32,
    /// Where its properties start in its bytes (the struct's padding had
    /// room for it).
    props: u32,
}

/// One run of vertices in a layer's flat coordinate array.
#[derive(Debug, Clone, Copy)]
struct Part {
    start: u32,
    len: u32,
    kind: PartKind,
}

/// One run of a feature's coordinates: a point set, a line or a ring.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// What the run is.
    pub kind: PartKind,
    /// Position of the run's first vertex among all vertices of the layer
    /// (`0..`[`LayerData::vertex_count`]), so that data kept per vertex
    /// beside the index (tile simplification) can be found.
    pub first: u32,
    /// The vertices, longitude and latitude.
    pub coords: &'a [Coord<f64>],
}

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

/// One search hit within a layer, ordered by how well the name matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameMatch {
    /// 0 exact, 1 prefix, 2 word prefix, 3 anywhere.
    pub rank: u8,
    /// Length of the name in bytes: shorter names rank first.
    pub name_len: usize,
    /// Handle of the feature in the layer.
    pub index: u32,
}

impl LayerData {
    /// Number of features, with or without geometry.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the version has no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Bytes of encoded GeoJSON held for all features.
    pub fn encoded_bytes(&self) -> usize {
        self.arena.len()
    }

    /// A rough count of the features [`LayerData::select`] will look at:
    /// the layer's size scaled by how much of its extent `bbox` covers.
    /// Callers use it to decide whether a query is worth moving to a
    /// blocking thread.
    pub fn estimate(&self, bbox: Option<Bbox>) -> usize {
        let n = self.features.len();
        let (Some(b), Some(e)) = (bbox, self.version.bbox) else {
            return n;
        };
        let area = |minx: f64, miny: f64, maxx: f64, maxy: f64| {
            (maxx - minx).max(0.0) * (maxy - miny).max(0.0)
        };
        let extent = area(e.minx, e.miny, e.maxx, e.maxy);
        if extent <= 0.0 {
            return n;
        }
        let covered: f64 = b
            .parts()
            .map(|p| {
                area(
                    p.minx.max(e.minx),
                    p.miny.max(e.miny),
                    p.maxx.min(e.maxx),
                    p.maxy.min(e.maxy),
                )
            })
            .sum();
        ((n as f64) * (covered / extent).min(1.0)).ceil() as usize
    }

    /// Handles of the features whose geometry meets `bbox` and whose
    /// display name contains `name_contains` (any case): in file order
    /// without a bbox, in the layer's spatial (Hilbert) order with one.
    /// [`crate::query::select_page`] builds pages on it.
    ///
    /// With a bbox this is an R-tree lookup (`O(log n + k)`) followed by an
    /// exact test of each candidate whose envelope is not inside the box.
    pub fn select(&self, bbox: Option<Bbox>, name_contains: Option<&str>) -> Vec<u32> {
        let needle = name_contains.map(str::to_lowercase);
        let name_ok = |i: u32| match &needle {
            None => true,
            Some(n) => self.name(i).is_some_and(|name| find_ci(name, n).is_some()),
        };
        let Some(bbox) = bbox else {
            return self
                .by_seq
                .iter()
                .copied()
                .filter(|&i| name_ok(i))
                .collect();
        };
        let mut hits: Vec<u32> = Vec::new();
        for part in bbox.parts() {
            let rect = Rect::new(
                coord! { x: part.minx, y: part.miny },
                coord! { x: part.maxx, y: part.maxy },
            );
            let env = AABB::from_corners([part.minx, part.miny], [part.maxx, part.maxy]);
            for hit in self.tree.locate_in_envelope_intersecting(&env) {
                let slot = hit.data;
                if self.intersects(&slot, hit.geom(), &part, &rect) && name_ok(slot.index) {
                    hits.push(slot.index);
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    fn intersects(
        &self,
        slot: &Slot,
        env: &Rectangle<[f64; 2]>,
        q: &Bbox,
        rect: &Rect<f64>,
    ) -> bool {
        let (lo, hi) = (env.lower(), env.upper());
        if lo[0] >= q.minx && lo[1] >= q.miny && hi[0] <= q.maxx && hi[1] <= q.maxy {
            return true;
        }
        let parts =
            &self.parts[slot.parts_start as usize..(slot.parts_start + slot.parts_len) as usize];
        parts.is_empty() || parts_meet(&self.coords, parts, rect)
    }

    /// Property names and TileJSON types of this version.
    pub fn fields(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.fields
    }

    /// Calls `visit` with every feature whose envelope meets `bbox`
    /// (`[minx, miny, maxx, maxy]`, no exact test): its handle, its
    /// envelope, and the runs of its geometry. A point has no runs: its
    /// envelope's corner is the point. For renderers (vector tiles) that
    /// clip geometries themselves.
    pub fn visit_envelopes<'a>(
        &'a self,
        bbox: [f64; 4],
        mut visit: impl FnMut(u32, [f64; 4], &mut dyn Iterator<Item = Run<'a>>),
    ) {
        let env = AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        for hit in self.tree.locate_in_envelope_intersecting(&env) {
            let slot = hit.data;
            let (lo, hi) = (hit.geom().lower(), hit.geom().upper());
            let mut runs = self.runs_of(slot.parts_start, slot.parts_len);
            visit(slot.index, [lo[0], lo[1], hi[0], hi[1]], &mut runs);
        }
    }

    /// The runs of the geometry of the feature with handle `index`; none
    /// for a point (its envelope is the point) or no geometry.
    pub fn runs(&self, index: u32) -> impl ExactSizeIterator<Item = Run<'_>> {
        let f = &self.features[index as usize];
        self.runs_of(f.parts_start, f.parts_len)
    }

    fn runs_of(&self, start: u32, len: u32) -> impl ExactSizeIterator<Item = Run<'_>> {
        self.parts[start as usize..(start + len) as usize]
            .iter()
            .map(|p| Run {
                kind: p.kind,
                first: p.start,
                coords: &self.coords[p.start as usize..(p.start + p.len) as usize],
            })
    }

    /// Number of vertices of all lines, areas and point sets (single
    /// points are kept as envelopes and not counted).
    pub fn vertex_count(&self) -> usize {
        self.coords.len()
    }

    /// The value of type `T` derived from this version, made by `make` on
    /// first use and kept as long as the version is: the tile
    /// generalisation lives here, so it is built once per version and
    /// freed with it. Callers asking at the same time wait for one `make`.
    pub fn derived<T: Any + Send + Sync>(&self, make: impl FnOnce(&LayerData) -> T) -> Arc<T> {
        let cell = self
            .derived
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(TypeId::of::<T>())
            .or_default()
            .clone();
        let value: Arc<dyn Any + Send + Sync> = cell.get_or_init(|| Arc::new(make(self))).clone();
        match value.downcast::<T>() {
            Ok(v) => v,
            Err(_) => unreachable!("derived values are stored under their own type's id"),
        }
    }

    /// The encoded GeoJSON Feature with handle `index`, shared with the arena (no copy).
    pub fn feature(&self, index: u32) -> Bytes {
        let f = &self.features[index as usize];
        self.arena.slice(f.start..f.start + f.len as usize)
    }

    /// The encoded GeoJSON Feature with handle `index`, borrowed.
    pub fn feature_bytes(&self, index: u32) -> &[u8] {
        let f = &self.features[index as usize];
        &self.arena[f.start..f.start + f.len as usize]
    }

    /// The `properties` member (JSON text) of the feature with handle
    /// `index`, found without reading the geometry before it.
    pub fn properties_bytes(&self, index: u32) -> &[u8] {
        let f = &self.features[index as usize];
        // The feature's bytes end with the properties and the closing brace.
        &self.arena[f.start + f.props as usize..f.start + f.len as usize - 1]
    }

    /// The encoded length of the feature with handle `index`.
    pub fn feature_len(&self, index: u32) -> usize {
        self.features[index as usize].len as usize
    }

    /// The display name of the feature with handle `index`.
    pub fn name(&self, index: u32) -> Option<&str> {
        let f = &self.features[index as usize];
        let name = &self.names[f.name_start as usize..(f.name_start + f.name_len) as usize];
        (!name.is_empty()).then_some(name)
    }

    /// The handle of the feature whose id is `fid`.
    pub fn find(&self, fid: &str) -> Option<u32> {
        match &self.by_fid {
            FidIndex::Map(m) => m.get(fid).copied(),
            FidIndex::Sequential => {
                // Only the canonical spelling: "007" is not the id 7.
                let n: usize = fid.parse().ok().filter(|n: &usize| n.to_string() == fid)?;
                self.by_seq.get(n.checked_sub(1)?).copied()
            }
        }
    }

    /// Features whose name contains `needle_lc` (already lower case), best first.
    pub fn search(&self, needle_lc: &str, limit: usize) -> Vec<NameMatch> {
        let mut hits: Vec<NameMatch> = (0..self.features.len() as u32)
            .filter_map(|i| self.name_match(i, needle_lc))
            .collect();
        hits.sort_unstable();
        hits.truncate(limit);
        hits
    }

    /// How well the name of the feature with handle `index` matches
    /// `needle_lc` (already lower case); `None` if it does not contain it.
    pub fn name_match(&self, index: u32, needle_lc: &str) -> Option<NameMatch> {
        let name = self.name(index)?;
        let at = find_ci(name, needle_lc)?;
        let rank = if at == 0 && name.len() == needle_lc.len() {
            0
        } else if at == 0 {
            1
        } else if name.as_bytes()[at - 1] == b' ' {
            2
        } else {
            3
        };
        Some(NameMatch {
            rank,
            name_len: name.len(),
            index,
        })
    }
}

/// Whether a flat geometry meets the closed box `r`, given that their
/// envelopes intersect (the R-tree checked that). A polygon meets the box
/// when one of its edges does (which covers a polygon inside the box) or,
/// failing that, when the box lies inside it: then so does its corner.
fn parts_meet(coords: &[Coord<f64>], parts: &[Part], r: &Rect<f64>) -> bool {
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

/// Position of the centre of `b` along a Hilbert curve over `extent`.
fn hilbert_key(b: &[f64; 4], extent: &[f64; 4]) -> u64 {
    const N: u32 = 1 << 16;
    let scale = |v: f64, lo: f64, hi: f64| {
        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
        ((t * f64::from(N - 1)).round() as u32).min(N - 1)
    };
    let (mut x, mut y) = (
        scale((b[0] + b[2]) / 2.0, extent[0], extent[2]),
        scale((b[1] + b[3]) / 2.0, extent[1], extent[3]),
    );
    let mut d: u64 = 0;
    let mut s = N / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = N - 1 - x;
                y = N - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// Case-insensitive substring search returning the byte offset of the
/// match in `haystack`. `needle_lc` must already be lower case. ASCII names
/// (nearly all of them) are compared without allocating.
fn find_ci(haystack: &str, needle_lc: &str) -> Option<usize> {
    if haystack.is_ascii() && needle_lc.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle_lc.as_bytes());
        if n.is_empty() {
            return Some(0);
        }
        if n.len() > h.len() {
            return None;
        }
        (0..=h.len() - n.len()).find(|&i| {
            h[i..i + n.len()]
                .iter()
                .zip(n)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        })
    } else {
        // Lower-casing may change byte lengths; report a position only
        // good enough for ranking (0 = prefix).
        let lc = haystack.to_lowercase();
        lc.find(needle_lc)
    }
}

/// Builds a [`LayerData`] from stored rows, in source order.
pub struct LayerBuilder {
    version: VersionInfo,
    arena: Vec<u8>,
    features: Vec<Feature>,
    bboxes: Vec<Option<[f64; 4]>>,
    /// Ids as long as they are not the sequence 1, 2, 3, …
    fids: Vec<Box<str>>,
    sequential: bool,
    names: String,
    coords: Vec<Coord<f64>>,
    parts: Vec<Part>,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl LayerBuilder {
    /// Starts a layer for `version`, reserving for its feature count.
    pub fn new(version: VersionInfo) -> Self {
        let n = usize::try_from(version.feature_count).unwrap_or(0);
        LayerBuilder {
            version,
            fields: serde_json::Map::new(),
            arena: Vec::new(),
            features: Vec::with_capacity(n),
            bboxes: Vec::with_capacity(n),
            fids: Vec::new(),
            sequential: true,
            names: String::new(),
            coords: Vec::new(),
            parts: Vec::new(),
        }
    }

    /// Adds the next feature.
    pub fn push(&mut self, row: FeatureRow) -> Result<()> {
        let seq = u32::try_from(self.features.len())
            .map_err(|_| Error::Corrupt("more than 2^32 features".into()))?;
        let start = self.arena.len();
        let geometry = row.geometry.as_deref().unwrap_or("null");
        self.arena
            .extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
        self.arena.extend_from_slice(row.fid_json.as_bytes());
        self.arena.extend_from_slice(b",\"geometry\":");
        self.arena.extend_from_slice(geometry.as_bytes());
        self.arena.extend_from_slice(b",\"properties\":");
        let props = u32::try_from(self.arena.len() - start).map_err(|_| {
            Error::Corrupt(format!("feature {} is larger than 4 GiB", row.fid_json))
        })?;
        self.arena.extend_from_slice(row.properties.as_bytes());
        self.arena.push(b'}');
        let len = u32::try_from(self.arena.len() - start).map_err(|_| {
            Error::Corrupt(format!("feature {} is larger than 4 GiB", row.fid_json))
        })?;
        let parts_start = self.parts.len();
        if let (Some(g), Some(_)) = (&row.geometry, row.bbox)
            && !g.starts_with(r#"{"type":"Point","#)
        {
            let g: geojson::Geometry = serde_json::from_str(g).map_err(|e| {
                Error::Corrupt(format!("geometry of feature {}: {e}", row.fid_json))
            })?;
            flatten(&g.value, &mut self.coords, &mut self.parts)?;
        }
        self.bboxes.push(row.bbox);
        if self.sequential && row.fid != (u64::from(seq) + 1).to_string() {
            // From here on ids are kept; the earlier ones were 1..seq.
            self.sequential = false;
            self.fids = (1..=u64::from(seq))
                .map(|n| n.to_string().into_boxed_str())
                .collect();
        }
        if !self.sequential {
            self.fids.push(row.fid.into_boxed_str());
        }
        let name_start = u32::try_from(self.names.len())
            .map_err(|_| Error::Corrupt("names exceed 4 GiB".into()))?;
        self.names.push_str(row.name.as_deref().unwrap_or_default());
        self.features.push(Feature {
            start,
            len,
            parts_start: parts_start as u32,
            parts_len: (self.parts.len() - parts_start) as u32,
            name_start,
            name_len: self.names.len() as u32 - name_start,
            props,
        });
        Ok(())
    }

    /// Sets the property names and TileJSON types the layer describes.
    pub fn set_fields(&mut self, fields: serde_json::Map<String, serde_json::Value>) {
        self.fields = fields;
    }

    /// Lays the features out along a Hilbert curve, bulk-loads the R-tree
    /// and freezes the arena.
    pub fn finish(self) -> Result<LayerData> {
        let LayerBuilder {
            version,
            fields,
            arena: old_arena,
            features: old,
            bboxes,
            fids,
            sequential,
            names,
            coords: old_coords,
            parts: old_parts,
        } = self;
        let n = old.len();
        let extent =
            bboxes
                .iter()
                .flatten()
                .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |e, b| {
                    [
                        e[0].min(b[0]),
                        e[1].min(b[1]),
                        e[2].max(b[2]),
                        e[3].max(b[3]),
                    ]
                });
        let mut order: Vec<(u64, u32)> = bboxes
            .iter()
            .enumerate()
            .map(|(seq, b)| {
                (
                    b.as_ref().map_or(u64::MAX, |b| hilbert_key(b, &extent)),
                    seq as u32,
                )
            })
            .collect();
        order.sort_unstable();

        // Copying in curve order is what puts neighbours next to each
        // other in memory.
        let mut arena = Vec::with_capacity(old_arena.len());
        let mut coords = Vec::with_capacity(old_coords.len());
        let mut parts = Vec::with_capacity(old_parts.len());
        let mut features: Vec<Feature> = Vec::with_capacity(n);
        let mut by_seq = vec![0u32; n];
        let mut entries = Vec::with_capacity(n);
        let mut by_fid = HashMap::with_capacity(fids.len());
        let mut fids: Vec<Option<Box<str>>> = fids.into_iter().map(Some).collect();
        for (index, &(_, seq)) in order.iter().enumerate() {
            let f = &old[seq as usize];
            let start = arena.len();
            arena.extend_from_slice(&old_arena[f.start..f.start + f.len as usize]);
            let parts_start = parts.len() as u32;
            for p in &old_parts[f.parts_start as usize..(f.parts_start + f.parts_len) as usize] {
                let at = coords.len() as u32;
                coords.extend_from_slice(&old_coords[p.start as usize..(p.start + p.len) as usize]);
                parts.push(Part { start: at, ..*p });
            }
            let index = index as u32;
            by_seq[seq as usize] = index;
            if let Some([minx, miny, maxx, maxy]) = bboxes[seq as usize] {
                let slot = Slot {
                    index,
                    parts_start,
                    parts_len: f.parts_len,
                };
                entries.push(TreeEntry::new(
                    Rectangle::from_corners([minx, miny], [maxx, maxy]),
                    slot,
                ));
            }
            if let Some(fid) = fids.get_mut(seq as usize).and_then(Option::take)
                && by_fid.insert(fid, index).is_some()
            {
                return Err(Error::Corrupt(format!(
                    "duplicate feature id in version {}",
                    version.version
                )));
            }
            features.push(Feature {
                start,
                parts_start,
                ..*f
            });
        }
        Ok(LayerData {
            version,
            fields,
            tree: RTree::bulk_load(entries),
            features,
            coords,
            parts,
            by_seq,
            arena: Bytes::from(arena),
            names,
            by_fid: if sequential {
                FidIndex::Sequential
            } else {
                FidIndex::Map(by_fid)
            },
            derived: Derived::default(),
        })
    }
}

/// Appends a GeoJSON geometry's vertices (x, y: the tests are 2D, heights
/// stay in the encoded GeoJSON) and its runs.
fn flatten(g: &GeometryValue, coords: &mut Vec<Coord<f64>>, parts: &mut Vec<Part>) -> Result<()> {
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

    fn version() -> VersionInfo {
        VersionInfo {
            id: 1,
            version: 1,
            feature_count: 0,
            geometry_types: vec![],
            bbox: None,
            created_at: String::new(),
            photos_rev: 0,
        }
    }

    fn row(seq: i64, name: &str, geometry: Option<&str>, bbox: Option<[f64; 4]>) -> FeatureRow {
        FeatureRow {
            fid: seq.to_string(),
            fid_json: seq.to_string(),
            geometry: geometry.map(str::to_owned),
            properties: format!(r#"{{"nama":"{name}"}}"#),
            name: Some(name.to_owned()),
            bbox,
        }
    }

    fn layer() -> LayerData {
        let mut b = LayerBuilder::new(version());
        let pt = r#"{"type":"Point","coordinates":[1,1]}"#;
        b.push(row(1, "Pura Desa", Some(pt), Some([1.0, 1.0, 1.0, 1.0])))
            .unwrap();
        // An L-shaped line whose envelope covers (5,5) but which does not.
        let l = r#"{"type":"LineString","coordinates":[[4,4],[4,8],[8,8]]}"#;
        b.push(row(
            2,
            "Jalan Raya Kuta",
            Some(l),
            Some([4.0, 4.0, 8.0, 8.0]),
        ))
        .unwrap();
        b.push(row(3, "Kuta", None, None)).unwrap();
        let far = r#"{"type":"Point","coordinates":[179.5,0]}"#;
        b.push(row(
            4,
            "Pantai Kuta",
            Some(far),
            Some([179.5, 0.0, 179.5, 0.0]),
        ))
        .unwrap();
        b.finish().unwrap()
    }

    /// Source positions of handles (handles are in curve order).
    fn seqs(l: &LayerData, handles: &[u32]) -> Vec<u32> {
        handles
            .iter()
            .map(|&h| l.by_seq.iter().position(|&x| x == h).unwrap() as u32)
            .collect()
    }

    /// Source positions of a bbox selection, sorted (its order is spatial).
    fn sorted_seqs(l: &LayerData, handles: &[u32]) -> Vec<u32> {
        let mut v = seqs(l, handles);
        v.sort_unstable();
        v
    }

    fn bbox(s: &str) -> Option<Bbox> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn bbox_queries_are_exact() {
        let l = layer();
        let sel = |b: &Option<Bbox>| sorted_seqs(&l, &l.select(*b, None));
        assert_eq!(sel(&None), vec![0, 1, 2, 3]);
        assert_eq!(sel(&bbox("0,0,2,2")), vec![0]);
        // Inside the line's envelope but off the line: envelope-only hit removed.
        assert_eq!(sel(&bbox("5,5,6,6")), Vec::<u32>::new());
        assert_eq!(sel(&bbox("3.5,5,4.5,6")), vec![1]);
        // Touching a box edge counts (closed boxes).
        assert_eq!(sel(&bbox("1,0,2,1")), vec![0]);
        assert_eq!(sel(&bbox("170,-1,-170,1")), vec![3]);
        assert_eq!(sel(&bbox("-1,-1,180,10")), vec![0, 1, 3]);
    }

    #[test]
    fn name_filter_and_search_rank() {
        let l = layer();
        assert_eq!(seqs(&l, &l.select(None, Some("KUTA"))), vec![1, 2, 3]);
        let hits: Vec<u32> = l.search("kuta", 10).iter().map(|h| h.index).collect();
        // exact, then word prefix (shorter first), none for "Pura Desa".
        assert_eq!(seqs(&l, &hits), vec![2, 3, 1]);
        assert_eq!(l.search("desa", 10)[0].rank, 2);
        assert_eq!(l.search("pura", 10)[0].rank, 1);
    }

    #[test]
    fn encodes_features_once() {
        let l = layer();
        let h = |fid: &str| l.find(fid).unwrap();
        assert_eq!(
            l.feature_bytes(h("1")),
            br#"{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[1,1]},"properties":{"nama":"Pura Desa"}}"#
        );
        assert_eq!(
            &l.feature(h("3"))[..],
            br#"{"type":"Feature","id":3,"geometry":null,"properties":{"nama":"Kuta"}}"#
        );
        assert_eq!(l.feature_len(h("3")), l.feature(h("3")).len());
        assert_eq!(l.properties_bytes(h("2")), br#"{"nama":"Jalan Raya Kuta"}"#);
        assert_eq!(std::mem::size_of::<Feature>(), 32);
        assert_eq!(l.name(h("2")), Some("Jalan Raya Kuta"));
        assert_eq!(l.find("9"), None);
    }

    #[test]
    fn sequential_and_arbitrary_ids() {
        let l = layer();
        assert!(matches!(l.by_fid, FidIndex::Sequential));
        for (fid, seq) in [("1", 0), ("4", 3)] {
            assert_eq!(l.find(fid).map(|h| seqs(&l, &[h])[0]), Some(seq));
        }
        for missing in ["0", "5", "01", "+1", "", "x", "18446744073709551616"] {
            assert_eq!(l.find(missing), None, "{missing}");
        }
        let mut b = LayerBuilder::new(version());
        for fid in ["1", "2", "7", "a"] {
            let mut r = row(1, fid, None, None);
            r.fid = fid.into();
            b.push(r).unwrap();
        }
        let l = b.finish().unwrap();
        assert!(matches!(l.by_fid, FidIndex::Map(_)));
        for (fid, seq) in [("1", 0), ("2", 1), ("7", 2), ("a", 3)] {
            assert_eq!(l.find(fid).map(|h| seqs(&l, &[h])[0]), Some(seq), "{fid}");
        }
        assert_eq!(l.find("3"), None);
    }

    #[test]
    fn case_insensitive_find() {
        assert_eq!(find_ci("Pura Ulun Danu", "ulun"), Some(5));
        assert_eq!(find_ci("Pura", "pura besar"), None);
        assert!(find_ci("Śrī Pura", "pura").is_some());
    }

    #[test]
    fn hilbert_keys_follow_the_curve() {
        let e = [0.0, 0.0, 1.0, 1.0];
        let k = |x: f64, y: f64| hilbert_key(&[x, y, x, y], &e);
        // The curve starts at the lower left corner and ends at the lower right.
        assert_eq!(k(0.0, 0.0), 0);
        assert_eq!(k(1.0, 0.0), (1u64 << 32) - 1);
        assert!(k(0.0, 1.0) < k(1.0, 1.0));
    }

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
