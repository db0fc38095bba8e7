//! `org add` and `org list`.

use anyhow::Result;
use custody_core::organisation::Organisation;
use custody_core::recipient::RecipientCategory;

use crate::args::OrgCommand;
use crate::{output, Paths};

pub fn run(paths: &Paths, command: OrgCommand) -> Result<()> {
    match command {
        OrgCommand::Add {
            id,
            name,
            role,
            category,
        } => {
            let mut engine = paths.open()?;
            let categories = if category.is_empty() {
                role.default_categories()
            } else {
                category
                    .iter()
                    .map(|c| RecipientCategory::parse(c))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(anyhow::Error::msg)?
            };
            let org = Organisation {
                id,
                name,
                role,
                categories,
            };
            engine.add_org(&org)?;
            println!("added {} ({}, {})", org.id, org.name, org.role.as_str());
            Ok(())
        }
        OrgCommand::List { json } => {
            let engine = paths.open()?;
            output::orgs(&custody_store::Store::orgs(&engine.store)?, json);
            Ok(())
        }
    }
}
