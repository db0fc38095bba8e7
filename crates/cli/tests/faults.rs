//! The syscall fault matrix (issue 13, point 4), in the spirit of
//! Tessera's: `collect`, `share` and `consent --file` run under
//! `strace -f -e inject=SYSCALL:error=E:when=N` for write, pwrite64, fsync,
//! fdatasync, rename and openat, with EIO once (a failing disk) and ENOSPC
//! from the Nth call on (a full one; once for write, which stderr needs
//! too: strace 6.1 cannot spare a descriptor), at the first, a middle and the last
//! call the command makes (counted by a clean run under `strace -c`).
//! After each: the command either said done or failed with exit 1 and a
//! message in words naming the error (no panic, no debug struct, no
//! "corrupt" for a full disk), and the log still verifies and extends the
//! checkpoint taken before the run.
//!
//! Needs strace (and ptrace allowed): without it the tests are listed as
//! skipped, except under `CI=true`. SQLite only (on PostgreSQL the store's
//! writes are the server's): listed as skipped there.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::{Command, Output};

use common::Sandbox;

const SYSCALLS: [&str; 6] = [
    "write",
    "pwrite64",
    "fsync",
    "fdatasync",
    "rename",
    "openat",
];

fn main() {
    let postgres = common::on_postgres();
    if postgres {
        eprintln!("skipping: the fault matrix injects into SQLite's writes, and this run is on PostgreSQL");
    }
    let skip = postgres || common::skipped(strace_missing());
    let commands: [(&str, Workload); 3] = [
        ("faults_during_collect", collect_args),
        ("faults_during_share", share_args),
        ("faults_during_consent_file", consent_args),
    ];
    common::run_workloads(&commands, skip, matrix);
}

/// Why strace cannot trace here, if it cannot.
fn strace_missing() -> Option<String> {
    match Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .output()
    {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "strace cannot trace here: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("no strace ({e}); apt-get install strace")),
    }
}

/// The arguments of the command for run `n`, writing any input it needs.
type Workload = fn(&Sandbox, usize) -> Vec<String>;

fn collect_args(s: &Sandbox, n: usize) -> Vec<String> {
    let csv = common::signups_batch(&format!("F{n:03}"), 200);
    s.write(&format!("batch-{n}.csv"), &csv);
    strings(&[
        "collect",
        "emmas-diary",
        &format!("batch-{n}.csv"),
        "--notice",
        "2017",
        "--mapping",
        "signups.mapping.toml",
    ])
}

fn share_args(_: &Sandbox, n: usize) -> Vec<String> {
    let mut v = strings(&common::share_dm(&[]));
    v.extend(strings(&[
        "--out",
        &format!("out-{n}.csv"),
        "--refused",
        &format!("refused-{n}.csv"),
    ]));
    v
}

fn consent_args(s: &Sandbox, n: usize) -> Vec<String> {
    let mut csv = String::from("subject,action,purpose,at\n");
    for i in 0..100 {
        let action = if (n + i) % 2 == 0 { "withdraw" } else { "give" };
        csv += &format!(
            "G{:06},{action},DirectMarketing,2017-03-01\n",
            (i * 3 + n) % 500
        );
    }
    s.write(&format!("events-{n}.csv"), &csv);
    strings(&[
        "consent",
        "emmas-diary",
        "--file",
        &format!("events-{n}.csv"),
    ])
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `custody ARGS` under strace with `strace_args`, in the sandbox.
fn traced(s: &Sandbox, strace_args: &[String], args: &[String]) -> Output {
    Command::new("strace")
        .args(["-f", "-qq"])
        .args(strace_args)
        .arg(assert_cmd::cargo::cargo_bin("custody"))
        .arg("--db")
        .arg(s.db_arg())
        .args(args)
        .env_remove("CUSTODY_DB")
        .env_remove("CUSTODY_SIGNING_KEY")
        .env_remove("CUSTODY_SNAPSHOTS")
        .current_dir(s.dir.path())
        .output()
        .expect("run strace")
}

/// How many files the dynamic loader opens before custody runs: failing
/// those tests ld.so, not custody, so openat's faults start after them.
fn loader_opens(s: &Sandbox, args: &[String]) -> u64 {
    let trace = s.path("opens.txt").display().to_string();
    traced(s, &strings(&["-o", &trace, "-e", "trace=openat"]), args);
    s.read("opens.txt")
        .lines()
        .take_while(|l| l.contains(".so"))
        .count() as u64
}

/// How many times a clean run of the command calls each syscall.
fn calls(s: &Sandbox, args: &[String]) -> BTreeMap<String, u64> {
    let counts = s.path("counts.txt").display().to_string();
    let traced = traced(
        s,
        &strings(&[
            "-c",
            "-o",
            &counts,
            "-e",
            &format!("trace={}", SYSCALLS.join(",")),
        ]),
        args,
    );
    assert!(
        traced.status.success(),
        "a clean run failed: {}",
        String::from_utf8_lossy(&traced.stderr)
    );
    // strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall".
    s.read("counts.txt")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let calls = f.get(3)?.parse().ok()?;
            let name = f.last()?;
            SYSCALLS.contains(name).then(|| (name.to_string(), calls))
        })
        .collect()
}

/// One injection: which call fails, how, from which call on.
struct Fault {
    syscall: &'static str,
    errno: &'static str,
    /// strace's `when=`: `N` (that call only) or `N+` (that one and after).
    when: String,
}

/// What the command did under the fault.
enum Outcome {
    /// Exit 0: whatever failed, it coped (a retry, a cache it may leave
    /// behind, with a warning on stderr).
    Done(String),
    /// Exit 1 with this message.
    Refused(String),
    /// Any other end (a panic's 101, a signal): never acceptable.
    Crashed(String),
}

/// Whether what a command printed is words: no panic, no Rust debug
/// struct, no corruption for a full disk.
fn plain(errno: &str, message: &str) -> Result<(), String> {
    let lower = message.to_lowercase();
    if lower.contains("panicked") {
        return Err("a panic".into());
    }
    if ["os {", "kind:", "custom {", "error {"]
        .iter()
        .any(|d| lower.contains(d))
    {
        return Err("a Rust debug struct".into());
    }
    if errno == "ENOSPC" && (lower.contains("corrupt") || lower.contains("unreadable")) {
        return Err("a full disk reported as corruption".into());
    }
    Ok(())
}

/// Whether a failure says what failed in words: [`plain`], and the error's
/// own words: a full disk says so, never only SQLite's "disk I/O error"
/// (which it says for any failed write or sync, whatever the errno).
fn in_words(errno: &str, message: &str) -> Result<(), String> {
    plain(errno, message)?;
    let lower = message.to_lowercase();
    let words: &[&str] = match errno {
        "ENOSPC" => &["no space left on device"],
        _ => &["input/output error", "disk i/o error"],
    };
    if !words.iter().any(|w| lower.contains(w)) {
        return Err(format!("does not say {}", words.join(" or ")));
    }
    Ok(())
}

fn matrix(name: &str, workload: Workload) {
    let s = Sandbox::with_mothers(500);
    let mut run = 0;
    let mut next_args = |s: &Sandbox| {
        run += 1;
        workload(s, run)
    };
    let counts = calls(&s, &next_args(&s));
    let loader = loader_opens(&s, &next_args(&s));
    let mut kept = s.ok(&["log", "checkpoint"]);
    let (mut report, mut bad, mut fired) = (String::new(), Vec::new(), 0);
    for syscall in SYSCALLS {
        let n = counts.get(syscall).copied().unwrap_or(0);
        if n == 0 {
            let _ = writeln!(report, "  {syscall:<9} never called");
            continue;
        }
        let first = if syscall == "openat" { loader + 1 } else { 1 };
        let mut whens = vec![first, first.max(n.div_ceil(2)), n.max(first)];
        whens.dedup();
        for when in whens {
            // A full disk stays full, but not for stderr, which is a write
            // too: there ENOSPC fails one call, as EIO does everywhere.
            let full = match syscall {
                "write" => when.to_string(),
                _ => format!("{when}+"),
            };
            for (errno, when) in [("EIO", when.to_string()), ("ENOSPC", full)] {
                let fault = Fault {
                    syscall,
                    errno,
                    when,
                };
                let args = next_args(&s);
                let (outcome, injected) = inject(&s, &fault, &args);
                fired += usize::from(injected > 0);
                let line = match &outcome {
                    Outcome::Done(warned) if warned.is_empty() => "done".to_string(),
                    Outcome::Done(warned) => format!("done, warning: {warned}"),
                    Outcome::Refused(m) => format!("exit 1: {m}"),
                    Outcome::Crashed(m) => format!("CRASHED: {m}"),
                };
                let _ = writeln!(
                    report,
                    "  {syscall:<9} {errno:<6} when={:<5} injected {injected:>3}: {line}",
                    fault.when
                );
                let why = match &outcome {
                    Outcome::Done(warned) => plain(errno, warned),
                    Outcome::Refused(m) => in_words(errno, m),
                    Outcome::Crashed(_) => Err("it crashed".to_string()),
                };
                if let Err(why) = why {
                    bad.push(format!(
                        "{syscall} {errno} when={}: {why}: {line}",
                        fault.when
                    ));
                }
                // Never a fork, and the store still matches its log.
                s.write("kept.checkpoint", &kept);
                let verified = s.run(&["log", "verify", "--from", "kept.checkpoint"]);
                if verified.0 != Some(0) {
                    bad.push(format!(
                        "{syscall} {errno} when={}: log verify failed after it: {}",
                        fault.when, verified.2
                    ));
                }
                kept = s.ok(&["log", "checkpoint"]);
            }
        }
    }
    eprintln!("{name} (calls in a clean run: {counts:?}):\n{report}");
    assert!(
        fired > 0,
        "no fault was ever injected: the matrix tested nothing"
    );
    assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
}

/// Runs the command under one fault: its outcome, and how many calls
/// strace failed.
fn inject(s: &Sandbox, fault: &Fault, args: &[String]) -> (Outcome, usize) {
    let trace = s.path("trace.txt").display().to_string();
    let out = traced(
        s,
        &strings(&[
            "-o",
            &trace,
            "-e",
            &format!("trace={}", fault.syscall),
            "-e",
            &format!(
                "inject={}:error={}:when={}",
                fault.syscall, fault.errno, fault.when
            ),
        ]),
        args,
    );
    let injected = s.read("trace.txt").matches("(INJECTED)").count();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let outcome = match out.status.code() {
        Some(0) => Outcome::Done(stderr),
        Some(1) => Outcome::Refused(stderr),
        other => Outcome::Crashed(format!("exit {other:?}: {stderr}")),
    };
    (outcome, injected)
}
