#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;
use geo::{LineString, Validation};

fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
    LineString::from(pts.to_vec())
}

fn poly(shell: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
    Polygon::new(ring(shell), holes.iter().map(|h| ring(h)).collect())
}

fn square(x: f64, y: f64, s: f64) -> Vec<(f64, f64)> {
    vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]
}

/// Our verdict and message, checked against geo's verdict.
fn ours(p: &Polygon<f64>) -> Result<(), String> {
    let r = check_polygon(p).map_err(|t| t.en);
    assert_eq!(
        r.is_ok(),
        p.is_valid(),
        "{p:?}: ours {r:?}, geo {:?}",
        p.check_validation()
    );
    r
}

fn ours_multi(m: &MultiPolygon<f64>) -> Result<(), String> {
    let r = check_multi_polygon(m).map_err(|t| t.en);
    assert_eq!(
        r.is_ok(),
        m.is_valid(),
        "{m:?}: ours {r:?}, geo {:?}",
        m.check_validation()
    );
    r
}

#[test]
fn named_cases() {
    let sq = square(0.0, 0.0, 10.0);
    assert_eq!(ours(&poly(&sq, &[])), Ok(()));
    let bowtie = [(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0), (0.0, 0.0)];
    assert_eq!(
        ours(&poly(&bowtie, &[])).unwrap_err(),
        "exterior ring has a self-intersection at (1, 1)"
    );
    let few = [(0.0, 0.0), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0)];
    assert_eq!(
        ours(&poly(&few, &[])).unwrap_err(),
        "exterior ring must have at least 3 distinct points"
    );
    // A hole touching the exterior at a point is fine, along an edge it is not.
    let touch = [(0.0, 5.0), (3.0, 4.0), (3.0, 6.0), (0.0, 5.0)];
    assert_eq!(ours(&poly(&sq, &[&touch])), Ok(()));
    let edge = [(0.0, 4.0), (3.0, 4.0), (0.0, 6.0), (0.0, 4.0)];
    assert_eq!(
        ours(&poly(&sq, &[&edge])).unwrap_err(),
        "exterior ring and interior ring 1 intersect on a line from (0, 6) to (0, 4)"
    );
    let outside = square(20.0, 20.0, 1.0);
    assert_eq!(
        ours(&poly(&sq, &[&outside])).unwrap_err(),
        "interior ring 1 is not inside the exterior ring"
    );
    let crossing = square(8.0, 8.0, 4.0);
    assert_eq!(
        ours(&poly(&sq, &[&crossing])).unwrap_err(),
        "exterior ring and interior ring 1 cross at (10, 8)"
    );
    let (outer, inner) = (square(1.0, 1.0, 5.0), square(2.0, 2.0, 1.0));
    assert_eq!(
        ours(&poly(&sq, &[&outer, &inner])).unwrap_err(),
        "interior ring 2 is inside interior ring 1"
    );
    // A hole passing through vertices of the exterior ring to its outside.
    let shell = [
        (0.0, 0.0),
        (4.0, 0.0),
        (4.0, 4.0),
        (2.0, 2.0),
        (0.0, 4.0),
        (0.0, 0.0),
    ];
    let through = [(1.0, 1.0), (2.0, 2.0), (2.0, 3.0), (3.0, 1.0), (1.0, 1.0)];
    assert!(ours(&poly(&shell, &[&through])).is_err());

    let m = |parts: Vec<Polygon<f64>>| MultiPolygon::new(parts);
    let a = poly(&sq, &[]);
    assert_eq!(
        ours_multi(&m(vec![a.clone(), poly(&square(10.0, 10.0, 5.0), &[])])),
        Ok(())
    );
    assert_eq!(
        ours_multi(&m(vec![a.clone(), poly(&square(10.0, 0.0, 5.0), &[])])).unwrap_err(),
        "exterior ring of part 1 and exterior ring of part 2 intersect on a line from (10, 5) to (10, 0)"
    );
    assert_eq!(
        ours_multi(&m(vec![a.clone(), poly(&square(2.0, 2.0, 1.0), &[])])).unwrap_err(),
        "part 2 lies inside part 1"
    );
    // An island in a lake is fine.
    let lake = poly(&sq, &[&square(1.0, 1.0, 8.0)]);
    assert_eq!(
        ours_multi(&m(vec![lake, poly(&square(2.0, 2.0, 1.0), &[])])),
        Ok(())
    );
    let nan = [(0.0, 0.0), (1.0, f64::NAN), (1.0, 1.0), (0.0, 0.0)];
    // (geo's own check panics on this one.)
    assert_eq!(
        check_multi_polygon(&m(vec![a, poly(&nan, &[])]))
            .unwrap_err()
            .en,
        "exterior ring of part 2 has a non-finite coordinate at position 2"
    );
}

/// A star-shaped ring around `(cx, cy)` with `n` vertices.
fn star(rng: &mut fastrand::Rng, cx: f64, cy: f64, r: f64, n: usize) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let rr = r * (0.5 + rng.f64() * 0.5);
            (cx + rr * a.cos(), cy + rr * a.sin())
        })
        .collect();
    pts.push(pts[0]);
    pts
}

fn grid_ring(rng: &mut fastrand::Rng, n: usize, size: i32) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = (0..n)
        .map(|_| (rng.i32(0..=size) as f64, rng.i32(0..=size) as f64))
        .collect();
    pts.push(pts[0]);
    pts
}

#[test]
fn same_verdict_as_geo_on_random_polygons() {
    let mut rng = fastrand::Rng::with_seed(13);
    let (mut valid, mut invalid) = (0, 0);
    for round in 0..6000 {
        let p = match round % 3 {
            // Small grid polygons: many touching and collinear cases.
            0 => {
                let holes: Vec<Vec<(f64, f64)>> = (0..rng.usize(0..3))
                    .map(|_| {
                        let n = rng.usize(3..5);
                        grid_ring(&mut rng, n, 8)
                    })
                    .collect();
                let holes: Vec<&[(f64, f64)]> = holes.iter().map(|h| h.as_slice()).collect();
                let n = rng.usize(3..8);
                let shell = grid_ring(&mut rng, n, 8);
                poly(&shell, &holes)
            }
            // A star with star-shaped holes that may or may not fit.
            1 => {
                let n = rng.usize(3..40);
                let shell = star(&mut rng, 0.0, 0.0, 10.0, n);
                let holes: Vec<Vec<(f64, f64)>> = (0..rng.usize(0..4))
                    .map(|_| {
                        let (x, y) = (rng.f64() * 12.0 - 6.0, rng.f64() * 12.0 - 6.0);
                        let (r, n) = (rng.f64() * 4.0, rng.usize(3..10));
                        star(&mut rng, x, y, r, n)
                    })
                    .collect();
                let holes: Vec<&[(f64, f64)]> = holes.iter().map(|h| h.as_slice()).collect();
                poly(&shell, &holes)
            }
            // Axis-aligned squares on a grid, holes snapped to it.
            _ => {
                let shell = square(0.0, 0.0, 6.0);
                let holes: Vec<Vec<(f64, f64)>> = (0..rng.usize(1..4))
                    .map(|_| {
                        let s = rng.i32(1..4) as f64;
                        square(rng.i32(0..6) as f64, rng.i32(0..6) as f64, s)
                    })
                    .collect();
                let holes: Vec<&[(f64, f64)]> = holes.iter().map(|h| h.as_slice()).collect();
                poly(&shell, &holes)
            }
        };
        match ours(&p) {
            Ok(()) => valid += 1,
            Err(_) => invalid += 1,
        }
    }
    assert!(
        valid > 500 && invalid > 500,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn same_verdict_as_geo_on_random_multipolygons() {
    let mut rng = fastrand::Rng::with_seed(5);
    let (mut valid, mut invalid) = (0, 0);
    for round in 0..4000 {
        let parts: Vec<Polygon<f64>> = (0..rng.usize(1..5))
            .map(|_| {
                if round % 2 == 0 {
                    let s = rng.i32(1..4) as f64;
                    let (x, y) = (rng.i32(0..8) as f64, rng.i32(0..8) as f64);
                    let hole = (s >= 3.0 && rng.bool()).then(|| square(x + 1.0, y + 1.0, 1.0));
                    let holes: Vec<&[(f64, f64)]> = hole.iter().map(|h| h.as_slice()).collect();
                    poly(&square(x, y, s), &holes)
                } else {
                    let (x, y) = (rng.f64() * 20.0, rng.f64() * 20.0);
                    let (r, n) = (rng.f64() * 5.0, rng.usize(3..12));
                    poly(&star(&mut rng, x, y, r, n), &[])
                }
            })
            .collect();
        match ours_multi(&MultiPolygon::new(parts)) {
            Ok(()) => valid += 1,
            Err(_) => invalid += 1,
        }
    }
    assert!(
        valid > 300 && invalid > 300,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn large_star_is_checked_quickly() {
    // 50,000 vertices: geo's quadratic check takes about 10 s even
    // optimised; this one well under a second optimised (see
    // benches/validity.rs), a few seconds in an unoptimised test build.
    let shell = star_polygon(50_000, 1, false);
    let t = std::time::Instant::now();
    assert_eq!(check_polygon(&shell), Ok(()));
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
    let spiky = star_polygon(2_000, 1, true);
    assert_eq!(ours(&spiky), Ok(()));
}

#[test]
fn same_verdict_as_geo_on_fixture_polygons() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/formats/badung.geojson"
    );
    let fc: geojson::FeatureCollection = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let mut polygons = 0;
    for f in fc.features {
        match geo::Geometry::<f64>::try_from(f.geometry.unwrap().value).unwrap() {
            geo::Geometry::Polygon(p) => {
                polygons += 1;
                ours(&p).unwrap();
                // Broken on purpose: a bow tie in the exterior ring.
                let mut bad = p.clone();
                bad.exterior_mut(|r| r.0.swap(1, 2));
                let _ = ours(&bad);
            }
            geo::Geometry::MultiPolygon(m) => {
                polygons += 1;
                ours_multi(&m).unwrap();
            }
            _ => {}
        }
    }
    assert!(polygons > 0);
}
