//! Organisations: who collects, who receives, who audits.

use serde::{Deserialize, Serialize};

use crate::recipient::RecipientCategory;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Controller,
    Broker,
    Campaign,
    Regulator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Controller => "controller",
            Role::Broker => "broker",
            Role::Campaign => "campaign",
            Role::Regulator => "regulator",
        }
    }

    /// The recipient categories an organisation of this role falls in unless
    /// told otherwise: a notice naming "data brokers" names every broker.
    pub fn default_categories(self) -> Vec<RecipientCategory> {
        let slugs: &[&str] = match self {
            Role::Controller => &[],
            Role::Broker => &["data-broker"],
            Role::Campaign => &["political-party"],
            Role::Regulator => &["public-authority"],
        };
        slugs
            .iter()
            .map(|s| RecipientCategory::parse(s).expect("known category"))
            .collect()
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "controller" => Ok(Role::Controller),
            "broker" => Ok(Role::Broker),
            "campaign" => Ok(Role::Campaign),
            "regulator" => Ok(Role::Regulator),
            _ => Err(format!(
                "unknown role `{s}` (controller, broker, campaign, regulator)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub categories: Vec<RecipientCategory>,
}

/// Organisation ids appear in term keys (`<org>:<Name>`) and file names.
pub fn validate_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "organisation id `{id}` must be 1-64 characters of a-z, 0-9 and '-' (e.g. `emmas-diary`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(validate_id("emmas-diary").is_ok());
        assert!(validate_id("Emma's Diary").is_err());
        assert!(validate_id("").is_err());
        assert!(validate_id("dpv").is_ok());
    }

    #[test]
    fn roles_bring_categories() {
        assert_eq!(
            Role::Campaign.default_categories()[0].as_str(),
            "political-party"
        );
        assert!(Role::Controller.default_categories().is_empty());
        assert!("broker".parse::<Role>().is_ok());
        assert!("party".parse::<Role>().is_err());
    }
}
