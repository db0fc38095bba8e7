//! The term vocabulary: purposes, data categories, legal bases and data
//! subjects, drawn from W3C DPV 2.2, Ethyca's fideslang 3.1.4 default
//! taxonomy, custody's own extension terms (`vocab/custody.toml`) and terms
//! organisations add at run time.
//!
//! Every term lives in one flat table indexed by [`TermId`]; parents form a
//! DAG per kind. Ancestor-or-self sets are precomputed as bitsets so the
//! evaluator's hot checks ([`Vocabulary::is_ancestor_or_self`],
//! [`Vocabulary::covers_purpose`]) are a few word operations.
//!
//! Loading rules (the simplest consistent ones):
//! * DPV CSVs: only rows with `type == "class"` are terms, except
//!   `dpv:Sector`, a separate concept DPV 2.2 happens to publish in
//!   `purposes.csv`. Keys are `dpv:<term>` and, for `pd.csv`, `pd:<term>`.
//! * A `hasbroader` parent is kept iff it is a term loaded from the same
//!   file; other parents are dropped. Each core file's top concept is kept
//!   as a term (`dpv:Purpose`, `dpv:LegalBasis`, and `dpv:HumanSubject`:
//!   in DPV 2.2 `dpv:DataSubject` sits *under* `dpv:HumanSubject`), and any
//!   other term of that file left without a parent is put under it (only
//!   `dpv:RightsFulfilment`, whose broader `dpv:LegalObligation` is a legal
//!   basis). So each DPV core kind has exactly one root. `pd.csv` has no
//!   `PersonalData` row, so its top-level groups (`pd:External`, ...) are
//!   roots.
//! * `dpv#SpecialCategoryPersonalData` in a pd row's `dpvtype` or
//!   `hasbroader` sets the special-category flag; it is not a parent.
//! * fideslang: `data_use` → purpose, `data_category` → data category,
//!   `data_subject` → data subject; key `fides:<fides_key>`, parent from
//!   `parent_key`. Special category: the Art 9 branches (biometric incl.
//!   biometric credentials, health_and_medical incl. genetic, political
//!   opinion, race/ethnicity, religious belief, sexual orientation).
//!   `user.criminal_history` is *not* flagged: criminal offence data is
//!   UK GDPR Art 10, not Art 9. Children's data: `user.childrens`.
//! * Flags (special category, children's data) are inherited by descendants.
//! * DPV and fideslang trees are joined only where `vocab/links.toml` links
//!   two terms that mean the same (`dpv:Marketing` and `fides:marketing`),
//!   each link with its reason. Linked terms are one: each is
//!   ancestor-or-self of the other, and their parents and flags are shared,
//!   so either covers the other's descendants. Custody terms may have
//!   parents in both (e.g. `custody:ChildBirthDate` under `pd:BirthDate` and
//!   `fides:user.childrens`).
//!
//! Resolving a name ([`Vocabulary::resolve`]): an exact key or IRI is that
//! term; otherwise the name is matched, in any case, against keys and bare
//! names. DPV's `dpv:` and `pd:` count as one vocabulary (for data
//! categories `pd:` wins). Matches in more than one vocabulary are an error
//! listing the candidates, unless they are all linked, when the DPV term is
//! the answer (they mean the same, so only the name shown differs).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

const DPV_PURPOSES: &str = include_str!("../../../vocab/dpv/purposes.csv");
const DPV_PD: &str = include_str!("../../../vocab/dpv/pd.csv");
const DPV_LEGAL_BASIS: &str = include_str!("../../../vocab/dpv/legal_basis.csv");
const DPV_DATA_SUBJECTS: &str = include_str!("../../../vocab/dpv/entities_datasubject.csv");
const FIDESLANG: &str = include_str!("../../../vocab/fideslang/default_taxonomy.yml");
const CUSTODY: &str = include_str!("../../../vocab/custody.toml");
const EXPLICIT: &str = include_str!("../../../vocab/explicit.toml");
const LINKS: &str = include_str!("../../../vocab/links.toml");

/// DPV class rows that are not terms of the file's kind.
const DPV_SKIP: &[&str] = &["Sector"];
const SPECIAL_IRI: &str = "https://w3id.org/dpv#SpecialCategoryPersonalData";
/// fideslang data categories that are UK GDPR Art 9 special category data.
const FIDES_SPECIAL: &[&str] = &[
    "user.biometric",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.demographic.political_opinion",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
];
const FIDES_CHILDREN: &[&str] = &["user.childrens"];
/// Prefixes an organisation may not use for its own terms.
const RESERVED_PREFIXES: &[&str] = &["dpv", "pd", "fides", "custody"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TermKind {
    Purpose,
    DataCategory,
    LegalBasis,
    DataSubject,
}

impl TermKind {
    pub const ALL: [TermKind; 4] = [
        TermKind::Purpose,
        TermKind::DataCategory,
        TermKind::LegalBasis,
        TermKind::DataSubject,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Purpose => "purpose",
            TermKind::DataCategory => "data-category",
            TermKind::LegalBasis => "legal-basis",
            TermKind::DataSubject => "data-subject",
        }
    }
}

impl fmt::Display for TermKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown term kind `{0}` (expected purpose, data-category, legal-basis or data-subject)")]
pub struct ParseKindError(pub String);

impl FromStr for TermKind {
    type Err = ParseKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TermKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseKindError(s.to_string()))
    }
}

/// Index of a term in its [`Vocabulary`]. Only meaningful for the vocabulary
/// that issued it; indexing another vocabulary with it may panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TermId(pub u32);

impl TermId {
    fn ix(self) -> usize {
        self.0 as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Dpv,
    Fideslang,
    Custody,
    Organisation(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dpv => f.write_str("DPV"),
            Source::Fideslang => f.write_str("fideslang"),
            Source::Custody => f.write_str("custody"),
            Source::Organisation(org) => write!(f, "{org}'s own"),
        }
    }
}

/// Two terms that mean the same thing, from `vocab/links.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub terms: [TermId; 2],
    /// Why they mean the same: both definitions, quoted.
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Term {
    pub key: String,
    pub kind: TermKind,
    pub label: String,
    pub definition: String,
    pub iri: Option<String>,
    pub parents: Vec<TermId>,
    pub source: Source,
    /// Own flag; see [`Vocabulary::is_special_category`] for the inherited one.
    pub special_category: bool,
    /// Own flag; see [`Vocabulary::is_childrens_data`] for the inherited one.
    pub children: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("unknown {kind} `{name}`{}{}", elsewhere_text(.elsewhere), suggestion_text(.suggestions))]
    Unknown {
        kind: TermKind,
        name: String,
        suggestions: Vec<String>,
        /// The kind of term the name does name, if another.
        elsewhere: Option<TermKind>,
    },
    /// The name matches unlinked terms of different vocabularies.
    #[error("`{name}` names more than one {kind}: {}; give the full key", candidate_text(.candidates))]
    Ambiguous {
        kind: TermKind,
        name: String,
        /// Each candidate's key, label and vocabulary.
        candidates: Vec<Candidate>,
    },
    #[error("duplicate term key `{key}`")]
    Duplicate { key: String },
    #[error("term `{key}` is part of a parent cycle")]
    Cycle { key: String },
    #[error("bad term key `{key}`: {why}")]
    BadKey { key: String, why: String },
    #[error("{file}{}: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        file: String,
        line: Option<usize>,
        message: String,
    },
}

/// A term a name might mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub key: String,
    pub label: String,
    pub vocabulary: String,
}

fn candidate_text(c: &[Candidate]) -> String {
    c.iter()
        .map(|c| format!("{} (\"{}\", {})", c.key, c.label, c.vocabulary))
        .collect::<Vec<_>>()
        .join(", ")
}

fn elsewhere_text(k: &Option<TermKind>) -> String {
    k.map(|k| format!(" (that is a {k}, and a {k} is not asked for here)"))
        .unwrap_or_default()
}

fn suggestion_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

/// A purpose that a notice must name explicitly (see [`Vocabulary::covers_purpose`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitPurpose {
    pub term: TermId,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Vocabulary {
    terms: Vec<Term>,
    by_key: HashMap<String, TermId>,
    by_iri: HashMap<String, TermId>,
    /// Lower-cased full keys and bare names (key without prefix) → terms.
    by_lower: HashMap<String, Vec<TermId>>,
    /// Bitset words per term.
    words: usize,
    /// Ancestor-or-self bitsets, `words` u64s per term, flattened.
    anc: Vec<u64>,
    special: Vec<bool>,
    childrens: Vec<bool>,
    explicit: Vec<ExplicitPurpose>,
    /// Bitset of explicit purpose ids.
    explicit_mask: Vec<u64>,
    links: Vec<Link>,
    /// Per term, the other terms linked to it (directly or through others).
    same: Vec<Vec<TermId>>,
}

impl Vocabulary {
    /// DPV + fideslang + custody.toml terms + explicit.toml defaults, all
    /// embedded in the binary. Panics only if the embedded data is broken
    /// (which the tests check).
    pub fn embedded() -> Vocabulary {
        match Self::try_embedded() {
            Ok(v) => v,
            Err(e) => panic!("embedded vocabulary is broken: {e}"),
        }
    }

    /// [`Vocabulary::embedded`] without the panic.
    pub fn try_embedded() -> Result<Vocabulary, VocabError> {
        Self::embedded_with_links(LINKS)
    }

    /// The embedded vocabularies joined by the links in `links` (a
    /// `links.toml` text).
    fn embedded_with_links(links: &str) -> Result<Vocabulary, VocabError> {
        let mut v = Vocabulary::empty();
        v.load_dpv(
            "dpv/purposes.csv",
            DPV_PURPOSES,
            TermKind::Purpose,
            Some("Purpose"),
        )?;
        v.load_dpv(
            "dpv/legal_basis.csv",
            DPV_LEGAL_BASIS,
            TermKind::LegalBasis,
            Some("LegalBasis"),
        )?;
        let ds = "dpv/entities_datasubject.csv";
        v.load_dpv(
            ds,
            DPV_DATA_SUBJECTS,
            TermKind::DataSubject,
            Some("HumanSubject"),
        )?;
        v.load_dpv("dpv/pd.csv", DPV_PD, TermKind::DataCategory, None)?;
        v.load_fideslang("fideslang/default_taxonomy.yml", FIDESLANG)?;
        v.load_custody("custody.toml", CUSTODY)?;
        v.finish()?;
        v.links = v.parse_links("links.toml", links)?;
        v.finish()?;
        let explicit = v.parse_explicit("explicit.toml", EXPLICIT)?;
        v.set_explicit_purposes(explicit);
        Ok(v)
    }

    fn empty() -> Vocabulary {
        Vocabulary {
            terms: Vec::new(),
            by_key: HashMap::new(),
            by_iri: HashMap::new(),
            by_lower: HashMap::new(),
            words: 0,
            anc: Vec::new(),
            special: Vec::new(),
            childrens: Vec::new(),
            explicit: Vec::new(),
            explicit_mask: Vec::new(),
            links: Vec::new(),
            same: Vec::new(),
        }
    }

    /// The links joining terms of different vocabularies.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The terms linked to `id`: they mean the same.
    pub fn same_as(&self, id: TermId) -> &[TermId] {
        &self.same[id.ix()]
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn term(&self, id: TermId) -> &Term {
        &self.terms[id.ix()]
    }

    pub fn terms(&self) -> impl Iterator<Item = (TermId, &Term)> {
        self.terms
            .iter()
            .enumerate()
            .map(|(i, t)| (TermId(i as u32), t))
    }

    /// Exact key lookup.
    pub fn get(&self, key: &str) -> Option<TermId> {
        self.by_key.get(key).copied()
    }

    /// Resolve what a user typed, within one kind: an exact key
    /// (`dpv:PoliticalCampaign`), a full IRI, a bare DPV name
    /// (`PoliticalCampaign`, any case; for data categories pd wins over
    /// dpv), a fideslang key without prefix (`user.contact.email`), or a
    /// custody/organisation key, also in any case. A name that matches
    /// unlinked terms of more than one vocabulary is
    /// [`VocabError::Ambiguous`]; linked ones resolve to the DPV term.
    pub fn resolve(&self, kind: TermKind, name: &str) -> Result<TermId, VocabError> {
        let name = name.trim();
        let exact = self.by_key.get(name).or_else(|| self.by_iri.get(name));
        if let Some(&id) = exact.filter(|&&id| self.term(id).kind == kind) {
            return Ok(id);
        }
        let found: Vec<TermId> = self
            .by_lower
            .get(&name.to_lowercase())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&id| self.term(id).kind == kind)
            .collect();
        // The best match within each vocabulary: exact case, then pd before dpv.
        let mut best: Vec<TermId> = Vec::new();
        for id in found {
            let rank = |id: TermId| {
                let t = self.term(id);
                let case_miss = t.key != name && bare(&t.key) != name;
                (case_miss, prefix_rank(&t.key), t.key.clone())
            };
            let family = vocabulary_family(&self.term(id).key);
            match best
                .iter_mut()
                .find(|b| vocabulary_family(&self.term(**b).key) == family)
            {
                Some(b) if rank(id) < rank(*b) => *b = id,
                Some(_) => {}
                None => best.push(id),
            }
        }
        best.sort_by_key(|&id| prefix_rank(&self.term(id).key));
        match best.as_slice() {
            [] => Err(VocabError::Unknown {
                kind,
                name: name.to_string(),
                suggestions: self.suggest(kind, name),
                elsewhere: self.kind_named(name).filter(|&k| k != kind),
            }),
            [first, rest @ ..] if rest.iter().all(|r| self.same_as(*first).contains(r)) => {
                Ok(*first)
            }
            many => Err(VocabError::Ambiguous {
                kind,
                name: name.to_string(),
                candidates: many
                    .iter()
                    .map(|&id| {
                        let t = self.term(id);
                        Candidate {
                            key: t.key.clone(),
                            label: t.label.clone(),
                            vocabulary: t.source.to_string(),
                        }
                    })
                    .collect(),
            }),
        }
    }

    /// Terms whose label, key or definition holds every word of `text` (any
    /// case), best first: the label is the text, the label holds the words,
    /// the key does, then only the definition.
    pub fn search(&self, text: &str, kind: Option<TermKind>) -> Vec<TermId> {
        let text = text.trim().to_lowercase();
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return Vec::new();
        }
        let all_in = |hay: &str| words.iter().all(|w| hay.contains(w));
        let mut found: Vec<(u8, &str, TermId)> = self
            .terms()
            .filter(|(_, t)| kind.is_none_or(|k| t.kind == k))
            .filter_map(|(id, t)| {
                let label = t.label.to_lowercase();
                let key = t.key.to_lowercase().replace(['.', '_'], " ");
                let rank = if label == text {
                    0
                } else if all_in(&label) {
                    1
                } else if all_in(&key) {
                    2
                } else if all_in(&format!("{label} {key} {}", t.definition.to_lowercase())) {
                    3
                } else {
                    return None;
                };
                Some((rank, t.key.as_str(), id))
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, _, id)| id).collect()
    }

    /// The kind of the first term `name` names, whatever its kind.
    fn kind_named(&self, name: &str) -> Option<TermKind> {
        let exact = self.by_key.get(name).or_else(|| self.by_iri.get(name));
        exact
            .copied()
            .or_else(|| self.by_lower.get(&name.to_lowercase())?.first().copied())
            .map(|id| self.term(id).kind)
    }

    /// Up to 3 keys of `kind` that look like `name`.
    fn suggest(&self, kind: TermKind, name: &str) -> Vec<String> {
        let q: String = name.to_lowercase();
        let q_bare = bare(&q).to_string();
        if q_bare.is_empty() {
            return Vec::new();
        }
        let limit = (q_bare.chars().count() / 4).max(2);
        let mut scored: Vec<(usize, &str)> = self
            .terms
            .iter()
            .filter(|t| t.kind == kind)
            .filter_map(|t| {
                let key = t.key.to_lowercase();
                let label: String = t.label.to_lowercase().replace(' ', "");
                let cands = [bare(&key).to_string(), label];
                let substring = q_bare.len() >= 4
                    && cands.iter().any(|c| {
                        c.contains(&q_bare) || (c.len() >= 4 && q_bare.contains(c.as_str()))
                    });
                let d = cands
                    .iter()
                    .map(|c| crate::spelling::distance(&q_bare, c))
                    .min()?;
                if d <= limit {
                    Some((d, t.key.as_str()))
                } else if substring {
                    Some((limit + 1, t.key.as_str()))
                } else {
                    None
                }
            })
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(3)
            .map(|(_, k)| k.to_string())
            .collect()
    }

    /// Add an organisation's own term under existing parents of the same
    /// kind. `key` must be `<org>:<Name>` with `Name` in `[A-Za-z0-9_.-]+`.
    pub fn add_term(
        &mut self,
        org: &str,
        key: &str,
        kind: TermKind,
        label: &str,
        definition: &str,
        parents: &[TermId],
    ) -> Result<TermId, VocabError> {
        let bad = |why: &str| VocabError::BadKey {
            key: key.to_string(),
            why: why.to_string(),
        };
        let org_ok = !org.is_empty()
            && org
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !org_ok {
            return Err(bad("organisation id must be non-empty [A-Za-z0-9_-]"));
        }
        if RESERVED_PREFIXES
            .iter()
            .any(|p| p.eq_ignore_ascii_case(org))
        {
            return Err(bad("this prefix is reserved for built-in vocabularies"));
        }
        let Some((prefix, name)) = key.split_once(':') else {
            return Err(bad("expected `<org>:<Name>`"));
        };
        if prefix != org {
            return Err(bad(&format!("prefix must be the organisation id `{org}`")));
        }
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !name_ok {
            return Err(bad("name must be non-empty [A-Za-z0-9_.-]"));
        }
        if self.by_key.contains_key(key) {
            return Err(VocabError::Duplicate {
                key: key.to_string(),
            });
        }
        if parents.is_empty() {
            return Err(bad("an organisation term needs at least one parent"));
        }
        for &p in parents {
            match self.terms.get(p.ix()) {
                None => return Err(bad(&format!("parent id {} does not exist", p.0))),
                Some(t) if t.kind != kind => {
                    return Err(bad(&format!(
                        "parent `{}` is a {}, not a {kind}",
                        t.key, t.kind
                    )))
                }
                Some(_) => {}
            }
        }
        let mut ps = parents.to_vec();
        ps.sort();
        ps.dedup();
        self.terms.push(Term {
            key: key.to_string(),
            kind,
            label: label.to_string(),
            definition: definition.to_string(),
            iri: None,
            parents: ps,
            source: Source::Organisation(org.to_string()),
            special_category: false,
            children: false,
        });
        let id = TermId(self.terms.len() as u32 - 1);
        // A new leaf cannot close a cycle, so this only fails on a bug.
        if let Err(e) = self.finish() {
            self.terms.pop();
            self.finish()?;
            return Err(e);
        }
        let explicit = std::mem::take(&mut self.explicit);
        self.set_explicit_purposes(explicit); // mask width grows with len
        Ok(id)
    }

    /// O(1): one bit test in a precomputed bitset.
    #[inline]
    pub fn is_ancestor_or_self(&self, ancestor: TermId, term: TermId) -> bool {
        let a = ancestor.ix();
        (self.anc_row(term)[a >> 6] >> (a & 63)) & 1 == 1
    }

    #[inline]
    fn anc_row(&self, id: TermId) -> &[u64] {
        let s = id.ix() * self.words;
        &self.anc[s..s + self.words]
    }

    /// Strict ancestors (not the terms linked to it), sorted by key.
    pub fn ancestors(&self, id: TermId) -> Vec<TermId> {
        let same = self.same_as(id);
        let mut v: Vec<TermId> = self
            .terms()
            .map(|(a, _)| a)
            .filter(|&a| a != id && !same.contains(&a) && self.is_ancestor_or_self(a, id))
            .collect();
        v.sort_by(|a, b| self.term(*a).key.cmp(&self.term(*b).key));
        v
    }

    /// Strict descendants (not the terms linked to it), sorted by key.
    pub fn descendants(&self, id: TermId) -> Vec<TermId> {
        let same = self.same_as(id);
        let mut v: Vec<TermId> = self
            .terms()
            .map(|(d, _)| d)
            .filter(|&d| d != id && !same.contains(&d) && self.is_ancestor_or_self(id, d))
            .collect();
        v.sort_by(|a, b| self.term(*a).key.cmp(&self.term(*b).key));
        v
    }

    /// Special category (UK GDPR Art 9) data, inherited from ancestors.
    #[inline]
    pub fn is_special_category(&self, id: TermId) -> bool {
        self.special[id.ix()]
    }

    /// Children's data, inherited from ancestors.
    #[inline]
    pub fn is_childrens_data(&self, id: TermId) -> bool {
        self.childrens[id.ix()]
    }

    pub fn explicit_purposes(&self) -> &[ExplicitPurpose] {
        &self.explicit
    }

    /// Replace the explicit purpose list (e.g. with an organisation's own).
    /// Ids out of range are ignored by the checks.
    pub fn set_explicit_purposes(&mut self, list: Vec<ExplicitPurpose>) {
        let mut mask = vec![0u64; self.words];
        for e in &list {
            let i = e.term.ix();
            if i < self.terms.len() {
                mask[i >> 6] |= 1 << (i & 63);
            }
        }
        self.explicit_mask = mask;
        self.explicit = list;
    }

    /// Whether a purpose is explicit-only: it is, or descends from, an
    /// explicit purpose.
    pub fn is_explicit(&self, purpose: TermId) -> bool {
        self.anc_row(purpose)
            .iter()
            .zip(&self.explicit_mask)
            .any(|(a, m)| a & m != 0)
    }

    /// Does a declared purpose cover a requested one? True iff `declared` is
    /// ancestor-or-self of `requested` and every explicit purpose that is
    /// ancestor-or-self of `requested` is also ancestor-or-self of
    /// `declared` (the notice named it, at or below it). O(len/64).
    pub fn covers_purpose(&self, declared: TermId, requested: TermId) -> bool {
        if !self.is_ancestor_or_self(declared, requested) {
            return false;
        }
        let (r, d) = (self.anc_row(requested), self.anc_row(declared));
        r.iter()
            .zip(d)
            .zip(&self.explicit_mask)
            .all(|((r, d), m)| r & m & !d == 0)
    }

    /// Categories: plain DAG coverage.
    #[inline]
    pub fn covers_category(&self, declared: TermId, requested: TermId) -> bool {
        self.is_ancestor_or_self(declared, requested)
    }

    /// The explicit purposes that stop `declared` covering `requested`
    /// (explicit ancestors-or-self of `requested` not above `declared`).
    pub fn blocking_explicit(&self, declared: TermId, requested: TermId) -> Vec<TermId> {
        self.explicit
            .iter()
            .map(|e| e.term)
            .filter(|&e| {
                e.ix() < self.terms.len()
                    && self.is_ancestor_or_self(e, requested)
                    && !self.is_ancestor_or_self(e, declared)
            })
            .collect()
    }

    // ---- building ----

    /// Rebuild indexes, closures and inherited flags after terms changed.
    fn finish(&mut self) -> Result<(), VocabError> {
        let n = self.terms.len();
        self.by_key.clear();
        self.by_iri.clear();
        self.by_lower.clear();
        for (id, t) in self.terms.iter().enumerate() {
            let id = TermId(id as u32);
            if self.by_key.insert(t.key.clone(), id).is_some() {
                return Err(VocabError::Duplicate { key: t.key.clone() });
            }
            if let Some(iri) = &t.iri {
                self.by_iri.insert(iri.clone(), id);
            }
            let lower = t.key.to_lowercase();
            let mut forms = vec![lower.clone()];
            // Bare names for built-in vocabularies; org bare names could clash
            // across organisations, so those need their prefix.
            if !matches!(t.source, Source::Organisation(_)) {
                forms.push(bare(&lower).to_string());
            }
            for f in forms {
                let e = self.by_lower.entry(f).or_default();
                if !e.contains(&id) {
                    e.push(id);
                }
            }
        }
        self.same = linked_classes(n, &self.links);
        // Ancestor bitsets by depth-first search; state 1 = on the stack.
        self.words = n.div_ceil(64).max(1);
        self.anc = vec![0; n * self.words];
        self.special = vec![false; n];
        self.childrens = vec![false; n];
        let mut state = vec![0u8; n];
        for i in 0..n {
            self.visit(i, &mut state)?;
        }
        Ok(())
    }

    fn visit(&mut self, i: usize, state: &mut [u8]) -> Result<(), VocabError> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                return Err(VocabError::Cycle {
                    key: self.terms[i].key.clone(),
                })
            }
            _ => {}
        }
        state[i] = 1;
        let w = self.words;
        // A term and those linked to it share bits, parents and flags.
        let members: Vec<usize> = std::iter::once(i)
            .chain(self.same[i].iter().map(|t| t.ix()))
            .collect();
        let mut row = vec![0u64; w];
        let (mut special, mut childrens) = (false, false);
        let mut parents = Vec::new();
        for &m in &members {
            row[m >> 6] |= 1 << (m & 63);
            special |= self.terms[m].special_category;
            childrens |= self.terms[m].children;
            parents.extend_from_slice(&self.terms[m].parents);
        }
        for p in parents {
            let p = p.ix();
            self.visit(p, state)?;
            for (r, a) in row.iter_mut().zip(&self.anc[p * w..(p + 1) * w]) {
                *r |= a;
            }
            special |= self.special[p];
            childrens |= self.childrens[p];
        }
        self.anc[i * w..(i + 1) * w].copy_from_slice(&row);
        self.special[i] = special;
        self.childrens[i] = childrens;
        state[i] = 2;
        Ok(())
    }

    fn push(&mut self, t: Term) -> TermId {
        self.terms.push(t);
        TermId(self.terms.len() as u32 - 1)
    }

    /// `root`: the file's top concept, parent of its otherwise-parentless terms.
    fn load_dpv(
        &mut self,
        file: &str,
        text: &str,
        kind: TermKind,
        root: Option<&str>,
    ) -> Result<(), VocabError> {
        #[derive(Deserialize)]
        struct Row {
            term: String,
            #[serde(rename = "type")]
            typ: String,
            iri: String,
            label: String,
            definition: String,
            dpvtype: String,
            hasbroader: String,
            vocab: String,
        }
        let mut rows = Vec::new();
        for r in csv::Reader::from_reader(text.as_bytes()).deserialize::<Row>() {
            let r = r.map_err(|e| VocabError::Parse {
                file: file.to_string(),
                line: e.position().map(|p| p.line() as usize),
                message: e.to_string(),
            })?;
            if r.typ == "class" && !DPV_SKIP.contains(&r.term.as_str()) {
                rows.push(r);
            }
        }
        // Parents are kept only when they are terms of this same file.
        let iri_to_id: HashMap<String, TermId> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.iri.clone(), TermId((self.terms.len() + i) as u32)))
            .collect();
        let root_id =
            match root {
                None => None,
                Some(name) => Some(rows.iter().position(|r| r.term == name).ok_or_else(|| {
                    VocabError::Parse {
                        file: file.to_string(),
                        line: None,
                        message: format!("root concept {name} missing"),
                    }
                })?),
            }
            .map(|i| TermId((self.terms.len() + i) as u32));
        for r in rows {
            let split = |s: &str| {
                s.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>()
            };
            let broader = split(&r.hasbroader);
            let mut parents: Vec<TermId> = broader
                .iter()
                .filter_map(|b| iri_to_id.get(b).copied())
                .collect();
            let this = TermId(self.terms.len() as u32);
            if let Some(root) = root_id.filter(|&r| parents.is_empty() && r != this) {
                parents.push(root);
            }
            let special = broader
                .iter()
                .chain(&split(&r.dpvtype))
                .any(|b| b == SPECIAL_IRI);
            let prefix = match r.vocab.as_str() {
                "dpv" | "pd" => r.vocab.clone(),
                other => {
                    return Err(VocabError::Parse {
                        file: file.to_string(),
                        line: None,
                        message: format!("term {} has unexpected vocab `{other}`", r.term),
                    })
                }
            };
            self.push(Term {
                key: format!("{prefix}:{}", r.term),
                kind,
                label: r.label,
                definition: r.definition,
                iri: Some(r.iri),
                parents,
                source: Source::Dpv,
                special_category: special,
                children: false,
            });
        }
        Ok(())
    }

    fn load_fideslang(&mut self, file: &str, text: &str) -> Result<(), VocabError> {
        #[derive(Deserialize)]
        struct Item {
            fides_key: String,
            name: String,
            #[serde(default)]
            description: String,
            parent_key: Option<String>,
        }
        #[derive(Deserialize)]
        struct Taxonomy {
            data_category: Vec<Item>,
            data_use: Vec<Item>,
            data_subject: Vec<Item>,
        }
        #[derive(Deserialize)]
        struct Doc {
            taxonomy: Taxonomy,
        }
        let doc: Doc = serde_yaml::from_str(text).map_err(|e| VocabError::Parse {
            file: file.to_string(),
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        let t = doc.taxonomy;
        for (kind, items) in [
            (TermKind::DataCategory, t.data_category),
            (TermKind::Purpose, t.data_use),
            (TermKind::DataSubject, t.data_subject),
        ] {
            // Items may precede their parents, so assign ids first.
            let base = self.terms.len();
            let ids: HashMap<String, TermId> = items
                .iter()
                .enumerate()
                .map(|(i, it)| (it.fides_key.clone(), TermId((base + i) as u32)))
                .collect();
            for it in items {
                let parents = match &it.parent_key {
                    None => vec![],
                    Some(p) => vec![*ids.get(p).ok_or_else(|| VocabError::Parse {
                        file: file.to_string(),
                        line: None,
                        message: format!("{} has unknown parent_key `{p}`", it.fides_key),
                    })?],
                };
                let is_data = kind == TermKind::DataCategory;
                let fk = it.fides_key.as_str();
                self.push(Term {
                    key: format!("fides:{fk}"),
                    kind,
                    label: it.name,
                    definition: it.description,
                    iri: None,
                    parents,
                    source: Source::Fideslang,
                    special_category: is_data && FIDES_SPECIAL.contains(&fk),
                    children: is_data && FIDES_CHILDREN.contains(&fk),
                });
            }
        }
        Ok(())
    }

    fn load_custody(&mut self, file: &str, text: &str) -> Result<(), VocabError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            key: String,
            kind: TermKind,
            label: String,
            definition: String,
            parents: Vec<String>,
            #[serde(default)]
            children: bool,
            #[serde(default)]
            special_category: bool,
        }
        #[derive(Deserialize)]
        struct Doc {
            term: Vec<Entry>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| toml_err(file, text, e))?;
        // Assign ids first so custody terms may sit under each other.
        let base = self.terms.len();
        let mut local: HashMap<&str, (TermId, TermKind)> = HashMap::new();
        for (i, e) in doc.term.iter().enumerate() {
            if !e.key.starts_with("custody:") {
                return Err(VocabError::BadKey {
                    key: e.key.clone(),
                    why: "custody terms must start with `custody:`".into(),
                });
            }
            local.insert(e.key.as_str(), (TermId((base + i) as u32), e.kind));
        }
        let mut new_terms = Vec::new();
        for e in &doc.term {
            let mut parents = Vec::new();
            for p in &e.parents {
                let found = local
                    .get(p.as_str())
                    .copied()
                    .or_else(|| self.by_key_slow(p).map(|id| (id, self.term(id).kind)));
                match found {
                    Some((id, k)) if k == e.kind => parents.push(id),
                    _ => {
                        return Err(VocabError::Parse {
                            file: file.to_string(),
                            line: None,
                            message: format!("{}: parent `{p}` is not a known {}", e.key, e.kind),
                        })
                    }
                }
            }
            new_terms.push(Term {
                key: e.key.clone(),
                kind: e.kind,
                label: e.label.clone(),
                definition: e.definition.clone(),
                iri: None,
                parents,
                source: Source::Custody,
                special_category: e.special_category,
                children: e.children,
            });
        }
        self.terms.extend(new_terms);
        Ok(())
    }

    /// Key lookup before the index is built (loading only).
    fn by_key_slow(&self, key: &str) -> Option<TermId> {
        self.terms
            .iter()
            .position(|t| t.key == key)
            .map(|i| TermId(i as u32))
    }

    /// Parse a links file (`[[link]] terms = [a, b] why = "..."`): exact
    /// keys of one kind, neither above the other, each link with its reason.
    fn parse_links(&self, file: &str, text: &str) -> Result<Vec<Link>, VocabError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            terms: toml::Spanned<[String; 2]>,
            why: String,
        }
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            link: Vec<Entry>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| toml_err(file, text, e))?;
        doc.link
            .into_iter()
            .map(|e| {
                let line = text[..e.terms.span().start].matches('\n').count() + 1;
                let fail = |message: String| VocabError::Parse {
                    file: file.to_string(),
                    line: Some(line),
                    message,
                };
                let [a, b] = e.terms.get_ref();
                let id = |k: &str| self.get(k).ok_or_else(|| fail(format!("no term `{k}`")));
                let (x, y) = (id(a)?, id(b)?);
                let (tx, ty) = (self.term(x), self.term(y));
                if tx.kind != ty.kind {
                    return Err(fail(format!(
                        "`{a}` is a {} and `{b}` a {}; only terms of one kind can mean the same",
                        tx.kind, ty.kind
                    )));
                }
                if self.is_ancestor_or_self(x, y) || self.is_ancestor_or_self(y, x) {
                    return Err(fail(format!(
                        "`{a}` and `{b}` are already one above the other; a link is for terms of different trees"
                    )));
                }
                if e.why.trim().is_empty() {
                    return Err(fail(format!("the link of `{a}` and `{b}` needs a `why`")));
                }
                Ok(Link {
                    terms: [x, y],
                    why: e.why.trim().to_string(),
                })
            })
            .collect()
    }

    /// Parse an explicit-purpose list (`[[explicit]] term = "..." reason = "..."`)
    /// against this vocabulary; terms must be purposes, given by exact key.
    pub fn parse_explicit(
        &self,
        file: &str,
        text: &str,
    ) -> Result<Vec<ExplicitPurpose>, VocabError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            term: String,
            reason: String,
        }
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            explicit: Vec<Entry>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| toml_err(file, text, e))?;
        doc.explicit
            .into_iter()
            .map(|e| {
                let term = match self.get(&e.term) {
                    Some(id) if self.term(id).kind == TermKind::Purpose => id,
                    _ => self.resolve(TermKind::Purpose, &e.term).and_then(|_| {
                        // Found only by a loose match: insist on the exact key.
                        Err(VocabError::BadKey {
                            key: e.term.clone(),
                            why: format!("{file}: explicit purposes must use exact keys"),
                        })
                    })?,
                };
                Ok(ExplicitPurpose {
                    term,
                    reason: e.reason,
                })
            })
            .collect()
    }
}

fn toml_err(file: &str, text: &str, e: toml::de::Error) -> VocabError {
    VocabError::Parse {
        file: file.to_string(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        message: e.message().to_string(),
    }
}

/// The key without its `prefix:`.
fn bare(key: &str) -> &str {
    key.split_once(':').map_or(key, |(_, b)| b)
}

/// Which vocabulary a key belongs to when resolving names: DPV's `dpv:` and
/// `pd:` are one.
fn vocabulary_family(key: &str) -> &str {
    match key.split_once(':').map_or("", |(p, _)| p) {
        "pd" => "dpv",
        p => p,
    }
}

/// Per term, the others joined to it by links (transitively), sorted.
fn linked_classes(n: usize, links: &[Link]) -> Vec<Vec<TermId>> {
    let mut same = vec![Vec::new(); n];
    for l in links {
        let [a, b] = l.terms;
        if a.ix() < n && b.ix() < n {
            same[a.ix()].push(b);
            same[b.ix()].push(a);
        }
    }
    // Close each class: whatever a member is linked to, all members are.
    let mut closed = vec![Vec::new(); n];
    for i in 0..n {
        if same[i].is_empty() {
            continue;
        }
        let mut class = vec![TermId(i as u32)];
        let mut k = 0;
        while k < class.len() {
            for &t in &same[class[k].ix()] {
                if !class.contains(&t) {
                    class.push(t);
                }
            }
            k += 1;
        }
        class.retain(|t| t.ix() != i);
        class.sort();
        closed[i] = class;
    }
    closed
}

/// Resolution preference for bare names: pd before dpv (data categories),
/// then fideslang, custody, organisations.
fn prefix_rank(key: &str) -> u8 {
    match key.split_once(':').map(|(p, _)| p) {
        Some("pd") => 0,
        Some("dpv") => 1,
        Some("fides") => 2,
        Some("custody") => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Vocabulary {
        Vocabulary::embedded()
    }
    fn id(v: &Vocabulary, key: &str) -> TermId {
        v.get(key).unwrap_or_else(|| panic!("missing {key}"))
    }
    fn count(v: &Vocabulary, kind: TermKind, src: Source) -> usize {
        v.terms()
            .filter(|(_, t)| t.kind == kind && t.source == src)
            .count()
    }

    #[test]
    fn embedded_loads_with_expected_counts() {
        let v = Vocabulary::try_embedded().expect("embedded data");
        assert_eq!(count(&v, TermKind::Purpose, Source::Dpv), 119); // 120 classes - Sector
        assert_eq!(count(&v, TermKind::Purpose, Source::Fideslang), 56);
        assert_eq!(count(&v, TermKind::DataCategory, Source::Dpv), 221);
        assert_eq!(count(&v, TermKind::DataCategory, Source::Fideslang), 85);
        assert_eq!(count(&v, TermKind::LegalBasis, Source::Dpv), 16);
        assert_eq!(count(&v, TermKind::DataSubject, Source::Dpv), 32);
        assert_eq!(count(&v, TermKind::DataSubject, Source::Fideslang), 15);
        assert_eq!(count(&v, TermKind::DataCategory, Source::Custody), 5);
        assert!(v.get("dpv:Sector").is_none());
        assert!(v.explicit_purposes().len() >= 8);
        for e in v.explicit_purposes() {
            assert_eq!(v.term(e.term).kind, TermKind::Purpose);
            assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn dag_is_well_formed() {
        let v = v();
        for (i, t) in v.terms() {
            assert!(v.is_ancestor_or_self(i, i));
            for &p in &t.parents {
                assert_eq!(v.term(p).kind, t.kind, "{}", t.key);
                assert!(!v.is_ancestor_or_self(i, p), "cycle at {}", t.key);
            }
        }
        // Each DPV core kind has one root; every DPV purpose is under dpv:Purpose.
        for (root, kind) in [
            ("dpv:Purpose", TermKind::Purpose),
            ("dpv:LegalBasis", TermKind::LegalBasis),
            ("dpv:HumanSubject", TermKind::DataSubject),
        ] {
            let r = id(&v, root);
            for (i, t) in v.terms() {
                if t.kind == kind && t.source == Source::Dpv {
                    assert!(v.is_ancestor_or_self(r, i), "{} not under {root}", t.key);
                }
            }
        }
        let rf = id(&v, "dpv:RightsFulfilment");
        assert_eq!(v.term(rf).parents, vec![id(&v, "dpv:Purpose")]);
        assert!(v
            .ancestors(id(&v, "dpv:DataSubject"))
            .contains(&id(&v, "dpv:HumanSubject")));
    }

    #[test]
    fn dpv_hierarchy_facts() {
        let v = v();
        let pc = id(&v, "dpv:PoliticalCampaign");
        let mut ps = v.term(pc).parents.clone();
        ps.sort();
        let mut want = vec![id(&v, "dpv:Advertising"), id(&v, "dpv:Personalisation")];
        want.sort();
        assert_eq!(ps, want);
        let anc = v.ancestors(pc);
        assert!(anc.contains(&id(&v, "dpv:Marketing")));
        assert!(!anc.contains(&pc));
        // SellDataToThirdParties -> SellProducts -> ServiceProvision -> Purpose
        let keys: Vec<&str> = v
            .ancestors(id(&v, "dpv:SellDataToThirdParties"))
            .into_iter()
            .map(|a| v.term(a).key.as_str())
            .collect();
        assert_eq!(
            keys,
            ["dpv:Purpose", "dpv:SellProducts", "dpv:ServiceProvision"]
        );
        assert!(v.descendants(id(&v, "dpv:Marketing")).contains(&pc));
        assert!(!v.descendants(pc).contains(&pc));
    }

    #[test]
    fn explicit_purposes_block_broad_declarations() {
        let mut v = v();
        let [mk, adv, pc, dm, sp, sell, p] = [
            "dpv:Marketing",
            "dpv:Advertising",
            "dpv:PoliticalCampaign",
            "dpv:DirectMarketing",
            "dpv:ServiceProvision",
            "dpv:SellDataToThirdParties",
            "dpv:Purpose",
        ]
        .map(|k| id(&v, k));
        assert!(!v.covers_purpose(mk, pc));
        assert!(!v.covers_purpose(adv, pc));
        assert!(!v.covers_purpose(p, pc));
        assert!(v.covers_purpose(pc, pc));
        assert!(v.covers_purpose(mk, dm));
        assert!(v.covers_purpose(mk, adv));
        assert!(!v.covers_purpose(dm, mk)); // wrong direction
        assert!(v.is_ancestor_or_self(sp, sell));
        assert!(!v.covers_purpose(sp, sell));
        assert_eq!(v.blocking_explicit(mk, pc), vec![pc]);
        assert!(v.blocking_explicit(pc, pc).is_empty());
        // TargetedAdvertising sits under PersonalisedAdvertising: both block.
        let ta = id(&v, "dpv:TargetedAdvertising");
        let pa = id(&v, "dpv:PersonalisedAdvertising");
        let mut b = v.blocking_explicit(adv, ta);
        b.sort();
        let mut want = vec![pa, ta];
        want.sort();
        assert_eq!(b, want);
        assert!(!v.covers_purpose(pa, ta)); // TargetedAdvertising must itself be named
        assert!(v.is_explicit(id(&v, "dpv:RecruitmentTargetedAdvertising")));
        assert!(!v.is_explicit(mk));
        // fideslang
        let fm = id(&v, "fides:marketing");
        assert!(!v.covers_purpose(fm, id(&v, "fides:marketing.advertising.profiling")));
        assert!(v.covers_purpose(fm, id(&v, "fides:marketing.communications.email")));

        // Org term under PoliticalCampaign is explicit by descent.
        let dc = v
            .add_term(
                "labour",
                "labour:DoorstepCanvass",
                TermKind::Purpose,
                "Doorstep canvassing",
                "",
                &[pc],
            )
            .expect("add");
        assert!(v.covers_purpose(pc, dc));
        assert!(!v.covers_purpose(mk, dc));
        assert!(v.is_explicit(dc));
        assert_eq!(
            v.resolve(TermKind::Purpose, "labour:DoorstepCanvass").ok(),
            Some(dc)
        );

        // Clearing the explicit list restores plain DAG coverage.
        v.set_explicit_purposes(vec![]);
        assert!(v.covers_purpose(mk, pc));
        assert!(v.covers_purpose(mk, dc));
    }

    #[test]
    fn special_category_and_children_flags() {
        let v = v();
        for k in [
            "pd:Health",
            "pd:MentalHealth",
            "pd:PoliticalOpinion",
            "pd:TradeUnionMembership",
            "custody:PregnancyDueDate",
            "fides:user.health_and_medical",
            "fides:user.health_and_medical.genetic",
            "fides:user.biometric.fingerprint",
            "fides:user.demographic.political_opinion",
        ] {
            assert!(v.is_special_category(id(&v, k)), "{k}");
        }
        for k in [
            "pd:Name",
            "pd:BirthDate",
            "pd:CriminalOffence",
            "fides:user.criminal_history",
            "fides:user.contact.email",
            "custody:ChildBirthDate",
        ] {
            assert!(!v.is_special_category(id(&v, k)), "{k}");
        }
        for k in [
            "custody:ChildBirthDate",
            "custody:ChildName",
            "custody:ChildrenUnder5InHousehold",
            "fides:user.childrens",
        ] {
            assert!(v.is_childrens_data(id(&v, k)), "{k}");
        }
        for k in ["pd:BirthDate", "custody:MotherBirthDate", "fides:user"] {
            assert!(!v.is_childrens_data(id(&v, k)), "{k}");
        }
        assert!(v.covers_category(id(&v, "pd:BirthDate"), id(&v, "custody:ChildBirthDate")));
        assert!(v.covers_category(id(&v, "fides:user.childrens"), id(&v, "custody:ChildName")));
        assert!(!v.covers_category(id(&v, "pd:Name"), id(&v, "custody:ChildBirthDate")));
    }

    #[test]
    fn resolve_forms() {
        let v = v();
        let pc = id(&v, "dpv:PoliticalCampaign");
        let p = TermKind::Purpose;
        assert_eq!(v.resolve(p, "dpv:PoliticalCampaign").ok(), Some(pc));
        assert_eq!(v.resolve(p, "PoliticalCampaign").ok(), Some(pc));
        assert_eq!(v.resolve(p, " politicalcampaign ").ok(), Some(pc));
        assert_eq!(
            v.resolve(p, "https://w3id.org/dpv#PoliticalCampaign").ok(),
            Some(pc)
        );
        assert_eq!(
            v.resolve(p, "marketing.advertising").ok(),
            v.get("fides:marketing.advertising")
        );
        let dc = TermKind::DataCategory;
        assert_eq!(
            v.resolve(dc, "user.contact.email").ok(),
            v.get("fides:user.contact.email")
        );
        assert_eq!(v.resolve(dc, "health").ok(), v.get("pd:Health"));
        assert_eq!(
            v.resolve(dc, "custody:ChildBirthDate").ok(),
            v.get("custody:ChildBirthDate")
        );
        // dpv:Customer and fides:customer are linked: any case gives DPV's;
        // the full key still names fideslang's.
        let ds = TermKind::DataSubject;
        for name in ["Customer", "customer", "CUSTOMER"] {
            assert_eq!(v.resolve(ds, name).ok(), v.get("dpv:Customer"), "{name}");
        }
        assert_eq!(
            v.resolve(ds, "fides:customer").ok(),
            v.get("fides:customer")
        );
        assert_eq!(v.resolve(p, "marketing").ok(), v.get("dpv:Marketing"));
        assert_eq!(
            v.resolve(TermKind::LegalBasis, "consent").ok(),
            v.get("dpv:Consent")
        );

        match v.resolve(p, "PoliticalCampaing") {
            Err(VocabError::Unknown {
                kind,
                name,
                suggestions,
                elsewhere: None,
            }) => {
                assert_eq!(kind, p);
                assert_eq!(name, "PoliticalCampaing");
                assert_eq!(
                    suggestions.first().map(String::as_str),
                    Some("dpv:PoliticalCampaign")
                );
                assert!(suggestions.len() <= 3);
            }
            other => panic!("{other:?}"),
        }
        let msg = v.resolve(p, "PoliticalCampaing").unwrap_err().to_string();
        assert!(msg.contains("did you mean dpv:PoliticalCampaign"), "{msg}");
        // Wrong kind: a data category is not a purpose, and the error says so.
        let err = v.resolve(p, "pd:Health").unwrap_err();
        assert!(matches!(
            err,
            VocabError::Unknown {
                elsewhere: Some(TermKind::DataCategory),
                ..
            }
        ));
        assert!(
            err.to_string().contains("(that is a data-category"),
            "{err}"
        );
        assert!(matches!(
            v.resolve(dc, "PoliticalCampaign"),
            Err(VocabError::Unknown { .. })
        ));
        match v.resolve(p, "zzzzzzzzqqq") {
            Err(VocabError::Unknown { suggestions, .. }) => assert!(suggestions.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unlinked_names_in_two_vocabularies_are_ambiguous() {
        let v = Vocabulary::embedded_with_links("").unwrap();
        let err = v.resolve(TermKind::Purpose, "marketing").unwrap_err();
        match &err {
            VocabError::Ambiguous { candidates, .. } => {
                let keys: Vec<&str> = candidates.iter().map(|c| c.key.as_str()).collect();
                assert_eq!(keys, ["dpv:Marketing", "fides:marketing"]);
            }
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("dpv:Marketing (\"Marketing\", DPV)")
                && msg.contains("fides:marketing (\"Marketing\", fideslang)"),
            "{msg}"
        );
        // Full keys are never ambiguous.
        assert!(v.resolve(TermKind::Purpose, "fides:marketing").is_ok());
    }

    #[test]
    fn search_finds_by_label_key_and_definition_best_first() {
        let v = v();
        let keys = |text: &str, kind| -> Vec<String> {
            v.search(text, kind)
                .into_iter()
                .map(|id| v.term(id).key.clone())
                .collect()
        };
        let due = keys("due date", None);
        assert_eq!(
            due.first().map(String::as_str),
            Some("custody:PregnancyDueDate"),
            "{due:?}"
        );
        let dm = keys("direct marketing", Some(TermKind::Purpose));
        assert_eq!(
            dm.first().map(String::as_str),
            Some("dpv:DirectMarketing"),
            "{dm:?}"
        );
        assert!(keys("direct marketing", Some(TermKind::DataCategory))
            .iter()
            .all(|k| v.term(v.get(k).unwrap()).kind == TermKind::DataCategory));
        // fideslang keys are searched as words.
        assert!(keys("contact email", None).contains(&"fides:user.contact.email".to_string()));
        assert!(keys("zzzz qqqq", None).is_empty());
        assert!(keys("  ", None).is_empty());
    }

    #[test]
    fn linked_terms_are_one() {
        let v = v();
        let (dpv, fides) = (id(&v, "dpv:Marketing"), id(&v, "fides:marketing"));
        assert_eq!(v.same_as(dpv), [fides]);
        assert!(v.is_ancestor_or_self(dpv, fides) && v.is_ancestor_or_self(fides, dpv));
        // Each covers the other's descendants.
        let ads = id(&v, "fides:marketing.advertising");
        let dm = id(&v, "dpv:DirectMarketing");
        assert!(v.covers_purpose(dpv, ads) && v.covers_purpose(fides, dm));
        // ... but not what is explicit-only below them.
        let targeted = id(&v, "dpv:PersonalisedAdvertising");
        assert!(!v.covers_purpose(fides, targeted));
        // Linked terms are not each other's ancestors when listed.
        assert!(!v.ancestors(dpv).contains(&fides));
        assert!(!v.descendants(fides).contains(&dpv));
        // Every link is of one kind, between trees, with a reason.
        assert!(v.links().len() >= 5);
        for l in v.links() {
            let [a, b] = l.terms;
            assert_eq!(v.term(a).kind, v.term(b).kind);
            assert_ne!(v.term(a).source, v.term(b).source);
            assert!(!l.why.is_empty());
        }
    }

    #[test]
    fn bad_links_are_refused_with_their_line() {
        let cases = [
            (
                "[[link]]\nterms = [\"dpv:Marketing\", \"fides:nope\"]\nwhy = \"x\"\n",
                "links.toml:2: no term `fides:nope`",
            ),
            (
                "\n[[link]]\nterms = [\"dpv:Marketing\", \"fides:customer\"]\nwhy = \"x\"\n",
                "links.toml:3: `dpv:Marketing` is a purpose and `fides:customer` a data-subject",
            ),
            (
                "[[link]]\nterms = [\"dpv:Marketing\", \"dpv:DirectMarketing\"]\nwhy = \"x\"\n",
                "already one above the other",
            ),
            (
                "[[link]]\nterms = [\"dpv:Marketing\", \"fides:marketing\"]\nwhy = \" \"\n",
                "needs a `why`",
            ),
        ];
        for (text, want) in cases {
            let err = Vocabulary::embedded_with_links(text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err} does not say {want}");
        }
    }

    #[test]
    fn add_term_validation() {
        let mut v = v();
        let pc = id(&v, "dpv:PoliticalCampaign");
        let health = id(&v, "pd:Health");
        let n = v.len();
        let add = |v: &mut Vocabulary, org: &str, key: &str, parents: &[TermId]| {
            v.add_term(org, key, TermKind::Purpose, "x", "y", parents)
        };
        for (org, key) in [
            ("labour", "DoorstepCanvass"),
            ("labour", "tory:DoorstepCanvass"),
            ("labour", "labour:"),
            ("labour", "labour:Door step"),
            ("labour", "labour:a:b"),
            ("dpv", "dpv:Mine"),
            ("", ":Mine"),
        ] {
            assert!(
                matches!(add(&mut v, org, key, &[pc]), Err(VocabError::BadKey { .. })),
                "{key}"
            );
        }
        assert!(matches!(
            add(&mut v, "labour", "labour:NoParent", &[]),
            Err(VocabError::BadKey { .. })
        ));
        assert!(matches!(
            add(&mut v, "labour", "labour:X", &[health]),
            Err(VocabError::BadKey { .. })
        ));
        assert!(matches!(
            add(&mut v, "labour", "labour:X", &[TermId(u32::MAX)]),
            Err(VocabError::BadKey { .. })
        ));
        assert_eq!(v.len(), n);
        let a = add(&mut v, "labour", "labour:Canvass-2024.v1", &[pc]).expect("valid");
        assert!(matches!(
            add(&mut v, "labour", "labour:Canvass-2024.v1", &[pc]),
            Err(VocabError::Duplicate { .. })
        ));
        // Terms can sit under org terms; closures and flags stay right.
        let b = add(&mut v, "labour", "labour:Leaflet", &[a]).expect("child");
        assert!(v.is_ancestor_or_self(pc, b) && v.is_ancestor_or_self(a, b));
        assert_eq!(v.ancestors(b).first(), v.get("dpv:Advertising").as_ref());
        let c = v
            .add_term(
                "clinic",
                "clinic:Scan",
                TermKind::DataCategory,
                "Scan",
                "",
                &[health],
            )
            .expect("category");
        assert!(v.is_special_category(c));
        assert_eq!(v.len(), n + 3);
        assert_eq!(v.term(c).source, Source::Organisation("clinic".into()));
    }

    #[test]
    fn cycles_and_bad_data_are_reported() {
        let mut v = Vocabulary::empty();
        v.load_custody(
            "t.toml",
            r#"
[[term]]
key = "custody:A"
kind = "purpose"
label = "A"
definition = ""
parents = ["custody:B"]
[[term]]
key = "custody:B"
kind = "purpose"
label = "B"
definition = ""
parents = ["custody:A"]
"#,
        )
        .expect("parses");
        assert!(matches!(v.finish(), Err(VocabError::Cycle { .. })));

        let mut v = Vocabulary::empty();
        let e = v.load_custody("t.toml", "[[term]]\nkey = 3\n").unwrap_err();
        assert!(
            matches!(e, VocabError::Parse { line: Some(2), .. }),
            "{e:?}"
        );
        let e = v
            .load_dpv("x.csv", "term,type\n\"A,class\n", TermKind::Purpose, None)
            .unwrap_err();
        assert!(matches!(e, VocabError::Parse { .. }), "{e:?}");

        let v = Vocabulary::embedded();
        let e = v.parse_explicit(
            "e.toml",
            "[[explicit]]\nterm = \"pd:Health\"\nreason = \"r\"\n",
        );
        assert!(e.is_err());
        let e = v.parse_explicit(
            "e.toml",
            "[[explicit]]\nterm = \"PoliticalCampaign\"\nreason = \"r\"\n",
        );
        assert!(matches!(e, Err(VocabError::BadKey { .. })));
    }

    #[test]
    fn kind_strings_round_trip() {
        for k in TermKind::ALL {
            assert_eq!(k.to_string().parse::<TermKind>().ok(), Some(k));
        }
        assert_eq!(TermKind::DataCategory.to_string(), "data-category");
        assert!("category".parse::<TermKind>().is_err());
    }
}
