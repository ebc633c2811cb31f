//! The procedural macro behind `safe_report::embed_sources!`: reads an application's own
//! source files at build time and puts them, compressed, in its binary, so that reports from
//! a deployed build have source lines where the files are not on disk.
//!
//! Use it through `safe_report::embed_sources!` (feature `embed-sources`). The blob it
//! produces has this layout (integers are little-endian `u32`), read only by the same
//! version of `safe-report`:
//!
//! ```text
//! "safe-report sources 1\n"
//! manifest directory: length, UTF-8 bytes
//! number of files
//! each file: path length, path (relative to the manifest directory, `/`-separated),
//!            original length, compressed length, raw deflate data
//! ```

#![deny(unsafe_code)]

use std::path::{Path, PathBuf};

use proc_macro::{Literal, TokenStream, TokenTree};

/// The first bytes of every blob, with the format's version.
const MAGIC: &[u8] = b"safe-report sources 1\n";
/// Files larger than this are left out (the reporter does not read larger files either).
const MAX_FILE: u64 = 8 * 1024 * 1024;
/// All files together, before compression, may not exceed this.
const MAX_TOTAL: u64 = 64 * 1024 * 1024;
/// What is embedded when the macro is given nothing.
const DEFAULT_PATHS: &[&str] = &["src"];
/// At build time, `0`, `off`, `false` or `no` embeds no file (a smaller development build,
/// say) without changing the code.
const SWITCH: &str = "SAFE_REPORT_EMBED_SOURCES";

/// `embed_sources_blob!()` or `embed_sources_blob!("src", "examples/demo.rs")`: the files
/// named (a directory stands for every `.rs` file below it), relative to the crate's
/// manifest directory, as a `&'static [u8]` blob. With no argument, `src`.
///
/// The expansion also includes each file with `include_bytes!` in an unused constant, so
/// that the compiler rebuilds the crate when one of them changes; the constant is not kept
/// in the binary. A file added to a directory is picked up on the next rebuild.
///
/// With `SAFE_REPORT_EMBED_SOURCES=0` (or `off`, `false`, `no`) in the build's environment,
/// no file is embedded; the expansion reads the variable with `option_env!`, so changing it
/// rebuilds the crate.
#[proc_macro]
pub fn embed_sources_blob(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(tokens) => tokens,
        Err(message) => compile_error(&message),
    }
}

fn expand(input: TokenStream) -> Result<TokenStream, String> {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        "embed_sources!: CARGO_MANIFEST_DIR is not set; build with cargo".to_owned()
    })?;
    let manifest_dir = PathBuf::from(manifest_dir);
    let mut requested = parse_paths(input)?;
    if requested.is_empty() {
        requested = DEFAULT_PATHS
            .iter()
            .map(|path| (*path).to_owned())
            .collect();
    }

    let switched_off = std::env::var(SWITCH).is_ok_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "0" | "off" | "false" | "no"
        )
    });
    if switched_off {
        requested.clear();
    }

    let mut files = Vec::new();
    for relative in &requested {
        let path = manifest_dir.join(relative);
        if path.is_dir() {
            collect_rust_files(&path, &mut files)
                .map_err(|error| format!("embed_sources!: cannot read `{relative}`: {error}"))?;
        } else if path.is_file() {
            files.push(path);
        } else {
            return Err(format!(
                "embed_sources!: `{relative}` is neither a file nor a directory in {}",
                manifest_dir.display()
            ));
        }
    }
    files.sort();
    files.dedup();

    let manifest = manifest_dir
        .to_str()
        .ok_or("embed_sources!: the manifest directory's path is not UTF-8")?;
    let mut blob = MAGIC.to_vec();
    push_bytes(&mut blob, manifest.as_bytes());
    let mut entries = Vec::new();
    let mut total = 0u64;
    for file in &files {
        let Some(relative) = relative_name(&manifest_dir, file) else {
            continue;
        };
        let Some(absolute) = file.to_str() else {
            continue;
        };
        let bytes = std::fs::read(file)
            .map_err(|error| format!("embed_sources!: cannot read {}: {error}", file.display()))?;
        if bytes.len() as u64 > MAX_FILE {
            continue;
        }
        total += bytes.len() as u64;
        if total > MAX_TOTAL {
            return Err(format!(
                "embed_sources!: more than {} MiB of source; name fewer files",
                MAX_TOTAL / (1024 * 1024)
            ));
        }
        entries.push((relative, absolute.to_owned(), bytes));
    }
    push_u32(&mut blob, entries.len());
    for (relative, _, bytes) in &entries {
        let compressed = miniz_oxide::deflate::compress_to_vec(bytes, 9);
        push_bytes(&mut blob, relative.as_bytes());
        push_u32(&mut blob, bytes.len());
        push_bytes(&mut blob, &compressed);
    }

    // `{ const _: &[u8] = include_bytes!("…"); … b"…" }`
    let mut body =
        format!("const _: ::core::option::Option<&str> = ::core::option_env!({SWITCH:?});\n");
    for (_, absolute, _) in &entries {
        body.push_str("const _: &[u8] = ::core::include_bytes!(");
        body.push_str(&Literal::string(absolute).to_string());
        body.push_str(");\n");
    }
    let mut block: TokenStream = body
        .parse()
        .map_err(|_| "embed_sources!: a file name could not be written as a literal".to_owned())?;
    block.extend([TokenTree::Literal(Literal::byte_string(&blob))]);
    Ok([TokenTree::Group(proc_macro::Group::new(
        proc_macro::Delimiter::Brace,
        block,
    ))]
    .into_iter()
    .collect())
}

/// The string literals of the input, separated by commas.
fn parse_paths(input: TokenStream) -> Result<Vec<String>, String> {
    let mut paths = Vec::new();
    let mut expect_literal = true;
    for token in input {
        match token {
            TokenTree::Literal(literal) if expect_literal => {
                paths.push(string_literal(&literal.to_string()).ok_or_else(|| {
                    format!("embed_sources!: expected a plain string literal, found {literal}")
                })?);
                expect_literal = false;
            }
            TokenTree::Punct(punct) if !expect_literal && punct.as_char() == ',' => {
                expect_literal = true;
            }
            // A macro_rules! wrapper passes its arguments on as one invisible group.
            TokenTree::Group(group) if group.delimiter() == proc_macro::Delimiter::None => {
                paths.extend(parse_paths(group.stream())?);
                expect_literal = false;
            }
            other => {
                return Err(format!(
                    "embed_sources!: expected paths as string literals separated by commas, found `{other}`"
                ));
            }
        }
    }
    Ok(paths)
}

/// The text of a string literal without escapes (`"src"`), or of a raw one (`r"src"`).
fn string_literal(source: &str) -> Option<String> {
    if let Some(inner) = source.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return (!inner.contains('\\')).then(|| inner.to_owned());
    }
    let raw = source.strip_prefix('r')?;
    let hashes = raw.len() - raw.trim_start_matches('#').len();
    let inner = raw[hashes..].strip_prefix('"')?;
    let inner = inner.strip_suffix(&"#".repeat(hashes))?.strip_suffix('"')?;
    Some(inner.to_owned())
}

/// Every `.rs` file below `dir`, skipping hidden directories and `target`.
fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect_rust_files(&path, files)?;
            }
        } else if kind.is_file() && name.ends_with(".rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `file` relative to `root`, with `/` between components; `None` outside `root` or when
/// not UTF-8.
fn relative_name(root: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|component| component.as_os_str().to_str())
        .collect();
    Some(parts?.join("/"))
}

fn push_u32(blob: &mut Vec<u8>, value: usize) {
    let value = u32::try_from(value).expect("sizes are bounded by MAX_TOTAL");
    blob.extend_from_slice(&value.to_le_bytes());
}

fn push_bytes(blob: &mut Vec<u8>, bytes: &[u8]) {
    push_u32(blob, bytes.len());
    blob.extend_from_slice(bytes);
}

fn compile_error(message: &str) -> TokenStream {
    format!("::core::compile_error!({})", Literal::string(message))
        .parse()
        .expect("a compile_error! invocation parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_raw_string_literals_are_read() {
        assert_eq!(string_literal(r#""src""#).as_deref(), Some("src"));
        assert_eq!(
            string_literal(r#"r"src/a b.rs""#).as_deref(),
            Some("src/a b.rs")
        );
        assert_eq!(string_literal(r##"r#"src"#"##).as_deref(), Some("src"));
        // Escapes and other literals are refused, not misread.
        for source in [r#""sr\x63""#, "42", "'s'", r#"b"src""#, r#"r#"src""#] {
            assert_eq!(string_literal(source), None, "{source}");
        }
    }

    #[test]
    fn names_are_relative_with_slashes() {
        let root = Path::new("/build/shop");
        assert_eq!(
            relative_name(root, Path::new("/build/shop/src/pay/mod.rs")).as_deref(),
            Some("src/pay/mod.rs")
        );
        assert_eq!(relative_name(root, Path::new("/elsewhere/a.rs")), None);
    }

    #[test]
    fn rust_files_are_collected_without_hidden_and_target_directories() {
        let root = std::env::temp_dir().join(format!("embed-sources-{}", std::process::id()));
        for dir in ["src/pay", "src/.hidden", "src/target"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "src/lib.rs",
            "src/pay/mod.rs",
            "src/notes.txt",
            "src/.hidden/a.rs",
            "src/target/b.rs",
        ] {
            std::fs::write(root.join(file), "fn f() {}\n").unwrap();
        }
        let mut files = Vec::new();
        collect_rust_files(&root.join("src"), &mut files).unwrap();
        files.sort();
        let names: Vec<_> = files
            .iter()
            .map(|file| relative_name(&root, file).unwrap())
            .collect();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(names, ["src/lib.rs", "src/pay/mod.rs"]);
    }
}
