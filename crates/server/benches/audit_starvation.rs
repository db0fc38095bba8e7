//! Issue 13 point 6's starvation test, the driving half: clients looping on
//! the audit (the API's and the page's) while a writer keeps the log
//! growing (a person's objection to direct marketing at a time), and other
//! clients doing cheap reads (one person's trace) whose count and latency
//! are what is measured.
//!
//! `bench/audit_starvation.sh` builds the server, makes the database and
//! runs this:
//!
//! ```sh
//! cargo bench -p custody-server --bench audit_starvation -- --url http://127.0.0.1:8080 \
//!     --reader ck_... --collector ck_... --subjects subjects.csv [--auditors 2] [--readers 4] \
//!     [--seconds 15] [--target-p99-ms 50]
//! ```
//!
//! It exits 1 on any error, or if the reads' p99 is over the target.
//!
//! Every growth of the log makes the cached audit stale, so under writes
//! each audit request may mean a new computation: the question is whether
//! those computations take the readers from everyone else. (The writer
//! records preferences, not disclosures: the audit re-reads every
//! disclosure's decisions, so thousands of one-record disclosures would
//! make each audit slower than the window.)

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    url: String,
    reader: String,
    collector: String,
    subjects: String,
    auditors: usize,
    readers: usize,
    seconds: u64,
    warmup: u64,
    /// The reads' p99 must stay under this, in ms, or the run fails.
    target_p99_ms: f64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        reader: String::new(),
        collector: String::new(),
        subjects: String::new(),
        auditors: 2,
        readers: 4,
        seconds: 15,
        warmup: 2,
        target_p99_ms: 50.0,
    };
    for (k, v) in common::flags() {
        match k.as_str() {
            "--url" => a.url = v,
            "--reader" => a.reader = v,
            "--collector" => a.collector = v,
            "--subjects" => a.subjects = v,
            "--auditors" => a.auditors = common::number(&k, &v),
            "--readers" => a.readers = common::number(&k, &v),
            "--seconds" => a.seconds = common::number(&k, &v),
            "--warmup" => a.warmup = common::number(&k, &v),
            "--target-p99-ms" => a.target_p99_ms = common::number(&k, &v),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        !a.reader.is_empty() && !a.collector.is_empty(),
        "--reader and --collector keys are required"
    );
    assert!(!a.subjects.is_empty(), "--subjects FILE is required");
    a
}

/// What one kind of client did in the measured window.
#[derive(Default)]
struct Tally {
    /// Microseconds, one per answer.
    latencies: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn ms(&self, p: f64) -> f64 {
        common::quantile_ms(&self.latencies, p)
    }

    fn line(&mut self, what: &str, secs: f64) -> String {
        self.latencies.sort_unstable();
        format!(
            "{what}: {} ok ({:.0}/s), {} errors; ms p50 {:.2} p99 {:.2} p99.9 {:.2} max {:.2}",
            self.latencies.len(),
            self.latencies.len() as f64 / secs,
            self.errors,
            self.ms(0.5),
            self.ms(0.99),
            self.ms(0.999),
            self.ms(1.0)
        )
    }
}

/// One request a client sends again and again.
#[derive(Clone)]
enum Ask {
    /// GET with these headers.
    Get(String, Vec<(&'static str, String)>),
    /// POST one random subject's objection to direct marketing.
    Object(String, String),
    /// GET one random subject's trace.
    Trace(String, String),
}

struct Loop {
    ask: Ask,
    seed: u64,
    subjects: Arc<Vec<String>>,
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

async fn send(http: &reqwest::Client, ask: &Ask, subject: &str) -> Result<(), String> {
    let req = match ask {
        Ask::Get(url, headers) => headers
            .iter()
            .fold(http.get(url), |r, (k, v)| r.header(*k, v)),
        Ask::Object(url, token) => http
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"subject":"{subject}","action":"object-direct-marketing"}}"#
            )),
        Ask::Trace(base, token) => http
            .get(format!("{base}/{subject}/trace"))
            .bearer_auth(token),
    };
    let res = req.send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}

async fn run(l: Loop) -> Tally {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client");
    let mut rng = l.seed | 1;
    let mut t = Tally::default();
    while !l.stop.load(Ordering::Relaxed) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let subject = &l.subjects[(rng % l.subjects.len() as u64) as usize];
        let start = Instant::now();
        let outcome = send(&http, &l.ask, subject).await;
        if !l.measuring.load(Ordering::Relaxed) {
            continue;
        }
        match outcome {
            Ok(()) => t
                .latencies
                .push(start.elapsed().as_micros().min(u32::MAX as u128) as u32),
            Err(e) => {
                t.errors += 1;
                t.first_error.get_or_insert(e);
            }
        }
    }
    t
}

/// The session cookie the sign-in form sets for `key` (`name=value`).
async fn sign_in(url: &str, key: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let res = http
        .post(format!("{url}/session"))
        .form(&[("key", key)])
        .send()
        .await
        .expect("signing in");
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie");
    cookie.to_string()
}

fn main() {
    let a = args();
    let subjects = Arc::new(common::subjects(&a.subjects));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let org = format!("{}/v1/orgs/emmas-diary", a.url);
    rt.block_on(async {
        let cookie = sign_in(&a.url, &a.reader).await;
        let bearer = format!("Bearer {}", a.reader);
        let audits = [
            Ask::Get(format!("{org}/audit"), vec![("authorization", bearer)]),
            Ask::Get(
                format!("{}/orgs/emmas-diary/audit", a.url),
                vec![("cookie", cookie)],
            ),
        ];
        let mut kinds: Vec<(&str, Ask)> = (0..a.auditors)
            .map(|i| ("audits", audits[i % 2].clone()))
            .collect();
        kinds.push((
            "writes",
            Ask::Object(format!("{org}/preferences"), a.collector.clone()),
        ));
        for _ in 0..a.readers {
            kinds.push((
                "reads",
                Ask::Trace(format!("{org}/subjects"), a.reader.clone()),
            ));
        }
        let tasks: Vec<_> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, (kind, ask))| {
                let l = Loop {
                    ask,
                    seed: 0x9E37_79B9_7F4A_7C15 ^ ((i as u64 + 1) * 0x2545_F491_4F6C_DD1D),
                    subjects: subjects.clone(),
                    measuring: measuring.clone(),
                    stop: stop.clone(),
                };
                (kind, tokio::spawn(run(l)))
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(a.warmup)).await;
        measuring.store(true, Ordering::Relaxed);
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(a.seconds)).await;
        measuring.store(false, Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let mut totals: Vec<(&str, Tally)> = Vec::new();
        for (kind, task) in tasks {
            let t = task.await.expect("a client task");
            match totals.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, total)) => total.add(t),
                None => totals.push((kind, t)),
            }
        }
        println!(
            "{} auditors, 1 writer, {} readers, {secs:.1} s measured",
            a.auditors, a.readers
        );
        let mut met = true;
        for (kind, mut t) in totals {
            println!("{}", t.line(kind, secs));
            if let Some(e) = &t.first_error {
                println!("  first error: {e}");
            }
            met &= t.errors == 0;
            if kind == "reads" && t.ms(0.99) > a.target_p99_ms {
                println!(
                    "  the reads' p99 is over the target of {} ms",
                    a.target_p99_ms
                );
                met = false;
            }
        }
        if !met {
            std::process::exit(1);
        }
    });
}
