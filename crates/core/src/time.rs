//! Instants as users write them: `2017-05-10` (midnight UTC) or RFC 3339.

use chrono::{DateTime, NaiveDate, Utc};

pub type Instant = DateTime<Utc>;

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a date (YYYY-MM-DD) or an RFC 3339 timestamp")]
pub struct BadInstant(pub String);

pub fn parse_instant(s: &str) -> Result<Instant, BadInstant> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(midnight(d));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| BadInstant(s.to_string()))
}

pub fn midnight(d: NaiveDate) -> Instant {
    d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// How far ahead of custody's clock a claimed time may be: clocks differ.
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// Refuses a claimed time (a consent's date, a collection's, a
/// disclosure's) later than `now` by more than [`CLOCK_SKEW_SECONDS`]:
/// nothing has happened in the future, and an event dated there would
/// count later without anyone recording it then.
pub fn check_claimed(at: &Instant, now: &Instant) -> Result<(), String> {
    if at.timestamp() > now.timestamp() + CLOCK_SKEW_SECONDS {
        return Err(format!(
            "{} is in the future: a claimed time may be at most {} minutes ahead of custody's clock",
            format_instant(at),
            CLOCK_SKEW_SECONDS / 60
        ));
    }
    Ok(())
}

/// Dates print as dates when they are midnight, as timestamps otherwise.
pub fn format_instant(t: &Instant) -> String {
    if t.time() == chrono::NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps() {
        let d = parse_instant("2017-05-10").unwrap();
        assert_eq!(format_instant(&d), "2017-05-10");
        let t = parse_instant("2017-05-10T12:30:00Z").unwrap();
        assert_eq!(format_instant(&t), "2017-05-10T12:30:00Z");
        assert!(t > d);
        assert!(parse_instant("10/05/2017").is_err());
    }
}

#[cfg(test)]
mod claimed_tests {
    use super::*;

    #[test]
    fn claimed_times_may_be_a_little_ahead_never_more() {
        let now = parse_instant("2026-12-03T12:00:00Z").unwrap();
        let cases = [
            ("2017-05-01", true),
            ("2026-12-03T12:05:00Z", true),
            ("2026-12-03T12:05:01Z", false),
            ("2027-01-01", false),
        ];
        for (at, ok) in cases {
            let at = parse_instant(at).unwrap();
            assert_eq!(check_claimed(&at, &now).is_ok(), ok, "{at}");
        }
    }
}
