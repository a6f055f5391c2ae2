//! Laporan warga (citizen reports), without SQL: their statuses and the
//! allowed moves between them, tracking codes, the limits of what a
//! citizen writes, and the errors of this part. Whether a place is in the
//! regency is [`crate::regency`]'s.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde::Serialize;

/// The longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// The shortest description accepted, in characters (after trimming).
pub const MIN_DESCRIPTION_CHARS: usize = 10;
/// The longest reporter name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest contact (phone or e-mail), in characters.
pub const MAX_CONTACT_CHARS: usize = 200;
/// The longest public note of a status change, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;
/// The longest rating comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// Reports one client may send per [`RATE_WINDOW_SECS`].
pub const RATE_LIMIT: i64 = 5;
/// The window of the rate limit, in seconds.
pub const RATE_WINDOW_SECS: u64 = 3600;
/// The id of the public layer of verified reports.
pub const PUBLIC_LAYER: &str = "laporan-warga";

/// Where a report is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Just sent; nothing of it is public.
    Baru,
    /// An agency checked it is real: it becomes public.
    Diverifikasi,
    /// Being handled.
    Ditangani,
    /// Done; the reporter may rate the handling.
    Selesai,
    /// Refused (spam, duplicate, not the regency's): never public.
    Ditolak,
}

impl Status {
    /// Every status, in handling order.
    pub const ALL: [Status; 5] = [
        Status::Baru,
        Status::Diverifikasi,
        Status::Ditangani,
        Status::Selesai,
        Status::Ditolak,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Baru => "baru",
            Status::Diverifikasi => "diverifikasi",
            Status::Ditangani => "ditangani",
            Status::Selesai => "selesai",
            Status::Ditolak => "ditolak",
        }
    }

    /// Whether `self` may move to `next`: `baru -> diverifikasi ->
    /// ditangani -> selesai`, a verified report may be finished at once,
    /// and anything not finished may be rejected.
    pub fn can_move_to(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Baru, Diverifikasi)
                | (Baru, Ditolak)
                | (Diverifikasi, Ditangani)
                | (Diverifikasi, Selesai)
                | (Diverifikasi, Ditolak)
                | (Ditangani, Selesai)
                | (Ditangani, Ditolak)
        )
    }

    /// Whether reports in this status are on the public layer.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Status::Diverifikasi | Status::Ditangani | Status::Selesai
        )
    }

    /// Whether the report still waits for its agency (counted as open).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Baru | Status::Diverifikasi | Status::Ditangani
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Status, ReportError> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ReportError::UnknownStatus(s.chars().take(40).collect()))
    }
}

/// What can go wrong with a citizen report (mapped to HTTP by the server).
/// Every message reads in Indonesian, then English.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportError {
    /// The place is outside Badung Regency.
    #[error("Lokasi di luar Kabupaten Badung. / The location is outside Badung Regency.")]
    OutsideRegency,
    /// Too many reports from this client in the last hour.
    #[error(
        "Terlalu banyak laporan dari alamat ini; coba lagi dalam {retry_after} detik. / Too many reports from this address; try again in {retry_after} s."
    )]
    RateLimited {
        /// Seconds until the oldest report of the window leaves it.
        retry_after: u64,
    },
    /// A field is missing or wrong; the text says which (both languages).
    #[error("{0}")]
    Invalid(String),
    /// An unknown status name.
    #[error(
        "Status tidak dikenal: {0:?} (baru, diverifikasi, ditangani, selesai, ditolak). / Unknown status {0:?}."
    )]
    UnknownStatus(String),
    /// A move the handling order does not allow.
    #[error(
        "Status tidak dapat diubah dari {from} ke {to}. / The status cannot move from {from} to {to}."
    )]
    Transition {
        /// The current status.
        from: Status,
        /// The status asked for.
        to: Status,
    },
    /// A rating before `selesai`, or a second one.
    #[error("{0}")]
    Rating(String),
}

/// The Crockford base32 alphabet: no I, L, O or U.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new tracking code: 10 Crockford base32 characters (50 bits from the
/// OS random generator), stored without its dash.
pub fn new_code() -> String {
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    let mut n = u64::from_le_bytes(bytes);
    (0..10)
        .map(|_| {
            let c = CROCKFORD[(n & 31) as usize] as char;
            n >>= 5;
            c
        })
        .collect()
}

/// A stored code as people read it: `ABCDE-12345`.
pub fn display_code(code: &str) -> String {
    if code.len() == 10 && code.is_ascii() {
        format!("{}-{}", &code[..5], &code[5..])
    } else {
        code.to_owned()
    }
}

/// The stored form of a code someone typed: case, dashes and spaces do
/// not matter, and I/L read as 1 and O as 0 (Crockford). `None` when it
/// cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(10);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > 10 {
            return None;
        }
    }
    (out.len() == 10).then_some(out)
}

/// `value` trimmed, with at most `max` characters; empty is `None`.
pub fn optional_text(
    value: Option<&str>,
    max: usize,
    field: &str,
) -> Result<Option<String>, ReportError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ReportError::Invalid(format!(
            "{field}: paling banyak {max} karakter. / {field}: at most {max} characters."
        )));
    }
    Ok(Some(v.to_owned()))
}

/// Whether `contact` looks like a phone number or an e-mail address.
pub fn plausible_contact(contact: &str) -> bool {
    let phone = contact
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && contact.chars().filter(char::is_ascii_digit).count() >= 6;
    let email = contact
        .split_once('@')
        .is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !contact.contains(' '));
    phone || email
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_crockford_characters_and_read_back() {
        let code = new_code();
        assert_eq!(code.len(), 10);
        assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
        let shown = display_code(&code);
        assert_eq!(shown.len(), 11);
        assert_eq!(
            normalize_code(&shown.to_lowercase()).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalize_code("abcde-fghij").as_deref(), Some("ABCDEFGH1J"));
        assert_eq!(normalize_code("oo1l0-00000").as_deref(), Some("0011000000"));
        assert!(normalize_code("ABCDE").is_none());
        assert!(normalize_code("ABCDE-FGHUJ").is_none());
        assert!(normalize_code("../../etc").is_none());
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn transitions_follow_the_handling_order() {
        use Status::*;
        assert!(Baru.can_move_to(Diverifikasi));
        assert!(Diverifikasi.can_move_to(Ditangani));
        assert!(Ditangani.can_move_to(Selesai));
        assert!(Baru.can_move_to(Ditolak));
        assert!(!Baru.can_move_to(Selesai));
        assert!(!Selesai.can_move_to(Ditolak));
        assert!(!Ditolak.can_move_to(Diverifikasi));
        assert!(!Ditangani.can_move_to(Baru));
        assert!(!Baru.is_public() && !Ditolak.is_public() && Selesai.is_public());
        assert_eq!("ditangani".parse::<Status>(), Ok(Ditangani));
        assert!("done".parse::<Status>().is_err());
    }

    #[test]
    fn contacts() {
        assert!(plausible_contact("+62 812-3456-7890"));
        assert!(plausible_contact("wayan@example.id"));
        assert!(!plausible_contact("call me"));
    }
}
