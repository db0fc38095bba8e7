//! What people and scripts see: aligned, concise tables, or JSON with `--json`.

use std::path::Path;

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use custody_core::notice::check::{Finding, Severity};
use custody_core::notice::{Notice, NoticeDiff};
use custody_core::reason::Reason;
use custody_core::recipient;
use custody_core::vocab::{TermId, TermKind, Vocabulary};
use custody_core::Organisation;
use custody_engine::audit::Audit;
use custody_engine::collection::Collected;
use custody_engine::disclosure::{ReasonCount, ShareReport};
use custody_engine::history::Imported;
use custody_engine::screen::ScreenReport;
use custody_engine::trace::Trace;
use serde::Serialize;
use serde_json::json;

pub fn print_json<T: Serialize + ?Sized>(v: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("output serialises")
    );
}

pub use custody_core::figure::counted as count;

/// What `notice check` found, one line each, errors first.
pub fn findings(file: &Path, notice: &Notice, findings: &[Finding], as_json: bool) {
    if as_json {
        return print_json(&json!({
            "file": file.display().to_string(), "version": notice.version,
            "content_hash": notice.content_hash, "findings": findings,
        }));
    }
    for f in findings {
        println!("{}: {f}", file.display());
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    println!(
        "{}: notice version {}: {}, {}",
        file.display(),
        notice.version,
        count(errors, "error"),
        count(findings.len() - errors, "warning")
    );
}

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t.set_header(header.iter().map(|h| Cell::new(h.to_uppercase())));
    t
}

pub use custody_core::figure::grouped as num;

fn right(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

pub fn reasons(as_json: bool) {
    if as_json {
        let all: Vec<_> = Reason::ALL
            .iter()
            .map(|r| json!({"id": r.id(), "message": r.message(), "provisions": r.provisions()}))
            .collect();
        return print_json(&all);
    }
    let mut t = table(&["reason", "message", "provisions"]);
    for r in Reason::ALL {
        t.add_row(vec![
            r.id().to_string(),
            r.message().to_string(),
            r.provisions().join("; "),
        ]);
    }
    println!("{t}");
}

pub fn orgs(orgs: &[Organisation], as_json: bool) {
    if as_json {
        return print_json(orgs);
    }
    let mut t = table(&["id", "name", "role", "recipient categories"]);
    for o in orgs {
        let cats: Vec<&str> = o.categories.iter().map(|c| c.as_str()).collect();
        t.add_row(vec![
            o.id.clone(),
            o.name.clone(),
            o.role.as_str().into(),
            cats.join(", "),
        ]);
    }
    println!("{t}");
}

/// What `vocab search` found: terms, then recipient categories (which a
/// notice names in `recipients.categories`), best first.
pub fn search(vocab: &Vocabulary, text: &str, kind: Option<TermKind>, limit: usize, as_json: bool) {
    let terms: Vec<&custody_core::vocab::Term> = vocab
        .search(text, kind)
        .into_iter()
        .take(limit)
        .map(|id| vocab.term(id))
        .collect();
    let words: Vec<String> = text
        .to_lowercase()
        .split_whitespace()
        .map(String::from)
        .collect();
    let categories: Vec<&recipient::Known> = recipient::KNOWN
        .iter()
        .filter(|_| kind.is_none())
        .filter(|k| {
            let hay = format!("{} {}", k.slug.replace('-', " "), k.label.to_lowercase());
            !words.is_empty() && words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    if as_json {
        return print_json(&json!({
            "terms": terms.iter().map(|t| json!({
                "key": t.key, "kind": t.kind, "label": t.label, "vocabulary": t.source.to_string(),
            })).collect::<Vec<_>>(),
            "recipient_categories": categories,
        }));
    }
    if terms.is_empty() && categories.is_empty() {
        println!("no term or recipient category holds every word of `{text}`");
        return;
    }
    let mut t = table(&["key", "kind", "label", "vocabulary"]);
    for term in &terms {
        t.add_row(vec![
            term.key.clone(),
            term.kind.to_string(),
            term.label.clone(),
            term.source.to_string(),
        ]);
    }
    for k in &categories {
        t.add_row(vec![
            k.slug.to_string(),
            "recipient-category".into(),
            k.label.to_string(),
            match k.dpv_match {
                recipient::Match::Exact => format!("custody, = DPV {}", k.dpv),
                recipient::Match::Broader => format!("custody, under DPV {}", k.dpv),
            },
        ]);
    }
    println!("{t}");
}

pub fn term(vocab: &Vocabulary, id: TermId, as_json: bool) {
    let t = vocab.term(id);
    let keys = |ids: Vec<TermId>| {
        ids.into_iter()
            .map(|i| vocab.term(i).key.clone())
            .collect::<Vec<_>>()
    };
    let parents = keys(t.parents.clone());
    let ancestors = keys(vocab.ancestors(id));
    let descendants = keys(vocab.descendants(id));
    let explicit = vocab
        .explicit_purposes()
        .iter()
        .find(|e| vocab.is_ancestor_or_self(e.term, id));
    let same_as: Vec<(String, &str)> = vocab
        .links()
        .iter()
        .filter_map(|l| match l.terms {
            [a, b] if a == id => Some((vocab.term(b).key.clone(), l.why.as_str())),
            [a, b] if b == id => Some((vocab.term(a).key.clone(), l.why.as_str())),
            _ => None,
        })
        .collect();
    if as_json {
        return print_json(&json!({
            "key": t.key, "kind": t.kind, "label": t.label, "definition": t.definition, "iri": t.iri,
            "source": t.source, "parents": parents, "ancestors": ancestors, "descendants": descendants,
            "special_category": vocab.is_special_category(id), "childrens_data": vocab.is_childrens_data(id),
            "must_be_named": explicit.map(|e| json!({"because_of": vocab.term(e.term).key, "reason": e.reason})),
            "same_as": same_as.iter().map(|(k, why)| json!({"term": k, "why": why})).collect::<Vec<_>>(),
        }));
    }
    println!("{}  {} ({})", t.key, t.label, t.kind);
    if !t.definition.is_empty() {
        println!("  {}", t.definition);
    }
    if let Some(iri) = &t.iri {
        println!("  {iri}");
    }
    let mut flags = Vec::new();
    if vocab.is_special_category(id) {
        flags.push("special category (UK GDPR Art 9)");
    }
    if vocab.is_childrens_data(id) {
        flags.push("children's data");
    }
    if !flags.is_empty() {
        println!("  flags: {}", flags.join(", "));
    }
    for (key, why) in &same_as {
        println!("  same as {key} (vocab/links.toml): {why}");
    }
    if let Some(e) = explicit {
        println!(
            "  must be named explicitly (under {}): {}",
            vocab.term(e.term).key,
            e.reason
        );
    }
    println!(
        "  parents:     {}",
        if parents.is_empty() {
            "-".into()
        } else {
            parents.join(", ")
        }
    );
    println!(
        "  ancestors:   {}",
        if ancestors.is_empty() {
            "-".into()
        } else {
            ancestors.join(", ")
        }
    );
    println!(
        "  descendants: {}",
        if descendants.is_empty() {
            "-".into()
        } else {
            descendants.join(", ")
        }
    );
}

pub fn explicit(vocab: &Vocabulary, as_json: bool) {
    let rows: Vec<_> = vocab
        .explicit_purposes()
        .iter()
        .map(|e| (vocab.term(e.term).key.clone(), e.reason.clone()))
        .collect();
    if as_json {
        let v: Vec<_> = rows
            .iter()
            .map(|(k, r)| json!({"term": k, "reason": r}))
            .collect();
        return print_json(&v);
    }
    let mut t = table(&["purpose (and everything under it)", "why it must be named"]);
    for (k, r) in rows {
        t.add_row(vec![k, r]);
    }
    println!("{t}");
}

pub fn notice(vocab: &Vocabulary, n: &Notice, as_json: bool) {
    if as_json {
        return print_json(&json!({
            "org": n.org, "version": n.version, "effective": n.effective_text(),
            "content_hash": n.content_hash, "notice": n.source,
        }));
    }
    println!(
        "{} notice version {}  effective {}  sha256 {}",
        n.org,
        n.version,
        n.effective_text(),
        n.content_hash
    );
    if let Some(t) = &n.source.title {
        println!("{t}");
    }
    if let Some(u) = &n.source.url {
        println!("{u}");
    }
    if let Some(text) = &n.source.text {
        println!("\n  \"{}\"\n", text.trim());
    }
    let mut t = table(&[
        "declaration",
        "purposes",
        "data categories",
        "basis",
        "recipients",
        "retention",
    ]);
    for (d, s) in n.declarations.iter().zip(&n.source.declarations) {
        let keys = |ids: &[TermId]| {
            ids.iter()
                .map(|i| vocab.term(*i).key.clone())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let recipients = d.recipients();
        let mut basis = d.basis.to_string();
        if let Some(c) = d.special_condition {
            basis.push_str(&format!("\n+ {}", c.provision()));
        }
        t.add_row(vec![
            d.id.clone(),
            keys(&d.purposes),
            keys(&d.categories),
            basis,
            if recipients.is_empty() {
                "-".into()
            } else {
                recipients.join("\n")
            },
            s.retention.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("{t}");
}

pub fn notice_list(ns: &[Notice], as_json: bool) {
    if as_json {
        let v: Vec<_> = ns
            .iter()
            .map(|n| json!({"version": n.version, "effective": n.effective_text(), "declarations": n.declarations.len(), "content_hash": n.content_hash}))
            .collect();
        return print_json(&v);
    }
    let mut t = table(&["version", "effective", "declarations", "sha256"]);
    for n in ns {
        t.add_row(vec![
            n.version.clone(),
            n.effective_text(),
            n.declarations.len().to_string(),
            n.content_hash[..16].to_string(),
        ]);
    }
    println!("{t}");
}

pub fn diff(d: &NoticeDiff, as_json: bool) {
    if as_json {
        return print_json(d);
    }
    println!("notice version {} -> version {}", d.from, d.to);
    if d.is_empty() {
        println!("  no change in what is declared or said");
    }
    for w in &d.wording {
        match (&w.from, &w.to) {
            (Some(a), Some(b)) if w.field == "text" => {
                println!("  text ([-removed-] {{+added+}}):");
                println!("    {}", word_diff(a, b));
            }
            (a, b) => println!(
                "  {}: {} -> {}",
                w.field,
                a.as_deref().unwrap_or("(none)"),
                b.as_deref().unwrap_or("(none)")
            ),
        }
    }
    for id in &d.added_declarations {
        println!("  + declaration {id}");
    }
    for id in &d.dropped_declarations {
        println!("  - declaration {id}");
    }
    for c in &d.changed {
        println!("  declaration {}:", c.declaration);
        for (facet, v) in &c.added {
            println!("    + {facet}: {v}");
        }
        for (facet, v) in &c.dropped {
            println!("    - {facet}: {v}");
        }
    }
}

/// Two texts' words, with what was removed in `[-...-]` and what was added
/// in `{+...+}` (the marks of `git diff --word-diff`).
fn word_diff(old: &str, new: &str) -> String {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_words(old, new);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let v = change.value();
        match change.tag() {
            ChangeTag::Equal => out.push_str(v),
            ChangeTag::Delete => out.push_str(&format!("[-{v}-]")),
            ChangeTag::Insert => out.push_str(&format!("{{+{v}+}}")),
        }
    }
    out.replace("-][-", "").replace("+}{+", "")
}

pub fn collected(c: &Collected, rejects: Option<&Path>, as_json: bool) {
    if as_json {
        return print_json(c);
    }
    println!(
        "{}: {} from {} under notice version {}: {} new, {} already held{}",
        c.org,
        count(c.rows, "row"),
        c.file,
        c.notice,
        num(c.inserted),
        num(c.already_held),
        match (c.rejected, rejects) {
            (0, _) => String::new(),
            (n, Some(p)) => format!(", {} rejected (see {})", num(n), p.display()),
            (n, None) => format!(", {} rejected", num(n)),
        }
    );
    for u in &c.undeclared {
        eprintln!(
            "warning: column `{}` is collected as {}, which no declaration of notice version {} covers: \
             people were not told it is collected (UK GDPR Art 13(1)(c))",
            u.column, u.category, c.notice
        );
    }
}

fn reason_table(reasons: &[ReasonCount], unit: &str) -> Table {
    let mut t = table(&[unit, "reason", "provisions"]);
    for r in reasons {
        t.add_row(vec![
            right(num(r.records)),
            Cell::new(r.id),
            Cell::new(r.provisions.join("; ")),
        ]);
    }
    t
}

pub fn share(r: &ShareReport, as_json: bool) {
    if as_json {
        return print_json(r);
    }
    println!(
        "disclosure {}: {} -> {}{} for {} ({})",
        r.disclosure,
        r.from,
        r.to,
        r.on_behalf_of
            .as_ref()
            .map(|o| format!(" on behalf of {o}"))
            .unwrap_or_default(),
        r.purposes.join(", "),
        r.categories.join(", ")
    );
    println!(
        "  requested {}   allowed {}   refused {}{}",
        num(r.requested),
        num(r.allowed),
        num(r.refused),
        not_held(r.not_held)
    );
    if !r.reasons.is_empty() {
        println!("{}", reason_table(&r.reasons, "records"));
    }
    println!(
        "  allowed -> {} (columns: subject, {})",
        r.out.as_deref().unwrap_or("-"),
        r.columns_sent.join(", ")
    );
    println!("  refused -> {}", r.refused_file.as_deref().unwrap_or("-"));
}

/// " (not held: N)" when some were not held.
fn not_held(n: u64) -> String {
    if n > 0 {
        format!(" (not held: {})", num(n))
    } else {
        String::new()
    }
}

pub fn screen(r: &ScreenReport, as_json: bool) {
    if as_json {
        return print_json(r);
    }
    println!(
        "screened {} for {}{} for {} ({}), as at {}",
        r.list,
        r.to,
        r.on_behalf_of
            .as_ref()
            .map(|o| format!(" on behalf of {o}"))
            .unwrap_or_default(),
        r.purposes.join(", "),
        r.categories.join(", "),
        r.at
    );
    println!(
        "  against {}'s {} and {} (snapshot caught up {}, {})",
        r.holder,
        count(r.snapshot.records as u64, "record"),
        count(r.snapshot.events as u64, "consent event"),
        count(r.snapshot.caught_up.records, "record"),
        count(r.snapshot.caught_up.events, "event")
    );
    println!(
        "  rows {}   allowed {}   refused {}{}   ({} classes decided)",
        num(r.rows),
        num(r.allowed),
        num(r.refused),
        not_held(r.not_held),
        r.classes
    );
    if !r.reasons.is_empty() {
        println!("{}", reason_table(&r.reasons, "rows"));
    }
    println!(
        "  allowed -> {} (columns: subject{})",
        r.out,
        r.columns_sent
            .iter()
            .map(|c| format!(", {c}"))
            .collect::<String>()
    );
    if !r.columns_withheld.is_empty() {
        println!("  never written: {}", r.columns_withheld.join(", "));
    }
    println!("  refused -> {}", r.refused_file);
    println!("  nothing was recorded: `custody share` discloses and logs each decision");
}

pub fn trace(t: &Trace, as_json: bool) {
    if as_json {
        return print_json(t);
    }
    println!(
        "{} collected by {} on {} under notice version {} (effective {})",
        t.subject, t.collected_by, t.collected_at, t.notice.version, t.notice.effective
    );
    if let Some(text) = &t.notice.text {
        println!("  the notice said: \"{}\"", text.trim());
    }
    for d in &t.notice.declarations {
        println!("    {d}");
    }
    println!(
        "  consented at collection: {}",
        if t.consented.is_empty() {
            "nothing".into()
        } else {
            t.consented.join(", ")
        }
    );
    if !t.preferences.is_empty() {
        println!("\npreferences");
        let mut tb = table(&["when", "action", "purpose", "notice"]);
        for p in &t.preferences {
            tb.add_row(vec![
                p.at.clone(),
                p.action.clone(),
                p.purpose.clone().unwrap_or_default(),
                p.notice.clone().unwrap_or_default(),
            ]);
        }
        println!("{tb}");
    }
    println!("\ndisclosures");
    if t.disclosures.is_empty() {
        println!("  none");
    } else {
        let mut tb = table(&["when", "from", "to", "purposes", "outcome", "reasons"]);
        for d in &t.disclosures {
            let to = match &d.on_behalf_of {
                Some(o) => format!("{} (for {o})", d.to),
                None => d.to.clone(),
            };
            let outcome = if d.outcome == "disclosed" {
                "disclosed, unchecked"
            } else {
                d.outcome
            };
            tb.add_row(vec![
                d.at.clone(),
                d.from.clone(),
                to,
                d.purposes.join(", "),
                outcome.into(),
                d.reasons.to_ids().replace(';', "\n"),
            ]);
        }
        println!("{tb}");
        for r in t
            .disclosures
            .iter()
            .fold(custody_core::ReasonSet::EMPTY, |a, d| a.union(d.reasons))
            .iter()
        {
            println!(
                "  {}: {} ({})",
                r.id(),
                r.message(),
                r.provisions().join("; ")
            );
        }
    }
    println!("\nheld now by");
    if t.holders.is_empty() {
        println!("  {} only", t.collected_by);
    } else {
        for h in &t.holders {
            println!(
                "  {} since {} (from {}, for {})",
                h.org,
                h.since,
                h.from,
                h.purposes.join(", ")
            );
        }
    }
}

pub fn imported(v: &[Imported], as_json: bool) {
    if as_json {
        return print_json(v);
    }
    for i in v {
        println!(
            "recorded disclosure {} to {} on {}: {}{}",
            i.disclosure,
            i.to,
            i.at,
            count(i.records, "record"),
            if i.not_held > 0 {
                format!(" ({} listed but not held)", num(i.not_held))
            } else {
                String::new()
            }
        );
    }
}

pub fn audit(a: &Audit, as_json: bool) {
    if as_json {
        return print_json(a);
    }
    println!("audit of {}'s collected data", a.org);
    let mut t = table(&[
        "#",
        "when",
        "from",
        "to",
        "purposes",
        "checked",
        "disclosed",
        "violations",
    ]);
    for d in &a.disclosures {
        let to = match &d.on_behalf_of {
            Some(o) => format!("{} (for {o})", d.to),
            None => d.to.clone(),
        };
        t.add_row(vec![
            Cell::new(d.disclosure),
            Cell::new(&d.at),
            Cell::new(&d.from),
            Cell::new(to),
            Cell::new(d.purposes.join(", ")),
            Cell::new(if d.gated { "gate" } else { "no (history)" }),
            right(num(d.disclosed)),
            right(num(d.violations)),
        ]);
    }
    println!("{t}");
    println!(
        "\npeople whose data was disclosed: {}",
        num(a.people_disclosed)
    );
    println!(
        "people disclosed against the rules: {}",
        num(a.people_wronged)
    );
    if !a.reasons.is_empty() {
        println!("{}", reason_table(&a.reasons, "people"));
    }
    if !a.flows.is_empty() {
        println!("\nwho passed {}'s data to whom", a.org);
        let mut t = table(&["from", "to", "records", "in violation"]);
        for f in &a.flows {
            t.add_row(vec![
                Cell::new(&f.from),
                Cell::new(&f.to),
                right(num(f.records)),
                right(num(f.violations)),
            ]);
        }
        println!("{t}");
    }
    recorded_late(a);
}

/// Events recorded long after the time they claim, and what the audit did
/// with them.
fn recorded_late(a: &Audit) {
    if a.recorded_late.is_empty() {
        return;
    }
    println!(
        "
recorded late (more than a day after the time they claim): kept, but no disclosure \
         recorded before them is judged by them"
    );
    let mut t = table(&["event", "claims", "recorded", "events"]);
    for l in &a.recorded_late {
        t.add_row(vec![
            Cell::new(custody_engine::log::receipt::preference_in_words(
                &l.action,
                l.purpose.as_deref(),
            )),
            Cell::new(&l.claims),
            Cell::new(&l.recorded),
            right(num(l.events)),
        ]);
    }
    println!("{t}");
    let set_aside: u64 = a
        .disclosures
        .iter()
        .map(|d| d.judged_without_later_records)
        .sum();
    if set_aside > 0 {
        println!(
            "{} judged without an event recorded after the disclosure",
            count(set_aside, "record")
        );
    }
}
