#!/usr/bin/env bash
# Installs the Sentry-compatible test peer: a Python virtual environment with Bugsink (the
# server) and sentry-relay (Sentry's event normalizer), pinned in requirements.txt beside this
# script, then builds the migrated template database that `bugsink.py start` copies.
#
#   tests/servers/sentry/install.sh
#
# The environment goes to $SAFE_REPORT_SENTRY_VENV, by default target/sentry-venv under the
# repository root (a relative value is taken from the repository root too, as the tests do).
# $PYTHON chooses the interpreter that creates it (default python3).
#
# Idempotent: when the environment already holds these pins and the template exists, it
# checks and returns in well under a second.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
venv=${SAFE_REPORT_SENTRY_VENV:-target/sentry-venv}
case "$venv" in
/*) ;;
*) venv=$root/$venv ;;
esac
python=${PYTHON:-python3}
requirements=$here/requirements.txt
stamp=$venv/.safe-report-requirements

installed() {
    [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" &&
        "$venv/bin/python" -c '
import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in ("bugsink", "sentry_relay", "gunicorn")) else 1)' \
            2>/dev/null
}

start=$(date +%s%N)
if installed; then
    echo "install.sh: $venv already holds the pinned packages"
else
    if [ ! -x "$venv/bin/python" ]; then
        echo "install.sh: creating $venv"
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv"
    fi
    echo "install.sh: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi
# The migrated database every instance starts from (quick when it is already there).
"$venv/bin/python" "$here/bugsink.py" template
echo "install.sh: ready in $((($(date +%s%N) - start) / 1000000)) ms"
