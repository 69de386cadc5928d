#!/usr/bin/env bash
# Installs the npm packages with `npm ci` when package-lock.json changed since the last install (or there was none):
# a stamp inside node_modules keeps the lockfile's SHA-256. Silent when nothing needs installing; otherwise one line
# on stderr, and npm's own output only if it fails. Needs Node 24 and npm on PATH (see ensure-node.sh).
# Usage: bash infra/bin/ensure-npm-packages.sh [repository root]
set -euo pipefail
cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}"
STAMP=node_modules/.imgpipe-lockfile-sha256

want="$(sha256sum package-lock.json)"
want="${want%% *}"
[ "$(cat "$STAMP" 2>/dev/null || true)" = "$want" ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
  echo "imgpipe: npm is missing (needed once, to install the packages). As root: apt-get install -y npm" >&2
  exit 1
fi
# onnxruntime-node's install script would download GPU (CUDA) binaries; it is denied in package.json's
# allowScripts, and this variable makes the script skip itself with npm releases that do not know allowScripts.
export ONNXRUNTIME_NODE_INSTALL=skip
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# Two launchers starting at once install once: the lock is taken on the lockfile itself (no file to leave behind).
exec 9<package-lock.json
flock 9
[ "$(cat "$STAMP" 2>/dev/null || true)" = "$want" ] && exit 0

if [ -d node_modules ]; then reason="package-lock.json changed"; else reason="first run"; fi
echo "imgpipe: installing npm packages (npm ci, $reason)" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  cat "$log" >&2
  echo "imgpipe: npm ci failed" >&2
  exit 1
fi
printf '%s\n' "$want" >"$STAMP"
