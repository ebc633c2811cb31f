//! A [`Report`] as a Sentry event (protocol v7), field by field. Only the report is read:
//! every string here has passed the filter.
//!
//! | event | from the report |
//! |---|---|
//! | `exception.values` | the causes, oldest first, then the error: type, value, `mechanism` (`panic`, `generic` or `log`, `handled`, the chain's ids) and `stacktrace.frames` |
//! | frame | `function`, `module` (the function's path), `filename`, `abs_path` (an absolute file), `lineno`, `colno`, `in_app`, `pre_context`/`context_line`/`post_context`, `vars` (within ~2 KB, see [`FRAME_VARS_BYTES`]: long values cut to one length) |
//! | `request` | method, URL without query, `query_string` (pairs), `data` (form fields and files, or the JSON body), `cookies` (name/value pairs, Relay's form of the object), `headers` (pairs; not `Cookie`), `env.REMOTE_ADDR` only with the IP address on |
//! | `user` | the request's user as `username`; `ip_address` only with the IP address on |
//! | `contexts` | `os` (from the target), `runtime` (rustc and its version), `app` (the application), `safe_report` (what was hidden, per rule) |
//! | `tags` | the configuration's, then the report's (see [`runtime::context`](crate::runtime::context)) |
//! | `extra.context` | the report's context values |
//! | `release`, `environment`, `server_name` | the report's [`Identity`](crate::Identity) lines; the server name defaults to the report's host name |
//! | `transaction` | the route ("Raised during") |
//! | `fingerprint` | the flood-control fingerprint ([`Fingerprint::of_report`]) |
//! | `extra` | `settings` and the other environment lines |
//! | `_meta` | a remark (`rem`, substituted) on every value the filter replaced, naming the rule the filter recorded for it ([`Entry::hidden_by`](crate::report::Entry::hidden_by)); `len` where the sink cut a variable or left variables out |

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::SentryConfig;
use crate::filter::{ReporterFilter, Rule, SafeReporterFilter};
use crate::report::{Entry, Fingerprint, Report, ReportFrame, SOURCE_NOT_AVAILABLE, UNKNOWN_USER};
use crate::sinks::Origin;

/// The serialized size a frame's `vars` keep to: Relay keeps about 2,048 bytes of a frame's
/// variables and drops the rest without choosing.
pub(crate) const FRAME_VARS_BYTES: usize = 1800;
/// A variable's value is cut to at most this many characters.
pub(crate) const MAX_VAR_CHARS: usize = 1024;
/// Variables are left out only when even this many characters of each do not fit.
pub(crate) const MIN_VAR_CHARS: usize = 40;
/// Sentry keeps tag values to 200 characters.
const MAX_TAG_CHARS: usize = 200;

/// A fresh event id: 32 hex digits from the process's random hasher keys, the time and a
/// counter (unique, not secret).
pub(crate) fn new_event_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::LazyLock<std::collections::hash_map::RandomState> =
        std::sync::LazyLock::new(Default::default);
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let half = |salt: u64| {
        let mut hasher = KEYS.build_hasher();
        hasher.write_u64(salt);
        hasher.write_u64(count);
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// What the mapping needs besides the report.
pub(crate) struct Mapping<'a> {
    config: &'a SentryConfig,
    names: &'a SafeReporterFilter,
}

/// `_meta`: remarks by path, written as the event is.
#[derive(Default)]
struct Meta(Map<String, Value>);

impl Meta {
    fn at(&mut self, path: &[&str], entry: Value) {
        let mut node = &mut self.0;
        for key in path {
            node = node
                .entry((*key).to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("meta nodes are objects");
        }
        // Remarks on one value go together (a cut value that was also substituted).
        match (node.get_mut(""), entry) {
            (Some(Value::Object(here)), Value::Object(more)) => here.extend(more),
            (_, entry) => {
                node.insert(String::new(), entry);
            }
        }
    }

    fn substituted(&mut self, path: &[&str], rule: &str) {
        self.at(path, json!({"rem": [[rule, "s"]]}));
    }
}

/// Where a value sits, for the rule a remark names when the value's name says nothing.
#[derive(Clone, Copy)]
enum Section {
    Variables,
    Post,
    Headers,
    Cookies,
    Other,
}

impl Section {
    fn declared(self) -> Option<Rule> {
        match self {
            Section::Variables => Some(Rule::SensitiveVariables),
            Section::Post => Some(Rule::SensitivePostParameters),
            Section::Headers => Some(Rule::SensitiveHeader),
            Section::Cookies => Some(Rule::SessionCookie),
            Section::Other => None,
        }
    }
}

/// The rule id a remark names: `safe-report:` and the rule in words.
fn rule_id(rule: Option<Rule>) -> String {
    let label = rule.map_or("filtered", Rule::label);
    let mut id = String::from("safe-report:");
    for word in label
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !id.ends_with(':') {
            id.push('-');
        }
        id.push_str(&word.to_ascii_lowercase());
    }
    id
}

/// A formatted value as Sentry shows it: a plain quoted string without its quotes (the
/// report writes strings quoted, with Rust escapes; those with escapes stay as written).
fn unquote(value: &str) -> &str {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if !inner.contains(['"', '\\']) => inner,
        _ => value,
    }
}

fn cut(text: &str, max: usize) -> (String, Option<usize>) {
    match text.char_indices().nth(max) {
        Some((at, _)) => (format!("{}…", &text[..at]), Some(text.chars().count())),
        None => (text.to_owned(), None),
    }
}

/// `module` of a function path: what is before its last `::` outside angle brackets.
fn module_of(function: &str) -> Option<&str> {
    let mut depth = 0i32;
    let mut last = None;
    let bytes = function.as_bytes();
    for (at, byte) in bytes.iter().enumerate() {
        match byte {
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b':' if depth == 0 && bytes.get(at + 1) == Some(&b':') => last = Some(at),
            _ => {}
        }
    }
    let module = &function[..last?];
    (!module.is_empty() && !module.starts_with('<')).then_some(module)
}

impl<'a> Mapping<'a> {
    pub(crate) fn new(config: &'a SentryConfig, names: &'a SafeReporterFilter) -> Self {
        Self { config, names }
    }

    pub(crate) fn event(
        &self,
        report: &Report,
        origin: Origin,
        event_id: &str,
        now: jiff::Timestamp,
    ) -> Value {
        let mut meta = Meta::default();
        let mut event = Map::new();
        event.insert("event_id".into(), json!(event_id));
        event.insert("timestamp".into(), json!(now.to_string()));
        event.insert("platform".into(), json!("native"));
        event.insert("level".into(), json!(origin.level()));
        event.insert(
            "exception".into(),
            json!({"values": self.exceptions(report, origin, &mut meta)}),
        );
        if let Some(route) = &report.raised_during {
            event.insert("transaction".into(), json!(route));
        }
        if let Some(request) = self.request(report, &mut meta) {
            event.insert("request".into(), request);
        }
        if let Some(user) = self.user(report) {
            event.insert("user".into(), user);
        }
        let environment = |label: &str| {
            report
                .environment
                .lines
                .iter()
                .find(|line| line.name == label)
                .map(|line| line.value.as_str())
        };
        event.insert("contexts".into(), self.contexts(report, &environment));
        // The configuration's tags, then the report's (the work's, filtered).
        let tags: Map<String, Value> = self
            .config
            .tags
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .chain(
                report
                    .tags
                    .iter()
                    .map(|tag| (tag.name.as_str(), tag.value.as_str())),
            )
            .map(|(name, value)| (name.to_owned(), json!(cut(value, MAX_TAG_CHARS).0)))
            .collect();
        if !tags.is_empty() {
            event.insert("tags".into(), Value::Object(tags));
        }
        if let Some(release) = report.release() {
            event.insert("release".into(), json!(release));
        }
        if let Some(name) = report.deployment_environment() {
            event.insert("environment".into(), json!(name));
        }
        if let Some(server_name) = report.server_name() {
            event.insert("server_name".into(), json!(server_name));
        }
        let fingerprint = Fingerprint::of_report(report, "");
        event.insert(
            "fingerprint".into(),
            json!([format!("safe-report:{fingerprint}")]),
        );
        if !report.breadcrumbs.is_empty() {
            event.insert("breadcrumbs".into(), breadcrumbs(report));
        }
        event.insert("extra".into(), self.extra(report, &mut meta));
        event.insert(
            "sdk".into(),
            json!({"name": "safe-report", "version": env!("CARGO_PKG_VERSION")}),
        );
        if !meta.0.is_empty() {
            event.insert("_meta".into(), Value::Object(meta.0));
        }
        Value::Object(event)
    }

    /// The remark for a value the filter replaced, if it was, naming the rule that hid it
    /// (`hidden_by`, as the filter recorded it); when the report does not say, the rule is
    /// inferred from the value's `name` and its `section`.
    #[allow(clippy::too_many_arguments)]
    fn remark(
        &self,
        report: &Report,
        meta: &mut Meta,
        path: &[&str],
        name: &str,
        shown: &str,
        section: Section,
        hidden_by: Option<Rule>,
    ) {
        if shown == report.substitute {
            let rule = hidden_by
                .or_else(|| self.names.sensitive_name(name))
                .or(section.declared());
            meta.substituted(path, &rule_id(rule));
        } else if shown.contains(report.substitute.as_str()) {
            meta.substituted(path, &rule_id(hidden_by));
        }
    }

    fn exceptions(&self, report: &Report, origin: Origin, meta: &mut Meta) -> Vec<Value> {
        let (kind, handled) = match origin {
            Origin::Panic => ("panic", false),
            Origin::Error => ("generic", true),
            Origin::Log(_) => ("log", true),
        };
        let chained = !report.causes.is_empty();
        let newest = report.causes.len();
        let mut values = Vec::with_capacity(newest + 1);
        for (index, cause) in report.causes.iter().enumerate() {
            let mechanism = json!({
                "type": "chained",
                "source": if cause.explicit { "source" } else { "context" },
                "exception_id": newest - index,
                "parent_id": newest - index - 1,
            });
            values.push(self.exception(
                report,
                cause.exception_type.as_deref(),
                cause.exception_value.as_deref(),
                &cause.frames,
                mechanism,
                index,
                meta,
            ));
        }
        let mut mechanism = json!({"type": kind, "handled": handled});
        if chained {
            mechanism["exception_id"] = json!(0);
        }
        values.push(self.exception(
            report,
            report.exception_type.as_deref(),
            report.exception_value.as_deref(),
            &report.frames,
            mechanism,
            newest,
            meta,
        ));
        values
    }

    #[allow(clippy::too_many_arguments)]
    fn exception(
        &self,
        report: &Report,
        kind: Option<&str>,
        value: Option<&str>,
        frames: &[ReportFrame],
        mechanism: Value,
        index: usize,
        meta: &mut Meta,
    ) -> Value {
        let mut exception = Map::new();
        exception.insert("type".into(), json!(kind.unwrap_or("Report")));
        if let Some(value) = value {
            exception.insert("value".into(), json!(value));
            let index = index.to_string();
            self.remark(
                report,
                meta,
                &["exception", "values", &index, "value"],
                "",
                value,
                Section::Other,
                None,
            );
        }
        exception.insert("mechanism".into(), mechanism);
        if !frames.is_empty() {
            let frames: Vec<Value> = frames
                .iter()
                .enumerate()
                .map(|(at, frame)| self.frame(report, frame, index, at, meta))
                .collect();
            exception.insert("stacktrace".into(), json!({"frames": frames}));
        }
        Value::Object(exception)
    }

    fn frame(
        &self,
        report: &Report,
        frame: &ReportFrame,
        exception: usize,
        at: usize,
        meta: &mut Meta,
    ) -> Value {
        let mut out = Map::new();
        out.insert("function".into(), json!(frame.function));
        if let Some(module) = module_of(&frame.function) {
            out.insert("module".into(), json!(module));
        }
        if frame.file != "<unknown>" {
            out.insert("filename".into(), json!(frame.file));
            if std::path::Path::new(&frame.file).is_absolute() {
                out.insert("abs_path".into(), json!(frame.file));
            }
        }
        if let Some(line) = frame.line.filter(|&line| line > 0) {
            out.insert("lineno".into(), json!(line));
        }
        if let Some(column) = frame.column.filter(|&column| column > 0) {
            out.insert("colno".into(), json!(column));
        }
        out.insert("in_app".into(), json!(frame.in_app));
        if frame.context_line != SOURCE_NOT_AVAILABLE {
            out.insert("pre_context".into(), json!(frame.pre_context));
            out.insert("context_line".into(), json!(frame.context_line));
            out.insert("post_context".into(), json!(frame.post_context));
        }
        if !frame.vars.is_empty() {
            let (exception, at) = (exception.to_string(), at.to_string());
            let path = [
                "exception",
                "values",
                &exception,
                "stacktrace",
                "frames",
                &at,
                "vars",
            ];
            out.insert("vars".into(), self.vars(report, &frame.vars, &path, meta));
        }
        Value::Object(out)
    }

    /// A frame's variables within [`FRAME_VARS_BYTES`]: every variable kept, and the long
    /// values cut to one length, the longest that fits (at most [`MAX_VAR_CHARS`]), so
    /// that short values stay whole; only when even [`MIN_VAR_CHARS`] each does not fit are
    /// the largest left out. Names stay sorted.
    fn vars(&self, report: &Report, vars: &[Entry], path: &[&str], meta: &mut Meta) -> Value {
        let values: Vec<&str> = vars.iter().map(|entry| unquote(&entry.value)).collect();
        let size = |index: usize, cap: usize| {
            json_len(&vars[index].name) + json_len(&cut(values[index], cap).0) + 2
        };
        let budget = FRAME_VARS_BYTES.saturating_sub(2);
        let total = |kept: &[usize], cap: usize| kept.iter().map(|&i| size(i, cap)).sum::<usize>();
        let mut kept: Vec<usize> = (0..vars.len()).collect();
        while total(&kept, MIN_VAR_CHARS) > budget {
            let largest = (0..kept.len())
                .max_by_key(|&at| (size(kept[at], MIN_VAR_CHARS), at))
                .expect("not empty while over the budget");
            kept.remove(largest);
        }
        let (mut low, mut high) = (MIN_VAR_CHARS, MAX_VAR_CHARS);
        while low < high {
            let mid = (low + high).div_ceil(2);
            if total(&kept, mid) <= budget {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        let mut out = Map::new();
        for &index in &kept {
            let name = vars[index].name.as_str();
            let (value, full) = cut(values[index], low);
            let mut here = path.to_vec();
            here.push(name);
            if let Some(full) = full {
                meta.at(&here, json!({"len": full}));
            }
            let hidden_by = vars[index].hidden_by();
            self.remark(
                report,
                meta,
                &here,
                name,
                &value,
                Section::Variables,
                hidden_by,
            );
            out.insert(name.to_owned(), json!(value));
        }
        if kept.len() < vars.len() {
            meta.at(path, json!({"len": vars.len()}));
        }
        Value::Object(out)
    }

    fn request(&self, report: &Report, meta: &mut Meta) -> Option<Value> {
        let request = report.request.as_ref()?;
        let mut out = Map::new();
        out.insert("method".into(), json!(request.method));
        let url = request.url.split('#').next().unwrap_or("");
        let url = url.split_once('?').map_or(url, |(base, _)| base);
        out.insert("url".into(), json!(url));
        if !request.get.is_empty() {
            let mut pairs = Vec::new();
            for (index, entry) in request.get.iter().enumerate() {
                let value = unquote(&entry.value);
                let index = index.to_string();
                let path = ["request", "query_string", &index, "1"];
                let hidden_by = entry.hidden_by();
                self.remark(
                    report,
                    meta,
                    &path,
                    &entry.name,
                    value,
                    Section::Other,
                    hidden_by,
                );
                pairs.push(json!([entry.name, value]));
            }
            out.insert("query_string".into(), Value::Array(pairs));
        }
        let mut data = Map::new();
        for entry in &request.post {
            let value = unquote(&entry.value);
            let path = ["request", "data", entry.name.as_str()];
            let hidden_by = entry.hidden_by();
            self.remark(
                report,
                meta,
                &path,
                &entry.name,
                value,
                Section::Post,
                hidden_by,
            );
            data.insert(entry.name.clone(), json!(value));
        }
        let mut files = Map::new();
        for file in &request.files {
            files.insert(file.field.clone(), json!(file.description));
        }
        // The form, or the JSON body (as JSON when its formatted text is JSON), with the
        // uploaded files beside it; else why the body is not shown.
        let body = request
            .json_body
            .as_ref()
            .map(|body| serde_json::from_str(body).unwrap_or_else(|_| json!(body)));
        let data = match body {
            Some(Value::Object(mut object)) if data.is_empty() => {
                for (field, file) in files {
                    object.entry(field).or_insert(file);
                }
                Some(Value::Object(object))
            }
            Some(body) if data.is_empty() && files.is_empty() => Some(body),
            Some(body) => {
                data.extend(files);
                data.insert("[body]".into(), body);
                Some(Value::Object(data))
            }
            None if data.is_empty() && files.is_empty() => {
                request.body_note.as_ref().map(|note| json!(note))
            }
            None => {
                data.extend(files);
                Some(Value::Object(data))
            }
        };
        if let Some(data) = data {
            if request.post.is_empty() {
                self.remark_tree(
                    report,
                    meta,
                    &mut vec!["request".into(), "data".into()],
                    &data,
                );
            }
            out.insert("data".into(), data);
        }
        if !request.cookies.is_empty() {
            // Name/value pairs: Relay's own form of the cookie object, in which a remark
            // stays on its value (on an object, Relay moves remarks to the pairs it makes).
            let mut cookies = Vec::new();
            for (index, entry) in request.cookies.iter().enumerate() {
                let value = unquote(&entry.value);
                let index = index.to_string();
                let path = ["request", "cookies", &index, "1"];
                let hidden_by = entry.hidden_by();
                self.remark(
                    report,
                    meta,
                    &path,
                    &entry.name,
                    value,
                    Section::Cookies,
                    hidden_by,
                );
                cookies.push(json!([entry.name, value]));
            }
            out.insert("cookies".into(), Value::Array(cookies));
        }
        let mut headers = Vec::new();
        let mut remote_addr = None;
        for entry in &request.meta {
            let value = unquote(&entry.value);
            if entry.name == "REMOTE_ADDR" {
                remote_addr = Some(value);
                continue;
            }
            if entry.name.eq_ignore_ascii_case("cookie") {
                // Sent parsed, as `cookies`.
                continue;
            }
            let index = headers.len().to_string();
            let path = ["request", "headers", &index, "1"];
            let hidden_by = entry.hidden_by();
            self.remark(
                report,
                meta,
                &path,
                &entry.name,
                value,
                Section::Headers,
                hidden_by,
            );
            headers.push(json!([entry.name, value]));
        }
        if !headers.is_empty() {
            out.insert("headers".into(), Value::Array(headers));
        }
        if self.config.send_client_ip
            && let Some(addr) = remote_addr.filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        {
            out.insert("env".into(), json!({"REMOTE_ADDR": addr}));
        }
        Some(Value::Object(out))
    }

    /// Remarks on the substituted strings of a JSON body, by the names above them.
    fn remark_tree(&self, report: &Report, meta: &mut Meta, path: &mut Vec<String>, value: &Value) {
        match value {
            Value::Object(members) => {
                for (key, item) in members {
                    path.push(key.clone());
                    self.remark_tree(report, meta, path, item);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(index.to_string());
                    self.remark_tree(report, meta, path, item);
                    path.pop();
                }
            }
            Value::String(text) => {
                let here: Vec<&str> = path.iter().map(String::as_str).collect();
                let name = here.last().copied().unwrap_or("");
                self.remark(report, meta, &here, name, text, Section::Post, None);
            }
            _ => {}
        }
    }

    fn user(&self, report: &Report) -> Option<Value> {
        let request = report.request.as_ref()?;
        let mut user = Map::new();
        if request.user != UNKNOWN_USER && !request.user.is_empty() {
            user.insert("username".into(), json!(request.user));
        }
        if self.config.send_client_ip {
            let addr = request
                .meta
                .iter()
                .find(|entry| entry.name == "REMOTE_ADDR")
                .map(|entry| unquote(&entry.value))
                .filter(|addr| addr.parse::<std::net::IpAddr>().is_ok());
            if let Some(addr) = addr {
                user.insert("ip_address".into(), json!(addr));
            }
        }
        (!user.is_empty()).then_some(Value::Object(user))
    }

    fn contexts<'r>(
        &self,
        report: &Report,
        environment: &dyn Fn(&str) -> Option<&'r str>,
    ) -> Value {
        let mut contexts = Map::new();
        if let Some(target) = environment("Target") {
            let name = if target.contains("linux") {
                "Linux"
            } else if target.contains("apple") {
                "macOS"
            } else if target.contains("windows") {
                "Windows"
            } else {
                target.split('-').nth(2).unwrap_or(target)
            };
            contexts.insert("os".into(), json!({"type": "os", "name": name}));
        }
        if let Some(version) = environment("Rust Version") {
            let version = version.strip_prefix("rustc ").unwrap_or(version);
            let version = version.split_whitespace().next().unwrap_or(version);
            contexts.insert(
                "runtime".into(),
                json!({"type": "runtime", "name": "rustc", "version": version}),
            );
        }
        let app = environment("Application").or_else(|| {
            environment("Executable").map(|path| path.rsplit(['/', '\\']).next().unwrap_or(path))
        });
        if let Some(app) = app {
            contexts.insert("app".into(), json!({"type": "app", "app_name": app}));
        }
        let mut hidden = Map::new();
        for (rule, count) in report.redactions.iter() {
            hidden.insert(rule_id(Some(rule)), json!(count));
        }
        let mut summary = String::new();
        let _ = write!(summary, "{}", report.redactions);
        contexts.insert(
            "safe_report".into(),
            json!({
                "type": "safe_report",
                "summary": summary,
                "hidden": hidden,
                "substitute": report.substitute,
                "frames_omitted": report.frames_omitted,
            }),
        );
        Value::Object(contexts)
    }

    fn extra(&self, report: &Report, meta: &mut Meta) -> Value {
        let mut settings = Map::new();
        for entry in report.settings.iter() {
            let value = unquote(&entry.value);
            let path = ["extra", "settings", entry.name.as_str()];
            let hidden_by = entry.hidden_by();
            self.remark(
                report,
                meta,
                &path,
                &entry.name,
                value,
                Section::Other,
                hidden_by,
            );
            settings.insert(entry.name.clone(), json!(value));
        }
        let mut environment = Map::new();
        for line in &report.environment.lines {
            environment.insert(line.name.clone(), json!(line.value));
        }
        let mut extra = json!({"settings": settings, "environment": environment});
        if !report.context.is_empty() {
            let context: Map<String, Value> = report
                .context
                .iter()
                .map(|entry| (entry.name.clone(), json!(entry.value)))
                .collect();
            extra["context"] = Value::Object(context);
        }
        extra
    }
}

/// The length of `text` as a JSON string, quotes included (an estimate that never falls
/// short: escapes counted at their longest).
fn json_len(text: &str) -> usize {
    2 + text
        .chars()
        .map(|ch| match ch {
            '"' | '\\' => 2,
            ch if (ch as u32) < 0x20 => 6,
            ch => ch.len_utf8(),
        })
        .sum::<usize>()
}

/// The report's breadcrumbs as Sentry's `breadcrumbs` interface, oldest first: each with its
/// time, level, target as category, message and fields as `data`, as filtered.
fn breadcrumbs(report: &Report) -> Value {
    use crate::model::BreadcrumbLevel;
    let values: Vec<Value> = report
        .breadcrumbs
        .iter()
        .map(|crumb| {
            let level = match crumb.level {
                BreadcrumbLevel::Error => "error",
                BreadcrumbLevel::Warn => "warning",
                BreadcrumbLevel::Info => "info",
                _ => "debug",
            };
            let mut out = Map::new();
            out.insert("type".into(), json!("default"));
            out.insert("timestamp".into(), json!(crumb.timestamp.to_string()));
            out.insert("level".into(), json!(level));
            out.insert("category".into(), json!(crumb.category));
            out.insert("message".into(), json!(crumb.message));
            if !crumb.fields.is_empty() {
                let data: Map<String, Value> = crumb
                    .fields
                    .iter()
                    .map(|field| (field.name.clone(), json!(field.value)))
                    .collect();
                out.insert("data".into(), Value::Object(data));
            }
            Value::Object(out)
        })
        .collect();
    json!({ "values": values })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lose_their_quotes_only_when_plain() {
        assert_eq!(unquote("\"ord_42\""), "ord_42");
        assert_eq!(unquote("\"a \\\"b\\\"\""), "\"a \\\"b\\\"\"");
        assert_eq!(unquote("42"), "42");
        assert_eq!(unquote("{\"a\": 1}"), "{\"a\": 1}");
    }

    #[test]
    fn modules_are_the_path_before_the_function() {
        assert_eq!(module_of("shop::orders::load"), Some("shop::orders"));
        assert_eq!(module_of("<shop::A as core::fmt::Debug>::fmt"), None);
        assert_eq!(
            module_of("shop::Orders<T>::load::{{closure}}"),
            Some("shop::Orders<T>::load")
        );
        assert_eq!(module_of("main"), None);
    }

    #[test]
    fn breadcrumbs_go_to_the_breadcrumbs_interface_filtered() {
        use crate::model::{Breadcrumb, BreadcrumbLevel};
        let capture = crate::Capture::error("E", "boom")
            .with_breadcrumb(
                Breadcrumb::new(
                    BreadcrumbLevel::Info,
                    "shop::orders",
                    "charging order ord_42",
                )
                .field("order_id", "ord_42")
                .field("api_token", "tok-9f8e7d6c5b4a"),
            )
            .with_breadcrumb(Breadcrumb::new(
                BreadcrumbLevel::Warn,
                "shop::gateway",
                "retrying with Bearer abcdef0123456789abcdef",
            ));
        let report = crate::ExceptionReporter::default().report(&capture);
        let crumbs = breadcrumbs(&report);
        let values = crumbs["values"].as_array().unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[0]["category"], "shop::orders");
        assert_eq!(values[0]["level"], "info");
        assert_eq!(values[0]["message"], "charging order ord_42");
        assert_eq!(values[0]["data"]["order_id"], "ord_42");
        assert_eq!(values[0]["data"]["api_token"], crate::DEFAULT_SUBSTITUTE);
        assert_eq!(values[1]["level"], "warning");
        assert_eq!(
            values[1]["message"],
            format!("retrying with Bearer {}", crate::DEFAULT_SUBSTITUTE)
        );
        assert!(!crumbs.to_string().contains("tok-9f8e7d6c5b4a"));
    }

    #[test]
    fn each_hidden_value_names_the_rule_that_hid_it() {
        let token = "ghp_k7Qm2Xw9Lp4Rt8Vz3Nb6Yc1Hd5Fg0Js7Ae2Ku";
        let capture = crate::Capture::error("E", "x").with_frame(
            crate::Frame::new("shop::pay", "src/pay.rs", 3)
                .var("password", "hunter2-by-name")
                .var("upstream", token)
                .var("card", "4111111111111111")
                .var("note", format!("pushed with {token}"))
                .var("order_id", "ord_42"),
        );
        let report = crate::ExceptionReporter::default().report(&capture);
        let config = SentryConfig::new("https://k@sentry.example.com/1").unwrap();
        let event = config.event(&report, Origin::Error);
        let meta = &event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]["0"];
        let rule = |name: &str| meta["vars"][name][""]["rem"][0][0].clone();
        assert_eq!(rule("password"), "safe-report:name-pattern");
        assert_eq!(rule("upstream"), "safe-report:known-key-format");
        assert_eq!(rule("card"), "safe-report:card-number");
        assert_eq!(rule("note"), "safe-report:known-key-format");
        assert_eq!(meta["vars"].get("order_id"), None);
        let vars = &event["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"];
        assert_eq!(vars["upstream"], crate::DEFAULT_SUBSTITUTE);
        assert_eq!(
            vars["note"],
            format!("pushed with {}", crate::DEFAULT_SUBSTITUTE)
        );
    }

    #[test]
    fn rule_ids_are_stable_words() {
        assert_eq!(rule_id(Some(Rule::NamePattern)), "safe-report:name-pattern");
        assert_eq!(
            rule_id(Some(Rule::NameValueText)),
            "safe-report:name-value-in-text"
        );
        assert_eq!(rule_id(None), "safe-report:filtered");
    }
}
