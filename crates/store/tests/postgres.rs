//! The store's PostgreSQL tests (the store suite, then PostgreSQL's own) on
//! the server at `CUSTODY_TEST_POSTGRES`.
//!
//! libtest decides at compile time which tests are ignored, so a test that
//! finds no server could only pass. This harness (libtest-mimic) asks once,
//! when the runner lists the tests: with no server, every case is listed as
//! ignored, and `cargo nextest run` counts it skipped in its summary. Under
//! `CI=true` nothing is skipped, so a missing server fails every case.

use custody_store::postgres_cases;
use libtest_mimic::{Arguments, Trial};

fn main() {
    let args = Arguments::from_args();
    let missing = postgres_cases::server_missing();
    let skip = missing.is_some() && std::env::var("CI").as_deref() != Ok("true");
    if let (true, Some(why)) = (skip, &missing) {
        eprintln!("skipping the PostgreSQL store tests: {why}");
    }
    let trials = postgres_cases::all()
        .into_iter()
        .map(|case| {
            let run = case.run;
            Trial::test(case.name, move || {
                run();
                Ok(())
            })
            .with_ignored_flag(case.ignored || skip)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
