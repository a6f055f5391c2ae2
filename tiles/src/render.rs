//! Rendering one layer's features into an MVT layer for one tile, straight
//! from the in-memory index: R-tree lookup with the tile's buffered bounds,
//! projection to tile pixels, simplification (a constant tolerance in
//! pixels, so coarser per zoom level in degrees), clipping to the buffered
//! square, quantization to the extent, and thinning of dense point layers.
//! A tile that would exceed the byte budget is rendered again coarser.

use std::collections::HashSet;

use geo::{LineString, Simplify};
use geozero::mvt::tile::{GeomType, Layer};
use geozero::mvt::{Message, Tile};
use layers::index::{LayerData, PartKind};

use crate::clip::{Pt, Square, clip_line, clip_ring};
use crate::encode::{GeometryEncoder, IPt, LayerBuilder, area2, quantize};
use crate::tile_id::TileId;

/// How tiles are made.
#[derive(Debug, Clone)]
pub struct TileOptions {
    /// Units per tile side (MVT's `extent`).
    pub extent: u32,
    /// Units drawn beyond each edge, so lines and areas join across tiles.
    pub buffer: u32,
    /// Simplification tolerance in units.
    pub tolerance: f64,
    /// A layer with more points than this in one tile is thinned.
    pub dense_points: usize,
    /// When thinning, one point is kept per square cell of this many units.
    pub thin_cell: u32,
    /// Encoded bytes a tile should not exceed; coarser renderings are tried
    /// until it fits.
    pub max_bytes: usize,
}

impl Default for TileOptions {
    fn default() -> Self {
        TileOptions {
            extent: 4096,
            buffer: 64,
            tolerance: 1.0,
            dense_points: 4_000,
            thin_cell: 16,
            max_bytes: 512 * 1024,
        }
    }
}

/// Renders `layers` (MVT layer name and data) into one encoded tile;
/// `None` when no feature falls in it.
pub fn render_tile(
    layers: &[(&str, &LayerData)],
    tile: TileId,
    opts: &TileOptions,
) -> Option<Vec<u8>> {
    let mut level = 0u32;
    loop {
        let rendered: Vec<Layer> = layers
            .iter()
            .filter_map(|(name, data)| render_layer(name, data, tile, opts, level))
            .collect();
        if rendered.is_empty() {
            return None;
        }
        let bytes = Tile { layers: rendered }.encode_to_vec();
        if bytes.len() <= opts.max_bytes || level >= 4 {
            return Some(bytes);
        }
        level += 1;
    }
}

/// The numeric id and the properties of a pre-encoded feature, which the
/// index writes as `{"type":"Feature","id":…,"geometry":…,"properties":…}`:
/// only the id and the properties are parsed, never the geometry (the bulk
/// of a line or area). Neither the id (quotes inside a JSON string are
/// escaped) nor the geometry can hold `,"properties":`, so the first one is
/// the feature's; a nested key of that name comes after it.
fn id_and_properties(
    feature: &[u8],
) -> (
    Option<u64>,
    Option<serde_json::Map<String, serde_json::Value>>,
) {
    const ID: &[u8] = br#"{"type":"Feature","id":"#;
    const PROPS: &[u8] = br#","properties":"#;
    let id = feature.strip_prefix(ID).and_then(|rest| {
        let end = rest.iter().position(|&b| b == b',')?;
        std::str::from_utf8(&rest[..end]).ok()?.parse::<u64>().ok()
    });
    let props = feature
        .windows(PROPS.len())
        .position(|w| w == PROPS)
        .and_then(|at| feature.get(at + PROPS.len()..feature.len().checked_sub(1)?))
        .and_then(|json| serde_json::from_slice(json).ok());
    (id, props)
}

/// Renders one layer; `coarser` > 0 simplifies and thins more (4x the
/// tolerance and 2x the cell per step) to fit the byte budget.
pub fn render_layer(
    name: &str,
    data: &LayerData,
    tile: TileId,
    opts: &TileOptions,
    coarser: u32,
) -> Option<Layer> {
    let extent = f64::from(opts.extent);
    let buffer = f64::from(opts.buffer);
    let bounds = tile.bounds_lonlat(buffer / extent);
    let proj = tile.projector(opts.extent);
    let sq = Square {
        min: -buffer,
        max: extent + buffer,
    };
    let tolerance = opts.tolerance * 4f64.powi(coarser as i32);
    let mut shapes: Vec<(u32, GeomType, Vec<u32>)> = Vec::new();
    let mut points: Vec<(u32, Vec<IPt>)> = Vec::new();
    data.visit_envelopes(bounds, |index, env, runs| {
        // A line or area smaller than a unit at this zoom would quantize to
        // nothing: skip it before projecting its vertices (at low zooms this
        // is most of a dense layer).
        let lo = proj.project(env[0], env[3]);
        let hi = proj.project(env[2], env[1]);
        let tiny = (hi[0] - lo[0]) < 1.0 && (hi[1] - lo[1]) < 1.0;
        let mut g = GeometryEncoder::default();
        let mut kind = None;
        let mut pts: Vec<IPt> = Vec::new();
        let mut any_run = false;
        // The rings of the current polygon: shell first; dropped together
        // when the shell vanishes.
        let mut shell_kept = false;
        for (part, coords) in runs {
            any_run = true;
            if tiny && part != PartKind::Points {
                continue;
            }
            let projected: Vec<Pt> = coords.iter().map(|c| proj.project(c.x, c.y)).collect();
            match part {
                PartKind::Points => {
                    kind = Some(GeomType::Point);
                    pts.extend(quantize(
                        &projected
                            .into_iter()
                            .filter(|p| sq.contains(*p))
                            .collect::<Vec<_>>(),
                    ));
                }
                PartKind::Line => {
                    kind = Some(GeomType::Linestring);
                    let simple = simplify(&projected, tolerance);
                    for run in clip_line(&simple, sq) {
                        g.line(&quantize(&run));
                    }
                }
                PartKind::Shell | PartKind::Hole => {
                    kind = Some(GeomType::Polygon);
                    let is_shell = part == PartKind::Shell;
                    if !is_shell && !shell_kept {
                        continue;
                    }
                    let simple = simplify(&projected, tolerance);
                    let ring = quantize(&clip_ring(&simple, sq));
                    let a = if ring.len() >= 4 { area2(&ring) } else { 0 };
                    if a == 0 {
                        if is_shell {
                            shell_kept = false;
                        }
                        continue;
                    }
                    // Exterior rings positive, holes negative (MVT 2.1 §4.3.4.4).
                    let mut ring = ring;
                    if (a > 0) != is_shell {
                        ring.reverse();
                    }
                    if is_shell {
                        shell_kept = true;
                    }
                    g.ring(&ring);
                }
            }
        }
        if !any_run {
            // A point: its envelope's corner.
            let p = proj.project(env[0], env[1]);
            if sq.contains(p) {
                points.push((index, quantize(&[p])));
            }
            return;
        }
        if kind == Some(GeomType::Point) {
            if !pts.is_empty() {
                points.push((index, pts));
            }
        } else if let Some(k) = kind
            && !g.commands.is_empty()
        {
            shapes.push((index, k, g.commands));
        }
    });
    if coarser > 0 || points.len() > opts.dense_points {
        let cell = i64::from(opts.thin_cell) << coarser.min(8);
        let mut taken: HashSet<(i64, i64)> = HashSet::new();
        points.retain_mut(|(_, pts)| {
            pts.retain(|p| {
                taken.insert((
                    i64::from(p[0]).div_euclid(cell),
                    i64::from(p[1]).div_euclid(cell),
                ))
            });
            !pts.is_empty()
        });
    }
    if shapes.is_empty() && points.is_empty() {
        return None;
    }
    let mut layer = LayerBuilder::new(name, opts.extent);
    let no_props = serde_json::Map::new();
    let mut add = |index: u32, kind: GeomType, commands: Vec<u32>| {
        let (id, props) = id_and_properties(data.feature_bytes(index));
        layer.add(id, kind, commands, props.as_ref().unwrap_or(&no_props));
    };
    for (index, pts) in points {
        let mut g = GeometryEncoder::default();
        g.points(&pts);
        add(index, GeomType::Point, g.commands);
    }
    for (index, kind, commands) in shapes {
        add(index, kind, commands);
    }
    Some(layer.finish())
}

fn simplify(pts: &[Pt], tolerance: f64) -> Vec<Pt> {
    if pts.len() <= 2 || tolerance <= 0.0 {
        return pts.to_vec();
    }
    let line: LineString<f64> = pts.iter().map(|p| (p[0], p[1])).collect();
    line.simplify(tolerance)
        .0
        .into_iter()
        .map(|c| [c.x, c.y])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use layers::index::LayerBuilder as DataBuilder;
    use layers::model::VersionInfo;
    use layers::store::FeatureRow;

    fn data(features: &[(&str, &str, [f64; 4])]) -> LayerData {
        let mut b = DataBuilder::new(VersionInfo {
            id: 1,
            version: 1,
            feature_count: features.len() as i64,
            geometry_types: vec![],
            bbox: None,
            created_at: String::new(),
            photos_rev: 0,
        });
        for (i, (geometry, props, bbox)) in features.iter().enumerate() {
            b.push(FeatureRow {
                fid: (i + 1).to_string(),
                fid_json: (i + 1).to_string(),
                geometry: Some((*geometry).to_owned()),
                properties: (*props).to_owned(),
                name: None,
                bbox: Some(*bbox),
            })
            .unwrap();
        }
        b.finish().unwrap()
    }

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
        let layer = data(&[
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
    fn ids_and_properties_are_read_without_the_geometry() {
        let f = br#"{"type":"Feature","id":42,"geometry":{"type":"Point","coordinates":[1,2]},"properties":{"a":{"properties":1},"b":"x"}}"#;
        let (id, props) = id_and_properties(f);
        assert_eq!(id, Some(42));
        let props = props.unwrap();
        assert_eq!(props["b"], "x");
        assert_eq!(props["a"]["properties"], 1);
        let s = br#"{"type":"Feature","id":"a,\"properties\":","geometry":null,"properties":null}"#;
        assert_eq!(id_and_properties(s), (None, None));
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
        let rows: Vec<(&str, &str, [f64; 4])> = feats
            .iter()
            .map(|(g, bb)| (g.as_str(), r#"{"nama":"titik"}"#, *bb))
            .collect();
        let layer = data(&rows);
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
