//! Progress of long work, reported to whoever is watching (a terminal bar in
//! the CLI, nothing in tests).

/// Items between two reports from [`Progress::counted`]: a bar redrawn per
/// record would cost more than the work it shows.
pub const STEP: u64 = 65_536;

pub trait Progress {
    fn start(&self, _what: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}

    /// `done` items are done: reported once every [`STEP`].
    fn counted(&self, done: u64) {
        if done > 0 && done.is_multiple_of(STEP) {
            self.advance(STEP);
        }
    }
}

pub struct Silent;

impl Progress for Silent {}
