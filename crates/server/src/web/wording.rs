//! Plain words for what the engine reports in identifiers: dates, outcomes,
//! consent events, purposes, organisations.

use std::collections::HashMap;

use custody_core::vocab::Vocabulary;
use custody_engine::Engine;
use custody_store::Store;

/// "2017-05-10" or "2017-05-10T09:30:00Z" as "10 May 2017"; anything else
/// as given.
pub fn date(instant: &str) -> String {
    custody_core::time::parse_instant(instant)
        .map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_else(|_| instant.to_string())
}

/// Seconds since the epoch (as the store keeps times) as "10 May 2017".
pub fn day(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_default()
}

/// The month of an instant, "2017-05", for charts over time.
pub fn month(instant: &str) -> String {
    instant.get(..7).unwrap_or(instant).to_string()
}

/// A term's label, by its key ("PoliticalCampaign" as "Political Campaign").
pub fn term(vocab: &Vocabulary, key: &str) -> String {
    vocab
        .get(key)
        .map(|id| vocab.term(id).label.clone())
        .unwrap_or_else(|| key.to_string())
}

pub fn terms(vocab: &Vocabulary, keys: &[String]) -> String {
    keys.iter()
        .map(|k| term(vocab, k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every organisation's name, by its id.
pub fn org_names<S: Store>(e: &Engine<S>) -> custody_engine::Result<HashMap<String, String>> {
    Ok(e.store
        .orgs()?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// An organisation's name, by its id.
pub fn org<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map(String::as_str).unwrap_or(id)
}

/// The name people know an organisation by: "Emma's Diary" for
/// "Lifecycle Marketing (Mother and Baby) Ltd, trading as Emma's Diary".
pub fn short(name: &str) -> &str {
    name.rsplit_once("trading as ")
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .unwrap_or(name)
}

/// What happened in a disclosure, for the person it was about, and the
/// class the page colours it by.
pub fn outcome(outcome: &str) -> (&'static str, &'static str) {
    match outcome {
        "allowed" => ("Passed on: the rules allowed it", "allowed"),
        "refused" => ("Refused: your data was not passed on", "refused"),
        _ => (
            "Passed on without any check (before custody gated it)",
            "unchecked",
        ),
    }
}

/// A consent event, in the person's own words.
pub fn preference(vocab: &Vocabulary, action: &str, purpose_key: Option<&str>) -> String {
    let p = purpose_key.map(|k| term(vocab, k)).unwrap_or_default();
    match action {
        "give" => format!("You gave consent for {p}"),
        "withdraw" => format!("You withdrew consent for {p}"),
        "object-direct-marketing" => "You objected to direct marketing".into(),
        "withdraw-objection" => "You withdrew your objection to direct marketing".into(),
        other => format!("{other} {p}"),
    }
}

/// What a legal basis means, briefly.
pub fn basis(basis: &str) -> &'static str {
    match basis {
        "consent" => "only if you agree",
        "contract" => "to provide what you signed up for",
        "legal-obligation" => "because the law requires it",
        "vital-interests" => "to protect someone's life",
        "public-task" => "for a public task",
        "legitimate-interests" => "in their legitimate interests, unless you object",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(date("2017-05-10T09:30:00Z"), "10 May 2017");
        assert_eq!(date("2017-05-10"), "10 May 2017");
        assert_eq!(date("not a date"), "not a date");
        assert_eq!(month("2017-05-10T00:00:00Z"), "2017-05");
    }

    #[test]
    fn an_organisation_goes_by_its_trading_name() {
        assert_eq!(
            short("Lifecycle Marketing (Mother and Baby) Ltd, trading as Emma's Diary"),
            "Emma's Diary"
        );
        assert_eq!(short("The Labour Party"), "The Labour Party");
    }

    #[test]
    fn purposes_read_by_their_labels() {
        let v = Vocabulary::embedded();
        assert_eq!(term(&v, "dpv:PoliticalCampaign"), "Political Campaign");
        assert_eq!(term(&v, "no-such-purpose"), "no-such-purpose");
        assert_eq!(
            preference(&v, "withdraw", Some("dpv:Marketing")),
            "You withdrew consent for Marketing"
        );
    }
}
