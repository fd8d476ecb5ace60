#!/usr/bin/env bash
# Runs schemathesis (all checks, all phases) against `mtgate serve --sandbox`: every request
# the OpenAPI document allows must be accepted, and every answer must match the document.
#   scripts/schemathesis.sh [MAX_EXAMPLES [SEED [ST_RUN_OPTION...]]]
# (default 100 and a random seed; about 4 minutes once built, on 2 shared cores). The seed is
# printed at the end; pass it to repeat a run. Further arguments go to `st run` (e.g.
# `--include-path-regex outbox` to look at a few operations).
# Environment:
#   SCHEMATHESIS_TIMEOUT   seconds per request (default 2). Schemathesis reads an event stream
#                          until it ends, sends 20 events or this passes, so it bounds each
#                          `GET /v1/events`; at its own default (10 s) those waits are most of
#                          the run. Every other answer comes within milliseconds on loopback.
#   SCHEMATHESIS_WORKERS   concurrent workers (default 2; CI uses 1, which repeats more closely)
#   SCHEMATHESIS_DATABASE  schemathesis' example database (default: its own, which replays
#                          earlier failures first; `none` for a run that depends on the seed and
#                          the API's answers only: CI's choice, with one worker)
#   PYTHON                 the interpreter for the venv (default: the newest CPython >= 3.12
#                          found, else python3; see below)
# Installs schemathesis (pinned) from PyPI into target/schemathesis-venv on first use.
# scripts/schemathesis_hooks.py holds what the document cannot state (a file sent as a photo
# is an image, a key names one request) and the few places where schemathesis' model of HTTP
# is wrong for this API; docs/openapi.md lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-100}"
seed="${2:-}"
shift $(($# < 2 ? $# : 2))
workers="${SCHEMATHESIS_WORKERS:-2}"
timeout="${SCHEMATHESIS_TIMEOUT:-2}"
database="${SCHEMATHESIS_DATABASE:-}"
generation=()
if [ -n "$database" ]; then
    generation=(--generation-database "$database")
fi
version=4.32.5
venv=target/schemathesis-venv

# True when "$1" runs and is CPython >= 3.12 (a pyenv shim for a version that is installed
# but not selected exists on PATH yet fails, so each candidate is run, not just looked up).
recent_python() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

# Python 3.11.7's `ast.parse` fails under threads ("SystemError: AST constructor recursion
# depth mismatch"); schemathesis' workers hit it as "Runtime Error"s that are no fault of the
# API. So a Python >= 3.12 is preferred: on PATH, else installed under pyenv. With 3.11 the
# run uses one worker, which was free of the failure (and is what CI uses anyway).
pick_python() {
    local candidate
    for candidate in python3.13 python3.12 python3; do
        if recent_python "$candidate"; then
            command -v "$candidate"
            return
        fi
    done
    if command -v pyenv >/dev/null; then
        local root version
        root="$(pyenv root)"
        for version in $(pyenv versions --bare 2>/dev/null | sort -rV); do
            candidate="$root/versions/$version/bin/python3"
            if [ -x "$candidate" ] && recent_python "$candidate"; then
                echo "$candidate"
                return
            fi
        done
    fi
    echo "schemathesis.sh: no Python >= 3.12 found; using python3 ($(python3 --version 2>&1))" \
        "with one worker (see below); set PYTHON to choose" >&2
    command -v python3
}

if ! "$venv/bin/st" --version 2>/dev/null | grep -qx "st, version $version"; then
    python="${PYTHON:-$(pick_python)}"
    echo "schemathesis.sh: installing schemathesis $version with $("$python" --version 2>&1)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
fi
if ! recent_python "$venv/bin/python" && [ "$workers" != 1 ]; then
    echo "schemathesis.sh: $("$venv/bin/python" --version 2>&1) fails under threads; one worker" >&2
    workers=1
fi
cargo build --quiet --locked --bin mtgate
work="$(mktemp -d)"
# A default peer: the document lets requests name none, which is valid only with one.
MTGATE_DEFAULT_PEER=me MTGATE_STATE_DIR="$work/state" MTGATE_LISTEN=127.0.0.1:0 RUST_LOG=warn \
    target/debug/mtgate serve --sandbox >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    [ -s "$work/out" ] && break
    sleep 0.1
done
line="$(head -1 "$work/out")"
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$line" "$1"; }
SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py "$venv/bin/st" run "$(field base_url)/openapi.json" \
    --checks all -H "Authorization: Bearer $(field api_key)" -n "$examples" --workers "$workers" \
    --request-timeout "$timeout" \
    --no-color ${seed:+--seed "$seed"} "${generation[@]}" "$@"
