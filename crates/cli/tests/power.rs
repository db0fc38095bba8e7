//! Power cuts (issue 13, point 4: acknowledged means durable). custody runs
//! with its SQLite store on a disk whose power is cut
//! (`custody_powercut`: a FUSE filesystem in this process that keeps only
//! what was fsynced, file data and directory entries, and throws the rest
//! away), is killed with SIGKILL at a random moment, the power is cut, and
//! the disk comes back with what survived. After every cut the log must
//! verify, extend every checkpoint handed out before the cut (never a
//! fork), and still hold everything acknowledged: a command that exited 0
//! (its rows, and the files `share` wrote, byte for byte), an HTTP answer
//! 201.
//!
//! Four workloads, each its own test: `collect`, `share`, `consent --file`
//! and `custody serve` under a few HTTP clients disclosing, recording
//! preferences and reading the checkpoint. `CUSTODY_POWER_CUTS` cuts each
//! (25 by default, so 100 in all); `CUSTODY_POWER_SEED` replays a run
//! (each test prints its seed).
//!
//! Needs /dev/fuse and root (to mount); without them the tests are listed
//! as skipped, except under `CI=true`. On PostgreSQL (whose durability is
//! its server's) they are listed as skipped.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Sandbox;
use custody_powercut::Disk;

const MOTHERS: usize = 2_000;

fn main() {
    let postgres = common::on_postgres();
    if postgres {
        eprintln!("skipping: the power cuts hold SQLite's files, and this run is on PostgreSQL");
    }
    let skip = postgres || common::skipped(Disk::unavailable());
    let workloads: [(&str, Round); 4] = [
        ("power_cuts_during_collect", collect_round),
        ("power_cuts_during_share", share_round),
        ("power_cuts_during_consent_file", consent_round),
        ("power_cuts_during_a_server_under_load", server_round),
    ];
    common::run_workloads(&workloads, skip, cuts);
}

/// One round of a workload: start its work, kill it at some moment.
type Round = fn(&mut Rig);

/// A small fast generator, seeded so that a failing run can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A fraction in [0, 1).
    fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What a command that said done has stored: none of it may be lost.
const ACKNOWLEDGED: [&str; 3] = [
    "SELECT count(*) FROM records",
    "SELECT count(*) FROM preferences",
    "SELECT count(*) FROM disclosures",
];

/// A disk, a store on it, and what was handed out before each cut.
struct Rig {
    // Field order is drop order: the sandbox's files go, the disk is
    // unmounted, then its mount point goes.
    s: Sandbox,
    disk: Disk,
    _mount: tempfile::TempDir,
    /// Inputs and kept checkpoints, off the disk whose power is cut.
    outside: tempfile::TempDir,
    rng: XorShift,
    round: usize,
    /// How long the workload's command takes when not killed.
    took: Duration,
    /// The latest checkpoint handed out; each one extends the one before.
    kept: Option<String>,
    /// Counts of rows acknowledged before the cut: (query, at least).
    floors: Vec<(&'static str, i64)>,
    /// Files the round's command writes in the sandbox.
    outputs: Vec<String>,
    /// Files a command said it wrote, with what they held: (name, bytes).
    written: Vec<(String, Vec<u8>)>,
    tally: Tally,
}

#[derive(Default, Debug)]
struct Tally {
    killed: usize,
    finished: usize,
    /// HTTP answers 201 before the server was killed.
    answered: u64,
    pages_lost: u64,
    entries_lost: u64,
}

fn cuts(name: &str, round: Round) {
    let n: usize = std::env::var("CUSTODY_POWER_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let seed: u64 = std::env::var("CUSTODY_POWER_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("{name}: {n} cuts, CUSTODY_POWER_SEED={seed}");
    let started = Instant::now();
    let mut rig = Rig::new(seed);
    for _ in 0..n {
        round(&mut rig);
        rig.after_the_cut();
        rig.round += 1;
    }
    let t = &rig.tally;
    eprintln!(
        "{name}: {} killed, {} finished before the cut, {} HTTP answers 201; {} unsynced pages \
         and {} unsynced directory entries thrown away; {:.1} s",
        t.killed,
        t.finished,
        t.answered,
        t.pages_lost,
        t.entries_lost,
        started.elapsed().as_secs_f64()
    );
    assert!(
        t.killed >= n / 4,
        "only {} of {n} runs were killed mid-way: the cuts must land during the work",
        t.killed
    );
}

impl Rig {
    fn new(seed: u64) -> Rig {
        let mount = tempfile::tempdir().expect("a mount point");
        let disk = Disk::mount(mount.path()).expect("mount the power-cut disk");
        let s = Sandbox::sqlite_in(mount.path()).mothers(MOTHERS);
        let rig = Rig {
            s,
            disk,
            _mount: mount,
            outside: tempfile::tempdir().expect("temp dir"),
            rng: XorShift(seed),
            round: 0,
            took: Duration::ZERO,
            kept: None,
            floors: Vec::new(),
            outputs: Vec::new(),
            written: Vec::new(),
            tally: Tally::default(),
        };
        // The setup is on the platter; the cuts start from here.
        rig.disk.sync_all();
        rig
    }

    fn outside(&self, name: &str) -> PathBuf {
        self.outside.path().join(name)
    }

    /// `custody` on the store, as a child that can be killed.
    fn spawn(&self, args: &[&str]) -> Child {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("custody"));
        c.env_remove("CUSTODY_DB")
            .env_remove("CUSTODY_SIGNING_KEY")
            .env_remove("CUSTODY_SNAPSHOTS")
            .env("RUST_LOG", "warn")
            .current_dir(self.s.dir.path())
            .arg("--db")
            .arg(self.s.db_arg())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c.spawn().expect("start custody")
    }

    /// Runs a command and kills it with SIGKILL at a random moment within
    /// one and a half times the time it takes (its quickest run so far; the first round is
    /// never killed).
    fn run_and_kill(&mut self, args: &[&str]) {
        let started = Instant::now();
        let mut child = self.spawn(args);
        if self.round == 0 {
            self.finished(child, args);
            self.took = started.elapsed();
            return;
        }
        let deadline = started + self.took.mul_f64(self.rng.fraction() * 1.5);
        loop {
            if child.try_wait().expect("wait for custody").is_some() {
                // The quickest run sets the window: a loaded machine's
                // first run must not leave every later one to finish.
                self.took = self.took.min(started.elapsed());
                return self.finished(child, args);
            }
            if Instant::now() >= deadline {
                child.kill().expect("SIGKILL custody");
                child.wait().expect("reap custody");
                self.tally.killed += 1;
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// A command that ended before the cut said done: what it did is
    /// acknowledged, and so is the checkpoint read now.
    fn finished(&mut self, child: Child, args: &[&str]) {
        let out = child.wait_with_output().expect("custody's output");
        assert!(
            out.status.success(),
            "custody {args:?} failed before any cut ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        self.tally.finished += 1;
        self.hand_out(self.s.ok(&["log", "checkpoint"]));
        self.floors = ACKNOWLEDGED.iter().map(|&q| (q, self.s.count(q))).collect();
        self.written = std::mem::take(&mut self.outputs)
            .into_iter()
            .map(|name| {
                let bytes = std::fs::read(self.s.path(&name)).expect("an output said written");
                (name, bytes)
            })
            .collect();
    }

    /// A checkpoint seen by someone: from now on the log must extend it.
    fn hand_out(&mut self, checkpoint: String) {
        self.kept = Some(checkpoint);
    }

    /// The cut, the reboot, and the checks.
    fn after_the_cut(&mut self) {
        let lost = self.disk.cut().expect("cut the power and mount again");
        self.tally.pages_lost += lost.pages;
        self.tally.entries_lost += lost.entries;
        let verified = match &self.kept {
            Some(kept) => {
                let file = self.outside("kept.checkpoint");
                std::fs::write(&file, kept).expect("keep the checkpoint");
                let file = file.display().to_string();
                self.s.ok(&["log", "verify", "--from", &file])
            }
            None => self.s.ok(&["log", "verify"]),
        };
        assert!(
            verified.contains("every stored row matches the entry that made it"),
            "after cut {}: {verified}",
            self.round
        );
        let partial = self.s.count(
            "SELECT count(*) FROM disclosures d WHERE requested != \
             (SELECT count(*) FROM decisions WHERE disclosure = d.id)",
        );
        assert_eq!(
            partial, 0,
            "after cut {}: a disclosure without all its decisions",
            self.round
        );
        for (query, floor) in std::mem::take(&mut self.floors) {
            let now = self.s.count(query);
            assert!(
                now >= floor,
                "after cut {}: {query} is {now}, but {floor} had been acknowledged",
                self.round
            );
        }
        for (name, bytes) in std::mem::take(&mut self.written) {
            let now = std::fs::read(self.s.path(&name)).unwrap_or_default();
            assert!(
                now == bytes,
                "after cut {}: {name} held {} bytes when custody said done, {} now",
                self.round,
                bytes.len(),
                now.len()
            );
        }
        self.outputs.clear();
        // What the store says now is handed out too.
        self.hand_out(self.s.ok(&["log", "checkpoint"]));
    }
}

/// Collects 500 new mothers (ids of the round's own).
fn collect_round(rig: &mut Rig) {
    let csv = common::signups_batch(&format!("C{:03}", rig.round), 500);
    let file = rig.outside("batch.csv");
    std::fs::write(&file, csv).expect("write the batch");
    let file = file.display().to_string();
    let mapping = rig.s.path("signups.mapping.toml").display().to_string();
    rig.run_and_kill(&[
        "collect",
        "emmas-diary",
        &file,
        "--notice",
        "2017",
        "--mapping",
        &mapping,
    ]);
}

/// Shares every mother with the broker for direct marketing.
fn share_round(rig: &mut Rig) {
    let (out, refused) = (
        format!("out-{}.csv", rig.round),
        format!("refused-{}.csv", rig.round),
    );
    let mut args = common::share_dm(&[]);
    args.extend(["--out", &out, "--refused", &refused]);
    rig.outputs = vec![out.clone(), refused.clone()];
    rig.run_and_kill(&args);
}

/// Records 400 preference events from a file.
fn consent_round(rig: &mut Rig) {
    let mut csv = String::from("subject,action,purpose,at\n");
    for i in 0..400 {
        let action = if (rig.round + i) % 2 == 0 {
            "withdraw"
        } else {
            "give"
        };
        csv += &format!(
            "G{:06},{action},DirectMarketing,2017-03-01\n",
            (i * 5 + rig.round) % MOTHERS
        );
    }
    let file = rig.outside("events.csv");
    std::fs::write(&file, csv).expect("write the events");
    let file = file.display().to_string();
    rig.run_and_kill(&["consent", "emmas-diary", "--file", &file]);
}

/// One HTTP/1.1 request on a connection of its own: (status, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    s.read_to_string(&mut reply)?;
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {reply:?}")))?;
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// What the clients were told before the server died.
#[derive(Default)]
struct Told {
    /// The highest disclosure id answered 201.
    disclosure: AtomicU64,
    /// Preference events answered 201.
    events: AtomicU64,
    /// Disclosures and preference events answered 201.
    answered: AtomicU64,
    /// The latest checkpoint served.
    checkpoint: Mutex<Option<String>>,
}

/// `custody serve` under two clients disclosing one mother at a time, one
/// recording preferences and one reading the checkpoint, killed after a
/// random 0.2 to 1.2 s.
fn server_round(rig: &mut Rig) {
    if rig.round == 0 {
        let token = rig
            .s
            .ok(&["key", "create", "emmas-diary", "--role", "collector"]);
        // Off the disk: the test's own files are not synced.
        std::fs::write(rig.outside("token"), token.trim()).expect("keep the token");
    }
    let token = std::fs::read_to_string(rig.outside("token")).expect("the token");
    let events_before = rig.s.count("SELECT count(*) FROM preferences") as u64;
    let mut server = rig.spawn(&["serve", "--listen", "127.0.0.1:0"]);
    let addr = listening(&mut server);
    let told = Arc::new(Told::default());
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (addr, token, told, stop) =
                (addr.clone(), token.clone(), told.clone(), stop.clone());
            let seed = rig.rng.next();
            std::thread::spawn(move || client(i, &addr, &token, &told, &stop, seed))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200 + rig.rng.next() % 1000));
    server.kill().expect("SIGKILL the server");
    server.wait().expect("reap the server");
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client");
    }
    rig.tally.killed += 1;
    let disclosed = told.disclosure.load(Ordering::Relaxed);
    let events = told.events.load(Ordering::Relaxed);
    rig.tally.answered += told.answered.load(Ordering::Relaxed);
    if let Some(cp) = told.checkpoint.lock().expect("checkpoint").take() {
        rig.hand_out(cp);
    }
    rig.floors = vec![
        (
            "SELECT coalesce(max(id), 0) FROM disclosures",
            disclosed as i64,
        ),
        (
            "SELECT count(*) FROM preferences",
            (events_before + events) as i64,
        ),
    ];
}

/// The address a server prints when it listens.
fn listening(server: &mut Child) -> String {
    let mut stderr = BufReader::new(server.stderr.take().expect("the server's stderr"));
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("read the server") > 0,
            "the server said nothing"
        );
        if let Some(rest) = line.trim().strip_prefix("custody serving on http://") {
            // Keep draining its stderr so it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return rest.to_string();
        }
    }
}

/// One client until the server is gone: 0 and 1 disclose, 2 records
/// preferences, 3 reads the checkpoint.
fn client(i: usize, addr: &str, token: &str, told: &Told, stop: &AtomicBool, seed: u64) {
    let mut rng = XorShift(seed | 1);
    while !stop.load(Ordering::Relaxed) {
        let subject = format!("G{:06}", rng.next() % MOTHERS as u64);
        let answer = match i {
            0 | 1 => http(
                addr,
                "POST",
                "/v1/orgs/emmas-diary/disclosures",
                token,
                &format!(
                    r#"{{"to":"experian","purposes":["DirectMarketing"],"categories":["Name","PostalCode"],"basis":"consent","records":["{subject}"],"at":"2017-04-01"}}"#
                ),
            ),
            2 => http(
                addr,
                "POST",
                "/v1/orgs/emmas-diary/preferences",
                token,
                &format!(
                    r#"{{"subject":"{subject}","action":"withdraw","purpose":"DirectMarketing","at":"2017-03-01"}}"#
                ),
            ),
            _ => http(addr, "GET", "/v1/log/checkpoint", token, ""),
        };
        let Ok((status, body)) = answer else {
            // The server was killed (or is not up yet): nothing was told.
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        if status == 201 {
            told.answered.fetch_add(1, Ordering::Relaxed);
        }
        match (i, status) {
            (0 | 1, 201) => {
                let id = disclosure_id(&body);
                told.disclosure.fetch_max(id, Ordering::Relaxed);
            }
            (2, 201) => {
                told.events.fetch_add(1, Ordering::Relaxed);
            }
            (3, 200) => *told.checkpoint.lock().expect("checkpoint") = Some(body),
            _ => panic!("client {i}: {status} {body}"),
        }
    }
}

fn disclosure_id(body: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["disclosure"]
        .as_u64()
        .unwrap_or_else(|| panic!("no disclosure id in {body}"))
}
