//! Recipient categories: how notices name recipients they do not name one by one
//! (UK GDPR Art 13(1)(e): "the recipients or categories of recipients").

use serde::{Deserialize, Serialize};

/// The categories custody knows. A closed list on purpose: a typo in a notice
/// ("politcal party") must be an error, not a category nobody is in.
pub const KNOWN: &[(&str, &str)] = &[
    ("data-broker", "Data brokers and list owners"),
    (
        "marketing-company",
        "Companies that market their own products or services",
    ),
    (
        "political-party",
        "Political parties, candidates and campaigners",
    ),
    (
        "service-provider",
        "Processors acting on the controller's instructions",
    ),
    ("group-company", "Companies in the controller's group"),
    (
        "credit-reference-agency",
        "Credit reference and fraud prevention agencies",
    ),
    ("research-organisation", "Research organisations"),
    ("charity", "Charities and non-profit organisations"),
    (
        "public-authority",
        "Public authorities, regulators and law enforcement",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecipientCategory(String);

impl RecipientCategory {
    /// Accepts `political-party`, `political party`, `Political Parties`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut slug = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        if !KNOWN.iter().any(|(k, _)| *k == slug) {
            // plural forms: "data brokers", "political parties", "charities"
            for (plural, singular) in [("ies", "y"), ("s", "")] {
                if let Some(stem) = slug.strip_suffix(plural) {
                    let candidate = format!("{stem}{singular}");
                    if KNOWN.iter().any(|(k, _)| *k == candidate) {
                        slug = candidate;
                        break;
                    }
                }
            }
        }
        if KNOWN.iter().any(|(k, _)| *k == slug) {
            Ok(RecipientCategory(slug))
        } else {
            let known: Vec<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
            Err(format!(
                "unknown recipient category `{s}` (known: {})",
                known.join(", ")
            ))
        }
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
        assert!(RecipientCategory::parse("politcal party").is_err());
    }
}
