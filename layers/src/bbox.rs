//! Bounding boxes in WGS 84 longitude/latitude, as query parameters and extents.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// An axis-aligned box in WGS 84 degrees. `minx > maxx` means the box
/// crosses the antimeridian (RFC 7946 §5.2, OGC API Features bbox).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// West edge (longitude).
    pub minx: f64,
    /// South edge (latitude).
    pub miny: f64,
    /// East edge (longitude).
    pub maxx: f64,
    /// North edge (latitude).
    pub maxy: f64,
}

impl Bbox {
    /// Makes a box from its four edges, without checking them.
    pub const fn new(minx: f64, miny: f64, maxx: f64, maxy: f64) -> Self {
        Bbox {
            minx,
            miny,
            maxx,
            maxy,
        }
    }

    /// The box as one or two boxes that do not cross the antimeridian.
    pub fn parts(&self) -> impl Iterator<Item = Bbox> {
        let (first, second) = if self.minx <= self.maxx {
            (*self, None)
        } else {
            (
                Bbox::new(self.minx, self.miny, 180.0, self.maxy),
                Some(Bbox::new(-180.0, self.miny, self.maxx, self.maxy)),
            )
        };
        std::iter::once(first).chain(second)
    }

    /// The smallest box covering both (neither may cross the antimeridian).
    pub fn union(&self, other: &Bbox) -> Bbox {
        Bbox::new(
            self.minx.min(other.minx),
            self.miny.min(other.miny),
            self.maxx.max(other.maxx),
            self.maxy.max(other.maxy),
        )
    }

    /// The edges as `[minx, miny, maxx, maxy]`.
    pub fn to_array(&self) -> [f64; 4] {
        [self.minx, self.miny, self.maxx, self.maxy]
    }
}

impl Serialize for Bbox {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_array().serialize(s)
    }
}

/// Why a bbox parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BboxError(String);

impl FromStr for Bbox {
    type Err = BboxError;

    /// Parses `minx,miny,maxx,maxy` (or the six-number 3D form, whose
    /// heights are ignored) in WGS 84 degrees.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(',').collect();
        if parts.len() != 4 && parts.len() != 6 {
            return Err(BboxError(format!(
                "bbox must be 4 comma-separated numbers minx,miny,maxx,maxy (or 6 with heights), got {} value(s)",
                parts.len()
            )));
        }
        let mut v = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            let n: f64 = p
                .trim()
                .parse()
                .map_err(|_| BboxError(format!("bbox value {} ({p:?}) is not a number", i + 1)))?;
            if !n.is_finite() {
                return Err(BboxError(format!("bbox value {} is not finite", i + 1)));
            }
            v.push(n);
        }
        let (minx, miny, maxx, maxy) = if v.len() == 4 {
            (v[0], v[1], v[2], v[3])
        } else {
            (v[0], v[1], v[3], v[4])
        };
        for (name, x) in [("minx", minx), ("maxx", maxx)] {
            if !(-180.0..=180.0).contains(&x) {
                return Err(BboxError(format!("bbox {name} {x} is outside -180..180")));
            }
        }
        for (name, y) in [("miny", miny), ("maxy", maxy)] {
            if !(-90.0..=90.0).contains(&y) {
                return Err(BboxError(format!("bbox {name} {y} is outside -90..90")));
            }
        }
        if miny > maxy {
            return Err(BboxError(format!(
                "bbox miny {miny} is greater than maxy {maxy}"
            )));
        }
        Ok(Bbox::new(minx, miny, maxx, maxy))
    }
}

impl fmt::Display for Bbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{},{}", self.minx, self.miny, self.maxx, self.maxy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_four_and_six_numbers() {
        let b: Bbox = "115.1,-8.8,115.2,-8.7".parse().unwrap();
        assert_eq!(b, Bbox::new(115.1, -8.8, 115.2, -8.7));
        let b: Bbox = "115.1,-8.8,0,115.2,-8.7,100".parse().unwrap();
        assert_eq!(b, Bbox::new(115.1, -8.8, 115.2, -8.7));
    }

    #[test]
    fn refuses_bad_boxes() {
        for bad in [
            "",
            "1,2,3",
            "a,b,c,d",
            "1,2,3,4,5",
            "0,10,1,5",
            "0,-91,1,0",
            "181,0,182,1",
            "NaN,0,1,1",
            "inf,0,1,1",
        ] {
            assert!(bad.parse::<Bbox>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn antimeridian_box_splits_in_two() {
        let b: Bbox = "170,-10,-170,10".parse().unwrap();
        let parts: Vec<Bbox> = b.parts().collect();
        assert_eq!(
            parts,
            vec![
                Bbox::new(170.0, -10.0, 180.0, 10.0),
                Bbox::new(-180.0, -10.0, -170.0, 10.0)
            ]
        );
        let plain: Vec<Bbox> = Bbox::new(1.0, 1.0, 2.0, 2.0).parts().collect();
        assert_eq!(plain.len(), 1);
    }
}
