//! Results that take long to make (an organisation's audit: every
//! disclosure of its data decided again), made one at a time and kept with
//! the log size they were made at.
//!
//! Every change to custody's state adds to the log, so a result made at
//! the current size, or after the size a request saw, is still the result.
//! A request for one that is being made waits for it instead of making its
//! own; only one is made at a time, whatever its key, so that looping
//! clients cannot take every reader connection and the blocking pool from
//! the cheap requests of everyone else (the state gives these a store
//! connection of their own).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub struct Expensive<V> {
    made: Mutex<HashMap<String, (u64, Arc<V>)>>,
    /// Held while one is made.
    turn: tokio::sync::Mutex<()>,
    computed: AtomicU64,
}

impl<V> Default for Expensive<V> {
    fn default() -> Self {
        Expensive {
            made: Mutex::default(),
            turn: tokio::sync::Mutex::new(()),
            computed: AtomicU64::new(0),
        }
    }
}

impl<V> Expensive<V> {
    /// The result kept for `key`, if it was made at log size `at_least` or later.
    fn kept(&self, key: &str, at_least: u64) -> Option<(u64, Arc<V>)> {
        let made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        made.get(key)
            .filter(|(at, _)| *at >= at_least)
            .map(|(at, v)| (*at, v.clone()))
    }

    /// The result for `key` as of log size `at_least` or later: one kept,
    /// else, when its turn comes, one `make` makes (with the log size it
    /// made it at). A future dropped while `make` runs loses its result:
    /// spawn it if that matters.
    pub async fn get<E, F, Fut>(
        &self,
        key: &str,
        at_least: u64,
        make: F,
    ) -> Result<(u64, Arc<V>), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(u64, V), E>>,
    {
        if let Some(kept) = self.kept(key, at_least) {
            return Ok(kept);
        }
        let _turn = self.turn.lock().await;
        // Made by whoever had the turn before.
        if let Some(kept) = self.kept(key, at_least) {
            return Ok(kept);
        }
        let (at, v) = make().await?;
        self.computed.fetch_add(1, Ordering::Relaxed);
        let v = Arc::new(v);
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        if made.get(key).is_none_or(|(before, _)| *before <= at) {
            made.insert(key.to_string(), (at, v.clone()));
        }
        Ok((at, v))
    }

    /// How many results have been made.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[derive(Default)]
    struct Probe {
        e: Expensive<String>,
        running: AtomicUsize,
        most: AtomicUsize,
    }

    /// Asks for `key` at `at` on tasks of their own, all at once; each
    /// making is slow and notes how many run at once.
    async fn ask(p: &Arc<Probe>, asks: &[(&'static str, u64)]) -> Vec<String> {
        let tasks: Vec<_> = asks
            .iter()
            .map(|&(key, at)| {
                let p = p.clone();
                tokio::spawn(async move {
                    let make = || async {
                        let now = p.running.fetch_add(1, Ordering::SeqCst) + 1;
                        p.most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        p.running.fetch_sub(1, Ordering::SeqCst);
                        Ok::<_, ()>((at, format!("{key}@{at}")))
                    };
                    p.e.get(key, at, make).await.unwrap().1.to_string()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn requests_for_one_result_share_one_making_and_only_one_is_made_at_once() {
        let p = Arc::new(Probe::default());
        let got = ask(&p, &[("a", 5); 8]).await;
        assert!(got.iter().all(|v| v == "a@5"), "{got:?}");
        assert_eq!(p.e.computed(), 1, "eight requests, one making");

        ask(&p, &[("b", 5), ("c", 5), ("a", 6)]).await;
        assert_eq!(p.e.computed(), 4, "b, c, and a at a later size");
        assert_eq!(p.most.load(Ordering::SeqCst), 1, "one at a time");
        assert_eq!(ask(&p, &[("a", 5)]).await, ["a@6"], "a later one serves");
        assert_eq!(p.e.computed(), 4);
    }
}
