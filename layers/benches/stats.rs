//! Which kecamatan holds a point: the banded boundaries of
//! `layers::stats::Areas` against `geo`'s `Contains` over the same six
//! polygons, and `stats::compute` over 160,000 points (per kecamatan,
//! grouped by a property, with a sum).
//!
//! `cargo bench -p layers --bench stats -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use geo::{Contains, Point};
use layers::index::LayerData;
use layers::index::build::LayerBuilder;
use layers::model::{FeatureRow, VersionInfo};
use layers::regency::kecamatan_list;
use layers::stats::{Areas, By, Spec, compute};

const N: usize = 160_000;

fn points() -> Vec<[f64; 2]> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..N)
        .map(|_| [115.05 + rng.f64() * 0.22, -8.88 + rng.f64() * 0.53])
        .collect()
}

fn layer(points: &[[f64; 2]]) -> LayerData {
    let mut b = LayerBuilder::new(VersionInfo {
        id: 1,
        version: 1,
        feature_count: N as i64,
        geometry_types: vec![],
        bbox: None,
        created_at: String::new(),
        photos_rev: 0,
    });
    let zones = ["hijau", "kuning", "oranye", "merah"];
    for (i, p) in points.iter().enumerate() {
        b.push(FeatureRow {
            fid: (i + 1).to_string(),
            fid_json: (i + 1).to_string(),
            geometry: Some(format!(
                r#"{{"type":"Point","coordinates":[{},{}]}}"#,
                p[0], p[1]
            )),
            properties: format!(
                r#"{{"nama":"Banjar {i}","zona":"{}","kasus_aktif":{}}}"#,
                zones[i % 4],
                i % 40
            ),
            name: None,
            bbox: Some([p[0], p[1], p[0], p[1]]),
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let pts = points();
    let areas = Areas::kecamatan();
    let polys = kecamatan_list();
    let mut g = c.benchmark_group("locate_160k_points");
    g.sample_size(10);
    g.bench_function("banded", |b| {
        b.iter(|| {
            pts.iter()
                .filter(|p| areas.locate(p[0], p[1]).is_some())
                .count()
        })
    });
    g.bench_function("geo_contains", |b| {
        b.iter(|| {
            pts.iter()
                .filter(|p| {
                    let pt = Point::new(p[0], p[1]);
                    polys.iter().any(|(_, g)| g.contains(&pt))
                })
                .count()
        })
    });
    g.finish();

    let l = layer(&pts);
    let sum = ["kasus_aktif".to_owned()];
    let mut g = c.benchmark_group("compute_160k_points");
    g.sample_size(10);
    g.bench_function("kecamatan", |b| {
        let spec = Spec {
            by: By::Areas(areas),
            group: None,
            sum: &[],
            mean: &[],
        };
        b.iter(|| black_box(compute(&l, &spec).unwrap()))
    });
    g.bench_function("kecamatan_zona_sum", |b| {
        let spec = Spec {
            by: By::Areas(areas),
            group: Some("zona"),
            sum: &sum,
            mean: &sum,
        };
        b.iter(|| black_box(compute(&l, &spec).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
