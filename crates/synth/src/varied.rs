//! Varied histories (issue 15): preference events as data made elsewhere
//! has them, not as the Emma's Diary case does. The case gives each mother
//! one of about forty histories; here each has 0 to 12 events over three
//! purposes (Marketing, DirectMarketing, PoliticalCampaign), all four
//! actions, times to the second from her sign-up to the end of 2019, ties
//! (an event at the second of the one before), events exactly at the
//! instants the benchmarks ask about, and events under the newer notice
//! once it is in force. Deterministic by seed, as the rest: a mother's
//! events are a pure function of `(seed, index)`.

use std::io;

use chrono::{DateTime, NaiveDate};

use super::{csv_writer, finish, id_bytes, io_err, raw, R};

/// Purposes the events name.
const PURPOSES: [&[u8]; 3] = [
    b"dpv:Marketing",
    b"dpv:DirectMarketing",
    b"dpv:PoliticalCampaign",
];

/// The instants the benchmarks' requests are made at (the 2017 share, the
/// 2018 screening): some events fall exactly on them.
const ASKED_AT: [(i32, u32, u32); 2] = [(2017, 5, 10), (2018, 10, 1)];

/// The newer notice, and when it came into force.
const NEWER_NOTICE: &[u8] = b"2018-05";
const NEWER_FROM: (i32, u32, u32) = (2018, 5, 25);

/// Most events a mother has.
pub const MOST_EVENTS: u64 = 12;

/// Keeps the varied draws apart from the case's, which use the same seed.
const SALT: u64 = 0x7661_7269_6564_0015;

fn seconds(d: (i32, u32, u32)) -> i64 {
    NaiveDate::from_ymd_opt(d.0, d.1, d.2)
        .expect("a date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp()
}

/// One event: when, what, about which purpose (empty for the objection's
/// two actions), and whether it was made under the newer notice.
struct Event {
    at: i64,
    action: &'static [u8],
    purpose: &'static [u8],
    newer: bool,
}

/// Mother `i`'s events, in time order (a tie keeps drawing order).
fn events(seed: u64, i: u64) -> Vec<Event> {
    let signed_up = raw(seed, i).signed_up;
    let from = signed_up
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp();
    let until = seconds((2019, 12, 31));
    let mut r = R::new(seed ^ SALT, i);
    let n = r.below(MOST_EVENTS + 1);
    let mut out: Vec<Event> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let at = match r.below(20) {
            // A tie with the event before.
            0 if !out.is_empty() => out[out.len() - 1].at,
            // Exactly when a benchmark asks, if she had signed up by then.
            1 => {
                let asked = seconds(ASKED_AT[r.below(2) as usize]);
                if asked >= from {
                    asked
                } else {
                    r.range(from, until)
                }
            }
            _ => r.range(from, until),
        };
        let (action, purpose): (&'static [u8], &'static [u8]) = match r.below(10) {
            0..=3 => (b"give", PURPOSES[r.below(3) as usize]),
            4..=6 => (b"withdraw", PURPOSES[r.below(3) as usize]),
            7 | 8 => (b"object-direct-marketing", b""),
            _ => (b"withdraw-objection", b""),
        };
        let newer = at >= seconds(NEWER_FROM) && r.chance(0.5);
        out.push(Event {
            at,
            action,
            purpose,
            newer,
        });
    }
    // Stable: ties keep the order they were drawn in.
    out.sort_by_key(|e| e.at);
    out
}

impl super::Synth {
    /// Varied preference events, header `subject,action,purpose,at,notice`,
    /// ordered by subject, then time; times to the second (RFC 3339, UTC).
    /// Returns the number of data rows.
    pub fn write_varied_events<W: io::Write>(&self, w: W) -> io::Result<u64> {
        let mut out = csv_writer(w);
        out.write_record(["subject", "action", "purpose", "at", "notice"])
            .map_err(io_err)?;
        let (mut rows, mut id) = (0, [0u8; 22]);
        for i in 0..self.subjects {
            for e in events(self.seed, i) {
                let at = DateTime::from_timestamp(e.at, 0)
                    .expect("a time in range")
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                let notice: &[u8] = if e.newer { NEWER_NOTICE } else { b"" };
                out.write_record([
                    id_bytes(i, &mut id),
                    e.action,
                    e.purpose,
                    at.as_bytes(),
                    notice,
                ])
                .map_err(io_err)?;
                rows += 1;
            }
        }
        finish(out)?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use crate::Synth;

    fn rows(s: &Synth) -> Vec<String> {
        let mut buf = Vec::new();
        s.write_varied_events(&mut buf).unwrap();
        String::from_utf8(buf)
            .unwrap()
            .lines()
            .skip(1)
            .map(String::from)
            .collect()
    }

    #[test]
    fn varied_histories_are_varied_and_deterministic() {
        let s = Synth::new(2_000, 7);
        let a = rows(&s);
        assert_eq!(a, rows(&s), "same seed, same events");
        assert_ne!(a, rows(&Synth::new(2_000, 8)));
        // The first k mothers' events do not depend on how many are written.
        let fewer = rows(&Synth::new(100, 7));
        assert_eq!(&a[..fewer.len()], &fewer[..]);
        let per_mother = a.len() as f64 / 2_000.0;
        assert!(
            (5.0..7.0).contains(&per_mother),
            "{per_mother} events a mother"
        );
        for needle in [
            ",give,dpv:PoliticalCampaign,",
            ",withdraw,dpv:Marketing,",
            ",object-direct-marketing,,",
            ",withdraw-objection,,",
            ",2018-05",
            "2018-10-01T00:00:00Z",
        ] {
            assert!(a.iter().any(|r| r.contains(needle)), "no {needle}");
        }
        // Ties, and times that are not midnight.
        assert!(a
            .windows(2)
            .any(|w| w[0].split(',').next() == w[1].split(',').next()
                && w[0].split(',').nth(3) == w[1].split(',').nth(3)));
        assert!(a.iter().any(|r| !r.contains("T00:00:00Z")));
        // Never before she signed up, never under the newer notice before it.
        for r in &a {
            let f: Vec<&str> = r.split(',').collect();
            if f[4] == "2018-05" {
                assert!(f[3] >= "2018-05-25", "{r}");
            }
        }
    }
}
