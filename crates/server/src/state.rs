//! The engines behind the server, and what every handler shares.
//!
//! The store trait is synchronous, so engine calls run on tokio's blocking
//! pool (`spawn_blocking`), never on the async workers. SQLite in WAL mode
//! lets many readers run beside one writer, so the server keeps one writer
//! engine (every state change: SQLite serialises writers anyway, and one
//! writer means no two requests race between a disclosure's reads and its
//! write transaction) and a few reader engines, each on its own connection.
//! A lock is held for one engine call, never across awaits or requests.
//! Expensive results (the audit) are made on one more engine, one at a
//! time (`expensive.rs`), so they never hold a reader.
//! Disclosures of a few named records go through the writer too, in groups
//! (`group_commit`): many requests to one transaction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custody_engine::audit::Audit;
use custody_engine::disclosure::{NamedShare, ReasonCount, ShareReport};
use custody_engine::keys::ApiKey;
use custody_engine::Engine;
use custody_store::Store;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::client::TrustedProxy;
use crate::expensive::Expensive;
use crate::group_commit::GroupCommit;
use crate::problem::{Kind, Problem};
use crate::ratelimit::FailureLimiter;
use crate::web::sessions::Sessions;

/// A store the server can run over.
pub trait Backend: Store + Send + 'static {}
impl<S: Store + Send + 'static> Backend for S {}

/// Opens one engine (one store connection) each time it is called.
pub type Opener<S> = Box<dyn Fn() -> custody_engine::Result<Engine<S>> + Send + Sync>;

/// Limits and pool sizes; the defaults suit a laptop.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest JSON body, in bytes.
    pub max_body: usize,
    /// Largest file upload (CSV or Parquet collection), in bytes.
    pub max_upload: usize,
    /// Reader engines (store connections) beside the one writer.
    pub readers: usize,
    /// Failed authentications a client address or a credential may make at once...
    pub auth_burst: u32,
    /// ...and then one per this interval.
    pub auth_refill: Duration,
    /// Disclosure requests recorded in one transaction, at most.
    pub max_batch: usize,
    /// The web pages' sign-in cookie is `Secure` (sent over HTTPS only).
    pub secure_cookies: bool,
    /// Proxies whose `Forwarded`/`X-Forwarded-For` name the client.
    pub trusted_proxies: Vec<TrustedProxy>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_body: 2 << 20,
            max_upload: 256 << 20,
            readers: 2,
            auth_burst: 10,
            auth_refill: Duration::from_secs(1),
            max_batch: 1024,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
        }
    }
}

/// How long an authenticated API key is taken on trust before it is read
/// again: a key revoked (with `custody key revoke`, another process) stops
/// working within this long.
const KEY_TRUST: Duration = Duration::from_secs(1);

/// Keys authenticated in the last [`KEY_TRUST`], by the SHA-256 of the whole
/// token (never the token itself). Without it every request pays a store
/// read on the blocking pool, two thread switches, before it starts: at
/// thousands of requests a second, more than the decision itself. Failures
/// are never kept, and access codes never (each names one person).
#[derive(Default)]
struct KeyCache {
    keys: Mutex<HashMap<[u8; 32], (ApiKey, Instant)>>,
}

/// Disclosures whose refusals are kept counted; beyond, the cache starts again.
const REFUSALS_KEPT: usize = 1024;

/// At most this many keys are kept; beyond, the cache starts again.
const KEY_CACHE_MAX: usize = 4096;

impl KeyCache {
    fn get(&self, digest: &[u8; 32]) -> Option<ApiKey> {
        let keys = self.keys.lock().ok()?;
        let (key, at) = keys.get(digest)?;
        (at.elapsed() < KEY_TRUST).then(|| key.clone())
    }

    fn put(&self, digest: [u8; 32], key: ApiKey) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= KEY_CACHE_MAX {
                keys.clear();
            }
            keys.insert(digest, (key, Instant::now()));
        }
    }
}

struct Shared<S: Backend> {
    keys: KeyCache,
    writer: Arc<Mutex<Engine<S>>>,
    grouped: GroupCommit,
    readers: Vec<Mutex<Engine<S>>>,
    next: AtomicUsize,
    limiter: FailureLimiter,
    /// The engine that makes expensive results, on a connection of its
    /// own: never the writer's, never the readers'.
    auditor: Mutex<Engine<S>>,
    /// The last audit of each organisation (`expensive.rs`): the web pages
    /// (the audit, its printable report) and the API share it instead of
    /// re-reading millions of decisions.
    audits: Expensive<Audit>,
    /// Who is signed in to the web pages.
    sessions: Sessions,
    /// Refusals per reason, by disclosure.
    refusals: Mutex<HashMap<i64, Arc<Vec<ReasonCount>>>>,
    /// Opens an engine of its own for each verification beside a disclosure.
    open: Opener<S>,
    config: Config,
}

/// What handlers share: cheap to clone.
pub struct AppState<S: Backend> {
    shared: Arc<Shared<S>>,
}

impl<S: Backend> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            shared: self.shared.clone(),
        }
    }
}

fn poisoned() -> Problem {
    Problem::new(Kind::Internal, "the server could not complete the request")
}

impl<S: Backend> AppState<S> {
    pub fn new(open: Opener<S>, config: Config) -> custody_engine::Result<AppState<S>> {
        let writer = Arc::new(Mutex::new(open()?));
        let grouped = GroupCommit::start(writer.clone(), config.max_batch);
        let readers = (0..config.readers.max(1))
            .map(|_| open().map(Mutex::new))
            .collect::<custody_engine::Result<_>>()?;
        Ok(AppState {
            shared: Arc::new(Shared {
                keys: KeyCache::default(),
                writer,
                grouped,
                readers,
                next: AtomicUsize::new(0),
                limiter: FailureLimiter::new(config.auth_burst, config.auth_refill),
                auditor: Mutex::new(open()?),
                audits: Expensive::default(),
                sessions: Sessions::default(),
                refusals: Mutex::default(),
                open,
                config,
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// An engine on a connection of its own, to verify the store beside a
    /// disclosure ([`custody_engine::log::vouch`]).
    pub fn voucher(&self) -> Result<Box<dyn custody_engine::log::vouch::Voucher>, Problem> {
        Ok(Box::new((self.shared.open)()?))
    }

    pub fn sessions(&self) -> &Sessions {
        &self.shared.sessions
    }

    pub fn limiter(&self) -> &FailureLimiter {
        &self.shared.limiter
    }

    /// Runs a read on a reader engine, on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&Engine<S>) -> Result<T, Problem> + Send + 'static,
    {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let n = shared.readers.len();
            let start = shared.next.fetch_add(1, Ordering::Relaxed);
            // A free reader if there is one, else wait for ours.
            for i in 0..n {
                if let Ok(engine) = shared.readers[(start + i) % n].try_lock() {
                    return f(&engine);
                }
            }
            let engine = shared.readers[start % n].lock().map_err(|_| poisoned())?;
            f(&engine)
        })
        .await
        .map_err(|_| poisoned())?
    }

    /// Runs a state change on the writer engine, on the blocking pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce(&mut Engine<S>) -> Result<T, Problem> + Send + 'static,
    {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let mut engine = shared.writer.lock().map_err(|_| poisoned())?;
            f(&mut engine)
        })
        .await
        .map_err(|_| poisoned())?
    }

    /// The audit of `org` (see `Engine::audit`), made again only when the
    /// log has grown since the last one was made, one at a time on the
    /// auditor engine; and the log size it was made at, whose signed
    /// checkpoint a report cites.
    pub async fn audit(&self, org: String) -> Result<(u64, Arc<Audit>), Problem> {
        // Whatever the client saw done before asking is in the log by now.
        let at_least = self
            .read(|e| Ok(e.store.log_size().map_err(custody_engine::Error::from)?))
            .await?;
        let shared = self.shared.clone();
        // On a task of its own: a client that goes away does not waste the
        // audit, which the next request finds made.
        tokio::spawn(async move {
            let make = || {
                let shared = shared.clone();
                let org = org.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        let e = shared.auditor.lock().map_err(|_| poisoned())?;
                        let size = e.store.log_size().map_err(custody_engine::Error::from)?;
                        Ok::<_, Problem>((size, e.audit(&org, &custody_engine::Silent)?))
                    })
                    .await
                    .map_err(|_| poisoned())?
                }
            };
            shared.audits.get(&org, at_least, make).await
        })
        .await
        .map_err(|_| poisoned())?
    }

    /// How many audits have been made (not served from the last one).
    pub fn audits_made(&self) -> u64 {
        self.shared.audits.computed()
    }

    /// How many of disclosure `id`'s records each reason refused. Kept once
    /// counted: a disclosure's decisions never change.
    pub async fn refusals(&self, org: String, id: i64) -> Result<Arc<Vec<ReasonCount>>, Problem> {
        let shared = self.shared.clone();
        self.read(move |e| {
            // Asked every time: the disclosure must be `org`'s.
            e.disclosure_by(&org, id)?;
            if let Some(t) = shared.refusals.lock().map_err(|_| poisoned())?.get(&id) {
                return Ok(t.clone());
            }
            let tally = Arc::new(e.refusals_by_reason(&org, id)?);
            let mut cache = shared.refusals.lock().map_err(|_| poisoned())?;
            if cache.len() >= REFUSALS_KEPT {
                cache.clear();
            }
            cache.insert(id, tally.clone());
            Ok(tally)
        })
        .await
    }

    /// Records a disclosure of a few named records in the next group
    /// commit; answers once it is committed.
    pub async fn share_named(&self, share: NamedShare) -> Result<ShareReport, Problem> {
        self.shared.grouped.share(share).await
    }

    /// Who the session a sign-in cookie names stands for, if it is live
    /// and, for a key, the key still is (a revoked key's session ends).
    pub async fn signed_in(&self, cookie: &str) -> Result<Option<Principal>, Problem> {
        let Some(who) = self.sessions().get(cookie) else {
            return Ok(None);
        };
        let Principal::Key(key) = &who else {
            return Ok(Some(who));
        };
        let id = key.id.clone();
        let live = self
            .read(move |e| {
                let row = e.store.api_key(&id).map_err(custody_engine::Error::from)?;
                Ok(row.is_some_and(|r| r.revoked_at.is_none()))
            })
            .await?;
        if !live {
            self.sessions().end(cookie);
        }
        Ok(live.then_some(who))
    }

    /// The principal a bearer token stands for, or None.
    pub async fn authenticate(&self, token: String) -> Result<Option<Principal>, Problem> {
        if !token.starts_with("ck_") {
            return self
                .read(move |e| Ok(e.open_access_code(&token)?.map(Principal::Subject)))
                .await;
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(key) = self.shared.keys.get(&digest) {
            return Ok(Some(Principal::Key(key)));
        }
        let key = self.read(move |e| Ok(e.authenticate_key(&token)?)).await?;
        if let Some(k) = &key {
            self.shared.keys.put(digest, k.clone());
        }
        Ok(key.map(Principal::Key))
    }
}
