//! Place search at a million features: `layers::search` (word index, fst
//! and Levenshtein automata, ranking) against the substring scan it
//! replaced (what `/api/search` did before: every name, any case, ranked
//! exact, prefix, word prefix, anywhere; kept here as [`scan`]), on 19
//! layers shaped like `gen_badung.py`'s 980,000 features (same layer
//! sizes and name patterns).
//!
//! `cargo bench -p layers --bench search -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use layers::index::LayerData;
use layers::index::build::LayerBuilder;
use layers::model::{FeatureRow, VersionInfo};
use layers::search::{NameIndex, Query, Source, search};

/// (titles, category titles, name prefix, features) as in gen_badung.py.
const LAYERS: &[([&str; 2], [&str; 2], &str, usize)] = &[
    (
        ["Subak dan sawah", "Subak rice fields"],
        ["Pertanian", "Agriculture"],
        "Subak",
        70_000,
    ),
    (
        ["Pura", "Hindu temples"],
        ["Tempat ibadah", "Places of worship"],
        "Pura",
        140_000,
    ),
    (
        ["Objek wisata", "Tourist attractions"],
        ["Pariwisata", "Tourism"],
        "Pantai",
        40_000,
    ),
    (
        ["Fasilitas kesehatan", "Health facilities"],
        ["Kesehatan", "Health"],
        "Puskesmas Pembantu",
        30_000,
    ),
    (
        ["Zona risiko COVID-19", "COVID-19 risk zones"],
        ["COVID-19", "COVID-19"],
        "Titik",
        20_000,
    ),
    (
        ["Setra dan kuburan", "Setra and cemeteries"],
        ["Setra", "Cemeteries"],
        "Setra",
        30_000,
    ),
    (
        ["Sekolah", "Schools"],
        ["Pendidikan", "Education"],
        "SD Negeri",
        40_000,
    ),
    (
        ["Jaringan jalan", "Road network"],
        ["Infrastruktur", "Infrastructure"],
        "Jalan",
        160_000,
    ),
    (
        ["Bantuan sosial", "Social aid"],
        ["Sosial", "Social"],
        "Titik",
        20_000,
    ),
    (
        ["Hotel dan akomodasi", "Hotels and lodging"],
        ["Pariwisata", "Tourism"],
        "Hotel",
        80_000,
    ),
    (
        ["Sanggar seni", "Arts studios"],
        ["Seni budaya", "Arts and culture"],
        "Sanggar",
        20_000,
    ),
    (
        ["Kantor pemerintahan", "Government offices"],
        ["Umum", "General"],
        "Kantor Desa",
        10_000,
    ),
    (
        ["Lampu penerangan jalan", "Street lights"],
        ["Infrastruktur", "Infrastructure"],
        "Titik",
        120_000,
    ),
    (
        ["Simpang lalu lintas", "Junctions"],
        ["Lalu lintas", "Traffic"],
        "Titik",
        30_000,
    ),
    (
        ["Tempat ibadah lain", "Other places of worship"],
        ["Tempat ibadah", "Places of worship"],
        "Titik",
        30_000,
    ),
    (
        ["Posko COVID-19", "COVID-19 posts"],
        ["COVID-19", "COVID-19"],
        "Titik",
        20_000,
    ),
    (
        ["Saluran irigasi", "Irrigation channels"],
        ["Infrastruktur", "Infrastructure"],
        "Titik",
        50_000,
    ),
    (
        ["Perikanan", "Fisheries"],
        ["Perikanan", "Fisheries"],
        "Titik",
        20_000,
    ),
    (
        ["Pasar dan UMKM", "Markets"],
        ["Ekonomi", "Economy"],
        "Pasar",
        50_000,
    ),
];

const SYLLABLES: &[&str] = &[
    "ba", "du", "ng", "ku", "ta", "se", "mi", "nya", "pe", "tang", "sem", "al", "ka", "ran", "da",
    "lung", "ji", "mba", "nu", "sa", "ga", "pu", "ra", "de", "wa", "ngi", "ke", "bu", "le", "gi",
];

/// What people type: a layer's title, a place, a common word, a typo, a
/// word being typed, two words.
const QUERIES: &[&str] = &[
    "sekolah",
    "pantai kuta",
    "kuta",
    "titik",
    "puskesmsa",
    "jalan wata",
    "pura dalem",
];

fn layers() -> Vec<LayerData> {
    let mut rng = 20_260_101u64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    LAYERS
        .iter()
        .enumerate()
        .map(|(l, (_, _, prefix, n))| {
            let mut b = LayerBuilder::new(VersionInfo {
                id: l as i64,
                version: 1,
                feature_count: *n as i64,
                geometry_types: vec!["Point".into()],
                bbox: None,
                created_at: String::new(),
                photos_rev: 0,
            });
            for i in 0..*n {
                let word: String = (0..2 + next(2))
                    .map(|_| SYLLABLES[next(SYLLABLES.len())])
                    .collect();
                let name = format!("{prefix} {}{}", word[..1].to_uppercase(), &word[1..]);
                let (x, y) = (
                    115.05 + next(20_000) as f64 / 100_000.0,
                    -8.85 + next(40_000) as f64 / 100_000.0,
                );
                b.push(FeatureRow {
                    fid: (i + 1).to_string(),
                    fid_json: (i + 1).to_string(),
                    geometry: Some(format!(r#"{{"type":"Point","coordinates":[{x},{y}]}}"#)),
                    properties: format!(r#"{{"nama":"{name}"}}"#),
                    name: Some(name),
                    bbox: Some([x, y, x, y]),
                })
                .unwrap();
            }
            b.finish().unwrap()
        })
        .collect()
}

/// The former search: (rank, name length, handle) of every name holding
/// `needle_lc`, rank 0 exact, 1 prefix, 2 word prefix, 3 anywhere.
fn scan(data: &LayerData, needle_lc: &str) -> Vec<(u8, usize, u32)> {
    let mut hits: Vec<(u8, usize, u32)> = (0..data.len() as u32)
        .filter_map(|i| {
            let name = data.name(i)?;
            let at = find_ci(name, needle_lc)?;
            let rank = match at {
                0 if name.len() == needle_lc.len() => 0,
                0 => 1,
                _ if name.as_bytes()[at - 1] == b' ' => 2,
                _ => 3,
            };
            Some((rank, name.len(), i))
        })
        .collect();
    hits.sort_unstable();
    hits.truncate(20);
    hits
}

/// Case-insensitive substring position, without allocating for ASCII
/// names, as the former search had it.
fn find_ci(haystack: &str, needle_lc: &str) -> Option<usize> {
    if !haystack.is_ascii() {
        return haystack.to_lowercase().find(needle_lc);
    }
    let (h, n) = (haystack.as_bytes(), needle_lc.as_bytes());
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| {
        h[i..i + n.len()]
            .iter()
            .zip(n)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

fn bench(c: &mut Criterion) {
    let data = layers();
    let started = Instant::now();
    let names: Vec<NameIndex> = data.iter().map(NameIndex::build).collect();
    println!(
        "name indexes of {} features in {} layers: {:.0} ms, {} distinct words",
        data.iter().map(LayerData::len).sum::<usize>(),
        data.len(),
        started.elapsed().as_secs_f64() * 1000.0,
        names.iter().map(NameIndex::term_count).sum::<usize>()
    );
    let sources: Vec<Source<'_>> = data
        .iter()
        .zip(&names)
        .zip(LAYERS)
        .map(|((data, names), (titles, category_titles, ..))| Source {
            data,
            names,
            titles: *titles,
            category_titles: *category_titles,
        })
        .collect();
    let mut g = c.benchmark_group("search_1m");
    for q in QUERIES {
        let query = Query::parse(q).unwrap();
        g.bench_with_input(BenchmarkId::new("index", q), q, |b, _| {
            b.iter(|| black_box(search(&query, &sources, None, 20)))
        });
        g.bench_with_input(BenchmarkId::new("index_near", q), q, |b, _| {
            b.iter(|| black_box(search(&query, &sources, Some([115.17, -8.72]), 20)))
        });
        let needle = q.to_lowercase();
        g.bench_with_input(BenchmarkId::new("substring_scan", q), q, |b, _| {
            b.iter(|| {
                let mut hits: Vec<_> = data.iter().flat_map(|l| scan(l, &needle)).collect();
                hits.sort_unstable();
                hits.truncate(20);
                black_box(hits)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
