//! Every file custody writes is its owner's alone (issue 13, point 5): the
//! database with its WAL and SHM, the signing key, the snapshots and every
//! output, whatever umask the caller has.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{share_dm, Sandbox};

/// Each file under `dir` that the test did not write itself, with its mode.
fn modes(dir: &Path, written_by_test: &[&str], out: &mut Vec<(String, u32)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if written_by_test.contains(&name.as_str()) {
            continue;
        }
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        out.push((path.display().to_string(), mode));
        if path.is_dir() {
            modes(&path, written_by_test, out);
        }
    }
}

#[test]
fn every_file_custody_writes_is_the_owners_alone() {
    let s = Sandbox::collected();
    s.write("subjects.csv", "subject\nM01\nM02\n");
    s.ok(&common::share_dm(&[
        "--records",
        "subjects.csv",
        "--out",
        "out.csv",
        "--refused",
        "refused.csv",
        "--report",
        "report.json",
    ]));
    s.ok(&["receipt", "emmas-diary", "M01", "--out", "receipts"]);
    s.ok(&["log", "export", "tiles"]);
    let mut found = Vec::new();
    let by_test = [
        "subjects.csv",
        "signups.csv",
        "signups.mapping.toml",
        "notice-2017.toml",
        "notice-2018-05.toml",
    ];
    modes(s.dir.path(), &by_test, &mut found);
    let mut written = vec!["out.csv", "refused.csv", "report.json", "receipts", "tiles"];
    if !common::on_postgres() {
        written.push("c.db");
    }
    for name in written {
        assert!(
            found.iter().any(|(p, _)| p.ends_with(name)),
            "{name} was not written: {found:?}"
        );
    }
    let open: Vec<_> = found.iter().filter(|(_, mode)| mode & 0o077 != 0).collect();
    assert!(open.is_empty(), "readable by others: {open:?}");
}

#[test]
fn a_killed_run_s_temporary_outputs_are_removed_by_the_next() {
    let s = Sandbox::emmas_case();
    // What a share killed mid-write leaves: its temporary allowed set. A
    // pid beyond the kernel's maximum is no process; the test's own is.
    let stale = s.write(".custody-4194305-AbCdEf", "M01,Alice\n");
    let live = s.write(&format!(".custody-{}-XyZ", std::process::id()), "x");
    s.ok(&share_dm(&["--out", "out.csv", "--refused", "refused.csv"]));
    assert!(!stale.exists(), "a dead run's output is removed");
    assert!(live.exists(), "a running process's output is left alone");
    let leftovers: Vec<String> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".custody-") && !live.ends_with(n))
        .collect();
    assert!(
        leftovers.is_empty(),
        "nothing of the share is left: {leftovers:?}"
    );
}
