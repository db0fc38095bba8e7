//! Durability: a share killed with SIGKILL at any moment leaves the store and
//! the log agreeing, and every checkpoint ever signed still extended.

mod common;

use std::process::Stdio;
use std::time::Instant;

use common::Sandbox;

const MOTHERS: usize = 20_000;

fn share_args(s: &Sandbox, n: usize) -> Vec<String> {
    let mut v: Vec<String> = vec!["--db".into(), s.db_arg()];
    v.extend(common::share_dm(&[]).iter().map(|a| a.to_string()));
    v.extend([
        "--out".into(),
        format!("out-{n}.csv"),
        "--refused".into(),
        format!("refused-{n}.csv"),
    ]);
    v
}

#[test]
fn killed_shares_leave_the_store_and_the_log_agreeing() {
    let s = Sandbox::with_mothers(MOTHERS);

    let bin = assert_cmd::cargo::cargo_bin("custody");
    let started = Instant::now();
    let full = std::process::Command::new(&bin)
        .env("CUSTODY_SIGNING_KEY", s.key())
        .current_dir(s.dir.path())
        .args(share_args(&s, 0))
        .output()
        .unwrap();
    assert!(
        full.status.success(),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    let took = started.elapsed();

    let mut checkpoints = vec![s.ok(&["log", "checkpoint"])];
    let (mut killed, mut finished) = (0, 0);
    for n in 1..=12u32 {
        // Kill at spread-out moments across the share's run time.
        let at = took.mul_f64(f64::from(n) / 12.0 * 1.1);
        let mut child = std::process::Command::new(&bin)
            .env("CUSTODY_SIGNING_KEY", s.key())
            .current_dir(s.dir.path())
            .args(share_args(&s, n as usize))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL on Unix
                child.wait().unwrap();
                killed += 1;
            }
        }
        // The store and the log agree, and the log extends every checkpoint ever seen.
        let out = s.ok(&["log", "verify"]);
        assert!(
            out.contains("every stored row matches the entry that made it"),
            "{out}"
        );
        for (i, old) in checkpoints.iter().enumerate() {
            let name = format!("cp-{i}");
            s.write(&name, old);
            s.ok(&["log", "verify", "--from", &name]);
        }
        let latest = s.ok(&["log", "checkpoint"]);
        if checkpoints.last() != Some(&latest) {
            checkpoints.push(latest);
        }
        // Either a disclosure is whole, or it is not there at all.
        let partial = s.count(
            "SELECT count(*) FROM disclosures d WHERE requested != (SELECT count(*) FROM decisions WHERE disclosure = d.id)",
        );
        assert_eq!(partial, 0, "a disclosure without all its decisions");
    }
    assert!(
        killed >= 4,
        "only {killed} runs were killed mid-way ({finished} finished): the test must kill some"
    );
    eprintln!(
        "{killed} shares killed, {finished} finished; {} checkpoints",
        checkpoints.len()
    );
}
