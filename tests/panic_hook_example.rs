//! The `panic_hook` example, run as its own process: its report on standard error names
//! the function, the message and the frames' variables, and hides the card number.

use std::process::Command;

#[test]
fn the_panic_hook_example_reports_the_panic_filtered_and_exits_non_zero() {
    // The features this test was built with, so that cargo finds the example already built
    // by the same test run instead of building the crate again with other features.
    let features = [
        ("mail", cfg!(feature = "mail")),
        ("smtp", cfg!(feature = "smtp")),
        ("tower", cfg!(feature = "tower")),
        ("axum", cfg!(feature = "axum")),
        ("actix", cfg!(feature = "actix")),
        ("web", cfg!(feature = "web")),
        ("tracing", cfg!(feature = "tracing")),
        ("embed-sources", cfg!(feature = "embed-sources")),
        ("log", cfg!(feature = "log")),
        ("sentry", cfg!(feature = "sentry")),
        ("webhook", cfg!(feature = "webhook")),
        ("anyhow", cfg!(feature = "anyhow")),
        ("eyre", cfg!(feature = "eyre")),
    ];
    assert_eq!(
        features.map(|(name, _)| name).to_vec(),
        cargo_features(),
        "this list follows Cargo.toml's features"
    );
    let features = features
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(",");
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--no-default-features", "--features"])
        .arg(&features)
        .args(["--example", "panic_hook"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs the example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(101), "{stderr}");
    for expected in [
        "in panic_hook::charge",
        "payment declined",
        "order_id = \"ord_42\"",
        "card_number = \"********************\"",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("4111111111111111"),
        "the card number leaked:\n{stderr}"
    );
}

/// The features Cargo.toml declares, but `default`, in their order.
fn cargo_features() -> Vec<&'static str> {
    let manifest = include_str!("../Cargo.toml");
    let section = manifest
        .split("\n[features]\n")
        .nth(1)
        .expect("Cargo.toml has a [features] section");
    section
        .lines()
        .take_while(|line| !line.starts_with('['))
        .filter_map(|line| line.split_once(" = ").map(|(name, _)| name))
        .filter(|name| !name.starts_with('#') && *name != "default")
        .collect()
}
