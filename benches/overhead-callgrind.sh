#!/usr/bin/env bash
# The error-report layer's cost in instructions: the hello-world axum app (examples/hello.rs)
# without the layer, with one layer around the router and with the layer on every route, each
# run under callgrind and sent the same keep-alive requests for `/` over 127.0.0.1. The counts
# are zeroed after a warm-up and dumped after the measured requests, so start-up is left
# out. Instruction counts do not depend on the machine's load, unlike `benches/overhead.sh`.
#
#   bash benches/overhead-callgrind.sh             # 2,000 requests per app after 200 warm-up
#   REQUESTS=5000 bash benches/overhead-callgrind.sh
#   HELLO=path/to/hello bash benches/overhead-callgrind.sh   # a binary built before
#
# Only the server's user-space instructions are counted; the kernel's share of a request
# (sockets, scheduling) is not, so the percentage here is larger than the throughput a real
# load loses.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-200}
DEADLINE=120

for tool in valgrind callgrind_control curl; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$tool is needed (Debian: apt-get install valgrind curl)" >&2
        exit 1
    }
done

if [ -n "${HELLO:-}" ]; then
    hello=$HELLO
else
    cargo build --release --quiet --features axum,embed-sources,log --example hello
    target_dir=$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
    hello="$target_dir/release/examples/hello"
fi

work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# A curl configuration that sends `$2` requests for `$1` over one kept-alive connection.
requests() {
    local url=$1 count=$2 file=$work/requests-$2
    : >"$file"
    for _ in $(seq "$count"); do
        printf 'url = "%s"\noutput = /dev/null\n' "$url" >>"$file"
    done
    echo "$file"
}

# Instructions per request of the app started with the flags given.
measure() {
    local log=$work/server.log
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$hello" 127.0.0.1:0 "$@" \
        >"$log" 2>"$work/valgrind.log" &
    server=$!
    local addr=
    for _ in $(seq $((DEADLINE * 10))); do
        addr=$(sed -nE 's|hello listening on http://([^/]+)/|\1|p' "$log")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || {
        echo "hello $* did not start" >&2
        cat "$work/valgrind.log" >&2
        exit 1
    }
    curl -sf --max-time "$DEADLINE" -K "$(requests "http://$addr/" "$WARMUP")"
    callgrind_control -z "$server" >/dev/null 2>&1
    curl -sf --max-time "$DEADLINE" -K "$(requests "http://$addr/" "$REQUESTS")"
    callgrind_control -d "$server" >/dev/null 2>&1
    local dump
    dump=$(ls "$work"/cg."$server".* | head -n 1)
    local total
    total=$(sed -nE 's/^(summary|totals): ([0-9]+).*/\2/p' "$dump" | head -n 1)
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
    rm -f "$work"/cg.*
    echo $((total / REQUESTS))
}

without=$(measure --without-layer)
around=$(measure --around-router)
every=$(measure)
percent() { awk -v a="$1" -v b="$without" 'BEGIN { printf "%+.2f%%", (a - b) * 100 / b }'; }
echo "requests per app: $REQUESTS (after $WARMUP to warm up), GET / over one connection"
echo "instructions per request without the layer:      $without"
echo "instructions per request, layer around the router: $around ($(percent "$around"))"
echo "instructions per request, layer on every route:    $every ($(percent "$every"))"
