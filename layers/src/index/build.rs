//! Building a layer version's index: features pushed in source order,
//! then laid out along a Hilbert curve, the R-tree bulk-loaded and the
//! arena frozen.

use std::collections::HashMap;

use bytes::Bytes;
use geo::Coord;
use rstar::RTree;
use rstar::primitives::Rectangle;

use super::geometry::{Part, flatten};
use super::{Derived, Feature, FidIndex, LayerData, Slot, TreeEntry};
use crate::error::{Error, Result};
use crate::model::{FeatureRow, VersionInfo};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_keys_follow_the_curve() {
        let e = [0.0, 0.0, 1.0, 1.0];
        let k = |x: f64, y: f64| hilbert_key(&[x, y, x, y], &e);
        // The curve starts at the lower left corner and ends at the lower right.
        assert_eq!(k(0.0, 0.0), 0);
        assert_eq!(k(1.0, 0.0), (1u64 << 32) - 1);
        assert!(k(0.0, 1.0) < k(1.0, 1.0));
    }
}
