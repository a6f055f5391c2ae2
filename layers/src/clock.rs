//! Times as the database stores them: ISO 8601 UTC text with milliseconds
//! (`2026-11-23T04:05:06.789Z`), which sorts in time order as text on every
//! backend. They are taken from this process's clock and bound as values,
//! so no SQL depends on a dialect's date functions.

use std::time::Duration;

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
    }
}
