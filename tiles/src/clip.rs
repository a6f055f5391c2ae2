//! Clipping lines and polygon rings to a tile's (buffered) square, in tile
//! pixel coordinates. Lines are cut into the runs that lie inside
//! (Liang–Barsky per segment); rings are clipped whole (Sutherland–Hodgman),
//! which keeps them closed and is exact for a convex clip area.

/// A point in tile pixel coordinates.
pub type Pt = [f64; 2];

/// An axis-aligned square: `[min, max]` on both axes.
#[derive(Debug, Clone, Copy)]
pub struct Square {
    /// Lowest coordinate on both axes.
    pub min: f64,
    /// Highest coordinate on both axes.
    pub max: f64,
}

impl Square {
    /// Whether `p` lies inside or on the edge.
    pub fn contains(&self, p: Pt) -> bool {
        p[0] >= self.min && p[0] <= self.max && p[1] >= self.min && p[1] <= self.max
    }
}

/// The runs of `line` inside `sq`, each with at least two points.
pub fn clip_line(line: &[Pt], sq: Square) -> Vec<Vec<Pt>> {
    let mut out = Vec::new();
    clip_line_with(line, sq, &mut Vec::new(), |run| out.push(run.to_vec()));
    out
}

/// Calls `each` with the runs of `line` inside `sq`, each with at least
/// two points, built in `run` (reused memory); a line wholly inside is
/// passed as it is.
pub fn clip_line_with(line: &[Pt], sq: Square, run: &mut Vec<Pt>, mut each: impl FnMut(&[Pt])) {
    if line.iter().all(|p| sq.contains(*p)) {
        if line.len() >= 2 {
            each(line);
        }
        return;
    }
    run.clear();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], sq) {
            Some((a, b, a_cut, b_cut)) => {
                if run.is_empty() || a_cut {
                    if run.len() >= 2 {
                        each(run);
                    }
                    run.clear();
                    run.push(a);
                }
                run.push(b);
                if b_cut {
                    each(run);
                    run.clear();
                }
            }
            None => {
                if run.len() >= 2 {
                    each(run);
                }
                run.clear();
            }
        }
    }
    if run.len() >= 2 {
        each(run);
    }
}

/// Liang–Barsky: the part of segment `a`–`b` inside `sq`, and whether each
/// end was cut.
fn clip_segment(a: Pt, b: Pt, sq: Square) -> Option<(Pt, Pt, bool, bool)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a[0] - sq.min),
        (dx, sq.max - a[0]),
        (-dy, a[1] - sq.min),
        (dy, sq.max - a[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    let at = |t: f64| [a[0] + t * dx, a[1] + t * dy];
    Some((at(t0), at(t1), t0 > 0.0, t1 < 1.0))
}

/// Sutherland–Hodgman: `ring` (closed or not) clipped to `sq`, returned
/// closed; empty when nothing is left.
pub fn clip_ring(ring: &[Pt], sq: Square) -> Vec<Pt> {
    let mut out = Vec::new();
    clip_ring_into(ring, sq, &mut out, &mut Vec::new());
    out
}

/// [`clip_ring`] into `out` (cleared first), with `spare` as working
/// memory: both are reused from ring to ring.
pub fn clip_ring_into(ring: &[Pt], sq: Square, out: &mut Vec<Pt>, spare: &mut Vec<Pt>) {
    out.clear();
    out.extend_from_slice(ring);
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    if out.iter().all(|p| sq.contains(*p)) {
        if let Some(&first) = out.first() {
            out.push(first);
        }
        return;
    }
    // Each edge of the square in turn: (axis, bound, keep if coordinate >= bound?)
    for (axis, bound, keep_above) in [
        (0usize, sq.min, true),
        (0, sq.max, false),
        (1, sq.min, true),
        (1, sq.max, false),
    ] {
        if out.is_empty() {
            break;
        }
        let inside = |p: &Pt| {
            if keep_above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        spare.clear();
        let mut prev = out[out.len() - 1];
        for &cur in out.iter() {
            let (pi, ci) = (inside(&prev), inside(&cur));
            if ci {
                if !pi {
                    spare.push(cross(prev, cur, axis, bound));
                }
                spare.push(cur);
            } else if pi {
                spare.push(cross(prev, cur, axis, bound));
            }
            prev = cur;
        }
        std::mem::swap(out, spare);
    }
    if out.len() < 3 {
        out.clear();
        return;
    }
    let first = out[0];
    out.push(first);
}

fn cross(a: Pt, b: Pt, axis: usize, bound: f64) -> Pt {
    let t = (bound - a[axis]) / (b[axis] - a[axis]);
    let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
    p[axis] = bound;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQ: Square = Square {
        min: 0.0,
        max: 10.0,
    };

    #[test]
    fn lines_are_cut_into_inside_runs() {
        // In, out, back in: two runs.
        let runs = clip_line(
            &[[1.0, 1.0], [5.0, 1.0], [15.0, 1.0], [15.0, 5.0], [5.0, 5.0]],
            SQ,
        );
        assert_eq!(
            runs,
            vec![
                vec![[1.0, 1.0], [5.0, 1.0], [10.0, 1.0]],
                vec![[10.0, 5.0], [5.0, 5.0]]
            ]
        );
        // Crossing the square without a vertex inside.
        let runs = clip_line(&[[-5.0, 5.0], [15.0, 5.0]], SQ);
        assert_eq!(runs, vec![vec![[0.0, 5.0], [10.0, 5.0]]]);
        assert!(clip_line(&[[-5.0, -5.0], [-1.0, 20.0]], SQ).is_empty());
    }

    #[test]
    fn rings_stay_closed() {
        let inside = [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]];
        assert_eq!(clip_ring(&inside, SQ), inside.to_vec());
        let big = [
            [-5.0, -5.0],
            [15.0, -5.0],
            [15.0, 15.0],
            [-5.0, 15.0],
            [-5.0, -5.0],
        ];
        let c = clip_ring(&big, SQ);
        assert_eq!(c.first(), c.last());
        assert_eq!(c.len(), 5);
        assert!(c.iter().all(|p| SQ.contains(*p)));
        let away = [[20.0, 20.0], [30.0, 20.0], [30.0, 30.0], [20.0, 20.0]];
        assert!(clip_ring(&away, SQ).is_empty());
    }
}
