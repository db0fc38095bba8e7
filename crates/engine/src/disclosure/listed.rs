//! The people a list names (README: The rules, "One person, one holding").
//!
//! A subject identifier belongs to the organisation that assigned it: the
//! collector. A holder may hold `M01` collected itself and `M01` received
//! from a club; they are two people, two holdings, whatever the spelling.
//! A list row names a holding by its `subject` and, optionally, its
//! `collector`. Without one, the row names the holder's one holding under
//! that identifier; where the holder holds the identifier from more than one
//! collector the row is ambiguous, and the request is refused before
//! anything is decided, naming the row and the collectors.

use std::collections::HashMap;
use std::path::Path;

use crate::table::{Format, RowReader};
use crate::{Error, Result};

/// One holding named by a request: what a list row or an API item says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Named {
    pub subject: String,
    /// The organisation that assigned the identifier; None: whichever one
    /// it is, if only one.
    pub collector: Option<String>,
}

impl Named {
    pub fn subject(subject: impl Into<String>) -> Named {
        Named {
            subject: subject.into(),
            collector: None,
        }
    }
}

/// Where a row came from, for errors.
#[derive(Debug, Clone)]
enum Place {
    Line(u64),
    /// The n-th item of a request's `records`, from 0.
    Item(usize),
}

#[derive(Debug)]
struct Row {
    collector: Option<String>,
    place: Place,
    /// The collectors of the holdings this row matched.
    matched: Vec<String>,
}

/// A list of named holdings, matched against what a holder holds.
#[derive(Debug)]
pub struct Listed {
    /// The file it was read from, or the request field.
    source: String,
    by_subject: HashMap<String, Vec<Row>>,
}

impl Listed {
    /// A CSV (or JSON lines, Parquet) file: its `subject` column, else its
    /// first, and its `collector` column if it has one.
    pub fn read(path: &Path) -> Result<Listed> {
        let mut reader = RowReader::open(path, Format::of(path, None))?;
        let header = reader.header();
        let subject = header.iter().position(|h| h == "subject").unwrap_or(0);
        let collector = header.iter().position(|h| h == "collector");
        let mut listed = Listed {
            source: path.display().to_string(),
            by_subject: HashMap::new(),
        };
        let mut rec = csv::StringRecord::new();
        while reader.read(&mut rec)? {
            let s = rec.get(subject).unwrap_or("").trim();
            if s.is_empty() {
                continue;
            }
            let c = collector
                .and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|c| !c.is_empty());
            listed.add(
                Named {
                    subject: s.to_string(),
                    collector: c.map(str::to_string),
                },
                Place::Line(reader.line(&rec)),
            );
        }
        Ok(listed)
    }

    /// The items of a request, `field` naming them in errors.
    pub fn of<'n>(field: &str, items: impl IntoIterator<Item = &'n Named>) -> Listed {
        let mut listed = Listed {
            source: field.to_string(),
            by_subject: HashMap::new(),
        };
        for (i, n) in items.into_iter().enumerate() {
            listed.add(n.clone(), Place::Item(i));
        }
        listed
    }

    fn add(&mut self, named: Named, place: Place) {
        let rows = self.by_subject.entry(named.subject).or_default();
        // A holding named twice is decided once.
        if rows.iter().all(|r| r.collector != named.collector) {
            rows.push(Row {
                collector: named.collector,
                place,
                matched: Vec::new(),
            });
        }
    }

    /// Whether the list names the holding of `subject` that `collector`
    /// assigned; noted, so that [`finish`](Self::finish) can tell what was
    /// named and not held, and what was ambiguous.
    pub fn names(&mut self, collector: &str, subject: &str) -> bool {
        let Some(rows) = self.by_subject.get_mut(subject) else {
            return false;
        };
        let mut named = false;
        for r in rows {
            if r.collector.as_deref().is_none_or(|c| c == collector) {
                r.matched.push(collector.to_string());
                named = true;
            }
        }
        named
    }

    /// After every holding was offered to [`names`](Self::names): the rows
    /// that named nothing held, sorted; or the first row (in list order)
    /// that named holdings of two collectors.
    pub fn finish(self) -> Result<Vec<Named>> {
        let mut unclear: Vec<(&Place, &String, &Row)> = Vec::new();
        let mut absent = Vec::new();
        for (subject, rows) in &self.by_subject {
            for r in rows {
                match r.matched.len() {
                    0 => absent.push(Named {
                        subject: subject.clone(),
                        collector: r.collector.clone(),
                    }),
                    1 => {}
                    _ => unclear.push((&r.place, subject, r)),
                }
            }
        }
        unclear.sort_by_key(|(p, _, _)| match p {
            Place::Line(l) => *l,
            Place::Item(i) => *i as u64,
        });
        if let Some((place, subject, row)) = unclear.first() {
            let collectors: Vec<&str> = row.matched.iter().map(String::as_str).collect();
            let message = ambiguous(subject, &collectors);
            return Err(match place {
                Place::Line(line) => Error::Input {
                    file: self.source.clone(),
                    line: *line,
                    field: "subject".into(),
                    message,
                },
                Place::Item(i) => Error::Invalid(format!("{}[{i}]: {message}", self.source)),
            });
        }
        absent.sort();
        Ok(absent)
    }
}

/// Why a row naming `subject` without its collector names nothing: the
/// holder holds that identifier from each of `collectors`. One wording for
/// every path (share, named shares, history, screen).
pub(crate) fn ambiguous(subject: &str, collectors: &[&str]) -> String {
    let mut collectors = collectors.to_vec();
    collectors.sort();
    format!(
        "`{subject}` is an identifier of {} collectors ({}): a subject \
         identifier belongs to the organisation that assigned it, so name \
         one in a `collector` column",
        collectors.len(),
        collectors.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(subject: &str, collector: Option<&str>) -> Named {
        Named {
            subject: subject.into(),
            collector: collector.map(Into::into),
        }
    }

    #[test]
    fn a_row_names_one_holding() {
        // (list, holdings offered as (collector, subject), named each, absent, error)
        let table: &[(&[Named], &[(&str, &str)], &[bool], &[Named], bool)] = &[
            (&[named("M01", None)], &[("a", "M01")], &[true], &[], false),
            (
                &[named("M01", Some("b"))],
                &[("a", "M01"), ("b", "M01")],
                &[false, true],
                &[],
                false,
            ),
            (
                &[named("M01", None)],
                &[("a", "M01"), ("b", "M01")],
                &[true, true],
                &[],
                true,
            ),
            (
                &[named("M01", None), named("M02", Some("a"))],
                &[("b", "M02")],
                &[false],
                &[named("M01", None), named("M02", Some("a"))],
                false,
            ),
            (
                &[named("M01", None), named("M01", None)],
                &[("a", "M01")],
                &[true],
                &[],
                false,
            ),
        ];
        for (i, (list, held, want, absent, error)) in table.iter().enumerate() {
            let mut l = Listed::of("records", list.iter());
            let got: Vec<bool> = held.iter().map(|(c, s)| l.names(c, s)).collect();
            assert_eq!(&got, want, "case {i}");
            match l.finish() {
                Ok(a) => {
                    assert!(!error, "case {i}");
                    assert_eq!(&a, absent, "case {i}");
                }
                Err(e) => {
                    assert!(error, "case {i}: {e}");
                    assert!(e.to_string().contains("a, b"), "{e}");
                }
            }
        }
    }
}
