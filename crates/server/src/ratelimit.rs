//! Failed authentications, as token buckets per client address and per
//! credential (an API key's id, an access code's record): each may fail
//! `burst` times at once, then once per `refill` interval; a failure past
//! that is answered 429 with `Retry-After` instead of 401.
//!
//! Only failures are limited. A valid credential is always checked and
//! accepted, whatever its address or others sent from it: behind a proxy,
//! or a household's router, one client's bad tokens must not lock out
//! everyone else's good ones. Guessing is no threat the limiter must
//! carry: a key's secret is 256 random bits and a code's MAC 128.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    burst: f64,
    refill: Duration,
    buckets: Mutex<HashMap<Counted, Bucket>>,
}

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Counted {
    Address(IpAddr),
    Credential(String),
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before full ones are dropped (a full bucket is the default).
const MAX_TRACKED: usize = 100_000;

/// The part of a credential that names what it is for: a key's id
/// (`ck_<id>_`), or an access code's first 12 characters, which encode
/// its record alone. A cookie's session id names nothing: None.
pub fn credential_id(token: &str) -> Option<String> {
    if let Some(rest) = token.strip_prefix("ck_") {
        return rest.split_once('_').map(|(id, _)| format!("key {id}"));
    }
    let code = token.trim();
    (code.len() > 12 && code.is_ascii())
        .then(|| format!("code {}", code[..12].to_ascii_uppercase()))
}

impl FailureLimiter {
    pub fn new(burst: u32, refill: Duration) -> FailureLimiter {
        FailureLimiter {
            burst: f64::from(burst.max(1)),
            refill: refill.max(Duration::from_millis(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn level(&self, b: Bucket, now: Instant) -> f64 {
        let gained = now.duration_since(b.at).as_secs_f64() / self.refill.as_secs_f64();
        (b.tokens + gained).min(self.burst)
    }

    /// Counts one failed authentication from `ip` with a credential naming
    /// `credential`; the seconds to wait, if that was one failure too many
    /// for the address or the credential.
    pub fn failed(&self, ip: IpAddr, credential: Option<String>) -> Option<u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if buckets.len() >= MAX_TRACKED {
            let full = self.burst;
            buckets.retain(|_, b| self.level(*b, now) < full);
        }
        let counted =
            std::iter::once(Counted::Address(ip)).chain(credential.map(Counted::Credential));
        let mut wait = None;
        for c in counted {
            // A flood of new credentials beyond the bound is counted by
            // address alone.
            if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&c) {
                continue;
            }
            let b = buckets.entry(c).or_insert(Bucket {
                tokens: self.burst,
                at: now,
            });
            let level = self.level(*b, now);
            if level < 1.0 {
                let secs = ((1.0 - level) * self.refill.as_secs_f64()).ceil().max(1.0) as u64;
                wait = wait.max(Some(secs));
            }
            *b = Bucket {
                tokens: (level - 1.0).max(0.0),
                at: now,
            };
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_burst_wait_and_time_unblocks() {
        let l = FailureLimiter::new(3, Duration::from_millis(50));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.failed(ip, None), None);
        }
        assert_eq!(l.failed(ip, None), Some(1));
        assert_eq!(
            l.failed("127.0.0.2".parse().unwrap(), None),
            None,
            "another address"
        );
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(l.failed(ip, None), None);
    }

    #[test]
    fn a_credential_is_counted_across_addresses() {
        let l = FailureLimiter::new(2, Duration::from_secs(60));
        let key = || Some("key 0123456789abcdef".to_string());
        assert_eq!(l.failed("192.0.2.1".parse().unwrap(), key()), None);
        assert_eq!(l.failed("192.0.2.2".parse().unwrap(), key()), None);
        assert!(l.failed("192.0.2.3".parse().unwrap(), key()).is_some());
        assert_eq!(
            l.failed("192.0.2.3".parse().unwrap(), Some("key other".into())),
            None,
            "another credential from a fresh address"
        );
    }

    #[test]
    fn a_credential_is_named_by_its_id_or_record() {
        let cases = [
            ("ck_0123456789abcdef_secret", Some("key 0123456789abcdef")),
            ("ck_nounderscore", None),
            ("aaaaaaaaaaaaxyz", Some("code AAAAAAAAAAAA")),
            ("short", None),
        ];
        for (token, want) in cases {
            assert_eq!(credential_id(token).as_deref(), want, "{token}");
        }
    }
}
