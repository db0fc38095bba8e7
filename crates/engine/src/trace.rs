//! Where did my data go: a record's collection, its consent history, and every
//! disclosure of it or of its copies downstream, with reasons.

use custody_core::reason::ReasonSet;
use custody_core::time::format_instant;
use custody_store::Store;
use serde::Serialize;

use crate::{instant, Engine, Error, Result};

#[derive(Debug, Serialize)]
pub struct Trace {
    pub subject: String,
    pub collected_by: String,
    pub collected_at: String,
    pub notice: NoticeSummary,
    /// Declarations consented to at collection.
    pub consented: Vec<String>,
    pub preferences: Vec<PreferenceStep>,
    pub disclosures: Vec<DisclosureStep>,
    /// Who holds a copy now, and what for.
    pub holders: Vec<Holder>,
}

#[derive(Debug, Serialize)]
pub struct NoticeSummary {
    pub version: String,
    pub effective: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub text: Option<String>,
    pub declarations: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PreferenceStep {
    pub at: String,
    pub action: String,
    pub purpose: Option<String>,
    pub notice: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DisclosureStep {
    pub disclosure: i64,
    pub at: String,
    pub from: String,
    pub to: String,
    pub on_behalf_of: Option<String>,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    /// allowed, refused, or disclosed (imported history, never checked)
    pub outcome: &'static str,
    pub reasons: ReasonSet,
}

#[derive(Debug, Serialize)]
pub struct Holder {
    pub org: String,
    pub since: String,
    pub from: String,
    pub purposes: Vec<String>,
    pub via_disclosure: i64,
}

impl<S: Store> Engine<S> {
    pub fn trace(&self, org: &str, subject: &str) -> Result<Trace> {
        self.org(org)?;
        let held = self.store.held(org, subject)?;
        let first = held.first().ok_or_else(|| {
            Error::NotFound(format!("{org} holds no record of subject `{subject}`"))
        })?;
        let origin_id = first.origin.unwrap_or(first.id);
        let origin = self
            .store
            .record(origin_id)?
            .ok_or_else(|| Error::NotFound(format!("record {origin_id}")))?;
        let notices: std::collections::HashMap<i64, custody_core::Notice> =
            crate::holdings::all_notices(&self.store, &self.vocab)?;
        let notice = origin
            .notice
            .and_then(|n| notices.get(&n))
            .ok_or_else(|| Error::NotFound("collection notice".into()))?;
        let label = |d: &custody_core::Declaration| {
            let purposes: Vec<&str> = d
                .purposes
                .iter()
                .map(|p| self.vocab.term(*p).key.as_str())
                .collect();
            let mut s = format!("{}: {} ({})", d.id, purposes.join(", "), d.basis);
            let recipients = d.recipients();
            if !recipients.is_empty() {
                s.push_str(&format!(" to {}", recipients.join(", ")));
            }
            s
        };
        let consented = notice
            .declarations
            .iter()
            .enumerate()
            .filter(|(i, _)| origin.consented & (1 << i) != 0)
            .map(|(_, d)| d.id.clone())
            .collect();
        let preferences = self
            .store
            .preferences_of(origin.id)?
            .into_iter()
            .map(|p| PreferenceStep {
                at: format_instant(&instant(p.at)),
                action: p.action,
                purpose: p.purpose,
                notice: p
                    .notice
                    .and_then(|n| notices.get(&n))
                    .map(|n| n.version.clone()),
            })
            .collect();
        let mut records = vec![origin.clone()];
        records.extend(self.store.copies_of(origin.id)?);
        let mut disclosures = Vec::new();
        let mut holders = Vec::new();
        for r in &records {
            for d in self.store.decisions_for(r.id)? {
                let Some(row) = self.store.disclosure(d.disclosure)? else {
                    continue;
                };
                let reasons = ReasonSet(d.reasons.unwrap_or(0));
                disclosures.push(DisclosureStep {
                    disclosure: row.id,
                    at: format_instant(&instant(row.at)),
                    from: row.from_org,
                    to: row.to_org,
                    on_behalf_of: row.on_behalf_of,
                    purposes: row.purposes,
                    categories: row.categories,
                    outcome: match d.reasons {
                        None => "disclosed",
                        Some(0) => "allowed",
                        Some(_) => "refused",
                    },
                    reasons,
                });
            }
            if let (Some(_), Some(via)) = (r.origin, r.received_via) {
                if let Some(row) = self.store.disclosure(via)? {
                    holders.push(Holder {
                        org: r.org.clone(),
                        since: format_instant(&instant(r.at)),
                        from: row.from_org,
                        purposes: row.purposes,
                        via_disclosure: via,
                    });
                }
            }
        }
        disclosures.sort_by(|a, b| (&a.at, a.disclosure).cmp(&(&b.at, b.disclosure)));
        Ok(Trace {
            subject: origin.subject.clone(),
            collected_by: origin.org.clone(),
            collected_at: format_instant(&instant(origin.at)),
            notice: NoticeSummary {
                version: notice.version.clone(),
                effective: notice.effective_text(),
                title: notice.source.title.clone(),
                url: notice.source.url.clone(),
                text: notice.source.text.clone(),
                declarations: notice.declarations.iter().map(label).collect(),
            },
            consented,
            preferences,
            disclosures,
            holders,
        })
    }
}
