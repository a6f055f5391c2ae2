//! OGC API - Features Part 2 (coordinate reference systems by reference):
//! the systems features can be served in (`crs`) and boxes asked in
//! (`bbox-crs`). Features are stored in CRS84; any other system is a
//! reprojection of each served feature with proj4rs.

use layers::Bbox;
use layers::ingest::reproject::{Crs, Reprojector};
use serde_json::Value;

use super::names::CRS84;

/// The EPSG codes offered besides CRS84: WGS 84 in its own axis order
/// (latitude first), Web Mercator, and UTM zones 50S and 49S (Bali and the
/// west of Java, as Indonesian agencies use them).
pub const EPSG_CODES: &[u32] = &[4326, 3857, 32750, 32749];

/// A system features can be served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutCrs {
    /// OGC CRS84: longitude, latitude (the stored form).
    Crs84,
    /// EPSG:4326: latitude, longitude.
    LatLon,
    /// A projected system (metres, easting then northing).
    Projected(Crs),
}

/// The URI of EPSG code `code`.
pub fn epsg_uri(code: u32) -> String {
    format!("http://www.opengis.net/def/crs/EPSG/0/{code}")
}

/// Every system offered, as URIs, CRS84 first.
pub fn offered() -> Vec<String> {
    std::iter::once(CRS84.to_owned())
        .chain(EPSG_CODES.iter().map(|&c| epsg_uri(c)))
        .collect()
}

impl OutCrs {
    /// Reads a CRS URI (`http://www.opengis.net/def/crs/EPSG/0/32750`), a
    /// safe CURIE (`[EPSG:32750]`), `EPSG:32750`, an OGC URN, or the names
    /// of CRS84; `None` when it is not one of the systems offered.
    pub fn parse(text: &str) -> Option<OutCrs> {
        let t = text.trim();
        let t = t
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(t);
        let lower = t.to_ascii_lowercase();
        let lower = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .unwrap_or(&lower);
        if matches!(
            lower,
            "www.opengis.net/def/crs/ogc/1.3/crs84"
                | "ogc:crs84"
                | "crs84"
                | "urn:ogc:def:crs:ogc:1.3:crs84"
                | "urn:ogc:def:crs:ogc::crs84"
        ) {
            return Some(OutCrs::Crs84);
        }
        let code = lower
            .strip_prefix("www.opengis.net/def/crs/epsg/0/")
            .or_else(|| lower.strip_prefix("epsg:"))
            .or_else(|| lower.strip_prefix("urn:ogc:def:crs:epsg::"))?;
        let code: u32 = code.parse().ok()?;
        if !EPSG_CODES.contains(&code) {
            return None;
        }
        if code == 4326 {
            return Some(OutCrs::LatLon);
        }
        Crs::from_epsg(i64::from(code)).map(OutCrs::Projected)
    }

    /// The URI of this system.
    pub fn uri(self) -> String {
        match self {
            OutCrs::Crs84 => CRS84.to_owned(),
            OutCrs::LatLon => epsg_uri(4326),
            OutCrs::Projected(c) => epsg_uri(c.epsg()),
        }
    }

    /// The `Content-Crs` header value: the URI in angle brackets.
    pub fn header(self) -> String {
        format!("<{}>", self.uri())
    }

    /// A box given in this system, as a CRS84 box: the envelope of its
    /// corners and edge points reprojected (edges of a projected box are
    /// curves in degrees). `None` when it cannot be reprojected.
    pub fn bbox_to_crs84(self, b: [f64; 4]) -> Option<Bbox> {
        let [x0, y0, x1, y1] = b;
        match self {
            OutCrs::Crs84 => Some(Bbox {
                minx: x0,
                miny: y0,
                maxx: x1,
                maxy: y1,
            }),
            OutCrs::LatLon => Some(Bbox {
                minx: y0,
                miny: x0,
                maxx: y1,
                maxy: x1,
            }),
            OutCrs::Projected(c) => {
                let r = Reprojector::new(c).ok()??;
                let (mut minx, mut miny, mut maxx, mut maxy) =
                    (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                const STEPS: u32 = 8;
                for i in 0..=STEPS {
                    let t = f64::from(i) / f64::from(STEPS);
                    let x = x0 + (x1 - x0) * t;
                    let y = y0 + (y1 - y0) * t;
                    for (px, py) in [(x, y0), (x, y1), (x0, y), (x1, y)] {
                        let (lon, lat) = r.point(px, py).ok()?;
                        minx = minx.min(lon);
                        miny = miny.min(lat);
                        maxx = maxx.max(lon);
                        maxy = maxy.max(lat);
                    }
                }
                Some(Bbox {
                    minx,
                    miny,
                    maxx,
                    maxy,
                })
            }
        }
    }

    /// Something that moves CRS84 positions into this system, or `None`
    /// for CRS84 itself.
    pub fn transformer(self) -> Option<Transform> {
        match self {
            OutCrs::Crs84 => None,
            OutCrs::LatLon => Some(Transform::Swap),
            OutCrs::Projected(c) => Reprojector::from_wgs84(c)
                .ok()
                .flatten()
                .map(|r| Transform::Project(Box::new(r))),
        }
    }
}

/// Moves CRS84 positions into another system.
#[derive(Debug)]
pub enum Transform {
    /// Latitude first.
    Swap,
    /// Reprojected (to the millimetre).
    Project(Box<Reprojector>),
}

impl Transform {
    /// Rewrites every position of a GeoJSON geometry object in place;
    /// `false` when a position could not be reprojected.
    pub fn geometry(&self, g: &mut Value) -> bool {
        let Some(obj) = g.as_object_mut() else {
            return true;
        };
        if let Some(c) = obj.get_mut("coordinates") {
            return self.positions(c);
        }
        if let Some(Value::Array(gs)) = obj.get_mut("geometries") {
            return gs.iter_mut().all(|g| self.geometry(g));
        }
        true
    }

    fn positions(&self, v: &mut Value) -> bool {
        let Value::Array(a) = v else {
            return true;
        };
        if let (Some(x), Some(y)) = (
            a.first().and_then(Value::as_f64),
            a.get(1).and_then(Value::as_f64),
        ) {
            let (nx, ny) = match self {
                Transform::Swap => (y, x),
                Transform::Project(r) => match r.point(x, y) {
                    Ok((e, n)) => ((e * 1000.0).round() / 1000.0, (n * 1000.0).round() / 1000.0),
                    Err(_) => return false,
                },
            };
            a[0] = Value::from(nx);
            a[1] = Value::from(ny);
            return true;
        }
        a.iter_mut().all(|p| self.positions(p))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_read() {
        assert_eq!(OutCrs::parse(CRS84), Some(OutCrs::Crs84));
        assert_eq!(OutCrs::parse("[OGC:CRS84]"), Some(OutCrs::Crs84));
        assert_eq!(OutCrs::parse("EPSG:4326"), Some(OutCrs::LatLon));
        assert_eq!(
            OutCrs::parse("http://www.opengis.net/def/crs/EPSG/0/32750"),
            Some(OutCrs::Projected(Crs::Utm {
                zone: 50,
                south: true
            }))
        );
        assert_eq!(
            OutCrs::parse("urn:ogc:def:crs:EPSG::3857"),
            Some(OutCrs::Projected(Crs::WebMercator))
        );
        assert_eq!(OutCrs::parse("EPSG:23830"), None);
        assert_eq!(OutCrs::parse("EPSG:32650"), None);
    }

    #[test]
    fn boxes_and_geometries_move() {
        let utm = OutCrs::parse("EPSG:32750").unwrap();
        let mut g = serde_json::json!({"type": "Point", "coordinates": [117.0, 0.0]});
        assert!(utm.transformer().unwrap().geometry(&mut g));
        assert_eq!(g["coordinates"], serde_json::json!([500000.0, 10000000.0]));
        let b = utm
            .bbox_to_crs84([499_000.0, 9_999_000.0, 501_000.0, 10_000_000.0])
            .unwrap();
        assert!(
            (b.minx - 116.991).abs() < 0.001 && (b.maxy - 0.0).abs() < 1e-6,
            "{b:?}"
        );
        let b = OutCrs::LatLon
            .bbox_to_crs84([-9.0, 115.0, -8.0, 116.0])
            .unwrap();
        assert_eq!((b.minx, b.miny, b.maxx, b.maxy), (115.0, -9.0, 116.0, -8.0));
    }
}
