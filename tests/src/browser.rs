//! A real browser for the tests: Debian's Chromium, headless, driven through chromedriver with
//! plain W3C WebDriver calls over reqwest.
//!
//! ```ignore
//! let browser = Browser::start(dir.path()).await;
//! browser.goto(&format!("{base}/login")).await;
//! browser.find("#username").await.send_keys("alice").await;
//! browser.keys(&[Key::Tab]).await;
//! assert_eq!(browser.active_element_attr("id").await.as_deref(), Some("password"));
//! let axe_js = std::fs::read_to_string(assets.join("axe/axe.min.js")).unwrap();
//! let violations = browser.axe(&axe_js).await;
//! assert!(violations.is_empty(), "{}", describe(&violations));
//! ```
//!
//! Dropping a [`Browser`] ends its session (Chromium quits) and then kills chromedriver's
//! process group, so no Chromium outlives a test that failed halfway.

use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/lib/chromium/chromium";
/// The W3C key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The axe-core rule tags a page must pass: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const AXE_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// A headless Chromium with its own profile, driven by its own chromedriver.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
    driver: Option<Child>,
    profile: PathBuf,
}

/// An element of the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

/// A key pressed through the Actions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Tab,
    /// Tab with Shift held: focus moves backwards
    ShiftTab,
    Enter,
    Space,
    Escape,
}

/// One axe-core rule a page breaks.
#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    /// each offending node as `selector :: what to fix`
    pub nodes: Vec<String>,
}

/// A cookie the browser holds for the current page.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub secure: bool,
    #[serde(default)]
    pub http_only: bool,
    #[serde(default)]
    pub same_site: Option<String>,
}

/// A WebDriver error answer: its error code and message.
#[derive(Debug)]
struct WebDriverError {
    error: String,
    message: String,
}

impl Browser {
    /// Starts chromedriver and a fresh Chromium whose profile lives in a new directory under
    /// `profile_dir`.
    pub async fn start(profile_dir: &Path) -> Browser {
        for path in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: install chromium and chromium-driver (make test does)"
            );
        }
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let profile = profile_dir.join(format!("chromium-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&profile).expect("create the browser profile directory");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        // a port picked free can be taken before chromedriver binds it: then try another
        let mut attempts = 0;
        let (driver, base) = loop {
            attempts += 1;
            let log = profile_dir.join(format!("chromedriver-{}-{n}.log", std::process::id()));
            match start_driver(&http, &log).await {
                Ok(started) => break started,
                Err(why) if attempts < 3 => eprintln!("chromedriver did not start ({why}), again"),
                Err(why) => panic!("chromedriver did not start: {why} (log: {})", log.display()),
            }
        };
        let mut browser = Browser {
            http,
            session: String::new(),
            driver: Some(driver),
            profile,
        };
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", browser.profile.display()),
                ],
            },
        }}});
        let created = browser
            .call(
                reqwest::Method::POST,
                &format!("{base}/session"),
                Some(capabilities),
            )
            .await
            .unwrap_or_else(|e| panic!("no browser session: {e}"));
        let id = created["sessionId"].as_str().expect("a session id");
        browser.session = format!("{base}/session/{id}");
        browser
            .post(
                "timeouts",
                json!({"implicit": 0, "pageLoad": 30_000, "script": 60_000}),
            )
            .await;
        browser
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        self.post("url", json!({ "url": url })).await;
    }

    /// The current page's URL.
    pub async fn url(&self) -> String {
        string(self.get("url").await)
    }

    /// The current page's title.
    pub async fn title(&self) -> String {
        string(self.get("title").await)
    }

    /// The current page's HTML, as the browser serialises its document.
    pub async fn source(&self) -> String {
        string(self.get("source").await)
    }

    /// The first element matching the CSS selector; panics naming the selector and page if none.
    pub async fn find(&self, css: &str) -> Element<'_> {
        match self.try_find(css).await {
            Some(element) => element,
            None => panic!("no element matches `{css}` on {}", self.url().await),
        }
    }

    /// The first element matching the CSS selector, if any.
    pub async fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let body = json!({"using": "css selector", "value": css});
        match self
            .command(reqwest::Method::POST, "element", Some(body))
            .await
        {
            Ok(found) => Some(Element {
                browser: self,
                id: string(found[ELEMENT_KEY].clone()),
            }),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("finding `{css}`: {e}"),
        }
    }

    /// Waits up to `limit` for an element matching the CSS selector (after a navigation).
    pub async fn wait_for(&self, css: &str, limit: Duration) -> Element<'_> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(element) = self.try_find(css).await {
                return element;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no element matches `{css}` on {} after {limit:?}",
            self.url().await
        )
    }

    /// Presses the keys one after the other on whatever has the focus.
    pub async fn keys(&self, keys: &[Key]) {
        let mut actions = Vec::new();
        for key in keys {
            let codes: &[&str] = match key {
                Key::Tab => &["\u{E004}"],
                Key::ShiftTab => &["\u{E008}", "\u{E004}"],
                Key::Enter => &["\u{E007}"],
                Key::Space => &["\u{E00D}"],
                Key::Escape => &["\u{E00C}"],
            };
            actions.extend(codes.iter().map(|c| json!({"type": "keyDown", "value": c})));
            actions.extend(
                codes
                    .iter()
                    .rev()
                    .map(|c| json!({"type": "keyUp", "value": c})),
            );
        }
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.post("actions", body).await;
    }

    /// The visible text (or, for a form field, the value) of the focused element.
    pub async fn active_element_text(&self) -> String {
        let script = "const e = document.activeElement; \
                      return e ? (e.innerText || e.value || '').trim() : '';";
        string(self.execute(script, json!([])).await)
    }

    /// An attribute of the focused element.
    pub async fn active_element_attr(&self, name: &str) -> Option<String> {
        let script = "const e = document.activeElement; \
                      return e ? e.getAttribute(arguments[0]) : null;";
        self.execute(script, json!([name]))
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page, returning its result.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Writes a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = base64::engine::general_purpose::STANDARD
            .decode(string(self.get("screenshot").await))
            .expect("a base64 screenshot");
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Runs axe-core (the text of `axe.min.js`) on the current page against WCAG 2.x A and AA.
    pub async fn axe(&self, axe_js: &str) -> Vec<Violation> {
        // the script dies with its document: inject it again on every page
        self.execute(axe_js, json!([])).await;
        let run = "const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: arguments[0] },
                                resultTypes: ['violations'] })
              .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary) }))))
              .catch(e => done({ error: String(e) }));";
        let result = self
            .post("execute/async", json!({"script": run, "args": [AXE_TAGS]}))
            .await;
        if let Some(error) = result.get("error") {
            panic!("axe-core failed on {}: {error}", self.url().await);
        }
        serde_json::from_value(result).expect("axe violations")
    }

    /// The cookies visible to the current page.
    pub async fn cookies(&self) -> Vec<Cookie> {
        serde_json::from_value(self.get("cookie").await).expect("cookies")
    }

    /// Ends the session and stops chromedriver (dropping does the same).
    pub async fn quit(mut self) {
        let session = std::mem::take(&mut self.session);
        let _ = self.http.delete(&session).send().await;
        self.stop_driver();
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None)
            .await
            .unwrap_or_else(|e| panic!("webdriver GET {path}: {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body))
            .await
            .unwrap_or_else(|e| panic!("webdriver POST {path}: {e}"))
    }

    /// A command on this session (`path` relative to it).
    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        self.call(method, &format!("{}/{path}", self.session), body)
            .await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let request = self.http.request(method, url);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let transport = |e: reqwest::Error| WebDriverError {
            error: "transport".to_owned(),
            message: e.to_string(),
        };
        let answer: Value = request
            .send()
            .await
            .map_err(transport)?
            .json()
            .await
            .map_err(transport)?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(WebDriverError {
                error: error.to_owned(),
                message: string(value["message"].clone()),
            }),
            None => Ok(value),
        }
    }

    /// Kills chromedriver's whole process group: any Chromium process still shutting down goes too.
    fn stop_driver(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", driver.id())])
                .stderr(Stdio::null())
                .status();
            let _ = driver.kill();
            let _ = driver.wait();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let session = std::mem::take(&mut self.session);
        if !session.is_empty() {
            // Drop may run inside the test's runtime, which cannot be blocked on: end the session
            // from a thread of its own, with a runtime and client of its own
            let ended = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async {
                    let http = reqwest::Client::builder()
                        .no_proxy()
                        .timeout(Duration::from_secs(15))
                        .build()
                        .expect("an HTTP client");
                    let _ = http.delete(&session).send().await;
                });
            });
            let _ = ended.join();
        }
        self.stop_driver();
    }
}

impl Element<'_> {
    /// Clicks the element (scrolling it into view first).
    pub async fn click(&self) {
        self.browser
            .post(&format!("element/{}/click", self.id), json!({}))
            .await;
    }

    /// Types `text` into the element (`\u{E007}` in it presses Enter).
    pub async fn send_keys(&self, text: &str) {
        let path = format!("element/{}/value", self.id);
        self.browser.post(&path, json!({ "text": text })).await;
    }

    /// The element's rendered text.
    pub async fn text(&self) -> String {
        string(self.browser.get(&format!("element/{}/text", self.id)).await)
    }

    /// An attribute of the element, if it has it.
    pub async fn attr(&self, name: &str) -> Option<String> {
        let path = format!("element/{}/attribute/{name}", self.id);
        self.browser.get(&path).await.as_str().map(str::to_owned)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let impact = self.impact.as_deref().unwrap_or("unknown");
        writeln!(f, "{} ({impact}): {}", self.id, self.help)?;
        for node in &self.nodes {
            for (i, line) in node.lines().enumerate() {
                writeln!(f, "{}{line}", if i == 0 { "  " } else { "      " })?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// Every violation, readable in a failed assertion's message.
pub fn describe(violations: &[Violation]) -> String {
    violations.iter().map(Violation::to_string).collect()
}

/// Starts chromedriver on a free port in a process group of its own, logging to `log`, and waits
/// until it is ready; gives the process and its base URL.
async fn start_driver(http: &reqwest::Client, log: &Path) -> Result<(Child, String), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("{CHROMEDRIVER}: {e}"))?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("it exited with {status}"));
        }
        if let Ok(answer) = http.get(format!("{base}/status")).send().await {
            if let Ok(status) = answer.json::<Value>().await {
                if status["value"]["ready"] == true {
                    return Ok((driver, base));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = driver.kill();
    let _ = driver.wait();
    Err("not ready after 20s".to_owned())
}

fn string(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
