//! The `panic_hook` example, run as its own process: its report on standard error names
//! the function, the message and the frames' variables, and hides the card number.

use std::process::Command;

#[test]
fn the_panic_hook_example_reports_the_panic_filtered_and_exits_non_zero() {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "panic_hook"])
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
