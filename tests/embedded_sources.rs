//! `embed_sources!`: source lines for frames whose files are not on disk, as in a deployed
//! binary, from the copies compiled into this test binary.
#![cfg(all(feature = "mail", feature = "embed-sources"))]

use safe_report::{Capture, ExceptionReporter, Frame};

// The marker line the tests look for, and a secret in the source itself.
const MARKER: &str = "embedded-marker-line"; // the line a frame points at
const API_TOKEN: &str = "ghp_Zq8rT5wLm2Xv9Kp4Yb7Nc3Hd6Fj1Gs0Ua2Ee"; // a planted token

/// This file's 1-based line holding `needle` (read from disk, to compare with).
fn line_of(needle: &str) -> u32 {
    let text = std::fs::read_to_string(file!()).unwrap();
    let index = text.lines().position(|line| line.contains(needle)).unwrap();
    u32::try_from(index + 1).unwrap()
}

fn install() {
    let sources = safe_report::embed_sources!("tests/embedded_sources.rs");
    assert_eq!(
        sources.paths().collect::<Vec<_>>(),
        ["tests/embedded_sources.rs"]
    );
    assert_eq!(sources.manifest_dir(), env!("CARGO_MANIFEST_DIR"));
    sources.install();
}

#[test]
fn a_frame_whose_file_is_not_on_disk_gets_the_embedded_lines() {
    install();
    let line = line_of("// the line a frame points at");
    // The names a deployed binary's frames have: the build machine's absolute path, a path
    // relative to a workspace, and the crate-relative path of `file!()`.
    for file in [
        format!("{}/tests/embedded_sources.rs", env!("CARGO_MANIFEST_DIR")),
        "/srv/build/workspace/shop/tests/embedded_sources.rs".to_owned(),
        "crates/shop/tests/embedded_sources.rs".to_owned(),
    ] {
        if std::path::Path::new(&file).exists() {
            // The build machine's own path is on disk here: the disk copy is read first.
            continue;
        }
        let capture =
            Capture::error("DeployError", "boom").with_frame(Frame::new("shop::run", &file, line));
        // A reporter rooted in an empty directory, as a deployed binary runs.
        let root = tempfile::tempdir().unwrap();
        let report = ExceptionReporter::default()
            .source_root(root.path())
            .report(&capture);
        let frame = &report.frames[0];
        assert!(frame.context_line.contains(MARKER), "{file}: {frame:?}");
        assert!(frame.context_line.contains("const MARKER"), "{file}");
        assert!(
            frame.pre_context.iter().any(|l| l.contains("marker line")),
            "{file}: the lines before are shown"
        );
        // The planted token on the next line is hidden like any source line's secret.
        let json = report.json().to_string();
        assert!(
            json.contains("const API_TOKEN"),
            "{file}: the line is there"
        );
        assert!(!json.contains(&API_TOKEN[4..]), "{file}: {json}");
        assert!(
            frame
                .post_context
                .iter()
                .any(|l| l.contains("const API_TOKEN")),
            "{file}"
        );
    }
}

#[test]
fn a_file_of_another_name_is_not_taken_for_an_embedded_one() {
    install();
    let capture = Capture::error("DeployError", "boom").with_frame(Frame::new(
        "shop::run",
        "/srv/build/shop/tests/other_sources.rs",
        3,
    ));
    let report = ExceptionReporter::default().report(&capture);
    assert_eq!(
        report.frames[0].context_line,
        safe_report::report::SOURCE_NOT_AVAILABLE
    );
}

#[test]
fn by_default_the_crate_src_directory_is_embedded() {
    let sources = safe_report::embed_sources!();
    let paths: Vec<_> = sources.paths().collect();
    assert!(paths.contains(&"src/lib.rs"), "{paths:?}");
    assert!(paths.contains(&"src/report/embedded.rs"), "{paths:?}");
    assert!(
        paths
            .iter()
            .all(|p| p.starts_with("src/") && p.ends_with(".rs")),
        "{paths:?}"
    );
}

/// The deploy check's question about line tables, asked from this test's code (built with
/// debug information): the caller's frame has its file and line. `.ci/deploy` checks a
/// release build without them.
#[test]
fn a_test_build_has_line_tables_for_its_own_code() {
    assert_eq!(
        safe_report::runtime::trace::caller_has_line_tables(),
        Some(true)
    );
    let config = safe_report::MailConfig::builder()
        .admins(["ops@example.com"])
        .build()
        .unwrap();
    let issues = safe_report::check_deploy(&config, safe_report::mail::DebugMode::Off);
    assert!(
        issues.iter().all(|issue| issue.id != "build.W001"),
        "{issues:?}"
    );
}
