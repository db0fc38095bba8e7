//! `vocab show`, `search`, `add` and `explicit`.

use anyhow::{Context, Result};
use custody_core::vocab::{TermKind, VocabError};

use crate::args::VocabCommand;
use crate::{output, Paths};

pub fn run(paths: &Paths, command: VocabCommand) -> Result<()> {
    match command {
        VocabCommand::Show { term, kind, json } => {
            let engine = paths.open()?;
            let id = match kind {
                Some(k) => engine.vocab.resolve(k, &term)?,
                // The first kind that knows the name, even as an ambiguity.
                None => TermKind::ALL
                    .iter()
                    .map(|k| engine.vocab.resolve(*k, &term))
                    .find(|r| !matches!(r, Err(VocabError::Unknown { .. })))
                    .unwrap_or_else(|| engine.vocab.resolve(TermKind::Purpose, &term))?,
            };
            output::term(&engine.vocab, id, json);
            Ok(())
        }
        VocabCommand::Search {
            text,
            kind,
            limit,
            json,
        } => {
            let engine = paths.open()?;
            output::search(&engine.vocab, &text, kind, limit, json);
            Ok(())
        }
        VocabCommand::Add {
            org,
            key,
            kind,
            parent,
            label,
            definition,
        } => {
            let mut engine = paths.open()?;
            engine.add_term(
                &org,
                &key,
                kind,
                &label,
                definition.as_deref().unwrap_or(""),
                &parent,
            )?;
            println!("added {key} under {}", parent.join(", "));
            Ok(())
        }
        VocabCommand::Explicit { set, json } => {
            let mut engine = paths.open()?;
            if let Some(file) = set {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let list = engine
                    .vocab
                    .parse_explicit(&file.display().to_string(), &text)?;
                let pairs = list
                    .iter()
                    .map(|e| (engine.vocab.term(e.term).key.clone(), e.reason.clone()))
                    .collect();
                engine.set_explicit(pairs)?;
            }
            output::explicit(&engine.vocab, json);
            Ok(())
        }
    }
}
