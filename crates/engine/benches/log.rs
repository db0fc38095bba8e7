//! The transparency log at scale (issue #3), in-process, release build:
//!
//!   cargo bench -p custody-engine --bench log
//!
//! Builds a log of at least CUSTODY_BENCH_ENTRIES entries (default
//! 10,000,000) through the engine's own workflows: 1,000,000 synthetic
//! mothers collected, then the 2017 sale imported as history again and again
//! (1,000,000 entries each). Then times inclusion proofs for random entries
//! (medians and p99 over 1,000) and `verify_log` over the whole log.

use std::path::Path;
use std::time::{Duration, Instant};

use custody_core::organisation::{Organisation, Role};
use custody_engine::collection::CollectSpec;
use custody_engine::{Engine, Silent};
use custody_log::merkle;
use custody_log::note::Signer;
use custody_store::{SqliteStore, Store};
use rand::{Rng, SeedableRng};

const NOTICE: &str = include_str!("../../../examples/emmas-diary/notice-2017.toml");
const MAPPING: &str = include_str!("../../../examples/emmas-diary/signups.mapping.toml");

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = env("CUSTODY_BENCH_ENTRIES", 10_000_000);
    let subjects = env("CUSTODY_BENCH_SUBJECTS", 1_000_000);
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let signer = Signer::generate("bench.custody.invalid/log", &mut rand::rngs::OsRng)?;
    let mut engine = Engine::open(SqliteStore::open(&d.join("bench.db"))?, signer)?;
    for (id, role) in [
        ("emmas-diary", Role::Controller),
        ("experian", Role::Broker),
    ] {
        engine.add_org(&Organisation {
            id: id.into(),
            name: id.into(),
            role,
            categories: role.default_categories(),
        })?;
    }
    std::fs::write(d.join("notice.toml"), NOTICE)?;
    std::fs::write(d.join("signups.mapping.toml"), MAPPING)?;
    let version = engine
        .publish_notice("emmas-diary", &d.join("notice.toml"))?
        .notice
        .version;
    let synth = custody_synth::Synth::new(subjects, 7);
    synth.write_signups(std::io::BufWriter::new(std::fs::File::create(
        d.join("signups.csv"),
    )?))?;
    let t = Instant::now();
    engine.collect(
        &CollectSpec {
            org: "emmas-diary",
            records: &d.join("signups.csv"),
            mapping: None,
            mapping_source: None,
            name: None,
            notice: &version,
            collected_at: None,
            rejects: None,
            format: None,
        },
        &Silent,
    )?;
    println!(
        "collected {subjects} records in {:.1} s (one log entry each)",
        t.elapsed().as_secs_f64()
    );

    let history = d.join("history.toml");
    std::fs::write(
        &history,
        "[[disclosure]]\nto = \"experian\"\nat = \"2018-01-01\"\npurposes = [\"Marketing\"]\ncategories = [\"Name\"]\nrecords = \"all\"\n",
    )?;
    let mut appended = 0u64;
    let mut appending = Duration::ZERO;
    while engine.store.log_size()? < target {
        let t = Instant::now();
        let imported = import(&mut engine, &history)?;
        appending += t.elapsed();
        appended += imported;
    }
    let size = engine.store.log_size()?;
    println!(
        "imported history: {appended} records disclosed, one entry each, in {:.1} s ({:.0} entries/s including the state they describe)",
        appending.as_secs_f64(),
        appended as f64 / appending.as_secs_f64()
    );
    println!(
        "log size {size} entries, database {} MiB",
        std::fs::metadata(d.join("bench.db"))?.len() >> 20
    );

    let (checkpoint, _) = engine.latest()?;
    let mut rng = rand_pcg::Pcg64::seed_from_u64(1);
    let (mut proof_only, mut whole) = (Vec::with_capacity(1000), Vec::with_capacity(1000));
    for _ in 0..1000 {
        let i = rng.gen_range(0..size);
        let t = Instant::now();
        let proof = engine.inclusion_proof(i, checkpoint.size)?;
        proof_only.push(t.elapsed());
        let t = Instant::now();
        let (entry, again, _) = engine.inclusion(i)?;
        whole.push(t.elapsed());
        assert_eq!(proof, again);
        merkle::verify_inclusion(
            &merkle::leaf_hash(&entry),
            i,
            checkpoint.size,
            &proof,
            &checkpoint.root,
        )
        .map_err(|e| format!("entry {i}: {e}"))?;
    }
    for (what, times) in [
        (
            "inclusion proof alone (from the stored tiles)",
            &mut proof_only,
        ),
        (
            "entry + proof + latest checkpoint (signature checked)",
            &mut whole,
        ),
    ] {
        times.sort();
        println!(
            "{what}, random entries of {size}: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            percentile(times, 0.5).as_secs_f64() * 1e3,
            percentile(times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3
        );
    }

    let t = Instant::now();
    let verified = engine.verify_log(None, &Silent)?;
    println!(
        "log verify over {} entries ({} checkpoints): {:.1} s",
        verified.size,
        verified.checkpoints,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn import(
    engine: &mut Engine<SqliteStore>,
    history: &Path,
) -> Result<u64, Box<dyn std::error::Error>> {
    Ok(engine
        .import_history("emmas-diary", history)?
        .iter()
        .map(|i| i.records)
        .sum())
}
