# Starting and stopping the demo for the benchmark scripts (sourced, not run).
#
# start_demo BINARY [VAR=VALUE …]: runs BINARY (the demo) from its own directory with the
# given environment, listening on a port of its choice; sets `server` (its process) and
# `addr` (host:port). Its standard output goes to "$work/stdout".
start_demo() {
    local binary=$1
    shift
    # The file exists before `tail` below opens it, whichever process runs first.
    : >"$work/stdout"
    (cd "$(dirname "$binary")" && exec env SAFE_REPORT_DEMO_ADDR=127.0.0.1:0 "$@" \
        "./$(basename "$binary")" >"$work/stdout" 2>/dev/null) &
    server=$!
    grep -q -m1 "listening on http://" < <(timeout 60 tail --pid="$server" -n +1 -f "$work/stdout")
    addr=$(sed -n 's|.*listening on http://\([0-9.:]*\)/.*|\1|p' "$work/stdout" | head -n 1)
}

# stop_demo: ends the demo `start_demo` started.
stop_demo() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
}
