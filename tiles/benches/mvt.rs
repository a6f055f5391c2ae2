//! MVT encoding: our `tiles::encode` (bytes written as features are
//! added) against geozero's `MvtWriter` (prost message structs, encoded at
//! the end), on the same tile: 2,000 points and 500 lines, clipped to the
//! buffered tile and quantised as `tiles::render` does, each feature with
//! the same four properties.
//!
//! `cargo bench -p tiles --bench mvt -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark")]

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use geozero::mvt::{Message, MvtWriter, Tile};
use geozero::{ColumnValue, FeatureProcessor, GeomProcessor, PropertyProcessor};
use tiles::clip::{Square, clip_line_with};
use tiles::encode::{self, GeomType, GeometryEncoder, IPt, LayerBuilder, Scalar};

const EXTENT: u32 = 4096;
const BUFFER: f64 = 64.0;
const KECAMATAN: &[&str] = &["Kuta", "Kuta Selatan", "Kuta Utara", "Mengwi"];

/// A feature as both encoders take it: clipped, quantised runs (one for a
/// point) and its properties.
struct Feature {
    id: u64,
    kind: GeomType,
    runs: Vec<Vec<IPt>>,
    nama: String,
    kecamatan: &'static str,
    nomor: i64,
    luas: f64,
}

/// 2,000 points and 500 random-walk lines, some leaving the tile.
fn tile_features() -> Vec<Feature> {
    let mut rng = fastrand::Rng::with_seed(11);
    let sq = Square {
        min: -BUFFER,
        max: f64::from(EXTENT) + BUFFER,
    };
    let mut out = Vec::new();
    let props = |rng: &mut fastrand::Rng, i: u64| {
        (
            format!("Pura Dalem {i}"),
            KECAMATAN[rng.usize(0..KECAMATAN.len())],
            i as i64,
            (rng.f64() * 10_000.0).round() / 10.0,
        )
    };
    for i in 0..2_000u64 {
        let p = [rng.f64() * 4096.0, rng.f64() * 4096.0];
        let (nama, kecamatan, nomor, luas) = props(&mut rng, i);
        out.push(Feature {
            id: i + 1,
            kind: GeomType::Point,
            runs: vec![vec![encode::round_point(p)]],
            nama,
            kecamatan,
            nomor,
            luas,
        });
    }
    for i in 2_000..2_500u64 {
        let mut p = [rng.f64() * 4600.0 - 250.0, rng.f64() * 4600.0 - 250.0];
        let mut line = vec![p];
        for _ in 0..rng.usize(10..60) {
            p = [
                p[0] + rng.f64() * 120.0 - 60.0,
                p[1] + rng.f64() * 120.0 - 60.0,
            ];
            line.push(p);
        }
        let mut runs = Vec::new();
        clip_line_with(&line, sq, &mut Vec::new(), |run| {
            let q = encode::quantize(run);
            if q.len() >= 2 {
                runs.push(q);
            }
        });
        if runs.is_empty() {
            continue;
        }
        let (nama, kecamatan, nomor, luas) = props(&mut rng, i);
        out.push(Feature {
            id: i + 1,
            kind: GeomType::Linestring,
            runs,
            nama,
            kecamatan,
            nomor,
            luas,
        });
    }
    out
}

fn ours(features: &[Feature]) -> Vec<u8> {
    let mut layer = LayerBuilder::new("pura", EXTENT);
    let mut g = GeometryEncoder::default();
    for f in features {
        g.clear();
        match f.kind {
            GeomType::Point => g.points(&f.runs[0]),
            _ => f.runs.iter().for_each(|r| g.line(r)),
        }
        let tags = [
            (&b"nama"[..], Scalar::Str(Cow::Borrowed(f.nama.as_bytes()))),
            (
                &b"kecamatan"[..],
                Scalar::Str(Cow::Borrowed(f.kecamatan.as_bytes())),
            ),
            (&b"nomor"[..], Scalar::Int(f.nomor)),
            (&b"luas"[..], Scalar::Double(f.luas)),
        ];
        layer.add_tags(Some(f.id), f.kind, &g.commands, tags);
    }
    encode::tile(&[layer.finish()])
}

fn geozero(features: &[Feature]) -> Vec<u8> {
    let mut w = MvtWriter::new_unscaled(EXTENT).unwrap();
    for (idx, f) in features.iter().enumerate() {
        w.feature_begin(idx as u64).unwrap();
        w.property(0, "nama", &ColumnValue::String(&f.nama))
            .unwrap();
        w.property(1, "kecamatan", &ColumnValue::String(f.kecamatan))
            .unwrap();
        w.property(2, "nomor", &ColumnValue::Long(f.nomor)).unwrap();
        w.property(3, "luas", &ColumnValue::Double(f.luas)).unwrap();
        w.geometry_begin().unwrap();
        match f.kind {
            GeomType::Point => {
                let [x, y] = f.runs[0][0];
                w.point_begin(0).unwrap();
                w.xy(f64::from(x), f64::from(y), 0).unwrap();
                w.point_end(0).unwrap();
            }
            _ => {
                w.multilinestring_begin(f.runs.len(), 0).unwrap();
                for (i, run) in f.runs.iter().enumerate() {
                    w.linestring_begin(false, run.len(), i).unwrap();
                    for (j, [x, y]) in run.iter().enumerate() {
                        w.xy(f64::from(*x), f64::from(*y), j).unwrap();
                    }
                    w.linestring_end(false, i).unwrap();
                }
                w.multilinestring_end(0).unwrap();
            }
        }
        w.geometry_end().unwrap();
        w.feature_end(idx as u64).unwrap();
    }
    Tile {
        layers: vec![w.layer("pura")],
    }
    .encode_to_vec()
}

fn mvt(c: &mut Criterion) {
    let features = tile_features();
    let points = features
        .iter()
        .filter(|f| f.kind == GeomType::Point)
        .count();
    assert_eq!(points, 2_000);
    // The same tile: the same features, geometries and tags (geozero's
    // writer sets no feature ids, so its tile is a little smaller).
    let (a, b) = (ours(&features), geozero(&features));
    let (ta, tb) = (
        Tile::decode(a.as_slice()).unwrap(),
        Tile::decode(b.as_slice()).unwrap(),
    );
    let (la, lb) = (&ta.layers[0], &tb.layers[0]);
    assert_eq!(la.features.len(), lb.features.len());
    assert_eq!(la.keys, lb.keys);
    assert_eq!(la.values.len(), lb.values.len());
    for (fa, fb) in la.features.iter().zip(&lb.features) {
        assert_eq!((&fa.geometry, &fa.tags), (&fb.geometry, &fb.tags));
        assert_eq!(fa.r#type, fb.r#type);
    }
    let mut g = c.benchmark_group("mvt_2000_points_500_lines");
    g.bench_function("ours", |bch| bch.iter(|| ours(black_box(&features))));
    g.bench_function("geozero_mvtwriter", |bch| {
        bch.iter(|| geozero(black_box(&features)))
    });
    g.finish();
}

criterion_group!(benches, mvt);
criterion_main!(benches);
