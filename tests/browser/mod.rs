//! A real browser for end-to-end tests: Debian's headless Chromium, driven
//! over the Chrome DevTools Protocol (CDP) on a loopback websocket.
//!
//! Why CDP and not `--dump-dom`: the DOM after layout (an SVG path's
//! rendered length and box) and every console message, uncaught exception,
//! browser log error (a CSP violation, a failed load) and network request
//! come back as structured events, instead of being scraped from log text
//! whose format changes between Chromium versions. The client is small:
//! one websocket (tungstenite), JSON messages, a session per page.
//!
//! Chromium must be installed (`apt-get install chromium`; `.ci/run` does
//! it). A missing browser is a test failure, not a skip.

#![allow(dead_code)]

use std::io::Read as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Where Debian puts Chromium; `RVC_TEST_CHROMIUM` overrides it.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("RVC_TEST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What a page did while loading.
#[derive(Debug, Default)]
pub struct Report {
    /// console.error/assert calls, uncaught exceptions and browser log
    /// entries at level error, one line each.
    pub errors: Vec<String>,
    /// Every URL the page requested (the page itself included).
    pub requests: Vec<String>,
}

pub struct Browser {
    child: Child,
    ws: tungstenite::WebSocket<TcpStream>,
    next_id: u64,
    /// Every event read so far (CDP messages without an `id`).
    events: Vec<Value>,
    profile: tempfile::TempDir,
}

const FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

impl Browser {
    /// Start Chromium with a fresh profile and connect to it. Panics with
    /// what to do when Chromium is missing or does not start.
    pub fn launch() -> Browser {
        let exe = chromium_path();
        assert!(
            exe.is_file(),
            "Chromium is not installed at {}: the browser tests need it. \
             Run `apt-get install chromium` (.ci/run installs it), or set \
             RVC_TEST_CHROMIUM to a Chromium binary",
            exe.display()
        );
        let profile = tempfile::Builder::new()
            .prefix("rvc-chromium-")
            .tempdir()
            .unwrap();
        let log = profile.path().join("stderr.log");
        let child = Command::new(&exe)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-port=0")
            .arg("--remote-allow-origins=*")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut b = Browser {
            child,
            ws: connect(profile.path(), &log),
            next_id: 0,
            events: Vec::new(),
            profile,
        };
        // Only needed to fail early with a clear message if CDP is broken.
        b.call(None, "Browser.getVersion", json!({}));
        b
    }

    /// Send a command (to a page session, or to the browser) and wait for
    /// its result. Events that arrive meanwhile are kept for later.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .unwrap_or_else(|e| panic!("CDP {method}: cannot send: {e}"));
        loop {
            let v = self.read(method);
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(err) = v.get("error") {
                    panic!("CDP {method} failed: {err}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    fn read(&mut self, waiting_for: &str) -> Value {
        loop {
            let msg = self.ws.read().unwrap_or_else(|e| {
                panic!(
                    "CDP: no answer while waiting for {waiting_for}: {e}\nChromium's stderr:\n{}",
                    self.stderr_tail()
                )
            });
            if let tungstenite::Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).expect("CDP sends JSON");
            }
        }
    }

    /// The last lines Chromium wrote to stderr, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.profile.path().join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Open `file` in a new tab, wait for it to load, and return the tab's
    /// session with what the page logged and requested.
    pub fn open(&mut self, file: &Path) -> (String, Report) {
        let url = format!("file://{}", file.display());
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            self.call(Some(&session), &format!("{domain}.enable"), json!({}));
        }
        self.call(Some(&session), "Page.navigate", json!({ "url": url }));
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = 0;
        'wait: loop {
            while seen < self.events.len() {
                let e = &self.events[seen];
                seen += 1;
                if e["sessionId"] == json!(session) && e["method"] == "Page.loadEventFired" {
                    break 'wait;
                }
            }
            assert!(Instant::now() < deadline, "{url} did not load within 60 s");
            let v = self.read("Page.loadEventFired");
            self.events.push(v);
        }
        // One more round trip: every event the page emitted before it is
        // now read (CDP keeps their order on the socket).
        self.call(
            Some(&session),
            "Runtime.evaluate",
            json!({ "expression": "1" }),
        );
        let report = report(&session, &self.events);
        (session, report)
    }

    /// Evaluate a JavaScript expression in the page and return its value
    /// (which must be JSON-serialisable).
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("the test's own script failed in the page: {ex}");
        }
        r["result"]["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait for Chromium to write its DevTools port into the profile, then
/// open the browser's websocket.
fn connect(profile: &Path, log: &Path) -> tungstenite::WebSocket<TcpStream> {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (port, path) = loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                if let Ok(port) = port.trim().parse::<u16>() {
                    break (port, path.trim().to_string());
                }
            }
        }
        if Instant::now() > deadline {
            let mut err = String::new();
            let _ = std::fs::File::open(log).and_then(|mut f| f.read_to_string(&mut err));
            panic!("Chromium did not open its DevTools port within 60 s; its stderr:\n{err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stream =
        TcpStream::connect(("127.0.0.1", port)).expect("connect to Chromium's DevTools port");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let (ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
        .unwrap_or_else(|e| panic!("DevTools websocket handshake failed: {e}"));
    ws
}

/// Errors and requests of one session, from its events.
fn report(session: &str, events: &[Value]) -> Report {
    let mut r = Report::default();
    for e in events.iter().filter(|e| e["sessionId"] == json!(session)) {
        let p = &e["params"];
        match e["method"].as_str().unwrap_or("") {
            "Runtime.consoleAPICalled"
                if matches!(p["type"].as_str(), Some("error" | "assert")) =>
            {
                let args: Vec<String> = p["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        a.get("value")
                            .map(|v| {
                                v.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| v.to_string())
                            })
                            .or_else(|| a["description"].as_str().map(str::to_string))
                            .unwrap_or_default()
                    })
                    .collect();
                r.errors.push(format!(
                    "console.{}: {}",
                    p["type"].as_str().unwrap_or(""),
                    args.join(" ")
                ));
            }
            "Runtime.exceptionThrown" => {
                let d = &p["exceptionDetails"];
                r.errors.push(format!(
                    "uncaught exception: {}",
                    d["exception"]["description"]
                        .as_str()
                        .or(d["text"].as_str())
                        .unwrap_or("?")
                ));
            }
            "Log.entryAdded" if p["entry"]["level"] == "error" => {
                r.errors.push(format!(
                    "log ({}): {} {}",
                    p["entry"]["source"].as_str().unwrap_or("?"),
                    p["entry"]["text"].as_str().unwrap_or(""),
                    p["entry"]["url"].as_str().unwrap_or("")
                ));
            }
            "Network.requestWillBeSent" => {
                if let Some(u) = p["request"]["url"].as_str() {
                    r.requests.push(u.to_string());
                }
            }
            _ => {}
        }
    }
    r
}
