//! Lawful bases (UK GDPR Art 6(1)) and special-category conditions (Art 9(2)).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

impl LegalBasis {
    pub const ALL: [LegalBasis; 6] = [
        LegalBasis::Consent,
        LegalBasis::Contract,
        LegalBasis::LegalObligation,
        LegalBasis::VitalInterests,
        LegalBasis::PublicTask,
        LegalBasis::LegitimateInterests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal-obligation",
            LegalBasis::VitalInterests => "vital-interests",
            LegalBasis::PublicTask => "public-task",
            LegalBasis::LegitimateInterests => "legitimate-interests",
        }
    }

    pub fn provision(self) -> &'static str {
        match self {
            LegalBasis::Consent => "UK GDPR Art 6(1)(a)",
            LegalBasis::Contract => "UK GDPR Art 6(1)(b)",
            LegalBasis::LegalObligation => "UK GDPR Art 6(1)(c)",
            LegalBasis::VitalInterests => "UK GDPR Art 6(1)(d)",
            LegalBasis::PublicTask => "UK GDPR Art 6(1)(e)",
            LegalBasis::LegitimateInterests => "UK GDPR Art 6(1)(f)",
        }
    }

    /// The DPV term for the basis, so notices can also be written in DPV.
    pub fn dpv_key(self) -> &'static str {
        match self {
            LegalBasis::Consent => "dpv:Consent",
            LegalBasis::Contract => "dpv:Contract",
            LegalBasis::LegalObligation => "dpv:LegalObligation",
            LegalBasis::VitalInterests => "dpv:VitalInterest",
            LegalBasis::PublicTask => "dpv:PublicInterest",
            LegalBasis::LegitimateInterests => "dpv:LegitimateInterest",
        }
    }
}

impl std::str::FromStr for LegalBasis {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let norm = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        for b in LegalBasis::ALL {
            let dpv = b.dpv_key().to_ascii_lowercase();
            if norm == b.as_str()
                || norm == dpv
                || Some(norm.as_str()) == dpv.strip_prefix("dpv:")
                || norm.trim_end_matches('s') == b.as_str().trim_end_matches('s')
            {
                return Ok(b);
            }
        }
        let names: Vec<&str> = LegalBasis::ALL.iter().map(|b| b.as_str()).collect();
        let hint = crate::spelling::nearest(s, names.iter().copied())
            .map(|n| format!("; did you mean {n}?"))
            .unwrap_or_default();
        Err(format!(
            "unknown legal basis `{s}`{hint} (one of: {})",
            names.join(", ")
        ))
    }
}

impl std::fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Art 9(2) condition a declaration relies on for special-category data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecialCondition {
    ExplicitConsent,
    Employment,
    VitalInterests,
    NotForProfitBody,
    MadePublic,
    LegalClaims,
    SubstantialPublicInterest,
    HealthOrSocialCare,
    PublicHealth,
    ArchivingOrResearch,
}

impl SpecialCondition {
    pub fn provision(self) -> &'static str {
        match self {
            SpecialCondition::ExplicitConsent => "UK GDPR Art 9(2)(a)",
            SpecialCondition::Employment => "UK GDPR Art 9(2)(b); DPA 2018 Sch 1 para 1",
            SpecialCondition::VitalInterests => "UK GDPR Art 9(2)(c)",
            SpecialCondition::NotForProfitBody => "UK GDPR Art 9(2)(d)",
            SpecialCondition::MadePublic => "UK GDPR Art 9(2)(e)",
            SpecialCondition::LegalClaims => "UK GDPR Art 9(2)(f)",
            SpecialCondition::SubstantialPublicInterest => {
                "UK GDPR Art 9(2)(g); DPA 2018 Sch 1 Part 2"
            }
            SpecialCondition::HealthOrSocialCare => "UK GDPR Art 9(2)(h); DPA 2018 Sch 1 para 2",
            SpecialCondition::PublicHealth => "UK GDPR Art 9(2)(i); DPA 2018 Sch 1 para 3",
            SpecialCondition::ArchivingOrResearch => "UK GDPR Art 9(2)(j); DPA 2018 Sch 1 para 4",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(
            "consent".parse::<LegalBasis>().unwrap(),
            LegalBasis::Consent
        );
        assert_eq!(
            "Legitimate interests".parse::<LegalBasis>().unwrap(),
            LegalBasis::LegitimateInterests
        );
        assert_eq!(
            "legitimate-interest".parse::<LegalBasis>().unwrap(),
            LegalBasis::LegitimateInterests
        );
        assert_eq!(
            "dpv:LegalObligation".parse::<LegalBasis>().unwrap(),
            LegalBasis::LegalObligation
        );
        assert_eq!(
            "public_task".parse::<LegalBasis>().unwrap(),
            LegalBasis::PublicTask
        );
        assert!("because".parse::<LegalBasis>().is_err());
    }
}
