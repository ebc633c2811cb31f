#!/usr/bin/env bash
# The error-report layer's cost: a hello-world axum app (examples/hello.rs) with and without
# the layer, loaded alternately with wrk on 127.0.0.1 in one run (requests per second, the
# median of the rounds, and their ratio), then the latency of the error paths.
#
#   bash benches/overhead.sh                      # 25 rounds of 2 s for each app
#   ROUNDS=10 DURATION=5s bash benches/overhead.sh
#
# Each round runs the three apps one after the other (the order rotates); the ratio of each
# round is taken, and the median of those ratios is reported: slow drift in the machine's
# speed cancels out, and a burst of other work spoils single rounds, not the median.
#
# The servers run on CPU 0 and wrk on CPU 1 (taskset), so that the load generator does not
# take the server's core. Run it on a quiet machine: other work distorts the numbers (the
# load average is printed before and after).
set -euo pipefail
cd "$(dirname "$0")/.."

# As in production: the standard panic hook, which runs after ours, would otherwise take and
# print a full backtrace for every panic of the error path.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

ROUNDS=${ROUNDS:-25}
DURATION=${DURATION:-2s}
CONNECTIONS=${CONNECTIONS:-32}
ERROR_DURATION=${ERROR_DURATION:-5s}

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is needed (Debian: apt-get install wrk)" >&2
        exit 1
    fi
fi
pin_server=()
pin_load=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0)
    pin_load=(taskset -c 1)
fi

# HELLO=path/to/hello uses a binary built before instead of building one.
if [ -n "${HELLO:-}" ]; then
    hello=$HELLO
else
    cargo build --release --features axum,embed-sources,log --example hello
    target_dir=$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
    hello="$target_dir/release/examples/hello"
fi

work=$(mktemp -d)
cleanup() {
    if [ -f "$work/pids" ]; then
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Starts `hello` with the given flags on a free port of 127.0.0.1; prints its address.
start() {
    local name=$1
    shift
    # (`start` runs in a subshell: the process ids go to a file for the cleanup.)
    : >"$work/$name.out"
    "${pin_server[@]}" "$hello" 127.0.0.1:0 "$@" >"$work/$name.out" 2>/dev/null &
    echo $! >>"$work/pids"
    echo $! >"$work/$name.pid"
    for _ in $(seq 100); do
        if grep -q 'listening on' "$work/$name.out"; then
            sed -E 's#.*http://([^/]*)/.*#\1#' "$work/$name.out" | tee "$work/$name.addr"
            return
        fi
        sleep 0.1
    done
    echo "hello ($name) did not start" >&2
    exit 1
}

# CPU time (user + system, in clock ticks) the server listening on this address has used.
cpu_ticks() {
    local pid
    pid=$(grep -l "^$1\$" "$work"/*.addr | head -1)
    pid=$(cat "${pid%.addr}.pid")
    awk '{ print $14 + $15 }' "/proc/$pid/stat"
}

# One wrk run: requests per second, and the server's CPU time per request in microseconds.
rate() {
    local before after
    before=$(cpu_ticks "$2")
    "${pin_load[@]}" wrk -t1 -c"$CONNECTIONS" -d"$1" "http://$2/" >"$work/wrk.out"
    after=$(cpu_ticks "$2")
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
        /requests in/ { requests = $1 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "%s %.3f\n", rps, ticks / hz * 1e6 / requests }
    ' "$work/wrk.out"
}

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

plain=$(start plain --without-layer)
layered=$(start layered)
around=$(start around --around-router)
debug=$(start debug --debug)

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "hello without the layer on $plain; with it on every route (Router::layer) on $layered;" \
     "around the router on $around. $ROUNDS rounds of $DURATION, $CONNECTIONS connections," \
     "1 wrk thread"

contestants=(plain layered around)
for which in "${contestants[@]}"; do
    : >"$work/$which.rates"
    : >"$work/$which.cpu"
    rate 3s "$(cat "$work/$which.addr")" >/dev/null
done
for round in $(seq "$ROUNDS"); do
    # Rotate which goes first, so that drift in the machine's speed evens out.
    shift_by=$(((round - 1) % ${#contestants[@]}))
    order=("${contestants[@]:$shift_by}" "${contestants[@]:0:$shift_by}")
    for which in "${order[@]}"; do
        read -r r cpu < <(rate "$DURATION" "$(cat "$work/$which.addr")")
        echo "$r" >>"$work/$which.rates"
        echo "$cpu" >>"$work/$which.cpu"
        printf '  round %d %-8s %10.0f req/s  %7.3f us of server CPU per request\n' \
            "$round" "$which" "$r" "$cpu"
    done
done
plain_rate=$(median <"$work/plain.rates")
plain_cpu=$(median <"$work/plain.cpu")
printf 'happy path, medians: without the layer %.0f req/s, %.3f us of server CPU per request\n' \
    "$plain_rate" "$plain_cpu"
for which in layered around; do
    # The ratio of each round (runs next to each other in time), then their median: drift
    # in the machine's speed between rounds cancels out.
    ratio=$(paste "$work/$which.rates" "$work/plain.rates" | awk '{ print $1 / $2 }' | median)
    cpu_ratio=$(paste "$work/$which.cpu" "$work/plain.cpu" | awk '{ print $1 / $2 }' | median)
    awk -v l="$(median <"$work/$which.rates")" -v lc="$(median <"$work/$which.cpu")" \
        -v r="$ratio" -v cr="$cpu_ratio" -v which="$which" 'BEGIN {
        label = which == "layered" ? "on every route" : "around the router"
        printf "  with the layer %-17s %.0f req/s, %.3f us CPU; median ratio to without, per round:" \
            " throughput %.4f (%.2f%% %s), CPU per request %.4f\n",
            label, l, lc, r, (r > 1 ? r - 1 : 1 - r) * 100, (r > 1 ? "more" : "fewer"), cr
    }'
done

# The error paths: one connection, latency percentiles.
latency() {
    local label=$1 addr=$2 path=$3
    "${pin_load[@]}" wrk -t1 -c1 -d"$ERROR_DURATION" --latency "http://$addr$path" >"$work/latency.out"
    awk -v label="$label" '
        /^ +50%/ { p50 = $2 } /^ +90%/ { p90 = $2 } /^ +99%/ { p99 = $2 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "  %-58s p50 %8s  p90 %8s  p99 %8s  (%.0f req/s)\n", label, p50, p90, p99, rps }
    ' "$work/latency.out"
}
echo "latency, 1 connection, $ERROR_DURATION each:"
latency "GET / without the layer" "$plain" /
latency "GET / with the layer on every route" "$layered" /
latency "GET / with the layer around the router" "$around" /
latency "GET /panic, production (500 page, report enqueued)" "$layered" /panic
latency "GET /error, production (500 page, report enqueued)" "$layered" /error
latency "GET /panic, debug (technical 500 page, HTML)" "$debug" /panic
latency "GET /error, debug (technical 500 page, HTML)" "$debug" /error
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
