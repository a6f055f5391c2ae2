//! Dates for `datetime` and temporal extents: RFC 3339 dates and date-times
//! (and whole years) as closed intervals of Unix seconds, UTC.
//!
//! The text is read field by field here (so what is accepted is exactly
//! what the OGC routes have always accepted); the calendar (days in a
//! month, leap years, days since 1970) is `jiff`'s.

use jiff::civil::Date;
use serde_json::Value;

use crate::index::LayerData;

/// How a layer's time property holds its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// Text: `YYYY-MM-DD` or an RFC 3339 date-time.
    Text,
    /// A whole year as a number (e.g. `tahun_data: 2021`): the whole year.
    Year,
}

/// Property names taken as a layer's time, in order of preference, with
/// the TileJSON type they must have: `datetime`, `tanggal`, `dilaporkan`
/// (when a citizen's report came in), `date`, `waktu`, `timestamp`, `updated`, `updated_at`, `tanggal_update`
/// as text, then `tahun_data`, `tahun` as a year.
pub const TIME_PROPERTIES: &[(&str, &str, TimeKind)] = &[
    ("datetime", "String", TimeKind::Text),
    ("tanggal", "String", TimeKind::Text),
    ("dilaporkan", "String", TimeKind::Text),
    ("date", "String", TimeKind::Text),
    ("waktu", "String", TimeKind::Text),
    ("timestamp", "String", TimeKind::Text),
    ("updated", "String", TimeKind::Text),
    ("updated_at", "String", TimeKind::Text),
    ("tanggal_update", "String", TimeKind::Text),
    ("tahun_data", "Number", TimeKind::Year),
    ("tahun", "Number", TimeKind::Year),
];

/// A `datetime` parameter that cannot be used: not a date or interval, an
/// interval that ends before it starts, or a layer without a time property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DatetimeError(pub String);

/// A `datetime` selection: features whose time property's interval meets
/// `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datetime {
    /// Closed interval of Unix seconds (open ends are `i64::MIN`/`MAX`).
    pub interval: (i64, i64),
    /// The layer's time property.
    pub property: &'static str,
    /// How that property holds its values.
    pub kind: TimeKind,
}

impl Datetime {
    /// The `datetime` parameter `param` for a layer with these `fields`
    /// (`collection` names it in the error when it has no time property).
    pub fn parse(
        param: &str,
        fields: &serde_json::Map<String, Value>,
        collection: &str,
    ) -> Result<Datetime, DatetimeError> {
        let Some((property, kind)) = time_property(fields) else {
            return Err(DatetimeError(format!(
                "datetime cannot be used on collection {collection:?}: it has no time property (one of {})",
                TIME_PROPERTIES
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        Ok(Datetime {
            interval: parse_param(param)?,
            property,
            kind,
        })
    }

    /// Whether a feature with these properties is selected.
    pub fn matches(&self, properties: Option<&serde_json::Map<String, Value>>) -> bool {
        let (lo, hi) = self.interval;
        let t = properties
            .and_then(|p| p.get(self.property))
            .and_then(|v| of_value(v, self.kind));
        matches!(t, Some((a, b)) if a <= hi && b >= lo)
    }
}

/// The time property of a layer with these fields, if it has one.
pub fn time_property(fields: &serde_json::Map<String, Value>) -> Option<(&'static str, TimeKind)> {
    TIME_PROPERTIES
        .iter()
        .find(|(name, ty, _)| fields.get(*name).and_then(Value::as_str) == Some(*ty))
        .map(|(name, _, kind)| (*name, *kind))
}

/// A layer version's time: its time property and the interval its values
/// span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Temporal {
    /// The layer's time property.
    pub property: &'static str,
    /// How that property holds its values.
    pub kind: TimeKind,
    /// The earliest start and the latest end (Unix seconds) of the
    /// features' values; `None` when no feature has a readable one.
    pub extent: Option<[i64; 2]>,
}

/// The time of layer version `data`, when it has a time property. Made on
/// first use and kept with the version ([`LayerData::derived`]), so it is
/// read once per version, not per request.
pub fn temporal(data: &LayerData) -> Option<Temporal> {
    *data.derived(Temporal::of)
}

impl Temporal {
    /// Reads every feature's time value: O(features).
    fn of(data: &LayerData) -> Option<Temporal> {
        let (property, kind) = time_property(data.fields())?;
        let mut extent: Option<[i64; 2]> = None;
        for i in 0..u32::try_from(data.len()).unwrap_or(u32::MAX) {
            let Ok(Some(props)) = serde_json::from_slice::<Option<serde_json::Map<String, Value>>>(
                data.properties_bytes(i),
            ) else {
                continue;
            };
            let Some((a, b)) = props.get(property).and_then(|v| of_value(v, kind)) else {
                continue;
            };
            extent = Some(match extent {
                None => [a, b],
                Some([lo, hi]) => [lo.min(a), hi.max(b)],
            });
        }
        Some(Temporal {
            property,
            kind,
            extent,
        })
    }
}

/// Seconds from 1970-01-01T00:00:00Z to the start of `date` (UTC).
fn start_of(date: Date) -> i64 {
    date.duration_since(Date::constant(1970, 1, 1)).as_secs()
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A date (`YYYY-MM-DD`: the whole day) or date-time (an instant) as a
/// closed interval of Unix seconds. Date-times without a zone are UTC.
pub fn parse(s: &str) -> Option<(i64, i64)> {
    let s = s.trim();
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = i16::try_from(num(&date[0..4])?).ok()?;
    let m = i8::try_from(num(&date[5..7])?).ok()?;
    let d = i8::try_from(num(&date[8..10])?).ok()?;
    // jiff refuses months outside 1..=12 and days the month does not have.
    let day = start_of(Date::new(y, m, d).ok()?);
    if rest.is_empty() {
        return Some((day, day + 86_399));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    if rest.len() < 8 || !rest.is_char_boundary(8) {
        return None;
    }
    let (hms, mut zone) = rest.split_at(8);
    let hb = hms.as_bytes();
    if hb[2] != b':' || hb[5] != b':' {
        return None;
    }
    let (h, mi, se) = (num(&hms[0..2])?, num(&hms[3..5])?, num(&hms[6..8])?);
    // A leap second (:60) is the first second of the next minute.
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    if let Some(frac) = zone.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &frac[digits..];
    }
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z if z.len() == 6 && z.is_char_boundary(1) => {
            let sign = match &z[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            if z.as_bytes()[3] != b':' {
                return None;
            }
            let (oh, om) = (num(&z[1..3])?, num(&z[4..6])?);
            sign * i64::from(oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let t = day + i64::from(h * 3600 + mi * 60 + se) - offset;
    Some((t, t))
}

/// An end of an interval (Unix seconds) as RFC 3339 UTC to the second,
/// as temporal extents are written: the inverse of [`parse`] for instants.
pub fn format(secs: i64) -> String {
    crate::clock::format_seconds(secs)
}

/// The interval of a feature's time value.
pub fn of_value(v: &Value, kind: TimeKind) -> Option<(i64, i64)> {
    match (kind, v) {
        (TimeKind::Text, Value::String(s)) => parse(s),
        (TimeKind::Year, Value::Number(n)) => {
            let y = n.as_i64().filter(|y| (1..=9999).contains(y))?;
            let y = i16::try_from(y).ok()?;
            let first = Date::new(y, 1, 1).ok()?;
            Some((start_of(first), start_of(first.last_of_year()) + 86_399))
        }
        _ => None,
    }
}

/// The `datetime` parameter: an instant or date, or an interval `a/b`
/// whose ends may be open (`..` or empty).
pub fn parse_param(s: &str) -> Result<(i64, i64), DatetimeError> {
    let bad = || {
        DatetimeError(format!(
            "datetime must be an RFC 3339 date or date-time, or an interval such as 2021-01-01/2021-12-31 or 2021-01-01T00:00:00Z/.., got {s:?}"
        ))
    };
    match s.split_once('/') {
        None => parse(s).ok_or_else(bad),
        Some((a, b)) => {
            let open = |x: &str| x.is_empty() || x == "..";
            let lo = if open(a) {
                i64::MIN
            } else {
                parse(a).ok_or_else(bad)?.0
            };
            let hi = if open(b) {
                i64::MAX
            } else {
                parse(b).ok_or_else(bad)?.1
            };
            if open(a) && open(b) {
                return Err(bad());
            }
            if lo > hi {
                return Err(DatetimeError(format!(
                    "datetime interval {s:?} ends before it starts"
                )));
            }
            Ok((lo, hi))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse("1970-01-01"), Some((0, 86_399)));
        assert_eq!(
            parse("2021-03-04T05:06:07Z").map(|t| format(t.0)).unwrap(),
            "2021-03-04T05:06:07Z"
        );
        assert_eq!(
            parse("2021-03-04T05:06:07+08:00")
                .map(|t| format(t.0))
                .unwrap(),
            "2021-03-03T21:06:07Z"
        );
        assert_eq!(parse("2021-02-29"), None);
        assert!(parse("2024-02-29").is_some());
        assert_eq!(parse("2021-13-01"), None);
        assert_eq!(parse("2021-00-01"), None);
        assert_eq!(parse("2021-04-31"), None);
        assert_eq!(parse("2021-01-01Tx"), None);
        assert_eq!(parse("é"), None);
        assert_eq!(
            parse("2016-12-31T23:59:60Z").map(|t| format(t.0)).unwrap(),
            "2017-01-01T00:00:00Z"
        );
        assert_eq!(
            parse("0000-03-01").map(|t| format(t.0)).unwrap(),
            "0000-03-01T00:00:00Z"
        );
        let y = of_value(&serde_json::json!(2020), TimeKind::Year).unwrap();
        assert_eq!(format(y.0), "2020-01-01T00:00:00Z");
        assert_eq!(format(y.1), "2020-12-31T23:59:59Z");
        let y = of_value(&serde_json::json!(9999), TimeKind::Year).unwrap();
        assert_eq!(format(y.1), "9999-12-31T23:59:59Z");
        assert_eq!(of_value(&serde_json::json!(0), TimeKind::Year), None);
        assert!(parse_param("../2020-01-01").is_ok());
        assert!(parse_param("../..").is_err());
        assert!(parse_param("2021-01-01/2020-01-01").is_err());
    }

    #[test]
    fn selects_by_the_layers_time_property() {
        let mut fields = serde_json::Map::new();
        fields.insert("nama".into(), "String".into());
        assert!(
            Datetime::parse("2021-01-01", &fields, "pura")
                .unwrap_err()
                .0
                .contains("no time property")
        );
        fields.insert("tahun".into(), "Number".into());
        let d = Datetime::parse("2021-06-01/..", &fields, "pura").unwrap();
        assert_eq!((d.property, d.kind), ("tahun", TimeKind::Year));
        let props = |v: Value| v.as_object().cloned();
        assert!(d.matches(props(serde_json::json!({"tahun": 2021})).as_ref()));
        assert!(!d.matches(props(serde_json::json!({"tahun": 2020})).as_ref()));
        assert!(!d.matches(props(serde_json::json!({"tahun": "2021"})).as_ref()));
        assert!(!d.matches(None));
    }

    /// A layer of points with these properties and fields.
    fn layer(props: &[&str], fields: &[(&str, &str)]) -> LayerData {
        use crate::index::build::LayerBuilder;
        use crate::model::{FeatureRow, VersionInfo};
        let mut b = LayerBuilder::new(VersionInfo {
            id: 1,
            version: 1,
            feature_count: 0,
            geometry_types: vec![],
            bbox: None,
            created_at: String::new(),
            photos_rev: 0,
        });
        for (n, p) in props.iter().enumerate() {
            b.push(FeatureRow {
                fid: (n + 1).to_string(),
                fid_json: (n + 1).to_string(),
                geometry: Some(r#"{"type":"Point","coordinates":[115.1,-8.5]}"#.to_owned()),
                properties: (*p).to_owned(),
                name: None,
                bbox: Some([115.1, -8.5, 115.1, -8.5]),
            })
            .unwrap();
        }
        b.set_fields(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect(),
        );
        b.finish().unwrap()
    }

    #[test]
    fn a_versions_temporal_extent_spans_its_readable_values() {
        let l = layer(
            &[
                r#"{"tanggal":"2021-03-12","tahun_data":2019}"#,
                r#"{"tanggal":"2020-03-02T10:00:00+08:00"}"#,
                r#"{"tanggal":"not a date"}"#,
                r#"{"tanggal":null}"#,
                "null",
                r#"{"tanggal":"2022-12-20"}"#,
            ],
            &[("tanggal", "String"), ("tahun_data", "Number")],
        );
        let t = temporal(&l).unwrap();
        assert_eq!((t.property, t.kind), ("tanggal", TimeKind::Text));
        let [a, b] = t.extent.unwrap();
        assert_eq!(format(a), "2020-03-02T02:00:00Z");
        assert_eq!(format(b), "2022-12-20T23:59:59Z");
        // Kept with the version: the second call reads no feature.
        assert_eq!(temporal(&l), Some(t));

        let years = layer(
            &[r#"{"tahun_data":2019}"#, r#"{"tahun_data":2024}"#],
            &[("tahun_data", "Number")],
        );
        let t = temporal(&years).unwrap();
        assert_eq!(t.kind, TimeKind::Year);
        assert_eq!(
            t.extent.map(|[a, b]| (format(a), format(b))),
            Some((
                "2019-01-01T00:00:00Z".to_owned(),
                "2024-12-31T23:59:59Z".to_owned()
            ))
        );

        let unreadable = layer(
            &[r#"{"dilaporkan":"kemarin"}"#],
            &[("dilaporkan", "String")],
        );
        assert_eq!(temporal(&unreadable).unwrap().extent, None);
        assert_eq!(temporal(&layer(&["{}"], &[("nama", "String")])), None);
    }
}
