//! The web pages in a real browser: Debian's chromium, headless, driven
//! through chromedriver (fantoccini), against `custody serve` on the demo's
//! database. The walk is the issue's: a mother's page shows the refused
//! political disclosure with its reason; she withdraws marketing consent in
//! a click and the next disclosure refuses her; the investigator's audit
//! page shows the 1,065,220 mothers affected in the 2017 history.
//!
//! Needs `chromium` and `chromium-driver` (Debian; `.ci/run` installs them).
//! Its harness (libtest-mimic, `harness = false`) looks for them when the
//! runner lists the tests: without them the test is listed as ignored, so
//! `cargo nextest run` counts it skipped, except under CI=true, where it
//! runs and fails. `CUSTODY_WEB_SUBJECTS=N` runs a smaller case (default: the full
//! 1,065,220). `CUSTODY_SCREENSHOTS=DIR` saves the README's screenshots.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const FULL: u64 = 1_065_220;

/// A child process, killed when the test ends however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn custody(dir: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("custody"));
    c.current_dir(dir)
        .env_remove("CUSTODY_DB")
        .env_remove("CUSTODY_SIGNING_KEY")
        .arg("--db")
        .arg(dir.join("custody.db"));
    c
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = custody(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "custody {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// chromedriver's path, or why the browser test cannot run here.
fn chromedriver() -> Result<PathBuf, String> {
    let path = std::env::var_os("CUSTODY_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    if path.exists() && Path::new("/usr/bin/chromium").exists() {
        return Ok(path);
    }
    Err(
        "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
            .into(),
    )
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let driver = chromedriver();
    let skip = driver.is_err() && std::env::var("CI").as_deref() != Ok("true");
    if let (true, Err(why)) = (skip, &driver) {
        eprintln!("skipping the browser test: {why}");
    }
    let trial = libtest_mimic::Trial::test("the_emmas_diary_case_in_a_browser", move || {
        let driver = driver?;
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(the_emmas_diary_case_in_a_browser(driver));
        Ok(())
    })
    .with_ignored_flag(skip);
    libtest_mimic::run(&args, vec![trial]).exit();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, once it says it is ready.
fn start_driver(path: &Path) -> (Killed, String) {
    let port = free_port();
    let mut child = Killed(
        Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "chromedriver said nothing"
        );
        if line.contains("started successfully") {
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return (child, format!("http://127.0.0.1:{port}"));
        }
    }
}

/// `custody serve` on an ephemeral port.
fn start_server(dir: &Path) -> (Killed, String) {
    let mut child = Killed(
        custody(dir)
            .env("RUST_LOG", "warn")
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the server said nothing"
        );
        if let Some(rest) = line.trim().strip_prefix("custody serving on ") {
            let base = rest.to_string();
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return (child, base);
        }
    }
}

async fn browser(driver: &str, profile: &Path) -> Client {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("chromedriver started a chromium session")
}

/// Where screenshots go, if anywhere: `CUSTODY_SCREENSHOTS`, relative to
/// the workspace.
fn shots() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CUSTODY_SCREENSHOTS")?);
    let dir = if dir.is_absolute() {
        dir
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
    };
    std::fs::create_dir_all(&dir).unwrap();
    Some(dir)
}

async fn shot(c: &Client, name: &str, width: u32, height: u32) {
    if let Some(dir) = shots() {
        c.set_window_size(width, height).await.unwrap();
        // Charts redraw on resize; give them a frame.
        tokio::time::sleep(Duration::from_millis(400)).await;
        std::fs::write(dir.join(name), c.screenshot().await.unwrap()).unwrap();
        c.set_window_size(1280, 900).await.unwrap();
    }
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The page, once custody.js has drawn its charts.
async fn open(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("body[data-drawn]"))
        .await
        .unwrap_or_else(|e| panic!("{url} never finished drawing: {e}"));
}

/// axe-core's automated WCAG 2.2 A and AA checks (contrast, labels,
/// accessible names, landmarks) on the page as it stands: none may fail.
async fn accessible(c: &Client, what: &str) {
    const AXE: &str = include_str!("vendor/axe.min.js");
    c.execute(&format!("{AXE}\nreturn true;"), vec![])
        .await
        .unwrap();
    let violations = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values:
                 ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
               .then(r => done(r.violations.map(v =>
                   v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                   v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    let violations: Vec<String> = serde_json::from_value(violations).unwrap();
    assert!(violations.is_empty(), "{what}: {violations:#?}");
}

async fn click(c: &Client, xpath: &str) {
    c.find(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("no {xpath}: {e}"))
        .click()
        .await
        .unwrap();
}

/// The log page's verdict: on a checkpoint pasted in, or (None) on the
/// first and the latest checkpoint custody signed.
async fn log_check(c: &Client, base: &str, kept: Option<&str>) -> String {
    open(c, &format!("{base}/log")).await;
    let button = match kept {
        Some(k) => {
            c.find(Locator::Id("kept"))
                .await
                .unwrap()
                .send_keys(k)
                .await
                .unwrap();
            "Check against the log now"
        }
        None => "Check consistency",
    };
    click(c, &format!("//button[normalize-space()='{button}']")).await;
    c.wait().for_element(Locator::Id("verdict")).await.unwrap();
    c.find(Locator::Id("verdict"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A disclosure of one mother by Emma's Diary, through the API, now.
async fn disclose(
    base: &str,
    key: &str,
    subject: &str,
    to: &str,
    purpose: &str,
    behalf: Option<&str>,
) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/orgs/emmas-diary/disclosures"))
        .bearer_auth(key)
        .json(&json!({
            "to": to,
            "on_behalf_of": behalf,
            "purposes": [purpose],
            "categories": ["Name", "PostalCode"],
            "records": [subject],
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// A mother who signs up today, under the current notice, ticking the
/// partners box; her access code.
async fn sign_up_today(base: &str, key: &str, subject: &str) -> String {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/orgs/emmas-diary/collections"))
        .bearer_auth(key)
        .json(&json!({
            "notice": "2018-05",
            "mapping": {
                "subject": "member_id",
                "collected_at": "signed_up",
                "columns": {"first_name": "pd:Name", "last_name": "pd:Name", "postcode": "pd:PostalCode"},
                "consents": {"offers": "consent_offers", "partners": "consent_partners"}
            },
            "records": [{
                "member_id": subject, "signed_up": today, "first_name": "Grace", "last_name": "Okafor",
                "postcode": "LS6 2AB", "consent_offers": false, "consent_partners": true
            }],
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let body: Value = r.json().await.unwrap();
    body["codes"][0]["code"].as_str().unwrap().to_string()
}

async fn sign_in_with_code(c: &Client, base: &str, code: &str) {
    open(c, base).await;
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(code)
        .await
        .unwrap();
    click(c, "//button[normalize-space()='Show my data']").await;
    c.wait()
        .for_element(Locator::Css("ol.timeline"))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/me"));
}

async fn sign_out(c: &Client) {
    click(c, "//button[normalize-space()='Sign out']").await;
    c.wait().for_element(Locator::Id("key")).await.unwrap();
}

async fn the_emmas_diary_case_in_a_browser(driver_path: PathBuf) {
    let subjects: u64 = std::env::var("CUSTODY_WEB_SUBJECTS")
        .ok()
        .map(|s| s.parse().unwrap())
        .unwrap_or(FULL);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let t = Instant::now();
    let demo = custody(dir)
        .args(["demo", "--subjects", &subjects.to_string(), "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(demo.success());
    eprintln!(
        "demo of {subjects} mothers in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let regulator = run(dir, &["key", "create", "--regulator"])
        .trim()
        .to_string();
    let collector = run(
        dir,
        &["key", "create", "emmas-diary", "--role", "collector"],
    )
    .trim()
    .to_string();
    let (_server, base) = start_server(dir);
    let (_driver, driver) = start_driver(&driver_path);
    // A checkpoint an investigator keeps before anything below happens.
    let kept = reqwest::get(format!("{base}/v1/log/checkpoint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // A mother of 2017 (the demo's first): her page, with her code and
    // nothing else, shows the political disclosure custody refused.
    let mother = "ED00000001";
    let code = run(dir, &["access-code", "emmas-diary", mother]);
    let code = code.trim().split('\t').nth(1).unwrap().to_string();

    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    c.set_window_size(1280, 900).await.unwrap();

    sign_in_with_code(&c, &base, &code).await;
    let page = text(&c).await;
    assert!(page.contains(mother), "her reference");
    assert!(page.contains("What you were told"));
    assert!(
        page.contains("carefully selected third party"),
        "the notice's own words"
    );
    assert!(page.contains("Refused: your data was not passed on"));
    assert!(
        page.contains("this use has to be named to you in so many words"),
        "the reason, told to her:\n{page}"
    );
    assert!(
        c.source().await.unwrap().contains("UK GDPR Art 13(1)(c)"),
        "the provision, behind a click"
    );
    assert!(
        page.contains(" organisations hold your data:"),
        "who holds it comes first:\n{page}"
    );
    assert!(page.contains("Your data used for this: Name"), "{page}");
    assert!(page.contains("What you can do next"), "{page}");
    assert!(page.contains("ico.org.uk/make-a-complaint"), "{page}");
    assert!(
        page.contains("A receipt is proof that one event above was written down"),
        "{page}"
    );
    assert!(
        page.contains("Passed on without any check"),
        "the sale that happened without the gate"
    );
    accessible(&c, "her page").await;
    shot(&c, "person.png", 1280, 2200).await;
    shot(&c, "person-phone.png", 390, 1600).await;

    // Keyboard: the first Tab reaches the skip link.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = c
        .execute("return document.activeElement.textContent", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("Skip to content"));

    // Her receipts download as tlog-proof files.
    let href = c
        .find(Locator::Css("ul.receipts a[download]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(href.starts_with("/me/receipts/"));
    let proof = c
        .execute(
            "return fetch(arguments[0]).then(r => r.text())",
            vec![json!(href)],
        )
        .await
        .unwrap();
    assert!(
        proof
            .as_str()
            .unwrap()
            .starts_with("c2sp.org/tlog-proof@v1"),
        "{proof}"
    );

    // A mother who signs up today. The collector asks to pass her on for
    // Labour: refused, she never agreed. For partners' marketing: allowed.
    let grace = "ED09000001";
    let code = sign_up_today(&base, &collector, grace).await;
    let r = disclose(
        &base,
        &collector,
        grace,
        "experian",
        "PoliticalCampaign",
        Some("labour"),
    )
    .await;
    assert_eq!(r["refused"], 1, "{r}");
    let r = disclose(&base, &collector, grace, "experian", "Marketing", None).await;
    assert_eq!(r["allowed"], 1, "{r}");
    sign_out(&c).await;
    sign_in_with_code(&c, &base, &code).await;
    let page = text(&c).await;
    assert!(
        page.contains("This needs your agreement, and you never gave it."),
        "{page}"
    );
    assert!(page.contains("Passed on: the rules allowed it"));

    // She withdraws marketing consent: one click, and the page says so.
    // (A second later than the disclosure it follows: times are kept to the
    // second, and the audit would count a withdrawal of the same second as
    // in force for it; a person takes longer than this test.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    click(
        &c,
        "//button[normalize-space()='Withdraw consent for Marketing']",
    )
    .await;
    c.wait()
        .for_element(Locator::Css("div.notice.good"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("Done: You withdrew consent for Marketing today"),
        "{page}"
    );
    assert!(
        page.contains("Give consent for Marketing"),
        "the choice turned round"
    );
    let timeline = c
        .find(Locator::Css("ol.timeline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(timeline.contains("You withdrew consent for Marketing"));
    accessible(&c, "her page after the change").await;
    shot(&c, "person-withdrawn.png", 1280, 1500).await;

    // The next disclosure refuses her, and her page says why.
    let r = disclose(&base, &collector, grace, "experian", "Marketing", None).await;
    assert_eq!(r["refused"], 1, "{r}");
    open(&c, &format!("{base}/me")).await;
    let last = c
        .find(Locator::Css("ol.timeline > li:last-child"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(last.contains("Refused"), "{last}");
    assert!(
        last.contains("You withdrew your agreement before this was asked."),
        "{last}"
    );

    // Her code opens nothing of the organisation's.
    c.goto(&format!("{base}/orgs/emmas-diary/audit"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("Not yours to see"));

    // The investigator.
    sign_out(&c).await;
    c.find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(&regulator)
        .await
        .unwrap();
    click(&c, "//button[normalize-space()='Sign in']").await;
    c.wait().for_element(Locator::Css("table")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/orgs"));

    let t = Instant::now();
    open(&c, &format!("{base}/orgs/emmas-diary/audit")).await;
    eprintln!("audit page in {:.1}s", t.elapsed().as_secs_f64());
    let affected = c
        .find(Locator::Id("affected"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let want = custody_core::figure::grouped(subjects);
    assert_eq!(affected, want, "people affected in the 2017 history");
    let page = text(&c).await;
    assert!(page.contains("Who passed the data to whom"));
    let drawn: Value = c
        .execute(
            "return document.querySelectorAll('#flow-graph canvas').length",
            vec![],
        )
        .await
        .unwrap();
    assert!(drawn.as_u64().unwrap() > 0, "the flow graph is drawn");
    accessible(&c, "the audit").await;
    shot(&c, "audit.png", 1280, 2200).await;

    open(&c, &format!("{base}/orgs/emmas-diary/audit/report")).await;
    let report = text(&c).await;
    assert!(report.contains("What this report rests on"));
    assert!(report.contains(&want));
    accessible(&c, "the report").await;
    shot(&c, "report.png", 1000, 1400).await;
    // It prints: a PDF of whole A4 pages.
    let pdf = c.print(PrintConfiguration::default()).await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let raw = String::from_utf8_lossy(&pdf);
    let pages = raw
        .match_indices("/Type /Page")
        .filter(|(i, m)| !raw[i + m.len()..].starts_with('s'))
        .count();
    assert!(pages >= 1, "a PDF with no pages");
    eprintln!("report: {} bytes of PDF, {pages} pages", pdf.len());
    if let Some(dir) = shots() {
        std::fs::write(dir.join("report.pdf"), &pdf).unwrap();
    }

    open(&c, &format!("{base}/orgs/emmas-diary")).await;
    accessible(&c, "the organisation").await;
    shot(&c, "organisation.png", 1280, 1100).await;
    open(&c, &format!("{base}/orgs/emmas-diary/notices/2018-05")).await;
    let notice = text(&c).await;
    assert!(notice.contains("What changed since version 2017"));
    assert!(notice.contains("Added declaration political"), "{notice}");
    accessible(&c, "the notice").await;
    shot(&c, "notice-diff.png", 1280, 1300).await;

    open(&c, &format!("{base}/orgs/emmas-diary/disclosures/1")).await;
    let d = text(&c).await;
    assert!(d.contains("purpose-not-named-explicitly"), "{d}");
    assert!(d.contains("Refused records"));
    accessible(&c, "the disclosure").await;
    shot(&c, "disclosure.png", 1280, 1500).await;

    // The log: the checkpoint kept at the start is contained, unchanged, in
    // the log now; the same with its root changed is not; and two
    // checkpoints custody signed agree.
    let verdict = log_check(&c, &base, Some(kept.trim_end())).await;
    assert!(verdict.starts_with("Consistent."), "{verdict}");
    assert!(
        verdict.contains("under the checkpoint you kept"),
        "{verdict}"
    );
    let lines: Vec<&str> = kept.lines().collect();
    let forged = format!(
        "{}\n{}\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n{}",
        lines[0],
        lines[1],
        lines[4..].join("\n")
    );
    let verdict = log_check(&c, &base, Some(&forged)).await;
    assert!(verdict.starts_with("Not shown consistent."), "{verdict}");
    let verdict = log_check(&c, &base, None).await;
    assert!(verdict.starts_with("Consistent."), "{verdict}");
    accessible(&c, "the log").await;
    shot(&c, "log.png", 1280, 1400).await;

    c.close().await.unwrap();
}
