//! Links from the frames of the browser page to the same line in your editor.
//!
//! The editor is named in code ([`EditorLinks::new`]) or by the environment
//! ([`EditorLinks::from_env`]):
//!
//! | variable | meaning |
//! |---|---|
//! | `SAFE_REPORT_EDITOR` | `vscode`, `idea`, `zed`, or a URL template with `{path}` and `{line}` (and optionally `{column}`) |
//! | `SAFE_REPORT_EDITOR_PATH_MAP` | where the sources of the running program are on your machine: `DEPLOYED=LOCAL`, several separated by commas (`/app=/home/me/src/shop, /rustc/4a5b6c=/home/me/rust`) |
//!
//! The links are:
//!
//! | editor | link |
//! |---|---|
//! | `vscode` | `vscode://file/home/me/src/shop/src/main.rs:12:5` |
//! | `idea` | `idea://open?file=/home/me/src/shop/src/main.rs&line=12` |
//! | `zed` | `zed://file/home/me/src/shop/src/main.rs:12:5` |
//! | a template | the template with `{path}`, `{line}` and `{column}` (`1` when unknown) replaced |
//!
//! A template must start with one of the schemes `http`, `https` or an editor's (`vscode`,
//! `vscode-insiders`, `vscodium`, `cursor`, `idea`, `jetbrains`, `zed`, `subl`, `txmt`,
//! `mvim`, `emacs`); any other (`javascript:`, `data:`, none) is refused. The scheme comes
//! from the configuration only: the path, which comes from the report, is percent-encoded
//! (everything but letters, digits, `-`, `.`, `_`, `~` and `/`), so it cannot end the part
//! it is put in, let alone make a `javascript:` link.
//!
//! The path map applies to a frame's file after a relative one was resolved against the
//! reporter's [`source_root`](crate::ExceptionReporter::source_root): the longest
//! `DEPLOYED` prefix that ends at a `/` of the path (or is the whole path) is replaced by
//! its `LOCAL` one. `vscode`, `idea` and `zed` need an absolute path: frames whose file is
//! relative after that get no link.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The environment variables [`EditorLinks::from_env`] reads.
pub const ENV_VARS: &[&str] = &["SAFE_REPORT_EDITOR", "SAFE_REPORT_EDITOR_PATH_MAP"];

/// The schemes a URL template may use.
pub const ALLOWED_SCHEMES: &[&str] = &[
    "http",
    "https",
    "vscode",
    "vscode-insiders",
    "vscodium",
    "cursor",
    "idea",
    "jetbrains",
    "zed",
    "subl",
    "txmt",
    "mvim",
    "emacs",
];

/// What a path keeps unencoded in a link: letters, digits, `-`, `.`, `_`, `~` and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

#[derive(Debug, Clone, PartialEq, Eq)]
enum Editor {
    VsCode,
    Idea,
    Zed,
    /// A checked template (its scheme is allowed, it has `{path}` and `{line}`).
    Template(String),
}

/// How the browser page links each frame to its line in an editor: the editor, and where
/// the program's source files are on the machine that opens the page. See the
/// [module documentation](self) for the forms.
///
/// ```
/// use safe_report::render::EditorLinks;
///
/// let links = EditorLinks::new("vscode")?.map_path("/app", "/home/me/src/shop");
/// assert_eq!(
///     links.url("/app/src/cart.rs", 12, Some(5)).as_deref(),
///     Some("vscode://file/home/me/src/shop/src/cart.rs:12:5")
/// );
/// assert!(EditorLinks::new("javascript:alert({path}{line})").is_err());
/// # Ok::<(), safe_report::render::EditorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorLinks {
    editor: Editor,
    /// `(deployed, local)` prefixes, without a trailing `/`.
    path_map: Vec<(String, String)>,
}

/// A refused editor setting: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorError {
    setting: String,
    reason: String,
}

impl fmt::Display for EditorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.reason)
    }
}

impl std::error::Error for EditorError {}

impl EditorError {
    fn new(setting: &str, reason: String) -> Self {
        Self {
            setting: setting.to_owned(),
            reason,
        }
    }
}

impl EditorLinks {
    /// Links for `editor`: `vscode`, `idea`, `zed`, or a URL template with `{path}` and
    /// `{line}` whose scheme is one of [`ALLOWED_SCHEMES`].
    pub fn new(editor: &str) -> Result<Self, EditorError> {
        Self::parse("editor", editor)
    }

    fn parse(setting: &str, editor: &str) -> Result<Self, EditorError> {
        let editor = editor.trim();
        let editor = match editor.to_ascii_lowercase().as_str() {
            "vscode" => Editor::VsCode,
            "idea" => Editor::Idea,
            "zed" => Editor::Zed,
            _ => Editor::Template(
                check_template(editor)
                    .map_err(|reason| EditorError::new(setting, format!("{editor:?} {reason}")))?,
            ),
        };
        Ok(Self {
            editor,
            path_map: Vec::new(),
        })
    }

    /// Opens files under `deployed` (where the running program's sources are) from under
    /// `local` instead. The longest matching prefix wins.
    pub fn map_path(mut self, deployed: impl Into<String>, local: impl Into<String>) -> Self {
        let trim = |mut path: String| {
            while path.len() > 1 && path.ends_with('/') {
                path.pop();
            }
            path
        };
        let deployed = trim(deployed.into());
        let local = trim(local.into());
        self.path_map.retain(|(known, _)| *known != deployed);
        self.path_map.push((deployed, local));
        self
    }

    /// Adds the mappings of a `DEPLOYED=LOCAL[, DEPLOYED=LOCAL…]` list (the form of
    /// `SAFE_REPORT_EDITOR_PATH_MAP`).
    ///
    /// ```
    /// use safe_report::render::EditorLinks;
    ///
    /// let links = EditorLinks::new("zed")?.path_map("/app=/home/me/shop, /srv/lib=/opt/lib")?;
    /// assert_eq!(
    ///     links.url("/srv/lib/x.rs", 3, None).as_deref(),
    ///     Some("zed://file/opt/lib/x.rs:3")
    /// );
    /// assert!(EditorLinks::new("zed")?.path_map("/app").is_err());
    /// # Ok::<(), safe_report::render::EditorError>(())
    /// ```
    pub fn path_map(self, map: &str) -> Result<Self, EditorError> {
        self.parse_path_map("path map", map)
    }

    fn parse_path_map(mut self, setting: &str, map: &str) -> Result<Self, EditorError> {
        for pair in map
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let Some((deployed, local)) = pair.split_once('=') else {
                return Err(EditorError::new(
                    setting,
                    format!("{pair:?} is not DEPLOYED=LOCAL (such as /app=/home/me/src/shop)"),
                ));
            };
            let (deployed, local) = (deployed.trim(), local.trim());
            if deployed.is_empty() || local.is_empty() {
                return Err(EditorError::new(
                    setting,
                    format!("{pair:?} has an empty side; write DEPLOYED=LOCAL"),
                ));
            }
            self = self.map_path(deployed, local);
        }
        Ok(self)
    }

    /// The links `SAFE_REPORT_EDITOR` and `SAFE_REPORT_EDITOR_PATH_MAP` ask for, or `None`
    /// when `SAFE_REPORT_EDITOR` is unset or empty. Errors name the variable and the value.
    pub fn from_env() -> Result<Option<Self>, EditorError> {
        Self::from_vars(ENV_VARS.iter().filter_map(|name| {
            std::env::var_os(name).map(|value| (*name, value.to_string_lossy().into_owned()))
        }))
    }

    /// As [`from_env`](Self::from_env), from the given name and value pairs (for tests, or
    /// another source of settings). Names not in [`ENV_VARS`] are ignored.
    ///
    /// ```
    /// use safe_report::render::EditorLinks;
    ///
    /// let links = EditorLinks::from_vars([
    ///     ("SAFE_REPORT_EDITOR", "idea"),
    ///     ("SAFE_REPORT_EDITOR_PATH_MAP", "/app=/home/me/src/shop"),
    /// ])?
    /// .unwrap();
    /// assert_eq!(
    ///     links.url("/app/src/main.rs", 7, None).as_deref(),
    ///     Some("idea://open?file=/home/me/src/shop/src/main.rs&line=7")
    /// );
    /// let error = EditorLinks::from_vars([("SAFE_REPORT_EDITOR", "data:text/html,{path}{line}")])
    ///     .unwrap_err();
    /// assert!(error.to_string().starts_with("SAFE_REPORT_EDITOR: "));
    /// # Ok::<(), safe_report::render::EditorError>(())
    /// ```
    pub fn from_vars<I, K, V>(vars: I) -> Result<Option<Self>, EditorError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let (mut editor, mut map) = (None, None);
        for (name, value) in vars {
            match name.as_ref() {
                "SAFE_REPORT_EDITOR" => editor = Some(value.as_ref().to_owned()),
                "SAFE_REPORT_EDITOR_PATH_MAP" => map = Some(value.as_ref().to_owned()),
                _ => {}
            }
        }
        let Some(editor) = editor.filter(|editor| !editor.trim().is_empty()) else {
            return Ok(None);
        };
        let links = Self::parse("SAFE_REPORT_EDITOR", &editor)?;
        match map {
            Some(map) => links
                .parse_path_map("SAFE_REPORT_EDITOR_PATH_MAP", &map)
                .map(Some),
            None => Ok(Some(links)),
        }
    }

    /// What the page's links say: `Open in VS Code`, `Open in IntelliJ IDEA`, `Open in Zed`
    /// or `Open in editor`.
    pub fn label(&self) -> &'static str {
        match self.editor {
            Editor::VsCode => "Open in VS Code",
            Editor::Idea => "Open in IntelliJ IDEA",
            Editor::Zed => "Open in Zed",
            Editor::Template(_) => "Open in editor",
        }
    }

    /// `path` as the editor's machine has it: the path map applied.
    pub fn local_path<'p>(&self, path: &'p str) -> std::borrow::Cow<'p, str> {
        let found = self
            .path_map
            .iter()
            .filter(|(deployed, _)| {
                path.strip_prefix(deployed.as_str()).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('/') || deployed.ends_with('/')
                })
            })
            .max_by_key(|(deployed, _)| deployed.len());
        match found {
            Some((deployed, local)) => {
                let rest = &path[deployed.len()..];
                if local.ends_with('/') && rest.starts_with('/') {
                    format!("{local}{}", &rest[1..]).into()
                } else {
                    format!("{local}{rest}").into()
                }
            }
            None => path.into(),
        }
    }

    /// The link to line `line` (and `column`) of `path`, a file as the running program
    /// names it; `None` when the editor needs an absolute path and `path` is not one after
    /// the path map.
    pub fn url(&self, path: &str, line: u32, column: Option<u32>) -> Option<String> {
        let path = self.local_path(path);
        let encoded = utf8_percent_encode(&path, PATH).to_string();
        let at_column = column.map_or_else(String::new, |column| format!(":{column}"));
        let after_scheme = || {
            if encoded.starts_with('/') {
                encoded.clone()
            } else {
                format!("/{encoded}")
            }
        };
        match &self.editor {
            Editor::VsCode if is_absolute(&path) => {
                Some(format!("vscode://file{}:{line}{at_column}", after_scheme()))
            }
            Editor::Idea if is_absolute(&path) => {
                Some(format!("idea://open?file={encoded}&line={line}"))
            }
            Editor::Zed if is_absolute(&path) => {
                Some(format!("zed://file{}:{line}{at_column}", after_scheme()))
            }
            Editor::VsCode | Editor::Idea | Editor::Zed => None,
            Editor::Template(template) => Some(
                template
                    .replace("{path}", &encoded)
                    .replace("{line}", &line.to_string())
                    .replace("{column}", &column.unwrap_or(1).to_string()),
            ),
        }
    }
}

/// `/…`, or a Windows drive (`C:\…`, `C:/…`).
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with('/')
        || (bytes.len() > 2
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'\\' | b'/'))
}

/// The template if its scheme is allowed and it has `{path}` and `{line}`; else why not.
fn check_template(template: &str) -> Result<String, String> {
    let Some((scheme, _)) = template.split_once(':') else {
        return Err("is neither vscode, idea, zed nor a URL template (no scheme)".to_owned());
    };
    let well_formed = scheme
        .bytes()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let scheme = scheme.to_ascii_lowercase();
    if !well_formed || !ALLOWED_SCHEMES.contains(&scheme.as_str()) {
        return Err(format!(
            "has the scheme {scheme:?}; a template may only use {}",
            ALLOWED_SCHEMES.join(", ")
        ));
    }
    if template.chars().any(char::is_control) {
        return Err("has a control character".to_owned());
    }
    for needed in ["{path}", "{line}"] {
        if !template.contains(needed) {
            return Err(format!("has no {needed}"));
        }
    }
    Ok(template.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_editor_has_its_link_form() {
        let at = |editor: &str| {
            EditorLinks::new(editor)
                .unwrap()
                .url("/home/me/shop/src/cart.rs", 12, Some(5))
                .unwrap()
        };
        assert_eq!(at("vscode"), "vscode://file/home/me/shop/src/cart.rs:12:5");
        assert_eq!(
            at("idea"),
            "idea://open?file=/home/me/shop/src/cart.rs&line=12"
        );
        assert_eq!(at("zed"), "zed://file/home/me/shop/src/cart.rs:12:5");
        assert_eq!(at(" VSCode "), at("vscode"));
        assert_eq!(
            at("https://code.example/open?f={path}&l={line}&c={column}"),
            "https://code.example/open?f=/home/me/shop/src/cart.rs&l=12&c=5"
        );
        assert_eq!(
            at("subl://open?url=file://{path}&line={line}"),
            "subl://open?url=file:///home/me/shop/src/cart.rs&line=12"
        );
    }

    #[test]
    fn an_unknown_column_is_left_out_or_is_1() {
        let vscode = EditorLinks::new("vscode").unwrap();
        assert_eq!(
            vscode.url("/src/a.rs", 3, None).unwrap(),
            "vscode://file/src/a.rs:3"
        );
        let template = EditorLinks::new("https://x.example/{path}#L{line}C{column}").unwrap();
        assert_eq!(
            template.url("/src/a.rs", 3, None).unwrap(),
            "https://x.example//src/a.rs#L3C1"
        );
    }

    #[test]
    fn editors_need_an_absolute_path_and_templates_take_any() {
        for editor in ["vscode", "idea", "zed"] {
            let links = EditorLinks::new(editor).unwrap();
            assert_eq!(links.url("src/cart.rs", 1, None), None, "{editor}");
            assert_eq!(links.url("<unknown>", 1, None), None, "{editor}");
            assert!(
                links.url("C:\\shop\\cart.rs", 1, None).is_some(),
                "{editor}"
            );
        }
        let template = EditorLinks::new("https://x.example/blob/main/{path}#L{line}").unwrap();
        assert_eq!(
            template.url("src/cart.rs", 4, None).unwrap(),
            "https://x.example/blob/main/src/cart.rs#L4"
        );
    }

    #[test]
    fn the_path_map_replaces_the_longest_prefix_at_a_component_boundary() {
        let links = EditorLinks::new("vscode")
            .unwrap()
            .path_map("/app=/home/me/src/shop, /app/vendor/=/home/me/vendor/")
            .unwrap();
        let url = |path: &str| links.url(path, 1, None).unwrap();
        assert_eq!(
            url("/app/src/main.rs"),
            "vscode://file/home/me/src/shop/src/main.rs:1"
        );
        assert_eq!(
            url("/app/vendor/x/lib.rs"),
            "vscode://file/home/me/vendor/x/lib.rs:1"
        );
        // `/application` is not under `/app`.
        assert_eq!(
            url("/application/main.rs"),
            "vscode://file/application/main.rs:1"
        );
        assert_eq!(url("/elsewhere/a.rs"), "vscode://file/elsewhere/a.rs:1");
        assert_eq!(links.local_path("/app"), "/home/me/src/shop");
        // A later mapping of the same prefix replaces the earlier one.
        let again = links.map_path("/app/", "/tmp/shop");
        assert_eq!(again.local_path("/app/a.rs"), "/tmp/shop/a.rs");
    }

    #[test]
    fn a_malformed_path_map_is_refused_by_name() {
        for map in ["/app", "=/home/me", "/app=", "/a=/b, nonsense"] {
            let error = EditorLinks::from_vars([
                ("SAFE_REPORT_EDITOR", "vscode"),
                ("SAFE_REPORT_EDITOR_PATH_MAP", map),
            ])
            .unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("SAFE_REPORT_EDITOR_PATH_MAP: "),
                "{error}"
            );
        }
    }

    #[test]
    fn hostile_paths_are_percent_encoded() {
        let hostile = [
            "/app/\"><script>alert(1)</script>.rs",
            "/app/javascript:alert(1)//.rs",
            "/app/a b?c#d&e=f%g'h<i>.rs",
            "/app/\u{0}\n\r\t.rs",
            "/app/é.rs",
            "javascript:alert(1)",
            "\"><script>alert(1)</script>",
        ];
        // Each editor's link, around the place of the path.
        let editors = [
            ("vscode", "vscode://file", ":1:2"),
            ("idea", "idea://open?file=", "&line=1"),
            ("zed", "zed://file", ":1:2"),
            (
                "https://x.example/open?file={path}&line={line}",
                "https://x.example/open?file=",
                "&line=1",
            ),
        ];
        for (editor, before, after) in editors {
            let links = EditorLinks::new(editor).unwrap();
            for path in hostile {
                let Some(url) = links.url(path, 1, Some(2)) else {
                    assert!(!path.starts_with('/'), "{editor}: no link for {path:?}");
                    continue;
                };
                let encoded = url
                    .strip_prefix(before)
                    .and_then(|rest| rest.strip_suffix(after))
                    .unwrap_or_else(|| panic!("{editor}: {url}"));
                assert!(
                    encoded.bytes().all(|b| b.is_ascii_alphanumeric()
                        || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'%')),
                    "{editor}: {path:?} gave {url}"
                );
            }
        }
        let links = EditorLinks::new("vscode").unwrap();
        assert_eq!(
            links
                .url("/app/\"><script>alert(1)</script>.rs", 3, None)
                .unwrap(),
            "vscode://file/app/%22%3E%3Cscript%3Ealert%281%29%3C/script%3E.rs:3"
        );
        let template = EditorLinks::new("https://x.example/{path}?l={line}").unwrap();
        assert_eq!(
            template.url("javascript:alert(1)", 3, None).unwrap(),
            "https://x.example/javascript%3Aalert%281%29?l=3"
        );
        assert_eq!(
            template.url("\"><script>", 3, None).unwrap(),
            "https://x.example/%22%3E%3Cscript%3E?l=3"
        );
    }

    #[test]
    fn templates_with_other_schemes_are_refused() {
        for template in [
            "javascript:alert({path}{line})",
            "JavaScript:alert({path}{line})",
            " javascript:alert({path}{line})",
            "java\tscript:alert({path}{line})",
            "java\nscript:alert({path}{line})",
            "data:text/html,{path}{line}",
            "vbscript:{path}{line}",
            "file://{path}#{line}",
            "{path}:{line}",
            "//evil.example/{path}/{line}",
            "/open?file={path}&line={line}",
            "ftp://x.example/{path}/{line}",
            "",
            "emacs",
        ] {
            let error = EditorLinks::new(template).unwrap_err();
            assert!(error.to_string().starts_with("editor: "), "{error}");
        }
        let error =
            EditorLinks::from_vars([("SAFE_REPORT_EDITOR", "javascript:alert({path}{line})")])
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "SAFE_REPORT_EDITOR: \"javascript:alert({{path}}{{line}})\" has the scheme \
                 \"javascript\"; a template may only use {}",
                ALLOWED_SCHEMES.join(", ")
            )
        );
    }

    #[test]
    fn templates_need_path_and_line() {
        assert!(EditorLinks::new("https://x.example/{path}").is_err());
        assert!(EditorLinks::new("https://x.example/{line}").is_err());
        assert!(EditorLinks::new("vscode://file{path}:{line}").is_ok());
        assert!(EditorLinks::new("https://x.example/\u{7f}{path}{line}").is_err());
    }

    #[test]
    fn no_editor_variable_means_no_links() {
        assert_eq!(EditorLinks::from_vars::<_, &str, &str>([]).unwrap(), None);
        assert_eq!(
            EditorLinks::from_vars([
                ("SAFE_REPORT_EDITOR", " "),
                ("SAFE_REPORT_EDITOR_PATH_MAP", "/app=/home/me")
            ])
            .unwrap(),
            None
        );
        assert_eq!(EditorLinks::from_vars([("OTHER", "vscode")]).unwrap(), None);
    }
}
