//! Session and API tokens, without SQL: how they are made (random hex
//! from the OS), what they look like, and the hash the database keeps of
//! them instead of the token.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// Every API token starts with this.
pub const TOKEN_PREFIX: &str = "bsc_";

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// SHA-256 of `token` as hex: what the database keeps of sessions and tokens.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// `n` random bytes from the OS as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `token` looks like a session token (32 lower-case hex digits).
pub fn is_session_token(token: &str) -> bool {
    is_hex(token, 32)
}

/// Whether `token` looks like an API token (`bsc_` and 64 hex digits).
pub fn is_api_token(token: &str) -> bool {
    token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| is_hex(rest, 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shapes() {
        assert!(is_session_token(&random_hex(16)));
        assert!(is_api_token(&format!("{TOKEN_PREFIX}{}", random_hex(32))));
        assert!(!is_api_token("bsc_xyz"));
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(random_hex(16), random_hex(16));
    }
}
