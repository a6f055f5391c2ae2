//! Rendering one layer's features into an MVT layer for one tile, straight
//! from the in-memory index: R-tree lookup with the tile's buffered bounds,
//! projection to tile pixels, simplification (a constant tolerance in
//! pixels, so coarser per zoom level in degrees), clipping to the buffered
//! square, quantization to the extent, and thinning of crowded features.
//! Simplification and the choice of features at low zooms come from the
//! layer version's [`Overview`], made once when it loads. A tile that would
//! exceed the byte budget is rendered again coarser.

use std::collections::HashSet;
use std::sync::Arc;

use layers::index::LayerData;
use layers::index::geometry::PartKind;

use crate::clip::{Pt, Square, clip_line_with, clip_ring_into};
use crate::encode::{
    GeomType, GeometryEncoder, IPt, LayerBuilder, Scalar, Text, area2, parse_properties,
    quantize_into, round_point, tile as encode_tile,
};
use crate::options::TileOptions;
use crate::overview::Overview;
use crate::tile_id::TileId;

/// The coarsest rendering tried for the byte budget; it is served even
/// when it does not fit.
const COARSEST: u32 = 4;

/// Renders `layers` (MVT layer name and data) into one encoded tile;
/// `None` when no feature falls in it.
///
/// A rendering that runs over [`TileOptions::max_bytes`] stops there and
/// is tried again coarser, skipping as many steps as the part it managed
/// suggests (each step leaves roughly 2.5 times fewer bytes), so an
/// oversized tile costs little more than one that fits.
pub fn render_tile(
    layers: &[(&str, &LayerData)],
    tile: TileId,
    opts: &TileOptions,
) -> Option<Vec<u8>> {
    let overviews: Vec<Arc<Overview>> = layers
        .iter()
        .map(|(_, data)| Overview::of(data, opts))
        .collect();
    let mut level = 0u32;
    loop {
        let candidates: Vec<Vec<Candidate>> = layers
            .iter()
            .zip(&overviews)
            .map(|((_, data), ov)| candidates(data, ov, tile, opts, level))
            .collect();
        let total: usize = candidates.iter().map(Vec::len).sum();
        let mut left = if level >= COARSEST {
            usize::MAX
        } else {
            opts.max_bytes
        };
        let mut rendered = Vec::new();
        let mut done = 0;
        let mut over = None;
        for (((name, data), ov), cands) in layers.iter().zip(&overviews).zip(&candidates) {
            match draw_layer(name, data, ov, cands, tile, opts, level, left) {
                Drawn::Layer(layer, bytes) => {
                    left = left.saturating_sub(bytes);
                    rendered.push(layer);
                }
                Drawn::Empty => {}
                Drawn::Over(part) => {
                    over = Some((done as f64 + part * cands.len() as f64) / total as f64);
                    break;
                }
            }
            done += cands.len();
        }
        if let Some(part) = over {
            // The budget went on `part` of the content: the whole is about
            // 1 / part budgets.
            let steps = ((1.0 / part.max(1e-3)).ln() / 2.5f64.ln()).ceil();
            level = (level + (steps as u32).max(1)).min(COARSEST);
            continue;
        }
        if rendered.is_empty() {
            return None;
        }
        let bytes = encode_tile(&rendered);
        if bytes.len() <= opts.max_bytes || level >= COARSEST {
            return Some(bytes);
        }
        level += 1;
    }
}

/// A feature a tile may draw: its handle and envelope.
type Candidate = (u32, [f64; 4]);

/// The features of `data` whose envelopes meet `tile` (and its buffer), at
/// `coarser` steps coarser than the tile's zoom: chosen by the overview at
/// low zooms, every one deeper.
fn candidates(
    data: &LayerData,
    overview: &Overview,
    tile: TileId,
    opts: &TileOptions,
    coarser: u32,
) -> Vec<Candidate> {
    let bounds = tile.bounds_lonlat(f64::from(opts.buffer) / f64::from(opts.extent));
    let mut out = Vec::new();
    let zoom = feature_zoom(tile, coarser);
    if zoom <= overview.max_zoom() {
        overview.visit_envelopes(data, bounds, zoom, |index, env, _| out.push((index, env)));
    } else {
        data.visit_envelopes(bounds, |index, env, _| out.push((index, env)));
    }
    out
}

/// The zoom whose features a tile draws: its own, less one per step
/// coarser.
fn feature_zoom(tile: TileId, coarser: u32) -> u8 {
    tile.z.saturating_sub(coarser.min(8) as u8)
}

/// The numeric id of a pre-encoded feature, which the index writes as
/// `{"type":"Feature","id":…,"geometry":…`: a number ends at the comma.
fn feature_id(feature: &[u8]) -> Option<u64> {
    const ID: &[u8] = br#"{"type":"Feature","id":"#;
    let rest = feature.strip_prefix(ID)?;
    let end = rest.iter().position(|&b| b == b',')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse::<u64>().ok()
}

/// Memory reused from feature to feature while rendering a layer.
#[derive(Default)]
struct Scratch<'d> {
    projected: Vec<Pt>,
    clipped: Vec<Pt>,
    spare: Vec<Pt>,
    ints: Vec<IPt>,
    members: Vec<(Text<'d>, Scalar<'d>)>,
}

impl<'d> Scratch<'d> {
    /// Adds the feature with handle `index` and its properties to `layer`.
    fn add(
        &mut self,
        layer: &mut LayerBuilder,
        data: &'d LayerData,
        index: u32,
        kind: GeomType,
        commands: &[u32],
    ) {
        let id = feature_id(data.feature_bytes(index));
        if !parse_properties(data.properties_bytes(index), &mut self.members) {
            self.members.clear();
        }
        let tags = self.members.iter().map(|(k, v)| (k.as_ref(), v.clone()));
        layer.add_tags(id, kind, commands, tags);
    }
}

/// Renders one layer with the overview of its data into an encoded MVT
/// layer message; `coarser` > 0 simplifies and thins more to fit the byte
/// budget: each step draws the features of the zoom above and simplifies
/// as two zooms above (4x the tolerance).
pub fn render_layer(
    name: &str,
    data: &LayerData,
    overview: &Overview,
    tile: TileId,
    opts: &TileOptions,
    coarser: u32,
) -> Option<Vec<u8>> {
    let cands = candidates(data, overview, tile, opts, coarser);
    match draw_layer(
        name,
        data,
        overview,
        &cands,
        tile,
        opts,
        coarser,
        usize::MAX,
    ) {
        Drawn::Layer(layer, _) => Some(layer),
        Drawn::Empty | Drawn::Over(_) => None,
    }
}

/// What became of a layer drawn within a byte budget.
enum Drawn {
    /// The encoded layer and its length.
    Layer(Vec<u8>, usize),
    /// No feature fell in the tile.
    Empty,
    /// The budget ran out after this part (0 to 1) of the layer.
    Over(f64),
}

/// Draws the features `cands` of one layer into an MVT layer of at most
/// about `budget` bytes.
#[allow(clippy::too_many_arguments)]
fn draw_layer(
    name: &str,
    data: &LayerData,
    overview: &Overview,
    cands: &[Candidate],
    tile: TileId,
    opts: &TileOptions,
    coarser: u32,
    budget: usize,
) -> Drawn {
    let extent = f64::from(opts.extent);
    let buffer = f64::from(opts.buffer);
    let proj = tile.projector(opts.extent);
    let sq = Square {
        min: -buffer,
        max: extent + buffer,
    };
    let coarser = coarser.min(8) as u8;
    let keeper = overview.keeper(
        tile.z.saturating_sub(2 * coarser),
        opts.tolerance,
        opts.extent,
    );
    let mut layer = LayerBuilder::new(name, opts.extent);
    // Points wait for thinning; a point set gives one entry per point.
    let mut points: Vec<(u32, IPt)> = Vec::new();
    let mut s = Scratch::default();
    let mut g = GeometryEncoder::default();
    for (at, &(index, env)) in cands.iter().enumerate() {
        // A line or area smaller than a unit at this zoom would quantize to
        // nothing: skip it before projecting its vertices.
        let lo = proj.project(env[0], env[3]);
        let hi = proj.project(env[2], env[1]);
        let tiny = (hi[0] - lo[0]) < 1.0 && (hi[1] - lo[1]) < 1.0;
        g.clear();
        let mut kind = None;
        let points_before = points.len();
        let mut any_run = false;
        // The rings of the current polygon: shell first; dropped together
        // when the shell vanishes.
        let mut shell_kept = false;
        for run in data.runs(index) {
            any_run = true;
            if tiny && run.kind != PartKind::Points {
                continue;
            }
            s.projected.clear();
            s.projected
                .extend(keeper.kept(run).map(|c| proj.project(c.x, c.y)));
            match run.kind {
                PartKind::Points => {
                    kind = Some(GeomType::Point);
                    for &p in &s.projected {
                        let q = round_point(p);
                        if sq.contains(p) && points[points_before..].last() != Some(&(index, q)) {
                            points.push((index, q));
                        }
                    }
                }
                PartKind::Line => {
                    kind = Some(GeomType::Linestring);
                    let ints = &mut s.ints;
                    clip_line_with(&s.projected, sq, &mut s.clipped, |run| {
                        quantize_into(run, ints);
                        g.line(ints);
                    });
                }
                PartKind::Shell | PartKind::Hole => {
                    kind = Some(GeomType::Polygon);
                    let is_shell = run.kind == PartKind::Shell;
                    if !is_shell && !shell_kept {
                        continue;
                    }
                    clip_ring_into(&s.projected, sq, &mut s.clipped, &mut s.spare);
                    quantize_into(&s.clipped, &mut s.ints);
                    let ring = &mut s.ints;
                    let a = if ring.len() >= 4 { area2(ring) } else { 0 };
                    if a == 0 {
                        if is_shell {
                            shell_kept = false;
                        }
                        continue;
                    }
                    // Exterior rings positive, holes negative (MVT 2.1 §4.3.4.4).
                    if (a > 0) != is_shell {
                        ring.reverse();
                    }
                    if is_shell {
                        shell_kept = true;
                    }
                    g.ring(ring);
                }
            }
        }
        if !any_run {
            // A point: its envelope's corner.
            let p = proj.project(env[0], env[1]);
            if sq.contains(p) {
                points.push((index, round_point(p)));
            }
            continue;
        }
        if kind != Some(GeomType::Point) {
            // A collection drawn as its last kind, as MVT has one per feature.
            points.truncate(points_before);
            if let Some(k) = kind
                && !g.commands.is_empty()
            {
                s.add(&mut layer, data, index, k, &g.commands);
                if layer.encoded_len() > budget {
                    return Drawn::Over((at + 1) as f64 / cands.len() as f64);
                }
            }
        }
    }
    let chosen = feature_zoom(tile, u32::from(coarser)) <= overview.max_zoom();
    if !chosen && (coarser > 0 || points.len() > opts.dense_points) {
        // Deeper than the overview chooses for, a crowded tile is thinned
        // on its own.
        let cell = i64::from(opts.thin_cell) << coarser;
        let mut taken: HashSet<(i64, i64), foldhash::fast::RandomState> = HashSet::default();
        points.retain(|(_, p)| {
            taken.insert((
                i64::from(p[0]).div_euclid(cell),
                i64::from(p[1]).div_euclid(cell),
            ))
        });
    }
    let sets = points.chunk_by(|a, b| a.0 == b.0);
    let n = sets.clone().count();
    for (at, set) in sets.enumerate() {
        s.ints.clear();
        s.ints.extend(set.iter().map(|(_, p)| *p));
        g.clear();
        g.points(&s.ints);
        s.add(&mut layer, data, set[0].0, GeomType::Point, &g.commands);
        if layer.encoded_len() > budget {
            return Drawn::Over((at + 1) as f64 / n as f64);
        }
    }
    if layer.is_empty() {
        return Drawn::Empty;
    }
    let layer = layer.finish();
    let bytes = layer.len();
    Drawn::Layer(layer, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::layer_data as data;
    use geozero::mvt::tile::GeomType;
    use geozero::mvt::{Message, Tile};

    /// Decodes MVT geometry commands into runs of absolute points.
    fn decode(commands: &[u32]) -> Vec<Vec<[i32; 2]>> {
        let (mut runs, mut cur, mut at) = (Vec::new(), [0i32, 0i32], 0);
        while at < commands.len() {
            let (id, count) = (commands[at] & 7, commands[at] >> 3);
            at += 1;
            if id == 7 {
                continue;
            }
            if id == 1 {
                runs.push(Vec::new());
            }
            for _ in 0..count {
                let dz = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
                cur = [cur[0] + dz(commands[at]), cur[1] + dz(commands[at + 1])];
                at += 2;
                runs.last_mut().unwrap().push(cur);
            }
        }
        runs
    }

    #[test]
    fn points_lines_and_polygons_land_where_they_should() {
        let t = TileId::new(14, 13433, 8589).unwrap();
        let b = t.bounds_lonlat(0.0);
        let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        let point = format!(r#"{{"type":"Point","coordinates":[{cx},{cy}]}}"#);
        // A line from the centre to far east: clipped at the buffered edge.
        let line = format!(
            r#"{{"type":"LineString","coordinates":[[{cx},{cy}],[{},{cy}]]}}"#,
            cx + 2.0 * w
        );
        // A square covering the tile's north-west quarter, with a hole.
        let (x0, x1, y0, y1) = (b[0] + 0.05 * w, cx, cy, b[3] - 0.05 * h);
        let (hx0, hx1, hy0, hy1) = (x0 + 0.1 * w, x0 + 0.2 * w, y0 + 0.1 * h, y0 + 0.2 * h);
        let poly = format!(
            r#"{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]],[[{hx0},{hy0}],[{hx0},{hy1}],[{hx1},{hy1}],[{hx1},{hy0}],[{hx0},{hy0}]]]}}"#
        );
        let layer = data([
            (&point, r#"{"nama":"Pura Puseh","n":3}"#, [cx, cy, cx, cy]),
            (&line, r#"{"nama":"Jalan"}"#, [cx, cy, cx + 2.0 * w, cy]),
            (&poly, r#"{"nama":"Sawah"}"#, [x0, y0, x1, y1]),
        ]);
        let bytes = render_tile(&[("uji", &layer)], t, &TileOptions::default()).unwrap();
        let tile = Tile::decode(bytes.as_slice()).unwrap();
        let l = &tile.layers[0];
        assert_eq!(
            (l.name.as_str(), l.extent, l.features.len()),
            ("uji", Some(4096), 3)
        );
        let by_type = |t: GeomType| {
            l.features
                .iter()
                .find(|f| f.r#type == Some(t as i32))
                .unwrap()
        };
        let p = decode(&by_type(GeomType::Point).geometry);
        assert!(
            (p[0][0][0] - 2048).abs() <= 1 && (p[0][0][1] - 2048).abs() <= 1,
            "{p:?}"
        );
        let line = decode(&by_type(GeomType::Linestring).geometry);
        assert_eq!(line[0].last().unwrap()[0], 4096 + 64, "{line:?}");
        let rings = decode(&by_type(GeomType::Polygon).geometry);
        assert_eq!(rings.len(), 2, "shell and hole: {rings:?}");
        let closed = |r: &Vec<[i32; 2]>| {
            let mut r = r.clone();
            r.push(r[0]);
            area2(&r)
        };
        assert!(closed(&rings[0]) > 0 && closed(&rings[1]) < 0);
        // Tags: the point's name and number.
        let f = by_type(GeomType::Point);
        let tags: Vec<(String, String)> = f
            .tags
            .chunks(2)
            .map(|kv| {
                (
                    l.keys[kv[0] as usize].clone(),
                    format!("{:?}", l.values[kv[1] as usize]),
                )
            })
            .collect();
        assert_eq!(tags[0].0, "nama");
        assert!(tags[0].1.contains("Pura Puseh"));
        assert_eq!(f.id, Some(1));
        // A tile far away is empty.
        assert!(
            render_tile(
                &[("uji", &layer)],
                TileId::new(14, 0, 0).unwrap(),
                &TileOptions::default()
            )
            .is_none()
        );
    }

    #[test]
    fn numeric_ids_are_read() {
        let f = br#"{"type":"Feature","id":42,"geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}"#;
        assert_eq!(feature_id(f), Some(42));
        let s = br#"{"type":"Feature","id":"a,\"b\":","geometry":null,"properties":null}"#;
        assert_eq!(feature_id(s), None);
        let mut members = Vec::new();
        assert!(!parse_properties(b"null", &mut members));
    }

    #[test]
    fn dense_points_are_thinned_and_tiles_stay_bounded() {
        let t = TileId::new(10, 839, 536).unwrap();
        let b = t.bounds_lonlat(0.0);
        let mut feats = Vec::new();
        for i in 0..20_000 {
            // All in the tile's south-west quarter: 5 by 10 units apart.
            let x = b[0] + (b[2] - b[0]) * 0.25 * ((i % 200) as f64 + 0.5) / 200.0;
            let y = b[1] + (b[3] - b[1]) * 0.25 * ((i / 200) as f64 + 0.5) / 100.0;
            feats.push((
                format!(r#"{{"type":"Point","coordinates":[{x},{y}]}}"#),
                [x, y, x, y],
            ));
        }
        let layer = data(
            feats
                .into_iter()
                .map(|(g, bb)| (g, r#"{"nama":"titik"}"#, bb)),
        );
        let opts = TileOptions::default();
        let bytes = render_tile(&[("titik", &layer)], t, &opts).unwrap();
        let tile = Tile::decode(bytes.as_slice()).unwrap();
        let n = tile.layers[0].features.len();
        // 20,000 points over a 1024-unit square, one kept per 16-unit cell.
        assert!(n <= 65 * 65 && n > 3_000, "{n}");
        assert!(bytes.len() <= opts.max_bytes);
        let tight = TileOptions {
            max_bytes: 20_000,
            ..opts
        };
        let small = render_tile(&[("titik", &layer)], t, &tight).unwrap();
        assert!(small.len() < bytes.len());
    }
}
