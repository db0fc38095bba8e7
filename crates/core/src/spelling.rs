//! What a person probably meant when a name is not known: the nearest
//! known names by edit distance, so errors can say "did you mean".

/// Levenshtein distance in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The known name nearest to `typed` (case and separators aside), if it is
/// near enough to be a slip: at most a quarter of its length away, or 2.
pub fn nearest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace([' ', '_', '-'], "");
    let t = norm(typed);
    let limit = (t.chars().count() / 4).max(2);
    known
        .into_iter()
        .map(|k| (distance(&t, &norm(k)), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_slips() {
        let table = [
            ("", "", 0),
            ("abc", "abc", 0),
            ("abc", "abd", 1),
            ("kitten", "sitting", 3),
        ];
        for (a, b, d) in table {
            assert_eq!(distance(a, b), d, "{a} {b}");
        }
        let known = ["political-party", "data-broker", "charity"];
        assert_eq!(nearest("politcal party", known), Some("political-party"));
        assert_eq!(nearest("Data Brokers", known), Some("data-broker"));
        assert_eq!(nearest("astrologer", known), None);
    }
}
