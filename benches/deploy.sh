#!/usr/bin/env bash
# What each way of building a deployed binary costs, on the demo (examples/demo.rs, a
# release build): the binary's size (and its debug file's, when split off), the first
# report's time and the memory it adds (symbol resolution loads the debug information), a
# warm report's time, and whether the panicking frame has its file, line and source.
#
#   bash benches/deploy.sh
#   RUNS=5 bash benches/deploy.sh      # the median of 5 starts for each build (default 3)
#
# The builds, each from the default release profile:
#   none         no debug information (the default)
#   app-lines    `debug = "line-tables-only"` for the application's package only
#   all-lines    `debug = "line-tables-only"` for everything (rebuilds every dependency)
#   split        app-lines, then `objcopy` moves the line tables into a file found by
#                `.gnu_debuglink` (size: the binary; the debug file after the `+`)
#   packed       app-lines with `split-debuginfo = "packed"` (the `.dwp` after the `+`)
# each with the demo's own source embedded (`embed_sources!`, the default); `none/no-embed`
# is the default build without it (`SAFE_REPORT_EMBED_SOURCES=0`).
#
# Sizes are in KiB (the debug file's after a `+`). A report is timed as the time of a
# `/panic` request to the debug page (the symbols are
# resolved and the page rendered before it is answered); memory is the server's RSS after
# the first report less its RSS before. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

RUNS=${RUNS:-3}
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
bin=$target_dir/release/examples
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

app_lines=(--config 'profile.release.package.safe-report.debug="line-tables-only"'
    --config 'profile.release.package.safe-report.strip="none"')
all_lines=(--config 'profile.release.debug="line-tables-only"'
    --config 'profile.release.strip="none"')

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# shellcheck source=benches/demo-server.sh
. benches/demo-server.sh

# One row: the variant's name, then the files of the deployed directory (binary first).
measure() {
    local name=$1
    shift
    local dir="$work/deploy"
    rm -rf "$dir" && mkdir "$dir" && cp "$@" "$dir/"
    if [ "$name" = split ]; then
        objcopy --only-keep-debug "$dir/demo" "$dir/demo.debug"
        objcopy --strip-debug --add-gnu-debuglink="$dir/demo.debug" "$dir/demo"
    fi
    local size extra=""
    size=$(stat -c %s "$dir/demo")
    for file in "$dir"/demo.debug "$dir"/demo.dwp; do
        [ -f "$file" ] && extra=" + $(( $(stat -c %s "$file") / 1024 ))"
    done
    local first=() warm=() grown=() where="" i
    for ((i = 0; i < RUNS; i++)); do
        start_demo "$dir/demo" SAFE_REPORT_DEBUG=1
        local before after
        before=$(rss_kb "$server")
        first+=("$(curl -s --noproxy '*' -H 'Accept: text/html' -o "$work/page.html" -w '%{time_total}' "http://$addr/panic")")
        after=$(rss_kb "$server")
        grown+=("$(( (after - before) / 1024 ))")
        warm+=("$(curl -s --noproxy '*' -H 'Accept: text/html' -o /dev/null -w '%{time_total}' "http://$addr/panic")")
        stop_demo
    done
    # Where the page says the panic happened, and whether it shows the line's source.
    if grep -q 'demo.rs' "$work/page.html"; then where="file, line"; else where="no file"; fi
    if grep -q -F 'the payment gateway refused order' "$work/page.html" &&
        grep -q -F '#[derive(serde::Deserialize)]' "$work/page.html"; then
        where="$where, source"
    fi
    printf '| %-18s | %9d%-7s | %8.1f | %7.1f | %6s | %-18s |\n' "$name" \
        "$(( size / 1024 ))" "$extra" \
        "$(printf '%s\n' "${first[@]}" | median | awk '{ print $1 * 1000 }')" \
        "$(printf '%s\n' "${warm[@]}" | median | awk '{ print $1 * 1000 }')" \
        "$(printf '%s\n' "${grown[@]}" | median)" "$where"
}

build() { cargo build --quiet --release --features axum,embed-sources,log --example demo "$@"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| build              | size (KiB)       | first (ms) | warm (ms) | +RSS (MB) | panicking frame    |"
echo "|---|---|---|---|---|---|"
# Embedding adds the same bytes to every build: it is measured on the default one.
SAFE_REPORT_EMBED_SOURCES=0 build && measure "none/no-embed" "$bin/demo"
build && measure none "$bin/demo"
build "${app_lines[@]}" && measure app-lines "$bin/demo"
measure split "$bin/demo"
build "${app_lines[@]}" --config 'profile.release.package.safe-report.split-debuginfo="packed"'
measure packed "$bin/demo" "$bin/demo.dwp"
build "${all_lines[@]}" && measure all-lines "$bin/demo"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
