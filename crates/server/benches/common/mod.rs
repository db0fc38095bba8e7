//! What the benchmark drivers share: their arguments, the subject list,
//! latency percentiles.

/// The `--name value` pairs a driver was given, in order (cargo bench's
/// own `--bench` dropped).
pub fn flags() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        out.push((k, v));
    }
    out
}

/// A flag's value as a number, or a panic naming the flag.
pub fn number<T: std::str::FromStr>(flag: &str, v: &str) -> T {
    v.parse()
        .unwrap_or_else(|_| panic!("{flag} takes a number, not {v}"))
}

/// The subjects of a `subjects.csv` (the first column, without its header).
pub fn subjects(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let subjects: Vec<String> = text
        .lines()
        .map(|l| l.split(',').next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty() && s != "subject")
        .collect();
    assert!(!subjects.is_empty(), "no subjects in {path}");
    subjects
}

/// The `p` quantile (0 to 1) of sorted latencies in microseconds, in ms.
pub fn quantile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}
