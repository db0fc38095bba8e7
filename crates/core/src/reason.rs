//! Reason codes: why a record may not be disclosed, in plain English, with the
//! provisions each rests on. Ids are stable: scripts and stored decisions use them.

use serde::Serialize;

macro_rules! reasons {
    ($( $variant:ident = $bit:literal, $id:literal, $message:literal, $to_you:literal, [$($provision:literal),+ $(,)?]; )+) => {
        /// One reason a record was refused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Reason { $( $variant = $bit, )+ }

        impl Reason {
            pub const ALL: &'static [Reason] = &[ $( Reason::$variant, )+ ];

            pub fn id(self) -> &'static str {
                match self { $( Reason::$variant => $id, )+ }
            }

            pub fn message(self) -> &'static str {
                match self { $( Reason::$variant => $message, )+ }
            }

            /// The reason told to the person it is about, as "you".
            pub fn to_you(self) -> &'static str {
                match self { $( Reason::$variant => $to_you, )+ }
            }

            pub fn provisions(self) -> &'static [&'static str] {
                match self { $( Reason::$variant => &[$($provision),+], )+ }
            }
        }
    };
}

reasons! {
    PurposeNotDeclared = 0, "purpose-not-declared",
        "The notice the data was collected under does not declare this purpose.",
        "When you signed up, you were not told your data would be used for this.",
        ["UK GDPR Art 5(1)(b)", "UK GDPR Art 13(1)(c)", "UK GDPR Art 13(3)"];
    PurposeNotNamed = 1, "purpose-not-named-explicitly",
        "The notice declares only a broader purpose; this purpose must be named explicitly (a notice that says \"marketing\" does not tell people about political campaigning or data sales).",
        "You were told only of something broader; this use has to be named to you in so many words, and it was not.",
        ["UK GDPR Art 5(1)(a)", "UK GDPR Art 5(1)(b)", "UK GDPR Art 13(1)(c)"];
    RecipientNotNamed = 2, "recipient-not-named",
        "The notice names neither this recipient nor a category it belongs to.",
        "You were never told your data could go to this organisation, or to organisations like it.",
        ["UK GDPR Art 13(1)(e)", "UK GDPR Art 14(1)(e)", "UK GDPR Art 5(1)(a)"];
    CategoryNotDeclared = 3, "category-not-declared",
        "This kind of personal data is not declared for this purpose.",
        "You were not told this part of your data would be used for this.",
        ["UK GDPR Art 5(1)(b)", "UK GDPR Art 5(1)(c)", "UK GDPR Art 14(1)(d)"];
    BasisMismatch = 4, "basis-mismatch",
        "The lawful basis claimed is not the one the notice declared for this purpose.",
        "The reason they gave in law for using your data is not the one you were told.",
        ["UK GDPR Art 6(1)", "UK GDPR Art 13(1)(c)"];
    NoConsent = 5, "no-consent",
        "The purpose rests on consent and this person never gave it.",
        "This needs your agreement, and you never gave it.",
        ["UK GDPR Art 6(1)(a)", "UK GDPR Art 7(1)", "PECR reg 22"];
    ConsentWithdrawn = 6, "consent-withdrawn",
        "This person withdrew consent before the disclosure.",
        "You withdrew your agreement before this was asked.",
        ["UK GDPR Art 7(3)", "UK GDPR Art 6(1)(a)"];
    ConsentNotInformed = 15, "consent-not-informed",
        "The consent was given before any notice shown to this person declared this purpose for this recipient; consent that was not informed is not consent.",
        "You agreed before you had been told your data would be used for this, or go to this organisation; agreement given without being told is not agreement.",
        ["UK GDPR Art 4(11)", "UK GDPR Art 6(1)(a)", "UK GDPR Art 7(1)", "UK GDPR Recital 42"];
    ObjectedToDirectMarketing = 7, "objected-direct-marketing",
        "This person objected to direct marketing; the objection is absolute.",
        "You objected to direct marketing, and nobody may market to you once you have.",
        ["UK GDPR Art 21(2)", "UK GDPR Art 21(3)", "DPA 2018 s122", "PECR reg 22"];
    SpecialCategoryNoCondition = 8, "special-category-no-condition",
        "Special-category data (e.g. health, pregnancy) needs explicit consent or another Art 9 condition, and none holds.",
        "This is sensitive data (such as health or pregnancy), and it may only be used with your explicit agreement or another condition the law sets; none applies.",
        ["UK GDPR Art 9(1)", "UK GDPR Art 9(2)", "DPA 2018 s10", "DPA 2018 Sch 1"];
    ChildrensData = 9, "childrens-data",
        "Children's data may be used for marketing or profiling only where the notice says so for that purpose.",
        "This is about your children, and you were not told it would be used for this.",
        ["UK GDPR Recital 38", "UK GDPR Art 6(1)(f)", "UK GDPR Art 5(1)(a)", "DPA 2018 s123"];
    RetentionExpired = 10, "retention-expired",
        "The retention period the notice declared for this purpose has run out.",
        "They told you how long they would keep this data, and that time has passed.",
        ["UK GDPR Art 5(1)(e)", "UK GDPR Art 13(2)(a)"];
    OnwardPurposeNotReceived = 11, "onward-purpose-not-received",
        "The holder received this data for other purposes; it may not pass it on for this one.",
        "The organisation got your data for other uses; it may not pass it on for this one.",
        ["UK GDPR Art 5(1)(b)", "UK GDPR Art 6(4)", "UK GDPR Art 14(1)(c)"];
    OnwardCategoryNotReceived = 12, "onward-category-not-received",
        "The holder did not receive this kind of data from the collector.",
        "The organisation never received this part of your data.",
        ["UK GDPR Art 5(1)(b)", "UK GDPR Art 5(1)(c)"];
    ElectronicMarketingWithoutConsent = 13, "electronic-marketing-without-consent",
        "Marketing by email or phone to individuals needs their consent; the declared basis is not consent.",
        "Marketing to you by email or phone needs your agreement, and it was not asked for.",
        ["PECR reg 22", "PECR reg 21", "UK GDPR Art 6(1)(a)"];
    NotHeld = 14, "not-held",
        "The disclosing organisation holds no record of this person.",
        "The organisation that asked holds no record of you.",
        ["UK GDPR Art 5(1)(d)", "UK GDPR Art 5(2)"];
}

impl Reason {
    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }

    pub fn from_id(id: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A set of reasons, one bit each: cheap to compute, store and count for
/// millions of records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonSet(pub u32);

impl ReasonSet {
    pub const EMPTY: ReasonSet = ReasonSet(0);

    pub fn insert(&mut self, r: Reason) {
        self.0 |= r.bit();
    }

    pub fn contains(self, r: Reason) -> bool {
        self.0 & r.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn union(self, other: ReasonSet) -> ReasonSet {
        ReasonSet(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL
            .iter()
            .copied()
            .filter(move |r| self.contains(*r))
    }

    /// `a;b;c`, the form written to CSV files.
    pub fn to_ids(self) -> String {
        self.iter().map(|r| r.id()).collect::<Vec<_>>().join(";")
    }

    pub fn from_ids(s: &str) -> Result<ReasonSet, String> {
        let mut set = ReasonSet::EMPTY;
        for id in s.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            set.insert(Reason::from_id(id).ok_or_else(|| format!("unknown reason `{id}`"))?);
        }
        Ok(set)
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Self {
        let mut set = ReasonSet::EMPTY;
        for r in iter {
            set.insert(r);
        }
        set
    }
}

impl Serialize for ReasonSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_bits_are_unique() {
        let ids: HashSet<_> = Reason::ALL.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), Reason::ALL.len());
        let bits: HashSet<_> = Reason::ALL.iter().map(|r| r.bit()).collect();
        assert_eq!(bits.len(), Reason::ALL.len());
        for r in Reason::ALL {
            assert!(!r.provisions().is_empty());
            assert!(r.message().ends_with('.'), "{r}");
            // Told to the person: about "you", never "this person".
            let you = r.to_you().to_lowercase();
            assert!(
                you.ends_with('.') && (you.contains("you") || you.contains("your")),
                "{r}"
            );
            assert!(!you.contains("this person"), "{r}");
            assert_eq!(Reason::from_id(r.id()), Some(*r));
        }
    }

    #[test]
    fn sets_round_trip() {
        let set: ReasonSet = [Reason::NoConsent, Reason::PurposeNotNamed]
            .into_iter()
            .collect();
        assert_eq!(set.to_ids(), "purpose-not-named-explicitly;no-consent");
        assert_eq!(ReasonSet::from_ids(&set.to_ids()).unwrap(), set);
        assert!(ReasonSet::from_ids("no-such-reason").is_err());
        assert_eq!(set.len(), 2);
    }
}
