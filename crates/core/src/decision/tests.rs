use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::notice::parse_source;
use crate::organisation::Role;
use crate::preference::Preference;
use crate::recipient::RecipientCategory;
use crate::time::parse_instant;
use crate::vocab::TermKind;

const EMMAS_DIARY_2017: &str = r#"
version = "2017-03"
effective = "2017-03-01"
[[declarations]]
id = "membership"
purposes = ["ServiceProvision"]
data_categories = ["Name", "PhysicalAddress", "EmailAddress", "custody:PregnancyDueDate", "custody:ChildBirthDate"]
legal_basis = "contract"
special_category_condition = "explicit-consent"

[[declarations]]
id = "partners"
purposes = ["Marketing"]
data_categories = ["Name", "PhysicalAddress", "PostalCode", "custody:ChildBirthDate"]
legal_basis = "consent"
childrens_data = true
retention = "P3Y"
recipients.categories = ["marketing company", "data broker"]
"#;

fn org(id: &str, role: Role) -> Organisation {
    Organisation {
        id: id.into(),
        name: id.into(),
        role,
        categories: role.default_categories(),
    }
}

fn t(s: &str) -> Instant {
    parse_instant(s).unwrap()
}

struct Fixture {
    vocab: Vocabulary,
    notices: HashMap<NoticeId, Notice>,
}

impl Fixture {
    fn new() -> Self {
        let vocab = Vocabulary::embedded();
        let mut n = parse_source("n.toml", EMMAS_DIARY_2017)
            .unwrap()
            .resolve("n.toml", "emmas-diary", &vocab)
            .unwrap();
        n.id = 1;
        Fixture {
            vocab,
            notices: HashMap::from([(1, n)]),
        }
    }

    fn ids(&self, kind: TermKind, names: &[&str]) -> Vec<TermId> {
        names
            .iter()
            .map(|n| self.vocab.resolve(kind, n).unwrap())
            .collect()
    }

    fn request(&self, purposes: &[&str], categories: &[&str], to: Organisation) -> Request {
        Request {
            purposes: self.ids(TermKind::Purpose, purposes),
            categories: self.ids(TermKind::DataCategory, categories),
            recipient: to,
            on_behalf_of: None,
            basis: None,
            at: t("2017-05-10"),
        }
    }

    fn decide(&self, req: &Request, consented: u64, events: &[PreferenceEvent]) -> Decision {
        let ctx = Context::new(&self.vocab, &self.notices);
        let facts = RecordFacts {
            collected_at: t("2016-06-01"),
            notice: 1,
            consented,
            events,
            received: None,
        };
        decide(&ctx, req, &facts)
    }
}

fn ids(d: Decision) -> String {
    d.reasons.to_ids()
}

#[test]
fn marketing_to_a_broker_with_consent_is_allowed() {
    let f = Fixture::new();
    let req = f.request(
        &["DirectMarketing"],
        &["Name", "PostalCode"],
        org("experian", Role::Broker),
    );
    assert!(f.decide(&req, 0b10, &[]).allowed());
    assert_eq!(ids(f.decide(&req, 0b01, &[])), "no-consent");
}

#[test]
fn the_2017_disclosure_is_refused_for_a_consenting_mother() {
    let f = Fixture::new();
    let mut req = f.request(
        &["PoliticalCampaign"],
        &["Name", "PhysicalAddress", "custody:ChildBirthDate"],
        org("experian", Role::Broker),
    );
    req.on_behalf_of = Some(org("labour", Role::Campaign));
    let d = f.decide(&req, 0b11, &[]);
    // "marketing" does not cover political campaigning, whatever was ticked;
    // under the marketing declaration Labour is not named either, and consent
    // to marketing is no consent to political campaigning
    assert_eq!(
        ids(d),
        "purpose-not-named-explicitly;recipient-not-named;no-consent"
    );
}

#[test]
fn recipient_must_be_named() {
    let f = Fixture::new();
    let req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("labour", Role::Campaign),
    );
    assert_eq!(ids(f.decide(&req, 0b10, &[])), "recipient-not-named");
    let mut req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("experian", Role::Broker),
    );
    req.on_behalf_of = Some(org("labour", Role::Campaign));
    assert_eq!(ids(f.decide(&req, 0b10, &[])), "recipient-not-named");
    let mut named = org("acme", Role::Controller);
    named.categories = vec![RecipientCategory::parse("marketing company").unwrap()];
    let req = f.request(&["DirectMarketing"], &["Name"], named);
    assert!(f.decide(&req, 0b10, &[]).allowed());
}

#[test]
fn undeclared_purpose_and_category() {
    let f = Fixture::new();
    let req = f.request(
        &["ScientificResearch"],
        &["Name"],
        org("experian", Role::Broker),
    );
    assert_eq!(ids(f.decide(&req, 0b11, &[])), "purpose-not-declared");
    let req = f.request(
        &["DirectMarketing"],
        &["EmailAddress"],
        org("experian", Role::Broker),
    );
    assert_eq!(ids(f.decide(&req, 0b10, &[])), "category-not-declared");
}

#[test]
fn withdrawal_and_objection_are_events_in_time() {
    let f = Fixture::new();
    let req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("experian", Role::Broker),
    );
    let marketing = f.vocab.resolve(TermKind::Purpose, "Marketing").unwrap();
    let withdraw = PreferenceEvent {
        at: t("2017-01-01"),
        preference: Preference::Withdraw(marketing),
        notice: None,
    };
    assert_eq!(ids(f.decide(&req, 0b10, &[withdraw])), "consent-withdrawn");
    // a withdrawal after the disclosure does not reach back
    let later = PreferenceEvent {
        at: t("2018-01-01"),
        ..withdraw
    };
    assert!(f.decide(&req, 0b10, &[later]).allowed());
    // given again after withdrawing
    let give = PreferenceEvent {
        at: t("2017-02-01"),
        preference: Preference::Give(marketing),
        notice: None,
    };
    assert!(f.decide(&req, 0b10, &[withdraw, give]).allowed());
    let object = PreferenceEvent {
        at: t("2017-01-01"),
        preference: Preference::ObjectDirectMarketing,
        notice: None,
    };
    assert_eq!(
        ids(f.decide(&req, 0b10, &[object])),
        "objected-direct-marketing"
    );
    let lift = PreferenceEvent {
        at: t("2017-03-01"),
        preference: Preference::WithdrawObjection,
        notice: None,
    };
    assert!(f.decide(&req, 0b10, &[object, lift]).allowed());
}

#[test]
fn special_category_needs_a_condition_that_holds() {
    let f = Fixture::new();
    let req = f.request(
        &["ServiceProvision"],
        &["custody:PregnancyDueDate"],
        org("experian", Role::Broker),
    );
    // membership rests on explicit consent for due dates; without it, refused
    let d = f.decide(&req, 0b00, &[]);
    assert!(
        d.reasons.contains(Reason::SpecialCategoryNoCondition),
        "{}",
        ids(d)
    );
    let req = f.request(
        &["DirectMarketing"],
        &["custody:PregnancyDueDate"],
        org("experian", Role::Broker),
    );
    let d = f.decide(&req, 0b10, &[]);
    assert!(
        d.reasons.contains(Reason::SpecialCategoryNoCondition),
        "{}",
        ids(d)
    );
}

#[test]
fn childrens_data_for_marketing_needs_saying() {
    let mut f = Fixture::new();
    let req = f.request(
        &["DirectMarketing"],
        &["custody:ChildBirthDate"],
        org("experian", Role::Broker),
    );
    assert!(f.decide(&req, 0b10, &[]).allowed());
    f.notices.get_mut(&1).unwrap().declarations[1].childrens_data = false;
    assert_eq!(ids(f.decide(&req, 0b10, &[])), "childrens-data");
}

#[test]
fn retention_runs_out() {
    let f = Fixture::new();
    let mut req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("experian", Role::Broker),
    );
    req.at = t("2019-06-02");
    assert_eq!(ids(f.decide(&req, 0b10, &[])), "retention-expired");
}

#[test]
fn basis_must_match() {
    let f = Fixture::new();
    let mut req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("experian", Role::Broker),
    );
    req.basis = Some(LegalBasis::LegitimateInterests);
    assert_eq!(ids(f.decide(&req, 0b10, &[])), "basis-mismatch");
}

#[test]
fn onward_disclosures_keep_the_terms_received() {
    let f = Fixture::new();
    let ctx = Context::new(&f.vocab, &f.notices);
    let received = Received {
        from: "emmas-diary".into(),
        purposes: f.ids(TermKind::Purpose, &["DirectMarketing"]),
        categories: f.ids(TermKind::DataCategory, &["Name"]),
    };
    let facts = RecordFacts {
        collected_at: t("2016-06-01"),
        notice: 1,
        consented: 0b10,
        events: &[],
        received: Some(&received),
    };
    let req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("experian", Role::Broker),
    );
    assert!(decide(&ctx, &req, &facts).allowed());
    let req = f.request(
        &["Advertising"],
        &["Name", "PostalCode"],
        org("experian", Role::Broker),
    );
    assert_eq!(
        ids(decide(&ctx, &req, &facts)),
        "onward-purpose-not-received;onward-category-not-received"
    );
}

#[test]
fn electronic_marketing_needs_consent() {
    let vocab = Vocabulary::embedded();
    let src = r#"
version = "1"
effective = "2017-01-01"
[[declarations]]
id = "li"
purposes = ["DirectMarketing"]
data_categories = ["EmailAddress", "Name"]
legal_basis = "legitimate-interests"
recipients.categories = ["data broker"]
"#;
    let mut n = parse_source("n.toml", src)
        .unwrap()
        .resolve("n.toml", "o", &vocab)
        .unwrap();
    n.id = 7;
    let notices = HashMap::from([(7, n)]);
    let ctx = Context::new(&vocab, &notices);
    let facts = RecordFacts {
        collected_at: t("2017-01-02"),
        notice: 7,
        consented: 0,
        events: &[],
        received: None,
    };
    let mk = |cats: &[&str]| Request {
        purposes: vec![vocab.resolve(TermKind::Purpose, "DirectMarketing").unwrap()],
        categories: cats
            .iter()
            .map(|c| vocab.resolve(TermKind::DataCategory, c).unwrap())
            .collect(),
        recipient: org("experian", Role::Broker),
        on_behalf_of: None,
        basis: None,
        at: t("2017-05-01"),
    };
    assert_eq!(
        ids(decide(&ctx, &mk(&["EmailAddress"]), &facts)),
        "electronic-marketing-without-consent"
    );
    assert!(decide(&ctx, &mk(&["Name"]), &facts).allowed());
}

// ---- properties ----

const PURPOSES: &[&str] = &[
    "Marketing",
    "DirectMarketing",
    "Advertising",
    "PoliticalCampaign",
    "ServiceProvision",
    "SellDataToThirdParties",
];
const CATEGORIES: &[&str] = &[
    "Name",
    "PhysicalAddress",
    "EmailAddress",
    "custody:ChildBirthDate",
    "custody:PregnancyDueDate",
    "Identifying",
];
const BASES: &[LegalBasis] = &[
    LegalBasis::Consent,
    LegalBasis::Contract,
    LegalBasis::LegitimateInterests,
];
const RECIPIENT_CATEGORIES: &[&str] = &["data-broker", "political-party", "marketing-company"];

#[derive(Debug, Clone)]
struct DeclSpec {
    purposes: Vec<usize>,
    categories: Vec<usize>,
    basis: usize,
    special: bool,
    children: bool,
    recipients: Vec<usize>,
}

fn decl_spec() -> impl Strategy<Value = DeclSpec> {
    (
        prop::collection::vec(0..PURPOSES.len(), 1..3),
        prop::collection::vec(0..CATEGORIES.len(), 1..4),
        0..BASES.len(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0..RECIPIENT_CATEGORIES.len(), 0..3),
    )
        .prop_map(
            |(purposes, categories, basis, special, children, recipients)| DeclSpec {
                purposes,
                categories,
                basis,
                special,
                children,
                recipients,
            },
        )
}

fn build(vocab: &Vocabulary, decls: &[DeclSpec]) -> Notice {
    let declarations = decls
        .iter()
        .enumerate()
        .map(|(i, d)| Declaration {
            id: format!("d{i}"),
            purposes: d
                .purposes
                .iter()
                .map(|p| vocab.resolve(TermKind::Purpose, PURPOSES[*p]).unwrap())
                .collect(),
            categories: d
                .categories
                .iter()
                .map(|c| {
                    vocab
                        .resolve(TermKind::DataCategory, CATEGORIES[*c])
                        .unwrap()
                })
                .collect(),
            basis: BASES[d.basis],
            special_condition: d.special.then_some(SpecialCondition::ExplicitConsent),
            childrens_data: d.children,
            recipient_orgs: vec![],
            recipient_categories: d
                .recipients
                .iter()
                .map(|r| RecipientCategory::parse(RECIPIENT_CATEGORIES[*r]).unwrap())
                .collect(),
            retention: None,
        })
        .collect();
    Notice {
        id: 1,
        org: "o".into(),
        version: "1".into(),
        effective: t("2016-01-01"),
        content_hash: String::new(),
        source: parse_source("n.toml", EMMAS_DIARY_2017).unwrap(),
        declarations,
    }
}

#[derive(Debug, Clone)]
struct Case {
    decls: Vec<DeclSpec>,
    consented: u64,
    events: Vec<(u8, usize, u8)>, // (kind, purpose, day)
    purposes: Vec<usize>,
    categories: Vec<usize>,
    recipient: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(decl_spec(), 1..4),
        any::<u64>(),
        prop::collection::vec((0u8..4, 0..PURPOSES.len(), 0u8..60), 0..4),
        prop::collection::vec(0..PURPOSES.len(), 1..3),
        prop::collection::vec(0..CATEGORIES.len(), 1..3),
        0..RECIPIENT_CATEGORIES.len(),
    )
        .prop_map(
            |(decls, consented, events, purposes, categories, recipient)| Case {
                decls,
                consented,
                events,
                purposes,
                categories,
                recipient,
            },
        )
}

fn events_of(vocab: &Vocabulary, c: &Case) -> Vec<PreferenceEvent> {
    let p = |i: usize| vocab.resolve(TermKind::Purpose, PURPOSES[i]).unwrap();
    c.events
        .iter()
        .map(|(k, purpose, day)| PreferenceEvent {
            at: t("2017-01-01") + chrono::Duration::days(*day as i64),
            preference: match k {
                0 => Preference::Give(p(*purpose)),
                1 => Preference::Withdraw(p(*purpose)),
                2 => Preference::ObjectDirectMarketing,
                _ => Preference::WithdrawObjection,
            },
            notice: None,
        })
        .collect()
}

fn request_of(vocab: &Vocabulary, c: &Case) -> Request {
    let mut recipient = org("r", Role::Controller);
    recipient.categories =
        vec![RecipientCategory::parse(RECIPIENT_CATEGORIES[c.recipient]).unwrap()];
    Request {
        purposes: c
            .purposes
            .iter()
            .map(|i| vocab.resolve(TermKind::Purpose, PURPOSES[*i]).unwrap())
            .collect(),
        categories: c
            .categories
            .iter()
            .map(|i| {
                vocab
                    .resolve(TermKind::DataCategory, CATEGORIES[*i])
                    .unwrap()
            })
            .collect(),
        recipient,
        on_behalf_of: None,
        basis: None,
        at: t("2017-03-15"),
    }
}

fn run(vocab: &Vocabulary, notice: Notice, c: &Case, extra: Option<PreferenceEvent>) -> Decision {
    let notices = HashMap::from([(1, notice)]);
    let ctx = Context::new(vocab, &notices);
    let mut events = events_of(vocab, c);
    events.extend(extra);
    events.sort_by_key(|e| e.at);
    let req = request_of(vocab, c);
    let facts = RecordFacts {
        collected_at: t("2016-06-01"),
        notice: 1,
        consented: c.consented,
        events: &events,
        received: None,
    };
    decide(&ctx, &req, &facts)
}

/// Collection dates around the request (2017-03-15) and the retention periods.
const COLLECTED: &[&str] = &[
    "2013-01-31",
    "2014-03-15",
    "2016-02-29",
    "2016-06-01",
    "2017-03-15",
    "2017-04-01",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn withdrawing_consent_never_allows(c in case(), purpose in 0..PURPOSES.len(), day in 0i64..120) {
        let vocab = Vocabulary::embedded();
        let before = run(&vocab, build(&vocab, &c.decls), &c, None);
        let withdraw = PreferenceEvent {
            at: t("2016-12-01") + chrono::Duration::days(day),
            preference: Preference::Withdraw(vocab.resolve(TermKind::Purpose, PURPOSES[purpose]).unwrap()),
            notice: None,
        };
        let after = run(&vocab, build(&vocab, &c.decls), &c, Some(withdraw));
        prop_assert!(before.allowed() || !after.allowed(), "withdrawal turned a refusal into an allow");
    }

    #[test]
    fn objecting_never_allows(c in case(), day in 0i64..120) {
        let vocab = Vocabulary::embedded();
        let before = run(&vocab, build(&vocab, &c.decls), &c, None);
        let object = PreferenceEvent { at: t("2016-12-01") + chrono::Duration::days(day), preference: Preference::ObjectDirectMarketing, notice: None };
        let after = run(&vocab, build(&vocab, &c.decls), &c, Some(object));
        prop_assert!(before.allowed() || !after.allowed());
    }

    #[test]
    fn declaring_more_purposes_never_refuses(c in case(), which in any::<prop::sample::Index>(), purpose in 0..PURPOSES.len()) {
        let vocab = Vocabulary::embedded();
        let before = run(&vocab, build(&vocab, &c.decls), &c, None);
        let mut wider = c.decls.clone();
        let i = which.index(wider.len());
        wider[i].purposes.push(purpose);
        let after = run(&vocab, build(&vocab, &wider), &c, None);
        prop_assert!(!before.allowed() || after.allowed(), "adding a purpose refused an allowed record");
    }

    #[test]
    fn decisions_are_deterministic(c in case()) {
        let vocab = Vocabulary::embedded();
        let a = run(&vocab, build(&vocab, &c.decls), &c, None);
        let b = run(&vocab, build(&vocab, &c.decls), &c, None);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn marketing_never_covers_political_campaigns(c in case()) {
        let vocab = Vocabulary::embedded();
        let mut c = c;
        // no declaration names PoliticalCampaign (index 3)
        for d in &mut c.decls { d.purposes.retain(|p| *p != 3); if d.purposes.is_empty() { d.purposes.push(0); } }
        c.purposes = vec![3];
        let d = run(&vocab, build(&vocab, &c.decls), &c, None);
        prop_assert!(!d.allowed());
        prop_assert!(d.reasons.contains(Reason::PurposeNotNamed) || d.reasons.contains(Reason::PurposeNotDeclared));
    }

    #[test]
    fn a_consent_given_before_the_declaration_existed_never_allows(c in case()) {
        let vocab = Vocabulary::embedded();
        // Collected under a notice that declares service provision only;
        // every event but the last is under it, and the last moves the
        // record to the case's notice. The gifts of consent among them were
        // given before anything they might allow was declared: with or
        // without them, the same records are allowed.
        let told_nothing = DeclSpec { purposes: vec![4], categories: vec![0], basis: 1, special: false, children: false, recipients: vec![] };
        let mut c = c;
        c.purposes.retain(|p| *p != 4);
        if c.purposes.is_empty() { c.purposes.push(3); }
        let decide_with = |keep_gifts: bool| {
            let mut first = build(&vocab, &[told_nothing.clone()]);
            first.id = 1;
            let mut second = build(&vocab, &c.decls);
            second.id = 2;
            let notices = HashMap::from([(1, first), (2, second)]);
            let ctx = Context::new(&vocab, &notices);
            // The case's events, and a gift of each purpose asked for.
            let gifts = c.purposes.iter().map(|p| PreferenceEvent {
                at: t("2017-01-11"),
                preference: Preference::Give(vocab.resolve(TermKind::Purpose, PURPOSES[*p]).unwrap()),
                notice: None,
            });
            let mut events: Vec<PreferenceEvent> = events_of(&vocab, &c)
                .into_iter()
                .chain(gifts)
                .filter(|e| keep_gifts || !matches!(e.preference, Preference::Give(_)))
                .collect();
            events.push(PreferenceEvent { at: t("2017-03-05"), preference: Preference::WithdrawObjection, notice: Some(2) });
            events.sort_by_key(|e| e.at);
            let facts = RecordFacts { collected_at: t("2016-06-01"), notice: 1, consented: c.consented, events: &events, received: None };
            decide(&ctx, &request_of(&vocab, &c), &facts)
        };
        let (with, without) = (decide_with(true), decide_with(false));
        prop_assert_eq!(with.allowed(), without.allowed(), "with {:?}, without {:?}", with, without);
    }

    #[test]
    fn deciding_by_class_matches_deciding_each_record(
        c in case(),
        retention in prop::collection::vec(prop::option::of((0u32..48, 0u32..40)), 4),
        records in prop::collection::vec((0u64..8, 0..COLLECTED.len(), 0usize..4, 0usize..3), 1..80),
    ) {
        let vocab = Vocabulary::embedded();
        let mut notice = build(&vocab, &c.decls);
        for (d, r) in notice.declarations.iter_mut().zip(&retention) {
            d.retention = r.map(|(months, days)| crate::notice::Retention { months, days });
        }
        let notices = HashMap::from([(1, notice)]);
        let ctx = Context::new(&vocab, &notices);
        let req = request_of(&vocab, &c);
        let mut events = events_of(&vocab, &c);
        events.sort_by_key(|e| e.at);
        // Records differ in their events: the case's, the same shifted so
        // that some come after the request, and the same under the notice.
        let later: Vec<PreferenceEvent> = events
            .iter()
            .map(|e| PreferenceEvent { at: e.at + chrono::Duration::days(40), ..*e })
            .collect();
        let shown: Vec<PreferenceEvent> = events
            .iter()
            .map(|e| PreferenceEvent { notice: Some(1), ..*e })
            .collect();
        let event_sets: [&[PreferenceEvent]; 4] = [&[], &events, &later, &shown];
        let term = |kind, name| vocab.resolve(kind, name).unwrap();
        let received = [
            Received { from: "b".into(), purposes: vec![term(TermKind::Purpose, "Marketing")], categories: vec![term(TermKind::DataCategory, "Name")] },
            Received { from: "b".into(), purposes: vec![term(TermKind::Purpose, "PoliticalCampaign")], categories: vec![term(TermKind::DataCategory, "PhysicalAddress")] },
        ];
        let mut classes = classes::Classes::new(&ctx, &req);
        for (consented, at, which_events, via) in &records {
            let facts = RecordFacts {
                collected_at: t(COLLECTED[*at]),
                notice: 1,
                consented: *consented,
                events: event_sets[*which_events],
                received: via.checked_sub(1).map(|i| &received[i]),
            };
            prop_assert_eq!(classes.decide(&facts), decide(&ctx, &req, &facts), "{:?}", facts.collected_at);
        }
        prop_assert!(classes.len() <= records.len());
    }
}

/// One event of a diverse history: (action, purpose, offset in seconds
/// from the request's time, under the second notice).
type DiverseEvent = (u8, usize, i64, bool);

/// A history as data made elsewhere has it (issue 15): up to 12 events,
/// every action, several purposes, times to the second around the
/// request's, ties and events exactly at the request, some under a second
/// notice.
fn diverse_history() -> impl Strategy<Value = Vec<DiverseEvent>> {
    let offset = prop_oneof![
        Just(0i64),
        Just(-1i64),
        Just(1i64),
        -400i64 * 86_400..60 * 86_400,
    ];
    prop::collection::vec((0u8..4, 0..PURPOSES.len(), offset, any::<bool>()), 0..13)
}

fn diverse_events(vocab: &Vocabulary, at: Instant, h: &[DiverseEvent]) -> Vec<PreferenceEvent> {
    let p = |i: usize| vocab.resolve(TermKind::Purpose, PURPOSES[i]).unwrap();
    let mut events: Vec<PreferenceEvent> = h
        .iter()
        .map(|(k, purpose, offset, second)| PreferenceEvent {
            at: at + chrono::Duration::seconds(*offset),
            preference: match k {
                0 => Preference::Give(p(*purpose)),
                1 => Preference::Withdraw(p(*purpose)),
                2 => Preference::ObjectDirectMarketing,
                _ => Preference::WithdrawObjection,
            },
            notice: second.then_some(2),
        })
        .collect();
    // Stable: ties keep their recorded order, as the store gives them.
    events.sort_by_key(|e| e.at);
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Classes key on what decides, not on the history (issue 15): on
    /// diverse histories under two notices with retention periods, records
    /// collected at many times, the class gives each record the plain
    /// evaluator's decision.
    #[test]
    fn deciding_by_class_matches_deciding_each_record_on_diverse_histories(
        c in case(),
        second in prop::collection::vec(decl_spec(), 1..4),
        retention in prop::collection::vec(prop::option::of((0u32..48, 0u32..40)), 8),
        records in prop::collection::vec((0u64..8, 0..COLLECTED.len(), diverse_history(), any::<bool>()), 1..60),
    ) {
        let vocab = Vocabulary::embedded();
        let mut first = build(&vocab, &c.decls);
        let mut later = build(&vocab, &second);
        later.id = 2;
        later.version = "2".into();
        for (d, r) in first.declarations.iter_mut().chain(later.declarations.iter_mut()).zip(&retention) {
            d.retention = r.map(|(months, days)| crate::notice::Retention { months, days });
        }
        let notices = HashMap::from([(1, first), (2, later)]);
        let ctx = Context::new(&vocab, &notices);
        let req = request_of(&vocab, &c);
        let term = |kind, name| vocab.resolve(kind, name).unwrap();
        let received = Received { from: "b".into(), purposes: vec![term(TermKind::Purpose, "Marketing")], categories: vec![term(TermKind::DataCategory, "Name")] };
        let mut classes = classes::Classes::new(&ctx, &req);
        for (consented, at, history, via) in &records {
            let events = diverse_events(&vocab, req.at, history);
            let facts = RecordFacts {
                collected_at: t(COLLECTED[*at]),
                notice: 1,
                consented: *consented,
                events: &events,
                received: via.then_some(&received),
            };
            prop_assert_eq!(classes.decide(&facts), decide(&ctx, &req, &facts), "{:?} {:?}", facts.collected_at, events);
        }
        prop_assert!(classes.len() <= records.len());
    }
}

/// Emma's Diary's notice of May 2018: political campaigning declared, for
/// Labour alone; and a later one naming every political party.
const EMMAS_DIARY_2018: &str = r#"
version = "2018-05"
effective = "2018-05-25"
[[declarations]]
id = "partners"
purposes = ["Marketing"]
data_categories = ["Name", "PhysicalAddress"]
legal_basis = "consent"
recipients.categories = ["marketing company", "data broker"]

[[declarations]]
id = "politics"
purposes = ["PoliticalCampaign"]
data_categories = ["Name", "PhysicalAddress"]
legal_basis = "consent"
recipients.organisations = ["labour"]
"#;

#[test]
fn a_consent_counts_only_if_it_was_informed() {
    let mut f = Fixture::new();
    for (id, source) in [
        (2, EMMAS_DIARY_2018.to_string()),
        (
            3,
            EMMAS_DIARY_2018
                .replace("2018-05", "2019-01")
                .replace("\"2018-05-25\"", "\"2019-01-01\"")
                .replace(
                    "recipients.organisations = [\"labour\"]",
                    "recipients.categories = [\"political party\"]",
                ),
        ),
    ] {
        let mut n = parse_source("n.toml", &source)
            .unwrap()
            .resolve("n.toml", "emmas-diary", &f.vocab)
            .unwrap();
        n.id = id;
        f.notices.insert(id, n);
    }
    let political = f
        .vocab
        .resolve(TermKind::Purpose, "PoliticalCampaign")
        .unwrap();
    let at = |day: &str, preference, notice| PreferenceEvent {
        at: t(day),
        preference,
        notice,
    };
    let give = |day, notice| at(day, Preference::Give(political), notice);
    let withdraw = |day| at(day, Preference::Withdraw(political), None);
    let moved = |day, notice| at(day, Preference::WithdrawObjection, Some(notice));
    let ask = |to: Organisation, on: &str| {
        let mut req = f.request(&["PoliticalCampaign"], &["Name", "PhysicalAddress"], to);
        req.at = t(on);
        req
    };
    let labour = || org("labour", Role::Campaign);
    let tories = || org("conservatives", Role::Campaign);
    // (events, recipient, asked on, reasons)
    let table = [
        // The issue's mother: consent under 2017, moved to 2018-05 by an
        // unrelated event; 2017 declared no political campaigning.
        (
            vec![give("2018-04-28", None), moved("2018-07-09", 2)],
            labour(),
            "2018-08-01",
            "consent-not-informed",
        ),
        (
            vec![give("2018-04-28", Some(1)), moved("2018-07-09", 2)],
            labour(),
            "2018-08-01",
            "consent-not-informed",
        ),
        // Asked again once shown 2018-05: informed.
        (
            vec![moved("2018-07-09", 2), give("2018-07-10", None)],
            labour(),
            "2018-08-01",
            "",
        ),
        (
            vec![give("2018-07-10", Some(2))],
            labour(),
            "2018-08-01",
            "",
        ),
        (
            vec![
                give("2018-04-28", None),
                moved("2018-07-09", 2),
                give("2018-07-10", None),
            ],
            labour(),
            "2018-08-01",
            "",
        ),
        // Withdrawn after an informed consent, and after an uninformed one.
        (
            vec![give("2018-07-10", Some(2)), withdraw("2018-07-20")],
            labour(),
            "2018-08-01",
            "consent-withdrawn",
        ),
        (
            vec![
                give("2018-04-28", None),
                moved("2018-07-09", 2),
                withdraw("2018-07-20"),
            ],
            labour(),
            "2018-08-01",
            "no-consent",
        ),
        // Informed of Labour is not informed of every party.
        (
            vec![give("2018-07-10", Some(2)), moved("2019-02-01", 3)],
            tories(),
            "2019-03-01",
            "consent-not-informed",
        ),
        (
            vec![give("2018-07-10", Some(2)), moved("2019-02-01", 3)],
            labour(),
            "2019-03-01",
            "",
        ),
        (
            vec![moved("2019-02-01", 3), give("2019-02-02", None)],
            tories(),
            "2019-03-01",
            "",
        ),
    ];
    for (i, (events, to, on, want)) in table.into_iter().enumerate() {
        let got = f.decide(&ask(to, on), 0, &events);
        assert_eq!(ids(got), want, "case {i}");
    }
}

#[test]
fn a_box_ticked_under_a_notice_that_did_not_name_the_recipient_is_no_consent() {
    let mut f = Fixture::new();
    // 2018-05's partners declaration adds no recipient; a copy of it that
    // names Labour as well is a different thing to agree to.
    let wider = EMMAS_DIARY_2018.replace(
        "recipients.categories = [\"marketing company\", \"data broker\"]",
        "recipients.categories = [\"marketing company\", \"data broker\", \"political party\"]",
    );
    let mut n = parse_source("n.toml", &wider)
        .unwrap()
        .resolve("n.toml", "emmas-diary", &f.vocab)
        .unwrap();
    n.id = 2;
    f.notices.insert(2, n);
    let moved = PreferenceEvent {
        at: t("2018-07-09"),
        preference: Preference::WithdrawObjection,
        notice: Some(2),
    };
    let mut req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("labour", Role::Campaign),
    );
    req.at = t("2018-08-01");
    // Ticked in 2016 for partners, which then named no party.
    assert_eq!(ids(f.decide(&req, 0b10, &[moved])), "consent-not-informed");
    let mut req = f.request(
        &["DirectMarketing"],
        &["Name"],
        org("experian", Role::Broker),
    );
    req.at = t("2018-08-01");
    assert!(f.decide(&req, 0b10, &[moved]).allowed());
}
