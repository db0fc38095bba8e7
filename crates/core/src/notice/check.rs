//! Questions custody asks of a notice before it is published: what a reader
//! of the notice, or the ICO, would ask first. Each finding names the
//! declaration's field and the provision it rests on.
//!
//! Publishing never refuses a notice for these: a notice is evidence of
//! what people were told, flawed or not, and the gate judges each
//! disclosure against it. `custody notice check` fails on errors, so a
//! notice can be fixed before anyone is shown it.

use serde::Serialize;

use crate::basis::LegalBasis;
use crate::notice::{Declaration, Notice};
use crate::vocab::{TermId, Vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The notice says something unlawful or misleading.
    Error,
    /// The notice leaves out something the law asks for, or names
    /// something custody cannot check.
    Warning,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `declarations[2] (partners).recipients`.
    pub field: String,
    pub message: String,
    /// The provision behind it: `UK GDPR Art 9(1)`.
    pub provision: &'static str,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}: {} ({})",
            self.severity, self.field, self.message, self.provision
        )
    }
}

/// Purposes that by their nature hand data to someone else: a declaration
/// for one of them discloses, so it must say to whom.
const DISCLOSING: &[&str] = &[
    "dpv:SellDataToThirdParties",
    "dpv:SellInsightsFromData",
    "fides:marketing.advertising.third_party",
];

/// Every finding about `notice`, errors first. `is_org` says whether an
/// organisation id is known here.
pub fn check(notice: &Notice, vocab: &Vocabulary, is_org: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let mut found = Vec::new();
    for (i, d) in notice.declarations.iter().enumerate() {
        let at = |name: &str| format!("declarations[{i}] ({}).{name}", d.id);
        let mut say = |severity, name: &str, message: String, provision| {
            found.push(Finding {
                severity,
                field: at(name),
                message,
                provision,
            })
        };
        for p in unspecified_purposes(d, vocab) {
            say(
                Severity::Error,
                "purposes",
                format!(
                    "`{}` is the whole of its vocabulary, not a purpose; data is declared for no \
                     purpose in particular",
                    vocab.term(p).key
                ),
                "UK GDPR Art 5(1)(b)",
            );
        }
        if d.special_condition.is_none() {
            let special = keys(
                vocab,
                d.categories
                    .iter()
                    .copied()
                    .filter(|c| vocab.is_special_category(*c)),
            );
            if !special.is_empty() {
                say(
                    Severity::Error,
                    "special_category_condition",
                    format!(
                        "{special} {} special category data, but the declaration names no Art 9 \
                         condition (e.g. `explicit-consent`)",
                        if special.contains(", ") { "are" } else { "is" }
                    ),
                    "UK GDPR Art 9(1), (2)",
                );
            }
        }
        let disclosing = keys(
            vocab,
            d.purposes.iter().copied().filter(|p| discloses(vocab, *p)),
        );
        if d.basis == LegalBasis::Consent && !disclosing.is_empty() && d.recipients().is_empty() {
            say(
                Severity::Error,
                "recipients",
                format!(
                    "consent is asked for {disclosing}, which hands data to others, but the \
                     declaration names no recipient or category of recipient; consent to an \
                     unnamed recipient is not informed"
                ),
                "UK GDPR Art 4(11), 7, 13(1)(e)",
            );
        }
        for o in d.recipient_orgs.iter().filter(|o| !is_org(o)) {
            say(
                Severity::Warning,
                "recipients.organisations",
                format!(
                    "no organisation `{o}` is registered here, so no disclosure can be checked \
                     against this name (add it with `custody org add`)"
                ),
                "UK GDPR Art 13(1)(e)",
            );
        }
        if d.retention.is_none() {
            say(
                Severity::Warning,
                "retention",
                "says nothing of how long the data is kept (e.g. `retention = \"P3Y\"`)".into(),
                "UK GDPR Art 13(2)(a)",
            );
        }
    }
    found.sort_by_key(|f| f.severity);
    found
}

/// Purposes that are a vocabulary's root: `dpv:Purpose` says nothing.
fn unspecified_purposes(d: &Declaration, vocab: &Vocabulary) -> Vec<TermId> {
    d.purposes
        .iter()
        .copied()
        .filter(|&p| vocab.term(p).key == "dpv:Purpose")
        .collect()
}

fn discloses(vocab: &Vocabulary, purpose: TermId) -> bool {
    DISCLOSING
        .iter()
        .filter_map(|k| vocab.get(k))
        .any(|d| vocab.is_ancestor_or_self(d, purpose))
}

fn keys(vocab: &Vocabulary, ids: impl Iterator<Item = TermId>) -> String {
    ids.map(|t| format!("`{}`", vocab.term(t).key))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::parse_source;

    fn findings(declaration: &str) -> Vec<(Severity, String, &'static str)> {
        let vocab = Vocabulary::embedded();
        let text = format!(
            "version = \"1\"\neffective = \"2017-01-01\"\n[[declarations]]\nid = \"d\"\n{declaration}"
        );
        let notice = parse_source("n.toml", &text)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap();
        check(&notice, &vocab, &|o| o == "experian")
            .into_iter()
            .map(|f| (f.severity, f.field, f.provision))
            .collect()
    }

    #[test]
    fn each_question_and_its_provision() {
        use Severity::*;
        let base = "data_categories = [\"Name\"]\nretention = \"P1Y\"\n";
        let table: Vec<(String, Vec<(Severity, &str, &str)>)> = vec![
            (
                format!("purposes = [\"Marketing\"]\nlegal_basis = \"consent\"\n{base}"),
                vec![],
            ),
            (
                "purposes = [\"Marketing\"]\nlegal_basis = \"consent\"\ndata_categories = [\"Name\"]\n".into(),
                vec![(Warning, "declarations[0] (d).retention", "UK GDPR Art 13(2)(a)")],
            ),
            (
                "purposes = [\"ServiceProvision\"]\nlegal_basis = \"contract\"\ndata_categories = [\"Health\"]\nretention = \"P1Y\"\n".into(),
                vec![(Error, "declarations[0] (d).special_category_condition", "UK GDPR Art 9(1), (2)")],
            ),
            (
                "purposes = [\"ServiceProvision\"]\nlegal_basis = \"contract\"\ndata_categories = [\"Health\"]\nretention = \"P1Y\"\nspecial_category_condition = \"explicit-consent\"\n".into(),
                vec![],
            ),
            (
                format!("purposes = [\"SellDataToThirdParties\"]\nlegal_basis = \"consent\"\n{base}"),
                vec![(Error, "declarations[0] (d).recipients", "UK GDPR Art 4(11), 7, 13(1)(e)")],
            ),
            (
                format!("purposes = [\"SellDataToThirdParties\"]\nlegal_basis = \"consent\"\n{base}recipients.categories = [\"data broker\"]\n"),
                vec![],
            ),
            (
                format!("purposes = [\"Marketing\"]\nlegal_basis = \"consent\"\n{base}recipients.organisations = [\"experian\", \"labour\"]\n"),
                vec![(Warning, "declarations[0] (d).recipients.organisations", "UK GDPR Art 13(1)(e)")],
            ),
            (
                format!("purposes = [\"dpv:Purpose\"]\nlegal_basis = \"consent\"\n{base}"),
                vec![(Error, "declarations[0] (d).purposes", "UK GDPR Art 5(1)(b)")],
            ),
        ];
        for (declaration, want) in table {
            let got = findings(&declaration);
            let got: Vec<(Severity, &str, &str)> =
                got.iter().map(|(s, f, p)| (*s, f.as_str(), *p)).collect();
            assert_eq!(got, want, "{declaration}");
        }
    }
}
