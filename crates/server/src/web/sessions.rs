//! Who is signed in to the web pages: the server's own record, in memory.
//! A sign-in cookie carries only a random session id (256 bits); the id
//! maps to what the credential stood for when it signed in (an API key's
//! id, organisation and role, or the record an access code opens) and when
//! the session ends. The credential itself is never stored or sent back.
//!
//! Signing out removes the session, so the cookie stops working at once,
//! wherever it was copied to. The cost of keeping sessions in memory: a
//! restart signs everyone out, and two servers on one database (PostgreSQL)
//! do not share sessions, so a browser must keep to one (sticky sessions
//! at the proxy). Storing them in the database would need a migration.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::prelude::{Engine as _, BASE64_URL_SAFE_NO_PAD};

use crate::auth::Principal;

/// A signed-in browser is asked again after eight hours.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// Sessions kept at most; past it, the one nearest its end goes first.
const MAX_SESSIONS: usize = 100_000;

/// The cookie value's prefix: the version of what follows it.
const PREFIX: &str = "s1.";

struct Session {
    who: Principal,
    ends: Instant,
}

#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<[u8; 32], Session>>,
}

/// The session id a cookie value names, if it is well formed.
fn id(value: &str) -> Option<[u8; 32]> {
    let bytes = BASE64_URL_SAFE_NO_PAD
        .decode(value.strip_prefix(PREFIX)?)
        .ok()?;
    bytes.try_into().ok()
}

impl Sessions {
    /// A new session for `who`, lasting `lifetime`; the cookie's value.
    pub fn start(&self, who: Principal, lifetime: Duration) -> String {
        let id: [u8; 32] = rand::random();
        let now = Instant::now();
        let mut live = self.live.lock().expect("sessions lock");
        if live.len() >= MAX_SESSIONS {
            live.retain(|_, s| s.ends > now);
        }
        if live.len() >= MAX_SESSIONS {
            let nearest = live.iter().min_by_key(|(_, s)| s.ends).map(|(k, _)| *k);
            if let Some(k) = nearest {
                live.remove(&k);
            }
        }
        live.insert(
            id,
            Session {
                who,
                ends: now + lifetime,
            },
        );
        format!("{PREFIX}{}", BASE64_URL_SAFE_NO_PAD.encode(id))
    }

    /// Who the session a cookie value names stands for, if it is live.
    pub fn get(&self, value: &str) -> Option<Principal> {
        let id = id(value)?;
        let mut live = self.live.lock().expect("sessions lock");
        let s = live.get(&id)?;
        if s.ends <= Instant::now() {
            live.remove(&id);
            return None;
        }
        Some(s.who.clone())
    }

    /// Ends the session a cookie value names, if there is one.
    pub fn end(&self, value: &str) {
        if let Some(id) = id(value) {
            self.live.lock().expect("sessions lock").remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_until_it_ends_or_is_ended() {
        let s = Sessions::default();
        let a = s.start(Principal::Anonymous, LIFETIME);
        let b = s.start(Principal::Anonymous, LIFETIME);
        assert_ne!(a, b, "each its own id");
        assert_eq!(s.get(&a), Some(Principal::Anonymous));
        s.end(&a);
        assert_eq!(s.get(&a), None, "ended");
        assert_eq!(s.get(&b), Some(Principal::Anonymous), "another kept");
        let short = s.start(Principal::Anonymous, Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(s.get(&short), None, "over");
        for forged in [
            "",
            "s1.",
            "s1.AAAA",
            "garbage",
            &b.replacen("s1.", "s2.", 1),
        ] {
            assert_eq!(s.get(forged), None, "{forged}");
        }
    }
}
