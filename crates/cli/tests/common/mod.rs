//! Shared helpers for the `custody` CLI integration tests: a sandbox (temp
//! dir + database) and the small Emma's Diary case most tests start from.
//!
//! The database is a SQLite file in the sandbox, or, with
//! `CUSTODY_TEST_BACKEND=postgres`, a fresh schema on the PostgreSQL server
//! at `CUSTODY_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped afterwards: the same suite runs against both stores.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use tempfile::TempDir;

/// A file from examples/emmas-diary.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/emmas-diary")
        .join(name)
}

pub fn example_text(name: &str) -> String {
    std::fs::read_to_string(example(name)).unwrap_or_else(|e| panic!("reading example {name}: {e}"))
}

/// Six mothers. M02 ticked nothing; everyone else ticked both boxes.
/// (The base case also has M03 withdraw DirectMarketing and M04 object.)
pub const SIGNUPS_CSV: &str = "\
member_id,signed_up,first_name,last_name,email,address,postcode,child_dob,consent_offers,consent_partners
M01,2017-02-01,Ann,Ames,ann@example.org,1 Ash Rd,AB1 1AA,2016-12-01,yes,yes
M02,2017-02-02,Bea,Bell,bea@example.org,2 Birch Rd,AB1 2BB,2016-11-02,no,no
M03,2017-02-03,Cat,Cole,cat@example.org,3 Cedar Rd,AB1 3CC,2016-10-03,yes,yes
M04,2017-02-04,Dee,Dunn,dee@example.org,4 Elm Rd,AB1 4DD,2016-09-04,yes,yes
M05,2017-02-05,Eve,Ede,eve@example.org,5 Fir Rd,AB1 5EE,2016-08-05,true,true
M06,2017-02-06,Fay,Fox,fay@example.org,6 Oak Rd,AB1 6FF,2016-07-06,y,1
";

pub const MOTHERS: usize = 6;

/// A collection file of `n` new mothers with ids `<prefix>0000`.., half of
/// whom ticked the partners box.
pub fn signups_batch(prefix: &str, n: usize) -> String {
    let mut csv = SIGNUPS_CSV.lines().next().unwrap_or_default().to_string() + "\n";
    for i in 0..n {
        csv += &format!(
            "{prefix}{i:04},2017-02-01,A,B,{prefix}{i}@example.org,{i} Rd,AB1 1AA,2016-12-01,yes,{}\n",
            i % 2
        );
    }
    csv
}

/// Names and postcodes to the broker for direct marketing, on 2017-04-01:
/// the arguments of `share emmas-diary` most tests use.
pub const DM_TO_BROKER: &[&str] = &[
    "--to",
    "experian",
    "--purpose",
    "DirectMarketing",
    "--categories",
    "Name,PostalCode",
    "--at",
    "2017-04-01",
];

/// `share emmas-diary` with [`DM_TO_BROKER`] and then `extra`.
pub fn share_dm<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["share", "emmas-diary"];
    v.extend_from_slice(DM_TO_BROKER);
    v.extend_from_slice(extra);
    v
}

pub const MAPPING_TOML: &str = r#"
subject = "member_id"
collected_at = "signed_up"

[columns]
first_name = "pd:Name"
last_name = "pd:Name"
email = "pd:EmailAddress"
address = "pd:PhysicalAddress"
postcode = "pd:PostalCode"
child_dob = "custody:ChildBirthDate"

[consents]
offers = "consent_offers"
partners = "consent_partners"
"#;

pub struct Sandbox {
    pub dir: TempDir,
    /// The PostgreSQL schema this sandbox owns, when the suite runs on PostgreSQL.
    postgres: Option<Schema>,
}

/// A schema of its own on the test server, dropped with the sandbox.
struct Schema {
    server: String,
    name: String,
}

impl Schema {
    fn create() -> Schema {
        let server = std::env::var("CUSTODY_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        static MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let made = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("cli_{}_{nanos}_{made}", std::process::id());
        let mut client = postgres::Client::connect(&server, postgres::NoTls).unwrap_or_else(|e| {
            panic!("CUSTODY_TEST_BACKEND=postgres, but no PostgreSQL at {server}: {e}")
        });
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .expect("create a schema");
        Schema { server, name }
    }

    fn url(&self) -> String {
        let sep = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.server, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
        }
    }
}

/// Whether this run of the suite is against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("CUSTODY_TEST_BACKEND").as_deref() == Ok("postgres")
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: on_postgres().then(Schema::create),
        }
    }

    /// What `--db` says: the SQLite file, or the PostgreSQL schema's URL.
    pub fn db_arg(&self) -> String {
        match &self.postgres {
            Some(schema) => schema.url(),
            None => self.db().display().to_string(),
        }
    }

    /// True, after saying so, when this test reaches into SQLite's file
    /// directly and the suite runs on PostgreSQL (whose own tamper tests
    /// live with the store).
    pub fn sqlite_only(&self, why: &str) -> bool {
        if self.postgres.is_some() {
            eprintln!("skipped on PostgreSQL: {why}");
        }
        self.postgres.is_some()
    }

    /// The single number a query returns, on either store.
    pub fn count(&self, sql: &str) -> i64 {
        match &self.postgres {
            Some(schema) => {
                let mut c =
                    postgres::Client::connect(&schema.url(), postgres::NoTls).expect("connect");
                c.query_one(sql, &[]).expect("query").get::<_, i64>(0)
            }
            None => self.sql().query_row(sql, [], |r| r.get(0)).expect("query"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new sandbox holding a copy of this one's database and key, to
    /// tamper with: on SQLite the file (its write-ahead log folded in), on
    /// PostgreSQL every table into a schema of its own (without triggers or
    /// constraints, as an insider who dropped them would leave it).
    pub fn copy_state(&self) -> Sandbox {
        let copy = Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: self.postgres.as_ref().map(|_| Schema::create()),
        };
        std::fs::copy(self.key(), copy.key()).expect("copy the key");
        match (&self.postgres, &copy.postgres) {
            (Some(from), Some(to)) => {
                let mut c =
                    postgres::Client::connect(&from.server, postgres::NoTls).expect("connect");
                let tables = c
                    .query(
                        "SELECT table_name::text FROM information_schema.tables
                         WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
                        &[&from.name],
                    )
                    .expect("list tables");
                // With their keys, defaults and identities (each carried on
                // from the original's last id), so that custody can go on
                // writing to the copy; not their triggers, as an attacker's
                // copy would not have them.
                for t in tables {
                    let t: String = t.get(0);
                    let (to, from) = (&to.name, &from.name);
                    c.batch_execute(&format!(
                        "CREATE TABLE {to}.{t} (LIKE {from}.{t} INCLUDING ALL);
                         INSERT INTO {to}.{t} OVERRIDING SYSTEM VALUE SELECT * FROM {from}.{t};"
                    ))
                    .expect("copy a table");
                    let identity = c
                        .query(
                            "SELECT column_name::text FROM information_schema.columns
                             WHERE table_schema = $1 AND table_name = $2 AND is_identity = 'YES'",
                            &[to, &t],
                        )
                        .expect("list identities");
                    for col in identity {
                        let col: String = col.get(0);
                        c.batch_execute(&format!(
                            "SELECT setval(pg_get_serial_sequence('{to}.{t}', '{col}'),
                                           coalesce((SELECT max({col}) FROM {to}.{t}), 0) + 1, false)"
                        ))
                        .expect("carry an identity on");
                    }
                }
            }
            _ => {
                self.sql()
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .expect("fold the write-ahead log in");
                std::fs::copy(self.db(), copy.db()).expect("copy the database");
            }
        }
        copy
    }

    /// Runs one statement on either store, as an attacker with the
    /// database's password would (on SQLite with foreign keys off); returns
    /// the rows it changed.
    pub fn execute(&self, sql: &str) -> u64 {
        match &self.postgres {
            Some(schema) => {
                let mut c =
                    postgres::Client::connect(&schema.url(), postgres::NoTls).expect("connect");
                c.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            None => {
                let db = self.sql();
                db.execute_batch("PRAGMA foreign_keys = OFF")
                    .expect("foreign keys off");
                db.execute(sql, []).unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
            }
        }
    }

    pub fn db(&self) -> PathBuf {
        self.path("c.db")
    }

    /// The log's signing key, made on first use beside the database.
    pub fn key(&self) -> PathBuf {
        self.path("c.key")
    }

    /// The SQLite database opened directly, as an attacker with file access would.
    pub fn sql(&self) -> rusqlite::Connection {
        assert!(
            self.postgres.is_none(),
            "a SQLite-only test: check sqlite_only() first"
        );
        rusqlite::Connection::open(self.db()).expect("open the database")
    }

    /// `custody --db <dir>/c.db` (or the PostgreSQL schema), run inside the
    /// sandbox directory.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("custody").expect("custody binary");
        c.env_remove("CUSTODY_DB")
            .env_remove("CUSTODY_SIGNING_KEY")
            .current_dir(self.dir.path())
            .arg("--db")
            .arg(self.db_arg());
        c.env_remove("CUSTODY_SNAPSHOTS");
        if self.postgres.is_some() {
            // The key and the snapshots beside a SQLite file are the
            // default; PostgreSQL needs them named.
            c.env("CUSTODY_SIGNING_KEY", self.key());
            c.env("CUSTODY_SNAPSHOTS", self.path("holdings"));
        }
        c
    }

    pub fn custody(&self, args: &[&str]) -> Assert {
        self.cmd().args(args).assert()
    }

    /// Run, whatever the outcome: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = self.cmd().args(args).output().expect("run custody");
        let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8 output");
        (out.status.code(), text(out.stdout), text(out.stderr))
    }

    /// Run, require exit 0, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run custody");
        assert!(
            out.status.success(),
            "custody {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Run, require exit code 1 (a product error, not a usage error), return stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("run custody");
        assert_eq!(
            out.status.code(),
            Some(1),
            "custody {args:?} should fail with exit 1\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Run with the given args (which should include --json), parse stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("custody {args:?}: not JSON ({e}):\n{out}"))
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
        p
    }

    pub fn read(&self, name: &str) -> String {
        let p = self.path(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Copy an example file into the sandbox under the same name.
    pub fn copy_example(&self, name: &str) -> PathBuf {
        self.write(name, &example_text(name))
    }

    /// Rows of a CSV file in the sandbox (header included), split on commas
    /// (the test data has no quoted commas except in error columns).
    pub fn csv_rows(&self, name: &str) -> Vec<String> {
        self.read(name).lines().map(str::to_string).collect()
    }

    /// Three organisations: emmas-diary (controller), experian (broker), labour (campaign).
    pub fn orgs(&self) {
        self.ok(&[
            "org",
            "add",
            "emmas-diary",
            "--name",
            "Emma's Diary",
            "--role",
            "controller",
        ]);
        self.ok(&[
            "org",
            "add",
            "experian",
            "--name",
            "Experian Marketing Services",
            "--role",
            "broker",
        ]);
        self.ok(&[
            "org",
            "add",
            "labour",
            "--name",
            "The Labour Party",
            "--role",
            "campaign",
        ]);
    }

    /// Orgs, the 2017 notice, and the six mothers collected (no later events).
    pub fn collected() -> Sandbox {
        Sandbox::new().with_signups()
    }

    /// A sandbox on PostgreSQL whatever the suite runs on, for what only
    /// PostgreSQL can do. Its test's harness checks [`postgres_missing`]
    /// first (see [`skipped`]).
    pub fn on_postgres_only() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: Some(Schema::create()),
        }
    }

    /// The orgs, the 2017 notice and the six sign-ups collected.
    pub fn with_signups(self) -> Sandbox {
        let s = self;
        s.orgs();
        s.copy_example("notice-2017.toml");
        s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
        s.write("signups.csv", SIGNUPS_CSV);
        s.write("signups.mapping.toml", MAPPING_TOML);
        s.collect_signups();
        s
    }

    /// Collect signups.csv under the 2017 notice with signups.mapping.toml.
    pub fn collect_signups(&self) {
        self.ok(&[
            "collect",
            "emmas-diary",
            "signups.csv",
            "--notice",
            "2017",
            "--mapping",
            "signups.mapping.toml",
        ]);
    }

    /// Orgs, the 2017 notice, and `n` generated mothers collected (ids
    /// `G000000`..), half of whom ticked the partners box.
    pub fn with_mothers(n: usize) -> Sandbox {
        Sandbox::new().mothers(n)
    }

    /// A SQLite sandbox in a directory of its own under `parent` (a
    /// filesystem a test provides, e.g. one whose power it cuts).
    pub fn sqlite_in(parent: &Path) -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir_in(parent).expect("temp dir"),
            postgres: None,
        }
    }

    /// [`Sandbox::with_mothers`] on this sandbox.
    pub fn mothers(self, n: usize) -> Sandbox {
        let s = self;
        s.orgs();
        s.copy_example("notice-2017.toml");
        s.ok(&["notice", "publish", "emmas-diary", "notice-2017.toml"]);
        let mut csv = SIGNUPS_CSV.lines().next().unwrap_or_default().to_string() + "\n";
        for i in 0..n {
            csv += &format!(
                "G{i:06},2017-02-01,A,B,a{i}@example.org,{i} Rd,AB1 1AA,2016-12-01,yes,{}\n",
                i % 2
            );
        }
        s.write("signups.csv", &csv);
        s.write("signups.mapping.toml", MAPPING_TOML);
        s.collect_signups();
        s
    }

    /// The base case: collected, then M03 withdraws DirectMarketing and M04
    /// objects to direct marketing, both on 2017-03-01.
    pub fn emmas_case() -> Sandbox {
        let s = Sandbox::collected();
        s.ok(&[
            "consent",
            "emmas-diary",
            "M03",
            "--withdraw",
            "DirectMarketing",
            "--at",
            "2017-03-01",
        ]);
        s.ok(&[
            "consent",
            "emmas-diary",
            "M04",
            "--object-direct-marketing",
            "--at",
            "2017-03-01",
        ]);
        s
    }

    /// `share` with the standard output names out.csv / refused.csv.
    pub fn share(&self, extra: &[&str]) -> Assert {
        let mut args = vec![
            "share",
            "emmas-diary",
            "--out",
            "out.csv",
            "--refused",
            "refused.csv",
        ];
        args.extend_from_slice(extra);
        self.custody(&args)
    }
}

/// (subject, reasons) rows of a refused.csv.
pub fn refused_rows(text: &str) -> Vec<(String, String)> {
    refused_holdings(text)
        .into_iter()
        .map(|(s, _, r)| (s, r))
        .collect()
}

/// (subject, collector, reasons) rows of a refused.csv, sorted.
pub fn refused_holdings(text: &str) -> Vec<(String, String, String)> {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("subject,collector,reasons"),
        "refused file header:\n{text}"
    );
    let mut rows: Vec<(String, String, String)> = lines
        .map(|l| {
            let mut f = l.splitn(3, ',');
            let mut next = || f.next().unwrap_or("").to_string();
            (next(), next(), next())
        })
        .collect();
    rows.sort();
    rows
}

/// Why the test PostgreSQL server (`CUSTODY_TEST_POSTGRES`) cannot be
/// reached, if it cannot.
pub fn postgres_missing() -> Option<String> {
    let server = std::env::var("CUSTODY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    postgres::Client::connect(&server, postgres::NoTls)
        .err()
        .map(|e| format!("no PostgreSQL at {server} ({e}); set CUSTODY_TEST_POSTGRES"))
}

/// Whether a test that needs what `missing` says is missing is listed as
/// ignored, which `cargo nextest run` counts as skipped: libtest cannot skip
/// at run time, so such tests have a libtest-mimic harness that asks before
/// listing. Never under `CI=true`: there the test runs and fails.
pub fn skipped(missing: Option<String>) -> bool {
    let Some(why) = missing else { return false };
    if std::env::var("CI").as_deref() == Ok("true") {
        return false;
    }
    eprintln!("skipping: {why}");
    true
}

/// The `Example:` lines of a help, each with its `\` continuation lines
/// joined to it.
pub fn examples(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = help.lines();
    while let Some(line) = lines.next() {
        let Some(example) = line.trim_start().strip_prefix("Example: ") else {
            continue;
        };
        let mut example = example.to_string();
        while let Some(head) = example.strip_suffix('\\') {
            example = head.to_string() + lines.next().unwrap_or_default();
        }
        out.push(example);
    }
    out
}

/// Runs `test(name, workload)` for each workload as a trial of its own, all
/// listed as skipped when `skip` (see [`skipped`]); for harness-less test
/// binaries that run one test over several workloads.
pub fn run_workloads<W: Copy + Send + 'static>(
    workloads: &[(&'static str, W)],
    skip: bool,
    test: fn(&str, W),
) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let trials = workloads
        .iter()
        .map(|&(name, w)| {
            libtest_mimic::Trial::test(name, move || {
                test(name, w);
                Ok(())
            })
            .with_ignored_flag(skip)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}
