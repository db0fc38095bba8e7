//! The engines behind the server, and what every handler shares.
//!
//! The store trait is synchronous, so engine calls run on tokio's blocking
//! pool (`spawn_blocking`), never on the async workers. SQLite in WAL mode
//! lets many readers run beside one writer, so the server keeps one writer
//! engine (every state change: SQLite serialises writers anyway, and one
//! writer means no two requests race between a disclosure's reads and its
//! write transaction) and a few reader engines, each on its own connection.
//! A lock is held for one engine call, never across awaits or requests.
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
use crate::group_commit::GroupCommit;
use crate::problem::{Kind, Problem};
use crate::ratelimit::FailureLimiter;

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
    /// Failed authentications a client address may make at once...
    pub auth_burst: u32,
    /// ...and then one per this interval.
    pub auth_refill: Duration,
    /// Disclosure requests recorded in one transaction, at most.
    pub max_batch: usize,
    /// The web pages' sign-in cookie is `Secure` (sent over HTTPS only).
    pub secure_cookies: bool,
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
    audits: AuditCache,
    /// The MAC key of the web pages' session cookies.
    session_key: [u8; 32],
    /// Refusals per reason, by disclosure.
    refusals: Mutex<HashMap<i64, Arc<Vec<ReasonCount>>>>,
    config: Config,
}

/// The last audit of each organisation, with the log size it was made at.
/// Every change to custody's state adds to the log, so an audit made at the
/// current size is still the audit: the web pages (the audit, its printable
/// report) and the API share it instead of re-reading millions of decisions.
#[derive(Default)]
struct AuditCache {
    audits: Mutex<HashMap<String, (u64, Arc<Audit>)>>,
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

/// The web session key in the store's settings, made on first use: every
/// server on one database signs and accepts the same cookies, and a restart
/// signs nobody out. (Two servers starting at once on a new database may
/// each make one; the one that lands is read back.)
fn session_key<S: Store>(store: &mut S) -> custody_engine::Result<[u8; 32]> {
    const SETTING: &str = "web.session_key";
    if store.setting(SETTING)?.is_none() {
        let key: [u8; 32] = rand::random();
        store.set_setting(SETTING, &hex::encode(key))?;
    }
    let stored = store.setting(SETTING)?.unwrap_or_default();
    hex::decode(&stored)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .ok_or_else(|| {
            custody_engine::Error::Invalid(format!("the setting {SETTING} is not 32 bytes of hex"))
        })
}

fn poisoned() -> Problem {
    Problem::new(Kind::Internal, "the server could not complete the request")
}

impl<S: Backend> AppState<S> {
    pub fn new(open: Opener<S>, config: Config) -> custody_engine::Result<AppState<S>> {
        let mut first = open()?;
        let session_key = session_key(&mut first.store)?;
        let writer = Arc::new(Mutex::new(first));
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
                audits: AuditCache::default(),
                session_key,
                refusals: Mutex::default(),
                config,
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    pub fn session_key(&self) -> &[u8; 32] {
        &self.shared.session_key
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
    /// log has grown since the last one; and the log size it was made at,
    /// whose signed checkpoint a report cites.
    pub async fn audit(&self, org: String) -> Result<(u64, Arc<Audit>), Problem> {
        let shared = self.shared.clone();
        self.read(move |e| {
            let size = e.store.log_size().map_err(custody_engine::Error::from)?;
            let cached = shared
                .audits
                .audits
                .lock()
                .map_err(|_| poisoned())?
                .get(&org)
                .cloned();
            if let Some((at, audit)) = cached {
                if at == size {
                    return Ok((size, audit));
                }
            }
            let audit = Arc::new(e.audit(&org, &custody_engine::Silent)?);
            shared
                .audits
                .audits
                .lock()
                .map_err(|_| poisoned())?
                .insert(org, (size, audit.clone()));
            Ok((size, audit))
        })
        .await
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
