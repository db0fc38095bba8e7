//! Every stored row bound to its log entry. `log verify` walks the log once;
//! for each entry it re-derives the row the entry must have produced and
//! compares it, column by column, with the row the store holds, so that a
//! row edited, deleted or added behind custody's back is named (table, key,
//! field, logged value, stored value) however the counts fall.
//!
//! How rows meet their entries, in bounded memory however long the log:
//! - records and preference events are appended in log order, so the store's
//!   rows in id order meet the record-making entries (a collected record, or
//!   the first allowed decision or imported disclosure that gave a holder a
//!   copy) and the event entries in log order, a page at a time;
//! - a disclosure's decisions are gathered from its entries and compared
//!   with its stored decisions in record order, one disclosure at a time;
//! - organisations, terms, the explicit purposes, notices (their content hash
//!   recomputed from the stored source), collections and disclosures are
//!   few, and compared whole at the end.
//!
//! Memory: the small tables, the largest disclosure's decisions (16 bytes
//! each) and one key per copy made (which holder, which origin).
//!
//! Bound for one organisation ([`Binder::facts_of`]), it checks only what a
//! decision about that organisation's records rests on (issue 13, point 2):
//! its records and copies, every preference event (an event at a collector
//! follows its record's copies), and the small tables whole; not the
//! decisions made, nor other holders' records. [`Binder::concerns`] says
//! which entries those are; the verification still hashes every entry,
//! since an entry's kind is only known once its bytes hash to its leaf.

use std::collections::BTreeMap;
use std::fmt::Display;

use custody_core::entry::{Entry, RecordRef, SubjectKey};
use custody_store::{PreferenceRow, RecordWithOrigin, Store};
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Rows read from the store per page.
const PAGE: u64 = 4096;

/// A difference between a stored row and its entry, in words.
fn differs(table: &str, key: impl Display, field: &str, logged: String, stored: String) -> Error {
    Error::Log(format!(
        "the store's {table} row {key} differs from its log entry in `{field}`: \
         the log says {logged}, the store holds {stored}"
    ))
}

fn unlogged(table: &str, key: impl Display) -> Error {
    Error::Log(format!(
        "the store's {table} row {key} has no log entry: it was added behind custody's back"
    ))
}

fn missing(table: &str, key: impl Display, index: u64) -> Error {
    Error::Log(format!(
        "log entry {index} records {table} row {key}, which the store no longer holds: it was deleted"
    ))
}

/// A value as a message shows it.
trait Shown {
    fn shown(&self) -> String;
}

impl Shown for String {
    fn shown(&self) -> String {
        format!("`{self}`")
    }
}
impl Shown for i64 {
    fn shown(&self) -> String {
        self.to_string()
    }
}
impl Shown for u64 {
    fn shown(&self) -> String {
        self.to_string()
    }
}
impl Shown for u32 {
    fn shown(&self) -> String {
        self.to_string()
    }
}
impl Shown for bool {
    fn shown(&self) -> String {
        if *self { "yes" } else { "no" }.into()
    }
}
impl Shown for [u8; 32] {
    fn shown(&self) -> String {
        hex::encode(self)
    }
}
impl Shown for Vec<String> {
    fn shown(&self) -> String {
        format!("[{}]", self.join(", "))
    }
}
impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> String {
        self.as_ref().map_or_else(|| "nothing".into(), Shown::shown)
    }
}

/// One row compared with its entry, field by field.
struct Compare<'a> {
    table: &'a str,
    key: String,
}

impl Compare<'_> {
    fn field<T: PartialEq + Shown>(&self, name: &str, logged: &T, stored: &T) -> Result<()> {
        if logged == stored {
            return Ok(());
        }
        Err(differs(
            self.table,
            &self.key,
            name,
            logged.shown(),
            stored.shown(),
        ))
    }
}

fn compare(table: &str, key: impl Display) -> Compare<'_> {
    Compare {
        table,
        key: key.to_string(),
    }
}

/// A disclosure as its entry has it, for its decisions and its copies.
struct LoggedDisclosure {
    entry: Entry,
    index: u64,
    recorded: Option<i64>,
}

/// The decisions of one disclosure gathered from the log.
struct Decisions {
    disclosure: i64,
    /// (record, reasons; None for imported history, which was never decided).
    rows: Vec<(i64, Option<u32>)>,
}

pub(crate) struct Binder<'s, S: Store> {
    store: &'s S,
    /// The organisation whose facts alone are bound; None: everything.
    scope: Option<String>,
    keys: FxHashMap<String, SubjectKey>,
    orgs: BTreeMap<String, (Entry, u64)>,
    terms: BTreeMap<String, (Entry, u64)>,
    explicit: Option<(Entry, u64)>,
    notices: BTreeMap<i64, (Entry, u64)>,
    collections: BTreeMap<i64, (Entry, u64)>,
    disclosures: BTreeMap<i64, LoggedDisclosure>,
    records: Page<RecordWithOrigin>,
    preferences: Page<(i64, PreferenceRow)>,
    decisions: Option<Decisions>,
    decided: FxHashSet<i64>,
    decision_rows: u64,
    /// (holder, origin) of every copy made so far: a later allowed
    /// decision to the same holder makes none.
    copies: FxHashSet<(String, i64)>,
}

/// Rows of one table in id order, read a page at a time.
struct Page<T> {
    rows: std::vec::IntoIter<T>,
    after: i64,
    done: bool,
}

impl<T> Page<T> {
    fn new() -> Page<T> {
        Page {
            rows: Vec::new().into_iter(),
            after: i64::MIN,
            done: false,
        }
    }

    fn next(
        &mut self,
        read: impl FnOnce(i64) -> Result<Vec<T>>,
        id: impl Fn(&T) -> i64,
    ) -> Result<Option<T>> {
        if let Some(row) = self.rows.next() {
            self.after = id(&row);
            return Ok(Some(row));
        }
        if self.done {
            return Ok(None);
        }
        let page = read(self.after)?;
        self.done = (page.len() as u64) < PAGE;
        self.rows = page.into_iter();
        match self.rows.next() {
            Some(row) => {
                self.after = id(&row);
                Ok(Some(row))
            }
            None => Ok(None),
        }
    }
}

impl<'s, S: Store> Binder<'s, S> {
    /// Binds every row.
    pub(crate) fn new(store: &'s S) -> Result<Binder<'s, S>> {
        Self::scoped(store, None)
    }

    /// Binds what decisions about `org`'s records rest on.
    pub(crate) fn facts_of(store: &'s S, org: &str) -> Result<Binder<'s, S>> {
        Self::scoped(store, Some(org.to_string()))
    }

    fn scoped(store: &'s S, scope: Option<String>) -> Result<Binder<'s, S>> {
        let mut keys = FxHashMap::default();
        for org in store.orgs()? {
            if let Some(key) = crate::log::commitment::existing_key(store, &org.id)? {
                keys.insert(org.id, key);
            }
        }
        Ok(Binder {
            store,
            scope,
            keys,
            orgs: BTreeMap::new(),
            terms: BTreeMap::new(),
            explicit: None,
            notices: BTreeMap::new(),
            collections: BTreeMap::new(),
            disclosures: BTreeMap::new(),
            records: Page::new(),
            preferences: Page::new(),
            decisions: None,
            decided: FxHashSet::default(),
            decision_rows: 0,
            copies: FxHashSet::default(),
        })
    }

    /// Whether `entry` makes a row this binder binds: all do, unless it is
    /// bound for one organisation, whose decisions rest on neither other
    /// holders' records nor any decision made.
    fn concerns(&self, entry: &Entry) -> bool {
        let Some(scope) = &self.scope else {
            return true;
        };
        // A copy for it (or for a disclosure no entry records, which
        // binding then reports).
        let copies_for_scope = |d: &u64| self.recipient(*d as i64).is_none_or(|to| to == scope);
        match entry {
            Entry::RecordCollected { org, .. } => org == scope,
            Entry::Decided {
                disclosure,
                reasons,
                ..
            } => *reasons == 0 && copies_for_scope(disclosure),
            Entry::Disclosed { disclosure, .. } => copies_for_scope(disclosure),
            _ => true,
        }
    }

    /// The organisation disclosure `id` went to, if an earlier entry
    /// records it.
    fn recipient(&self, id: i64) -> Option<&String> {
        match self.disclosures.get(&id) {
            Some(LoggedDisclosure {
                entry: Entry::DisclosureRecorded { to, .. },
                ..
            }) => Some(to),
            _ => None,
        }
    }

    /// Takes entry `index` in log order, recorded at `recorded`.
    pub(crate) fn entry(&mut self, index: u64, entry: Entry, recorded: Option<i64>) -> Result<()> {
        if !self.concerns(&entry) {
            return Ok(());
        }
        match &entry {
            Entry::OrgAdded { org, .. } => {
                self.orgs.insert(org.clone(), (entry, index));
            }
            Entry::TermAdded { key, .. } => {
                self.terms.insert(key.clone(), (entry, index));
            }
            Entry::ExplicitPurposesSet { .. } => self.explicit = Some((entry, index)),
            Entry::NoticePublished { notice, .. } => {
                self.notices.insert(*notice as i64, (entry, index));
            }
            Entry::CollectionRecorded { collection, .. } => {
                self.collections.insert(*collection as i64, (entry, index));
            }
            Entry::RecordCollected { .. } => self.collected(index, &entry)?,
            Entry::PreferenceRecorded { .. } => self.preference(index, &entry, recorded)?,
            Entry::DisclosureRecorded { disclosure, .. } => {
                self.flush_decisions()?;
                let id = *disclosure as i64;
                self.disclosures.insert(
                    id,
                    LoggedDisclosure {
                        entry,
                        index,
                        recorded,
                    },
                );
            }
            Entry::Decided {
                disclosure,
                reasons,
                record,
                subject,
                ..
            } => {
                let reasons = Some(*reasons);
                self.decision(index, *disclosure as i64, record.as_ref(), reasons, subject)?
            }
            Entry::Disclosed {
                disclosure,
                record,
                subject,
                ..
            } => self.decision(index, *disclosure as i64, record.as_ref(), None, subject)?,
        }
        Ok(())
    }

    fn next_record(&mut self) -> Result<Option<RecordWithOrigin>> {
        let (store, scope) = (self.store, self.scope.as_deref());
        self.records.next(
            |after| Ok(store.records_page(scope, after, PAGE)?),
            |r| r.row.id,
        )
    }

    fn commit(&self, org: &str, subject: &str) -> Option<[u8; 32]> {
        self.keys.get(org).map(|k| k.commit(subject))
    }

    fn collected(&mut self, index: u64, entry: &Entry) -> Result<()> {
        let Entry::RecordCollected {
            at,
            subject,
            org,
            collection,
            notice,
            consented,
            fields,
        } = entry
        else {
            unreachable!("called for record-collected entries")
        };
        let Some(stored) = self.next_record()? else {
            return Err(missing("records", "collected by this entry", index));
        };
        let r = &stored.row;
        let c = compare("records", r.id);
        c.field("org", org, &r.org)?;
        c.field("origin", &None, &r.origin)?;
        c.field("subject", &Some(*subject), &self.commit(&r.org, &r.subject))?;
        c.field("collection", &Some(*collection as i64), &r.collection)?;
        c.field("notice", &Some(*notice as i64), &r.notice)?;
        c.field("at", at, &r.at)?;
        c.field("consented", consented, &r.consented)?;
        let digest = self
            .keys
            .get(&r.org)
            .zip(r.fields.as_ref())
            .map(|(k, f)| k.digest_fields(f));
        c.field("fields", fields, &digest)?;
        c.field("received_via", &None, &r.received_via)
    }

    fn preference(&mut self, index: u64, entry: &Entry, recorded: Option<i64>) -> Result<()> {
        let Entry::PreferenceRecorded {
            at,
            action,
            purpose,
            notice,
            record,
            source,
            ..
        } = entry
        else {
            unreachable!("called for preference-recorded entries")
        };
        let store = self.store;
        let Some((id, p)) = self
            .preferences
            .next(|after| Ok(store.preferences_page(after, PAGE)?), |r| r.0)?
        else {
            return Err(missing("preferences", "made by this entry", index));
        };
        let c = compare("preferences", id);
        c.field("record", &record.map(|r| r as i64), &Some(p.record))?;
        c.field("at", at, &p.at)?;
        c.field("action", action, &p.action)?;
        c.field("purpose", purpose, &p.purpose)?;
        c.field("notice", &notice.map(|n| n as i64), &p.notice)?;
        c.field("source", source, &Some(p.source.clone()))?;
        c.field("recorded", &recorded, &p.recorded)
    }

    fn decision(
        &mut self,
        index: u64,
        disclosure: i64,
        record: Option<&RecordRef>,
        reasons: Option<u32>,
        subject: &[u8; 32],
    ) -> Result<()> {
        let record = record.expect("version-2 entries name their record");
        if self.scope.is_some() {
            // Only the copies it makes for the organisation bound.
            if reasons.is_none_or(|r| r == 0) {
                self.copy(index, disclosure, record, subject)?;
            }
            return Ok(());
        }
        if self.decisions.as_ref().map(|d| d.disclosure) != Some(disclosure) {
            self.flush_decisions()?;
            if !self.decided.insert(disclosure) {
                return Err(Error::Log(format!(
                    "log entry {index} decides for disclosure {disclosure} apart from its other decisions"
                )));
            }
            self.decisions = Some(Decisions {
                disclosure,
                rows: Vec::new(),
            });
        }
        let d = self.decisions.as_mut().expect("just made");
        d.rows.push((record.record as i64, reasons));
        if reasons.is_none_or(|r| r == 0) {
            self.copy(index, disclosure, record, subject)?;
        }
        Ok(())
    }

    /// The recipient's copy an allowed decision (or imported disclosure)
    /// made, unless the recipient already held one of that origin.
    fn copy(
        &mut self,
        index: u64,
        disclosure: i64,
        record: &RecordRef,
        subject: &[u8; 32],
    ) -> Result<()> {
        let Some(LoggedDisclosure {
            entry: Entry::DisclosureRecorded { to, at, .. },
            ..
        }) = self.disclosures.get(&disclosure)
        else {
            return Err(Error::Log(format!(
                "log entry {index} decides for disclosure {disclosure}, which no earlier entry records"
            )));
        };
        let (to, at) = (to.clone(), *at);
        if !self.copies.insert((to.clone(), record.origin as i64)) {
            return Ok(());
        }
        let Some(stored) = self.next_record()? else {
            return Err(missing("records", "copied by this entry", index));
        };
        let r = &stored.row;
        let c = compare("records", r.id);
        c.field("org", &to, &r.org)?;
        c.field("origin", &Some(record.origin as i64), &r.origin)?;
        c.field("received_via", &Some(disclosure), &r.received_via)?;
        c.field("at", &at, &r.at)?;
        let collector = stored
            .origin_notice
            .and_then(|n| self.notices.get(&n))
            .and_then(|(e, _)| match e {
                Entry::NoticePublished { org, .. } => Some(org.clone()),
                _ => None,
            });
        let commitment = collector.and_then(|org| self.commit(&org, &r.subject));
        c.field("subject", &Some(*subject), &commitment)?;
        c.field("notice", &None, &r.notice)?;
        c.field("collection", &None, &r.collection)?;
        c.field("consented", &0, &r.consented)?;
        c.field("fields", &None, &r.fields)
    }

    /// Compares the decisions gathered for one disclosure with the stored
    /// ones, in record order.
    fn flush_decisions(&mut self) -> Result<()> {
        let Some(Decisions {
            disclosure,
            mut rows,
        }) = self.decisions.take()
        else {
            return Ok(());
        };
        rows.sort_unstable_by_key(|r| r.0);
        self.compare_decisions(disclosure, &rows)
    }

    fn compare_decisions(&mut self, disclosure: i64, logged: &[(i64, Option<u32>)]) -> Result<()> {
        let table = "decisions";
        let mut logged = logged.iter();
        let mut after = None;
        loop {
            let page = self.store.decisions_page(disclosure, after, PAGE)?;
            for row in &page {
                let key = format!("(disclosure {disclosure}, record {})", row.record);
                match logged.next() {
                    Some((record, _)) if *record < row.record => {
                        let key = format!("(disclosure {disclosure}, record {record})");
                        return Err(Error::Log(format!(
                            "the log records {table} row {key}, which the store no longer holds: it was deleted"
                        )));
                    }
                    Some((record, reasons)) if *record == row.record => {
                        compare(table, &key).field("reasons", reasons, &row.reasons)?;
                    }
                    _ => return Err(unlogged(table, key)),
                }
                self.decision_rows += 1;
            }
            after = page.last().map(|r| r.record);
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        if let Some((record, _)) = logged.next() {
            return Err(Error::Log(format!(
                "the log records {table} row (disclosure {disclosure}, record {record}), \
                 which the store no longer holds: it was deleted"
            )));
        }
        Ok(())
    }

    /// After the last entry: rows the log never made, and the small tables.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.flush_decisions()?;
        if let Some(r) = self.next_record()? {
            return Err(unlogged("records", r.row.id));
        }
        let store = self.store;
        if let Some((id, _)) = self
            .preferences
            .next(|after| Ok(store.preferences_page(after, PAGE)?), |r| r.0)?
        {
            return Err(unlogged("preferences", id));
        }
        if self.scope.is_none() {
            self.all_decisions_logged()?;
        }
        self.orgs()?;
        self.terms()?;
        self.explicit()?;
        self.notices()?;
        self.collections()?;
        self.disclosures()
    }

    /// No decision without its entry: those of disclosures with no decision
    /// logged, and those of disclosures the log does not record.
    fn all_decisions_logged(&mut self) -> Result<()> {
        let undecided: Vec<i64> = self
            .disclosures
            .keys()
            .filter(|d| !self.decided.contains(d))
            .copied()
            .collect();
        for d in undecided {
            self.compare_decisions(d, &[])?;
        }
        let counts = self.store.state_counts(custody_store::Tally::Whole)?;
        let stored = counts.decisions + counts.disclosed_history;
        if stored != self.decision_rows {
            return Err(Error::Log(format!(
                "the store holds {stored} decisions but {} belong to disclosures the log records: \
                 decisions were added for a disclosure that does not exist",
                self.decision_rows
            )));
        }
        Ok(())
    }

    fn orgs(&self) -> Result<()> {
        let stored = self.store.orgs()?;
        for o in &stored {
            let Some((
                Entry::OrgAdded {
                    name,
                    role,
                    categories,
                    ..
                },
                _,
            )) = self.orgs.get(&o.id)
            else {
                return Err(unlogged("orgs", &o.id));
            };
            let c = compare("orgs", &o.id);
            c.field("name", name, &o.name)?;
            c.field("role", role, &o.role.as_str().to_string())?;
            let cats: Vec<String> = o.categories.iter().map(|c| c.as_str().into()).collect();
            c.field("categories", categories, &Some(cats))?;
        }
        absent("orgs", &self.orgs, stored.iter().map(|o| o.id.clone()))
    }

    fn terms(&self) -> Result<()> {
        let stored = self.store.terms()?;
        for t in &stored {
            let Some((
                Entry::TermAdded {
                    org,
                    kind,
                    parents,
                    label,
                    definition,
                    ..
                },
                _,
            )) = self.terms.get(&t.key)
            else {
                return Err(unlogged("terms", &t.key));
            };
            let c = compare("terms", &t.key);
            c.field("org", org, &t.org)?;
            c.field("kind", kind, &t.kind)?;
            c.field("parents", parents, &t.parents)?;
            c.field("label", label, &Some(t.label.clone()))?;
            c.field("definition", definition, &Some(t.definition.clone()))?;
        }
        absent("terms", &self.terms, stored.iter().map(|t| t.key.clone()))
    }

    fn explicit(&self) -> Result<()> {
        let stored = self.store.explicit_purposes()?;
        let (purposes, reasons) = match &self.explicit {
            Some((
                Entry::ExplicitPurposesSet {
                    purposes, reasons, ..
                },
                _,
            )) => (Some(purposes.clone()), reasons.clone()),
            _ => (None, None),
        };
        let c = compare("explicit_purposes", "set");
        let mut stored_terms: Option<Vec<String>> = stored
            .as_ref()
            .map(|l| l.iter().map(|(t, _)| t.clone()).collect());
        let mut logged_terms = purposes;
        // Stored by term, logged in the order given.
        if let (Some(s), Some(l)) = (&mut stored_terms, &mut logged_terms) {
            s.sort();
            l.sort();
        }
        c.field("term", &logged_terms, &stored_terms)?;
        if let (
            Some(stored),
            Some(reasons),
            Some((Entry::ExplicitPurposesSet { purposes, .. }, _)),
        ) = (&stored, &reasons, &self.explicit)
        {
            for (term, reason) in purposes.iter().zip(reasons) {
                let held = stored
                    .iter()
                    .find(|(t, _)| t == term)
                    .map(|(_, r)| r.clone());
                compare("explicit_purposes", term).field("reason", &Some(reason.clone()), &held)?;
            }
        }
        Ok(())
    }

    fn notices(&self) -> Result<()> {
        let stored = self.store.notices(None)?;
        for n in &stored {
            let Some((
                Entry::NoticePublished {
                    at,
                    org,
                    version,
                    effective,
                    content_hash,
                    ..
                },
                _,
            )) = self.notices.get(&n.id)
            else {
                return Err(unlogged("notices", n.id));
            };
            let c = compare("notices", n.id);
            c.field("org", org, &n.org)?;
            c.field("version", version, &n.version)?;
            c.field("effective", effective, &n.effective)?;
            c.field("published_at", at, &n.published_at)?;
            let logged = hex::encode(content_hash);
            c.field("content_hash", &logged, &n.content_hash)?;
            let recomputed = hex::encode(Sha256::digest(n.source.as_bytes()));
            c.field("source", &logged, &recomputed).map_err(|_| {
                Error::Log(format!(
                    "the store's notices row {} differs from its log entry in `source`: \
                     its text hashes to {recomputed}, not to the logged content hash {logged}",
                    n.id
                ))
            })?;
        }
        absent("notices", &self.notices, stored.iter().map(|n| n.id))
    }

    fn collections(&self) -> Result<()> {
        let stored = self.store.collections(None)?;
        for s in &stored {
            let Some((
                Entry::CollectionRecorded {
                    at,
                    org,
                    file,
                    file_hash,
                    notice,
                    mapping,
                    columns,
                    categories,
                    rows,
                    ..
                },
                _,
            )) = self.collections.get(&s.id)
            else {
                return Err(unlogged("collections", s.id));
            };
            let c = compare("collections", s.id);
            c.field("org", org, &s.org)?;
            c.field("file", file, &s.file)?;
            c.field("file_hash", file_hash, &s.file_hash)?;
            c.field("notice", &(*notice as i64), &s.notice)?;
            let stored_mapping: [u8; 32] = Sha256::digest(s.mapping.as_bytes()).into();
            c.field("mapping", mapping, &stored_mapping)?;
            c.field("columns", columns, &s.columns)?;
            c.field("categories", categories, &s.categories)?;
            c.field("at", at, &s.at)?;
            c.field("rows", &(*rows as i64), &s.rows)?;
        }
        absent(
            "collections",
            &self.collections,
            stored.iter().map(|c| c.id),
        )
    }

    fn disclosures(&self) -> Result<()> {
        let stored = self.store.disclosures(None)?;
        for d in &stored {
            let Some(LoggedDisclosure {
                entry:
                    Entry::DisclosureRecorded {
                        at,
                        from,
                        to,
                        on_behalf_of,
                        purposes,
                        categories,
                        basis,
                        gated,
                        requested,
                        allowed,
                        refused,
                        not_held,
                        note,
                        created_at,
                        ..
                    },
                recorded,
                ..
            }) = self.disclosures.get(&d.id)
            else {
                return Err(unlogged("disclosures", d.id));
            };
            let c = compare("disclosures", d.id);
            c.field("from_org", from, &d.from_org)?;
            c.field("to_org", to, &d.to_org)?;
            c.field("on_behalf_of", on_behalf_of, &d.on_behalf_of)?;
            c.field("at", at, &d.at)?;
            c.field("purposes", purposes, &d.purposes)?;
            c.field("categories", categories, &d.categories)?;
            c.field("basis", basis, &d.basis)?;
            c.field("gated", gated, &d.gated)?;
            c.field("requested", &(*requested as i64), &d.requested)?;
            c.field("allowed", &(*allowed as i64), &d.allowed)?;
            c.field("refused", &(*refused as i64), &d.refused)?;
            c.field("not_held", &(*not_held as i64), &d.not_held)?;
            c.field("note", &note.clone().flatten(), &d.note)?;
            c.field("created_at", created_at, &Some(d.created_at))?;
            c.field("recorded", recorded, &d.recorded)?;
        }
        let logged: BTreeMap<i64, (Entry, u64)> = self
            .disclosures
            .iter()
            .map(|(id, d)| (*id, (d.entry.clone(), d.index)))
            .collect();
        absent("disclosures", &logged, stored.iter().map(|d| d.id))
    }
}

/// A row the log made that the store no longer holds.
fn absent<K: Ord + Display>(
    table: &str,
    logged: &BTreeMap<K, (Entry, u64)>,
    stored: impl Iterator<Item = K>,
) -> Result<()> {
    let stored: std::collections::BTreeSet<K> = stored.collect();
    match logged.iter().find(|(k, _)| !stored.contains(k)) {
        Some((key, (_, index))) => Err(missing(table, key, *index)),
        None => Ok(()),
    }
}
