//! The shared store: PostgreSQL, so that several `custody serve` processes can
//! keep one database (`--db postgres://...`).
//!
//! It keeps the rows, and answers, as [`SqliteStore`](crate::SqliteStore)
//! does; what PostgreSQL changes is handled here:
//!
//! - Sequencing. The log is extended inside write transactions, so
//!   [`Store::begin`] takes a transaction-level advisory lock: one writer at
//!   a time across every process on the database, as SQLite's
//!   `BEGIN IMMEDIATE` is one writer at a time across processes on the file.
//!   The lock is keyed by the schema, so deployments in different schemas of
//!   one database do not wait for each other.
//! - Migrations run in one transaction under the same lock, so processes
//!   starting together do not race to create the tables.
//! - Bulk writes go as binary COPY (or, for upserts, arrays unnested in one
//!   statement), not a round trip per row; and `records` and `decisions`
//!   check their references once per statement, not per row (see the
//!   schema), which is most of what a million-row insert would cost.
//! - Walks (`for_each_*`) read through a cursor a batch at a time: millions
//!   of rows never sit in memory, the walk sees one snapshot, and the callback
//!   may read the store between batches, as it may with SQLite.
//!
//! The trait reads through `&self` while the client needs `&mut`, hence the
//! `RefCell`: the store is `Send`, not `Sync`, like a SQLite connection.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::{hash_map, HashMap, HashSet};
use std::time::Duration;

use ::postgres::binary_copy::BinaryCopyInWriter;
use ::postgres::config::Host;
use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, Config, NoTls, Row, Statement};

use custody_core::organisation::Role;
use custody_core::recipient::RecipientCategory;
use custody_core::Organisation;

use crate::bundles::{self, Bundles, BUNDLE};
use crate::schema::POSTGRES_MIGRATIONS;
use crate::*;

/// The first half of every custody advisory lock key ("cust"); the second
/// half is a hash of the schema.
const LOCK_CLASS: i32 = 0x6375_7374;
/// Rows per statement (and per look-up of what is already held) in bulk.
const CHUNK: usize = 20_000;

type Params<'a> = [&'a (dyn ToSql + Sync)];

pub struct PostgresStore {
    /// Always Some until dropped (see the Drop impl).
    client: RefCell<Option<Client>>,
    /// Statements prepared on this connection, by their SQL.
    statements: RefCell<HashMap<String, Statement>>,
    /// Between `begin` and `commit` or `rollback`.
    in_transaction: Cell<bool>,
    /// What `outside_writes` has seen.
    outside: Cell<Outside>,
    /// Walks under way: only the outermost opens a transaction of its own.
    walks: Cell<u32>,
    cursors: Cell<u64>,
    lock_key: i32,
    location: String,
}

/// Writes by other connections, as far as this one can tell. Every
/// transaction that writes takes the cluster's next transaction id, so when
/// the next id to be given out is the one after this connection's last, and
/// nobody else is running, no one else can have written since; any other
/// id given out (another database's in the same cluster, too) counts as a
/// write from outside. So it moves for writes it need not, never misses one.
#[derive(Debug, Clone, Copy, Default)]
struct Outside {
    count: u64,
    /// The id the next transaction would take if only this connection's
    /// take any; None when unknown.
    next: Option<u64>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The blocking client closes its connection on a small runtime of its
        // own, which tokio forbids on a thread that drives async tasks (a
        // server's, a test's): there, close it on a thread of its own.
        let Some(client) = self.client.get_mut().take() else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

fn unjson<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{e}: {s}")))
}

/// FNV-1a: a fixed hash of the schema name, the same in every process and
/// every build, for the advisory lock key.
fn schema_key(schema: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in schema.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as i32
}

/// Where a connection string points, without its password.
pub(crate) fn location(url: &str) -> String {
    let Ok(config) = url.parse::<Config>() else {
        return "postgres://(a URL that does not parse)".into();
    };
    location_of(&config)
}

fn location_of(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    format!(
        "postgres://{user}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

impl PostgresStore {
    /// Calls `f` on each row of `sql` ($1 org, $2 the id to start after),
    /// whose columns are a held record's: id, subject, origin, notice,
    /// collected, boxes, collection, fields (NULL: `[]`), received via.
    fn walk_held(
        &self,
        sql: &str,
        org: &str,
        after: i64,
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        self.walk(sql, &[&org, &after], 10_000, &mut |r| {
            f(&HeldRecord {
                id: r.try_get(0)?,
                subject: r.try_get(1)?,
                origin: r.try_get(2)?,
                notice: r.try_get(3)?,
                collected_at: r.try_get(4)?,
                consented: r.try_get::<_, i64>(5)? as u64,
                collection: r.try_get(6)?,
                fields: r.try_get::<_, Option<&str>>(7)?.unwrap_or("[]"),
                received_via: r.try_get(8)?,
            })
        })
    }

    /// Connects (a `postgres://` URL or a `key=value` string, as the
    /// `postgres` crate reads them; `options=-c search_path=...` picks the
    /// schema) and brings the schema up to date.
    pub fn open(url: &str) -> Result<PostgresStore> {
        let mut config: Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            // A host that does not answer should fail, not hang.
            config.connect_timeout(Duration::from_secs(10));
        }
        let location = location_of(&config);
        let mut client = config.connect(NoTls)?;
        // Whatever the server's default: a commit custody acknowledges (and
        // whose checkpoint it hands out) is on disk, as with SQLite's FULL.
        client.batch_execute("SET synchronous_commit = on")?;
        let schema: Option<String> = client
            .query_one("SELECT current_schema()", &[])?
            .try_get(0)?;
        let mut store = PostgresStore {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
            outside: Cell::new(Outside::default()),
            walks: Cell::new(0),
            cursors: Cell::new(0),
            // No schema: creating the tables fails, and says why.
            lock_key: schema_key(schema.as_deref().unwrap_or("")),
            location,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database, as `postgres://user@host:port/db`: never the password.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn migrate(&mut self) -> Result<()> {
        let known = POSTGRES_MIGRATIONS.len() as i64;
        // Up to date (the usual case): no lock, so a process starting does
        // not wait for a long write in another.
        match self.schema_version()? {
            v if v > known => return Err(StoreError::NewerSchema { found: v, known }),
            v if v == known => return Ok(()),
            _ => {}
        }
        let key = self.lock_key;
        let mut tx = self
            .client
            .get_mut()
            .as_mut()
            .expect("the client lives until the store is dropped")
            .transaction()?;
        // Processes starting together take turns, and the second finds the
        // schema the first made.
        tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&LOCK_CLASS, &key])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS custody_schema (
                 one boolean PRIMARY KEY DEFAULT true CHECK (one),
                 version bigint NOT NULL
             )",
        )?;
        let version: i64 = match tx.query_opt("SELECT version FROM custody_schema", &[])? {
            Some(r) => r.try_get(0)?,
            None => 0,
        };
        if version > known {
            return Err(StoreError::NewerSchema {
                found: version,
                known,
            });
        }
        for sql in POSTGRES_MIGRATIONS.iter().skip(version as usize) {
            tx.batch_execute(sql)?;
        }
        tx.execute(
            "INSERT INTO custody_schema (version) VALUES ($1)
             ON CONFLICT (one) DO UPDATE SET version = excluded.version",
            &[&known],
        )?;
        Ok(tx.commit()?)
    }

    /// How many migrations have run (0 on a new schema).
    pub fn schema_version(&self) -> Result<i64> {
        let mut client = self.client();
        // Not prepared: the table may not exist yet.
        let exists: bool = client
            .query_one("SELECT to_regclass('custody_schema') IS NOT NULL", &[])?
            .try_get(0)?;
        if !exists {
            return Ok(0);
        }
        Ok(client
            .query_opt("SELECT version FROM custody_schema", &[])?
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0))
    }

    fn client(&self) -> RefMut<'_, Client> {
        RefMut::map(self.client.borrow_mut(), |c| {
            c.as_mut()
                .expect("the client lives until the store is dropped")
        })
    }

    /// `sql`, prepared once on this connection.
    fn prepared(&self, client: &mut Client, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(&self, sql: &str, params: &Params) -> Result<Vec<Row>> {
        let mut client = self.client();
        let stmt = self.prepared(&mut client, sql)?;
        Ok(client.query(&stmt, params)?)
    }

    fn query_opt(&self, sql: &str, params: &Params) -> Result<Option<Row>> {
        let mut client = self.client();
        let stmt = self.prepared(&mut client, sql)?;
        Ok(client.query_opt(&stmt, params)?)
    }

    fn execute(&self, sql: &str, params: &Params) -> Result<u64> {
        let mut client = self.client();
        let stmt = self.prepared(&mut client, sql)?;
        Ok(client.execute(&stmt, params)?)
    }

    /// Calls `f` on every row of `sql`, fetched `batch` at a time through a
    /// cursor. The borrow of the client ends between batches, so `f` may read
    /// the store. Outside a transaction the walk opens one, REPEATABLE READ,
    /// so that it and whatever `f` reads see one state, as a SQLite
    /// statement and the reads made while it steps do. (Read only: `f` has
    /// the store by `&`, and every write takes `&mut`.)
    fn walk(
        &self,
        sql: &str,
        params: &Params,
        batch: usize,
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let own = !self.in_transaction.get() && self.walks.get() == 0;
        if own {
            self.client()
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        let n = self.cursors.get();
        self.cursors.set(n + 1);
        let cursor = format!("custody_walk_{n}");
        self.walks.set(self.walks.get() + 1);
        let result = (|| {
            let fetch = {
                let mut client = self.client();
                client.execute(
                    &format!("DECLARE {cursor} NO SCROLL CURSOR FOR {sql}"),
                    params,
                )?;
                client.prepare(&format!("FETCH {batch} FROM {cursor}"))?
            };
            loop {
                let rows = self.client().query(&fetch, &[])?;
                for r in &rows {
                    f(r)?;
                }
                if rows.len() < batch {
                    return Ok(());
                }
            }
        })();
        self.walks.set(self.walks.get() - 1);
        if own {
            let end = self.client().batch_execute("COMMIT");
            return result.and(end.map_err(StoreError::from));
        }
        match result {
            Ok(()) => Ok(self.client().batch_execute(&format!("CLOSE {cursor}"))?),
            Err(e) => {
                // The caller's transaction goes on (or is already failed,
                // and the cursor with it).
                let _ = self.client().batch_execute(&format!("CLOSE {cursor}"));
                Err(e)
            }
        }
    }

    /// Binary COPY into `target` ("table (columns)"), of the rows `write`
    /// writes; returns how many.
    fn copy_in(
        &self,
        target: &str,
        types: &[Type],
        write: &mut dyn FnMut(&mut BinaryCopyInWriter<'_>) -> Result<()>,
    ) -> Result<u64> {
        let mut client = self.client();
        let sink = client.copy_in(&format!("COPY {target} FROM STDIN (FORMAT binary)"))?;
        let mut writer = BinaryCopyInWriter::new(sink, types);
        // On an error the writer is dropped unfinished, which aborts the COPY.
        write(&mut writer)?;
        Ok(writer.finish()?)
    }
}

fn bundle_entries(r: &Row, f: &mut dyn FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
    let idx = r.try_get::<_, i64>(0)? as u64;
    let count = r.try_get::<_, i64>(1)? as u64;
    let first = idx * BUNDLE;
    let edited = || {
        StoreError::Corrupt(format!(
            "the bundle of entries {first} to {} was edited: it does not decode",
            first + count.max(1) - 1
        ))
    };
    let bytes: &[u8] = r.try_get(2)?;
    let entries = custody_log::tiles::decode_bundle(bytes).map_err(|_| edited())?;
    if entries.len() as u64 != count || count > BUNDLE {
        return Err(edited());
    }
    for (i, e) in entries.into_iter().enumerate() {
        f(first + i as u64, e)?;
    }
    Ok(())
}

fn to_org(r: &Row) -> Result<Organisation> {
    let role: Role = r
        .try_get::<_, &str>(2)?
        .parse()
        .map_err(StoreError::Corrupt)?;
    let categories: Vec<RecipientCategory> = unjson(r.try_get(3)?)?;
    Ok(Organisation {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role,
        categories,
    })
}

const RECORD_COLUMNS: &str =
    "id, org, subject, origin, notice, collection, at, consented, fields, received_via";

fn to_record(r: &Row) -> Result<RecordRow> {
    Ok(RecordRow {
        id: r.try_get(0)?,
        org: r.try_get(1)?,
        subject: r.try_get(2)?,
        origin: r.try_get(3)?,
        notice: r.try_get(4)?,
        collection: r.try_get(5)?,
        at: r.try_get(6)?,
        consented: r.try_get::<_, i64>(7)? as u64,
        fields: r.try_get(8)?,
        received_via: r.try_get(9)?,
    })
}

const PREFERENCE_COLUMNS: &str = "record, at, action, purpose, notice, source, recorded";

fn to_preference(r: &Row) -> Result<PreferenceRow> {
    Ok(PreferenceRow {
        record: r.try_get(0)?,
        at: r.try_get(1)?,
        action: r.try_get(2)?,
        purpose: r.try_get(3)?,
        notice: r.try_get(4)?,
        source: r.try_get(5)?,
        recorded: r.try_get(6)?,
    })
}

const DISCLOSURE_COLUMNS: &str =
    "id, from_org, to_org, on_behalf_of, at, purposes, categories, basis, gated, note, \
     requested, allowed, refused, not_held, created_at, recorded";

fn to_disclosure(r: &Row) -> Result<DisclosureRow> {
    Ok(DisclosureRow {
        id: r.try_get(0)?,
        from_org: r.try_get(1)?,
        to_org: r.try_get(2)?,
        on_behalf_of: r.try_get(3)?,
        at: r.try_get(4)?,
        purposes: unjson(r.try_get(5)?)?,
        categories: unjson(r.try_get(6)?)?,
        basis: r.try_get(7)?,
        gated: r.try_get(8)?,
        note: r.try_get(9)?,
        requested: r.try_get(10)?,
        allowed: r.try_get(11)?,
        refused: r.try_get(12)?,
        not_held: r.try_get(13)?,
        created_at: r.try_get(14)?,
        recorded: r.try_get(15)?,
    })
}

const COLLECTION_COLUMNS: &str =
    "id, org, file, file_hash, notice, mapping, columns, categories, at, rows";

fn to_collection(r: &Row) -> Result<CollectionRow> {
    Ok(CollectionRow {
        id: r.try_get(0)?,
        org: r.try_get(1)?,
        file: r.try_get(2)?,
        file_hash: r.try_get(3)?,
        notice: r.try_get(4)?,
        mapping: r.try_get(5)?,
        columns: unjson(r.try_get(6)?)?,
        categories: unjson(r.try_get(7)?)?,
        at: r.try_get(8)?,
        rows: r.try_get(9)?,
    })
}

fn to_api_key(r: &Row) -> Result<ApiKeyRow> {
    let id: String = r.try_get(0)?;
    let hash: &[u8] = r.try_get(3)?;
    let hash = <[u8; 32]>::try_from(hash)
        .map_err(|_| StoreError::Corrupt(format!("API key `{id}`: the hash is not 32 bytes")))?;
    Ok(ApiKeyRow {
        id,
        org: r.try_get(1)?,
        role: r.try_get(2)?,
        hash,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
    })
}

fn to_decision(r: &Row) -> Result<DecisionRow> {
    let reasons: Option<i64> = r.try_get(2)?;
    Ok(DecisionRow {
        disclosure: r.try_get(0)?,
        record: r.try_get(1)?,
        reasons: reasons
            .map(|v| {
                u32::try_from(v)
                    .map_err(|_| StoreError::Corrupt(format!("reasons {v} out of range")))
            })
            .transpose()?,
    })
}

fn checkpoint(r: &Row) -> Result<(u64, String)> {
    Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?))
}

impl Bundles for PostgresStore {
    fn bundles(
        &self,
        from: u64,
        to: Option<u64>,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let (from, to) = (from as i64, to.map_or(i64::MAX, |t| t as i64));
        let sql = "SELECT idx, count, entries FROM log_bundles WHERE idx >= $1 AND idx <= $2 ORDER BY idx";
        if from == to {
            // One bundle: no cursor needed.
            return match self.query_opt(sql, &[&from, &to])? {
                Some(r) => bundle_entries(&r, f),
                None => Ok(()),
            };
        }
        // A bundle is at most 256 entries of 64 KiB.
        self.walk(sql, &[&from, &to], 64, &mut |r| bundle_entries(r, f))
    }
}

impl PostgresStore {
    /// Ends the transaction with `how` (COMMIT or ROLLBACK), learning the
    /// id it took, if any, for [`Outside`].
    fn end(&self, how: &str) -> Result<()> {
        let mut client = self.client();
        let messages = match client.simple_query(&format!(
            "SELECT pg_current_xact_id_if_assigned()::text; {how}"
        )) {
            Ok(m) => m,
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK");
                drop(client);
                self.outside.set(Outside {
                    next: None,
                    ..self.outside.get()
                });
                return Err(e.into());
            }
        };
        let own = messages.iter().find_map(|m| match m {
            ::postgres::SimpleQueryMessage::Row(row) => {
                row.get(0).and_then(|x| x.parse::<u64>().ok())
            }
            _ => None,
        });
        let mut outside = self.outside.get();
        outside.next = match (outside.next, own) {
            (next, None) => next,
            (Some(next), Some(own)) if own == next => Some(own + 1),
            _ => None,
        };
        self.outside.set(outside);
        Ok(())
    }
}

impl Store for PostgresStore {
    fn begin(&mut self) -> Result<()> {
        if self.in_transaction.get() {
            return Err(StoreError::Conflict(
                "a transaction is already open on this connection".into(),
            ));
        }
        // READ COMMITTED: each statement sees what was committed before it,
        // so everything after the lock sees the previous writer's commit (a
        // REPEATABLE READ snapshot would date from before the wait).
        let begin = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {})",
            self.lock_key
        );
        let mut client = self.client();
        if let Err(e) = client.batch_execute(&begin) {
            let _ = client.batch_execute("ROLLBACK");
            return Err(e.into());
        }
        self.in_transaction.set(true);
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.in_transaction.set(false);
        // After a failed statement PostgreSQL answers COMMIT with a rollback,
        // and no error; the SELECT fails instead, so the caller hears of it.
        self.end("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        self.in_transaction.set(false);
        // A failed transaction cannot say its id (`end` forgets it) and
        // is rolled back on its own: the second ROLLBACK says whether the
        // connection still answers.
        self.end("ROLLBACK")
            .or_else(|_| Ok(self.client().batch_execute("ROLLBACK")?))
    }

    fn begin_read(&self) -> Result<()> {
        if self.in_transaction.get() {
            return Err(StoreError::Conflict(
                "a transaction is already open on this connection".into(),
            ));
        }
        // One snapshot for the whole transaction; walks inside it take
        // cursors in it instead of transactions of their own.
        self.client()
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        self.in_transaction.set(true);
        Ok(())
    }

    fn end_read(&self) -> Result<()> {
        self.in_transaction.set(false);
        Ok(self.client().batch_execute("ROLLBACK")?)
    }

    fn outside_writes(&mut self) -> Result<u64> {
        // Asked before this transaction writes: its own id, once it takes
        // one, is left out of its snapshot anyway.
        let row = self
            .query_opt(
                "SELECT pg_snapshot_xmax(s)::text::bigint, \
                        (SELECT count(*) FROM pg_snapshot_xip(s)) \
                 FROM pg_current_snapshot() s",
                &[],
            )?
            .expect("a snapshot has one row");
        let (next, running): (i64, i64) = (row.get(0), row.get(1));
        let mut outside = self.outside.get();
        if running != 0 || outside.next != Some(next as u64) {
            outside.count += 1;
        }
        // One still running may commit after this: move again next time.
        outside.next = (running == 0).then_some(next as u64);
        self.outside.set(outside);
        Ok(outside.count)
    }

    fn hold_state(&mut self) -> Result<()> {
        // The advisory lock keeps custody's writers out; SHARE mode keeps out
        // every other (an INSERT, UPDATE, DELETE or TRUNCATE from psql waits),
        // while readers go on.
        Ok(self.client().batch_execute(
            "LOCK TABLE orgs, terms, explicit_purposes, settings, notices, collections, \
             records, preferences, disclosures, decisions, log_bundles, log_tiles, \
             log_checkpoints, org_secrets IN SHARE MODE",
        )?)
    }

    fn insert_org(&mut self, org: &Organisation) -> Result<()> {
        let n = self.execute(
            "INSERT INTO orgs (id, name, role, categories) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&org.id, &org.name, &org.role.as_str(), &json(&org.categories)],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "organisation `{}` already exists",
                org.id
            )));
        }
        Ok(())
    }

    fn org(&self, id: &str) -> Result<Option<Organisation>> {
        self.query_opt(
            "SELECT id, name, role, categories FROM orgs WHERE id = $1",
            &[&id],
        )?
        .as_ref()
        .map(to_org)
        .transpose()
    }

    fn orgs(&self) -> Result<Vec<Organisation>> {
        self.query(
            "SELECT id, name, role, categories FROM orgs ORDER BY id",
            &[],
        )?
        .iter()
        .map(to_org)
        .collect()
    }

    fn insert_term(&mut self, t: &StoredTerm) -> Result<()> {
        self.execute(
            "INSERT INTO terms (key, kind, label, definition, parents, org) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&t.key, &t.kind, &t.label, &t.definition, &json(&t.parents), &t.org],
        )?;
        Ok(())
    }

    fn terms(&self) -> Result<Vec<StoredTerm>> {
        self.query(
            "SELECT key, kind, label, definition, parents, org FROM terms ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(StoredTerm {
                key: r.try_get(0)?,
                kind: r.try_get(1)?,
                label: r.try_get(2)?,
                definition: r.try_get(3)?,
                parents: unjson(r.try_get(4)?)?,
                org: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn explicit_purposes(&self) -> Result<Option<Vec<(String, String)>>> {
        if self.setting("explicit")?.is_none() {
            return Ok(None);
        }
        let rows = self.query(
            "SELECT term, reason FROM explicit_purposes ORDER BY term",
            &[],
        )?;
        let list = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        Ok(Some(list))
    }

    fn set_explicit_purposes(&mut self, list: &[(String, String)]) -> Result<()> {
        self.execute("DELETE FROM explicit_purposes", &[])?;
        for (term, reason) in list {
            self.execute(
                "INSERT INTO explicit_purposes (term, reason) VALUES ($1, $2)",
                &[term, reason],
            )?;
        }
        self.set_setting("explicit", "custom")
    }

    fn insert_notice(&mut self, n: &NoticeRow) -> Result<i64> {
        let row = self.query_opt(
            "INSERT INTO notices (org, version, effective, content_hash, source, published_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &n.org,
                &n.version,
                &n.effective,
                &n.content_hash,
                &n.source,
                &n.published_at,
            ],
        )?;
        Ok(row.expect("INSERT RETURNING returns the row").try_get(0)?)
    }

    fn notices(&self, org: Option<&str>) -> Result<Vec<NoticeRow>> {
        self.query(
            "SELECT id, org, version, effective, content_hash, source, published_at FROM notices
             WHERE $1::text IS NULL OR org = $1 ORDER BY org, effective, id",
            &[&org],
        )?
        .iter()
        .map(|r| {
            Ok(NoticeRow {
                id: r.try_get(0)?,
                org: r.try_get(1)?,
                version: r.try_get(2)?,
                effective: r.try_get(3)?,
                content_hash: r.try_get(4)?,
                source: r.try_get(5)?,
                published_at: r.try_get(6)?,
            })
        })
        .collect()
    }

    fn collection_by_hash(&self, org: &str, file_hash: &str) -> Result<Option<CollectionRow>> {
        // SQLite's query_row takes the first of several; so does LIMIT 1 in
        // id order.
        self.query_opt(
            &format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections WHERE org = $1 AND file_hash = $2 ORDER BY id LIMIT 1"
            ),
            &[&org, &file_hash],
        )?
        .as_ref()
        .map(to_collection)
        .transpose()
    }

    fn insert_collection(&mut self, c: &CollectionRow) -> Result<i64> {
        let row = self.query_opt(
            "INSERT INTO collections (org, file, file_hash, notice, mapping, columns, categories, at, rows)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &c.org,
                &c.file,
                &c.file_hash,
                &c.notice,
                &c.mapping,
                &json(&c.columns),
                &json(&c.categories),
                &c.at,
                &c.rows,
            ],
        )?;
        Ok(row.expect("INSERT RETURNING returns the row").try_get(0)?)
    }

    fn collections(&self, org: Option<&str>) -> Result<Vec<CollectionRow>> {
        self.query(
            &format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections WHERE $1::text IS NULL OR org = $1 ORDER BY id"
            ),
            &[&org],
        )?
        .iter()
        .map(to_collection)
        .collect()
    }

    fn set_collection_rows(&mut self, id: i64, rows: i64) -> Result<()> {
        self.execute(
            "UPDATE collections SET rows = $2 WHERE id = $1",
            &[&id, &rows],
        )?;
        Ok(())
    }

    fn insert_records(
        &mut self,
        org: &str,
        collection: i64,
        notice: i64,
        records: &mut dyn Iterator<Item = NewRecord>,
        heard: &mut dyn FnMut(usize, &NewRecord, Offered) -> Result<()>,
    ) -> Result<(u64, u64)> {
        // A chunk at a time: one query for which subjects are already held,
        // then a COPY of the rest, in input order (so ids follow it). The
        // first of a subject repeated in the input goes in, as row by row.
        // Between the two, no other custody writer can insert: writers run
        // inside `begin`, one at a time.
        let (mut inserted, mut already) = (0, 0);
        let mut base = 0;
        loop {
            let chunk: Vec<NewRecord> = (&mut *records).take(CHUNK).collect();
            let first = base;
            base += chunk.len();
            if chunk.is_empty() {
                break;
            }
            let subjects: Vec<&str> = chunk.iter().map(|r| r.subject.as_str()).collect();
            // A probe of the index per subject, whatever the planner makes
            // of the table: `subject = ANY ($2)` may become a scan of all
            // the organisation's records, for each chunk.
            let held = self.query(
                "SELECT t.subject, held.collection FROM unnest($2::text[]) AS t(subject)
                 CROSS JOIN LATERAL (SELECT h.collection FROM records h
                                     WHERE h.org = $1 AND h.subject = t.subject AND h.origin IS NULL
                                     LIMIT 1) held",
                &[&org, &subjects],
            )?;
            let mut seen: HashMap<&str, Option<i64>> = HashMap::with_capacity(chunk.len());
            for r in &held {
                seen.insert(r.try_get(0)?, r.try_get(1)?);
            }
            let mut fresh: Vec<(usize, &NewRecord)> = Vec::with_capacity(chunk.len());
            for (i, r) in chunk.iter().enumerate() {
                match seen.entry(r.subject.as_str()) {
                    hash_map::Entry::Occupied(held) => {
                        let collection = *held.get();
                        heard(first + i, r, Offered::AlreadyHeld { collection })?;
                    }
                    hash_map::Entry::Vacant(v) => {
                        // A subject repeated later in the chunk is held by
                        // this collection once the COPY has run.
                        v.insert(Some(collection));
                        fresh.push((first + i, r));
                    }
                }
            }
            already += (chunk.len() - fresh.len()) as u64;
            if fresh.is_empty() {
                continue;
            }
            self.copy_in(
                "records (org, subject, notice, collection, at, consented, fields)",
                &[
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                ],
                &mut |w| {
                    for (_, r) in &fresh {
                        w.write(&[
                            &org,
                            &r.subject,
                            &notice,
                            &collection,
                            &r.collected_at,
                            &(r.consented as i64),
                            &r.fields,
                        ])?;
                    }
                    Ok(())
                },
            )?;
            for (i, r) in fresh {
                inserted += 1;
                heard(i, r, Offered::Stored)?;
            }
        }
        Ok((inserted, already))
    }

    fn collected(&self, org: &str, subject: &str) -> Result<Option<RecordRow>> {
        self.query_opt(
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE org = $1 AND subject = $2 AND origin IS NULL"),
            &[&org, &subject],
        )?
        .as_ref()
        .map(to_record)
        .transpose()
    }

    fn held(&self, org: &str, subject: &str) -> Result<Vec<RecordRow>> {
        self.query(
            // A subject's own record and its copies are in two partial
            // indexes.
            &format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE org = $1 AND subject = $2 AND origin IS NULL
                 UNION ALL
                 SELECT {RECORD_COLUMNS} FROM records WHERE org = $1 AND subject = $2 AND origin IS NOT NULL
                 ORDER BY id"
            ),
            &[&org, &subject],
        )?
        .iter()
        .map(to_record)
        .collect()
    }

    fn record(&self, id: i64) -> Result<Option<RecordRow>> {
        self.query_opt(
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = $1"),
            &[&id],
        )?
        .as_ref()
        .map(to_record)
        .transpose()
    }

    fn copies_of(&self, origin: i64) -> Result<Vec<RecordRow>> {
        self.query(
            &format!("SELECT {RECORD_COLUMNS} FROM records WHERE origin = $1 ORDER BY id"),
            &[&origin],
        )?
        .iter()
        .map(to_record)
        .collect()
    }

    fn insert_preferences(&mut self, rows: &[PreferenceRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.copy_in(
            &format!("preferences ({PREFERENCE_COLUMNS})"),
            &[
                Type::INT8,
                Type::INT8,
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::TEXT,
                Type::INT8,
            ],
            &mut |w| {
                for p in rows {
                    w.write(&[
                        &p.record,
                        &p.at,
                        &p.action,
                        &p.purpose,
                        &p.notice,
                        &p.source,
                        &p.recorded,
                    ])?;
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    fn preferences_of(&self, record: i64) -> Result<Vec<PreferenceRow>> {
        self.query(
            &format!(
                "SELECT {PREFERENCE_COLUMNS} FROM preferences WHERE record = $1 ORDER BY at, id"
            ),
            &[&record],
        )?
        .iter()
        .map(to_preference)
        .collect()
    }

    fn preferences_of_records(&self, records: &[i64]) -> Result<HashMap<i64, Vec<PreferenceRow>>> {
        let mut map: HashMap<i64, Vec<PreferenceRow>> = HashMap::new();
        if records.is_empty() {
            return Ok(map);
        }
        for r in &self.query(
            &format!(
                "SELECT {PREFERENCE_COLUMNS} FROM preferences WHERE record = ANY($1) ORDER BY record, at, id"
            ),
            &[&records],
        )? {
            let row = to_preference(r)?;
            map.entry(row.record).or_default().push(row);
        }
        Ok(map)
    }

    fn preferences_held_by(&self, _org: &str) -> Result<HashMap<i64, Vec<PreferenceRow>>> {
        // Events are few beside records: read them all, as SQLite does.
        let mut map: HashMap<i64, Vec<PreferenceRow>> = HashMap::new();
        self.walk(
            &format!("SELECT {PREFERENCE_COLUMNS} FROM preferences ORDER BY record, at, id"),
            &[],
            50_000,
            &mut |r| {
                let row = to_preference(r)?;
                map.entry(row.record).or_default().push(row);
                Ok(())
            },
        )?;
        Ok(map)
    }

    fn for_each_held(&self, org: &str, f: &mut dyn FnMut(&HeldRecord) -> Result<()>) -> Result<()> {
        self.walk_held(
            "SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, o.fields, r.received_via
             FROM records r JOIN records o ON o.id = COALESCE(r.origin, r.id)
             WHERE r.org = $1 AND r.id > $2 ORDER BY r.id",
            org,
            0,
            f,
        )
    }

    fn for_each_held_after(
        &self,
        org: &str,
        after: i64,
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        // Without the fields: a snapshot never reads them.
        self.walk_held(
            "SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, NULL::text, r.received_via
             FROM records r JOIN records o ON o.id = COALESCE(r.origin, r.id)
             WHERE r.org = $1 AND r.id > $2 ORDER BY r.id",
            org,
            after,
            f,
        )
    }

    fn for_each_preference_after(
        &self,
        after: i64,
        f: &mut dyn FnMut(i64, &PreferenceRow) -> Result<()>,
    ) -> Result<()> {
        self.walk(
            &format!("SELECT {PREFERENCE_COLUMNS}, id FROM preferences WHERE id > $1 ORDER BY id"),
            &[&after],
            50_000,
            &mut |r| f(r.try_get(7)?, &to_preference(r)?),
        )
    }

    fn holdings_marks(&self, org: &str) -> Result<HoldingsMarks> {
        let r = self
            .query_opt(
                "SELECT (SELECT COALESCE(max(id), 0) FROM records WHERE org = $1),
                        (SELECT COALESCE(max(id), 0) FROM preferences)",
                &[&org],
            )?
            .expect("a SELECT without FROM gives one row");
        Ok(HoldingsMarks {
            records: r.try_get(0)?,
            events: r.try_get(1)?,
        })
    }

    fn for_each_held_of(
        &self,
        org: &str,
        subjects: &[&str],
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        // One round trip for all of them; a subject's own record and its
        // copies are in two partial indexes, as in `held`.
        let rows = self.query(
            "SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, o.fields, r.received_via
             FROM (SELECT id, subject, origin, received_via FROM records
                   WHERE org = $1 AND subject = ANY($2) AND origin IS NULL
                   UNION ALL
                   SELECT id, subject, origin, received_via FROM records
                   WHERE org = $1 AND subject = ANY($2) AND origin IS NOT NULL) r
             JOIN records o ON o.id = COALESCE(r.origin, r.id)
             ORDER BY r.id",
            &[&org, &subjects],
        )?;
        for r in &rows {
            f(&HeldRecord {
                id: r.try_get(0)?,
                subject: r.try_get(1)?,
                origin: r.try_get(2)?,
                notice: r.try_get(3)?,
                collected_at: r.try_get(4)?,
                consented: r.try_get::<_, i64>(5)? as u64,
                collection: r.try_get(6)?,
                fields: r.try_get::<_, Option<&str>>(7)?.unwrap_or("[]"),
                received_via: r.try_get(8)?,
            })?;
        }
        Ok(())
    }

    fn insert_disclosure(&mut self, d: &DisclosureRow) -> Result<i64> {
        let row = self.query_opt(
            "INSERT INTO disclosures (from_org, to_org, on_behalf_of, at, purposes, categories, basis, gated, note,
                                      requested, allowed, refused, not_held, created_at, recorded)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            &[
                &d.from_org,
                &d.to_org,
                &d.on_behalf_of,
                &d.at,
                &json(&d.purposes),
                &json(&d.categories),
                &d.basis,
                &d.gated,
                &d.note,
                &d.requested,
                &d.allowed,
                &d.refused,
                &d.not_held,
                &d.created_at,
                &d.recorded,
            ],
        )?;
        Ok(row.expect("INSERT RETURNING returns the row").try_get(0)?)
    }

    fn disclosure(&self, id: i64) -> Result<Option<DisclosureRow>> {
        self.query_opt(
            &format!("SELECT {DISCLOSURE_COLUMNS} FROM disclosures WHERE id = $1"),
            &[&id],
        )?
        .as_ref()
        .map(to_disclosure)
        .transpose()
    }

    fn disclosures(&self, from: Option<&str>) -> Result<Vec<DisclosureRow>> {
        self.query(
            &format!(
                "SELECT {DISCLOSURE_COLUMNS} FROM disclosures WHERE $1::text IS NULL OR from_org = $1 ORDER BY at, id"
            ),
            &[&from],
        )?
        .iter()
        .map(to_disclosure)
        .collect()
    }

    fn insert_decisions(&mut self, rows: &mut dyn Iterator<Item = DecisionRow>) -> Result<u64> {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            return Ok(0);
        }
        self.copy_in(
            "decisions (disclosure, record, reasons)",
            &[Type::INT8, Type::INT8, Type::INT8],
            &mut |w| {
                for d in rows.by_ref() {
                    w.write(&[&d.disclosure, &d.record, &d.reasons.map(i64::from)])?;
                }
                Ok(())
            },
        )
    }

    fn for_each_decision(
        &self,
        disclosure: i64,
        f: &mut dyn FnMut(DecisionRow) -> Result<()>,
    ) -> Result<()> {
        self.walk(
            "SELECT disclosure, record, reasons FROM decisions WHERE disclosure = $1 ORDER BY record",
            &[&disclosure],
            50_000,
            &mut |r| f(to_decision(r)?),
        )
    }

    fn records_page(
        &self,
        org: Option<&str>,
        after: i64,
        limit: u64,
    ) -> Result<Vec<RecordWithOrigin>> {
        self.query(
            crate::records_page_sql(org),
            &[&after, &org, &(limit.min(i64::MAX as u64) as i64)],
        )?
        .iter()
        .map(|r| {
            Ok(RecordWithOrigin {
                row: to_record(r)?,
                origin_notice: r.try_get(10)?,
            })
        })
        .collect()
    }

    fn preferences_page(&self, after: i64, limit: u64) -> Result<Vec<(i64, PreferenceRow)>> {
        self.query(
            crate::PREFERENCES_PAGE,
            &[&after, &(limit.min(i64::MAX as u64) as i64)],
        )?
        .iter()
        .map(|r| Ok((r.try_get(7)?, to_preference(r)?)))
        .collect()
    }

    fn decisions_page(
        &self,
        disclosure: i64,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<DecisionRow>> {
        self.query(
            "SELECT disclosure, record, reasons FROM decisions
             WHERE disclosure = $1 AND record > $2 ORDER BY record LIMIT $3",
            &[
                &disclosure,
                &after.unwrap_or(i64::MIN),
                &(limit.min(i64::MAX as u64) as i64),
            ],
        )?
        .iter()
        .map(to_decision)
        .collect()
    }

    fn decisions_for(&self, record: i64) -> Result<Vec<DecisionRow>> {
        self.query(
            "SELECT disclosure, record, reasons FROM decisions WHERE record = $1 ORDER BY disclosure",
            &[&record],
        )?
        .iter()
        .map(to_decision)
        .collect()
    }

    fn insert_copies(
        &mut self,
        org: &str,
        disclosure: i64,
        at: Seconds,
        copies: &[(i64, String)],
    ) -> Result<u64> {
        // As insert_records: which origins are already held, then a COPY of
        // the first copy of each of the rest.
        let mut n = 0;
        for chunk in copies.chunks(CHUNK) {
            let origins: Vec<i64> = chunk.iter().map(|(o, _)| *o).collect();
            let held = self.query(
                "SELECT t.origin FROM unnest($2::bigint[]) AS t(origin)
                 CROSS JOIN LATERAL (SELECT 1 FROM records h
                                     WHERE h.org = $1 AND h.origin = t.origin
                                     LIMIT 1) held",
                &[&org, &origins],
            )?;
            let mut seen: HashSet<i64> = HashSet::with_capacity(chunk.len());
            for r in &held {
                seen.insert(r.try_get(0)?);
            }
            let fresh: Vec<&(i64, String)> =
                chunk.iter().filter(|(o, _)| seen.insert(*o)).collect();
            if fresh.is_empty() {
                continue;
            }
            n += self.copy_in(
                "records (org, subject, origin, at, received_via)",
                &[Type::TEXT, Type::TEXT, Type::INT8, Type::INT8, Type::INT8],
                &mut |w| {
                    for (origin, subject) in &fresh {
                        w.write(&[&org, subject, origin, &at, &disclosure])?;
                    }
                    Ok(())
                },
            )?;
        }
        Ok(n)
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        self.query_opt("SELECT value FROM settings WHERE key = $1", &[&key])?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(StoreError::from)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn org_secret(&self, org: &str) -> Result<Option<[u8; 32]>> {
        let Some(row) = self.query_opt("SELECT secret FROM org_secrets WHERE org = $1", &[&org])?
        else {
            return Ok(None);
        };
        let blob: &[u8] = row.try_get(0)?;
        blob.try_into()
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("the secret of `{org}` is not 32 bytes")))
    }

    fn insert_org_secret(&mut self, org: &str, secret: &[u8; 32]) -> Result<()> {
        self.execute(
            "INSERT INTO org_secrets (org, secret) VALUES ($1, $2)",
            &[&org, &&secret[..]],
        )?;
        Ok(())
    }

    fn insert_api_key(&mut self, k: &ApiKeyRow) -> Result<()> {
        let n = self.execute(
            "INSERT INTO api_keys (id, org, role, hash, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &k.id,
                &k.org,
                &k.role,
                &&k.hash[..],
                &k.created_at,
                &k.revoked_at,
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "API key `{}` already exists",
                k.id
            )));
        }
        Ok(())
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>> {
        self.query_opt(
            "SELECT id, org, role, hash, created_at, revoked_at FROM api_keys WHERE id = $1",
            &[&id],
        )?
        .as_ref()
        .map(to_api_key)
        .transpose()
    }

    fn api_keys(&self, org: Option<&str>) -> Result<Vec<ApiKeyRow>> {
        self.query(
            "SELECT id, org, role, hash, created_at, revoked_at FROM api_keys
             WHERE org IS NOT DISTINCT FROM $1 ORDER BY created_at, id",
            &[&org],
        )?
        .iter()
        .map(to_api_key)
        .collect()
    }

    fn revoke_api_key(&mut self, id: &str, at: Seconds) -> Result<bool> {
        let n = self.execute(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &at],
        )?;
        Ok(n == 1 || self.api_key(id)?.is_some())
    }

    fn state_counts(&self, tally: Tally) -> Result<StateCounts> {
        let r = self
            .query_opt(tally.sql(), &[])?
            .expect("a SELECT without FROM returns one row");
        let mut n = [0u64; 8];
        for (i, n) in n.iter_mut().enumerate() {
            *n = r.try_get::<_, i64>(i)? as u64;
        }
        Ok(StateCounts::from_row(n))
    }

    fn log_size(&self) -> Result<u64> {
        let last = self.query_opt(
            "SELECT idx, count FROM log_bundles ORDER BY idx DESC LIMIT 1",
            &[],
        )?;
        Ok(match last {
            None => 0,
            Some(r) => r.try_get::<_, i64>(0)? as u64 * BUNDLE + r.try_get::<_, i64>(1)? as u64,
        })
    }

    fn append_log(&mut self, first: u64, batch: &EntryBatch) -> Result<()> {
        let size = self.log_size()?;
        if size != first {
            return Err(StoreError::Conflict(format!(
                "the log has {size} entries; cannot append at {first}"
            )));
        }
        // Checked first: once a COPY is under way, a refusal aborts it.
        if let Some(e) = batch.iter().find(|e| e.len() > usize::from(u16::MAX)) {
            return Err(StoreError::Conflict(format!(
                "a log entry of {} bytes is too long",
                e.len()
            )));
        }
        let push = |bytes: &mut Vec<u8>, e: &[u8]| {
            bytes.extend_from_slice(&(e.len() as u16).to_be_bytes());
            bytes.extend_from_slice(e);
        };
        let mut entries = batch.iter().peekable();
        let mut idx = size / BUNDLE;
        let count = size % BUNDLE;
        // The last bundle, if partial, grows in place (which the trigger
        // checks is only at its end).
        if count > 0 && entries.peek().is_some() {
            let row = self.query_opt(
                "SELECT entries FROM log_bundles WHERE idx = $1",
                &[&(idx as i64)],
            )?;
            let mut bytes: Vec<u8> = row
                .ok_or_else(|| StoreError::Corrupt(format!("log bundle {idx} is missing")))?
                .try_get(0)?;
            let mut count = count;
            while count < BUNDLE {
                let Some(e) = entries.next() else { break };
                push(&mut bytes, e);
                count += 1;
            }
            self.execute(
                "UPDATE log_bundles SET count = $2, entries = $3 WHERE idx = $1",
                &[&(idx as i64), &(count as i64), &bytes],
            )?;
            idx += 1;
        }
        if entries.peek().is_none() {
            return Ok(());
        }
        // The rest as new bundles, streamed: a bundle in memory at a time.
        self.copy_in(
            "log_bundles (idx, count, entries)",
            &[Type::INT8, Type::INT8, Type::BYTEA],
            &mut |w| {
                let mut bytes = Vec::new();
                while entries.peek().is_some() {
                    bytes.clear();
                    let mut count = 0u64;
                    while count < BUNDLE {
                        let Some(e) = entries.next() else { break };
                        push(&mut bytes, e);
                        count += 1;
                    }
                    w.write(&[&(idx as i64), &(count as i64), &bytes])?;
                    idx += 1;
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        bundles::entry(self, index)
    }

    fn for_each_log_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        bundles::entries_from(self, from, f)
    }

    fn log_entries_about(&self, subject: &[u8; 32]) -> Result<Vec<(u64, Vec<u8>)>> {
        bundles::entries_about(self, subject)
    }

    fn log_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        self.query_opt(
            "SELECT hashes FROM log_tiles WHERE level = $1 AND idx = $2",
            &[&i32::from(level), &(index as i64)],
        )?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(StoreError::from)
    }

    fn put_log_tiles(&mut self, tiles: &[(u8, u64, Vec<u8>)]) -> Result<()> {
        // One statement may not upsert a row twice: the last of a tile given
        // twice wins, as with SQLite's INSERT OR REPLACE in order.
        let mut last: HashMap<(u8, u64), usize> = HashMap::with_capacity(tiles.len());
        for (i, (level, index, _)) in tiles.iter().enumerate() {
            last.insert((*level, *index), i);
        }
        let tiles: Vec<&(u8, u64, Vec<u8>)> = tiles
            .iter()
            .enumerate()
            .filter(|(i, (level, index, _))| last[&(*level, *index)] == *i)
            .map(|(_, t)| t)
            .collect();
        for chunk in tiles.chunks(1024) {
            let levels: Vec<i32> = chunk.iter().map(|t| i32::from(t.0)).collect();
            let indexes: Vec<i64> = chunk.iter().map(|t| t.1 as i64).collect();
            let hashes: Vec<&[u8]> = chunk.iter().map(|t| t.2.as_slice()).collect();
            self.execute(
                "INSERT INTO log_tiles (level, idx, hashes)
                 SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bytea[])
                 ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
                &[&levels, &indexes, &hashes],
            )?;
        }
        Ok(())
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, at: Seconds) -> Result<()> {
        let n = self.execute(
            "INSERT INTO log_checkpoints (size, note, signed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&(size as i64), &note, &at],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "a checkpoint of size {size} is already signed"
            )));
        }
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>> {
        self.query("SELECT size, note FROM log_checkpoints ORDER BY size", &[])?
            .iter()
            .map(checkpoint)
            .collect()
    }

    fn checkpoint_of_size(&self, size: u64) -> Result<Option<String>> {
        self.query_opt(
            "SELECT note FROM log_checkpoints WHERE size = $1",
            &[&(size as i64)],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn checkpoint_times(&self) -> Result<Vec<(u64, Seconds)>> {
        self.query(
            "SELECT size, signed_at FROM log_checkpoints ORDER BY size",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?)))
        .collect()
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        self.query_opt(
            "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
            &[],
        )?
        .as_ref()
        .map(checkpoint)
        .transpose()
    }
}

/// The PostgreSQL tests, as a list of cases rather than `#[test]`s: they
/// need a server, and `tests/postgres.rs` runs them with a harness that
/// reports them skipped, not passed, where there is none (see there).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_can_go_to_another_thread() {
        fn send<T: Send>() {}
        send::<PostgresStore>();
        send::<AnyStore>();
    }

    #[test]
    fn each_migration_has_its_postgres_dialect() {
        assert_eq!(POSTGRES_MIGRATIONS.len(), crate::schema::MIGRATIONS.len());
    }
}

#[cfg(feature = "postgres-cases")]
pub mod cases {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    use super::*;
    use crate::suite::{collecting, entries, org, record, store_suite, Raw};

    impl Raw for PostgresStore {
        fn raw(&mut self, sql: &str) -> Result<()> {
            Ok(self.client().batch_execute(sql)?)
        }
    }

    const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    /// A schema of its own for one test, dropped when the test ends.
    struct TestDb {
        admin: Client,
        schema: String,
        /// The URL of the schema, for more stores on it.
        url: String,
        store: Option<PostgresStore>,
    }

    impl TestDb {
        fn open(&self) -> PostgresStore {
            PostgresStore::open(&self.url).unwrap()
        }
    }

    impl std::ops::Deref for TestDb {
        type Target = PostgresStore;
        fn deref(&self) -> &PostgresStore {
            self.store.as_ref().expect("open until dropped")
        }
    }

    impl std::ops::DerefMut for TestDb {
        fn deref_mut(&mut self) -> &mut PostgresStore {
            self.store.as_mut().expect("open until dropped")
        }
    }

    impl Drop for TestDb {
        fn drop(&mut self) {
            // Closed first: a transaction a failed test left open would hold
            // locks the DROP waits for.
            self.store.take();
            let _ = self
                .admin
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }

    fn with_schema(url: &str, schema: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{schema}")
    }

    /// Why the test server (`CUSTODY_TEST_POSTGRES`, default
    /// `postgres://postgres@127.0.0.1:5432/test`) cannot be reached, if it
    /// cannot: the harness asks once, before it lists the cases.
    pub fn server_missing() -> Option<String> {
        connect().err()
    }

    fn server_url() -> String {
        std::env::var("CUSTODY_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.into())
    }

    fn connect() -> std::result::Result<Client, String> {
        let url = server_url();
        url.parse::<Config>()
            .and_then(|mut c| {
                c.connect_timeout(Duration::from_secs(5));
                c.connect(NoTls)
            })
            .map_err(|e| {
                format!(
                    "no PostgreSQL at {} ({e}); set CUSTODY_TEST_POSTGRES",
                    location(&url)
                )
            })
    }

    /// A fresh schema on the test server, dropped when the test ends.
    fn pg() -> TestDb {
        static N: AtomicU64 = AtomicU64::new(0);
        let url = server_url();
        let mut admin = connect().unwrap_or_else(|e| panic!("{e}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!(
            "custody_test_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let url = with_schema(&url, &schema);
        let mut db = TestDb {
            admin,
            schema,
            url,
            store: None,
        };
        db.store = Some(db.open());
        db
    }

    fn migrations_run_once_and_reopen() {
        let mut db = pg();
        let known = POSTGRES_MIGRATIONS.len() as i64;
        assert_eq!(db.schema_version().unwrap(), known);
        db.insert_org(&org("a")).unwrap();
        let again = db.open();
        assert_eq!(again.schema_version().unwrap(), known);
        assert_eq!(again.orgs().unwrap().len(), 1);
        let rows: i64 = db
            .admin
            .query_one(
                &format!("SELECT count(*) FROM {}.custody_schema", db.schema),
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(rows, 1);
    }

    fn processes_starting_together_migrate_once() {
        let db = pg();
        // A second, empty schema, so that the migrations have to run.
        let fresh = format!("{}_b", db.schema);
        let mut admin = Client::connect(&db.url, NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE SCHEMA {fresh}"))
            .unwrap();
        let base = db.url.split("?options").next().unwrap().to_string();
        let url = with_schema(&base, &fresh);
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                thread::spawn(move || PostgresStore::open(&url).map(|s| s.schema_version()))
            })
            .collect();
        for t in opened {
            assert_eq!(
                t.join().unwrap().unwrap().unwrap(),
                POSTGRES_MIGRATIONS.len() as i64
            );
        }
        admin
            .batch_execute(&format!("DROP SCHEMA {fresh} CASCADE"))
            .unwrap();
    }

    fn refuses_a_newer_schema() {
        let mut db = pg();
        db.raw("UPDATE custody_schema SET version = 99").unwrap();
        assert!(matches!(
            PostgresStore::open(&db.url),
            Err(StoreError::NewerSchema { found: 99, .. })
        ));
    }

    fn truncating_the_log_or_the_notices_is_refused() {
        let mut db = pg();
        db.append_log(0, &entries(0, 3)).unwrap();
        db.raw("TRUNCATE log_bundles").unwrap_err();
        db.raw("TRUNCATE notices CASCADE").unwrap_err();
        db.raw("INSERT INTO log_bundles (idx, count, entries) VALUES (0, 1, '\\x00')")
            .unwrap_err();
        assert_eq!(db.log_size().unwrap(), 3);
    }

    fn outside_writes_move_for_other_connections_only() {
        let mut a = pg();
        let mut b = a.open();
        let mark = |s: &mut PostgresStore| {
            s.begin().unwrap();
            let m = s.outside_writes().unwrap();
            s.rollback().unwrap();
            m
        };
        // Transaction ids are the cluster's, and other tests write beside
        // this one: a's own commit leaves the count as it was at least once
        // in a few tries.
        let unmoved = (0..50).any(|i| {
            let before = mark(&mut a);
            a.begin().unwrap();
            a.insert_org(&org(&format!("own-{i}"))).unwrap();
            a.commit().unwrap();
            mark(&mut a) == before
        });
        assert!(unmoved, "a's own commits always moved the count");
        // Another connection's write always moves it.
        for i in 0..5 {
            let first = mark(&mut a);
            b.begin().unwrap();
            b.insert_org(&org(&format!("other-{i}"))).unwrap();
            b.commit().unwrap();
            assert_ne!(mark(&mut a), first, "b's commit");
        }
    }

    fn a_read_transaction_reads_one_state_while_writers_go_on() {
        let a = pg();
        let mut b = a.open();
        a.begin_read().unwrap();
        assert_eq!(a.orgs().unwrap().len(), 0);
        b.begin().unwrap();
        b.insert_org(&org("new")).unwrap();
        b.commit().unwrap();
        assert_eq!(a.orgs().unwrap().len(), 0, "the state the read began on");
        a.end_read().unwrap();
        assert_eq!(a.orgs().unwrap().len(), 1);
    }

    fn begin_waits_for_the_writer_before() {
        let mut a = pg();
        let mut b = a.open();
        a.begin().unwrap();
        a.insert_org(&org("a")).unwrap();
        let (ready, waiting) = mpsc::channel();
        let t = thread::spawn(move || {
            ready.send(()).unwrap();
            let start = Instant::now();
            b.begin().unwrap();
            let waited = start.elapsed();
            // Visible only once a has committed.
            let seen = b.org("a").unwrap().is_some();
            b.rollback().unwrap();
            (waited, seen)
        });
        waiting.recv().unwrap();
        thread::sleep(Duration::from_millis(400));
        a.commit().unwrap();
        let (waited, seen) = t.join().unwrap();
        assert!(seen, "b began before a committed");
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
    }

    fn writers_in_other_schemas_do_not_wait() {
        let (mut a, b) = (pg(), pg());
        let mut b = b.open();
        a.begin().unwrap();
        let (done, finished) = mpsc::channel();
        thread::spawn(move || {
            b.begin().unwrap();
            b.commit().unwrap();
            let _ = done.send(());
        });
        let r = finished.recv_timeout(Duration::from_secs(5));
        a.rollback().unwrap();
        r.expect("a writer in another schema waited");
    }

    fn two_processes_sequence_one_log() {
        let db = pg();
        const ROUNDS: u64 = 25;
        const EACH: u64 = 3;
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let mut s = db.open();
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        atomic(&mut s, |s| {
                            let size = s.log_size()?;
                            // Room for the other writer to append in between,
                            // were it not waiting.
                            thread::sleep(Duration::from_millis(2));
                            s.append_log(size, &entries(size, EACH))
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let size = 2 * ROUNDS * EACH;
        assert_eq!(db.log_size().unwrap(), size);
        let want = entries(0, size);
        let mut want = want.iter();
        db.for_each_log_entry(0, &mut |_, e| {
            assert_eq!(Some(e), want.next());
            Ok(())
        })
        .unwrap();
    }

    fn a_failed_statement_fails_the_commit() {
        let mut db = pg();
        db.begin().unwrap();
        db.insert_org(&org("a")).unwrap();
        // The error is swallowed; the transaction is failed all the same.
        let _ = db.insert_term(&StoredTerm {
            key: "k".into(),
            kind: "purpose".into(),
            label: "l".into(),
            definition: "d".into(),
            parents: vec![],
            org: "nobody".into(),
        });
        assert!(db.commit().is_err());
        assert!(db.orgs().unwrap().is_empty());
        db.begin().unwrap();
        assert!(matches!(db.begin(), Err(StoreError::Conflict(_))));
        db.rollback().unwrap();
    }

    fn errors_say_what_the_server_said() {
        let mut db = pg();
        db.insert_org(&org("a")).unwrap();
        let term = StoredTerm {
            key: "k".into(),
            kind: "purpose".into(),
            label: "l".into(),
            definition: "d".into(),
            parents: vec![],
            org: "a".into(),
        };
        db.insert_term(&term).unwrap();
        let e = db.insert_term(&term).unwrap_err().to_string();
        assert!(e.contains("duplicate key value"), "{e}");
        assert!(e.contains("Key (key)=(k) already exists"), "{e}");
        let e = db.raw("DELETE FROM log_bundles").map(|_| ());
        db.append_log(0, &entries(0, 1)).unwrap();
        let e2 = db.raw("DELETE FROM log_bundles").unwrap_err().to_string();
        assert!(e.is_ok(), "nothing to delete, nothing refused");
        assert_eq!(e2, "postgres: log entries are never deleted");
    }

    fn a_walk_fetches_in_batches_from_one_snapshot() {
        let mut db = pg();
        let (nid, c) = collecting(&mut *db);
        db.insert_records(
            "a",
            c,
            nid,
            &mut (0..25_000).map(|i| record(&format!("s{i}"))),
            &mut |_, _, _| Ok(()),
        )
        .unwrap();
        let mut other = db.open();
        let mut n = 0;
        db.for_each_held("a", &mut |_| {
            if n == 0 {
                // Rows come through a cursor, not all at once...
                let open: i64 = db
                    .query(
                        "SELECT count(*) FROM pg_cursors WHERE name LIKE 'custody_walk_%'",
                        &[],
                    )?
                    .first()
                    .unwrap()
                    .try_get(0)?;
                assert_eq!(open, 1);
                // ...and what commits meanwhile is not among them.
                other.insert_records(
                    "a",
                    c,
                    nid,
                    &mut [record("late")].into_iter(),
                    &mut |_, _, _| Ok(()),
                )?;
            }
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 25_000);
        let cursors: i64 = db
            .query(
                "SELECT count(*) FROM pg_cursors WHERE name LIKE 'custody_walk_%'",
                &[],
            )
            .unwrap()[0]
            .get(0);
        assert_eq!(cursors, 0, "closed after the walk");
        assert!(db.collected("a", "late").unwrap().is_some());
    }

    fn any_store_picks_the_backend_and_hides_passwords() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let s = AnyStore::open(path.to_str().unwrap()).unwrap();
        assert!(matches!(s, AnyStore::Sqlite(_)));
        assert_eq!(s.describe(), path.display().to_string());
        for url in [
            "postgres://me:s3cret@db.example:5433/custody",
            "postgresql://me:s3cret@db.example:5433/custody?password=s3cret&sslmode=disable",
        ] {
            let shown = AnyStore::location(url);
            assert_eq!(shown, "postgres://me@db.example:5433/custody");
        }
        assert!(!AnyStore::location("postgres://me:s3cret@[bad").contains("s3cret"));
        let db = pg();
        let mut s = AnyStore::open(&db.url).unwrap();
        assert!(matches!(s, AnyStore::Postgres(_)));
        assert!(s.to_string().starts_with("postgres://postgres@"));
        s.insert_org(&org("a")).unwrap();
        assert_eq!(db.orgs().unwrap().len(), 1);
    }

    /// `cargo test -p custody-store --release -- --ignored --nocapture a_million`
    fn a_million_records() {
        let mut db = pg();
        const N: usize = 1_000_000;
        let (nid, c) = collecting(&mut *db);
        let mk = || {
            (0..N).map(|i| NewRecord {
                subject: format!("subject-{i:07}@example.org"),
                collected_at: 1_700_000_000 + i as i64,
                consented: 3,
                fields: format!("[\"Name {i}\",\"{i} Some Street\",\"+44 20 7946 {i:04}\"]"),
            })
        };
        let start = Instant::now();
        let mut reported = 0u64;
        let counts = atomic(&mut *db, |s| {
            s.insert_records("a", c, nid, &mut mk(), &mut |_, _, _| {
                reported += 1;
                Ok(())
            })
        })
        .unwrap();
        eprintln!("insert_records, {N} new: {:?}", start.elapsed());
        assert_eq!((counts, reported), ((N as u64, 0), N as u64));
        let start = Instant::now();
        let counts = atomic(&mut *db, |s| {
            s.insert_records("a", c, nid, &mut mk(), &mut |_, _, _| Ok(()))
        })
        .unwrap();
        eprintln!("insert_records, {N} already held: {:?}", start.elapsed());
        assert_eq!(counts, (0, N as u64));
        let start = Instant::now();
        let mut n = 0;
        db.for_each_held("a", &mut |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        eprintln!("for_each_held, {n}: {:?}", start.elapsed());
        let d = db
            .insert_disclosure(&DisclosureRow {
                from_org: "a".into(),
                to_org: "a".into(),
                ..Default::default()
            })
            .unwrap();
        let first = db
            .collected("a", "subject-0000000@example.org")
            .unwrap()
            .unwrap()
            .id;
        let start = Instant::now();
        atomic(&mut *db, |s| {
            s.insert_decisions(&mut (0..N as i64).map(|i| DecisionRow {
                disclosure: d,
                record: first + i,
                reasons: Some(0),
            }))
        })
        .unwrap();
        eprintln!("insert_decisions, {N}: {:?}", start.elapsed());
        let start = Instant::now();
        let batch = entries(0, N as u64);
        atomic(&mut *db, |s| s.append_log(0, &batch)).unwrap();
        eprintln!("append_log, {N}: {:?}", start.elapsed());
    }

    /// One PostgreSQL test: its name, its body, and whether it runs only
    /// when asked (`--ignored`).
    pub struct Case {
        pub name: &'static str,
        pub run: fn(),
        pub ignored: bool,
    }

    /// Every case: the store suite on PostgreSQL, then PostgreSQL's own.
    pub fn all() -> Vec<Case> {
        let mut cases = store_suite!(@cases pg);
        cases.extend([
            Case {
                name: "migrations_run_once_and_reopen",
                run: migrations_run_once_and_reopen,
                ignored: false,
            },
            Case {
                name: "processes_starting_together_migrate_once",
                run: processes_starting_together_migrate_once,
                ignored: false,
            },
            Case {
                name: "refuses_a_newer_schema",
                run: refuses_a_newer_schema,
                ignored: false,
            },
            Case {
                name: "truncating_the_log_or_the_notices_is_refused",
                run: truncating_the_log_or_the_notices_is_refused,
                ignored: false,
            },
            Case {
                name: "outside_writes_move_for_other_connections_only",
                run: outside_writes_move_for_other_connections_only,
                ignored: false,
            },
            Case {
                name: "a_read_transaction_reads_one_state_while_writers_go_on",
                run: a_read_transaction_reads_one_state_while_writers_go_on,
                ignored: false,
            },
            Case {
                name: "begin_waits_for_the_writer_before",
                run: begin_waits_for_the_writer_before,
                ignored: false,
            },
            Case {
                name: "writers_in_other_schemas_do_not_wait",
                run: writers_in_other_schemas_do_not_wait,
                ignored: false,
            },
            Case {
                name: "two_processes_sequence_one_log",
                run: two_processes_sequence_one_log,
                ignored: false,
            },
            Case {
                name: "a_failed_statement_fails_the_commit",
                run: a_failed_statement_fails_the_commit,
                ignored: false,
            },
            Case {
                name: "errors_say_what_the_server_said",
                run: errors_say_what_the_server_said,
                ignored: false,
            },
            Case {
                name: "a_walk_fetches_in_batches_from_one_snapshot",
                run: a_walk_fetches_in_batches_from_one_snapshot,
                ignored: false,
            },
            Case {
                name: "any_store_picks_the_backend_and_hides_passwords",
                run: any_store_picks_the_backend_and_hides_passwords,
                ignored: false,
            },
            Case {
                name: "a_million_records",
                run: a_million_records,
                ignored: true,
            },
        ]);
        cases
    }
}
