#!/usr/bin/env bash
# Instructions per operation on the benchmark workload (tests/data/bench, 20 frames), counted
# by callgrind: each operation runs once and eleven times in its own process, and the
# difference over ten is what one more run costs (start-up, loading and the first run's
# caches are left out). Instruction counts do not depend on the machine's load.
#
#   bash benches/callgrind.sh [op ...]        # default: settings text html
set -euo pipefail
cd "$(dirname "$0")/.."
ops=("$@")
[ ${#ops[@]} -gt 0 ] || ops=(settings text html)
cargo build --release --quiet --features axum,embed-sources,log --example scenario
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
bin="$target_dir/release/examples/scenario"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" tests/data/bench/scenario-20.json \
        --source-root tests/data/bench/source --out "$out/render" --repeat "$1" "$2" 2>&1 |
        sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}
for op in "${ops[@]}"; do
    once=$(count "$op" 1)
    eleven=$(count "$op" 11)
    echo "op=$op instructions=$(( (eleven - once) / 10 ))"
done
