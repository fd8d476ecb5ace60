#!/usr/bin/env bash
# Generates a Telegram string session (TG_SESSION) from a checkout: builds mtgate if needed,
# then runs `mtgate login` with every argument passed through.
#
#   scripts/generate_session.sh                     # interactive: phone, code, 2FA
#   scripts/generate_session.sh --qr                # scan a QR code instead of a code
#   scripts/generate_session.sh --write-env .env    # also set TG_SESSION in .env (mode 0600)
#
# The session goes to stdout, everything else to stderr, so
#   scripts/generate_session.sh > session.txt
# captures only the secret. MTGATE_PROFILE=debug builds without optimisations (faster build).
# See `scripts/generate_session.sh --help` for flags, environment and exit codes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${MTGATE_PROFILE:-release}"
case "$profile" in
  release) build=(cargo build --release --quiet --bin mtgate) ;;
  debug) build=(cargo build --quiet --bin mtgate) ;;
  *) echo "generate_session.sh: MTGATE_PROFILE must be release or debug, not '$profile'" >&2; exit 2 ;;
esac

if ! command -v cargo >/dev/null 2>&1; then
  echo "generate_session.sh: cargo is needed to build mtgate (https://rustup.rs)" >&2
  exit 2
fi

# Cargo rebuilds only what changed, so this is quick when the binary is current.
echo "Building mtgate ($profile)…" >&2
(cd "$root" && "${build[@]}") >&2

exec "${CARGO_TARGET_DIR:-$root/target}/$profile/mtgate" login "$@"
