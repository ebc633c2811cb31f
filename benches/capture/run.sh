#!/usr/bin/env bash
# Builds the capture benchmark (release, with debug information) and runs it: one full run,
# then the first (cold) report alone in 5 new processes. Extra arguments go to the program
# (--data DIR, --iters N, --warmup N, --reports N).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/safe-report-capture-bench"
echo "rustc=\"$(rustc --version)\" date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$bin" "$@"
firsts=$(for _ in 1 2 3 4 5; do "$bin" --first-only "$@" | sed -n 's/^first_panic_report_us=\([0-9.]*\).*/\1/p'; done)
echo "first_panic_report_fresh_processes_us=$(echo $firsts | tr ' ' ',')"
echo "first_panic_report_fresh_processes_median_us=$(printf '%s\n' $firsts | sort -n | sed -n 3p)"
