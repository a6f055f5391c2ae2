//! Dates for `datetime` and temporal extents: RFC 3339 dates and date-times
//! (and whole years) as closed intervals of Unix seconds, UTC.

use serde_json::Value;

/// How a layer's time property holds its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// Text: `YYYY-MM-DD` or an RFC 3339 date-time.
    Text,
    /// A whole year as a number (e.g. `tahun_data: 2021`): the whole year.
    Year,
}

/// Property names taken as a layer's time, in order of preference, with
/// the TileJSON type they must have.
pub const TIME_PROPERTIES: &[(&str, &str, TimeKind)] = &[
    ("datetime", "String", TimeKind::Text),
    ("tanggal", "String", TimeKind::Text),
    ("date", "String", TimeKind::Text),
    ("waktu", "String", TimeKind::Text),
    ("timestamp", "String", TimeKind::Text),
    ("updated", "String", TimeKind::Text),
    ("updated_at", "String", TimeKind::Text),
    ("tanggal_update", "String", TimeKind::Text),
    ("tahun_data", "Number", TimeKind::Year),
    ("tahun", "Number", TimeKind::Year),
];

/// The time property of a layer with these fields, if it has one.
pub fn time_property(fields: &serde_json::Map<String, Value>) -> Option<(&'static str, TimeKind)> {
    TIME_PROPERTIES
        .iter()
        .find(|(name, ty, _)| fields.get(*name).and_then(Value::as_str) == Some(*ty))
        .map(|(name, _, kind)| (*name, *kind))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds.
pub fn format(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The current time as RFC 3339.
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format(secs)
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
    let y = i64::from(num(&date[0..4])?);
    let (m, d) = (num(&date[5..7])?, num(&date[8..10])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let day = days_from_civil(y, m, d) * 86_400;
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

/// The interval of a feature's time value.
pub fn of_value(v: &Value, kind: TimeKind) -> Option<(i64, i64)> {
    match (kind, v) {
        (TimeKind::Text, Value::String(s)) => parse(s),
        (TimeKind::Year, Value::Number(n)) => {
            let y = n.as_i64().filter(|y| (1..=9999).contains(y))?;
            Some((
                days_from_civil(y, 1, 1) * 86_400,
                days_from_civil(y + 1, 1, 1) * 86_400 - 1,
            ))
        }
        _ => None,
    }
}

/// The `datetime` parameter: an instant or date, or an interval `a/b`
/// whose ends may be open (`..` or empty).
pub fn parse_param(s: &str) -> Result<(i64, i64), String> {
    let bad = || {
        format!(
            "datetime must be an RFC 3339 date or date-time, or an interval such as 2021-01-01/2021-12-31 or 2021-01-01T00:00:00Z/.., got {s:?}"
        )
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
                return Err(format!("datetime interval {s:?} ends before it starts"));
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
        assert_eq!(parse("2021-01-01Tx"), None);
        assert_eq!(parse("é"), None);
        let y = of_value(&serde_json::json!(2020), TimeKind::Year).unwrap();
        assert_eq!(format(y.0), "2020-01-01T00:00:00Z");
        assert_eq!(format(y.1), "2020-12-31T23:59:59Z");
        assert!(parse_param("../2020-01-01").is_ok());
        assert!(parse_param("../..").is_err());
        assert!(parse_param("2021-01-01/2020-01-01").is_err());
    }
}
