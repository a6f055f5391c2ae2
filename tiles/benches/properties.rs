//! Reading a feature's properties for a tile: our scanner
//! (`tiles::encode::parse_properties`, borrowed strings, no map) against
//! `serde_json` reading the same bytes into a `Map` and picking its scalars,
//! which is what the scanner replaced. 2,000 properties objects shaped like
//! the demo's temples (name, kecamatan, desa, numbers, a boolean, a date,
//! the photos array the scanner skips).
//!
//! `cargo bench -p tiles --bench properties -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value};
use tiles::encode::{Scalar, parse_properties};

const KECAMATAN: &[&str] = &[
    "Kuta",
    "Kuta Selatan",
    "Kuta Utara",
    "Mengwi",
    "Abiansemal",
    "Petang",
];

fn objects() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..2_000)
        .map(|i| {
            let v = serde_json::json!({
                "nama": format!("Pura Dalem {i}"),
                "kecamatan": KECAMATAN[rng.usize(0..KECAMATAN.len())],
                "desa": format!("Desa {}", rng.u32(1..60)),
                "nomor": i,
                "luas_m2": (rng.f64() * 10_000.0).round() / 10.0,
                "aktif": rng.bool(),
                "tanggal": "2024-07-01",
                "keterangan": "Pura kahyangan tiga, \"odalan\" setiap 210 hari",
                "photos": [{"id": i, "url": format!("/api/photos/{i}"), "caption": "Tampak depan"}],
            });
            serde_json::to_vec(&v).unwrap()
        })
        .collect()
}

/// What the encoder needs from a `serde_json` map: the scalar members.
fn scalars_of(map: &Map<String, Value>) -> usize {
    map.values()
        .filter(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
        .count()
}

fn properties(c: &mut Criterion) {
    let objs = objects();
    // Both read the same scalar members.
    let mut out = Vec::new();
    for o in &objs {
        assert!(parse_properties(o, &mut out));
        let map: Map<String, Value> = serde_json::from_slice(o).unwrap();
        assert_eq!(out.len(), scalars_of(&map));
        assert!(out.iter().any(|(_, s)| matches!(s, Scalar::Str(_))));
    }
    let mut g = c.benchmark_group("properties of 2,000 features");
    g.bench_function("ours: parse_properties", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for o in &objs {
                parse_properties(black_box(o), &mut out);
                n += out.len();
            }
            n
        });
    });
    g.bench_function("serde_json: from_slice into a Map", |b| {
        b.iter(|| {
            let mut n = 0;
            for o in &objs {
                let map: Map<String, Value> = serde_json::from_slice(black_box(o)).unwrap();
                n += scalars_of(&map);
            }
            n
        });
    });
    g.finish();
}

criterion_group!(benches, properties);
criterion_main!(benches);
