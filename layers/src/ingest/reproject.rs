//! Coordinate reference systems of uploads and their reprojection to WGS 84.
//!
//! Only the systems Badung's data actually comes in are supported, each with
//! a proj string built here (no database of definitions is shipped): WGS 84
//! itself, every WGS 84 UTM zone (Bali is in zone 50S, EPSG:32750) and Web
//! Mercator. Anything else is refused with its name rather than guessed, as
//! a wrong guess would put every feature somewhere else without a warning.

use std::fmt;

use geojson::{GeometryValue, Position};
use proj4rs::Proj;

/// A coordinate reference system `bsc` can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS 84 longitude/latitude (EPSG:4326 with lon/lat order, OGC CRS84).
    Wgs84,
    /// WGS 84 / UTM, zone 1 to 60, north or south (EPSG:326zz / 327zz).
    Utm {
        /// The zone number, 1 to 60.
        zone: u8,
        /// Whether this is the southern hemisphere variant (false northing
        /// of 10 000 km).
        south: bool,
    },
    /// WGS 84 / Pseudo-Mercator, the web map projection (EPSG:3857).
    WebMercator,
}

impl Crs {
    /// The system with this EPSG code, if supported. ESRI's old codes for
    /// Web Mercator (102100, 102113, 900913, 3785) are accepted too.
    ///
    /// ```
    /// use layers::ingest::reproject::Crs;
    /// assert_eq!(Crs::from_epsg(32750), Some(Crs::Utm { zone: 50, south: true }));
    /// assert_eq!(Crs::from_epsg(3857), Some(Crs::WebMercator));
    /// assert_eq!(Crs::from_epsg(23830), None);
    /// ```
    pub fn from_epsg(code: i64) -> Option<Crs> {
        match code {
            4326 => Some(Crs::Wgs84),
            3857 | 3785 | 900_913 | 102_100 | 102_113 => Some(Crs::WebMercator),
            32601..=32660 => Some(Crs::Utm {
                zone: u8::try_from(code - 32600).ok()?,
                south: false,
            }),
            32701..=32760 => Some(Crs::Utm {
                zone: u8::try_from(code - 32700).ok()?,
                south: true,
            }),
            _ => None,
        }
    }

    /// The EPSG code of this system.
    pub fn epsg(self) -> u32 {
        match self {
            Crs::Wgs84 => 4326,
            Crs::WebMercator => 3857,
            Crs::Utm { zone, south } => (if south { 32700 } else { 32600 }) + u32::from(zone),
        }
    }

    /// Reads a CRS written as text: `EPSG:32750`, an OGC URN or URL, `CRS84`,
    /// or WKT (a shapefile's `.prj`, WKT1 or WKT2, GDAL or ESRI flavour).
    ///
    /// The error names the system so that the user knows what to change.
    ///
    /// ```
    /// use layers::ingest::reproject::Crs;
    /// let prj = r#"PROJCS["WGS_1984_UTM_Zone_50S",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"]]"#;
    /// assert_eq!(Crs::parse(prj), Ok(Crs::Utm { zone: 50, south: true }));
    /// assert_eq!(Crs::parse("urn:ogc:def:crs:EPSG::3857"), Ok(Crs::WebMercator));
    /// assert!(Crs::parse("EPSG:23830").unwrap_err().contains("EPSG:23830"));
    /// ```
    pub fn parse(text: &str) -> Result<Crs, String> {
        let t = text.trim().trim_start_matches('\u{feff}').trim();
        if t.is_empty() {
            return Err("the coordinate reference system is empty".to_owned());
        }
        if !t.contains('[') {
            return Self::parse_code(t);
        }
        Self::parse_wkt(t)
    }

    /// `EPSG:nnnn`, `urn:ogc:def:crs:EPSG::nnnn`, `.../EPSG/0/nnnn`, `CRS84`.
    fn parse_code(t: &str) -> Result<Crs, String> {
        let upper = t.to_ascii_uppercase();
        if upper.ends_with("CRS84") {
            return Ok(Crs::Wgs84);
        }
        let code = upper
            .rsplit([':', '/'])
            .next()
            .and_then(|c| c.trim().parse::<i64>().ok())
            .filter(|_| upper.contains("EPSG") || upper.chars().all(|c| c.is_ascii_digit()));
        match code {
            Some(c) => Self::from_epsg(c).ok_or_else(|| unsupported(&format!("EPSG:{c}"))),
            None => Err(unsupported(t)),
        }
    }

    /// WKT: the top-level name first (ESRI `.prj` files carry nothing else),
    /// then the top-level `AUTHORITY`/`ID`.
    fn parse_wkt(t: &str) -> Result<Crs, String> {
        let (keyword, name) = wkt_head(t);
        let keyword = keyword.to_ascii_uppercase();
        let norm = normalize(&name);
        let geographic = matches!(
            keyword.as_str(),
            "GEOGCS" | "GEOGCRS" | "GEODCRS" | "GEOGRAPHICCRS" | "GEODETICCRS"
        );
        if geographic && is_wgs84_name(&norm) {
            return Ok(Crs::Wgs84);
        }
        if let Some(crs) = Self::from_projected_name(&norm) {
            return Ok(crs);
        }
        if let Some(code) = top_level_epsg(t)
            && let Some(crs) = Self::from_epsg(code)
        {
            return Ok(crs);
        }
        let label = match top_level_epsg(t) {
            Some(code) if name.is_empty() => format!("EPSG:{code}"),
            Some(code) => format!("{name} (EPSG:{code})"),
            None if name.is_empty() => t.chars().take(80).collect(),
            None => name,
        };
        Err(unsupported(&label))
    }

    /// `wgs_1984_utm_zone_50s`, `wgs_84_utm_zone_50s`, `wgs_84_pseudo_mercator`,
    /// `wgs_1984_web_mercator_auxiliary_sphere`, …
    fn from_projected_name(norm: &str) -> Option<Crs> {
        let rest = ["wgs_1984_", "wgs_84_", "wgs84_"]
            .iter()
            .find_map(|p| norm.strip_prefix(p))?;
        if let Some(zone) = rest.strip_prefix("utm_zone_") {
            let digits: String = zone.chars().take_while(char::is_ascii_digit).collect();
            let hemisphere = zone.get(digits.len()..)?;
            let zone: u8 = digits.parse().ok().filter(|z| (1..=60).contains(z))?;
            return match hemisphere {
                "s" | "south" => Some(Crs::Utm { zone, south: true }),
                "n" | "north" => Some(Crs::Utm { zone, south: false }),
                _ => None,
            };
        }
        matches!(
            rest,
            "pseudo_mercator" | "web_mercator" | "web_mercator_auxiliary_sphere"
        )
        .then_some(Crs::WebMercator)
    }

    /// The proj string of this system.
    fn proj_string(self) -> String {
        match self {
            Crs::Wgs84 => "+proj=longlat +datum=WGS84 +no_defs".to_owned(),
            Crs::WebMercator => "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +no_defs".to_owned(),
            Crs::Utm { zone, south } => format!(
                "+proj=utm +zone={zone}{} +datum=WGS84 +units=m +no_defs",
                if south { " +south" } else { "" }
            ),
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EPSG:{}", self.epsg())
    }
}

/// The message for a system `bsc` cannot reproject.
pub(crate) fn unsupported(name: &str) -> String {
    format!(
        "coordinate reference system {name} is not supported; export the data in WGS 84 (EPSG:4326), WGS 84 / UTM (e.g. EPSG:32750, zone 50S) or Web Mercator (EPSG:3857)"
    )
}

/// Lower case, every run of other characters than letters and digits made
/// one `_`: `WGS 84 / UTM zone 50S` and `WGS_1984_UTM_Zone_50S` become
/// `wgs_84_utm_zone_50s` and `wgs_1984_utm_zone_50s`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// Geographic system names that mean WGS 84.
fn is_wgs84_name(norm: &str) -> bool {
    matches!(
        norm,
        "wgs_84" | "wgs84" | "gcs_wgs_1984" | "wgs_1984" | "world_geodetic_system_1984"
    )
}

/// The keyword and the quoted name of a WKT's outermost element.
fn wkt_head(t: &str) -> (String, String) {
    let Some((keyword, rest)) = t.split_once('[') else {
        return (String::new(), String::new());
    };
    let name = rest
        .trim_start()
        .strip_prefix('"')
        .and_then(|r| r.split_once('"'))
        .map(|(n, _)| n.to_owned())
        .unwrap_or_default();
    (keyword.trim().to_owned(), name)
}

/// The EPSG code of the outermost element: an `AUTHORITY["EPSG","n"]`
/// (WKT1) or `ID["EPSG",n]` (WKT2) directly inside it, not one of a nested
/// datum or unit.
fn top_level_epsg(t: &str) -> Option<i64> {
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut found = None;
    let bytes = t.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'[' | b'(' if !in_quotes => {
                if depth == 1 {
                    let before = &t[..i];
                    // Past the whole separator: it may be a multi-byte character.
                    let word_start = before
                        .char_indices()
                        .rev()
                        .find(|&(_, c)| !c.is_ascii_alphanumeric() && c != '_')
                        .map_or(0, |(p, c)| p + c.len_utf8());
                    let word = before[word_start..].to_ascii_uppercase();
                    if word == "AUTHORITY" || word == "ID" {
                        found = parse_authority(&t[i + 1..]).or(found);
                    }
                }
                depth += 1;
            }
            b']' | b')' if !in_quotes => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    found
}

/// `"EPSG","32750"]` or `"EPSG",32750]` → 32750.
fn parse_authority(rest: &str) -> Option<i64> {
    let end = rest.find([']', ')'])?;
    let mut parts = rest[..end].split(',');
    let org = parts.next()?.trim().trim_matches('"');
    if !org.eq_ignore_ascii_case("EPSG") {
        return None;
    }
    parts.next()?.trim().trim_matches('"').parse().ok()
}

/// Turns coordinates in one system into WGS 84 longitude/latitude, or
/// (made by [`Reprojector::from_wgs84`]) WGS 84 longitude/latitude into
/// that system.
pub struct Reprojector {
    crs: Crs,
    src: Proj,
    dst: Proj,
    /// Whether `src` is WGS 84 (degrees in, the system's units out).
    inverse: bool,
}

impl fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reprojector")
            .field("crs", &self.crs)
            .finish()
    }
}

impl Reprojector {
    /// A reprojector from `crs`, or `None` when `crs` is WGS 84 already.
    pub fn new(crs: Crs) -> Result<Option<Reprojector>, String> {
        if crs == Crs::Wgs84 {
            return Ok(None);
        }
        let proj = |s: &str| {
            Proj::from_proj_string(s).map_err(|e| format!("cannot set up {crs} ({s}): {e}"))
        };
        Ok(Some(Reprojector {
            crs,
            src: proj(&crs.proj_string())?,
            dst: proj(&Crs::Wgs84.proj_string())?,
            inverse: false,
        }))
    }

    /// A reprojector from WGS 84 longitude/latitude into `crs`, or `None`
    /// when `crs` is WGS 84 itself.
    ///
    /// ```
    /// use layers::ingest::reproject::{Crs, Reprojector};
    /// let utm = Reprojector::from_wgs84(Crs::Utm { zone: 50, south: true }).unwrap().unwrap();
    /// // The central meridian of zone 50 at the equator: the false easting and northing.
    /// let (e, n) = utm.point(117.0, 0.0).unwrap();
    /// assert!((e - 500_000.0).abs() < 1e-6 && (n - 10_000_000.0).abs() < 1e-6);
    /// ```
    pub fn from_wgs84(crs: Crs) -> Result<Option<Reprojector>, String> {
        Ok(Reprojector::new(crs)?.map(|r| Reprojector {
            crs,
            src: r.dst,
            dst: r.src,
            inverse: true,
        }))
    }

    /// The system coordinates are reprojected from.
    pub fn crs(&self) -> Crs {
        self.crs
    }

    /// One position: `(x, y)` in the source system to `(lon, lat)` in
    /// degrees (or, made by [`Reprojector::from_wgs84`], `(lon, lat)` to
    /// `(x, y)` in the target system).
    pub fn point(&self, x: f64, y: f64) -> Result<(f64, f64), String> {
        if !x.is_finite() || !y.is_finite() {
            return Err(format!("coordinate ({x}, {y}) is not a finite number"));
        }
        // proj4rs works in radians for geographic systems.
        if self.inverse {
            let mut p = (x.to_radians(), y.to_radians(), 0.0);
            proj4rs::transform::transform(&self.src, &self.dst, &mut p)
                .map_err(|e| format!("cannot reproject ({x}, {y}) to {}: {e}", self.crs))?;
            return Ok((p.0, p.1));
        }
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(&self.src, &self.dst, &mut p)
            .map_err(|e| format!("cannot reproject ({x}, {y}) from {}: {e}", self.crs))?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }

    /// Reprojects every position of a geometry in place (extra ordinates,
    /// such as heights, are kept as they are).
    pub fn geometry(&self, value: &mut GeometryValue) -> Result<(), String> {
        match value {
            GeometryValue::Point { coordinates } => self.position(coordinates),
            GeometryValue::MultiPoint { coordinates }
            | GeometryValue::LineString { coordinates } => {
                coordinates.iter_mut().try_for_each(|p| self.position(p))
            }
            GeometryValue::MultiLineString { coordinates }
            | GeometryValue::Polygon { coordinates } => coordinates
                .iter_mut()
                .flatten()
                .try_for_each(|p| self.position(p)),
            GeometryValue::MultiPolygon { coordinates } => coordinates
                .iter_mut()
                .flatten()
                .flatten()
                .try_for_each(|p| self.position(p)),
            GeometryValue::GeometryCollection { geometries } => geometries
                .iter_mut()
                .try_for_each(|g| self.geometry(&mut g.value)),
        }
    }

    fn position(&self, p: &mut Position) -> Result<(), String> {
        let s = p.as_slice_mut();
        if let [x, y, ..] = s {
            let (lon, lat) = self.point(*x, *y)?;
            *x = lon;
            *y = lat;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_byte_characters_before_a_bracket_are_no_panic() {
        // Found by the fuzzer (tests/fixtures/fuzz/shapefile/): a .prj whose
        // bracket follows a multi-byte character was sliced inside it.
        assert_eq!(
            top_level_epsg("GEOGCS[\"x\",é[1],AUTHORITY[\"EPSG\",\"4326\"]]"),
            Some(4326)
        );
        let _ = Crs::parse("GEOGCS[\"x\",\u{fffd}[\"GCS\"]]");
    }

    const GDAL_UTM50S: &str = r#"PROJCS["WGS 84 / UTM zone 50S",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",117],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",10000000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32750"]]"#;

    #[test]
    fn reads_names_and_codes() {
        assert_eq!(
            Crs::parse(GDAL_UTM50S),
            Ok(Crs::Utm {
                zone: 50,
                south: true
            })
        );
        assert_eq!(
            Crs::parse(r#"PROJCS["WGS_84_Pseudo_Mercator",GEOGCS["GCS_WGS_1984"]]"#),
            Ok(Crs::WebMercator)
        );
        assert_eq!(
            Crs::parse(
                r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984"]]"#
            ),
            Ok(Crs::WebMercator)
        );
        assert_eq!(
            Crs::parse(
                r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]]"#
            ),
            Ok(Crs::Wgs84)
        );
        // Named oddly but with the code at the top level.
        assert_eq!(
            Crs::parse(
                r#"PROJCS["Bali",GEOGCS["x",AUTHORITY["EPSG","4326"]],AUTHORITY["EPSG","32650"]]"#
            ),
            Ok(Crs::Utm {
                zone: 50,
                south: false
            })
        );
        assert_eq!(
            Crs::parse(
                r#"PROJCRS["WGS 84 / UTM zone 51S",BASEGEOGCRS["WGS 84"],ID["EPSG",32751]]"#
            ),
            Ok(Crs::Utm {
                zone: 51,
                south: true
            })
        );
        assert_eq!(Crs::parse("EPSG:4326"), Ok(Crs::Wgs84));
        assert_eq!(Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84"), Ok(Crs::Wgs84));
        assert_eq!(
            Crs::parse("http://www.opengis.net/def/crs/EPSG/0/32750"),
            Ok(Crs::Utm {
                zone: 50,
                south: true
            })
        );
        assert_eq!(Crs::from_epsg(32761), None);
    }

    #[test]
    fn names_what_it_refuses() {
        let e = Crs::parse(r#"PROJCS["DGN95 / Indonesia TM-3 zone 50.2",GEOGCS["DGN95"],AUTHORITY["EPSG","23836"]]"#)
            .unwrap_err();
        assert!(
            e.contains("DGN95 / Indonesia TM-3 zone 50.2 (EPSG:23836)"),
            "{e}"
        );
        let e = Crs::parse(r#"GEOGCS["Batavia",DATUM["Batavia"]]"#).unwrap_err();
        assert!(e.contains("Batavia"), "{e}");
        assert!(Crs::parse("not a crs").is_err());
    }

    #[test]
    fn reprojects_utm_50s_and_web_mercator() {
        // Kuta beach, Bali: lon 115.1689, lat -8.7184; UTM 50S values from
        // `gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32750`.
        let r = Reprojector::new(Crs::Utm {
            zone: 50,
            south: true,
        })
        .unwrap()
        .unwrap();
        let (x, y) = (298_550.328_217_67, 9_035_792.438_124_76);
        let (lon, lat) = r.point(x, y).unwrap();
        assert!(
            (lon - 115.1689).abs() < 1e-6 && (lat + 8.7184).abs() < 1e-6,
            "{lon} {lat}"
        );

        let r = Reprojector::new(Crs::WebMercator).unwrap().unwrap();
        let (lon, lat) = r.point(12_820_543.303_221_4, -974_294.961_815_982).unwrap();
        assert!(
            (lon - 115.1689).abs() < 1e-6 && (lat + 8.7184).abs() < 1e-6,
            "{lon} {lat}"
        );
        assert!(r.point(f64::NAN, 0.0).is_err());
        assert!(Reprojector::new(Crs::Wgs84).unwrap().is_none());
    }
}
