//! A headless Chromium driven over the DevTools protocol (one process per person, so
//! that each has their own cookies): navigate, evaluate, wait for a condition, take a
//! screenshot. Chromium is Debian's `chromium` package; without it the browser tests
//! skip and say so, except under CI (`CI=true`), where they fail.

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The Chromium binary, if this machine has one.
pub fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|b| b.to_string())
}

/// One browser with one page.
pub struct Browser {
    child: Child,
    _profile: ledger::testing::TempDir,
    ws: Mutex<Socket>,
    next: std::sync::atomic::AtomicU64,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// A browser whose window is `width`×`height` (`mobile` for a phone).
    pub async fn launch(binary: &str, width: u32, height: u32, mobile: bool) -> Browser {
        let profile = ledger::testing::TempDir::new();
        let mut child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--force-device-scale-factor=1",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let stderr = child.stderr.take().expect("stderr");
        let port = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stderr).lines();
            let port = loop {
                let line = lines
                    .next()
                    .expect("chromium printed its port")
                    .expect("line");
                if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                    break rest.split('/').next().unwrap().to_string();
                }
            };
            // Keep draining, or chromium blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            port
        })
        .await
        .unwrap();
        let list: Value = reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let (ws, _) =
            tokio_tungstenite::connect_async(page["webSocketDebuggerUrl"].as_str().unwrap())
                .await
                .expect("devtools socket");
        let b = Browser {
            child,
            _profile: profile,
            ws: Mutex::new(ws),
            next: Default::default(),
        };
        b.call("Page.enable", json!({})).await;
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await;
        b
    }

    /// One DevTools call and its result.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let mut ws = self.ws.lock().await;
        ws.send(Message::Text(
            json!({ "id": id, "method": method, "params": params }).to_string(),
        ))
        .await
        .expect("send");
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer"))
                .expect("socket open")
                .expect("message");
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["id"] == id {
                    if let Some(e) = v.get("error") {
                        panic!("{method}: {e}");
                    }
                    return v["result"].clone();
                }
            }
        }
    }

    /// The value of a JavaScript expression (promises awaited).
    pub async fn eval(&self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Opens `url` and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).await;
        self.wait_loaded(url).await;
    }

    async fn wait_loaded(&self, _what: &str) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.wait_for(
            "document.readyState === 'complete'",
            Duration::from_secs(15),
        )
        .await;
    }

    /// Clicks the element `selector` finds and waits for the page it leads to.
    pub async fn click(&self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let before = self
            .eval("window.__page = Math.random(); window.__page")
            .await;
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.click(); return true; }})()"
            ))
            .await;
        assert_eq!(
            found,
            json!(true),
            "no element {selector} on {}",
            self.text().await
        );
        // A new document has no marker.
        let start = Instant::now();
        loop {
            let now = self
                .eval("window.__page === undefined ? null : window.__page")
                .await;
            if now != before && self.eval("document.readyState").await == "complete" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{selector} led nowhere"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Chooses the file `path` in the file input `selector` finds.
    pub async fn choose_file(&self, selector: &str, path: &std::path::Path) {
        let sel = serde_json::to_string(selector).unwrap();
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": format!("document.querySelector({sel})") }),
            )
            .await;
        let object = r["result"]["objectId"].clone();
        assert!(object.is_string(), "no element {selector}");
        self.call(
            "DOM.setFileInputFiles",
            json!({ "files": [path.display().to_string()], "objectId": object }),
        )
        .await;
    }

    /// Sets the value of the input `selector` finds.
    pub async fn fill(&self, selector: &str, value: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let val = serde_json::to_string(value).unwrap();
        let ok = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.value = {val}; return true; }})()"
            ))
            .await;
        assert_eq!(ok, json!(true), "no input {selector}");
    }

    /// Waits until `condition` (JavaScript) is true; a condition that throws (a page
    /// between two loads has no body yet) is not true yet.
    pub async fn wait_for(&self, condition: &str, within: Duration) -> Duration {
        let start = Instant::now();
        let test = format!(
            "(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()"
        );
        loop {
            if self.eval(&test).await == json!(true) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "not within {within:?}: {condition}\n{}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let r = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
