//! Figures as people read them: 1,065,220, not 1065220. The CLI's tables
//! and the web pages write counts the same way.

/// `n` with its thousands grouped by commas.
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with its noun agreeing: "1 row", "2 rows", "3 parties",
/// "16 people", "1,065,220 records". `noun` is the singular.
pub fn counted(n: impl TryInto<u64>, noun: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    if n == 1 {
        return format!("1 {noun}");
    }
    let plural = match noun.strip_suffix('y') {
        _ if noun == "person" => "people".to_string(),
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{stem}ies"),
        // "hashes", "boxes", "addresses", "batches"
        _ if noun.ends_with(['s', 'x', 'z']) || noun.ends_with("sh") || noun.ends_with("ch") => {
            format!("{noun}es")
        }
        _ => format!("{noun}s"),
    };
    format!("{} {plural}", grouped(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_065_220), "1,065,220");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        let table = [
            (0, "row", "0 rows"),
            (1, "row", "1 row"),
            (2, "party", "2 parties"),
            (2, "key", "2 keys"),
            (1, "party", "1 party"),
            (1, "person", "1 person"),
            (16, "person", "16 people"),
            (1_065_220, "record", "1,065,220 records"),
            (3, "hash", "3 hashes"),
            (2, "address", "2 addresses"),
            (2, "batch", "2 batches"),
            (2, "box", "2 boxes"),
        ];
        for (n, noun, want) in table {
            assert_eq!(counted(n as u64, noun), want);
        }
    }
}
