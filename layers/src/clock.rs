//! The workspace's one clock, and its one way of writing times (`jiff`).
//!
//! Times as the database stores them: ISO 8601 UTC text with milliseconds
//! (`2026-11-23T04:05:06.789Z`), which sorts in time order as text on every
//! backend. They are taken from this process's clock and bound as values,
//! so no SQL depends on a dialect's date functions. Responses that carry a
//! time (OGC `timeStamp`, temporal extents) write it to the second with
//! [`stamp`] and [`format_seconds`]; one-time codes count [`unix_seconds`].

use std::time::Duration;

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};

/// The current time.
pub fn now() -> String {
    format_time(Timestamp::now())
}

/// The time `d` from now.
pub fn after(d: Duration) -> String {
    shifted(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
}

/// The time `d` ago.
pub fn before(d: Duration) -> String {
    shifted(-SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX))
}

fn shifted(d: SignedDuration) -> String {
    let now = Timestamp::now();
    format_time(now.checked_add(d).unwrap_or(now))
}

/// Seconds since 1970-01-01T00:00:00Z, now.
pub fn unix_seconds() -> i64 {
    Timestamp::now().as_second()
}

/// The current time to the second, RFC 3339 (`2026-11-23T04:05:06Z`).
pub fn stamp() -> String {
    format_seconds(unix_seconds())
}

/// Unix seconds as RFC 3339 UTC to the second (`2026-11-23T04:05:06Z`),
/// proleptic Gregorian; times beyond the years -9999..=9999 are written as
/// the nearest end of that range.
pub fn format_seconds(secs: i64) -> String {
    const EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    let t = EPOCH
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap_or(if secs < 0 {
            DateTime::MIN
        } else {
            DateTime::MAX
        });
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An RFC 3339 time (`2026-11-23T12:05:06+08:00`, `2026-11-23T04:05:06Z`)
/// in the stored shape, to compare with stored times; `None` if `s` is not
/// one.
pub fn parse_rfc3339(s: &str) -> Option<String> {
    s.trim().parse::<Timestamp>().ok().map(format_time)
}

fn format_time(t: Timestamp) -> String {
    let ms = t.subsec_millisecond();
    format!("{}.{ms:03}Z", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_the_stored_shape_and_sort_as_text() {
        let t = format_time(Timestamp::from_millisecond(1_795_000_000_007).unwrap());
        assert_eq!(t, "2026-11-18T11:06:40.007Z");
        let (a, b, c) = (
            before(Duration::from_secs(60)),
            now(),
            after(Duration::from_secs(60)),
        );
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(b.len(), 24);
        assert_eq!(
            parse_rfc3339("2026-11-23T12:05:06+08:00").as_deref(),
            Some("2026-11-23T04:05:06.000Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn seconds_are_written_as_rfc_3339() {
        assert_eq!(format_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_seconds(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_seconds(1_614_834_367), "2021-03-04T05:06:07Z");
        assert_eq!(format_seconds(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(stamp().len(), 20);
        assert!(unix_seconds() > 1_700_000_000);
    }
}
