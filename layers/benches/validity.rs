//! OGC validity check of polygons: ours (R-tree) at 10k, 100k and 1M
//! vertices, geo's quadratic `check_validation` at 10k and 40k.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use geo::Validation;
use layers::ingest::validity::{check_polygon, star_polygon};
use std::hint::black_box;
use std::time::Duration;

fn validity(c: &mut Criterion) {
    let mut g = c.benchmark_group("polygon_validity");
    g.sample_size(10).warm_up_time(Duration::from_secs(1));
    for n in [10_000, 100_000, 1_000_000] {
        let p = star_polygon(n, 42, false);
        assert_eq!(check_polygon(&p), Ok(()));
        g.measurement_time(Duration::from_secs(if n >= 1_000_000 { 20 } else { 5 }));
        g.bench_with_input(BenchmarkId::new("rtree", n), &p, |b, p| {
            b.iter(|| check_polygon(black_box(p)))
        });
    }
    // Every radius drawn afresh: long edges whose extents overlap by the
    // thousand, the R-tree's worst case.
    let spiky = star_polygon(10_000, 42, true);
    g.bench_with_input(BenchmarkId::new("rtree_spiky", 10_000), &spiky, |b, p| {
        b.iter(|| check_polygon(black_box(p)))
    });
    for n in [10_000, 40_000] {
        let p = star_polygon(n, 42, false);
        g.measurement_time(Duration::from_secs(if n >= 40_000 { 60 } else { 10 }));
        g.bench_with_input(BenchmarkId::new("geo", n), &p, |b, p| {
            b.iter(|| black_box(p).is_valid())
        });
    }
    g.finish();
}

criterion_group!(benches, validity);
criterion_main!(benches);
