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
