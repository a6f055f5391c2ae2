//! CQL2 filters: our compiled evaluator (`layers::query::cql2`) against
//! the `cql2` crate's own evaluation (`Expr::matches`, which reduces a
//! clone of the expression against each feature's JSON), on the same
//! Badung-like features and the same filters; and parsing + compiling once.
//!
//! `cargo bench -p layers --bench cql2 -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use layers::query::cql2::{self as ours, Candidate, Queryables};
use serde_json::{Value, json};
use std::hint::black_box;

const FEATURES: usize = 5_000;

const KECAMATAN: &[&str] = &[
    "Kuta",
    "Kuta Selatan",
    "Kuta Utara",
    "Mengwi",
    "Abiansemal",
    "Petang",
];

/// The filters compared: name, then cql2-text.
const FILTERS: &[(&str, &str)] = &[
    ("equality", "kecamatan = 'Mengwi'"),
    ("and", "kecamatan = 'Kuta' AND aktif = true"),
    ("numbers", "luas > 250.5 AND nomor <= 4000"),
    ("like", "nama LIKE 'Pura Dalem 1%'"),
    ("in", "kecamatan IN ('Kuta', 'Mengwi', 'Petang')"),
    (
        "s_intersects_bbox",
        "S_INTERSECTS(geometry, BBOX(115.1, -8.7, 115.2, -8.5))",
    ),
    ("temporal", "tanggal >= DATE('2021-07-01')"),
];

/// Points over the regency with a temple's properties, deterministic.
fn features() -> Vec<Value> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..FEATURES)
        .map(|i| {
            let x = 115.03 + rng.f64() * 0.27;
            let y = -8.90 + rng.f64() * 0.71;
            json!({
                "type": "Feature",
                "id": i + 1,
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {
                    "nama": format!("Pura Dalem {}", i + 1),
                    "kecamatan": KECAMATAN[rng.usize(0..KECAMATAN.len())],
                    "nomor": i + 1,
                    "luas": (rng.f64() * 1000.0 * 10.0).round() / 10.0,
                    "aktif": rng.bool(),
                    "tanggal": format!(
                        "20{:02}-{:02}-{:02}",
                        rng.u32(15..25),
                        rng.u32(1..13),
                        rng.u32(1..29)
                    ),
                }
            })
        })
        .collect()
}

fn queryables() -> Queryables {
    let mut q = Queryables::new();
    for (k, t) in [
        ("nama", "String"),
        ("kecamatan", "String"),
        ("nomor", "Number"),
        ("luas", "Number"),
        ("aktif", "Boolean"),
        ("tanggal", "String"),
    ] {
        q.insert(k.into(), t.into());
    }
    q
}

/// Each feature's properties and geometry, as our evaluator takes them.
struct Parsed {
    properties: serde_json::Map<String, Value>,
    geometry: geo::Geometry<f64>,
}

fn parsed(features: &[Value]) -> Vec<Parsed> {
    features
        .iter()
        .map(|f| {
            let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
            Parsed {
                properties: f["properties"].as_object().unwrap().clone(),
                geometry: geo::Geometry::try_from(g).unwrap(),
            }
        })
        .collect()
}

fn count_ours(node: &ours::Node, features: &[Parsed]) -> usize {
    let geometry = node.needs_geometry();
    features
        .iter()
        .filter(|f| {
            node.eval(&Candidate {
                properties: Some(&f.properties),
                geometry: geometry.then(|| f.geometry.clone()),
            }) == Some(true)
        })
        .count()
}

fn count_crate(expr: &::cql2::Expr, features: &[Value]) -> usize {
    features
        .iter()
        .filter(|f| expr.clone().matches(Some(f)).unwrap_or(false))
        .count()
}

fn evaluate(c: &mut Criterion) {
    let features = features();
    let parsed = parsed(&features);
    let q = queryables();
    let mut g = c.benchmark_group("cql2_eval_5000");
    for (name, text) in FILTERS {
        let node = ours::compile(text, "cql2-text", &q).unwrap();
        let expr = ::cql2::parse_text(text).unwrap();
        let (a, b) = (count_ours(&node, &parsed), count_crate(&expr, &features));
        // Both must select the same features for the figures to compare.
        assert_eq!(a, b, "{name}: ours {a}, cql2 {b}");
        assert!(a > 0 && a < FEATURES, "{name}: {a} matches");
        g.bench_with_input(BenchmarkId::new("ours", name), &parsed, |bch, p| {
            bch.iter(|| count_ours(black_box(&node), black_box(p)))
        });
        g.bench_with_input(BenchmarkId::new("cql2_crate", name), &features, |bch, f| {
            bch.iter(|| count_crate(black_box(&expr), black_box(f)))
        });
    }
    g.finish();
}

/// The whole per-feature cost as `select_page` pays it: the feature's
/// bytes parsed into what the evaluator takes, then evaluated.
fn from_bytes(c: &mut Criterion) {
    #[derive(serde::Deserialize)]
    struct Props {
        properties: serde_json::Map<String, Value>,
    }
    #[derive(serde::Deserialize)]
    struct WithGeometry {
        properties: serde_json::Map<String, Value>,
        geometry: geojson::Geometry,
    }
    let bytes: Vec<Vec<u8>> = features()
        .iter()
        .map(|f| serde_json::to_vec(f).unwrap())
        .collect();
    let q = queryables();
    let mut g = c.benchmark_group("cql2_from_bytes_5000");
    for (name, text) in [FILTERS[1], FILTERS[5]] {
        let node = ours::compile(text, "cql2-text", &q).unwrap();
        let expr = ::cql2::parse_text(text).unwrap();
        g.bench_function(BenchmarkId::new("ours", name), |bch| {
            bch.iter(|| {
                bytes
                    .iter()
                    .filter(|b| {
                        let (properties, geometry) = if node.needs_geometry() {
                            let p: WithGeometry = serde_json::from_slice(b).unwrap();
                            (p.properties, geo::Geometry::try_from(p.geometry).ok())
                        } else {
                            let p: Props = serde_json::from_slice(b).unwrap();
                            (p.properties, None)
                        };
                        node.eval(&Candidate {
                            properties: Some(&properties),
                            geometry,
                        }) == Some(true)
                    })
                    .count()
            })
        });
        g.bench_function(BenchmarkId::new("cql2_crate", name), |bch| {
            bch.iter(|| {
                bytes
                    .iter()
                    .filter(|b| {
                        let v: Value = serde_json::from_slice(b).unwrap();
                        expr.clone().matches(Some(&v)).unwrap_or(false)
                    })
                    .count()
            })
        });
    }
    g.finish();
}

/// Parsing and checking a filter once per request.
fn parse(c: &mut Criterion) {
    let q = queryables();
    let mut g = c.benchmark_group("cql2_parse");
    for (name, text) in FILTERS {
        g.bench_with_input(BenchmarkId::new("ours_compile", name), text, |b, t| {
            b.iter(|| ours::compile(black_box(t), "cql2-text", &q).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("cql2_crate_parse", name), text, |b, t| {
            b.iter(|| ::cql2::parse_text(black_box(t)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, evaluate, from_bytes, parse);
criterion_main!(benches);
