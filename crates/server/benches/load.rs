//! Issue #5's load test, the driving half: single-record disclosure requests
//! from many connections at once for a while, then requests per second, the
//! latency percentiles, the errors and the server's memory.
//!
//! `bench/load.sh` builds the server, makes the database and runs this:
//!
//! ```sh
//! cargo bench -p custody-server --bench load -- --url http://127.0.0.1:8080 \
//!     --token ck_... --subjects subjects.csv [--connections 64] [--seconds 60] [--pid PID]
//! ```
//!
//! Each request names one subject, drawn at random from the list, and asks
//! to disclose it from emmas-diary to labour for political campaigning on
//! 2018-10-01 (the mothers who re-consented are allowed, the rest refused
//! with reasons). Any
//! answer but 201 with a disclosure id is an error. With `--pid`, the
//! server's resident memory is sampled every 5 s.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    url: String,
    token: String,
    subjects: String,
    connections: usize,
    seconds: u64,
    warmup: u64,
    pid: Option<u32>,
    threads: usize,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        token: String::new(),
        subjects: String::new(),
        connections: 64,
        seconds: 60,
        warmup: 3,
        pid: None,
        threads: 1,
    };
    for (k, v) in common::flags() {
        match k.as_str() {
            "--url" => a.url = v,
            "--token" => a.token = v,
            "--subjects" => a.subjects = v,
            "--connections" => a.connections = common::number(&k, &v),
            "--seconds" => a.seconds = common::number(&k, &v),
            "--warmup" => a.warmup = common::number(&k, &v),
            "--pid" => a.pid = Some(common::number(&k, &v)),
            "--threads" => a.threads = common::number(&k, &v),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(!a.token.is_empty(), "--token is required");
    assert!(!a.subjects.is_empty(), "--subjects FILE is required");
    a
}

/// The server's resident memory in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().ok()? + f[12].parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// A small fast generator: each connection its own, no shared state.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[derive(Default)]
struct Tally {
    /// Microseconds, one per request answered during the measured window.
    latencies: Vec<u32>,
    errors: u64,
    allowed: u64,
    first_error: Option<String>,
}

async fn connection(
    i: usize,
    a: Arc<Args>,
    subjects: Arc<Vec<String>>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> Tally {
    // One client per connection: one keep-alive connection each.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("an HTTP client");
    let url = format!("{}/v1/orgs/emmas-diary/disclosures", a.url);
    let auth = format!("Bearer {}", a.token);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ ((i as u64 + 1) * 0x2545_F491_4F6C_DD1D));
    let mut t = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        let subject = &subjects[rng.below(subjects.len())];
        let body = format!(
            r#"{{"to":"labour","purposes":["PoliticalCampaign"],"categories":["Name","PhysicalAddress","PostalCode"],"basis":"consent","records":["{subject}"],"at":"2018-10-01"}}"#
        );
        let start = Instant::now();
        let res = http
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let outcome = match res {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Ok(b) if status == 201 && memchr(&b, b"\"disclosure\":") => {
                        Ok(memchr(&b, b"\"allowed\":1,"))
                    }
                    Ok(b) => Err(format!("{status}: {}", String::from_utf8_lossy(&b))),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        let took = start.elapsed();
        if !measuring.load(Ordering::Relaxed) {
            continue;
        }
        match outcome {
            Ok(allowed) => {
                t.latencies
                    .push(took.as_micros().min(u32::MAX as u128) as u32);
                t.allowed += allowed as u64;
            }
            Err(e) => {
                t.errors += 1;
                t.first_error.get_or_insert(e);
            }
        }
    }
    t
}

fn memchr(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn main() {
    let a = Arc::new(args());
    let subjects = Arc::new(common::subjects(&a.subjects));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads)
        .enable_all()
        .build()
        .expect("a runtime");
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let rss_start = a.pid.and_then(rss_kib);
    let (tallies, elapsed, samples) = rt.block_on(async {
        let tasks: Vec<_> = (0..a.connections)
            .map(|i| {
                tokio::spawn(connection(
                    i,
                    a.clone(),
                    subjects.clone(),
                    measuring.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(a.warmup)).await;
        let rss_warm = a.pid.and_then(rss_kib);
        measuring.store(true, Ordering::Relaxed);
        let cpu0 = (
            a.pid.and_then(|p| cpu_seconds(&p.to_string())),
            cpu_seconds("self"),
        );
        let start = Instant::now();
        let mut samples = vec![(0u64, rss_warm)];
        let end = start + Duration::from_secs(a.seconds);
        while Instant::now() < end {
            let left = end - Instant::now();
            tokio::time::sleep(left.min(Duration::from_secs(5))).await;
            samples.push((start.elapsed().as_secs(), a.pid.and_then(rss_kib)));
        }
        measuring.store(false, Ordering::Relaxed);
        let elapsed = start.elapsed();
        let cpu1 = (
            a.pid.and_then(|p| cpu_seconds(&p.to_string())),
            cpu_seconds("self"),
        );
        println!(
            "CPU over the window: server {:.1} s, load generator {:.1} s, of {:.1} s x {} cores",
            cpu1.0.zip(cpu0.0).map_or(0.0, |(b, a)| b - a),
            cpu1.1.zip(cpu0.1).map_or(0.0, |(b, a)| b - a),
            elapsed.as_secs_f64(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        stop.store(true, Ordering::Relaxed);
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await.expect("a connection task"));
        }
        (tallies, elapsed, samples)
    });
    let mut lat: Vec<u32> = Vec::new();
    let (mut errors, mut allowed, mut first_error) = (0u64, 0u64, None);
    for t in tallies {
        lat.extend(t.latencies);
        errors += t.errors;
        allowed += t.allowed;
        if first_error.is_none() {
            first_error = t.first_error;
        }
    }
    lat.sort_unstable();
    let pct = |p: f64| common::quantile_ms(&lat, p);
    let ok = lat.len() as u64;
    let secs = elapsed.as_secs_f64();
    println!(
        "{} connections, {:.1} s measured (after {} s warm-up)",
        a.connections, secs, a.warmup
    );
    println!(
        "requests {ok} ok ({allowed} allowed), {errors} errors: {:.0} decisions/s",
        ok as f64 / secs
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        lat.last().map_or(0.0, |m| *m as f64 / 1000.0)
    );
    if let Some(e) = first_error {
        println!("first error: {e}");
    }
    if a.pid.is_some() {
        let line: Vec<String> = samples
            .iter()
            .map(|(t, r)| format!("{t}s {} MiB", r.map_or(0, |k| k / 1024)))
            .collect();
        println!(
            "server RSS: start {} MiB; during: {}",
            rss_start.map_or(0, |k| k / 1024),
            line.join(", ")
        );
    }
    println!(
        "{{\"rps\":{:.0},\"ok\":{ok},\"errors\":{errors},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3},\"rss_start_kib\":{},\"rss_end_kib\":{}}}",
        ok as f64 / secs,
        pct(0.5),
        pct(0.99),
        lat.last().map_or(0.0, |m| *m as f64 / 1000.0),
        rss_start.unwrap_or(0),
        samples.last().and_then(|s| s.1).unwrap_or(0)
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
