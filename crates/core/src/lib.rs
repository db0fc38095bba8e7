//! custody's core: the domain model (vocabulary, organisations, notices,
//! preferences) and the pure disclosure evaluator.
//!
//! Nothing in this crate does I/O. Parsing functions take strings; the
//! evaluator takes facts and returns a [`decision::Decision`]. Storage lives in
//! `custody-store`, workflows over files in `custody-engine`.

pub mod basis;
pub mod decision;
pub mod entry;
pub mod figure;
pub mod mapping;
pub mod notice;
pub mod organisation;
pub mod preference;
pub mod reason;
pub mod recipient;
pub mod spelling;
pub mod text;
pub mod time;
pub mod vocab;

pub use decision::{decide, Context, Decision, Received, RecordFacts, Request};
pub use notice::{Declaration, Notice, NoticeId};
pub use organisation::{Organisation, Role};
pub use reason::{Reason, ReasonSet};
pub use vocab::{TermId, TermKind, Vocabulary};
