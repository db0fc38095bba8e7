//! custody's storage: the [`Store`] trait, its embedded SQLite implementation
//! and its PostgreSQL one (for several server processes on one database), and
//! [`AnyStore`], which picks between them from `--db`.
//!
//! The trait speaks in rows, not in domain logic: the engine decides, the store
//! keeps. Every user-facing command runs inside one [`atomic`] transaction, so
//! a failure anywhere leaves nothing half-written.

mod any;
mod bundles;
mod postgres;
mod schema;
mod sqlite;
#[cfg(any(test, feature = "postgres-cases"))]
mod suite;

use std::collections::HashMap;

use custody_core::Organisation;

pub use any::AnyStore;
/// The PostgreSQL test cases, for `tests/postgres.rs` (not an API).
#[cfg(feature = "postgres-cases")]
#[doc(hidden)]
pub use postgres::cases as postgres_cases;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Shown as the server's message, detail and hint. Not a `#[source]`:
    /// the client error's own text repeats its cause, so an error chain
    /// would print the message three times.
    #[error("postgres: {}", postgres_message(.0))]
    Postgres(::postgres::Error),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "the database was written by a newer custody (schema {found}, this build knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The disk failed under the database, as the system said it (SQLite
    /// says "disk I/O error" for a failed write or sync whatever the cause,
    /// a full disk among them).
    /// Not a `#[source]`: the message says the cause already.
    #[error("the database {path}: {cause}")]
    Disk { path: String, cause: std::io::Error },
    /// The caller's own error, raised inside a callback the store was
    /// running (a full disk while writing an output file): carried out as
    /// it was, never reported as the store's.
    #[error(transparent)]
    Caller(Box<dyn std::error::Error + Send + Sync>),
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> StoreError {
        StoreError::Postgres(e)
    }
}

/// A server error as the server put it (`message`, and its detail and hint
/// when it gave them); any other error as the client says it.
fn postgres_message(e: &::postgres::Error) -> String {
    let Some(db) = e.as_db_error() else {
        return e.to_string();
    };
    let mut s = db.message().to_string();
    if let Some(detail) = db.detail() {
        s.push_str(": ");
        s.push_str(detail);
    }
    if let Some(hint) = db.hint() {
        s.push_str(" (");
        s.push_str(hint);
        s.push(')');
    }
    s
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Unix seconds: compact to store, exact to compare.
pub type Seconds = i64;

#[derive(Debug, Clone)]
pub struct StoredTerm {
    pub key: String,
    pub kind: String,
    pub label: String,
    pub definition: String,
    pub parents: Vec<String>,
    pub org: String,
}

#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub id: i64,
    pub org: String,
    pub version: String,
    pub effective: Seconds,
    pub content_hash: String,
    /// The normalised source as canonical JSON.
    pub source: String,
    pub published_at: Seconds,
}

#[derive(Debug, Clone)]
pub struct CollectionRow {
    pub id: i64,
    pub org: String,
    pub file: String,
    pub file_hash: String,
    pub notice: i64,
    pub mapping: String,
    /// Names of the stored field columns, in the order of each record's `fields`.
    pub columns: Vec<String>,
    /// Data category key of each stored column.
    pub categories: Vec<String>,
    pub at: Seconds,
    pub rows: i64,
}

/// What became of a record offered to [`Store::insert_records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    Stored,
    /// Its subject is already held, from this collection (the id): a
    /// collection that gives the same subject twice.
    AlreadyHeld {
        collection: Option<i64>,
    },
}

pub struct NewRecord {
    pub subject: String,
    pub collected_at: Seconds,
    pub consented: u64,
    /// JSON array of strings aligned with the collection's columns.
    pub fields: String,
}

#[derive(Debug, Clone)]
pub struct PreferenceRow {
    pub record: i64,
    /// The time the event claims.
    pub at: Seconds,
    pub action: String,
    pub purpose: Option<String>,
    pub notice: Option<i64>,
    pub source: String,
    /// When it was recorded, by the log's clock (microseconds); None for
    /// events recorded before the store kept it.
    pub recorded: Option<i64>,
}

/// The newest record an organisation holds and the newest preference event
/// (anyone's), by id; 0 where there is none. Records and events are never
/// changed or deleted, so a copy of everything up to these ids is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HoldingsMarks {
    pub records: i64,
    pub events: i64,
}

/// A record an organisation holds, with the facts of its original collection.
pub struct HeldRecord<'a> {
    pub id: i64,
    pub subject: &'a str,
    /// The collection record: `id` itself when the holder collected it.
    pub origin: i64,
    pub notice: i64,
    pub collected_at: Seconds,
    pub consented: u64,
    pub collection: i64,
    pub fields: &'a str,
    /// For copies: the disclosure that delivered it.
    pub received_via: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: i64,
    pub org: String,
    pub subject: String,
    pub origin: Option<i64>,
    pub notice: Option<i64>,
    pub collection: Option<i64>,
    pub at: Seconds,
    pub consented: u64,
    pub fields: Option<String>,
    pub received_via: Option<i64>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DisclosureRow {
    pub id: i64,
    pub from_org: String,
    pub to_org: String,
    pub on_behalf_of: Option<String>,
    pub at: Seconds,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub basis: Option<String>,
    /// true: decided record by record by custody; false: imported history.
    pub gated: bool,
    pub note: Option<String>,
    pub requested: i64,
    pub allowed: i64,
    pub refused: i64,
    pub not_held: i64,
    pub created_at: Seconds,
    /// When it was recorded, by the log's clock (microseconds); None for
    /// disclosures recorded before the store kept it.
    pub recorded: Option<i64>,
}

/// A stored decision; `reasons` is None for imported history (disclosed, never decided).
#[derive(Debug, Clone, Copy)]
pub struct DecisionRow {
    pub disclosure: i64,
    pub record: i64,
    pub reasons: Option<u32>,
}

/// Log entries to append, in order, in one flat buffer: a million decisions
/// are one allocation, not a million.
#[derive(Debug, Default, Clone)]
pub struct EntryBatch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl EntryBatch {
    /// Appends one entry written by `f` into the buffer.
    pub fn push_with<E>(
        &mut self,
        f: impl FnOnce(&mut Vec<u8>) -> std::result::Result<(), E>,
    ) -> std::result::Result<&[u8], E> {
        let start = self.bytes.len();
        if let Err(e) = f(&mut self.bytes) {
            self.bytes.truncate(start);
            return Err(e);
        }
        self.ends.push(self.bytes.len());
        Ok(&self.bytes[start..])
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| &self.bytes[a..b])
    }
}

/// A stored record, with the notice of the collection record it descends
/// from (None for a record collected by its holder, or an origin missing):
/// what `log verify` reads to bind each record to its entry.
#[derive(Debug, Clone)]
pub struct RecordWithOrigin {
    pub row: RecordRow,
    pub origin_notice: Option<i64>,
}

/// The reads both dialects share as one text: `$n` parameters mean the same
/// in SQLite and PostgreSQL.
mod shared_sql {
    macro_rules! records_page {
        ($which:literal) => {
            concat!(
                "SELECT r.id, r.org, r.subject, r.origin, r.notice, r.collection, r.at, r.consented, \
                        r.fields, r.received_via, o.notice \
                 FROM records r LEFT JOIN records o ON o.id = r.origin \
                 WHERE r.id > $1 AND ",
                $which,
                " ORDER BY r.id LIMIT $3"
            )
        };
    }
    /// Every organisation's records ($2 is NULL).
    pub(crate) const RECORDS_PAGE: &str = records_page!("CAST($2 AS TEXT) IS NULL");
    /// One organisation's: by its index, not a walk of everyone's.
    pub(crate) const RECORDS_PAGE_OF: &str = records_page!("r.org = $2");
    pub(crate) const PREFERENCES_PAGE: &str =
        "SELECT record, at, action, purpose, notice, source, recorded, id FROM preferences \
         WHERE id > $1 ORDER BY id LIMIT $2";
    macro_rules! state_counts {
        ($decided:literal, $history:literal) => {
            concat!(
                "SELECT (SELECT count(*) FROM orgs), (SELECT count(*) FROM terms), \
                        (SELECT count(*) FROM notices), \
                        (SELECT count(*) FROM records WHERE origin IS NULL), \
                        (SELECT count(*) FROM preferences), (SELECT count(*) FROM disclosures), ",
                $decided,
                ", ",
                $history
            )
        };
    }
    pub(crate) const STATE_COUNTS: &str = state_counts!(
        "(SELECT count(*) FROM decisions WHERE reasons IS NOT NULL)",
        "(SELECT count(*) FROM decisions WHERE reasons IS NULL)"
    );
    pub(crate) const FACT_COUNTS: &str = state_counts!("CAST(0 AS BIGINT)", "CAST(0 AS BIGINT)");
}
pub(crate) use shared_sql::PREFERENCES_PAGE;

/// The page of records [`Store::records_page`] reads.
pub(crate) fn records_page_sql(org: Option<&str>) -> &'static str {
    match org {
        Some(_) => shared_sql::RECORDS_PAGE_OF,
        None => shared_sql::RECORDS_PAGE,
    }
}

/// Which rows [`Store::state_counts`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Every table's.
    Whole,
    /// What a decision rests on: the decisions made are left at 0. Counting
    /// them is a scan of the largest table, and no decision reads them.
    Facts,
}

impl Tally {
    /// The query: one row of eight counts, in [`StateCounts`]' order.
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Tally::Whole => shared_sql::STATE_COUNTS,
            Tally::Facts => shared_sql::FACT_COUNTS,
        }
    }
}

/// An API key as stored: never the key itself, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// The public part of the key, by which it is found.
    pub id: String,
    /// The organisation it acts for; None for a regulator key.
    pub org: Option<String>,
    /// admin, collector, reader or regulator.
    pub role: String,
    /// SHA-256 of the whole key.
    pub hash: [u8; 32],
    pub created_at: Seconds,
    pub revoked_at: Option<Seconds>,
}

/// How many rows of each kind of logged state the store holds: the log must
/// hold one entry for each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StateCounts {
    pub orgs: u64,
    pub terms: u64,
    pub notices: u64,
    pub records_collected: u64,
    pub preferences: u64,
    pub disclosures: u64,
    pub decisions: u64,
    pub disclosed_history: u64,
}

impl StateCounts {
    /// The eight counts of [`Tally::sql`]'s row, in its order.
    pub(crate) fn from_row(n: [u64; 8]) -> StateCounts {
        let [orgs, terms, notices, records_collected, preferences, disclosures, decisions, disclosed_history] =
            n;
        StateCounts {
            orgs,
            terms,
            notices,
            records_collected,
            preferences,
            disclosures,
            decisions,
            disclosed_history,
        }
    }
}

pub trait Store {
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self) -> Result<()>;
    /// Inside a transaction: keeps every other connection from changing
    /// custody's state until it ends, so that a second connection reading
    /// meanwhile (the verification beside a disclosure) reads the state this
    /// one reads. SQLite's write lock, taken at `begin`, already does.
    fn hold_state(&mut self) -> Result<()>;
    /// Inside a transaction holding the state: a count that moves whenever
    /// a connection other than this one has changed the store since this
    /// connection last asked (and may move when none has). Equal answers of
    /// one connection: nothing but this connection wrote in between. What
    /// a writer verified stays verified while it holds (`log/vouch.rs`).
    fn outside_writes(&mut self) -> Result<u64>;
    /// A transaction that only reads, all of it one state, while writers
    /// go on: what a verification and the report it vouches for both read
    /// (the audit). Ended by `end_read`.
    fn begin_read(&self) -> Result<()>;
    fn end_read(&self) -> Result<()>;

    fn insert_org(&mut self, org: &Organisation) -> Result<()>;
    fn org(&self, id: &str) -> Result<Option<Organisation>>;
    fn orgs(&self) -> Result<Vec<Organisation>>;

    fn insert_term(&mut self, term: &StoredTerm) -> Result<()>;
    fn terms(&self) -> Result<Vec<StoredTerm>>;
    /// None until someone changes the defaults.
    fn explicit_purposes(&self) -> Result<Option<Vec<(String, String)>>>;
    fn set_explicit_purposes(&mut self, list: &[(String, String)]) -> Result<()>;

    fn insert_notice(&mut self, notice: &NoticeRow) -> Result<i64>;
    fn notices(&self, org: Option<&str>) -> Result<Vec<NoticeRow>>;

    fn collection_by_hash(&self, org: &str, file_hash: &str) -> Result<Option<CollectionRow>>;
    fn insert_collection(&mut self, c: &CollectionRow) -> Result<i64>;
    fn collections(&self, org: Option<&str>) -> Result<Vec<CollectionRow>>;
    fn set_collection_rows(&mut self, id: i64, rows: i64) -> Result<()>;
    /// Returns (inserted, already held). A subject the organisation already
    /// collected is left as it was. `heard` hears of each record with its
    /// position in `records` (from 0) and what became of it; of the records
    /// stored, in input order.
    fn insert_records(
        &mut self,
        org: &str,
        collection: i64,
        notice: i64,
        records: &mut dyn Iterator<Item = NewRecord>,
        heard: &mut dyn FnMut(usize, &NewRecord, Offered) -> Result<()>,
    ) -> Result<(u64, u64)>;

    /// The organisation's own collection record for a subject.
    fn collected(&self, org: &str, subject: &str) -> Result<Option<RecordRow>>;
    /// Every record an organisation holds for a subject (its own or copies).
    fn held(&self, org: &str, subject: &str) -> Result<Vec<RecordRow>>;
    fn record(&self, id: i64) -> Result<Option<RecordRow>>;
    fn copies_of(&self, origin: i64) -> Result<Vec<RecordRow>>;

    fn insert_preferences(&mut self, rows: &[PreferenceRow]) -> Result<()>;
    fn preferences_of(&self, record: i64) -> Result<Vec<PreferenceRow>>;
    /// Preference events of each of `records` that has any, in time order.
    fn preferences_of_records(&self, records: &[i64]) -> Result<HashMap<i64, Vec<PreferenceRow>>>;
    /// Preference events by record, in time order: at least those of the
    /// origins of every record `org` holds (an implementation may return more).
    fn preferences_held_by(&self, org: &str) -> Result<HashMap<i64, Vec<PreferenceRow>>>;

    /// Every record `org` holds, in id order.
    fn for_each_held(&self, org: &str, f: &mut dyn FnMut(&HeldRecord) -> Result<()>) -> Result<()>;
    /// Every record `org` holds with an id above `after`, in id order,
    /// without its fields (`fields` is `[]`): what a snapshot of the
    /// holdings reads to catch up.
    fn for_each_held_after(
        &self,
        org: &str,
        after: i64,
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()>;
    /// Every preference event with an id above `after`, in id order, with
    /// its id.
    fn for_each_preference_after(
        &self,
        after: i64,
        f: &mut dyn FnMut(i64, &PreferenceRow) -> Result<()>,
    ) -> Result<()>;
    /// How far a snapshot of `org`'s holdings must reach to be current.
    fn holdings_marks(&self, org: &str) -> Result<HoldingsMarks>;
    /// The records `org` holds (its own or copies) whose subject is one of
    /// `subjects`, in id order: what a disclosure of a few named records
    /// reads instead of every record held.
    fn for_each_held_of(
        &self,
        org: &str,
        subjects: &[&str],
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()>;

    fn insert_disclosure(&mut self, d: &DisclosureRow) -> Result<i64>;
    fn disclosure(&self, id: i64) -> Result<Option<DisclosureRow>>;
    /// Disclosures made by `org` (or all, with None), oldest first.
    fn disclosures(&self, from: Option<&str>) -> Result<Vec<DisclosureRow>>;
    fn insert_decisions(&mut self, rows: &mut dyn Iterator<Item = DecisionRow>) -> Result<u64>;
    fn for_each_decision(
        &self,
        disclosure: i64,
        f: &mut dyn FnMut(DecisionRow) -> Result<()>,
    ) -> Result<()>;
    /// Up to `limit` decisions of a disclosure with record ids above `after`, by record id.
    fn decisions_page(
        &self,
        disclosure: i64,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<DecisionRow>>;
    fn decisions_for(&self, record: i64) -> Result<Vec<DecisionRow>>;
    /// Up to `limit` records (any holder's) with ids above `after`, by id.
    /// Up to `limit` records (of `org`, or of everyone) with ids above
    /// `after`, by id, each with its origin's notice.
    fn records_page(
        &self,
        org: Option<&str>,
        after: i64,
        limit: u64,
    ) -> Result<Vec<RecordWithOrigin>>;
    /// Up to `limit` preference events with ids above `after`, by id, with their ids.
    fn preferences_page(&self, after: i64, limit: u64) -> Result<Vec<(i64, PreferenceRow)>>;
    /// Copies delivered to `org` by `disclosure`: (origin, subject). Existing copies are kept.
    fn insert_copies(
        &mut self,
        org: &str,
        disclosure: i64,
        at: Seconds,
        copies: &[(i64, String)],
    ) -> Result<u64>;

    fn setting(&self, key: &str) -> Result<Option<String>>;
    fn set_setting(&mut self, key: &str, value: &str) -> Result<()>;
    fn org_secret(&self, org: &str) -> Result<Option<[u8; 32]>>;
    fn insert_org_secret(&mut self, org: &str, secret: &[u8; 32]) -> Result<()>;
    fn state_counts(&self, tally: Tally) -> Result<StateCounts>;

    // API keys of the HTTP server (hashes only; not logged: access control,
    // not custody state).
    fn insert_api_key(&mut self, key: &ApiKeyRow) -> Result<()>;
    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>>;
    /// Keys of one organisation (regulator keys with None), oldest first.
    fn api_keys(&self, org: Option<&str>) -> Result<Vec<ApiKeyRow>>;
    /// Marks a key revoked; false if there is no such key.
    fn revoke_api_key(&mut self, id: &str, at: Seconds) -> Result<bool>;

    // The transparency log: entries, tiles, signed checkpoints.
    fn log_size(&self) -> Result<u64>;
    /// Appends `batch` at indexes `first..`; `first` must be the current size.
    fn append_log(&mut self, first: u64, batch: &EntryBatch) -> Result<()>;
    fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>>;
    /// Every stored entry from `from` on, in index order, with the index it is stored at.
    fn for_each_log_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()>;
    /// Entries about one person (see `custody_core::entry::subject_of`), in index order.
    fn log_entries_about(&self, subject: &[u8; 32]) -> Result<Vec<(u64, Vec<u8>)>>;
    fn log_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>>;
    /// Inserts or replaces tiles (a partial tile grows in place).
    fn put_log_tiles(&mut self, tiles: &[(u8, u64, Vec<u8>)]) -> Result<()>;
    fn insert_checkpoint(&mut self, size: u64, note: &str, at: Seconds) -> Result<()>;
    /// Every signed checkpoint, smallest first.
    fn checkpoints(&self) -> Result<Vec<(u64, String)>>;
    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>>;
    /// The checkpoint signed for exactly `size` entries, if one was.
    fn checkpoint_of_size(&self, size: u64) -> Result<Option<String>>;
    /// Every signed checkpoint's size and when it was signed, smallest first:
    /// the log's growth, without the notes.
    fn checkpoint_times(&self) -> Result<Vec<(u64, Seconds)>>;
}

/// Run `f` in one transaction: all of it lands, or none of it.
pub fn atomic<S, T, E>(
    store: &mut S,
    f: impl FnOnce(&mut S) -> std::result::Result<T, E>,
) -> std::result::Result<T, E>
where
    S: Store + ?Sized,
    E: From<StoreError>,
{
    store.begin()?;
    match f(store) {
        Ok(v) => {
            store.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = store.rollback();
            Err(e)
        }
    }
}
