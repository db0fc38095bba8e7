//! [`AnyStore`]: the store `--db` names, SQLite or PostgreSQL, behind one
//! type, so that the engine and the commands are compiled once and not once
//! per backend.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use custody_core::Organisation;

use crate::*;

// One per connection, never in bulk: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    /// Whether `db` names a PostgreSQL database rather than a SQLite file.
    pub fn is_postgres(db: &str) -> bool {
        db.starts_with("postgres://") || db.starts_with("postgresql://")
    }

    /// A `postgres://` or `postgresql://` URL opens PostgreSQL; anything
    /// else is the path of a SQLite file.
    pub fn open(db: &str) -> Result<AnyStore> {
        if Self::is_postgres(db) {
            Ok(AnyStore::Postgres(PostgresStore::open(db)?))
        } else {
            Ok(AnyStore::Sqlite(SqliteStore::open(Path::new(db))?))
        }
    }

    /// How to name `db` to a person: a file path as it is, a URL without its
    /// password (or anything else but host, port, user and database).
    pub fn location(db: &str) -> String {
        if Self::is_postgres(db) {
            crate::postgres::location(db)
        } else {
            db.to_string()
        }
    }

    /// The database this store is open on, as [`AnyStore::location`] shows it.
    pub fn describe(&self) -> String {
        match self {
            AnyStore::Sqlite(s) => s
                .path()
                .map_or_else(|| ":memory:".into(), |p| p.display().to_string()),
            AnyStore::Postgres(p) => p.location().to_string(),
        }
    }
}

impl fmt::Display for AnyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => {
                let r = $call;
                r.map_err(|e| $s.explain(e))
            }
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl Store for AnyStore {
    fn begin(&mut self) -> Result<()> {
        delegate!(self, s => s.begin())
    }

    fn commit(&mut self) -> Result<()> {
        delegate!(self, s => s.commit())
    }

    fn rollback(&mut self) -> Result<()> {
        delegate!(self, s => s.rollback())
    }

    fn hold_state(&mut self) -> Result<()> {
        delegate!(self, s => s.hold_state())
    }

    fn outside_writes(&mut self) -> Result<u64> {
        delegate!(self, s => s.outside_writes())
    }

    fn begin_read(&self) -> Result<()> {
        delegate!(self, s => s.begin_read())
    }

    fn end_read(&self) -> Result<()> {
        delegate!(self, s => s.end_read())
    }

    fn insert_org(&mut self, org: &Organisation) -> Result<()> {
        delegate!(self, s => s.insert_org(org))
    }

    fn org(&self, id: &str) -> Result<Option<Organisation>> {
        delegate!(self, s => s.org(id))
    }

    fn orgs(&self) -> Result<Vec<Organisation>> {
        delegate!(self, s => s.orgs())
    }

    fn insert_term(&mut self, term: &StoredTerm) -> Result<()> {
        delegate!(self, s => s.insert_term(term))
    }

    fn terms(&self) -> Result<Vec<StoredTerm>> {
        delegate!(self, s => s.terms())
    }

    fn explicit_purposes(&self) -> Result<Option<Vec<(String, String)>>> {
        delegate!(self, s => s.explicit_purposes())
    }

    fn set_explicit_purposes(&mut self, list: &[(String, String)]) -> Result<()> {
        delegate!(self, s => s.set_explicit_purposes(list))
    }

    fn insert_notice(&mut self, notice: &NoticeRow) -> Result<i64> {
        delegate!(self, s => s.insert_notice(notice))
    }

    fn notices(&self, org: Option<&str>) -> Result<Vec<NoticeRow>> {
        delegate!(self, s => s.notices(org))
    }

    fn collection_by_hash(&self, org: &str, file_hash: &str) -> Result<Option<CollectionRow>> {
        delegate!(self, s => s.collection_by_hash(org, file_hash))
    }

    fn insert_collection(&mut self, c: &CollectionRow) -> Result<i64> {
        delegate!(self, s => s.insert_collection(c))
    }

    fn collections(&self, org: Option<&str>) -> Result<Vec<CollectionRow>> {
        delegate!(self, s => s.collections(org))
    }

    fn set_collection_rows(&mut self, id: i64, rows: i64) -> Result<()> {
        delegate!(self, s => s.set_collection_rows(id, rows))
    }

    fn insert_records(
        &mut self,
        org: &str,
        collection: i64,
        notice: i64,
        records: &mut dyn Iterator<Item = NewRecord>,
        inserted: &mut dyn FnMut(usize, &NewRecord, Offered) -> Result<()>,
    ) -> Result<(u64, u64)> {
        delegate!(self, s => s.insert_records(org, collection, notice, records, inserted))
    }

    fn collected(&self, org: &str, subject: &str) -> Result<Option<RecordRow>> {
        delegate!(self, s => s.collected(org, subject))
    }

    fn held(&self, org: &str, subject: &str) -> Result<Vec<RecordRow>> {
        delegate!(self, s => s.held(org, subject))
    }

    fn record(&self, id: i64) -> Result<Option<RecordRow>> {
        delegate!(self, s => s.record(id))
    }

    fn copies_of(&self, origin: i64) -> Result<Vec<RecordRow>> {
        delegate!(self, s => s.copies_of(origin))
    }

    fn insert_preferences(&mut self, rows: &[PreferenceRow]) -> Result<()> {
        delegate!(self, s => s.insert_preferences(rows))
    }

    fn preferences_of(&self, record: i64) -> Result<Vec<PreferenceRow>> {
        delegate!(self, s => s.preferences_of(record))
    }

    fn preferences_held_by(&self, org: &str) -> Result<HashMap<i64, Vec<PreferenceRow>>> {
        delegate!(self, s => s.preferences_held_by(org))
    }

    fn for_each_held_of(
        &self,
        org: &str,
        subjects: &[&str],
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        delegate!(self, s => s.for_each_held_of(org, subjects, f))
    }

    fn preferences_of_records(&self, records: &[i64]) -> Result<HashMap<i64, Vec<PreferenceRow>>> {
        delegate!(self, s => s.preferences_of_records(records))
    }

    fn for_each_held(&self, org: &str, f: &mut dyn FnMut(&HeldRecord) -> Result<()>) -> Result<()> {
        delegate!(self, s => s.for_each_held(org, f))
    }

    fn for_each_held_after(
        &self,
        org: &str,
        after: i64,
        f: &mut dyn FnMut(&HeldRecord) -> Result<()>,
    ) -> Result<()> {
        delegate!(self, s => s.for_each_held_after(org, after, f))
    }

    fn for_each_preference_after(
        &self,
        after: i64,
        f: &mut dyn FnMut(i64, &PreferenceRow) -> Result<()>,
    ) -> Result<()> {
        delegate!(self, s => s.for_each_preference_after(after, f))
    }

    fn holdings_marks(&self, org: &str) -> Result<HoldingsMarks> {
        delegate!(self, s => s.holdings_marks(org))
    }

    fn insert_disclosure(&mut self, d: &DisclosureRow) -> Result<i64> {
        delegate!(self, s => s.insert_disclosure(d))
    }

    fn disclosure(&self, id: i64) -> Result<Option<DisclosureRow>> {
        delegate!(self, s => s.disclosure(id))
    }

    fn disclosures(&self, from: Option<&str>) -> Result<Vec<DisclosureRow>> {
        delegate!(self, s => s.disclosures(from))
    }

    fn insert_decisions(&mut self, rows: &mut dyn Iterator<Item = DecisionRow>) -> Result<u64> {
        delegate!(self, s => s.insert_decisions(rows))
    }

    fn for_each_decision(
        &self,
        disclosure: i64,
        f: &mut dyn FnMut(DecisionRow) -> Result<()>,
    ) -> Result<()> {
        delegate!(self, s => s.for_each_decision(disclosure, f))
    }

    fn decisions_page(
        &self,
        disclosure: i64,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<DecisionRow>> {
        delegate!(self, s => s.decisions_page(disclosure, after, limit))
    }

    fn decisions_for(&self, record: i64) -> Result<Vec<DecisionRow>> {
        delegate!(self, s => s.decisions_for(record))
    }

    fn records_page(
        &self,
        org: Option<&str>,
        after: i64,
        limit: u64,
    ) -> Result<Vec<RecordWithOrigin>> {
        delegate!(self, s => s.records_page(org, after, limit))
    }

    fn preferences_page(&self, after: i64, limit: u64) -> Result<Vec<(i64, PreferenceRow)>> {
        delegate!(self, s => s.preferences_page(after, limit))
    }

    fn insert_copies(
        &mut self,
        org: &str,
        disclosure: i64,
        at: Seconds,
        copies: &[(i64, String)],
    ) -> Result<u64> {
        delegate!(self, s => s.insert_copies(org, disclosure, at, copies))
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        delegate!(self, s => s.setting(key))
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        delegate!(self, s => s.set_setting(key, value))
    }

    fn org_secret(&self, org: &str) -> Result<Option<[u8; 32]>> {
        delegate!(self, s => s.org_secret(org))
    }

    fn insert_org_secret(&mut self, org: &str, secret: &[u8; 32]) -> Result<()> {
        delegate!(self, s => s.insert_org_secret(org, secret))
    }

    fn state_counts(&self, tally: Tally) -> Result<StateCounts> {
        delegate!(self, s => s.state_counts(tally))
    }

    fn insert_api_key(&mut self, key: &ApiKeyRow) -> Result<()> {
        delegate!(self, s => s.insert_api_key(key))
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>> {
        delegate!(self, s => s.api_key(id))
    }

    fn api_keys(&self, org: Option<&str>) -> Result<Vec<ApiKeyRow>> {
        delegate!(self, s => s.api_keys(org))
    }

    fn revoke_api_key(&mut self, id: &str, at: Seconds) -> Result<bool> {
        delegate!(self, s => s.revoke_api_key(id, at))
    }

    fn log_size(&self) -> Result<u64> {
        delegate!(self, s => s.log_size())
    }

    fn append_log(&mut self, first: u64, batch: &EntryBatch) -> Result<()> {
        delegate!(self, s => s.append_log(first, batch))
    }

    fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        delegate!(self, s => s.log_entry(index))
    }

    fn for_each_log_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        delegate!(self, s => s.for_each_log_entry(from, f))
    }

    fn log_entries_about(&self, subject: &[u8; 32]) -> Result<Vec<(u64, Vec<u8>)>> {
        delegate!(self, s => s.log_entries_about(subject))
    }

    fn log_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        delegate!(self, s => s.log_tile(level, index))
    }

    fn put_log_tiles(&mut self, tiles: &[(u8, u64, Vec<u8>)]) -> Result<()> {
        delegate!(self, s => s.put_log_tiles(tiles))
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, at: Seconds) -> Result<()> {
        delegate!(self, s => s.insert_checkpoint(size, note, at))
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>> {
        delegate!(self, s => s.checkpoints())
    }

    fn checkpoint_of_size(&self, size: u64) -> Result<Option<String>> {
        delegate!(self, s => s.checkpoint_of_size(size))
    }

    fn checkpoint_times(&self) -> Result<Vec<(u64, Seconds)>> {
        delegate!(self, s => s.checkpoint_times())
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        delegate!(self, s => s.latest_checkpoint())
    }
}
