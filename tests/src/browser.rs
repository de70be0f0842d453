//! A real browser for the pages' tests: headless Chromium driven through
//! ChromeDriver's W3C WebDriver protocol (plain HTTP and JSON), on a phone's
//! viewport. `cargo xtask test` installs Debian's `chromium` and
//! `chromium-driver` when they are missing; `JIANDU_CHROMIUM_BIN` and
//! `JIANDU_CHROMEDRIVER_BIN` point elsewhere.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A phone's screen: 360 CSS pixels wide, the narrowest the pages must serve.
pub const PHONE: (u32, u32) = (360, 780);

/// One browser session, ended (and its driver killed) when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
}

fn binary(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium whose viewport is
    /// `width`×`height` CSS pixels at a phone's pixel ratio.
    pub fn start((width, height): (u32, u32)) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(binary("JIANDU_CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "start chromedriver (Debian's chromium-driver; `cargo xtask test` installs it)",
            );
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        let root = format!("http://127.0.0.1:{port}");
        let mut browser = Self {
            driver,
            base: root.clone(),
            agent,
        };
        let started = Instant::now();
        while browser
            .agent
            .get(format!("{root}/status"))
            .call()
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not answer on {root} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let chromium = binary("JIANDU_CHROMIUM_BIN", "/usr/bin/chromium");
        let session = browser.command(
            "POST",
            "/session",
            json!({ "capabilities": { "alwaysMatch": {
                "goog:loggingPrefs": { "browser": "ALL" },
                "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--lang=zh-CN"],
                "mobileEmulation": { "deviceMetrics": {
                    "width": width, "height": height, "pixelRatio": 2.0 } }
            } } } }),
        );
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {session}"));
        browser.base = format!("{root}/session/{id}");
        browser
    }

    /// Sends one WebDriver command and returns its `value`; an error answer panics.
    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let result = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self.agent.post(&url).send_json(&body),
        };
        let mut response = result.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status();
        let answer: Value = response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e})"));
        assert!(
            status.is_success(),
            "WebDriver {method} {path} failed ({status}): {}",
            answer["value"]
        );
        answer["value"].clone()
    }

    /// Opens `url` and waits until its script marks the page ready.
    pub fn open(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
        self.wait_until("document.body.dataset.ready === 'true'", url);
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn script(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// Polls the expression `condition` until it is true, for up to 30 s.
    pub fn wait_until(&self, condition: &str, what: &str) {
        let started = Instant::now();
        let script = format!("return Boolean({condition});");
        while self.script(&script, json!([])) != json!(true) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waited 30 s for {what} ({condition}); the page shows:\n{}\nits console:\n{}",
                self.text("body"),
                self.console()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks `refresh` once a second until the expression `condition` is
    /// true, for up to `within`: for what the workflows change behind the page.
    pub fn wait_refreshing(&self, condition: &str, refresh: &str, within: Duration, what: &str) {
        let started = Instant::now();
        let script = format!("return Boolean({condition});");
        while self.script(&script, json!([])) != json!(true) {
            assert!(
                started.elapsed() < within,
                "waited {within:?} for {what} ({condition}); the page shows:\n{}\nits console:\n{}",
                self.text("body"),
                self.console()
            );
            self.click(refresh);
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// What the page wrote to its console so far (errors included).
    pub fn console(&self) -> String {
        let entries = self.command("POST", "/se/log", json!({ "type": "browser" }));
        entries
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|e| format!("{} {}", e["level"], e["message"]))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// Clears the field `css` and types `text` into it, as a person would.
    pub fn fill(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/clear"), json!({}));
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    /// Clicks the element `css`.
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.command("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Presses keys (WebDriver key codes, e.g. `\u{E004}` for Tab) in the focused element.
    pub fn press(&self, keys: &str) {
        let active = self.command("GET", "/element/active", Value::Null);
        let id = active[ELEMENT].as_str().expect("a focused element");
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": keys }),
        );
    }

    /// Chooses `value` in the `<select>` `css` and tells the page it changed.
    pub fn choose(&self, css: &str, value: &str) {
        let chosen = self.script(
            "const el = document.querySelector(arguments[0]);
             el.value = arguments[1];
             el.dispatchEvent(new Event('change', { bubbles: true }));
             return el.value;",
            json!([css, value]),
        );
        assert_eq!(chosen, json!(value), "{css} has no option {value}");
    }

    /// The visible text of the element `css`.
    pub fn text(&self, css: &str) -> String {
        self.script(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText : null;",
            json!([css]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Saves a screenshot of the viewport as `target/screenshots/<name>.png`
    /// and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command("GET", "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a base64 screenshot"))
            .expect("valid base64");
        let dir = crate::repo().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write the screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.base.contains("/session/") {
            let _ = self.agent.delete(&self.base).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
