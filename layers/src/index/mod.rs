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
//!
//! This module holds the index and its queries; [`build`] makes one from
//! stored rows and [`geometry`] keeps the vertices and tests them exactly.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use geo::{Coord, Rect, coord};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::bbox::Bbox;
use crate::model::{LayerMeta, VersionInfo};
use geometry::{Part, PartKind, parts_meet};

pub mod build;
pub mod geometry;

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

#[cfg(test)]
mod tests {
    use super::build::LayerBuilder;
    use super::*;
    use crate::model::FeatureRow;

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
    fn name_filter() {
        let l = layer();
        assert_eq!(seqs(&l, &l.select(None, Some("KUTA"))), vec![1, 2, 3]);
        assert_eq!(seqs(&l, &l.select(None, Some("desa"))), vec![0]);
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
}
