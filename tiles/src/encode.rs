//! Mapbox Vector Tile 2.1 encoding: geometry commands with zig-zag deltas,
//! ring winding as the spec defines it, and de-duplicated keys and values.

use std::collections::HashMap;

use geozero::mvt::tile::{Feature, GeomType, Layer, Value};
use serde_json::Value as Json;

/// Integer tile coordinates.
pub type IPt = [i32; 2];

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

/// Builds the geometry of one feature.
#[derive(Debug, Default)]
pub struct GeometryEncoder {
    cursor: IPt,
    /// The encoded commands.
    pub commands: Vec<u32>,
}

impl GeometryEncoder {
    fn delta(&mut self, p: IPt) {
        self.commands.push(zigzag(p[0] - self.cursor[0]));
        self.commands.push(zigzag(p[1] - self.cursor[1]));
        self.cursor = p;
    }

    /// Points (one MoveTo with every point).
    pub fn points(&mut self, pts: &[IPt]) {
        if pts.is_empty() {
            return;
        }
        self.commands.push(command(MOVE_TO, pts.len() as u32));
        for &p in pts {
            self.delta(p);
        }
    }

    /// A line of at least two points.
    pub fn line(&mut self, pts: &[IPt]) {
        if pts.len() < 2 {
            return;
        }
        self.commands.push(command(MOVE_TO, 1));
        self.delta(pts[0]);
        self.commands.push(command(LINE_TO, pts.len() as u32 - 1));
        for &p in &pts[1..] {
            self.delta(p);
        }
    }

    /// A closed ring (first point repeated last), at least four points;
    /// the closing point is implied by ClosePath.
    pub fn ring(&mut self, pts: &[IPt]) {
        if pts.len() < 4 {
            return;
        }
        let open = &pts[..pts.len() - 1];
        self.commands.push(command(MOVE_TO, 1));
        self.delta(open[0]);
        self.commands.push(command(LINE_TO, open.len() as u32 - 1));
        for &p in &open[1..] {
            self.delta(p);
        }
        self.commands.push(command(CLOSE_PATH, 1));
    }
}

/// Twice the signed area of a closed ring by the surveyor's formula in tile
/// coordinates (y down): positive for what MVT calls an exterior ring.
pub fn area2(ring: &[IPt]) -> i64 {
    ring.windows(2)
        .map(|w| i64::from(w[0][0]) * i64::from(w[1][1]) - i64::from(w[1][0]) * i64::from(w[0][1]))
        .sum()
}

/// Rounds to integer coordinates and drops repeated points.
pub fn quantize(pts: &[[f64; 2]]) -> Vec<IPt> {
    let mut out: Vec<IPt> = Vec::with_capacity(pts.len());
    for p in pts {
        let q = [p[0].round() as i32, p[1].round() as i32];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
    out
}

/// One MVT layer being built.
#[derive(Debug)]
pub struct LayerBuilder {
    layer: Layer,
    keys: HashMap<String, u32>,
    values: HashMap<ValueKey, u32>,
}

#[derive(Debug, PartialEq, Eq, Hash)]
enum ValueKey {
    Str(String),
    Int(i64),
    Uint(u64),
    Double(u64),
    Bool(bool),
}

impl LayerBuilder {
    /// An empty layer named `name` with `extent` units a side.
    pub fn new(name: &str, extent: u32) -> Self {
        LayerBuilder {
            layer: Layer {
                version: 2,
                name: name.to_owned(),
                extent: Some(extent),
                ..Layer::default()
            },
            keys: HashMap::new(),
            values: HashMap::new(),
        }
    }

    /// Features added so far.
    pub fn len(&self) -> usize {
        self.layer.features.len()
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.layer.features.is_empty()
    }

    /// Adds a feature with its geometry and the scalar members of
    /// `properties` as tags (arrays, objects and nulls have no MVT value).
    pub fn add(
        &mut self,
        id: Option<u64>,
        kind: GeomType,
        geometry: Vec<u32>,
        properties: &serde_json::Map<String, Json>,
    ) {
        let mut tags = Vec::with_capacity(properties.len() * 2);
        for (k, v) in properties {
            let key = match v {
                Json::String(s) => ValueKey::Str(s.clone()),
                Json::Bool(b) => ValueKey::Bool(*b),
                Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => ValueKey::Int(i),
                    (None, Some(u), _) => ValueKey::Uint(u),
                    (None, None, Some(f)) => ValueKey::Double(f.to_bits()),
                    _ => continue,
                },
                _ => continue,
            };
            let ki = match self.keys.get(k) {
                Some(&i) => i,
                None => {
                    let i = self.layer.keys.len() as u32;
                    self.layer.keys.push(k.clone());
                    self.keys.insert(k.clone(), i);
                    i
                }
            };
            let vi = match self.values.get(&key) {
                Some(&i) => i,
                None => {
                    let i = self.layer.values.len() as u32;
                    self.layer.values.push(value_of(&key));
                    self.values.insert(key, i);
                    i
                }
            };
            tags.push(ki);
            tags.push(vi);
        }
        self.layer.features.push(Feature {
            id,
            tags,
            r#type: Some(kind as i32),
            geometry,
        });
    }

    /// The finished layer.
    pub fn finish(self) -> Layer {
        self.layer
    }
}

fn value_of(k: &ValueKey) -> Value {
    match k {
        ValueKey::Str(s) => Value {
            string_value: Some(s.clone()),
            ..Value::default()
        },
        ValueKey::Int(i) => Value {
            sint_value: Some(*i),
            ..Value::default()
        },
        ValueKey::Uint(u) => Value {
            uint_value: Some(*u),
            ..Value::default()
        },
        ValueKey::Double(bits) => Value {
            double_value: Some(f64::from_bits(*bits)),
            ..Value::default()
        },
        ValueKey::Bool(b) => Value {
            bool_value: Some(*b),
            ..Value::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_follow_the_spec_examples() {
        // Examples from the MVT 2.1 specification, section 4.3.5.
        let mut g = GeometryEncoder::default();
        g.points(&[[25, 17]]);
        assert_eq!(g.commands, [9, 50, 34]);
        let mut g = GeometryEncoder::default();
        g.line(&[[2, 2], [2, 10], [10, 10]]);
        assert_eq!(g.commands, [9, 4, 4, 18, 0, 16, 16, 0]);
        let mut g = GeometryEncoder::default();
        g.ring(&[[3, 6], [8, 12], [20, 34], [3, 6]]);
        assert_eq!(g.commands, [9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn winding_and_quantizing() {
        // Clockwise on screen (y down) is positive: an exterior ring.
        assert!(area2(&[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]) > 0);
        assert!(area2(&[[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]) < 0);
        assert_eq!(
            quantize(&[[0.2, 0.4], [0.4, 0.1], [1.6, 0.0]]),
            [[0, 0], [2, 0]]
        );
    }

    #[test]
    fn tags_are_shared() {
        let mut l = LayerBuilder::new("pura", 4096);
        let props: serde_json::Map<String, Json> =
            serde_json::from_str(r#"{"nama":"Pura","n":1,"x":null,"a":[1],"f":1.5,"b":true}"#)
                .unwrap();
        l.add(Some(1), GeomType::Point, vec![9, 0, 0], &props);
        l.add(Some(2), GeomType::Point, vec![9, 2, 2], &props);
        let layer = l.finish();
        assert_eq!(layer.keys, ["nama", "n", "f", "b"]);
        assert_eq!(layer.values.len(), 4);
        assert_eq!(layer.features[1].tags, layer.features[0].tags);
    }
}
