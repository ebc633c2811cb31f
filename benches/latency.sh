#!/usr/bin/env bash
# Whether failing requests slow down the others: the release demo (debug off, emails to the
# console backend, thrown away) serves `GET /` to wrk (4 connections) alone, then, started
# afresh so that the first symbol resolution is included, while another client sends about
# 20 failing requests a second (`/panic` and `/error` alternately, over one keep-alive
# connection). Prints the p50, p90 and p99 latency of `GET /` for each, and the ratio of the
# p99s; the median of ROUNDS pairs.
#
#   bash benches/latency.sh
#   ROUNDS=5 DURATION=20 bash benches/latency.sh
#
# Run it on a quiet machine: other work distorts the numbers (the load average is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
RATE=${RATE:-20}
command -v wrk >/dev/null || { echo "wrk is needed (Debian: apt-get install wrk)" >&2; exit 1; }

cargo build --quiet --release --features axum,embed-sources,log --example demo
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
demo=$target_dir/release/examples/demo
work=$(mktemp -d)
server=
failing=
trap '[ -n "$failing" ] && kill "$failing" 2>/dev/null; [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck source=benches/demo-server.sh
. benches/demo-server.sh

# wrk's latency in µs at percentile $1 (50, 90 or 99) from its `--latency` output.
percentile() {
    awk -v p="$1%" '$1 == p {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "ms") v *= 1000; else if (u == "s") v *= 1000000;
        print v }' "$2"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

alone=()
loaded=()
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= ROUNDS; round++)); do
    start_demo "$demo" SAFE_REPORT_EMAIL_URL=console:
    wrk -t1 -c4 -d"${DURATION}s" --latency "http://$addr/" >"$work/alone.txt"
    stop_demo

    start_demo "$demo" SAFE_REPORT_EMAIL_URL=console:
    # The failing client: RATE requests a second for the whole run, one connection.
    urls=()
    for ((i = 0; i < RATE * (DURATION + 2); i++)); do
        if ((i % 2 == 0)); then path=panic; else path=error; fi
        urls+=(-o /dev/null "http://$addr/$path")
    done
    curl -s --rate "${RATE}/s" "${urls[@]}" &
    failing=$!
    wrk -t1 -c4 -d"${DURATION}s" --latency "http://$addr/" >"$work/loaded.txt"
    kill "$failing" 2>/dev/null || true
    wait "$failing" 2>/dev/null || true
    failing=
    reports=$(grep -c '^Subject: ' "$work/stdout" || true)
    stop_demo

    a=$(percentile 99 "$work/alone.txt")
    l=$(percentile 99 "$work/loaded.txt")
    alone+=("$a")
    loaded+=("$l")
    printf 'round %d: GET / p50/p90/p99 alone %s/%s/%s µs, with failing traffic %s/%s/%s µs (%s reports mailed)\n' \
        "$round" "$(percentile 50 "$work/alone.txt")" "$(percentile 90 "$work/alone.txt")" "$a" \
        "$(percentile 50 "$work/loaded.txt")" "$(percentile 90 "$work/loaded.txt")" "$l" "$reports"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
a=$(printf '%s\n' "${alone[@]}" | median)
l=$(printf '%s\n' "${loaded[@]}" | median)
awk -v a="$a" -v l="$l" 'BEGIN { printf "median p99: alone %.0f µs, with failing traffic %.0f µs, ratio %.2f\n", a, l, l / a }'
