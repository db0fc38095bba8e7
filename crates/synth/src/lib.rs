//! Synthetic data for the Emma's Diary case (ICO, 2018): a UK parenting club
//! whose 2015–2017 sign-ups of new and expectant mothers (1,065,220 records)
//! were passed to a data broker and then used for a political campaign in 2017.
//!
//! Everything is deterministic by seed. Every mother is a pure function of
//! `(seed, index)` (see [`Synth::mother`]), so the sign-ups, preference events,
//! re-consents and subject lists written separately always agree with each
//! other, and the first `k` rows do not depend on how many are written.
//!
//! Randomness: one `Pcg64Mcg` per mother, seeded from a splitmix64 mix of
//! `seed ^ (i+1)·φ`, and only `next_u64` is used (integer ranges via a
//! multiply-high, probabilities from 53-bit fractions), so the output does not
//! depend on `rand`'s distribution code and is the same on every platform.
//!
//! Buffering: the writers wrap the given `W` in a `csv::Writer`, which keeps its
//! own 64 KiB buffer, so passing an unbuffered `File` is fine (a `BufWriter` is
//! harmless but unnecessary). The csv writer is flushed before returning.

use chrono::{Datelike, NaiveDate};
use rand::RngCore;
use rand_pcg::Pcg64Mcg;
use std::io;

mod varied;
pub use varied::MOST_EVENTS;

/// Number of records in the real case.
pub const EMMAS_DIARY_RECORDS: u64 = 1_065_220;

/// Generator configuration: how many mothers, and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synth {
    pub subjects: u64,
    pub seed: u64,
}

/// One sign-up, as the club held it on 2017-05-01 (plus the 2018 re-consent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mother {
    /// "ED" + 8-digit zero-padded index+1, e.g. `ED00000001`.
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// e.g. "14 Ashgrove Road".
    pub address: String,
    pub town: String,
    /// UK-shaped, with the town's real postcode area, e.g. "LS6 2QT".
    pub postcode: String,
    pub mother_dob: NaiveDate,
    /// Set for expectant mothers: due 2017-05-01..=2017-12-31.
    pub due_date: Option<NaiveDate>,
    /// Youngest child, under 5 on 2017-05-01.
    pub child_dob: Option<NaiveDate>,
    /// Children (born) under 5 on 2017-05-01; 0 for a first pregnancy.
    pub children_under5: u8,
    /// 2015-01-01..=2017-04-30.
    pub signed_up: NaiveDate,
    pub consent_offers: bool,
    pub consent_partners: bool,
    /// Withdrawal of partner-sharing consent: after `signed_up`, before 2017-05-01.
    /// Only ever set when `consent_partners`.
    pub withdrew_partners: Option<NaiveDate>,
    /// Objection to direct marketing: after `signed_up`, before 2017-05-01.
    pub objected_dm: Option<NaiveDate>,
    /// Day of a fresh, informed consent to political campaigning,
    /// 2018-06-01..=2018-09-30. Never set when `objected_dm` is set.
    pub reconsents_political: Option<NaiveDate>,
}

/// Counts over what [`Synth::write_signups`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignupSummary {
    pub rows: u64,
    pub expectant: u64,
    pub with_child_under5: u64,
    pub consent_partners: u64,
    pub withdrew_partners: u64,
    pub objected_dm: u64,
    pub reconsents_political: u64,
}

// ---------------------------------------------------------------------------
// Shares. Reasoning:
// - Emma's Diary recruited mainly in pregnancy (antenatal packs) and kept
//   members until the child was 5, so about 40% are expectant on 2017-05-01
//   (due 2017-05..12); the rest have a child under 5. ~60% of UK births are
//   not first births, but the older sibling is under 5 for only about half of
//   those, so ~30% of expectant mothers also have a child under 5, and ~25% of
//   the non-expectant have a second one under 5.
// - Mother's age at sign-up 18-45, near-normal around 30.5 (UK mean maternal
//   age ~30), sd ~5, so roughly two thirds are 25-35.
// - consent_offers ~85% and consent_partners ~70%: in 2017 the boxes were
//   often pre-ticked; those who kept "offers" kept "partners" more often
//   (80% vs 13%, which averages to 70%).
// - ~8% of partner-consenters withdrew it before 2017-05-01; ~5% of all
//   objected to direct marketing; ~6% of all gave a fresh political consent in
//   the lawful 2018 alternative, drawn only among non-objectors (6/95).
// ---------------------------------------------------------------------------
const P_EXPECTANT: f64 = 0.40;
const P_EXPECTANT_OLDER_CHILD: f64 = 0.30;
const P_SECOND_CHILD: f64 = 0.25;
const P_SIGNED_UP_PREGNANT: f64 = 0.65;
const P_OFFERS: f64 = 0.85;
const P_PARTNERS_GIVEN_OFFERS: f64 = 0.80;
const P_PARTNERS_GIVEN_NO_OFFERS: f64 = (0.70 - 0.85 * 0.80) / 0.15;
const P_WITHDREW_GIVEN_PARTNERS: f64 = 0.08;
const P_OBJECTED: f64 = 0.05;
const P_RECONSENT_GIVEN_NO_OBJECTION: f64 = 0.06 / (1.0 - P_OBJECTED);

/// 2017-05-01: the day the 2017 disclosure is taken to happen.
fn cutoff() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 5, 1).unwrap()
}
fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn day_num(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64
}
fn from_num(n: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(n as i32).unwrap()
}

// --- randomness ------------------------------------------------------------

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct R(Pcg64Mcg);

impl R {
    fn new(seed: u64, i: u64) -> R {
        let k = seed ^ (i.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let a = splitmix64(k);
        let b = splitmix64(a ^ 0xD1B5_4A32_D192_ED03);
        R(Pcg64Mcg::new(((a as u128) << 64) | b as u128))
    }
    /// Uniform in 0..n (n > 0); multiply-high, bias < n/2^64.
    fn below(&mut self, n: u64) -> u64 {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(hi >= lo);
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Index into a list ordered by popularity: earlier entries more likely.
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u.sqrt()) * n as f64) as usize % n
    }
    fn weighted(&mut self, cumulative: &[u32]) -> usize {
        let total = *cumulative.last().unwrap() as u64;
        let x = self.below(total) as u32;
        cumulative.partition_point(|&c| c <= x)
    }
    fn date_between(&mut self, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
        from_num(self.range(day_num(lo), day_num(hi)))
    }
}

// --- the record, without allocation -----------------------------------------

#[derive(Clone, Copy)]
enum EmailStyle {
    Plain,
    Digits(u8),
    Year(u8),
}

#[derive(Clone, Copy)]
struct Raw {
    index: u64,
    first: &'static str,
    last: &'static str,
    email_style: EmailStyle,
    provider: &'static str,
    house: u16,
    street: &'static str,
    suffix: &'static str,
    town: &'static str,
    area: &'static str,
    district: u8,
    sector: u8,
    unit: [u8; 2],
    mother_dob: NaiveDate,
    due_date: Option<NaiveDate>,
    child_dob: Option<NaiveDate>,
    children_under5: u8,
    signed_up: NaiveDate,
    consent_offers: bool,
    consent_partners: bool,
    withdrew_partners: Option<NaiveDate>,
    objected_dm: Option<NaiveDate>,
    reconsents_political: Option<NaiveDate>,
}

const UNIT_LETTERS: &[u8; 20] = b"ABDEFGHJLNPQRSTUWXYZ";

fn cumulative<const N: usize>(w: [u32; N]) -> [u32; N] {
    let mut out = w;
    let mut acc = 0;
    for (o, x) in out.iter_mut().zip(w) {
        acc += x;
        *o = acc;
    }
    out
}

struct Tables {
    towns: [u32; TOWNS.len()],
    providers: [u32; PROVIDERS.len()],
}

fn tables() -> &'static Tables {
    static T: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    T.get_or_init(|| Tables {
        towns: cumulative(TOWNS.map(|t| t.3)),
        providers: cumulative(PROVIDERS.map(|p| p.1)),
    })
}

fn raw(seed: u64, i: u64) -> Raw {
    let t = tables();
    let mut r = R::new(seed, i);
    let cut = cutoff();
    let first_day = ymd(2015, 1, 1);
    let last_day = ymd(2017, 4, 30);

    let first = FIRST_NAMES[r.skewed(FIRST_NAMES.len())];
    let last = SURNAMES[r.skewed(SURNAMES.len())];
    let (town, area, max_district, _) = TOWNS[r.weighted(&t.towns)];
    let district = r.range(1, max_district as i64) as u8;
    let sector = r.below(10) as u8;
    let unit = [
        UNIT_LETTERS[r.below(20) as usize],
        UNIT_LETTERS[r.below(20) as usize],
    ];
    let house = if r.chance(0.8) {
        1 + r.below(60) as u16
    } else {
        61 + r.below(180) as u16
    };
    let street = STREETS[r.below(STREETS.len() as u64) as usize];
    let suffix = SUFFIXES[r.skewed(SUFFIXES.len())];
    let provider = PROVIDERS[r.weighted(&t.providers)].0;

    // Children and sign-up.
    let expectant = r.chance(P_EXPECTANT);
    let (due_date, child_dob, signed_up, mut children) = if expectant {
        let due = r.date_between(cut, ymd(2017, 12, 31));
        if r.chance(P_EXPECTANT_OLDER_CHILD) {
            // Older child born at least ~10 months before this due date.
            let hi = from_num(day_num(due) - 300).min(last_day);
            let child = r.date_between(ymd(2012, 5, 2), hi);
            let lo = from_num(day_num(child) - 250).max(first_day);
            (Some(due), Some(child), r.date_between(lo, last_day), 1)
        } else {
            // First pregnancy: signed up once pregnant (~6 weeks onwards).
            let lo = from_num(day_num(due) - 250).max(first_day);
            (Some(due), None, r.date_between(lo, last_day), 0)
        }
    } else {
        let su = r.date_between(first_day, last_day);
        let child = if r.chance(P_SIGNED_UP_PREGNANT) {
            let room = (day_num(last_day) - day_num(su)).min(250);
            from_num(day_num(su) + r.range(0, room))
        } else {
            // Joined after the birth, up to ~2.5 years later.
            from_num(day_num(su) - r.range(0, 900))
        };
        (None, Some(child), su, 1)
    };
    if child_dob.is_some() && r.chance(P_SECOND_CHILD) {
        children += 1;
    }

    // Mother's age at sign-up: Irwin-Hall(4) ≈ normal, mean 30.5, sd 5.
    let age_years = loop {
        let s = r.unit() + r.unit() + r.unit() + r.unit();
        let a = 30.5 + (s - 2.0) / 0.5774 * 5.0;
        if (18.0..46.0).contains(&a) {
            break a;
        }
    };
    let mother_dob = from_num(day_num(signed_up) - (age_years * 365.25) as i64);

    let email_style = match r.below(10) {
        0..=4 => EmailStyle::Plain,
        5..=7 => EmailStyle::Digits(r.below(100) as u8),
        _ => EmailStyle::Year((mother_dob.year() % 100) as u8),
    };

    let consent_offers = r.chance(P_OFFERS);
    let consent_partners = r.chance(if consent_offers {
        P_PARTNERS_GIVEN_OFFERS
    } else {
        P_PARTNERS_GIVEN_NO_OFFERS
    });
    let after_signup = |r: &mut R| -> Option<NaiveDate> {
        if signed_up < last_day {
            Some(r.date_between(signed_up.succ_opt().unwrap(), last_day))
        } else {
            None
        }
    };
    let withdrew_partners = if consent_partners && r.chance(P_WITHDREW_GIVEN_PARTNERS) {
        after_signup(&mut r)
    } else {
        None
    };
    let objected_dm = if r.chance(P_OBJECTED) {
        after_signup(&mut r)
    } else {
        None
    };
    let reconsents_political = if objected_dm.is_none() && r.chance(P_RECONSENT_GIVEN_NO_OBJECTION)
    {
        Some(r.date_between(ymd(2018, 6, 1), ymd(2018, 9, 30)))
    } else {
        None
    };

    Raw {
        index: i,
        first,
        last,
        email_style,
        provider,
        house,
        street,
        suffix,
        town,
        area,
        district,
        sector,
        unit,
        mother_dob,
        due_date,
        child_dob,
        children_under5: children,
        signed_up,
        consent_offers,
        consent_partners,
        withdrew_partners,
        objected_dm,
        reconsents_political,
    }
}

// --- formatting into reusable buffers ----------------------------------------

fn push_uint(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut p = tmp.len();
    loop {
        p -= 1;
        tmp[p] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[p..]);
}

/// "ED" + index+1 zero-padded to at least 8 digits (same as [`id_string`]).
fn id_bytes(i: u64, out: &mut [u8; 22]) -> &[u8] {
    let mut n = i + 1;
    let mut p = out.len();
    while n > 0 || out.len() - p < 8 {
        p -= 1;
        out[p] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out[p - 2] = b'E';
    out[p - 1] = b'D';
    &out[p - 2..]
}

fn id_string(i: u64) -> String {
    format!("ED{:08}", i + 1)
}

fn date_bytes(d: NaiveDate, out: &mut [u8; 10]) -> &[u8] {
    let y = d.year() as u32;
    let m = d.month();
    let day = d.day();
    out[0] = b'0' + (y / 1000 % 10) as u8;
    out[1] = b'0' + (y / 100 % 10) as u8;
    out[2] = b'0' + (y / 10 % 10) as u8;
    out[3] = b'0' + (y % 10) as u8;
    out[4] = b'-';
    out[5] = b'0' + (m / 10) as u8;
    out[6] = b'0' + (m % 10) as u8;
    out[7] = b'-';
    out[8] = b'0' + (day / 10) as u8;
    out[9] = b'0' + (day % 10) as u8;
    &out[..]
}

fn opt_date_bytes(d: Option<NaiveDate>, out: &mut [u8; 10]) -> &[u8] {
    match d {
        Some(d) => date_bytes(d, out),
        None => b"",
    }
}

fn push_email_part(buf: &mut Vec<u8>, s: &str) {
    buf.extend(
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase()),
    );
}

impl Raw {
    fn email(&self, buf: &mut Vec<u8>) {
        buf.clear();
        push_email_part(buf, self.first);
        buf.push(b'.');
        push_email_part(buf, self.last);
        match self.email_style {
            EmailStyle::Plain => {}
            EmailStyle::Digits(n) | EmailStyle::Year(n) => {
                buf.push(b'0' + n / 10);
                buf.push(b'0' + n % 10);
            }
        }
        buf.push(b'@');
        buf.extend_from_slice(self.provider.as_bytes());
    }
    fn address(&self, buf: &mut Vec<u8>) {
        buf.clear();
        push_uint(buf, self.house as u64);
        buf.push(b' ');
        buf.extend_from_slice(self.street.as_bytes());
        buf.push(b' ');
        buf.extend_from_slice(self.suffix.as_bytes());
    }
    fn postcode(&self, buf: &mut Vec<u8>) {
        buf.clear();
        buf.extend_from_slice(self.area.as_bytes());
        push_uint(buf, self.district as u64);
        buf.push(b' ');
        buf.push(b'0' + self.sector);
        buf.extend_from_slice(&self.unit);
    }
    fn to_mother(self) -> Mother {
        let mut b = Vec::with_capacity(48);
        let s = |b: &Vec<u8>| String::from_utf8(b.clone()).expect("ascii");
        self.email(&mut b);
        let email = s(&b);
        self.address(&mut b);
        let address = s(&b);
        self.postcode(&mut b);
        let postcode = s(&b);
        Mother {
            id: id_string(self.index),
            first_name: self.first.to_string(),
            last_name: self.last.to_string(),
            email,
            address,
            town: self.town.to_string(),
            postcode,
            mother_dob: self.mother_dob,
            due_date: self.due_date,
            child_dob: self.child_dob,
            children_under5: self.children_under5,
            signed_up: self.signed_up,
            consent_offers: self.consent_offers,
            consent_partners: self.consent_partners,
            withdrew_partners: self.withdrew_partners,
            objected_dm: self.objected_dm,
            reconsents_political: self.reconsents_political,
        }
    }
}

fn csv_writer<W: io::Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .buffer_capacity(64 * 1024)
        .from_writer(w)
}

fn io_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn finish<W: io::Write>(mut w: csv::Writer<W>) -> io::Result<()> {
    w.flush()?;
    Ok(())
}

fn yes_no(b: bool) -> &'static [u8] {
    if b {
        b"yes"
    } else {
        b"no"
    }
}

impl Synth {
    pub fn new(subjects: u64, seed: u64) -> Synth {
        Synth { subjects, seed }
    }

    /// The `i`-th mother (0-based): a pure function of `(seed, i)`,
    /// independent of `subjects`.
    pub fn mother(&self, i: u64) -> Mother {
        raw(self.seed, i).to_mother()
    }

    /// Sign-ups CSV. Header exactly:
    /// `member_id,first_name,last_name,email,address,town,postcode,mother_dob,due_date,child_dob,children_under5,signed_up,consent_offers,consent_partners`.
    /// Dates ISO (YYYY-MM-DD), empty when absent; consents "yes"/"no".
    /// Buffers internally (64 KiB); no BufWriter needed.
    pub fn write_signups<W: io::Write>(&self, w: W) -> io::Result<SignupSummary> {
        let mut out = csv_writer(w);
        out.write_record([
            "member_id",
            "first_name",
            "last_name",
            "email",
            "address",
            "town",
            "postcode",
            "mother_dob",
            "due_date",
            "child_dob",
            "children_under5",
            "signed_up",
            "consent_offers",
            "consent_partners",
        ])
        .map_err(io_err)?;
        let mut s = SignupSummary::default();
        let (mut email, mut addr, mut pc) = (Vec::new(), Vec::new(), Vec::new());
        let (mut id, mut d1, mut d2, mut d3, mut d4) =
            ([0u8; 22], [0u8; 10], [0u8; 10], [0u8; 10], [0u8; 10]);
        for i in 0..self.subjects {
            let m = raw(self.seed, i);
            m.email(&mut email);
            m.address(&mut addr);
            m.postcode(&mut pc);
            let kids = [b'0' + m.children_under5];
            out.write_record([
                id_bytes(i, &mut id),
                m.first.as_bytes(),
                m.last.as_bytes(),
                &email,
                &addr,
                m.town.as_bytes(),
                &pc,
                date_bytes(m.mother_dob, &mut d1),
                opt_date_bytes(m.due_date, &mut d2),
                opt_date_bytes(m.child_dob, &mut d3),
                &kids,
                date_bytes(m.signed_up, &mut d4),
                yes_no(m.consent_offers),
                yes_no(m.consent_partners),
            ])
            .map_err(io_err)?;
            s.rows += 1;
            s.expectant += m.due_date.is_some() as u64;
            s.with_child_under5 += (m.children_under5 > 0) as u64;
            s.consent_partners += m.consent_partners as u64;
            s.withdrew_partners += m.withdrew_partners.is_some() as u64;
            s.objected_dm += m.objected_dm.is_some() as u64;
            s.reconsents_political += m.reconsents_political.is_some() as u64;
        }
        finish(out)?;
        Ok(s)
    }

    /// Preference events before 2017-05-01, header `subject,action,purpose,at`:
    /// `withdraw,dpv:Marketing,<withdrew_partners>` and
    /// `object-direct-marketing,,<objected_dm>`. Ordered by subject, then date
    /// (a withdrawal first on a tie). Returns the number of data rows.
    pub fn write_preferences<W: io::Write>(&self, w: W) -> io::Result<u64> {
        let mut out = csv_writer(w);
        out.write_record(["subject", "action", "purpose", "at"])
            .map_err(io_err)?;
        let mut rows = 0;
        let (mut id, mut d) = ([0u8; 22], [0u8; 10]);
        for i in 0..self.subjects {
            let m = raw(self.seed, i);
            type Event = (NaiveDate, &'static [u8], &'static [u8]);
            let mut ev: [Option<Event>; 2] = [
                m.withdrew_partners
                    .map(|at| (at, &b"withdraw"[..], &b"dpv:Marketing"[..])),
                m.objected_dm
                    .map(|at| (at, &b"object-direct-marketing"[..], &b""[..])),
            ];
            if matches!(&ev, [Some(a), Some(b)] if b.0 < a.0) {
                ev.swap(0, 1);
            }
            for (at, action, purpose) in ev.into_iter().flatten() {
                out.write_record([
                    id_bytes(i, &mut id),
                    action,
                    purpose,
                    date_bytes(at, &mut d),
                ])
                .map_err(io_err)?;
                rows += 1;
            }
        }
        finish(out)?;
        Ok(rows)
    }

    /// Re-consents for the lawful alternative (2018), header
    /// `subject,action,purpose,at,notice`: `give,dpv:PoliticalCampaign,<date>,2018-05`
    /// for each mother with `reconsents_political`. Returns the number of data rows.
    pub fn write_reconsents<W: io::Write>(&self, w: W) -> io::Result<u64> {
        let mut out = csv_writer(w);
        out.write_record(["subject", "action", "purpose", "at", "notice"])
            .map_err(io_err)?;
        let mut rows = 0;
        let (mut id, mut d) = ([0u8; 22], [0u8; 10]);
        for i in 0..self.subjects {
            let m = raw(self.seed, i);
            if let Some(at) = m.reconsents_political {
                out.write_record([
                    id_bytes(i, &mut id),
                    b"give",
                    b"dpv:PoliticalCampaign",
                    date_bytes(at, &mut d),
                    b"2018-05",
                ])
                .map_err(io_err)?;
                rows += 1;
            }
        }
        finish(out)?;
        Ok(rows)
    }

    /// Subject-id list (header `subject`) of every mother: what a 2017
    /// disclosure file lists. Returns the number of data rows.
    pub fn write_subject_list<W: io::Write>(&self, w: W) -> io::Result<u64> {
        let mut out = csv_writer(w);
        out.write_record(["subject"]).map_err(io_err)?;
        let mut id = [0u8; 22];
        for i in 0..self.subjects {
            out.write_record([id_bytes(i, &mut id)]).map_err(io_err)?;
        }
        finish(out)?;
        Ok(self.subjects)
    }
}

// --- embedded lists -----------------------------------------------------------

/// Common first names of UK mothers born 1972-1999, roughly by popularity.
const FIRST_NAMES: &[&str] = &[
    "Sarah",
    "Laura",
    "Emma",
    "Rebecca",
    "Gemma",
    "Claire",
    "Lisa",
    "Hannah",
    "Amy",
    "Charlotte",
    "Rachel",
    "Jessica",
    "Lauren",
    "Katie",
    "Sophie",
    "Emily",
    "Nicola",
    "Kelly",
    "Stacey",
    "Jennifer",
    "Louise",
    "Victoria",
    "Samantha",
    "Natalie",
    "Zoe",
    "Amanda",
    "Helen",
    "Kirsty",
    "Danielle",
    "Leanne",
    "Hayley",
    "Jade",
    "Michelle",
    "Joanne",
    "Kerry",
    "Catherine",
    "Elizabeth",
    "Lucy",
    "Georgina",
    "Holly",
    "Chloe",
    "Megan",
    "Abigail",
    "Stephanie",
    "Alice",
    "Eleanor",
    "Jodie",
    "Kimberley",
    "Vicky",
    "Carly",
    "Katherine",
    "Anna",
    "Lindsey",
    "Donna",
    "Julie",
    "Karen",
    "Angela",
    "Caroline",
    "Fiona",
    "Joanna",
    "Kate",
    "Melissa",
    "Naomi",
    "Natasha",
    "Rosie",
    "Ruth",
    "Kayleigh",
    "Leah",
    "Lydia",
    "Melanie",
    "Jenna",
    "Kathryn",
    "Alison",
    "Heather",
    "Harriet",
    "Imogen",
    "Bryony",
    "Francesca",
    "Jasmine",
    "Olivia",
    "Sian",
    "Siobhan",
    "Aoife",
    "Ciara",
    "Niamh",
    "Sinead",
    "Roisin",
    "Caitlin",
    "Grainne",
    "Orla",
    "Eilidh",
    "Kirsten",
    "Morag",
    "Mhairi",
    "Shona",
    "Ailsa",
    "Iona",
    "Bethan",
    "Carys",
    "Cerys",
    "Ffion",
    "Rhian",
    "Lowri",
    "Nia",
    "Seren",
    "Priya",
    "Aisha",
    "Fatima",
    "Ayesha",
    "Sana",
    "Nadia",
    "Zara",
    "Amina",
    "Saima",
    "Shabana",
    "Sadia",
    "Anjali",
    "Pooja",
    "Simran",
    "Harpreet",
    "Nisha",
    "Sunita",
    "Rukhsana",
    "Tasnim",
    "Agnieszka",
    "Katarzyna",
    "Magdalena",
    "Monika",
    "Ewa",
    "Marta",
    "Aleksandra",
    "Paulina",
    "Justyna",
    "Chantelle",
    "Shanice",
    "Tanisha",
    "Keisha",
    "Abena",
    "Adwoa",
    "Chioma",
    "Ngozi",
    "Funmi",
    "Blessing",
    "Grace",
    "Esther",
    "Yetunde",
    "Amara",
    "Freya",
    "Eloise",
    "Gabriella",
    "Isabel",
    "Maria",
    "Paula",
    "Toni",
    "Vanessa",
];

/// Common UK surnames, roughly by frequency, with Welsh, Scottish, Irish,
/// South Asian, Polish (female forms), Caribbean and West African names.
const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "Campbell",
    "Matthews",
    "Owen",
    "Palmer",
    "Holmes",
    "Mills",
    "Barnes",
    "Knight",
    "Lloyd",
    "Butler",
    "Russell",
    "Barker",
    "Fisher",
    "Stevens",
    "Jenkins",
    "Murray",
    "Dixon",
    "Harvey",
    "Graham",
    "Pearson",
    "Ahmed",
    "Fletcher",
    "Walsh",
    "Kaur",
    "Gibson",
    "Howard",
    "Andrews",
    "Stewart",
    "Elliott",
    "Reynolds",
    "Saunders",
    "Payne",
    "Fox",
    "Ford",
    "Pearce",
    "Day",
    "Brooks",
    "West",
    "Lawrence",
    "Cole",
    "Atkinson",
    "Bradley",
    "Spencer",
    "Gill",
    "Dawson",
    "Ball",
    "Burton",
    "O'Brien",
    "Watts",
    "Rose",
    "Booth",
    "Perry",
    "Ryan",
    "Grant",
    "Wells",
    "Armstrong",
    "Francis",
    "Rees",
    "Hayes",
    "Hart",
    "Hudson",
    "Newman",
    "Barrett",
    "Webster",
    "Hunter",
    "Gregory",
    "Carr",
    "Lowe",
    "Robertson",
    "Reid",
    "Kennedy",
    "Shah",
    "Henderson",
    "Parry",
    "Byrne",
    "McDonald",
    "O'Connor",
    "O'Neill",
    "Doyle",
    "McCarthy",
    "Gallagher",
    "Doherty",
    "Lynch",
    "Quinn",
    "Brennan",
    "Nolan",
    "Maguire",
    "Fraser",
    "Ross",
    "Hamilton",
    "Morrison",
    "MacLeod",
    "Paterson",
    "Kerr",
    "McLean",
    "Sinclair",
    "Vaughan",
    "Pugh",
    "Pritchard",
    "Howells",
    "Prosser",
    "Akhtar",
    "Bibi",
    "Iqbal",
    "Rahman",
    "Mahmood",
    "Sharma",
    "Chowdhury",
    "Mistry",
    "Sandhu",
    "Kumar",
    "Islam",
    "Uddin",
    "Malik",
    "Parmar",
    "Nowak",
    "Kowalska",
    "Wisniewska",
    "Wojcik",
    "Kaminska",
    "Lewandowska",
    "Zielinska",
    "Forbes",
    "McKenzie",
    "Samuels",
    "Henry",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Boateng",
    "Owusu",
    "Asante",
    "Okonkwo",
    "Adebayo",
    "Osei",
    "Nwosu",
];

const STREETS: &[&str] = &[
    "Ashgrove",
    "Church",
    "Station",
    "Victoria",
    "Park",
    "Queens",
    "Kings",
    "Mill",
    "Manor",
    "Albert",
    "Highfield",
    "Springfield",
    "Windsor",
    "Grange",
    "Orchard",
    "Meadow",
    "Chestnut",
    "Beech",
    "Oak",
    "Elm",
    "Willow",
    "Cedar",
    "Maple",
    "Hawthorn",
    "Holly",
    "Rowan",
    "Birch",
    "Ash",
    "Sycamore",
    "Laburnum",
    "Lime",
    "Poplar",
    "Alder",
    "Hazel",
    "Heather",
    "Primrose",
    "Bluebell",
    "Foxglove",
    "Clover",
    "Lavender",
    "Rose",
    "Daisy",
    "Brook",
    "River",
    "Bridge",
    "Castle",
    "Abbey",
    "Priory",
    "Chapel",
    "Vicarage",
    "Rectory",
    "School",
    "Market",
    "Bank",
    "North",
    "South",
    "East",
    "West",
    "Green",
    "Hill",
    "Valley",
    "Forest",
    "Woodland",
    "Fairfield",
    "Westfield",
    "Northfield",
    "Southfield",
    "Broad",
    "Harrow",
    "Marlborough",
    "Cambridge",
    "Oxford",
    "York",
    "Lancaster",
    "Warwick",
    "Stanley",
    "Nelson",
    "Wellington",
    "Trafalgar",
    "Waterloo",
    "Balmoral",
    "Sandringham",
    "Clarence",
    "Alexandra",
    "Richmond",
    "Salisbury",
    "Devonshire",
    "Cavendish",
    "Grosvenor",
    "Belmont",
    "Beaumont",
    "Hamilton",
    "Douglas",
    "Glendower",
    "Milton",
    "Shakespeare",
    "Byron",
    "Tennyson",
    "Chaucer",
    "Wordsworth",
    "Dickens",
    "Kipling",
    "Brunel",
    "Telford",
    "Stephenson",
    "Darwin",
    "Newton",
    "Faraday",
    "Nightingale",
    "Jubilee",
    "Coronation",
    "Carlton",
    "Clifton",
    "Ashfield",
    "Brookfield",
    "Moorland",
    "Heathfield",
    "Lark",
    "Kestrel",
    "Wren",
];

/// Ordered by frequency ("Road" and "Street" dominate UK addresses).
const SUFFIXES: &[&str] = &[
    "Road", "Street", "Avenue", "Close", "Lane", "Drive", "Way", "Crescent", "Gardens", "Grove",
];

/// (town, real postcode area, highest district used, weight ~ population in 10k).
const TOWNS: [(&str, &str, u8, u32); 64] = [
    ("London", "E", 18, 90),
    ("London", "N", 22, 80),
    ("London", "NW", 11, 60),
    ("London", "SE", 28, 90),
    ("London", "SW", 20, 90),
    ("London", "W", 14, 60),
    ("Croydon", "CR", 8, 38),
    ("Ilford", "IG", 11, 30),
    ("Romford", "RM", 20, 30),
    ("Harrow", "HA", 9, 25),
    ("Kingston upon Thames", "KT", 24, 25),
    ("Enfield", "EN", 11, 25),
    ("Birmingham", "B", 30, 114),
    ("Manchester", "M", 30, 55),
    ("Leeds", "LS", 29, 78),
    ("Glasgow", "G", 30, 62),
    ("Sheffield", "S", 30, 58),
    ("Bradford", "BD", 24, 53),
    ("Liverpool", "L", 30, 49),
    ("Edinburgh", "EH", 30, 51),
    ("Bristol", "BS", 30, 46),
    ("Cardiff", "CF", 30, 36),
    ("Belfast", "BT", 17, 34),
    ("Leicester", "LE", 19, 35),
    ("Coventry", "CV", 13, 36),
    ("Nottingham", "NG", 25, 32),
    ("Newcastle upon Tyne", "NE", 30, 30),
    ("Sunderland", "SR", 8, 28),
    ("Hull", "HU", 17, 26),
    ("Plymouth", "PL", 30, 26),
    ("Stoke-on-Trent", "ST", 21, 25),
    ("Wolverhampton", "WV", 16, 26),
    ("Derby", "DE", 24, 25),
    ("Swansea", "SA", 30, 24),
    ("Southampton", "SO", 30, 25),
    ("Portsmouth", "PO", 22, 21),
    ("Aberdeen", "AB", 25, 22),
    ("Dundee", "DD", 11, 15),
    ("Reading", "RG", 30, 23),
    ("Luton", "LU", 7, 21),
    ("Milton Keynes", "MK", 19, 26),
    ("Northampton", "NN", 18, 22),
    ("Norwich", "NR", 30, 20),
    ("Brighton", "BN", 27, 29),
    ("Bournemouth", "BH", 25, 19),
    ("Swindon", "SN", 26, 22),
    ("Peterborough", "PE", 30, 20),
    ("Oxford", "OX", 29, 15),
    ("Cambridge", "CB", 25, 12),
    ("York", "YO", 30, 20),
    ("Exeter", "EX", 30, 13),
    ("Gloucester", "GL", 20, 13),
    ("Ipswich", "IP", 30, 14),
    ("Preston", "PR", 26, 14),
    ("Bolton", "BL", 9, 28),
    ("Stockport", "SK", 23, 29),
    ("Huddersfield", "HD", 9, 16),
    ("Doncaster", "DN", 22, 30),
    ("Middlesbrough", "TS", 29, 14),
    ("Warrington", "WA", 16, 21),
    ("Chelmsford", "CM", 24, 17),
    ("Southend-on-Sea", "SS", 17, 18),
    ("Newport", "NP", 26, 15),
    ("Wigan", "WN", 8, 11),
];

/// (provider, weight in %): UK consumer webmail shares c. 2016.
const PROVIDERS: [(&str, u32); 10] = [
    ("gmail.com", 30),
    ("hotmail.co.uk", 20),
    ("yahoo.co.uk", 10),
    ("outlook.com", 8),
    ("hotmail.com", 8),
    ("btinternet.com", 6),
    ("icloud.com", 6),
    ("live.co.uk", 6),
    ("sky.com", 4),
    ("aol.com", 2),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn to_string<F: FnOnce(&mut Vec<u8>)>(f: F) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }
    fn signups(s: &Synth) -> String {
        to_string(|v| {
            s.write_signups(v).unwrap();
        })
    }

    /// ^[A-Z]{1,2}[0-9]{1,2} [0-9][ABD-HJLNP-UW-Z]{2}$
    fn uk_postcode(p: &str) -> bool {
        let b = p.as_bytes();
        let Some(sp) = p.find(' ') else { return false };
        let (out, inw) = (&b[..sp], &b[sp + 1..]);
        let letters = out.iter().take_while(|c| c.is_ascii_uppercase()).count();
        let digits = out.len() - letters;
        (1..=2).contains(&letters)
            && (1..=2).contains(&digits)
            && out[letters..].iter().all(u8::is_ascii_digit)
            && inw.len() == 3
            && inw[0].is_ascii_digit()
            && inw[1..].iter().all(|c| UNIT_LETTERS.contains(c))
    }

    #[test]
    fn postcode_matcher_itself() {
        assert!(uk_postcode("LS6 2QT"));
        assert!(uk_postcode("SW19 4AB"));
        assert!(!uk_postcode("LS6 2QC"));
        assert!(!uk_postcode("6LS 2QT"));
        assert!(!uk_postcode("LS123 2QT"));
        assert!(!uk_postcode("LS6 QT"));
    }

    #[test]
    fn ids_and_headers() {
        let s = Synth::new(3, 1);
        assert_eq!(s.mother(0).id, "ED00000001");
        let mut b = [0u8; 22];
        assert_eq!(id_bytes(41, &mut b), b"ED00000042");
        assert_eq!(id_bytes(99_999_999, &mut b), b"ED100000000");
        assert_eq!(id_string(99_999_999), "ED100000000");
        assert_eq!(id_bytes(0, &mut b), b"ED00000001");
        let out = signups(&s);
        assert!(out.starts_with("member_id,first_name,last_name,email,address,town,postcode,mother_dob,due_date,child_dob,children_under5,signed_up,consent_offers,consent_partners\n"));
        assert!(out.lines().nth(1).unwrap().starts_with("ED00000001,"));
        let p = to_string(|v| {
            s.write_preferences(v).unwrap();
        });
        assert!(p.starts_with("subject,action,purpose,at\n"));
        let r = to_string(|v| {
            s.write_reconsents(v).unwrap();
        });
        assert!(r.starts_with("subject,action,purpose,at,notice\n"));
        let l = to_string(|v| {
            s.write_subject_list(v).unwrap();
        });
        assert_eq!(l, "subject\nED00000001\nED00000002\nED00000003\n");
    }

    #[test]
    fn signup_row_matches_mother() {
        let s = Synth::new(50, 9);
        let out = signups(&s);
        let mut rd = csv::Reader::from_reader(out.as_bytes());
        for (i, rec) in rd.records().enumerate() {
            let rec = rec.unwrap();
            let m = s.mother(i as u64);
            let d = |o: Option<NaiveDate>| o.map(|d| d.to_string()).unwrap_or_default();
            let yn = |b: bool| if b { "yes" } else { "no" };
            let expect = vec![
                m.id.clone(),
                m.first_name.clone(),
                m.last_name.clone(),
                m.email.clone(),
                m.address.clone(),
                m.town.clone(),
                m.postcode.clone(),
                m.mother_dob.to_string(),
                d(m.due_date),
                d(m.child_dob),
                m.children_under5.to_string(),
                m.signed_up.to_string(),
                yn(m.consent_offers).into(),
                yn(m.consent_partners).into(),
            ];
            assert_eq!(rec.iter().collect::<Vec<_>>(), expect);
        }
    }

    #[test]
    fn determinism() {
        let a = Synth::new(1000, 42);
        assert_eq!(signups(&a), signups(&a));
        assert_ne!(signups(&a), signups(&Synth::new(1000, 43)));
        let small = signups(&Synth::new(10, 42));
        let big = signups(&a);
        let first11: Vec<_> = big.lines().take(11).collect();
        assert_eq!(small.lines().collect::<Vec<_>>(), first11);
        assert_eq!(a.mother(7), Synth::new(8, 42).mother(7));
        // Neighbouring indices are not near-copies.
        assert_ne!(a.mother(0).email, a.mother(1).email);
    }

    #[test]
    fn consistency() {
        let s = Synth::new(20_000, 7);
        let cut = cutoff();
        let ids: HashSet<String> = (0..s.subjects).map(|i| s.mother(i).id).collect();
        let mut by_id: HashMap<String, Mother> = HashMap::new();
        for i in 0..s.subjects {
            let m = s.mother(i);
            assert!(uk_postcode(&m.postcode), "{}", m.postcode);
            assert!(m.signed_up >= ymd(2015, 1, 1) && m.signed_up < cut);
            if let Some(c) = m.child_dob {
                assert!(c > ymd(2012, 5, 1) && c < cut, "child {c}");
                assert!(m.children_under5 >= 1);
            } else {
                assert_eq!(m.children_under5, 0);
                assert!(m.due_date.is_some());
            }
            if let Some(d) = m.due_date {
                assert!(d >= cut && d <= ymd(2017, 12, 31));
            }
            let age = m.signed_up.years_since(m.mother_dob).unwrap();
            assert!((18..=45).contains(&age), "age {age}");
            if let Some(w) = m.withdrew_partners {
                assert!(m.consent_partners && w > m.signed_up && w < cut);
            }
            if let Some(o) = m.objected_dm {
                assert!(o > m.signed_up && o < cut);
                assert!(m.reconsents_political.is_none());
            }
            if let Some(r) = m.reconsents_political {
                assert!(r >= ymd(2018, 6, 1) && r <= ymd(2018, 9, 30));
            }
            assert!(
                m.email.is_ascii() && m.email.contains('@') && m.email == m.email.to_lowercase()
            );
            by_id.insert(m.id.clone(), m);
        }
        let prefs = to_string(|v| {
            s.write_preferences(v).unwrap();
        });
        let mut rd = csv::Reader::from_reader(prefs.as_bytes());
        let mut last: Option<(String, String)> = None;
        let mut n = 0;
        for rec in rd.records() {
            let rec = rec.unwrap();
            let (subj, action, purpose, at) = (&rec[0], &rec[1], &rec[2], &rec[3]);
            assert!(ids.contains(subj));
            let m = &by_id[subj];
            let at_d: NaiveDate = at.parse().unwrap();
            match action {
                "withdraw" => {
                    assert_eq!(purpose, "dpv:Marketing");
                    assert_eq!(m.withdrew_partners, Some(at_d));
                }
                "object-direct-marketing" => {
                    assert_eq!(purpose, "");
                    assert_eq!(m.objected_dm, Some(at_d));
                }
                other => panic!("action {other}"),
            }
            let key = (subj.to_string(), at.to_string());
            if let Some(prev) = &last {
                assert!(*prev <= key, "order {prev:?} then {key:?}");
            }
            last = Some(key);
            n += 1;
        }
        let expected: usize = by_id
            .values()
            .map(|m| m.withdrew_partners.is_some() as usize + m.objected_dm.is_some() as usize)
            .sum();
        assert_eq!(n, expected);

        let rec = to_string(|v| {
            s.write_reconsents(v).unwrap();
        });
        let mut rd = csv::Reader::from_reader(rec.as_bytes());
        let mut n = 0;
        for r in rd.records() {
            let r = r.unwrap();
            assert!(ids.contains(&r[0]));
            let m = &by_id[&r[0]];
            assert!(m.objected_dm.is_none());
            assert_eq!(m.reconsents_political, Some(r[3].parse().unwrap()));
            assert_eq!(
                (&r[1], &r[2], &r[4]),
                ("give", "dpv:PoliticalCampaign", "2018-05")
            );
            n += 1;
        }
        assert_eq!(
            n,
            by_id
                .values()
                .filter(|m| m.reconsents_political.is_some())
                .count()
        );
    }

    #[test]
    fn shares_on_100k() {
        let s = Synth::new(100_000, 2017);
        let sum = s.write_signups(io::sink()).unwrap();
        let n = sum.rows as f64;
        let share = |x: u64| x as f64 / n;
        let near = |name: &str, got: f64, want: f64| {
            assert!((got - want).abs() < 0.02, "{name}: {got:.4} vs {want}");
        };
        near("expectant", share(sum.expectant), 0.40);
        near("consent_partners", share(sum.consent_partners), 0.70);
        near(
            "withdrew|partners",
            sum.withdrew_partners as f64 / sum.consent_partners as f64,
            0.08,
        );
        near("objected_dm", share(sum.objected_dm), 0.05);
        near("reconsents", share(sum.reconsents_political), 0.06);
        near(
            "with_child_under5",
            share(sum.with_child_under5),
            0.60 + 0.40 * 0.30,
        );
        let (mut offers, mut age25_35) = (0u64, 0u64);
        for i in 0..20_000 {
            let m = s.mother(i);
            offers += m.consent_offers as u64;
            let a = m.signed_up.years_since(m.mother_dob).unwrap();
            age25_35 += (25..35).contains(&a) as u64;
        }
        near("offers", offers as f64 / 20_000.0, 0.85);
        let a = age25_35 as f64 / 20_000.0;
        assert!((0.55..0.75).contains(&a), "25-35: {a}");
    }

    #[test]
    fn lists_are_clean() {
        for l in [FIRST_NAMES, SURNAMES, STREETS] {
            let set: HashSet<_> = l.iter().collect();
            assert_eq!(set.len(), l.len(), "duplicates");
            assert!(l.iter().all(|s| s.is_ascii() && !s.contains(',')));
        }
        assert!(FIRST_NAMES.len() >= 150 && SURNAMES.len() >= 200 && STREETS.len() >= 120);
        assert!(TOWNS
            .iter()
            .all(|t| t.1.len() <= 2 && t.1.bytes().all(|c| c.is_ascii_uppercase())));
    }
}
