//! Failed authentications per client address, as token buckets: a client
//! may fail `burst` times at once, then once per `refill` interval. An
//! empty bucket refuses before any credential is checked, so guessing keys
//! or access codes costs time, not just requests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    burst: f64,
    refill: Duration,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before full ones are dropped (a full bucket is the default).
const MAX_TRACKED: usize = 100_000;

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

    /// Seconds until `ip` may try again, if it may not now.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let buckets = self.buckets.lock().expect("limiter lock");
        let b = buckets.get(&ip)?;
        let level = self.level(*b, Instant::now());
        (level < 1.0).then(|| ((1.0 - level) * self.refill.as_secs_f64()).ceil().max(1.0) as u64)
    }

    /// Counts one failed authentication from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("limiter lock");
        if buckets.len() >= MAX_TRACKED {
            let full = self.burst;
            buckets.retain(|_, b| {
                let gained = now.duration_since(b.at).as_secs_f64() / self.refill.as_secs_f64();
                b.tokens + gained < full
            });
        }
        let b = buckets.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let level = self.level(*b, now);
        *b = Bucket {
            tokens: (level - 1.0).max(0.0),
            at: now,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_failures_blocks_then_time_unblocks() {
        let l = FailureLimiter::new(3, Duration::from_millis(50));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.blocked(ip), None);
            l.failed(ip);
        }
        assert!(l.blocked(ip).is_some());
        assert_eq!(l.blocked("127.0.0.2".parse().unwrap()), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(l.blocked(ip), None);
    }
}
