//! The log's commands: `init`, `log ...` (but `log check`, in `check`),
//! `receipt` and `verify-receipt`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use custody_core::entry::Entry;
use custody_engine::log::receipt::{describe, verify_receipt, Names};
use custody_log::note::Verifier;
use serde_json::json;

use crate::args::LogCommand;
use crate::output::{count, num, print_json};
use crate::progress::Bar;
use crate::Paths;

pub fn init(paths: &Paths, origin: &str) -> Result<()> {
    let mut engine = paths.open_with(Some(origin))?;
    let name = engine.verifier().name().to_string();
    if name != origin {
        bail!(
            "this log is already named {name} (its key {} signs as {name}); a log keeps its name",
            paths.key.display()
        );
    }
    let note = engine.init_log()?;
    println!(
        "database {} ready; log origin {}",
        custody_store::AnyStore::location(&paths.db),
        engine.verifier().name()
    );
    println!(
        "signing key {} (keep it safe; never share it)",
        paths.key.display()
    );
    println!("verifier key: {}", engine.verifier_key());
    print!("\n{note}");
    Ok(())
}

pub fn run(paths: &Paths, command: LogCommand) -> Result<()> {
    // Proofs from other logs need no database of ours.
    if let LogCommand::Check(check) = command {
        return crate::check::run(check);
    }
    let engine = paths.open()?;
    match command {
        LogCommand::Checkpoint => print!("{}", engine.checkpoint()?),
        LogCommand::Key => println!("{}", engine.verifier_key()),
        LogCommand::Consistency { from } => {
            let old = read(&from)?;
            let c = engine
                .consistency(&old)
                .with_context(|| format!("checking {}", from.display()))?;
            for h in &c.proof {
                println!("{h}");
            }
            eprintln!(
                "the log at {} extends the checkpoint of {}",
                count(c.to_size, "entry"),
                count(c.from_size, "entry")
            );
        }
        LogCommand::Verify { from, json } => {
            let old = from.as_deref().map(read).transpose()?;
            let v = engine.verify_log(old.as_deref(), &Bar::records())?;
            if json {
                print_json(&v);
            } else {
                println!(
                    "log {} verified: {}, root {}, {}, each consistent with the last",
                    v.origin,
                    count(v.size, "entry"),
                    v.root,
                    count(v.checkpoints as u64, "signed checkpoint")
                );
                if let Some(f) = v.from {
                    println!("it extends the given checkpoint of {}", count(f, "entry"));
                }
                let s = &v.state;
                println!(
                    "{}: {}, {}, {}, {}, {}, {}, {} in imported history",
                    if v.rows_bound {
                        "every stored row matches the entry that made it"
                    } else {
                        "the store holds as many rows as the log records (a log begun before \
                         entry version 2 does not hold whole rows)"
                    },
                    count(s.orgs, "organisation"),
                    count(s.notices, "notice"),
                    count(s.records_collected, "collected record"),
                    count(s.preferences, "preference event"),
                    count(s.disclosures, "disclosure"),
                    count(s.decisions, "decision"),
                    count(s.disclosed_history, "record")
                );
            }
        }
        LogCommand::Export { dir } => {
            let e = engine.export_tiles(&dir, &Bar::records())?;
            println!(
                "wrote {} as C2SP tlog-tiles to {}: {}, {}, and the checkpoint",
                count(e.size, "entry"),
                e.dir.display(),
                count(e.tiles as u64, "tile"),
                count(e.bundles, "entry bundle")
            );
        }
        LogCommand::Show { from, limit, json } => {
            let names = engine.names()?;
            let rows: Vec<_> = engine
                .log_entries(from, limit)?
                .into_iter()
                .map(|(index, bytes)| {
                    let entry = Entry::decode(&bytes).map(|e| {
                        (
                            e.kind_name(),
                            describe(&e, &names),
                            e.subject().map(hex::encode),
                        )
                    });
                    (index, entry.map_err(|e| e.to_string()))
                })
                .collect();
            if json {
                let all: Vec<_> = rows
                    .iter()
                    .map(|(i, e)| match e {
                        Ok((kind, text, subject)) => {
                            json!({"index": i, "kind": kind, "text": text, "subject": subject})
                        }
                        Err(err) => json!({"index": i, "error": err}),
                    })
                    .collect();
                print_json(&all);
            } else {
                for (i, e) in rows {
                    match e {
                        Ok((kind, text, subject)) => {
                            let who = subject
                                .map(|s| format!(" [subject {}…]", &s[..16]))
                                .unwrap_or_default();
                            println!("{i:>10}  {kind:<20} {text}{who}");
                        }
                        Err(err) => println!("{i:>10}  undecodable: {err}"),
                    }
                }
            }
        }
        LogCommand::Prove { index } => print!("{}", engine.tlog_proof(index)?.to_text()),
        LogCommand::Check(_) => unreachable!("checked before the store is opened"),
    }
    Ok(())
}

pub fn receipt(paths: &Paths, org: &str, subject: &str, out: &Path, as_json: bool) -> Result<()> {
    let engine = paths.open()?;
    let receipts = engine.receipts(org, subject, out)?;
    if as_json {
        print_json(&receipts);
        return Ok(());
    }
    if receipts.is_empty() {
        println!("the log holds no entry about {subject} at {org}");
        return Ok(());
    }
    println!(
        "{} for {subject} in {}:",
        crate::output::count(receipts.len(), "receipt"),
        out.display()
    );
    for r in &receipts {
        println!("  {}  {}", r.file.display(), r.summary);
    }
    println!(
        "check one offline: custody verify-receipt FILE --key '{}'",
        engine.verifier_key()
    );
    Ok(())
}

/// The verifier key given with `--key`: the key itself, or a file holding it.
pub(crate) fn read_verifier(key: &str) -> Result<Verifier> {
    let key_text = if Path::new(key).is_file() {
        read(Path::new(key))?
    } else {
        key.to_string()
    };
    Verifier::from_text(key_text.trim())
        .map_err(|e| anyhow::anyhow!("--key: not a verifier key: {e}"))
}

pub fn verify(file: &Path, key: &str, as_json: bool) -> Result<()> {
    let verifier = read_verifier(key)?;
    let text = read(file)?;
    let v = verify_receipt(&text, &verifier).with_context(|| format!("{}", file.display()))?;
    if as_json {
        print_json(&json!({
            "verified": true,
            "origin": v.checkpoint.origin,
            "checkpoint_size": v.checkpoint.size,
            "index": v.index,
            "kind": v.entry.kind_name(),
            "entry": describe(&v.entry, &Names::default()),
        }));
        return Ok(());
    }
    println!(
        "verified: entry {} is in the log {} as of its signed checkpoint of {} entries",
        v.index,
        v.checkpoint.origin,
        num(v.checkpoint.size)
    );
    println!("the entry says: {}", describe(&v.entry, &Names::default()));
    println!(
        "what this proves: the log's key signed a tree that contains exactly this entry at that position; \
         the log cannot later remove or change it without every later checkpoint failing to extend this one"
    );
    if v.entry.subject().is_some() {
        println!("the person appears in it only as a keyed commitment, not by name");
    }
    Ok(())
}

pub(crate) fn read(path: &Path) -> Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{}: no such file", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
