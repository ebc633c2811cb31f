//! The debug page in headless Chromium: the demo's page for `/panic` is opened, a frame's
//! context line is clicked to show the source around it, a frame's local variables are
//! opened, the copy-and-paste view is switched to and back, and no JavaScript error may be
//! logged. Screenshots go to `target/browser-screenshots/`.
//!
//! Chromium is driven over the DevTools protocol (a websocket on 127.0.0.1). The browser is
//! `SAFE_REPORT_CHROMIUM`, else the first of `chromium`, `chromium-browser`,
//! `google-chrome` found on the `PATH`. Without one the test is skipped with a message,
//! unless `SAFE_REPORT_REQUIRE_BROWSER=1` (as `.ci/run` sets once it has installed
//! Chromium), which makes a missing browser a failure.
#![cfg(feature = "axum")]

mod web;

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

#[cfg(feature = "actix")]
#[allow(dead_code)]
#[path = "../examples/demo_actix.rs"]
mod demo_actix;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The demo itself; the browser test starts it in a process of its own.
#[test]
#[ignore = "runs the demo server until it is killed; started by the browser test"]
fn demo_process() {
    demo::main().unwrap();
}

/// The actix-web demo; the browser test starts it in a process of its own.
#[cfg(feature = "actix")]
#[test]
#[ignore = "runs the demo server until it is killed; started by the browser test"]
fn demo_actix_process() {
    demo_actix::main().unwrap();
}

/// One of the two shops whose debug page is looked at.
#[derive(Clone, Copy)]
struct Shop {
    /// The ignored test that runs it.
    process: &'static str,
    /// Its source file, under `examples/`.
    file: &'static str,
    source: &'static str,
    /// Screenshots of its pages start with this.
    prefix: &'static str,
}

const AXUM: Shop = Shop {
    process: "demo_process",
    file: "demo.rs",
    source: include_str!("../examples/demo.rs"),
    prefix: "",
};

#[cfg(feature = "actix")]
const ACTIX: Shop = Shop {
    process: "demo_actix_process",
    file: "demo_actix.rs",
    source: include_str!("../examples/demo_actix.rs"),
    prefix: "actix-",
};

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SAFE_REPORT_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Where screenshots are kept: `<target dir>/browser-screenshots`.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Headless Chromium with a fresh profile, killed when dropped.
struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
    endpoint: String,
}

impl Chromium {
    fn launch(binary: &Path) -> Chromium {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1280,1600",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let stderr = child.stderr.take().unwrap();
        let (found, endpoint) = mpsc::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("ws://")
                    && let Some(found) = found.take()
                {
                    let _ = found.send(line[at..].trim().to_owned());
                }
            }
        });
        let endpoint = endpoint
            .recv_timeout(Duration::from_secs(60))
            .expect("Chromium printed no DevTools endpoint within 60 s");
        Chromium {
            child,
            _profile: profile,
            endpoint,
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DevTools protocol session with one page.
struct Page {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    session: Option<String>,
    next_id: u64,
    /// Events read while waiting for answers, in order.
    events: Vec<Value>,
}

const STEP_TIMEOUT: Duration = Duration::from_secs(30);

impl Page {
    fn connect(endpoint: &str) -> Page {
        let (socket, _) = tungstenite::connect(endpoint).unwrap();
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
        }
        let mut page = Page {
            socket,
            session: None,
            next_id: 0,
            events: Vec::new(),
        };
        let target = page.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = page.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        page.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            page.call(domain, json!({}));
        }
        page
    }

    fn read(&mut self) -> Option<Value> {
        match self.socket.read() {
            Ok(Message::Text(text)) => Some(serde_json::from_str(&text).unwrap()),
            Ok(_) => None,
            Err(tungstenite::Error::Io(error))
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(error) => panic!("DevTools connection failed: {error}"),
        }
    }

    /// Sends a command and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::Text(message.to_string().into()))
            .unwrap();
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            assert!(
                Instant::now() < deadline,
                "no answer to {method} within 30 s"
            );
            let Some(message) = self.read() else { continue };
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    panic!("{method} failed: {error}");
                }
                return message["result"].clone();
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// Waits for an event of this page (at most 30 s).
    fn wait_for(&mut self, method: &str) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut seen = 0;
        loop {
            if self.events[seen..]
                .iter()
                .any(|event| event["method"] == method)
            {
                return;
            }
            seen = self.events.len();
            assert!(Instant::now() < deadline, "no {method} within 30 s");
            if let Some(message) = self.read()
                && message.get("method").is_some()
            {
                self.events.push(message);
            }
        }
    }

    /// The value of a JavaScript expression.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Clicks the middle of the element `selector` with the mouse, as a person would.
    fn click(&mut self, selector: &str) {
        let rect = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector:?}); \
             e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
             return {{x: r.x + Math.min(r.width / 2, 40), y: r.y + r.height / 2, \
                      w: r.width, h: r.height}}; }})()"
        ));
        assert!(
            rect["w"].as_f64().unwrap() > 0.0 && rect["h"].as_f64().unwrap() > 0.0,
            "{selector} is not visible: {rect}"
        );
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": rect["x"], "y": rect["y"],
                       "button": "left", "clickCount": 1}),
            );
        }
    }

    fn screenshot(&mut self, name: &str) -> PathBuf {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let path = screenshot_dir().join(name);
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    /// JavaScript errors: uncaught exceptions, `console.error`, and errors the browser
    /// logged for scripts.
    fn javascript_errors(&mut self) -> Vec<Value> {
        // Read what is still queued.
        let quiet = Instant::now() + Duration::from_millis(300);
        while Instant::now() < quiet {
            if let Some(message) = self.read()
                && message.get("method").is_some()
            {
                self.events.push(message);
            }
        }
        self.events
            .iter()
            .filter(|event| match event["method"].as_str() {
                Some("Runtime.exceptionThrown") => true,
                Some("Runtime.consoleAPICalled") => event["params"]["type"] == "error",
                Some("Log.entryAdded") => {
                    let entry = &event["params"]["entry"];
                    entry["level"] == "error" && entry["source"] == "javascript"
                }
                _ => false,
            })
            .cloned()
            .collect()
    }
}

/// Finds every heading whose box overlaps the box of the element after it, at the page's
/// current viewport. Headings are `h1`..`h6` and whatever else titles a part of the page
/// (table captions, legends, `role="heading"`). The element after a heading is the first
/// element that follows it in document order, outside it, with a box (elements not shown
/// are passed over). Each overlap is described with both elements' texts and boxes.
const HEADING_OVERLAPS: &str = r#"(() => {
  const headings = 'h1, h2, h3, h4, h5, h6, caption, legend, [role="heading"]';
  const shown = (element) => {
    const box = element.getBoundingClientRect();
    return element.checkVisibility({visibilityProperty: true}) && box.width > 0 && box.height > 0;
  };
  const after = (element) => {
    let at = element;
    while (at && at !== document.body) {
      if (at.nextElementSibling) {
        at = at.nextElementSibling;
        if (shown(at)) return at;
      } else {
        at = at.parentElement;
      }
    }
    return null;
  };
  const describe = (element) => {
    const box = element.getBoundingClientRect();
    let name = element.tagName.toLowerCase();
    if (element.id) name += '#' + element.id;
    else if (element.classList.length) name += '.' + [...element.classList].join('.');
    const text = (element.innerText || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    return `${name} "${text}" [x ${Math.round(box.left)}..${Math.round(box.right)}, ` +
      `y ${Math.round(box.top)}..${Math.round(box.bottom)}]`;
  };
  const overlaps = [];
  for (const heading of document.querySelectorAll(headings)) {
    if (!shown(heading)) continue;
    const next = after(heading);
    if (!next) continue;
    const a = heading.getBoundingClientRect();
    const b = next.getBoundingClientRect();
    const wide = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const high = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (wide > 0.5 && high > 0.5) {
      overlaps.push(`${describe(heading)} overlaps ${describe(next)} by ${Math.round(high)} px`);
    }
  }
  return overlaps;
})()"#;

/// Text the page cuts off at `width`: text left of the viewport, which no scrolling
/// reaches, and a page wider than the viewport (text past its right edge needs sideways
/// scrolling). Text inside elements that scroll or clip on purpose (source lines, the
/// copy-and-paste text area) is not counted.
const HIDDEN_TEXT: &str = r#"(() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const parent = node.parentElement;
    if (parent.closest('textarea, div.context')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const box of range.getClientRects()) {
      if (box.width > 0 && (box.left < -0.5 || box.right > width + 0.5)) {
        found.push(`"${node.textContent.trim().slice(0, 40)}" in ${parent.tagName.toLowerCase()} ` +
          `at x ${Math.round(box.left)}..${Math.round(box.right)} (viewport ${width} px)`);
        break;
      }
    }
  }
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) found.push(`the page is ${scroll} px wide in a viewport of ${width} px`);
  return found;
})()"#;

/// Lays the page out `width` CSS pixels wide.
fn set_viewport(page: &mut Page, width: u32, height: u32) {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
    );
    let seen = page.eval("document.documentElement.clientWidth");
    assert!(
        seen.as_f64().unwrap() <= f64::from(width),
        "the viewport is {seen} px wide, not {width}"
    );
}

fn displayed(page: &mut Page, id: &str) -> bool {
    page.eval(&format!(
        "getComputedStyle(document.getElementById({id:?})).display !== 'none'"
    )) == json!(true)
}

#[test]
fn the_debug_page_works_in_chromium() {
    the_debug_page_works_in_chromium_on(AXUM);
}

#[cfg(feature = "actix")]
#[test]
fn the_actix_debug_page_works_in_chromium() {
    the_debug_page_works_in_chromium_on(ACTIX);
}

fn the_debug_page_works_in_chromium_on(shop: Shop) {
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    // Editor links to VS Code, with the demo's sources mapped to where a developer has them.
    let sources = env!("CARGO_MANIFEST_DIR");
    let path_map = format!("{sources}=/home/dev/safe-report");
    let demo = web::Demo::start(
        shop.process,
        &[
            ("SAFE_REPORT_DEBUG", "1"),
            ("SAFE_REPORT_EDITOR", "vscode"),
            ("SAFE_REPORT_EDITOR_PATH_MAP", &path_map),
        ],
    );
    let chromium = Chromium::launch(&binary);
    let mut page = Page::connect(&chromium.endpoint);

    page.call(
        "Page.navigate",
        json!({"url": format!("http://{}/panic", demo.addr)}),
    );
    page.wait_for("Page.loadEventFired");
    assert_eq!(page.eval("document.title"), json!("panic at /panic"));
    page.screenshot(&format!("{}debug-page.png", shop.prefix));

    // Library frames are folded away; the application frames are shown.
    let frames = page.eval(
        "(() => { const shown = (e) => e.checkVisibility() && e.getBoundingClientRect().height > 0; \
         const library = [...document.querySelectorAll('#browserTraceback li.frame.library')]; \
         const user = [...document.querySelectorAll('#browserTraceback li.frame.user')]; \
         const toggles = [...document.querySelectorAll('#browserTraceback li.library-frames > details')]; \
         return {library: library.length, libraryShown: library.filter(shown).length, \
                 user: user.length, userShown: user.filter(shown).length, \
                 toggles: toggles.map(d => ({open: d.open, \
                   frames: d.querySelectorAll('li.frame.library').length, \
                   summary: d.querySelector('summary').innerText.trim()}))}; })()",
    );
    let library = frames["library"].as_u64().unwrap();
    assert!(
        library > 0,
        "the demo's panic has no library frames: {frames}"
    );
    assert_eq!(
        frames["libraryShown"],
        json!(0),
        "library frames shown: {frames}"
    );
    assert!(frames["user"].as_u64().unwrap() >= 3, "{frames}");
    assert_eq!(frames["userShown"], frames["user"], "{frames}");
    let toggles = frames["toggles"].as_array().unwrap();
    let mut folded = 0;
    for toggle in toggles {
        let n = toggle["frames"].as_u64().unwrap();
        folded += n;
        assert_eq!(toggle["open"], json!(false), "{frames}");
        let plural = if n == 1 { "" } else { "s" };
        assert_eq!(
            toggle["summary"],
            json!(format!("Show {n} library frame{plural}")),
            "{frames}"
        );
    }
    assert_eq!(folded, library, "every library frame is behind a toggle");
    let first = "#browserTraceback li.library-frames > details";
    page.click(&format!("{first} > summary"));
    let opened = page.eval(&format!(
        "(() => {{ const d = document.querySelector({first:?}); \
         const frames = [...d.querySelectorAll('li.frame.library')]; \
         return {{open: d.open, shown: frames.filter(f => f.checkVisibility() && f.getBoundingClientRect().height > 0).length, \
                  frames: frames.length, summary: d.querySelector('summary').innerText.trim()}}; }})()"
    ));
    assert_eq!(opened["open"], json!(true), "{opened}");
    assert_eq!(opened["shown"], opened["frames"], "{opened}");
    assert!(
        opened["summary"].as_str().unwrap().starts_with("Hide "),
        "{opened}"
    );
    page.screenshot(&format!("{}library-frames.png", shop.prefix));
    page.click(&format!("{first} > summary"));
    assert_eq!(
        page.eval(&format!("document.querySelector({first:?}).open")),
        json!(false)
    );

    // The caret under the panic's column: `panic!` starts at column 5 of its line in
    // examples/demo.rs; the caret is drawn under that character.
    let caret = page.eval(
        "(() => { const carets = [...document.querySelectorAll('#browserTraceback pre.caret')]; \
         if (carets.length !== 1) return {count: carets.length}; \
         const caret = carets[0]; const line = caret.previousElementSibling; \
         const column = Number(caret.title.replace('column ', '')); \
         const at = (node, index) => { const r = document.createRange(); \
           r.setStart(node, index); r.setEnd(node, index + 1); return r.getBoundingClientRect(); }; \
         const text = line.firstChild; const mark = caret.firstChild; \
         return {count: 1, column, character: text.data[column - 1], \
                 lineX: at(text, column - 1).left, caretX: at(mark, mark.data.length - 1).left, \
                 caretText: mark.data.trim(), caretBelow: caret.getBoundingClientRect().top >= line.getBoundingClientRect().bottom - 0.5, \
                 file: caret.closest('li.frame').querySelector('.fname').textContent}; })()",
    );
    assert_eq!(caret["count"], json!(1), "one caret on the page: {caret}");
    assert_eq!(caret["column"], json!(5), "{caret}");
    assert_eq!(caret["character"], json!("p"), "{caret}");
    assert_eq!(caret["caretText"], json!("^"), "{caret}");
    assert_eq!(caret["caretBelow"], json!(true), "{caret}");
    let drift = caret["lineX"].as_f64().unwrap() - caret["caretX"].as_f64().unwrap();
    assert!(
        drift.abs() < 1.0,
        "the caret is not under column 5: {caret}"
    );
    assert!(
        caret["file"].as_str().unwrap().ends_with(shop.file),
        "{caret}"
    );

    // Editor links: every frame with a file and a line links to it in VS Code, through the
    // path map; the innermost application frame points at the panic's line and column.
    let links = page.eval(
        "[...document.querySelectorAll('#browserTraceback li.frame')].map(f => { \
           const a = f.querySelector(':scope > a.editor'); \
           return {file: f.querySelector('.fname').textContent, \
                   href: a ? a.getAttribute('href') : null, \
                   protocol: a ? new URL(a.href).protocol : null, \
                   text: a ? a.textContent : null, user: f.classList.contains('user')}; })",
    );
    let links = links.as_array().unwrap();
    let user: Vec<&Value> = links.iter().filter(|l| l["user"] == json!(true)).collect();
    for link in &user {
        assert_eq!(link["protocol"], json!("vscode:"), "{link}");
        assert_eq!(link["text"], json!("Open in VS Code"), "{link}");
        let href = link["href"].as_str().unwrap();
        assert!(
            href.starts_with("vscode://file/home/dev/safe-report/"),
            "the path map was not applied: {link}"
        );
        assert!(href.contains(&format!("examples/{}:", shop.file)), "{link}");
    }
    let panic_line = shop
        .source
        .lines()
        .position(|line| line.contains("panic!(\"the payment gateway refused order"))
        .expect("the demo's panic")
        + 1;
    let innermost = user.last().unwrap()["href"].as_str().unwrap();
    assert!(
        innermost.ends_with(&format!("/examples/{}:{panic_line}:5", shop.file)),
        "{innermost}"
    );
    for link in links {
        if let Some(href) = link["href"].as_str() {
            assert!(href.starts_with("vscode://file/"), "{link}");
        }
    }

    // The innermost application frame: its source around its line is hidden until its
    // line is clicked.
    let frame = page.eval(
        "(() => { const lists = [...document.querySelectorAll('#browserTraceback li.frame.user ol.pre-context')]; \
         return lists[lists.length - 1].id.slice(3); })()",
    );
    let frame = frame.as_str().unwrap().to_owned();
    let (pre, post) = (format!("pre{frame}"), format!("post{frame}"));
    assert!(
        !displayed(&mut page, &pre),
        "the context is shown before the click"
    );
    page.click(&format!("#c{frame} ol.context-line li"));
    assert!(
        displayed(&mut page, &pre),
        "the click did not show the lines before"
    );
    let shown = page.eval(&format!("document.getElementById({pre:?}).innerText"));
    assert!(shown.as_str().unwrap().contains("fn charge("), "{shown}");
    if page.eval(&format!("!!document.getElementById({post:?})")) == json!(true) {
        assert!(displayed(&mut page, &post));
    }
    page.screenshot(&format!("{}context-expanded.png", shop.prefix));

    // The local variables of the frame that registered them.
    let vars = page.eval(
        "(() => { const d = [...document.querySelectorAll('#browserTraceback details')] \
         .find(d => d.textContent.includes('order_id')); d.id = 'vars-under-test'; \
         return d.open; })()",
    );
    assert_eq!(
        vars,
        json!(false),
        "the variables are open before the click"
    );
    page.click("#vars-under-test > summary");
    assert_eq!(
        page.eval("document.getElementById('vars-under-test').open"),
        json!(true)
    );
    let table = page.eval(
        "(() => { const t = document.querySelector('#vars-under-test table.vars'); \
         return {text: t.innerText, height: t.getBoundingClientRect().height}; })()",
    );
    assert!(table["height"].as_f64().unwrap() > 0.0);
    let text = table["text"].as_str().unwrap();
    assert!(
        text.contains("order_id") && text.contains("\"ord_42\""),
        "{text}"
    );
    assert!(!text.contains("4111111111111111"), "{text}");
    page.screenshot(&format!("{}local-vars.png", shop.prefix));

    // The copy-and-paste view, and back.
    assert!(!displayed(&mut page, "pastebinTraceback"));
    page.click("#switch-view");
    assert!(displayed(&mut page, "pastebinTraceback"));
    assert!(!displayed(&mut page, "browserTraceback"));
    assert_eq!(
        page.eval("document.getElementById('switch-view').textContent"),
        json!("Switch back to interactive view")
    );
    let pasted = page.eval("document.getElementById('traceback_area').value");
    assert!(
        pasted
            .as_str()
            .unwrap()
            .contains("Traceback (most recent call last):")
    );
    page.screenshot(&format!("{}copy-and-paste.png", shop.prefix));
    page.click("#switch-view");
    assert!(displayed(&mut page, "browserTraceback"));
    assert!(!displayed(&mut page, "pastebinTraceback"));
    assert_eq!(
        page.eval("document.getElementById('switch-view').textContent"),
        json!("Switch to copy-and-paste view")
    );
    page.screenshot(&format!("{}interactive-again.png", shop.prefix));

    let errors = page.javascript_errors();
    assert!(errors.is_empty(), "JavaScript errors: {errors:#?}");
}

/// Skips (returns `None`) when there is no Chromium and none is required.
fn chromium_or_skip() -> Option<PathBuf> {
    let binary = find_chromium();
    if binary.is_none() {
        assert!(
            std::env::var("SAFE_REPORT_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "SAFE_REPORT_REQUIRE_BROWSER=1 but no Chromium was found"
        );
        eprintln!(
            "skipped: no Chromium found (install Debian's `chromium` package, as .ci/run does, \
             or set SAFE_REPORT_CHROMIUM)"
        );
    }
    binary
}

/// No heading of the debug page is drawn over what follows it, on a desktop screen and on a
/// phone's, with every part of the page open; and at phone width no text is cut off.
#[test]
fn the_debug_page_headings_do_not_overlap_what_follows() {
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    let demo = web::Demo::start("demo_process", &[("SAFE_REPORT_DEBUG", "1")]);
    let chromium = Chromium::launch(&binary);
    let mut page = Page::connect(&chromium.endpoint);
    page.call(
        "Page.navigate",
        json!({"url": format!("http://{}/panic", demo.addr)}),
    );
    page.wait_for("Page.loadEventFired");
    assert_eq!(page.eval("document.title"), json!("panic at /panic"));
    // Without SAFE_REPORT_EDITOR, no editor links.
    assert_eq!(
        page.eval("document.querySelectorAll('a.editor').length"),
        json!(0)
    );
    // Every part open: the source around each line, every frame's variables, every
    // library frame.
    page.eval(
        "document.querySelectorAll('ol.pre-context, ol.post-context') \
         .forEach(list => list.style.display = 'block'); \
         document.querySelectorAll('details').forEach(details => details.open = true)",
    );
    let mut problems = Vec::new();
    for (width, height) in [(1280, 1600), (390, 844)] {
        set_viewport(&mut page, width, height);
        page.eval("document.getElementById('requestinfo').scrollIntoView()");
        page.screenshot(&format!("request-information-{width}.png"));
        let overlaps = page.eval(HEADING_OVERLAPS);
        for overlap in overlaps.as_array().unwrap() {
            problems.push(format!("at {width} px: {}", overlap.as_str().unwrap()));
        }
    }
    set_viewport(&mut page, 390, 844);
    let hidden = page.eval(HIDDEN_TEXT);
    for text in hidden.as_array().unwrap() {
        problems.push(format!("at 390 px: {}", text.as_str().unwrap()));
    }
    assert!(
        problems.is_empty(),
        "headings overlap what follows them, or text is cut off:\n{}",
        problems.join("\n")
    );
    let errors = page.javascript_errors();
    assert!(errors.is_empty(), "JavaScript errors: {errors:#?}");
}

/// "Copy as Markdown" puts the filtered report on the clipboard, exactly the Markdown the
/// page embeds: the exception, the application frames, the breadcrumb the handler logged,
/// and no secret. The clipboard is read back through the browser's clipboard API.
#[test]
fn copy_as_markdown_puts_the_filtered_report_on_the_clipboard() {
    let Some(binary) = chromium_or_skip() else {
        return;
    };
    let demo = web::Demo::start("demo_process", &[("SAFE_REPORT_DEBUG", "1")]);
    let chromium = Chromium::launch(&binary);
    let mut page = Page::connect(&chromium.endpoint);
    // Clipboard permissions are granted by the browser, not by the page's session.
    let session = page.session.take();
    page.call(
        "Browser.grantPermissions",
        json!({"origin": format!("http://{}", demo.addr),
               "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
    );
    page.session = session;
    page.call(
        "Page.navigate",
        json!({"url": format!("http://{}/panic", demo.addr)}),
    );
    page.wait_for("Page.loadEventFired");
    page.call("Page.bringToFront", json!({}));
    page.click("#copy-markdown");
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let status = page.eval("document.getElementById('copy-markdown-status').textContent");
        if status == json!("Copied") {
            break;
        }
        assert!(
            status == json!("") && Instant::now() < deadline,
            "the copy did not succeed: {status}"
        );
    }
    let read = page.call(
        "Runtime.evaluate",
        json!({"expression": "navigator.clipboard.readText()", "awaitPromise": true,
               "userGesture": true, "returnByValue": true}),
    );
    assert!(read.get("exceptionDetails").is_none(), "{read}");
    let copied = read["result"]["value"].as_str().unwrap().to_owned();
    let embedded = page.eval("document.getElementById('report-markdown').content.textContent");
    assert_eq!(copied, embedded.as_str().unwrap());
    assert!(copied.starts_with("## `panic at /panic`\n"), "{copied}");
    assert!(
        copied.contains("the payment gateway refused order ord_42"),
        "{copied}"
    );
    for function in ["demo::checkout", "demo::place_order", "demo::charge"] {
        assert!(copied.contains(function), "{function} missing:\n{copied}");
    }
    assert!(copied.contains("- **Request:** `GET http://"), "{copied}");
    assert!(copied.contains("charging order ord_42"), "{copied}");
    assert!(copied.contains("order_id = \"ord_42\""), "{copied}");
    for secret in [
        "4111111111111111",
        "hunter2-db-pass",
        "demo-secret-key-9f8e7d6c5b4a",
        "gw-7Hq2xKp9Lm4Zr8Tn",
    ] {
        assert!(!copied.contains(secret), "{secret} copied:\n{copied}");
    }
    // Library frames are not copied.
    assert!(!copied.contains("tokio::runtime"), "{copied}");
    let errors = page.javascript_errors();
    assert!(errors.is_empty(), "JavaScript errors: {errors:#?}");
}
