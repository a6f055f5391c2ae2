//! Badung Regency as it really is: its boundary and its six kecamatan
//! (vendored in `layers/data`, see the README's data sources), parsed once,
//! for the questions every part asks: is this place in the regency, and in
//! which kecamatan.

use std::sync::LazyLock;

use geo::{Contains, Geometry, Point};

/// The regency boundary, `Kabupaten Badung` (GADM 4.1, coordinates rounded to 1e-6°).
pub const BOUNDARY_GEOJSON: &str = include_str!("../data/badung-boundary.geojson");
/// The six kecamatan of Badung (GADM 4.1, coordinates rounded to 1e-6°).
pub const KECAMATAN_GEOJSON: &str = include_str!("../data/kecamatan.geojson");
/// The real regency boundary, parsed once.
static REGENCY: LazyLock<Option<Geometry<f64>>> = LazyLock::new(|| {
    let fc: geojson::FeatureCollection = BOUNDARY_GEOJSON.parse().ok()?;
    let g = fc.features.into_iter().next()?.geometry?;
    Geometry::<f64>::try_from(g).ok()
});

/// Whether (`lon`, `lat`) lies in Badung Regency (its real boundary).
pub fn in_regency(lon: f64, lat: f64) -> bool {
    lon.is_finite()
        && lat.is_finite()
        && REGENCY
            .as_ref()
            .is_some_and(|g| g.contains(&Point::new(lon, lat)))
}

/// The six kecamatan of Badung with their boundaries, parsed once.
static KECAMATAN: LazyLock<Vec<(String, Geometry<f64>)>> = LazyLock::new(|| {
    let Ok(fc) = KECAMATAN_GEOJSON.parse::<geojson::FeatureCollection>() else {
        return Vec::new();
    };
    fc.features
        .into_iter()
        .filter_map(|f| {
            let name = f.property("kecamatan")?.as_str()?.to_owned();
            let g = Geometry::<f64>::try_from(f.geometry?).ok()?;
            Some((name, g))
        })
        .collect()
});

/// The six kecamatan, each with its name (`Kuta`, `Mengwi`, …) and boundary,
/// in the order of the vendored file (for [`crate::stats::Areas::kecamatan`]).
pub fn kecamatan_list() -> &'static [(String, Geometry<f64>)] {
    &KECAMATAN
}

/// The kecamatan (`Kuta`, `Mengwi`, …) that (`lon`, `lat`) lies in.
pub fn kecamatan(lon: f64, lat: f64) -> Option<&'static str> {
    let p = Point::new(lon, lat);
    KECAMATAN
        .iter()
        .find(|(_, g)| g.contains(&p))
        .map(|(name, _)| name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regency_holds_kuta_and_not_denpasar_or_the_sea() {
        assert!(in_regency(115.1686, -8.7184), "Kuta");
        assert!(in_regency(115.1865, -8.5409), "Mengwi");
        assert!(!in_regency(115.2625, -8.6500), "Denpasar");
        assert!(!in_regency(115.0, -9.0), "the sea");
        assert!(!in_regency(f64::NAN, -8.7));
        assert_eq!(kecamatan(115.1686, -8.7184), Some("Kuta"));
        assert_eq!(kecamatan(115.2625, -8.65), None);
    }
}
