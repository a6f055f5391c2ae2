//! The demo's picture painter: small illustrative PNGs (a temple, a beach,
//! hills) for the photos attached to demo features. Which features get one
//! and what their captions say is the data generator's ([`super`]).

use super::rng::Rng;

/// What a generated photo shows.
#[derive(Clone, Copy)]
pub(super) enum Scene {
    /// A meru (tiered shrine) on a green courtyard.
    Temple,
    /// Sea, waves and sand.
    Beach,
    /// Hills and rice terraces.
    Hills,
}

/// Width and height of generated photos.
const PHOTO_SIZE: (usize, usize) = (320, 200);

/// Draws a small illustrative picture with a palette of a few colours, so
/// the PNG stays a few kilobytes. The same scene and seed give the same bytes.
pub(super) fn picture(scene: Scene, seed: u64) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let (w, h) = PHOTO_SIZE;
    let mut rng = Rng(seed);
    // Palette: 0-5 sky bands, 6 sun, 7 ground, 8 ground dark, 9 subject,
    // 10 subject dark, 11 foam, 12 sand, 13 wood, 14 leaves.
    let dusk = rng.f64() < 0.3;
    let sky_top: [f64; 3] = if dusk {
        [70.0, 90.0, 160.0]
    } else {
        [90.0, 160.0, 225.0]
    };
    let sky_low: [f64; 3] = if dusk {
        [250.0, 180.0, 120.0]
    } else {
        [200.0, 230.0, 250.0]
    };
    let mut palette: Vec<[u8; 3]> = (0..6)
        .map(|i| {
            let t = f64::from(i) / 5.0;
            let c = |k: usize| (sky_top[k] + (sky_low[k] - sky_top[k]) * t) as u8;
            [c(0), c(1), c(2)]
        })
        .collect();
    let (subject, subject_dark, ground, ground_dark) = match scene {
        Scene::Temple => ([109, 76, 65], [70, 48, 40], [96, 160, 70], [70, 125, 50]),
        Scene::Beach => (
            [2, 136, 209],
            [1, 87, 155],
            [238, 214, 160],
            [220, 190, 130],
        ),
        Scene::Hills => ([2, 119, 189], [1, 80, 130], [120, 180, 70], [85, 145, 55]),
    };
    palette.extend([
        [255, 214, 90],
        ground,
        ground_dark,
        subject,
        subject_dark,
        [245, 250, 255],
        [238, 214, 160],
        [110, 80, 50],
        [46, 125, 50],
    ]);
    let mut px = vec![0u8; w * h];
    let horizon = h * 3 / 5 + rng.range(0, h / 10);
    for (y, row) in px.chunks_mut(w).enumerate().take(horizon) {
        row.fill(((y * 6) / horizon).min(5) as u8);
    }
    let (sx, sy, sr) = (
        rng.range(30, w - 30) as f64,
        rng.range(20, horizon / 2) as f64,
        14.0,
    );
    for y in 0..horizon {
        for x in 0..w {
            let (dx, dy) = (x as f64 - sx, y as f64 - sy);
            if dx * dx + dy * dy <= sr * sr {
                px[y * w + x] = 6;
            }
        }
    }
    let phase = rng.f64() * std::f64::consts::TAU;
    for y in horizon..h {
        for x in 0..w {
            let xf = x as f64;
            px[y * w + x] = match scene {
                Scene::Beach => {
                    let shore = horizon as f64
                        + (h - horizon) as f64 * 0.55
                        + 5.0 * (xf / 23.0 + phase).sin();
                    let yf = y as f64;
                    if yf < shore - 3.0 {
                        if (yf - horizon as f64 + 4.0 * (xf / 17.0 + phase).sin()).rem_euclid(9.0)
                            < 1.5
                        {
                            10
                        } else {
                            9
                        }
                    } else if yf < shore {
                        11
                    } else {
                        12
                    }
                }
                _ => {
                    if (y - horizon) % 12 < 2 {
                        8
                    } else {
                        7
                    }
                }
            };
        }
    }
    let ground_y = horizon as f64;
    match scene {
        Scene::Temple => {
            // A meru: a stone base and an odd number of roofs narrowing upwards.
            let tiers = [3, 5, 7, 9, 11][rng.range(0, 4)];
            let cx = rng.range(w / 3, w * 2 / 3) as f64;
            let base_h = 18.0;
            fill(
                &mut px,
                w,
                cx - 22.0,
                ground_y - base_h,
                cx + 22.0,
                ground_y + 4.0,
                10,
            );
            let mut top = ground_y - base_h;
            let roof_h = ((top - 25.0) / f64::from(tiers)).min(12.0);
            for t in 0..tiers {
                let half = 42.0 - f64::from(t) * (34.0 / f64::from(tiers));
                // a trapezoid roof, then a thin dark post above it
                for k in 0..(roof_h as usize) {
                    let y = top - k as f64;
                    let hw = half - k as f64 * (half * 0.5 / roof_h);
                    fill(&mut px, w, cx - hw, y - 1.0, cx + hw, y, 9);
                }
                top -= roof_h;
                fill(&mut px, w, cx - 3.0, top - 3.0, cx + 3.0, top, 10);
                top -= 3.0;
            }
            fill(&mut px, w, cx - 1.0, top - 8.0, cx + 1.0, top, 10);
            // candi bentar: the split gate on both sides
            for gx in [cx - 80.0, cx + 62.0] {
                for k in 0..40 {
                    let y = ground_y - k as f64;
                    let hw = 9.0 - k as f64 * 0.18;
                    fill(&mut px, w, gx - hw + 9.0, y - 1.0, gx + hw + 9.0, y, 10);
                }
            }
        }
        Scene::Beach => {
            // a palm trunk and fronds on one side
            let tx = if rng.f64() < 0.5 {
                40.0
            } else {
                w as f64 - 40.0
            };
            for k in 0..70 {
                let y = h as f64 - 10.0 - k as f64;
                let x = tx + (k as f64 / 12.0).sin() * 6.0;
                fill(&mut px, w, x - 2.0, y - 1.0, x + 2.0, y, 13);
            }
            let top = (tx + (70.0f64 / 12.0).sin() * 6.0, h as f64 - 80.0);
            for a in 0..6 {
                let ang = std::f64::consts::PI * (0.1 + f64::from(a) * 0.16);
                for r in 0..30 {
                    let rf = f64::from(r);
                    let x = top.0 + rf * ang.cos() * 1.2;
                    let y = top.1 - rf * ang.sin() * 0.6 + rf * rf / 60.0;
                    fill(&mut px, w, x - 2.0, y - 1.0, x + 2.0, y + 1.0, 14);
                }
            }
        }
        Scene::Hills => {
            for (peak, width, colour) in [
                (rng.range(60, 140), 150.0, 10u8),
                (rng.range(170, 260), 120.0, 9),
            ] {
                let height = 50.0 + rng.f64() * 40.0;
                for x in 0..w {
                    let d = (x as f64 - peak as f64).abs();
                    if d < width {
                        let top = ground_y - height * (1.0 - d / width);
                        fill(&mut px, w, x as f64, top, x as f64 + 1.0, ground_y, colour);
                    }
                }
            }
        }
    }
    let mut out = Vec::with_capacity(4096);
    let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Four);
    enc.set_palette(palette.concat());
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header()?;
    // Two pixels per byte at 4 bits per pixel.
    let packed: Vec<u8> = px
        .chunks(w)
        .flat_map(|row| {
            row.chunks(2)
                .map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0))
        })
        .collect();
    writer.write_image_data(&packed)?;
    writer.finish()?;
    Ok(out)
}

/// Sets the pixels of the rectangle `[x0, x1) × [y0, y1)` (clipped) to `colour`.
fn fill(px: &mut [u8], w: usize, x0: f64, y0: f64, x1: f64, y1: f64, colour: u8) {
    let h = px.len() / w;
    let clip = |v: f64, max: usize| (v.max(0.0) as usize).min(max);
    let (x0, x1, y0, y1) = (
        clip(x0, w),
        clip(x1.ceil(), w),
        clip(y0, h),
        clip(y1.ceil(), h),
    );
    for y in y0..y1 {
        px[y * w + x0..y * w + x1].fill(colour);
    }
}
