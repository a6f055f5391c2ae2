//! The first run's one-time setup link: `bsc serve` on a database without
//! an admin makes a random token, prints `/setup?token=...` once, and keeps
//! only the token's hash here, in this process's memory, for an hour.
//!
//! Why memory and not the database: the link is for the person who just
//! started this server and reads its log; a token that never reaches the
//! disk cannot leak through a backup or a database dump, and a restart
//! (which prints a new link) ends the old one with nothing to clean up.
//! The cost: with several replicas the link works only on the one that
//! printed it, so the first admin is set up before more replicas start (or
//! with `bsc user add`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use layers::token::{random_hex, token_hash};

/// How long a setup link works.
pub const SETUP_TTL: Duration = Duration::from_secs(3600);
/// Wrong tokens one client may send within [`SETUP_TTL`] before it must wait.
pub const MAX_WRONG_TOKENS: u32 = 10;
/// Clients remembered for throttling; past it the oldest record is forgotten.
const MAX_CLIENTS: usize = 10_000;

/// The current setup link (its hash and expiry) and the wrong tokens per client.
#[derive(Debug, Default)]
pub struct SetupLink {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The token's hash and when it stops working.
    current: Option<(String, Instant)>,
    /// Wrong tokens per client: how many, since when.
    wrong: HashMap<String, (u32, Instant)>,
}

/// What a token sent to `/setup` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The current link's token, still in time.
    Valid,
    /// Wrong, expired, used, or there is no link: one answer for all.
    Invalid,
    /// This client sent too many wrong tokens; wait this many seconds.
    Throttled(u64),
}

impl SetupLink {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes a new token (128 random bits as hex), valid for `ttl`; any
    /// earlier one stops working. The token is returned once, for the link.
    pub fn issue(&self, ttl: Duration) -> String {
        let token = random_hex(16);
        self.lock().current = Some((token_hash(&token), Instant::now() + ttl));
        token
    }

    /// Whether there is a link still in time.
    pub fn is_open(&self) -> bool {
        self.lock()
            .current
            .as_ref()
            .is_some_and(|(_, until)| Instant::now() < *until)
    }

    /// Checks `token` sent by `client`; a wrong one is counted against it.
    pub fn check(&self, token: &str, client: &str) -> Check {
        let mut inner = self.lock();
        let now = Instant::now();
        if let Some(&(n, since)) = inner.wrong.get(client) {
            let wait = (since + SETUP_TTL).saturating_duration_since(now);
            if n >= MAX_WRONG_TOKENS && !wait.is_zero() {
                return Check::Throttled(wait.as_secs().max(1));
            }
        }
        let hash = token_hash(token);
        let valid = inner
            .current
            .as_ref()
            .is_some_and(|(h, until)| now < *until && constant_eq(h, &hash));
        if valid {
            return Check::Valid;
        }
        if inner.wrong.len() >= MAX_CLIENTS
            && !inner.wrong.contains_key(client)
            && let Some(oldest) = inner
                .wrong
                .iter()
                .min_by_key(|(_, (_, since))| *since)
                .map(|(k, _)| k.clone())
        {
            inner.wrong.remove(&oldest);
        }
        let entry = inner.wrong.entry(client.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) >= SETUP_TTL {
            *entry = (0, now);
        }
        entry.0 += 1;
        Check::Invalid
    }

    /// Ends the link (used, or an admin exists).
    pub fn close(&self) {
        self.lock().current = None;
    }
}

/// Compares two hex hashes without stopping at the first difference.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_link_works_until_closed_or_expired_and_wrong_tokens_are_throttled() {
        let link = SetupLink::default();
        assert_eq!(link.check("x", "c"), Check::Invalid);
        let token = link.issue(SETUP_TTL);
        assert_eq!(token.len(), 32);
        assert!(link.is_open());
        assert_eq!(link.check(&token, "c"), Check::Valid);
        link.close();
        assert_eq!(link.check(&token, "c"), Check::Invalid);
        let token = link.issue(Duration::ZERO);
        assert_eq!(link.check(&token, "c"), Check::Invalid);
        assert!(!link.is_open());
        let token = link.issue(SETUP_TTL);
        for _ in 0..MAX_WRONG_TOKENS {
            assert_eq!(link.check("wrong", "mallory"), Check::Invalid);
        }
        assert!(matches!(link.check(&token, "mallory"), Check::Throttled(_)));
        // Others are not concerned.
        assert_eq!(link.check(&token, "alice"), Check::Valid);
    }
}
