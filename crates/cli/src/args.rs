//! The command line, with help that teaches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use custody_core::organisation::Role;
use custody_core::vocab::TermKind;

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
    /// The database file (created if missing)
    #[arg(long, global = true, env = "CUSTODY_DB", default_value = "custody.db")]
    pub db: PathBuf,
    #[arg(skip)]
    pub db_given: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub fn parse() -> Cli {
        let matches = <Cli as clap::CommandFactory>::command().get_matches();
        let given = matches.value_source("db").is_some_and(|s| s != clap::parser::ValueSource::DefaultValue);
        let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.db_given = given;
        cli
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Rebuild the 2017 Emma's Diary case from scratch and walk through it
    Demo(DemoArgs),
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
    /// Publish a notice version from TOML or YAML (immutable once published)
    Publish { org: String, file: PathBuf },
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

#[derive(Args)]
pub struct CollectArgs {
    pub org: String,
    /// CSV of records, one row per person
    pub records: PathBuf,
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
#[command(after_help = "Bulk file columns: subject,action,purpose,at[,notice]; action is give, withdraw, \
object-direct-marketing or withdraw-objection.")]
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

#[derive(Args)]
pub struct ShareArgs {
    /// The disclosing organisation
    pub from: String,
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
    /// `all`, or a CSV whose `subject` column lists the records
    #[arg(long, default_value = "all")]
    pub records: String,
    /// When the disclosure happens (default: now)
    #[arg(long)]
    pub at: Option<String>,
    /// Allowed records (CSV), written only if the whole run succeeds
    #[arg(long)]
    pub out: PathBuf,
    /// Refused records with their reason codes (CSV)
    #[arg(long)]
    pub refused: PathBuf,
    /// Summary as JSON
    #[arg(long)]
    pub report: Option<PathBuf>,
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
