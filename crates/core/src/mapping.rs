//! Collection mappings: which column of a records file is the subject
//! identifier, which are personal data of which category, and which are
//! consent flags for which declaration of the notice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::notice::Notice;
use crate::vocab::{TermId, TermKind, Vocabulary};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSource {
    /// The column holding the subject's identifier (unique per organisation).
    pub subject: String,
    /// Optional column with each record's collection date or timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// column -> data category (any spelling `custody vocab show` accepts).
    pub columns: BTreeMap<String, String>,
    /// declaration id -> column holding yes/no.
    #[serde(default)]
    pub consents: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {message}")]
pub struct MappingError {
    pub file: String,
    pub field: String,
    pub message: String,
}

/// A mapping checked against a file's header, the vocabulary and the notice.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub source: MappingSource,
    pub subject: usize,
    pub collected_at: Option<usize>,
    /// (column index, column name, category)
    pub fields: Vec<(usize, String, TermId)>,
    /// (column index, declaration index in the notice)
    pub consents: Vec<(usize, usize)>,
}

pub fn parse_source(file: &str, text: &str) -> Result<MappingSource, MappingError> {
    toml::from_str(text).map_err(|e| MappingError {
        file: file.into(),
        field: "mapping".into(),
        message: e.to_string(),
    })
}

impl MappingSource {
    pub fn resolve(
        &self,
        file: &str,
        header: &[String],
        vocab: &Vocabulary,
        notice: &Notice,
    ) -> Result<Mapping, MappingError> {
        let err = |field: String, message: String| MappingError {
            file: file.into(),
            field,
            message,
        };
        let column = |field: String, name: &str| -> Result<usize, MappingError> {
            header.iter().position(|h| h == name).ok_or_else(|| {
                err(
                    field,
                    format!(
                        "column `{name}` is not in the records file (it has: {})",
                        header.join(", ")
                    ),
                )
            })
        };
        let subject = column("subject".into(), &self.subject)?;
        let collected_at = match &self.collected_at {
            Some(c) => Some(column("collected_at".into(), c)?),
            None => None,
        };
        let mut fields = Vec::new();
        for (col, cat) in &self.columns {
            let idx = column(format!("columns.{col}"), col)?;
            let term = vocab
                .resolve(TermKind::DataCategory, cat)
                .map_err(|e| err(format!("columns.{col}"), e.to_string()))?;
            fields.push((idx, col.clone(), term));
        }
        let mut consents = Vec::new();
        for (decl, col) in &self.consents {
            let d = notice.declaration_index(decl).ok_or_else(|| {
                let ids: Vec<&str> = notice.declarations.iter().map(|d| d.id.as_str()).collect();
                err(
                    format!("consents.{decl}"),
                    format!(
                        "notice {} has no declaration `{decl}` (it has: {})",
                        notice.version,
                        ids.join(", ")
                    ),
                )
            })?;
            consents.push((column(format!("consents.{decl}"), col)?, d));
        }
        Ok(Mapping {
            source: self.clone(),
            subject,
            collected_at,
            fields,
            consents,
        })
    }
}

/// Consent flags as forms and exports write them.
pub fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "t" | "1" | "x" => Ok(true),
        "no" | "n" | "false" | "f" | "0" | "" => Ok(false),
        _ => Err(format!(
            "`{value}` is not a consent flag (yes/no, true/false, 1/0)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice;

    const NOTICE: &str = r#"
version = "1"
effective = "2017-01-01"
[[declarations]]
id = "partners"
purposes = ["Marketing"]
data_categories = ["Name"]
legal_basis = "consent"
"#;

    #[test]
    fn resolves_against_header_and_notice() {
        let vocab = Vocabulary::embedded();
        let n = notice::parse_source("n.toml", NOTICE)
            .unwrap()
            .resolve("n.toml", "o", &vocab)
            .unwrap();
        let m = parse_source(
            "m.toml",
            "subject = \"id\"\n[columns]\nname = \"Name\"\n[consents]\npartners = \"ok\"\n",
        )
        .unwrap();
        let header: Vec<String> = ["id", "name", "ok"].iter().map(|s| s.to_string()).collect();
        let r = m.resolve("m.toml", &header, &vocab, &n).unwrap();
        assert_eq!((r.subject, r.fields[0].0, r.consents[0]), (0, 1, (2, 0)));

        let short: Vec<String> = ["id", "name"].iter().map(|s| s.to_string()).collect();
        let e = m
            .resolve("m.toml", &short, &vocab, &n)
            .unwrap_err()
            .to_string();
        assert!(e.contains("consents.partners") && e.contains("`ok`"), "{e}");

        let m2 = parse_source("m.toml", "subject = \"id\"\n[columns]\nname = \"Nmae\"\n").unwrap();
        let e = m2
            .resolve("m.toml", &header, &vocab, &n)
            .unwrap_err()
            .to_string();
        assert!(e.contains("columns.name"), "{e}");
    }

    #[test]
    fn flags() {
        assert!(parse_flag("Yes").unwrap());
        assert!(!parse_flag("").unwrap());
        assert!(parse_flag("maybe").is_err());
    }
}
