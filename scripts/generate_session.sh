#!/usr/bin/env bash
# Generates a Telegram string session (TG_SESSION) from a checkout, then runs `mtgate login`
# with every argument passed through.
#
#   scripts/generate_session.sh                     # interactive: phone, code, 2FA
#   scripts/generate_session.sh --qr                # scan a QR code instead of a code
#   scripts/generate_session.sh --write-env .env    # also set TG_SESSION in .env (mode 0600)
#
# The session goes to stdout, everything else to stderr, so
#   scripts/generate_session.sh > session.txt
# captures only the secret. See `scripts/generate_session.sh --help` for flags, environment
# and exit codes.
#
# Which binary: the mtgate you already built (target/debug or target/release, the newer of
# the two), brought up to date by cargo (quick when it is current); with neither, a debug
# build, which is much faster to build than a release one and logs in just as quickly (the
# dev profile optimises the crypto crates). MTGATE_PROFILE=debug|release forces a profile.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
debug_bin="$target/debug/mtgate"
release_bin="$target/release/mtgate"

profile="${MTGATE_PROFILE:-}"
if [[ -z "$profile" ]]; then
  if [[ -x "$release_bin" && ( ! -x "$debug_bin" || "$release_bin" -nt "$debug_bin" ) ]]; then
    profile=release
  else
    profile=debug
  fi
fi
case "$profile" in
  release) build=(cargo build --release --quiet --bin mtgate) ;;
  debug) build=(cargo build --quiet --bin mtgate) ;;
  *) echo "generate_session.sh: MTGATE_PROFILE must be release or debug, not '$profile'" >&2; exit 2 ;;
esac
binary="$target/$profile/mtgate"

if command -v cargo >/dev/null 2>&1; then
  # Cargo rebuilds only what changed, so this is quick when the binary is current.
  echo "Using mtgate ($profile); building it if needed…" >&2
  (cd "$root" && "${build[@]}") >&2
elif [[ -x "$binary" ]]; then
  echo "cargo not found; using the existing $binary" >&2
else
  echo "generate_session.sh: cargo is needed to build mtgate (https://rustup.rs)" >&2
  exit 2
fi

exec "$binary" login "$@"
