//! The generalisation of one layer version for vector tiles, made once per
//! version (when it loads) instead of once per tile.
//!
//! Done per tile, two things made low-zoom tiles of dense layers slow and
//! huge: simplifying every line and ring again (Douglas–Peucker was most
//! of a tile's time at every zoom), and drawing every feature of a tile
//! that covers the whole regency (160,000 roads, 3 MB, seconds). An
//! [`Overview`] holds instead:
//!
//! - the Douglas–Peucker *importance* of every vertex, computed once in
//!   Web Mercator. A vertex's importance is its distance to the chord it
//!   splits, capped by the importance of the vertex that made that chord:
//!   Douglas–Peucker stops at a chord whose farthest vertex is within the
//!   tolerance, so what it keeps at tolerance `t` is exactly the vertices
//!   whose importance exceeds `t`. A tile compares one byte per vertex.
//! - for zooms up to [`TileOptions::thin_max_zoom`], which features are
//!   drawn. Where features crowd, one point per
//!   [`TileOptions::thin_cell`] and one line or area per
//!   [`TileOptions::shape_cell`] is kept, the largest first, over a grid
//!   fixed to the world: a feature across a tile edge is drawn in both
//!   tiles or in neither, and a feature drawn at one zoom is drawn at every
//!   deeper one. The features first drawn at each zoom have their own
//!   R-tree, so a low-zoom tile never walks the features it leaves out.

use std::collections::HashSet;
use std::sync::Arc;

use layers::index::geometry::PartKind;
use layers::index::{LayerData, Run};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::options::TileOptions;
use crate::tile_id::{lat_to_world_y, lon_to_world_x};

/// A feature's handle and its envelope (longitude/latitude, as in the
/// layer's own R-tree).
type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Detail codes per halving of the importance. Codes are
/// `floor(-log2(importance) * STEPS)`: a tolerance that is a power of two
/// (1 unit at any zoom, and each coarser step's 4x) falls on a code
/// boundary, so the test is exact there; any other tolerance keeps at most
/// the vertices up to 12 % (2^(1/6)) less important. 255 codes reach 2^-42
/// of the world's width, far below a unit at the deepest zoom (2^-34).
const STEPS: f64 = 6.0;

/// A line or area at least this fraction of a tile across is drawn even
/// where a larger one claims its cell: there is room for few of them, and
/// they are the features a low-zoom map is for (districts, rivers).
const BIG: f64 = 0.25;

/// Which features each low zoom draws, and how much every vertex matters.
#[derive(Debug)]
pub struct Overview {
    made_for: MadeFor,
    /// Per vertex of the layer (indexed like [`Run::first`]): the
    /// importance as a code (see [`STEPS`]); 0 for the
    /// ends of a run, which are always kept.
    detail: Vec<u8>,
    /// `levels[z]`: the features first drawn at zoom `z`.
    levels: Vec<RTree<Entry>>,
}

/// The options an overview depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MadeFor {
    extent: u32,
    thin_cell: u32,
    shape_cell: u32,
    max_zoom: u8,
}

impl MadeFor {
    fn of(opts: &TileOptions) -> MadeFor {
        MadeFor {
            extent: opts.extent.max(1),
            thin_cell: opts.thin_cell.max(1),
            shape_cell: opts.shape_cell.max(1),
            // Cell numbers must fit in 32 bits (2^16 tiles of 2^16 cells).
            max_zoom: opts.thin_max_zoom.min(16),
        }
    }
}

/// What the grid needs of a feature.
struct Candidate {
    index: u32,
    /// Envelope centre and larger side in world units (`0..1`).
    centre: [f64; 2],
    size: f64,
}

impl Overview {
    /// The overview of `data` for tiles made with `opts`. The one made
    /// when the version loaded (and kept with it) is shared; options other
    /// than those it was made for get a new one, made now.
    pub fn of(data: &LayerData, opts: &TileOptions) -> Arc<Overview> {
        let kept = data.derived(|d| Overview::build(d, opts));
        if kept.made_for == MadeFor::of(opts) {
            kept
        } else {
            Arc::new(Overview::build(data, opts))
        }
    }

    /// Computes the overview of `data` (`O(v log v)` in the vertices of
    /// each run, `O(n)` hash lookups per zoom in the features).
    pub fn build(data: &LayerData, opts: &TileOptions) -> Overview {
        let made_for = MadeFor::of(opts);
        let mut detail = vec![0u8; data.vertex_count()];
        let mut points = Vec::new();
        let mut shapes = Vec::new();
        let mut envelopes = Vec::new();
        let mut scratch = Scratch::default();
        data.visit_envelopes(
            [f64::MIN, f64::MIN, f64::MAX, f64::MAX],
            |index, env, runs| {
                let mut shape = false;
                for run in runs {
                    shape |= run.kind != PartKind::Points;
                    scratch.importance(run, &mut detail);
                }
                let (x0, x1) = (lon_to_world_x(env[0]), lon_to_world_x(env[2]));
                let (y0, y1) = (lat_to_world_y(env[3]), lat_to_world_y(env[1]));
                let c = Candidate {
                    index,
                    centre: [(x0 + x1) / 2.0, (y0 + y1) / 2.0],
                    size: (x1 - x0).max(y1 - y0),
                };
                let list = if shape { &mut shapes } else { &mut points };
                list.push(c);
                envelopes.push((index, env));
            },
        );
        let mut first_zoom = vec![u8::MAX; data.len()];
        thin(&mut points, made_for.thin_cell, &made_for, &mut first_zoom);
        thin(&mut shapes, made_for.shape_cell, &made_for, &mut first_zoom);
        let mut levels: Vec<Vec<Entry>> = vec![Vec::new(); usize::from(made_for.max_zoom) + 1];
        for (index, env) in envelopes {
            if let Some(level) = levels.get_mut(usize::from(first_zoom[index as usize])) {
                let rect = Rectangle::from_corners([env[0], env[1]], [env[2], env[3]]);
                level.push(Entry::new(rect, index));
            }
        }
        Overview {
            made_for,
            detail,
            levels: levels.into_iter().map(RTree::bulk_load).collect(),
        }
    }

    /// The deepest zoom whose features this overview chooses; deeper
    /// tiles draw every feature.
    pub fn max_zoom(&self) -> u8 {
        self.made_for.max_zoom
    }

    /// Features drawn at zoom `zoom` (at most [`Overview::max_zoom`]).
    pub fn drawn_at(&self, zoom: u8) -> usize {
        self.levels[..=usize::from(zoom.min(self.max_zoom()))]
            .iter()
            .map(RTree::size)
            .sum()
    }

    /// Bytes this overview holds (its share of a layer's memory).
    pub fn heap_bytes(&self) -> usize {
        // R-tree nodes hold a few children each: about one node's worth of
        // overhead per six entries, on top of the entries themselves.
        let entries: usize = self.levels.iter().map(RTree::size).sum();
        self.detail.capacity() + entries * std::mem::size_of::<Entry>() * 7 / 6
    }

    /// Calls `visit` with every feature drawn at `zoom` (at most
    /// [`Overview::max_zoom`]) whose envelope meets `bbox`
    /// (longitude/latitude), as [`LayerData::visit_envelopes`] does.
    pub fn visit_envelopes<'a>(
        &self,
        data: &'a LayerData,
        bbox: [f64; 4],
        zoom: u8,
        mut visit: impl FnMut(u32, [f64; 4], &mut dyn Iterator<Item = Run<'a>>),
    ) {
        let env = AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
        for level in &self.levels[..=usize::from(zoom.min(self.max_zoom()))] {
            for hit in level.locate_in_envelope_intersecting(&env) {
                let (lo, hi) = (hit.geom().lower(), hit.geom().upper());
                visit(
                    hit.data,
                    [lo[0], lo[1], hi[0], hi[1]],
                    &mut data.runs(hit.data),
                );
            }
        }
    }

    /// A test for the vertices that simplifying with `tolerance` units at
    /// zoom `zoom` keeps, for tiles of `extent` units.
    pub fn keeper(&self, zoom: u8, tolerance: f64, extent: u32) -> Keeper<'_> {
        let threshold = if tolerance > 0.0 {
            STEPS * (f64::from(extent) * 2f64.powi(i32::from(zoom)) / tolerance).log2()
        } else {
            f64::INFINITY
        };
        Keeper {
            detail: &self.detail,
            // Codes are whole: below the threshold is below its ceiling.
            limit: threshold.ceil().clamp(0.0, 256.0) as u16,
        }
    }
}

/// Which vertices a simplification keeps (see [`Overview::keeper`]).
#[derive(Debug, Clone, Copy)]
pub struct Keeper<'a> {
    detail: &'a [u8],
    /// Vertices whose code is below this are kept.
    limit: u16,
}

impl Keeper<'_> {
    /// The vertices of `run` that are kept.
    pub fn kept<'r>(&self, run: Run<'r>) -> impl Iterator<Item = &'r geo::Coord<f64>> {
        let first = run.first as usize;
        let codes = &self.detail[first..first + run.coords.len()];
        run.coords
            .iter()
            .zip(codes)
            .filter(|(_, code)| u16::from(**code) < self.limit)
            .map(|(c, _)| c)
    }
}

/// Sets `first_zoom` of each candidate to the lowest zoom that draws it:
/// from the deepest zoom up, each cell keeps its largest candidate (the
/// first one in layer order among equals), and only what a zoom keeps
/// competes at the zoom above, so a feature once drawn stays drawn deeper.
fn thin(candidates: &mut [Candidate], cell: u32, made_for: &MadeFor, first_zoom: &mut [u8]) {
    candidates.sort_unstable_by(|a, b| b.size.total_cmp(&a.size).then(a.index.cmp(&b.index)));
    let mut alive: Vec<&Candidate> = candidates.iter().collect();
    let mut taken: HashSet<(u32, u32)> = HashSet::with_capacity(alive.len());
    for z in (0..=made_for.max_zoom).rev() {
        let tiles = f64::from(1u32 << z);
        let cells = tiles * f64::from(made_for.extent) / f64::from(cell);
        taken.clear();
        alive.retain(|c| {
            let at = (
                (c.centre[0] * cells).clamp(0.0, cells - 1.0) as u32,
                (c.centre[1] * cells).clamp(0.0, cells - 1.0) as u32,
            );
            let keep = c.size * tiles >= BIG || taken.insert(at);
            if keep {
                first_zoom[c.index as usize] = z;
            }
            keep
        });
    }
}

/// Reused buffers of [`Scratch::importance`].
#[derive(Default)]
struct Scratch {
    world: Vec<[f64; 2]>,
    chords: Vec<(usize, usize, f64)>,
}

impl Scratch {
    /// Writes the detail code of each vertex of `run` into `detail`.
    fn importance(&mut self, run: Run<'_>, detail: &mut [u8]) {
        let codes = &mut detail[run.first as usize..run.first as usize + run.coords.len()];
        if run.kind == PartKind::Points || codes.len() <= 2 {
            codes.fill(0);
            return;
        }
        self.world.clear();
        self.world.extend(
            run.coords
                .iter()
                .map(|c| [lon_to_world_x(c.x), lat_to_world_y(c.y)]),
        );
        let pts = &self.world;
        let last = pts.len() - 1;
        codes[0] = 0;
        codes[last] = 0;
        self.chords.clear();
        self.chords.push((0, last, f64::INFINITY));
        while let Some((a, b, cap)) = self.chords.pop() {
            if b <= a + 1 {
                continue;
            }
            let (mut far, mut at) = (-1.0, a + 1);
            for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
                let d = segment_distance2(*p, pts[a], pts[b]);
                if d > far {
                    (far, at) = (d, i);
                }
            }
            let importance = far.sqrt().min(cap);
            codes[at] = detail_code(importance);
            self.chords.push((a, at, importance));
            self.chords.push((at, b, importance));
        }
    }
}

/// The detail code of an importance in world units: the higher, the less
/// the vertex matters; 255 for vertices on a straight line.
fn detail_code(importance: f64) -> u8 {
    if importance <= 0.0 {
        return u8::MAX;
    }
    (-importance.log2() * STEPS).floor().clamp(1.0, 255.0) as u8
}

/// Squared distance from `p` to the segment `a`–`b` (to `a` when the
/// segment is a point, as in a ring's first chord).
fn segment_distance2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Simplify};

    use crate::test_data::layer_data;

    /// A layer of `features` (geometry, bbox) with no properties.
    fn data(features: &[(String, [f64; 4])]) -> LayerData {
        layer_data(features.iter().map(|(g, b)| (g.clone(), "{}", *b)))
    }

    fn line(coords: &[[f64; 2]]) -> (String, [f64; 4]) {
        let bbox = coords
            .iter()
            .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |e, c| {
                [
                    e[0].min(c[0]),
                    e[1].min(c[1]),
                    e[2].max(c[0]),
                    e[3].max(c[1]),
                ]
            });
        let json = serde_json::json!({"type": "LineString", "coordinates": coords});
        (json.to_string(), bbox)
    }

    fn square(x: f64, y: f64, d: f64) -> (String, [f64; 4]) {
        let ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]];
        let json = serde_json::json!({"type": "Polygon", "coordinates": [ring]});
        (json.to_string(), [x, y, x + d, y + d])
    }

    fn point(x: f64, y: f64) -> (String, [f64; 4]) {
        (
            format!(r#"{{"type":"Point","coordinates":[{x},{y}]}}"#),
            [x, y, x, y],
        )
    }

    /// Keeping the vertices above a tolerance of one unit is exactly
    /// Douglas–Peucker at that tolerance (geo's, in the same projected
    /// units), on random walks.
    #[test]
    fn kept_vertices_are_douglas_peucker() {
        let mut state = 7u64;
        let mut rnd = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut lines = Vec::new();
        for _ in 0..50 {
            let (mut x, mut y) = (115.0 + rnd() * 0.2, -8.8 + rnd() * 0.2);
            let mut coords = vec![[x, y]];
            for _ in 0..60 {
                x += (rnd() - 0.3) * 1e-3;
                y += (rnd() - 0.5) * 1e-3;
                coords.push([x, y]);
            }
            lines.push(line(&coords));
        }
        let d = data(&lines);
        let ov = Overview::build(&d, &TileOptions::default());
        let mut simplified = 0;
        for z in [8u8, 11, 14, 17] {
            let scale = 4096.0 * 2f64.powi(i32::from(z));
            let keeper = ov.keeper(z, 1.0, 4096);
            for i in 0..d.len() as u32 {
                let run = d.runs(i).next().unwrap();
                let ours: Vec<[f64; 2]> = keeper.kept(run).map(|c| [c.x, c.y]).collect();
                let projected: LineString<f64> = run
                    .coords
                    .iter()
                    .map(|c| (lon_to_world_x(c.x) * scale, lat_to_world_y(c.y) * scale))
                    .collect();
                let theirs = projected.simplify(1.0).0;
                let projected_ours: Vec<geo::Coord<f64>> = ours
                    .iter()
                    .map(|c| geo::coord! { x: lon_to_world_x(c[0]) * scale, y: lat_to_world_y(c[1]) * scale })
                    .collect();
                assert_eq!(projected_ours, theirs, "z{z}");
                assert_eq!(
                    ours.first(),
                    run.coords.first().map(|c| [c.x, c.y]).as_ref()
                );
                assert_eq!(ours.last(), run.coords.last().map(|c| [c.x, c.y]).as_ref());
                simplified += usize::from(ours.len() < run.coords.len());
            }
        }
        assert!(simplified > 100, "{simplified}");
        // No tolerance: every vertex.
        let all = ov.keeper(3, 0.0, 4096);
        assert_eq!(all.kept(d.runs(0).next().unwrap()).count(), 61);
    }

    /// A ring keeps its shape: the vertices far from the rest stay, the
    /// ring stays closed, and nearly straight runs go.
    #[test]
    fn rings_keep_their_corners() {
        let (x, y, d) = (115.1, -8.7, 0.01);
        // A square with extra vertices almost on its edges.
        let ring = [
            [x, y],
            [x + d / 2.0, y + 1e-7],
            [x + d, y],
            [x + d, y + d],
            [x + d / 2.0, y + d - 1e-7],
            [x, y + d],
            [x, y],
        ];
        let json = serde_json::json!({"type": "Polygon", "coordinates": [ring]});
        let layer = data(&[(json.to_string(), [x, y, x + d, y + d])]);
        let ov = Overview::build(&layer, &TileOptions::default());
        let kept: Vec<[f64; 2]> = ov
            .keeper(12, 1.0, 4096)
            .kept(layer.runs(0).next().unwrap())
            .map(|c| [c.x, c.y])
            .collect();
        assert_eq!(kept, [ring[0], ring[2], ring[3], ring[5], ring[6]]);
        // Deep enough, the 1e-7° (1 cm) bumps are more than a unit.
        assert_eq!(
            ov.keeper(22, 1.0, 4096)
                .kept(layer.runs(0).next().unwrap())
                .count(),
            7
        );
    }

    /// Crowded small features are thinned at low zooms only, one per cell,
    /// the largest first; big ones and lone ones stay, and what is drawn at
    /// one zoom is drawn at every deeper one.
    #[test]
    fn crowded_features_are_thinned_largest_first() {
        let mut features = Vec::new();
        // 400 small squares (2 units at z12) in a 20 x 20 block, 0.0001° apart,
        // and 400 points on the same spots.
        let spot = |i: i32| {
            (
                115.1 + f64::from(i % 20) * 1e-4,
                -8.7 + f64::from(i / 20) * 1e-4,
            )
        };
        for i in 0..400 {
            let (x, y) = spot(i);
            features.push(square(x, y, 5e-5));
        }
        for i in 0..400 {
            let (x, y) = spot(i);
            features.push(point(x, y));
        }
        // Two large areas with the same centre over the block, and a lone small square.
        features.push(square(115.0, -8.8, 0.2));
        features.push(square(115.005, -8.795, 0.19));
        features.push(square(100.0, 10.0, 5e-5));
        let (larger, smaller, lone) = (800u32, 801u32, 802u32);
        let layer = data(&features);
        let handle = |seq: u32| layer.find(&(seq + 1).to_string()).unwrap();
        let opts = TileOptions::default();
        let ov = Overview::build(&layer, &opts);
        let drawn = |z: u8| {
            let mut ids = Vec::new();
            ov.visit_envelopes(&layer, [-180.0, -85.0, 180.0, 85.0], z, |i, _, _| {
                ids.push(i);
            });
            ids.sort_unstable();
            ids
        };
        let small_squares = |ids: &[u32]| {
            ids.iter()
                .filter(|&&i| (0..400).any(|s| handle(s) == i))
                .count()
        };
        let points = |ids: &[u32]| ids.iter().filter(|&&i| layer.runs(i).len() == 0).count();
        let mut deeper = drawn(opts.thin_max_zoom);
        // At z12 a shape cell (32 units) is 0.00069° and a point cell 0.00034°:
        // the 0.0019° block spans 3 or 4 of the one and 6 or 7 of the other.
        let (s, p) = (small_squares(&deeper), points(&deeper));
        assert!((9..=16).contains(&s) && (36..=49).contains(&p), "{s} {p}");
        for z in (0..opts.thin_max_zoom).rev() {
            let ids = drawn(z);
            assert!(ids.iter().all(|i| deeper.contains(i)), "z{z}");
            assert_eq!(ids.len(), ov.drawn_at(z));
            for seq in [larger, lone] {
                assert!(ids.contains(&handle(seq)), "z{z}: {seq}");
            }
            // The smaller large area is a quarter of a tile from z9: drawn
            // though its cell is the larger one's.
            assert_eq!(ids.contains(&handle(smaller)), z >= 9, "z{z}");
            deeper = ids;
        }
        let z5 = drawn(5);
        assert!(
            small_squares(&z5) <= 1 && (1..=4).contains(&points(&z5)),
            "{z5:?}"
        );
    }

    #[test]
    fn detail_codes_order_importances() {
        assert_eq!(detail_code(0.0), 255);
        assert!(detail_code(1e-3) < detail_code(1e-4));
        assert_eq!(detail_code(2f64.powi(-10)), 60);
        assert_eq!(detail_code(2f64.powi(-10) * 1.01), 59);
        assert_eq!(detail_code(1e-300), 255);
        assert_eq!(segment_distance2([1.0, 1.0], [0.0, 0.0], [2.0, 0.0]), 1.0);
        assert_eq!(segment_distance2([3.0, 1.0], [0.0, 0.0], [2.0, 0.0]), 2.0);
        assert_eq!(segment_distance2([3.0, 4.0], [0.0, 0.0], [0.0, 0.0]), 25.0);
    }
}
