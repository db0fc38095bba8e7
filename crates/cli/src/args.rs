//! The command line, with help that teaches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use custody_core::organisation::Role;
use custody_core::vocab::TermKind;
use custody_engine::table::Format;

#[derive(Parser)]
#[command(
    name = "custody",
    version,
    about = "A chain of custody for personal data",
    long_about = "custody keeps what each person was told when their data was collected (versioned privacy \
notices), their consents and objections as events, and checks every disclosure record by record against \
them, with reasons grounded in UK GDPR, the DPA 2018 and PECR.\n\n\
Start with `custody demo`: it rebuilds the 2017 Emma's Diary case and shows every command at work.",
    after_help = "Typical flow:\n  custody org add emmas-diary --name \"Emma's Diary\" --role controller\n  \
custody notice publish emmas-diary notice-2017.toml\n  \
custody collect emmas-diary signups.csv --notice 2017\n  \
custody share emmas-diary --to experian --purpose DirectMarketing --categories Name,PhysicalAddress \\\n      \
--records all --out allowed.csv --refused refused.csv\n  \
custody trace emmas-diary ED00000010\n  custody audit emmas-diary"
)]
pub struct Cli {
    /// The database: a SQLite file (created if missing) or a PostgreSQL URL
    /// (postgres://user@host:5432/dbname; add `?options=-c search_path=NAME`
    /// for a schema of its own)
    #[arg(long, global = true, env = "CUSTODY_DB", default_value = "custody.db")]
    pub db: String,
    /// The key that signs the log's checkpoints [default: the database file's path with extension .key; required with PostgreSQL]
    #[arg(long, global = true, env = "CUSTODY_SIGNING_KEY", value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Where the holdings snapshots (Arrow IPC copies of what each
    /// organisation holds, read by `screen`) live [default: beside a SQLite
    /// file, its path with extension .holdings; required with PostgreSQL]
    #[arg(long, global = true, env = "CUSTODY_SNAPSHOTS", value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    #[arg(skip)]
    pub db_given: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes, listed once in `custody --help`.
const GLOBAL_OPTIONS: [&str; 3] = ["db", "signing_key", "snapshots"];

/// Subcommands take the global options but do not list them again: their
/// help says what is theirs, and points to `custody --help` for the rest.
/// Each gets hidden copies before clap propagates the globals, which it
/// then skips.
fn globals_listed_once(cmd: &mut clap::Command, globals: &[clap::Arg]) {
    for sub in cmd.get_subcommands_mut() {
        let mut c = std::mem::take(sub);
        for g in globals {
            c = c.arg(g.clone().hide(true));
        }
        let note =
            "Every command also takes --db, --signing-key and --snapshots (see `custody --help`).";
        let after = match c.get_after_help() {
            Some(h) => format!("{h}\n\n{note}"),
            None => note.to_string(),
        };
        c = c.after_help(after);
        globals_listed_once(&mut c, globals);
        *sub = c;
    }
}

impl Cli {
    /// The command line as clap sees it, with the global options listed once.
    pub fn command() -> clap::Command {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let globals: Vec<clap::Arg> = cmd
            .get_arguments()
            .filter(|a| GLOBAL_OPTIONS.contains(&a.get_id().as_str()))
            .cloned()
            .collect();
        globals_listed_once(&mut cmd, &globals);
        cmd
    }

    pub fn parse() -> Cli {
        let matches = Cli::command().get_matches();
        let given = matches
            .value_source("db")
            .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue);
        let mut cli =
            <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.db_given = given;
        cli
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Rebuild the 2017 Emma's Diary case from scratch and walk through it
    ///
    /// Everything goes into one directory (custody-demo unless --dir says
    /// otherwise): the notices, the synthetic sign-ups and preference events,
    /// the database and its signing key, the CSV outputs and a person's
    /// receipts. The run ends by listing commands to try next on that data.
    ///
    /// Example: custody demo --subjects 5000
    Demo(DemoArgs),
    /// Write a synthetic Emma's Diary dataset of any size, deterministic by seed
    #[command(
        long_about = "Write the demo's dataset without running it: notices, sign-ups with their \
mapping, 2017 preference events, 2018 re-consents, the history of the 2017 sale, and a subject list, \
for N synthetic mothers. The same seed gives the same people, byte for byte.\n\n\
Example: custody gen --subjects 1000 --out custody-gen\n\n\
Then, to load it into a new database:\n  custody init\n  custody org add emmas-diary --name \"Emma's Diary\" --role controller\n  \
custody notice publish emmas-diary custody-gen/notice-2017.toml\n  \
custody collect emmas-diary custody-gen/signups.csv --notice 2017\n  \
custody consent emmas-diary --file custody-gen/preferences-2017.csv\n\n\
With --varied, events-varied.csv holds histories as data made elsewhere has them; publish \
custody-gen/notice-2018-05.toml too and load it instead of the two event files."
    )]
    Gen(GenArgs),
    /// Organisations: collectors, brokers, campaigns, regulators
    #[command(subcommand)]
    Org(OrgCommand),
    /// The vocabulary of purposes, data categories, legal bases (W3C DPV, fideslang)
    #[command(subcommand)]
    Vocab(VocabCommand),
    /// Privacy notices: publish a version, show it, compare versions
    #[command(subcommand)]
    Notice(NoticeCommand),
    /// Ingest collected records under a published notice
    ///
    /// One transaction: a bad row names file:line: field and nothing is
    /// kept, unless --skip-bad. Records already held are counted, not
    /// collected twice.
    ///
    /// Example: custody collect emmas-diary custody-demo/signups.csv --notice 2017
    Collect(CollectArgs),
    /// Record a consent, withdrawal or objection (one, or many from CSV)
    ///
    /// Each is an event: nothing is overwritten, and a later share or screen
    /// reads them all as at its date.
    ///
    /// Example: custody consent emmas-diary ED00000010 --withdraw PoliticalCampaign
    ///
    /// Example: custody consent emmas-diary --file custody-demo/reconsents-2018.csv
    Consent(ConsentArgs),
    /// Check a disclosure record by record; write the allowed and the refused
    ///
    /// Every record is decided on its own, against the notice it was collected
    /// under and the person's consents and objections since; each decision is
    /// logged. `custody reasons` explains the reason codes of the refused.
    ///
    /// The lawful 2018 disclosure to Labour, after fresh consent under the 2018-05 notice:
    ///
    /// Example: custody share emmas-diary --to labour --purpose PoliticalCampaign \
    ///     --categories Name,PhysicalAddress --basis consent --at 2018-10-01 \
    ///     --records custody-demo/subjects.csv --out labour-allowed.csv \
    ///     --refused labour-refused.csv --report labour-report.json
    #[command(verbatim_doc_comment)]
    Share(ShareArgs),
    /// Check a list (a mailing list, a purchase) against the holder's records
    /// without disclosing: the allowed rows and the refused with reasons
    #[command(long_about = SCREEN_ABOUT)]
    Screen(ScreenArgs),
    /// Where did this person's data go?
    ///
    /// What the person was told when their record was collected, their
    /// consents and objections since, every disclosure of the record with its
    /// decision and reasons, and who holds it now.
    ///
    /// Example: custody trace emmas-diary ED00000010
    Trace {
        /// The organisation that collected the record (or a later holder), e.g. emmas-diary
        org: String,
        /// The person's identifier at that organisation, e.g. ED00000010
        subject: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Disclosures that happened without the gate
    #[command(subcommand)]
    History(HistoryCommand),
    /// Serve the HTTP API (see README: The HTTP API)
    #[command(
        long_about = "Serve every capability of the CLI over HTTP: a JSON API under /v1, errors as RFC 9457 \
problem details, the transparency log as C2SP tlog-tiles under /v1/log, /healthz, /readyz, /metrics \
(Prometheus) and /openapi.json. Requests authenticate with `Authorization: Bearer KEY` (keys from \
`custody key create`) or a person's access code. SIGTERM or ctrl-c stops taking connections and \
finishes the requests in flight. Log verbosity: RUST_LOG (default info).\n\n\
Example: custody serve --listen 127.0.0.1:8080   # then open http://127.0.0.1:8080/\n\
Example: custody serve --listen 127.0.0.1:8080 --trusted-proxy 127.0.0.1 --secure-cookies   # behind a TLS proxy on this machine\n\
Example: custody serve --header-timeout 5s --body-timeout 2m --max-connections 2048"
    )]
    Serve(ServeArgs),
    /// API keys for `custody serve`: create (shown once), list, revoke
    #[command(subcommand)]
    Key(KeyCommand),
    /// A person's access code for `custody serve`: hand it to them
    #[command(
        long_about = "Print the access code of each record an organisation collected for the given \
subjects, one `subject<TAB>code` a line. With the code, and nothing else, the person can read their \
trace, give or withdraw consent, object, and fetch their receipts over HTTP (/v1/me/...). Codes are \
derived, not stored: the same record always has the same code.\n\n\
Example: custody access-code emmas-diary ED00000010 ED00000011"
    )]
    AccessCode {
        /// The organisation that collected the records, e.g. emmas-diary
        org: String,
        /// The people's identifiers at that organisation, one or more, e.g. ED00000010 ED00000011
        #[arg(required = true)]
        subjects: Vec<String>,
    },
    /// Re-evaluate every recorded disclosure of an organisation's data
    ///
    /// Each disclosure of the data it collected, downstream ones too, through
    /// the gate or imported as history, checked again record by record: how
    /// many records went and how many of them should not have.
    ///
    /// Example: custody audit emmas-diary
    Audit {
        /// The organisation whose collected data is audited, e.g. emmas-diary
        org: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// List every refusal reason, its message and the provisions it rests on
    ///
    /// Example: custody reasons
    Reasons {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Create the database and the log's signing key, naming the log
    #[command(
        long_about = "Create the database and the key that signs the log's checkpoints, and sign the \
first (empty) checkpoint.\n\n\
The origin is the log's name: the first line of every checkpoint and the name in its verifier key. \
Use a name you control, such as a domain and path (example.org/custody). The key file is created \
readable by its owner only; keep it safe and never share it: whoever holds it can sign checkpoints \
for this log. Commands that find no key create one with the origin localhost/custody.\n\n\
Example: custody init --origin emmasdiary.co.uk/custody"
    )]
    Init {
        /// The log's name, the first line of each checkpoint, e.g. emmasdiary.co.uk/custody
        #[arg(long, default_value = custody_engine::log::signing_key::DEFAULT_ORIGIN)]
        origin: String,
    },
    /// The transparency log: checkpoints, the verifier key, proofs, export
    #[command(subcommand)]
    Log(LogCommand),
    /// Write a receipt (C2SP tlog-proof) for every log entry about a person
    #[command(
        long_about = "Write a receipt for every log entry about a person: their collection, each \
consent or objection, every decision on a disclosure of their record and every imported disclosure of it, \
downstream too.\n\n\
Each receipt is a C2SP tlog-proof@v1 file: the entry's exact bytes (its `extra` line), its index, the \
Merkle inclusion proof and the signed checkpoint. The entry names the person only by a keyed commitment. \
Anyone can check a receipt offline with `custody verify-receipt FILE --key VKEY` and the log's verifier key \
(`custody log key`).\n\n\
Example: custody receipt emmas-diary ED00000010 --out custody-demo/receipts"
    )]
    Receipt {
        /// The organisation holding the record (the collector or a later holder), e.g. emmas-diary
        org: String,
        /// The person's identifier at that organisation, e.g. ED00000010
        subject: String,
        /// Where to write the receipts (created if missing), e.g. custody-demo/receipts; each file
        /// is named <subject>-<log index>.tlog-proof
        #[arg(long, default_value = "receipts")]
        out: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Check a receipt offline: no database needed, only the log's verifier key
    ///
    /// The key is the line `custody log key` prints, handed to whoever checks;
    /// in the example it is fetched from the demo's log on the spot.
    ///
    /// Example: custody verify-receipt custody-demo/receipts/ED00000010-14.tlog-proof \
    ///     --key "$(custody log key)"
    #[command(verbatim_doc_comment)]
    VerifyReceipt {
        /// A .tlog-proof file written by `custody receipt`, e.g.
        /// custody-demo/receipts/ED00000010-14.tlog-proof
        file: PathBuf,
        /// The log's verifier key (`<origin>+<id>+<key>`, as `custody log key` prints it, e.g.
        /// demo.custody.invalid/emmas-diary+32c66235+ASFi...), or a file holding it
        #[arg(long)]
        key: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint)
    ///
    /// Keep one: `custody log consistency --from` and `custody log verify
    /// --from` later prove the log only grew since.
    ///
    /// Example: custody log checkpoint
    Checkpoint,
    /// Print the verifier key of the log, `<origin>+<key id>+<key>`
    ///
    /// Hand it to whoever checks receipts (`custody verify-receipt --key`).
    ///
    /// Example: custody log key
    Key,
    /// Print the proof that the log extends an older checkpoint (base64 hashes, one per line)
    #[command(
        long_about = "Print the RFC 6962 consistency proof from an older checkpoint of this log to the \
latest one: base64 hashes, one per line. A regulator who kept an old checkpoint checks with it that the \
log was only ever appended to. The proof is checked before it is printed; if the log does not extend the \
old checkpoint, this fails.\n\n\
Keep a checkpoint, then later prove the log extends it:\n\n\
Example: custody log checkpoint > kept.checkpoint\n\
Example: custody log consistency --from kept.checkpoint"
    )]
    Consistency {
        /// A checkpoint of this log kept earlier (the output of `custody log checkpoint`), e.g.
        /// kept.checkpoint
        #[arg(long)]
        from: PathBuf,
    },
    /// Recompute the whole tree from the stored entries and check everything
    #[command(
        long_about = "Recompute the whole Merkle tree from the stored entries and check it against \
the hashes stored for them, every signed checkpoint, an old checkpoint given with --from, and the state \
the entries describe (one entry for every organisation, notice, record, preference event, disclosure \
and decision). Fails loudly, naming the first bad entry, if any row was edited, deleted or reordered.\n\n\
Example: custody log verify"
    )]
    Verify {
        /// Also prove the log consistent with this checkpoint, kept earlier (the output of
        /// `custody log checkpoint`), e.g. kept.checkpoint
        #[arg(long)]
        from: Option<PathBuf>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Write the log as C2SP tlog-tiles, for any tiles client to mirror and audit
    ///
    /// Example: custody log export custody-demo/tiles
    Export {
        /// The directory to write `checkpoint`, `tile/<L>/<N>` and `tile/entries/<N>` into
        /// (created if missing), e.g. custody-demo/tiles
        dir: PathBuf,
    },
    /// Show entries, decoded (no personal data: subjects appear as commitments)
    ///
    /// Example: custody log show --from 14 --limit 5
    Show {
        /// The index of the first entry to show, e.g. 14 (0 is the first)
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How many entries to show, e.g. 5
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Print one entry's inclusion proof in the latest checkpoint, as a C2SP tlog-proof
    ///
    /// The spec's header line `c2sp.org/tlog-proof@v1`, the entry's bytes as
    /// the `extra` line (base64), `index N`, the proof's hashes (base64, one
    /// per line), an empty line and the signed checkpoint. Any tlog-proof
    /// verifier checks it with the log's key; so do `custody log check
    /// tlog-proof` and `custody verify-receipt`.
    ///
    /// Example: custody log prove 14
    Prove {
        /// The entry's index in the log, e.g. 14 (in the demo, the collection of ED00000010's
        /// record; `custody log show` lists the indexes)
        index: u64,
    },
    /// Check a proof custody did not make: RFC 6962 inclusion or consistency, or a tlog-proof
    ///
    /// No database is needed. Each says in words what holds, or what fails
    /// and exits 1.
    #[command(subcommand)]
    Check(CheckCommand),
}

/// The proofs `custody log check` reads. Hashes (leaf, roots) are 64 hex
/// digits or padded base64; a proof file is an RFC 6962 log's JSON answer
/// (`get-proof-by-hash`, `get-entry-and-proof`: "audit_path";
/// `get-sth-consistency`: "consistency") or one hash per line, hex or base64.
#[derive(Subcommand)]
pub enum CheckCommand {
    /// Check that a leaf is entry I of a tree of N entries with a given root (RFC 9162 2.1.3.2)
    #[command(
        long_about = "Check an RFC 6962 inclusion proof (an \"audit path\") from any log: that the leaf \
is entry INDEX of the tree of SIZE entries whose root is ROOT. Give the leaf as its hash, or the entry's \
bytes in a file (hashed as SHA-256(0x00 || entry); for a Certificate Transparency log, the \
MerkleTreeLeaf, which is get-entries' leaf_input decoded from base64). The proof is the log's JSON \
answer or one hash per line. Prints what holds, or says what fails and exits 1.\n\n\
Take SIZE and ROOT from one signed tree head you checked: the root stands for the tree, and the proof \
binds the size only through its shape (every size from 2^21 + 1 to 2^22 gives entry 848049 the same \
path), so a size given apart from its root proves nothing.\n\n\
An inclusion proof published by Google's Pilot log, checked from the repository's root:\n\n\
Example: custody log check inclusion --index 848049 --size 3630887 \\\n    \
--leaf-hash 7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78 \\\n    \
--root 78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb \\\n    \
--proof crates/log/testdata/ct/pilot-848049.proof"
    )]
    Inclusion {
        /// The leaf hash, 64 hex digits or base64, e.g.
        /// 7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78
        #[arg(long, required_unless_present = "entry", conflicts_with = "entry")]
        leaf_hash: Option<String>,
        /// Or a file holding the entry's bytes, whose leaf hash is checked, e.g. entry.bin
        #[arg(long)]
        entry: Option<PathBuf>,
        /// The entry's index in the log (0 is the first), e.g. 848049
        #[arg(long)]
        index: u64,
        /// The size of the tree the proof is in, e.g. 3630887
        #[arg(long)]
        size: u64,
        /// The root hash of that tree (from the log's signed tree head), hex or base64, e.g.
        /// 78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb
        #[arg(long)]
        root: String,
        /// The proof: the log's JSON answer, or one hash per line, e.g. pilot-848049.proof
        #[arg(long)]
        proof: PathBuf,
    },
    /// Check that the tree of M entries with one root is a prefix of the tree of N with another
    #[command(
        long_about = "Check an RFC 6962 consistency proof from any log (RFC 9162 2.1.4.2): that the tree \
of OLD_SIZE entries whose root is OLD_ROOT is the first OLD_SIZE entries of the tree of NEW_SIZE entries \
whose root is NEW_ROOT, so the log only appended in between. The roots come from two signed tree heads \
you hold; the proof is the log's JSON answer to get-sth-consistency, or one hash per line (what `custody \
log consistency` prints). Prints what holds, or says what fails and exits 1. The older size is bound by \
the proof; the newer, as in an inclusion proof, only through the proof's shape: take it with its root \
from one signed tree head.\n\n\
A consistency proof published by Google's Argon 2027h1 log, checked from the repository's root:\n\n\
Example: custody log check consistency \\\n    \
--old-size 384065451 --old-root 62+t2XxLmSqJnk7pxUna6EVA7+u+dotyl8q6wojifD8= \\\n    \
--new-size 384071894 --new-root PRK7kHXyMbv9nTQAKoubWZ0KhDKtI6z/gPRWrnc+sGs= \\\n    \
--proof crates/log/testdata/ct/argon2027h1_consistency.json"
    )]
    Consistency {
        /// The size of the older tree, e.g. 384065451
        #[arg(long)]
        old_size: u64,
        /// The older tree's root hash, hex or base64, e.g.
        /// 62+t2XxLmSqJnk7pxUna6EVA7+u+dotyl8q6wojifD8=
        #[arg(long)]
        old_root: String,
        /// The size of the newer tree, e.g. 384071894
        #[arg(long)]
        new_size: u64,
        /// The newer tree's root hash, hex or base64, e.g.
        /// PRK7kHXyMbv9nTQAKoubWZ0KhDKtI6z/gPRWrnc+sGs=
        #[arg(long)]
        new_root: String,
        /// The proof: the log's JSON answer, or one hash per line, e.g. argon2027h1_consistency.json
        #[arg(long)]
        proof: PathBuf,
    },
    /// Check a C2SP tlog-proof from any log against its verifier key
    #[command(
        long_about = "Check a C2SP tlog-proof (c2sp.org/tlog-proof@v1) from any log: that the checkpoint \
in it is signed by the log's verifier key, and that the entry is at the proof's index in the tree it \
signs. The entry is the file given with --entry, or the leaf hash given with --leaf-hash, or else the \
proof's own extra data (where custody puts the entry; the spec: \"Applications MUST NOT implicitly \
trust the extra data\", so the check then shows only that those bytes are in the log). Witness \
cosignatures are not checked. For custody's receipts, `custody verify-receipt` also tells what the \
entry says.\n\n\
Example: custody log prove 14 > entry-14.tlog-proof\n\
Example: custody log check tlog-proof entry-14.tlog-proof --key \"$(custody log key)\""
    )]
    TlogProof {
        /// The tlog-proof file, e.g. entry-14.tlog-proof
        file: PathBuf,
        /// The log's verifier key (`<origin>+<id>+<key>`, as `custody log key` prints it), or a
        /// file holding it, e.g. demo.custody.invalid/emmas-diary+32c66235+ASFi...
        #[arg(long)]
        key: String,
        /// A file holding the entry's bytes, instead of the proof's extra data, e.g. entry.bin
        #[arg(long, conflicts_with = "leaf_hash")]
        entry: Option<PathBuf>,
        /// The entry's leaf hash, hex or base64, instead of the proof's extra data, e.g.
        /// 7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78
        #[arg(long)]
        leaf_hash: Option<String>,
    },
}

#[derive(Args)]
pub struct DemoArgs {
    /// Number of synthetic sign-ups, e.g. 5000 (the real case: 1,065,220)
    #[arg(long, default_value_t = 1_065_220)]
    pub subjects: u64,
    /// Seed for the synthetic data, e.g. 2017 (same seed, same people)
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Where to write the demo's files (notices, CSVs, outputs, and the database unless --db
    /// names one), e.g. custody-demo
    #[arg(long, default_value = "custody-demo")]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct GenArgs {
    /// Number of synthetic mothers, e.g. 1000
    #[arg(long)]
    pub subjects: u64,
    /// Seed for the synthetic data, e.g. 2017 (same seed, same people)
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Where to write the files (created if missing), e.g. custody-gen
    #[arg(long)]
    pub out: PathBuf,
    /// csv, or parquet for the sign-ups and the subject list (signups.parquet,
    /// subjects.parquet); preference events stay CSV. E.g. parquet
    #[arg(long, value_parser = parse_format, default_value = "csv")]
    pub format: Format,
    /// Also write events-varied.csv: preference events as data made
    /// elsewhere has them, 0 to 12 a mother over Marketing, DirectMarketing
    /// and PoliticalCampaign, all four actions, times to the second, ties,
    /// some under the 2018-05 notice (load it with `consent --file` instead
    /// of preferences-2017.csv and reconsents-2018.csv, after publishing
    /// both notices). Without it, the case's ~40 histories only
    #[arg(long)]
    pub varied: bool,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Add an organisation
    ///
    /// The demo adds emmas-diary, experian, labour and ico; the example adds
    /// another broker.
    ///
    /// Example: custody org add bounty --name "Bounty UK" --role broker
    Add {
        /// Short id used everywhere else, e.g. emmas-diary
        id: String,
        /// Its full name, shown in traces and audits, e.g. "Emma's Diary"
        #[arg(long)]
        name: String,
        /// What it is: controller (collects the data), broker, campaign or regulator
        #[arg(long, default_value = "controller")]
        role: Role,
        /// Recipient categories it belongs to, e.g. data-broker; repeat for more (default from
        /// the role: broker -> data-broker, campaign -> political-party)
        #[arg(long)]
        category: Vec<String>,
    },
    /// List organisations
    ///
    /// Example: custody org list
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum VocabCommand {
    /// Show a term, its ancestors and descendants
    ///
    /// Example: custody vocab show PoliticalCampaign
    Show {
        /// The term: its key, e.g. dpv:PoliticalCampaign, or its name alone, e.g. PoliticalCampaign
        term: String,
        /// purpose, data-category, legal-basis or data-subject (default: the first kind that has it)
        #[arg(long)]
        kind: Option<TermKind>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Find terms by words of their label, key or definition, across DPV,
    /// fideslang, custody's and the organisations' own terms, and the
    /// recipient categories a notice may name
    ///
    /// Example: custody vocab search "due date"   # finds custody:PregnancyDueDate
    Search {
        /// Words that must all appear, in any case: `pregnancy`, `direct marketing`
        text: String,
        /// Only terms of this kind: purpose, data-category, legal-basis or data-subject
        #[arg(long)]
        kind: Option<TermKind>,
        /// At most this many, best first, e.g. 5
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Add an organisation's own term under existing ones
    ///
    /// Example: custody vocab add labour labour:DoorstepCanvass --kind purpose \
    ///     --parent PoliticalCampaign --label "Doorstep canvassing"
    #[command(verbatim_doc_comment)]
    Add {
        /// The organisation whose term it is, e.g. labour
        org: String,
        /// `<org>:<Name>`, e.g. labour:DoorstepCanvass
        key: String,
        /// The kind of term: purpose, data-category, legal-basis or data-subject
        #[arg(long)]
        kind: TermKind,
        /// Parent term(s), of the same kind, e.g. PoliticalCampaign; repeat for more
        #[arg(long, required = true)]
        parent: Vec<String>,
        /// A short human name, e.g. "Doorstep canvassing"
        #[arg(long)]
        label: String,
        /// What it means, in a sentence, e.g. "Calling at voters' homes to ask for their support"
        #[arg(long)]
        definition: Option<String>,
    },
    /// Purposes that must be named explicitly (a broader purpose never covers them)
    ///
    /// Example: custody vocab explicit
    Explicit {
        /// Replace the list from a TOML file ([[explicit]] term = "...", reason = "..."), e.g.
        /// explicit.toml
        #[arg(long)]
        set: Option<PathBuf>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum NoticeCommand {
    /// Publish a notice version from TOML or YAML (immutable once published);
    /// what `notice check` finds is printed as warnings
    ///
    /// Publishing the same content again changes nothing and says so.
    ///
    /// Example: custody notice publish emmas-diary custody-demo/notice-2018-05.toml
    Publish {
        /// The organisation whose notice it is, e.g. emmas-diary
        org: String,
        /// The notice: TOML or YAML with its version label inside, e.g.
        /// custody-demo/notice-2018-05.toml
        file: PathBuf,
    },
    /// Question a notice file before publishing it: special category data
    /// without an Art 9 condition, consent to disclose with no recipient
    /// named, recipients nobody registered, no retention period, a purpose
    /// that is no purpose. Each finding names its field and provision; exits
    /// 1 if any is an error.
    ///
    /// Example: custody notice check custody-demo/notice-2018-05.toml
    Check {
        /// The notice: TOML or YAML, as `notice publish` takes it, e.g.
        /// custody-demo/notice-2018-05.toml
        file: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Show a version: its text and declarations
    ///
    /// Example: custody notice show emmas-diary 2017
    Show {
        /// The organisation that published it, e.g. emmas-diary
        org: String,
        /// The version label, as `notice list` shows it, e.g. 2017 (default: the latest)
        version: Option<String>,
        /// The same as VERSION (kept for scripts)
        #[arg(long = "version", hide = true, conflicts_with = "version")]
        version_flag: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's versions
    ///
    /// Example: custody notice list emmas-diary
    List {
        /// The organisation that published them, e.g. emmas-diary
        org: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// What version TO adds or drops compared with FROM
    ///
    /// Its effective date, its text word by word, and the declarations (each
    /// a purpose with its data, recipients and legal basis) added, dropped or
    /// changed.
    ///
    /// Example: custody notice diff emmas-diary 2017 2018-05
    Diff {
        /// The organisation that published both, e.g. emmas-diary
        org: String,
        /// The older version label, e.g. 2017
        from: String,
        /// The newer version label, e.g. 2018-05
        to: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[derive(Args)]
pub struct CollectArgs {
    /// The organisation that collected the records, e.g. emmas-diary
    pub org: String,
    /// Records, one row per person: CSV, or Apache Parquet (.parquet), e.g.
    /// custody-demo/signups.csv
    pub records: PathBuf,
    /// csv or parquet (default: by the file's extension)
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// The notice version the records were collected under, e.g. 2017
    #[arg(long)]
    pub notice: String,
    /// Which column is what, e.g. custody-demo/signups.mapping.toml (default:
    /// <records>.mapping.toml); see README "Collection mapping"
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Collection date for rows without a collection column, e.g. 2017-04-01 (default: now)
    #[arg(long)]
    pub collected_at: Option<String>,
    /// Skip bad rows into a rejects file instead of failing the whole file
    #[arg(long)]
    pub skip_bad: bool,
    /// Where skipped rows go, e.g. signups.rejects.csv (default: <records>.rejects.csv)
    #[arg(long, requires = "skip_bad")]
    pub rejects: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
#[command(
    after_help = "Bulk file columns: subject,action,purpose,at[,notice]; action is give, withdraw, \
object-direct-marketing or withdraw-objection."
)]
pub struct ConsentArgs {
    /// The organisation that holds the person's record, e.g. emmas-diary
    pub org: String,
    /// The person's identifier at that organisation, e.g. ED00000010 (omit with --file)
    pub subject: Option<String>,
    /// Withdraw consent for a purpose (and everything under it), e.g. PoliticalCampaign
    #[arg(long, group = "change")]
    pub withdraw: Option<String>,
    /// Give consent for a purpose, e.g. PoliticalCampaign
    #[arg(long, group = "change")]
    pub give: Option<String>,
    /// Object to direct marketing (absolute: UK GDPR Art 21(3))
    #[arg(long, group = "change")]
    pub object_direct_marketing: bool,
    /// Lift an earlier objection
    #[arg(long, group = "change")]
    pub withdraw_objection: bool,
    /// Many events from a CSV file (columns below), e.g. custody-demo/preferences-2017.csv
    #[arg(long, group = "change")]
    pub file: Option<PathBuf>,
    /// When it happened, e.g. 2017-04-11 (default: now)
    #[arg(long)]
    pub at: Option<String>,
    /// The notice version shown to the person when they did this (re-consent under a new
    /// notice), e.g. 2018-05
    #[arg(long)]
    pub notice: Option<String>,
}

/// A disclosure's terms, as `share` and `screen` both take them.
#[derive(Args)]
pub struct Terms {
    /// The recipient, e.g. labour
    #[arg(long)]
    pub to: String,
    /// The organisation the recipient acts for (it must be named too), e.g. labour when the
    /// recipient is experian
    #[arg(long)]
    pub on_behalf_of: Option<String>,
    /// Purpose(s) of the disclosure, e.g. PoliticalCampaign; repeat or comma-separate
    #[arg(long, required = true)]
    pub purpose: Vec<String>,
    /// Data categories to disclose, comma-separated, e.g. Name,PhysicalAddress; only their
    /// columns are sent
    #[arg(long, required = true)]
    pub categories: Vec<String>,
    /// Lawful basis the recipient relies on (must match the notice), e.g. consent or
    /// legitimate-interests
    #[arg(long)]
    pub basis: Option<String>,
    /// When the disclosure happens, e.g. 2018-10-01 (default: now)
    #[arg(long)]
    pub at: Option<String>,
}

impl Terms {
    /// The engine's terms of a disclosure from `from`.
    pub fn of(&self, from: &str) -> anyhow::Result<custody_engine::disclosure::Terms> {
        let list = |v: &[String]| v.iter().flat_map(|p| split_list(p)).collect();
        Ok(custody_engine::disclosure::Terms {
            from: from.to_string(),
            to: self.to.clone(),
            on_behalf_of: self.on_behalf_of.clone(),
            purposes: list(&self.purpose),
            categories: list(&self.categories),
            basis: self.basis.clone(),
            at: self
                .at
                .as_deref()
                .map(custody_core::time::parse_instant)
                .transpose()?,
        })
    }
}

/// `a,b` and `a, b` alike.
fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[derive(Args)]
pub struct ShareArgs {
    /// The disclosing organisation, e.g. emmas-diary
    pub from: String,
    #[command(flatten)]
    pub terms: Terms,
    /// `all`, or a CSV or Parquet file whose `subject` column lists the records, e.g.
    /// custody-demo/subjects.csv
    #[arg(long, default_value = "all")]
    pub records: String,
    /// Allowed records, written only if the whole run succeeds, e.g. labour-allowed.csv
    #[arg(long)]
    pub out: PathBuf,
    /// Refused records with their reason codes, e.g. labour-refused.csv
    #[arg(long)]
    pub refused: PathBuf,
    /// csv or parquet for both outputs (default: the format of the --records
    /// list, else by the extension of --out)
    #[arg(long, value_parser = parse_format)]
    pub out_format: Option<Format>,
    /// Also write the summary (counts, reasons and their provisions) as JSON to this file, e.g.
    /// labour-report.json
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print the summary as JSON instead of text
    #[arg(long)]
    pub json: bool,
}

const SCREEN_ABOUT: &str = "Check a list of people against what the holder collected them under \
and their consents since, for a disclosure that has not happened: a campaign screening a mailing \
list, a broker checking a purchase, a regulator re-checking a year's disclosures.\n\n\
Each row of LIST (CSV or Parquet) names a person in its subject column. The row is allowed only if \
every record the holder has of that person may go to the recipient for the purposes; it is written \
to --out with only the columns of the requested categories (a column counts as the category the \
holder collected it under; columns of no such category are never written). Refused rows go to \
--refused with their reason codes (`custody reasons` explains each), people the holder does not \
hold among them (not-held).\n\n\
Nothing is recorded: `custody share` is the gate that records a disclosure and logs each decision. \
The holder's records and consents are read from its holdings snapshot (see --snapshots), which is \
brought up to date first, reading only what changed since.\n\n\
The 2018 Labour screening of Emma's Diary's list, on the demo's data:\n\n\
Example: custody screen emmas-diary custody-demo/signups.csv --to labour \\\n    \
--purpose PoliticalCampaign --categories Name,PhysicalAddress,PostalCode \\\n    \
--basis consent --at 2018-10-01 --out screened.csv --refused screened-refused.csv\n\n\
The same from Parquet (`custody gen --format parquet` writes the list so):\n  \
custody screen emmas-diary signups.parquet --to labour --purpose PoliticalCampaign \\\n      \
--categories Name,PhysicalAddress,PostalCode --basis consent --at 2018-10-01 \\\n      \
--out allowed.parquet --refused refused.parquet";

#[derive(Args)]
pub struct ScreenArgs {
    /// The organisation that holds the records and would disclose them, e.g. emmas-diary
    pub holder: String,
    /// The list: CSV or Parquet (by extension, or --format), one row per person, e.g.
    /// custody-demo/signups.csv
    pub list: PathBuf,
    #[command(flatten)]
    pub terms: Terms,
    /// The column naming each person, e.g. member_id [default: `subject`, else the subject
    /// column of the holder's collections]
    #[arg(long)]
    pub subject_column: Option<String>,
    /// csv or parquet: the list's format, if its extension does not say
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Allowed rows, written only if the whole run succeeds, e.g. screened.csv
    #[arg(long)]
    pub out: PathBuf,
    /// Refused rows with their reason codes, e.g. screened-refused.csv
    #[arg(long)]
    pub refused: PathBuf,
    /// csv or parquet for both outputs (default: the list's format)
    #[arg(long, value_parser = parse_format)]
    pub out_format: Option<Format>,
    /// Print the summary as JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Record disclosures that happened without the gate (TOML; see README)
    ///
    /// Each [[disclosure]] of the file is recorded as disclosed, unchecked:
    /// `custody audit` and `custody trace` then show it with what the gate
    /// would have said.
    ///
    /// Example: custody history import experian custody-demo/history-experian.toml
    Import {
        /// The organisation that made the disclosures, e.g. experian
        org: String,
        /// The disclosures, as TOML ([[disclosure]] to, at, purposes, categories, records),
        /// e.g. custody-demo/history-experian.toml
        file: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    /// The address and port to listen on, e.g. 0.0.0.0:8080 for every interface
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Largest JSON request body, in bytes, e.g. 4194304
    #[arg(long, default_value_t = 2 << 20)]
    pub max_body: usize,
    /// Largest collection upload (CSV or Parquet), in bytes, e.g. 1073741824
    #[arg(long, default_value_t = 256 << 20)]
    pub max_upload: usize,
    /// Database connections for reading, beside the one writer, e.g. 4
    #[arg(long, default_value_t = 2)]
    pub readers: usize,
    /// Mark the web pages' sign-in cookie Secure, so that browsers send it
    /// over HTTPS only. Set it whenever custody is reached through a TLS
    /// proxy; leave it off for http://127.0.0.1 on your own machine.
    #[arg(long)]
    pub secure_cookies: bool,
    /// How long a connection may take to send a request's headers, from
    /// opening or from its previous response (so idle keep-alive
    /// connections close after it too): 500ms, 10s, 2m, e.g. 5s
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: std::time::Duration,
    /// How long the server waits, in all, for a request's body; time it
    /// spends on what arrived does not count. Raise it for large uploads
    /// over slow links, e.g. 5m
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub body_timeout: std::time::Duration,
    /// Open connections at most; past it a new connection is answered 503
    /// (with Retry-After) and closed, e.g. 2048 (mind `ulimit -n`)
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// A proxy in front of custody (an address or a CIDR block), whose
    /// Forwarded or X-Forwarded-For header names the client, for the
    /// failed-authentication limit; repeat for several, e.g. 127.0.0.1 or
    /// 10.0.0.0/8. Without it those headers are ignored.
    #[arg(long = "trusted-proxy", value_name = "ADDR")]
    pub trusted_proxies: Vec<custody_server::client::TrustedProxy>,
}

/// A duration: a number and a unit (ms, s, m), or seconds alone.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: a number and ms, s or m, e.g. 10s"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "" | "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!("`{s}`: the unit is ms, s or m, e.g. 10s")),
    }
}

#[cfg(test)]
mod serve_tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn a_duration_is_a_number_and_a_unit() {
        let cases = [
            ("250ms", Some(Duration::from_millis(250))),
            ("10s", Some(Duration::from_secs(10))),
            ("10", Some(Duration::from_secs(10))),
            ("2m", Some(Duration::from_secs(120))),
            ("2h", None),
            ("ms", None),
            ("", None),
        ];
        for (given, want) in cases {
            assert_eq!(parse_duration(given).ok(), want, "{given}");
        }
    }
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key; it is printed once and stored only as a hash
    ///
    /// Send it as `Authorization: Bearer ck_...` to `custody serve`.
    ///
    /// Example: custody key create emmas-diary --role collector
    Create {
        /// The organisation the key acts for, e.g. emmas-diary (omit with --regulator)
        #[arg(required_unless_present = "regulator", conflicts_with = "regulator")]
        org: Option<String>,
        /// What the key may do for its organisation: admin (everything), collector (collect,
        /// record preferences, request disclosures, read) or reader (read only)
        #[arg(long, default_value = "reader")]
        role: String,
        /// A regulator key: reads everything, runs audits, changes nothing; belongs to no organisation
        #[arg(long)]
        regulator: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's keys (or the regulator keys with --regulator)
    ///
    /// One key a line: its id, role, when it was made, and whether it is live
    /// or revoked. The secret itself is never shown again.
    ///
    /// Example: custody key list emmas-diary
    List {
        /// The organisation whose keys to list, e.g. emmas-diary (omit with --regulator)
        #[arg(required_unless_present = "regulator", conflicts_with = "regulator")]
        org: Option<String>,
        /// List the regulator keys instead
        #[arg(long)]
        regulator: bool,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id (the hex part after `ck_`)
    ///
    /// Example: custody key revoke fded21e3e2a3365e   # an id `custody key list` shows
    Revoke {
        /// The key's id: the hex part after `ck_`, as `key create` printed it and `key list`
        /// shows it, e.g. fded21e3e2a3365e
        id: String,
    },
}
