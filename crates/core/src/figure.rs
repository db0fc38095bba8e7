//! Figures as people read them: 1,065,220, not 1065220. The CLI's tables
//! and the web pages write counts the same way.

/// `n` with its thousands grouped by commas.
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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
}
