#!/usr/bin/env bash
# Runs schemathesis (PyPI) from a virtualenv cached under ~/.cache/imgpipe/venvs/schemathesis-<version>, created on
# first use (python3 -m venv; Debian needs python3-venv, which infra/bin/ensure-system-packages.sh installs).
#   test/api/schemathesis.sh run http://127.0.0.1:8080/openapi.json --max-examples 20 ...   any schemathesis command
#   test/api/schemathesis.sh --install-only                                                  create the venv and stop
# SCHEMATHESIS_VERSION overrides the pinned version; IMGPIPE_CACHE_DIR the cache root (default ~/.cache/imgpipe);
# SCHEMATHESIS_HOOKS the hooks file (default: test/api/schemathesis_hooks.py).
set -euo pipefail
version="${SCHEMATHESIS_VERSION:-4.32.5}"
venv="${IMGPIPE_CACHE_DIR:-$HOME/.cache/imgpipe}/venvs/schemathesis-$version"
# The stamp is written only after a complete install, so an interrupted one is redone rather than half-used.
if [ ! -f "$venv/.imgpipe-installed" ]; then
  echo "imgpipe: installing schemathesis $version into $venv (once)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "schemathesis==$version" >&2
  "$venv/bin/schemathesis" --version >/dev/null
  touch "$venv/.imgpipe-installed"
fi
[ "${1:-}" = --install-only ] && exit 0
# imgpipe's hooks (test/api/schemathesis_hooks.py: what it drops and why), unless the caller names others.
export SCHEMATHESIS_HOOKS="${SCHEMATHESIS_HOOKS:-$(cd "$(dirname "$0")" && pwd)/schemathesis_hooks.py}"
exec "$venv/bin/schemathesis" "$@"
