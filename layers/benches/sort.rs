//! `sortby` over a million features (the largest layer bsc takes): the
//! first page of a sort by text, by number descending, and by two keys,
//! through `select_page` as the OGC items route calls it; and a deep page
//! (offset 900 000), which sorts everything. Prints the keys' memory.
//!
//! `cargo bench -p layers --bench sort -- --warm-up-time 1 --measurement-time 5`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use layers::index::LayerData;
use layers::index::build::LayerBuilder;
use layers::model::{FeatureRow, VersionInfo};
use layers::query::{Query, SortKey, select_page};

const N: usize = 1_000_000;
const KECAMATAN: &[&str] = &[
    "Kuta",
    "Kuta Selatan",
    "Kuta Utara",
    "Mengwi",
    "Abiansemal",
    "Petang",
];

fn layer() -> LayerData {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut b = LayerBuilder::new(VersionInfo {
        id: 1,
        version: 1,
        feature_count: N as i64,
        geometry_types: vec![],
        bbox: None,
        created_at: String::new(),
        photos_rev: 0,
    });
    for i in 0..N {
        let (x, y) = (115.05 + rng.f64() * 0.22, -8.88 + rng.f64() * 0.53);
        b.push(FeatureRow {
            fid: (i + 1).to_string(),
            fid_json: (i + 1).to_string(),
            geometry: Some(format!(r#"{{"type":"Point","coordinates":[{x},{y}]}}"#)),
            properties: format!(
                r#"{{"nama":"Pura {}","kecamatan":"{}","luas":{},"tahun_data":{}}}"#,
                rng.u32(..),
                KECAMATAN[i % 6],
                rng.f64() * 1000.0,
                2019 + i % 6
            ),
            name: None,
            bbox: Some([x, y, x, y]),
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn key(property: &str, descending: bool) -> SortKey {
    SortKey {
        property: property.into(),
        descending,
    }
}

fn bench(c: &mut Criterion) {
    let data = layer();
    let mut g = c.benchmark_group("sortby_1m");
    g.sample_size(10);
    for (name, keys, offset) in [
        ("nama_first_page", vec![key("nama", false)], 0),
        ("luas_desc_first_page", vec![key("luas", true)], 0),
        (
            "kecamatan_then_luas_first_page",
            vec![key("kecamatan", false), key("luas", true)],
            0,
        ),
        ("nama_offset_900000", vec![key("nama", false)], 900_000),
    ] {
        let q = Query {
            sort: keys,
            limit: 100,
            offset,
            ..Query::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| black_box(select_page(&data, &q).items.len()))
        });
    }
    g.finish();
    // The keys of one text key: a 24-byte Key per feature plus its text.
    println!(
        "keys of one text key for {N} features: about {} MiB",
        (N * (std::mem::size_of::<u32>() + 24 + 16)) >> 20
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
