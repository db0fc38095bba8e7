//! What a disclosure did to each record: its decision, the person's
//! commitment for the log, and the recipient's copy if the record went out.
//!
//! A disclosure of tens of millions of records cannot hold its outcomes in
//! memory until the store takes them, so they wait in a [`Spill`]: a
//! temporary file of fixed-layout rows, read back a chunk at a time.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};

use custody_core::entry::Commitment;

use crate::{Error, Result};

/// Outcomes the store takes per round, and the log prepares per chunk.
pub(crate) const CHUNK: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub record: i64,
    /// The collection record `record` descends from (itself, if collected).
    pub origin: i64,
    /// The reasons refused (empty: allowed); None for imported history,
    /// which was disclosed, never decided.
    pub reasons: Option<u32>,
    pub subject: Commitment,
    /// The subject id of the recipient's copy of `origin`, if it gets one.
    pub copy: Option<String>,
}

impl Outcome {
    /// The record and its origin, as the log names them.
    pub(crate) fn record_ref(&self) -> custody_core::entry::RecordRef {
        custody_core::entry::RecordRef {
            record: self.record as u64,
            origin: self.origin as u64,
        }
    }
}

/// Outcomes on disk, in the order they were decided.
pub(crate) struct Spill {
    out: BufWriter<File>,
    len: u64,
}

const HAS_REASONS: u8 = 1;
const HAS_COPY: u8 = 2;

fn spill_error(e: std::io::Error) -> Error {
    Error::Invalid(format!("the temporary file of decisions: {e}"))
}

impl Spill {
    pub(crate) fn new() -> Result<Spill> {
        Ok(Spill {
            out: BufWriter::with_capacity(1 << 20, tempfile::tempfile().map_err(spill_error)?),
            len: 0,
        })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn push(&mut self, o: &Outcome) -> Result<()> {
        let flags = o.reasons.map_or(0, |_| HAS_REASONS) | o.copy.as_ref().map_or(0, |_| HAS_COPY);
        let w = &mut self.out;
        let mut write = || -> std::io::Result<()> {
            w.write_all(&[flags])?;
            w.write_all(&o.record.to_le_bytes())?;
            w.write_all(&o.origin.to_le_bytes())?;
            w.write_all(&o.reasons.unwrap_or(0).to_le_bytes())?;
            w.write_all(&o.subject)?;
            if let Some(subject) = &o.copy {
                w.write_all(&(subject.len() as u32).to_le_bytes())?;
                w.write_all(subject.as_bytes())?;
            }
            Ok(())
        };
        write().map_err(spill_error)?;
        self.len += 1;
        Ok(())
    }

    /// The outcomes, in order, [`CHUNK`] at a time.
    pub(crate) fn chunks(self) -> Result<Chunks> {
        let mut f = self
            .out
            .into_inner()
            .map_err(|e| spill_error(e.into_error()))?;
        f.rewind().map_err(spill_error)?;
        Ok(Chunks {
            input: BufReader::with_capacity(1 << 20, f),
            left: self.len,
        })
    }
}

pub(crate) struct Chunks {
    input: BufReader<File>,
    left: u64,
}

impl Chunks {
    fn read_one(&mut self) -> std::io::Result<Outcome> {
        let r = &mut self.input;
        let mut head = [0u8; 1 + 8 + 8 + 4 + 32];
        r.read_exact(&mut head)?;
        let flags = head[0];
        let record = i64::from_le_bytes(head[1..9].try_into().expect("8 bytes"));
        let origin = i64::from_le_bytes(head[9..17].try_into().expect("8 bytes"));
        let reasons = u32::from_le_bytes(head[17..21].try_into().expect("4 bytes"));
        let subject: Commitment = head[21..53].try_into().expect("32 bytes");
        let copy = if flags & HAS_COPY != 0 {
            let mut len = [0u8; 4];
            r.read_exact(&mut len)?;
            let mut text = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut text)?;
            let text = String::from_utf8(text)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            Some(text)
        } else {
            None
        };
        Ok(Outcome {
            record,
            origin,
            reasons: (flags & HAS_REASONS != 0).then_some(reasons),
            subject,
            copy,
        })
    }
}

impl Iterator for Chunks {
    type Item = Result<Vec<Outcome>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let n = self.left.min(CHUNK as u64);
        let chunk = (0..n)
            .map(|_| self.read_one())
            .collect::<std::io::Result<Vec<_>>>();
        self.left -= n;
        Some(chunk.map_err(spill_error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(i: u64) -> Outcome {
        Outcome {
            record: i as i64 * 7 - 3,
            origin: i as i64 * 5,
            reasons: match i % 3 {
                0 => None,
                1 => Some(0),
                _ => Some(i as u32 | 1 << 31),
            },
            subject: [(i % 251) as u8; 32],
            copy: i.is_multiple_of(2).then(|| format!("subject-{i}-é")),
        }
    }

    #[test]
    fn outcomes_come_back_in_order_in_chunks() {
        let n = CHUNK as u64 * 2 + 5;
        let mut spill = Spill::new().unwrap();
        for i in 0..n {
            spill.push(&outcome(i)).unwrap();
        }
        assert_eq!(spill.len(), n);
        let chunks: Vec<Vec<Outcome>> = spill.chunks().unwrap().map(Result::unwrap).collect();
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [CHUNK, CHUNK, 5]
        );
        let back: Vec<Outcome> = chunks.into_iter().flatten().collect();
        assert!(back.iter().zip(0..).all(|(o, i)| *o == outcome(i)));
        assert_eq!(back.len() as u64, n);
    }

    #[test]
    fn an_empty_spill_has_no_chunks() {
        assert_eq!(Spill::new().unwrap().chunks().unwrap().count(), 0);
    }
}
