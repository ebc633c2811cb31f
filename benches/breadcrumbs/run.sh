#!/usr/bin/env bash
# Builds the breadcrumb benchmark (release) and runs it. Extra arguments go to the program
# (--iters N, --runs N).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
echo "rustc=\"$(rustc --version)\" date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$CARGO_TARGET_DIR/release/safe-report-breadcrumbs-bench" "$@"
