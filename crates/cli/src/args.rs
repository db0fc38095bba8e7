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
custody collect emmas-diary signups.csv --notice 2017-03\n  \
custody share emmas-diary --to experian --purpose DirectMarketing --categories Name,PhysicalAddress \\\n      \
--records all --out allowed.csv --refused refused.csv\n  \
custody trace emmas-diary ED00000001\n  custody audit emmas-diary"
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

impl Cli {
    pub fn parse() -> Cli {
        let matches = <Cli as clap::CommandFactory>::command().get_matches();
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
    Demo(DemoArgs),
    /// Write a synthetic Emma's Diary dataset of any size, deterministic by seed
    #[command(
        long_about = "Write the demo's dataset without running it: notices, sign-ups with their \
mapping, 2017 preference events, 2018 re-consents, the history of the 2017 sale, and a subject list, \
for N synthetic mothers. The same seed gives the same people, byte for byte.\n\n\
Then, for example:\n  custody init\n  custody org add emmas-diary --name \"Emma's Diary\" --role controller\n  \
custody notice publish emmas-diary DIR/notice-2017.toml\n  \
custody collect emmas-diary DIR/signups.csv --notice 2017\n  custody consent emmas-diary --file DIR/preferences-2017.csv"
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
    Collect(CollectArgs),
    /// Record a consent, withdrawal or objection (one, or many from CSV)
    Consent(ConsentArgs),
    /// Check a disclosure record by record; write the allowed and the refused
    Share(ShareArgs),
    /// Check a list (a mailing list, a purchase) against the holder's records
    /// without disclosing: the allowed rows and the refused with reasons
    #[command(long_about = SCREEN_ABOUT)]
    Screen(ScreenArgs),
    /// Where did this person's data go?
    Trace {
        org: String,
        subject: String,
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
finishes the requests in flight. Log verbosity: RUST_LOG (default info)."
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
derived, not stored: the same record always has the same code."
    )]
    AccessCode {
        org: String,
        #[arg(required = true)]
        subjects: Vec<String>,
    },
    /// Re-evaluate every recorded disclosure of an organisation's data
    Audit {
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// List every refusal reason, its message and the provisions it rests on
    Reasons {
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
for this log. Commands that find no key create one with the origin localhost/custody."
    )]
    Init {
        /// The log's origin line, e.g. emmasdiary.co.uk/custody
        #[arg(long, default_value = custody_engine::signing_key::DEFAULT_ORIGIN)]
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
(`custody log key`)."
    )]
    Receipt {
        /// The organisation holding the record (the collector or a later holder)
        org: String,
        /// The person's identifier at that organisation
        subject: String,
        /// Where to write the receipts (created if missing)
        #[arg(long, default_value = "receipts")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check a receipt offline: no database needed, only the log's verifier key
    VerifyReceipt {
        /// A .tlog-proof file written by `custody receipt`
        file: PathBuf,
        /// The log's verifier key (`<origin>+<id>+<key>`), or a file holding it
        #[arg(long)]
        key: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint)
    Checkpoint,
    /// Print the verifier key of the log, `<origin>+<key id>+<key>`
    Key,
    /// Print the proof that the log extends an older checkpoint (base64 hashes, one per line)
    #[command(
        long_about = "Print the RFC 6962 consistency proof from an older checkpoint of this log to the \
latest one: base64 hashes, one per line. A regulator who kept an old checkpoint checks with it that the \
log was only ever appended to. The proof is checked before it is printed; if the log does not extend the \
old checkpoint, this fails."
    )]
    Consistency {
        /// A checkpoint of this log kept earlier (the output of `custody log checkpoint`)
        #[arg(long)]
        from: PathBuf,
    },
    /// Recompute the whole tree from the stored entries and check everything
    #[command(
        long_about = "Recompute the whole Merkle tree from the stored entries and check it against \
the hashes stored for them, every signed checkpoint, an old checkpoint given with --from, and the state \
the entries describe (one entry for every organisation, notice, record, preference event, disclosure \
and decision). Fails loudly, naming the first bad entry, if any row was edited, deleted or reordered."
    )]
    Verify {
        /// Also prove the log consistent with this checkpoint, kept earlier
        #[arg(long)]
        from: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Write the log as C2SP tlog-tiles, for any tiles client to mirror and audit
    Export {
        /// The directory to write `checkpoint`, `tile/<L>/<N>` and `tile/entries/<N>` into
        dir: PathBuf,
    },
    /// Show entries, decoded (no personal data: subjects appear as commitments)
    Show {
        /// The first entry to show
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How many entries to show
        #[arg(long, default_value_t = 20)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// Print the inclusion proof of one entry in the latest checkpoint
    Prove { index: u64 },
}

#[derive(Args)]
pub struct DemoArgs {
    /// Number of synthetic sign-ups (the real case: 1,065,220)
    #[arg(long, default_value_t = 1_065_220)]
    pub subjects: u64,
    /// Seed for the synthetic data (same seed, same people)
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Where to write the demo's files (notices, CSVs, outputs); default ./custody-demo
    #[arg(long, default_value = "custody-demo")]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct GenArgs {
    /// Number of synthetic mothers
    #[arg(long)]
    pub subjects: u64,
    /// Seed for the synthetic data (same seed, same people)
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Where to write the files (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// csv, or parquet for the sign-ups and the subject list (signups.parquet,
    /// subjects.parquet); preference events stay CSV
    #[arg(long, value_parser = parse_format, default_value = "csv")]
    pub format: Format,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Add an organisation
    Add {
        /// Short id used everywhere else, e.g. emmas-diary
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "controller")]
        role: Role,
        /// Recipient categories it belongs to (default from the role: broker -> data-broker, campaign -> political-party)
        #[arg(long)]
        category: Vec<String>,
    },
    /// List organisations
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum VocabCommand {
    /// Show a term, its ancestors and descendants (e.g. `custody vocab show PoliticalCampaign`)
    Show {
        term: String,
        /// purpose, data-category, legal-basis or data-subject (default: the first kind that has it)
        #[arg(long)]
        kind: Option<TermKind>,
        #[arg(long)]
        json: bool,
    },
    /// Find terms by words of their label, key or definition, across DPV,
    /// fideslang, custody's and the organisations' own terms, and the
    /// recipient categories a notice may name
    ///
    /// Example: custody vocab search "due date"   (finds custody:PregnancyDueDate)
    Search {
        /// Words that must all appear, in any case: `pregnancy`, `direct marketing`
        text: String,
        /// Only terms of this kind: purpose, data-category, legal-basis or data-subject
        #[arg(long)]
        kind: Option<TermKind>,
        /// At most this many, best first
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Add an organisation's own term under existing ones
    Add {
        org: String,
        /// `<org>:<Name>`, e.g. labour:DoorstepCanvass
        key: String,
        #[arg(long)]
        kind: TermKind,
        /// Parent term(s), same kind
        #[arg(long, required = true)]
        parent: Vec<String>,
        #[arg(long)]
        label: String,
        #[arg(long)]
        definition: Option<String>,
    },
    /// Purposes that must be named explicitly (a broader purpose never covers them)
    Explicit {
        /// Replace the list from a TOML file ([[explicit]] term = "...", reason = "...")
        #[arg(long)]
        set: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum NoticeCommand {
    /// Publish a notice version from TOML or YAML (immutable once published);
    /// what `notice check` finds is printed as warnings
    Publish { org: String, file: PathBuf },
    /// Question a notice file before publishing it: special category data
    /// without an Art 9 condition, consent to disclose with no recipient
    /// named, recipients nobody registered, no retention period, a purpose
    /// that is no purpose. Each finding names its field and provision; exits
    /// 1 if any is an error.
    ///
    /// Example: custody notice check examples/emmas-diary/notice-2017.toml
    Check {
        /// The notice: TOML or YAML, as `notice publish` takes it
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Show a version (default: the latest)
    Show {
        org: String,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's versions
    List {
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// What version TO adds or drops compared with FROM
    Diff {
        org: String,
        from: String,
        to: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[derive(Args)]
pub struct CollectArgs {
    pub org: String,
    /// Records, one row per person: CSV, or Apache Parquet (.parquet)
    pub records: PathBuf,
    /// csv or parquet (default: by the file's extension)
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// The notice version the records were collected under
    #[arg(long)]
    pub notice: String,
    /// Which column is what (default: <records>.mapping.toml); see README "Collection mapping"
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Collection date for rows without a collection column (default: now)
    #[arg(long)]
    pub collected_at: Option<String>,
    /// Skip bad rows into a rejects file instead of failing the whole file
    #[arg(long)]
    pub skip_bad: bool,
    /// Where skipped rows go (default: <records>.rejects.csv)
    #[arg(long, requires = "skip_bad")]
    pub rejects: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
#[command(
    after_help = "Bulk file columns: subject,action,purpose,at[,notice]; action is give, withdraw, \
object-direct-marketing or withdraw-objection."
)]
pub struct ConsentArgs {
    pub org: String,
    pub subject: Option<String>,
    /// Withdraw consent for a purpose (and everything under it)
    #[arg(long, group = "change")]
    pub withdraw: Option<String>,
    /// Give consent for a purpose
    #[arg(long, group = "change")]
    pub give: Option<String>,
    /// Object to direct marketing (absolute: UK GDPR Art 21(3))
    #[arg(long, group = "change")]
    pub object_direct_marketing: bool,
    /// Lift an earlier objection
    #[arg(long, group = "change")]
    pub withdraw_objection: bool,
    /// Many events from a CSV file
    #[arg(long, group = "change")]
    pub file: Option<PathBuf>,
    /// When it happened (default: now)
    #[arg(long)]
    pub at: Option<String>,
    /// The notice version shown to the person when they did this (re-consent under a new notice)
    #[arg(long)]
    pub notice: Option<String>,
}

/// A disclosure's terms, as `share` and `screen` both take them.
#[derive(Args)]
pub struct Terms {
    /// The recipient
    #[arg(long)]
    pub to: String,
    /// The organisation the recipient acts for (it must be named too)
    #[arg(long)]
    pub on_behalf_of: Option<String>,
    /// Purpose(s) of the disclosure; repeat or comma-separate
    #[arg(long, required = true)]
    pub purpose: Vec<String>,
    /// Data categories to disclose, comma-separated; only their columns are sent
    #[arg(long, required = true)]
    pub categories: Vec<String>,
    /// Lawful basis the recipient relies on (must match the notice)
    #[arg(long)]
    pub basis: Option<String>,
    /// When the disclosure happens (default: now)
    #[arg(long)]
    pub at: Option<String>,
}

impl Terms {
    pub fn purposes(&self) -> Vec<String> {
        self.purpose.iter().flat_map(|p| split_list(p)).collect()
    }

    pub fn categories(&self) -> Vec<String> {
        self.categories.iter().flat_map(|p| split_list(p)).collect()
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
    /// The disclosing organisation
    pub from: String,
    #[command(flatten)]
    pub terms: Terms,
    /// `all`, or a CSV or Parquet file whose `subject` column lists the records
    #[arg(long, default_value = "all")]
    pub records: String,
    /// Allowed records, written only if the whole run succeeds
    #[arg(long)]
    pub out: PathBuf,
    /// Refused records with their reason codes
    #[arg(long)]
    pub refused: PathBuf,
    /// csv or parquet for both outputs (default: the format of the --records
    /// list, else by the extension of --out)
    #[arg(long, value_parser = parse_format)]
    pub out_format: Option<Format>,
    /// Summary as JSON
    #[arg(long)]
    pub report: Option<PathBuf>,
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
Example (the 2018 Labour screening of Emma's Diary's list):\n  \
custody screen emmas-diary signups.parquet --to labour --purpose PoliticalCampaign \\\n      \
--categories Name,PhysicalAddress,PostalCode --basis consent --at 2018-10-01 \\\n      \
--out allowed.parquet --refused refused.parquet";

#[derive(Args)]
pub struct ScreenArgs {
    /// The organisation that holds the records and would disclose them
    pub holder: String,
    /// The list: CSV or Parquet (by extension, or --format), one row per person
    pub list: PathBuf,
    #[command(flatten)]
    pub terms: Terms,
    /// The column naming each person [default: `subject`, else the subject
    /// column of the holder's collections]
    #[arg(long)]
    pub subject_column: Option<String>,
    /// csv or parquet: the list's format, if its extension does not say
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Allowed rows, written only if the whole run succeeds
    #[arg(long)]
    pub out: PathBuf,
    /// Refused rows with their reason codes
    #[arg(long)]
    pub refused: PathBuf,
    /// csv or parquet for both outputs (default: the list's format)
    #[arg(long, value_parser = parse_format)]
    pub out_format: Option<Format>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Record disclosures that happened without the gate (TOML; see README)
    Import {
        org: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Largest JSON request body, in bytes
    #[arg(long, default_value_t = 2 << 20)]
    pub max_body: usize,
    /// Largest collection upload (CSV or Parquet), in bytes
    #[arg(long, default_value_t = 256 << 20)]
    pub max_upload: usize,
    /// Reader connections beside the one writer
    #[arg(long, default_value_t = 2)]
    pub readers: usize,
    /// Mark the web pages' sign-in cookie Secure, so that browsers send it
    /// over HTTPS only. Set it whenever custody is reached through a TLS
    /// proxy; leave it off for http://127.0.0.1 on your own machine.
    #[arg(long)]
    pub secure_cookies: bool,
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key; it is printed once and stored only as a hash
    Create {
        /// The organisation the key acts for (omit with --regulator)
        #[arg(required_unless_present = "regulator", conflicts_with = "regulator")]
        org: Option<String>,
        /// admin, collector or reader
        #[arg(long, default_value = "reader")]
        role: String,
        /// A regulator key: reads everything, runs audits, changes nothing; belongs to no organisation
        #[arg(long)]
        regulator: bool,
        #[arg(long)]
        json: bool,
    },
    /// List an organisation's keys (or the regulator keys with --regulator)
    List {
        #[arg(required_unless_present = "regulator", conflicts_with = "regulator")]
        org: Option<String>,
        #[arg(long)]
        regulator: bool,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by its id (the hex part after `ck_`)
    Revoke { id: String },
}
