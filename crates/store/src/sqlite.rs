//! The embedded store: one SQLite file, WAL, migrations on open.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row};

use custody_core::organisation::Role;
use custody_core::recipient::RecipientCategory;
use custody_core::Organisation;

use crate::bundles::{self, Bundles, BUNDLE};
use crate::schema::MIGRATIONS;
use crate::*;

/// How commits reach the disk: FULL (see `prepare`); NORMAL only in the
/// benchmark that measures what FULL costs (bench/durability.sh).
#[cfg(not(feature = "bench-sync-normal"))]
const SYNCHRONOUS: &str = "PRAGMA synchronous = FULL;";
#[cfg(feature = "bench-sync-normal")]
const SYNCHRONOUS: &str = "PRAGMA synchronous = NORMAL;";

pub struct SqliteStore {
    conn: Connection,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

fn unjson<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{e}: {s}")))
}

impl SqliteStore {
    /// Calls `f` on each row of `sql` (org ?1, id above ?2), whose columns
    /// are a held record's: id, subject, origin, notice, collected, boxes,
    /// collection, fields (NULL: `[]`), received via.
    fn walk_held(
        &self,
        sql: &str,
        org: &str,
        after: i64,
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut rows = stmt.query(params![org, after])?;
        while let Some(r) = rows.next()? {
            f(&HeldRecord {
                id: r.get(0)?,
                subject: r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
                origin: r.get(2)?,
                notice: r.get(3)?,
                collected_at: r.get(4)?,
                consented: r.get::<_, i64>(5)? as u64,
                collection: r.get(6)?,
                fields: r
                    .get_ref(7)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)?
                    .unwrap_or("[]"),
                received_via: r.get(8)?,
            })?;
        }
        Ok(())
    }

    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(|e| unopened(path, e.into()))?;
        Self::init(conn)
    }

    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore> {
        let mut store = SqliteStore { conn };
        store.prepare().map_err(|e| store.explain(e))?;
        Ok(store)
    }

    /// Sets the connection up and brings the schema up to date.
    fn prepare(&mut self) -> Result<()> {
        let conn = &self.conn;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA page_size = 16384;
             PRAGMA journal_mode = WAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -262144;
             PRAGMA temp_store = MEMORY;
             PRAGMA wal_autocheckpoint = 16384;",
        )?;
        conn.execute_batch(SYNCHRONOUS)?;
        // FULL: every commit is synced to the write-ahead log before it
        // returns. A commit signs a checkpoint, which custody then hands out
        // (an answer, a receipt); under NORMAL a power cut could lose the
        // last commits, and the next would sign another tree at a size
        // already signed: a fork.
        // The WAL is copied back into the database by whichever commit
        // crosses the autocheckpoint size. At SQLite's default (1,000 pages)
        // that was one group commit in thirty under load, and the server's
        // p99 (22 ms, against 2.6 ms at p50); at 16,384 pages (256 MiB) it is
        // one in five hundred, below the 99th percentile (bench/load.sh).
        // Room for every statement of a disclosure request and its group
        // commit, so none is parsed again per request (the default is 16).
        conn.set_prepared_statement_cache_capacity(64);
        self.migrate()
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::NewerSchema {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The file the store is open on (as SQLite resolved it); None in memory.
    /// `e` as the system put it when the disk failed under SQLite: the
    /// errno of the failed call (`sqlite3_system_errno`), so that a full
    /// disk says "No space left on device" and not "disk I/O error".
    pub(crate) fn explain(&self, e: StoreError) -> StoreError {
        use rusqlite::ErrorCode::{CannotOpen, DiskFull, SystemIoFailure};
        let StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) = &e else {
            return e;
        };
        if !matches!(f.code, SystemIoFailure | DiskFull | CannotOpen) {
            return e;
        }
        // SAFETY: the handle is this open connection's, used only to read
        // its last error number, on the thread that owns the connection.
        let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(self.conn.handle()) };
        // SQLite says a full disk itself when a write came up short, with
        // no errno to read: ENOSPC, 28 on Linux and macOS alike.
        const ENOSPC: i32 = 28;
        let errno = match (errno, f.code) {
            (0, DiskFull) => ENOSPC,
            (0, _) => return e,
            (errno, _) => errno,
        };
        StoreError::Disk {
            path: self
                .path()
                .map_or_else(|| ":memory:".into(), |p| p.display().to_string()),
            cause: std::io::Error::from_raw_os_error(errno),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.conn.path().filter(|p| !p.is_empty()).map(Path::new)
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// A database SQLite could not open, as the system puts it. SQLite says
/// only "unable to open database file", and before there is a connection
/// there is no errno to ask it for; opening the file here reads the
/// system's own reason (a full disk, no permission). Where that open
/// succeeds the reason was SQLite's own, and its words stand.
fn unopened(path: &Path, e: StoreError) -> StoreError {
    use std::os::unix::fs::OpenOptionsExt;
    let StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) = &e else {
        return e;
    };
    if f.code != rusqlite::ErrorCode::CannotOpen {
        return e;
    }
    let probe = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        // A probe: never cut the database it is asking about.
        .truncate(false)
        .mode(0o600)
        .open(path);
    match probe {
        Err(cause) => StoreError::Disk {
            path: path.display().to_string(),
            cause,
        },
        Ok(_) => e,
    }
}

fn org_from(r: &Row) -> rusqlite::Result<(String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_org((id, name, role, cats): (String, String, String, String)) -> Result<Organisation> {
    let role: Role = role.parse().map_err(StoreError::Corrupt)?;
    let categories: Vec<RecipientCategory> = unjson(&cats)?;
    Ok(Organisation {
        id,
        name,
        role,
        categories,
    })
}

const RECORD_COLUMNS: &str =
    "id, org, subject, origin, notice, collection, at, consented, fields, received_via";

fn record_from(r: &Row) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        id: r.get(0)?,
        org: r.get(1)?,
        subject: r.get(2)?,
        origin: r.get(3)?,
        notice: r.get(4)?,
        collection: r.get(5)?,
        at: r.get(6)?,
        consented: r.get::<_, i64>(7)? as u64,
        fields: r.get(8)?,
        received_via: r.get(9)?,
    })
}

fn preference_from(r: &Row) -> rusqlite::Result<PreferenceRow> {
    Ok(PreferenceRow {
        record: r.get(0)?,
        at: r.get(1)?,
        action: r.get(2)?,
        purpose: r.get(3)?,
        notice: r.get(4)?,
        source: r.get(5)?,
        recorded: r.get(6)?,
    })
}

const DISCLOSURE_COLUMNS: &str =
    "id, from_org, to_org, on_behalf_of, at, purposes, categories, basis, gated, note, \
     requested, allowed, refused, not_held, created_at, recorded";

fn disclosure_from(r: &Row) -> rusqlite::Result<(DisclosureRow, String, String)> {
    Ok((
        DisclosureRow {
            id: r.get(0)?,
            from_org: r.get(1)?,
            to_org: r.get(2)?,
            on_behalf_of: r.get(3)?,
            at: r.get(4)?,
            purposes: vec![],
            categories: vec![],
            basis: r.get(7)?,
            gated: r.get(8)?,
            note: r.get(9)?,
            requested: r.get(10)?,
            allowed: r.get(11)?,
            refused: r.get(12)?,
            not_held: r.get(13)?,
            created_at: r.get(14)?,
            recorded: r.get(15)?,
        },
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_disclosure(
    (mut d, purposes, categories): (DisclosureRow, String, String),
) -> Result<DisclosureRow> {
    d.purposes = unjson(&purposes)?;
    d.categories = unjson(&categories)?;
    Ok(d)
}

fn collection_from(r: &Row) -> rusqlite::Result<(CollectionRow, String, String)> {
    Ok((
        CollectionRow {
            id: r.get(0)?,
            org: r.get(1)?,
            file: r.get(2)?,
            file_hash: r.get(3)?,
            notice: r.get(4)?,
            mapping: r.get(5)?,
            columns: vec![],
            categories: vec![],
            at: r.get(8)?,
            rows: r.get(9)?,
        },
        r.get(6)?,
        r.get(7)?,
    ))
}

fn to_collection(
    (mut c, columns, categories): (CollectionRow, String, String),
) -> Result<CollectionRow> {
    c.columns = unjson(&columns)?;
    c.categories = unjson(&categories)?;
    Ok(c)
}

const COLLECTION_COLUMNS: &str =
    "id, org, file, file_hash, notice, mapping, columns, categories, at, rows";

fn api_key_from(r: &Row) -> rusqlite::Result<Result<ApiKeyRow>> {
    let hash: Vec<u8> = r.get(3)?;
    let id: String = r.get(0)?;
    let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
        return Ok(Err(StoreError::Corrupt(format!(
            "API key `{id}`: the hash is not 32 bytes"
        ))));
    };
    Ok(Ok(ApiKeyRow {
        id,
        org: r.get(1)?,
        role: r.get(2)?,
        hash,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    }))
}

impl Bundles for SqliteStore {
    fn bundles(
        &self,
        from: u64,
        to: Option<u64>,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt =
            self.conn.prepare_cached("SELECT idx, count, entries FROM log_bundles WHERE idx >= ?1 AND idx <= ?2 ORDER BY idx")?;
        let mut rows = stmt.query(params![from as i64, to.map_or(i64::MAX, |t| t as i64)])?;
        while let Some(r) = rows.next()? {
            let idx = r.get::<_, i64>(0)? as u64;
            let count = r.get::<_, i64>(1)? as u64;
            let first = idx * BUNDLE;
            let edited = || {
                StoreError::Corrupt(format!(
                    "the bundle of entries {first} to {} was edited: it does not decode",
                    first + count.max(1) - 1
                ))
            };
            let bytes = r.get_ref(2)?.as_blob().map_err(|_| edited())?;
            let entries = custody_log::tiles::decode_bundle(bytes).map_err(|_| edited())?;
            if entries.len() as u64 != count || count > BUNDLE {
                return Err(edited());
            }
            for (i, e) in entries.into_iter().enumerate() {
                f(first + i as u64, e)?;
            }
        }
        Ok(())
    }
}

/// A subject's own record and its copies, from the two partial indexes
/// that hold them (records_collected, records_copies_subject).
fn held_sql() -> String {
    format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE org = ?1 AND subject = ?2 AND origin IS NULL
         UNION ALL
         SELECT {RECORD_COLUMNS} FROM records WHERE org = ?1 AND subject = ?2 AND origin IS NOT NULL
         ORDER BY id"
    )
}

/// [`held_sql`] with the facts of each record's collection (its own, or its
/// origin's for a copy).
const HELD_OF_SQL: &str =
    "SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, o.fields, r.received_via
     FROM records r JOIN records o ON o.id = r.id
     WHERE r.org = ?1 AND r.subject = ?2 AND r.origin IS NULL
     UNION ALL
     SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, o.fields, r.received_via
     FROM records r JOIN records o ON o.id = r.origin
     WHERE r.org = ?1 AND r.subject = ?2 AND r.origin IS NOT NULL";

impl Store for SqliteStore {
    fn begin(&mut self) -> Result<()> {
        // IMMEDIATE: take the write lock now, so reads and writes of one
        // command see one state.
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn commit(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<()> {
        Ok(self.conn.execute_batch("ROLLBACK")?)
    }

    fn hold_state(&mut self) -> Result<()> {
        // BEGIN IMMEDIATE took the one write lock: no other connection
        // commits until this transaction ends.
        Ok(())
    }

    fn begin_read(&self) -> Result<()> {
        // DEFERRED: no lock until the first read, which fixes the snapshot
        // (WAL mode) that every later read of the transaction sees.
        Ok(self
            .conn
            .execute_batch("BEGIN DEFERRED; SELECT count(*) FROM settings")?)
    }

    fn end_read(&self) -> Result<()> {
        Ok(self.conn.execute_batch("ROLLBACK")?)
    }

    fn outside_writes(&mut self) -> Result<u64> {
        // "The integer values returned by two invocations of "PRAGMA
        // data_version" from the same connection will be different if
        // changes were committed to the database by any other connection in
        // the interim", another process's included; "The
        // "PRAGMA data_version" value is unchanged for changes committed on
        // the same database connection" (sqlite.org/pragma.html).
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn insert_org(&mut self, org: &Organisation) -> Result<()> {
        let n = self.conn.execute(
            "INSERT INTO orgs (id, name, role, categories) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![org.id, org.name, org.role.as_str(), json(&org.categories)],
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
        // Cached: a disclosure request looks up two or three organisations.
        self.conn
            .prepare_cached("SELECT id, name, role, categories FROM orgs WHERE id = ?1")?
            .query_row([id], org_from)
            .optional()?
            .map(to_org)
            .transpose()
    }

    fn orgs(&self) -> Result<Vec<Organisation>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, role, categories FROM orgs ORDER BY id")?;
        let rows = stmt
            .query_map([], org_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_org).collect()
    }

    fn insert_term(&mut self, t: &StoredTerm) -> Result<()> {
        self.conn.execute(
            "INSERT INTO terms (key, kind, label, definition, parents, org) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![t.key, t.kind, t.label, t.definition, json(&t.parents), t.org],
        )?;
        Ok(())
    }

    fn terms(&self) -> Result<Vec<StoredTerm>> {
        let mut stmt = self.conn.prepare(
            "SELECT key, kind, label, definition, parents, org FROM terms ORDER BY rowid",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(key, kind, label, definition, parents, org)| {
                Ok(StoredTerm {
                    key,
                    kind,
                    label,
                    definition,
                    parents: unjson(&parents)?,
                    org,
                })
            })
            .collect()
    }

    fn explicit_purposes(&self) -> Result<Option<Vec<(String, String)>>> {
        let set: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'explicit'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if set.is_none() {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT term, reason FROM explicit_purposes ORDER BY term")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(rows))
    }

    fn set_explicit_purposes(&mut self, list: &[(String, String)]) -> Result<()> {
        self.conn.execute("DELETE FROM explicit_purposes", [])?;
        for (term, reason) in list {
            self.conn.execute(
                "INSERT INTO explicit_purposes (term, reason) VALUES (?1, ?2)",
                params![term, reason],
            )?;
        }
        self.conn.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES ('explicit', 'custom')",
            [],
        )?;
        Ok(())
    }

    fn insert_notice(&mut self, n: &NoticeRow) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO notices (org, version, effective, content_hash, source, published_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                n.org,
                n.version,
                n.effective,
                n.content_hash,
                n.source,
                n.published_at
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn notices(&self, org: Option<&str>) -> Result<Vec<NoticeRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, org, version, effective, content_hash, source, published_at FROM notices
             WHERE ?1 IS NULL OR org = ?1 ORDER BY org, effective, id",
        )?;
        let rows = stmt
            .query_map([org], |r| {
                Ok(NoticeRow {
                    id: r.get(0)?,
                    org: r.get(1)?,
                    version: r.get(2)?,
                    effective: r.get(3)?,
                    content_hash: r.get(4)?,
                    source: r.get(5)?,
                    published_at: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn collection_by_hash(&self, org: &str, file_hash: &str) -> Result<Option<CollectionRow>> {
        self.conn
            .query_row(
                &format!("SELECT {COLLECTION_COLUMNS} FROM collections WHERE org = ?1 AND file_hash = ?2"),
                [org, file_hash],
                collection_from,
            )
            .optional()?
            .map(to_collection)
            .transpose()
    }

    fn insert_collection(&mut self, c: &CollectionRow) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO collections (org, file, file_hash, notice, mapping, columns, categories, at, rows)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![c.org, c.file, c.file_hash, c.notice, c.mapping, json(&c.columns), json(&c.categories), c.at, c.rows],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn collections(&self, org: Option<&str>) -> Result<Vec<CollectionRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLLECTION_COLUMNS} FROM collections WHERE ?1 IS NULL OR org = ?1 ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([org], collection_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_collection).collect()
    }

    fn set_collection_rows(&mut self, id: i64, rows: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE collections SET rows = ?2 WHERE id = ?1",
            params![id, rows],
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
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO records (org, subject, notice, collection, at, consented, fields)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        )?;
        let mut holder = self.conn.prepare_cached(
            "SELECT collection FROM records WHERE org = ?1 AND subject = ?2 AND origin IS NULL",
        )?;
        let (mut inserted, mut already) = (0, 0);
        for (i, r) in records.enumerate() {
            let n = stmt.execute(params![
                org,
                r.subject,
                notice,
                collection,
                r.collected_at,
                r.consented as i64,
                r.fields
            ])?;
            if n == 1 {
                inserted += 1;
                heard(i, &r, Offered::Stored)?;
            } else {
                already += 1;
                let collection = holder.query_row(params![org, r.subject], |row| row.get(0))?;
                heard(i, &r, Offered::AlreadyHeld { collection })?;
            }
        }
        Ok((inserted, already))
    }

    fn collected(&self, org: &str, subject: &str) -> Result<Option<RecordRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RECORD_COLUMNS} FROM records WHERE org = ?1 AND subject = ?2 AND origin IS NULL"),
                [org, subject],
                record_from,
            )
            .optional()?)
    }

    fn held(&self, org: &str, subject: &str) -> Result<Vec<RecordRow>> {
        let mut stmt = self.conn.prepare(&held_sql())?;
        let rows = stmt
            .query_map([org, subject], record_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn record(&self, id: i64) -> Result<Option<RecordRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = ?1"),
                [id],
                record_from,
            )
            .optional()?)
    }

    fn copies_of(&self, origin: i64) -> Result<Vec<RecordRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE origin = ?1 ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([origin], record_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn insert_preferences(&mut self, rows: &[PreferenceRow]) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO preferences (record, at, action, purpose, notice, source, recorded) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for p in rows {
            stmt.execute(params![
                p.record, p.at, p.action, p.purpose, p.notice, p.source, p.recorded
            ])?;
        }
        Ok(())
    }

    fn preferences_of(&self, record: i64) -> Result<Vec<PreferenceRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT record, at, action, purpose, notice, source, recorded FROM preferences WHERE record = ?1 ORDER BY at, id",
        )?;
        let rows = stmt
            .query_map([record], preference_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn preferences_of_records(&self, records: &[i64]) -> Result<HashMap<i64, Vec<PreferenceRow>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record, at, action, purpose, notice, source, recorded FROM preferences WHERE record = ?1 ORDER BY at, id",
        )?;
        let mut map: HashMap<i64, Vec<PreferenceRow>> = HashMap::new();
        for record in records {
            if map.contains_key(record) {
                continue;
            }
            let rows = stmt
                .query_map([record], preference_from)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if !rows.is_empty() {
                map.insert(*record, rows);
            }
        }
        Ok(map)
    }

    fn preferences_held_by(&self, _org: &str) -> Result<HashMap<i64, Vec<PreferenceRow>>> {
        let mut stmt = self.conn.prepare(
            "SELECT record, at, action, purpose, notice, source, recorded FROM preferences ORDER BY record, at, id",
        )?;
        // Events are few beside records: reading them all in index order is
        // cheaper than selecting the holder's (which needs a sort).
        let mut map: HashMap<i64, Vec<PreferenceRow>> = HashMap::new();
        for row in stmt.query_map([], preference_from)? {
            let row = row?;
            map.entry(row.record).or_default().push(row);
        }
        Ok(map)
    }

    fn for_each_held(&self, org: &str, f: &mut dyn FnMut(&HeldRecord) -> Result<()>) -> Result<()> {
        self.walk_held(
            "SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, o.fields, r.received_via
             FROM records r JOIN records o ON o.id = IFNULL(r.origin, r.id)
             WHERE r.org = ?1 AND r.id > ?2 ORDER BY r.org, r.id",
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
            "SELECT r.id, r.subject, o.id, o.notice, o.at, o.consented, o.collection, NULL, r.received_via
             FROM records r JOIN records o ON o.id = IFNULL(r.origin, r.id)
             WHERE r.org = ?1 AND r.id > ?2 ORDER BY r.org, r.id",
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
        let mut stmt = self.conn.prepare(
            "SELECT record, at, action, purpose, notice, source, recorded, id FROM preferences
             WHERE id > ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([after])?;
        while let Some(r) = rows.next()? {
            f(r.get(7)?, &preference_from(r)?)?;
        }
        Ok(())
    }

    fn holdings_marks(&self, org: &str) -> Result<HoldingsMarks> {
        Ok(self.conn.query_row(
            "SELECT (SELECT IFNULL(max(id), 0) FROM records WHERE org = ?1),
                    (SELECT IFNULL(max(id), 0) FROM preferences)",
            [org],
            |r| {
                Ok(HoldingsMarks {
                    records: r.get(0)?,
                    events: r.get(1)?,
                })
            },
        )?)
    }

    fn for_each_held_of(
        &self,
        org: &str,
        subjects: &[&str],
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        // A few subjects: two indexed lookups each (the own record in
        // records_collected, copies in records_copies_subject), then id
        // order over them all.
        let mut stmt = self.conn.prepare_cached(HELD_OF_SQL)?;
        type Row = (
            i64,
            String,
            i64,
            i64,
            i64,
            i64,
            i64,
            Option<String>,
            Option<i64>,
        );
        let mut rows: Vec<Row> = Vec::new();
        for subject in subjects {
            let mut q = stmt.query(params![org, subject])?;
            while let Some(r) = q.next()? {
                rows.push((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ));
            }
        }
        rows.sort_by_key(|r| r.0);
        rows.dedup_by_key(|r| r.0);
        for r in &rows {
            f(&HeldRecord {
                id: r.0,
                subject: &r.1,
                origin: r.2,
                notice: r.3,
                collected_at: r.4,
                consented: r.5 as u64,
                collection: r.6,
                fields: r.7.as_deref().unwrap_or("[]"),
                received_via: r.8,
            })?;
        }
        Ok(())
    }

    fn insert_disclosure(&mut self, d: &DisclosureRow) -> Result<i64> {
        // Cached: the server inserts thousands a second.
        self.conn.prepare_cached(
            "INSERT INTO disclosures (from_org, to_org, on_behalf_of, at, purposes, categories, basis, gated, note,
                                      requested, allowed, refused, not_held, created_at, recorded)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?.execute(
            params![
                d.from_org,
                d.to_org,
                d.on_behalf_of,
                d.at,
                json(&d.purposes),
                json(&d.categories),
                d.basis,
                d.gated,
                d.note,
                d.requested,
                d.allowed,
                d.refused,
                d.not_held,
                d.created_at,
                d.recorded
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn disclosure(&self, id: i64) -> Result<Option<DisclosureRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {DISCLOSURE_COLUMNS} FROM disclosures WHERE id = ?1"
            ))?
            .query_row([id], disclosure_from)
            .optional()?
            .map(to_disclosure)
            .transpose()
    }

    fn disclosures(&self, from: Option<&str>) -> Result<Vec<DisclosureRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {DISCLOSURE_COLUMNS} FROM disclosures WHERE ?1 IS NULL OR from_org = ?1 ORDER BY at, id"
        ))?;
        let rows = stmt
            .query_map([from], disclosure_from)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(to_disclosure).collect()
    }

    fn insert_decisions(&mut self, rows: &mut dyn Iterator<Item = DecisionRow>) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO decisions (disclosure, record, reasons) VALUES (?1, ?2, ?3)",
        )?;
        let mut n = 0;
        for d in rows {
            stmt.execute(params![d.disclosure, d.record, d.reasons])?;
            n += 1;
        }
        Ok(n)
    }

    fn for_each_decision(
        &self,
        disclosure: i64,
        f: &mut dyn FnMut(DecisionRow) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT disclosure, record, reasons FROM decisions WHERE disclosure = ?1 ORDER BY record")?;
        let mut rows = stmt.query([disclosure])?;
        while let Some(r) = rows.next()? {
            f(DecisionRow {
                disclosure: r.get(0)?,
                record: r.get(1)?,
                reasons: r.get(2)?,
            })?;
        }
        Ok(())
    }

    fn records_page(
        &self,
        org: Option<&str>,
        after: i64,
        limit: u64,
    ) -> Result<Vec<RecordWithOrigin>> {
        let mut stmt = self.conn.prepare_cached(crate::records_page_sql(org))?;
        let limit = limit.min(i64::MAX as u64) as i64;
        let rows = stmt.query_map(params![after, org, limit], |r| {
            Ok(RecordWithOrigin {
                row: record_from(r)?,
                origin_notice: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn preferences_page(&self, after: i64, limit: u64) -> Result<Vec<(i64, PreferenceRow)>> {
        let mut stmt = self.conn.prepare_cached(crate::PREFERENCES_PAGE)?;
        let rows = stmt.query_map(params![after, limit.min(i64::MAX as u64) as i64], |r| {
            Ok((r.get(7)?, preference_from(r)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn decisions_page(
        &self,
        disclosure: i64,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<DecisionRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT disclosure, record, reasons FROM decisions
             WHERE disclosure = ?1 AND record > ?2 ORDER BY record LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                disclosure,
                after.unwrap_or(i64::MIN),
                limit.min(i64::MAX as u64) as i64
            ],
            |r| {
                Ok(DecisionRow {
                    disclosure: r.get(0)?,
                    record: r.get(1)?,
                    reasons: r.get(2)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn decisions_for(&self, record: i64) -> Result<Vec<DecisionRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT disclosure, record, reasons FROM decisions WHERE record = ?1 ORDER BY disclosure")?;
        let rows = stmt
            .query_map([record], |r| {
                Ok(DecisionRow {
                    disclosure: r.get(0)?,
                    record: r.get(1)?,
                    reasons: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn insert_copies(
        &mut self,
        org: &str,
        disclosure: i64,
        at: Seconds,
        copies: &[(i64, String)],
    ) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO records (org, subject, origin, at, received_via) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
        )?;
        let mut n = 0;
        for (origin, subject) in copies {
            n += stmt.execute(params![org, subject, origin, at, disclosure])? as u64;
        }
        Ok(n)
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    fn org_secret(&self, org: &str) -> Result<Option<[u8; 32]>> {
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT secret FROM org_secrets WHERE org = ?1",
                [org],
                |r| r.get(0),
            )
            .optional()?;
        blob.map(|b| {
            b.try_into()
                .map_err(|_| StoreError::Corrupt(format!("the secret of `{org}` is not 32 bytes")))
        })
        .transpose()
    }

    fn insert_org_secret(&mut self, org: &str, secret: &[u8; 32]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO org_secrets (org, secret) VALUES (?1, ?2)",
            params![org, &secret[..]],
        )?;
        Ok(())
    }

    fn insert_api_key(&mut self, k: &ApiKeyRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO api_keys (id, org, role, hash, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![k.id, k.org, k.role, &k.hash[..], k.created_at, k.revoked_at],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Conflict(format!("API key `{}` already exists", k.id))
                }
                e => e.into(),
            })?;
        Ok(())
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, org, role, hash, created_at, revoked_at FROM api_keys WHERE id = ?1",
        )?;
        let row = stmt.query_row([id], api_key_from).optional()?;
        row.transpose()
    }

    fn api_keys(&self, org: Option<&str>) -> Result<Vec<ApiKeyRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, org, role, hash, created_at, revoked_at FROM api_keys
             WHERE org IS ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([org], api_key_from)?;
        rows.map(|r| r?).collect()
    }

    fn revoke_api_key(&mut self, id: &str, at: Seconds) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, at],
        )?;
        Ok(n == 1 || self.api_key(id)?.is_some())
    }

    fn state_counts(&self, tally: Tally) -> Result<StateCounts> {
        let n = self.conn.query_row(tally.sql(), [], |r| {
            let mut n = [0u64; 8];
            for (i, n) in n.iter_mut().enumerate() {
                *n = r.get::<_, i64>(i)? as u64;
            }
            Ok(n)
        })?;
        Ok(StateCounts::from_row(n))
    }

    fn log_size(&self) -> Result<u64> {
        let last: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT idx, count FROM log_bundles ORDER BY idx DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(last.map_or(0, |(idx, count)| idx as u64 * BUNDLE + count as u64))
    }

    fn append_log(&mut self, first: u64, batch: &EntryBatch) -> Result<()> {
        let size = self.log_size()?;
        if size != first {
            return Err(StoreError::Conflict(format!(
                "the log has {size} entries; cannot append at {first}"
            )));
        }
        let mut idx = size / BUNDLE;
        let mut count = size % BUNDLE;
        // The last bundle, if partial, grows in place.
        let mut bytes: Vec<u8> = if count > 0 {
            self.conn.query_row(
                "SELECT entries FROM log_bundles WHERE idx = ?1",
                [idx as i64],
                |r| r.get(0),
            )?
        } else {
            Vec::new()
        };
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO log_bundles (idx, count, entries) VALUES (?1, ?2, ?3)
             ON CONFLICT (idx) DO UPDATE SET count = excluded.count, entries = excluded.entries",
        )?;
        for e in batch.iter() {
            let len = u16::try_from(e.len()).map_err(|_| {
                StoreError::Conflict(format!("a log entry of {} bytes is too long", e.len()))
            })?;
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(e);
            count += 1;
            if count == BUNDLE {
                stmt.execute(params![idx as i64, count as i64, bytes])?;
                bytes.clear();
                idx += 1;
                count = 0;
            }
        }
        if count > 0 {
            stmt.execute(params![idx as i64, count as i64, bytes])?;
        }
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
        Ok(self
            .conn
            .prepare_cached("SELECT hashes FROM log_tiles WHERE level = ?1 AND idx = ?2")?
            .query_row(params![level, index as i64], |r| r.get(0))
            .optional()?)
    }

    fn put_log_tiles(&mut self, tiles: &[(u8, u64, Vec<u8>)]) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO log_tiles (level, idx, hashes) VALUES (?1, ?2, ?3)",
        )?;
        for (level, index, hashes) in tiles {
            stmt.execute(params![level, *index as i64, hashes])?;
        }
        Ok(())
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, at: Seconds) -> Result<()> {
        let n = self.conn.execute(
            "INSERT INTO log_checkpoints (size, note, signed_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![size as i64, note, at],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "a checkpoint of size {size} is already signed"
            )));
        }
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, note FROM log_checkpoints ORDER BY size")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn checkpoint_of_size(&self, size: u64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT note FROM log_checkpoints WHERE size = ?1",
                [size as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn checkpoint_times(&self) -> Result<Vec<(u64, Seconds)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, signed_at FROM log_checkpoints ORDER BY size")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{org, store_suite, Raw};

    impl Raw for SqliteStore {
        fn raw(&mut self, sql: &str) -> Result<()> {
            Ok(self.conn.execute_batch(sql)?)
        }
    }

    fn memory() -> Box<SqliteStore> {
        Box::new(SqliteStore::in_memory().unwrap())
    }

    store_suite!(memory);

    /// What SQLite plans for `sql`, one line per step.
    fn plan(s: &SqliteStore, sql: &str) -> String {
        let mut stmt = s
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt
            .query_map(["o", "s"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows.join("\n")
    }

    #[test]
    fn outside_writes_move_for_other_connections_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.db");
        let (mut a, mut b) = (
            SqliteStore::open(&path).unwrap(),
            SqliteStore::open(&path).unwrap(),
        );
        let mark = |s: &mut SqliteStore| {
            s.begin().unwrap();
            let m = s.outside_writes().unwrap();
            s.rollback().unwrap();
            m
        };
        let first = mark(&mut a);
        a.begin().unwrap();
        a.insert_org(&org("own")).unwrap();
        a.commit().unwrap();
        assert_eq!(mark(&mut a), first, "a's own commit");
        b.begin().unwrap();
        b.insert_org(&org("other")).unwrap();
        b.commit().unwrap();
        let second = mark(&mut a);
        assert_ne!(second, first, "b's commit");
        assert_eq!(mark(&mut a), second);
    }

    #[test]
    fn a_read_transaction_reads_one_state_while_writers_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custody.db");
        let (a, mut b) = (
            SqliteStore::open(&path).unwrap(),
            SqliteStore::open(&path).unwrap(),
        );
        a.begin_read().unwrap();
        assert_eq!(a.orgs().unwrap().len(), 0);
        b.begin().unwrap();
        b.insert_org(&org("new")).unwrap();
        b.commit().unwrap();
        assert_eq!(a.orgs().unwrap().len(), 0, "the state the read began on");
        a.end_read().unwrap();
        assert_eq!(a.orgs().unwrap().len(), 1);
    }

    #[test]
    fn a_subjects_records_are_found_by_index_without_a_full_one() {
        // Migration 4 dropped records_subject: a collected record costs one
        // (org, subject) B-tree insert, not two, and lookups by subject
        // still never scan.
        let s = SqliteStore::in_memory().unwrap();
        let indexes: Vec<String> = s
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            !indexes.iter().any(|i| i == "records_subject"),
            "{indexes:?}"
        );
        for sql in [held_sql(), HELD_OF_SQL.to_string()] {
            let p = plan(&s, &sql);
            assert!(p.contains("records_collected"), "{p}");
            assert!(p.contains("records_copies_subject"), "{p}");
            assert!(!p.contains("SCAN r") && !p.contains("SCAN records"), "{p}");
        }
    }

    #[test]
    fn migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.path(), Some(path.as_path()));
        s.insert_org(&org("a")).unwrap();
        drop(s);
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.orgs().unwrap().len(), 1);
        assert_eq!(SqliteStore::in_memory().unwrap().path(), None);
    }

    #[test]
    fn api_keys_keep_hashes_and_revoke() {
        let mut s = SqliteStore::in_memory().unwrap();
        s.insert_org(&org("a")).unwrap();
        let key = |id: &str, org: Option<&str>| ApiKeyRow {
            id: id.into(),
            org: org.map(String::from),
            role: "reader".into(),
            hash: [7; 32],
            created_at: 1,
            revoked_at: None,
        };
        s.insert_api_key(&key("k1", Some("a"))).unwrap();
        s.insert_api_key(&key("k2", None)).unwrap();
        assert!(matches!(
            s.insert_api_key(&key("k1", Some("a"))),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(s.api_key("k1").unwrap(), Some(key("k1", Some("a"))));
        assert_eq!(s.api_keys(Some("a")).unwrap().len(), 1);
        assert_eq!(s.api_keys(None).unwrap()[0].id, "k2");
        assert!(s.revoke_api_key("k1", 5).unwrap());
        assert_eq!(s.api_key("k1").unwrap().unwrap().revoked_at, Some(5));
        assert!(!s.revoke_api_key("nope", 5).unwrap());
        assert_eq!(s.api_key("nope").unwrap(), None);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::NewerSchema { found: 99, .. })
        ));
    }
}
