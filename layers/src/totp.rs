//! The optional second factor: time-based one-time passwords (RFC 6238 with
//! HMAC-SHA-1, 6 digits, 30-second steps, one step of clock difference
//! accepted either way), as every authenticator app makes them. The
//! arithmetic is the `totp-rs` crate's; secrets are 160 random bits from the
//! OS, kept base32-encoded in `users.totp_secret`.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::error::{Error, Result};

/// Digits of a code.
pub const DIGITS: usize = 6;
/// Seconds a code is valid for (one step).
pub const STEP: u64 = 30;
/// Steps of clock difference accepted before and after now.
pub const SKEW: u8 = 1;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "BSC Badung";

/// A freshly enrolled second factor: the only time its secret is shown.
/// `Debug` never prints the secret.
#[derive(Clone)]
pub struct Enrolment {
    /// The secret, base32 (RFC 4648, no padding), for typing into an app.
    pub secret: String,
    /// The `otpauth://totp/...` URL, for a QR code or an app that takes links.
    pub url: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment { secret: [redacted], url: [redacted] }")
    }
}

fn totp(secret: &str, user: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|_| Error::Corrupt("a stored TOTP secret is not base32".into()))?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        SKEW,
        STEP,
        bytes,
        Some(ISSUER.to_owned()),
        user.to_owned(),
    )
    .map_err(|e| Error::Corrupt(format!("a stored TOTP secret is not usable: {e}")))
}

/// A new random secret for `user`, with its `otpauth://` URL.
pub fn enrol(user: &str) -> Result<Enrolment> {
    let mut raw = [0u8; 20];
    OsRng.fill_bytes(&mut raw);
    let Secret::Encoded(secret) = Secret::Raw(raw.to_vec()).to_encoded() else {
        return Err(Error::Corrupt("base32 encoding failed".into()));
    };
    let url = totp(&secret, user)?.get_url();
    Ok(Enrolment { secret, url })
}

/// The code of `secret` at `time` (Unix seconds), as the user's app shows
/// it then.
pub fn code(secret: &str, time: u64) -> Result<String> {
    Ok(totp(secret, "")?.generate(time))
}

/// The time step (Unix time / [`STEP`]) whose code `code` is, if it is the
/// code of a step within [`SKEW`] of `now` (Unix seconds). Spaces in the
/// code are ignored; anything but [`DIGITS`] digits matches nothing. Every
/// candidate is compared in constant time.
pub fn matching_step(secret: &str, code: &str, now: u64) -> Result<Option<u64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret, "")?;
    let current = now / STEP;
    let mut found = None;
    for step in current.saturating_sub(u64::from(SKEW))..=current + u64::from(SKEW) {
        let expected = totp.generate(step * STEP);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    Ok(found)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 test secret and times (last 6 of the 8 digits).
    #[test]
    fn codes_are_rfc_6238() {
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        for (time, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                matching_step(&secret, code, time).unwrap(),
                Some(time / STEP)
            );
        }
        // One step of clock difference either way, not two.
        assert_eq!(
            matching_step(&secret, "081804", 1_111_111_109 + 30).unwrap(),
            Some(1_111_111_109 / 30)
        );
        assert_eq!(
            matching_step(&secret, "081804", 1_111_111_109 - 30).unwrap(),
            Some(1_111_111_109 / 30)
        );
        assert_eq!(
            matching_step(&secret, "081804", 1_111_111_109 + 61).unwrap(),
            None
        );
        assert_eq!(
            matching_step(&secret, "081 804", 1_111_111_109).unwrap(),
            Some(1_111_111_109 / 30)
        );
        for bad in ["", "08180", "0818044", "abcdef", "08180x"] {
            assert_eq!(
                matching_step(&secret, bad, 1_111_111_109).unwrap(),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn enrolment_makes_a_160_bit_secret_and_an_otpauth_url() {
        let e = enrol("ayu.putri").unwrap();
        assert_eq!(e.secret.len(), 32);
        assert!(
            e.url
                .starts_with("otpauth://totp/BSC%20Badung:ayu.putri?secret=")
                && e.url.contains(&e.secret)
                && e.url.contains("issuer=BSC%20Badung"),
            "{}",
            e.url
        );
        assert_ne!(enrol("ayu.putri").unwrap().secret, e.secret);
        assert!(!format!("{e:?}").contains(&e.secret));
    }
}
