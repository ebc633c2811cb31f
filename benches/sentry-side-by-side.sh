#!/usr/bin/env bash
# safe-report's Sentry sink beside sentry-rust 0.49 on the scenario-20 panic: both events go
# to one Bugsink instance on 127.0.0.1, are read back through its API, and
# counted: frames, application frames, frames with variables, frames with source lines,
# planted tokens found in the stored event. The caller's cost of each (warm median) comes
# from the two benchmarks' own runs: `op=panic_capture_and_enqueue` (benches/capture) and
# `op=capture` (benches/sentry-peer).
#
# The instance checks events against Sentry's schema and only warns (`--validate warn`): in
# strict mode sentry-rust's event is dropped (its `request.cookies` is a string), and there
# would be nothing to count. The warnings are printed.
#
#   benches/sentry-side-by-side.sh [--iters N] [--warmup N]
#
# Needs the Sentry test server (tests/servers/sentry/install.sh, which it runs). Writes the
# benchmarks' output and the stored events to target/sentry-side-by-side/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/sentry-side-by-side
mkdir -p "$out"
tests/servers/sentry/install.sh >/dev/null
py=${SAFE_REPORT_SENTRY_VENV:-target/sentry-venv}/bin/python
server=$out/server
rm -rf "$server"
stop() { "$py" tests/servers/sentry/bugsink.py stop --dir "$server" >/dev/null 2>&1 || true; }
trap stop EXIT
info=$("$py" tests/servers/sentry/bugsink.py start --dir "$server" --validate warn)
dsn=$(printf '%s' "$info" | "$py" -c 'import json, sys; print(json.load(sys.stdin)["dsn"])')
echo "Bugsink on ${dsn#*@}"

echo "== safe-report (benches/capture), one event sent through the Sentry sink"
export CARGO_TARGET_DIR_CAPTURE=${CARGO_TARGET_DIR_CAPTURE:-$root/benches/capture/target}
cargo build --release --quiet --manifest-path benches/capture/Cargo.toml \
    --target-dir "$CARGO_TARGET_DIR_CAPTURE"
"$CARGO_TARGET_DIR_CAPTURE/release/safe-report-capture-bench" --sentry-dsn "$dsn" --reports 0 "$@" \
    >"$out/safe-report.txt"
grep -E '^(op=panic_capture_and_enqueue|op=panic_text_report|sentry_dsn_sent)' "$out/safe-report.txt"

echo "== sentry-rust 0.49 (benches/sentry-peer), its captured event sent as an envelope"
peer_target=${CARGO_TARGET_DIR_PEER:-/tmp/sentry-peer-target}
cargo build --release --quiet --manifest-path benches/sentry-peer/Cargo.toml --target-dir "$peer_target"
"$peer_target/release/sentry-peer" --event-out "$out/sentry-rust-event.json" "$@" >"$out/sentry-rust.txt"
grep -E '^(op=capture |leaked=)' "$out/sentry-rust.txt"
"$py" - "$server" "$out/sentry-rust-event.json" <<'EOF'
import json, sys, urllib.request
state = json.load(open(f"{sys.argv[1]}/state.json"))
event = json.load(open(sys.argv[2]))
payload = json.dumps(event).encode()
body = (json.dumps({"event_id": event["event_id"]}) + "\n"
        + json.dumps({"type": "event", "length": len(payload)}) + "\n").encode() + payload + b"\n"
key = state["dsn"].split("//", 1)[1].split("@", 1)[0]
request = urllib.request.Request(
    f"{state['api']}/api/{state['project']}/envelope/", data=body, method="POST",
    headers={"Content-Type": "application/x-sentry-envelope",
             "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=sentry-peer, sentry_key={key}"})
print("sentry-rust envelope answered", urllib.request.urlopen(request, timeout=30).status)
EOF

echo "== read back"
"$py" tests/servers/sentry/bugsink.py events --dir "$server" >"$out/stored.jsonl"
if grep -q "validation failed" "$server/server.log"; then
    echo "schema warnings (in strict mode Bugsink drops such an event after answering 200):"
    grep "validation failed" "$server/server.log" | cut -c1-300
fi
"$py" - "$out/stored.jsonl" tests/data/bench/planted.json <<'EOF'
import json, sys
planted = [entry["token"] for entry in json.load(open(sys.argv[2])).values()]
print(f"{'sender':<12} {'frames':>6} {'app':>4} {'vars':>5} {'source':>6} {'tokens':>7} {'bytes':>7}")
for line in open(sys.argv[1]):
    event = json.loads(line)
    sender = event.get("sdk", {}).get("name", "?")
    frames = [f for value in event.get("exception", {}).get("values", [])
              for f in (value.get("stacktrace") or {}).get("frames", [])]
    text = json.dumps(event)
    found = [t for t in planted if t in text]
    print(f"{sender:<12} {len(frames):>6} {sum(1 for f in frames if f.get('in_app')):>4} "
          f"{sum(1 for f in frames if f.get('vars')):>5} "
          f"{sum(1 for f in frames if f.get('context_line')):>6} "
          f"{len(found):>4}/{len(planted)} {len(text):>7}")
EOF
