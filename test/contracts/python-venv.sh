#!/usr/bin/env bash
# Prints the path of a Python virtualenv holding test/contracts/requirements.txt, creating it on first use under
# ~/.cache/imgpipe/venvs/confluent-kafka-<first 16 hex digits of the file's SHA-256> (python3 -m venv; Debian needs
# python3-venv, which infra/bin/ensure-system-packages.sh installs). Editing the requirements makes a new venv.
# IMGPIPE_CACHE_DIR overrides the cache root (default ~/.cache/imgpipe).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="$here/requirements.txt"
key="$(sha256sum "$requirements" | cut -c1-16)"
venv="${IMGPIPE_CACHE_DIR:-$HOME/.cache/imgpipe}/venvs/confluent-kafka-$key"
# The stamp is written only after a complete install, so an interrupted one is redone rather than half-used.
if [ ! -f "$venv/.imgpipe-installed" ]; then
  echo "imgpipe: installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into $venv (once)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements" >&2
  "$venv/bin/python" -c 'import confluent_kafka, fastavro; from confluent_kafka.schema_registry.avro import AvroSerializer' >&2
  touch "$venv/.imgpipe-installed"
fi
echo "$venv"
