//! The in-memory index of one published layer version.
//!
//! Each feature's GeoJSON is encoded once, at load, into one contiguous
//! arena; an R-tree over the feature envelopes answers bbox queries, an
//! exact geometry test removes envelope-only hits, and responses are the
//! concatenation of arena slices. The database is never read on this path.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use geo::{Intersects, Rect, coord};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::model::{LayerMeta, VersionInfo};
use crate::store::FeatureRow;

type TreeEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

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
    tree: RTree<TreeEntry>,
    features: Vec<Feature>,
    arena: Bytes,
    by_fid: HashMap<Box<str>, u32>,
}

#[derive(Debug)]
struct Feature {
    start: usize,
    len: u32,
    shape: Shape,
    name: Option<Box<str>>,
}

/// What the exact intersection test needs of a geometry.
#[derive(Debug)]
enum Shape {
    /// No geometry (or an empty one): never in spatial results.
    None,
    /// The envelope is the geometry (a point), so the R-tree test is exact.
    Envelope,
    /// Anything else: tested exactly against the query box.
    Geometry(Box<geo::Geometry<f64>>),
}

/// What to select from a layer.
#[derive(Debug, Default, Clone)]
pub struct Query {
    /// Only features whose geometry intersects this box.
    pub bbox: Option<Bbox>,
    /// Only features whose display name contains this text (any case).
    pub name_contains: Option<String>,
}

/// One search hit within a layer, ordered by how well the name matches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameMatch {
    /// 0 exact, 1 prefix, 2 word prefix, 3 anywhere.
    pub rank: u8,
    /// Length of the name in bytes: shorter names rank first.
    pub name_len: usize,
    /// Index of the feature in the layer.
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

    /// Indices of the features matching `q`, in source order.
    ///
    /// With a bbox this is an R-tree lookup (`O(log n + k)`) followed by an
    /// exact test of each candidate whose envelope is not inside the box.
    pub fn select(&self, q: &Query) -> Vec<u32> {
        let needle = q.name_contains.as_deref().map(str::to_lowercase);
        let name_ok = |i: u32| match &needle {
            None => true,
            Some(n) => self.features[i as usize]
                .name
                .as_deref()
                .is_some_and(|name| find_ci(name, n).is_some()),
        };
        let Some(bbox) = q.bbox else {
            return (0..self.features.len() as u32)
                .filter(|&i| name_ok(i))
                .collect();
        };
        let mut out = Vec::new();
        for part in bbox.parts() {
            let rect = Rect::new(
                coord! { x: part.minx, y: part.miny },
                coord! { x: part.maxx, y: part.maxy },
            );
            let env = AABB::from_corners([part.minx, part.miny], [part.maxx, part.maxy]);
            for hit in self.tree.locate_in_envelope_intersecting(&env) {
                let i = hit.data;
                if self.intersects(i, hit.geom(), &part, &rect) && name_ok(i) {
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn intersects(&self, i: u32, env: &Rectangle<[f64; 2]>, q: &Bbox, rect: &Rect<f64>) -> bool {
        let (lo, hi) = (env.lower(), env.upper());
        if lo[0] >= q.minx && lo[1] >= q.miny && hi[0] <= q.maxx && hi[1] <= q.maxy {
            return true;
        }
        match &self.features[i as usize].shape {
            Shape::None => false,
            Shape::Envelope => true,
            Shape::Geometry(g) => g.intersects(rect),
        }
    }

    /// The encoded GeoJSON Feature at `index`, shared with the arena (no copy).
    pub fn feature(&self, index: u32) -> Bytes {
        let f = &self.features[index as usize];
        self.arena.slice(f.start..f.start + f.len as usize)
    }

    /// The encoded length of the feature at `index`.
    pub fn feature_len(&self, index: u32) -> usize {
        self.features[index as usize].len as usize
    }

    /// The display name of the feature at `index`.
    pub fn name(&self, index: u32) -> Option<&str> {
        self.features[index as usize].name.as_deref()
    }

    /// The index of the feature whose id is `fid`.
    pub fn find(&self, fid: &str) -> Option<u32> {
        self.by_fid.get(fid).copied()
    }

    /// Features whose name contains `needle_lc` (already lower case), best first.
    pub fn search(&self, needle_lc: &str, limit: usize) -> Vec<NameMatch> {
        let mut hits: Vec<NameMatch> = self
            .features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let name = f.name.as_deref()?;
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
                    index: i as u32,
                })
            })
            .collect();
        hits.sort_unstable();
        hits.truncate(limit);
        hits
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

/// Builds a [`LayerData`] from stored rows, in source order.
pub struct LayerBuilder {
    version: VersionInfo,
    arena: Vec<u8>,
    features: Vec<Feature>,
    entries: Vec<TreeEntry>,
    by_fid: HashMap<Box<str>, u32>,
}

impl LayerBuilder {
    /// Starts a layer for `version`, reserving for its feature count.
    pub fn new(version: VersionInfo) -> Self {
        let n = usize::try_from(version.feature_count).unwrap_or(0);
        LayerBuilder {
            version,
            arena: Vec::new(),
            features: Vec::with_capacity(n),
            entries: Vec::with_capacity(n),
            by_fid: HashMap::with_capacity(n),
        }
    }

    /// Adds the next feature.
    pub fn push(&mut self, row: FeatureRow) -> Result<()> {
        let index = u32::try_from(self.features.len())
            .map_err(|_| Error::Corrupt("more than 2^32 features".into()))?;
        let start = self.arena.len();
        let geometry = row.geometry.as_deref().unwrap_or("null");
        self.arena
            .extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
        self.arena.extend_from_slice(row.fid_json.as_bytes());
        self.arena.extend_from_slice(b",\"geometry\":");
        self.arena.extend_from_slice(geometry.as_bytes());
        self.arena.extend_from_slice(b",\"properties\":");
        self.arena.extend_from_slice(row.properties.as_bytes());
        self.arena.push(b'}');
        let len = u32::try_from(self.arena.len() - start)
            .map_err(|_| Error::Corrupt(format!("feature {} is larger than 4 GiB", row.fid)))?;

        let shape = match (&row.geometry, row.bbox) {
            (Some(g), Some([minx, miny, maxx, maxy])) => {
                self.entries.push(TreeEntry::new(
                    Rectangle::from_corners([minx, miny], [maxx, maxy]),
                    index,
                ));
                if g.starts_with(r#"{"type":"Point","#) {
                    Shape::Envelope
                } else {
                    Shape::Geometry(Box::new(parse_geometry(g, &row.fid)?))
                }
            }
            _ => Shape::None,
        };
        if self
            .by_fid
            .insert(row.fid.clone().into_boxed_str(), index)
            .is_some()
        {
            return Err(Error::Corrupt(format!(
                "duplicate feature id {:?} in version {}",
                row.fid, self.version.version
            )));
        }
        self.features.push(Feature {
            start,
            len,
            shape,
            name: row.name.map(String::into_boxed_str),
        });
        Ok(())
    }

    /// Bulk-loads the R-tree and freezes the arena.
    pub fn finish(self) -> LayerData {
        LayerData {
            version: self.version,
            tree: RTree::bulk_load(self.entries),
            features: self.features,
            arena: Bytes::from(self.arena),
            by_fid: self.by_fid,
        }
    }
}

fn parse_geometry(json: &str, fid: &str) -> Result<geo::Geometry<f64>> {
    let g: geojson::Geometry = serde_json::from_str(json)
        .map_err(|e| Error::Corrupt(format!("geometry of feature {fid:?}: {e}")))?;
    geo::Geometry::<f64>::try_from(g)
        .map_err(|e| Error::Corrupt(format!("geometry of feature {fid:?}: {e}")))
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
        }
    }

    fn row(seq: i64, name: &str, geometry: Option<&str>, bbox: Option<[f64; 4]>) -> FeatureRow {
        FeatureRow {
            seq,
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
        b.push(row(
            1,
            "Pura Desa",
            Some(r#"{"type":"Point","coordinates":[1,1]}"#),
            Some([1.0, 1.0, 1.0, 1.0]),
        ))
        .unwrap();
        // An L-shaped line whose envelope covers (5,5) but which does not.
        b.push(row(
            2,
            "Jalan Raya Kuta",
            Some(r#"{"type":"LineString","coordinates":[[4,4],[4,8],[8,8]]}"#),
            Some([4.0, 4.0, 8.0, 8.0]),
        ))
        .unwrap();
        b.push(row(3, "Kuta", None, None)).unwrap();
        b.push(row(
            4,
            "Pantai Kuta",
            Some(r#"{"type":"Point","coordinates":[179.5,0]}"#),
            Some([179.5, 0.0, 179.5, 0.0]),
        ))
        .unwrap();
        b.finish()
    }

    fn bbox(s: &str) -> Query {
        Query {
            bbox: Some(s.parse().unwrap()),
            name_contains: None,
        }
    }

    #[test]
    fn bbox_queries_are_exact() {
        let l = layer();
        assert_eq!(l.select(&Query::default()), vec![0, 1, 2, 3]);
        assert_eq!(l.select(&bbox("0,0,2,2")), vec![0]);
        // Inside the line's envelope but off the line: envelope-only hit removed.
        assert_eq!(l.select(&bbox("5,5,6,6")), Vec::<u32>::new());
        assert_eq!(l.select(&bbox("3.5,5,4.5,6")), vec![1]);
        // Touching a box edge counts (closed boxes).
        assert_eq!(l.select(&bbox("1,0,2,1")), vec![0]);
        assert_eq!(l.select(&bbox("170,-1,-170,1")), vec![3]);
        assert_eq!(l.select(&bbox("-1,-1,10,10")), vec![0, 1]);
    }

    #[test]
    fn name_filter_and_search_rank() {
        let l = layer();
        let q = Query {
            bbox: None,
            name_contains: Some("KUTA".into()),
        };
        assert_eq!(l.select(&q), vec![1, 2, 3]);
        let hits: Vec<u32> = l.search("kuta", 10).iter().map(|h| h.index).collect();
        // exact, then word prefix (shorter first), none for "Pura Desa".
        assert_eq!(hits, vec![2, 3, 1]);
        assert_eq!(l.search("desa", 10)[0].rank, 2);
        assert_eq!(l.search("pura", 10)[0].rank, 1);
    }

    #[test]
    fn encodes_features_once() {
        let l = layer();
        assert_eq!(
            &l.feature(0)[..],
            br#"{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[1,1]},"properties":{"nama":"Pura Desa"}}"#
        );
        assert_eq!(
            &l.feature(2)[..],
            br#"{"type":"Feature","id":3,"geometry":null,"properties":{"nama":"Kuta"}}"#
        );
        assert_eq!(l.find("2"), Some(1));
        assert_eq!(l.find("9"), None);
    }

    #[test]
    fn case_insensitive_find() {
        assert_eq!(find_ci("Pura Ulun Danu", "ulun"), Some(5));
        assert_eq!(find_ci("Pura", "pura besar"), None);
        assert!(find_ci("Śrī Pura", "pura").is_some());
    }
}
