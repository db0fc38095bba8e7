//! Privacy notices: versioned, immutable once published.
//!
//! A notice is written in TOML or YAML ([`NoticeSource`]), resolved against the
//! vocabulary into a [`Notice`], and identified by the SHA-256 of its canonical
//! JSON form, so the same content always hashes the same whatever the file
//! format or spelling of terms.

pub mod check;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::basis::{LegalBasis, SpecialCondition};
use crate::recipient::RecipientCategory;
use crate::time::{format_instant, parse_instant, Instant};
use crate::vocab::{TermId, TermKind, Vocabulary};

/// The store's id for a published notice version.
pub type NoticeId = i64;

/// Declarations are numbered in a 64-bit consent mask per record.
pub const MAX_DECLARATIONS: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeSource {
    /// The label people see: "2017-03", "v2".
    pub version: String,
    /// When it took effect: YYYY-MM-DD or RFC 3339.
    pub effective: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where the text was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The text itself, as shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub declarations: Vec<DeclarationSource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationSource {
    /// Stable within the notice; consent columns refer to it.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub purposes: Vec<String>,
    pub data_categories: Vec<String>,
    pub legal_basis: LegalBasis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_category_condition: Option<SpecialCondition>,
    /// The notice says children's data is used for these purposes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub childrens_data: bool,
    #[serde(default)]
    pub recipients: RecipientsSource,
    /// ISO 8601 duration (`P3Y`, `P18M`, `P90D`) or `3 years`, `18 months`, `90 days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientsSource {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<RecipientCategory>,
}

/// A notice resolved against the vocabulary: what the evaluator reads.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: NoticeId,
    pub org: String,
    pub version: String,
    pub effective: Instant,
    pub content_hash: String,
    pub source: NoticeSource,
    pub declarations: Vec<Declaration>,
}

#[derive(Debug, Clone)]
pub struct Declaration {
    pub id: String,
    pub purposes: Vec<TermId>,
    pub categories: Vec<TermId>,
    pub basis: LegalBasis,
    pub special_condition: Option<SpecialCondition>,
    pub childrens_data: bool,
    pub recipient_orgs: Vec<String>,
    pub recipient_categories: Vec<RecipientCategory>,
    pub retention: Option<Retention>,
}

/// A retention period; calendar months and years, as people mean them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub months: u32,
    pub days: u32,
}

impl Retention {
    pub fn parse(s: &str) -> Result<Retention, String> {
        let t = s.trim();
        let bad =
            || format!("retention `{s}` is not a period like `P3Y`, `P18M`, `P90D` or `3 years`");
        let (n, unit) = if let Some(iso) = t.strip_prefix('P').or_else(|| t.strip_prefix('p')) {
            let unit = iso.chars().last().ok_or_else(bad)?;
            (
                iso[..iso.len() - 1].parse::<u32>().map_err(|_| bad())?,
                unit.to_ascii_lowercase().to_string(),
            )
        } else {
            let mut parts = t.split_whitespace();
            let n = parts
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(bad)?;
            let unit = parts.next().ok_or_else(bad)?.to_ascii_lowercase();
            if parts.next().is_some() {
                return Err(bad());
            }
            (n, unit)
        };
        match unit.trim_end_matches('s') {
            "y" | "year" => Ok(Retention {
                months: n * 12,
                days: 0,
            }),
            "m" | "month" => Ok(Retention { months: n, days: 0 }),
            "w" | "week" => Ok(Retention {
                months: 0,
                days: n * 7,
            }),
            "d" | "day" => Ok(Retention { months: 0, days: n }),
            _ => Err(bad()),
        }
    }

    /// The last instant covered when the clock starts at `from`.
    pub fn ends(&self, from: Instant) -> Instant {
        let t = from
            .checked_add_months(chrono::Months::new(self.months))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        t + chrono::Duration::days(self.days as i64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    #[error("{file}: {field}: {message}")]
    Field {
        file: String,
        field: String,
        message: String,
    },
}

/// The format of a notice file, from its extension.
pub fn parse_source(file: &str, text: &str) -> Result<NoticeSource, NoticeError> {
    let lower = file.to_ascii_lowercase();
    let syntax = |message: String| NoticeError::Syntax {
        file: file.to_string(),
        message,
    };
    if text.len() > crate::text::NOTICE_LIMIT {
        return Err(syntax(format!(
            "is {} bytes long; a notice is at most {} MiB (README: Limits)",
            text.len(),
            crate::text::NOTICE_LIMIT >> 20
        )));
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        serde_yaml::from_str(text).map_err(|e| syntax(e.to_string()))
    } else if lower.ends_with(".toml") {
        toml::from_str(text).map_err(|e| syntax(e.to_string()))
    } else {
        Err(syntax(
            "a notice file must end in .toml, .yaml or .yml".into(),
        ))
    }
}

impl NoticeSource {
    /// Resolve every term, check every field, and compute the content hash.
    /// Term spellings are normalised to their keys first, so `Marketing` and
    /// `dpv:Marketing` publish the same notice.
    pub fn resolve(
        &self,
        file: &str,
        org: &str,
        vocab: &Vocabulary,
    ) -> Result<Notice, NoticeError> {
        let field = |field: String, message: String| NoticeError::Field {
            file: file.to_string(),
            field,
            message,
        };
        if self.version.trim().is_empty() {
            return Err(field("version".into(), "must not be empty".into()));
        }
        if let Some(problem) = crate::text::identifier_problem(&self.version) {
            return Err(field("version".into(), problem));
        }
        let effective =
            parse_instant(&self.effective).map_err(|e| field("effective".into(), e.to_string()))?;
        if self.declarations.is_empty() {
            return Err(field(
                "declarations".into(),
                "a notice declares at least one purpose".into(),
            ));
        }
        if self.declarations.len() > MAX_DECLARATIONS {
            return Err(field(
                "declarations".into(),
                format!("at most {MAX_DECLARATIONS} declarations"),
            ));
        }
        let mut normalised = self.clone();
        let mut declarations = Vec::new();
        for (i, (d, nd)) in self
            .declarations
            .iter()
            .zip(normalised.declarations.iter_mut())
            .enumerate()
        {
            let at = |name: &str| format!("declarations[{i}] ({}).{name}", d.id);
            if d.id.trim().is_empty() {
                return Err(field(
                    format!("declarations[{i}].id"),
                    "must not be empty".into(),
                ));
            }
            if let Some(problem) = crate::text::identifier_problem(&d.id) {
                return Err(field(at("id"), problem));
            }
            if self.declarations[..i].iter().any(|o| o.id == d.id) {
                return Err(field(
                    at("id"),
                    format!("declaration id `{}` is used twice", d.id),
                ));
            }
            let resolve_all = |names: &[String],
                               kind: TermKind,
                               name: &str|
             -> Result<Vec<TermId>, NoticeError> {
                if names.is_empty() {
                    return Err(field(at(name), "must list at least one term".into()));
                }
                names
                    .iter()
                    .map(|n| {
                        vocab
                            .resolve(kind, n)
                            .map_err(|e| field(at(name), e.to_string()))
                    })
                    .collect()
            };
            let purposes = resolve_all(&d.purposes, TermKind::Purpose, "purposes")?;
            let categories = resolve_all(
                &d.data_categories,
                TermKind::DataCategory,
                "data_categories",
            )?;
            nd.purposes = purposes
                .iter()
                .map(|t| vocab.term(*t).key.clone())
                .collect();
            nd.data_categories = categories
                .iter()
                .map(|t| vocab.term(*t).key.clone())
                .collect();
            for o in &d.recipients.organisations {
                crate::organisation::validate_id(o)
                    .map_err(|e| field(at("recipients.organisations"), e))?;
            }
            let retention = match &d.retention {
                Some(r) => Some(Retention::parse(r).map_err(|e| field(at("retention"), e))?),
                None => None,
            };
            declarations.push(Declaration {
                id: d.id.clone(),
                purposes,
                categories,
                basis: d.legal_basis,
                special_condition: d.special_category_condition,
                childrens_data: d.childrens_data,
                recipient_orgs: d.recipients.organisations.clone(),
                recipient_categories: d.recipients.categories.clone(),
                retention,
            });
        }
        let content_hash = normalised.content_hash();
        Ok(Notice {
            id: 0,
            org: org.to_string(),
            version: self.version.clone(),
            effective,
            content_hash,
            source: normalised,
            declarations,
        })
    }

    /// SHA-256 of the canonical JSON (fields in declaration order, terms as keys).
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("a notice serialises");
        hex::encode(Sha256::digest(json))
    }
}

impl Declaration {
    /// Named organisations, then recipient categories, as people read them.
    pub fn recipients(&self) -> Vec<String> {
        let mut r = self.recipient_orgs.clone();
        r.extend(self.recipient_categories.iter().map(|c| c.to_string()));
        r
    }
}

impl Notice {
    pub fn declaration_index(&self, id: &str) -> Option<usize> {
        self.declarations.iter().position(|d| d.id == id)
    }

    pub fn effective_text(&self) -> String {
        format_instant(&self.effective)
    }
}

/// What changed from one version of a notice to the next.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct NoticeDiff {
    pub from: String,
    pub to: String,
    pub added_declarations: Vec<String>,
    pub dropped_declarations: Vec<String>,
    pub changed: Vec<DeclarationDiff>,
    /// What people read that changed: effective date, title, url, text.
    pub wording: Vec<WordingChange>,
}

/// One field of a notice's words, before and after.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WordingChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DeclarationDiff {
    pub declaration: String,
    pub added: Vec<(String, String)>,
    pub dropped: Vec<(String, String)>,
}

impl NoticeDiff {
    pub fn between(old: &NoticeSource, new: &NoticeSource) -> NoticeDiff {
        let mut diff = NoticeDiff {
            from: old.version.clone(),
            to: new.version.clone(),
            ..Default::default()
        };
        for d in &new.declarations {
            match old.declarations.iter().find(|o| o.id == d.id) {
                None => diff.added_declarations.push(d.id.clone()),
                Some(o) => {
                    let (a, b) = (facets(o), facets(d));
                    let added: Vec<_> = b.iter().filter(|f| !a.contains(f)).cloned().collect();
                    let dropped: Vec<_> = a.iter().filter(|f| !b.contains(f)).cloned().collect();
                    if !added.is_empty() || !dropped.is_empty() {
                        diff.changed.push(DeclarationDiff {
                            declaration: d.id.clone(),
                            added,
                            dropped,
                        });
                    }
                }
            }
        }
        for o in &old.declarations {
            if !new.declarations.iter().any(|d| d.id == o.id) {
                diff.dropped_declarations.push(o.id.clone());
            }
        }
        let fields = [
            ("effective", Some(&old.effective), Some(&new.effective)),
            ("title", old.title.as_ref(), new.title.as_ref()),
            ("url", old.url.as_ref(), new.url.as_ref()),
            ("text", old.text.as_ref(), new.text.as_ref()),
        ];
        for (field, from, to) in fields {
            if from != to {
                diff.wording.push(WordingChange {
                    field: field.into(),
                    from: from.cloned(),
                    to: to.cloned(),
                });
            }
        }
        diff
    }

    pub fn is_empty(&self) -> bool {
        self.added_declarations.is_empty()
            && self.dropped_declarations.is_empty()
            && self.changed.is_empty()
            && self.wording.is_empty()
    }
}

/// A declaration as a set of (facet, value) pairs, so a diff is set arithmetic.
fn facets(d: &DeclarationSource) -> Vec<(String, String)> {
    let mut f = Vec::new();
    f.extend(
        d.purposes
            .iter()
            .map(|p| ("purpose".to_string(), p.clone())),
    );
    f.extend(
        d.data_categories
            .iter()
            .map(|c| ("data category".to_string(), c.clone())),
    );
    if let Some(s) = &d.summary {
        f.push(("summary".into(), s.clone()));
    }
    f.push(("legal basis".into(), d.legal_basis.to_string()));
    if let Some(c) = d.special_category_condition {
        f.push(("special-category condition".into(), format!("{c:?}")));
    }
    if d.childrens_data {
        f.push(("children's data".into(), "declared".into()));
    }
    f.extend(
        d.recipients
            .organisations
            .iter()
            .map(|o| ("recipient".to_string(), o.clone())),
    );
    f.extend(
        d.recipients
            .categories
            .iter()
            .map(|c| ("recipient category".to_string(), c.to_string())),
    );
    if let Some(r) = &d.retention {
        f.push(("retention".into(), r.clone()));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const EXAMPLE: &str = r#"
version = "2017-03"
effective = "2017-03-01"
title = "Emma's Diary privacy notice"
text = "We may share your details with carefully selected companies for marketing."

[[declarations]]
id = "partner-marketing"
purposes = ["Marketing"]
data_categories = ["Name", "PhysicalAddress", "custody:ChildBirthDate"]
legal_basis = "consent"
childrens_data = true
retention = "P3Y"
recipients.categories = ["marketing company", "data brokers"]
"#;

    #[test]
    fn resolves_and_hashes_canonically() {
        let vocab = Vocabulary::embedded();
        let src = parse_source("n.toml", EXAMPLE).unwrap();
        let n = src.resolve("n.toml", "emmas-diary", &vocab).unwrap();
        assert_eq!(n.declarations.len(), 1);
        assert_eq!(
            n.source.declarations[0].purposes,
            vec!["dpv:Marketing".to_string()]
        );
        // the same notice spelt with keys hashes the same
        let spelt = EXAMPLE.replace("[\"Marketing\"]", "[\"dpv:Marketing\"]");
        let n2 = parse_source("n.toml", &spelt)
            .unwrap()
            .resolve("n.toml", "emmas-diary", &vocab)
            .unwrap();
        assert_eq!(n.content_hash, n2.content_hash);
        let other = EXAMPLE.replace("P3Y", "P4Y");
        let n3 = parse_source("n.toml", &other)
            .unwrap()
            .resolve("n.toml", "emmas-diary", &vocab)
            .unwrap();
        assert_ne!(n.content_hash, n3.content_hash);
    }

    #[test]
    fn yaml_reads_the_same() {
        let yaml = r#"
version: "2017-03"
effective: "2017-03-01"
title: "Emma's Diary privacy notice"
text: "We may share your details with carefully selected companies for marketing."
declarations:
  - id: partner-marketing
    purposes: [Marketing]
    data_categories: [Name, PhysicalAddress, "custody:ChildBirthDate"]
    legal_basis: consent
    childrens_data: true
    retention: P3Y
    recipients:
      categories: [marketing company, data brokers]
"#;
        let vocab = Vocabulary::embedded();
        let a = parse_source("n.toml", EXAMPLE)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap();
        let b = parse_source("n.yaml", yaml)
            .unwrap()
            .resolve("n.yaml", "o", &vocab)
            .unwrap();
        assert_eq!(a.content_hash, b.content_hash);
    }

    #[test]
    fn errors_name_the_field() {
        let vocab = Vocabulary::embedded();
        let bad = EXAMPLE.replace("\"Marketing\"", "\"Marketting\"");
        let err = parse_source("n.toml", &bad)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("n.toml") && err.contains("declarations[0] (partner-marketing).purposes"),
            "{err}"
        );
        let bad = EXAMPLE.replace("legal_basis = \"consent\"", "legal_basis = \"because\"");
        let err = parse_source("n.toml", &bad).unwrap_err().to_string();
        assert!(
            err.contains("legal_basis") || err.contains("unknown variant"),
            "{err}"
        );
        assert!(parse_source("n.toml", &EXAMPLE.replace("title", "titel")).is_err());
        let bad = EXAMPLE.replace("P3Y", "three years");
        let err = parse_source("n.toml", &bad)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap_err()
            .to_string();
        assert!(err.contains("retention"), "{err}");
    }

    #[test]
    fn retention_periods() {
        let from = parse_instant("2016-01-31").unwrap();
        assert_eq!(
            format_instant(&Retention::parse("P1M").unwrap().ends(from)),
            "2016-02-29"
        );
        assert_eq!(
            format_instant(&Retention::parse("3 years").unwrap().ends(from)),
            "2019-01-31"
        );
        assert_eq!(
            format_instant(&Retention::parse("P90D").unwrap().ends(from)),
            "2016-04-30"
        );
        assert!(Retention::parse("forever").is_err());
    }

    #[test]
    fn diff_names_what_changed() {
        let vocab = Vocabulary::embedded();
        let old = parse_source("n.toml", EXAMPLE)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap();
        let newer = EXAMPLE
            .replace("2017-03\"", "2018-05\"")
            .replace("[\"Marketing\"]", "[\"Marketing\", \"PoliticalCampaign\"]");
        let new = parse_source("n.toml", &newer)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap();
        let diff = NoticeDiff::between(&old.source, &new.source);
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(
            diff.changed[0].added,
            vec![("purpose".to_string(), "dpv:PoliticalCampaign".to_string())]
        );
        assert!(diff.changed[0].dropped.is_empty());
        assert!(NoticeDiff::between(&old.source, &old.source).is_empty());
    }
}
