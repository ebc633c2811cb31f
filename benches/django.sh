#!/usr/bin/env bash
# Side by side with Django on the benchmark workload (tests/data/bench, 20 frames): Django's
# operations (benches/django/quick_bench.py, Django 5.2.19 in a virtual environment made on
# first use) and ours (examples/scenario.rs --bench), in one run, then the ratio of the
# medians for each operation.
#
#   bash benches/django.sh
#   VENV=/path/to/venv bash benches/django.sh     # a virtual environment with Django already
#
# Run it on a quiet machine: other work distorts the numbers (the load average is printed
# before and after).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-target/django-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import django' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q django==5.2.19
fi
cargo build --release --features axum,embed-sources,log --example scenario
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
django=$("$VENV/bin/python" benches/django/quick_bench.py)
ours=$("$target_dir/release/examples/scenario" tests/data/bench/scenario-20.json \
    --source-root tests/data/bench/source --out "$target_dir/scenario-out" --bench)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sed -nE "s/^op=$1 median_us=([0-9.]+).*/\1/p" <<<"$2"; }
printf '%-11s %14s %14s %9s\n' op "Django (µs)" "ours (µs)" ratio
for op in settings post data text html email_html; do
    d=$(median "$op" "$django")
    o=$(median "$op" "$ours")
    if [ -n "$d" ] && [ -n "$o" ]; then
        awk -v op="$op" -v d="$d" -v o="$o" 'BEGIN { printf "%-11s %14s %14s %8.0fx\n", op, d, o, d / o }'
    fi
done
