//! Recipient categories: how notices name recipients they do not name one by one
//! (UK GDPR Art 13(1)(e): "the recipients or categories of recipients").

use serde::{Deserialize, Serialize};

/// How a category's DPV term relates to it (SKOS mapping words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Match {
    /// The DPV term means this category.
    Exact,
    /// The DPV term is broader: DPV 2.2 has nothing narrower.
    Broader,
}

/// A recipient category custody knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Known {
    pub slug: &'static str,
    pub label: &'static str,
    /// The DPV entity term for it, and how close that is.
    pub dpv: &'static str,
    pub dpv_match: Match,
}

const fn known(
    slug: &'static str,
    label: &'static str,
    dpv: &'static str,
    dpv_match: Match,
) -> Known {
    Known {
        slug,
        label,
        dpv,
        dpv_match,
    }
}

/// The categories custody knows. A closed list on purpose: a typo in a notice
/// ("politcal party") must be an error, not a category nobody is in.
pub const KNOWN: &[Known] = &[
    known(
        "data-broker",
        "Data brokers and list owners",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "marketing-company",
        "Companies that market their own products or services",
        "dpv:ForProfitOrganisation",
        Match::Broader,
    ),
    known(
        "advertising-network",
        "Advertising networks and ad-tech companies",
        "dpv:ForProfitOrganisation",
        Match::Broader,
    ),
    known(
        "political-party",
        "Political parties, candidates and campaigners",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "service-provider",
        "Processors acting on the controller's instructions",
        "dpv:DataProcessor",
        Match::Exact,
    ),
    known(
        "group-company",
        "Companies in the controller's group",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "credit-reference-agency",
        "Credit reference and fraud prevention agencies",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "debt-collector",
        "Debt collection agencies",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "financial-institution",
        "Banks, building societies and payment providers",
        "dpv:ForProfitOrganisation",
        Match::Broader,
    ),
    known(
        "insurer",
        "Insurers and insurance brokers",
        "dpv:ForProfitOrganisation",
        Match::Broader,
    ),
    known(
        "employer",
        "The person's employer or prospective employer",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "recruitment-agency",
        "Recruitment and employment agencies",
        "dpv:ForProfitOrganisation",
        Match::Broader,
    ),
    known(
        "health-provider",
        "Doctors, hospitals and other health or care providers",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "education-provider",
        "Schools, colleges and universities",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "professional-adviser",
        "Lawyers, accountants, auditors and other advisers",
        "dpv:ThirdParty",
        Match::Broader,
    ),
    known(
        "research-organisation",
        "Research organisations",
        "dpv:AcademicScientificOrganisation",
        Match::Broader,
    ),
    known(
        "charity",
        "Charities and non-profit organisations",
        "dpv:NonProfitOrganisation",
        Match::Exact,
    ),
    known(
        "public-authority",
        "Public authorities, regulators and law enforcement",
        "dpv:GovernmentalOrganisation",
        Match::Broader,
    ),
    known(
        "law-enforcement",
        "The police and other law enforcement bodies",
        "dpv:GovernmentalOrganisation",
        Match::Broader,
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecipientCategory(String);

impl RecipientCategory {
    /// Accepts `political-party`, `political party`, `Political Parties`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let is_known = |slug: &str| KNOWN.iter().any(|k| k.slug == slug);
        let mut slug = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        if !is_known(&slug) {
            // plural forms: "data brokers", "political parties", "charities"
            for (plural, singular) in [("ies", "y"), ("s", "")] {
                if let Some(stem) = slug.strip_suffix(plural) {
                    let candidate = format!("{stem}{singular}");
                    if is_known(&candidate) {
                        slug = candidate;
                        break;
                    }
                }
            }
        }
        if is_known(&slug) {
            return Ok(RecipientCategory(slug));
        }
        let slugs = KNOWN.iter().map(|k| k.slug);
        let hint = crate::spelling::nearest(s, slugs.clone())
            .map(|n| format!("; did you mean {n}?"))
            .unwrap_or_default();
        Err(format!(
            "unknown recipient category `{s}`{hint} (known: {})",
            slugs.collect::<Vec<_>>().join(", ")
        ))
    }

    /// What custody knows of it: label and DPV term.
    pub fn known(&self) -> &'static Known {
        KNOWN
            .iter()
            .find(|k| k.slug == self.0)
            .expect("a parsed category is known")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RecipientCategory {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RecipientCategory::parse(&s)
    }
}

impl From<RecipientCategory> for String {
    fn from(c: RecipientCategory) -> String {
        c.0
    }
}

impl std::fmt::Display for RecipientCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_spellings() {
        for s in [
            "political-party",
            "Political Party",
            "political parties",
            "political_party",
        ] {
            assert_eq!(
                RecipientCategory::parse(s).unwrap().as_str(),
                "political-party",
                "{s}"
            );
        }
        assert_eq!(
            RecipientCategory::parse("charities").unwrap().as_str(),
            "charity"
        );
        let err = RecipientCategory::parse("politcal party").unwrap_err();
        assert!(err.contains("did you mean political-party?"), "{err}");
    }

    #[test]
    fn every_category_has_a_dpv_term_of_entities() {
        for k in KNOWN {
            assert!(k.dpv.starts_with("dpv:"), "{}", k.slug);
            assert_eq!(RecipientCategory::parse(k.slug).unwrap().known(), k);
        }
    }
}
