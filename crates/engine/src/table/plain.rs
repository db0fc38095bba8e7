//! The common case of CSV, read fast: a block of lines with no quote
//! character and no lone carriage return is split exactly at newlines and
//! commas, which memchr finds many bytes at a time. Anything else (a quoted
//! field, which may hold commas and newlines) goes to the full parser.

use std::sync::Arc;

use memchr::{memchr, memchr_iter};

/// Complete lines of a CSV file, split.
pub struct PlainLines {
    bytes: Arc<Vec<u8>>,
    /// Each row's (start, end) in `bytes`, without its line ending.
    rows: Vec<(u32, u32)>,
    /// Each row's line number in the file (the header is line 1).
    lines: Vec<u64>,
}

/// Why a block cannot be read as plain lines.
#[derive(Debug, PartialEq, Eq)]
pub enum NotPlain {
    /// A quote or lone carriage return: the full parser must read from here.
    NeedsParser,
    /// A row with the wrong number of fields, at this line.
    Fields { line: u64, found: usize },
}

impl PlainLines {
    /// Splits `block` (complete lines, from line `first_line` on) into
    /// groups of at most `per` rows of `fields` fields each. Empty lines are
    /// skipped, as the csv crate skips them.
    pub fn split(
        block: Vec<u8>,
        first_line: u64,
        fields: usize,
        per: usize,
    ) -> Result<Vec<PlainLines>, NotPlain> {
        if memchr(b'"', &block).is_some()
            || memchr_iter(b'\r', &block).any(|i| block.get(i + 1) != Some(&b'\n'))
        {
            return Err(NotPlain::NeedsParser);
        }
        assert!(block.len() <= u32::MAX as usize, "blocks are far smaller");
        let bytes = Arc::new(block);
        let group = || PlainLines {
            bytes: bytes.clone(),
            rows: Vec::with_capacity(per),
            lines: Vec::with_capacity(per),
        };
        let mut groups = Vec::new();
        let mut current = group();
        let (mut start, mut line) = (0usize, first_line);
        // A last line without a newline ends at the end.
        let last = bytes
            .last()
            .is_some_and(|b| *b != b'\n')
            .then_some(bytes.len());
        for end in memchr_iter(b'\n', &bytes).chain(last) {
            let mut row = &bytes[start..end];
            if row.last() == Some(&b'\r') {
                row = &row[..row.len() - 1];
            }
            if !row.is_empty() {
                let found = memchr_iter(b',', row).count() + 1;
                if found != fields {
                    return Err(NotPlain::Fields { line, found });
                }
                current
                    .rows
                    .push((start as u32, (start + row.len()) as u32));
                current.lines.push(line);
                if current.rows.len() == per {
                    groups.push(std::mem::replace(&mut current, group()));
                }
            }
            start = end + 1;
            line += 1;
        }
        if !current.rows.is_empty() {
            groups.push(current);
        }
        Ok(groups)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn line(&self, i: usize) -> u64 {
        self.lines[i]
    }

    /// Field `column` of row `i`.
    pub fn field(&self, i: usize, column: usize) -> &[u8] {
        let (start, end) = self.rows[i];
        let row = &self.bytes[start as usize..end as usize];
        let mut from = 0;
        let mut commas = memchr_iter(b',', row);
        for _ in 0..column {
            match commas.next() {
                Some(c) => from = c + 1,
                None => return b"",
            }
        }
        let to = commas.next().unwrap_or(row.len());
        &row[from..to]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(block: &str, fields: usize, per: usize) -> Vec<Vec<Vec<String>>> {
        PlainLines::split(block.as_bytes().to_vec(), 2, fields, per)
            .unwrap()
            .iter()
            .map(|g| {
                (0..g.len())
                    .map(|i| {
                        (0..fields)
                            .map(|c| String::from_utf8(g.field(i, c).to_vec()).unwrap())
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn splits_as_the_csv_crate_does() {
        let text = "a,b,c\r\n\nd,,f\ng,h,i";
        let mut expected = Vec::new();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for rec in r.records() {
            expected.push(rec.unwrap().iter().map(str::to_string).collect::<Vec<_>>());
        }
        let got: Vec<Vec<String>> = rows(text, 3, 2).into_iter().flatten().collect();
        assert_eq!(got, expected);
        assert_eq!(rows(text, 3, 2).len(), 2, "three rows in groups of two");
    }

    #[test]
    fn line_numbers_count_skipped_lines() {
        let g = PlainLines::split(b"a,b\n\nc,d\n".to_vec(), 2, 2, 10).unwrap();
        assert_eq!((g[0].line(0), g[0].line(1)), (2, 4));
    }

    #[test]
    fn quotes_and_lone_carriage_returns_need_the_parser() {
        for block in ["a,\"b,c\"\n", "a,b\rc,d\n"] {
            assert_eq!(
                PlainLines::split(block.as_bytes().to_vec(), 2, 2, 10).err(),
                Some(NotPlain::NeedsParser)
            );
        }
    }

    #[test]
    fn a_row_with_the_wrong_number_of_fields_names_its_line() {
        assert_eq!(
            PlainLines::split(b"a,b\nc\n".to_vec(), 2, 2, 10).err(),
            Some(NotPlain::Fields { line: 3, found: 1 })
        );
    }
}
