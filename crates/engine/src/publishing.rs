//! Publishing notices. A published version never changes: publishing the same
//! label again is a no-op with the same content and an error with other content.

use std::path::Path;

use custody_core::entry::Entry;
use custody_core::notice::check::{check, Finding};
use custody_core::notice::{parse_source, Notice, NoticeDiff, NoticeSource};
use custody_core::text::NOTICE_LIMIT;
use custody_store::{NoticeRow, Store};

use crate::holdings::notice_from_row;
use crate::input::read_text;
use crate::{logged, seconds, Engine, Error, Result};

#[derive(Debug)]
pub struct Published {
    pub notice: Notice,
    /// The same content was already published under this label.
    pub unchanged: bool,
    /// What [`Engine::check_notice`] found; published all the same.
    pub findings: Vec<Finding>,
}

impl<S: Store> Engine<S> {
    /// What custody asks of a notice file before it is published
    /// (`custody_core::notice::check`), errors first.
    pub fn check_notice(&self, path: &Path) -> Result<(Notice, Vec<Finding>)> {
        let text = read_text(path, NOTICE_LIMIT, "a notice")?;
        let file = path.display().to_string();
        let notice = parse_source(&file, &text)?.resolve(&file, "", &self.vocab)?;
        let findings = self.findings(&notice)?;
        Ok((notice, findings))
    }

    fn findings(&self, notice: &Notice) -> Result<Vec<Finding>> {
        let orgs: std::collections::HashSet<String> =
            self.store.orgs()?.into_iter().map(|o| o.id).collect();
        Ok(check(notice, &self.vocab, &|o| orgs.contains(o)))
    }

    pub fn publish_notice(&mut self, org: &str, path: &Path) -> Result<Published> {
        self.org(org)?;
        let text = read_text(path, NOTICE_LIMIT, "a notice")?;
        let file = path.display().to_string();
        let source = parse_source(&file, &text)?;
        self.publish_notice_source(org, &file, &source)
    }

    /// Publishes a notice already parsed; `file` names where it came from in
    /// error messages.
    pub fn publish_notice_source(
        &mut self,
        org: &str,
        file: &str,
        source: &NoticeSource,
    ) -> Result<Published> {
        self.org(org)?;
        let mut notice = source.resolve(file, org, &self.vocab)?;
        let findings = self.findings(&notice)?;
        let existing = match self.notice(org, Some(&notice.version)) {
            Ok(n) => Some(n),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        if let Some(existing) = existing {
            if existing.content_hash == notice.content_hash {
                return Ok(Published {
                    notice: existing,
                    unchanged: true,
                    findings,
                });
            }
            return Err(Error::Conflict(format!(
                "{file}: {org} already published version `{}` with other content (sha256 {}); \
                 a published notice never changes: publish the new text under a new version label",
                notice.version, existing.content_hash
            )));
        }
        let row = NoticeRow {
            id: 0,
            org: org.into(),
            version: notice.version.clone(),
            effective: seconds(notice.effective),
            content_hash: notice.content_hash.clone(),
            source: serde_json::to_string(&notice.source).expect("notice serialises"),
            published_at: seconds(chrono::Utc::now()),
        };
        let content_hash = hex::decode(&notice.content_hash)
            .ok()
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "notice content hash `{}` is not SHA-256",
                    notice.content_hash
                ))
            })?;
        notice.id = logged(&mut self.store, &self.signer, |s, log| {
            let id = s.insert_notice(&row)?;
            let entry = Entry::NoticePublished {
                at: row.published_at,
                notice: id as u64,
                org: row.org.clone(),
                version: row.version.clone(),
                effective: row.effective,
                content_hash,
            };
            log.append(s, &entry)?;
            Ok(id)
        })?;
        Ok(Published {
            notice,
            unchanged: false,
            findings,
        })
    }

    /// Every version an organisation published, oldest first.
    pub fn notices(&self, org: &str) -> Result<Vec<Notice>> {
        self.org(org)?;
        self.store
            .notices(Some(org))?
            .iter()
            .map(|r| notice_from_row(&self.vocab, r))
            .collect()
    }

    /// One version, or the latest (by effective date) when `version` is None.
    pub fn notice(&self, org: &str, version: Option<&str>) -> Result<Notice> {
        let all = self.notices(org)?;
        let found = match version {
            Some(v) => all.iter().find(|n| n.version == v),
            None => all.iter().max_by_key(|n| (n.effective, n.id)),
        };
        found.cloned().ok_or_else(|| {
            let versions: Vec<&str> = all.iter().map(|n| n.version.as_str()).collect();
            Error::NotFound(match version {
                Some(v) => format!(
                    "{org} has no notice version `{v}` (published: {})",
                    if versions.is_empty() {
                        "none".into()
                    } else {
                        versions.join(", ")
                    }
                ),
                None => format!(
                    "{org} has published no notice; publish one with `custody notice publish`"
                ),
            })
        })
    }

    pub fn diff_notices(&self, org: &str, from: &str, to: &str) -> Result<NoticeDiff> {
        let a = self.notice(org, Some(from))?;
        let b = self.notice(org, Some(to))?;
        Ok(NoticeDiff::between(&a.source, &b.source))
    }
}
