//! `custody demo`: the 2017 Emma's Diary case, rebuilt from scratch and told
//! step by step through the same engine calls the other commands make.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use custody_core::organisation::{Organisation, Role};
use custody_core::time::parse_instant;
use custody_engine::collection::CollectSpec;
use custody_engine::disclosure::{Selection, ShareSpec, Terms};
use custody_engine::log::receipt::{describe, verify_receipt};
use custody_engine::log::signing_key;
use custody_engine::log::vouch::Voucher;
use custody_engine::table::{Format, RowReader, RowWriter};
use custody_engine::Engine;
use custody_store::SqliteStore;
use custody_synth::{SignupSummary, Synth};

use crate::args::{DemoArgs, GenArgs};
use crate::output::{self, num};
use crate::progress::Bar;

const ASSETS: &[(&str, &str)] = &[
    (
        "notice-2017.toml",
        include_str!("../../../examples/emmas-diary/notice-2017.toml"),
    ),
    (
        "notice-2018-05.toml",
        include_str!("../../../examples/emmas-diary/notice-2018-05.toml"),
    ),
    (
        "signups.mapping.toml",
        include_str!("../../../examples/emmas-diary/signups.mapping.toml"),
    ),
    (
        "history-emmas-diary.toml",
        include_str!("../../../examples/emmas-diary/history-emmas-diary.toml"),
    ),
    (
        "history-experian.toml",
        include_str!("../../../examples/emmas-diary/history-experian.toml"),
    ),
];

const DEMO_ORIGIN: &str = "demo.custody.invalid/emmas-diary";

const SHARED: [&str; 5] = [
    "Name",
    "PhysicalAddress",
    "PostalCode",
    "custody:ChildBirthDate",
    "custody:ChildrenUnder5InHousehold",
];

/// What [`write_dataset`] wrote.
pub struct Dataset {
    pub signups: SignupSummary,
    pub preference_events: u64,
    pub reconsents: u64,
}

/// The demo's files for `subjects` mothers: notices, mapping, history, and the
/// generated sign-ups, 2017 preference events, 2018 re-consents, subject list.
pub fn write_dataset(dir: &Path, subjects: u64, seed: u64) -> Result<(Synth, Dataset)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in ASSETS {
        std::fs::write(dir.join(name), text)
            .with_context(|| format!("writing {}", dir.join(name).display()))?;
    }
    let synth = Synth::new(subjects, seed);
    let create = |name: &str| -> Result<BufWriter<File>> {
        let p = dir.join(name);
        Ok(BufWriter::new(
            File::create(&p).with_context(|| format!("creating {}", p.display()))?,
        ))
    };
    let signups = synth.write_signups(create("signups.csv")?)?;
    let preference_events = synth.write_preferences(create("preferences-2017.csv")?)?;
    let reconsents = synth.write_reconsents(create("reconsents-2018.csv")?)?;
    synth.write_subject_list(create("subjects.csv")?)?;
    Ok((
        synth,
        Dataset {
            signups,
            preference_events,
            reconsents,
        },
    ))
}

/// `custody gen`: the dataset alone.
pub fn gen(a: &GenArgs) -> Result<()> {
    let started = Instant::now();
    let (synth, d) = write_dataset(&a.out, a.subjects, a.seed)?;
    let varied = if a.varied {
        let p = a.out.join("events-varied.csv");
        let file = File::create(&p).with_context(|| format!("creating {}", p.display()))?;
        let n = synth
            .write_varied_events(BufWriter::new(file))
            .with_context(|| format!("writing {}", p.display()))?;
        format!(", events-varied.csv ({} varied events)", num(n))
    } else {
        String::new()
    };
    if a.format == Format::Parquet {
        for name in ["signups", "subjects"] {
            let csv = a.out.join(format!("{name}.csv"));
            to_parquet(&csv, &a.out.join(format!("{name}.parquet")))?;
            std::fs::remove_file(&csv).with_context(|| format!("removing {}", csv.display()))?;
        }
    }
    println!(
        "wrote {} mothers (seed {}) to {} in {:.1}s: signups.csv ({} expectant, {} with a child under 5, {} ticked \
         the partners box), preferences-2017.csv ({} events), reconsents-2018.csv ({} re-consents){varied}, \
         subjects.csv, the notices, the mapping and the 2017 history",
        num(a.subjects),
        a.seed,
        a.out.display(),
        started.elapsed().as_secs_f64(),
        num(d.signups.expectant),
        num(d.signups.with_child_under5),
        num(d.signups.consent_partners),
        num(d.preference_events),
        num(d.reconsents)
    );
    Ok(())
}

/// Rewrites a CSV file as Parquet, streaming.
fn to_parquet(from: &Path, to: &Path) -> Result<()> {
    let mut r = RowReader::open(from, Format::Csv)?;
    let file = File::create(to).with_context(|| format!("creating {}", to.display()))?;
    let mut w = RowWriter::new(file, Format::Parquet, r.header())?;
    let mut rec = csv::StringRecord::new();
    while r.read(&mut rec)? {
        w.write(rec.iter())?;
    }
    Ok(w.finish()?)
}

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn run(a: &DemoArgs, db: Option<&Path>) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    let dir = &a.dir;
    let db: PathBuf = match db {
        Some(p) if p.exists() => bail!(
            "{} already exists; the demo builds its case from scratch: remove it or pick another --db",
            p.display()
        ),
        Some(p) => p.to_path_buf(),
        None => {
            let p = dir.join("custody.db");
            for f in ["", "-wal", "-shm"].map(|suffix| PathBuf::from(format!("{}{suffix}", p.display()))).into_iter().chain([p.with_extension("key")]) {
                if f.exists() {
                    std::fs::remove_file(&f).with_context(|| format!("removing the previous demo's {}", f.display()))?;
                }
            }
            p
        }
    };
    let (synth, dataset) = write_dataset(dir, a.subjects, a.seed)?;
    let (summary, reconsents) = (dataset.signups, dataset.reconsents);

    let key = db.with_extension("key");
    if key.exists() {
        bail!("{} already exists; the demo makes a new log with a new key: remove it or pick another --db", key.display());
    }
    let signer = signing_key::create(&key, DEMO_ORIGIN)?;
    let mut engine = Engine::open(SqliteStore::open(&db)?, signer)?;
    engine.init_log()?;
    // Each share verifies the store beside it, on a connection of its own.
    let voucher = || -> Result<Option<Box<dyn Voucher>>> {
        let signer = signing_key::load(&key)?;
        Ok(Some(Box::new(Engine::open(
            SqliteStore::open(&db)?,
            signer,
        )?)))
    };
    println!(
        "custody demo: the Emma's Diary case (ICO, 2018), {} synthetic mothers, seed {}",
        num(a.subjects),
        a.seed
    );
    println!("database {}  files {}", db.display(), dir.display());

    step(1, "Three organisations, and the regulator");
    for (id, name, role) in [
        (
            "emmas-diary",
            "Lifecycle Marketing (Mother and Baby) Ltd, trading as Emma's Diary",
            Role::Controller,
        ),
        ("experian", "Experian Marketing Services", Role::Broker),
        ("labour", "The Labour Party", Role::Campaign),
        ("ico", "Information Commissioner's Office", Role::Regulator),
    ] {
        engine.add_org(&Organisation {
            id: id.into(),
            name: name.into(),
            role,
            categories: role.default_categories(),
        })?;
    }
    output::orgs(&custody_store::Store::orgs(&engine.store)?, false);

    step(2, "What mothers were told: Emma's Diary's privacy notice");
    let n = engine
        .publish_notice("emmas-diary", &dir.join("notice-2017.toml"))?
        .notice;
    output::notice(&engine.vocab, &n, false);
    println!("It says marketing by selected companies. It never says political parties.");

    step(3, "Sign-ups collected under that notice");
    let t = Instant::now();
    let c = engine.collect(
        &CollectSpec {
            org: "emmas-diary",
            records: &dir.join("signups.csv"),
            mapping: None,
            mapping_source: None,
            name: None,
            notice: &n.version,
            collected_at: None,
            rejects: None,
            format: None,
        },
        &Bar::bytes(),
    )?;
    println!(
        "{} mothers collected in {:.1}s: {} expectant, {} with a child under 5; {} ticked the partners box",
        num(c.inserted),
        t.elapsed().as_secs_f64(),
        num(summary.expectant),
        num(summary.with_child_under5),
        num(summary.consent_partners)
    );
    let events = engine
        .import_preferences(
            "emmas-diary",
            &dir.join("preferences-2017.csv"),
            chrono::Utc::now(),
        )?
        .events;
    println!(
        "{} preference events before May 2017: {} withdrew partner consent, {} objected to direct marketing",
        num(events),
        num(summary.withdrew_partners),
        num(summary.objected_dm)
    );

    step(
        4,
        "May 2017: Emma's Diary asks custody before selling the list to Experian for Labour",
    );
    let t = Instant::now();
    let gate = engine.share(
        &ShareSpec {
            terms: &Terms {
                from: "emmas-diary".into(),
                to: "experian".into(),
                on_behalf_of: Some("labour".into()),
                purposes: strings(&["PoliticalCampaign"]),
                categories: strings(&SHARED),
                basis: None,
                at: Some(parse_instant("2017-05-10")?),
            },
            records: Selection::All,
            out: Some(&dir.join("2017-gate-allowed.csv")),
            refused: Some(&dir.join("2017-gate-refused.csv")),
            report: Some(&dir.join("2017-gate-report.json")),
            out_format: None,
        },
        voucher()?,
        &Bar::records(),
    )?;
    output::share(&gate, false);
    println!(
        "decided {} records in {:.1}s",
        num(gate.requested),
        t.elapsed().as_secs_f64()
    );
    ensure!(
        gate.allowed == 0,
        "the 2017 disclosure should be refused for every record"
    );

    step(
        5,
        "What actually happened: the sale went ahead without the gate",
    );
    output::imported(
        &engine.import_history("emmas-diary", &dir.join("history-emmas-diary.toml"))?,
        false,
    );

    step(
        6,
        "Experian asks custody before passing the list on to Labour",
    );
    let onward = engine.share(
        &ShareSpec {
            terms: &Terms {
                from: "experian".into(),
                to: "labour".into(),
                on_behalf_of: None,
                purposes: strings(&["PoliticalCampaign"]),
                categories: strings(&SHARED),
                basis: None,
                at: Some(parse_instant("2017-05-20")?),
            },
            records: Selection::All,
            out: Some(&dir.join("2017-onward-allowed.csv")),
            refused: Some(&dir.join("2017-onward-refused.csv")),
            report: None,
            out_format: None,
        },
        voucher()?,
        &Bar::records(),
    )?;
    output::share(&onward, false);
    println!(
        "Checked against what the mothers were told by Emma's Diary, not Experian's own terms."
    );
    ensure!(
        onward.allowed == 0,
        "the onward disclosure should be refused for every record"
    );
    output::imported(
        &engine.import_history("experian", &dir.join("history-experian.toml"))?,
        false,
    );

    step(7, "The regulator's audit of what happened in 2017");
    let t = Instant::now();
    let audit = engine.audit("emmas-diary", &Bar::records())?;
    output::audit(&audit, false);
    println!("audited in {:.1}s", t.elapsed().as_secs_f64());

    step(
        8,
        "The lawful alternative: a notice that says so, and fresh consent",
    );
    let n2 = engine
        .publish_notice("emmas-diary", &dir.join("notice-2018-05.toml"))?
        .notice;
    output::diff(
        &engine.diff_notices("emmas-diary", &n.version, &n2.version)?,
        false,
    );
    let given = engine
        .import_preferences(
            "emmas-diary",
            &dir.join("reconsents-2018.csv"),
            chrono::Utc::now(),
        )?
        .events;
    println!(
        "{} mothers said yes to political campaigns under notice version {}",
        num(given),
        n2.version
    );
    let lawful = engine.share(
        &ShareSpec {
            terms: &Terms {
                from: "emmas-diary".into(),
                to: "labour".into(),
                on_behalf_of: None,
                purposes: strings(&["PoliticalCampaign"]),
                categories: strings(&["Name", "PhysicalAddress", "PostalCode"]),
                basis: Some("consent".into()),
                at: Some(parse_instant("2018-10-01")?),
            },
            records: Selection::All,
            out: Some(&dir.join("2018-allowed.csv")),
            refused: Some(&dir.join("2018-refused.csv")),
            report: None,
            out_format: None,
        },
        voucher()?,
        &Bar::records(),
    )?;
    output::share(&lawful, false);
    ensure!(
        lawful.allowed == reconsents,
        "exactly the re-consented mothers should flow ({} allowed, {} re-consented)",
        lawful.allowed,
        reconsents
    );
    println!(
        "exactly the {} re-consented mothers flow, and only their name and postal address.",
        num(lawful.allowed)
    );

    let mother = (0..a.subjects)
        .map(|i| synth.mother(i))
        .find(|m| m.reconsents_political.is_some());
    if let Some(m) = &mother {
        step(9, &format!("Where did {}'s data go?", m.first_name));
        output::trace(&engine.trace("emmas-diary", &m.id)?, false);
    }

    let subject = mother.map(|m| m.id).unwrap_or_else(|| "ED00000001".into());
    step(
        10,
        "Her receipts: proof from the transparency log, checked offline",
    );
    let (checkpoint, _) = engine.latest()?;
    println!(
        "The log holds {} entries (every organisation, notice, record, consent, disclosure and decision above), \
         under a checkpoint signed by {}.",
        num(checkpoint.size),
        engine.verifier_key()
    );
    let receipts_dir = dir.join("receipts");
    let receipts = engine.receipts("emmas-diary", &subject, &receipts_dir)?;
    let verifier = engine.verifier();
    let names = engine.names()?;
    for r in &receipts {
        let text = std::fs::read_to_string(&r.file)
            .with_context(|| format!("reading {}", r.file.display()))?;
        let v = verify_receipt(&text, &verifier)
            .with_context(|| format!("verifying {}", r.file.display()))?;
        println!(
            "  verified entry {:>9}: {}",
            num(v.index),
            describe(&v.entry, &names)
        );
    }
    ensure!(
        receipts.iter().any(|r| r.kind == "disclosed"),
        "her receipts should include the 2017 sale"
    );
    println!(
        "{} receipts in {}; each names her only by a keyed commitment.",
        receipts.len(),
        receipts_dir.display()
    );

    println!(
        "\ndone in {:.1}s. Try next:",
        started.elapsed().as_secs_f64()
    );
    let dbs = db.display();
    // The demo ran through cargo, so `custody` is not on PATH yet: the
    // suggestions name this very binary.
    let bin = binary();
    println!("  {bin} --db {dbs} trace emmas-diary {subject}");
    println!("  {bin} --db {dbs} audit emmas-diary --json");
    println!("  {bin} --db {dbs} vocab show PoliticalCampaign");
    println!("  {bin} --db {dbs} notice diff emmas-diary 2017 2018-05");
    println!("  {bin} --db {dbs} consent emmas-diary {subject} --withdraw PoliticalCampaign");
    println!("  {bin} --db {dbs} log verify");
    if let Some(r) = receipts.first() {
        println!(
            "  {bin} verify-receipt {} --key '{}'",
            r.file.display(),
            engine.verifier_key()
        );
    }
    println!("  {bin} reasons");
    let code = engine.access_code("emmas-diary", &subject)?;
    println!("The web pages: start the server, then open http://127.0.0.1:8080/");
    println!("  {bin} --db {dbs} serve");
    println!("  sign in as {subject} with her access code {code}");
    println!("  or as the regulator with the key `{bin} --db {dbs} key create --regulator` prints");
    println!("(`cargo install --path crates/cli` puts `custody` on your PATH.)");
    Ok(())
}

/// This binary's path as the user can type it: relative to the current
/// directory when under it (`target/release/custody`), absolute otherwise.
fn binary() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "custody".into();
    };
    let here = std::env::current_dir().ok();
    match here.as_deref().and_then(|d| exe.strip_prefix(d).ok()) {
        Some(rel) => format!("./{}", rel.display()),
        None => exe.display().to_string(),
    }
}
