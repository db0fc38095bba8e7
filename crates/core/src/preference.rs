//! Consent and objection events. Nothing is overwritten: the state at any
//! instant is reconstructed from what was consented at collection and the
//! events since.

use serde::Serialize;

use std::collections::HashMap;

use crate::notice::{Declaration, Notice, NoticeId};
use crate::time::Instant;
use crate::vocab::{TermId, Vocabulary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", content = "purpose", rename_all = "kebab-case")]
pub enum Preference {
    Give(TermId),
    Withdraw(TermId),
    ObjectDirectMarketing,
    WithdrawObjection,
}

impl Preference {
    pub fn action(&self) -> &'static str {
        match self {
            Preference::Give(_) => "give",
            Preference::Withdraw(_) => "withdraw",
            Preference::ObjectDirectMarketing => "object-direct-marketing",
            Preference::WithdrawObjection => "withdraw-objection",
        }
    }

    pub fn purpose(&self) -> Option<TermId> {
        match self {
            Preference::Give(p) | Preference::Withdraw(p) => Some(*p),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreferenceEvent {
    pub at: Instant,
    pub preference: Preference,
    /// The notice version shown when the event happened (re-consent under a
    /// new notice moves the record to it).
    pub notice: Option<NoticeId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentStatus {
    Given,
    Withdrawn,
    Never,
    /// Given, but while no notice shown to the person told of what it is
    /// now relied on for: not consent (UK GDPR Art 4(11)).
    Uninformed,
}

/// What a consent is asked to cover: a purpose, under one declaration of
/// the governing notice, at an instant, for recipients the notice shown
/// when it was given must have named.
#[derive(Clone, Copy)]
pub struct Asked<'q> {
    pub declaration: &'q str,
    pub purpose: TermId,
    pub at: Instant,
    /// Whether a declaration of a notice shown to the person named the
    /// recipients the consent is relied on for.
    pub recipients_told: &'q dyn Fn(&Declaration) -> bool,
}

/// One record's preferences: consents ticked at collection plus later events,
/// sorted by time (ties keep their recorded order).
#[derive(Debug, Clone, Copy)]
pub struct Preferences<'a> {
    pub collected_at: Instant,
    pub collection_notice: &'a Notice,
    /// Every notice an event may name.
    pub notices: &'a HashMap<NoticeId, Notice>,
    /// Bit i: declaration i of the collection notice was consented at collection.
    pub consented: u64,
    pub events: &'a [PreferenceEvent],
}

impl<'a> Preferences<'a> {
    fn events_until(&self, at: Instant) -> &'a [PreferenceEvent] {
        let n = self.events.partition_point(|e| e.at <= at);
        &self.events[..n]
    }

    /// Consent for `asked.purpose` under the declaration `asked.declaration`
    /// at `asked.at`. The latest relevant event wins: a gift of consent
    /// counts only if its purpose covers this one (explicit purposes must be
    /// named) and it was informed; a withdrawal counts if its purpose is this
    /// one or broader, whatever the notice. Failing events, the box ticked at
    /// collection counts, but only for the declaration it was ticked for:
    /// consent to a club's own offers is no consent to its partners'.
    ///
    /// Informed (UK GDPR Art 4(11), 7(1)): when the consent was given, the
    /// notice shown to the person (the one the event names, else the one
    /// governing her record then) held a declaration covering the purpose
    /// and naming the recipients. A consent to political campaigning given
    /// under a notice that declared none does not count once a later notice
    /// declares it; the person has to be asked again.
    pub fn consent(&self, vocab: &Vocabulary, asked: &Asked) -> ConsentStatus {
        self.consent_and_cause(vocab, asked).0
    }

    /// [`consent`](Self::consent), and the event that decided it (None: the
    /// box at collection, ticked or not), so that a person can be told why.
    pub fn consent_and_cause(
        &self,
        vocab: &Vocabulary,
        asked: &Asked,
    ) -> (ConsentStatus, Option<&'a PreferenceEvent>) {
        let purpose = asked.purpose;
        if asked.at < self.collected_at {
            return (ConsentStatus::Never, None);
        }
        let events = self.events_until(asked.at);
        let tells = |d: &Declaration| {
            d.purposes.iter().any(|p| vocab.covers_purpose(*p, purpose))
                && (asked.recipients_told)(d)
        };
        let mut uninformed = false;
        for (i, e) in events.iter().enumerate().rev() {
            match e.preference {
                Preference::Give(p) if vocab.covers_purpose(p, purpose) => {
                    if self.shown_with(events, i).declarations.iter().any(tells) {
                        return (ConsentStatus::Given, Some(e));
                    }
                    uninformed = true;
                }
                Preference::Withdraw(p) if vocab.is_ancestor_or_self(p, purpose) => {
                    // Withdrawing what was never given leaves it never given:
                    // the refusal is no-consent, not consent-withdrawn.
                    let before = Preferences {
                        events: &events[..i],
                        ..*self
                    };
                    return match before.consent_and_cause(vocab, asked).0 {
                        ConsentStatus::Given => (ConsentStatus::Withdrawn, Some(e)),
                        _ => (ConsentStatus::Never, None),
                    };
                }
                _ => {}
            }
        }
        let ticked = self
            .collection_notice
            .declarations
            .iter()
            .enumerate()
            .find(|(i, d)| {
                d.id == asked.declaration
                    && self.consented & (1 << i) != 0
                    && d.purposes.iter().any(|p| vocab.covers_purpose(*p, purpose))
            });
        match ticked {
            Some((_, d)) if (asked.recipients_told)(d) => (ConsentStatus::Given, None),
            Some(_) => (ConsentStatus::Uninformed, None),
            None if uninformed => (ConsentStatus::Uninformed, None),
            None => (ConsentStatus::Never, None),
        }
    }

    /// The notice shown when `events[i]` happened: the one it names, else
    /// the last one named before it, else the collection notice.
    fn shown_with(&self, events: &[PreferenceEvent], i: usize) -> &'a Notice {
        events[..=i]
            .iter()
            .rev()
            .find_map(|e| e.notice)
            .and_then(|n| self.notices.get(&n))
            .unwrap_or(self.collection_notice)
    }

    /// Whether an objection to direct marketing stands at `at`.
    pub fn objected(&self, at: Instant) -> bool {
        for e in self.events_until(at).iter().rev() {
            match e.preference {
                Preference::ObjectDirectMarketing => return true,
                Preference::WithdrawObjection => return false,
                _ => {}
            }
        }
        false
    }

    /// The notice governing the record at `at`: the last one the person was
    /// shown, else the one they were collected under.
    pub fn notice_at(&self, at: Instant) -> Option<NoticeId> {
        self.events_until(at).iter().rev().find_map(|e| e.notice)
    }
}

/// The purposes a person has been told of or asked about: the declarations
/// of every notice her record has been under, and each purpose she gave
/// consent for. A consent or withdrawal touching none of them would be
/// recorded and change nothing, so it is refused instead.
pub fn purposes_told<'n>(
    notices: impl IntoIterator<Item = &'n Notice>,
    events: &[PreferenceEvent],
) -> Vec<TermId> {
    let mut told: Vec<TermId> = notices
        .into_iter()
        .flat_map(|n| {
            n.declarations
                .iter()
                .flat_map(|d| d.purposes.iter().copied())
        })
        .chain(events.iter().filter_map(|e| match e.preference {
            Preference::Give(p) => Some(p),
            _ => None,
        }))
        .collect();
    told.sort();
    told.dedup();
    told
}

/// Whether a preference about `purpose` bears on one of `told`: it is the
/// same purpose (or linked to it), broader, or narrower.
pub fn touches(vocab: &Vocabulary, purpose: TermId, told: &[TermId]) -> bool {
    told.iter()
        .any(|&t| vocab.is_ancestor_or_self(purpose, t) || vocab.is_ancestor_or_self(t, purpose))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::parse_source;
    use crate::time::parse_instant;
    use crate::vocab::TermKind;

    const NOTICE: &str = r#"
version = "1"
effective = "2017-01-01"
[[declarations]]
id = "offers"
purposes = ["DirectMarketing"]
data_categories = ["Name"]
legal_basis = "consent"
[[declarations]]
id = "partners"
purposes = ["Marketing"]
data_categories = ["Name"]
legal_basis = "consent"
"#;

    fn anyone(_: &Declaration) -> bool {
        true
    }

    fn asked(declaration: &str, purpose: TermId, at: Instant) -> Asked<'_> {
        Asked {
            declaration,
            purpose,
            at,
            recipients_told: &anyone,
        }
    }

    fn notice(vocab: &Vocabulary) -> Notice {
        parse_source("n.toml", NOTICE)
            .unwrap()
            .resolve("n.toml", "o", vocab)
            .unwrap()
    }

    #[test]
    fn withdrawing_what_was_never_given_is_no_consent() {
        let vocab = Vocabulary::embedded();
        let notice = notice(&vocab);
        let p = |n| vocab.resolve(TermKind::Purpose, n).unwrap();
        let t = |s| parse_instant(s).unwrap();
        let withdraw = |at| PreferenceEvent {
            at: t(at),
            preference: Preference::Withdraw(p("Marketing")),
            notice: None,
        };
        let give = PreferenceEvent {
            at: t("2017-04-27"),
            preference: Preference::Give(p("Marketing")),
            notice: None,
        };
        // (boxes ticked at collection, events, status on 2017-05-01)
        let table = [
            (0b00, vec![withdraw("2017-04-26")], ConsentStatus::Never),
            (0b10, vec![withdraw("2017-04-26")], ConsentStatus::Withdrawn),
            (
                0b00,
                vec![withdraw("2017-04-26"), give, withdraw("2017-04-28")],
                ConsentStatus::Withdrawn,
            ),
            (
                0b00,
                vec![withdraw("2017-04-26"), give],
                ConsentStatus::Given,
            ),
        ];
        for (consented, events, want) in table {
            let prefs = Preferences {
                collected_at: t("2017-04-24"),
                collection_notice: &notice,
                notices: &HashMap::new(),
                consented,
                events: &events,
            };
            let got = prefs.consent(&vocab, &asked("partners", p("Marketing"), t("2017-05-01")));
            assert_eq!(got, want, "ticked {consented:#b}, {} events", events.len());
        }
    }

    #[test]
    fn a_preference_must_touch_what_was_told() {
        let vocab = Vocabulary::embedded();
        let notice = notice(&vocab);
        let id = |k| vocab.get(k).unwrap();
        let gave_research = [PreferenceEvent {
            at: parse_instant("2017-04-25").unwrap(),
            preference: Preference::Give(id("dpv:ResearchAndDevelopment")),
            notice: None,
        }];
        // (purpose, events, touches)
        let table: [(&str, &[PreferenceEvent], bool); 7] = [
            ("dpv:Marketing", &[], true),
            ("fides:marketing", &[], true),
            ("dpv:Purpose", &[], true),
            ("dpv:DirectMarketing", &[], true),
            ("dpv:PersonalisedAdvertising", &[], true),
            ("dpv:ResearchAndDevelopment", &[], false),
            ("dpv:ResearchAndDevelopment", &gave_research, true),
        ];
        for (purpose, events, want) in table {
            let told = purposes_told([&notice], events);
            assert_eq!(touches(&vocab, id(purpose), &told), want, "{purpose}");
        }
        assert!(!touches(
            &vocab,
            id("fides:essential"),
            &purposes_told([&notice], &[])
        ));
    }

    #[test]
    fn linked_terms_withdraw_each_other() {
        let vocab = Vocabulary::embedded();
        let notice = notice(&vocab);
        let t = |s| parse_instant(s).unwrap();
        let id = |k| vocab.get(k).unwrap();
        // (consent given as, withdrawn as): either name of one purpose.
        let table = [
            ("dpv:Marketing", "fides:marketing"),
            ("fides:marketing", "dpv:Marketing"),
        ];
        for (given, withdrawn) in table {
            let events = [
                PreferenceEvent {
                    at: t("2017-04-25"),
                    preference: Preference::Give(id(given)),
                    notice: None,
                },
                PreferenceEvent {
                    at: t("2017-04-26"),
                    preference: Preference::Withdraw(id(withdrawn)),
                    notice: None,
                },
            ];
            let prefs = Preferences {
                collected_at: t("2017-04-24"),
                collection_notice: &notice,
                notices: &HashMap::new(),
                consented: 0,
                events: &events,
            };
            let status = |at| prefs.consent(&vocab, &asked("partners", id("dpv:Marketing"), t(at)));
            assert_eq!(status("2017-04-25"), ConsentStatus::Given, "{given}");
            assert_eq!(
                status("2017-05-01"),
                ConsentStatus::Withdrawn,
                "{withdrawn}"
            );
        }
    }

    #[test]
    fn a_withdrawal_of_marketing_is_the_cause_for_direct_marketing_too() {
        let vocab = Vocabulary::embedded();
        let notice = notice(&vocab);
        let p = |n| vocab.resolve(TermKind::Purpose, n).unwrap();
        let t = |s| parse_instant(s).unwrap();
        let events = [PreferenceEvent {
            at: t("2017-04-26"),
            preference: Preference::Withdraw(p("Marketing")),
            notice: None,
        }];
        let prefs = Preferences {
            collected_at: t("2017-04-24"),
            collection_notice: &notice,
            notices: &HashMap::new(),
            consented: 0b11,
            events: &events,
        };
        // Before the withdrawal, both boxes ticked at collection stand.
        let (status, cause) = prefs.consent_and_cause(
            &vocab,
            &asked("offers", p("DirectMarketing"), t("2017-04-25")),
        );
        assert_eq!((status, cause), (ConsentStatus::Given, None));
        // After it, the broader withdrawal decides the narrower purpose too.
        for (declaration, purpose) in [("offers", "DirectMarketing"), ("partners", "Marketing")] {
            let (status, cause) =
                prefs.consent_and_cause(&vocab, &asked(declaration, p(purpose), t("2017-05-01")));
            assert_eq!(status, ConsentStatus::Withdrawn, "{purpose}");
            assert_eq!(cause, Some(&events[0]));
            assert_eq!(
                prefs.consent(&vocab, &asked(declaration, p(purpose), t("2017-05-01"))),
                status
            );
        }
    }
}
