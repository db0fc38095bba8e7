//! Progress of long work, reported to whoever is watching (a terminal bar in
//! the CLI, nothing in tests).

pub trait Progress {
    fn start(&self, _what: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

pub struct Silent;

impl Progress for Silent {}
