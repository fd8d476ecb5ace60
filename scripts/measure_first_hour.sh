#!/usr/bin/env bash
# Measures the first hour of a new user, from fresh clones of REPO (a path or URL) at BRANCH:
#   1. clone → the first JSON line of `cargo run -- serve --sandbox`
#   2. `cargo test` right after, in the same checkout
#   3. a cold `.ci/run` in a second fresh clone
# and the size of target/ after each. CPU-heavy (three builds from scratch); crates should
# already be downloaded so the network does not count. Results go to stdout.
#
#   scripts/measure_first_hour.sh . main
set -u
repo="${1:?usage: measure_first_hour.sh REPO [BRANCH]}"
branch="${2:-main}"
work="$(mktemp -d "${TMPDIR:-/tmp}/mtgate-first-hour.XXXXXX")"
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }

echo "cores: $(nproc), load at start: $(load), in $work"
started=$(date +%s)
git clone -q --branch "$branch" "$repo" "$work/a" && cd "$work/a" || exit 1
cargo run -q -- serve --sandbox > serve.out 2> serve.log &
pid=$!
until [ -s serve.out ]; do
  sleep 0.5
  kill -0 "$pid" 2>/dev/null || { echo "serve --sandbox ended early; see $work/a/serve.log"; exit 1; }
done
echo "clone → first JSON line: $(( $(date +%s) - started )) s (load $(load))"
kill "$pid"; wait "$pid" 2>/dev/null

started=$(date +%s)
cargo test > test.log 2>&1
rc=$?
echo "cargo test right after: $(( $(date +%s) - started )) s, exit $rc (load $(load)); log: $work/a/test.log"
echo "target/ after both: $(du -sh target | cut -f1)"

git clone -q --branch "$branch" "$repo" "$work/b" && cd "$work/b" || exit 1
started=$(date +%s)
.ci/run > ci.log 2>&1
rc=$?
echo "cold .ci/run: $(( $(date +%s) - started )) s, exit $rc (load $(load)); log: $work/b/ci.log"
grep -E '^== .*: [0-9]+ s' ci.log
echo "target/ after .ci/run: $(du -sh target | cut -f1)"
