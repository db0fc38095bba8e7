//! `custody`: the command-line front end. Parses arguments, calls the engine,
//! prints results for people (aligned tables) or scripts (`--json`).

mod args;
mod check;
mod demo;
mod log;
mod notice;
mod org;
mod output;
mod progress;
mod serve;
mod vocab;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use custody_core::time::parse_instant;
use custody_engine::collection::CollectSpec;
use custody_engine::disclosure::{Selection, ShareSpec};
use custody_engine::log::signing_key;
use custody_engine::preferences::{Change, PreferenceRequest};
use custody_engine::screen::ScreenSpec;
use custody_engine::snapshot::SnapshotDir;
use custody_engine::Engine;
use custody_store::{AnyStore, Store};

use args::*;
use progress::Bar;

/// Where the database and the log's signing key are.
pub(crate) struct Paths {
    /// A SQLite file's path or a PostgreSQL URL.
    db: String,
    key: PathBuf,
    snapshots: Option<PathBuf>,
}

impl Paths {
    /// Where the holdings snapshots live: as given, else beside a SQLite file.
    fn snapshots(&self) -> Result<SnapshotDir> {
        match (&self.snapshots, AnyStore::is_postgres(&self.db)) {
            (Some(dir), _) => Ok(SnapshotDir::new(dir)),
            (None, false) => Ok(SnapshotDir::new(
                PathBuf::from(&self.db).with_extension("holdings"),
            )),
            (None, true) => bail!(
                "with a PostgreSQL database, name a directory for the holdings snapshots with \
                 --snapshots DIR (or CUSTODY_SNAPSHOTS)"
            ),
        }
    }

    /// After a bulk change to `org`'s holdings, brings its snapshot up to
    /// date, so that the next screening reads it at once. The change has
    /// landed whatever happens here, so a failure only warns.
    fn keep_snapshot_current(&self, engine: &mut Engine<AnyStore>, org: &str) {
        let Ok(dir) = self.snapshots() else { return };
        if let Err(e) = dir.catch_up(&mut engine.store, org) {
            let cause = anyhow::Error::from(e);
            eprintln!(
                "warning: the holdings snapshot in {} is not up to date ({cause:#}); `custody screen` will catch it up",
                dir.path().display()
            );
        }
    }

    pub(crate) fn open(&self) -> Result<Engine<AnyStore>> {
        self.open_with(None)
    }

    /// Opens the database with its signing key, creating the key (for
    /// `origin`, or the default) when the log has none yet.
    fn open_with(&self, origin: Option<&str>) -> Result<Engine<AnyStore>> {
        let (db, key) = (AnyStore::location(&self.db), &self.key);
        if key.as_os_str().is_empty() {
            bail!(
                "with a PostgreSQL database, name the log's signing key with --signing-key FILE \
                 (or CUSTODY_SIGNING_KEY); every server on that database uses the same key"
            );
        }
        let store =
            AnyStore::open(&self.db).with_context(|| format!("opening the database {db}"))?;
        let signer = if key.exists() {
            signing_key::load(key)?
        } else {
            if store.latest_checkpoint()?.is_some() {
                bail!(
                    "the log in {db} was signed with a key that is not at {}: give its path with --signing-key",
                    key.display()
                );
            }
            let origin = match origin {
                Some(o) => o.to_string(),
                None => store
                    .setting("log.origin")?
                    .unwrap_or_else(|| signing_key::DEFAULT_ORIGIN.to_string()),
            };
            let signer = signing_key::create(key, &origin)?;
            eprintln!("created the log's signing key {} for origin {origin} (readable by you only; keep it safe)", key.display());
            signer
        };
        Ok(Engine::open(store, signer)?)
    }
}

fn main() {
    let cli = Cli::parse();
    files_for_the_owner_only();
    report_failed_output();
    if !matches!(cli.command, Command::Serve(_)) {
        die_quietly_on_closed_pipe();
    }
    if let Err(e) = run(cli) {
        // The message may quote what a file held: shown, never acted on.
        let message = format!("{e:#}");
        eprintln!("error: {}", custody_core::text::printable(&message));
        std::process::exit(1);
    }
}

/// `custody reasons | head` closes the pipe early; Rust ignores SIGPIPE, so
/// the next `println!` would panic. A command that prints restores the
/// default and ends as a Unix filter does. The server keeps ignoring it (a
/// client that goes away is an error on that connection, not the end).
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: set before any thread starts; SIG_DFL is always a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `println!` panics when standard output cannot be written (a full or
/// failing disk under `custody ... > file`; tests/faults.rs): say so in
/// words and exit 1, as for any other error. What the command stored is
/// stored; only its summary was lost.
fn report_failed_output() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload().downcast_ref::<String>().map(String::as_str);
        if let Some(why) = message.and_then(|m| m.strip_prefix("failed printing to stdout: ")) {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: writing the output: {why}");
            std::process::exit(1);
        }
        default(info);
    }));
}

/// Everything custody writes holds personal data or secrets: the database
/// with its WAL and SHM (people's data, commitment secrets, the session
/// key), the signing key, the allowed and refused sets, snapshots,
/// receipts. So every file it creates is readable by its owner only (0600,
/// folders 0700), whatever the caller's umask; copy a file out to share it.
fn files_for_the_owner_only() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; no thread
    // has started yet.
    unsafe {
        libc::umask(0o077);
    }
}

fn run(cli: Cli) -> Result<()> {
    let key = match (&cli.signing_key, AnyStore::is_postgres(&cli.db)) {
        (Some(k), _) => k.clone(),
        (None, false) => PathBuf::from(&cli.db).with_extension("key"),
        // Several servers share one PostgreSQL log, so its key lives where
        // the operator says, never beside a URL.
        (None, true) => PathBuf::new(),
    };
    let paths = Paths {
        key,
        db: cli.db.clone(),
        snapshots: cli.snapshots.clone(),
    };
    let db = PathBuf::from(&cli.db);
    match cli.command {
        Command::Demo(a) => demo::run(&a, cli.db_given.then_some(db.as_path())),
        Command::Gen(a) => demo::gen(&a),
        Command::Reasons { json } => {
            output::reasons(json);
            Ok(())
        }
        Command::Init { origin } => log::init(&paths, &origin),
        Command::Log(c) => log::run(&paths, c),
        Command::Receipt {
            org,
            subject,
            out,
            json,
        } => log::receipt(&paths, &org, &subject, &out, json),
        Command::VerifyReceipt { file, key, json } => log::verify(&file, &key, json),
        Command::Org(c) => org::run(&paths, c),
        Command::Vocab(c) => vocab::run(&paths, c),
        Command::Notice(c) => notice::run(&paths, c),
        Command::Collect(a) => collect(&paths, a),
        Command::Consent(a) => consent(&paths, a),
        Command::Share(a) => share(&paths, a),
        Command::Screen(a) => screen(&paths, a),
        Command::Trace { org, subject, json } => {
            let engine = paths.open()?;
            output::trace(&engine.trace(&org, &subject)?, json);
            Ok(())
        }
        Command::History(HistoryCommand::Import { org, file, json }) => {
            let mut engine = paths.open()?;
            output::imported(&engine.import_history(&org, &file)?, json);
            Ok(())
        }
        Command::Serve(a) => serve::run(&paths, &a),
        Command::Key(c) => serve::key(&paths, c),
        Command::AccessCode { org, subjects } => {
            let mut engine = paths.open()?;
            for (subject, code) in engine.access_codes(&org, &subjects)? {
                println!("{subject}\t{code}");
            }
            Ok(())
        }
        Command::Audit { org, json } => {
            let engine = paths.open()?;
            output::audit(&engine.audit(&org, &Bar::records())?, json);
            Ok(())
        }
    }
}

fn collect(paths: &Paths, a: CollectArgs) -> Result<()> {
    let mut engine = paths.open()?;
    let rejects = a.skip_bad.then(|| {
        a.rejects
            .clone()
            .unwrap_or_else(|| a.records.with_extension("rejects.csv"))
    });
    let spec = CollectSpec {
        org: &a.org,
        records: &a.records,
        mapping: a.mapping.as_deref(),
        mapping_source: None,
        name: None,
        notice: &a.notice,
        collected_at: a.collected_at.as_deref().map(parse_instant).transpose()?,
        rejects: rejects.as_deref(),
        format: a.format,
    };
    let bar = Bar::reading(&a.records, a.format);
    let c = engine.collect(&spec, &bar)?;
    paths.keep_snapshot_current(&mut engine, &a.org);
    output::collected(&c, rejects.as_deref(), a.json);
    Ok(())
}

fn share(paths: &Paths, a: ShareArgs) -> Result<()> {
    let mut engine = paths.open()?;
    let terms = a.terms.of(&a.from)?;
    let spec = ShareSpec {
        terms: &terms,
        records: Selection::parse(&a.records),
        out: Some(&a.out),
        refused: Some(&a.refused),
        report: a.report.as_deref(),
        out_format: a.out_format,
    };
    // The store is verified beside the share, on a connection of its own.
    let r = engine.share(&spec, Some(Box::new(paths.open()?)), &Bar::records())?;
    output::share(&r, a.json);
    Ok(())
}

fn screen(paths: &Paths, a: ScreenArgs) -> Result<()> {
    let mut engine = paths.open()?;
    let snapshots = paths.snapshots()?;
    let terms = a.terms.of(&a.holder)?;
    let spec = ScreenSpec {
        terms: &terms,
        list: &a.list,
        format: a.format,
        subject_column: a.subject_column.as_deref(),
        out: &a.out,
        refused: &a.refused,
        out_format: a.out_format,
    };
    let bar = Bar::reading(&a.list, a.format);
    let r = engine.screen(&spec, &snapshots, &bar)?;
    output::screen(&r, a.json);
    Ok(())
}

fn consent(paths: &Paths, a: ConsentArgs) -> Result<()> {
    let mut engine = paths.open()?;
    let at = match &a.at {
        Some(t) => parse_instant(t)?,
        None => chrono::Utc::now(),
    };
    if let Some(file) = &a.file {
        if a.subject.is_some() {
            bail!("give either a subject or --file, not both");
        }
        let imported = engine.import_preferences(&a.org, file, at)?;
        paths.keep_snapshot_current(&mut engine, &a.org);
        println!(
            "recorded {} for {}",
            output::count(imported.events, "preference event"),
            a.org
        );
        for r in &imported.resolved {
            println!(
                "  purpose `{}` recorded as {} ({}): {}",
                r.written,
                r.key,
                r.label.as_deref().unwrap_or("-"),
                output::count(r.events, "event")
            );
        }
        return Ok(());
    }
    let Some(subject) = &a.subject else {
        bail!("name a subject, or give --file with many")
    };
    let change = if let Some(p) = &a.withdraw {
        Change::Withdraw(p.clone())
    } else if let Some(p) = &a.give {
        Change::Give(p.clone())
    } else if a.object_direct_marketing {
        Change::ObjectDirectMarketing
    } else if a.withdraw_objection {
        Change::WithdrawObjection
    } else {
        bail!("say what changed: --withdraw PURPOSE, --give PURPOSE, --object-direct-marketing or --withdraw-objection")
    };
    let recorded = engine.record_preference(&PreferenceRequest {
        org: &a.org,
        subject,
        change: &change,
        at,
        notice: a.notice.as_deref(),
        source: "cli",
    })?;
    println!(
        "recorded for {subject} at {}: {recorded}",
        custody_core::time::format_instant(&at)
    );
    Ok(())
}
