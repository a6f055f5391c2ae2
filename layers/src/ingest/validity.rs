//! OGC simple-features validity of polygons and multipolygons in
//! near-linear time.
//!
//! geo's `Validation` compares every edge of a ring with every other one,
//! which takes about an hour for a polygon at the 1,000,000-position limit.
//! Here the edges of all rings go into one R-tree, and only pairs whose
//! extents overlap are compared (a spatial self-join); whether a hole lies
//! inside its exterior ring, or a part inside another part, is then decided
//! by casting a ray through the same tree. For ordinary boundaries, whose
//! edges are short next to the whole, that is `O(n log n)`.
//!
//! The rules are those of geo's validation (kept as the oracle in the
//! tests): every ring has at least 3 distinct points and finite
//! coordinates; a ring does not touch or cross itself (consecutive edges
//! share only their common vertex); rings of one polygon, and polygons of
//! one multipolygon, meet at points at most, never along a line and never
//! crossing; holes lie inside the exterior ring and not inside one another;
//! no part of a multipolygon lies inside another part (outside its holes).

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{Coord, Intersects, Line, MultiPolygon, Polygon};
use rstar::{AABB, RTree, RTreeObject};

use crate::text::Text;

/// Candidate edge pairs examined per edge (plus a constant) before the
/// check gives up: ordinary boundaries need a handful; only pathological
/// ones (thousands of long edges whose extents all overlap) come near.
const PAIRS_PER_EDGE: usize = 200;
const PAIRS_BASE: usize = 1_000_000;

/// Checks a polygon; `Err` says, in words, the first problem found.
pub fn check_polygon(polygon: &Polygon<f64>) -> Result<(), Text> {
    let mut c = Checker::new(false);
    c.add(0, polygon);
    c.run()
}

/// Checks a multipolygon, each part and the parts against each other;
/// `Err` says, in words, the first problem found.
pub fn check_multi_polygon(multi: &MultiPolygon<f64>) -> Result<(), Text> {
    let mut c = Checker::new(true);
    for (i, p) in multi.0.iter().enumerate() {
        c.add(i, p);
    }
    c.run()
}

/// One ring to check: its closed coordinates and place in the geometry.
struct Ring<'a> {
    coords: &'a [Coord<f64>],
    /// Zero-based part (polygon of a multipolygon).
    part: usize,
    /// `None` for the exterior ring, else the zero-based hole number.
    hole: Option<usize>,
}

/// One edge in the R-tree.
struct Edge {
    line: Line<f64>,
    ring: u32,
    id: u32,
}

impl RTreeObject for Edge {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        let Line { start: a, end: b } = self.line;
        AABB::from_corners([a.x, a.y], [b.x, b.y])
    }
}

struct Checker<'a> {
    multi: bool,
    rings: Vec<Ring<'a>>,
    /// Index in `rings` of each part's exterior ring.
    shells: Vec<usize>,
    /// Each part's zero-based number in the multipolygon (empty ones are skipped).
    numbers: Vec<usize>,
}

impl<'a> Checker<'a> {
    fn new(multi: bool) -> Self {
        Checker {
            multi,
            rings: Vec::new(),
            shells: Vec::new(),
            numbers: Vec::new(),
        }
    }

    /// Adds a polygon as the next part (an empty one is skipped, as geo does).
    fn add(&mut self, number: usize, polygon: &'a Polygon<f64>) {
        if polygon.exterior().0.is_empty() {
            return;
        }
        let part = self.shells.len();
        self.shells.push(self.rings.len());
        self.numbers.push(number);
        self.rings.push(Ring {
            coords: &polygon.exterior().0,
            part,
            hole: None,
        });
        for (i, r) in polygon.interiors().iter().enumerate() {
            if !r.0.is_empty() {
                self.rings.push(Ring {
                    coords: &r.0,
                    part,
                    hole: Some(i),
                });
            }
        }
    }

    /// The ring in words (Indonesian, English), numbers one-based.
    fn name(&self, ring: usize) -> (String, String) {
        let r = &self.rings[ring];
        let (id, en) = match r.hole {
            None => ("cincin luar".to_owned(), "exterior ring".to_owned()),
            Some(h) => (
                format!("cincin dalam (lubang) ke-{}", h + 1),
                format!("interior ring {}", h + 1),
            ),
        };
        if self.multi {
            let n = self.numbers[r.part] + 1;
            (format!("{id} bagian ke-{n}"), format!("{en} of part {n}"))
        } else {
            (id, en)
        }
    }

    fn run(&self) -> Result<(), Text> {
        for (i, r) in self.rings.iter().enumerate() {
            if let Some(k) = r
                .coords
                .iter()
                .position(|c| !(c.x.is_finite() && c.y.is_finite()))
            {
                let (id, en) = self.name(i);
                let k = k + 1;
                return Err(Text::new(
                    format!(
                        "{} punya koordinat yang bukan angka terhingga pada titik ke-{k}.",
                        upper(&id)
                    ),
                    format!("{en} has a non-finite coordinate at position {k}"),
                ));
            }
            let distinct = 1 + r.coords.windows(2).filter(|w| w[0] != w[1]).count();
            if distinct < 4 {
                let (id, en) = self.name(i);
                return Err(Text::new(
                    format!(
                        "{} harus punya sedikitnya 3 titik yang berbeda.",
                        upper(&id)
                    ),
                    format!("{en} must have at least 3 distinct points"),
                ));
            }
        }
        let mut edges = Vec::new();
        for (i, r) in self.rings.iter().enumerate() {
            for w in r.coords.windows(2) {
                if w[0] != w[1] {
                    let id = u32::try_from(edges.len())
                        .map_err(|_| Text::new("Terlalu banyak sisi.", "too many edges"))?;
                    let ring = u32::try_from(i)
                        .map_err(|_| Text::new("Terlalu banyak cincin.", "too many rings"))?;
                    edges.push(Edge {
                        line: Line::new(w[0], w[1]),
                        ring,
                        id,
                    });
                }
            }
        }
        let budget = PAIRS_BASE.saturating_add(edges.len().saturating_mul(PAIRS_PER_EDGE));
        let tree = RTree::bulk_load(edges);
        let mut touching = vec![false; self.rings.len()];
        for (n, (a, b)) in tree
            .intersection_candidates_with_other_tree(&tree)
            .enumerate()
        {
            if n > budget {
                let n = tree.size();
                return Err(Text::new(
                    format!(
                        "{n} sisinya terlalu kusut untuk diperiksa dalam waktu wajar (keabsahan tidak diperiksa)."
                    ),
                    format!(
                        "its {n} edges are too entangled to check in reasonable time (validity not checked)"
                    ),
                ));
            }
            if a.id < b.id {
                self.pair(a, b, &mut touching)?;
            }
        }
        let max_x = tree.root().envelope().upper()[0];
        let ray = Ray { tree: &tree, max_x };
        let mut inside = Vec::new();
        for (i, r) in self.rings.iter().enumerate() {
            if !self.multi && r.hole.is_none() {
                continue; // a polygon's exterior ring cannot be misplaced
            }
            let own = i as u32;
            let vertices = &r.coords[..r.coords.len() - 1];
            if !touching[i] {
                // No contact with any other ring: one point tells where it all lies.
                ray.containing(vertices[0], own, &mut inside);
                self.placed(i, &inside)?;
                continue;
            }
            // It touches other rings at points, where it may pass from
            // inside to outside: test every vertex off the other rings,
            // and the middle of every edge that starts or ends on one.
            for w in r.coords.windows(2) {
                let start_free = !ray.on_other(w[0], own);
                if start_free {
                    ray.containing(w[0], own, &mut inside);
                    self.placed(i, &inside)?;
                }
                if !start_free || ray.on_other(w[1], own) {
                    let mid = Coord {
                        x: w[0].x + (w[1].x - w[0].x) / 2.0,
                        y: w[0].y + (w[1].y - w[0].y) / 2.0,
                    };
                    if !ray.on_other(mid, own) {
                        ray.containing(mid, own, &mut inside);
                        self.placed(i, &inside)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks two edges whose extents overlap.
    fn pair(&self, a: &Edge, b: &Edge, touching: &mut [bool]) -> Result<(), Text> {
        let (p, q) = (a.line, b.line);
        if a.ring == b.ring {
            // geo's rule: edges meet only where one ends and the next begins.
            if p.intersects(&q) && p.start != q.end && p.end != q.start {
                let (id, en) = self.name(a.ring as usize);
                let at = at(p, q);
                return Err(Text::new(
                    format!(
                        "{} berpotongan dengan dirinya sendiri di {at}; perbaiki bentuknya agar garis batasnya tidak menyilang.",
                        upper(&id)
                    ),
                    format!("{en} has a self-intersection at {at}"),
                ));
            }
            return Ok(());
        }
        let (ra, rb) = (a.ring as usize, b.ring as usize);
        match line_intersection(p, q) {
            None => Ok(()),
            Some(LineIntersection::SinglePoint {
                intersection,
                is_proper: true,
            }) => {
                let ((ia, ea), (ib, eb)) = (self.name(ra), self.name(rb));
                let at = show(intersection);
                Err(Text::new(
                    format!("{} dan {ib} bersilangan di {at}.", upper(&ia)),
                    format!("{ea} and {eb} cross at {at}"),
                ))
            }
            Some(LineIntersection::Collinear { intersection: l }) if l.start != l.end => {
                let ((ia, ea), (ib, eb)) = (self.name(ra), self.name(rb));
                let (from, to) = (show(l.start), show(l.end));
                Err(Text::new(
                    format!(
                        "{} dan {ib} berimpit sepanjang garis dari {from} ke {to}.",
                        upper(&ia)
                    ),
                    format!("{ea} and {eb} intersect on a line from {from} to {to}"),
                ))
            }
            Some(_) => {
                touching[ra] = true;
                touching[rb] = true;
                Ok(())
            }
        }
    }

    /// Checks where a point of ring `i` lies, given the rings it is inside
    /// (`inside`, sorted, every ring listed as often as the ray crossed it).
    fn placed(&self, i: usize, inside: &[u32]) -> Result<(), Text> {
        let r = &self.rings[i];
        let within = inside
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() % 2 == 1)
            .map(|run| run[0] as usize);
        match r.hole {
            Some(_) => {
                let shell = self.shells[r.part];
                let mut in_shell = false;
                for j in within {
                    if j == shell {
                        in_shell = true;
                    } else if self.rings[j].part == r.part {
                        let ((ii, ei), (ij, ej)) = (self.name(i), self.name(j));
                        return Err(Text::new(
                            format!("{} berada di dalam {ij}.", upper(&ii)),
                            format!("{ei} is inside {ej}"),
                        ));
                    }
                }
                if !in_shell {
                    let (id, en) = self.name(i);
                    return Err(Text::new(
                        format!("{} tidak berada di dalam cincin luar.", upper(&id)),
                        format!("{en} is not inside the exterior ring"),
                    ));
                }
            }
            None => {
                // Rings are listed part by part, so are the ones in `within`.
                let mut current: Option<(usize, bool)> = None;
                let verdict = |c: Option<(usize, bool)>| match c {
                    Some((part, true)) => {
                        let (a, b) = (self.numbers[r.part] + 1, self.numbers[part] + 1);
                        Err(Text::new(
                            format!("Bagian ke-{a} berada di dalam bagian ke-{b}."),
                            format!("part {a} lies inside part {b}"),
                        ))
                    }
                    _ => Ok(()),
                };
                for j in within {
                    let part = self.rings[j].part;
                    if part == r.part {
                        continue;
                    }
                    if current.is_some_and(|(p, _)| p != part) {
                        verdict(current)?;
                        current = None;
                    }
                    let in_shell = self.rings[j].hole.is_none();
                    current = Some(match current {
                        // A hole of the part: the point is in the hole, not the part.
                        Some((p, _)) if !in_shell => (p, false),
                        Some(c) => c,
                        None => (part, in_shell),
                    });
                }
                verdict(current)?;
            }
        }
        Ok(())
    }
}

/// Ray casting through the edge tree.
struct Ray<'t> {
    tree: &'t RTree<Edge>,
    max_x: f64,
}

impl Ray<'_> {
    /// The rings (other than `own`) that a ray from `p` towards +x crosses,
    /// each as often as it crosses it, sorted. `p` must not lie on them.
    fn containing(&self, p: Coord<f64>, own: u32, out: &mut Vec<u32>) {
        out.clear();
        let env = AABB::from_corners([p.x, p.y], [self.max_x.max(p.x), p.y]);
        for e in self.tree.locate_in_envelope_intersecting(&env) {
            let Line { start: a, end: b } = e.line;
            if e.ring == own || (a.y > p.y) == (b.y > p.y) {
                continue;
            }
            let o = RobustKernel::orient2d(a, b, p);
            let right = if b.y > a.y {
                o == Orientation::CounterClockwise
            } else {
                o == Orientation::Clockwise
            };
            if right {
                out.push(e.ring);
            }
        }
        out.sort_unstable();
    }

    /// Whether `p` lies on a ring other than `own`.
    fn on_other(&self, p: Coord<f64>, own: u32) -> bool {
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([p.x, p.y]))
            .any(|e| {
                e.ring != own
                    && RobustKernel::orient2d(e.line.start, e.line.end, p) == Orientation::Collinear
            })
    }
}

/// Where two intersecting edges meet, for messages.
fn at(p: Line<f64>, q: Line<f64>) -> String {
    match line_intersection(p, q) {
        Some(LineIntersection::SinglePoint { intersection, .. }) => show(intersection),
        Some(LineIntersection::Collinear { intersection }) => show(intersection.start),
        None => show(p.start),
    }
}

/// `s` with its first letter in upper case.
fn upper(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn show(c: Coord<f64>) -> String {
    format!("({}, {})", c.x, c.y)
}

#[cfg(test)]
mod tests;

/// A valid star-shaped polygon with `vertices` positions (for benchmarks
/// and tests), its radius varying smoothly with the angle plus a jitter
/// of at most a quarter of the spacing between vertices, from `seed`.
/// With `spiky`, every radius is drawn afresh between 0.5 and 1 instead,
/// which makes long edges whose extents overlap by the thousand.
pub fn star_polygon(vertices: usize, seed: u64, spiky: bool) -> Polygon<f64> {
    let mut state = seed;
    // SplitMix64: good enough for test shapes, and no dependency.
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n = vertices.max(4) - 1;
    let harmonics: Vec<(f64, f64)> = (0..8)
        .map(|_| (next() * 2.0 - 1.0, next() * 2.0 - 1.0))
        .collect();
    let step = std::f64::consts::TAU / n as f64;
    let mut coords: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let a = i as f64 * step;
            let r = if spiky {
                0.5 + next() * 0.5
            } else {
                let wave: f64 = harmonics
                    .iter()
                    .enumerate()
                    .map(|(k, (c, s))| {
                        let k = (k + 1) as f64;
                        (c * (k * a).cos() + s * (k * a).sin()) * 0.3 / k / 8.0
                    })
                    .sum();
                (1.0 + wave) * (1.0 + (next() - 0.5) * step / 2.0)
            };
            Coord {
                x: 115.2 + r * a.cos(),
                y: -8.6 + r * a.sin(),
            }
        })
        .collect();
    coords.push(coords[0]);
    Polygon::new(geo::LineString(coords), vec![])
}
